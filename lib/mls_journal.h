#ifndef MLS_JOURNAL_H
#define MLS_JOURNAL_H
/* placeholder: to be written */
#endif
