/*
 * src/admin/admin_governance.c
 * The governance endpoints (pool threads): the effective rules and their version; exposure
 * rules, policies and roles (list with their source, create/replace, switch a rule between
 * enforce and dry_run, delete); "view as" (what a role, user or client sees and may call); and
 * the policy tester. Rules are validated against the whole effective rule set before they are
 * stored, so a write that would not build is refused with the reason (400) and a running
 * gateway never meets it. Rules of the rules file are read-only here (409: change the file).
 * Writes are registry writes: every replica reloads its rules.
 */
#include "admin/admin_internal.h"

#include "core/alloc.h"
#include "core/json.h"
#include "governance/gov.h"
#include "registry/registry.h"
#include "core/clock.h"
#include "store/store_approval.h"
#include "store/store_governance.h"

#include <stdio.h>
#include <string.h>

static const char *section_of(enum admin_route r)
{
    switch (r) {
    case AR_EXPOSURE_RULES:
    case AR_EXPOSURE_RULE: return "exposure";
    case AR_POLICIES:
    case AR_POLICY: return "policies";
    default: return "roles";
    }
}

static bool need_gov(struct admin_job *j)
{
    if (j->adm->gov)
        return true;
    gw_admin__fail(j, 503, "unavailable", "governance is not available on this admin API");
    return false;
}

/* Whether rule `id` of `section` is in the stored document. */
static bool stored_has(const json_t *stored, const char *section, const char *id)
{
    json_t *sec = json_object_get(stored, section);
    if (json_is_object(sec))
        return json_object_get(sec, id) != NULL;
    size_t i;
    json_t *r;
    json_array_foreach(sec, i, r)
    {
        if (!strcmp(gw_json_str(r, "id") ? gw_json_str(r, "id") : "", id))
            return true;
    }
    return false;
}

void gw_admin__w_governance(struct admin_job *j, struct gw_store *st)
{
    if (!need_gov(j))
        return;
    json_t *stored = NULL;
    struct gw_error err = {0};
    if (gw_store_governance_load(st, &stored, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    struct gw_ruleset *rs = gw_gov_rules(j->adm->gov);
    gw_admin__ok(j, 200,
                 json_pack("{s:s,s:b,s:O,s:o}", "policyVersion", gw_ruleset_version(rs), "active",
                           !gw_ruleset_empty(rs), "rules", gw_ruleset_doc(rs), "stored", stored));
    gw_ruleset_unref(rs);
}

void gw_admin__w_rules_list(struct admin_job *j, struct gw_store *st)
{
    if (!need_gov(j))
        return;
    const char *section = section_of(j->m.route);
    json_t *stored = NULL;
    struct gw_error err = {0};
    if (gw_store_governance_load(st, &stored, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    struct gw_ruleset *rs = gw_gov_rules(j->adm->gov);
    json_t *items = json_array();
    json_t *sec = json_object_get(gw_ruleset_doc(rs), section);
    if (!strcmp(section, "roles")) {
        const char *name;
        json_t *r;
        json_object_foreach(sec, name, r)
        {
            json_t *o = json_deep_copy(r);
            json_object_set_new(o, "name", json_string(name));
            json_object_set_new(o, "source", json_string(stored_has(stored, section, name)
                                                             ? "database"
                                                             : "file"));
            json_array_append_new(items, o);
        }
    } else {
        size_t i;
        json_t *r;
        json_array_foreach(sec, i, r)
        {
            json_t *o = json_deep_copy(r);
            const char *id = gw_json_str(r, "id");
            if (!json_object_get(o, "mode"))
                json_object_set_new(o, "mode", json_string("enforce"));
            json_object_set_new(o, "source", json_string(id && stored_has(stored, section, id)
                                                             ? "database"
                                                             : "file"));
            json_array_append_new(items, o);
        }
    }
    gw_admin__ok(j, 200, json_pack("{s:o,s:s,s:n}", "items", items, "policyVersion",
                                   gw_ruleset_version(rs), "next"));
    gw_ruleset_unref(rs);
    json_decref(stored);
}

/* The effective document with `rule` put in `section` (replacing `id` or appended). */
static json_t *candidate(const json_t *doc, const char *section, const char *id,
                         const json_t *rule)
{
    json_t *c = json_deep_copy(doc);
    if (!strcmp(section, "roles")) {
        json_t *roles = json_object_get(c, "roles");
        if (!json_is_object(roles)) {
            roles = json_object();
            json_object_set_new(c, "roles", roles);
        }
        json_object_set(roles, id, (json_t *)rule);
        return c;
    }
    json_t *list = json_object_get(c, section);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(c, section, list);
    }
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        if (!strcmp(gw_json_str(r, "id") ? gw_json_str(r, "id") : "", id)) {
            json_array_set(list, i, (json_t *)rule);
            return c;
        }
    }
    json_array_append(list, (json_t *)rule);
    return c;
}

/* Validates and stores `rule` as `id` of `section`. */
static void store_rule(struct admin_job *j, struct gw_store *st, const char *section,
                       const char *id, const json_t *rule, int created_status)
{
    struct gw_error err = {0};
    json_t *stored = NULL;
    if (gw_store_governance_load(st, &stored, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    struct gw_ruleset *rs = gw_gov_rules(j->adm->gov);
    bool in_db = stored_has(stored, section, id);
    bool in_file = !in_db && stored_has(gw_ruleset_doc(rs), section, id);
    json_decref(stored);
    if (in_file) {
        gw_admin__fail(j, 409, "conflict",
                       "%s %s is defined in the rules file (GW_GOVERNANCE_FILE): change it there",
                       section, id);
        gw_ruleset_unref(rs);
        return;
    }
    json_t *doc = candidate(gw_ruleset_doc(rs), section, id, rule);
    gw_ruleset_unref(rs);
    struct gw_ruleset *check = NULL;
    int rc = gw_ruleset_build(doc, &check, &err);
    json_decref(doc);
    gw_ruleset_unref(check);
    if (rc != GW_OK) {
        gw_admin__fail(j, 400, "invalid", "%s", err.msg);
        return;
    }
    if (gw_store_governance_put(st, section, id, rule, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    json_t *out = json_deep_copy(rule);
    if (!strcmp(section, "roles"))
        json_object_set_new(out, "name", json_string(id));
    json_object_set_new(out, "source", json_string("database"));
    snprintf(j->location, sizeof(j->location), "/admin/api/%s/%s",
             !strcmp(section, "exposure") ? "exposure/rules" : section, id);
    gw_admin__ok(j, in_db ? 200 : created_status, out);
}

void gw_admin__w_rule_put(struct admin_job *j, struct gw_store *st)
{
    if (!need_gov(j))
        return;
    const char *section = section_of(j->m.route);
    json_t *rule = gw_admin__body_json(j, true, "a rule (a JSON object, docs/governance.md)");
    if (!rule)
        return;
    const char *id = j->m.name[0] ? j->m.name : gw_json_str(rule, "id");
    if (strcmp(section, "roles") != 0) {
        const char *given = gw_json_str(rule, "id");
        if (given && id && strcmp(given, id) != 0) {
            gw_admin__fail(j, 400, "invalid", "the rule's id (%s) differs from the path (%s)",
                           given, id);
            json_decref(rule);
            return;
        }
        if (id && !given)
            json_object_set_new(rule, "id", json_string(id));
    }
    if (!id || !*id)
        gw_admin__fail(j, 400, "invalid", "a rule needs an \"id\"");
    else
        store_rule(j, st, section, id, rule, 201);
    json_decref(rule);
}

void gw_admin__w_rule_patch(struct admin_job *j, struct gw_store *st)
{
    if (!need_gov(j))
        return;
    const char *section = section_of(j->m.route);
    json_t *changes = gw_admin__body_json(j, true, "a JSON object of changes, e.g. "
                                                   "{\"mode\":\"dry_run\"}");
    if (!changes)
        return;
    struct gw_error err = {0};
    json_t *stored = NULL;
    json_t *rule = NULL;
    if (gw_store_governance_load(st, &stored, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        goto out;
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(stored, section), i, r)
    {
        if (!strcmp(gw_json_str(r, "id") ? gw_json_str(r, "id") : "", j->m.name))
            rule = json_deep_copy(r);
    }
    if (!rule) {
        struct gw_ruleset *rs = gw_gov_rules(j->adm->gov);
        bool in_file = stored_has(gw_ruleset_doc(rs), section, j->m.name);
        gw_ruleset_unref(rs);
        if (in_file)
            gw_admin__fail(j, 409, "conflict",
                           "%s rule %s is defined in the rules file: change it there", section,
                           j->m.name);
        else
            gw_admin__fail(j, 404, "not_found", "no %s rule %s", section, j->m.name);
        goto out;
    }
    if (json_object_get(changes, "id") &&
        strcmp(gw_json_str(changes, "id") ? gw_json_str(changes, "id") : "", j->m.name) != 0) {
        gw_admin__fail(j, 400, "invalid", "a rule's id cannot change");
        goto out;
    }
    json_object_update(rule, changes);
    store_rule(j, st, section, j->m.name, rule, 200);
out:
    json_decref(rule);
    json_decref(stored);
    json_decref(changes);
}

void gw_admin__w_rule_delete(struct admin_job *j, struct gw_store *st)
{
    if (!need_gov(j))
        return;
    const char *section = section_of(j->m.route);
    struct gw_error err = {0};
    if (gw_store_governance_delete(st, section, j->m.name, &j->who, &err) != GW_OK) {
        struct gw_ruleset *rs = gw_gov_rules(j->adm->gov);
        bool in_file = err.code == GW_ENOTFOUND && stored_has(gw_ruleset_doc(rs), section,
                                                              j->m.name);
        gw_ruleset_unref(rs);
        if (in_file)
            gw_admin__fail(j, 409, "conflict", "%s %s is defined in the rules file: change it "
                                               "there", section, j->m.name);
        else
            gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    gw_admin__ok(j, 200, json_pack("{s:s,s:s}", "deleted", j->m.name, "section", section));
}

/* The principal of a preview or test: the POST body's {"principal":{..}} (or the body itself),
 * or the query's role (comma list), user, client, tenant. */
static struct gw_principal *principal_of(struct admin_job *j, const json_t *body)
{
    json_t *spec;
    if (body) {
        json_t *p = json_object_get(body, "principal");
        spec = json_incref(p ? p : (json_t *)body);
    } else {
        spec = json_object();
        json_t *roles = json_array();
        for (const char *p = j->q.role; p && *p;) {
            size_t n = strcspn(p, ",");
            if (n)
                json_array_append_new(roles, json_stringn(p, n));
            p += n;
            if (*p == ',')
                p++;
        }
        json_object_set_new(spec, "roles", roles);
        if (j->q.user)
            json_object_set_new(spec, "subject", json_string(j->q.user));
        if (j->q.client)
            json_object_set_new(spec, "client_id", json_string(j->q.client));
        if (j->q.tenant)
            json_object_set_new(spec, "tenant", json_string(j->q.tenant));
    }
    struct gw_error err = {0};
    struct gw_principal *pr = gw_gov_principal_from_spec(spec, &err);
    json_decref(spec);
    if (!pr)
        gw_admin__fail(j, 400, "invalid", "%s", err.msg);
    return pr;
}

void gw_admin__w_preview(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    if (!need_gov(j))
        return;
    json_t *body = NULL;
    if (j->body_len) {
        body = gw_admin__body_json(j, true, "{\"principal\":{\"subject\",\"roles\",\"client_id\","
                                            "\"tenant\",\"claims\"}}");
        if (!body)
            return;
    }
    struct gw_principal *p = principal_of(j, body);
    json_decref(body);
    if (!p)
        return;
    if (!j->adm->registry) {
        gw_admin__fail(j, 503, "unavailable", "no registry on this admin API");
    } else {
        struct gw_snapshot *snap = gw_registry_acquire(j->adm->registry);
        gw_admin__ok(j, 200, gw_gov_preview(j->adm->gov, p, snap));
        gw_snapshot_release(snap);
    }
    gw_principal_unref(p);
}

void gw_admin__w_policy_test(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    if (!need_gov(j))
        return;
    json_t *body = gw_admin__body_json(j, true, "{\"principal\":{..},\"tool\":\"name\","
                                                "\"arguments\":{..}}");
    if (!body)
        return;
    const char *tool = gw_json_str(body, "tool");
    json_t *args = json_object_get(body, "arguments");
    struct gw_principal *p = NULL;
    struct gw_snapshot *snap = NULL;
    if (!tool) {
        gw_admin__fail(j, 400, "invalid", "\"tool\" (a tool name) is required");
    } else if (args && !json_is_object(args)) {
        gw_admin__fail(j, 400, "invalid", "\"arguments\" must be an object");
    } else if (!j->adm->registry) {
        gw_admin__fail(j, 503, "unavailable", "no registry on this admin API");
    } else {
        json_t *pspec = json_object_get(body, "principal") ? json_incref(body)
                                                           : json_pack("{s:{}}", "principal");
        p = principal_of(j, pspec);
        json_decref(pspec);
    }
    if (p) {
        snap = gw_registry_acquire(j->adm->registry);
        const struct gw_tool_entry *t = gw_snapshot_find(snap, tool, strlen(tool));
        if (!t)
            gw_admin__fail(j, 404, "not_found", "no active tool %s", tool);
        else
            gw_admin__ok(j, 200, gw_gov_test(j->adm->gov, p, gw_tool_def(t), args));
    }
    gw_snapshot_release(snap);
    gw_principal_unref(p);
    json_decref(body);
}

/* ---- approvals (calls waiting for a person because the client could not ask the user) ---- */

void gw_admin__w_approvals_list(struct admin_job *j, struct gw_store *st)
{
    json_t *items = NULL;
    struct gw_error err = {0};
    if (gw_store_approval_list(st, j->q.status, j->q.limit, &items, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, json_pack("{s:o,s:n}", "items", items, "next"));
}

void gw_admin__w_approval_get(struct admin_job *j, struct gw_store *st)
{
    json_t *a = NULL;
    struct gw_error err = {0};
    if (gw_store_approval_get(st, j->m.name, &a, &err) != GW_OK)
        gw_admin__fail_err(j, &err);
    else
        gw_admin__ok(j, 200, a);
}

void gw_admin__w_approval_decide(struct admin_job *j, struct gw_store *st)
{
    json_t *body = NULL;
    if (j->body_len && !(body = gw_admin__body_json(j, true, "{\"comment\"?}")))
        return;
    const char *comment = gw_json_str(body, "comment");
    struct gw_error err = {0};
    char now[32];
    gw_clock_iso(gw_clock_now(), now, sizeof(now));
    json_t *a = NULL;
    if (gw_store_approval_decide(st, j->m.name, !strcmp(j->m.status, "approve"), j->actor,
                                 comment, now, &err) != GW_OK ||
        gw_store_approval_get(st, j->m.name, &a, &err) != GW_OK)
        gw_admin__fail_err(j, &err);
    else
        gw_admin__ok(j, 200, a);
    json_decref(body);
}
