/*
 * mls_site_local.c - the local site: a driver (submit/poll/cancel from any
 * tool) and the scheduler loop that mls-runner runs.
 *
 * Why a separate scheduler process: jobs must outlive the tool that
 * submitted them (mls-submit exits at once; mls-search may be killed and
 * resumed), and CPU/GPU slots must be shared by all tools on the machine.
 * Files under DATA are the only channel: a job moves queue/ -> running/
 * by rename, so it is in exactly one place at any time, and a cancel that
 * unlinks queue/ID.json wins or loses that race cleanly.
 *
 * Lock protocol (no stranded job): a submitter writes queue/ID.json, then
 * try-locks sched.lock; if that succeeds nobody schedules, so it unlocks
 * and starts mls-runner.  A runner about to exit releases the lock, then
 * looks at queue/ once more and, if something is there, re-takes the lock
 * (or leaves it to the runner that took it meanwhile).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_jobwrap.h"
#include "mls_local_exec.h"
#include "mls_lock.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_run.h"
#include "mls_site.h"
#include "mls_site_local.h"
#include "mls_store.h"
#include "mls_tempfile.h"

extern char **environ;

#define MAX_GPUS	64
#define QUEUE_MAX	(1u << 20)
#define LINGER_S	3.0	/* an idle runner waits this long for work */
#define ADOPT_WAIT_S	30.0	/* see reap() */

struct local {
	char	*data;
	int	 ifd;		/* inotify on queue/ and running/, or -1 */
	char	**spares;	/* names in spare/ to take (see take_spare) */
	double	 revived;	/* see local_poll */
	double	 spares_none;	/* when spare/ was last found empty */
	pid_t	 runner_pid;	/* see wake_runner */
	unsigned long long runner_start;
	size_t	 nspares, ispare;
	int	 cpus;
	int	 ngpus;		/* -1: not detected yet */
	char	*gpu_ids;	/* comma-separated */
};

/* ---- small file helpers ------------------------------------------------- */

static char *
path2(const char *a, const char *b, const char *c)
{
	struct mls_buf p = MLS_BUF_INIT;

	mls_buf_addf(&p, "%s/%s%s", a, b, c != NULL ? c : "");
	return mls_buf_detach(&p);
}

static char *
job_file(const char *data, const char *dir, const char *id)
{
	struct mls_buf p = MLS_BUF_INIT;

	mls_buf_addf(&p, "%s/%s/%s.json", data, dir, id);
	return mls_buf_detach(&p);
}

/* The queue and running entry paths of job id (*qf, *rf replaced). */
static int
entry_files(const char *data, const char *id, char **qf, char **rf)
{
	free(*qf);
	free(*rf);
	*qf = job_file(data, "queue", id);
	*rf = job_file(data, "running", id);
	if (*qf == NULL || *rf == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

/*
 * Write v over the file open as fd (path, for messages), in place:
 * padded with blanks to at least the old length, so that no old byte is
 * left after the JSON.
 */
static int
fill_fd(int fd, const char *path, const json_t *v)
{
	struct stat sb;
	char *s = NULL;
	size_t len;
	off_t off = 0;
	ssize_t w;
	int rc = 0;

	if ((s = json_dumps(v, MLS_JSON_COMPACT)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	len = strlen(s);
	if (fstat(fd, &sb) == 0 && (off_t)len < sb.st_size) {
		char *t = realloc(s, (size_t)sb.st_size + 1);
		if (t == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		s = t;
		memset(s + len, ' ', (size_t)sb.st_size - len);
		len = (size_t)sb.st_size;
		s[len] = '\0';
	}
	while ((size_t)off < len) {
		if ((w = pwrite(fd, s + off, len - (size_t)off, off)) < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "write '%s'", path);
			goto out;
		}
		off += w;
	}
out:
	free(s);
	return rc;
}

/*
 * Write the running entry over the claimed queue entry at path, in place
 * (see fill_fd), with no new file and no rename (a start costs that much
 * less).  A reader that catches it half-written sees a file that does
 * not parse, and takes the job for one still starting.
 */
static int
fill_claim(const char *path, const json_t *v)
{
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return mls_error_set_errno(MLS_EIO, "open '%s'", path);
	rc = fill_fd(fd, path, v);
	if (close(fd) == -1 && rc == 0)
		rc = mls_error_set_errno(MLS_EIO, "write '%s'", path);
	return rc;
}

/* Load a JSON object file; MLS_ENOTFOUND when missing. */
static int
load_json(const char *path, json_t **out)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	v = json_load_file(path, 0, &jerr);
	if (v == NULL) {
		if (access(path, F_OK) == -1 && errno == ENOENT)
			return mls_error_set(MLS_ENOTFOUND, "'%s': not found",
			    path);
		return mls_error_set(MLS_EINPUT, "%s:%d: %s", path, jerr.line,
		    jerr.text);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return mls_error_set(MLS_EINPUT, "%s: not a JSON object", path);
	}
	*out = v;
	return 0;
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* starttime (field 22 of /proc/PID/stat), or 0 if pid is gone. */
static unsigned long long
proc_starttime(pid_t pid)
{
	return mls_proc_starttime(pid);
}

/* 1 if pid runs and is the process started at starttime. */
static int
alive(pid_t pid, unsigned long long starttime)
{
	return mls_proc_alive(pid, starttime);
}

/* Write jobs/ID/result.json unless the store has one already. */
static int
write_result_if_none(const char *store_url, const char *id, const char *state,
    const char *reason, const char *started)
{
	struct mls_job_result r;
	struct mls_store *st = NULL;
	int rc;

	if ((rc = mls_job_result_init(&r, id, mls_state_parse(state))) < 0)
		return rc;
	mls_job_result_set_reason(&r, reason);
	if (started != NULL)
		snprintf(r.started, sizeof(r.started), "%s", started);
	if ((rc = mls_store_open(&st, NULL, store_url)) == 0)
		rc = mls_job_result_put(st, &r, MLS_JOB_RESULT_IF_NONE);
	mls_store_free(st);
	mls_job_result_release(&r);
	return rc < 0 ? rc : 0;
}

/* ---- slots -------------------------------------------------------------- */

static int
parse_count(const char *s, const char *what, const char *site, long min,
    int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > 1000000)
		return mls_error_set(MLS_ECONFIG, "site '%s': %s '%s': expected "
		    "a count from %ld to 1000000", site, what, s, min);
	*out = (int)v;
	return 0;
}

/* Count "GPU n:" lines of nvidia-smi -L; 0 when it is not there. */
static int
nvidia_smi_count(void)
{
	char *argv[] = { "nvidia-smi", "-L", NULL };
	struct mls_buf out = MLS_BUF_INIT;
	const char *p;
	int n = 0, status;

	if (mls_run_capture(argv, NULL, &out, NULL, &status) < 0) {
		mls_error_clear();	/* no nvidia-smi: no GPU */
		status = -1;
	}
	for (p = out.buf; status == 0 && p != NULL && *p != '\0'; ) {
		if (strncmp(p, "GPU ", 4) == 0)
			n++;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	mls_buf_release(&out);
	return n;
}

static int
detect_gpus(struct mls_site *s, struct local *l)
{
	struct mls_buf ids = MLS_BUF_INIT;
	const char *v, *p;
	int n = 0, i, rc, cvd = 0;

	if (l->ngpus >= 0)
		return 0;
	if ((v = mls_record_str(s->conf, "gpus")) != NULL) {
		if ((rc = parse_count(v, "gpus", s->name, 0, &n)) < 0)
			return rc;
	} else if ((v = getenv("MLS_LOCAL_GPUS")) != NULL && *v != '\0') {
		if ((rc = parse_count(v, "MLS_LOCAL_GPUS", s->name, 0, &n)) < 0)
			return rc;
	} else if ((v = getenv("CUDA_VISIBLE_DEVICES")) != NULL) {
		/* the GPUs we were given: hand out these ids */
		cvd = 1;
		for (p = v; *p != '\0'; p++)
			if (*p != ',' && (p == v || p[-1] == ','))
				n++;
		mls_buf_adds(&ids, v);
	} else {
		n = nvidia_smi_count();
	}
	if (n > MAX_GPUS)
		n = MAX_GPUS;
	if (!cvd)
		for (i = 0; i < n; i++)
			mls_buf_addf(&ids, "%s%d", i ? "," : "", i);
	if ((rc = mls_buf_error(&ids)) < 0)
		return rc;
	free(l->gpu_ids);
	l->gpu_ids = mls_buf_detach(&ids);
	l->ngpus = n;
	return 0;
}

int
mls_local_data_dir(const struct mls_config *cfg, const char *name, char **out)
{
	struct mls_buf sub = MLS_BUF_INIT;
	int rc;

	*out = NULL;
	if (strcmp(name, "local") == 0)
		mls_buf_adds(&sub, "local");
	else
		mls_buf_addf(&sub, "local-%s", name);
	if ((rc = mls_buf_error(&sub)) == 0)
		rc = mls_config_data_dir(cfg, sub.buf, out);
	mls_buf_release(&sub);
	return rc;
}

/* ---- the driver ---------------------------------------------------------- */

static void
local_close(struct mls_site *s)
{
	struct local *l = s->priv;

	if (l == NULL)
		return;
	if (l->ifd >= 0)
		close(l->ifd);
	while (l->nspares > 0)
		free(l->spares[--l->nspares]);
	free(l->spares);
	free(l->data);
	free(l->gpu_ids);
	free(l);
	s->priv = NULL;
}

static int
local_open(struct mls_site *s)
{
	struct local *l;
	const char *v;
	char *q = NULL, *r = NULL, *c = NULL, *sp = NULL;
	long n;
	int rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	s->priv = l;
	l->ngpus = -1;
	l->ifd = -1;
	if ((rc = mls_local_data_dir(s->cfg, s->name, &l->data)) < 0)
		goto out;
	if ((v = mls_record_str(s->conf, "cpus")) != NULL) {
		if ((rc = parse_count(v, "cpus", s->name, 1, &l->cpus)) < 0)
			goto out;
	} else if ((v = getenv("MLS_LOCAL_CPUS")) != NULL && *v != '\0') {
		if ((rc = parse_count(v, "MLS_LOCAL_CPUS", s->name,
		    1, &l->cpus)) < 0)
			goto out;
	} else {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		l->cpus = n > 0 ? (int)n : 1;
	}
	if (l->cpus < 1)
		l->cpus = 1;
	q = path2(l->data, "queue", NULL);
	r = path2(l->data, "running", NULL);
	c = path2(l->data, "cancel", NULL);
	sp = path2(l->data, "spare", NULL);
	if (q == NULL || r == NULL || c == NULL || sp == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = mls_mkdirs(q, 0700)) < 0 || (rc = mls_mkdirs(r, 0700)) < 0 ||
	    (rc = mls_mkdirs(c, 0700)) < 0 || (rc = mls_mkdirs(sp, 0700)) < 0)
		goto out;
	rc = 0;
out:
	free(q);
	free(r);
	free(c);
	free(sp);
	if (rc < 0)
		local_close(s);
	return rc;
}

/* Where mls-runner is: $MLS_RUNNER, next to this program, or libexec. */
static char *
runner_path(void)
{
	struct mls_buf p = MLS_BUF_INIT;
	const char *env = getenv("MLS_RUNNER");
	char self[4096], *slash;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		mls_buf_adds(&p, env);
		return mls_buf_detach(&p);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			mls_buf_addf(&p, "%s/mls-runner", self);
			if (p.len > 0 && access(p.buf, X_OK) == 0)
				return mls_buf_detach(&p);
			mls_buf_reset(&p);
		}
	}
	mls_buf_adds(&p, MLS_LIBEXECDIR "/mls-runner");
	return mls_buf_detach(&p);
}

/*
 * Tell a live runner to rescan its queue now (SIGUSR1) instead of at its
 * next tick.  Only a process whose command line names mls-runner is
 * signalled, so a stale pid file can never hit another program; it is
 * remembered with its start time, so the next wake costs one check.
 */
static void
wake_runner(struct local *l)
{
	char *pidfile, buf[64], cmd[256];
	struct mls_buf proc = MLS_BUF_INIT;
	ssize_t n;
	long pid;
	int fd;

	/* the one woken last time, while it is the same process */
	if (l->runner_pid > 1 && alive(l->runner_pid, l->runner_start)) {
		(void)kill(l->runner_pid, SIGUSR1);
		return;
	}
	l->runner_pid = 0;
	if ((pidfile = path2(l->data, "runner.pid", NULL)) == NULL)
		return;
	fd = open(pidfile, O_RDONLY | O_CLOEXEC);
	free(pidfile);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((pid = strtol(buf, NULL, 10)) <= 1)
		return;
	mls_buf_addf(&proc, "/proc/%ld/cmdline", pid);
	if (mls_buf_error(&proc) == 0 &&
	    (fd = open(proc.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n > 0) {
			cmd[n] = '\0';
			if (strstr(cmd, "mls-runner") != NULL) {
				l->runner_pid = (pid_t)pid;
				l->runner_start = proc_starttime((pid_t)pid);
				(void)kill((pid_t)pid, SIGUSR1);
			}
		}
	}
	mls_buf_release(&proc);
}

/* 1 if a scheduler holds the site's lock. */
static int
runner_alive(struct local *l)
{
	char *lock = path2(l->data, "sched.lock", NULL);
	int fd, alive = 1;

	if (lock != NULL && (fd = open(lock, O_RDWR | O_CLOEXEC)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			alive = 0;
			(void)flock(fd, LOCK_UN);
		}
		close(fd);
	} else if (lock != NULL && errno == ENOENT)
		alive = 0;
	free(lock);
	return alive;
}

/* Start mls-runner unless one holds the lock (then wake it). */
static int
ensure_runner(struct mls_site *s, struct local *l)
{
	struct mls_child c = MLS_CHILD_INIT;
	char *lock = NULL, *prog = NULL, cpus[16], msg[512];
	char *argv[] = { "mls-runner", "--site", s->name, "--data", l->data,
	    "--cpus", cpus, "--gpus", NULL, NULL };
	int fd = -1, rc, status;

	if ((rc = detect_gpus(s, l)) < 0)
		return rc;
	argv[8] = l->gpu_ids;
	snprintf(cpus, sizeof(cpus), "%d", l->cpus);
	if ((lock = path2(l->data, "sched.lock", NULL)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "open '%s'", lock);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		/* a runner is alive: it will see the job; wake it up now */
		wake_runner(l);
		rc = 0;
		goto out;
	}
	(void)flock(fd, LOCK_UN);
	close(fd);
	fd = -1;
	if ((prog = runner_path()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	c.file = prog;
	c.argv = argv;
	c.in = c.out = c.err = MLS_CHILD_NULL;
	if (mls_child_start(&c) < 0) {
		snprintf(msg, sizeof(msg), "%s", mls_error_last());
		rc = mls_error_set(MLS_EUNAVAIL, "site '%s': %s", s->name,
		    msg);
		goto out;
	}
	/* the runner forks to daemonize; its first process exits at once */
	if (mls_child_finish(&c) < 0) {
		mls_error_clear();	/* reaped elsewhere: we cannot tell */
		c.exit_code = 0;
	}
	if (c.exit_code != 0) {
		status = c.exit_code >= 0 ? c.exit_code : 128 + c.signal;
		rc = mls_error_set(MLS_EUNAVAIL, "site '%s': '%s' failed to "
		    "start (status %d)", s->name, prog, status);
		goto out;
	}
	mls_debug("site '%s': started %s", s->name, prog);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(lock);
	free(prog);
	return rc;
}

static int
res_count(const json_t *job, const char *key, int def)
{
	const json_t *v = json_object_get(json_object_get(job, "resources"),
	    key);

	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_real(v))
		return (int)(json_real_value(v) + 0.999);
	return def;
}

/*
 * Entry files are reused, not made and removed for every job: on ext4 the
 * allocation of an inode slows down near many recently deleted ones, so a
 * campaign of short trials would get slower as it goes.  The scheduler
 * moves the entry of an ended job to spare/ (at most SPARES_MAX there),
 * and a submitter takes one from there (rename, so only one gets it) for
 * its next queue entry, writing over it in place.
 */
#define SPARES_MAX	1024

/* Move a spare to tmp: 1, or 0 when there is none. */
static int
take_spare(struct local *l, const char *tmp)
{
	struct dirent *de;
	char *dir, *path;
	size_t cap = 0;
	DIR *d;

	for (;;) {
		if (l->ispare == l->nspares) {	/* look again */
			while (l->nspares > 0)
				free(l->spares[--l->nspares]);
			l->ispare = 0;
			/* none there a moment ago: not worth a look yet */
			if (mls_time_now() - l->spares_none < 0.5)
				return 0;
			if ((dir = path2(l->data, "spare", NULL)) == NULL)
				return 0;
			d = opendir(dir);
			free(dir);
			if (d == NULL)
				return 0;
			while ((de = readdir(d)) != NULL && l->nspares < 256) {
				if (de->d_name[0] == '.')
					continue;
				if (MLS_GROW(l->spares, cap, l->nspares + 1) < 0)
					break;
				if ((l->spares[l->nspares] = strdup(de->d_name)) ==
				    NULL)
					break;
				l->nspares++;
			}
			closedir(d);
			if (l->nspares == 0) {
				l->spares_none = mls_time_now();
				return 0;
			}
		}
		path = path2(l->data, "spare/", l->spares[l->ispare++]);
		if (path != NULL && rename(path, tmp) == 0) {
			free(path);
			return 1;
		}
		free(path);		/* another submitter took it */
	}
}

/*
 * Write the queue entry q at qf, in a spare file when there is one, else
 * in a new one: mode 0600 either way, for it holds the environment of
 * the submitter (see local_submit).
 */
static int
write_queue_entry(struct local *l, const char *qf, const json_t *q)
{
	struct mls_buf tmp = MLS_BUF_INIT;
	int fd = -1, rc;

	mls_buf_addf(&tmp, "%s.tmp-%ld", qf, (long)getpid());
	if ((rc = mls_buf_error(&tmp)) < 0)
		return rc;
	if (take_spare(l, tmp.buf))
		fd = open(tmp.buf, O_WRONLY | O_CLOEXEC);
	else
		fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		rc = mls_error_set_errno(MLS_EIO, "create '%s'", tmp.buf);
		goto out;
	}
	if (fchmod(fd, 0600) == -1) {
		rc = mls_error_set_errno(MLS_EIO, "chmod '%s'", tmp.buf);
		goto out;
	}
	if ((rc = fill_fd(fd, tmp.buf, q)) < 0)
		goto out;
	rc = close(fd);
	fd = -1;
	if (rc == -1) {
		rc = mls_error_set_errno(MLS_EIO, "write '%s'", tmp.buf);
		goto out;
	}
	if (rename(tmp.buf, qf) == -1)
		rc = mls_error_set_errno(MLS_EIO, "rename '%s'", tmp.buf);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		(void)unlink(tmp.buf);
	mls_buf_release(&tmp);
	return rc;
}

/*
 * What the executor needs of a job, in its queue entry ("job"), and how
 * to run it ("exec": "wrapper" forces lib/jobwrap.sh, from the site's
 * exec setting or $MLS_LOCAL_EXEC; the default runs image-less jobs on a
 * file store in the executor, see mls_local_exec.h).
 */
static int
queue_job(struct mls_site *s, const json_t *job, json_t *q)
{
	const json_t *v = json_object_get(json_object_get(job, "resources"),
	    "time_s");
	const char *how = mls_record_str(s->conf, "exec");
	json_t *x;

	if (how == NULL)
		how = getenv("MLS_LOCAL_EXEC");
	if (how != NULL && *how != '\0' && strcmp(how, "wrapper") != 0 &&
	    strcmp(how, "executor") != 0)
		return mls_error_set(MLS_ECONFIG, "site '%s': exec '%s': "
		    "expected 'executor' or 'wrapper'", s->name, how);
	x = json_pack("{s:O,s:O,s:s?,s:s?,s:I,s:I}", "command",
	    json_object_get(job, "command"), "env", json_object_get(job,
	    "env") != NULL ? json_object_get(job, "env") : json_null(),
	    "sandbox", mls_record_str(job, "sandbox"), "image",
	    mls_record_str(job, "image"), "time_s", (json_int_t)(
	    json_is_number(v) && json_number_value(v) > 0 ?
	    json_number_value(v) + 0.999 : 0), "grace_s",
	    (json_int_t)s->grace_s);
	if (x == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	/* what unpacking its sandbox may write, as the wrapper is told */
	json_object_set_new(x, "extract", json_pack("{s:I,s:I,s:I}", "max_size",
	    (json_int_t)s->cfg->extract_max_size, "max_files",
	    (json_int_t)s->cfg->extract_max_files, "max_ratio",
	    (json_int_t)s->cfg->extract_max_ratio));
	json_object_set_new(q, "job", x);
	if (how != NULL && strcmp(how, "wrapper") == 0)
		json_object_set_new(q, "exec", json_string("wrapper"));
	return 0;
}

/*
 * Our environment, as a job is to get it (sbatch's --export=ALL): an
 * array of "NAME=value" strings (new reference).
 */
static json_t *
submitter_environ(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && environ[i] != NULL; i++)
		if (json_array_append_new(a, json_string(environ[i])) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/*
 * A job gets the environment of its submitter, which may hold secrets:
 * it is kept in the queue entry only (mode 0600, under DATA), never in
 * the job's record or in the store, and the running entry is written
 * over it when the job starts.
 */
static int
local_submit(struct mls_site *s, json_t **jobs, size_t n)
{
	struct local *l = s->priv;
	json_t *q = NULL, *envv = NULL;
	char *qf = NULL, *rf = NULL, now[32];
	const char *id;
	int rc, cpus, gpus, queued = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cpus = res_count(jobs[i], "cpus", 1);
		gpus = res_count(jobs[i], "gpus", 0);
		if (cpus > l->cpus)
			return mls_error_set(MLS_EINPUT, "job needs %d CPUs; "
			    "site '%s' has %d", cpus, s->name, l->cpus);
		if (gpus > 0 && (rc = detect_gpus(s, l)) < 0)
			return rc;
		if (gpus > 0 && gpus > l->ngpus)
			return mls_error_set(MLS_EINPUT, "job needs %d GPU%s; "
			    "site '%s' has %d", gpus, gpus == 1 ? "" : "s",
			    s->name, l->ngpus);
	}
	mls_time_format(now, mls_time_now());
	for (i = 0; i < n; i++) {
		id = mls_record_id(jobs[i]);
		if ((rc = entry_files(l->data, id, &qf, &rf)) < 0)
			goto out;
		json_object_set_new(jobs[i], "site_id", json_string(id));
		if (exists(rf)) {	/* a resumed driver: adopt, do not rerun */
			json_object_set_new(jobs[i], "state",
			    json_string("running"));
			continue;
		}
		if (exists(qf)) {
			json_object_set_new(jobs[i], "state",
			    json_string("queued"));
			continue;
		}
		q = json_pack("{s:s,s:s,s:i,s:i,s:s}", "id", id, "store",
		    mls_store_url(s->store), "cpus", res_count(jobs[i], "cpus",
		    1), "gpus", res_count(jobs[i], "gpus", 0), "submitted", now);
		if (q == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = queue_job(s, jobs[i], q)) < 0)
			goto out;
		if (envv == NULL && (envv = submitter_environ()) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		json_object_set(q, "environ", envv);
		if (s->cfg->store_token_file != NULL)
			json_object_set_new(q, "token_file",
			    json_string(s->cfg->store_token_file));
		if (s->cfg->store_ca_file != NULL)
			json_object_set_new(q, "ca_file",
			    json_string(s->cfg->store_ca_file));
		rc = write_queue_entry(l, qf, q);
		json_decref(q);
		q = NULL;
		if (rc < 0)
			goto out;
		json_object_set_new(jobs[i], "state", json_string("queued"));
		queued++;
	}
	rc = queued > 0 ? ensure_runner(s, l) : 0;
out:
	json_decref(q);
	json_decref(envv);
	free(qf);
	free(rf);
	return rc;
}

/*
 * A command the scheduler started itself has ended, and the scheduler or,
 * if it died, the guardian is writing its result: 1.  (Once the result
 * is in the store the running entry goes away.)
 */
static int
ending(const json_t *e)
{
	const char *mode = mls_record_str(e, "mode");
	pid_t g = (pid_t)mls_record_int(e, "guardian", 0);

	return mode != NULL && strcmp(mode, "spawn") == 0 && g > 1 &&
	    alive(g, (unsigned long long)mls_record_int(e, "guardian_start",
	    0));
}

static int
local_poll(struct mls_site *s, json_t **jobs, size_t n)
{
	struct local *l = s->priv;
	json_t *e = NULL;
	char *qf = NULL, *rf = NULL;
	const char *id, *started;
	size_t i, waiting = 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		id = mls_record_id(jobs[i]);
		if ((rc = entry_files(l->data, id, &qf, &rf)) < 0)
			goto out;
		if (exists(qf)) {
			json_object_set_new(jobs[i], "state",
			    json_string("queued"));
			waiting++;
			continue;
		}
		if (load_json(rf, &e) == 0) {
			pid_t pid = (pid_t)mls_record_int(e, "pid", 0);
			unsigned long long st = (unsigned long long)
			    mls_record_int(e, "starttime", 0);

			if (pid == 0) {
				/* claimed by the runner, not started yet */
				json_object_set_new(jobs[i], "state",
				    json_string("queued"));
				waiting++;
			} else if (alive(pid, st) || ending(e)) {
				json_object_set_new(jobs[i], "state",
				    json_string("running"));
				/* a command the scheduler polices */
				if (mls_record_str(e, "mode") != NULL)
					waiting++;
				if ((started = mls_record_str(e, "started")))
					json_object_set_new(jobs[i], "started",
					    json_string(started));
			} else {
				json_object_set_new(jobs[i], "state",
				    json_string("lost"));
				json_object_set_new(jobs[i], "reason",
				    json_pack("s+++", mls_record_str(e, "mode") ?
				    "the job's process" : "the wrapper of the job",
				    " on site '", s->name, "' died with no result"));
			}
			json_decref(e);
			e = NULL;
			continue;
		}
		/* being rewritten in place by the runner (fill_claim) */
		if (exists(rf)) {
			json_object_set_new(jobs[i], "state",
			    json_string("queued"));
			waiting++;
			continue;
		}
		json_object_set_new(jobs[i], "state", json_string("lost"));
		json_object_set_new(jobs[i], "reason", json_pack("s++",
		    "no record of the job on site '", s->name, "'"));
	}
	/*
	 * Jobs waiting, or commands it started itself, and no scheduler (it
	 * died): start one, which takes them up (time limits, cancels) or,
	 * for one it had claimed, reports it lost.  At most once a second.
	 */
	if (waiting > 0 && mls_time_now() - l->revived >= 1.0) {
		l->revived = mls_time_now();
		if (!runner_alive(l) && ensure_runner(s, l) < 0)
			mls_warn("%s", mls_error_last());
	}
out:
	free(qf);
	free(rf);
	return rc;
}

static int
local_cancel(struct mls_site *s, json_t *job)
{
	struct local *l = s->priv;
	const char *id = mls_record_id(job);
	json_t *e = NULL;
	char *qf = NULL, *rf = NULL;
	pid_t pg;
	int rc = 0;

	if ((rc = entry_files(l->data, id, &qf, &rf)) < 0)
		goto out;
	if (unlink(qf) == 0) {		/* won the race against the runner */
		rc = write_result_if_none(mls_store_url(s->store), id,
		    "cancelled", "cancelled before it started", NULL);
		if (rc < 0)
			goto out;
		json_object_set_new(job, "state", json_string("cancelled"));
		json_object_set_new(job, "reason",
		    json_string("cancelled before it started"));
		goto out;
	}
	/*
	 * Only the wrapper gets the SIGTERM, not its whole process group:
	 * the wrapper stops the command (its own session) with the grace
	 * period and still pushes the outputs; a signal to the group would
	 * also kill the wrapper's cp/curl/sleep in the middle of their work.
	 */
	if (load_json(rf, &e) == 0) {
		pg = (pid_t)mls_record_int(e, "pid", 0);
		if (pg <= 1 || !alive(pg, (unsigned long long)mls_record_int(e,
		    "starttime", 0)))
			goto out;
		if (mls_record_str(e, "mode") == NULL ||
		    strcmp(mls_record_str(e, "mode"), "spawn") != 0) {
			(void)kill(pg, SIGTERM);
			goto out;
		}
		/*
		 * A command the scheduler started itself: its group gets the
		 * SIGTERM now, and the scheduler (woken) sends the SIGKILL
		 * after the grace period and records the cancel.
		 */
		if (kill(-pg, SIGTERM) == -1)
			(void)kill(pg, SIGTERM);
		free(qf);
		if ((qf = path2(l->data, "cancel/", id)) != NULL &&
		    mls_write_atomic(qf, "", 0, 0) < 0)
			mls_warn("%s", mls_error_last());
		wake_runner(l);
	}
out:
	json_decref(e);
	free(qf);
	free(rf);
	return rc;
}

/*
 * The scheduler removes running/ID.json when a job has ended (after its
 * result is in the store; moves it to spare/, that is) and queue/ID.json
 * when it refuses one: a watch
 * on both wakes a waiting driver at once instead of at its next poll.
 */
static int
local_wait_fd(struct mls_site *s)
{
	struct local *l = s->priv;
	char *q, *r;

	if (l->ifd >= 0)
		return l->ifd;
	if ((l->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -1;
	q = path2(l->data, "queue", NULL);
	r = path2(l->data, "running", NULL);
	if (q == NULL || r == NULL || inotify_add_watch(l->ifd, q,
	    IN_DELETE) < 0 || inotify_add_watch(l->ifd, r, IN_DELETE |
	    IN_MOVED_FROM) < 0) {
		mls_debug("site '%s': no inotify watch: %s", s->name,
		    strerror(errno));
		close(l->ifd);
		l->ifd = -1;
	}
	free(q);
	free(r);
	return l->ifd;
}

/* The executor needs no spec.sh: only jobs for the wrapper get one. */
static int
local_wants_spec(struct mls_site *s, const json_t *job)
{
	const char *how = mls_record_str(s->conf, "exec"), *image;
	char *path;

	if (how == NULL)
		how = getenv("MLS_LOCAL_EXEC");
	if (how != NULL && strcmp(how, "wrapper") == 0)
		return 1;
	image = mls_record_str(job, "image");
	if (image != NULL && *image != '\0' && strcmp(image, "none") != 0)
		return 1;
	if ((path = mls_store_local_path(s->store, "")) == NULL)
		return 1;	/* not a file store */
	free(path);
	return 0;
}

/* The ids of the jobs whose queue or running entry went. */
static void
local_drain(struct mls_site *s, json_t *ids)
{
	struct local *l = s->priv;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	size_t len;
	char *p;

	if (l->ifd < 0)
		return;
	while ((n = read(l->ifd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->len == 0)
				continue;
			len = strnlen(ev->name, ev->len);
			if (len > 5 && strcmp(ev->name + len - 5, ".json") == 0)
				json_object_setn_nocheck(ids, ev->name, len - 5,
				    json_true());
		}
	}
}

/* Its keys in [site "NAME"], documented in mls(7). */
static const char *const local_keys[] = {
	"cpus", "gpus", "exec", NULL
};

const struct mls_site_ops mls_site_local_ops = {
	.type = "local",
	.keys = local_keys,
	.open = local_open,
	.submit = local_submit,
	.poll = local_poll,
	.cancel = local_cancel,
	.close = local_close,
	.wait_fd = local_wait_fd,
	.drain = local_drain,
	.wants_spec = local_wants_spec,
	.same_host = 1,
};

/* ---- the scheduler ---------------------------------------------------------- */

/* How a job runs: see start_job(). */
enum mode { MODE_WRAPPER, MODE_FORK, MODE_SPAWN };

struct ent {
	char			*id;
	char			*store;
	char			*started;
	pid_t			 pid;	/* the wrapper, executor or command */
	unsigned long long	 starttime;
	int			 cpus;
	uint64_t		 gpus;	/* mask of indices into the id list */
	int			 child;	/* ours to waitpid, else adopted */
	enum mode		 mode;
	pid_t			 guardian;	/* MODE_SPAWN: see guard() */
	unsigned long long	 guardian_start;
	double			 dead_since;	/* adopted, seen gone then */
	json_t			*run;	/* MODE_SPAWN: the running entry */
	double			 deadline;	/* time limit, 0 none */
	double			 killat;	/* SIGKILL after the grace */
	double			 grace;
	const char		*stop;		/* "cancel", "time" or NULL */
	char			 why[96];
};

/*
 * Work for a child the program forks (MLS_LOCAL_FORK): a job with a heavy
 * sandbox set up and run there (TASK_JOB), or the outputs of a command
 * that ended packed there (TASK_END), not to hold up the other jobs.
 */
enum task_kind { TASK_NONE, TASK_JOB, TASK_END };

struct task {
	enum task_kind	 kind;
	char		*id;
	json_t		*q;		/* TASK_JOB: its queue entry */
	char		**env;		/* TASK_JOB: see job_env() */
	int		 cpus;		/* TASK_JOB */
	uint64_t	 gpus;		/* TASK_JOB */
	int		 status;	/* TASK_END: the command's */
};

struct mls_local_sched {
	const struct mls_local_conf *ls;
	char		*qdir, *rdir, *cdir, *wrapper;
	struct timespec	 cmtime;
	double		 cscan;		/* see take_cancels() */
	char		**gpu_id;	/* ngpus strings */
	int		 ngpus, free_cpus;
	uint64_t	 gpus_used;
	struct ent	*run;
	size_t		 nrun, caprun;
	struct timespec	 qmtime;
	double		 last_scan;
	int		 dirty;
	int		 lockfd;	/* sched.lock: closed in job children */
	pid_t		 guardian;	/* our parent, see mls_local_orphan_end() */
	unsigned long long guardian_start;
	unsigned long	 spare_seq;
	json_t		**trash;	/* running entries of ended jobs */
	size_t		 ntrash, captrash;
	char		*lock, *pidfile, *ids;
	double		 idle_since, linger;
	struct task	 task;		/* a child to fork, see step */
};

/* Their scratch dirs go once the jobs waiting to start are served. */
static int
push_run(struct mls_local_sched *sc, json_t *run)
{
	int rc;

	if ((rc = MLS_GROW(sc->trash, sc->captrash, sc->ntrash + 1)) < 0)
		return rc;
	sc->trash[sc->ntrash++] = json_incref(run);
	return 0;
}

static void
empty_trash(struct mls_local_sched *sc)
{
	while (sc->ntrash > 0) {
		json_t *r = sc->trash[--sc->ntrash];
		mls_local_exec_cleanup(r);
		json_decref(r);
	}
}

static void
ent_free(struct ent *e)
{
	free(e->id);
	free(e->store);
	free(e->started);
	json_decref(e->run);
	e->run = NULL;
}

static int
popcount64(uint64_t m)
{
	int n = 0;

	for (; m != 0; m &= m - 1)
		n++;
	return n;
}

/* Move a running entry to spare/ for reuse (see take_spare), or remove it. */
static void
retire(struct mls_local_sched *sc, const char *rf)
{
	char name[32], *sp;

	snprintf(name, sizeof(name), "%lu", sc->spare_seq++ % SPARES_MAX);
	if ((sp = path2(sc->ls->data, "spare/", name)) == NULL ||
	    rename(rf, sp) == -1)
		(void)unlink(rf);
	free(sp);
}

/* A job has ended: make sure there is a result (reason NULL: there is), free its slots. */
static void
job_gone(struct mls_local_sched *sc, size_t i, const char *reason)
{
	struct ent *e = &sc->run[i];
	char *rf;

	if (reason != NULL && write_result_if_none(e->store, e->id, "lost",
	    reason, e->started) < 0)
		mls_warn("job '%s': %s", e->id, mls_error_last());
	if ((rf = job_file(sc->ls->data, "running", e->id)) != NULL)
		retire(sc, rf);
	free(rf);
	mls_debug("job '%s': done", e->id);
	sc->free_cpus += e->cpus;
	sc->gpus_used &= ~e->gpus;
	ent_free(e);
	sc->run[i] = sc->run[--sc->nrun];
	sc->dirty = 1;
}

/*
 * A command that left outputs ended: pack them in a child, not to hold
 * up the others (a checkpoint may take a while to compress); the entry
 * then waits for that child as for an executor's.  0 when not done so.
 */
static int
finish_in_child(struct mls_local_sched *sc, struct ent *e, int status)
{
	if ((sc->task.id = strdup(e->id)) == NULL)
		return 0;
	sc->task.kind = TASK_END;
	sc->task.status = status;
	e->pid = 0;		/* the child's, once forked */
	e->starttime = 0;
	e->mode = MODE_FORK;
	e->killat = 0;
	return 1;
}

/* The command of run[i], started by us, ended with status: finish it here. */
static void
end_spawned(struct mls_local_sched *sc, size_t i, int status, int has)
{
	struct ent *e = &sc->run[i];

	if (mls_local_exec_end(e->run, status, e->stop, e->stop != NULL ?
	    e->why : NULL, MLS_LOCAL_EXEC_LATER | (has ? 0 :
	    MLS_LOCAL_EXEC_NO_OUTPUTS)) == 0) {
		/* the scratch dir goes once others are served */
		if (mls_record_str(e->run, "work") != NULL)
			(void)push_run(sc, e->run);
		job_gone(sc, i, NULL);	/* result written */
		return;
	}
	mls_warn("job '%s': %s", e->id, mls_error_last());
	if (mls_record_str(e->run, "work") != NULL)
		(void)push_run(sc, e->run);
	job_gone(sc, i, "the executor could not write a result");
}

/* Wait for the children that ended; stops early for a child to fork. */
static void
reap(struct mls_local_sched *sc)
{
	char reason[128];
	int status, has;
	size_t i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < sc->nrun; i++)
			if (sc->run[i].child && sc->run[i].pid == pid)
				break;
		if (i == sc->nrun)
			continue;
		if (sc->run[i].mode == MODE_SPAWN) {
			struct ent *e = &sc->run[i];
			/* what the command left running of its group goes too */
			(void)kill(-pid, SIGKILL);
			has = mls_local_exec_has_outputs(e->run);
			if (has && finish_in_child(sc, e, status))
				return;
			end_spawned(sc, i, status, has);
			continue;
		}
		if (WIFSIGNALED(status))
			snprintf(reason, sizeof(reason), "wrapper killed by "
			    "signal %d", WTERMSIG(status));
		else
			snprintf(reason, sizeof(reason), "wrapper exited with "
			    "status %d without a result", WEXITSTATUS(status));
		job_gone(sc, i, reason);
	}
	for (i = 0; i < sc->nrun; i++) {
		struct ent *e = &sc->run[i];
		if (e->child || alive(e->pid, e->starttime))
			continue;
		/*
		 * An adopted command of a dead scheduler: its guardian, now
		 * its parent, finishes it and removes the running entry; we
		 * only free the slots then.  With no guardian either, lost.
		 */
		if (e->mode == MODE_SPAWN && e->guardian > 1 &&
		    alive(e->guardian, e->guardian_start)) {
			char *rf = job_file(sc->ls->data, "running", e->id);
			int gone = rf != NULL && !exists(rf);
			free(rf);
			if (e->dead_since == 0)
				e->dead_since = mls_time_now();
			/*
			 * Not finished by the guardian in time: its scheduler
			 * died after it had reaped the command.
			 */
			if (!gone && mls_time_now() - e->dead_since < e->grace +
			    ADOPT_WAIT_S)
				continue;
		}
		job_gone(sc, i, e->mode == MODE_SPAWN ? "its scheduler "
		    "died and no process saw how it ended" :
		    "wrapper died while no scheduler watched it");
		i--;
	}
}

static int
add_ent(struct mls_local_sched *sc, struct ent *e)
{
	int rc;

	if ((rc = MLS_GROW(sc->run, sc->caprun, sc->nrun + 1)) < 0)
		return rc;
	sc->run[sc->nrun++] = *e;
	return 0;
}

/* Fill e from a running/ID.json entry. */
static int
ent_from_json(struct ent *e, const char *id, const json_t *j)
{
	const json_t *g, *v;
	size_t k;

	memset(e, 0, sizeof(*e));
	e->id = strdup(id);
	e->store = strdup(mls_record_str(j, "store") ? mls_record_str(j,
	    "store") : "");
	if (mls_record_str(j, "started") != NULL)
		e->started = strdup(mls_record_str(j, "started"));
	if (e->id == NULL || e->store == NULL) {
		ent_free(e);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	e->pid = (pid_t)mls_record_int(j, "pid", 0);
	e->starttime = (unsigned long long)mls_record_int(j, "starttime", 0);
	e->cpus = (int)mls_record_int(j, "cpus", 1);
	if (mls_record_str(j, "mode") != NULL &&
	    strcmp(mls_record_str(j, "mode"), "spawn") == 0) {
		e->mode = MODE_SPAWN;
		e->guardian = (pid_t)mls_record_int(j, "guardian", 0);
		e->guardian_start = (unsigned long long)mls_record_int(j,
		    "guardian_start", 0);
		e->grace = (double)mls_record_int(j, "grace_s", 10);
		if (mls_record_int(j, "time_s", 0) > 0 && e->started != NULL)
			e->deadline = mls_time_parse(e->started) +
			    (double)mls_record_int(j, "time_s", 0);
	}
	g = json_object_get(j, "gpu_index");
	json_array_foreach(g, k, v)
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) < MAX_GPUS)
			e->gpus |= (uint64_t)1 << json_integer_value(v);
	return 0;
}

/*
 * Call fn(id, entry, arg) for each running/ entry under data (entry NULL
 * for one that does not parse, which is warned about), until it returns
 * non-zero (returned).
 */
static int
each_running(const char *data, int (*fn)(const char *, json_t *, void *),
    void *arg)
{
	struct dirent *de;
	json_t *j;
	char *dir, *path, id[256];
	size_t len;
	DIR *d;
	int rc = 0;

	if ((dir = path2(data, "running", NULL)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	d = opendir(dir);
	if (d == NULL) {
		rc = mls_error_set_errno(MLS_EIO, "open '%s'", dir);
		free(dir);
		return rc;
	}
	free(dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 || len - 5 >= sizeof(id) ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(id, de->d_name, len - 5);
		id[len - 5] = '\0';
		if ((path = job_file(data, "running", id)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			break;
		}
		if (load_json(path, &j) < 0) {
			mls_warn("%s", mls_error_last());
			j = NULL;
		}
		free(path);
		rc = fn(id, j, arg);
		json_decref(j);
	}
	closedir(d);
	return rc;
}

static int
adopt_one(const char *id, json_t *j, void *arg)
{
	struct mls_local_sched *sc = arg;
	struct ent e;
	char *rf;
	int rc;

	if (j == NULL) {
		/* cut short by its writer's death: no job can be behind it */
		if ((rf = job_file(sc->ls->data, "running", id)) != NULL)
			retire(sc, rf);
		free(rf);
		return 0;
	}
	if ((rc = ent_from_json(&e, id, j)) < 0 || (rc = add_ent(sc, &e)) < 0)
		return rc;
	sc->free_cpus -= e.cpus;
	sc->gpus_used |= e.gpus;
	mls_info("job '%s': adopted (pid %ld)", id, (long)e.pid);
	return 0;
}

/* Adopt the running/ entries of a predecessor. */
static int
adopt(struct mls_local_sched *sc)
{
	return each_running(sc->ls->data, adopt_one, sc);
}

/*
 * The environment of a job (of its wrapper, or of the executor's
 * command, which adds MLS_* and the job's -e variables): its submitter's,
 * from the queue entry (an entry written before it had one: ours), with
 * the slots the site assigned and the store's credentials.  The strings
 * of q and of environ are borrowed: q must outlive the result.
 */
static char **
job_env(const json_t *q, const char *cvd, int cpus, const char *gpu_ids)
{
	static const char *const drop[] = { "CUDA_VISIBLE_DEVICES=",
	    "MLS_LOCAL_CPUS_ASSIGNED=", "MLS_LOCAL_GPUS_ASSIGNED=",
	    "MLS_STORE_TOKEN_FILE=", "MLS_STORE_CA_FILE=" };
	const json_t *sub = json_object_get(q, "environ");
	struct mls_buf b = MLS_BUF_INIT;
	size_t n = 0, k, i, j;
	char **env;
	const char *tf = mls_record_str(q, "token_file");
	const char *cf = mls_record_str(q, "ca_file");
	const char *v;

	if (json_is_array(sub))
		n = json_array_size(sub);
	else
		while (environ[n] != NULL)
			n++;
	if ((env = calloc(n + 6, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0, k = 0; i < n; i++) {
		v = json_is_array(sub) ? json_string_value(json_array_get(sub,
		    i)) : environ[i];
		if (v == NULL || strchr(v, '=') == NULL)
			continue;
		for (j = 0; j < sizeof(drop) / sizeof(drop[0]); j++)
			if (strncmp(v, drop[j], strlen(drop[j])) == 0)
				break;
		if (j == sizeof(drop) / sizeof(drop[0]))
			env[k++] = (char *)v;	/* borrowed */
	}
	/* the owned strings go at the end, from CUDA_VISIBLE_DEVICES on */
	mls_buf_addf(&b, "CUDA_VISIBLE_DEVICES=%s", cvd);
	env[k++] = mls_buf_detach(&b);
	mls_buf_addf(&b, "MLS_LOCAL_CPUS_ASSIGNED=%d", cpus);
	env[k++] = mls_buf_detach(&b);
	mls_buf_addf(&b, "MLS_LOCAL_GPUS_ASSIGNED=%s", gpu_ids);
	env[k++] = mls_buf_detach(&b);
	if (tf != NULL) {
		mls_buf_addf(&b, "MLS_STORE_TOKEN_FILE=%s", tf);
		env[k++] = mls_buf_detach(&b);
	}
	if (cf != NULL) {
		mls_buf_addf(&b, "MLS_STORE_CA_FILE=%s", cf);
		env[k++] = mls_buf_detach(&b);
	}
	env[k] = NULL;
	return env;
}

static void
job_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "CUDA_VISIBLE_DEVICES=", 21) == 0)
			break;
	for (; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static void stop_spawned(struct ent *e, const char *stop, const char *why);

/*
 * CUDA_VISIBLE_DEVICES of the GPUs in mask gpus into cvd; their indices
 * in *gi (new array) unless gi is NULL.
 */
static int
gpu_list(struct mls_local_sched *sc, uint64_t gpus, struct mls_buf *cvd,
    json_t **gi)
{
	json_t *a = NULL;
	int i, rc;

	if (gi != NULL && (a = json_array()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < sc->ngpus; i++) {
		if (!(gpus & ((uint64_t)1 << i)))
			continue;
		mls_buf_addf(cvd, "%s%s", cvd->len ? "," : "", sc->gpu_id[i]);
		if (a != NULL && json_array_append_new(a, json_integer(i)) < 0) {
			json_decref(a);
			return mls_error_set(MLS_ENOMEM, "out of memory");
		}
	}
	if ((rc = mls_buf_error(cvd)) < 0) {
		json_decref(a);
		return rc;
	}
	if (gi != NULL)
		*gi = a;
	return 0;
}

/*
 * The job id (queue entry q, claimed: its entry is running/ID.json) runs
 * as pid in mode (run: its running entry, MODE_SPAWN only): take its
 * slots and write the running entry.
 */
static int
job_started(struct mls_local_sched *sc, const char *id, const json_t *q,
    int cpus, uint64_t gpus, enum mode mode, pid_t pid, json_t *run)
{
	struct mls_buf cvd = MLS_BUF_INIT;
	const char *store = mls_record_str(q, "store");
	json_t *r = NULL, *gi = NULL;
	char *rf = NULL, now[32];
	struct ent e;
	int rc;

	memset(&e, 0, sizeof(e));
	mls_time_format(now, mls_time_now());
	if ((rc = gpu_list(sc, gpus, &cvd, &gi)) < 0)
		goto out;
	if ((rf = job_file(sc->ls->data, "running", id)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	e.pid = pid;
	e.starttime = proc_starttime(pid);
	e.cpus = cpus;
	e.gpus = gpus;
	e.child = 1;
	e.id = strdup(id);
	e.store = strdup(store);
	e.started = strdup(now);
	e.mode = mode;
	r = json_pack("{s:s,s:s,s:i,s:i,s:I,s:i,s:O,s:s,s:s}", "id", id,
	    "store", store, "pid", (int)pid, "pgid", (int)pid, "starttime",
	    (json_int_t)e.starttime, "cpus", cpus, "gpu_index", gi, "gpus",
	    cvd.buf, "started", now);
	if (r != NULL && run != NULL) {
		json_object_update(r, run);
		json_object_set_new(r, "guardian", json_integer(sc->guardian));
		json_object_set_new(r, "guardian_start", json_integer(
		    (json_int_t)sc->guardian_start));
		e.guardian = sc->guardian;
		e.guardian_start = sc->guardian_start;
		e.grace = (double)mls_record_int(run, "grace_s", 10);
		if (mls_record_int(run, "time_s", 0) > 0)
			e.deadline = mls_time_now() +
			    (double)mls_record_int(run, "time_s", 0);
		e.run = json_incref(r);
	}
	if (e.id == NULL || e.store == NULL || e.started == NULL ||
	    r == NULL || (rc = add_ent(sc, &e)) < 0) {
		/* the job runs; the next scheduler adopts it from running/ */
		ent_free(&e);
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	sc->free_cpus -= cpus;
	sc->gpus_used |= gpus;
	if ((rc = fill_claim(rf, r)) < 0)
		mls_warn("job '%s': %s", id, mls_error_last());
	/*
	 * A cancel that read the entry before it had the pid sent nothing:
	 * its stop marker, put first, is there now.
	 */
	if (mode == MODE_SPAWN && mls_local_exec_stopped(q))
		stop_spawned(&sc->run[sc->nrun - 1], "cancel", "stopped");
	mls_debug("job '%s': started (pid %ld, cpus %d, gpus '%s', %s)", id,
	    (long)pid, cpus, cvd.buf, mode == MODE_SPAWN ? "spawned" :
	    mode == MODE_FORK ? "executor" : "sh wrapper");
	rc = 0;
out:
	json_decref(r);
	json_decref(gi);
	free(rf);
	mls_buf_release(&cvd);
	return rc;
}

static void
task_release(struct task *t)
{
	job_env_free(t->env);	/* borrows from q */
	json_decref(t->q);
	free(t->id);
	memset(t, 0, sizeof(*t));
}

/*
 * Start the queued job id (its queue entry q) with the given GPUs; a job
 * with a heavy sandbox is left to a child the program forks (sc->task).
 */
static int
start_job(struct mls_local_sched *sc, const char *id, const json_t *q,
    int cpus, uint64_t gpus)
{
	struct mls_buf cvd = MLS_BUF_INIT;
	char *qf = NULL, *rf = NULL, **env = NULL;
	char *argv[] = { "/bin/sh", sc->wrapper, NULL, NULL, NULL };
	const char *store = mls_record_str(q, "store");
	struct mls_child c = MLS_CHILD_INIT;
	pid_t pid;
	int rc;
	const char *how = mls_record_str(q, "exec");
	json_t *run = NULL;
	enum mode mode = MODE_WRAPPER;

	if ((how == NULL || strcmp(how, "wrapper") != 0) &&
	    mls_local_exec_eligible(q))
		mode = mls_local_exec_light(q) ? MODE_SPAWN : MODE_FORK;
	if ((rc = entry_files(sc->ls->data, id, &qf, &rf)) < 0 ||
	    (rc = gpu_list(sc, gpus, &cvd, NULL)) < 0)
		goto out;
	/* claim it: from now on a cancel finds it in running/ */
	if (rename(qf, rf) == -1) {
		rc = errno == ENOENT ? 0 : mls_error_set_errno(MLS_EIO,
		    "rename '%s'", qf);
		goto out;
	}
	argv[2] = (char *)store;
	argv[3] = (char *)id;
	if ((env = job_env(q, cvd.buf, cpus, cvd.buf)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto fail;
	}
	if (mode == MODE_FORK) {
		/* a heavy sandbox: all of it in a child, not to hold us up */
		if ((sc->task.id = strdup(id)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto fail;
		}
		sc->task.kind = TASK_JOB;
		sc->task.q = json_incref((json_t *)q);
		sc->task.env = env;
		env = NULL;
		sc->task.cpus = cpus;
		sc->task.gpus = gpus;
		rc = 0;
		goto out;
	}
	if (mode == MODE_SPAWN) {
		/*
		 * The executor (mls_local_exec.c) sets the job up here and
		 * starts the command itself: the command is the only process
		 * a trial costs.  We wait for it (reap) and finish it; if we
		 * die first, the guardian does (see mls_local_orphan_end()).
		 */
		if ((rc = mls_local_exec_start(sc->ls->data, q, env, &pid,
		    &run)) < 0)
			goto fail;
		if (pid == 0) {		/* it did not start: result written */
			(void)unlink(rf);
			mls_info("job '%s': did not start", id);
			rc = 0;
			goto out;
		}
	} else {
		/* its own session, default signals, nothing blocked */
		c.argv = argv;
		c.env = env;
		c.flags = MLS_CHILD_SETSID | MLS_CHILD_RESET_SIGNALS;
		if ((rc = mls_child_start(&c)) < 0) {
			(void)mls_error_prefix("start the job wrapper");
			goto fail;
		}
		pid = c.pid;	/* reaped with the others: no finish */
	}
	rc = job_started(sc, id, q, cpus, gpus, mode, pid, run);
	goto out;
fail:
	(void)write_result_if_none(store, id, "failed", mls_error_last(),
	    NULL);
	(void)unlink(rf);
out:
	job_env_free(env);
	json_decref(run);
	free(qf);
	free(rf);
	mls_buf_release(&cvd);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Stop a command the scheduler started: SIGTERM now, SIGKILL later. */
static void
stop_spawned(struct ent *e, const char *stop, const char *why)
{
	if (e->stop != NULL)
		return;
	e->stop = stop;
	snprintf(e->why, sizeof(e->why), "%s", why);
	mls_info("job '%s': stopping: %s", e->id, why);
	if (kill(-e->pid, SIGTERM) == -1)
		(void)kill(e->pid, SIGTERM);
	e->killat = mls_time_now() + e->grace;
}

/* Cancels of spawned commands (DATA/cancel/ID, from local_cancel). */
static void
take_cancels(struct mls_local_sched *sc)
{
	struct stat sb;
	struct dirent *de;
	char *path;
	size_t i;
	DIR *d;

	/* on a change, and every second (a change within one tick of the
	 * last look leaves the mtime as it was) */
	if (stat(sc->cdir, &sb) == -1 || (mls_time_now() - sc->cscan < 1.0 &&
	    sb.st_mtim.tv_sec == sc->cmtime.tv_sec &&
	    sb.st_mtim.tv_nsec == sc->cmtime.tv_nsec))
		return;
	sc->cmtime = sb.st_mtim;
	sc->cscan = mls_time_now();
	if ((d = opendir(sc->cdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-") != NULL)
			continue;
		for (i = 0; i < sc->nrun; i++)
			if (sc->run[i].mode == MODE_SPAWN &&
			    strcmp(sc->run[i].id, de->d_name) == 0)
				stop_spawned(&sc->run[i], "cancel", "stopped");
		if ((path = path2(sc->cdir, de->d_name, NULL)) != NULL)
			(void)unlink(path);
		free(path);
	}
	closedir(d);
}

/* Time limits and grace periods of the commands we started. */
static void
police(struct mls_local_sched *sc)
{
	double now = mls_time_now();
	char why[96];
	size_t i;

	for (i = 0; i < sc->nrun; i++) {
		struct ent *e = &sc->run[i];
		if (e->mode != MODE_SPAWN)
			continue;
		if (e->stop == NULL && e->deadline > 0 && now >= e->deadline) {
			snprintf(why, sizeof(why), "time limit of %.0fs "
			    "exceeded (TIMEOUT)", e->deadline -
			    mls_time_parse(e->started));
			stop_spawned(e, "time", why);
		}
		if (e->killat > 0 && now >= e->killat) {
			if (kill(-e->pid, SIGKILL) == -1)
				(void)kill(e->pid, SIGKILL);
			e->killat = -1;
		}
	}
}

/* Sorted names (without ".json") of the queue's entries; -1 on error. */
static int
list_queue(struct mls_local_sched *sc, char ***out, size_t *n)
{
	struct dirent *de;
	char **v = NULL;
	size_t len, cap = 0, k = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((d = opendir(sc->qdir)) == NULL) {
		if (errno == ENOENT)	/* the data dir was removed: empty */
			return 0;
		return mls_error_set_errno(MLS_EIO, "open '%s'", sc->qdir);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (MLS_GROW(v, cap, k + 1) < 0)
			goto nomem;
		if ((v[k] = strndup(de->d_name, len - 5)) == NULL)
			goto nomem;
		k++;
	}
	closedir(d);
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_str);
	*out = v;
	*n = k;
	return 0;
nomem:
	closedir(d);
	while (k > 0)
		free(v[--k]);
	free(v);
	return mls_error_set(MLS_ENOMEM, "out of memory");
}

static void
free_names(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* 1 if the queue has no entry (stops at the first one). */
static int
queue_empty(struct mls_local_sched *sc)
{
	struct dirent *de;
	size_t len;
	DIR *d;
	int empty = 1;

	if ((d = opendir(sc->qdir)) == NULL)
		return errno == ENOENT;
	while (empty && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] != '.' && len > 5 &&
		    strcmp(de->d_name + len - 5, ".json") == 0)
			empty = 0;
	}
	closedir(d);
	return empty;
}

/* Start every queued job that fits, oldest first (FIFO with backfill). */
static int
schedule(struct mls_local_sched *sc)
{
	struct stat sb;
	char **names = NULL, *qf, reason[160];
	size_t n = 0, i;
	json_t *q;
	uint64_t pick;
	int cpus, gpus, g, k, rc;
	double now = mls_time_now();

	if (stat(sc->qdir, &sb) == 0 &&
	    (sb.st_mtim.tv_sec != sc->qmtime.tv_sec ||
	    sb.st_mtim.tv_nsec != sc->qmtime.tv_nsec)) {
		sc->qmtime = sb.st_mtim;
		sc->dirty = 1;
	}
	if (now - sc->last_scan >= 1.0)
		sc->dirty = 1;
	if (!sc->dirty || sc->free_cpus <= 0)
		return 0;
	sc->dirty = 0;
	sc->last_scan = now;
	if ((rc = list_queue(sc, &names, &n)) < 0)
		return rc;
	for (i = 0; i < n && sc->free_cpus > 0; i++) {
		if ((qf = job_file(sc->ls->data, "queue", names[i])) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		rc = load_json(qf, &q);
		if (rc < 0) {
			if (rc != MLS_ENOTFOUND)	/* not cancelled: broken */
				mls_warn("%s", mls_error_last());
			free(qf);
			continue;
		}
		cpus = (int)mls_record_int(q, "cpus", 1);
		gpus = (int)mls_record_int(q, "gpus", 0);
		if (cpus < 1)
			cpus = 1;
		if (gpus < 0)
			gpus = 0;
		if (cpus > sc->ls->cpus || gpus > sc->ngpus ||
		    mls_record_str(q, "store") == NULL) {
			if (mls_record_str(q, "store") == NULL)
				snprintf(reason, sizeof(reason), "queue entry "
				    "without a store");
			else
				snprintf(reason, sizeof(reason), "job needs %d "
				    "CPUs and %d GPUs; site '%s' has %d and %d",
				    cpus, gpus, sc->ls->site, sc->ls->cpus,
				    sc->ngpus);
			if (mls_record_str(q, "store") != NULL)
				(void)write_result_if_none(mls_record_str(q,
				    "store"), names[i], "failed", reason, NULL);
			mls_warn("job '%s': %s", names[i], reason);
			(void)unlink(qf);
		} else if (cpus <= sc->free_cpus &&
		    gpus <= sc->ngpus - popcount64(sc->gpus_used)) {
			pick = 0;
			for (g = 0, k = 0; g < sc->ngpus && k < gpus; g++) {
				if (sc->gpus_used & ((uint64_t)1 << g))
					continue;
				pick |= (uint64_t)1 << g;
				k++;
			}
			if ((rc = start_job(sc, names[i], q, cpus, pick)) < 0)
				mls_warn("job '%s': %s", names[i],
				    mls_error_last());
		}
		json_decref(q);
		free(qf);
		if (sc->task.kind != TASK_NONE) {
			sc->dirty = 1;	/* the rest after the fork */
			break;
		}
	}
	rc = 0;
out:
	free_names(names, n);
	return rc;
}

struct find_pid {
	pid_t	 pid;
	json_t	*entry;
};

static int
match_pid(const char *id, json_t *j, void *arg)
{
	struct find_pid *f = arg;
	const char *mode = mls_record_str(j, "mode");

	(void)id;
	if (j == NULL || mls_record_int(j, "pid", 0) != (long long)f->pid ||
	    mode == NULL ||
	    strcmp(mode, "spawn") != 0)
		return 0;
	f->entry = json_incref(j);
	return 1;
}

/* The running entry of the spawned command pid, or NULL. */
static json_t *
entry_of_pid(const char *data, pid_t pid)
{
	struct find_pid f = { pid, NULL };

	if (each_running(data, match_pid, &f) < 0)
		mls_error_clear();
	return f.entry;
}

/*
 * The guardian is the runner's first process, left behind as the parent
 * of the scheduler and a child subreaper (mls-runner forks it).  The
 * commands the scheduler starts itself are its children; if it dies
 * (kill -9), they become the guardian's, which waits for each and calls
 * this: it finishes the job (result.json, outputs) and removes its
 * running entry, as the scheduler would have.
 */
int
mls_local_orphan_end(const char *data, pid_t pid, int status)
{
	char *rf, why[96], msg[512];
	const char *stop;
	long long limit;
	json_t *e;
	int rc;

	if ((e = entry_of_pid(data, pid)) == NULL)
		return 0;
	mls_info("job '%s': ended while no scheduler watched it",
	    mls_record_id(e));
	(void)kill(-pid, SIGKILL);	/* what is left of its group */
	/* a scheduler adopting it may have stopped it at its limit */
	limit = mls_record_int(e, "time_s", 0);
	if (limit > 0 && mls_record_str(e, "started") != NULL &&
	    mls_time_now() >= mls_time_parse(mls_record_str(e, "started")) +
	    (double)limit && status != 0) {
		snprintf(why, sizeof(why), "time limit of %llds exceeded "
		    "(TIMEOUT)", limit);
		stop = "time";
	} else
		stop = NULL;
	if ((rc = mls_local_exec_end(e, status, stop, stop ? why : NULL,
	    0)) < 0) {
		snprintf(msg, sizeof(msg), "%s", mls_error_last());
		rc = mls_error_set(rc, "job '%s': %s", mls_record_id(e), msg);
	}
	if ((rf = job_file(data, "running", mls_record_id(e))) != NULL)
		(void)unlink(rf);
	free(rf);
	json_decref(e);
	return rc < 0 ? rc : 0;
}

int
mls_local_sched_open(struct mls_local_sched **out,
    const struct mls_local_conf *ls)
{
	struct mls_local_sched *sc = NULL;
	char pidline[32], *tok, *save;
	const char *lv = getenv("MLS_RUNNER_LINGER");
	int rc;

	*out = NULL;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	sc->lockfd = -1;
	sc->ls = ls;
	sc->linger = LINGER_S;
	if (lv != NULL && *lv != '\0' &&
	    (sc->linger = mls_duration_parse(lv)) < 0)
		sc->linger = LINGER_S;
	if (ls->guardian > 1) {
		sc->guardian = ls->guardian;
		sc->guardian_start = proc_starttime(ls->guardian);
	}
	sc->free_cpus = ls->cpus > 0 ? ls->cpus : 1;
	sc->qdir = path2(ls->data, "queue", NULL);
	sc->rdir = path2(ls->data, "running", NULL);
	sc->cdir = path2(ls->data, "cancel", NULL);
	sc->lock = path2(ls->data, "sched.lock", NULL);
	sc->pidfile = path2(ls->data, "runner.pid", NULL);
	sc->ids = strdup(ls->gpus != NULL ? ls->gpus : "");
	if (sc->qdir == NULL || sc->rdir == NULL || sc->cdir == NULL ||
	    sc->lock == NULL || sc->pidfile == NULL || sc->ids == NULL ||
	    (sc->gpu_id = calloc(MAX_GPUS, sizeof(char *))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (tok = strtok_r(sc->ids, ",", &save); tok != NULL && sc->ngpus <
	    MAX_GPUS; tok = strtok_r(NULL, ",", &save))
		if ((sc->gpu_id[sc->ngpus++] = strdup(tok)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	if ((rc = mls_mkdirs(sc->qdir, 0700)) < 0 ||
	    (rc = mls_mkdirs(sc->rdir, 0700)) < 0 ||
	    (rc = mls_mkdirs(sc->cdir, 0700)) < 0)
		goto out;
	if ((sc->lockfd = open(sc->lock, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "open '%s'", sc->lock);
		goto out;
	}
	if (flock(sc->lockfd, LOCK_EX | LOCK_NB) == -1) {
		mls_info("site '%s': another scheduler is running", ls->site);
		rc = 0;
		goto out;
	}
	if ((rc = mls_jobwrap_install(ls->data, &sc->wrapper)) < 0)
		goto out;
	/* for people and scripts: who holds the lock (a plain pid file) */
	snprintf(pidline, sizeof(pidline), "%ld\n", (long)getpid());
	if (mls_write_atomic(sc->pidfile, pidline, strlen(pidline), 0) < 0)
		mls_warn("%s", mls_error_last());
	mls_local_exec_pool_reap();
	mls_info("site '%s': scheduler started (pid %ld, cpus %d, gpus %d)",
	    ls->site, (long)getpid(), ls->cpus, sc->ngpus);
	if ((rc = adopt(sc)) < 0)
		goto out;
	*out = sc;
	sc = NULL;
	rc = 0;
out:
	mls_local_sched_close(sc);
	return rc;
}

void
mls_local_sched_kick(struct mls_local_sched *sc)
{
	sc->dirty = 1;
}

int
mls_local_sched_step(struct mls_local_sched *sc)
{
	for (;;) {
		if (sc->task.kind != TASK_NONE)
			return MLS_LOCAL_FORK;	/* not forked yet */
		reap(sc);
		if (sc->task.kind != TASK_NONE)
			return MLS_LOCAL_FORK;
		take_cancels(sc);
		police(sc);
		if (schedule(sc) < 0)
			mls_warn("%s", mls_error_last());
		if (sc->task.kind != TASK_NONE)
			return MLS_LOCAL_FORK;
		empty_trash(sc);
		if (sc->nrun == 0 && queue_empty(sc) && sc->idle_since == 0)
			sc->idle_since = mls_time_now();
		else if (sc->nrun > 0)
			sc->idle_since = 0;
		/*
		 * Idle for the linger time: leave.  Lingering spares a
		 * campaign of short trials a new runner (exec, set-up)
		 * between two trials.
		 */
		if (sc->nrun == 0 && sc->idle_since > 0 && mls_time_now() -
		    sc->idle_since >= sc->linger && queue_empty(sc)) {
			(void)flock(sc->lockfd, LOCK_UN);
			if (queue_empty(sc))
				break;
			if (flock(sc->lockfd, LOCK_EX | LOCK_NB) == -1)
				break;	/* a new scheduler took over */
			sc->dirty = 1;
			sc->idle_since = 0;
			continue;
		}
		return MLS_LOCAL_WAIT;
	}
	return MLS_LOCAL_DONE;
}

/* The ended command of the job the task is for: its entry, or NULL. */
static struct ent *
task_ent(struct mls_local_sched *sc, size_t *at)
{
	size_t i;

	for (i = 0; i < sc->nrun; i++)
		if (strcmp(sc->run[i].id, sc->task.id) == 0) {
			*at = i;
			return &sc->run[i];
		}
	return NULL;
}

int
mls_local_sched_child(struct mls_local_sched *sc)
{
	struct ent *e;
	size_t i;

	if (sc->lockfd >= 0)
		close(sc->lockfd);
	sc->lockfd = -1;
	switch (sc->task.kind) {
	case TASK_JOB:
		(void)setsid();		/* the job's group: kill(-pid) */
		return mls_local_exec_run(sc->ls->data, sc->task.q,
		    sc->task.env);
	case TASK_END:
		if ((e = task_ent(sc, &i)) == NULL)
			return 70;
		return mls_local_exec_end(e->run, sc->task.status, e->stop,
		    e->stop != NULL ? e->why : NULL, 0) < 0 ? 75 : 0;
	case TASK_NONE:
		break;
	}
	return 70;
}

void
mls_local_sched_forked(struct mls_local_sched *sc, pid_t pid)
{
	struct task *t = &sc->task;
	struct ent *e;
	char *rf;
	size_t i;

	switch (t->kind) {
	case TASK_JOB:
		if (pid == -1) {
			(void)mls_error_set_errno(MLS_ERR, "fork the job "
			    "executor");
			mls_warn("job '%s': %s", t->id, mls_error_last());
			(void)write_result_if_none(mls_record_str(t->q,
			    "store"), t->id, "failed", mls_error_last(), NULL);
			if ((rf = job_file(sc->ls->data, "running", t->id)) !=
			    NULL)
				(void)unlink(rf);
			free(rf);
		} else if (job_started(sc, t->id, t->q, t->cpus, t->gpus,
		    MODE_FORK, pid, NULL) < 0)
			mls_warn("job '%s': %s", t->id, mls_error_last());
		break;
	case TASK_END:
		if ((e = task_ent(sc, &i)) == NULL)
			break;
		if (pid == -1) {	/* then here */
			end_spawned(sc, i, t->status, 1);
			break;
		}
		e->pid = pid;
		e->starttime = proc_starttime(pid);
		break;
	case TASK_NONE:
		break;
	}
	task_release(t);
}

void
mls_local_sched_close(struct mls_local_sched *sc)
{
	int i;

	if (sc == NULL)
		return;
	if (sc->lockfd >= 0)
		close(sc->lockfd);
	for (i = 0; sc->gpu_id != NULL && i < sc->ngpus; i++)
		free(sc->gpu_id[i]);
	free(sc->gpu_id);
	while (sc->nrun > 0)
		ent_free(&sc->run[--sc->nrun]);
	free(sc->run);
	empty_trash(sc);
	mls_local_exec_pool_drain();
	task_release(&sc->task);
	free(sc->trash);
	free(sc->qdir);
	free(sc->rdir);
	free(sc->cdir);
	free(sc->wrapper);
	free(sc->pidfile);
	free(sc->lock);
	free(sc->ids);
	free(sc);
}
