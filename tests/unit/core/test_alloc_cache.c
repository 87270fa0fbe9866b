/*
 * tests/unit/core/test_alloc_cache.c
 * The per-thread small-block cache of core/alloc.h (what jansson allocates through, see
 * gw_json_init): every block holds what was asked, a freed block is reused by a request of its
 * class, blocks of any malloc size may be handed in, the cache is bounded per class and in
 * bytes, large blocks pass straight to free, and blocks may cross threads (made on one, freed
 * on another) as jansson values shared between workers do. With AddressSanitizer the cache is
 * off by design (plain malloc/free): the reuse and bound checks then expect an empty cache.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define CACHE_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CACHE_ON 0
#endif
#endif
#ifndef CACHE_ON
#define CACHE_ON 1
#endif

/* empties the calling thread's cache (into a list, then frees past it) */
static void drain(void)
{
    size_t blocks, bytes;
    gw_cache_stats(&blocks, &bytes);
    void **held = calloc(blocks + 1, sizeof(*held));
    assert_non_null(held);
    size_t n = 0;
    for (size_t k = 2; k < 32 && n < blocks; k++) {
        size_t sz = k * 16 - 8; /* the largest request of class k */
        for (;;) {
            size_t b0, y0;
            gw_cache_stats(&b0, &y0);
            void *p = gw_cache_malloc(sz);
            size_t b1, y1;
            gw_cache_stats(&b1, &y1);
            if (b1 == b0) { /* came from malloc: this class is empty */
                free(p);
                break;
            }
            held[n++] = p;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(held[i]);
    free(held);
    gw_cache_stats(&blocks, &bytes);
    assert_int_equal(blocks, 0);
    assert_int_equal(bytes, 0);
}

static void test_blocks_hold_the_request(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 1200; n++) {
        unsigned char *p = gw_cache_malloc(n);
        assert_non_null(p);
        assert_true(malloc_usable_size(p) >= n);
        memset(p, 0xa5, n);
        gw_cache_free(p);
    }
    /* and again, now that the classes hold blocks of every size */
    for (size_t n = 1200; n-- > 0;) {
        unsigned char *p = gw_cache_malloc(n);
        assert_true(malloc_usable_size(p) >= n);
        memset(p, 0x5a, n);
        gw_cache_free(p);
    }
    gw_cache_free(NULL);
    drain();
}

static void test_freed_block_is_reused(void **state)
{
    (void)state;
    drain();
    void *p = gw_cache_malloc(100);
    gw_cache_free(p);
    size_t blocks, bytes;
    gw_cache_stats(&blocks, &bytes);
    if (!CACHE_ON) {
        assert_int_equal(blocks, 0);
        return;
    }
    assert_int_equal(blocks, 1);
    void *q = gw_cache_malloc(97); /* same class (97..104 bytes with 100) */
    assert_ptr_equal(p, q);
    gw_cache_stats(&blocks, &bytes);
    assert_int_equal(blocks, 0);
    assert_int_equal(bytes, 0);
    free(q); /* an ordinary malloc block */
}

static void test_foreign_blocks_filed_by_usable_size(void **state)
{
    (void)state;
    drain();
    /* malloc'd elsewhere, of sizes that are not class sizes: whatever class a block is filed
     * in, every request served from that class fits in it */
    for (size_t sz = 1; sz <= 520; sz += 7)
        gw_cache_free(malloc(sz));
    for (size_t n = 0; n <= 520; n++) {
        unsigned char *p = gw_cache_malloc(n);
        assert_true(malloc_usable_size(p) >= n);
        memset(p, 1, n);
        free(p);
    }
    drain();
}

static void test_bounded(void **state)
{
    (void)state;
    drain();
    enum { N = GW_ALLOC_CACHE_PER_CLASS + 50 };
    void *v[N];
    for (int i = 0; i < N; i++)
        v[i] = gw_cache_malloc(40);
    for (int i = 0; i < N; i++)
        gw_cache_free(v[i]);
    size_t blocks, bytes;
    gw_cache_stats(&blocks, &bytes);
    assert_int_equal(blocks, CACHE_ON ? GW_ALLOC_CACHE_PER_CLASS : 0);
    /* many classes full: the byte bound holds */
    static void *w[31][GW_ALLOC_CACHE_PER_CLASS];
    for (int k = 2; k < 31; k++)
        for (int i = 0; i < GW_ALLOC_CACHE_PER_CLASS; i++)
            w[k][i] = gw_cache_malloc((size_t)k * 16 - 8);
    for (int k = 2; k < 31; k++)
        for (int i = 0; i < GW_ALLOC_CACHE_PER_CLASS; i++)
            gw_cache_free(w[k][i]);
    gw_cache_stats(&blocks, &bytes);
    assert_true(bytes <= 512u * 1024u);
    if (CACHE_ON)
        assert_true(bytes > 256u * 1024u);
    /* a large block is not kept */
    size_t b0 = blocks;
    gw_cache_free(gw_cache_malloc(4096));
    gw_cache_stats(&blocks, &bytes);
    assert_int_equal(blocks, b0);
    drain();
}

/* jansson through the cache: values made on one thread, freed on another */
#define VALUES 2000
static json_t *made[2][VALUES];

static void *make_values(void *arg)
{
    json_t **out = arg;
    for (int i = 0; i < VALUES; i++)
        out[i] = json_pack("{s:i,s:s,s:[s,f]}", "n", i, "text", "some text of a value", "list",
                           "x", 1.5);
    return NULL;
}

static void *free_values(void *arg)
{
    json_t **in = arg;
    for (int i = 0; i < VALUES; i++) {
        assert_int_equal(json_integer_value(json_object_get(in[i], "n")), i);
        json_decref(in[i]);
    }
    return NULL;
}

static void test_jansson_across_threads(void **state)
{
    (void)state;
    gw_json_init();
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, make_values, made[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    /* each thread frees the other's values (and keeps some blocks in its own cache) */
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, free_values, made[1 - i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    char *s = json_dumps(made[0][0] = json_pack("{s:s}", "a", "b"), 0);
    assert_string_equal(s, "{\"a\": \"b\"}");
    free(s); /* json_dumps' text is an ordinary malloc block */
    json_decref(made[0][0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_hold_the_request),
        cmocka_unit_test(test_freed_block_is_reused),
        cmocka_unit_test(test_foreign_blocks_filed_by_usable_size),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_jansson_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
