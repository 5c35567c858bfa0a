#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_campaign.h"
#include "mls_cspec.h"
#include "mls_digest.h"
#include "mls_error.h"
#include "mls_id.h"
#include "mls_job.h"
#include "mls_journal.h"
#include "mls_log.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_tempfile.h"
#include "mls_time.h"


struct trial {
	json_t	*job;		/* the trial/member record; NULL: number unused */
	int	 sent;		/* the site acknowledged the submission */
	int	 done;
	int	 prune_requested;
	long	 last_step;
	double	 last_value;	/* last intermediate value (minimised) */
	int	 have_last;
	long	 live_at;	/* its index in camp.live, or -1 */
};

struct site_slot {
	const char	*name;
	long		 cap;		/* 0: no cap of its own */
	long		 inflight;
	long		 ended;		/* trials that ended here */
	double		 turnaround;	/* their mean seconds, submit to end */
	int		 bad_streak;	/* site failures in a row */
	double		 paused_until;
	int		 evented;	/* announces its trials' ends */
};

/*
 * What replaying the journal found for the generator and the pruner, in
 * journal order: they are told it once the run has them (feed_apply()).
 */
struct feed {
	long		 number;
	long		 step;		/* report */
	double		 value;		/* minimised; NAN: none */
	const char	*state;		/* result: succeeded, failed, pruned; NULL: report */
};

/* A lazy journal is fsynced at least this often (seconds). */
#define LAZY_SYNC_S	0.2

/* The control file is read at most this often (seconds). */
#define CTL_POLL_S	0.1

/* Trials are all polled at least this often (seconds). */
#define FULL_POLL_S	0.25
#define FULL_POLL_PER_TRIAL_S	50e-6	/* 20,000 in flight: every second */

/*
 * A campaign whose first UNSEEN_STOP trials that exited 0 all lacked the
 * objective, with no trial ever reporting it, stops: the name is wrong.
 */
#define UNSEEN_STOP	3

/* A site whose trials are lost PAUSE_AFTER times in a row rests a while. */
#define PAUSE_AFTER	3
#define PAUSE_S		30.0

struct camp {
	const struct mls_config		*cfg;
	struct mls_store		*st;
	struct mls_tracker		*tr;
	struct mls_campaign_gen		*gen;
	struct mls_pruner		*pr;
	const struct mls_campaign_opts	*o;
	const struct mls_campaign_spec	*cs;	/* the spec the loop follows */
	json_t				*spec;	/* its JSON form (journal, records) */
	struct mls_campaign_spec	 own;	/* the journalled one, when replayed */
	int				 have_own;
	json_t				*last_end;	/* the journal's last "end" */
	struct feed			*feed;
	size_t				 nfeed, capfeed;
	const char			*kind;	/* "campaign" or "ensemble" */
	const char			*id;
	const char			*want_id;	/* replaying: the journal's */
	const char			*rkind;	/* "trial" or "member" */
	struct mls_journal		*j;
	struct trial			*t;
	size_t				 nt, cap;
	long				*live;	/* numbers sent and not done */
	size_t				 nlive, caplive;
	long				*emit;	/* ended, to report once synced */
	size_t				 nemit, capemit;
	long				 next_number;
	struct mls_campaign_progress	 p;
	struct site_slot		*sites;
	size_t				 nsites;
	long				 parallel, budget, max_failures;
	double				 timeout_s;
	const char			*metric;
	const char			*reduce;
	int				 goal_max;
	regex_t				 re;
	int				 have_re;
	int				 exhausted;
	int				 decided;	/* the generator's tell said stop */
	int				 lazy;		/* see journal_commit() */
	double				 last_sync;
	char				 idtag[9];	/* see trial_id() */
	const char			*end_reason;
	json_t				*best_so_far;	/* [[n, best], ...] */
	enum mls_campaign_ctl		 ctl;	/* asked by the control file */
	double				 last_ctl;
	/* the objective's name: ever reported, trials without it, their keys */
	int				 obj_seen;
	long				 obj_unseen;
	struct mls_buf			 unseen_nums;	/* "0, 1, 2" */
	json_t				*unseen_keys;	/* {"key": true} */
	char				*end_message;	/* why, for a person */
};

/* One pass over a campaign's journal: a camp without generator or pruner. */
struct mls_campaign_replay {
	struct camp	c;
};

static double
minimised(const struct camp *c, double v)
{
	return c->goal_max ? -v : v;
}

static int
grow(struct camp *c, long number)
{
	size_t want = (size_t)number + 1;
	int rc;

	if (want <= c->nt)
		return 0;
	if ((rc = MLS_GROW(c->t, c->cap, want)) < 0)
		return rc;
	memset(c->t + c->nt, 0, (want - c->nt) * sizeof(*c->t));
	for (size_t i = c->nt; i < want; i++) {
		c->t[i].last_step = -1;
		c->t[i].live_at = -1;
	}
	c->nt = want;
	return 0;
}

/* Append v to a growable array of longs. */
static int
push_long(long **a, size_t *n, size_t *cap, long v)
{
	int rc;

	if ((rc = mls_grow(a, cap, *n + 1, sizeof(**a))) < 0)
		return rc;
	(*a)[(*n)++] = v;
	return 0;
}

/*
 * The live list: trials sent and not done, so that polling and counting
 * cost what is in flight, not what the campaign ever ran.
 */
static int
live_add(struct camp *c, long n)
{
	int rc;

	if (c->t[n].live_at >= 0)
		return 0;
	if ((rc = push_long(&c->live, &c->nlive, &c->caplive, n)) < 0)
		return rc;
	c->t[n].live_at = (long)c->nlive - 1;
	return 0;
}

static void
live_del(struct camp *c, long n)
{
	long at = c->t[n].live_at, last;

	if (at < 0)
		return;
	last = c->live[--c->nlive];
	c->live[at] = last;
	c->t[last].live_at = at;
	c->t[n].live_at = -1;
}

static struct site_slot *
site_of(struct camp *c, const json_t *job)
{
	const char *name = mls_record_str(job, "site");

	for (size_t i = 0; name != NULL && i < c->nsites; i++)
		if (strcmp(c->sites[i].name, name) == 0)
			return &c->sites[i];
	return NULL;
}

/*
 * The job id of trial number: "j-", the time now (10 characters, as in a
 * ULID, so that ids sort by submission, which the local queue follows), 8
 * characters of a hash of the campaign id, the number in 8: a resumed
 * driver finds in the store the trials of its campaign that it sent but
 * had not journalled durably (see recover_sent()), and sending one again
 * is adopted, not run twice.
 */
static int
tag_init(struct camp *c)
{
	char hex[65];
	unsigned long long h;

	if (c->id == NULL || mls_digest_buf(c->id, strlen(c->id), hex) < 0) {
		mls_error_clear();
		c->idtag[0] = '\0';	/* random ids, and no lazy journal */
		return 0;
	}
	hex[10] = '\0';		/* 40 bits */
	h = strtoull(hex, NULL, 16);
	mls_id_b32_encode(c->idtag, h, 8);
	c->idtag[8] = '\0';
	return 1;
}

static void
trial_id(const struct camp *c, long number, char out[32])
{
	unsigned long long n = (unsigned long long)number;
	unsigned long long ms = (unsigned long long)(mls_time_now() * 1000);

	memcpy(out, "j-", 2);
	mls_id_b32_encode(out + 2, ms, 10);
	memcpy(out + 12, c->idtag, 8);
	mls_id_b32_encode(out + 20, n, 8);
	out[28] = '\0';
}

/* The number of a trial id of this campaign, or -1. */
static long
trial_number(const struct camp *c, const char *id)
{
	unsigned long long n;

	if (strlen(id) != 28 || strncmp(id, "j-", 2) != 0 ||
	    memcmp(id + 12, c->idtag, 8) != 0)
		return -1;
	if (mls_id_b32_decode(id + 20, 8, &n) < 0) {
		mls_error_clear();	/* not one of ours: no error */
		return -1;
	}
	return n <= (unsigned long long)LONG_MAX ? (long)n : -1;
}

/*
 * Make the journal durable: always when the trials may go to several
 * sites (a trial sent but not journalled could not be found again);
 * with one site, what is written survives the process at once and is
 * fsynced every LAZY_SYNC_S (or when force): a machine crash is
 * recovered by trial_id() and the store (see recover_sent()).
 */
static int
journal_commit(struct camp *c, int force)
{
	double now;

	if (!c->lazy || force)
		goto sync;
	now = mls_time_now();
	if (now - c->last_sync < LAZY_SYNC_S)
		return mls_journal_flush(c->j);
sync:
	c->last_sync = mls_time_now();
	return mls_journal_sync(c->j);
}

static int
journal(struct camp *c, const char *ev, long number, json_t *extra)
{
	json_t *e = extra ? extra : json_object();
	int rc;

	json_object_set_new(e, "ev", json_string(ev));
	if (number >= 0)
		json_object_set_new(e, "number", json_integer(number));
	rc = mls_journal_append(c->j, e);
	json_decref(e);
	return rc;
}

/* ---- objective ------------------------------------------------------ */

/* A job's file into b: 1, 0 when there is none, < 0 on error. */
static int
fetch_text(struct camp *c, const json_t *job, enum mls_job_file f,
    struct mls_buf *b)
{
	return mls_job_get(c->st, mls_record_id(job), f, b, 0);
}

/*
 * 1 with the reason in why when a metrics line has the objective's key
 * with a value that is not a number ("loss": "low"), 0 when none has.
 */
static int
metric_not_number(struct camp *c, const json_t *job, struct mls_buf *why)
{
	struct mls_buf text = MLS_BUF_INIT;
	const char *p, *nl;
	unsigned long line = 0;
	int found = 0;

	if (fetch_text(c, job, MLS_JOB_METRICS, &text) != 1 || text.buf == NULL)
		goto out;
	for (p = text.buf; !found && p < text.buf + text.len; p = nl + 1) {
		json_t *o, *v;
		line++;
		if ((nl = memchr(p, '\n', (size_t)(text.buf + text.len - p))) == NULL)
			nl = text.buf + text.len;
		o = json_loadb(p, (size_t)(nl - p), 0, NULL);
		v = json_object_get(o, c->metric);
		if (v != NULL && !json_is_number(v)) {
			char *s = json_dumps(v, JSON_ENCODE_ANY);
			mls_buf_addf(why, "objective '%s' of trial %lld (job %s) is "
			    "not a number: line %lu of its metrics has '%s': %.40s%s",
			    c->metric, mls_record_int(job, "number", -1),
			    mls_record_id(job), line, c->metric, s ? s : "?",
			    s && strlen(s) > 40 ? "..." : "");
			free(s);
			found = 1;
		}
		json_decref(o);
	}
out:
	mls_buf_release(&text);
	return found;
}

/*
 * The objective of a succeeded trial: 1 with *val set, 0 when it was not
 * reported (reason in *why), <0 on error: MLS_EINPUT when a file of the
 * trial's is larger than its cap (mls_job_get), the trial's own doing.
 * Sources in order: --metric-regex on stdout; the metric in MLS_METRICS
 * lines (reduced); phpo's output.json.
 */
static int
objective(struct camp *c, const json_t *job, double *val, struct mls_buf *why)
{
	struct mls_buf text = MLS_BUF_INIT;
	regmatch_t m[2];
	double *vals = NULL;
	long *steps = NULL;
	size_t n = 0;
	int rc;

	if (c->have_re) {
		const char *s;
		int found = 0;
		if ((rc = fetch_text(c, job, MLS_JOB_STDOUT, &text)) < 0)
			goto out;
		for (s = text.buf; regexec(&c->re, s, 2, m, 0) == 0; s += m[0].rm_eo) {
			regmatch_t *g = m[1].rm_so >= 0 ? &m[1] : &m[0];
			char num[64];
			size_t len = (size_t)(g->rm_eo - g->rm_so);
			char *end;
			if (len >= sizeof(num))
				len = sizeof(num) - 1;
			memcpy(num, s + g->rm_so, len);
			num[len] = '\0';
			*val = strtod(num, &end);
			if (end != num)
				found = 1;
			if (m[0].rm_eo == 0)
				break;
		}
		if (found) {
			rc = 1;
			goto out;
		}
		mls_buf_addf(why, "objective: --metric-regex matched no number in "
		    "the stdout of trial %lld (job %s)",
		    mls_record_int(job, "number", -1), mls_record_id(job));
		rc = 0;
		goto out;
	}
	if ((rc = fetch_text(c, job, MLS_JOB_METRICS, &text)) < 0 ||
	    (rc = mls_job_metrics_series(text.buf, text.len, c->metric, &vals,
	    &steps, &n)) < 0)
		goto out;
	if (n > 0) {
		if (strcmp(c->reduce, "best") == 0) {
			*val = vals[0];
			for (size_t i = 1; i < n; i++)
				if (c->goal_max ? vals[i] > *val : vals[i] < *val)
					*val = vals[i];
		} else if (strcmp(c->reduce, "mean") == 0) {
			double s = 0;
			for (size_t i = 0; i < n; i++)
				s += vals[i];
			*val = s / (double)n;
		} else {
			*val = vals[n - 1];
		}
		rc = 1;
		goto out;
	}
	/* phpo payloads: output.json {"status":0,"loss":x}, loss minimised */
	mls_buf_reset(&text);
	if ((rc = fetch_text(c, job, MLS_JOB_OUTPUT_JSON, &text)) < 0)
		goto out;
	if (rc == 1) {
		json_t *o = json_loads(text.buf, 0, NULL), *loss;
		long long status = mls_record_int(o, "status", 0);
		loss = json_object_get(o, "loss");
		if (status != 0) {
			mls_buf_addf(why, "output.json: status %lld", status);
			json_decref(o);
			rc = 0;
			goto out;
		}
		if (json_is_number(loss) && (strcmp(c->metric, "loss") == 0 ||
		    json_object_get(o, c->metric) == loss)) {
			*val = json_number_value(loss);
			json_decref(o);
			rc = 1;
			goto out;
		}
		json_decref(o);
	}
	if (metric_not_number(c, job, why) != 0) {
		rc = 0;
		goto out;
	}
	mls_buf_addf(why, "objective '%s' was not reported by trial %lld (job %s): "
	    "no MLS_METRICS line has '%s'%s", c->metric,
	    mls_record_int(job, "number", -1), mls_record_id(job), c->metric,
	    strcmp(c->metric, "loss") == 0 ? " and there is no output.json" : "");
	rc = 0;
out:
	free(vals);
	free(steps);
	mls_buf_release(&text);
	return rc;
}

/* ---- bookkeeping ---------------------------------------------------- */

static void
count_final(struct camp *c, const json_t *job, int up)
{
	long d = up ? 1 : -1;
	enum mls_state s = mls_state_parse(mls_record_str(job, "state"));

	if (json_is_true(json_object_get(job, "pruned")))
		c->p.pruned += d;
	else if (s == MLS_STATE_SUCCEEDED)
		c->p.succeeded += d;
	else if (s == MLS_STATE_CANCELLED)
		c->p.cancelled += d;
	else
		c->p.failed += d;
}

static void
note_best(struct camp *c, long number, double v)
{
	if (!c->p.have_best || minimised(c, v) < minimised(c, c->p.best)) {
		c->p.have_best = 1;
		c->p.best = v;
		c->p.best_number = number;
		json_array_append_new(c->best_so_far, json_pack("[I,f]",
		    (json_int_t)number, v));
	}
}

/* A trial that exited 0 without the objective: its number and metric keys. */
static int
note_unseen(struct camp *c, long number, const json_t *job)
{
	const char *k;
	json_t *v;

	c->obj_unseen++;
	mls_buf_addf(&c->unseen_nums, "%s%ld", c->unseen_nums.len ? ", " : "",
	    number);
	if (c->unseen_keys == NULL && (c->unseen_keys = json_object()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	json_object_foreach((json_t *)json_object_get(job, "metrics"), k, v)
		if (strcmp(k, "step") != 0 &&
		    json_object_set_new(c->unseen_keys, k, json_true()) < 0)
			return mls_error_set(MLS_ENOMEM, "out of memory");
	return mls_buf_error(&c->unseen_nums);
}

/*
 * 1 when the objective's name looks wrong: no trial reported it and the
 * first UNSEEN_STOP that exited 0 lacked it; c->end_message says so.
 */
static int
objective_unseen(struct camp *c)
{
	struct mls_buf b = MLS_BUF_INIT;
	const char *k;
	json_t *v;
	int n = 0;

	if (c->metric == NULL || c->obj_seen || c->obj_unseen < UNSEEN_STOP)
		return 0;
	if (c->end_message != NULL)
		return 1;
	if (c->have_re)
		mls_buf_addf(&b, "--metric-regex matched no number in the stdout "
		    "of the first %ld %ss that exited 0 (%s)", c->obj_unseen,
		    c->rkind, c->unseen_nums.buf);
	else
		mls_buf_addf(&b, "objective '%s' was not reported by the first "
		    "%ld %ss that exited 0 (%s); ", c->metric, c->obj_unseen,
		    c->rkind, c->unseen_nums.buf);
	if (!c->have_re) {
		json_object_foreach(c->unseen_keys, k, v)
			mls_buf_addf(&b, "%s'%s'", n++ ? ", " : "the keys they "
			    "reported: ", k);
		if (n == 0)
			mls_buf_adds(&b, "they reported no metrics");
	}
	if (mls_buf_error(&b) < 0)
		return 1;	/* the reason alone will do */
	c->end_message = mls_buf_detach(&b);
	return 1;
}

/* A trial reached a final state: objective, journal, generator, output. */
static int
finish(struct camp *c, long number)
{
	struct trial *t = &c->t[number];
	struct mls_buf why = MLS_BUF_INIT;
	enum mls_state s = mls_state_parse(mls_record_str(t->job, "state"));
	const char *told;
	double v = NAN;
	int rc, got = 0, too_large = 0;

	if (t->prune_requested) {
		json_object_set_new(t->job, "pruned", json_true());
		mls_buf_addf(&why, "pruned at step %ld by the %s pruner",
		    t->last_step, c->cs->prune ? c->cs->prune : "early-stopping");
		json_object_set_new(t->job, "reason", json_string(why.buf));
		if (t->have_last)
			v = minimised(c, t->last_value);
	} else if (s == MLS_STATE_SUCCEEDED && c->metric != NULL) {
		rc = objective(c, t->job, &v, &why);
		if (rc == MLS_EINPUT) {
			/* a file too large to read: the trial failed, not us */
			mls_buf_reset(&why);
			mls_buf_adds(&why, mls_error_last());
			mls_error_clear();
			too_large = 1;
			rc = 0;
		}
		if (rc < 0)
			goto out;
		got = rc;
		if (!got) {
			/* Succeeded but unusable: a failed trial, with the reason. */
			json_object_set_new(t->job, "state", json_string("failed"));
			json_object_set_new(t->job, "reason", json_string(why.buf));
			mls_warn("%s", why.buf);
		}
	}
	if (got || t->have_last)
		c->obj_seen = 1;
	else if (s == MLS_STATE_SUCCEEDED && c->metric != NULL &&
	    !t->prune_requested && !too_large &&
	    (rc = note_unseen(c, number, t->job)) < 0)
		goto out;
	if (got)
		json_object_set_new(t->job, "objective", json_real(v));
	else if (json_object_get(t->job, "objective") == NULL)
		json_object_set_new(t->job, "objective", json_null());
	if (json_object_get(t->job, "pruned") == NULL)
		json_object_set_new(t->job, "pruned", json_false());
	t->done = 1;
	count_final(c, t->job, 1);
	if (got)
		note_best(c, number, v);
	told = t->prune_requested ? "pruned" : got || (c->metric == NULL &&
	    s == MLS_STATE_SUCCEEDED) ? "succeeded" : "failed";
	if ((rc = journal(c, "result", number, json_pack("{s:s,s:o,s:O}",
	    "state", told, "value", got ? json_real(v) : json_null(),
	    "job", t->job))) < 0)
		goto out;
	if ((rc = c->gen->tell(c->gen->arg, number, json_object_get(t->job, "params"),
	    told, got ? minimised(c, v) : v)) < 0)
		goto out;
	if (rc == 1)
		c->decided = 1;
	if (c->pr != NULL)
		mls_pruner_finish(c->pr, number);
	live_del(c, number);
	/* reported once the result is on disk (emit_ended) */
	rc = push_long(&c->emit, &c->nemit, &c->capemit, number);
out:
	mls_buf_release(&why);
	return rc;
}

/* ---- replay ---------------------------------------------------------- */

static int setup(struct camp *c);
static void limits(struct camp *c);

static int
feed_add(struct camp *c, long number, long step, double value, const char *state)
{
	int rc;

	if ((rc = MLS_GROW(c->feed, c->capfeed, c->nfeed + 1)) < 0)
		return rc;
	c->feed[c->nfeed++] = (struct feed){ number, step, value, state };
	return 0;
}

/* The state a result event told the generator (a static string). */
static const char *
told_name(const char *s)
{
	if (s != NULL && strcmp(s, "succeeded") == 0)
		return "succeeded";
	if (s != NULL && strcmp(s, "pruned") == 0)
		return "pruned";
	return "failed";
}

/* The start event: the spec the journal's campaign runs. */
static int
replay_start(struct camp *c, const json_t *spec)
{
	int rc;

	if (spec == NULL)
		return mls_error_set(MLS_EINPUT, "journal: start event without a spec");
	c->have_own = 1;
	/* A journal is input like any other: its spec is checked as a new one. */
	if ((rc = mls_cspec_from_json(&c->own, spec)) < 0 ||
	    (rc = mls_cspec_check_bounds(&c->own)) < 0)
		return rc;
	if (c->want_id != NULL && strcmp(c->own.id, c->want_id) != 0)
		return mls_error_set(MLS_EINPUT, "start event: field 'spec.id': "
		    "'%.64s' is not this campaign's id '%s'", c->own.id, c->want_id);
	if ((c->spec = json_deep_copy(spec)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	c->cs = &c->own;
	if (c->kind == NULL)
		c->kind = mls_cspec_kind_name(c->own.kind);
	c->rkind = strcmp(c->kind, "ensemble") == 0 ? "member" : "trial";
	return setup(c);
}

/*
 * A resume event: the budget and parallelism that run went on with (a
 * resume may raise them), so that views show what the campaign runs to.
 */
static int
replay_resume(struct camp *c, const json_t *ev)
{
	const json_t *b = json_object_get(ev, "budget");
	json_t *p = json_object_get(ev, "parallel");

	if (json_is_object(b)) {
		c->own.budget.trials = (long)mls_record_int(b, "trials",
		    c->own.budget.trials);
		c->own.budget.timeout_s = mls_record_num(b, "timeout_s",
		    c->own.budget.timeout_s);
		c->own.budget.max_failures = (long)mls_record_int(b,
		    "max_failures", c->own.budget.max_failures);
		if (json_object_set_new(c->spec, "budget", json_deep_copy(b)) < 0)
			return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	if (json_is_integer(p) && json_integer_value(p) >= 1) {
		c->own.parallel = (long)json_integer_value(p);
		if (json_object_set(c->spec, "parallel", p) < 0)
			return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	limits(c);
	return 0;
}

static int
replay_event(json_t *ev, void *arg)
{
	struct camp *c = arg;
	const char *e = mls_record_str(ev, "ev");
	long n = (long)mls_record_int(ev, "number", -1);
	struct trial *t;
	json_t *job;
	int rc;

	if (e == NULL)
		return 0;
	if (strcmp(e, "start") == 0) {
		double t0 = mls_time_parse(mls_record_str(ev, "t"));
		if (t0 > 0 && (c->p.started == 0 || t0 < c->p.started))
			c->p.started = t0;
		return c->cs == NULL ? replay_start(c, json_object_get(ev, "spec")) : 0;
	}
	if (strcmp(e, "end") == 0 || strcmp(e, "resume") == 0) {
		/* how it ended: the last end not followed by a resume */
		json_decref(c->last_end);
		c->last_end = strcmp(e, "end") == 0 ? json_incref(ev) : NULL;
		if (strcmp(e, "resume") == 0 && c->cs != NULL)
			return replay_resume(c, ev);
		return 0;
	}
	if (n < 0 || c->cs == NULL)
		return 0;
	if (strcmp(e, "submit") != 0) {
		if ((size_t)n >= c->nt)
			return 0;	/* about a trial never submitted */
	} else if (n > c->next_number + c->cs->parallel) {
		/* numbers are handed out in order, a batch at most ahead */
		return mls_error_set(MLS_EINPUT, "submit event: field 'number': "
		    "%ld is out of sequence (the next is %ld)", n, c->next_number);
	}
	if ((rc = grow(c, n)) < 0)
		return rc;
	t = &c->t[n];
	if (n >= c->next_number)
		c->next_number = n + 1;
	if (strcmp(e, "submit") == 0) {
		if ((job = json_object_get(ev, "job")) == NULL)
			return 0;
		json_decref(t->job);
		t->job = json_deep_copy(job);
		c->p.total++;
	} else if (t->job == NULL) {
		return 0;	/* an event about a trial we never saw submitted */
	} else if (strcmp(e, "submitted") == 0) {
		t->sent = 1;
		if (mls_record_str(ev, "site_id") != NULL)
			json_object_set(t->job, "site_id", json_object_get(ev, "site_id"));
		json_object_set_new(t->job, "state", json_string("queued"));
	} else if (strcmp(e, "state") == 0) {
		json_object_set(t->job, "state", json_object_get(ev, "state"));
	} else if (strcmp(e, "report") == 0) {
		double v = mls_record_num(ev, "value", NAN);
		t->last_step = (long)mls_record_int(ev, "step", t->last_step);
		t->last_value = v;
		t->have_last = 1;
		if (c->cs->prune != NULL &&
		    (rc = feed_add(c, n, t->last_step, minimised(c, v), NULL)) < 0)
			return rc;
	} else if (strcmp(e, "prune") == 0) {
		t->prune_requested = 1;
	} else if (strcmp(e, "result") == 0 && !t->done) {
		const char *state = mls_record_str(ev, "state");
		json_t *v = json_object_get(ev, "value");
		if ((job = json_object_get(ev, "job")) != NULL) {
			json_decref(t->job);
			t->job = json_deep_copy(job);
		}
		t->sent = 1;
		t->done = 1;
		count_final(c, t->job, 1);
		if (json_is_number(v)) {
			note_best(c, n, json_number_value(v));
			c->obj_seen = 1;
		}
		if ((rc = feed_add(c, n, 0, json_is_number(v) ?
		    minimised(c, json_number_value(v)) : NAN, told_name(state))) < 0)
			return rc;
	}
	return 0;
}

/*
 * Tell the generator and the pruner what the replay found, in journal
 * order, as if they had seen the campaign run: finished trials are told,
 * intermediate values reported.
 */
static int
feed_apply(struct camp *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->nfeed; i++) {
		const struct feed *f = &c->feed[i];
		if (f->state == NULL) {
			if (c->pr != NULL)
				(void)mls_pruner_report(c->pr, f->number, f->step, f->value);
			continue;
		}
		if ((rc = c->gen->tell(c->gen->arg, f->number, json_object_get(
		    c->t[f->number].job, "params"), f->state, f->value)) < 0)
			goto out;
		if (rc == 1)
			c->decided = 1;
		if (c->pr != NULL)
			mls_pruner_finish(c->pr, f->number);
	}
	rc = 0;
out:
	free(c->feed);
	c->feed = NULL;
	c->nfeed = c->capfeed = 0;
	return rc;
}

/* ---- the loop -------------------------------------------------------- */

/* The spec's limits; a resume may have raised them. */
static void
limits(struct camp *c)
{
	c->parallel = c->cs->parallel < 1 ? 1 : c->cs->parallel;
	c->budget = c->cs->budget.trials;
	c->max_failures = c->cs->budget.max_failures;
	c->timeout_s = c->cs->budget.timeout_s;
	c->p.budget = c->budget;
}

static int
setup(struct camp *c)
{
	const struct mls_campaign_spec *cs = c->cs;
	const char *rx;
	size_t i;
	int rc;

	c->id = cs->id;
	if (c->id == NULL)
		return mls_error_set(MLS_EINPUT, "campaign spec: field 'id': missing");
	/* NULL: no objective (an ensemble without --objective) */
	c->metric = cs->objective.metric;
	c->reduce = mls_reduce_name(cs->objective.reduce);
	c->goal_max = cs->objective.goal_max;
	if ((rx = cs->objective.regex) != NULL) {
		if ((rc = regcomp(&c->re, rx, REG_EXTENDED)) != 0) {
			char msg[256];
			regerror(rc, &c->re, msg, sizeof(msg));
			return mls_error_set(MLS_EINPUT, "--metric-regex '%s': %s", rx, msg);
		}
		c->have_re = 1;
	}
	limits(c);
	if (cs->nsites == 0)
		return mls_error_set(MLS_EINPUT, "campaign spec: field 'sites': empty");
	if ((c->sites = calloc(cs->nsites, sizeof(*c->sites))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < cs->nsites; i++) {
		c->sites[i].name = cs->sites[i].name;
		c->sites[i].cap = cs->sites[i].cap;
		if (c->sites[i].name == NULL)
			return mls_error_set(MLS_EINPUT, "campaign spec: field "
			    "'sites[%zu].name': missing", i);
	}
	c->nsites = cs->nsites;
	/* one site: a trial sent but not journalled is found again by its id */
	c->lazy = tag_init(c) && c->nsites == 1;
	if ((c->best_so_far = json_array()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	return 0;
}

/*
 * The site where a new trial should end soonest, or NULL: among sites
 * with free capacity that are not paused, the least (in flight + 1) x
 * mean turnaround, so a site that turns trials around twice as fast gets
 * about twice the trials; a site with no ended trial yet costs 0 (try
 * every site); ties go to the fewest in flight.
 */
static struct site_slot *
pick_site(struct camp *c)
{
	struct site_slot *best = NULL;
	double now = mls_time_now(), cost, best_cost = 0;

	for (size_t i = 0; i < c->nsites; i++) {
		struct site_slot *s = &c->sites[i];
		if (s->cap > 0 && s->inflight >= s->cap)
			continue;
		if (s->paused_until > now)
			continue;
		cost = s->ended > 0 ? (double)(s->inflight + 1) * s->turnaround : 0;
		if (best == NULL || cost < best_cost || (cost == best_cost &&
		    s->inflight < best->inflight)) {
			best = s;
			best_cost = cost;
		}
	}
	return best;
}

/*
 * A trial on site ss has ended: learn its turnaround; a trial lost, or
 * failed without an exit code (the command never ran), is the site's
 * failure, and PAUSE_AFTER of them in a row pause the site (30 s, then
 * doubling up to 16 min) so new trials go elsewhere.
 */
static void
site_ended(struct site_slot *ss, const json_t *job)
{
	enum mls_state st = mls_state_parse(mls_record_str(job, "state"));
	double now = mls_time_now(), sub = -1, pause;
	const char *t = mls_record_str(job, "submitted");

	if (t != NULL)
		sub = mls_time_parse(t);
	if (sub > 0 && now >= sub) {
		ss->turnaround = (ss->turnaround * (double)ss->ended + (now - sub)) /
		    (double)(ss->ended + 1);
		ss->ended++;
	}
	if (st == MLS_STATE_LOST || (st == MLS_STATE_FAILED &&
	    !json_is_integer(json_object_get(job, "exit_code")))) {
		if (++ss->bad_streak >= PAUSE_AFTER) {
			int k = ss->bad_streak - PAUSE_AFTER;
			pause = PAUSE_S * (double)(1 << (k < 5 ? k : 5));
			ss->paused_until = now + pause;
			mls_warn("site '%s': %d trials in a row failed there (%s); "
			    "no new trials there for %.0fs", ss->name,
			    ss->bad_streak, mls_record_str(job, "reason") ?
			    mls_record_str(job, "reason") : "no reason", pause);
		}
	} else if (st == MLS_STATE_SUCCEEDED || st == MLS_STATE_FAILED) {
		ss->bad_streak = 0;
	}
}

static long
inflight(const struct camp *c)
{
	long n = 0;

	for (size_t i = 0; i < c->nsites; i++)
		n += c->sites[i].inflight;
	return n;
}

static int
new_trial(struct camp *c, long number, const json_t *params, const char *site,
    json_t **out)
{
	json_t *job = NULL;
	char id[32];
	int rc;

	if (c->idtag[0] != '\0')
		trial_id(c, number, id);
	rc = mls_job_new_id(&job, c->idtag[0] != '\0' ? id : NULL, site,
	    mls_record_str(c->spec, "sandbox"),
	    mls_record_str(c->spec, "image"), json_object_get(c->spec, "command"),
	    params, json_object_get(c->spec, "resources"),
	    json_object_get(c->spec, "env"), mls_record_str(c->spec, "name"));
	if (rc < 0)
		return rc;
	json_object_set_new(job, "kind", json_string(c->rkind));
	json_object_set_new(job, strcmp(c->rkind, "member") == 0 ? "ensemble" :
	    "campaign", json_string(c->id));
	json_object_set_new(job, "number", json_integer(number));
	*out = job;
	return 0;
}

/*
 * A resumed driver with a lazy journal: the trials of this campaign in
 * the store (jobs/ID/params.json, ID a trial_id() of ours) numbered past
 * the last journalled one were sent before a crash took their submit
 * events; take them back with their params, so that sending them again
 * is adopted by the site.  A number with no such trial is left unused.
 */
static int
recover_sent(struct camp *c)
{
	json_t *names = NULL, *name, *params = NULL, *job = NULL;
	long n, last = c->next_number - 1;
	size_t i;
	int rc = 0;

	if (!c->lazy || c->nsites != 1)
		return 0;
	if ((rc = mls_job_list(c->st, &names)) < 0)
		goto out;
	json_array_foreach(names, i, name) {
		const char *id = json_string_value(name);
		if (id == NULL || (n = trial_number(c, id)) < c->next_number)
			continue;
		if (n > c->next_number + c->cs->parallel)
			continue;	/* not one of the last batch: not ours */
		if (n < (long)c->nt && c->t[n].job != NULL)
			continue;
		json_decref(params);
		params = NULL;
		if ((rc = mls_job_params_get(c->st, id, &params)) < 0)
			goto out;
		if (rc == 0)
			continue;	/* its params never made it */
		if ((rc = grow(c, n)) < 0 ||
		    (rc = mls_job_new_id(&job, id, c->sites[0].name,
		    mls_record_str(c->spec, "sandbox"), mls_record_str(c->spec,
		    "image"), json_object_get(c->spec, "command"), params,
		    json_object_get(c->spec, "resources"), json_object_get(c->spec,
		    "env"), mls_record_str(c->spec, "name"))) < 0)
			goto out;
		json_object_set_new(job, "kind", json_string(c->rkind));
		json_object_set_new(job, strcmp(c->rkind, "member") == 0 ?
		    "ensemble" : "campaign", json_string(c->id));
		json_object_set_new(job, "number", json_integer(n));
		c->t[n].job = job;
		job = NULL;
		c->p.total++;
		c->sites[0].inflight++;
		if (n > last)
			last = n;
		mls_info("trial %ld (job %s): sent before the driver stopped; "
		    "taken back", n, id);
		if ((rc = c->gen->pending(c->gen->arg, n, params)) < 0 ||
		    (rc = journal(c, "submit", n, json_pack("{s:O}", "job",
		    c->t[n].job))) < 0)
			goto out;
	}
	c->next_number = last + 1;
out:
	json_decref(names);
	json_decref(params);
	json_decref(job);
	return rc;
}

/* Submit the jobs of trials [from, to) in one batch per site. */
static int
send_batch(struct camp *c, long from, long to)
{
	json_t **batch = NULL;
	size_t nb;
	int rc = 0;

	if (to <= from)
		return 0;
	if ((batch = calloc((size_t)(to - from), sizeof(*batch))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (size_t si = 0; si < c->nsites; si++) {
		struct mls_site *site;
		nb = 0;
		for (long n = from; n < to; n++) {
			struct trial *t = &c->t[n];
			if (t->job == NULL || t->sent || t->done)
				continue;
			if (strcmp(mls_record_str(t->job, "site"), c->sites[si].name) == 0)
				batch[nb++] = t->job;
		}
		if (nb == 0)
			continue;
		if ((rc = mls_tracker_site(c->tr, c->sites[si].name, &site)) < 0)
			goto out;
		if ((rc = mls_site_submit(site, batch, nb)) < 0)
			goto out;
		for (size_t k = 0; k < nb; k++) {
			long n = (long)mls_record_int(batch[k], "number", -1);
			c->t[n].sent = 1;
			if ((rc = live_add(c, n)) < 0)
				goto out;
			json_t *ev = json_object();
			if (mls_record_str(batch[k], "site_id") != NULL)
				json_object_set(ev, "site_id",
				    json_object_get(batch[k], "site_id"));
			if ((rc = journal(c, "submitted", n, ev)) < 0)
				goto out;
		}
	}
out:
	free(batch);
	return rc;
}

/* Ask for and submit new trials until the parallelism or a budget is reached. */
static int
fill(struct camp *c)
{
	long first = c->next_number;
	json_t *params = NULL, *job = NULL;
	struct site_slot *s;
	int rc;

	while (!c->exhausted && (c->budget == 0 || c->p.total < c->budget) &&
	    inflight(c) < c->parallel && (s = pick_site(c)) != NULL) {
		long n = c->next_number;
		if ((rc = c->gen->ask(c->gen->arg, n, &params)) < 0)
			return rc;
		if (rc == 1) {
			c->exhausted = 1;
			break;
		}
		if (rc == 2)
			break;		/* nothing to start until a trial ends */
		if ((rc = new_trial(c, n, params, s->name, &job)) < 0) {
			json_decref(params);
			return rc;
		}
		json_decref(params);
		if ((rc = grow(c, n)) < 0) {
			json_decref(job);
			return rc;
		}
		c->t[n].job = job;
		c->next_number++;
		c->p.total++;
		s->inflight++;
		/* The idempotency key (the job id) is journalled before the job is sent. */
		if ((rc = journal(c, "submit", n, json_pack("{s:O}", "job", job))) < 0)
			return rc;
	}
	if ((rc = journal_commit(c, 0)) < 0)
		return rc;
	return send_batch(c, first, c->next_number);
}

/* Feed new intermediate values of running trials to the pruner. */
static int
check_pruning(struct camp *c, long n)
{
	struct trial *t = &c->t[n];
	struct mls_buf text = MLS_BUF_INIT;
	double *vals = NULL;
	long *steps = NULL;
	size_t k, cnt = 0;
	int rc, prune = 0;

	rc = 0;
	if (c->metric == NULL)
		goto out;
	rc = fetch_text(c, t->job, MLS_JOB_METRICS, &text);
	if (rc == MLS_EINPUT) {
		/* too large to read: no reports; the trial fails as it ends */
		mls_debug("%s", mls_error_last());
		mls_error_clear();
		rc = 0;
	}
	if (rc <= 0 || (rc = mls_job_metrics_series(text.buf, text.len,
	    c->metric, &vals, &steps, &cnt)) < 0)
		goto out;
	for (k = 0; k < cnt && !prune; k++) {
		if (steps[k] <= t->last_step)
			continue;
		t->last_step = steps[k];
		t->last_value = vals[k];
		t->have_last = 1;
		if ((rc = journal(c, "report", n, json_pack("{s:I,s:f}", "step",
		    (json_int_t)steps[k], "value", vals[k]))) < 0)
			goto out;
		prune = mls_pruner_report(c->pr, n, steps[k], minimised(c, vals[k]));
	}
	if (prune > 0) {
		t->prune_requested = 1;
		if ((rc = journal(c, "prune", n, json_pack("{s:I}", "step",
		    (json_int_t)t->last_step))) < 0 ||
		    (rc = mls_journal_sync(c->j)) < 0)
			goto out;
		mls_debug("pruning trial %ld at step %ld", n, t->last_step);
		if ((rc = mls_tracker_cancel(c->tr, t->job)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(vals);
	free(steps);
	mls_buf_release(&text);
	return rc;
}

/*
 * Poll the trials in flight; with only (an object of job ids), just those
 * named there, and those on sites that do not announce ends (see
 * mls_tracker_evented()).
 */
static int
poll_all(struct camp *c, const json_t *only)
{
	json_t *arr = json_array(), *before = NULL;
	long *nums = NULL;
	size_t k = 0, i;
	int rc = 0;

	if (arr == NULL || (nums = calloc(c->nlive + 1, sizeof(*nums))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (only != NULL)
		for (i = 0; i < c->nsites; i++)
			c->sites[i].evented = mls_tracker_evented(c->tr,
			    c->sites[i].name);
	/* a copy: finish() takes trials off the live list */
	for (i = 0; i < c->nlive; i++) {
		const json_t *job = c->t[c->live[i]].job;
		if (only != NULL && json_object_get(only,
		    mls_record_id(job)) == NULL) {
			struct site_slot *ss = site_of(c, job);
			if (ss != NULL && ss->evented)
				continue;
		}
		json_array_append(arr, (json_t *)job);
		nums[k++] = c->live[i];
	}
	if (k == 0)
		goto out;
	before = json_array();
	for (i = 0; i < k; i++)
		json_array_append_new(before, json_string(mls_state_name(
		    mls_state_parse(mls_record_str(c->t[nums[i]].job, "state")))));
	if ((rc = mls_tracker_poll(c->tr, arr)) < 0)
		goto out;
	for (i = 0; i < k; i++) {
		long n = nums[i];
		struct trial *t = &c->t[n];
		const char *now = mls_record_str(t->job, "state");
		enum mls_state s = mls_state_parse(now);
		if (now != NULL && strcmp(now, json_string_value(
		    json_array_get(before, i))) != 0 && !mls_state_final(s))
			if ((rc = journal(c, "state", n, json_pack("{s:s}", "state",
			    now))) < 0)
				goto out;
		if (mls_state_final(s)) {
			struct site_slot *ss = site_of(c, t->job);
			if (ss != NULL) {
				ss->inflight--;
				site_ended(ss, t->job);
			}
			if ((rc = finish(c, n)) < 0)
				goto out;
		} else if (s == MLS_STATE_RUNNING && c->pr != NULL &&
		    !t->prune_requested) {
			if ((rc = check_pruning(c, n)) < 0)
				goto out;
		}
	}
	rc = 0;		/* synced with the next submissions (the loop) */
out:
	free(nums);
	json_decref(before);
	json_decref(arr);
	return rc;
}

/* Report the trials that ended, now that their results are on disk. */
static void
emit_ended(struct camp *c)
{
	for (size_t i = 0; i < c->nemit; i++)
		if (c->o->on_trial != NULL)
			c->o->on_trial(c->t[c->emit[i]].job, c->o->cb_arg);
	c->nemit = 0;
}

static void
update_live_counts(struct camp *c)
{
	c->p.running = c->p.queued = 0;
	for (size_t i = 0; i < c->nlive; i++) {
		struct trial *t = &c->t[c->live[i]];
		if (mls_state_parse(mls_record_str(t->job, "state")) == MLS_STATE_RUNNING)
			c->p.running++;
		else
			c->p.queued++;
	}

	{
		double el = mls_time_now() - c->p.started;
		long fin = c->p.succeeded + c->p.failed + c->p.pruned + c->p.cancelled;
		c->p.rate = el > 0 ? (double)fin / el : 0;
	}
}

/* The trial records, by number (new array; NULL when out of memory). */
static json_t *
trial_records(const struct camp *c)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < c->nt; i++)
		if (c->t[i].job != NULL && json_array_append(arr, c->t[i].job) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *
campaign_record(struct camp *c, const char *state)
{
	json_t *rec = json_deep_copy(c->spec), *best = json_null();
	char ts[32];

	json_object_set_new(rec, "kind", json_string(c->kind ? c->kind : "campaign"));
	json_object_set_new(rec, "state", json_string(state));
	json_object_set_new(rec, "counts", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "total", (json_int_t)c->p.total, "succeeded", (json_int_t)c->p.succeeded,
	    "failed", (json_int_t)c->p.failed, "pruned", (json_int_t)c->p.pruned,
	    "cancelled", (json_int_t)c->p.cancelled,
	    "running", (json_int_t)c->p.running, "queued", (json_int_t)c->p.queued));
	if (c->p.have_best && c->p.best_number >= 0 &&
	    (size_t)c->p.best_number < c->nt && c->t[c->p.best_number].job != NULL) {
		const json_t *bj = c->t[c->p.best_number].job;
		best = json_pack("{s:I,s:f,s:O,s:s}", "number",
		    (json_int_t)c->p.best_number, "value", c->p.best,
		    "params", json_object_get(bj, "params"), "job", mls_record_id(bj));
	}
	json_object_set_new(rec, "best", best);
	json_object_set(rec, "best_so_far", c->best_so_far);
	mls_time_format(ts, c->p.started);
	json_object_set_new(rec, "started", json_string(ts));
	mls_time_format(ts, mls_time_now());
	json_object_set_new(rec, "finished", json_string(ts));
	if (c->end_reason)
		json_object_set_new(rec, "end", json_string(c->end_reason));
	/* why it ended, for a person: this run's, or the journal's last end */
	if (c->end_message != NULL)
		json_object_set_new(rec, "end_message", json_string(c->end_message));
	else if (c->end_reason != NULL && mls_record_str(c->last_end, "message") &&
	    strcmp(c->end_reason, mls_record_str(c->last_end, "reason") ?
	    mls_record_str(c->last_end, "reason") : "") == 0)
		json_object_set(rec, "end_message", json_object_get(c->last_end,
		    "message"));
	return rec;
}

static void
camp_release(struct camp *c)
{
	for (size_t i = 0; i < c->nt; i++)
		json_decref(c->t[i].job);
	free(c->t);
	free(c->live);
	free(c->emit);
	free(c->sites);
	if (c->have_re)
		regfree(&c->re);
	json_decref(c->best_so_far);
	json_decref(c->spec);
	json_decref(c->last_end);
	json_decref(c->unseen_keys);
	mls_buf_release(&c->unseen_nums);
	free(c->end_message);
	free(c->feed);
	if (c->have_own)
		mls_cspec_release(&c->own);
}

/*
 * The one place a campaign's or ensemble's id becomes a path under the
 * data directory: the id's grammar is checked here, so that no id read
 * from a record, a journal or the command line names another directory.
 */
static int
campaign_path(const struct mls_config *cfg, const char *id, const char *file,
    char **out)
{
	struct mls_buf b = MLS_BUF_INIT;
	size_t n = id != NULL ? strlen(id) : 0;

	*out = NULL;
	if (n == 0 || n > 128 || id[strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] != '\0')
		return mls_error_set(MLS_EINPUT, "campaign id '%.40s%s': not a "
		    "valid id (at most 128 letters, digits, '-' and '_')",
		    id != NULL ? id : "", n > 40 ? "..." : "");
	mls_buf_addf(&b, "%s/campaigns/%s%s", cfg->data_home, id, file);
	if (mls_buf_error(&b) < 0)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	*out = mls_buf_detach(&b);
	return 0;
}

int
mls_campaign_journal_path(const struct mls_config *cfg, const char *id, char **out)
{
	return campaign_path(cfg, id, "/journal.jsonl", out);
}

/* Cancel every trial in flight (journalled first); failures are warnings. */
static int
cancel_inflight(struct camp *c)
{
	size_t i, n = c->nlive;
	long *nums;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((nums = malloc(n * sizeof(*nums))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	memcpy(nums, c->live, n * sizeof(*nums));
	for (i = 0; i < n; i++)
		if ((rc = journal(c, "cancel", nums[i], NULL)) < 0)
			goto out;
	if ((rc = mls_journal_sync(c->j)) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (mls_tracker_cancel(c->tr, c->t[nums[i]].job) < 0)
			mls_warn("cancel trial %ld: %s", nums[i], mls_error_last());
out:
	free(nums);
	return rc;
}

/*
 * The camp a resumed run goes on with: the replay's, whose generator and
 * pruner are told what it found, and whose trials in flight are
 * re-attached (counted per site, polled, told to the generator).
 */
static int
resume_from(struct camp *c)
{
	int rc;

	if ((rc = feed_apply(c)) < 0)
		return rc;
	for (size_t i = 0; i < c->nt; i++) {
		struct trial *t = &c->t[i];
		struct site_slot *ss;
		if (t->job == NULL || t->done)
			continue;
		if ((ss = site_of(c, t->job)) != NULL)
			ss->inflight++;
		if (t->sent && (rc = live_add(c, (long)i)) < 0)
			return rc;
		if ((rc = c->gen->pending(c->gen->arg, (long)i,
		    json_object_get(t->job, "params"))) < 0)
			return rc;
	}
	return 0;
}

/*
 * The control file (mls-status --stop/--cancel), read every CTL_POLL_S:
 * a stop starts no more trials and lets those in flight finish; a cancel
 * cancels them too (a stop may become a cancel, not the other way).
 */
static int
control_poll(struct camp *c)
{
	enum mls_campaign_ctl ctl;
	int rc;

	if (c->ctl == MLS_CAMPAIGN_CANCEL || mls_time_mono() - c->last_ctl < CTL_POLL_S)
		return 0;
	c->last_ctl = mls_time_mono();
	if ((rc = mls_campaign_control_get(c->cfg, c->id, &ctl)) < 0)
		return rc;
	if (ctl <= c->ctl)
		return 0;
	c->ctl = ctl;
	if (ctl == MLS_CAMPAIGN_STOP) {
		c->end_reason = "stop";
		mls_info("%s %s: stop asked; %zu %ss in flight finish", c->kind, c->id,
		    c->nlive, c->rkind);
		return 0;
	}
	c->end_reason = "cancel";
	mls_info("%s %s: cancel asked; %zu %ss in flight cancelled", c->kind, c->id,
	    c->nlive, c->rkind);
	return cancel_inflight(c);
}

/*
 * 1 when the campaign is to start no more trials: the generator decided
 * (an ensemble that missed its quorum: the trials in flight are cancelled,
 * once), --max-failures was reached, or the timeout passed; else 0.
 */
static int
ending(struct camp *c)
{
	int rc;

	if (c->ctl != MLS_CAMPAIGN_RUN)
		return 1;
	if (c->decided) {
		if (c->end_reason == NULL) {
			c->end_reason = "decided";
			if ((rc = cancel_inflight(c)) < 0)
				return rc;
		}
		return 1;
	}
	if (c->max_failures > 0 && c->p.failed >= c->max_failures) {
		c->end_reason = "max-failures";
		return 1;
	}
	if (objective_unseen(c)) {
		if (c->end_reason == NULL) {
			c->end_reason = "objective-unseen";
			if ((rc = cancel_inflight(c)) < 0)
				return rc;
		}
		return 1;
	}
	if (c->timeout_s > 0 && mls_time_now() - c->p.started >=
	    c->timeout_s) {
		c->end_reason = "timeout";
		return 1;
	}
	return 0;
}

int
mls_campaign_run(const struct mls_config *cfg, struct mls_store *st,
    struct mls_tracker *tr, struct mls_campaign_gen *gen, struct mls_pruner *pr,
    const struct mls_campaign_opts *o, json_t **out)
{
	struct mls_campaign_replay *own = NULL;
	struct mls_campaign_spec conv;
	struct camp fresh = { 0 }, *c = &fresh;
	const struct mls_campaign_spec *cs = o->cspec;
	char *path = NULL;
	const char *state;
	double delay = 0.01, last_progress = 0, last_full = 0;
	int rc, interrupted = 0, have_conv = 0;
	json_t *changed = json_object();

	*out = NULL;
	if (o->trials != NULL)
		*o->trials = NULL;
	if (cs == NULL) {
		/* a spec in JSON: the typed one from it */
		have_conv = 1;
		if ((rc = mls_cspec_from_json(&conv, o->spec)) < 0)
			goto out;
		cs = &conv;
	}
	if (o->resume) {
		if (o->replay == NULL && (rc = mls_campaign_replay_open(&own, cfg,
		    cs->id ? cs->id : "")) < 0)
			goto out;
		c = o->replay != NULL ? &o->replay->c : &own->c;
	}
	c->cfg = cfg;
	c->st = st;
	c->tr = tr;
	c->gen = gen;
	c->pr = pr;
	c->o = o;
	c->cs = cs;
	if (o->kind != NULL || c->kind == NULL)
		c->kind = o->kind != NULL ? o->kind : mls_cspec_kind_name(cs->kind);
	c->rkind = strcmp(c->kind, "ensemble") == 0 ? "member" : "trial";
	json_decref(c->spec);
	if ((rc = mls_cspec_to_json(cs, &c->spec)) < 0)
		goto out;
	if (!o->resume) {
		c->p.best_number = -1;
		if ((rc = setup(c)) < 0)
			goto out;
	} else {
		limits(c);
		if ((rc = resume_from(c)) < 0)
			goto out;
	}
	if ((rc = mls_campaign_journal_path(cfg, c->id, &path)) < 0)
		goto out;
	if (c->p.started == 0)
		c->p.started = mls_time_now();
	if ((rc = mls_journal_open(&c->j, path)) < 0)
		goto out;
	if (!o->resume) {
		if ((rc = journal(c, "start", -1, json_pack("{s:O}", "spec", c->spec))) < 0 ||
		    (rc = mls_journal_sync(c->j)) < 0)
			goto out;
	} else {
		/* what this run goes on with: a resume may raise the budget */
		if ((rc = journal(c, "resume", -1, json_pack("{s:O,s:I}", "budget",
		    json_object_get(c->spec, "budget"), "parallel",
		    (json_int_t)c->cs->parallel))) < 0 ||
		    (rc = recover_sent(c)) < 0)
			goto out;
		/* Journalled but never acknowledged: send again (the site adopts). */
		if ((rc = send_batch(c, 0, (long)c->nt)) < 0)
			goto out;
	}
	for (;;) {
		long before = c->p.succeeded + c->p.failed + c->p.pruned + c->p.cancelled;
		int stopping = 0;

		if (o->stop != NULL && *o->stop) {
			interrupted = 1;
			break;
		}
		if ((rc = control_poll(c)) < 0)
			goto out;
		if ((rc = stopping = ending(c)) < 0)
			goto out;
		/*
		 * One group commit per round: the results just polled and the
		 * new trials' submit events are synced together, before any
		 * job is sent (fill) and before any result is reported.
		 */
		/*
		 * Trials on sites that announce their ends are polled when
		 * named by an event, and all of them every FULL_POLL_S (their
		 * states, metrics for the pruner), or less often with many in
		 * flight (FULL_POLL_PER_TRIAL_S each), so that polling costs
		 * what the trials end, not what is in flight.  Other sites'
		 * trials are polled every round.
		 */
		{
			double every = (double)c->nlive * FULL_POLL_PER_TRIAL_S;
			int full = mls_time_now() - last_full >= (every >
			    FULL_POLL_S ? every : FULL_POLL_S);
			if (full)
				last_full = mls_time_now();
			if ((rc = poll_all(c, full ? NULL : changed)) < 0)
				goto out;
			json_object_clear(changed);
		}
		/* what the poll told may end the campaign: then start none */
		if (!stopping && (rc = stopping = ending(c)) < 0)
			goto out;
		if (!stopping && (rc = fill(c)) < 0)
			goto out;
		if ((rc = journal_commit(c, 0)) < 0)
			goto out;
		emit_ended(c);
		update_live_counts(c);
		if (o->on_progress != NULL && mls_time_now() - last_progress > 0.2) {
			o->on_progress(&c->p, o->cb_arg);
			last_progress = mls_time_now();
		}
		if (inflight(c) == 0 && (stopping || c->exhausted ||
		    (c->budget > 0 && c->p.total >= c->budget))) {
			if (c->end_reason == NULL)
				c->end_reason = c->exhausted ? "exhausted" : "budget";
			break;
		}
		if (c->p.succeeded + c->p.failed + c->p.pruned + c->p.cancelled != before)
			delay = 0.01;
		else if (delay < 0.5)
			delay *= 1.2;	/* ~40 ms after 150 ms quiet, 0.5 s after ~4 s */
		/* woken at once when a local trial ends */
		(void)mls_tracker_wait(c->tr, delay, changed);
	}
	if (interrupted) {
		c->end_reason = "interrupted";
		if (o->cancel_on_exit)
			(void)cancel_inflight(c);
	}
	update_live_counts(c);
	if (o->on_progress != NULL)
		o->on_progress(&c->p, o->cb_arg);
	if (interrupted)
		state = "interrupted";
	else if (c->ctl != MLS_CAMPAIGN_RUN)
		state = c->ctl == MLS_CAMPAIGN_CANCEL ? "cancelled" : "stopped";
	else if (c->p.succeeded == 0 || (c->end_reason != NULL &&
	    (strcmp(c->end_reason, "max-failures") == 0 ||
	    strcmp(c->end_reason, "objective-unseen") == 0)))
		state = "failed";
	else
		state = "finished";
	if ((rc = journal(c, "end", -1, json_pack("{s:s,s:s,s:s*}", "state", state,
	    "reason", c->end_reason, "message", c->end_message))) < 0 ||
	    (rc = mls_journal_sync(c->j)) < 0)
		goto out;
	json_decref(c->last_end);
	c->last_end = json_pack("{s:s,s:s,s:s*}", "state", state, "reason",
	    c->end_reason, "message", c->end_message);
	if (c->ctl != MLS_CAMPAIGN_RUN)
		(void)mls_campaign_control_clear(cfg, c->id);	/* honoured */
	*out = campaign_record(c, state);
	if (o->trials != NULL)
		*o->trials = trial_records(c);
	rc = 0;
out:
	if (c->j != NULL) {
		int rc2 = mls_journal_close(c->j);
		if (rc == 0 && rc2 < 0)
			rc = rc2;
		c->j = NULL;
	}
	c->cs = c->have_own ? &c->own : NULL;	/* conv dies here */
	if (c == &fresh)
		camp_release(&fresh);
	mls_campaign_replay_free(own);
	if (have_conv)
		mls_cspec_release(&conv);
	json_decref(changed);
	free(path);
	return rc;
}

static int
find_start(json_t *ev, void *arg)
{
	json_t **spec = arg;
	const char *e = mls_record_str(ev, "ev");

	if (e != NULL && strcmp(e, "start") == 0) {
		*spec = json_deep_copy(json_object_get(ev, "spec"));
		return 1;
	}
	return 0;
}

int
mls_campaign_load_spec(const struct mls_config *cfg, const char *id, json_t **spec)
{
	char *path = NULL;
	int rc;

	*spec = NULL;
	if ((rc = mls_campaign_journal_path(cfg, id, &path)) < 0)
		return rc;
	rc = mls_journal_replay(path, find_start, spec);
	free(path);
	if (rc < 0)
		return rc;
	if (*spec == NULL)
		return mls_error_set(MLS_EINPUT, "campaign '%s': journal has no start event", id);
	return 0;
}

/*
 * The exec sampler's directory is the campaign's own, wherever the journal
 * says it was: a journal never steers where files are written.
 */
static int
own_workdir(struct camp *c)
{
	struct mls_buf rel = MLS_BUF_INIT;
	json_t *smp = json_object_get(c->spec, "sampler");
	char *wd = NULL;
	int rc;

	if (c->own.sampler.workdir == NULL)
		return 0;	/* --ask-tell: none */
	mls_buf_addf(&rel, "campaigns/%s/exec", c->id);
	if ((rc = mls_buf_error(&rel)) < 0 ||
	    (rc = mls_config_data_dir(c->cfg, rel.buf, &wd)) < 0)
		goto out;
	free(c->own.sampler.workdir);
	c->own.sampler.workdir = wd;
	if (json_is_object(smp))
		json_object_set_new(smp, "workdir", json_string(wd));
out:
	mls_buf_release(&rel);
	return rc;
}

int
mls_campaign_replay_open(struct mls_campaign_replay **out,
    const struct mls_config *cfg, const char *id)
{
	struct mls_campaign_replay *r;
	char *path = NULL;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	r->c.cfg = cfg;
	r->c.p.best_number = -1;
	if ((rc = mls_campaign_journal_path(cfg, id, &path)) < 0)
		goto out;
	r->c.want_id = id;
	rc = mls_journal_replay(path, replay_event, &r->c);
	r->c.want_id = NULL;
	if (rc < 0)
		goto out;
	if (r->c.cs == NULL) {
		rc = mls_error_set(MLS_EINPUT, "campaign '%s': journal has no start "
		    "event", id);
		goto out;
	}
	if ((rc = own_workdir(&r->c)) < 0)
		goto out;
	*out = r;
	r = NULL;
	rc = 0;
out:
	mls_campaign_replay_free(r);
	free(path);
	return rc;
}

void
mls_campaign_replay_free(struct mls_campaign_replay *r)
{
	if (r == NULL)
		return;
	camp_release(&r->c);
	free(r);
}

struct mls_campaign_spec *
mls_campaign_replay_spec(struct mls_campaign_replay *r)
{
	return &r->c.own;
}

int
mls_campaign_replay_record(struct mls_campaign_replay *r, json_t **campaign,
    json_t **trials)
{
	struct camp *c = &r->c;
	json_t *rec, *arr = NULL;
	const char *reason;

	*campaign = NULL;
	if (trials != NULL)
		*trials = NULL;
	update_live_counts(c);
	/* The state: from the last end event, else "running". */
	reason = c->end_reason;
	c->end_reason = mls_record_str(c->last_end, "reason");
	rec = campaign_record(c, c->last_end ? mls_record_str(c->last_end, "state") :
	    "running");
	c->end_reason = reason;
	if (rec == NULL || (trials != NULL && (arr = trial_records(c)) == NULL)) {
		json_decref(rec);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	*campaign = rec;
	if (trials != NULL)
		*trials = arr;
	return 0;
}

int
mls_campaign_load(const struct mls_config *cfg, const char *id, json_t **campaign,
    json_t **trials)
{
	struct mls_campaign_replay *r = NULL;
	int rc;

	*campaign = NULL;
	if (trials)
		*trials = NULL;
	if ((rc = mls_campaign_replay_open(&r, cfg, id)) < 0)
		return rc;
	rc = mls_campaign_replay_record(r, campaign, trials);
	mls_campaign_replay_free(r);
	return rc;
}

/* ---- control: stop and cancel from another process ------------------ */

int
mls_campaign_dir(const struct mls_config *cfg, const char *id, char **out)
{
	return campaign_path(cfg, id, "", out);
}

static char *
control_path(const struct mls_config *cfg, const char *id)
{
	char *p = NULL;

	(void)campaign_path(cfg, id, "/control", &p);
	return p;
}

const char *
mls_campaign_ctl_name(enum mls_campaign_ctl ctl)
{
	switch (ctl) {
	case MLS_CAMPAIGN_STOP: return "stop";
	case MLS_CAMPAIGN_CANCEL: return "cancel";
	default: return "run";
	}
}

int
mls_campaign_control_set(const struct mls_config *cfg, const char *id,
    enum mls_campaign_ctl ctl)
{
	char *path = control_path(cfg, id), ts[32];
	json_t *j = NULL;
	char *text = NULL;
	int rc;

	if (path == NULL)
		return mls_error_code();	/* a bad id, or no memory */
	mls_time_format(ts, mls_time_now());
	if ((j = json_pack("{s:s,s:s}", "action", mls_campaign_ctl_name(ctl),
	    "at", ts)) == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	rc = mls_write_file_atomic(path, text, strlen(text), 0644, 0);
out:
	free(text);
	json_decref(j);
	free(path);
	return rc;
}

int
mls_campaign_control_get(const struct mls_config *cfg, const char *id,
    enum mls_campaign_ctl *out)
{
	char *path = control_path(cfg, id);
	const char *a;
	json_t *j;

	if (path == NULL)
		return mls_error_code();	/* a bad id, or no memory */
	*out = MLS_CAMPAIGN_RUN;
	j = json_load_file(path, 0, NULL);	/* none, or torn: nothing asked */
	free(path);
	a = json_string_value(json_object_get(j, "action"));
	if (a != NULL && strcmp(a, "stop") == 0)
		*out = MLS_CAMPAIGN_STOP;
	else if (a != NULL && strcmp(a, "cancel") == 0)
		*out = MLS_CAMPAIGN_CANCEL;
	json_decref(j);
	return 0;
}

int
mls_campaign_control_clear(const struct mls_config *cfg, const char *id)
{
	char *path = control_path(cfg, id);
	int rc = 0;

	if (path == NULL)
		return mls_error_code();	/* a bad id, or no memory */
	if (unlink(path) == -1 && errno != ENOENT)
		rc = mls_error_set_errno(MLS_EIO, "remove '%s'", path);
	free(path);
	return rc;
}

int
mls_campaign_stop_journal(const struct mls_config *cfg, struct mls_tracker *tr,
    const char *id, enum mls_campaign_ctl ctl)
{
	struct mls_campaign_replay *r = NULL;
	const char *state = ctl == MLS_CAMPAIGN_CANCEL ? "cancelled" : "stopped";
	char *path = NULL;
	struct camp *c;
	int rc;

	if ((rc = mls_campaign_replay_open(&r, cfg, id)) < 0)
		return rc;
	c = &r->c;
	if (c->last_end != NULL) {
		rc = 1;		/* it ended already */
		goto out;
	}
	if ((rc = mls_campaign_journal_path(cfg, id, &path)) < 0 ||
	    (rc = mls_journal_open(&c->j, path)) < 0)
		goto out;
	if (ctl == MLS_CAMPAIGN_CANCEL) {
		/* journalled first, as cancel_inflight() does */
		for (size_t i = 0; i < c->nt; i++)
			if (c->t[i].job != NULL && !c->t[i].done &&
			    (rc = journal(c, "cancel", (long)i, NULL)) < 0)
				goto out;
		if ((rc = mls_journal_sync(c->j)) < 0)
			goto out;
		for (size_t i = 0; i < c->nt; i++)
			if (c->t[i].job != NULL && !c->t[i].done &&
			    mls_tracker_cancel(tr, c->t[i].job) < 0)
				mls_warn("cancel %s %zu: %s", c->rkind ? c->rkind :
				    "trial", i, mls_error_last());
	}
	if ((rc = journal(c, "end", -1, json_pack("{s:s,s:s}", "state", state,
	    "reason", mls_campaign_ctl_name(ctl)))) < 0 ||
	    (rc = mls_journal_sync(c->j)) < 0)
		goto out;
	rc = 0;
out:
	if (c->j != NULL) {
		int rc2 = mls_journal_close(c->j);
		if (rc == 0 && rc2 < 0)
			rc = rc2;
		c->j = NULL;
	}
	free(path);
	mls_campaign_replay_free(r);
	return rc;
}
