/*
 * mls_pruner.c - median and ASHA pruners.
 *
 * Values are kept per step (median) or per rung (asha), so a report costs
 * O(trials at that step), whatever the length of the histories.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mls_alloc.h"
#include "mls_error.h"
#include "mls_pruner.h"

#define MAX_NUMBER	100000000L
#define MAX_RUNGS	64

enum kind { MEDIAN, ASHA };

struct vals {			/* values reported at one step or rung */
	long	 step;
	long	*num;
	double	*val;
	size_t	 n, cap;
};

struct trial {
	double	 best;		/* best (lowest) value so far */
	int	 seen;
	int	 rung;		/* asha: next rung */
};

struct mls_pruner {
	enum kind	 kind;
	long		 startup, warmup;	/* median */
	long		 min_resource, rf;	/* asha */
	struct trial	*t;
	size_t		 nt;
	struct vals	*steps;			/* median: sorted by step */
	size_t		 nsteps, capsteps;
	struct vals	 rungs[MAX_RUNGS];	/* asha */
	double		*scratch;
	size_t		 capscratch;
};

static int
opt_long(const json_t *opts, const char *key, long def, long min, long *out)
{
	json_t *v = json_object_get(opts, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return mls_error_set(MLS_EINPUT, "pruner option '%s': expected an "
		    "integer >= %ld", key, min);
	*out = (long)json_integer_value(v);
	return 0;
}

int
mls_pruner_new(struct mls_pruner **out, const char *kind, const json_t *opts)
{
	struct mls_pruner *p = NULL;
	int rc;

	*out = NULL;
	if (kind == NULL || (strcmp(kind, "median") != 0 && strcmp(kind, "asha") != 0))
		return mls_error_set(MLS_EINPUT, "unknown pruner '%s' (expected "
		    "median or asha)", kind ? kind : "");
	if (opts != NULL && !json_is_object(opts))
		return mls_error_set(MLS_EINPUT, "pruner options: expected an object");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	p->kind = strcmp(kind, "median") == 0 ? MEDIAN : ASHA;
	if ((rc = opt_long(opts, "startup_trials", 5, 0, &p->startup)) < 0 ||
	    (rc = opt_long(opts, "warmup_steps", 0, 0, &p->warmup)) < 0 ||
	    (rc = opt_long(opts, "min_resource", 1, 1, &p->min_resource)) < 0 ||
	    (rc = opt_long(opts, "reduction_factor", 3, 2, &p->rf)) < 0) {
		mls_pruner_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void
vals_release(struct vals *v)
{
	free(v->num);
	free(v->val);
}

void
mls_pruner_free(struct mls_pruner *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsteps; i++)
		vals_release(&p->steps[i]);
	for (i = 0; i < MAX_RUNGS; i++)
		vals_release(&p->rungs[i]);
	free(p->steps);
	free(p->t);
	free(p->scratch);
	free(p);
}

/* Set number's value in v (replacing an earlier one). */
static int
vals_put(struct vals *v, long number, double value)
{
	size_t i, cap;
	long *nn;
	double *nv;
	int rc;

	for (i = v->n; i-- > 0;)
		if (v->num[i] == number) {
			v->val[i] = value;
			return 0;
		}
	if (v->n == v->cap) {
		/* two arrays of one capacity: grow both, then say so */
		if ((rc = mls_grow_cap(v->cap, v->n + 1, sizeof(*nv), &cap)) < 0)
			return rc;
		if ((nn = mls_reallocarray(v->num, cap, sizeof(*nn))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		v->num = nn;
		if ((nv = mls_reallocarray(v->val, cap, sizeof(*nv))) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		v->val = nv;
		v->cap = cap;
	}
	v->num[v->n] = number;
	v->val[v->n++] = value;
	return 0;
}

static struct trial *
trial_get(struct mls_pruner *p, long number)
{
	size_t n, i;

	if ((size_t)number >= p->nt) {
		n = p->nt;
		if (MLS_GROW(p->t, p->nt, (size_t)number + 1) < 0)
			return NULL;
		for (i = n; i < p->nt; i++)
			p->t[i] = (struct trial){ .best = HUGE_VAL, .seen = 0,
			    .rung = 0 };
	}
	return &p->t[number];
}

static struct vals *
step_get(struct mls_pruner *p, long step)
{
	size_t lo = 0, hi = p->nsteps, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (p->steps[mid].step < step)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nsteps && p->steps[lo].step == step)
		return &p->steps[lo];
	if (MLS_GROW(p->steps, p->capsteps, p->nsteps + 1) < 0)
		return NULL;
	memmove(&p->steps[lo + 1], &p->steps[lo],
	    (p->nsteps - lo) * sizeof(*p->steps));
	p->nsteps++;
	memset(&p->steps[lo], 0, sizeof(p->steps[lo]));
	p->steps[lo].step = step;
	return &p->steps[lo];
}

static double *
scratch(struct mls_pruner *p, size_t n)
{
	if (MLS_GROW(p->scratch, p->capscratch, n) < 0)
		return NULL;
	return p->scratch;
}

/* The k-th smallest (0-based) of a[0..n-1]; a is reordered. */
static double
select_kth(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1, i, j;
	double pivot, t;

	while (lo < hi) {
		pivot = a[lo + (hi - lo) / 2];
		i = lo;
		j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

static int
report_median(struct mls_pruner *p, struct trial *t, long number, long step,
    double value)
{
	struct vals *v;
	double *a, med, lo;
	size_t i, n = 0;

	if ((v = step_get(p, step)) == NULL || vals_put(v, number, value) < 0)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (step < p->warmup)
		return 0;
	if ((a = scratch(p, v->n)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	for (i = 0; i < v->n; i++)
		if (v->num[i] != number && !isnan(v->val[i]))
			a[n++] = v->val[i];
	if (n == 0 || n < (size_t)p->startup)
		return 0;
	med = select_kth(a, n, n / 2);
	if (n % 2 == 0) {		/* mean of the two middle values */
		lo = a[0];
		for (i = 1; i < n / 2; i++)
			if (a[i] > lo)
				lo = a[i];
		med = 0.5 * (med + lo);
	}
	return t->best > med;
}

static int
report_asha(struct mls_pruner *p, struct trial *t, long number, long step,
    double value)
{
	struct vals *v;
	double *a, resource, cut;
	size_t i;
	long idx;

	for (;;) {
		if (t->rung >= MAX_RUNGS)
			return 0;
		resource = (double)p->min_resource * pow((double)p->rf, t->rung);
		if ((double)step < resource)
			return 0;
		v = &p->rungs[t->rung];
		if (vals_put(v, number, value) < 0 || (a = scratch(p, v->n)) == NULL)
			return mls_error_set(MLS_ENOMEM, "out of memory");
		t->rung++;
		for (i = 0; i < v->n; i++)
			a[i] = isnan(v->val[i]) ? HUGE_VAL : v->val[i];
		idx = (long)v->n / p->rf - 1;
		if (idx < 0)
			idx = 0;
		cut = select_kth(a, v->n, (size_t)idx);
		if (!(value <= cut))
			return 1;
	}
}

int
mls_pruner_report(struct mls_pruner *p, long number, long step, double value)
{
	struct trial *t;

	if (number < 0 || number > MAX_NUMBER)
		return mls_error_set(MLS_EINPUT, "pruner: trial number %ld out of "
		    "range", number);
	if ((t = trial_get(p, number)) == NULL)
		return mls_error_set(MLS_ENOMEM, "out of memory");
	if (isnan(value))
		return 1;		/* a diverged trial goes at once */
	t->seen = 1;
	if (value < t->best)
		t->best = value;
	if (p->kind == MEDIAN)
		return report_median(p, t, number, step, value);
	return report_asha(p, t, number, step, value);
}

void
mls_pruner_finish(struct mls_pruner *p, long number)
{
	/* Histories stay for later comparisons; nothing to release yet. */
	(void)p;
	(void)number;
}
