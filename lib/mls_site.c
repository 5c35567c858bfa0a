#include "config.h"

#include "mls_site.h"

int mls_site_placeholder_(void);
int mls_site_placeholder_(void) { return 0; }
