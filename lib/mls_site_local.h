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

#include <sys/types.h>

#include "mls_config.h"
#include "mls_site.h"

extern const struct mls_site_ops mls_site_local_ops;

/* The scheduler's settings (mls-runner passes them on its command line). */
struct mls_local_conf {
	const char	*site;		/* the site's name, for messages */
	const char	*data;		/* DATA, see above */
	int		 cpus;		/* CPU slots */
	const char	*gpus;		/* GPU ids, comma-separated ("" none) */
	pid_t		 guardian;	/* see mls_local_orphan_end(); 0 none */
};

/*
 * The scheduler, as a library: the program (mls-runner) owns the process
 * and its lifecycle, as OpenBSD daemons do.  It daemonizes, forks the
 * guardian (a child subreaper that stays behind as the parent of the
 * scheduler, see mls_local_orphan_end), blocks SIGCHLD, SIGUSR1, SIGTERM,
 * SIGINT and SIGHUP (with handlers installed for the first two, so that
 * they are not lost) and then:
 *
 *	mls_local_sched_open(&sc, &conf);	NULL: another one runs
 *	while ((r = mls_local_sched_step(sc)) != MLS_LOCAL_DONE) {
 *		if (r == MLS_LOCAL_FORK) {
 *			pid = fork();
 *			if (pid == 0)
 *				_exit(mls_local_sched_child(sc));
 *			mls_local_sched_forked(sc, pid);
 *			continue;
 *		}
 *		sig = sigtimedwait(&set, NULL, &tick);
 *		if (sig is SIGTERM, SIGINT or SIGHUP)
 *			break;		(the jobs are left running)
 *		if (sig is SIGCHLD or SIGUSR1)
 *			mls_local_sched_kick(sc);
 *	}
 *	mls_local_sched_close(sc);
 *
 * The library never forks, exits or prints; diagnostics go through the
 * mls_log hook.  Running jobs outlive the scheduler: the next one adopts
 * them from running/.
 */
struct mls_local_sched;

/* What mls_local_sched_step() asks of the program. */
enum mls_local_step {
	MLS_LOCAL_WAIT,		/* wait for a signal or a tick (0.2 s) */
	MLS_LOCAL_FORK,		/* fork a child for it, at once */
	MLS_LOCAL_DONE,		/* nothing left to do: close and leave */
};

/*
 * Take the site's lock and start: create DATA's dirs, install the job
 * wrapper, write runner.pid, adopt the running/ entries of a predecessor.
 * *out is the new scheduler (free with mls_local_sched_close), or NULL
 * with 0 returned when another scheduler holds the lock.  conf is
 * borrowed and must outlive the scheduler.
 */
int	 mls_local_sched_open(struct mls_local_sched **out,
	    const struct mls_local_conf *conf);

/*
 * One round: reap the jobs that ended, act on cancels and time limits,
 * start every queued job that fits the free slots (FIFO with backfill),
 * and leave once idle for $MLS_RUNNER_LINGER (3 s) with an empty queue
 * (the lock is released then).  Returns an enum mls_local_step; < 0 only
 * for an error that should stop the scheduler.
 */
int	 mls_local_sched_step(struct mls_local_sched *sc);

/* A SIGCHLD or SIGUSR1 came: the next step looks at the queue at once. */
void	 mls_local_sched_kick(struct mls_local_sched *sc);

/*
 * After MLS_LOCAL_FORK, in the child: do the work step asked for (set up
 * and run a job with a heavy sandbox, or pack the outputs of one that
 * ended) and return the status to _exit() with.
 */
int	 mls_local_sched_child(struct mls_local_sched *sc);

/* After MLS_LOCAL_FORK, in the scheduler: the child's pid, or -1. */
void	 mls_local_sched_forked(struct mls_local_sched *sc, pid_t pid);

/* Release the lock and everything else (NULL-safe); jobs keep running. */
void	 mls_local_sched_close(struct mls_local_sched *sc);

/*
 * For the guardian: its child pid, a command the scheduler started,
 * ended with wait status while no scheduler watched it (the scheduler
 * died, and the command became the guardian's): write its result, as
 * the scheduler would have, and remove its running entry.  0 also when
 * pid is not a job's.
 */
int	 mls_local_orphan_end(const char *data, pid_t pid, int status);

/* The DATA directory of local site NAME (new string; created). */
int	 mls_local_data_dir(const struct mls_config *cfg, const char *name,
	    char **out);

#endif
