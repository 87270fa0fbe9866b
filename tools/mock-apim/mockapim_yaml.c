/*
 * tools/mock-apim/mockapim_yaml.c
 * libyaml document tree -> jansson (see mockapim_yaml.h). Scalars that were quoted or block
 * literals stay strings; plain scalars are typed like YAML 1.1's core schema as JSON sees it.
 */
#include "mockapim_yaml.h"

#include "core/str.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 200000

/* Conversion state: the document, the node budget, and the first error. */
struct conv {
    yaml_document_t *doc;
    long nodes;
    struct gw_error *err;
    int rc;
};

/* Types a scalar: quoted and block scalars are strings; plain ones may be null, booleans,
 * integers or floats (YAML 1.1 spellings that JSON can hold). */
static json_t *scalar(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(s, len);
    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    unsigned long long u = 0;
    bool neg = s[0] == '-';
    if (gw_str_to_u64((struct gw_str){s + neg, len - neg}, &u) == GW_OK &&
        u <= (unsigned long long)INT64_MAX)
        return json_integer(neg ? -(json_int_t)u : (json_int_t)u);
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (end && *end == '\0' && errno == 0 && isfinite(d) &&
        (s[0] == '-' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
        return json_real(d);
    return json_stringn(s, len);
}

/* Converts a node recursively, counting nodes (aliases are expanded, so a bomb hits the
 * budget) and depth. NULL with c->rc set on failure. */
static json_t *node(struct conv *c, yaml_node_t *n, int depth)
{
    if (!n || c->rc != GW_OK)
        return NULL;
    if (depth > MAX_DEPTH || ++c->nodes > MAX_NODES) {
        c->rc = GW_ERROR_SET(c->err, GW_ELIMIT, "YAML deeper than %d or larger than %d nodes",
                             MAX_DEPTH, MAX_NODES);
        return NULL;
    }
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return scalar(n);
    case YAML_SEQUENCE_NODE: {
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            json_t *v = node(c, yaml_document_get_node(c->doc, *it), depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    case YAML_MAPPING_NODE: {
        json_t *o = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                c->rc = GW_ERROR_SET(c->err, GW_EINVAL, "YAML mapping key is not a scalar");
                json_decref(o);
                return NULL;
            }
            json_t *v = node(c, yaml_document_get_node(c->doc, p->value), depth + 1);
            if (!v) {
                json_decref(o);
                return NULL;
            }
            if (json_object_setn_new(o, (const char *)k->data.scalar.value,
                                     k->data.scalar.length, v) != 0) {
                c->rc = GW_ERROR_SET(c->err, GW_EINVAL, "YAML key is not valid UTF-8");
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    default:
        c->rc = GW_ERROR_SET(c->err, GW_EINVAL, "empty YAML node");
        return NULL;
    }
}

int gw_mockapim_yaml_to_json(const char *text, size_t len, json_t **out, struct gw_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct conv c = {.doc = &doc, .err = err, .rc = GW_OK};
    *out = NULL;
    if (!yaml_parser_initialize(&parser))
        return GW_ERROR_SET(err, GW_ENOMEM, "YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = GW_ERROR_SET(err, GW_EINVAL, "YAML line %zu column %zu: %s",
                              parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                              parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        return rc;
    }
    json_t *root = node(&c, yaml_document_get_root_node(&doc), 0);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (!root && c.rc == GW_OK)
        c.rc = GW_ERROR_SET(err, GW_EINVAL, "empty YAML document");
    if (c.rc != GW_OK) {
        json_decref(root);
        return c.rc;
    }
    *out = root;
    return GW_OK;
}
