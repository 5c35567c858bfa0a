#ifndef MLS_SPACE_H
#define MLS_SPACE_H
/* placeholder: to be written */
#endif
