/*
 * src/net/net_http.c
 * The request object: accessors over the parsed head (net_parse.c), replies and streams written
 * through the connection (net_conn.c), request ids, trace context, the access log line, and
 * the JSON refusals of framing errors.
 * Invariants: exactly one of reply / stream_end frees the object (its arena); the connection
 * structure outlives every request that points to it (net_conn.c frees it only once the
 * request is detached), so r->conn is always valid; after the client has gone (r->gone) output
 * is dropped and stream_end only frees. Response heads are built in the worker's buffer and
 * written with the body in one writev.
 */
#include "net/net_internal.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

struct out_header {
    struct out_header *next;
    const char *name, *value;
};

struct gw_http_req {
    struct gw_conn *conn;
    struct gw_worker *worker;
    struct gw_arena *arena;
    enum gw_http_method method;
    char *path;
    char *query; /* raw, after '?'; NULL when none */
    struct evkeyvalq *qkv; /* parsed lazily */
    const struct gw_http_field *fields;
    unsigned nfields;
    char *body;
    size_t body_len;
    int minor;
    bool keep_alive;
    bool head_only;
    char rid[132];
    char trace_id[33];
    char span_id[17];
    int status;
    size_t bytes_out;
    struct timespec t0;
    bool streaming;
    bool chunked;
    bool gone;
    bool access_log;
    struct out_header *ohdrs, **ohdr_tail;
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

static enum gw_http_method map_method(int m)
{
    switch (m) {
    case HTTP_GET: return GW_HTTP_GET;
    case HTTP_POST: return GW_HTTP_POST;
    case HTTP_PUT: return GW_HTTP_PUT;
    case HTTP_DELETE: return GW_HTTP_DELETE;
    case HTTP_PATCH: return GW_HTTP_PATCH;
    case HTTP_HEAD: return GW_HTTP_HEAD;
    case HTTP_OPTIONS: return GW_HTTP_OPTIONS;
    default: return GW_HTTP_OTHER;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes `s` in place (as libevent's evhttp_uridecode without '+' decoding: a '%'
 * not followed by two hex digits stays as it is). A decoded NUL ends the string. */
static void percent_decode(char *s)
{
    char *o = s;
    for (const char *i = s; *i; i++) {
        int hi, lo;
        if (i[0] == '%' && (hi = hexval(i[1])) >= 0 && (lo = hexval(i[2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = *i;
        }
    }
    *o = '\0';
}

/* Splits the request target (arena memory, writable) into the decoded path and the raw query.
 * Origin form "/p?q", absolute form "http://host/p?q" (path "/" when it has none), "*". */
static void split_target(struct gw_http_req *r, char *t)
{
    if (t[0] != '/' && t[0] != '*') {
        char *sep = strstr(t, "://");
        char *slash = sep ? strchr(sep + 3, '/') : NULL;
        char *q = sep ? strpbrk(sep + 3, "?#") : NULL;
        if (slash && (!q || slash < q)) {
            t = slash;
        } else {
            r->path = gw_arena_strndup(r->arena, "/", 1);
            if (q && *q == '?')
                r->query = q + 1;
            return;
        }
    }
    char *hash = strchr(t, '#');
    if (hash)
        *hash = '\0';
    char *q = strchr(t, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    percent_decode(t);
    r->path = t;
}

struct gw_http_req *gw_http__new(struct gw_conn *c, struct gw_arena *a, char *body,
                                 size_t body_len)
{
    struct gw_http_req *r = gw_arena_calloc(a, sizeof(*r));
    if (!r || (body && gw_arena_defer(a, gw_free, body) != 0)) {
        if (!r)
            gw_free(body);
        gw_arena_free(a);
        return NULL;
    }
    const struct gw_http_head *h = &c->head;
    r->conn = c;
    r->worker = c->w;
    r->arena = a;
    r->access_log = c->w->srv->opts.access_log;
    r->method = map_method(h->method);
    r->head_only = h->method == HTTP_HEAD;
    r->minor = h->minor;
    r->keep_alive = h->keep_alive;
    r->fields = h->fields;
    r->nfields = h->nfields;
    r->body = body;
    r->body_len = body_len;
    r->ohdr_tail = &r->ohdrs;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    split_target(r, (char *)h->target);

    const char *rid = gw_http_header(r, "X-Request-Id");
    unsigned char rnd[24];
    fast_random(rnd, sizeof(rnd));
    if (rid && valid_request_id(rid)) {
        size_t n = strlen(rid);
        memcpy(r->rid, rid, n + 1);
    } else {
        hex(r->rid, rnd, 12);
    }
    if (!parse_traceparent(gw_http_header(r, "traceparent"), r->trace_id))
        hex(r->trace_id, rnd + 8, 16);
    fast_random(rnd, 8);
    hex(r->span_id, rnd, 8);
    return r;
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
    if (!r->qkv) {
        struct evkeyvalq *kv = gw_xcalloc(1, sizeof(*kv));
        TAILQ_INIT(kv);
        if (r->query && evhttp_parse_query_str(r->query, kv) != 0)
            evhttp_clear_headers(kv);
        r->qkv = kv;
        gw_arena_defer(r->arena, free_query, kv);
    }
    return evhttp_find_header(r->qkv, name);
}

const char *gw_http_header(const struct gw_http_req *r, const char *name)
{
    size_t n = strlen(name); /* the parser keeps each name's length: most fields differ in it */
    for (unsigned i = 0; i < r->nfields; i++)
        if (r->fields[i].name_len == n && strncasecmp(r->fields[i].name, name, n) == 0)
            return r->fields[i].value;
    return NULL;
}

const char *gw_http_body(struct gw_http_req *r, size_t *len)
{
    *len = r->body_len;
    return r->body ? r->body : "";
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
    return r->conn->peer;
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

/* A header name or value that could split the response (CR, LF) or end the name early. */
static bool header_safe(const char *s, bool name)
{
    if (name && !*s)
        return false;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n' || (name && (*s == ':' || *s == ' ' || *s == '\t')))
            return false;
    return true;
}

void gw_http_add_header(struct gw_http_req *r, const char *name, const char *value)
{
    if (!header_safe(name, true) || !header_safe(value, false)) {
        GW_LOG(GW_LOG_WARN, "net", "response header dropped: CR/LF or bad name");
        return;
    }
    struct out_header *h = gw_arena_alloc(r->arena, sizeof(*h));
    char *n = gw_arena_strndup(r->arena, name, strlen(name));
    char *v = gw_arena_strndup(r->arena, value, strlen(value));
    if (!h || !n || !v)
        return;
    h->next = NULL;
    h->name = n;
    h->value = v;
    *r->ohdr_tail = h;
    r->ohdr_tail = &h->next;
}

/* ---------- response heads ---------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Error"
                                                                                   : "Server Error";
    }
}

static void put(struct gw_buf *b, const char *s, size_t n)
{
    (void)gw_buf_add(b, s, n);
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void put_str(struct gw_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_uint(struct gw_buf *b, size_t v)
{
    char d[24];
    size_t i = sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, d + i, sizeof(d) - i);
}

static const char *http_date(struct gw_worker *w)
{
    time_t now = time(NULL);
    if (now != w->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_at = now;
    }
    return w->date;
}

static void put_status_line(struct gw_buf *b, int status)
{
    PUTS(b, "HTTP/1.1 ");
    put_uint(b, (size_t)status);
    put(b, " ", 1);
    put_str(b, reason_phrase(status));
    PUTS(b, "\r\nDate: ");
}

/* Builds the response head for r in the worker's buffer. `len` < 0: streamed (chunked on
 * HTTP/1.1, else until close). */
static void build_head(struct gw_http_req *r, int status, const char *content_type, long long len,
                       bool keep)
{
    struct gw_buf *b = r->worker->hbuf;
    gw_buf_reset(b);
    put_status_line(b, status);
    put_str(b, http_date(r->worker));
    if (content_type) {
        PUTS(b, "\r\nContent-Type: ");
        put_str(b, content_type);
    }
    if (len >= 0 && (status == 204 || status == 304 || status < 200)) {
        /* no body by definition, and no Content-Length (RFC 9110 8.6) */
    } else if (len >= 0) {
        PUTS(b, "\r\nContent-Length: ");
        put_uint(b, (size_t)len);
    } else if (r->chunked) {
        PUTS(b, "\r\nTransfer-Encoding: chunked");
    }
    PUTS(b, "\r\nX-Request-Id: ");
    put_str(b, r->rid);
    PUTS(b, "\r\ntraceparent: 00-");
    put(b, r->trace_id, 32);
    put(b, "-", 1);
    put(b, r->span_id, 16);
    PUTS(b, "-01\r\nX-Content-Type-Options: nosniff\r\n");
    bool asked_keep = false;
    for (const struct out_header *h = r->ohdrs; h; h = h->next) {
        /* framing is the server's: a handler's Connection/Content-Length/Transfer-Encoding/
         * Date would contradict what is actually sent */
        if (!strcasecmp(h->name, "Connection")) {
            asked_keep = !strcasecmp(h->value, "keep-alive");
            continue;
        }
        if (!strcasecmp(h->name, "Content-Length") || !strcasecmp(h->name, "Transfer-Encoding") ||
            !strcasecmp(h->name, "Date"))
            continue;
        put_str(b, h->name);
        put(b, ": ", 2);
        put_str(b, h->value);
        put(b, "\r\n", 2);
    }
    if (!keep)
        PUTS(b, "Connection: close\r\n");
    else if (r->minor == 0 || asked_keep)
        PUTS(b, "Connection: keep-alive\r\n");
    put(b, "\r\n", 2);
}

/* The access-log message, written without printf (one per request): what
 * "%s %s %d %zu bytes %.3f ms peer=%s trace=%s" prints, the duration rounded to the
 * microsecond; the parts the client chose pass the log filter (PII) on their own, the numbers
 * the gateway wrote do not. Cut at the end of `out` like snprintf; returns the length. */
struct acc {
    char *p;
    size_t n, cap;
};

static void acc_put(struct acc *a, const char *s, size_t n)
{
    if (n > a->cap - 1 - a->n)
        n = a->cap - 1 - a->n;
    memcpy(a->p + a->n, s, n);
    a->n += n;
}

static void acc_str(struct acc *a, const char *s)
{
    acc_put(a, s, strlen(s));
}

/* A part the client chose (path, address, trace id): through the log filter (PII) first. */
static void acc_client(struct acc *a, const char *s)
{
    char tmp[2048];
    size_t n = strlen(s);
    if (n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    gw_log_filter_text(tmp, sizeof(tmp));
    acc_str(a, tmp);
}

static void acc_num(struct acc *a, long long v)
{
    char d[24];
    acc_put(a, d, gw_i64_to_dec(v, d));
}

static size_t access_message(const struct gw_http_req *r, long long ns, char *out, size_t cap)
{
    struct acc a = {out, 0, cap};
    acc_str(&a, gw_http_method_name(r));
    acc_put(&a, " ", 1);
    acc_client(&a, r->path);
    acc_put(&a, " ", 1);
    acc_num(&a, r->status);
    acc_put(&a, " ", 1);
    acc_num(&a, (long long)r->bytes_out);
    acc_put(&a, " bytes ", 7);
    long long us = (ns + 500) / 1000;
    if (us < 0) {
        acc_put(&a, "-", 1);
        us = -us;
    }
    acc_num(&a, us / 1000);
    char frac[4] = {'.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
                    (char)('0' + us % 10)};
    acc_put(&a, frac, 4);
    acc_put(&a, " ms peer=", 9);
    acc_client(&a, gw_http_peer(r));
    acc_put(&a, " trace=", 7);
    acc_client(&a, r->trace_id);
    out[a.n] = '\0';
    return a.n;
}

static void finish(struct gw_http_req *r)
{
    if (r->access_log && GW_LOG_INFO >= gw_log_min_level) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long long ns = (long long)(t1.tv_sec - r->t0.tv_sec) * 1000000000LL +
                       (long long)(t1.tv_nsec - r->t0.tv_nsec);
        char msg[3072];
        size_t n = access_message(r, ns, msg, sizeof(msg));
        gw_log_set_request_id(r->rid);
        gw_log_write_msg_filtered(GW_LOG_INFO, "access", msg, n);
        gw_log_set_request_id(NULL);
    }
}

/* Detaches r from its connection, counts it out and frees it. */
static void release(struct gw_http_req *r, bool keep)
{
    struct gw_worker *w = r->worker;
    finish(r);
    gw_conn__response_done(r->conn, keep); /* the connection may be freed here */
    gw_worker_inflight_add(w, -1);
    gw_arena_free(r->arena);
}

static bool conn_usable(const struct gw_http_req *r)
{
    return !r->gone && r->conn->st != GW_CS_DEAD;
}

void gw_http_reply(struct gw_http_req *r, int status, const char *content_type, const char *body,
                   size_t len)
{
    r->status = status;
    r->bytes_out = len;
    bool keep = false;
    if (conn_usable(r)) {
        keep = r->keep_alive && gw_conn__can_keep(r->conn);
        build_head(r, status, content_type, (long long)len, keep);
        struct iovec iov[2] = {
            {(void *)gw_buf_ptr(r->worker->hbuf), gw_buf_len(r->worker->hbuf)},
            {(void *)body, len},
        };
        bool bodyless = r->head_only || status == 204 || status == 304 || status < 200;
        gw_conn__send(r->conn, iov, len && !bodyless ? 2 : 1);
    }
    release(r, keep);
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

/* ---------- streams ---------- */

void gw_http__connection_closed(struct gw_http_req *r)
{
    r->gone = true;
    if (r->close_fn) {
        void (*fn)(struct gw_http_req *, void *) = r->close_fn;
        r->close_fn = NULL;
        fn(r, r->close_arg);
    }
}

void gw_http__connection_closed_quiet(struct gw_http_req *r)
{
    r->gone = true;
}

bool gw_http__streaming(const struct gw_http_req *r)
{
    return r->streaming;
}

bool gw_http__has_close_cb(const struct gw_http_req *r)
{
    return r->close_fn != NULL;
}

void gw_http_stream_begin(struct gw_http_req *r, int status, const char *content_type)
{
    r->status = status;
    r->streaming = true;
    r->chunked = r->minor == 1;
    if (!conn_usable(r))
        return;
    r->conn->st = GW_CS_STREAM;
    /* HTTP/1.0 has no chunked coding: the stream ends when the connection closes */
    build_head(r, status, content_type, -1, r->chunked && r->keep_alive);
    struct iovec iov = {(void *)gw_buf_ptr(r->worker->hbuf), gw_buf_len(r->worker->hbuf)};
    gw_conn__send(r->conn, &iov, 1);
}

bool gw_http_stream_write(struct gw_http_req *r, const char *data, size_t len)
{
    if (!r->streaming || !conn_usable(r))
        return false;
    if (len == 0 || r->head_only)
        return true; /* an empty chunk would end the stream */
    if (r->chunked) {
        char pre[24];
        int n = snprintf(pre, sizeof(pre), "%zx\r\n", len);
        struct iovec iov[3] = {{pre, (size_t)n}, {(void *)data, len}, {(void *)"\r\n", 2}};
        gw_conn__send(r->conn, iov, 3);
    } else {
        struct iovec iov = {(void *)data, len};
        gw_conn__send(r->conn, &iov, 1);
    }
    r->bytes_out += len;
    return conn_usable(r);
}

void gw_http_stream_end(struct gw_http_req *r)
{
    bool keep = false;
    if (r->streaming && conn_usable(r)) {
        if (r->chunked && !r->head_only) {
            struct iovec iov = {(void *)"0\r\n\r\n", 5};
            gw_conn__send(r->conn, &iov, 1);
        }
        keep = r->chunked && r->keep_alive && gw_conn__can_keep(r->conn);
    }
    release(r, keep);
}

bool gw_http_stream_open(const struct gw_http_req *r)
{
    return r->streaming && conn_usable(r);
}

void gw_http_set_close_cb(struct gw_http_req *r, void (*fn)(struct gw_http_req *, void *),
                          void *arg)
{
    r->close_fn = fn;
    r->close_arg = arg;
}

void gw_http__abandon(struct gw_http_req *r)
{
    gw_arena_free(r->arena);
}

int gw_http__status(const struct gw_http_req *r)
{
    return r->status;
}

/* ---------- refusals ---------- */

static const char *status_code_name(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 403: return "forbidden";
    case 408: return "request_timeout";
    case 413: return "body_too_large";
    case 414: return "uri_too_long";
    case 417: return "expectation_failed";
    case 431: return "headers_too_large";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    case 505: return "http_version_not_supported";
    default: return "error";
    }
}

size_t gw_http__refusal(struct gw_worker *w, int status, const char *reason, struct gw_buf *b)
{
    json_t *v;
    if (w->srv->guard.jsonrpc_errors)
        v = json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", "error", "code", -32600,
                      "message", reason);
    else
        v = json_pack("{s:{s:s,s:s}}", "error", "code", status_code_name(status), "message",
                      reason);
    struct gw_buf body;
    gw_buf_init(&body, 4096);
    if (!v || gw_json_dump(v, &body) != GW_OK) {
        gw_buf_reset(&body);
        gw_buf_adds(&body, "{}");
    }
    json_decref(v);
    gw_buf_reset(b);
    put_status_line(b, status);
    put_str(b, http_date(w));
    PUTS(b, "\r\nContent-Type: application/json\r\nContent-Length: ");
    put_uint(b, gw_buf_len(&body));
    PUTS(b, "\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n");
    put(b, gw_buf_ptr(&body), gw_buf_len(&body));
    gw_buf_fini(&body);
    return gw_buf_len(b);
}

void gw_http__refuse(struct gw_conn *c, int status, const char *reason)
{
    struct gw_worker *w = c->w;
    gw_http__refusal(w, status, reason, w->hbuf);
    struct iovec iov = {(void *)gw_buf_ptr(w->hbuf), gw_buf_len(w->hbuf)};
    gw_conn__send(c, &iov, 1);
    if (w->srv->opts.access_log && GW_LOG_INFO >= gw_log_min_level)
        gw_log_write(GW_LOG_INFO, "access", "- - %d refused (%s) peer=%s", status, reason,
                     c->peer);
    gw_conn__refused(c);
}
