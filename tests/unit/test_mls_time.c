/*
 * test_mls_time.c - clocks, RFC 3339 and durations.
 */
#include "config.h"

#include "mls_time.h"

#include <math.h>
#include <string.h>

#include "tap.h"

static void
test_clocks(void)
{
	double m1 = mls_time_mono(), m2, now = mls_time_now();
	uint64_t ms = mls_time_now_ms();
	int steady = 1;

	for (int i = 0; i < 1000; i++) {
		m2 = mls_time_mono();
		if (m2 < m1)
			steady = 0;
		m1 = m2;
	}
	ok(steady, "mono: never goes back");
	ok(fabs((double)ms / 1000.0 - now) < 60, "now_ms: the same clock as now");
}

static void
test_format_parse(void)
{
	char buf[32];

	mls_time_format(buf, 1764379049.5);
	ok(strcmp(buf, "2025-11-29T01:17:29.500Z") == 0, "format: %s", buf);
	ok(mls_time_parse(buf) == 1764379049.5, "parse: round trip");
	ok(mls_time_parse("2025-11-29T02:17:29+01:00") == 1764379049.0,
	    "parse: an offset");
	ok(mls_time_parse("yesterday") == -1, "parse: junk is -1");
}

static void
test_duration(void)
{
	ok(mls_duration_parse("90") == 90 && mls_duration_parse("1h30m") == 5400 &&
	    mls_duration_parse("1d") == 86400, "duration: 90, 1h30m, 1d");
	ok(mls_duration_parse("5x") == -1 && mls_duration_parse("") == -1,
	    "duration: junk is -1");
}

int
main(void)
{
	test_clocks();
	test_format_parse();
	test_duration();
	return done_testing();
}
