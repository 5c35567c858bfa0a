/*
 * mls_job.c - the one owner of a job's files in the store (jobs/ID/...):
 * their keys, result.json's schema (one writer in C, one validator),
 * metrics.jsonl's reading rule, the stop marker, params.json; and the
 * construction of job records.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_id.h"
#include "mls_job.h"
#include "mls_jobwrap.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_store.h"

static const char *const file_names[MLS_JOB_NFILES] = {
	[MLS_JOB_SPEC] = "spec.sh",
	[MLS_JOB_PARAMS] = "params.json",
	[MLS_JOB_INPUT_JSON] = "input.json",
	[MLS_JOB_METRICS] = "metrics.jsonl",
	[MLS_JOB_STDOUT] = "stdout",
	[MLS_JOB_STDERR] = "stderr",
	[MLS_JOB_OUTPUT_JSON] = "output.json",
	[MLS_JOB_OUTPUTS] = "outputs.tar.zst",
	[MLS_JOB_OUTPUTS_GZ] = "outputs.tar.gz",
	[MLS_JOB_STOP] = "stop",
	[MLS_JOB_RESULT] = "result.json",
};

/* ---- keys ------------------------------------------------------------------- */

const char *
mls_job_file_name(enum mls_job_file f)
{
	return (unsigned)f < MLS_JOB_NFILES ? file_names[f] : NULL;
}

enum mls_job_file
mls_job_file_parse(const char *name)
{
	unsigned f;

	for (f = 0; name != NULL && f < MLS_JOB_NFILES; f++)
		if (strcmp(file_names[f], name) == 0)
			return (enum mls_job_file)f;
	return MLS_JOB_NFILES;
}

int
mls_job_check_id(const char *id)
{
	const unsigned char *p;

	if (id == NULL || *id == '\0' || id[0] == '.' || strlen(id) >= 128)
		goto bad;
	for (p = (const unsigned char *)id; *p != '\0'; p++)
		if (*p <= ' ' || *p == '/' || *p == '\\' || *p >= 0x7f)
			goto bad;
	return 0;
bad:
	return mls_error_set(MLS_EINPUT, "job record: field 'id': expected a "
	    "job id, got '%.80s'", id != NULL ? id : "");
}

int
mls_job_key(struct mls_buf *key, const char *id, enum mls_job_file f)
{
	int rc;

	if ((rc = mls_job_check_id(id)) < 0)
		return rc;
	mls_buf_reset(key);
	if (f == MLS_JOB_NFILES)
		mls_buf_addf(key, "jobs/%s", id);
	else if ((unsigned)f < MLS_JOB_NFILES)
		mls_buf_addf(key, "jobs/%s/%s", id, file_names[f]);
	else
		return mls_error_set(MLS_ERR, "job '%s': no such file %d", id,
		    (int)f);
	return mls_buf_error(key);
}

char *
mls_job_local_path(const struct mls_store *st, const char *id,
    enum mls_job_file f)
{
	struct mls_buf key = MLS_BUF_INIT;
	char *p = NULL;

	if (mls_job_key(&key, id, f) == 0)
		p = mls_store_local_path(st, key.buf);
	mls_buf_release(&key);
	return p;
}

static size_t
cap_of(enum mls_job_file f)
{
	switch (f) {
	case MLS_JOB_RESULT:
		return MLS_JOB_RESULT_MAX;
	case MLS_JOB_METRICS:
		return MLS_JOB_METRICS_MAX;
	case MLS_JOB_PARAMS:
	case MLS_JOB_INPUT_JSON:
	case MLS_JOB_OUTPUT_JSON:
		return MLS_JOB_PARAMS_MAX;
	default:
		return 16u << 20;
	}
}

/* A size as the limits are written in mls(7): "64 MiB", else bytes. */
static void
size_words(char *dst, size_t size, size_t n)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(dst, size, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(dst, size, "%zu KiB", n >> 10);
	else
		snprintf(dst, size, "%zu bytes", n);
}

int
mls_job_get(struct mls_store *st, const char *id, enum mls_job_file f,
    struct mls_buf *out, size_t max)
{
	struct mls_buf key = MLS_BUF_INIT;
	char words[40];
	int rc;

	mls_buf_reset(out);
	if ((rc = mls_job_key(&key, id, f)) < 0)
		goto out;
	if (max == 0)
		max = cap_of(f);
	rc = mls_store_get_buf(st, key.buf, out, max);
	if (rc == MLS_ENOTFOUND) {
		mls_error_clear();
		mls_buf_reset(out);
		rc = 0;
		goto out;
	}
	/*
	 * The key is valid, so the store's MLS_EINPUT can only mean "larger
	 * than max" (mls_store_get_buf): the job's own content, said so.
	 */
	if (rc == MLS_EINPUT) {
		mls_buf_reset(out);
		size_words(words, sizeof(words), max);
		rc = mls_error_set(MLS_EINPUT, "%s of job '%s': larger than %s",
		    file_names[f], id, words);
		goto out;
	}
	if (rc >= 0)
		rc = 1;
out:
	mls_buf_release(&key);
	return rc;
}

int
mls_job_put(struct mls_store *st, const char *id, enum mls_job_file f,
    const void *data, size_t len)
{
	struct mls_buf key = MLS_BUF_INIT;
	int rc;

	if ((rc = mls_job_key(&key, id, f)) == 0)
		rc = mls_store_put_buf(st, key.buf, data, len);
	mls_buf_release(&key);
	return rc;
}

int
mls_job_put_file(struct mls_store *st, const char *id, enum mls_job_file f,
    const char *path)
{
	struct mls_buf key = MLS_BUF_INIT;
	int rc;

	if ((rc = mls_job_key(&key, id, f)) == 0)
		rc = mls_store_put_file(st, key.buf, path);
	mls_buf_release(&key);
	return rc;
}

int
mls_job_outputs_put(struct mls_store *st, const char *id,
    enum mls_job_file f, const char *path, json_t **out)
{
	struct mls_buf key = MLS_BUF_INIT;
	long long size;
	char hex[65];
	json_t *o;
	int rc;

	*out = NULL;
	if (f != MLS_JOB_OUTPUTS && f != MLS_JOB_OUTPUTS_GZ)
		return mls_error_set(MLS_ERR, "job '%s': not an outputs "
		    "archive", id);
	if ((rc = mls_job_key(&key, id, f)) < 0 ||
	    (rc = mls_digest_file(path, hex, &size)) < 0 ||
	    (rc = mls_store_put_file(st, key.buf, path)) < 0)
		goto out;
	o = json_pack("{s:s,s:s+,s:I}", "key", key.buf, "digest", "sha256:",
	    hex, "size", (json_int_t)size);
	if (o == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	*out = o;
	rc = 0;
out:
	mls_buf_release(&key);
	return rc;
}

int
mls_job_list(struct mls_store *st, json_t **out)
{
	return mls_store_list(st, "jobs", out);
}

int
mls_job_exists(struct mls_store *st, const char *id, enum mls_job_file f)
{
	struct mls_buf key = MLS_BUF_INIT;
	int rc;

	if ((rc = mls_job_key(&key, id, f)) == 0)
		rc = mls_store_stat(st, key.buf, NULL);
	mls_buf_release(&key);
	return rc;
}

/* ---- result.json ------------------------------------------------------------ */

/* Copy src into dst of size, control characters flattened to spaces. */
static void
flatten(char *dst, size_t size, const char *src)
{
	size_t i, k = 0;

	for (i = 0; src != NULL && src[i] != '\0' && k + 1 < size; i++)
		dst[k++] = (unsigned char)src[i] < 0x20 ? ' ' : src[i];
	dst[k] = '\0';
}

int
mls_job_result_init(struct mls_job_result *r, const char *id,
    enum mls_state state)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->state = state;
	r->exit_code = -1;
	mls_time_format(r->finished, mls_time_now());
	if (mls_hostname(r->host, sizeof(r->host)) < 0) {
		mls_error_clear();
		snprintf(r->host, sizeof(r->host), "localhost");
	}
	if (id == NULL)
		return 0;
	if ((rc = mls_job_check_id(id)) < 0)
		return rc;
	snprintf(r->id, sizeof(r->id), "%s", id);
	return 0;
}

void
mls_job_result_release(struct mls_job_result *r)
{
	json_decref(r->outputs);
	r->outputs = NULL;
}

void
mls_job_result_set_reason(struct mls_job_result *r, const char *reason)
{
	flatten(r->reason, sizeof(r->reason), reason);
}

static json_t *
empty_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

int
mls_job_result_to_json(const struct mls_job_result *r, json_t **out)
{
	json_t *o;

	*out = NULL;
	o = json_pack("{s:s,s:s,s:s,s:o}", "kind", "result", "id", r->id,
	    "state", mls_state_name(r->state), "exit_code", r->exit_code >= 0 ?
	    json_integer(r->exit_code) : json_null());
	if (o == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (r->signal > 0)
		json_object_set_new(o, "signal", json_integer(r->signal));
	json_object_set_new(o, "reason", json_string(r->reason));
	json_object_set_new(o, "started", empty_or_null(r->started));
	json_object_set_new(o, "finished", json_string(r->finished));
	json_object_set_new(o, "host", json_string(r->host));
	json_object_set_new(o, "outputs", r->outputs != NULL ?
	    json_deep_copy(r->outputs) : json_null());
	if (json_object_size(o) < (r->signal > 0 ? 10u : 9u)) {
		json_decref(o);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

static int
bad_field(const char *id, const char *field, const char *what)
{
	return mls_error_set(MLS_EINPUT, "result.json of job '%s': field "
	    "'%s': %s", id != NULL ? id : "?", field, what);
}

/* A string field that may be null (or absent, when optional). */
static int
copy_str(const json_t *o, const char *id, const char *field, char *dst,
    size_t size, int nullable)
{
	const json_t *v = json_object_get(o, field);

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return nullable ? 0 : bad_field(id, field, "missing");
	if (!json_is_string(v))
		return bad_field(id, field, "expected a string");
	if (json_string_length(v) >= size)
		return bad_field(id, field, "too long");
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
check_time(const char *id, const char *field, const char *s)
{
	if (*s != '\0' && mls_time_parse(s) < 0)
		return bad_field(id, field, "expected an RFC 3339 time");
	return 0;
}

static int
check_outputs(const char *id, const json_t *v)
{
	const json_t *size = json_object_get(v, "size");
	const char *key = mls_record_str(v, "key"),
	    *dg = mls_record_str(v, "digest");
	size_t i;

	if (json_is_null(v))
		return 0;
	if (!json_is_object(v) || key == NULL || dg == NULL ||
	    !json_is_integer(size) || json_integer_value(size) < 0)
		return bad_field(id, "outputs", "expected null or {\"key\", "
		    "\"digest\", \"size\"}");
	if (strncmp(dg, "sha256:", 7) != 0 || strlen(dg) != 7 + 64)
		return bad_field(id, "outputs", "digest: expected sha256:HEX");
	for (i = 7; dg[i] != '\0'; i++)
		if (strchr("0123456789abcdef", dg[i]) == NULL)
			return bad_field(id, "outputs", "digest: expected "
			    "sha256:HEX");
	if (strncmp(key, "jobs/", 5) != 0 || strstr(key, "..") != NULL)
		return bad_field(id, "outputs", "key: expected jobs/ID/outputs."
		    "tar.zst or .tar.gz");
	return 0;
}

int
mls_job_result_parse(const char *data, size_t len, const char *id,
    struct mls_job_result *r)
{
	struct mls_job_result x;
	json_error_t jerr;
	json_t *o, *v;
	const char *name = id;
	char state[32];
	int rc;

	memset(&x, 0, sizeof(x));
	x.exit_code = -1;
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		rc = mls_error_set(MLS_EINPUT, "result.json of job '%s': %s",
		    id != NULL ? id : "?", o == NULL ? jerr.text :
		    "expected an object");
		goto out;
	}
	if ((v = json_object_get(o, "kind")) == NULL || !json_is_string(v) ||
	    strcmp(json_string_value(v), "result") != 0) {
		rc = bad_field(name, "kind", "expected \"result\"");
		goto out;
	}
	if ((rc = copy_str(o, name, "id", x.id, sizeof(x.id), 0)) < 0)
		goto out;
	if (id != NULL && strcmp(x.id, id) != 0) {
		rc = bad_field(name, "id", "names another job");
		goto out;
	}
	name = x.id;
	if ((rc = copy_str(o, name, "state", state, sizeof(state), 0)) < 0)
		goto out;
	x.state = mls_state_parse(state);
	if (!mls_state_final(x.state)) {
		rc = bad_field(name, "state", "expected one of succeeded, "
		    "failed, cancelled, lost");
		goto out;
	}
	v = json_object_get(o, "exit_code");
	if (v == NULL || !(json_is_null(v) || (json_is_integer(v) &&
	    json_integer_value(v) >= 0 && json_integer_value(v) <= 255))) {
		rc = bad_field(name, "exit_code", "expected null or 0-255");
		goto out;
	}
	x.exit_code = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	/* the exit status decides between succeeded and failed */
	if (x.state == MLS_STATE_SUCCEEDED || x.state == MLS_STATE_FAILED)
		x.state = x.exit_code == 0 ? MLS_STATE_SUCCEEDED :
		    MLS_STATE_FAILED;
	if ((v = json_object_get(o, "signal")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 128) {
			rc = bad_field(name, "signal", "expected 1-128");
			goto out;
		}
		x.signal = (int)json_integer_value(v);
	}
	if ((rc = copy_str(o, name, "reason", x.reason, sizeof(x.reason),
	    1)) < 0 ||
	    (rc = copy_str(o, name, "started", x.started, sizeof(x.started),
	    1)) < 0 ||
	    (rc = copy_str(o, name, "finished", x.finished, sizeof(x.finished),
	    0)) < 0 ||
	    (rc = copy_str(o, name, "host", x.host, sizeof(x.host), 1)) < 0 ||
	    (rc = check_time(name, "started", x.started)) < 0 ||
	    (rc = check_time(name, "finished", x.finished)) < 0)
		goto out;
	v = json_object_get(o, "outputs");
	if (v != NULL && (rc = check_outputs(name, v)) < 0)
		goto out;
	if (json_is_object(v))
		x.outputs = json_incref(v);
	*r = x;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int
mls_job_result_put(struct mls_store *st, const struct mls_job_result *r,
    int flags)
{
	json_t *o = NULL;
	char *s = NULL;
	int rc;

	if ((flags & MLS_JOB_RESULT_IF_NONE) &&
	    (rc = mls_job_exists(st, r->id, MLS_JOB_RESULT)) != 0)
		return rc;		/* one is there (1), or an error */
	if ((rc = mls_job_result_to_json(r, &o)) < 0)
		goto out;
	if ((s = json_dumps(o, MLS_JSON_COMPACT)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	rc = mls_job_put(st, r->id, MLS_JOB_RESULT, s, strlen(s));
out:
	free(s);
	json_decref(o);
	return rc;
}

int
mls_job_result_get(struct mls_store *st, const char *id,
    struct mls_job_result *r)
{
	struct mls_buf data = MLS_BUF_INIT;
	int rc;

	rc = mls_job_get(st, id, MLS_JOB_RESULT, &data, 0);
	if (rc == 1 && mls_job_result_parse(data.buf, data.len, id, r) == 0)
		goto out;		/* the job's outcome */
	if (rc == 1 || rc == MLS_EINPUT) {
		/*
		 * Too large or not valid: not the job's outcome, but the job
		 * has ended (result.json is written last, atomically, once),
		 * and failed with a reason that names the file.
		 */
		if ((rc = mls_job_result_init(r, id, MLS_STATE_FAILED)) < 0)
			goto out;
		mls_job_result_set_reason(r, mls_error_last());
		mls_debug("%s: the job failed", r->reason);
		mls_error_clear();
		rc = 1;
	}
out:
	mls_buf_release(&data);
	return rc;
}

int
mls_job_result_apply(const struct mls_job_result *r, json_t *job)
{
	int rc = 0;

	rc |= json_object_set_new(job, "state",
	    json_string(mls_state_name(r->state)));
	rc |= json_object_set_new(job, "exit_code", r->exit_code >= 0 ?
	    json_integer(r->exit_code) : json_null());
	if (r->signal > 0)
		rc |= json_object_set_new(job, "signal",
		    json_integer(r->signal));
	else
		(void)json_object_del(job, "signal");
	if (r->reason[0] != '\0')
		rc |= json_object_set_new(job, "reason",
		    json_string(r->reason));
	else
		(void)json_object_del(job, "reason");
	rc |= json_object_set_new(job, "started", empty_or_null(r->started));
	rc |= json_object_set_new(job, "finished", json_string(r->finished));
	if (r->host[0] != '\0')
		rc |= json_object_set_new(job, "host", json_string(r->host));
	rc |= json_object_set_new(job, "outputs", r->outputs != NULL ?
	    json_deep_copy(r->outputs) : json_null());
	return rc != 0 ? mls_error_set(MLS_ENOMEM, "out of memory") : 0;
}

/* ---- metrics.jsonl ------------------------------------------------------------ */

int
mls_job_metrics_each(const char *data, size_t len, mls_job_metrics_fn fn,
    void *arg)
{
	const char *p = data, *end = data + len, *e;
	size_t index = 0;
	json_t *o;
	int rc;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;	/* the last line, with no newline */
		if (e == p)
			continue;
		o = json_loadb(p, (size_t)(e - p), 0, NULL);
		if (json_is_object(o)) {
			rc = fn(o, index++, arg);
			if (rc != 0) {
				json_decref(o);
				return rc;
			}
		}
		json_decref(o);
	}
	return 0;
}

static int
merge_one(const json_t *obj, size_t index, void *arg)
{
	(void)index;
	return json_object_update(arg, (json_t *)obj) == -1 ?
	    mls_error_set(MLS_ENOMEM, "out of memory") : 0;
}

int
mls_job_metrics_last(const char *data, size_t len, json_t **out)
{
	json_t *merged;
	int rc;

	*out = NULL;
	if ((merged = json_object()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((rc = mls_job_metrics_each(data, len, merge_one, merged)) < 0) {
		json_decref(merged);
		return rc;
	}
	if (json_object_size(merged) == 0)
		json_decref(merged);
	else
		*out = merged;
	return 0;
}

struct series {
	const char	*name;
	double		*vals;
	long		*steps;
	size_t		 n, cap;
};

static int
series_one(const json_t *obj, size_t index, void *arg)
{
	struct series *s = arg;
	const json_t *v = json_object_get(obj, s->name),
	    *step = json_object_get(obj, "step");
	double *nv;
	long *ns;
	size_t cap;

	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return 0;
	if (s->n == s->cap) {
		cap = s->cap != 0 ? s->cap * 2 : 16;
		if (cap > ((size_t)-1) / sizeof(double) ||
		    (nv = realloc(s->vals, cap * sizeof(*nv))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		s->vals = nv;
		if ((ns = realloc(s->steps, cap * sizeof(*ns))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		s->steps = ns;
		s->cap = cap;
	}
	s->vals[s->n] = json_number_value(v);
	s->steps[s->n] = json_is_integer(step) ?
	    (long)json_integer_value(step) : (long)index;
	s->n++;
	return 0;
}

int
mls_job_metrics_series(const char *data, size_t len, const char *name,
    double **vals, long **steps, size_t *n)
{
	struct series s = { .name = name };
	int rc;

	*vals = NULL;
	*steps = NULL;
	*n = 0;
	if ((rc = mls_job_metrics_each(data, len, series_one, &s)) < 0) {
		free(s.vals);
		free(s.steps);
		return rc;
	}
	*vals = s.vals;
	*steps = s.steps;
	*n = s.n;
	return 0;
}

/* ---- the stop marker and params ------------------------------------------------- */

int
mls_job_stop(struct mls_store *st, const char *id)
{
	char now[32];

	mls_time_format(now, mls_time_now());
	return mls_job_put(st, id, MLS_JOB_STOP, now, strlen(now));
}

int
mls_job_stopped(struct mls_store *st, const char *id)
{
	return mls_job_exists(st, id, MLS_JOB_STOP);
}

int
mls_job_params_put(struct mls_store *st, const char *id,
    const json_t *params)
{
	char *s;
	int rc;

	if (params == NULL)
		s = strdup("{}");
	else if (!json_is_object(params))
		return mls_error_set(MLS_EINPUT, "job '%s': params: expected "
		    "an object", id);
	else
		s = json_dumps(params, MLS_JSON_COMPACT);
	if (s == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	rc = mls_job_put(st, id, MLS_JOB_PARAMS, s, strlen(s));
	free(s);
	return rc;
}

int
mls_job_params_get(struct mls_store *st, const char *id, json_t **out)
{
	struct mls_buf data = MLS_BUF_INIT;
	json_t *p = NULL;
	int rc;

	*out = NULL;
	if ((rc = mls_job_get(st, id, MLS_JOB_PARAMS, &data, 0)) <= 0)
		goto out;
	p = json_loadb(data.buf, data.len, 0, NULL);
	if (!json_is_object(p)) {
		rc = 0;
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 1;
out:
	json_decref(p);
	mls_buf_release(&data);
	return rc;
}

/* ---- job records -------------------------------------------------------- */

/* Render a parameter value for the command line. */
static int
render(struct mls_buf *b, const json_t *v)
{
	char num[40], *dump;
	double d;
	int prec;

	switch (json_typeof(v)) {
	case JSON_STRING:
		mls_buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		mls_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		/* the shortest form that reads back as the same double */
		d = json_real_value(v);
		for (prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		mls_buf_adds(b, num);
		break;
	case JSON_TRUE:
		mls_buf_adds(b, "true");
		break;
	case JSON_FALSE:
		mls_buf_adds(b, "false");
		break;
	case JSON_NULL:
		mls_buf_adds(b, "null");
		break;
	default:
		if ((dump = json_dumps(v, MLS_JSON_COMPACT)) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		mls_buf_adds(b, dump);
		free(dump);
	}
	return mls_buf_error(b);
}

static int
ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* The end of the identifier starting at p (letters, digits, _ . -). */
static const char *
ident_end(const char *p)
{
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-')
		p++;
	return p;
}

int
mls_job_expand(const char *tmpl, const json_t *params, char **out)
{
	struct mls_buf b = MLS_BUF_INIT, name = MLS_BUF_INIT;
	const char *p, *e;
	const json_t *v;
	int rc = 0;

	*out = NULL;
	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] == '{') {
			mls_buf_addc(&b, '{');
			p++;
			continue;
		}
		/*
		 * Only {NAME} with NAME an identifier is a placeholder, so that
		 * JSON, awk and Python in a command keep their braces.
		 */
		if (p[0] != '{' || !ident_start(p[1]) ||
		    (e = ident_end(p + 1)) == NULL || *e != '}') {
			mls_buf_addc(&b, *p);
			continue;
		}
		mls_buf_reset(&name);
		mls_buf_add(&name, p + 1, (size_t)(e - p - 1));
		if ((rc = mls_buf_error(&name)) < 0)
			goto out;
		v = params != NULL ? json_object_get(params, name.buf) : NULL;
		if (v == NULL) {
			rc = mls_error_set(MLS_EINPUT, "command: placeholder "
			    "'{%s}' names no parameter (write '{{' for a "
			    "literal '{')", name.buf);
			goto out;
		}
		if ((rc = render(&b, v)) < 0)
			goto out;
		p = e;
	}
	if ((rc = mls_buf_error(&b)) < 0)
		goto out;
	if ((*out = mls_buf_detach(&b)) == NULL)
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
out:
	mls_buf_release(&b);
	mls_buf_release(&name);
	return rc;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* A non-negative integer resource, or MLS_EINPUT naming it. */
static int
check_count(const json_t *res, const char *key, int nullable)
{
	const json_t *v = json_object_get(res, key);

	if (v == NULL || (nullable && json_is_null(v)))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return 0;
	if (nullable && json_is_real(v) && json_real_value(v) >= 0)
		return 0;
	return mls_error_set(MLS_EINPUT, "resources: field '%s': expected a "
	    "non-negative %s", key, nullable ? "number" : "integer");
}

int
mls_job_new(json_t **out, const char *site, const char *sandbox,
    const char *image, const json_t *argv, const json_t *params,
    const json_t *resources, const json_t *env, const char *name)
{
	return mls_job_new_id(out, NULL, site, sandbox, image, argv, params,
	    resources, env, name);
}

int
mls_job_new_id(json_t **out, const char *given, const char *site,
    const char *sandbox, const char *image, const json_t *argv,
    const json_t *params, const json_t *resources, const json_t *env,
    const char *name)
{
	json_t *job = NULL, *cmd = NULL, *res = NULL, *vars = NULL, *v;
	char id[64], *s = NULL;
	const char *k;
	size_t i;
	int rc;

	*out = NULL;
	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return mls_error_set(MLS_EINPUT, "command: empty");
	if (params != NULL && !json_is_object(params))
		return mls_error_set(MLS_EINPUT, "params: expected an object");
	if (resources != NULL && !json_is_null(resources) &&
	    !json_is_object(resources))
		return mls_error_set(MLS_EINPUT, "resources: expected an object");
	if (given != NULL)
		snprintf(id, sizeof(id), "%s", given);
	else if ((rc = mls_id_new(id, sizeof(id), "j-")) < 0)
		return rc;
	/* {id} is the job's id unless a parameter is called "id" */
	vars = params != NULL ? json_copy((json_t *)params) : json_object();
	res = json_pack("{s:i,s:i,s:n,s:n}", "cpus", 1, "gpus", 0, "mem_mb",
	    "time_s");
	cmd = json_array();
	if (vars == NULL || res == NULL || cmd == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (json_object_get(vars, "id") == NULL)
		json_object_set_new(vars, "id", json_string(id));
	json_object_foreach((json_t *)resources, k, v) {
		if (json_object_set(res, k, v) == -1) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = check_count(res, "cpus", 0)) < 0 ||
	    (rc = check_count(res, "gpus", 0)) < 0 ||
	    (rc = check_count(res, "mem_mb", 1)) < 0 ||
	    (rc = check_count(res, "time_s", 1)) < 0)
		goto out;
	json_object_foreach((json_t *)env, k, v) {
		if (!mls_jobwrap_env_name_ok(k)) {
			rc = mls_error_set(MLS_EINPUT, "env '%s': not a valid "
			    "variable name", k);
			goto out;
		}
		if (!json_is_string(v)) {
			rc = mls_error_set(MLS_EINPUT, "env '%s': expected a "
			    "string", k);
			goto out;
		}
	}
	for (i = 0; i < json_array_size(argv); i++) {
		v = json_array_get(argv, i);
		if (!json_is_string(v)) {
			rc = mls_error_set(MLS_EINPUT, "command: argument %zu "
			    "is not a string", i);
			goto out;
		}
		if ((rc = mls_job_expand(json_string_value(v), vars, &s)) < 0)
			goto out;
		if (json_array_append_new(cmd, json_string(s)) == -1) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		free(s);
		s = NULL;
	}
	job = json_pack("{s:s,s:s,s:o,s:n,s:o,s:o,s:o,s:O,s:o,s:O,s:o,"
	    "s:n,s:n,s:n,s:n,s:n,s:n}",
	    "kind", "job", "id", id, "site", str_or_null(site), "site_id",
	    "name", str_or_null(name), "sandbox", str_or_null(sandbox),
	    "image", str_or_null(image), "command", cmd,
	    "params", params != NULL ? json_deep_copy(params) : json_object(),
	    "resources", res,
	    "env", env != NULL ? json_deep_copy(env) : json_object(),
	    "state", "exit_code", "metrics", "submitted", "started",
	    "finished");
	if (job == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	*out = job;
	rc = 0;
out:
	free(s);
	json_decref(cmd);
	json_decref(res);
	json_decref(vars);
	return rc;
}
