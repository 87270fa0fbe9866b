/*
 * src/core/arena.h
 * Per-request memory: a bump allocator with a byte budget and registered cleanups.
 *
 * An arena is created when a request is accepted and destroyed when it completes; everything
 * the request needs that does not outlive it comes from here. Foreign resources (JSON
 * documents, curl handles, statements) are attached with gw_arena_defer and released, in
 * reverse order of registration, when the arena is destroyed.
 * Overrunning the budget is an ordinary error (allocation returns NULL, gw_arena_exhausted is
 * true), which callers turn into GW_ELIMIT (413/503), not an abort.
 * Not thread-safe: an arena belongs to the one thread that runs its request.
 */
#ifndef GW_CORE_ARENA_H
#define GW_CORE_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct gw_arena;

typedef void (*gw_arena_cleanup_fn)(void *ptr);

/* Creates an arena that may hand out at most `budget` bytes (0 = unlimited). NULL on OOM. */
struct gw_arena *gw_arena_new(size_t budget);

/* Runs the cleanups (last registered first) and frees all memory. Accepts NULL. */
void gw_arena_free(struct gw_arena *a);

/* Returns `n` bytes aligned for any type, or NULL when the budget or the heap is exhausted. */
void *gw_arena_alloc(struct gw_arena *a, size_t n);
void *gw_arena_calloc(struct gw_arena *a, size_t n);

/* Copies `n` bytes of `s` and appends a NUL. NULL on exhaustion. */
char *gw_arena_strndup(struct gw_arena *a, const char *s, size_t n);

/* printf into arena memory. NULL on exhaustion. */
char *gw_arena_printf(struct gw_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Registers fn(ptr) to run when the arena is freed. Returns 0, or -1 on exhaustion, in which
 * case fn(ptr) has been called already (so the resource never leaks). */
int gw_arena_defer(struct gw_arena *a, gw_arena_cleanup_fn fn, void *ptr);

/* Bytes handed out so far, and whether an allocation failed on the budget. */
size_t gw_arena_used(const struct gw_arena *a);
bool gw_arena_exhausted(const struct gw_arena *a);

#endif
