/*
 * src/store/store_tool.c
 * Tools in the store: validation and defaults of the definition (docs/tool-model.md), CRUD,
 * status changes, history and the servable scan behind the registry snapshot.
 *
 * Invariants: the `definition` column holds a normalised definition (defaults filled,
 * "version" equal to the version column, no createdAt/updatedAt/updatedBy); the indexed
 * columns (name, bundle, status, risk, spec_id, op_key, operation_id) are always copies of
 * its fields (written only by gw_store__tool_save); every version bump writes exactly one
 * tool_history row with the definition before it. Every write runs in one write transaction
 * (store_impl.h protocol), so a failure leaves nothing behind.
 * Not here: import diffs (store_import.c), bundles (store_bundle.c).
 */
#include "store/store_tool.h"
#include "store/store_impl.h"

#include "core/alloc.h"
#include "schema/schema_headers.h"

#include <stdio.h>
#include <string.h>

/* Hand-written tools may carry long descriptions; the importer trims its own to 1 KiB. */
#define DESCRIPTION_MAX (64u * 1024u)
#define TAGS_MAX 256    /* spec tags are copied verbatim by the importer: be generous */
#define TAG_LEN_MAX 256

static const char *const managed_keys[] = {"version", "createdAt", "updatedAt", "updatedBy",
                                           "aliases", NULL};
static const char *const statuses[] = {"draft", "active", "deprecated", "disabled", NULL};
static const char *const risks[] = {"read", "write", "privileged", NULL};
static const char *const tiers[] = {"permissive", "standard", "strict", NULL};
static const char *const dialects[] = {"2020-12", "draft-07", "openapi-3.0", NULL};
static const char *const methods[] = {"GET",  "PUT",     "POST",  "DELETE", "PATCH",
                                      "HEAD", "OPTIONS", "TRACE", NULL};

/* True when v is one of the NULL-terminated set. */
static bool in_set(const char *v, const char *const *set)
{
    for (; v && *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* Fields owned by the store: ignored on write, added on read. */
static bool is_managed(const char *key)
{
    return in_set(key, managed_keys);
}

/* An optional enum field: absent/null → default (NULL keeps it absent). */
static int enum_field(json_t *d, const char *key, const char *const *set, const char *def,
                      const char *tool, struct gw_error *err)
{
    json_t *v = json_object_get(d, key);
    if (!v || json_is_null(v)) {
        if (def)
            json_object_set_new(d, key, json_string(def));
        else
            json_object_del(d, key);
        return GW_OK;
    }
    if (!json_is_string(v) || !in_set(json_string_value(v), set))
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: invalid \"%s\"", tool, key);
    return GW_OK;
}

/* An optional boolean: absent/null → the computed default. */
static int bool_field(json_t *d, const char *key, bool def, const char *tool,
                      struct gw_error *err)
{
    json_t *v = json_object_get(d, key);
    if (!v || json_is_null(v)) {
        json_object_set_new(d, key, json_boolean(def));
        return GW_OK;
    }
    if (!json_is_boolean(v))
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: \"%s\" must be true or false", tool, key);
    return GW_OK;
}

/* An optional object field: null removes it. */
static int object_field(json_t *d, const char *key, const char *tool, struct gw_error *err)
{
    json_t *v = json_object_get(d, key);
    if (v && json_is_null(v))
        json_object_del(d, key);
    else if (v && !json_is_object(v))
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: \"%s\" must be an object", tool, key);
    return GW_OK;
}

/* An optional bounded string: null removes it. */
static int text_field(json_t *d, const char *key, size_t max, const char *tool,
                      struct gw_error *err)
{
    json_t *v = json_object_get(d, key);
    if (v && json_is_null(v)) {
        json_object_del(d, key);
        return GW_OK;
    }
    if (v && !json_is_string(v))
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: \"%s\" must be a string", tool, key);
    if (v && json_string_length(v) > max)
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: \"%s\" longer than %zu bytes", tool, key,
                            max);
    return GW_OK;
}

/* The binding is optional (hand-made tools may have none yet), but when present its method and
 * path must be usable by the executor; *out_method feeds the governance defaults. */
static int check_binding(json_t *d, const char *tool, const char **out_method,
                         struct gw_error *err)
{
    json_t *b = json_object_get(d, "binding");
    *out_method = NULL;
    if (!b)
        return GW_OK;
    const char *m = gw_json_str(b, "method");
    const char *p = gw_json_str(b, "path");
    if (!in_set(m, methods))
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: binding.method must be one of GET PUT "
                                            "POST DELETE PATCH HEAD OPTIONS TRACE", tool);
    if (!p || p[0] != '/' || strlen(p) > GW_STORE_TEXT_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: binding.path must start with '/'", tool);
    *out_method = m;
    return GW_OK;
}

/* source.* are strings (provenance of imported tools); specId is a spec id. */
static int check_source(json_t *d, const char *tool, struct gw_error *err)
{
    json_t *s = json_object_get(d, "source");
    if (!s)
        return GW_OK;
    static const char *const keys[] = {"specId", "operationId", "method", "path", "specVersion",
                                       NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(s, *k);
        if (v && !json_is_null(v) &&
            (!json_is_string(v) || json_string_length(v) > GW_STORE_TEXT_MAX))
            return GW_ERROR_SET(err, GW_EINVAL, "tool %s: source.%s must be a string", tool, *k);
    }
    const char *spec = gw_json_str(s, "specId");
    if (spec && !gw_store__valid_name(spec, true))
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: invalid source.specId", tool);
    return GW_OK;
}

/* tags: absent/null → []; otherwise at most TAGS_MAX non-empty short strings. */
static int check_tags(json_t *d, const char *tool, struct gw_error *err)
{
    json_t *t = json_object_get(d, "tags");
    if (!t || json_is_null(t)) {
        json_object_set_new(d, "tags", json_array());
        return GW_OK;
    }
    if (!json_is_array(t) || json_array_size(t) > TAGS_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: \"tags\" must be an array of at most %d "
                                            "strings", tool, TAGS_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(t, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) > TAG_LEN_MAX)
            return GW_ERROR_SET(err, GW_EINVAL, "tool %s: tags must be strings of at most %d "
                                                "bytes", tool, TAG_LEN_MAX);
    }
    return GW_OK;
}

/* Validates `d` in place and fills the governance defaults of docs/tool-model.md. Every field
 * the store relies on is checked here, so stored definitions are always well-formed. */
static int normalize_into(json_t *d, struct gw_error *err)
{
    for (const char *const *k = managed_keys; *k; k++)
        json_object_del(d, *k);
    const char *name = gw_json_str(d, "name");
    if (!gw_store__valid_name(name, false))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "tool name must be 1-%d characters of [A-Za-z0-9_-]",
                            GW_STORE_NAME_MAX);
    int rc = text_field(d, "title", GW_STORE_TEXT_MAX, name, err);
    if (rc == GW_OK)
        rc = text_field(d, "description", DESCRIPTION_MAX, name, err);
    if (rc != GW_OK)
        return rc;
    json_t *in = json_object_get(d, "inputSchema");
    if (!json_is_object(in) || !json_is_string(json_object_get(in, "type")) ||
        strcmp(gw_json_str(in, "type"), "object") != 0)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "tool %s: inputSchema must be an object schema ({\"type\":\"object\"})",
                            name);
    struct gw_schema_header hd[GW_SCHEMA_HEADERS_MAX];
    size_t nh = 0;
    struct gw_error herr;
    gw_error_clear(&herr);
    if (gw_schema_headers_scan(in, hd, &nh, &herr) != GW_OK)
        return GW_ERROR_SET(err, GW_EINVAL, "tool %s: inputSchema: %s", name, herr.msg);
    rc = object_field(d, "outputSchema", name, err);
    if (rc == GW_OK)
        rc = object_field(d, "annotations", name, err);
    if (rc == GW_OK)
        rc = object_field(d, "binding", name, err);
    if (rc == GW_OK)
        rc = object_field(d, "source", name, err);
    if (rc == GW_OK)
        rc = enum_field(d, "schemaDialect", dialects, NULL, name, err);
    const char *method = NULL;
    if (rc == GW_OK)
        rc = check_binding(d, name, &method, err);
    if (rc == GW_OK)
        rc = check_source(d, name, err);
    if (rc != GW_OK)
        return rc;
    const char *risk_def = "write";
    if (method && (!strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS")))
        risk_def = "read";
    else if (method && !strcmp(method, "DELETE"))
        risk_def = "privileged";
    rc = enum_field(d, "risk", risks, risk_def, name, err);
    if (rc == GW_OK)
        rc = bool_field(d, "requiresElevation",
                        strcmp(gw_json_str(d, "risk"), "privileged") == 0, name, err);
    if (rc == GW_OK)
        rc = bool_field(d, "requiresConfirmation", method && !strcmp(method, "DELETE"), name,
                        err);
    if (rc == GW_OK)
        rc = enum_field(d, "rateLimitTier", tiers, "standard", name, err);
    if (rc == GW_OK)
        rc = enum_field(d, "status", statuses, "draft", name, err);
    if (rc == GW_OK)
        rc = check_tags(d, name, err);
    if (rc != GW_OK)
        return rc;
    json_t *bundle = json_object_get(d, "bundle");
    if (!bundle)
        json_object_set_new(d, "bundle", json_null());
    else if (!json_is_null(bundle) &&
             (!json_is_string(bundle) || !gw_store__valid_name(json_string_value(bundle), true)))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "tool %s: bundle must be null or a name of [A-Za-z0-9_.-]", name);
    return GW_OK;
}

int gw_store_tool_normalize(const json_t *def, json_t **out_def, struct gw_error *err)
{
    *out_def = NULL;
    if (!json_is_object(def))
        return GW_ERROR_SET(err, GW_EINVAL, "a tool definition must be a JSON object");
    json_t *d = json_copy((json_t *)def);
    if (!d)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory copying a definition");
    int rc = normalize_into(d, err);
    if (rc != GW_OK) {
        json_decref(d);
        return rc;
    }
    *out_def = d;
    return GW_OK;
}

/* ---- rows ----------------------------------------------------------------------------- */

/* Columns read for a tool; row_def and tool_row rely on this order. */
#define TOOL_COLS "id, version, definition, created_at, updated_at, updated_by"

/* Row sink: either appends definitions to `items` (lists) or fills one record (`rec`). */
struct tool_rows {
    json_t *items;   /* array collecting read definitions (list) */
    struct gw_store_tool_rec *rec; /* or one record (load) */
    bool with_meta;
    int rc;
    struct gw_error *err;
};

/* Builds the definition of a row: the stored JSON with version and, when asked, the
 * store-managed timestamps. */
static json_t *row_def(const struct store_row *row, bool with_meta, struct gw_error *err)
{
    if (row->n < 6 || !row->v[2]) {
        GW_ERROR_SET(err, GW_ERR, "tool row without definition");
        return NULL;
    }
    json_t *d = gw_store__parse(row->v[2], row->len[2], err);
    if (!d)
        return NULL;
    json_object_set_new(d, "version", json_integer(gw_store__int(row->v[1])));
    if (with_meta) {
        json_object_set_new(d, "createdAt", json_string(row->v[3] ? row->v[3] : ""));
        json_object_set_new(d, "updatedAt", json_string(row->v[4] ? row->v[4] : ""));
        json_object_set_new(d, "updatedBy", json_string(row->v[5] ? row->v[5] : ""));
    }
    return d;
}

/* Row callback of TOOL_COLS queries (see struct tool_rows). */
static int tool_row(void *ctx, const struct store_row *row)
{
    struct tool_rows *tr = ctx;
    json_t *d = row_def(row, tr->with_meta, tr->err);
    if (!d)
        return tr->err ? tr->err->code : GW_ERR;
    if (tr->rec) {
        tr->rec->id = gw_store__int(row->v[0]);
        tr->rec->version = gw_store__int(row->v[1]);
        json_decref(tr->rec->def);
        tr->rec->def = d;
        return GW_OK;
    }
    json_array_append_new(tr->items, d);
    return GW_OK;
}

int gw_store__tool_load(struct gw_store *st, const char *name, struct gw_store_tool_rec *out,
                        struct gw_error *err)
{
    memset(out, 0, sizeof(*out));
    struct tool_rows tr = {NULL, out, false, GW_OK, err};
    struct store_param p[] = {SP_TEXT(name)};
    int rc = gw_store__exec(st, "SELECT " TOOL_COLS " FROM tools WHERE name = $1", p, 1,
                            tool_row, &tr, NULL, err);
    if (rc == GW_OK && !out->def)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "tool %s not found", name);
    if (rc != GW_OK)
        gw_store__tool_rec_fini(out);
    return rc;
}

void gw_store__tool_rec_fini(struct gw_store_tool_rec *r)
{
    json_decref(r->def);
    r->def = NULL;
}

int gw_store__tool_save(struct gw_store *st, long long id, json_t *def, long long version,
                        const char *action, const json_t *previous,
                        const struct gw_store_actor *who, const char *now, long long *out_id,
                        struct gw_error *err)
{
    return gw_store__tool_save_text(st, id, def, NULL, version, action, previous, who, now,
                                    out_id, err);
}

int gw_store__tool_save_text(struct gw_store *st, long long id, json_t *def, const char *pre,
                             long long version, const char *action, const json_t *previous,
                             const struct gw_store_actor *who, const char *now,
                             long long *out_id, struct gw_error *err)
{
    char *text = NULL; /* serialised here when not given */
    char op_key[GW_STORE_TEXT_MAX + 24];
    const char *name = gw_json_str(def, "name");
    const char *bundle = gw_json_str(def, "bundle");
    const json_t *src = json_object_get(def, "source");
    long long new_id = id;
    json_object_set_new(def, "version", json_integer(version));
    gw_store__op_key(def, op_key, sizeof(op_key));
    int rc = GW_OK;
    if (pre && strlen(pre) > GW_STORE_DEF_MAX)
        rc = GW_ELIMIT;
    else if (!pre)
        rc = gw_store__dump(def, GW_STORE_DEF_MAX, &text, err);
    if (rc == GW_ELIMIT)
        rc = GW_ERROR_SET(err, GW_ELIMIT, "tool %s: definition larger than %u bytes", name,
                          GW_STORE_DEF_MAX);
    if (rc == GW_OK && bundle)
        rc = gw_store__bundle_ensure(st, bundle, now, err);
    if (rc != GW_OK)
        goto out;
    struct store_param p[] = {SP_TEXT(name),
                              SP_TEXT(bundle),
                              SP_TEXT(gw_json_str(def, "status")),
                              SP_TEXT(gw_json_str(def, "risk")),
                              SP_TEXT(gw_json_str(src, "specId")),
                              SP_TEXT(op_key[0] ? op_key : NULL),
                              SP_TEXT(gw_json_str(src, "operationId")),
                              SP_INT(version),
                              SP_TEXT(pre ? pre : text),
                              SP_TEXT(now),
                              SP_TEXT(gw_store__who(who)),
                              SP_INT(id)};
    if (id == 0) {
        rc = gw_store__insert(st,
                              "INSERT INTO tools (name, bundle, status, risk, spec_id, op_key, "
                              "operation_id, version, definition, created_at, updated_at, "
                              "updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, "
                              "$11)",
                              p, 11, &new_id, err);
    } else {
        long long changes = 0;
        rc = gw_store__exec(st,
                            "UPDATE tools SET name = $1, bundle = $2, status = $3, risk = $4, "
                            "spec_id = $5, op_key = $6, operation_id = $7, version = $8, "
                            "definition = $9, updated_at = $10, updated_by = $11 WHERE id = $12",
                            p, 12, NULL, NULL, &changes, err);
        if (rc == GW_OK && changes != 1)
            rc = GW_ERROR_SET(err, GW_ENOTFOUND, "tool %s vanished", name);
    }
    if (rc == GW_ECONFLICT)
        rc = GW_ERROR_SET(err, GW_ECONFLICT, "a tool named %s already exists", name);
    if (rc == GW_OK)
        rc = gw_store__history(st, new_id, name, version, action, previous, who, now, err);
    if (rc == GW_OK && out_id)
        *out_id = new_id;
out:
    gw_free(text);
    return rc;
}

/* Adds the store-managed read-only fields to a definition handed to a caller. */
static void add_meta(json_t *d, const char *created, const char *updated, const char *by)
{
    json_object_set_new(d, "createdAt", json_string(created));
    json_object_set_new(d, "updatedAt", json_string(updated));
    json_object_set_new(d, "updatedBy", json_string(by));
}

/* ---- public operations --------------------------------------------------------------- */

int gw_store_tool_create(struct gw_store *st, const json_t *def, const struct gw_store_actor *who,
                         json_t **out_def, struct gw_error *err)
{
    json_t *d = NULL;
    char now[32];
    if (out_def)
        *out_def = NULL;
    int rc = gw_store_tool_normalize(def, &d, err);
    if (rc != GW_OK)
        return rc;
    gw_store__now(now, sizeof(now));
    rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        goto out;
    rc = gw_store__tool_save(st, 0, d, 1, "create", NULL, who, now, NULL, err);
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    if (rc == GW_OK && out_def) {
        add_meta(d, now, now, gw_store__who(who));
        *out_def = d;
        d = NULL;
    }
out:
    json_decref(d);
    return rc;
}

int gw_store_tool_get(struct gw_store *st, const char *name, json_t **out_def,
                      struct gw_error *err)
{
    json_t *items = json_array();
    struct tool_rows tr = {items, NULL, true, GW_OK, err};
    struct store_param p[] = {SP_TEXT(name)};
    *out_def = NULL;
    int rc = gw_store__exec(st, "SELECT " TOOL_COLS " FROM tools WHERE name = $1", p, 1,
                            tool_row, &tr, NULL, err);
    if (rc == GW_OK && json_array_size(items) == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "tool %s not found", name ? name : "");
    if (rc == GW_OK)
        *out_def = json_incref(json_array_get(items, 0));
    json_decref(items);
    return rc;
}

/* Appends " AND <col> = $n" for a set filter. */
static void add_filter(struct gw_buf *sql, struct store_param *p, int *np, const char *col,
                       const char *op, const char *val)
{
    if (!val)
        return;
    p[*np] = SP_TEXT(val);
    (*np)++;
    gw_buf_printf(sql, " AND %s %s $%d", col, op, *np);
}

int gw_store_tool_list(struct gw_store *st, const struct gw_store_tool_query *q,
                       json_t **out_items, char *out_next, long long *out_total,
                       struct gw_error *err)
{
    struct gw_store_tool_query none = {0};
    struct gw_buf sql;
    char after[GW_STORE_NAME_MAX + 1] = "";
    json_t *items = NULL;
    int rc = GW_OK;
    *out_items = NULL;
    if (!q)
        q = &none;
    /* copied first: callers may pass the previous out_next as q->after */
    if (q->after && strlen(q->after) > GW_STORE_NAME_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "invalid tool list cursor");
    snprintf(after, sizeof(after), "%s", q->after ? q->after : "");
    if (out_next)
        out_next[0] = '\0';
    size_t limit = q->limit ? q->limit : 100;
    if (limit > GW_STORE_PAGE_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "page size above %d", GW_STORE_PAGE_MAX);
    if ((q->status && !in_set(q->status, statuses)) ||
        (q->bundle && !gw_store__valid_name(q->bundle, true)) ||
        (q->spec_id && !gw_store__valid_name(q->spec_id, true)) ||
        (after[0] && !gw_store__valid_name(after, false)))
        return GW_ERROR_SET(err, GW_EINVAL, "invalid tool list filter");
    items = json_array();
    gw_buf_init(&sql, 1024);
    struct store_param p[8];
    int np = 0;
    gw_buf_adds(&sql, "SELECT count(*) FROM tools WHERE 1 = 1");
    add_filter(&sql, p, &np, "status", "=", q->status);
    add_filter(&sql, p, &np, "bundle", "=", q->bundle);
    add_filter(&sql, p, &np, "spec_id", "=", q->spec_id);
    rc = gw_store__begin_read(st, err);
    if (rc != GW_OK)
        goto out;
    long long total = 0;
    rc = gw_store__query_int(st, gw_buf_ptr(&sql), p, np, &total, err);
    if (rc == GW_OK) {
        gw_buf_reset(&sql);
        np = 0;
        gw_buf_adds(&sql, "SELECT " TOOL_COLS " FROM tools WHERE 1 = 1");
        add_filter(&sql, p, &np, "status", "=", q->status);
        add_filter(&sql, p, &np, "bundle", "=", q->bundle);
        add_filter(&sql, p, &np, "spec_id", "=", q->spec_id);
        add_filter(&sql, p, &np, "name", ">", after[0] ? after : NULL);
        p[np++] = SP_INT((long long)limit + 1);
        gw_buf_printf(&sql, " ORDER BY name LIMIT $%d", np);
        struct tool_rows tr = {items, NULL, true, GW_OK, err};
        rc = gw_store__exec(st, gw_buf_ptr(&sql), p, np, tool_row, &tr, NULL, err);
    }
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    if (rc != GW_OK)
        goto out;
    if (json_array_size(items) > limit) {
        json_array_remove(items, limit);
        if (out_next)
            snprintf(out_next, GW_STORE_NAME_MAX + 1, "%s",
                     gw_json_str(json_array_get(items, limit - 1), "name"));
    }
    if (out_total)
        *out_total = total;
    *out_items = items;
    items = NULL;
out:
    json_decref(items);
    gw_buf_fini(&sql);
    return rc;
}

/* Applies `changes` to tool `name` as one new version (or nothing when equal). */
static int modify(struct gw_store *st, const char *name, const json_t *changes,
                  long long if_version, const char *action, const struct gw_store_actor *who,
                  json_t **out_def, struct gw_error *err)
{
    struct gw_store_tool_rec cur = {0};
    json_t *merged = NULL, *norm = NULL;
    char now[32];
    const char *key;
    json_t *val;
    if (out_def)
        *out_def = NULL;
    if (!json_is_object(changes))
        return GW_ERROR_SET(err, GW_EINVAL, "changes must be a JSON object");
    gw_store__now(now, sizeof(now));
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    rc = gw_store__tool_load(st, name, &cur, err);
    if (rc != GW_OK)
        goto fail;
    if (if_version > 0 && cur.version != if_version) {
        rc = GW_ERROR_SET(err, GW_ECONFLICT, "tool %s is at version %lld, not %lld", name,
                          cur.version, if_version);
        goto fail;
    }
    merged = json_copy(cur.def);
    json_object_foreach((json_t *)changes, key, val)
    {
        if (is_managed(key))
            continue;
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(val) || strcmp(json_string_value(val), name) != 0) {
                rc = GW_ERROR_SET(err, GW_EINVAL, "tool %s: names cannot be changed", name);
                goto fail;
            }
            continue;
        }
        if (json_is_null(val) && strcmp(key, "bundle") != 0)
            json_object_del(merged, key);
        else
            json_object_set(merged, key, val);
    }
    rc = gw_store_tool_normalize(merged, &norm, err);
    if (rc != GW_OK)
        goto fail;
    json_object_set_new(norm, "version", json_integer(cur.version));
    if (json_equal(norm, cur.def)) {
        gw_store__rollback(st); /* nothing changed: no version bump, no history */
        if (out_def) {
            rc = gw_store_tool_get(st, name, out_def, err);
        }
        goto out;
    }
    rc = gw_store__tool_save(st, cur.id, norm, cur.version + 1, action, cur.def, who, now, NULL,
                             err);
    if (rc != GW_OK)
        goto fail;
    rc = gw_store__commit(st, err);
    if (rc == GW_OK && out_def)
        rc = gw_store_tool_get(st, name, out_def, err);
    goto out;
fail:
    gw_store__rollback(st);
out:
    gw_store__tool_rec_fini(&cur);
    json_decref(merged);
    json_decref(norm);
    return rc;
}

int gw_store_tool_update(struct gw_store *st, const char *name, const json_t *changes,
                         long long if_version, const struct gw_store_actor *who,
                         json_t **out_def, struct gw_error *err)
{
    return modify(st, name, changes, if_version, "update", who, out_def, err);
}

int gw_store_tool_set_status(struct gw_store *st, const char *name, const char *status,
                             const struct gw_store_actor *who, struct gw_error *err)
{
    if (!in_set(status, statuses))
        return GW_ERROR_SET(err, GW_EINVAL, "status must be draft, active, deprecated or disabled");
    json_t *ch = json_pack("{s:s}", "status", status);
    int rc = modify(st, name, ch, 0, "status", who, NULL, err);
    json_decref(ch);
    return rc;
}

int gw_store_tool_delete(struct gw_store *st, const char *name, const struct gw_store_actor *who,
                         struct gw_error *err)
{
    struct gw_store_tool_rec cur = {0};
    char now[32];
    gw_store__now(now, sizeof(now));
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    rc = gw_store__tool_load(st, name, &cur, err);
    struct store_param p[] = {SP_INT(cur.id)};
    if (rc == GW_OK)
        rc = gw_store__exec(st, "DELETE FROM tools WHERE id = $1", p, 1, NULL, NULL, NULL, err);
    if (rc == GW_OK)
        rc = gw_store__history(st, cur.id, name, 0, "delete", cur.def, who, now, err);
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    gw_store__tool_rec_fini(&cur);
    return rc;
}

/* Row callback of the history query: one JSON object per change. */
static int history_row(void *ctx, const struct store_row *row)
{
    json_t *out = ctx;
    if (row->n < 6)
        return GW_ERR;
    json_t *prev = NULL;
    if (row->v[5]) {
        prev = gw_store__parse(row->v[5], row->len[5], NULL);
        if (!prev)
            return GW_ERR;
    }
    json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "version",
                                         (json_int_t)gw_store__int(row->v[0]), "action",
                                         row->v[1] ? row->v[1] : "", "actor",
                                         row->v[2] ? row->v[2] : "", "reason",
                                         row->v[3] ? row->v[3] : "", "changedAt",
                                         row->v[4] ? row->v[4] : "", "previous",
                                         prev ? prev : json_null()));
    return GW_OK;
}

int gw_store_tool_history(struct gw_store *st, const char *name, size_t limit, json_t **out,
                          struct gw_error *err)
{
    json_t *items = json_array();
    long long id = 0;
    *out = NULL;
    if (limit == 0)
        limit = 100;
    if (limit > GW_STORE_PAGE_MAX)
        limit = GW_STORE_PAGE_MAX;
    struct store_param pn[] = {SP_TEXT(name)};
    int rc = gw_store__query_int(st, "SELECT id FROM tools WHERE name = $1", pn, 1, &id, err);
    if (rc == GW_OK) {
        struct store_param p[] = {SP_INT(id), SP_INT((long long)limit)};
        rc = gw_store__exec(st,
                            "SELECT version, action, actor, reason, changed_at, previous FROM "
                            "tool_history WHERE tool_id = $1 ORDER BY id DESC LIMIT $2",
                            p, 2, history_row, items, NULL, err);
    } else if (rc == GW_ENOTFOUND) {
        struct store_param p[] = {SP_TEXT(name), SP_INT((long long)limit)};
        rc = gw_store__exec(st,
                            "SELECT version, action, actor, reason, changed_at, previous FROM "
                            "tool_history WHERE tool_name = $1 ORDER BY id DESC LIMIT $2",
                            p, 2, history_row, items, NULL, err);
    }
    if (rc == GW_ERR)
        rc = GW_ERROR_SET(err, GW_ERR, "unreadable history of tool %s", name);
    if (rc != GW_OK) {
        json_decref(items);
        return rc;
    }
    *out = items;
    return GW_OK;
}

/* Adapts store rows to the caller's definition callback during a scan. */
struct scan_ctx {
    gw_store_tool_fn cb;
    void *ctx;
    struct gw_error *err;
    json_t *aliases; /* tool name -> [{"name","until"}] */
};

static int scan_row(void *ctx, const struct store_row *row)
{
    struct scan_ctx *sc = ctx;
    json_t *d = row_def(row, true, sc->err);
    if (!d)
        return sc->err ? sc->err->code : GW_ERR;
    json_t *al = json_object_get(sc->aliases, gw_json_str(d, "name"));
    if (al) /* the old names of a renamed tool (store_alias.h), for the snapshot */
        json_object_set(d, "aliases", al);
    int rc = sc->cb(sc->ctx, d);
    json_decref(d);
    return rc;
}

int gw_store_tool_scan_servable(struct gw_store *st, gw_store_tool_fn cb, void *ctx,
                                long long *out_version, struct gw_error *err)
{
    struct scan_ctx sc = {cb, ctx, err, NULL};
    int rc = gw_store__begin_read(st, err);
    if (rc != GW_OK)
        return rc;
    rc = gw_store_registry_version(st, out_version, err);
    if (rc == GW_OK)
        rc = gw_store__aliases_by_tool(st, &sc.aliases, err);
    if (rc == GW_OK)
        rc = gw_store__exec(st,
                            "SELECT t.id, t.version, t.definition, t.created_at, t.updated_at, "
                            "t.updated_by FROM tools t LEFT JOIN bundles b ON b.name = t.bundle "
                            "WHERE t.status = 'active' AND (t.bundle IS NULL OR b.status = "
                            "'active') ORDER BY t.name",
                            NULL, 0, scan_row, &sc, NULL, err);
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    json_decref(sc.aliases);
    return rc;
}
