/*
 * mls-runner - the scheduler of a local site (started by the tools, not
 * by users).  The process lifecycle is all here, the scheduling in
 * lib/mls_site_local.c (mls_local_sched_open/step/close):
 *
 *   mls-runner [-f] --site NAME --data DIR --cpus N --gpus IDS
 *
 * 1. Unless -f (foreground, for debugging), daemonize: fork, the first
 *    process exits 0 at once (the submitter that started it waits for
 *    that), and the child starts a new session with stdin on /dev/null
 *    and stdout/stderr appended to DIR/runner.log.
 * 2. Fork the guardian: this process becomes a child subreaper and stays
 *    behind as the parent of the scheduler (the child).  The commands the
 *    scheduler starts are its children; if it dies (kill -9), they become
 *    the guardian's, which finishes each (mls_local_orphan_end) and
 *    leaves when it has no child left.
 * 3. The scheduler blocks SIGCHLD, SIGUSR1 (a submitter's wake-up),
 *    SIGTERM, SIGINT and SIGHUP, takes the site's lock and steps until
 *    the site has had nothing queued or running for a while, or a
 *    SIGTERM, SIGINT or SIGHUP comes (the jobs are left running; the
 *    next scheduler adopts them).  It forks the children the library
 *    asks for (a job with a heavy sandbox, the packing of outputs).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site_local.h"

static const char synopsis[] =
    "usage: mls-runner [-f] --site NAME --data DIR --cpus N --gpus IDS\n";

static void
log_line(int level, const char *msg, void *arg)
{
	char now[32];

	(void)arg;
	if (level < MLS_LOG_INFO && getenv("MLS_DEBUG") == NULL)
		return;
	mls_time_format(now, mls_time_now());
	fprintf(stderr, "%s mls-runner[%ld]: %s\n", now, (long)getpid(), msg);
	fflush(stderr);
}

/* Close every descriptor above 2: nothing of the caller's may stay open. */
static void
close_from3(void)
{
	long max = sysconf(_SC_OPEN_MAX), fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		(void)close((int)fd);
}

static void
daemonize(const char *logpath)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		err(EX_OSERR, "fork");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		err(EX_OSERR, "setsid");
	if ((fd = open("/dev/null", O_RDONLY | O_NOCTTY)) >= 0) {
		dup2(fd, 0);
		if (fd > 2)
			close(fd);
	}
	fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY, 0600);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chdir("/") == -1)
		_exit(EX_OSERR);
}

/*
 * The guardian's life: a kill aimed at "the runner" (pkill, its process
 * group) must not take the results of the jobs with it, so only SIGKILL
 * ends it, and it goes by another name.
 */
static void __attribute__((noreturn))
guard(const char *data, pid_t sched)
{
	int status;
	pid_t pid;

	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGQUIT, SIG_IGN);
	(void)prctl(PR_SET_NAME, "mls-guardian", 0, 0, 0);
	for (;;) {
		if ((pid = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR)
				continue;
			break;		/* no child left */
		}
		if (pid != sched && mls_local_orphan_end(data, pid, status) < 0)
			mls_warn("%s", mls_error_last());
	}
	exit(0);
}

/*
 * Fork the guardian (see above): returns in the child, the scheduler,
 * with the guardian's pid, or 0 when there can be none.
 */
static pid_t
fork_guardian(const struct mls_local_conf *conf)
{
	pid_t child;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		return 0;
	if ((child = fork()) == -1) {
		mls_warn("site '%s': no guardian: fork: %s", conf->site,
		    strerror(errno));
		return 0;
	}
	if (child > 0)
		guard(conf->data, child);
	return getppid();
}

static void
on_signal(int sig)
{
	(void)sig;
}

/* The scheduler's life: see the top of this file. */
static int
run(const struct mls_local_conf *conf)
{
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	struct mls_local_sched *sc = NULL;
	struct sigaction sa;
	sigset_t set, old;
	int rc, sig;
	pid_t pid;

	/* handled, not ignored, so that sigtimedwait() sees them */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	if ((rc = mls_local_sched_open(&sc, conf)) < 0 || sc == NULL)
		goto out;	/* NULL: another scheduler runs */
	while ((rc = mls_local_sched_step(sc)) != MLS_LOCAL_DONE) {
		if (rc < 0)
			break;
		if (rc == MLS_LOCAL_FORK) {
			if ((pid = fork()) == 0)
				_exit(mls_local_sched_child(sc));
			mls_local_sched_forked(sc, pid);
			continue;
		}
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			mls_info("site '%s': signal %d: leaving the jobs "
			    "running", conf->site, sig);
			break;
		}
		if (sig == SIGCHLD || sig == SIGUSR1)
			mls_local_sched_kick(sc);
	}
	if (rc >= 0) {
		mls_info("site '%s': scheduler exits", conf->site);
		rc = 0;
	}
out:
	mls_local_sched_close(sc);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "site", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "gpus", required_argument, NULL, 'g' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mls_local_conf ls = { .site = "local", .gpus = "" };
	char *logpath = NULL, *end;
	int ch, fg = 0, rc;
	size_t n;

	close_from3();
	while ((ch = getopt_long(argc, argv, "fhs:d:c:g:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			ls.site = optarg;
			break;
		case 'd':
			ls.data = optarg;
			break;
		case 'c':
			ls.cpus = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || ls.cpus < 1)
				errx(EX_USAGE, "--cpus '%s': expected a "
				    "positive count", optarg);
			break;
		case 'g':
			ls.gpus = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'h':
			cli_usage(stdout, synopsis, 0);
		default:
			cli_usage(stderr, synopsis, EX_USAGE);
		}
	}
	if (optind != argc || ls.data == NULL || ls.data[0] != '/' ||
	    ls.cpus < 1)
		cli_usage(stderr, synopsis, EX_USAGE);
	n = strlen(ls.data) + sizeof("/runner.log");
	if ((logpath = malloc(n)) == NULL)
		err(EX_OSERR, "malloc");
	snprintf(logpath, n, "%s/runner.log", ls.data);
	if (!fg)
		daemonize(logpath);
	mls_log_set_handler(log_line, NULL);
	ls.guardian = fork_guardian(&ls);
	rc = run(&ls);
	if (rc < 0)
		warnx("%s", mls_error_last());
	free(logpath);
	return rc < 0 ? cli_exit_code(rc) : 0;
}
