/*
 * src/trace/trace.h
 * OpenTelemetry traces over OTLP/HTTP (JSON encoding): one span per MCP request (SERVER kind),
 * a child span per phase it went through (authenticate, resolve, exposure, authorize,
 * ratelimit, validate, execute) and, under execute, a CLIENT span for the upstream request,
 * whose id is what the upstream receives in its W3C `traceparent` header.
 *
 * Span ids are derived, not random: SHA-256(trace id, request id, span name)[0..8], so the
 * pipeline can name the upstream span (gw_trace_upstream_parent) before the call and the
 * exporter emits the same id after it, without shared state between them. Phase timings come
 * from the request context (durations; phases run one after the other, so each child starts
 * where the previous one ended). Attributes carry no arguments; text that may hold personal
 * data (error messages, subjects) passes the PII masker.
 * Export: completed requests are turned into OTLP JSON on the worker (a few microseconds),
 * queued (bounded: beyond GW_OTLP_QUEUE_MAX spans are dropped and counted) and POSTed in
 * batches by one exporter thread (libcurl easy API: blocking is fine there), retried with
 * backoff, never blocking a loop.
 */
#ifndef GW_TRACE_H
#define GW_TRACE_H

#include "core/err.h"
#include "core/settings.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_tracer;
struct gw_ctx;
struct gw_pii;
struct gw_mcp_completion;

extern const struct gw_setting_def gw_trace_settings[];

/* The traceparent value for the upstream request of `ctx` ("00-<trace>-<span>-01"), into out
 * (>= 56 bytes). Returns false when the context has no trace id. Pure. */
bool gw_trace_upstream_parent(const struct gw_ctx *ctx, char *out, size_t size);

/* A tracer from the GW_OTLP_* settings; GW_DECLINED (and *out NULL) when no endpoint is set.
 * `pii` is borrowed (may be NULL). */
int gw_tracer_from_settings(const struct gw_settings *s, const struct gw_pii *pii,
                            struct gw_tracer **out, struct gw_error *err);
/* Flushes what is queued (up to a few seconds) and stops the exporter. Accepts NULL. */
void gw_tracer_free(struct gw_tracer *t);

/* Records the spans of one finished message. Never blocks. */
void gw_tracer_observe(struct gw_tracer *t, const struct gw_mcp_completion *c);

struct gw_trace_stats {
    unsigned long long spans, exported, dropped, export_errors;
};
void gw_tracer_stats(const struct gw_tracer *t, struct gw_trace_stats *out);

#endif
