/*
 * src/upstream/upstream_exec.h
 * The tool executor: turns one MCP tools/call (tool definition + validated arguments) into a
 * safe upstream HTTP call and its CallToolResult.
 *
 * Two objects:
 *  - struct gw_upstreams (process-wide, shared by all workers, thread-safe): the upstreams file
 *    (base URL per environment, credentials resolved from env/files, TLS, timeouts, retries,
 *    breaker thresholds, business-error rules), the circuit breakers, the OAuth2 token cache,
 *    the idempotency store and the GET result cache.
 *  - struct gw_exec (one per worker event loop, not thread-safe): drives calls on that loop
 *    through its own gw_httpc. Nothing blocks the loop: DNS, connect, TLS, I/O, backoff waits
 *    and token fetches are all events on it.
 * The call pipeline and its rules (retries only for idempotent methods, breaker semantics,
 * idempotency replay, result mapping, shaping) are documented in docs/upstream.md.
 * Not here: argument validation against inputSchema (done before; unknown args are ignored
 * here), authorization, rate limiting, audit (the caller uses struct gw_exec_info).
 */
#ifndef GW_UPSTREAM_EXEC_H
#define GW_UPSTREAM_EXEC_H

#include "core/err.h"
#include "core/settings.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct gw_upstreams;
struct gw_exec;
struct gw_exec_call;

/* ---- process-wide state ---- */

/* Loads the upstream configuration: settings GW_UPSTREAM_ENV, GW_UPSTREAMS_FILE,
 * GW_SECRETS_DIR and the defaults in src/upstream/upstream_settings.c (the settings table must
 * be registered and loaded). Reads the upstreams file and every secret it references (files and
 * environment variables) once, here: call at start-up, not on a worker loop (it reads files).
 * Returns NULL with `err` filled (file:line-free message naming the upstream and field; never a
 * secret value) when the file is invalid or a required secret is missing. */
struct gw_upstreams *gw_upstreams_load(const struct gw_settings *s, struct gw_error *err);

/* Frees the shared state. Every gw_exec using it must have been freed. Accepts NULL. */
void gw_upstreams_free(struct gw_upstreams *u);

enum gw_breaker_state { GW_BREAKER_CLOSED = 0, GW_BREAKER_OPEN, GW_BREAKER_HALF_OPEN };

/* A snapshot of one upstream's circuit breaker (for metrics and the admin API). */
struct gw_breaker_status {
    char name[96];
    enum gw_breaker_state state;
    unsigned consecutive_failures;
    unsigned window_calls;       /* calls counted in the sliding window */
    unsigned window_failures;
    uint64_t opened_at_unix_ms;  /* wall clock of the last transition to open; 0 = never */
    uint64_t open_count;         /* transitions to open since start */
    uint64_t rejected;           /* calls refused while open / half-open */
};

/* Copies up to `max` breaker snapshots into out; *out_n receives how many upstreams exist
 * (may exceed max). Thread-safe, short locks. */
void gw_upstreams_breakers(struct gw_upstreams *u, struct gw_breaker_status *out, size_t max,
                           size_t *out_n);

/* The same as a JSON array of objects {name, state, consecutiveFailures, windowCalls,
 * windowFailures, openedAt (RFC 3339 or null), openCount, rejected}. New reference. */
json_t *gw_upstreams_breakers_json(struct gw_upstreams *u);

const char *gw_breaker_state_name(enum gw_breaker_state s);

/* Calls fn for every TLS file an upstream uses (kind "client" for the mTLS client
 * certificate, "ca" for a private CA bundle), e.g. to expose certificate expiry. Short lock;
 * fn must not call back into `u`. */
void gw_upstreams_tls_files(struct gw_upstreams *u,
                            void (*fn)(void *ud, const char *upstream, const char *kind,
                                       const char *path),
                            void *ud);

/* Optional: validates structuredContent against the tool's outputSchema (the registry owns
 * compiled schemas; see the report/TODO in docs/upstream.md). Return GW_OK when it conforms,
 * GW_EINVAL with err->msg saying why otherwise. Called on worker threads: must be thread-safe
 * and non-blocking. */
typedef int (*gw_exec_output_check_fn)(void *ud, const json_t *tool_def, const json_t *structured,
                                       struct gw_error *err);
void gw_upstreams_set_output_check(struct gw_upstreams *u, gw_exec_output_check_fn fn, void *ud);

/* Replaces the idempotency store (the in-process one by default) with `store` (ownership
 * taken: destroyed with the upstreams), e.g. one shared by replicas. Before any call. */
struct gw_idem_store;
void gw_upstreams_set_idem_store(struct gw_upstreams *u, const struct gw_idem_store *store);

/* Milliseconds of the clock that drives breakers, token expiry, caches and idempotency TTLs
 * (CLOCK_MONOTONIC plus the test offset below). */
uint64_t gw_upstreams_now_ms(const struct gw_upstreams *u);

/* Tests only: moves that clock forward (breaker cool-down, token expiry, TTLs). */
void gw_upstreams_advance_clock(struct gw_upstreams *u, uint64_t ms);

/* Counters since start, for metrics (thread-safe reads). */
struct gw_upstreams_stats {
    uint64_t cache_hits, cache_misses, cache_entries, cache_bytes;
    uint64_t idem_replays, idem_conflicts, idem_entries;
    uint64_t token_fetches, token_failures;
    uint64_t http_native, http_curl; /* attempts per HTTP engine (GW_UPSTREAM_HTTP_CLIENT) */
};
void gw_upstreams_stats(struct gw_upstreams *u, struct gw_upstreams_stats *out);

/* ---- per worker ---- */

/* Creates the executor for the worker loop `base` (borrowed; must outlive it). `shared` is
 * borrowed too. NULL with err filled on failure (curl without async DNS, no eventfd). */
struct gw_exec *gw_exec_new(struct event_base *base, struct gw_upstreams *shared,
                            struct gw_error *err);

/* Cancels every pending call (their done callbacks are not called) and frees. Accepts NULL.
 * Not from inside a done callback of this executor. */
void gw_exec_free(struct gw_exec *ex);

/* Who is calling (borrowed for the duration of gw_exec_call only). */
struct gw_exec_caller {
    const char *user_id;   /* authenticated principal; NULL = anonymous */
    const char *client_id; /* OAuth client / API key id; NULL = none */
};

/* Progress notification (optional): attempt numbers and a short message such as
 * "retrying after HTTP 503 (attempt 2 of 3)". Called on the loop. */
typedef void (*gw_exec_progress_fn)(void *arg, unsigned attempt, unsigned max_attempts,
                                    const char *message);

struct gw_exec_opts {
    const struct gw_exec_caller *caller; /* NULL = anonymous */
    const char *idempotency_key;  /* client-supplied (MCP _meta or Idempotency-Key header) */
    uint64_t deadline_ms;         /* absolute, gw_upstreams_now_ms clock; 0 = tool/upstream
                                     timeouts */
    const char *request_id;       /* forwarded in the upstream's request-id header; for logs */
    gw_exec_progress_fn progress;
    void *progress_arg;
    const char *traceparent;      /* W3C trace context sent upstream as `traceparent`; NULL none */
};

enum gw_exec_outcome {
    GW_EXEC_OK = 0,           /* 2xx, result built */
    GW_EXEC_HTTP_ERROR,       /* non-2xx from upstream (isError) */
    GW_EXEC_BUSINESS_ERROR,   /* 2xx with a failure envelope (isError) */
    GW_EXEC_TIMEOUT,          /* per-attempt timeout or deadline (isError) */
    GW_EXEC_CONNECT_ERROR,    /* DNS/connect/TLS/reset (isError) */
    GW_EXEC_TOO_LARGE,        /* response over the cap (isError) */
    GW_EXEC_BREAKER_OPEN,     /* refused by the circuit breaker (isError) */
    GW_EXEC_INVALID_REQUEST,  /* arguments cannot be encoded safely / bad binding (isError) */
    GW_EXEC_CREDENTIALS,      /* token fetch failed (isError) */
    GW_EXEC_IDEM_CONFLICT,    /* idempotency key reused with other arguments / in flight */
    GW_EXEC_OUTPUT_INVALID,   /* structured result does not conform to outputSchema */
    GW_EXEC_INTERNAL,         /* out of memory or another internal failure (isError) */
    GW_EXEC_BAD_RESPONSE,     /* 2xx declared as JSON that does not parse (isError) */
    GW_EXEC_ADDRESS_DENIED    /* the tool's server address is refused by the SSRF guard */
};

/* Facts about a finished call, for audit and metrics. Valid during the done callback only. */
struct gw_exec_info {
    const char *tool;
    const char *upstream;
    enum gw_exec_outcome outcome;
    int http_status;              /* last upstream status; 0 = none */
    unsigned attempts;            /* upstream requests sent (0 for replay/cache/breaker) */
    uint64_t latency_ms;          /* from gw_exec_call to done */
    size_t response_bytes;        /* last response body size */
    enum gw_breaker_state breaker_state; /* after the call */
    bool cache_hit;
    bool idempotent_replay;
    const char *error;            /* short reason when outcome != OK, secrets scrubbed */
};

/* Receives the CallToolResult (a new reference the callback owns: {"content": [...],
 * "structuredContent"?: {...}, "isError"?: true}) and the call facts. */
typedef void (*gw_exec_done_fn)(void *arg, json_t *call_tool_result,
                                const struct gw_exec_info *info);

/* Starts executing `tool_def` (docs/tool-model.md) with `args` (a JSON object already
 * validated against inputSchema). Both are borrowed for the duration of this call only (what
 * is needed later is copied). On GW_OK `done` is called exactly once, later, on this loop
 * (never from inside gw_exec_call), unless the call is cancelled; *out_handle (optional) is
 * valid until done starts or gw_exec_cancel. Every tool-level failure (bad arguments, open
 * breaker, upstream errors) is reported through done as an isError result, not here: this
 * returns GW_EINVAL only for a NULL executor/tool/callback. Never blocks. */
int gw_exec_call(struct gw_exec *ex, const json_t *tool_def, const json_t *args,
                 const struct gw_exec_opts *opts, gw_exec_done_fn done, void *arg,
                 struct gw_exec_call **out_handle);

/* Cancels a pending call: done is not called; an in-flight upstream request is aborted (it
 * counts neither as success nor failure for the breaker) and an idempotency reservation is
 * released. Accepts NULL. Not for a call whose done callback has started. */
void gw_exec_cancel(struct gw_exec_call *handle);

/* Calls started on this executor and not yet finished. */
size_t gw_exec_pending(const struct gw_exec *ex);

const char *gw_exec_outcome_name(enum gw_exec_outcome o);

#endif
