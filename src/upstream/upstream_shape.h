/*
 * src/upstream/upstream_shape.h
 * Response shaping per tool, applied to a parsed JSON response before the CallToolResult is
 * built, so agents get compact answers. The tool's "response" object (docs/tool-model.md):
 *   include        dot paths to keep (arrays are traversed: "items.id" keeps the id of every
 *                  item); paths sharing a parent are merged; absent = keep everything
 *   exclude        dot paths to drop; "**.name" drops key `name` at any depth
 *   maxArrayItems  cap every array (any depth) to N items
 *   dropNulls      remove members whose value is null (recursively)
 *   maxTextChars   cap of the text content of the result (the executor applies it)
 * Order: include, exclude, dropNulls, maxArrayItems. Depth is bounded by the parser's limit.
 * Pure and re-entrant.
 */
#ifndef GW_UPSTREAM_SHAPE_H
#define GW_UPSTREAM_SHAPE_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_shape_spec {
    char **include;
    size_t ninclude;
    char **exclude;
    size_t nexclude;
    size_t max_array_items; /* 0 = no cap */
    bool drop_nulls;
    size_t max_text_chars;  /* 0 = the upstream's default */
};

struct gw_shape_stats {
    size_t arrays_truncated;
    size_t items_dropped;
};

/* Reads a tool's "response" object (NULL = no shaping). GW_OK or GW_EINVAL (bad field). */
int gw_upstream_shape_parse(const json_t *response, struct gw_shape_spec *out,
                            struct gw_error *err);
void gw_upstream_shape_fini(struct gw_shape_spec *s);

/* True when the spec changes documents (include/exclude/caps/dropNulls set). */
bool gw_upstream_shape_active(const struct gw_shape_spec *s);

/* Shapes `doc` (consumed) and returns the result (new reference, may be doc itself). */
json_t *gw_upstream_shape_apply(json_t *doc, const struct gw_shape_spec *s,
                                struct gw_shape_stats *st);

#endif
