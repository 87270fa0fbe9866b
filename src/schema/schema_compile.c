/*
 * src/schema/schema_compile.c
 * The schema compiler: JSON schema documents -> an immutable graph of nodes (schema_int.h).
 *
 * Three steps, driven by a work list so that nothing recurses along `$ref` chains:
 *   1. walk()    indexes a document: every subschema in a keyword position of its dialect gets a
 *                node; `$id` opens a resource (base URI, `$schema` dialect, vocabularies);
 *                `$anchor`/`$dynamicAnchor` register names. Nesting is capped (SCHEMA_DEPTH).
 *   2. compile_node() reads the keywords of one node, checks their shape, compiles patterns
 *                and links children; `$ref`/`$dynamicRef` resolve through resources, anchors and
 *                JSON Pointers, loading documents (built-in metaschemas, then the caller's
 *                resolver) and walking targets that were not indexed (pointers into unknown
 *                keywords). New nodes join the work list.
 *   3. done when the work list is empty: every node is compiled, every reference is a pointer.
 * Invariants: a json_t object maps to exactly one node (the first base URI that reached it);
 * booleans get a node per position (jansson shares true/false). Compile-time maps live in a
 * scratch arena freed on return. Not thread-safe while compiling; the result is read-only.
 * Not here: evaluation (schema_validate.c), formats (schema_format.c), URIs (schema_uri.c).
 */
#include "schema/schema_int.h"

#include "core/alloc.h"
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCHEMA_DEPTH 256 /* nesting of subschemas inside one document */
#define META_DEPTH 8     /* chain of custom metaschemas */

/* Dialects: the public three plus 2019-09, which `$schema` can select (not an option). */
enum {
    D_2020 = GW_SCHEMA_2020_12,
    D_07 = GW_SCHEMA_DRAFT_07,
    D_OAS = GW_SCHEMA_OPENAPI_30,
    D_2019 = GW_SCHEMA__DRAFT_2019
};

/* 2019-09 and 2020-12: $ref has siblings, $defs, dependentX, unevaluated*, min/maxContains. */
static bool modern(int d)
{
    return d == D_2020 || d == D_2019;
}

/* Returns from the calling function when `expr` (an int rc) is not GW_OK. */
#define TRY(expr)                 \
    do {                          \
        int rc_ = (expr);         \
        if (rc_ != GW_OK)         \
            return rc_;           \
    } while (0)

/* ---- compile-time hash map: string or pointer keys ---- */

/* One slot: `key` NULL means empty. Keys are borrowed (arena strings or json_t pointers) and
 * outlive the map, which only lives for one gw_schema_compile call. */
struct ment {
    const void *key; /* string (NUL-terminated) or pointer */
    void *val;
    uint64_t h;
};

/* Open addressing, linear probing, capacity a power of two kept at most half full, so a
 * probe sequence always ends on an empty slot. Never shrinks, never deletes. */
struct map {
    struct ment *e;
    size_t cap, n;
    bool ptr_keys;
};

/* FNV-1a, 64 bits: good enough for URIs and anchor names, no allocation. */
static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Pointer keys are mixed (their low bits are alignment zeros); string keys are hashed. */
static uint64_t key_hash(const struct map *m, const void *k)
{
    if (m->ptr_keys) {
        uint64_t x = (uint64_t)(uintptr_t)k;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        return x;
    }
    return hash_bytes(k, strlen(k));
}

/* Pointer identity or string equality, by the map's kind. */
static bool key_eq(const struct map *m, const void *a, const void *b)
{
    return m->ptr_keys ? a == b : strcmp(a, b) == 0;
}

/* The value stored under `k`, or NULL. */
static void *map_get(const struct map *m, const void *k)
{
    if (!m->cap)
        return NULL;
    uint64_t h = key_hash(m, k);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->e[i].key)
            return NULL;
        if (m->e[i].h == h && key_eq(m, m->e[i].key, k))
            return m->e[i].val;
    }
}

/* Inserts or replaces. GW_OK or GW_ENOMEM. */
static int map_put(struct map *m, const void *k, void *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct ment *ne = gw_trycalloc(ncap, sizeof(*ne));
        if (!ne)
            return GW_ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->e[i].key)
                continue;
            size_t j = m->e[i].h & (ncap - 1);
            while (ne[j].key)
                j = (j + 1) & (ncap - 1);
            ne[j] = m->e[i];
        }
        gw_free(m->e);
        m->e = ne;
        m->cap = ncap;
    }
    uint64_t h = key_hash(m, k);
    size_t i = h & (m->cap - 1);
    while (m->e[i].key) {
        if (m->e[i].h == h && key_eq(m, m->e[i].key, k)) {
            m->e[i].val = v;
            return GW_OK;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->e[i] = (struct ment){k, v, h};
    m->n++;
    return GW_OK;
}

/* ---- compiler state ---- */

/* Everything one compilation needs. The result (struct gw_schema) and every node live in
 * `a`; the maps, the work list and `tmp` are released when gw_schema_compile returns. */
struct cctx {
    struct gw_schema *s;
    struct gw_arena *a;   /* the schema's arena (result) */
    struct gw_arena *tmp; /* scratch, freed when compile returns */
    const struct gw_schema_options *opt;
    struct gw_error *err;
    struct map res_by_uri; /* uri -> struct gw_schema__resource* */
    struct map anchors;    /* "uri#name" -> node */
    struct map nodes;      /* json_t* -> node */
    struct map meta;       /* metaschema uri -> struct metainfo* */
    struct gw_schema__node **work;
    size_t nwork, capwork;
    size_t nnodes;
    int ndocs;
    int meta_depth;
    pcre2_general_context *gctx;
    pcre2_compile_context *ccx;
};

/* What a metaschema URI means: the dialect and vocabularies of schemas that name it. */
struct metainfo {
    int dialect;
    unsigned vocab;
};

/* Compile-time view of a resource: what the runtime struct does not need. */
struct resx {
    struct gw_schema__resource res; /* first: a resx* is a resource* */
    json_t *json;
    int dialect;
    unsigned vocab;
};

/* Reports an allocation failure; the compile unwinds with GW_ENOMEM. */
static int oom(struct cctx *c)
{
    return GW_ERROR_SET(c->err, GW_ENOMEM, "out of memory while compiling the schema");
}

/* ---- node locations ---- */

/* Recursion follows `up` links: as deep as the document nesting, which walk() caps. */
int gw_schema__node_path(const struct gw_schema__node *n, struct gw_buf *out)
{
    if (!n)
        return GW_OK;
    if (!n->up) {
        /* absolute location; a document without a URI is shown as "#" */
        const char *r = n->rel ? n->rel : "#";
        return gw_buf_adds(out, r);
    }
    int rc = gw_schema__node_path(n->up, out);
    if (rc == GW_OK)
        rc = gw_buf_addc(out, '/');
    if (rc == GW_OK)
        rc = gw_buf_adds(out, n->rel);
    return rc;
}

/* Formats a compile error located at node `n`, keyword `kw` (may be NULL). */
static int bad(struct cctx *c, const struct gw_schema__node *n, const char *kw, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));
static int bad(struct cctx *c, const struct gw_schema__node *n, const char *kw, const char *fmt,
               ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct gw_buf where;
    gw_buf_init(&where, 180);
    gw_schema__node_path(n, &where);
    if (kw) {
        gw_buf_addc(&where, '/');
        gw_buf_adds(&where, kw);
    }
    GW_ERROR_SET(c->err, GW_EINVAL, "invalid schema at %s: %s", gw_buf_ptr(&where), msg);
    gw_buf_fini(&where);
    return GW_EINVAL;
}

/* A value as short compact JSON for compile error messages. */
static void brief(const json_t *v, char *out, size_t n)
{
    gw_schema__json_brief(v, out, n, n > 8 ? n - 8 : 0);
}

/* "an object", "a string"... for "expected X, found Y" messages. */
static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* ---- nodes and resources ---- */

/* Allocates a node in the schema arena. Defaults mean "keyword absent": no type restriction,
 * unbounded maxima, minContains 1 (contains needs one match unless minContains says else).
 * Boolean nodes are born compiled; object nodes are compiled later from the work list. */
static int new_node(struct cctx *c, uint8_t kind, const struct gw_schema__node *up,
                    const char *rel, const struct gw_schema__resource *res, int dialect,
                    unsigned vocab, struct gw_schema__node **out)
{
    if (c->nnodes >= c->opt->max_nodes)
        return GW_ERROR_SET(c->err, GW_ELIMIT, "schema has more than %zu subschemas",
                            c->opt->max_nodes);
    struct gw_schema__node *n = gw_arena_calloc(c->a, sizeof(*n));
    if (!n)
        return oom(c);
    c->nnodes++;
    n->kind = kind;
    n->up = up;
    n->rel = rel;
    n->res = res;
    n->dialect = (uint8_t)dialect;
    n->vocab = (uint8_t)vocab;
    n->types = GW_SCHEMA__T_ANY;
    n->min_contains = 1;
    n->max_contains = SIZE_MAX;
    n->max_len = n->max_items = n->max_props = SIZE_MAX;
    n->compiled = kind != GW_SCHEMA__N_OBJECT;
    *out = n;
    return GW_OK;
}

/* The relative location "kw" or "kw/key" of a child, JSON-Pointer escaped, in the arena. */
static char *join_rel(struct cctx *c, const char *kw, const char *key, size_t nkey)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    int rc = gw_schema__ptr_escape(&b, kw, strlen(kw));
    if (rc == GW_OK && key) {
        rc = gw_buf_addc(&b, '/');
        if (rc == GW_OK)
            rc = gw_schema__ptr_escape(&b, key, nkey);
    }
    char *r = rc == GW_OK ? gw_arena_strndup(c->a, gw_buf_ptr(&b), gw_buf_len(&b)) : NULL;
    gw_buf_fini(&b);
    if (!r)
        oom(c);
    return r;
}

/* The relative location "kw/i" of the i-th schema of an array keyword. */
static char *join_idx(struct cctx *c, const char *kw, size_t i)
{
    char *r = gw_arena_printf(c->a, "%s/%zu", kw, i);
    if (!r)
        oom(c);
    return r;
}

/* Creates a schema resource and registers it under `uri` unless that URI is taken already (the
 * first resource with a URI wins; duplicates are ignored rather than refused). */
static struct resx *new_resource(struct cctx *c, const char *uri, json_t *json, int dialect,
                                 unsigned vocab)
{
    struct resx *r = gw_arena_calloc(c->a, sizeof(*r));
    if (!r) {
        oom(c);
        return NULL;
    }
    r->res.uri = uri;
    r->json = json;
    r->dialect = dialect;
    r->vocab = vocab;
    if (!map_get(&c->res_by_uri, uri) && map_put(&c->res_by_uri, uri, r) != GW_OK) {
        oom(c);
        return NULL;
    }
    return r;
}

/* Loads the document behind absolute URI `uri` (no fragment): a built-in metaschema, else the
 * caller's resolver. Never touches the network itself. Bounded by max_documents. Errors keep
 * the resolver's code (GW_ENOTFOUND, GW_EIO...) with a message naming the URI. */
static int load_document(struct cctx *c, const char *uri, int dialect, unsigned vocab,
                         struct resx **out);

/* Dialect and vocabularies named by a `$schema` URI. */
static int schema_dialect(struct cctx *c, const char *at, const char *uri, int *dialect,
                          unsigned *vocab)
{
    static const struct {
        const char *tail; /* after "http://" or "https://", without '#' */
        int dialect;
    } known[] = {
        {"json-schema.org/draft/2020-12/schema", D_2020},
        {"json-schema.org/draft/2019-09/schema", D_2019},
        {"json-schema.org/draft-07/schema", D_07},
        {"json-schema.org/draft-06/schema", D_07},
        {"json-schema.org/draft-04/schema", D_OAS},
        {"spec.openapis.org/oas/3.1/dialect/base", D_2020},
    };
    /* http and https spellings, with or without a trailing '#', name the same dialect */
    const char *tail = strncmp(uri, "https://", 8) == 0  ? uri + 8
                       : strncmp(uri, "http://", 7) == 0 ? uri + 7
                                                          : NULL;
    if (tail) {
        size_t n = strlen(tail);
        if (n && tail[n - 1] == '#')
            n--;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (strlen(known[i].tail) == n && memcmp(known[i].tail, tail, n) == 0) {
                *dialect = known[i].dialect;
                *vocab = GW_SCHEMA__VOC_ALL;
                return GW_OK;
            }
        }
    }
    struct metainfo *mi = map_get(&c->meta, uri);
    if (mi) {
        *dialect = mi->dialect;
        *vocab = mi->vocab;
        return GW_OK;
    }
    if (c->meta_depth >= META_DEPTH)
        return GW_ERROR_SET(c->err, GW_ELIMIT,
                            "invalid schema at %s/$schema: metaschema chain deeper than %d",
                            at, META_DEPTH);
    char *frag = NULL;
    char *doc = gw_schema__uri_split(c->tmp, uri, &frag);
    if (!doc)
        return oom(c);
    struct resx *r = map_get(&c->res_by_uri, doc);
    if (!r) {
        c->meta_depth++;
        int rc = load_document(c, doc, D_2020, GW_SCHEMA__VOC_ALL, &r);
        c->meta_depth--;
        if (rc == GW_ENOTFOUND)
            return GW_ERROR_SET(c->err, GW_EINVAL,
                                "invalid schema at %s/$schema: unsupported $schema '%s' (not a "
                                "known dialect, and no document with this URI is available)",
                                at, uri);
        if (rc != GW_OK)
            return rc;
    }
    /* start from the metaschema's own dialect; $vocabulary, when present, decides the rest */
    int d = r->dialect;
    unsigned v = r->vocab & GW_SCHEMA__VOC_FORMAT_ASSERT;
    json_t *voc = json_object_get(r->json, "$vocabulary");
    if (json_is_object(voc)) {
        static const struct {
            const char *name;
            unsigned bit;
        } vocs[] = {
            {"core", 0},
            {"applicator", GW_SCHEMA__VOC_APPLICATOR},
            {"unevaluated", GW_SCHEMA__VOC_UNEVALUATED},
            {"validation", GW_SCHEMA__VOC_VALIDATION},
            {"meta-data", 0},
            {"format-annotation", 0},
            {"format-assertion", GW_SCHEMA__VOC_FORMAT_ASSERT},
            {"content", 0},
        };
        const char *k;
        json_t *val;
        d = D_2020;
        json_object_foreach(voc, k, val)
        {
            const char *pre = "https://json-schema.org/draft/2020-12/vocab/";
            bool found = false;
            if (strncmp(k, pre, strlen(pre)) == 0) {
                for (size_t i = 0; i < sizeof(vocs) / sizeof(vocs[0]); i++) {
                    if (strcmp(k + strlen(pre), vocs[i].name) == 0) {
                        v |= vocs[i].bit;
                        found = true;
                    }
                }
            }
            if (!found && json_is_true(val))
                return GW_ERROR_SET(c->err, GW_EINVAL,
                                    "invalid schema at %s/$schema: metaschema '%s' requires "
                                    "vocabulary '%s', which is not supported",
                                    at, uri, k);
        }
    } else {
        v = r->vocab;
    }
    mi = gw_arena_calloc(c->tmp, sizeof(*mi));
    char *key = gw_arena_strndup(c->tmp, uri, strlen(uri));
    if (!mi || !key)
        return oom(c);
    mi->dialect = d;
    mi->vocab = v;
    if (map_put(&c->meta, key, mi) != GW_OK)
        return oom(c);
    *dialect = d;
    *vocab = v;
    return GW_OK;
}

static int walk(struct cctx *c, json_t *j, const struct gw_schema__node *up, const char *rel,
                struct resx *res, int dialect, unsigned vocab, int depth,
                struct gw_schema__node **out);

/* Walks the subschemas of `j` under keyword `kw` by its shape: one schema, an array of them or
 * an object of them. */
static int walk_kw(struct cctx *c, json_t *j, struct gw_schema__node *n, const char *kw,
                   int shape, struct resx *res, int dialect, unsigned vocab, int depth)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return GW_OK;
    int rc = GW_OK;
    struct gw_schema__node *dummy;
    if (shape == 0 || (shape == 3 && !json_is_array(v))) {
        if (json_is_object(v)) {
            char *rel = join_rel(c, kw, NULL, 0);
            rc = rel ? walk(c, v, n, rel, res, dialect, vocab, depth + 1, &dummy) : GW_ENOMEM;
        }
    } else if (shape == 1 || shape == 3) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (rc != GW_OK)
                break;
            if (!json_is_object(e))
                continue;
            char *rel = join_idx(c, kw, i);
            rc = rel ? walk(c, e, n, rel, res, dialect, vocab, depth + 1, &dummy) : GW_ENOMEM;
        }
    } else if (json_is_object(v)) {
        const char *k;
        size_t kl;
        json_t *e;
        json_object_keylen_foreach(v, k, kl, e)
        {
            if (rc != GW_OK)
                break;
            if (!json_is_object(e))
                continue;
            char *rel = join_rel(c, kw, k, kl);
            rc = rel ? walk(c, e, n, rel, res, dialect, vocab, depth + 1, &dummy) : GW_ENOMEM;
        }
    }
    return rc;
}

/* Queues a node for compile_node. The list only grows during one compilation. */
static int push_work(struct cctx *c, struct gw_schema__node *n)
{
    if (c->nwork == c->capwork) {
        size_t ncap = c->capwork ? c->capwork * 2 : 64;
        struct gw_schema__node **w = gw_tryrealloc(c->work, ncap * sizeof(*w));
        if (!w)
            return oom(c);
        c->work = w;
        c->capwork = ncap;
    }
    c->work[c->nwork++] = n;
    return GW_OK;
}

/* Registers "resource-uri#name" for `$anchor`, `$dynamicAnchor` and draft-07 "#name" ids. */
static int add_anchor(struct cctx *c, struct resx *res, const char *name,
                      struct gw_schema__node *n)
{
    char *key = gw_arena_printf(c->tmp, "%s#%s", res->res.uri, name);
    if (!key)
        return oom(c);
    if (map_get(&c->anchors, key))
        return GW_OK; /* first definition wins */
    return map_put(&c->anchors, key, n) == GW_OK ? GW_OK : oom(c);
}

/* Adds a `$dynamicAnchor` (or 2019-09's nameless `$recursiveAnchor`) to the resource's table
 * used at validation time to resolve `$dynamicRef` through the dynamic scope. */
static int add_dyn_anchor(struct cctx *c, struct resx *r, const char *name,
                          struct gw_schema__node *n)
{
    if (r->res.ndyn == r->res.capdyn) {
        size_t ncap = r->res.capdyn ? r->res.capdyn * 2 : 4;
        struct gw_schema__dynanchor *nd = gw_arena_alloc(c->a, ncap * sizeof(*nd));
        if (!nd)
            return oom(c);
        if (r->res.ndyn)
            memcpy(nd, r->res.dyn, r->res.ndyn * sizeof(*nd));
        r->res.dyn = nd;
        r->res.capdyn = ncap;
    }
    r->res.dyn[r->res.ndyn++] = (struct gw_schema__dynanchor){name, n};
    return GW_OK;
}

/* Step 1: index the object schema `j` (see the file comment). `res` is the enclosing resource
 * (NULL for a document root, whose URI is `rel` minus its '#'). */
static int walk(struct cctx *c, json_t *j, const struct gw_schema__node *up, const char *rel,
                struct resx *res, int dialect, unsigned vocab, int depth,
                struct gw_schema__node **out)
{
    /* reached before (a second path, or a $ref that walked it): one node per object */
    struct gw_schema__node *n = map_get(&c->nodes, j);
    if (n) {
        *out = n;
        return GW_OK;
    }
    /* the only recursion of the compiler: bounded by the nesting of the document */
    if (depth > SCHEMA_DEPTH)
        return GW_ERROR_SET(c->err, GW_ELIMIT, "schema nested deeper than %d levels at %s",
                            SCHEMA_DEPTH, rel);
    bool has_ref = json_object_get(j, "$ref");
    json_t *idv = dialect == D_OAS ? NULL : json_object_get(j, "$id");
    const char *anchor07 = NULL;
    if (idv && dialect == D_07 && has_ref)
        idv = NULL; /* draft-07: $ref makes every sibling, $id included, ignored */
    if (idv && !json_is_string(idv))
        return GW_ERROR_SET(c->err, GW_EINVAL, "invalid schema at %s: $id must be a string",
                            rel);
    /* the base URI in force: the enclosing resource's, or for a document root its own
     * retrieval URI (possibly empty: then relative references stay relative) */
    const char *base = res ? res->res.uri : "";
    if (!res) {
        /* a document root: rel is "uri#" */
        char *frag;
        char *doc = gw_schema__uri_split(c->a, rel, &frag);
        if (!doc)
            return oom(c);
        base = doc;
    }
    /* an `$id` opens a new resource whose URI resolves against the enclosing base; its
     * fragment, if any, is a draft-07 anchor (2020-12 refuses fragments in $id) */
    bool new_res = !res;
    const char *uri = base;
    if (idv) {
        const char *id = json_string_value(idv);
        char *full = gw_schema__uri_resolve(c->a, base, id);
        if (!full)
            return oom(c);
        char *frag;
        char *doc = gw_schema__uri_split(c->a, full, &frag);
        if (!doc)
            return oom(c);
        if (frag && *frag && dialect != D_07)
            return GW_ERROR_SET(c->err, GW_EINVAL,
                                "invalid schema at %s: $id '%s' must not have a fragment "
                                "(use $anchor)",
                                rel, id);
        if (frag && *frag)
            anchor07 = frag; /* draft-07 location-independent identifier */
        if (strcmp(doc, base) != 0) {
            uri = doc;
            new_res = true;
        }
    }
    /* a resource root may switch dialect with `$schema` (2019-09/2020-12 embedded resources;
     * draft-07 and OpenAPI 3.0 only at the document root) */
    struct resx *r = res;
    if (new_res) {
        json_t *sv = json_object_get(j, "$schema");
        if (sv && (modern(dialect) || !res)) {
            if (!json_is_string(sv))
                return GW_ERROR_SET(c->err, GW_EINVAL,
                                    "invalid schema at %s: $schema must be a string", rel);
            int rc = schema_dialect(c, rel, json_string_value(sv), &dialect, &vocab);
            if (rc != GW_OK)
                return rc;
        }
        r = new_resource(c, uri, j, dialect, vocab);
        if (!r)
            return GW_ENOMEM;
        /* the retrieval URI and the $id may differ: both find the document */
        if (!res && strcmp(base, uri) != 0) {
            /* a document is also known by its retrieval URI */
            if (!map_get(&c->res_by_uri, base) && map_put(&c->res_by_uri, base, r) != GW_OK)
                return oom(c);
        }
    }
    int rc = new_node(c, GW_SCHEMA__N_OBJECT, up, rel, &r->res, dialect, vocab, &n);
    if (rc != GW_OK)
        return rc;
    n->json = j;
    if (map_put(&c->nodes, j, n) != GW_OK)
        return oom(c);
    rc = push_work(c, n);
    if (rc != GW_OK)
        return rc;
    *out = n;
    /* names: draft-07 "#name" ids, 2019-09+ $anchor, 2020-12 $dynamicAnchor (also a plain
     * anchor), 2019-09 $recursiveAnchor (nameless, resource roots only) */
    if (anchor07)
        TRY(add_anchor(c, r, anchor07, n));
    if (modern(dialect)) {
        json_t *av = json_object_get(j, "$anchor");
        if (json_is_string(av))
            TRY(add_anchor(c, r, json_string_value(av), n));
        json_t *dv = json_object_get(j, "$dynamicAnchor");
        const char *dyn = NULL;
        if (dialect == D_2020 && json_is_string(dv)) {
            dyn = json_string_value(dv);
            TRY(add_anchor(c, r, dyn, n));
        } else if (dialect == D_2019 && new_res &&
                   json_is_true(json_object_get(j, "$recursiveAnchor"))) {
            dyn = ""; /* 2019-09 $recursiveAnchor: a nameless dynamic anchor at a resource root */
        }
        if (dyn)
            TRY(add_dyn_anchor(c, r, dyn, n));
    }
    /* shapes: 0 = schema, 1 = array of schemas, 2 = object of schemas, 3 = schema or array */
    enum { M = 1u << D_2020 | 1u << D_2019, ALL = 0xf };
    static const struct {
        const char *kw;
        int shape;
        unsigned dialects; /* bit per dialect */
    } kws[] = {
        {"$defs", 2, M},
        {"definitions", 2, ALL},
        {"properties", 2, ALL},
        {"patternProperties", 2, ALL},
        {"additionalProperties", 0, ALL},
        {"dependentSchemas", 2, M},
        {"dependencies", 2, ALL},
        {"propertyNames", 0, M | 1u << D_07},
        {"prefixItems", 1, 1u << D_2020},
        {"items", 0, 1u << D_2020},
        {"items", 3, 1u << D_07 | 1u << D_OAS | 1u << D_2019},
        {"additionalItems", 0, 1u << D_07 | 1u << D_OAS | 1u << D_2019},
        {"contains", 0, M | 1u << D_07},
        {"allOf", 1, ALL},
        {"anyOf", 1, ALL},
        {"oneOf", 1, ALL},
        {"not", 0, ALL},
        {"if", 0, M | 1u << D_07},
        {"then", 0, M | 1u << D_07},
        {"else", 0, M | 1u << D_07},
        {"unevaluatedItems", 0, M},
        {"unevaluatedProperties", 0, M},
    };
    /* descend only into keyword positions of this dialect: an `$id` inside `enum`, `const` or
     * an unknown keyword is data, not an identifier (the suite checks this) */
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]) && rc == GW_OK; i++) {
        if (kws[i].dialects & (1u << dialect))
            rc = walk_kw(c, j, n, kws[i].kw, kws[i].shape, r, dialect, vocab, depth);
    }
    return rc;
}

/* A document: indexes it as a new root resource known by `uri`. Takes `doc` over. */
static int add_document(struct cctx *c, json_t *doc, const char *uri, int dialect,
                        unsigned vocab, struct resx **out)
{
    if (json_array_append_new(c->s->docs, doc) != 0)
        return oom(c);
    if (!json_is_object(doc) && !json_is_boolean(doc) && !uri[0])
        return GW_ERROR_SET(c->err, GW_EINVAL,
                            "the schema must be an object or a boolean, found %s",
                            type_name(doc));
    if (!json_is_object(doc) && !json_is_boolean(doc))
        return GW_ERROR_SET(c->err, GW_EINVAL, "document '%s' is not a schema (found %s)", uri,
                            type_name(doc));
    char *rel = gw_arena_printf(c->a, "%s#", uri);
    if (!rel)
        return oom(c);
    if (json_is_boolean(doc)) {
        struct resx *r = new_resource(c, uri, doc, dialect, vocab);
        if (!r)
            return GW_ENOMEM;
        *out = r;
        return GW_OK;
    }
    struct gw_schema__node *n = NULL;
    int rc = walk(c, doc, NULL, rel, NULL, dialect, vocab, 0, &n);
    if (rc != GW_OK)
        return rc;
    *out = (struct resx *)(uintptr_t)n->res;
    if (!map_get(&c->res_by_uri, uri) && map_put(&c->res_by_uri, uri, *out) != GW_OK)
        return oom(c);
    return GW_OK;
}

static int load_document(struct cctx *c, const char *uri, int dialect, unsigned vocab,
                         struct resx **out)
{
    if (c->ndocs >= c->opt->max_documents)
        return GW_ERROR_SET(c->err, GW_ELIMIT,
                            "schema references more than %d documents (at '%s')",
                            c->opt->max_documents, uri);
    /* built-in metaschemas first: they are the specification and never change */
    json_t *doc = gw_schema__meta_load(uri);
    if (!doc && c->opt->resolve && uri[0]) {
        struct gw_error e;
        gw_error_clear(&e);
        int rc = c->opt->resolve(c->opt->resolve_ud, uri, &doc, &e);
        if (rc != GW_OK) {
            if (rc == GW_ENOTFOUND)
                return GW_ERROR_SET(c->err, GW_ENOTFOUND,
                                    "cannot resolve '%s': no such document", uri);
            return GW_ERROR_SET(c->err, rc, "cannot resolve '%s': %s", uri,
                                e.msg[0] ? e.msg : gw_rc_name(rc));
        }
    }
    if (!doc)
        return GW_ERROR_SET(c->err, GW_ENOTFOUND,
                            "cannot resolve '%s': unknown document (remote references are only "
                            "served by the configured resolver; there is no network access)",
                            uri[0] ? uri : "(empty URI)");
    c->ndocs++;
    char *u = gw_arena_strndup(c->a, uri, strlen(uri));
    if (!u) {
        json_decref(doc);
        return oom(c);
    }
    return add_document(c, doc, u, dialect, vocab, out);
}

/* A document used as a container of schemas (compile with `entry`): registered as the root
 * resource, with the dialect of its `$schema` if it has one, but not walked. Takes `doc` over. */
static int add_container(struct cctx *c, json_t *doc, const char *uri, int dialect,
                         struct resx **out)
{
    if (json_array_append_new(c->s->docs, doc) != 0)
        return oom(c);
    unsigned vocab = GW_SCHEMA__VOC_ALL;
    json_t *sv = json_is_object(doc) ? json_object_get(doc, "$schema") : NULL;
    if (json_is_string(sv))
        TRY(schema_dialect(c, "#", json_string_value(sv), &dialect, &vocab));
    *out = new_resource(c, uri, doc, dialect, vocab);
    return *out ? GW_OK : GW_ENOMEM;
}

/* The node for a subschema value found by a reference or a keyword: objects through the index
 * (walking them now if no keyword position led there), booleans as a fresh node. */
static int node_for(struct cctx *c, json_t *v, const struct gw_schema__node *up,
                    const char *rel, struct resx *res, struct gw_schema__node **out)
{
    if (json_is_object(v)) {
        struct gw_schema__node *n = map_get(&c->nodes, v);
        if (n) {
            *out = n;
            return GW_OK;
        }
        return walk(c, v, up, rel, res, res->dialect, res->vocab, 0, out);
    }
    if (json_is_boolean(v)) {
        struct gw_schema__node *n = NULL;
        int rc = new_node(c, json_is_true(v) ? GW_SCHEMA__N_TRUE : GW_SCHEMA__N_FALSE, up, rel,
                          res ? &res->res : NULL, res ? res->dialect : D_2020, 0, &n);
        if (rc != GW_OK)
            return rc;
        n->json = v;
        *out = n;
        return GW_OK;
    }
    return GW_EINVAL;
}

/* The child schema at `v`, a keyword value of `n`. */
static int child(struct cctx *c, struct gw_schema__node *n, json_t *v, const char *rel,
                 struct gw_schema__node **out)
{
    struct resx *res = (struct resx *)(uintptr_t)n->res;
    int rc = node_for(c, v, n, rel, res, out);
    if (rc == GW_EINVAL)
        return bad(c, n, rel, "expected a schema (object or boolean), found %s", type_name(v));
    return rc;
}

/* Resolves a `$ref`/`$dynamicRef` value of node `n`. */
static int resolve_ref(struct cctx *c, struct gw_schema__node *n, const char *kw,
                       const char *ref, struct gw_schema__node **out, const char **out_anchor)
{
    /* RFC 3986 resolution against the base URI of the resource that contains `n` */
    const char *base = n->res ? n->res->uri : "";
    char *full = gw_schema__uri_resolve(c->a, base, ref);
    if (!full)
        return oom(c);
    char *frag = NULL;
    char *doc = gw_schema__uri_split(c->a, full, &frag);
    if (!doc)
        return oom(c);
    struct resx *r = map_get(&c->res_by_uri, doc);
    if (!r) {
        int rc = load_document(c, doc, n->dialect, GW_SCHEMA__VOC_ALL, &r);
        if (rc != GW_OK) {
            if (c->err && rc != GW_ENOMEM) {
                char inner[GW_ERROR_MSG_MAX];
                snprintf(inner, sizeof(inner), "%s", c->err->msg);
                bad(c, n, kw, "%s", inner);
                c->err->code = rc;
            }
            return rc;
        }
    }
    /* no fragment, "#" or "#/pointer": a location inside the resource (the pointer starts at
     * the resource root, which for an embedded $id is not the document root) */
    *out_anchor = NULL;
    if (!frag || !*frag || *frag == '/') {
        json_t *t = gw_schema__json_pointer(r->json, frag ? frag : "");
        if (!t)
            return bad(c, n, kw, "%s '%s' points to nothing (no such location)", kw, ref);
        int rc = node_for(c, t, NULL, full, r, out);
        if (rc == GW_EINVAL)
            return bad(c, n, kw, "%s '%s' points to %s, not a schema", kw, ref, type_name(t));
        return rc;
    }
    /* "#name": an anchor registered by walk() in that resource */
    char *key = gw_arena_printf(c->tmp, "%s#%s", doc, frag);
    if (!key)
        return oom(c);
    struct gw_schema__node *an = map_get(&c->anchors, key);
    if (!an)
        return bad(c, n, kw, "%s '%s': no anchor '%s' in '%s'", kw, ref, frag,
                   doc[0] ? doc : "this document");
    *out = an;
    *out_anchor = frag;
    return GW_OK;
}

/* ---- keyword readers ---- */

/* A JSON number as struct gw_schema__num; false for non-numbers and non-finite reals. */
static bool read_num(const json_t *v, struct gw_schema__num *out)
{
    if (json_is_integer(v)) {
        out->is_int = true;
        out->i = json_integer_value(v);
        out->d = (double)out->i;
        return true;
    }
    if (json_is_real(v) || gw_json_is_bignum(v)) { /* big numbers (core/json.h) rounded */
        out->is_int = false;
        out->d = gw_json_number(v);
        return isfinite(out->d);
    }
    return false;
}

/* A non-negative integer keyword value (2.0 counts as 2, as draft-06+ allow). */
static int read_count(struct cctx *c, struct gw_schema__node *n, const char *kw, size_t *out)
{
    json_t *v = json_object_get(n->json, kw);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (size_t)json_integer_value(v);
        return GW_OK;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && floor(json_real_value(v)) ==
        json_real_value(v)) {
        double d = json_real_value(v);
        *out = d >= 1.8e19 ? SIZE_MAX : (size_t)d;
        return GW_OK;
    }
    char b[64];
    brief(v, b, sizeof(b));
    return bad(c, n, kw, "expected a non-negative integer, found %s", b);
}

/* An array of strings (required, dependentRequired...) as borrowed name slices. */
static int read_names(struct cctx *c, struct gw_schema__node *n, const char *kw, json_t *v,
                      struct gw_schema__name **out, size_t *nout)
{
    if (!json_is_array(v))
        return bad(c, n, kw, "expected an array of strings, found %s", type_name(v));
    size_t cnt = json_array_size(v);
    struct gw_schema__name *names = gw_arena_alloc(c->a, (cnt ? cnt : 1) * sizeof(*names));
    if (!names)
        return oom(c);
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return bad(c, n, kw, "expected an array of strings, item %zu is %s", i,
                       type_name(e));
        names[i].s = json_string_value(e);
        names[i].n = json_string_length(e);
    }
    *out = names;
    *nout = cnt;
    return GW_OK;
}

/* PCRE2 memory goes through the platform allocator (fallible family). */
static void *pcre_alloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return gw_trymalloc(n);
}

static void pcre_free(void *p, void *ud)
{
    (void)ud;
    gw_free(p);
}

/* Arena cleanup: compiled patterns die with the schema. */
static void code_free(void *p)
{
    pcre2_code_free(p);
}

/* Compiles an ECMA-262 pattern (schema_regex.c translates it) with JIT when available. The
 * pcre2_code is read-only afterwards and shared by all validating threads. */
static int compile_regex(struct cctx *c, struct gw_schema__node *n, const char *kw,
                         const char *pat, size_t len, struct gw_schema__regex *out)
{
    int ec = 0;
    size_t off = 0;
    pcre2_code *code = gw_schema__regex_compile(pat, len, false, c->ccx, &ec, &off);
    if (!code) {
        PCRE2_UCHAR msg[160] = "pattern too long";
        if (ec > 0)
            pcre2_get_error_message(ec, msg, sizeof(msg));
        return bad(c, n, kw, "invalid regular expression '%.80s': %s at offset %zu", pat,
                   (const char *)msg, off);
    }
    if (gw_arena_defer(c->a, code_free, code) != 0)
        return oom(c);
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* interpreter when JIT is unavailable */
    out->code = code;
    out->src = pat;
    return GW_OK;
}

/* `properties`: the name list in schema order (for messages) and an open-addressing index
 * sized to at least twice the count, so lookups during validation stay O(1). */
static int compile_props(struct cctx *c, struct gw_schema__node *n, json_t *v)
{
    if (!json_is_object(v))
        return bad(c, n, "properties", "expected an object of schemas, found %s",
                   type_name(v));
    size_t cnt = json_object_size(v);
    uint32_t cap = 8;
    while (cap < cnt * 2)
        cap *= 2;
    struct gw_schema__propmap *pm = &n->props;
    pm->list = gw_arena_alloc(c->a, (cnt ? cnt : 1) * sizeof(*pm->list));
    pm->slots = gw_arena_calloc(c->a, cap * sizeof(*pm->slots));
    if (!pm->list || !pm->slots)
        return oom(c);
    pm->mask = cap - 1;
    const char *k;
    size_t kl;
    json_t *e;
    uint32_t i = 0;
    json_object_keylen_foreach(v, k, kl, e)
    {
        char *rel = join_rel(c, "properties", k, kl);
        if (!rel)
            return GW_ENOMEM;
        struct gw_schema__prop *p = &pm->list[i];
        p->name.s = k;
        p->name.n = kl;
        p->hash = gw_schema__hash(k, kl);
        int rc = child(c, n, e, rel, &p->node);
        if (rc != GW_OK)
            return rc;
        uint32_t s = p->hash & pm->mask;
        while (pm->slots[s])
            s = (s + 1) & pm->mask;
        pm->slots[s] = i + 1;
        i++;
    }
    pm->n = i;
    return GW_OK;
}

/* An array of subschemas (allOf, anyOf, oneOf, prefixItems, draft-07 items). */
static int compile_schema_array(struct cctx *c, struct gw_schema__node *n, const char *kw,
                                json_t *v, struct gw_schema__node ***out, size_t *nout,
                                bool nonempty)
{
    if (!json_is_array(v) || (nonempty && json_array_size(v) == 0))
        return bad(c, n, kw, "expected a %sarray of schemas, found %s",
                   nonempty ? "non-empty " : "",
                   json_is_array(v) ? "an empty array" : type_name(v));
    size_t cnt = json_array_size(v);
    struct gw_schema__node **arr = gw_arena_alloc(c->a, (cnt ? cnt : 1) * sizeof(*arr));
    if (!arr)
        return oom(c);
    for (size_t i = 0; i < cnt; i++) {
        char *rel = join_idx(c, kw, i);
        if (!rel)
            return GW_ENOMEM;
        int rc = child(c, n, json_array_get(v, i), rel, &arr[i]);
        if (rc != GW_OK)
            return rc;
    }
    *out = arr;
    *nout = cnt;
    return GW_OK;
}

/* The single subschema under `kw`, if present (*out untouched otherwise). */
static int one_child(struct cctx *c, struct gw_schema__node *n, const char *kw,
                     struct gw_schema__node **out)
{
    json_t *v = json_object_get(n->json, kw);
    if (!v)
        return GW_OK;
    char *rel = join_rel(c, kw, NULL, 0);
    return rel ? child(c, n, v, rel, out) : GW_ENOMEM;
}

/* `type`: a name or an array of names into the GW_SCHEMA__T_* mask. */
static int compile_type(struct cctx *c, struct gw_schema__node *n, json_t *v)
{
    static const char *names[] = {"null",   "boolean", "object", "array",
                                  "number", "string",  "integer"};
    uint8_t mask = 0;
    size_t cnt = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_array(v) && !json_is_string(v))
        return bad(c, n, "type", "expected a type name or an array of them, found %s",
                   type_name(v));
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        const char *s = json_string_value(e);
        bool ok = false;
        for (size_t t = 0; s && t < sizeof(names) / sizeof(names[0]); t++) {
            if (strcmp(s, names[t]) == 0) {
                mask |= (uint8_t)(1u << t);
                ok = true;
            }
        }
        if (!ok) {
            char b[64];
            brief(e, b, sizeof(b));
            return bad(c, n, "type",
                       "unknown type %s (expected null, boolean, object, array, number, string "
                       "or integer)",
                       b);
        }
    }
    n->types = mask;
    n->has |= GW_SCHEMA__K_TYPE;
    return GW_OK;
}

/* A numeric keyword (multipleOf, maximum, minimum...) kept exactly (integer or double). */
static int compile_number_kw(struct cctx *c, struct gw_schema__node *n, const char *kw,
                             uint64_t bit, struct gw_schema__num *dst)
{
    json_t *v = json_object_get(n->json, kw);
    if (!v)
        return GW_OK;
    if (!read_num(v, dst)) {
        char b[64];
        brief(v, b, sizeof(b));
        return bad(c, n, kw, "expected a number, found %s", b);
    }
    n->has |= bit;
    return GW_OK;
}

/* exclusiveMinimum/Maximum: a number (draft-06+), or draft-04/OpenAPI 3.0's boolean modifier of
 * minimum/maximum (true turns the inclusive bound into an exclusive one). */
static int compile_exclusive(struct cctx *c, struct gw_schema__node *n, const char *kw,
                             uint64_t base_bit, uint64_t xbit, struct gw_schema__num *base,
                             struct gw_schema__num *x)
{
    json_t *v = json_object_get(n->json, kw);
    if (!v)
        return GW_OK;
    /* the boolean form moves the inclusive bound into the exclusive slot */
    if (json_is_boolean(v) && n->dialect == D_OAS) {
        if (json_is_true(v) && (n->has & base_bit)) {
            *x = *base;
            n->has &= ~base_bit;
            n->has |= xbit;
        }
        return GW_OK;
    }
    return compile_number_kw(c, n, kw, xbit, x);
}

/* dependentRequired / dependentSchemas / dependencies (both forms) into depreq/depsch. */
static int compile_deps(struct cctx *c, struct gw_schema__node *n, const char *kw, bool arrays,
                        bool schemas)
{
    json_t *v = json_object_get(n->json, kw);
    if (!v)
        return GW_OK;
    if (!json_is_object(v))
        return bad(c, n, kw, "expected an object, found %s", type_name(v));
    size_t cnt = json_object_size(v);
    /* grow both arrays to hold what is there plus this keyword's entries */
    struct gw_schema__depreq *dr = gw_arena_alloc(c->a, (n->ndepreq + cnt + 1) * sizeof(*dr));
    struct gw_schema__depsch *ds = gw_arena_alloc(c->a, (n->ndepsch + cnt + 1) * sizeof(*ds));
    if (!dr || !ds)
        return oom(c);
    if (n->ndepreq)
        memcpy(dr, n->depreq, n->ndepreq * sizeof(*dr));
    if (n->ndepsch)
        memcpy(ds, n->depsch, n->ndepsch * sizeof(*ds));
    n->depreq = dr;
    n->depsch = ds;
    const char *k;
    size_t kl;
    json_t *e;
    /* in `dependencies` an array value is a dependentRequired entry, anything else a schema */
    json_object_keylen_foreach(v, k, kl, e)
    {
        if (arrays && (json_is_array(e) || !schemas)) {
            struct gw_schema__depreq *d = &n->depreq[n->ndepreq++];
            d->key = (struct gw_schema__name){k, kl};
            TRY(read_names(c, n, kw, e, &d->req, &d->nreq));
            n->has |= GW_SCHEMA__K_DEPREQ;
            continue;
        }
        struct gw_schema__depsch *d = &n->depsch[n->ndepsch++];
        d->key = (struct gw_schema__name){k, kl};
        char *rel = join_rel(c, kw, k, kl);
        if (!rel)
            return GW_ENOMEM;
        TRY(child(c, n, e, rel, &d->node));
        n->has |= GW_SCHEMA__K_DEPSCH;
    }
    return GW_OK;
}

/* `patternProperties`: one compiled pattern and one subschema per entry. */
static int compile_patprops(struct cctx *c, struct gw_schema__node *n, json_t *v)
{
    if (!json_is_object(v))
        return bad(c, n, "patternProperties", "expected an object of schemas, found %s",
                   type_name(v));
    n->patprops = gw_arena_alloc(c->a, (json_object_size(v) + 1) * sizeof(*n->patprops));
    if (!n->patprops)
        return oom(c);
    const char *k;
    size_t kl;
    json_t *e;
    json_object_keylen_foreach(v, k, kl, e)
    {
        struct gw_schema__patprop *p = &n->patprops[n->npatprops++];
        char *rel = join_rel(c, "patternProperties", k, kl);
        if (!rel)
            return GW_ENOMEM;
        TRY(compile_regex(c, n, rel, k, kl, &p->re));
        TRY(child(c, n, e, rel, &p->node));
    }
    n->has |= GW_SCHEMA__K_PATPROPS;
    return GW_OK;
}

/* $ref, $dynamicRef (2020-12) and $recursiveRef (2019-09). */
static int compile_refs(struct cctx *c, struct gw_schema__node *n)
{
    const char *anchor;
    json_t *v = json_object_get(n->json, "$ref");
    if (v) {
        if (!json_is_string(v))
            return bad(c, n, "$ref", "expected a URI reference string, found %s",
                       type_name(v));
        TRY(resolve_ref(c, n, "$ref", json_string_value(v), &n->ref, &anchor));
        n->has |= GW_SCHEMA__K_REF;
    }
    const char *dkw = n->dialect == D_2020 ? "$dynamicRef"
                      : n->dialect == D_2019 ? "$recursiveRef"
                                             : NULL;
    v = dkw ? json_object_get(n->json, dkw) : NULL;
    if (!v)
        return GW_OK;
    if (!json_is_string(v))
        return bad(c, n, dkw, "expected a URI reference string, found %s", type_name(v));
    TRY(resolve_ref(c, n, dkw, json_string_value(v), &n->dynref, &anchor));
    n->has |= GW_SCHEMA__K_DYNREF;
    /* whether resolution is dynamic is decided now, from the static target (2020-12: the
     * "bookend" must carry the same $dynamicAnchor) */
    const json_t *t = n->dynref->json;
    if (n->dialect == D_2020) {
        /* dynamic only when the initial target carries a matching $dynamicAnchor */
        json_t *da = json_is_object(t) ? json_object_get(t, "$dynamicAnchor") : NULL;
        if (anchor && json_is_string(da) && strcmp(json_string_value(da), anchor) == 0)
            n->dyn_name = json_string_value(da);
    } else if (json_is_object(t) && json_is_true(json_object_get(t, "$recursiveAnchor"))) {
        n->dyn_name = ""; /* 2019-09: the recursive anchor has no name */
    }
    return GW_OK;
}

/* Keywords of the validation vocabulary (type, enum, const, numeric, string, array and object
 * constraints). OpenAPI 3.0 has no const; draft-07 has no dependentRequired. */
static int compile_validation(struct cctx *c, struct gw_schema__node *n)
{
    json_t *j = (json_t *)(uintptr_t)n->json;
    int d = n->dialect;
    json_t *v = json_object_get(j, "type");
    if (v)
        TRY(compile_type(c, n, v));
    if (d == D_OAS && json_is_true(json_object_get(j, "nullable")))
        n->nullable = true;
    v = json_object_get(j, "enum");
    if (v) {
        if (!json_is_array(v))
            return bad(c, n, "enum", "expected an array, found %s", type_name(v));
        n->enum_vals = v;
        n->has |= GW_SCHEMA__K_ENUM;
    }
    v = d != D_OAS ? json_object_get(j, "const") : NULL;
    if (v) {
        n->const_val = v;
        n->has |= GW_SCHEMA__K_CONST;
    }
    /* numbers: bounds kept exactly, exclusive bounds in either dialect form */
    TRY(compile_number_kw(c, n, "multipleOf", GW_SCHEMA__K_MULTIPLE, &n->multiple_of));
    if ((n->has & GW_SCHEMA__K_MULTIPLE) && n->multiple_of.d <= 0)
        return bad(c, n, "multipleOf", "must be greater than 0");
    TRY(compile_number_kw(c, n, "maximum", GW_SCHEMA__K_MAXIMUM, &n->maximum));
    TRY(compile_number_kw(c, n, "minimum", GW_SCHEMA__K_MINIMUM, &n->minimum));
    TRY(compile_exclusive(c, n, "exclusiveMaximum", GW_SCHEMA__K_MAXIMUM, GW_SCHEMA__K_XMAX,
                          &n->maximum, &n->xmax));
    TRY(compile_exclusive(c, n, "exclusiveMinimum", GW_SCHEMA__K_MINIMUM, GW_SCHEMA__K_XMIN,
                          &n->minimum, &n->xmin));
    static const struct {
        const char *kw;
        uint64_t bit;
        size_t off;
    } counts[] = {
        {"maxLength", GW_SCHEMA__K_MAXLEN, offsetof(struct gw_schema__node, max_len)},
        {"minLength", GW_SCHEMA__K_MINLEN, offsetof(struct gw_schema__node, min_len)},
        {"maxItems", GW_SCHEMA__K_MAXITEMS, offsetof(struct gw_schema__node, max_items)},
        {"minItems", GW_SCHEMA__K_MINITEMS, offsetof(struct gw_schema__node, min_items)},
        {"maxProperties", GW_SCHEMA__K_MAXPROPS, offsetof(struct gw_schema__node, max_props)},
        {"minProperties", GW_SCHEMA__K_MINPROPS, offsetof(struct gw_schema__node, min_props)},
    };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        if (!json_object_get(j, counts[i].kw))
            continue;
        size_t *dst = (size_t *)(void *)((char *)n + counts[i].off);
        TRY(read_count(c, n, counts[i].kw, dst));
        n->has |= counts[i].bit;
    }
    v = json_object_get(j, "pattern");
    if (v) {
        if (!json_is_string(v))
            return bad(c, n, "pattern", "expected a string, found %s", type_name(v));
        TRY(compile_regex(c, n, "pattern", json_string_value(v), json_string_length(v),
                          &n->pattern));
        n->has |= GW_SCHEMA__K_PATTERN;
    }
    v = json_object_get(j, "uniqueItems");
    if (v) {
        if (!json_is_boolean(v))
            return bad(c, n, "uniqueItems", "expected a boolean, found %s", type_name(v));
        n->unique = json_is_true(v);
        if (n->unique)
            n->has |= GW_SCHEMA__K_UNIQUE;
    }
    /* required: array of names */
    v = json_object_get(j, "required");
    /* OpenAPI documents often carry a property-level `required: true`: not a constraint */
    if (v && !(d == D_OAS && json_is_boolean(v))) {
        TRY(read_names(c, n, "required", v, &n->required, &n->nrequired));
        n->has |= GW_SCHEMA__K_REQUIRED;
    }
    if (modern(d)) {
        TRY(compile_deps(c, n, "dependentRequired", true, false));
        if (json_object_get(j, "maxContains"))
            TRY(read_count(c, n, "maxContains", &n->max_contains));
        if (json_object_get(j, "minContains"))
            TRY(read_count(c, n, "minContains", &n->min_contains));
    }
    return GW_OK;
}

/* Keywords of the applicator vocabulary: properties and friends, array applicators in the
 * dialect's form (prefixItems+items, or items-tuple+additionalItems), combinators, if/then/else
 * (not in OpenAPI 3.0), contains/propertyNames (not in OpenAPI 3.0). */
static int compile_applicators(struct cctx *c, struct gw_schema__node *n)
{
    json_t *j = (json_t *)(uintptr_t)n->json;
    int d = n->dialect;
    json_t *v = json_object_get(j, "properties");
    if (v) {
        TRY(compile_props(c, n, v));
        n->has |= GW_SCHEMA__K_PROPS;
    }
    v = json_object_get(j, "patternProperties");
    if (v)
        TRY(compile_patprops(c, n, v));
    TRY(one_child(c, n, "additionalProperties", &n->addl_props));
    if (n->addl_props)
        n->has |= GW_SCHEMA__K_ADDLPROPS;
    if (d != D_OAS) {
        TRY(one_child(c, n, "propertyNames", &n->prop_names));
        TRY(one_child(c, n, "contains", &n->contains));
        if (n->prop_names)
            n->has |= GW_SCHEMA__K_PROPNAMES;
        if (n->contains)
            n->has |= GW_SCHEMA__K_CONTAINS;
    }
    if (modern(d))
        TRY(compile_deps(c, n, "dependentSchemas", false, true));
    /* `dependencies` is draft-07's; 2019-09+ split it but it is still honoured there */
    TRY(compile_deps(c, n, "dependencies", true, true));
    /* arrays: prefixItems + items (2020-12), or items as a tuple + additionalItems; both end
     * up as prefix[] (checked by position) and items (the rest) */
    v = json_object_get(j, "items");
    if (d == D_2020) {
        json_t *p = json_object_get(j, "prefixItems");
        if (p) {
            TRY(compile_schema_array(c, n, "prefixItems", p, &n->prefix, &n->nprefix, true));
            n->has |= GW_SCHEMA__K_PREFIX;
        }
        if (json_is_array(v))
            return bad(c, n, "items",
                       "expected a schema; in draft 2020-12 tuples use prefixItems");
        TRY(one_child(c, n, "items", &n->items));
    } else if (json_is_array(v)) {
        TRY(compile_schema_array(c, n, "items", v, &n->prefix, &n->nprefix, false));
        n->has |= GW_SCHEMA__K_PREFIX;
        TRY(one_child(c, n, "additionalItems", &n->items));
    } else {
        TRY(one_child(c, n, "items", &n->items));
    }
    if (n->items)
        n->has |= GW_SCHEMA__K_ITEMS;
    static const struct {
        const char *kw;
        uint64_t bit;
        size_t off, noff;
    } combs[] = {
        {"allOf", GW_SCHEMA__K_ALLOF, offsetof(struct gw_schema__node, all_of),
         offsetof(struct gw_schema__node, nall)},
        {"anyOf", GW_SCHEMA__K_ANYOF, offsetof(struct gw_schema__node, any_of),
         offsetof(struct gw_schema__node, nany)},
        {"oneOf", GW_SCHEMA__K_ONEOF, offsetof(struct gw_schema__node, one_of),
         offsetof(struct gw_schema__node, none)},
    };
    for (size_t i = 0; i < sizeof(combs) / sizeof(combs[0]); i++) {
        v = json_object_get(j, combs[i].kw);
        if (!v)
            continue;
        struct gw_schema__node ***dst =
            (struct gw_schema__node ***)(void *)((char *)n + combs[i].off);
        size_t *ndst = (size_t *)(void *)((char *)n + combs[i].noff);
        TRY(compile_schema_array(c, n, combs[i].kw, v, dst, ndst, true));
        n->has |= combs[i].bit;
    }
    TRY(one_child(c, n, "not", &n->not_));
    if (n->not_)
        n->has |= GW_SCHEMA__K_NOT;
    if (d != D_OAS && json_object_get(j, "if")) {
        TRY(one_child(c, n, "if", &n->if_));
        TRY(one_child(c, n, "then", &n->then_));
        TRY(one_child(c, n, "else", &n->else_));
        n->has |= GW_SCHEMA__K_IF;
    }
    return GW_OK;
}

/* Step 2 for one node: references first (in draft-07 and OpenAPI 3.0 a `$ref` hides its
 * siblings), then the vocabularies the node's resource enables, then format and content. */
static int compile_node(struct cctx *c, struct gw_schema__node *n)
{
    json_t *j = (json_t *)(uintptr_t)n->json;
    int d = n->dialect;
    unsigned vocab = n->vocab;
    n->compiled = true;
    TRY(compile_refs(c, n));
    /* compile_refs ran for every dialect so that a $ref target exists even when siblings are
     * ignored; a stray $dynamicRef next to a draft-07 $ref is dropped */
    if ((n->has & GW_SCHEMA__K_REF) && !modern(d)) {
        n->has &= ~GW_SCHEMA__K_DYNREF;
        return GW_OK; /* draft-07 / OpenAPI 3.0: siblings of $ref are ignored */
    }
    if (vocab & GW_SCHEMA__VOC_VALIDATION)
        TRY(compile_validation(c, n));
    if (vocab & GW_SCHEMA__VOC_APPLICATOR)
        TRY(compile_applicators(c, n));
    if (modern(d) && (vocab & GW_SCHEMA__VOC_UNEVALUATED)) {
        TRY(one_child(c, n, "unevaluatedProperties", &n->uneval_props));
        TRY(one_child(c, n, "unevaluatedItems", &n->uneval_items));
        if (n->uneval_props)
            n->has |= GW_SCHEMA__K_UNEVALPROPS;
        if (n->uneval_items)
            n->has |= GW_SCHEMA__K_UNEVALITEMS;
    }
    /* format: annotation unless asserted by option or vocabulary */
    json_t *v = json_object_get(j, "format");
    if (v) {
        if (!json_is_string(v))
            return bad(c, n, "format", "expected a string, found %s", type_name(v));
        n->format_name = json_string_value(v);
        n->format = gw_schema__format_id(n->format_name);
        n->fmt_assert = (c->opt->format_assert || (vocab & GW_SCHEMA__VOC_FORMAT_ASSERT)) &&
                        n->format != 0;
        if (n->fmt_assert)
            n->has |= GW_SCHEMA__K_FORMAT;
    }
    /* draft-07 content keywords are assertions (2019-09 on made them annotations) */
    if (d == D_07) {
        /* only the encodings/types we can check are asserted; others stay annotations */
        json_t *enc = json_object_get(j, "contentEncoding");
        json_t *mt = json_object_get(j, "contentMediaType");
        n->content_b64 = json_is_string(enc) && strcmp(json_string_value(enc), "base64") == 0;
        n->content_json = json_is_string(mt) &&
                          strcmp(json_string_value(mt), "application/json") == 0;
        if (n->content_b64 || n->content_json)
            n->has |= GW_SCHEMA__K_CONTENT;
    }
    return GW_OK;
}

/* ---- public API ---- */

void gw_schema_options_init(struct gw_schema_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->dialect = GW_SCHEMA_2020_12;
    opt->max_depth = 64;
    opt->max_steps = 100000;
    opt->max_errors = 16;
    opt->regex_budget = 1000000;
    opt->max_nodes = 200000;
    opt->max_documents = 64;
}

/* Names as tool definitions spell them (docs/tool-model.md `schemaDialect`), plus common
 * variants; any "openapi-3.0.x" patch version is OpenAPI 3.0. */
int gw_schema_dialect_parse(const char *name, enum gw_schema_dialect *out)
{
    static const struct {
        const char *name;
        enum gw_schema_dialect d;
    } names[] = {
        {"2020-12", GW_SCHEMA_2020_12},      {"draft2020-12", GW_SCHEMA_2020_12},
        {"draft-2020-12", GW_SCHEMA_2020_12}, {"draft-07", GW_SCHEMA_DRAFT_07},
        {"draft7", GW_SCHEMA_DRAFT_07},       {"draft-7", GW_SCHEMA_DRAFT_07},
        {"openapi-3.0", GW_SCHEMA_OPENAPI_30}, {"oas30", GW_SCHEMA_OPENAPI_30},
        {"openapi-3.0.x", GW_SCHEMA_OPENAPI_30},
    };
    if (!name)
        return GW_EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].d;
            return GW_OK;
        }
    }
    if (strncmp(name, "openapi-3.0.", 12) == 0) {
        *out = GW_SCHEMA_OPENAPI_30;
        return GW_OK;
    }
    return GW_EINVAL;
}

const char *gw_schema_dialect_name(enum gw_schema_dialect d)
{
    switch (d) {
    case GW_SCHEMA_DRAFT_07: return "draft-07";
    case GW_SCHEMA_OPENAPI_30: return "openapi-3.0";
    default: return "2020-12";
    }
}

/* Frees everything a compiled schema owns; the arena's cleanups free the PCRE2 codes. */
static void free_schema(struct gw_schema *s)
{
    if (!s)
        return;
    gw_arena_free(s->arena); /* runs pcre2_code_free for every pattern */
    pcre2_match_context_free(s->mctx);
    json_decref(s->docs);
    gw_free(s);
}

/* Copies caller options over the defaults: zero means default, depth is clamped to the
 * ceiling the evaluator's stack use allows. */
static void options_defaults(const struct gw_schema_options *in, struct gw_schema_options *o)
{
    gw_schema_options_init(o);
    if (!in)
        return;
    o->dialect = in->dialect;
    o->format_assert = in->format_assert;
    o->base_uri = in->base_uri;
    o->entry = in->entry;
    o->share_document = in->share_document;
    o->resolve = in->resolve;
    o->resolve_ud = in->resolve_ud;
    if (in->max_depth > 0)
        o->max_depth = in->max_depth > GW_SCHEMA_DEPTH_CEILING ? GW_SCHEMA_DEPTH_CEILING
                                                               : in->max_depth;
    if (in->max_steps > 0)
        o->max_steps = in->max_steps;
    if (in->max_errors > 0)
        o->max_errors = in->max_errors;
    if (in->regex_budget > 0)
        o->regex_budget = in->regex_budget;
    if (in->max_nodes > 0)
        o->max_nodes = in->max_nodes;
    if (in->max_documents > 0)
        o->max_documents = in->max_documents;
}

/* Public entry (schema.h). Single exit: every failure jumps to `out`, which frees the partial
 * schema (its arena runs the PCRE2 cleanups) and the compile-time state; on success `c.s` is
 * NULL by then, so only the scratch state is freed. */
int gw_schema_compile(const json_t *schema, const struct gw_schema_options *optin,
                      struct gw_schema **out, struct gw_error *err)
{
    struct gw_schema_options opt;
    options_defaults(optin, &opt);
    struct cctx c;
    memset(&c, 0, sizeof(c));
    c.opt = &opt;
    c.err = err;
    c.nodes.ptr_keys = true;
    int rc = GW_ENOMEM;
    *out = NULL;
    if (!schema) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "no schema given");
        goto out;
    }
    if (opt.dialect != GW_SCHEMA_2020_12 && opt.dialect != GW_SCHEMA_DRAFT_07 &&
        opt.dialect != GW_SCHEMA_OPENAPI_30) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "unknown dialect %d", (int)opt.dialect);
        goto out;
    }
    c.s = gw_trycalloc(1, sizeof(*c.s));
    c.tmp = gw_arena_new(0);
    if (!c.s || !c.tmp)
        goto oom;
    atomic_init(&c.s->refs, 1);
    c.s->max_depth = opt.max_depth;
    c.s->max_steps = opt.max_steps;
    c.s->max_errors = opt.max_errors;
    c.s->arena = gw_arena_new(0);
    c.s->docs = json_array();
    c.a = c.s->arena;
    c.gctx = pcre2_general_context_create(pcre_alloc, pcre_free, NULL);
    c.ccx = c.gctx ? pcre2_compile_context_create(c.gctx) : NULL;
    c.s->mctx = c.gctx ? pcre2_match_context_create(c.gctx) : NULL;
    if (!c.s->arena || !c.s->docs || !c.ccx || !c.s->mctx)
        goto oom;
    /* ECMA-262 escapes (\u{...}); the match context carries the per-match budgets and is
     * shared read-only by every validation of this schema */
    pcre2_set_compile_extra_options(c.ccx, PCRE2_EXTRA_ALT_BSUX);
    pcre2_set_match_limit(c.s->mctx, (uint32_t)(opt.regex_budget > UINT32_MAX
                                                     ? UINT32_MAX
                                                     : opt.regex_budget));
    pcre2_set_depth_limit(c.s->mctx, 10000);
    pcre2_set_heap_limit(c.s->mctx, 8192); /* KiB */

    /* compile a private copy: the result must not change if the caller edits its JSON later,
     * and node pointers into it (names, enum values) must stay valid as long as the schema.
     * With share_document the caller promised immutability: a reference is enough. */
    json_t *copy = opt.share_document ? json_incref((json_t *)(uintptr_t)schema)
                                      : json_deep_copy(schema);
    if (!copy)
        goto oom;
    const char *base = opt.base_uri ? opt.base_uri : "";
    char *frag = NULL;
    char *baseu = gw_schema__uri_split(c.a, base, &frag);
    if (!baseu) {
        json_decref(copy);
        goto oom;
    }
    struct resx *root;
    if (!opt.entry) {
        /* step 1 over the whole document */
        rc = add_document(&c, copy, baseu, opt.dialect, GW_SCHEMA__VOC_ALL, &root);
    } else {
        /* a schema inside a larger document (an OpenAPI component): only the entry and what
         * references reach get indexed, so compiling one schema of a large document costs
         * what that schema uses, not the whole document */
        rc = add_container(&c, copy, baseu, opt.dialect, &root);
    }
    if (rc != GW_OK)
        goto out;
    /* the entry schema: the root, or any location of the document (an OpenAPI component) */
    json_t *entry = gw_schema__json_pointer(copy, opt.entry ? opt.entry : "");
    if (!entry) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "entry '%s' does not exist in the schema document",
                          opt.entry);
        goto out;
    }
    char *rel = gw_arena_printf(c.a, "%s#%s", baseu, opt.entry ? opt.entry : "");
    if (!rel)
        goto oom;
    rc = node_for(&c, entry, NULL, rel, root, &c.s->root);
    if (rc == GW_EINVAL) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "the schema must be an object or a boolean, found %s",
                          type_name(entry));
        goto out;
    }
    if (rc != GW_OK)
        goto out;
    /* step 2 until nothing is left: compiling may walk new documents and subtrees, which
     * append to the work list (references never recurse) */
    for (size_t i = 0; i < c.nwork; i++) {
        if (c.work[i]->compiled)
            continue;
        rc = compile_node(&c, c.work[i]);
        if (rc != GW_OK)
            goto out;
    }
    c.s->dialect = (enum gw_schema_dialect)c.s->root->dialect;
    *out = c.s;
    c.s = NULL;
    rc = GW_OK;
    goto out;
oom:
    rc = oom(&c);
out:
    free_schema(c.s);
    gw_arena_free(c.tmp);
    gw_free(c.res_by_uri.e);
    gw_free(c.anchors.e);
    gw_free(c.nodes.e);
    gw_free(c.meta.e);
    gw_free(c.work);
    pcre2_compile_context_free(c.ccx);
    pcre2_general_context_free(c.gctx);
    return rc;
}

/* Relaxed increment: taking a reference needs no ordering, the caller already holds one. */
struct gw_schema *gw_schema_ref(struct gw_schema *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

/* Acquire-release decrement: the thread that frees sees every other thread's last use. */
void gw_schema_release(struct gw_schema *s)
{
    if (!s)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free_schema(s);
}

enum gw_schema_dialect gw_schema_dialect_of(const struct gw_schema *s)
{
    return s->dialect;
}
