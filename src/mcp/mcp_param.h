/*
 * src/mcp/mcp_param.h
 * The request headers of the 2026-07-28 Streamable HTTP transport that mirror the body
 * (SEP-2243): decoding a mirrored value, and checking a tools/call's `Mcp-Param-{name}`
 * headers against the arguments its tool declares with `x-mcp-header`
 * (schema/schema_headers.h finds the declarations).
 *
 * A header value has its optional whitespace trimmed (RFC 9110 §5.5); a value of the form
 * `=?base64?<padded base64>?=` is that base64's bytes, and a sentinel whose base64 is not
 * exactly padded base64 is an error, not a literal. Anything else is literal.
 * A declared argument that is present (not null) needs its header, equal to the argument's
 * text: a string's characters, an integer's decimal digits (compared as numbers), `true` or
 * `false`; an absent or null argument, or one that is not a scalar, must come without one.
 * A failed check is answered as the transport's other header mismatches: HTTP 400 with JSON-RPC
 * error -32020, naming the header and what would have been accepted.
 */
#ifndef GW_MCP_MCP_PARAM_H
#define GW_MCP_MCP_PARAM_H

#include "core/err.h"
#include "schema/schema_headers.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_mcp_exchange;

/* The longest decoded header value the checks compare (longer ones do not match). */
#define GW_MCP_HEADER_VALUE_MAX 1024

/* Decodes header value `raw` into out (capacity size, NUL-terminated; *len its length, which
 * a decoded value may exceed strlen of). GW_OK; GW_EINVAL when raw is a base64 sentinel whose
 * base64 is invalid; GW_ELIMIT when the value does not fit. raw NULL gives "" (GW_OK). */
int gw_mcp_header_decode(const char *raw, char *out, size_t size, size_t *len);

/* Checks mirrored header `name` (value raw, NULL when absent) against `want`, the body's text
 * (NULL: none); `what` names it in the refusal. GW_OK, or GW_EINVAL with the reason in err:
 * required, not padded base64, or does not match. (MCP-Protocol-Version, Mcp-Method,
 * Mcp-Name: mcp_http.c.) */
int gw_mcp_header_check(const char *name, const char *raw, const char *want, const char *what,
                        struct gw_error *err);

/* Reads a request header (name, e.g. "Mcp-Param-Region") for the check; NULL when absent. */
typedef const char *(*gw_mcp_header_fn)(void *ud, const char *name);

/* Checks the n declarations of a tool against its arguments (an object, or NULL for none) and
 * the request's headers. GW_OK, or GW_EINVAL with the reason in err. */
int gw_mcp_param_check(const struct gw_schema_header *decls, size_t n, const json_t *args,
                       gw_mcp_header_fn header, void *ud, struct gw_error *err);

/* The check for an exchange: when x is a 2026-07-28 request that came with HTTP headers and
 * `input_schema` declares x-mcp-header arguments, checks them against `args`. GW_OK when the
 * call may go on; otherwise GW_EINVAL with the reason in err and the JSON-RPC code to answer
 * with in *code (-32020, which the HTTP transport sends as a 400; or -32603 when the tool's
 * own declarations are invalid, which the registry never lets in). The caller replies. */
int gw_mcp_x_check_params(const struct gw_mcp_exchange *x, const json_t *input_schema,
                          const json_t *args, int *code, struct gw_error *err);
/* The same check with the tool's declarations found already (a registry snapshot keeps them:
 * registry/registry_snapshot.h). */
int gw_mcp_x_check_decls(const struct gw_mcp_exchange *x, const struct gw_schema_header *decls,
                         size_t n, const json_t *args, int *code, struct gw_error *err);

#endif
