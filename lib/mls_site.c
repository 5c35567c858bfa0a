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
#include "mls_job.h"
#include "mls_jobwrap.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_site_condor.h"
#include "mls_site_local.h"
#include "mls_site_slurm.h"
#include "mls_store.h"


static const struct mls_site_ops *const drivers[] = {
	&mls_site_local_ops,
	&mls_site_slurm_ops,
	&mls_site_condor_ops,
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

/* A misspelt key is named, not ignored without a word. */
static void
warn_unknown_keys(const struct mls_config *cfg, const char *name,
    const struct mls_site_ops *ops)
{
	const char *known[64];
	struct mls_buf sec = MLS_BUF_INIT;
	size_t n = 0;

	known[n++] = "type";
	known[n++] = "grace";
	for (size_t i = 0; ops->keys != NULL && ops->keys[i] != NULL &&
	    n < sizeof(known) / sizeof(known[0]) - 1; i++)
		known[n++] = ops->keys[i];
	known[n] = NULL;
	mls_buf_addf(&sec, "site.%s", name);
	if (mls_buf_error(&sec) == 0)
		mls_config_warn_unknown(cfg, sec.buf, known);
	mls_buf_release(&sec);
}

int
mls_site_open(struct mls_site **out, const struct mls_config *cfg,
    struct mls_store *st, const char *name)
{
	const struct mls_site_ops *ops = NULL;
	struct mls_site *s = NULL;
	json_t *conf = NULL;
	const char *type, *grace;
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
	s->grace_s = 10;
	if ((grace = mls_record_str(conf, "grace")) != NULL &&
	    (s->grace_s = mls_duration_parse(grace)) < 0) {
		rc = mls_error_set(MLS_ECONFIG, "site '%s': grace '%s': not "
		    "a duration (e.g. 30s, 2m)", name, grace);
		goto out;
	}
	warn_unknown_keys(cfg, name, ops);
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

/* ---- submit, poll, cancel ----------------------------------------------- */

static void
now_str(char out[32])
{
	mls_time_format(out, mls_time_now());
}

/*
 * Apply jobs/ID/result.json to job: 1 if there was one, 0 if not, or an
 * error.  A result that does not validate counts as none (writes are
 * atomic, so it is not a torn write but something else's file).
 */
static int
read_result(struct mls_site *s, json_t *job)
{
	struct mls_job_result r;
	int rc;

	if ((rc = mls_job_result_get(s->store, mls_record_id(job), &r)) <= 0)
		return rc;
	rc = mls_job_result_apply(&r, job);
	mls_job_result_release(&r);
	return rc < 0 ? rc : 1;
}

/*
 * metrics.jsonl is larger than its cap (mls_error_last() says so), the
 * job's own doing.  While the job runs, the metrics read before stay.
 * Once it has ended, one that succeeded is failed: its metrics, and so
 * its objective, cannot be read; the reason says why.  The record gets
 * "metrics" ({} when none were read), so that it is not read again.
 */
static int
metrics_too_large(json_t *job)
{
	enum mls_state st = mls_state_parse(mls_record_str(job, "state"));
	const char *why = mls_error_last();
	int rc = 0;

	mls_debug("%s", why);
	if (!mls_state_final(st))
		goto out;
	if (st == MLS_STATE_SUCCEEDED) {
		rc |= json_object_set_new(job, "state", json_string("failed"));
		rc |= json_object_set_new(job, "reason", json_string(why));
	} else if (mls_record_str(job, "reason") == NULL) {
		rc |= json_object_set_new(job, "reason", json_string(why));
	}
	if (!json_is_object(json_object_get(job, "metrics")))
		rc |= json_object_set_new(job, "metrics", json_object());
out:
	mls_error_clear();
	return rc != 0 ? mls_error_set(MLS_ENOMEM, "out of memory") : 0;
}

/* "metrics": the last value of every key over metrics.jsonl's objects. */
static int
read_metrics(struct mls_site *s, json_t *job)
{
	struct mls_buf data = MLS_BUF_INIT;
	json_t *merged = NULL;
	int rc;

	rc = mls_job_get(s->store, mls_record_id(job), MLS_JOB_METRICS, &data,
	    0);
	if (rc == MLS_EINPUT)
		rc = metrics_too_large(job);
	if (rc <= 0)
		goto out;
	if ((rc = mls_job_metrics_last(data.buf, data.len, &merged)) < 0)
		goto out;
	if (merged != NULL)
		json_object_set_new(job, "metrics", merged);
	rc = 0;
out:
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
	struct mls_buf spec = MLS_BUF_INIT;
	json_t **todo = NULL, **done = NULL, *params;
	const char *id;
	char **specs = NULL;
	size_t i, nt = 0, nd = 0;
	char now[32];
	int rc = 0, in_batch = 0;
	const struct mls_pack_limits lim = { s->cfg->extract_max_size,
	    s->cfg->extract_max_files, s->cfg->extract_max_ratio };

	if (n == 0)
		return 0;
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
		if ((rc = mls_job_check_id(mls_record_id(jobs[i]))) < 0 ||
		    (rc = mls_jobwrap_spec(jobs[i], (int)s->grace_s, &lim, &spec)) < 0)
			goto out;
		if ((specs[i] = mls_buf_detach(&spec)) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	mls_store_batch_begin(s->store);
	in_batch = 1;
	for (i = 0; i < n; i++) {
		id = mls_record_id(jobs[i]);
		if ((rc = mls_job_exists(s->store, id, MLS_JOB_RESULT)) < 0)
			goto out;
		if (rc == 1) {		/* it ran already: adopt the result */
			done[nd++] = jobs[i];
			continue;
		}
		if ((s->ops->wants_spec == NULL ||
		    s->ops->wants_spec(s, jobs[i])) &&
		    (rc = mls_job_put(s->store, id, MLS_JOB_SPEC, specs[i],
		    strlen(specs[i]))) < 0)
			goto out;
		params = json_object_get(jobs[i], "params");
		if (!json_is_object(params))
			params = NULL;
		if (params == NULL && (params = json_object()) != NULL)
			json_object_set_new(jobs[i], "params", params);
		/* input.json (phpo) is a copy of it made on the worker */
		if ((rc = mls_job_params_put(s->store, id, params)) < 0)
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
	mls_buf_release(&spec);
	return rc;
}

int
mls_site_poll(struct mls_site *s, json_t **jobs, size_t n)
{
	json_t **pending = NULL;
	unsigned char *live = NULL;
	size_t i, np = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	pending = calloc(n, sizeof(*pending));
	live = calloc(n, 1);
	if (pending == NULL || live == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (is_final(jobs[i]))
			continue;		/* it will not change again */
		live[i] = 1;
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
	/*
	 * Metrics after the result: the wrapper writes result.json last, so
	 * a job that turned final in this poll has all its metrics there
	 * now, and they replace what an earlier poll saw while it ran.
	 */
	for (i = 0; i < n; i++)
		if (live[i] || !json_is_object(json_object_get(jobs[i],
		    "metrics")))
			if ((rc = read_metrics(s, jobs[i])) < 0)
				goto out;
	rc = 0;
out:
	free(pending);
	free(live);
	return rc;
}

int
mls_site_cancel(struct mls_site *s, json_t *job)
{
	int rc;

	if (is_final(job))
		return 0;
	if ((rc = mls_job_stop(s->store, mls_record_id(job))) < 0)
		goto out;
	rc = s->ops->cancel(s, job);
out:
	return rc;
}
