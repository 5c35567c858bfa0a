#ifndef MLS_SAMPLER_H
#define MLS_SAMPLER_H
/* placeholder: to be written */
#endif
