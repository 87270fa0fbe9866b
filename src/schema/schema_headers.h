/*
 * src/schema/schema_headers.h
 * The `x-mcp-header` annotations of a tool's input schema (MCP 2026-07-28, SEP-2243): a
 * property so marked is mirrored by clients into an `Mcp-Param-{name}` HTTP header, which the
 * server checks against the argument (mcp/mcp_param.h). This file finds the declarations and
 * enforces the rules a declaration must follow, so that the gateway never publishes one a
 * client would have to reject:
 *   - the value is a non-empty HTTP token (RFC 9110 `1*tchar`), at most 64 characters, unique
 *     among the schema's declarations without regard to case;
 *   - the property's `type` is "string", "integer" or "boolean";
 *   - the property is reached from the root through `properties` only (nested objects allowed,
 *     at most 8 levels); an annotation under any other keyword (items, allOf, $defs, ...) is an
 *     error, as is a schema nested more than 128 keywords deep.
 * At most 16 declarations per schema. The results borrow from the schema.
 */
#ifndef GW_SCHEMA_SCHEMA_HEADERS_H
#define GW_SCHEMA_SCHEMA_HEADERS_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_SCHEMA_HEADERS_MAX 16
#define GW_SCHEMA_HEADER_NAME_MAX 64
#define GW_SCHEMA_HEADER_DEPTH 8

enum gw_schema_header_type {
    GW_SCHEMA_HEADER_STRING,
    GW_SCHEMA_HEADER_INTEGER,
    GW_SCHEMA_HEADER_BOOLEAN
};

/* One declaration: header `Mcp-Param-<name>` mirrors the argument at `path`. */
struct gw_schema_header {
    const char *name;                         /* the x-mcp-header value (borrowed) */
    const char *path[GW_SCHEMA_HEADER_DEPTH]; /* property names from the root (borrowed) */
    size_t depth;                             /* entries of path, >= 1 */
    enum gw_schema_header_type type;
};

/* Finds the declarations of `schema` into out (capacity GW_SCHEMA_HEADERS_MAX), in document
 * order. GW_OK with *n (0 when there are none, or schema is not an object), or GW_EINVAL with
 * a message naming the property and the rule it breaks. */
int gw_schema_headers_scan(const json_t *schema, struct gw_schema_header *out, size_t *n,
                           struct gw_error *err);

/* The dotted path of a property (`depth` names from the root, e.g. "opts.dry") into out,
 * cut to its size: how messages name a declared argument. */
void gw_schema_header_path(const char *const *path, size_t depth, char *out, size_t size);

/* Whether `s` is a valid x-mcp-header value on its own (token, length); uniqueness and the
 * property's type are the scan's. */
bool gw_schema_header_name_valid(const char *s);

#endif
