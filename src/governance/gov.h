/*
 * src/governance/gov.h
 * Governance at run time: who SEES a tool (exposure, Layer B) and who may EXECUTE a call
 * (authorization, Layer A: risk, elevation, argument-aware policies, confirmation bound to the
 * exact call), plugged into the request phases.
 *
 * The rules (src/policy/policy_rules.h) come from GW_GOVERNANCE_FILE (YAML or JSON) followed by
 * the rules kept in the database (CLI and admin API); the effective rule set is an immutable
 * snapshot swapped atomically on reload (at start, and whenever the store's registry version
 * changes: every replica reloads on the same NOTIFY). A rule set that fails to build is
 * refused and the previous one stays in force.
 * Phases: EXPOSURE ("exposure": a tool not exposed to the caller is answered as an unknown
 * tool), AUTHORIZE ("authorize": risk -> elevation -> policies -> confirmation), and the
 * tools/list filter, which decides with the same function over the same rule set and snapshot
 * as the call, from a per-principal cache (EXPOSURE_CACHE_TTL_SECONDS; invalidated at once by a
 * rule or tool change). Confirmation: elicitation (2025-06-18+ clients that declare it), or an
 * input_required result with a sealed requestState (2026-07-28), bound to the principal, the
 * tool and the digest of the canonical arguments, short-lived and single-use; an argument the
 * model sets is never consent; clients that cannot ask get -32006 and nothing is done.
 * The policy stage may be decided by OPA instead of or after the built-in policies
 * (GW_POLICY_ENGINE=opa|both: gov_opa.c, a second AUTHORIZE handler "opa").
 * Denials are JSON-RPC errors -32003..-32007 with the reason, the rule id, the policy version
 * and a hint of what would allow the call (docs/governance.md).
 * Threading: handlers run on worker loops and never block; reloads block (database, file) and
 * run on the registry watcher or an admin pool thread.
 */
#ifndef GW_GOVERNANCE_GOV_H
#define GW_GOVERNANCE_GOV_H

#include "core/err.h"
#include "core/settings.h"
#include "ctx/ctx_principal.h"
#include "policy/policy_rules.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_gov;
struct gw_pipeline;
struct gw_snapshot;

extern const struct gw_setting_def gw_gov_settings[];
/* GW_POLICY_ENGINE and GW_OPA_* (gov_opa.c): register it with gw_gov_settings. */
extern const struct gw_setting_def gw_gov_opa_settings[];

/* Builds the step-up challenge (WWW-Authenticate value) for an elevation denial; the app
 * passes the authenticator's. May be NULL (no HTTP 403 challenge, the JSON-RPC error only). */
typedef void (*gw_gov_challenge_fn)(void *arg, const char *scope, const char *description,
                                    char *out, size_t size);

/* Creates governance from the GW_GOVERNANCE_* / EXPOSURE_* / GW_POLICY_* settings and loads the
 * rules (file, then the store at `store_url`; NULL: file only). Blocks (reads). GW_OK, or
 * GW_EINVAL/GW_EIO with err (a rule file that does not build fails the start). */
int gw_gov_new(const struct gw_settings *s, const char *store_url, struct gw_gov **out,
               struct gw_error *err);
/* The same for a gateway that may start while its database is unreachable (the app's lazy
 * start, GW_DB_MIGRATE_ON_START=false): the rules are then a deny-all set (every tool hidden,
 * every call refused) until gw_gov_reload loads the real ones, which the app does when the
 * registry loads its first snapshot. */
int gw_gov_new_lazy(const struct gw_settings *s, const char *store_url, struct gw_gov **out,
                    struct gw_error *err);
void gw_gov_free(struct gw_gov *g);

/* Per-loop state of governance: with OPA as the policy engine, the loop's HTTP client for it
 * (GW_LOOP_SLOT_POLICY). Call on the loop's thread when it starts (worker start hook, stdio
 * set-up) and gw_gov_loop_stop on it after it stopped. No-op without OPA. */
struct gw_loop;
int gw_gov_loop_start(struct gw_gov *g, struct gw_loop *loop, struct gw_error *err);
void gw_gov_loop_stop(struct gw_gov *g, struct gw_loop *loop);

/* Registers the EXPOSURE and AUTHORIZE handlers and the tools/list filter (before serving). */
int gw_gov_attach(struct gw_gov *g, struct gw_pipeline *p);
void gw_gov_set_challenge(struct gw_gov *g, gw_gov_challenge_fn fn, void *arg);
/* Where a consent (2026-07-28 confirmation state) is spent once: `kv` (borrowed; with Redis
 * the claim holds across replicas, so a replayed consent is refused on every one). NULL or
 * never called: an in-process register. Before serving. */
struct gw_kv;
void gw_gov_set_kv(struct gw_gov *g, struct gw_kv *kv);
/* Called after a reload changed the effective rule set (e.g. to send list_changed). */
void gw_gov_on_change(struct gw_gov *g, void (*fn)(void *arg), void *arg);

/* Rebuilds the rule set from the file and the store. Keeps the current one when the new one
 * does not build (GW_EINVAL with err naming the rule). Blocks. Any thread but the loops. */
int gw_gov_reload(struct gw_gov *g, struct gw_error *err);

/* The current rule set (a reference). */
struct gw_ruleset *gw_gov_rules(struct gw_gov *g);
/* Builds a rule set from text (YAML or JSON) with the same checks as a reload, for `mcpgw
 * governance check` and the admin API's validation. */
int gw_gov_parse_text(const char *text, size_t len, struct gw_ruleset **out,
                      struct gw_error *err);

/* A principal described by {"subject","roles":[..],"client_id","tenant","claims":{..}} (preview
 * and tester input). NULL with err when malformed. */
struct gw_principal *gw_gov_principal_from_spec(const json_t *spec, struct gw_error *err);

/* What `p` sees and may do in snapshot `snap`: {"principal":{..},"policyVersion","total",
 * "tools":[{"name","bundle","risk","via","call":"allow|deny|confirm","reason"?}]}. The tool
 * list is exactly the tools/list that principal gets. New reference. */
json_t *gw_gov_preview(struct gw_gov *g, const struct gw_principal *p,
                       const struct gw_snapshot *snap);
/* The policy tester: the decision for `p` calling tool definition `def` with `args`:
 * {"decision":"allow|deny|confirm|hidden","reasons":[..],"hint","rule","stage",
 * "fired":[{"id","section","effect","mode"}],"exposure":{"visible","via"},"policyVersion"}.
 * New reference. */
json_t *gw_gov_test(struct gw_gov *g, const struct gw_principal *p, const json_t *def,
                    const json_t *args);

struct gw_gov_stats {
    uint64_t exposure_hits, exposure_misses; /* per-principal exposure cache */
    uint64_t denials, confirmations_asked, confirmations_accepted, confirmations_declined,
        confirmations_refused, reloads, reload_failures;
    /* GW_POLICY_ENGINE opa|both */
    uint64_t opa_requests, opa_failures, opa_denials, opa_cache_hits;
    size_t rules;
};
void gw_gov_stats(const struct gw_gov *g, struct gw_gov_stats *out);

#endif
