#include "config.h"

#include "mls_registry.h"

int mls_registry_placeholder_(void);
int mls_registry_placeholder_(void) { return 0; }
