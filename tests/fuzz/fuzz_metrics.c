/*
 * fuzz_metrics.c - the metrics.jsonl reader (lib/mls_job.c: the one
 * reading rule): mls_job_metrics_each, _last and _series (issue 16).
 */
#include "fuzz_util.h"

#include <math.h>

#include "mls_job.h"

static int
count(const json_t *obj, size_t index, void *arg)
{
	size_t *n = arg;

	if (!json_is_object(obj) || index != *n)
		abort();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *last = NULL;
	double *vals = NULL;
	long *steps = NULL;
	size_t n = 0, nv = 0;

	(void)mls_job_metrics_each(text, size, count, &n);
	if (mls_job_metrics_last(text, size, &last) == 0)
		json_decref(last);
	if (mls_job_metrics_series(text, size, "loss", &vals, &steps, &nv) == 0) {
		for (size_t i = 0; i < nv; i++)
			if (!isfinite(vals[i]))
				abort();
		free(vals);
		free(steps);
	}
	return 0;
}
