/*
 * src/upstream/upstream_breaker.h
 * Circuit breaker of one upstream, shared by every worker (mutex; critical sections are a few
 * comparisons). Semantics and state diagram: upstream_breaker.c and docs/upstream.md.
 * The caller classifies outcomes: 5xx, timeouts and connection errors are failures; 2xx-4xx
 * are successes (a 4xx is the caller's mistake, not the upstream's health); a cancelled
 * attempt is neutral.
 */
#ifndef GW_UPSTREAM_BREAKER_H
#define GW_UPSTREAM_BREAKER_H

#include "upstream/upstream_exec.h"

#include <stdbool.h>
#include <stdint.h>

struct gw_breaker_conf {
    unsigned failure_threshold; /* consecutive failures that open it; 0 = rule off */
    unsigned ratio_percent;     /* failure ratio in the window that opens it; 0 = rule off */
    unsigned window_ms;         /* sliding window of the ratio rule */
    unsigned min_calls;         /* calls in the window before the ratio rule applies */
    unsigned cooldown_ms;       /* open -> half-open after this long */
};

enum gw_breaker_outcome { GW_BREAKER_SUCCESS, GW_BREAKER_FAILURE, GW_BREAKER_NEUTRAL };

struct gw_breaker;

/* New breaker named `name` (copied) with `conf` (copied). Never NULL (aborts on OOM). */
struct gw_breaker *gw_upstream_breaker_new(const char *name, const struct gw_breaker_conf *conf);
void gw_upstream_breaker_free(struct gw_breaker *b);

/* Asks to send one attempt at time now_ms. GW_OK: go (and *out_probe says whether this is the
 * single half-open probe, which must be released with probe=true); GW_EDENIED: open (or a probe
 * is already out), *out_retry_ms says when the cool-down ends (0 = unknown). */
int gw_upstream_breaker_acquire(struct gw_breaker *b, uint64_t now_ms, bool *out_probe,
                                uint64_t *out_retry_ms);

/* Reports the outcome of an attempt that acquire allowed. */
void gw_upstream_breaker_release(struct gw_breaker *b, bool probe, enum gw_breaker_outcome o,
                                 uint64_t now_ms);

void gw_upstream_breaker_status(struct gw_breaker *b, uint64_t now_ms,
                                struct gw_breaker_status *out);
enum gw_breaker_state gw_upstream_breaker_state(struct gw_breaker *b);

#endif
