/*
 * src/mcp/mcp_server.c
 * Protocol logic: exchanges, the method table, pagination across providers, the in-flight and
 * pending-request tables, and listeners.
 *
 * Exchange lifecycle (one per JSON-RPC request):
 *   NEW --dispatch--> RUNNING --reply--> DONE (final message sent, exchange_done, unref)
 *                        \--cancelled--> CANCELLED --reply (dropped)--> DONE
 * Before an exchange exists, dispatch makes sure the message's context is authenticated:
 *   message --ctx PENDING--> AUTHENTICATE --(maybe async)--> DONE --> exchange NEW ...
 *                                                        \-> FAILED --> -32001 + auth_failed
 * Invariants: (1) exactly one final message per exchange, never after cancellation; (2) the
 * exchange holds the transport context (ops->hold) from creation until exchange_done, and a
 * message waiting for authentication holds it too; (3) an exchange is in the in-flight table
 * exactly while RUNNING/CANCELLED; (4) all calls on an exchange happen on its origin loop:
 * answers to server->client requests and cancellations that arrive elsewhere are posted there;
 * (5) no exchange is created for a context whose authentication failed.
 */
#include "mcp/mcp_server.h"

#include "core/alloc.h"
#include "core/assert.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "mcp/mcp_jsonrpc.h"
#include "net/net_loop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define MAX_PROVIDERS 8
#define KEY_MAX 200
#define TABLE_BUCKETS 256

const struct gw_setting_def gw_mcp_settings[] = {
    {"GW_SERVER_NAME", GW_SET_STRING, "msil-mcp-gateway", 0, 0, NULL, "MCP protocol",
     "serverInfo.name announced to MCP clients."},
    {"GW_SERVER_TITLE", GW_SET_STRING, "MSIL MCP Gateway", 0, 0, NULL, "MCP protocol",
     "serverInfo.title announced to MCP clients."},
    {"GW_INSTRUCTIONS", GW_SET_STRING,
     "Governed gateway to MSIL APIs. Each tool calls one REST operation; read a tool's "
     "description and input schema before calling it.",
     0, 0, NULL, "MCP protocol", "Instructions text returned by initialize / server/discover."},
    {"GW_PAGE_SIZE", GW_SET_INT, "100", 1, 10000, NULL, "MCP protocol",
     "Items per page of tools/list, resources/list and prompts/list."},
    {"GW_SESSION_SECRET", GW_SET_SECRET, "", 0, 0, NULL, "MCP protocol",
     "Key that signs Mcp-Session-Id tokens so any replica can validate them. Set the same "
     "value on every replica (from a secret store). Empty: a random key per process (sessions "
     "do not survive restarts and are not shared)."},
    {"GW_SESSION_TTL_SECONDS", GW_SET_INT, "86400", 60, 31536000, NULL, "MCP protocol",
     "Lifetime of a session id; after it the client gets 404 and re-initializes."},
    {"GW_JSON_MAX_DEPTH", GW_SET_INT, "64", 4, 1000, NULL, "MCP protocol",
     "Deepest JSON nesting accepted in a request body."},
    {"GW_BATCH_MAX", GW_SET_INT, "64", 1, 10000, NULL, "MCP protocol",
     "Most messages accepted in one JSON-RPC batch (2025-03-26 sessions only)."},
    {"GW_ALLOWED_ORIGINS", GW_SET_STRING, "", 0, 0, NULL, "MCP protocol",
     "Comma-separated browser origins allowed to call /mcp besides same-origin requests "
     "(e.g. `https://chat.example.com`). Other Origin headers get 403."},
    {"GW_ALLOWED_HOSTS", GW_SET_STRING, "", 0, 0, NULL, "MCP protocol",
     "Comma-separated Host names accepted (DNS-rebinding protection). When listening on "
     "loopback, localhost/127.0.0.1/[::1] are always accepted and other hosts only if listed; "
     "on other addresses any Host is accepted unless this list is set."},
    {"GW_SSE_KEEPALIVE_SECONDS", GW_SET_INT, "15", 1, 3600, NULL, "MCP protocol",
     "Interval of keep-alive comments on open SSE streams."},
    {"GW_LEGACY_SSE", GW_SET_BOOL, "true", 0, 0, NULL, "MCP protocol",
     "Serve the 2024-11-05 HTTP+SSE transport (GET /sse + POST /messages) for old clients."},
    GW_SETTINGS_END};

void gw_mcp_options_from_settings(struct gw_mcp_server_options *o, const struct gw_settings *s)
{
    o->name = gw_settings_str(s, "GW_SERVER_NAME");
    o->title = gw_settings_str(s, "GW_SERVER_TITLE");
    o->version = GW_VERSION;
    o->instructions = gw_settings_str(s, "GW_INSTRUCTIONS");
    o->page_size = (size_t)gw_settings_int(s, "GW_PAGE_SIZE");
    o->session_secret = gw_settings_str(s, "GW_SESSION_SECRET");
    o->session_ttl_s = (unsigned)gw_settings_int(s, "GW_SESSION_TTL_SECONDS");
    o->max_json_depth = (int)gw_settings_int(s, "GW_JSON_MAX_DEPTH");
    o->max_batch = (size_t)gw_settings_int(s, "GW_BATCH_MAX");
    o->allowed_origins = gw_settings_str(s, "GW_ALLOWED_ORIGINS");
    o->allowed_hosts = gw_settings_str(s, "GW_ALLOWED_HOSTS");
    o->sse_keepalive_s = (int)gw_settings_int(s, "GW_SSE_KEEPALIVE_SECONDS");
    o->legacy_sse = gw_settings_bool(s, "GW_LEGACY_SSE");
}

/* ---------- tables ---------- */

struct pending {
    struct pending *next;
    char key[64];
    char session[GW_SESSION_ID_MAX];
    struct gw_mcp_exchange *x;
    gw_mcp_client_reply_fn fn;
    void *arg;
};

struct inflight {
    struct inflight *next;
    char key[KEY_MAX];
    struct gw_mcp_exchange *x;
    struct gw_loop *loop;
};

struct lnode {
    struct lnode *next;
    struct gw_mcp_listener *l;
};

struct gw_mcp_server {
    struct gw_mcp_server_options opts;
    struct gw_mcp_provider providers[MAX_PROVIDERS];
    int nproviders;
    struct gw_sessions *sessions;
    pthread_mutex_t lock; /* guards the three tables below */
    struct pending *pending[TABLE_BUCKETS];
    struct inflight *inflight[TABLE_BUCKETS];
    struct lnode *listeners;
    atomic_ulong next_id;
    struct gw_authn authn;
    gw_mcp_complete_fn on_complete;
    void *on_complete_ud;
};

struct gw_mcp_exchange {
    struct gw_mcp_server *srv;
    struct gw_mcp_origin o;
    struct gw_ctx *ctx;
    char session[GW_SESSION_ID_MAX];
    char rid[136];
    json_t *msg;
    json_t *id;
    json_t *params;
    const char *method;
    json_t *progress_token;
    double last_progress;
    int refs;
    bool done, cancelled, in_table;
    char key[KEY_MAX];
    void (*cancel_fn)(struct gw_mcp_exchange *, void *);
    void *cancel_arg;
    void *user;
    char *held;      /* final message held by the completion observer */
    size_t held_len;
};

static unsigned hash_key(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % TABLE_BUCKETS;
}

/* ---------- server object ---------- */

struct gw_mcp_server *gw_mcp_server_new(const struct gw_mcp_server_options *opts)
{
    struct gw_mcp_server *srv = gw_xcalloc(1, sizeof(*srv));
    srv->opts = *opts;
    srv->sessions = gw_sessions_new(opts->session_secret, opts->session_ttl_s);
    pthread_mutex_init(&srv->lock, NULL);
    return srv;
}

void gw_mcp_server_free(struct gw_mcp_server *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < TABLE_BUCKETS; i++) {
        for (struct pending *p = srv->pending[i], *n; p; p = n) {
            n = p->next;
            gw_free(p);
        }
        for (struct inflight *f = srv->inflight[i], *n; f; f = n) {
            n = f->next;
            gw_free(f);
        }
    }
    for (struct lnode *n = srv->listeners, *nx; n; n = nx) {
        nx = n->next;
        gw_free(n);
    }
    gw_sessions_free(srv->sessions);
    pthread_mutex_destroy(&srv->lock);
    gw_free(srv);
}

const struct gw_mcp_server_options *gw_mcp_server_options(const struct gw_mcp_server *srv)
{
    return &srv->opts;
}

void gw_mcp_server_add_provider(struct gw_mcp_server *srv, struct gw_mcp_provider p)
{
    if (srv->nproviders < MAX_PROVIDERS)
        srv->providers[srv->nproviders++] = p;
}

struct gw_sessions *gw_mcp_server_sessions(struct gw_mcp_server *srv)
{
    return srv->sessions;
}

void gw_mcp_server_set_authn(struct gw_mcp_server *srv, struct gw_authn authn)
{
    srv->authn = authn;
}

void gw_mcp_server_on_complete(struct gw_mcp_server *srv, gw_mcp_complete_fn fn, void *ud)
{
    srv->on_complete = fn;
    srv->on_complete_ud = ud;
}

int gw_mcp_server_authenticate(struct gw_mcp_server *srv, struct gw_ctx *c,
                               gw_authn_done_fn done, void *arg)
{
    GW_ASSERT(gw_ctx_auth_state(c) == GW_AUTH_PENDING);
    if (!srv->authn.ops) {
        gw_ctx_set_principal(c, gw_principal_anonymous());
        return GW_OK;
    }
    gw_ctx_phase_begin(c, GW_PHASE_AUTHENTICATE);
    int rc = srv->authn.ops->authenticate(srv->authn.self, c, done, arg);
    if (rc != GW_AGAIN) {
        gw_ctx_phase_end(c, GW_PHASE_AUTHENTICATE);
        /* an authenticator that neither decided nor deferred has failed: fail closed */
        if (gw_ctx_auth_state(c) == GW_AUTH_PENDING) {
            struct gw_auth_failure f = {.status = 401, .error = "invalid_token"};
            snprintf(f.description, sizeof(f.description), "authentication failed");
            gw_ctx_set_auth_failure(c, &f);
        }
        return GW_OK;
    }
    return GW_AGAIN;
}

/* ---------- exchange accessors ---------- */

const char *gw_mcp_x_method(const struct gw_mcp_exchange *x)
{
    return x->method;
}

json_t *gw_mcp_x_params(const struct gw_mcp_exchange *x)
{
    return x->params;
}

json_t *gw_mcp_x_id(const struct gw_mcp_exchange *x)
{
    return x->id;
}

enum gw_mcp_version gw_mcp_x_version(const struct gw_mcp_exchange *x)
{
    return x->o.version;
}

bool gw_mcp_x_modern(const struct gw_mcp_exchange *x)
{
    return x->o.modern;
}

uint8_t gw_mcp_x_client_caps(const struct gw_mcp_exchange *x)
{
    return x->o.caps;
}

struct event_base *gw_mcp_x_base(const struct gw_mcp_exchange *x)
{
    return gw_loop_base(x->o.loop);
}

struct gw_ctx *gw_mcp_x_ctx(const struct gw_mcp_exchange *x)
{
    return x->ctx;
}

const char *gw_mcp_x_request_id(const struct gw_mcp_exchange *x)
{
    return x->rid;
}

const char *gw_mcp_x_session(const struct gw_mcp_exchange *x)
{
    return x->session[0] ? x->session : NULL;
}

const char *gw_mcp_x_header(const struct gw_mcp_exchange *x, const char *name)
{
    return x->o.ops->header ? x->o.ops->header(x->o.tctx, name) : NULL;
}

bool gw_mcp_x_has_headers(const struct gw_mcp_exchange *x)
{
    return x->o.ops->header != NULL;
}

void gw_mcp_x_set_user(struct gw_mcp_exchange *x, void *p)
{
    x->user = p;
}

void *gw_mcp_x_user(const struct gw_mcp_exchange *x)
{
    return x->user;
}

bool gw_mcp_x_done(const struct gw_mcp_exchange *x)
{
    return x->done;
}

bool gw_mcp_x_cancelled(const struct gw_mcp_exchange *x)
{
    return x->cancelled;
}

void gw_mcp_x_on_cancel(struct gw_mcp_exchange *x, void (*fn)(struct gw_mcp_exchange *, void *),
                        void *arg)
{
    x->cancel_fn = fn;
    x->cancel_arg = arg;
}

void gw_mcp_x_ref(struct gw_mcp_exchange *x)
{
    x->refs++;
}

void gw_mcp_x_unref(struct gw_mcp_exchange *x)
{
    if (--x->refs > 0)
        return;
    json_decref(x->params);
    json_decref(x->msg);
    gw_ctx_unref(x->ctx);
    gw_free(x);
}

/* ---------- in-flight table (cancellation) ---------- */

/* In-flight key: session + the id's type and value (ids are strings or integers). */
static void make_key(char *out, const char *session, json_t *id)
{
    if (json_is_integer(id))
        snprintf(out, KEY_MAX, "%s|i%" JSON_INTEGER_FORMAT, session ? session : "",
                 json_integer_value(id));
    else
        snprintf(out, KEY_MAX, "%s|s%s", session ? session : "",
                 json_is_string(id) ? json_string_value(id) : "");
}

static void inflight_add(struct gw_mcp_exchange *x)
{
    struct inflight *f = gw_xcalloc(1, sizeof(*f));
    make_key(f->key, x->session, x->id);
    memcpy(x->key, f->key, sizeof(x->key));
    f->x = x;
    f->loop = x->o.loop;
    unsigned h = hash_key(f->key);
    pthread_mutex_lock(&x->srv->lock);
    f->next = x->srv->inflight[h];
    x->srv->inflight[h] = f;
    pthread_mutex_unlock(&x->srv->lock);
    x->in_table = true;
}

static void inflight_remove(struct gw_mcp_exchange *x)
{
    if (!x->in_table)
        return;
    unsigned h = hash_key(x->key);
    pthread_mutex_lock(&x->srv->lock);
    for (struct inflight **pp = &x->srv->inflight[h]; *pp; pp = &(*pp)->next) {
        if ((*pp)->x == x) {
            struct inflight *dead = *pp;
            *pp = dead->next;
            gw_free(dead);
            break;
        }
    }
    pthread_mutex_unlock(&x->srv->lock);
    x->in_table = false;
}

/* ---------- completion ---------- */

static void finish(struct gw_mcp_exchange *x)
{
    x->done = true;
    inflight_remove(x);
    if (x->o.ops->exchange_done)
        x->o.ops->exchange_done(x->o.tctx, x);
    if (x->o.ops->release)
        x->o.ops->release(x->o.tctx);
    gw_mcp_x_unref(x);
}

/* Fills the observer's view of exchange x. */
static void completion_of(const struct gw_mcp_exchange *x, enum gw_mcp_outcome outcome,
                          const json_t *response, const char *text, size_t len,
                          struct gw_mcp_completion *c)
{
    memset(c, 0, sizeof(*c));
    c->ctx = x->ctx;
    c->method = x->method;
    c->id = x->id;
    c->params = x->params;
    c->outcome = outcome;
    c->error_message = "";
    c->message = text ? text : "";
    c->message_len = text ? len : 0;
    json_t *error = response ? json_object_get(response, "error") : NULL;
    if (error) {
        c->outcome = GW_MCP_OUTCOME_ERROR;
        c->error_code = (int)json_integer_value(json_object_get(error, "code"));
        const char *m = json_string_value(json_object_get(error, "message"));
        c->error_message = m ? m : "";
    } else if (response) {
        c->result = json_object_get(response, "result");
    } /* a raw reply (tools/list) has no DOM: c->result stays NULL */
}

/* The exchange's loop: sends the held final message and finishes. */
static void send_held(void *arg)
{
    struct gw_mcp_exchange *x = arg;
    if (!x->cancelled)
        x->o.ops->send(x->o.tctx, x, x->held, x->held_len, true);
    gw_free(x->held);
    x->held = NULL;
    finish(x);
    gw_mcp_x_unref(x); /* the observer's hold */
}

/* Any thread: the observer made the record durable. */
static void release_held(void *token)
{
    struct gw_mcp_exchange *x = token;
    if (gw_loop_post(x->o.loop, send_held, x) != GW_OK)
        GW_LOG(GW_LOG_ERROR, "mcp", "loop gone: a held response was dropped at shutdown");
}

/* Sends the final message `text` (may be NULL when cancelled) of x, after the completion
 * observer has seen it (and possibly held it). `response` is its DOM when one exists. */
static void deliver_final(struct gw_mcp_exchange *x, const json_t *response, const char *text,
                          size_t len)
{
    GW_ASSERT(!x->done && !x->held);
    struct gw_mcp_server *srv = x->srv;
    if (x->cancelled || !text) {
        if (srv->on_complete) {
            struct gw_mcp_completion c;
            completion_of(x, GW_MCP_OUTCOME_CANCELLED, NULL, NULL, 0, &c);
            srv->on_complete(srv->on_complete_ud, &c, NULL, NULL);
        }
        finish(x);
        return;
    }
    if (srv->on_complete) {
        struct gw_mcp_completion c;
        completion_of(x, GW_MCP_OUTCOME_RESULT, response, text, len, &c);
        x->held = gw_xmalloc(len);
        memcpy(x->held, text, len);
        x->held_len = len;
        x->done = true; /* nothing else may reply meanwhile */
        gw_mcp_x_ref(x);
        if (srv->on_complete(srv->on_complete_ud, &c, release_held, x) == GW_AGAIN)
            return; /* release_held -> send_held */
        x->done = false;
        gw_free(x->held);
        x->held = NULL;
        gw_mcp_x_unref(x);
    }
    x->o.ops->send(x->o.tctx, x, text, len, true);
    finish(x);
}

static void send_final(struct gw_mcp_exchange *x, json_t *response)
{
    if (x->done) {
        json_decref(response);
        return;
    }
    char *text = x->cancelled ? NULL : gw_json_dumps(response);
    deliver_final(x, response, text, text ? strlen(text) : 0);
    gw_free(text);
    json_decref(response);
}

/* 2026-07-28: every result has resultType; cacheable results carry ttlMs + cacheScope. */
static void modern_result_fields(struct gw_mcp_exchange *x, json_t *result)
{
    static const char *const cacheable[] = {"tools/list", "prompts/list", "resources/list",
                                            "resources/templates/list", "resources/read",
                                            "server/discover"};
    if (!json_object_get(result, "resultType"))
        json_object_set_new(result, "resultType", json_string("complete"));
    if (strcmp(json_string_value(json_object_get(result, "resultType")), "complete") != 0)
        return;
    for (size_t i = 0; i < sizeof(cacheable) / sizeof(cacheable[0]); i++) {
        if (strcmp(x->method, cacheable[i]) == 0 && !json_object_get(result, "ttlMs")) {
            json_object_set_new(result, "ttlMs", json_integer(0));
            json_object_set_new(result, "cacheScope", json_string("private"));
        }
    }
}

void gw_mcp_reply(struct gw_mcp_exchange *x, json_t *result)
{
    if (!result)
        result = json_object();
    if (x->o.modern && json_is_object(result))
        modern_result_fields(x, result);
    send_final(x, gw_jsonrpc_result(x->id, result));
}

void gw_mcp_reply_raw(struct gw_mcp_exchange *x, const char *json, size_t len)
{
    if (x->done)
        return;
    if (x->cancelled) {
        deliver_final(x, NULL, NULL, 0);
        return;
    }
    {
        struct gw_buf b;
        gw_buf_init(&b, len + 4096);
        char *ids = gw_json_dumps(x->id);
        gw_buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":", ids ? ids : "null");
        gw_free(ids);
        if (x->o.modern && len >= 2 && json[0] == '{') {
            gw_buf_adds(&b, "{\"resultType\":\"complete\"");
            if (len > 2)
                gw_buf_addc(&b, ',');
            gw_buf_add(&b, json + 1, len - 1);
        } else {
            gw_buf_add(&b, json, len);
        }
        gw_buf_addc(&b, '}');
        deliver_final(x, NULL, gw_buf_ptr(&b), gw_buf_len(&b));
        gw_buf_fini(&b);
    }
}

void gw_mcp_reply_error(struct gw_mcp_exchange *x, int code, const char *message, json_t *data)
{
    if (!x->done && !x->cancelled && x->o.ops->error_status)
        x->o.ops->error_status(x->o.tctx, code, data);
    send_final(x, gw_jsonrpc_error(x->id, code, message, data));
}

void gw_mcp_x_notify_list_changed(struct gw_mcp_exchange *x, int kind)
{
    gw_mcp_server_notify_list_changed(x->srv, kind);
}

char *gw_mcp_x_seal(struct gw_mcp_exchange *x, const json_t *state)
{
    return gw_sessions_seal(x->srv->sessions, state);
}

json_t *gw_mcp_x_unseal(struct gw_mcp_exchange *x, const char *sealed)
{
    return gw_sessions_unseal(x->srv->sessions, sealed);
}

static void send_message(struct gw_mcp_exchange *x, json_t *msg)
{
    if (!x->done && !x->cancelled) {
        char *text = gw_json_dumps(msg);
        if (text) {
            x->o.ops->send(x->o.tctx, x, text, strlen(text), false);
            gw_free(text);
        }
    }
    json_decref(msg);
}

/* ---------- logging and progress ---------- */

static const char *const log_levels[] = {"debug", "info",     "notice", "warning",
                                         "error", "critical", "alert",  "emergency"};

int gw_mcp_log_level_parse(const char *s)
{
    for (int i = 0; s && i < 8; i++)
        if (strcmp(s, log_levels[i]) == 0)
            return i;
    return -1;
}

const char *gw_mcp_log_level_name(int level)
{
    return level >= 0 && level < 8 ? log_levels[level] : "info";
}

void gw_mcp_log(struct gw_mcp_exchange *x, enum gw_mcp_log_level level, const char *logger,
                json_t *data)
{
    int min = x->o.log_level;
    if (!x->o.modern && x->session[0])
        min = gw_session_log_level(x->srv->sessions, x->session);
    if (min < 0 || (int)level < min) {
        json_decref(data);
        return;
    }
    json_t *p = json_pack("{s:s,s:o}", "level", gw_mcp_log_level_name((int)level), "data",
                          data ? data : json_null());
    if (logger)
        json_object_set_new(p, "logger", json_string(logger));
    send_message(x, gw_jsonrpc_notification("notifications/message", p));
}

void gw_mcp_progress(struct gw_mcp_exchange *x, double progress, double total,
                     const char *message)
{
    if (!x->progress_token || progress < x->last_progress)
        return;
    x->last_progress = progress;
    json_t *p = json_pack("{s:O,s:f}", "progressToken", x->progress_token, "progress", progress);
    if (total > 0)
        json_object_set_new(p, "total", json_real(total));
    if (message)
        json_object_set_new(p, "message", json_string(message));
    send_message(x, gw_jsonrpc_notification("notifications/progress", p));
}

/* ---------- server -> client requests ---------- */

int gw_mcp_ask_client(struct gw_mcp_exchange *x, const char *method, json_t *params,
                      gw_mcp_client_reply_fn fn, void *arg)
{
    uint8_t need = strcmp(method, "sampling/createMessage") == 0 ? GW_CAP_SAMPLING
                   : strcmp(method, "elicitation/create") == 0   ? GW_CAP_ELICITATION
                   : strcmp(method, "roots/list") == 0           ? GW_CAP_ROOTS
                                                                 : 0;
    if (x->o.modern || x->done || (need && !(x->o.caps & need))) {
        json_decref(params);
        return GW_EINVAL;
    }
    struct gw_mcp_server *srv = x->srv;
    struct pending *p = gw_xcalloc(1, sizeof(*p));
    snprintf(p->key, sizeof(p->key), "srv-%lu", atomic_fetch_add(&srv->next_id, 1) + 1);
    gw_strlcpy(p->session, sizeof(p->session), x->session);
    p->x = x;
    p->fn = fn;
    p->arg = arg;
    gw_mcp_x_ref(x);
    unsigned h = hash_key(p->key);
    pthread_mutex_lock(&srv->lock);
    p->next = srv->pending[h];
    srv->pending[h] = p;
    pthread_mutex_unlock(&srv->lock);
    json_t *id = json_string(p->key);
    send_message(x, gw_jsonrpc_request(id, method, params));
    json_decref(id);
    return GW_OK;
}

struct answer {
    struct pending *p;
    json_t *result, *error;
};

static void deliver_answer(void *arg)
{
    struct answer *a = arg;
    struct gw_mcp_exchange *x = a->p->x;
    if (!x->done)
        a->p->fn(x, a->result, a->error, a->p->arg);
    json_decref(a->result);
    json_decref(a->error);
    gw_free(a->p);
    gw_free(a);
    gw_mcp_x_unref(x);
}

static void route_answer(struct gw_mcp_server *srv, const struct gw_mcp_origin *o,
                         struct gw_jsonrpc_msg *m)
{
    if (!json_is_string(m->id))
        return;
    const char *key = json_string_value(m->id);
    unsigned h = hash_key(key);
    struct pending *p = NULL;
    pthread_mutex_lock(&srv->lock);
    for (struct pending **pp = &srv->pending[h]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0 &&
            strcmp((*pp)->session, o->session_id ? o->session_id : "") == 0) {
            p = *pp;
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    if (!p) {
        GW_LOG(GW_LOG_DEBUG, "mcp", "response to unknown request %s ignored", key);
        return;
    }
    struct answer *a = gw_xcalloc(1, sizeof(*a));
    a->p = p;
    a->result = json_incref(m->result);
    a->error = json_incref(m->error);
    if (p->x->o.loop == o->loop) {
        deliver_answer(a);
    } else if (gw_loop_post(p->x->o.loop, deliver_answer, a) != GW_OK) {
        json_decref(a->result);
        json_decref(a->error);
        gw_free(a);
        gw_free(p); /* owner loop is gone; the exchange went with it */
    }
}

/* ---------- cancellation ---------- */

struct cancel_task {
    struct gw_mcp_server *srv;
    char key[KEY_MAX];
};

static void run_cancel(void *arg)
{
    struct cancel_task *t = arg;
    struct gw_mcp_exchange *x = NULL;
    unsigned h = hash_key(t->key);
    pthread_mutex_lock(&t->srv->lock);
    for (struct inflight *f = t->srv->inflight[h]; f; f = f->next)
        if (strcmp(f->key, t->key) == 0)
            x = f->x;
    pthread_mutex_unlock(&t->srv->lock);
    /* the exchange can only finish on this thread, so it is still alive here */
    if (x && !x->done && !x->cancelled && strcmp(x->method, "initialize") != 0) {
        x->cancelled = true;
        GW_LOG(GW_LOG_DEBUG, "mcp", "request %s cancelled by the client", x->key);
        gw_mcp_x_ref(x);
        if (x->cancel_fn)
            x->cancel_fn(x, x->cancel_arg);
        if (!x->done)
            deliver_final(x, NULL, NULL, 0); /* no response is sent for a cancelled request */
        gw_mcp_x_unref(x);
    }
    gw_free(t);
}

static void cancel_request(struct gw_mcp_server *srv, const struct gw_mcp_origin *o, json_t *rid)
{
    if (!gw_json_is_int_or_str(rid))
        return;
    struct cancel_task *t = gw_xcalloc(1, sizeof(*t));
    t->srv = srv;
    make_key(t->key, o->session_id, rid);
    struct gw_loop *owner = NULL;
    unsigned h = hash_key(t->key);
    pthread_mutex_lock(&srv->lock);
    for (struct inflight *f = srv->inflight[h]; f; f = f->next)
        if (strcmp(f->key, t->key) == 0)
            owner = f->loop;
    pthread_mutex_unlock(&srv->lock);
    if (!owner || gw_loop_post(owner, run_cancel, t) != GW_OK)
        gw_free(t);
}

/* ---------- pagination ---------- */

typedef gw_provider_list_fn (*list_selector)(const struct gw_mcp_provider_ops *ops);

static gw_provider_list_fn sel_tools(const struct gw_mcp_provider_ops *o)
{
    return o->list_tools;
}
static gw_provider_list_fn sel_resources(const struct gw_mcp_provider_ops *o)
{
    return o->list_resources;
}
static gw_provider_list_fn sel_templates(const struct gw_mcp_provider_ops *o)
{
    return o->list_resource_templates;
}
static gw_provider_list_fn sel_prompts(const struct gw_mcp_provider_ops *o)
{
    return o->list_prompts;
}

/* Cursor = base64url("<provider index>:<provider cursor>"). */
static int decode_cursor(const char *c, int *out_pi, char *out_pc, size_t pc_size)
{
    unsigned char raw[256];
    size_t n = strlen(c);
    if (n == 0 || n > 300)
        return GW_EINVAL;
    long len = gw_b64url_decode(c, n, raw);
    if (len < 2 || len >= (long)sizeof(raw))
        return GW_EINVAL;
    raw[len] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (!colon || colon == (char *)raw || colon - (char *)raw > 2)
        return GW_EINVAL;
    int pi = 0;
    for (char *p = (char *)raw; p < colon; p++) {
        if (*p < '0' || *p > '9')
            return GW_EINVAL;
        pi = pi * 10 + (*p - '0');
    }
    gw_strlcpy(out_pc, pc_size, colon + 1);
    *out_pi = pi;
    return GW_OK;
}

static void list_items(struct gw_mcp_exchange *x, list_selector sel, const char *key)
{
    struct gw_mcp_server *srv = x->srv;
    const char *cursor = gw_json_str(x->params, "cursor");
    json_t *cv = json_object_get(x->params, "cursor");
    int pi = 0;
    char pc[160] = "";
    if (cv && !json_is_string(cv)) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "cursor must be a string", NULL);
        return;
    }
    if (cursor && decode_cursor(cursor, &pi, pc, sizeof(pc)) != GW_OK) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "invalid cursor", NULL);
        return;
    }
    if (pi > srv->nproviders) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "invalid cursor", NULL);
        return;
    }
    struct gw_buf b;
    gw_buf_init(&b, 64u << 20);
    gw_buf_printf(&b, "{\"%s\":[", key);
    size_t remaining = srv->opts.page_size, total = 0;
    char next[160] = "";
    for (; pi < srv->nproviders && remaining > 0; pi++) {
        gw_provider_list_fn fn = sel(srv->providers[pi].ops);
        if (!fn) {
            pc[0] = '\0';
            continue;
        }
        struct gw_buf items;
        gw_buf_init(&items, 64u << 20);
        size_t count = 0;
        char pnext[128] = "";
        int rc = fn(srv->providers[pi].self, x, pc, remaining, &items, &count, pnext);
        if (rc != GW_OK) {
            gw_buf_fini(&items);
            gw_buf_fini(&b);
            gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS,
                               rc == GW_EINVAL ? "invalid cursor" : "listing failed", NULL);
            return;
        }
        if (count) {
            if (total)
                gw_buf_addc(&b, ',');
            gw_buf_add(&b, gw_buf_ptr(&items), gw_buf_len(&items));
            total += count;
            remaining -= count < remaining ? count : remaining;
        }
        gw_buf_fini(&items);
        pc[0] = '\0';
        if (pnext[0]) {
            snprintf(next, sizeof(next), "%d:%s", pi, pnext);
            break;
        }
    }
    if (!next[0] && remaining == 0 && pi < srv->nproviders)
        snprintf(next, sizeof(next), "%d:", pi);
    gw_buf_addc(&b, ']');
    if (next[0]) {
        char enc[256];
        gw_b64url_encode((const unsigned char *)next, strlen(next), enc);
        gw_buf_printf(&b, ",\"nextCursor\":\"%s\"", enc);
    }
    if (x->o.modern)
        gw_buf_adds(&b, ",\"ttlMs\":0,\"cacheScope\":\"private\"");
    gw_buf_addc(&b, '}');
    gw_mcp_reply_raw(x, gw_buf_ptr(&b), gw_buf_len(&b));
    gw_buf_fini(&b);
}

/* ---------- methods ---------- */

static json_t *capabilities(void)
{
    return json_pack("{s:{s:b},s:{s:b,s:b},s:{s:b},s:{},s:{}}", "tools", "listChanged", 1,
                     "resources", "subscribe", 1, "listChanged", 1, "prompts", "listChanged", 1,
                     "logging", "completions");
}

static json_t *server_info(const struct gw_mcp_server *srv)
{
    return json_pack("{s:s,s:s,s:s}", "name", srv->opts.name, "version", srv->opts.version,
                     "title", srv->opts.title);
}

static void m_initialize(struct gw_mcp_exchange *x)
{
    const char *requested = gw_json_str(x->params, "protocolVersion");
    if (!requested) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS,
                           "initialize: params.protocolVersion (string) is required", NULL);
        return;
    }
    json_t *caps = json_object_get(x->params, "capabilities");
    if (caps && !json_is_object(caps)) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS,
                           "initialize: params.capabilities must be an object", NULL);
        return;
    }
    enum gw_mcp_version v = gw_mcp_version_negotiate(requested);
    uint8_t bits = 0;
    if (json_object_get(caps, "sampling"))
        bits |= GW_CAP_SAMPLING;
    json_t *elic = json_object_get(caps, "elicitation");
    if (elic) {
        bits |= GW_CAP_ELICITATION;
        if (json_object_get(elic, "url"))
            bits |= GW_CAP_ELICITATION_URL;
    }
    if (json_object_get(caps, "roots"))
        bits |= GW_CAP_ROOTS;
    x->o.version = v;
    x->o.caps = bits;
    if (x->o.ops->initialized)
        x->o.ops->initialized(x->o.tctx, v, bits);
    json_t *r = json_pack("{s:s,s:o,s:o}", "protocolVersion", gw_mcp_version_str(v),
                          "capabilities", capabilities(), "serverInfo", server_info(x->srv));
    if (x->srv->opts.instructions && *x->srv->opts.instructions)
        json_object_set_new(r, "instructions", json_string(x->srv->opts.instructions));
    gw_mcp_reply(x, r);
}

static void m_discover(struct gw_mcp_exchange *x)
{
    /* 2026-07-28: no logging capability (removed), no resources/subscribe (replaced by
     * subscriptions/listen, which serves the listChanged notifications declared here) */
    json_t *caps = json_pack("{s:{s:b},s:{s:b},s:{s:b},s:{}}", "tools", "listChanged", 1,
                             "prompts", "listChanged", 1, "resources", "listChanged", 1,
                             "completions");
    json_t *r = json_pack("{s:[s],s:o,s:I,s:s,s:{s:o}}", "supportedVersions", "2026-07-28",
                          "capabilities", caps, "ttlMs", (json_int_t)0, "cacheScope", "public",
                          "_meta", "io.modelcontextprotocol/serverInfo", server_info(x->srv));
    if (x->srv->opts.instructions && *x->srv->opts.instructions)
        json_object_set_new(r, "instructions", json_string(x->srv->opts.instructions));
    gw_mcp_reply(x, r);
}

static void m_ping(struct gw_mcp_exchange *x)
{
    gw_mcp_reply(x, json_object());
}

static void m_set_level(struct gw_mcp_exchange *x)
{
    int lvl = gw_mcp_log_level_parse(gw_json_str(x->params, "level"));
    if (lvl < 0) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS,
                           "level must be one of debug, info, notice, warning, error, critical, "
                           "alert, emergency",
                           NULL);
        return;
    }
    if (x->session[0])
        gw_session_set_log_level(x->srv->sessions, x->session, lvl);
    else
        x->o.log_level = lvl;
    gw_mcp_reply(x, json_object());
}

static void m_tools_list(struct gw_mcp_exchange *x)
{
    list_items(x, sel_tools, "tools");
}

static void m_resources_list(struct gw_mcp_exchange *x)
{
    list_items(x, sel_resources, "resources");
}

static void m_templates_list(struct gw_mcp_exchange *x)
{
    list_items(x, sel_templates, "resourceTemplates");
}

static void m_prompts_list(struct gw_mcp_exchange *x)
{
    list_items(x, sel_prompts, "prompts");
}

static void m_tools_call(struct gw_mcp_exchange *x)
{
    const char *name = gw_json_str(x->params, "name");
    json_t *args = json_object_get(x->params, "arguments");
    if (!name) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "tools/call: params.name (string) is "
                                                         "required", NULL);
        return;
    }
    if (args && !json_is_object(args) && !json_is_null(args)) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS,
                           "tools/call: params.arguments must be an object", NULL);
        return;
    }
    json_t *a = json_is_object(args) ? json_incref(args) : json_object();
    gw_ctx_set_tool(x->ctx, name, a);
    for (int i = 0; i < x->srv->nproviders; i++) {
        const struct gw_mcp_provider *p = &x->srv->providers[i];
        if (p->ops->call_tool && p->ops->call_tool(p->self, x, name, a) == GW_OK) {
            json_decref(a);
            return;
        }
    }
    json_decref(a);
    char msg[200];
    snprintf(msg, sizeof(msg), "Unknown tool: %.120s", name);
    gw_ctx_decide(x->ctx, GW_PHASE_RESOLVE, GW_VERDICT_DENY, "registry", NULL, NULL, msg);
    gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, msg, NULL);
}

static void resource_not_found(struct gw_mcp_exchange *x, const char *uri)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "Resource not found: %.200s", uri);
    gw_mcp_reply_error(x, x->o.modern ? GW_JSONRPC_INVALID_PARAMS : GW_MCP_RESOURCE_NOT_FOUND,
                       msg, json_pack("{s:s}", "uri", uri));
}

static void m_resources_read(struct gw_mcp_exchange *x)
{
    const char *uri = gw_json_str(x->params, "uri");
    if (!uri) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "params.uri (string) is required", NULL);
        return;
    }
    for (int i = 0; i < x->srv->nproviders; i++) {
        const struct gw_mcp_provider *p = &x->srv->providers[i];
        if (p->ops->read_resource && p->ops->read_resource(p->self, x, uri) == GW_OK)
            return;
    }
    resource_not_found(x, uri);
}

static void m_subscribe(struct gw_mcp_exchange *x)
{
    const char *uri = gw_json_str(x->params, "uri");
    if (!uri) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "params.uri (string) is required", NULL);
        return;
    }
    bool known = false;
    for (int i = 0; i < x->srv->nproviders && !known; i++) {
        const struct gw_mcp_provider *p = &x->srv->providers[i];
        known = p->ops->has_resource && p->ops->has_resource(p->self, uri);
    }
    if (!known) {
        resource_not_found(x, uri);
        return;
    }
    bool on = strcmp(x->method, "resources/subscribe") == 0;
    if (x->session[0])
        gw_session_subscribe(x->srv->sessions, x->session, uri, on);
    gw_mcp_reply(x, json_object());
}

static void m_prompts_get(struct gw_mcp_exchange *x)
{
    const char *name = gw_json_str(x->params, "name");
    json_t *args = json_object_get(x->params, "arguments");
    if (!name) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "params.name (string) is required",
                           NULL);
        return;
    }
    if (args && !json_is_object(args)) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, "params.arguments must be an object",
                           NULL);
        return;
    }
    json_t *a = args ? json_incref(args) : json_object();
    for (int i = 0; i < x->srv->nproviders; i++) {
        const struct gw_mcp_provider *p = &x->srv->providers[i];
        if (p->ops->get_prompt && p->ops->get_prompt(p->self, x, name, a) == GW_OK) {
            json_decref(a);
            return;
        }
    }
    json_decref(a);
    char msg[200];
    snprintf(msg, sizeof(msg), "Unknown prompt: %.120s", name);
    gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS, msg, NULL);
}

static void m_complete(struct gw_mcp_exchange *x)
{
    json_t *ref = json_object_get(x->params, "ref");
    json_t *arg = json_object_get(x->params, "argument");
    const char *type = gw_json_str(ref, "type");
    const char *aname = gw_json_str(arg, "name");
    const char *avalue = gw_json_str(arg, "value");
    if (!type || !aname || !avalue ||
        (strcmp(type, "ref/prompt") != 0 && strcmp(type, "ref/resource") != 0)) {
        gw_mcp_reply_error(x, GW_JSONRPC_INVALID_PARAMS,
                           "completion/complete needs ref {type: ref/prompt|ref/resource} and "
                           "argument {name, value}",
                           NULL);
        return;
    }
    json_t *values = json_array();
    for (int i = 0; i < x->srv->nproviders; i++) {
        const struct gw_mcp_provider *p = &x->srv->providers[i];
        if (p->ops->complete && p->ops->complete(p->self, ref, aname, avalue, values) == GW_OK)
            break;
    }
    while (json_array_size(values) > 100)
        json_array_remove(values, 100);
    gw_mcp_reply(x, json_pack("{s:{s:o,s:I,s:b}}", "completion", "values", values, "total",
                              (json_int_t)json_array_size(values), "hasMore", 0));
}

struct method {
    const char *name;
    void (*fn)(struct gw_mcp_exchange *x);
    unsigned eras; /* 1 = legacy, 2 = modern */
};

static const struct method methods[] = {
    {"initialize", m_initialize, 1},
    {"ping", m_ping, 1},
    {"logging/setLevel", m_set_level, 1},
    {"server/discover", m_discover, 2},
    {"tools/list", m_tools_list, 3},
    {"tools/call", m_tools_call, 3},
    {"resources/list", m_resources_list, 3},
    {"resources/templates/list", m_templates_list, 3},
    {"resources/read", m_resources_read, 3},
    {"resources/subscribe", m_subscribe, 1},
    {"resources/unsubscribe", m_subscribe, 1},
    {"prompts/list", m_prompts_list, 3},
    {"prompts/get", m_prompts_get, 3},
    {"completion/complete", m_complete, 3},
};

/* ---------- dispatch ---------- */

bool gw_mcp_message_is_request(json_t *msg)
{
    return json_is_object(msg) && json_object_get(msg, "method") && json_object_get(msg, "id");
}

static void send_error_direct(const struct gw_mcp_origin *o, json_t *id, int code,
                              const char *message)
{
    json_t *e = gw_jsonrpc_error(id, code, message, NULL);
    char *text = gw_json_dumps(e);
    if (text)
        o->ops->send(o->tctx, NULL, text, strlen(text), true);
    gw_free(text);
    json_decref(e);
}

/* A message refused because its context failed authentication. */
void gw_mcp_server_report_refusal(struct gw_mcp_server *srv, struct gw_ctx *ctx,
                                  const json_t *msg)
{
    const struct gw_auth_failure *f = gw_ctx_auth_failure(ctx);
    GW_ASSERT(f);
    if (srv->on_complete) {
        struct gw_mcp_completion c = {.ctx = ctx,
                                      .method = json_string_value(json_object_get(msg, "method")),
                                      .id = json_object_get(msg, "id"),
                                      .params = json_object_get(msg, "params"),
                                      .outcome = GW_MCP_OUTCOME_REFUSED,
                                      .error_code = GW_GATEWAY_UNAUTHENTICATED,
                                      .error_message = f->description,
                                      .message = ""};
        if (!c.method)
            c.method = "";
        srv->on_complete(srv->on_complete_ud, &c, NULL, NULL);
    }
}

void gw_mcp_server_report_rejection(struct gw_mcp_server *srv, struct gw_ctx *ctx, int status,
                                    int code, const char *message)
{
    if (!srv->on_complete)
        return;
    struct gw_mcp_completion c = {.ctx = ctx,
                                  .method = "",
                                  .outcome = GW_MCP_OUTCOME_REJECTED,
                                  .error_code = code,
                                  .error_message = message ? message : "",
                                  .message = "",
                                  .http_status = status};
    srv->on_complete(srv->on_complete_ud, &c, NULL, NULL);
}

static void refuse_unauthenticated(struct gw_mcp_server *srv, const struct gw_mcp_origin *o,
                                   struct gw_ctx *ctx, json_t *msg)
{
    const struct gw_auth_failure *f = gw_ctx_auth_failure(ctx);
    gw_mcp_server_report_refusal(srv, ctx, msg);
    if (o->ops->auth_failed)
        o->ops->auth_failed(o->tctx, f);
    if (gw_mcp_message_is_request(msg))
        send_error_direct(o, json_object_get(msg, "id"), GW_GATEWAY_UNAUTHENTICATED,
                          f->description[0] ? f->description : "authentication required");
}

/* Dispatch of a message whose context is authenticated (DONE) or refused (FAILED). */
static void dispatch_ready(struct gw_mcp_server *srv, const struct gw_mcp_origin *o,
                           struct gw_ctx *ctx, json_t *msg)
{
    if (gw_ctx_auth_state(ctx) != GW_AUTH_DONE) {
        refuse_unauthenticated(srv, o, ctx, msg);
        return;
    }
    struct gw_jsonrpc_msg m;
    struct gw_error err = {0};
    gw_jsonrpc_classify(msg, &m, &err);
    switch (m.kind) {
    case GW_JSONRPC_INVALID:
        send_error_direct(o, m.id, GW_JSONRPC_INVALID_REQUEST, err.msg);
        return;
    case GW_JSONRPC_RESPONSE:
        route_answer(srv, o, &m);
        return;
    case GW_JSONRPC_NOTIFICATION:
        if (strcmp(m.method, "notifications/cancelled") == 0)
            cancel_request(srv, o, json_object_get(m.params, "requestId"));
        return; /* initialized, roots/list_changed, unknown: nothing to do */
    case GW_JSONRPC_REQUEST:
        break;
    }
    const struct method *meth = NULL;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(methods[i].name, m.method) == 0)
            meth = &methods[i];
    unsigned era = o->modern ? 2 : 1;
    if (!meth || !(meth->eras & era)) {
        char msgtext[200];
        snprintf(msgtext, sizeof(msgtext), "Method not found: %.120s", m.method);
        send_error_direct(o, m.id, GW_JSONRPC_METHOD_NOT_FOUND, msgtext);
        return;
    }
    struct gw_mcp_exchange *x = gw_xcalloc(1, sizeof(*x));
    x->srv = srv;
    x->o = *o;
    x->ctx = gw_ctx_ref(ctx);
    x->o.ctx = ctx;
    gw_strlcpy(x->session, sizeof(x->session), o->session_id ? o->session_id : "");
    gw_strlcpy(x->rid, sizeof(x->rid), o->request_id ? o->request_id : "");
    x->o.session_id = x->session;
    x->o.request_id = x->rid;
    x->msg = json_incref(msg);
    x->id = m.id;
    x->method = m.method;
    x->params = m.params ? json_incref(m.params) : json_object();
    x->progress_token = json_object_get(json_object_get(x->params, "_meta"), "progressToken");
    if (x->progress_token && !gw_json_is_int_or_str(x->progress_token))
        x->progress_token = NULL;
    x->refs = 1;
    x->last_progress = -1;
    gw_ctx_set_method(ctx, m.method);
    if (o->ops->hold)
        o->ops->hold(o->tctx);
    inflight_add(x);
    const char *prev = gw_ctx_enter(ctx);
    meth->fn(x);
    gw_ctx_leave(prev);
}

/* A message waiting for its context's authentication (the origin's strings copied). */
struct deferred {
    struct gw_mcp_server *srv;
    struct gw_mcp_origin o;
    char session[GW_SESSION_ID_MAX];
    char rid[136];
    json_t *msg;
};

static void dispatch_deferred(struct gw_ctx *ctx, void *arg)
{
    struct deferred *d = arg;
    gw_ctx_phase_end(ctx, GW_PHASE_AUTHENTICATE);
    dispatch_ready(d->srv, &d->o, ctx, d->msg);
    if (d->o.ops->release)
        d->o.ops->release(d->o.tctx);
    json_decref(d->msg);
    gw_ctx_unref(ctx);
    gw_free(d);
}

void gw_mcp_server_dispatch(struct gw_mcp_server *srv, const struct gw_mcp_origin *o, json_t *msg)
{
    struct gw_ctx *ctx;
    if (o->ctx) {
        ctx = gw_ctx_ref(o->ctx);
    } else {
        struct gw_ctx_init ci = {.transport = GW_TRANSPORT_INTERNAL,
                                 .loop = o->loop,
                                 .request_id = o->request_id,
                                 .session = o->session_id};
        ctx = gw_ctx_new(&ci);
    }
    if (gw_ctx_auth_state(ctx) == GW_AUTH_PENDING) {
        struct deferred *d = gw_xcalloc(1, sizeof(*d));
        d->srv = srv;
        d->o = *o;
        d->o.ctx = ctx;
        gw_strlcpy(d->session, sizeof(d->session), o->session_id ? o->session_id : "");
        gw_strlcpy(d->rid, sizeof(d->rid), o->request_id ? o->request_id : "");
        d->o.session_id = o->session_id ? d->session : NULL;
        d->o.request_id = d->rid;
        d->msg = json_incref(msg);
        if (o->ops->hold)
            o->ops->hold(o->tctx);
        if (gw_mcp_server_authenticate(srv, ctx, dispatch_deferred, d) == GW_AGAIN)
            return; /* dispatch_deferred runs when it is done */
        dispatch_deferred(ctx, d);
        return;
    }
    dispatch_ready(srv, o, ctx, msg);
    gw_ctx_unref(ctx);
}

/* ---------- listeners ---------- */

int gw_mcp_server_listen(struct gw_mcp_server *srv, struct gw_mcp_listener *l)
{
    pthread_mutex_lock(&srv->lock);
    if (l->session[0] && !l->subscription_id[0]) {
        for (struct lnode *n = srv->listeners; n; n = n->next) {
            if (strcmp(n->l->session, l->session) == 0 && !n->l->subscription_id[0]) {
                pthread_mutex_unlock(&srv->lock);
                return GW_ECONFLICT;
            }
        }
    }
    struct lnode *n = gw_xcalloc(1, sizeof(*n));
    n->l = l;
    l->id = atomic_fetch_add(&srv->next_id, 1) + 1;
    n->next = srv->listeners;
    srv->listeners = n;
    pthread_mutex_unlock(&srv->lock);
    return GW_OK;
}

void gw_mcp_server_unlisten(struct gw_mcp_server *srv, struct gw_mcp_listener *l)
{
    pthread_mutex_lock(&srv->lock);
    for (struct lnode **pp = &srv->listeners; *pp; pp = &(*pp)->next) {
        if ((*pp)->l == l) {
            struct lnode *dead = *pp;
            *pp = dead->next;
            gw_free(dead);
            break;
        }
    }
    pthread_mutex_unlock(&srv->lock);
}

struct notify_task {
    struct gw_mcp_server *srv;
    unsigned long listener_id;
    bool close;
    char *text;
};

static struct gw_mcp_listener *find_listener(struct gw_mcp_server *srv, unsigned long id)
{
    struct gw_mcp_listener *l = NULL;
    pthread_mutex_lock(&srv->lock);
    for (struct lnode *n = srv->listeners; n; n = n->next)
        if (n->l->id == id)
            l = n->l;
    pthread_mutex_unlock(&srv->lock);
    return l;
}

static void run_notify(void *arg)
{
    struct notify_task *t = arg;
    /* listeners are removed only on their own thread (this one), so a found one is alive */
    struct gw_mcp_listener *l = find_listener(t->srv, t->listener_id);
    if (l) {
        if (t->close) {
            if (l->close)
                l->close(l);
        } else {
            l->send(l, t->text, strlen(t->text));
        }
    }
    gw_free(t->text);
    gw_free(t);
}

static void post_to_listeners(struct gw_mcp_server *srv, int flag, const char *method,
                              const char *uri)
{
    pthread_mutex_lock(&srv->lock);
    for (struct lnode *n = srv->listeners; n; n = n->next) {
        struct gw_mcp_listener *l = n->l;
        if (!(l->flags & flag))
            continue;
        if (uri && (!l->session[0] || !gw_session_subscribed(srv->sessions, l->session, uri)))
            continue;
        json_t *params = uri ? json_pack("{s:s}", "uri", uri) : json_object();
        if (l->subscription_id[0]) {
            json_error_t je;
            json_t *sid = json_loads(l->subscription_id, JSON_DECODE_ANY, &je);
            json_object_set_new(params, "_meta",
                                json_pack("{s:o}", "io.modelcontextprotocol/subscriptionId",
                                          sid ? sid : json_null()));
        }
        json_t *note = gw_jsonrpc_notification(method, params);
        struct notify_task *t = gw_xcalloc(1, sizeof(*t));
        t->srv = srv;
        t->listener_id = l->id;
        t->text = gw_json_dumps(note);
        json_decref(note);
        if (gw_loop_post(l->loop, run_notify, t) != GW_OK) {
            gw_free(t->text);
            gw_free(t);
        }
    }
    pthread_mutex_unlock(&srv->lock);
}

void gw_mcp_server_notify_list_changed(struct gw_mcp_server *srv, int kind)
{
    const char *m = kind == GW_LISTEN_TOOLS       ? "notifications/tools/list_changed"
                    : kind == GW_LISTEN_RESOURCES ? "notifications/resources/list_changed"
                                                  : "notifications/prompts/list_changed";
    post_to_listeners(srv, kind, m, NULL);
}

void gw_mcp_server_notify_resource_updated(struct gw_mcp_server *srv, const char *uri)
{
    post_to_listeners(srv, GW_LISTEN_RESOURCE_UPDATES, "notifications/resources/updated", uri);
}

void gw_mcp_server_close_listeners(struct gw_mcp_server *srv, struct gw_loop *loop)
{
    /* close hooks unregister (taking the lock), so pick one listener at a time until none of
     * this loop's is left; a listener without a close hook is unregistered here */
    for (;;) {
        struct gw_mcp_listener *l = NULL;
        pthread_mutex_lock(&srv->lock);
        for (struct lnode *ln = srv->listeners; ln && !l; ln = ln->next)
            if (ln->l->loop == loop)
                l = ln->l;
        pthread_mutex_unlock(&srv->lock);
        if (!l)
            return;
        if (l->close)
            l->close(l);
        else
            gw_mcp_server_unlisten(srv, l);
    }
}
