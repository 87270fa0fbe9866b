/*
 * src/core/alloc.c
 * Heap wrappers: the aborting (x) and fallible (try) families. The only file that calls
 * malloc/free directly.
 */
#include "core/alloc.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *gw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *gw_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *gw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *gw_xstrdup(const char *s)
{
    return gw_xstrndup(s, strlen(s));
}

char *gw_xstrndup(const char *s, size_t n)
{
    char *d = gw_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *gw_trymalloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *gw_trycalloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *gw_tryrealloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

void gw_free(void *p)
{
    free(p);
}

/* ---- the per-thread small-block cache (alloc.h) ---------------------------------------------
 * Class k holds blocks of at least k * 16 - 8 usable bytes (glibc's chunk sizes: 24, 40, 56,
 * ...), k = 2..CLASSES-1. A request of n bytes is served from class ceil((n + 8) / 16) and, when
 * that list is empty, by malloc of exactly the class size; a freed block goes to class
 * floor((usable + 8) / 16), so every block in class k can hold any request that maps to k,
 * whatever the allocator rounds to. The first word of a cached block links the list. */
#if defined(__SANITIZE_ADDRESS__)
#define GW_ALLOC_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GW_ALLOC_CACHE 0
#endif
#endif
#ifndef GW_ALLOC_CACHE
#define GW_ALLOC_CACHE 1
#endif

#if GW_ALLOC_CACHE

#define CLASSES 32                      /* up to 31 * 16 - 8 = 488 usable bytes */
#define CACHE_MAX_BYTES (512u * 1024u)  /* per thread */

struct block_cache {
    void *head[CLASSES];
    uint16_t n[CLASSES];
    size_t bytes, blocks;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static _Thread_local struct block_cache *tl_cache;

static void cache_release(void *arg)
{
    struct block_cache *c = arg;
    for (int k = 0; k < CLASSES; k++) {
        while (c->head[k]) {
            void *b = c->head[k];
            c->head[k] = *(void **)b;
            free(b);
        }
    }
    free(c);
    tl_cache = NULL;
}

static void cache_key_make(void)
{
    pthread_key_create(&cache_key, cache_release);
}

static struct block_cache *cache(void)
{
    if (tl_cache)
        return tl_cache;
    pthread_once(&cache_once, cache_key_make);
    struct block_cache *c = calloc(1, sizeof(*c));
    if (c && pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    tl_cache = c;
    return c;
}

void *gw_cache_malloc(size_t n)
{
    size_t k = (n + 8 + 15) / 16;
    if (k < 2)
        k = 2;
    if (k < CLASSES) {
        struct block_cache *c = cache();
        if (c && c->head[k]) {
            void *b = c->head[k];
            c->head[k] = *(void **)b;
            c->n[k]--;
            c->blocks--;
            c->bytes -= k * 16;
            return b;
        }
        return malloc(k * 16 - 8);
    }
    return malloc(n ? n : 1);
}

void gw_cache_free(void *p)
{
    if (!p)
        return;
    size_t k = (malloc_usable_size(p) + 8) / 16;
    if (k >= 2 && k < CLASSES) {
        struct block_cache *c = cache();
        if (c && c->n[k] < GW_ALLOC_CACHE_PER_CLASS && c->bytes + k * 16 <= CACHE_MAX_BYTES) {
            *(void **)p = c->head[k];
            c->head[k] = p;
            c->n[k]++;
            c->blocks++;
            c->bytes += k * 16;
            return;
        }
    }
    free(p);
}

void gw_cache_stats(size_t *blocks, size_t *bytes)
{
    struct block_cache *c = tl_cache;
    *blocks = c ? c->blocks : 0;
    *bytes = c ? c->bytes : 0;
}

#else /* AddressSanitizer: plain malloc and free, so that it sees every block's life */

void *gw_cache_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void gw_cache_free(void *p)
{
    free(p);
}

void gw_cache_stats(size_t *blocks, size_t *bytes)
{
    *blocks = 0;
    *bytes = 0;
}

#endif
