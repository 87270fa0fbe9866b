/*
 * tests/unit/httpc/httpc_test_server.h
 * A small HTTP/1.1 test upstream for unit tests (header-only, static functions): libevent evhttp
 * on 127.0.0.1:0 running in its own thread, with a handler the test supplies (it runs on the
 * server thread), helpers to read the request and to reply now or after a delay (without
 * blocking the server: delayed replies are timers on the server loop), and a loop driver for the
 * test's own (client) event base. Included by tests/unit/httpc/ and tests/unit/upstream/.
 * Not a product component: no limits beyond evhttp's defaults.
 */
#ifndef GW_TEST_HTTPC_TEST_SERVER_H
#define GW_TEST_HTTPC_TEST_SERVER_H

#include "core/alloc.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TS_FN static __attribute__((unused))

struct ts_server;

/* A delayed reply waiting for its timer on the server loop. */
struct ts_later {
    struct ts_server *s;
    struct evhttp_request *req;
    int code;
    char *body;
    struct ts_later *prev, *next;
};

typedef void (*ts_handler_fn)(struct ts_server *s, struct evhttp_request *req, void *ud);

struct ts_server {
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    struct event *stop_ev;
    struct ts_later *later; /* delayed replies not sent yet (server thread only) */
    int port;
    ts_handler_fn fn;
    void *ud;
    atomic_int hits; /* requests received */
};

TS_FN void ts_dispatch(struct evhttp_request *req, void *arg)
{
    struct ts_server *s = arg;
    atomic_fetch_add(&s->hits, 1);
    s->fn(s, req, s->ud);
}

/* Runs on the server thread: a break requested before the loop started would be lost
 * (event_base_loop clears the flag on entry), an activated event is not. */
TS_FN void ts_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(((struct ts_server *)arg)->base);
}

TS_FN void *ts_thread(void *arg)
{
    struct ts_server *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

/* evhttp connection factory for TLS: each accepted socket gets an SSL from the context. */
TS_FN struct bufferevent *ts_tls_bev(struct event_base *base, void *arg)
{
    return bufferevent_openssl_socket_new(base, -1, SSL_new((SSL_CTX *)arg),
                                          BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

TS_FN struct ts_server *ts_start_tls(ts_handler_fn fn, void *ud, SSL_CTX *tls);

/* Starts a server whose handler is fn(s, req, ud) on the server thread. Aborts on failure. */
TS_FN struct ts_server *ts_start(ts_handler_fn fn, void *ud)
{
    return ts_start_tls(fn, ud, NULL);
}

/* The same over TLS with `tls` (borrowed; must outlive the server) when not NULL. */
TS_FN struct ts_server *ts_start_tls(ts_handler_fn fn, void *ud, SSL_CTX *tls)
{
    /* evhttp writes with writev: a client that hangs up mid-answer (a response over the cap,
     * a cancelled call) would raise SIGPIPE in this test process; a server process ignores it,
     * and so does this one */
    signal(SIGPIPE, SIG_IGN);
    static int threads_on;
    if (!threads_on) {
        evthread_use_pthreads();
        threads_on = 1;
    }
    struct ts_server *s = gw_xcalloc(1, sizeof(*s));
    s->fn = fn;
    s->ud = ud;
    s->base = event_base_new();
    s->stop_ev = event_new(s->base, -1, 0, ts_stop_cb, s);
    s->http = evhttp_new(s->base);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_max_body_size(s->http, 64 * 1024 * 1024);
    evhttp_set_gencb(s->http, ts_dispatch, s);
    if (tls)
        evhttp_set_bevcb(s->http, ts_tls_bev, tls);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    if (!bs) {
        fprintf(stderr, "test server: bind failed\n");
        abort();
    }
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl);
    s->port = ntohs(sin.sin_port);
    pthread_create(&s->thread, NULL, ts_thread, s);
    return s;
}

TS_FN void ts_stop(struct ts_server *s)
{
    if (!s)
        return;
    event_active(s->stop_ev, EV_READ, 0);
    pthread_join(s->thread, NULL);
    event_free(s->stop_ev);
    while (s->later) { /* replies still waiting for their timer */
        struct ts_later *l = s->later;
        s->later = l->next;
        gw_free(l->body);
        gw_free(l);
    }
    evhttp_free(s->http);
    event_base_free(s->base);
    gw_free(s);
}

/* Formats the server's base URL ("http://127.0.0.1:PORT") into out. */
TS_FN const char *ts_url(const struct ts_server *s, char *out, size_t n, const char *path)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", s->port, path ? path : "");
    return out;
}

/* Copies the request body (NUL-terminated, truncated to n-1) into out; returns its full length. */
TS_FN size_t ts_body(struct evhttp_request *req, char *out, size_t n)
{
    struct evbuffer *b = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(b);
    size_t c = len < n - 1 ? len : n - 1;
    evbuffer_copyout(b, out, c);
    out[c] = '\0';
    return len;
}

TS_FN const char *ts_header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

TS_FN const char *ts_method(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "?";
    }
}

/* Replies now with `code`, content type and body (len -1 = strlen). */
TS_FN void ts_reply(struct evhttp_request *req, int code, const char *ctype, const char *body,
                     long len)
{
    struct evbuffer *out = evbuffer_new();
    if (body)
        evbuffer_add(out, body, len < 0 ? strlen(body) : (size_t)len);
    if (ctype)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, code, code == 200 ? "OK" : code == 201 ? "Created"
                                : code == 404 ? "Not Found" : code == 401 ? "Unauthorized"
                                : code == 500 ? "Internal Server Error"
                                : code == 502 ? "Bad Gateway"
                                : code == 503 ? "Service Unavailable"
                                : code == 504 ? "Gateway Timeout" : "Status", out);
    evbuffer_free(out);
}

TS_FN void ts_replyf(struct evhttp_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
TS_FN void ts_replyf(struct evhttp_request *req, int code, const char *fmt, ...)
{
    char buf[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ts_reply(req, code, "application/json", buf, -1);
}

TS_FN void ts_later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct ts_later *l = arg;
    if (l->prev)
        l->prev->next = l->next;
    else
        l->s->later = l->next;
    if (l->next)
        l->next->prev = l->prev;
    ts_reply(l->req, l->code, "application/json", l->body, -1);
    gw_free(l->body);
    gw_free(l);
}

/* Replies after delay_ms without blocking the server loop. */
TS_FN void ts_reply_later(struct ts_server *s, struct evhttp_request *req, int delay_ms, int code,
                           const char *body)
{
    struct ts_later *l = gw_xcalloc(1, sizeof(*l));
    l->s = s;
    l->req = req;
    l->code = code;
    l->next = s->later;
    if (s->later)
        s->later->prev = l;
    s->later = l;
    l->body = gw_xstrdup(body ? body : "");
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    event_base_once(s->base, -1, EV_TIMEOUT, ts_later_cb, l, &tv);
}

/* ---- client-side loop driver ---- */

TS_FN void ts_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

TS_FN long long ts_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `base` until *counter >= target or timeout_ms passes; returns true if reached. */
TS_FN bool ts_run_until(struct event_base *base, const int *counter, int target, int timeout_ms)
{
    struct event *tick = event_new(base, -1, EV_PERSIST, ts_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    long long end = ts_now_ms() + timeout_ms;
    while (*counter < target && ts_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
    return *counter >= target;
}

/* Runs `base` for about ms milliseconds (to observe that nothing else happens). */
TS_FN void ts_run_for(struct event_base *base, int ms)
{
    int never = 0;
    ts_run_until(base, &never, 1, ms);
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
TS_FN int ts_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    socklen_t sl = sizeof(sin);
    getsockname(fd, (struct sockaddr *)&sin, &sl);
    close(fd);
    return ntohs(sin.sin_port);
}

#endif
