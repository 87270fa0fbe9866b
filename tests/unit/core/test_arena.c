/*
 * tests/unit/core/test_arena.c
 * The per-request arena (core/arena.h): blocks aligned for any type (max_align_t), the byte budget
 * (an overrun is a NULL + exhausted flag, never an abort, and earlier allocations stay intact),
 * calloc/strndup/printf helpers, allocations larger than a chunk, size_t overflow, cleanups run
 * exactly once in LIFO order at free, and a cleanup registered on an exhausted arena runs
 * immediately so the resource never leaks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"

#include <string.h>

static void test_alignment_and_used(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(0);
    assert_non_null(a);
    assert_int_equal(gw_arena_used(a), 0);
    for (size_t n = 1; n < 100; n += 7) {
        void *p = gw_arena_alloc(a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xAB, n); /* the whole block is writable (ASan checks) */
    }
    /* used counts bytes handed out, rounded to the alignment */
    size_t used = gw_arena_used(a);
    assert_int_equal(used % 16, 0);
    assert_true(used >= 1 + 8 + 15 + 22);
    assert_false(gw_arena_exhausted(a));
    gw_arena_free(a);
    gw_arena_free(NULL);
}

static void test_budget_exhaustion(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(1000);
    char *p1 = gw_arena_alloc(a, 512);
    assert_non_null(p1);
    memset(p1, 'x', 512);
    assert_int_equal(gw_arena_used(a), 512);
    /* 512 more would make 1024 > 1000 */
    assert_null(gw_arena_alloc(a, 512));
    assert_true(gw_arena_exhausted(a));
    assert_int_equal(gw_arena_used(a), 512);
    /* smaller requests that still fit are served; the flag stays set */
    char *p2 = gw_arena_alloc(a, 400);
    assert_non_null(p2);
    assert_true(gw_arena_exhausted(a));
    assert_int_equal(gw_arena_used(a), 912);
    /* earlier allocations are intact */
    for (int i = 0; i < 512; i++)
        assert_int_equal(p1[i], 'x');
    /* helpers fail the same way */
    assert_null(gw_arena_calloc(a, 200));
    assert_null(gw_arena_strndup(a, "0123456789", 10 + 100));
    assert_null(gw_arena_printf(a, "%0200d", 1));
    /* exactly up to the budget */
    assert_non_null(gw_arena_alloc(a, 80));
    assert_int_equal(gw_arena_used(a), 992);
    assert_null(gw_arena_alloc(a, 16));
    gw_arena_free(a);
}

static void test_overflow(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(0);
    /* rounding SIZE_MAX up to the alignment wraps: must fail cleanly */
    assert_null(gw_arena_alloc(a, SIZE_MAX));
    assert_null(gw_arena_alloc(a, SIZE_MAX - 3));
    assert_true(gw_arena_exhausted(a));
    gw_arena_free(a);

    /* round16(SIZE_MAX - 19) = SIZE_MAX - 15 >= n: the chunk header must not wrap it */
    a = gw_arena_new(0);
    assert_null(gw_arena_alloc(a, SIZE_MAX - 19));
    gw_arena_free(a);

    a = gw_arena_new(1u << 20);
    assert_null(gw_arena_alloc(a, SIZE_MAX - 64));
    assert_int_equal(gw_arena_used(a), 0);
    /* used + need must not wrap past the budget either */
    assert_non_null(gw_arena_alloc(a, 16));
    assert_null(gw_arena_alloc(a, SIZE_MAX - 19));
    assert_int_equal(gw_arena_used(a), 16);
    gw_arena_free(a);
}

static void test_large_and_many(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(0);
    enum { N = 2000 };
    unsigned char *blocks[N];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 97) * 13 + 1;
        blocks[i] = gw_arena_alloc(a, n);
        assert_non_null(blocks[i]);
        memset(blocks[i], i & 0xff, n);
    }
    unsigned char *big = gw_arena_alloc(a, 3u << 20); /* bigger than any chunk */
    assert_non_null(big);
    memset(big, 0x5A, 3u << 20);
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 97) * 13 + 1;
        for (size_t k = 0; k < n; k++)
            if (blocks[i][k] != (unsigned char)(i & 0xff))
                fail_msg("block %d byte %zu overwritten", i, k);
    }
    gw_arena_free(a);
}

static void test_helpers(void **state)
{
    (void)state;
    struct gw_arena *a = gw_arena_new(4096);
    unsigned char *z = gw_arena_calloc(a, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    char *s = gw_arena_strndup(a, "hello world", 5);
    assert_string_equal(s, "hello");
    char *e = gw_arena_strndup(a, "", 0);
    assert_string_equal(e, "");
    char *f = gw_arena_printf(a, "%s-%d-%c", "x", -12, 'q');
    assert_string_equal(f, "x--12-q");
    gw_arena_free(a);
}

/* ---- cleanups ---- */

static int order[16];
static int norder;

static void record(void *p)
{
    order[norder++] = (int)(intptr_t)p;
}

static void test_defer_lifo(void **state)
{
    (void)state;
    norder = 0;
    struct gw_arena *a = gw_arena_new(0);
    for (intptr_t i = 1; i <= 5; i++)
        assert_int_equal(gw_arena_defer(a, record, (void *)i), 0);
    assert_int_equal(norder, 0); /* nothing runs before free */
    gw_arena_free(a);
    assert_int_equal(norder, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], 5 - i);
}

static void test_defer_on_exhaustion(void **state)
{
    (void)state;
    norder = 0;
    struct gw_arena *a = gw_arena_new(64);
    assert_non_null(gw_arena_alloc(a, 64)); /* budget used up */
    /* no room for the cleanup record: the cleanup runs now and -1 is returned */
    assert_int_equal(gw_arena_defer(a, record, (void *)(intptr_t)7), -1);
    assert_int_equal(norder, 1);
    assert_int_equal(order[0], 7);
    assert_true(gw_arena_exhausted(a));
    gw_arena_free(a);
    assert_int_equal(norder, 1); /* ... and exactly once */
}

static void test_defer_mixed_with_allocs(void **state)
{
    (void)state;
    norder = 0;
    struct gw_arena *a = gw_arena_new(256);
    assert_int_equal(gw_arena_defer(a, record, (void *)(intptr_t)1), 0);
    assert_non_null(gw_arena_alloc(a, 100));
    assert_int_equal(gw_arena_defer(a, record, (void *)(intptr_t)2), 0);
    /* fill the budget, then a third cleanup cannot be recorded and runs at once */
    while (gw_arena_alloc(a, 16))
        ;
    assert_int_equal(gw_arena_defer(a, record, (void *)(intptr_t)3), -1);
    assert_int_equal(norder, 1);
    gw_arena_free(a);
    assert_int_equal(norder, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_used), cmocka_unit_test(test_budget_exhaustion),
        cmocka_unit_test(test_overflow),           cmocka_unit_test(test_large_and_many),
        cmocka_unit_test(test_helpers),            cmocka_unit_test(test_defer_lifo),
        cmocka_unit_test(test_defer_on_exhaustion), cmocka_unit_test(test_defer_mixed_with_allocs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
