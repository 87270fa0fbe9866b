/*
 * src/upstream/upstream_lru.c
 * Chained hash table (FNV-1a, power-of-two buckets, doubled at load 1) plus a doubly linked
 * recency list: head = oldest, tail = most recent.
 */
#include "upstream/upstream_lru.h"

#include "core/alloc.h"

#include <string.h>

struct gw_lru {
    struct gw_lru_entry **tab;
    size_t nbuckets, count, bytes;
    struct gw_lru_entry *head, *tail;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

struct gw_lru *gw_upstream_lru_new(void)
{
    struct gw_lru *m = gw_xcalloc(1, sizeof(*m));
    m->nbuckets = 64;
    m->tab = gw_xcalloc(m->nbuckets, sizeof(*m->tab));
    return m;
}

static void entry_free(struct gw_lru_entry *e)
{
    gw_free(e->key);
    gw_free(e->val);
    gw_free(e);
}

void gw_upstream_lru_free(struct gw_lru *m)
{
    if (!m)
        return;
    struct gw_lru_entry *e = m->head;
    while (e) {
        struct gw_lru_entry *n = e->next;
        entry_free(e);
        e = n;
    }
    gw_free(m->tab);
    gw_free(m);
}

static void list_unlink(struct gw_lru *m, struct gw_lru_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        m->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        m->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_append(struct gw_lru *m, struct gw_lru_entry *e)
{
    e->prev = m->tail;
    e->next = NULL;
    if (m->tail)
        m->tail->next = e;
    else
        m->head = e;
    m->tail = e;
}

struct gw_lru_entry *gw_upstream_lru_get(struct gw_lru *m, const char *key, size_t klen,
                                         bool touch)
{
    uint64_t h = fnv1a(key, klen);
    for (struct gw_lru_entry *e = m->tab[h & (m->nbuckets - 1)]; e; e = e->hnext) {
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
            if (touch && e != m->tail) {
                list_unlink(m, e);
                list_append(m, e);
            }
            return e;
        }
    }
    return NULL;
}

static void grow(struct gw_lru *m)
{
    size_t nb = m->nbuckets * 2;
    struct gw_lru_entry **tab = gw_xcalloc(nb, sizeof(*tab));
    for (struct gw_lru_entry *e = m->head; e; e = e->next) {
        size_t i = e->hash & (nb - 1);
        e->hnext = tab[i];
        tab[i] = e;
    }
    gw_free(m->tab);
    m->tab = tab;
    m->nbuckets = nb;
}

struct gw_lru_entry *gw_upstream_lru_put(struct gw_lru *m, const char *key, size_t klen)
{
    if (m->count >= m->nbuckets)
        grow(m);
    struct gw_lru_entry *e = gw_xcalloc(1, sizeof(*e));
    e->key = gw_xstrndup(key, klen);
    e->klen = klen;
    e->hash = fnv1a(key, klen);
    size_t i = e->hash & (m->nbuckets - 1);
    e->hnext = m->tab[i];
    m->tab[i] = e;
    list_append(m, e);
    m->count++;
    m->bytes += klen;
    return e;
}

void gw_upstream_lru_set_val(struct gw_lru *m, struct gw_lru_entry *e, char *val, size_t vlen)
{
    m->bytes -= e->vlen;
    gw_free(e->val);
    e->val = val;
    e->vlen = val ? vlen : 0;
    m->bytes += e->vlen;
}

void gw_upstream_lru_remove(struct gw_lru *m, struct gw_lru_entry *e)
{
    struct gw_lru_entry **pp = &m->tab[e->hash & (m->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    list_unlink(m, e);
    m->count--;
    m->bytes -= e->klen + e->vlen;
    entry_free(e);
}

struct gw_lru_entry *gw_upstream_lru_oldest(struct gw_lru *m)
{
    return m->head;
}

struct gw_lru_entry *gw_upstream_lru_newer(struct gw_lru_entry *e)
{
    return e ? e->next : NULL;
}

size_t gw_upstream_lru_count(const struct gw_lru *m)
{
    return m->count;
}

size_t gw_upstream_lru_bytes(const struct gw_lru *m)
{
    return m->bytes;
}
