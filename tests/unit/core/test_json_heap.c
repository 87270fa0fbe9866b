/*
 * tests/unit/core/test_json_heap.c
 * The bulk JSON heaps of core/json_heap.h: jansson values made on a thread that entered a heap
 * live in it (and hold what was made), several threads fill one heap at once, blocks larger
 * than a run's eighth and blocks made outside any heap go to malloc, a budget stops a heap
 * (jansson then reports out of memory instead of crashing), releasing drops the heap's pages
 * (mincore) and the next heap reuses its runs. With AddressSanitizer there are no heaps by
 * design: gw_json_heap_new returns NULL and the rest is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/json.h"
#include "core/json_heap.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HEAPS_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAPS_ON 0
#endif
#endif
#ifndef HEAPS_ON
#define HEAPS_ON 1
#endif

/* A document of n members, each {"name": "member-<i>", "tags": [i, i + 0.5, true]}. */
static json_t *build(int n)
{
    json_t *o = json_object();
    for (int i = 0; i < n && o; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "m%d", i);
        snprintf(v, sizeof(v), "member-%d", i);
        json_t *m = json_pack("{s:s, s:[i, f, b]}", "name", v, "tags", i, i + 0.5, 1);
        if (!m || json_object_set_new(o, k, m) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Whether every page of [p, p + n) is resident. */
static bool resident(const void *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (n + (size_t)page - 1) / (size_t)page;
    unsigned char *vec = calloc(pages, 1);
    assert_non_null(vec);
    bool all = mincore((void *)p, n, vec) == 0;
    for (size_t i = 0; all && i < pages; i++)
        all = vec[i] & 1;
    free(vec);
    return all;
}

static void test_values_live_in_the_heap(void **state)
{
    (void)state;
    struct gw_json_heap *h = gw_json_heap_new(0);
    if (!HEAPS_ON) {
        assert_null(h);
        skip();
    }
    assert_non_null(h);
    json_t *outside = build(2000);
    assert_int_equal(gw_json_heap_size(h), 0);
    assert_null(gw_json_heap_enter(h));
    assert_ptr_equal(gw_json_heap_current(), h);
    json_t *inside = build(2000);
    assert_ptr_equal(gw_json_heap_enter(NULL), h);
    assert_null(gw_json_heap_current());
    assert_non_null(inside);
    assert_true(json_equal(inside, outside));
    assert_true(gw_json_heap_size(h) >= GW_JSON_HEAP_RUN);
    /* values made outside are not in the heap: making them again outside does not grow it */
    size_t before = gw_json_heap_size(h);
    json_t *more = build(2000);
    assert_int_equal(gw_json_heap_size(h), before);
    json_decref(more);
    json_decref(inside); /* frees of heap blocks: nothing, the release takes them */
    json_decref(outside);
    gw_json_heap_release(h);
}

static void test_big_and_foreign_blocks_use_malloc(void **state)
{
    (void)state;
    struct gw_json_heap *h = gw_json_heap_new(0);
    if (!h)
        skip();
    gw_json_heap_enter(h);
    void *big = gw_json_heap__malloc(GW_JSON_HEAP_RUN / 8 + 1);
    assert_non_null(big);
    assert_int_equal(gw_json_heap_size(h), 0);
    memset(big, 0xab, GW_JSON_HEAP_RUN / 8 + 1);
    void *small = gw_json_heap__malloc(24);
    assert_non_null(small);
    assert_int_equal(gw_json_heap_size(h), GW_JSON_HEAP_RUN);
    assert_int_equal((uintptr_t)small % 8, 0);
    gw_json_heap_enter(NULL);
    gw_json_heap__free(big); /* a malloc block: really freed (ASan/LSan would tell) */
    gw_json_heap__free(small);
    gw_json_heap__free(malloc(40)); /* made outside any heap */
    gw_json_heap__free(NULL);
    gw_json_heap_release(h);
}

static void test_budget_stops_the_heap(void **state)
{
    (void)state;
    struct gw_json_heap *h = gw_json_heap_new(2 * GW_JSON_HEAP_RUN);
    if (!h)
        skip();
    gw_json_heap_enter(h);
    json_t *arr = json_array();
    assert_non_null(arr);
    size_t made = 0;
    for (;;) {
        json_t *s = json_string("a string value of some forty bytes.....");
        if (!s)
            break;
        if (json_array_append_new(arr, s) != 0)
            break;
        made++;
        assert_true(made < 1000000); /* 2 MiB cannot hold this many */
    }
    gw_json_heap_enter(NULL);
    assert_true(made > 1000);
    assert_int_equal(gw_json_heap_size(h), 2 * GW_JSON_HEAP_RUN);
    json_decref(arr);
    gw_json_heap_release(h);
}

struct filler {
    struct gw_json_heap *h;
    json_t *doc;
};

static void *fill(void *arg)
{
    struct filler *f = arg;
    gw_json_heap_enter(f->h);
    f->doc = build(20000);
    gw_json_heap_enter(NULL);
    return NULL;
}

static void test_threads_share_a_heap(void **state)
{
    (void)state;
    struct gw_json_heap *h = gw_json_heap_new(0);
    if (!h)
        skip();
    struct filler f[2] = {{h, NULL}, {h, NULL}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, fill, &f[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    json_t *want = build(20000);
    for (int i = 0; i < 2; i++) {
        assert_non_null(f[i].doc);
        assert_true(json_equal(f[i].doc, want));
    }
    /* each thread took runs of its own */
    assert_true(gw_json_heap_size(h) >= 4 * GW_JSON_HEAP_RUN);
    json_decref(want);
    json_decref(f[0].doc); /* freed on another thread than the one that made it */
    json_decref(f[1].doc);
    gw_json_heap_release(h);
}

static void test_release_drops_the_pages_and_runs_are_reused(void **state)
{
    (void)state;
    struct gw_json_heap *h = gw_json_heap_new(0);
    if (!h)
        skip();
    gw_json_heap_enter(h);
    char *first = gw_json_heap__malloc(64);
    assert_non_null(first);
    memset(first, 1, 64);
    gw_json_heap_enter(NULL);
    char *run = first; /* the thread's first block starts its first run */
    assert_true(resident(run, 4096));
    gw_json_heap_release(h);
    assert_false(resident(run, 4096));

    struct gw_json_heap *h2 = gw_json_heap_new(0);
    assert_non_null(h2);
    gw_json_heap_enter(h2);
    char *again = gw_json_heap__malloc(64);
    gw_json_heap_enter(NULL);
    assert_ptr_equal(again, run); /* the released run, taken again, zeroed */
    for (int i = 0; i < 64; i++)
        assert_int_equal(again[i], 0);
    gw_json_heap_release(h2);
}

int main(void)
{
    gw_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_live_in_the_heap),
        cmocka_unit_test(test_big_and_foreign_blocks_use_malloc),
        cmocka_unit_test(test_budget_stops_the_heap),
        cmocka_unit_test(test_threads_share_a_heap),
        cmocka_unit_test(test_release_drops_the_pages_and_runs_are_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
