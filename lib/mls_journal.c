#include "config.h"

#include "mls_journal.h"

int mls_journal_placeholder_(void);
int mls_journal_placeholder_(void) { return 0; }
