/*
 * src/admin/admin_keys.c
 * The API key endpoints (pool threads): list (never with hashes), create (the key is in the
 * reply, the only time it is shown), get, revoke. Creating and revoking are registry writes:
 * on_write reloads the registry and waits for the authenticator's key reload, so the reply
 * comes after a new key works and a revoked one is refused on this replica (the others follow
 * the write's NOTIFY).
 */
#include "admin/admin_internal.h"

#include "auth/auth.h"
#include "store/store_apikey.h"

#include <stdio.h>

/* GET /keys: {"keys":[...]} including revoked ones (marked by revoked_at). */
void gw_admin__w_keys_list(struct admin_job *j, struct gw_store *st)
{
    json_t *keys = NULL;
    struct gw_error err = {0};
    if (gw_store_apikey_list(st, false, true, &keys, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, json_pack("{s:o}", "keys", keys));
}

/* POST /keys {"name","subject","roles"?,"client_id"?,"tenant"?,"expires_at"?|"ttl_seconds"?}
 * -> 201 with the record and "key". */
void gw_admin__w_key_create(struct admin_job *j, struct gw_store *st)
{
    json_t *spec = gw_admin__body_json(j, true,
                                       "a JSON object {\"name\", \"subject\", \"roles\"?, "
                                       "\"client_id\"?, \"tenant\"?, \"expires_at\"? or "
                                       "\"ttl_seconds\"?}");
    if (!spec)
        return;
    json_t *out = NULL;
    struct gw_error err = {0};
    if (gw_apikey_create(st, spec, j->actor, &out, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
    } else {
        j->wrote = true;
        snprintf(j->location, sizeof(j->location), "/admin/api/keys/%s",
                 json_string_value(json_object_get(out, "id")));
        gw_admin__ok(j, 201, out);
    }
    json_decref(spec);
}

/* GET /keys/{id}. */
void gw_admin__w_key_get(struct admin_job *j, struct gw_store *st)
{
    json_t *k = NULL;
    struct gw_error err = {0};
    if (gw_store_apikey_get(st, j->m.name, &k, &err) != GW_OK)
        gw_admin__fail_err(j, &err);
    else
        gw_admin__ok(j, 200, k);
}

/* DELETE /keys/{id}: revokes (the row stays for audit). */
void gw_admin__w_key_revoke(struct admin_job *j, struct gw_store *st)
{
    struct gw_error err = {0};
    json_t *k = NULL;
    if (gw_store_apikey_revoke(st, j->m.name, &j->who, &err) != GW_OK ||
        gw_store_apikey_get(st, j->m.name, &k, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        return;
    }
    j->wrote = true;
    gw_admin__ok(j, 200, k);
}
