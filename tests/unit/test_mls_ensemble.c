#include "config.h"

#include "mls_ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls_error.h"
#include "mls_record.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (1 + fabs(b));
}

static long
member_of(const json_t *p)
{
	return (long)mls_record_int(p, "member", -1);
}

static long
attempt_of(const json_t *p)
{
	return (long)mls_record_int(p, "attempt", -1);
}

static void
test_quorum(void)
{
	long q = -1;

	ok(mls_ensemble_quorum_parse("0.95", 20, &q) == 0 && q == 19, "0.95 of 20 is 19");
	ok(mls_ensemble_quorum_parse("0.95", 200, &q) == 0 && q == 190,
	    "0.95 of 200 is 190, not 191 (rounding)");
	ok(mls_ensemble_quorum_parse("190", 200, &q) == 0 && q == 190, "a count");
	ok(mls_ensemble_quorum_parse("1.0", 7, &q) == 0 && q == 7, "1.0 is every member");
	ok(mls_ensemble_quorum_parse("0.5", 3, &q) == 0 && q == 2, "0.5 of 3 rounds up to 2");
	ok(mls_ensemble_quorum_parse("0.01", 3, &q) == 0 && q == 1, "at least one member");
	ok(mls_ensemble_quorum_parse("30", 20, &q) == MLS_EINPUT && q == 0 &&
	    strstr(mls_error_last(), "above the 20 members") != NULL,
	    "a count above the members is refused");
	ok(mls_ensemble_quorum_parse("0", 20, &q) == MLS_EINPUT, "0 is refused");
	ok(mls_ensemble_quorum_parse("1.5", 20, &q) == MLS_EINPUT &&
	    strstr(mls_error_last(), "(0, 1]") != NULL, "a fraction above 1 is refused");
	ok(mls_ensemble_quorum_parse("many", 20, &q) == MLS_EINPUT &&
	    strncmp(mls_error_last(), "quorum 'many'", 13) == 0, "words are refused");
	ok(mls_ensemble_quorum_parse("", 20, &q) == MLS_EINPUT, "empty is refused");
}

static void
test_seeds(void)
{
	unsigned long long s[1000];
	int distinct = 1, small = 1;

	for (int i = 0; i < 1000; i++) {
		s[i] = mls_ensemble_seed(42, (unsigned long long)i);
		if (s[i] >= (1ULL << 31))
			small = 0;
		for (int k = 0; k < i; k++)
			if (s[k] == s[i])
				distinct = 0;
	}
	ok(distinct, "1000 members get 1000 distinct seeds");
	ok(small, "seeds fit in 31 bits");
	ok(mls_ensemble_seed(42, 7) == s[7], "seeds are deterministic");
	ok(mls_ensemble_seed(43, 7) != s[7], "another base seed, other seeds");
	/* splitmix64 of state 0: first output 0xe220a8397b1dcdaf, >> 33 */
	ok(mls_ensemble_seed(0, 0) == (0xe220a8397b1dcdafULL >> 33),
	    "member 0 of seed 0 is splitmix64's first output, shifted");
}

static void
test_stats(void)
{
	const double v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct mls_stats s;

	mls_stats_compute(v, 8, &s);
	/* hand-computed: mean 40/8 = 5; sum of squares 32; 32/7 */
	ok(s.n == 8 && near(s.mean, 5.0), "mean of 2,4,4,4,5,5,7,9 is 5");
	ok(near(s.std, sqrt(32.0 / 7.0)), "sample std is sqrt(32/7) = %.9f", s.std);
	ok(s.min == 2 && s.max == 9, "min 2, max 9");
	mls_stats_compute(v + 6, 1, &s);
	ok(s.n == 1 && s.mean == 7 && s.std == 0 && s.min == 7 && s.max == 7,
	    "one value: std 0");
	mls_stats_compute(v, 0, &s);
	ok(s.n == 0 && isnan(s.mean) && isnan(s.std), "no values: NaN");
	{
		/* close large values: no cancellation */
		double w[] = { 1e9 + 1, 1e9 + 2, 1e9 + 3 };
		mls_stats_compute(w, 3, &s);
		ok(near(s.mean, 1e9 + 2) && fabs(s.std - 1.0) < 1e-6,
		    "1e9+1..3: mean 1e9+2, std 1");
	}
}

static void
test_generator(void)
{
	json_t *spec = json_pack("{s:s,s:I,s:I,s:I,s:I,s:s}", "id", "e-x",
	    "members", (json_int_t)3, "quorum", (json_int_t)2,
	    "retries", (json_int_t)1, "seed", (json_int_t)5, "seed_param", "rng");
	struct mls_ensemble *e = NULL;
	struct mls_ensemble_counts c;
	json_t *p[8] = { NULL }, *q;

	ok(mls_ensemble_new(&e, spec) == 0 && e != NULL, "new");
	for (int i = 0; i < 3; i++)
		ok(mls_ensemble_ask(e, i, &p[i]) == 0 && member_of(p[i]) == i &&
		    attempt_of(p[i]) == 1, "ask %d: member %d, attempt 1", i, i);
	ok(mls_record_int(p[1], "rng", -1) == (long long)mls_ensemble_seed(5, 1) &&
	    mls_record_int(p[1], "fold", -1) == 0 && json_object_get(p[1], "seed") == NULL,
	    "the seed under --seed-param, fold 0");
	ok(mls_ensemble_ask(e, 3, &q) == 2 && q == NULL,
	    "nothing to start with all in flight: 2");
	ok(mls_ensemble_tell(e, 1, p[1], "failed") == 0, "member 1 fails");
	ok(mls_ensemble_will_retry(e, 1), "member 1 will be retried");
	ok(mls_ensemble_ask(e, 3, &p[3]) == 0 && member_of(p[3]) == 1 &&
	    attempt_of(p[3]) == 2 && mls_record_int(p[3], "rng", -1) ==
	    mls_record_int(p[1], "rng", -2), "retry: member 1, attempt 2, same seed");
	ok(mls_ensemble_tell(e, 0, p[0], "failed") == 0, "member 0 fails");
	ok(mls_ensemble_ask(e, 4, &p[4]) == 0 && member_of(p[4]) == 0 &&
	    attempt_of(p[4]) == 2, "retry: member 0, attempt 2");
	ok(mls_ensemble_tell(e, 3, p[3], "failed") == 0 && !mls_ensemble_will_retry(e, 1),
	    "member 1 fails for good; the quorum is still possible");
	mls_ensemble_counts(e, &c);
	ok(c.failed == 1 && c.running == 2 && c.attempts == 5 &&
	    mls_ensemble_outcome(&c) == MLS_QUORUM_PENDING, "counts: 1 failed, 2 running");
	ok(mls_ensemble_tell(e, 4, p[4], "failed") == 1,
	    "member 0 fails for good: the quorum is missed, tell says stop");
	ok(mls_ensemble_ask(e, 5, &q) == 1 && q == NULL, "a missed quorum asks nothing more");
	mls_ensemble_counts(e, &c);
	ok(mls_ensemble_outcome(&c) == MLS_QUORUM_MISSED &&
	    strcmp(mls_quorum_name(MLS_QUORUM_MISSED), "missed") == 0, "outcome missed");
	mls_ensemble_free(e);

	/* Replay: tell and pending alone rebuild the state. */
	ok(mls_ensemble_new(&e, spec) == 0, "new for replay");
	ok(mls_ensemble_tell(e, 0, p[1], "failed") == 0 &&
	    mls_ensemble_tell(e, 1, p[0], "succeeded") == 0 &&
	    mls_ensemble_pending(e, 2, p[3]) == 0, "replay: tell, tell, pending");
	mls_ensemble_counts(e, &c);
	ok(c.succeeded == 1 && c.running == 1 && c.waiting == 1 && c.retrying == 0,
	    "rebuilt: 1 succeeded, 1 in flight (attempt 2), 1 waiting");
	ok(mls_ensemble_ask(e, 3, &q) == 0 && member_of(q) == 2 && attempt_of(q) == 1,
	    "the next ask is the member never started");
	json_decref(q);
	ok(mls_ensemble_ask(e, 4, &q) == 2, "then nothing until a trial ends");
	ok(mls_ensemble_tell(e, 2, p[3], "succeeded") == 0, "member 1 attempt 2 succeeds");
	mls_ensemble_counts(e, &c);
	ok(mls_ensemble_outcome(&c) == MLS_QUORUM_REACHED, "quorum reached");
	q = json_pack("{s:s}", "x", "y");
	ok(mls_ensemble_pending(e, 9, q) == MLS_EINPUT &&
	    strstr(mls_error_last(), "trial 9") != NULL, "foreign params are refused");
	json_decref(q);
	mls_ensemble_free(e);
	for (int i = 0; i < 8; i++)
		json_decref(p[i]);

	json_object_set_new(spec, "members", json_integer(0));
	e = (struct mls_ensemble *)spec;
	ok(mls_ensemble_new(&e, spec) == MLS_EINPUT && e == NULL, "0 members: refused");
	json_object_set_new(spec, "members", json_integer(3));
	json_object_set_new(spec, "quorum", json_integer(4));
	ok(mls_ensemble_new(&e, spec) == MLS_EINPUT && e == NULL, "quorum above members");
	json_decref(spec);
}

static void
test_configs(void)
{
	json_t *spec = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:[{s:{s:f}},{s:{s:f}}]}",
	    "id", "e-y", "members", (json_int_t)4, "quorum", (json_int_t)4,
	    "per_config", (json_int_t)2, "folds", (json_int_t)2, "seed", (json_int_t)9,
	    "configs", "params", "lr", 0.1, "params", "lr", 0.01);
	struct mls_ensemble *e = NULL;
	json_t *p1 = NULL, *p3 = NULL;

	ok(mls_ensemble_new(&e, spec) == 0, "new with configs");
	ok(mls_ensemble_member_params(e, 1, &p1) == 0 &&
	    mls_ensemble_member_params(e, 3, &p3) == 0, "member params");
	ok(mls_record_num(p3, "lr", 0) == 0.01 && mls_record_int(p3, "config", -1) == 1 &&
	    mls_record_int(p1, "config", -1) == 0, "member 3 is configuration 1");
	ok(mls_record_int(p1, "seed", -1) == mls_record_int(p3, "seed", -2) &&
	    mls_record_int(p3, "fold", -1) == 1 && json_object_get(p3, "attempt") == NULL,
	    "configurations share their seeds and folds");
	json_decref(p1);
	json_decref(p3);
	p1 = spec;
	ok(mls_ensemble_member_params(e, 4, &p1) == MLS_EINPUT && p1 == NULL,
	    "member 4 of 4: out of range, out NULL");
	mls_ensemble_free(e);
	json_object_set_new(spec, "per_config", json_integer(3));
	ok(mls_ensemble_new(&e, spec) == MLS_EINPUT, "configs x per_config != members");
	json_decref(spec);
}

static json_t *
trial(long number, long member, long attempt, const char *state, json_t *extra)
{
	char id[32];
	json_t *t;

	snprintf(id, sizeof(id), "j-%ld", number);
	t = json_pack("{s:s,s:s,s:I,s:s,s:{s:I,s:I,s:I}}", "kind", "member", "id", id,
	    "number", (json_int_t)number, "state", state, "params",
	    "member", (json_int_t)member, "seed", (json_int_t)1,
	    "attempt", (json_int_t)attempt);
	if (extra != NULL) {
		json_object_update(t, extra);
		json_decref(extra);
	}
	return t;
}

static void
test_record(void)
{
	json_t *camp = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:n}", "kind", "ensemble",
	    "id", "e-z", "state", "finished", "members", (json_int_t)3,
	    "quorum", (json_int_t)2, "retries", (json_int_t)1, "seed", (json_int_t)0,
	    "best");
	json_t *trials = json_array(), *rec = NULL, *m, *s;

	json_array_append_new(trials, trial(0, 0, 1, "succeeded", json_pack(
	    "{s:{s:f,s:f,s:i},s:{s:s}}", "metrics", "loss", 1.0, "acc", 0.5, "step", 3,
	    "outputs", "digest", "sha256:aa")));
	json_array_append_new(trials, trial(1, 1, 1, "failed", json_pack("{s:i}",
	    "exit_code", 2)));
	json_array_append_new(trials, trial(2, 2, 1, "succeeded", json_pack(
	    "{s:{s:f,s:f}}", "metrics", "loss", 3.0, "acc", 0.7)));
	json_array_append_new(trials, trial(3, 1, 2, "failed", json_pack("{s:i,s:s}",
	    "exit_code", 1, "reason", "boom")));

	ok(mls_ensemble_record(camp, trials, &rec) == 0 && rec != NULL, "record");
	ok(strcmp(mls_record_str(rec, "kind"), "ensemble") == 0 &&
	    strcmp(mls_record_str(rec, "state"), "finished") == 0 &&
	    json_object_get(rec, "best") == NULL, "kind ensemble, finished, no best");
	m = json_array_get(json_object_get(rec, "members"), 1);
	ok(strcmp(mls_record_str(m, "state"), "failed") == 0 &&
	    json_array_size(json_object_get(m, "attempts")) == 2 &&
	    strcmp(mls_record_str(m, "reason"), "boom") == 0 &&
	    strcmp(mls_record_str(m, "job"), "j-3") == 0,
	    "member 1: failed, both attempts kept, the last reason");
	m = json_array_get(json_object_get(rec, "members"), 0);
	ok(strcmp(mls_record_str(m, "state"), "succeeded") == 0 &&
	    strcmp(mls_record_str(json_object_get(m, "outputs"), "digest"),
	    "sha256:aa") == 0 && mls_record_num(json_object_get(m, "metrics"),
	    "loss", 0) == 1.0, "member 0: succeeded with its digest and metrics");
	s = json_object_get(json_object_get(rec, "summary"), "loss");
	/* hand-computed: loss 1 and 3: mean 2, std sqrt(((1-2)^2+(3-2)^2)/1) */
	ok(mls_record_int(s, "n", 0) == 2 && near(mls_record_num(s, "mean", 0), 2.0) &&
	    near(mls_record_num(s, "std", 0), sqrt(2.0)) &&
	    mls_record_num(s, "min", 0) == 1.0 && mls_record_num(s, "max", 0) == 3.0,
	    "loss: n 2, mean 2, std sqrt 2, min 1, max 3");
	s = json_object_get(json_object_get(rec, "summary"), "acc");
	ok(near(mls_record_num(s, "mean", 0), 0.6) &&
	    near(mls_record_num(s, "std", 0), sqrt(0.02)), "acc: mean 0.6, std sqrt(0.02)");
	ok(json_object_get(json_object_get(rec, "summary"), "step") == NULL,
	    "'step' is not a metric");
	s = json_object_get(rec, "quorum");
	ok(mls_record_int(s, "required", 0) == 2 && mls_record_int(s, "succeeded", 0) == 2 &&
	    mls_record_int(s, "failed", 0) == 1 && mls_record_int(s, "attempts", 0) == 4 &&
	    strcmp(mls_record_str(s, "outcome"), "reached") == 0, "quorum reached, 4 attempts");
	json_decref(rec);

	/* Quorum 3: missed, and the state says so. */
	json_object_set_new(camp, "quorum", json_integer(3));
	ok(mls_ensemble_record(camp, trials, &rec) == 0 &&
	    strcmp(mls_record_str(rec, "state"), "failed") == 0 &&
	    strcmp(mls_record_str(json_object_get(rec, "quorum"), "outcome"), "missed") == 0,
	    "quorum 3: missed, state failed");
	json_decref(rec);
	/* Still running: member 1's first failure is a retry due. */
	json_object_set_new(camp, "state", json_string("running"));
	json_array_remove(trials, 3);
	ok(mls_ensemble_record(camp, trials, &rec) == 0 &&
	    strcmp(mls_record_str(rec, "state"), "running") == 0 &&
	    strcmp(mls_record_str(json_array_get(json_object_get(rec, "members"), 1),
	    "state"), "retrying") == 0 &&
	    strcmp(mls_record_str(json_object_get(rec, "quorum"), "outcome"), "pending") == 0,
	    "running: member 1 retrying, quorum pending");
	json_decref(rec);
	json_object_set_new(camp, "members", json_integer(0));
	rec = camp;
	ok(mls_ensemble_record(camp, trials, &rec) == MLS_EINPUT && rec == NULL,
	    "a spec without members is refused, out NULL");
	json_decref(camp);
	json_decref(trials);
}

static void
test_top(void)
{
	json_t *camp = json_pack("{s:s,s:{s:s,s:s}}", "id", "c-1", "objective",
	    "metric", "acc", "goal", "max");
	json_t *trials = json_array(), *cf = NULL;

	json_array_append_new(trials, json_pack("{s:I,s:s,s:s,s:f,s:b,s:{s:f}}",
	    "number", (json_int_t)0, "id", "j-0", "state", "succeeded", "objective", 0.1,
	    "pruned", 0, "params", "lr", 0.1));
	json_array_append_new(trials, json_pack("{s:I,s:s,s:s,s:f,s:b,s:{s:f}}",
	    "number", (json_int_t)1, "id", "j-1", "state", "succeeded", "objective", 0.9,
	    "pruned", 0, "params", "lr", 0.2));
	json_array_append_new(trials, json_pack("{s:I,s:s,s:s,s:f,s:b,s:{s:f}}",
	    "number", (json_int_t)2, "id", "j-2", "state", "cancelled", "objective", 0.99,
	    "pruned", 1, "params", "lr", 0.3));
	json_array_append_new(trials, json_pack("{s:I,s:s,s:s,s:f,s:b,s:{s:f}}",
	    "number", (json_int_t)3, "id", "j-3", "state", "succeeded", "objective", 0.5,
	    "pruned", 0, "params", "lr", 0.4));
	json_array_append_new(trials, json_pack("{s:I,s:s,s:s,s:n,s:b,s:{s:f}}",
	    "number", (json_int_t)4, "id", "j-4", "state", "failed", "objective",
	    "pruned", 0, "params", "lr", 0.5));
	ok(mls_ensemble_top(camp, trials, 2, &cf) == 0 && json_array_size(cf) == 2, "top 2");
	ok(mls_record_int(json_array_get(cf, 0), "trial", -1) == 1 &&
	    mls_record_int(json_array_get(cf, 1), "trial", -1) == 3 &&
	    mls_record_num(json_object_get(json_array_get(cf, 0), "params"), "lr", 0) == 0.2,
	    "the best first for a max goal; pruned and failed trials left out");
	json_decref(cf);
	cf = trials;
	ok(mls_ensemble_top(camp, trials, 4, &cf) == MLS_EINPUT && cf == NULL &&
	    strstr(mls_error_last(), "3 trials with an objective") != NULL,
	    "top 4 of 3: refused (%s)", mls_error_last());
	json_decref(camp);
	json_decref(trials);
}

int
main(void)
{
	test_quorum();
	test_seeds();
	test_stats();
	test_generator();
	test_configs();
	test_record();
	test_top();
	return done_testing();
}
