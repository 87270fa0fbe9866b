/*
 * tools/mock-apim/mockapim_http.c
 * evhttp front of the mock (see mockapim_http.h).
 *
 * Held requests (latency, timeout, reset faults) live on a doubly linked list of `struct held`
 * until their evtimer fires:
 *
 *   arrive --fault latency--> HELD --timer--> answered normally (process)
 *          --fault timeout--> HELD --timer--> connection dropped, no answer (drop)
 *          --fault reset----> HELD(0 ms) --timer--> SO_LINGER{1,0} + close = RST (drop)
 *          --shutdown------> every HELD dropped
 *
 * Invariants: (1) an evhttp_request is answered or dropped exactly once; (2) a held request is
 * on the list iff its timer is pending; (3) drop() frees the request itself when libevent has
 * detached it from a closed connection (evcon NULL), else frees the connection, which frees it.
 */
#include "mockapim_http.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "mockapim_app.h"
#include "mockapim_date.h"
#include "mockapim_faults.h"
#include "mockapim_req.h"
#include "mockapim_stats.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 64
#define MAX_QUERY_PARAMS 64
#define MAX_RESPONSE (64u * 1024 * 1024)
#define PAD_CHUNK 65536

struct held;

/* The server: loop, listener, signal events and the held-request list. */
struct gw_mockapim_server {
    struct gw_mockapim_app *app;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct event *sigterm, *sigint;
    struct held *held;
    int port;
};

/* A request waiting on a fault timer (see the state diagram above). */
struct held {
    struct gw_mockapim_server *srv;
    struct evhttp_request *req;
    struct event *timer;
    struct gw_mockapim_fault fault;
    double t0;
    char method[8];
    char *path;
    struct held *prev, *next;
};

static char pad[PAD_CHUNK];

static int buf_cb(const char *data, size_t size, void *arg)
{
    return gw_buf_add(arg, data, size) == GW_OK ? 0 : -1;
}

/* Compact JSON with 12 significant digits for reals (coordinates print as 18.5913, not
 * 18.591300000000001). GW_OK or GW_ELIMIT when out's maximum is reached. */
static int dump(const json_t *v, struct gw_buf *out)
{
    return json_dump_callback(v, buf_cb, out, JSON_COMPACT | JSON_REAL_PRECISION(12)) == 0
               ? GW_OK
               : GW_ELIMIT;
}

/* Monotonic milliseconds, for durations in the access log. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* evhttp's method enum as text. */
static const char *method_name(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    default:
        return "OTHER";
    }
}

/* UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" without gmtime (banned): civil date from the day number. */
static void utc_stamp(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long days = (long)(ts.tv_sec / 86400);
    long sod = (long)(ts.tv_sec % 86400);
    int y, m, d;
    gw_mockapim_date_civil(days, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02dT%02ld:%02ld:%02ld.%03ldZ", y, m, d, sod / 3600,
             sod / 60 % 60, sod % 60, (long)(ts.tv_nsec / 1000000));
}

/* One JSON access-log line on stderr: no query string, no headers (they carry PII and keys). */
static void access_log(struct gw_mockapim_server *srv, struct evhttp_request *req,
                       const char *method, const char *path, int status, size_t bytes,
                       double t0, const char *fault)
{
    if (!gw_mockapim_app_config(srv->app)->access_log)
        return;
    char ts[40];
    char *peer = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *evcon = req ? evhttp_request_get_connection(req) : NULL;
    if (evcon)
        evhttp_connection_get_peer(evcon, &peer, &port);
    utc_stamp(ts, sizeof(ts));
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:I}", "ts", ts, "level",
                             "info", "component", "access", "method", method, "path", path,
                             "status", status, "duration_ms",
                             (double)((long long)((now_ms() - t0) * 1000.0)) / 1000.0, "bytes",
                             (json_int_t)bytes);
    if (!line)
        return;
    if (fault)
        json_object_set_new(line, "fault", json_string(fault));
    if (peer)
        json_object_set_new(line, "remote", json_string(peer));
    struct gw_buf b;
    gw_buf_init(&b, 8192);
    if (dump(line, &b) == GW_OK && gw_buf_addc(&b, '\n') == GW_OK) {
        ssize_t w = write(2, gw_buf_ptr(&b), gw_buf_len(&b));
        (void)w;
    }
    gw_buf_fini(&b);
    json_decref(line);
}

/* Reason phrase of the statuses the mock sends. */
static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

/* Sends resp, applying the malformed/oversized faults to the body. */
static void send_resp(struct gw_mockapim_server *srv, struct evhttp_request *req,
                      struct gw_mockapim_resp *resp, const struct gw_mockapim_fault *fault,
                      const char *method, const char *path, double t0)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    struct evbuffer *out = evbuffer_new();
    struct gw_buf body;
    gw_buf_init(&body, MAX_RESPONSE);
    if (resp->json) {
        if (dump(resp->json, &body) != GW_OK) {
            gw_buf_reset(&body);
            resp->status = 500;
            gw_buf_adds(&body, "{\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":\"response "
                               "too large\"}}");
        }
    } else if (resp->raw) {
        gw_buf_add(&body, resp->raw, resp->raw_len);
    }
    if (resp->content_type[0] && resp->status != 204)
        evhttp_add_header(oh, "Content-Type", resp->content_type);
    evhttp_add_header(oh, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(oh, "Server", "mock-apim");
    for (size_t i = 0; i < resp->nheaders; i++)
        evhttp_add_header(oh, resp->headers[i].name, resp->headers[i].value);
    size_t len = gw_buf_len(&body);
    if (fault->mode == GW_MOCKAPIM_FAULT_MALFORMED && len > 0) {
        /* Half of the real answer: the JSON never closes. */
        evbuffer_add(out, gw_buf_ptr(&body), len > 1 ? len / 2 : 0);
        evhttp_add_header(oh, "X-Mock-Fault", "malformed");
    } else if (fault->mode == GW_MOCKAPIM_FAULT_OVERSIZED) {
        /* A valid document of about fault->bytes: the real answer plus padding, the padding
         * added by reference to one static chunk (no copy per megabyte). */
        evbuffer_add_printf(out, "{\"data\":");
        evbuffer_add(out, len ? gw_buf_ptr(&body) : "null", len ? len : 4);
        evbuffer_add_printf(out, ",\"padding\":\"");
        size_t have = evbuffer_get_length(out) + 2;
        for (size_t left = fault->bytes > have ? fault->bytes - have : 0; left > 0;) {
            size_t n = left < PAD_CHUNK ? left : PAD_CHUNK;
            evbuffer_add_reference(out, pad, n, NULL, NULL);
            left -= n;
        }
        evbuffer_add_printf(out, "\"}");
        evhttp_add_header(oh, "X-Mock-Fault", "oversized");
    } else if (len > 0 && resp->status != 204) {
        evbuffer_add(out, gw_buf_ptr(&body), len);
    }
    if (fault->mode == GW_MOCKAPIM_FAULT_LATENCY)
        evhttp_add_header(oh, "X-Mock-Fault", "latency");
    size_t sent = evbuffer_get_length(out);
    gw_mockapim_stats_status(gw_mockapim_app_stats(srv->app), resp->status);
    access_log(srv, req, method, path, resp->status, sent, t0,
               fault->mode ? gw_mockapim_fault_mode_name(fault->mode) : NULL);
    evhttp_send_reply(req, resp->status, reason(resp->status), out);
    evbuffer_free(out);
    gw_buf_fini(&body);
}

/* Answers an error before the app ran (bad path or query). */
static void send_simple(struct gw_mockapim_server *srv, struct evhttp_request *req, int status,
                        const char *code, const char *msg, const char *method, const char *path,
                        double t0)
{
    struct gw_mockapim_resp resp;
    struct gw_mockapim_fault none = {0};
    gw_mockapim_resp_init(&resp);
    gw_mockapim_resp_error(&resp, status, code, NULL, "%s", msg);
    send_resp(srv, req, &resp, &none, method, path, t0);
    gw_mockapim_resp_fini(&resp);
}

/* Decodes the request, runs the app and answers. */
static void process(struct gw_mockapim_server *srv, struct evhttp_request *req,
                    const char *method, const char *path, const struct gw_mockapim_fault *fault,
                    double t0)
{
    struct gw_mockapim_req r;
    struct gw_mockapim_resp resp;
    struct gw_mockapim_header hdrs[MAX_HEADERS];
    struct evkeyvalq q;
    struct evkeyval *kv;
    size_t nq = 0;
    TAILQ_INIT(&q);
    memset(&r, 0, sizeof(r));
    gw_mockapim_resp_init(&resp);
    r.method = method;
    r.path = path;
    r.query = json_object();
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query && evhttp_parse_query_str(query, &q) != 0) {
        send_simple(srv, req, 400, "INVALID_QUERY", "the query string cannot be parsed", method,
                    path, t0);
        goto out;
    }
    TAILQ_FOREACH(kv, &q, next)
    {
        json_t *v = json_string(kv->value);
        json_t *k = json_string(kv->key); /* UTF-8 check of the name */
        bool bad = !v || !k || ++nq > MAX_QUERY_PARAMS;
        json_decref(k);
        if (bad) {
            json_decref(v);
            send_simple(srv, req, 400, "INVALID_QUERY",
                        "query parameters must be UTF-8 and at most 64", method, path, t0);
            goto out;
        }
        if (!json_object_get(r.query, kv->key))
            json_object_set_new(r.query, kv->key, v);
        else
            json_decref(v);
    }
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
    {
        if (r.nheaders >= MAX_HEADERS) {
            send_simple(srv, req, 431, "TOO_MANY_HEADERS", "too many request headers", method,
                        path, t0);
            goto out;
        }
        hdrs[r.nheaders].name = kv->key;
        hdrs[r.nheaders++].value = kv->value;
    }
    r.headers = hdrs;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    r.body_len = evbuffer_get_length(in);
    r.body = r.body_len ? (const char *)evbuffer_pullup(in, -1) : NULL;
    gw_mockapim_app_handle(srv->app, &r, &resp);
    send_resp(srv, req, &resp, fault, method, path, t0);
out:
    gw_mockapim_resp_fini(&resp);
    json_decref(r.query);
    evhttp_clear_headers(&q);
}

/* Closes a request's connection without an answer, with RST when `rst`. */
static void drop(struct evhttp_request *req, bool rst)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon) {
        evhttp_request_free(req); /* detached by libevent after the client left */
        return;
    }
    if (rst) {
        evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        if (fd >= 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    evhttp_connection_free(evcon); /* frees req too */
}

/* Unlinks h from the held list and frees it (not its request). */
static void unhold(struct held *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        h->srv->held = h->next;
    if (h->next)
        h->next->prev = h->prev;
    event_free(h->timer);
    gw_free(h->path);
    gw_free(h);
}

/* Timer of a held request: latency -> answer now; timeout/reset -> drop the connection. */
static void held_fire(evutil_socket_t fd, short what, void *arg)
{
    struct held *h = arg;
    (void)fd;
    (void)what;
    if (h->fault.mode == GW_MOCKAPIM_FAULT_LATENCY) {
        if (evhttp_request_get_connection(h->req))
            process(h->srv, h->req, h->method, h->path, &h->fault, h->t0);
        else
            evhttp_request_free(h->req); /* the client gave up while we waited */
    } else {
        access_log(h->srv, h->req, h->method, h->path, 0, 0, h->t0,
                   gw_mockapim_fault_mode_name(h->fault.mode));
        drop(h->req, h->fault.mode == GW_MOCKAPIM_FAULT_RESET);
    }
    unhold(h);
}

/* Parks a request for `ms` milliseconds on an evtimer (the loop keeps running). */
static void hold(struct gw_mockapim_server *srv, struct evhttp_request *req, const char *method,
                 const char *path, const struct gw_mockapim_fault *fault, double t0, int ms)
{
    struct held *h = gw_xcalloc(1, sizeof(*h));
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    h->srv = srv;
    h->req = req;
    h->fault = *fault;
    h->t0 = t0;
    snprintf(h->method, sizeof(h->method), "%s", method);
    h->path = gw_xstrdup(path);
    h->timer = evtimer_new(srv->base, held_fire, h);
    h->next = srv->held;
    if (srv->held)
        srv->held->prev = h;
    srv->held = h;
    evtimer_add(h->timer, &tv);
}

/* evhttp callback for every request: decode the path, count it, pick a fault, then answer
 * now, answer later (latency), or drop later (timeout, reset). */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct gw_mockapim_server *srv = arg;
    double t0 = now_ms();
    const char *method = method_name(evhttp_request_get_command(req));
    const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    size_t len = 0;
    char *path = evhttp_uridecode(raw && *raw ? raw : "/", 0, &len);
    json_t *check = path ? json_stringn(path, len) : NULL;
    if (!path || strlen(path) != len || !check || len > 1024) {
        json_decref(check);
        send_simple(srv, req, 400, "INVALID_PATH", "the path must be UTF-8 without NUL bytes",
                    method, "(invalid)", t0);
        gw_free(path); /* libevent allocates with malloc; gw_free is free */
        return;
    }
    json_decref(check);
    gw_mockapim_stats_request(gw_mockapim_app_stats(srv->app), method, path);
    struct gw_mockapim_fault fault = {0};
    if (strncmp(path, "/__mock/", 8) != 0 &&
        gw_mockapim_faults_pick(gw_mockapim_app_faults(srv->app), method, path, &fault)) {
        gw_mockapim_stats_fault(gw_mockapim_app_stats(srv->app),
                                gw_mockapim_fault_mode_name(fault.mode));
    }
    switch (fault.mode) {
    case GW_MOCKAPIM_FAULT_LATENCY:
    case GW_MOCKAPIM_FAULT_TIMEOUT:
        hold(srv, req, method, path, &fault, t0, fault.ms);
        break;
    case GW_MOCKAPIM_FAULT_RESET:
        hold(srv, req, method, path, &fault, t0, 0);
        break;
    case GW_MOCKAPIM_FAULT_ERROR: {
        struct gw_mockapim_resp resp;
        char ra[16];
        gw_mockapim_resp_init(&resp);
        gw_mockapim_resp_error(&resp, fault.status, "INJECTED_FAULT", NULL,
                               "fault injected by mock-apim (rule %d)", fault.rule_id);
        if (fault.retry_after) {
            snprintf(ra, sizeof(ra), "%d", fault.retry_after);
            gw_mockapim_resp_header(&resp, "Retry-After", ra);
        }
        gw_mockapim_resp_header(&resp, "X-Mock-Fault", "error");
        struct gw_mockapim_fault shown = {0};
        send_resp(srv, req, &resp, &shown, method, path, t0);
        gw_mockapim_resp_fini(&resp);
        break;
    }
    default:
        process(srv, req, method, path, &fault, t0);
    }
    gw_free(path); /* libevent allocates with malloc; gw_free is free */
}

/* SIGTERM/SIGINT: stop accepting and leave the loop; run() then drops held requests. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct gw_mockapim_server *srv = arg;
    (void)what;
    GW_LOG(GW_LOG_INFO, "mock-apim", "signal %d: shutting down", (int)sig);
    if (srv->sock) {
        evhttp_del_accept_socket(srv->http, srv->sock);
        srv->sock = NULL;
    }
    event_base_loopexit(srv->base, NULL);
}

/* Splits "host:port" / "[v6]:port". */
static int parse_listen(const char *listen, char *host, size_t cap, int *port,
                        struct gw_error *err)
{
    const char *colon = strrchr(listen, ':');
    unsigned long long p = 0;
    if (!colon || gw_str_to_u64(gw_str_c(colon + 1), &p) != GW_OK || p > 65535)
        return GW_ERROR_SET(err, GW_EINVAL, "--listen '%s': expected HOST:PORT", listen);
    const char *h = listen;
    size_t n = (size_t)(colon - listen);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return GW_ERROR_SET(err, GW_EINVAL, "--listen '%s': bad host", listen);
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)p;
    return GW_OK;
}

int gw_mockapim_server_new(struct gw_mockapim_app *app, struct gw_mockapim_server **out,
                           struct gw_error *err)
{
    const struct gw_mockapim_config *cfg = gw_mockapim_app_config(app);
    struct gw_mockapim_server *srv = gw_xcalloc(1, sizeof(*srv));
    char host[256];
    int port = 0, rc;
    *out = NULL;
    memset(pad, 'x', sizeof(pad));
    srv->app = app;
    if ((rc = parse_listen(cfg->listen, host, sizeof(host), &port, err)) != GW_OK)
        goto fail;
    srv->base = event_base_new();
    srv->http = srv->base ? evhttp_new(srv->base) : NULL;
    if (!srv->http) {
        rc = GW_ERROR_SET(err, GW_EIO, "cannot create the event loop");
        goto fail;
    }
    evhttp_set_max_body_size(srv->http, cfg->max_body);
    evhttp_set_max_headers_size(srv->http, 64 * 1024);
    evhttp_set_timeout(srv->http, 900);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                              EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(srv->http, on_request, srv);
    srv->sock = evhttp_bind_socket_with_handle(srv->http, host, (ev_uint16_t)port);
    if (!srv->sock) {
        rc = GW_ERROR_SET(err, GW_EIO, "cannot listen on %s (in use or not local?)", cfg->listen);
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(srv->sock);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        srv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    srv->sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    srv->sigint = evsignal_new(srv->base, SIGINT, on_signal, srv);
    evsignal_add(srv->sigterm, NULL);
    evsignal_add(srv->sigint, NULL);
    signal(SIGPIPE, SIG_IGN);
    *out = srv;
    return GW_OK;
fail:
    gw_mockapim_server_free(srv);
    return rc;
}

int gw_mockapim_server_port(const struct gw_mockapim_server *srv)
{
    return srv->port;
}

int gw_mockapim_server_run(struct gw_mockapim_server *srv)
{
    event_base_dispatch(srv->base);
    while (srv->held) {
        struct held *h = srv->held;
        drop(h->req, false);
        unhold(h);
    }
    return GW_OK;
}

void gw_mockapim_server_free(struct gw_mockapim_server *srv)
{
    if (!srv)
        return;
    while (srv->held) {
        struct held *h = srv->held;
        drop(h->req, false);
        unhold(h);
    }
    if (srv->sigterm)
        event_free(srv->sigterm);
    if (srv->sigint)
        event_free(srv->sigint);
    if (srv->http)
        evhttp_free(srv->http);
    if (srv->base)
        event_base_free(srv->base);
    gw_free(srv);
}
