/*
 * src/governance/gov.c
 * Governance at run time (see gov.h): the settings, the effective rule set (file + store,
 * rebuilt on reload, swapped under a lock, never half-applied), the EXPOSURE and AUTHORIZE
 * handlers, the tools/list filter, the preview and the tester.
 * Invariant: tools/list and tools/call decide visibility with the same function
 * (gw_ruleset_exposure) over the same rule set and snapshot; the list goes through the
 * per-principal cache (gov_cache.c), the call asks directly (to record the deciding rule), and
 * both see the rule set of the same generation.
 */
#include "governance/gov_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "kv/kv.h"
#include "mcp/mcp_jsonrpc.h"
#include "openapi/openapi.h"
#include "registry/registry_snapshot.h"
#include "store/store_governance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RULES_FILE_MAX (8u << 20)

const struct gw_setting_def gw_gov_settings[] = {
    {"GW_GOVERNANCE_FILE", GW_SET_STRING, "", 0, 0, NULL, "Governance",
     "Rules file (YAML or JSON): roles and their highest risk, elevation, exposure rules and "
     "policies (docs/governance.md). Rules added through the CLI or the admin API are kept in "
     "the database and follow the file's. Empty and no stored rules: governance is off (every "
     "principal sees and may call every tool; a warning is logged)."},
    {"EXPOSURE_CACHE_TTL_SECONDS", GW_SET_INT, "3600", 1, 86400, NULL, "Governance",
     "How long a principal's computed exposure (the tools it sees) is cached. A change of rules "
     "or tools invalidates it at once on every replica, whatever the TTL."},
    {"GW_EXPOSURE_CACHE_ENTRIES", GW_SET_INT, "4096", 16, 1048576, NULL, "Governance",
     "Principals whose exposure is cached (bounded memory: one bit per tool each)."},
    {"GW_EXPOSURE_MODE", GW_SET_ENUM, "enforce", 0, 0, "enforce|dry_run", "Governance",
     "`dry_run` records exposure denials (decision record, logs, `_meta`) without hiding or "
     "refusing anything: try new rules on live traffic first."},
    {"GW_POLICY_MODE", GW_SET_ENUM, "enforce", 0, 0, "enforce|dry_run", "Governance",
     "`dry_run` records authorization denials (risk, elevation, policies) without refusing. "
     "Confirmation is still asked for."},
    {"GW_CONFIRMATION_TTL_SECONDS", GW_SET_INT, "300", 10, 3600, NULL, "Governance",
     "How long a request for the user's confirmation stays valid (2026-07-28 requestState)."},
    {"GW_APPROVAL_TTL_SECONDS", GW_SET_INT, "3600", 60, 604800, NULL, "Governance",
     "How long an approval (for clients that cannot ask the user) may wait for a decision and, "
     "once approved, be used."},
    {"GW_APPROVAL_RETENTION_DAYS", GW_SET_INT, "30", 1, 3650, NULL, "Governance",
     "Approvals are deleted from the database this many days after they expired (checked at "
     "start and hourly): they hold the call's arguments for the approver, personal data kept "
     "no longer than needed. Their request, decision and use stay in the audit trail."},
    GW_SETTINGS_END};

/* ---------------------------------------------------------------- loading */

int gw_gov_parse_text(const char *text, size_t len, struct gw_ruleset **out,
                      struct gw_error *err)
{
    struct gw_openapi_limits lim = {0};
    lim.max_doc_bytes = RULES_FILE_MAX;
    lim.max_depth = 64;
    lim.max_nodes = 1u << 20;
    lim.max_alias_nodes = 1u << 16;
    json_t *doc = gw_openapi_parse_document(text, len, &lim, err);
    if (!doc)
        return err && err->code ? err->code : GW_EINVAL;
    int rc = gw_ruleset_build(doc, out, err);
    json_decref(doc);
    return rc;
}

static int read_file(const char *path, char **out, size_t *len, struct gw_error *err)
{
    FILE *f = fopen(path, "rb");
    char eb[128];
    if (!f)
        return GW_ERROR_SET(err, GW_EIO, "governance file %s: %s", path,
                            gw_strerror(errno, eb, sizeof(eb)));
    char *buf = gw_xmalloc(RULES_FILE_MAX + 1);
    size_t n = fread(buf, 1, RULES_FILE_MAX + 1, f);
    fclose(f);
    if (n > RULES_FILE_MAX) {
        gw_free(buf);
        return GW_ERROR_SET(err, GW_ELIMIT, "governance file %s is larger than %u bytes", path,
                            RULES_FILE_MAX);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return GW_OK;
}

/* Appends the stored rules to the file's document (stored ones after the file's; a stored
 * role replaces the file's role of the same name). */
static void merge_stored(json_t *doc, const json_t *stored)
{
    static const char *const lists[] = {"exposure", "policies"};
    for (size_t i = 0; i < 2; i++) {
        json_t *src = json_object_get(stored, lists[i]);
        if (!json_array_size(src))
            continue;
        json_t *dst = json_object_get(doc, lists[i]);
        if (!json_is_array(dst)) {
            dst = json_array();
            json_object_set_new(doc, lists[i], dst);
        }
        json_array_extend(dst, src);
    }
    json_t *roles = json_object_get(stored, "roles");
    if (json_object_size(roles)) {
        json_t *dst = json_object_get(doc, "roles");
        if (!json_is_object(dst)) {
            dst = json_object();
            json_object_set_new(doc, "roles", dst);
        }
        json_object_update(dst, roles);
    }
}

/* Builds the effective rule set: file, then the store. */
static int build(struct gw_gov *g, struct gw_ruleset **out, struct gw_error *err)
{
    json_t *doc = NULL;
    int rc = GW_OK;
    if (g->file[0]) {
        char *text = NULL;
        size_t len = 0;
        if ((rc = read_file(g->file, &text, &len, err)) != GW_OK)
            return rc;
        struct gw_openapi_limits lim = {0};
        lim.max_doc_bytes = RULES_FILE_MAX;
        lim.max_depth = 64;
        lim.max_nodes = 1u << 20;
        lim.max_alias_nodes = 1u << 16;
        struct gw_error perr = {0};
        doc = gw_openapi_parse_document(text, len, &lim, &perr);
        gw_free(text);
        if (!json_is_object(doc)) {
            json_decref(doc);
            return GW_ERROR_SET(err, GW_EINVAL, "governance file %s: %s", g->file,
                                perr.msg[0] ? perr.msg : "not an object");
        }
    } else {
        doc = json_object();
    }
    if (g->store_url) {
        struct gw_store *st = NULL;
        json_t *stored = NULL;
        rc = gw_store_open(g->store_url, NULL, &st, err);
        if (rc == GW_OK)
            rc = gw_store_governance_load(st, &stored, err);
        gw_store_close(st);
        if (rc != GW_OK) {
            json_decref(doc);
            return rc;
        }
        merge_stored(doc, stored);
        json_decref(stored);
    }
    rc = gw_ruleset_build(doc, out, err);
    json_decref(doc);
    return rc;
}

int gw_gov_reload(struct gw_gov *g, struct gw_error *err)
{
    pthread_mutex_lock(&g->reload_lock);
    struct gw_ruleset *rs = NULL;
    int rc = build(g, &rs, err);
    if (rc != GW_OK) {
        atomic_fetch_add(&g->reload_failures, 1);
        pthread_mutex_unlock(&g->reload_lock);
        return rc;
    }
    pthread_mutex_lock(&g->lock);
    struct gw_ruleset *old = g->rules;
    bool changed = !old || strcmp(gw_ruleset_version(old), gw_ruleset_version(rs)) != 0;
    g->rules = rs;
    if (changed)
        g->generation++;
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_add(&g->reloads, 1);
    if (changed) {
        GW_LOG(GW_LOG_INFO, "governance",
               "rule set %s: %zu roles, %zu exposure rules, %zu policies%s", gw_ruleset_version(rs),
               gw_ruleset_count(rs, "roles"), gw_ruleset_count(rs, "exposure"),
               gw_ruleset_count(rs, "policies"),
               gw_ruleset_empty(rs) ? " (governance off: every tool visible and callable)" : "");
        if (old && g->on_change)
            g->on_change(g->on_change_arg);
    }
    gw_ruleset_unref(old);
    pthread_mutex_unlock(&g->reload_lock);
    return GW_OK;
}

struct gw_ruleset *gw_gov__rules(struct gw_gov *g, unsigned *generation)
{
    pthread_mutex_lock(&g->lock);
    struct gw_ruleset *rs = gw_ruleset_ref(g->rules);
    if (generation)
        *generation = g->generation;
    pthread_mutex_unlock(&g->lock);
    return rs;
}

struct gw_ruleset *gw_gov_rules(struct gw_gov *g)
{
    return gw_gov__rules(g, NULL);
}

/* The rule set of a lazily started gateway whose database has not answered yet: every tool
 * hidden and every call refused (fail closed) until gw_gov_reload loads the real rules. */
static int deny_all(struct gw_ruleset **out, struct gw_error *err)
{
    json_t *doc = json_pack(
        "{s:s,s:[{s:s,s:s}],s:[{s:s,s:s,s:s}]}", "version", "not-loaded", "exposure", "id",
        "rules-not-loaded", "effect", "deny", "policies", "id", "rules-not-loaded-calls", "effect",
        "deny", "reason", "the gateway has not loaded its governance rules yet");
    int rc = gw_ruleset_build(doc, out, err);
    json_decref(doc);
    return rc;
}

static int gov_new(const struct gw_settings *s, const char *store_url, bool lazy,
                   struct gw_gov **out, struct gw_error *err)
{
    *out = NULL;
    struct gw_gov *g = gw_xcalloc(1, sizeof(*g));
    gw_strlcpy(g->file, sizeof(g->file), gw_settings_str(s, "GW_GOVERNANCE_FILE"));
    g->store_url = store_url ? gw_xstrdup(store_url) : NULL;
    g->exposure_ttl_s = gw_settings_int(s, "EXPOSURE_CACHE_TTL_SECONDS");
    g->confirm_ttl_s = (int)gw_settings_int(s, "GW_CONFIRMATION_TTL_SECONDS");
    g->approval_ttl_s = (int)gw_settings_int(s, "GW_APPROVAL_TTL_SECONDS");
    g->approval_retention_days = (int)gw_settings_int(s, "GW_APPROVAL_RETENTION_DAYS");
    g->exposure_dry_run = !strcmp(gw_settings_str(s, "GW_EXPOSURE_MODE"), "dry_run");
    g->policy_dry_run = !strcmp(gw_settings_str(s, "GW_POLICY_MODE"), "dry_run");
    pthread_mutex_init(&g->lock, NULL);
    pthread_mutex_init(&g->reload_lock, NULL);
    /* consents are spent through the shared-state module: in process until gw_gov_set_kv
     * gives the replicas' Redis */
    if (gw_kv_new(NULL, &g->own_kv, err) != GW_OK) {
        gw_gov_free(g);
        return GW_ENOMEM;
    }
    g->kv = g->own_kv;
    g->cache = gw_gov__cache_new((size_t)gw_settings_int(s, "GW_EXPOSURE_CACHE_ENTRIES"));
    int rc = gw_gov__opa_new(s, &g->opa, err); /* OPA (gov_opa.c): NULL unless configured */
    if (rc == GW_OK) {
        rc = gw_gov_reload(g, err);
        if (rc == GW_EIO && lazy && g->store_url) {
            GW_LOG(GW_LOG_WARN, "governance",
                   "rules not loaded yet, every tool hidden and every call refused until the "
                   "database answers: %s",
                   err->msg);
            rc = deny_all(&g->rules, err);
        }
    }
    if (rc != GW_OK) {
        gw_gov_free(g);
        return rc;
    }
    gw_gov__approvals_init(g);
    *out = g;
    return GW_OK;
}

int gw_gov_new(const struct gw_settings *s, const char *store_url, struct gw_gov **out,
               struct gw_error *err)
{
    return gov_new(s, store_url, false, out, err);
}

int gw_gov_new_lazy(const struct gw_settings *s, const char *store_url, struct gw_gov **out,
                    struct gw_error *err)
{
    return gov_new(s, store_url, true, out, err);
}

void gw_gov_free(struct gw_gov *g)
{
    if (!g)
        return;
    gw_gov__approvals_fini(g);
    gw_ruleset_unref(g->rules);
    gw_gov__cache_free(g->cache);
    gw_kv_free(g->own_kv);
    gw_gov__opa_free(g->opa);
    pthread_mutex_destroy(&g->lock);
    pthread_mutex_destroy(&g->reload_lock);
    gw_free(g->store_url);
    gw_free(g);
}

void gw_gov_set_kv(struct gw_gov *g, struct gw_kv *kv)
{
    g->kv = kv ? kv : g->own_kv;
}

void gw_gov_set_challenge(struct gw_gov *g, gw_gov_challenge_fn fn, void *arg)
{
    g->challenge = fn;
    g->challenge_arg = arg;
}

void gw_gov_on_change(struct gw_gov *g, void (*fn)(void *arg), void *arg)
{
    g->on_change = fn;
    g->on_change_arg = arg;
}

void gw_gov__rule_tool(const struct gw_tool_entry *e, struct gw_rule_tool *t)
{
    /* the same reading as gw_rule_tool_from_def, from the snapshot's compact entry */
    memset(t, 0, sizeof(*t));
    t->name = e->name;
    t->bundle = e->bundle;
    int r = gw_risk_parse(e->risk);
    t->risk = r >= GW_RISK_READ ? r : GW_RISK_WRITE;
    t->tag_list = e->tags;
    t->ntags = e->ntags;
    t->requires_confirmation = e->requires_confirmation;
    t->requires_elevation =
        e->requires_elevation >= 0 ? e->requires_elevation == 1 : t->risk == GW_RISK_PRIVILEGED;
}

/* ---------------------------------------------------------------- phases */

static int h_exposure(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    struct gw_gov *g = ud;
    struct gw_ruleset *rs = gw_gov__rules(g, NULL);
    const struct gw_tool_entry *t = gw_call_tool(c);
    struct gw_rule_tool rt;
    gw_gov__rule_tool(t, &rt);
    struct gw_exposure_result er;
    gw_ruleset_exposure(rs, gw_call_principal(c), &rt, &er);
    gw_strlcpy(v->policy_version, sizeof(v->policy_version), gw_ruleset_version(rs));
    gw_ruleset_unref(rs);
    if (er.dry_run_denial.id[0])
        gw_ctx_decide(gw_call_ctx(c), GW_PHASE_EXPOSURE, GW_VERDICT_DRY_RUN_DENY, "exposure",
                      er.dry_run_denial.id, v->policy_version, "hidden by a dry-run exposure rule");
    gw_strlcpy(v->rule_id, sizeof(v->rule_id), er.decided.id);
    if (er.visible)
        return GW_OK;
    /* not exposed: answered exactly like a tool that does not exist */
    snprintf(v->reason, sizeof(v->reason), "Unknown tool: %.120s", t->name);
    v->jsonrpc_code = GW_JSONRPC_INVALID_PARAMS;
    if (!er.decided.id[0])
        snprintf(v->rule_id, sizeof(v->rule_id), "default-deny");
    return GW_EDENIED;
}

static int error_code_of(enum gw_authz_stage s)
{
    switch (s) {
    case GW_AUTHZ_STAGE_RISK: return GW_GATEWAY_FORBIDDEN;
    case GW_AUTHZ_STAGE_ELEVATION: return GW_GATEWAY_ELEVATION_REQUIRED;
    case GW_AUTHZ_STAGE_POLICY: break;
    }
    return GW_GATEWAY_POLICY_DENIED;
}

/* Built member by member: json_pack parses its format string on every call (~3k instructions
 * for these three members, on every tools/call). */
static json_t *context_of(struct gw_call *c)
{
    struct gw_ctx *ctx = gw_call_ctx(c);
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "now", json_integer((json_int_t)gw_clock_now()));
    json_object_set_new_nocheck(o, "peer", json_string(gw_ctx_peer(ctx)));
    json_object_set_new_nocheck(o, "transport",
                                json_string(gw_transport_name(gw_ctx_transport(ctx))));
    return o;
}

static int h_authorize(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    struct gw_gov *g = ud;
    struct gw_ruleset *rs = gw_gov__rules(g, NULL);
    const struct gw_tool_entry *t = gw_call_tool(c);
    struct gw_ctx *ctx = gw_call_ctx(c);
    struct gw_rule_tool rt;
    gw_gov__rule_tool(t, &rt);
    gw_ctx_set_risk(ctx, gw_risk_name(rt.risk));
    json_t *context = context_of(c);
    struct gw_authz_result r;
    /* OPA (gov_opa.c): with GW_POLICY_ENGINE=opa the policies are OPA's, not these */
    gw_ruleset_authorize_ex(gw_ruleset_empty(rs) ? NULL : rs, gw_call_principal(c), &rt,
                            gw_call_args(c), context,
                            gw_gov__opa_only(g->opa) ? GW_AUTHZ_NO_POLICIES : 0, &r);
    json_decref(context);
    char version[48];
    gw_strlcpy(version, sizeof(version), gw_ruleset_version(rs));
    gw_ruleset_unref(rs);
    gw_strlcpy(v->policy_version, sizeof(v->policy_version), version);
    gw_strlcpy(v->rule_id, sizeof(v->rule_id), r.rule_id);
    for (size_t i = 0; i < r.nhits; i++)
        if (r.hits[i].dry_run)
            gw_ctx_decide(ctx, GW_PHASE_AUTHORIZE, GW_VERDICT_DRY_RUN_DENY, "policy",
                          r.hits[i].id, version, r.hits[i].effect);
    if (r.verdict == GW_AUTHZ_DENY) {
        atomic_fetch_add(&g->denials, 1);
        if (g->policy_dry_run) {
            gw_ctx_decide(ctx, GW_PHASE_AUTHORIZE, GW_VERDICT_DRY_RUN_DENY, "authorize",
                          r.rule_id, version, r.reason);
            return GW_OK;
        }
        gw_strlcpy(v->reason, sizeof(v->reason), r.reason);
        v->jsonrpc_code = error_code_of(r.stage);
        json_t *data = json_pack("{s:s,s:s,s:s,s:s}", "reason", r.reason, "rule", r.rule_id,
                                 "policyVersion", version, "hint", r.hint);
        if (r.stage == GW_AUTHZ_STAGE_ELEVATION) {
            json_t *su = json_pack("{s:s}", "scope", r.step_up_scope);
            if (g->challenge && r.step_up_scope[0]) {
                char ch[768];
                g->challenge(g->challenge_arg, r.step_up_scope, r.reason, ch, sizeof(ch));
                json_object_set_new(su, "challenge", json_string(ch));
            }
            json_object_set_new(data, "stepUp", su);
        }
        v->data = data;
        return GW_EDENIED;
    }
    if (r.verdict == GW_AUTHZ_CONFIRM && g->opa) {
        /* OPA decides next (the "opa" handler): it asks for the confirmation once OPA allowed,
         * so that nobody is asked to confirm a call that is then refused */
        gw_gov__opa_defer_confirm(c, &r, version);
        return GW_OK;
    }
    if (r.verdict == GW_AUTHZ_CONFIRM)
        return gw_gov__confirm(g, c, &r, version, v);
    return GW_OK;
}

/* The list filter: the caller's exposure bitset is looked up once per request (kept in the
 * context's exposure slot) and read for every tool of the page. */
static bool list_filter(void *ud, struct gw_ctx *c, const struct gw_snapshot *snap,
                        const struct gw_tool_entry *t)
{
    struct gw_gov *g = ud;
    if (g->exposure_dry_run)
        return true;
    struct gov_bits *b = gw_ctx_get(c, GW_CTX_SLOT_EXPOSURE);
    if (!b) {
        unsigned gen = 0;
        struct gw_ruleset *rs = gw_gov__rules(g, &gen);
        if (!gw_ruleset_count(rs, "exposure")) {
            gw_ruleset_unref(rs);
            return true;
        }
        const struct gw_principal *p = gw_ctx_principal(c);
        b = gw_gov__exposure(g, rs, gen, p ? p : gw_principal_nobody(), snap);
        gw_ruleset_unref(rs);
        gw_ctx_put(c, GW_CTX_SLOT_EXPOSURE, b, gw_gov__bits_unref);
    }
    return gw_gov__bit(b, gw_snapshot_index(snap, t));
}

int gw_gov_attach(struct gw_gov *g, struct gw_pipeline *p)
{
    int rc = gw_pipeline_add(p, GW_PHASE_EXPOSURE, "exposure", h_exposure, g,
                             g->exposure_dry_run ? GW_PHASE_DRY_RUN : GW_PHASE_ENFORCE);
    if (rc == GW_OK)
        rc = gw_pipeline_add(p, GW_PHASE_AUTHORIZE, "authorize", h_authorize, g, GW_PHASE_ENFORCE);
    if (rc == GW_OK && g->opa) /* OPA's decision after the built-in checks (gov_opa.c) */
        rc = gw_pipeline_add(p, GW_PHASE_AUTHORIZE, "opa", gw_gov__opa_authorize, g,
                             GW_PHASE_ENFORCE);
    if (rc == GW_OK)
        rc = gw_pipeline_set_list_filter(p, list_filter, g);
    if (rc == GW_OK)
        gw_gov__approvals_start_janitor(g); /* this process serves calls: keep the table tidy */
    return rc;
}

/* ---------------------------------------------------------------- preview and tester */

struct gw_principal *gw_gov_principal_from_spec(const json_t *spec, struct gw_error *err)
{
    if (!json_is_object(spec))
        return GW_ERROR_SET(err, GW_EINVAL, "a principal is an object {subject, roles, "
                                            "client_id, tenant, claims, "
                                            "authenticated_seconds_ago}"), NULL;
    const char *roles[GW_PRINCIPAL_MAX_ROLES];
    size_t n = 0, i;
    json_t *r;
    json_t *rl = json_object_get(spec, "roles");
    if (json_is_string(rl))
        roles[n++] = json_string_value(rl);
    json_array_foreach(rl, i, r)
    {
        if (!json_is_string(r) || n >= GW_PRINCIPAL_MAX_ROLES) {
            GW_ERROR_SET(err, GW_EINVAL, "roles must be at most %d strings",
                         GW_PRINCIPAL_MAX_ROLES);
            return NULL;
        }
        roles[n++] = json_string_value(r);
    }
    json_t *claims = json_object_get(spec, "claims");
    if (claims && !json_is_object(claims)) {
        GW_ERROR_SET(err, GW_EINVAL, "claims must be an object");
        return NULL;
    }
    const char *subject = json_string_value(json_object_get(spec, "subject"));
    const char *client = json_string_value(json_object_get(spec, "client_id"));
    if (!client)
        client = json_string_value(json_object_get(spec, "clientId"));
    /* when the principal signed in: elevation rules need a recent sign-in, so a preview of a
     * session signed in long ago must not look freshly authenticated */
    json_t *age = json_object_get(spec, "authenticated_seconds_ago");
    if (age && (!json_is_integer(age) || json_integer_value(age) < 0 ||
                json_integer_value(age) > 366LL * 86400)) {
        GW_ERROR_SET(err, GW_EINVAL, "authenticated_seconds_ago must be 0-31622400 seconds");
        return NULL;
    }
    int64_t now = gw_clock_now();
    struct gw_principal_init in = {.method = GW_AUTH_OIDC,
                                   .subject = subject ? subject : "preview",
                                   .client_id = client,
                                   .tenant = json_string_value(json_object_get(spec, "tenant")),
                                   .roles = roles,
                                   .nroles = n,
                                   .claims = claims,
                                   .auth_time = now - (age ? json_integer_value(age) : 0)};
    struct gw_principal *p = gw_principal_new(&in);
    if (!p)
        GW_ERROR_SET(err, GW_EINVAL, "a principal's strings are at most %d characters",
                     GW_PRINCIPAL_STR_MAX);
    return p;
}

json_t *gw_gov_preview(struct gw_gov *g, const struct gw_principal *p,
                       const struct gw_snapshot *snap)
{
    struct gw_ruleset *rs = gw_gov__rules(g, NULL);
    json_t *tools = json_array();
    size_t n = gw_snapshot_count(snap);
    json_t *ctx = json_pack("{s:I}", "now", (json_int_t)gw_clock_now());
    for (size_t i = 0; i < n; i++) {
        const struct gw_tool_entry *t = gw_snapshot_tool_at(snap, i);
        struct gw_rule_tool rt;
        gw_gov__rule_tool(t, &rt);
        struct gw_exposure_result er;
        gw_ruleset_exposure(rs, p, &rt, &er);
        if (!er.visible)
            continue;
        /* what a call would meet before its arguments are known: risk and elevation */
        struct gw_authz_result ar;
        gw_ruleset_authorize_ex(gw_ruleset_empty(rs) ? NULL : rs, p, &rt, NULL, ctx,
                                gw_gov__opa_only(g->opa) ? GW_AUTHZ_NO_POLICIES : 0, &ar);
        json_t *o = json_pack("{s:s,s:s,s:s}", "name", t->name, "risk", gw_risk_name(rt.risk),
                              "call", ar.verdict == GW_AUTHZ_DENY    ? "deny"
                                      : ar.verdict == GW_AUTHZ_CONFIRM ? "confirm"
                                                                       : "allow");
        json_object_set_new(o, "bundle", t->bundle ? json_string(t->bundle) : json_null());
        json_object_set_new(o, "via", er.decided.id[0] ? json_pack("[s]", er.decided.id)
                                                       : json_array());
        if (ar.verdict == GW_AUTHZ_DENY) {
            json_object_set_new(o, "reason", json_string(ar.reason));
            if (ar.hint[0]) /* what would allow it */
                json_object_set_new(o, "hint", json_string(ar.hint));
        }
        if (ar.conditional) { /* policies that look at the arguments decide each call */
            json_t *conds = json_array();
            for (size_t h = 0; h < ar.nhits; h++)
                json_array_append_new(conds, json_string(ar.hits[h].id));
            json_object_set_new(o, "conditions", conds);
        }
        json_array_append_new(tools, o);
    }
    json_decref(ctx);
    json_t *out = json_pack("{s:o,s:s,s:I,s:o}", "principal", gw_rules_principal_json(p),
                            "policyVersion", gw_ruleset_version(rs), "total",
                            (json_int_t)json_array_size(tools), "tools", tools);
    gw_ruleset_unref(rs);
    return out;
}

json_t *gw_gov_test(struct gw_gov *g, const struct gw_principal *p, const json_t *def,
                    const json_t *args)
{
    struct gw_ruleset *rs = gw_gov__rules(g, NULL);
    struct gw_rule_tool rt;
    gw_rule_tool_from_def(def, &rt);
    struct gw_exposure_result er;
    gw_ruleset_exposure(rs, p, &rt, &er);
    json_t *ctx = json_pack("{s:I}", "now", (json_int_t)gw_clock_now());
    struct gw_authz_result ar;
    gw_ruleset_authorize_ex(gw_ruleset_empty(rs) ? NULL : rs, p, &rt, args, ctx,
                            gw_gov__opa_only(g->opa) ? GW_AUTHZ_NO_POLICIES : 0, &ar);
    json_decref(ctx);
    static const char *const stages[] = {"risk", "elevation", "policy"};
    const char *decision = !er.visible                        ? "hidden"
                           : ar.verdict == GW_AUTHZ_DENY      ? "deny"
                           : ar.verdict == GW_AUTHZ_CONFIRM   ? "confirm"
                                                              : "allow";
    json_t *fired = json_array();
    if (er.decided.id[0])
        json_array_append_new(fired, json_pack("{s:s,s:s,s:s,s:s}", "id", er.decided.id,
                                               "section", "exposure", "effect", er.decided.effect,
                                               "mode", "enforce"));
    if (er.dry_run_denial.id[0])
        json_array_append_new(fired, json_pack("{s:s,s:s,s:s,s:s}", "id", er.dry_run_denial.id,
                                               "section", "exposure", "effect", "deny", "mode",
                                               "dry_run"));
    for (size_t i = 0; i < ar.nhits; i++)
        json_array_append_new(fired, json_pack("{s:s,s:s,s:s,s:s}", "id", ar.hits[i].id,
                                               "section", ar.hits[i].section, "effect",
                                               ar.hits[i].effect, "mode",
                                               ar.hits[i].dry_run ? "dry_run" : "enforce"));
    json_t *reasons = json_array();
    if (!er.visible)
        json_array_append_new(reasons, json_string(er.decided.id[0]
                                                       ? "hidden by an exposure rule"
                                                       : "no exposure rule shows this tool"));
    else if (ar.reason[0])
        json_array_append_new(reasons, json_string(ar.reason));
    json_t *out = json_pack(
        "{s:s,s:o,s:s,s:s,s:s,s:o,s:{s:b,s:o},s:s}", "decision", decision, "reasons", reasons,
        "hint", ar.hint, "rule", !er.visible ? er.decided.id : ar.rule_id, "stage",
        ar.verdict == GW_AUTHZ_DENY ? stages[ar.stage] : "", "fired", fired, "exposure",
        "visible", er.visible, "via",
        er.decided.id[0] ? json_pack("[s]", er.decided.id) : json_array(), "policyVersion",
        gw_ruleset_version(rs));
    gw_ruleset_unref(rs);
    if (g->opa && er.visible && ar.verdict != GW_AUTHZ_DENY) /* OPA's say (gov_opa.c) */
        gw_gov__opa_explain(g, p, &rt, args, out);
    return out;
}

void gw_gov_stats(const struct gw_gov *g, struct gw_gov_stats *out)
{
    struct gw_gov *m = (struct gw_gov *)g;
    memset(out, 0, sizeof(*out));
    out->exposure_hits = atomic_load(&m->exposure_hits);
    out->exposure_misses = atomic_load(&m->exposure_misses);
    out->denials = atomic_load(&m->denials);
    out->confirmations_asked = atomic_load(&m->asked);
    out->confirmations_accepted = atomic_load(&m->accepted);
    out->confirmations_declined = atomic_load(&m->declined);
    out->confirmations_refused = atomic_load(&m->refused);
    out->reloads = atomic_load(&m->reloads);
    out->reload_failures = atomic_load(&m->reload_failures);
    gw_gov__opa_stats(m->opa, out);
    struct gw_ruleset *rs = gw_gov__rules(m, NULL);
    out->rules = gw_ruleset_count(rs, "exposure") + gw_ruleset_count(rs, "policies");
    gw_ruleset_unref(rs);
}
