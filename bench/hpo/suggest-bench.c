/*
 * suggest-bench - time mls TPE asks at 100, 1,000 and 10,000 completed trials
 * on a 5-d mixed space; prints one JSON object.
 *   suggest-bench [-m] [-a MAX_ABOVE] [SIZES...]     (-m: multivariate)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mls_error.h"
#include "mls_sampler.h"
#include "mls_space.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
objective(const json_t *p)
{
	double lr = json_number_value(json_object_get(p, "lr"));
	double dr = json_number_value(json_object_get(p, "dropout"));
	double mo = json_number_value(json_object_get(p, "momentum"));
	double la = json_number_value(json_object_get(p, "layers"));
	const char *act = json_string_value(json_object_get(p, "activation"));

	return pow(log10(lr) + 3, 2) + pow(dr - 0.2, 2) + pow(mo - 0.9, 2) +
	    0.1 * fabs(la - 4) + (strcmp(act, "relu") == 0 ? 0 : 0.5);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	const char *specs[] = { "lr=loguniform:1e-5:1e-1", "dropout=uniform:0:0.5",
		"momentum=uniform:0.5:0.99", "layers=int:1:8",
		"activation=choice:relu,tanh,gelu", NULL };
	long sizes[8] = { 100, 1000, 10000 }, nsizes = 3, i, k, reps, num;
	struct mls_space *sp;
	struct mls_sampler *s;
	json_t *p, *opts, *res = json_object();
	int multivariate = 0, a = 1, max_above = 256;
	double t0, *times;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-m") == 0)
			multivariate = 1;
		else if (strcmp(argv[a], "-a") == 0 && a + 1 < argc)
			max_above = atoi(argv[++a]);
	}
	if (a < argc) {
		for (nsizes = 0; a < argc && nsizes < 8; a++)
			sizes[nsizes++] = atol(argv[a]);
	}
	mls_space_new(&sp);
	for (i = 0; specs[i]; i++)
		mls_space_add_spec(sp, specs[i]);
	opts = json_pack("{s:b,s:i}", "multivariate", multivariate, "max_above",
	    max_above);
	for (k = 0; k < nsizes; k++) {
		if (mls_sampler_new(&s, "tpe", sp, 1, opts) < 0) {
			fprintf(stderr, "suggest-bench: %s\n", mls_error_last());
			return 1;
		}
		/* prefill: random completed trials, told as if run by mls */
		{
			struct mls_sampler *r;
			mls_sampler_new(&r, "random", sp, 7, NULL);
			for (num = 0; num < sizes[k]; num++) {
				mls_sampler_ask(r, num, &p);
				mls_sampler_tell(s, num, p, "succeeded", objective(p));
				json_decref(p);
			}
			mls_sampler_free(r);
		}
		reps = sizes[k] >= 10000 ? 300 : 1000;
		times = calloc((size_t)reps, sizeof(double));
		for (i = 0; i < reps; i++) {
			t0 = now();
			if (mls_sampler_ask(s, num, &p) != 0) {
				fprintf(stderr, "suggest-bench: %s\n", mls_error_last());
				return 1;
			}
			times[i] = now() - t0;
			/* keep the history at the size measured */
			mls_sampler_tell(s, num, NULL, "failed", NAN);
			json_decref(p);
			num++;
		}
		qsort(times, (size_t)reps, sizeof(double), cmpd);
		{
			char key[32];
			double sum = 0;
			for (i = 0; i < reps; i++)
				sum += times[i];
			snprintf(key, sizeof(key), "%ld", sizes[k]);
			json_object_set_new(res, key, json_pack("{s:f,s:f,s:f,s:I}",
			    "median_ms", times[reps / 2] * 1e3, "mean_ms",
			    sum / (double)reps * 1e3, "p95_ms",
			    times[reps * 95 / 100] * 1e3, "asks", (json_int_t)reps));
		}
		free(times);
		mls_sampler_free(s);
	}
	p = json_pack("{s:s,s:b,s:o}", "sampler", "mls tpe", "multivariate",
	    multivariate, "ask", res);
	json_dumpf(p, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(p);
	json_decref(opts);
	mls_space_free(sp);
	return 0;
}
