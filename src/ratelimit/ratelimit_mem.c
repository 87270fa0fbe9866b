/*
 * src/ratelimit/ratelimit_mem.c
 * The in-process backend: GCRA states (one 64-bit TAT per key) in a hash table split into 64
 * stripes, each under its own mutex, so that workers rarely contend.
 * A batch locks the stripes of its items in ascending order (no deadlock), checks every item,
 * stores only when no enforced item is refused, unlocks. A state whose TAT is in the past is
 * "full" and is the same as no state: such entries are dropped whenever a stripe reaches its
 * share of max_keys; if a stripe is still full, its entry closest to full is dropped (bounded
 * memory under a flood of distinct keys, at the cost of forgetting the least-used state).
 * Clock: CLOCK_MONOTONIC microseconds (or the test clock).
 */
#include "ratelimit/ratelimit_backend.h"

#include "core/alloc.h"
#include "core/err.h"
#include "ratelimit/ratelimit_gcra.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define STRIPES 64
#define BUCKETS 256 /* per stripe */

struct entry {
    struct entry *next;
    int64_t tat;
    char key[];
};

struct stripe {
    pthread_mutex_t lock;
    struct entry *b[BUCKETS];
    size_t count;
};

struct mem {
    struct stripe s[STRIPES];
    size_t cap; /* per stripe */
    gw_rl_clock_fn clock;
    void *clock_ud;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int64_t mono_us(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct entry **find(struct stripe *st, uint64_t h, const char *key)
{
    struct entry **pp = &st->b[(h >> 6) % BUCKETS];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Drops the stripe's expired (full) states. */
static void sweep(struct stripe *st, int64_t now)
{
    for (int i = 0; i < BUCKETS; i++) {
        struct entry **pp = &st->b[i];
        while (*pp) {
            if ((*pp)->tat <= now) {
                struct entry *dead = *pp;
                *pp = dead->next;
                gw_free(dead);
                st->count--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

static void store(struct mem *m, struct stripe *st, uint64_t h, const char *key, int64_t tat,
                  int64_t now)
{
    struct entry **pp = find(st, h, key);
    if (*pp) {
        (*pp)->tat = tat;
        return;
    }
    if (st->count >= m->cap) {
        sweep(st, now);
        if (st->count >= m->cap) { /* drop the state closest to full */
            struct entry **victim = NULL;
            for (int i = 0; i < BUCKETS; i++)
                for (struct entry **q = &st->b[i]; *q; q = &(*q)->next)
                    if (!victim || (*q)->tat < (*victim)->tat)
                        victim = q;
            if (victim) {
                struct entry *dead = *victim;
                *victim = dead->next;
                gw_free(dead);
                st->count--;
            }
        }
        pp = find(st, h, key);
    }
    size_t n = strlen(key);
    struct entry *e = gw_xmalloc(sizeof(*e) + n + 1);
    memcpy(e->key, key, n + 1);
    e->tat = tat;
    e->next = NULL;
    *pp = e;
    st->count++;
}

static int mem_check(void *self, struct gw_loop *loop, struct gw_rl_batch *b, gw_rl_done_fn done,
                     void *arg)
{
    (void)loop;
    (void)done;
    (void)arg;
    struct mem *m = self;
    uint64_t h[GW_RL_MAX_ITEMS];
    int idx[GW_RL_MAX_ITEMS], nlock = 0;
    for (int i = 0; i < b->n; i++) {
        h[i] = hash(b->item[i].key);
        int s = (int)(h[i] % STRIPES);
        int at = nlock;
        for (int j = 0; j < nlock; j++)
            if (idx[j] >= s) {
                at = j;
                break;
            }
        if (at < nlock && idx[at] == s)
            continue;
        memmove(idx + at + 1, idx + at, (size_t)(nlock - at) * sizeof(int));
        idx[at] = s;
        nlock++;
    }
    for (int j = 0; j < nlock; j++)
        pthread_mutex_lock(&m->s[idx[j]].lock);
    int64_t now = m->clock(m->clock_ud);
    struct gw_gcra_result res[GW_RL_MAX_ITEMS];
    b->refused = false;
    for (int i = 0; i < b->n; i++) {
        struct gw_rl_item *it = &b->item[i];
        struct stripe *st = &m->s[h[i] % STRIPES];
        struct entry **pp = find(st, h[i], it->key);
        gw_gcra(it->interval_us, it->burst, *pp ? (*pp)->tat : 0, now, &res[i]);
        it->allowed = res[i].allowed;
        it->remaining = res[i].remaining;
        it->retry_us = res[i].retry_us;
        it->reset_us = res[i].reset_us;
        if (!it->allowed && it->enforce)
            b->refused = true;
    }
    if (!b->refused)
        for (int i = 0; i < b->n; i++)
            if (b->item[i].allowed)
                store(m, &m->s[h[i] % STRIPES], h[i], b->item[i].key, res[i].tat, now);
    for (int j = nlock - 1; j >= 0; j--)
        pthread_mutex_unlock(&m->s[idx[j]].lock);
    return GW_OK;
}

static size_t mem_count(void *self)
{
    struct mem *m = self;
    size_t n = 0;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_lock(&m->s[i].lock);
        n += m->s[i].count;
        pthread_mutex_unlock(&m->s[i].lock);
    }
    return n;
}

static void mem_destroy(void *self)
{
    struct mem *m = self;
    if (!m)
        return;
    for (int i = 0; i < STRIPES; i++) {
        for (int k = 0; k < BUCKETS; k++) {
            struct entry *e = m->s[i].b[k];
            while (e) {
                struct entry *n = e->next;
                gw_free(e);
                e = n;
            }
        }
        pthread_mutex_destroy(&m->s[i].lock);
    }
    gw_free(m);
}

static const struct gw_rl_backend_ops mem_ops = {"memory", mem_check, mem_count, mem_destroy};

void gw_rl_mem_init(struct gw_rl_backend *out, size_t max_keys, gw_rl_clock_fn clock_us,
                    void *clock_ud)
{
    struct mem *m = gw_xcalloc(1, sizeof(*m));
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&m->s[i].lock, NULL);
    size_t maxk = max_keys ? max_keys : 100000;
    m->cap = maxk / STRIPES + 1;
    m->clock = clock_us ? clock_us : mono_us;
    m->clock_ud = clock_ud;
    out->ops = &mem_ops;
    out->self = m;
}
