#ifndef MLS_JOBWRAP_H
#define MLS_JOBWRAP_H
/* placeholder: to be written */
#endif
