/*
 * src/store/store_alias.h
 * Tool renames and aliases: the naming policy's guarantee that a rename never silently breaks
 * an agent that relies on a name (docs/openapi-import.md "Naming across specs").
 *
 * Renaming a tool keeps its old name as an alias for a deprecation period (alias_days, from
 * GW_TOOL_ALIAS_DAYS): during it tools/call with the old name reaches the tool (the registry
 * snapshot resolves aliases, see registry_snapshot.h) and no other tool may take the name.
 * A name is free when no tool has it and no live alias holds it (an expired alias is removed
 * by whoever takes the name). Imports apply the same rules (store_import.h).
 *
 * BLOCKING, one thread per handle: see store.h.
 */
#ifndef GW_STORE_ALIAS_H
#define GW_STORE_ALIAS_H

#include "store/store.h"

#include <jansson.h>

#define GW_STORE_ALIAS_DAYS_DEFAULT 90
#define GW_STORE_ALIAS_DAYS_MAX 3650

/* Renames tool `from` to `to` ([A-Za-z0-9_-]{1,64}); `from` stays an alias of it for
 * alias_days (1..GW_STORE_ALIAS_DAYS_MAX; 0 = the default). The history records the rename.
 * *out_def (may be NULL) receives the stored definition. GW_OK, GW_ENOTFOUND (no tool
 * `from`), GW_EINVAL (bad name), GW_ECONFLICT (`to` is a tool or a live alias of another
 * tool), GW_EIO. Renaming back to a name the tool still holds as an alias takes the alias
 * back. */
int gw_store_tool_rename(struct gw_store *st, const char *from, const char *to, int alias_days,
                         const struct gw_store_actor *who, json_t **out_def,
                         struct gw_error *err);

/* The live aliases, in name order: [{"name","tool","until"}]. GW_OK, GW_EIO. */
int gw_store_alias_list(struct gw_store *st, json_t **out, struct gw_error *err);

#endif
