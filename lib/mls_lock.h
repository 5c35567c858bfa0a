/*
 * mls_lock.h - one driver per campaign: a lock that dies with its holder
 * and a pid file checked against the process start time.
 *
 * DIR/driver.lock is flock(2)ed exclusively for the life of the driver
 * (the kernel drops the lock when the holder dies, kill -9 included);
 * DIR/driver.pid says who holds it: {"pid","starttime","host","since"},
 * starttime being field 22 of /proc/PID/stat, so that a stale pid file
 * never names another program that got the same pid.  The lock is the
 * authority on "is a driver running"; the pid file only names it.
 */
#ifndef MLS_LOCK_H
#define MLS_LOCK_H

#include <sys/types.h>

/* starttime (field 22 of /proc/PID/stat), or 0 if pid is gone or a zombie. */
unsigned long long mls_proc_starttime(pid_t pid);
/* 1 if pid runs and is the process started at starttime (0: any), else 0. */
int	 mls_proc_alive(pid_t pid, unsigned long long starttime);

/* Who holds a driver lock, as its pid file says. */
struct mls_driver {
	long			 pid;		/* 0: no pid file (yet) */
	unsigned long long	 starttime;
	char			 host[256];
	char			 since[32];	/* RFC 3339 */
	/*
	 * 1: it runs on this host (pid checked against starttime); 0: on
	 * this host, gone; -1: on another host, not checkable from here.
	 */
	int			 alive;
};

enum mls_driver_flags {
	/* take the lock only, write no pid file (a short-lived holder) */
	MLS_DRIVER_NO_PIDFILE = 1 << 0,
};

/*
 * Take DIR's driver lock (DIR is created) and write DIR/driver.pid for
 * the calling process (unless MLS_DRIVER_NO_PIDFILE).  0: taken, *fd holds it (close-on-exec; it passes
 * to a fork(2)ed child, which then calls mls_driver_pidfile_write());
 * 1: another driver holds it, *holder says who (fd untouched); <0 on
 * error.  A prober's short shared lock is waited out.
 */
int	 mls_driver_lock(const char *dir, unsigned flags, int *fd,
	    struct mls_driver *holder);
/* (Re)write DIR/driver.pid for the calling process (after a fork). */
int	 mls_driver_pidfile_write(const char *dir);
/* Release the lock taken by mls_driver_lock(); removes our pid file. */
void	 mls_driver_unlock(const char *dir, int fd);
/*
 * Is a driver running on DIR?  1 (with *holder filled from its pid
 * file, pid 0 when it has none yet), 0 no, <0 on error.
 */
int	 mls_driver_probe(const char *dir, struct mls_driver *holder);

#endif
