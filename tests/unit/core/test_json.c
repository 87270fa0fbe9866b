/*
 * tests/unit/core/test_json.c
 * JSON under limits (core/json.h): the depth scanner (brackets inside strings and escaped
 * quotes do not count, early stop), the depth limit (exactly at the limit passes, one deeper
 * fails with GW_ELIMIT), the size limit, syntax errors with line:column, strict UTF-8 (invalid
 * bytes, overlong forms, encoded surrogates, lone surrogate escapes), NUL (\u0000 and raw NUL
 * bytes) rejected, any top-level value accepted, duplicate keys (last wins, documented),
 * compact serialisation into bounded buffers, and the tolerant accessors. The serialiser
 * writes its own bytes: 20,000 generated values (every escape, UTF-8 up to 4 bytes, NUL in keys
 * and strings, extreme integers, reals from random bits) must serialise exactly as jansson's
 * json_dumps does, and what jansson refuses (cycles, strings that are not UTF-8) is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

static int depth(const char *s, int max)
{
    return gw_json_depth(s, strlen(s), max);
}

static void test_depth_scanner(void **state)
{
    (void)state;
    assert_int_equal(depth("1", 0), 0);
    assert_int_equal(depth("\"[[[[\"", 0), 0);
    assert_int_equal(depth("[]", 0), 1);
    assert_int_equal(depth("[[[]]]", 0), 3);
    assert_int_equal(depth("{\"a\":[{\"b\":[]}]}", 0), 4);
    assert_int_equal(depth("[[],[[]],[]]", 0), 3);
    /* brackets inside strings do not count, escaped quotes do not end the string */
    assert_int_equal(depth("[\"[[[[{{{{\"]", 0), 1);
    assert_int_equal(depth("[\"\\\"[[[[\"]", 0), 1);
    assert_int_equal(depth("[\"\\\\\",[\"]]]]\"]]", 0), 2);
    assert_int_equal(depth("{\"k[\":{\"v{\":\"}}}}\"}}", 0), 2);
    /* early stop: returns max + 1 as soon as the limit is passed */
    assert_int_equal(depth("[[[[[[[[[[", 3), 4);
    /* the length bounds the scan */
    assert_int_equal(gw_json_depth("[[[[", 2, 0), 2);
}

static json_t *parse(const char *s, size_t max_bytes, int max_depth, struct gw_error *err)
{
    struct gw_json_limits lim = {max_bytes, max_depth};
    return gw_json_parse(s, strlen(s), &lim, err);
}

static void expect_reject(const char *s, size_t len, int want_code, const char *needle)
{
    struct gw_json_limits lim = {1u << 20, 64};
    struct gw_error err = {0};
    json_t *v = gw_json_parse(s, len, &lim, &err);
    if (v) {
        char *d = gw_json_dumps(v);
        json_decref(v);
        fail_msg("accepted %zu bytes as %s", len, d ? d : "?");
    }
    assert_int_equal(err.code, want_code);
    if (needle && !strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct gw_error err = {0};
    json_t *v = parse("[[[[[[[[1]]]]]]]]", 0, 8, &err); /* depth 8 */
    assert_non_null(v);
    json_decref(v);
    v = parse("[[[[[[[[[1]]]]]]]]]", 0, 8, &err); /* depth 9 */
    assert_null(v);
    assert_int_equal(err.code, GW_ELIMIT);
    assert_non_null(strstr(err.msg, "deeper than the limit of 8"));
    /* a string full of brackets is not nesting */
    v = parse("[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]", 0, 2, &err);
    assert_non_null(v);
    json_decref(v);
    v = parse("{\"a\":{\"b\":{\"c\":\"{{{{{{{{{{{{{{\"}}}", 0, 3, &err);
    assert_non_null(v);
    json_decref(v);
    /* the depth check runs before the parser: a huge unbalanced prefix is refused cheaply */
    char deep[100001];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    v = parse(deep, 0, 64, &err);
    assert_null(v);
    assert_int_equal(err.code, GW_ELIMIT);
    /* no limit configured: jansson's own depth limit still refuses it (no stack overflow) */
    v = parse(deep, 0, 0, &err);
    assert_null(v);
}

static void test_size_limit(void **state)
{
    (void)state;
    struct gw_error err = {0};
    json_t *v = parse("[1,2,3]", 7, 0, &err);
    assert_non_null(v);
    json_decref(v);
    v = parse("[1,2,3] ", 7, 0, &err);
    assert_null(v);
    assert_int_equal(err.code, GW_ELIMIT);
    assert_non_null(strstr(err.msg, "8 bytes exceeds the limit of 7"));
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_reject("", 0, GW_EINVAL, "invalid JSON");
    expect_reject("{", 1, GW_EINVAL, "line 1");
    expect_reject("{\"a\":1,}", 8, GW_EINVAL, "line 1 column");
    expect_reject("{\n\"a\":\n}", 8, GW_EINVAL, "line 3");
    expect_reject("[1] [2]", 7, GW_EINVAL, NULL);     /* trailing data */
    expect_reject("{'a':1}", 7, GW_EINVAL, NULL);     /* single quotes */
    expect_reject("[NaN]", 5, GW_EINVAL, NULL);
    expect_reject("[01]", 4, GW_EINVAL, NULL);
    expect_reject("[1e99999]", 9, GW_EINVAL, NULL);   /* real overflow */
    expect_reject("[99999999999999999999999]", 25, GW_EINVAL, NULL); /* integer overflow */
    expect_reject("\"\\x41\"", 6, GW_EINVAL, NULL);  /* invalid escape */
    expect_reject("\"tab\there\"", 10, GW_EINVAL, NULL); /* raw control character */
}

static void test_utf8_and_nul(void **state)
{
    (void)state;
    /* invalid UTF-8 bytes in a string */
    expect_reject("[\"\xff\"]", 5, GW_EINVAL, NULL);
    expect_reject("[\"\xc3\"]", 5, GW_EINVAL, NULL);             /* truncated sequence */
    expect_reject("[\"\xc0\xaf\"]", 6, GW_EINVAL, NULL);         /* overlong '/' */
    expect_reject("[\"\xe0\x80\xaf\"]", 7, GW_EINVAL, NULL);     /* overlong, 3 bytes */
    expect_reject("[\"\xed\xa0\x80\"]", 7, GW_EINVAL, NULL);     /* encoded surrogate */
    expect_reject("[\"\xf4\x90\x80\x80\"]", 8, GW_EINVAL, NULL); /* above U+10FFFF */
    expect_reject("{\"\xfe\":1}", 7, GW_EINVAL, NULL);           /* in a key */
    /* lone surrogate escapes */
    expect_reject("[\"\\ud800\"]", 10, GW_EINVAL, NULL);
    expect_reject("[\"\\udc00x\"]", 11, GW_EINVAL, NULL);
    /* NUL: escaped in a string or a key, or a raw byte */
    expect_reject("[\"a\\u0000b\"]", 12, GW_EINVAL, NULL);
    expect_reject("{\"a\\u0000\":1}", 13, GW_EINVAL, NULL);
    expect_reject("[\"a\0b\"]", 7, GW_EINVAL, NULL);
    expect_reject("[1]\0", 4, GW_EINVAL, NULL);
    /* valid multi-byte text and a valid surrogate pair are accepted */
    struct gw_error err = {0};
    json_t *v = parse("[\"h\xc3\xa9llo \xe2\x82\xac \\ud83d\\ude00 \xf0\x9f\x98\x80\"]", 0, 4,
                      &err);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_array_get(v, 0)),
                        "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
    json_decref(v);
}

static void test_any_value_and_duplicates(void **state)
{
    (void)state;
    struct gw_error err = {0};
    const char *scalars[] = {"5", "-1.5", "\"x\"", "null", "true", "false", "[]", "{}"};
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        json_t *v = parse(scalars[i], 0, 4, &err);
        if (!v)
            fail_msg("'%s' refused: %s", scalars[i], err.msg);
        json_decref(v);
    }
    /* duplicate keys are accepted and the last one wins (what jansson does; the JSON-RPC layer
     * sees one value per key, so a message cannot carry two methods) */
    json_t *v = parse("{\"method\":\"a\",\"method\":\"b\"}", 0, 4, &err);
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 1);
    assert_string_equal(gw_json_str(v, "method"), "b");
    json_decref(v);
    /* NULL limits: no limits */
    v = gw_json_parse("[[1]]", 5, NULL, &err);
    assert_non_null(v);
    json_decref(v);
    /* err may be NULL */
    assert_null(gw_json_parse("{", 1, NULL, NULL));
}

static void test_dump(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:[i,s,n,b],s:{s:f}}", "a", 1, "x\n\"", 1, "o", "k", 0.5);
    struct gw_buf b;
    gw_buf_init(&b, 1024);
    assert_int_equal(gw_json_dump(v, &b), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "{\"a\":[1,\"x\\n\\\"\",null,true],\"o\":{\"k\":0.5}}");
    gw_buf_fini(&b);
    /* too small a buffer: GW_ELIMIT */
    gw_buf_init(&b, 10);
    assert_int_equal(gw_json_dump(v, &b), GW_ELIMIT);
    gw_buf_fini(&b);
    char *s = gw_json_dumps(v);
    assert_string_equal(s, "{\"a\":[1,\"x\\n\\\"\",null,true],\"o\":{\"k\":0.5}}");
    gw_free(s);
    json_decref(v);
    /* scalars serialise too */
    json_t *n = json_integer(-7);
    s = gw_json_dumps(n);
    assert_string_equal(s, "-7");
    gw_free(s);
    json_decref(n);
    /* a serialised string never contains a raw newline (SSE and stdio framing rely on it) */
    json_t *t = json_string("line1\nline2\r\u2028");
    s = gw_json_dumps(t);
    assert_null(strchr(s, '\n'));
    assert_null(strchr(s, '\r'));
    gw_free(s);
    json_decref(t);
}

/* gw_json_dump writes its own bytes (json.c): they must be jansson's, byte for byte */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static json_t *gen_string(bool key_like, size_t *len_out, char *out)
{
    /* ASCII, every control character, quotes, backslash, slash, DEL, 2/3/4-byte UTF-8, NUL */
    static const char *const pieces[] = {"a", "Z", " ", "\"", "\\", "/", "\x7f", "\x01", "\x1f",
                                         "\b", "\f", "\n", "\r", "\t", "\xc3\xa9", "\xe2\x80\xa8",
                                         "\xef\xbf\xbf", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
                                         "</script>", "\\u0000", "%s%n"};
    size_t n = 0, parts = next() % 8;
    for (size_t i = 0; i < parts; i++) {
        if (next() % 16 == 0) {
            out[n++] = '\0';
            continue;
        }
        const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(out + n, p, strlen(p));
        n += strlen(p);
    }
    if (next() % 3 == 0) /* and one of every control character now and then */
        out[n++] = (char)(next() % 0x20);
    *len_out = n;
    return key_like ? NULL : json_stringn(out, n);
}

static json_t *gen_real(void)
{
    static const double fixed[] = {0.0, -0.0, 0.5, 9.99, 18.588, 1e21, 1e-7, 123456789012345678.0,
                                   1.0, -3.0, 5e-324, 1.7976931348623157e308, 0.1, 100.0, 1e16};
    if (next() % 2)
        return json_real(fixed[next() % (sizeof(fixed) / sizeof(fixed[0]))]);
    for (;;) { /* any finite double, from its bits */
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof(d));
        json_t *r = json_real(d);
        if (r)
            return r;
    }
}

static json_t *gen_value(int depth)
{
    char tmp[256];
    size_t n;
    switch (next() % (depth < 5 ? 9 : 6)) {
    case 0: return json_null();
    case 1: return json_boolean(next() % 2);
    case 2: {
        static const json_int_t ints[] = {0, -1, 1, 42, INT64_MAX, INT64_MIN, -9007199254740993LL};
        return json_integer(next() % 2 ? ints[next() % 7] : (json_int_t)next());
    }
    case 3: return gen_real();
    case 4:
    case 5: return gen_string(false, &n, tmp);
    case 6:
    case 7: {
        json_t *o = json_object();
        for (size_t i = 0, k = next() % 5; i < k; i++) {
            gen_string(true, &n, tmp);
            json_object_setn_new(o, tmp, n, gen_value(depth + 1));
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        for (size_t i = 0, k = next() % 5; i < k; i++)
            json_array_append_new(a, gen_value(depth + 1));
        return a;
    }
    }
}

static void same_as_jansson(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *got = gw_json_dumps(v);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    if (strcmp(got, want))
        fail_msg("gw_json_dumps wrote\n  %s\njansson wrote\n  %s", got, want);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    gw_buf_adds(&b, "x");
    assert_int_equal(gw_json_dump(v, &b), GW_OK);
    assert_string_equal(gw_buf_ptr(&b) + 1, want);
    gw_buf_fini(&b);
    gw_free(got);
    free(want);
}

static void test_dump_same_bytes_as_jansson(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        json_t *v = gen_value(0);
        same_as_jansson(v);
        json_decref(v);
    }
    /* deeper than the writer goes: jansson writes it (same bytes) */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 400; i++) {
        json_t *in = json_object();
        json_array_append_new(cur, in);
        cur = json_array();
        json_object_set_new(in, "k", cur);
    }
    same_as_jansson(deep);
    json_decref(deep);
    /* a cycle: refused by both (NULL, GW_ELIMIT, buffer unchanged) */
    json_t *a = json_array(), *o = json_object();
    json_array_append(a, o);
    json_object_set(o, "a", a);
    same_as_jansson(a);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    gw_buf_adds(&b, "keep");
    assert_int_equal(gw_json_dump(a, &b), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "keep");
    gw_buf_fini(&b);
    json_object_del(o, "a");
    json_decref(a);
    json_decref(o);
    /* strings that are not UTF-8 (only *_nocheck makes them): refused by both */
    static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
                                      "\x80", "\xff", "ok\xc3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *v = json_pack("[s,o]", "fine", json_string_nocheck(bad[i]));
        same_as_jansson(v);
        json_decref(v);
    }
    /* a buffer too small: GW_ELIMIT and nothing of the value left in it */
    json_t *v = json_pack("{s:s}", "key", "a value longer than the buffer");
    gw_buf_init(&b, 16);
    gw_buf_adds(&b, "pre");
    assert_int_equal(gw_json_dump(v, &b), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "pre");
    gw_buf_fini(&b);
    json_decref(v);
    assert_null(gw_json_dumps(NULL));
}

static void test_accessors(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:s,s:i,s:n}", "s", "v", "i", 3, "n");
    assert_string_equal(gw_json_str(o, "s"), "v");
    assert_null(gw_json_str(o, "i"));
    assert_null(gw_json_str(o, "n"));
    assert_null(gw_json_str(o, "missing"));
    assert_null(gw_json_str(NULL, "s"));
    json_t *arr = json_array();
    assert_null(gw_json_str(arr, "s"));
    assert_true(gw_json_is_int_or_str(json_object_get(o, "s")));
    assert_true(gw_json_is_int_or_str(json_object_get(o, "i")));
    assert_false(gw_json_is_int_or_str(json_object_get(o, "n")));
    json_t *r = json_real(1.0);
    assert_false(gw_json_is_int_or_str(r));
    assert_false(gw_json_is_int_or_str(NULL));
    json_decref(r);
    json_decref(arr);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_scanner),  cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_utf8_and_nul),   cmocka_unit_test(test_any_value_and_duplicates),
        cmocka_unit_test(test_dump),           cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_dump_same_bytes_as_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
