#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_cspec.h"
#include "mls_ensemble.h"
#include "mls_error.h"
#include "mls_rank.h"
#include "mls_record.h"
#include "mls_site.h"

/* Where a member stands; counted per class in struct mls_ensemble. */
enum mclass { M_WAITING, M_RUNNING, M_SUCCEEDED, M_RETRYING, M_FAILED, M_NCLASS };

struct member {
	long	attempts;	/* the highest attempt started */
	int	inflight;
	int	succeeded;
	int	failed;		/* its last finished attempt failed */
};

struct mls_ensemble {
	struct mls_campaign_spec *own;	/* made by mls_ensemble_new() */
	const json_t	*configs;	/* NULL: plain seeds */
	const char	*seed_param;
	unsigned long long seed;
	long		 n, quorum, retries, folds, per_config;
	long		 next_new;	/* members below it were started */
	long		 attempts;
	long		 count[M_NCLASS];
	struct member	*m;
};

unsigned long long
mls_ensemble_seed(unsigned long long base, unsigned long long j)
{
	unsigned long long z = base + (j + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z >> 33;		/* 31 bits: fits every framework's seed type */
}

int
mls_ensemble_quorum_parse(const char *s, long n, long *out)
{
	char *end;
	double f;
	long q;

	*out = 0;
	if (s == NULL || *s == '\0')
		return mls_error_set(MLS_EINPUT, "quorum '': not a fraction or a count");
	errno = 0;
	if (strchr(s, '.') != NULL || strchr(s, 'e') != NULL || strchr(s, 'E') != NULL) {
		f = strtod(s, &end);
		if (errno != 0 || end == s || *end != '\0' || !isfinite(f) ||
		    f <= 0 || f > 1)
			return mls_error_set(MLS_EINPUT, "quorum '%s': a fraction must "
			    "be in (0, 1]", s);
		/* the smallest count that is at least f * n (guarding 0.95*20) */
		q = (long)ceil(f * (double)n - 1e-9);
		if (q < 1)
			q = 1;
	} else {
		q = strtol(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0' || q < 1)
			return mls_error_set(MLS_EINPUT, "quorum '%s': not a fraction "
			    "like 0.95 or a count >= 1", s);
		if (q > n)
			return mls_error_set(MLS_EINPUT, "quorum '%s': above the %ld "
			    "members", s, n);
	}
	*out = q;
	return 0;
}

/* ---- the generator ---------------------------------------------------- */

static enum mclass
classify(const struct mls_ensemble *e, const struct member *m)
{
	if (m->inflight)
		return M_RUNNING;
	if (m->succeeded)
		return M_SUCCEEDED;
	if (m->failed)
		return m->attempts <= e->retries ? M_RETRYING : M_FAILED;
	return M_WAITING;
}

int
mls_ensemble_new_spec(struct mls_ensemble **out, const struct mls_campaign_spec *s)
{
	struct mls_ensemble *e;
	long n = s->members;
	int rc;

	*out = NULL;
	if ((rc = mls_cspec_check_ensemble(s)) < 0)
		return rc;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->m = calloc((size_t)n, sizeof(*e->m))) == NULL) {
		free(e);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	e->n = n;
	e->quorum = s->quorum;
	e->retries = s->retries;
	e->folds = s->folds;
	e->seed = s->seed;
	e->seed_param = s->seed_param != NULL ? s->seed_param : "seed";
	if (json_array_size(s->configs) > 0) {
		e->configs = s->configs;
		e->per_config = s->per_config;
	}
	e->count[M_WAITING] = n;
	*out = e;
	return 0;
}

int
mls_ensemble_new(struct mls_ensemble **out, const json_t *spec)
{
	struct mls_campaign_spec *s;
	int rc;

	*out = NULL;
	if ((s = malloc(sizeof(*s))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if ((rc = mls_cspec_from_json(s, spec)) < 0 ||
	    (rc = mls_ensemble_new_spec(out, s)) < 0) {
		mls_cspec_release(s);
		free(s);
		return rc;
	}
	(*out)->own = s;
	return 0;
}

void
mls_ensemble_free(struct mls_ensemble *e)
{
	if (e == NULL)
		return;
	if (e->own != NULL)
		mls_cspec_release(e->own);
	free(e->own);
	free(e->m);
	free(e);
}

int
mls_ensemble_member_params(const struct mls_ensemble *e, long j, json_t **params)
{
	json_t *p;
	long s = j;

	*params = NULL;
	if (j < 0 || j >= e->n)
		return mls_error_set(MLS_EINPUT, "member %ld: out of range", j);
	if (e->configs != NULL) {
		const json_t *cp = json_object_get(json_array_get(e->configs,
		    (size_t)(j / e->per_config)), "params");
		s = j % e->per_config;
		p = json_is_object(cp) ? json_deep_copy(cp) : json_object();
	} else {
		p = json_object();
	}
	if (p == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	json_object_set_new(p, "member", json_integer(j));
	json_object_set_new(p, e->seed_param,
	    json_integer((json_int_t)mls_ensemble_seed(e->seed, (unsigned long long)s)));
	json_object_set_new(p, "fold", json_integer(s % e->folds));
	if (e->configs != NULL)
		json_object_set_new(p, "config", json_integer(j / e->per_config));
	*params = p;
	return 0;
}

/* Member and attempt of a trial's params; <0 (MLS_EINPUT) when foreign. */
static int
member_of(const struct mls_ensemble *e, long number, const json_t *params,
    long *j, long *attempt)
{
	const json_t *mj = json_object_get(params, "member");
	const json_t *aj = json_object_get(params, "attempt");

	if (!json_is_integer(mj) || json_integer_value(mj) < 0 ||
	    json_integer_value(mj) >= e->n)
		return mls_error_set(MLS_EINPUT, "trial %ld: params have no member "
		    "of this ensemble", number);
	*j = (long)json_integer_value(mj);
	*attempt = json_is_integer(aj) && json_integer_value(aj) >= 1 ?
	    (long)json_integer_value(aj) : 1;
	return 0;
}

/* Change member j by fn, keeping the class counts right. */
#define UPDATE(e, mp, stmt) do {					\
	(e)->count[classify((e), (mp))]--;				\
	stmt;								\
	(e)->count[classify((e), (mp))]++;				\
} while (0)

static void
started(struct mls_ensemble *e, long j, long attempt)
{
	struct member *m = &e->m[j];

	UPDATE(e, m, {
		m->inflight = 1;
		if (attempt > m->attempts) {
			e->attempts += attempt - m->attempts;
			m->attempts = attempt;
		}
	});
}

int
mls_ensemble_ask(struct mls_ensemble *e, long number, json_t **params)
{
	struct mls_ensemble_counts c;
	long j = -1, attempt = 1;
	int rc;

	(void)number;
	*params = NULL;
	mls_ensemble_counts(e, &c);
	if (mls_ensemble_outcome(&c) == MLS_QUORUM_MISSED)
		return 1;
	/* A retry first: the member's fate is decided sooner. */
	if (e->count[M_RETRYING] > 0) {
		for (long i = 0; i < e->n; i++)
			if (classify(e, &e->m[i]) == M_RETRYING) {
				j = i;
				attempt = e->m[i].attempts + 1;
				break;
			}
	}
	if (j < 0) {
		while (e->next_new < e->n && (e->m[e->next_new].attempts > 0 ||
		    e->m[e->next_new].inflight))
			e->next_new++;
		if (e->next_new < e->n)
			j = e->next_new++;
	}
	if (j < 0)
		return e->count[M_RUNNING] > 0 ? 2 : 1;
	if ((rc = mls_ensemble_member_params(e, j, params)) < 0)
		return rc;
	json_object_set_new(*params, "attempt", json_integer(attempt));
	started(e, j, attempt);
	return 0;
}

int
mls_ensemble_pending(struct mls_ensemble *e, long number, const json_t *params)
{
	long j, attempt;
	int rc;

	if ((rc = member_of(e, number, params, &j, &attempt)) < 0)
		return rc;
	started(e, j, attempt);
	return 0;
}

int
mls_ensemble_tell(struct mls_ensemble *e, long number, const json_t *params,
    const char *state)
{
	struct mls_ensemble_counts c;
	struct member *m;
	long j, attempt;
	int rc, ok = state != NULL && strcmp(state, "succeeded") == 0;

	if ((rc = member_of(e, number, params, &j, &attempt)) < 0)
		return rc;
	m = &e->m[j];
	if (attempt < m->attempts && m->inflight)
		return 0;	/* an older attempt: the newer one decides */
	UPDATE(e, m, {
		if (attempt > m->attempts) {
			e->attempts += attempt - m->attempts;
			m->attempts = attempt;
		}
		m->inflight = 0;
		m->succeeded = ok;
		m->failed = !ok;
	});
	mls_ensemble_counts(e, &c);
	return mls_ensemble_outcome(&c) == MLS_QUORUM_MISSED ? 1 : 0;
}

void
mls_ensemble_counts(const struct mls_ensemble *e, struct mls_ensemble_counts *c)
{
	c->members = e->n;
	c->quorum = e->quorum;
	c->succeeded = e->count[M_SUCCEEDED];
	c->failed = e->count[M_FAILED];
	c->retrying = e->count[M_RETRYING];
	c->running = e->count[M_RUNNING];
	c->waiting = e->count[M_WAITING];
	c->attempts = e->attempts;
}

enum mls_quorum
mls_ensemble_outcome(const struct mls_ensemble_counts *c)
{
	if (c->succeeded >= c->quorum)
		return MLS_QUORUM_REACHED;
	if (c->members - c->failed < c->quorum)
		return MLS_QUORUM_MISSED;
	return MLS_QUORUM_PENDING;
}

const char *
mls_quorum_name(enum mls_quorum q)
{
	switch (q) {
	case MLS_QUORUM_REACHED: return "reached";
	case MLS_QUORUM_MISSED: return "missed";
	default: return "pending";
	}
}

int
mls_ensemble_will_retry(const struct mls_ensemble *e, long j)
{
	struct mls_ensemble_counts c;

	if (j < 0 || j >= e->n || classify(e, &e->m[j]) != M_RETRYING)
		return 0;
	mls_ensemble_counts(e, &c);
	return mls_ensemble_outcome(&c) != MLS_QUORUM_MISSED;
}

int
mls_ensemble_retried(const struct mls_ensemble *e, long j, long attempt)
{
	if (j < 0 || j >= e->n || attempt < 1)
		return 0;
	if (e->m[j].attempts > attempt)
		return 1;		/* the next attempt has started */
	return e->m[j].attempts == attempt && mls_ensemble_will_retry(e, j);
}

static int
gen_ask(void *arg, long number, json_t **params)
{
	return mls_ensemble_ask(arg, number, params);
}

static int
gen_pending(void *arg, long number, const json_t *params)
{
	return mls_ensemble_pending(arg, number, params);
}

static int
gen_tell(void *arg, long number, const json_t *params, const char *state,
    double value)
{
	(void)value;
	return mls_ensemble_tell(arg, number, params, state);
}

int
mls_ensemble_check_command(const struct mls_ensemble *e,
    const struct mls_campaign_spec *s)
{
	json_t *p = NULL;
	char *out = NULL;
	int rc;

	if ((rc = mls_ensemble_member_params(e, 0, &p)) < 0)
		return rc;
	if (json_object_set_new(p, "attempt", json_integer(1)) < 0 ||
	    json_object_set_new(p, "id", json_string("j-0")) < 0) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->ncommand; i++) {
		if ((rc = mls_job_expand(s->command[i], p, &out)) < 0)
			goto out;
		free(out);
	}
	rc = 0;
out:
	json_decref(p);
	return rc;
}

void
mls_ensemble_gen(struct mls_ensemble *e, struct mls_campaign_gen *gen)
{
	gen->ask = gen_ask;
	gen->pending = gen_pending;
	gen->tell = gen_tell;
	gen->arg = e;
}

/* ---- aggregation ------------------------------------------------------ */

void
mls_stats_compute(const double *v, size_t n, struct mls_stats *out)
{
	double mean = 0, m2 = 0;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0) {
		out->mean = out->std = out->min = out->max = NAN;
		return;
	}
	out->min = out->max = v[0];
	/* Welford: stable for hundreds of members with close values */
	for (size_t i = 0; i < n; i++) {
		double d = v[i] - mean;
		mean += d / (double)(i + 1);
		m2 += d * (v[i] - mean);
		if (v[i] < out->min)
			out->min = v[i];
		if (v[i] > out->max)
			out->max = v[i];
	}
	out->mean = mean;
	out->std = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
}

/* The attempt entry of a member's record for one trial. */
static json_t *
attempt_entry(const json_t *t)
{
	json_t *a = json_pack("{s:I,s:s,s:I,s:s}",
	    "number", (json_int_t)mls_record_int(t, "number", -1),
	    "job", mls_record_id(t) ? mls_record_id(t) : "",
	    "attempt", (json_int_t)mls_record_int(json_object_get(t, "params"),
	    "attempt", 1),
	    "state", mls_record_str(t, "state") ? mls_record_str(t, "state") : "queued");
	static const char *const copy[] = {
		"exit_code", "reason", "site", "started", "finished",
	};

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
		json_t *v = json_object_get(t, copy[i]);
		if (v != NULL && !json_is_null(v))
			json_object_set(a, copy[i], v);
	}
	return a;
}

static int
add_metric(json_t *vals, const char *name, const json_t *v)
{
	json_t *arr = json_object_get(vals, name);

	if (arr == NULL) {
		if ((arr = json_array()) == NULL ||
		    json_object_set_new(vals, name, arr) < 0)
			return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	if (json_array_append(arr, (json_t *)v) < 0)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

static json_t *
summary_of(const json_t *vals)
{
	json_t *sum = json_object(), *arr, *x;
	const char *name;
	double *v;
	size_t i;

	if (sum == NULL)
		return NULL;
	json_object_foreach((json_t *)vals, name, arr) {
		struct mls_stats s;
		size_t n = json_array_size(arr);
		if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
			json_decref(sum);
			return NULL;
		}
		json_array_foreach(arr, i, x)
			v[i] = json_number_value(x);
		mls_stats_compute(v, n, &s);
		free(v);
		json_object_set_new(sum, name, json_pack("{s:I,s:f,s:f,s:f,s:f}",
		    "n", (json_int_t)s.n, "mean", s.mean, "std", s.std,
		    "min", s.min, "max", s.max));
	}
	return sum;
}

int
mls_ensemble_record(const json_t *campaign, const json_t *trials, json_t **out)
{
	struct mls_ensemble *e = NULL;
	struct mls_ensemble_counts c;
	json_t *rec = NULL, *members = NULL, *vals = NULL, *t, *mrec, *p;
	json_t **last = NULL;
	const char *state = mls_record_str(campaign, "state");
	const char *end = mls_record_str(campaign, "end");
	int rc, over, timedout;
	size_t i;

	*out = NULL;
	if ((rc = mls_ensemble_new(&e, campaign)) < 0)
		return rc;
	over = state != NULL && (strcmp(state, "finished") == 0 ||
	    strcmp(state, "failed") == 0);
	/* ended by --timeout: members that never started did not fail */
	timedout = over && end != NULL && strcmp(end, "timeout") == 0;
	if ((members = json_array()) == NULL || (vals = json_object()) == NULL ||
	    (last = calloc((size_t)e->n, sizeof(*last))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (long j = 0; j < e->n; j++) {
		if ((rc = mls_ensemble_member_params(e, j, &p)) < 0)
			goto out;
		mrec = json_pack("{s:I,s:o,s:s,s:[]}", "member", (json_int_t)j,
		    "params", p, "state", "waiting", "attempts");
		if (mrec == NULL || json_array_append_new(members, mrec) < 0) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* Replay the trials in order, as the campaign loop does on resume. */
	json_array_foreach(trials, i, t) {
		enum mls_state s = mls_state_parse(mls_record_str(t, "state"));
		long j, attempt;
		if (member_of(e, (long)mls_record_int(t, "number", -1),
		    json_object_get(t, "params"), &j, &attempt) < 0) {
			mls_error_clear();
			continue;
		}
		mrec = json_array_get(members, (size_t)j);
		json_array_append_new(json_object_get(mrec, "attempts"), attempt_entry(t));
		if (mls_state_final(s)) {
			(void)mls_ensemble_tell(e, (long)mls_record_int(t, "number", -1),
			    json_object_get(t, "params"), s == MLS_STATE_SUCCEEDED &&
			    !json_is_true(json_object_get(t, "pruned")) ? "succeeded" :
			    "failed");
		} else {
			started(e, j, attempt);
		}
		if (last[j] == NULL || attempt >= mls_record_int(json_object_get(
		    last[j], "params"), "attempt", 1))
			last[j] = t;
	}
	for (long j = 0; j < e->n; j++) {
		struct member *m = &e->m[j];
		const json_t *lt = last[j];
		const char *ms;
		mrec = json_array_get(members, (size_t)j);
		switch (classify(e, m)) {
		case M_SUCCEEDED: ms = "succeeded"; break;
		case M_RUNNING:
			ms = mls_state_parse(mls_record_str(lt, "state")) ==
			    MLS_STATE_RUNNING ? "running" : "queued";
			break;
		case M_RETRYING: ms = over ? "failed" : "retrying"; break;
		case M_FAILED: ms = "failed"; break;
		default: ms = over ? "skipped" : "waiting"; break;
		}
		json_object_set_new(mrec, "state", json_string(ms));
		if (lt == NULL)
			continue;
		json_object_set_new(mrec, "job", json_string(mls_record_id(lt)));
		if (json_object_get(lt, "metrics") != NULL)
			json_object_set(mrec, "metrics", json_object_get(lt, "metrics"));
		if (json_is_object(json_object_get(lt, "outputs")))
			json_object_set(mrec, "outputs", json_object_get(lt, "outputs"));
		if (json_is_number(json_object_get(lt, "objective")))
			json_object_set(mrec, "objective", json_object_get(lt, "objective"));
		if (!m->succeeded && mls_record_str(lt, "reason") != NULL)
			json_object_set(mrec, "reason", json_object_get(lt, "reason"));
		else if (!m->succeeded && m->failed) {
			char why[64];
			snprintf(why, sizeof(why), "exit code %lld",
			    mls_record_int(lt, "exit_code", -1));
			json_object_set_new(mrec, "reason", json_string(why));
		}
		if (m->succeeded) {
			const char *name;
			json_t *v;
			json_object_foreach(json_object_get(lt, "metrics"), name, v)
				if (json_is_number(v) && isfinite(json_number_value(v)) &&
				    strcmp(name, "step") != 0 &&
				    (rc = add_metric(vals, name, v)) < 0)
					goto out;
		}
	}
	mls_ensemble_counts(e, &c);
	if (timedout) {
		c.failed += c.retrying + c.running;
		c.retrying = c.running = 0;
	} else if (over) {
		c.failed = c.members - c.succeeded;
		c.retrying = c.waiting = c.running = 0;
	}
	if ((rec = json_deep_copy(campaign)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(rec, "kind", json_string("ensemble"));
	json_object_del(rec, "best");
	json_object_del(rec, "best_so_far");
	json_object_set(rec, "members", members);
	json_object_set_new(rec, "summary", summary_of(vals));
	{
		enum mls_quorum q = mls_ensemble_outcome(&c);
		json_object_set_new(rec, "quorum", json_pack("{s:I,s:I,s:I,s:I,s:I,"
		    "s:I,s:I,s:I,s:s}", "required", (json_int_t)c.quorum,
		    "members", (json_int_t)c.members,
		    "succeeded", (json_int_t)c.succeeded,
		    "failed", (json_int_t)c.failed,
		    "retrying", (json_int_t)c.retrying,
		    "running", (json_int_t)c.running,
		    "waiting", (json_int_t)c.waiting,
		    "attempts", (json_int_t)c.attempts,
		    "outcome", timedout && q == MLS_QUORUM_PENDING ? "timeout" :
		    mls_quorum_name(q)));
		if (over)
			json_object_set_new(rec, "state", json_string(
			    q == MLS_QUORUM_REACHED ? "finished" : "failed"));
	}
	*out = rec;
	rec = NULL;
	rc = 0;
out:
	free(last);
	json_decref(rec);
	json_decref(members);
	json_decref(vals);
	mls_ensemble_free(e);
	return rc;
}

/* ---- --from a campaign ------------------------------------------------ */

int
mls_ensemble_top(const json_t *campaign, const json_t *trials, long k,
    json_t **configs)
{
	json_t *arr = NULL, *best = NULL, *t;
	size_t i;
	int rc;

	*configs = NULL;
	if (k < 1)
		return mls_error_set(MLS_EINPUT, "top %ld: not a count >= 1", k);
	if ((rc = mls_rank_trials(trials, mls_rank_goal(campaign), 0, &best)) < 0)
		goto out;
	if ((size_t)k > json_array_size(best)) {
		rc = mls_error_set(MLS_EINPUT, "campaign '%s': %zu trials with an "
		    "objective, fewer than the top %ld asked for",
		    mls_record_id(campaign) ? mls_record_id(campaign) : "?",
		    json_array_size(best), k);
		goto out;
	}
	if ((arr = json_array()) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < (size_t)k; i++) {
		json_t *p;
		t = json_array_get(best, i);
		if ((p = json_deep_copy(json_object_get(t, "params"))) == NULL)
			p = json_object();
		/* an ensemble's own keys are not carried over */
		json_object_del(p, "attempt");
		json_object_del(p, "member");
		if (json_array_append_new(arr, json_pack("{s:o,s:I,s:O,s:s}",
		    "params", p, "trial", (json_int_t)mls_record_int(t, "number", -1),
		    "objective", json_object_get(t, "objective"),
		    "job", mls_record_id(t) ? mls_record_id(t) : "")) < 0) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	*configs = arr;
	arr = NULL;
	rc = 0;
out:
	json_decref(best);
	json_decref(arr);
	return rc;
}
