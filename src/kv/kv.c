/*
 * src/kv/kv.c
 * The process object of the shared-state module: URL parsing, host resolution, the script and
 * subscription registries, counters, key building, and the single-use claim (Redis SET NX PX,
 * or a process-wide table without Redis).
 * The per-loop connections are in kv_conn.c, the subscriber thread in kv_sub.c.
 */
#include "kv/kv_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "net/net_loop.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* ---------- URL ---------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F'                                  ? c - 'A' + 10
                                                                   : -1;
}

/* Percent-decodes s[0..n) into out. GW_OK or GW_EINVAL (bad escape, too long). */
static int pct_decode(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return GW_EINVAL;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return GW_EINVAL;
            ch = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= size)
            return GW_EINVAL;
        out[o++] = ch;
    }
    out[o] = '\0';
    return GW_OK;
}

static int parse_db(const char *s, int *out)
{
    unsigned long long v = 0;
    if (!*s)
        return GW_OK;
    if (strlen(s) > 4 || gw_str_to_u64(gw_str_c(s), &v) != GW_OK || v > 1000)
        return GW_EINVAL;
    *out = (int)v;
    return GW_OK;
}

static int parse_url(struct gw_kv *kv, const char *url, struct gw_error *err)
{
    if (strncmp(url, "rediss://", 9) == 0)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_REDIS_URL: rediss:// (TLS) is not supported by the hiredis of "
                            "Debian 12 (0.14); use a TLS sidecar (stunnel/Envoy) on loopback and "
                            "redis://");
    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *q = strchr(path, '?');
        size_t n = q ? (size_t)(q - path) : strlen(path);
        if (n == 0 || n >= sizeof(kv->unix_path) || path[0] != '/')
            return GW_ERROR_SET(err, GW_EINVAL,
                                "GW_REDIS_URL: unix:///absolute/path/to/redis.sock[?db=N] "
                                "expected");
        memcpy(kv->unix_path, path, n);
        kv->unix_path[n] = '\0';
        if (q) {
            if (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &kv->db) != GW_OK)
                return GW_ERROR_SET(err, GW_EINVAL,
                                    "GW_REDIS_URL: the only query parameter is db=<0..1000>");
        }
        snprintf(kv->shown, sizeof(kv->shown), "unix://%s (db %d)", kv->unix_path, kv->db);
        return GW_OK;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_REDIS_URL must start with redis:// or unix:// (got '%.16s...')",
                            url);
    const char *p = url + 8;
    const char *slash = strchr(p, '/');
    size_t auth_end = slash ? (size_t)(slash - p) : strlen(p);
    const char *at = memchr(p, '@', auth_end);
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if (pct_decode(p, ulen, kv->user, sizeof(kv->user)) != GW_OK)
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: invalid user name");
        if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), kv->password,
                                sizeof(kv->password)) != GW_OK)
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: invalid password encoding");
        if (!colon) { /* redis://password@host is a common shorthand */
            snprintf(kv->password, sizeof(kv->password), "%s", kv->user);
            kv->user[0] = '\0';
        }
        p = at + 1;
    }
    const char *hp_end = slash ? slash : p + strlen(p);
    const char *port_sep = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(hp_end - p));
        if (!close)
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: unterminated [IPv6] host");
        size_t n = (size_t)(close - p - 1);
        if (n == 0 || n >= sizeof(kv->host))
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: bad host");
        memcpy(kv->host, p + 1, n);
        kv->host[n] = '\0';
        if (close + 1 < hp_end) {
            if (close[1] != ':')
                return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: bad host");
            port_sep = close + 1;
        }
    } else {
        port_sep = memchr(p, ':', (size_t)(hp_end - p));
        size_t n = (size_t)((port_sep ? port_sep : hp_end) - p);
        if (n == 0 || n >= sizeof(kv->host))
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: missing or overlong host");
        memcpy(kv->host, p, n);
        kv->host[n] = '\0';
    }
    kv->port = 6379;
    if (port_sep) {
        char pbuf[8];
        size_t n = (size_t)(hp_end - port_sep - 1);
        unsigned long long v = 0;
        if (n == 0 || n >= sizeof(pbuf))
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: bad port");
        memcpy(pbuf, port_sep + 1, n);
        pbuf[n] = '\0';
        if (gw_str_to_u64(gw_str_c(pbuf), &v) != GW_OK || v == 0 || v > 65535)
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: bad port '%s'", pbuf);
        kv->port = (int)v;
    }
    if (slash && parse_db(slash + 1, &kv->db) != GW_OK)
        return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: the path must be a database number");
    for (const char *h = kv->host; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') ||
              *h == '.' || *h == '-' || *h == ':' || *h == '_'))
            return GW_ERROR_SET(err, GW_EINVAL, "GW_REDIS_URL: invalid character in the host");
    bool v6 = strchr(kv->host, ':') != NULL;
    snprintf(kv->shown, sizeof(kv->shown), "redis://%s%s%s%s:%d/%d",
             kv->password[0] ? "***@" : "", v6 ? "[" : "", kv->host, v6 ? "]" : "", kv->port,
             kv->db);
    return GW_OK;
}

int gw_kv__resolve(struct gw_kv *kv, struct gw_error *err)
{
    if (!kv->host[0])
        return GW_OK;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(kv->host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return GW_ERROR_SET(err, GW_EIO, "cannot resolve the Redis host %s: %s", kv->host,
                            gai_strerror(rc));
    char buf[64] = "";
    if (res->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, buf,
                  sizeof(buf));
    else if (res->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr, buf,
                  sizeof(buf));
    freeaddrinfo(res);
    if (!buf[0])
        return GW_ERROR_SET(err, GW_EIO, "the Redis host %s has no IP address", kv->host);
    pthread_mutex_lock(&kv->addr_lock);
    snprintf(kv->addr, sizeof(kv->addr), "%s", buf);
    pthread_mutex_unlock(&kv->addr_lock);
    return GW_OK;
}

void gw_kv__addr(struct gw_kv *kv, char *out, size_t size)
{
    pthread_mutex_lock(&kv->addr_lock);
    snprintf(out, size, "%s", kv->addr);
    pthread_mutex_unlock(&kv->addr_lock);
}

/* ---------- the process object ---------- */

int gw_kv_new(const struct gw_kv_config *cfg, struct gw_kv **out, struct gw_error *err)
{
    *out = NULL;
    struct gw_kv *kv = gw_xcalloc(1, sizeof(*kv));
    pthread_mutex_init(&kv->addr_lock, NULL);
    snprintf(kv->prefix, sizeof(kv->prefix), "%s",
             cfg && cfg->prefix && *cfg->prefix ? cfg->prefix : "gw:");
    kv->connect_timeout_ms = cfg && cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 500;
    kv->command_timeout_ms = cfg && cfg->command_timeout_ms > 0 ? cfg->command_timeout_ms : 250;
    kv->reconnect_max_ms = cfg && cfg->reconnect_max_ms > 0 ? cfg->reconnect_max_ms : 2000;
    kv->max_pending = cfg && cfg->max_pending ? cfg->max_pending : 10000;
    const char *url = cfg ? cfg->url : NULL;
    if (url && *url) {
        int rc = parse_url(kv, url, err);
        if (rc == GW_OK && cfg->password && *cfg->password)
            snprintf(kv->password, sizeof(kv->password), "%s", cfg->password);
        if (rc == GW_OK)
            rc = gw_kv__resolve(kv, err);
        if (rc != GW_OK) {
            gw_kv_free(kv);
            return rc;
        }
        kv->enabled = true;
    }
    *out = kv;
    return GW_OK;
}

void gw_kv_free(struct gw_kv *kv)
{
    if (!kv)
        return;
    gw_kv__sub_stop(kv);
    gw_kv__once_free(kv->once);
    pthread_mutex_destroy(&kv->addr_lock);
    memset(kv->password, 0, sizeof(kv->password));
    gw_free(kv);
}

bool gw_kv_enabled(const struct gw_kv *kv)
{
    return kv && kv->enabled;
}

const char *gw_kv_prefix(const struct gw_kv *kv)
{
    return kv->prefix;
}

const char *gw_kv_url_shown(const struct gw_kv *kv)
{
    return kv && kv->enabled ? kv->shown : "(none)";
}

int gw_kv_loop_start(struct gw_kv *kv, struct gw_loop *loop, struct gw_error *err)
{
    (void)err;
    if (!gw_kv_enabled(kv))
        return GW_OK;
    struct gw_kv_conn *c = gw_kv__conn_new(kv, loop, NULL, NULL);
    gw_loop_set_slot(loop, GW_LOOP_SLOT_KV, c);
    return GW_OK;
}

void gw_kv_loop_stop(struct gw_kv *kv, struct gw_loop *loop)
{
    (void)kv;
    struct gw_kv_conn *c = gw_loop_slot(loop, GW_LOOP_SLOT_KV);
    if (!c)
        return;
    gw_loop_set_slot(loop, GW_LOOP_SLOT_KV, NULL);
    gw_kv__conn_free(c);
}

struct gw_kv_conn *gw_kv_conn_of(const struct gw_loop *loop)
{
    return gw_loop_slot(loop, GW_LOOP_SLOT_KV);
}

void gw_kv_script_register(struct gw_kv *kv, struct gw_kv_script *s)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)s->lua, strlen(s->lua), md);
    gw_hex_encode(md, SHA_DIGEST_LENGTH, s->sha1);
    for (int i = 0; i < kv->nscripts; i++)
        if (kv->scripts[i] == s)
            return;
    if (kv->nscripts < KV_MAX_SCRIPTS)
        kv->scripts[kv->nscripts++] = s;
    else
        GW_LOG(GW_LOG_ERROR, "kv", "too many Redis scripts: %s not registered", s->name);
}

int gw_kv_subscribe(struct gw_kv *kv, const char *channel, gw_kv_message_fn on_message,
                    gw_kv_resync_fn on_resync, void *ud)
{
    if (kv->nsubs >= KV_MAX_SUBS)
        return GW_ELIMIT;
    struct kv_sub_entry *e = &kv->subs[kv->nsubs++];
    snprintf(e->channel, sizeof(e->channel), "%s%s", kv->prefix, channel);
    e->on_message = on_message;
    e->on_resync = on_resync;
    e->ud = ud;
    return GW_OK;
}

int gw_kv_start(struct gw_kv *kv, struct gw_error *err)
{
    if (!gw_kv_enabled(kv))
        return GW_OK;
    return gw_kv__sub_start(kv, err);
}

size_t gw_kv_key(const struct gw_kv *kv, char *out, size_t size, const char *a, const char *b,
                 const char *c)
{
    int n = snprintf(out, size, "%s%s{%s}%s", kv ? kv->prefix : "gw:", a ? a : "",
                     b && *b ? b : "_", c ? c : "");
    if (n < 0 || (size_t)n >= size) {
        if (size)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

void gw_kv_stats(const struct gw_kv *kv, struct gw_kv_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!kv)
        return;
    out->enabled = kv->enabled;
    out->loops = atomic_load(&kv->loops);
    out->loops_ready = atomic_load(&kv->loops_ready);
    out->subscriber_ready = atomic_load(&kv->subscriber_ready);
    out->commands = atomic_load(&kv->commands);
    out->replies = atomic_load(&kv->replies);
    out->errors = atomic_load(&kv->errors);
    out->timeouts = atomic_load(&kv->timeouts);
    out->disconnects = atomic_load(&kv->disconnects);
    out->connects = atomic_load(&kv->connects);
    out->connect_failures = atomic_load(&kv->connect_failures);
    out->refused = atomic_load(&kv->refused);
    out->noscript_retries = atomic_load(&kv->noscript_retries);
    out->messages = atomic_load(&kv->messages);
    out->resyncs = atomic_load(&kv->resyncs);
    out->once_claims = atomic_load(&kv->once_claims);
    out->once_conflicts = atomic_load(&kv->once_conflicts);
}

/* ---------- single use ---------- */

#define ONCE_BUCKETS 4096
#define ONCE_MAX 200000

struct once_entry {
    struct once_entry *next;
    uint64_t expires_ms;
    char key[];
};

struct kv_once_table {
    pthread_mutex_t lock;
    struct once_entry *b[ONCE_BUCKETS];
    size_t count;
    unsigned ops;
};

static pthread_mutex_t once_init_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned fnv(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void once_sweep(struct kv_once_table *t, uint64_t now)
{
    for (int i = 0; i < ONCE_BUCKETS; i++) {
        struct once_entry **pp = &t->b[i];
        while (*pp) {
            if ((*pp)->expires_ms <= now) {
                struct once_entry *dead = *pp;
                *pp = dead->next;
                gw_free(dead);
                t->count--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

/* GW_OK (claimed now), GW_ECONFLICT (already claimed), GW_ELIMIT (table full). */
static int once_local(struct gw_kv *kv, const char *key, uint64_t ttl_ms)
{
    pthread_mutex_lock(&once_init_lock);
    if (!kv->once) {
        kv->once = gw_xcalloc(1, sizeof(*kv->once));
        pthread_mutex_init(&kv->once->lock, NULL);
    }
    pthread_mutex_unlock(&once_init_lock);
    struct kv_once_table *t = kv->once;
    uint64_t now = mono_ms();
    unsigned h = fnv(key) % ONCE_BUCKETS;
    int rc = GW_OK;
    pthread_mutex_lock(&t->lock);
    if ((++t->ops & 4095) == 0 || t->count >= ONCE_MAX)
        once_sweep(t, now);
    for (struct once_entry *e = t->b[h]; e; e = e->next) {
        if (strcmp(e->key, key) == 0 && e->expires_ms > now) {
            rc = GW_ECONFLICT;
            break;
        }
    }
    if (rc == GW_OK && t->count >= ONCE_MAX)
        rc = GW_ELIMIT;
    if (rc == GW_OK) {
        size_t n = strlen(key);
        struct once_entry *e = gw_xmalloc(sizeof(*e) + n + 1);
        memcpy(e->key, key, n + 1);
        e->expires_ms = now + ttl_ms;
        e->next = t->b[h];
        t->b[h] = e;
        t->count++;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void gw_kv__once_free(struct kv_once_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < ONCE_BUCKETS; i++) {
        struct once_entry *e = t->b[i];
        while (e) {
            struct once_entry *n = e->next;
            gw_free(e);
            e = n;
        }
    }
    pthread_mutex_destroy(&t->lock);
    gw_free(t);
}

struct once_wait {
    struct gw_kv *kv;
    gw_kv_once_fn done;
    void *arg;
};

static void once_reply(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct once_wait *w = arg;
    int out = GW_EIO;
    if (rc == GW_OK && gw_kv_reply_type(r) == GW_KV_STR)
        out = GW_OK; /* +OK: set */
    else if (rc == GW_OK && gw_kv_reply_type(r) == GW_KV_NIL)
        out = GW_ECONFLICT; /* NX refused: it exists */
    if (out == GW_OK)
        atomic_fetch_add(&w->kv->once_claims, 1);
    else if (out == GW_ECONFLICT)
        atomic_fetch_add(&w->kv->once_conflicts, 1);
    w->done(w->arg, out);
    gw_free(w);
}

int gw_kv_once(struct gw_kv *kv, struct gw_loop *loop, const char *key, uint64_t ttl_ms,
               gw_kv_once_fn done, void *arg)
{
    if (!key || !*key || ttl_ms == 0)
        return GW_EINVAL;
    struct gw_kv_conn *c = gw_kv_enabled(kv) && loop ? gw_kv_conn_of(loop) : NULL;
    if (!c) {
        int rc = once_local(kv, key, ttl_ms);
        if (rc == GW_OK)
            atomic_fetch_add(&kv->once_claims, 1);
        else if (rc == GW_ECONFLICT)
            atomic_fetch_add(&kv->once_conflicts, 1);
        return rc;
    }
    /* the caller's key is hashed into the tag: bounded length, one slot per key */
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, strlen(key), md);
    char tag[33];
    gw_hex_encode(md, 16, tag);
    char k[160], ttl[24];
    gw_kv_key(kv, k, sizeof(k), "once:", tag, "");
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
    const char *argv[] = {"SET", k, "1", "NX", "PX", ttl};
    struct once_wait *w = gw_xmalloc(sizeof(*w));
    w->kv = kv;
    w->done = done;
    w->arg = arg;
    int rc = gw_kv_cmd(c, once_reply, w, 6, argv, NULL);
    if (rc != GW_OK) {
        gw_free(w);
        return GW_EIO;
    }
    return GW_AGAIN;
}
