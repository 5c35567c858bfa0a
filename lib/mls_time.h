/*
 * mls_time.h - clocks, RFC 3339 times and durations.
 */
#ifndef MLS_TIME_H
#define MLS_TIME_H

#include <stdint.h>

/* Wall-clock seconds since the epoch (CLOCK_REALTIME). */
double	 mls_time_now(void);
/* The same in whole milliseconds. */
uint64_t mls_time_now_ms(void);
/*
 * Seconds on a clock that never jumps (CLOCK_MONOTONIC), for timeouts,
 * back-offs and rates: only differences mean anything.
 */
double	 mls_time_mono(void);
/* RFC 3339 UTC time with milliseconds, e.g. 2026-11-29T01:17:29.123Z. */
void	 mls_time_format(char out[32], double t);
/* Parse RFC 3339 (Z or offset); returns seconds since the epoch or -1. */
double	 mls_time_parse(const char *s);
/* The longest duration mls_duration_parse accepts: 365 days. */
#define MLS_DURATION_MAX	(365.0 * 86400)
/*
 * Parse a duration: 90, 90s, 15m, 2h, 1d, 1h30m; decimal numbers only (no
 * sign, nan, inf or hex); returns seconds from 0 to MLS_DURATION_MAX or -1.
 */
double	 mls_duration_parse(const char *s);

#endif
