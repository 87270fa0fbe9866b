/*
 * src/mcp/mcp_internal.h
 * In-process MCP calls: a module of the gateway (the chat agent) sends one request to the
 * protocol server exactly as a remote client would, under the principal of an authenticated
 * request context, and receives the final JSON-RPC message.
 *
 * The call is dispatched with an internal origin (transport GW_TRANSPORT_INTERNAL, the stateless
 * 2026-07-28 era, client capability `elicitation`), so every phase applies unchanged: exposure,
 * authorization and confirmation (answered as input_required + requestState, which the caller
 * re-sends with inputResponses), limits, validation, execution and audit.
 * Threading: start, cancel and the callback all run on the context's loop thread. The callback
 * is never called from inside gw_mcp_server_call.
 */
#ifndef GW_MCP_INTERNAL_H
#define GW_MCP_INTERNAL_H

#include "ctx/ctx.h"
#include "mcp/mcp_server.h"

#include <jansson.h>

struct gw_mcp_call;

/* The final message of the call: a JSON-RPC response object ({"result":..} or {"error":..});
 * a new reference the callback owns. NULL when the request ended without an answer (the server
 * shut down). Never called after gw_mcp_call_cancel. */
typedef void (*gw_mcp_call_done_fn)(void *arg, json_t *response);

/* Sends request `method` with `params` (borrowed; NULL = {}; `_meta` of the 2026-07-28 era is
 * added) under `ctx`, which must be authenticated (state DONE) and belong to the calling loop
 * (gw_ctx_loop). Each call gets an unguessable request id. GW_OK (done follows exactly once
 * unless cancelled; *out, may be NULL, receives a handle valid until done runs or the call is
 * cancelled) or GW_EINVAL (no loop, context not authenticated). */
int gw_mcp_server_call(struct gw_mcp_server *srv, struct gw_ctx *ctx, const char *method,
                       const json_t *params, gw_mcp_call_done_fn done, void *arg,
                       struct gw_mcp_call **out);

/* Cancels a call whose callback has not run: the server is told (notifications/cancelled), the
 * callback is never called, and the handle becomes invalid. Accepts NULL. Loop thread only. */
void gw_mcp_call_cancel(struct gw_mcp_call *call);

/* The _meta of an internal 2026-07-28 request (protocol version, client capabilities and
 * client info), new reference; exposed for tests. */
json_t *gw_mcp_internal_meta(void);

#endif
