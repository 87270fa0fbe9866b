/*
 * src/openapi/openapi.h
 * OpenAPI / Swagger import: a spec in, MCP tool definitions (docs/tool-model.md) out.
 *
 * Accepts Swagger 2.0, OpenAPI 3.0.x and 3.1.x (3.2 read as 3.1), in JSON or YAML, in one file
 * or split over many ($ref to relative files, and to http(s) URLs when enabled, fetched through
 * the SSRF guard). Every operation becomes one tool; what cannot be imported is reported per
 * operation in the result's warnings, never silently dropped.
 * Design, naming rules and limits: docs/openapi-import.md.
 * Threading: an import is self-contained (no globals); several may run in parallel. Imports
 * BLOCK (file reads, optional URL fetches): run them off the request loops.
 * Not here: persistence, governance settings across versions, exposure (src/registry and
 * friends consume the tool array and the diff).
 */
#ifndef GW_OPENAPI_OPENAPI_H
#define GW_OPENAPI_OPENAPI_H

#include "core/err.h"
#include "core/settings.h"
#include "ssrf/ssrf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits on untrusted input. Every one of them, when exceeded, fails the import with
 * GW_ELIMIT and a message naming the limit. */
struct gw_openapi_limits {
    size_t max_doc_bytes;    /* one document (file, URL, buffer); default 64 MiB */
    size_t max_total_bytes;  /* all documents of one import together; default 256 MiB */
    int max_depth;           /* nesting of objects/arrays in a document; default 256 */
    size_t max_nodes;        /* YAML nodes per document, aliases expanded; default 8 M */
    size_t max_alias_nodes;  /* nodes produced by YAML alias expansion; default 1 M */
    size_t max_refs;         /* $ref resolutions in one import; default 4 M */
    size_t max_documents;    /* documents loaded (root + referenced); default 10000 */
    size_t max_operations;   /* operations in the spec; default 100000 */
    size_t max_tools;        /* tools one import may produce and store in one transaction
                              * (the store applies the same bound); default 100000 */
    size_t max_schema_nodes; /* nodes in one tool's input or output schema, $defs
                              * included; larger output schemas are omitted, larger input
                              * schemas skip the operation (with a warning); default 200000 */
};

/* Called every `progress_every` operations and once at the end: done <= total. Must not call
 * back into the import. */
typedef void (*gw_openapi_progress_fn)(size_t done, size_t total, void *ud);

struct gw_openapi_options {
    const char *spec_id;  /* recorded in source.specId (may be NULL) */
    const char *upstream; /* binding.upstream; default: snake_case of info.title */
    const char *bundle;   /* default bundle of every tool (NULL = null); x-mcp overrides */
    const char *status;   /* initial status, default "active" ("deprecated" for deprecated
                           * operations) */

    /* References to other files: relative to the referring file, and only inside `file_root`
     * (default: the folder of the root document), symlinks resolved. */
    bool allow_file_refs; /* default true */
    const char *file_root;
    /* References to http(s) URLs (and relative references inside a document fetched from a
     * URL): off by default; fetched with `ssrf` (default policy when NULL). */
    bool allow_url_refs;
    const struct gw_ssrf_policy *ssrf;

    /* Which methods become tools: GET PUT POST DELETE PATCH always; HEAD, OPTIONS and TRACE
     * only when set (they are mostly CORS preflights and monitoring). */
    bool include_head_options_trace;
    bool snake_case_names;         /* operationId "getUserById" -> "get_user_by_id"; default true */
    /* Naming across specs (docs/openapi-import.md): a prefix for every tool name of this
     * import ("github" -> "github_get_repo"; NULL or "" = none); name_prefix_mode (setting
     * GW_OPENAPI_NAME_PREFIX) derives it when name_prefix is NULL: "spec" (the spec id) or
     * "bundle" (the tool's bundle, else the spec id), anything else none. The two registry
     * choices below are not used by the importer: the app passes them to the store
     * (store_import.h, store_alias.h). */
    const char *name_prefix;
    const char *name_prefix_mode;
    bool fail_on_conflict; /* GW_IMPORT_ON_CONFLICT=fail: a taken name fails the import */
    int alias_days;        /* GW_TOOL_ALIAS_DAYS: how long a renamed tool answers its old name */
    size_t description_max;        /* tool description limit; default 1024 */
    size_t schema_description_max; /* description inside schemas; default 512 */
    size_t inline_max_nodes;       /* a referenced schema larger than this goes to $defs instead
                                    * of being inlined; default 300 */
    /* Size budgets (JSON values, $defs included) of a tool's input and output schemas: what
     * an agent reads of a tool must fit its context. The deepest nesting levels, then the
     * deepest referenced definitions, beyond the budget become small permissive stubs (type
     * and description kept), reported per tool (input: degraded, output: info). 0 = no
     * budget. Defaults 1000 and 250 (about 17 and 4 KB of JSON). */
    size_t input_schema_budget;
    size_t output_schema_budget;

    struct gw_openapi_limits limits;

    gw_openapi_progress_fn progress;
    void *progress_ud;
    size_t progress_every; /* default 100 */
    size_t parallel_min_operations; /* operations are mapped on two threads from this many
                                       (default 512; 0: always on one) */
};

/* Fills `o` with the defaults documented above. */
void gw_openapi_options_init(struct gw_openapi_options *o);

/* Fills the whole of `o`: the defaults of gw_openapi_options_init, then the GW_OPENAPI_*
 * settings (limits, file/URL refs, methods, texts). Set per-import fields (spec_id, bundle, ...)
 * after the call. The SSRF policy is not built here: pass one built with
 * gw_ssrf_policy_from_settings. */
void gw_openapi_options_from_settings(struct gw_openapi_options *o, const struct gw_settings *s);

/* GW_OPENAPI_* settings; registered by the app. */
extern const struct gw_setting_def gw_openapi_settings[];

/* The result of an import. Value type: the caller owns it and releases it with
 * gw_openapi_result_fini. Members are read-only for the caller.
 * The tools share immutable schema subtrees with each other (jansson reference counts): do
 * not modify a tool's schemas in place; json_deep_copy a tool before editing its schemas.
 * Top-level members of each tool object may be set freely. */
struct gw_openapi_result {
    json_t *tools;      /* array of tool definitions (docs/tool-model.md) */
    json_t *warnings;   /* array of {"operation","operationId","level","code","message"};
                         * level "skipped" (no tool), "degraded" (tool made, something lost)
                         * or "info" */
    json_t *spec;       /* {"title","version","id","dialect","specVersion","servers",
                         * "description","upstream"}; "id" is the spec's registry identity:
                         * options.spec_id, else the title's slug, else (empty title) the file
                         * name unless generic ("openapi.json"), else the first server's host,
                         * else "spec-<hash of the paths>" */
    char dialect[16];   /* "swagger-2.0" | "openapi-3.0" | "openapi-3.1" */
    size_t operations;  /* operations found in the spec */
    size_t tools_count; /* tools produced */
    size_t skipped;     /* operations with a "skipped" warning (errors) */
    size_t excluded;    /* operations excluded on purpose (x-mcp exclude, methods) */
    size_t degraded;    /* tools with at least one "degraded" warning */
    size_t documents;   /* documents loaded (1 for a single-file spec) */
    size_t refs_resolved;
    double elapsed_ms;
    struct gw_openapi__release *release_; /* private: the parsed documents of a large spec,
                                            * still being freed on a background thread that
                                            * gw_openapi_result_fini joins */
};

/* Imports the spec at `path` (JSON or YAML, sniffed from the content). References to other
 * files resolve relative to `path`. Returns GW_OK with `out` filled (possibly with warnings and
 * skipped operations); on failure out is left empty and err says why: GW_EINVAL (not a spec,
 * unsupported version, syntax error with line:column), GW_ENOTFOUND / GW_EIO (file),
 * GW_ELIMIT (a limit), GW_ENOMEM. Blocks (file I/O, URL fetches when enabled). */
int gw_openapi_import_file(const char *path, const struct gw_openapi_options *opts,
                           struct gw_openapi_result *out, struct gw_error *err);

/* Same from memory. `base_uri` locates the document for relative references: a file path, a
 * file:// URI or an http(s) URL (servers with relative URLs resolve against it too); NULL
 * refuses every reference to another document. `buf` is borrowed. */
int gw_openapi_import_buffer(const char *buf, size_t len, const char *base_uri,
                             const struct gw_openapi_options *opts, struct gw_openapi_result *out,
                             struct gw_error *err);

/* Fetches `url` through the SSRF guard (opts->ssrf or a default policy) and imports it; the
 * final URL after redirects is the base URI. Blocks up to the policy timeout per document. */
int gw_openapi_import_url(const char *url, const struct gw_openapi_options *opts,
                          struct gw_openapi_result *out, struct gw_error *err);

/* Releases everything in `r` and zeroes it. Accepts NULL and zeroed structs. */
void gw_openapi_result_fini(struct gw_openapi_result *r);

/* A summary object of the result without the tools: {"spec", "operations", "tools",
 * "skipped", "excluded", "degraded", "documents", "elapsedMs", "warnings"}. New reference. */
json_t *gw_openapi_result_summary(const struct gw_openapi_result *r);

/* Parses a YAML or JSON document (sniffed: '{' or '[' first means JSON) into jansson under the
 * limits (size, depth, nodes, alias expansion; anchors, aliases and merge keys supported;
 * non-string keys stringified; only the first YAML document is read). Returns a new reference,
 * or NULL with err filled (GW_EINVAL with line:column, GW_ELIMIT). Used by the importer and
 * exposed for the fuzzers and other config readers. */
json_t *gw_openapi_parse_document(const char *buf, size_t len, const struct gw_openapi_limits *lim,
                                  struct gw_error *err);

/* Compares the tool set of a previous import of a spec with a new one. Tools are matched by
 * operation identity (source.method + source.path with parameter names ignored, then
 * source.operationId), so a tool renamed by a collision suffix or x-mcp is "changed", not
 * removed + added. Returns a new object:
 *   {"added":   [{"name","method","path","operationId"}],
 *    "removed": [{"name","method","path","operationId"}],
 *    "changed": [{"name","previousName","fields":["description","inputSchema",
 *                 "binding.args",...]}],
 *    "unchanged": <count>}
 * Compared fields: every top-level member except "version" and "status" (store-owned), with
 * "binding" and "source" compared member by member ("source.specVersion" and
 * "source.specId" are ignored). NULL arrays count as empty. NULL only on OOM. Pure. */
json_t *gw_openapi_diff(const json_t *previous_tools, const json_t *new_tools);

#endif
