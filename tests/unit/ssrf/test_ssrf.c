/*
 * tests/unit/ssrf/test_ssrf.c
 * The SSRF guard: address classes, allowlist parsing, URL pre-checks, and gw_ssrf_fetch
 * against a real HTTP server on 127.0.0.1 (libevent evhttp in a thread): loopback refused by
 * default and allowed when allowlisted (by address or by host), refusal on the resolved
 * address (localhost, decimal IPv4, a pinned "public" name), redirects re-checked per hop
 * (private, metadata, other schemes, loops), size limits with and without Content-Length,
 * timeouts and non-2xx statuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ssrf/ssrf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---------------- address classes ---------------- */

static void expect_class(const char *ip, enum gw_ssrf_class want)
{
    enum gw_ssrf_class got;
    assert_int_equal(gw_ssrf_classify_text(ip, &got), GW_OK);
    if (got != want)
        fail_msg("%s: got %s, want %s", ip, gw_ssrf_class_name(got), gw_ssrf_class_name(want));
}

static void test_classify(void **state)
{
    (void)state;
    expect_class("8.8.8.8", GW_SSRF_PUBLIC);
    expect_class("1.1.1.1", GW_SSRF_PUBLIC);
    expect_class("127.0.0.1", GW_SSRF_LOOPBACK);
    expect_class("127.255.1.2", GW_SSRF_LOOPBACK);
    expect_class("10.1.2.3", GW_SSRF_PRIVATE);
    expect_class("172.16.0.1", GW_SSRF_PRIVATE);
    expect_class("172.31.255.255", GW_SSRF_PRIVATE);
    expect_class("172.32.0.1", GW_SSRF_PUBLIC);
    expect_class("192.168.1.1", GW_SSRF_PRIVATE);
    expect_class("169.254.169.254", GW_SSRF_METADATA);
    expect_class("169.254.170.2", GW_SSRF_METADATA);
    expect_class("100.100.100.200", GW_SSRF_METADATA);
    expect_class("169.254.1.1", GW_SSRF_LINK_LOCAL);
    expect_class("100.64.0.1", GW_SSRF_CGNAT);
    expect_class("100.127.255.254", GW_SSRF_CGNAT);
    expect_class("100.128.0.1", GW_SSRF_PUBLIC);
    expect_class("0.0.0.0", GW_SSRF_UNSPECIFIED);
    expect_class("0.1.2.3", GW_SSRF_UNSPECIFIED);
    expect_class("224.0.0.1", GW_SSRF_MULTICAST);
    expect_class("239.255.255.250", GW_SSRF_MULTICAST);
    expect_class("255.255.255.255", GW_SSRF_BROADCAST);
    expect_class("240.0.0.1", GW_SSRF_RESERVED);
    expect_class("192.0.2.1", GW_SSRF_RESERVED);
    expect_class("198.18.0.1", GW_SSRF_RESERVED);
    /* IPv6 */
    expect_class("::1", GW_SSRF_LOOPBACK);
    expect_class("::", GW_SSRF_UNSPECIFIED);
    expect_class("fe80::1", GW_SSRF_LINK_LOCAL);
    expect_class("fc00::1", GW_SSRF_UNIQUE_LOCAL);
    expect_class("fd12:3456::1", GW_SSRF_UNIQUE_LOCAL);
    expect_class("fd00:ec2::254", GW_SSRF_METADATA);
    expect_class("fec0::1", GW_SSRF_PRIVATE);
    expect_class("ff02::1", GW_SSRF_MULTICAST);
    expect_class("2001:db8::1", GW_SSRF_RESERVED);
    expect_class("2001:0:4136:e378::1", GW_SSRF_RESERVED); /* Teredo */
    expect_class("2606:4700:4700::1111", GW_SSRF_PUBLIC);
    /* v4 carried in v6 */
    expect_class("::ffff:127.0.0.1", GW_SSRF_LOOPBACK);
    expect_class("::ffff:169.254.169.254", GW_SSRF_METADATA);
    expect_class("::ffff:8.8.8.8", GW_SSRF_PUBLIC);
    expect_class("::10.0.0.1", GW_SSRF_PRIVATE);
    expect_class("64:ff9b::a00:1", GW_SSRF_PRIVATE);  /* NAT64 of 10.0.0.1 */
    expect_class("64:ff9b::808:808", GW_SSRF_PUBLIC); /* NAT64 of 8.8.8.8 */
    expect_class("2002:7f00:1::1", GW_SSRF_LOOPBACK); /* 6to4 of 127.0.0.1 */
    expect_class("2002:a9fe:a9fe::1", GW_SSRF_METADATA);
    enum gw_ssrf_class c;
    assert_int_equal(gw_ssrf_classify_text("localhost", &c), GW_EINVAL);
    assert_int_equal(gw_ssrf_classify_text("999.1.1.1", &c), GW_EINVAL);
}

static void test_allowlist_parse(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow_list(p,
                                               "apim.internal, *.corp.example 10.0.0.0/8,"
                                               "fd00::/8\n192.168.1.7",
                                               &err),
                     GW_OK);
    assert_int_equal(gw_ssrf_policy_allow(p, "10.0.0.0/33", &err), GW_EINVAL);
    assert_int_equal(gw_ssrf_policy_allow(p, "fd00::/129", &err), GW_EINVAL);
    assert_int_equal(gw_ssrf_policy_allow(p, "http://x", &err), GW_EINVAL);
    assert_int_equal(gw_ssrf_policy_allow(p, "*.", &err), GW_EINVAL);
    assert_int_equal(gw_ssrf_policy_allow(p, "a b", &err), GW_EINVAL);
    assert_int_equal(gw_ssrf_policy_allow(p, "", &err), GW_EINVAL);

    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.9.9.9", &sin.sin_addr);
    assert_int_equal(gw_ssrf_check(p, NULL, (struct sockaddr *)&sin, &err), GW_OK);
    inet_pton(AF_INET, "192.168.1.7", &sin.sin_addr);
    assert_int_equal(gw_ssrf_check(p, NULL, (struct sockaddr *)&sin, &err), GW_OK);
    inet_pton(AF_INET, "192.168.1.8", &sin.sin_addr);
    assert_int_equal(gw_ssrf_check(p, NULL, (struct sockaddr *)&sin, &err), GW_EDENIED);
    assert_non_null(strstr(err.msg, "private"));
    /* host entries trust the name, wildcard only subdomains */
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    assert_int_equal(gw_ssrf_check(p, "APIM.internal.", (struct sockaddr *)&sin, &err), GW_OK);
    assert_int_equal(gw_ssrf_check(p, "x.corp.example", (struct sockaddr *)&sin, &err), GW_OK);
    assert_int_equal(gw_ssrf_check(p, "corp.example", (struct sockaddr *)&sin, &err), GW_EDENIED);
    assert_int_equal(gw_ssrf_check(p, "evilcorp.example", (struct sockaddr *)&sin, &err),
                     GW_EDENIED);
    /* v4-mapped v6 matched against v4 CIDRs */
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:10.1.1.1", &sin6.sin6_addr);
    assert_int_equal(gw_ssrf_check(p, NULL, (struct sockaddr *)&sin6, &err), GW_OK);
    inet_pton(AF_INET6, "fd00::5", &sin6.sin6_addr);
    assert_int_equal(gw_ssrf_check(p, NULL, (struct sockaddr *)&sin6, &err), GW_OK);
    inet_pton(AF_INET6, "fe80::5", &sin6.sin6_addr);
    assert_int_equal(gw_ssrf_check(p, NULL, (struct sockaddr *)&sin6, &err), GW_EDENIED);
    gw_ssrf_policy_free(p);
    gw_ssrf_policy_free(NULL);
}

static void test_check_url(void **state)
{
    (void)state;
    struct gw_error err;
    char host[256];
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_check_url(p, "https://api.example.com/x", host, sizeof(host), &err),
                     GW_OK);
    assert_string_equal(host, "api.example.com");
    assert_int_equal(gw_ssrf_check_url(p, "ftp://example.com/x", NULL, 0, &err), GW_EDENIED);
    assert_int_equal(gw_ssrf_check_url(p, "file:///etc/passwd", NULL, 0, &err), GW_EINVAL);
    assert_int_equal(gw_ssrf_check_url(p, "gopher://example.com/", NULL, 0, &err), GW_EDENIED);
    assert_int_equal(gw_ssrf_check_url(p, "http://127.0.0.1/", NULL, 0, &err), GW_EDENIED);
    assert_int_equal(gw_ssrf_check_url(p, "http://[::1]:8080/", NULL, 0, &err), GW_EDENIED);
    assert_int_equal(gw_ssrf_check_url(p, "http://[::ffff:169.254.169.254]/", NULL, 0, &err),
                     GW_EDENIED);
    assert_non_null(strstr(err.msg, "cloud-metadata"));
    assert_int_equal(gw_ssrf_check_url(p, "not a url", NULL, 0, &err), GW_EINVAL);
    gw_ssrf_policy_set_https_only(p, true);
    assert_int_equal(gw_ssrf_check_url(p, "http://api.example.com/", NULL, 0, &err), GW_EDENIED);
    gw_ssrf_policy_free(p);
}

/* ---------------- a local HTTP server ---------------- */

static struct event_base *srv_base;
static struct evhttp *srv_http;
static pthread_t srv_thread;
static int srv_port;

static void reply_redirect(struct evhttp_request *req, const char *loc)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
    evhttp_send_reply(req, 302, "Found", NULL);
}

static void slow_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_send_reply(arg, 200, "OK", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *body = evbuffer_new();
    char loc[256];
    if (strcmp(uri, "/ok") == 0) {
        evbuffer_add_printf(body, "hello from 127.0.0.1");
        evhttp_send_reply(req, 200, "OK", body);
    } else if (strcmp(uri, "/to-private") == 0) {
        reply_redirect(req, "http://10.255.255.1/internal");
    } else if (strcmp(uri, "/to-metadata") == 0) {
        reply_redirect(req, "http://169.254.169.254/latest/meta-data/");
    } else if (strcmp(uri, "/to-mapped") == 0) {
        reply_redirect(req, "http://[::ffff:a9fe:a9fe]/latest/meta-data/");
    } else if (strcmp(uri, "/to-file") == 0) {
        reply_redirect(req, "file:///etc/passwd");
    } else if (strcmp(uri, "/to-ok") == 0) {
        snprintf(loc, sizeof(loc), "http://localhost:%d/ok", srv_port);
        reply_redirect(req, loc);
    } else if (strcmp(uri, "/loop") == 0) {
        reply_redirect(req, "/loop");
    } else if (strcmp(uri, "/big") == 0) {
        static char chunk[65536];
        memset(chunk, 'x', sizeof(chunk));
        for (int i = 0; i < 64; i++)
            evbuffer_add(body, chunk, sizeof(chunk));
        evhttp_send_reply(req, 200, "OK", body); /* with Content-Length */
    } else if (strcmp(uri, "/big-chunked") == 0) {
        static char chunk[65536];
        memset(chunk, 'y', sizeof(chunk));
        evhttp_send_reply_start(req, 200, "OK");
        for (int i = 0; i < 64; i++) {
            evbuffer_add(body, chunk, sizeof(chunk));
            evhttp_send_reply_chunk(req, body);
        }
        evhttp_send_reply_end(req);
    } else if (strcmp(uri, "/slow") == 0) {
        struct timeval tv = {5, 0};
        event_base_once(srv_base, -1, EV_TIMEOUT, slow_reply, req, &tv);
    } else {
        evhttp_send_reply(req, 404, "Not Found", NULL);
    }
    evbuffer_free(body);
}

static void *srv_main(void *arg)
{
    (void)arg;
    event_base_loop(srv_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int server_up(void **state)
{
    (void)state;
    evthread_use_pthreads();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv_base = event_base_new();
    srv_http = evhttp_new(srv_base);
    evhttp_set_gencb(srv_http, on_request, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv_http, "127.0.0.1", 0);
    if (!bs)
        return -1;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
    srv_port = ntohs(sin.sin_port);
    return pthread_create(&srv_thread, NULL, srv_main, NULL);
}

static int server_down(void **state)
{
    (void)state;
    event_base_loopbreak(srv_base);
    pthread_join(srv_thread, NULL);
    evhttp_free(srv_http);
    event_base_free(srv_base);
    curl_global_cleanup();
    return 0;
}

static int fetch(struct gw_ssrf_policy *p, const char *path, struct gw_buf *out,
                 struct gw_error *err, long *status)
{
    char url[256];
    if (strncmp(path, "http", 4) == 0)
        snprintf(url, sizeof(url), "%s", path);
    else
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv_port, path);
    struct gw_ssrf_response resp;
    int rc = gw_ssrf_fetch(url, p, out, &resp, err);
    if (status)
        *status = resp.status;
    gw_ssrf_response_fini(&resp);
    return rc;
}

static void test_loopback_refused_by_default(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(fetch(p, "/ok", &out, &err, NULL), GW_EDENIED);
    assert_non_null(strstr(err.msg, "loopback"));
    /* a name that resolves to loopback is refused on the connected address */
    char url[128];
    snprintf(url, sizeof(url), "http://localhost:%d/ok", srv_port);
    assert_int_equal(fetch(p, url, &out, &err, NULL), GW_EDENIED);
    /* decimal spelling of 127.0.0.1 */
    snprintf(url, sizeof(url), "http://2130706433:%d/ok", srv_port);
    assert_int_equal(fetch(p, url, &out, &err, NULL), GW_EDENIED);
    /* a public-looking name pinned (as a rebinding DNS would answer) to loopback */
    char pin[128];
    snprintf(pin, sizeof(pin), "api.public-example.com:%d:127.0.0.1", srv_port);
    assert_int_equal(gw_ssrf_policy_add_resolve(p, pin, &err), GW_OK);
    snprintf(url, sizeof(url), "http://api.public-example.com:%d/ok", srv_port);
    assert_int_equal(fetch(p, url, &out, &err, NULL), GW_EDENIED);
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    assert_int_equal(gw_buf_len(&out), 0);
    gw_ssrf_policy_free(p);
    gw_buf_fini(&out);
}

static void test_loopback_allowlisted(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow(p, "127.0.0.1", &err), GW_OK);
    long status = 0;
    assert_int_equal(fetch(p, "/ok", &out, &err, &status), GW_OK);
    assert_int_equal(status, 200);
    assert_string_equal(gw_buf_ptr(&out), "hello from 127.0.0.1");
    /* by host name instead of address */
    struct gw_ssrf_policy *q = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow(q, "localhost", &err), GW_OK);
    char url[128];
    snprintf(url, sizeof(url), "http://localhost:%d/ok", srv_port);
    gw_buf_reset(&out);
    assert_int_equal(fetch(q, url, &out, &err, NULL), GW_OK);
    assert_string_equal(gw_buf_ptr(&out), "hello from 127.0.0.1");
    /* allowlisting a host does not open the address to other names */
    assert_int_equal(fetch(q, "/ok", &out, &err, NULL), GW_EDENIED);
    /* not found is an upstream error with the status */
    assert_int_equal(fetch(p, "/nope", &out, &err, &status), GW_EUPSTREAM);
    assert_int_equal(status, 404);
    gw_ssrf_policy_free(p);
    gw_ssrf_policy_free(q);
    gw_buf_fini(&out);
}

static void test_redirects_rechecked(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow(p, "127.0.0.0/8", &err), GW_OK);
    assert_int_equal(fetch(p, "/to-private", &out, &err, NULL), GW_EDENIED);
    assert_non_null(strstr(err.msg, "private"));
    assert_int_equal(fetch(p, "/to-metadata", &out, &err, NULL), GW_EDENIED);
    assert_non_null(strstr(err.msg, "cloud-metadata"));
    assert_int_equal(fetch(p, "/to-mapped", &out, &err, NULL), GW_EDENIED);
    assert_int_equal(fetch(p, "/to-file", &out, &err, NULL), GW_EINVAL);
    assert_int_equal(gw_buf_len(&out), 0);
    /* an allowed redirect is followed */
    assert_int_equal(fetch(p, "/to-ok", &out, &err, NULL), GW_OK);
    assert_string_equal(gw_buf_ptr(&out), "hello from 127.0.0.1");
    /* loops stop at the limit */
    gw_ssrf_policy_set_limits(p, 3, 1 << 20, 5000);
    assert_int_equal(fetch(p, "/loop", &out, &err, NULL), GW_ELIMIT);
    /* no redirects at all */
    gw_ssrf_policy_set_limits(p, 0, 1 << 20, 5000);
    assert_int_equal(fetch(p, "/to-ok", &out, &err, NULL), GW_ELIMIT);
    gw_ssrf_policy_free(p);
    gw_buf_fini(&out);
}

static void test_size_and_time_limits(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_buf out;
    gw_buf_init(&out, 64 << 20);
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow(p, "127.0.0.1", &err), GW_OK);
    gw_ssrf_policy_set_limits(p, 2, 1 << 20, 5000);
    assert_int_equal(fetch(p, "/big", &out, &err, NULL), GW_ELIMIT);
    assert_true(gw_buf_len(&out) <= (1 << 20));
    gw_buf_reset(&out);
    assert_int_equal(fetch(p, "/big-chunked", &out, &err, NULL), GW_ELIMIT);
    assert_true(gw_buf_len(&out) <= (1 << 20));
    /* the buffer's own maximum also cuts the transfer */
    struct gw_buf small;
    gw_buf_init(&small, 1000);
    gw_ssrf_policy_set_limits(p, 2, 8 << 20, 5000);
    assert_int_equal(fetch(p, "/big-chunked", &small, &err, NULL), GW_ELIMIT);
    gw_buf_fini(&small);
    /* within the limit it passes */
    gw_buf_reset(&out);
    assert_int_equal(fetch(p, "/big", &out, &err, NULL), GW_OK);
    assert_int_equal(gw_buf_len(&out), 64 * 65536);
    /* total timeout */
    gw_ssrf_policy_set_limits(p, 2, 1 << 20, 300);
    assert_int_equal(fetch(p, "/slow", &out, &err, NULL), GW_ETIMEOUT);
    gw_ssrf_policy_free(p);
    gw_buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_allowlist_parse),
        cmocka_unit_test(test_check_url),
        cmocka_unit_test(test_loopback_refused_by_default),
        cmocka_unit_test(test_loopback_allowlisted),
        cmocka_unit_test(test_redirects_rechecked),
        cmocka_unit_test(test_size_and_time_limits),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
