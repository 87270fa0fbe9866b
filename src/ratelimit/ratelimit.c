/*
 * src/ratelimit/ratelimit.c
 * The limiter (see ratelimit.h): from a request's facts to a batch of GCRA items, one backend
 * check, and a verdict with the headers and the message that go with it.
 *
 * A check's life (struct check, heap, one per request that has at least one rule):
 *   build (rules x facts -> items) -> backend check -+-> answered now -----------> conclude
 *                                                    +-> GW_AGAIN ... on_done --> conclude
 *                                                    +-> failed: failure mode --> conclude
 * conclude() turns the batch into the verdict (call: allow / -32008 / -32009; HTTP: admitted /
 * 429 / 503), adds the RateLimit headers, counts, and frees the check.
 * tools/call runs two handlers in the RATELIMIT phase: "ratelimit" checks enforced AND dry-run
 * rules in one batch (one Redis round trip) and leaves the dry-run outcome in a thread-local
 * stash keyed by the call; "ratelimit-dry-run", registered right after it (the pipeline runs it
 * next, on the same loop thread), reports that outcome so the pipeline records it as a dry-run
 * denial.
 * Keys: "<prefix>rl:{<rule id>:<32 hex of SHA-256 over the per-dimension values>}" (one hash
 * slot each; the values themselves, user ids and addresses, are not stored in Redis).
 */
#include "ratelimit/ratelimit.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "ctx/ctx.h"
#include "kv/kv.h"
#include "mcp/mcp_exchange.h"
#include "mcp/mcp_jsonrpc.h"
#include "pipeline/pipeline.h"
#include "ratelimit/ratelimit_ip.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct handler_ud {
    struct gw_ratelimit *rl;
};

struct gw_ratelimit {
    struct gw_rl_backend primary; /* memory or redis */
    struct gw_rl_backend local;   /* the in-process backend (primary itself when memory) */
    bool redis;
    bool headers;
    enum gw_rl_failure on_failure;
    struct gw_rl_cidrs trusted;
    char prefix[64];
    pthread_mutex_t lock;
    struct gw_rl_ruleset *rules;
    struct handler_ud h_enforce, h_dry;
    atomic_ullong checks, allowed, limited, http_limited, dry_run_limited, backend_errors,
        fail_local, fail_open, fail_closed;
    atomic_ullong last_warn_ms;
};

/* The facts keys and matches are made of. */
struct facts {
    const char *ip;
    char user[600];
    const char *subject;
    const char *client;
    const char *tool;
    const char *risk;
    const char *tenant;
    const struct gw_principal *who;
};

struct check {
    struct gw_ratelimit *rl;
    struct gw_rl_ruleset *rs;
    const struct gw_rl_rule *rule[GW_RL_MAX_ITEMS];
    struct gw_rl_batch b; /* check_new clears what precedes this member */
    bool http;
    /* tools/call */
    struct gw_call *call;
    char tool[72];
    /* HTTP admission */
    struct gw_mcp_admission *adm;
    gw_mcp_admit_done_fn done;
    void *done_arg;
};

/* The dry-run outcome of the last call checked on this thread (see the file comment). */
static _Thread_local struct {
    const struct gw_call *call;
    bool refused;
    char rule[GW_RL_ID_MAX + 1];
    char reason[256];
} dry_stash;

/* Bounded copies without snprintf (these run several times per call). */
static size_t cpy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

static size_t cat3(char *dst, size_t size, const char *a, const char *b, const char *c)
{
    size_t n = cpy(dst, size, a);
    n += cpy(dst + n, size - n, b);
    n += cpy(dst + n, size - n, c);
    return n;
}

/* Per-thread scratch, freed when the thread exits (pthread key destructor): a digest context
 * (the one-shot SHA256() of OpenSSL 3 fetches the algorithm on every call) and recycled checks
 * (a call takes one and returns it on the same loop). */
#define CHECK_CACHE 32
struct rl_tls {
    EVP_MD_CTX *md;
    struct check *cache[CHECK_CACHE];
    int cached;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static EVP_MD *fetched_sha256;

static void tls_free(void *p)
{
    struct rl_tls *t = p;
    EVP_MD_CTX_free(t->md);
    for (int i = 0; i < t->cached; i++)
        gw_free(t->cache[i]);
    gw_free(t);
}

static void tls_init(void)
{
    pthread_key_create(&tls_key, tls_free);
    fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static struct rl_tls *tls(void)
{
    pthread_once(&tls_once, tls_init);
    struct rl_tls *t = pthread_getspecific(tls_key);
    if (!t) {
        t = gw_xcalloc(1, sizeof(*t));
        t->md = EVP_MD_CTX_new();
        pthread_setspecific(tls_key, t);
    }
    return t;
}

static void sha256(const void *data, size_t n, unsigned char out[32])
{
    struct rl_tls *t = tls();
    unsigned int len = 0;
    if (!fetched_sha256 || !t->md || EVP_DigestInit_ex2(t->md, fetched_sha256, NULL) != 1 ||
        EVP_DigestUpdate(t->md, data, n) != 1 || EVP_DigestFinal_ex(t->md, out, &len) != 1)
        SHA256(data, n, out);
}

static struct check *check_new(void)
{
    struct rl_tls *t = tls();
    struct check *k = t->cached ? t->cache[--t->cached] : gw_xmalloc(sizeof(*k));
    /* only the header: items are written whole as they are added */
    memset(k, 0, offsetof(struct check, b));
    k->b.n = 0;
    k->b.refused = false;
    k->tool[0] = '\0';
    k->call = NULL;
    k->adm = NULL;
    k->done = NULL;
    k->done_arg = NULL;
    k->http = false;
    return k;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------- set-up ---------- */

int gw_ratelimit_new(const struct gw_ratelimit_config *cfg, struct gw_kv *kv,
                     struct gw_ratelimit **out, struct gw_error *err)
{
    *out = NULL;
    struct gw_rl_cidrs trusted;
    if (gw_rl_cidrs_parse(cfg->trusted_proxies, &trusted, err) != GW_OK)
        return GW_EINVAL;
    if (cfg->use_redis && !gw_kv_enabled(kv))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_RATELIMIT_BACKEND=redis needs REDIS_URL (the Redis to share "
                            "limits through)");
    struct gw_ratelimit *rl = gw_xcalloc(1, sizeof(*rl));
    rl->trusted = trusted;
    rl->headers = cfg->headers;
    rl->on_failure = cfg->on_failure;
    snprintf(rl->prefix, sizeof(rl->prefix), "%s", kv ? gw_kv_prefix(kv) : "gw:");
    pthread_mutex_init(&rl->lock, NULL);
    rl->rules = gw_rl_ruleset_new();
    gw_rl_mem_init(&rl->local, cfg->memory_max_keys, cfg->clock_us, cfg->clock_ud);
    if (cfg->use_redis) {
        gw_rl_redis_init(&rl->primary, kv, cfg->cluster);
        rl->redis = true;
    } else {
        rl->primary = rl->local;
    }
    rl->h_enforce.rl = rl;
    rl->h_dry.rl = rl;
    *out = rl;
    return GW_OK;
}

void gw_ratelimit_free(struct gw_ratelimit *rl)
{
    if (!rl)
        return;
    if (rl->redis)
        rl->primary.ops->destroy(rl->primary.self);
    rl->local.ops->destroy(rl->local.self);
    gw_rl_ruleset_unref(rl->rules);
    pthread_mutex_destroy(&rl->lock);
    gw_free(rl);
}

void gw_ratelimit_set_rules(struct gw_ratelimit *rl, struct gw_rl_ruleset *rs)
{
    struct gw_rl_ruleset *next = rs ? gw_rl_ruleset_ref(rs) : gw_rl_ruleset_new();
    pthread_mutex_lock(&rl->lock);
    struct gw_rl_ruleset *old = rl->rules;
    rl->rules = next;
    pthread_mutex_unlock(&rl->lock);
    gw_rl_ruleset_unref(old);
}

struct gw_rl_ruleset *gw_ratelimit_rules(struct gw_ratelimit *rl)
{
    pthread_mutex_lock(&rl->lock);
    struct gw_rl_ruleset *rs = gw_rl_ruleset_ref(rl->rules);
    pthread_mutex_unlock(&rl->lock);
    return rs;
}

void gw_ratelimit_client_ip(const struct gw_ratelimit *rl, const char *peer, const char *xff,
                            char *out, size_t size)
{
    gw_rl_client_ip(&rl->trusted, peer, xff, out, size);
}

void gw_ratelimit_stats(struct gw_ratelimit *rl, struct gw_ratelimit_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->backend = rl->redis ? "redis" : "memory";
    struct gw_rl_ruleset *rs = gw_ratelimit_rules(rl);
    out->rules = gw_rl_ruleset_count(rs);
    gw_rl_ruleset_unref(rs);
    out->checks = atomic_load(&rl->checks);
    out->allowed = atomic_load(&rl->allowed);
    out->limited = atomic_load(&rl->limited);
    out->http_limited = atomic_load(&rl->http_limited);
    out->dry_run_limited = atomic_load(&rl->dry_run_limited);
    out->backend_errors = atomic_load(&rl->backend_errors);
    out->fail_local = atomic_load(&rl->fail_local);
    out->fail_open = atomic_load(&rl->fail_open);
    out->fail_closed = atomic_load(&rl->fail_closed);
    out->memory_keys = rl->local.ops->count(rl->local.self);
}

/* ---------- matching and keys ---------- */

static bool in_list(const struct gw_rl_list *l, const char *s)
{
    for (size_t i = 0; s && i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static unsigned risk_bit(const char *risk)
{
    if (!risk)
        return 0;
    if (strcmp(risk, "read") == 0)
        return GW_RL_RISK_READ;
    if (strcmp(risk, "privileged") == 0)
        return GW_RL_RISK_PRIVILEGED;
    return GW_RL_RISK_WRITE;
}

static bool matches(const struct gw_rl_rule *r, const struct facts *f)
{
    if (r->tools.n && !in_list(&r->tools, f->tool))
        return false;
    if (r->risks && !(r->risks & risk_bit(f->risk)))
        return false;
    if (r->clients.n && !in_list(&r->clients, f->client))
        return false;
    if (r->users.n && !in_list(&r->users, f->subject))
        return false;
    if (r->tenants.n && !in_list(&r->tenants, f->tenant))
        return false;
    if (r->roles.n) {
        bool any = false;
        for (size_t i = 0; f->who && i < f->who->nroles && !any; i++)
            any = in_list(&r->roles, f->who->roles[i]);
        if (!any)
            return false;
    }
    return true;
}

/* Appends "dim=value\x1f" to the key material (values are bounded: principal strings are at
 * most 256 bytes, so the buffer never overflows; a value that would not fit is cut, which keeps
 * the key deterministic). */
static size_t key_part(char *buf, size_t size, size_t at, const char *dim, const char *v)
{
    size_t dl = strlen(dim), vl = v ? strlen(v) : 0;
    if (at + dl + vl + 2 >= size)
        vl = at + dl + 2 < size ? size - at - dl - 2 : 0;
    if (at + dl + vl + 2 >= size)
        return at;
    memcpy(buf + at, dim, dl);
    buf[at + dl] = '=';
    memcpy(buf + at + dl + 1, v ? v : "", vl);
    buf[at + dl + 1 + vl] = '\x1f';
    return at + dl + vl + 2;
}

/* Adds the item of rule r for the facts (and one role when r is per role). */
static void add_item(struct check *k, const struct gw_rl_rule *r, const struct facts *f,
                     const char *role, bool enforce)
{
    if (k->b.n >= GW_RL_MAX_ITEMS) {
        GW_LOG(GW_LOG_WARN, "ratelimit", "more than %d limits apply to one request: rule %s "
                                         "skipped",
               GW_RL_MAX_ITEMS, r->id);
        return;
    }
    struct gw_rl_item *it = &k->b.item[k->b.n];
    if (r->per) {
        char m[2400];
        size_t at = 0;
        m[0] = '\0';
        if (r->per & GW_RL_PER_IP)
            at = key_part(m, sizeof(m), at, "ip", f->ip);
        if (r->per & GW_RL_PER_USER)
            at = key_part(m, sizeof(m), at, "user", f->user);
        if (r->per & GW_RL_PER_CLIENT)
            at = key_part(m, sizeof(m), at, "client", f->client);
        if (r->per & GW_RL_PER_TOOL)
            at = key_part(m, sizeof(m), at, "tool", f->tool);
        if (r->per & GW_RL_PER_ROLE)
            at = key_part(m, sizeof(m), at, "role", role);
        if (r->per & GW_RL_PER_RISK)
            at = key_part(m, sizeof(m), at, "risk", f->risk);
        if (r->per & GW_RL_PER_TENANT)
            at = key_part(m, sizeof(m), at, "tenant", f->tenant);
        unsigned char md[32];
        sha256(m, at, md);
        char hex[33];
        gw_hex_encode(md, 16, hex);
        size_t n = cat3(it->key, sizeof(it->key), k->rl->prefix, "rl:{", r->id);
        cat3(it->key + n, sizeof(it->key) - n, ":", hex, "}");
    } else {
        size_t n = cat3(it->key, sizeof(it->key), k->rl->prefix, "rl:{", r->id);
        cpy(it->key + n, sizeof(it->key) - n, "}");
    }
    it->interval_us = r->interval_us;
    it->burst = (int64_t)r->burst;
    it->enforce = enforce;
    k->rule[k->b.n++] = r;
}

/* Adds the items of every rule of `scope` that applies. */
static void build(struct check *k, enum gw_rl_scope scope, const struct facts *f)
{
    for (size_t i = 0; i < gw_rl_ruleset_count(k->rs); i++) {
        const struct gw_rl_rule *r = gw_rl_ruleset_at(k->rs, i);
        if (!r->enabled || r->scope != scope || !matches(r, f))
            continue;
        bool enforce = r->mode == GW_RL_ENFORCE;
        if (r->per & GW_RL_PER_ROLE) {
            /* one counter per role of the caller (those the rule names, when it names any) */
            for (size_t j = 0; f->who && j < f->who->nroles; j++)
                if (!r->roles.n || in_list(&r->roles, f->who->roles[j]))
                    add_item(k, r, f, f->who->roles[j], enforce);
        } else {
            add_item(k, r, f, NULL, enforce);
        }
    }
}

static bool any_rule(const struct gw_rl_ruleset *rs, enum gw_rl_scope scope)
{
    for (size_t i = 0; i < gw_rl_ruleset_count(rs); i++) {
        const struct gw_rl_rule *r = gw_rl_ruleset_at(rs, i);
        if (r->enabled && r->scope == scope)
            return true;
    }
    return false;
}

static void check_free(struct check *k)
{
    gw_rl_ruleset_unref(k->rs);
    struct rl_tls *t = tls();
    if (t->cached < CHECK_CACHE)
        t->cache[t->cached++] = k;
    else
        gw_free(k);
}

/* ---------- outcome ---------- */

static int64_t secs_up(int64_t us)
{
    int64_t s = (us + 999999) / 1000000;
    return s < 1 ? 1 : s;
}

/* The item that decides the headers: a refused enforced item with the longest wait, else the
 * enforced item with the fewest requests left. -1 when none is enforced. */
static int deciding_item(const struct check *k)
{
    int best = -1;
    for (int i = 0; i < k->b.n; i++) {
        const struct gw_rl_item *it = &k->b.item[i];
        if (!it->enforce)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        const struct gw_rl_item *b = &k->b.item[best];
        if (!it->allowed && (b->allowed || it->retry_us > b->retry_us))
            best = i;
        else if (it->allowed && b->allowed && it->remaining < b->remaining)
            best = i;
    }
    return best;
}

/* `"<id>";<a>=<x>;<b>=<y>` into out (bounded like snprintf). */
static void header_item(char *out, size_t size, const char *id, const char *a, long long x,
                        const char *b, long long y)
{
    char nx[24], ny[24];
    gw_i64_to_dec(x, nx);
    gw_i64_to_dec(y, ny);
    size_t n = cat3(out, size, "\"", id, "\";");
    n += cat3(out + n, size - n, a, nx, ";");
    cat3(out + n, size - n, b, ny, "");
}

/* The RateLimit-Policy and RateLimit values of item i (every checked call: no printf). */
static void header_values(const struct check *k, int i, char *policy, char *state, size_t size)
{
    const struct gw_rl_rule *r = k->rule[i];
    const struct gw_rl_item *it = &k->b.item[i];
    header_item(policy, size, r->id, "q=", (long long)r->limit, "w=",
                (long long)(r->period_ms / 1000 ? r->period_ms / 1000 : 1));
    header_item(state, size, r->id, "r=", (long long)it->remaining, "t=",
                (long long)(it->allowed ? (it->reset_us + 999999) / 1000000
                                        : secs_up(it->retry_us)));
}

static void refusal_text(const struct check *k, int i, char *msg, size_t size)
{
    const struct gw_rl_rule *r = k->rule[i];
    char what[200];
    gw_rl_rule_describe(r, what, sizeof(what));
    long long wait = (long long)secs_up(k->b.item[i].retry_us);
    if (k->http)
        snprintf(msg, size,
                 "Too Many Requests: limit '%s' allows %s; retry after %lld s (Retry-After)",
                 r->id, what, wait);
    else
        snprintf(msg, size,
                 "Rate limit exceeded for tool '%s': limit '%s' allows %s. Retry this call "
                 "after %lld s; calling again sooner will be refused too",
                 k->tool, r->id, what, wait);
}

static json_t *refusal_data(const struct check *k, int i)
{
    const struct gw_rl_rule *r = k->rule[i];
    const struct gw_rl_item *it = &k->b.item[i];
    json_t *rj = gw_rl_rule_json(r);
    json_t *per = json_incref(json_object_get(rj, "per"));
    json_decref(rj);
    return json_pack("{s:I,s:I,s:s,s:I,s:I,s:I,s:o}", "retryAfterSeconds",
                     (json_int_t)secs_up(it->retry_us), "retryAfterMs",
                     (json_int_t)((it->retry_us + 999) / 1000), "limit", r->id, "quota",
                     (json_int_t)r->limit, "windowSeconds", (json_int_t)(r->period_ms / 1000),
                     "burst", (json_int_t)r->burst, "per", per);
}

static void warn_backend(struct gw_ratelimit *rl, int rc)
{
    atomic_fetch_add(&rl->backend_errors, 1);
    unsigned long long now = now_ms(), last = atomic_load(&rl->last_warn_ms);
    if (now - last < 10000 || !atomic_compare_exchange_strong(&rl->last_warn_ms, &last, now))
        return;
    static const char *const what[] = {
        ("the in-process limiter takes over (limits hold per replica)"),
        ("calls are allowed unchecked (fail open)"), ("calls are refused (fail closed)")};
    GW_LOG(GW_LOG_WARN, "ratelimit", "Redis cannot answer rate-limit checks (%s): %s",
           gw_rc_name(rc), what[rl->on_failure]);
}

/* The backend failed: applies the failure mode. Returns GW_OK (the batch now holds an
 * answer: local), GW_DECLINED (open: allow without an answer) or GW_EDENIED (closed). */
static int on_failure(struct check *k, int rc)
{
    struct gw_ratelimit *rl = k->rl;
    warn_backend(rl, rc);
    switch (rl->on_failure) {
    case GW_RL_FAIL_LOCAL:
        atomic_fetch_add(&rl->fail_local, 1);
        rl->local.ops->check(rl->local.self, NULL, &k->b, NULL, NULL);
        return GW_OK;
    case GW_RL_FAIL_OPEN:
        atomic_fetch_add(&rl->fail_open, 1);
        return GW_DECLINED;
    case GW_RL_FAIL_CLOSED:
        atomic_fetch_add(&rl->fail_closed, 1);
        return GW_EDENIED;
    }
    return GW_DECLINED;
}

/* Records the dry-run outcome of the batch for the dry-run handler and counts it. */
static void stash_dry(struct check *k, bool answered)
{
    dry_stash.call = k->call;
    dry_stash.refused = false;
    if (!answered)
        return;
    for (int i = 0; i < k->b.n; i++) {
        if (k->b.item[i].enforce || k->b.item[i].allowed)
            continue;
        atomic_fetch_add(&k->rl->dry_run_limited, 1);
        if (!dry_stash.refused) {
            dry_stash.refused = true;
            snprintf(dry_stash.rule, sizeof(dry_stash.rule), "%s", k->rule[i]->id);
            refusal_text(k, i, dry_stash.reason, sizeof(dry_stash.reason));
        }
    }
}

/* The verdict of a tools/call check whose backend answered (rc GW_OK) or failed. */
static int conclude_call(struct check *k, int rc, struct gw_phase_verdict *v)
{
    struct gw_ratelimit *rl = k->rl;
    int how = rc == GW_OK ? GW_OK : on_failure(k, rc);
    stash_dry(k, how == GW_OK);
    struct gw_ctx *ctx = gw_call_ctx(k->call);
    if (how == GW_DECLINED) {
        atomic_fetch_add(&rl->allowed, 1);
        snprintf(v->reason, sizeof(v->reason), "rate limiter unavailable: allowed (fail open)");
        return GW_OK;
    }
    if (how == GW_EDENIED) {
        atomic_fetch_add(&rl->limited, 1);
        snprintf(v->reason, sizeof(v->reason),
                 "The gateway cannot check rate limits right now (its shared limiter is "
                 "unavailable) and refuses calls until it is back. Retry after 1 s");
        v->jsonrpc_code = GW_GATEWAY_LIMITER_UNAVAILABLE;
        v->data = json_pack("{s:i,s:s}", "retryAfterSeconds", 1, "reason", "limiter_unavailable");
        gw_ctx_add_header(ctx, "Retry-After", "1");
        return GW_EDENIED;
    }
    int d = deciding_item(k);
    if (d >= 0 && rl->headers) {
        char policy[160], state[160];
        header_values(k, d, policy, state, sizeof(policy));
        gw_ctx_add_header(ctx, "RateLimit-Policy", policy);
        gw_ctx_add_header(ctx, "RateLimit", state);
    }
    if (!k->b.refused) {
        atomic_fetch_add(&rl->allowed, 1);
        return GW_OK;
    }
    atomic_fetch_add(&rl->limited, 1);
    refusal_text(k, d, v->reason, sizeof(v->reason));
    snprintf(v->rule_id, sizeof(v->rule_id), "%s", k->rule[d]->id);
    v->jsonrpc_code = GW_GATEWAY_RATE_LIMITED;
    v->data = refusal_data(k, d);
    char ra[24];
    snprintf(ra, sizeof(ra), "%lld", (long long)secs_up(k->b.item[d].retry_us));
    gw_ctx_add_header(ctx, "Retry-After", ra);
    GW_LOG(GW_LOG_DEBUG, "ratelimit", "tool %s refused by limit %s (retry after %s s)", k->tool,
           k->rule[d]->id, ra);
    return GW_EDENIED;
}

/* ---------- tools/call ---------- */

static void on_call_done(void *arg, int rc)
{
    struct check *k = arg;
    struct gw_phase_verdict v;
    memset(&v, 0, sizeof(v));
    struct gw_call *call = k->call;
    int out = conclude_call(k, rc, &v);
    check_free(k);
    gw_call_resume(call, out, &v);
}

static void call_facts(struct gw_ratelimit *rl, struct gw_call *call, struct facts *f,
                       char *ip, size_t ipsize)
{
    struct gw_ctx *ctx = gw_call_ctx(call);
    const struct gw_principal *who = gw_call_principal(call);
    const struct gw_tool_entry *tool = gw_call_tool(call);
    gw_rl_client_ip(&rl->trusted, gw_ctx_peer(ctx),
                    gw_mcp_x_header(gw_call_exchange(call), "X-Forwarded-For"), ip, ipsize);
    memset(f, 0, sizeof(*f));
    f->ip = ip;
    f->who = who;
    f->tool = tool->name;
    f->risk = tool->risk;
    f->tenant = who->tenant;
    f->subject = who->subject;
    f->client = who->method == GW_AUTH_API_KEY && who->key_id[0] ? who->key_id : who->client_id;
    if (who->method == GW_AUTH_ANONYMOUS) /* no identity: each address is its own "user" */
        cat3(f->user, sizeof(f->user), "anonymous@", ip, "");
    else
        cat3(f->user, sizeof(f->user), who->issuer, "\n", who->subject);
}

static int call_enforce(void *ud, struct gw_call *call, struct gw_phase_verdict *v)
{
    struct gw_ratelimit *rl = ((struct handler_ud *)ud)->rl;
    dry_stash.call = NULL;
    struct gw_rl_ruleset *rs = gw_ratelimit_rules(rl);
    if (!any_rule(rs, GW_RL_SCOPE_CALL)) {
        gw_rl_ruleset_unref(rs);
        return GW_OK;
    }
    struct facts f;
    char ip[64];
    call_facts(rl, call, &f, ip, sizeof(ip));
    struct check *k = check_new();
    k->rl = rl;
    k->rs = rs;
    k->call = call;
    cpy(k->tool, sizeof(k->tool), f.tool);
    build(k, GW_RL_SCOPE_CALL, &f);
    if (k->b.n == 0) {
        check_free(k);
        return GW_OK;
    }
    atomic_fetch_add(&rl->checks, 1);
    int rc = rl->primary.ops->check(rl->primary.self, gw_ctx_loop(gw_call_ctx(call)), &k->b,
                                    on_call_done, k);
    if (rc == GW_AGAIN)
        return GW_AGAIN;
    int out = conclude_call(k, rc, v);
    check_free(k);
    return out;
}

static int call_dry_run(void *ud, struct gw_call *call, struct gw_phase_verdict *v)
{
    (void)ud;
    if (dry_stash.call != call || !dry_stash.refused) {
        dry_stash.call = NULL;
        return GW_OK;
    }
    dry_stash.call = NULL;
    snprintf(v->reason, sizeof(v->reason), "%s", dry_stash.reason);
    snprintf(v->rule_id, sizeof(v->rule_id), "%s", dry_stash.rule);
    return GW_EDENIED;
}

int gw_ratelimit_attach(struct gw_ratelimit *rl, struct gw_pipeline *p)
{
    int rc = gw_pipeline_add(p, GW_PHASE_RATELIMIT, "ratelimit", call_enforce, &rl->h_enforce,
                             GW_PHASE_ENFORCE);
    if (rc == GW_OK)
        rc = gw_pipeline_add(p, GW_PHASE_RATELIMIT, "ratelimit-dry-run", call_dry_run,
                             &rl->h_dry, GW_PHASE_DRY_RUN);
    return rc;
}

/* ---------- HTTP admission ---------- */

static void add_adm_header(struct gw_mcp_admission *a, const char *name, const char *value)
{
    if (a->nheaders >= GW_MCP_ADMIT_HEADERS)
        return;
    cpy(a->headers[a->nheaders][0], sizeof(a->headers[0][0]), name);
    cpy(a->headers[a->nheaders][1], sizeof(a->headers[0][1]), value);
    a->nheaders++;
}

static void conclude_http(struct check *k, int rc)
{
    struct gw_ratelimit *rl = k->rl;
    struct gw_mcp_admission *a = k->adm;
    int how = rc == GW_OK ? GW_OK : on_failure(k, rc);
    if (how == GW_DECLINED) {
        atomic_fetch_add(&rl->allowed, 1);
        return;
    }
    if (how == GW_EDENIED) {
        atomic_fetch_add(&rl->limited, 1);
        a->status = 503;
        a->jsonrpc_code = GW_GATEWAY_LIMITER_UNAVAILABLE;
        snprintf(a->message, sizeof(a->message),
                 "Service Unavailable: the gateway cannot check rate limits right now; retry "
                 "after 1 s");
        add_adm_header(a, "Retry-After", "1");
        return;
    }
    for (int i = 0; i < k->b.n; i++) {
        if (k->b.item[i].enforce || k->b.item[i].allowed)
            continue;
        atomic_fetch_add(&rl->dry_run_limited, 1);
        char msg[320];
        refusal_text(k, i, msg, sizeof(msg));
        GW_LOG(GW_LOG_INFO, "ratelimit", "dry-run: would refuse: %s", msg);
    }
    int d = deciding_item(k);
    if (d >= 0 && rl->headers) {
        char policy[160], state[160];
        header_values(k, d, policy, state, sizeof(policy));
        add_adm_header(a, "RateLimit-Policy", policy);
        add_adm_header(a, "RateLimit", state);
    }
    if (!k->b.refused) {
        atomic_fetch_add(&rl->allowed, 1);
        return;
    }
    atomic_fetch_add(&rl->limited, 1);
    atomic_fetch_add(&rl->http_limited, 1);
    a->status = 429;
    a->jsonrpc_code = GW_GATEWAY_RATE_LIMITED;
    refusal_text(k, d, a->message, sizeof(a->message));
    a->data = refusal_data(k, d);
    char ra[24];
    snprintf(ra, sizeof(ra), "%lld", (long long)secs_up(k->b.item[d].retry_us));
    add_adm_header(a, "Retry-After", ra);
}

static void on_http_done(void *arg, int rc)
{
    struct check *k = arg;
    conclude_http(k, rc);
    gw_mcp_admit_done_fn done = k->done;
    void *done_arg = k->done_arg;
    check_free(k);
    done(done_arg);
}

int gw_ratelimit_admit(void *ud, struct gw_loop *loop, const char *peer,
                       const char *forwarded_for, struct gw_mcp_admission *out,
                       gw_mcp_admit_done_fn done, void *arg)
{
    struct gw_ratelimit *rl = ud;
    struct gw_rl_ruleset *rs = gw_ratelimit_rules(rl);
    if (!any_rule(rs, GW_RL_SCOPE_HTTP)) {
        gw_rl_ruleset_unref(rs);
        return GW_OK;
    }
    char ip[64];
    gw_rl_client_ip(&rl->trusted, peer, forwarded_for, ip, sizeof(ip));
    struct facts f;
    memset(&f, 0, sizeof(f));
    f.ip = ip;
    struct check *k = check_new();
    k->rl = rl;
    k->rs = rs;
    k->http = true;
    k->adm = out;
    k->done = done;
    k->done_arg = arg;
    build(k, GW_RL_SCOPE_HTTP, &f);
    if (k->b.n == 0) {
        check_free(k);
        return GW_OK;
    }
    atomic_fetch_add(&rl->checks, 1);
    int rc = rl->primary.ops->check(rl->primary.self, loop, &k->b, on_http_done, k);
    if (rc == GW_AGAIN)
        return GW_AGAIN;
    conclude_http(k, rc);
    check_free(k);
    return GW_OK;
}
