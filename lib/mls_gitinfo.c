#include "config.h"

#include "mls_gitinfo.h"

int mls_gitinfo_placeholder_(void);
int mls_gitinfo_placeholder_(void) { return 0; }
