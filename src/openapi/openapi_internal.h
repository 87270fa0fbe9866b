/*
 * src/openapi/openapi_internal.h
 * Types and functions shared by the files of the openapi module only (gw_openapi__ tier).
 *
 * The import context (struct gw_openapi__ctx) lives for one import: the documents loaded, the
 * schema cache (one converted "form" per referenced schema, with its $defs dependencies), the
 * warnings, and the first fatal error. Files:
 *   openapi_yaml.c    YAML/JSON text -> jansson            openapi_doc.c   documents, $ref
 *   openapi_schema.c  schemas -> JSON Schema 2020-12       openapi_name.c  names and texts
 *   openapi_spec.c    spec-wide facts, security, servers   openapi_args.c  parameters, bodies
 *   openapi_map.c     operations -> tools                  openapi_import.c public entry points
 *   openapi_diff.c    re-import diff
 */
#ifndef GW_OPENAPI_INTERNAL_H
#define GW_OPENAPI_INTERNAL_H

#include "openapi/openapi.h"

#include "core/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum gw_openapi__dialect { OA_SWAGGER2 = 2, OA_30 = 30, OA_31 = 31 };

enum gw_openapi__doc_kind { OA_DOC_MEMORY = 0, OA_DOC_FILE, OA_DOC_URL };

/* One loaded document. */
struct gw_openapi__doc {
    char *uri; /* canonical: absolute path (files), URL (urls), base or "" (memory) */
    enum gw_openapi__doc_kind kind;
    json_t *root;
};

/* One referenced schema and its converted form (see openapi_schema.c for the states). */
struct gw_openapi__form {
    json_t *src;                 /* the raw schema node (borrowed from its document) */
    struct gw_openapi__doc *doc; /* base of the $refs inside it */
    json_t *form;                /* converted schema, NULL until built */
    char *name;                  /* its name in $defs */
    json_t *refobj;              /* {"$ref":"#/$defs/<name>"}, shared, made lazily */
    size_t size;                 /* nodes of form, inlined children included */
    size_t *deps;                /* forms referenced through #/$defs from form */
    size_t ndeps;
    unsigned char state; /* 0 new, 1 building, 2 done */
    bool cyclic;         /* reached again while being built */
    bool inlinable;      /* not cyclic and size <= inline_max_nodes */
    bool failed;         /* a $ref inside could not be resolved */
    bool degraded;       /* invalid parts were dropped (note says which) */
    char *note;
    char *problem; /* why it failed */
};

/* A memoised pruned copy of a subschema and the number of stubs in it. */
struct gw_openapi__pruned {
    json_t *v;
    size_t cut;
};

struct gw_openapi__ptrmap {
    const void **keys;
    size_t *vals;
    size_t cap, n;
};

struct gw_openapi__ctx {
    const struct gw_openapi_options *o;
    struct gw_error *err; /* fatal error detail */
    int fatal;            /* GW_OK until a limit or fatal condition is hit */
    enum gw_openapi__dialect dialect;

    struct gw_openapi__doc **docs; /* docs[0] is the root document */
    size_t ndocs;
    json_t *doc_index; /* uri -> index */
    size_t total_bytes;
    char *file_root; /* realpath of the folder external files must stay in; NULL: none */
    struct gw_ssrf_policy *own_ssrf;

    struct gw_openapi__form *forms;
    size_t nforms, capforms;
    struct gw_openapi__ptrmap form_index; /* src node -> index in forms */
    json_t *def_names;                    /* $defs name -> index, for uniqueness */
    unsigned *dep_marks;   /* per form: generation of the last dependency set it joined */
    unsigned *visit_marks; /* per form: generation of the last $defs closure that took it */
    size_t capmarks;
    unsigned generation;

    /* depth pruning of tool schemas (openapi_schema.c): subschema heights and pruned copies
     * memoised by node, so that tools sharing forms share their pruned parts too */
    struct gw_openapi__ptrmap heights;          /* node -> height + 1 */
    struct gw_openapi__ptrmap pruned[65];       /* per levels kept: node -> index + 1 */
    struct gw_openapi__pruned *pruned_v;
    size_t npruned, cappruned;

    size_t nrefs;
    int resolve_depth; /* nesting of gw_openapi__resolve (pointer walks through $refs) */
    int conv_depth;    /* schema conversion recursion, nested builds included */
    json_t *warnings;
    /* the operation being mapped, for warnings */
    const char *op_label;
    const char *op_id;
    /* while operations are mapped on several threads: the documents are shared and read-only,
     * so a reference to a document not loaded yet fails the import with GW_AGAIN (it is then
     * mapped again on one thread) */
    bool docs_frozen;
};

/* A conversion in progress: collects the $defs a schema needs and its size. */
struct gw_openapi__conv {
    struct gw_openapi__ctx *c;
    size_t size;
    size_t *deps;
    size_t ndeps, capdeps;
    unsigned gen;
    int depth;
    int build_depth;
    bool failed;   /* an unresolvable $ref: the schema is incomplete */
    bool degraded; /* something invalid was dropped */
    char problem[300];
    char note[160]; /* what was dropped first, when degraded */
};

/* ---- openapi_yaml.c ---- */
json_t *gw_openapi__yaml_parse(const char *buf, size_t len, const struct gw_openapi_limits *lim,
                               struct gw_error *err);

/* ---- openapi_doc.c ---- */
#define GW_OPENAPI__MAX_WARNINGS 20000 /* per import; later ones are dropped */
void gw_openapi__ctx_init(struct gw_openapi__ctx *c, const struct gw_openapi_options *o,
                          struct gw_error *err);
void gw_openapi__ctx_fini(struct gw_openapi__ctx *c);
/* Loads the root document (from memory, with an optional base URI). GW_OK or fatal code. */
int gw_openapi__load_root(struct gw_openapi__ctx *c, const char *buf, size_t len,
                          const char *base_uri, enum gw_openapi__doc_kind kind);
/* Resolves `ref` found in `doc`: the target node and its document. On failure returns the
 * code and writes the reason into why (a per-operation problem), unless the failure is fatal
 * (a limit), which is also recorded in c->fatal. */
int gw_openapi__resolve(struct gw_openapi__ctx *c, struct gw_openapi__doc *doc, const char *ref,
                        struct gw_openapi__doc **out_doc, json_t **out_node, char *why,
                        size_t why_size);
/* Follows $ref chains on a non-schema object (parameter, response, path item, ...). Returns
 * the final node (and updates *docp) or NULL with why filled. */
json_t *gw_openapi__deref(struct gw_openapi__ctx *c, json_t *node, struct gw_openapi__doc **docp,
                          char *why, size_t why_size);
/* Resolves a relative URL against a base URL (curl's parser), fragment dropped. New string
 * (gw_free) or NULL when either is not a valid URL. */
char *gw_openapi__url_join(const char *base, const char *rel);
/* Appends a warning about the current operation. level: "skipped" | "degraded" | "info". */
void gw_openapi__warn(struct gw_openapi__ctx *c, const char *level, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- openapi_schema.c ---- */
/* Whether `pattern` rejects one of the documented examples (an `examples` string or an
 * "Example: <value>" in the description): such a pattern is a spec error and is not enforced. */
bool gw_openapi__pattern_rejects_examples(const char *pattern, const json_t *examples,
                                          const char *description);
void gw_openapi__conv_init(struct gw_openapi__conv *cv, struct gw_openapi__ctx *c);
void gw_openapi__conv_fini(struct gw_openapi__conv *cv);
/* Converts a schema (new reference; never NULL except on OOM, then cv->failed). */
json_t *gw_openapi__schema(struct gw_openapi__conv *cv, json_t *node, struct gw_openapi__doc *doc);
/* Like gw_openapi__schema, but a $ref at the root is expanded one level even when the target
 * is cyclic or large, so the caller can look into the root (flatten a body, check an output
 * root). The result is a fresh object the caller may modify at the top level. */
json_t *gw_openapi__schema_root(struct gw_openapi__conv *cv, json_t *node,
                                struct gw_openapi__doc *doc);
/* Expands a top-level {"$ref":"#/$defs/X"} produced by the converter into (a shallow copy of)
 * X's form, recording the dependency; other values are returned with a new reference. */
json_t *gw_openapi__expand_def_ref(struct gw_openapi__conv *cv, json_t *schema);
/* The $defs object the schemas converted with cv need (closure, breadth first), or NULL when
 * none. New reference. Adds the node count of the definitions to *size. With a budget (> 0),
 * a definition that would take *size past it becomes a small permissive stub (its references
 * are not followed); *out_stubs (may be NULL) receives how many. */
json_t *gw_openapi__defs(struct gw_openapi__conv *cv, size_t *size, size_t budget,
                         size_t *out_stubs);
/* A tool schema (root, without $defs) cut to `budget` JSON values: the deepest levels of
 * nesting (properties, items, ...; allOf/anyOf/oneOf members count as the same level) become
 * stubs keeping type and description; the arguments (level 1) always stay. Returns a new
 * reference (a pruned copy sharing untouched values, or schema itself); *out_size receives the
 * size kept, *out_cut the number of stubs (0 = unchanged). */
json_t *gw_openapi__prune(struct gw_openapi__ctx *c, json_t *schema, size_t budget,
                          size_t *out_size, size_t *out_cut);
/* Replaces cv's dependencies with the definitions that `schema` (e.g. a pruned root)
 * references, so that the $defs closure holds only what is still reachable. */
void gw_openapi__deps_from(struct gw_openapi__conv *cv, json_t *schema);
/* Releases the schema cache. */
void gw_openapi__forms_fini(struct gw_openapi__ctx *c);

/* ---- openapi_name.c ---- */
/* camelCase / kebab / anything -> snake_case of [a-z0-9_], at most out_size-1 bytes. */
void gw_openapi__snake(const char *in, char *out, size_t out_size);
/* Argument name: [A-Za-z0-9_.-], at most 64 characters, never empty. */
void gw_openapi__arg_name(const char *in, char *out, size_t out_size);
/* Caps a tool name at 64 characters, keeping it unique with a short hash when cut. */
void gw_openapi__cap_name(char *name, size_t size);
/* Trims text for LLM use: normalises line ends, strips, and cuts under `max` bytes at a
 * paragraph, then sentence, then word boundary (UTF-8 safe). Returns a gw_free'd string. */
char *gw_openapi__trim_text(const char *text, size_t max);
/* Tool name for an operation without operationId, from method, path and summary.
 * `prefix_skip` literal path segments (the spec-wide common prefix) are dropped. Writes the
 * version segment it dropped ("v2") into version (may be empty). */
void gw_openapi__name_from_path(const char *method, const char *path, const char *summary,
                                size_t prefix_skip, char *out, size_t out_size, char *version,
                                size_t version_size);
/* Number of leading literal segments (after dropping version and "api" segments) that every
 * path of `paths` shares, leaving at least one segment to each path. */
size_t gw_openapi__common_prefix(json_t *paths);
/* Title from a name: "get_dealer_master" -> "Get dealer master". */
void gw_openapi__title_from_name(const char *name, char *out, size_t out_size);

/* ---- openapi_spec.c / openapi_args.c / openapi_map.c: shared types ---- */

#define GW_OPENAPI__NMETHODS 8
/* Operation keys of a path item, lower case: get put post delete options head patch trace. */
extern const char *const gw_openapi__methods[GW_OPENAPI__NMETHODS];

/* Spec-wide facts computed once per import (openapi_spec.c). */
struct gw_openapi__spec {
    json_t *root;
    struct gw_openapi__doc *doc;
    json_t *servers;             /* array of strings: root servers, resolved */
    json_t *schemes;             /* scheme name -> binding.security entry (object) */
    json_t *cred_header;         /* lower-case header name -> scheme name */
    json_t *cred_query;          /* query parameter name -> scheme name */
    json_t *cred_cookie;         /* cookie name -> scheme name */
    const char *auth_scheme;     /* scheme that fills "Authorization", or NULL */
    json_t *security;            /* root security requirements (array) or NULL */
    json_t *xmcp;                /* root x-mcp object or NULL */
    json_t *consumes, *produces; /* Swagger 2 defaults */
    char upstream[128];
    char spec_id[72]; /* option spec_id, else derived (title, file name, server): see
                       * gw_openapi__spec_init */
    const char *version; /* info.version as text, or NULL */
    char version_buf[64];
    size_t prefix_skip; /* literal path segments every unnamed operation shares */
};

/* The operation being mapped. */
struct gw_openapi__op {
    struct gw_openapi__ctx *c;
    struct gw_openapi__spec *sp;
    const char *path;
    const char *method; /* lower case */
    json_t *op;
    struct gw_openapi__doc *op_doc; /* base of the operation's $refs */
    json_t *pathitem;
    struct gw_openapi__doc *path_doc;
    json_t *xmcp; /* merged x-mcp (owned) */
};

/* What the caller supplies: schema properties and the args that bind them. */
struct gw_openapi__inputs {
    json_t *props;    /* inputSchema.properties */
    json_t *required; /* inputSchema.required */
    json_t *args;     /* binding.args */
    json_t *used;     /* argument names taken (collision rule) */
};

static inline const char *gw_openapi__jstr(json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- openapi_spec.c ---- */
void gw_openapi__spec_init(struct gw_openapi__ctx *c, struct gw_openapi__spec *sp);
void gw_openapi__spec_fini(struct gw_openapi__spec *sp);
/* Resolves an array of 3.x server objects into URL strings (new array). */
json_t *gw_openapi__servers(struct gw_openapi__ctx *c, json_t *servers);
/* Whether parameter (in, name) is filled by a security scheme; returns the scheme name (may be
 * NULL for an Authorization header no scheme claims) and sets *is_cred. */
const char *gw_openapi__credential_scheme(struct gw_openapi__spec *sp, const char *in,
                                          const char *name, bool *is_cred);
/* Sets binding.security and binding.securityRequirements for the operation. */
void gw_openapi__security_binding(struct gw_openapi__op *o, json_t *binding);

/* ---- openapi_args.c ---- */
/* Parameters and body of the operation into `in` and binding.body. false: the operation must be
 * skipped, why says why. */
bool gw_openapi__inputs(struct gw_openapi__op *o, struct gw_openapi__conv *cv,
                        struct gw_openapi__inputs *in, json_t *binding, char *why, size_t why_size);
/* A free argument name for `name` at location `loc` (suffix rule of docs/tool-model.md),
 * marked as taken. */
void gw_openapi__unique_arg(struct gw_openapi__inputs *in, const char *name, const char *loc,
                            char *out, size_t size);
/* Preference rank of a media type for bodies (0 application/json, 1 other JSON, 2 form,
 * 3 multipart, 4 text, 5 XML, 6 octet-stream, 7 any, 8 other). */
int gw_openapi__media_rank(const char *mt);
bool gw_openapi__is_json_media(const char *mt);
/* Best media type key of a 3.x content map; json_only keeps JSON types and any-type. */
const char *gw_openapi__best_media(json_t *content, bool json_only, json_t **out_media);
/* Swagger 2: the first JSON media type of a consumes/produces list, else the first one. */
const char *gw_openapi__swagger_media(json_t *list, bool *any_json);
/* Whether schema's type is (or includes) t. */
bool gw_openapi__type_is(json_t *schema, const char *t);
bool gw_openapi__str_in(json_t *arr, const char *s);

/* ---- openapi_map.c ---- */
/* Maps every operation of the loaded spec into result (tools, warnings, counters). */
int gw_openapi__map(struct gw_openapi__ctx *c, struct gw_openapi_result *r);

#endif
