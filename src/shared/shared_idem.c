/*
 * src/shared/shared_idem.c
 * The idempotency store on Redis (an upstream_idem.h backend with begin_async): one hash per
 * key, "<prefix>idem:{<32 hex of SHA-256 of the scoped key>}" with fields fp (the arguments'
 * fingerprint), st ("i" in flight / "d" done) and res (the stored CallToolResult text).
 * Each operation is one script (atomic): begin reserves or reports (replay / mismatch / in
 * flight), complete stores the result of an in-flight reservation, abort drops it. A
 * reservation expires after inflight_ms (a replica that died mid-call cannot hold a key for
 * ever); a result after ttl_ms. The scoped key itself (caller, tool, client key) is not
 * stored, only its digest.
 * complete/abort are sent without waiting: if Redis is gone by then, the reservation simply
 * expires (retries meanwhile are told the call is in progress). When begin cannot reach Redis
 * the executor refuses the write (it could not be protected against duplicates).
 */
#include "shared/shared_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "net/net_loop.h"
#include "upstream/upstream_exec.h"
#include "upstream/upstream_idem.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

/* KEYS[1]; ARGV: fp, inflight_ms. Returns {0} new, {1, result} replay, {2} mismatch,
 * {3} in flight. */
static struct gw_kv_script begin_script = {
    "idempotency-begin",
    "local v = redis.call('HMGET', KEYS[1], 'fp', 'st', 'res')\n"
    "if not v[1] then\n"
    "  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'st', 'i')\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return {0}\n"
    "end\n"
    "if v[1] ~= ARGV[1] then return {2} end\n"
    "if v[2] == 'i' then return {3} end\n"
    "return {1, v[3] or ''}\n",
    ""};

/* KEYS[1]; ARGV: result, ttl_ms. */
static struct gw_kv_script complete_script = {
    "idempotency-complete",
    "if redis.call('HGET', KEYS[1], 'st') == 'i' then\n"
    "  redis.call('HSET', KEYS[1], 'st', 'd', 'res', ARGV[1])\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n",
    ""};

static struct gw_kv_script abort_script = {
    "idempotency-abort",
    "if redis.call('HGET', KEYS[1], 'st') == 'i' then redis.call('DEL', KEYS[1]) return 1 end\n"
    "return 0\n",
    ""};

struct rstore {
    struct gw_shared *sh;
    uint64_t ttl_ms, inflight_ms;
};

static void rkey(const struct rstore *s, const char *key, char *out, size_t size)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, strlen(key), md);
    char hex[33];
    gw_hex_encode(md, 16, hex);
    gw_kv_key(s->sh->kv, out, size, "idem:", hex, "");
}

static int r_begin(void *self, const char *key, const unsigned char fp[32], uint64_t now_ms,
                   enum gw_idem_verdict *out, char **out_result, size_t *out_len)
{
    (void)self;
    (void)key;
    (void)fp;
    (void)now_ms;
    (void)out;
    (void)out_result;
    (void)out_len;
    return GW_EIO; /* only begin_async is used with this store */
}

struct begin_wait {
    struct rstore *s;
    gw_idem_begin_fn done;
    void *arg;
};

static void on_begin(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct begin_wait *w = arg;
    enum gw_idem_verdict v = GW_IDEM_NEW;
    const char *res = NULL;
    size_t len = 0;
    if (rc == GW_OK && (gw_kv_reply_type(r) != GW_KV_ARRAY || gw_kv_reply_count(r) < 1))
        rc = GW_EIO;
    if (rc == GW_OK) {
        long long code = gw_kv_reply_int_at(r, 0);
        if (code == 0)
            v = GW_IDEM_NEW;
        else if (code == 1) {
            v = GW_IDEM_REPLAY;
            res = gw_kv_reply_str(gw_kv_reply_at(r, 1), &len);
        } else if (code == 2)
            v = GW_IDEM_MISMATCH;
        else if (code == 3)
            v = GW_IDEM_IN_FLIGHT;
        else
            rc = GW_EIO;
    }
    if (rc != GW_OK)
        atomic_fetch_add(&w->s->sh->idem_failures, 1);
    w->done(w->arg, rc, v, res, len);
    gw_free(w);
}

static int r_begin_async(void *self, const char *key, const unsigned char fp[32],
                         gw_idem_begin_fn done, void *arg)
{
    struct rstore *s = self;
    atomic_fetch_add(&s->sh->idem_begins, 1);
    struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
    if (!c) {
        atomic_fetch_add(&s->sh->idem_failures, 1);
        return GW_EIO;
    }
    char k[160], fph[65], ttl[24];
    rkey(s, key, k, sizeof(k));
    gw_hex_encode(fp, 32, fph);
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)s->inflight_ms);
    const char *keys[] = {k};
    const char *args[] = {fph, ttl};
    struct begin_wait *w = gw_xmalloc(sizeof(*w));
    w->s = s;
    w->done = done;
    w->arg = arg;
    int rc = gw_kv_eval(c, &begin_script, 1, keys, 2, args, on_begin, w);
    if (rc != GW_OK) {
        gw_free(w);
        atomic_fetch_add(&s->sh->idem_failures, 1);
        return rc;
    }
    return GW_AGAIN;
}

static void ignore(void *arg, int rc, const struct gw_kv_reply *r)
{
    (void)arg;
    (void)r;
    if (rc != GW_OK)
        GW_LOG(GW_LOG_WARN, "shared", "an idempotency result could not be stored in Redis (%s); "
                                      "its reservation expires by itself",
               gw_rc_name(rc));
}

static void r_complete(void *self, const char *key, const char *result, size_t len,
                       uint64_t now_ms)
{
    (void)now_ms;
    struct rstore *s = self;
    struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
    char k[160], ttl[24];
    rkey(s, key, k, sizeof(k));
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)s->ttl_ms);
    char *copy = gw_xstrndup(result, len); /* scripts take NUL-terminated arguments */
    const char *keys[] = {k};
    const char *args[] = {copy, ttl};
    if (!c || gw_kv_eval(c, &complete_script, 1, keys, 2, args, ignore, NULL) != GW_OK)
        ignore(NULL, GW_EIO, NULL);
    gw_free(copy);
}

static void r_abort(void *self, const char *key)
{
    struct rstore *s = self;
    struct gw_kv_conn *c = gw_kv_conn_of(gw_loop_current());
    char k[160];
    rkey(s, key, k, sizeof(k));
    const char *keys[] = {k};
    if (c)
        gw_kv_eval(c, &abort_script, 1, keys, 0, NULL, ignore, NULL);
}

static size_t r_count(void *self)
{
    (void)self;
    return 0;
}

static void r_destroy(void *self)
{
    gw_free(self);
}

static const struct gw_idem_ops redis_ops = {"redis",  r_begin,   r_complete,   r_abort,
                                             r_count,  r_destroy, r_begin_async};

int gw_shared_idem_attach(struct gw_shared *sh, struct gw_upstreams *ups, uint64_t ttl_ms,
                          uint64_t inflight_ms, struct gw_error *err)
{
    (void)err;
    if (!gw_kv_enabled(sh->kv))
        return GW_OK;
    gw_kv_script_register(sh->kv, &begin_script);
    gw_kv_script_register(sh->kv, &complete_script);
    gw_kv_script_register(sh->kv, &abort_script);
    struct rstore *s = gw_xcalloc(1, sizeof(*s));
    s->sh = sh;
    s->ttl_ms = ttl_ms ? ttl_ms : 86400000u;
    s->inflight_ms = inflight_ms ? inflight_ms : 600000u;
    struct gw_idem_store store = {&redis_ops, s};
    gw_upstreams_set_idem_store(ups, &store);
    return GW_OK;
}
