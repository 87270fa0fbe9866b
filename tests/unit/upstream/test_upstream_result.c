/*
 * tests/unit/upstream/test_upstream_result.c
 * Result mapping and shaping without the network: JSON objects -> structuredContent + text,
 * arrays/scalars with and without outputSchema, non-JSON text, binary, images, non-2xx
 * isError with a truncated body, business-failure envelopes (default and configured rules),
 * shaping (include merge, exclude by path and anywhere, dropNulls, maxArrayItems, text cap),
 * secret scrubbing, UTF-8-safe truncation, JSON pointers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "upstream/upstream_conf.h"
#include "upstream/upstream_result.h"
#include "upstream/upstream_settings.h"
#include "upstream/upstream_shape.h"

#include <string.h>

static struct gw_settings *S;
static struct gw_upstreams *U;

static int group_setup(void **state)
{
    (void)state;
    S = gw_settings_new();
    gw_settings_register(S, gw_upstream_settings);
    struct gw_error err;
    gw_settings_override(S, "GW_UPSTREAM_ERROR_BODY_CHARS", "40", &err);
    if (gw_settings_load(S, NULL, &err) != GW_OK)
        return -1;
    U = gw_upstreams_load(S, &err);
    return U ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    gw_upstreams_free(U);
    gw_settings_free(S);
    return 0;
}

static json_t *J(const char *t)
{
    json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return v;
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static json_t *map(long status, const char *ctype, const char *body, size_t len,
                   const struct gw_shape_spec *shape, bool schema, enum gw_exec_outcome *out)
{
    struct gw_result_input in;
    memset(&in, 0, sizeof(in));
    in.upstream = "svc";
    in.http_status = status;
    in.content_type = ctype;
    in.body = body;
    in.body_len = len == (size_t)-1 ? strlen(body) : len;
    in.conf = gw_upstreams_conf(U, "svc");
    in.shape = shape;
    in.has_output_schema = schema;
    return gw_upstream_result_build(&in, out);
}

static const char *text0(const json_t *r)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
}

static void test_json_object(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    json_t *r = map(200, "application/json; charset=utf-8", "{ \"id\": 1, \"name\": \"x\" }",
                    (size_t)-1, NULL, true, &o);
    assert_int_equal(o, GW_EXEC_OK);
    assert_null(json_object_get(r, "isError"));
    char *s = dump(json_object_get(r, "structuredContent"));
    assert_string_equal(s, "{\"id\":1,\"name\":\"x\"}");
    gw_free(s);
    assert_string_equal(text0(r), "{\"id\":1,\"name\":\"x\"}");
    json_decref(r);

    /* JSON without a content type (or as text/plain) is recognised too */
    r = map(200, NULL, "{\"a\":true}", (size_t)-1, NULL, false, &o);
    assert_non_null(json_object_get(r, "structuredContent"));
    json_decref(r);
}


/* Numbers reach the agent in their exact, shortest form, in the text copy and in the
 * structuredContent as serialised on the wire: 73.7389 stays 73.7389 (jansson wrote
 * 73.738900000000001) and an integer beyond 64 bits stays exact instead of failing the parse. */
static void test_exact_numbers(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    const char *body = "{\"lat\":18.5204,\"lng\":73.7389,\"id\":123456789012345678901234567890,"
                       "\"price\":1499.99,\"n\":5.0}";
    json_t *r = map(200, "application/json", body, (size_t)-1, NULL, true, &o);
    assert_int_equal(o, GW_EXEC_OK);
    assert_string_equal(text0(r), body);
    char *wire = gw_json_dumps(json_object_get(r, "structuredContent"));
    assert_string_equal(wire, body);
    gw_free(wire);
    wire = gw_json_dumps(r);
    assert_null(strstr(wire, "73.738900000000001"));
    assert_non_null(strstr(wire, "\"lng\":73.7389,"));
    gw_free(wire);
    json_decref(r);
}

static void test_json_non_object(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    json_t *r = map(200, "application/json", "[1,2,3]", (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_OK);
    assert_null(json_object_get(r, "structuredContent"));
    assert_string_equal(text0(r), "[1,2,3]");
    json_decref(r);
    r = map(200, "application/json", "[1,2,3]", (size_t)-1, NULL, true, &o);
    assert_int_equal(o, GW_EXEC_OUTPUT_INVALID);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_non_null(strstr(text0(r), "array"));
    json_decref(r);
    r = map(200, "application/json", "42", (size_t)-1, NULL, false, &o);
    assert_string_equal(text0(r), "42");
    json_decref(r);
}

/* A 2xx body declared as JSON that does not parse (truncated, cut by a proxy, an HTML error
 * page with the wrong type) is a failed call, never a success carrying half a document. */
static void test_malformed_json(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    const char *half = "{\"customer_id\": \"CUST001234\",\n    \"name\":   \"Asha\",\n"
                       "    \"vehicles\": [{\"registration_number\": \"MH12";
    json_t *r = map(200, "application/json; charset=utf-8", half, (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_BAD_RESPONSE);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_null(json_object_get(r, "structuredContent"));
    const char *t = text0(r);
    assert_non_null(strstr(t, "upstream 'svc' returned malformed JSON (HTTP 200"));
    /* a compact excerpt: whitespace runs collapsed, cut at errorBodyChars (40 here) */
    assert_non_null(strstr(t, "{\"customer_id\": \"CUST001234\", \"name\": \""));
    assert_non_null(strstr(t, "[truncated, "));
    assert_null(strstr(t, "\n"));
    json_decref(r);
    /* +json media types and 201/202 as well; the parser's reason is given */
    r = map(201, "application/problem+json", "[1, 2,", (size_t)-1, NULL, true, &o);
    assert_int_equal(o, GW_EXEC_BAD_RESPONSE);
    assert_non_null(strstr(text0(r), "malformed JSON (HTTP 201"));
    assert_non_null(strstr(text0(r), ": [1, 2,"));
    json_decref(r);
    /* trailing garbage after a complete document */
    r = map(200, "application/json", "{\"a\":1} {\"b\":2}", (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_BAD_RESPONSE);
    json_decref(r);
    /* invalid UTF-8 inside a JSON body: no raw bytes are quoted */
    r = map(200, "application/json", "{\"a\":\"\xff\xfe\"}", (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_BAD_RESPONSE);
    assert_non_null(strstr(text0(r), "bytes of binary content"));
    json_decref(r);
    /* not declared as JSON: text that merely looks like JSON stays text */
    r = map(200, "text/plain", "{not json, just braces}", (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_OK);
    assert_string_equal(text0(r), "{not json, just braces}");
    json_decref(r);
    /* an empty 2xx body declared as JSON is "no content", not malformed */
    r = map(200, "application/json", "", 0, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_OK);
    json_decref(r);
    /* a non-2xx malformed body is the usual HTTP error quoting the body */
    r = map(502, "application/json", "{\"err", (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_HTTP_ERROR);
    assert_string_equal(text0(r), "HTTP 502 Bad Gateway from upstream 'svc': {\"err");
    json_decref(r);
}

static void test_text_binary_image_empty(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    json_t *r = map(200, "text/plain", "hello wörld", (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_OK);
    assert_string_equal(text0(r), "hello wörld");
    json_decref(r);
    r = map(200, "application/octet-stream", "\xff\xfe\x00\x01", 4, NULL, false, &o);
    assert_non_null(strstr(text0(r), "binary response of 4 bytes"));
    json_decref(r);
    r = map(200, "image/png", "\x89PNG", 4, NULL, false, &o);
    json_t *c0 = json_array_get(json_object_get(r, "content"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "type")), "image");
    assert_string_equal(json_string_value(json_object_get(c0, "mimeType")), "image/png");
    assert_string_equal(json_string_value(json_object_get(c0, "data")), "iVBORw==");
    json_decref(r);
    r = map(204, NULL, "", 0, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_OK);
    assert_non_null(strstr(text0(r), "204 No Content"));
    json_decref(r);
}

static void test_http_errors(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    json_t *r = map(404, "application/json", "{\"error\": \"booking not found\", \"code\": 17}",
                    (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_HTTP_ERROR);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_string_equal(text0(r), "HTTP 404 Not Found from upstream 'svc': "
                                  "{\"error\":\"booking not found\",\"code\":17}");
    json_decref(r);
    /* long bodies are cut (40 characters in this test's settings) */
    char body[400];
    memset(body, 'z', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    r = map(500, "text/html", body, (size_t)-1, NULL, false, &o);
    assert_non_null(strstr(text0(r), "HTTP 500 Internal Server Error from upstream 'svc': zzzz"));
    assert_non_null(strstr(text0(r), "[truncated, 359 more bytes]"));
    json_decref(r);
    r = map(302, NULL, "", 0, NULL, false, &o);
    assert_non_null(strstr(text0(r), "redirects are not followed"));
    json_decref(r);
}

static void test_business_failures(void **state)
{
    (void)state;
    enum gw_exec_outcome o;
    json_t *r = map(200, "application/json",
                    "{\"success\": false, \"message\": \"Slot not available\", \"data\": null}",
                    (size_t)-1, NULL, true, &o);
    assert_int_equal(o, GW_EXEC_BUSINESS_ERROR);
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_non_null(strstr(text0(r), "Slot not available"));
    assert_null(json_object_get(r, "structuredContent"));
    json_decref(r);
    r = map(200, "application/json",
            "{\"error\": true, \"errors\": [{\"message\": \"Invalid VIN\"}]}", (size_t)-1, NULL,
            false, &o);
    assert_int_equal(o, GW_EXEC_BUSINESS_ERROR);
    assert_non_null(strstr(text0(r), "Invalid VIN"));
    json_decref(r);
    r = map(200, "application/json", "{\"status\": \"FAILED\", \"detail\": \"Dealer closed\"}",
            (size_t)-1, NULL, false, &o);
    assert_int_equal(o, GW_EXEC_BUSINESS_ERROR);
    assert_non_null(strstr(text0(r), "Dealer closed"));
    json_decref(r);
    /* success:true and status:"ok" are fine */
    r = map(200, "application/json", "{\"success\": true, \"status\": \"CONFIRMED\"}", (size_t)-1,
            NULL, false, &o);
    assert_int_equal(o, GW_EXEC_OK);
    json_decref(r);
}

static void test_shaping(void **state)
{
    (void)state;
    struct gw_shape_spec s;
    struct gw_error err;
    json_t *spec = J("{\"include\":[\"items.id\",\"items.name\",\"total\"],"
                     "\"exclude\":[\"**.secretField\"],\"maxArrayItems\":2,\"dropNulls\":true}");
    assert_int_equal(gw_upstream_shape_parse(spec, &s, &err), GW_OK);
    json_decref(spec);
    const char *body = "{\"total\":3,\"page\":1,\"items\":["
                       "{\"id\":1,\"name\":\"a\",\"secretField\":\"x\",\"extra\":1},"
                       "{\"id\":2,\"name\":null,\"extra\":2},"
                       "{\"id\":3,\"name\":\"c\"}]}";
    enum gw_exec_outcome o;
    json_t *r = map(200, "application/json", body, (size_t)-1, &s, false, &o);
    char *d = dump(json_object_get(r, "structuredContent"));
    assert_string_equal(d, "{\"items\":[{\"id\":1,\"name\":\"a\"},{\"id\":2}],\"total\":3}");
    gw_free(d);
    json_t *note = json_array_get(json_object_get(r, "content"), 1);
    assert_non_null(strstr(json_string_value(json_object_get(note, "text")),
                           "1 array(s) cut to 2 items (1 items omitted)"));
    json_decref(r);
    gw_upstream_shape_fini(&s);

    /* exclude by exact path, through arrays; text cap */
    spec = J("{\"exclude\":[\"data.rows.internal\",\"meta\"],\"maxTextChars\":64}");
    assert_int_equal(gw_upstream_shape_parse(spec, &s, &err), GW_OK);
    json_decref(spec);
    body =
        "{\"meta\":{\"x\":1},\"data\":{\"rows\":[{\"internal\":1,\"v\":\"aaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}],\"internal\":2}}";
    r = map(200, "application/json", body, (size_t)-1, &s, false, &o);
    d = dump(json_object_get(r, "structuredContent"));
    assert_null(strstr(d, "meta"));
    assert_null(strstr(d, "\"internal\":1"));
    assert_non_null(strstr(d, "\"internal\":2"));
    gw_free(d);
    assert_non_null(strstr(text0(r), "[truncated,"));
    json_decref(r);
    gw_upstream_shape_fini(&s);

    spec = J("{\"include\":[\"a..b\"]}");
    assert_int_equal(gw_upstream_shape_parse(spec, &s, &err), GW_EINVAL);
    json_decref(spec);
    spec = J("{\"maxArrayItems\":0}");
    assert_int_equal(gw_upstream_shape_parse(spec, &s, &err), GW_EINVAL);
    json_decref(spec);
}

static void test_scrub_and_utf8(void **state)
{
    (void)state;
    char s1[] = "sk-live-123456", s2[] = "ab";
    char *secrets[] = {s1, s2};
    json_t *r = J("{\"content\":[{\"type\":\"text\",\"text\":\"key sk-live-123456 bad; "
                  "sk-live-123456!\"}],\"structuredContent\":{\"echo\":[\"xsk-live-123456\"],"
                  "\"ab\":\"ab\"}}");
    assert_int_equal(gw_upstream_scrub(r, secrets, 2), 2);
    char *d = dump(r);
    assert_null(strstr(d, "sk-live-123456"));
    assert_non_null(strstr(d, "key [REDACTED] bad; [REDACTED]!"));
    assert_non_null(strstr(d, "\"ab\":\"ab\"")); /* secrets shorter than 4 are not scrubbed */
    gw_free(d);
    json_decref(r);
    /* member names are scrubbed too (found by fuzz_upstream_result) */
    r = J("{\"sk-live-123456\":{\"xsk-live-123456y\":1}}");
    assert_int_equal(gw_upstream_scrub(r, secrets, 2), 2);
    d = dump(r);
    assert_string_equal(d, "{\"[REDACTED]\":{\"x[REDACTED]y\":1}}");
    gw_free(d);
    json_decref(r);
    const char *s = "aé"; /* 'a' + 2 bytes */
    assert_int_equal(gw_upstream_utf8_cut(s, 3, 2), 1);
    assert_int_equal(gw_upstream_utf8_cut(s, 3, 3), 3);
    json_t *doc = J("{\"a\":[{\"b/c\":{\"~d\":5}}]}");
    assert_int_equal(json_integer_value(gw_upstream_json_pointer(doc, "/a/0/b~1c/~0d")), 5);
    assert_null(gw_upstream_json_pointer(doc, "/a/1"));
    assert_null(gw_upstream_json_pointer(doc, "/a/x"));
    assert_ptr_equal(gw_upstream_json_pointer(doc, ""), doc);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_numbers),
        cmocka_unit_test(test_json_object),    cmocka_unit_test(test_json_non_object),
        cmocka_unit_test(test_text_binary_image_empty), cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_business_failures), cmocka_unit_test(test_shaping),
        cmocka_unit_test(test_scrub_and_utf8),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
