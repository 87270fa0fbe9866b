/*
 * src/store/store_apikey.h
 * API keys (table api_keys, migration 0002): what the store keeps about each key of a service
 * client. A key record is {"id","name","subject","client_id","tenant","roles":[..],
 * "claims":{..},"created_at","created_by","expires_at"|null,"revoked_at"|null,
 * "last_used_at"|null} plus
 * "hash" (hex SHA-256 of the key) where said. Generating keys and checking them is
 * src/auth/auth_apikey.c; this file only stores.
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references.
 */
#ifndef GW_STORE_APIKEY_H
#define GW_STORE_APIKEY_H

#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

#define GW_STORE_APIKEY_MAX 10000 /* keys listed / loaded at most */

/* Inserts a key from {"id","name","hash","subject","client_id"?,"tenant"?,"roles"?,
 * "claims"? (an object, <= 16 KiB, e.g. {"dealer_ids":[...]}),"expires_at"?} (strings bounded,
 * roles an array of <= 64 strings). A registry write (every replica reloads its key table). GW_OK,
 * GW_EINVAL, GW_ECONFLICT (id or hash exists), GW_EIO. */
int gw_store_apikey_create(struct gw_store *st, const json_t *key,
                           const struct gw_store_actor *who, struct gw_error *err);

/* Every key (newest first), without hashes when !with_hash; revoked ones only when
 * include_revoked. GW_OK, GW_EIO. */
int gw_store_apikey_list(struct gw_store *st, bool with_hash, bool include_revoked, json_t **out,
                         struct gw_error *err);

/* One key without its hash. GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_apikey_get(struct gw_store *st, const char *id, json_t **out, struct gw_error *err);

/* Revokes a key (sets revoked_at; a registry write). GW_OK, GW_ENOTFOUND (no such live key),
 * GW_EIO. */
int gw_store_apikey_revoke(struct gw_store *st, const char *id, const struct gw_store_actor *who,
                           struct gw_error *err);

/* Records that key `id` was used at ISO time `when` (only moves last_used_at forward; not a
 * registry write). GW_OK, GW_EIO. */
int gw_store_apikey_touch(struct gw_store *st, const char *id, const char *when,
                          struct gw_error *err);

#endif
