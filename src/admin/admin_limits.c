/*
 * src/admin/admin_limits.c
 * The rate-limit endpoints (pool threads): the effective rules and the limiter's counters,
 * and CRUD of the rules stored in the database. Every body is validated with the rule parser
 * (src/ratelimit/ratelimit_rule.h) and stored in its canonical form; writes are registry
 * writes, so every replica reloads its rules at once (on_write here, NOTIFY elsewhere).
 * Rules from the rules file or GW_RATELIMIT_HTTP_PER_IP are read-only here (409 on write).
 *   GET    /admin/api/limits          {"rules": [effective, with "source"], "stored": [rows],
 *                                      "status": {counters}}
 *   POST   /admin/api/limits          a rule -> 201
 *   GET    /admin/api/limits/{id}     a stored row, or the effective rule of another source
 *   PUT    /admin/api/limits/{id}     a whole rule (its "id" may be omitted)
 *   PATCH  /admin/api/limits/{id}     some members, e.g. {"mode": "dry_run"}, {"enabled": false}
 *   DELETE /admin/api/limits/{id}
 */
#include "admin/admin_internal.h"

#include "core/json.h"
#include "ratelimit/ratelimit_rule.h"
#include "store/store_ratelimit.h"

#include <stdio.h>
#include <string.h>

/* The running limiter's view (NULL when the admin API runs without one). New reference. */
static json_t *status_of(struct admin_job *j)
{
    return j->adm->limits_status ? j->adm->limits_status(j->adm->limits_arg) : NULL;
}

/* The effective rule `id` of a non-database source, or NULL. Borrowed from `st`. */
static const json_t *foreign_rule(const json_t *st, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(st, "rules"), i, r) {
        const char *rid = gw_json_str(r, "id");
        const char *src = gw_json_str(r, "source");
        if (rid && strcmp(rid, id) == 0 && src && strcmp(src, "db") != 0)
            return r;
    }
    return NULL;
}

/* Validates `body` as a rule with id `id`; returns its canonical JSON or NULL (reply set). */
static json_t *validate(struct admin_job *j, json_t *body, const char *id)
{
    if (!json_object_get(body, "id"))
        json_object_set_new(body, "id", json_string(id));
    const char *bid = gw_json_str(body, "id");
    if (!bid || strcmp(bid, id) != 0) {
        gw_admin__fail(j, 400, "invalid", "the rule's \"id\" must be %s (the path's)", id);
        return NULL;
    }
    json_object_del(body, "source");
    struct gw_rl_rule *r = NULL;
    struct gw_error err = {0};
    if (gw_rl_rule_parse(body, "db", &r, &err) != GW_OK) {
        gw_admin__fail(j, 400, "invalid", "%s", err.msg);
        return NULL;
    }
    json_t *canon = gw_rl_rule_json(r);
    gw_rl_rule_free(r);
    return canon;
}

static bool refuse_foreign(struct admin_job *j, const char *id)
{
    json_t *st = status_of(j);
    const json_t *f = st ? foreign_rule(st, id) : NULL;
    if (f)
        gw_admin__fail(j, 409, "conflict",
                       "rule %s comes from %s and cannot be changed here: edit %s", id,
                       gw_json_str(f, "source"),
                       strcmp(gw_json_str(f, "source"), "env") == 0
                           ? "GW_RATELIMIT_HTTP_PER_IP"
                           : "the rules file (GW_RATELIMIT_RULES_FILE)");
    json_decref(st);
    return f != NULL;
}

static void reply_row(struct admin_job *j, struct gw_store *st, const char *id, int status)
{
    json_t *row = NULL;
    struct gw_error err = {0};
    if (gw_store_ratelimit_get(st, id, &row, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, status, row);
}

void gw_admin__w_limits_list(struct admin_job *j, struct gw_store *st)
{
    json_t *rows = NULL;
    struct gw_error err = {0};
    if (gw_store_ratelimit_list(st, &rows, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    json_t *status = status_of(j);
    json_t *out = json_pack("{s:o}", "stored", rows);
    if (status) {
        json_object_set(out, "rules", json_object_get(status, "rules"));
        json_object_set(out, "status", json_object_get(status, "stats"));
        json_decref(status);
    } else { /* no running limiter: what the database holds */
        json_t *rules = json_array();
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            json_t *r = json_deep_copy(json_object_get(row, "rule"));
            if (json_is_object(r)) {
                json_object_set_new(r, "source", json_string("db"));
                json_array_append_new(rules, r);
            } else {
                json_decref(r);
            }
        }
        json_object_set_new(out, "rules", rules);
    }
    gw_admin__ok(j, 200, out);
}

void gw_admin__w_limit_create(struct admin_job *j, struct gw_store *st)
{
    json_t *body = gw_admin__body_json(j, true, "a rate-limit rule (docs/scaling.md)");
    if (!body)
        return;
    const char *id = gw_json_str(body, "id");
    if (!id || !gw_admin__valid_name(id)) {
        gw_admin__fail(j, 400, "invalid", "a rule needs an \"id\" of 1-63 characters of "
                                          "A-Z a-z 0-9 _ . -");
        json_decref(body);
        return;
    }
    char rid[GW_RL_ID_MAX + 2];
    snprintf(rid, sizeof(rid), "%s", id);
    json_t *canon = refuse_foreign(j, rid) ? NULL : validate(j, body, rid);
    struct gw_error err = {0};
    if (canon && gw_store_ratelimit_put(st, rid, canon, true, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else if (canon) {
        j->wrote = true;
        snprintf(j->location, sizeof(j->location), "/admin/api/limits/%s", rid);
        reply_row(j, st, rid, 201);
    }
    json_decref(canon);
    json_decref(body);
}

void gw_admin__w_limit_get(struct admin_job *j, struct gw_store *st)
{
    json_t *row = NULL;
    struct gw_error err = {0};
    int rc = gw_store_ratelimit_get(st, j->m.name, &row, &err);
    if (rc == GW_ENOTFOUND) {
        json_t *status = status_of(j);
        const json_t *f = status ? foreign_rule(status, j->m.name) : NULL;
        if (f)
            gw_admin__ok(j, 200, json_pack("{s:s,s:O}", "id", j->m.name, "rule", f));
        else
            gw_admin__fail_err(j, &err);
        json_decref(status);
        return;
    }
    if (rc != GW_OK)
        gw_admin__fail_err(j, &err);
    else
        gw_admin__ok(j, 200, row);
}

void gw_admin__w_limit_replace(struct admin_job *j, struct gw_store *st)
{
    json_t *body = gw_admin__body_json(j, true, "a rate-limit rule (docs/scaling.md)");
    if (!body)
        return;
    json_t *canon = refuse_foreign(j, j->m.name) ? NULL : validate(j, body, j->m.name);
    struct gw_error err = {0};
    if (canon && gw_store_ratelimit_put(st, j->m.name, canon, false, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else if (canon) {
        j->wrote = true;
        reply_row(j, st, j->m.name, 200);
    }
    json_decref(canon);
    json_decref(body);
}

void gw_admin__w_limit_patch(struct admin_job *j, struct gw_store *st)
{
    json_t *changes = gw_admin__body_json(j, true, "a JSON object of rule members to change");
    if (!changes)
        return;
    json_t *row = NULL;
    struct gw_error err = {0};
    if (refuse_foreign(j, j->m.name)) {
        json_decref(changes);
        return;
    }
    if (gw_store_ratelimit_get(st, j->m.name, &row, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        json_decref(changes);
        return;
    }
    json_t *rule = json_deep_copy(json_object_get(row, "rule"));
    json_decref(row);
    if (!json_is_object(rule)) {
        json_decref(rule);
        rule = json_object();
    }
    json_object_update(rule, changes);
    /* a rate replaces limit + period (and the other way round) */
    if (json_object_get(changes, "rate")) {
        json_object_del(rule, "limit");
        json_object_del(rule, "period");
    } else if (json_object_get(changes, "limit") || json_object_get(changes, "period")) {
        json_object_del(rule, "rate");
    }
    json_t *canon = validate(j, rule, j->m.name);
    if (canon && gw_store_ratelimit_put(st, j->m.name, canon, false, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else if (canon) {
        j->wrote = true;
        reply_row(j, st, j->m.name, 200);
    }
    json_decref(canon);
    json_decref(rule);
    json_decref(changes);
}

void gw_admin__w_limit_delete(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    if (refuse_foreign(j, j->m.name))
        return;
    if (gw_store_ratelimit_delete(st, j->m.name, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    gw_admin__ok(j, 200, json_pack("{s:s,s:b}", "id", j->m.name, "deleted", 1));
}
