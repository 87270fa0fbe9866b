/*
 * tests/unit/core/test_json.c
 * JSON under limits (core/json.h): the depth scanner (brackets inside strings and escaped
 * quotes do not count, early stop), the depth limit (exactly at the limit passes, one deeper
 * fails with GW_ELIMIT), the size limit, syntax errors with line:column, strict UTF-8 (invalid
 * bytes, overlong forms, encoded surrogates, lone surrogate escapes), NUL (\u0000 and raw NUL
 * bytes) rejected, any top-level value accepted, duplicate keys (last wins, documented),
 * compact serialisation into bounded buffers, and the tolerant accessors.
 * The writer: reals in their shortest round-trip form (73.7389, 0.1, 1e-7, 5.0) in every
 * serialisation, big numbers (integers beyond 64 bits, reals beyond double range) parsed and
 * written back exactly, unforgeable markers, pretty and sorted output, escapes as jansson's.
 * The fast paths against references: the plain decimal against libc's %.15g and the shortest
 * %.*e that reads back; the run-copying escaper against a byte-by-byte one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

#include <math.h>
#include <stdio.h>
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
    /* numbers beyond jansson's range are big numbers now (test_bignum), but a bad literal
     * next to one still fails, and an escaped NUL in the document keeps the overflow error */
    expect_reject("[99999999999999999999999, 01]", 29, GW_EINVAL, NULL);
    expect_reject("[\"\\u0000\", 99999999999999999999999]", 35, GW_EINVAL, NULL);
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


/* The writer's text for a double. */
static void expect_real(double d, const char *want)
{
    json_t *v = json_real(d);
    char *s = gw_json_dumps(v);
    assert_string_equal(s, want);
    /* and it reads back to the same double */
    json_t *back = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_non_null(back);
    assert_true(json_real_value(back) == d);
    json_decref(back);
    gw_free(s);
    json_decref(v);
}

/* The reference for one double: %.15g when it reads back and is in fixed notation, and the
 * fewest significant digits any %.*e text that reads back has (ECMAScript's shortest). */
static bool reference_decimal(double d, char *out, size_t size, int *shortest)
{
    snprintf(out, size, "%.15g", d);
    if (strtod(out, NULL) != d || strchr(out, 'e'))
        return false;
    char e[40];
    for (*shortest = 1; *shortest <= 17; (*shortest)++) {
        snprintf(e, sizeof(e), "%.*e", *shortest - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    return true;
}

static int significant_digits(const char *s)
{
    int n = 0, lead = 1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (lead && *s == '0'))
            continue;
        lead = 0;
        n++;
    }
    /* trailing zeros of an integer are not significant (ECMAScript writes 1500 from "15") */
    for (s--; n > 1 && *s == '0'; s--)
        n--;
    return n;
}

/* The decimal fast path against libc's printf and strtod: the same text as %.15g, it reads
 * back, it has the fewest digits, and it declines only what it must (outside 1e-4..1e15, or
 * more than 15 significant digits). Short decimals (as APIs send them) and random bit
 * patterns, from a fixed seed. */
static void test_decimal_fast_path(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned taken = 0;
    for (int i = 0; i < 400000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        if (i % 2) {
            memcpy(&d, &x, sizeof(d));
            if (!isfinite(d))
                continue;
        } else { /* m / 10^k for up to 16 digits and up to 19 places, either sign */
            char t[48];
            int digits = 1 + (int)(x % 16), k = (int)((x >> 8) % 20);
            unsigned long long m = (x >> 16) % 10000000000000000ull;
            for (int j = digits; j < 16; j++)
                m /= 10;
            snprintf(t, sizeof(t), "%s%llue-%d", (x >> 63) ? "-" : "", m, k);
            d = strtod(t, NULL);
        }
        char got[40], want[40];
        int shortest = 0;
        size_t n = gw_json_format_decimal(d, got, sizeof(got));
        bool ref = reference_decimal(d, want, sizeof(want), &shortest) && fabs(d) >= 1e-4;
        if (n) {
            taken++;
            if (strcmp(got, want) != 0 || strlen(got) != n || strtod(got, NULL) != d)
                fail_msg("%.17g: fast path %s, %%.15g %s", d, got, want);
            if (significant_digits(got) != shortest)
                fail_msg("%.17g: %s has %d digits, shortest %d", d, got, significant_digits(got),
                         shortest);
        } else if (ref && fabs(d) < 1e15) {
            fail_msg("%.17g: declined, but %%.15g gives %s", d, want);
        }
    }
    assert_true(taken > 100000); /* most short decimals are in its range and take it */
    char tiny[8];
    assert_int_equal(gw_json_format_decimal(1.5, tiny, sizeof(tiny)), 0); /* no room: declined */
}

/* The escaper (runs of plain bytes copied whole) against a byte-by-byte reference, over
 * strings of every length up to 40 whose bytes are drawn mostly from the edges: the escaped
 * characters, their neighbours (0x1f/0x20, '!'/'#', '['/']'), bytes >= 0x80 and 0x7f. */
static void test_escape_words(void **state)
{
    (void)state;
    static const unsigned char pick[] = {0x00, 0x08, 0x1f, 0x20, '!',  '"',  '#',  '[',  '\\',
                                         ']',  'a',  0x7f, 0x80, 0xa2, 0xdc, 0xff, '\n', '\t'};
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < 200000; i++) {
        char s[40], got[6 * 40], want[6 * 40];
        size_t n = (size_t)i % 41;
        for (size_t j = 0; j < n; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s[j] = (char)((x & 3) ? pick[(x >> 8) % sizeof(pick)] : 'a' + (x >> 8) % 26);
        }
        size_t w = 0;
        for (size_t j = 0; j < n; j++) {
            unsigned char c = (unsigned char)s[j];
            const char *short_form = c == '"'    ? "\\\""
                                     : c == '\\' ? "\\\\"
                                     : c == '\b' ? "\\b"
                                     : c == '\f' ? "\\f"
                                     : c == '\n' ? "\\n"
                                     : c == '\r' ? "\\r"
                                     : c == '\t' ? "\\t"
                                                 : NULL;
            if (short_form)
                w += (size_t)snprintf(want + w, sizeof(want) - w, "%s", short_form);
            else if (c < 0x20)
                w += (size_t)snprintf(want + w, sizeof(want) - w, "\\u%04x", c);
            else
                want[w++] = (char)c;
        }
        size_t g = gw_json_escape(got, s, n, true);
        if (g != w || memcmp(got, want, w) != 0)
            fail_msg("string %d (%zu bytes): escaped %zu bytes, want %zu", i, n, g, w);
    }
}

static void test_real_format(void **state)
{
    (void)state;
    expect_real(73.7389, "73.7389");        /* jansson: 73.738900000000001 */
    expect_real(18.5204, "18.5204");
    expect_real(0.1, "0.1");
    expect_real(0.1 + 0.2, "0.30000000000000004"); /* needs 17 digits: kept exact */
    expect_real(5.0, "5.0");                 /* a real reads back as a real */
    expect_real(-0.5, "-0.5");
    expect_real(1e-7, "1e-07");
    expect_real(1.5e300, "1.5e+300");
    expect_real(123456789.125, "123456789.125");
    /* integers, written digit by digit, at both ends of the range */
    static const json_int_t ints[] = {0, 7, -7, 10, -10, 9223372036854775807LL,
                                      -9223372036854775807LL - 1};
    static const char *const texts[] = {"0", "7", "-7", "10", "-10", "9223372036854775807",
                                        "-9223372036854775808"};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_t *iv = json_integer(ints[i]);
        char *it = gw_json_dumps(iv);
        assert_string_equal(it, texts[i]);
        gw_free(it);
        json_decref(iv);
    }
    /* in a document, as the upstream sent it */
    struct gw_error err = {0};
    const char *body = "{\"lat\":18.5204,\"lng\":73.7389,\"n\":[1.1,2.2,3.3]}";
    json_t *v = gw_json_parse(body, strlen(body), NULL, &err);
    assert_non_null(v);
    char *s = gw_json_dumps(v);
    assert_string_equal(s, body);
    gw_free(s);
    json_decref(v);
}

static void test_bignum(void **state)
{
    (void)state;
    struct gw_error err = {0};
    const char *doc = "{\"max\":18446744073709551615,\"ex\":[123456789012345678901234567890,"
                      "-99999999999999999999],\"r\":1e400,\"ok\":9223372036854775807,"
                      "\"neg\":-9223372036854775808,\"s\":\"18446744073709551615\"}";
    json_t *v = gw_json_parse(doc, strlen(doc), NULL, &err);
    assert_non_null(v);
    json_t *max = json_object_get(v, "max");
    assert_true(gw_json_is_bignum(max));
    assert_true(gw_json_is_number(max));
    assert_true(gw_json_bignum_is_integer(max));
    size_t n;
    const char *t = gw_json_bignum_text(max, &n);
    assert_int_equal(n, 20);
    assert_memory_equal(t, "18446744073709551615", 20);
    assert_true(gw_json_number(max) > 1.8e19);
    assert_false(gw_json_bignum_is_integer(json_object_get(v, "r")));
    assert_true(gw_json_number(json_object_get(v, "r")) > 1e308); /* HUGE_VAL */
    /* what fits stays an ordinary integer; a string stays a string */
    assert_true(json_is_integer(json_object_get(v, "ok")));
    assert_true(json_is_integer(json_object_get(v, "neg")));
    assert_false(gw_json_is_bignum(json_object_get(v, "s")));
    assert_string_equal(gw_json_str(v, "s"), "18446744073709551615");
    assert_null(gw_json_str(v, "max")); /* not a string for the accessors */
    /* written back exactly, in every serialisation */
    char *s = gw_json_dumps(v);
    assert_string_equal(s, doc);
    gw_free(s);
    s = gw_json_dumps_ex(v, GW_JSON_SORTED);
    assert_non_null(strstr(s, "\"max\":18446744073709551615"));
    gw_free(s);
    json_decref(v);
    /* a top-level big number, and one in YAML-ish places: keys are strings anyway */
    v = gw_json_parse("340282366920938463463374607431768211456", 39, NULL, &err);
    assert_true(gw_json_is_bignum(v));
    s = gw_json_dumps(v);
    assert_string_equal(s, "340282366920938463463374607431768211456");
    gw_free(s);
    json_decref(v);
    /* constructor checks the literal */
    assert_null(gw_json_bignum("12a", 3));
    assert_null(gw_json_bignum("01", 2));
    assert_null(gw_json_bignum("", 0));
    v = gw_json_bignum("-1.5e999", 8);
    assert_non_null(v);
    s = gw_json_dumps(v);
    assert_string_equal(s, "-1.5e999");
    gw_free(s);
    json_decref(v);
    /* a string that merely looks like a marker cannot be made from input */
    v = gw_json_parse("[\"\\u0000123\"]", 13, NULL, &err);
    assert_null(v);
}

static void test_dump_flags(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:i,s:[i,{}],s:{s:[]}}", "b", 1, "a", 2, "c", "z", "");
    char *s = gw_json_dumps_ex(v, GW_JSON_SORTED);
    assert_string_equal(s, "{\"a\":[2,{}],\"b\":1,\"c\":{\"z\":[]}}");
    gw_free(s);
    s = gw_json_dumps_ex(v, GW_JSON_PRETTY);
    assert_string_equal(s, "{\n  \"b\": 1,\n  \"a\": [\n    2,\n    {}\n  ],\n  \"c\": {\n    "
                           "\"z\": []\n  }\n}");
    gw_free(s);
    json_decref(v);
    /* escapes are jansson's, byte for byte */
    json_t *e = json_string("q\" b\\ \b\f\n\r\t \x01\x1f \x7f / \xc3\xa9 \xe2\x80\xa8");
    s = gw_json_dumps(e);
    char *j = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(s, j);
    gw_free(s);
    gw_free(j);
    json_decref(e);
    /* too deep a value is refused and leaves the buffer as it was */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 2100; i++) {
        json_t *nx = json_array();
        json_array_append_new(cur, nx);
        cur = nx;
    }
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    gw_buf_adds(&b, "x");
    assert_int_equal(gw_json_dump(deep, &b), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "x");
    gw_buf_fini(&b);
    json_decref(deep);
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

/* The fast reader (yajl building jansson values) against jansson's json_loadb: same bytes
 * when serialised, or declined (left to jansson) where the two could differ. */
static char *dumped(const json_t *v)
{
    struct gw_buf b;
    gw_buf_init(&b, 1 << 16);
    assert_int_equal(gw_json_dump(v, &b), GW_OK);
    assert_int_equal(gw_buf_addc(&b, '\0'), GW_OK);
    return gw_buf_take(&b, NULL);
}

static void expect_same(const char *doc, size_t len)
{
    bool taken = false;
    json_t *fast = gw_json_read_fast(doc, len, &taken);
    assert_true(taken);
    assert_non_null(fast);
    json_error_t je;
    json_t *ref = json_loadb(doc, len, JSON_DECODE_ANY, &je);
    assert_non_null(ref);
    char *a = dumped(fast), *b = dumped(ref);
    assert_string_equal(a, b);
    gw_free(a);
    gw_free(b);
    json_decref(fast);
    json_decref(ref);
}

static void expect_refused(const char *doc, bool taken_expected, const char *message_part)
{
    bool taken = !taken_expected;
    json_t *fast = gw_json_read_fast(doc, strlen(doc), &taken);
    assert_null(fast);
    assert_int_equal(taken, taken_expected);
    struct gw_error err = {0};
    assert_null(gw_json_parse(doc, strlen(doc), NULL, &err));
    assert_int_equal(err.code, GW_EINVAL);
    if (!strstr(err.msg, message_part))
        fail_msg("'%s': message '%s' lacks '%s'", doc, err.msg, message_part);
}

#define EXPECT_SAME(doc) expect_same(doc, strlen(doc))

static void test_fast_reader(void **state)
{
    (void)state;
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                       "\"params\":{\"name\":"
                       "\"get_item\",\"arguments\":{\"id\":\"42\",\"n\":-0,\"r\":-0.0,\"e\":1.5e3,"
                       "\"l\":[true,false,null,[],{}]}}}";
    expect_same(call, strlen(call));
    /* a name and a value with escapes: yajl decodes both into one buffer, the name is kept */
    EXPECT_SAME("{\"a\\n\":\"b\\t\",\"c\\\\\":[\"d\\\"\",\"\\/\"]}");
    /* names longer than the inline key buffer, nested */
    char lng[900];
    snprintf(lng, sizeof lng, "{\"%0300d\":{\"%0200d\":1},\"%0300d\":2}", 1, 2, 3);
    expect_same(lng, strlen(lng));
    /* duplicates: the last value, at the first one's place (jansson's rule) */
    EXPECT_SAME("{\"a\":1,\"b\":2,\"a\":3}");
    json_t *d = gw_json_parse("{\"a\":1,\"b\":2,\"a\":3}", 19, NULL, NULL);
    char *ds = dumped(d);
    assert_string_equal(ds, "{\"a\":3,\"b\":2}");
    gw_free(ds);
    json_decref(d);
    /* raw UTF-8 (checked by jansson's constructors), DEL, whitespace around */
    EXPECT_SAME(" \n[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"\x7f\"]\r\n\t");
    /* nesting: 2048 levels pass, 2049 are refused by both readers */
    char deep[2 * 2049 + 1];
    memset(deep, '[', 2048);
    memset(deep + 2048, ']', 2048);
    expect_same(deep, 4096);
    memset(deep, '[', 2049);
    memset(deep + 2049, ']', 2049);
    deep[4098] = '\0';
    expect_refused(deep, true, "maximum parsing depth");

    /* refused where jansson refuses, with jansson's message */
    expect_refused("[] \"x", true, "premature end of input");
    expect_refused("{\"k\":1}x", true, "end of file expected");
    expect_refused("[01]", true, "invalid token");
    expect_refused("[1.]", true, "invalid token");
    expect_refused("[1,]", true, "unexpected token");
    expect_refused("{\"a\":1}/*c*/", true, "end of file expected");
    expect_refused("[\"\xc0\x80\"]", true, "unable to decode byte");
    expect_refused("[\"\xed\xa0\x80\"]", true, "unable to decode byte");
    expect_refused("{\"\xff\":1}", true, "unable to decode byte");
    expect_refused("[\"a\tb\"]", true, "control character");
    /* declined up front: jansson decides (the reasons are in json.c) */
    expect_refused("[\"\\ud800\"]", false, "invalid Unicode");
    expect_refused("[1,\v2]", false, "invalid token");
    expect_refused("\"top\"x", false, "end of file expected");
    bool taken = true;
    assert_null(gw_json_read_fast("", 0, &taken));
    assert_false(taken);
    json_t *u = gw_json_parse("[\"\\u00e9\"]", 10, NULL, NULL);
    assert_string_equal(json_string_value(json_array_get(u, 0)), "\xc3\xa9");
    json_decref(u);
    /* numbers jansson cannot hold: the fast reader gives up, the big-number path keeps them */
    const char *big = "[18446744073709551616,1e400,-9223372036854775808]";
    assert_null(gw_json_read_fast(big, strlen(big), &taken));
    assert_true(taken);
    json_t *b = gw_json_parse(big, strlen(big), NULL, NULL);
    assert_true(gw_json_is_bignum(json_array_get(b, 0)));
    assert_true(gw_json_is_bignum(json_array_get(b, 1)));
    assert_true(json_is_integer(json_array_get(b, 2)));
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_scanner),  cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_utf8_and_nul),   cmocka_unit_test(test_any_value_and_duplicates),
        cmocka_unit_test(test_dump),           cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_real_format),    cmocka_unit_test(test_bignum),
        cmocka_unit_test(test_decimal_fast_path), cmocka_unit_test(test_escape_words),
        cmocka_unit_test(test_dump_flags),     cmocka_unit_test(test_fast_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
