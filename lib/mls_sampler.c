/*
 * mls_sampler.c - random, grid, sobol, TPE and external (exec:) samplers.
 *
 * All samplers keep the same table of observations (trial number, state,
 * value, parameters in internal coordinates), so pending(), tell() and the
 * journal replay work the same for each.  Internal coordinates: the value
 * for uniform/int, its logarithm for loguniform/intlog, the index for choice.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>

#include "mls_alloc.h"
#include "mls_buf.h"
#include "mls_error.h"
#include "mls_record.h"
#include "mls_run.h"
#include "mls_sampler.h"
#include "mls_space.h"

#define MAX_NUMBER	100000000L
#define MAX_GRID	10000000UL
#define SQRT2PI		2.5066282746310002
#define PRIOR_WEIGHT	1.0
#define JOINT_MINSIG	(2.0 / 3.0)	/* joint model: narrower width floor */

enum algo { RANDOM, GRID, SOBOL, TPE, EXEC };
enum ostate { O_NONE = 0, O_PENDING, O_DONE, O_PRUNED, O_FAILED };

struct dim {			/* one non-fixed parameter */
	const struct mls_param	*p;
	int			 cat;		/* choice */
	int			 log;		/* internal coordinate is log */
	size_t			 nc;		/* choice: number of values */
	double			 lo, hi;	/* numeric: internal range */
	double			 q;		/* linear grid step, else 0 */
};

struct obs {
	long		 number;
	enum ostate	 state;
	double		 value;
	unsigned	 stamp;		/* == ask stamp: in the below group */
};

struct kde {			/* a Parzen estimator over one dimension */
	size_t	 m;		/* kernels: one per observation, the prior last */
	double	*mu, *sigma, *inv, *w, *lw, *cumw;	/* lw = log w */
	double	*coef;		/* w/(sigma Z sqrt(2pi)); on a grid: w/Z */
	double	*lnorm;		/* log(coef/w) */
	double	*pc;		/* categorical: the mixture's P(c) */
	double	 ca, cden;	/* categorical kernel: (ca + [c == mu])/cden */
	double	 lhit, lmiss;	/* log((ca + 1)/cden), log(ca/cden) */
};

struct mls_sampler {
	enum algo		 algo;
	const struct mls_space	*sp;
	unsigned long long	 seed;
	gsl_rng			*rng;
	struct dim		*d;
	size_t			 nd;

	/* options */
	int			 multivariate, shuffle;
	long			 startup, candidates, max_above, parallel, grid_points;

	/* observations, in the order they became known */
	struct obs		*o;
	double			*x;		/* o[i]'s coordinates: x[i*nd..] */
	size_t			 no, capo;
	long			*idx;		/* number -> index in o, or -1 */
	size_t			 nidx;
	size_t			*sorted;	/* O_DONE indices by value */
	size_t			 nsorted, capsorted;
	size_t			 npending, npruned;
	unsigned		 stamp;

	/* tpe scratch */
	size_t			*sel;
	double			*wsel, *cand, *score, *tmp;
	size_t			*order;
	size_t			 capsel;

	/* grid */
	json_t			**gvals;	/* per dim: array of values */
	size_t			 gsize, gcursor;
	unsigned char		*gused;
	size_t			*gperm;

	/* sobol */
	gsl_qrng		*q;
	long			 qnext;
	double			*shift, *qpt;

	/* exec */
	char			*cmd, *workdir;
	int			 own_workdir;
	json_t			*buffered;	/* array of params objects */
	int			 exhausted;
};

/* ---- helpers ---------------------------------------------------------- */

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Seed the generator for one trial: depends on the seed and number only. */
static void
rng_for(struct mls_sampler *s, long number, uint64_t salt)
{
	uint64_t h = splitmix64(s->seed ^ splitmix64((uint64_t)number + salt));

	gsl_rng_set(s->rng, (unsigned long)(h ^ (h >> 32)));
}

static double
ncdf(double z)
{
	return 0.5 * erfc(-z * M_SQRT1_2);
}

/* Internal coordinate of value v for dimension d; NAN when invalid. */
static double
to_internal(const struct dim *d, const json_t *v)
{
	double x;

	if (d->cat)
		return (double)mls_param_choice_index(d->p, v);
	if (!json_is_number(v))
		return NAN;
	x = json_number_value(v);
	return d->log ? log(x) : x;
}

/* The JSON value of internal coordinate x. */
static json_t *
from_internal(const struct dim *d, double x)
{
	if (d->cat) {
		if (x < 0)
			x = 0;
		if (x > (double)d->nc - 1)
			x = (double)d->nc - 1;
		return json_deep_copy(json_array_get(d->p->values, (size_t)x));
	}
	if (d->log)
		x = exp(x);
	return mls_param_number(d->p, mls_param_snap(d->p, x));
}

/* params with every fixed parameter and vals[j] for dim j (stolen). */
static int
build_params(struct mls_sampler *s, json_t **vals, json_t **out)
{
	json_t *o;
	size_t i, j = 0;
	const struct mls_param *p;
	int rc = 0;

	*out = NULL;
	if ((o = json_object()) == NULL)
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < mls_space_size(s->sp); i++) {
		p = mls_space_param(s->sp, i);
		if (p->type == MLS_PARAM_FIXED) {
			if (rc == 0 && json_object_set_new(o, p->name,
			    json_deep_copy(p->values)) < 0)
				rc = mls_error_set(MLS_ENOMEM, "out of memory");
			continue;
		}
		if (rc == 0 && (vals[j] == NULL ||
		    json_object_set_new(o, p->name, vals[j]) < 0))
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
		else if (rc != 0)
			json_decref(vals[j]);
		vals[j++] = NULL;
	}
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- observations ------------------------------------------------------- */

static long
obs_find(const struct mls_sampler *s, long number)
{
	if (number < 0 || (size_t)number >= s->nidx)
		return -1;
	return s->idx[number];
}

static void
sorted_remove(struct mls_sampler *s, size_t oi)
{
	size_t i;

	for (i = 0; i < s->nsorted; i++)
		if (s->sorted[i] == oi) {
			memmove(&s->sorted[i], &s->sorted[i + 1],
			    (s->nsorted - i - 1) * sizeof(*s->sorted));
			s->nsorted--;
			return;
		}
}

static int
sorted_insert(struct mls_sampler *s, size_t oi)
{
	size_t lo = 0, hi = s->nsorted, mid;
	double v = s->o[oi].value;
	int rc;

	if ((rc = MLS_GROW(s->sorted, s->capsorted, s->nsorted + 1)) < 0)
		return rc;
	while (lo < hi) {	/* after equal values: ties keep trial order */
		mid = (lo + hi) / 2;
		if (s->o[s->sorted[mid]].value <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&s->sorted[lo + 1], &s->sorted[lo],
	    (s->nsorted - lo) * sizeof(*s->sorted));
	s->sorted[lo] = oi;
	s->nsorted++;
	return 0;
}

static void
set_state(struct mls_sampler *s, size_t oi, enum ostate st, double value)
{
	struct obs *o = &s->o[oi];

	if (o->state == O_DONE)
		sorted_remove(s, oi);
	if (o->state == O_PENDING)
		s->npending--;
	if (o->state == O_PRUNED)
		s->npruned--;
	o->state = st;
	o->value = value;
	if (st == O_PENDING)
		s->npending++;
	if (st == O_PRUNED)
		s->npruned++;
}

/* The observation of number, created from params when new (params may be
 * NULL only for a known number).  Returns its index or <0. */
static long
obs_get(struct mls_sampler *s, long number, const json_t *params)
{
	size_t cap, i, oi;
	long k;
	int rc;

	if (number < 0 || number > MAX_NUMBER)
		return mls_error_set(MLS_EINPUT, "trial number %ld out of range",
		    number);
	if ((k = obs_find(s, number)) >= 0 && params == NULL)
		return k;
	if (params == NULL)
		return mls_error_set(MLS_EINPUT, "trial %ld: no params and never "
		    "suggested", number);
	if ((rc = mls_space_check(s->sp, params)) < 0)
		return mls_error_prefix("trial %ld", number);
	if (k < 0) {
		if ((size_t)number >= s->nidx) {
			cap = s->nidx;
			if ((rc = MLS_GROW(s->idx, s->nidx, (size_t)number + 1)) < 0)
				return rc;
			for (i = cap; i < s->nidx; i++)
				s->idx[i] = -1;
		}
		cap = s->capo;
		if ((rc = MLS_GROW(s->o, s->capo, s->no + 1)) < 0)
			return rc;
		if (s->capo != cap && s->nd > 0) {
			double *nx = mls_reallocarray(s->x, s->capo,
			    s->nd * sizeof(*nx));
			if (nx == NULL) {
				s->capo = cap;	/* keep x and capo in step */
				return mls_error_set(MLS_ENOMEM, "out of memory");
			}
			s->x = nx;
		}
		oi = s->no++;
		s->o[oi] = (struct obs){ .number = number, .state = O_NONE,
		    .value = NAN };
		s->idx[number] = (long)oi;
	} else {
		oi = (size_t)k;
	}
	for (i = 0; i < s->nd; i++)
		s->x[oi * s->nd + i] = to_internal(&s->d[i],
		    json_object_get(params, s->d[i].p->name));
	return (long)oi;
}

/* ---- grid --------------------------------------------------------------- */

static int
grid_values(struct mls_sampler *s, const struct dim *d, json_t **out)
{
	const struct mls_param *p = d->p;
	json_t *a, *v;
	double n, k, x, last = NAN;
	size_t i, pts = (size_t)s->grid_points;

	*out = NULL;
	if (d->cat)
		return (*out = json_deep_copy(p->values)) == NULL ?
		    mls_error_set(MLS_ENOMEM, "out of memory") : 0;
	if ((a = json_array()) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	n = p->step > 0 ? floor((p->high - p->low) / p->step + 1e-9) + 1 : INFINITY;
	if (p->type == MLS_PARAM_UNIFORM || p->type == MLS_PARAM_LOGUNIFORM) {
		if (p->step > 0 && n > (double)MAX_GRID) {
			json_decref(a);
			return mls_error_set(MLS_EINPUT, "parameter '%s': too many "
			    "steps for a grid", p->name);
		}
		if (p->step > 0)
			pts = (size_t)n;
	} else if (n <= (double)pts) {
		pts = (size_t)n;
	}
	for (i = 0; i < pts; i++) {
		if (p->step > 0 && pts == (size_t)n) {
			x = p->low + (double)i * p->step;
		} else {
			k = pts > 1 ? (double)i / (double)(pts - 1) : 0.5;
			x = d->log ? p->low * pow(p->high / p->low, k) :
			    p->low + k * (p->high - p->low);
		}
		x = mls_param_snap(p, x);
		if (x == last)
			continue;	/* ints rounded onto the same value */
		last = x;
		if ((v = mls_param_number(p, x)) == NULL ||
		    json_array_append_new(a, v) < 0) {
			json_decref(a);
			return mls_error_set(MLS_ENOMEM, "out of memory");
		}
	}
	*out = a;
	return 0;
}

static int
grid_init(struct mls_sampler *s)
{
	size_t j, i, t;
	double total = 1;
	int rc;

	if (s->nd > 0 && (s->gvals = calloc(s->nd, sizeof(*s->gvals))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (j = 0; j < s->nd; j++) {
		if ((rc = grid_values(s, &s->d[j], &s->gvals[j])) < 0)
			return rc;
		total *= (double)json_array_size(s->gvals[j]);
	}
	if (total > (double)MAX_GRID)
		return mls_error_set(MLS_EINPUT, "grid has %.0f points (at most %lu)",
		    total, MAX_GRID);
	s->gsize = (size_t)total;
	if ((s->gused = calloc(s->gsize / 8 + 1, 1)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (s->shuffle) {
		if ((s->gperm = malloc(s->gsize * sizeof(*s->gperm))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		for (i = 0; i < s->gsize; i++)
			s->gperm[i] = i;
		rng_for(s, -1, 0x6772696401ULL);
		for (i = s->gsize; i > 1; i--) {
			j = gsl_rng_uniform_int(s->rng, i);
			t = s->gperm[i - 1];
			s->gperm[i - 1] = s->gperm[j];
			s->gperm[j] = t;
		}
	}
	return 0;
}

/* Mark the grid point of observation oi used, if it is one. */
static void
grid_mark(struct mls_sampler *s, size_t oi)
{
	size_t j, k, n, idx = 0;
	double x, best, dist, y;
	long bk;

	for (j = 0; j < s->nd; j++) {
		n = json_array_size(s->gvals[j]);
		x = s->x[oi * s->nd + j];
		bk = -1;
		best = INFINITY;
		for (k = 0; k < n; k++) {
			y = to_internal(&s->d[j], json_array_get(s->gvals[j], k));
			dist = fabs(y - x);
			if (dist < best) {
				best = dist;
				bk = (long)k;
			}
		}
		if (bk < 0 || best > 1e-9 * fmax(1.0, fabs(x)))
			return;		/* not on the grid */
		idx = idx * n + (size_t)bk;
	}
	s->gused[idx / 8] |= (unsigned char)(1u << (idx % 8));
}

static int
grid_ask(struct mls_sampler *s, json_t **vals)
{
	size_t idx, j, n;

	for (;;) {
		if (s->gcursor >= s->gsize)
			return 1;
		idx = s->gperm ? s->gperm[s->gcursor] : s->gcursor;
		s->gcursor++;
		if (!(s->gused[idx / 8] & (1u << (idx % 8))))
			break;
	}
	s->gused[idx / 8] |= (unsigned char)(1u << (idx % 8));
	for (j = s->nd; j-- > 0;) {
		n = json_array_size(s->gvals[j]);
		vals[j] = json_deep_copy(json_array_get(s->gvals[j], idx % n));
		idx /= n;
	}
	return 0;
}

/* ---- random and sobol ----------------------------------------------------- */

static void
random_ask(struct mls_sampler *s, json_t **vals)
{
	size_t j;

	for (j = 0; j < s->nd; j++)
		vals[j] = mls_param_from_unit(s->d[j].p, gsl_rng_uniform(s->rng));
}

static int
sobol_ask(struct mls_sampler *s, long number, json_t **vals)
{
	size_t j;
	double u;

	if (s->nd == 0)
		return 0;
	if (number < s->qnext) {
		gsl_qrng_init(s->q);
		s->qnext = 0;
	}
	while (s->qnext <= number) {
		if (gsl_qrng_get(s->q, s->qpt) != 0)
			return mls_error_set(MLS_ERR, "sobol sequence failed");
		s->qnext++;
	}
	for (j = 0; j < s->nd; j++) {
		u = s->qpt[j] + s->shift[j];	/* Cranley-Patterson rotation */
		if (u >= 1)
			u -= 1;
		vals[j] = mls_param_from_unit(s->d[j].p, u);
	}
	return 0;
}

/* ---- TPE -------------------------------------------------------------------- */

/*
 * Parzen estimators as in Optuna 3.1's TPESampler with its defaults (prior
 * weight 1, magic clip, consider_endpoints off, gamma min(ceil(n/10), 25),
 * the ramp of weights for old observations, 24 EI candidates), over the
 * internal coordinates.  Each estimator has one kernel per observation and
 * a prior kernel (the centre, width = range) last.  Numeric kernels are
 * normals truncated to [lo, hi]; a candidate on an integer or quantized
 * parameter is first rounded onto its grid, and on a linear grid scored by
 * the kernels' mass over its cell [x - q/2, x + q/2], as Optuna does.
 * Categorical kernel i gives every choice a and its own choice a + 1,
 * normalised, with a = prior weight / (m + 1) for m observations (joint
 * model: a = prior weight / choices, see below).  The
 * width of a numeric kernel is the larger gap to its neighbours in sorted
 * order (the outermost ones: their inner gap), clipped to
 * [range / min(100, m + 2), range].
 *
 * Multivariate (the default): a candidate takes all its coordinates from
 * one kernel of the below estimator and is scored with the joint
 * (product-kernel) densities, so good combinations of values stay
 * together.  Its widths are the per-parameter ones above: Optuna's
 * multivariate Scott rule (0.2 m^(-1/(d+4)) range for every kernel) did
 * worse than independent sampling on bench/hpo/regret.py, the per-parameter
 * widths markedly better than both.  Its categorical kernels are wider
 * (a = 1/choices): multiplied with the numeric ones, Optuna's peaked ones
 * kept the search on the first good choice (on the 6-choice space of
 * test_tpe_grid the best choice was found in 39 of 60 seeds, 49 with the
 * wider kernels).  Its width floor is 2/3 of the magic clip's,
 * range / (1.5 min(100, m + 2)): with the few below kernels of an early
 * search (m + 2 = 7 after 50 trials) the full floor makes every kernel span
 * a seventh of each range, and their product samples too widely.  On 100
 * other seeds (100-199, not the benchmark's) of
 * bench/hpo/regret.py the 2/3 floor lowered the median regret on all four
 * problems at 50, 100 and 200 trials (Rosenbrock after 50: 14.3, was
 * 18.9); 0.6 did as well early but 0.5 and 0.55 got stuck on Hartmann6
 * (0.105 and 0.068 after 200, was 0.037).  Independent (multivariate false):
 * Optuna's default, each parameter sampled and scored on its own.
 */

static int
kde_reserve(struct kde *k, size_t m, size_t nc)
{
	double *p;
	size_t n = m + 1;

	/* one block: mu, sigma, inv, w, lw, cumw, coef, lnorm (n each), pc (nc) */
	if ((p = mls_reallocarray(k->mu, 8 * n + nc + 1, sizeof(*p))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	k->mu = p;
	k->sigma = p + n;
	k->inv = p + 2 * n;
	k->w = p + 3 * n;
	k->lw = p + 4 * n;
	k->cumw = p + 5 * n;
	k->coef = p + 6 * n;
	k->lnorm = p + 7 * n;
	k->pc = p + 8 * n;
	return 0;
}

/* P(a < Z < b) for a standard normal Z, a <= b, accurate in the tails. */
static double
gauss_mass(double a, double b)
{
	if (b <= 0)
		return ncdf(b) - ncdf(a);
	if (a > 0)
		return ncdf(-a) - ncdf(-b);
	return 1 - ncdf(a) - ncdf(-b);
}

/* x (internal) clipped to the range and rounded onto the parameter's grid. */
static double
snap_internal(const struct dim *d, double x)
{
	if (d->cat)
		return x;
	x = fmin(fmax(x, d->lo), d->hi);
	if (d->p->step <= 0)
		return x;
	if (d->log)
		return log(mls_param_snap(d->p, exp(x)));
	return mls_param_snap(d->p, x);
}

static const double *sort_key;

static int
cmp_by_key(const void *a, const void *b)
{
	double x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];

	return (x > y) - (x < y);
}

/*
 * Build the estimator of dimension j from the m observations sel[] with
 * weights w[] (not normalised) and the prior kernel.
 */
static int
kde_build(struct mls_sampler *s, struct kde *k, size_t j, const size_t *sel,
    const double *w, size_t m)
{
	const struct dim *d = &s->d[j];
	double range = d->hi - d->lo, sum = PRIOR_WEIGHT, minsig, sig, left, right,
	    z;
	size_t i, c, n = m + 1;
	int rc;

	if ((rc = kde_reserve(k, m, d->cat ? d->nc : 0)) < 0)
		return rc;
	k->m = n;
	for (i = 0; i < m; i++)
		sum += w[i];
	for (i = 0; i < m; i++) {
		k->w[i] = w[i] / sum;
		k->mu[i] = s->x[sel[i] * s->nd + j];
	}
	k->w[m] = PRIOR_WEIGHT / sum;
	k->cumw[0] = k->w[0];
	for (i = 0; i < n; i++) {
		k->lw[i] = log(k->w[i]);
		if (i > 0)
			k->cumw[i] = k->cumw[i - 1] + k->w[i];
	}
	if (d->cat) {
		k->mu[m] = -1;		/* the prior kernel: uniform */
		/* joint: a fixed 1/nc; Optuna's 1/(m + 1) locks on early */
		k->ca = PRIOR_WEIGHT / (s->multivariate ? (double)d->nc : (double)n);
		k->cden = (double)d->nc * k->ca + 1;
		k->lhit = log((k->ca + 1) / k->cden);
		k->lmiss = log(k->ca / k->cden);
		for (c = 0; c < d->nc; c++)
			k->pc[c] = k->w[m] / (double)d->nc +
			    (1 - k->w[m]) * k->ca / k->cden;
		for (i = 0; i < m; i++) {
			c = (size_t)k->mu[i];
			if (c < d->nc)
				k->pc[c] += k->w[i] / k->cden;
		}
		return 0;
	}
	k->mu[m] = 0.5 * (d->lo + d->hi);
	minsig = range / fmin(100.0, (double)n + 1.0);
	if (s->multivariate)
		minsig *= JOINT_MINSIG;
	sort_key = k->mu;
	for (i = 0; i < n; i++)
		s->order[i] = i;
	qsort(s->order, n, sizeof(*s->order), cmp_by_key);
	for (i = 0; i < n; i++) {
		left = k->mu[s->order[i]] - (i > 0 ? k->mu[s->order[i - 1]] : d->lo);
		right = (i + 1 < n ? k->mu[s->order[i + 1]] : d->hi) -
		    k->mu[s->order[i]];
		if (n >= 2 && i == 0)
			sig = right;
		else if (n >= 2 && i == n - 1)
			sig = left;
		else
			sig = fmax(left, right);
		k->sigma[s->order[i]] = fmin(fmax(sig, minsig), range);
	}
	k->sigma[m] = range;
	for (i = 0; i < n; i++) {
		k->inv[i] = 1.0 / k->sigma[i];
		z = fmax(gauss_mass((d->lo - k->mu[i]) * k->inv[i],
		    (d->hi - k->mu[i]) * k->inv[i]), 1e-300);
		k->lnorm[i] = d->q > 0 ? -log(z) : -log(k->sigma[i] * z * SQRT2PI);
		k->coef[i] = k->w[i] * exp(k->lnorm[i]);
	}
	return 0;
}

static size_t
kde_pick(const struct kde *k, double u)
{
	size_t lo = 0, hi = k->m - 1, mid;

	u *= k->cumw[k->m - 1];
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (k->cumw[mid] <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A sample of kernel i of dimension d, on the parameter's grid. */
static double
kernel_sample(struct mls_sampler *s, const struct dim *d, const struct kde *k,
    size_t i)
{
	double a, b, u, c;

	if (d->cat) {
		u = gsl_rng_uniform(s->rng);
		if (k->mu[i] < 0 || u * k->cden < (double)d->nc * k->ca)
			return (double)gsl_rng_uniform_int(s->rng, d->nc);
		return k->mu[i];
	}
	a = ncdf((d->lo - k->mu[i]) * k->inv[i]);
	b = ncdf((d->hi - k->mu[i]) * k->inv[i]);
	u = a + gsl_rng_uniform(s->rng) * (b - a);
	c = gsl_cdf_ugaussian_Pinv(fmin(fmax(u, 1e-300), 1 - 1e-16));
	return snap_internal(d, k->mu[i] + k->sigma[i] * c);
}

/* Cell [*a, *b] of grid point x (linear grids, d->q > 0). */
static void
cell(const struct dim *d, double x, double *a, double *b)
{
	*a = fmax(x - 0.5 * d->q, d->lo);
	*b = fmin(x + 0.5 * d->q, d->hi);
}

/* log of the mixture density (mass on a grid) of dimension d at x. */
static double
kde_logpdf(const struct dim *d, const struct kde *k, double x)
{
	double sum = 0, z, a, b;
	size_t i;

	if (d->cat)
		return log(k->pc[(size_t)x]);
	if (d->q > 0) {
		cell(d, x, &a, &b);
		for (i = 0; i < k->m; i++)
			sum += k->coef[i] * gauss_mass((a - k->mu[i]) * k->inv[i],
			    (b - k->mu[i]) * k->inv[i]);
	} else {
		for (i = 0; i < k->m; i++) {
			z = (x - k->mu[i]) * k->inv[i];
			sum += k->coef[i] * exp(-0.5 * z * z);
		}
	}
	return log(fmax(sum, 1e-300));
}

/* log of the joint mixture density (product kernels) at candidate x[]. */
static double
joint_logpdf(struct mls_sampler *s, const struct kde *ks, const double *x)
{
	size_t i, j, m = ks[0].m;
	double best = -INFINITY, sum = 0, *t = s->tmp, z, a, b;
	const struct dim *d;
	const struct kde *k;

	for (i = 0; i < m; i++)
		t[i] = ks[0].lw[i];
	for (j = 0; j < s->nd; j++) {
		d = &s->d[j];
		k = &ks[j];
		if (d->cat) {
			for (i = 0; i + 1 < m; i++)
				t[i] += k->mu[i] == x[j] ? k->lhit : k->lmiss;
			t[m - 1] -= log((double)d->nc);
		} else if (d->q > 0) {
			cell(d, x[j], &a, &b);
			for (i = 0; i < m; i++)
				t[i] += k->lnorm[i] + log(fmax(gauss_mass(
				    (a - k->mu[i]) * k->inv[i],
				    (b - k->mu[i]) * k->inv[i]), 1e-300));
		} else {
			for (i = 0; i < m; i++) {
				z = (x[j] - k->mu[i]) * k->inv[i];
				t[i] += k->lnorm[i] - 0.5 * z * z;
			}
		}
	}
	for (i = 0; i < m; i++)
		if (t[i] > best)
			best = t[i];
	for (i = 0; i < m; i++)
		sum += exp(t[i] - best);
	return best + log(sum);
}

/* Optuna's default weights: 1 for the newest 25, a ramp from 1/n before. */
static double
age_weight(size_t pos, size_t n)
{
	if (n < 25 || pos >= n - 25)
		return 1.0;
	if (n - 25 == 1)
		return 1.0 / (double)n;
	return 1.0 / (double)n + (1.0 - 1.0 / (double)n) * (double)pos /
	    (double)(n - 26);
}

static int
tpe_ask(struct mls_sampler *s, json_t **vals)
{
	size_t ncomplete = s->nsorted + s->npruned, n, nbelow, nabove, i, j, c,
	    m, need, take, pos, best;
	struct kde *lk = NULL, *gk = NULL;
	double sc, bestsc;
	int rc = 0;

	if ((long)ncomplete < s->startup || s->nsorted == 0) {
		random_ask(s, vals);
		return 0;
	}
	n = ncomplete + s->npending;
	nbelow = (size_t)ceil(0.1 * (double)n);
	if (nbelow > 25)
		nbelow = 25;
	if (nbelow > s->nsorted)
		nbelow = s->nsorted;
	if (nbelow == 0)
		nbelow = 1;
	s->stamp++;
	if (s->stamp == 0)
		s->stamp = 1;
	for (i = 0; i < nbelow; i++)
		s->o[s->sorted[i]].stamp = s->stamp;
	nabove = n - nbelow;
	need = nbelow + 2 + (nabove < (size_t)s->max_above ? nabove :
	    (size_t)s->max_above) + (size_t)s->candidates * (s->nd + 1);
	if ((rc = MLS_GROW(s->sel, s->capsel, need)) < 0)
		return rc;
	{
		void *p;
		if ((p = mls_reallocarray(s->wsel, need, sizeof(double))) == NULL ||
		    (s->wsel = p, (p = mls_reallocarray(s->cand, need,
		    sizeof(double))) == NULL) ||
		    (s->cand = p, (p = mls_reallocarray(s->score, need,
		    sizeof(double))) == NULL) ||
		    (s->score = p, (p = mls_reallocarray(s->tmp, need,
		    sizeof(double))) == NULL) ||
		    (s->tmp = p, (p = mls_reallocarray(s->order, need,
		    sizeof(size_t))) == NULL))
			return mls_error_set(MLS_ENOMEM, "out of memory");
		s->order = p;
	}
	/* per-dim estimators: lk[j], gk[j] */
	if ((lk = calloc(s->nd, sizeof(*lk))) == NULL ||
	    (gk = calloc(s->nd, sizeof(*gk))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	/* below: in trial order, weight 1 (at most 25 of them) */
	m = 0;
	for (i = 0; i < s->no && m < nbelow; i++)
		if (s->o[i].state == O_DONE && s->o[i].stamp == s->stamp)
			s->sel[m++] = i;
	for (i = 0; i < m; i++)
		s->wsel[i] = 1.0;
	for (j = 0; j < s->nd; j++)
		if ((rc = kde_build(s, &lk[j], j, s->sel, s->wsel, m)) < 0)
			goto out;
	/* above: the rest (constant liar: pending trials too), strided */
	take = nabove < (size_t)s->max_above ? nabove : (size_t)s->max_above;
	m = 0;
	pos = 0;
	for (i = 0; i < s->no && m < take; i++) {
		const struct obs *o = &s->o[i];
		if (o->state == O_NONE || o->state == O_FAILED ||
		    (o->state == O_DONE && o->stamp == s->stamp))
			continue;
		/* keep position pos when it is the next stride point */
		if (pos * take / nabove != (pos + 1) * take / nabove ||
		    nabove == take) {
			s->sel[m] = i;
			s->wsel[m++] = age_weight(pos, nabove);
		}
		pos++;
	}
	for (j = 0; j < s->nd; j++)
		if ((rc = kde_build(s, &gk[j], j, s->sel, s->wsel, m)) < 0)
			goto out;

	if (!s->multivariate) {
		for (j = 0; j < s->nd; j++) {
			best = 0;
			bestsc = -INFINITY;
			for (c = 0; c < (size_t)s->candidates; c++) {
				i = kde_pick(&lk[j], gsl_rng_uniform(s->rng));
				s->cand[c] = kernel_sample(s, &s->d[j], &lk[j], i);
				sc = kde_logpdf(&s->d[j], &lk[j], s->cand[c]) -
				    kde_logpdf(&s->d[j], &gk[j], s->cand[c]);
				if (sc > bestsc) {
					bestsc = sc;
					best = c;
				}
			}
			vals[j] = from_internal(&s->d[j], s->cand[best]);
		}
	} else {
		double *x = s->cand;	/* candidates * nd */
		best = 0;
		bestsc = -INFINITY;
		for (c = 0; c < (size_t)s->candidates; c++) {
			i = kde_pick(&lk[0], gsl_rng_uniform(s->rng));
			for (j = 0; j < s->nd; j++)
				x[c * s->nd + j] = kernel_sample(s, &s->d[j], &lk[j], i);
			sc = joint_logpdf(s, lk, &x[c * s->nd]) -
			    joint_logpdf(s, gk, &x[c * s->nd]);
			if (sc > bestsc) {
				bestsc = sc;
				best = c;
			}
		}
		for (j = 0; j < s->nd; j++)
			vals[j] = from_internal(&s->d[j], x[best * s->nd + j]);
	}
out:
	for (j = 0; lk && j < s->nd; j++)
		free(lk[j].mu);
	for (j = 0; gk && j < s->nd; j++)
		free(gk[j].mu);
	free(lk);
	free(gk);
	return rc;
}

/* ---- exec:CMD -------------------------------------------------------------- */

static int
exec_write_input(struct mls_sampler *s, const char *path)
{
	json_t *doc = NULL, *pts, *pt, *params;
	size_t i, j, k;
	int rc;

	if ((doc = json_object()) == NULL || (pts = json_array()) == NULL) {
		json_decref(doc);
		return mls_error_set(MLS_ENOMEM, "out of memory");
	}
	json_object_set_new(doc, "points", pts);
	for (i = 0; i < s->no; i++) {
		const struct obs *o = &s->o[i];
		json_t **vals;
		if (o->state == O_NONE || o->state == O_FAILED)
			continue;
		if ((vals = calloc(s->nd + 1, sizeof(*vals))) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		for (j = 0; j < s->nd; j++)
			vals[j] = from_internal(&s->d[j], s->x[i * s->nd + j]);
		rc = build_params(s, vals, &params);
		for (k = 0; k < s->nd; k++)
			json_decref(vals[k]);
		free(vals);
		if (rc < 0)
			goto out;
		pt = json_pack("[o,o]", params, o->state == O_PENDING ||
		    !isfinite(o->value) ? json_null() : json_real(o->value));
		if (pt == NULL || json_array_append_new(pts, pt) < 0) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (json_object_set_new(doc, "opt_space", mls_space_to_json(s->sp)) < 0) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	if (json_dump_file(doc, path, MLS_JSON_COMPACT) < 0) {
		rc = mls_error_set(MLS_EIO, "write '%s'", path);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/* Run the command with %IN, %OUT and %N replaced; output to exec.log. */
static int
exec_run(struct mls_sampler *s, const char *in, const char *outp, const char *log)
{
	struct mls_child c = MLS_CHILD_INIT;
	struct mls_buf cmd = MLS_BUF_INIT;
	const char *p = s->cmd;
	char nbuf[32];
	char *argv[4];
	int rc, logfd = -1;

	snprintf(nbuf, sizeof(nbuf), "%ld", s->parallel);
	while (*p) {
		if (strncmp(p, "%IN", 3) == 0) {
			mls_buf_add_shquoted(&cmd, in);
			p += 3;
		} else if (strncmp(p, "%OUT", 4) == 0) {
			mls_buf_add_shquoted(&cmd, outp);
			p += 4;
		} else if (strncmp(p, "%N", 2) == 0) {
			mls_buf_adds(&cmd, nbuf);
			p += 2;
		} else {
			mls_buf_addc(&cmd, *p++);
		}
	}
	if ((rc = mls_buf_error(&cmd)) < 0)
		goto out;
	if ((logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1) {
		rc = mls_error_set_errno(MLS_EIO, "exec sampler: open '%s'", log);
		goto out;
	}
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = cmd.buf;
	argv[3] = NULL;
	c.argv = argv;
	c.in = MLS_CHILD_NULL;
	c.out = MLS_CHILD_FD;
	c.out_fd = logfd;
	c.flags = MLS_CHILD_ERR_TO_OUT;
	if ((rc = mls_child_start(&c)) < 0) {
		mls_error_prefix("exec sampler");
		rc = MLS_EUNAVAIL;
		goto out;
	}
	if ((rc = mls_child_finish(&c)) < 0) {
		mls_error_prefix("exec sampler");
		goto out;
	}
	if (c.exit_code > 0)
		rc = mls_error_set(MLS_EINPUT, "exec sampler '%s': exit status %d "
		    "(see '%s')", s->cmd, c.exit_code, log);
	else if (c.signal != 0)
		rc = mls_error_set(MLS_EINPUT, "exec sampler '%s': killed by signal "
		    "%d (see '%s')", s->cmd, c.signal, log);
	else
		rc = 0;
out:
	if (logfd >= 0)
		close(logfd);
	mls_buf_release(&cmd);
	return rc;
}

static int
exec_fill(struct mls_sampler *s)
{
	struct mls_buf in = MLS_BUF_INIT, outp = MLS_BUF_INIT, log = MLS_BUF_INIT;
	json_error_t jerr;
	json_t *list = NULL, *v;
	size_t i;
	int rc;

	mls_buf_addf(&in, "%s/in.json", s->workdir);
	mls_buf_addf(&outp, "%s/out.json", s->workdir);
	mls_buf_addf(&log, "%s/exec.log", s->workdir);
	if ((rc = mls_buf_error(&in)) < 0 || (rc = mls_buf_error(&outp)) < 0 ||
	    (rc = mls_buf_error(&log)) < 0)
		goto out;
	if (unlink(outp.buf) < 0 && errno != ENOENT) {
		rc = mls_error_set_errno(MLS_EIO, "remove '%s'", outp.buf);
		goto out;
	}
	if ((rc = exec_write_input(s, in.buf)) < 0 ||
	    (rc = exec_run(s, in.buf, outp.buf, log.buf)) < 0)
		goto out;
	if ((list = json_load_file(outp.buf, 0, &jerr)) == NULL) {
		rc = mls_error_set(MLS_EINPUT, "exec sampler: %s:%d:%d: %s", outp.buf,
		    jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_array(list)) {
		rc = mls_error_set(MLS_EINPUT, "exec sampler: %s: expected a list of "
		    "parameter objects", outp.buf);
		goto out;
	}
	if (json_array_size(list) == 0)
		s->exhausted = 1;
	json_array_foreach(list, i, v) {
		json_t *p = json_deep_copy(v);
		size_t k;
		if (p == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		for (k = 0; k < mls_space_size(s->sp); k++) {	/* add fixed ones */
			const struct mls_param *pp = mls_space_param(s->sp, k);
			if (json_is_object(p) && pp->type == MLS_PARAM_FIXED &&
			    json_object_get(p, pp->name) == NULL)
				json_object_set_new(p, pp->name, json_deep_copy(pp->values));
		}
		if ((rc = mls_space_check(s->sp, p)) < 0) {
			json_decref(p);
			mls_error_prefix("exec sampler: %s: point %zu", outp.buf, i + 1);
			goto out;
		}
		if (json_array_append_new(s->buffered, p) < 0) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(list);
	mls_buf_release(&in);
	mls_buf_release(&outp);
	mls_buf_release(&log);
	return rc;
}

/* ---- the public API ----------------------------------------------------- */

static int
opt_get_long(const json_t *opts, const char *key, long def, long min, long *out)
{
	json_t *v = json_object_get(opts, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return mls_error_set(MLS_EINPUT, "sampler option '%s': expected an "
		    "integer >= %ld", key, min);
	*out = (long)json_integer_value(v);
	return 0;
}

/*
 * GSL's default error handler aborts the process; every GSL call here
 * checks what it returns instead (STYLE §3).  Turned off once, before the
 * first GSL call, which is in mls_sampler_new().
 */
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void
gsl_quiet(void)
{
	gsl_set_error_handler_off();
}

int
mls_sampler_new(struct mls_sampler **out, const char *algorithm,
    const struct mls_space *sp, unsigned long long seed, const json_t *opts)
{
	struct mls_sampler *s = NULL;
	const struct mls_param *p;
	const char *wd;
	size_t i;
	int rc;

	*out = NULL;
	(void)pthread_once(&gsl_once, gsl_quiet);
	if (algorithm == NULL)
		algorithm = "";
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (strcmp(algorithm, "random") == 0)
		s->algo = RANDOM;
	else if (strcmp(algorithm, "grid") == 0)
		s->algo = GRID;
	else if (strcmp(algorithm, "sobol") == 0)
		s->algo = SOBOL;
	else if (strcmp(algorithm, "tpe") == 0)
		s->algo = TPE;
	else if (strncmp(algorithm, "exec:", 5) == 0 && algorithm[5] != '\0')
		s->algo = EXEC;
	else {
		rc = mls_error_set(MLS_EINPUT, "unknown algorithm '%s' (expected "
		    "random, grid, sobol, tpe or exec:CMD)", algorithm);
		goto out;
	}
	if (opts != NULL && !json_is_object(opts)) {
		rc = mls_error_set(MLS_EINPUT, "sampler options: expected an object");
		goto out;
	}
	s->sp = sp;
	s->seed = seed;
	s->multivariate = !json_is_false(json_object_get(opts, "multivariate"));
	s->shuffle = json_is_true(json_object_get(opts, "shuffle"));
	if ((rc = opt_get_long(opts, "startup", 10, 0, &s->startup)) < 0 ||
	    (rc = opt_get_long(opts, "candidates", 24, 1, &s->candidates)) < 0 ||
	    (rc = opt_get_long(opts, "max_above", 256, 8, &s->max_above)) < 0 ||
	    (rc = opt_get_long(opts, "parallel", 1, 1, &s->parallel)) < 0 ||
	    (rc = opt_get_long(opts, "grid_points", 5, 1, &s->grid_points)) < 0)
		goto out;
	if (mls_space_size(sp) == 0) {
		rc = mls_error_set(MLS_EINPUT, "the search space has no parameters");
		goto out;
	}
	if ((s->rng = gsl_rng_alloc(gsl_rng_mt19937)) == NULL ||
	    (s->d = calloc(mls_space_size(sp), sizeof(*s->d))) == NULL) {
		rc = mls_error_set(MLS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < mls_space_size(sp); i++) {
		struct dim *d;
		p = mls_space_param(sp, i);
		if (p->type == MLS_PARAM_FIXED)
			continue;
		d = &s->d[s->nd++];
		d->p = p;
		d->cat = p->type == MLS_PARAM_CHOICE;
		d->nc = p->nvalues;
		d->log = p->type == MLS_PARAM_LOGUNIFORM || p->type == MLS_PARAM_INTLOG;
		switch (p->type) {
		case MLS_PARAM_UNIFORM:
		case MLS_PARAM_INT:
			d->lo = p->low - 0.5 * p->step;
			d->hi = p->high + 0.5 * p->step;
			d->q = p->step;
			break;
		case MLS_PARAM_LOGUNIFORM:
			d->lo = log(p->low);
			d->hi = log(p->high);
			break;
		case MLS_PARAM_INTLOG:
			d->lo = log(p->low - 0.5);
			d->hi = log(p->high + 0.5);
			break;
		default:
			d->lo = 0;
			d->hi = (double)d->nc;
			break;
		}
	}
	switch (s->algo) {
	case GRID:
		if ((rc = grid_init(s)) < 0)
			goto out;
		break;
	case SOBOL:
		if (s->nd > 40) {
			rc = mls_error_set(MLS_EINPUT, "sobol supports at most 40 "
			    "parameters (the space has %zu)", s->nd);
			goto out;
		}
		if (s->nd == 0)
			break;
		if ((s->q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)s->nd)) == NULL ||
		    (s->shift = calloc(s->nd, sizeof(double))) == NULL ||
		    (s->qpt = calloc(s->nd, sizeof(double))) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		rng_for(s, -1, 0x736f626f6cULL);
		for (i = 0; i < s->nd; i++)
			s->shift[i] = gsl_rng_uniform(s->rng);
		break;
	case EXEC:
		if ((s->cmd = strdup(algorithm + 5)) == NULL ||
		    (s->buffered = json_array()) == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		wd = json_string_value(json_object_get(opts, "workdir"));
		if (wd != NULL) {
			if (mkdir(wd, 0700) < 0 && errno != EEXIST) {
				rc = mls_error_set_errno(MLS_EIO, "mkdir '%s'", wd);
				goto out;
			}
			s->workdir = strdup(wd);
		} else {
			struct mls_buf t = MLS_BUF_INIT;
			const char *tmp = getenv("TMPDIR");
			mls_buf_addf(&t, "%s/mls-exec-XXXXXX", tmp && *tmp ? tmp : "/tmp");
			if ((rc = mls_buf_error(&t)) < 0)
				goto out;
			if (mkdtemp(t.buf) == NULL) {
				rc = mls_error_set_errno(MLS_EIO, "mkdtemp '%s'", t.buf);
				mls_buf_release(&t);
				goto out;
			}
			s->workdir = mls_buf_detach(&t);
			s->own_workdir = 1;
		}
		if (s->workdir == NULL) {
			rc = mls_error_set(MLS_ENOMEM, "out of memory");
			goto out;
		}
		break;
	default:
		break;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	mls_sampler_free(s);
	return rc;
}

static void
remove_in(const char *dir, const char *name)
{
	struct mls_buf b = MLS_BUF_INIT;

	mls_buf_addf(&b, "%s/%s", dir, name);
	if (mls_buf_error(&b) == 0)
		unlink(b.buf);
	mls_buf_release(&b);
}

void
mls_sampler_free(struct mls_sampler *s)
{
	size_t j;

	if (s == NULL)
		return;
	if (s->own_workdir && s->workdir != NULL) {
		remove_in(s->workdir, "in.json");
		remove_in(s->workdir, "out.json");
		remove_in(s->workdir, "exec.log");
		rmdir(s->workdir);
	}
	if (s->rng)
		gsl_rng_free(s->rng);
	if (s->q)
		gsl_qrng_free(s->q);
	for (j = 0; s->gvals && j < s->nd; j++)
		json_decref(s->gvals[j]);
	free(s->gvals);
	free(s->gused);
	free(s->gperm);
	free(s->shift);
	free(s->qpt);
	free(s->d);
	free(s->o);
	free(s->x);
	free(s->idx);
	free(s->sorted);
	free(s->sel);
	free(s->wsel);
	free(s->cand);
	free(s->score);
	free(s->tmp);
	free(s->order);
	free(s->cmd);
	free(s->workdir);
	json_decref(s->buffered);
	free(s);
}

size_t
mls_sampler_grid_size(const struct mls_sampler *s)
{
	return s->algo == GRID ? s->gsize : 0;
}

int
mls_sampler_ask(struct mls_sampler *s, long number, json_t **params)
{
	json_t **vals = NULL, *p = NULL;
	size_t j;
	long oi;
	int rc;

	*params = NULL;
	if (number < 0 || number > MAX_NUMBER)
		return mls_error_set(MLS_EINPUT, "trial number %ld out of range",
		    number);
	if (s->algo == EXEC) {
		if (json_array_size(s->buffered) == 0 && !s->exhausted &&
		    (rc = exec_fill(s)) < 0)
			return rc;
		if (json_array_size(s->buffered) == 0)
			return 1;
		p = json_incref(json_array_get(s->buffered, 0));
		json_array_remove(s->buffered, 0);
		goto record;
	}
	if ((vals = calloc(s->nd + 1, sizeof(*vals))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	rng_for(s, number, 0);
	switch (s->algo) {
	case GRID:
		rc = grid_ask(s, vals);
		break;
	case SOBOL:
		rc = sobol_ask(s, number, vals);
		break;
	case TPE:
		rc = s->nd > 0 ? tpe_ask(s, vals) : 0;
		break;
	default:
		random_ask(s, vals);
		rc = 0;
		break;
	}
	if (rc != 0)
		goto out;
	if ((rc = build_params(s, vals, &p)) < 0)
		goto out;
record:
	if ((oi = obs_get(s, number, p)) < 0) {
		rc = (int)oi;
		goto out;
	}
	set_state(s, (size_t)oi, O_PENDING, NAN);
	*params = p;
	p = NULL;
	rc = 0;
out:
	for (j = 0; vals && j < s->nd; j++)
		json_decref(vals[j]);
	free(vals);
	json_decref(p);
	return rc;
}

int
mls_sampler_pending(struct mls_sampler *s, long number, const json_t *params)
{
	long oi;

	if ((oi = obs_get(s, number, params)) < 0)
		return (int)oi;
	set_state(s, (size_t)oi, O_PENDING, NAN);
	if (s->algo == GRID)
		grid_mark(s, (size_t)oi);
	return 0;
}

int
mls_sampler_tell(struct mls_sampler *s, long number, const json_t *params,
    const char *state, double value)
{
	enum ostate st;
	long oi;
	int rc;

	if (state == NULL)
		state = "";
	if (strcmp(state, "succeeded") == 0 || strcmp(state, "complete") == 0)
		st = isfinite(value) ? O_DONE : O_FAILED;
	else if (strcmp(state, "failed") == 0)
		st = O_FAILED;
	else if (strcmp(state, "pruned") == 0)
		st = O_PRUNED;
	else
		return mls_error_set(MLS_EINPUT, "trial %ld: unknown state '%s' "
		    "(expected succeeded, failed or pruned)", number, state);
	if ((oi = obs_get(s, number, params)) < 0)
		return (int)oi;
	set_state(s, (size_t)oi, st, value);
	if (s->algo == GRID && params != NULL)
		grid_mark(s, (size_t)oi);
	if (st == O_DONE && (rc = sorted_insert(s, (size_t)oi)) < 0) {
		s->o[oi].state = O_FAILED;
		return rc;
	}
	return 0;
}

/* ---- the ask-tell loop ---------------------------------------------------- */

static int
emit(struct mls_sampler *s, FILE *out, long number, int *exhausted)
{
	json_t *params = NULL, *rec;
	int rc;

	if ((rc = mls_sampler_ask(s, number, &params)) != 0) {
		if (rc == 1)
			*exhausted = 1;
		return rc < 0 ? rc : 0;
	}
	rec = json_pack("{s:s,s:I,s:o}", "kind", "params", "number",
	    (json_int_t)number, "params", params);
	if (rec == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (json_dumpf(rec, out, MLS_JSON_COMPACT) < 0 || fputc('\n', out) == EOF ||
	    fflush(out) == EOF) {
		json_decref(rec);
		return mls_error_set_errno(MLS_EIO, "write suggestion");
	}
	json_decref(rec);
	return 1;
}

/* The pending trial whose params equal p, or -1. */
static long
find_pending(struct mls_sampler *s, const json_t *p)
{
	size_t i, j;
	double x;

	for (i = 0; i < s->no; i++) {
		if (s->o[i].state != O_PENDING)
			continue;
		for (j = 0; j < s->nd; j++) {
			x = to_internal(&s->d[j], json_object_get(p, s->d[j].p->name));
			if (!(fabs(x - s->x[i * s->nd + j]) <=
			    1e-12 * fmax(1.0, fabs(x))))
				break;
		}
		if (j == s->nd)
			return s->o[i].number;
	}
	return -1;
}

int
mls_sampler_ask_tell(struct mls_sampler *s, FILE *in, FILE *out, long parallel,
    long trials)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	long next = 0, made = 0, number, k;
	int exhausted = 0, rc = 0;
	json_error_t jerr;
	json_t *rec = NULL, *v, *params;
	const char *state;
	double value;

	if (parallel < 1)
		parallel = 1;
	for (k = 0; k < parallel && !exhausted && (trials <= 0 || made < trials); k++) {
		if ((rc = emit(s, out, next, &exhausted)) < 0)
			goto out;
		if (rc == 1) {
			next++;
			made++;
		}
	}
	rc = 0;
	if ((exhausted || (trials > 0 && made >= trials)) && s->npending == 0)
		goto out;
	while ((len = getline(&line, &cap, in)) > 0) {
		lineno++;
		if (len > 16 * 1024 * 1024) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: line too long", lineno);
			goto out;
		}
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		json_decref(rec);
		if ((rec = json_loadb(line, (size_t)len, 0, &jerr)) == NULL) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu:%d: %s", lineno,
			    jerr.column, jerr.text);
			goto out;
		}
		if (!json_is_object(rec)) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: expected an object",
			    lineno);
			goto out;
		}
		params = json_object_get(rec, "params");
		if (params != NULL && !json_is_object(params)) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: 'params' must be an "
			    "object", lineno);
			goto out;
		}
		state = json_string_value(json_object_get(rec, "state"));
		v = json_object_get(rec, "value");
		if (v != NULL && !json_is_null(v) && !json_is_number(v)) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: 'value' must be a "
			    "number", lineno);
			goto out;
		}
		value = json_is_number(v) ? json_number_value(v) : NAN;
		if (state == NULL) {
			if (!json_is_number(v)) {
				rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: expected "
				    "'value' or 'state'", lineno);
				goto out;
			}
			state = "succeeded";
		}
		v = json_object_get(rec, "number");
		if (v != NULL && !json_is_integer(v)) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: 'number' must be an "
			    "integer", lineno);
			goto out;
		}
		if (v != NULL) {
			number = (long)json_integer_value(v);
			if (obs_find(s, number) < 0 && params == NULL) {
				rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: trial %ld was "
				    "never suggested", lineno, number);
				goto out;
			}
			if (number >= next)
				next = number + 1;
		} else if (params == NULL) {
			rc = mls_error_set(MLS_EINPUT, "<stdin>:%lu: expected 'number' or "
			    "'params'", lineno);
			goto out;
		} else if ((number = find_pending(s, params)) < 0) {
			number = next++;	/* a point evaluated elsewhere */
		}
		if ((rc = mls_sampler_tell(s, number, params, state, value)) < 0) {
			mls_error_prefix("<stdin>:%lu", lineno);
			goto out;
		}
		if (!exhausted && (trials <= 0 || made < trials)) {
			if ((rc = emit(s, out, next, &exhausted)) < 0)
				goto out;
			if (rc == 1) {
				next++;
				made++;
			}
		}
		rc = 0;
		if ((exhausted || (trials > 0 && made >= trials)) && s->npending == 0)
			break;
	}
	if (ferror(in))
		rc = mls_error_set_errno(MLS_EIO, "read <stdin>");
out:
	json_decref(rec);
	free(line);
	return rc;
}
