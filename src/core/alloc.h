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

/* Frees *pp and sets it to NULL. */
#define gw_free_null(pp) \
    do {                 \
        gw_free(*(pp));  \
        *(pp) = NULL;    \
    } while (0)

#endif
