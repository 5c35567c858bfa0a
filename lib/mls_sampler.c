#include "config.h"

#include "mls_sampler.h"

int mls_sampler_placeholder_(void);
int mls_sampler_placeholder_(void) { return 0; }
