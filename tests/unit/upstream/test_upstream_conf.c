/*
 * tests/unit/upstream/test_upstream_conf.c
 * The upstreams file and its secrets: strictness (unknown keys, inline secrets, bad values),
 * secret references (env, file, secret directory, optional), messages that name the reference
 * but never a value, production rules (no tls.verify false), environment selection, and mTLS
 * to an upstream end to end (client certificate from the file reaches the TLS handshake).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../httpc/httpc_test_server.h"
#include "../httpc/httpc_test_tls.h"
#include "core/alloc.h"
#include "core/json.h"
#include "upstream/upstream_conf.h"
#include "upstream/upstream_exec.h"
#include "upstream/upstream_settings.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char DIR_PATH[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads `conf` (text) for environment `env`; returns the state or NULL with err filled. */
static struct gw_upstreams *load(const char *conf, const char *env, struct gw_error *err)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/up.json", DIR_PATH);
    write_file(path, conf);
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_upstream_settings);
    char secrets[128];
    snprintf(secrets, sizeof(secrets), "%s/secrets", DIR_PATH);
    gw_settings_override(s, "GW_UPSTREAMS_FILE", path, err);
    gw_settings_override(s, "GW_SECRETS_DIR", secrets, err);
    gw_settings_override(s, "GW_UPSTREAM_ENV", env, err);
    assert_int_equal(gw_settings_load(s, NULL, err), GW_OK);
    gw_error_clear(err);
    struct gw_upstreams *u = gw_upstreams_load(s, err);
    gw_settings_free(s);
    return u;
}

static void expect_error(const char *conf, const char *env, const char *part)
{
    struct gw_error err;
    struct gw_upstreams *u = load(conf, env, &err);
    if (u)
        fail_msg("expected a load error containing '%s'", part);
    if (!strstr(err.msg, part))
        fail_msg("message '%s' lacks '%s'", err.msg, part);
    assert_null(strstr(err.msg, "s3cr3t-value")); /* never a secret value */
}

static int setup(void **state)
{
    (void)state;
    snprintf(DIR_PATH, sizeof(DIR_PATH), "/tmp/gw-upconf-XXXXXX");
    if (!mkdtemp(DIR_PATH))
        return -1;
    char p[128];
    snprintf(p, sizeof(p), "%s/secrets", DIR_PATH);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/secrets/key1", DIR_PATH);
    write_file(p, "s3cr3t-value\r\n");
    snprintf(p, sizeof(p), "%s/secrets/bad", DIR_PATH);
    write_file(p, "line1\nline2");
    setenv("GW_TEST_SECRET", "s3cr3t-value", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", DIR_PATH);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_strict_file(void **state)
{
    (void)state;
    expect_error("{\"upstreams\":{\"a\":{\"baseUrl\":\"http://x\",\"timeoutMS\":5}}}", "mock",
                 "unknown key 'timeoutMS'");
    expect_error("{\"upstream\":{}}", "mock", "unknown key 'upstream'");
    expect_error("{\"upstreams\":{\"a\":{\"baseUrl\":\"ftp://x\"}}}", "mock", "http(s)");
    expect_error("{\"upstreams\":{\"a\":{\"baseUrl\":\"http://x/?k=1\"}}}", "mock", "query");
    expect_error("{\"upstreams\":{\"a\":{\"timeoutMs\":5}}}", "mock", "'timeoutMs' must be");
    expect_error("{\"upstreams\":{\"a\":{\"credentials\":{\"k\":{\"type\":\"apiKey\",\"name\":"
                 "\"x-api-key\",\"value\":\"s3cr3t-value\"}}}}}",
                 "mock", "not an inline value");
    expect_error("{\"upstreams\":{\"a\":{\"credentials\":{\"k\":{\"type\":\"apiKey\",\"name\":"
                 "\"x-api-key\",\"value\":{\"env\":\"GW_TEST_NOT_SET\"}}}}}}",
                 "mock", "environment variable GW_TEST_NOT_SET is not set");
    expect_error("{\"upstreams\":{\"a\":{\"credentials\":{\"k\":{\"type\":\"apiKey\",\"name\":"
                 "\"x-api-key\",\"value\":{\"secret\":\"../etc/passwd\"}}}}}}",
                 "mock", "invalid secret key name");
    expect_error("{\"upstreams\":{\"a\":{\"credentials\":{\"k\":{\"type\":\"apiKey\",\"name\":"
                 "\"x-api-key\",\"value\":{\"secret\":\"bad\"}}}}}}",
                 "mock", "control characters");
    expect_error("{\"upstreams\":{\"a\":{\"credentials\":{\"k\":{\"type\":\"kerberos\"}}}}}",
                 "mock", "unknown type 'kerberos'");
    expect_error("{\"upstreams\":{\"a\":{\"credentials\":{\"o\":{\"type\":\"oauth2\","
                 "\"tokenUrl\":\"file:///x\",\"clientId\":\"c\",\"clientSecret\":{\"env\":"
                 "\"GW_TEST_SECRET\"}}}}}}",
                 "mock", "tokenUrl");
    expect_error("{\"upstreams\":{\"a\":{\"headers\":{\"Host\":{\"env\":\"GW_TEST_SECRET\"}}}}}",
                 "mock", "cannot be configured");
    expect_error("{\"upstreams\":{\"a\":{\"tls\":{\"caFile\":\"/nonexistent/ca.pem\"}}}}", "mock",
                 "not readable");
    expect_error("{\"upstreams\":{\"a\":{\"tls\":{\"verify\":false}}}}", "production",
                 "refused in production");
    expect_error("{\"upstreams\":{\"a\":{\"businessErrors\":{\"rules\":[{\"pointer\":\"x\","
                 "\"equals\":1}]}}}}",
                 "mock", "business-error rule");
}

static void test_secrets_and_environments(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_upstreams *u = load(
        "{\"defaults\":{\"timeoutMs\":1234,\"cacheScope\":\"shared\"},\"upstreams\":{\"a\":{"
        "\"baseUrls\":{\"mock\":\"http://mock.local\",\"production\":\"https://prod.local\"},"
        "\"headers\":{\"X-Sub\":{\"secret\":\"key1\"}},"
        "\"credentials\":{\"k\":{\"type\":\"apiKey\",\"in\":\"query\",\"name\":\"code\","
        "\"value\":{\"env\":\"GW_TEST_SECRET\"}},"
        "\"opt\":{\"type\":\"bearer\",\"token\":{\"env\":\"GW_TEST_NOT_SET\",\"optional\":true}}},"
        "\"retries\":{\"maxAttempts\":1}}}}",
        "production", &err);
    if (!u)
        fail_msg("load: %s", err.msg);
    struct gw_upstream_conf *c = gw_upstreams_conf(u, "a");
    assert_string_equal(c->base_url, "https://prod.local");
    assert_int_equal(c->timeout_ms, 1234);
    assert_false(c->cache_per_caller);
    assert_int_equal(c->max_attempts, 1);
    assert_string_equal(c->headers[0].value, "s3cr3t-value"); /* CR/LF of the file stripped */
    assert_int_equal(c->ncreds, 1);                            /* the optional one is left out */
    assert_true(c->nsecrets >= 1);
    /* an unknown name gets a dynamic conf with the defaults */
    struct gw_upstream_conf *d = gw_upstreams_conf(u, "unknown");
    assert_true(d->dynamic);
    assert_null(d->base_url);
    assert_int_equal(d->timeout_ms, 1234);
    assert_ptr_equal(gw_upstreams_conf(u, "unknown"), d);
    size_t n = 0;
    struct gw_breaker_status st[4];
    gw_upstreams_breakers(u, st, 4, &n);
    assert_int_equal(n, 2);
    gw_upstreams_free(u);
    /* mock picks the other URL */
    u = load("{\"upstreams\":{\"a\":{\"baseUrls\":{\"mock\":\"http://mock.local\"}}}}", "mock",
             &err);
    assert_non_null(u);
    assert_string_equal(gw_upstreams_conf(u, "a")->base_url, "http://mock.local");
    gw_upstreams_free(u);
}

/* mTLS end to end: the client certificate configured for the upstream reaches the handshake. */
struct res {
    int done;
    enum gw_exec_outcome outcome;
    json_t *result;
};

static void on_done(void *arg, json_t *result, const struct gw_exec_info *info)
{
    struct res *r = arg;
    r->done++;
    r->outcome = info->outcome;
    r->result = result;
}

static void ok_handler(struct ts_server *s, struct evhttp_request *req, void *ud)
{
    (void)s;
    (void)ud;
    ts_reply(req, 200, "application/json", "{\"mtls\":\"ok\"}", -1);
}

static void test_mtls_upstream(void **state)
{
    (void)state;
    struct tls_files t;
    tls_make(&t);
    SSL_CTX *ctx = tls_server_ctx(&t, true);
    struct ts_server *srv = ts_start_tls(ok_handler, NULL, ctx);
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "{\"upstreams\":{"
             "\"apim\":{\"baseUrl\":\"https://127.0.0.1:%d\",\"tls\":{\"caFile\":\"%s\","
             "\"clientCert\":\"%s\",\"clientKey\":\"%s\"}},"
             "\"apim-nocert\":{\"baseUrl\":\"https://127.0.0.1:%d\",\"tls\":{\"caFile\":\"%s\"},"
             "\"retries\":{\"maxAttempts\":1}}}}",
             srv->port, t.ca, t.client_cert, t.client_key, srv->port, t.ca);
    struct gw_error err;
    struct gw_upstreams *u = load(conf, "staging", &err);
    if (!u)
        fail_msg("load: %s", err.msg);
    struct event_base *base = event_base_new();
    struct gw_exec *ex = gw_exec_new(base, u, &err);
    assert_non_null(ex);
    const char *tools[] = {"{\"name\":\"m\",\"binding\":{\"method\":\"GET\",\"path\":\"/x\","
                           "\"upstream\":\"apim\",\"args\":[]}}",
                           "{\"name\":\"n\",\"binding\":{\"method\":\"GET\",\"path\":\"/x\","
                           "\"upstream\":\"apim-nocert\",\"args\":[]}}"};
    enum gw_exec_outcome want[] = {GW_EXEC_OK, GW_EXEC_CONNECT_ERROR};
    for (int i = 0; i < 2; i++) {
        json_t *tool = json_loads(tools[i], 0, NULL);
        struct res r = {0, GW_EXEC_OK, NULL};
        assert_int_equal(gw_exec_call(ex, tool, NULL, NULL, on_done, &r, NULL), GW_OK);
        assert_true(ts_run_until(base, &r.done, 1, 10000));
        assert_int_equal(r.outcome, want[i]);
        if (i == 0)
            assert_string_equal(
                gw_json_str(json_object_get(r.result, "structuredContent"), "mtls"), "ok");
        json_decref(r.result);
        json_decref(tool);
    }
    gw_exec_free(ex);
    event_base_free(base);
    gw_upstreams_free(u);
    ts_stop(srv);
    SSL_CTX_free(ctx);
    tls_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict_file),
        cmocka_unit_test(test_secrets_and_environments),
        cmocka_unit_test(test_mtls_upstream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
