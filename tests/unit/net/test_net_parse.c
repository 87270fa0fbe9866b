/*
 * tests/unit/net/test_net_parse.c
 * Request framing (net/net_parse.h) without sockets: every smuggling primitive of the issue and
 * the RFC 9112 rules are refused with the right status (conflicting or signed Content-Length,
 * Transfer-Encoding with whitespace before the colon, with Content-Length, not exactly
 * "chunked", obs-fold, bare LF, missing or repeated Host, unknown method, bad version, limits),
 * valid requests are parsed the same whether they arrive whole or byte by byte, chunked bodies
 * are decoded, pipelined requests are separated, trailers are not taken as headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/err.h"
#include "net/net_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct gw_http_limits LIM = {
    .max_head = 1024, .max_url = 256, .max_body = 64, .max_headers = 8};

struct result {
    int status; /* 0: accepted */
    struct gw_http_head head;
    char body[256];
    size_t body_len;
    size_t consumed; /* head + body bytes of the first request */
};

/* Feeds `req` (length n) in pieces of `step` bytes, as a connection would: the unconsumed head
 * stays at the start of the buffer and grows. */
static void run(const char *req, size_t n, size_t step, struct gw_arena *a, struct result *out)
{
    memset(out, 0, sizeof(*out));
    struct gw_http_parser p;
    gw_http_parser_init(&p, &LIM);
    size_t have = 0, off = 0;
    int rc = GW_AGAIN;
    while (rc == GW_AGAIN && have < n) {
        have = have + step < n ? have + step : n;
        rc = gw_http_parser_head(&p, req, have, a, &out->head);
    }
    if (rc == GW_AGAIN) {
        out->status = -1; /* incomplete */
        gw_http_parser_fini(&p);
        return;
    }
    if (rc < 0) {
        out->status = gw_http_parser_status(&p);
        assert_non_null(gw_http_parser_reason(&p));
        gw_http_parser_fini(&p);
        return;
    }
    off = (size_t)rc;
    while (gw_http_parser_state(&p) == GW_HP_BODY) {
        size_t used = 0;
        rc = gw_http_parser_body(&p, req + off, have - off, &used);
        off += used;
        if (rc == GW_ERR) {
            out->status = gw_http_parser_status(&p);
            gw_http_parser_fini(&p);
            return;
        }
        if (rc == GW_OK)
            break;
        if (have == n) {
            out->status = -1;
            gw_http_parser_fini(&p);
            return;
        }
        have = have + step < n ? have + step : n;
    }
    size_t bl = 0;
    char *b = gw_http_parser_take_body(&p, &bl);
    assert_true(bl < sizeof(out->body));
    if (b)
        memcpy(out->body, b, bl);
    out->body_len = bl;
    gw_free(b);
    out->consumed = off;
    gw_http_parser_fini(&p);
}

static const char *field(const struct gw_http_head *h, const char *name)
{
    for (unsigned i = 0; i < h->nfields; i++)
        if (strcasecmp(h->fields[i].name, name) == 0)
            return h->fields[i].value;
    return NULL;
}

static int status_of(const char *req, size_t n)
{
    struct gw_arena *a = gw_arena_new(0);
    struct result whole, bytewise;
    run(req, n, n, a, &whole);
    run(req, n, 1, a, &bytewise);
    assert_int_equal(whole.status, bytewise.status);
    gw_arena_free(a);
    return whole.status;
}

#define STATUS(lit) status_of(lit, sizeof(lit) - 1)
#define RUNW(lit, a, r) run(lit, sizeof(lit) - 1, sizeof(lit) - 1, a, r)

static void test_smuggling_refused(void **state)
{
    (void)state;
    /* two Content-Length headers, equal or not: the first would win, the rest a 2nd request */
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                            "Content-Length: 40\r\n\r\nabc"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                            "Content-Length: 3\r\n\r\nabc"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"),
                     400);
    /* whitespace before the colon (a lenient parser ignores the header) */
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n"
                            "Content-Length: 3\r\n\r\nabc"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc"),
                     400);
    /* signed, hexadecimal, empty, overflowing Content-Length */
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +40\r\n\r\nabc"), 400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nabc"), 400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc"), 400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\nabc"), 400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\n"
                            "Content-Length: 99999999999999999999999\r\n\r\nabc"),
                     400);
    /* Transfer-Encoding with Content-Length, or anything but exactly "chunked" */
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
                            "\r\n3\r\nabc\r\n0\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked"
                            "\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b chunked\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
    /* obs-fold, also hiding a framing header */
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"), 400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 3\r\n\r\nabc"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), 400);
    /* bare LF anywhere in the head, bare CR */
    assert_int_equal(STATUS("GET / HTTP/1.1\nHost: a\n\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), 400);
    /* Host: missing on 1.1, repeated */
    assert_int_equal(STATUS("GET / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
    /* chunked framing errors */
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\nabc\n0\n\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
                     400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabcXX0\r\n\r\n"),
                     400);
    /* control bytes, empty names, NUL */
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

static void test_request_line(void **state)
{
    (void)state;
    assert_int_equal(STATUS("HELLO\r\n\r\n"), 400);
    assert_int_equal(STATUS("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    assert_int_equal(STATUS("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    assert_int_equal(STATUS("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    assert_int_equal(STATUS("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
    assert_int_equal(STATUS("GET /\r\n\r\n"), 505); /* HTTP/0.9 */
    assert_int_equal(STATUS("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(STATUS("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n"
                            "Content-Length: 1\r\n\r\nx"),
                     417);
}

static void test_limits(void **state)
{
    (void)state;
    char buf[4096];
    /* a target over max_url: 414, as soon as the request line is too long */
    int n = snprintf(buf, sizeof(buf), "GET /%0300d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    assert_int_equal(status_of(buf, (size_t)n), 414);
    n = snprintf(buf, sizeof(buf), "GET /%0600d", 0); /* no end of line yet */
    assert_int_equal(status_of(buf, (size_t)n), 414);
    /* a head over max_head: 431, even without its end */
    n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nX: %01100d\r\n\r\n", 0);
    assert_int_equal(status_of(buf, (size_t)n), 431);
    n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nX: %01100d", 0);
    assert_int_equal(status_of(buf, (size_t)n), 431);
    /* more fields than max_headers: 431 */
    n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 9; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "X%d: y\r\n", i);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
    assert_int_equal(status_of(buf, (size_t)n), 431);
    /* a body over max_body: 413 from Content-Length at once, or while chunks arrive */
    assert_int_equal(STATUS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65\r\n\r\n"), 413);
    n = snprintf(buf, sizeof(buf),
                 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "28\r\n%040d\r\n28\r\n%040d\r\n0\r\n\r\n",
                 0, 0);
    assert_int_equal(status_of(buf, (size_t)n), 413);
    /* an incomplete head is just incomplete */
    assert_int_equal(STATUS("GET / HTTP/1.1\r\nHost: a\r\n"), -1);
}

static void test_valid_requests(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(0);
    static const char post[] = "\r\nPOST /mcp?x=1 HTTP/1.1\r\nHost: h:1\r\nX-Empty:\r\n"
                               "X-Trail:  v w  \r\nContent-Length: 5\r\n\r\nhello";
    for (size_t step = 1; step <= sizeof(post); step += 7) {
        struct result r;
        run(post, sizeof(post) - 1, step, a, &r);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.head.method, HTTP_POST);
        assert_string_equal(r.head.method_name, "POST");
        assert_string_equal(r.head.target, "/mcp?x=1");
        assert_int_equal(r.head.minor, 1);
        assert_true(r.head.keep_alive);
        assert_string_equal(field(&r.head, "host"), "h:1");
        assert_string_equal(field(&r.head, "X-EMPTY"), "");
        assert_string_equal(field(&r.head, "x-trail"), "v w");
        assert_int_equal(r.body_len, 5);
        assert_memory_equal(r.body, "hello", 5);
        assert_int_equal(r.consumed, sizeof(post) - 1);
    }
    /* chunked, with an extension and a trailer that must not become a header */
    static const char ch[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
                             "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nContent-Length: 9\r\n\r\n";
    struct result r;
    run(ch, sizeof(ch) - 1, 3, a, &r);
    assert_int_equal(r.status, 0);
    assert_true(r.head.chunked);
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "abcde", 5);
    assert_null(field(&r.head, "content-length"));
    /* HTTP/1.0 without Host; keep-alive only when asked; Connection: close honoured */
    RUNW("GET / HTTP/1.0\r\n\r\n", a, &r);
    assert_int_equal(r.status, 0);
    assert_false(r.head.keep_alive);
    RUNW("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", a, &r);
    assert_true(r.head.keep_alive);
    RUNW("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", a, &r);
    assert_int_equal(r.status, 0);
    assert_false(r.head.keep_alive);
    /* an upgrade request is answered but the connection is not kept */
    static const char up[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                             "Upgrade: websocket\r\n\r\n";
    run(up, sizeof(up) - 1, sizeof(up) - 1, a, &r);
    assert_int_equal(r.status, 0);
    assert_false(r.head.keep_alive);
    /* absolute form, OPTIONS *, Expect: 100-continue */
    RUNW("GET http://x/y?z HTTP/1.1\r\nHost: x\r\n\r\n", a, &r);
    assert_string_equal(r.head.target, "http://x/y?z");
    RUNW("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", a, &r);
    assert_string_equal(r.head.target, "*");
    static const char ex[] = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
                             "Content-Length: 2\r\n\r\nok";
    run(ex, sizeof(ex) - 1, sizeof(ex) - 1, a, &r);
    assert_int_equal(r.status, 0);
    assert_true(r.head.expect_continue);
    gw_arena_free(a);
}

static void test_pipelined(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(0);
    static const char two[] = "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /2 "
                              "HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE";
    struct gw_http_parser p;
    gw_http_parser_init(&p, &LIM);
    struct gw_http_head h;
    int rc = gw_http_parser_head(&p, two, sizeof(two) - 1, a, &h);
    assert_true(rc > 0);
    assert_string_equal(h.target, "/1");
    size_t used = 0;
    assert_int_equal(gw_http_parser_body(&p, two + rc, sizeof(two) - 1 - (size_t)rc, &used),
                     GW_OK);
    assert_int_equal(used, 2);
    size_t bl = 0;
    gw_free(gw_http_parser_take_body(&p, &bl));
    assert_int_equal(bl, 2);
    gw_http_parser_next(&p);
    size_t off = (size_t)rc + used;
    rc = gw_http_parser_head(&p, two + off, sizeof(two) - 1 - off, a, &h);
    assert_true(rc > 0);
    assert_string_equal(h.target, "/2");
    assert_int_equal(gw_http_parser_state(&p), GW_HP_DONE);
    gw_http_parser_next(&p);
    off += (size_t)rc;
    assert_string_equal(two + off, "GARBAGE");
    rc = gw_http_parser_head(&p, two + off, sizeof(two) - 1 - off, a, &h);
    assert_int_equal(rc, GW_AGAIN); /* no end of line yet: incomplete, not an error */
    gw_http_parser_fini(&p);
    gw_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smuggling_refused), cmocka_unit_test(test_request_line),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_valid_requests),
        cmocka_unit_test(test_pipelined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
