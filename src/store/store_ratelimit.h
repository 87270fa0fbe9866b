/*
 * src/store/store_ratelimit.h
 * Rate-limit rules kept in the database (table ratelimit_rules, migration 0005): the rules an
 * operator manages at run time with `mcpgw limits` or the admin API.
 *
 * The store keeps each rule's JSON as given (the caller validates it with
 * src/ratelimit/ratelimit_rule.h; the store only checks the id and the size), with who changed
 * it and when. Every write follows the registry write protocol (store_impl.h): it bumps the
 * registry version and, on PostgreSQL, NOTIFYs gw_registry in the same transaction, so every
 * replica hears of the change at once and reloads its rules.
 * BLOCKING like everything in src/store: never on an event loop.
 */
#ifndef GW_STORE_RATELIMIT_H
#define GW_STORE_RATELIMIT_H

#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

#define GW_STORE_RL_RULE_MAX 16384 /* bytes of one serialised rule */

/* Every stored rule, ordered by id: an array of {"id", "rule": {...}, "createdAt",
 * "updatedAt", "updatedBy"} (new reference in *out). A row whose JSON does not parse is
 * returned with "rule": null. */
int gw_store_ratelimit_list(struct gw_store *st, json_t **out, struct gw_error *err);
/* One rule as in the list. GW_ENOTFOUND when absent. */
int gw_store_ratelimit_get(struct gw_store *st, const char *id, json_t **out,
                           struct gw_error *err);
/* Stores `rule` (an object whose "id" is `id`) as a new rule (create: GW_ECONFLICT when the id
 * exists) or over an existing one (!create: GW_ENOTFOUND when absent). GW_EINVAL for a bad id
 * or an oversized rule. */
int gw_store_ratelimit_put(struct gw_store *st, const char *id, const json_t *rule, bool create,
                           const struct gw_store_actor *who, struct gw_error *err);
/* Deletes a rule. GW_ENOTFOUND when absent. */
int gw_store_ratelimit_delete(struct gw_store *st, const char *id,
                              const struct gw_store_actor *who, struct gw_error *err);

#endif
