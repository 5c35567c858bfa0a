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
/* Parse a duration: 90, 90s, 15m, 2h, 1d, 1h30m; returns seconds or -1. */
double	 mls_duration_parse(const char *s);

#endif
