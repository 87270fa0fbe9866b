/*
 * tests/unit/schema/test_schema_bench.c
 * Timing of the hot path: validating a typical tool-argument object (10 properties: strings
 * with pattern/length/format, integers with bounds, enums, a nested object, an array) against
 * a compiled 2020-12 schema, valid and invalid, with and without a report. Prints ns per
 * validation; asserts only the verdicts, never the time (machines differ). Numbers worth
 * quoting come from a Release build (docs/json-schema.md says how they were measured).
 * Env GW_SCHEMA_BENCH_ITERS overrides the iteration count (default 200000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schema/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *schema_text =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"dealerId\",\"registrationNumber\",\"serviceType\",\"slot\"],"
    "\"properties\":{"
    "\"dealerId\":{\"type\":\"string\",\"pattern\":\"^[A-Z]{3}[0-9]{4}$\"},"
    "\"registrationNumber\":{\"type\":\"string\","
    "\"pattern\":\"^[A-Z]{2}[0-9]{2}[A-Z]{1,2}[0-9]{4}$\"},"
    "\"serviceType\":{\"type\":\"string\",\"enum\":[\"periodic\",\"repair\",\"bodyshop\",\"pdi\"]},"
    "\"slot\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"odometerKm\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":2000000},"
    "\"customerName\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":80},"
    "\"mobile\":{\"type\":\"string\",\"pattern\":\"^[6-9][0-9]{9}$\"},"
    "\"pickup\":{\"type\":\"boolean\"},"
    "\"city\":{\"type\":\"string\",\"enum\":[\"Pune\",\"Mumbai\",\"Delhi\",\"Bengaluru\"]},"
    "\"notes\":{\"type\":\"string\",\"maxLength\":500}}}";

static const char *valid_text =
    "{\"dealerId\":\"PUN0042\",\"registrationNumber\":\"MH12AB1234\",\"serviceType\":"
    "\"periodic\",\"slot\":\"2026-11-25T10:00:00+05:30\",\"odometerKm\":42000,\"customerName\":"
    "\"Asha Kulkarni\",\"mobile\":\"9876543210\",\"pickup\":true,\"city\":\"Pune\",\"notes\":"
    "\"Front brake noise near Hinjewadi\"}";

static const char *invalid_text =
    "{\"dealerId\":\"pun42\",\"registrationNumber\":\"MH12AB1234\",\"serviceType\":\"wash\","
    "\"odometerKm\":-5,\"customerName\":\"\",\"mobile\":\"12345\",\"pickup\":\"yes\","
    "\"city\":\"Pune\",\"colour\":\"red\"}";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_it(const struct gw_schema *s, const json_t *v, struct gw_schema_report *rep,
                      long iters, int expect)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        assert_int_equal(gw_schema_validate(s, v, rep), expect);
    return (now_ns() - t0) / (double)iters;
}

static void test_bench(void **state)
{
    (void)state;
    long iters = 200000;
    const char *env = getenv("GW_SCHEMA_BENCH_ITERS");
    if (env && atol(env) > 0)
        iters = atol(env);
    json_t *schema = json_loads(schema_text, 0, NULL);
    json_t *good = json_loads(valid_text, 0, NULL);
    json_t *bad = json_loads(invalid_text, 0, NULL);
    assert_non_null(schema);
    assert_non_null(good);
    assert_non_null(bad);
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.format_assert = true;
    struct gw_schema *s = NULL;
    struct gw_error err;
    double t0 = now_ns();
    assert_int_equal(gw_schema_compile(schema, &opt, &s, &err), GW_OK);
    double compile_ns = now_ns() - t0;
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    /* warm up (JIT, caches), then measure */
    time_it(s, good, &rep, iters / 10 + 1, GW_OK);
    double v_fast = time_it(s, good, NULL, iters, GW_OK);
    double v_rep = time_it(s, good, &rep, iters, GW_OK);
    double i_fast = time_it(s, bad, NULL, iters / 4 + 1, GW_EINVAL);
    double i_rep = time_it(s, bad, &rep, iters / 4 + 1, GW_EINVAL);
    assert_int_equal(gw_schema_report_count(&rep), 8);
    printf("schema compile: %.0f ns\n", compile_ns);
    printf("valid 10-property object, no report:     %8.0f ns/validation\n", v_fast);
    printf("valid 10-property object, with report:   %8.0f ns/validation\n", v_rep);
    printf("invalid object, first error only:        %8.0f ns/validation\n", i_fast);
    printf("invalid object, all 8 errors reported:   %8.0f ns/validation\n", i_rep);
    gw_schema_report_fini(&rep);
    gw_schema_release(s);
    json_decref(schema);
    json_decref(good);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
