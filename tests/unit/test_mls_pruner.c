#include "config.h"

#include "mls_pruner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mls_error.h"
#include "tap.h"

static void
test_new(void)
{
	struct mls_pruner *p = (struct mls_pruner *)1;
	json_t *o;

	ok(mls_pruner_new(&p, "hyperband", NULL) == MLS_EINPUT && p == NULL &&
	    strcmp(mls_error_last(), "unknown pruner 'hyperband' (expected median "
	    "or asha)") == 0, "unknown kind");
	o = json_pack("{s:i}", "reduction_factor", 1);
	ok(mls_pruner_new(&p, "asha", o) == MLS_EINPUT && p == NULL &&
	    strstr(mls_error_last(), "'reduction_factor'") != NULL, "bad rf");
	json_decref(o);
	o = json_pack("{s:s}", "startup_trials", "x");
	ok(mls_pruner_new(&p, "median", o) == MLS_EINPUT, "bad startup");
	json_decref(o);
	ok(mls_pruner_new(&p, "median", NULL) == 0 && p != NULL, "median");
	ok(mls_pruner_report(p, -1, 0, 1.0) == MLS_EINPUT, "negative number");
	mls_pruner_free(p);
	mls_pruner_free(NULL);
}

static void
test_median(void)
{
	struct mls_pruner *p;
	json_t *o = json_pack("{s:i,s:i}", "startup_trials", 3, "warmup_steps", 2);
	long t, s;
	int any = 0;

	ok(mls_pruner_new(&p, "median", o) == 0, "median with options");
	json_decref(o);
	/* trials 0..3: value at step s = t + 10/(s+1) (trial 0 best) */
	for (t = 0; t < 3; t++) {
		for (s = 0; s < 5; s++)
			any |= mls_pruner_report(p, t, s, (double)t + 10.0 / (double)(s + 1));
		mls_pruner_finish(p, t);
	}
	ok(!any, "no pruning before startup_trials others");
	/* trial 3 is bad, but warmup protects steps 0 and 1 */
	ok(mls_pruner_report(p, 3, 0, 100) == 0, "warmup step 0");
	ok(mls_pruner_report(p, 3, 1, 100) == 0, "warmup step 1");
	/* at step 2 the others have 3.33, 4.33, 5.33: median 4.33 */
	ok(mls_pruner_report(p, 3, 2, 4.0) == 0, "better than median: keep");
	/* step 3: others 2.5, 3.5, 4.5 -> median 3.5 */
	ok(mls_pruner_report(p, 3, 3, 3.4) == 0, "3.4 < median 3.5: keep");
	/* step 4: others 2, 3, 4 -> median 3; best 4.0 > 3 */
	ok(mls_pruner_report(p, 3, 4, 4.2) == 1, "best so far 3.4 > median 3: prune");
	/* a trial at a step nobody reached is kept (too few others) */
	ok(mls_pruner_report(p, 4, 50, 1e9) == 0, "unreached step: keep");
	/* even count: median is the mean of the middle two */
	ok(mls_pruner_report(p, 5, 4, 3.4) == 0, "4 others (2,3,4,4.2): median 3.5 keep");
	ok(mls_pruner_report(p, 6, 4, 3.6) == 1, "3.6 > median 3.4 of five: prune");
	ok(mls_pruner_report(p, 7, 2, NAN) == 1, "NaN prunes");
	mls_pruner_free(p);
}

static void
test_asha(void)
{
	struct mls_pruner *p;
	json_t *o = json_pack("{s:i,s:i}", "min_resource", 1, "reduction_factor", 2);
	long t;
	int r;

	ok(mls_pruner_new(&p, "asha", o) == 0, "asha");
	json_decref(o);
	/* rung 0 at step 1: the first value always passes */
	ok(mls_pruner_report(p, 0, 0, 5.0) == 0, "below first rung");
	ok(mls_pruner_report(p, 0, 1, 5.0) == 0, "first at rung 0 passes");
	/* 2 values: top 1/2 = the best one */
	ok(mls_pruner_report(p, 1, 1, 6.0) == 1, "worse second: pruned");
	ok(mls_pruner_report(p, 2, 1, 4.0) == 0, "better third: kept");
	/* values at rung 0: 5, 6, 4, now 3 -> 4 values, top 2 = {3, 4} */
	ok(mls_pruner_report(p, 3, 1, 3.0) == 0, "best: kept");
	ok(mls_pruner_report(p, 4, 1, 4.5) == 1, "4.5 not in top 2 of 5");
	/* rung 1 at step 2 */
	ok(mls_pruner_report(p, 2, 2, 3.5) == 0, "first at rung 1");
	ok(mls_pruner_report(p, 3, 2, 2.0) == 0, "better at rung 1");
	ok(mls_pruner_report(p, 0, 3, 9.0) == 1, "trial 0 reaches rung 1 late, worst");
	/* a jump over rungs records the value at every rung passed */
	r = mls_pruner_report(p, 9, 4, 0.5);
	ok(r == 0, "jump to rung 2 with the best value");
	for (t = 10; t < 13; t++)
		mls_pruner_finish(p, t);
	mls_pruner_free(p);
}

/* median agrees with a sort on random data */
static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_median_random(void)
{
	struct mls_pruner *p;
	json_t *o = json_pack("{s:i}", "startup_trials", 1);
	double v[101], med, x;
	int round, t, n, good = 1;

	srand(7);
	for (round = 0; round < 200 && good; round++) {
		mls_pruner_new(&p, "median", o);
		n = 1 + rand() % 100;
		for (t = 0; t < n; t++) {
			v[t] = (double)(rand() % 50);
			mls_pruner_report(p, t, 1, v[t]);
		}
		qsort(v, (size_t)n, sizeof(v[0]), cmp);
		med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
		/* one probe per set: above the median prunes, below keeps */
		x = round % 2 ? med + 0.25 : med - 0.25;
		if (mls_pruner_report(p, 1000, 1, x) != (round % 2))
			good = 0;
		mls_pruner_free(p);
	}
	json_decref(o);
	ok(good, "median matches a sorted median on 200 random sets");
}

int
main(void)
{
	test_new();
	test_median();
	test_asha();
	test_median_random();
	return done_testing();
}
