/*
 * src/upstream/upstream_result.h
 * Mapping an upstream HTTP response to an MCP CallToolResult:
 *   2xx JSON object  -> structuredContent (shaped) + a text block with its compact JSON
 *   2xx JSON other   -> text only (or isError when the tool declares an outputSchema, which
 *                       only describes object roots, see docs/tool-model.md)
 *   2xx declared JSON that does not parse (truncated, trailing garbage, bad UTF-8)
 *                    -> isError "upstream 'x' returned malformed JSON (HTTP 200 application/json,
 *                       line 3 column 41: premature end of input): <compact excerpt>"
 *   2xx non-JSON     -> text (bounded, UTF-8 checked), image types -> image content (base64)
 *   2xx business-failure envelope (configurable rules, e.g. "success": false)
 *                    -> isError with the upstream's own message
 *   non-2xx          -> isError "HTTP 404 Not Found from upstream 'x': <compact body…>"
 * Also: isError results for transport failures, and scrubbing of secret values from any
 * result string. Pure and re-entrant.
 */
#ifndef GW_UPSTREAM_RESULT_H
#define GW_UPSTREAM_RESULT_H

#include "upstream/upstream_conf.h"
#include "upstream/upstream_shape.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_result_input {
    const char *upstream;
    long http_status;
    const char *content_type; /* may be NULL */
    const char *body;
    size_t body_len;
    const struct gw_upstream_conf *conf;  /* rules, message pointers, caps */
    const struct gw_shape_spec *shape;    /* may be NULL */
    bool has_output_schema;
};

/* Builds the result (new reference) and says which outcome it is (OK, HTTP_ERROR,
 * BUSINESS_ERROR, OUTPUT_INVALID when a non-object meets an outputSchema, BAD_RESPONSE for
 * malformed declared JSON). Never NULL. */
json_t *gw_upstream_result_build(const struct gw_result_input *in,
                                 enum gw_exec_outcome *out_outcome);

/* An isError result with one text block (printf-style). Never NULL. */
json_t *gw_upstream_result_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Standard reason phrase of an HTTP status ("Not Found"), "" if unknown. */
const char *gw_upstream_reason(long status);

/* Replaces every occurrence of each secret (length >= 4) in every string of v (recursively,
 * values and member names) with "[REDACTED]". Returns the number of replacements. */
size_t gw_upstream_scrub(json_t *v, char *const *secrets, size_t nsecrets);

/* The same on a C string, in place when possible; returns a new heap string (gw_free) or NULL
 * when nothing was replaced. */
char *gw_upstream_scrub_text(const char *s, char *const *secrets, size_t nsecrets);

/* Length of the longest prefix of s (n bytes) that is at most max bytes and ends on a UTF-8
 * character boundary. */
size_t gw_upstream_utf8_cut(const char *s, size_t n, size_t max);

#endif
