/*
 * tests/unit/core/test_str.c
 * String helpers of core/str.h that replace printf on hot paths: gw_strlcpy must behave as
 * snprintf(dst, size, "%s", src) (cut at size - 1, always terminated, NULL = ""), and the
 * decimal writers must print exactly what "%llu" / "%lld" print, LLONG_MIN included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/str.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static void test_strlcpy_like_snprintf(void **state)
{
    (void)state;
    static const char *const srcs[] = {"", "a", "hello", "exactly8", "a longer string than any"};
    for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
        for (size_t size = 1; size <= 12; size++) {
            char got[16], want[16];
            memset(got, '#', sizeof(got));
            memset(want, '#', sizeof(want));
            size_t n = gw_strlcpy(got, size, srcs[i]);
            snprintf(want, size, "%s", srcs[i]);
            assert_memory_equal(got, want, sizeof(got)); /* nothing written past size */
            assert_int_equal(n, strlen(want));
        }
    }
    char d[4] = "xyz";
    assert_int_equal(gw_strlcpy(d, sizeof(d), NULL), 0);
    assert_string_equal(d, "");
}

static void test_decimal_like_printf(void **state)
{
    (void)state;
    static const long long vals[] = {0,         1,          -1,        7,         10,
                                     -10,       4294967295, 4294967296, LLONG_MAX, LLONG_MIN,
                                     LLONG_MIN + 1, 1000000000000000000LL};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char got[24], want[24];
        size_t n = gw_i64_to_dec(vals[i], got);
        snprintf(want, sizeof(want), "%lld", vals[i]);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
        n = gw_u64_to_dec((unsigned long long)vals[i], got);
        snprintf(want, sizeof(want), "%llu", (unsigned long long)vals[i]);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
    }
    char got[24];
    assert_int_equal(gw_u64_to_dec(ULLONG_MAX, got), 20);
    assert_string_equal(got, "18446744073709551615");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strlcpy_like_snprintf),
        cmocka_unit_test(test_decimal_like_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
