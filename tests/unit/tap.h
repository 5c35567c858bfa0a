/*
 * tap.h - a minimal TAP producer for the unit tests.
 *   ok(cond, "name", ...);  ...  return done_testing();
 */
#ifndef MLS_TAP_H
#define MLS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static void __attribute__((format(printf, 3, 4)))
tap_ok(int cond, const char *expr, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed: %s\n", expr);
	}
	fflush(stdout);
}

#define ok(cond, ...)	tap_ok(!!(cond), #cond, __VA_ARGS__)

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
