#ifndef MLS_DIGEST_H
#define MLS_DIGEST_H
/* placeholder: to be written */
#endif
