#ifndef MLS_PRUNER_H
#define MLS_PRUNER_H
/* placeholder: to be written */
#endif
