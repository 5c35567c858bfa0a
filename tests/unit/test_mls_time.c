/*
 * test_mls_time.c - clocks, RFC 3339 and durations.
 */
#include "config.h"

#include "mls_time.h"

#include <math.h>
#include <stdlib.h>
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

/* A short offset once read past the end of the string (ASan saw it). */
static void
test_parse_hostile(void)
{
	static const char *bad[] = {
		"2025-11-29T02:17:29+1:2", "2025-11-29T02:17:29+1:02",
		"2025-11-29T02:17:29+01:2", "2025-11-29T02:17:29+", "2025-11-29T02:17:29-0",
		"2025-11-29T02:17:29+24:00", "2025-11-29T02:17:29+01:60",
		"2025-11-29T02:17:29+ 1:02", "2025-11-29T02:17:29.Z",
		"2025-11-29T02:17:29.5e3Z", "2025-11-29T02:17:29.nanZ",
		"2025-11-29T02:17:29+01:00x",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* a heap copy of exactly the string, so that ASan sees an overread */
		char *s = strdup(bad[i]);

		ok(s != NULL && mls_time_parse(s) == -1, "parse: '%s' is -1", bad[i]);
		free(s);
	}
	ok(mls_time_parse("2025-11-29T00:17:29-01:00") == 1764379049.0,
	    "parse: a negative offset");
	ok(mls_time_parse("2025-11-29T01:17:29.25z") == 1764379049.25,
	    "parse: a fraction and z");
}

static void
test_duration(void)
{
	ok(mls_duration_parse("90") == 90 && mls_duration_parse("1h30m") == 5400 &&
	    mls_duration_parse("1d") == 86400, "duration: 90, 1h30m, 1d");
	ok(mls_duration_parse("5x") == -1 && mls_duration_parse("") == -1,
	    "duration: junk is -1");
}

/* Every duration is finite, not negative and at most MLS_DURATION_MAX. */
static void
test_duration_hostile(void)
{
	static const char *bad[] = {
		"nan", "NaN", "inf", "infinity", "-inf", "1e300", "1e300s", "-5",
		"-1s", "1h-5m", "nans", "0x10", "366d", "31536001", "1e9d", "1e3", "+5s", "5s ",
		" 5s", "5 s",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(mls_duration_parse(bad[i]) == -1, "duration: '%s' is -1", bad[i]);
	ok(mls_duration_parse("365d") == 31536000 &&
	    mls_duration_parse("0") == 0 && mls_duration_parse("0.5s") == 0.5 &&
	    mls_duration_parse("1h30") == 3630, "duration: 365d, 0, 0.5s, 1h30");
}

int
main(void)
{
	test_clocks();
	test_format_parse();
	test_parse_hostile();
	test_duration();
	test_duration_hostile();
	return done_testing();
}
