/*
 * tests/unit/mcp/test_param.c
 * Mirrored request headers (mcp/mcp_param.h): decoding trims optional whitespace, decodes a
 * "=?base64?...?=" value only when its base64 is exactly padded base64 (an invalid one is an
 * error, a value lacking either end of the sentinel is literal, bytes such as NUL survive) and
 * bounds the result; the Mcp-Param-* check against a tool's declarations: strings byte for
 * byte, integers as numbers (leading zeros, -0, signs, 64-bit limits, integral reals),
 * booleans as true/false only, nested arguments, a header required exactly when the argument
 * is present and scalar, names matched without regard to case by the header source, and each
 * refusal naming the header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mcp/mcp_param.h"

#include <string.h>
#include <strings.h>

static void test_decode(void **state)
{
    (void)state;
    char out[64];
    size_t len = 99;
    assert_int_equal(gw_mcp_header_decode(NULL, out, sizeof(out), &len), GW_OK);
    assert_int_equal(len, 0);
    assert_int_equal(gw_mcp_header_decode(" \t tools/call \t", out, sizeof(out), &len), GW_OK);
    assert_string_equal(out, "tools/call");
    assert_int_equal(gw_mcp_header_decode("=?base64?SGVsbG8=?=", out, sizeof(out), &len), GW_OK);
    assert_string_equal(out, "Hello");
    assert_int_equal(len, 5);
    assert_int_equal(gw_mcp_header_decode("  =?base64?w6k=?=  ", out, sizeof(out), &len), GW_OK);
    assert_string_equal(out, "\xc3\xa9"); /* é */
    assert_int_equal(gw_mcp_header_decode("=?base64?YQBi?=", out, sizeof(out), &len), GW_OK);
    assert_int_equal(len, 3); /* "a\0b": the length tells */
    assert_memory_equal(out, "a\0b", 3);
    assert_int_equal(gw_mcp_header_decode("=?base64?" "?=", out, sizeof(out), &len), GW_OK);
    assert_int_equal(len, 0);
    /* invalid base64 inside the sentinel is an error, not a literal */
    static const char *const bad[] = {"=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?=",
                                      "=?base64?SGVs bG8=?=", "=?base64?SGVsbG8-?=",
                                      "=?base64?=?="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_mcp_header_decode(bad[i], out, sizeof(out), &len) != GW_EINVAL)
            fail_msg("'%s' was not refused", bad[i]);
    /* half a sentinel is literal */
    assert_int_equal(gw_mcp_header_decode("=?base64?SGVsbG8=", out, sizeof(out), &len), GW_OK);
    assert_string_equal(out, "=?base64?SGVsbG8=");
    assert_int_equal(gw_mcp_header_decode("SGVsbG8=?=", out, sizeof(out), &len), GW_OK);
    assert_string_equal(out, "SGVsbG8=?=");
    /* bounded */
    char small[6];
    assert_int_equal(gw_mcp_header_decode("Hello", small, sizeof(small), &len), GW_OK);
    assert_int_equal(gw_mcp_header_decode("Hello!", small, sizeof(small), &len), GW_ELIMIT);
    assert_int_equal(gw_mcp_header_decode("=?base64?SGVsbG8hIQ==?=", small, sizeof(small), &len),
                     GW_ELIMIT);
}

/* A request's headers: name/value pairs, looked up without regard to case as HTTP does. */
struct hdrs {
    const char *kv[8];
};

static const char *lookup(void *ud, const char *name)
{
    struct hdrs *h = ud;
    for (size_t i = 0; i + 1 < 8 && h->kv[i]; i += 2)
        if (strcasecmp(h->kv[i], name) == 0)
            return h->kv[i + 1];
    return NULL;
}

static const char SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
    "\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"N\"},"
    "\"opts\":{\"type\":\"object\",\"properties\":{\"dry\":{\"type\":\"boolean\","
    "\"x-mcp-header\":\"Dry\"}}}}}";

/* Checks args (JSON text) with the given headers; returns the result, message in msg. */
static int check(const char *args_text, struct hdrs *h, char *msg)
{
    json_error_t e;
    json_t *schema = json_loads(SCHEMA, 0, &e);
    json_t *args = json_loads(args_text, JSON_ALLOW_NUL, &e);
    assert_non_null(schema);
    assert_non_null(args);
    struct gw_schema_header d[GW_SCHEMA_HEADERS_MAX];
    size_t n = 0;
    struct gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_schema_headers_scan(schema, d, &n, &err), GW_OK);
    assert_int_equal(n, 3);
    int rc = gw_mcp_param_check(d, n, args, lookup, h, &err);
    strcpy(msg, err.msg);
    json_decref(args);
    json_decref(schema);
    return rc;
}

static void expect_ok(const char *args, struct hdrs h)
{
    char msg[GW_ERROR_MSG_MAX];
    if (check(args, &h, msg) != GW_OK)
        fail_msg("%s refused: %s", args, msg);
}

static void expect_refused(const char *args, struct hdrs h, const char *says)
{
    char msg[GW_ERROR_MSG_MAX];
    if (check(args, &h, msg) != GW_EINVAL)
        fail_msg("%s accepted", args);
    if (!strstr(msg, says))
        fail_msg("%s: message \"%s\" lacks \"%s\"", args, msg, says);
}

static void test_check(void **state)
{
    (void)state;
    expect_ok("{}", (struct hdrs){{NULL}});
    expect_ok("{\"region\":null}", (struct hdrs){{NULL}});
    expect_ok("{\"region\":\"Delhi\"}", (struct hdrs){{"mcp-param-region", "Delhi"}});
    expect_ok("{\"region\":\"Hello\"}", (struct hdrs){{"Mcp-Param-Region", "=?base64?SGVsbG8=?="}});
    expect_ok("{\"region\":\" padded \"}",
              (struct hdrs){{"Mcp-Param-Region", "=?base64?IHBhZGRlZCA=?="}});
    expect_ok("{\"n\":42}", (struct hdrs){{"Mcp-Param-N", "42"}});
    expect_ok("{\"n\":42}", (struct hdrs){{"Mcp-Param-N", "0042"}});
    expect_ok("{\"n\":-7}", (struct hdrs){{"Mcp-Param-N", "-7"}});
    expect_ok("{\"n\":0}", (struct hdrs){{"Mcp-Param-N", "-0"}});
    expect_ok("{\"n\":5.0}", (struct hdrs){{"Mcp-Param-N", "5"}});
    expect_ok("{\"n\":9223372036854775807}", (struct hdrs){{"Mcp-Param-N", "9223372036854775807"}});
    expect_ok("{\"n\":-9223372036854775808}",
              (struct hdrs){{"Mcp-Param-N", "-9223372036854775808"}});
    expect_ok("{\"opts\":{\"dry\":true}}", (struct hdrs){{"Mcp-Param-Dry", "true"}});
    expect_ok("{\"opts\":{\"dry\":false},\"region\":\"x\",\"n\":1}",
              (struct hdrs){{"Mcp-Param-Dry", "false", "Mcp-Param-Region", "x", "Mcp-Param-N",
                             "1"}});
    expect_ok("{\"opts\":5}", (struct hdrs){{NULL}}); /* no such argument on the way */

    expect_refused("{\"region\":\"Delhi\"}", (struct hdrs){{NULL}}, "Mcp-Param-Region header is "
                                                                    "required");
    expect_refused("{\"region\":\"Delhi\"}", (struct hdrs){{"Mcp-Param-Region", "delhi"}},
                   "does not match argument 'region'");
    expect_refused("{\"region\":\"Hello\"}",
                   (struct hdrs){{"Mcp-Param-Region", "=?base64?SGVsbG8?="}}, "not padded base64");
    expect_refused("{}", (struct hdrs){{"Mcp-Param-Region", "Delhi"}}, "absent");
    expect_refused("{\"region\":null}", (struct hdrs){{"Mcp-Param-Region", ""}}, "absent");
    expect_refused("{\"region\":[\"a\"]}", (struct hdrs){{"Mcp-Param-Region", "a"}},
                   "not a scalar");
    expect_refused("{\"n\":42}", (struct hdrs){{"Mcp-Param-N", "+42"}}, "does not match");
    expect_refused("{\"n\":42}", (struct hdrs){{"Mcp-Param-N", "42.0"}}, "does not match");
    expect_refused("{\"n\":42}", (struct hdrs){{"Mcp-Param-N", "4 2"}}, "does not match");
    expect_refused("{\"n\":-42}", (struct hdrs){{"Mcp-Param-N", "42"}}, "does not match");
    expect_refused("{\"n\":1}", (struct hdrs){{"Mcp-Param-N", "18446744073709551617"}},
                   "does not match");
    expect_refused("{\"n\":5.5}", (struct hdrs){{"Mcp-Param-N", "5"}}, "does not match");
    expect_refused("{\"n\":1}", (struct hdrs){{"Mcp-Param-N", ""}}, "does not match");
    expect_refused("{\"opts\":{\"dry\":true}}", (struct hdrs){{"Mcp-Param-Dry", "TRUE"}},
                   "argument 'opts.dry'");
    expect_refused("{\"opts\":{\"dry\":true}}", (struct hdrs){{"Mcp-Param-Dry", "1"}},
                   "does not match");
    expect_refused("{\"region\":\"a\\u0000b\"}", (struct hdrs){{"Mcp-Param-Region", "a"}},
                   "does not match");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
