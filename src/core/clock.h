/*
 * src/core/clock.h
 * Wall-clock time as the platform writes it: ISO-8601 UTC text ("2025-01-31T09:15:00.123Z", the
 * store's timestamp format) to and from Unix seconds; deadlines for timed waits.
 */
#ifndef GW_CORE_CLOCK_H
#define GW_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Unix seconds now (CLOCK_REALTIME). */
int64_t gw_clock_now(void);
/* Formats `t` as "YYYY-MM-DDTHH:MM:SSZ" into out (size >= 21). Returns out. */
const char *gw_clock_iso(int64_t t, char *out, size_t size);
/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only, years 1970..9999, no other offsets) into
 * *out. GW_OK or GW_EINVAL. */
int gw_clock_parse_iso(const char *s, int64_t *out);
/* The absolute time `ms` milliseconds (>= 0) from now on `clock`: the deadline of a
 * pthread_cond_timedwait on a condition variable of that clock (CLOCK_REALTIME by default). */
struct timespec gw_clock_deadline(clockid_t clock, long ms);

#endif
