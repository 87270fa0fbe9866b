/*
 * src/mcp/mcp_jsonrpc.c
 * Message classification and construction. Messages are validated strictly so that every
 * malformed input gets a precise -32600 message instead of undefined behaviour downstream.
 */
#include "mcp/mcp_jsonrpc.h"

#include <string.h>

static bool valid_id(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

void gw_jsonrpc_classify(json_t *v, struct gw_jsonrpc_msg *out, struct gw_error *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = GW_JSONRPC_INVALID;
    if (!json_is_object(v)) {
        GW_ERROR_SET(err, GW_EINVAL, "a JSON-RPC message must be an object");
        return;
    }
    json_t *id = json_object_get(v, "id");
    if (id && valid_id(id))
        out->id = id;
    json_t *ver = json_object_get(v, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
        GW_ERROR_SET(err, GW_EINVAL, "\"jsonrpc\" must be the string \"2.0\"");
        return;
    }
    json_t *method = json_object_get(v, "method");
    if (method) {
        if (!json_is_string(method) || json_string_length(method) == 0) {
            GW_ERROR_SET(err, GW_EINVAL, "\"method\" must be a non-empty string");
            return;
        }
        json_t *params = json_object_get(v, "params");
        if (params && !json_is_object(params)) {
            GW_ERROR_SET(err, GW_EINVAL, "\"params\" must be an object");
            return;
        }
        if (json_object_get(v, "result") || json_object_get(v, "error")) {
            GW_ERROR_SET(err, GW_EINVAL, "a request must not carry \"result\" or \"error\"");
            return;
        }
        out->method = json_string_value(method);
        out->params = params;
        if (!id) {
            out->kind = GW_JSONRPC_NOTIFICATION;
            return;
        }
        if (!valid_id(id)) {
            GW_ERROR_SET(err, GW_EINVAL, "\"id\" must be a string or an integer (not %s)",
                         json_is_null(id) ? "null" : "another type");
            return;
        }
        out->kind = GW_JSONRPC_REQUEST;
        return;
    }
    json_t *result = json_object_get(v, "result");
    json_t *error = json_object_get(v, "error");
    if (!result && !error) {
        GW_ERROR_SET(err, GW_EINVAL, "a message needs \"method\" (request) or \"result\"/\"error\" "
                                     "(response)");
        return;
    }
    if (result && error) {
        GW_ERROR_SET(err, GW_EINVAL, "a response must not carry both \"result\" and \"error\"");
        return;
    }
    if (!valid_id(id)) {
        GW_ERROR_SET(err, GW_EINVAL, "a response needs a string or integer \"id\"");
        return;
    }
    if (error && (!json_is_object(error) || !json_is_integer(json_object_get(error, "code")))) {
        GW_ERROR_SET(err, GW_EINVAL, "\"error\" must be an object with an integer \"code\"");
        return;
    }
    out->kind = GW_JSONRPC_RESPONSE;
    out->result = result;
    out->error = error;
}

json_t *gw_jsonrpc_result(json_t *id, json_t *result)
{
    json_t *v = json_object();
    json_object_set_new(v, "jsonrpc", json_string("2.0"));
    json_object_set(v, "id", id ? id : json_null());
    json_object_set_new(v, "result", result ? result : json_object());
    return v;
}

json_t *gw_jsonrpc_error(json_t *id, int code, const char *message, json_t *data)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", json_string(message ? message : ""));
    if (data)
        json_object_set_new(e, "data", data);
    json_t *v = json_object();
    json_object_set_new(v, "jsonrpc", json_string("2.0"));
    if (id)
        json_object_set(v, "id", id); /* unknown id: omitted (MCP's schema forbids null ids) */
    json_object_set_new(v, "error", e);
    return v;
}

json_t *gw_jsonrpc_notification(const char *method, json_t *params)
{
    json_t *v = json_object();
    json_object_set_new(v, "jsonrpc", json_string("2.0"));
    json_object_set_new(v, "method", json_string(method));
    if (params)
        json_object_set_new(v, "params", params);
    return v;
}

json_t *gw_jsonrpc_request(json_t *id, const char *method, json_t *params)
{
    json_t *v = gw_jsonrpc_notification(method, params);
    json_object_set(v, "id", id);
    return v;
}

int gw_jsonrpc_batch_check(const json_t *batch, bool allowed, size_t max, struct gw_error *err)
{
    size_t n = json_array_size(batch);
    if (!json_is_array(batch))
        return GW_ERROR_SET(err, GW_EINVAL, "a batch must be a JSON array");
    if (!allowed)
        return GW_ERROR_SET(err, GW_EINVAL, "JSON-RPC batches are only accepted in sessions of "
                                            "protocol version 2025-03-26");
    if (n == 0)
        return GW_ERROR_SET(err, GW_EINVAL, "empty batch");
    if (n > max)
        return GW_ERROR_SET(err, GW_EINVAL, "batch of %zu messages exceeds the limit of %zu", n,
                            max);
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_object_get(json_array_get(batch, i), "method");
        if (json_is_string(m) && strcmp(json_string_value(m), "initialize") == 0)
            return GW_ERROR_SET(err, GW_EINVAL, "initialize must not be part of a batch");
    }
    return GW_OK;
}
