/*
 * tests/unit/schema/test_schema.c
 * Unit tests of src/schema beyond the official suite: error messages and locations, report
 * rendering, limits (depth, work budget, regex budget, exponential combinators), references
 * and cycles, remote resolution through the callback, the OpenAPI 3.0 and draft-07 dialects,
 * rejection of bad schemas, refcounting and concurrent validation from several threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "schema/schema.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("bad test JSON (%s): %s", je.text, text);
    return j;
}

static struct gw_schema *compile_opt(const char *schema, const struct gw_schema_options *opt)
{
    json_t *j = parse(schema);
    struct gw_schema *s = NULL;
    struct gw_error err;
    gw_error_clear(&err);
    int rc = gw_schema_compile(j, opt, &s, &err);
    json_decref(j);
    if (rc != GW_OK)
        fail_msg("compile failed (%s): %s", gw_rc_name(rc), err.msg);
    return s;
}

static struct gw_schema *compile(const char *schema)
{
    return compile_opt(schema, NULL);
}

/* Compiles and expects failure with `code` and a message containing `needle`. */
static void compile_fails(const char *schema, const struct gw_schema_options *opt, int code,
                          const char *needle)
{
    json_t *j = parse(schema);
    struct gw_schema *s = NULL;
    struct gw_error err;
    gw_error_clear(&err);
    int rc = gw_schema_compile(j, opt, &s, &err);
    json_decref(j);
    assert_null(s);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("expected %s with '%s', got %s: %s", gw_rc_name(code), needle, gw_rc_name(rc),
                 err.msg);
}

static int check(struct gw_schema *s, const char *instance, struct gw_schema_report *rep)
{
    json_t *j = parse(instance);
    int rc = gw_schema_validate(s, j, rep);
    /* the fast path (no report) must agree */
    int rc2 = gw_schema_validate(s, j, NULL);
    json_decref(j);
    assert_int_equal(rc, rc2);
    return rc;
}

static bool valid(const char *schema, const char *instance)
{
    struct gw_schema *s = compile(schema);
    int rc = check(s, instance, NULL);
    gw_schema_release(s);
    return rc == GW_OK;
}

/* Expects exactly one error at `path` for keyword `kw` whose message is `msg`. */
static void one_error_opt(const char *schema, const struct gw_schema_options *opt,
                          const char *instance, const char *path, const char *kw,
                          const char *msg)
{
    struct gw_schema *s = compile_opt(schema, opt);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, instance, &rep), GW_EINVAL);
    if (gw_schema_report_count(&rep) != 1) {
        for (size_t i = 0; i < gw_schema_report_count(&rep); i++)
            printf("  error %zu: %s %s\n", i, gw_schema_report_get(&rep, i)->instance_path,
                   gw_schema_report_get(&rep, i)->message);
        fail_msg("expected 1 error, got %zu", gw_schema_report_count(&rep));
    }
    const struct gw_schema_error *e = gw_schema_report_get(&rep, 0);
    assert_string_equal(e->instance_path, path);
    assert_string_equal(e->keyword, kw);
    assert_string_equal(e->message, msg);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

static void one_error(const char *schema, const char *instance, const char *path, const char *kw,
                      const char *msg)
{
    one_error_opt(schema, NULL, instance, path, kw, msg);
}

/* ---- messages ---- */

static void test_msg_type(void **state)
{
    (void)state;
    one_error("{\"type\":\"string\"}", "5", "", "type", "expected string, found integer 5");
    one_error("{\"type\":[\"string\",\"null\"]}", "1.5", "", "type",
              "expected null or string, found number 1.5");
    one_error("{\"type\":[\"string\",\"integer\",\"null\"]}", "{}", "", "type",
              "expected null, string or integer, found an object");
    one_error("{\"type\":\"integer\"}", "\"5\"", "", "type",
              "expected integer, found string '5'");
    /* 1.0 is an integer */
    assert_true(valid("{\"type\":\"integer\"}", "1.0"));
    assert_false(valid("{\"type\":\"integer\"}", "1.5"));
}

static void test_msg_nested_pattern(void **state)
{
    (void)state;
    const char *schema = "{\"type\":\"object\",\"properties\":{\"vehicle\":{\"type\":\"object\","
                         "\"properties\":{\"registrationNumber\":{\"type\":\"string\","
                         "\"pattern\":\"^[A-Z]{2}[0-9]{2}\"}}}}}";
    struct gw_schema *s = compile(schema);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "{\"vehicle\":{\"registrationNumber\":\"abc\"}}", &rep),
                     GW_EINVAL);
    assert_int_equal(gw_schema_report_count(&rep), 1);
    const struct gw_schema_error *e = gw_schema_report_get(&rep, 0);
    assert_string_equal(e->instance_path, "/vehicle/registrationNumber");
    assert_string_equal(e->keyword, "pattern");
    assert_string_equal(e->schema_path,
                        "#/properties/vehicle/properties/registrationNumber/pattern");
    assert_string_equal(e->message, "value 'abc' does not match pattern '^[A-Z]{2}[0-9]{2}'");
    assert_int_equal(check(s, "{\"vehicle\":{\"registrationNumber\":\"MH12AB1234\"}}", &rep),
                     GW_OK);
    assert_int_equal(gw_schema_report_count(&rep), 0);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

static void test_msg_object_keywords(void **state)
{
    (void)state;
    one_error("{\"required\":[\"dealerId\"]}", "{}", "", "required",
              "missing required property 'dealerId'");
    one_error("{\"properties\":{\"a\":{},\"b\":{}},\"additionalProperties\":false}",
              "{\"a\":1,\"foo\":2}", "/foo", "additionalProperties",
              "additional property 'foo' is not allowed (allowed: a, b)");
    one_error("{\"additionalProperties\":false}", "{\"x\":1}", "/x", "additionalProperties",
              "additional property 'x' is not allowed");
    /* near misses get a hint: LLMs often change the case or the separators of names */
    one_error("{\"properties\":{\"dealerId\":{},\"slot\":{}},\"additionalProperties\":false}",
              "{\"dealerID\":1}", "/dealerID", "additionalProperties",
              "additional property 'dealerID' is not allowed (did you mean 'dealerId'?)");
    one_error("{\"properties\":{\"dealerId\":{}},\"required\":[\"dealerId\"]}",
              "{\"dealer_id\":\"PUN0042\"}", "", "required",
              "missing required property 'dealerId' (the value has 'dealer_id': a misspelling?)");
    one_error("{\"enum\":[\"periodic\",\"repair\"]}", "\"Periodic\"", "", "enum",
              "must be one of: \"periodic\", \"repair\" (found \"Periodic\"; did you mean "
              "\"periodic\"?)");
    one_error("{\"enum\":[\"periodic\",\"repair\"]}", "\"wash\"", "", "enum",
              "must be one of: \"periodic\", \"repair\" (found \"wash\")");
    one_error("{\"properties\":{\"x\":false}}", "{\"x\":1}", "/x", "false",
              "property 'x' is not allowed");
    one_error("{\"minProperties\":2}", "{\"a\":1}", "", "minProperties",
              "object has 1 property; at least 2 are required");
    one_error("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", "", "maxProperties",
              "object has 2 properties; at most 1 is allowed");
    one_error("{\"dependentRequired\":{\"card\":[\"cvv\"]}}", "{\"card\":\"x\"}", "",
              "dependentRequired", "property 'cvv' is required when 'card' is present");
    one_error("{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}", "{\"Foo\":1}", "",
              "propertyNames",
              "property name 'Foo' is invalid: value 'Foo' does not match pattern '^[a-z]+$'");
    one_error("{\"properties\":{\"a\":true},\"unevaluatedProperties\":false}",
              "{\"a\":1,\"b\":2}", "/b", "unevaluatedProperties",
              "property 'b' is not allowed here (it is not defined by the schema)");
}

static void test_msg_enum_const_not(void **state)
{
    (void)state;
    one_error("{\"enum\":[\"a\",\"b\"]}", "\"c\"", "", "enum",
              "must be one of: \"a\", \"b\" (found \"c\")");
    one_error("{\"const\":\"car\"}", "\"boat\"", "", "const",
              "must be exactly \"car\" (found \"boat\")");
    one_error("{\"not\":{\"type\":\"null\"}}", "null", "", "not",
              "value must not match the schema {\"type\":\"null\"}");
    /* a long enum is cut, not dumped whole */
    struct gw_buf b;
    gw_buf_init(&b, 1 << 16);
    gw_buf_adds(&b, "{\"enum\":[");
    for (int i = 0; i < 200; i++)
        gw_buf_printf(&b, "%s\"value-number-%d\"", i ? "," : "", i);
    gw_buf_adds(&b, "]}");
    struct gw_schema *s = compile(gw_buf_ptr(&b));
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "\"nope\"", &rep), GW_EINVAL);
    const char *m = gw_schema_report_get(&rep, 0)->message;
    assert_true(strlen(m) < 600);
    assert_non_null(strstr(m, "more)"));
    assert_non_null(strstr(m, "(found \"nope\")"));
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
    gw_buf_fini(&b);
}

static void test_msg_numbers_strings_arrays(void **state)
{
    (void)state;
    one_error("{\"minimum\":5}", "3", "", "minimum", "value 3 is less than the minimum of 5");
    one_error("{\"maximum\":10.5}", "11", "", "maximum",
              "value 11 is greater than the maximum of 10.5");
    one_error("{\"exclusiveMinimum\":5}", "5", "", "exclusiveMinimum",
              "value 5 must be greater than 5");
    one_error("{\"exclusiveMaximum\":0}", "0.0", "", "exclusiveMaximum",
              "value 0 must be less than 0");
    one_error("{\"multipleOf\":2}", "7", "", "multipleOf", "value 7 is not a multiple of 2");
    one_error("{\"multipleOf\":0.01}", "19.999", "", "multipleOf",
              "value 19.999 is not a multiple of 0.01");
    assert_true(valid("{\"multipleOf\":0.01}", "19.99"));
    one_error("{\"minLength\":3}", "\"ab\"", "", "minLength",
              "string is too short (2 characters); the minimum length is 3");
    /* lengths count code points: "é" is two bytes, one character */
    one_error("{\"maxLength\":2}", "\"\\u00e9\\u00e9\\u00e9\"", "", "maxLength",
              "string is too long (3 characters); the maximum length is 2");
    assert_true(valid("{\"maxLength\":2}", "\"\\u00e9\\u00e9\""));
    assert_true(valid("{\"minLength\":2}", "\"\\ud83d\\ude00\\ud83d\\ude00\""));
    assert_false(valid("{\"minLength\":3}", "\"\\ud83d\\ude00\\ud83d\\ude00\""));
    one_error("{\"minItems\":2}", "[1]", "", "minItems",
              "array has 1 item; at least 2 are required");
    one_error("{\"maxItems\":1}", "[1,2]", "", "maxItems",
              "array has 2 items; at most 1 is allowed");
    one_error("{\"uniqueItems\":true}", "[1,2,1.0]", "", "uniqueItems",
              "items at index 0 and 2 are equal; array items must be unique");
    one_error("{\"contains\":{\"type\":\"string\"}}", "[1,2]", "", "contains",
              "array must contain at least 1 item matching the 'contains' schema (found 0)");
    one_error("{\"items\":{\"type\":\"integer\"}}", "[1,\"x\",3]", "/1", "type",
              "expected integer, found string 'x'");
    one_error("{\"prefixItems\":[{}],\"items\":false}", "[1,2,3]", "", "false",
              "array has 3 items; at most 1 is allowed (the item at index 1 and later ones "
              "are not)");
    one_error("{\"type\":\"object\",\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}",
              "{\"a/b~c\":1}", "/a~1b~0c", "type", "expected string, found integer 1");
    /* long strings are shortened in messages */
    struct gw_schema *s = compile("{\"pattern\":\"^x\"}");
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    char inst[600];
    memset(inst, 'a', sizeof(inst));
    inst[0] = '"';
    inst[sizeof(inst) - 2] = '"';
    inst[sizeof(inst) - 1] = '\0';
    assert_int_equal(check(s, inst, &rep), GW_EINVAL);
    assert_true(strlen(gw_schema_report_get(&rep, 0)->message) < 160);
    assert_non_null(strstr(gw_schema_report_get(&rep, 0)->message, "...'"));
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

static void test_msg_combinators(void **state)
{
    (void)state;
    /* the one alternative that fits the type reports its own errors */
    one_error("{\"anyOf\":[{\"type\":\"string\",\"pattern\":\"^[A-Z]+$\"},{\"type\":\"null\"}]}",
              "\"abc\"", "", "pattern", "value 'abc' does not match pattern '^[A-Z]+$'");
    /* otherwise every alternative says why it failed */
    const char *vehicle =
        "{\"oneOf\":["
        "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"car\"}},\"required\":"
        "[\"kind\"]},"
        "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"bike\"}},\"required\":"
        "[\"kind\"]}]}";
    one_error(vehicle, "{\"kind\":\"boat\"}", "", "oneOf",
              "value does not match any of the 2 alternatives (oneOf): option 1: at /kind: must "
              "be exactly \"car\" (found \"boat\"); option 2: at /kind: must be exactly \"bike\" "
              "(found \"boat\")");
    one_error("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", "5", "", "oneOf",
              "value matches more than one alternative (options 1 and 2) but must match "
              "exactly one (oneOf)");
    /* if/then errors are reported as they are */
    one_error("{\"if\":{\"properties\":{\"mode\":{\"const\":\"pickup\"}}},"
              "\"then\":{\"required\":[\"address\"]}}",
              "{\"mode\":\"pickup\"}", "", "required", "missing required property 'address'");
    one_error("false", "1", "", "false", "no value is allowed here (the schema is 'false')");
}

static void test_report_collects_and_caps(void **state)
{
    (void)state;
    const char *schema = "{\"type\":\"object\",\"required\":[\"a\",\"b\",\"c\"],"
                         "\"properties\":{\"x\":{\"type\":\"string\"},\"y\":{\"maximum\":1}}}";
    struct gw_schema *s = compile(schema);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "{\"x\":1,\"y\":2}", &rep), GW_EINVAL);
    assert_int_equal(gw_schema_report_count(&rep), 5);
    assert_int_equal(gw_schema_report_omitted(&rep), 0);
    assert_null(gw_schema_report_get(&rep, 5));
    /* reuse: the report is reset by the next validation */
    assert_int_equal(check(s, "{\"a\":1,\"b\":1,\"c\":1}", &rep), GW_OK);
    assert_int_equal(gw_schema_report_count(&rep), 0);
    gw_schema_release(s);

    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.max_errors = 2;
    s = compile_opt(schema, &opt);
    assert_int_equal(check(s, "{\"x\":1,\"y\":2}", &rep), GW_EINVAL);
    assert_int_equal(gw_schema_report_count(&rep), 2);
    assert_true(gw_schema_report_omitted(&rep) >= 1);
    struct gw_buf out;
    gw_buf_init(&out, 4096);
    assert_int_equal(gw_schema_report_render(&rep, "arguments", &out), GW_OK);
    assert_string_equal(gw_buf_ptr(&out),
                        "Invalid arguments: 3 or more errors.\n"
                        "- at the top level: missing required property 'a'\n"
                        "- at the top level: missing required property 'b'\n"
                        "- (further errors not shown; fix these first)\n"
                        "Correct the arguments and try again.\n");
    gw_buf_fini(&out);
    json_t *arr = gw_schema_report_json(&rep);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "keyword")),
                        "required");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(arr, 0), "schemaPath")),
        "#/required");
    json_decref(arr);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

static void test_render(void **state)
{
    (void)state;
    struct gw_schema *s =
        compile("{\"type\":\"object\",\"required\":[\"dealerId\"],\"properties\":{\"vehicle\":"
                "{\"properties\":{\"registrationNumber\":{\"pattern\":\"^[A-Z]{2}\"}}}}}");
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "{\"vehicle\":{\"registrationNumber\":\"abc\"}}", &rep),
                     GW_EINVAL);
    struct gw_buf out;
    gw_buf_init(&out, 4096);
    assert_int_equal(gw_schema_report_render(&rep, "arguments", &out), GW_OK);
    assert_string_equal(gw_buf_ptr(&out),
                        "Invalid arguments: 2 errors.\n"
                        "- at the top level: missing required property 'dealerId'\n"
                        "- at /vehicle/registrationNumber: value 'abc' does not match pattern "
                        "'^[A-Z]{2}'\n"
                        "Correct the arguments and try again.\n");
    /* a bounded output buffer is filled, not overrun */
    struct gw_buf small;
    gw_buf_init(&small, 40);
    assert_int_equal(gw_schema_report_render(&rep, NULL, &small), GW_ELIMIT);
    assert_true(gw_buf_len(&small) <= 40);
    gw_buf_fini(&small);
    gw_buf_fini(&out);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

/* ---- limits ---- */

static void test_limit_depth(void **state)
{
    (void)state;
    struct gw_schema *s = compile("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}");
    struct gw_buf b;
    gw_buf_init(&b, 1 << 16);
    for (int i = 0; i < 200; i++)
        gw_buf_addc(&b, '[');
    for (int i = 0; i < 200; i++)
        gw_buf_addc(&b, ']');
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, gw_buf_ptr(&b), &rep), GW_ELIMIT);
    assert_non_null(gw_schema_report_limit(&rep));
    assert_non_null(strstr(gw_schema_report_limit(&rep), "depth limit"));
    struct gw_buf out;
    gw_buf_init(&out, 4096);
    gw_schema_report_render(&rep, "arguments", &out);
    assert_non_null(strstr(gw_buf_ptr(&out), "Validation stopped early"));
    gw_buf_fini(&out);
    /* shallow values are fine */
    assert_int_equal(check(s, "[[[]]]", &rep), GW_OK);
    gw_schema_report_fini(&rep);
    gw_buf_fini(&b);
    gw_schema_release(s);
}

static void test_limit_ref_loop(void **state)
{
    (void)state;
    /* references that never descend into the value compile, and stop at the depth limit */
    struct gw_schema *s = compile("{\"$ref\":\"#\"}");
    assert_int_equal(check(s, "1", NULL), GW_ELIMIT);
    gw_schema_release(s);
    s = compile("{\"$defs\":{\"a\":{\"allOf\":[{\"$ref\":\"#/$defs/b\"}]},"
                "\"b\":{\"anyOf\":[{\"$ref\":\"#/$defs/a\"}]}},\"$ref\":\"#/$defs/a\"}");
    assert_int_equal(check(s, "{}", NULL), GW_ELIMIT);
    gw_schema_release(s);
}

/* d0 = integer; d(i) = {anyOf|allOf: [d(i-1), d(i-1)]}: 2^n work without a budget. */
static char *exponential(const char *comb, int n)
{
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    gw_buf_adds(&b, "{\"$defs\":{\"d0\":{\"type\":\"integer\"}");
    for (int i = 1; i <= n; i++)
        gw_buf_printf(&b,
                      ",\"d%d\":{\"%s\":[{\"$ref\":\"#/$defs/d%d\"},{\"$ref\":\"#/$defs/d%d\"}]}",
                      i, comb, i - 1, i - 1);
    gw_buf_printf(&b, "},\"$ref\":\"#/$defs/d%d\"}", n);
    return gw_buf_take(&b, NULL);
}

static void test_limit_exponential(void **state)
{
    (void)state;
    const char *combs[] = {"anyOf", "oneOf", "allOf"};
    for (size_t i = 0; i < 3; i++) {
        char *text = exponential(combs[i], 25);
        struct gw_schema *s = compile(text);
        struct gw_schema_report rep;
        gw_schema_report_init(&rep);
        /* a string fails every branch (anyOf tries all), an integer passes every one (allOf, oneOf
         * evaluate all): both are 2^25 without the work budget (the depth stays under its limit) */
        const char *inst = i == 0 ? "\"x\"" : "1";
        assert_int_equal(check(s, inst, &rep), GW_ELIMIT);
        assert_non_null(strstr(gw_schema_report_limit(&rep), "work budget"));
        gw_schema_report_fini(&rep);
        gw_schema_release(s);
        gw_free(text);
    }
}

static void test_limit_regex(void **state)
{
    (void)state;
    struct gw_schema *s = compile("{\"pattern\":\"^(a+)+$\"}");
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"", &rep), GW_ELIMIT);
    assert_non_null(strstr(gw_schema_report_limit(&rep), "budget"));
    assert_int_equal(check(s, "\"aaaa\"", &rep), GW_OK);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

static void test_limit_steps_option(void **state)
{
    (void)state;
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.max_steps = 50;
    struct gw_schema *s = compile_opt("{\"items\":{\"type\":\"integer\"}}", &opt);
    struct gw_buf b;
    gw_buf_init(&b, 1 << 16);
    gw_buf_adds(&b, "[0");
    for (int i = 1; i < 100; i++)
        gw_buf_printf(&b, ",%d", i);
    gw_buf_adds(&b, "]");
    assert_int_equal(check(s, gw_buf_ptr(&b), NULL), GW_ELIMIT);
    assert_int_equal(check(s, "[1,2,3]", NULL), GW_OK);
    gw_buf_fini(&b);
    gw_schema_release(s);
}

static void test_limit_numbers_and_unique(void **state)
{
    (void)state;
    /* quotient overflow and underflow neither crash nor mis-validate */
    assert_false(valid("{\"multipleOf\":1e-300}", "1e300"));
    assert_true(valid("{\"multipleOf\":0.5}", "1e308"));
    assert_false(valid("{\"multipleOf\":0.123456789}", "1e308"));
    assert_true(valid("{\"multipleOf\":3}", "9223372036854775806"));
    assert_false(valid("{\"maximum\":9223372036854775806}", "9223372036854775807"));
    assert_true(valid("{\"minimum\":9007199254740992}", "9007199254740993"));
    /* uniqueItems on a large array uses hashing: 20000 items */
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    gw_buf_adds(&b, "[0");
    for (int i = 1; i < 20000; i++)
        gw_buf_printf(&b, ",%d", i);
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.max_steps = 1000000;
    struct gw_schema *s = compile_opt("{\"uniqueItems\":true}", &opt);
    gw_buf_adds(&b, "]");
    assert_int_equal(check(s, gw_buf_ptr(&b), NULL), GW_OK);
    gw_buf_reset(&b);
    gw_buf_adds(&b, "[{\"a\":[1,2]}");
    for (int i = 1; i < 5000; i++)
        gw_buf_printf(&b, ",{\"a\":[%d,2]}", i);
    gw_buf_adds(&b, ",{\"a\":[4321,2.0]}]");
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, gw_buf_ptr(&b), &rep), GW_EINVAL);
    assert_string_equal(gw_schema_report_get(&rep, 0)->message,
                        "items at index 4321 and 5000 are equal; array items must be unique");
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
    gw_buf_fini(&b);
}

/* ---- references ---- */

static void test_refs_and_cycles(void **state)
{
    (void)state;
    const char *tree = "{\"$defs\":{\"node\":{\"type\":\"object\",\"required\":[\"value\"],"
                       "\"properties\":{\"value\":{\"type\":\"integer\"},\"children\":{\"type\":"
                       "\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}}}},"
                       "\"$ref\":\"#/$defs/node\"}";
    assert_true(valid(tree, "{\"value\":1,\"children\":[{\"value\":2,\"children\":[{\"value\":"
                            "3}]},{\"value\":4}]}"));
    one_error(tree, "{\"value\":1,\"children\":[{\"value\":2,\"children\":[{\"value\":\"x\"}]}]}",
              "/children/0/children/0/value", "type", "expected integer, found string 'x'");
    /* mutual recursion */
    const char *ab = "{\"$defs\":{\"a\":{\"type\":\"object\",\"properties\":{\"b\":{\"$ref\":"
                     "\"#/$defs/b\"}}},\"b\":{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":"
                     "\"#/$defs/a\"}}}},\"$ref\":\"#/$defs/a\"}";
    assert_true(valid(ab, "{\"b\":{\"a\":{\"b\":{}}}}"));
    assert_false(valid(ab, "{\"b\":{\"a\":{\"b\":5}}}"));
    /* anchors and $id-relative refs */
    assert_true(valid("{\"$id\":\"https://ex.test/root.json\",\"$ref\":\"item.json\",\"$defs\":"
                      "{\"i\":{\"$id\":\"item.json\",\"$anchor\":\"it\",\"type\":\"string\"}}}",
                      "\"x\""));
    assert_false(valid("{\"$ref\":\"#num\",\"$defs\":{\"n\":{\"$anchor\":\"num\",\"type\":"
                       "\"number\"}}}",
                       "\"x\""));
    /* the 2020-12 metaschema is built in: schemas can be validated as instances */
    struct gw_schema *meta = compile("{\"$ref\":\"https://json-schema.org/draft/2020-12/schema\"}");
    assert_int_equal(check(meta, "{\"type\":\"object\",\"properties\":{\"a\":{\"minLength\":1}}}",
                           NULL),
                     GW_OK);
    assert_int_equal(check(meta, "{\"type\":\"objekt\"}", NULL), GW_EINVAL);
    assert_int_equal(check(meta, "{\"properties\":{\"a\":{\"minLength\":-1}}}", NULL), GW_EINVAL);
    gw_schema_release(meta);
}

static void test_refs_bad(void **state)
{
    (void)state;
    compile_fails("{\"$ref\":\"https://example.com/other.json\"}", NULL, GW_ENOTFOUND,
                  "no network access");
    compile_fails("{\"properties\":{\"a\":{\"$ref\":\"#/$defs/missing\"}}}", NULL, GW_EINVAL,
                  "#/properties/a/$ref: $ref '#/$defs/missing' points to nothing");
    compile_fails("{\"$ref\":\"#nowhere\"}", NULL, GW_EINVAL, "no anchor 'nowhere'");
    compile_fails("{\"$ref\":5}", NULL, GW_EINVAL, "expected a URI reference string");
    compile_fails("{\"$defs\":{\"x\":5},\"$ref\":\"#/$defs/x\"}", NULL, GW_EINVAL,
                  "not a schema");
}

struct docs {
    const char *uri, *text;
    int calls;
};

static int resolve_mem(void *ud, const char *uri, json_t **out, struct gw_error *err)
{
    struct docs *d = ud;
    d->calls++;
    if (strcmp(uri, "https://schemas.msil.test/boom.json") == 0)
        return GW_ERROR_SET(err, GW_EIO, "store unavailable");
    if (strcmp(uri, d->uri) != 0)
        return GW_ENOTFOUND;
    *out = json_loads(d->text, 0, NULL);
    return *out ? GW_OK : GW_EINVAL;
}

static void test_refs_resolver(void **state)
{
    (void)state;
    struct docs d = {"https://schemas.msil.test/vehicle.json",
                     "{\"$defs\":{\"reg\":{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}\"}},"
                     "\"type\":\"object\",\"properties\":{\"reg\":{\"$ref\":\"#/$defs/reg\"}}}",
                     0};
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.resolve = resolve_mem;
    opt.resolve_ud = &d;
    opt.base_uri = "https://schemas.msil.test/booking.json";
    struct gw_schema *s = compile_opt(
        "{\"properties\":{\"vehicle\":{\"$ref\":\"vehicle.json\"},\"other\":{\"$ref\":"
        "\"vehicle.json#/$defs/reg\"}}}",
        &opt);
    assert_int_equal(d.calls, 1); /* one load serves both references */
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "{\"vehicle\":{\"reg\":\"ab\"},\"other\":\"MH\"}", &rep),
                     GW_EINVAL);
    assert_int_equal(gw_schema_report_count(&rep), 1);
    assert_string_equal(gw_schema_report_get(&rep, 0)->schema_path,
                        "https://schemas.msil.test/vehicle.json#/$defs/reg/pattern");
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
    compile_fails("{\"$ref\":\"nothere.json\"}", &opt, GW_ENOTFOUND,
                  "cannot resolve 'https://schemas.msil.test/nothere.json'");
    compile_fails("{\"$ref\":\"boom.json\"}", &opt, GW_EIO, "store unavailable");
}

static void test_entry_pointer(void **state)
{
    (void)state;
    const char *spec =
        "{\"openapi\":\"3.0.3\",\"components\":{\"schemas\":{"
        "\"Booking\":{\"type\":\"object\",\"required\":[\"vehicle\"],\"properties\":{"
        "\"vehicle\":{\"$ref\":\"#/components/schemas/Vehicle\"},\"slot\":{\"type\":\"string\","
        "\"format\":\"date-time\",\"nullable\":true}}},"
        "\"Vehicle\":{\"type\":\"object\",\"properties\":{\"reg\":{\"type\":\"string\","
        "\"maxLength\":10}}}}}}";
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.dialect = GW_SCHEMA_OPENAPI_30;
    opt.entry = "/components/schemas/Booking";
    struct gw_schema *s = compile_opt(spec, &opt);
    assert_int_equal(gw_schema_dialect_of(s), GW_SCHEMA_OPENAPI_30);
    assert_int_equal(check(s, "{\"vehicle\":{\"reg\":\"MH12AB1234\"},\"slot\":null}", NULL),
                     GW_OK);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(check(s, "{\"vehicle\":{\"reg\":\"MH12AB1234567\"}}", &rep), GW_EINVAL);
    assert_string_equal(gw_schema_report_get(&rep, 0)->instance_path, "/vehicle/reg");
    assert_string_equal(gw_schema_report_get(&rep, 0)->schema_path,
                        "#/components/schemas/Vehicle/properties/reg/maxLength");
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
    opt.entry = "/components/schemas/Nope";
    compile_fails(spec, &opt, GW_EINVAL, "does not exist");
}

/* Compiling one component of a large document touches only what that component reaches. */
static void test_entry_lazy_shared(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 1 << 22);
    gw_buf_adds(&b, "{\"components\":{\"schemas\":{");
    for (int i = 0; i < 5000; i++)
        gw_buf_printf(&b, "\"S%d\":{\"type\":\"object\",\"properties\":{\"n\":{\"$ref\":"
                          "\"#/components/schemas/S%d\"},\"v\":{\"type\":\"integer\"}}},",
                      i, (i + 1) % 5000);
    gw_buf_adds(&b, "\"Leaf\":{\"type\":\"string\"},\"Root\":{\"properties\":{\"leaf\":{"
                    "\"$ref\":\"#/components/schemas/Leaf\"}}}}}}");
    json_t *doc = parse(gw_buf_ptr(&b));
    gw_buf_fini(&b);
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.dialect = GW_SCHEMA_OPENAPI_30;
    opt.entry = "/components/schemas/Root";
    opt.share_document = true;
    opt.max_nodes = 10; /* the whole document has 15000+ subschemas */
    struct gw_schema *s = NULL;
    struct gw_error err;
    assert_int_equal(gw_schema_compile(doc, &opt, &s, &err), GW_OK);
    assert_int_equal(doc->refcount, 2); /* shared, not copied */
    assert_int_equal(check(s, "{\"leaf\":\"x\"}", NULL), GW_OK);
    assert_int_equal(check(s, "{\"leaf\":1}", NULL), GW_EINVAL);
    gw_schema_release(s);
    assert_int_equal(doc->refcount, 1);
    /* a cyclic chain through the document is compiled as far as it reaches */
    opt.entry = "/components/schemas/S0";
    opt.max_nodes = 0;
    assert_int_equal(gw_schema_compile(doc, &opt, &s, &err), GW_OK);
    assert_int_equal(check(s, "{\"v\":1,\"n\":{\"v\":2,\"n\":{\"v\":\"x\"}}}", NULL),
                     GW_EINVAL);
    gw_schema_release(s);
    json_decref(doc);
}

/* ---- dialects ---- */

static void test_openapi30(void **state)
{
    (void)state;
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.dialect = GW_SCHEMA_OPENAPI_30;
    struct gw_schema *s = compile_opt("{\"type\":\"string\",\"nullable\":true,\"enum\":[\"a\","
                                      "\"b\"],\"example\":\"a\",\"x-internal\":{\"type\":5},"
                                      "\"readOnly\":true,\"deprecated\":true,\"xml\":{},"
                                      "\"externalDocs\":{},\"discriminator\":{}}",
                                      &opt);
    assert_int_equal(check(s, "null", NULL), GW_OK);
    assert_int_equal(check(s, "\"a\"", NULL), GW_OK);
    assert_int_equal(check(s, "\"c\"", NULL), GW_EINVAL);
    gw_schema_release(s);
    /* nullable next to allOf (what generators emit for nullable references) admits null */
    s = compile_opt("{\"nullable\":true,\"allOf\":[{\"type\":\"object\"}]}", &opt);
    assert_int_equal(check(s, "null", NULL), GW_OK);
    assert_int_equal(check(s, "5", NULL), GW_EINVAL);
    gw_schema_release(s);
    /* without nullable, null is not a string */
    s = compile_opt("{\"type\":\"string\"}", &opt);
    assert_int_equal(check(s, "null", NULL), GW_EINVAL);
    gw_schema_release(s);
    one_error_opt("{\"type\":\"integer\",\"minimum\":5,\"exclusiveMinimum\":true}", &opt, "5",
                  "", "minimum", "value 5 must be greater than 5");
    s = compile_opt("{\"maximum\":10,\"exclusiveMaximum\":true}", &opt);
    assert_int_equal(check(s, "9.99", NULL), GW_OK);
    assert_int_equal(check(s, "10", NULL), GW_EINVAL);
    gw_schema_release(s);
    s = compile_opt("{\"maximum\":10,\"exclusiveMaximum\":false}", &opt);
    assert_int_equal(check(s, "10", NULL), GW_OK);
    gw_schema_release(s);
    /* $ref siblings are ignored; const/if are not OpenAPI 3.0 keywords */
    s = compile_opt("{\"definitions\":{\"s\":{\"type\":\"string\"}},\"properties\":{\"a\":{"
                    "\"$ref\":\"#/definitions/s\",\"maxLength\":1},\"b\":{\"const\":1},"
                    "\"c\":{\"required\":true,\"type\":\"integer\"}}}",
                    &opt);
    assert_int_equal(check(s, "{\"a\":\"long\",\"b\":2,\"c\":3}", NULL), GW_OK);
    assert_int_equal(check(s, "{\"a\":1}", NULL), GW_EINVAL);
    gw_schema_release(s);
    /* OpenAPI formats are asserted when format assertion is on */
    opt.format_assert = true;
    s = compile_opt("{\"type\":\"integer\",\"format\":\"int32\"}", &opt);
    assert_int_equal(check(s, "2147483647", NULL), GW_OK);
    assert_int_equal(check(s, "2147483648", NULL), GW_EINVAL);
    gw_schema_release(s);
    s = compile_opt("{\"type\":\"string\",\"format\":\"byte\"}", &opt);
    assert_int_equal(check(s, "\"aGVsbG8=\"", NULL), GW_OK);
    assert_int_equal(check(s, "\"not base64!\"", NULL), GW_EINVAL);
    gw_schema_release(s);
    /* a boolean exclusiveMinimum is an error in draft 2020-12 */
    compile_fails("{\"minimum\":1,\"exclusiveMinimum\":true}", NULL, GW_EINVAL,
                  "expected a number");
}

static void test_draft07(void **state)
{
    (void)state;
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.dialect = GW_SCHEMA_DRAFT_07;
    struct gw_schema *s =
        compile_opt("{\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
                    "\"additionalItems\":false,\"definitions\":{\"x\":{\"type\":\"null\"}}}",
                    &opt);
    assert_int_equal(gw_schema_dialect_of(s), GW_SCHEMA_DRAFT_07);
    assert_int_equal(check(s, "[\"a\",1]", NULL), GW_OK);
    assert_int_equal(check(s, "[\"a\",1,2]", NULL), GW_EINVAL);
    assert_int_equal(check(s, "[1]", NULL), GW_EINVAL);
    gw_schema_release(s);
    s = compile_opt("{\"definitions\":{\"s\":{\"type\":\"string\"}},\"$ref\":\"#/definitions/s\","
                    "\"maxLength\":1}",
                    &opt);
    assert_int_equal(check(s, "\"long\"", NULL), GW_OK); /* sibling of $ref ignored */
    gw_schema_release(s);
    s = compile_opt("{\"dependencies\":{\"a\":[\"b\"],\"c\":{\"required\":[\"d\"]}}}", &opt);
    assert_int_equal(check(s, "{\"a\":1,\"b\":1,\"c\":1,\"d\":1}", NULL), GW_OK);
    assert_int_equal(check(s, "{\"a\":1}", NULL), GW_EINVAL);
    assert_int_equal(check(s, "{\"c\":1}", NULL), GW_EINVAL);
    gw_schema_release(s);
    /* $schema overrides the option: a 2020-12 option compiles a draft-07 schema as draft-07 */
    s = compile("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"items\":[{\"type\":"
                "\"string\"}]}");
    assert_int_equal(gw_schema_dialect_of(s), GW_SCHEMA_DRAFT_07);
    assert_int_equal(check(s, "[1]", NULL), GW_EINVAL);
    gw_schema_release(s);
}


/* Numbers beyond jansson's range (core/json.h big numbers): an instance 2^64 is an integer
 * and a number, not a string; bounds and formats see its value; a schema bound beyond 64 bits
 * compiles and applies. */
static bool big_valid(const char *schema, const char *instance)
{
    struct gw_error err = {0};
    json_t *sj = gw_json_parse(schema, strlen(schema), NULL, &err);
    json_t *ij = gw_json_parse(instance, strlen(instance), NULL, &err);
    assert_non_null(sj);
    assert_non_null(ij);
    struct gw_schema *s = NULL;
    if (gw_schema_compile(sj, NULL, &s, &err) != GW_OK)
        fail_msg("compile failed: %s", err.msg);
    int rc = gw_schema_validate(s, ij, NULL);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    assert_int_equal(gw_schema_validate(s, ij, &rep), rc);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
    json_decref(sj);
    json_decref(ij);
    return rc == GW_OK;
}

static void test_big_numbers(void **state)
{
    (void)state;
    const char *big = "18446744073709551616";
    assert_true(big_valid("{\"type\":\"integer\"}", big));
    assert_true(big_valid("{\"type\":\"number\"}", big));
    assert_false(big_valid("{\"type\":\"string\"}", big));
    assert_false(big_valid("{\"type\":\"integer\"}", "1e400"));
    assert_true(big_valid("{\"type\":\"number\"}", "1e400"));
    assert_false(big_valid("{\"maximum\":100}", big));
    assert_true(big_valid("{\"minimum\":100}", big));
    assert_true(big_valid("{\"maxLength\":2}", big)); /* string keywords ignore it */
    /* a bound beyond 64 bits in the schema */
    assert_true(big_valid("{\"maximum\":18446744073709551615}", "5"));
    assert_false(big_valid("{\"minimum\":18446744073709551615}", "5"));
    assert_true(big_valid("{\"enum\":[123456789012345678901234567890]}",
                          "123456789012345678901234567890"));
    assert_false(big_valid("{\"enum\":[123456789012345678901234567890]}",
                           "123456789012345678901234567891"));
    assert_true(big_valid("{\"examples\":[123456789012345678901234567890]}", "1"));
}

static void test_formats(void **state)
{
    (void)state;
    /* annotation by default */
    assert_true(valid("{\"format\":\"date-time\"}", "\"yesterday\""));
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.format_assert = true;
    one_error_opt("{\"format\":\"date-time\"}", &opt, "\"2024-02-30T10:00:00Z\"", "", "format",
                  "value '2024-02-30T10:00:00Z' is not a valid date-time");
    const struct {
        const char *fmt, *ok, *bad;
    } cases[] = {
        {"date", "\"2024-02-29\"", "\"2023-02-29\""},
        {"time", "\"10:00:00+05:30\"", "\"10:00:00\""},
        {"email", "\"dealer@msil.co.in\"", "\"dealer@@msil\""},
        {"uri", "\"https://apim.msil.test/v1?q=1\"", "\"/relative\""},
        {"uuid", "\"123e4567-e89b-12d3-a456-426614174000\"", "\"123e4567\""},
        {"ipv4", "\"10.0.0.1\"", "\"10.0.0.256\""},
        {"ipv6", "\"fe80::1\"", "\"fe80:::1\""},
        {"hostname", "\"apim.msil.test\"", "\"-bad-.test\""},
        {"regex", "\"^[A-Z]{2}$\"", "\"(unclosed\""},
        {"unknown-format", "\"anything\"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char schema[100];
        snprintf(schema, sizeof(schema), "{\"format\":\"%s\"}", cases[i].fmt);
        struct gw_schema *s = compile_opt(schema, &opt);
        if (check(s, cases[i].ok, NULL) != GW_OK)
            fail_msg("%s should accept %s", cases[i].fmt, cases[i].ok);
        if (cases[i].bad && check(s, cases[i].bad, NULL) != GW_EINVAL)
            fail_msg("%s should reject %s", cases[i].fmt, cases[i].bad);
        assert_int_equal(check(s, "42", NULL), GW_OK); /* formats ignore other types */
        gw_schema_release(s);
    }
}

/* ---- bad schemas ---- */

static void test_bad_schemas(void **state)
{
    (void)state;
    compile_fails("{\"type\":\"strin\"}", NULL, GW_EINVAL, "#/type: unknown type \"strin\"");
    compile_fails("{\"properties\":{\"a\":{\"minLength\":-1}}}", NULL, GW_EINVAL,
                  "#/properties/a/minLength: expected a non-negative integer, found -1");
    compile_fails("{\"pattern\":\"(\"}", NULL, GW_EINVAL, "invalid regular expression '('");
    compile_fails("{\"properties\":5}", NULL, GW_EINVAL, "expected an object of schemas");
    compile_fails("{\"items\":[{}]}", NULL, GW_EINVAL, "prefixItems");
    compile_fails("42", NULL, GW_EINVAL, "must be an object or a boolean");
    compile_fails("{\"allOf\":[]}", NULL, GW_EINVAL, "non-empty array");
    compile_fails("{\"allOf\":[5]}", NULL, GW_EINVAL, "#/allOf/0: expected a schema");
    compile_fails("{\"required\":[1]}", NULL, GW_EINVAL, "expected an array of strings");
    compile_fails("{\"multipleOf\":0}", NULL, GW_EINVAL, "must be greater than 0");
    compile_fails("{\"enum\":\"a\"}", NULL, GW_EINVAL, "#/enum: expected an array");
    compile_fails("{\"$schema\":\"https://example.com/my-dialect\"}", NULL, GW_EINVAL,
                  "unsupported $schema");
    compile_fails("{\"$id\":\"https://x.test/a#frag\"}", NULL, GW_EINVAL, "must not have a "
                                                                          "fragment");
    /* nesting beyond the compile limit */
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    for (int i = 0; i < 300; i++)
        gw_buf_adds(&b, "{\"not\":");
    gw_buf_adds(&b, "{}");
    for (int i = 0; i < 300; i++)
        gw_buf_addc(&b, '}');
    compile_fails(gw_buf_ptr(&b), NULL, GW_ELIMIT, "nested deeper than");
    gw_buf_fini(&b);
    /* too many subschemas */
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.max_nodes = 3;
    compile_fails("{\"properties\":{\"a\":{},\"b\":{},\"c\":{}}}", &opt, GW_ELIMIT,
                  "more than 3 subschemas");
    /* an unknown dialect value */
    opt.max_nodes = 0;
    opt.dialect = (enum gw_schema_dialect)42;
    compile_fails("{}", &opt, GW_EINVAL, "unknown dialect");
}

/* ---- lifecycle and threads ---- */

static void test_api_misc(void **state)
{
    (void)state;
    enum gw_schema_dialect d;
    assert_int_equal(gw_schema_dialect_parse("openapi-3.0", &d), GW_OK);
    assert_int_equal(d, GW_SCHEMA_OPENAPI_30);
    assert_int_equal(gw_schema_dialect_parse("openapi-3.0.3", &d), GW_OK);
    assert_int_equal(gw_schema_dialect_parse("draft-07", &d), GW_OK);
    assert_int_equal(d, GW_SCHEMA_DRAFT_07);
    assert_int_equal(gw_schema_dialect_parse("2020-12", &d), GW_OK);
    assert_int_equal(d, GW_SCHEMA_2020_12);
    assert_int_equal(gw_schema_dialect_parse("draft-03", &d), GW_EINVAL);
    assert_string_equal(gw_schema_dialect_name(GW_SCHEMA_OPENAPI_30), "openapi-3.0");
    struct gw_schema *s = compile("true");
    assert_ptr_equal(gw_schema_ref(s), s);
    gw_schema_release(s);
    assert_int_equal(check(s, "{\"any\":[1]}", NULL), GW_OK);
    gw_schema_release(s);
    gw_schema_release(NULL);
    /* the compiled schema does not depend on the caller's JSON afterwards */
    json_t *j = parse("{\"properties\":{\"a\":{\"type\":\"string\"}}}");
    struct gw_error err;
    assert_int_equal(gw_schema_compile(j, NULL, &s, &err), GW_OK);
    json_object_clear(j);
    json_decref(j);
    assert_int_equal(check(s, "{\"a\":1}", NULL), GW_EINVAL);
    gw_schema_release(s);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    s = compile("{}");
    assert_int_equal(gw_schema_validate(s, NULL, &rep), GW_EINVAL);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
}

static void test_settings(void **state)
{
    (void)state;
    struct gw_settings *st = gw_settings_new();
    gw_settings_register(st, gw_schema_settings);
    struct gw_error err;
    assert_int_equal(gw_settings_override(st, "GW_SCHEMA_MAX_ERRORS", "2", &err), GW_OK);
    assert_int_equal(gw_settings_override(st, "GW_SCHEMA_FORMAT_ASSERT", "true", &err), GW_OK);
    assert_int_equal(gw_settings_load(st, NULL, &err), GW_OK);
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    gw_schema_options_from_settings(st, &opt);
    assert_int_equal(opt.max_errors, 2);
    assert_true(opt.format_assert);
    assert_int_equal(opt.max_depth, 64);
    assert_int_equal(opt.max_steps, 100000);
    gw_settings_free(st);
    /* out-of-range values are refused by the settings layer */
    st = gw_settings_new();
    gw_settings_register(st, gw_schema_settings);
    gw_settings_override(st, "GW_SCHEMA_MAX_DEPTH", "5000", &err);
    assert_int_not_equal(gw_settings_load(st, NULL, &err), GW_OK);
    assert_non_null(strstr(err.msg, "GW_SCHEMA_MAX_DEPTH"));
    gw_settings_free(st);
    /* and the options clamp what the stack can take */
    opt.max_depth = 1000000;
    struct gw_schema *s = compile_opt("{\"items\":{\"$ref\":\"#\"}}", &opt);
    assert_int_equal(check(s, "[[[[]]]]", NULL), GW_OK);
    gw_schema_release(s);
}

struct thread_arg {
    struct gw_schema *s;
    int mismatches;
};

static void *worker(void *p)
{
    struct thread_arg *a = p;
    json_t *good = json_loads("{\"reg\":\"MH12AB1234\",\"tags\":[\"a\",\"b\"],\"n\":3}", 0, NULL);
    json_t *bad = json_loads("{\"reg\":\"mh12\",\"tags\":[\"a\",\"a\"],\"n\":30}", 0, NULL);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    for (int i = 0; i < 2000; i++) {
        if (gw_schema_validate(a->s, good, &rep) != GW_OK)
            a->mismatches++;
        if (gw_schema_validate(a->s, bad, &rep) != GW_EINVAL ||
            gw_schema_report_count(&rep) != 3)
            a->mismatches++;
    }
    gw_schema_report_fini(&rep);
    json_decref(good);
    json_decref(bad);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct gw_schema *s =
        compile("{\"type\":\"object\",\"properties\":{\"reg\":{\"pattern\":\"^[A-Z]{2}[0-9]{2}\"},"
                "\"tags\":{\"uniqueItems\":true},\"n\":{\"maximum\":10}},"
                "\"unevaluatedProperties\":false}");
    pthread_t t[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){gw_schema_ref(s), 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &args[i]), 0);
    }
    gw_schema_release(s); /* the threads hold their own references */
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].mismatches, 0);
        gw_schema_release(args[i].s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_type),
        cmocka_unit_test(test_msg_nested_pattern),
        cmocka_unit_test(test_msg_object_keywords),
        cmocka_unit_test(test_msg_enum_const_not),
        cmocka_unit_test(test_msg_numbers_strings_arrays),
        cmocka_unit_test(test_msg_combinators),
        cmocka_unit_test(test_report_collects_and_caps),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_ref_loop),
        cmocka_unit_test(test_limit_exponential),
        cmocka_unit_test(test_limit_regex),
        cmocka_unit_test(test_limit_steps_option),
        cmocka_unit_test(test_limit_numbers_and_unique),
        cmocka_unit_test(test_refs_and_cycles),
        cmocka_unit_test(test_refs_bad),
        cmocka_unit_test(test_refs_resolver),
        cmocka_unit_test(test_entry_pointer),
        cmocka_unit_test(test_entry_lazy_shared),
        cmocka_unit_test(test_openapi30),
        cmocka_unit_test(test_draft07),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_big_numbers),
        cmocka_unit_test(test_bad_schemas),
        cmocka_unit_test(test_api_misc),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
