/*
 * src/schema/schema.h
 * JSON Schema validation over jansson values: compile once, validate many times.
 *
 * Dialects: draft 2020-12 (default), draft-07 and the OpenAPI 3.0 Schema Object; chosen by
 * option and overridden per schema resource by `$schema`. A compiled schema (struct gw_schema)
 * is immutable, refcounted and safe to use from any number of threads at once; it never
 * touches the network: documents behind absolute `$ref`s come from the built-in metaschemas or
 * from a caller-supplied resolver callback, and anything else is a compile error.
 * Validation is bounded: recursion depth, a work budget of keyword evaluations, a per-match
 * regex budget and a cap on collected errors (see struct gw_schema_options).
 * Errors carry the instance location (JSON Pointer), the keyword, the schema location and a
 * message written for a person or an LLM to act on; gw_schema_report_render() turns them into
 * one text block for an MCP `isError` tool result. Full reference: docs/json-schema.md.
 */
#ifndef GW_SCHEMA_SCHEMA_H
#define GW_SCHEMA_SCHEMA_H

#include "core/buf.h"
#include "core/err.h"
#include "core/settings.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum gw_schema_dialect {
    GW_SCHEMA_2020_12 = 0, /* JSON Schema draft 2020-12 (the default, and MCP's dialect) */
    GW_SCHEMA_DRAFT_07,    /* JSON Schema draft-07 (also used for draft-06 `$schema`s) */
    GW_SCHEMA_OPENAPI_30   /* OpenAPI 3.0 Schema Object (draft-04 based; also draft-04) */
};

/* Supplies the document for an absolute URI (no fragment) that a `$ref` or `$schema` names and
 * that the compiler does not know. On success store a new reference in *out_doc (the compiler
 * takes it over) and return GW_OK; return GW_ENOTFOUND when the URI is unknown, or another
 * code with `err` filled. Called only from gw_schema_compile, on the compiling thread; it must
 * not fetch from the network on the data plane (serve from memory, a store, or files). */
typedef int (*gw_schema_resolve_fn)(void *ud, const char *uri, json_t **out_doc,
                                    struct gw_error *err);

/* Compile and validation options. Zero/NULL members mean "the default" (listed per member), so
 * a zeroed struct, or a NULL pointer, is valid. Borrowed by gw_schema_compile: nothing in it is
 * retained except values copied into the compiled schema. */
struct gw_schema_options {
    enum gw_schema_dialect dialect; /* dialect when the schema has no `$schema`; 2020-12 */
    bool format_assert;            /* true: `format` is an assertion for the formats listed in
                                    * docs/json-schema.md; false (default): annotation only */
    const char *base_uri;          /* retrieval URI of the schema (absolute), for relative
                                    * `$id`/`$ref`; NULL = none (refs stay document-local) */
    const char *entry;             /* JSON Pointer (e.g. "/components/schemas/Booking") to the
                                    * schema inside the given document to validate against; the
                                    * whole document stays reachable by `$ref`, but only what
                                    * the entry reaches is compiled ($id/$anchor declared
                                    * elsewhere in it are not seen). NULL = root */
    bool share_document;           /* true: keep a reference to the caller's document instead
                                    * of a deep copy; the caller must never modify it while a
                                    * compiled schema lives (use for a large document compiled
                                    * many times, e.g. an OpenAPI spec with `entry`) */
    gw_schema_resolve_fn resolve;  /* remote documents; NULL = only built-in metaschemas */
    void *resolve_ud;
    int max_depth;               /* nesting of subschema evaluation per validation; 64 (at
                                  * most GW_SCHEMA_DEPTH_CEILING: each level uses C stack) */
    long max_steps;              /* keyword evaluations per validation; 100000 */
    int max_errors;              /* errors collected in a report; 16 */
    unsigned long regex_budget;  /* PCRE2 match limit per regex match; 1000000 */
    size_t max_nodes;            /* subschemas in one compiled schema; 200000 */
    int max_documents;           /* documents loaded through resolve/metaschemas; 64 */
};

/* Hard ceiling of max_depth: one level costs up to ~2 KB of C stack in the evaluator, so the
 * deepest validation stays within 2 MB, safe on worker threads. Larger values are clamped. */
#define GW_SCHEMA_DEPTH_CEILING 1000

/* Fills `opt` with the defaults documented above (what zeroed members mean). */
void gw_schema_options_init(struct gw_schema_options *opt);

/* The validator's settings (GW_SCHEMA_MAX_DEPTH, _MAX_STEPS, _MAX_ERRORS, _REGEX_BUDGET,
 * _MAX_NODES, _FORMAT_ASSERT), registered by the composition root. */
extern const struct gw_setting_def gw_schema_settings[];

/* Copies the GW_SCHEMA_* values of loaded settings `s` into `opt` (other members untouched). */
void gw_schema_options_from_settings(const struct gw_settings *s, struct gw_schema_options *opt);

/* Parses a dialect name as used in tool definitions ("2020-12", "draft-07", "openapi-3.0";
 * also "draft2020-12", "draft7", "openapi-3.0.x", "oas30"). GW_OK or GW_EINVAL. */
int gw_schema_dialect_parse(const char *name, enum gw_schema_dialect *out);
/* The canonical name of a dialect ("2020-12", "draft-07", "openapi-3.0"); a static string. */
const char *gw_schema_dialect_name(enum gw_schema_dialect d);

struct gw_schema;

/* Compiles `schema` (borrowed: the compiler keeps its own deep copy, so the caller may change or
 * free it afterwards; with opt->share_document it keeps a reference instead). Checks the shape of
 * every keyword it knows (a wrong type, a negative length, an invalid regex, an unresolvable `$ref`
 * or an unknown required vocabulary is an error), resolves every reference (cycles allowed),
 * compiles patterns with PCRE2 (JIT when available). Returns GW_OK with *out set (release with
 * gw_schema_release), or GW_EINVAL (bad schema; err says where and why), GW_ENOTFOUND (a remote
 * document is unknown), GW_ELIMIT (too many subschemas/documents, nesting too deep) or GW_ENOMEM.
 * Blocks only as long as the resolver callback does. */
int gw_schema_compile(const json_t *schema, const struct gw_schema_options *opt,
                      struct gw_schema **out, struct gw_error *err);

/* Takes one more reference (thread-safe). Returns `s`. */
struct gw_schema *gw_schema_ref(struct gw_schema *s);
/* Drops one reference; the last one frees the schema. Accepts NULL. Thread-safe. */
void gw_schema_release(struct gw_schema *s);

/* The dialect of the entry schema after `$schema` was applied. */
enum gw_schema_dialect gw_schema_dialect_of(const struct gw_schema *s);

/* One validation error. All strings are owned by the report and live until it is reset. */
struct gw_schema_error {
    const char *instance_path; /* JSON Pointer into the instance; "" is the whole value */
    const char *keyword;       /* the failing keyword, e.g. "required", "pattern" */
    const char *schema_path;   /* absolute keyword location, e.g. "#/properties/a/pattern" */
    const char *message;       /* e.g. "missing required property 'dealerId'" */
};

/* Collected errors of one validation. Caller-owned value type: init before first use, fini at
 * the end; gw_schema_validate resets it. Members are private: use the functions below. */
struct gw_schema_report {
    struct gw_schema_error *_errs;
    size_t _n, _cap, _omitted;
    int _max;
    bool _limit;
    char _limit_msg[160];
};

/* Prepares an empty report (no allocation until the first error). */
void gw_schema_report_init(struct gw_schema_report *rep);
/* Frees the report's memory; it may be initialised again. Accepts NULL. */
void gw_schema_report_fini(struct gw_schema_report *rep);
/* Forgets all errors, keeping memory for reuse. */
void gw_schema_report_reset(struct gw_schema_report *rep);
/* Number of errors kept (at most the schema's max_errors); 0 for NULL. */
size_t gw_schema_report_count(const struct gw_schema_report *rep);
/* The i-th error (0-based, in discovery order), or NULL past the end. */
const struct gw_schema_error *gw_schema_report_get(const struct gw_schema_report *rep, size_t i);
/* Errors found but not kept because the max_errors cap was reached (a lower bound: validation
 * stops collecting once the cap is hit). */
size_t gw_schema_report_omitted(const struct gw_schema_report *rep);
/* Why validation stopped early (budget/depth), or NULL when it did not. */
const char *gw_schema_report_limit(const struct gw_schema_report *rep);

/* Validates `instance` (borrowed, read-only; may be shared with other threads that only read)
 * against `s`. `rep` may be NULL: then the first failure ends validation (fastest path).
 * Returns GW_OK (valid), GW_EINVAL (invalid: rep holds the errors), GW_ELIMIT (the depth or
 * work budget, or a regex match budget, ran out: the value is treated as invalid and rep says
 * which limit) or GW_ENOMEM. Never blocks; does not allocate when the value is valid and the
 * schema uses no unevaluated or propertyNames keywords on large containers. */
int gw_schema_validate(const struct gw_schema *s, const json_t *instance,
                       struct gw_schema_report *rep);

/* Appends the report as one text block fit for an MCP `isError` result, e.g.
 *   Invalid arguments: 2 errors.
 *   - at /vehicle/registrationNumber: value 'abc' does not match pattern '^[A-Z]{2}'
 *   - at the top level: missing required property 'dealerId'
 * `subject` names what was validated ("arguments"; NULL = "value"). GW_OK, GW_ELIMIT (out is
 * full; it then holds a truncated but well-formed block) or GW_ENOMEM. */
int gw_schema_report_render(const struct gw_schema_report *rep, const char *subject,
                            struct gw_buf *out);

/* The errors as a new JSON array of {"instancePath","keyword","schemaPath","message"} objects
 * (caller json_decref's it), for structured error data. NULL on OOM. */
json_t *gw_schema_report_json(const struct gw_schema_report *rep);

#endif
