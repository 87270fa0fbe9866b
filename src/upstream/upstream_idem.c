/*
 * src/upstream/upstream_idem.c
 * In-process idempotency backend: struct gw_lru (insertion order) under one mutex.
 * Entry states: IN_FLIGHT (reserved, expires after inflight_ms) -> DONE (result stored,
 * expires ttl_ms after completion) -> removed (expiry or eviction). abort removes a reservation.
 */
#include "upstream/upstream_idem.h"

#include "core/alloc.h"
#include "core/err.h"
#include "upstream/upstream_lru.h"

#include <pthread.h>
#include <string.h>

enum { ST_IN_FLIGHT = 1, ST_DONE = 2 };

struct mem {
    pthread_mutex_t mu;
    struct gw_lru *map;
    uint64_t ttl_ms, inflight_ms;
    size_t max_entries;
};

static void sweep(struct mem *m, uint64_t now)
{
    struct gw_lru_entry *e = gw_upstream_lru_oldest(m->map);
    while (e) {
        struct gw_lru_entry *n = gw_upstream_lru_newer(e);
        if (e->expires_ms <= now)
            gw_upstream_lru_remove(m->map, e);
        e = n;
        if (gw_upstream_lru_count(m->map) < m->max_entries / 2)
            break; /* bounded work per insert */
    }
}

static int make_room(struct mem *m, uint64_t now)
{
    if (gw_upstream_lru_count(m->map) < m->max_entries)
        return GW_OK;
    sweep(m, now);
    for (struct gw_lru_entry *e = gw_upstream_lru_oldest(m->map);
         e && gw_upstream_lru_count(m->map) >= m->max_entries;) {
        struct gw_lru_entry *n = gw_upstream_lru_newer(e);
        if (e->state == ST_DONE)
            gw_upstream_lru_remove(m->map, e);
        e = n;
    }
    return gw_upstream_lru_count(m->map) < m->max_entries ? GW_OK : GW_ELIMIT;
}

static int mem_begin(void *self, const char *key, const unsigned char fp[32], uint64_t now_ms,
                     enum gw_idem_verdict *out, char **out_result, size_t *out_len)
{
    struct mem *m = self;
    int rc = GW_OK;
    size_t klen = strlen(key);
    *out_result = NULL;
    *out_len = 0;
    pthread_mutex_lock(&m->mu);
    struct gw_lru_entry *e = gw_upstream_lru_get(m->map, key, klen, false);
    if (e && e->expires_ms <= now_ms) {
        gw_upstream_lru_remove(m->map, e);
        e = NULL;
    }
    if (e) {
        if (memcmp(e->fp, fp, 32) != 0) {
            *out = GW_IDEM_MISMATCH;
        } else if (e->state == ST_IN_FLIGHT) {
            *out = GW_IDEM_IN_FLIGHT;
        } else {
            *out = GW_IDEM_REPLAY;
            *out_result = gw_xstrndup(e->val ? e->val : "", e->vlen);
            *out_len = e->vlen;
        }
    } else if ((rc = make_room(m, now_ms)) == GW_OK) {
        e = gw_upstream_lru_put(m->map, key, klen);
        memcpy(e->fp, fp, 32);
        e->state = ST_IN_FLIGHT;
        e->expires_ms = now_ms + m->inflight_ms;
        *out = GW_IDEM_NEW;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static void mem_complete(void *self, const char *key, const char *result, size_t len,
                         uint64_t now_ms)
{
    struct mem *m = self;
    char *copy = gw_xstrndup(result, len);
    pthread_mutex_lock(&m->mu);
    struct gw_lru_entry *e = gw_upstream_lru_get(m->map, key, strlen(key), false);
    if (e && e->state == ST_IN_FLIGHT) {
        gw_upstream_lru_set_val(m->map, e, copy, len);
        copy = NULL;
        e->state = ST_DONE;
        e->expires_ms = now_ms + m->ttl_ms;
    }
    pthread_mutex_unlock(&m->mu);
    gw_free(copy);
}

static void mem_abort(void *self, const char *key)
{
    struct mem *m = self;
    pthread_mutex_lock(&m->mu);
    struct gw_lru_entry *e = gw_upstream_lru_get(m->map, key, strlen(key), false);
    if (e && e->state == ST_IN_FLIGHT)
        gw_upstream_lru_remove(m->map, e);
    pthread_mutex_unlock(&m->mu);
}

static size_t mem_count(void *self)
{
    struct mem *m = self;
    pthread_mutex_lock(&m->mu);
    size_t n = gw_upstream_lru_count(m->map);
    pthread_mutex_unlock(&m->mu);
    return n;
}

static void mem_destroy(void *self)
{
    struct mem *m = self;
    if (!m)
        return;
    gw_upstream_lru_free(m->map);
    pthread_mutex_destroy(&m->mu);
    gw_free(m);
}

static const struct gw_idem_ops mem_ops = {"memory",  mem_begin, mem_complete, mem_abort,
                                           mem_count, mem_destroy, NULL};

void gw_upstream_idem_mem_init(struct gw_idem_store *out, uint64_t ttl_ms, uint64_t inflight_ms,
                               size_t max_entries)
{
    struct mem *m = gw_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
    m->map = gw_upstream_lru_new();
    m->ttl_ms = ttl_ms;
    m->inflight_ms = inflight_ms;
    m->max_entries = max_entries ? max_entries : 100000;
    out->ops = &mem_ops;
    out->self = m;
}
