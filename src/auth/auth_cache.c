/*
 * src/auth/auth_cache.c
 * The verified-token cache: SHA-256 of a token -> its principal, until the token expires.
 * A fixed table of 4-way sets (no allocation after start-up), split into 64 shards with one
 * mutex each so workers rarely contend. A full set evicts the entry that expires first.
 * Entries carry the key-set generation they were verified under: when the provider's keys
 * change (a rotation, a withdrawn key) every older entry is verified again.
 * Only successful verifications are cached (a refusal costs a verification again, which is
 * what an attacker flooding forged tokens pays for: the signature check is the cheap part).
 */
#include "auth/auth_internal.h"

#include "core/alloc.h"

#include <string.h>

#define SHARDS 64
#define WAYS 4

struct entry {
    unsigned char digest[32];
    struct gw_principal *p;
    int64_t expires_at;
    unsigned generation;
};

struct shard {
    pthread_mutex_t lock;
    struct entry *sets; /* nsets * WAYS */
};

struct auth_cache {
    size_t nsets; /* per shard */
    struct shard shards[SHARDS];
};

struct auth_cache *gw_auth__cache_new(size_t entries)
{
    struct auth_cache *c = gw_xcalloc(1, sizeof(*c));
    c->nsets = entries / (SHARDS * WAYS);
    if (c->nsets == 0)
        c->nsets = 1;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shards[i].lock, NULL);
        c->shards[i].sets = gw_xcalloc(c->nsets * WAYS, sizeof(struct entry));
    }
    return c;
}

void gw_auth__cache_free(struct auth_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        for (size_t j = 0; j < c->nsets * WAYS; j++)
            gw_principal_unref(c->shards[i].sets[j].p);
        gw_free(c->shards[i].sets);
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    gw_free(c);
}

static struct entry *set_of(struct auth_cache *c, const unsigned char d[32], struct shard **sh)
{
    uint64_t h;
    memcpy(&h, d, sizeof(h)); /* the digest is uniformly random */
    *sh = &c->shards[h % SHARDS];
    return &(*sh)->sets[(h / SHARDS) % c->nsets * WAYS];
}

struct gw_principal *gw_auth__cache_get(struct auth_cache *c, const unsigned char digest[32],
                                        int64_t now, unsigned generation)
{
    struct shard *sh;
    struct entry *set = set_of(c, digest, &sh);
    struct gw_principal *found = NULL;
    pthread_mutex_lock(&sh->lock);
    for (int w = 0; w < WAYS; w++) {
        struct entry *e = &set[w];
        if (e->p && memcmp(e->digest, digest, 32) == 0) {
            if (e->expires_at > now && e->generation == generation)
                found = gw_principal_ref(e->p);
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return found;
}

void gw_auth__cache_put(struct auth_cache *c, const unsigned char digest[32],
                        struct gw_principal *p, int64_t expires_at, unsigned generation)
{
    struct shard *sh;
    struct entry *set = set_of(c, digest, &sh);
    struct gw_principal *old = NULL;
    pthread_mutex_lock(&sh->lock);
    struct entry *victim = &set[0];
    for (int w = 0; w < WAYS; w++) {
        struct entry *e = &set[w];
        if (!e->p || memcmp(e->digest, digest, 32) == 0) {
            victim = e;
            break;
        }
        if (e->expires_at < victim->expires_at)
            victim = e;
    }
    old = victim->p;
    memcpy(victim->digest, digest, 32);
    victim->p = gw_principal_ref(p);
    victim->expires_at = expires_at;
    victim->generation = generation;
    pthread_mutex_unlock(&sh->lock);
    gw_principal_unref(old);
}
