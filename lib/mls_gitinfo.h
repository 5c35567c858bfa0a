#ifndef MLS_GITINFO_H
#define MLS_GITINFO_H
/* placeholder: to be written */
#endif
