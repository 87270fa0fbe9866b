/*
 * src/policy/policy_rules.h
 * The governance rule set and its decisions: who may SEE a tool (exposure, Layer B) and who
 * may EXECUTE a call (authorization, Layer A: risk, elevation, argument-aware policies,
 * confirmation). Pure: no I/O, no clock of its own, no threads; the runtime (src/governance)
 * loads documents, caches and plugs the decisions into the request phases.
 *
 * A rule set is built from one JSON document (YAML files are converted before):
 *   {"version": "...",                               optional; recorded with every decision
 *    "roles": {"<role>": {"max_risk": "read|write|privileged|none", "description": "..."}},
 *    "elevation": {"max_age_seconds": 900, "scopes": [...], "groups": [...], "acr": [...],
 *                  "amr": [...]},
 *    "exposure": [rule...], "policies": [rule...]}
 * A rule: {"id", "description"?, "effect": "allow|deny" (exposure) or "allow|deny|confirm"
 *          (policies), "mode": "enforce|dry_run"?,
 *          principal selectors "roles"/"clients"/"subjects"/"tenants" (any of the listed),
 *          tool selectors "tools"/"bundles"/"tags"/"risk" (any of the listed),
 *          "when": a JSON Logic condition over {principal, tool, args, context} (policies),
 *          "reason" (with {dotted.path} placeholders), "hint" (what would allow the call)}.
 * Selectors of different kinds must all match; an absent selector matches everything.
 *
 * Decision order (docs/governance.md):
 *   exposure   enforced deny -> hidden; enforced allow -> visible; no exposure rule at all ->
 *              visible; otherwise hidden (default deny once any exposure rule exists).
 *   authorize  1. risk: the highest max_risk of the principal's declared roles must reach the
 *                 tool's risk (skipped when no role is declared at all);
 *              2. elevation: privileged tools and tools flagged requiresElevation need a
 *                 recent authentication, an elevation scope, group, acr or amr;
 *              3. policies: an enforced deny wins; else, when any allow rule exists, one must
 *                 match (default deny); "confirm" rules and the tool's requiresConfirmation
 *                 flag make the call need the user's confirmation;
 *              dry-run rules are evaluated and reported but never change the outcome.
 * Thread-safety: a rule set is immutable after building and may be used from any thread.
 */
#ifndef GW_POLICY_RULES_H
#define GW_POLICY_RULES_H

#include "core/err.h"
#include "ctx/ctx_principal.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_RULES_MAX 2000      /* exposure + policy rules per rule set */
#define GW_RULE_ID_MAX 63

enum gw_risk { GW_RISK_NONE = -1, GW_RISK_READ = 0, GW_RISK_WRITE = 1, GW_RISK_PRIVILEGED = 2 };
/* "read" | "write" | "privileged" ("none" -> GW_RISK_NONE); unknown -> -2. */
int gw_risk_parse(const char *s);
const char *gw_risk_name(int risk);

struct gw_ruleset;

/* Builds a rule set from `doc` (borrowed). Every rule is checked: unknown fields, bad effects,
 * duplicate ids, conditions that do not compile, over-long lists; `err` names the rule and the
 * field. GW_OK with *out (one reference), GW_EINVAL, GW_ELIMIT. Does not block. */
int gw_ruleset_build(const json_t *doc, struct gw_ruleset **out, struct gw_error *err);
struct gw_ruleset *gw_ruleset_ref(struct gw_ruleset *rs);
void gw_ruleset_unref(struct gw_ruleset *rs); /* accepts NULL; any thread */
/* The policy version: the document's "version" (if any) + "+" + 8 hex of its content hash. */
const char *gw_ruleset_version(const struct gw_ruleset *rs);
/* Whether any exposure / policy / role rule exists (governance active). */
bool gw_ruleset_empty(const struct gw_ruleset *rs);
size_t gw_ruleset_count(const struct gw_ruleset *rs, const char *section);
/* The document the set was built from (borrowed). */
const json_t *gw_ruleset_doc(const struct gw_ruleset *rs);

/* What the rules look at in a tool (from its definition). */
struct gw_rule_tool {
    const char *name;
    const char *bundle; /* may be NULL */
    int risk;           /* GW_RISK_* */
    const json_t *tags; /* array of strings or NULL */
    bool requires_confirmation;
    bool requires_elevation;
    const char *const *tag_list; /* or, when tags is NULL, ntags strings (a registry entry's) */
    size_t ntags;
};
/* Fills `t` from a tool definition (borrowed strings point into it). */
void gw_rule_tool_from_def(const json_t *def, struct gw_rule_tool *t);

/* One rule's part in a decision (for the decision record and the tester). */
struct gw_rule_hit {
    char id[GW_RULE_ID_MAX + 1];
    const char *section; /* "exposure", "policies", "roles", "elevation" */
    const char *effect;  /* "allow", "deny", "confirm" */
    bool dry_run;
};

#define GW_RULE_HITS_MAX 16

/* ---- exposure ---- */

struct gw_exposure_result {
    bool visible;
    struct gw_rule_hit decided; /* the rule that decided ("" id: the default) */
    struct gw_rule_hit dry_run_denial; /* a dry-run deny that matched (id "" when none) */
};
void gw_ruleset_exposure(const struct gw_ruleset *rs, const struct gw_principal *p,
                         const struct gw_rule_tool *t, struct gw_exposure_result *out);

/* ---- authorization ---- */

enum gw_authz_verdict { GW_AUTHZ_ALLOW, GW_AUTHZ_DENY, GW_AUTHZ_CONFIRM };
enum gw_authz_stage { GW_AUTHZ_STAGE_RISK, GW_AUTHZ_STAGE_ELEVATION, GW_AUTHZ_STAGE_POLICY };

struct gw_authz_result {
    enum gw_authz_verdict verdict;
    enum gw_authz_stage stage;     /* where a denial came from */
    char reason[256];              /* why (denials) or what needs confirming (confirm) */
    char hint[256];                /* what would allow it */
    char rule_id[GW_RULE_ID_MAX + 1];
    char step_up_scope[128];       /* elevation denials: the scope that would elevate */
    struct gw_rule_hit hits[GW_RULE_HITS_MAX]; /* every rule that matched, in order */
    size_t nhits;
    bool confirm_from_tool;        /* the tool's requiresConfirmation flag asked for it */
    bool conditional;              /* args unknown (NULL): rules with conditions were not
                                      decided (listed in hits with dry_run false, effect kept) */
};
/* Decides a call. `args` is the call's arguments (borrowed; NULL = not known yet, as in a
 * preview: rules with a condition are then listed but not applied), `context` extra facts for
 * conditions ({"now": <unix seconds>, "peer": ..., ...}; borrowed; "now" required for time
 * conditions). Conditions that fail to evaluate count as not matching for allow/confirm rules
 * and as MATCHING for deny rules (fail closed), with a note in the reason. Never blocks. */
void gw_ruleset_authorize(const struct gw_ruleset *rs, const struct gw_principal *p,
                          const struct gw_rule_tool *t, const json_t *args,
                          const json_t *context, struct gw_authz_result *out);
/* The same with options. GW_AUTHZ_NO_POLICIES skips stage 3 (the policies) because an external
 * policy decision point decides it (GW_POLICY_ENGINE=opa, src/governance/gov_opa.c): risk,
 * elevation and the tool's requiresConfirmation flag still apply. */
enum { GW_AUTHZ_NO_POLICIES = 1u };
void gw_ruleset_authorize_ex(const struct gw_ruleset *rs, const struct gw_principal *p,
                             const struct gw_rule_tool *t, const json_t *args,
                             const json_t *context, unsigned flags, struct gw_authz_result *out);

/* The JSON view of a principal that conditions see as "principal" (new reference). */
json_t *gw_rules_principal_json(const struct gw_principal *p);

#endif
