#include "config.h"

#include "mls_site_local.h"

int mls_site_local_placeholder_(void);
int mls_site_local_placeholder_(void) { return 0; }
