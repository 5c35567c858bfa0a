/*
 * fuzz_time.c - mls_time_parse, mls_duration_parse and mls_size_parse on
 * arbitrary strings (issue 16).
 */
#include "fuzz_util.h"

#include <math.h>

#include "mls_record.h"
#include "mls_time.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	double d;
	long long n;

	d = mls_time_parse(s);
	if (d != -1 && !isfinite(d))
		abort();
	d = mls_duration_parse(s);
	if (d != -1 && !(d >= 0 && d <= MLS_DURATION_MAX))
		abort();
	n = mls_size_parse(s);
	if (n != -1 && !(n >= 0 && n <= MLS_SIZE_MAX))
		abort();
	free(s);
	return 0;
}
