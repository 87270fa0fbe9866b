/*
 * tests/unit/core/test_buf.c
 * The bounded buffer (core/buf.h): the maximum is a hard limit (appends past it fail with
 * GW_ELIMIT and leave the content unchanged, including the size_t overflow case), content is
 * always NUL-terminated, a maximum of SIZE_MAX ("no limit") works, binary data survives, printf
 * formats and respects the limit, reset keeps the buffer reusable, and take hands the content over
 * and leaves the buffer empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"

#include <string.h>

static void test_empty(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 16);
    assert_string_equal(gw_buf_ptr(&b), "");
    assert_int_equal(gw_buf_len(&b), 0);
    gw_buf_fini(&b);
    gw_buf_fini(&b); /* twice is harmless */
    assert_int_equal(gw_buf_len(&b), 0);
}

static void test_add_and_limit(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 10);
    assert_int_equal(gw_buf_adds(&b, "hello"), GW_OK);
    assert_int_equal(gw_buf_addc(&b, ' '), GW_OK);
    assert_int_equal(gw_buf_add(&b, "wor", 3), GW_OK);
    assert_int_equal(gw_buf_len(&b), 9);
    /* 2 more bytes would make 11 > 10: refused, content unchanged */
    assert_int_equal(gw_buf_adds(&b, "ld"), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "hello wor");
    assert_int_equal(gw_buf_len(&b), 9);
    /* exactly up to the maximum is fine */
    assert_int_equal(gw_buf_addc(&b, 'l'), GW_OK);
    assert_int_equal(gw_buf_len(&b), 10);
    assert_string_equal(gw_buf_ptr(&b), "hello worl");
    assert_int_equal(gw_buf_addc(&b, 'd'), GW_ELIMIT);
    /* adding nothing at the limit is not an error */
    assert_int_equal(gw_buf_add(&b, "", 0), GW_OK);
    assert_int_equal(gw_buf_len(&b), 10);
    gw_buf_fini(&b);
}

static void test_zero_max(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 0);
    assert_int_equal(gw_buf_addc(&b, 'x'), GW_ELIMIT);
    assert_int_equal(gw_buf_add(&b, NULL, 0), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "");
    gw_buf_fini(&b);
}

static void test_overflow_sizes(void **state)
{
    (void)state;
    struct gw_buf b;
    /* a huge maximum */
    gw_buf_init(&b, SIZE_MAX / 2);
    assert_int_equal(gw_buf_adds(&b, "abc"), GW_OK);
    /* sizes that would wrap len + n around must be refused, not become tiny allocations */
    assert_int_equal(gw_buf_add(&b, "x", SIZE_MAX), GW_ELIMIT);
    assert_int_equal(gw_buf_add(&b, "x", SIZE_MAX / 2 - 1), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "abc");
    gw_buf_fini(&b);

    gw_buf_init(&b, 100);
    assert_int_equal(gw_buf_add(&b, "x", SIZE_MAX), GW_ELIMIT);
    assert_int_equal(gw_buf_len(&b), 0);
    gw_buf_fini(&b);
}

static void test_size_max(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX); /* "no practical limit": max + 1 must not wrap to 0 */
    char data[100];
    memset(data, 'q', sizeof(data));
    assert_int_equal(gw_buf_add(&b, data, sizeof(data)), GW_OK);
    assert_int_equal(gw_buf_len(&b), 100);
    assert_int_equal(gw_buf_ptr(&b)[99], 'q');
    assert_int_equal(gw_buf_ptr(&b)[100], '\0');
    assert_true(b._cap >= b._len + 1); /* the invariant the heap relies on */
    assert_int_equal(gw_buf_printf(&b, "%d", 12345), GW_OK);
    assert_int_equal(gw_buf_len(&b), 105);
    gw_buf_fini(&b);
}

static void test_growth_and_binary(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(gw_buf_addc(&b, (char)(i % 251)), GW_OK);
    assert_int_equal(gw_buf_len(&b), 100000);
    const unsigned char *p = (const unsigned char *)gw_buf_ptr(&b);
    for (int i = 0; i < 100000; i++)
        if (p[i] != (unsigned char)(i % 251))
            fail_msg("byte %d is %u, want %u", i, p[i], (unsigned)(i % 251));
    assert_int_equal(p[100000], 0); /* NUL after the content */
    gw_buf_fini(&b);
}

static void test_printf(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 32);
    assert_int_equal(gw_buf_printf(&b, "%s=%d;", "a", 42), GW_OK);
    assert_int_equal(gw_buf_printf(&b, "%05.1f|%x", 3.14159, 255u), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "a=42;003.1|ff");
    size_t before = gw_buf_len(&b);
    /* 20 more characters do not fit in 32: refused, unchanged */
    assert_int_equal(gw_buf_printf(&b, "%020d", 7), GW_ELIMIT);
    assert_int_equal(gw_buf_len(&b), before);
    assert_string_equal(gw_buf_ptr(&b), "a=42;003.1|ff");
    /* an empty format is fine */
    assert_int_equal(gw_buf_printf(&b, "%s", ""), GW_OK);
    assert_int_equal(gw_buf_len(&b), before);
    gw_buf_fini(&b);

    /* a long formatted string grows the buffer across several reallocations */
    char big[5000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gw_buf_init(&b, 10000);
    assert_int_equal(gw_buf_printf(&b, "[%s]", big), GW_OK);
    assert_int_equal(gw_buf_len(&b), 5001);
    assert_int_equal(gw_buf_ptr(&b)[0], '[');
    assert_int_equal(gw_buf_ptr(&b)[5000], ']');
    assert_int_equal(gw_buf_ptr(&b)[5001], '\0');
    gw_buf_fini(&b);
}

static void test_reset_reuse(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 8);
    assert_int_equal(gw_buf_adds(&b, "12345678"), GW_OK);
    gw_buf_reset(&b);
    assert_int_equal(gw_buf_len(&b), 0);
    assert_string_equal(gw_buf_ptr(&b), "");
    /* the limit applies to the new content, not to the total ever added */
    assert_int_equal(gw_buf_adds(&b, "abcdefgh"), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "abcdefgh");
    gw_buf_fini(&b);
    gw_buf_reset(&b); /* reset of a released buffer is harmless */
    assert_int_equal(gw_buf_adds(&b, "ok"), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "ok");
    gw_buf_fini(&b);
}

static void test_take(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 64);
    assert_int_equal(gw_buf_adds(&b, "owned"), GW_OK);
    size_t n = 0;
    char *p = gw_buf_take(&b, &n);
    assert_non_null(p);
    assert_int_equal(n, 5);
    assert_string_equal(p, "owned");
    /* the buffer is empty and usable again; the taken memory is independent */
    assert_int_equal(gw_buf_len(&b), 0);
    assert_string_equal(gw_buf_ptr(&b), "");
    assert_int_equal(gw_buf_adds(&b, "again"), GW_OK);
    assert_string_equal(p, "owned");
    gw_free(p);
    gw_buf_fini(&b);

    /* take of a never-used buffer returns a heap "" */
    gw_buf_init(&b, 64);
    p = gw_buf_take(&b, &n);
    assert_non_null(p);
    assert_int_equal(n, 0);
    assert_string_equal(p, "");
    gw_free(p);
    p = gw_buf_take(&b, NULL); /* out_len is optional */
    assert_string_equal(p, "");
    gw_free(p);
    gw_buf_fini(&b);
}

/* The inline appends (fast path while the bytes fit the held memory) and the slow path agree
 * at every boundary: the maximum is exact whichever path the last byte takes. */
static void test_fast_path_boundaries(void **state)
{
    (void)state;
    for (size_t max = 0; max < 200; max++) {
        struct gw_buf b;
        gw_buf_init(&b, max);
        size_t i = 0;
        for (; i < max; i++) {
            int rc = (i % 3 == 0)   ? gw_buf_addc(&b, (char)('a' + i % 26))
                     : (i % 3 == 1) ? gw_buf_add(&b, (const char[]){(char)('a' + i % 26)}, 1)
                                    : gw_buf_adds(&b, (const char[]){(char)('a' + i % 26), 0});
            assert_int_equal(rc, GW_OK);
            assert_int_equal(gw_buf_len(&b), i + 1);
            assert_int_equal(gw_buf_ptr(&b)[i + 1], '\0');
        }
        assert_int_equal(gw_buf_addc(&b, 'x'), GW_ELIMIT);
        assert_int_equal(gw_buf_add(&b, "xy", 2), GW_ELIMIT);
        assert_int_equal(gw_buf_add(&b, "", 0), GW_OK);
        assert_int_equal(gw_buf_len(&b), max);
        for (size_t j = 0; j < max; j++)
            assert_int_equal(gw_buf_ptr(&b)[j], (char)('a' + j % 26));
        gw_buf_fini(&b);
    }
}

/* printf formats in one pass when the text fits, and on every failure leaves the content as
 * it was (no partial text, still NUL-terminated), whether or not memory was held. */
static void test_printf_fit_and_refusal(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 20);
    assert_int_equal(gw_buf_adds(&b, "ab"), GW_OK); /* now holds memory */
    assert_int_equal(gw_buf_printf(&b, "%d-%s", 42, "x"), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "ab42-x");
    /* 15 more bytes would make 21 > 20 */
    assert_int_equal(gw_buf_printf(&b, "%s", "0123456789abcde"), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "ab42-x");
    assert_int_equal(gw_buf_len(&b), 6);
    assert_int_equal(gw_buf_printf(&b, "%s", "0123456789abcd"), GW_OK); /* exactly 20 */
    assert_int_equal(gw_buf_len(&b), 20);
    gw_buf_fini(&b);
    /* longer than the held memory but within the maximum: grows and formats again */
    gw_buf_init(&b, 1000);
    assert_int_equal(gw_buf_addc(&b, '>'), GW_OK);
    char big[301];
    memset(big, 'z', 300);
    big[300] = '\0';
    assert_int_equal(gw_buf_printf(&b, "%s<", big), GW_OK);
    assert_int_equal(gw_buf_len(&b), 302);
    assert_int_equal(gw_buf_ptr(&b)[0], '>');
    assert_int_equal(gw_buf_ptr(&b)[301], '<');
    assert_int_equal(gw_buf_ptr(&b)[302], '\0');
    gw_buf_fini(&b);
}

static void test_add_integers(void **state)
{
    (void)state;
    static const long long vals[] = {0,  1,         -1,        9,         10,        -10,
                                     99, 100,       123456789, -98765432, INT64_MAX, INT64_MIN,
                                     INT64_MIN + 1, INT64_MAX - 1};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct gw_buf b, want;
        gw_buf_init(&b, 64);
        gw_buf_init(&want, 64);
        assert_int_equal(gw_buf_add_i64(&b, vals[i]), GW_OK);
        assert_int_equal(gw_buf_add_u64(&b, (unsigned long long)vals[i]), GW_OK);
        assert_int_equal(gw_buf_printf(&want, "%lld%llu", vals[i], (unsigned long long)vals[i]),
                         GW_OK);
        assert_string_equal(gw_buf_ptr(&b), gw_buf_ptr(&want));
        gw_buf_fini(&b);
        gw_buf_fini(&want);
    }
    struct gw_buf b;
    gw_buf_init(&b, 3);
    assert_int_equal(gw_buf_add_i64(&b, -1000), GW_ELIMIT); /* 5 > 3: nothing added */
    assert_int_equal(gw_buf_add_u64(&b, 999), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "999");
    gw_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),          cmocka_unit_test(test_add_and_limit),
        cmocka_unit_test(test_zero_max),       cmocka_unit_test(test_overflow_sizes),
        cmocka_unit_test(test_size_max),
        cmocka_unit_test(test_growth_and_binary), cmocka_unit_test(test_printf),
        cmocka_unit_test(test_reset_reuse),    cmocka_unit_test(test_take),
        cmocka_unit_test(test_fast_path_boundaries),
        cmocka_unit_test(test_printf_fit_and_refusal),
        cmocka_unit_test(test_add_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
