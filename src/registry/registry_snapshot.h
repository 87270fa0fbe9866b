/*
 * src/registry/registry_snapshot.h
 * An immutable, refcounted snapshot of the servable tools: what the data plane reads on the
 * request path (tools/list, tools/call resolution) without touching the database.
 *
 * A snapshot holds the tools sorted by name (byte order), a hash index for O(1) lookup by
 * name, each tool's full definition (docs/tool-model.md; read-only) and its MCP-facing object
 * pre-serialised as compact JSON ({"name","title","description","inputSchema",
 * "outputSchema","annotations"}, absent fields omitted) so that tools/list concatenates
 * strings instead of serialising. Nothing in it changes after gw_snapshot_new returns, so any
 * number of threads may read one concurrently; lookups and pagination allocate nothing.
 * Lifetime: a holder (gw_registry_acquire, gw_snapshot_new, gw_snapshot_ref) calls
 * gw_snapshot_release exactly once; entries and strings stay valid until then.
 */
#ifndef GW_REGISTRY_SNAPSHOT_H
#define GW_REGISTRY_SNAPSHOT_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One tool of a snapshot. Members are read-only and valid while the snapshot is held. */
struct gw_tool_entry {
    const char *name;       /* NUL-terminated, [A-Za-z0-9_-]{1,64} */
    size_t name_len;
    const json_t *def;      /* the full definition; never modify, incref or decref it */
    const char *mcp_json;   /* compact MCP tool object, NUL-terminated */
    size_t mcp_json_len;
    const char *bundle;     /* NULL when the tool belongs to no bundle */
    const char *risk;       /* "read" | "write" | "privileged" ("write" when absent) */
    long long version;      /* the definition's "version" (0 when absent) */
    uint32_t _hash;         /* private */
};

struct gw_snapshot;

/* Builds a snapshot from an array of tool definitions (any order). Each must be an object
 * with a valid unique "name" and an object "inputSchema"; definitions are shared, not copied
 * (they must not be modified afterwards by anyone). `version` is what gw_snapshot_version
 * reports; `store_version` the registry version of the store it reflects (0 if none).
 * Returns GW_OK with *out holding one reference, GW_EINVAL (bad or duplicate tool: message
 * names it), GW_ENOMEM. */
int gw_snapshot_new(const json_t *defs, uint64_t version, long long store_version,
                    struct gw_snapshot **out, struct gw_error *err);

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

/* The i-th tool in name order; NULL when i >= count. */
const struct gw_tool_entry *gw_snapshot_tool_at(const struct gw_snapshot *s, size_t i);

/* The tool named exactly `name` (len bytes, need not be NUL-terminated); NULL when absent.
 * O(1), no allocation. */
const struct gw_tool_entry *gw_snapshot_find(const struct gw_snapshot *s, const char *name,
                                             size_t len);

/* Visibility hook for pagination (the exposure layer supplies it): true = include the tool.
 * Called on the caller's thread, must not block. */
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
