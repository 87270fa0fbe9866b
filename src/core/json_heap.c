/*
 * src/core/json_heap.c
 * The bulk JSON heaps (see json_heap.h): one reservation of address space split into runs,
 * heaps that take runs, threads that bump-allocate inside their current run.
 *
 * The reservation is PROT_NONE and MAP_NORESERVE: it costs neither memory nor commit charge. A
 * run a heap takes is made readable and writable (mprotect); a released run is mapped afresh
 * PROT_NONE over itself, which drops its pages and its commit charge in one call, and goes on
 * the free stack for the next heap.
 */
#include "core/json_heap.h"

#include "core/alloc.h"
#include "core/assert.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define GW_JSON_HEAPS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GW_JSON_HEAPS 0
#endif
#endif
#ifndef GW_JSON_HEAPS
#define GW_JSON_HEAPS 1
#endif

#define RUNS (GW_JSON_HEAP_RESERVE / GW_JSON_HEAP_RUN)
#define BIG (GW_JSON_HEAP_RUN / 8) /* larger blocks come from malloc */

struct gw_json_heap {
    pthread_mutex_t lock;
    size_t budget; /* bytes of runs it may take; 0 = no limit */
    size_t taken;  /* bytes of runs taken */
    uint32_t *runs;
    size_t nruns, cap;
};

/* The reservation: runs [0, fresh) have been used; released ones wait on the free stack. */
static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    _Atomic(uintptr_t) base; /* 0: none (not yet, failed or heaps off) */
    uint32_t fresh;
    uint32_t nfree;
    uint32_t free_runs[RUNS];
} g = {PTHREAD_ONCE_INIT, PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}};

static _Thread_local struct gw_json_heap *tl_heap;
static _Thread_local char *tl_cur; /* the thread's current run of tl_heap: next free byte */
static _Thread_local size_t tl_left; /* bytes left in it */

static void reserve(void)
{
    void *p = mmap(NULL, GW_JSON_HEAP_RESERVE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED)
        atomic_store(&g.base, (uintptr_t)p);
}

static char *run_addr(uint32_t idx)
{
    return (char *)atomic_load_explicit(&g.base, memory_order_relaxed) +
           (size_t)idx * GW_JSON_HEAP_RUN;
}

/* A run for h (made writable), or NULL at its budget or the reservation's end. */
static char *take_run(struct gw_json_heap *h)
{
    char *run = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->budget && h->taken + GW_JSON_HEAP_RUN > h->budget)
        goto out;
    if (h->nruns == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        uint32_t *r = gw_tryrealloc(h->runs, cap * sizeof(*r));
        if (!r)
            goto out;
        h->runs = r;
        h->cap = cap;
    }
    uint32_t idx = 0;
    pthread_mutex_lock(&g.lock);
    bool got = true;
    if (g.nfree)
        idx = g.free_runs[--g.nfree];
    else if (g.fresh < RUNS)
        idx = g.fresh++;
    else
        got = false;
    pthread_mutex_unlock(&g.lock);
    if (!got)
        goto out;
    if (mprotect(run_addr(idx), GW_JSON_HEAP_RUN, PROT_READ | PROT_WRITE) != 0) {
        pthread_mutex_lock(&g.lock);
        g.free_runs[g.nfree++] = idx;
        pthread_mutex_unlock(&g.lock);
        goto out;
    }
    h->runs[h->nruns++] = idx;
    h->taken += GW_JSON_HEAP_RUN;
    run = run_addr(idx);
out:
    pthread_mutex_unlock(&h->lock);
    return run;
}

struct gw_json_heap *gw_json_heap_new(size_t budget)
{
    if (!GW_JSON_HEAPS)
        return NULL;
    pthread_once(&g.once, reserve);
    if (!atomic_load(&g.base))
        return NULL;
    struct gw_json_heap *h = gw_trycalloc(1, sizeof(*h));
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->budget = budget;
    return h;
}

struct gw_json_heap *gw_json_heap_enter(struct gw_json_heap *h)
{
    struct gw_json_heap *prev = tl_heap;
    if (h != prev) {
        tl_heap = h;
        tl_cur = NULL;
        tl_left = 0;
    }
    return prev;
}

struct gw_json_heap *gw_json_heap_current(void)
{
    return tl_heap;
}

void gw_json_heap_release(struct gw_json_heap *h)
{
    if (!h)
        return;
    GW_ASSERT(tl_heap != h);
    for (size_t i = 0; i < h->nruns; i++) {
        void *p = mmap(run_addr(h->runs[i]), GW_JSON_HEAP_RUN, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED) /* cannot happen for a range we own; never reuse it then */
            continue;
        pthread_mutex_lock(&g.lock);
        g.free_runs[g.nfree++] = h->runs[i];
        pthread_mutex_unlock(&g.lock);
    }
    pthread_mutex_destroy(&h->lock);
    gw_free(h->runs);
    gw_free(h);
}

size_t gw_json_heap_size(const struct gw_json_heap *h)
{
    return h ? h->taken : 0;
}

void *gw_json_heap__malloc(size_t n)
{
    struct gw_json_heap *h = tl_heap;
    if (!h || n > BIG)
        return gw_cache_malloc(n);
    n = n ? (n + 7) & ~(size_t)7 : 8;
    if (tl_left < n) {
        char *run = take_run(h);
        if (!run)
            return NULL;
        tl_cur = run;
        tl_left = GW_JSON_HEAP_RUN;
    }
    void *p = tl_cur;
    tl_cur += n;
    tl_left -= n;
    return p;
}

void gw_json_heap__free(void *p)
{
    uintptr_t base = atomic_load_explicit(&g.base, memory_order_relaxed);
    if (base && (uintptr_t)p - base < GW_JSON_HEAP_RESERVE)
        return; /* a heap block: its memory goes with its heap */
    gw_cache_free(p);
}
