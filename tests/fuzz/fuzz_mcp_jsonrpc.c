/*
 * tests/fuzz/fuzz_mcp_jsonrpc.c
 * Fuzz target for the JSON-RPC front door: bytes -> gw_json_parse under the gateway's limits
 * (1 MiB, depth 64) -> batch rules (allowed and not) -> classification of the message or of
 * every batch element -> the error/result response built for it and serialised, as the HTTP
 * and stdio transports do. Invariants checked (abort on violation): a classified request has a
 * method and a string/integer id, a notification has no id, a response has exactly one of
 * result/error, an invalid message carries a message text, and every reply serialises to one
 * line (no raw CR/LF, which would break SSE and stdio framing).
 * Seeds (corpus/mcp_jsonrpc/) are named after the attack they carry.
 */
#include "core/alloc.h"
#include "core/json.h"
#include "mcp/mcp_jsonrpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_line(json_t *v)
{
    char *t = gw_json_dumps(v);
    if (!t)
        abort();
    if (strchr(t, '\n') || strchr(t, '\r'))
        abort();
    gw_free(t);
}

static void one(json_t *msg)
{
    struct gw_jsonrpc_msg m;
    struct gw_error err = {0};
    gw_jsonrpc_classify(msg, &m, &err);
    json_t *reply = NULL;
    switch (m.kind) {
    case GW_JSONRPC_REQUEST:
        if (!m.method || !m.id || !(json_is_string(m.id) || json_is_integer(m.id)))
            abort();
        if (m.params && !json_is_object(m.params))
            abort();
        reply = gw_jsonrpc_result(m.id, json_pack("{s:s}", "echo", m.method));
        break;
    case GW_JSONRPC_NOTIFICATION:
        if (!m.method || m.id)
            abort();
        break;
    case GW_JSONRPC_RESPONSE:
        if ((m.result == NULL) == (m.error == NULL) || !m.id)
            abort();
        break;
    case GW_JSONRPC_INVALID:
        if (err.code != GW_EINVAL || !err.msg[0])
            abort();
        reply = gw_jsonrpc_error(m.id, GW_JSONRPC_INVALID_REQUEST, err.msg, NULL);
        break;
    }
    if (reply) {
        check_line(reply);
        json_decref(reply);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_json_limits lim = {1u << 20, 64};
    struct gw_error err = {0};
    json_t *v = gw_json_parse((const char *)data, size, &lim, &err);
    if (!v) {
        if (err.code != GW_EINVAL && err.code != GW_ELIMIT)
            abort();
        json_t *e = gw_jsonrpc_error(NULL, err.code == GW_ELIMIT ? GW_JSONRPC_INVALID_REQUEST
                                                                 : GW_JSONRPC_PARSE_ERROR,
                                     err.msg, NULL);
        check_line(e);
        json_decref(e);
        return 0;
    }
    if (json_is_array(v)) {
        struct gw_error berr = {0};
        (void)gw_jsonrpc_batch_check(v, false, 64, &berr);
        if (gw_jsonrpc_batch_check(v, true, 10000, &berr) == GW_OK) {
            for (size_t i = 0; i < json_array_size(v); i++)
                one(json_array_get(v, i));
        } else if (!berr.msg[0]) {
            abort();
        }
    } else {
        one(v);
    }
    json_decref(v);
    return 0;
}
