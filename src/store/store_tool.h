/*
 * src/store/store_tool.h
 * Tools in the store: create, read, list, update, change status, delete, history, and the
 * consistent scan the registry snapshot is built from.
 *
 * A tool is its definition JSON (docs/tool-model.md). The store validates it, fills the
 * governance defaults (risk from the method, requiresElevation, requiresConfirmation,
 * rateLimitTier "standard", status "draft", tags []), keeps the store-managed fields
 * ("version", bumped on every change; "createdAt", "updatedAt", "updatedBy", added when read
 * and ignored when written) and appends a history row with the full previous definition on
 * every change. A tool's bundle must name an existing bundle or is created with it (title =
 * name). Tool names are immutable here: renames go through store_alias.h (and re-imports,
 * store_import.h), which keep the old name as an alias.
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references owned by
 * the caller (json_decref); json_t arguments are borrowed and never modified.
 */
#ifndef GW_STORE_TOOL_H
#define GW_STORE_TOOL_H

#include "store/store.h"

#include <jansson.h>

/* Validates a tool definition and returns a normalised copy with the defaults filled and the
 * store-managed fields removed (what the store would persist, before "version"). Does not
 * touch the database. GW_OK, GW_EINVAL (message names the field), GW_ELIMIT (too large). */
int gw_store_tool_normalize(const json_t *def, json_t **out_def, struct gw_error *err);

/* Creates a tool (version 1). GW_OK (*out_def, may be NULL, receives the stored definition),
 * GW_EINVAL, GW_ELIMIT, GW_ECONFLICT (the name exists), GW_EIO. */
int gw_store_tool_create(struct gw_store *st, const json_t *def, const struct gw_store_actor *who,
                         json_t **out_def, struct gw_error *err);

/* Reads one tool by name, any status. GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_tool_get(struct gw_store *st, const char *name, json_t **out_def,
                      struct gw_error *err);

/* Filter and keyset page of gw_store_tool_list. NULL/0 fields do not filter. */
struct gw_store_tool_query {
    const char *status;  /* draft | active | deprecated | disabled */
    const char *bundle;
    const char *spec_id;
    const char *after;   /* return names strictly after this one (the previous page's next) */
    size_t limit;        /* page size, 1..GW_STORE_PAGE_MAX (0 = 100) */
};

/* Lists tools in name order (byte order). *out_items is an array of definitions;
 * out_next (GW_STORE_NAME_MAX + 1 bytes, may be NULL) receives the name to pass as `after`
 * for the next page, or "" on the last page; *out_total (may be NULL) the number of tools
 * matching the filter across all pages. GW_OK, GW_EINVAL (bad filter value), GW_EIO. */
int gw_store_tool_list(struct gw_store *st, const struct gw_store_tool_query *q,
                       json_t **out_items, char *out_next, long long *out_total,
                       struct gw_error *err);

/* Changes a tool: each top-level key of `changes` replaces the definition's (null removes an
 * optional field; "bundle": null detaches it). "name" may not change (GW_EINVAL); store-managed
 * keys are ignored. The result is validated like a new definition. When if_version > 0 and
 * the stored version differs: GW_ECONFLICT (optimistic concurrency). A change that leaves the
 * definition equal writes nothing. GW_OK (*out_def may be NULL), GW_ENOTFOUND, GW_EINVAL,
 * GW_ECONFLICT, GW_EIO. */
int gw_store_tool_update(struct gw_store *st, const char *name, const json_t *changes,
                         long long if_version, const struct gw_store_actor *who,
                         json_t **out_def, struct gw_error *err);

/* Sets the status (draft | active | deprecated | disabled): disabling is
 * gw_store_tool_set_status(st, name, "disabled", …). GW_OK, GW_ENOTFOUND, GW_EINVAL, GW_EIO. */
int gw_store_tool_set_status(struct gw_store *st, const char *name, const char *status,
                             const struct gw_store_actor *who, struct gw_error *err);

/* Deletes a tool; its history stays (plus a "delete" row with the last definition).
 * GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_tool_delete(struct gw_store *st, const char *name, const struct gw_store_actor *who,
                         struct gw_error *err);

/* The history of a tool, newest first, at most `limit` rows (0 = 100, max GW_STORE_PAGE_MAX):
 * an array of {"version","action","actor","reason","changedAt","previous"} where previous is
 * the definition before the change (null for a creation). For an existing tool the history
 * follows it across renames; for a deleted one it is looked up by name. Empty array when
 * nothing is known. GW_OK, GW_EIO. */
int gw_store_tool_history(struct gw_store *st, const char *name, size_t limit, json_t **out,
                          struct gw_error *err);

/* Receives one definition of a scan; `def` is borrowed (json_incref to keep it). A return
 * other than GW_OK stops the scan and is returned by it. */
typedef int (*gw_store_tool_fn)(void *ctx, json_t *def);

/* Calls cb for every servable tool — status "active" and no bundle or an "active" bundle — in
 * name order, inside one read transaction, and returns the registry version that this set
 * corresponds to in *out_version (the snapshot is consistent with it). A renamed tool's
 * definition carries its live aliases as "aliases": [{"name","until"}] (store_alias.h; never
 * stored in the definition itself). GW_OK, GW_EIO, or cb's code. */
int gw_store_tool_scan_servable(struct gw_store *st, gw_store_tool_fn cb, void *ctx,
                                long long *out_version, struct gw_error *err);

#endif
