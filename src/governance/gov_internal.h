/*
 * src/governance/gov_internal.h
 * Shared between the files of src/governance only:
 *   gov.c          settings, loading and reloading the rule set, the phase handlers, the
 *                  tools/list filter, preview and tester
 *   gov_cache.c    the per-principal exposure cache (bitsets over a snapshot's tools)
 *   gov_confirm.c  confirmation bound to the exact call (elicitation, input_required) and the
 *                  single-use register of consents
 *   gov_opa.c      OPA as the policy decision point (GW_POLICY_ENGINE = opa | both): the "opa"
 *                  AUTHORIZE handler, its per-loop HTTP client, result parsing, decision cache
 */
#ifndef GW_GOVERNANCE_INTERNAL_H
#define GW_GOVERNANCE_INTERNAL_H

#include "governance/gov.h"
#include "net/net_pool.h"
#include "pipeline/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>

struct gov_cache;
struct gov_opa;
struct gw_store_janitor;

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
    struct gov_opa *opa; /* gov_opa.c; NULL with GW_POLICY_ENGINE=builtin */
    gw_gov_challenge_fn challenge;
    void *challenge_arg;
    void (*on_change)(void *);
    void *on_change_arg;

    struct gw_pool *pool;      /* approvals: database work off the loops (NULL: no store) */
    char *store_url_pool;      /* the pool threads' database */
    pthread_key_t store_key;
    int approval_ttl_s;
    int approval_retention_days;
    struct gw_store_janitor *janitor; /* expired approvals leave the database (gov_confirm.c) */

    struct gw_kv *kv;          /* where consents are spent once (Redis: across replicas) */
    struct gw_kv *own_kv;      /* the in-process one used without gw_gov_set_kv */

    atomic_ullong exposure_hits, exposure_misses, denials, asked, accepted, declined, refused,
        reloads, reload_failures;
};

/* What the rules look at in a registry tool, from its snapshot entry (no definition parsed:
 * the exposure of a whole catalogue is computed per principal). Strings are the entry's. */
void gw_gov__rule_tool(const struct gw_tool_entry *e, struct gw_rule_tool *t);

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
/* Starts the approvals janitor (serving processes only: gw_gov_attach); stopped by _fini. */
void gw_gov__approvals_start_janitor(struct gw_gov *g);

/* ---- gov_opa.c ---- */
/* Reads GW_POLICY_ENGINE and GW_OPA_* and checks them: *out NULL when the engine is builtin;
 * GW_EINVAL with err when OPA is to be used and its URL, path or token is not usable. */
int gw_gov__opa_new(const struct gw_settings *s, struct gov_opa **out, struct gw_error *err);
void gw_gov__opa_free(struct gov_opa *o); /* accepts NULL */
/* GW_POLICY_ENGINE=opa: the built-in policies are skipped (OPA decides that stage). */
bool gw_gov__opa_only(const struct gov_opa *o);
bool gw_gov__opa_fail_open(const struct gov_opa *o);
void gw_gov__opa_stats(const struct gov_opa *o, struct gw_gov_stats *out);
/* The "opa" AUTHORIZE handler (ud: struct gw_gov). */
int gw_gov__opa_authorize(void *ud, struct gw_call *c, struct gw_phase_verdict *v);
/* Called by the built-in handler instead of asking for confirmation when OPA runs after it:
 * keeps `r` and `version` in the call's context (GW_CTX_SLOT_POLICY) for the OPA handler,
 * which asks once OPA has allowed the call. */
void gw_gov__opa_defer_confirm(struct gw_call *c, const struct gw_authz_result *r,
                               const char *version);

/* OPA's decision, as read from a Data API answer. Strings are truncated on UTF-8 boundaries,
 * control characters replaced by spaces. */
struct gw_opa_decision {
    bool allow;
    bool confirm;
    char reason[256];
    char rule[GW_RULE_ID_MAX + 1];
    char hint[256];
    char decision_id[64]; /* OPA's decision_id (decision logging on), "" when none */
};
/* Reads a Data API answer: HTTP 200 with {"result": true|false} or {"result": {"allow": bool,
 * "reason"?: str, "rule"?: str, "hint"?: str, "confirm"?: bool}} (other members and top-level
 * fields such as decision_id are accepted). Anything else is GW_EINVAL (no "result": an
 * undefined decision; wrong types; not JSON; over 64 KiB or 32 levels) or GW_EUPSTREAM (another
 * status; OPA's error code and message quoted), with err saying what; `d` is then zeroed (never
 * an allow). Pure. */
int gw_gov__opa_parse(long http_status, const char *body, size_t len,
                      struct gw_opa_decision *d, struct gw_error *err);
/* The input document: {"principal": gw_rules_principal_json, "tool": {name, bundle, risk,
 * tags}, "arguments": {..}, "context": {now, peer (address without port), transport, method}}.
 * New reference. */
json_t *gw_gov__opa_input(const struct gw_principal *p, const struct gw_rule_tool *t,
                          const json_t *args, int64_t now, const char *peer,
                          const char *transport, const char *method);
/* The cache key of an input: SHA-256 of its canonical form (compact, sorted keys) without
 * context.now (`input` is restored as it was). */
void gw_gov__opa_key(json_t *input, unsigned char key[32]);
/* The decision cache (thread-safe; a TTL of 0 disables it). */
struct gw_opa_cache;
struct gw_opa_cache *gw_gov__opa_cache_new(size_t max_entries, int64_t ttl_ms);
void gw_gov__opa_cache_free(struct gw_opa_cache *c);
bool gw_gov__opa_cache_get(struct gw_opa_cache *c, const unsigned char key[32], int64_t now_ms,
                           struct gw_opa_decision *out);
void gw_gov__opa_cache_put(struct gw_opa_cache *c, const unsigned char key[32], int64_t now_ms,
                           const struct gw_opa_decision *d);
size_t gw_gov__opa_cache_size(struct gw_opa_cache *c);
/* The policy tester with OPA: asks OPA about the call (blocking until it answers or the timeout
 * passes: admin pool thread or CLI only) and folds its answer into the tester's result `out`
 * (decision, reasons, rule, stage, hint, fired) as the handler would decide, adding
 * "opa": {"engine","url","policyVersion","decision","rule","reason","hint"} or, when OPA
 * failed, {"decision":"error","error","failureMode"}. */
void gw_gov__opa_explain(struct gw_gov *g, const struct gw_principal *p,
                         const struct gw_rule_tool *t, const json_t *args, json_t *out);

#endif
