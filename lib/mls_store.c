#include "config.h"

#include "mls_store.h"

int mls_store_placeholder_(void);
int mls_store_placeholder_(void) { return 0; }
