/*
 * mls_time.c - clocks, RFC 3339 times and durations.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mls_time.h"

double
mls_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t
mls_time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double
mls_time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
mls_time_format(char out[32], double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	int ms = (int)((t - (double)s) * 1000.0);

	if (ms < 0)
		ms = 0;
	if (ms > 999)
		ms = 999;
	gmtime_r(&s, &tm);
	if (strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		out[0] = '\0';
		return;
	}
	snprintf(out + strlen(out), 32 - strlen(out), ".%03dZ", ms % 1000);
}

/* Two ASCII digits at s as a number, or -1. */
static int
two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

double
mls_time_parse(const char *s)
{
	struct tm tm;
	double frac = 0, scale = 0.1;
	const char *p;
	int off = 0, hh, mm;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {	/* digits only: no exponent, no "nan" */
		if (!isdigit((unsigned char)*++p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		/* exactly [+-]HH:MM; each byte is checked before the next is read */
		if ((hh = two_digits(p + 1)) < 0 || hh > 23 || p[3] != ':' ||
		    (mm = two_digits(p + 4)) < 0 || mm > 59)
			return -1;
		off = (hh * 60 + mm) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	return (double)timegm(&tm) - off + frac;
}

double
mls_duration_parse(const char *s)
{
	double total = 0, v;
	size_t span;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		/*
		 * Digits and a point: strtod alone would also take a sign,
		 * spaces, nan, inf, exponents and hex.
		 */
		span = strspn(s, "0123456789.");
		errno = 0;
		v = strtod(s, &end);
		if (span == 0 || end != s + span || errno != 0 || !isfinite(v))
			return -1;
		s = end;
		switch (*s) {
		case '\0': break;
		case 's': s++; break;
		case 'm': v *= 60; s++; break;
		case 'h': v *= 3600; s++; break;
		case 'd': v *= 86400; s++; break;
		default: return -1;
		}
		total += v;
		if (!(total <= MLS_DURATION_MAX))
			return -1;
	}
	return total;
}
