/*
 * src/schema/schema_int.h
 * Internal data model of a compiled schema, shared by the compiler (schema_compile.c), the
 * evaluator (schema_validate.c), formats (schema_format.c) and the URI helpers (schema_uri.c).
 * Not a public header: only src/schema/ includes it.
 *
 * A compiled schema is a graph of `struct gw_schema__node`, one per subschema position (object
 * or boolean). Keyword data lives in plain fields selected by the `has` bit set, in the order the
 * evaluator applies them. `$ref`/`$dynamicRef` are resolved to node pointers at compile time, so
 * the graph may have cycles. Every byte of a compiled schema comes from its arena and is
 * read-only after gw_schema_compile returns (that is what makes concurrent validation safe).
 */
#ifndef GW_SCHEMA_SCHEMA_INT_H
#define GW_SCHEMA_SCHEMA_INT_H

#include "core/arena.h"
#include "schema/schema.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>

/* Internal dialect beyond the public enum: selected by a 2019-09 `$schema` only. */
#define GW_SCHEMA__DRAFT_2019 3

/* Vocabularies (2020-12 terms; the other dialects map onto them). */
enum {
    GW_SCHEMA__VOC_APPLICATOR = 1u << 0,
    GW_SCHEMA__VOC_UNEVALUATED = 1u << 1,
    GW_SCHEMA__VOC_VALIDATION = 1u << 2,
    GW_SCHEMA__VOC_FORMAT_ASSERT = 1u << 3, /* format asserts (vocabulary or option) */
    GW_SCHEMA__VOC_ALL = 0x7
};

/* Instance type bits of the `type` keyword. */
enum {
    GW_SCHEMA__T_NULL = 1u << 0,
    GW_SCHEMA__T_BOOLEAN = 1u << 1,
    GW_SCHEMA__T_OBJECT = 1u << 2,
    GW_SCHEMA__T_ARRAY = 1u << 3,
    GW_SCHEMA__T_NUMBER = 1u << 4,
    GW_SCHEMA__T_STRING = 1u << 5,
    GW_SCHEMA__T_INTEGER = 1u << 6,
    GW_SCHEMA__T_ANY = 0x7f
};

/* Keyword presence bits of a node (`has`). */
#define GW_SCHEMA__K_TYPE (1ull << 0)
#define GW_SCHEMA__K_ENUM (1ull << 1)
#define GW_SCHEMA__K_CONST (1ull << 2)
#define GW_SCHEMA__K_MULTIPLE (1ull << 3)
#define GW_SCHEMA__K_MAXIMUM (1ull << 4)
#define GW_SCHEMA__K_MINIMUM (1ull << 5)
#define GW_SCHEMA__K_XMAX (1ull << 6)
#define GW_SCHEMA__K_XMIN (1ull << 7)
#define GW_SCHEMA__K_MAXLEN (1ull << 8)
#define GW_SCHEMA__K_MINLEN (1ull << 9)
#define GW_SCHEMA__K_PATTERN (1ull << 10)
#define GW_SCHEMA__K_FORMAT (1ull << 11)
#define GW_SCHEMA__K_MAXITEMS (1ull << 12)
#define GW_SCHEMA__K_MINITEMS (1ull << 13)
#define GW_SCHEMA__K_UNIQUE (1ull << 14)
#define GW_SCHEMA__K_CONTAINS (1ull << 15)
#define GW_SCHEMA__K_MAXPROPS (1ull << 16)
#define GW_SCHEMA__K_MINPROPS (1ull << 17)
#define GW_SCHEMA__K_REQUIRED (1ull << 18)
#define GW_SCHEMA__K_DEPREQ (1ull << 19)
#define GW_SCHEMA__K_PROPS (1ull << 20)
#define GW_SCHEMA__K_PATPROPS (1ull << 21)
#define GW_SCHEMA__K_ADDLPROPS (1ull << 22)
#define GW_SCHEMA__K_PROPNAMES (1ull << 23)
#define GW_SCHEMA__K_DEPSCH (1ull << 24)
#define GW_SCHEMA__K_PREFIX (1ull << 25)
#define GW_SCHEMA__K_ITEMS (1ull << 26)
#define GW_SCHEMA__K_ALLOF (1ull << 27)
#define GW_SCHEMA__K_ANYOF (1ull << 28)
#define GW_SCHEMA__K_ONEOF (1ull << 29)
#define GW_SCHEMA__K_NOT (1ull << 30)
#define GW_SCHEMA__K_IF (1ull << 31)
#define GW_SCHEMA__K_REF (1ull << 32)
#define GW_SCHEMA__K_DYNREF (1ull << 33)
#define GW_SCHEMA__K_UNEVALPROPS (1ull << 34)
#define GW_SCHEMA__K_UNEVALITEMS (1ull << 35)
#define GW_SCHEMA__K_CONTENT (1ull << 36)

/* A JSON number kept exactly: integers as integers, everything else as double. */
struct gw_schema__num {
    bool is_int;
    json_int_t i;
    double d;
};

/* A name (property, required entry) as pointer + length; `s` is NUL-terminated too. */
struct gw_schema__name {
    const char *s;
    size_t n;
};

struct gw_schema__regex {
    pcre2_code *code;
    const char *src; /* the pattern text, for messages */
};

struct gw_schema__node;

/* `properties`: names in schema order plus an open-addressing index over them. */
struct gw_schema__prop {
    struct gw_schema__name name;
    uint32_t hash;
    struct gw_schema__node *node;
};
struct gw_schema__propmap {
    struct gw_schema__prop *list; /* n entries, schema order */
    uint32_t *slots;              /* mask + 1 entries: 0 = empty, else list index + 1 */
    uint32_t n, mask;
};

struct gw_schema__patprop {
    struct gw_schema__regex re;
    struct gw_schema__node *node;
};

struct gw_schema__depreq { /* dependentRequired / draft-07 array dependencies */
    struct gw_schema__name key;
    struct gw_schema__name *req;
    size_t nreq;
};

struct gw_schema__depsch { /* dependentSchemas / draft-07 schema dependencies */
    struct gw_schema__name key;
    struct gw_schema__node *node;
};

struct gw_schema__dynanchor {
    const char *name;
    struct gw_schema__node *node;
};

/* A schema resource: a document root or a subschema with `$id`. Dynamic scope is a chain of
 * these; `$dynamicRef` looks up `dyn` of each, outermost first. */
struct gw_schema__resource {
    const char *uri; /* absolute (or "" for an anonymous root), never with a fragment */
    struct gw_schema__dynanchor *dyn;
    size_t ndyn, capdyn;
};

enum { GW_SCHEMA__N_OBJECT = 0, GW_SCHEMA__N_TRUE, GW_SCHEMA__N_FALSE };

struct gw_schema__node {
    uint64_t has;
    uint8_t kind;  /* GW_SCHEMA__N_* */
    uint8_t types; /* GW_SCHEMA__T_* of `type` */
    bool nullable; /* OpenAPI 3.0 `nullable: true` */
    bool unique;
    bool fmt_assert;
    bool compiled;
    bool content_b64, content_json; /* draft-07 contentEncoding/contentMediaType */
    uint8_t dialect; /* enum gw_schema_dialect of the enclosing resource */
    uint8_t vocab;   /* GW_SCHEMA__VOC_* of the enclosing resource */
    uint8_t format;  /* schema_format.c id; 0 = unknown/none */
    const char *format_name;
    const json_t *json; /* the subschema itself (in the compiled copy), for messages */
    const struct gw_schema__resource *res;
    /* location: parent node in the document + relative pointer ("properties/a"); a node with no
     * parent carries its absolute location ("uri#/pointer") in `rel` */
    const struct gw_schema__node *up;
    const char *rel;

    struct gw_schema__num multiple_of, maximum, minimum, xmax, xmin;
    size_t max_len, min_len, max_items, min_items, max_props, min_props;
    size_t max_contains, min_contains; /* min_contains defaults to 1, max to SIZE_MAX */
    struct gw_schema__regex pattern;
    const json_t *enum_vals, *const_val;
    struct gw_schema__name *required;
    size_t nrequired;
    struct gw_schema__propmap props;
    struct gw_schema__patprop *patprops;
    size_t npatprops;
    struct gw_schema__depreq *depreq;
    size_t ndepreq;
    struct gw_schema__depsch *depsch;
    size_t ndepsch;
    struct gw_schema__node **prefix; /* prefixItems, or draft-07 `items` array */
    size_t nprefix;
    struct gw_schema__node **all_of, **any_of, **one_of;
    size_t nall, nany, none;
    struct gw_schema__node *addl_props, *prop_names, *contains, *items, *not_, *if_, *then_,
        *else_, *ref, *dynref, *uneval_props, *uneval_items;
    const char *dyn_name; /* $dynamicRef: anchor name when resolution is dynamic, else NULL */
};

struct gw_schema {
    atomic_long refs;
    struct gw_arena *arena;       /* every node, string and table */
    json_t *docs;                 /* array: the compiled copy and every loaded document */
    struct gw_schema__node *root; /* the entry schema */
    enum gw_schema_dialect dialect;
    int max_depth;
    long max_steps;
    int max_errors;
    pcre2_match_context *mctx; /* shared read-only by all validations */
};

/* FNV-1a over bytes: the hash of `properties` names, shared by compiler and evaluator. */
static inline uint32_t gw_schema__hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* ---- schema_uri.c ---- */

/* Resolves `ref` against `base` (RFC 3986 section 5.2; either may be relative or empty) into
 * arena memory. NULL on arena exhaustion. */
char *gw_schema__uri_resolve(struct gw_arena *a, const char *base, const char *ref);
/* Splits `uri` at '#': returns the part before as a new arena string and sets *frag to the
 * fragment (percent-decoded, arena) or NULL when there is no '#'. NULL on exhaustion. */
char *gw_schema__uri_split(struct gw_arena *a, const char *uri, char **frag);
/* Follows JSON Pointer `ptr` ("" or "/a/b", ~0 ~1 escapes) from `root`. NULL if absent. */
json_t *gw_schema__json_pointer(json_t *root, const char *ptr);
/* Appends `s` escaped as one JSON Pointer token (~ and /) to `out`. */
int gw_schema__ptr_escape(struct gw_buf *out, const char *s, size_t n);

/* ---- schema_compile.c ---- */

/* Appends the absolute location of node `n` ("#/properties/a", "uri#/$defs/x") to `out`. */
int gw_schema__node_path(const struct gw_schema__node *n, struct gw_buf *out);

/* ---- schema_regex.c ---- */

/* Rewrites ECMA-262 pattern `pat` into PCRE2 syntax in `out`; strict rejects non-ECMA syntax.
 * GW_OK, GW_EINVAL (strict violation) or GW_ELIMIT/GW_ENOMEM (out full). */
int gw_schema__ecma_regex(const char *pat, size_t len, bool strict, struct gw_buf *out);
/* Translates and compiles with the ECMA-like PCRE2 options. NULL on failure with *errcode a
 * PCRE2 error code (> 0), -1 (strict violation) or -2 (too long). */
pcre2_code *gw_schema__regex_compile(const char *pat, size_t len, bool strict,
                                     pcre2_compile_context *ccx, int *errcode, size_t *erroff);

/* ---- schema_format.c ---- */

/* Format id for a `format` name (0 = not a format we assert). */
uint8_t gw_schema__format_id(const char *name);
/* True when `s` (n bytes, UTF-8) conforms to format `id`; unknown ids accept everything. */
bool gw_schema__format_check_string(uint8_t id, const char *s, size_t n);
/* True when the number `v` conforms to numeric format `id` (int32, int64...). */
bool gw_schema__format_check_number(uint8_t id, const json_t *v);
/* Strict base64 (RFC 4648, padded) into out (room for n / 4 * 3 bytes); false when invalid. */
bool gw_schema__base64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen);
/* True when `id` constrains strings / numbers. */
bool gw_schema__format_is_numeric(uint8_t id);

/* ---- schema_idna.c ---- */

/* `hostname` (idn false: LDH labels, A-labels checked) or `idn-hostname` (U-labels too). */
bool gw_schema__hostname_ok(const char *s, size_t n, bool idn);

/* ---- schema_meta.c ---- */

/* The built-in copy of a metaschema document by its URI (trailing '#' ignored), parsed into a
 * new reference; NULL if `uri` is not one of them. */
json_t *gw_schema__meta_load(const char *uri);

/* ---- schema_report.c ---- */

/* Appends one error to `rep` (strings copied). Returns false when the report is full (the error
 * is counted as omitted). */
bool gw_schema__report_add(struct gw_schema_report *rep, const char *ipath, const char *kw,
                           const char *spath, const char *msg);
void gw_schema__report_set_limit(struct gw_schema_report *rep, const char *msg);
/* Compact JSON of `v` into out (NUL-terminated), at most `max` bytes of it, "..." when cut. */
void gw_schema__json_brief(const json_t *v, char *out, size_t outsz, size_t max);

#endif
