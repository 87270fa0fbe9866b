/*
 * src/openapi/openapi_settings.c
 * Declarative settings of the importer (GW_OPENAPI_*) and their application to the options.
 * The table is registered by the app; docs/configuration.md is generated from it.
 */
#include "openapi/openapi.h"

#include <string.h>

#define GROUP "OpenAPI import"

const struct gw_setting_def gw_openapi_settings[] = {
    {"GW_OPENAPI_MAX_SPEC_BYTES", GW_SET_INT, "67108864", 1024, 1073741824, NULL, GROUP,
     "Largest single spec document (file, URL or upload) in bytes."},
    {"GW_OPENAPI_MAX_TOTAL_BYTES", GW_SET_INT, "268435456", 1024, 4294967296LL, NULL, GROUP,
     "Largest total size of all documents of one multi-file spec, in bytes."},
    {"GW_OPENAPI_MAX_DOCUMENTS", GW_SET_INT, "10000", 1, 1000000, NULL, GROUP,
     "Most documents (files or URLs) one spec may reference."},
    {"GW_OPENAPI_MAX_REFS", GW_SET_INT, "4194304", 1000, 1000000000, NULL, GROUP,
     "Most $ref resolutions in one import."},
    {"GW_OPENAPI_MAX_OPERATIONS", GW_SET_INT, "100000", 1, 10000000, NULL, GROUP,
     "Most operations one spec may contain (Microsoft Graph has about 22,000)."},
    {"GW_OPENAPI_MAX_TOOLS", GW_SET_INT, "100000", 1, 10000000, NULL, GROUP,
     "Most tools one import may produce and store in one transaction."},
    {"GW_OPENAPI_MAX_DEPTH", GW_SET_INT, "256", 16, 10000, NULL, GROUP,
     "Deepest nesting of objects and arrays in a spec document."},
    {"GW_OPENAPI_MAX_YAML_NODES", GW_SET_INT, "8388608", 1000, 1000000000, NULL, GROUP,
     "Most YAML nodes in one document, aliases expanded."},
    {"GW_OPENAPI_MAX_ALIAS_NODES", GW_SET_INT, "1048576", 0, 1000000000, NULL, GROUP,
     "Most nodes YAML alias expansion may produce (billion-laughs guard)."},
    {"GW_OPENAPI_MAX_SCHEMA_NODES", GW_SET_INT, "200000", 100, 100000000, NULL, GROUP,
     "Largest input or output schema of one tool, $defs included, in nodes."},
    {"GW_OPENAPI_ALLOW_URL_REFS", GW_SET_BOOL, "false", 0, 0, NULL, GROUP,
     "Resolve $ref to http(s) URLs (fetched through the SSRF guard, GW_SSRF_*)."},
    {"GW_OPENAPI_ALLOW_FILE_REFS", GW_SET_BOOL, "true", 0, 0, NULL, GROUP,
     "Resolve $ref to other files next to the spec (never outside its folder)."},
    {"GW_OPENAPI_INCLUDE_HEAD_OPTIONS", GW_SET_BOOL, "false", 0, 0, NULL, GROUP,
     "Also import HEAD, OPTIONS and TRACE operations as tools."},
    {"GW_OPENAPI_DESCRIPTION_MAX", GW_SET_INT, "1024", 64, 65536, NULL, GROUP,
     "Longest tool description, in bytes; longer ones are cut at a paragraph or sentence."},
    {"GW_OPENAPI_INLINE_MAX_NODES", GW_SET_INT, "300", 0, 1000000, NULL, GROUP,
     "Referenced schemas up to this many nodes are inlined; larger or recursive ones go to "
     "$defs."},
    {"GW_OPENAPI_INPUT_SCHEMA_BUDGET", GW_SET_INT, "1000", 0, 100000000, NULL, GROUP,
     "Size budget of a tool's input schema in nodes, $defs included: deeper referenced "
     "definitions beyond it become permissive stubs (degraded warning). 0 = no budget."},
    {"GW_OPENAPI_OUTPUT_SCHEMA_BUDGET", GW_SET_INT, "250", 0, 100000000, NULL, GROUP,
     "Size budget of a tool's output schema in nodes, $defs included: deeper referenced "
     "definitions beyond it become permissive stubs (info warning). 0 = no budget."},
    {"GW_OPENAPI_NAME_PREFIX", GW_SET_ENUM, "none", 0, 0, "none|spec|bundle", GROUP,
     "Prefix of every imported tool name: none, the spec id (spec) or the tool's API product "
     "(bundle, else the spec id), in snake_case, e.g. github_get_repo. `mcpgw import --prefix` "
     "sets one for an import. Names stay stable across re-imports either way."},
    {"GW_IMPORT_ON_CONFLICT", GW_SET_ENUM, "prefix", 0, 0, "prefix|fail", GROUP,
     "A new tool whose name another tool (or a live alias) already has: prefix gives it the "
     "API product's or spec's prefix and reports it; fail refuses the whole import."},
    {"GW_TOOL_ALIAS_DAYS", GW_SET_INT, "90", 1, 3650, NULL, GROUP,
     "Days a renamed tool still answers to its old name (an alias no other tool may take), so "
     "that renames never silently break an agent."},
    GW_SETTINGS_END};

void gw_openapi_options_from_settings(struct gw_openapi_options *o, const struct gw_settings *s)
{
    gw_openapi_options_init(o); /* a complete struct even when the caller did not init it */
    o->limits.max_doc_bytes = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_SPEC_BYTES");
    o->limits.max_total_bytes = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_TOTAL_BYTES");
    o->limits.max_documents = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_DOCUMENTS");
    o->limits.max_refs = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_REFS");
    o->limits.max_operations = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_OPERATIONS");
    o->limits.max_tools = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_TOOLS");
    o->limits.max_depth = (int)gw_settings_int(s, "GW_OPENAPI_MAX_DEPTH");
    o->limits.max_nodes = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_YAML_NODES");
    o->limits.max_alias_nodes = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_ALIAS_NODES");
    o->limits.max_schema_nodes = (size_t)gw_settings_int(s, "GW_OPENAPI_MAX_SCHEMA_NODES");
    o->allow_url_refs = gw_settings_bool(s, "GW_OPENAPI_ALLOW_URL_REFS");
    o->allow_file_refs = gw_settings_bool(s, "GW_OPENAPI_ALLOW_FILE_REFS");
    o->include_head_options_trace = gw_settings_bool(s, "GW_OPENAPI_INCLUDE_HEAD_OPTIONS");
    o->description_max = (size_t)gw_settings_int(s, "GW_OPENAPI_DESCRIPTION_MAX");
    o->inline_max_nodes = (size_t)gw_settings_int(s, "GW_OPENAPI_INLINE_MAX_NODES");
    o->input_schema_budget = (size_t)gw_settings_int(s, "GW_OPENAPI_INPUT_SCHEMA_BUDGET");
    o->output_schema_budget = (size_t)gw_settings_int(s, "GW_OPENAPI_OUTPUT_SCHEMA_BUDGET");
    o->name_prefix_mode = gw_settings_str(s, "GW_OPENAPI_NAME_PREFIX");
    o->fail_on_conflict = !strcmp(gw_settings_str(s, "GW_IMPORT_ON_CONFLICT"), "fail");
    o->alias_days = (int)gw_settings_int(s, "GW_TOOL_ALIAS_DAYS");
}
