/*
 * src/core/json.h
 * JSON on the platform: jansson documents, parsed under limits and serialised compactly.
 *
 * jansson (chosen for its small, stable C API, strict UTF-8 validation and refcounted values)
 * does the parsing; this module adds what untrusted input needs on top: a nesting-depth limit
 * checked before parsing, a size limit, and error messages with line/column that can be shown
 * to a client. Invalid UTF-8 and NUL characters inside strings are rejected by jansson itself.
 */
#ifndef GW_CORE_JSON_H
#define GW_CORE_JSON_H

#include "core/buf.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_json_limits {
    size_t max_bytes; /* 0 = no limit */
    int max_depth;    /* maximum nesting of arrays/objects; 0 = jansson's own limit */
};

/* Makes jansson allocate through the per-thread block cache (core/alloc.h: gw_cache_malloc):
 * a tools/call builds and frees ~180 small jansson blocks. Call once at start-up, before other
 * threads exist (json_set_alloc_funcs is process-wide). Safe whatever was allocated before:
 * the cache's blocks are ordinary malloc blocks. */
void gw_json_init(void);

/* Returns the maximum nesting depth of the JSON text, scanning at most `len` bytes and stopping
 * early (returning max_depth + 1) once max_depth is exceeded. Strings are skipped correctly. */
int gw_json_depth(const char *buf, size_t len, int max_depth);

/* Parses `buf` into a new reference (caller json_decref's it). On failure returns NULL and fills
 * err: GW_ELIMIT for size/depth, GW_EINVAL for syntax or encoding (message with line:column). */
json_t *gw_json_parse(const char *buf, size_t len, const struct gw_json_limits *lim,
                      struct gw_error *err);

/* Appends the compact serialisation of `v` to `out`: the bytes of jansson's
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), written without jansson's per-container cost
 * (json.c). GW_OK, GW_ELIMIT (out is full; also a value jansson refuses: NULL, a cycle) or
 * GW_ENOMEM; on failure out is as before. */
int gw_json_dump(const json_t *v, struct gw_buf *out);

/* Compact serialisation (as gw_json_dump) into a new heap string (gw_free). NULL on OOM or
 * for a value jansson refuses. */
char *gw_json_dumps(const json_t *v);

/* Convenience accessors that tolerate NULL and wrong types. */
const char *gw_json_str(const json_t *obj, const char *key); /* NULL unless a string */
bool gw_json_is_int_or_str(const json_t *v);

#endif
