/*
 * tests/unit/mcp/test_jsonrpc.c
 * JSON-RPC framing (mcp/mcp_jsonrpc.h): every classification path of gw_jsonrpc_classify with
 * its precise message (not an object, wrong/missing "jsonrpc", method type, params not an
 * object, request carrying result/error, id null/float/bool/object, notification vs request
 * with "id": null, responses with result, error, both, neither, bad error shapes), the id
 * echoed on invalid messages whenever it is readable, and the exact wire form of the result,
 * error, notification and request builders (ownership: ids borrowed, results/params stolen).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "mcp/mcp_jsonrpc.h"

#include <string.h>

/* Classifies the JSON text `s`; returns the kind and leaves the message in *doc (caller
 * decrefs), the error message in err. */
static enum gw_jsonrpc_kind classify(const char *s, json_t **doc, struct gw_jsonrpc_msg *m,
                                     struct gw_error *err)
{
    json_error_t je;
    *doc = json_loads(s, JSON_DECODE_ANY, &je);
    if (!*doc)
        fail_msg("test JSON does not parse: %s (%s)", s, je.text);
    memset(err, 0, sizeof(*err));
    gw_jsonrpc_classify(*doc, m, err);
    return m->kind;
}

static void expect_invalid(const char *s, const char *msg, const char *want_id)
{
    json_t *doc;
    struct gw_jsonrpc_msg m;
    struct gw_error err;
    enum gw_jsonrpc_kind k = classify(s, &doc, &m, &err);
    if (k != GW_JSONRPC_INVALID)
        fail_msg("%s: classified as %d, want INVALID", s, (int)k);
    assert_int_equal(err.code, GW_EINVAL);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s: message\n  '%s'\nwant\n  '%s'", s, err.msg, msg);
    if (want_id) {
        char *got = m.id ? gw_json_dumps(m.id) : NULL;
        if (!got || strcmp(got, want_id) != 0)
            fail_msg("%s: echoed id %s, want %s", s, got ? got : "(none)", want_id);
        gw_free(got);
    } else if (m.id) {
        fail_msg("%s: an id was echoed although none is valid", s);
    }
    json_decref(doc);
}

static const char *const M_OBJECT = "a JSON-RPC message must be an object";
static const char *const M_VERSION = "\"jsonrpc\" must be the string \"2.0\"";
static const char *const M_METHOD = "\"method\" must be a non-empty string";
static const char *const M_PARAMS = "\"params\" must be an object";
static const char *const M_REQ_RESULT = "a request must not carry \"result\" or \"error\"";
static const char *const M_ID_NULL = "\"id\" must be a string or an integer (not null)";
static const char *const M_ID_OTHER = "\"id\" must be a string or an integer (not another type)";
static const char *const M_NEEDS = "a message needs \"method\" (request) or \"result\"/\"error\" "
                                   "(response)";
static const char *const M_BOTH = "a response must not carry both \"result\" and \"error\"";
static const char *const M_RESP_ID = "a response needs a string or integer \"id\"";
static const char *const M_ERR_SHAPE = "\"error\" must be an object with an integer \"code\"";

static void test_not_an_object(void **state)
{
    (void)state;
    expect_invalid("5", M_OBJECT, NULL);
    expect_invalid("\"x\"", M_OBJECT, NULL);
    expect_invalid("null", M_OBJECT, NULL);
    expect_invalid("true", M_OBJECT, NULL);
    expect_invalid("[]", M_OBJECT, NULL);
    expect_invalid("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", M_OBJECT, NULL);
    /* NULL is not an object either */
    struct gw_jsonrpc_msg m;
    struct gw_error err = {0};
    gw_jsonrpc_classify(NULL, &m, &err);
    assert_int_equal(m.kind, GW_JSONRPC_INVALID);
    assert_string_equal(err.msg, M_OBJECT);
}

static void test_version_member(void **state)
{
    (void)state;
    expect_invalid("{\"id\":1,\"method\":\"ping\"}", M_VERSION, "1");
    expect_invalid("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", M_VERSION, "1");
    expect_invalid("{\"jsonrpc\":2.0,\"id\":\"a\",\"method\":\"ping\"}", M_VERSION, "\"a\"");
    expect_invalid("{\"jsonrpc\":\"2.0 \",\"method\":\"ping\"}", M_VERSION, NULL);
    expect_invalid("{\"jsonrpc\":\"2\",\"method\":\"ping\"}", M_VERSION, NULL);
    expect_invalid("{\"jsonrpc\":null,\"id\":3,\"result\":{}}", M_VERSION, "3");
    expect_invalid("{}", M_VERSION, NULL);
}

static void test_requests(void **state)
{
    (void)state;
    static const char *const ids[] = {"1", "0", "-5", "9007199254740993", "\"abc\"", "\"\""};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char text[200];
        snprintf(text, sizeof(text),
                 "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"tools/list\",\"params\":{\"a\":1}}",
                 ids[i]);
        json_t *doc;
        struct gw_jsonrpc_msg m;
        struct gw_error err;
        assert_int_equal(classify(text, &doc, &m, &err), GW_JSONRPC_REQUEST);
        assert_string_equal(m.method, "tools/list");
        assert_true(json_is_object(m.params));
        assert_int_equal(json_integer_value(json_object_get(m.params, "a")), 1);
        char *id = gw_json_dumps(m.id);
        assert_string_equal(id, ids[i]);
        gw_free(id);
        assert_null(m.result);
        assert_null(m.error);
        json_decref(doc);
    }
    /* params is optional */
    json_t *doc;
    struct gw_jsonrpc_msg m;
    struct gw_error err;
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", &doc, &m, &err),
                     GW_JSONRPC_REQUEST);
    assert_null(m.params);
    json_decref(doc);
    /* unknown extra members are tolerated */
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"x\":[1]}", &doc,
                              &m, &err),
                     GW_JSONRPC_REQUEST);
    json_decref(doc);
}

static void test_notifications(void **state)
{
    (void)state;
    json_t *doc;
    struct gw_jsonrpc_msg m;
    struct gw_error err;
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
                              &doc, &m, &err),
                     GW_JSONRPC_NOTIFICATION);
    assert_string_equal(m.method, "notifications/initialized");
    assert_null(m.id);
    json_decref(doc);
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                              "\"params\":{\"requestId\":3}}",
                              &doc, &m, &err),
                     GW_JSONRPC_NOTIFICATION);
    assert_int_equal(json_integer_value(json_object_get(m.params, "requestId")), 3);
    json_decref(doc);
    /* "id": null makes it a request with an invalid id, not a notification */
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", M_ID_NULL, NULL);
}

static void test_bad_ids(void **state)
{
    (void)state;
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", M_ID_OTHER, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"ping\"}", M_ID_OTHER, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}", M_ID_OTHER, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", M_ID_OTHER, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", M_ID_OTHER, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", M_ID_OTHER, NULL);
}

static void test_method_and_params(void **state)
{
    (void)state;
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", M_METHOD, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", M_METHOD, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", M_METHOD, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"method\":[\"ping\"]}", M_METHOD, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":[1,2]}", M_PARAMS,
                   "2");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":null}", M_PARAMS,
                   "2");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"ping\",\"params\":\"x\"}",
                   M_PARAMS, "\"s\"");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":[]}", M_PARAMS, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\",\"result\":{}}",
                   M_REQ_RESULT, "4");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\",\"error\":{\"code\":1}}",
                   M_REQ_RESULT, "4");
}

static void test_responses(void **state)
{
    (void)state;
    json_t *doc;
    struct gw_jsonrpc_msg m;
    struct gw_error err;
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"result\":{\"x\":1}}", &doc,
                              &m, &err),
                     GW_JSONRPC_RESPONSE);
    assert_string_equal(json_string_value(m.id), "srv-1");
    assert_true(json_is_object(m.result));
    assert_null(m.error);
    assert_null(m.method);
    json_decref(doc);
    /* any JSON value is a result, including null */
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":null}", &doc, &m, &err),
                     GW_JSONRPC_RESPONSE);
    assert_non_null(m.result);
    assert_true(json_is_null(m.result));
    json_decref(doc);
    assert_int_equal(classify("{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-1,\"message\":"
                              "\"no\",\"data\":[1]}}",
                              &doc, &m, &err),
                     GW_JSONRPC_RESPONSE);
    assert_non_null(m.error);
    assert_null(m.result);
    json_decref(doc);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1}}", M_BOTH,
                   "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1}", M_NEEDS, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"result\":{}}", M_RESP_ID, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", M_RESP_ID, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"error\":{\"code\":1}}", M_RESP_ID, NULL);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"bad\"}", M_ERR_SHAPE, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":null}", M_ERR_SHAPE, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{}}", M_ERR_SHAPE, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"-1\"}}", M_ERR_SHAPE, "1");
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1.5}}", M_ERR_SHAPE, "1");
}

static void test_err_may_be_null(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"jsonrpc\":\"1.0\"}", 0, NULL);
    struct gw_jsonrpc_msg m;
    gw_jsonrpc_classify(v, &m, NULL);
    assert_int_equal(m.kind, GW_JSONRPC_INVALID);
    json_decref(v);
}

/* ---- builders ---- */

static void expect_dump(json_t *v, const char *want)
{
    char *got = gw_json_dumps(v);
    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    gw_free(got);
}

static void test_result_builder(void **state)
{
    (void)state;
    json_t *id = json_integer(42);
    json_t *r = gw_jsonrpc_result(id, json_pack("{s:i}", "n", 1));
    expect_dump(r, "{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"n\":1}}");
    assert_int_equal(id->refcount, 2); /* borrowed: the message holds its own reference */
    json_decref(r);
    assert_int_equal(id->refcount, 1);
    json_decref(id);
    /* an empty result is {} (never [] or null) */
    json_t *sid = json_string("x");
    r = gw_jsonrpc_result(sid, NULL);
    expect_dump(r, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}");
    json_decref(r);
    json_decref(sid);
}

static void test_error_builder(void **state)
{
    (void)state;
    json_t *id = json_string("req-1");
    json_t *e = gw_jsonrpc_error(id, GW_JSONRPC_INVALID_PARAMS, "bad \"arg\"",
                                 json_pack("{s:s}", "field", "x"));
    expect_dump(e, "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"error\":{\"code\":-32602,\"message\":"
                   "\"bad \\\"arg\\\"\",\"data\":{\"field\":\"x\"}}}");
    json_decref(e);
    json_decref(id);
    /* no data: no "data" member; NULL message: "" */
    json_t *nid = json_integer(0);
    e = gw_jsonrpc_error(nid, GW_JSONRPC_METHOD_NOT_FOUND, NULL, NULL);
    expect_dump(e, "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":-32601,\"message\":\"\"}}");
    json_decref(e);
    json_decref(nid);
    /* unknown id (parse errors): the member is null or omitted, never anything else */
    e = gw_jsonrpc_error(NULL, GW_JSONRPC_PARSE_ERROR, "Parse error", NULL);
    json_t *idm = json_object_get(e, "id");
    assert_true(idm == NULL || json_is_null(idm));
    json_t *eo = json_object_get(e, "error");
    assert_int_equal(json_integer_value(json_object_get(eo, "code")), -32700);
    assert_string_equal(gw_json_str(eo, "message"), "Parse error");
    assert_string_equal(gw_json_str(e, "jsonrpc"), "2.0");
    json_decref(e);
}

static void test_notification_and_request_builders(void **state)
{
    (void)state;
    json_t *n = gw_jsonrpc_notification("notifications/progress",
                                        json_pack("{s:s,s:i}", "progressToken", "t", "progress",
                                                  50));
    expect_dump(n, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                   "{\"progressToken\":\"t\",\"progress\":50}}");
    json_decref(n);
    n = gw_jsonrpc_notification("notifications/tools/list_changed", NULL);
    expect_dump(n, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}");
    json_decref(n);
    json_t *id = json_string("srv-7");
    json_t *r = gw_jsonrpc_request(id, "sampling/createMessage", json_object());
    expect_dump(r, "{\"jsonrpc\":\"2.0\",\"method\":\"sampling/createMessage\",\"params\":{},"
                   "\"id\":\"srv-7\"}");
    /* what we build, we classify back as the same kind */
    struct gw_jsonrpc_msg m;
    struct gw_error err = {0};
    gw_jsonrpc_classify(r, &m, &err);
    assert_int_equal(m.kind, GW_JSONRPC_REQUEST);
    json_decref(r);
    json_decref(id);
    n = gw_jsonrpc_notification("x", NULL);
    gw_jsonrpc_classify(n, &m, &err);
    assert_int_equal(m.kind, GW_JSONRPC_NOTIFICATION);
    json_decref(n);
    json_t *rid = json_integer(5);
    r = gw_jsonrpc_result(rid, NULL);
    gw_jsonrpc_classify(r, &m, &err);
    assert_int_equal(m.kind, GW_JSONRPC_RESPONSE);
    json_decref(r);
    r = gw_jsonrpc_error(rid, -32000, "x", NULL);
    gw_jsonrpc_classify(r, &m, &err);
    assert_int_equal(m.kind, GW_JSONRPC_RESPONSE);
    json_decref(r);
    json_decref(rid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_version_member),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_method_and_params),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_err_may_be_null),
        cmocka_unit_test(test_result_builder),
        cmocka_unit_test(test_error_builder),
        cmocka_unit_test(test_notification_and_request_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
