/*
 * tests/unit/governance/test_gov_opa.c
 * The pure parts of OPA as the policy decision point (src/governance/gov_opa.c): reading Data
 * API answers (the accepted results, every kind of failure, limits, text clean-up), the input
 * document and its cache key (canonical, without the clock, port-free peer), the decision cache
 * (TTL on an injected clock, bounded with the oldest evicted, off with TTL 0), and the start-up
 * checks of GW_POLICY_ENGINE / GW_OPA_*. The HTTP path is tested end to end by
 * tests/integration/56-opa.test.mjs against the OPA stand-in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/log.h"
#include "governance/gov_internal.h"

#include <stdio.h>
#include <string.h>

static int parse(long status, const char *body, struct gw_opa_decision *d, struct gw_error *err)
{
    memset(err, 0, sizeof(*err));
    return gw_gov__opa_parse(status, body, strlen(body), d, err);
}

static void test_accepted_results(void **state)
{
    (void)state;
    struct gw_opa_decision d;
    struct gw_error err;
    assert_int_equal(parse(200, "{\"result\":true}", &d, &err), GW_OK);
    assert_true(d.allow);
    assert_false(d.confirm);
    assert_int_equal(parse(200, "{\"result\":false,\"decision_id\":\"abc-1\"}", &d, &err), GW_OK);
    assert_false(d.allow);
    assert_string_equal(d.decision_id, "abc-1");
    assert_int_equal(parse(200, "{\"result\":{\"allow\":false,\"reason\":\"not yours\",\"rule\":"
                                "\"dealer-own-dealers\",\"hint\":\"use yours\"}}",
                           &d, &err),
                     GW_OK);
    assert_false(d.allow);
    assert_string_equal(d.reason, "not yours");
    assert_string_equal(d.rule, "dealer-own-dealers");
    assert_string_equal(d.hint, "use yours");
    assert_int_equal(parse(200, "{\"result\":{\"allow\":true,\"confirm\":true,\"rule\":\"c\"},"
                                "\"metrics\":{\"timer_rego_query_eval_ns\":1},\"warning\":{}}",
                           &d, &err),
                     GW_OK);
    assert_true(d.allow);
    assert_true(d.confirm);
    /* null optional members and unknown members are fine */
    assert_int_equal(parse(200, "{\"result\":{\"allow\":true,\"reason\":null,\"confirm\":null,"
                                "\"extra\":[1,2]}}",
                           &d, &err),
                     GW_OK);
    assert_true(d.allow);
    assert_string_equal(d.reason, "");
}

static void expect_failure(long status, const char *body, int rc, const char *words)
{
    struct gw_opa_decision d;
    struct gw_error err;
    memset(&d, 0x55, sizeof(d));
    assert_int_equal(parse(status, body, &d, &err), rc);
    assert_int_equal(err.code, rc);
    if (!strstr(err.msg, words))
        fail_msg("'%s' does not say '%s'", err.msg, words);
    assert_false(d.allow); /* a failure never reads as an allow */
    assert_false(d.confirm);
    assert_string_equal(d.rule, "");
}

static void test_failures(void **state)
{
    (void)state;
    expect_failure(200, "{}", GW_EINVAL, "undefined");
    expect_failure(200, "{\"decision_id\":\"x\"}", GW_EINVAL, "undefined");
    expect_failure(200, "{\"result\":\"allow\"}", GW_EINVAL, "neither a boolean nor an object");
    expect_failure(200, "{\"result\":1}", GW_EINVAL, "neither a boolean nor an object");
    expect_failure(200, "{\"result\":null}", GW_EINVAL, "neither a boolean nor an object");
    expect_failure(200, "{\"result\":[true]}", GW_EINVAL, "neither a boolean nor an object");
    expect_failure(200, "{\"result\":{}}", GW_EINVAL, "no boolean \"allow\"");
    expect_failure(200, "{\"result\":{\"allow\":\"true\"}}", GW_EINVAL, "no boolean \"allow\"");
    expect_failure(200, "{\"result\":{\"allow\":1}}", GW_EINVAL, "no boolean \"allow\"");
    expect_failure(200, "{\"result\":{\"allow\":true,\"confirm\":\"yes\"}}", GW_EINVAL,
                   "\"confirm\"");
    expect_failure(200, "{\"result\":{\"allow\":false,\"reason\":42}}", GW_EINVAL, "\"reason\"");
    expect_failure(200, "{\"result\":{\"allow\":false,\"rule\":{}}}", GW_EINVAL, "\"rule\"");
    expect_failure(200, "{\"result\":{\"allow\":false,\"hint\":[]}}", GW_EINVAL, "\"hint\"");
    expect_failure(200, "<html>502 Bad Gateway</html>", GW_EINVAL, "not a JSON object");
    expect_failure(200, "", GW_EINVAL, "not a JSON object");
    expect_failure(200, "[true]", GW_EINVAL, "not a JSON object");
    expect_failure(200, "{\"result\":true", GW_EINVAL, "not a JSON object");
    expect_failure(200, "{\"result\":true}{\"result\":false}", GW_EINVAL, "not a JSON object");
    expect_failure(500, "{\"code\":\"internal_error\",\"message\":\"eval_conflict_error\"}",
                   GW_EUPSTREAM, "HTTP 500 internal_error: eval_conflict_error");
    expect_failure(404, "not json", GW_EUPSTREAM, "HTTP 404");
    expect_failure(401, "{\"code\":\"unauthorized\",\"message\":\"no\"}", GW_EUPSTREAM,
                   "HTTP 401 unauthorized");
    /* a 200 is required even when the body would be a valid decision */
    expect_failure(204, "{\"result\":true}", GW_EUPSTREAM, "HTTP 204");
}

static void test_limits_and_text(void **state)
{
    (void)state;
    /* nesting beyond 32 levels */
    char deep[200];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"result\":{\"allow\":true,\"x\":");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    snprintf(deep + n, sizeof(deep) - n, "}}");
    expect_failure(200, deep, GW_EINVAL, "not a JSON object");
    /* over 64 KiB */
    size_t big = 70000;
    char *huge = gw_xmalloc(big + 64);
    n = (size_t)snprintf(huge, 64, "{\"result\":{\"allow\":true,\"reason\":\"");
    memset(huge + n, 'x', big);
    snprintf(huge + n + big, 64, "\"}}");
    expect_failure(200, huge, GW_EINVAL, "not a JSON object");
    gw_free(huge);
    /* long texts are cut on a UTF-8 boundary; control characters become spaces */
    char body[1200];
    n = (size_t)snprintf(body, sizeof(body),
                         "{\"result\":{\"allow\":false,\"reason\":\"a\\nb\\u0000c");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "\xc3\xa9"); /* é */
    n += (size_t)snprintf(body + n, sizeof(body) - n, "\",\"rule\":\"");
    for (int i = 0; i < 100; i++)
        body[n++] = 'r';
    snprintf(body + n, sizeof(body) - n, "\"}}");
    struct gw_opa_decision d;
    struct gw_error err;
    /* \u0000 inside a string is refused by the JSON parser: the answer is then not a decision */
    assert_int_not_equal(parse(200, body, &d, &err), GW_OK);
    char *nul = strstr(body, "\\u0000");
    memcpy(nul, "\\u0007", 6);
    assert_int_equal(parse(200, body, &d, &err), GW_OK);
    assert_memory_equal(d.reason, "a b c", 5);
    size_t rl = strlen(d.reason);
    assert_true(rl <= 255);
    assert_true(((unsigned char)d.reason[rl - 1] & 0xC0) != 0xC0); /* no cut lead byte */
    assert_true(rl % 2 == 1);                                       /* "a b c" + whole é's */
    assert_int_equal(strlen(d.rule), GW_RULE_ID_MAX);
}

static struct gw_principal *principal(const char *subject, const char *claims_json)
{
    const char *roles[] = {"dealer"};
    json_t *claims = json_loads(claims_json, 0, NULL);
    struct gw_principal_init in = {.method = GW_AUTH_API_KEY,
                                   .subject = subject,
                                   .roles = roles,
                                   .nroles = 1,
                                   .claims = claims};
    struct gw_principal *p = gw_principal_new(&in);
    json_decref(claims);
    return p;
}

static void test_input_and_key(void **state)
{
    (void)state;
    struct gw_principal *p = principal("d@x", "{\"dealer_ids\":[\"A\"]}");
    json_t *tags = json_pack("[s]", "booking");
    struct gw_rule_tool t = {.name = "create_booking", .bundle = "service-booking",
                             .risk = GW_RISK_WRITE, .tags = tags};
    json_t *a1 = json_loads("{\"dealer_id\":\"A\",\"date\":\"2026-01-02\"}", 0, NULL);
    json_t *a2 = json_loads("{\"date\":\"2026-01-02\",\"dealer_id\":\"A\"}", 0, NULL);
    json_t *a3 = json_loads("{\"date\":\"2026-01-02\",\"dealer_id\":\"B\"}", 0, NULL);
    json_t *in1 = gw_gov__opa_input(p, &t, a1, 1000, "127.0.0.1:5555", "http", "tools/call");
    /* the documented shape */
    assert_string_equal(json_string_value(json_object_get(json_object_get(in1, "principal"),
                                                          "subject")), "d@x");
    json_t *pc = json_object_get(json_object_get(in1, "principal"), "claims");
    assert_string_equal(json_string_value(json_array_get(json_object_get(pc, "dealer_ids"), 0)),
                        "A");
    json_t *tool = json_object_get(in1, "tool");
    assert_string_equal(json_string_value(json_object_get(tool, "name")), "create_booking");
    assert_string_equal(json_string_value(json_object_get(tool, "bundle")), "service-booking");
    assert_string_equal(json_string_value(json_object_get(tool, "risk")), "write");
    assert_true(json_equal(json_object_get(tool, "tags"), tags));
    assert_true(json_equal(json_object_get(in1, "arguments"), a1));
    json_t *ctx = json_object_get(in1, "context");
    assert_int_equal(json_integer_value(json_object_get(ctx, "now")), 1000);
    assert_string_equal(json_string_value(json_object_get(ctx, "peer")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(ctx, "transport")), "http");
    assert_string_equal(json_string_value(json_object_get(ctx, "method")), "tools/call");

    /* the key: member order, the clock and the peer's port do not matter; arguments do */
    json_t *in2 = gw_gov__opa_input(p, &t, a2, 2000, "127.0.0.1:6666", "http", "tools/call");
    json_t *in3 = gw_gov__opa_input(p, &t, a3, 1000, "127.0.0.1:5555", "http", "tools/call");
    json_t *in4 = gw_gov__opa_input(p, &t, a1, 1000, "10.0.0.9:5555", "http", "tools/call");
    unsigned char k1[32], k2[32], k3[32], k4[32];
    gw_gov__opa_key(in1, k1);
    gw_gov__opa_key(in2, k2);
    gw_gov__opa_key(in3, k3);
    gw_gov__opa_key(in4, k4);
    assert_memory_equal(k1, k2, 32);
    assert_memory_not_equal(k1, k3, 32);
    assert_memory_not_equal(k1, k4, 32);
    /* the input is restored after keying */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(in2, "context"), "now")),
                     2000);
    /* another principal, another key */
    struct gw_principal *q = principal("e@x", "{\"dealer_ids\":[\"A\"]}");
    json_t *in5 = gw_gov__opa_input(q, &t, a1, 1000, "127.0.0.1:5555", "http", "tools/call");
    unsigned char k5[32];
    gw_gov__opa_key(in5, k5);
    assert_memory_not_equal(k1, k5, 32);
    /* IPv6 peer and no arguments */
    json_t *in6 = gw_gov__opa_input(q, &t, NULL, 1, "[::1]:443", "stdio", "");
    assert_string_equal(json_string_value(json_object_get(json_object_get(in6, "context"),
                                                           "peer")), "::1");
    assert_int_equal(json_object_size(json_object_get(in6, "arguments")), 0);
    json_t *in7 = gw_gov__opa_input(q, &t, NULL, 1, "-", "stdio", "");
    assert_string_equal(json_string_value(json_object_get(json_object_get(in7, "context"),
                                                          "peer")), "-");
    json_decref(in1);
    json_decref(in2);
    json_decref(in3);
    json_decref(in4);
    json_decref(in5);
    json_decref(in6);
    json_decref(in7);
    json_decref(a1);
    json_decref(a2);
    json_decref(a3);
    json_decref(tags);
    gw_principal_unref(p);
    gw_principal_unref(q);
}

static void key_of(int i, unsigned char k[32])
{
    memset(k, 0, 32);
    memcpy(k, &i, sizeof(i));
    k[31] = (unsigned char)i;
}

static void test_cache(void **state)
{
    (void)state;
    struct gw_opa_cache *c = gw_gov__opa_cache_new(4, 1000);
    struct gw_opa_decision d = {.allow = true}, out;
    unsigned char k[32];
    snprintf(d.rule, sizeof(d.rule), "r0");
    key_of(0, k);
    assert_false(gw_gov__opa_cache_get(c, k, 0, &out));
    gw_gov__opa_cache_put(c, k, 0, &d);
    assert_true(gw_gov__opa_cache_get(c, k, 999, &out));
    assert_true(out.allow);
    assert_string_equal(out.rule, "r0");
    assert_false(gw_gov__opa_cache_get(c, k, 1000, &out)); /* expired at the TTL */
    assert_int_equal(gw_gov__opa_cache_size(c), 0);

    /* bounded: the oldest goes first */
    for (int i = 1; i <= 6; i++) {
        key_of(i, k);
        snprintf(d.rule, sizeof(d.rule), "r%d", i);
        gw_gov__opa_cache_put(c, k, 100 + i, &d);
    }
    assert_int_equal(gw_gov__opa_cache_size(c), 4);
    for (int i = 1; i <= 6; i++) {
        key_of(i, k);
        assert_int_equal(gw_gov__opa_cache_get(c, k, 200, &out), i >= 3);
    }
    /* a second put of the same key keeps the first decision */
    key_of(6, k);
    d.allow = false;
    gw_gov__opa_cache_put(c, k, 300, &d);
    assert_true(gw_gov__opa_cache_get(c, k, 301, &out));
    assert_true(out.allow);
    /* decisions differ per key */
    key_of(5, k);
    assert_true(gw_gov__opa_cache_get(c, k, 301, &out));
    assert_string_equal(out.rule, "r5");
    gw_gov__opa_cache_free(c);

    /* TTL 0: off */
    c = gw_gov__opa_cache_new(16, 0);
    gw_gov__opa_cache_put(c, k, 0, &d);
    assert_false(gw_gov__opa_cache_get(c, k, 0, &out));
    assert_int_equal(gw_gov__opa_cache_size(c), 0);
    gw_gov__opa_cache_free(c);
    gw_gov__opa_cache_free(NULL);

    /* many keys in few buckets' worth of room: stays bounded */
    c = gw_gov__opa_cache_new(100, 60000);
    for (int i = 0; i < 5000; i++) {
        key_of(i, k);
        gw_gov__opa_cache_put(c, k, i, &d);
    }
    assert_int_equal(gw_gov__opa_cache_size(c), 100);
    key_of(4999, k);
    assert_true(gw_gov__opa_cache_get(c, k, 5000, &out));
    key_of(4899, k);
    assert_false(gw_gov__opa_cache_get(c, k, 5000, &out));
    gw_gov__opa_cache_free(c);
}

static int opa_new(const char *const *kv, struct gov_opa **o, struct gw_error *err)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_gov_opa_settings);
    for (size_t i = 0; kv[i]; i += 2)
        assert_int_equal(gw_settings_override(s, kv[i], kv[i + 1], NULL), GW_OK);
    assert_int_equal(gw_settings_load(s, NULL, NULL), GW_OK);
    memset(err, 0, sizeof(*err));
    int rc = gw_gov__opa_new(s, o, err);
    gw_settings_free(s);
    return rc;
}

static void expect_refused(const char *const *kv, const char *words)
{
    struct gov_opa *o = NULL;
    struct gw_error err;
    assert_int_not_equal(opa_new(kv, &o, &err), GW_OK);
    assert_null(o);
    if (!strstr(err.msg, words))
        fail_msg("'%s' does not say '%s'", err.msg, words);
}

static void test_settings(void **state)
{
    (void)state;
    struct gov_opa *o = (struct gov_opa *)1;
    struct gw_error err;
    const char *builtin[] = {"GW_OPA_URL", "http://127.0.0.1:8181", NULL};
    assert_int_equal(opa_new(builtin, &o, &err), GW_OK);
    assert_null(o); /* builtin: OPA not used even when a URL is set */

    const char *ok[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "http://127.0.0.1:8181/", NULL};
    assert_int_equal(opa_new(ok, &o, &err), GW_OK);
    assert_non_null(o);
    assert_true(gw_gov__opa_only(o));
    assert_false(gw_gov__opa_fail_open(o));
    gw_gov__opa_free(o);
    const char *both[] = {"GW_POLICY_ENGINE", "both", "GW_OPA_URL", "https://opa.example/prefix",
                          "GW_OPA_FAILURE", "open", "GW_OPA_TOKEN", "t0k3n", NULL};
    assert_int_equal(opa_new(both, &o, &err), GW_OK);
    assert_false(gw_gov__opa_only(o));
    assert_true(gw_gov__opa_fail_open(o));
    gw_gov__opa_free(o);
    gw_gov__opa_free(NULL);

    const char *nourl[] = {"GW_POLICY_ENGINE", "opa", NULL};
    expect_refused(nourl, "needs GW_OPA_URL");
    const char *ftp[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "ftp://127.0.0.1", NULL};
    expect_refused(ftp, "http:// or https://");
    const char *junk[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "not a url", NULL};
    expect_refused(junk, "not a URL");
    const char *cred[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "http://a:b@127.0.0.1", NULL};
    expect_refused(cred, "credentials");
    const char *query[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "http://127.0.0.1/?q", NULL};
    expect_refused(query, "query");
    const char *frag[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "http://127.0.0.1/#f", NULL};
    expect_refused(frag, "fragment");
    const char *const bad_paths[] = {"", "/msil/mcp", "msil/mcp/", "msil//mcp", "../x",
                                     "msil/mcp?x", "msil mcp",
                                     "a123456789/a123456789/a123456789/a123456789/x"};
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++) {
        const char *kv[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "http://127.0.0.1",
                            "GW_OPA_PATH", bad_paths[i], NULL};
        expect_refused(kv, "GW_OPA_PATH");
    }
    const char *tok[] = {"GW_POLICY_ENGINE", "opa", "GW_OPA_URL", "http://127.0.0.1",
                         "GW_OPA_TOKEN", "a b", NULL};
    expect_refused(tok, "GW_OPA_TOKEN");
}

int main(void)
{
    gw_log_configure(GW_LOG_OFF, true, 2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_results), cmocka_unit_test(test_failures),
        cmocka_unit_test(test_limits_and_text),  cmocka_unit_test(test_input_and_key),
        cmocka_unit_test(test_cache),            cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
