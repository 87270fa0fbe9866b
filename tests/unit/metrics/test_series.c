/*
 * tests/unit/metrics/test_series.c
 * The dashboard's time series (src/metrics/metrics_series.c): the latency buckets (contiguous,
 * every value in its bucket's range), quantiles against a sorted reference (nearest rank,
 * within 12.5% or 32 us, over several distributions and sizes), the roll-over of the fine,
 * coarse and key rings (old laps never counted, late records dropped), window/step validation
 * with its messages, the summary's shape (aligned timestamps shared by every series, totals
 * equal to the sum of the points, null quantiles for empty intervals, denials and approvals
 * kept out of errors and latency), per-slot and name-table capacity ("_other"), the per-minute
 * sampler, and exact counts under concurrent recording.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "metrics/metrics_series.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 2026-07-28T10:00:00Z: a multiple of 3600 and of 300 (slot boundaries) */
#define T0 1785232800LL
#define MS(s) ((int64_t)(s) * 1000)

static void rec(struct gw_metrics_series *s, int64_t sec, const char *tool, uint64_t us)
{
    struct gw_series_obs o = {.tool = tool, .latency_us = us, .upstream = "svc",
                              .upstream_latency_us = us / 2};
    gw_metrics_series_record(s, MS(sec), &o);
}

static json_t *summary(struct gw_metrics_series *s, int64_t now, unsigned window, unsigned step)
{
    struct gw_error err = {0};
    json_t *o = gw_metrics_series_summary(s, MS(now), window, step, &err);
    if (!o)
        fail_msg("summary(%u, %u): %s", window, step, err.msg);
    return o;
}

static long long total(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(json_object_get(o, "totals"), k));
}

/* value of point i of series k */
static long long point(const json_t *o, const char *k, size_t i)
{
    return (long long)json_integer_value(
        json_array_get(json_array_get(json_object_get(json_object_get(o, "series"), k), i), 1));
}

static const json_t *tool_entry(const json_t *o, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(o, "topTools"), i, t)
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    return NULL;
}

/* ---- the histogram ---- */

static void test_buckets(void **state)
{
    (void)state;
    assert_int_equal(gw_metrics_series_bucket(0), 0);
    assert_int_equal(gw_metrics_series_bucket(63), 0);
    assert_int_equal(gw_metrics_series_bucket(64), 1);
    assert_int_equal(gw_metrics_series_bucket(79), 1);
    assert_int_equal(gw_metrics_series_bucket(80), 2);
    assert_int_equal(gw_metrics_series_bucket(127), 4);
    assert_int_equal(gw_metrics_series_bucket(128), 5);
    assert_int_equal(gw_metrics_series_bucket((1ull << 27) - 1), GW_SERIES_BUCKETS - 2);
    assert_int_equal(gw_metrics_series_bucket(1ull << 27), GW_SERIES_BUCKETS - 1);
    assert_int_equal(gw_metrics_series_bucket(UINT64_MAX), GW_SERIES_BUCKETS - 1);
    /* contiguous ranges, each at most 25% wide, and each value maps into its own range */
    uint64_t prev_hi = 0;
    for (unsigned b = 0; b < GW_SERIES_BUCKETS; b++) {
        uint64_t lo, hi;
        gw_metrics_series_bucket_range(b, &lo, &hi);
        assert_int_equal(lo, prev_hi);
        assert_true(hi > lo);
        if (b > 0 && b < GW_SERIES_BUCKETS - 1)
            assert_true((hi - lo) * 4 <= lo);
        assert_int_equal(gw_metrics_series_bucket(lo), b);
        if (hi != UINT64_MAX)
            assert_int_equal(gw_metrics_series_bucket(hi - 1), b);
        prev_hi = hi;
    }
    assert_int_equal(prev_hi, UINT64_MAX);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t draw(unsigned dist, unsigned *seed)
{
    double u = (double)rand_r(seed) / ((double)RAND_MAX + 1.0);
    switch (dist) {
    case 0: return 100 + (uint64_t)(u * 50000); /* uniform 0.1..50 ms */
    case 1: return (uint64_t)exp(log(200) + u * (log(30e6) - log(200))); /* log-uniform */
    case 2: return u < 0.9 ? 300 + (uint64_t)(u * 100) : 80000 + (uint64_t)(u * 5000); /* bimodal */
    case 3: return 4321; /* constant */
    default: return (uint64_t)(u * 70); /* tiny: below and around 64 us */
    }
}

static void test_quantiles_against_sorted_reference(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 10, 99, 1000, 100000};
    static const double qs[] = {0.01, 0.5, 0.9, 0.95, 0.99, 1.0};
    unsigned seed = 7;
    uint64_t *v = gw_xmalloc(100000 * sizeof(uint64_t));
    uint64_t h[GW_SERIES_BUCKETS];
    for (unsigned dist = 0; dist < 5; dist++) {
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            size_t n = sizes[si];
            memset(h, 0, sizeof(h));
            for (size_t i = 0; i < n; i++) {
                v[i] = draw(dist, &seed);
                h[gw_metrics_series_bucket(v[i])]++;
            }
            qsort(v, n, sizeof(*v), cmp_u64);
            for (size_t qi = 0; qi < sizeof(qs) / sizeof(qs[0]); qi++) {
                size_t rank = (size_t)ceil(qs[qi] * (double)n);
                double exact = (double)v[(rank ? rank : 1) - 1];
                double est = gw_metrics_series_quantile_us(h, qs[qi]);
                double bound = exact < 64 ? 32.0 : 0.125 * exact;
                if (fabs(est - exact) > bound)
                    fail_msg("dist %u n %zu q %.2f: estimate %.1f us, exact %.0f us (bound %.1f)",
                             dist, n, qs[qi], est, exact, bound);
            }
        }
    }
    gw_free(v);
    memset(h, 0, sizeof(h));
    assert_true(gw_metrics_series_quantile_us(h, 0.5) < 0); /* empty */
    h[GW_SERIES_BUCKETS - 1] = 1;                           /* above 134 s: its floor */
    assert_true(gw_metrics_series_quantile_us(h, 0.5) == (double)(1ull << 27));
}

/* ---- validation ---- */

static void test_window_and_step(void **state)
{
    (void)state;
    struct {
        unsigned long window, step;
        unsigned want; /* 0: refused */
        const char *msg;
    } cases[] = {
        {900, 0, 15, NULL},      {3600, 0, 60, NULL},     {21600, 0, 360, NULL},
        {86400, 0, 1440, NULL},  {1000, 0, 20, NULL},     {900, 5, 5, NULL},
        {900, 900, 900, NULL},   {3600, 5, 5, NULL},      {86400, 60, 60, NULL},
        {7200, 120, 120, NULL},  {3660, 0, 60, NULL},
        {899, 0, 0, "window must be 900 (15 min) to 86400 (24 h) seconds, not 899"},
        {86401, 0, 0, "not 86401"},
        {0, 0, 0, "not 0"},
        {901, 0, 0, "window must be a multiple of 5 seconds (the resolution of windows up to 1 h)"},
        {3605, 0, 0, "multiple of 60 seconds (the resolution of windows over 1 h)"},
        {900, 7, 0, "step must be a multiple of 5 seconds that divides the window (900 s)"},
        {900, 35, 0, "not 35 (e.g. 15, or leave it out)"},
        {900, 1800, 0, "not 1800"},
        {86400, 30, 0, "multiple of 60 seconds"},
        {7200, 90, 0, "not 90"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned step = 12345;
        struct gw_error err = {0};
        int rc = gw_metrics_series_check(cases[i].window, cases[i].step, &step, &err);
        if (cases[i].want) {
            if (rc != GW_OK)
                fail_msg("%lu/%lu refused: %s", cases[i].window, cases[i].step, err.msg);
            assert_int_equal(step, cases[i].want);
        } else {
            assert_int_equal(rc, GW_EINVAL);
            if (!strstr(err.msg, cases[i].msg))
                fail_msg("%lu/%lu: message \"%s\" lacks \"%s\"", cases[i].window, cases[i].step,
                         err.msg, cases[i].msg);
        }
    }
    /* the summary refuses the same way */
    struct gw_metrics_series *s = gw_metrics_series_new();
    struct gw_error err = {0};
    assert_null(gw_metrics_series_summary(s, MS(T0), 60, 0, &err));
    assert_int_equal(err.code, GW_EINVAL);
    gw_metrics_series_free(s);
}

/* ---- the summary ---- */

static void test_summary_shape_and_counts(void **state)
{
    (void)state;
    struct gw_metrics_series *s = gw_metrics_series_new();
    /* 10:00:00..10:14:59 window of 15 min at step 15 s, now = 10:14:59 */
    int64_t now = T0 + 899;
    for (int i = 0; i < 20; i++)
        rec(s, T0 + 10, "create_booking", 1000 + (uint64_t)i * 100); /* point 0 */
    for (int i = 0; i < 5; i++)
        rec(s, T0 + 890, "get_dealer", 20000); /* the last point */
    struct gw_series_obs denied = {.tool = "cancel_booking", .latency_us = 5, .denied = true};
    struct gw_series_obs failed = {.tool = "get_dealer", .latency_us = 100000, .error = true,
                                   .upstream = "svc", .upstream_latency_us = 90000,
                                   .upstream_error = true};
    struct gw_series_obs waiting = {.tool = "create_booking", .latency_us = 7, .confirming = true,
                                    .error = true};
    gw_metrics_series_record(s, MS(T0 + 450), &denied);
    gw_metrics_series_record(s, MS(T0 + 450), &denied);
    gw_metrics_series_record(s, MS(T0 + 451), &failed);
    gw_metrics_series_record(s, MS(T0 + 452), &waiting);
    json_t *o = summary(s, now, 900, 15);
    assert_int_equal(json_integer_value(json_object_get(o, "window")), 900);
    assert_int_equal(json_integer_value(json_object_get(o, "step")), 15);
    assert_int_equal(json_integer_value(json_object_get(o, "from")), T0);
    assert_int_equal(json_integer_value(json_object_get(o, "to")), now);
    assert_int_equal(total(o, "calls"), 29);
    assert_int_equal(total(o, "denials"), 2);
    assert_int_equal(total(o, "errors"), 1);
    assert_int_equal(total(o, "confirmations"), 1);
    /* every series: 60 points at the same aligned timestamps, the last one holding now */
    const char *names[] = {"calls", "errors", "denials", "p50Ms", "p95Ms"};
    for (size_t k = 0; k < 5; k++) {
        const json_t *a = json_object_get(json_object_get(o, "series"), names[k]);
        assert_int_equal(json_array_size(a), 60);
        for (size_t i = 0; i < 60; i++)
            assert_int_equal(json_integer_value(json_array_get(json_array_get(a, i), 0)),
                             T0 + (int64_t)i * 15);
    }
    long long sum = 0;
    for (size_t i = 0; i < 60; i++)
        sum += point(o, "calls", i);
    assert_int_equal(sum, 29);
    assert_int_equal(point(o, "calls", 0), 20);
    assert_int_equal(point(o, "calls", 59), 5);
    assert_int_equal(point(o, "calls", 30), 4); /* 10:07:30: two denials, a failure, a wait */
    assert_int_equal(point(o, "denials", 30), 2);
    assert_int_equal(point(o, "errors", 30), 1);
    /* an empty interval has no quantiles; point 0's p50 is 1.9-2.0 ms (1000..2900 us) */
    assert_true(json_is_null(json_array_get(json_array_get(
        json_object_get(json_object_get(o, "series"), "p50Ms"), 5), 1)));
    double p50 = json_real_value(json_array_get(json_array_get(
        json_object_get(json_object_get(o, "series"), "p50Ms"), 0), 1));
    assert_true(fabs(p50 - 1.95) <= 0.125 * 1.95);
    /* denials and the waiting call are not in the latency: the p95 of everything is 20 ms (the
     * 25 fast calls and the 100 ms failure: rank 26 of 26 = 100 ms; p50 = rank 13 = ~2 ms) */
    double tp95 = json_real_value(json_object_get(json_object_get(o, "totals"), "p95Ms"));
    assert_true(fabs(tp95 - 20.0) <= 2.5);
    /* top tools by calls; upstream counts */
    const json_t *top = json_object_get(o, "topTools");
    assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "name")),
                        "create_booking");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(top, 0), "calls")), 21);
    const json_t *gd = tool_entry(o, "get_dealer");
    assert_int_equal(json_integer_value(json_object_get(gd, "calls")), 6);
    assert_int_equal(json_integer_value(json_object_get(gd, "errors")), 1);
    const json_t *cb = tool_entry(o, "cancel_booking");
    assert_int_equal(json_integer_value(json_object_get(cb, "denials")), 2);
    assert_true(json_is_null(json_object_get(cb, "p95Ms")));
    const json_t *up = json_array_get(json_object_get(o, "upstreams"), 0);
    assert_string_equal(json_string_value(json_object_get(up, "name")), "svc");
    assert_int_equal(json_integer_value(json_object_get(up, "calls")), 26);
    assert_int_equal(json_integer_value(json_object_get(up, "errors")), 1);
    json_decref(o);
    /* the same data in a 24 h window (coarse ring, 1440 points of 60 s) */
    o = summary(s, now, 86400, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "step")), 1440);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "series"), "calls")), 60);
    assert_int_equal(total(o, "calls"), 29);
    json_decref(o);
    o = summary(s, now, 86400, 60);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "series"), "calls")),
                     1440);
    assert_int_equal(total(o, "calls"), 29);
    json_decref(o);
    gw_metrics_series_free(s);
}

static void test_roll_over(void **state)
{
    (void)state;
    struct gw_metrics_series *s = gw_metrics_series_new();
    rec(s, T0, "a", 1000);
    rec(s, T0 + 5, "a", 1000); /* the next fine slot */
    json_t *o = summary(s, T0 + 5, 900, 5);
    assert_int_equal(total(o, "calls"), 2);
    assert_int_equal(point(o, "calls", 178), 1);
    assert_int_equal(point(o, "calls", 179), 1);
    json_decref(o);
    /* one hour later the fine ring has turned: T0's slot is reused by T0+3600 */
    rec(s, T0 + 3600, "b", 1000);
    o = summary(s, T0 + 3600, 3600, 60);
    assert_int_equal(json_integer_value(json_object_get(o, "from")), T0 + 60);
    assert_int_equal(total(o, "calls"), 1); /* the window starts at T0+60 */
    json_decref(o);
    o = summary(s, T0 + 3600, 900, 0);
    assert_int_equal(total(o, "calls"), 1);
    json_decref(o);
    /* a late record for T0 (a clock stepped back an hour) is not mixed into the fine slot that
     * now holds T0+3600; the coarse ring still holds T0's minute and counts it there */
    rec(s, T0, "a", 1000);
    o = summary(s, T0 + 3600, 900, 0);
    assert_int_equal(total(o, "calls"), 1);
    json_decref(o);
    o = summary(s, T0 + 3600, 7200, 0);
    assert_int_equal(total(o, "calls"), 4);
    assert_non_null(tool_entry(o, "a"));
    json_decref(o);
    /* a day later: T0's coarse and key slots are reused; nothing of the first hour remains */
    rec(s, T0 + 86400, "c", 1000);
    o = summary(s, T0 + 86400, 86400, 0);
    assert_int_equal(total(o, "calls"), 2); /* T0+3600 and T0+86400 */
    assert_null(tool_entry(o, "a"));
    assert_non_null(tool_entry(o, "b"));
    json_decref(o);
    /* quiet for two days: every window is empty, every quantile null */
    o = summary(s, T0 + 3 * 86400, 86400, 0);
    assert_int_equal(total(o, "calls"), 0);
    assert_true(json_is_null(json_object_get(json_object_get(o, "totals"), "p95Ms")));
    assert_int_equal(json_array_size(json_object_get(o, "topTools")), 0);
    json_decref(o);
    gw_metrics_series_free(s);
}

static void test_capacity_other(void **state)
{
    (void)state;
    struct gw_metrics_series *s = gw_metrics_series_new();
    char name[32];
    /* 40 tools in one 5-minute slot: 31 keep their name, the rest count as _other */
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "tool_%02d", i);
        for (int k = 0; k <= i; k++)
            rec(s, T0 + 10, name, 500);
    }
    json_t *o = summary(s, T0 + 60, 900, 0);
    assert_int_equal(json_array_size(json_object_get(o, "topTools")), GW_SERIES_TOP_TOOLS);
    const json_t *other = tool_entry(o, "_other");
    assert_non_null(other);
    long long expect = 0;
    for (int i = 31; i < 40; i++)
        expect += i + 1;
    assert_int_equal(json_integer_value(json_object_get(other, "calls")), expect);
    assert_int_equal(total(o, "calls"), 40 * 41 / 2);
    json_decref(o);
    /* the name table is bounded: names beyond GW_SERIES_NAMES_MAX are _other too */
    for (unsigned i = 0; i < GW_SERIES_NAMES_MAX + 10; i++) {
        snprintf(name, sizeof(name), "n%u", i);
        rec(s, T0 + 400 + (int64_t)i * 300, name, 500); /* one slot each */
    }
    int64_t end = T0 + 400 + (int64_t)(GW_SERIES_NAMES_MAX + 9) * 300;
    o = summary(s, end, 900, 0);
    assert_non_null(tool_entry(o, "_other"));
    snprintf(name, sizeof(name), "n%u", GW_SERIES_NAMES_MAX + 9);
    assert_null(tool_entry(o, name));
    json_decref(o);
    gw_metrics_series_free(s);
}

static int samples_taken;

static void sampler(void *ud, uint64_t out[GW_SERIES_SAMPLES])
{
    (void)ud;
    samples_taken++;
    out[0] = (uint64_t)samples_taken * 100; /* a growing counter */
    out[1] = (uint64_t)samples_taken;
    out[2] = 7;
}

static void test_sampler(void **state)
{
    (void)state;
    struct gw_metrics_series *s = gw_metrics_series_new();
    samples_taken = 0;
    gw_metrics_series_set_sampler(s, sampler, NULL);
    for (int i = 0; i < 100; i++)
        rec(s, T0 + 1, "a", 100); /* one minute: one sample */
    assert_int_equal(samples_taken, 1);
    gw_metrics_series_tick(s, MS(T0 + 59));
    assert_int_equal(samples_taken, 1);
    gw_metrics_series_tick(s, MS(T0 + 60)); /* the next minute, without traffic */
    assert_int_equal(samples_taken, 2);
    rec(s, T0 + 600, "a", 100);
    assert_int_equal(samples_taken, 3);
    uint64_t v[GW_SERIES_SAMPLES];
    int64_t at = 0;
    assert_true(gw_metrics_series_sample_since(s, MS(T0), v, &at));
    assert_int_equal(at, MS(T0));
    assert_int_equal(v[0], 100);
    assert_true(gw_metrics_series_sample_since(s, MS(T0) + 1, v, &at)); /* next whole minute */
    assert_int_equal(at, MS(T0 + 60));
    assert_int_equal(v[1], 2);
    assert_true(gw_metrics_series_sample_since(s, MS(T0 + 120), v, &at));
    assert_int_equal(at, MS(T0 + 600));
    assert_false(gw_metrics_series_sample_since(s, MS(T0 + 601), v, &at));
    gw_metrics_series_free(s);
}

struct worker {
    struct gw_metrics_series *s;
    int id;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    char name[16];
    for (int i = 0; i < 50000; i++) {
        snprintf(name, sizeof(name), "t%d", (i + w->id) % 12);
        struct gw_series_obs o = {.tool = name, .latency_us = (uint64_t)(100 + i % 5000),
                                  .denied = i % 10 == 0, .upstream = "u",
                                  .upstream_latency_us = 50};
        gw_metrics_series_record(w->s, MS(T0 + (i % 600)), &o);
    }
    return NULL;
}

static void test_concurrent_records_are_exact(void **state)
{
    (void)state;
    struct gw_metrics_series *s = gw_metrics_series_new();
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){s, i};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    json_t *o = summary(s, T0 + 899, 900, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_int_equal(total(o, "calls"), 200000);
    assert_int_equal(total(o, "denials"), 20000);
    json_decref(o);
    o = summary(s, T0 + 899, 86400, 60);
    assert_int_equal(total(o, "calls"), 200000);
    json_decref(o);
    print_message("summary of 15 min (60 points, 12 tools): %.2f ms\n",
                  (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
    /* a full day: 40 names in every 5-minute slot, then the 24 h summary at 1440 points */
    char name[16];
    for (int64_t t = 0; t < 86400; t += 30)
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof(name), "d%d", (int)((t / 30 + k) % 40));
            rec(s, T0 + 900 + t, name, 100 + (uint64_t)t % 9000);
        }
    clock_gettime(CLOCK_MONOTONIC, &a);
    o = summary(s, T0 + 900 + 86399, 86400, 60);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_int_equal(total(o, "calls"), 86400 / 30 * 4);
    json_decref(o);
    print_message("summary of 24 h (1440 points, a full day of 40 tools): %.2f ms\n",
                  (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
    gw_metrics_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_quantiles_against_sorted_reference),
        cmocka_unit_test(test_window_and_step),
        cmocka_unit_test(test_summary_shape_and_counts),
        cmocka_unit_test(test_roll_over),
        cmocka_unit_test(test_capacity_other),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_concurrent_records_are_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
