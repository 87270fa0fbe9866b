/*
 * src/upstream/upstream_breaker.c
 * Circuit breaker state machine (one per upstream, shared by all workers under a mutex).
 *
 *                 K consecutive failures, or failure ratio >= R% over >= M calls in window W
 *      CLOSED ───────────────────────────────────────────────────────────────► OPEN
 *        ▲                                                                     │  ▲
 *        │ probe succeeded                      cool-down C elapsed, next call │  │ probe failed
 *        │                                      becomes the single probe       ▼  │
 *        └───────────────────────────────────────────────────────────────── HALF_OPEN
 *
 * Transitions (function in brackets):
 *   CLOSED→OPEN       [gw_upstream_breaker_release, record_failure]
 *   OPEN→HALF_OPEN    [gw_upstream_breaker_acquire, when now - opened_at >= cooldown]
 *   HALF_OPEN→CLOSED  [gw_upstream_breaker_release with probe=true, SUCCESS]
 *   HALF_OPEN→OPEN    [gw_upstream_breaker_release with probe=true, FAILURE]
 * Invariants:
 *  1. At most one probe is outstanding (probe_out); a NEUTRAL probe result (cancelled call)
 *     frees the slot without a transition.
 *  2. While OPEN/HALF_OPEN, outcomes of attempts started earlier do not change the state.
 *  3. Counters reset on every transition to CLOSED.
 * The window is 10 buckets of W/10 each; stale buckets are cleared lazily.
 */
#include "upstream/upstream_breaker.h"

#include "core/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NBUCKETS 10

struct bucket {
    uint64_t start;
    unsigned calls, failures;
};

struct gw_breaker {
    pthread_mutex_t mu;
    char name[96];
    struct gw_breaker_conf conf;
    enum gw_breaker_state state;
    unsigned consecutive;
    uint64_t opened_at;      /* our clock */
    uint64_t opened_at_unix; /* wall clock, for display */
    uint64_t open_count, rejected;
    bool probe_out;
    struct bucket win[NBUCKETS];
};

struct gw_breaker *gw_upstream_breaker_new(const char *name, const struct gw_breaker_conf *conf)
{
    struct gw_breaker *b = gw_xcalloc(1, sizeof(*b));
    pthread_mutex_init(&b->mu, NULL);
    snprintf(b->name, sizeof(b->name), "%s", name);
    b->conf = *conf;
    if (b->conf.window_ms < NBUCKETS)
        b->conf.window_ms = 60000;
    return b;
}

void gw_upstream_breaker_free(struct gw_breaker *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    gw_free(b);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct bucket *bucket_at(struct gw_breaker *b, uint64_t now)
{
    uint64_t width = b->conf.window_ms / NBUCKETS;
    uint64_t start = now - now % width;
    struct bucket *k = &b->win[(start / width) % NBUCKETS];
    if (k->start != start) {
        k->start = start;
        k->calls = k->failures = 0;
    }
    return k;
}

static void window_sum(struct gw_breaker *b, uint64_t now, unsigned *calls, unsigned *failures)
{
    *calls = *failures = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        if (b->win[i].start + b->conf.window_ms > now) {
            *calls += b->win[i].calls;
            *failures += b->win[i].failures;
        }
    }
}

static void to_open(struct gw_breaker *b, uint64_t now)
{
    b->state = GW_BREAKER_OPEN;
    b->opened_at = now;
    b->opened_at_unix = wall_ms();
    b->open_count++;
    b->probe_out = false;
}

static void to_closed(struct gw_breaker *b)
{
    b->state = GW_BREAKER_CLOSED;
    b->consecutive = 0;
    b->probe_out = false;
    memset(b->win, 0, sizeof(b->win));
}

int gw_upstream_breaker_acquire(struct gw_breaker *b, uint64_t now_ms, bool *out_probe,
                                uint64_t *out_retry_ms)
{
    int rc = GW_OK;
    *out_probe = false;
    *out_retry_ms = 0;
    pthread_mutex_lock(&b->mu);
    if (b->state == GW_BREAKER_OPEN) {
        uint64_t until = b->opened_at + b->conf.cooldown_ms;
        if (now_ms >= until) {
            b->state = GW_BREAKER_HALF_OPEN;
            b->probe_out = true;
            *out_probe = true;
        } else {
            *out_retry_ms = until - now_ms;
            b->rejected++;
            rc = GW_EDENIED;
        }
    } else if (b->state == GW_BREAKER_HALF_OPEN) {
        if (b->probe_out) {
            b->rejected++;
            rc = GW_EDENIED;
        } else {
            b->probe_out = true;
            *out_probe = true;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static void record(struct gw_breaker *b, enum gw_breaker_outcome o, uint64_t now)
{
    struct bucket *k = bucket_at(b, now);
    k->calls++;
    if (o == GW_BREAKER_SUCCESS) {
        b->consecutive = 0;
        return;
    }
    k->failures++;
    b->consecutive++;
    if (b->conf.failure_threshold && b->consecutive >= b->conf.failure_threshold) {
        to_open(b, now);
        return;
    }
    if (b->conf.ratio_percent) {
        unsigned calls, failures;
        window_sum(b, now, &calls, &failures);
        if (calls >= b->conf.min_calls && calls > 0 &&
            (uint64_t)failures * 100u >= (uint64_t)b->conf.ratio_percent * calls)
            to_open(b, now);
    }
}

void gw_upstream_breaker_release(struct gw_breaker *b, bool probe, enum gw_breaker_outcome o,
                                 uint64_t now_ms)
{
    pthread_mutex_lock(&b->mu);
    if (probe && b->state == GW_BREAKER_HALF_OPEN) {
        if (o == GW_BREAKER_SUCCESS)
            to_closed(b);
        else if (o == GW_BREAKER_FAILURE)
            to_open(b, now_ms);
        else
            b->probe_out = false;
    } else if (b->state == GW_BREAKER_CLOSED && o != GW_BREAKER_NEUTRAL) {
        record(b, o, now_ms);
    }
    pthread_mutex_unlock(&b->mu);
}

void gw_upstream_breaker_status(struct gw_breaker *b, uint64_t now_ms,
                                struct gw_breaker_status *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&b->mu);
    snprintf(out->name, sizeof(out->name), "%s", b->name);
    out->state = b->state;
    out->consecutive_failures = b->consecutive;
    window_sum(b, now_ms, &out->window_calls, &out->window_failures);
    out->opened_at_unix_ms = b->open_count ? b->opened_at_unix : 0;
    out->open_count = b->open_count;
    out->rejected = b->rejected;
    pthread_mutex_unlock(&b->mu);
}

enum gw_breaker_state gw_upstream_breaker_state(struct gw_breaker *b)
{
    pthread_mutex_lock(&b->mu);
    enum gw_breaker_state s = b->state;
    pthread_mutex_unlock(&b->mu);
    return s;
}
