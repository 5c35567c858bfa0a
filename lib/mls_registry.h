#ifndef MLS_REGISTRY_H
#define MLS_REGISTRY_H
/* placeholder: to be written */
#endif
