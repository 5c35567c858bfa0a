#include "config.h"

#include "mls_pack.h"

int mls_pack_placeholder_(void);
int mls_pack_placeholder_(void) { return 0; }
