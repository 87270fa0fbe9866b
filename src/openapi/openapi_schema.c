/*
 * src/openapi/openapi_schema.c
 * OpenAPI schemas (Swagger 2, OpenAPI 3.0, 3.1) into JSON Schema 2020-12, with $ref inlining,
 * cycle handling and $defs.
 *
 * Design. Every referenced schema (keyed by the identity of its node in its document) gets one
 * cache entry, a "form", converted once per import and shared by every tool that uses it
 * (jansson reference counts; forms are immutable once built). Building a form converts its
 * node; a nested $ref to another entry either inlines that entry's form (when it is
 * "inlinable": not cyclic, at most inline_max_nodes nodes) or becomes {"$ref":"#/$defs/<name>"}
 * and records the entry as a dependency. A tool's $defs section is the closure of the
 * dependencies of its schemas. So recursive schemas become $defs references instead of
 * expanding forever, large shared schemas appear once per tool, and the cost of an import is
 * linear in the size of the spec, not in the number of paths through its references.
 *
 * Form states (struct gw_openapi__form.state):
 *     NEW --build()--> BUILDING --build() returns--> DONE
 *   1. A form is built at most once. While BUILDING, reaching it again means a cycle: the form
 *      is marked cyclic (never inlined) and referenced through $defs.
 *   2. Nested builds are bounded (MAX_BUILD_DEPTH): deeper entries stay NEW, are referenced
 *      through $defs and built later by the $defs closure, so no stack overflow on long chains.
 *   3. A form whose conversion met an unresolvable $ref is DONE with failed = true; every tool
 *      that needs it reports the problem.
 *
 * Conversion rules (per schema object): nullable / x-nullable -> "null" in type (or anyOf with
 * {"type":"null"} when there is no type), example -> examples, boolean exclusiveMinimum/Maximum
 * -> numeric form, Swagger "type: file" -> string/binary, tuple items -> prefixItems, Swagger's
 * string discriminator -> {"propertyName"}, discriminator kept as an annotation, x-* / xml /
 * externalDocs / $schema / $id / local $defs dropped, long descriptions trimmed, invalid type
 * names dropped (degraded). $ref siblings: annotations overlay the target; in 3.1 other
 * keywords combine with allOf; in 3.0/2.0 they are ignored, as the spec says.
 */
#include "openapi/openapi_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/alloc.h"
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { ST_NEW = 0, ST_BUILDING = 1, ST_DONE = 2 };

#define MAX_BUILD_DEPTH 48
#define MAX_SCHEMA_DEPTH 200
#define MAX_TOTAL_DEPTH 256 /* schema recursion across nested builds before builds are deferred */
#define MAX_DEF_SUFFIX 100000

/* ---- pointer map ---- */

/* Pointer hash (a 64-bit finaliser): nodes are allocated close together. */
static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* Open addressing, linear probing, power-of-two capacity, at most half full. */
static bool ptrmap_get(const struct gw_openapi__ptrmap *m, const void *key, size_t *val)
{
    if (!m->cap)
        return false;
    for (size_t i = ptr_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return false;
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return true;
        }
    }
}

/* Inserts or replaces; grows (rehash) before the table gets half full. */
static void ptrmap_put(struct gw_openapi__ptrmap *m, const void *key, size_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        const void **keys = gw_xcalloc(cap, sizeof(*keys));
        size_t *vals = gw_xcalloc(cap, sizeof(*vals));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = ptr_hash(m->keys[i]) & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        gw_free(m->keys);
        gw_free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = ptr_hash(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
}

/* ---- forms ---- */

void gw_openapi__forms_fini(struct gw_openapi__ctx *c)
{
    for (size_t i = 0; i < c->nforms; i++) {
        struct gw_openapi__form *f = &c->forms[i];
        json_decref(f->form);
        json_decref(f->refobj);
        gw_free(f->name);
        gw_free(f->deps);
        gw_free(f->problem);
        gw_free(f->note);
    }
    gw_free(c->forms);
    gw_free(c->form_index.keys);
    gw_free(c->form_index.vals);
    for (size_t i = 0; i < c->heights.cap; i++)
        json_decref((json_t *)(uintptr_t)c->heights.keys[i]);
    gw_free(c->heights.keys);
    gw_free(c->heights.vals);
    memset(&c->heights, 0, sizeof(c->heights));
    for (size_t i = 0; i < 65; i++) {
        gw_free(c->pruned[i].keys);
        gw_free(c->pruned[i].vals);
        memset(&c->pruned[i], 0, sizeof(c->pruned[i]));
    }
    for (size_t i = 0; i < c->npruned; i++)
        json_decref(c->pruned_v[i].v);
    gw_free(c->pruned_v);
    c->pruned_v = NULL;
    c->npruned = c->cappruned = 0;
    gw_free(c->dep_marks);
    gw_free(c->visit_marks);
    c->forms = NULL;
    c->nforms = c->capforms = c->capmarks = 0;
    memset(&c->form_index, 0, sizeof(c->form_index));
    c->dep_marks = c->visit_marks = NULL;
}

/* Grows the per-form mark arrays to the capacity of the form array. */
static void marks_ensure(struct gw_openapi__ctx *c)
{
    if (c->capmarks >= c->nforms)
        return;
    size_t cap = c->capforms;
    c->dep_marks = gw_xrealloc(c->dep_marks, cap * sizeof(unsigned));
    c->visit_marks = gw_xrealloc(c->visit_marks, cap * sizeof(unsigned));
    memset(c->dep_marks + c->capmarks, 0, (cap - c->capmarks) * sizeof(unsigned));
    memset(c->visit_marks + c->capmarks, 0, (cap - c->capmarks) * sizeof(unsigned));
    c->capmarks = cap;
}

/* $defs name for a reference: last pointer token, else the file stem; [A-Za-z0-9_.-]. */
static void def_base_name(const char *ref, char *out, size_t size)
{
    const char *hash = strchr(ref, '#');
    const char *start = NULL, *end = NULL;
    if (hash && hash[1]) {
        const char *slash = strrchr(hash, '/');
        start = slash ? slash + 1 : hash + 1;
        end = start + strlen(start);
    } else {
        end = hash ? hash : ref + strlen(ref);
        const char *slash = end;
        while (slash > ref && slash[-1] != '/')
            slash--;
        start = slash;
        const char *dot = end;
        while (dot > start && *dot != '.')
            dot--;
        if (dot > start)
            end = dot;
    }
    size_t j = 0;
    for (const char *p = start; p < end && j + 1 < size; p++) {
        char ch = *p;
        if (ch == '~' && p + 1 < end && (p[1] == '0' || p[1] == '1')) {
            ch = '_';
            p++;
        }
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        out[j++] = ok ? ch : '_';
    }
    out[j] = '\0';
    if (j == 0)
        snprintf(out, size, "schema");
}

/* The cache entry of a referenced schema node, created NEW on first sight with a $defs name
 * derived from the reference and made unique. */
static size_t form_lookup_or_add(struct gw_openapi__ctx *c, json_t *src,
                                 struct gw_openapi__doc *doc, const char *ref)
{
    size_t idx;
    if (ptrmap_get(&c->form_index, src, &idx))
        return idx;
    if (c->nforms == c->capforms) {
        size_t cap = c->capforms ? c->capforms * 2 : 64;
        c->forms = gw_xrealloc(c->forms, cap * sizeof(*c->forms));
        c->capforms = cap;
    }
    idx = c->nforms++;
    struct gw_openapi__form *f = &c->forms[idx];
    memset(f, 0, sizeof(*f));
    f->src = src;
    f->doc = doc;
    char base[96], name[120];
    def_base_name(ref, base, sizeof(base));
    snprintf(name, sizeof(name), "%s", base);
    for (unsigned k = 2; json_object_get(c->def_names, name) && k < MAX_DEF_SUFFIX; k++)
        snprintf(name, sizeof(name), "%s_%u", base, k);
    f->name = gw_xstrdup(name);
    json_object_set_new(c->def_names, name, json_integer((json_int_t)idx));
    ptrmap_put(&c->form_index, src, idx);
    marks_ensure(c);
    return idx;
}

/* A conversion that uses form f inherits its degradation note. */
static void inherit(struct gw_openapi__conv *cv, const struct gw_openapi__form *f)
{
    if (f->degraded && !cv->degraded) {
        snprintf(cv->note, sizeof(cv->note), "%s", f->note ? f->note : "");
        cv->degraded = true;
    }
}

/* {"$ref":"#/$defs/<name>"} of a form (shared, immutable): new reference. */
static json_t *form_ref(struct gw_openapi__form *f)
{
    if (!f->refobj) {
        char ref[160];
        snprintf(ref, sizeof(ref), "#/$defs/%s", f->name);
        f->refobj = json_object();
        json_object_set_new(f->refobj, "$ref", json_string(ref));
    }
    return json_incref(f->refobj);
}

/* ---- conversions ---- */

void gw_openapi__conv_init(struct gw_openapi__conv *cv, struct gw_openapi__ctx *c)
{
    memset(cv, 0, sizeof(*cv));
    cv->c = c;
    cv->gen = ++c->generation;
}

void gw_openapi__conv_fini(struct gw_openapi__conv *cv)
{
    gw_free(cv->deps);
    cv->deps = NULL;
    cv->ndeps = cv->capdeps = 0;
}

/* Records that the schema being converted needs form idx in $defs (deduplicated per
 * conversion with generation marks). */
static void add_dep(struct gw_openapi__conv *cv, size_t idx)
{
    struct gw_openapi__ctx *c = cv->c;
    marks_ensure(c);
    if (c->dep_marks[idx] == cv->gen)
        return;
    c->dep_marks[idx] = cv->gen;
    if (cv->ndeps == cv->capdeps) {
        cv->capdeps = cv->capdeps ? cv->capdeps * 2 : 8;
        cv->deps = gw_xrealloc(cv->deps, cv->capdeps * sizeof(size_t));
    }
    cv->deps[cv->ndeps++] = idx;
}

/* Marks the conversion failed (an unresolvable reference); the first reason is kept. */
static void set_problem(struct gw_openapi__conv *cv, const char *why)
{
    if (!cv->failed)
        snprintf(cv->problem, sizeof(cv->problem), "%s", why);
    cv->failed = true;
}

/* Marks the conversion degraded (something invalid dropped); the first note is kept. */
static void degrade(struct gw_openapi__conv *cv, const char *what, const char *key)
{
    if (!cv->degraded)
        snprintf(cv->note, sizeof(cv->note), "%s%s%.80s%s", what, key ? " ('" : "", key ? key : "",
                 key ? "')" : "");
    cv->degraded = true;
}

/* Whether `pattern` rejects one of the spec's own documented examples of this schema: an
 * `example`/`examples` string, or an "Example: <value>" in its description (how Swagger 2 specs
 * such as MSIL's DMS document values). Such a pattern is wrong in the spec (e.g. "^[A-Za-z0-9]+$"
 * on a field documented as "Example: 25-JUL-2022"): enforcing it would refuse every valid call. */
bool gw_openapi__pattern_rejects_examples(const char *pattern, const json_t *examples,
                                          const char *description)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec,
                                   &eo, NULL);
    if (!re)
        return false; /* an uncompilable pattern is the validator's problem, not ours */
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    bool rejects = false;
    size_t i;
    json_t *ex;
    json_array_foreach(examples, i, ex)
    {
        if (json_is_string(ex) &&
            pcre2_match(re, (PCRE2_SPTR)json_string_value(ex), json_string_length(ex), 0, 0, md,
                        NULL) < 0)
            rejects = true;
    }
    const char *at = description ? strstr(description, "Example: ") : NULL;
    if (at && !rejects) {
        at += 9;
        size_t n = strcspn(at, "\r\n");
        while (n && (at[n - 1] == ' ' || at[n - 1] == '\t'))
            n--;
        if (n && n < 256 && pcre2_match(re, (PCRE2_SPTR)at, n, 0, 0, md, NULL) < 0)
            rejects = true;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rejects;
}

/* Builds form idx: NEW -> BUILDING -> DONE (see the state diagram above). */
static void build(struct gw_openapi__ctx *c, size_t idx, int build_depth);
static json_t *conv_node(struct gw_openapi__conv *cv, json_t *node, struct gw_openapi__doc *doc,
                         int depth);

/* Keywords that may stand next to $ref as annotations of the reference. */
static bool is_annotation_sibling(const char *k)
{
    static const char *const keys[] = {"description", "title",      "default",  "example",
                                       "examples",    "deprecated", "readOnly", "writeOnly",
                                       "nullable",    "x-nullable", "summary",  "$comment"};
    if (k[0] == 'x' && k[1] == '-')
        return true;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

/* A description cut to schema_description_max (new reference). */
static json_t *trimmed_description(struct gw_openapi__ctx *c, json_t *v)
{
    size_t max = c->o->schema_description_max;
    if (!json_is_string(v) || !max || json_string_length(v) <= max)
        return json_incref(v);
    char *t = gw_openapi__trim_text(json_string_value(v), max);
    json_t *s = json_string(t ? t : "");
    gw_free(t);
    return s;
}

/* {"anyOf":[schema,{"type":"null"}]}; consumes schema. */
static json_t *wrap_nullable(json_t *schema)
{
    json_t *any = json_array();
    json_array_append_new(any, schema);
    json_array_append_new(any, json_pack("{s:s}", "type", "null"));
    json_t *w = json_object();
    json_object_set_new(w, "anyOf", any);
    return w;
}

/* Overlays the annotation siblings of a $ref onto the converted target. Consumes res. */
static json_t *overlay_annotations(struct gw_openapi__conv *cv, json_t *res, json_t *refnode)
{
    if (!json_is_object(res))
        return res;
    json_t *copy = NULL;
    bool nullable = false;
    const char *k;
    json_t *v;
    json_object_foreach(refnode, k, v)
    {
        if (!strcmp(k, "$ref") || (k[0] == 'x' && k[1] == '-' && strcmp(k, "x-nullable")))
            continue;
        if (!is_annotation_sibling(k))
            continue;
        if (!strcmp(k, "nullable") || !strcmp(k, "x-nullable")) {
            nullable = nullable || json_is_true(v);
            continue;
        }
        if (!strcmp(k, "$comment") || !strcmp(k, "summary"))
            continue;
        if (!copy)
            copy = json_copy(res);
        if (!strcmp(k, "description"))
            json_object_set_new(copy, "description", trimmed_description(cv->c, v));
        else if (!strcmp(k, "example"))
            json_object_set_new(copy, "examples", json_pack("[O]", v));
        else if (!strcmp(k, "examples") && !json_is_array(v))
            continue;
        else
            json_object_set(copy, k, v);
    }
    if (copy) {
        json_decref(res);
        res = copy;
    }
    if (nullable)
        res = wrap_nullable(res);
    return res;
}

/* A {"$ref": ...} schema: inlined form, or a $defs reference (cycles, large or deferred
 * targets), then its siblings. New reference. */
static json_t *conv_ref(struct gw_openapi__conv *cv, json_t *node, const char *ref,
                        struct gw_openapi__doc *doc, int depth)
{
    struct gw_openapi__ctx *c = cv->c;
    struct gw_openapi__doc *tdoc = NULL;
    json_t *target = NULL;
    char why[300];
    cv->size++;
    if (gw_openapi__resolve(c, doc, ref, &tdoc, &target, why, sizeof(why)) != GW_OK) {
        set_problem(cv, c->fatal != GW_OK ? "import aborted" : why);
        return json_object();
    }
    if (!json_is_object(target) && !json_is_boolean(target)) {
        degrade(cv, "a $ref to something that is not a schema", ref);
        return json_object();
    }
    size_t idx = form_lookup_or_add(c, target, tdoc, ref);
    struct gw_openapi__form *f = &c->forms[idx];
    json_t *res;
    if (f->state == ST_BUILDING) {
        f->cyclic = true;
        res = form_ref(f);
        add_dep(cv, idx);
    } else {
        if (f->state == ST_NEW && cv->build_depth < MAX_BUILD_DEPTH &&
            c->conv_depth < MAX_TOTAL_DEPTH)
            build(c, idx, cv->build_depth + 1);
        f = &c->forms[idx];
        if (f->state == ST_NEW) { /* too deep to build now: the $defs closure builds it */
            res = form_ref(f);
            add_dep(cv, idx);
        } else if (f->failed) {
            set_problem(cv, f->problem ? f->problem : "unresolvable reference");
            res = json_object();
        } else if (f->inlinable) {
            inherit(cv, f);
            res = json_incref(f->form);
            cv->size += f->size;
            for (size_t i = 0; i < f->ndeps; i++)
                add_dep(cv, f->deps[i]);
        } else {
            res = form_ref(f);
            add_dep(cv, idx);
        }
    }
    if (json_object_size(node) <= 1)
        return res;
    /* siblings of $ref */
    json_t *semantic = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v)
    {
        if (!strcmp(k, "$ref") || is_annotation_sibling(k))
            continue;
        if (c->dialect != OA_31)
            continue; /* ignored next to $ref before 3.1 */
        if (!semantic)
            semantic = json_object();
        json_object_set(semantic, k, v);
    }
    res = overlay_annotations(cv, res, node);
    if (semantic) {
        json_t *sib = conv_node(cv, semantic, doc, depth + 1);
        json_decref(semantic);
        json_t *all = json_array();
        json_array_append_new(all, res);
        json_array_append_new(all, sib);
        res = json_object();
        json_object_set_new(res, "allOf", all);
    }
    return res;
}

/* The seven JSON Schema type names. */
static bool valid_type_name(const char *t)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(t, names[i]) == 0)
            return true;
    return false;
}

/* Converts every schema of a name -> schema map (properties, patternProperties, ...). */
static json_t *conv_map(struct gw_openapi__conv *cv, json_t *m, struct gw_openapi__doc *doc,
                        int depth)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        json_object_set_new(out, k, conv_node(cv, v, doc, depth + 1));
    }
    return out;
}

/* Converts every schema of a list (allOf, anyOf, oneOf, prefixItems). */
static json_t *conv_list(struct gw_openapi__conv *cv, json_t *a, struct gw_openapi__doc *doc,
                         int depth)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        json_array_append_new(out, conv_node(cv, v, doc, depth + 1));
    }
    return out;
}

/* Whether k is one of the n strings of set. */
static bool key_in(const char *k, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, set[i]) == 0)
            return true;
    return false;
}

static const char *const SINGLE_SUBSCHEMA[] = {"additionalProperties",
                                               "not",
                                               "if",
                                               "then",
                                               "else",
                                               "contains",
                                               "propertyNames",
                                               "unevaluatedItems",
                                               "unevaluatedProperties",
                                               "contentSchema",
                                               "additionalItems"};
static const char *const MAP_SUBSCHEMAS[] = {"properties", "patternProperties", "dependentSchemas"};
static const char *const LIST_SUBSCHEMAS[] = {"allOf", "anyOf", "oneOf", "prefixItems"};
static const char *const DROPPED[] = {
    "xml",      "externalDocs",     "$schema",        "$id",
    "$anchor",  "$dynamicAnchor",   "$defs",          "definitions",
    "$comment", "collectionFormat", "allowEmptyValue"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const NONNEG_INT_KEYWORDS[] = {"maxLength",   "minLength",     "maxItems",
                                                  "minItems",    "maxProperties", "minProperties",
                                                  "maxContains", "minContains"};
static const char *const NUMBER_KEYWORDS[] = {"maximum", "minimum", "exclusiveMaximum",
                                              "exclusiveMinimum"};
static const char *const STRING_KEYWORDS[] = {"pattern", "format", "title", "contentEncoding",
                                              "contentMediaType"};
static const char *const BOOL_KEYWORDS[] = {"uniqueItems", "readOnly", "writeOnly", "deprecated"};

/* Whether the value of a validation keyword has the type the 2020-12 meta-schema demands.
 * Specs get this wrong ("minimum": "0", "maxLength": -1); such keywords are dropped rather than
 * handed to validators and MCP clients that may reject the whole schema. Keywords not listed
 * (annotations, unknown keywords, default, const, enum data) are copied as they are. */
static bool keyword_value_ok(const char *k, json_t *v)
{
    if (key_in(k, NONNEG_INT_KEYWORDS, N(NONNEG_INT_KEYWORDS))) {
        if (json_is_integer(v))
            return json_integer_value(v) >= 0;
        double d = json_is_real(v) ? json_real_value(v) : -1;
        return d >= 0 && d == (double)(long long)d;
    }
    /* big numbers (core/json.h: 18446744073709551615 as a uint64 maximum) are numbers */
    if (key_in(k, NUMBER_KEYWORDS, N(NUMBER_KEYWORDS)))
        return gw_json_is_number(v);
    if (!strcmp(k, "multipleOf"))
        return gw_json_is_number(v) && gw_json_number(v) > 0;
    if (key_in(k, STRING_KEYWORDS, N(STRING_KEYWORDS)))
        return json_is_string(v);
    if (key_in(k, BOOL_KEYWORDS, N(BOOL_KEYWORDS)))
        return json_is_boolean(v);
    if (!strcmp(k, "enum"))
        return json_is_array(v);
    return true;
}

/* One schema object, keyword by keyword (rules in the file comment). New reference. */
static json_t *conv_node_body(struct gw_openapi__conv *cv, json_t *node,
                              struct gw_openapi__doc *doc, int depth);

/* Counts the recursion across nested builds (c->conv_depth) so that deep reference chains are
 * deferred to the $defs closure instead of growing the stack (invariant 2). */
static json_t *conv_node(struct gw_openapi__conv *cv, json_t *node, struct gw_openapi__doc *doc,
                         int depth)
{
    cv->c->conv_depth++;
    json_t *res = conv_node_body(cv, node, doc, depth);
    cv->c->conv_depth--;
    return res;
}

static json_t *conv_node_body(struct gw_openapi__conv *cv, json_t *node,
                              struct gw_openapi__doc *doc, int depth)
{
    struct gw_openapi__ctx *c = cv->c;
    cv->size++;
    if (json_is_boolean(node))
        return json_incref(node);
    if (!json_is_object(node)) {
        degrade(cv, "a schema that is not an object", NULL);
        return json_object();
    }
    if (depth > MAX_SCHEMA_DEPTH) {
        degrade(cv, "schema nesting deeper than the limit", NULL);
        return json_object();
    }
    json_t *ref = json_object_get(node, "$ref");
    if (json_is_string(ref))
        return conv_ref(cv, node, json_string_value(ref), doc, depth);

    json_t *out = json_object();
    bool nullable = false;
    json_t *example = NULL, *exmax = NULL, *exmin = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v)
    {
        if (k[0] == 'x' && k[1] == '-') {
            if (!strcmp(k, "x-nullable") && json_is_true(v))
                nullable = true;
            continue;
        }
        if (key_in(k, MAP_SUBSCHEMAS, N(MAP_SUBSCHEMAS))) {
            json_t *refv = json_is_object(v) ? json_object_get(v, "$ref") : NULL;
            if (json_is_string(refv)) {
                /* lenient: "properties: {$ref: file#/map}" names the whole map elsewhere */
                struct gw_openapi__doc *d2 = doc;
                char why[300];
                json_t *m = gw_openapi__deref(c, v, &d2, why, sizeof(why));
                if (!m)
                    set_problem(cv, c->fatal != GW_OK ? "import aborted" : why);
                else if (json_is_object(m))
                    json_object_set_new(out, k, conv_map(cv, m, d2, depth));
                else
                    degrade(cv, "a keyword that is not an object of schemas", k);
            } else if (json_is_object(v)) {
                json_object_set_new(out, k, conv_map(cv, v, doc, depth));
            } else {
                degrade(cv, "a keyword that is not an object of schemas", k);
            }
        } else if (key_in(k, SINGLE_SUBSCHEMA, N(SINGLE_SUBSCHEMA))) {
            if (json_is_object(v) || json_is_boolean(v))
                json_object_set_new(out, k, conv_node(cv, v, doc, depth + 1));
            else
                degrade(cv, "a keyword that is not a schema", k);
        } else if (key_in(k, LIST_SUBSCHEMAS, N(LIST_SUBSCHEMAS))) {
            if (json_is_array(v) && json_array_size(v) > 0)
                json_object_set_new(out, k, conv_list(cv, v, doc, depth));
            else if (!json_is_array(v))
                degrade(cv, "a keyword that is not a list of schemas", k);
        } else if (!strcmp(k, "items")) {
            if (json_is_array(v)) /* draft-4 tuple form */
                json_object_set_new(out, "prefixItems", conv_list(cv, v, doc, depth));
            else if (json_is_object(v) || json_is_boolean(v))
                json_object_set_new(out, "items", conv_node(cv, v, doc, depth + 1));
            else
                degrade(cv, "a keyword that is not a schema", k);
        } else if (key_in(k, DROPPED, N(DROPPED))) {
            continue;
        } else if (!strcmp(k, "$ref") || !strcmp(k, "$dynamicRef")) {
            degrade(cv, "a reference that is not a string or not supported", k);
        } else if (!strcmp(k, "nullable")) {
            nullable = nullable || json_is_true(v);
        } else if (!strcmp(k, "example")) {
            example = v;
        } else if (!strcmp(k, "examples")) {
            if (json_is_array(v))
                json_object_set(out, k, v);
        } else if (!strcmp(k, "description")) {
            json_object_set_new(out, k, trimmed_description(c, v));
        } else if (!strcmp(k, "type")) {
            if (json_is_string(v)) {
                const char *t = json_string_value(v);
                if (!strcmp(t, "file")) {
                    json_object_set_new(out, "type", json_string("string"));
                    if (!json_object_get(node, "format"))
                        json_object_set_new(out, "format", json_string("binary"));
                } else if (valid_type_name(t)) {
                    json_object_set(out, k, v);
                } else {
                    degrade(cv, "an unknown type name", t);
                }
            } else if (json_is_array(v)) {
                json_t *types = json_array();
                size_t i;
                json_t *t;
                json_array_foreach(v, i, t)
                {
                    /* valid names only, each once (the meta-schema wants unique items) */
                    if (json_is_string(t) && valid_type_name(json_string_value(t)) &&
                        !gw_openapi__str_in(types, json_string_value(t)))
                        json_array_append(types, t);
                }
                if (json_array_size(types))
                    json_object_set_new(out, k, types);
                else
                    json_decref(types);
            }
        } else if (!strcmp(k, "exclusiveMaximum") && json_is_boolean(v)) {
            exmax = v;
        } else if (!strcmp(k, "exclusiveMinimum") && json_is_boolean(v)) {
            exmin = v;
        } else if (!strcmp(k, "required")) {
            /* an array of unique strings; Swagger-style "required: true" is dropped */
            json_t *req = json_array();
            size_t i;
            json_t *r;
            json_array_foreach(v, i, r)
            {
                if (json_is_string(r) && !gw_openapi__str_in(req, json_string_value(r)))
                    json_array_append(req, r);
            }
            if (json_array_size(req))
                json_object_set_new(out, k, req);
            else
                json_decref(req);
        } else if (!strcmp(k, "discriminator")) {
            if (json_is_string(v))
                json_object_set_new(out, k, json_pack("{s:O}", "propertyName", v));
            else if (json_is_object(v))
                json_object_set(out, k, v);
        } else if (keyword_value_ok(k, v)) {
            json_object_set(out, k, v);
        } else {
            degrade(cv, "a keyword with a value of the wrong type", k);
        }
        cv->size++;
    }
    /* boolean exclusive bounds (draft-4 style, OpenAPI 3.0 and Swagger 2) */
    if (exmax) {
        json_t *max = json_object_get(out, "maximum");
        if (json_is_true(exmax) && gw_json_is_number(max)) {
            json_object_set(out, "exclusiveMaximum", max);
            json_object_del(out, "maximum");
        }
    }
    if (exmin) {
        json_t *min = json_object_get(out, "minimum");
        if (json_is_true(exmin) && gw_json_is_number(min)) {
            json_object_set(out, "exclusiveMinimum", min);
            json_object_del(out, "minimum");
        }
    }
    if (example && !json_object_get(out, "examples"))
        json_object_set_new(out, "examples", json_pack("[O]", example));
    const char *pat = gw_openapi__jstr(out, "pattern");
    if (pat && gw_openapi__pattern_rejects_examples(pat, json_object_get(out, "examples"),
                                        gw_openapi__jstr(node, "description"))) {
        /* the tool gets better, not worse: an info note, not a degradation */
        gw_openapi__warn(cv->c, "info", "pattern_contradicts_example",
                         "pattern '%.60s' rejects the spec's own documented example: not enforced",
                         pat);
        json_object_del(out, "pattern");
    }
    if (nullable) {
        json_t *type = json_object_get(out, "type");
        json_t *en = json_object_get(out, "enum");
        if (json_is_array(en)) {
            bool has_null = false;
            size_t i;
            json_t *e;
            json_array_foreach(en, i, e) has_null = has_null || json_is_null(e);
            if (!has_null) {
                json_t *en2 = json_copy(en);
                json_array_append_new(en2, json_null());
                json_object_set_new(out, "enum", en2);
            }
        }
        if (json_is_string(type)) {
            if (strcmp(json_string_value(type), "null") != 0)
                json_object_set_new(out, "type", json_pack("[O,s]", type, "null"));
        } else if (json_is_array(type)) {
            bool has_null = false;
            size_t i;
            json_t *t;
            json_array_foreach(type, i, t) has_null =
                has_null || !strcmp(json_string_value(t), "null");
            if (!has_null) {
                json_t *t2 = json_copy(type);
                json_array_append_new(t2, json_string("null"));
                json_object_set_new(out, "type", t2);
            }
        } else {
            out = wrap_nullable(out);
        }
    }
    return out;
}

static void build(struct gw_openapi__ctx *c, size_t idx, int build_depth)
{
    struct gw_openapi__conv sub;
    gw_openapi__conv_init(&sub, c);
    sub.build_depth = build_depth;
    c->forms[idx].state = ST_BUILDING;
    json_t *src = c->forms[idx].src;
    struct gw_openapi__doc *doc = c->forms[idx].doc;
    json_t *form = conv_node(&sub, src, doc, 0);
    struct gw_openapi__form *f = &c->forms[idx]; /* forms may have moved */
    f->form = form;
    f->size = sub.size;
    f->deps = sub.deps; /* ownership moves to the form */
    f->ndeps = sub.ndeps;
    sub.deps = NULL;
    f->failed = sub.failed;
    if (sub.failed)
        f->problem = gw_xstrdup(sub.problem);
    f->degraded = sub.degraded;
    if (sub.degraded)
        f->note = gw_xstrdup(sub.note);
    f->state = ST_DONE;
    f->inlinable = !f->cyclic && f->size <= c->o->inline_max_nodes;
    gw_openapi__conv_fini(&sub);
}

json_t *gw_openapi__schema(struct gw_openapi__conv *cv, json_t *node, struct gw_openapi__doc *doc)
{
    return conv_node(cv, node, doc, 0);
}

/* Copy of a built form for the root of a tool schema, with its dependencies recorded. */
static json_t *form_root_copy(struct gw_openapi__conv *cv, size_t idx)
{
    struct gw_openapi__ctx *c = cv->c;
    if (c->forms[idx].state == ST_NEW)
        build(c, idx, cv->build_depth + 1);
    struct gw_openapi__form *f = &c->forms[idx];
    if (f->state != ST_DONE) { /* a root that is being built: cannot happen at top level */
        add_dep(cv, idx);
        json_t *r = form_ref(f), *cp = json_copy(r);
        json_decref(r);
        return cp;
    }
    if (f->failed) {
        set_problem(cv, f->problem ? f->problem : "unresolvable reference");
        return json_object();
    }
    inherit(cv, f);
    cv->size += f->size;
    for (size_t i = 0; i < f->ndeps; i++)
        add_dep(cv, f->deps[i]);
    return json_is_object(f->form) ? json_copy(f->form) : json_object();
}

json_t *gw_openapi__expand_def_ref(struct gw_openapi__conv *cv, json_t *schema)
{
    json_t *ref = json_is_object(schema) ? json_object_get(schema, "$ref") : NULL;
    const char *r = json_is_string(ref) ? json_string_value(ref) : NULL;
    if (!r || strncmp(r, "#/$defs/", 8) != 0)
        return json_incref(schema);
    json_t *idxv = json_object_get(cv->c->def_names, r + 8);
    if (!idxv)
        return json_incref(schema);
    json_t *res = form_root_copy(cv, (size_t)json_integer_value(idxv));
    const char *k;
    json_t *v;
    json_object_foreach(schema, k, v)
    {
        if (strcmp(k, "$ref") != 0)
            json_object_set(res, k, v);
    }
    return res;
}

json_t *gw_openapi__schema_root(struct gw_openapi__conv *cv, json_t *node,
                                struct gw_openapi__doc *doc)
{
    struct gw_openapi__ctx *c = cv->c;
    json_t *ref = json_is_object(node) ? json_object_get(node, "$ref") : NULL;
    if (!json_is_string(ref)) {
        json_t *res = conv_node(cv, node, doc, 0);
        if (!json_is_object(res)) {
            json_decref(res);
            res = json_object();
        }
        return res;
    }
    struct gw_openapi__doc *tdoc = NULL;
    json_t *target = NULL;
    char why[300];
    cv->size++;
    if (gw_openapi__resolve(c, doc, json_string_value(ref), &tdoc, &target, why, sizeof(why)) !=
        GW_OK) {
        set_problem(cv, c->fatal != GW_OK ? "import aborted" : why);
        return json_object();
    }
    if (!json_is_object(target))
        return json_object();
    size_t idx = form_lookup_or_add(c, target, tdoc, json_string_value(ref));
    json_t *res = form_root_copy(cv, idx);
    res = overlay_annotations(cv, res, node);
    /* a root that is only a reference to another definition: expand it too */
    for (int hop = 0; hop < 8 && json_object_size(res) >= 1; hop++) {
        json_t *r = json_object_get(res, "$ref");
        if (!json_is_string(r) || strncmp(json_string_value(r), "#/$defs/", 8) != 0)
            break;
        json_t *x = gw_openapi__expand_def_ref(cv, res);
        json_decref(res);
        res = x;
    }
    if (!json_is_object(res)) {
        json_decref(res);
        res = json_object();
    }
    return res;
}


/* ---- size budgets: depth pruning of a finished tool schema ---- */

#define PRUNE_DEPTH_MAX 64

/* Whether keyword k holds subschemas one level down (properties, items, ...) or at the same
 * level (allOf/anyOf/oneOf members describe the same value). */
static int subschema_kind(const char *k)
{
    if (key_in(k, MAP_SUBSCHEMAS, N(MAP_SUBSCHEMAS)))
        return 1; /* map of schemas, one level down */
    if (!strcmp(k, "items") || !strcmp(k, "prefixItems") ||
        key_in(k, SINGLE_SUBSCHEMA, N(SINGLE_SUBSCHEMA)))
        return 2; /* schema (or list of schemas), one level down */
    if (!strcmp(k, "allOf") || !strcmp(k, "anyOf") || !strcmp(k, "oneOf"))
        return 3; /* list of schemas, same level */
    return 0;
}

/* Number of JSON values in v (v itself included). */
static size_t count_values(json_t *v)
{
    size_t n = 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) n += count_values(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) n += count_values(x);
    }
    return n;
}

struct level {
    json_t **v;
    size_t n, cap;
};

static void level_push(struct level *l, json_t *v)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = gw_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = v;
}

/* The JSON values of a schema per nesting level into hist[], breadth first, stopping after
 * the first level at which the running total passes `stop` (0 = never): the cost is bounded
 * by the budget, not by the size of the schema. Returns the number of levels measured. */
static int measure(json_t *schema, size_t stop, size_t *hist)
{
    struct level cur = {0}, next = {0};
    size_t total = 0;
    int d = 0;
    level_push(&cur, schema);
    for (; cur.n && d <= PRUNE_DEPTH_MAX; d++) {
        /* cur grows while it is walked: allOf/anyOf/oneOf members are on the same level */
        for (size_t i = 0; i < cur.n; i++) {
            json_t *sc = cur.v[i];
            if (!json_is_object(sc))
                continue;
            const char *k;
            json_t *v;
            hist[d]++;
            json_object_foreach(sc, k, v)
            {
                int kind = subschema_kind(k);
                if (kind == 1 && json_is_object(v)) {
                    const char *pk;
                    json_t *pv;
                    json_object_foreach(v, pk, pv) level_push(&next, pv);
                    hist[d]++;
                } else if ((kind == 2 || kind == 3) && json_is_array(v)) {
                    size_t j;
                    json_t *m;
                    json_array_foreach(v, j, m) level_push(kind == 2 ? &next : &cur, m);
                    hist[d]++;
                } else if (kind == 2) {
                    level_push(&next, v);
                } else if (strcmp(k, "$defs") != 0) {
                    hist[d] += count_values(v);
                }
            }
        }
        total += hist[d];
        struct level t = cur;
        cur = next;
        next = t;
        next.n = 0;
        if (stop && total > stop) {
            d++;
            break;
        }
    }
    gw_free(cur.v);
    gw_free(next.v);
    return d;
}

/* The stand-in of a subschema below the kept depth: its type and description. */
static json_t *prune_stub(json_t *schema)
{
    json_t *stub = json_object();
    json_t *type = json_object_get(schema, "type");
    if (json_is_string(type) || json_is_array(type))
        json_object_set(stub, "type", type);
    json_t *d = json_object_get(schema, "description");
    json_t *t = json_object_get(schema, "title");
    if (json_is_string(d))
        json_object_set(stub, "description", d);
    else if (json_is_string(t))
        json_object_set(stub, "description", t);
    return stub;
}

/* Levels of subschemas below schema (0 for a leaf schema), memoised by node. Every node that
 * gets here is in the heights map (which keeps it alive), so the pruned-copy memo below keys
 * only on live nodes too. */
static int height(struct gw_openapi__ctx *c, json_t *schema, int guard)
{
    if (!json_is_object(schema) || guard > 4 * PRUNE_DEPTH_MAX)
        return 0;
    size_t memo;
    if (ptrmap_get(&c->heights, schema, &memo))
        return (int)memo - 1;
    int h = 0;
    const char *k;
    json_t *v;
    json_object_foreach(schema, k, v)
    {
        int kind = subschema_kind(k), x = 0;
        if (kind == 1 && json_is_object(v)) {
            const char *pk;
            json_t *pv;
            json_object_foreach(v, pk, pv)
            {
                int y = 1 + height(c, pv, guard + 1);
                x = y > x ? y : x;
            }
        } else if ((kind == 2 || kind == 3) && json_is_array(v)) {
            size_t i;
            json_t *m;
            json_array_foreach(v, i, m)
            {
                int y = (kind == 2) + height(c, m, guard + 1);
                x = y > x ? y : x;
            }
        } else if (kind == 2) {
            x = 1 + height(c, v, guard + 1);
        }
        h = x > h ? x : h;
    }
    /* the map holds a reference: a freed node's address must never be found again */
    ptrmap_put(&c->heights, json_incref(schema), (size_t)h + 1);
    return h;
}

/* A copy of schema keeping `rem` more levels of subschemas: deeper ones are replaced by their
 * stubs. A subtree that fits is shared as it is, and pruned copies are memoised per (node,
 * rem), so tools that share forms share their pruned parts. *cut counts the stubs. New
 * reference. */
static json_t *prune_copy(struct gw_openapi__ctx *c, json_t *schema, int rem, size_t *cut)
{
    if (!json_is_object(schema))
        return json_incref(schema);
    if (rem < 0) {
        (*cut)++;
        return prune_stub(schema);
    }
    if (height(c, schema, 0) <= rem)
        return json_incref(schema);
    size_t memo;
    struct gw_openapi__ptrmap *pm = &c->pruned[rem < 64 ? rem : 64];
    if (ptrmap_get(pm, schema, &memo)) {
        *cut += c->pruned_v[memo - 1].cut;
        return json_incref(c->pruned_v[memo - 1].v);
    }
    size_t mycut = 0;
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(schema, k, v)
    {
        int kind = subschema_kind(k);
        if (kind == 1 && json_is_object(v)) {
            json_t *m = json_object();
            const char *pk;
            json_t *pv;
            json_object_foreach(v, pk, pv)
                json_object_set_new(m, pk, prune_copy(c, pv, rem - 1, &mycut));
            json_object_set_new(out, k, m);
        } else if ((kind == 2 || kind == 3) && json_is_array(v)) {
            json_t *a = json_array();
            size_t i;
            json_t *m;
            json_array_foreach(v, i, m)
                json_array_append_new(a, prune_copy(c, m, kind == 2 ? rem - 1 : rem, &mycut));
            json_object_set_new(out, k, a);
        } else if (kind == 2) {
            json_object_set_new(out, k, prune_copy(c, v, rem - 1, &mycut));
        } else {
            json_object_set(out, k, v);
        }
    }
    if (c->npruned == c->cappruned) {
        c->cappruned = c->cappruned ? c->cappruned * 2 : 256;
        c->pruned_v = gw_xrealloc(c->pruned_v, c->cappruned * sizeof(*c->pruned_v));
    }
    c->pruned_v[c->npruned] = (struct gw_openapi__pruned){json_incref(out), mycut};
    ptrmap_put(pm, schema, ++c->npruned);
    *cut += mycut;
    return out;
}

json_t *gw_openapi__prune(struct gw_openapi__ctx *c, json_t *schema, size_t budget,
                          size_t *out_size, size_t *out_cut)
{
    size_t hist[PRUNE_DEPTH_MAX + 1] = {0};
    *out_cut = 0;
    int levels = measure(schema, budget, hist);
    size_t total = 0;
    for (int d = 0; d < levels; d++)
        total += hist[d];
    *out_size = total;
    if (!budget || total <= budget)
        return json_incref(schema);
    /* the deepest level that still fits; the arguments themselves (level 1) always stay */
    size_t sum = hist[0] + hist[1];
    int keep = 1;
    while (keep + 1 < levels && sum + hist[keep + 1] <= budget) {
        keep++;
        sum += hist[keep];
    }
    json_t *res = prune_copy(c, schema, keep, out_cut);
    *out_size = sum + *out_cut * 2;
    return res;
}

/* Adds the forms referenced ("#/$defs/<name>") anywhere in v to cv's dependencies. */
static void deps_of(struct gw_openapi__conv *cv, json_t *v, int depth)
{
    if (depth > 2 * PRUNE_DEPTH_MAX + 64)
        return;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (!strcmp(k, "$ref") && json_is_string(x) &&
                !strncmp(json_string_value(x), "#/$defs/", 8)) {
                json_t *idx = json_object_get(cv->c->def_names, json_string_value(x) + 8);
                if (json_is_integer(idx))
                    add_dep(cv, (size_t)json_integer_value(idx));
            } else {
                deps_of(cv, x, depth + 1);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) deps_of(cv, x, depth + 1);
    }
}

void gw_openapi__deps_from(struct gw_openapi__conv *cv, json_t *schema)
{
    cv->ndeps = 0;
    cv->gen = ++cv->c->generation;
    deps_of(cv, schema, 0);
}

/* The placeholder of a definition left out of a tool's $defs by the size budget: its type
 * when the form has a single one, and a note. Permissive, so validation never rejects what
 * the full schema would accept (the upstream still validates). New reference. */
static json_t *def_stub(const struct gw_openapi__form *f)
{
    json_t *stub = json_object();
    json_t *type = json_is_object(f->form) ? json_object_get(f->form, "type") : NULL;
    if (json_is_string(type))
        json_object_set(stub, "type", type);
    json_object_set_new(stub, "description",
                        json_string("Not expanded here (the tool's schema size budget); any "
                                    "value of this shape is accepted."));
    return stub;
}

json_t *gw_openapi__defs(struct gw_openapi__conv *cv, size_t *size, size_t budget,
                         size_t *out_stubs)
{
    struct gw_openapi__ctx *c = cv->c;
    if (out_stubs)
        *out_stubs = 0;
    if (cv->ndeps == 0)
        return NULL;
    unsigned gen = ++c->generation;
    size_t n = cv->ndeps, cap = n + 16;
    size_t *work = gw_xmalloc(cap * sizeof(size_t));
    memcpy(work, cv->deps, n * sizeof(size_t));
    json_t *defs = json_object();
    /* breadth first: the definitions nearest the root are expanded first, so when the budget
     * runs out the deepest ones become stubs */
    for (size_t w = 0; w < n; w++) {
        size_t idx = work[w];
        marks_ensure(c);
        if (c->visit_marks[idx] == gen)
            continue;
        c->visit_marks[idx] = gen;
        if (c->forms[idx].state == ST_NEW)
            build(c, idx, 0);
        marks_ensure(c);
        struct gw_openapi__form *f = &c->forms[idx];
        if (f->failed)
            set_problem(cv, f->problem ? f->problem : "unresolvable reference");
        if (budget && *size + f->size > budget && !f->failed) {
            json_object_set_new(defs, f->name, def_stub(f));
            *size += 3;
            if (out_stubs)
                (*out_stubs)++;
            continue;
        }
        inherit(cv, f);
        json_object_set_new(defs, f->name, f->form ? json_incref(f->form) : json_object());
        *size += f->size;
        if (n + f->ndeps > cap) {
            cap = (n + f->ndeps) * 2;
            work = gw_xrealloc(work, cap * sizeof(size_t));
        }
        if (f->ndeps)
            memcpy(work + n, f->deps, f->ndeps * sizeof(size_t));
        n += f->ndeps;
    }
    gw_free(work);
    return defs;
}
