/*
 * tools/mock-apim/mockapim_stats.h
 * Request counters for tests: how many times each "METHOD /path" arrived (counted on arrival,
 * before faults or auth, so a dropped or reset request still counts), responses per status,
 * and faults injected per mode. GET /__mock/stats shows them, DELETE /__mock/stats resets.
 * Bounded: at most GW_MOCKAPIM_STATS_KEYS distinct method+path keys; later ones are summed
 * under "other". Single-threaded (the event-loop thread).
 */
#ifndef GW_MOCKAPIM_STATS_H
#define GW_MOCKAPIM_STATS_H

#include <jansson.h>

#define GW_MOCKAPIM_STATS_KEYS 512

struct gw_mockapim_stats;

/* New zeroed counters (about 200 KiB); free accepts NULL; reset zeroes everything. */
struct gw_mockapim_stats *gw_mockapim_stats_new(void);
void gw_mockapim_stats_free(struct gw_mockapim_stats *s);
void gw_mockapim_stats_reset(struct gw_mockapim_stats *s);

/* Counts one arrival of "METHOD path" (strings borrowed, copied when new, truncated to 199
 * bytes), one response status (0..599), one injected fault of `mode` (at most 8 modes). */
void gw_mockapim_stats_request(struct gw_mockapim_stats *s, const char *method, const char *path);
void gw_mockapim_stats_status(struct gw_mockapim_stats *s, int status);
void gw_mockapim_stats_fault(struct gw_mockapim_stats *s, const char *mode);

/* Count of one "METHOD /path" key (0 when never seen). */
long gw_mockapim_stats_get(const struct gw_mockapim_stats *s, const char *method,
                           const char *path);

/* {"total":n, "requests":{"GET /x":n,...}, "statuses":{"200":n}, "faults":{"latency":n}}. */
json_t *gw_mockapim_stats_json(const struct gw_mockapim_stats *s);

#endif
