/*
 * tests/unit/httpc/test_httpc_client.c
 * gw_httpc against a local evhttp upstream (own thread) with the client loop on the test's
 * thread: responses and headers, bodies (raw and multipart), keep-alive reuse, the response cap
 * (declared and chunked), timeouts while other calls on the same loop keep completing, refused
 * connections, cancellation, refused URLs, no redirects, the callback never running inside
 * submit, "at most once" requests (no_replay) against a server that resets a reused connection
 * after reading the request, fresh connections, the SSRF guard of a client, and a throughput
 * measurement that prints requests/second (not asserted): GET, and POST plain / no_replay /
 * fresh_connect (the price of the alternatives for writes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "httpc/httpc_client.h"
#include "httpc_test_raw.h"
#include "httpc_test_server.h"
#include "ssrf/ssrf.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* ---- the upstream ---- */

static long query_num(struct evhttp_request *req, const char *key, long def)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (!q)
        return def;
    struct evkeyvalq kv;
    long v = def;
    if (evhttp_parse_query_str(q, &kv) == 0) {
        const char *s = evhttp_find_header(&kv, key);
        if (s)
            v = strtol(s, NULL, 10);
        evhttp_clear_headers(&kv);
    }
    return v;
}

static void handler(struct ts_server *s, struct evhttp_request *req, void *ud)
{
    (void)ud;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    char body[8192];
    if (strcmp(path, "/hello") == 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "X-Reply", "  yes ");
        ts_reply(req, 200, "application/json", "{\"hello\":\"world\"}", -1);
    } else if (strcmp(path, "/echo") == 0 || strcmp(path, "/multipart") == 0) {
        size_t n = ts_body(req, body, sizeof(body));
        const char *xt = ts_header(req, "X-Test");
        const char *ct = ts_header(req, "Content-Type");
        struct evbuffer *out = evbuffer_new();
        evbuffer_add_printf(out, "%s|%s|%s|%zu|", ts_method(req), xt ? xt : "-", ct ? ct : "-",
                            n);
        evbuffer_add(out, body, strlen(body));
        evhttp_send_reply(req, 200, "OK", out);
        evbuffer_free(out);
    } else if (strcmp(path, "/big") == 0) {
        long n = query_num(req, "n", 1000);
        char *b = gw_xmalloc((size_t)n);
        memset(b, 'x', (size_t)n);
        ts_reply(req, 200, "text/plain", b, n);
        gw_free(b);
    } else if (strcmp(path, "/chunked") == 0) {
        long n = query_num(req, "n", 1000);
        evhttp_send_reply_start(req, 200, "OK");
        struct evbuffer *chunk = evbuffer_new();
        char piece[4096];
        memset(piece, 'y', sizeof(piece));
        for (long sent = 0; sent < n; sent += (long)sizeof(piece)) {
            evbuffer_add(chunk, piece, sizeof(piece));
            evhttp_send_reply_chunk(req, chunk);
        }
        evhttp_send_reply_end(req);
        evbuffer_free(chunk);
    } else if (strcmp(path, "/slow") == 0) {
        ts_reply_later(s, req, (int)query_num(req, "ms", 1000), 200, "{\"slow\":true}");
    } else if (strcmp(path, "/redirect") == 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", "/hello");
        evhttp_send_reply(req, 302, "Found", NULL);
    } else {
        ts_reply(req, 404, "application/json", "{\"error\":\"not found\"}", -1);
    }
}

/* ---- client side ---- */

struct result {
    int done;
    enum gw_httpc_status status;
    long http;
    char ctype[128];
    char body[8192];
    size_t body_len;
    char xreply[64];
    bool reused;
    bool connected;
    char error[256];
};

static void on_done(void *arg, struct gw_httpc_response *r)
{
    struct result *res = arg;
    res->done++;
    res->status = r->status;
    res->http = r->http_status;
    snprintf(res->ctype, sizeof(res->ctype), "%s", r->content_type ? r->content_type : "");
    snprintf(res->body, sizeof(res->body), "%s", r->body);
    res->body_len = r->body_len;
    res->reused = r->reused_connection;
    res->connected = r->connected;
    snprintf(res->error, sizeof(res->error), "%s", r->error);
    if (!gw_httpc_response_header(r, "X-Reply", res->xreply, sizeof(res->xreply)))
        res->xreply[0] = '\0';
}

/* Every test runs twice: with the client's default engines (the native HTTP/1.1 engine for
 * plain requests, libcurl for the rest) and with libcurl for everything (curl_only): both must
 * behave alike. */
static bool g_curl_only;

struct fixture {
    struct ts_server *srv;
    struct event_base *base;
    struct gw_httpc *c;
};

static int setup(void **state)
{
    struct fixture *f = gw_xcalloc(1, sizeof(*f));
    f->srv = ts_start(handler, NULL);
    f->base = event_base_new();
    struct gw_error err;
    struct gw_httpc_options o = {0};
    o.curl_only = g_curl_only;
    f->c = gw_httpc_new(f->base, &o, &err);
    if (!f->c) {
        fprintf(stderr, "gw_httpc_new: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gw_httpc_free(f->c);
    event_base_free(f->base);
    ts_stop(f->srv);
    gw_free(f);
    return 0;
}

static int submit(struct fixture *f, const char *method, const char *path,
                  struct gw_httpc_request *tmpl, struct result *res, struct gw_httpc_call **out)
{
    char url[256];
    struct gw_httpc_request req;
    if (tmpl)
        req = *tmpl;
    else
        memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = ts_url(f->srv, url, sizeof(url), path);
    struct gw_error err;
    return gw_httpc_submit(f->c, &req, on_done, res, out, &err);
}

static void test_get_and_headers(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    assert_int_equal(submit(f, "GET", "/hello", NULL, &r, NULL), GW_OK);
    assert_int_equal(r.done, 0); /* never from inside submit */
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.status, GW_HTTPC_OK);
    assert_int_equal(r.http, 200);
    assert_string_equal(r.ctype, "application/json");
    assert_string_equal(r.body, "{\"hello\":\"world\"}");
    assert_string_equal(r.xreply, "yes");
    assert_int_equal(gw_httpc_pending(f->c), 0);
    /* a plain request takes the native engine unless the client is libcurl-only */
    unsigned long long native = 0, curl = 0;
    gw_httpc_engine_calls(f->c, &native, &curl);
    assert_int_equal(native, g_curl_only ? 0 : 1);
    assert_int_equal(curl, g_curl_only ? 1 : 0);
}

static void test_post_body_and_headers(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    const char *hdrs[] = {"X-Test: abc", "Content-Type: application/json"};
    struct gw_httpc_request t = {0};
    t.headers = hdrs;
    t.nheaders = 2;
    t.body = "{\"a\":1}";
    t.body_len = 7;
    assert_int_equal(submit(f, "POST", "/echo", &t, &r, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_string_equal(r.body, "POST|abc|application/json|7|{\"a\":1}");

    struct result r2 = {0};
    t.body = "x=1";
    t.body_len = 3;
    assert_int_equal(submit(f, "PUT", "/echo", &t, &r2, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r2.done, 1, 5000));
    assert_string_equal(r2.body, "PUT|abc|application/json|3|x=1");

    struct result r3 = {0};
    assert_int_equal(submit(f, "DELETE", "/echo", NULL, &r3, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r3.done, 1, 5000));
    assert_string_equal(r3.body, "DELETE|-|-|0|");
}

static void test_multipart(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    struct gw_httpc_part parts[] = {
        {"name", "Alice", 5, NULL, NULL},
        {"meta", "{\"k\":1}", 7, "application/json", NULL},
        {"file", "hello", 5, "text/plain", "hello.txt"},
    };
    struct gw_httpc_request t = {0};
    t.parts = parts;
    t.nparts = 3;
    assert_int_equal(submit(f, "POST", "/multipart", &t, &r, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_non_null(strstr(r.body, "multipart/form-data; boundary="));
    assert_non_null(strstr(r.body, "name=\"name\"\r\n\r\nAlice\r\n"));
    assert_non_null(strstr(r.body, "Content-Type: application/json\r\n\r\n{\"k\":1}"));
    assert_non_null(strstr(r.body, "filename=\"hello.txt\""));
}

static void test_keepalive_reuse(void **state)
{
    struct fixture *f = *state;
    struct result r1 = {0}, r2 = {0};
    assert_int_equal(submit(f, "GET", "/hello", NULL, &r1, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r1.done, 1, 5000));
    assert_false(r1.reused);
    assert_int_equal(submit(f, "GET", "/hello", NULL, &r2, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r2.done, 1, 5000));
    assert_true(r2.reused);
    assert_int_equal(atomic_load(&f->srv->hits), 2);
}

static void test_response_cap(void **state)
{
    struct fixture *f = *state;
    struct gw_httpc_request t = {0};
    t.max_response_bytes = 1000;
    struct result ok = {0}, declared = {0}, chunked = {0};
    assert_int_equal(submit(f, "GET", "/big?n=1000", &t, &ok, NULL), GW_OK);
    assert_int_equal(submit(f, "GET", "/big?n=5000", &t, &declared, NULL), GW_OK);
    assert_int_equal(submit(f, "GET", "/chunked?n=200000", &t, &chunked, NULL), GW_OK);
    for (int i = 0; i < 500 && ok.done + declared.done + chunked.done < 3; i++)
        ts_run_for(f->base, 10);
    assert_int_equal(ok.status, GW_HTTPC_OK);
    assert_int_equal(ok.body_len, 1000);
    assert_int_equal(declared.status, GW_HTTPC_ETOOLARGE);
    assert_int_equal(chunked.status, GW_HTTPC_ETOOLARGE);
    assert_non_null(strstr(chunked.error, "larger than 1000 bytes"));
}

static void test_timeout_does_not_stall_loop(void **state)
{
    struct fixture *f = *state;
    struct gw_httpc_request t = {0};
    t.timeout_ms = 1500;
    struct result slow = {0};
    assert_int_equal(submit(f, "GET", "/slow?ms=3000", &t, &slow, NULL), GW_OK);
    static struct result fast[50];
    memset(fast, 0, sizeof(fast));
    int fast_done = 0;
    for (int i = 0; i < 50; i++)
        assert_int_equal(submit(f, "GET", "/hello", NULL, &fast[i], NULL), GW_OK);
    long long t0 = ts_now_ms();
    for (;;) {
        fast_done = 0;
        for (int i = 0; i < 50; i++)
            fast_done += fast[i].done;
        if (fast_done == 50 || ts_now_ms() - t0 > 5000)
            break;
        ts_run_for(f->base, 2);
    }
    assert_int_equal(fast_done, 50);
    assert_int_equal(slow.done, 0); /* the slow call is still pending while 50 completed */
    assert_true(ts_run_until(f->base, &slow.done, 1, 5000));
    assert_int_equal(slow.status, GW_HTTPC_ETIMEOUT);
    assert_true(slow.connected);
    assert_true(ts_now_ms() - t0 < 2900);
}

/* A server whose accept queue is full drops the SYN: connect() neither succeeds nor fails, and
 * only the connect timeout ends the call (distinct from the total timeout, nothing connected). */
static void test_connect_timeout(void **state)
{
    struct fixture *f = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
    /* fill the queue: connections the server never accepts */
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    usleep(50000);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(sin.sin_port));
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = url;
    req.connect_timeout_ms = 300;
    req.timeout_ms = 8000;
    struct result r = {0};
    long long t0 = ts_now_ms();
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 10000));
    long long ms = ts_now_ms() - t0;
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    if (r.status != GW_HTTPC_ETIMEOUT) /* a stack that refuses instead of dropping the SYN */
        skip();
    assert_false(r.connected);
    assert_true(ms >= 250 && ms < 4000);
    assert_non_null(strcasestr(r.error, "time")); /* "timed out" / libcurl's "Timeout" */
}

static void test_connect_refused(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ts_dead_port());
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = url;
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.status, GW_HTTPC_ECONNECT);
    assert_int_equal(r.http, 0);
    assert_false(r.connected);
    assert_true(strlen(r.error) > 0);
}

static void test_localhost_name_resolves(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://localhost:%d/hello", f->srv->port);
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = url;
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 10000));
    /* localhost may resolve to ::1 first; either way the resolver ran without blocking */
    assert_true(r.status == GW_HTTPC_OK || r.status == GW_HTTPC_ECONNECT);
}

static void test_cancel(void **state)
{
    struct fixture *f = *state;
    struct result r = {0}, other = {0};
    struct gw_httpc_call *call = NULL;
    assert_int_equal(submit(f, "GET", "/slow?ms=300", NULL, &r, &call), GW_OK);
    assert_non_null(call);
    assert_int_equal(submit(f, "GET", "/hello", NULL, &other, NULL), GW_OK);
    assert_int_equal(gw_httpc_pending(f->c), 2);
    ts_run_for(f->base, 20);
    gw_httpc_cancel(call);
    assert_int_equal(gw_httpc_pending(f->c), other.done ? 0 : 1);
    ts_run_for(f->base, 500);
    assert_int_equal(r.done, 0);
    assert_int_equal(other.done, 1);
}

static void test_refused_requests(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    struct gw_error err;
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = "file:///etc/passwd";
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, &err), GW_EINVAL);
    req.url = "ftp://127.0.0.1/x";
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, &err), GW_EINVAL);
    req.url = "gopher://127.0.0.1/x";
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, &err), GW_EINVAL);
    req.url = "http://127.0.0.1/";
    req.method = "TRACE";
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &r, NULL, &err), GW_EINVAL);
    ts_run_for(f->base, 20);
    assert_int_equal(r.done, 0);
    assert_int_equal(gw_httpc_pending(f->c), 0);
}

static void test_no_redirects(void **state)
{
    struct fixture *f = *state;
    struct result r = {0};
    assert_int_equal(submit(f, "GET", "/redirect", NULL, &r, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.status, GW_HTTPC_OK);
    assert_int_equal(r.http, 302);
    assert_int_equal(atomic_load(&f->srv->hits), 1);
}

/* Submitting from inside a completion callback works (the handle is recycled first). */
struct chain {
    struct fixture *f;
    int left;
    int done;
};

static void on_chain(void *arg, struct gw_httpc_response *r)
{
    struct chain *ch = arg;
    assert_int_equal(r->http_status, 200);
    ch->done++;
    if (--ch->left > 0) {
        char url[128];
        struct gw_httpc_request req = {0};
        req.method = "GET";
        req.url = ts_url(ch->f->srv, url, sizeof(url), "/hello");
        assert_int_equal(gw_httpc_submit(ch->f->c, &req, on_chain, ch, NULL, NULL), GW_OK);
    }
}

static void test_submit_from_callback(void **state)
{
    struct fixture *f = *state;
    struct chain ch = {f, 5, 0};
    char url[128];
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = ts_url(f->srv, url, sizeof(url), "/hello");
    assert_int_equal(gw_httpc_submit(f->c, &req, on_chain, &ch, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &ch.done, 5, 5000));
}

/* ---- throughput (printed, not asserted) ---- */

/* ---- at most once: libcurl's own re-send after a reset of a reused connection ---- */

/* One request to the raw server on client c; runs the loop until it completes. */
static void raw_call(struct gw_httpc *c, struct event_base *base, struct raw_server *rs,
                     const char *method, const char *path, bool no_replay, struct result *r)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rs->port, path);
    struct gw_httpc_request req = {0};
    req.method = method;
    req.url = url;
    req.body = "{\"n\":1}";
    req.body_len = 7;
    req.no_replay = no_replay;
    memset(r, 0, sizeof(*r));
    assert_int_equal(gw_httpc_submit(c, &req, on_done, r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(base, &r->done, 1, 10000));
}

struct replay_probe {
    struct result r;
    bool not_resent;
};

static void on_probe(void *arg, struct gw_httpc_response *resp)
{
    struct replay_probe *p = arg;
    p->not_resent = resp->not_resent;
    on_done(&p->r, resp);
}

static void test_no_replay_after_reset(void **state)
{
    struct fixture *f = *state;
    struct raw_server *rs = raw_start();
    struct result r;
    /* without no_replay libcurl sends the POST again on a new connection: the server reads it
     * twice (this is the behaviour the option exists for; if libcurl ever stops doing it, this
     * line says so) */
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    assert_int_equal(r.http, 200);
    int posts = atomic_load(&rs->posts);
    raw_call(f->c, f->base, rs, "POST", "/reset", false, &r);
    assert_int_equal(atomic_load(&rs->posts) - posts, 2);
    assert_int_equal(r.status, GW_HTTPC_ECONNECT);

    /* with no_replay: exactly one send, and the response says why it failed */
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    posts = atomic_load(&rs->posts);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/reset", rs->port);
    struct gw_httpc_request req = {0};
    req.method = "POST";
    req.url = url;
    req.body = "{}";
    req.body_len = 2;
    req.no_replay = true;
    struct replay_probe p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(gw_httpc_submit(f->c, &req, on_probe, &p, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &p.r.done, 1, 10000));
    assert_int_equal(atomic_load(&rs->posts) - posts, 1);
    assert_int_equal(p.r.status, GW_HTTPC_ECONNECT);
    assert_true(p.not_resent);
    assert_non_null(strstr(p.r.error, "re-send"));

    /* no_replay requests still use kept-alive connections */
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    int conns = atomic_load(&rs->connections);
    for (int i = 0; i < 3; i++) {
        raw_call(f->c, f->base, rs, "POST", "/ok", true, &r);
        assert_int_equal(r.http, 200);
        assert_true(r.reused);
    }
    assert_int_equal(atomic_load(&rs->connections), conns);
    /* a fresh connection succeeds and the request is sent once: the guard counts per submit */
    raw_call(f->c, f->base, rs, "POST", "/ok", true, &r);
    assert_int_equal(r.http, 200);
    raw_stop(rs);
}

/* A kept-alive connection the server closes while it sits idle in the cache: its socket stays
 * registered with the loop after the call (no epoll_ctl per call), the close is noticed once
 * and the registration dropped (no busy loop on a readable dead socket), and the next call
 * goes out on a new connection. */
static void test_idle_close_of_kept_connection(void **state)
{
    struct fixture *f = *state;
    struct raw_server *rs = raw_start();
    struct result r;
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    assert_true(r.reused);
    int idle_events = event_base_get_num_events(f->base, EVENT_BASE_COUNT_ADDED);
    raw_call(f->c, f->base, rs, "GET", "/close", false, &r);
    assert_int_equal(r.http, 200);
    /* still registered after the call: the parked connection's read interest */
    assert_int_equal(event_base_get_num_events(f->base, EVENT_BASE_COUNT_ADDED), idle_events);
    /* the server's FIN arrives ~20 ms later: one wake-up deregisters the socket */
    struct timeval tv = {0, 200000};
    event_base_loopexit(f->base, &tv);
    event_base_dispatch(f->base);
    assert_int_equal(event_base_get_num_events(f->base, EVENT_BASE_COUNT_ADDED),
                     idle_events - 1);
    int conns = atomic_load(&rs->connections);
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    assert_int_equal(r.http, 200);
    assert_false(r.reused);
    assert_int_equal(atomic_load(&rs->connections), conns + 1);
    /* and the new connection is parked and reused like the first */
    raw_call(f->c, f->base, rs, "GET", "/warm", false, &r);
    assert_true(r.reused);
    raw_stop(rs);
}

static void test_fresh_connect(void **state)
{
    struct fixture *f = *state;
    struct result r1 = {0}, r2 = {0};
    struct gw_httpc_request tmpl = {0};
    tmpl.fresh_connect = true;
    assert_int_equal(submit(f, "GET", "/hello", NULL, &r1, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r1.done, 1, 5000));
    assert_int_equal(submit(f, "GET", "/hello", &tmpl, &r2, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r2.done, 1, 5000));
    assert_int_equal(r2.http, 200);
    assert_false(r2.reused);
}

/* ---- SSRF guard of a client ---- */

static void test_ssrf_guarded_client(void **state)
{
    struct fixture *f = *state;
    struct gw_ssrf_policy *strict = gw_ssrf_policy_new(), *loop = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow_list(loop, "127.0.0.1", NULL), GW_OK);
    struct gw_httpc_options o = {0};
    o.curl_only = g_curl_only;
    o.ssrf = strict;
    struct gw_httpc *g = gw_httpc_new(f->base, &o, NULL);
    o.ssrf = loop;
    struct gw_httpc *a = gw_httpc_new(f->base, &o, NULL);
    assert_non_null(g);
    assert_non_null(a);
    char url[128];
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = ts_url(f->srv, url, sizeof(url), "/hello");
    int hits = atomic_load(&f->srv->hits);
    struct result r = {0};
    assert_int_equal(gw_httpc_submit(g, &req, on_done, &r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.status, GW_HTTPC_EDENIED);
    assert_non_null(strstr(r.error, "loopback"));
    assert_int_equal(atomic_load(&f->srv->hits), hits);
    /* a host name is checked on the address it resolves to */
    snprintf(url, sizeof(url), "http://localhost:%d/hello", f->srv->port);
    req.url = url;
    memset(&r, 0, sizeof(r));
    assert_int_equal(gw_httpc_submit(g, &req, on_done, &r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.status, GW_HTTPC_EDENIED);
    assert_int_equal(atomic_load(&f->srv->hits), hits);
    /* allowlisted */
    req.url = ts_url(f->srv, url, sizeof(url), "/hello");
    memset(&r, 0, sizeof(r));
    assert_int_equal(gw_httpc_submit(a, &req, on_done, &r, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.http, 200);
    assert_int_equal(atomic_load(&f->srv->hits), hits + 1);
    gw_httpc_free(g);
    gw_httpc_free(a);
    gw_ssrf_policy_free(strict);
    gw_ssrf_policy_free(loop);
}

struct bench {
    struct fixture *f;
    int done, inflight, submitted, total;
    char url[128];
    const char *method;
    bool no_replay, fresh;
};

static void bench_submit(struct bench *b);

static void on_bench(void *arg, struct gw_httpc_response *r)
{
    struct bench *b = arg;
    if (r->http_status != 200)
        fail_msg("bench request failed: %s", r->error);
    b->done++;
    b->inflight--;
    bench_submit(b);
}

static void bench_submit(struct bench *b)
{
    struct gw_httpc_request req = {0};
    req.method = b->method;
    req.url = b->url;
    if (strcmp(b->method, "POST") == 0) {
        req.body = "{\"name\":\"bench\",\"n\":42}";
        req.body_len = strlen(req.body);
    }
    req.no_replay = b->no_replay;
    req.fresh_connect = b->fresh;
    if (b->submitted < b->total) {
        b->submitted++;
        b->inflight++;
        assert_int_equal(gw_httpc_submit(b->f->c, &req, on_bench, b, NULL, NULL), GW_OK);
    }
}

static void run_bench(struct fixture *f, int total, int parallel, const char *method,
                      bool no_replay, bool fresh)
{
    struct bench b = {.f = f, .total = total, .method = method, .no_replay = no_replay,
                      .fresh = fresh};
    ts_url(f->srv, b.url, sizeof(b.url), strcmp(method, "POST") == 0 ? "/echo" : "/hello");
    long long t0 = ts_now_ms();
    for (int i = 0; i < parallel; i++)
        bench_submit(&b);
    assert_true(ts_run_until(f->base, &b.done, total, 30000));
    long long ms = ts_now_ms() - t0;
    printf("# httpc bench: %s%s%s %d requests, %d in flight: %lld ms, %.0f req/s\n", method,
           no_replay ? " no_replay" : "", fresh ? " fresh_connect" : "", total, parallel, ms,
           ms > 0 ? total * 1000.0 / (double)ms : 0.0);
}

/* ---- streaming (on_data) ---- */

struct sink {
    size_t bytes;
    int calls;
    int stop_after; /* 0 = never stop */
    char first[16];
};

static bool on_data(void *arg, const char *data, size_t len)
{
    struct sink *k = arg;
    if (k->calls == 0)
        snprintf(k->first, sizeof(k->first), "%.*s", (int)(len < 8 ? len : 8), data);
    k->calls++;
    k->bytes += len;
    return !(k->stop_after && k->calls >= k->stop_after);
}

static void test_streaming(void **state)
{
    struct fixture *f = *state;
    /* a 2xx body goes to on_data, piece by piece, and is not collected */
    struct sink k = {0};
    struct gw_httpc_request t = {0};
    t.on_data = on_data;
    t.data_arg = &k;
    struct result r = {0};
    assert_int_equal(submit(f, "GET", "/chunked?n=40000", &t, &r, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r.done, 1, 5000));
    assert_int_equal(r.status, GW_HTTPC_OK);
    assert_int_equal(r.http, 200);
    assert_int_equal(r.body_len, 0);
    assert_int_equal(k.bytes, 40960); /* 10 pieces of 4096 */
    assert_true(k.calls >= 1);
    assert_string_equal(k.first, "yyyyyyyy");

    /* an error status is collected for the completion, on_data never sees it */
    struct sink k2 = {0};
    t.data_arg = &k2;
    struct result r2 = {0};
    assert_int_equal(submit(f, "GET", "/nothing-here", &t, &r2, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r2.done, 1, 5000));
    assert_int_equal(r2.status, GW_HTTPC_OK);
    assert_int_equal(r2.http, 404);
    assert_string_equal(r2.body, "{\"error\":\"not found\"}");
    assert_int_equal(k2.calls, 0);

    /* the receiver stops the stream: EPROTO, stopped, the status of what was received kept */
    struct sink k3 = {0};
    k3.stop_after = 1;
    t.data_arg = &k3;
    struct result r3 = {0};
    assert_int_equal(submit(f, "GET", "/chunked?n=400000", &t, &r3, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r3.done, 1, 5000));
    assert_int_equal(r3.status, GW_HTTPC_EPROTO);
    assert_int_equal(r3.http, 200);
    assert_non_null(strstr(r3.error, "stopped by its receiver"));
    assert_int_equal(k3.calls, 1);

    /* the response cap applies to what is streamed */
    struct sink k4 = {0};
    t.data_arg = &k4;
    t.max_response_bytes = 10000;
    struct result r4 = {0};
    assert_int_equal(submit(f, "GET", "/chunked?n=400000", &t, &r4, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &r4.done, 1, 5000));
    assert_int_equal(r4.status, GW_HTTPC_ETOOLARGE);
    assert_true(k4.bytes <= 10000);
    assert_int_equal(gw_httpc_pending(f->c), 0);
}

static void test_bench(void **state)
{
    struct fixture *f = *state;
    run_bench(f, 2000, 1, "GET", false, false);
    run_bench(f, 5000, 32, "GET", false, false);
    /* writes: plain keep-alive (what libcurl may silently re-send), no_replay (the executor's
     * choice for POST/PATCH without an idempotency key) and a new connection per request (the
     * alternative that was not taken) */
    for (int par = 1; par <= 32; par += 31) {
        int n = par == 1 ? 2000 : 5000;
        run_bench(f, n, par, "POST", false, false);
        run_bench(f, n, par, "POST", true, false);
        run_bench(f, n, par, "POST", false, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_body_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_does_not_stall_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_localhost_name_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_replay_after_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_close_of_kept_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ssrf_guarded_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streaming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("native engine for plain requests", tests, NULL,
                                             NULL);
    g_curl_only = true;
    failed += cmocka_run_group_tests_name("libcurl only", tests, NULL, NULL);
    return failed;
}
