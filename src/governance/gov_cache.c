/*
 * src/governance/gov_cache.c
 * The per-principal exposure cache: for a principal (its binding, tenant and roles, hashed),
 * a bitset of the tools of one snapshot it may see, computed once with gw_ruleset_exposure for
 * every tool and kept until EXPOSURE_CACHE_TTL_SECONDS pass. An entry is valid only for the
 * snapshot version and rule-set generation it was computed for, so a change of tools or rules
 * takes effect at once (the next tools/list recomputes).
 * Bitsets are immutable and reference-counted: a lookup takes a reference under the shard's
 * lock and reads the bits without it. 64 shards of 4-way sets; a full set evicts the entry
 * that expires first. Memory: one bit per tool per cached principal.
 */
#include "governance/gov_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "registry/registry_snapshot.h"

#include <openssl/evp.h>
#include <string.h>

#define SHARDS 64
#define WAYS 4

struct gov_bits {
    atomic_int refs;
    uint64_t snap_version;
    unsigned generation;
    int64_t expires;
    size_t n;
    unsigned char v[];
};

struct slot {
    unsigned char key[32];
    struct gov_bits *b;
};

struct shard {
    pthread_mutex_t lock;
    struct slot *slots;
};

struct gov_cache {
    size_t nsets;
    struct shard shards[SHARDS];
};

void gw_gov__bits_unref(void *p)
{
    struct gov_bits *b = p;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        gw_free(b);
}

bool gw_gov__bit(const struct gov_bits *b, size_t i)
{
    return i < b->n && (b->v[i / 8] & (1u << (i % 8)));
}

struct gov_cache *gw_gov__cache_new(size_t entries)
{
    struct gov_cache *c = gw_xcalloc(1, sizeof(*c));
    c->nsets = entries / (SHARDS * WAYS);
    if (!c->nsets)
        c->nsets = 1;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shards[i].lock, NULL);
        c->shards[i].slots = gw_xcalloc(c->nsets * WAYS, sizeof(struct slot));
    }
    return c;
}

void gw_gov__cache_free(struct gov_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        for (size_t j = 0; j < c->nsets * WAYS; j++)
            gw_gov__bits_unref(c->shards[i].slots[j].b);
        gw_free(c->shards[i].slots);
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    gw_free(c);
}

/* What exposure depends on: the principal's identity (binding), tenant and roles. */
static void key_of(const struct gw_principal *p, unsigned char out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int n = 0;
    EVP_DigestInit_ex(m, EVP_sha256(), NULL);
    EVP_DigestUpdate(m, p->binding, strlen(p->binding) + 1);
    EVP_DigestUpdate(m, p->tenant, strlen(p->tenant) + 1);
    for (size_t i = 0; i < p->nroles; i++)
        EVP_DigestUpdate(m, p->roles[i], strlen(p->roles[i]) + 1);
    EVP_DigestFinal_ex(m, out, &n);
    EVP_MD_CTX_free(m);
}

static struct slot *set_of(struct gov_cache *c, const unsigned char key[32], struct shard **sh)
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    *sh = &c->shards[h % SHARDS];
    return &(*sh)->slots[(h / SHARDS) % c->nsets * WAYS];
}

static struct gov_bits *compute(const struct gw_ruleset *rs, const struct gw_principal *p,
                            const struct gw_snapshot *snap, unsigned gen, int64_t expires)
{
    size_t n = gw_snapshot_count(snap);
    struct gov_bits *b = gw_xcalloc(1, sizeof(*b) + (n + 7) / 8);
    atomic_init(&b->refs, 1);
    b->snap_version = gw_snapshot_version(snap);
    b->generation = gen;
    b->expires = expires;
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        struct gw_rule_tool t;
        gw_gov__rule_tool(gw_snapshot_tool_at(snap, i), &t);
        struct gw_exposure_result er;
        gw_ruleset_exposure(rs, p, &t, &er);
        if (er.visible)
            b->v[i / 8] |= (unsigned char)(1u << (i % 8));
    }
    return b;
}

struct gov_bits *gw_gov__exposure(struct gw_gov *g, const struct gw_ruleset *rules, unsigned gen,
                                  const struct gw_principal *p, const struct gw_snapshot *snap)
{
    struct gov_cache *c = g->cache;
    unsigned char key[32];
    key_of(p, key);
    int64_t now = gw_clock_now();
    uint64_t sv = gw_snapshot_version(snap);
    struct shard *sh;
    struct slot *set = set_of(c, key, &sh);
    struct gov_bits *b = NULL;
    pthread_mutex_lock(&sh->lock);
    for (int w = 0; w < WAYS; w++) {
        struct gov_bits *e = set[w].b;
        if (e && memcmp(set[w].key, key, 32) == 0 && e->snap_version == sv &&
            e->generation == gen && e->expires > now) {
            b = e;
            atomic_fetch_add(&b->refs, 1);
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    if (b) {
        atomic_fetch_add(&g->exposure_hits, 1);
    } else {
        atomic_fetch_add(&g->exposure_misses, 1);
        b = compute(rules, p, snap, gen, now + g->exposure_ttl_s);
        struct gov_bits *old = NULL;
        pthread_mutex_lock(&sh->lock);
        struct slot *victim = &set[0];
        for (int w = 0; w < WAYS; w++) {
            if (!set[w].b || memcmp(set[w].key, key, 32) == 0) {
                victim = &set[w];
                break;
            }
            if (set[w].b->expires < victim->b->expires)
                victim = &set[w];
        }
        old = victim->b;
        memcpy(victim->key, key, 32);
        victim->b = b;
        atomic_fetch_add(&b->refs, 1);
        pthread_mutex_unlock(&sh->lock);
        gw_gov__bits_unref(old);
    }
    return b;
}
