/*
 * src/core/json_heap.h
 * A heap for bulk JSON work. An import of 20,000 operations makes ~12 million jansson values
 * in a few seconds and drops them all at its end; through malloc that is ~12 million
 * malloc/free pairs, lock contention between the threads that free and the one that writes,
 * and fastbin consolidation stalls: a third of the import's time.
 *
 * While a thread has a heap entered (gw_json_heap_enter), jansson's allocations on that thread
 * are bump allocations from the heap: each thread carves its own runs (1 MiB) out of the heap,
 * so there are no locks but one per run and no per-block header. Freeing a heap block (any
 * thread, any time) does nothing; the heap's memory goes back to the system at once when the
 * heap is released. Blocks freed before then are not reused, so a heap holds all that was made
 * in it (20,000 operations: ~700 MB, no more than malloc's peak with reuse, since bump blocks
 * carry no header).
 *
 * Lifetime rule: releasing the heap ends the life of every value made in it. Release only after
 * every such value is gone (decref'd) or never used again, including by other threads.
 *
 * Where: heaps live in one reservation of address space (GW_JSON_HEAP_RESERVE, made at the first
 * gw_json_heap_new, no memory until used), so jansson's free hook tells heap blocks from malloc
 * blocks by address; released runs are reused by later heaps. Allocations larger than a run's
 * eighth go to malloc (and are freed normally). Heap blocks are 8-byte aligned: jansson's own
 * structures and strings need no more.
 * With AddressSanitizer there are no heaps (gw_json_heap_new returns NULL: plain malloc/free,
 * so that ASan sees every block's life); callers treat NULL as "use malloc", which is also what
 * happens when the address space cannot be reserved.
 * Thread-safe: a heap may be entered by several threads at once.
 */
#ifndef GW_CORE_JSON_HEAP_H
#define GW_CORE_JSON_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#define GW_JSON_HEAP_RESERVE ((size_t)16 << 30) /* address space for all heaps */
#define GW_JSON_HEAP_RUN ((size_t)1 << 20)      /* what a thread takes from a heap at once */

struct gw_json_heap;

/* A new heap that hands out at most `budget` bytes (0: as much as the reservation holds);
 * beyond it allocations fail and jansson reports out of memory. NULL when heaps are off
 * (AddressSanitizer) or the reservation failed: the caller's work then runs on malloc. */
struct gw_json_heap *gw_json_heap_new(size_t budget);

/* From now on jansson allocations of the calling thread come from h (NULL: from malloc).
 * Returns the heap entered before, to enter again when done. */
struct gw_json_heap *gw_json_heap_enter(struct gw_json_heap *h);

/* The heap the calling thread has entered (NULL: none), for threads it starts to enter. */
struct gw_json_heap *gw_json_heap_current(void);

/* Returns the heap's memory to the system. Accepts NULL. No thread may have it entered. */
void gw_json_heap_release(struct gw_json_heap *h);

/* Bytes of runs the heap has taken (its resident upper bound). */
size_t gw_json_heap_size(const struct gw_json_heap *h);

/* jansson's allocation functions (installed by gw_json_init). */
void *gw_json_heap__malloc(size_t n);
void gw_json_heap__free(void *p);

#endif
