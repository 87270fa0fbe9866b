/*
 * tests/unit/mcp/test_batch.c
 * Batch-level rules (gw_jsonrpc_batch_check): only arrays, only where batches are allowed
 * (2025-03-26 sessions; checked before anything else so `[]` in a 2025-11-25 session gets the
 * "only in 2025-03-26" reason), never empty, at most `max` messages (exactly max passes),
 * never an initialize (request or notification, at any position), while invalid elements pass
 * here (each gets its own -32600 later). Plus a 10,000-message batch checked quickly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mcp/mcp_jsonrpc.h"

#include <string.h>
#include <time.h>

static int check(const char *text, bool allowed, size_t max, struct gw_error *err)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("bad test JSON %s", text);
    memset(err, 0, sizeof(*err));
    int rc = gw_jsonrpc_batch_check(v, allowed, max, err);
    json_decref(v);
    return rc;
}

static void expect(const char *text, bool allowed, size_t max, int want_rc, const char *msg)
{
    struct gw_error err;
    int rc = check(text, allowed, max, &err);
    if (rc != want_rc)
        fail_msg("%s: rc %d, want %d (%s)", text, rc, want_rc, err.msg);
    if (msg && strcmp(err.msg, msg) != 0)
        fail_msg("%s: message '%s', want '%s'", text, err.msg, msg);
}

static const char *const PING = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
static const char *const NOT_ALLOWED =
    "JSON-RPC batches are only accepted in sessions of protocol version 2025-03-26";

static void test_not_array(void **state)
{
    (void)state;
    expect("{}", true, 10, GW_EINVAL, "a batch must be a JSON array");
    expect("5", true, 10, GW_EINVAL, "a batch must be a JSON array");
    expect("null", false, 10, GW_EINVAL, "a batch must be a JSON array");
    struct gw_error err = {0};
    assert_int_equal(gw_jsonrpc_batch_check(NULL, true, 10, &err), GW_EINVAL);
}

static void test_not_allowed(void **state)
{
    (void)state;
    char text[200];
    snprintf(text, sizeof(text), "[%s]", PING);
    expect(text, false, 10, GW_EINVAL, NOT_ALLOWED);
    /* the version rule comes first: [] outside 2025-03-26 is refused for being a batch */
    expect("[]", false, 10, GW_EINVAL, NOT_ALLOWED);
}

static void test_empty_and_max(void **state)
{
    (void)state;
    expect("[]", true, 10, GW_EINVAL, "empty batch");
    char text[1000];
    snprintf(text, sizeof(text), "[%s,%s,%s]", PING, PING, PING);
    expect(text, true, 3, GW_OK, NULL);
    expect(text, true, 2, GW_EINVAL, "batch of 3 messages exceeds the limit of 2");
    expect("[1]", true, 1, GW_OK, NULL);
    expect("[1]", true, 0, GW_EINVAL, "batch of 1 messages exceeds the limit of 0");
}

static void test_initialize_refused(void **state)
{
    (void)state;
    const char *init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}";
    const char *init_note = "{\"jsonrpc\":\"2.0\",\"method\":\"initialize\"}";
    const char *msg = "initialize must not be part of a batch";
    char text[1000];
    snprintf(text, sizeof(text), "[%s]", init);
    expect(text, true, 10, GW_EINVAL, msg);
    snprintf(text, sizeof(text), "[%s,%s,%s]", PING, PING, init);
    expect(text, true, 10, GW_EINVAL, msg);
    snprintf(text, sizeof(text), "[%s,%s]", init_note, PING);
    expect(text, true, 10, GW_EINVAL, msg);
    /* a method that merely starts with "initialize", or a non-string method, is not it */
    expect("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialized\"}]", true, 10, GW_OK, NULL);
    expect("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":[\"initialize\"]}]", true, 10, GW_OK, NULL);
}

static void test_invalid_elements_pass(void **state)
{
    (void)state;
    /* element validity is checked per element at dispatch (each gets its own -32600) */
    expect("[1,2]", true, 10, GW_OK, NULL);
    expect("[null,\"x\",[],{}]", true, 10, GW_OK, NULL);
    expect("[{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":{}}]", true, 10, GW_OK, NULL);
}

static void test_ten_thousand(void **state)
{
    (void)state;
    json_t *batch = json_array();
    for (int i = 0; i < 10000; i++)
        json_array_append_new(batch, json_pack("{s:s,s:i,s:s}", "jsonrpc", "2.0", "id", i,
                                               "method", "ping"));
    struct gw_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(gw_jsonrpc_batch_check(batch, true, 10000, &err), GW_OK);
    assert_int_equal(gw_jsonrpc_batch_check(batch, true, 64, &err), GW_EINVAL);
    assert_string_equal(err.msg, "batch of 10000 messages exceeds the limit of 64");
    /* an initialize at the very end is still found */
    json_array_append_new(batch, json_pack("{s:s,s:i,s:s}", "jsonrpc", "2.0", "id", -1, "method",
                                           "initialize"));
    assert_int_equal(gw_jsonrpc_batch_check(batch, true, 20000, &err), GW_EINVAL);
    assert_string_equal(err.msg, "initialize must not be part of a batch");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 1000.0);
    json_decref(batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_array),          cmocka_unit_test(test_not_allowed),
        cmocka_unit_test(test_empty_and_max),      cmocka_unit_test(test_initialize_refused),
        cmocka_unit_test(test_invalid_elements_pass), cmocka_unit_test(test_ten_thousand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
