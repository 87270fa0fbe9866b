/*
 * src/store/store_ratelimit.c
 * Rate-limit rules in the database (see store_ratelimit.h). Writes are registry writes (the
 * version bump + NOTIFY protocol of store_impl.h), so a change reaches every replica.
 */
#include "store/store_ratelimit.h"
#include "store/store_impl.h"

#include "core/alloc.h"

#include <string.h>

#define RL_COLS "id, definition, created_at, updated_at, updated_by"

static int rule_row(void *ctx, const struct store_row *row)
{
    json_t *arr = ctx;
    if (row->n < 5)
        return GW_ERR;
    json_t *rule = gw_store__parse(row->v[1] ? row->v[1] : "", row->len[1], NULL);
#define S(i) (row->v[i] ? row->v[i] : "")
    json_array_append_new(arr, json_pack("{s:s,s:o,s:s,s:s,s:s}", "id", S(0), "rule",
                                         rule ? rule : json_null(), "createdAt", S(2),
                                         "updatedAt", S(3), "updatedBy", S(4)));
#undef S
    return GW_OK;
}

int gw_store_ratelimit_list(struct gw_store *st, json_t **out, struct gw_error *err)
{
    json_t *arr = json_array();
    struct store_param p[] = {SP_INT(GW_STORE_PAGE_MAX)};
    *out = NULL;
    int rc = gw_store__exec(st, "SELECT " RL_COLS " FROM ratelimit_rules ORDER BY id LIMIT $1",
                            p, 1, rule_row, arr, NULL, err);
    if (rc != GW_OK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return GW_OK;
}

int gw_store_ratelimit_get(struct gw_store *st, const char *id, json_t **out,
                           struct gw_error *err)
{
    json_t *arr = json_array();
    struct store_param p[] = {SP_TEXT(id ? id : "")};
    *out = NULL;
    int rc = gw_store__exec(st, "SELECT " RL_COLS " FROM ratelimit_rules WHERE id = $1", p, 1,
                            rule_row, arr, NULL, err);
    if (rc == GW_OK && json_array_size(arr) == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "rate-limit rule %s not found", id ? id : "");
    if (rc == GW_OK)
        *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return rc;
}

int gw_store_ratelimit_put(struct gw_store *st, const char *id, const json_t *rule, bool create,
                           const struct gw_store_actor *who, struct gw_error *err)
{
    if (!gw_store__valid_name(id, true))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "rule id must be 1-%d characters of [A-Za-z0-9_.-]",
                            GW_STORE_NAME_MAX);
    const char *rid = gw_json_str(rule, "id");
    if (!json_is_object(rule) || !rid || strcmp(rid, id) != 0)
        return GW_ERROR_SET(err, GW_EINVAL, "the rule's \"id\" must be %s", id);
    char *text = NULL;
    int rc = gw_store__dump(rule, GW_STORE_RL_RULE_MAX, &text, err);
    if (rc != GW_OK)
        return rc;
    char now[32];
    gw_store__now(now, sizeof(now));
    rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK) {
        gw_free(text);
        return rc;
    }
    long long changes = 0;
    if (create) {
        struct store_param p[] = {SP_TEXT(id), SP_TEXT(text), SP_TEXT(now),
                                  SP_TEXT(gw_store__who(who))};
        rc = gw_store__exec(st,
                            "INSERT INTO ratelimit_rules (id, definition, created_at, "
                            "updated_at, updated_by) VALUES ($1, $2, $3, $3, $4) "
                            "ON CONFLICT (id) DO NOTHING",
                            p, 4, NULL, NULL, &changes, err);
        if (rc == GW_OK && changes == 0)
            rc = GW_ERROR_SET(err, GW_ECONFLICT, "rate-limit rule %s already exists", id);
    } else {
        struct store_param p[] = {SP_TEXT(id), SP_TEXT(text), SP_TEXT(now),
                                  SP_TEXT(gw_store__who(who))};
        rc = gw_store__exec(st,
                            "UPDATE ratelimit_rules SET definition = $2, updated_at = $3, "
                            "updated_by = $4 WHERE id = $1",
                            p, 4, NULL, NULL, &changes, err);
        if (rc == GW_OK && changes == 0)
            rc = GW_ERROR_SET(err, GW_ENOTFOUND, "rate-limit rule %s not found", id);
    }
    gw_free(text);
    if (rc == GW_OK)
        return gw_store__commit(st, err);
    gw_store__rollback(st);
    return rc;
}

int gw_store_ratelimit_delete(struct gw_store *st, const char *id,
                              const struct gw_store_actor *who, struct gw_error *err)
{
    (void)who;
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    long long changes = 0;
    struct store_param p[] = {SP_TEXT(id ? id : "")};
    rc = gw_store__exec(st, "DELETE FROM ratelimit_rules WHERE id = $1", p, 1, NULL, NULL,
                        &changes, err);
    if (rc == GW_OK && changes == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "rate-limit rule %s not found", id ? id : "");
    if (rc == GW_OK)
        return gw_store__commit(st, err);
    gw_store__rollback(st);
    return rc;
}
