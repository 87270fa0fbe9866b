/*
 * tests/unit/httpc/test_httpc_h1.c
 * The native HTTP/1.1 engine at the wire, against a scripted server (own thread, 127.0.0.1):
 * the exact request bytes it sends (as libcurl would: Host, Accept, Accept-Encoding, default
 * Content-Type, Content-Length, dropped empty headers, no body on GET), gzip and deflate
 * (wrapped and raw) decoding, a compression bomb stopped at the cap, unknown codings refused,
 * interim answers skipped, HEAD answers without a body, framing failures (truncated, malformed,
 * 101, oversized headers, Content-Length over the cap, an empty reply), bodies delimited by the
 * close, when a connection is reused and when not (Connection: close, stray bytes), a silent
 * server timing out, an answer that comes while a large body is still being written, host
 * names, a name whose first address never answers (it gets a share of the connect time), and
 * which requests the engine takes (the rest go to libcurl).
 * test_httpc_client.c runs the client's behaviour tests on both engines.
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

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

/* ---- the scripted server: answers every request with the current script ---- */

struct script {
    struct raw_server *raw;
    int port;
    pthread_mutex_t mu;
    char reply[72 * 1024];
    size_t reply_len;
    bool close_after; /* close the connection after the reply */
    bool silent;      /* read the request, answer nothing */
    bool early;       /* answer as soon as the head is in, then discard the body */
    bool answered;    /* early: the answer went out */
    char last[8192];  /* the last request as received */
    size_t last_len;
    atomic_int reqs;
};

/* The raw server's answer function: every complete request gets the current script. */
static bool script_serve(struct raw_server *rs, struct raw_conn *c)
{
    struct script *s = rs->ud;
    if (s->early) { /* bodies too large for the raw buffer: answer on the head, drop the rest */
        pthread_mutex_lock(&s->mu);
        bool head = !s->answered && memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (head) {
            s->answered = true;
            if (write(c->fd, s->reply, s->reply_len) != (ssize_t)s->reply_len)
                abort();
        }
        pthread_mutex_unlock(&s->mu);
        if (head) /* stop reading a while: the client's socket fills, so it is still writing
                   * when the answer is there (otherwise a fast reader takes the whole body) */
            usleep(300000);
        if (s->answered)
            c->len = 0;
        return true;
    }
    size_t n;
    while ((n = raw_complete(c)) > 0) {
        pthread_mutex_lock(&s->mu);
        s->last_len = n < sizeof(s->last) - 1 ? n : sizeof(s->last) - 1;
        memcpy(s->last, c->buf, s->last_len);
        s->last[s->last_len] = '\0';
        atomic_fetch_add(&s->reqs, 1);
        bool ok = s->silent || write(c->fd, s->reply, s->reply_len) == (ssize_t)s->reply_len;
        bool close_it = s->close_after || !ok;
        pthread_mutex_unlock(&s->mu);
        memmove(c->buf, c->buf + n, c->len - n);
        c->len -= n;
        if (close_it) {
            close(c->fd);
            c->fd = -1;
            c->len = 0;
            return false;
        }
    }
    return true;
}

static struct script *script_start(void)
{
    struct script *s = gw_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->raw = raw_start_with(script_serve, s);
    s->port = s->raw->port;
    return s;
}

static void script_stop(struct script *s)
{
    raw_stop(s->raw);
    pthread_mutex_destroy(&s->mu);
    gw_free(s);
}

/* Sets the reply (bytes, may contain NULs). */
static void script_reply(struct script *s, const void *p, size_t n, bool close_after)
{
    pthread_mutex_lock(&s->mu);
    assert_true(n <= sizeof(s->reply));
    memcpy(s->reply, p, n);
    s->reply_len = n;
    s->close_after = close_after;
    s->silent = false;
    pthread_mutex_unlock(&s->mu);
}

static void script_replys(struct script *s, const char *text, bool close_after)
{
    script_reply(s, text, strlen(text), close_after);
}

/* ---- the client side ---- */

struct fixture {
    struct script *s;
    struct event_base *base;
    struct gw_httpc *c;
};

static int setup(void **state)
{
    struct fixture *f = gw_xcalloc(1, sizeof(*f));
    f->s = script_start();
    f->base = event_base_new();
    f->c = gw_httpc_new(f->base, NULL, NULL);
    if (!f->c)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gw_httpc_free(f->c);
    /* lookups abandoned by the free call back on the next turns; the resolver goes after */
    for (int i = 0; i < 3; i++)
        event_base_loop(f->base, EVLOOP_NONBLOCK);
    event_base_free(f->base);
    script_stop(f->s);
    gw_free(f);
    return 0;
}

struct res {
    int done;
    enum gw_httpc_status status;
    long http;
    char body[4096];
    size_t body_len;
    char error[256];
    char hdr[128];
    bool reused;
    bool connected;
};

static void on_done(void *arg, struct gw_httpc_response *r)
{
    struct res *x = arg;
    x->done++;
    x->status = r->status;
    x->http = r->http_status;
    x->body_len = r->body_len;
    memcpy(x->body, r->body, r->body_len < sizeof(x->body) - 1 ? r->body_len : 0);
    x->body[r->body_len < sizeof(x->body) - 1 ? r->body_len : 0] = '\0';
    snprintf(x->error, sizeof(x->error), "%s", r->error);
    if (!gw_httpc_response_header(r, "X-Final", x->hdr, sizeof(x->hdr)))
        x->hdr[0] = '\0';
    x->reused = r->reused_connection;
    x->connected = r->connected;
}

/* One request; runs the loop until it completes. */
static void call(struct fixture *f, struct gw_httpc_request *req, const char *path,
                 struct res *x)
{
    char url[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->s->port, path);
    req->url = url;
    if (!req->method)
        req->method = "GET";
    memset(x, 0, sizeof(*x));
    assert_int_equal(gw_httpc_submit(f->c, req, on_done, x, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &x->done, 1, 10000));
}

static void get(struct fixture *f, const char *path, struct res *x)
{
    struct gw_httpc_request req = {0};
    call(f, &req, path, x);
}

/* ---- tests ---- */

static void test_request_bytes(void **state)
{
    struct fixture *f = *state;
    script_replys(f->s, "HTTP/1.1 204 No Content\r\n\r\n", false);
    const char *hdrs[] = {"X-A: 1", "X-Empty: ", "Accept: application/json"};
    struct gw_httpc_request req = {0};
    req.method = "POST";
    req.headers = hdrs;
    req.nheaders = 3;
    req.body = "{}";
    req.body_len = 2;
    req.accept_encoding = true;
    struct res x;
    call(f, &req, "/p/1?q=a%20b#frag", &x);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_int_equal(x.http, 204);
    char want[512];
    snprintf(want, sizeof(want),
             "POST /p/1?q=a%%20b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-A: 1\r\n"
             "Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n\r\n{}",
             f->s->port);
    assert_string_equal(f->s->last, want);

    /* GET never carries a body; a bare query gets its "/"; POST without a body says 0 */
    struct gw_httpc_request g = {0};
    g.body = "ignored";
    g.body_len = 7;
    call(f, &g, "?x=1", &x);
    snprintf(want, sizeof(want), "GET /?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n\r\n",
             f->s->port);
    assert_string_equal(f->s->last, want);
    assert_true(x.reused);
    struct gw_httpc_request p = {0};
    p.method = "POST";
    const char *ct[] = {"Content-Type: application/json"};
    p.headers = ct;
    p.nheaders = 1;
    call(f, &p, "", &x);
    snprintf(want, sizeof(want),
             "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
             "Accept: */*\r\nContent-Length: 0\r\n\r\n",
             f->s->port);
    assert_string_equal(f->s->last, want);
    assert_int_equal(atomic_load(&f->s->raw->connections), 1);
}

/* gzip (windowBits 31), zlib-wrapped deflate (15) or raw deflate (-15) of `in`. */
static size_t compress_as(const char *in, size_t n, int window, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

/* The scripted answer: head with a Content-Encoding and the given body. */
static void reply_coded(struct script *s, const char *coding, const unsigned char *b, size_t n)
{
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                      coding, n);
    static char all[72 * 1024];
    assert_true((size_t)hl + n <= sizeof(all));
    memcpy(all, head, (size_t)hl);
    memcpy(all + hl, b, n);
    script_reply(s, all, (size_t)hl + n, false);
}

static void test_content_codings(void **state)
{
    struct fixture *f = *state;
    static const char text[] = "{\"bookings\":[1,2,3],\"note\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
    unsigned char z[512];
    struct gw_httpc_request req = {0};
    req.accept_encoding = true;
    struct res x;
    static const struct {
        const char *coding;
        int window;
    } cases[] = {{"gzip", 31}, {"x-gzip", 31}, {"deflate", 15}, {"deflate", -15}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = compress_as(text, strlen(text), cases[i].window, z, sizeof(z));
        reply_coded(f->s, cases[i].coding, z, n);
        call(f, &req, "/z", &x);
        assert_int_equal(x.status, GW_HTTPC_OK);
        assert_string_equal(x.body, text);
    }
    /* not offered: handed over as it came */
    size_t n = compress_as(text, strlen(text), 31, z, sizeof(z));
    reply_coded(f->s, "gzip", z, n);
    struct gw_httpc_request plain = {0};
    call(f, &plain, "/z", &x);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_int_equal(x.body_len, n);
    /* offered, but a coding nobody asked for */
    reply_coded(f->s, "br", z, n);
    call(f, &req, "/z", &x);
    assert_int_equal(x.status, GW_HTTPC_EPROTO);
    assert_non_null(strstr(x.error, "unsupported content encoding 'br'"));
    /* corrupt gzip */
    z[n / 2] ^= 0x55;
    z[n / 2 + 1] ^= 0x55;
    reply_coded(f->s, "gzip", z, n);
    call(f, &req, "/z", &x);
    assert_int_equal(x.status, GW_HTTPC_EPROTO);
    assert_non_null(strstr(x.error, "cannot decode the gzip body"));
}

static void test_compression_bomb(void **state)
{
    struct fixture *f = *state;
    size_t big = 4u << 20;
    char *zeros = gw_xcalloc(1, big);
    static unsigned char z[64 * 1024];
    size_t n = compress_as(zeros, big, 31, z, sizeof(z));
    gw_free(zeros);
    assert_true(n < 8192); /* 4 MiB of zeros in a few KB */
    reply_coded(f->s, "gzip", z, n);
    struct gw_httpc_request req = {0};
    req.accept_encoding = true;
    req.max_response_bytes = 100000;
    struct res x;
    call(f, &req, "/bomb", &x);
    assert_int_equal(x.status, GW_HTTPC_ETOOLARGE);
    assert_int_equal(x.http, 200);
    assert_non_null(strstr(x.error, "larger than 100000 bytes"));
}

static void test_interim_and_head(void **state)
{
    struct fixture *f = *state;
    script_replys(f->s,
                  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nX-Final: early\r\n\r\n"
                  "HTTP/1.1 201 Created\r\nX-Final: yes\r\nContent-Length: 2\r\n\r\nok",
                  false);
    struct res x;
    get(f, "/interim", &x);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_int_equal(x.http, 201);
    assert_string_equal(x.hdr, "yes");
    assert_string_equal(x.body, "ok");
    /* a HEAD answer announces a body it does not carry; the connection stays usable */
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false);
    struct gw_httpc_request h = {0};
    h.method = "HEAD";
    call(f, &h, "/head", &x);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_int_equal(x.body_len, 0);
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/after-head", &x);
    assert_string_equal(x.body, "ok");
    assert_true(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 1);
}

static void expect_failure(struct fixture *f, const char *reply, bool close_after,
                           enum gw_httpc_status st, const char *msg)
{
    script_replys(f->s, reply, close_after);
    struct gw_httpc_request req = {0};
    req.max_response_bytes = 1000;
    req.timeout_ms = 3000;
    struct res x;
    call(f, &req, "/f", &x);
    assert_int_equal(x.status, st);
    if (msg && !strstr(x.error, msg)) {
        fprintf(stderr, "error '%s' lacks '%s'\n", x.error, msg);
        fail();
    }
}

static void test_framing_failures(void **state)
{
    struct fixture *f = *state;
    expect_failure(f, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..", true,
                   GW_HTTPC_EPROTO, "closed in the middle of the response");
    expect_failure(f, "HELLO THERE\r\n\r\n", true, GW_HTTPC_EPROTO, "malformed response");
    expect_failure(f, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                   true, GW_HTTPC_EPROTO, "malformed response");
    expect_failure(f, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", true,
                   GW_HTTPC_EPROTO, "101");
    expect_failure(f, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", true,
                   GW_HTTPC_ETOOLARGE, "larger than 1000 bytes");
    expect_failure(f, "", true, GW_HTTPC_ECONNECT, "no response");
    static char big[40 * 1024];
    int n = snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Big: ");
    memset(big + n, 'a', 34 * 1024);
    memcpy(big + n + 34 * 1024, "\r\nContent-Length: 0\r\n\r\n", 24);
    expect_failure(f, big, true, GW_HTTPC_EPROTO, "headers over 32 KiB");
    /* a body delimited by the connection's end is a whole answer */
    script_replys(f->s, "HTTP/1.1 200 OK\r\n\r\nuntil the end", true);
    struct res x;
    get(f, "/eof", &x);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_string_equal(x.body, "until the end");
    /* chunked, split anywhere */
    script_replys(f->s,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde"
                  "\r\n0\r\nTrailer: t\r\n\r\n",
                  false);
    get(f, "/chunked", &x);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_string_equal(x.body, "abcde");
}

static void test_connection_reuse(void **state)
{
    struct fixture *f = *state;
    struct res x;
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/a", &x);
    get(f, "/a", &x);
    assert_true(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 1);
    /* Connection: close -> the next call needs a new connection */
    script_replys(f->s, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                  false);
    get(f, "/a", &x);
    assert_true(x.reused);
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/a", &x);
    assert_false(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 2);
    /* stray bytes after the answer: that connection is not reused either */
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSTRAY", false);
    get(f, "/a", &x);
    assert_string_equal(x.body, "ok");
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/a", &x);
    assert_false(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 3);
    /* HTTP/1.0 without keep-alive: closed after */
    script_replys(f->s, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/a", &x);
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/a", &x);
    assert_false(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 4);
}

static void test_silent_server_times_out(void **state)
{
    struct fixture *f = *state;
    pthread_mutex_lock(&f->s->mu);
    f->s->silent = true;
    pthread_mutex_unlock(&f->s->mu);
    struct gw_httpc_request req = {0};
    req.timeout_ms = 300;
    struct res x;
    call(f, &req, "/silent", &x);
    assert_int_equal(x.status, GW_HTTPC_ETIMEOUT);
    assert_true(x.connected);
    assert_int_equal(x.http, 0);
    assert_non_null(strstr(x.error, "timed out after 300 ms"));
    assert_int_equal(gw_httpc_pending(f->c), 0);
}

/* A server that answers before it has read the whole request (a 413 on a large body): the
 * answer is taken while the body is still being written, the rest is not sent, and the
 * connection is not reused. */
static void test_early_answer(void **state)
{
    struct fixture *f = *state;
    script_replys(f->s, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n", false);
    pthread_mutex_lock(&f->s->mu);
    f->s->early = true;
    pthread_mutex_unlock(&f->s->mu);
    size_t big = 32u << 20;
    char *body = gw_xmalloc(big);
    memset(body, 'x', big);
    struct gw_httpc_request req = {0};
    req.method = "POST";
    req.body = body;
    req.body_len = big;
    req.timeout_ms = 5000;
    struct res x;
    call(f, &req, "/upload", &x);
    gw_free(body);
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_int_equal(x.http, 413);
    pthread_mutex_lock(&f->s->mu);
    f->s->early = false;
    pthread_mutex_unlock(&f->s->mu);
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    get(f, "/after", &x);
    assert_string_equal(x.body, "ok");
    assert_false(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 2);
}

/* What goes to libcurl instead: everything the native engine does not carry. */
static void test_engine_choice(void **state)
{
    struct fixture *f = *state;
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    char url[160];
    struct {
        const char *origin; /* scheme and host: the port and path follow */
        bool native;
        bool redirects;
        const char *proxy;
        const char *header;
    } cases[] = {
        {"http://127.0.0.1", true, false, NULL, NULL},
        {"http://[::1]", true, false, NULL, NULL},
        {"HTTP://127.0.0.1", true, false, NULL, NULL},
        {"http://localhost", true, false, NULL, NULL},
        {"http://LocalHost.", false, false, NULL, NULL}, /* a trailing dot: libcurl decides */
        {"http://1.2.3.4.5", false, false, NULL, NULL},  /* neither an address nor a name */
        {"http://0x7f000001", false, false, NULL, NULL}, /* 127.0.0.1 spelled otherwise */
        {"http://0177.0.0.1", false, false, NULL, NULL},
        {"http://a.b.0x1", false, false, NULL, NULL},
        {"http://u:p@127.0.0.1", false, false, NULL, NULL},
        {"http://127.1", false, false, NULL, NULL},
        {"https://127.0.0.1", true, false, NULL, NULL}, /* TLS fails against this server */
        {"https://localhost", true, false, NULL, NULL},
        {"http://127.0.0.1", false, true, NULL, NULL},
        {"http://127.0.0.1", false, false, "http://127.0.0.1:9", NULL},
        {"http://127.0.0.1", false, false, NULL, "X-Empty;"},
        {"http://127.0.0.1", false, false, NULL, "Content-Length: 2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned long long n0, c0, n1, c1;
        gw_httpc_engine_calls(f->c, &n0, &c0);
        snprintf(url, sizeof(url), "%s:%d/x", cases[i].origin, f->s->port);
        struct gw_httpc_request req = {0};
        req.method = "GET";
        req.url = url;
        req.follow_redirects = cases[i].redirects;
        req.proxy = cases[i].proxy;
        req.timeout_ms = 2000;
        const char *h[] = {cases[i].header};
        req.headers = h;
        req.nheaders = cases[i].header ? 1 : 0;
        struct res x = {0};
        assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, NULL, NULL), GW_OK);
        assert_true(ts_run_until(f->base, &x.done, 1, 10000));
        gw_httpc_engine_calls(f->c, &n1, &c1);
        if (n1 - n0 != (cases[i].native ? 1u : 0u)) {
            fprintf(stderr, "case %zu (%s): native %llu curl %llu\n", i, url, n1 - n0, c1 - c0);
            fail();
        }
        assert_int_equal(c1 - c0, cases[i].native ? 0 : 1);
    }
    /* a client with connection limits uses libcurl for everything */
    struct gw_httpc_options o = {0};
    o.max_host_connections = 4;
    struct gw_httpc *lim = gw_httpc_new(f->base, &o, NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", f->s->port);
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = url;
    struct res x = {0};
    assert_int_equal(gw_httpc_submit(lim, &req, on_done, &x, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &x.done, 1, 10000));
    assert_int_equal(x.http, 200);
    unsigned long long n, c;
    gw_httpc_engine_calls(lim, &n, &c);
    assert_int_equal(n, 0);
    assert_int_equal(c, 1);
    gw_httpc_free(lim);
}

/* Host names: looked up on libevent's resolver (the hosts file here), the addresses tried in
 * order (localhost may come as ::1 first, where nothing listens: the next one answers), the
 * connection reused by name; a name that does not resolve fails without any connection. */
static void test_names(void **state)
{
    struct fixture *f = *state;
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    char url[160];
    snprintf(url, sizeof(url), "http://localhost:%d/n", f->s->port);
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = url;
    struct res x = {0};
    for (int i = 0; i < 2; i++) {
        memset(&x, 0, sizeof(x));
        assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, NULL, NULL), GW_OK);
        assert_true(ts_run_until(f->base, &x.done, 1, 10000));
        assert_int_equal(x.status, GW_HTTPC_OK);
        assert_string_equal(x.body, "ok");
    }
    assert_true(x.reused);
    assert_int_equal(atomic_load(&f->s->raw->connections), 1);
    char host[128];
    snprintf(host, sizeof(host), "Host: localhost:%d\r\n", f->s->port);
    assert_non_null(strstr(f->s->last, host));
    /* a name nobody knows: EDNS (or the deadline, where no DNS server answers) */
    req.url = "http://gw-test-nonexistent.invalid:9/x";
    req.timeout_ms = 3000;
    memset(&x, 0, sizeof(x));
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &x.done, 1, 10000));
    assert_true(x.status == GW_HTTPC_EDNS || x.status == GW_HTTPC_ETIMEOUT);
    assert_false(x.connected);
    if (x.status == GW_HTTPC_EDNS)
        assert_non_null(strstr(x.error, "cannot resolve 'gw-test-nonexistent.invalid'"));
    /* a lookup in flight when the call is cancelled, and when the client is freed */
    struct gw_httpc_call *h = NULL;
    req.url = "http://gw-test-cancelled.invalid/x";
    memset(&x, 0, sizeof(x));
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, &h, NULL), GW_OK);
    gw_httpc_cancel(h);
    ts_run_for(f->base, 50);
    assert_int_equal(x.done, 0);
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, NULL, NULL), GW_OK);
    assert_int_equal(gw_httpc_pending(f->c), 1); /* teardown frees the client with it */
}

/* A listener on `ip`:`port` that never answers a connect (its one-place accept queue is full,
 * so the kernel drops further SYNs, as a firewall would): returns the listener; *filler is the
 * connection that fills the queue. */
static int silent_listener(const char *ip, int port, int *filler)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 0), 0);
    *filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)connect(*filler, (struct sockaddr *)&a, sizeof(a));
    struct pollfd p = {*filler, POLLOUT, 0};
    assert_int_equal(poll(&p, 1, 2000), 1); /* it sits in the queue */
    return l;
}

/* A name whose first address never answers: that address gets its share of the connect time
 * (half of it, with two addresses, as libcurl shares it) and the next one answers, instead of
 * the whole connect timeout going to the silent one; with every address silent the call fails
 * at the connect timeout. The names come from a hosts file bind-mounted over /etc/hosts in a
 * private mount namespace of this thread (skipped where that is not allowed); the resolver
 * keeps the file's order. */
static void test_silent_first_address(void **state)
{
    struct fixture *f = *state;
    char hosts[] = "/tmp/gw-test-hosts-XXXXXX";
    int hfd = mkstemp(hosts);
    assert_true(hfd >= 0);
    const char *text = "127.0.0.2 gw-test-two.example\n127.0.0.1 gw-test-two.example\n"
                       "127.0.0.2 gw-test-silent.example\n127.0.0.3 gw-test-silent.example\n"
                       "127.0.0.1 localhost\n";
    assert_int_equal(write(hfd, text, strlen(text)), (ssize_t)strlen(text));
    close(hfd);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) != 0) {
        print_message("skipped: no private mount namespace here (%s)\n", strerror(errno));
        unlink(hosts);
        skip();
    }
    int fill2, fill3;
    int l2 = silent_listener("127.0.0.2", f->s->port, &fill2);
    int l3 = silent_listener("127.0.0.3", f->s->port, &fill3);
    script_replys(f->s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
    char url[160];
    snprintf(url, sizeof(url), "http://gw-test-two.example:%d/n", f->s->port);
    struct gw_httpc_request req = {0};
    req.method = "GET";
    req.url = url;
    req.connect_timeout_ms = 2000;
    req.timeout_ms = 6000;
    struct res x = {0};
    long long t0 = ts_now_ms();
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &x.done, 1, 10000));
    long long took = ts_now_ms() - t0;
    assert_int_equal(x.status, GW_HTTPC_OK);
    assert_string_equal(x.body, "ok");
    if (took < 900 || took > 1800)
        fail_msg("answered after %lld ms: want the silent address's share, ~1000 ms", took);
    /* every address silent: the connect timeout, the first address's share included */
    snprintf(url, sizeof(url), "http://gw-test-silent.example:%d/n", f->s->port);
    memset(&x, 0, sizeof(x));
    t0 = ts_now_ms();
    assert_int_equal(gw_httpc_submit(f->c, &req, on_done, &x, NULL, NULL), GW_OK);
    assert_true(ts_run_until(f->base, &x.done, 1, 10000));
    took = ts_now_ms() - t0;
    assert_int_equal(x.status, GW_HTTPC_ETIMEOUT);
    assert_non_null(strstr(x.error, "connection timed out after 2000 ms"));
    if (took < 1900 || took > 3000)
        fail_msg("failed after %lld ms: want the connect timeout, 2000 ms", took);
    close(fill2);
    close(fill3);
    close(l2);
    close(l3);
    (void)umount2("/etc/hosts", MNT_DETACH);
    unlink(hosts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_codings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compression_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interim_and_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framing_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_server_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_first_address, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
