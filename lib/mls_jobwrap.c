#include "config.h"

#include "mls_jobwrap.h"

int mls_jobwrap_placeholder_(void);
int mls_jobwrap_placeholder_(void) { return 0; }
