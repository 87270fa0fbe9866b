/*
 * src/mcp/mcp_http.h
 * MCP over Streamable HTTP at one endpoint (/mcp), every revision: the legacy era with
 * sessions (2025-03-26 / 06-18 / 11-25) and the stateless 2026-07-28, plus the old
 * 2024-11-05 HTTP+SSE transport (GET /sse + POST /messages) when enabled.
 *
 * Transport rules enforced here (the protocol logic is mcp_server.c): DNS-rebinding protection
 * (Host and Origin, 403), methods (405), Content-Type (415), Accept (406), JSON limits and parse
 * errors (400 + -32700, never an HTML page), sessions (400 missing, 404 unknown/terminated),
 * MCP-Protocol-Version (400 unsupported), batches (2025-03-26 sessions only), 2026-07-28
 * _meta and Mcp-Method/Mcp-Name header checks (400 + -32020/-32022/-32602).
 * Response mode per POST: JSON unless a request-related message (progress, log, a request to
 * the client) has to go out before the response, then SSE for the rest of that POST.
 */
#ifndef GW_MCP_HTTP_H
#define GW_MCP_HTTP_H

#include "mcp/mcp_server.h"

struct gw_server;

/* Registers /mcp (and /sse, /messages when the options enable the old transport) on the HTTP
 * server, plus a drain hook that closes open streams at shutdown. `mcp` must outlive `http`. */
struct gw_mcp_http;
struct gw_mcp_http *gw_mcp_http_attach(struct gw_mcp_server *mcp, struct gw_server *http);
/* Frees the transport state; after the HTTP server has stopped. Accepts NULL. */
void gw_mcp_http_free(struct gw_mcp_http *h);

/* ---- admission: a check run first on every request of the MCP routes (after the Host/Origin
 * check, before authentication), e.g. the per-IP rate limit. ---- */

#define GW_MCP_ADMIT_HEADERS 4

struct gw_mcp_admission {
    int status;          /* 0 = admitted; else refuse with this HTTP status (429, 503) */
    int jsonrpc_code;    /* the refusal's JSON-RPC error code */
    char message[320];   /* the refusal's message */
    json_t *data;        /* the refusal's error data, or NULL (stolen by the transport) */
    int nheaders;        /* response headers to add, admitted or not (RateLimit, Retry-After) */
    char headers[GW_MCP_ADMIT_HEADERS][2][200];
};

typedef void (*gw_mcp_admit_done_fn)(void *arg);
/* Decides about a request from `peer` (the connection's address; `forwarded_for` is its
 * X-Forwarded-For or NULL). On the request's loop. Returns GW_OK with `out` filled now, or
 * GW_AGAIN and later calls done(arg) on that loop with `out` filled. Must not block. */
typedef int (*gw_mcp_admit_fn)(void *ud, struct gw_loop *loop, const char *peer,
                               const char *forwarded_for, struct gw_mcp_admission *out,
                               gw_mcp_admit_done_fn done, void *arg);
/* Installs the admission check (before serving; NULL = none). */
void gw_mcp_http_set_admission(struct gw_mcp_http *h, gw_mcp_admit_fn fn, void *ud);

#endif
