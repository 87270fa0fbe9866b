/*
 * tests/unit/policy/test_policy_logic.c
 * The JSON Logic evaluator (policy/policy_logic.h) against an outside reference and its limits:
 * the official JSON Logic test suite (tests/data/jsonlogic/tests.json, jsonlogic.com's shared
 * cases, every case must pass), compile errors that name the offending node's path, the depth
 * and node-count limits exactly at and one past the limit, the step budget and the string limit
 * (GW_ELIMIT, never a hang or a huge allocation), JavaScript coercions and the values JSON
 * cannot hold (NaN, undefined inside arrays), the gateway `time` operator, "data is never code",
 * and concurrent evaluation of one compiled rule on several threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/policy_logic.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep equality where numbers compare by value (1 == 1.0), as JSON Logic results do. */
static bool same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w || !same(v, w))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        fail_msg("bad test JSON (%s): %s", e.text, text);
    return j;
}

/* Compiles and evaluates; returns the result (caller decrefs) or NULL with err filled. */
static json_t *run(const char *rule, const char *data, int *rc_out, struct gw_error *err)
{
    json_t *r = J(rule), *d = data ? J(data) : NULL, *out = NULL;
    struct gw_logic *l = NULL;
    int rc = gw_logic_compile(r, &l, err);
    if (rc == GW_OK)
        rc = gw_logic_eval(l, d, &out, err);
    gw_logic_free(l);
    json_decref(r);
    json_decref(d);
    if (rc_out)
        *rc_out = rc;
    return out;
}

static void expect(const char *rule, const char *data, const char *want)
{
    struct gw_error err = {0};
    int rc;
    json_t *got = run(rule, data, &rc, &err);
    if (rc != GW_OK)
        fail_msg("%s: rc %d (%s)", rule, rc, err.msg);
    json_t *w = J(want);
    if (!same(got, w)) {
        char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("%s with %s: got %s, want %s", rule, data ? data : "null", g, want);
    }
    json_decref(w);
    json_decref(got);
}

static void expect_fail(const char *rule, const char *data, int want_rc, const char *want_msg)
{
    struct gw_error err = {0};
    int rc;
    json_t *got = run(rule, data, &rc, &err);
    assert_null(got);
    if (rc != want_rc || !strstr(err.msg, want_msg))
        fail_msg("%.80s: rc %d msg \"%s\", want rc %d with \"%s\"", rule, rc, err.msg, want_rc,
                 want_msg);
}

static void test_official_suite(void **state)
{
    (void)state;
    const char *dir = getenv("GW_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/jsonlogic/tests.json", dir ? dir : ".");
    json_error_t e;
    json_t *suite = json_load_file(path, 0, &e);
    if (!suite)
        fail_msg("cannot read %s: %s", path, e.text);
    size_t i, total = 0, passed = 0;
    json_t *t;
    json_array_foreach(suite, i, t) {
        if (!json_is_array(t))
            continue; /* a comment line */
        total++;
        struct gw_logic *l = NULL;
        struct gw_error err = {0};
        json_t *out = NULL;
        int rc = gw_logic_compile(json_array_get(t, 0), &l, &err);
        if (rc == GW_OK)
            rc = gw_logic_eval(l, json_array_get(t, 1), &out, &err);
        if (rc == GW_OK && same(out, json_array_get(t, 2))) {
            passed++;
        } else {
            char *c = json_dumps(t, JSON_COMPACT);
            char *g = out ? json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
            printf("# FAIL %s -> %s %s\n", c, g ? g : "(error)", rc ? err.msg : "");
            free(c); /* checksrc: allow (jansson's allocation) */
            free(g); /* checksrc: allow */
        }
        json_decref(out);
        gw_logic_free(l);
    }
    json_decref(suite);
    printf("# official JSON Logic suite: %zu/%zu passed\n", passed, total);
    assert_true(total >= 270);
    assert_int_equal(passed, total);
}

static void test_compile_errors_name_the_path(void **state)
{
    (void)state;
    expect_fail("{\"and\":[true,{\"inn\":[1,[1]]}]}", NULL, GW_EINVAL,
                "condition.and[1]: unknown operator 'inn'");
    expect_fail("{\"if\":[true,{\"map\":[[1],{\"bogus\":1}]}]}", NULL, GW_EINVAL,
                "condition.if[1].map[1]: unknown operator 'bogus'");
    expect_fail("{\"!\":{\"nope\":1}}", NULL, GW_EINVAL, "condition.!: unknown operator 'nope'");
    expect_fail("[1,[2,{\"x\":3}]]", NULL, GW_EINVAL, "condition[1][1]: unknown operator 'x'");
    expect_fail("{\"==\":[1]}", NULL, GW_EINVAL,
                "condition: operator '==' takes exactly 2 arguments, got 1");
    expect_fail("{\"or\":[{\"in\":[1,2,3]}]}", NULL, GW_EINVAL,
                "condition.or[0]: operator 'in' takes exactly 2 arguments, got 3");
    expect_fail("{\"*\":[]}", NULL, GW_EINVAL, "operator '*' takes at least 1 argument, got 0");
    expect_fail("{\"substr\":[\"x\",1,2,3]}", NULL, GW_EINVAL,
                "operator 'substr' takes 2 to 3 arguments, got 4");
    expect_fail("{\"var\":{\"a\":1,\"b\":2}}", NULL, GW_EINVAL, "condition.var: var takes a path");
    expect_fail("{\"var\":[[\"a\"]]}", NULL, GW_EINVAL, "condition.var[0]: var takes a path");
    /* an operator name is shown bounded, whatever its length */
    char big[600] = "{\"";
    memset(big + 2, 'z', 500);
    strcpy(big + 502, "\":1}"); /* checksrc: allow */
    expect_fail(big, NULL, GW_EINVAL,
                "unknown operator 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'");

    /* the caller names the root */
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    json_t *r = J("{\"or\":[{\"ni\":1}]}");
    assert_int_equal(gw_logic_compile_at(r, "rules[3].when", &l, &err), GW_EINVAL);
    assert_null(l);
    assert_string_equal(err.msg, "rules[3].when.or[0]: unknown operator 'ni'");
    json_decref(r);
    assert_int_equal(gw_logic_compile(NULL, &l, &err), GW_EINVAL);
    gw_logic_free(NULL);
}

/* {"!": {"!": … true}} with `n` operators: the literal sits at depth n + 1. */
static json_t *not_chain(int n)
{
    json_t *j = json_true();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "!", j);
        j = o;
    }
    return j;
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    json_t *ok = not_chain(GW_LOGIC_MAX_DEPTH - 1), *deep = not_chain(GW_LOGIC_MAX_DEPTH);
    json_t *out = NULL;
    assert_int_equal(gw_logic_compile(ok, &l, &err), GW_OK);
    assert_int_equal(gw_logic_eval(l, NULL, &out, &err), GW_OK);
    assert_true(json_is_false(out)); /* 31 negations of true */
    json_decref(out);
    gw_logic_free(l);
    assert_int_equal(gw_logic_compile(deep, &l, &err), GW_ELIMIT);
    assert_non_null(strstr(err.msg, "rule nests deeper than 32 levels"));
    assert_non_null(strstr(err.msg, "condition.!.!.!"));
    json_decref(ok);
    json_decref(deep);

    /* arrays count the same way; a literal object's inside counts too */
    json_t *arr = json_integer(1);
    for (int i = 0; i < 40; i++) {
        json_t *a = json_array();
        json_array_append_new(a, arr);
        arr = a;
    }
    assert_int_equal(gw_logic_compile(arr, &l, &err), GW_ELIMIT);
    assert_non_null(strstr(err.msg, "nests deeper"));
    json_decref(arr);
    json_t *obj = json_integer(1);
    for (int i = 0; i < 40; i++)
        obj = json_pack("{s:o,s:i}", "a", obj, "b", 1);
    assert_int_equal(gw_logic_compile(obj, &l, &err), GW_ELIMIT);
    json_decref(obj);
    /* a jansson tree far deeper than any parser allows is refused without deep recursion */
    json_t *huge = not_chain(100000);
    assert_int_equal(gw_logic_compile(huge, &l, &err), GW_ELIMIT);
    json_decref(huge);
}

static json_t *sum_of_ones(int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(1));
    return json_pack("{s:o}", "+", a);
}

static void test_node_limit(void **state)
{
    (void)state;
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    json_t *out = NULL;
    /* the operation, its argument array and n literals: n + 2 nodes */
    json_t *ok = sum_of_ones(GW_LOGIC_MAX_NODES - 2), *big = sum_of_ones(GW_LOGIC_MAX_NODES - 1);
    assert_int_equal(gw_logic_compile(ok, &l, &err), GW_OK);
    assert_int_equal(gw_logic_eval(l, NULL, &out, &err), GW_OK);
    assert_int_equal(json_integer_value(out), GW_LOGIC_MAX_NODES - 2);
    json_decref(out);
    gw_logic_free(l);
    assert_int_equal(gw_logic_compile(big, &l, &err), GW_ELIMIT);
    assert_non_null(strstr(err.msg, "condition.+[1998]: rule has more than 2000 nodes"));
    json_decref(ok);
    json_decref(big);
    /* literal data counts */
    json_t *lit = json_pack("{s:o,s:i}", "a", json_array(), "b", 1);
    for (int i = 0; i < GW_LOGIC_MAX_NODES; i++)
        json_array_append_new(json_object_get(lit, "a"), json_integer(i));
    assert_int_equal(gw_logic_compile(lit, &l, &err), GW_ELIMIT);
    json_decref(lit);
}

static json_t *numbers(int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(i));
    return json_pack("{s:o}", "xs", a);
}

static void test_step_budget(void **state)
{
    (void)state;
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    json_t *out = NULL;
    json_t *rule = J("{\"reduce\":[{\"var\":\"xs\"},{\"+\":[{\"var\":\"current\"},"
                     "{\"var\":\"accumulator\"}]},0]}");
    assert_int_equal(gw_logic_compile(rule, &l, &err), GW_OK);
    json_t *small = numbers(10000), *large = numbers(200000);
    assert_int_equal(gw_logic_eval(l, small, &out, &err), GW_OK);
    assert_int_equal(json_integer_value(out), 49995000);
    json_decref(out);
    assert_int_equal(gw_logic_eval(l, large, &out, &err), GW_ELIMIT);
    assert_null(out);
    assert_string_equal(err.msg, "condition exceeded its budget of 100000 steps");
    /* a smaller budget */
    assert_int_equal(gw_logic_eval_budget(l, small, 1000, &out, &err), GW_ELIMIT);
    assert_non_null(strstr(err.msg, "budget of 1000 steps"));
    gw_logic_free(l);
    json_decref(rule);

    /* nested loops multiply: 2000 x 2000 element visits stop at the budget */
    json_t *data = numbers(2000);
    rule = J("{\"filter\":[{\"var\":\"xs\"},{\"in\":[-1,{\"merge\":[{\"var\":\"\"},"
             "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]]}]}]}");
    assert_int_equal(gw_logic_compile(rule, &l, &err), GW_OK);
    assert_int_equal(gw_logic_eval(l, data, &out, &err), GW_ELIMIT);
    gw_logic_free(l);
    json_decref(rule);
    json_decref(data);
    json_decref(small);
    json_decref(large);
}

static void test_string_limit(void **state)
{
    (void)state;
    /* doubling a string 20 times would make 1 MiB: stopped at 64 KiB */
    expect_fail("{\"reduce\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"
                "{\"cat\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},\"xy\"]}",
                NULL, GW_ELIMIT, "longer than 65536 bytes");
    /* an array nested too deeply for ToString */
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{\"d\":");
    for (int i = 0; i < 80; i++)
        deep[n++] = '[';
    for (int i = 0; i < 80; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_fail("{\"cat\":[{\"var\":\"d\"}]}", deep, GW_ELIMIT, "value nests deeper than 64");
    /* the same rule is fine on shallow data */
    expect("{\"cat\":[{\"var\":\"d\"}]}", "{\"d\":[[1,[2]],3]}", "\"1,2,3\"");
}

static void test_coercions(void **state)
{
    (void)state;
    /* loose equality is JavaScript's */
    expect("{\"==\":[null,0]}", NULL, "false");
    expect("{\"==\":[null,{\"var\":\"nothing.here\"}]}", NULL, "true");
    expect("{\"==\":[[1],\"1\"]}", NULL, "true");
    expect("{\"==\":[[],false]}", NULL, "true");
    expect("{\"==\":[\" 12 \",12]}", NULL, "true");
    expect("{\"==\":[\"0x10\",16]}", NULL, "true");
    expect("{\"==\":[\"1e3\",1000]}", NULL, "true");
    expect("{\"==\":[true,\"1\"]}", NULL, "true");
    expect("{\"==\":[[1,2],[1,2]]}", NULL, "false"); /* two arrays: identity */
    expect("{\"==\":[{\"var\":\"a\"},{\"var\":\"a\"}]}", "{\"a\":[1]}", "true");
    expect("{\"===\":[1,1.0]}", NULL, "true");
    expect("{\"!==\":[\"1\",1]}", NULL, "true");
    /* relational: strings compare as strings, anything else as numbers */
    expect("{\"<\":[\"10\",\"9\"]}", NULL, "true");
    expect("{\"<\":[10,\"9\"]}", NULL, "false");
    expect("{\"<\":[\"a\",\"b\",\"c\"]}", NULL, "true");
    expect("{\"<=\":[null,0]}", NULL, "true");
    expect("{\">=\":[\"x\",0]}", NULL, "false"); /* NaN: neither */
    expect("{\"<\":[\"\\uffff\",\"\\ud83d\\ude00\"]}", NULL, "false"); /* UTF-16 order */
    /* arithmetic */
    expect("{\"+\":[\"1e3\",\" 2.5x\",true]}", NULL, "null"); /* parseFloat(true) is NaN */
    expect("{\"+\":[\"1e3\",\" 2.5x\"]}", NULL, "1002.5");
    expect("{\"*\":[\"2\"]}", NULL, "\"2\"");
    expect("{\"*\":[\"2\",\"0x10\"]}", NULL, "0");
    expect("{\"-\":[\"0x10\"]}", NULL, "-16");
    expect("{\"-\":[[5],\"2\"]}", NULL, "3");
    expect("{\"/\":[1,0]}", NULL, "null");
    expect("{\"%\":[-7,2]}", NULL, "-1");
    expect("{\"max\":[]}", NULL, "null");
    expect("{\"min\":[1,\"0\",[2]]}", NULL, "0");
    expect("{\"max\":[1,\"x\"]}", NULL, "null");
    /* ToString */
    expect("{\"cat\":[1.5,null,true,[1,[2,3]],{\"a\":1,\"b\":2}]}", NULL,
           "\"1.5true1,2,3[object Object]\"");
    expect("{\"cat\":[0.1,1e21,1e-7,1.2345678901234568e20,-0.000001,5e-324]}", NULL,
           "\"0.11e+211e-7123456789012345680000-0.0000015e-324\"");
    expect("{\"cat\":[{\"/\":[1,0]},{\"-\":[\"x\"]},"
           "{\"map\":[[1,\"x\"],{\"/\":[{\"var\":\"\"},0]}]}]}",
           NULL, "\"InfinityNaNInfinity,NaN\"");
    /* substr counts UTF-16 units */
    expect("{\"substr\":[\"h\\u00e9llo\",1,3]}", NULL, "\"\\u00e9ll\"");
    expect("{\"substr\":[\"\\ud83d\\ude00ab\",2]}", NULL, "\"ab\"");
    expect("{\"substr\":[\"\\ud83d\\ude00ab\",1]}", NULL, "\"\\ufffdab\"");
    expect("{\"substr\":[\"jsonlogic\",2,\"-2\"]}", NULL, "\"\""); /* "7" + "-2" is "7-2" */
    expect("{\"substr\":[12345,1,2]}", NULL, "\"23\"");
    /* var: array and string members, lengths */
    expect("{\"var\":\"s.length\"}", "{\"s\":\"\\ud83d\\ude00a\"}", "3");
    expect("{\"var\":\"xs.length\"}", "{\"xs\":[1,2]}", "2");
    expect("{\"var\":\"xs.01\"}", "{\"xs\":[1,2]}", "null");
    expect("{\"var\":\"s.1\"}", "{\"s\":\"abc\"}", "\"b\"");
    expect("{\"var\":[\"a.constructor\",\"none\"]}", "{\"a\":{}}", "\"none\"");
    expect("{\"var\":1.5}", "[0,[0,0,0,0,0,\"five\"]]", "\"five\"");
    expect("{\"var\":[\"a\",\"d\"]}", "{\"a\":null}", "null");
    expect("{\"in\":[\"ell\",\"hello\"]}", NULL, "true");
    expect("{\"in\":[1,\"a1\"]}", NULL, "true");
    expect("{\"in\":[\"\",\"\"]}", NULL, "false");
    expect("{\"in\":[\"1\",[1]]}", NULL, "false");
}

static void test_values_json_cannot_hold(void **state)
{
    (void)state;
    /* NaN and undefined inside arrays become null only in the result */
    expect("{\"map\":[[1,\"x\"],{\"+\":[{\"var\":\"\"}]}]}", NULL, "[1,null]");
    expect("{\"merge\":[{\"and\":[]},[{\"/\":[0,0]}],-0]}", NULL, "[null,null,0]");
    expect("{\"in\":[null,{\"map\":[[1],{\"/\":[0,0]}]}]}", NULL, "false");
    expect("{\"and\":[]}", NULL, "null");
    expect("{\"reduce\":[[1],{\"var\":\"\"},0]}", NULL, "{\"current\":1,\"accumulator\":0}");
    expect("{\"reduce\":[[1,2],{\"var\":\"\"},{\"/\":[0,0]}]}", NULL,
           "{\"current\":2,\"accumulator\":{\"current\":1,\"accumulator\":null}}");
    expect("{\"filter\":[{\"map\":[[1,2,3],{\"-\":[{\"var\":\"\"},2]}]},"
           "{\"/\":[1,{\"var\":\"\"}]}]}",
           NULL, "[-1,0,1]");
    /* -0 stays -0 inside evaluation: 1 / -0 is -Infinity */
    expect("{\"cat\":[{\"/\":[1,{\"var\":\"0\"}]}]}", "[-0.0]", "\"-Infinity\"");
}

static void test_time_operator(void **state)
{
    (void)state;
    expect("{\"time\":\"2025-01-31\"}", NULL, "1738281600");
    expect("{\"time\":\"2025-01-31T09:15:00Z\"}", NULL, "1738314900");
    expect("{\"time\":\"2025-01-31t09:15:00.5+01:00\"}", NULL, "1738311300.5");
    expect("{\"time\":\"1969-12-31T23:59:59-00:30\"}", NULL, "1799");
    expect("{\"time\":\"2024-02-29\"}", NULL, "1709164800");
    expect("{\"time\":\"0000-01-01\"}", NULL, "-62167219200");
    expect("{\"time\":1700000000}", NULL, "1700000000");
    const char *bad[] = {"2023-02-29", "2025-13-01", "2025-01-31T24:00:00Z",
                         "2025-01-31T23:59:60Z", "2025-01-31T09:15:00", "2025-01-31 09:15:00Z",
                         "2025-1-31", "x", "2025-01-31T09:15:00.Z", "2025-01-31T09:15:00+1:00",
                         "2025-01-31T09:15:00.1234567891Z", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char rule[128];
        snprintf(rule, sizeof rule, "{\"time\":\"%s\"}", bad[i]);
        expect(rule, NULL, "null");
    }
    expect("{\"time\":[\"2025-01-31\"]}", NULL, "1738281600");
    expect("{\"time\":{\"var\":\"x\"}}", "{\"x\":true}", "null");
    /* a booking window: a slot within 24 hours of now */
    expect("{\"<\":[0,{\"-\":[{\"time\":{\"var\":\"args.slot\"}},"
           "{\"time\":{\"var\":\"context.now\"}}]},86400]}",
           "{\"args\":{\"slot\":\"2025-01-31T10:00:00+05:30\"},\"context\":{\"now\":"
           "\"2025-01-30T12:00:00Z\"}}",
           "true");
}

static void test_policy_shapes(void **state)
{
    (void)state;
    const char *data = "{\"principal\":{\"sub\":\"u1\",\"claims\":{\"dealer_ids\":[\"D1\",\"D7\"],"
                       "\"roles\":[\"dealer\"]}},\"tool\":{\"name\":\"create_booking\",\"risk\":"
                       "\"write\"},\"args\":{\"dealer_id\":\"D7\","
                       "\"items\":[{\"qty\":2},{\"qty\":3}]}}";
    expect("{\"in\":[{\"var\":\"args.dealer_id\"},{\"var\":\"principal.claims.dealer_ids\"}]}",
           data, "true");
    expect("{\"and\":[{\"in\":[\"dealer\",{\"var\":\"principal.claims.roles\"}]},"
           "{\"==\":[{\"var\":\"tool.risk\"},\"write\"]},"
           "{\"<=\":[{\"reduce\":[{\"var\":\"args.items\"},"
           "{\"+\":[{\"var\":\"accumulator\"},{\"var\":\"current.qty\"}]},0]},5]}]}",
           data, "true");
    expect("{\"missing\":[\"args.dealer_id\",\"args.customer\"]}", data, "[\"args.customer\"]");
    /* data is never code: a key that is an operation is reported, not run */
    expect("{\"missing\":{\"var\":\"args.keys\"}}", "{\"args\":{\"keys\":[{\"var\":\"secret\"}]}}",
           "[{\"var\":\"secret\"}]");
    expect_fail("{\"missing_some\":[1,{\"var\":\"nothing\"}]}", NULL, GW_EINVAL,
                "missing_some needs a list of keys");

    /* the compiled form does not depend on the caller's document */
    struct gw_logic *own = NULL;
    struct gw_error oerr = {0};
    json_t *orig = J("{\"==\":[{\"var\":\"a\"},\"hello\"]}"), *od = J("{\"a\":\"hello\"}");
    assert_int_equal(gw_logic_compile(orig, &own, &oerr), GW_OK);
    json_object_set_new(orig, "==", json_string("changed"));
    json_decref(orig);
    bool same_after = false;
    assert_int_equal(gw_logic_test(own, od, &same_after, &oerr), GW_OK);
    assert_true(same_after);
    gw_logic_free(own);
    json_decref(od);

    /* gw_logic_test and gw_logic_truthy */
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    json_t *r = J("{\"var\":\"x\"}"), *d = J("{\"x\":\"0\"}");
    bool yes = false;
    assert_int_equal(gw_logic_compile(r, &l, &err), GW_OK);
    assert_int_equal(gw_logic_test(l, d, &yes, &err), GW_OK);
    assert_true(yes);
    assert_int_equal(gw_logic_test(l, NULL, &yes, &err), GW_OK);
    assert_false(yes);
    gw_logic_free(l);
    json_decref(r);
    json_decref(d);
    const char *falsy[] = {"null", "false", "0", "0.0", "\"\"", "[]"};
    const char *truthy[] = {"true", "1", "-0.5", "\"0\"", "[0]", "{}"};
    for (size_t i = 0; i < 6; i++) {
        json_t *f = J(falsy[i]), *t = J(truthy[i]);
        assert_false(gw_logic_truthy(f));
        assert_true(gw_logic_truthy(t));
        json_decref(f);
        json_decref(t);
    }
    assert_false(gw_logic_truthy(NULL));
}

struct worker {
    const struct gw_logic *l;
    const json_t *data;
    const json_t *want;
    int bad;
};

static void *work(void *p)
{
    struct worker *w = p;
    for (int i = 0; i < 300; i++) {
        json_t *out = NULL;
        struct gw_error err = {0};
        if (gw_logic_eval(w->l, w->data, &out, &err) != GW_OK || !same(out, w->want))
            w->bad++;
        json_decref(out);
    }
    return NULL;
}

static void test_concurrent_evaluation(void **state)
{
    (void)state;
    json_t *rule = J("{\"map\":[{\"filter\":[{\"var\":\"xs\"},{\"%\":[{\"var\":\"\"},2]}]},"
                     "{\"cat\":[\"n\",{\"var\":\"\"},{\"substr\":[\"abc\",1]}]}]}");
    json_t *data = numbers(50), *want = json_array();
    for (int i = 1; i < 50; i += 2)
        json_array_append_new(want, json_sprintf("n%dbc", i));
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_logic_compile(rule, &l, &err), GW_OK);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){l, data, want, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    gw_logic_free(l);
    json_decref(rule);
    json_decref(data);
    json_decref(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_suite),
        cmocka_unit_test(test_compile_errors_name_the_path),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_step_budget),
        cmocka_unit_test(test_string_limit),
        cmocka_unit_test(test_coercions),
        cmocka_unit_test(test_values_json_cannot_hold),
        cmocka_unit_test(test_time_operator),
        cmocka_unit_test(test_policy_shapes),
        cmocka_unit_test(test_concurrent_evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
