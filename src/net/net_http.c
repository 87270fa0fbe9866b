/*
 * src/net/net_http.c
 * The request object over libevent's evhttp_request: accessors, replies, streams, request ids,
 * trace context and the access log line.
 * Invariant: exactly one of reply / stream_end frees the object; after the client has gone
 * (evcon closed) writes are dropped and stream_end only releases libevent's request.
 */
#include "net/net_http.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "net/net_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ARENA_BUDGET (8u << 20)

struct gw_http_req {
    struct evhttp_request *ev;
    struct evhttp_connection *evcon;
    struct gw_worker *worker;
    struct gw_arena *arena;
    enum gw_http_method method;
    char *path;
    struct evkeyvalq *query; /* parsed lazily */
    char rid[132];
    char trace_id[33];
    char span_id[17];
    int status;
    size_t bytes_out;
    struct timespec t0;
    bool streaming;
    bool gone;
    bool access_log;
    void (*close_fn)(struct gw_http_req *, void *);
    void *close_arg;
    void *user;
};

/* Request, trace and span ids need uniqueness, not secrecy: a per-thread xorshift128+ seeded
 * once from OpenSSL's CSPRNG (a RAND_bytes call per request costs more than the rest of the
 * id handling). */
static void fast_random(unsigned char *out, size_t n)
{
    static _Thread_local uint64_t st[2];
    if (!st[0] && !st[1]) {
        RAND_bytes((unsigned char *)st, sizeof(st));
        st[0] |= 1;
    }
    for (size_t i = 0; i < n; i += 8) {
        uint64_t a = st[0], b = st[1];
        st[0] = b;
        a ^= a << 23;
        st[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
        uint64_t v = st[1] + b;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            out[i + k] = (unsigned char)(v >> (8 * k));
    }
}

static void hex(char *out, const unsigned char *in, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return false;
    return true;
}

/* W3C traceparent "00-<32 hex trace>-<16 hex parent>-<2 hex flags>". */
static bool parse_traceparent(const char *tp, char trace_out[33])
{
    if (!tp || strlen(tp) < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
        return false;
    if (!is_hex(tp, 2) || memcmp(tp, "ff", 2) == 0 || !is_hex(tp + 3, 32) ||
        !is_hex(tp + 36, 16) || !is_hex(tp + 53, 2) || all_zero(tp + 3, 32) ||
        all_zero(tp + 36, 16))
        return false;
    memcpy(trace_out, tp + 3, 32);
    trace_out[32] = '\0';
    return true;
}

static bool valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static enum gw_http_method map_method(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return GW_HTTP_GET;
    case EVHTTP_REQ_POST: return GW_HTTP_POST;
    case EVHTTP_REQ_PUT: return GW_HTTP_PUT;
    case EVHTTP_REQ_DELETE: return GW_HTTP_DELETE;
    case EVHTTP_REQ_PATCH: return GW_HTTP_PATCH;
    case EVHTTP_REQ_HEAD: return GW_HTTP_HEAD;
    case EVHTTP_REQ_OPTIONS: return GW_HTTP_OPTIONS;
    default: return GW_HTTP_OTHER;
    }
}

struct gw_http_req *gw_http__new(struct gw_worker *w, struct evhttp_request *ev, bool access_log)
{
    struct gw_arena *a = gw_arena_new(ARENA_BUDGET);
    if (!a)
        return NULL;
    struct gw_http_req *r = gw_arena_calloc(a, sizeof(*r));
    if (!r) {
        gw_arena_free(a);
        return NULL;
    }
    r->arena = a;
    r->ev = ev;
    r->evcon = evhttp_request_get_connection(ev);
    r->worker = w;
    r->access_log = access_log;
    r->method = map_method(evhttp_request_get_command(ev));
    clock_gettime(CLOCK_MONOTONIC, &r->t0);

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    char *dec = raw ? evhttp_uridecode(raw, 0, NULL) : NULL;
    r->path = gw_arena_strndup(a, dec ? dec : "/", dec ? strlen(dec) : 1);
    gw_free(dec);

    const char *rid = evhttp_find_header(evhttp_request_get_input_headers(ev), "X-Request-Id");
    unsigned char rnd[24];
    fast_random(rnd, sizeof(rnd));
    if (rid && valid_request_id(rid))
        snprintf(r->rid, sizeof(r->rid), "%s", rid);
    else
        hex(r->rid, rnd, 12);
    const char *tp = evhttp_find_header(evhttp_request_get_input_headers(ev), "traceparent");
    if (!parse_traceparent(tp, r->trace_id))
        hex(r->trace_id, rnd + 8, 16);
    fast_random(rnd, 8);
    hex(r->span_id, rnd, 8);
    return r;
}

int gw_http__status(const struct gw_http_req *r)
{
    return r->status;
}

enum gw_http_method gw_http_method(const struct gw_http_req *r)
{
    return r->method;
}

const char *gw_http_method_name(const struct gw_http_req *r)
{
    static const char *const names[] = {"GET",  "POST", "PUT",     "DELETE",
                                        "PATCH", "HEAD", "OPTIONS", "OTHER"};
    return names[r->method];
}

const char *gw_http_path(const struct gw_http_req *r)
{
    return r->path;
}

static void free_query(void *p)
{
    evhttp_clear_headers(p);
    gw_free(p);
}

const char *gw_http_query_param(struct gw_http_req *r, const char *name)
{
    if (!r->query) {
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
        const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
        struct evkeyvalq *kv = gw_xcalloc(1, sizeof(*kv));
        TAILQ_INIT(kv);
        if (q && evhttp_parse_query_str(q, kv) != 0)
            evhttp_clear_headers(kv);
        r->query = kv;
        gw_arena_defer(r->arena, free_query, kv);
    }
    return evhttp_find_header(r->query, name);
}

const char *gw_http_header(const struct gw_http_req *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

const char *gw_http_body(struct gw_http_req *r, size_t *len)
{
    struct evbuffer *b = evhttp_request_get_input_buffer(r->ev);
    *len = evbuffer_get_length(b);
    if (*len == 0)
        return "";
    return (const char *)evbuffer_pullup(b, -1);
}

struct gw_arena *gw_http_arena(struct gw_http_req *r)
{
    return r->arena;
}

const char *gw_http_request_id(const struct gw_http_req *r)
{
    return r->rid;
}

const char *gw_http_trace_id(const struct gw_http_req *r)
{
    return r->trace_id;
}

const char *gw_http_peer(const struct gw_http_req *r)
{
    const char *host = NULL;
    ev_uint16_t port = 0;
    if (r->evcon)
        evhttp_connection_get_peer(r->evcon, (char **)&host, &port);
    return host ? host : "-";
}

struct gw_worker *gw_http_worker(const struct gw_http_req *r)
{
    return r->worker;
}

void gw_http_set_user(struct gw_http_req *r, void *p)
{
    r->user = p;
}

void *gw_http_user(const struct gw_http_req *r)
{
    return r->user;
}

void gw_http_add_header(struct gw_http_req *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

static void add_standard_headers(struct gw_http_req *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "X-Request-Id", r->rid);
    char tp[64];
    snprintf(tp, sizeof(tp), "00-%s-%s-01", r->trace_id, r->span_id);
    evhttp_add_header(h, "traceparent", tp);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

static void finish(struct gw_http_req *r)
{
    if (r->access_log && GW_LOG_INFO >= gw_log_min_level) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 +
                    (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
        gw_log_set_request_id(r->rid);
        gw_log_write(GW_LOG_INFO, "access", "%s %s %d %zu bytes %.3f ms peer=%s trace=%s",
                     gw_http_method_name(r), r->path, r->status, r->bytes_out, ms,
                     gw_http_peer(r), r->trace_id);
        gw_log_set_request_id(NULL);
    }
    gw_arena_free(r->arena);
}

void gw_http_reply(struct gw_http_req *r, int status, const char *content_type, const char *body,
                   size_t len)
{
    add_standard_headers(r);
    if (content_type)
        evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Type",
                          content_type);
    if (len)
        evbuffer_add(evhttp_request_get_output_buffer(r->ev), body, len);
    r->status = status;
    r->bytes_out = len;
    evhttp_send_reply(r->ev, status, NULL, NULL);
    gw_worker_inflight_add(r->worker, -1);
    finish(r);
}

void gw_http_reply_json(struct gw_http_req *r, int status, const json_t *v)
{
    struct gw_buf b;
    gw_buf_init(&b, 64u << 20);
    if (gw_json_dump(v, &b) != GW_OK) {
        gw_buf_fini(&b);
        gw_http_reply_error(r, 500, "internal", "response too large to serialise");
        return;
    }
    gw_http_reply(r, status, "application/json", gw_buf_ptr(&b), gw_buf_len(&b));
    gw_buf_fini(&b);
}

void gw_http_reply_error(struct gw_http_req *r, int status, const char *code, const char *msg)
{
    json_t *v = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    gw_http_reply_json(r, status, v);
    json_decref(v);
}

void gw_http__connection_closed(struct gw_http_req *r)
{
    r->gone = true;
    r->evcon = NULL;
    if (r->close_fn) {
        void (*fn)(struct gw_http_req *, void *) = r->close_fn;
        r->close_fn = NULL;
        fn(r, r->close_arg);
    }
}

void gw_http_stream_begin(struct gw_http_req *r, int status, const char *content_type)
{
    add_standard_headers(r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", content_type);
    r->status = status;
    r->streaming = true;
    if (r->evcon) {
        gw_worker__watch_stream(r->worker, r->evcon, r);
        evhttp_connection_set_timeout(r->evcon, -1);
    }
    evhttp_send_reply_start(r->ev, status, NULL);
}

bool gw_http_stream_write(struct gw_http_req *r, const char *data, size_t len)
{
    if (r->gone || !r->streaming)
        return false;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, data, len);
    evhttp_send_reply_chunk(r->ev, b);
    evbuffer_free(b);
    r->bytes_out += len;
    return true;
}

void gw_http_stream_end(struct gw_http_req *r)
{
    if (r->evcon && !r->gone)
        gw_worker__watch_stream(r->worker, r->evcon, NULL);
    evhttp_send_reply_end(r->ev);
    gw_worker_inflight_add(r->worker, -1);
    finish(r);
}

bool gw_http_stream_open(const struct gw_http_req *r)
{
    return r->streaming && !r->gone;
}

void gw_http_set_close_cb(struct gw_http_req *r, void (*fn)(struct gw_http_req *, void *),
                          void *arg)
{
    r->close_fn = fn;
    r->close_arg = arg;
}
