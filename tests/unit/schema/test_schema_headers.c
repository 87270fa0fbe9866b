/*
 * tests/unit/schema/test_schema_headers.c
 * x-mcp-header declarations of an input schema (schema/schema_headers.h): found in document
 * order with their property paths (top level and nested through properties) and types; the
 * rules refused with a message naming the property (not a token, too long, a second
 * declaration differing only in case, a type other than string/integer/boolean, an annotation
 * under items, allOf, $defs, additionalProperties or on the root, more than 16 declarations,
 * more than 8 levels of properties, a schema nested more than 128 levels); data keywords
 * (const, default, examples) and property *names* equal to the key are not declarations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "schema/schema_headers.h"

#include <stdio.h>
#include <string.h>

static json_t *doc(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        fail_msg("bad test JSON: %s (%s)", e.text, text);
    return j;
}

static int scan(const char *text, struct gw_schema_header *out, size_t *n, char *msg)
{
    json_t *s = doc(text);
    struct gw_error err;
    gw_error_clear(&err);
    int rc = gw_schema_headers_scan(s, out, n, &err);
    if (msg)
        snprintf(msg, GW_ERROR_MSG_MAX, "%s", err.msg);
    json_decref(s); /* the results borrow from s: read them before (tests below copy) */
    return rc;
}

static void test_found(void **state)
{
    (void)state;
    json_t *s = doc("{\"type\":\"object\",\"properties\":{"
                    "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
                    "\"plain\":{\"type\":\"string\"},"
                    "\"opts\":{\"type\":\"object\",\"properties\":{"
                    "  \"count\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"},"
                    "  \"dry\":{\"type\":\"boolean\",\"x-mcp-header\":\"Dry-Run_1.x~\"}}}}}");
    struct gw_schema_header h[GW_SCHEMA_HEADERS_MAX];
    size_t n = 99;
    struct gw_error err;
    assert_int_equal(gw_schema_headers_scan(s, h, &n, &err), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(h[0].name, "Region");
    assert_int_equal(h[0].depth, 1);
    assert_string_equal(h[0].path[0], "region");
    assert_int_equal(h[0].type, GW_SCHEMA_HEADER_STRING);
    assert_string_equal(h[1].name, "Count");
    assert_int_equal(h[1].depth, 2);
    assert_string_equal(h[1].path[0], "opts");
    assert_string_equal(h[1].path[1], "count");
    assert_int_equal(h[1].type, GW_SCHEMA_HEADER_INTEGER);
    assert_string_equal(h[2].name, "Dry-Run_1.x~");
    assert_int_equal(h[2].type, GW_SCHEMA_HEADER_BOOLEAN);
    json_decref(s);
    /* none: plain schemas, non-objects */
    assert_int_equal(scan("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}", h,
                          &n, NULL),
                     GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(scan("true", h, &n, NULL), GW_OK);
    assert_int_equal(n, 0);
}

static void test_data_is_not_a_declaration(void **state)
{
    (void)state;
    struct gw_schema_header h[GW_SCHEMA_HEADERS_MAX];
    size_t n = 99;
    /* the key as data (const, default, examples, an unknown keyword) or as a property name */
    assert_int_equal(
        scan("{\"type\":\"object\",\"properties\":{"
             "\"x-mcp-header\":{\"type\":\"string\"},"
             "\"a\":{\"type\":\"object\",\"const\":{\"x-mcp-header\":\"A\"},"
             "\"default\":{\"x-mcp-header\":\"B\"},\"examples\":[{\"x-mcp-header\":\"C\"}],"
             "\"x-vendor\":{\"x-mcp-header\":\"D\"}}}}",
             h, &n, NULL),
        GW_OK);
    assert_int_equal(n, 0);
}

struct bad_case {
    const char *schema;
    const char *says; /* a part of the message */
};

static void test_refused(void **state)
{
    (void)state;
    static const struct bad_case bad[] = {
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"\"}}}", "HTTP token"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"Re gion\"}}}", "a:"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"R:x\"}}}", "token"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"R\\r\\nX: y\"}}}",
         "token"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"Ré\"}}}", "token"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":7}}}", "token"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
         "\"b\":{\"type\":\"string\",\"x-mcp-header\":\"REGION\"}}}",
         "declared twice"},
        {"{\"properties\":{\"a\":{\"type\":\"number\",\"x-mcp-header\":\"N\"}}}", "\"integer\""},
        {"{\"properties\":{\"a\":{\"type\":\"array\",\"x-mcp-header\":\"N\"}}}", "type"},
        {"{\"properties\":{\"a\":{\"type\":[\"string\",\"null\"],\"x-mcp-header\":\"N\"}}}",
         "type"},
        {"{\"properties\":{\"a\":{\"x-mcp-header\":\"N\"}}}", "type"},
        {"{\"x-mcp-header\":\"Root\",\"type\":\"object\"}", "through \"properties\""},
        {"{\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
         "\"x-mcp-header\":\"I\"}}}}",
         "through \"properties\""},
        {"{\"allOf\":[{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"A\"}}}]}",
         "through \"properties\""},
        {"{\"$defs\":{\"d\":{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":"
         "\"A\"}}}}}",
         "through \"properties\""},
        {"{\"additionalProperties\":{\"type\":\"string\",\"x-mcp-header\":\"A\"}}",
         "through \"properties\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gw_schema_header h[GW_SCHEMA_HEADERS_MAX];
        size_t n = 99;
        char msg[GW_ERROR_MSG_MAX];
        if (scan(bad[i].schema, h, &n, msg) != GW_EINVAL)
            fail_msg("case %zu accepted: %s", i, bad[i].schema);
        if (!strstr(msg, bad[i].says))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, msg, bad[i].says);
        assert_int_equal(n, 0);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct gw_schema_header h[GW_SCHEMA_HEADERS_MAX];
    size_t n = 0;
    char msg[GW_ERROR_MSG_MAX];
    char text[8192];
    /* 16 declarations pass, 17 do not */
    for (int count = 16; count <= 17; count++) {
        size_t used = (size_t)snprintf(text, sizeof(text), "{\"properties\":{");
        for (int i = 0; i < count; i++)
            used += (size_t)snprintf(text + used, sizeof(text) - used,
                                     "%s\"p%d\":{\"type\":\"string\",\"x-mcp-header\":\"H%d\"}",
                                     i ? "," : "", i, i);
        snprintf(text + used, sizeof(text) - used, "}}");
        assert_int_equal(scan(text, h, &n, msg), count == 16 ? GW_OK : GW_EINVAL);
    }
    /* 8 levels of properties pass, 9 do not */
    for (int depth = 8; depth <= 9; depth++) {
        size_t used = 0;
        for (int i = 0; i < depth; i++)
            used += (size_t)snprintf(text + used, sizeof(text) - used,
                                     "{\"type\":\"object\",\"properties\":{\"l%d\":", i);
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "{\"type\":\"string\",\"x-mcp-header\":\"Deep\"}");
        for (int i = 0; i < depth; i++)
            used += (size_t)snprintf(text + used, sizeof(text) - used, "}}");
        int rc = scan(text, h, &n, msg);
        assert_int_equal(rc, depth == 8 ? GW_OK : GW_EINVAL);
        if (depth == 9)
            assert_non_null(strstr(msg, "8 levels"));
    }
    /* a schema nested past 128 keywords is refused, not walked without end */
    size_t used = 0;
    for (int i = 0; i < 140; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "{\"not\":");
    used += (size_t)snprintf(text + used, sizeof(text) - used, "{}");
    for (int i = 0; i < 140; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "}");
    assert_int_equal(scan(text, h, &n, msg), GW_EINVAL);
    assert_non_null(strstr(msg, "128"));
}

static void test_name_valid(void **state)
{
    (void)state;
    assert_true(gw_schema_header_name_valid("Region"));
    assert_true(gw_schema_header_name_valid("a!#$%&'*+-.^_`|~9"));
    char long_name[80];
    memset(long_name, 'a', sizeof(long_name));
    long_name[64] = '\0';
    assert_true(gw_schema_header_name_valid(long_name));
    long_name[64] = 'a';
    long_name[65] = '\0';
    assert_false(gw_schema_header_name_valid(long_name));
    assert_false(gw_schema_header_name_valid(""));
    assert_false(gw_schema_header_name_valid(NULL));
    assert_false(gw_schema_header_name_valid("a b"));
    assert_false(gw_schema_header_name_valid("a\"b"));
    assert_false(gw_schema_header_name_valid("a(b)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found),
        cmocka_unit_test(test_data_is_not_a_declaration),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_name_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
