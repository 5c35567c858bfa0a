#include "config.h"

#include "mls_sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mls_error.h"
#include "mls_space.h"
#include "tap.h"

static struct mls_space *
space(const char *const *specs)
{
	struct mls_space *sp;

	mls_space_new(&sp);
	for (; *specs; specs++)
		if (mls_space_add_spec(sp, *specs) < 0)
			printf("# %s\n", mls_error_last());
	return sp;
}

static const char *const mixed[] = { "lr=loguniform:1e-5:1e-1", "layers=int:1:8",
	"act=choice:relu,tanh,gelu", "dropout=uniform:0:0.5", "bs=fixed:64",
	"units=intlog:16:512", "q=uniform:0:1:0.1", "n=int:0:100:5", NULL };

static double
num(const json_t *p, const char *k)
{
	return json_number_value(json_object_get(p, k));
}

/* a made-up objective over the mixed space */
static double
mixed_f(const json_t *p)
{
	return pow(log10(num(p, "lr")) + 3, 2) + fabs(num(p, "layers") - 4) +
	    num(p, "dropout") + (strcmp(json_string_value(json_object_get(p, "act")),
	    "tanh") == 0 ? 0 : 1);
}

static void
test_new_errors(void)
{
	struct mls_space *sp = space(mixed);
	struct mls_sampler *s = (struct mls_sampler *)1;
	json_t *o;

	ok(mls_sampler_new(&s, "cmaes", sp, 1, NULL) == MLS_EINPUT && s == NULL &&
	    strcmp(mls_error_last(), "unknown algorithm 'cmaes' (expected random, "
	    "grid, sobol, tpe or exec:CMD)") == 0, "unknown algorithm");
	ok(mls_sampler_new(&s, "exec:", sp, 1, NULL) == MLS_EINPUT, "empty exec");
	o = json_pack("{s:i}", "candidates", 0);
	ok(mls_sampler_new(&s, "tpe", sp, 1, o) == MLS_EINPUT && s == NULL &&
	    strstr(mls_error_last(), "'candidates'") != NULL, "bad option");
	json_decref(o);
	mls_space_free(sp);
	mls_space_new(&sp);
	ok(mls_sampler_new(&s, "random", sp, 1, NULL) == MLS_EINPUT,
	    "empty space");
	mls_space_free(sp);
	mls_sampler_free(NULL);
}

/* run n trials of algorithm alg; all suggestions valid? sequence in *seq */
static int
run(const char *alg, const struct mls_space *sp, unsigned long long seed,
    const json_t *opts, int n, json_t **seq, double *best)
{
	struct mls_sampler *s;
	json_t *p, *all = json_array();
	int i, rc, valid = 1;
	double v;

	*best = INFINITY;
	if (mls_sampler_new(&s, alg, sp, seed, opts) < 0) {
		printf("# %s\n", mls_error_last());
		json_decref(all);
		return 0;
	}
	for (i = 0; i < n; i++) {
		rc = mls_sampler_ask(s, i, &p);
		if (rc != 0) {
			printf("# ask %d: rc %d %s\n", i, rc, mls_error_last());
			valid = 0;
			break;
		}
		if (mls_space_check(sp, p) < 0) {
			printf("# %s\n", mls_error_last());
			valid = 0;
		}
		v = mixed_f(p);
		if (v < *best)
			*best = v;
		if (mls_sampler_tell(s, i, NULL, i % 7 == 3 ? "failed" : "succeeded",
		    v) < 0)
			valid = 0;
		json_array_append_new(all, p);
	}
	mls_sampler_free(s);
	if (seq)
		*seq = all;
	else
		json_decref(all);
	return valid;
}

static void
test_bounds_determinism(void)
{
	struct mls_space *sp = space(mixed);
	const char *algs[] = { "random", "sobol", "tpe", "tpe-ind", NULL };
	json_t *ind = json_pack("{s:b}", "multivariate", 0), *a, *b, *c;
	json_t *mv = json_pack("{s:b}", "multivariate", 1);
	double best;
	int i;

	for (i = 0; algs[i]; i++) {
		const char *alg = strcmp(algs[i], "tpe-ind") == 0 ? "tpe" : algs[i];
		const json_t *o = strcmp(algs[i], "tpe-ind") == 0 ? ind : NULL;
		ok(run(alg, sp, 42, o, 80, &a, &best), "%s: 80 valid suggestions",
		    algs[i]);
		run(alg, sp, 42, o, 80, &b, &best);
		run(alg, sp, 43, o, 80, &c, &best);
		ok(json_equal(a, b), "%s: same seed, same sequence", algs[i]);
		ok(!json_equal(json_array_get(a, 79), json_array_get(c, 79)) &&
		    !json_equal(json_array_get(a, 5), json_array_get(c, 5)),
		    "%s: another seed, another sequence", algs[i]);
		json_decref(a);
		json_decref(b);
		json_decref(c);
	}
	/* tpe is multivariate unless told otherwise */
	run("tpe", sp, 42, NULL, 40, &a, &best);
	run("tpe", sp, 42, mv, 40, &b, &best);
	run("tpe", sp, 42, ind, 40, &c, &best);
	ok(json_equal(a, b) && !json_equal(json_array_get(a, 39),
	    json_array_get(c, 39)), "tpe: multivariate by default");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(ind);
	json_decref(mv);
	mls_space_free(sp);
}

static void
test_grid(void)
{
	const char *const g[] = { "a=choice:x,y,z", "b=int:1:4", "c=uniform:0:1",
		"d=fixed:7", "e=loguniform:1:100", "f=int:0:100", NULL };
	struct mls_space *sp = space(g);
	struct mls_sampler *s;
	json_t *p, *seen = json_object(), *order1 = json_array(), *opts;
	char *key;
	int i, rc, dup = 0, valid = 1;
	size_t n;

	ok(mls_sampler_new(&s, "grid", sp, 1, NULL) == 0, "grid");
	n = mls_sampler_grid_size(s);
	ok(n == 3 * 4 * 5 * 5 * 5, "grid size %zu", n);
	for (i = 0; i < (int)n; i++) {
		if (mls_sampler_ask(s, i, &p) != 0)
			break;
		if (mls_space_check(sp, p) < 0)
			valid = 0;
		key = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
		if (json_object_get(seen, key))
			dup = 1;
		json_object_set_new(seen, key, json_true());
		if (i < 10)
			json_array_append(order1, p);
		free(key);
		json_decref(p);
	}
	ok(i == (int)n && !dup && json_object_size(seen) == n && valid,
	    "every point exactly once");
	ok(mls_sampler_ask(s, i, &p) == 1 && p == NULL, "then exhausted");
	mls_sampler_free(s);
	/* log grid: 1, 3.16, 10, 31.6, 100; ints: 0, 25, 50, 75, 100 */
	ok(json_object_get(seen, "{\"a\":\"x\",\"b\":1,\"c\":0.0,\"d\":7,"
	    "\"e\":10.0,\"f\":25}") != NULL, "log and int spacing");
	json_decref(seen);

	/* shuffle: another order, same set; resume marks points as used */
	opts = json_pack("{s:b}", "shuffle", 1);
	mls_sampler_new(&s, "grid", sp, 1, opts);
	mls_sampler_ask(s, 0, &p);
	ok(!json_equal(p, json_array_get(order1, 0)), "shuffled order");
	json_decref(p);
	mls_sampler_free(s);
	json_decref(opts);

	mls_sampler_new(&s, "grid", sp, 1, NULL);
	for (i = 0; i < 3; i++)
		mls_sampler_tell(s, i, json_array_get(order1, i), "succeeded", 1.0);
	rc = mls_sampler_ask(s, 3, &p);
	ok(rc == 0 && json_equal(p, json_array_get(order1, 3)),
	    "told points are not suggested again");
	json_decref(p);
	mls_sampler_free(s);
	json_decref(order1);
	mls_space_free(sp);

	{	/* quantized: all steps; small ints: all values */
		const char *const q[] = { "x=uniform:0:1:0.1", "n=int:1:3", NULL };
		sp = space(q);
		mls_sampler_new(&s, "grid", sp, 1, NULL);
		ok(mls_sampler_grid_size(s) == 33, "quantized grid 11 x 3");
		mls_sampler_free(s);
		mls_space_free(sp);
	}
}

static double
branin(double x, double y)
{
	double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10,
	    t = 1 / (8 * M_PI);

	return a * pow(y - b * x * x + c * x - r, 2) + s * (1 - t) * cos(x) + s;
}

static double
branin_best(const char *alg, unsigned long long seed, int n)
{
	const char *const b[] = { "x=uniform:-5:10", "y=uniform:0:15", NULL };
	struct mls_space *sp = space(b);
	struct mls_sampler *s;
	json_t *p;
	double best = INFINITY, v;
	int i;

	mls_sampler_new(&s, alg, sp, seed, NULL);
	for (i = 0; i < n; i++) {
		mls_sampler_ask(s, i, &p);
		v = branin(num(p, "x"), num(p, "y"));
		if (v < best)
			best = v;
		mls_sampler_tell(s, i, p, "succeeded", v);
		json_decref(p);
	}
	mls_sampler_free(s);
	mls_space_free(sp);
	return best;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_tpe_beats_random(void)
{
	double r[11], t[11];
	int i;

	for (i = 0; i < 11; i++) {
		r[i] = branin_best("random", 100 + (unsigned)i, 60);
		t[i] = branin_best("tpe", 100 + (unsigned)i, 60);
	}
	qsort(r, 11, sizeof(double), cmpd);
	qsort(t, 11, sizeof(double), cmpd);
	printf("# branin median best after 60: random %.4f tpe %.4f (optimum 0.3979)\n",
	    r[5], t[5]);
	ok(t[5] < r[5], "tpe beats random on branin (median of 11 seeds)");
}

static double
rosenbrock4(const json_t *p)
{
	const char *k[] = { "a", "b", "c", "d" };
	double f = 0, x, y;
	int i;

	for (i = 0; i < 3; i++) {
		x = num(p, k[i]);
		y = num(p, k[i + 1]);
		f += 100 * (y - x * x) * (y - x * x) + (1 - x) * (1 - x);
	}
	return f;
}

/* Best value of n trials of alg (opts) on f over space sp. */
static double
best_of(const char *alg, const struct mls_space *sp, const json_t *opts,
    unsigned long long seed, int n, double (*f)(const json_t *), json_t **seq)
{
	struct mls_sampler *s;
	json_t *p;
	double best = INFINITY, v;
	int i;

	if (seq)
		*seq = json_array();
	if (mls_sampler_new(&s, alg, sp, seed, opts) < 0)
		return NAN;
	for (i = 0; i < n; i++) {
		if (mls_sampler_ask(s, i, &p) != 0)
			break;
		v = f(p);
		if (v < best)
			best = v;
		mls_sampler_tell(s, i, NULL, "succeeded", v);
		if (seq)
			json_array_append_new(*seq, p);
		else
			json_decref(p);
	}
	mls_sampler_free(s);
	return best;
}

/*
 * The joint model (the default) keeps good combinations together: on a
 * curved valley it must beat one-parameter-at-a-time sampling (Optuna's
 * default), which is what put mls behind Optuna on bench/hpo/regret.py.
 */
static void
test_tpe_joint(void)
{
	const char *const d[] = { "a=uniform:-2.048:2.048", "b=uniform:-2.048:2.048",
		"c=uniform:-2.048:2.048", "d=uniform:-2.048:2.048", NULL };
	struct mls_space *sp = space(d);
	json_t *ind = json_pack("{s:b}", "multivariate", 0);
	double j[11], u[11];
	int i, wins = 0;

	for (i = 0; i < 11; i++) {
		j[i] = best_of("tpe", sp, NULL, 200 + (unsigned)i, 100, rosenbrock4, NULL);
		u[i] = best_of("tpe", sp, ind, 200 + (unsigned)i, 100, rosenbrock4, NULL);
		wins += j[i] < u[i];
	}
	qsort(j, 11, sizeof(double), cmpd);
	qsort(u, 11, sizeof(double), cmpd);
	printf("# rosenbrock-4d median best after 100: joint %.3f independent %.3f "
	    "(joint better on %d of 11 seeds)\n", j[5], u[5], wins);
	ok(j[5] < u[5] && wins >= 6, "joint tpe beats independent on rosenbrock-4d");
	json_decref(ind);
	mls_space_free(sp);
}

/*
 * Early budgets too: after 50 trials (10 of them random) the joint model
 * must already be ahead of one-parameter-at-a-time sampling on the valley.
 */
static void
test_tpe_joint_early(void)
{
	const char *const d[] = { "a=uniform:-2.048:2.048", "b=uniform:-2.048:2.048",
		"c=uniform:-2.048:2.048", "d=uniform:-2.048:2.048", NULL };
	struct mls_space *sp = space(d);
	json_t *ind = json_pack("{s:b}", "multivariate", 0);
	double j[21], u[21];
	int i, wins = 0;

	for (i = 0; i < 21; i++) {
		j[i] = best_of("tpe", sp, NULL, 400 + (unsigned)i, 50, rosenbrock4, NULL);
		u[i] = best_of("tpe", sp, ind, 400 + (unsigned)i, 50, rosenbrock4, NULL);
		wins += j[i] < u[i];
	}
	qsort(j, 21, sizeof(double), cmpd);
	qsort(u, 21, sizeof(double), cmpd);
	printf("# rosenbrock-4d median best after 50: joint %.3f independent %.3f "
	    "(joint better on %d of 21 seeds)\n", j[10], u[10], wins);
	ok(j[10] < u[10] && wins >= 11, "joint tpe beats independent on "
	    "rosenbrock-4d after 50 trials");
	json_decref(ind);
	mls_space_free(sp);
}

/*
 * In one dimension the joint model differs from the independent one only by
 * its width floor (2/3 of the magic clip's).  From the same 30 trials
 * (x = 0, 1/29, .., 1, value |x - 0.5|: the 3 good ones are closer than the
 * floor, so it sets their widths) and the same seed, with one candidate (a
 * plain draw from the good trials' estimator) the joint suggestion lies
 * nearer the good trials (on average 0.145 vs 0.184 from 0.5: the prior
 * kernel's draws, a quarter of them, are as wide in both).  With the full
 * floor both would suggest the same.
 */
static void
test_tpe_joint_floor(void)
{
	const char *const d[] = { "x=uniform:0:1", NULL };
	struct mls_space *sp = space(d);
	json_t *joint = json_pack("{s:i}", "candidates", 1), *p;
	json_t *ind = json_pack("{s:b,s:i}", "multivariate", 0, "candidates", 1);
	const json_t *opts[] = { joint, ind };
	struct mls_sampler *s;
	double sum[2] = { 0, 0 }, x[2] = { 0, 0 };
	int seed, m, i, nearer = 0, fails = 0;

	for (seed = 0; seed < 100; seed++) {
		for (m = 0; m < 2; m++) {
			if (mls_sampler_new(&s, "tpe", sp, 500 + (unsigned)seed,
			    opts[m]) < 0) {
				fails++;
				continue;
			}
			for (i = 0; i < 30; i++) {
				p = json_pack("{s:f}", "x", i / 29.0);
				fails += mls_sampler_tell(s, i, p, "succeeded",
				    fabs(i / 29.0 - 0.5)) < 0;
				json_decref(p);
			}
			if (mls_sampler_ask(s, 30, &p) != 0) {
				fails++;
				mls_sampler_free(s);
				continue;
			}
			x[m] = fabs(num(p, "x") - 0.5);
			sum[m] += x[m];
			json_decref(p);
			mls_sampler_free(s);
		}
		nearer += x[0] < x[1];
	}
	printf("# 1-d mean |x - 0.5|: joint %.4f independent %.4f (joint nearer "
	    "on %d of 100 seeds)\n", sum[0] / 100, sum[1] / 100, nearer);
	ok(fails == 0 && sum[0] < 0.9 * sum[1] && sum[0] > 0.5 * sum[1] &&
	    nearer >= 60, "joint tpe: width floor 2/3 of the magic clip");
	json_decref(joint);
	json_decref(ind);
	mls_space_free(sp);
}

/* max_above (256) caps the above group for speed: not before 256 trials. */
static void
test_tpe_max_above(void)
{
	const char *const d[] = { "a=uniform:-2.048:2.048", "b=uniform:-2.048:2.048",
		"c=uniform:-2.048:2.048", "d=uniform:-2.048:2.048", NULL };
	struct mls_space *sp = space(d);
	json_t *big = json_pack("{s:i}", "max_above", 100000);
	json_t *small = json_pack("{s:i}", "max_above", 8), *a, *b, *c;

	best_of("tpe", sp, NULL, 9, 200, rosenbrock4, &a);
	best_of("tpe", sp, big, 9, 200, rosenbrock4, &b);
	best_of("tpe", sp, small, 9, 200, rosenbrock4, &c);
	ok(json_array_size(a) == 200 && json_equal(a, b),
	    "max_above 256: the same 200 suggestions as no cap");
	ok(json_equal(json_array_get(a, 5), json_array_get(c, 5)) &&
	    !json_equal(json_array_get(a, 199), json_array_get(c, 199)),
	    "max_above 8: the cap changes later suggestions");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(big);
	json_decref(small);
	mls_space_free(sp);
}

static double
grid_f(const json_t *p)
{
	return pow(num(p, "n") - 37, 2) / 100 + pow(num(p, "x") - 0.35, 2) * 10 +
	    fabs(log2(num(p, "u")) - 6) + (strcmp(json_string_value(json_object_get(p,
	    "c")), "c3") == 0 ? 0 : 1);
}

/*
 * Integers, steps and choices: candidates are rounded onto the grid before
 * they are scored (by the mass of their cell on a linear grid), choices
 * use Optuna's categorical kernels; both models must stay on the grid, do
 * far better than random search and suggest the best choice more often
 * than chance.
 */
static void
test_tpe_grid(void)
{
	const char *const d[] = { "n=int:0:100", "x=uniform:0:1:0.05",
		"u=intlog:1:1024", "c=choice:c0,c1,c2,c3,c4,c5", NULL };
	struct mls_space *sp = space(d);
	json_t *ind = json_pack("{s:b}", "multivariate", 0), *seq, *p;
	const json_t *opts[] = { NULL, ind };
	const char *name[] = { "joint", "independent" };
	double r[11], t[11];
	int m, i, valid, c3;
	size_t n;

	for (i = 0; i < 11; i++)
		r[i] = best_of("random", sp, NULL, 300 + (unsigned)i, 120, grid_f, NULL);
	qsort(r, 11, sizeof(double), cmpd);
	for (m = 0; m < 2; m++) {
		valid = c3 = 0;
		for (i = 0; i < 11; i++) {
			t[i] = best_of("tpe", sp, opts[m], 300 + (unsigned)i, 120,
			    grid_f, &seq);
			valid += json_array_size(seq) == 120;
			json_array_foreach(seq, n, p) {
				valid -= mls_space_check(sp, p) < 0;
				c3 += n >= 60 && strcmp(json_string_value(
				    json_object_get(p, "c")), "c3") == 0;
			}
			json_decref(seq);
		}
		qsort(t, 11, sizeof(double), cmpd);
		printf("# grid_f %s: median best %.4f (random %.4f), c3 in %d of "
		    "660 late trials\n", name[m], t[5], r[5], c3);
		ok(valid == 11, "%s: every suggestion on the grid", name[m]);
		ok(t[5] < 0.5 * r[5] && c3 > 660 / 6 * 3 / 2, "%s: converges on "
		    "ints, steps and choices", name[m]);
	}
	json_decref(ind);
	mls_space_free(sp);
}

static void
test_constant_liar(void)
{
	const char *const d[] = { "a=int:0:20", "b=int:0:20", NULL };
	struct mls_space *sp = space(d);
	struct mls_sampler *s;
	json_t *p, *seen = json_object();
	char *key;
	int i;

	mls_sampler_new(&s, "tpe", sp, 5, NULL);
	for (i = 0; i < 30; i++) {
		mls_sampler_ask(s, i, &p);
		mls_sampler_tell(s, i, NULL, "succeeded",
		    pow(num(p, "a") - 7, 2) + pow(num(p, "b") - 13, 2));
		json_decref(p);
	}
	for (i = 30; i < 38; i++) {	/* 8 parallel asks, no tells */
		mls_sampler_ask(s, i, &p);
		key = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
		json_object_set_new(seen, key, json_true());
		free(key);
		json_decref(p);
	}
	ok(json_object_size(seen) >= 7, "constant liar: %zu distinct of 8 pending",
	    json_object_size(seen));
	/* pending via the replay API counts too */
	p = json_pack("{s:i,s:i}", "a", 1, "b", 2);
	ok(mls_sampler_pending(s, 40, p) == 0, "pending");
	json_object_set_new(p, "a", json_integer(99));
	ok(mls_sampler_pending(s, 41, p) == MLS_EINPUT &&
	    strstr(mls_error_last(), "trial 41: parameter 'a'"),
	    "pending checks params: %s", mls_error_last());
	json_decref(p);
	ok(mls_sampler_tell(s, 42, NULL, "succeeded", 1.0) == MLS_EINPUT,
	    "tell of an unknown trial without params");
	ok(mls_sampler_tell(s, 30, NULL, "lost", 1.0) == MLS_EINPUT &&
	    strstr(mls_error_last(), "unknown state 'lost'") != NULL, "bad state");
	json_decref(seen);
	mls_sampler_free(s);
	mls_space_free(sp);
}

static void
test_exec(void)
{
	const char *const d[] = { "x=uniform:0:1", "k=fixed:3", NULL };
	struct mls_space *sp = space(d);
	struct mls_sampler *s;
	char dir[] = "/tmp/mls-test-exec-XXXXXX", path[256], *cmd;
	json_t *p, *o, *in;
	int rc;

	mkdtemp(dir);
	o = json_pack("{s:s,s:i}", "workdir", dir, "parallel", 2);
	cmd = "exec:test -f %OUT.done && echo '[]' > %OUT || "
	    "{ echo \"[{\\\"x\\\":0.5},{\\\"x\\\":0.25,\\\"k\\\":3}]\" > %OUT; "
	    "echo n=%N; touch %OUT.done; }";
	ok(mls_sampler_new(&s, cmd, sp, 1, o) == 0, "exec sampler");
	rc = mls_sampler_ask(s, 0, &p);
	ok(rc == 0 && num(p, "x") == 0.5 && num(p, "k") == 3, "first point, "
	    "fixed filled in");
	json_decref(p);
	mls_sampler_tell(s, 0, NULL, "succeeded", 0.7);
	rc = mls_sampler_ask(s, 1, &p);
	ok(rc == 0 && num(p, "x") == 0.25, "second point from the buffer");
	json_decref(p);
	ok(mls_sampler_ask(s, 2, &p) == 1 && p == NULL, "[] ends the search");
	snprintf(path, sizeof(path), "%s/in.json", dir);
	in = json_load_file(path, 0, NULL);
	ok(in != NULL && json_array_size(json_object_get(in, "points")) == 2 &&
	    json_real_value(json_array_get(json_array_get(json_object_get(in,
	    "points"), 0), 1)) == 0.7 && json_is_null(json_array_get(
	    json_array_get(json_object_get(in, "points"), 1), 1)) &&
	    json_object_get(json_object_get(in, "opt_space"), "x") != NULL,
	    "in.json has points with losses (null when pending) and opt_space");
	json_decref(in);
	mls_sampler_free(s);
	snprintf(path, sizeof(path), "%s/exec.log", dir);
	{
		FILE *fp = fopen(path, "r");
		char line[64] = "";
		if (fp) {
			fgets(line, sizeof(line), fp);
			fclose(fp);
		}
		ok(strcmp(line, "n=2\n") == 0, "stdout to exec.log, %%N replaced");
	}

	ok(mls_sampler_new(&s, "exec:echo oops; exit 3", sp, 1, o) == 0, "new");
	ok(mls_sampler_ask(s, 0, &p) == MLS_EINPUT && p == NULL &&
	    strstr(mls_error_last(), "exit status 3") != NULL, "exit status named: %s",
	    mls_error_last());
	mls_sampler_free(s);
	ok(mls_sampler_new(&s, "exec:echo '[{\"x\":2}]' > %OUT", sp, 1, o) == 0,
	    "new");
	ok(mls_sampler_ask(s, 0, &p) == MLS_EINPUT &&
	    strstr(mls_error_last(), "point 1: parameter 'x': 2 is outside") != NULL,
	    "invalid point: %s", mls_error_last());
	mls_sampler_free(s);
	ok(mls_sampler_new(&s, "exec:echo '{' > %OUT", sp, 1, o) == 0, "new");
	ok(mls_sampler_ask(s, 0, &p) == MLS_EINPUT &&
	    strstr(mls_error_last(), "out.json:") != NULL, "bad json: %s",
	    mls_error_last());
	mls_sampler_free(s);
	json_decref(o);
	mls_space_free(sp);
	{
		char c[512];
		snprintf(c, sizeof(c), "rm -rf '%s'", dir);
		rc = system(c);
		(void)rc;
	}
}

static void
test_ask_tell(void)
{
	const char *const d[] = { "x=uniform:0:1", NULL };
	struct mls_space *sp = space(d);
	struct mls_sampler *s;
	const char *input = "{\"number\":0,\"value\":1.5}\n\n"
	    "{\"number\":1,\"state\":\"failed\"}\n"
	    "{\"params\":{\"x\":0.125},\"value\":0.5}\n";
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *in, *out;
	int rc, n = 0, good = 1;
	json_t *r;

	mls_sampler_new(&s, "random", sp, 9, NULL);
	in = fmemopen((void *)input, strlen(input), "r");
	out = open_memstream(&buf, &len);
	rc = mls_sampler_ask_tell(s, in, out, 2, 4);
	fclose(in);
	fclose(out);
	ok(rc == 0, "ask-tell loop: %s", mls_error_last());
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		r = json_loads(line, 0, NULL);
		if (r == NULL || strcmp(json_string_value(json_object_get(r, "kind")),
		    "params") != 0 || json_integer_value(json_object_get(r, "number")) !=
		    n || !json_is_real(json_object_get(json_object_get(r,
		    "params"), "x")))
			good = 0;
		json_decref(r);
		n++;
	}
	/* 2 first, then one per told line until 4 were made (the external
	 * point is told under a fresh number, 4) */
	ok(n == 4 && good, "4 suggestions numbered 0 to 3 (%d)", n);
	free(buf);
	mls_sampler_free(s);

	mls_sampler_new(&s, "random", sp, 9, NULL);
	input = "{\"number\":0,\"value\":1.5}\n{\"number\":1,\"value\":\"x\"}\n";
	in = fmemopen((void *)input, strlen(input), "r");
	out = open_memstream(&buf, &len);
	rc = mls_sampler_ask_tell(s, in, out, 2, 0);
	fclose(in);
	fclose(out);
	free(buf);
	ok(rc == MLS_EINPUT && strcmp(mls_error_last(),
	    "<stdin>:2: 'value' must be a number") == 0, "bad line: %s",
	    mls_error_last());
	mls_sampler_free(s);

	mls_sampler_new(&s, "random", sp, 9, NULL);
	input = "{\"number\":0,\"value\":1}\n{\"number\":77,\"value\":1}\n";
	in = fmemopen((void *)input, strlen(input), "r");
	out = open_memstream(&buf, &len);
	rc = mls_sampler_ask_tell(s, in, out, 1, 0);
	fclose(in);
	fclose(out);
	free(buf);
	ok(rc == MLS_EINPUT && strcmp(mls_error_last(),
	    "<stdin>:2: trial 77 was never suggested") == 0, "unknown number: %s",
	    mls_error_last());
	mls_sampler_free(s);

	mls_sampler_new(&s, "random", sp, 9, NULL);
	input = "{\"number\":0,\"value\":1}\n{oops\n";
	in = fmemopen((void *)input, strlen(input), "r");
	out = open_memstream(&buf, &len);
	rc = mls_sampler_ask_tell(s, in, out, 1, 0);
	fclose(in);
	fclose(out);
	free(buf);
	ok(rc == MLS_EINPUT && strncmp(mls_error_last(), "<stdin>:2:", 10) == 0,
	    "bad json: %s", mls_error_last());
	mls_sampler_free(s);
	mls_space_free(sp);
}

int
main(void)
{
	test_new_errors();
	test_bounds_determinism();
	test_grid();
	test_tpe_beats_random();
	test_tpe_joint();
	test_tpe_joint_early();
	test_tpe_joint_floor();
	test_tpe_max_above();
	test_tpe_grid();
	test_constant_liar();
	test_exec();
	test_ask_tell();
	return done_testing();
}
