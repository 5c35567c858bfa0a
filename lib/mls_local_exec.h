/*
 * mls_local_exec.h - the local site's job executor in C.
 *
 * For a job with no container image whose store is a file:// store, the
 * local scheduler (mls-runner) does not start lib/jobwrap.sh.  It does
 * what the wrapper does itself, with no other process than the command:
 *
 *   - a scratch dir, $MLS_SCRATCH/mls-ID, else $TMPDIR (or /tmp)/mls-UID/
 *     mls-ID, with the sandbox's files (its digest checked and the
 *     archive unpacked once per sandbox, under DATA/sandboxes/), outputs/,
 *     params.json and input.json; the dirs of ended jobs are kept and
 *     reused (see the pool in mls_local_exec.c);
 *   - the command in its own session, stdin /dev/null, stdout and stderr
 *     written straight to the store's jobs/ID/stdout and jobs/ID/stderr,
 *     MLS_METRICS the store's jobs/ID/metrics.jsonl (so all can be read
 *     while the job runs);
 *   - at the end, what is left of the command's process group is killed;
 *     output.json and outputs/ (a tar.zst, only when outputs/ is not
 *     empty; "outputs" is null otherwise) are published, and result.json
 *     last, atomically, in the wrapper's format.
 *
 * The scheduler calls mls_local_exec_start() and, when the command has
 * ended, mls_local_exec_end(); it enforces cancels, time limits and the
 * grace period itself.  A job whose sandbox is heavy runs all of it in a
 * forked child instead, mls_local_exec_run().
 *
 * The queue entry q (DATA/queue/ID.json) carries "id", "store" and "job":
 * {"command": [...], "env": {...}, "sandbox": ..., "image": ...,
 * "time_s": N, "grace_s": N}.
 */
#ifndef MLS_LOCAL_EXEC_H
#define MLS_LOCAL_EXEC_H

#include <sys/types.h>

#include <jansson.h>

/* Sandboxes up to this size are set up by the scheduler itself. */
#define MLS_LOCAL_EXEC_LIGHT_MAX	(8LL << 20)

/* 1 if the job of queue entry q can run without the sh wrapper, else 0. */
int	 mls_local_exec_eligible(const json_t *q);

/*
 * 1 if q's sandbox (none, or an archive of at most LIGHT_MAX bytes) is
 * cheap to set up in the scheduler's own process (mls_local_exec_start);
 * 0: set it up in a child (mls_local_exec_run), not to hold up others.
 */
int	 mls_local_exec_light(const json_t *q);

/*
 * Set up the job of queue entry q (data: the site's DATA dir) and start
 * its command with the environment env plus MLS_*: *pid is the command's
 * pid (its session and group id) and *run an object for the running
 * entry ("mode": "spawn", "work", "started", "sandbox", "grace_s",
 * "time_s") that
 * mls_local_exec_end() needs, with the entry's "id" and "store".  A job
 * that could not start has its result written already: *pid is 0.  < 0
 * only when not even that result could be written.
 */
int	 mls_local_exec_start(const char *data, const json_t *q,
	    char *const env[], pid_t *pid, json_t **run);

/*
 * The command of running entry run ended with wait status: publish
 * output.json, outputs/ and result.json, and remove the scratch dir.
 * stop: NULL, "cancel" or "time" when it was stopped, why the reason.  A
 * job with the store's stop marker that did not exit 0 counts as
 * cancelled even with stop NULL.  flags: MLS_LOCAL_EXEC_LATER leaves
 * the scratch dir to mls_local_exec_cleanup(); MLS_LOCAL_EXEC_NO_OUTPUTS
 * says the caller found outputs/ empty (mls_local_exec_has_outputs()).
 */
#define MLS_LOCAL_EXEC_LATER		1
#define MLS_LOCAL_EXEC_NO_OUTPUTS	2
int	 mls_local_exec_end(const json_t *run, int status, const char *stop,
	    const char *why, int flags);
/*
 * Remove the scratch dir of the running entry run ("work", "sandbox",
 * "pid"), unless MLS_KEEP_WORK=1, or keep it emptied for the next job
 * with the same sandbox when no process of the job's group is left: what
 * mls_local_exec_end() leaves to its caller (MLS_LOCAL_EXEC_LATER), so that the
 * result reaches the driver first.
 */
void	 mls_local_exec_cleanup(const json_t *run);
/* 1 if the job of running entry run left files in its outputs/. */
int	 mls_local_exec_has_outputs(const json_t *run);
/* Remove the scratch dirs this process keeps for reuse. */
void	 mls_local_exec_pool_drain(void);
/* Remove those a scheduler that died left behind (its pid is gone). */
void	 mls_local_exec_pool_reap(void);

/*
 * All of it in a child of the scheduler (a heavy sandbox): start, wait
 * (SIGTERM, the stop marker and the time limit stop the command's group:
 * SIGTERM, the grace period, SIGKILL), end.  Returns the status to
 * _exit() with: 0 once result.json is written, else 75.
 */
int	 mls_local_exec_run(const char *data, const json_t *q,
	    char *const env[]);

/* 1 if the store holds the stop marker of the job of entry e. */
int	 mls_local_exec_stopped(const json_t *e);

#endif
