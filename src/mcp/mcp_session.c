/*
 * src/mcp/mcp_session.c
 * Signed session ids and the process-local session state table.
 * Invariants: a token verifies only if its MAC matches (over the payload and the binding of the
 * principal that presents it), its format byte is known, its version
 * is supported and it has not expired; a terminated id is in the table with `terminated` set
 * until its expiry, so a DELETE takes effect on this replica immediately.
 */
#include "mcp/mcp_session.h"

#include "core/alloc.h"
#include "core/b64.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define FORMAT 2 /* 1: MAC over the payload only (before sessions were bound to principals) */
#define PAYLOAD 23
#define MAC 16
#define BUCKETS 1024
#define MAX_SUBS 64

struct state {
    struct state *next;
    char id[GW_SESSION_ID_MAX];
    uint64_t expires_at;
    bool terminated;
    int log_level;
    int nsubs;
    char *subs[MAX_SUBS];
};

struct gw_sessions {
    unsigned char secret[32];
    unsigned ttl;
    struct gw_session_sync sync; /* publish NULL: none */
    pthread_mutex_t lock;
    struct state *buckets[BUCKETS];
    unsigned ops;
};

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

struct gw_sessions *gw_sessions_new(const char *secret, unsigned ttl_seconds)
{
    struct gw_sessions *s = gw_xcalloc(1, sizeof(*s));
    if (secret && *secret)
        SHA256((const unsigned char *)secret, strlen(secret), s->secret);
    else
        RAND_bytes(s->secret, sizeof(s->secret));
    s->ttl = ttl_seconds ? ttl_seconds : 86400;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void free_state(struct state *st)
{
    for (int i = 0; i < st->nsubs; i++)
        gw_free(st->subs[i]);
    gw_free(st);
}

void gw_sessions_free(struct gw_sessions *s)
{
    if (!s)
        return;
    for (int i = 0; i < BUCKETS; i++) {
        struct state *st = s->buckets[i];
        while (st) {
            struct state *n = st->next;
            free_state(st);
            st = n;
        }
    }
    pthread_mutex_destroy(&s->lock);
    OPENSSL_cleanse(s->secret, sizeof(s->secret));
    gw_free(s);
}

/* MAC over the payload and the principal binding (not carried in the id: a session id shown
 * by another principal simply fails to verify). */
static void mac(const struct gw_sessions *s, const unsigned char *payload, const char *binding,
                unsigned char *out)
{
    unsigned char full[EVP_MAX_MD_SIZE], input[PAYLOAD + 64];
    unsigned int n = 0;
    size_t blen = binding ? strnlen(binding, 64) : 0;
    memcpy(input, payload, PAYLOAD);
    memcpy(input + PAYLOAD, binding ? binding : "", blen);
    HMAC(EVP_sha256(), s->secret, sizeof(s->secret), input, PAYLOAD + blen, full, &n);
    memcpy(out, full, MAC);
}

void gw_session_issue(struct gw_sessions *s, enum gw_mcp_version v, uint8_t caps,
                      const char *binding, struct gw_session_claims *out)
{
    unsigned char buf[PAYLOAD + MAC];
    uint64_t t = now_s();
    buf[0] = FORMAT;
    buf[1] = (unsigned char)v;
    buf[2] = caps;
    for (int i = 0; i < 8; i++)
        buf[3 + i] = (unsigned char)(t >> (56 - 8 * i));
    RAND_bytes(buf + 11, 12);
    mac(s, buf, binding, buf + PAYLOAD);
    out->version = v;
    out->caps = caps;
    out->issued_at = t;
    gw_b64url_encode(buf, sizeof(buf), out->id);
}

static int decode(const char *id, unsigned char *buf)
{
    size_t n = strlen(id);
    if (n != 52)
        return GW_ENOTFOUND;
    unsigned char tmp[64];
    long len = gw_b64url_decode(id, n, tmp);
    if (len != PAYLOAD + MAC || tmp[0] != FORMAT)
        return GW_ENOTFOUND;
    memcpy(buf, tmp, PAYLOAD + MAC);
    return GW_OK;
}

static void fill_claims(const unsigned char *buf, const char *id, struct gw_session_claims *out)
{
    out->version = (enum gw_mcp_version)buf[1];
    out->caps = buf[2];
    out->issued_at = 0;
    for (int i = 0; i < 8; i++)
        out->issued_at = (out->issued_at << 8) | buf[3 + i];
    snprintf(out->id, sizeof(out->id), "%s", id);
}

int gw_session__decode(const char *id, struct gw_session_claims *out)
{
    unsigned char buf[PAYLOAD + MAC];
    if (decode(id, buf) != GW_OK)
        return GW_ENOTFOUND;
    fill_claims(buf, id, out);
    return GW_OK;
}

/* Caller holds the lock. */
static struct state *lookup(struct gw_sessions *s, const char *id, bool create, uint64_t expires)
{
    unsigned h = hash(id);
    for (struct state *st = s->buckets[h]; st; st = st->next)
        if (strcmp(st->id, id) == 0)
            return st;
    if (!create)
        return NULL;
    /* occasionally sweep expired entries so the table stays bounded by live sessions */
    if ((++s->ops & 1023) == 0) {
        uint64_t now = now_s();
        for (int i = 0; i < BUCKETS; i++) {
            struct state **pp = &s->buckets[i];
            while (*pp) {
                if ((*pp)->expires_at < now) {
                    struct state *dead = *pp;
                    *pp = dead->next;
                    free_state(dead);
                } else {
                    pp = &(*pp)->next;
                }
            }
        }
    }
    struct state *st = gw_xcalloc(1, sizeof(*st));
    snprintf(st->id, sizeof(st->id), "%s", id);
    st->expires_at = expires;
    st->log_level = -1;
    st->next = s->buckets[h];
    s->buckets[h] = st;
    return st;
}

int gw_session_verify(struct gw_sessions *s, const char *id, const char *binding,
                      struct gw_session_claims *out)
{
    unsigned char buf[PAYLOAD + MAC], want[MAC];
    if (!id || decode(id, buf) != GW_OK)
        return GW_ENOTFOUND;
    mac(s, buf, binding, want);
    if (CRYPTO_memcmp(want, buf + PAYLOAD, MAC) != 0)
        return GW_ENOTFOUND;
    fill_claims(buf, id, out);
    if (out->version == GW_MCP_V_UNKNOWN || out->version > GW_MCP_LATEST_LEGACY)
        return GW_ENOTFOUND;
    if (out->issued_at + s->ttl < now_s())
        return GW_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, id, false, 0);
    bool dead = st && st->terminated;
    pthread_mutex_unlock(&s->lock);
    return dead ? GW_ENOTFOUND : GW_OK;
}

/* Shares a change when a sync hook is installed. */
static int publish(struct gw_sessions *s, const struct gw_session_change *chg,
                   gw_session_done_fn done, void *arg)
{
    if (!s->sync.publish)
        return GW_OK;
    return s->sync.publish(s->sync.ud, chg, done, arg);
}

int gw_session_terminate_then(struct gw_sessions *s, const char *id, const char *binding,
                              gw_session_done_fn done, void *arg)
{
    struct gw_session_claims c;
    if (gw_session_verify(s, id, binding, &c) != GW_OK)
        return GW_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, id, true, c.issued_at + s->ttl);
    st->terminated = true;
    pthread_mutex_unlock(&s->lock);
    struct gw_session_change chg = {GW_SESSION_TERMINATED, id, c.issued_at + s->ttl, 0, NULL};
    return publish(s, &chg, done, arg) == GW_AGAIN ? GW_AGAIN : GW_OK;
}

int gw_session_terminate(struct gw_sessions *s, const char *id, const char *binding)
{
    return gw_session_terminate_then(s, id, binding, NULL, NULL) == GW_ENOTFOUND ? GW_ENOTFOUND
                                                                                 : GW_OK;
}

void gw_sessions_set_sync(struct gw_sessions *s, const struct gw_session_sync *sync)
{
    if (sync)
        s->sync = *sync;
    else
        memset(&s->sync, 0, sizeof(s->sync));
}

static void set_sub(struct state *st, const char *uri, bool on)
{
    int at = -1;
    for (int i = 0; i < st->nsubs; i++)
        if (strcmp(st->subs[i], uri) == 0)
            at = i;
    if (on && at < 0 && st->nsubs < MAX_SUBS)
        st->subs[st->nsubs++] = gw_xstrdup(uri);
    else if (!on && at >= 0) {
        gw_free(st->subs[at]);
        st->subs[at] = st->subs[--st->nsubs];
    }
}

void gw_sessions_apply(struct gw_sessions *s, const struct gw_session_change *chg)
{
    if (!chg->id || strlen(chg->id) >= GW_SESSION_ID_MAX)
        return;
    uint64_t exp = chg->expires_at ? chg->expires_at : now_s() + s->ttl;
    if (exp < now_s())
        return; /* expired anyway */
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, chg->id, true, exp);
    switch (chg->kind) {
    case GW_SESSION_TERMINATED: st->terminated = true; break;
    case GW_SESSION_LOG_LEVEL:
        if (chg->level >= -1 && chg->level < 8)
            st->log_level = chg->level;
        break;
    case GW_SESSION_SUBSCRIBED:
    case GW_SESSION_UNSUBSCRIBED:
        if (chg->uri && *chg->uri)
            set_sub(st, chg->uri, chg->kind == GW_SESSION_SUBSCRIBED);
        break;
    case GW_SESSION_SUBS_CLEARED:
        for (int i = 0; i < st->nsubs; i++)
            gw_free(st->subs[i]);
        st->nsubs = 0;
        break;
    default: break;
    }
    pthread_mutex_unlock(&s->lock);
}

int gw_session_log_level(struct gw_sessions *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, id, false, 0);
    int lvl = st ? st->log_level : -1;
    pthread_mutex_unlock(&s->lock);
    return lvl;
}

/* When the session expires: from its id when it decodes, else a full TTL from now. */
static uint64_t expiry_of(struct gw_sessions *s, const char *id)
{
    struct gw_session_claims c;
    if (gw_session__decode(id, &c) == GW_OK && c.issued_at)
        return c.issued_at + s->ttl;
    return now_s() + s->ttl;
}

void gw_session_set_log_level(struct gw_sessions *s, const char *id, int level)
{
    uint64_t exp = expiry_of(s, id);
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, id, true, exp);
    st->log_level = level;
    pthread_mutex_unlock(&s->lock);
    struct gw_session_change chg = {GW_SESSION_LOG_LEVEL, id, exp, level, NULL};
    publish(s, &chg, NULL, NULL);
}

void gw_session_subscribe(struct gw_sessions *s, const char *id, const char *uri, bool on)
{
    uint64_t exp = expiry_of(s, id);
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, id, true, exp);
    set_sub(st, uri, on);
    pthread_mutex_unlock(&s->lock);
    struct gw_session_change chg = {on ? GW_SESSION_SUBSCRIBED : GW_SESSION_UNSUBSCRIBED, id, exp,
                                    0, uri};
    publish(s, &chg, NULL, NULL);
}

bool gw_session_subscribed(struct gw_sessions *s, const char *id, const char *uri)
{
    pthread_mutex_lock(&s->lock);
    struct state *st = lookup(s, id, false, 0);
    bool found = false;
    for (int i = 0; st && i < st->nsubs; i++)
        if (strcmp(st->subs[i], uri) == 0)
            found = true;
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* ---------- sealed state (2026-07-28 requestState) ---------- */

#define SEAL_MAX 8192

char *gw_sessions_seal(struct gw_sessions *s, const json_t *state)
{
    char *js = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
    if (!js)
        return NULL;
    size_t n = strlen(js);
    unsigned char mac_full[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), s->secret, sizeof(s->secret), (const unsigned char *)js, n, mac_full,
         &mlen);
    char *out = gw_xmalloc(gw_b64url_len(n) + gw_b64url_len(mlen) + 3);
    size_t a = gw_b64url_encode((const unsigned char *)js, n, out);
    out[a] = '.';
    gw_b64url_encode(mac_full, mlen, out + a + 1);
    gw_free(js);
    return out;
}

json_t *gw_sessions_unseal(struct gw_sessions *s, const char *sealed)
{
    if (!sealed)
        return NULL;
    size_t n = strlen(sealed);
    const char *dot = strchr(sealed, '.');
    if (!dot || n > SEAL_MAX)
        return NULL;
    size_t plen = (size_t)(dot - sealed), mlen64 = n - plen - 1;
    unsigned char *payload = gw_xmalloc(plen * 3 / 4 + 4);
    unsigned char mac_got[64], mac_want[EVP_MAX_MD_SIZE];
    json_t *out = NULL;
    long pl = gw_b64url_decode(sealed, plen, payload);
    long ml = mlen64 <= 86 ? gw_b64url_decode(dot + 1, mlen64, mac_got) : -1;
    unsigned int wl = 0;
    if (pl < 0 || ml != 32)
        goto out;
    /* re-encode and compare, so trailing garbage a lenient decoder ignores cannot pass */
    char check[128];
    if (gw_b64url_encode(mac_got, 32, check) != mlen64 || memcmp(check, dot + 1, mlen64) != 0)
        goto out;
    HMAC(EVP_sha256(), s->secret, sizeof(s->secret), payload, (size_t)pl, mac_want, &wl);
    if (CRYPTO_memcmp(mac_want, mac_got, 32) != 0)
        goto out;
    json_error_t je;
    out = json_loadb((const char *)payload, (size_t)pl, 0, &je);
out:
    gw_free(payload);
    return out;
}
