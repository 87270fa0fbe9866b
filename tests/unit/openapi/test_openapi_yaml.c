/*
 * tests/unit/openapi/test_openapi_yaml.c
 * The document loader (gw_openapi_parse_document): YAML 1.2 core-schema scalar typing,
 * anchors and aliases (shared, not copied), merge keys and their precedence, non-string keys,
 * the billion-laughs, recursive-alias, depth and size limits, syntax errors with line numbers,
 * multi-document streams, and JSON sniffing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "openapi/openapi.h"

#include "core/alloc.h"
#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text, struct gw_error *err)
{
    return gw_openapi_parse_document(text, strlen(text), NULL, err);
}

static json_t *parse_ok(const char *text)
{
    struct gw_error err;
    json_t *v = parse(text, &err);
    if (!v)
        fail_msg("parse failed: %s", err.msg);
    return v;
}

static void test_scalars(void **state)
{
    (void)state;
    json_t *v = parse_ok("a: ~\n"
                         "b: null\n"
                         "c:\n"
                         "d: true\n"
                         "e: False\n"
                         "f: 42\n"
                         "g: -7\n"
                         "h: 0x1F\n"
                         "i: 0o17\n"
                         "j: 3.25\n"
                         "k: 1e3\n"
                         "l: '123'\n"
                         "m: \"true\"\n"
                         "n: 1.0.0\n"
                         "o: yes\n"
                         "p: on\n"
                         "q: .inf\n"
                         "r: 2022-11-30\n"
                         "s: 99999999999999999999\n"
                         "t: !!str 12\n"
                         "u: |\n  line1\n  line2\n"
                         "v: 2.0\n");
    assert_true(json_is_null(json_object_get(v, "a")));
    assert_true(json_is_null(json_object_get(v, "b")));
    assert_true(json_is_null(json_object_get(v, "c")));
    assert_true(json_is_true(json_object_get(v, "d")));
    assert_true(json_is_false(json_object_get(v, "e")));
    assert_int_equal(json_integer_value(json_object_get(v, "f")), 42);
    assert_int_equal(json_integer_value(json_object_get(v, "g")), -7);
    assert_int_equal(json_integer_value(json_object_get(v, "h")), 31);
    assert_int_equal(json_integer_value(json_object_get(v, "i")), 15);
    assert_true(json_is_real(json_object_get(v, "j")));
    assert_true(json_real_value(json_object_get(v, "k")) == 1000.0);
    assert_string_equal(json_string_value(json_object_get(v, "l")), "123");
    assert_string_equal(json_string_value(json_object_get(v, "m")), "true");
    assert_string_equal(json_string_value(json_object_get(v, "n")), "1.0.0");
    /* YAML 1.2: yes/on are strings, not booleans */
    assert_string_equal(json_string_value(json_object_get(v, "o")), "yes");
    assert_string_equal(json_string_value(json_object_get(v, "p")), "on");
    /* no JSON form for infinity: stays a string */
    assert_string_equal(json_string_value(json_object_get(v, "q")), ".inf");
    assert_string_equal(json_string_value(json_object_get(v, "r")), "2022-11-30");
    /* beyond 64 bits: kept exact (a big number, core/json.h) */
    assert_true(gw_json_is_bignum(json_object_get(v, "s")));
    {
        char *bs = gw_json_dumps(json_object_get(v, "s"));
        assert_string_equal(bs, "99999999999999999999");
        gw_free(bs);
    }
    assert_string_equal(json_string_value(json_object_get(v, "t")), "12");
    assert_string_equal(json_string_value(json_object_get(v, "u")), "line1\nline2\n");
    assert_true(json_is_real(json_object_get(v, "v")));
    json_decref(v);
}

static void test_anchors_and_merge(void **state)
{
    (void)state;
    json_t *v = parse_ok("base: &base\n"
                         "  type: string\n"
                         "  maxLength: 10\n"
                         "extra: &extra\n"
                         "  maxLength: 99\n"
                         "  format: email\n"
                         "copy: *base\n"
                         "merged:\n"
                         "  <<: [*base, *extra]\n"
                         "  type: integer\n"
                         "single:\n"
                         "  <<: *extra\n"
                         "quoted:\n"
                         "  '<<': literal\n");
    /* aliases share the anchored value */
    assert_ptr_equal(json_object_get(v, "copy"), json_object_get(v, "base"));
    json_t *m = json_object_get(v, "merged");
    /* explicit keys win, then the first merged mapping */
    assert_string_equal(json_string_value(json_object_get(m, "type")), "integer");
    assert_int_equal(json_integer_value(json_object_get(m, "maxLength")), 10);
    assert_string_equal(json_string_value(json_object_get(m, "format")), "email");
    assert_null(json_object_get(m, "<<"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "single"), "format")),
                        "email");
    /* a quoted "<<" is an ordinary key */
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "quoted"), "<<")),
                        "literal");
    json_decref(v);
}

static void test_non_string_keys(void **state)
{
    (void)state;
    json_t *v = parse_ok("200: ok\n"
                         "true: yes\n"
                         "1e3: thousand\n"
                         "~: nothing\n"
                         "? [a, b]\n"
                         ": list\n"
                         "? {x: 1}\n"
                         ": map\n");
    assert_string_equal(json_string_value(json_object_get(v, "200")), "ok");
    assert_string_equal(json_string_value(json_object_get(v, "true")), "yes");
    assert_string_equal(json_string_value(json_object_get(v, "1e3")), "thousand");
    assert_string_equal(json_string_value(json_object_get(v, "~")), "nothing");
    assert_string_equal(json_string_value(json_object_get(v, "[\"a\",\"b\"]")), "list");
    assert_string_equal(json_string_value(json_object_get(v, "{\"x\":1}")), "map");
    json_decref(v);
}

static void test_billion_laughs(void **state)
{
    (void)state;
    const char *bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    struct gw_error err;
    json_t *v = parse(bomb, &err);
    assert_null(v);
    assert_int_equal(err.code, GW_ELIMIT);
    assert_non_null(strstr(err.msg, "alias"));
    /* a small fan-out passes */
    v = parse_ok("a: &a [1, 2]\nb: [*a, *a]\n");
    json_decref(v);
    /* the alias budget is configurable */
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.limits.max_alias_nodes = 3;
    v = gw_openapi_parse_document("a: &a [1, 2]\nb: [*a, *a]\n", 24, &o.limits, &err);
    assert_null(v);
    assert_int_equal(err.code, GW_ELIMIT);
}

static void test_bad_aliases(void **state)
{
    (void)state;
    struct gw_error err;
    assert_null(parse("a: &a [1, *a]\n", &err));
    assert_int_equal(err.code, GW_EINVAL);
    assert_non_null(strstr(err.msg, "recursive"));
    assert_null(parse("a: &a {b: *a}\n", &err));
    assert_int_equal(err.code, GW_EINVAL);
    assert_null(parse("a: *nowhere\n", &err));
    assert_int_equal(err.code, GW_EINVAL);
    assert_null(parse("a:\n  <<: 5\n", &err));
    assert_int_equal(err.code, GW_EINVAL);
}

static void test_depth_and_size(void **state)
{
    (void)state;
    struct gw_error err;
    size_t n = 5000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    /* JSON sniffed by '[' */
    assert_null(parse(deep, &err));
    assert_int_equal(err.code, GW_ELIMIT);
    /* the same nesting as a YAML flow sequence under a key */
    char *yaml = malloc(2 * n + 8);
    memcpy(yaml, "a: ", 3);
    memcpy(yaml + 3, deep, 2 * n + 1);
    assert_null(parse(yaml, &err));
    assert_int_equal(err.code, GW_ELIMIT);
    free(yaml);
    free(deep);
    /* block nesting */
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.limits.max_depth = 3;
    const char *nested = "a:\n  b:\n    c:\n      d: 1\n";
    assert_null(gw_openapi_parse_document(nested, strlen(nested), &o.limits, &err));
    assert_int_equal(err.code, GW_ELIMIT);
    o.limits.max_depth = 10;
    o.limits.max_doc_bytes = 8;
    assert_null(gw_openapi_parse_document(nested, strlen(nested), &o.limits, &err));
    assert_int_equal(err.code, GW_ELIMIT);
    o.limits.max_doc_bytes = 0;
    o.limits.max_nodes = 3;
    assert_null(gw_openapi_parse_document(nested, strlen(nested), &o.limits, &err));
    assert_int_equal(err.code, GW_ELIMIT);
}

static void test_syntax_and_streams(void **state)
{
    (void)state;
    struct gw_error err;
    assert_null(parse("a: [1, 2\nb: 3\n", &err));
    assert_int_equal(err.code, GW_EINVAL);
    assert_non_null(strstr(err.msg, "line"));
    assert_null(parse("{\"a\": }", &err));
    assert_int_equal(err.code, GW_EINVAL);
    assert_non_null(strstr(err.msg, "line 1"));
    /* only the first document of a stream */
    json_t *v = parse_ok("---\na: 1\n---\nb: 2\n");
    assert_non_null(json_object_get(v, "a"));
    assert_null(json_object_get(v, "b"));
    json_decref(v);
    /* JSON with a BOM and leading blank lines */
    v = parse_ok("\xEF\xBB\xBF\n\n  {\"openapi\": \"3.1.0\"}");
    assert_string_equal(json_string_value(json_object_get(v, "openapi")), "3.1.0");
    json_decref(v);
    /* empty input is a null document */
    v = parse_ok("");
    assert_true(json_is_null(v));
    json_decref(v);
    /* invalid UTF-8 */
    assert_null(parse("a: \"\xff\xfe\"\n", &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_anchors_and_merge),
        cmocka_unit_test(test_non_string_keys),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_bad_aliases),
        cmocka_unit_test(test_depth_and_size),
        cmocka_unit_test(test_syntax_and_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
