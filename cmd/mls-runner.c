/*
 * mls-runner - the scheduler of a local site (started by the tools, not
 * by users): daemonizes, then runs mls_local_sched_run() until the site
 * has nothing queued or running.
 *
 *   mls-runner [-f] --site NAME --data DIR --cpus N --gpus IDS
 *
 * -f stays in the foreground (for debugging); otherwise it forks, the
 * parent exits 0 at once, and the child starts a new session with stdin
 * on /dev/null and stdout/stderr appended to DIR/runner.log.
 */
#include "config.h"

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* A child the scheduler forked for a job is done. */
static void
child_exit(int status)
{
	_exit(status);
}

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
	struct mls_local_sched ls = { .site = "local", .gpus = "",
	    .child_exit = child_exit };
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
	rc = mls_local_sched_run(&ls);
	if (rc < 0)
		warnx("%s", mls_error_last());
	free(logpath);
	return rc < 0 ? cli_exit_code(rc) : 0;
}
