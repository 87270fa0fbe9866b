/*
 * src/kv/kv_sub.c
 * The subscriber thread: one event loop of its own holding the pub/sub connection (SUBSCRIBE
 * to every registered channel) and a command connection (for the owners' resynchronisation
 * queries), so that no worker loop ever waits on a subscription.
 *
 *   DOWN --retry--> CONNECTING --SUBSCRIBE confirmed (all channels)--> SUBSCRIBED
 *     ^                                  |                    |  resync (when the command
 *     +---------- error / EOF / timeout -+--------------------+   connection is ready too)
 *
 * Each time the subscription (re)starts, every owner's on_resync runs (messages published
 * while it was down were lost: the owner reloads what it mirrors). Messages are handed to the
 * owner's on_message on this thread. This thread also re-resolves the Redis host name (the
 * blocking getaddrinfo happens here, never on a worker loop) before each reconnection, so a
 * failover that moves the name to another address is followed.
 */
#include "kv/kv_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/thread.h"
#include "net/net_loop.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct kv_sub {
    struct gw_kv *kv;
    pthread_t thread;
    bool running;
    struct event_base *base;
    struct gw_loop *loop;
    struct gw_kv_conn *cmd;
    redisAsyncContext *ac;
    struct event *retry_ev, *connect_ev;
    int backoff_ms;
    int confirmed;
    bool subscribed;
    bool resync_pending;
    bool warned;
    /* start-up hand-shake */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started;
};

static void sub_connect(struct kv_sub *s);

static void set_timer(struct event *ev, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
}

static void try_resync(struct kv_sub *s)
{
    if (!s->resync_pending || !s->subscribed || !gw_kv_conn_ready(s->cmd))
        return;
    s->resync_pending = false;
    atomic_fetch_add(&s->kv->resyncs, 1);
    for (int i = 0; i < s->kv->nsubs; i++)
        if (s->kv->subs[i].on_resync)
            s->kv->subs[i].on_resync(s->kv->subs[i].ud, s->cmd);
}

static void on_cmd_ready(void *ud)
{
    struct kv_sub *s = ud;
    /* the command connection came back: whatever it missed is resynchronised too */
    s->resync_pending = true;
    try_resync(s);
}

static void schedule_retry(struct kv_sub *s)
{
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 50;
    if (s->backoff_ms > s->kv->reconnect_max_ms)
        s->backoff_ms = s->kv->reconnect_max_ms;
    set_timer(s->retry_ev, s->backoff_ms);
}

static void went_down(struct kv_sub *s, const char *why)
{
    s->ac = NULL;
    s->subscribed = false;
    s->confirmed = 0;
    atomic_store(&s->kv->subscriber_ready, false);
    event_del(s->connect_ev);
    if (!s->warned) {
        GW_LOG(GW_LOG_WARN, "kv", "Redis subscriber %s: %s (shared-state updates from other "
                                  "replicas are not received until it is back)",
               gw_kv_url_shown(s->kv), why);
        s->warned = true;
    }
    schedule_retry(s);
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct kv_sub *s = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    redisReply *kind = r->element[0], *ch = r->element[1], *payload = r->element[2];
    if (kind->type != REDIS_REPLY_STRING || ch->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(kind->str, "subscribe") == 0) {
        if (++s->confirmed == s->kv->nsubs) {
            s->subscribed = true;
            s->backoff_ms = 0;
            atomic_store(&s->kv->subscriber_ready, true);
            if (s->warned)
                GW_LOG(GW_LOG_INFO, "kv", "Redis subscriber %s: subscribed again",
                       gw_kv_url_shown(s->kv));
            s->warned = false;
            s->resync_pending = true;
            try_resync(s);
        }
        return;
    }
    if (strcmp(kind->str, "message") != 0 || payload->type != REDIS_REPLY_STRING)
        return;
    atomic_fetch_add(&s->kv->messages, 1);
    size_t plen = strlen(s->kv->prefix);
    const char *name = ch->str;
    if (strncmp(name, s->kv->prefix, plen) == 0)
        name += plen;
    for (int i = 0; i < s->kv->nsubs; i++) {
        if (strcmp(s->kv->subs[i].channel, ch->str) == 0 && s->kv->subs[i].on_message)
            s->kv->subs[i].on_message(s->kv->subs[i].ud, name, payload->str, payload->len);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct kv_sub *s = ac->data;
    if (!s)
        return;
    if (status != REDIS_OK) {
        went_down(s, ac->errstr);
        return;
    }
    event_del(s->connect_ev);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct kv_sub *s = ac->data;
    if (s)
        went_down(s, ac->errstr[0] ? ac->errstr : "connection lost");
}

static void drop(struct kv_sub *s)
{
    redisAsyncContext *ac = s->ac;
    if (!ac)
        return;
    s->ac = NULL;
    ac->onDisconnect = NULL;
    ac->onConnect = NULL;
    ac->data = NULL;
    redisAsyncFree(ac);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kv_sub *s = arg;
    if (s->subscribed)
        return;
    drop(s);
    went_down(s, "connect timed out");
}

static void sub_connect(struct kv_sub *s)
{
    struct gw_kv *kv = s->kv;
    if (kv->host[0])
        (void)gw_kv__resolve(kv, NULL); /* this thread may block; keeps the last on failure */
    redisAsyncContext *ac;
    if (kv->unix_path[0]) {
        ac = redisAsyncConnectUnix(kv->unix_path);
    } else {
        char addr[64];
        gw_kv__addr(kv, addr, sizeof(addr));
        ac = redisAsyncConnect(addr, kv->port);
    }
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        went_down(s, "cannot connect");
        return;
    }
    ac->data = s;
    gw_kv__attach(ac, s->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (!kv->unix_path[0])
        redisEnableKeepAlive(&ac->c); /* a silent network loss is noticed */
    s->ac = ac;
    s->confirmed = 0;
    set_timer(s->connect_ev, kv->connect_timeout_ms * 2);
    if (kv->password[0]) {
        if (kv->user[0])
            redisAsyncCommand(ac, NULL, NULL, "AUTH %s %s", kv->user, kv->password);
        else
            redisAsyncCommand(ac, NULL, NULL, "AUTH %s", kv->password);
    }
    const char *argv[KV_MAX_SUBS + 1];
    argv[0] = "SUBSCRIBE";
    for (int i = 0; i < kv->nsubs; i++)
        argv[1 + i] = kv->subs[i].channel;
    redisAsyncCommandArgv(ac, on_message, s, 1 + kv->nsubs, argv, NULL);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kv_sub *s = arg;
    if (!s->ac)
        sub_connect(s);
}

static void *sub_main(void *arg)
{
    gw_thread_init_self("gw-kv-sub", GW_THREAD_BACKGROUND);
    struct kv_sub *s = arg;
    gw_loop_set_current(s->loop);
    s->cmd = gw_kv__conn_new(s->kv, s->loop, on_cmd_ready, s);
    gw_loop_set_slot(s->loop, GW_LOOP_SLOT_KV, s->cmd);
    if (s->kv->nsubs)
        sub_connect(s);
    pthread_mutex_lock(&s->lock);
    s->started = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
    drop(s);
    gw_loop_set_slot(s->loop, GW_LOOP_SLOT_KV, NULL);
    gw_kv__conn_free(s->cmd);
    s->cmd = NULL;
    gw_loop_close(s->loop); /* runs what is still queued */
    return NULL;
}

int gw_kv__sub_start(struct gw_kv *kv, struct gw_error *err)
{
    if (kv->sub)
        return GW_OK;
    gw_loop_init_threads();
    struct kv_sub *s = gw_xcalloc(1, sizeof(*s));
    s->kv = kv;
    s->base = event_base_new();
    if (!s->base) {
        gw_free(s);
        return GW_ERROR_SET(err, GW_EIO, "cannot create the Redis subscriber's event loop");
    }
    s->loop = gw_loop_new(s->base);
    s->retry_ev = evtimer_new(s->base, on_retry, s);
    s->connect_ev = evtimer_new(s->base, on_connect_timeout, s);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
        event_free(s->retry_ev);
        event_free(s->connect_ev);
        gw_loop_free(s->loop);
        event_base_free(s->base);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        gw_free(s);
        return GW_ERROR_SET(err, GW_EIO, "cannot start the Redis subscriber thread");
    }
    pthread_mutex_lock(&s->lock);
    while (!s->started)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    s->running = true;
    kv->sub = s;
    return GW_OK;
}

static void stop_task(void *arg)
{
    struct kv_sub *s = arg;
    event_base_loopbreak(s->base);
}

void gw_kv__sub_stop(struct gw_kv *kv)
{
    struct kv_sub *s = kv->sub;
    if (!s)
        return;
    if (s->running) {
        gw_loop_post(s->loop, stop_task, s);
        pthread_join(s->thread, NULL);
    }
    event_free(s->retry_ev);
    event_free(s->connect_ev);
    gw_loop_free(s->loop);
    event_base_free(s->base);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    gw_free(s);
    kv->sub = NULL;
    atomic_store(&kv->subscriber_ready, false);
}
