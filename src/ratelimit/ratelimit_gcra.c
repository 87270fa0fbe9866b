/*
 * src/ratelimit/ratelimit_gcra.c
 * GCRA (see ratelimit_gcra.h). The Lua script in ratelimit_redis.c mirrors these lines; the
 * unit test runs both against the same reference model.
 */
#include "ratelimit/ratelimit_gcra.h"

void gw_gcra(int64_t interval_us, int64_t burst, int64_t tat, int64_t now_us,
             struct gw_gcra_result *out)
{
    int64_t t = interval_us > 0 ? interval_us : 1;
    int64_t b = burst > 0 ? burst : 1;
    int64_t base = tat > now_us ? tat : now_us;
    int64_t next = base + t;
    int64_t ahead = next - now_us; /* how far the state would run ahead of now */
    if (ahead <= b * t) {
        out->allowed = true;
        out->tat = next;
        out->remaining = (b * t - ahead) / t;
        out->retry_us = 0;
        out->reset_us = ahead;
    } else {
        out->allowed = false;
        out->tat = tat;
        out->remaining = 0;
        out->retry_us = ahead - b * t;
        out->reset_us = base - now_us;
    }
}
