/*
 * src/governance/gov_internal.h
 * Shared between the files of src/governance only:
 *   gov.c          settings, loading and reloading the rule set, the phase handlers, the
 *                  tools/list filter, preview and tester
 *   gov_cache.c    the per-principal exposure cache (bitsets over a snapshot's tools)
 *   gov_confirm.c  confirmation bound to the exact call (elicitation, input_required) and the
 *                  single-use register of consents
 */
#ifndef GW_GOVERNANCE_INTERNAL_H
#define GW_GOVERNANCE_INTERNAL_H

#include "governance/gov.h"
#include "net/net_pool.h"
#include "pipeline/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>

struct gov_cache;

struct gw_gov {
    char file[1024];
    char *store_url;
    int64_t exposure_ttl_s;
    int confirm_ttl_s;
    bool exposure_dry_run, policy_dry_run;

    pthread_mutex_t lock; /* guards rules and generation */
    struct gw_ruleset *rules;
    unsigned generation;  /* bumped by every reload that changed the rule set */
    pthread_mutex_t reload_lock;

    struct gov_cache *cache;
    gw_gov_challenge_fn challenge;
    void *challenge_arg;
    void (*on_change)(void *);
    void *on_change_arg;

    struct gw_pool *pool;      /* approvals: database work off the loops (NULL: no store) */
    char *store_url_pool;      /* the pool threads' database */
    pthread_key_t store_key;
    int approval_ttl_s;

    struct gw_kv *kv;          /* where consents are spent once (Redis: across replicas) */
    struct gw_kv *own_kv;      /* the in-process one used without gw_gov_set_kv */

    atomic_ullong exposure_hits, exposure_misses, denials, asked, accepted, declined, refused,
        reloads, reload_failures;
};

/* The current rule set and its generation (a reference). */
struct gw_ruleset *gw_gov__rules(struct gw_gov *g, unsigned *generation);

/* ---- gov_cache.c ---- */
struct gov_cache *gw_gov__cache_new(size_t entries);
void gw_gov__cache_free(struct gov_cache *c);
/* The exposure of `p` over every tool of `snap` under `rules` (generation `gen`): from the
 * cache or computed (and cached). A reference; read with gw_gov__bit, drop with
 * gw_gov__bits_unref. Thread-safe. */
struct gov_bits;
struct gov_bits *gw_gov__exposure(struct gw_gov *g, const struct gw_ruleset *rules, unsigned gen,
                                  const struct gw_principal *p, const struct gw_snapshot *snap);
bool gw_gov__bit(const struct gov_bits *b, size_t i);
void gw_gov__bits_unref(void *b);

/* ---- gov_confirm.c ---- */
/* The confirmation step of AUTHORIZE for a call that needs the user's consent: GW_OK (a valid
 * consent for exactly this call came with it), GW_AGAIN (an elicitation is on its way; the call
 * resumes with the answer), GW_DECLINED (an input_required result was sent), GW_EDENIED
 * (declined, invalid consent, or a client that cannot ask; `v` filled). */
int gw_gov__confirm(struct gw_gov *g, struct gw_call *c, const struct gw_authz_result *r,
                    const char *policy_version, struct gw_phase_verdict *v);
/* Marks a consent id used until `expires`; false when it was already used. */
/* The approvals pool (created when a store is configured) and its per-thread store handles. */
void gw_gov__approvals_init(struct gw_gov *g);
void gw_gov__approvals_fini(struct gw_gov *g);

#endif
