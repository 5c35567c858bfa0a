#ifndef MLS_SITE_LOCAL_H
#define MLS_SITE_LOCAL_H
/* placeholder: to be written */
#endif
