/*
 * src/registry/registry_snapshot.h
 * An immutable, refcounted snapshot of the servable tools: what the data plane reads on the
 * request path (tools/list, tools/call resolution) without touching the database.
 *
 * A snapshot holds the tools sorted by name (byte order), a hash index for O(1) lookup by
 * name (and by alias: names a renamed tool keeps for a deprecation period), and per tool, in
 * compact form:
 *   - its MCP-facing object pre-serialised as compact JSON ({"name","title","description",
 *     "inputSchema","outputSchema","annotations"}, absent fields omitted), so that tools/list
 *     concatenates strings instead of serialising;
 *   - the rest of the definition (binding, governance, source, ...) as compact JSON;
 *   - the fields the phases filter on (bundle, risk, tags) as shared, interned strings.
 * No JSON document is kept per tool: the full definition (docs/tool-model.md) is parsed on
 * first use (gw_tool_def: tools/call of that tool) and cached in the snapshot; schemas are
 * compiled on first use by the pipeline. So a loaded tool costs about the size of its JSON
 * text (docs/storage.md has the measured figure), not a jansson tree several times larger.
 * Nothing but those caches changes after the build, so any number of threads may read one
 * concurrently; lookups and pagination allocate nothing.
 * Derived data (the discovery index) is built once per snapshot by extensions (struct
 * gw_snapshot_ext) while the tools are added, off the event loops, and freed with it.
 * Lifetime: a holder (gw_registry_acquire, gw_snapshot_new, gw_snapshot_ref) calls
 * gw_snapshot_release exactly once; entries and strings stay valid until then.
 */
#ifndef GW_REGISTRY_SNAPSHOT_H
#define GW_REGISTRY_SNAPSHOT_H

#include "core/err.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One tool of a snapshot. Members are read-only and valid while the snapshot is held. Use
 * gw_tool_def for anything not here (it parses the definition once per snapshot). */
struct gw_tool_entry {
    const char *name;       /* NUL-terminated, [A-Za-z0-9_-]{1,64} */
    size_t name_len;
    const char *mcp_json;   /* compact MCP tool object, NUL-terminated */
    size_t mcp_json_len;
    const char *bundle;     /* NULL when the tool belongs to no bundle; interned */
    const char *risk;       /* "read" | "write" | "privileged" ("write" when absent); interned */
    const char *const *tags; /* ntags interned strings */
    size_t ntags;
    long long version;      /* the definition's "version" (0 when absent) */
    bool requires_confirmation;     /* the definition's "requiresConfirmation" is true */
    bool param_headers; /* its inputSchema declares x-mcp-header arguments (mcp/mcp_param.h) */
    unsigned char nparam_decls;                 /* how many: */
    const struct gw_schema_header *param_decls; /* those declarations, their strings in the
                                                 * snapshot; NULL when they are invalid (the
                                                 * store refuses them: the check says why) */
    signed char requires_elevation; /* its "requiresElevation": 1, 0, or -1 when absent */
    /* private */
    uint32_t _hash;
    const char *_rest;      /* compact JSON of the definition without the MCP members */
    size_t _rest_len;
    _Atomic(json_t *) _def; /* the parsed definition, once someone asked for it */
};

struct gw_snapshot;
struct gw_schema_header;

/* ---- building ------------------------------------------------------------------------------ */

/* An extension computes derived data from the tools of each snapshot (e.g. a search index).
 * begin() is called before the first tool (n_hint: expected number of tools, 0 if unknown),
 * tool() once per tool with its entry and full definition (both borrowed, valid during the
 * call only: the entry moves when the snapshot is sorted), end() after
 * the last one with the finished snapshot (names resolve with gw_snapshot_find) and returns
 * the extension's data for gw_snapshot_ext (NULL allowed), release() frees that data with the
 * snapshot (or the state, when the build fails). Called on the building thread (never an
 * event loop): they may take time, but must not call back into the registry. */
struct gw_snapshot_ext {
    void *(*begin)(void *ctx, size_t n_hint);
    void (*tool)(void *ctx, void *state, const struct gw_tool_entry *entry, const json_t *def);
    void *(*end)(void *ctx, void *state, const struct gw_snapshot *snap);
    void (*release)(void *ctx, void *data);
    void *ctx;
};

#define GW_SNAPSHOT_EXT_MAX 4

struct gw_snapshot_builder;

/* Starts a snapshot. `version` is what gw_snapshot_version reports; `store_version` the
 * registry version of the store it reflects (0 if none). `exts` (n of them, at most
 * GW_SNAPSHOT_EXT_MAX; copied) run while tools are added. Never NULL (aborts on OOM). */
struct gw_snapshot_builder *gw_snapshot_builder_new(uint64_t version, long long store_version,
                                                    const struct gw_snapshot_ext *exts,
                                                    size_t n);

/* Adds one definition: it must be an object with a valid "name" and an object "inputSchema".
 * Borrowed: what the snapshot needs is copied (compact text), so the caller may free it. An
 * "aliases" member ([{"name","until"}], store-managed) registers the old names of a renamed
 * tool until the given time. GW_OK, GW_EINVAL (bad definition: message names it),
 * GW_ENOMEM. After a failure the builder can only be freed. */
int gw_snapshot_builder_add(struct gw_snapshot_builder *b, const json_t *def,
                            struct gw_error *err);

/* Sets the store version the snapshot reflects (known once the store scan finished). */
void gw_snapshot_builder_set_store_version(struct gw_snapshot_builder *b, long long v);

/* Sorts, indexes and returns the snapshot with one reference in *out; the builder is freed.
 * GW_OK, GW_EINVAL (two tools share a name), GW_ENOMEM. On failure the builder is freed too. */
int gw_snapshot_builder_finish(struct gw_snapshot_builder *b, struct gw_snapshot **out,
                               struct gw_error *err);

/* Abandons a build. Accepts NULL. */
void gw_snapshot_builder_free(struct gw_snapshot_builder *b);

/* Builds a snapshot from an array of tool definitions (any order) with the given extensions
 * (exts may be NULL when n is 0): builder_new + add each + finish. Returns GW_OK with *out
 * holding one reference, GW_EINVAL (bad or duplicate tool: message names it), GW_ENOMEM. */
int gw_snapshot_build(const json_t *defs, uint64_t version, long long store_version,
                      const struct gw_snapshot_ext *exts, size_t n, struct gw_snapshot **out,
                      struct gw_error *err);

/* gw_snapshot_build without extensions. */
int gw_snapshot_new(const json_t *defs, uint64_t version, long long store_version,
                    struct gw_snapshot **out, struct gw_error *err);

/* ---- reading ------------------------------------------------------------------------------- */

/* Takes another reference (returns s). Thread-safe. */
struct gw_snapshot *gw_snapshot_ref(struct gw_snapshot *s);

/* Drops a reference; the last one frees the snapshot. Accepts NULL. Thread-safe. */
void gw_snapshot_release(struct gw_snapshot *s);

/* Monotonically increasing per registry: a newer snapshot has a higher version. */
uint64_t gw_snapshot_version(const struct gw_snapshot *s);

/* The store's registry version this snapshot reflects (0 for snapshots built by hand). */
long long gw_snapshot_store_version(const struct gw_snapshot *s);

/* A 64-bit digest of the tool list (names and definition versions, in order): equal
 * fingerprints mean the same tools at the same versions. */
uint64_t gw_snapshot_fingerprint(const struct gw_snapshot *s);

size_t gw_snapshot_count(const struct gw_snapshot *s);

/* The position of `t` (a tool of this snapshot) in name order. */
size_t gw_snapshot_index(const struct gw_snapshot *s, const struct gw_tool_entry *t);

/* Bytes the snapshot holds (texts, index, entries; not the definitions parsed since by
 * gw_tool_def, nor extension data): for metrics and the per-tool memory figure. */
size_t gw_snapshot_memory(const struct gw_snapshot *s);

/* The data extension `i` (in the order given to the builder) made for this snapshot. */
void *gw_snapshot_ext(const struct gw_snapshot *s, size_t i);

/* The i-th tool in name order; NULL when i >= count. */
const struct gw_tool_entry *gw_snapshot_tool_at(const struct gw_snapshot *s, size_t i);

/* The tool named exactly `name` (len bytes, need not be NUL-terminated); NULL when absent.
 * O(1), no allocation. Aliases are not considered (see gw_snapshot_resolve). */
const struct gw_tool_entry *gw_snapshot_find(const struct gw_snapshot *s, const char *name,
                                             size_t len);

/* Like gw_snapshot_find, then the aliases: a tool that was renamed answers to its old name
 * until the alias expires (*out_alias, may be NULL, is set when the name was an alias). This is
 * what tools/call resolution uses, so an agent relying on an old name keeps working during the
 * deprecation period. */
const struct gw_tool_entry *gw_snapshot_resolve(const struct gw_snapshot *s, const char *name,
                                                size_t len, bool *out_alias);

/* The full definition of a tool (docs/tool-model.md), parsed from the snapshot's compact form
 * on first use and cached there (thread-safe); borrowed, valid while the snapshot is held;
 * never modify, incref or decref it. NULL only on OOM. */
const json_t *gw_tool_def(const struct gw_tool_entry *t);

/* Visibility hook for pagination (the exposure layer supplies it): true = include the tool.
 * Called on the caller's thread, must not block. It should decide from the entry's fields
 * (name, bundle, risk, tags): calling gw_tool_def for every tool of a large catalogue parses
 * every definition. */
typedef bool (*gw_tool_filter_fn)(void *ctx, const struct gw_tool_entry *tool);

/* Size of a buffer that holds any cursor, NUL included. */
#define GW_CURSOR_MAX 128
/* Largest page gw_snapshot_paginate serves. */
#define GW_PAGE_MAX 10000

/* One page of tools in name order for tools/list. `cursor` (cursor_len bytes; NULL or empty
 * = first page) is an opaque string from a previous call's out_next: it encodes the last
 * name returned, not a position in a particular snapshot, so paging continues correctly
 * across registry reloads (tools added before the cursor are skipped, removed ones vanish).
 * Only tools for which `filter` (may be NULL) returns true are returned: at most page_size
 * (1..GW_PAGE_MAX) of them into out_page (caller's array of page_size pointers), their number
 * in *out_n. out_next (GW_CURSOR_MAX bytes) receives the cursor of the next page, or "" when
 * no further tool passes the filter. No allocation.
 * Returns GW_OK, or GW_EINVAL for a malformed, tampered or foreign cursor or a bad page size
 * (nothing written to out_page). Forging a well-formed cursor only moves the start of the
 * page: the filter still applies to every tool returned. */
int gw_snapshot_paginate(const struct gw_snapshot *s, const char *cursor, size_t cursor_len,
                         size_t page_size, gw_tool_filter_fn filter, void *ctx,
                         const struct gw_tool_entry **out_page, size_t *out_n, char *out_next,
                         struct gw_error *err);

#endif
