/*
 * src/store/store_governance.h
 * Governance rules kept in the database (table governance_rules, migration 0003): exposure
 * rules, policy rules and role definitions, each a JSON object in the rules-file shape
 * (docs/governance.md), ordered by position within its section. Validating a rule is the
 * governance module's job; this file stores, lists and deletes. Writes are registry writes.
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references.
 */
#ifndef GW_STORE_GOVERNANCE_H
#define GW_STORE_GOVERNANCE_H

#include "store/store.h"

#include <jansson.h>

#define GW_STORE_RULE_MAX (64u * 1024u) /* bytes of one rule */

/* The rules of every section as one document {"exposure":[...],"policies":[...],
 * "roles":{name: {...}}} (each rule carries its "id"; roles are keyed by name). GW_OK, GW_EIO. */
int gw_store_governance_load(struct gw_store *st, json_t **out, struct gw_error *err);

/* Creates or replaces rule `id` of `section` ("exposure", "policies", "roles") with `body`
 * (an object; for rules its "id" must equal id). A new rule goes last in its section; a
 * replaced one keeps its place. GW_OK, GW_EINVAL, GW_EIO. */
int gw_store_governance_put(struct gw_store *st, const char *section, const char *id,
                            const json_t *body, const struct gw_store_actor *who,
                            struct gw_error *err);

/* Deletes rule `id` of `section`. GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_governance_delete(struct gw_store *st, const char *section, const char *id,
                               const struct gw_store_actor *who, struct gw_error *err);

#endif
