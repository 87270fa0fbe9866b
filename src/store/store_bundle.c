/*
 * src/store/store_bundle.c
 * API products (bundles): CRUD, and the implicit creation of a bundle that a tool names.
 *
 * Invariants: a bundle's name never changes (tools refer to it, enforced by a foreign key);
 * a bundle is deleted only when no tool refers to it (or after detaching them, each with a
 * history row). Every write is a registry write (store_impl.h protocol): the status of a
 * bundle decides whether its tools are served, so replicas must reload.
 */
#include "store/store_bundle.h"
#include "store/store_impl.h"

#include "core/alloc.h"

#include <string.h>

/* Bounds of what an operator may type. */
#define BUNDLE_DESC_MAX (64u * 1024u)
#define BUNDLE_COLS                                                                            \
    "b.id, b.name, b.title, b.description, b.status, b.created_at, b.updated_at, "             \
    "(SELECT count(*) FROM tools t WHERE t.bundle = b.name)"

/* Keys a caller may send back unchanged (from a GET) and that are ignored. */
static const char *const managed[] = {"id", "createdAt", "updatedAt", "toolCount", NULL};

/* True for the store-managed keys above. */
static bool is_managed(const char *k)
{
    for (const char *const *m = managed; *m; m++)
        if (strcmp(*m, k) == 0)
            return true;
    return false;
}

/* Row callback of BUNDLE_COLS queries: one bundle object. */
static int bundle_row(void *ctx, const struct store_row *row)
{
    json_t *arr = ctx;
    if (row->n < 8)
        return GW_ERR;
#define S(i) (row->v[i] ? row->v[i] : "")
    json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id",
                                         (json_int_t)gw_store__int(row->v[0]), "name", S(1),
                                         "title", S(2), "description", S(3), "status", S(4),
                                         "createdAt", S(5), "updatedAt", S(6), "toolCount",
                                         (json_int_t)gw_store__int(row->v[7])));
#undef S
    return GW_OK;
}

/* Validates the editable fields present in `obj`; unknown keys are GW_EINVAL. */
static int check_fields(const json_t *obj, const char *name, const char **title,
                        const char **desc, const char **status, struct gw_error *err)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        if (is_managed(key) || !strcmp(key, "title") || !strcmp(key, "description") ||
            !strcmp(key, "status"))
            continue;
        if (!strcmp(key, "name") && json_is_string(val) && !strcmp(json_string_value(val), name))
            continue;
        return GW_ERROR_SET(err, GW_EINVAL, "bundle %s: \"%s\" cannot be set", name, key);
    }
    int rc = gw_store__opt_str(obj, "title", GW_STORE_TEXT_MAX, title, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(obj, "description", BUNDLE_DESC_MAX, desc, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(obj, "status", 16, status, err);
    if (rc == GW_OK && *status && strcmp(*status, "active") != 0 &&
        strcmp(*status, "disabled") != 0)
        rc = GW_ERROR_SET(err, GW_EINVAL, "bundle %s: status must be active or disabled", name);
    return rc;
}

int gw_store__bundle_ensure(struct gw_store *st, const char *name, const char *now,
                            struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(name), SP_TEXT(now)};
    return gw_store__exec(st,
                          "INSERT INTO bundles (name, title, description, status, created_at, "
                          "updated_at) VALUES ($1, $1, '', 'active', $2, $2) "
                          "ON CONFLICT (name) DO NOTHING",
                          p, 2, NULL, NULL, NULL, err);
}

int gw_store_bundle_get(struct gw_store *st, const char *name, json_t **out,
                        struct gw_error *err)
{
    json_t *arr = json_array();
    struct store_param p[] = {SP_TEXT(name)};
    *out = NULL;
    int rc = gw_store__exec(st, "SELECT " BUNDLE_COLS " FROM bundles b WHERE b.name = $1", p, 1,
                            bundle_row, arr, NULL, err);
    if (rc == GW_OK && json_array_size(arr) == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "bundle %s not found", name ? name : "");
    if (rc == GW_OK)
        *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return rc;
}

int gw_store_bundle_list(struct gw_store *st, json_t **out, struct gw_error *err)
{
    json_t *arr = json_array();
    struct store_param p[] = {SP_INT(GW_STORE_PAGE_MAX)};
    *out = NULL;
    int rc = gw_store__exec(st, "SELECT " BUNDLE_COLS " FROM bundles b ORDER BY b.name LIMIT $1",
                            p, 1, bundle_row, arr, NULL, err);
    if (rc != GW_OK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return GW_OK;
}

int gw_store_bundle_create(struct gw_store *st, const json_t *bundle,
                           const struct gw_store_actor *who, json_t **out, struct gw_error *err)
{
    const char *title = NULL, *desc = NULL, *status = NULL;
    char now[32];
    (void)who;
    if (out)
        *out = NULL;
    const char *name = gw_json_str(bundle, "name");
    if (!gw_store__valid_name(name, true))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "bundle name must be 1-%d characters of [A-Za-z0-9_.-]",
                            GW_STORE_NAME_MAX);
    int rc = check_fields(bundle, name, &title, &desc, &status, err);
    if (rc != GW_OK)
        return rc;
    gw_store__now(now, sizeof(now));
    rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    struct store_param p[] = {SP_TEXT(name), SP_TEXT(title ? title : name),
                              SP_TEXT(desc ? desc : ""), SP_TEXT(status ? status : "active"),
                              SP_TEXT(now)};
    rc = gw_store__exec(st,
                        "INSERT INTO bundles (name, title, description, status, created_at, "
                        "updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                        p, 5, NULL, NULL, NULL, err);
    if (rc == GW_ECONFLICT)
        rc = GW_ERROR_SET(err, GW_ECONFLICT, "bundle %s already exists", name);
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    if (rc == GW_OK && out)
        rc = gw_store_bundle_get(st, name, out, err);
    return rc;
}

int gw_store_bundle_update(struct gw_store *st, const char *name, const json_t *changes,
                           const struct gw_store_actor *who, json_t **out, struct gw_error *err)
{
    const char *title = NULL, *desc = NULL, *status = NULL;
    char now[32];
    long long n = 0;
    (void)who;
    if (out)
        *out = NULL;
    if (!json_is_object(changes))
        return GW_ERROR_SET(err, GW_EINVAL, "changes must be a JSON object");
    int rc = check_fields(changes, name ? name : "", &title, &desc, &status, err);
    if (rc != GW_OK)
        return rc;
    gw_store__now(now, sizeof(now));
    rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    /* COALESCE keeps the fields that the change does not mention */
    struct store_param p[] = {SP_TEXT(title), SP_TEXT(desc), SP_TEXT(status), SP_TEXT(now),
                              SP_TEXT(name)};
    rc = gw_store__exec(st,
                        "UPDATE bundles SET title = COALESCE($1, title), description = "
                        "COALESCE($2, description), status = COALESCE($3, status), updated_at = "
                        "$4 WHERE name = $5",
                        p, 5, NULL, NULL, &n, err);
    if (rc == GW_OK && n == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "bundle %s not found", name ? name : "");
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    if (rc == GW_OK && out)
        rc = gw_store_bundle_get(st, name, out, err);
    return rc;
}

/* Row callback collecting the first column as strings. */
static int name_row(void *ctx, const struct store_row *row)
{
    if (row->n > 0 && row->v[0])
        json_array_append_new(ctx, json_string(row->v[0]));
    return GW_OK;
}

int gw_store_bundle_delete(struct gw_store *st, const char *name, bool detach_tools,
                           const struct gw_store_actor *who, struct gw_error *err)
{
    json_t *names = json_array();
    char now[32];
    long long n = 0;
    gw_store__now(now, sizeof(now));
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        goto out;
    struct store_param p[] = {SP_TEXT(name)};
    rc = gw_store__exec(st, "SELECT name FROM tools WHERE bundle = $1 ORDER BY name", p, 1,
                        name_row, names, NULL, err);
    if (rc == GW_OK && json_array_size(names) > 0 && !detach_tools)
        rc = GW_ERROR_SET(err, GW_ECONFLICT, "bundle %s still has %zu tools", name,
                          json_array_size(names));
    size_t i;
    json_t *tn;
    json_array_foreach(names, i, tn)
    {
        if (rc != GW_OK)
            break;
        struct gw_store_tool_rec cur;
        rc = gw_store__tool_load(st, json_string_value(tn), &cur, err);
        if (rc != GW_OK)
            break;
        json_t *d = json_copy(cur.def);
        json_object_set_new(d, "bundle", json_null());
        rc = gw_store__tool_save(st, cur.id, d, cur.version + 1, "update", cur.def, who, now,
                                 NULL, err);
        json_decref(d);
        gw_store__tool_rec_fini(&cur);
    }
    if (rc == GW_OK)
        rc = gw_store__exec(st, "DELETE FROM bundles WHERE name = $1", p, 1, NULL, NULL, &n,
                            err);
    if (rc == GW_OK && n == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "bundle %s not found", name ? name : "");
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
out:
    json_decref(names);
    return rc;
}
