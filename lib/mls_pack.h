#ifndef MLS_PACK_H
#define MLS_PACK_H
/* placeholder: to be written */
#endif
