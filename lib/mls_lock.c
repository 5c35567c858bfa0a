/*
 * mls_lock.c - one driver per campaign (see mls_lock.h).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_id.h"
#include "mls_lock.h"
#include "mls_tempfile.h"
#include "mls_time.h"

/* A driver that holds the lock writes its pid file within this (seconds). */
#define PIDFILE_GRACE_S	2.0

unsigned long long
mls_proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p++;
	/* a zombie has finished: init may reap it late */
	if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
		return 0;
	/* after ")" come fields 3, 4, ...; starttime is field 22 */
	for (i = 3; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		st = strtoull(p + 1, NULL, 10);
	return st;
}

int
mls_proc_alive(pid_t pid, unsigned long long starttime)
{
	unsigned long long st;

	if (pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH))
		return 0;
	st = mls_proc_starttime(pid);
	return st != 0 && (starttime == 0 || st == starttime);
}

static char *
path_in(const char *dir, const char *name)
{
	struct mls_buf b = MLS_BUF_INIT;

	mls_buf_addf(&b, "%s/%s", dir, name);
	if (mls_buf_error(&b) < 0) {
		mls_error_set(MLS_ENOMEM, "out of memory");
		return NULL;
	}
	return mls_buf_detach(&b);
}

/* The pid file of dir into *h (pid 0 when there is none or it is unreadable). */
static void
read_pidfile(const char *dir, struct mls_driver *h)
{
	char *path = path_in(dir, "driver.pid"), me[256];
	json_t *j = NULL;
	const char *s;

	memset(h, 0, sizeof(*h));
	h->alive = 0;
	if (path == NULL || (j = json_load_file(path, 0, NULL)) == NULL) {
		free(path);
		return;
	}
	free(path);
	h->pid = (long)json_integer_value(json_object_get(j, "pid"));
	h->starttime = (unsigned long long)json_integer_value(json_object_get(j,
	    "starttime"));
	if ((s = json_string_value(json_object_get(j, "host"))) != NULL)
		snprintf(h->host, sizeof(h->host), "%s", s);
	if ((s = json_string_value(json_object_get(j, "since"))) != NULL)
		snprintf(h->since, sizeof(h->since), "%s", s);
	if (mls_hostname(me, sizeof(me)) < 0 || h->host[0] == '\0' ||
	    strcmp(me, h->host) == 0)
		h->alive = h->pid > 0 && mls_proc_alive((pid_t)h->pid, h->starttime);
	else
		h->alive = -1;
	json_decref(j);
}

int
mls_driver_pidfile_write(const char *dir)
{
	char host[256] = "", since[32], *path = NULL, *text = NULL;
	pid_t pid = getpid();
	json_t *j = NULL;
	int rc;

	(void)mls_hostname(host, sizeof(host));
	mls_time_format(since, mls_time_now());
	j = json_pack("{s:I,s:I,s:s,s:s}", "pid", (json_int_t)pid, "starttime",
	    (json_int_t)mls_proc_starttime(pid), "host", host, "since", since);
	if (j == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL ||
	    (path = path_in(dir, "driver.pid")) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	rc = mls_write_file_atomic(path, text, strlen(text), 0644, 0);
out:
	free(path);
	free(text);
	json_decref(j);
	return rc;
}

int
mls_driver_lock(const char *dir, unsigned flags, int *fd,
    struct mls_driver *holder)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	struct mls_driver h;
	char *path = NULL;
	double t0 = mls_time_mono();
	int lfd = -1, rc;

	if ((rc = mls_mkdirs(dir, 0700)) < 0)
		goto out;
	if ((path = path_in(dir, "driver.lock")) == NULL) {
		rc = MLS_ENOMEM;
		goto out;
	}
	if ((lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "open '%s'", path);
		goto out;
	}
	while (flock(lfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = mls_error_set_errno(MLS_EIO, "lock '%s'", path);
			goto out;
		}
		/*
		 * Held.  By a driver that says so: refused.  By a prober, or by
		 * a driver before it wrote its pid file: wait a little.
		 */
		read_pidfile(dir, &h);
		if ((h.pid > 0 && h.alive != 0) ||
		    mls_time_mono() - t0 > PIDFILE_GRACE_S) {
			if (holder != NULL)
				*holder = h;
			rc = 1;
			goto out;
		}
		nanosleep(&nap, NULL);
	}
	if (!(flags & MLS_DRIVER_NO_PIDFILE) &&
	    (rc = mls_driver_pidfile_write(dir)) < 0)
		goto out;
	*fd = lfd;
	lfd = -1;
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	free(path);
	return rc;
}

void
mls_driver_unlock(const char *dir, int fd)
{
	struct mls_driver h;
	char *path;

	if (fd < 0)
		return;
	read_pidfile(dir, &h);
	if (h.pid == (long)getpid() && (path = path_in(dir, "driver.pid")) != NULL) {
		(void)unlink(path);
		free(path);
	}
	close(fd);
}

int
mls_driver_probe(const char *dir, struct mls_driver *holder)
{
	char *path;
	int fd, rc;

	if ((path = path_in(dir, "driver.lock")) == NULL)
		return MLS_ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno == ENOENT ? 0 : mls_error_set_errno(MLS_EIO, "open '%s'",
		    path);
		free(path);
		return rc;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(fd, LOCK_UN);
		rc = 0;
	} else if (errno == EWOULDBLOCK) {
		if (holder != NULL)
			read_pidfile(dir, holder);
		rc = 1;
	} else {
		rc = mls_error_set_errno(MLS_EIO, "lock '%s'", path);
	}
	close(fd);
	free(path);
	return rc;
}
