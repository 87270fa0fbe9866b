/*
 * src/schema/schema_headers.c
 * Finding and checking the x-mcp-header declarations of an input schema (see the header for
 * the rules). One walk over the schema's keywords: `properties` keeps a node on the chain of
 * properties from the root, every other keyword that holds subschemas takes it off; values
 * that are data, not schemas (const, enum, default, examples, unknown keywords), are not
 * entered, so a default that happens to contain the key is not a declaration. A schema that
 * does not contain the key anywhere is passed by one cheap look first.
 */
#include "schema/schema_headers.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WALK_DEPTH_MAX 128

/* Keywords whose value is one subschema (or, for items in draft-07, an array of them). */
static const char *const ONE_SCHEMA[] = {
    "additionalProperties", "items",  "additionalItems",       "contains",
    "propertyNames",        "not",    "if",                    "then",
    "else",                 "unevaluatedItems", "unevaluatedProperties", "contentSchema"};
/* Keywords whose value is an array of subschemas. */
static const char *const SCHEMA_LIST[] = {"allOf", "anyOf", "oneOf", "prefixItems"};
/* Keywords whose value maps names to subschemas (besides properties). */
static const char *const SCHEMA_MAP[] = {"patternProperties", "$defs", "definitions",
                                         "dependentSchemas", "dependencies"};

struct walk {
    struct gw_schema_header *out;
    size_t n;
    const char *path[GW_SCHEMA_HEADER_DEPTH];
    struct gw_error *err;
};

static bool in_list(const char *k, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, list[i]) == 0)
            return true;
    return false;
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool gw_schema_header_name_valid(const char *s)
{
    if (!s || !*s || strlen(s) > GW_SCHEMA_HEADER_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!is_tchar((unsigned char)*p))
            return false;
    return true;
}

void gw_schema_header_path(const char *const *path, size_t depth, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < depth && used + 1 < size; i++) {
        size_t room = size - used;
        int k = snprintf(out + used, room, "%s%s", i ? "." : "", path[i]);
        if (k < 0 || (size_t)k >= room)
            break;
        used += (size_t)k;
    }
}

/* Records the declaration on the property at `node` (depth >= 1: a property of the chain). */
static int declare(struct walk *w, const json_t *node, const json_t *v, size_t depth)
{
    char where[200];
    gw_schema_header_path(w->path, depth, where, sizeof(where));
    const char *name = json_string_value(v);
    if (!gw_schema_header_name_valid(name))
        return GW_ERROR_SET(w->err, GW_EINVAL,
                            "property %s: x-mcp-header must be an HTTP token (letters, digits "
                            "and !#$%%&'*+-.^_`|~) of 1-%d characters",
                            where, GW_SCHEMA_HEADER_NAME_MAX);
    const char *type = json_string_value(json_object_get(node, "type"));
    enum gw_schema_header_type t;
    if (type && strcmp(type, "string") == 0)
        t = GW_SCHEMA_HEADER_STRING;
    else if (type && strcmp(type, "integer") == 0)
        t = GW_SCHEMA_HEADER_INTEGER;
    else if (type && strcmp(type, "boolean") == 0)
        t = GW_SCHEMA_HEADER_BOOLEAN;
    else
        return GW_ERROR_SET(w->err, GW_EINVAL,
                            "property %s: x-mcp-header needs \"type\" \"string\", \"integer\" or "
                            "\"boolean\"",
                            where);
    for (size_t i = 0; i < w->n; i++)
        if (strcasecmp(w->out[i].name, name) == 0)
            return GW_ERROR_SET(w->err, GW_EINVAL,
                                "property %s: x-mcp-header \"%s\" is declared twice (names are "
                                "compared without regard to case)",
                                where, name);
    if (w->n == GW_SCHEMA_HEADERS_MAX)
        return GW_ERROR_SET(w->err, GW_EINVAL, "more than %d x-mcp-header declarations",
                            GW_SCHEMA_HEADERS_MAX);
    struct gw_schema_header *h = &w->out[w->n++];
    memset(h, 0, sizeof(*h));
    h->name = name;
    h->type = t;
    h->depth = depth;
    memcpy(h->path, w->path, depth * sizeof(*h->path));
    return GW_OK;
}

/* Walks a schema node. chain: the node is the root or a property reached through properties
 * only; depth: properties on that chain (the length of w->path that names this node). */
static int walk(struct walk *w, const json_t *node, bool chain, size_t depth, int level)
{
    if (!json_is_object(node))
        return GW_OK; /* true/false schemas, or data */
    if (level > WALK_DEPTH_MAX)
        return GW_ERROR_SET(w->err, GW_EINVAL, "the schema nests more than %d levels",
                            WALK_DEPTH_MAX);
    const char *k;
    const json_t *v;
    int rc = GW_OK;
    json_object_foreach((json_t *)node, k, v)
    {
        if (strcmp(k, "x-mcp-header") == 0) {
            if (!chain || depth == 0)
                return GW_ERROR_SET(w->err, GW_EINVAL,
                                    "x-mcp-header is allowed only on a property reached from "
                                    "the root through \"properties\" (at most %d levels deep)",
                                    GW_SCHEMA_HEADER_DEPTH);
            rc = declare(w, node, v, depth);
        } else if (strcmp(k, "properties") == 0 && json_is_object(v)) {
            const char *pk;
            const json_t *pv;
            json_object_foreach((json_t *)v, pk, pv)
            {
                bool on = chain && depth < GW_SCHEMA_HEADER_DEPTH;
                if (on)
                    w->path[depth] = pk;
                rc = walk(w, pv, on, on ? depth + 1 : depth, level + 1);
                if (rc != GW_OK)
                    return rc;
            }
        } else if (in_list(k, ONE_SCHEMA, sizeof(ONE_SCHEMA) / sizeof(*ONE_SCHEMA)) ||
                   in_list(k, SCHEMA_LIST, sizeof(SCHEMA_LIST) / sizeof(*SCHEMA_LIST))) {
            if (json_is_array(v)) {
                size_t i;
                const json_t *e;
                json_array_foreach((json_t *)v, i, e)
                {
                    if ((rc = walk(w, e, false, depth, level + 1)) != GW_OK)
                        return rc;
                }
            } else {
                rc = walk(w, v, false, depth, level + 1);
            }
        } else if (in_list(k, SCHEMA_MAP, sizeof(SCHEMA_MAP) / sizeof(*SCHEMA_MAP)) &&
                   json_is_object(v)) {
            const char *mk;
            const json_t *mv;
            json_object_foreach((json_t *)v, mk, mv)
            {
                (void)mk;
                if ((rc = walk(w, mv, false, depth, level + 1)) != GW_OK)
                    return rc;
            }
        }
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

/* Whether the key appears anywhere in the document (or it nests too deep to tell: then the walk
 * reports that): one comparison per key, so that the keyword walk — a list lookup per key —
 * runs only for the rare schema that names the annotation (the store checks every tool it
 * saves, the snapshot every tool it loads). */
static bool mentions(const json_t *v, int level)
{
    if (level > WALK_DEPTH_MAX)
        return true;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach((json_t *)v, i, e)
        {
            if (mentions(e, level + 1))
                return true;
        }
        return false;
    }
    const char *k;
    const json_t *m;
    json_object_foreach((json_t *)v, k, m)
    {
        if ((k[0] == 'x' && strcmp(k, "x-mcp-header") == 0) || mentions(m, level + 1))
            return true;
    }
    return false;
}

int gw_schema_headers_scan(const json_t *schema, struct gw_schema_header *out, size_t *n,
                           struct gw_error *err)
{
    struct walk w = {.out = out, .n = 0, .err = err};
    *n = 0;
    if (!mentions(schema, 0))
        return GW_OK;
    int rc = walk(&w, schema, true, 0, 0);
    if (rc == GW_OK)
        *n = w.n;
    return rc;
}
