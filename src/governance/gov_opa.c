/*
 * src/governance/gov_opa.c
 * OPA as the policy decision point (GW_POLICY_ENGINE = opa | both): the "opa" AUTHORIZE
 * handler, registered after the built-in "authorize" handler, asks OPA's Data API
 *     POST <GW_OPA_URL>/v1/data/<GW_OPA_PATH>   {"input": {principal, tool, arguments, context}}
 * and reads {"result": true|false} or {"result": {"allow", "reason", "rule", "hint",
 * "confirm"}}. Anything else (no result = an undefined decision, wrong types, garbage, another
 * status, a timeout, a refused connection, an answer over 64 KiB) is a failure, handled by
 * GW_OPA_FAILURE: `closed` refuses the call (the pipeline records GW_VERDICT_ERROR with the
 * reason), `open` allows it with the error recorded.
 *
 * Order inside AUTHORIZE: the built-in handler decides risk and elevation (and, with "both",
 * its own policies first); when the call needs the user's confirmation it does NOT ask yet but
 * leaves its result in the context's GW_CTX_SLOT_POLICY (gw_gov__opa_defer_confirm), so that
 * the user is never asked to confirm a call OPA then refuses; this handler decides and, when
 * the built-in rules or OPA ("confirm": true) want it, runs the confirmation (gov_confirm.c).
 *
 * Asynchronous: each worker loop has its own gw_httpc (GW_LOOP_SLOT_POLICY, made by
 * gw_gov_loop_start); the handler answers GW_AGAIN and the completion callback resumes the
 * call on that loop. Nothing blocks, except gw_gov__opa_test (the policy tester, run on the
 * admin pool or the CLI), which drives a private event base until OPA answers.
 * Cache: decisions (never failures) are kept per input digest for GW_OPA_CACHE_SECONDS, shared
 * by the loops under one mutex, bounded (GW_OPA_CACHE_ENTRIES; oldest evicted first). The digest
 * is SHA-256 of the canonical input (sorted keys, compact) without context.now, so a decision
 * may be up to the TTL old (time conditions see the time of the cached decision).
 */
#include "governance/gov_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "httpc/httpc_client.h"
#include "mcp/mcp_jsonrpc.h"
#include "net/net_loop.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define OPA_MAX_RESPONSE (64u * 1024u) /* a decision is small; more is a misconfiguration */
#define OPA_PATH_MAX 43                /* "opa:" + path fits a decision record's version */

const struct gw_setting_def gw_gov_opa_settings[] = {
    {"GW_POLICY_ENGINE", GW_SET_ENUM, "builtin", 0, 0, "builtin|opa|both", "Governance",
     "Who decides the policy stage of AUTHORIZE: `builtin` (the rules of GW_GOVERNANCE_FILE and "
     "the database), `opa` (an OPA server, GW_OPA_URL; exposure, risk, elevation and the tools' "
     "confirmation flags stay built-in), or `both` (the built-in policies first, then OPA; "
     "either may refuse)."},
    {"GW_OPA_URL", GW_SET_STRING, "", 0, 0, NULL, "Governance",
     "Base URL of the OPA server (http:// or https://, no query; e.g. `http://127.0.0.1:8181`). "
     "Required when GW_POLICY_ENGINE is `opa` or `both`. Plain http is meant for a sidecar on "
     "loopback: the input carries the caller's claims."},
    {"GW_OPA_PATH", GW_SET_STRING, "msil/mcp/decision", 0, 0, NULL, "Governance",
     "The decision document asked for: `POST <GW_OPA_URL>/v1/data/<GW_OPA_PATH>` (a Rego "
     "package path and rule, `/`-separated; at most 43 characters). It is recorded as the "
     "policy version `opa:<path>`."},
    {"GW_OPA_TIMEOUT_MS", GW_SET_INT, "250", 10, 60000, NULL, "Governance",
     "How long a call waits for OPA's decision (connecting included) before the failure mode "
     "applies."},
    {"GW_OPA_FAILURE", GW_SET_ENUM, "closed", 0, 0, "closed|open", "Governance",
     "When OPA cannot decide (timeout, unreachable, an error, an undefined or malformed "
     "result): `closed` refuses the call, `open` allows it. Either way the failure is recorded "
     "in the call's decision record and logged."},
    {"GW_OPA_CACHE_SECONDS", GW_SET_INT, "5", 0, 3600, NULL, "Governance",
     "How long OPA's decision for the same input (principal, tool, arguments, context except "
     "the clock) is reused without asking again. 0 turns the cache off."},
    {"GW_OPA_CACHE_ENTRIES", GW_SET_INT, "10000", 16, 1048576, NULL, "Governance",
     "Decisions kept in the OPA decision cache (the oldest go first)."},
    {"GW_OPA_TOKEN", GW_SET_SECRET, "", 0, 0, NULL, "Governance",
     "Bearer token sent to OPA (`Authorization: Bearer ...`, for OPA's "
     "`--authentication=token`). Empty: none."},
    GW_SETTINGS_END};

enum opa_engine { ENGINE_BUILTIN, ENGINE_OPA, ENGINE_BOTH };

/* ---------------------------------------------------------------- the cache */

struct opa_entry {
    struct opa_entry *hnext;         /* bucket chain */
    struct opa_entry *older, *newer; /* insertion order = expiry order (one TTL for all) */
    unsigned char key[32];
    int64_t expires_ms;
    struct gw_opa_decision d;
};

struct gw_opa_cache {
    pthread_mutex_t lock;
    size_t max, n, nbuckets;
    int64_t ttl_ms;
    struct opa_entry **buckets;
    struct opa_entry *oldest, *newest;
};

struct gw_opa_cache *gw_gov__opa_cache_new(size_t max_entries, int64_t ttl_ms)
{
    struct gw_opa_cache *c = gw_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->max = max_entries ? max_entries : 1;
    c->ttl_ms = ttl_ms;
    c->nbuckets = 64;
    while (c->nbuckets < c->max && c->nbuckets < (1u << 20))
        c->nbuckets <<= 1;
    c->buckets = gw_xcalloc(c->nbuckets, sizeof(*c->buckets));
    return c;
}

static size_t bucket_of(const struct gw_opa_cache *c, const unsigned char key[32])
{
    size_t h = 0;
    memcpy(&h, key, sizeof(h)); /* a SHA-256 prefix is already uniform */
    return h & (c->nbuckets - 1);
}

/* Unlinks and frees the oldest entry. Under the lock. */
static void evict_oldest(struct gw_opa_cache *c)
{
    struct opa_entry *e = c->oldest;
    if (!e)
        return;
    for (struct opa_entry **pp = &c->buckets[bucket_of(c, e->key)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    }
    c->oldest = e->newer;
    if (c->oldest)
        c->oldest->older = NULL;
    else
        c->newest = NULL;
    c->n--;
    gw_free(e);
}

void gw_gov__opa_cache_free(struct gw_opa_cache *c)
{
    if (!c)
        return;
    while (c->oldest)
        evict_oldest(c);
    gw_free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    gw_free(c);
}

bool gw_gov__opa_cache_get(struct gw_opa_cache *c, const unsigned char key[32], int64_t now_ms,
                           struct gw_opa_decision *out)
{
    if (!c || c->ttl_ms <= 0)
        return false;
    bool found = false;
    pthread_mutex_lock(&c->lock);
    while (c->oldest && c->oldest->expires_ms <= now_ms)
        evict_oldest(c);
    for (struct opa_entry *e = c->buckets[bucket_of(c, key)]; e; e = e->hnext) {
        if (!memcmp(e->key, key, 32)) {
            *out = e->d;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

void gw_gov__opa_cache_put(struct gw_opa_cache *c, const unsigned char key[32], int64_t now_ms,
                           const struct gw_opa_decision *d)
{
    if (!c || c->ttl_ms <= 0)
        return;
    pthread_mutex_lock(&c->lock);
    while (c->oldest && (c->oldest->expires_ms <= now_ms || c->n >= c->max))
        evict_oldest(c);
    size_t b = bucket_of(c, key);
    for (struct opa_entry *e = c->buckets[b]; e; e = e->hnext) {
        if (!memcmp(e->key, key, 32)) { /* two loops asked at once: keep the first */
            pthread_mutex_unlock(&c->lock);
            return;
        }
    }
    struct opa_entry *e = gw_xcalloc(1, sizeof(*e));
    memcpy(e->key, key, 32);
    e->expires_ms = now_ms + c->ttl_ms;
    e->d = *d;
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->n++;
    pthread_mutex_unlock(&c->lock);
}

size_t gw_gov__opa_cache_size(struct gw_opa_cache *c)
{
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->n;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---------------------------------------------------------------- the input and its digest */

/* "1.2.3.4:5678" -> "1.2.3.4", "[::1]:5678" -> "::1", anything else as it is: the port
 * changes with every connection and means nothing to a policy (nor to the cache key). */
static void peer_address(const char *peer, char *out, size_t size)
{
    if (!peer)
        peer = "-";
    size_t n = strlen(peer);
    if (peer[0] == '[') {
        const char *end = strchr(peer, ']');
        if (end)
            n = (size_t)(end - peer - 1), peer++;
    } else {
        const char *colon = strrchr(peer, ':');
        if (colon && strchr(peer, ':') == colon)
            n = (size_t)(colon - peer);
    }
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), peer);
}

json_t *gw_gov__opa_input(const struct gw_principal *p, const struct gw_rule_tool *t,
                          const json_t *args, int64_t now, const char *peer,
                          const char *transport, const char *method)
{
    char addr[128];
    peer_address(peer, addr, sizeof(addr));
    json_t *tool = json_pack("{s:s,s:s}", "name", t->name ? t->name : "", "risk",
                             gw_risk_name(t->risk));
    json_object_set_new(tool, "bundle", t->bundle ? json_string(t->bundle) : json_null());
    json_object_set_new(tool, "tags",
                        json_is_array(t->tags) ? json_deep_copy(t->tags) : json_array());
    json_t *context = json_pack("{s:I,s:s,s:s,s:s}", "now", (json_int_t)now, "peer", addr,
                                "transport", transport ? transport : "", "method",
                                method ? method : "");
    return json_pack("{s:o,s:o,s:o,s:o}", "principal", gw_rules_principal_json(p), "tool", tool,
                     "arguments",
                     json_is_object(args) ? json_incref((json_t *)args) : json_object(),
                     "context", context);
}

void gw_gov__opa_key(json_t *input, unsigned char key[32])
{
    json_t *context = json_object_get(input, "context");
    json_t *now = json_incref(json_object_get(context, "now"));
    if (now)
        json_object_del(context, "now"); /* the clock is not part of the key */
    char *canon = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    SHA256((const unsigned char *)(canon ? canon : ""), canon ? strlen(canon) : 0, key);
    gw_free(canon);
    if (now)
        json_object_set_new(context, "now", now);
}

/* ---------------------------------------------------------------- OPA's answer */

/* Copies at most size-1 bytes of s, never cutting a UTF-8 sequence, control characters as
 * spaces (the text reaches logs and agents). */
static void copy_text(char *out, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[n] = '\0';
}

static int optional_string(const json_t *obj, const char *name, char *out, size_t size,
                           struct gw_error *err)
{
    json_t *v = json_object_get(obj, name);
    out[0] = '\0';
    if (!v || json_is_null(v))
        return GW_OK;
    if (!json_is_string(v))
        return GW_ERROR_SET(err, GW_EINVAL, "\"%s\" in OPA's result is not a string", name);
    copy_text(out, size, json_string_value(v));
    return GW_OK;
}

int gw_gov__opa_parse(long http_status, const char *body, size_t len,
                      struct gw_opa_decision *d, struct gw_error *err)
{
    memset(d, 0, sizeof(*d));
    struct gw_json_limits lim = {OPA_MAX_RESPONSE, 32};
    struct gw_error perr = {0};
    json_t *doc = body && len ? gw_json_parse(body, len, &lim, &perr) : NULL;
    int rc = GW_EINVAL;
    if (http_status != 200) {
        /* OPA's errors: {"code": "internal_error", "message": "..."} */
        const char *code = gw_json_str(doc, "code"), *msg = gw_json_str(doc, "message");
        char m[160] = "";
        if (msg)
            copy_text(m, sizeof(m), msg);
        GW_ERROR_SET(err, GW_EUPSTREAM, "OPA answered HTTP %ld%s%.40s%s%s", http_status,
                     code ? " " : "", code ? code : "", m[0] ? ": " : "", m);
        rc = GW_EUPSTREAM;
        goto out;
    }
    if (!json_is_object(doc)) {
        GW_ERROR_SET(err, GW_EINVAL, "OPA's answer is not a JSON object%s%s",
                     perr.msg[0] ? ": " : "", perr.msg);
        goto out;
    }
    const char *id = gw_json_str(doc, "decision_id");
    if (id)
        copy_text(d->decision_id, sizeof(d->decision_id), id);
    json_t *res = json_object_get(doc, "result");
    if (!res) {
        GW_ERROR_SET(err, GW_EINVAL, "OPA's decision is undefined (no rule at the path "
                                     "produced a value: is the policy loaded?)");
        goto out;
    }
    if (json_is_boolean(res)) {
        d->allow = json_is_true(res);
        rc = GW_OK;
        goto out;
    }
    if (!json_is_object(res)) {
        GW_ERROR_SET(err, GW_EINVAL, "OPA's result is neither a boolean nor an object");
        goto out;
    }
    json_t *allow = json_object_get(res, "allow");
    if (!json_is_boolean(allow)) {
        GW_ERROR_SET(err, GW_EINVAL, "OPA's result has no boolean \"allow\"");
        goto out;
    }
    d->allow = json_is_true(allow);
    json_t *confirm = json_object_get(res, "confirm");
    if (confirm && !json_is_null(confirm) && !json_is_boolean(confirm)) {
        GW_ERROR_SET(err, GW_EINVAL, "\"confirm\" in OPA's result is not a boolean");
        goto out;
    }
    d->confirm = json_is_true(confirm);
    if (optional_string(res, "reason", d->reason, sizeof(d->reason), err) != GW_OK ||
        optional_string(res, "rule", d->rule, sizeof(d->rule), err) != GW_OK ||
        optional_string(res, "hint", d->hint, sizeof(d->hint), err) != GW_OK)
        goto out;
    rc = GW_OK;
out:
    json_decref(doc);
    if (rc != GW_OK) {
        memset(d, 0, sizeof(*d)); /* a failure never reads as a decision */
        if (err)
            err->code = rc;
    }
    return rc;
}

/* ---------------------------------------------------------------- configuration */

struct gov_opa {
    enum opa_engine engine;
    char url[1280];     /* the decision's full URL */
    char path[OPA_PATH_MAX + 1];
    char version[48];   /* "opa:<path>" */
    char auth[1100];    /* "Authorization: Bearer ..." or "" */
    long timeout_ms;
    bool fail_open;
    struct gw_opa_cache *cache;
    atomic_ullong requests, failures, denials, cache_hits;
    atomic_llong last_log_s; /* failure logs: at most one a second */
    atomic_ullong unlogged;
};

static bool valid_path(const char *p)
{
    size_t n = strlen(p);
    if (!n || n > OPA_PATH_MAX || p[0] == '/' || p[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!word && !(ch == '/' && p[i + 1] != '/'))
            return false;
    }
    return true;
}

static bool loopback_host(const char *h)
{
    return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "[::1]") ||
           !strcmp(h, "::1");
}

/* Checks GW_OPA_URL with libcurl's URL parser: http(s), a host, no credentials, no query or
 * fragment. Writes the decision URL. */
static int check_url(const char *base, const char *path, char *out, size_t size,
                     bool *plain_remote, struct gw_error *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *frag = NULL;
    int rc = GW_EINVAL;
    if (!u) {
        return GW_ERROR_SET(err, GW_ENOMEM, "GW_OPA_URL: out of memory");
    }
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_URL is not a URL (expected e.g. "
                                     "http://127.0.0.1:8181)");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_URL must be an http:// or https:// URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_URL must not carry credentials (use GW_OPA_TOKEN)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_URL must not have a query or a fragment");
        goto out;
    }
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    if ((size_t)snprintf(out, size, "%.*s/v1/data/%s", (int)n, base, path) >= size) {
        GW_ERROR_SET(err, GW_ELIMIT, "GW_OPA_URL is too long");
        goto out;
    }
    *plain_remote = !strcmp(scheme, "http") && !loopback_host(host);
    rc = GW_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

int gw_gov__opa_new(const struct gw_settings *s, struct gov_opa **out, struct gw_error *err)
{
    *out = NULL;
    const char *engine = gw_settings_str(s, "GW_POLICY_ENGINE");
    const char *url = gw_settings_str(s, "GW_OPA_URL");
    if (!strcmp(engine, "builtin")) {
        if (url && *url)
            GW_LOG(GW_LOG_WARN, "governance", "GW_OPA_URL is set but GW_POLICY_ENGINE=builtin: "
                                              "OPA is not asked");
        return GW_OK;
    }
    if (!url || !*url)
        return GW_ERROR_SET(err, GW_EINVAL, "GW_POLICY_ENGINE=%s needs GW_OPA_URL (the OPA "
                                            "server, e.g. http://127.0.0.1:8181)", engine);
    const char *path = gw_settings_str(s, "GW_OPA_PATH");
    if (!valid_path(path))
        return GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_PATH must be 1-%d characters of letters, "
                                            "digits, '_' and '-' in '/'-separated segments "
                                            "(e.g. msil/mcp/decision)", OPA_PATH_MAX);
    const char *token = gw_settings_str(s, "GW_OPA_TOKEN");
    for (const char *t = token; *t; t++)
        if ((unsigned char)*t <= 0x20 || *t == 0x7f)
            return GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_TOKEN must not contain spaces or "
                                                "control characters");
    if (strlen(token) > 1000)
        return GW_ERROR_SET(err, GW_EINVAL, "GW_OPA_TOKEN is longer than 1000 characters");
    struct gov_opa *o = gw_xcalloc(1, sizeof(*o));
    bool plain_remote = false;
    int rc = check_url(url, path, o->url, sizeof(o->url), &plain_remote, err);
    if (rc != GW_OK) {
        gw_free(o);
        return rc;
    }
    o->engine = !strcmp(engine, "opa") ? ENGINE_OPA : ENGINE_BOTH;
    snprintf(o->path, sizeof(o->path), "%s", path);
    snprintf(o->version, sizeof(o->version), "opa:%s", path);
    if (*token)
        snprintf(o->auth, sizeof(o->auth), "Authorization: Bearer %s", token);
    o->timeout_ms = (long)gw_settings_int(s, "GW_OPA_TIMEOUT_MS");
    o->fail_open = !strcmp(gw_settings_str(s, "GW_OPA_FAILURE"), "open");
    o->cache = gw_gov__opa_cache_new((size_t)gw_settings_int(s, "GW_OPA_CACHE_ENTRIES"),
                                     gw_settings_int(s, "GW_OPA_CACHE_SECONDS") * 1000);
    if (plain_remote)
        GW_LOG(GW_LOG_WARN, "governance", "GW_OPA_URL is plain http to a host that is not "
                                          "loopback: the principal's claims cross the network "
                                          "unencrypted (use https)");
    GW_LOG(GW_LOG_INFO, "governance",
           "policy engine %s: OPA decision %s (timeout %ld ms, fail %s, cache %lld s)", engine,
           o->url, o->timeout_ms, o->fail_open ? "open" : "closed",
           gw_settings_int(s, "GW_OPA_CACHE_SECONDS"));
    *out = o;
    return GW_OK;
}

void gw_gov__opa_free(struct gov_opa *o)
{
    if (!o)
        return;
    gw_gov__opa_cache_free(o->cache);
    gw_free(o);
}

bool gw_gov__opa_only(const struct gov_opa *o)
{
    return o && o->engine == ENGINE_OPA;
}

void gw_gov__opa_stats(const struct gov_opa *o, struct gw_gov_stats *out)
{
    struct gov_opa *m = (struct gov_opa *)o;
    if (!m)
        return;
    out->opa_requests = atomic_load(&m->requests);
    out->opa_failures = atomic_load(&m->failures);
    out->opa_denials = atomic_load(&m->denials);
    out->opa_cache_hits = atomic_load(&m->cache_hits);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A failure is logged as a warning at most once a second (an OPA outage must not flood the
 * logs); the others at debug level. */
static void log_failure(struct gov_opa *o, const char *tool, const char *why)
{
    int64_t now = gw_clock_now();
    long long last = atomic_load(&o->last_log_s);
    if (last == now || !atomic_compare_exchange_strong(&o->last_log_s, &last, now)) {
        atomic_fetch_add(&o->unlogged, 1);
        GW_LOG(GW_LOG_DEBUG, "governance", "OPA could not decide %s: %s; %s (GW_OPA_FAILURE=%s)",
               tool, why, o->fail_open ? "allowed" : "refused", o->fail_open ? "open" : "closed");
        return;
    }
    unsigned long long more = atomic_exchange(&o->unlogged, 0);
    char tail[96] = "";
    if (more)
        snprintf(tail, sizeof(tail), " [and %llu more failures since the last report]", more);
    GW_LOG(GW_LOG_WARN, "governance", "OPA could not decide %s: %s; %s (GW_OPA_FAILURE=%s)%s",
           tool, why, o->fail_open ? "allowed" : "refused", o->fail_open ? "open" : "closed",
           tail);
}

/* ---------------------------------------------------------------- per-loop client */

struct opa_wait;

struct opa_loop {
    struct gw_httpc *http;
    struct opa_wait *waits; /* outstanding requests (freed at loop stop) */
};

struct opa_wait {
    struct opa_wait *prev, *next;
    struct opa_loop *ol;
    struct gw_gov *g;
    struct gw_call *c;
    unsigned char key[32];
};

int gw_gov_loop_start(struct gw_gov *g, struct gw_loop *loop, struct gw_error *err)
{
    if (!g || !g->opa)
        return GW_OK;
    struct gw_httpc_options ho = {0};
    ho.max_cached_connections = 16; /* one OPA server: a few kept-alive connections */
    struct gw_httpc *http = gw_httpc_new(gw_loop_base(loop), &ho, err);
    if (!http)
        return err && err->code ? err->code : GW_ERR;
    struct opa_loop *ol = gw_xcalloc(1, sizeof(*ol));
    ol->http = http;
    gw_loop_set_slot(loop, GW_LOOP_SLOT_POLICY, ol);
    return GW_OK;
}

void gw_gov_loop_stop(struct gw_gov *g, struct gw_loop *loop)
{
    (void)g;
    struct opa_loop *ol = gw_loop_slot(loop, GW_LOOP_SLOT_POLICY);
    if (!ol)
        return;
    gw_httpc_free(ol->http); /* cancels what is pending: those callbacks never run */
    while (ol->waits) {
        struct opa_wait *w = ol->waits;
        ol->waits = w->next;
        gw_free(w);
    }
    gw_free(ol);
    gw_loop_set_slot(loop, GW_LOOP_SLOT_POLICY, NULL);
}

/* ---------------------------------------------------------------- deciding */

struct deferred {
    struct gw_authz_result r;
    char version[48];
};

void gw_gov__opa_defer_confirm(struct gw_call *c, const struct gw_authz_result *r,
                               const char *version)
{
    struct deferred *d = gw_xmalloc(sizeof(*d));
    d->r = *r;
    snprintf(d->version, sizeof(d->version), "%s", version);
    gw_ctx_put(gw_call_ctx(c), GW_CTX_SLOT_POLICY, d, gw_free);
}

/* Applies OPA's decision `d` (NULL: OPA failed, `why` says how) to the call: GW_OK, GW_EDENIED,
 * GW_EUPSTREAM (fail closed: the pipeline records the error and refuses), or the confirmation
 * step's answer (GW_AGAIN, GW_DECLINED, ...). */
static int decide(struct gw_gov *g, struct gw_call *c, const struct gw_opa_decision *d,
                  const char *why, bool cached, struct gw_phase_verdict *v)
{
    struct gov_opa *o = g->opa;
    struct gw_ctx *ctx = gw_call_ctx(c);
    const char *tool = gw_call_tool(c)->name;
    snprintf(v->policy_version, sizeof(v->policy_version), "%s", o->version);
    if (!d) {
        atomic_fetch_add(&o->failures, 1);
        log_failure(o, tool, why);
        if (!o->fail_open && !g->policy_dry_run) {
            snprintf(v->reason, sizeof(v->reason), "OPA: %s", why);
            return GW_EUPSTREAM; /* recorded as GW_VERDICT_ERROR; the call is refused */
        }
        char note[256];
        snprintf(note, sizeof(note), "OPA: %.200s (%s)", why,
                 o->fail_open ? "allowed: GW_OPA_FAILURE=open" : "dry run");
        gw_ctx_decide(ctx, GW_PHASE_AUTHORIZE, GW_VERDICT_ERROR, "opa", "", o->version, note);
    } else if (!d->allow) {
        atomic_fetch_add(&o->denials, 1);
        atomic_fetch_add(&g->denials, 1);
        const char *rule = d->rule[0] ? d->rule : "opa";
        char reason[256];
        if (d->reason[0])
            snprintf(reason, sizeof(reason), "%s", d->reason);
        else
            snprintf(reason, sizeof(reason), "the policy %.60s refused %.64s", o->path, tool);
        if (g->policy_dry_run) {
            gw_ctx_decide(ctx, GW_PHASE_AUTHORIZE, GW_VERDICT_DRY_RUN_DENY, "opa", rule,
                          o->version, reason);
        } else {
            snprintf(v->reason, sizeof(v->reason), "%s", reason);
            snprintf(v->rule_id, sizeof(v->rule_id), "%s", rule);
            v->jsonrpc_code = GW_GATEWAY_POLICY_DENIED;
            v->data = json_pack("{s:s,s:s,s:s,s:s}", "reason", reason, "rule", rule,
                                "policyVersion", o->version, "hint", d->hint);
            return GW_EDENIED;
        }
    }
    struct deferred *df = gw_ctx_get(ctx, GW_CTX_SLOT_POLICY);
    bool opa_confirm = d && d->allow && d->confirm;
    if (df || opa_confirm) {
        struct gw_authz_result r;
        const char *version = o->version;
        if (df) { /* the built-in rules asked first: their rule and reason */
            r = df->r;
            version = df->version;
        } else {
            memset(&r, 0, sizeof(r));
            r.verdict = GW_AUTHZ_CONFIRM;
            snprintf(r.rule_id, sizeof(r.rule_id), "%s", d->rule[0] ? d->rule : "opa");
            if (d->reason[0])
                snprintf(r.reason, sizeof(r.reason), "%s", d->reason);
            else
                snprintf(r.reason, sizeof(r.reason), "%.64s changes data: the user must "
                                                     "confirm it", tool);
        }
        char ver[48];
        snprintf(ver, sizeof(ver), "%s", version);
        gw_ctx_put(ctx, GW_CTX_SLOT_POLICY, NULL, NULL); /* frees df */
        return gw_gov__confirm(g, c, &r, ver, v);
    }
    if (d) {
        snprintf(v->rule_id, sizeof(v->rule_id), "%s", d->rule);
        if (cached)
            snprintf(v->reason, sizeof(v->reason), "cached OPA decision");
        else if (d->decision_id[0])
            snprintf(v->reason, sizeof(v->reason), "OPA decision %s", d->decision_id);
    }
    return GW_OK;
}

/* What went wrong at the transport level, in words. */
static void transport_failure(const struct gw_httpc_response *resp, long timeout_ms, char *out,
                              size_t size)
{
    switch (resp->status) {
    case GW_HTTPC_ETIMEOUT:
        snprintf(out, size, "no decision within %ld ms (GW_OPA_TIMEOUT_MS)", timeout_ms);
        break;
    case GW_HTTPC_ETOOLARGE:
        snprintf(out, size, "the answer is larger than %u bytes", OPA_MAX_RESPONSE);
        break;
    case GW_HTTPC_ECONNECT:
    case GW_HTTPC_EDNS:
    case GW_HTTPC_ETLS:
        snprintf(out, size, "the server cannot be reached (%s: %.120s)",
                 gw_httpc_status_name(resp->status), resp->error);
        break;
    default:
        snprintf(out, size, "the request failed (%s: %.120s)", gw_httpc_status_name(resp->status),
                 resp->error);
    }
}

/* Reads a completed response into a decision (GW_OK) or a failure text. */
static int read_response(struct gov_opa *o, struct gw_httpc_response *resp,
                         struct gw_opa_decision *d, char *why, size_t size)
{
    if (resp->status != GW_HTTPC_OK) {
        transport_failure(resp, o->timeout_ms, why, size);
        return GW_EUPSTREAM;
    }
    struct gw_error err = {0};
    int rc = gw_gov__opa_parse(resp->http_status, resp->body, resp->body_len, d, &err);
    if (rc != GW_OK)
        snprintf(why, size, "%s", err.msg);
    return rc;
}

static void unlink_wait(struct opa_wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        w->ol->waits = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

static void on_response(void *arg, struct gw_httpc_response *resp)
{
    struct opa_wait *w = arg;
    unlink_wait(w);
    struct gw_gov *g = w->g;
    struct gw_call *c = w->c;
    struct gov_opa *o = g->opa;
    struct gw_phase_verdict v;
    memset(&v, 0, sizeof(v));
    struct gw_opa_decision d;
    char why[256] = "";
    bool ok = read_response(o, resp, &d, why, sizeof(why)) == GW_OK;
    if (ok)
        gw_gov__opa_cache_put(o->cache, w->key, mono_ms(), &d);
    gw_free(w);
    int rc = GW_OK;
    if (!gw_call_cancelled(c)) { /* a cancelled call is only freed by the resume below */
        const char *prev = gw_ctx_enter(gw_call_ctx(c));
        rc = decide(g, c, ok ? &d : NULL, why, false, &v);
        gw_ctx_leave(prev);
    }
    if (rc != GW_AGAIN) /* GW_AGAIN: the confirmation resumes the call */
        gw_call_resume(c, rc, &v);
}

static json_t *input_of(struct gw_call *c, struct gw_rule_tool *rt)
{
    struct gw_ctx *ctx = gw_call_ctx(c);
    gw_rule_tool_from_def(gw_tool_def(gw_call_tool(c)), rt); /* parsed for the call anyway */
    return gw_gov__opa_input(gw_call_principal(c), rt, gw_call_args(c), gw_clock_now(),
                             gw_ctx_peer(ctx), gw_transport_name(gw_ctx_transport(ctx)),
                             gw_ctx_method(ctx));
}

int gw_gov__opa_authorize(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    struct gw_gov *g = ud;
    struct gov_opa *o = g->opa;
    struct gw_rule_tool rt;
    json_t *input = input_of(c, &rt);
    unsigned char key[32] = {0};
    bool caching = o->cache->ttl_ms > 0;
    if (caching) /* ~100k instructions: a canonical dump and its SHA-256 */
        gw_gov__opa_key(input, key);
    struct gw_opa_decision d;
    if (caching && gw_gov__opa_cache_get(o->cache, key, mono_ms(), &d)) {
        json_decref(input);
        atomic_fetch_add(&o->cache_hits, 1);
        return decide(g, c, &d, NULL, true, v);
    }
    struct opa_loop *ol = gw_loop_slot(gw_ctx_loop(gw_call_ctx(c)), GW_LOOP_SLOT_POLICY);
    json_t *doc = json_pack("{s:o}", "input", input);
    char *body = gw_json_dumps(doc);
    json_decref(doc);
    const char *headers[3] = {"Content-Type: application/json", "Accept: application/json",
                              o->auth};
    struct gw_httpc_request req = {0};
    req.method = "POST";
    req.url = o->url;
    req.headers = headers;
    req.nheaders = o->auth[0] ? 3 : 2;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = o->timeout_ms;
    req.connect_timeout_ms = o->timeout_ms;
    req.max_response_bytes = OPA_MAX_RESPONSE;
    struct gw_error err = {0};
    int rc = GW_ERR;
    struct opa_wait *w = NULL;
    if (!ol) {
        GW_ERROR_SET(&err, GW_ERR, "no OPA client on this loop (not started)");
    } else if (!body) {
        GW_ERROR_SET(&err, GW_ENOMEM, "the input could not be serialised");
    } else {
        w = gw_xcalloc(1, sizeof(*w));
        w->ol = ol;
        w->g = g;
        w->c = c;
        memcpy(w->key, key, sizeof(key));
        atomic_fetch_add(&o->requests, 1);
        rc = gw_httpc_submit(ol->http, &req, on_response, w, NULL, &err);
    }
    gw_free(body);
    if (rc != GW_OK) {
        gw_free(w);
        char why[256];
        snprintf(why, sizeof(why), "the request could not be sent: %.200s", err.msg);
        return decide(g, c, NULL, why, false, v);
    }
    w->next = ol->waits;
    if (ol->waits)
        ol->waits->prev = w;
    ol->waits = w;
    return GW_AGAIN;
}

/* ---------------------------------------------------------------- the tester (blocking) */

struct sync_wait {
    struct event_base *base;
    struct gov_opa *o;
    bool done;
    int rc;
    struct gw_opa_decision d;
    char why[256];
};

static void on_sync_response(void *arg, struct gw_httpc_response *resp)
{
    struct sync_wait *s = arg;
    s->rc = read_response(s->o, resp, &s->d, s->why, sizeof(s->why));
    s->done = true;
    event_base_loopbreak(s->base);
}

void gw_gov__opa_explain(struct gw_gov *g, const struct gw_principal *p,
                         const struct gw_rule_tool *t, const json_t *args, json_t *out)
{
    struct gov_opa *o = g->opa;
    json_t *input = gw_gov__opa_input(p, t, args, gw_clock_now(), "-", "admin", "tools/call");
    json_t *doc = json_pack("{s:o}", "input", input);
    char *body = gw_json_dumps(doc);
    json_decref(doc);
    struct sync_wait s = {0};
    s.o = o;
    s.base = event_base_new();
    struct gw_error err = {0};
    struct gw_httpc *http = s.base ? gw_httpc_new(s.base, NULL, &err) : NULL;
    const char *headers[3] = {"Content-Type: application/json", "Accept: application/json",
                              o->auth};
    struct gw_httpc_request req = {.method = "POST",
                                   .url = o->url,
                                   .headers = headers,
                                   .nheaders = o->auth[0] ? 3u : 2u,
                                   .body = body,
                                   .body_len = body ? strlen(body) : 0,
                                   .timeout_ms = o->timeout_ms,
                                   .connect_timeout_ms = o->timeout_ms,
                                   .max_response_bytes = OPA_MAX_RESPONSE};
    if (!http || !body) {
        snprintf(s.why, sizeof(s.why), "the request could not be prepared%s%.200s",
                 err.msg[0] ? ": " : "", err.msg);
    } else if (gw_httpc_submit(http, &req, on_sync_response, &s, NULL, &err) != GW_OK) {
        snprintf(s.why, sizeof(s.why), "the request could not be sent: %.200s", err.msg);
    } else {
        atomic_fetch_add(&o->requests, 1);
        while (!s.done && event_base_dispatch(s.base) == 0)
            ; /* bounded by the request's timeout */
    }
    gw_httpc_free(http);
    if (s.base)
        event_base_free(s.base);
    gw_free(body);
    bool ok = s.done && s.rc == GW_OK;
    if (!ok && !s.why[0])
        snprintf(s.why, sizeof(s.why), "no answer");
    const struct gw_opa_decision *d = &s.d;

    /* OPA's part, then the tester's verdict with it (as the handler would decide) */
    json_t *opa = json_pack("{s:s,s:s,s:s}", "engine", o->engine == ENGINE_OPA ? "opa" : "both",
                            "url", o->url, "policyVersion", o->version);
    json_t *fired = json_object_get(out, "fired"), *reasons = json_object_get(out, "reasons");
    const char *rule = ok && d->rule[0] ? d->rule : "opa";
    if (!ok) {
        atomic_fetch_add(&o->failures, 1);
        json_object_set_new(opa, "decision", json_string("error"));
        json_object_set_new(opa, "error", json_string(s.why));
        json_object_set_new(opa, "failureMode", json_string(o->fail_open ? "open" : "closed"));
        char r[320];
        snprintf(r, sizeof(r), "OPA: %s (GW_OPA_FAILURE=%s: %s)", s.why,
                 o->fail_open ? "open" : "closed", o->fail_open ? "allowed" : "refused");
        json_array_append_new(reasons, json_string(r));
        if (!o->fail_open && !g->policy_dry_run) {
            json_object_set_new(out, "decision", json_string("deny"));
            json_object_set_new(out, "stage", json_string("policy"));
            json_object_set_new(out, "rule", json_string("opa"));
        }
    } else {
        const char *verdict = !d->allow ? "deny" : d->confirm ? "confirm" : "allow";
        json_object_set_new(opa, "decision", json_string(verdict));
        json_object_set_new(opa, "rule", json_string(d->rule));
        json_object_set_new(opa, "reason", json_string(d->reason));
        json_object_set_new(opa, "hint", json_string(d->hint));
        if (d->decision_id[0])
            json_object_set_new(opa, "decisionId", json_string(d->decision_id));
        if (d->allow && !d->confirm && !d->rule[0])
            ; /* a bare allow fired no named rule */
        else
            json_array_append_new(fired, json_pack("{s:s,s:s,s:s,s:s}", "id", rule, "section",
                                                   "opa", "effect", verdict, "mode",
                                                   g->policy_dry_run && !d->allow ? "dry_run"
                                                                                  : "enforce"));
        if (!d->allow && !g->policy_dry_run) {
            json_array_clear(reasons);
            json_array_append_new(reasons, json_string(d->reason[0] ? d->reason
                                                                    : "refused by OPA"));
            json_object_set_new(out, "decision", json_string("deny"));
            json_object_set_new(out, "stage", json_string("policy"));
            json_object_set_new(out, "rule", json_string(rule));
            json_object_set_new(out, "hint", json_string(d->hint));
        } else if (d->allow && d->confirm) {
            const char *before = gw_json_str(out, "decision");
            if (before && !strcmp(before, "allow")) {
                json_object_set_new(out, "decision", json_string("confirm"));
                json_object_set_new(out, "rule", json_string(rule));
                if (d->reason[0])
                    json_array_append_new(reasons, json_string(d->reason));
            }
        }
    }
    json_object_set_new(out, "opa", opa);
}

bool gw_gov__opa_fail_open(const struct gov_opa *o)
{
    return o && o->fail_open;
}
