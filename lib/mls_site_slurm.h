/*
 * mls_site_slurm.h - the "slurm" site: jobs run as Slurm batch jobs,
 * submitted as job arrays through sbatch/squeue/scancel (mode = cli) or
 * slurmrestd with a JWT (mode = rest, libcurl).
 *
 * Every Slurm job runs the same worker wrapper as the local site; the
 * batch script carries the wrapper's text and the mls job ids, task k of
 * an array running the k-th id.  A job's name is "mls-" + the id of the
 * first mls job it runs, and before each submission a line
 * {"name": NAME, "ids": [...]} is appended (fsync'ed) to
 * DATA/slurm-SITE/submitted.jsonl, so a resumed driver finds, with one
 * squeue (or GET /jobs), what it had already sent and adopts it.
 *
 * Settings ([site "NAME"]): type = slurm, mode = cli|rest, url, user,
 * token_file | token_cmd (JWT, rest only; sent in a header only),
 * partition, account, qos, extra (cli: more sbatch options split at
 * blanks; rest: a JSON object merged into "job"), workdir (the wrapper's
 * scratch, the jobs' cwd and their Slurm logs), throttle (%P of each
 * array), max_array (array size limit; default MaxArraySize - 1 in cli
 * mode, 1000 in rest mode), retry (how long to retry an unreachable
 * controller, default 60s), grace (the wrapper's stop grace, 10s).
 */
#ifndef MLS_SITE_SLURM_H
#define MLS_SITE_SLURM_H

#include <stddef.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_site.h"

extern const struct mls_site_ops mls_site_slurm_ops;

/*
 * Slurm's view of jobs, parsed from the output of
 *   squeue -h -t all -r -o '%i|%j|%T|%r'                       (squeue)
 *   GET /slurm/v0.0.38/jobs or /job/ID (a JSON body)           (rest)
 *   sacct -n -P -X -o JobID,JobName,State,ExitCode             (sacct)
 * into a new object in *out: key -> {"name", "state", "reason", "job",
 * "task"}, where key is "A_K" for task K of array A and "J" for a plain
 * job; "job" is A (or J), "task" K (or -1).  Pending array tasks that
 * REST folds into one record ("array_task_string": "2-9%2") are expanded.
 * Only jobs whose name starts with "mls-" are kept when mls_only is set.
 * MLS_EPROTO names a malformed line or body.
 */
int	 mls_slurm_parse_squeue(const char *text, size_t len, int mls_only,
	    json_t **out);
int	 mls_slurm_parse_rest_jobs(const char *text, size_t len, int mls_only,
	    json_t **out);
int	 mls_slurm_parse_sacct(const char *text, size_t len, int mls_only,
	    json_t **out);

/*
 * Set "state" (and "reason" for final states) of job, which has no
 * result.json, from Slurm's entry (NULL: Slurm does not know the job).
 */
int	 mls_slurm_apply(json_t *job, const json_t *entry, const char *site);

/*
 * The batch script that runs the wrapper for ids[0..n) (task k runs
 * ids[k]; with n == 1 no array is needed).  workdir, token_file and
 * ca_file may be NULL.
 */
int	 mls_slurm_script(const char *const *ids, size_t n,
	    const char *store_url, const char *workdir, const char *token_file,
	    const char *ca_file, struct mls_buf *out);

/*
 * The sbatch arguments (a new array of strings in *out, without the
 * program name and the script) for an array of n jobs like job, named
 * name: resources, partition/account/qos/extra from conf, --array
 * 0-(n-1)%throttle when n > 1.
 */
int	 mls_slurm_sbatch_args(const json_t *conf, const json_t *job,
	    const char *name, size_t n, long throttle, json_t **out);

/* The same as a slurmrestd v0.0.38 submit body (new object in *out). */
int	 mls_slurm_rest_body(const json_t *conf, const json_t *job,
	    const char *name, size_t n, long throttle, const char *script,
	    json_t **out);

/*
 * The error code for one of Slurm's messages: MLS_ENET when the
 * controller is unreachable (try again later), MLS_EAUTH when the
 * credentials were rejected (http: the HTTP status, 0 for the CLI),
 * MLS_ECONFIG when a setting of the site (partition, account, qos,
 * reservation) or Slurm's own configuration is wrong, MLS_EINPUT
 * otherwise (Slurm refused the job's request).
 */
int	 mls_slurm_classify(const char *msg, long http);

/* Slurm minutes for a job of time_s seconds with a wrapper grace. */
long	 mls_slurm_minutes(double time_s, int grace_s);

#endif
