/*
 * src/core/alloc.c
 * Heap wrappers: the aborting (x) and fallible (try) families. The only file that calls
 * malloc/free directly.
 */
#include "core/alloc.h"

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
