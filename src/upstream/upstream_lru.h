/*
 * src/upstream/upstream_lru.h
 * A string-keyed hash map with a recency list, the container under the idempotency store and
 * the GET result cache. Entries carry a value string (owned), its expiry and a small user
 * state. Not thread-safe: each owner wraps it in its own mutex.
 * Bounded by the owner (it evicts with gw_upstream_lru_oldest + remove); the table grows by
 * doubling so lookups stay O(1).
 */
#ifndef GW_UPSTREAM_LRU_H
#define GW_UPSTREAM_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_lru_entry {
    char *key;
    size_t klen;
    uint64_t hash;
    char *val;           /* owned, may be NULL */
    size_t vlen;
    uint64_t expires_ms;
    int state;           /* owner-defined */
    unsigned char fp[32]; /* owner-defined fingerprint */
    struct gw_lru_entry *hnext, *prev, *next;
};

struct gw_lru;

struct gw_lru *gw_upstream_lru_new(void);
/* Frees every entry and the map. Accepts NULL. */
void gw_upstream_lru_free(struct gw_lru *m);

/* Finds the entry for key (klen bytes) or NULL. touch=true moves it to the most recent end. */
struct gw_lru_entry *gw_upstream_lru_get(struct gw_lru *m, const char *key, size_t klen,
                                         bool touch);

/* Inserts a new entry for key (copied), most recent; the caller checked it is absent. Never
 * NULL (aborts on OOM: entries are small and counted by the owner). */
struct gw_lru_entry *gw_upstream_lru_put(struct gw_lru *m, const char *key, size_t klen);

/* Sets the value (takes ownership of val; frees the old one). Adjusts the byte count. */
void gw_upstream_lru_set_val(struct gw_lru *m, struct gw_lru_entry *e, char *val, size_t vlen);

/* Unlinks and frees an entry. */
void gw_upstream_lru_remove(struct gw_lru *m, struct gw_lru_entry *e);

/* Least recently used entry (or NULL), and the next more recent one. */
struct gw_lru_entry *gw_upstream_lru_oldest(struct gw_lru *m);
struct gw_lru_entry *gw_upstream_lru_newer(struct gw_lru_entry *e);

size_t gw_upstream_lru_count(const struct gw_lru *m);
/* Sum of key and value bytes of all entries. */
size_t gw_upstream_lru_bytes(const struct gw_lru *m);

#endif
