/*
 * src/upstream/upstream_cache.c
 * LRU + TTL cache over struct gw_lru under one mutex. Expired entries are dropped when met
 * (lookup) and when making room (oldest first).
 */
#include "upstream/upstream_cache.h"

#include "core/alloc.h"
#include "upstream/upstream_lru.h"

#include <pthread.h>
#include <string.h>

struct gw_upstream_cache {
    pthread_mutex_t mu;
    struct gw_lru *map;
    size_t max_entries, max_bytes;
    uint64_t hits, misses;
};

struct gw_upstream_cache *gw_upstream_cache_new(size_t max_entries, size_t max_bytes)
{
    struct gw_upstream_cache *c = gw_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->map = gw_upstream_lru_new();
    c->max_entries = max_entries ? max_entries : 10000;
    c->max_bytes = max_bytes ? max_bytes : 64u * 1024u * 1024u;
    return c;
}

void gw_upstream_cache_free(struct gw_upstream_cache *c)
{
    if (!c)
        return;
    gw_upstream_lru_free(c->map);
    pthread_mutex_destroy(&c->mu);
    gw_free(c);
}

char *gw_upstream_cache_get(struct gw_upstream_cache *c, const char *key, uint64_t now_ms,
                            size_t *out_len)
{
    char *copy = NULL;
    pthread_mutex_lock(&c->mu);
    struct gw_lru_entry *e = gw_upstream_lru_get(c->map, key, strlen(key), true);
    if (e && e->expires_ms <= now_ms) {
        gw_upstream_lru_remove(c->map, e);
        e = NULL;
    }
    if (e) {
        copy = gw_xstrndup(e->val, e->vlen);
        *out_len = e->vlen;
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return copy;
}

void gw_upstream_cache_put(struct gw_upstream_cache *c, const char *key, const char *val,
                           size_t len, uint64_t ttl_ms, uint64_t now_ms)
{
    size_t klen = strlen(key);
    if (len + klen > c->max_bytes / 8 || ttl_ms == 0)
        return;
    char *copy = gw_xstrndup(val, len);
    pthread_mutex_lock(&c->mu);
    struct gw_lru_entry *e = gw_upstream_lru_get(c->map, key, klen, true);
    if (!e)
        e = gw_upstream_lru_put(c->map, key, klen);
    gw_upstream_lru_set_val(c->map, e, copy, len);
    e->expires_ms = now_ms + ttl_ms;
    while (gw_upstream_lru_count(c->map) > c->max_entries ||
           gw_upstream_lru_bytes(c->map) > c->max_bytes) {
        struct gw_lru_entry *old = gw_upstream_lru_oldest(c->map);
        if (!old || old == e)
            break;
        gw_upstream_lru_remove(c->map, old);
    }
    pthread_mutex_unlock(&c->mu);
}

void gw_upstream_cache_stats(struct gw_upstream_cache *c, struct gw_upstream_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->entries = gw_upstream_lru_count(c->map);
    out->bytes = gw_upstream_lru_bytes(c->map);
    pthread_mutex_unlock(&c->mu);
}
