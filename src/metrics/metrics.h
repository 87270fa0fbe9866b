/*
 * src/metrics/metrics.h
 * Prometheus metrics: a small registry of labelled counters and histograms fed by the request
 * path, plus collectors that other modules' statistics are read through at scrape time (pull
 * model: modules expose gw_<module>_stats(), they never depend on this one), rendered in the
 * Prometheus text exposition format 0.0.4 on GET /metrics of its own listener.
 *
 * Names follow Prometheus conventions: `mcpgw_` prefix, base units (seconds, bytes), `_total`
 * for counters, `_seconds` histograms with le buckets, labels of bounded cardinality (a label
 * value set beyond GW_METRICS_MAX_SERIES per family becomes "_other").
 * Thread-safety: observations take one short mutex per family (workers call them per request);
 * rendering runs on the metrics listener's thread and reads every family under its lock.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include "core/buf.h"
#include "core/err.h"
#include "core/settings.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_metrics;
struct gw_metrics_family;
struct gw_mcp_completion;
struct gw_server;

#define GW_METRICS_MAX_LABELS 4
#define GW_METRICS_MAX_SERIES 2000

extern const struct gw_setting_def gw_metrics_settings[];

enum gw_metric_type { GW_METRIC_COUNTER, GW_METRIC_GAUGE, GW_METRIC_HISTOGRAM };

struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *m);

/* Declares a family (before serving). `labels` is a NULL-terminated list of label names;
 * histograms take their bucket upper bounds (ascending, seconds or bytes). */
struct gw_metrics_family *gw_metrics_family(struct gw_metrics *m, const char *name,
                                            enum gw_metric_type type, const char *help,
                                            const char *const *labels, const double *buckets,
                                            size_t nbuckets);
/* Adds `v` to the counter (or sets the gauge) / observes `v` in the histogram, for the label
 * values given in declaration order. Thread-safe, never blocks on I/O. */
void gw_metrics_add(struct gw_metrics_family *f, const char *const *values, double v);
void gw_metrics_observe(struct gw_metrics_family *f, const char *const *values, double v);

/* ---- rendering and collectors ---- */

struct gw_metrics_writer;
/* A collector writes families of values it reads at scrape time. */
typedef void (*gw_metrics_collect_fn)(void *ud, struct gw_metrics_writer *w);
void gw_metrics_add_collector(struct gw_metrics *m, gw_metrics_collect_fn fn, void *ud);
/* Writer helpers for collectors: one header per family, then its samples. `labels` is the
 * rendered label list without braces (`a="x",b="y"`, values escaped with
 * gw_metrics_escape) or NULL. */
void gw_metrics_write_header(struct gw_metrics_writer *w, const char *name,
                             enum gw_metric_type type, const char *help);
void gw_metrics_write_sample(struct gw_metrics_writer *w, const char *name, const char *labels,
                             double v);
/* A family of one sample without labels: header and sample. */
void gw_metrics_write_single(struct gw_metrics_writer *w, const char *name,
                             enum gw_metric_type type, const char *help, double v);
/* Single-sample families written in a row: a collector's table of them. */
struct gw_metrics_single {
    const char *name;
    enum gw_metric_type type;
    const char *help;
    double value;
};
void gw_metrics_write_singles(struct gw_metrics_writer *w, const struct gw_metrics_single *s,
                              size_t n);
/* Escapes a label value (\\, \", \n) into out. */
void gw_metrics_escape(const char *v, char *out, size_t size);

/* Renders everything into out. */
int gw_metrics_render(struct gw_metrics *m, struct gw_buf *out);

/* ---- the request metrics (fed by the completion observer) ---- */

/* Declares the request families (mcpgw_requests_total, mcpgw_request_duration_seconds,
 * mcpgw_tool_calls_total, mcpgw_upstream_request_duration_seconds, mcpgw_decisions_total,
 * mcpgw_transport_rejections_total) and the dashboard's time series. */
void gw_metrics_request_families(struct gw_metrics *m);
/* The dashboard's time series (metrics_series.h), created with the request families and fed
 * by gw_metrics_observe_completion; NULL before. */
struct gw_metrics_series;
struct gw_metrics_series *gw_metrics_get_series(struct gw_metrics *m);
/* Counts one finished message. Cheap (a few short locks). */
void gw_metrics_observe_completion(struct gw_metrics *m, const struct gw_mcp_completion *c);

/* Serves GET /metrics on `srv` (its own listener; see GW_METRICS_LISTEN). Optional bearer
 * token: requests without "Authorization: Bearer <token>" get 401 when `token` is non-empty. */
void gw_metrics_attach(struct gw_metrics *m, struct gw_server *srv, const char *token);

#endif
