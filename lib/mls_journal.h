/*
 * mls_journal.h - an append-only JSON-lines event log with group commit.
 *
 * Events are buffered by mls_journal_append() and made durable together by
 * mls_journal_sync() (one write(2) with O_APPEND, then fsync), so a driver
 * journals a batch of submissions with one fsync before it sends them.
 * Replay ignores a torn last line (the writer died mid-write).
 */
#ifndef MLS_JOURNAL_H
#define MLS_JOURNAL_H

#include <jansson.h>

struct mls_journal;

/* Open path for appending (created with its directory when missing). */
int	 mls_journal_open(struct mls_journal **out, const char *path);
/* Flush (mls_journal_sync) and close; NULL-safe. */
int	 mls_journal_close(struct mls_journal *j);
/* Buffer ev (borrowed); a "t" member with the time is added when missing. */
int	 mls_journal_append(struct mls_journal *j, json_t *ev);
/* Write the buffered events and fsync them (and any written before). */
int	 mls_journal_sync(struct mls_journal *j);
/*
 * Write the buffered events without the fsync: they survive the death of
 * the process, not a crash of the machine, until the next sync.
 */
int	 mls_journal_flush(struct mls_journal *j);
/* Events appended since open (for statistics). */
unsigned long mls_journal_count(const struct mls_journal *j);
/*
 * Call fn for each event of the journal at path, in order; stop early when
 * fn returns non-zero (returned).  A torn last line is ignored; a malformed
 * line elsewhere is MLS_EINPUT naming the line.
 */
int	 mls_journal_replay(const char *path,
	    int (*fn)(json_t *ev, void *arg), void *arg);

#endif
