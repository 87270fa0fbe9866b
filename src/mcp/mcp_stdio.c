/*
 * src/mcp/mcp_stdio.c
 * The stdio transport. One loop (the caller's thread) reads lines from stdin with a bufferevent,
 * dispatches each message, and writes every outgoing message as one line to stdout.
 * A line longer than max_line is answered with a -32600 error and skipped (nothing else lost).
 * On EOF the transport stops reading, waits for in-flight exchanges (they may be waiting on
 * upstream calls), flushes stdout and returns.
 * Server-initiated notifications (list_changed) arrive through a listener on this loop.
 */
#include "mcp/mcp_stdio.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "ctx/ctx.h"
#include "mcp/mcp_jsonrpc.h"
#include "net/net_loop.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct stdio_ctx {
    struct gw_mcp_server *mcp;
    struct gw_loop *loop;
    struct bufferevent *in, *out;
    size_t max_line;
    size_t max_batch;
    int holds;
    bool eof;
    bool skipping; /* discarding the rest of an oversized line */
    enum gw_mcp_version version;
    uint8_t caps;
    bool initialized;
    unsigned long long seq; /* request ids */
    struct gw_mcp_listener listener;
};

static void maybe_exit(struct stdio_ctx *c)
{
    if (c->eof && c->holds == 0) {
        struct evbuffer *o = bufferevent_get_output(c->out);
        if (evbuffer_get_length(o) == 0)
            event_base_loopexit(gw_loop_base(c->loop), NULL);
    }
}

static void write_line(struct stdio_ctx *c, const char *json, size_t len)
{
    struct evbuffer *o = bufferevent_get_output(c->out);
    evbuffer_add(o, json, len);
    evbuffer_add(o, "\n", 1);
}

static void on_send(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len, bool fin)
{
    (void)x;
    (void)fin;
    write_line(tctx, json, len);
}

static void on_initialized(void *tctx, enum gw_mcp_version v, uint8_t caps)
{
    struct stdio_ctx *c = tctx;
    c->version = v;
    c->caps = caps;
    c->initialized = true;
}

static void on_hold(void *tctx)
{
    ((struct stdio_ctx *)tctx)->holds++;
}

static void on_release(void *tctx)
{
    struct stdio_ctx *c = tctx;
    c->holds--;
    maybe_exit(c);
}

static const struct gw_mcp_origin_ops stdio_ops = {
    .send = on_send,
    .initialized = on_initialized,
    .hold = on_hold,
    .release = on_release,
};

static void listener_send(struct gw_mcp_listener *l, const char *json, size_t len)
{
    struct stdio_ctx *c = (struct stdio_ctx *)((char *)l - offsetof(struct stdio_ctx, listener));
    if (!c->eof)
        write_line(c, json, len);
}

/* Each message gets its own request context: the stdio transport, a sequential request id,
 * no credential (the authenticator gives stdio its configured local principal). */
static void dispatch(struct stdio_ctx *c, struct gw_mcp_origin *o, json_t *msg)
{
    char rid[40];
    snprintf(rid, sizeof(rid), "stdio-%llu", ++c->seq);
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_STDIO,
                             .loop = c->loop,
                             .peer = "stdio",
                             .request_id = rid,
                             .session = o->session_id};
    struct gw_ctx *ctx = gw_ctx_new(&ci);
    o->ctx = ctx;
    o->request_id = rid;
    gw_mcp_server_dispatch(c->mcp, o, msg);
    o->ctx = NULL;
    o->request_id = NULL;
    gw_ctx_unref(ctx);
}

static void handle_line(struct stdio_ctx *c, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    struct gw_json_limits lim = {c->max_line, 64};
    struct gw_error err = {0};
    json_t *msg = gw_json_parse(line, len, &lim, &err);
    struct gw_mcp_origin o = {0};
    o.ops = &stdio_ops;
    o.tctx = c;
    o.loop = c->loop;
    o.version = c->initialized ? c->version : GW_MCP_LATEST_LEGACY;
    o.caps = c->caps;
    o.session_id = "stdio";
    o.request_id = NULL;
    o.log_level = -1;
    if (!msg) {
        json_t *e = gw_jsonrpc_error(NULL, err.code == GW_ELIMIT ? GW_JSONRPC_INVALID_REQUEST
                                                                 : GW_JSONRPC_PARSE_ERROR,
                                     err.msg, NULL);
        char *t = gw_json_dumps(e);
        write_line(c, t, strlen(t));
        gw_free(t);
        json_decref(e);
        return;
    }
    json_t *meta = json_object_get(json_object_get(msg, "params"), "_meta");
    const char *pv = gw_json_str(meta, "io.modelcontextprotocol/protocolVersion");
    if (pv && gw_mcp_version_is_modern(gw_mcp_version_parse(pv))) {
        o.modern = true;
        o.version = GW_MCP_V_2026_07_28;
        o.session_id = NULL;
        o.log_level = gw_mcp_log_level_parse(gw_json_str(meta, "io.modelcontextprotocol/logLevel"));
    }
    on_hold(c);
    struct gw_error berr = {0};
    if (json_is_array(msg)) {
        if (gw_jsonrpc_batch_check(msg, gw_mcp_version_allows_batch(o.version), c->max_batch,
                                   &berr) != GW_OK) {
            char text[GW_ERROR_MSG_MAX + 32];
            snprintf(text, sizeof(text), "Invalid Request: %s", berr.msg);
            json_t *e = gw_jsonrpc_error(NULL, GW_JSONRPC_INVALID_REQUEST, text, NULL);
            char *t = gw_json_dumps(e);
            write_line(c, t, strlen(t));
            gw_free(t);
            json_decref(e);
        } else {
            for (size_t i = 0; i < json_array_size(msg); i++)
                dispatch(c, &o, json_array_get(msg, i));
        }
    } else {
        dispatch(c, &o, msg);
    }
    json_decref(msg);
    on_release(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct stdio_ctx *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t len = 0;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
        if (!line) {
            if (evbuffer_get_length(in) > c->max_line) {
                /* an oversized line: report once, then drop bytes up to its newline */
                if (!c->skipping) {
                    json_t *e = gw_jsonrpc_error(NULL, GW_JSONRPC_INVALID_REQUEST,
                                                 "message exceeds the maximum size", NULL);
                    char *t = gw_json_dumps(e);
                    write_line(c, t, strlen(t));
                    gw_free(t);
                    json_decref(e);
                }
                c->skipping = true;
                evbuffer_drain(in, evbuffer_get_length(in));
            }
            return;
        }
        if (c->skipping) {
            c->skipping = false;
            gw_free(line);
            continue;
        }
        handle_line(c, line, len);
        gw_free(line);
    }
}

static void on_in_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct stdio_ctx *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        c->eof = true;
        bufferevent_disable(c->in, EV_READ);
        maybe_exit(c);
    }
}

static void on_out_written(struct bufferevent *bev, void *arg)
{
    (void)bev;
    maybe_exit(arg);
}

static void on_out_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct stdio_ctx *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        GW_LOG(GW_LOG_INFO, "stdio", "stdout closed; exiting");
        event_base_loopexit(gw_loop_base(c->loop), NULL);
    }
}

int gw_mcp_stdio_run(struct gw_mcp_server *mcp, struct gw_loop *loop, int in_fd, int out_fd,
                     size_t max_line)
{
    struct stdio_ctx c = {0};
    c.mcp = mcp;
    c.max_batch = gw_mcp_server_options(mcp)->max_batch;
    c.loop = loop;
    c.max_line = max_line;
    struct event_base *base = gw_loop_base(loop);
    evutil_make_socket_nonblocking(in_fd);
    c.in = bufferevent_socket_new(base, in_fd, 0);
    c.out = bufferevent_socket_new(base, out_fd, 0);
    bufferevent_setcb(c.in, on_read, NULL, on_in_event, &c);
    bufferevent_setcb(c.out, NULL, on_out_written, on_out_event, &c);
    bufferevent_enable(c.in, EV_READ);
    bufferevent_enable(c.out, EV_WRITE);
    c.listener.send = listener_send;
    c.listener.loop = loop;
    c.listener.flags = GW_LISTEN_ALL;
    snprintf(c.listener.session, sizeof(c.listener.session), "stdio");
    gw_mcp_server_listen(mcp, &c.listener);
    gw_loop_set_current(loop);
    event_base_dispatch(base);
    gw_mcp_server_unlisten(mcp, &c.listener);
    /* flush whatever is left synchronously: we are exiting */
    struct evbuffer *o = bufferevent_get_output(c.out);
    while (evbuffer_get_length(o) > 0 && evbuffer_write(o, out_fd) > 0)
        ;
    bufferevent_free(c.in);
    bufferevent_free(c.out);
    return 0;
}
