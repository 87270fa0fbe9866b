/*
 * src/kv/kv_conn.c
 * One asynchronous Redis connection driven by one event loop (hiredis, through kv_adapter.c).
 *
 *   DOWN --retry timer--> CONNECTING --init replies OK--> READY
 *     ^                       |  connect error / connect timeout / init error
 *     +-----------------------+
 *     +---- READY: server closed (EOF, error) or a command missed its deadline
 *
 * conn_connect() starts a non-blocking connect to a numeric address (resolved off the loop)
 * and queues the init commands (AUTH, SELECT, SCRIPT LOAD of every registered script, PING);
 * their replies make the connection READY (on_reply, internal requests). conn_drop() tears a
 * connection down: hiredis calls every pending callback with a NULL reply, which fails the
 * caller's request with c->fail_rc (GW_ETIMEOUT for a missed deadline, GW_EIO otherwise).
 * Invariants: (1) every accepted command gets exactly one callback; (2) the pending list is in
 * send order, so its head has the earliest deadline and one lazy timer checks it; (3) while
 * DOWN (or CONNECTING after a failed attempt) commands are refused at once: a dead Redis costs
 * a caller nothing but a failed check; (4) nothing here blocks: the address is numeric.
 * Threading: everything runs on the connection's loop thread.
 */
#include "kv/kv_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "net/net_loop.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum conn_state { CS_DOWN, CS_CONNECTING, CS_READY };

struct kv_req {
    struct kv_req *prev, *next;
    struct gw_kv_conn *c;
    gw_kv_reply_fn fn;
    void *arg;
    uint64_t deadline_ms;
    const struct gw_kv_script *script; /* EVALSHA: kept for the NOSCRIPT retry */
    int argc;
    char **argv;     /* owned copy (scripts only) */
    size_t *argvlen;
    bool internal;   /* an init command */
    bool retried;
};

struct gw_kv_conn {
    struct gw_kv *kv;
    struct gw_loop *loop;
    struct event_base *base;
    redisAsyncContext *ac;
    enum conn_state state;
    bool accepting;     /* commands accepted while CONNECTING */
    bool was_ready;     /* has been READY at least once */
    struct kv_req *head, *tail;
    size_t npending;
    int init_left;
    bool init_failed;
    int fail_rc;
    struct event *deadline_ev, *retry_ev, *connect_ev;
    int backoff_ms;
    uint64_t last_warn_ms;
    void (*on_ready)(void *ud);
    void *ready_ud;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_timer(struct event *ev, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    event_add(ev, &tv);
}

/* ---------- replies ---------- */

enum gw_kv_type gw_kv_reply_type(const struct gw_kv_reply *r)
{
    const redisReply *x = (const redisReply *)(const void *)r;
    if (!x)
        return GW_KV_NIL;
    switch (x->type) {
    case REDIS_REPLY_INTEGER: return GW_KV_INT;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return GW_KV_STR;
    case REDIS_REPLY_ARRAY: return GW_KV_ARRAY;
    case REDIS_REPLY_ERROR: return GW_KV_ERROR;
    default: return GW_KV_NIL;
    }
}

long long gw_kv_reply_int(const struct gw_kv_reply *r)
{
    const redisReply *x = (const redisReply *)(const void *)r;
    return x && x->type == REDIS_REPLY_INTEGER ? x->integer : 0;
}

const char *gw_kv_reply_str(const struct gw_kv_reply *r, size_t *len)
{
    const redisReply *x = (const redisReply *)(const void *)r;
    if (x && (x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS ||
              x->type == REDIS_REPLY_ERROR) && x->str) {
        if (len)
            *len = x->len;
        return x->str;
    }
    if (len)
        *len = 0;
    return "";
}

size_t gw_kv_reply_count(const struct gw_kv_reply *r)
{
    const redisReply *x = (const redisReply *)(const void *)r;
    return x && x->type == REDIS_REPLY_ARRAY ? x->elements : 0;
}

const struct gw_kv_reply *gw_kv_reply_at(const struct gw_kv_reply *r, size_t i)
{
    const redisReply *x = (const redisReply *)(const void *)r;
    if (!x || x->type != REDIS_REPLY_ARRAY || i >= x->elements)
        return NULL;
    return (const struct gw_kv_reply *)(const void *)x->element[i];
}

long long gw_kv_reply_int_at(const struct gw_kv_reply *r, size_t i)
{
    return gw_kv_reply_int(gw_kv_reply_at(r, i));
}

/* ---------- the pending list ---------- */

static void link_tail(struct gw_kv_conn *c, struct kv_req *q)
{
    q->next = NULL;
    q->prev = c->tail;
    if (c->tail)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    c->npending++;
    if (!event_pending(c->deadline_ev, EV_TIMEOUT, NULL))
        set_timer(c->deadline_ev, (uint64_t)c->kv->command_timeout_ms);
}

static void unlink_req(struct gw_kv_conn *c, struct kv_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        c->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        c->tail = q->prev;
    q->prev = q->next = NULL;
    c->npending--;
}

static void req_free(struct kv_req *q)
{
    gw_free(q->argv); /* argv, argvlen and the strings are one block */
    gw_free(q);
}

/* ---------- state ---------- */

static void enter_ready(struct gw_kv_conn *c)
{
    c->state = CS_READY;
    c->accepting = true;
    c->backoff_ms = 0;
    event_del(c->connect_ev);
    atomic_fetch_add(&c->kv->loops_ready, 1);
    atomic_fetch_add(&c->kv->connects, 1);
    if (c->was_ready || c->last_warn_ms)
        GW_LOG(GW_LOG_INFO, "kv", "Redis %s: connected", gw_kv_url_shown(c->kv));
    c->was_ready = true;
    c->last_warn_ms = 0;
    if (c->on_ready)
        c->on_ready(c->ready_ud);
}

static void leave_ready(struct gw_kv_conn *c)
{
    if (c->state == CS_READY)
        atomic_fetch_sub(&c->kv->loops_ready, 1);
}

static void schedule_retry(struct gw_kv_conn *c)
{
    int next = c->backoff_ms ? c->backoff_ms * 2 : 50;
    if (next > c->kv->reconnect_max_ms)
        next = c->kv->reconnect_max_ms;
    c->backoff_ms = next;
    set_timer(c->retry_ev, (uint64_t)next);
}

/* Tears the connection down; pending requests fail with rc (through on_reply). */
static void conn_drop(struct gw_kv_conn *c, int rc)
{
    redisAsyncContext *ac = c->ac;
    if (!ac)
        return;
    leave_ready(c);
    c->state = CS_DOWN;
    c->ac = NULL;
    event_del(c->connect_ev);
    ac->onDisconnect = NULL;
    ac->onConnect = NULL;
    ac->data = NULL;
    c->fail_rc = rc;
    redisAsyncFree(ac); /* runs the pending callbacks (now, or after the current one) */
    c->fail_rc = GW_EIO;
}

static void warn_down(struct gw_kv_conn *c, const char *what, const char *detail)
{
    uint64_t now = now_ms();
    if (!c->last_warn_ms || now - c->last_warn_ms > 30000) {
        GW_LOG(GW_LOG_WARN, "kv", "Redis %s: %s%s%s", gw_kv_url_shown(c->kv), what,
               detail ? ": " : "", detail ? detail : "");
        c->last_warn_ms = now;
    } else {
        GW_LOG(GW_LOG_DEBUG, "kv", "Redis %s: %s%s%s", gw_kv_url_shown(c->kv), what,
               detail ? ": " : "", detail ? detail : "");
    }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv);

/* Appends the decimal form of v. */
static char *put_num(char *p, size_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Formats a command in RESP ("*N\r\n$len\r\narg\r\n...") with memcpy: hiredis's own
 * formatter (sdscatfmt per argument) costs several thousand instructions per command. */
static int format_cmd(int argc, const char **argv, const size_t *lens, char *stack, size_t cap,
                      char **out, size_t *out_len)
{
    size_t need = 16;
    for (int i = 0; i < argc; i++)
        need += (lens ? lens[i] : strlen(argv[i])) + 28;
    char *buf = need <= cap ? stack : gw_xmalloc(need);
    char *p = buf;
    *p++ = '*';
    p = put_num(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        *p++ = '$';
        p = put_num(p, n);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], n);
        p += n;
        *p++ = '\r';
        *p++ = '\n';
    }
    *out = buf;
    *out_len = (size_t)(p - buf);
    return GW_OK;
}

static int send_req(struct gw_kv_conn *c, struct kv_req *q, int argc, const char **argv,
                    const size_t *lens)
{
    char stack[2048], *cmd = NULL;
    size_t len = 0;
    format_cmd(argc, argv, lens, stack, sizeof(stack), &cmd, &len);
    int rc = redisAsyncFormattedCommand(c->ac, on_reply, q, cmd, len);
    if (cmd != stack)
        gw_free(cmd);
    if (rc != REDIS_OK)
        return GW_EIO;
    q->deadline_ms = now_ms() + (uint64_t)c->kv->command_timeout_ms;
    link_tail(c, q);
    atomic_fetch_add(&c->kv->commands, 1);
    return GW_OK;
}

static void init_cmd(struct gw_kv_conn *c, int argc, const char **argv)
{
    struct kv_req *q = gw_xcalloc(1, sizeof(*q));
    q->c = c;
    q->internal = true;
    if (send_req(c, q, argc, argv, NULL) != GW_OK) {
        req_free(q);
        c->init_failed = true;
        return;
    }
    c->init_left++;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct gw_kv_conn *c = ac->data;
    if (!c || status == REDIS_OK)
        return; /* READY comes with the init replies */
    /* hiredis frees the context after this returns (and fails the pending commands) */
    atomic_fetch_add(&c->kv->connect_failures, 1);
    warn_down(c, "cannot connect", ac->errstr);
    c->ac = NULL;
    c->state = CS_DOWN;
    c->accepting = false;
    event_del(c->connect_ev);
    schedule_retry(c);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct gw_kv_conn *c = ac->data;
    if (!c)
        return;
    bool was = c->state == CS_READY;
    leave_ready(c);
    atomic_fetch_add(&c->kv->disconnects, 1);
    warn_down(c, "connection lost", ac->errstr[0] ? ac->errstr : NULL);
    c->ac = NULL;
    c->state = CS_DOWN;
    c->accepting = was; /* the first reconnection attempt may succeed at once (a restart) */
    event_del(c->connect_ev);
    c->backoff_ms = 0;
    schedule_retry(c);
}

static void conn_connect(struct gw_kv_conn *c)
{
    struct gw_kv *kv = c->kv;
    redisAsyncContext *ac;
    if (kv->unix_path[0]) {
        ac = redisAsyncConnectUnix(kv->unix_path);
    } else {
        char addr[64];
        gw_kv__addr(kv, addr, sizeof(addr));
        ac = redisAsyncConnect(addr, kv->port);
    }
    if (!ac || ac->err) {
        atomic_fetch_add(&kv->connect_failures, 1);
        warn_down(c, "cannot connect", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        c->accepting = false;
        schedule_retry(c);
        return;
    }
    ac->data = c;
    if (gw_kv__attach(ac, c->base) != REDIS_OK) {
        redisAsyncFree(ac);
        schedule_retry(c);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    c->state = CS_CONNECTING;
    c->init_left = 0;
    c->init_failed = false;
    set_timer(c->connect_ev, (uint64_t)kv->connect_timeout_ms);
    /* queued now, sent once the socket connects; replies in this order */
    if (kv->password[0]) {
        if (kv->user[0]) {
            const char *a[] = {"AUTH", kv->user, kv->password};
            init_cmd(c, 3, a);
        } else {
            const char *a[] = {"AUTH", kv->password};
            init_cmd(c, 2, a);
        }
    }
    if (kv->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", kv->db);
        const char *a[] = {"SELECT", db};
        init_cmd(c, 2, a);
    }
    for (int i = 0; i < kv->nscripts; i++) {
        const char *a[] = {"SCRIPT", "LOAD", kv->scripts[i]->lua};
        init_cmd(c, 3, a);
    }
    const char *ping[] = {"PING"};
    init_cmd(c, 1, ping);
    if (c->init_failed && c->ac)
        conn_drop(c, GW_EIO);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_kv_conn *c = arg;
    if (!c->ac)
        conn_connect(c);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_kv_conn *c = arg;
    if (c->state != CS_CONNECTING)
        return;
    atomic_fetch_add(&c->kv->connect_failures, 1);
    warn_down(c, "connect timed out", NULL);
    c->accepting = false;
    conn_drop(c, GW_ETIMEOUT);
    schedule_retry(c);
}

/* The lazy deadline timer: the head of the pending list is the oldest command. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_kv_conn *c = arg;
    if (!c->head)
        return;
    uint64_t now = now_ms();
    if (c->head->deadline_ms > now) {
        set_timer(c->deadline_ev, c->head->deadline_ms - now);
        return;
    }
    atomic_fetch_add(&c->kv->timeouts, 1);
    char msg[96];
    snprintf(msg, sizeof(msg), "no reply within %d ms (GW_REDIS_COMMAND_TIMEOUT_MS)",
             c->kv->command_timeout_ms);
    warn_down(c, "dropping the connection", msg);
    bool was = c->state == CS_READY;
    c->accepting = false;
    conn_drop(c, GW_ETIMEOUT);
    c->backoff_ms = was ? 0 : c->backoff_ms;
    schedule_retry(c);
}

/* ---------- replies ---------- */

static void retry_with_eval(struct gw_kv_conn *c, struct kv_req *q)
{
    /* EVALSHA sha n k... a...  ->  EVAL lua n k... a... (same array, two entries swapped) */
    const char **argv = gw_xmalloc((size_t)q->argc * sizeof(*argv));
    size_t *lens = gw_xmalloc((size_t)q->argc * sizeof(*lens));
    for (int i = 0; i < q->argc; i++) {
        argv[i] = q->argv[i];
        lens[i] = q->argvlen[i];
    }
    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = q->script->lua;
    lens[1] = strlen(q->script->lua);
    q->retried = true;
    atomic_fetch_add(&c->kv->noscript_retries, 1);
    int rc = send_req(c, q, q->argc, argv, lens);
    gw_free(argv);
    gw_free(lens);
    if (rc != GW_OK) {
        q->fn(q->arg, GW_EIO, NULL);
        req_free(q);
    }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct kv_req *q = priv;
    struct gw_kv_conn *c = q->c;
    redisReply *r = reply;
    unlink_req(c, q);
    if (r)
        atomic_fetch_add(&c->kv->replies, 1);
    if (q->internal) {
        if (!r || r->type == REDIS_REPLY_ERROR) {
            if (r) /* AUTH refused, unknown db, script error: fix the configuration */
                GW_LOG(GW_LOG_ERROR, "kv", "Redis %s refused the connection set-up: %.200s",
                       gw_kv_url_shown(c->kv), r->str ? r->str : "");
            c->init_failed = true;
        }
        c->init_left--;
        req_free(q);
        if (c->init_left == 0 && c->ac && c->state == CS_CONNECTING) {
            if (c->init_failed) {
                c->accepting = false;
                conn_drop(c, GW_EIO);
                c->backoff_ms = c->kv->reconnect_max_ms / 2;
                schedule_retry(c);
            } else {
                enter_ready(c);
            }
        }
        return;
    }
    if (r && r->type == REDIS_REPLY_ERROR) {
        atomic_fetch_add(&c->kv->errors, 1);
        if (q->script && !q->retried && c->ac && r->str && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            retry_with_eval(c, q);
            return;
        }
    }
    q->fn(q->arg, r ? GW_OK : c->fail_rc, (const struct gw_kv_reply *)(const void *)r);
    req_free(q);
}

/* ---------- commands ---------- */

static bool accepts(const struct gw_kv_conn *c)
{
    return c && c->ac && (c->state == CS_READY || (c->state == CS_CONNECTING && c->accepting));
}

bool gw_kv_conn_ready(const struct gw_kv_conn *c)
{
    return c && c->state == CS_READY;
}

int gw_kv_cmd(struct gw_kv_conn *c, gw_kv_reply_fn fn, void *arg, int argc, const char **argv,
              const size_t *argvlen)
{
    if (!accepts(c)) {
        if (c)
            atomic_fetch_add(&c->kv->refused, 1);
        return GW_EIO;
    }
    if (c->npending >= c->kv->max_pending) {
        atomic_fetch_add(&c->kv->refused, 1);
        return GW_ELIMIT;
    }
    struct kv_req *q = gw_xcalloc(1, sizeof(*q));
    q->c = c;
    q->fn = fn;
    q->arg = arg;
    if (send_req(c, q, argc, argv, argvlen) != GW_OK) {
        req_free(q);
        atomic_fetch_add(&c->kv->refused, 1);
        return GW_EIO;
    }
    return GW_OK;
}

int gw_kv_eval(struct gw_kv_conn *c, const struct gw_kv_script *s, int nkeys, const char **keys,
               int nargs, const char **args, gw_kv_reply_fn fn, void *arg)
{
    if (!accepts(c)) {
        if (c)
            atomic_fetch_add(&c->kv->refused, 1);
        return GW_EIO;
    }
    if (c->npending >= c->kv->max_pending || nkeys < 0 || nargs < 0 || nkeys + nargs > 256) {
        atomic_fetch_add(&c->kv->refused, 1);
        return GW_ELIMIT;
    }
    int argc = 3 + nkeys + nargs;
    char nk[12];
    snprintf(nk, sizeof(nk), "%d", nkeys);
    /* one block: argv pointers, lengths, then the strings (kept for a NOSCRIPT retry) */
    size_t total = 0;
    const char *src[260];
    src[0] = "EVALSHA";
    src[1] = s->sha1;
    src[2] = nk;
    for (int i = 0; i < nkeys; i++)
        src[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        src[3 + nkeys + i] = args[i];
    size_t lens[260];
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(src[i]);
        total += lens[i] + 1;
    }
    char *block = gw_xmalloc((size_t)argc * (sizeof(char *) + sizeof(size_t)) + total);
    char **argv = (char **)(void *)block;
    size_t *argvlen = (size_t *)(void *)(block + (size_t)argc * sizeof(char *));
    char *p = block + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    for (int i = 0; i < argc; i++) {
        memcpy(p, src[i], lens[i] + 1);
        argv[i] = p;
        argvlen[i] = lens[i];
        p += lens[i] + 1;
    }
    struct kv_req *q = gw_xcalloc(1, sizeof(*q));
    q->c = c;
    q->fn = fn;
    q->arg = arg;
    q->script = s;
    q->argc = argc;
    q->argv = argv;
    q->argvlen = argvlen;
    if (send_req(c, q, argc, (const char **)argv, argvlen) != GW_OK) {
        req_free(q);
        atomic_fetch_add(&c->kv->refused, 1);
        return GW_EIO;
    }
    return GW_OK;
}

/* ---------- life ---------- */

struct gw_kv_conn *gw_kv__conn_new(struct gw_kv *kv, struct gw_loop *loop,
                                   void (*on_ready)(void *ud), void *ud)
{
    struct gw_kv_conn *c = gw_xcalloc(1, sizeof(*c));
    c->kv = kv;
    c->loop = loop;
    c->base = gw_loop_base(loop);
    c->fail_rc = GW_EIO;
    c->accepting = true; /* the first attempt at start-up */
    c->on_ready = on_ready;
    c->ready_ud = ud;
    c->deadline_ev = evtimer_new(c->base, on_deadline, c);
    c->retry_ev = evtimer_new(c->base, on_retry, c);
    c->connect_ev = evtimer_new(c->base, on_connect_timeout, c);
    atomic_fetch_add(&kv->loops, 1);
    conn_connect(c);
    return c;
}

void gw_kv__conn_free(struct gw_kv_conn *c)
{
    if (!c)
        return;
    event_del(c->retry_ev);
    c->accepting = false;
    conn_drop(c, GW_EIO);
    event_free(c->deadline_ev);
    event_free(c->retry_ev);
    event_free(c->connect_ev);
    atomic_fetch_sub(&c->kv->loops, 1);
    gw_free(c);
}
