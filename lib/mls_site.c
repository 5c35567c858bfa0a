/*
 * mls_site.c - the generic site layer: job records, placeholders, the
 * job's spec in the store, and the driver table.
 *
 * The store is the authority on a job's outcome: the wrapper writes
 * jobs/ID/result.json last, so poll reads it first and asks the driver
 * only about jobs that have none (queued, running, or gone unreported).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_jobwrap.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_site_local.h"
#include "mls_site_slurm.h"
#include "mls_store.h"

#define RESULT_MAX	(1u << 20)
#define METRICS_MAX	(64u << 20)

static const struct mls_site_ops *const drivers[] = {
	&mls_site_local_ops,
	&mls_site_slurm_ops,
};

/* Drivers added by mls_site_register(), looked up after the built-in ones. */
#define REGISTERED_MAX	8
static const struct mls_site_ops *registered[REGISTERED_MAX];

int
mls_site_register(const struct mls_site_ops *ops)
{
	size_t i;

	for (i = 0; i < REGISTERED_MAX && registered[i] != NULL &&
	    registered[i] != ops; i++)
		;
	if (i == REGISTERED_MAX)
		return mls_error_set(MLS_ERR, "site type '%s': more than %d "
		    "registered site types", ops->type, REGISTERED_MAX);
	registered[i] = ops;
	return 0;
}

int
mls_site_open(struct mls_site **out, const struct mls_config *cfg,
    struct mls_store *st, const char *name)
{
	const struct mls_site_ops *ops = NULL;
	struct mls_site *s = NULL;
	json_t *conf = NULL;
	const char *type;
	size_t i;
	int rc;

	*out = NULL;
	if (name == NULL)
		name = cfg->default_site != NULL ? cfg->default_site : "local";
	if ((rc = mls_config_site(cfg, name, &conf)) < 0)
		goto out;
	type = mls_record_str(conf, "type");
	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (type != NULL && strcmp(drivers[i]->type, type) == 0)
			ops = drivers[i];
	for (i = 0; ops == NULL && i < REGISTERED_MAX && registered[i]; i++)
		if (type != NULL && strcmp(registered[i]->type, type) == 0)
			ops = registered[i];
	if (ops == NULL) {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': type '%s' is not "
		    "supported yet", name, type != NULL ? type : "");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = strdup(name)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	s->ops = ops;
	s->conf = conf;
	conf = NULL;
	s->cfg = cfg;
	s->store = st;
	if ((rc = ops->open(s)) < 0) {
		s->ops = NULL;		/* nothing to close */
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	json_decref(conf);
	mls_site_free(s);
	return rc;
}

void
mls_site_free(struct mls_site *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
	json_decref(s->conf);
	free(s->name);
	free(s);
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

/* ---- submit, poll, cancel ----------------------------------------------- */

static int
job_key(struct mls_buf *b, const json_t *job, const char *file)
{
	const char *id = mls_record_id(job);

	if (id == NULL || *id == '\0' || strchr(id, '/') != NULL ||
	    id[0] == '.')
		return mls_error_set(MLS_EINPUT, "job record: field 'id': "
		    "expected a job id, got '%s'", id != NULL ? id : "");
	mls_buf_reset(b);
	mls_buf_addf(b, "jobs/%s/%s", id, file);
	return mls_buf_error(b);
}

static int
put_json(struct mls_store *st, const char *key, const json_t *v)
{
	char *s;
	int rc;

	if ((s = json_dumps(v, MLS_JSON_COMPACT)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	rc = mls_store_put_buf(st, key, s, strlen(s));
	free(s);
	return rc;
}

static void
now_str(char out[32])
{
	mls_time_format(out, mls_time_now());
}

/*
 * Apply jobs/ID/result.json to job: 1 if there was one, 0 if not, or an
 * error.  A result that does not parse counts as none (writes are atomic,
 * so it is not a torn write but something else's file).
 */
static int
read_result(struct mls_site *s, json_t *job)
{
	static const char *const copy[] = {
		"exit_code", "signal", "reason", "started", "finished", "host",
		"outputs",
	};
	struct mls_buf key = MLS_BUF_INIT, data = MLS_BUF_INIT;
	enum mls_state state;
	json_t *res = NULL, *code;
	size_t i;
	int rc;

	if ((rc = job_key(&key, job, "result.json")) < 0)
		goto out;
	rc = mls_store_get_buf(s->store, key.buf, &data, RESULT_MAX);
	if (rc == MLS_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	res = json_loadb(data.buf, data.len, 0, NULL);
	if (!json_is_object(res)) {
		rc = 0;
		goto out;
	}
	state = mls_state_parse(mls_record_str(res, "state"));
	code = json_object_get(res, "exit_code");
	if (state == MLS_STATE_SUCCEEDED || state == MLS_STATE_FAILED ||
	    state == MLS_STATE_UNKNOWN) {
		/* succeeded iff the command exited 0 */
		state = json_is_integer(code) && json_integer_value(code) == 0 ?
		    MLS_STATE_SUCCEEDED : MLS_STATE_FAILED;
	}
	json_object_set_new(job, "state", json_string(mls_state_name(state)));
	for (i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
		json_t *v = json_object_get(res, copy[i]);
		if (v != NULL && !(json_is_string(v) &&
		    json_string_length(v) == 0))
			json_object_set(job, copy[i], v);
		else if (strcmp(copy[i], "reason") == 0)
			json_object_del(job, "reason");
	}
	rc = 1;
out:
	json_decref(res);
	mls_buf_release(&key);
	mls_buf_release(&data);
	return rc;
}

/* Merge the last value of every key over the lines of metrics.jsonl. */
static int
read_metrics(struct mls_site *s, json_t *job)
{
	struct mls_buf key = MLS_BUF_INIT, data = MLS_BUF_INIT;
	json_t *merged = NULL, *line;
	const char *p, *e, *end;
	int rc, any = 0;

	if ((rc = job_key(&key, job, "metrics.jsonl")) < 0)
		goto out;
	rc = mls_store_get_buf(s->store, key.buf, &data, METRICS_MAX);
	if (rc == MLS_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if ((merged = json_object()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	end = data.buf + data.len;
	for (p = data.buf; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		line = json_loadb(p, (size_t)(e - p), 0, NULL);
		if (json_is_object(line)) {
			json_object_update(merged, line);
			any = 1;
		}
		json_decref(line);
	}
	if (any)
		json_object_set(job, "metrics", merged);
	rc = 0;
out:
	json_decref(merged);
	mls_buf_release(&key);
	mls_buf_release(&data);
	return rc;
}

static int
is_final(const json_t *job)
{
	return mls_state_final(mls_state_parse(mls_record_str(job, "state")));
}

int
mls_site_submit(struct mls_site *s, json_t **jobs, size_t n)
{
	struct mls_buf key = MLS_BUF_INIT, spec = MLS_BUF_INIT;
	json_t **todo = NULL, **done = NULL, *params;
	char **specs = NULL;
	size_t i, nt = 0, nd = 0;
	const char *grace_s;
	char now[32];
	int rc = 0, grace = 10, in_batch = 0;

	if (n == 0)
		return 0;
	if ((grace_s = mls_record_str(s->conf, "grace")) != NULL &&
	    (grace = (int)mls_duration_parse(grace_s)) < 0)
		return mls_error_set(MLS_ECONFIG, "site '%s': grace '%s': not "
		    "a duration", s->name, grace_s);
	todo = calloc(n, sizeof(*todo));
	done = calloc(n, sizeof(*done));
	specs = calloc(n, sizeof(*specs));
	if (todo == NULL || done == NULL || specs == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	/* build every spec first: a bad job fails the batch before any starts */
	for (i = 0; i < n; i++) {
		mls_buf_reset(&spec);
		if ((rc = job_key(&key, jobs[i], "spec.sh")) < 0 ||
		    (rc = mls_jobwrap_spec(jobs[i], grace, &spec)) < 0)
			goto out;
		if ((specs[i] = mls_buf_detach(&spec)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	mls_store_batch_begin(s->store);
	in_batch = 1;
	for (i = 0; i < n; i++) {
		if ((rc = job_key(&key, jobs[i], "result.json")) < 0 ||
		    (rc = mls_store_stat(s->store, key.buf, NULL)) < 0)
			goto out;
		if (rc == 1) {		/* it ran already: adopt the result */
			done[nd++] = jobs[i];
			continue;
		}
		if ((s->ops->wants_spec == NULL ||
		    s->ops->wants_spec(s, jobs[i])) &&
		    ((rc = job_key(&key, jobs[i], "spec.sh")) < 0 ||
		    (rc = mls_store_put_buf(s->store, key.buf, specs[i],
		    strlen(specs[i]))) < 0))
			goto out;
		params = json_object_get(jobs[i], "params");
		if (!json_is_object(params))
			params = NULL;
		if (params == NULL && (params = json_object()) != NULL)
			json_object_set_new(jobs[i], "params", params);
		/* input.json (phpo) is a copy of it made on the worker */
		if ((rc = job_key(&key, jobs[i], "params.json")) < 0 ||
		    (rc = put_json(s->store, key.buf, params)) < 0)
			goto out;
		json_object_set_new(jobs[i], "state", json_null());
		todo[nt++] = jobs[i];
	}
	/*
	 * The specs are durable before any job is started, unless the jobs
	 * run on this host: a crash that loses the files ends them too.
	 */
	in_batch = 0;
	if (s->ops->same_host)
		mls_store_batch_drop(s->store);
	else if ((rc = mls_store_batch_end(s->store)) < 0)
		goto out;
	if (nt > 0 && (rc = s->ops->submit(s, todo, nt)) < 0)
		goto out;
	now_str(now);
	for (i = 0; i < n; i++) {
		json_object_set_new(jobs[i], "site", json_string(s->name));
		if (mls_record_str(jobs[i], "site_id") == NULL)
			json_object_set_new(jobs[i], "site_id",
			    json_string(mls_record_id(jobs[i])));
		if (mls_record_str(jobs[i], "submitted") == NULL)
			json_object_set_new(jobs[i], "submitted",
			    json_string(now));
	}
	for (i = 0; i < nt; i++)
		if (mls_record_str(todo[i], "state") == NULL)
			json_object_set_new(todo[i], "state",
			    json_string("queued"));
	for (i = 0; i < nd; i++) {
		if ((rc = read_result(s, done[i])) < 0 ||
		    (rc = read_metrics(s, done[i])) < 0)
			goto out;
	}
	rc = 0;
out:
	if (in_batch)
		(void)mls_store_batch_end(s->store);
	for (i = 0; specs != NULL && i < n; i++)
		free(specs[i]);
	free(specs);
	free(todo);
	free(done);
	mls_buf_release(&key);
	mls_buf_release(&spec);
	return rc;
}

int
mls_site_poll(struct mls_site *s, json_t **jobs, size_t n)
{
	json_t **pending = NULL;
	size_t i, np = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((pending = calloc(n, sizeof(*pending))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (is_final(jobs[i]))
			continue;		/* it will not change again */
		if ((rc = read_result(s, jobs[i])) < 0)
			goto out;
		if (rc == 0)
			pending[np++] = jobs[i];
	}
	if (np > 0 && (rc = s->ops->poll(s, pending, np)) < 0)
		goto out;
	/* A job that finished between our read and the driver's look. */
	for (i = 0; i < np; i++)
		if (mls_state_parse(mls_record_str(pending[i], "state")) ==
		    MLS_STATE_LOST && (rc = read_result(s, pending[i])) < 0)
			goto out;
	for (i = 0; i < n; i++)
		if (!is_final(jobs[i]) || json_is_null(json_object_get(jobs[i],
		    "metrics")) || json_object_get(jobs[i], "metrics") == NULL)
			if ((rc = read_metrics(s, jobs[i])) < 0)
				goto out;
	rc = 0;
out:
	free(pending);
	return rc;
}

int
mls_site_cancel(struct mls_site *s, json_t *job)
{
	struct mls_buf key = MLS_BUF_INIT;
	char now[32];
	int rc;

	if (is_final(job))
		return 0;
	now_str(now);
	if ((rc = job_key(&key, job, "stop")) < 0 ||
	    (rc = mls_store_put_buf(s->store, key.buf, now, strlen(now))) < 0)
		goto out;
	rc = s->ops->cancel(s, job);
out:
	mls_buf_release(&key);
	return rc;
}
