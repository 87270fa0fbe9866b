/*
 * src/net/net_http.h
 * One inbound HTTP request as route handlers see it: method, path, headers, body, a per-request
 * arena, request id and trace context; replies in one piece or as a stream (for SSE).
 *
 * Lifetime: created by the server when a request is complete (headers and body read), freed
 * when the handler replies (gw_http_reply*) or ends its stream (gw_http_stream_end). If the
 * client disconnects during a stream, the close callback runs (from the worker's loop, never
 * inside a gw_http_* call); the handler must still end the stream, which then only frees. A
 * client that half-closes after its request still receives the whole response. All calls
 * happen on the owning worker's thread.
 * Request ids: a valid incoming X-Request-Id (<= 128 visible ASCII) is kept, else one is made;
 * it is echoed in X-Request-Id. A valid W3C traceparent is continued (same trace id, new span id)
 * and echoed. Every reply carries both.
 */
#ifndef GW_NET_HTTP_H
#define GW_NET_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_http_req;
struct gw_arena;
struct gw_worker;

enum gw_http_method {
    GW_HTTP_GET,
    GW_HTTP_POST,
    GW_HTTP_PUT,
    GW_HTTP_DELETE,
    GW_HTTP_PATCH,
    GW_HTTP_HEAD,
    GW_HTTP_OPTIONS,
    GW_HTTP_OTHER
};

enum gw_http_method gw_http_method(const struct gw_http_req *r);
const char *gw_http_method_name(const struct gw_http_req *r);
/* The decoded path without query string ("/mcp"). */
const char *gw_http_path(const struct gw_http_req *r);
/* The value of query parameter `name` (decoded, arena memory), or NULL. */
const char *gw_http_query_param(struct gw_http_req *r, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *gw_http_header(const struct gw_http_req *r, const char *name);
/* The request body (contiguous; valid until the request is freed). *len may be 0. */
const char *gw_http_body(struct gw_http_req *r, size_t *len);
struct gw_arena *gw_http_arena(struct gw_http_req *r);
const char *gw_http_request_id(const struct gw_http_req *r);
/* The trace id (32 hex) of this request, from traceparent or new. */
const char *gw_http_trace_id(const struct gw_http_req *r);
const char *gw_http_peer(const struct gw_http_req *r);
struct gw_worker *gw_http_worker(const struct gw_http_req *r);
/* Handler-owned pointer, for the handler's own bookkeeping. */
void gw_http_set_user(struct gw_http_req *r, void *p);
void *gw_http_user(const struct gw_http_req *r);

/* Adds a response header (copied). Must precede the reply or stream start. */
void gw_http_add_header(struct gw_http_req *r, const char *name, const char *value);

/* Replies and frees r. `body` may be NULL when len is 0. */
void gw_http_reply(struct gw_http_req *r, int status, const char *content_type, const char *body,
                   size_t len);
/* Replies with the compact serialisation of `v` (borrowed) as application/json. */
void gw_http_reply_json(struct gw_http_req *r, int status, const json_t *v);
/* Replies with {"error":{"code":..,"message":..}} JSON. */
void gw_http_reply_error(struct gw_http_req *r, int status, const char *code, const char *msg);

/* Streams: starts a chunked response with `content_type`; no idle timeout applies while the
 * stream is open (the owner sends keep-alives). */
void gw_http_stream_begin(struct gw_http_req *r, int status, const char *content_type);
/* Writes bytes to the stream; returns false if the client is gone. */
bool gw_http_stream_write(struct gw_http_req *r, const char *data, size_t len);
/* Ends the stream (if the client is still there) and frees r. */
void gw_http_stream_end(struct gw_http_req *r);
bool gw_http_stream_open(const struct gw_http_req *r);
/* Called once if the client disconnects while the stream is open. */
void gw_http_set_close_cb(struct gw_http_req *r, void (*fn)(struct gw_http_req *, void *),
                          void *arg);

#endif
