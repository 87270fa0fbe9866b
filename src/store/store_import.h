/*
 * src/store/store_import.h
 * Applying an import: a spec and the tool set generated from it, in ONE transaction.
 *
 * The store computes the diff itself, inside the write transaction, against the tools that
 * this spec produced before (so it is right even when two imports race), matching each new
 * tool to an existing tool of the same spec by operation identity, first "METHOD path" of
 * its source (path parameter names ignored: /a/{id} = /a/{aId}), then source.operationId,
 * then the tool name:
 *   - unmatched new tools are added (status from the options, unless the definition says
 *     "deprecated": an operation the spec deprecates arrives deprecated), version 1;
 *   - matched tools whose spec-owned fields changed (everything but the governance fields of
 *     docs/tool-model.md, the store-managed fields and source.specVersion) are updated in
 *     place: the new definition with the operator's risk, requiresElevation,
 *     requiresConfirmation, rateLimitTier, bundle, tags and status kept (a deprecated tool
 *     coming back takes the import status and is reported as added); version + 1, history;
 *   - matched tools that did not change are left as they are (source.specVersion therefore
 *     tells the spec version that last changed a tool);
 *   - existing tools of the spec with no match are marked "deprecated" (never deleted).
 * Names (docs/openapi-import.md "Naming across specs"):
 *   - matched tools keep their stored name (stable across re-imports) even when the spec now
 *     gives another one (reported as "nameKept"), unless the import asks for it: an explicit
 *     rename (renames {"computed or stored name": "new name"}) or rename_existing. A renamed
 *     tool keeps its old name as an alias for alias_days (store_alias.h);
 *   - a new tool whose name is taken (by a tool of another spec, a hand-made tool, a tool of
 *     this spec kept under that name, or a live alias) gets a prefix: conflict_prefix (default:
 *     the tool's bundle, else the spec id, in snake_case) + "_" + its name, then "_2", "_3"...
 *     (reported as "conflicts"). With fail_on_conflict, or when the name was an explicit
 *     rename, it is a conflict instead: the import fails and nothing is written. Names are
 *     never silently overwritten.
 *
 * BLOCKING, one thread per handle: see store.h.
 */
#ifndef GW_STORE_IMPORT_H
#define GW_STORE_IMPORT_H

#include "store/store.h"

#include <jansson.h>

#define GW_STORE_IMPORT_MAX 100000 /* tools in one import, unless max_tools says otherwise */

struct gw_store_import_opts {
    const char *status; /* status of added tools: "draft" (default) or "active" */
    const char *bundle; /* bundle for added tools that name none (NULL = none) */
    bool dry_run;       /* compute and return the diff, then roll back */
    size_t max_tools;   /* tools in one import (0 = GW_STORE_IMPORT_MAX); the app passes
                           GW_OPENAPI_MAX_TOOLS */
    const json_t *renames;       /* {"from": "to"}: explicit renames (from = the name the
                                    importer computed, or a stored name); may be NULL */
    bool rename_existing;        /* matched tools take the name the spec now gives them */
    bool fail_on_conflict;       /* a taken name fails the import instead of a prefix */
    const char *conflict_prefix; /* prefix for taken names (NULL: bundle, else spec id) */
    int alias_days;              /* how long old names stay aliases (0 = default) */
    /* Called (when set) once the store has read `tools` for the last time, before it writes:
     * the caller may release them from then on (a large import frees them on another thread
     * while the store writes). */
    void (*tools_read)(void *ud);
    void *tools_read_ud;
};

/* Applies an import. `spec` is {"id"?, "title", "version"?, "sourceUrl"?, "fileName"?,
 * "content"?, "contentHash"?}: the id defaults to a slug of the title (a re-import must use
 * the same id to be matched), contentHash to the SHA-256 of content. `tools` is an array of
 * definitions (docs/tool-model.md); their source.specId is set to the spec id and
 * source.specVersion to the spec version. `opts` and `who` may be NULL.
 * *out_diff (may be NULL) receives {"specId","specVersion","added":[names],
 * "changed":[names],"removed":[names],"renamed":[{"from","to","aliasUntil"}],
 * "nameKept":[{"name","computed"}],"conflicts":[{"name","wanted","takenBy"}],"unchanged":n,
 * "dryRun":bool}.
 * Returns GW_OK, GW_EINVAL (invalid spec or tool: the message names it; duplicate names or
 * operations in the set), GW_ELIMIT, GW_ECONFLICT (name owned by another spec or tool),
 * GW_EIO. On failure nothing is written. */
int gw_store_apply_import(struct gw_store *st, const json_t *spec, const json_t *tools,
                          const struct gw_store_import_opts *opts,
                          const struct gw_store_actor *who, json_t **out_diff,
                          struct gw_error *err);

#endif
