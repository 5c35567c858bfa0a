/*
 * mls_site_slurm.c - the slurm site driver (see mls_site_slurm.h): what
 * its two transports share (see mls_site_slurm_int.h).
 *
 * Submission: jobs with the same resources go out as one job array per
 * MaxArraySize, whose batch script holds the wrapper and the ids.  Poll:
 * one listing (squeue or GET /jobs) per cycle for every job of the site;
 * the generic layer has already applied result.json, so what Slurm says
 * only matters for jobs that never wrote one.  The controller being away
 * is retried for "retry" seconds (default 60) before MLS_ENET.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_jobwrap.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_site_slurm.h"
#include "mls_site_slurm_int.h"
#include "mls_store.h"

extern char **environ;

/* The transports, by "mode" (the first is the default). */
static const struct mls_slurm_transport *const transports[] = {
	&mls_slurm_cli,
	&mls_slurm_rest,
};

/* ---- small helpers ------------------------------------------------------- */

static void
nap(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
mls_slurm_rtrim(struct mls_buf *b)
{
	while (b->len > 0 && (b->buf[b->len - 1] == '\n' ||
	    b->buf[b->len - 1] == '\r' || b->buf[b->len - 1] == ' '))
		b->buf[--b->len] = '\0';
}

void
mls_slurm_last_line(const char *text, struct mls_buf *out)
{
	const char *p, *e, *best = NULL, *bend = NULL;
	static const char *const pre[] = { "sbatch: error: ",
	    "squeue: error: ", "scancel: error: ", "sacct: error: ",
	    "scontrol: error: ", "error: " };
	size_t i;

	for (p = text; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p) {
			best = p;
			bend = e;
		}
	}
	mls_buf_reset(out);
	if (best == NULL)
		return;
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if ((size_t)(bend - best) > strlen(pre[i]) &&
		    strncmp(best, pre[i], strlen(pre[i])) == 0) {
			best += strlen(pre[i]);
			break;
		}
	mls_buf_add(out, best, (size_t)(bend - best));
	mls_slurm_rtrim(out);
}

int
mls_slurm_classify(const char *msg, long http)
{
	static const char *const net[] = { "Unable to contact slurm controller",
	    "connect failure", "Connection refused", "Socket timed out",
	    "Communication connection failure", "Connection timed out",
	    "Slurm backup controller in standby mode", "Couldn't connect",
	    "Could not resolve", "Timeout was reached" };
	static const char *const auth[] = { "Authentication failure",
	    "Protocol authentication error", "Invalid authentication",
	    "Access/permission denied", "Invalid user id" };
	/* the site's settings (partition, account, ...) or Slurm's own */
	static const char *const config[] = { "Invalid partition",
	    "Invalid account", "Invalid qos", "reservation is invalid",
	    "Invalid wckey", "Invalid cluster", "Could not establish a "
	    "configuration source", "slurm.conf", "unable to read" };
	size_t i;

	if (http == 401 || http == 403)
		return MLS_EAUTH;
	for (i = 0; i < sizeof(net) / sizeof(net[0]); i++)
		if (strstr(msg, net[i]) != NULL)
			return MLS_ENET;
	for (i = 0; i < sizeof(auth) / sizeof(auth[0]); i++)
		if (strstr(msg, auth[i]) != NULL)
			return MLS_EAUTH;
	for (i = 0; i < sizeof(config) / sizeof(config[0]); i++)
		if (strstr(msg, config[i]) != NULL)
			return MLS_ECONFIG;
	/*
	 * slurmctld drops the connection of a request whose JWT it cannot
	 * decode: slurmrestd then answers 500 with these.
	 */
	if (http >= 500 && (strstr(msg, "Zero Bytes were transmitted") != NULL ||
	    strstr(msg, "Unspecified error") != NULL))
		return MLS_EAUTH;
	if (http >= 502)
		return MLS_ENET;
	return MLS_EINPUT;
}

int
mls_slurm_may_retry(const struct mls_site *s, int code, double t0,
    double wait)
{
	const struct mls_slurm *sl = s->priv;

	return code == MLS_ENET && mls_time_now() - t0 + wait <= sl->retry_s;
}

void
mls_slurm_backoff(double *wait)
{
	nap(*wait);
	*wait = *wait * 2 > 10 ? 10 : *wait * 2;
}

long
mls_slurm_minutes(double time_s, int grace_s)
{
	/*
	 * The wrapper enforces time_s itself (to the second, and it still
	 * pushes the outputs); Slurm's limit leaves it the grace period
	 * and half a minute more, so Slurm's TIMEOUT is the backstop.
	 */
	return (long)ceil((time_s + grace_s + 30.0) / 60.0);
}

/* ---- running Slurm's programs -------------------------------------------- */

/* Our environment without an empty SLURM_JWT (it breaks munge auth). */
static char **
child_env(void)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(environ[i], "SLURM_JWT=") != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

int
mls_slurm_run_prog(char *const argv[], struct mls_buf *out,
    struct mls_buf *err, int *status)
{
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, rc, e, open_n;
	struct pollfd pfd[2];
	char buf[8192], **env = NULL;
	pid_t pid = -1;
	ssize_t r;

	mls_buf_reset(out);
	mls_buf_reset(err);
	*status = -1;
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
		rc = mls_error_set_errno(MLS_ERR, "pipe");
		goto out;
	}
	if ((env = child_env()) == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		errno = e;
		pid = -1;
		/* no sbatch here: Slurm's client is missing, not a bug */
		rc = e == ENOENT ? mls_error_set(MLS_EUNAVAIL, "'%s': not found "
		    "in PATH (Slurm's client programs are needed)", argv[0]) :
		    mls_error_set_errno(MLS_ERR, "run '%s'", argv[0]);
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	open_n = 2;
	while (open_n > 0) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_ERR, "poll");
			goto out;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pfd[i].fd);
				if (i == 0)
					po[0] = -1;
				else
					pe[0] = -1;
				pfd[i].fd = -1;
				open_n--;
				continue;
			}
			if ((i == 0 ? out : err)->len + (size_t)r <
			    MLS_SLURM_OUT_MAX)
				mls_buf_add(i == 0 ? out : err, buf, (size_t)r);
		}
	}
	if ((rc = mls_buf_error(out)) < 0 || (rc = mls_buf_error(err)) < 0)
		goto out;
	rc = 0;
out:
	if (pid > 0)
		while (waitpid(pid, status, 0) == -1 && errno == EINTR)
			;
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	free(env);
	return rc;
}

/* ---- the parsers' pieces ------------------------------------------------- */

int
mls_slurm_add_entry(json_t *map, const char *name, const char *state,
    const char *reason, long long job, long long task)
{
	char key[64];
	json_t *e;

	if (task >= 0)
		snprintf(key, sizeof(key), "%lld_%lld", job, task);
	else
		snprintf(key, sizeof(key), "%lld", job);
	e = json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", name, "state", state,
	    "reason", reason != NULL ? reason : "", "job", (json_int_t)job,
	    "task", (json_int_t)task);
	if (e == NULL || json_object_set_new(map, key, e) == -1)
		return mls_slurm_oom();
	return 0;
}

int
mls_slurm_parse_ll(const char *s, const char *end, long long *out)
{
	long long v = 0;

	if (s >= end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || v > (1LL << 50))
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int
mls_slurm_parse_key(const char *s, const char *end, long long *job,
    long long *task)
{
	const char *u = memchr(s, '_', (size_t)(end - s));

	*task = -1;
	if (u == NULL)
		return mls_slurm_parse_ll(s, end, job);
	if (mls_slurm_parse_ll(s, u, job) < 0 ||
	    mls_slurm_parse_ll(u + 1, end, task) < 0)
		return -1;
	return 0;
}

int
mls_slurm_split4(const char *p, const char *e, const char **b1,
    const char **b2, const char **b3)
{
	const char *x, *y;

	*b1 = memchr(p, '|', (size_t)(e - p));
	for (y = e - 1; y > p && *y != '|'; y--)
		;
	for (x = y - 1; x > p && *x != '|'; x--)
		;
	*b2 = x;
	*b3 = y;
	return *b1 == NULL || x <= *b1 || y <= x ? -1 : 0;
}

int
mls_slurm_apply(json_t *job, const json_t *entry, const char *site)
{
	static const struct {
		const char	*slurm;
		enum mls_state	 state;
		const char	*why;		/* NULL: not final */
	} map[] = {
		{ "PENDING", MLS_STATE_QUEUED, NULL },
		{ "CONFIGURING", MLS_STATE_QUEUED, NULL },
		{ "REQUEUED", MLS_STATE_QUEUED, NULL },
		{ "REQUEUE_HOLD", MLS_STATE_QUEUED, NULL },
		{ "REQUEUE_FED", MLS_STATE_QUEUED, NULL },
		{ "RESV_DEL_HOLD", MLS_STATE_QUEUED, NULL },
		{ "RUNNING", MLS_STATE_RUNNING, NULL },
		{ "COMPLETING", MLS_STATE_RUNNING, NULL },
		{ "SIGNALING", MLS_STATE_RUNNING, NULL },
		{ "STAGE_OUT", MLS_STATE_RUNNING, NULL },
		{ "RESIZING", MLS_STATE_RUNNING, NULL },
		{ "SUSPENDED", MLS_STATE_RUNNING, NULL },
		{ "STOPPED", MLS_STATE_RUNNING, NULL },
		{ "COMPLETED", MLS_STATE_LOST,
		    "ended without a result from the job wrapper" },
		{ "FAILED", MLS_STATE_FAILED,
		    "the job wrapper failed before it reported" },
		{ "TIMEOUT", MLS_STATE_FAILED, "time limit reached" },
		{ "OUT_OF_MEMORY", MLS_STATE_FAILED, "out of memory" },
		{ "DEADLINE", MLS_STATE_FAILED, "deadline reached" },
		{ "CANCELLED", MLS_STATE_CANCELLED, "cancelled in Slurm" },
		{ "NODE_FAIL", MLS_STATE_LOST, "its node failed" },
		{ "BOOT_FAIL", MLS_STATE_LOST, "its node failed to boot" },
		{ "PREEMPTED", MLS_STATE_LOST, "preempted" },
		{ "REVOKED", MLS_STATE_LOST, "revoked (federation)" },
		{ "SPECIAL_EXIT", MLS_STATE_FAILED, "special exit" },
	};
	const char *st = entry != NULL ? mls_record_str(entry, "state") : NULL;
	const char *sr = entry != NULL ? mls_record_str(entry, "reason") : NULL;
	const char *sid = mls_record_str(job, "site_id");
	json_t *reason;
	size_t i;

	if (st == NULL) {
		json_object_set_new(job, "state", json_string("lost"));
		reason = json_pack("s+++++", "Slurm on site '", site,
		    "' does not know job ", sid != NULL ? sid : "?",
		    " (purged after MinJobAge, or never submitted)", "");
		goto set;
	}
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].slurm, st) == 0)
			break;
	if (i == sizeof(map) / sizeof(map[0])) {
		/* a state newer than this code: leave the job as it was */
		mls_debug("site '%s': job %s: unknown Slurm state '%s'", site,
		    sid != NULL ? sid : "?", st);
		if (mls_record_str(job, "state") == NULL)
			json_object_set_new(job, "state", json_string("queued"));
		return 0;
	}
	json_object_set_new(job, "state",
	    json_string(mls_state_name(map[i].state)));
	if (map[i].why == NULL)
		return 0;
	if (sr != NULL && *sr != '\0' && strcmp(sr, "None") != 0)
		reason = json_pack("s+++++", st, ": ", map[i].why, " (", sr,
		    ")");
	else
		reason = json_pack("s++", st, ": ", map[i].why);
set:
	if (reason == NULL)
		return mls_slurm_oom();
	json_object_set_new(job, "reason", reason);
	return 0;
}

/* ---- the batch script and the request ------------------------------------ */

int
mls_slurm_script(const char *const *ids, size_t n, const char *store_url,
    const char *workdir, const char *token_file, const char *ca_file,
    struct mls_buf *out)
{
	size_t i;

	if (n == 0)
		return mls_error_set(MLS_EINPUT, "slurm: no job to submit");
	for (i = 0; i < n; i++)
		if (ids[i] == NULL || ids[i][0] == '\0' ||
		    strchr(ids[i], '/') != NULL || ids[i][0] == '.')
			return mls_error_set(MLS_EINPUT, "slurm: '%s': not a "
			    "job id", ids[i] != NULL ? ids[i] : "");
	mls_buf_adds(out, "#!/bin/sh\n"
	    "# mls: task K of this Slurm job runs the K-th mls job below\n"
	    "set --");
	for (i = 0; i < n; i++) {
		mls_buf_addc(out, ' ');
		mls_buf_add_shquoted(out, ids[i]);
	}
	mls_buf_adds(out, "\ni=${SLURM_ARRAY_TASK_ID:-0}\n"
	    "if [ \"$i\" -ge $# ]; then\n"
	    "\techo \"mls: array task $i: no such job\" >&2\n\texit 64\nfi\n"
	    "shift \"$i\"\nid=$1\n");
	if (workdir != NULL) {
		mls_buf_adds(out, "MLS_SCRATCH=");
		mls_buf_add_shquoted(out, workdir);
		mls_buf_adds(out, "\nexport MLS_SCRATCH\n");
	}
	if (token_file != NULL) {
		mls_buf_adds(out, "MLS_STORE_TOKEN_FILE=");
		mls_buf_add_shquoted(out, token_file);
		mls_buf_adds(out, "\nexport MLS_STORE_TOKEN_FILE\n");
	}
	if (ca_file != NULL) {
		mls_buf_adds(out, "MLS_STORE_CA_FILE=");
		mls_buf_add_shquoted(out, ca_file);
		mls_buf_adds(out, "\nexport MLS_STORE_CA_FILE\n");
	}
	mls_buf_adds(out, "w=${TMPDIR:-/tmp}/mls-jobwrap-"
	    "${SLURM_JOB_ID:-$$}-$$.sh\n"
	    "(umask 077 && cat >\"$w\") <<'MLS_JOBWRAP_EOF'\n");
	mls_buf_adds(out, mls_jobwrap_sh);
	mls_buf_adds(out, "MLS_JOBWRAP_EOF\n"
	    "[ -s \"$w\" ] || { echo \"mls: cannot write '$w'\" >&2; "
	    "exit 73; }\nsh \"$w\" ");
	mls_buf_add_shquoted(out, store_url);
	mls_buf_adds(out, " \"$id\"\nrc=$?\nrm -f \"$w\"\nexit $rc\n");
	return mls_buf_error(out);
}

static int
res_int(const json_t *job, const char *key, long long def, long long *out)
{
	const json_t *v = json_object_get(json_object_get(job, "resources"),
	    key);

	*out = def;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0) {
		*out = (long long)ceil(json_real_value(v));
		return 0;
	}
	return mls_error_set(MLS_EINPUT, "resources: field '%s': expected a "
	    "non-negative number", key);
}

static int
conf_grace(const json_t *conf)
{
	const char *g = mls_record_str(conf, "grace");
	double d = g != NULL ? mls_duration_parse(g) : 10;

	return d < 0 ? 10 : (int)d;
}

/* The --array value, or "" for a single job. */
static void
array_spec(char buf[64], size_t n, long throttle)
{
	buf[0] = '\0';
	if (n <= 1)
		return;
	if (throttle > 0 && (size_t)throttle < n)
		snprintf(buf, 64, "0-%zu%%%ld", n - 1, throttle);
	else
		snprintf(buf, 64, "0-%zu", n - 1);
}

int
mls_slurm_req(const json_t *conf, const json_t *job, size_t n, long throttle,
    struct mls_slurm_req *out)
{
	const char *wd = mls_record_str(conf, "workdir");
	long long cpus, gpus, mem, time_s;
	int rc;

	if ((rc = res_int(job, "cpus", 1, &cpus)) < 0 ||
	    (rc = res_int(job, "gpus", 0, &gpus)) < 0 ||
	    (rc = res_int(job, "mem_mb", -1, &mem)) < 0 ||
	    (rc = res_int(job, "time_s", -1, &time_s)) < 0)
		return rc;
	out->cpus = cpus > 0 ? cpus : 1;
	out->gpus = gpus;
	out->mem_mb = mem < 0 ? -1 : mem > 0 ? mem : 1;
	out->minutes = time_s < 0 ? -1 : mls_slurm_minutes((double)time_s,
	    conf_grace(conf));
	array_spec(out->array, n, throttle);
	out->cwd = wd != NULL ? wd : "/tmp";
	return 0;
}

void
mls_slurm_log_path(const json_t *conf, size_t n, struct mls_buf *b)
{
	const char *wd = mls_record_str(conf, "workdir");

	if (wd != NULL)
		mls_buf_addf(b, "%s/slurm-%%x-%s.out", wd, n > 1 ? "%A_%a" :
		    "%j");
	else
		mls_buf_adds(b, "/dev/null");
}

/* ---- the index of submissions (DATA/submitted.jsonl) --------------------- */

static char *
index_path(const struct mls_slurm *sl)
{
	struct mls_buf p = MLS_BUF_INIT;

	mls_buf_addf(&p, "%s/submitted.jsonl", sl->data);
	return mls_buf_detach(&p);
}

static int
index_add(json_t *index, const char *name, const json_t *ids)
{
	size_t i, n = json_array_size(ids);
	const char *id;

	for (i = 0; i < n; i++) {
		if ((id = json_string_value(json_array_get(ids, i))) == NULL)
			continue;
		if (json_object_set_new(index, id, json_pack("[s,I]", name,
		    (json_int_t)(n > 1 ? (long long)i : -1))) == -1)
			return mls_slurm_oom();
	}
	return 0;
}

static int
index_load(struct mls_slurm *sl)
{
	struct mls_buf data = MLS_BUF_INIT;
	char *path = index_path(sl), buf[65536];
	const char *p, *e, *end;
	json_t *line;
	ssize_t r;
	int fd = -1, rc = 0;

	if ((sl->index = json_object()) == NULL || path == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			rc = mls_error_set_errno(MLS_EIO, "open '%s'", path);
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "read '%s'", path);
			goto out;
		}
		mls_buf_add(&data, buf, (size_t)r);
	}
	if ((rc = mls_buf_error(&data)) < 0)
		goto out;
	end = data.buf + data.len;
	for (p = data.buf; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* a torn last line: not sent */
		line = json_loadb(p, (size_t)(e - p), 0, NULL);
		if (mls_record_str(line, "name") != NULL)
			rc = index_add(sl->index, mls_record_str(line, "name"),
			    json_object_get(line, "ids"));
		json_decref(line);
		if (rc < 0)
			goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	mls_buf_release(&data);
	return rc;
}

/* Record that name is about to be submitted with ids (fsync'ed first). */
static int
index_append(struct mls_slurm *sl, const char *name, const json_t *ids)
{
	json_t *line = json_pack("{s:s,s:O}", "name", name, "ids", ids);
	char *path = index_path(sl), *s = NULL;
	size_t len, off = 0;
	ssize_t w;
	int fd = -1, rc;

	if (line == NULL || path == NULL ||
	    (s = json_dumps(line, MLS_JSON_COMPACT)) == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	len = strlen(s);
	s[len++] = '\n';	/* json_dumps' NUL becomes the newline */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		rc = mls_error_set_errno(MLS_EIO, "open '%s'", path);
		goto out;
	}
	while (off < len) {
		if ((w = write(fd, s + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			rc = mls_error_set_errno(MLS_EIO, "write '%s'", path);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		rc = mls_error_set_errno(MLS_EIO, "fsync '%s'", path);
		goto out;
	}
	rc = index_add(sl->index, name, ids);
out:
	if (fd >= 0)
		close(fd);
	free(s);
	free(path);
	json_decref(line);
	return rc;
}

json_t *
mls_slurm_names_of(const json_t *list)
{
	json_t *names = json_object(), *e;
	const char *k;
	char num[32];

	if (names == NULL)
		return NULL;
	json_object_foreach((json_t *)list, k, e) {
		snprintf(num, sizeof(num), "%lld", mls_record_int(e, "job", 0));
		json_object_set_new(names, mls_record_str(e, "name"),
		    json_string(num));
	}
	return names;
}


/* ---- the driver ---------------------------------------------------------- */

static void
slurm_close(struct mls_site *s)
{
	struct mls_slurm *sl = s->priv;

	if (sl == NULL)
		return;
	if (sl->tp != NULL)
		sl->tp->close(s);
	free(sl->data);
	json_decref(sl->index);
	free(sl);
	s->priv = NULL;
}

static int
conf_long(struct mls_site *s, const char *key, long def, long *out)
{
	const char *v = mls_record_str(s->conf, key);
	char *end;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0)
		return mls_error_set(MLS_ECONFIG, "site '%s': %s '%s': "
		    "expected a non-negative integer", s->name, key, v);
	*out = n;
	return 0;
}

static int
slurm_open(struct mls_site *s)
{
	const struct mls_slurm_transport *tp = NULL;
	struct mls_slurm *sl;
	struct mls_buf sub = MLS_BUF_INIT;
	const char *mode = mls_record_str(s->conf, "mode"), *v;
	double d;
	size_t i;
	int rc;

	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return mls_slurm_oom();
	s->priv = sl;
	sl->retry_s = 60;
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (mode == NULL ? i == 0 : strcmp(mode, transports[i]->mode) ==
		    0)
			tp = transports[i];
	if (tp == NULL) {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': mode '%s': expected "
		    "cli or rest", s->name, mode);
		goto out;
	}
	if ((v = mls_record_str(s->conf, "retry")) != NULL) {
		if ((d = mls_duration_parse(v)) < 0) {
			rc = mls_error_set(MLS_ECONFIG, "site '%s': retry '%s': "
			    "not a duration", s->name, v);
			goto out;
		}
		sl->retry_s = d;
	}
	if ((rc = conf_long(s, "throttle", 0, &sl->throttle)) < 0 ||
	    (rc = conf_long(s, "max_array", 0, &sl->max_array)) < 0)
		goto out;
	sl->workdir = mls_record_str(s->conf, "workdir");
	if (sl->workdir != NULL && sl->workdir[0] != '/') {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': workdir '%s': "
		    "expected an absolute path", s->name, sl->workdir);
		goto out;
	}
	sl->tp = tp;
	if ((rc = tp->open(s)) < 0)
		goto out;
	mls_buf_addf(&sub, "slurm-%s", s->name);
	if ((rc = mls_buf_error(&sub)) < 0 ||
	    (rc = mls_config_data_dir(s->cfg, sub.buf, &sl->data)) < 0 ||
	    (rc = index_load(sl)) < 0)
		goto out;
	rc = 0;
out:
	mls_buf_release(&sub);
	if (rc < 0)
		slurm_close(s);
	return rc;
}

/* The largest array index: the setting, the transport's, or 1000; once. */
static long
max_array(struct mls_site *s)
{
	struct mls_slurm *sl = s->priv;

	if (sl->max_array > 0)
		return sl->max_array;
	if (sl->tp->max_array != NULL)
		sl->max_array = sl->tp->max_array(s);
	if (sl->max_array <= 0)
		sl->max_array = 1000;
	mls_error_clear();
	return sl->max_array;
}

/* Send one array: jobs[0..n) share their resources.  Sets site_id. */
static int
send_chunk(struct mls_site *s, json_t **jobs, size_t n)
{
	struct mls_slurm *sl = s->priv;
	struct mls_buf script = MLS_BUF_INIT, name = MLS_BUF_INIT;
	const char **ids = NULL;
	json_t *idl = NULL;
	char sid[64];
	long long aid = -1;
	size_t i;
	int rc;

	ids = calloc(n, sizeof(*ids));
	idl = json_array();
	if (ids == NULL || idl == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	for (i = 0; i < n; i++) {
		ids[i] = mls_record_id(jobs[i]);
		if (json_array_append_new(idl, json_string(ids[i])) == -1) {
			rc = mls_slurm_oom();
			goto out;
		}
	}
	mls_buf_addf(&name, "mls-%s", ids[0]);
	if ((rc = mls_buf_error(&name)) < 0 ||
	    (rc = mls_slurm_script(ids, n, mls_store_url(s->store),
	    sl->workdir, s->cfg->store_token_file, s->cfg->store_ca_file,
	    &script)) < 0)
		goto out;
	if (sl->workdir != NULL && (rc = mls_mkdirs(sl->workdir, 0755)) < 0)
		goto out;
	/* the idempotency key is on disk before anything is sent */
	if ((rc = index_append(sl, name.buf, idl)) < 0)
		goto out;
	if ((rc = sl->tp->submit(s, jobs[0], name.buf, n, script.buf,
	    &aid)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (n > 1)
			snprintf(sid, sizeof(sid), "%lld_%zu", aid, i);
		else
			snprintf(sid, sizeof(sid), "%lld", aid);
		json_object_set_new(jobs[i], "site_id", json_string(sid));
		json_object_set_new(jobs[i], "state", json_string("queued"));
	}
	mls_debug("site '%s': %s: Slurm job %lld, %zu task%s", s->name,
	    name.buf, aid, n, n == 1 ? "" : "s");
	rc = 0;
out:
	free(ids);
	json_decref(idl);
	mls_buf_release(&script);
	mls_buf_release(&name);
	return rc;
}

/* Adopt jobs this site has sent before; 1 if job was adopted. */
static int
adopt(struct mls_site *s, json_t *job, json_t **list, json_t **names)
{
	struct mls_slurm *sl = s->priv;
	json_t *ent = json_object_get(sl->index, mls_record_id(job));
	const char *name, *a;
	long long task;
	char sid[64];
	int rc;

	if (ent == NULL)
		return 0;
	if (*list == NULL) {
		if ((rc = sl->tp->list(s, list)) < 0)
			return rc;
		if ((*names = mls_slurm_names_of(*list)) == NULL)
			return mls_slurm_oom();
	}
	name = json_string_value(json_array_get(ent, 0));
	task = json_integer_value(json_array_get(ent, 1));
	if (name == NULL || (a = mls_record_str(*names, name)) == NULL)
		return 0;	/* recorded, never got through: send it */
	if (task >= 0)
		snprintf(sid, sizeof(sid), "%s_%lld", a, task);
	else
		snprintf(sid, sizeof(sid), "%s", a);
	json_object_set_new(job, "site_id", json_string(sid));
	if ((rc = mls_slurm_apply(job, json_object_get(*list, sid),
	    s->name)) < 0)
		return rc;
	mls_debug("site '%s': job '%s' adopted (Slurm job %s)", s->name,
	    mls_record_id(job), sid);
	return 1;
}

static int
same_resources(const json_t *a, const json_t *b)
{
	return json_equal(json_object_get(a, "resources"),
	    json_object_get(b, "resources"));
}

static int
slurm_submit(struct mls_site *s, json_t **jobs, size_t n)
{
	json_t **todo = NULL, *list = NULL, *names = NULL;
	size_t i, nt = 0, start, end;
	long chunk;
	int rc = 0;

	if ((todo = calloc(n, sizeof(*todo))) == NULL)
		return mls_slurm_oom();
	for (i = 0; i < n; i++) {
		if ((rc = adopt(s, jobs[i], &list, &names)) < 0)
			goto out;
		if (rc == 0)
			todo[nt++] = jobs[i];
	}
	chunk = nt > 1 ? max_array(s) : 1;
	for (start = 0; start < nt; start = end) {
		for (end = start + 1; end < nt && (long)(end - start) < chunk &&
		    same_resources(todo[start], todo[end]); end++)
			;
		if ((rc = send_chunk(s, todo + start, end - start)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(todo);
	json_decref(list);
	json_decref(names);
	return rc;
}

static int
slurm_poll(struct mls_site *s, json_t **jobs, size_t n)
{
	struct mls_slurm *sl = s->priv;
	json_t *list = NULL;
	const char *sid;
	size_t i;
	int rc;

	if ((rc = sl->tp->list(s, &list)) < 0)
		goto out;
	if (sl->tp->history != NULL &&
	    (rc = sl->tp->history(s, jobs, n, list)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		sid = mls_record_str(jobs[i], "site_id");
		if ((rc = mls_slurm_apply(jobs[i], sid != NULL ?
		    json_object_get(list, sid) : NULL, s->name)) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(list);
	return rc;
}

static int
slurm_cancel(struct mls_site *s, json_t *job)
{
	struct mls_slurm *sl = s->priv;
	const char *sid = mls_record_str(job, "site_id");
	const char *p;
	int rc;

	if (sid == NULL || *sid == '\0')
		return mls_error_set(MLS_EINPUT, "job '%s': no Slurm job id",
		    mls_record_id(job) ? mls_record_id(job) : "?");
	for (p = sid; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '_')
			return mls_error_set(MLS_EINPUT, "job '%s': site_id "
			    "'%s': not a Slurm job id", mls_record_id(job), sid);
	rc = sl->tp->cancel(s, sid);
	/* a job that has just ended, or was purged: nothing to cancel */
	if (rc < 0 && rc != MLS_ENET && rc != MLS_EAUTH &&
	    (strstr(mls_error_last(), "already completing or completed") ||
	    strstr(mls_error_last(), "Invalid job id"))) {
		mls_error_clear();
		rc = 0;
	}
	return rc;
}

/* Its keys in [site "NAME"], documented in mls(7). */
static const char *const slurm_keys[] = {
	"mode", "url", "user", "token_file", "token_cmd", "partition",
	"account", "qos", "extra", "workdir", "throttle", "max_array", "retry",
	NULL
};

const struct mls_site_ops mls_site_slurm_ops = {
	.type = "slurm",
	.keys = slurm_keys,
	.open = slurm_open,
	.submit = slurm_submit,
	.poll = slurm_poll,
	.cancel = slurm_cancel,
	.close = slurm_close,
};
