/*
 * mls_job.h - the one owner of a job's files in the store, and of the
 * job record's construction.
 *
 * A job's files live under jobs/ID/ in the store (mls(7), JOB FILES):
 *
 *   spec.sh          the wrapper's settings (sh), written at submit
 *   params.json      the trial's point (object), written at submit
 *   input.json       phpo's input, when one is put there (else the job
 *                    gets a copy of params.json)
 *   metrics.jsonl    JSON objects appended by the command (MLS_METRICS)
 *   stdout, stderr   the command's output
 *   output.json      a phpo payload's answer, copied when it leaves one
 *   outputs.tar.zst  outputs/ packed (.tar.gz where zstd is missing)
 *   stop             the stop marker: its presence asks the job to stop
 *   result.json      the outcome, written last, atomically, once
 *
 * Nothing else in mls builds a jobs/ key.  result.json has one schema,
 * checked by mls_job_result_parse(), which the C writer here and the sh
 * wrapper (lib/jobwrap.sh) both follow; metrics.jsonl has one reading
 * rule, mls_job_metrics_each().
 */
#ifndef MLS_JOB_H
#define MLS_JOB_H

#include <stddef.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_record.h"
#include "mls_store.h"

/* The files of jobs/ID/. */
enum mls_job_file {
	MLS_JOB_SPEC,		/* spec.sh */
	MLS_JOB_PARAMS,		/* params.json */
	MLS_JOB_INPUT_JSON,	/* input.json, phpo's input when given */
	MLS_JOB_METRICS,	/* metrics.jsonl */
	MLS_JOB_STDOUT,		/* stdout */
	MLS_JOB_STDERR,		/* stderr */
	MLS_JOB_OUTPUT_JSON,	/* output.json */
	MLS_JOB_OUTPUTS,	/* outputs.tar.zst */
	MLS_JOB_OUTPUTS_GZ,	/* outputs.tar.gz */
	MLS_JOB_STOP,		/* stop */
	MLS_JOB_RESULT,		/* result.json */
	MLS_JOB_NFILES
};

/* Size caps for the files mls reads into memory. */
#define MLS_JOB_RESULT_MAX	(1u << 20)
#define MLS_JOB_METRICS_MAX	(64u << 20)
#define MLS_JOB_PARAMS_MAX	(1u << 20)

/* The file's name in jobs/ID/ ("result.json"); NULL for a bad f. */
const char	*mls_job_file_name(enum mls_job_file f);
/* The file named name, or MLS_JOB_NFILES when it is none of them. */
enum mls_job_file mls_job_file_parse(const char *name);

/*
 * 0 if id can name a job directory (non-empty, no '/', no leading '.',
 * printable), else MLS_EINPUT naming it.
 */
int	 mls_job_check_id(const char *id);
/* Set key to "jobs/ID/FILE" (or "jobs/ID" for f MLS_JOB_NFILES). */
int	 mls_job_key(struct mls_buf *key, const char *id, enum mls_job_file f);
/*
 * The local path of a job's file when the store is on this file system
 * (a file:// store), else NULL (new string; NULL on error too).
 */
char	*mls_job_local_path(const struct mls_store *st, const char *id,
	    enum mls_job_file f);

/*
 * Read a job's file into out (reset first), refusing more than max bytes
 * (0: the file's cap above, or 16 MiB): 1 when read, 0 when there is
 * none (out empty, no error set), < 0 on error.  MLS_EINPUT, and only
 * it, says the file is larger than max ("metrics.jsonl of job 'ID':
 * larger than 64 MiB"): the job's own content, which a caller reports as
 * that job's failure, where a store error (MLS_EIO, MLS_ENET, ...) is its
 * own.
 */
int	 mls_job_get(struct mls_store *st, const char *id,
	    enum mls_job_file f, struct mls_buf *out, size_t max);
/* Write a job's file (atomically: the store's put). */
int	 mls_job_put(struct mls_store *st, const char *id,
	    enum mls_job_file f, const void *data, size_t len);
/* The ids of the jobs in the store (new array of strings in *out). */
int	 mls_job_list(struct mls_store *st, json_t **out);
/* Write a job's file from the local file path (atomically). */
int	 mls_job_put_file(struct mls_store *st, const char *id,
	    enum mls_job_file f, const char *path);
/*
 * Store the packed outputs archive at path as the job's file f
 * (MLS_JOB_OUTPUTS or MLS_JOB_OUTPUTS_GZ), and describe it for
 * result.json: {"key", "digest": "sha256:HEX", "size"} (new object in
 * *out).
 */
int	 mls_job_outputs_put(struct mls_store *st, const char *id,
	    enum mls_job_file f, const char *path, json_t **out);
/* 1 if the job's file is in the store, 0 if not, < 0 on error. */
int	 mls_job_exists(struct mls_store *st, const char *id,
	    enum mls_job_file f);

/* ---- result.json ----------------------------------------------------- */

/*
 * The outcome of a job, as result.json holds it:
 *   {"kind":"result","id":ID,"state":STATE,"exit_code":N|null,
 *    "signal":N (only when killed by one),"reason":"...",
 *    "started":TIME|null,"finished":TIME,"host":"...",
 *    "outputs":{"key":K,"digest":"sha256:HEX","size":N}|null}
 * state is succeeded, failed, cancelled or lost.  Between succeeded and
 * failed the exit status decides: a job is succeeded iff exit_code is 0.
 */
struct mls_job_result {
	char		 id[128];
	enum mls_state	 state;
	int		 exit_code;	/* -1: null, the command never ran */
	int		 signal;	/* 0: none */
	char		 reason[512];	/* "" for none */
	char		 started[32];	/* "" for null */
	char		 finished[32];
	char		 host[256];
	json_t		*outputs;	/* owned: {key,digest,size} or NULL */
};

/*
 * Start r for job id in state: exit_code -1, finished now, host this
 * host, the rest empty.  r owns nothing until outputs is set.
 */
int	 mls_job_result_init(struct mls_job_result *r, const char *id,
	    enum mls_state state);
void	 mls_job_result_release(struct mls_job_result *r);
/* Set the reason, control characters flattened to spaces, cut to fit. */
void	 mls_job_result_set_reason(struct mls_job_result *r,
	    const char *reason);

/* r as result.json's object (new reference in *out). */
int	 mls_job_result_to_json(const struct mls_job_result *r, json_t **out);
/*
 * The validator: parse len bytes of result.json for job id (NULL: any)
 * into *r (initialised here; release it).  MLS_EINPUT names the field
 * that is wrong: "result.json of job 'j-…': field 'state': …".
 */
int	 mls_job_result_parse(const char *data, size_t len, const char *id,
	    struct mls_job_result *r);
/*
 * Write r as jobs/ID/result.json.  With MLS_JOB_RESULT_IF_NONE, a result
 * already there is kept (1 returned, nothing written); else 0.
 */
#define MLS_JOB_RESULT_IF_NONE	1
int	 mls_job_result_put(struct mls_store *st,
	    const struct mls_job_result *r, int flags);
/*
 * Read jobs/ID/result.json into *r: 1 when there is one, 0 when there is
 * none, < 0 on a store error.  One that is larger than
 * MLS_JOB_RESULT_MAX or does not validate is not the job's outcome, but
 * it says the job ended: *r is then the job failed, exit_code null, with
 * the reason naming the file ("result.json of job 'ID': larger than
 * 1 MiB", or the validator's message).
 */
int	 mls_job_result_get(struct mls_store *st, const char *id,
	    struct mls_job_result *r);
/*
 * Apply r to job record job: state, exit_code, signal, reason, started,
 * finished, host, outputs.
 */
int	 mls_job_result_apply(const struct mls_job_result *r, json_t *job);

/* ---- metrics.jsonl ----------------------------------------------------- */

/*
 * The one reading rule: metrics.jsonl is read line by line; a line that
 * parses as a JSON object counts, whether or not it ends in a newline (a
 * torn write, the start of an object, never parses as one); any other
 * line (blank, garbage, a number, an array) is skipped.  fn is called
 * for each object with its index among the objects counted; a non-zero
 * return from fn stops the walk and is returned.
 */
typedef int (*mls_job_metrics_fn)(const json_t *obj, size_t index,
	    void *arg);
int	 mls_job_metrics_each(const char *data, size_t len,
	    mls_job_metrics_fn fn, void *arg);
/*
 * The last value of every key over the objects of data (new object in
 * *out, NULL when there is no object): what a job record's "metrics"
 * shows.
 */
int	 mls_job_metrics_last(const char *data, size_t len, json_t **out);

/*
 * The values of one metric: every finite number under key name, with
 * its step (the object's integer "step", else its index).  *vals and
 * *steps are new arrays (free them; NULL when *n is 0).
 */
int	 mls_job_metrics_series(const char *data, size_t len, const char *name,
	    double **vals, long **steps, size_t *n);

/* ---- the stop marker and params ------------------------------------------ */

/* Put the stop marker (its content: the time it was asked). */
int	 mls_job_stop(struct mls_store *st, const char *id);
/* 1 if the job was asked to stop, 0 if not, < 0 on error. */
int	 mls_job_stopped(struct mls_store *st, const char *id);
/* Write params.json (an object; NULL: {}). */
int	 mls_job_params_put(struct mls_store *st, const char *id,
	    const json_t *params);
/* Read params.json (new object in *out): 1, 0 when none or not an object. */
int	 mls_job_params_get(struct mls_store *st, const char *id, json_t **out);

/* ---- job records -------------------------------------------------------- */

/*
 * Build a new job record (new reference in *out):
 *   site, sandbox (id or NULL), image (or NULL), argv (array of strings
 *   with {name} placeholders, replaced from params; {index}, {id} too),
 *   params (object, borrowed), resources (object, borrowed, may be NULL),
 *   env (object of strings, may be NULL), name (may be NULL).
 * A placeholder naming no parameter is MLS_EINPUT naming it.
 */
int	 mls_job_new(json_t **out, const char *site, const char *sandbox,
	    const char *image, const json_t *argv, const json_t *params,
	    const json_t *resources, const json_t *env, const char *name);
/* mls_job_new() with the id given (NULL: a new one). */
int	 mls_job_new_id(json_t **out, const char *id, const char *site,
	    const char *sandbox, const char *image, const json_t *argv,
	    const json_t *params, const json_t *resources, const json_t *env,
	    const char *name);
/* Replace {name} placeholders in tmpl from params (new string in *out). */
int	 mls_job_expand(const char *tmpl, const json_t *params, char **out);

#endif
