/*
 * src/core/arena.c
 * Bump allocator over a list of chunks, plus a cleanup stack.
 * Invariants: `used` counts bytes handed out (not chunk capacity) and never exceeds `budget`
 * when a budget is set; cleanups run exactly once, in LIFO order, in gw_arena_free.
 */
#include "core/arena.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHUNK_MIN 4096
#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t cap;
    size_t off;
    _Alignas(ALIGN) unsigned char data[]; /* blocks are ALIGN-aligned, as promised */
};

struct cleanup {
    struct cleanup *next;
    gw_arena_cleanup_fn fn;
    void *ptr;
};

struct gw_arena {
    struct chunk *head;
    struct cleanup *cleanups;
    size_t budget;
    size_t used;
    bool exhausted;
};

struct gw_arena *gw_arena_new(size_t budget)
{
    struct gw_arena *a = gw_trycalloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->budget = budget;
    return a;
}

void gw_arena_free(struct gw_arena *a)
{
    if (!a)
        return;
    for (struct cleanup *c = a->cleanups; c; c = c->next)
        c->fn(c->ptr);
    struct chunk *ch = a->head;
    while (ch) {
        struct chunk *next = ch->next;
        gw_free(ch);
        ch = next;
    }
    gw_free(a);
}

void *gw_arena_alloc(struct gw_arena *a, size_t n)
{
    /* every size computation below is checked for wrap-around before it is made */
    if (n > SIZE_MAX - ALIGN - sizeof(struct chunk) - CHUNK_MIN) {
        a->exhausted = true;
        return NULL;
    }
    size_t need = (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
    if (a->budget && (a->used > a->budget || need > a->budget - a->used)) {
        a->exhausted = true;
        return NULL;
    }
    struct chunk *ch = a->head;
    if (!ch || ch->cap - ch->off < need) {
        size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;
        if (ch && ch->cap * 2 > cap && ch->cap < (1u << 20))
            cap = ch->cap * 2;
        ch = gw_trymalloc(sizeof(*ch) + cap);
        if (!ch) {
            a->exhausted = true;
            return NULL;
        }
        ch->cap = cap;
        ch->off = 0;
        ch->next = a->head;
        a->head = ch;
    }
    void *p = ch->data + ch->off;
    ch->off += need;
    a->used += need;
    return p;
}

void *gw_arena_calloc(struct gw_arena *a, size_t n)
{
    void *p = gw_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *gw_arena_strndup(struct gw_arena *a, const char *s, size_t n)
{
    char *d = gw_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *gw_arena_printf(struct gw_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = gw_arena_alloc(a, (size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

int gw_arena_defer(struct gw_arena *a, gw_arena_cleanup_fn fn, void *ptr)
{
    struct cleanup *c = gw_arena_alloc(a, sizeof(*c));
    if (!c) {
        fn(ptr);
        return -1;
    }
    c->fn = fn;
    c->ptr = ptr;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t gw_arena_used(const struct gw_arena *a)
{
    return a->used;
}

bool gw_arena_exhausted(const struct gw_arena *a)
{
    return a->exhausted;
}
