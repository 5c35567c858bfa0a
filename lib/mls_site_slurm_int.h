/*
 * mls_site_slurm_int.h - inside the slurm site (not for other modules).
 *
 * The site speaks to Slurm through one of two transports, each a table
 * of the few things that differ (curl's struct Curl_ssl): cli runs
 * sbatch, squeue, sacct and scancel (mls_site_slurm_cli.c), rest talks
 * to slurmrestd with a JWT (mls_site_slurm_rest.c).  mls_site_slurm.c
 * holds everything else (settings, the index of submissions, arrays,
 * adoption, state mapping) and picks the table once, at open, from
 * "mode".
 */
#ifndef MLS_SITE_SLURM_INT_H
#define MLS_SITE_SLURM_INT_H

#include <stddef.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_error.h"
#include "mls_site.h"

#define MLS_SLURM_OUT_MAX	(256u << 20)	/* output we accept */

struct mls_slurm_transport {
	const char *mode;	/* the "mode" setting that picks it */

	/*
	 * Check the transport's own settings and set up its state in
	 * ((struct mls_slurm *)s->priv)->tp_priv; close releases it (also
	 * after a failed open).
	 */
	int	(*open)(struct mls_site *s);
	void	(*close)(struct mls_site *s);

	/* Slurm's view of this user's mls jobs, as mls_slurm_parse_*. */
	int	(*list)(struct mls_site *s, json_t **out);

	/*
	 * Add to list what Slurm still knows of jobs[0..n) that it no longer
	 * lists (accounting); NULL where the transport has no such source.
	 */
	int	(*history)(struct mls_site *s, json_t **jobs, size_t n,
		    json_t *list);

	/*
	 * Submit script as Slurm job name: an array of n tasks when n > 1,
	 * each with job's resources.  *job_id is Slurm's (array) job id.
	 */
	int	(*submit)(struct mls_site *s, const json_t *job,
		    const char *name, size_t n, const char *script,
		    long long *job_id);

	/* Cancel Slurm job sid ("J" or "A_K"); errors carry Slurm's words. */
	int	(*cancel)(struct mls_site *s, const char *sid);

	/* The largest array index Slurm takes, or 0 if unknown. */
	long	(*max_array)(struct mls_site *s);
};

extern const struct mls_slurm_transport mls_slurm_cli;
extern const struct mls_slurm_transport mls_slurm_rest;

/* s->priv of a slurm site. */
struct mls_slurm {
	const struct mls_slurm_transport *tp;
	void			*tp_priv;	/* the transport's own */
	char			*data;		/* DATA_HOME/slurm-NAME */
	const char		*workdir;	/* borrowed from conf */
	long			 throttle;
	long			 max_array;	/* 0: ask the transport */
	double			 retry_s;
	json_t			*index;		/* id -> [name, task] */
};

/* What the sbatch options and the REST body share, from a job record. */
struct mls_slurm_req {
	long long	 cpus;		/* per task, >= 1 */
	long long	 gpus;		/* 0: none */
	long long	 mem_mb;	/* -1: not asked, else >= 1 */
	long		 minutes;	/* -1: no time limit */
	char		 array[64];	/* "0-9%2", "" for a single job */
	const char	*cwd;		/* workdir, or /tmp */
};

static inline int
mls_slurm_oom(void)
{
	return mls_error_set(MLS_ENOMEM, "out of memory");
}

/* The request for an array of n jobs like job (MLS_EINPUT: resources). */
int	 mls_slurm_req(const json_t *conf, const json_t *job, size_t n,
	    long throttle, struct mls_slurm_req *out);

/* Append to b where Slurm writes the batch script's own output. */
void	 mls_slurm_log_path(const json_t *conf, size_t n, struct mls_buf *b);

/* Trim trailing blanks and newlines in place. */
void	 mls_slurm_rtrim(struct mls_buf *b);

/* The last non-empty line of text, without "sbatch: error: " prefixes. */
void	 mls_slurm_last_line(const char *text, struct mls_buf *out);

/*
 * Run argv (PATH search) without an empty SLURM_JWT, stdin from
 * /dev/null; its stdout and stderr in out and err, its wait status in
 * *status.  MLS_EUNAVAIL when argv[0] is not in PATH, MLS_ERR when it
 * cannot start otherwise.
 */
int	 mls_slurm_run_prog(char *const argv[], struct mls_buf *out,
	    struct mls_buf *err, int *status);

/*
 * After a failure of class code in a call begun at t0: 1 if another try
 * after wait seconds fits (code is MLS_ENET and the site's retry period
 * is not over), 0 to give up.  mls_slurm_backoff sleeps *wait seconds
 * and doubles it (10 s at most).
 */
int	 mls_slurm_may_retry(const struct mls_site *s, int code, double t0,
	    double wait);
void	 mls_slurm_backoff(double *wait);

/*
 * The parsers' pieces: one entry of a listing (key "A_K" or "J", see
 * mls_site_slurm.h), a decimal number [s, end), a key [s, end) into job
 * and task (-1), and the split of a line [p, e) of four '|'-separated
 * fields whose second (the job name) may itself hold '|': the first bar
 * and the last two.  The last three return 0 or -1.
 */
int	 mls_slurm_add_entry(json_t *map, const char *name, const char *state,
	    const char *reason, long long job, long long task);
int	 mls_slurm_parse_ll(const char *s, const char *end, long long *out);
int	 mls_slurm_parse_key(const char *s, const char *end, long long *job,
	    long long *task);
int	 mls_slurm_split4(const char *p, const char *e, const char **b1,
	    const char **b2, const char **b3);

/*
 * The message of a slurmrestd error body ("errors": [...]) or its first
 * 200 bytes, in msg; 1 if the body is JSON with a non-empty "errors"
 * list (what the REST transport does with a reply; for tests/fuzz).
 */
void	 mls_slurm_rest_message(const char *text, size_t len,
	    struct mls_buf *msg);
int	 mls_slurm_rest_has_errors(const char *text, size_t len);

/* name -> "A" (the Slurm job id of that name) over a listing. */
json_t	*mls_slurm_names_of(const json_t *list);

#endif
