/*
 * mls_site_slurm.c - the slurm site driver (see mls_site_slurm.h).
 *
 * Submission: jobs with the same resources go out as one job array per
 * MaxArraySize, whose batch script holds the wrapper and the ids.  Poll:
 * one squeue (or one GET /jobs) per cycle for every job of the site; the
 * generic layer has already applied result.json, so what Slurm says only
 * matters for jobs that never wrote one.  The controller being away is
 * retried for "retry" seconds (default 60) before MLS_ENET.
 *
 * The JWT never leaves this process except in the X-SLURM-USER-TOKEN
 * header: not in argv, not in messages, not in records.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_jobwrap.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_site_slurm.h"
#include "mls_store.h"

extern char **environ;

#define OUT_MAX		(256u << 20)	/* squeue/REST output we accept */
#define TOKEN_MAX	65536
#define API		"/slurm/v0.0.38"

struct slurm {
	int			 rest;
	char			*url;		/* rest: base URL, no trailing / */
	char			*user;
	char			*token;		/* rest: the JWT */
	char			*data;		/* DATA_HOME/slurm-NAME */
	const char		*workdir;	/* borrowed from conf */
	long			 throttle;
	long			 max_array;	/* 0: ask Slurm */
	double			 retry_s;
	int			 no_sacct;
	json_t			*index;		/* id -> [name, task] */
	CURL			*curl;
	struct curl_slist	*hdr;
};

/* ---- small helpers ------------------------------------------------------ */

static int
oom(void)
{
	return mls_error_set(MLS_ENOMEM, "out of memory");
}

static void
nap(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Trim trailing blanks and newlines in place. */
static void
rtrim(struct mls_buf *b)
{
	while (b->len > 0 && (b->buf[b->len - 1] == '\n' ||
	    b->buf[b->len - 1] == '\r' || b->buf[b->len - 1] == ' '))
		b->buf[--b->len] = '\0';
}

/* The last non-empty line of text, without "sbatch: error: " prefixes. */
static void
last_line(const char *text, struct mls_buf *out)
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
	rtrim(out);
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
	size_t i;

	if (http == 401 || http == 403)
		return MLS_EAUTH;
	for (i = 0; i < sizeof(net) / sizeof(net[0]); i++)
		if (strstr(msg, net[i]) != NULL)
			return MLS_ENET;
	for (i = 0; i < sizeof(auth) / sizeof(auth[0]); i++)
		if (strstr(msg, auth[i]) != NULL)
			return MLS_EAUTH;
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

/* ---- running sbatch, squeue, scancel, sacct ------------------------------ */

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

/*
 * Run argv (PATH search), stdin from /dev/null; its stdout and stderr in
 * out and err, its wait status in *status.  MLS_ERR if it cannot start.
 */
static int
run_prog(char *const argv[], struct mls_buf *out, struct mls_buf *err,
    int *status)
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
		rc = oom();
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
		rc = mls_error_set_errno(MLS_ERR, "run '%s'", argv[0]);
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
			if ((i == 0 ? out : err)->len + (size_t)r < OUT_MAX)
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

/*
 * Run a Slurm command; retry while the controller is unreachable.  On
 * failure the error is Slurm's own last line, prefixed with the site.
 */
static int
run_slurm(struct mls_site *s, char *const argv[], struct mls_buf *out)
{
	struct slurm *sl = s->priv;
	struct mls_buf err = MLS_BUF_INIT, msg = MLS_BUF_INIT;
	double t0 = mls_time_now(), wait = 0.5;
	int rc, st, code;

	for (;;) {
		if ((rc = run_prog(argv, out, &err, &st)) < 0)
			goto out;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			rc = 0;
			goto out;
		}
		last_line(err.buf, &msg);
		if (msg.len == 0)
			mls_buf_addf(&msg, "exit status %d", WIFEXITED(st) ?
			    WEXITSTATUS(st) : 128 + WTERMSIG(st));
		code = mls_slurm_classify(msg.buf, 0);
		if (code != MLS_ENET || mls_time_now() - t0 + wait >
		    sl->retry_s) {
			rc = mls_error_set(code, "site '%s': %s: %s%s", s->name,
			    argv[0], msg.buf, code == MLS_ENET ?
			    " (gave up retrying)" : "");
			goto out;
		}
		mls_debug("site '%s': %s: %s; retrying in %.1fs", s->name,
		    argv[0], msg.buf, wait);
		nap(wait);
		wait = wait * 2 > 10 ? 10 : wait * 2;
	}
out:
	mls_buf_release(&err);
	mls_buf_release(&msg);
	return rc;
}

/* ---- REST ----------------------------------------------------------------- */

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct mls_buf *b = arg;

	if (b->len + sz * n > OUT_MAX)
		return 0;
	mls_buf_add(b, p, sz * n);
	return b->err ? 0 : sz * n;
}

/* The message in a slurmrestd error body ("errors": [...]) or its text. */
static void
rest_message(const struct mls_buf *body, struct mls_buf *msg)
{
	json_t *j = json_loadb(body->buf, body->len, 0, NULL), *e;
	const char *err, *desc;

	mls_buf_reset(msg);
	e = json_array_get(json_object_get(j, "errors"), 0);
	if (e != NULL) {
		err = mls_record_str(e, "error");
		desc = mls_record_str(e, "description");
		if (desc != NULL && *desc != '\0' && err != NULL &&
		    strstr(desc, err) == NULL)
			mls_buf_addf(msg, "%s (%s)", err, desc);
		else if (desc != NULL && *desc != '\0')
			mls_buf_adds(msg, desc);
		else if (err != NULL)
			mls_buf_adds(msg, err);
	}
	if (msg->len == 0 && j == NULL) {
		mls_buf_add(msg, body->buf, body->len > 200 ? 200 : body->len);
		rtrim(msg);
	}
	json_decref(j);
}

/* 1 if body is JSON with a non-empty "errors" list. */
static int
rest_has_errors(const struct mls_buf *body)
{
	json_t *j = json_loadb(body->buf, body->len, 0, NULL);
	int r = json_array_size(json_object_get(j, "errors")) > 0;

	json_decref(j);
	return r;
}

/*
 * method path [body]: the response body in resp.  HTTP 200 is success
 * (a body with "errors" too, when ok_errors: a held job has both);
 * anything else is Slurm's message, classified.  Connection failures
 * and an unreachable controller are retried for "retry" seconds.
 */
static int
rest_call(struct mls_site *s, const char *method, const char *path,
    const char *body, struct mls_buf *resp, int ok_errors)
{
	struct slurm *sl = s->priv;
	struct mls_buf url = MLS_BUF_INIT, msg = MLS_BUF_INIT;
	double t0 = mls_time_now(), wait = 0.5;
	char ebuf[CURL_ERROR_SIZE];
	long http = 0;
	CURLcode cc;
	int rc, code;

	mls_buf_addf(&url, "%s%s", sl->url, path);
	if ((rc = mls_buf_error(&url)) < 0)
		goto out;
	for (;;) {
		mls_buf_reset(resp);
		ebuf[0] = '\0';
		curl_easy_setopt(sl->curl, CURLOPT_URL, url.buf);
		curl_easy_setopt(sl->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(sl->curl, CURLOPT_HTTPHEADER, sl->hdr);
		curl_easy_setopt(sl->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(sl->curl, CURLOPT_WRITEDATA, resp);
		curl_easy_setopt(sl->curl, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(sl->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(sl->curl, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(sl->curl, CURLOPT_TIMEOUT, 120L);
		if (body != NULL) {
			curl_easy_setopt(sl->curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(sl->curl, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(body));
		} else {
			curl_easy_setopt(sl->curl, CURLOPT_HTTPGET, 1L);
			curl_easy_setopt(sl->curl, CURLOPT_CUSTOMREQUEST, method);
		}
		cc = curl_easy_perform(sl->curl);
		http = 0;
		curl_easy_getinfo(sl->curl, CURLINFO_RESPONSE_CODE, &http);
		mls_buf_reset(&msg);
		if (cc != CURLE_OK) {
			mls_buf_adds(&msg, ebuf[0] ? ebuf :
			    curl_easy_strerror(cc));
			code = MLS_ENET;
		} else if (http == 200 && (ok_errors ||
		    !rest_has_errors(resp))) {
			rc = mls_buf_error(resp);
			goto out;
		} else {
			rest_message(resp, &msg);
			if (msg.len == 0)
				mls_buf_addf(&msg, "HTTP %ld", http);
			code = mls_slurm_classify(msg.buf, http);
		}
		if (code != MLS_ENET || mls_time_now() - t0 + wait >
		    sl->retry_s) {
			rc = mls_error_set(code, "site '%s': slurmrestd: %s%s%s",
			    s->name, code == MLS_EAUTH ? "token rejected: " : "",
			    msg.buf, code == MLS_ENET ? " (gave up retrying)" :
			    "");
			goto out;
		}
		mls_debug("site '%s': slurmrestd %s %s: %s; retrying", s->name,
		    method, path, msg.buf);
		nap(wait);
		wait = wait * 2 > 10 ? 10 : wait * 2;
	}
out:
	mls_buf_release(&url);
	mls_buf_release(&msg);
	return rc;
}

/* ---- parsing -------------------------------------------------------------- */

static int
add_entry(json_t *map, const char *name, const char *state,
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
		return oom();
	return 0;
}

static int
parse_ll(const char *s, const char *end, long long *out)
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

/* "A_K" or "J" into job and task (-1). */
static int
parse_key(const char *s, const char *end, long long *job, long long *task)
{
	const char *u = memchr(s, '_', (size_t)(end - s));

	*task = -1;
	if (u == NULL)
		return parse_ll(s, end, job);
	if (parse_ll(s, u, job) < 0 || parse_ll(u + 1, end, task) < 0)
		return -1;
	return 0;
}

/*
 * Split the line [p, e) of four '|'-separated fields whose second (the job
 * name) may itself hold '|': the first bar, and the last two.  0 or -1.
 */
static int
split_fields4(const char *p, const char *e, const char **b1, const char **b2,
    const char **b3)
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
mls_slurm_parse_squeue(const char *text, size_t len, int mls_only,
    json_t **out)
{
	struct mls_buf name = MLS_BUF_INIT, state = MLS_BUF_INIT,
	    reason = MLS_BUF_INIT;
	const char *p, *e, *end = text + len, *b1, *b2, *b3;
	long long job, task;
	json_t *map;
	long line = 0;
	int rc = 0;

	*out = NULL;
	if ((map = json_object()) == NULL)
		return oom();
	for (p = text; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		line++;
		if (e == p)
			continue;
		/* ID|NAME|STATE|REASON; the name may hold '|' itself */
		if (split_fields4(p, e, &b1, &b2, &b3) < 0 ||
		    parse_key(p, b1, &job, &task) < 0) {
			rc = mls_error_set(MLS_EPROTO, "squeue: line %ld: "
			    "expected ID|NAME|STATE|REASON, got '%.*s'", line,
			    (int)(e - p > 80 ? 80 : e - p), p);
			goto out;
		}
		mls_buf_reset(&name);
		mls_buf_reset(&state);
		mls_buf_reset(&reason);
		mls_buf_add(&name, b1 + 1, (size_t)(b2 - b1 - 1));
		mls_buf_add(&state, b2 + 1, (size_t)(b3 - b2 - 1));
		mls_buf_add(&reason, b3 + 1, (size_t)(e - b3 - 1));
		rtrim(&reason);
		if ((rc = mls_buf_error(&name)) < 0 ||
		    (rc = mls_buf_error(&state)) < 0 ||
		    (rc = mls_buf_error(&reason)) < 0)
			goto out;
		if (mls_only && strncmp(name.buf, "mls-", 4) != 0)
			continue;
		if ((rc = add_entry(map, name.buf, state.buf, reason.buf, job,
		    task)) < 0)
			goto out;
	}
	*out = map;
	map = NULL;
out:
	json_decref(map);
	mls_buf_release(&name);
	mls_buf_release(&state);
	mls_buf_release(&reason);
	return rc;
}

int
mls_slurm_parse_sacct(const char *text, size_t len, int mls_only,
    json_t **out)
{
	struct mls_buf name = MLS_BUF_INIT, state = MLS_BUF_INIT,
	    code = MLS_BUF_INIT;
	const char *p, *e, *end = text + len, *b1, *b2, *b3, *sp;
	long long job, task;
	json_t *map;
	long line = 0;
	int rc = 0;

	*out = NULL;
	if ((map = json_object()) == NULL)
		return oom();
	for (p = text; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		line++;
		if (e == p)
			continue;
		/* JobID|JobName|State|ExitCode; the name may hold '|' */
		if (split_fields4(p, e, &b1, &b2, &b3) < 0) {
			rc = mls_error_set(MLS_EPROTO, "sacct: line %ld: "
			    "expected JobID|JobName|State|ExitCode, got '%.*s'",
			    line, (int)(e - p > 80 ? 80 : e - p), p);
			goto out;
		}
		/* steps (123.batch) and folded pending arrays (4_[1-9]) */
		if (parse_key(p, b1, &job, &task) < 0)
			continue;
		mls_buf_reset(&name);
		mls_buf_reset(&state);
		mls_buf_reset(&code);
		mls_buf_add(&name, b1 + 1, (size_t)(b2 - b1 - 1));
		/* "CANCELLED by 0" */
		sp = memchr(b2 + 1, ' ', (size_t)(b3 - b2 - 1));
		mls_buf_add(&state, b2 + 1, (size_t)((sp ? sp : b3) - b2 - 1));
		mls_buf_adds(&code, "exit code ");
		mls_buf_add(&code, b3 + 1, (size_t)(e - b3 - 1));
		rtrim(&code);
		if ((rc = mls_buf_error(&name)) < 0 ||
		    (rc = mls_buf_error(&state)) < 0 ||
		    (rc = mls_buf_error(&code)) < 0)
			goto out;
		if (mls_only && strncmp(name.buf, "mls-", 4) != 0)
			continue;
		if ((rc = add_entry(map, name.buf, state.buf, code.buf, job,
		    task)) < 0)
			goto out;
	}
	*out = map;
	map = NULL;
out:
	json_decref(map);
	mls_buf_release(&name);
	mls_buf_release(&state);
	mls_buf_release(&code);
	return rc;
}

/* Add one entry per task of an array_task_string like "2-9:2%4,11". */
static int
add_range(json_t *map, const char *spec, const char *name, const char *state,
    const char *reason, long long job)
{
	const char *p = spec, *e, *end, *dash, *colon;
	long long a, b, step;
	int rc;

	end = strchr(spec, '%');
	if (end == NULL)
		end = spec + strlen(spec);
	while (p < end) {
		if ((e = memchr(p, ',', (size_t)(end - p))) == NULL)
			e = end;
		colon = memchr(p, ':', (size_t)(e - p));
		dash = memchr(p, '-', (size_t)((colon ? colon : e) - p));
		step = 1;
		if (colon != NULL && (parse_ll(colon + 1, e, &step) < 0 ||
		    step < 1))
			goto bad;
		if (parse_ll(p, dash ? dash : colon ? colon : e, &a) < 0)
			goto bad;
		b = a;
		if (dash != NULL && parse_ll(dash + 1, colon ? colon : e,
		    &b) < 0)
			goto bad;
		if (b < a || b - a > 10000000)
			goto bad;
		for (; a <= b; a += step)
			if ((rc = add_entry(map, name, state, reason, job,
			    a)) < 0)
				return rc;
		p = e + 1;
	}
	return 0;
bad:
	return mls_error_set(MLS_EPROTO, "slurmrestd: array_task_string '%s': "
	    "not a list of ranges", spec);
}

int
mls_slurm_parse_rest_jobs(const char *text, size_t len, int mls_only,
    json_t **out)
{
	json_error_t jerr;
	json_t *j, *jobs, *r, *map = NULL, *t;
	const char *name, *state, *reason, *ts;
	long long job, aj;
	size_t i;
	int rc = 0;

	*out = NULL;
	if ((j = json_loadb(text, len, 0, &jerr)) == NULL)
		return mls_error_set(MLS_EPROTO, "slurmrestd: jobs: line %d: "
		    "%s", jerr.line, jerr.text);
	jobs = json_object_get(j, "jobs");
	if (!json_is_array(jobs)) {
		rc = mls_error_set(MLS_EPROTO, "slurmrestd: jobs: field "
		    "'jobs': expected an array");
		goto out;
	}
	if ((map = json_object()) == NULL) {
		rc = oom();
		goto out;
	}
	json_array_foreach(jobs, i, r) {
		name = mls_record_str(r, "name");
		state = mls_record_str(r, "job_state");
		reason = mls_record_str(r, "state_reason");
		job = mls_record_int(r, "job_id", -1);
		aj = mls_record_int(r, "array_job_id", 0);
		if (name == NULL || state == NULL || job < 0) {
			rc = mls_error_set(MLS_EPROTO, "slurmrestd: jobs[%zu]: "
			    "expected job_id, name and job_state", i);
			goto out;
		}
		if (mls_only && strncmp(name, "mls-", 4) != 0)
			continue;
		t = json_object_get(r, "array_task_id");
		ts = mls_record_str(r, "array_task_string");
		if (aj > 0 && json_is_integer(t))
			rc = add_entry(map, name, state, reason, aj,
			    json_integer_value(t));
		else if (aj > 0 && ts != NULL && *ts != '\0')
			rc = add_range(map, ts, name, state, reason, aj);
		else
			rc = add_entry(map, name, state, reason, job, -1);
		if (rc < 0)
			goto out;
	}
	*out = map;
	map = NULL;
out:
	json_decref(map);
	json_decref(j);
	return rc;
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
		return oom();
	json_object_set_new(job, "reason", reason);
	return 0;
}

/* ---- the batch script and the submission options ------------------------- */

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

/* Where Slurm writes the batch script's own output. */
static void
log_path(const json_t *conf, size_t n, struct mls_buf *b)
{
	const char *wd = mls_record_str(conf, "workdir");

	if (wd != NULL)
		mls_buf_addf(b, "%s/slurm-%%x-%s.out", wd, n > 1 ? "%A_%a" :
		    "%j");
	else
		mls_buf_adds(b, "/dev/null");
}

static int
append_str(json_t *a, const char *s)
{
	return json_array_append_new(a, json_string(s)) == -1 ? oom() : 0;
}

int
mls_slurm_sbatch_args(const json_t *conf, const json_t *job,
    const char *name, size_t n, long throttle, json_t **out)
{
	static const char *const opt[] = { "partition", "account", "qos" };
	struct mls_buf b = MLS_BUF_INIT;
	long long cpus, gpus, mem, time_s;
	const char *v, *p, *e;
	json_t *a;
	char arr[64];
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = res_int(job, "cpus", 1, &cpus)) < 0 ||
	    (rc = res_int(job, "gpus", 0, &gpus)) < 0 ||
	    (rc = res_int(job, "mem_mb", -1, &mem)) < 0 ||
	    (rc = res_int(job, "time_s", -1, &time_s)) < 0)
		return rc;
	if ((a = json_array()) == NULL)
		return oom();
	mls_buf_addf(&b, "--job-name=%s", name);
	if ((rc = append_str(a, "--parsable")) < 0 ||
	    (rc = append_str(a, b.buf)) < 0)
		goto out;
	mls_buf_reset(&b);
	mls_buf_adds(&b, "--output=");
	log_path(conf, n, &b);
	if ((rc = append_str(a, b.buf)) < 0)
		goto out;
	mls_buf_reset(&b);
	v = mls_record_str(conf, "workdir");
	mls_buf_addf(&b, "--chdir=%s", v != NULL ? v : "/tmp");
	if ((rc = append_str(a, b.buf)) < 0)
		goto out;
	array_spec(arr, n, throttle);
	if (arr[0] != '\0') {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--array=%s", arr);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	mls_buf_reset(&b);
	mls_buf_addf(&b, "--cpus-per-task=%lld", cpus > 0 ? cpus : 1);
	if ((rc = append_str(a, b.buf)) < 0)
		goto out;
	if (gpus > 0) {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--gpus=%lld", gpus);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	if (mem >= 0) {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--mem=%lldM", mem > 0 ? mem : 1);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	if (time_s >= 0) {
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--time=%ld", mls_slurm_minutes((double)time_s,
		    conf_grace(conf)));
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		if ((v = mls_record_str(conf, opt[i])) == NULL || *v == '\0')
			continue;
		mls_buf_reset(&b);
		mls_buf_addf(&b, "--%s=%s", opt[i], v);
		if ((rc = append_str(a, b.buf)) < 0)
			goto out;
	}
	/* extra: more options, split at blanks (no shell, no quoting) */
	if ((v = mls_record_str(conf, "extra")) != NULL) {
		for (p = v; *p != '\0'; p = e) {
			while (*p == ' ' || *p == '\t')
				p++;
			for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
				;
			if (e == p)
				break;
			mls_buf_reset(&b);
			mls_buf_add(&b, p, (size_t)(e - p));
			if ((rc = mls_buf_error(&b)) < 0 ||
			    (rc = append_str(a, b.buf)) < 0)
				goto out;
		}
	}
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	json_decref(a);
	mls_buf_release(&b);
	return rc;
}

int
mls_slurm_rest_body(const json_t *conf, const json_t *job, const char *name,
    size_t n, long throttle, const char *script, json_t **out)
{
	static const char *const opt[] = { "partition", "account", "qos" };
	static const char *const pass[] = { "PATH", "HOME", "USER", "LANG",
	    "TZ" };
	struct mls_buf b = MLS_BUF_INIT;
	long long cpus, gpus, mem, time_s;
	json_t *body = NULL, *j, *env, *extra = NULL;
	const char *v;
	char arr[64], num[32];
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = res_int(job, "cpus", 1, &cpus)) < 0 ||
	    (rc = res_int(job, "gpus", 0, &gpus)) < 0 ||
	    (rc = res_int(job, "mem_mb", -1, &mem)) < 0 ||
	    (rc = res_int(job, "time_s", -1, &time_s)) < 0)
		return rc;
	if ((v = mls_record_str(conf, "extra")) != NULL) {
		extra = json_loads(v, 0, NULL);
		if (!json_is_object(extra)) {
			json_decref(extra);
			return mls_error_set(MLS_ECONFIG, "site '%s': extra: "
			    "with mode = rest, expected a JSON object of job "
			    "fields, e.g. {\"constraints\": \"a100\"}",
			    mls_record_str(conf, "name") ?
			    mls_record_str(conf, "name") : "?");
		}
	}
	/* the job's environment: a few of ours (slurmrestd has none) */
	env = json_object();
	for (i = 0; env != NULL && i < sizeof(pass) / sizeof(pass[0]); i++)
		if ((v = getenv(pass[i])) != NULL)
			json_object_set_new(env, pass[i], json_string(v));
	if (env != NULL && json_object_get(env, "PATH") == NULL)
		json_object_set_new(env, "PATH",
		    json_string("/usr/local/bin:/usr/bin:/bin"));
	log_path(conf, n, &b);
	v = mls_record_str(conf, "workdir");
	j = json_pack("{s:s,s:s,s:s,s:o,s:I}", "name", name,
	    "current_working_directory", v != NULL ? v : "/tmp",
	    "standard_output", b.buf, "environment", env,
	    "cpus_per_task", (json_int_t)(cpus > 0 ? cpus : 1));
	body = json_pack("{s:s,s:o}", "script", script, "job", j);
	if (mls_buf_error(&b) < 0 || j == NULL || body == NULL) {
		rc = oom();
		goto out;
	}
	array_spec(arr, n, throttle);
	if (arr[0] != '\0')
		json_object_set_new(j, "array", json_string(arr));
	if (gpus > 0) {
		snprintf(num, sizeof(num), "%lld", gpus);
		json_object_set_new(j, "gpus", json_string(num));
	}
	if (mem >= 0)
		json_object_set_new(j, "memory_per_node",
		    json_integer(mem > 0 ? mem : 1));
	if (time_s >= 0)
		json_object_set_new(j, "time_limit", json_integer(
		    mls_slurm_minutes((double)time_s, conf_grace(conf))));
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++)
		if ((v = mls_record_str(conf, opt[i])) != NULL && *v != '\0')
			json_object_set_new(j, opt[i], json_string(v));
	if (extra != NULL)
		json_object_update(j, extra);
	*out = body;
	body = NULL;
	rc = 0;
out:
	json_decref(body);
	json_decref(extra);
	mls_buf_release(&b);
	return rc;
}

/* ---- the index of submissions (DATA/submitted.jsonl) ---------------------- */

static char *
index_path(const struct slurm *sl)
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
			return oom();
	}
	return 0;
}

static int
index_load(struct slurm *sl)
{
	struct mls_buf data = MLS_BUF_INIT;
	char *path = index_path(sl), buf[65536];
	const char *p, *e, *end;
	json_t *line;
	ssize_t r;
	int fd = -1, rc = 0;

	if ((sl->index = json_object()) == NULL || path == NULL) {
		rc = oom();
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
index_append(struct slurm *sl, const char *name, const json_t *ids)
{
	json_t *line = json_pack("{s:s,s:O}", "name", name, "ids", ids);
	char *path = index_path(sl), *s = NULL;
	size_t len, off = 0;
	ssize_t w;
	int fd = -1, rc;

	if (line == NULL || path == NULL ||
	    (s = json_dumps(line, MLS_JSON_COMPACT)) == NULL) {
		rc = oom();
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

/* ---- Slurm's view of our jobs: one call ---------------------------------- */

static int
list_jobs(struct mls_site *s, json_t **out)
{
	struct slurm *sl = s->priv;
	struct mls_buf b = MLS_BUF_INIT;
	char *argv[] = { "squeue", "--me", "-h", "-t", "all", "-r", "-o",
	    "%i|%j|%T|%r", NULL };
	int rc;

	*out = NULL;
	if (sl->rest)
		rc = rest_call(s, "GET", API "/jobs", NULL, &b, 0);
	else
		rc = run_slurm(s, argv, &b);
	if (rc < 0)
		goto out;
	rc = sl->rest ? mls_slurm_parse_rest_jobs(b.buf, b.len, 1, out) :
	    mls_slurm_parse_squeue(b.buf, b.len, 1, out);
out:
	mls_buf_release(&b);
	return rc;
}

/* name -> "A" (the Slurm job id of that name) over a listing. */
static json_t *
names_of(const json_t *list)
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

/* For jobs Slurm no longer lists: sacct, when accounting is there. */
static int
sacct_missing(struct mls_site *s, json_t **jobs, size_t n, json_t *list)
{
	struct slurm *sl = s->priv;
	struct mls_buf ids = MLS_BUF_INIT, out = MLS_BUF_INIT,
	    err = MLS_BUF_INIT;
	char *argv[] = { "sacct", "-n", "-P", "-X", "-o",
	    "JobID,JobName,State,ExitCode", "-j", NULL, NULL };
	const char *sid;
	json_t *more = NULL;
	size_t i;
	int rc = 0, st;

	if (sl->rest || sl->no_sacct)
		return 0;
	for (i = 0; i < n; i++) {
		sid = mls_record_str(jobs[i], "site_id");
		if (sid != NULL && json_object_get(list, sid) == NULL)
			mls_buf_addf(&ids, "%s%s", ids.len ? "," : "", sid);
	}
	if (ids.len == 0 || (rc = mls_buf_error(&ids)) < 0)
		goto out;
	argv[7] = ids.buf;
	if ((rc = run_prog(argv, &out, &err, &st)) < 0) {
		sl->no_sacct = 1;	/* no sacct here */
		mls_error_clear();
		rc = 0;
		goto out;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* "Slurm accounting storage is disabled": do not ask again */
		if (strstr(err.buf, "disabled") != NULL)
			sl->no_sacct = 1;
		goto out;
	}
	if (mls_slurm_parse_sacct(out.buf, out.len, 1, &more) < 0) {
		mls_error_clear();
		goto out;
	}
	json_object_update(list, more);
out:
	json_decref(more);
	mls_buf_release(&ids);
	mls_buf_release(&out);
	mls_buf_release(&err);
	return rc;
}

/* ---- the driver ----------------------------------------------------------- */

static void
slurm_close(struct mls_site *s)
{
	struct slurm *sl = s->priv;

	if (sl == NULL)
		return;
	if (sl->curl != NULL)
		curl_easy_cleanup(sl->curl);
	curl_slist_free_all(sl->hdr);
	if (sl->token != NULL)
		explicit_bzero(sl->token, strlen(sl->token));
	free(sl->token);
	free(sl->url);
	free(sl->user);
	free(sl->data);
	json_decref(sl->index);
	free(sl);
	s->priv = NULL;
}

/* The JWT from token_file or the output of token_cmd (sh -c). */
static int
read_token(struct mls_site *s, struct slurm *sl)
{
	const char *tf = mls_record_str(s->conf, "token_file");
	const char *tc = mls_record_str(s->conf, "token_cmd");
	struct mls_buf tok = MLS_BUF_INIT, err = MLS_BUF_INIT;
	char *path = NULL, buf[4096], *p;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	ssize_t r;
	int fd = -1, rc = 0, st;

	if (tf != NULL) {
		if ((path = mls_config_expand(tf)) == NULL) {
			rc = oom();
			goto out;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = mls_error_set_errno(MLS_ECONFIG, "site '%s': "
			    "token_file '%s'", s->name, path);
			goto out;
		}
		while ((r = read(fd, buf, sizeof(buf))) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 || tok.len > TOKEN_MAX) {
				rc = mls_error_set(MLS_ECONFIG, "site '%s': "
				    "token_file '%s': cannot be read", s->name,
				    path);
				goto out;
			}
			mls_buf_add(&tok, buf, (size_t)r);
		}
		explicit_bzero(buf, sizeof(buf));
	} else if (tc != NULL) {
		argv[2] = (char *)tc;
		if ((rc = run_prog(argv, &tok, &err, &st)) < 0)
			goto out;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			last_line(err.buf, &err);
			rc = mls_error_set(MLS_EAUTH, "site '%s': token_cmd "
			    "failed: %s", s->name, err.len ? err.buf :
			    "no message");
			goto out;
		}
	} else {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': mode = rest needs "
		    "token_file or token_cmd", s->name);
		goto out;
	}
	if ((rc = mls_buf_error(&tok)) < 0)
		goto out;
	rtrim(&tok);
	/* "scontrol token" prints SLURM_JWT=...; take the value */
	p = tok.buf;
	if (strncmp(p, "SLURM_JWT=", 10) == 0)
		p += 10;
	if (*p == '\0' || strchr(p, '\n') != NULL || strchr(p, '\r') != NULL) {
		rc = mls_error_set(MLS_EAUTH, "site '%s': the token is empty "
		    "or spans several lines", s->name);
		goto out;
	}
	if ((sl->token = strdup(p)) == NULL)
		rc = oom();
out:
	if (fd >= 0)
		close(fd);
	if (tok.cap > 0)
		explicit_bzero(tok.buf, tok.cap);
	mls_buf_release(&tok);
	mls_buf_release(&err);
	free(path);
	return rc;
}

static int
open_rest(struct mls_site *s, struct slurm *sl)
{
	struct mls_buf h = MLS_BUF_INIT;
	const char *url = mls_record_str(s->conf, "url");
	const char *user = mls_record_str(s->conf, "user");
	struct passwd *pw;
	struct curl_slist *l;
	size_t len;
	int rc;

	if (url == NULL || *url == '\0')
		return mls_error_set(MLS_ECONFIG, "site '%s': mode = rest needs "
		    "url", s->name);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return mls_error_set(MLS_ECONFIG, "site '%s': url '%s': "
		    "expected http:// or https://", s->name, url);
	if (user == NULL)
		user = getenv("USER");
	if (user == NULL && (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if (user == NULL)
		return mls_error_set(MLS_ECONFIG, "site '%s': no user", s->name);
	if ((sl->url = strdup(url)) == NULL || (sl->user = strdup(user)) ==
	    NULL)
		return oom();
	len = strlen(sl->url);
	while (len > 0 && sl->url[len - 1] == '/')
		sl->url[--len] = '\0';
	if ((rc = read_token(s, sl)) < 0)
		return rc;
	if ((sl->curl = curl_easy_init()) == NULL)
		return oom();
	mls_buf_addf(&h, "X-SLURM-USER-NAME: %s", sl->user);
	if ((rc = mls_buf_error(&h)) < 0 ||
	    (l = curl_slist_append(NULL, h.buf)) == NULL)
		goto fail;
	sl->hdr = l;
	mls_buf_reset(&h);
	mls_buf_addf(&h, "X-SLURM-USER-TOKEN: %s", sl->token);
	if ((rc = mls_buf_error(&h)) < 0 ||
	    (l = curl_slist_append(sl->hdr, h.buf)) == NULL ||
	    (sl->hdr = l, l = curl_slist_append(sl->hdr,
	    "Content-Type: application/json")) == NULL)
		goto fail;
	sl->hdr = l;
	rc = 0;
	goto out;
fail:
	rc = rc < 0 ? rc : oom();
out:
	if (h.cap > 0)
		explicit_bzero(h.buf, h.cap);
	mls_buf_release(&h);
	return rc;
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
	struct slurm *sl;
	struct mls_buf sub = MLS_BUF_INIT;
	const char *mode = mls_record_str(s->conf, "mode"), *v;
	double d;
	int rc;

	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return oom();
	s->priv = sl;
	sl->retry_s = 60;
	if (mode == NULL || strcmp(mode, "cli") == 0)
		sl->rest = 0;
	else if (strcmp(mode, "rest") == 0)
		sl->rest = 1;
	else {
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
	if (sl->rest && (rc = open_rest(s, sl)) < 0)
		goto out;
	if (sl->rest && mls_record_str(s->conf, "extra") != NULL) {
		json_t *x = json_loads(mls_record_str(s->conf, "extra"), 0,
		    NULL);
		int ok = json_is_object(x);

		json_decref(x);
		if (!ok) {
			rc = mls_error_set(MLS_ECONFIG, "site '%s': extra: with "
			    "mode = rest, expected a JSON object of job fields",
			    s->name);
			goto out;
		}
	}
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

/* MaxArraySize - 1 (the largest index) from scontrol, once. */
static long
max_array(struct mls_site *s)
{
	struct slurm *sl = s->priv;
	struct mls_buf out = MLS_BUF_INIT, err = MLS_BUF_INIT;
	char *argv[] = { "scontrol", "show", "config", NULL };
	const char *p;
	int st;

	if (sl->max_array > 0)
		return sl->max_array;
	sl->max_array = 1000;
	if (!sl->rest && run_prog(argv, &out, &err, &st) == 0 &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    (p = strstr(out.buf, "MaxArraySize")) != NULL &&
	    (p = strchr(p, '=')) != NULL && atol(p + 1) > 1)
		sl->max_array = atol(p + 1) - 1;
	mls_error_clear();
	mls_buf_release(&out);
	mls_buf_release(&err);
	return sl->max_array;
}

/* Send one array: jobs[0..n) share their resources.  Sets site_id. */
static int
send_chunk(struct mls_site *s, json_t **jobs, size_t n)
{
	struct slurm *sl = s->priv;
	struct mls_buf script = MLS_BUF_INIT, name = MLS_BUF_INIT,
	    out = MLS_BUF_INIT, path = MLS_BUF_INIT;
	const char **ids = NULL;
	json_t *idl = NULL, *args = NULL, *body = NULL, *list = NULL, *rj;
	char **argv = NULL, *bs = NULL, sid[64];
	long long aid = -1;
	size_t i, na;
	int rc, fd = -1;

	ids = calloc(n, sizeof(*ids));
	idl = json_array();
	if (ids == NULL || idl == NULL) {
		rc = oom();
		goto out;
	}
	for (i = 0; i < n; i++) {
		ids[i] = mls_record_id(jobs[i]);
		if (json_array_append_new(idl, json_string(ids[i])) == -1) {
			rc = oom();
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
	if (sl->rest) {
		if ((rc = mls_slurm_rest_body(s->conf, jobs[0], name.buf, n,
		    sl->throttle, script.buf, &body)) < 0)
			goto out;
		if ((bs = json_dumps(body, MLS_JSON_COMPACT)) == NULL) {
			rc = oom();
			goto out;
		}
		if ((rc = rest_call(s, "POST", API "/job/submit", bs, &out,
		    1)) < 0)
			goto out;
		rj = json_loadb(out.buf, out.len, 0, NULL);
		aid = mls_record_int(rj, "job_id", -1);
		if (aid <= 0)
			rc = mls_error_set(MLS_EPROTO, "site '%s': slurmrestd: "
			    "submit: no job_id in the reply", s->name);
		json_decref(rj);
		if (rc < 0)
			goto out;
	} else {
		/* sbatch reads the script from a private temp file */
		mls_buf_addf(&path, "%s/batch-XXXXXX", sl->data);
		if ((rc = mls_buf_error(&path)) < 0)
			goto out;
		if ((fd = mkostemp(path.buf, O_CLOEXEC)) < 0) {
			rc = mls_error_set_errno(MLS_EIO, "create '%s'",
			    path.buf);
			goto out;
		}
		if (write(fd, script.buf, script.len) != (ssize_t)script.len ||
		    close(fd) == -1) {
			fd = -1;
			rc = mls_error_set_errno(MLS_EIO, "write '%s'",
			    path.buf);
			goto out;
		}
		fd = -1;
		if ((rc = mls_slurm_sbatch_args(s->conf, jobs[0], name.buf, n,
		    sl->throttle, &args)) < 0)
			goto out;
		na = json_array_size(args);
		if ((argv = calloc(na + 3, sizeof(*argv))) == NULL) {
			rc = oom();
			goto out;
		}
		argv[0] = "sbatch";
		for (i = 0; i < na; i++)
			argv[i + 1] = (char *)json_string_value(
			    json_array_get(args, i));
		argv[na + 1] = path.buf;
		rc = run_slurm(s, argv, &out);
		if (rc == MLS_ENET) {
			/*
			 * sbatch may have got through before the line broke:
			 * look for the name before giving up.
			 */
			char *em = strdup(mls_error_last());
			json_t *names;

			if (list_jobs(s, &list) == 0 &&
			    (names = names_of(list)) != NULL) {
				const char *a = mls_record_str(names, name.buf);
				if (a != NULL)
					aid = atoll(a);
				json_decref(names);
			}
			if (aid <= 0) {
				rc = mls_error_set(MLS_ENET, "%s", em ? em :
				    "site: controller unreachable");
				free(em);
				goto out;
			}
			free(em);
			rc = 0;
		} else if (rc < 0) {
			goto out;
		} else {
			aid = atoll(out.buf);	/* "123" or "123;cluster" */
			if (aid <= 0) {
				rtrim(&out);
				rc = mls_error_set(MLS_EPROTO, "site '%s': "
				    "sbatch: unexpected output '%s'", s->name,
				    out.buf);
				goto out;
			}
		}
	}
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
	if (fd >= 0)
		close(fd);
	if (path.len > 0)
		(void)unlink(path.buf);
	free(argv);
	free(bs);
	free(ids);
	json_decref(idl);
	json_decref(args);
	json_decref(body);
	json_decref(list);
	mls_buf_release(&script);
	mls_buf_release(&name);
	mls_buf_release(&out);
	mls_buf_release(&path);
	return rc;
}

/* Adopt jobs this site has sent before; 1 if job was adopted. */
static int
adopt(struct mls_site *s, json_t *job, json_t **list, json_t **names)
{
	struct slurm *sl = s->priv;
	json_t *ent = json_object_get(sl->index, mls_record_id(job));
	const char *name, *a;
	long long task;
	char sid[64];
	int rc;

	if (ent == NULL)
		return 0;
	if (*list == NULL) {
		if ((rc = list_jobs(s, list)) < 0)
			return rc;
		if ((*names = names_of(*list)) == NULL)
			return oom();
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
		return oom();
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
	json_t *list = NULL;
	const char *sid;
	size_t i;
	int rc;

	if ((rc = list_jobs(s, &list)) < 0)
		goto out;
	if ((rc = sacct_missing(s, jobs, n, list)) < 0)
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
	struct slurm *sl = s->priv;
	struct mls_buf b = MLS_BUF_INIT, path = MLS_BUF_INIT;
	const char *sid = mls_record_str(job, "site_id");
	char *argv[] = { "scancel", NULL, NULL };
	const char *p;
	int rc;

	if (sid == NULL || *sid == '\0')
		return mls_error_set(MLS_EINPUT, "job '%s': no Slurm job id",
		    mls_record_id(job) ? mls_record_id(job) : "?");
	for (p = sid; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '_')
			return mls_error_set(MLS_EINPUT, "job '%s': site_id "
			    "'%s': not a Slurm job id", mls_record_id(job), sid);
	if (sl->rest) {
		mls_buf_addf(&path, API "/job/%s", sid);
		if ((rc = mls_buf_error(&path)) < 0)
			goto out;
		rc = rest_call(s, "DELETE", path.buf, NULL, &b, 0);
	} else {
		argv[1] = (char *)sid;
		rc = run_slurm(s, argv, &b);
	}
	/* a job that has just ended, or was purged: nothing to cancel */
	if (rc < 0 && rc != MLS_ENET && rc != MLS_EAUTH &&
	    (strstr(mls_error_last(), "already completing or completed") ||
	    strstr(mls_error_last(), "Invalid job id"))) {
		mls_error_clear();
		rc = 0;
	}
out:
	mls_buf_release(&b);
	mls_buf_release(&path);
	return rc;
}

const struct mls_site_ops mls_site_slurm_ops = {
	.type = "slurm",
	.open = slurm_open,
	.submit = slurm_submit,
	.poll = slurm_poll,
	.cancel = slurm_cancel,
	.close = slurm_close,
};
