/*
 * src/mcp/mcp_jsonrpc.h
 * JSON-RPC 2.0 framing for MCP: classifying one parsed message, building responses and error
 * objects, and the batch rules (2025-03-26 only).
 *
 * MCP restrictions applied on top of JSON-RPC: ids are strings or integers, never null, for
 * requests; params, when present, is an object; "jsonrpc" is exactly "2.0".
 * Batch rules (jsonrpc.org): [] is a single -32600 error; invalid elements each get a -32600
 * with id null; notifications get nothing; a batch of only notifications gets no body.
 * Pure functions, no I/O, thread-safe.
 */
#ifndef GW_MCP_JSONRPC_H
#define GW_MCP_JSONRPC_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

enum {
    GW_JSONRPC_PARSE_ERROR = -32700,
    GW_JSONRPC_INVALID_REQUEST = -32600,
    GW_JSONRPC_METHOD_NOT_FOUND = -32601,
    GW_JSONRPC_INVALID_PARAMS = -32602,
    GW_JSONRPC_INTERNAL_ERROR = -32603,
    GW_MCP_RESOURCE_NOT_FOUND = -32002,    /* <= 2025-11-25 */
    GW_MCP_HEADER_MISMATCH = -32020,       /* 2026-07-28 */
    GW_MCP_MISSING_CLIENT_CAP = -32021,    /* 2026-07-28 */
    GW_MCP_UNSUPPORTED_VERSION = -32022,   /* 2026-07-28 */
    GW_MCP_SERVER_ERROR = -32000,          /* transport-level errors (SDK convention) */
    /* The gateway's own refusals, in the range the 2026-07-28 revision leaves to
     * implementations (-32000..-32019); docs/governance.md lists them. -32002 is skipped (it
     * is "resource not found" before 2026-07-28). */
    GW_GATEWAY_UNAUTHENTICATED = -32001,   /* no, invalid or expired credential (HTTP 401) */
    GW_GATEWAY_FORBIDDEN = -32003,         /* the caller's roles may not execute this risk */
    GW_GATEWAY_POLICY_DENIED = -32004,     /* a policy refused the call (rule id in data) */
    GW_GATEWAY_ELEVATION_REQUIRED = -32005,/* privileged tool: step up (HTTP 403 when single) */
    GW_GATEWAY_CONFIRMATION_REQUIRED = -32006, /* needs the user's consent; client can't ask */
    GW_GATEWAY_CONFIRMATION_INVALID = -32007,  /* consent altered, expired or already used */
    GW_GATEWAY_RATE_LIMITED = -32008,      /* a rate limit refused the call; data.retryAfterSeconds
                                              (HTTP 429 when refused at the HTTP layer) */
    GW_GATEWAY_LIMITER_UNAVAILABLE = -32009,/* the shared limiter (Redis) cannot answer and the
                                              configured mode is fail-closed (HTTP 503) */
    GW_GATEWAY_AUDIT_UNAVAILABLE = -32019  /* the audit trail cannot take the call's record
                                              (backlog or storage failure): retry later */
};

enum gw_jsonrpc_kind {
    GW_JSONRPC_REQUEST,
    GW_JSONRPC_NOTIFICATION,
    GW_JSONRPC_RESPONSE, /* a result or error answering one of our requests */
    GW_JSONRPC_INVALID
};

/* A classified message. Borrowed views into the json_t it was made from. */
struct gw_jsonrpc_msg {
    enum gw_jsonrpc_kind kind;
    json_t *id;         /* request/response id; NULL for notifications and invalid ids */
    const char *method; /* requests and notifications */
    json_t *params;     /* object or NULL */
    json_t *result;     /* responses */
    json_t *error;      /* responses */
};

/* Classifies `v`. On GW_JSONRPC_INVALID, err holds a precise message (e.g. "\"jsonrpc\" must
 * be \"2.0\"") and out->id holds the id when one could be read (so the error can echo it). */
void gw_jsonrpc_classify(json_t *v, struct gw_jsonrpc_msg *out, struct gw_error *err);

/* New reference: {"jsonrpc":"2.0","id":id,"result":result}. Steals `result`. `id` borrowed. */
json_t *gw_jsonrpc_result(json_t *id, json_t *result);
/* New reference: {"jsonrpc":"2.0","id":id,"error":{code,message[,data]}}. Steals `data`. When
 * the id is unknown (parse errors) the member is omitted: MCP's schema allows that and forbids
 * a null id. */
json_t *gw_jsonrpc_error(json_t *id, int code, const char *message, json_t *data);
/* New reference: a notification {"jsonrpc":"2.0","method":m,"params":p}. Steals params. */
json_t *gw_jsonrpc_notification(const char *method, json_t *params);
/* New reference: a request {"jsonrpc":"2.0","id":id,"method":m,"params":p}. Steals params. */
json_t *gw_jsonrpc_request(json_t *id, const char *method, json_t *params);

/* Checks the batch-level rules for a JSON array body: batches allowed at all (only 2025-03-26
 * sessions), not empty, at most `max` messages, no initialize inside. GW_OK or GW_EINVAL with
 * the reason in err. (Per-element validity is checked when each element is dispatched: an
 * invalid element gets its own -32600 response in the reply array.) */
int gw_jsonrpc_batch_check(const json_t *batch, bool allowed, size_t max, struct gw_error *err);

#endif
