/*
 * src/mcp/mcp_http.c
 * Streamable HTTP (/mcp: POST, GET, DELETE) and the old HTTP+SSE transport (/sse, /messages).
 *
 * A POST gets a `struct post_ctx`, the transport context of every exchange it starts. Holds:
 * one for the dispatch phase plus one per live exchange; when the count reaches zero the HTTP
 * response is completed: 202 (nothing to answer), JSON (one object, or an array for a batch),
 * or the end of the SSE stream if one was started.
 * POST state: COLLECTING --first non-final message--> STREAMING --holds == 0--> DONE
 *             COLLECTING --holds == 0--> DONE (202 or JSON)
 * A GET stream (legacy, one per session) and a subscriptions/listen stream (2026-07-28) are
 * listeners of the MCP server; the old transport's /sse stream is a listener whose session's
 * POSTs to /messages are forwarded to the stream's loop and answered on the stream.
 * All state of one stream lives on the worker that accepted it.
 * Every route authenticates its HTTP request first (after the Host/Origin check): a request
 * context is made from the request (peer, ids, the Authorization header) and the protocol
 * server's AUTHENTICATE runs on it, possibly asynchronously; a failure is answered 401/403 with
 * WWW-Authenticate before anything else happens. Sessions are bound to the principal that
 * initialized them (the binding is part of the session id's MAC).
 */
#include "mcp/mcp_http.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "ctx/ctx.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_param.h"
#include "mcp/mcp_sse.h"
#include "net/net_http.h"
#include "net/net_server.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct http_state {
    struct gw_mcp_server *mcp;
    struct gw_server *http;
    const struct gw_mcp_server_options *opts;
    gw_mcp_admit_fn admit; /* admission before authentication (per-IP limit), or NULL */
    void *admit_ud;
};

/* ====================================================================== */
/* transport checks                                                        */
/* ====================================================================== */

static bool list_has(const char *list, const char *item, size_t n)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len && len == n && strncasecmp(p, item, n) == 0)
            return true;
        p = end;
    }
    return false;
}

/* Extracts the host part (no port, no brackets) of a Host header or URL authority. */
static size_t host_part(const char *authority, char *out, size_t out_size)
{
    size_t n = 0;
    if (authority[0] == '[') {
        const char *close = strchr(authority, ']');
        if (!close)
            return 0;
        n = (size_t)(close - authority - 1);
        if (n >= out_size)
            return 0;
        memcpy(out, authority + 1, n);
    } else {
        const char *colon = strchr(authority, ':');
        const char *slash = strchr(authority, '/');
        n = colon ? (size_t)(colon - authority) : strlen(authority);
        if (slash && (size_t)(slash - authority) < n)
            n = (size_t)(slash - authority);
        if (n >= out_size)
            return 0;
        memcpy(out, authority, n);
    }
    out[n] = '\0';
    return n;
}

static bool is_loopback_name(const char *h)
{
    return strcasecmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 ||
           strcmp(h, "::1") == 0;
}

/* DNS-rebinding protection. Returns NULL when allowed, else the reason. */
static const char *check_host_origin(struct http_state *st, struct gw_http_req *r)
{
    const char *host = gw_http_header(r, "Host");
    char hname[256] = "";
    if (host && !host_part(host, hname, sizeof(hname)))
        return "malformed Host header";
    bool loop = gw_server_is_loopback(st->http);
    if (host) {
        bool listed = list_has(st->opts->allowed_hosts, hname, strlen(hname));
        if (loop && !is_loopback_name(hname) && !listed)
            return "Host not allowed";
        if (!loop && st->opts->allowed_hosts[0] && !listed)
            return "Host not allowed";
    }
    const char *origin = gw_http_header(r, "Origin");
    if (!origin)
        return NULL;
    if (list_has(st->opts->allowed_origins, origin, strlen(origin)))
        return NULL;
    const char *sep = strstr(origin, "://");
    char oname[256];
    if (!sep || !host_part(sep + 3, oname, sizeof(oname)))
        return "Origin not allowed";
    if (host && strcasecmp(oname, hname) == 0)
        return NULL; /* same origin as the (validated) Host */
    if (loop && !host && is_loopback_name(oname))
        return NULL;
    return "Origin not allowed";
}

/* Whether an Accept header admits `type` ("application/json" or "text/event-stream"). */
static bool accepts(const char *accept, const char *type)
{
    if (!accept)
        return false;
    const char *slash = strchr(type, '/');
    size_t major = (size_t)(slash - type);
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ';')
            end++;
        size_t n = (size_t)(end - p);
        while (n && p[n - 1] == ' ')
            n--;
        if ((n == strlen(type) && strncasecmp(p, type, n) == 0) ||
            (n == 3 && !strncmp(p, "*/*", 3)) ||
            (n == major + 2 && strncasecmp(p, type, major) == 0 && !strncmp(p + major, "/*", 2)))
            return true;
        while (*end && *end != ',')
            end++;
        p = end;
    }
    return false;
}

static bool is_json_content_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static struct gw_ctx *http_ctx(struct gw_http_req *r, enum gw_transport t);

/* A transport refusal (status >= 400, no message dispatched) goes to the completion observer
 * (audit) as REJECTED; authentication refusals are reported as REFUSED elsewhere. The routes
 * leave their state in the request's user pointer for this. */
static void report_rejection(struct gw_http_req *r, int status, int code, const char *msg)
{
    struct http_state *st = gw_http_user(r);
    if (!st || status < 400 || code == GW_GATEWAY_UNAUTHENTICATED)
        return;
    struct gw_ctx *ctx = http_ctx(r, strcmp(gw_http_path(r), "/mcp") == 0 ? GW_TRANSPORT_HTTP
                                                                           : GW_TRANSPORT_SSE);
    char what[80];
    snprintf(what, sizeof(what), "%s %.60s", gw_http_method_name(r), gw_http_path(r));
    gw_ctx_set_method(ctx, what);
    gw_mcp_server_report_rejection(st->mcp, ctx, status, code, msg);
    gw_ctx_unref(ctx);
}

static void reply_rpc_error_id(struct gw_http_req *r, int status, json_t *id, int code,
                               const char *msg, json_t *data)
{
    report_rejection(r, status, code, msg);
    json_t *e = gw_jsonrpc_error(gw_json_is_int_or_str(id) ? id : NULL, code, msg, data);
    gw_http_reply_json(r, status, e);
    json_decref(e);
}

static void reply_rpc_error(struct gw_http_req *r, int status, int code, const char *msg,
                            json_t *data)
{
    report_rejection(r, status, code, msg);
    json_t *e = gw_jsonrpc_error(NULL, code, msg, data);
    gw_http_reply_json(r, status, e);
    json_decref(e);
}

/* Parses the body under the configured limits; replies and returns NULL on failure. */
static json_t *parse_body(struct http_state *st, struct gw_http_req *r)
{
    size_t len = 0;
    const char *body = gw_http_body(r, &len);
    struct gw_json_limits lim = {0, st->opts->max_json_depth};
    struct gw_error err = {0};
    json_t *v = gw_json_parse(body, len, &lim, &err);
    if (!v) {
        char msg[GW_ERROR_MSG_MAX + 32];
        snprintf(msg, sizeof(msg), "Parse error: %s", len ? err.msg : "empty body");
        reply_rpc_error(r, 400,
                        err.code == GW_ELIMIT ? GW_JSONRPC_INVALID_REQUEST : GW_JSONRPC_PARSE_ERROR,
                        msg, NULL);
    }
    return v;
}

/* ====================================================================== */
/* request contexts and authentication                                     */
/* ====================================================================== */

static struct gw_ctx *http_ctx(struct gw_http_req *r, enum gw_transport t)
{
    struct gw_ctx_init ci = {.transport = t,
                             .loop = gw_worker_loop(gw_http_worker(r)),
                             .peer = gw_http_peer(r),
                             .request_id = gw_http_request_id(r),
                             .trace_id = gw_http_trace_id(r),
                             .session = gw_http_header(r, "Mcp-Session-Id"),
                             .credential = gw_http_header(r, "Authorization")};
    return gw_ctx_new(&ci);
}

/* The principal binding sessions are tied to ("" for the anonymous principal). */
static const char *binding_of(const struct gw_ctx *ctx)
{
    const struct gw_principal *p = gw_ctx_principal(ctx);
    return p && p->method != GW_AUTH_ANONYMOUS ? p->binding : "";
}

static void reply_auth_failure(struct gw_http_req *r, const struct gw_auth_failure *f)
{
    if (f->challenge[0])
        gw_http_add_header(r, "WWW-Authenticate", f->challenge);
    json_t *data = NULL;
    if (f->error[0])
        data = json_pack("{s:s}", "error", f->error);
    reply_rpc_error(r, f->status ? f->status : 401, GW_GATEWAY_UNAUTHENTICATED,
                    f->description[0] ? f->description : "authentication required", data);
}

typedef void (*authed_fn)(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx);

struct auth_wait {
    struct http_state *st;
    struct gw_http_req *r;
    authed_fn next;
};

static void after_auth(struct auth_wait *w, struct gw_ctx *ctx)
{
    const struct gw_auth_failure *f = gw_ctx_auth_failure(ctx);
    if (f) {
        GW_LOG(GW_LOG_INFO, "auth", "refused %s %s from %s: %s", gw_http_method_name(w->r),
               gw_http_path(w->r), gw_http_peer(w->r), f->description);
        gw_ctx_set_method(ctx, gw_http_method_name(w->r));
        gw_mcp_server_report_refusal(w->st->mcp, ctx, NULL);
        reply_auth_failure(w->r, f);
    } else {
        w->next(w->st, w->r, ctx);
    }
    gw_ctx_unref(ctx);
}

static void auth_done(struct gw_ctx *ctx, void *arg)
{
    gw_ctx_phase_end(ctx, GW_PHASE_AUTHENTICATE);
    after_auth(arg, ctx);
}

/* Authenticates the request, then runs next(st, r, ctx) (now or when the authenticator is
 * done), or answers the failure. */
static void authenticate_then(struct http_state *st, struct gw_http_req *r, enum gw_transport t,
                              authed_fn next)
{
    struct gw_ctx *ctx = http_ctx(r, t);
    struct auth_wait *w = gw_arena_alloc(gw_http_arena(r), sizeof(*w));
    if (!w) {
        gw_ctx_unref(ctx);
        reply_rpc_error(r, 503, GW_MCP_SERVER_ERROR, "Service Unavailable: out of memory", NULL);
        return;
    }
    w->st = st;
    w->r = r;
    w->next = next;
    if (gw_mcp_server_authenticate(st->mcp, ctx, auth_done, w) == GW_AGAIN)
        return;
    after_auth(w, ctx);
}

/* ====================================================================== */
/* admission (before authentication): the per-IP rate limit                */
/* ====================================================================== */

typedef void (*admitted_fn)(struct http_state *st, struct gw_http_req *r);

struct admit_wait {
    struct http_state *st;
    struct gw_http_req *r;
    admitted_fn next;
    struct gw_mcp_admission a;
};

static void after_admit(struct admit_wait *w)
{
    for (int i = 0; i < w->a.nheaders && i < GW_MCP_ADMIT_HEADERS; i++)
        gw_http_add_header(w->r, w->a.headers[i][0], w->a.headers[i][1]);
    if (w->a.status) {
        reply_rpc_error(w->r, w->a.status, w->a.jsonrpc_code, w->a.message, w->a.data);
        return;
    }
    json_decref(w->a.data);
    w->next(w->st, w->r);
}

static void admit_done(void *arg)
{
    after_admit(arg);
}

/* Runs the admission check, then next(st, r) (now or when it answers), or the refusal. */
static void admit_then(struct http_state *st, struct gw_http_req *r, admitted_fn next)
{
    if (!st->admit) {
        next(st, r);
        return;
    }
    struct admit_wait *w = gw_arena_alloc(gw_http_arena(r), sizeof(*w));
    if (!w) {
        reply_rpc_error(r, 503, GW_MCP_SERVER_ERROR, "Service Unavailable: out of memory", NULL);
        return;
    }
    memset(w, 0, sizeof(*w));
    w->st = st;
    w->r = r;
    w->next = next;
    if (st->admit(st->admit_ud, gw_worker_loop(gw_http_worker(r)), gw_http_peer(r),
                  gw_http_header(r, "X-Forwarded-For"), &w->a, admit_done, w) == GW_AGAIN)
        return;
    after_admit(w);
}

void gw_mcp_http_set_admission(struct gw_mcp_http *h, gw_mcp_admit_fn fn, void *ud)
{
    struct http_state *st = (struct http_state *)h;
    st->admit = fn;
    st->admit_ud = ud;
}

/* Headers a phase set on the request context (RateLimit fields of a tool call). */
static void add_ctx_headers(struct gw_http_req *r, const struct gw_ctx *ctx)
{
    for (size_t i = 0; i < gw_ctx_header_count(ctx); i++) {
        const char *name, *value;
        gw_ctx_header(ctx, i, &name, &value);
        gw_http_add_header(r, name, value);
    }
}

/* ====================================================================== */
/* POST context                                                            */
/* ====================================================================== */

struct post_ctx {
    struct http_state *st;
    struct gw_http_req *r;
    struct gw_ctx *ctx; /* the HTTP request's context (authenticated) */
    int holds;
    bool streaming;
    bool gone;
    bool batch;
    bool modern;
    int nresponses;
    int status; /* HTTP status of a JSON reply (default 200) */
    struct gw_buf out; /* collected responses (JSON mode) */
    char session[GW_SESSION_ID_MAX];
    struct gw_auth_failure refused; /* a message refused by authentication (status != 0) */
};

static void sse_headers(struct gw_http_req *r)
{
    gw_http_add_header(r, "Cache-Control", "no-cache, no-transform");
    gw_http_add_header(r, "X-Accel-Buffering", "no");
    gw_http_add_header(r, "Connection", "keep-alive");
}

static bool sse_write(struct gw_http_req *r, const char *event, const char *json, size_t len)
{
    struct gw_buf b;
    gw_buf_init(&b, len + 64);
    bool ok = false;
    if (gw_sse_event(&b, event, json, len) == GW_OK)
        ok = gw_http_stream_write(r, gw_buf_ptr(&b), gw_buf_len(&b));
    else
        GW_LOG(GW_LOG_ERROR, "mcp", "refused to frame an SSE event (newline in data)");
    gw_buf_fini(&b);
    return ok;
}

static void post_close_cb(struct gw_http_req *r, void *arg)
{
    (void)r;
    struct post_ctx *c = arg;
    c->gone = true;
}

static void post_start_stream(struct post_ctx *c)
{
    add_ctx_headers(c->r, c->ctx);
    if (c->session[0])
        gw_http_add_header(c->r, "Mcp-Session-Id", c->session);
    sse_headers(c->r);
    gw_http_set_close_cb(c->r, post_close_cb, c);
    gw_http_stream_begin(c->r, 200, "text/event-stream");
    c->streaming = true;
    /* responses collected so far (batch members answered synchronously) go out first */
    if (gw_buf_len(&c->out)) {
        const char *p = gw_buf_ptr(&c->out);
        size_t n = gw_buf_len(&c->out), start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i == n || p[i] == '\n') {
                if (i > start)
                    sse_write(c->r, "message", p + start, i - start);
                start = i + 1;
            }
        }
        gw_buf_reset(&c->out);
    }
}

static void post_finish(struct post_ctx *c)
{
    struct gw_http_req *r = c->r;
    if (c->streaming) {
        gw_http_stream_end(r);
    } else if (c->nresponses == 0 && c->refused.status) {
        reply_auth_failure(r, &c->refused); /* refused notifications: the status, not 202 */
    } else if (c->nresponses == 0) {
        if (c->session[0])
            gw_http_add_header(r, "Mcp-Session-Id", c->session);
        gw_http_reply(r, 202, NULL, NULL, 0);
    } else {
        add_ctx_headers(r, c->ctx);
        if (c->session[0])
            gw_http_add_header(r, "Mcp-Session-Id", c->session);
        if (c->refused.challenge[0])
            gw_http_add_header(r, "WWW-Authenticate", c->refused.challenge);
        int status = c->status ? c->status : 200;
        if (!c->batch) { /* the common case: one response, sent from where it was collected */
            gw_http_reply(r, status, "application/json", gw_buf_ptr(&c->out), gw_buf_len(&c->out));
        } else {
            struct gw_buf body;
            gw_buf_init(&body, gw_buf_len(&c->out) + 16);
            const char *p = gw_buf_ptr(&c->out);
            size_t n = gw_buf_len(&c->out);
            gw_buf_addc(&body, '[');
            for (size_t i = 0; i < n; i++)
                gw_buf_addc(&body, p[i] == '\n' ? ',' : p[i]);
            gw_buf_addc(&body, ']');
            gw_http_reply(r, status, "application/json", gw_buf_ptr(&body), gw_buf_len(&body));
            gw_buf_fini(&body);
        }
    }
    gw_buf_fini(&c->out);
    gw_ctx_unref(c->ctx);
    gw_free(c);
}

/* Drops a POST context that never started an exchange (the request was answered directly). */
static void post_abandon(struct post_ctx *c, json_t *body)
{
    gw_buf_fini(&c->out);
    gw_ctx_unref(c->ctx);
    gw_free(c);
    json_decref(body);
}

static void post_hold(void *tctx)
{
    ((struct post_ctx *)tctx)->holds++;
}

static void post_release(void *tctx)
{
    struct post_ctx *c = tctx;
    if (--c->holds == 0)
        post_finish(c);
}

static void post_send(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len,
                      bool final)
{
    (void)x;
    struct post_ctx *c = tctx;
    if (final)
        c->nresponses++;
    if (!c->streaming && !final)
        post_start_stream(c);
    if (c->streaming) {
        if (!c->gone)
            sse_write(c->r, "message", json, len);
        return;
    }
    if (gw_buf_len(&c->out))
        gw_buf_addc(&c->out, '\n');
    if (gw_buf_add(&c->out, json, len) != GW_OK)
        GW_LOG(GW_LOG_ERROR, "mcp", "response exceeds the output buffer limit; dropped");
}

static void post_error_status(void *tctx, int code, const json_t *data)
{
    struct post_ctx *c = tctx;
    if (c->modern && !c->batch && (code == GW_MCP_MISSING_CLIENT_CAP ||
                                   code == GW_MCP_HEADER_MISMATCH ||
                                   code == GW_MCP_UNSUPPORTED_VERSION))
        c->status = 400;
    /* MCP authorization step-up: a single request refused for want of elevation is a 403 with
     * the insufficient_scope challenge, so OAuth clients can re-authorize with that scope */
    const char *ch = gw_json_str(json_object_get(data, "stepUp"), "challenge");
    if (code == GW_GATEWAY_ELEVATION_REQUIRED && !c->batch && !c->streaming && ch) {
        c->status = 403;
        c->refused.status = 0;
        gw_strlcpy(c->refused.challenge, sizeof(c->refused.challenge), ch);
    }
}

static void post_initialized(void *tctx, enum gw_mcp_version v, uint8_t caps)
{
    struct post_ctx *c = tctx;
    struct gw_session_claims claims;
    gw_session_issue(gw_mcp_server_sessions(c->st->mcp), v, caps, binding_of(c->ctx), &claims);
    gw_strlcpy(c->session, sizeof(c->session), claims.id);
}

static void post_auth_failed(void *tctx, const struct gw_auth_failure *f)
{
    struct post_ctx *c = tctx;
    c->status = f->status ? f->status : 401;
    c->refused = *f;
}

static const char *post_header(void *tctx, const char *name)
{
    return gw_http_header(((struct post_ctx *)tctx)->r, name);
}

static const struct gw_mcp_origin_ops post_ops = {
    .send = post_send,
    .exchange_done = NULL,
    .initialized = post_initialized,
    .error_status = post_error_status,
    .header = post_header,
    .hold = post_hold,
    .release = post_release,
    .auth_failed = post_auth_failed,
};

/* ====================================================================== */
/* 2026-07-28 checks                                                       */
/* ====================================================================== */

/* Validates a modern request's _meta and headers, in the order 2026-07-28 prescribes:
 * _meta fields (-32602) -> version header present and equal (-32020) -> version supported
 * (-32022) -> Mcp-Method (-32020) -> Mcp-Name (-32020). Every error echoes the request id.
 * Returns true when OK; else it has replied. */
static bool check_modern(struct post_ctx *c, json_t *msg, int *out_log_level)
{
    struct gw_http_req *r = c->r;
    json_t *id = json_object_get(msg, "id");
    json_t *params = json_object_get(msg, "params");
    json_t *meta = json_object_get(params, "_meta");
    const char *method = gw_json_str(msg, "method");
    json_t *pv = json_object_get(meta, "io.modelcontextprotocol/protocolVersion");
    json_t *caps = json_object_get(meta, "io.modelcontextprotocol/clientCapabilities");
    bool is_request = id != NULL;
    if (!json_is_string(pv) || (is_request && !json_is_object(caps))) {
        reply_rpc_error_id(r, 400, id, GW_JSONRPC_INVALID_PARAMS,
                           !json_is_object(meta) ? "params._meta is required (2026-07-28)"
                           : !json_is_string(pv)
                               ? "params._meta[\"io.modelcontextprotocol/protocolVersion\"] is "
                                 "required"
                               : "params._meta[\"io.modelcontextprotocol/clientCapabilities\"] "
                                 "is required",
                           NULL);
        return false;
    }
    struct gw_error why = {0};
    if (gw_mcp_header_check("MCP-Protocol-Version", gw_http_header(r, "MCP-Protocol-Version"),
                            json_string_value(pv),
                            "_meta[\"io.modelcontextprotocol/protocolVersion\"]", &why) != GW_OK) {
        reply_rpc_error_id(r, 400, id, GW_MCP_HEADER_MISMATCH, why.msg, NULL);
        return false;
    }
    if (!gw_mcp_version_is_modern(gw_mcp_version_parse(json_string_value(pv)))) {
        json_t *data = json_pack("{s:[s],s:s}", "supported", "2026-07-28", "requested",
                                 json_string_value(pv));
        reply_rpc_error_id(r, 400, id, GW_MCP_UNSUPPORTED_VERSION, "Unsupported protocol version",
                           data);
        return false;
    }
    if (gw_mcp_header_check("Mcp-Method", gw_http_header(r, "Mcp-Method"), method,
                            "the request method", &why) != GW_OK) {
        reply_rpc_error_id(r, 400, id, GW_MCP_HEADER_MISMATCH, why.msg, NULL);
        return false;
    }
    const char *name_key = !strcmp(method, "tools/call") || !strcmp(method, "prompts/get") ? "name"
                           : !strcmp(method, "resources/read")                               ? "uri"
                                                                                             : NULL;
    if (name_key) {
        if (gw_mcp_header_check("Mcp-Name", gw_http_header(r, "Mcp-Name"),
                                gw_json_str(params, name_key), "the request", &why) != GW_OK) {
            reply_rpc_error_id(r, 400, id, GW_MCP_HEADER_MISMATCH, why.msg, NULL);
            return false;
        }
    }
    *out_log_level =
        gw_mcp_log_level_parse(gw_json_str(meta, "io.modelcontextprotocol/logLevel"));
    return true;
}

static uint8_t modern_caps(json_t *msg)
{
    json_t *caps = json_object_get(json_object_get(json_object_get(msg, "params"), "_meta"),
                                   "io.modelcontextprotocol/clientCapabilities");
    uint8_t bits = 0;
    if (json_object_get(caps, "sampling"))
        bits |= GW_CAP_SAMPLING;
    if (json_object_get(caps, "elicitation"))
        bits |= GW_CAP_ELICITATION;
    if (json_object_get(caps, "roots"))
        bits |= GW_CAP_ROOTS;
    return bits;
}

/* Era of a POST: a session header means legacy; a version header that is not a legacy
 * version (2026-07-28, or an unknown one) means the stateless era; so does the modern _meta
 * key. A bare _meta (e.g. a progressToken) is not a modern signal. */
static bool looks_modern(struct gw_http_req *r, json_t *msg)
{
    if (gw_http_header(r, "Mcp-Session-Id"))
        return false;
    const char *hv = gw_http_header(r, "MCP-Protocol-Version");
    if (hv) {
        enum gw_mcp_version v = gw_mcp_version_parse(hv);
        if (v == GW_MCP_V_UNKNOWN || gw_mcp_version_is_modern(v))
            return true;
    }
    json_t *meta = json_object_get(json_object_get(msg, "params"), "_meta");
    return json_object_get(meta, "io.modelcontextprotocol/protocolVersion") != NULL;
}

/* ====================================================================== */
/* subscriptions/listen (2026-07-28) and GET streams (legacy)              */
/* ====================================================================== */

struct stream {
    struct gw_mcp_listener l;
    struct http_state *st;
    struct gw_http_req *r;
    struct event *keepalive;
    json_t *listen_id; /* subscriptions/listen request id */
    bool closed;
};

static void stream_free(struct stream *s, bool send_complete)
{
    if (s->closed)
        return;
    s->closed = true;
    gw_mcp_server_unlisten(s->st->mcp, &s->l);
    if (s->keepalive)
        event_free(s->keepalive);
    if (send_complete && s->listen_id && gw_http_stream_open(s->r)) {
        json_t *resp = gw_jsonrpc_result(s->listen_id, json_pack("{s:s}", "resultType",
                                                                  "complete"));
        char *t = gw_json_dumps(resp);
        sse_write(s->r, "message", t, strlen(t));
        gw_free(t);
        json_decref(resp);
    }
    gw_http_stream_end(s->r);
    json_decref(s->listen_id);
    gw_free(s);
}

static void stream_send(struct gw_mcp_listener *l, const char *json, size_t len)
{
    struct stream *s = (struct stream *)l;
    if (!sse_write(s->r, "message", json, len))
        stream_free(s, false);
}

static void stream_close(struct gw_mcp_listener *l)
{
    stream_free((struct stream *)l, true);
}

static void stream_gone(struct gw_http_req *r, void *arg)
{
    (void)r;
    stream_free(arg, false);
}

static void stream_keepalive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct stream *s = arg;
    if (!gw_http_stream_write(s->r, ": keepalive\n\n", 13))
        stream_free(s, false);
}

static struct stream *stream_open(struct http_state *st, struct gw_http_req *r, int flags,
                                  const char *session, json_t *listen_id)
{
    struct stream *s = gw_xcalloc(1, sizeof(*s));
    s->st = st;
    s->r = r;
    s->l.send = stream_send;
    s->l.close = stream_close;
    s->l.loop = gw_worker_loop(gw_http_worker(r));
    s->l.flags = flags;
    gw_strlcpy(s->l.session, sizeof(s->l.session), session ? session : "");
    if (listen_id) {
        char *t = gw_json_dumps(listen_id);
        gw_strlcpy(s->l.subscription_id, sizeof(s->l.subscription_id), t ? t : "null");
        gw_free(t);
        s->listen_id = json_incref(listen_id);
    }
    return s;
}

static void stream_start(struct stream *s)
{
    sse_headers(s->r);
    gw_http_set_close_cb(s->r, stream_gone, s);
    gw_http_stream_begin(s->r, 200, "text/event-stream");
    struct timeval tv = {s->st->opts->sse_keepalive_s, 0};
    s->keepalive =
        event_new(gw_worker_base(gw_http_worker(s->r)), -1, EV_PERSIST, stream_keepalive, s);
    event_add(s->keepalive, &tv);
}

static void handle_listen(struct http_state *st, struct gw_http_req *r, json_t *msg)
{
    json_t *params = json_object_get(msg, "params");
    json_t *want = json_object_get(params, "notifications");
    int flags = 0;
    json_t *ack = json_object();
    if (json_is_true(json_object_get(want, "toolsListChanged"))) {
        flags |= GW_LISTEN_TOOLS;
        json_object_set_new(ack, "toolsListChanged", json_true());
    }
    if (json_is_true(json_object_get(want, "promptsListChanged"))) {
        flags |= GW_LISTEN_PROMPTS;
        json_object_set_new(ack, "promptsListChanged", json_true());
    }
    if (json_is_true(json_object_get(want, "resourcesListChanged"))) {
        flags |= GW_LISTEN_RESOURCES;
        json_object_set_new(ack, "resourcesListChanged", json_true());
    }
    json_t *id = json_object_get(msg, "id");
    struct stream *s = stream_open(st, r, flags, NULL, id);
    gw_mcp_server_listen(st->mcp, &s->l);
    stream_start(s);
    json_t *note = gw_jsonrpc_notification(
        "notifications/subscriptions/acknowledged",
        json_pack("{s:o,s:{s:O}}", "notifications", ack, "_meta",
                  "io.modelcontextprotocol/subscriptionId", id));
    char *t = gw_json_dumps(note);
    sse_write(r, "message", t, strlen(t));
    gw_free(t);
    json_decref(note);
}

/* ====================================================================== */
/* /mcp                                                                    */
/* ====================================================================== */

static bool require_session(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx,
                            struct gw_session_claims *claims)
{
    const char *sid = gw_http_header(r, "Mcp-Session-Id");
    if (!sid) {
        reply_rpc_error(r, 400, GW_MCP_SERVER_ERROR,
                        "Bad Request: Mcp-Session-Id header is required (send initialize first)",
                        NULL);
        return false;
    }
    if (gw_session_verify(gw_mcp_server_sessions(st->mcp), sid, binding_of(ctx), claims) !=
        GW_OK) {
        reply_rpc_error(r, 404, GW_MCP_SERVER_ERROR,
                        "Session not found: it expired or was terminated; initialize again",
                        NULL);
        return false;
    }
    return true;
}

/* Checks MCP-Protocol-Version (legacy era): absent = the session's version. */
static bool check_version_header(struct gw_http_req *r, enum gw_mcp_version *v)
{
    const char *hv = gw_http_header(r, "MCP-Protocol-Version");
    if (!hv)
        return true;
    enum gw_mcp_version pv = gw_mcp_version_parse(hv);
    if (pv == GW_MCP_V_UNKNOWN) {
        char msg[256];
        snprintf(msg, sizeof(msg), "Bad Request: Unsupported protocol version: %.40s "
                                   "(supported versions: %s)", hv, gw_mcp_version_list());
        reply_rpc_error(r, 400, GW_MCP_SERVER_ERROR, msg, NULL);
        return false;
    }
    if (gw_mcp_version_is_modern(pv))
        return true;
    (void)v; /* a supported version that differs from the negotiated one is accepted */
    return true;
}

static void handle_post(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx)
{
    if (!is_json_content_type(gw_http_header(r, "Content-Type"))) {
        reply_rpc_error(r, 415, GW_MCP_SERVER_ERROR,
                        "Unsupported Media Type: Content-Type must be application/json", NULL);
        return;
    }
    const char *accept = gw_http_header(r, "Accept");
    if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")) {
        reply_rpc_error(r, 406, GW_MCP_SERVER_ERROR,
                        "Not Acceptable: Client must accept both application/json and "
                        "text/event-stream",
                        NULL);
        return;
    }
    json_t *body = parse_body(st, r);
    if (!body)
        return;
    struct post_ctx *c = gw_xcalloc(1, sizeof(*c));
    c->st = st;
    c->r = r;
    c->ctx = gw_ctx_ref(ctx);
    c->holds = 1;
    gw_buf_init(&c->out, 64u << 20);
    struct gw_mcp_origin o = {0};
    o.ops = &post_ops;
    o.tctx = c;
    o.loop = gw_worker_loop(gw_http_worker(r));
    o.request_id = gw_http_request_id(r);
    o.log_level = -1;
    o.ctx = ctx;

    if (json_is_object(body) && looks_modern(r, body)) {
        int lvl = -1;
        if (!check_modern(c, body, &lvl)) {
            post_abandon(c, body);
            return;
        }
        c->modern = true;
        o.modern = true;
        o.version = GW_MCP_V_2026_07_28;
        o.caps = modern_caps(body);
        o.log_level = lvl;
        const char *method = gw_json_str(body, "method");
        if (method && strcmp(method, "subscriptions/listen") == 0 &&
            json_object_get(body, "id")) {
            gw_buf_fini(&c->out);
            gw_ctx_unref(c->ctx);
            gw_free(c);
            handle_listen(st, r, body);
            json_decref(body);
            return;
        }
        if (gw_mcp_message_is_request(body)) {
            /* unknown methods are a 404 in the stateless era */
            static const char *const known[] = {
                "server/discover", "tools/list", "tools/call", "resources/list",
                "resources/templates/list", "resources/read", "prompts/list", "prompts/get",
                "completion/complete"};
            bool found = false;
            for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                found = found || strcmp(known[i], method) == 0;
            if (!found) {
                char msg[200];
                snprintf(msg, sizeof(msg), "Method not found: %.120s", method);
                json_t *e = gw_jsonrpc_error(json_object_get(body, "id"),
                                             GW_JSONRPC_METHOD_NOT_FOUND, msg, NULL);
                report_rejection(r, 404, GW_JSONRPC_METHOD_NOT_FOUND, msg);
                gw_http_reply_json(r, 404, e);
                json_decref(e);
                post_abandon(c, body);
                return;
            }
        }
        gw_mcp_server_dispatch(st->mcp, &o, body);
        json_decref(body);
        post_release(c);
        return;
    }

    /* legacy era */
    const char *method = json_is_object(body) ? gw_json_str(body, "method") : NULL;
    bool init = method && strcmp(method, "initialize") == 0;
    struct gw_session_claims claims = {0};
    if (!init) {
        if (!require_session(st, r, ctx, &claims) ||
            !check_version_header(r, &claims.version)) {
            post_abandon(c, body);
            return;
        }
        gw_strlcpy(c->session, sizeof(c->session), claims.id);
        o.session_id = claims.id;
        o.version = claims.version;
        o.caps = claims.caps;
    } else if (!check_version_header(r, &claims.version)) {
        post_abandon(c, body);
        return;
    }

    if (json_is_array(body)) {
        size_t n = json_array_size(body);
        struct gw_error berr = {0};
        if (gw_jsonrpc_batch_check(body, gw_mcp_version_allows_batch(o.version),
                                   st->opts->max_batch, &berr) != GW_OK) {
            char msg[GW_ERROR_MSG_MAX + 32];
            snprintf(msg, sizeof(msg), "Invalid Request: %s", berr.msg);
            reply_rpc_error(r, 400, GW_JSONRPC_INVALID_REQUEST, msg, NULL);
            post_abandon(c, body);
            return;
        }
        c->batch = true;
        for (size_t i = 0; i < n; i++) {
            /* each message of a batch is its own exchange with its own decision record */
            o.ctx = i == 0 ? ctx : gw_ctx_derive(ctx);
            gw_mcp_server_dispatch(st->mcp, &o, json_array_get(body, i));
            if (o.ctx != ctx)
                gw_ctx_unref(o.ctx);
        }
    } else {
        struct gw_jsonrpc_msg m;
        struct gw_error err = {0};
        gw_jsonrpc_classify(body, &m, &err);
        if (m.kind == GW_JSONRPC_INVALID) {
            char msg[GW_ERROR_MSG_MAX + 32];
            snprintf(msg, sizeof(msg), "Invalid Request: %s", err.msg);
            json_t *e = gw_jsonrpc_error(m.id, GW_JSONRPC_INVALID_REQUEST, msg, NULL);
            report_rejection(r, 400, GW_JSONRPC_INVALID_REQUEST, msg);
            gw_http_reply_json(r, 400, e);
            json_decref(e);
            post_abandon(c, body);
            return;
        }
        gw_mcp_server_dispatch(st->mcp, &o, body);
    }
    json_decref(body);
    post_release(c);
}

static void handle_get(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx)
{
    const char *hv = gw_http_header(r, "MCP-Protocol-Version");
    if (hv && gw_mcp_version_is_modern(gw_mcp_version_parse(hv))) {
        gw_http_add_header(r, "Allow", "POST");
        reply_rpc_error(r, 405, GW_MCP_SERVER_ERROR,
                        "Method Not Allowed: 2026-07-28 uses POST subscriptions/listen", NULL);
        return;
    }
    if (!accepts(gw_http_header(r, "Accept"), "text/event-stream")) {
        reply_rpc_error(r, 406, GW_MCP_SERVER_ERROR,
                        "Not Acceptable: Client must accept text/event-stream", NULL);
        return;
    }
    struct gw_session_claims claims;
    if (!require_session(st, r, ctx, &claims) || !check_version_header(r, &claims.version))
        return;
    if (gw_http_header(r, "Last-Event-ID")) {
        /* no event ids are ever sent, so there is nothing to resume */
        reply_rpc_error(r, 400, GW_MCP_SERVER_ERROR,
                        "Bad Request: this server does not emit event ids; nothing to resume",
                        NULL);
        return;
    }
    struct stream *s = stream_open(st, r, GW_LISTEN_ALL, claims.id, NULL);
    if (gw_mcp_server_listen(st->mcp, &s->l) != GW_OK) {
        gw_free(s);
        reply_rpc_error(r, 409, GW_MCP_SERVER_ERROR,
                        "Conflict: Only one SSE stream is allowed per session", NULL);
        return;
    }
    gw_http_add_header(r, "Mcp-Session-Id", claims.id);
    stream_start(s);
}

static void delete_done(void *arg, int rc)
{
    if (rc != GW_OK) /* terminated here; the other replicas may not know (logged by the sync) */
        GW_LOG(GW_LOG_WARN, "mcp", "session terminated on this replica only: %s", gw_rc_name(rc));
    gw_http_reply(arg, 200, NULL, NULL, 0);
}

static void handle_delete(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx)
{
    const char *sid = gw_http_header(r, "Mcp-Session-Id");
    if (!sid) {
        reply_rpc_error(r, 400, GW_MCP_SERVER_ERROR,
                        "Bad Request: Mcp-Session-Id header is required", NULL);
        return;
    }
    /* replies once the termination is shared with the other replicas (Redis), if any */
    int rc = gw_session_terminate_then(gw_mcp_server_sessions(st->mcp), sid, binding_of(ctx),
                                       delete_done, r);
    if (rc == GW_ENOTFOUND) {
        reply_rpc_error(r, 404, GW_MCP_SERVER_ERROR, "Session not found", NULL);
        return;
    }
    if (rc != GW_AGAIN)
        gw_http_reply(r, 200, NULL, NULL, 0);
}

static void mcp_admitted(struct http_state *st, struct gw_http_req *r)
{
    switch (gw_http_method(r)) {
    case GW_HTTP_POST:
        authenticate_then(st, r, GW_TRANSPORT_HTTP, handle_post);
        break;
    case GW_HTTP_GET:
        authenticate_then(st, r, GW_TRANSPORT_HTTP, handle_get);
        break;
    case GW_HTTP_DELETE:
        authenticate_then(st, r, GW_TRANSPORT_HTTP, handle_delete);
        break;
    default:
        gw_http_add_header(r, "Allow", "GET, POST, DELETE");
        reply_rpc_error(r, 405, GW_MCP_SERVER_ERROR, "Method Not Allowed", NULL);
    }
}

/* What every MCP route does first: the state for report_rejection, the Host/Origin check (a
 * logged 403) and, when `allow` names the one method the route takes (NULL: any), a 405 for
 * another. True: go on. */
static bool route_accepted(struct http_state *st, struct gw_http_req *r,
                           enum gw_http_method method, const char *allow)
{
    gw_http_set_user(r, st);
    const char *why = check_host_origin(st, r);
    if (why) {
        GW_LOG(GW_LOG_WARN, "mcp", "refused request: %s (Host=%s Origin=%s)", why,
               gw_http_header(r, "Host") ? gw_http_header(r, "Host") : "-",
               gw_http_header(r, "Origin") ? gw_http_header(r, "Origin") : "-");
        char msg[128];
        snprintf(msg, sizeof(msg), "Forbidden: %s", why);
        reply_rpc_error(r, 403, GW_MCP_SERVER_ERROR, msg, NULL);
        return false;
    }
    if (allow && gw_http_method(r) != method) {
        gw_http_add_header(r, "Allow", allow);
        reply_rpc_error(r, 405, GW_MCP_SERVER_ERROR, "Method Not Allowed", NULL);
        return false;
    }
    return true;
}

static void route_mcp(struct gw_http_req *r, void *arg)
{
    struct http_state *st = arg;
    if (route_accepted(st, r, GW_HTTP_OTHER, NULL))
        admit_then(st, r, mcp_admitted);
}

/* ====================================================================== */
/* the old HTTP+SSE transport (2024-11-05)                                 */
/* ====================================================================== */

struct legacy_stream {
    struct stream s; /* first member: the listener */
    struct legacy_stream *next;
    int holds;
};

static pthread_mutex_t legacy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct legacy_stream *legacy_streams;

static void legacy_send(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len,
                        bool final)
{
    (void)x;
    (void)final;
    struct legacy_stream *ls = tctx;
    if (!ls->s.closed)
        sse_write(ls->s.r, "message", json, len);
}

static void legacy_hold(void *tctx)
{
    ((struct legacy_stream *)tctx)->holds++;
}

static void legacy_release(void *tctx)
{
    struct legacy_stream *ls = tctx;
    if (--ls->holds == 0 && ls->s.closed)
        gw_free(ls);
}

static void legacy_initialized(void *tctx, enum gw_mcp_version v, uint8_t caps)
{
    (void)tctx;
    (void)v;
    (void)caps; /* the session was issued when the stream opened */
}

static const struct gw_mcp_origin_ops legacy_ops = {
    .send = legacy_send,
    .initialized = legacy_initialized,
    .hold = legacy_hold,
    .release = legacy_release,
};

static void legacy_unlink(struct legacy_stream *ls)
{
    pthread_mutex_lock(&legacy_lock);
    for (struct legacy_stream **pp = &legacy_streams; *pp; pp = &(*pp)->next) {
        if (*pp == ls) {
            *pp = ls->next;
            break;
        }
    }
    pthread_mutex_unlock(&legacy_lock);
}

static void legacy_end(struct legacy_stream *ls)
{
    if (ls->s.closed)
        return;
    ls->s.closed = true;
    legacy_unlink(ls);
    gw_mcp_server_unlisten(ls->s.st->mcp, &ls->s.l);
    if (ls->s.keepalive)
        event_free(ls->s.keepalive);
    gw_http_stream_end(ls->s.r);
    legacy_release(ls);
}

static void legacy_listener_send(struct gw_mcp_listener *l, const char *json, size_t len)
{
    struct legacy_stream *ls = (struct legacy_stream *)l;
    if (!sse_write(ls->s.r, "message", json, len))
        legacy_end(ls);
}

static void legacy_listener_close(struct gw_mcp_listener *l)
{
    legacy_end((struct legacy_stream *)l);
}

static void legacy_gone(struct gw_http_req *r, void *arg)
{
    (void)r;
    legacy_end(arg);
}

static void legacy_keepalive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct legacy_stream *ls = arg;
    if (!gw_http_stream_write(ls->s.r, ": keepalive\n\n", 13))
        legacy_end(ls);
}

static void sse_open(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx)
{
    struct gw_session_claims claims;
    gw_session_issue(gw_mcp_server_sessions(st->mcp), GW_MCP_V_2024_11_05,
                     GW_CAP_SAMPLING | GW_CAP_ELICITATION | GW_CAP_ROOTS, binding_of(ctx),
                     &claims);
    struct legacy_stream *ls = gw_xcalloc(1, sizeof(*ls));
    ls->s.st = st;
    ls->s.r = r;
    ls->s.l.send = legacy_listener_send;
    ls->s.l.close = legacy_listener_close;
    ls->s.l.loop = gw_worker_loop(gw_http_worker(r));
    ls->s.l.flags = GW_LISTEN_ALL;
    gw_strlcpy(ls->s.l.session, sizeof(ls->s.l.session), claims.id);
    ls->holds = 1;
    gw_mcp_server_listen(st->mcp, &ls->s.l);
    pthread_mutex_lock(&legacy_lock);
    ls->next = legacy_streams;
    legacy_streams = ls;
    pthread_mutex_unlock(&legacy_lock);
    sse_headers(r);
    gw_http_set_close_cb(r, legacy_gone, ls);
    gw_http_stream_begin(r, 200, "text/event-stream");
    char endpoint[160];
    int n = snprintf(endpoint, sizeof(endpoint),
                     "event: endpoint\ndata: /messages?sessionId=%s\n\n", claims.id);
    gw_http_stream_write(r, endpoint, (size_t)n);
    struct timeval tv = {st->opts->sse_keepalive_s, 0};
    ls->s.keepalive =
        event_new(gw_worker_base(gw_http_worker(r)), -1, EV_PERSIST, legacy_keepalive, ls);
    event_add(ls->s.keepalive, &tv);
}

static void sse_admitted(struct http_state *st, struct gw_http_req *r)
{
    authenticate_then(st, r, GW_TRANSPORT_SSE, sse_open);
}

static void route_sse(struct gw_http_req *r, void *arg)
{
    struct http_state *st = arg;
    if (route_accepted(st, r, GW_HTTP_GET, "GET"))
        admit_then(st, r, sse_admitted);
}

struct legacy_msg {
    struct http_state *st;
    char session[GW_SESSION_ID_MAX];
    json_t *msg;
    struct gw_ctx *ctx;
};

static void legacy_deliver(void *arg)
{
    struct legacy_msg *lm = arg;
    struct legacy_stream *ls = NULL;
    pthread_mutex_lock(&legacy_lock);
    for (struct legacy_stream *it = legacy_streams; it; it = it->next)
        if (strcmp(it->s.l.session, lm->session) == 0)
            ls = it;
    pthread_mutex_unlock(&legacy_lock);
    /* only the stream's own loop ends it, and we run on that loop, so ls is alive */
    if (ls && !ls->s.closed) {
        struct gw_mcp_origin o = {0};
        o.ops = &legacy_ops;
        o.tctx = ls;
        o.loop = ls->s.l.loop;
        o.version = GW_MCP_V_2024_11_05;
        o.caps = GW_CAP_SAMPLING | GW_CAP_ELICITATION | GW_CAP_ROOTS;
        o.session_id = ls->s.l.session;
        o.request_id = gw_ctx_request_id(lm->ctx);
        o.log_level = -1;
        o.ctx = lm->ctx;
        legacy_hold(ls);
        gw_mcp_server_dispatch(lm->st->mcp, &o, lm->msg);
        legacy_release(ls);
    }
    json_decref(lm->msg);
    gw_ctx_unref(lm->ctx);
    gw_free(lm);
}

static void messages_post(struct http_state *st, struct gw_http_req *r, struct gw_ctx *ctx)
{
    const char *sid = gw_http_query_param(r, "sessionId");
    struct gw_session_claims claims;
    if (!sid || gw_session_verify(gw_mcp_server_sessions(st->mcp), sid, binding_of(ctx),
                                  &claims) != GW_OK) {
        reply_rpc_error(r, 404, GW_MCP_SERVER_ERROR, "Session not found", NULL);
        return;
    }
    if (!is_json_content_type(gw_http_header(r, "Content-Type"))) {
        reply_rpc_error(r, 415, GW_MCP_SERVER_ERROR,
                        "Unsupported Media Type: Content-Type must be application/json", NULL);
        return;
    }
    json_t *body = parse_body(st, r);
    if (!body)
        return;
    if (!json_is_object(body)) {
        /* 2024-11-05 has no batches: one message per POST */
        json_decref(body);
        reply_rpc_error(r, 400, GW_JSONRPC_INVALID_REQUEST,
                        "Invalid Request: the HTTP+SSE transport (2024-11-05) takes one JSON-RPC "
                        "message per POST, not a batch",
                        NULL);
        return;
    }
    struct gw_loop *owner = NULL;
    pthread_mutex_lock(&legacy_lock);
    for (struct legacy_stream *it = legacy_streams; it; it = it->next)
        if (strcmp(it->s.l.session, sid) == 0)
            owner = it->s.l.loop;
    pthread_mutex_unlock(&legacy_lock);
    if (!owner) {
        json_decref(body);
        reply_rpc_error(r, 404, GW_MCP_SERVER_ERROR, "Session stream is closed", NULL);
        return;
    }
    struct legacy_msg *lm = gw_xcalloc(1, sizeof(*lm));
    lm->st = st;
    gw_strlcpy(lm->session, sizeof(lm->session), sid);
    lm->msg = body;
    lm->ctx = gw_ctx_ref(ctx);
    gw_ctx_set_session(ctx, sid);
    if (gw_loop_post(owner, legacy_deliver, lm) != GW_OK) {
        json_decref(body);
        gw_ctx_unref(lm->ctx);
        gw_free(lm);
        reply_rpc_error(r, 503, GW_MCP_SERVER_ERROR, "Server is shutting down", NULL);
        return;
    }
    gw_http_reply(r, 202, NULL, NULL, 0);
}

static void messages_admitted(struct http_state *st, struct gw_http_req *r)
{
    authenticate_then(st, r, GW_TRANSPORT_SSE, messages_post);
}

static void route_messages(struct gw_http_req *r, void *arg)
{
    struct http_state *st = arg;
    if (route_accepted(st, r, GW_HTTP_POST, "POST"))
        admit_then(st, r, messages_admitted);
}

/* ====================================================================== */

static void drain_streams(struct gw_worker *w, void *arg)
{
    struct http_state *st = arg;
    gw_mcp_server_close_listeners(st->mcp, gw_worker_loop(w));
}

struct gw_mcp_http *gw_mcp_http_attach(struct gw_mcp_server *mcp, struct gw_server *http)
{
    struct http_state *st = gw_xcalloc(1, sizeof(*st));
    st->mcp = mcp;
    st->http = http;
    st->opts = gw_mcp_server_options(mcp);
    gw_server_set_jsonrpc_errors(http, true); /* framing refusals as JSON-RPC errors */
    gw_server_route(http, "/mcp", route_mcp, st);
    if (st->opts->legacy_sse) {
        gw_server_route(http, "/sse", route_sse, st);
        gw_server_route(http, "/messages", route_messages, st);
    }
    gw_server_on_drain(http, drain_streams, st);
    return (struct gw_mcp_http *)st;
}

void gw_mcp_http_free(struct gw_mcp_http *h)
{
    gw_free(h);
}
