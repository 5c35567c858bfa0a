/*
 * test_mls_lock.c - one driver per campaign: the lock is refused while its
 * holder lives, named by the pid file, and free again once the holder is
 * killed (kill -9 included); process start times tell a pid reused.
 */
#include "config.h"

#include "mls_lock.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mls_error.h"
#include "tap.h"

static char root[] = "/tmp/test_mls_lock.XXXXXX";
static char dir[256], pidfile[300];

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void
test_proc(void)
{
	unsigned long long st = mls_proc_starttime(getpid());

	ok(st > 0, "our own start time is known");
	ok(mls_proc_alive(getpid(), st), "alive with our start time");
	ok(mls_proc_alive(getpid(), 0), "alive with any start time");
	ok(!mls_proc_alive(getpid(), st + 1), "another start time: a reused pid");
	ok(!mls_proc_alive(0, 0) && !mls_proc_alive(-5, 0), "no pid is alive");
}

static void
test_lock_unlock(void)
{
	struct mls_driver h;
	int fd = -7, rc;

	rc = mls_driver_lock(dir, 0, &fd, &h);
	ok(rc == 0 && fd >= 0, "a free lock is taken (%d)", rc);
	ok(exists(pidfile), "the pid file is written");
	memset(&h, 0, sizeof(h));
	ok(mls_driver_probe(dir, &h) == 1, "a probe sees the driver");
	ok(h.pid == (long)getpid() && h.alive == 1 && h.since[0] != '\0',
	    "the probe names it: pid, alive, since");
	mls_driver_unlock(dir, fd);
	ok(!exists(pidfile), "unlock removes our pid file");
	ok(mls_driver_probe(dir, &h) == 0, "then no driver runs");
}

static void
test_no_pidfile(void)
{
	struct mls_driver h;
	int fd = -7;

	ok(mls_driver_lock(dir, MLS_DRIVER_NO_PIDFILE, &fd, &h) == 0 && fd >= 0,
	    "a short-lived holder takes the lock");
	ok(!exists(pidfile), "and writes no pid file");
	mls_driver_unlock(dir, fd);
}

/* A child holds the lock: refused, named; killed with SIGKILL: free. */
static void
test_second_driver_and_kill9(void)
{
	struct mls_driver h;
	int p[2], fd = -7, rc;
	char c;
	pid_t child;

	if (pipe(p) == -1 || (child = fork()) == -1) {
		ok(0, "pipe/fork");
		return;
	}
	if (child == 0) {
		int cfd;
		close(p[0]);
		if (mls_driver_lock(dir, 0, &cfd, &h) != 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1, "the child took the lock");
	close(p[0]);
	memset(&h, 0, sizeof(h));
	rc = mls_driver_lock(dir, 0, &fd, &h);
	ok(rc == 1 && fd == -7, "a second driver is refused, fd untouched (%d)", rc);
	ok(h.pid == (long)child && h.alive == 1 && h.host[0] != '\0',
	    "the refusal names the holder (pid %ld)", h.pid);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ok(exists(pidfile), "kill -9 leaves a stale pid file");
	ok(mls_driver_probe(dir, &h) == 0, "a dead driver holds nothing");
	rc = mls_driver_lock(dir, 0, &fd, &h);
	ok(rc == 0 && fd >= 0, "the next driver takes the lock (%d)", rc);
	ok(mls_driver_probe(dir, &h) == 1 && h.pid == (long)getpid(),
	    "and its pid file names it");
	mls_driver_unlock(dir, fd);
}

static void
test_errors(void)
{
	struct mls_driver h;
	int fd = -7, rc;

	rc = mls_driver_lock("/proc/self/no/such/dir", 0, &fd, &h);
	ok(rc < 0 && fd == -7, "a dir that cannot be made: an error, fd untouched");
	ok(strstr(mls_error_last(), "/proc/self/no") != NULL, "naming the path: %s",
	    mls_error_last());
	ok(mls_driver_probe("/nonexistent-mls-dir", &h) == 0,
	    "probing a campaign that has no lock file: no driver");
}

int
main(void)
{
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/campaigns/c-x", root);
	snprintf(pidfile, sizeof(pidfile), "%s/driver.pid", dir);
	test_proc();
	test_lock_unlock();
	test_no_pidfile();
	test_second_driver_and_kill9();
	test_errors();
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		(void)!system(cmd);
	}
	return done_testing();
}
