/*
 * tests/unit/upstream/test_upstream_guard.c
 * Two safety rules of the executor, end to end against local servers:
 *  - a write that may not be retried (POST/PATCH without an idempotency key) reaches the
 *    upstream at most once, even when libcurl would re-send it transparently because a reused
 *    keep-alive connection was reset after the server read the request (the raw server in
 *    tests/unit/httpc/httpc_test_raw.h counts requests and resets on "/reset");
 *  - tool URLs are SSRF-guarded: a tool whose server comes from its spec (binding.servers,
 *    dynamic upstreams) may only reach public addresses or GW_UPSTREAM_ALLOWLIST entries; an
 *    upstream configured with a base URL in the upstreams file is trusted for that base URL,
 *    and its kept-alive connections are never lent to guarded calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../httpc/httpc_test_raw.h"
#include "../httpc/httpc_test_server.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "upstream/upstream_exec.h"
#include "upstream/upstream_settings.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct raw_server *RAW;
static struct event_base *BASE;
static char DIR_PATH[256];
static char CONF_PATH[400];

/* One executor over its own shared state, loaded from the test's upstreams file and an
 * optional GW_UPSTREAM_ALLOWLIST. */
struct env {
    struct gw_settings *s;
    struct gw_upstreams *u;
    struct gw_exec *ex;
};
static struct env STRICT;  /* no allowlist */
static struct env ALLOWED; /* GW_UPSTREAM_ALLOWLIST=127.0.0.1 */

static int env_open(struct env *e, const char *allowlist, struct gw_error *err)
{
    e->s = gw_settings_new();
    gw_settings_register(e->s, gw_upstream_settings);
    if (gw_settings_override(e->s, "GW_UPSTREAMS_FILE", CONF_PATH, err) != GW_OK)
        return -1;
    if (allowlist && gw_settings_override(e->s, "GW_UPSTREAM_ALLOWLIST", allowlist, err) != GW_OK)
        return -1;
    if (gw_settings_load(e->s, NULL, err) != GW_OK)
        return -1;
    e->u = gw_upstreams_load(e->s, err);
    if (!e->u)
        return -1;
    e->ex = gw_exec_new(BASE, e->u, err);
    return e->ex ? 0 : -1;
}

static void env_close(struct env *e)
{
    gw_exec_free(e->ex);
    gw_upstreams_free(e->u);
    gw_settings_free(e->s);
    memset(e, 0, sizeof(*e));
}

static int group_setup(void **state)
{
    (void)state;
    gw_log_configure(GW_LOG_WARN, true, 2);
    RAW = raw_start();
    BASE = event_base_new();
    snprintf(DIR_PATH, sizeof(DIR_PATH), "/tmp/gw-upstream-guard-XXXXXX");
    if (!mkdtemp(DIR_PATH))
        return -1;
    snprintf(CONF_PATH, sizeof(CONF_PATH), "%s/upstreams.json", DIR_PATH);
    FILE *f = fopen(CONF_PATH, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\"defaults\":{\"retries\":{\"maxAttempts\":3,\"baseDelayMs\":5,\"maxDelayMs\":20},"
            "\"breaker\":{\"failureThreshold\":0,\"failureRatioPercent\":0}},"
            "\"upstreams\":{\"raw\":{\"baseUrl\":\"http://127.0.0.1:%d\"},"
            "\"nobase\":{\"baseUrls\":{\"production\":\"https://apim.example\"}}}}",
            RAW->port);
    fclose(f);
    struct gw_error err;
    gw_error_clear(&err);
    if (env_open(&STRICT, NULL, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    /* a failure here is reported by the test that needs it */
    if (env_open(&ALLOWED, "127.0.0.1", &err) != 0)
        fprintf(stderr, "setup (allowlist): %s\n", err.msg);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    env_close(&STRICT);
    env_close(&ALLOWED);
    event_base_free(BASE);
    raw_stop(RAW);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", DIR_PATH);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", DIR_PATH);
    return 0;
}

/* ---- calling ---- */

struct res {
    int done;
    json_t *result;
    enum gw_exec_outcome outcome;
    unsigned attempts;
};

static void on_done(void *arg, json_t *result, const struct gw_exec_info *info)
{
    struct res *r = arg;
    r->done++;
    r->result = result;
    r->outcome = info->outcome;
    r->attempts = info->attempts;
}

/* Runs one call to completion. `binding` is the JSON text of the tool's binding. */
static void run(struct env *e, const char *binding, const char *key, struct res *r)
{
    char text[2048];
    snprintf(text, sizeof(text), "{\"name\":\"guarded\",\"binding\":%s}", binding);
    json_t *t = json_loads(text, 0, NULL);
    assert_non_null(t);
    memset(r, 0, sizeof(*r));
    struct gw_exec_opts o;
    memset(&o, 0, sizeof(o));
    o.idempotency_key = key;
    assert_int_equal(gw_exec_call(e->ex, t, NULL, &o, on_done, r, NULL), GW_OK);
    json_decref(t);
    assert_true(ts_run_until(BASE, &r->done, 1, 15000));
}

static const char *text0(const struct res *r)
{
    const char *t = json_string_value(
        json_object_get(json_array_get(json_object_get(r->result, "content"), 0), "text"));
    return t ? t : "";
}

static void release(struct res *r)
{
    json_decref(r->result);
    r->result = NULL;
}

/* ---- no transparent replay of writes ---- */

static void test_write_reaches_upstream_once_after_reset(void **state)
{
    (void)state;
    struct res r;
    /* a kept-alive connection to the upstream exists */
    run(&STRICT, "{\"method\":\"GET\",\"path\":\"/warm\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);
    /* writes still reuse it (no new connection per POST: the fix costs nothing here) */
    int conns = atomic_load(&RAW->connections);
    for (int i = 0; i < 3; i++) {
        run(&STRICT, "{\"method\":\"POST\",\"path\":\"/warm\",\"upstream\":\"raw\",\"args\":[]}",
            NULL, &r);
        assert_int_equal(r.outcome, GW_EXEC_OK);
        release(&r);
    }
    assert_int_equal(atomic_load(&RAW->connections), conns);

    /* the upstream reads the POST on the reused connection, then resets it: libcurl would
     * re-send the request on a fresh connection (a duplicate booking); it must not */
    int posts = atomic_load(&RAW->posts);
    run(&STRICT, "{\"method\":\"POST\",\"path\":\"/reset\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    assert_int_equal(atomic_load(&RAW->posts) - posts, 1);
    assert_int_equal(r.outcome, GW_EXEC_CONNECT_ERROR);
    assert_int_equal(r.attempts, 1);
    assert_true(json_is_true(json_object_get(r.result, "isError")));
    assert_non_null(strstr(text0(&r), "may have been processed"));
    assert_non_null(strstr(text0(&r), "idempotency key"));
    release(&r);

    /* PATCH is not idempotent either */
    run(&STRICT, "{\"method\":\"GET\",\"path\":\"/warm\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    release(&r);
    int reqs = atomic_load(&RAW->requests);
    run(&STRICT, "{\"method\":\"PATCH\",\"path\":\"/reset\",\"upstream\":\"raw\",\"args\":[]}",
        NULL, &r);
    assert_int_equal(atomic_load(&RAW->requests) - reqs, 1);
    assert_int_equal(r.outcome, GW_EXEC_CONNECT_ERROR);
    release(&r);

    /* with an idempotency key the write may be repeated: the executor retries (3 attempts) */
    run(&STRICT, "{\"method\":\"GET\",\"path\":\"/warm\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    release(&r);
    posts = atomic_load(&RAW->posts);
    run(&STRICT, "{\"method\":\"POST\",\"path\":\"/reset\",\"upstream\":\"raw\",\"args\":[]}",
        "booking-key-1", &r);
    assert_int_equal(r.attempts, 3);
    assert_true(atomic_load(&RAW->posts) - posts >= 3);
    assert_null(strstr(text0(&r), "may have been processed"));
    release(&r);

    /* GET keeps libcurl's transparent re-send and the executor's retries */
    run(&STRICT, "{\"method\":\"GET\",\"path\":\"/warm\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    release(&r);
    reqs = atomic_load(&RAW->requests);
    run(&STRICT, "{\"method\":\"GET\",\"path\":\"/reset\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    assert_int_equal(r.outcome, GW_EXEC_CONNECT_ERROR);
    assert_int_equal(r.attempts, 3);
    assert_true(atomic_load(&RAW->requests) - reqs >= 3);
    release(&r);
}

/* ---- SSRF guard on tool URLs ---- */

/* Bindings whose server is the raw server's loopback origin, taken from the spec: no upstream
 * name (0), a configured upstream without a base URL for this environment (1), a name the
 * upstreams file does not know, through "localhost" (2). */
static void dynamic_binding(int i, char *b, size_t n)
{
    if (i == 0)
        snprintf(b, n,
                 "{\"method\":\"GET\",\"path\":\"/warm\",\"servers\":[\"http://127.0.0.1:%d\"],"
                 "\"args\":[]}",
                 RAW->port);
    else if (i == 1)
        snprintf(b, n,
                 "{\"method\":\"POST\",\"path\":\"/warm\",\"upstream\":\"nobase\","
                 "\"servers\":[\"http://127.0.0.1:%d/api\"],\"args\":[]}",
                 RAW->port);
    else
        snprintf(b, n,
                 "{\"method\":\"GET\",\"path\":\"/warm\",\"upstream\":\"not-in-the-file\","
                 "\"servers\":[\"http://localhost:%d\"],\"args\":[]}",
                 RAW->port);
}

static void test_ssrf_guard_on_tool_urls(void **state)
{
    (void)state;
    struct res r;
    char b[512];
    /* the configured upstream (base URL in the upstreams file) is trusted: its connection to
     * 127.0.0.1:port is now in the executor's cache */
    run(&STRICT, "{\"method\":\"GET\",\"path\":\"/warm\",\"upstream\":\"raw\",\"args\":[]}", NULL,
        &r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);

    /* a spec server on the same loopback origin, not configured: refused, and the server sees
     * neither a request nor a connection (the trusted connection is not lent to it) */
    for (int i = 0; i < 3; i++) {
        int reqs = atomic_load(&RAW->requests), conns = atomic_load(&RAW->connections);
        dynamic_binding(i, b, sizeof(b));
        run(&STRICT, b, NULL, &r);
        assert_true(json_is_true(json_object_get(r.result, "isError")));
        assert_non_null(strstr(text0(&r), "loopback"));
        assert_non_null(strstr(text0(&r), "GW_UPSTREAM_ALLOWLIST"));
        assert_int_equal(atomic_load(&RAW->requests), reqs);
        assert_int_equal(atomic_load(&RAW->connections), conns);
        release(&r);
    }
    /* cloud metadata and private networks: refused before any packet is sent */
    const char *internal[][2] = {{"http://169.254.169.254", "metadata"},
                                 {"http://10.1.2.3:8080", "private"},
                                 {"http://[::1]:9", "loopback"},
                                 {"http://0x7f000001:9", "loopback"}};
    for (size_t i = 0; i < sizeof(internal) / sizeof(*internal); i++) {
        snprintf(b, sizeof(b),
                 "{\"method\":\"GET\",\"path\":\"/latest/meta-data/\",\"servers\":[\"%s\"],"
                 "\"args\":[]}",
                 internal[i][0]);
        run(&STRICT, b, NULL, &r);
        assert_true(json_is_true(json_object_get(r.result, "isError")));
        if (!strstr(text0(&r), internal[i][1]))
            fail_msg("%s: %s", internal[i][0], text0(&r));
        assert_int_equal(r.attempts, 1); /* refused is final: never retried */
        release(&r);
    }

    /* allowlisted (GW_UPSTREAM_ALLOWLIST=127.0.0.1): the same spec server works */
    assert_non_null(ALLOWED.ex);
    int reqs = atomic_load(&RAW->requests);
    dynamic_binding(0, b, sizeof(b));
    run(&ALLOWED, b, NULL, &r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    assert_int_equal(atomic_load(&RAW->requests), reqs + 1);
    release(&r);
    /* ... but the allowlist names an address, not a host name: localhost resolves to ::1 too,
     * and 127.0.0.1 is allowed whichever way it was reached */
    dynamic_binding(2, b, sizeof(b));
    run(&ALLOWED, b, NULL, &r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);
    /* other loopback addresses stay refused */
    run(&ALLOWED,
        "{\"method\":\"GET\",\"path\":\"/x\",\"servers\":[\"http://127.0.0.2:9\"],\"args\":[]}",
        NULL, &r);
    assert_non_null(strstr(text0(&r), "loopback"));
    release(&r);
}

static void test_allowlist_setting_is_validated(void **state)
{
    (void)state;
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_upstream_settings);
    struct gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_settings_override(s, "GW_UPSTREAM_ALLOWLIST", "10.0.0.0/8, apim.internal,"
                                                                      " http://bad/", &err),
                     GW_OK);
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    struct gw_upstreams *u = gw_upstreams_load(s, &err);
    assert_null(u);
    assert_non_null(strstr(err.msg, "GW_UPSTREAM_ALLOWLIST"));
    assert_non_null(strstr(err.msg, "http://bad/"));
    gw_settings_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_reaches_upstream_once_after_reset),
        cmocka_unit_test(test_ssrf_guard_on_tool_urls),
        cmocka_unit_test(test_allowlist_setting_is_validated),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
