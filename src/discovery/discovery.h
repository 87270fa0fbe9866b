/*
 * src/discovery/discovery.h
 * Tool discovery for large catalogues: an agent whose context holds a few dozen tool
 * definitions gets `search_tools` and `describe_tools` (plus the tools of the API products it
 * asks for) instead of the full tools/list, finds the tools it needs by words, and calls them
 * by name through the full pipeline (exposure, authorization, limits, validation, ...).
 *
 * Index: BM25F over each tool's name, title, description, parameters (names and
 * descriptions), path words, tags and API product, with a light English stemmer, word splitting
 * of snake_case / camelCase / kebab-case names and a small thesaurus of API verbs and nouns at
 * query time. Built once per registry snapshot while the snapshot is built (a snapshot
 * extension: off the event loops), so a search is a few postings walks, no allocation beyond
 * one score array, and never touches the database.
 * Visibility: results contain only tools the caller may see, decided by the same hook that
 * filters tools/list (gw_pipeline_tool_visible); describe_tools refuses invisible names like
 * unknown ones.
 * Mode (setting GW_DISCOVERY_MODE): off (default), all (every caller), clients (the client
 * applications listed in GW_DISCOVERY_CLIENTS), auto (when the catalogue has more than
 * GW_DISCOVERY_AUTO_THRESHOLD tools). The caller's client id is its principal's (request
 * context), read in one function (discovery.c: caller_client).
 * Threading: the provider runs on the exchange's loop; the index is immutable and shared.
 */
#ifndef GW_DISCOVERY_DISCOVERY_H
#define GW_DISCOVERY_DISCOVERY_H

#include "core/settings.h"
#include "mcp/mcp_provider.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#include <stdbool.h>
#include <stddef.h>

enum gw_discovery_mode {
    GW_DISCOVERY_OFF,
    GW_DISCOVERY_ALL,
    GW_DISCOVERY_CLIENTS,
    GW_DISCOVERY_AUTO
};

struct gw_discovery_config {
    enum gw_discovery_mode mode;
    const char *clients;    /* GW_DISCOVERY_CLIENTS: comma-separated client ids; copied */
    size_t auto_threshold;  /* GW_DISCOVERY_AUTO: more tools than this (default 200) */
    size_t max_results;     /* results of one search (default 10, at most 50) */
};

/* GW_DISCOVERY_* settings; registered by the app. */
extern const struct gw_setting_def gw_discovery_settings[];
/* The config from the settings (strings borrowed from s). */
void gw_discovery_config_from_settings(struct gw_discovery_config *c, const struct gw_settings *s);

struct gw_discovery;

/* Creates the discovery layer over the registry (an index is added to every snapshot from now
 * on: call before serving) and the pipeline (whose provider it wraps and whose visibility hook
 * it uses). Both borrowed; they must outlive it. Blocks (rebuilds the current snapshot). */
struct gw_discovery *gw_discovery_new(struct gw_registry *reg, struct gw_pipeline *p,
                                      const struct gw_discovery_config *cfg);
void gw_discovery_free(struct gw_discovery *d);

/* The MCP provider to register instead of gw_pipeline_provider(p): it serves tools/list and
 * tools/call as the pipeline does for callers without discovery, and search_tools /
 * describe_tools (plus the requested products' tools) for callers with it; a found tool is
 * called by name through the pipeline provider. */
struct gw_mcp_provider gw_discovery_provider(struct gw_discovery *d);

/* ---- the search itself (also for the admin API and tests) -------------------------------- */

struct gw_discovery_hit {
    const struct gw_tool_entry *tool;
    double score;
};

/* Searches the index of snapshot `s` (made by the extension this discovery registered) for
 * `query`: at most k hits, best first, only tools for which visible(ud, tool) is true (NULL =
 * all). Returns the number of hits (0 when nothing matches or the snapshot has no index). */
size_t gw_discovery_search(const struct gw_discovery *d, const struct gw_snapshot *s,
                           const char *query, gw_tool_filter_fn visible, void *ud,
                           struct gw_discovery_hit *out, size_t k);

/* ---- the index, for tests without a registry ----------------------------------------------- */

struct gw_dindex;
/* The snapshot extension that builds a struct gw_dindex (ext data) for every snapshot. */
struct gw_snapshot_ext gw_discovery_index_ext(void);
/* Search over an index directly (see gw_discovery_search). */
size_t gw_dindex_search(const struct gw_dindex *ix, const struct gw_snapshot *s,
                        const char *query, gw_tool_filter_fn visible, void *ud,
                        struct gw_discovery_hit *out, size_t k);
/* Documents, distinct terms and postings of an index, and its bytes (for docs/metrics). */
void gw_dindex_stats(const struct gw_dindex *ix, size_t *docs, size_t *terms, size_t *postings,
                     size_t *bytes);

#endif
