#include "config.h"

#include "mls_space.h"

int mls_space_placeholder_(void);
int mls_space_placeholder_(void) { return 0; }
