#include "config.h"

#include "mls_pruner.h"

int mls_pruner_placeholder_(void);
int mls_pruner_placeholder_(void) { return 0; }
