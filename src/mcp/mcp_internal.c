/*
 * src/mcp/mcp_internal.c
 * In-process MCP calls (see mcp_internal.h): an origin whose ops capture the final message, a
 * hold count that tells when the server has let go of the call, and delivery of the answer by
 * a task posted to the loop (so the callback may start further calls without re-entering the
 * dispatch that is still on the stack).
 *
 * Lifetime of a struct gw_mcp_call: one hold of its own from creation until dispatch returns,
 * plus one per exchange (the server's hold/release ops). When the holds reach zero the answer
 * (or its absence) is posted to the loop; the posted task calls back unless the call was
 * cancelled, then frees. A cancel before that only sets the flag and tells the server.
 */
#include "mcp/mcp_internal.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "mcp/mcp_session.h"
#include "net/net_loop.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define INTERNAL_MAX_MESSAGE (64u << 20) /* the largest final message accepted */

struct gw_mcp_call {
    struct gw_mcp_server *srv;
    struct gw_ctx *ctx;
    struct gw_loop *loop;
    gw_mcp_call_done_fn done;
    void *arg;
    char id[48];
    char *final; /* text of the final message, or NULL */
    size_t final_len;
    int holds;
    bool cancelled;
    bool finished; /* holds reached zero: the delivery task is posted */
};

static void deliver(void *arg)
{
    struct gw_mcp_call *c = arg;
    json_t *resp = NULL;
    if (!c->cancelled && c->final) {
        struct gw_json_limits lim = {INTERNAL_MAX_MESSAGE, 0};
        struct gw_error err = {0};
        resp = gw_json_parse(c->final, c->final_len, &lim, &err);
        if (!resp)
            GW_LOG(GW_LOG_ERROR, "mcp", "internal call %s: unreadable answer: %s", c->id,
                   err.msg);
    }
    if (!c->cancelled)
        c->done(c->arg, resp);
    json_decref(resp);
    gw_ctx_unref(c->ctx);
    gw_free(c->final);
    gw_free(c);
}

static void call_release(struct gw_mcp_call *c)
{
    if (--c->holds > 0)
        return;
    c->finished = true;
    if (gw_loop_post(c->loop, deliver, c) != GW_OK) {
        /* the loop is closing: nobody can take the answer */
        gw_ctx_unref(c->ctx);
        gw_free(c->final);
        gw_free(c);
    }
}

static void op_send(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len,
                    bool final)
{
    (void)x;
    struct gw_mcp_call *c = tctx;
    if (!final || c->final)
        return; /* progress and log notifications are not delivered to in-process callers */
    c->final = gw_xmalloc(len + 1);
    memcpy(c->final, json, len);
    c->final[len] = '\0';
    c->final_len = len;
}

static void op_exchange_done(void *tctx, struct gw_mcp_exchange *x)
{
    (void)tctx;
    (void)x;
}

static const char *op_header(void *tctx, const char *name)
{
    (void)tctx;
    (void)name;
    return NULL;
}

static void op_hold(void *tctx)
{
    ((struct gw_mcp_call *)tctx)->holds++;
}

static void op_release(void *tctx)
{
    call_release(tctx);
}

static const struct gw_mcp_origin_ops internal_ops = {
    .send = op_send,
    .exchange_done = op_exchange_done,
    .header = op_header,
    .hold = op_hold,
    .release = op_release,
};

json_t *gw_mcp_internal_meta(void)
{
    return json_pack("{s:s,s:{s:{}},s:{s:s,s:s}}", "io.modelcontextprotocol/protocolVersion",
                     gw_mcp_version_str(GW_MCP_V_2026_07_28),
                     "io.modelcontextprotocol/clientCapabilities", "elicitation",
                     "io.modelcontextprotocol/clientInfo", "name", "mcpgw-chat", "version",
                     "1");
}

static void fill_origin(struct gw_mcp_call *c, struct gw_mcp_origin *o)
{
    memset(o, 0, sizeof(*o));
    o->ops = &internal_ops;
    o->tctx = c;
    o->loop = c->loop;
    o->version = GW_MCP_V_2026_07_28;
    o->caps = GW_CAP_ELICITATION;
    o->modern = true;
    o->log_level = -1;
    o->request_id = gw_ctx_request_id(c->ctx);
    o->ctx = c->ctx;
}

int gw_mcp_server_call(struct gw_mcp_server *srv, struct gw_ctx *ctx, const char *method,
                       const json_t *params, gw_mcp_call_done_fn done, void *arg,
                       struct gw_mcp_call **out)
{
    if (out)
        *out = NULL;
    if (!srv || !ctx || !method || !done || !gw_ctx_loop(ctx) ||
        gw_ctx_auth_state(ctx) != GW_AUTH_DONE)
        return GW_EINVAL;
    struct gw_mcp_call *c = gw_xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->ctx = gw_ctx_ref(ctx);
    c->loop = gw_ctx_loop(ctx);
    c->done = done;
    c->arg = arg;
    c->holds = 1;
    /* an id nobody else can name: notifications/cancelled from a remote client cannot reach
     * it (the in-flight table is keyed by session and id, and internal calls have no session) */
    unsigned char rnd[12];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 0, sizeof(rnd));
    int n = snprintf(c->id, sizeof(c->id), "internal-");
    for (size_t i = 0; i < sizeof(rnd); i++)
        n += snprintf(c->id + n, sizeof(c->id) - (size_t)n, "%02x", rnd[i]);
    json_t *p = params ? json_deep_copy(params) : json_object();
    if (!json_is_object(p)) {
        json_decref(p);
        p = json_object();
    }
    json_t *meta = json_object_get(p, "_meta");
    json_t *im = gw_mcp_internal_meta();
    if (json_is_object(meta))
        json_object_update_missing(meta, im);
    else
        json_object_set(p, "_meta", im);
    json_decref(im);
    json_t *msg = json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "2.0", "id", c->id, "method", method,
                            "params", p);
    struct gw_mcp_origin o;
    fill_origin(c, &o);
    if (out)
        *out = c;
    gw_mcp_server_dispatch(srv, &o, msg);
    json_decref(msg);
    call_release(c);
    return GW_OK;
}

void gw_mcp_call_cancel(struct gw_mcp_call *call)
{
    if (!call || call->cancelled)
        return;
    call->cancelled = true;
    if (call->finished)
        return; /* the delivery task is queued: it sees the flag and only frees */
    json_t *note = json_pack("{s:s,s:s,s:{s:s}}", "jsonrpc", "2.0", "method",
                             "notifications/cancelled", "params", "requestId", call->id);
    struct gw_mcp_origin o;
    fill_origin(call, &o);
    call->holds++; /* the notification's dispatch must not free the call under us */
    gw_mcp_server_dispatch(call->srv, &o, note);
    json_decref(note);
    call_release(call);
}
