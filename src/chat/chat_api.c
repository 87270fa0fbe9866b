/*
 * src/chat/chat_api.c
 * The chat backend's HTTP side (see chat.h): routes of /chat/api/, authentication, the
 * conversation jobs on the pool, and the environment of a running turn (chat_agent.h): model
 * answers streamed through the worker's HTTP client, tool calls through the protocol server,
 * events streamed to the browser, the time budget, retries after rate limits, and saving.
 *
 * Life of a streamed turn (struct chat_turn, on one worker loop):
 *   authenticated -> LOAD job (pool) -> checks (404/409 answered as JSON) -> SSE begins ->
 *   tools/list (internal call) -> gw_chat_turn_start/answer -> ... -> finished -> SAVE job
 *   (pool) -> "saved" event -> stream ends -> freed.
 * Nothing outstanding survives `finished`: the agent only finishes when every model answer and
 * tool call it started has reported, and the time budget cancels what is still running (HTTP
 * call, retry timer, internal calls) before it aborts the turn. A browser that goes away does
 * not stop the turn: it runs to its end (bounded by the time budget) and is saved.
 */
#include "chat/chat.h"

#include "chat/chat_agent.h"
#include "chat/chat_llm.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "httpc/httpc_client.h"
#include "mcp/mcp_internal.h"
#include "net/net_http.h"
#include "net/net_pool.h"
#include "store/store_chat.h"
#include "store/store_janitor.h"
#include "store/store_thread.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_THREADS 2
#define POOL_QUEUE 256
#define KEEPALIVE_S 15
#define TOOLS_PAGES_MAX 20
#define KEY_MAX 4096
#define PROMPT_FILE_MAX (64u << 10)
#define BODY_MAX (256u << 10)

struct chat_turn;

struct chat_worker {
    struct gw_chat *chat;
    struct gw_worker *w;
    struct gw_httpc *httpc;
    struct chat_turn *turns; /* running turns (for the drain) */
    bool draining;
};

struct gw_chat {
    enum gw_llm_provider provider;
    char model[256];
    char base_url[1024];
    char *api_key; /* never logged, never sent to the browser */
    char ca_file[1024];
    long max_tokens;
    int max_steps;
    int turn_timeout_s, llm_timeout_s, stall_s, retries, retry_max_wait_s;
    size_t max_tools, history_messages, max_message_bytes;
    long long max_conversations;
    int retention_days;                /* 0: keep */
    struct gw_store_janitor *janitor; /* deletes conversations older than that */
    int tz_offset_min;
    char *prompt_tmpl; /* NULL: built-in */
    char describe[1600];
    struct gw_mcp_server *mcp;
    struct gw_authn authn;
    char *config_text; /* GET /chat/api/config */
    struct gw_pool *pool;
    struct gw_store_per_thread stores; /* one database handle per pool thread */
    int nworkers;
    struct chat_worker *workers;
};

/* ================================================================ small helpers */

static void reply_error(struct gw_http_req *r, int status, const char *code, const char *msg)
{
    gw_http_add_header(r, "Cache-Control", "no-store");
    gw_http_reply_error(r, status, code, msg);
}

static void reply_json(struct gw_http_req *r, int status, const json_t *v)
{
    gw_http_add_header(r, "Cache-Control", "no-store");
    gw_http_reply_json(r, status, v);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct chat_worker *worker_of(struct gw_chat *chat, struct gw_http_req *r)
{
    int id = gw_worker_id(gw_http_worker(r));
    return id >= 0 && id < chat->nworkers ? &chat->workers[id] : NULL;
}

static void new_id(char out[33])
{
    unsigned char rnd[12];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 0, sizeof(rnd));
    snprintf(out, 33, "c");
    for (int i = 0; i < 12; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", rnd[i]);
}

/* A title from the first words of a message: at most 60 bytes, cut on a UTF-8 boundary,
 * control characters turned into spaces. */
static void make_title(const char *text, char *out, size_t size)
{
    size_t max = size - 1 < 60 ? size - 1 : 60;
    size_t n = 0;
    for (const char *p = text; *p && n < max; p++)
        out[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    while (n > 0 && text[n] && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    out[n] = '\0';
    if (!n)
        snprintf(out, size, "New conversation");
}

/* ================================================================ pool jobs */

enum job_op { J_LIST, J_CREATE, J_GET, J_DELETE, J_LOAD, J_SAVE };

struct chat_job {
    struct gw_chat *chat;
    struct gw_loop *loop;
    enum job_op op;
    char owner[65];
    char id[65];
    char title[256];
    bool has_title;
    /* J_SAVE */
    char *messages;
    char *pending;
    long long version;
    /* results */
    int rc;
    struct gw_error err;
    json_t *result;
    long long new_version;
    /* continuation on the loop */
    void (*done)(struct chat_job *j);
    struct gw_http_req *r;
    struct chat_turn *turn;
};

static void job_free(struct chat_job *j)
{
    json_decref(j->result);
    gw_free(j->messages);
    gw_free(j->pending);
    gw_free(j);
}

static void job_back(void *arg)
{
    struct chat_job *j = arg;
    j->done(j);
    job_free(j);
}

static void job_work(void *arg)
{
    struct chat_job *j = arg;
    struct gw_store *st = gw_store_per_thread_get(&j->chat->stores, &j->err);
    if (!st) {
        j->rc = GW_EIO;
    } else {
        switch (j->op) {
        case J_LIST:
            j->rc = gw_store_chat_list(st, j->owner, 1000, &j->result, &j->err);
            break;
        case J_CREATE: {
            long long n = 0;
            j->rc = gw_store_chat_count(st, j->owner, &n, &j->err);
            if (j->rc == GW_OK && n >= j->chat->max_conversations)
                j->rc = GW_ERROR_SET(&j->err, GW_ELIMIT,
                                     "you have %lld conversations, the most one person may keep "
                                     "(GW_CHAT_MAX_CONVERSATIONS): delete some first", n);
            if (j->rc == GW_OK)
                j->rc = gw_store_chat_create(st, j->owner, j->id, j->title, &j->result, &j->err);
            break;
        }
        case J_GET:
        case J_LOAD:
            j->rc = gw_store_chat_get(st, j->owner, j->id, &j->result, &j->err);
            break;
        case J_DELETE:
            j->rc = gw_store_chat_delete(st, j->owner, j->id, &j->err);
            break;
        case J_SAVE:
            j->rc = gw_store_chat_save(st, j->owner, j->id, j->version, j->messages, j->pending,
                                       j->has_title ? j->title : NULL, &j->new_version, &j->err);
            break;
        }
        if (j->rc == GW_EIO) { /* a broken connection: reopen on the next job */
            gw_store_per_thread_drop(&j->chat->stores);
        }
    }
    if (gw_loop_post(j->loop, job_back, j) != GW_OK) {
        GW_LOG(GW_LOG_WARN, "chat", "a database result was dropped: the worker has stopped");
        job_free(j);
    }
}

static int job_submit(struct chat_job *j)
{
    if (gw_pool_submit(j->chat->pool, job_work, NULL, j, j->loop) != GW_OK)
        return GW_ELIMIT;
    return GW_OK;
}

static struct chat_job *job_new(struct gw_chat *chat, struct gw_http_req *r, enum job_op op,
                                const char *owner, const char *id)
{
    struct chat_job *j = gw_xcalloc(1, sizeof(*j));
    j->chat = chat;
    j->loop = gw_worker_loop(gw_http_worker(r));
    j->op = op;
    j->r = r;
    snprintf(j->owner, sizeof(j->owner), "%s", owner);
    snprintf(j->id, sizeof(j->id), "%s", id ? id : "");
    return j;
}

static void reply_job_error(struct gw_http_req *r, struct chat_job *j)
{
    switch (j->rc) {
    case GW_ENOTFOUND: reply_error(r, 404, "not_found", "no such conversation"); break;
    case GW_ECONFLICT: reply_error(r, 409, "conflict", j->err.msg); break;
    case GW_ELIMIT: reply_error(r, 409, "limit", j->err.msg); break;
    case GW_EINVAL: reply_error(r, 400, "invalid", j->err.msg); break;
    default:
        GW_LOG(GW_LOG_ERROR, "chat", "database: %s", j->err.msg);
        gw_http_add_header(r, "Retry-After", "2");
        reply_error(r, 503, "unavailable", "the conversation store is unavailable; try again");
    }
}

/* Conversation JSON as the API shows it: what the store has, pending calls without their
 * sealed state (the browser never needs it). */
static json_t *public_conversation(const json_t *conv)
{
    json_t *out = json_deep_copy(conv);
    json_t *calls = json_object_get(json_object_get(out, "pending"), "calls");
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) json_object_del(c, "request_state");
    return out;
}

static void crud_done(struct chat_job *j)
{
    struct gw_http_req *r = j->r;
    if (j->rc != GW_OK) {
        reply_job_error(r, j);
        return;
    }
    switch (j->op) {
    case J_LIST: {
        json_t *v = json_pack("{s:O}", "conversations", j->result);
        reply_json(r, 200, v);
        json_decref(v);
        break;
    }
    case J_CREATE: {
        char loc[128];
        snprintf(loc, sizeof(loc), "/chat/api/conversations/%s", j->id);
        gw_http_add_header(r, "Location", loc);
        reply_json(r, 201, j->result);
        break;
    }
    case J_GET: {
        json_t *v = public_conversation(j->result);
        reply_json(r, 200, v);
        json_decref(v);
        break;
    }
    case J_DELETE:
        gw_http_add_header(r, "Cache-Control", "no-store");
        gw_http_reply(r, 204, NULL, NULL, 0);
        break;
    default:
        reply_error(r, 500, "internal", "unexpected job");
    }
}

/* ================================================================ a running turn */

struct tool_slot {
    struct chat_turn *ct;
    size_t slot;
    struct gw_mcp_call *call;
};

struct chat_turn {
    struct gw_chat *chat;
    struct chat_worker *cw;
    struct gw_http_req *r;
    bool client_gone;
    bool stream_started;
    struct gw_ctx *ctx;
    char owner[65];
    char id[65];
    long long version;
    char title[256];
    bool set_title;
    /* what starts it */
    char *user_text;
    char call_id[GW_LLM_ID_MAX + 1];
    bool accept;
    bool is_answer;
    json_t *conv; /* the loaded conversation until the turn takes its messages */
    struct gw_chat_turn *turn;
    json_t *tools_all;
    json_t *tools; /* offered to the model */
    char *system;
    /* tools/list */
    struct gw_mcp_call *list_call;
    int list_pages;
    /* the model's answer being streamed */
    struct gw_httpc_call *llm_call;
    struct gw_llm_stream stream;
    bool stream_live;
    char *llm_body;
    size_t llm_body_len;
    int llm_attempts;
    int64_t llm_started_ms;
    struct event *retry_timer;
    struct event *stall; /* nothing received from the model for stall_s */
    struct event *soon; /* a report that must not run inside the call that started it */
    char soon_kind[32];
    char soon_msg[512];
    /* tool calls */
    struct tool_slot slots[GW_LLM_MAX_TOOL_CALLS];
    /* budget, keep-alives */
    int64_t deadline_ms;
    struct event *deadline;
    struct event *keepalive;
    bool saving;
    struct chat_turn *prev, *next;
};

static void turn_list_add(struct chat_turn *ct)
{
    struct chat_worker *cw = ct->cw;
    ct->next = cw->turns;
    if (cw->turns)
        cw->turns->prev = ct;
    cw->turns = ct;
}

static void turn_list_remove(struct chat_turn *ct)
{
    struct chat_worker *cw = ct->cw;
    if (ct->prev)
        ct->prev->next = ct->next;
    else if (cw->turns == ct)
        cw->turns = ct->next;
    if (ct->next)
        ct->next->prev = ct->prev;
    ct->prev = ct->next = NULL;
}

static void turn_free(struct chat_turn *ct)
{
    turn_list_remove(ct);
    if (ct->deadline)
        event_free(ct->deadline);
    if (ct->keepalive)
        event_free(ct->keepalive);
    if (ct->retry_timer)
        event_free(ct->retry_timer);
    if (ct->stall)
        event_free(ct->stall);
    if (ct->soon)
        event_free(ct->soon);
    if (ct->stream_live)
        gw_llm_stream_fini(&ct->stream);
    gw_chat_turn_free(ct->turn);
    json_decref(ct->conv);
    json_decref(ct->tools_all);
    json_decref(ct->tools);
    gw_free(ct->system);
    gw_free(ct->llm_body);
    gw_free(ct->user_text);
    gw_ctx_unref(ct->ctx);
    gw_free(ct);
}

static void on_client_close(struct gw_http_req *r, void *arg)
{
    (void)r;
    struct chat_turn *ct = arg;
    ct->client_gone = true;
}

static void sse_write(struct chat_turn *ct, const char *name, const json_t *data)
{
    if (!ct->stream_started || ct->client_gone)
        return;
    char *text = gw_json_dumps(data);
    if (!text)
        return;
    struct gw_buf b;
    gw_buf_init(&b, strlen(text) + 128);
    (void)gw_buf_printf(&b, "event: %s\ndata: %s\n\n", name, text);
    gw_free(text);
    if (!gw_http_stream_write(ct->r, gw_buf_ptr(&b), gw_buf_len(&b)))
        ct->client_gone = true;
    gw_buf_fini(&b);
}

static void turn_end_stream(struct chat_turn *ct)
{
    if (ct->stream_started)
        gw_http_stream_end(ct->r);
    ct->r = NULL;
    turn_free(ct);
}

/* ---- saving ---- */

static void save_done(struct chat_job *j)
{
    struct chat_turn *ct = j->turn;
    if (j->rc == GW_OK) {
        ct->version = j->new_version;
        json_t *ev = json_pack("{s:I}", "version", (json_int_t)j->new_version);
        sse_write(ct, "saved", ev);
        json_decref(ev);
    } else {
        GW_LOG(GW_LOG_ERROR, "chat", "conversation %s not saved: %s", ct->id, j->err.msg);
        json_t *ev = json_pack("{s:s,s:s}", "kind", "not_saved", "message",
                               j->rc == GW_ECONFLICT
                                   ? "This conversation was changed elsewhere meanwhile; this "
                                     "turn was not saved. Reload the conversation."
                                   : "This turn could not be saved (the conversation store is "
                                     "unavailable).");
        sse_write(ct, "error", ev);
        json_decref(ev);
    }
    turn_end_stream(ct);
}

/* Drops the oldest messages (at user-message boundaries) until the text fits. */
static char *bounded_messages(const json_t *messages)
{
    json_t *m = json_deep_copy(messages);
    for (;;) {
        char *text = gw_json_dumps(m);
        if (!text || strlen(text) < GW_STORE_CHAT_DATA_MAX / 2 || json_array_size(m) <= 2) {
            json_decref(m);
            return text;
        }
        gw_free(text);
        size_t cut = json_array_size(m) / 4 + 1;
        while (cut < json_array_size(m)) {
            const char *role = gw_json_str(json_array_get(m, cut), "role");
            if (role && strcmp(role, "user") == 0)
                break;
            cut++;
        }
        json_t *rest = json_array();
        for (size_t i = cut; i < json_array_size(m); i++)
            json_array_append(rest, json_array_get(m, i));
        json_decref(m);
        m = rest;
    }
}

static void turn_save(struct chat_turn *ct, const json_t *messages, const json_t *pending)
{
    ct->saving = true;
    struct chat_job *j = gw_xcalloc(1, sizeof(*j));
    j->chat = ct->chat;
    j->loop = gw_worker_loop(ct->cw->w);
    j->op = J_SAVE;
    snprintf(j->owner, sizeof(j->owner), "%s", ct->owner);
    snprintf(j->id, sizeof(j->id), "%s", ct->id);
    j->messages = bounded_messages(messages);
    j->pending = pending ? gw_json_dumps(pending) : NULL;
    j->version = ct->version;
    if (ct->set_title) {
        snprintf(j->title, sizeof(j->title), "%s", ct->title);
        j->has_title = true;
    }
    j->turn = ct;
    j->done = save_done;
    if (!j->messages || job_submit(j) != GW_OK) {
        /* reported from the loop, never from inside the agent that called finished() */
        j->rc = GW_EIO;
        snprintf(j->err.msg, sizeof(j->err.msg), "the database queue is full");
        if (gw_loop_post(j->loop, job_back, j) != GW_OK)
            job_free(j);
    }
}

/* ---- environment of the agent ---- */

static void env_emit(void *env, struct gw_chat_turn *t, const char *name, json_t *data)
{
    (void)t;
    sse_write(env, name, data);
    json_decref(data);
}

static void env_finished(void *env, struct gw_chat_turn *t)
{
    struct chat_turn *ct = env;
    if (ct->deadline)
        event_del(ct->deadline);
    const char *state = gw_chat_state_name(gw_chat_turn_state(t));
    GW_LOG(GW_LOG_INFO, "chat", "turn of %s ended: %s after %d step(s)", ct->id, state,
           gw_chat_turn_steps(t));
    turn_save(ct, gw_chat_turn_messages(t), gw_chat_turn_pending(t));
}

/* A failure of the model reported on the next loop iteration (never inside llm_start). */
static void soon_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct chat_turn *ct = arg;
    gw_chat_turn_llm_failed(ct->turn, ct->soon_kind, ct->soon_msg, 0);
}

static void fail_soon(struct chat_turn *ct, const char *kind, const char *msg)
{
    snprintf(ct->soon_kind, sizeof(ct->soon_kind), "%s", kind);
    snprintf(ct->soon_msg, sizeof(ct->soon_msg), "%s", msg);
    if (!ct->soon)
        ct->soon = evtimer_new(gw_worker_base(ct->cw->w), soon_cb, ct);
    struct timeval tv = {0, 0};
    evtimer_add(ct->soon, &tv);
}

static void llm_text(void *arg, const char *delta, size_t len)
{
    struct chat_turn *ct = arg;
    gw_chat_turn_llm_text(ct->turn, delta, len);
}

static void stall_arm(struct chat_turn *ct)
{
    struct timeval tv = {ct->chat->stall_s, 0};
    evtimer_add(ct->stall, &tv);
}

static bool llm_data(void *arg, const char *data, size_t len)
{
    struct chat_turn *ct = arg;
    struct gw_error err = {0};
    stall_arm(ct);
    return gw_llm_stream_feed(&ct->stream, data, len, &err) == GW_OK;
}

/* The model sent nothing for stall_s: give up on this answer (a timer: the call may be
 * cancelled here). */
static void stall_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct chat_turn *ct = arg;
    if (!ct->llm_call)
        return;
    gw_httpc_cancel(ct->llm_call);
    ct->llm_call = NULL;
    char msg[300];
    if (ct->stream.started || gw_buf_len(&ct->stream.text))
        snprintf(msg, sizeof(msg), "The language model stopped answering part-way (nothing for "
                                   "%d s); the partial answer was not used. Try again.",
                 ct->chat->stall_s);
    else
        snprintf(msg, sizeof(msg), "The language model did not start answering within %d s. "
                                   "Try again later.", ct->chat->stall_s);
    gw_chat_turn_llm_failed(ct->turn, "timeout", msg, 0);
}

static void llm_done(void *arg, struct gw_httpc_response *resp);

static int llm_submit(struct chat_turn *ct, struct gw_error *err)
{
    struct gw_chat *chat = ct->chat;
    char url[1200];
    snprintf(url, sizeof(url), "%s%s", chat->base_url, gw_llm_path(chat->provider));
    char auth[KEY_MAX + 32];
    const char *hdrs[5];
    size_t nh = 0;
    hdrs[nh++] = "Content-Type: application/json";
    hdrs[nh++] = "Accept: text/event-stream";
    if (chat->provider == GW_LLM_ANTHROPIC) {
        snprintf(auth, sizeof(auth), "x-api-key: %s", chat->api_key ? chat->api_key : "");
        hdrs[nh++] = "anthropic-version: 2023-06-01";
    } else {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", chat->api_key ? chat->api_key
                                                                               : "");
    }
    if (chat->api_key && *chat->api_key)
        hdrs[nh++] = auth;
    int64_t left = ct->deadline_ms - now_ms();
    long timeout = (long)chat->llm_timeout_s * 1000;
    if (left < timeout) /* a second past the turn's deadline: its timer fires first and the
                         * person is told the turn's budget ran out, not that the model stalled */
        timeout = (left > 0 ? (long)left : 0) + 1000;
    struct gw_httpc_request req = {0};
    req.method = "POST";
    req.url = url;
    req.headers = hdrs;
    req.nheaders = nh;
    req.body = ct->llm_body;
    req.body_len = ct->llm_body_len;
    req.timeout_ms = timeout;
    req.connect_timeout_ms = 10000;
    req.max_response_bytes = 16u << 20;
    req.ca_file = chat->ca_file[0] ? chat->ca_file : NULL;
    req.on_data = llm_data;
    req.data_arg = ct;
    req.stall_timeout_s = chat->stall_s * 4; /* a backstop: stall_cb is the precise one */
    if (ct->stream_live)
        gw_llm_stream_fini(&ct->stream);
    struct gw_llm_stream_cb cb = {llm_text, NULL, ct};
    gw_llm_stream_init(&ct->stream, chat->provider, &cb);
    ct->stream_live = true;
    ct->llm_attempts++;
    ct->llm_started_ms = now_ms();
    int rc = gw_httpc_submit(ct->cw->httpc, &req, llm_done, ct, &ct->llm_call, err);
    explicit_bzero(auth, sizeof(auth));
    if (rc == GW_OK) {
        if (!ct->stall)
            ct->stall = evtimer_new(gw_worker_base(ct->cw->w), stall_cb, ct);
        stall_arm(ct);
    }
    return rc;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct chat_turn *ct = arg;
    struct gw_error err = {0};
    if (llm_submit(ct, &err) != GW_OK)
        gw_chat_turn_llm_failed(ct->turn, "provider_down", "The language model could not be "
                                                           "asked again.", 0);
}

/* Seconds of a Retry-After value (delta-seconds only; an HTTP date counts as unknown: -1). */
static long retry_after(struct gw_httpc_response *resp)
{
    char v[64];
    const char *s = gw_httpc_response_header(resp, "Retry-After", v, sizeof(v));
    if (!s || !*s)
        return -1;
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (end == s || *end || n < 0 || n > 86400)
        return -1;
    return n;
}

static void llm_done(void *arg, struct gw_httpc_response *resp)
{
    struct chat_turn *ct = arg;
    struct gw_chat *chat = ct->chat;
    ct->llm_call = NULL;
    if (ct->stall)
        evtimer_del(ct->stall);
    char msg[768];
    long code = resp->http_status;
    if (resp->status == GW_HTTPC_OK && code >= 200 && code < 300) {
        struct gw_error err = {0};
        if (gw_llm_stream_end(&ct->stream, &err) != GW_OK) {
            snprintf(msg, sizeof(msg), "The language model's answer was cut off or malformed (%s), "
                                       "so it was not used. Try again.", err.msg);
            gw_chat_turn_llm_failed(ct->turn, "malformed", msg, 0);
            return;
        }
        json_t *m = gw_llm_stream_message(&ct->stream);
        gw_chat_turn_llm_done(ct->turn, m, gw_llm_stream_truncated(&ct->stream));
        return;
    }
    if (resp->stopped) {
        if (ct->stream.error[0]) {
            snprintf(msg, sizeof(msg), "The language model service reported an error while "
                                       "answering: %s", ct->stream.error);
            gw_chat_turn_llm_failed(ct->turn, "provider_error", msg, 0);
        } else {
            snprintf(msg, sizeof(msg), "The language model's answer was malformed (%s), so it "
                                       "was not used. Try again.", ct->stream.err.msg);
            gw_chat_turn_llm_failed(ct->turn, "malformed", msg, 0);
        }
        return;
    }
    if (resp->status == GW_HTTPC_OK) {
        char pmsg[300];
        gw_llm_error_message(resp->body, resp->body_len, pmsg, sizeof(pmsg));
        long ra = retry_after(resp);
        bool busy = code == 429 || code == 503 || code == 529;
        if (busy && ct->llm_attempts <= chat->retries && ra >= 0 &&
            ra <= chat->retry_max_wait_s && now_ms() + ra * 1000 + 1000 < ct->deadline_ms) {
            snprintf(msg, sizeof(msg), "The language model is busy (HTTP %ld); trying again in "
                                       "%ld s.", code, ra);
            json_t *ev = json_pack("{s:s,s:i}", "message", msg, "retry_after", (int)ra);
            sse_write(ct, "status", ev);
            json_decref(ev);
            if (!ct->retry_timer)
                ct->retry_timer = evtimer_new(gw_worker_base(ct->cw->w), retry_cb, ct);
            struct timeval tv = {ra, 0};
            evtimer_add(ct->retry_timer, &tv);
            return;
        }
        if (code == 429) {
            if (ra > 0)
                snprintf(msg, sizeof(msg), "The language model service is rate-limiting this "
                                           "gateway (HTTP 429). Try again in %ld seconds.", ra);
            else
                snprintf(msg, sizeof(msg), "The language model service is rate-limiting this "
                                           "gateway (HTTP 429). Try again in a moment.");
            gw_chat_turn_llm_failed(ct->turn, "rate_limited", msg, ra > 0 ? ra : 0);
        } else if (code == 401 || code == 403) {
            snprintf(msg, sizeof(msg), "The language model service refused the gateway's "
                                       "credentials (HTTP %ld). An administrator must check the "
                                       "provider key (GW_CHAT_API_KEY_FILE).", code);
            gw_chat_turn_llm_failed(ct->turn, "provider_error", msg, 0);
        } else if (code >= 500) {
            snprintf(msg, sizeof(msg), "The language model service failed (HTTP %ld%s%s). Try "
                                       "again later.", code, pmsg[0] ? ": " : "", pmsg);
            gw_chat_turn_llm_failed(ct->turn, "provider_down", msg, ra > 0 ? ra : 0);
        } else {
            snprintf(msg, sizeof(msg), "The language model service refused the request (HTTP "
                                       "%ld%s%s).", code, pmsg[0] ? ": " : "", pmsg);
            gw_chat_turn_llm_failed(ct->turn, "provider_error", msg, 0);
        }
        return;
    }
    switch (resp->status) {
    case GW_HTTPC_ETIMEOUT:
        if (code >= 200 && code < 300)
            snprintf(msg, sizeof(msg), "The language model stopped answering part-way (nothing "
                                       "for %d s, or over %d s in all); the partial answer was "
                                       "not used. Try again.", chat->stall_s,
                     chat->llm_timeout_s);
        else
            snprintf(msg, sizeof(msg), "The language model did not answer in time (%lld s). Try "
                                       "again later.",
                     (long long)((now_ms() - ct->llm_started_ms + 500) / 1000));
        gw_chat_turn_llm_failed(ct->turn, "timeout", msg, 0);
        break;
    case GW_HTTPC_ETOOLARGE:
        gw_chat_turn_llm_failed(ct->turn, "malformed", "The language model's answer was larger "
                                                       "than the gateway accepts; it was not "
                                                       "used.", 0);
        break;
    default:
        snprintf(msg, sizeof(msg), "The language model service cannot be reached (%s). Try "
                                   "again later, or tell your administrator.",
                 gw_httpc_status_name(resp->status));
        gw_chat_turn_llm_failed(ct->turn, "provider_down", msg, 0);
    }
}

static void env_llm_start(void *env, struct gw_chat_turn *t, const json_t *messages)
{
    (void)t;
    struct chat_turn *ct = env;
    struct gw_chat *chat = ct->chat;
    if (chat->provider == GW_LLM_NONE) {
        fail_soon(ct, "not_configured", "No language model is configured for this gateway, so "
                                        "the assistant cannot answer. An administrator sets "
                                        "GW_CHAT_PROVIDER, GW_CHAT_MODEL and the provider key "
                                        "(docs/chat.md).");
        return;
    }
    json_t *window = gw_chat_history_window(messages, chat->history_messages);
    struct gw_llm_request_opts o = {chat->provider, chat->model, ct->system, chat->max_tokens,
                                    8192};
    json_t *body = gw_llm_build_request(&o, window, ct->tools);
    json_decref(window);
    gw_free(ct->llm_body);
    ct->llm_body = gw_json_dumps(body);
    json_decref(body);
    ct->llm_body_len = ct->llm_body ? strlen(ct->llm_body) : 0;
    ct->llm_attempts = 0;
    struct gw_error err = {0};
    if (!ct->llm_body || llm_submit(ct, &err) != GW_OK) {
        GW_LOG(GW_LOG_ERROR, "chat", "cannot ask the model: %s", err.msg);
        fail_soon(ct, "provider_down", "The language model could not be asked (the gateway's "
                                       "provider settings are invalid). Tell your "
                                       "administrator.");
    }
}

static void tool_done_cb(void *arg, json_t *response)
{
    struct tool_slot *s = arg;
    s->call = NULL;
    gw_chat_turn_tool_done(s->ct->turn, s->slot, response);
}

static void tool_refused(void *arg)
{
    struct tool_slot *s = arg;
    gw_chat_turn_tool_done(s->ct->turn, s->slot, NULL);
}

static void env_tool_start(void *env, struct gw_chat_turn *t, size_t slot, const char *name,
                           const json_t *args, const char *request_state,
                           const json_t *input_responses)
{
    (void)t;
    struct chat_turn *ct = env;
    json_t *params = json_pack("{s:s,s:O}", "name", name, "arguments",
                               args ? (json_t *)args : json_object());
    if (request_state)
        json_object_set_new(params, "requestState", json_string(request_state));
    if (input_responses)
        json_object_set(params, "inputResponses", (json_t *)input_responses);
    struct tool_slot *s = &ct->slots[slot < GW_LLM_MAX_TOOL_CALLS ? slot : 0];
    s->ct = ct;
    s->slot = slot;
    struct gw_ctx *dc = gw_ctx_derive(ct->ctx); /* a fresh decision record per call */
    int rc = gw_mcp_server_call(ct->chat->mcp, dc, "tools/call", params, tool_done_cb, s,
                                &s->call);
    gw_ctx_unref(dc);
    json_decref(params);
    if (rc != GW_OK) {
        /* cannot happen with an authenticated context on this loop; answered as "no answer",
         * from the loop (never from inside tool_start) */
        GW_LOG(GW_LOG_ERROR, "chat", "internal tools/call refused (%d)", rc);
        s->call = NULL;
        if (gw_loop_post(gw_worker_loop(ct->cw->w), tool_refused, s) != GW_OK)
            GW_LOG(GW_LOG_ERROR, "chat", "the worker is stopping: call %zu dropped", slot);
    }
}

static const struct gw_chat_turn_ops turn_ops = {env_llm_start, env_tool_start, env_emit,
                                                 env_finished};

/* Cancels everything outstanding and ends the turn with `kind`/`msg`. */
static void turn_abort(struct chat_turn *ct, const char *kind, const char *msg)
{
    if (ct->llm_call) {
        gw_httpc_cancel(ct->llm_call);
        ct->llm_call = NULL;
    }
    if (ct->retry_timer)
        event_del(ct->retry_timer);
    if (ct->stall)
        event_del(ct->stall);
    if (ct->soon)
        event_del(ct->soon);
    for (size_t i = 0; i < GW_LLM_MAX_TOOL_CALLS; i++) {
        if (ct->slots[i].call) {
            gw_mcp_call_cancel(ct->slots[i].call);
            ct->slots[i].call = NULL;
        }
    }
    if (ct->list_call) {
        gw_mcp_call_cancel(ct->list_call);
        ct->list_call = NULL;
    }
    if (ct->turn) {
        gw_chat_turn_abort(ct->turn, kind, msg);
        return;
    }
    /* not started yet (tools/list under way): report and close without a turn */
    json_t *ev = json_pack("{s:s,s:s}", "kind", kind, "message", msg);
    sse_write(ct, "error", ev);
    json_decref(ev);
    turn_end_stream(ct);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct chat_turn *ct = arg;
    if (ct->saving)
        return;
    char msg[256];
    snprintf(msg, sizeof(msg), "This request took longer than the %d s a turn may take, so I "
                               "stopped. What was done so far is shown above; ask me to "
                               "continue if needed.", ct->chat->turn_timeout_s);
    turn_abort(ct, "timeout", msg);
}

static void keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct chat_turn *ct = arg;
    if (ct->stream_started && !ct->client_gone &&
        !gw_http_stream_write(ct->r, ": keep-alive\n\n", 14))
        ct->client_gone = true;
}

/* ---- starting: tools/list, then the agent ---- */

static void turn_go(struct chat_turn *ct)
{
    struct gw_chat *chat = ct->chat;
    json_t *messages = json_incref(json_object_get(ct->conv, "messages"));
    json_t *pending = json_object_get(ct->conv, "pending");
    pending = json_is_object(pending) ? json_deep_copy(pending) : NULL;
    json_t *probe = json_deep_copy(messages);
    if (!ct->is_answer)
        json_array_append_new(probe, json_pack("{s:s,s:s}", "role", "user", "content",
                                               ct->user_text));
    ct->tools = gw_chat_select_tools(ct->tools_all, probe, chat->max_tools);
    json_decref(probe);
    ct->turn = gw_chat_turn_new(&turn_ops, ct, json_deep_copy(messages), pending,
                                chat->max_steps);
    json_decref(messages);
    int rc = ct->is_answer ? gw_chat_turn_answer(ct->turn, ct->call_id, ct->accept)
                           : gw_chat_turn_start(ct->turn, ct->user_text);
    if (rc != GW_OK) /* checked before the stream began; kept for safety */
        turn_abort(ct, "conflict", "This conversation cannot go on from here (a confirmation "
                                   "is pending or was already answered).");
}

static void list_page(struct chat_turn *ct, const char *cursor);

static void list_done(void *arg, json_t *response)
{
    struct chat_turn *ct = arg;
    ct->list_call = NULL;
    json_t *res = json_object_get(response, "result");
    json_t *tools = json_object_get(res, "tools");
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t)
    {
        if (json_array_size(ct->tools_all) < 2000)
            json_array_append(ct->tools_all, t);
    }
    const char *next = gw_json_str(res, "nextCursor");
    if (!res)
        GW_LOG(GW_LOG_WARN, "chat", "tools/list for the agent failed: %s",
               gw_json_str(json_object_get(response, "error"), "message")
                   ? gw_json_str(json_object_get(response, "error"), "message")
                   : "no answer");
    if (next && *next && ++ct->list_pages < TOOLS_PAGES_MAX) {
        list_page(ct, next);
        return;
    }
    turn_go(ct);
}

static void list_page(struct chat_turn *ct, const char *cursor)
{
    json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : json_object();
    int rc = gw_mcp_server_call(ct->chat->mcp, ct->ctx, "tools/list", params, list_done, ct,
                                &ct->list_call);
    json_decref(params);
    if (rc != GW_OK) {
        ct->list_call = NULL;
        turn_go(ct); /* without tools: the model says it cannot act */
    }
}

/* The conversation is loaded (loop): check it, start the stream and the turn. */
static void load_done(struct chat_job *j)
{
    struct chat_turn *ct = j->turn;
    struct gw_http_req *r = ct->r;
    if (j->rc != GW_OK) {
        reply_job_error(r, j);
        ct->r = NULL;
        turn_free(ct);
        return;
    }
    ct->conv = json_incref(j->result);
    ct->version = json_integer_value(json_object_get(ct->conv, "version"));
    json_t *pending = json_object_get(ct->conv, "pending");
    if (ct->is_answer) {
        bool found = false;
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(pending, "calls"), i, c)
        {
            const char *id = gw_json_str(c, "id");
            const char *st = gw_json_str(c, "state");
            found = found || (id && st && !strcmp(id, ct->call_id) && !strcmp(st, "waiting"));
        }
        if (!found) {
            reply_error(r, 409, "conflict", "no confirmation of this call is pending (it was "
                                            "answered already, or never asked)");
            ct->r = NULL;
            turn_free(ct);
            return;
        }
    } else if (json_is_object(pending)) {
        reply_error(r, 409, "confirmation_pending",
                    "a confirmation is pending in this conversation: answer it first");
        ct->r = NULL;
        turn_free(ct);
        return;
    }
    if (!ct->is_answer && json_array_size(json_object_get(ct->conv, "messages")) == 0) {
        make_title(ct->user_text, ct->title, sizeof(ct->title));
        ct->set_title = true;
    }
    gw_http_add_header(r, "Cache-Control", "no-store");
    gw_http_add_header(r, "X-Accel-Buffering", "no");
    gw_http_set_close_cb(r, on_client_close, ct);
    gw_http_stream_begin(r, 200, "text/event-stream");
    ct->stream_started = true;
    turn_list_add(ct);
    struct event_base *base = gw_worker_base(ct->cw->w);
    ct->deadline_ms = now_ms() + (int64_t)ct->chat->turn_timeout_s * 1000;
    ct->deadline = evtimer_new(base, deadline_cb, ct);
    struct timeval tv = {ct->chat->turn_timeout_s, 0};
    evtimer_add(ct->deadline, &tv);
    ct->keepalive = event_new(base, -1, EV_PERSIST, keepalive_cb, ct);
    struct timeval ka = {KEEPALIVE_S, 0};
    evtimer_add(ct->keepalive, &ka);
    json_t *ev = json_pack("{s:s,s:s,s:s}", "conversation", ct->id, "provider",
                           gw_llm_provider_name(ct->chat->provider), "model", ct->chat->model);
    sse_write(ct, "turn", ev);
    json_decref(ev);
    if (ct->cw->draining) {
        turn_abort(ct, "shutdown", "The gateway is restarting; try again in a moment.");
        return;
    }
    ct->tools_all = json_array();
    list_page(ct, NULL);
}

/* POST .../messages and .../confirm (loop, authenticated). */
static void start_turn(struct gw_chat *chat, struct gw_http_req *r, struct gw_ctx *ctx,
                       const char *owner, const char *id, bool answer)
{
    struct chat_worker *cw = worker_of(chat, r);
    if (!cw || !cw->httpc) {
        reply_error(r, 503, "unavailable", "the chat is not available on this worker");
        return;
    }
    if (cw->draining) {
        gw_http_add_header(r, "Retry-After", "2");
        reply_error(r, 503, "unavailable", "the gateway is restarting; try again in a moment");
        return;
    }
    size_t len = 0;
    const char *body = gw_http_body(r, &len);
    struct gw_json_limits lim = {BODY_MAX, 16};
    struct gw_error err = {0};
    json_t *in = len ? gw_json_parse(body, len, &lim, &err) : NULL;
    if (!json_is_object(in)) {
        json_decref(in);
        reply_error(r, 400, "invalid", err.msg[0] ? err.msg : "the body must be a JSON object");
        return;
    }
    struct chat_turn *ct = gw_xcalloc(1, sizeof(*ct));
    ct->chat = chat;
    ct->cw = cw;
    ct->r = r;
    ct->ctx = gw_ctx_ref(ctx);
    snprintf(ct->owner, sizeof(ct->owner), "%s", owner);
    snprintf(ct->id, sizeof(ct->id), "%s", id);
    const char *bad = NULL;
    if (answer) {
        const char *cid = gw_json_str(in, "call_id");
        json_t *acc = json_object_get(in, "accept");
        if (!cid || !*cid || strlen(cid) > GW_LLM_ID_MAX || !json_is_boolean(acc))
            bad = "expected {\"call_id\": \"...\", \"accept\": true|false}";
        else {
            snprintf(ct->call_id, sizeof(ct->call_id), "%s", cid);
            ct->accept = json_is_true(acc);
            ct->is_answer = true;
        }
    } else {
        const char *text = gw_json_str(in, "content");
        size_t n = text ? strlen(text) : 0;
        size_t k = 0;
        while (k < n && (text[k] == ' ' || text[k] == '\n' || text[k] == '\t' || text[k] == '\r'))
            k++;
        if (!text || k == n)
            bad = "expected {\"content\": \"your message\"}";
        else if (n > chat->max_message_bytes)
            bad = "the message is too long (GW_CHAT_MAX_MESSAGE_BYTES)";
        else
            ct->user_text = gw_xstrdup(text);
    }
    json_decref(in);
    if (bad) {
        reply_error(r, 400, "invalid", bad);
        gw_ctx_unref(ct->ctx);
        gw_free(ct);
        return;
    }
    char sysuser[300];
    const struct gw_principal *p = gw_ctx_principal(ctx);
    snprintf(sysuser, sizeof(sysuser), "%s", p && p->name[0] ? p->name : p ? p->subject : "");
    ct->system = gw_chat_system_prompt(chat->prompt_tmpl, gw_clock_now(), chat->tz_offset_min,
                                       sysuser);
    struct chat_job *j = job_new(chat, r, J_LOAD, owner, id);
    j->turn = ct;
    j->done = load_done;
    if (job_submit(j) != GW_OK) {
        job_free(j);
        ct->r = NULL;
        turn_free(ct);
        gw_http_add_header(r, "Retry-After", "1");
        reply_error(r, 503, "busy", "the chat is busy: retry shortly");
    }
}

/* ================================================================ routing */

static void dispatch(struct gw_chat *chat, struct gw_http_req *r, struct gw_ctx *ctx,
                     enum gw_chat_route route, const char *id)
{
    char owner[65];
    const struct gw_principal *p = gw_ctx_principal(ctx);
    gw_chat_owner_key(p, owner);
    enum gw_http_method m = gw_http_method(r);
    if (route == GW_CHAT_R_ME) {
        json_t *v = gw_principal_json(p);
        reply_json(r, 200, v);
        json_decref(v);
        return;
    }
    if (route == GW_CHAT_R_MESSAGES || route == GW_CHAT_R_CONFIRM) {
        start_turn(chat, r, ctx, owner, id, route == GW_CHAT_R_CONFIRM);
        return;
    }
    struct chat_job *j = NULL;
    if (route == GW_CHAT_R_CONVERSATIONS && m == GW_HTTP_GET) {
        j = job_new(chat, r, J_LIST, owner, NULL);
    } else if (route == GW_CHAT_R_CONVERSATIONS) {
        char cid[33];
        new_id(cid);
        j = job_new(chat, r, J_CREATE, owner, cid);
        snprintf(j->title, sizeof(j->title), "New conversation");
        size_t len = 0;
        const char *body = gw_http_body(r, &len);
        if (len) {
            struct gw_json_limits lim = {BODY_MAX, 8};
            json_t *in = gw_json_parse(body, len, &lim, NULL);
            const char *title = gw_json_str(in, "title");
            if (!json_is_object(in) || (json_object_get(in, "title") && !title)) {
                json_decref(in);
                job_free(j);
                reply_error(r, 400, "invalid", "expected {\"title\"?: \"...\"}");
                return;
            }
            if (title && *title)
                make_title(title, j->title, sizeof(j->title));
            json_decref(in);
        }
    } else if (m == GW_HTTP_GET) {
        j = job_new(chat, r, J_GET, owner, id);
    } else {
        j = job_new(chat, r, J_DELETE, owner, id);
    }
    j->done = crud_done;
    if (job_submit(j) != GW_OK) {
        job_free(j);
        gw_http_add_header(r, "Retry-After", "1");
        reply_error(r, 503, "busy", "the chat is busy: retry shortly");
    }
}

struct chat_wait {
    struct gw_chat *chat;
    struct gw_http_req *r;
    enum gw_chat_route route;
    char id[65];
};

static void authenticated(struct gw_ctx *ctx, void *arg)
{
    struct chat_wait *w = arg;
    const struct gw_auth_failure *f = gw_ctx_auth_failure(ctx);
    if (f) {
        if (f->challenge[0])
            gw_http_add_header(w->r, "WWW-Authenticate", f->challenge);
        const char *code;
        int st = gw_auth_failure_http(f, &code);
        reply_error(w->r, st, code, f->description[0] ? f->description : "sign in first");
    } else {
        dispatch(w->chat, w->r, ctx, w->route, w->id);
    }
    gw_ctx_unref(ctx);
}

static bool method_ok(enum gw_chat_route route, enum gw_http_method m, const char **allow)
{
    switch (route) {
    case GW_CHAT_R_CONFIG:
    case GW_CHAT_R_ME:
        *allow = "GET";
        return m == GW_HTTP_GET;
    case GW_CHAT_R_CONVERSATIONS:
        *allow = "GET, POST";
        return m == GW_HTTP_GET || m == GW_HTTP_POST;
    case GW_CHAT_R_CONVERSATION:
        *allow = "GET, DELETE";
        return m == GW_HTTP_GET || m == GW_HTTP_DELETE;
    case GW_CHAT_R_MESSAGES:
    case GW_CHAT_R_CONFIRM:
        *allow = "POST";
        return m == GW_HTTP_POST;
    default:
        *allow = "";
        return false;
    }
}

static void chat_handle(struct gw_http_req *r, void *arg)
{
    struct gw_chat *chat = arg;
    enum gw_chat_route route;
    char id[65];
    if (gw_chat_route(gw_http_path(r), &route, id) != GW_OK) {
        reply_error(r, 404, "not_found", "no such chat endpoint");
        return;
    }
    const char *allow;
    if (!method_ok(route, gw_http_method(r), &allow)) {
        gw_http_add_header(r, "Allow", allow);
        reply_error(r, 405, "method_not_allowed", "method not allowed on this endpoint");
        return;
    }
    if (route == GW_CHAT_R_CONFIG) {
        gw_http_add_header(r, "Cache-Control", "no-store");
        gw_http_reply(r, 200, "application/json", chat->config_text, strlen(chat->config_text));
        return;
    }
    size_t blen = 0;
    (void)gw_http_body(r, &blen);
    if (blen || route == GW_CHAT_R_MESSAGES || route == GW_CHAT_R_CONFIRM) {
        /* bodies are JSON (the credential is a header, so there is no ambient authority for a
         * cross-site form to borrow; this is hygiene) */
        const char *ct = gw_http_header(r, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            reply_error(r, 415, "unsupported_media_type", "send application/json");
            return;
        }
    }
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_INTERNAL,
                             .loop = gw_worker_loop(gw_http_worker(r)),
                             .peer = gw_http_peer(r),
                             .request_id = gw_http_request_id(r),
                             .trace_id = gw_http_trace_id(r),
                             .credential = gw_http_header(r, "Authorization")};
    struct gw_ctx *ctx = gw_ctx_new(&ci);
    gw_ctx_set_method(ctx, "chat");
    if (!chat->authn.ops) {
        gw_ctx_set_principal(ctx, gw_principal_anonymous());
        dispatch(chat, r, ctx, route, id);
        gw_ctx_unref(ctx);
        return;
    }
    struct chat_wait *w = gw_arena_alloc(gw_http_arena(r), sizeof(*w));
    if (!w) {
        gw_ctx_unref(ctx);
        reply_error(r, 503, "unavailable", "out of memory");
        return;
    }
    w->chat = chat;
    w->r = r;
    w->route = route;
    snprintf(w->id, sizeof(w->id), "%s", id);
    if (chat->authn.ops->authenticate(chat->authn.self, ctx, authenticated, w) != GW_AGAIN)
        authenticated(ctx, w);
}

/* ================================================================ workers */

static int worker_start(struct gw_worker *w, void *arg)
{
    struct gw_chat *chat = arg;
    int id = gw_worker_id(w);
    if (id < 0 || id >= chat->nworkers)
        return GW_OK;
    struct chat_worker *cw = &chat->workers[id];
    cw->chat = chat;
    cw->w = w;
    struct gw_error err = {0};
    struct gw_httpc_options o = {0};
    o.max_host_connections = 64;
    cw->httpc = gw_httpc_new(gw_worker_base(w), &o, &err);
    if (!cw->httpc) {
        GW_LOG(GW_LOG_ERROR, "chat", "worker %d: %s", id, err.msg);
        return GW_ERR;
    }
    return GW_OK;
}

static int worker_stop(struct gw_worker *w, void *arg)
{
    struct gw_chat *chat = arg;
    int id = gw_worker_id(w);
    if (id < 0 || id >= chat->nworkers)
        return GW_OK;
    struct chat_worker *cw = &chat->workers[id];
    while (cw->turns) { /* only when the grace period expired: drop what is left */
        struct chat_turn *ct = cw->turns;
        GW_LOG(GW_LOG_WARN, "chat", "turn of %s dropped at shutdown", ct->id);
        turn_list_remove(ct);
    }
    gw_httpc_free(cw->httpc);
    cw->httpc = NULL;
    return GW_OK;
}

static void worker_drain(struct gw_worker *w, void *arg)
{
    struct gw_chat *chat = arg;
    int id = gw_worker_id(w);
    if (id < 0 || id >= chat->nworkers)
        return;
    struct chat_worker *cw = &chat->workers[id];
    cw->draining = true;
    struct chat_turn *ct = cw->turns;
    while (ct) {
        struct chat_turn *next = ct->next;
        if (!ct->saving)
            turn_abort(ct, "shutdown", "The gateway is restarting, so this turn was stopped; "
                                       "what was done so far is kept. Try again in a moment.");
        ct = next;
    }
}

/* ================================================================ attach */

static char *read_small_file(const char *path, size_t max, struct gw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        GW_ERROR_SET(err, GW_EINVAL, "cannot open %s", path);
        return NULL;
    }
    char *buf = gw_xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    fclose(f);
    if (n > max) {
        gw_free(buf);
        GW_ERROR_SET(err, GW_EINVAL, "%s is larger than %zu bytes", path, max);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static char *trim_key(char *k)
{
    char *s = k;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    char *out = gw_xstrndup(s, n);
    explicit_bzero(k, strlen(k));
    gw_free(k);
    return out;
}

static void chat_release(struct gw_chat *chat)
{
    if (chat->api_key) {
        explicit_bzero(chat->api_key, strlen(chat->api_key));
        gw_free(chat->api_key);
    }
    gw_free(chat->prompt_tmpl);
    gw_free(chat->config_text);
    gw_free(chat->workers);
    gw_free(chat);
}

int gw_chat_attach(struct gw_server *http, const struct gw_chat_config *cfg,
                   struct gw_chat **out, struct gw_error *err)
{
    *out = NULL;
    const struct gw_settings *s = cfg->settings;
    if (!gw_settings_bool(s, "GW_CHAT_ENABLED"))
        return GW_DECLINED;
    if (!cfg->store_url || !cfg->mcp)
        return GW_ERROR_SET(err, GW_EINVAL, "chat: no database or protocol server");
    struct gw_chat *chat = gw_xcalloc(1, sizeof(*chat));
    chat->provider = gw_llm_provider_parse(gw_settings_str(s, "GW_CHAT_PROVIDER"));
    snprintf(chat->model, sizeof(chat->model), "%s", gw_settings_str(s, "GW_CHAT_MODEL"));
    const char *base = gw_settings_str(s, "GW_CHAT_BASE_URL");
    if (!*base)
        base = chat->provider == GW_LLM_ANTHROPIC ? "https://api.anthropic.com/v1"
                                                  : "https://api.openai.com/v1";
    snprintf(chat->base_url, sizeof(chat->base_url), "%s", base);
    size_t bl = strlen(chat->base_url);
    while (bl && chat->base_url[bl - 1] == '/')
        chat->base_url[--bl] = '\0';
    if (strncmp(chat->base_url, "http://", 7) != 0 && strncmp(chat->base_url, "https://", 8) != 0) {
        chat_release(chat);
        return GW_ERROR_SET(err, GW_EINVAL, "GW_CHAT_BASE_URL must be an http:// or https:// "
                                            "URL");
    }
    if (chat->provider != GW_LLM_NONE && !chat->model[0]) {
        chat_release(chat);
        return GW_ERROR_SET(err, GW_EINVAL, "GW_CHAT_PROVIDER=%s needs GW_CHAT_MODEL",
                            gw_llm_provider_name(chat->provider));
    }
    const char *kf = gw_settings_str(s, "GW_CHAT_API_KEY_FILE");
    if (*kf) {
        char *k = read_small_file(kf, KEY_MAX - 1, err);
        if (!k) {
            chat_release(chat);
            return GW_EINVAL;
        }
        chat->api_key = trim_key(k);
    } else if (*gw_settings_str(s, "GW_CHAT_API_KEY")) {
        chat->api_key = gw_xstrdup(gw_settings_str(s, "GW_CHAT_API_KEY"));
    }
    if (chat->api_key && strpbrk(chat->api_key, "\r\n")) {
        chat_release(chat);
        return GW_ERROR_SET(err, GW_EINVAL, "the provider key contains a line break");
    }
    const char *pf = gw_settings_str(s, "GW_CHAT_SYSTEM_PROMPT_FILE");
    if (*pf) {
        chat->prompt_tmpl = read_small_file(pf, PROMPT_FILE_MAX, err);
        if (!chat->prompt_tmpl) {
            chat_release(chat);
            return GW_EINVAL;
        }
    }
    snprintf(chat->ca_file, sizeof(chat->ca_file), "%s", gw_settings_str(s, "GW_CHAT_CA_FILE"));
    chat->max_tokens = (long)gw_settings_int(s, "GW_CHAT_MAX_TOKENS");
    chat->max_steps = (int)gw_settings_int(s, "GW_CHAT_MAX_STEPS");
    chat->turn_timeout_s = (int)gw_settings_int(s, "GW_CHAT_TURN_TIMEOUT_SECONDS");
    chat->llm_timeout_s = (int)gw_settings_int(s, "GW_CHAT_LLM_TIMEOUT_SECONDS");
    chat->stall_s = (int)gw_settings_int(s, "GW_CHAT_LLM_STALL_SECONDS");
    chat->retries = (int)gw_settings_int(s, "GW_CHAT_LLM_RETRIES");
    chat->retry_max_wait_s = (int)gw_settings_int(s, "GW_CHAT_RETRY_MAX_WAIT_SECONDS");
    chat->max_tools = (size_t)gw_settings_int(s, "GW_CHAT_MAX_TOOLS");
    chat->history_messages = (size_t)gw_settings_int(s, "GW_CHAT_HISTORY_MESSAGES");
    chat->max_conversations = gw_settings_int(s, "GW_CHAT_MAX_CONVERSATIONS");
    chat->retention_days = (int)gw_settings_int(s, "GW_CHAT_RETENTION_DAYS");
    chat->max_message_bytes = (size_t)gw_settings_int(s, "GW_CHAT_MAX_MESSAGE_BYTES");
    chat->tz_offset_min = (int)gw_settings_int(s, "GW_CHAT_TIMEZONE_OFFSET_MINUTES");
    chat->mcp = cfg->mcp;
    chat->authn = cfg->authn;
    if (chat->provider == GW_LLM_NONE)
        snprintf(chat->describe, sizeof(chat->describe), "no language model configured "
                                                         "(GW_CHAT_PROVIDER=none)");
    else
        snprintf(chat->describe, sizeof(chat->describe), "%s model %s at %s%s",
                 gw_llm_provider_name(chat->provider), chat->model, chat->base_url,
                 chat->api_key ? "" : " (no API key)");
    /* the public configuration the page reads before signing in */
    json_t *auth = cfg->auth_config ? json_deep_copy(cfg->auth_config) : json_null();
    const char *cid = gw_settings_str(s, "GW_CHAT_OIDC_CLIENT_ID");
    json_t *oidc = json_object_get(auth, "oidc");
    if (*cid && json_is_object(oidc))
        json_object_set_new(oidc, "client_id", json_string(cid));
    json_t *conf = json_pack("{s:s,s:s,s:b,s:o,s:i}", "provider",
                             gw_llm_provider_name(chat->provider), "model", chat->model,
                             "configured", chat->provider != GW_LLM_NONE, "auth", auth,
                             "max_message_bytes", (int)chat->max_message_bytes);
    chat->config_text = gw_json_dumps(conf);
    json_decref(conf);
    chat->nworkers = gw_server_worker_count(http);
    chat->workers = gw_xcalloc((size_t)(chat->nworkers > 0 ? chat->nworkers : 1),
                               sizeof(struct chat_worker));
    gw_store_per_thread_init(&chat->stores, cfg->store_url, cfg->store_opts);
    chat->pool = gw_pool_new(POOL_THREADS, POOL_QUEUE);
    if (chat->retention_days > 0) {
        char what[96];
        snprintf(what, sizeof(what), "chat conversations not written to for %d days",
                 chat->retention_days);
        chat->janitor = gw_store_janitor_start(cfg->store_url, what, gw_store_chat_purge,
                                               chat->retention_days, 3600);
    }
    gw_server_on_worker(http, worker_start, worker_stop, chat);
    gw_server_on_drain(http, worker_drain, chat);
    gw_server_route(http, "/chat/api/*", chat_handle, chat);
    *out = chat;
    return GW_OK;
}

const char *gw_chat_describe(const struct gw_chat *c)
{
    return c ? c->describe : "chat disabled";
}

void gw_chat_free(struct gw_chat *c)
{
    if (!c)
        return;
    gw_store_janitor_stop(c->janitor);
    gw_pool_free(c->pool);
    gw_store_per_thread_fini(&c->stores);
    chat_release(c);
}
