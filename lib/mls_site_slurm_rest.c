/*
 * mls_site_slurm_rest.c - the slurm site's rest transport (mode = rest):
 * slurmrestd's v0.0.38 API over libcurl, with a JWT from token_file or
 * token_cmd (see mls_site_slurm_int.h).
 *
 * The JWT never leaves this process except in the X-SLURM-USER-TOKEN
 * header: not in argv, not in messages, not in records.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_site_slurm.h"
#include "mls_site_slurm_int.h"

#define TOKEN_MAX	65536
#define API		"/slurm/v0.0.38"

struct rest {
	char			*url;		/* base URL, no trailing / */
	char			*user;
	char			*token;		/* the JWT */
	CURL			*curl;
	struct curl_slist	*hdr;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct mls_buf *b = arg;

	if (b->len + sz * n > MLS_SLURM_OUT_MAX)
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
		mls_slurm_rtrim(msg);
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
	struct mls_slurm *sl = s->priv;
	struct rest *r = sl->tp_priv;
	struct mls_buf url = MLS_BUF_INIT, msg = MLS_BUF_INIT;
	double t0 = mls_time_now(), wait = 0.5;
	char ebuf[CURL_ERROR_SIZE];
	long http = 0;
	CURLcode cc;
	int rc, code;

	mls_buf_addf(&url, "%s%s", r->url, path);
	if ((rc = mls_buf_error(&url)) < 0)
		goto out;
	for (;;) {
		mls_buf_reset(resp);
		ebuf[0] = '\0';
		curl_easy_setopt(r->curl, CURLOPT_URL, url.buf);
		curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->hdr);
		curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, resp);
		curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(r->curl, CURLOPT_TIMEOUT, 120L);
		if (body != NULL) {
			curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(body));
		} else {
			curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
			curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
		}
		cc = curl_easy_perform(r->curl);
		http = 0;
		curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &http);
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
		if (!mls_slurm_may_retry(s, code, t0, wait)) {
			rc = mls_error_set(code, "site '%s': slurmrestd: %s%s%s",
			    s->name, code == MLS_EAUTH ? "token rejected: " : "",
			    msg.buf, code == MLS_ENET ? " (gave up retrying)" :
			    "");
			goto out;
		}
		mls_debug("site '%s': slurmrestd %s %s: %s; retrying", s->name,
		    method, path, msg.buf);
		mls_slurm_backoff(&wait);
	}
out:
	mls_buf_release(&url);
	mls_buf_release(&msg);
	return rc;
}

/* ---- parsing ------------------------------------------------------------- */

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
		if (colon != NULL && (mls_slurm_parse_ll(colon + 1, e,
		    &step) < 0 || step < 1))
			goto bad;
		if (mls_slurm_parse_ll(p, dash ? dash : colon ? colon : e,
		    &a) < 0)
			goto bad;
		b = a;
		if (dash != NULL && mls_slurm_parse_ll(dash + 1,
		    colon ? colon : e, &b) < 0)
			goto bad;
		if (b < a || b - a > 10000000)
			goto bad;
		for (; a <= b; a += step)
			if ((rc = mls_slurm_add_entry(map, name, state, reason,
			    job, a)) < 0)
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
		rc = mls_slurm_oom();
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
			rc = mls_slurm_add_entry(map, name, state, reason, aj,
			    json_integer_value(t));
		else if (aj > 0 && ts != NULL && *ts != '\0')
			rc = add_range(map, ts, name, state, reason, aj);
		else
			rc = mls_slurm_add_entry(map, name, state, reason, job,
			    -1);
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

/* ---- the submit body ----------------------------------------------------- */

int
mls_slurm_rest_body(const json_t *conf, const json_t *job, const char *name,
    size_t n, long throttle, const char *script, json_t **out)
{
	static const char *const opt[] = { "partition", "account", "qos" };
	static const char *const pass[] = { "PATH", "HOME", "USER", "LANG",
	    "TZ" };
	struct mls_buf b = MLS_BUF_INIT;
	struct mls_slurm_req req;
	json_t *body = NULL, *j, *env, *extra = NULL;
	const char *v;
	char num[32];
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = mls_slurm_req(conf, job, n, throttle, &req)) < 0)
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
	mls_slurm_log_path(conf, n, &b);
	j = json_pack("{s:s,s:s,s:s,s:o,s:I}", "name", name,
	    "current_working_directory", req.cwd,
	    "standard_output", b.buf, "environment", env,
	    "cpus_per_task", (json_int_t)req.cpus);
	body = json_pack("{s:s,s:o}", "script", script, "job", j);
	if (mls_buf_error(&b) < 0 || j == NULL || body == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	if (req.array[0] != '\0')
		json_object_set_new(j, "array", json_string(req.array));
	if (req.gpus > 0) {
		snprintf(num, sizeof(num), "%lld", req.gpus);
		json_object_set_new(j, "gpus", json_string(num));
	}
	if (req.mem_mb >= 0)
		json_object_set_new(j, "memory_per_node",
		    json_integer(req.mem_mb));
	if (req.minutes >= 0)
		json_object_set_new(j, "time_limit",
		    json_integer(req.minutes));
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

/* ---- the transport ------------------------------------------------------- */

/* The JWT from token_file or the output of token_cmd (sh -c). */
static int
read_token(struct mls_site *s, struct rest *r)
{
	const char *tf = mls_record_str(s->conf, "token_file");
	const char *tc = mls_record_str(s->conf, "token_cmd");
	struct mls_buf tok = MLS_BUF_INIT, err = MLS_BUF_INIT;
	char *path = NULL, buf[4096], *p;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	ssize_t n;
	int fd = -1, rc = 0, st;

	if (tf != NULL) {
		if ((path = mls_config_expand(tf)) == NULL) {
			rc = mls_slurm_oom();
			goto out;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = mls_error_set_errno(MLS_ECONFIG, "site '%s': "
			    "token_file '%s'", s->name, path);
			goto out;
		}
		while ((n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || tok.len > TOKEN_MAX) {
				rc = mls_error_set(MLS_ECONFIG, "site '%s': "
				    "token_file '%s': cannot be read", s->name,
				    path);
				goto out;
			}
			mls_buf_add(&tok, buf, (size_t)n);
		}
		explicit_bzero(buf, sizeof(buf));
	} else if (tc != NULL) {
		argv[2] = (char *)tc;
		if ((rc = mls_slurm_run_prog(argv, &tok, &err, &st)) < 0)
			goto out;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			mls_slurm_last_line(err.buf, &err);
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
	mls_slurm_rtrim(&tok);
	/* "scontrol token" prints SLURM_JWT=...; take the value */
	p = tok.buf;
	if (strncmp(p, "SLURM_JWT=", 10) == 0)
		p += 10;
	if (*p == '\0' || strchr(p, '\n') != NULL || strchr(p, '\r') != NULL) {
		rc = mls_error_set(MLS_EAUTH, "site '%s': the token is empty "
		    "or spans several lines", s->name);
		goto out;
	}
	if ((r->token = strdup(p)) == NULL)
		rc = mls_slurm_oom();
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
rest_open(struct mls_site *s)
{
	struct mls_slurm *sl = s->priv;
	struct mls_buf h = MLS_BUF_INIT;
	const char *url = mls_record_str(s->conf, "url");
	const char *user = mls_record_str(s->conf, "user");
	struct passwd *pw;
	struct curl_slist *l;
	struct rest *r;
	json_t *x;
	size_t len;
	int rc, ok;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return mls_slurm_oom();
	sl->tp_priv = r;
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
	if ((r->url = strdup(url)) == NULL || (r->user = strdup(user)) == NULL)
		return mls_slurm_oom();
	len = strlen(r->url);
	while (len > 0 && r->url[len - 1] == '/')
		r->url[--len] = '\0';
	if ((rc = read_token(s, r)) < 0)
		return rc;
	if ((r->curl = curl_easy_init()) == NULL)
		return mls_slurm_oom();
	mls_buf_addf(&h, "X-SLURM-USER-NAME: %s", r->user);
	if ((rc = mls_buf_error(&h)) < 0 ||
	    (l = curl_slist_append(NULL, h.buf)) == NULL)
		goto fail;
	r->hdr = l;
	mls_buf_reset(&h);
	mls_buf_addf(&h, "X-SLURM-USER-TOKEN: %s", r->token);
	if ((rc = mls_buf_error(&h)) < 0 ||
	    (l = curl_slist_append(r->hdr, h.buf)) == NULL ||
	    (r->hdr = l, l = curl_slist_append(r->hdr,
	    "Content-Type: application/json")) == NULL)
		goto fail;
	r->hdr = l;
	/* extra is a JSON object of job fields here: say so at once */
	if (mls_record_str(s->conf, "extra") != NULL) {
		x = json_loads(mls_record_str(s->conf, "extra"), 0, NULL);
		ok = json_is_object(x);
		json_decref(x);
		if (!ok) {
			rc = mls_error_set(MLS_ECONFIG, "site '%s': extra: with "
			    "mode = rest, expected a JSON object of job fields",
			    s->name);
			goto out;
		}
	}
	rc = 0;
	goto out;
fail:
	rc = rc < 0 ? rc : mls_slurm_oom();
out:
	if (h.cap > 0)
		explicit_bzero(h.buf, h.cap);
	mls_buf_release(&h);
	return rc;
}

static void
rest_close(struct mls_site *s)
{
	struct mls_slurm *sl = s->priv;
	struct rest *r = sl->tp_priv;

	if (r == NULL)
		return;
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	curl_slist_free_all(r->hdr);
	if (r->token != NULL)
		explicit_bzero(r->token, strlen(r->token));
	free(r->token);
	free(r->url);
	free(r->user);
	free(r);
	sl->tp_priv = NULL;
}

static int
rest_list(struct mls_site *s, json_t **out)
{
	struct mls_buf b = MLS_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = rest_call(s, "GET", API "/jobs", NULL, &b, 0)) == 0)
		rc = mls_slurm_parse_rest_jobs(b.buf, b.len, 1, out);
	mls_buf_release(&b);
	return rc;
}

static int
rest_submit(struct mls_site *s, const json_t *job, const char *name,
    size_t n, const char *script, long long *job_id)
{
	struct mls_slurm *sl = s->priv;
	struct mls_buf out = MLS_BUF_INIT;
	json_t *body = NULL, *rj = NULL;
	char *bs = NULL;
	long long aid;
	int rc;

	if ((rc = mls_slurm_rest_body(s->conf, job, name, n, sl->throttle,
	    script, &body)) < 0)
		goto out;
	if ((bs = json_dumps(body, MLS_JSON_COMPACT)) == NULL) {
		rc = mls_slurm_oom();
		goto out;
	}
	if ((rc = rest_call(s, "POST", API "/job/submit", bs, &out, 1)) < 0)
		goto out;
	rj = json_loadb(out.buf, out.len, 0, NULL);
	if ((aid = mls_record_int(rj, "job_id", -1)) <= 0) {
		rc = mls_error_set(MLS_EPROTO, "site '%s': slurmrestd: submit: "
		    "no job_id in the reply", s->name);
		goto out;
	}
	*job_id = aid;
	rc = 0;
out:
	free(bs);
	json_decref(body);
	json_decref(rj);
	mls_buf_release(&out);
	return rc;
}

static int
rest_cancel(struct mls_site *s, const char *sid)
{
	struct mls_buf b = MLS_BUF_INIT, path = MLS_BUF_INIT;
	int rc;

	mls_buf_addf(&path, API "/job/%s", sid);
	if ((rc = mls_buf_error(&path)) == 0)
		rc = rest_call(s, "DELETE", path.buf, NULL, &b, 0);
	mls_buf_release(&b);
	mls_buf_release(&path);
	return rc;
}

const struct mls_slurm_transport mls_slurm_rest = {
	.mode = "rest",
	.open = rest_open,
	.close = rest_close,
	.list = rest_list,
	.history = NULL,	/* no accounting over REST here */
	.submit = rest_submit,
	.cancel = rest_cancel,
	.max_array = NULL,	/* 1000, the default */
};

/* For tests/fuzz: rest_message and rest_has_errors on a body. */
void
mls_slurm_rest_message(const char *text, size_t len, struct mls_buf *msg)
{
	struct mls_buf body = MLS_BUF_INIT;

	mls_buf_add(&body, text, len);
	if (!body.err)
		rest_message(&body, msg);
	mls_buf_release(&body);
}

int
mls_slurm_rest_has_errors(const char *text, size_t len)
{
	struct mls_buf body = MLS_BUF_INIT;
	int r = 0;

	mls_buf_add(&body, text, len);
	if (!body.err)
		r = rest_has_errors(&body);
	mls_buf_release(&body);
	return r;
}
