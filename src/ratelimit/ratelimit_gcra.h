/*
 * src/ratelimit/ratelimit_gcra.h
 * The Generic Cell Rate Algorithm (GCRA), as a pure function: one number of state per limit
 * (the theoretical arrival time, TAT), no window edges, exact.
 *
 * A limit of `limit` requests per `period` with a burst of `burst` has an emission interval
 * T = period / limit and admits a request at time `now` when
 *     max(TAT, now) + T - now <= burst * T
 * then stores TAT' = max(TAT, now) + T. So `burst` requests pass at once from a full (or
 * absent) state, then one every T; a refused request changes nothing. The Redis backend runs
 * the same arithmetic in its Lua script (ratelimit_redis.c) on the Redis server's clock, in
 * integer microseconds (exact in Lua's doubles up to 2^53 us, ~285 years since the epoch).
 * Pure, thread-safe.
 */
#ifndef GW_RATELIMIT_GCRA_H
#define GW_RATELIMIT_GCRA_H

#include <stdbool.h>
#include <stdint.h>

struct gw_gcra_result {
    bool allowed;
    int64_t tat;        /* the state to store when allowed (unchanged when refused) */
    int64_t remaining;  /* requests that would pass right after this one (0 when refused) */
    int64_t retry_us;   /* refused: wait this long before the next request can pass */
    int64_t reset_us;   /* until the state is full again (the burst fully available) */
};

/* interval_us (T) >= 1, burst >= 1, tat = 0 for an absent state. */
void gw_gcra(int64_t interval_us, int64_t burst, int64_t tat, int64_t now_us,
             struct gw_gcra_result *out);

#endif
