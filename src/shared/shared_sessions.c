/*
 * src/shared/shared_sessions.c
 * Session state shared by replicas (see shared.h).
 *
 * Redis layout (one hash slot, tag {sessions}):
 *   <p>{sessions}:s:<id>     hash: "t" = "1" (terminated), "l" = log level, "u:<uri>" = "1"
 *                            (subscribed); expires when the session would
 *   <p>{sessions}:index      sorted set: session id -> expiry (unix s), pruned on every write
 * Channel <p>sessions carries each change as "<kind> <expiry> <id> <payload>" (payload: the
 * level, or the URI; may contain spaces, so it is last).
 * Write path (a worker loop): one script updates the hash, the index and publishes, atomically.
 * A termination must hold everywhere before the DELETE is answered: its message carries a
 * nonce, every replica's subscriber thread acknowledges it after applying it (RPUSH to
 * <p>{sessions}:ack:<nonce>), and the caller is answered once as many acknowledgements as
 * PUBLISH reached subscribers are there (polled every 2 ms; after 500 ms it is answered anyway:
 * a replica whose subscriber is down catches up when it resubscribes).
 * Read path (the subscriber thread): messages are applied to the local table as they come;
 * when the subscription (re)starts, the index is read and every live session's hash applied
 * (what was published while this replica was not listening is not lost).
 */
#include "shared/shared_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "mcp/mcp_session.h"
#include "net/net_loop.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RESYNC_MAX 100000
#define ACK_POLL_MS 2
#define ACK_WAIT_MS 500

/* KEYS: hash, index. ARGV: field, value ("" = delete the field), expiry (unix s), channel,
 * message, id. */
static struct gw_kv_script sess_script = {
    "sessions-change",
    "if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end\n"
    "redis.call('EXPIREAT', KEYS[1], ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[6])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. redis.call('TIME')[1])\n"
    "return redis.call('PUBLISH', ARGV[4], ARGV[5])\n",
    ""};

struct pub_wait {
    struct gw_shared *sh;
    gw_session_done_fn done;
    void *arg;
    /* terminations: wait for every subscriber's acknowledgement */
    char nonce[33];
    long long expected;
    struct event *timer;
    struct timespec until;
};

static void wait_free(struct pub_wait *w, int rc)
{
    if (w->timer)
        event_free(w->timer);
    if (w->done)
        w->done(w->arg, rc);
    gw_free(w);
}

static bool past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void poll_acks(evutil_socket_t fd, short what, void *arg);

static void on_acks(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct pub_wait *w = arg;
    if (rc == GW_OK && gw_kv_reply_int(r) >= w->expected) {
        wait_free(w, GW_OK);
        return;
    }
    if (rc != GW_OK || past(&w->until)) {
        GW_LOG(GW_LOG_WARN, "shared", "a session termination was not acknowledged by every "
                                      "replica within %d ms (%lld of %lld); answering anyway",
               ACK_WAIT_MS, rc == GW_OK ? gw_kv_reply_int(r) : -1LL, w->expected);
        wait_free(w, GW_OK);
        return;
    }
    struct timeval tv = {0, ACK_POLL_MS * 1000};
    event_add(w->timer, &tv);
}

static void poll_acks(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pub_wait *w = arg;
    struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
    char key[160];
    snprintf(key, sizeof(key), "%s%s", w->sh->sess_ack_prefix, w->nonce);
    const char *argv[] = {"LLEN", key};
    if (!c || gw_kv_cmd(c, on_acks, w, 2, argv, NULL) != GW_OK)
        wait_free(w, GW_EIO);
}

static void on_published(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct pub_wait *w = arg;
    if (rc == GW_OK && gw_kv_reply_type(r) == GW_KV_ERROR)
        rc = GW_EIO;
    if (rc != GW_OK) {
        atomic_fetch_add(&w->sh->session_publish_failures, 1);
        size_t n = 0;
        const char *why = r ? gw_kv_reply_str(r, &n) : gw_rc_name(rc);
        GW_LOG(GW_LOG_WARN, "shared", "a session change could not be shared with the other "
                                      "replicas: %.*s",
               (int)(n ? n : strlen(why)), why);
        wait_free(w, rc);
        return;
    }
    if (!w->done || !w->nonce[0]) {
        wait_free(w, GW_OK);
        return;
    }
    /* a termination: answer once every replica that got the message has applied it */
    w->expected = gw_kv_reply_int(r);
    clock_gettime(CLOCK_MONOTONIC, &w->until);
    w->until.tv_nsec += (long)ACK_WAIT_MS * 1000000L;
    w->until.tv_sec += w->until.tv_nsec / 1000000000L;
    w->until.tv_nsec %= 1000000000L;
    w->timer = evtimer_new(gw_loop_base(gw_loop_current()), poll_acks, w);
    poll_acks(-1, 0, w);
}

static int publish(void *ud, const struct gw_session_change *chg, gw_session_done_fn done,
                   void *arg)
{
    struct gw_shared *sh = ud;
    struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
    atomic_fetch_add(&sh->session_publishes, 1);
    if (!c || !chg->id) {
        atomic_fetch_add(&sh->session_publish_failures, 1);
        return GW_EIO;
    }
    char field[600], value[16] = "", hash[160], exp[24], msg[900], nonce[33] = "";
    const char *payload = "";
    switch (chg->kind) {
    case GW_SESSION_TERMINATED:
        snprintf(field, sizeof(field), "t");
        snprintf(value, sizeof(value), "1");
        if (done) {
            unsigned char rnd[16];
            RAND_bytes(rnd, sizeof(rnd));
            gw_hex_encode(rnd, 16, nonce);
            payload = nonce;
        }
        break;
    case GW_SESSION_LOG_LEVEL:
        snprintf(field, sizeof(field), "l");
        snprintf(value, sizeof(value), "%d", chg->level);
        payload = value;
        break;
    case GW_SESSION_SUBSCRIBED:
    case GW_SESSION_UNSUBSCRIBED:
        snprintf(field, sizeof(field), "u:%s", chg->uri ? chg->uri : "");
        if (chg->kind == GW_SESSION_SUBSCRIBED)
            snprintf(value, sizeof(value), "1");
        payload = chg->uri ? chg->uri : "";
        break;
    default: return GW_EINVAL;
    }
    snprintf(hash, sizeof(hash), "%s%s", sh->sess_hash_prefix, chg->id);
    snprintf(exp, sizeof(exp), "%llu", (unsigned long long)chg->expires_at);
    snprintf(msg, sizeof(msg), "%c %s %s %s", chg->kind, exp, chg->id, payload);
    const char *keys[] = {hash, sh->sess_index};
    const char *args[] = {field, value, exp, sh->sess_channel, msg, chg->id};
    struct pub_wait *w = gw_xcalloc(1, sizeof(*w));
    w->sh = sh;
    w->done = done;
    w->arg = arg;
    snprintf(w->nonce, sizeof(w->nonce), "%s", nonce);
    if (gw_kv_eval(c, &sess_script, 2, keys, 6, args, on_published, w) != GW_OK) {
        gw_free(w);
        atomic_fetch_add(&sh->session_publish_failures, 1);
        GW_LOG(GW_LOG_WARN, "shared", "a session change could not be shared with the other "
                                      "replicas: Redis is unavailable");
        return GW_EIO;
    }
    return done ? GW_AGAIN : GW_OK;
}

static void ack_sent(void *arg, int rc, const struct gw_kv_reply *r)
{
    (void)arg;
    (void)r;
    (void)rc; /* a lost acknowledgement only makes the DELETE wait its maximum */
}

/* "<kind> <expiry> <id> <payload>" from another replica (subscriber thread). */
static void on_message(void *ud, const char *channel, const char *msg, size_t len)
{
    (void)channel;
    struct gw_shared *sh = ud;
    char buf[1024];
    if (len < 5 || len >= sizeof(buf) || msg[1] != ' ')
        return;
    memcpy(buf, msg, len);
    buf[len] = '\0';
    char *exp = buf + 2;
    char *sp = strchr(exp, ' ');
    if (!sp)
        return;
    *sp = '\0';
    char *id = sp + 1;
    char *sp2 = strchr(id, ' ');
    if (!sp2)
        return;
    *sp2 = '\0';
    const char *payload = sp2 + 1;
    unsigned long long e = 0;
    if (gw_str_to_u64(gw_str_c(exp), &e) != GW_OK)
        return;
    struct gw_session_change chg = {buf[0], id, e, -1, NULL};
    if (buf[0] == GW_SESSION_LOG_LEVEL) {
        unsigned long long lvl = 0;
        if (gw_str_to_u64(gw_str_c(payload), &lvl) != GW_OK || lvl > 7)
            return;
        chg.level = (int)lvl;
    } else if (buf[0] == GW_SESSION_SUBSCRIBED || buf[0] == GW_SESSION_UNSUBSCRIBED) {
        chg.uri = payload;
    } else if (buf[0] != GW_SESSION_TERMINATED) {
        return;
    }
    gw_sessions_apply(sh->sessions, &chg);
    atomic_fetch_add(&sh->session_applied, 1);
    if (buf[0] == GW_SESSION_TERMINATED && payload[0]) { /* acknowledged: see the top comment */
        struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
        char key[160];
        snprintf(key, sizeof(key), "%s%.32s", sh->sess_ack_prefix, payload);
        const char *push[] = {"RPUSH", key, "1"};
        const char *ttl[] = {"PEXPIRE", key, "10000"};
        if (c && gw_kv_cmd(c, ack_sent, NULL, 3, push, NULL) == GW_OK)
            gw_kv_cmd(c, ack_sent, NULL, 3, ttl, NULL);
    }
}

/* ---- resynchronisation (subscriber thread) ---- */

struct resync_one {
    struct gw_shared *sh;
    char id[GW_SESSION_ID_MAX];
    uint64_t expires;
};

static void on_hash(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct resync_one *o = arg;
    struct gw_shared *sh = o->sh;
    if (rc == GW_OK && gw_kv_reply_type(r) == GW_KV_ARRAY) {
        struct gw_session_change clear = {GW_SESSION_SUBS_CLEARED, o->id, o->expires, -1, NULL};
        gw_sessions_apply(sh->sessions, &clear);
        size_t n = gw_kv_reply_count(r);
        for (size_t i = 0; i + 1 < n; i += 2) {
            size_t fl = 0, vl = 0;
            const char *f = gw_kv_reply_str(gw_kv_reply_at(r, i), &fl);
            const char *v = gw_kv_reply_str(gw_kv_reply_at(r, i + 1), &vl);
            char field[600], value[16];
            snprintf(field, sizeof(field), "%.*s", (int)fl, f);
            snprintf(value, sizeof(value), "%.*s", (int)vl, v);
            struct gw_session_change chg = {0, o->id, o->expires, -1, NULL};
            unsigned long long lvl = 0;
            if (strcmp(field, "t") == 0) {
                chg.kind = GW_SESSION_TERMINATED;
            } else if (strcmp(field, "l") == 0 &&
                       gw_str_to_u64(gw_str_c(value), &lvl) == GW_OK && lvl <= 7) {
                chg.kind = GW_SESSION_LOG_LEVEL;
                chg.level = (int)lvl;
            } else if (strncmp(field, "u:", 2) == 0) {
                chg.kind = GW_SESSION_SUBSCRIBED;
                chg.uri = field + 2;
            } else {
                continue;
            }
            gw_sessions_apply(sh->sessions, &chg);
        }
    }
    gw_free(o);
}

static void on_index(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct gw_shared *sh = arg;
    if (rc != GW_OK || gw_kv_reply_type(r) != GW_KV_ARRAY) {
        GW_LOG(GW_LOG_WARN, "shared", "session resynchronisation failed: %s", gw_rc_name(rc));
        return;
    }
    struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
    size_t n = gw_kv_reply_count(r);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t il = 0, sl = 0;
        const char *id = gw_kv_reply_str(gw_kv_reply_at(r, i), &il);
        const char *score = gw_kv_reply_str(gw_kv_reply_at(r, i + 1), &sl);
        if (il == 0 || il >= GW_SESSION_ID_MAX)
            continue;
        struct resync_one *o = gw_xcalloc(1, sizeof(*o));
        o->sh = sh;
        memcpy(o->id, id, il);
        char sc[24];
        snprintf(sc, sizeof(sc), "%.*s", (int)(sl < 20 ? sl : 20), score);
        unsigned long long e = 0;
        gw_str_to_u64(gw_str_c(sc), &e);
        o->expires = e;
        char hash[160];
        snprintf(hash, sizeof(hash), "%s%s", sh->sess_hash_prefix, o->id);
        const char *argv[] = {"HGETALL", hash};
        if (gw_kv_cmd(c, on_hash, o, 2, argv, NULL) != GW_OK) {
            gw_free(o);
            break; /* the next resync (on reconnection) completes it */
        }
    }
    atomic_fetch_add(&sh->session_resyncs, 1);
}

static void on_resync(void *ud, struct gw_kv_conn *c)
{
    struct gw_shared *sh = ud;
    char now[24], limit[16];
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    snprintf(limit, sizeof(limit), "%d", RESYNC_MAX);
    const char *argv[] = {"ZRANGEBYSCORE", sh->sess_index, now, "+inf", "WITHSCORES",
                          "LIMIT", "0", limit};
    if (gw_kv_cmd(c, on_index, sh, 8, argv, NULL) != GW_OK)
        GW_LOG(GW_LOG_WARN, "shared", "session resynchronisation could not start");
}

int gw_shared_sessions_attach(struct gw_shared *sh, struct gw_sessions *sessions,
                              struct gw_error *err)
{
    if (!gw_kv_enabled(sh->kv))
        return GW_OK;
    sh->sessions = sessions;
    const char *p = gw_kv_prefix(sh->kv);
    snprintf(sh->sess_hash_prefix, sizeof(sh->sess_hash_prefix), "%s{sessions}:s:", p);
    snprintf(sh->sess_index, sizeof(sh->sess_index), "%s{sessions}:index", p);
    snprintf(sh->sess_channel, sizeof(sh->sess_channel), "%ssessions", p);
    snprintf(sh->sess_ack_prefix, sizeof(sh->sess_ack_prefix), "%s{sessions}:ack:", p);
    gw_kv_script_register(sh->kv, &sess_script);
    if (gw_kv_subscribe(sh->kv, "sessions", on_message, on_resync, sh) != GW_OK)
        return GW_ERROR_SET(err, GW_ELIMIT, "too many Redis subscriptions");
    struct gw_session_sync sync = {publish, sh};
    gw_sessions_set_sync(sessions, &sync);
    return GW_OK;
}
