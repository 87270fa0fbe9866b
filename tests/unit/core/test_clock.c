/*
 * tests/unit/core/test_clock.c
 * core/clock.h: ISO-8601 UTC text to and from Unix seconds (round trips, fractions accepted,
 * offsets and out-of-range fields refused) and gw_clock_deadline (normalised nanoseconds,
 * the requested distance from now on the clock asked for, whole and partial seconds).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/err.h"

#include <string.h>
#include <time.h>

static void test_iso_round_trip(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(gw_clock_iso(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
    assert_string_equal(gw_clock_iso(1738314900, buf, sizeof(buf)), "2025-01-31T09:15:00Z");
    int64_t t = 0;
    assert_int_equal(gw_clock_parse_iso("2025-01-31T09:15:00.123Z", &t), GW_OK);
    assert_int_equal(t, 1738314900);
    int64_t now = gw_clock_now();
    assert_int_equal(gw_clock_parse_iso(gw_clock_iso(now, buf, sizeof(buf)), &t), GW_OK);
    assert_int_equal(t, now);
}

static void test_iso_refusals(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(gw_clock_parse_iso("2025-01-31T09:15:00+01:00", &t), GW_EINVAL);
    assert_int_equal(gw_clock_parse_iso("2025-13-01T00:00:00Z", &t), GW_EINVAL);
    assert_int_equal(gw_clock_parse_iso("2025-01-31 09:15:00Z", &t), GW_EINVAL);
    assert_int_equal(gw_clock_parse_iso("", &t), GW_EINVAL);
}

/* Milliseconds from a to b. */
static long long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (long long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void test_deadline(void **state)
{
    (void)state;
    static const long cases[] = {0, 1, 999, 1000, 1001, 1999, 2500, 60000};
    static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct timespec before, after;
            clock_gettime(clocks[c], &before);
            struct timespec d = gw_clock_deadline(clocks[c], cases[i]);
            clock_gettime(clocks[c], &after);
            assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
            /* at least `ms` after the moment before the call, at most `ms` after the one after
             * it (plus the millisecond the division drops) */
            assert_true(ms_between(&before, &d) >= cases[i] - 1);
            assert_true(ms_between(&after, &d) <= cases[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso_round_trip),
        cmocka_unit_test(test_iso_refusals),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
