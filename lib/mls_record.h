/*
 * mls_record.h - JSON-lines records, the contract between the tools.
 *
 * One JSON object per line, always with "kind" (and "id" except for
 * "params" lines).  Readers keep exact line numbers and cap lines at
 * MLS_JSONL_MAX_LINE bytes; writers emit compact JSON and a newline.
 * Schemas (the kinds and their required fields) live here and in mls(7).
 */
#ifndef MLS_RECORD_H
#define MLS_RECORD_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>

/* ids and times were declared here; new code includes these directly */
#include "mls_id.h"
#include "mls_time.h"

#define MLS_JSONL_MAX_LINE	(16u << 20)
/*
 * Compact JSON with reals at 15 significant digits: 0.2 prints as 0.2,
 * not jansson's default 0.20000000000000001.
 */
#define MLS_JSON_COMPACT	(JSON_COMPACT | JSON_REAL_PRECISION(15))
#define MLS_JSON_PRETTY		(JSON_INDENT(2) | JSON_REAL_PRECISION(15))

struct mls_jsonl_reader {
	FILE		*fp;
	const char	*name;		/* for messages: "<stdin>" or a path */
	unsigned long	 lineno;	/* line of the record last read */
	char		*line;
	size_t		 linecap;
};

void	 mls_jsonl_reader_init(struct mls_jsonl_reader *r, FILE *fp,
	    const char *name);
void	 mls_jsonl_reader_release(struct mls_jsonl_reader *r);
/*
 * Read the next record into *out (a new reference).  Returns 1 when a
 * record was read, 0 at the end of the input, or MLS_EINPUT/MLS_EIO with
 * a message "NAME:LINE:COL: ..." naming the line.  Blank lines are skipped.
 */
int	 mls_jsonl_read(struct mls_jsonl_reader *r, json_t **out);
/* Parse one line (no newline needed); same rules and messages. */
int	 mls_jsonl_parse(const char *line, size_t len, const char *name,
	    unsigned long lineno, json_t **out);
/* Write rec as one compact line. */
int	 mls_jsonl_write(FILE *fp, const json_t *rec);
/* Read a whole JSON-lines file into a new array (torn last line ignored). */
int	 mls_jsonl_load_file(const char *path, json_t **out);

/* The record's "kind" (borrowed), or NULL. */
const char	*mls_record_kind(const json_t *rec);
/* The record's "id" (borrowed), or NULL. */
const char	*mls_record_id(const json_t *rec);
/* A string member (borrowed), or NULL if absent or not a string. */
const char	*mls_record_str(const json_t *rec, const char *key);
/* An integer member, or def. */
long long	 mls_record_int(const json_t *rec, const char *key, long long def);
/* A number member (integer or real), or def. */
double		 mls_record_num(const json_t *rec, const char *key, double def);
/* Set key to a new string (or null when s is NULL). */
int		 mls_record_set_str(json_t *rec, const char *key, const char *s);
int		 mls_record_set_int(json_t *rec, const char *key, long long v);

/*
 * Check that rec is a well-formed record of the given kind (NULL: any kind
 * known to mls).  Messages name the field: "job record: field 'state':
 * expected one of queued, running, ...".
 */
int	 mls_record_check(const json_t *rec, const char *kind);

/* Job states. */
enum mls_state {
	MLS_STATE_UNKNOWN = 0, MLS_STATE_QUEUED, MLS_STATE_RUNNING,
	MLS_STATE_SUCCEEDED, MLS_STATE_FAILED, MLS_STATE_CANCELLED,
	MLS_STATE_LOST,
};
const char	*mls_state_name(enum mls_state s);
enum mls_state	 mls_state_parse(const char *s);
/* Succeeded, failed, cancelled or lost: the job will not change again. */
int		 mls_state_final(enum mls_state s);

/* The largest size mls_size_parse accepts: 1 PiB. */
#define MLS_SIZE_MAX	(1LL << 50)
/*
 * Parse a size: 512, 4k, 100M, 2G (binary units), decimal digits only;
 * returns bytes from 0 to MLS_SIZE_MAX or -1.
 */
long long mls_size_parse(const char *s);

#endif
