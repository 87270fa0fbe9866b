/*
 * src/upstream/upstream_cache.h
 * The GET result cache shared by all workers: key -> result text (compact JSON of a successful
 * CallToolResult) with a TTL, bounded by entry count and bytes, least recently used evicted
 * first. The executor builds keys from tool name + version + canonical arguments (+ caller
 * when the upstream's cacheScope is "caller", the default), so entries never cross callers
 * unless the operator says the upstream's answers are caller-independent.
 * Thread-safe: one mutex, held for a hash lookup and a copy.
 */
#ifndef GW_UPSTREAM_CACHE_H
#define GW_UPSTREAM_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct gw_upstream_cache;

/* max_entries / max_bytes of 0 mean 10000 entries / 64 MiB. */
struct gw_upstream_cache *gw_upstream_cache_new(size_t max_entries, size_t max_bytes);
void gw_upstream_cache_free(struct gw_upstream_cache *c);

/* Returns a heap copy of the value (gw_free) and its length, or NULL (absent or expired). */
char *gw_upstream_cache_get(struct gw_upstream_cache *c, const char *key, uint64_t now_ms,
                            size_t *out_len);

/* Stores a copy of val under key for ttl_ms, replacing an older value; values larger than an
 * eighth of max_bytes are not cached. */
void gw_upstream_cache_put(struct gw_upstream_cache *c, const char *key, const char *val,
                           size_t len, uint64_t ttl_ms, uint64_t now_ms);

struct gw_upstream_cache_stats {
    uint64_t hits, misses, entries, bytes;
};
void gw_upstream_cache_stats(struct gw_upstream_cache *c, struct gw_upstream_cache_stats *out);

#endif
