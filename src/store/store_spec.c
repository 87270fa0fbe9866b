/*
 * src/store/store_spec.c
 * Imported specs: list, read (optionally with the raw document) and delete.
 *
 * Deleting a spec never silently drops tools: by default its tools stay with status
 * "deprecated" (a re-import under the same id revives them, see store_import.h); with
 * GW_STORE_SPEC_REMOVE_TOOLS they are deleted, each leaving a history row.
 * Specs are written by store_import.c only.
 */
#include "store/store_spec.h"
#include "store/store_impl.h"

#include "core/alloc.h"

#include <string.h>

/* Columns of a spec without its (possibly large) content. */
#define SPEC_COLS                                                                              \
    "id, title, version, source_url, file_name, content_hash, imported_at, imported_by, "     \
    "tool_count"

/* Row sink for spec queries. */
struct spec_rows {
    json_t *arr;
    bool with_content;
};

/* JSON string, or null for SQL NULL. */
static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Row callback of SPEC_COLS queries (plus content when asked). */
static int spec_row(void *ctx, const struct store_row *row)
{
    struct spec_rows *sr = ctx;
    if (row->n < 9 + (sr->with_content ? 1 : 0))
        return GW_ERR;
    json_t *o = json_object();
    json_object_set_new(o, "id", str_or_null(row->v[0]));
    json_object_set_new(o, "title", str_or_null(row->v[1]));
    json_object_set_new(o, "version", str_or_null(row->v[2]));
    json_object_set_new(o, "sourceUrl", str_or_null(row->v[3]));
    json_object_set_new(o, "fileName", str_or_null(row->v[4]));
    json_object_set_new(o, "contentHash", str_or_null(row->v[5]));
    json_object_set_new(o, "importedAt", str_or_null(row->v[6]));
    json_object_set_new(o, "importedBy", str_or_null(row->v[7]));
    json_object_set_new(o, "toolCount", json_integer(gw_store__int(row->v[8])));
    if (sr->with_content)
        json_object_set_new(o, "content",
                            row->v[9] ? json_stringn(row->v[9], row->len[9]) : json_null());
    json_array_append_new(sr->arr, o);
    return GW_OK;
}

int gw_store_spec_list(struct gw_store *st, json_t **out, struct gw_error *err)
{
    struct spec_rows sr = {json_array(), false};
    struct store_param p[] = {SP_INT(GW_STORE_PAGE_MAX)};
    *out = NULL;
    int rc = gw_store__exec(st, "SELECT " SPEC_COLS " FROM specs ORDER BY id LIMIT $1", p, 1,
                            spec_row, &sr, NULL, err);
    if (rc != GW_OK) {
        json_decref(sr.arr);
        return rc;
    }
    *out = sr.arr;
    return GW_OK;
}

int gw_store_spec_get(struct gw_store *st, const char *id, bool with_content, json_t **out,
                      struct gw_error *err)
{
    struct spec_rows sr = {json_array(), with_content};
    struct store_param p[] = {SP_TEXT(id)};
    *out = NULL;
    int rc = gw_store__exec(st,
                            with_content ? "SELECT " SPEC_COLS ", content FROM specs WHERE id = $1"
                                         : "SELECT " SPEC_COLS " FROM specs WHERE id = $1",
                            p, 1, spec_row, &sr, NULL, err);
    if (rc == GW_OK && json_array_size(sr.arr) == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "spec %s not found", id ? id : "");
    if (rc == GW_OK)
        *out = json_incref(json_array_get(sr.arr, 0));
    json_decref(sr.arr);
    return rc;
}

/* Row callback collecting tool names. */
static int name_row(void *ctx, const struct store_row *row)
{
    if (row->n > 0 && row->v[0])
        json_array_append_new(ctx, json_string(row->v[0]));
    return GW_OK;
}

/* Deprecates or deletes one tool of a deleted spec. */
static int retire(struct gw_store *st, const char *name, enum gw_store_spec_delete_mode mode,
                  const struct gw_store_actor *who, const char *now, struct gw_error *err)
{
    struct gw_store_tool_rec cur;
    int rc = gw_store__tool_load(st, name, &cur, err);
    if (rc != GW_OK)
        return rc;
    if (mode == GW_STORE_SPEC_REMOVE_TOOLS) {
        struct store_param p[] = {SP_INT(cur.id)};
        rc = gw_store__exec(st, "DELETE FROM tools WHERE id = $1", p, 1, NULL, NULL, NULL, err);
        if (rc == GW_OK)
            rc = gw_store__history(st, cur.id, name, 0, "delete", cur.def, who, now, err);
    } else if (strcmp(gw_json_str(cur.def, "status"), "deprecated") != 0) {
        json_t *d = json_copy(cur.def);
        json_object_set_new(d, "status", json_string("deprecated"));
        rc = gw_store__tool_save(st, cur.id, d, cur.version + 1, "deprecate", cur.def, who, now,
                                 NULL, err);
        json_decref(d);
    }
    gw_store__tool_rec_fini(&cur);
    return rc;
}

int gw_store_spec_delete(struct gw_store *st, const char *id, enum gw_store_spec_delete_mode mode,
                         const struct gw_store_actor *who, struct gw_error *err)
{
    json_t *names = json_array();
    char now[32];
    long long n = 0;
    gw_store__now(now, sizeof(now));
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        goto out;
    struct store_param p[] = {SP_TEXT(id)};
    rc = gw_store__exec(st, "DELETE FROM specs WHERE id = $1", p, 1, NULL, NULL, &n, err);
    if (rc == GW_OK && n == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "spec %s not found", id ? id : "");
    if (rc == GW_OK)
        rc = gw_store__exec(st, "SELECT name FROM tools WHERE spec_id = $1 ORDER BY name", p, 1,
                            name_row, names, NULL, err);
    size_t i;
    json_t *tn;
    json_array_foreach(names, i, tn)
    {
        if (rc != GW_OK)
            break;
        rc = retire(st, json_string_value(tn), mode, who, now, err);
    }
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
out:
    json_decref(names);
    return rc;
}
