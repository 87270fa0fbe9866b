/*
 * src/admin/admin_tools.c
 * Endpoint work for the registry's records: health, tools (list, get, patch, status actions,
 * delete, history), bundles (list, create, get, patch, delete) and specs (list, get, delete).
 * Each function runs on a pool thread with that thread's store handle (see admin_api.c) and
 * is a thin translation between the store API and JSON replies.
 * Paging: tools page in the store (keyset by name); bundles and specs are few (the store
 * returns at most GW_STORE_PAGE_MAX) and are paged here by name/id; history pages by offset
 * over the newest ADMIN_HISTORY_MAX rows.
 * Not here: validation of paths and query parameters (admin_route.c, admin_api.c); the import
 * flow (admin_import.c).
 */
#include "admin/admin_internal.h"

#include "core/json.h"
#include "store/store_alias.h"
#include "store/store_bundle.h"
#include "store/store_spec.h"
#include "store/store_tool.h"

#include <stdio.h>
#include <string.h>

/* Pages a name-ordered array in memory: items whose `key` sorts after `after`, at most
 * `limit`. Returns {"items":[...],"next":<key of the last item when more follow, else null>}.
 * `all` is borrowed. */
static json_t *page_by_key(json_t *all, const char *key, const char *after, size_t limit)
{
    json_t *items = json_array();
    json_t *next = json_null();
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        const char *k = gw_json_str(v, key);
        if (!k || (after && strcmp(k, after) <= 0))
            continue;
        if (json_array_size(items) == limit) {
            json_decref(next);
            next = json_string(gw_json_str(json_array_get(items, limit - 1), key));
            break;
        }
        json_array_append(items, v);
    }
    return json_pack("{s:o,s:o}", "items", items, "next", next);
}

/* ---- health ---- */

/* GET /health: the store answers and reports its schema version -> 200; 503 when the
 * database cannot be reached (the handle is reopened for the next job). */
void gw_admin__w_health(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    int version = 0;
    if (gw_store_schema_version(st, &version, &err) != GW_OK) {
        j->drop_store = true;
        gw_admin__fail(j, 503, "unavailable", "database: %s", err.msg);
        return;
    }
    gw_admin__ok(j, 200,
                 json_pack("{s:s,s:s,s:i,s:i}", "status", "ok", "store",
                           gw_store_backend_name(st), "schemaVersion", version,
                           "latestSchemaVersion", gw_store_latest_version(st)));
}

/* ---- tools ---- */

/* GET /tools?status=&bundle=&spec=&limit=&after=: one keyset page from the store, with the
 * total number of matches; `next` is the last name of the page when more follow. */
void gw_admin__w_tools_list(struct admin_job *j, struct gw_store *st)
{
    struct gw_store_tool_query tq = {j->q.status, j->q.bundle, j->q.spec, j->q.after,
                                     j->q.limit};
    json_t *items = NULL;
    char next[GW_STORE_NAME_MAX + 1] = "";
    long long total = 0;
    struct gw_error err = {0};
    if (gw_store_tool_list(st, &tq, &items, next, &total, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200,
                 json_pack("{s:o,s:o,s:I}", "items", items, "next",
                           next[0] ? json_string(next) : json_null(), "total",
                           (json_int_t)total));
}

/* GET /tools/{name}: the definition with ETag "<version>" (the If-Match value of a PATCH). */
void gw_admin__w_tool_get(struct admin_job *j, struct gw_store *st)
{
    json_t *def = NULL;
    struct gw_error err = {0};
    if (gw_store_tool_get(st, j->m.name, &def, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__set_etag(j, def);
    gw_admin__ok(j, 200, def);
}

/* PATCH /tools/{name}: top-level replacement of fields (null removes), validated by the store
 * like a new definition; If-Match makes it conditional (409 on another version). An empty
 * object is refused rather than silently written as a no-op. */
void gw_admin__w_tool_patch(struct admin_job *j, struct gw_store *st)
{
    json_t *changes = gw_admin__body_json(j, true, "a JSON object of the fields to change");
    if (!changes)
        return;
    struct gw_error err = {0};
    json_t *def = NULL;
    if (json_object_size(changes) == 0) {
        gw_admin__fail(j, 400, "invalid", "no changes: the body is an empty object");
    } else if (gw_store_tool_update(st, j->m.name, changes, j->if_version, &j->who, &def,
                                    &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else {
        j->wrote = true;
        gw_admin__set_etag(j, def);
        gw_admin__ok(j, 200, def);
    }
    json_decref(changes);
}

/* POST /tools/{name}/activate|disable|deprecate|draft: sets the status, then answers with the
 * definition as stored (its new version and ETag). */
void gw_admin__w_tool_action(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    json_t *def = NULL;
    if (gw_store_tool_set_status(st, j->m.name, j->m.status, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    if (gw_store_tool_get(st, j->m.name, &def, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__set_etag(j, def);
    gw_admin__ok(j, 200, def);
}

/* POST /tools/{name}/rename {"to": name, "aliasDays"?: 1..3650}: renames the tool; its old
 * name stays an alias (tools/call still reaches it) for aliasDays (default GW_TOOL_ALIAS_DAYS),
 * so no agent relying on it breaks silently (store_alias.h). 409 when the name is taken. */
void gw_admin__w_tool_rename(struct admin_job *j, struct gw_store *st)
{
    json_t *b = gw_admin__body_json(j, true, "{\"to\": new name, \"aliasDays\"?: days}");
    if (!b)
        return;
    struct gw_error err = {0};
    json_t *def = NULL;
    const char *to = gw_json_str(b, "to");
    json_t *days = json_object_get(b, "aliasDays");
    if (!to) {
        gw_admin__fail(j, 400, "invalid", "\"to\" (the new name) is required");
    } else if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
                        json_integer_value(days) > GW_STORE_ALIAS_DAYS_MAX)) {
        gw_admin__fail(j, 400, "invalid", "\"aliasDays\" must be 1-%d", GW_STORE_ALIAS_DAYS_MAX);
    } else if (gw_store_tool_rename(st, j->m.name, to,
                                    days ? (int)json_integer_value(days)
                                         : j->adm->oo.alias_days,
                                    &j->who, &def, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else {
        j->wrote = true;
        gw_admin__set_etag(j, def);
        gw_admin__ok(j, 200, def);
    }
    json_decref(b);
}

/* DELETE /tools/{name}: removes the tool; its history stays (plus a "delete" row). */
void gw_admin__w_tool_delete(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    if (gw_store_tool_delete(st, j->m.name, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    gw_admin__ok(j, 200, json_pack("{s:s}", "deleted", j->m.name));
}

/* GET /tools/{name}/history?limit=&after=: newest first, paged by offset (the store returns a
 * prefix of the history, so one row more than the page tells whether a next page exists). */
void gw_admin__w_tool_history(struct admin_job *j, struct gw_store *st)
{
    size_t want = j->q.offset + j->q.limit + 1; /* one more than the page: is there a next? */
    if (want > ADMIN_HISTORY_MAX)
        want = ADMIN_HISTORY_MAX;
    json_t *rows = NULL;
    struct gw_error err = {0};
    if (gw_store_tool_history(st, j->m.name, want, &rows, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    if (json_array_size(rows) == 0) {
        /* nothing recorded: an unknown name is a 404, a known tool simply has no history */
        json_t *def = NULL;
        int rc = gw_store_tool_get(st, j->m.name, &def, &err);
        json_decref(def);
        if (rc != GW_OK) {
            json_decref(rows);
            gw_admin__fail_err(j, &err);
            return;
        }
    }
    json_t *items = json_array();
    size_t n = json_array_size(rows);
    for (size_t i = j->q.offset; i < n && json_array_size(items) < j->q.limit; i++)
        json_array_append(items, json_array_get(rows, i));
    size_t end = j->q.offset + json_array_size(items);
    json_t *next = end < n && end < ADMIN_HISTORY_MAX ? json_sprintf("%zu", end) : json_null();
    json_decref(rows);
    gw_admin__ok(j, 200, json_pack("{s:o,s:o}", "items", items, "next", next));
}

/* ---- bundles ---- */

/* GET /bundles?limit=&after=: paged here by name over the store's full list. */
void gw_admin__w_bundles_list(struct admin_job *j, struct gw_store *st)
{
    json_t *all = NULL;
    struct gw_error err = {0};
    if (gw_store_bundle_list(st, &all, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, page_by_key(all, "name", j->q.after, j->q.limit));
    json_decref(all);
}

/* POST /bundles: 201 with Location. The name is checked here too, because it goes into the
 * Location header. */
void gw_admin__w_bundle_create(struct admin_job *j, struct gw_store *st)
{
    json_t *b = gw_admin__body_json(j, true,
                                    "a JSON object {\"name\", \"title\"?, \"description\"?, "
                                    "\"status\"?}");
    if (!b)
        return;
    struct gw_error err = {0};
    json_t *out = NULL;
    const char *name = gw_json_str(b, "name");
    if (!name || !gw_admin__valid_name(name)) {
        gw_admin__fail(j, 400, "invalid",
                       "bundle \"name\" must be 1-%d characters of A-Z a-z 0-9 _ . -",
                       GW_STORE_NAME_MAX);
    } else if (gw_store_bundle_create(st, b, &j->who, &out, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else {
        j->wrote = true;
        snprintf(j->location, sizeof(j->location), "/admin/api/bundles/%s", name);
        gw_admin__ok(j, 201, out);
    }
    json_decref(b);
}

/* GET /bundles/{name}. */
void gw_admin__w_bundle_get(struct admin_job *j, struct gw_store *st)
{
    json_t *b = NULL;
    struct gw_error err = {0};
    if (gw_store_bundle_get(st, j->m.name, &b, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, b);
}

/* PATCH /bundles/{name}: title, description and/or status (the store refuses other keys). */
void gw_admin__w_bundle_patch(struct admin_job *j, struct gw_store *st)
{
    json_t *changes = gw_admin__body_json(j, true,
                                          "a JSON object with \"title\", \"description\" "
                                          "and/or \"status\"");
    if (!changes)
        return;
    struct gw_error err = {0};
    json_t *out = NULL;
    if (json_object_size(changes) == 0) {
        gw_admin__fail(j, 400, "invalid", "no changes: the body is an empty object");
    } else if (gw_store_bundle_update(st, j->m.name, changes, &j->who, &out, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else {
        j->wrote = true;
        gw_admin__ok(j, 200, out);
    }
    json_decref(changes);
}

/* DELETE /bundles/{name}[?detachTools=true]: 409 while tools belong to it, with the way out
 * in the message. */
void gw_admin__w_bundle_delete(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    if (gw_store_bundle_delete(st, j->m.name, j->q.detach_tools, &j->who, &err) != GW_OK) {
        if (err.code == GW_ECONFLICT)
            gw_admin__fail(j, 409, "conflict",
                           "%s (delete with ?detachTools=true to detach its tools first)",
                           err.msg);
        else
            gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    gw_admin__ok(j, 200, json_pack("{s:s}", "deleted", j->m.name));
}

/* ---- specs ---- */

/* GET /specs?limit=&after=: paged here by id; never includes the documents. */
void gw_admin__w_specs_list(struct admin_job *j, struct gw_store *st)
{
    json_t *all = NULL;
    struct gw_error err = {0};
    if (gw_store_spec_list(st, &all, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, page_by_key(all, "id", j->q.after, j->q.limit));
    json_decref(all);
}

/* GET /specs/{id}[?content=true]: the record, with the stored document when asked. */
void gw_admin__w_spec_get(struct admin_job *j, struct gw_store *st)
{
    json_t *s = NULL;
    struct gw_error err = {0};
    if (gw_store_spec_get(st, j->m.name, j->q.content, &s, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, s);
}

/* DELETE /specs/{id}[?removeTools=true]: deprecates (default) or deletes its tools in the same
 * transaction. */
void gw_admin__w_spec_delete(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    enum gw_store_spec_delete_mode mode =
        j->q.remove_tools ? GW_STORE_SPEC_REMOVE_TOOLS : GW_STORE_SPEC_DEPRECATE_TOOLS;
    if (gw_store_spec_delete(st, j->m.name, mode, &j->who, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    gw_admin__ok(j, 200,
                 json_pack("{s:s,s:s}", "deleted", j->m.name, "tools",
                           j->q.remove_tools ? "removed" : "deprecated"));
}
