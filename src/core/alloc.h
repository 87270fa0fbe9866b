/*
 * src/core/alloc.h
 * The only entry points to the heap.
 *
 * Two families, as Redis has zmalloc/ztrymalloc:
 *   gw_x*   for small fixed-size internal objects: abort with a message when memory runs out;
 *   gw_try* for anything sized by client input: returns NULL, the caller reports GW_ENOMEM.
 * gw_free accepts NULL. Raw malloc/free are not used elsewhere (scripts/checksrc.sh).
 */
#ifndef GW_CORE_ALLOC_H
#define GW_CORE_ALLOC_H

#include <stddef.h>

void *gw_xmalloc(size_t n);
void *gw_xcalloc(size_t count, size_t size);
void *gw_xrealloc(void *p, size_t n);
char *gw_xstrdup(const char *s);
char *gw_xstrndup(const char *s, size_t n);

void *gw_trymalloc(size_t n);
void *gw_trycalloc(size_t count, size_t size);
void *gw_tryrealloc(void *p, size_t n);

void gw_free(void *p);

/* A per-thread cache of small heap blocks, for allocation-heavy libraries on the request path
 * (jansson: ~180 small allocations per tools/call, mostly freed within the same request).
 * glibc's own per-thread cache keeps 7 blocks per size, so a request's worth of same-sized
 * blocks overflows it into the slower bins; this one keeps up to GW_ALLOC_CACHE_PER_CLASS per
 * size class (16-byte steps, blocks of at most 504 usable bytes) and thread, bounded in bytes.
 * The blocks are ordinary malloc blocks: gw_cache_malloc's may be released with free() or
 * gw_free, and gw_cache_free accepts any malloc'd block (it files a block by its
 * malloc_usable_size). Memory a thread keeps is freed when the thread exits. With
 * AddressSanitizer the cache is off (plain malloc/free), so ASan still sees every use after
 * free. Thread-safe (no shared state); never blocks. */
#define GW_ALLOC_CACHE_PER_CLASS 256
void *gw_cache_malloc(size_t n);
void gw_cache_free(void *p);
/* Blocks and bytes the calling thread keeps (tests, metrics). */
void gw_cache_stats(size_t *blocks, size_t *bytes);

/* Frees *pp and sets it to NULL. */
#define gw_free_null(pp) \
    do {                 \
        gw_free(*(pp));  \
        *(pp) = NULL;    \
    } while (0)

#endif
