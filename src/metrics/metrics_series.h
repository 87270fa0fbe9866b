/*
 * src/metrics/metrics_series.h
 * The dashboard's time series of this replica: tools/call counts, errors, denials and latency
 * quantiles per interval over the last 15 min .. 24 h, per tool and per upstream, in bounded
 * memory, fed by the completion observer next to the Prometheus families (metrics.c) and read
 * by GET /admin/api/metrics/summary.
 *
 * Storage: three rings of time slots, each slot tagged with its interval number so that a slot
 * from an earlier lap is recognised (and reset on first use: the roll-over):
 *   fine    5 s slots x 720  (1 h)   totals + latency histogram   windows <= 1 h
 *   coarse 60 s slots x 1440 (24 h)  the same                     windows > 1 h
 *   keys  300 s slots x 290  (24 h)  per tool (<= 32 per slot) and per upstream (<= 8 per slot),
 *                                    each with calls, errors, denials and a latency histogram;
 *                                    names beyond a slot's capacity count as "_other"
 * plus one sample per minute of caller-defined cumulative counters (the audit trail's commit-lag
 * sum and count, records), so that a rate over the window can be computed (the sampler).
 * Latency histograms have GW_SERIES_BUCKETS fixed buckets (gw_metrics_series_bucket): [0, 64 us),
 * then 4 per power of two up to 2^27 us (134 s), then one overflow bucket. A quantile is the
 * nearest-rank one (rank ceil(q*n)), reported as the midpoint of the bucket holding that rank:
 * within 12.5% of the exact sample quantile, or 32 us below 64 us.
 * Memory: the rings ~0.8 MB (zero pages until written), key slots grow with the distinct names
 * of each 5 minutes: at most 290 x 40 entries of 360 bytes (4.2 MB), ~1 MB for a 24 h day of
 * traffic on ten tools; at most GW_SERIES_NAMES_MAX interned names.
 * Threading: one mutex; record() holds it for a name lookup and a few adds (no allocation but
 * the growth of a key slot, a few times per 5 minutes, and a new name's copy); the summary
 * takes it once per interval and per key slot (a few microseconds each), never for the whole
 * window. The sampler is called outside the lock.
 */
#ifndef GW_METRICS_SERIES_H
#define GW_METRICS_SERIES_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SERIES_WINDOW_MIN 900u   /* 15 min */
#define GW_SERIES_WINDOW_MAX 86400u /* 24 h */
#define GW_SERIES_FINE_SECONDS 5u
#define GW_SERIES_FINE_SLOTS 720u
#define GW_SERIES_COARSE_SECONDS 60u
#define GW_SERIES_COARSE_SLOTS 1440u
#define GW_SERIES_KEY_SECONDS 300u
#define GW_SERIES_KEY_SLOTS 290u /* 24 h plus the partial slots at both ends */
#define GW_SERIES_TOOLS_PER_SLOT 32u
#define GW_SERIES_UPSTREAMS_PER_SLOT 8u
#define GW_SERIES_NAMES_MAX 4096u
#define GW_SERIES_POINTS_MAX 1440u
#define GW_SERIES_TOP_TOOLS 10u
#define GW_SERIES_BUCKETS 86u
#define GW_SERIES_SAMPLES 3u /* cumulative counters per sample */

struct gw_metrics_series;

/* One finished tools/call. */
struct gw_series_obs {
    const char *tool;    /* the tool's name ("_unknown" when it named no tool) */
    uint64_t latency_us; /* receipt to response */
    bool denied;         /* refused by governance (authentication, exposure, policy, rate limit) */
    bool error;          /* failed otherwise (JSON-RPC error or an isError result: an unknown
                          * tool, arguments refused by the schema, the upstream's failures) */
    bool confirming;     /* answered with a question to the user (elicitation of the consent a
                          * risky tool needs; the client calls again): neither denied nor
                          * failed, no latency */
    const char *upstream; /* NULL or "": no upstream was called */
    uint64_t upstream_latency_us;
    bool upstream_error; /* the upstream call did not end "ok" */
};

/* Fills out[0..GW_SERIES_SAMPLES) with cumulative counters (never decreasing). Called outside
 * the series' lock, at most once per minute from a worker (the first record of a minute) or
 * from a summary; must be quick and thread-safe. */
typedef void (*gw_series_sample_fn)(void *ud, uint64_t out[GW_SERIES_SAMPLES]);

struct gw_metrics_series *gw_metrics_series_new(void);
void gw_metrics_series_free(struct gw_metrics_series *s); /* accepts NULL */
/* Installs the sampler (before serving; NULL = none). */
void gw_metrics_series_set_sampler(struct gw_metrics_series *s, gw_series_sample_fn fn,
                                   void *ud);

/* Counts one tools/call that finished at `now_ms` (Unix milliseconds). Thread-safe, never
 * blocks on I/O. */
void gw_metrics_series_record(struct gw_metrics_series *s, int64_t now_ms,
                              const struct gw_series_obs *o);

/* Takes the sample of the minute of `now_ms` when it has none yet. Thread-safe. */
void gw_metrics_series_tick(struct gw_metrics_series *s, int64_t now_ms);

/* Validates a window and step in seconds: window 900..86400, a multiple of the resolution
 * (5 s up to 1 h, 60 s beyond); step 0 (choose: about 60 points) or a multiple of the
 * resolution that divides the window into at most 1440 points. *out_step receives the step to
 * use. GW_OK or GW_EINVAL with a message naming the rule. Pure. */
int gw_metrics_series_check(unsigned long window, unsigned long step, unsigned *out_step,
                            struct gw_error *err);

/* The summary of the window ending at `now_ms` (window and step as accepted by
 * gw_metrics_series_check, else NULL with err):
 *   {"window","step","from","to",
 *    "totals":{"calls","errors","denials","confirmations","p50Ms","p95Ms"},
 *    "series":{"calls":[[t,v],...],"errors","denials","p50Ms","p95Ms"},   t = interval start
 *    "topTools":[{"name","calls","errors","denials","p50Ms","p95Ms"}],      by calls, <= 10
 *    "upstreams":[{"name","calls","errors","p50Ms","p95Ms"}]}               by name
 * The last point is the interval in progress; quantiles of an interval without calls are null.
 * topTools and upstreams cover the window widened to whole 5-minute slots. New reference. */
json_t *gw_metrics_series_summary(struct gw_metrics_series *s, int64_t now_ms,
                                  unsigned window, unsigned step, struct gw_error *err);

/* The earliest sample taken at or after `since_ms` (within the last 24 h): true with out and
 * *out_ms (the minute it belongs to) filled, false when there is none. Thread-safe. */
bool gw_metrics_series_sample_since(struct gw_metrics_series *s, int64_t since_ms,
                                    uint64_t out[GW_SERIES_SAMPLES], int64_t *out_ms);

/* ---- the latency histogram (exposed for tests) ---- */

/* The bucket of a latency in microseconds. Pure. */
unsigned gw_metrics_series_bucket(uint64_t us);
/* The bucket's range [*lo, *hi) in microseconds (the overflow bucket: hi = UINT64_MAX). */
void gw_metrics_series_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi);
/* The nearest-rank quantile q (0 < q <= 1) of a histogram of GW_SERIES_BUCKETS counts, in
 * microseconds (the midpoint of the bucket holding rank ceil(q*n)); -1 when it is empty. */
double gw_metrics_series_quantile_us(const uint64_t *h, double q);

#endif
