/*
 * test_mls_campaign.c - the campaign loop (lib/mls_campaign.c) in process,
 * over a fake site driver registered with mls_site_register().
 *
 * The fake site is a "world" of jobs held by the test: submit records the
 * jobs, poll reports them queued, running or lost, cancel records the
 * cancel and ends the job.  The loop's wait between rounds drains the fake
 * site (it announces its ends, see wait_fd/drain in mls_site.h), and that
 * is where time passes: the test's plan moves each job on by one step
 * (start, write one metrics line, end by writing result.json), so a case
 * is a sequence of rounds, never of seconds.  Everything that happens is
 * written to one event log ("submit 3@a", "end 3", "tell 3 succeeded"...),
 * and the cases check the order of those events.
 */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_buf.h"
#include "mls_campaign.h"
#include "mls_config.h"
#include "mls_error.h"
#include "mls_job.h"
#include "mls_log.h"
#include "mls_pruner.h"
#include "mls_record.h"
#include "mls_site.h"
#include "mls_store.h"
#include "mls_track.h"
#include "tap.h"

/* A case that ran this many rounds has gone wrong: stop it. */
#define MAX_ROUNDS	2000


/* ---- the world: the fake site's jobs and the event log ------------------ */

enum fstate { F_QUEUED, F_RUNNING, F_ENDED, F_CANCELLED, F_LOST };

struct fjob {
	char		*id;
	char		*site;
	long		 number;
	enum fstate	 state;
	int		 steps;		/* metrics lines written */
	int		 starts;	/* times the site started it */
	struct mls_buf	 metrics;
};

/* How trial number goes: its metric values, one per round, then its end. */
struct plan {
	double		 vals[8];
	int		 nvals;
	int		 exit_code;
	int		 lose;		/* the site loses it instead (no result) */
	const char	*metric;	/* NULL: "loss" */
	const char	*out;		/* its stdout, or NULL */
};

struct world {
	struct fjob	*jobs;
	size_t		 n, cap;
	json_t		*events;	/* array of strings */
	json_t		*trials;	/* {"N": trial record} from on_trial */
	json_t		*told;		/* {"N": value told to the generator} */
	void		(*plan)(const struct fjob *j, struct plan *p);
	long		 rounds;
	int		 runaway;
	long		 ends;		/* jobs ended so far */
	long		 stop_after_ends;	/* >0: request a stop then */
	long		 exhaust_at;	/* >0: the generator has no more */
	long		 decide_at;	/* >0: tell of this many says "decided" */
	long		 tells;
	long		 max_inflight;
	json_t		*site_max;	/* {"site": most in flight there} */
	volatile sig_atomic_t stop;
};

static struct world W;
static struct mls_config cfg;
static struct mls_store *st;
static char tmpdir[] = "/tmp/test_mls_campaign.XXXXXX";

static void __attribute__((format(printf, 1, 2)))
evf(const char *fmt, ...)
{
	char s[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	json_array_append_new(W.events, json_string(s));
}

/* The index of the first event from `from` on that starts with s, or -1. */
static long
ev_from(long from, const char *s)
{
	size_t i;

	for (i = from > 0 ? (size_t)from : 0; i < json_array_size(W.events); i++)
		if (strncmp(json_string_value(json_array_get(W.events, i)), s,
		    strlen(s)) == 0)
			return (long)i;
	return -1;
}

static long __attribute__((format(printf, 1, 2)))
ev(const char *fmt, ...)
{
	char s[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	return ev_from(0, s);
}

/* Events from `from` on that start with s. */
static long
ev_count(long from, const char *s)
{
	long n = 0, i = from - 1;

	while ((i = ev_from(i + 1, s)) >= 0)
		n++;
	return n;
}

static void
dump_events(void)
{
	size_t i;

	for (i = 0; i < json_array_size(W.events); i++)
		printf("#   %s\n", json_string_value(json_array_get(W.events, i)));
}

static void
world_reset(void)
{
	size_t i;

	for (i = 0; i < W.n; i++) {
		free(W.jobs[i].id);
		free(W.jobs[i].site);
		mls_buf_release(&W.jobs[i].metrics);
	}
	free(W.jobs);
	json_decref(W.events);
	json_decref(W.trials);
	json_decref(W.told);
	json_decref(W.site_max);
	memset(&W, 0, sizeof(W));
	W.events = json_array();
	W.trials = json_object();
	W.told = json_object();
	W.site_max = json_object();
}

static struct fjob *
world_find(const char *id)
{
	size_t i;

	for (i = 0; i < W.n; i++)
		if (strcmp(W.jobs[i].id, id) == 0)
			return &W.jobs[i];
	return NULL;
}

static struct fjob *
world_number(long number)
{
	size_t i;

	for (i = 0; i < W.n; i++)
		if (W.jobs[i].number == number)
			return &W.jobs[i];
	return NULL;
}

static int
active(const struct fjob *j)
{
	return j->state == F_QUEUED || j->state == F_RUNNING;
}

/* A job's files go into the store through mls_job, as a driver's do. */
static void
put_job_file(const char *id, enum mls_job_file f, const char *data,
    size_t len)
{
	if (mls_job_put(st, id, f, data, len) < 0)
		printf("# put %s: %s\n", mls_job_file_name(f), mls_error_last());
}

static void
put_result(const struct fjob *j, const char *state, int exit_code)
{
	struct mls_job_result r;

	if (mls_job_result_init(&r, j->id, mls_state_parse(state)) < 0) {
		printf("# result: %s\n", mls_error_last());
		return;
	}
	r.exit_code = exit_code;
	if (mls_job_result_put(st, &r, 0) < 0)
		printf("# result: %s\n", mls_error_last());
	mls_job_result_release(&r);
}

static void
default_plan(const struct fjob *j, struct plan *p)
{
	(void)j;
	p->vals[0] = 1.0;
	p->nvals = 1;
}

/* Move job j on by one step of its plan. */
static void
advance(struct fjob *j)
{
	struct plan p = { .nvals = 0 };

	(W.plan != NULL ? W.plan : default_plan)(j, &p);
	if (j->state == F_QUEUED) {
		j->state = F_RUNNING;
		evf("run %ld", j->number);
		return;
	}
	if (j->state != F_RUNNING)
		return;
	if (j->steps < p.nvals) {
		mls_buf_addf(&j->metrics, "{\"step\":%d,\"%s\":%.17g}\n",
		    j->steps, p.metric ? p.metric : "loss", p.vals[j->steps]);
		put_job_file(j->id, MLS_JOB_METRICS, j->metrics.buf,
		    j->metrics.len);
		evf("metric %ld:%d", j->number, j->steps);
		j->steps++;
		/* it ends the round after its last value, or with its only one */
		if (p.nvals > 1)
			return;
	}
	if (p.out != NULL)
		put_job_file(j->id, MLS_JOB_STDOUT, p.out, strlen(p.out));
	if (p.lose) {
		j->state = F_LOST;
		evf("lost %ld", j->number);
	} else {
		put_result(j, p.exit_code == 0 ? "succeeded" : "failed",
		    p.exit_code);
		j->state = F_ENDED;
		evf("end %ld", j->number);
	}
	if (++W.ends == W.stop_after_ends) {
		W.stop = 1;
		evf("stop requested");
	}
}

/* ---- the fake driver ---------------------------------------------------- */

/* Time passes on site name: its jobs move on by one step. */
static void
advance_site(const char *name)
{
	size_t i;

	if (++W.rounds > MAX_ROUNDS && !W.runaway) {
		W.runaway = 1;
		W.stop = 1;
		evf("runaway: stopped");
	}
	for (i = 0; i < W.n; i++)
		if (strcmp(W.jobs[i].site, name) == 0 && active(&W.jobs[i]))
			advance(&W.jobs[i]);
}

struct fsite {
	int	fd[2];		/* always readable: every round drains */
};

static int
fake_open(struct mls_site *s)
{
	struct fsite *f = calloc(1, sizeof(*f));

	if (f == NULL || pipe(f->fd) == -1 || write(f->fd[1], "x", 1) != 1) {
		free(f);
		return mls_error_set(MLS_EIO, "fake site: pipe");
	}
	s->priv = f;
	evf("open %s", s->name);
	return 0;
}

static void
fake_close(struct mls_site *s)
{
	struct fsite *f = s->priv;

	close(f->fd[0]);
	close(f->fd[1]);
	free(f);
}

static void
count_inflight(void)
{
	json_t *per = json_object();
	const char *k;
	json_t *v;
	long all = 0;
	size_t i;

	for (i = 0; i < W.n; i++) {
		if (!active(&W.jobs[i]))
			continue;
		all++;
		json_object_set_new(per, W.jobs[i].site, json_integer(
		    mls_record_int(per, W.jobs[i].site, 0) + 1));
	}
	if (all > W.max_inflight)
		W.max_inflight = all;
	json_object_foreach(per, k, v)
		if (json_integer_value(v) > mls_record_int(W.site_max, k, 0))
			json_object_set(W.site_max, k, v);
	json_decref(per);
}

static int
fake_submit(struct mls_site *s, json_t **jobs, size_t n)
{
	struct fjob *j, *tmp;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *id = mls_record_id(jobs[i]);
		long number = (long)mls_record_int(jobs[i], "number", -1);
		if ((j = world_find(id)) != NULL) {
			/* a resumed driver sends it again: adopt it */
			evf("adopt %ld@%s", number, s->name);
			json_object_set_new(jobs[i], "state", json_string(
			    j->state == F_RUNNING ? "running" : "queued"));
			continue;
		}
		if (W.n == W.cap) {
			W.cap = W.cap ? W.cap * 2 : 16;
			if ((tmp = realloc(W.jobs, W.cap * sizeof(*tmp))) == NULL)
				return mls_error_set(MLS_ENOMEM, "out of memory");
			W.jobs = tmp;
		}
		j = &W.jobs[W.n++];
		memset(j, 0, sizeof(*j));
		j->id = strdup(id);
		j->site = strdup(s->name);
		j->number = number;
		j->state = F_QUEUED;
		j->starts = 1;
		mls_buf_init(&j->metrics);
		evf("submit %ld@%s", number, s->name);
	}
	count_inflight();
	return 0;
}

static int
fake_poll(struct mls_site *s, json_t **jobs, size_t n)
{
	static const char *const name[] = {
		[F_QUEUED] = "queued", [F_RUNNING] = "running",
		[F_ENDED] = "lost", [F_CANCELLED] = "lost", [F_LOST] = "lost",
	};
	struct fjob *j;
	size_t i;

	/* a site that is only polled: time passes as it is asked */
	if (s->ops->drain == NULL)
		advance_site(s->name);
	for (i = 0; i < n; i++) {
		if ((j = world_find(mls_record_id(jobs[i]))) == NULL) {
			json_object_set_new(jobs[i], "state", json_string("lost"));
			json_object_set_new(jobs[i], "reason",
			    json_string("unknown to the fake site"));
			continue;
		}
		json_object_set_new(jobs[i], "state",
		    json_string(name[j->state]));
		if (j->state == F_LOST)
			json_object_set_new(jobs[i], "reason",
			    json_string("the node went away"));
	}
	return 0;
}

static int
fake_cancel(struct mls_site *s, json_t *job)
{
	struct fjob *j = world_find(mls_record_id(job));

	(void)s;
	evf("cancel %lld", mls_record_int(job, "number", -1));
	if (j != NULL && active(j)) {
		put_result(j, "cancelled", -1);
		j->state = F_CANCELLED;
	}
	return 0;
}

static int
fake_wait_fd(struct mls_site *s)
{
	return ((struct fsite *)s->priv)->fd[0];
}

/* Between two rounds of the loop (an announcing site). */
static void
fake_drain(struct mls_site *s, json_t *ids)
{
	size_t i;

	advance_site(s->name);
	for (i = 0; i < W.n; i++)
		if (strcmp(W.jobs[i].site, s->name) == 0)
			json_object_set_new(ids, W.jobs[i].id, json_true());
}

static const struct mls_site_ops fake_ops = {
	.type = "fake",
	.open = fake_open,
	.submit = fake_submit,
	.poll = fake_poll,
	.cancel = fake_cancel,
	.close = fake_close,
	.wait_fd = fake_wait_fd,
	.drain = fake_drain,
};

/* The same site, polled every round (no wait_fd): ends are found by poll. */
static const struct mls_site_ops fakepoll_ops = {
	.type = "fakepoll",
	.open = fake_open,
	.submit = fake_submit,
	.poll = fake_poll,
	.cancel = fake_cancel,
	.close = fake_close,
};

/* ---- the generator ------------------------------------------------------ */

static int
gen_ask(void *arg, long number, json_t **params)
{
	(void)arg;
	if (W.exhaust_at > 0 && number >= W.exhaust_at) {
		evf("exhausted %ld", number);
		return 1;
	}
	evf("ask %ld", number);
	*params = json_pack("{s:I}", "n", (json_int_t)number);
	return 0;
}

static int
gen_pending(void *arg, long number, const json_t *params)
{
	(void)arg;
	evf("pending %ld n=%lld", number, mls_record_int(params, "n", -1));
	return 0;
}

static int
gen_tell(void *arg, long number, const json_t *params, const char *state,
    double value)
{
	char k[32];

	(void)arg;
	(void)params;
	evf("tell %ld %s", number, state);
	snprintf(k, sizeof(k), "%ld", number);
	json_object_set_new(W.told, k, isnan(value) ? json_null() :
	    json_real(value));
	if (W.decide_at > 0 && ++W.tells == W.decide_at) {
		evf("decided");
		return 1;
	}
	return 0;
}

static void
on_trial(const json_t *trial, void *arg)
{
	char k[32];

	(void)arg;
	snprintf(k, sizeof(k), "%lld", mls_record_int(trial, "number", -1));
	evf("trial %s %s", k, mls_record_str(trial, "state"));
	json_object_set_new(W.trials, k, json_deep_copy(trial));
}

static void
on_log(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == MLS_LOG_WARN)
		evf("warn %s", msg);
}

/* ---- the campaign ------------------------------------------------------- */

struct spec_args {
	const char	*kind;		/* NULL: "campaign"; or "ensemble" */
	const char	*id;
	const char	*sites;		/* "a", or "a:2,b:1" with caps */
	long		 parallel;
	long		 trials;
	long		 max_failures;
	const char	*metric;	/* NULL: "loss" */
	int		 no_objective;	/* "metric": null */
	const char	*goal;		/* NULL: "min" */
	const char	*reduce;	/* NULL: "last" */
	const char	*regex;
	const char	*prune;
};

/*
 * The campaign spec, as cmd/mls-search.c builds it: the one place to
 * change when the spec becomes a typed struct.
 */
static json_t *
make_spec(const struct spec_args *a)
{
	json_t *sites = json_array(), *spec;
	char buf[64], *p, *colon, *save;

	snprintf(buf, sizeof(buf), "%s", a->sites ? a->sites : "a");
	for (p = buf; p != NULL; p = save) {
		if ((save = strchr(p, ',')) != NULL)
			*save++ = '\0';
		colon = strchr(p, ':');
		if (colon != NULL)
			*colon++ = '\0';
		json_array_append_new(sites, json_pack("{s:s,s:I}", "name", p,
		    "cap", (json_int_t)(colon ? atol(colon) : 0)));
	}
	spec = json_pack("{s:s,s:s,s:[s,s],s:o,s:I,s:{s:I,s:f,s:I},"
	    "s:{s:o,s:s,s:s,s:o},s:o,s:{s:i,s:i,s:n,s:n},s:{},s:n,s:n,s:n}",
	    "kind", a->kind ? a->kind : "campaign", "id", a->id,
	    "command", "train", "--n={n}",
	    "sites", sites, "parallel", (json_int_t)a->parallel,
	    "budget", "trials", (json_int_t)a->trials, "timeout_s", 0.0,
	    "max_failures", (json_int_t)a->max_failures,
	    "objective", "metric", a->no_objective ? json_null() :
	    json_string(a->metric ? a->metric : "loss"),
	    "goal", a->goal ? a->goal : "min",
	    "reduce", a->reduce ? a->reduce : "last",
	    "regex", a->regex ? json_string(a->regex) : json_null(),
	    "prune", a->prune ? json_string(a->prune) : json_null(),
	    "resources", "cpus", 1, "gpus", 0, "mem_mb", "time_s",
	    "env", "name", "sandbox", "image");
	/* a space, as every real spec has one (the generator is the test's) */
	if (spec != NULL)
		json_object_set_new(spec, "space", json_pack("{s:{s:s,s:f,s:f}}",
		    "x", "type", "uniform", "low", 0.0, "high", 1.0));
	if (spec == NULL)
		printf("# make_spec: json_pack failed\n");
	return spec;
}

/* One run of the loop, as a fresh driver process would: 0 or an error. */
static int
run(json_t *spec, int resume, int cancel_on_exit, struct mls_pruner *pr,
    json_t **rec)
{
	struct mls_campaign_gen gen = {
		gen_ask, gen_pending, gen_tell, NULL,
	};
	struct mls_campaign_opts o = {
		.kind = mls_record_kind(spec), .spec = spec, .resume = resume,
		.cancel_on_exit = cancel_on_exit, .stop = &W.stop,
		.on_trial = on_trial,
	};
	struct mls_tracker *tr = NULL;
	struct mls_site *s;
	size_t i;
	int rc;

	*rec = NULL;
	W.stop = 0;
	W.ends = 0;
	evf("== %s", resume ? "resume" : "run");
	if ((rc = mls_tracker_new(&tr, &cfg, st)) < 0)
		return rc;
	/* every site opens before anything runs, as in mls-search */
	for (i = 0; i < json_array_size(json_object_get(spec, "sites")); i++)
		if ((rc = mls_tracker_site(tr, mls_record_str(json_array_get(
		    json_object_get(spec, "sites"), i), "name"), &s)) < 0)
			goto out;
	rc = mls_campaign_run(&cfg, st, tr, &gen, pr, &o, rec);
	if (rc < 0)
		printf("# mls_campaign_run: %s\n", mls_error_last());
out:
	mls_tracker_free(tr);
	evf("== done");
	return rc;
}

static long long
count(const json_t *rec, const char *what)
{
	return mls_record_int(json_object_get(rec, "counts"), what, -1);
}

static const json_t *
trial(long number)
{
	char k[32];

	snprintf(k, sizeof(k), "%ld", number);
	return json_object_get(W.trials, k);
}

static double
told(long number)
{
	char k[32];

	snprintf(k, sizeof(k), "%ld", number);
	return mls_record_num(W.told, k, NAN);
}

/* Every job of the world was started once; numbers 0..n-1 each once. */
static int
each_once(long n)
{
	long k;

	if ((long)W.n != n || ev_count(0, "ask ") != n)
		return 0;
	for (k = 0; k < n; k++)
		if (world_number(k) == NULL || world_number(k)->starts != 1)
			return 0;
	for (size_t i = 0; i < W.n; i++)
		for (size_t k2 = i + 1; k2 < W.n; k2++)
			if (W.jobs[i].number == W.jobs[k2].number)
				return 0;
	return 1;
}

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* ---- the cases ---------------------------------------------------------- */

/* Budget and parallelism: N in flight at most, and no trial past the budget. */
static void
test_budget_parallel(void)
{
	struct spec_args a = { .id = "c-budget", .parallel = 3, .trials = 7 };
	json_t *spec = make_spec(&a), *rec = NULL;
	long n;
	int order = 1;

	world_reset();
	ok(run(spec, 0, 0, NULL, &rec) == 0, "budget: the campaign runs");
	ok(!W.runaway, "budget: it ends by itself");
	ok(each_once(7), "budget: 7 trials, each submitted once (%zu jobs)",
	    W.n);
	ok(W.max_inflight == 3, "budget: never more than 3 in flight, and 3 "
	    "reached (%ld)", W.max_inflight);
	ok(ev("ask 7") < 0 && ev("exhausted") < 0,
	    "budget: no trial is asked for past the budget");
	for (n = 0; n < 7; n++)
		if (!(ev("ask %ld", n) < ev("submit %ld@a", n) &&
		    ev("submit %ld@a", n) < ev("end %ld", n) &&
		    ev("end %ld", n) < ev("tell %ld succeeded", n) &&
		    ev("tell %ld succeeded", n) < ev("trial %ld succeeded", n)))
			order = 0;
	ok(order, "budget: each trial is asked, submitted, ends, is told, "
	    "then reported");
	ok(strcmp(mls_record_str(rec, "state"), "finished") == 0 &&
	    strcmp(mls_record_str(rec, "end"), "budget") == 0,
	    "budget: finished, end 'budget'");
	ok(count(rec, "total") == 7 && count(rec, "succeeded") == 7 &&
	    count(rec, "running") == 0 && count(rec, "queued") == 0,
	    "budget: counts");
	if (!order || W.max_inflight != 3)
		dump_events();
	json_decref(rec);
	json_decref(spec);
}

/*
 * Trial ids are "j-" + 10 characters of the time in ms + 8 of a hash of the
 * campaign id + 8 of the number, in lowercase Crockford base32: a resumed
 * driver finds its old trials in the store by them, so they must never
 * change.  Encoded here as the first driver did, not with mls_id.
 */
static const char old_alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";

static void
old_b32(char *out, unsigned long long v, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = old_alpha[(v >> (5 * (n - 1 - i))) & 31];
	out[n] = '\0';
}

static void
test_trial_ids(void)
{
	struct spec_args a = { .id = "c-ids", .parallel = 1, .trials = 3 };
	json_t *spec = make_spec(&a), *rec = NULL;
	unsigned long long t0, t1, ms;
	char want[16], tag[16];
	const char *id, *p;
	int good = 1;

	world_reset();
	t0 = (unsigned long long)time(NULL) * 1000;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && W.n == 3, "ids: the campaign "
	    "runs 3 trials");
	t1 = ((unsigned long long)time(NULL) + 1) * 1000;
	/* sha256("c-ids"), its first 40 bits, in base32 */
	old_b32(tag, 0x83f955b44cULL, 8);
	ok(strcmp(tag, "gfwnbd2c") == 0, "ids: the campaign's tag (%s)", tag);
	for (size_t i = 0; i < W.n; i++) {
		id = W.jobs[i].id;
		old_b32(want, (unsigned long long)W.jobs[i].number, 8);
		ms = 0;
		for (int k = 2; strlen(id) == 28 && k < 12; k++) {
			if ((p = strchr(old_alpha, id[k])) == NULL || *p == '\0')
				ms = 0;	/* not the alphabet: out of range */
			else
				ms = ms << 5 | (unsigned long long)(p - old_alpha);
		}
		if (strlen(id) != 28 || strncmp(id, "j-", 2) != 0 ||
		    strncmp(id + 12, tag, 8) != 0 ||
		    strcmp(id + 20, want) != 0 || ms < t0 || ms > t1) {
			printf("# trial %ld: id '%s'\n", W.jobs[i].number, id);
			good = 0;
		}
	}
	ok(good, "ids: j-, the time, the campaign's tag and the number, as "
	    "the first driver wrote them");
	json_decref(rec);
	json_decref(spec);
}

/* The objective: metric values reduced by last, best and mean. */
static const double reduce_vals[] = { 4.0, 1.0, 2.0 };

static void
reduce_plan(const struct fjob *j, struct plan *p)
{
	(void)j;
	memcpy(p->vals, reduce_vals, sizeof(reduce_vals));
	p->nvals = 3;
}

static void
test_objective_reduce(void)
{
	static const struct {
		const char	*reduce, *goal;
		double		 want;
	} c[] = {
		{ "last", "min", 2.0 },
		{ "best", "min", 1.0 },
		{ "mean", "min", 7.0 / 3.0 },
		{ "best", "max", 4.0 },
		{ "last", "max", 2.0 },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char id[64];
		struct spec_args a = { .id = id, .parallel = 1, .trials = 1,
		    .reduce = c[i].reduce, .goal = c[i].goal };
		json_t *spec, *rec = NULL;
		double obj;

		snprintf(id, sizeof(id), "c-reduce-%s-%s", c[i].reduce,
		    c[i].goal);
		spec = make_spec(&a);
		world_reset();
		W.plan = reduce_plan;
		ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway,
		    "reduce %s (%s): runs", c[i].reduce, c[i].goal);
		obj = mls_record_num(trial(0), "objective", NAN);
		ok(near(obj, c[i].want), "reduce %s (%s): objective %g "
		    "(want %g)", c[i].reduce, c[i].goal, obj, c[i].want);
		ok(near(told(0), strcmp(c[i].goal, "max") == 0 ? -c[i].want :
		    c[i].want), "reduce %s (%s): the generator is told %g, "
		    "minimised", c[i].reduce, c[i].goal, told(0));
		ok(near(mls_record_num(json_object_get(rec, "best"), "value",
		    NAN), c[i].want), "reduce %s (%s): the campaign's best",
		    c[i].reduce, c[i].goal);
		json_decref(rec);
		json_decref(spec);
	}
}

/* The objective from stdout with --metric-regex. */
static void
regex_plan(const struct fjob *j, struct plan *p)
{
	(void)j;
	p->vals[0] = 9.0;	/* in metrics.jsonl: not the source */
	p->nvals = 1;
	p->out = "epoch 1 acc=0.50\nepoch 2 acc=0.75\ndone\n";
}

static void
test_objective_regex(void)
{
	struct spec_args a = { .id = "c-regex", .parallel = 1, .trials = 1,
	    .metric = "acc", .goal = "max", .regex = "acc=([0-9.]+)" };
	json_t *spec = make_spec(&a), *rec = NULL;

	world_reset();
	W.plan = regex_plan;
	ok(run(spec, 0, 0, NULL, &rec) == 0, "regex: runs");
	ok(near(mls_record_num(trial(0), "objective", NAN), 0.75),
	    "regex: the last match on stdout is the objective");
	ok(near(told(0), -0.75), "regex: told minimised");
	json_decref(rec);
	json_decref(spec);
}

/* Failed trials: a non-zero exit, and a success without the objective. */
static void
fail_plan(const struct fjob *j, struct plan *p)
{
	p->vals[0] = 1.0;
	p->nvals = 1;
	if (j->number == 1)
		p->exit_code = 3;
	if (j->number == 2)
		p->metric = "acc";	/* not the objective */
}

static void
test_failed_trial(void)
{
	struct spec_args a = { .id = "c-fail", .parallel = 1, .trials = 3 };
	json_t *spec = make_spec(&a), *rec = NULL;
	const char *why;

	world_reset();
	W.plan = fail_plan;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "fail: runs");
	ok(each_once(3), "fail: a failed trial is not retried");
	ok(strcmp(mls_record_str(trial(1), "state"), "failed") == 0 &&
	    mls_record_int(trial(1), "exit_code", -1) == 3 &&
	    json_is_null(json_object_get(trial(1), "objective")),
	    "fail: exit 3 is a failed trial with its exit code, no objective");
	ok(ev("tell 1 failed") > ev("end 1") && isnan(told(1)),
	    "fail: the generator is told 'failed', with no value");
	why = mls_record_str(trial(2), "reason");
	ok(strcmp(mls_record_str(trial(2), "state"), "failed") == 0 &&
	    why != NULL && strstr(why, "objective 'loss' was not reported") !=
	    NULL, "fail: a success without the objective fails: %s",
	    why ? why : "(no reason)");
	ok(ev("tell 2 failed") >= 0, "fail: told so");
	ok(strcmp(mls_record_str(rec, "state"), "finished") == 0 &&
	    count(rec, "succeeded") == 1 && count(rec, "failed") == 2 &&
	    mls_record_int(json_object_get(rec, "best"), "number", -1) == 0,
	    "fail: finished with 1 succeeded, 2 failed; the best is trial 0");
	json_decref(rec);
	json_decref(spec);
}

static void
all_fail_plan(const struct fjob *j, struct plan *p)
{
	(void)j;
	p->nvals = 0;
	p->exit_code = 1;
}

/* No success: the campaign failed; max failures end it. */
static void
test_max_failures(void)
{
	struct spec_args a = { .id = "c-maxfail", .parallel = 1, .trials = 10,
	    .max_failures = 2 };
	json_t *spec = make_spec(&a), *rec = NULL;

	world_reset();
	W.plan = all_fail_plan;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "max-failures: runs");
	ok(strcmp(mls_record_str(rec, "state"), "failed") == 0 &&
	    strcmp(mls_record_str(rec, "end"), "max-failures") == 0,
	    "max-failures: state failed, end 'max-failures'");
	ok(count(rec, "failed") >= 2 && count(rec, "total") < 10,
	    "max-failures: it stops before the budget (%lld trials)",
	    count(rec, "total"));
	ok(count(rec, "total") == 2 && ev("submit 2@a") < 0,
	    "max-failures: no trial is started once 2 have failed "
	    "(%lld started)", count(rec, "total"));
	json_decref(rec);
	json_decref(spec);
}

/* An ensemble without an objective: a member that exits 0 succeeded. */
static void
test_ensemble(void)
{
	struct spec_args a = { .kind = "ensemble", .id = "e-members",
	    .parallel = 2, .trials = 3, .no_objective = 1 };
	json_t *spec = make_spec(&a), *rec = NULL;

	world_reset();
	W.plan = fail_plan;	/* member 1 exits 3; 2 reports no loss */
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "ensemble: runs");
	ok(strcmp(mls_record_kind(trial(0)), "member") == 0 &&
	    strcmp(mls_record_str(trial(0), "ensemble"), "e-members") == 0,
	    "ensemble: members are 'member' records of their ensemble");
	ok(ev("tell 0 succeeded") >= 0 && ev("tell 1 failed") >= 0 &&
	    ev("tell 2 succeeded") >= 0 && isnan(told(0)),
	    "ensemble: exit 0 is success, with no value");
	ok(strcmp(mls_record_kind(rec), "ensemble") == 0 &&
	    strcmp(mls_record_str(rec, "state"), "finished") == 0 &&
	    count(rec, "succeeded") == 2 && count(rec, "failed") == 1 &&
	    json_is_null(json_object_get(rec, "best")),
	    "ensemble: the record: 2 succeeded, 1 failed, no best");
	json_decref(rec);
	json_decref(spec);
}

/* A generator that runs out: the campaign ends "exhausted". */
static void
test_exhausted(void)
{
	struct spec_args a = { .id = "c-exhaust", .parallel = 2, .trials = 0 };
	json_t *spec = make_spec(&a), *rec = NULL;

	world_reset();
	W.exhaust_at = 3;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "exhausted: runs");
	ok(each_once(3) && ev_count(0, "exhausted") == 1,
	    "exhausted: 3 trials, and the generator is not asked again after "
	    "it ran out");
	ok(strcmp(mls_record_str(rec, "end"), "exhausted") == 0 &&
	    count(rec, "total") == 3, "exhausted: end 'exhausted'");
	json_decref(rec);
	json_decref(spec);
}

/*
 * Stop midway, then resume: the trials in flight are re-attached (not sent
 * again), the finished ones are told again (not rerun), and the budget
 * holds.
 */
static void
slow_plan(const struct fjob *j, struct plan *p)
{
	int k;

	/* trial n takes n % 3 + 1 rounds of metrics: ends interleave */
	p->nvals = (int)(j->number % 3) + 2;
	for (k = 0; k < p->nvals; k++)
		p->vals[k] = 10.0 - (double)j->number - 0.1 * k;
}

static void
test_resume(void)
{
	struct spec_args a = { .id = "c-resume", .parallel = 2, .trials = 6 };
	json_t *spec = make_spec(&a), *rec = NULL, *rec2 = NULL, *loaded = NULL;
	long n, mark, done1, sent1, inflight1 = 0;
	int rerun = 0, told_again = 1;

	world_reset();
	W.plan = slow_plan;
	W.stop_after_ends = 3;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway,
	    "resume: the first run stops");
	ok(rec != NULL && strcmp(mls_record_str(rec, "state"),
	    "interrupted") == 0 && strcmp(mls_record_str(rec, "end"),
	    "interrupted") == 0, "resume: interrupted");
	ok(ev("cancel") < 0, "resume: without cancel_on_exit nothing is "
	    "cancelled");
	for (n = 0; n < (long)W.n; n++)
		if (active(&W.jobs[n]))
			inflight1++;
	done1 = ev_count(0, "trial ");
	sent1 = (long)W.n;
	ok(done1 > 0 && inflight1 > 0 && W.n < 6, "resume: the stop came "
	    "midway (%ld reported, %ld still running, %zu sent)", done1,
	    inflight1, W.n);
	ok(count(rec, "running") + count(rec, "queued") == sent1 - done1,
	    "resume: the record counts the %ld trials left in flight",
	    sent1 - done1);
	ok(mls_campaign_load(&cfg, "c-resume", &loaded, NULL) == 0 &&
	    strcmp(mls_record_str(loaded, "state"), "interrupted") == 0,
	    "resume: the journal says interrupted");
	json_decref(loaded);
	loaded = NULL;

	W.stop_after_ends = 0;
	ok(run(spec, 1, 0, NULL, &rec2) == 0 && !W.runaway,
	    "resume: the second run ends");
	mark = ev("== resume");
	ok(each_once(6), "resume: 6 trials in all, none submitted twice, "
	    "none asked for twice");
	ok(ev_from(mark, "adopt") < 0, "resume: acknowledged trials are not "
	    "sent again");
	for (n = 0; n < 6; n++) {
		long t1 = ev("trial %ld ", n);
		char s[64];
		if (t1 >= 0 && t1 < mark) {
			/* reported by the first run: told, not rerun */
			snprintf(s, sizeof(s), "run %ld", n);
			if (ev_from(mark, s) >= 0)
				rerun = 1;
			snprintf(s, sizeof(s), "tell %ld succeeded", n);
			if (ev_from(mark, s) < 0 || ev_from(mark, "ask ") <
			    ev_from(mark, s))
				told_again = 0;
		}
	}
	ok(!rerun, "resume: finished trials are not rerun");
	ok(W.max_inflight <= 2, "resume: never more than 2 in flight over "
	    "both runs (%ld)", W.max_inflight);
	ok(told_again, "resume: finished trials are told to the generator "
	    "again, before any new trial is asked for");
	ok(ev_count(mark, "pending ") == sent1 - done1,
	    "resume: the %ld trials sent and not reported are pending for "
	    "the generator", ev_count(mark, "pending "));
	ok(rec2 != NULL && strcmp(mls_record_str(rec2, "state"),
	    "finished") == 0 && count(rec2, "total") == 6 &&
	    count(rec2, "succeeded") == 6, "resume: finished, 6 succeeded");
	ok(mls_record_int(json_object_get(rec2, "best"), "number", -1) == 5 &&
	    near(mls_record_num(json_object_get(rec2, "best"), "value", NAN),
	    10.0 - 5 - 0.1 * 3), "resume: the best holds over both runs");
	ok(mls_campaign_load(&cfg, "c-resume", &loaded, NULL) == 0 &&
	    strcmp(mls_record_str(loaded, "state"), "finished") == 0 &&
	    count(loaded, "total") == 6 && count(loaded, "succeeded") == 6,
	    "resume: the journal agrees");
	if (rerun || !told_again)
		dump_events();
	json_decref(loaded);
	json_decref(rec);
	json_decref(rec2);
	json_decref(spec);
}

/*
 * A site that does not announce ends is polled every round; a job that
 * ends between the store's look and the driver's is still seen to end.
 */
static void
test_polled_site(void)
{
	struct spec_args a = { .id = "c-polled", .sites = "p", .parallel = 2,
	    .trials = 4 };
	json_t *spec = make_spec(&a), *rec = NULL;

	world_reset();
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "polled: runs");
	ok(each_once(4) && W.max_inflight == 2, "polled: 4 trials, 2 in "
	    "flight at most");
	ok(ev("end 0") < ev("trial 0 succeeded") && ev("end 3") <
	    ev("trial 3 succeeded"), "polled: ends are found by polling");
	ok(count(rec, "succeeded") == 4 && strcmp(mls_record_str(rec, "end"),
	    "budget") == 0, "polled: 4 succeeded");
	json_decref(rec);
	json_decref(spec);
}

/* Stop with cancel_on_exit: the trials in flight are cancelled. */
static void
test_stop_cancel(void)
{
	struct spec_args a = { .id = "c-stopcancel", .parallel = 3,
	    .trials = 9 };
	json_t *spec = make_spec(&a), *rec = NULL;
	long stop;
	size_t i, cancelled = 0, left = 0;

	world_reset();
	W.plan = slow_plan;
	W.stop_after_ends = 1;
	ok(run(spec, 0, 1, NULL, &rec) == 0 && !W.runaway, "stop: runs");
	stop = ev("stop requested");
	for (i = 0; i < W.n; i++) {
		if (W.jobs[i].state == F_CANCELLED)
			cancelled++;
		if (active(&W.jobs[i]))
			left++;
	}
	ok(stop >= 0 && cancelled > 0 && left == 0 &&
	    ev_from(stop, "cancel") > stop, "stop: the %zu trials in flight "
	    "are cancelled after the stop", cancelled);
	ok(ev_from(stop, "submit") < 0, "stop: nothing is submitted after it");
	ok(strcmp(mls_record_str(rec, "state"), "interrupted") == 0,
	    "stop: interrupted");
	json_decref(rec);
	json_decref(spec);
}

/*
 * The lazy journal (one site): a crash loses the journal's tail, but
 * trial ids derive from the campaign id and the number, so a resumed
 * driver finds in the store what it sent: one acknowledged but not
 * journalled so, one sent and not journalled at all (which ended while the
 * driver was down).
 */
static void
lost_plan(const struct fjob *j, struct plan *p)
{
	int k;

	p->nvals = j->number == 0 ? 4 : 1;
	for (k = 0; k < p->nvals; k++)
		p->vals[k] = 1.0 + (double)j->number;
}

/* Keep the journal's start event and trial 0's submit event only. */
static int
lose_journal_tail(const char *id)
{
	struct mls_buf keep = MLS_BUF_INIT;
	char *path = NULL, *line = NULL;
	size_t cap = 0;
	FILE *fp;
	int rc = -1;

	if (mls_campaign_journal_path(&cfg, id, &path) < 0 ||
	    (fp = fopen(path, "r")) == NULL)
		goto out;
	while (getline(&line, &cap, fp) > 0) {
		json_t *e = json_loads(line, 0, NULL);
		const char *ev = mls_record_str(e, "ev");
		if (ev != NULL && (strcmp(ev, "start") == 0 ||
		    (strcmp(ev, "submit") == 0 &&
		    mls_record_int(e, "number", -1) == 0)))
			mls_buf_adds(&keep, line);
		json_decref(e);
	}
	fclose(fp);
	if ((fp = fopen(path, "w")) == NULL)
		goto out;
	if (fwrite(keep.buf, 1, keep.len, fp) == keep.len)
		rc = 0;
	if (fclose(fp) != 0)
		rc = -1;
out:
	free(line);
	free(path);
	mls_buf_release(&keep);
	return rc;
}

static void
test_lost_journal(void)
{
	struct spec_args a = { .id = "c-lazy", .parallel = 2, .trials = 4 };
	json_t *spec = make_spec(&a), *rec = NULL, *rec2 = NULL, *loaded = NULL,
	    *trials = NULL;
	long mark;
	struct fjob *j1;

	world_reset();
	W.plan = lost_plan;
	W.stop_after_ends = 1;		/* trial 1 ends first */
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway,
	    "lazy: the first run stops");
	j1 = world_number(1);
	ok(W.n == 2 && j1 != NULL && j1->state == F_ENDED &&
	    world_number(0)->state == F_RUNNING && ev("trial 1") < 0,
	    "lazy: trial 1 ended unseen, trial 0 runs");
	ok(lose_journal_tail("c-lazy") == 0, "lazy: the journal loses its "
	    "tail (trial 0 is not acknowledged, trial 1 was never sent)");

	mark = ev_count(0, "");
	W.stop_after_ends = 0;
	ok(run(spec, 1, 0, NULL, &rec2) == 0 && !W.runaway,
	    "lazy: the resumed run ends");
	ok(ev_from(mark, "adopt 0@a") >= 0 && ev_from(mark, "submit 0@") < 0,
	    "lazy: trial 0 is sent again under its id and the site adopts it");
	ok(ev_from(mark, "submit 1@") < 0 && ev_from(mark, "adopt 1@") < 0 &&
	    ev_from(mark, "ask 1") < 0,
	    "lazy: trial 1 is found in the store: not asked for, not sent");
	ok(ev_from(mark, "pending 1 n=1") >= 0 &&
	    ev_from(mark, "pending 0 n=0") >= 0,
	    "lazy: both are pending for the generator, with their params");
	ok(ev_from(mark, "trial 1 succeeded") >= 0 && near(told(1), 2.0),
	    "lazy: trial 1's result is taken from the store");
	ok(each_once(4), "lazy: 4 trials in all, each started once");
	ok(rec2 != NULL && count(rec2, "total") == 4 &&
	    count(rec2, "succeeded") == 4 &&
	    strcmp(mls_record_str(rec2, "end"), "budget") == 0,
	    "lazy: the budget holds: 4 trials, 4 succeeded");
	ok(mls_campaign_load(&cfg, "c-lazy", &loaded, &trials) == 0 &&
	    json_array_size(trials) == 4 && j1 != NULL &&
	    strcmp(mls_record_id(json_array_get(trials, 1)), j1->id) == 0 &&
	    count(loaded, "succeeded") == 4, "lazy: trial 1 is journalled "
	    "again, under its id");
	json_decref(loaded);
	json_decref(trials);
	json_decref(rec);
	json_decref(rec2);
	json_decref(spec);
}

/* Two sites with capacities: placement never exceeds a site's cap. */
static void
test_two_sites(void)
{
	struct spec_args a = { .id = "c-sites", .sites = "a:2,b:1",
	    .parallel = 5, .trials = 9 };
	json_t *spec = make_spec(&a), *rec = NULL;
	size_t i, on_a = 0, on_b = 0;

	world_reset();
	W.plan = slow_plan;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "sites: runs");
	for (i = 0; i < W.n; i++) {
		if (strcmp(W.jobs[i].site, "a") == 0)
			on_a++;
		else if (strcmp(W.jobs[i].site, "b") == 0)
			on_b++;
	}
	ok(each_once(9), "sites: 9 trials, each once");
	ok(on_a > 0 && on_b > 0 && on_a + on_b == 9,
	    "sites: both sites get trials (a %zu, b %zu)", on_a, on_b);
	ok(mls_record_int(W.site_max, "a", 0) == 2 &&
	    mls_record_int(W.site_max, "b", 0) == 1,
	    "sites: in flight at most cap 2 on a, cap 1 on b (%lld, %lld)",
	    mls_record_int(W.site_max, "a", 0),
	    mls_record_int(W.site_max, "b", 0));
	ok(W.max_inflight == 3, "sites: the caps bound parallel 5 to 3");
	ok(count(rec, "succeeded") == 9, "sites: all succeed");
	for (i = 0; i < W.n; i++)
		if (strcmp(mls_record_str(trial(W.jobs[i].number), "site"),
		    W.jobs[i].site) != 0)
			break;
	ok(i == W.n, "sites: each trial record names its site");
	json_decref(rec);
	json_decref(spec);
}

/* A site whose trials are lost 3 times in a row gets no new trials. */
static void
pause_plan(const struct fjob *j, struct plan *p)
{
	p->vals[0] = 1.0;
	p->nvals = 1;
	p->lose = strcmp(j->site, "a") == 0;
}

static void
test_pause(void)
{
	struct spec_args a = { .id = "c-pause", .sites = "a,b:1",
	    .parallel = 2, .trials = 8 };
	json_t *spec = make_spec(&a), *rec = NULL;
	size_t i, lost = 0;
	long warn;

	world_reset();
	W.plan = pause_plan;
	mls_log_set_handler(on_log, NULL);
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "pause: runs");
	mls_log_set_handler(NULL, NULL);
	for (i = 0; i < W.n; i++)
		if (W.jobs[i].state == F_LOST)
			lost++;
	warn = ev("warn site 'a': 3 trials in a row failed there");
	ok(lost >= 3 && warn >= 0, "pause: 3 lost trials on a pause it (%zu "
	    "lost)", lost);
	ok(ev_from(warn, "submit ") > warn, "pause: trials go on after it");
	{
		long k = warn, bad = 0;
		while ((k = ev_from(k + 1, "submit ")) >= 0)
			if (strstr(json_string_value(json_array_get(W.events,
			    (size_t)k)), "@a") != NULL)
				bad++;
		ok(bad == 0, "pause: no trial goes to a once it is paused "
		    "(%ld did)", bad);
	}
	ok(count(rec, "total") == 8 && count(rec, "failed") == (long long)lost,
	    "pause: the budget is spent on b; lost trials count as failed");
	if (warn < 0)
		dump_events();
	json_decref(rec);
	json_decref(spec);
}

/* The median pruner stops a trial that is worse than the others. */
static void
prune_plan(const struct fjob *j, struct plan *p)
{
	int k;

	p->nvals = 4;
	for (k = 0; k < 4; k++)
		p->vals[k] = (j->number == 2 ? 5.0 : 1.0) - 0.1 * k;
}

static void
test_prune(void)
{
	struct spec_args a = { .id = "c-prune", .parallel = 1, .trials = 4,
	    .prune = "median" };
	json_t *spec = make_spec(&a), *rec = NULL, *opts, *loaded = NULL;
	struct mls_pruner *pr = NULL;
	const char *why;

	opts = json_pack("{s:i}", "startup_trials", 2);
	ok(mls_pruner_new(&pr, "median", opts) == 0, "prune: a median pruner");
	json_decref(opts);
	world_reset();
	W.plan = prune_plan;
	ok(run(spec, 0, 0, pr, &rec) == 0 && !W.runaway, "prune: runs");
	ok(ev("metric 2:0") >= 0 && ev("metric 2:0") < ev("cancel 2") &&
	    ev("metric 2:1") < 0 && ev("end 2") < 0,
	    "prune: trial 2 is cancelled after its first bad value, before "
	    "its second");
	ok(ev("cancel 0") < 0 && ev("cancel 1") < 0 && ev("cancel 3") < 0,
	    "prune: the good trials run to their end");
	ok(ev("tell 2 pruned") > ev("cancel 2") && near(told(2), 5.0),
	    "prune: the generator is told 'pruned' with its last value");
	why = mls_record_str(trial(2), "reason");
	ok(json_is_true(json_object_get(trial(2), "pruned")) && why != NULL &&
	    strcmp(why, "pruned at step 0 by the median pruner") == 0,
	    "prune: the trial record says why: %s", why ? why : "(none)");
	ok(count(rec, "pruned") == 1 && count(rec, "succeeded") == 3 &&
	    count(rec, "failed") == 0 && count(rec, "cancelled") == 0,
	    "prune: counted as pruned, not cancelled");
	ok(mls_campaign_load(&cfg, "c-prune", &loaded, NULL) == 0 &&
	    count(loaded, "pruned") == 1 && count(loaded, "succeeded") == 3,
	    "prune: the journal agrees");
	json_decref(loaded);
	json_decref(rec);
	json_decref(spec);
	mls_pruner_free(pr);
}

/* The generator decides: the trials in flight are cancelled, no new one. */
static void
test_decided(void)
{
	struct spec_args a = { .id = "c-decided", .parallel = 3, .trials = 20 };
	json_t *spec = make_spec(&a), *rec = NULL;
	long d;

	world_reset();
	W.plan = slow_plan;
	W.decide_at = 2;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "decided: runs");
	d = ev("decided");
	ok(d >= 0 && ev_from(d, "cancel ") > d, "decided: the trials in "
	    "flight are cancelled");
	ok(strcmp(mls_record_str(rec, "end"), "decided") == 0 &&
	    count(rec, "cancelled") > 0 && count(rec, "total") < 20,
	    "decided: end 'decided', before the budget");
	ok(ev_from(d, "submit ") < 0, "decided: no trial is started once "
	    "decided (%ld were)", ev_count(d, "submit "));
	json_decref(rec);
	json_decref(spec);
}

/* The campaign record: counts, best and its series, in the run and loaded. */
static void
record_plan(const struct fjob *j, struct plan *p)
{
	static const double v[] = { 3.0, 2.5, 0, 4.0, 1.5, 2.0 };

	p->vals[0] = v[j->number % 6];
	p->nvals = 1;
	p->exit_code = j->number == 2 ? 7 : 0;
}

static void
test_record(void)
{
	struct spec_args a = { .id = "c-record", .parallel = 1, .trials = 6 };
	json_t *spec = make_spec(&a), *rec = NULL, *loaded = NULL,
	    *trials = NULL, *best, *series, *last;
	size_t i;
	int sorted = 1, falling = 1;

	world_reset();
	W.plan = record_plan;
	ok(run(spec, 0, 0, NULL, &rec) == 0 && !W.runaway, "record: runs");
	ok(strcmp(mls_record_str(rec, "kind"), "campaign") == 0 &&
	    strcmp(mls_record_id(rec), "c-record") == 0 &&
	    mls_record_str(rec, "started") != NULL &&
	    mls_record_str(rec, "finished") != NULL,
	    "record: kind, id, started, finished");
	ok(count(rec, "total") == 6 && count(rec, "succeeded") == 5 &&
	    count(rec, "failed") == 1 && count(rec, "pruned") == 0 &&
	    count(rec, "cancelled") == 0, "record: counts");
	best = json_object_get(rec, "best");
	ok(mls_record_int(best, "number", -1) == 4 &&
	    near(mls_record_num(best, "value", NAN), 1.5) &&
	    mls_record_int(json_object_get(best, "params"), "n", -1) == 4 &&
	    world_number(4) != NULL && strcmp(mls_record_str(best, "job"),
	    world_number(4)->id) == 0, "record: best is trial 4 (1.5), its "
	    "params and job");
	series = json_object_get(rec, "best_so_far");
	for (i = 1; i < json_array_size(series); i++)
		if (json_number_value(json_array_get(json_array_get(series, i),
		    1)) >= json_number_value(json_array_get(json_array_get(
		    series, i - 1), 1)))
			falling = 0;
	last = json_array_get(series, json_array_size(series) - 1);
	ok(json_array_size(series) == 3 && falling &&
	    json_integer_value(json_array_get(last, 0)) == 4,
	    "record: best_so_far is 3.0, 2.5, 1.5");
	ok(mls_campaign_load(&cfg, "c-record", &loaded, &trials) == 0,
	    "record: load from the journal");
	ok(json_equal(json_object_get(loaded, "counts"),
	    json_object_get(rec, "counts")) &&
	    json_equal(json_object_get(loaded, "best"), best) &&
	    json_equal(json_object_get(loaded, "best_so_far"), series) &&
	    strcmp(mls_record_str(loaded, "state"), "finished") == 0 &&
	    strcmp(mls_record_str(loaded, "end"), "budget") == 0,
	    "record: the loaded record agrees (counts, best, series, state)");
	for (i = 0; i < json_array_size(trials); i++)
		if (mls_record_int(json_array_get(trials, i), "number", -1) !=
		    (long long)i)
			sorted = 0;
	ok(json_array_size(trials) == 6 && sorted &&
	    strcmp(mls_record_str(json_array_get(trials, 2), "state"),
	    "failed") == 0 && strcmp(mls_record_kind(json_array_get(trials,
	    0)), "trial") == 0, "record: the trials, by number");
	json_decref(trials);
	json_decref(loaded);
	json_decref(rec);
	json_decref(spec);
}

int
main(void)
{
	char path[512], cmd[600];
	FILE *fp;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	setenv("MLS_DATA_HOME", path, 1);
	snprintf(path, sizeof(path), "file://%s/store", tmpdir);
	setenv("MLS_STORE", path, 1);
	unsetenv("MLS_SITE");
	unsetenv("MLS_CONFIG");
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		return 1;
	}
	fprintf(fp, "[site \"a\"]\ntype = fake\n[site \"b\"]\ntype = fake\n"
	    "[site \"p\"]\ntype = fakepoll\n");
	fclose(fp);

	ok(mls_site_register(&fake_ops) == 0 &&
	    mls_site_register(&fakepoll_ops) == 0 &&
	    mls_site_register(&fake_ops) == 0, "register two fake site types "
	    "(the same one twice is once)");
	ok(mls_config_load_file(&cfg, path) == 0, "config");
	ok(mls_store_open(&st, &cfg, NULL) == 0, "store");
	world_reset();
	{
		/* the one place a campaign id becomes a path checks it */
		static const char *const bad[] = { "c-\n", "c-a/b", "", ".",
		    "../../x", NULL };
		char *p = NULL;
		int all = 1;
		for (size_t i = 0; bad[i] != NULL; i++)
			if (mls_campaign_dir(&cfg, bad[i], &p) != MLS_EINPUT ||
			    p != NULL || mls_campaign_journal_path(&cfg, bad[i],
			    &p) != MLS_EINPUT || p != NULL ||
			    mls_campaign_control_clear(&cfg, bad[i]) != MLS_EINPUT)
				all = 0;
		ok(all && strstr(mls_error_last(), "not a valid id") != NULL,
		    "campaign ids that are paths are refused: %s", mls_error_last());
		ok(mls_campaign_dir(&cfg, "c-01m99fqabtasazf438mdxw7mbm", &p) == 0 &&
		    strstr(p, "/campaigns/c-01m99fqabtasazf438mdxw7mbm") != NULL,
		    "a campaign id is a directory under campaigns/");
		free(p);
	}

	test_budget_parallel();
	test_trial_ids();
	test_objective_reduce();
	test_objective_regex();
	test_failed_trial();
	test_max_failures();
	test_exhausted();
	test_ensemble();
	test_polled_site();
	test_resume();
	test_stop_cancel();
	test_lost_journal();
	test_two_sites();
	test_pause();
	test_prune();
	test_decided();
	test_record();

	W.plan = NULL;
	world_reset();
	json_decref(W.events);
	json_decref(W.trials);
	json_decref(W.told);
	json_decref(W.site_max);
	mls_store_free(st);
	mls_config_release(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return done_testing();
}
