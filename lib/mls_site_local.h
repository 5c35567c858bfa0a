/*
 * mls_site_local.h - the "local" site: jobs on this machine, run by a
 * scheduler process (mls-runner) that outlives the submitting tool.
 *
 * State lives in DATA = $data_home/local (or $data_home/local-NAME for
 * another site of type local):
 *   queue/ID.json     a waiting job: cpus, gpus, store URL
 *   running/ID.json   a started job: pid (= its process group), starttime
 *                     from /proc/PID/stat, cpus, gpu ids, store URL
 *   sched.lock        flock'ed by the one live scheduler
 *   runner.log        the scheduler's and the wrappers' diagnostics
 * A submitter queues jobs with an atomic rename and starts mls-runner when
 * nobody holds sched.lock.  The runner starts every queued job that fits
 * the free slots (FIFO with backfill), each as its own session running
 * the job wrapper, and exits when queue/ and running/ are both empty.
 */
#ifndef MLS_SITE_LOCAL_H
#define MLS_SITE_LOCAL_H

#include "mls_config.h"
#include "mls_site.h"

extern const struct mls_site_ops mls_site_local_ops;

/* The scheduler's settings (mls-runner passes them on its command line). */
struct mls_local_sched {
	const char	*site;		/* the site's name, for messages */
	const char	*data;		/* DATA, see above */
	int		 cpus;		/* CPU slots */
	const char	*gpus;		/* GPU ids, comma-separated ("" none) */
	/*
	 * How a child forked to run a job with a heavy sandbox ends (the
	 * program's _exit: lib/ never exits); NULL: such jobs are set up
	 * by the scheduler itself, as light ones are.
	 */
	void		(*child_exit)(int status);
};

/*
 * Run the scheduler until there is nothing left to do or a SIGTERM,
 * SIGINT or SIGHUP arrives (running jobs are left running; the next
 * scheduler adopts them).  Returns 0 at once when another scheduler holds
 * the lock.  Diagnostics go through the mls_log hook.
 */
int	 mls_local_sched_run(const struct mls_local_sched *ls);

/* The DATA directory of local site NAME (new string; created). */
int	 mls_local_data_dir(const struct mls_config *cfg, const char *name,
	    char **out);

#endif
