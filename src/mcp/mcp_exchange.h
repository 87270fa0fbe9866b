/*
 * src/mcp/mcp_exchange.h
 * One JSON-RPC request being served, as a method handler or tool provider sees it.
 *
 * An exchange is created by the server for each incoming request and completed exactly once by
 * gw_mcp_reply / gw_mcp_reply_raw / gw_mcp_reply_error, synchronously or later (asynchronous
 * handlers keep a reference with gw_mcp_x_ref and drop it with gw_mcp_x_unref). Before the
 * reply a handler may emit request-related messages: progress, log notifications and, in the
 * legacy era, requests to the client (sampling, elicitation) whose answers come back to a
 * callback. All of this happens on the thread (event loop) that owns the exchange.
 * A cancelled exchange (notifications/cancelled, or a closed stream in 2026-07-28) runs its
 * cancel hook; any later reply is dropped, as the protocol requires.
 */
#ifndef GW_MCP_EXCHANGE_H
#define GW_MCP_EXCHANGE_H

#include "mcp/mcp_version.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_mcp_exchange;
struct event_base;
struct gw_ctx;

const char *gw_mcp_x_method(const struct gw_mcp_exchange *x);
/* The request's params object (never NULL: an empty object when absent). Borrowed. */
json_t *gw_mcp_x_params(const struct gw_mcp_exchange *x);
json_t *gw_mcp_x_id(const struct gw_mcp_exchange *x);
enum gw_mcp_version gw_mcp_x_version(const struct gw_mcp_exchange *x);
bool gw_mcp_x_modern(const struct gw_mcp_exchange *x);
/* Client capability bits (GW_CAP_* of mcp_session.h) of the caller. */
uint8_t gw_mcp_x_client_caps(const struct gw_mcp_exchange *x);
/* The event loop this exchange runs on (for timers and async I/O). */
struct event_base *gw_mcp_x_base(const struct gw_mcp_exchange *x);
/* The request context (principal, peer, ids, decision record, timings); borrowed, valid for
 * the life of the exchange (take a reference with gw_ctx_ref to keep it longer). Never NULL. */
struct gw_ctx *gw_mcp_x_ctx(const struct gw_mcp_exchange *x);
/* Request id for logs (HTTP X-Request-Id, or generated). */
const char *gw_mcp_x_request_id(const struct gw_mcp_exchange *x);
/* Session id (legacy era) or NULL. */
const char *gw_mcp_x_session(const struct gw_mcp_exchange *x);
/* A value from a request header (HTTP transports) or NULL. */
const char *gw_mcp_x_header(const struct gw_mcp_exchange *x, const char *name);
/* Whether the request came with HTTP headers (false: stdio, in-process calls). */
bool gw_mcp_x_has_headers(const struct gw_mcp_exchange *x);

void gw_mcp_x_ref(struct gw_mcp_exchange *x);
void gw_mcp_x_unref(struct gw_mcp_exchange *x);

/* Completes the request with `result` (stolen). In 2026-07-28 "resultType":"complete" is added
 * unless the result carries its own resultType. */
void gw_mcp_reply(struct gw_mcp_exchange *x, json_t *result);
/* Completes with a result given as JSON text of an object (copied), for hot paths that build
 * results without a DOM (tools/list). */
void gw_mcp_reply_raw(struct gw_mcp_exchange *x, const char *json, size_t len);
/* Completes with a JSON-RPC error; `data` stolen, may be NULL. */
void gw_mcp_reply_error(struct gw_mcp_exchange *x, int code, const char *message, json_t *data);
bool gw_mcp_x_done(const struct gw_mcp_exchange *x);

/* RFC 5424 levels, lowest first. */
enum gw_mcp_log_level {
    GW_MCP_LOG_DEBUG,
    GW_MCP_LOG_INFO,
    GW_MCP_LOG_NOTICE,
    GW_MCP_LOG_WARNING,
    GW_MCP_LOG_ERROR,
    GW_MCP_LOG_CRITICAL,
    GW_MCP_LOG_ALERT,
    GW_MCP_LOG_EMERGENCY
};
int gw_mcp_log_level_parse(const char *s); /* -1 when invalid */
const char *gw_mcp_log_level_name(int level);

/* Sends notifications/message to the client if its log level admits `level`. `data` stolen. */
void gw_mcp_log(struct gw_mcp_exchange *x, enum gw_mcp_log_level level, const char *logger,
                json_t *data);
/* Sends notifications/progress when the request carried a progressToken; progress must grow. */
void gw_mcp_progress(struct gw_mcp_exchange *x, double progress, double total,
                     const char *message);

/* Answer to a server->client request: exactly one of result/error is non-NULL (borrowed; valid
 * during the call). Both NULL means the request could not be delivered or the exchange ended. */
typedef void (*gw_mcp_client_reply_fn)(struct gw_mcp_exchange *x, json_t *result, json_t *error,
                                       void *arg);
/* Sends a request to the client (e.g. "sampling/createMessage") on this request's stream and
 * calls `fn` with its answer. Legacy era only. GW_OK, or GW_EINVAL (no such client capability,
 * or a modern request): then fn is not called. The exchange is kept alive until the answer. */
int gw_mcp_ask_client(struct gw_mcp_exchange *x, const char *method, json_t *params,
                      gw_mcp_client_reply_fn fn, void *arg);

/* Registers a hook run once if the client cancels this request. */
void gw_mcp_x_on_cancel(struct gw_mcp_exchange *x, void (*fn)(struct gw_mcp_exchange *, void *),
                        void *arg);
bool gw_mcp_x_cancelled(const struct gw_mcp_exchange *x);

/* Sends notifications/<kind>/list_changed to every listener (kind: GW_LISTEN_TOOLS, ...). */
void gw_mcp_x_notify_list_changed(struct gw_mcp_exchange *x, int kind);

/* 2026-07-28 multi-round requests: seals a state object into an opaque, integrity-protected
 * string (HMAC with the server's session key, so any replica can open it), and opens one.
 * gw_mcp_x_unseal returns a new reference, or NULL when the string was forged or altered. */
char *gw_mcp_x_seal(struct gw_mcp_exchange *x, const json_t *state);
json_t *gw_mcp_x_unseal(struct gw_mcp_exchange *x, const char *sealed);

/* Per-exchange pointer for the handler's own state. */
void gw_mcp_x_set_user(struct gw_mcp_exchange *x, void *p);
void *gw_mcp_x_user(const struct gw_mcp_exchange *x);

#endif
