/*
 * src/store/store_apikey.c
 * API key rows: insert, list, revoke, last-used updates (see store_apikey.h).
 * Invariants: rows are never deleted (revocation is a timestamp, kept for audit); create and
 * revoke are registry writes (version bump + NOTIFY, so replicas reload their key tables);
 * last_used_at is bookkeeping and is written outside the registry protocol.
 */
#include "store/store_apikey.h"
#include "store/store_impl.h"

#include "core/alloc.h"
#include "core/json.h"

#include <string.h>

#define KEY_COLS                                                                               \
    "id, name, subject, client_id, tenant, roles, created_at, created_by, expires_at, "        \
    "revoked_at, last_used_at, hash, claims"

struct rows {
    json_t *arr;
    bool with_hash;
};

static json_t *opt(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int key_row(void *ctx, const struct store_row *row)
{
    struct rows *r = ctx;
    if (row->n < 13)
        return GW_ERR;
#define S(i) (row->v[i] ? row->v[i] : "")
    json_t *roles = gw_store__parse(S(5), strlen(S(5)), NULL);
    if (!json_is_array(roles)) {
        json_decref(roles);
        roles = json_array();
    }
    json_t *k = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "id", S(0), "name",
                          S(1), "subject", S(2), "client_id", S(3), "tenant", S(4), "roles", roles,
                          "created_at", S(6), "created_by", S(7), "expires_at", opt(row->v[8]),
                          "revoked_at", opt(row->v[9]), "last_used_at", opt(row->v[10]));
    json_t *claims = gw_store__parse(S(12), strlen(S(12)), NULL);
    json_object_set_new(k, "claims", json_is_object(claims) ? claims : json_object());
    if (!json_is_object(claims))
        json_decref(claims);
    if (r->with_hash)
        json_object_set_new(k, "hash", json_string(S(11)));
#undef S
    json_array_append_new(r->arr, k);
    return GW_OK;
}

static int bounded(const json_t *key, const char *field, bool required, size_t max,
                   const char **out, struct gw_error *err)
{
    json_t *v = json_object_get(key, field);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return GW_ERROR_SET(err, GW_EINVAL, "api key: \"%s\" is required", field);
        return GW_OK;
    }
    if (!json_is_string(v) || json_string_length(v) > max ||
        (required && json_string_length(v) == 0))
        return GW_ERROR_SET(err, GW_EINVAL, "api key: \"%s\" must be a string of 1-%zu characters",
                            field, max);
    *out = json_string_value(v);
    return GW_OK;
}

int gw_store_apikey_create(struct gw_store *st, const json_t *key,
                           const struct gw_store_actor *who, struct gw_error *err)
{
    const char *id, *name, *hash, *subject, *client, *tenant, *expires;
    int rc = bounded(key, "id", true, 64, &id, err);
    if (rc == GW_OK)
        rc = bounded(key, "name", true, 200, &name, err);
    if (rc == GW_OK)
        rc = bounded(key, "hash", true, 128, &hash, err);
    if (rc == GW_OK)
        rc = bounded(key, "subject", true, 256, &subject, err);
    if (rc == GW_OK)
        rc = bounded(key, "client_id", false, 256, &client, err);
    if (rc == GW_OK)
        rc = bounded(key, "tenant", false, 256, &tenant, err);
    if (rc == GW_OK)
        rc = bounded(key, "expires_at", false, 40, &expires, err);
    if (rc != GW_OK)
        return rc;
    json_t *roles = json_object_get(key, "roles");
    if (roles && !json_is_array(roles))
        return GW_ERROR_SET(err, GW_EINVAL, "api key: \"roles\" must be an array of strings");
    if (json_array_size(roles) > 64)
        return GW_ERROR_SET(err, GW_EINVAL, "api key: at most 64 roles");
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        if (!json_is_string(r) || json_string_length(r) == 0 || json_string_length(r) > 128)
            return GW_ERROR_SET(err, GW_EINVAL,
                                "api key: every role must be a string of 1-128 characters");
    }
    json_t *claims = json_object_get(key, "claims");
    if (claims && !json_is_object(claims))
        return GW_ERROR_SET(err, GW_EINVAL, "api key: \"claims\" must be a JSON object");
    char *claims_text = claims ? gw_json_dumps(claims) : gw_xstrdup("{}");
    if (strlen(claims_text) > 16384) {
        gw_free(claims_text);
        return GW_ERROR_SET(err, GW_EINVAL, "api key: \"claims\" is larger than 16 KiB");
    }
    char *roles_text = roles ? gw_json_dumps(roles) : gw_xstrdup("[]");
    char now[32];
    gw_store__now(now, sizeof(now));
    rc = gw_store__begin_write(st, NULL, err);
    if (rc == GW_OK) {
        struct store_param p[] = {SP_TEXT(id),
                                  SP_TEXT(name),
                                  SP_TEXT(hash),
                                  SP_TEXT(subject),
                                  SP_TEXT(client ? client : ""),
                                  SP_TEXT(tenant ? tenant : ""),
                                  SP_TEXT(roles_text),
                                  SP_TEXT(now),
                                  SP_TEXT(gw_store__who(who)),
                                  expires ? SP_TEXT(expires) : SP_NULL,
                                  SP_TEXT(claims_text)};
        rc = gw_store__exec(st,
                            "INSERT INTO api_keys (id, name, hash, subject, client_id, tenant, "
                            "roles, created_at, created_by, expires_at, claims) VALUES ($1, $2, "
                            "$3, $4, $5, $6, $7, $8, $9, $10, $11)",
                            p, 11, NULL, NULL, NULL, err);
        if (rc == GW_ECONFLICT)
            rc = GW_ERROR_SET(err, GW_ECONFLICT, "api key %s already exists", id);
        if (rc == GW_OK)
            rc = gw_store__commit(st, err);
        else
            gw_store__rollback(st);
    }
    gw_free(roles_text);
    gw_free(claims_text);
    return rc;
}

int gw_store_apikey_list(struct gw_store *st, bool with_hash, bool include_revoked, json_t **out,
                         struct gw_error *err)
{
    struct rows r = {json_array(), with_hash};
    struct store_param p[] = {SP_INT(GW_STORE_APIKEY_MAX)};
    *out = NULL;
    int rc = gw_store__exec(st,
                            include_revoked
                                ? "SELECT " KEY_COLS " FROM api_keys ORDER BY created_at DESC, "
                                  "id LIMIT $1"
                                : "SELECT " KEY_COLS " FROM api_keys WHERE revoked_at IS NULL "
                                  "ORDER BY created_at DESC, id LIMIT $1",
                            p, 1, key_row, &r, NULL, err);
    if (rc != GW_OK) {
        json_decref(r.arr);
        return rc;
    }
    *out = r.arr;
    return GW_OK;
}

int gw_store_apikey_get(struct gw_store *st, const char *id, json_t **out, struct gw_error *err)
{
    struct rows r = {json_array(), false};
    struct store_param p[] = {SP_TEXT(id ? id : "")};
    *out = NULL;
    int rc = gw_store__exec(st, "SELECT " KEY_COLS " FROM api_keys WHERE id = $1", p, 1, key_row,
                            &r, NULL, err);
    if (rc == GW_OK && json_array_size(r.arr) == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "api key %s not found", id ? id : "");
    if (rc == GW_OK)
        *out = json_incref(json_array_get(r.arr, 0));
    json_decref(r.arr);
    return rc;
}

int gw_store_apikey_revoke(struct gw_store *st, const char *id, const struct gw_store_actor *who,
                           struct gw_error *err)
{
    (void)who;
    char now[32];
    long long changed = 0;
    gw_store__now(now, sizeof(now));
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    struct store_param p[] = {SP_TEXT(id ? id : ""), SP_TEXT(now)};
    rc = gw_store__exec(st,
                        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                        p, 2, NULL, NULL, &changed, err);
    if (rc == GW_OK && changed == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "api key %s not found or already revoked",
                          id ? id : "");
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    return rc;
}

int gw_store_apikey_touch(struct gw_store *st, const char *id, const char *when,
                          struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(id), SP_TEXT(when)};
    return gw_store__exec(st,
                          "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND "
                          "(last_used_at IS NULL OR last_used_at < $2)",
                          p, 2, NULL, NULL, NULL, err);
}
