/*
 * tests/unit/httpc/test_httpc_tls.c
 * gw_httpc over TLS against local evhttp servers with certificates made at run time: the
 * server is verified by default (unknown CA refused, the right CA file accepted, host name
 * checked), verification can only be switched off explicitly, and mutual TLS works with a
 * client certificate and key (and fails without one). Connections are reused over TLS too, and
 * a new connection resumes the server's TLS session. Every test runs on the native engine and
 * on libcurl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "httpc/httpc_client.h"
#include "httpc_test_server.h"
#include "httpc_test_tls.h"

#include <event2/event.h>
#include <string.h>

static void handler(struct ts_server *s, struct evhttp_request *req, void *ud)
{
    (void)s;
    (void)ud;
    ts_reply(req, 200, "application/json", "{\"tls\":true}", -1);
}

struct result {
    int done;
    enum gw_httpc_status status;
    long http;
    bool reused;
    char error[256];
};

static void on_done(void *arg, struct gw_httpc_response *r)
{
    struct result *res = arg;
    res->done++;
    res->status = r->status;
    res->http = r->http_status;
    res->reused = r->reused_connection;
    snprintf(res->error, sizeof(res->error), "%s", r->error);
}

static struct tls_files T;
static SSL_CTX *TLS_CTX, *MTLS_CTX;
static struct ts_server *TLS_SRV, *MTLS_SRV;
static struct event_base *BASE;
static struct gw_httpc *C;
/* the tests run twice: https to an IP literal on the native engine, then on libcurl */
static bool CURL_ONLY;

static int setup(void **state)
{
    (void)state;
    tls_make(&T);
    TLS_CTX = tls_server_ctx(&T, false);
    MTLS_CTX = tls_server_ctx(&T, true);
    TLS_SRV = ts_start_tls(handler, NULL, TLS_CTX);
    MTLS_SRV = ts_start_tls(handler, NULL, MTLS_CTX);
    BASE = event_base_new();
    struct gw_httpc_options o = {0};
    o.curl_only = CURL_ONLY;
    C = gw_httpc_new(BASE, &o, NULL);
    return C ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_httpc_free(C);
    event_base_free(BASE);
    ts_stop(TLS_SRV);
    ts_stop(MTLS_SRV);
    SSL_CTX_free(TLS_CTX);
    SSL_CTX_free(MTLS_CTX);
    tls_remove(&T);
    return 0;
}

static struct result get(const char *host, int port, struct gw_httpc_request *tmpl)
{
    char url[128];
    snprintf(url, sizeof(url), "https://%s:%d/x", host, port);
    struct gw_httpc_request req = *tmpl;
    req.method = "GET";
    req.url = url;
    req.timeout_ms = 5000;
    struct result r;
    memset(&r, 0, sizeof(r));
    struct gw_error err;
    assert_int_equal(gw_httpc_submit(C, &req, on_done, &r, NULL, &err), GW_OK);
    assert_true(ts_run_until(BASE, &r.done, 1, 10000));
    return r;
}

static void test_server_verification(void **state)
{
    (void)state;
    struct gw_httpc_request t;
    memset(&t, 0, sizeof(t));
    /* default: the system store does not know our CA */
    struct result r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_ETLS);
    assert_int_equal(r.http, 0);
    /* a CA file that did not sign the server */
    t.ca_file = T.other_ca;
    r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_ETLS);
    /* the right CA */
    t.ca_file = T.ca;
    r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_OK);
    assert_int_equal(r.http, 200);
    r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_true(r.reused);
    /* explicit opt-out only */
    memset(&t, 0, sizeof(t));
    t.insecure_skip_verify = true;
    r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_OK);
    /* which engine carried https to an IP literal */
    unsigned long long native = 0, curl = 0;
    gw_httpc_engine_calls(C, &native, &curl);
    assert_true(CURL_ONLY ? native == 0 && curl > 0 : curl == 0 && native > 0);
}

static void test_mutual_tls(void **state)
{
    (void)state;
    struct gw_httpc_request t;
    memset(&t, 0, sizeof(t));
    t.ca_file = T.ca;
    /* no client certificate: the server refuses (during or right after the handshake) */
    struct result r = get("127.0.0.1", MTLS_SRV->port, &t);
    /* ETLS when the TLS 1.3 alert is read, ECONNECT when the server closed first */
    assert_true(r.status == GW_HTTPC_ETLS || r.status == GW_HTTPC_ECONNECT);
    assert_int_equal(r.http, 0);
    /* with the client certificate and key */
    t.client_cert = T.client_cert;
    t.client_key = T.client_key;
    r = get("127.0.0.1", MTLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_OK);
    assert_int_equal(r.http, 200);
    /* a certificate file that does not exist is a TLS/config error, not a hang (a different
     * certificate also means the kept-alive mTLS connection is not reused) */
    t.client_cert = "/nonexistent/cert.pem";
    r = get("127.0.0.1", MTLS_SRV->port, &t);
    assert_int_not_equal(r.status, GW_HTTPC_OK);
}

/* A new connection to a server the client has talked to resumes its TLS session (the server
 * counts the resumed handshakes), as libcurl's shared session cache does. */
static void test_session_resumption(void **state)
{
    (void)state;
    struct gw_httpc_request t;
    memset(&t, 0, sizeof(t));
    t.ca_file = T.ca;
    t.fresh_connect = true; /* a new connection each time */
    struct result r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_OK);
    long hits = SSL_CTX_sess_hits(TLS_CTX);
    r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_OK);
    assert_false(r.reused);
    r = get("127.0.0.1", TLS_SRV->port, &t);
    assert_int_equal(r.status, GW_HTTPC_OK);
    if (SSL_CTX_sess_hits(TLS_CTX) < hits + 2) {
        fprintf(stderr, "resumed handshakes: %ld -> %ld\n", hits, SSL_CTX_sess_hits(TLS_CTX));
        fail();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_verification),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_session_resumption),
    };
    int failed = cmocka_run_group_tests_name("native engine", tests, setup, teardown);
    CURL_ONLY = true;
    failed += cmocka_run_group_tests_name("libcurl", tests, setup, teardown);
    return failed;
}
