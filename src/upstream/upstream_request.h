/*
 * src/upstream/upstream_request.h
 * Turns a tool's `binding` (docs/tool-model.md) and a call's arguments into one upstream HTTP
 * request: URL (base + percent-encoded path + query with OpenAPI style/explode), headers,
 * cookies and body (JSON, form-urlencoded, multipart, text). Pure: no I/O, no globals, so it is
 * fuzzed directly (tests/fuzz/fuzz_upstream_build.c).
 *
 * Security invariants (each has a test):
 *  1. Path parameter values are encoded with only RFC 3986 unreserved characters kept, so '/',
 *     '?', '#', '%' and '..' can never change the path; values that are, or decode to, "." or
 *     ".." and values with CR, LF or NUL are refused.
 *  2. No header name or value built here contains CR, LF, NUL or other control characters.
 *  3. Arguments can never set hop-by-hop/framing headers (Host, Content-Length, Connection, ...)
 *     and can set credential headers (Authorization, Cookie, API-key headers, the caller-identity
 *     header, ...) only when the binding entry says "allowCredentialHeader": true.
 *  4. Arguments not described by the binding are ignored (validation rejected them earlier).
 * Threading: re-entrant; the result is owned by the caller.
 */
#ifndef GW_UPSTREAM_REQUEST_H
#define GW_UPSTREAM_REQUEST_H

#include "core/buf.h"
#include "core/err.h"
#include "httpc/httpc_client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A built request. Strings are heap-owned; release with gw_upstream_req_fini. */
struct gw_upstream_req {
    char method[8];
    char *url;               /* absolute URL */
    char **headers;          /* "Name: value" lines */
    size_t nheaders, _cap;
    struct gw_buf cookie;    /* "a=1; b=2" (a Cookie header is added by gw_upstream_req_finish) */
    char *body;              /* NULL = no body */
    size_t body_len;
    struct gw_httpc_part *parts; /* multipart/form-data parts (exclusive with body) */
    size_t nparts;
    bool idempotent_method;  /* GET HEAD OPTIONS PUT DELETE */
    size_t header_bytes;     /* running total, bounded */
};

struct gw_upstream_build_opts {
    const char *base_url;                    /* http(s) URL without query; required */
    const char *const *protected_headers;    /* extra names arguments may not set (credential */
    size_t nprotected;                       /*   headers of the upstream, identity header, ...) */
    size_t max_url_bytes;                    /* 0 = 8192 */
    size_t max_body_bytes;                   /* 0 = 4 MiB */
};

/* Builds the request. `binding` and `args` are borrowed (args may be NULL = no arguments).
 * Returns GW_OK, GW_EINVAL (an argument or the binding cannot be encoded safely: the message
 * names the argument and is fit to show the model), GW_ELIMIT (URL/body/header size) or
 * GW_ENOMEM. On failure `out` is left empty (fini is still safe). */
int gw_upstream_req_build(const json_t *binding, const json_t *args,
                          const struct gw_upstream_build_opts *o, struct gw_upstream_req *out,
                          struct gw_error *err);

/* Appends a header after validating name (RFC 9110 token) and value (no control characters
 * except tab). Used by the executor for credentials and identity. GW_OK, GW_EINVAL, GW_ELIMIT. */
int gw_upstream_req_add_header(struct gw_upstream_req *r, const char *name, const char *value,
                               struct gw_error *err);

/* Appends name=value to the URL query, both percent-encoded (API keys in the query). */
int gw_upstream_req_add_query(struct gw_upstream_req *r, const char *name, const char *value,
                              struct gw_error *err);

/* Appends one cookie pair (value percent-encoded where it is not a cookie-octet). */
int gw_upstream_req_add_cookie(struct gw_upstream_req *r, const char *name, const char *value,
                               struct gw_error *err);

/* Adds the Cookie header from the collected pairs; call once, just before sending. */
int gw_upstream_req_finish(struct gw_upstream_req *r, struct gw_error *err);

/* True when arguments may never set this header (hop-by-hop/framing, case-insensitive). */
bool gw_upstream_header_is_reserved(const char *name);

/* True when this is a credential-bearing header name (Authorization, Cookie, x-api-key, ...). */
bool gw_upstream_header_is_credential(const char *name);

/* Frees everything; the struct is zeroed and reusable. Accepts a zeroed struct. */
void gw_upstream_req_fini(struct gw_upstream_req *r);

/* Percent-encodes `s` (n bytes) into out keeping only RFC 3986 unreserved characters and those
 * in `keep` (may be NULL). GW_OK, GW_ELIMIT or GW_ENOMEM. */
int gw_upstream_pct_encode(struct gw_buf *out, const char *s, size_t n, const char *keep);

#endif
