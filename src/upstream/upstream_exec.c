/*
 * src/upstream/upstream_exec.c
 * The per-worker executor: one call = one state machine on the worker's event loop.
 *
 *   gw_exec_call ─► PREPARE ──(bad args / replay / cache hit / conflict)──────────► FINISH
 *                      │
 *                      ▼
 *        ┌──────► ATTEMPT: token? ──wait──► TOKEN_WAIT ──(wake-up: token stored/failed)─┐
 *        │           │  breaker? ──open──────────────────────────────────────► FINISH     │
 *        │           ▼                                                                    │
 *        │        SENDING (gw_httpc) ──► response / transport error                       │
 *        │           │   401 + OAuth2, first time: drop the token ──► ATTEMPT ◄───────────┘
 *        │           │   retryable + allowed + attempts left + deadline allows
 *        └─ BACKOFF ◄┘   (full-jitter exponential wait on an event timer)
 *                    │   otherwise: result mapping, scrub, cache/idempotency store
 *                    ▼
 *                 FINISH ──(deferred to a 0 s timer when inside gw_exec_call or a wake-up
 *                           sweep)──► done(arg, result, info) ──► freed
 * Functions: prepare(), attempt(), on_http_done(), schedule_retry(), finish(), deliver().
 * Invariants:
 *  1. done runs exactly once per call unless cancelled, always from a loop callback.
 *  2. A call holds at most one breaker admission (bh_held) and releases it exactly once: with
 *     the attempt's outcome, or NEUTRAL when cancelled.
 *  3. An idempotency reservation (idem_reserved) ends with complete (stored result) or abort.
 *  4. Token fetches belong to the executor, not to a call: cancelling a call never leaves the
 *     shared token entry without a fetcher that will end (exec free abandons them).
 *  5. URLs (which may carry an API key in the query) are never logged; logs name the method
 *     and the path template.
 *  6. A server taken from the tool's spec (no base URL in the upstreams file) is only called
 *     through the executor's guarded client (SSRF policy on every connection it opens, its own
 *     connection cache); base URLs from the upstreams file use the trusted client.
 *  7. A POST/PATCH without an idempotency key is sent at most once (httpc no_replay), so
 *     neither the executor nor libcurl repeats a write the upstream may have processed.
 *  8. Credentials: everything the operation requires (plan_credentials), each header once.
 * Threading: one gw_exec per loop thread; the shared parts (struct gw_upstreams) lock
 * internally. Cross-thread wake-ups arrive through this executor's eventfd.
 */
#include "upstream/upstream_exec.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "httpc/httpc_client.h"
#include "upstream/upstream_conf.h"
#include "upstream/upstream_request.h"
#include "upstream/upstream_result.h"
#include "upstream/upstream_shape.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROTECTED 64
#define MAX_CREDS 64 /* credentials per upstream (the upstreams file allows 64) */
#define TOKEN_MAX_RESPONSE 65536u

enum call_state { ST_PREPARE, ST_IDEM_WAIT, ST_TOKEN_WAIT, ST_SENDING, ST_BACKOFF, ST_FINISHING };

struct gw_exec_call;
/* A reservation pending in a shared idempotency store; outlives a cancelled call. */
struct idem_wait {
    struct gw_exec_call *c; /* NULL once the call was cancelled */
    struct gw_upstreams *u;
    char *key;
};

struct token_fetch {
    struct gw_exec *ex;
    struct gw_upstream_conf *conf;
    struct gw_upstream_cred *cred;
    struct gw_httpc_call *hcall;
    struct token_fetch *next;
};

struct gw_exec {
    struct event_base *base;
    struct gw_upstreams *u;
    struct gw_httpc *http;         /* operator-configured upstreams and token endpoints */
    struct gw_httpc *http_guarded; /* spec-given servers: SSRF policy, own connections; lazy */
    int wake_fd;
    struct event *wake_ev;
    struct gw_exec_call *calls;
    size_t ncalls;
    struct token_fetch *fetches;
    bool defer_finish; /* inside a wake-up sweep: finish via timer */
    uint64_t rng;
};

struct gw_exec_call {
    struct gw_exec *ex;
    struct gw_exec_call *prev, *next;
    enum call_state state;
    bool in_submit;
    gw_exec_done_fn done;
    void *arg;
    gw_exec_progress_fn progress;
    void *progress_arg;
    struct gw_upstream_conf *conf;
    char *tool;
    const char *path_tmpl; /* points into `tool_ref`-independent copy below */
    char path_copy[256];
    struct gw_upstream_req req;
    struct gw_upstream_cred *oauth; /* the OAuth2 credential this call needs, if any */
    char *token;                    /* the token used by the current attempt (secret) */
    uint64_t token_gen;
    bool reauthed;
    unsigned attempt, max_attempts;
    bool retry_allowed;
    bool guarded;                   /* the server comes from the spec: SSRF guard applies */
    long timeout_ms, connect_timeout_ms;
    size_t max_response_bytes;
    uint64_t started_real, deadline;
    struct gw_httpc_call *hcall;
    struct event *timer;
    bool bh_held, bh_probe;
    char *idem_key;
    bool idem_reserved;
    struct idem_wait *idem_wait;  /* ST_IDEM_WAIT */
    char idem_client_key[256];
    char *cache_key;
    uint64_t cache_ttl_ms;
    struct gw_shape_spec shape;
    bool has_output_schema;
    json_t *tool_ref; /* held only when an output check is configured */
    /* outcome */
    json_t *result;
    enum gw_exec_outcome outcome;
    int http_status;
    size_t response_bytes;
    bool cache_hit, replay;
    char err[512];
};

/* Wall-independent milliseconds without the test clock offset (for latency). */
static uint64_t real_ms(void)
{
    return gw_upstreams_now_ms(NULL);
}

/* xorshift64*: jitter only, not security sensitive; one state per executor (no locking). */
static uint64_t rnd(struct gw_exec *ex)
{
    uint64_t x = ex->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ex->rng = x;
    return x * 2685821657736338717ull;
}

const char *gw_exec_outcome_name(enum gw_exec_outcome o)
{
    static const char *const names[] = {"ok",           "http_error",     "business_error",
                                        "timeout",      "connect_error",  "too_large",
                                        "breaker_open", "invalid_request", "credentials",
                                        "idempotency_conflict", "output_invalid", "internal",
                                        "bad_response", "address_denied"};
    return (unsigned)o < sizeof(names) / sizeof(*names) ? names[o] : "?";
}

/* ---- call lifecycle ---- */

static void call_free(struct gw_exec_call *c)
{
    if (c->timer)
        event_free(c->timer);
    gw_upstream_req_fini(&c->req);
    gw_upstream_token_wipe(c->token);
    gw_free(c->tool);
    gw_free(c->idem_key);
    gw_free(c->cache_key);
    gw_upstream_shape_fini(&c->shape);
    json_decref(c->tool_ref);
    json_decref(c->result);
    gw_free(c);
}

/* Removes a call from the executor's pending list. */
static void unlink_call(struct gw_exec_call *c)
{
    struct gw_exec *ex = c->ex;
    if (c->prev)
        c->prev->next = c->next;
    else
        ex->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    ex->ncalls--;
}

/* Reports the outcome of the admitted attempt to the breaker, once (invariant 2). */
static void release_breaker(struct gw_exec_call *c, enum gw_breaker_outcome o)
{
    if (!c->bh_held)
        return;
    gw_upstream_breaker_release(c->conf->breaker, c->bh_probe, o, gw_upstreams_now_ms(c->ex->u));
    c->bh_held = false;
    c->bh_probe = false;
}

/* Hands the result to the caller: the call is unlinked first so that the callback may start
 * or cancel other calls; strings in `info` stay valid until the callback returns. */
static void deliver(struct gw_exec_call *c)
{
    struct gw_exec_info info;
    memset(&info, 0, sizeof(info));
    info.tool = c->tool;
    info.upstream = c->conf ? c->conf->name : "";
    info.outcome = c->outcome;
    info.http_status = c->http_status;
    info.attempts = c->attempt;
    info.latency_ms = real_ms() - c->started_real;
    info.response_bytes = c->response_bytes;
    info.breaker_state = c->conf ? gw_upstream_breaker_state(c->conf->breaker) : GW_BREAKER_CLOSED;
    info.cache_hit = c->cache_hit;
    info.idempotent_replay = c->replay;
    info.error = c->outcome == GW_EXEC_OK ? NULL : c->err;
    json_t *result = c->result;
    c->result = NULL;
    unlink_call(c);
    c->done(c->arg, result, &info);
    call_free(c);
}

/* Deferred delivery (finish inside gw_exec_call or a wake-up sweep). */
static void on_finish_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deliver(arg);
}

/* Ends the call with `result` (consumed). Settles the breaker, idempotency and cache first. */
static void finish(struct gw_exec_call *c, json_t *result, enum gw_exec_outcome outcome)
{
    struct gw_upstreams *u = c->ex->u;
    c->outcome = outcome;
    if (outcome != GW_EXEC_OK && !c->err[0]) {
        json_t *t = json_object_get(json_array_get(json_object_get(result, "content"), 0), "text");
        gw_strlcpy(c->err, sizeof(c->err), json_is_string(t) ? json_string_value(t) : "");
    }
    if (c->conf) { /* never hand out a secret, even one the upstream echoed back */
        gw_upstream_scrub(result, c->conf->secrets, c->conf->nsecrets);
        char *tok = c->oauth ? gw_upstream_token_peek(c->oauth->token) : NULL;
        char *extra[2] = {c->token, tok};
        gw_upstream_scrub(result, extra, 2);
        char *clean = gw_upstream_scrub_text(c->err, c->conf->secrets, c->conf->nsecrets);
        if (clean) {
            gw_strlcpy(c->err, sizeof(c->err), clean);
            gw_free(clean);
        }
        clean = gw_upstream_scrub_text(c->err, extra, 2);
        if (clean) {
            gw_strlcpy(c->err, sizeof(c->err), clean);
            gw_free(clean);
        }
        gw_upstream_token_wipe(tok);
    }
    if (c->idem_reserved) {
        /* results that a retry could change (5xx, transport, breaker) are not kept; a 2xx
         * with a malformed body is (the write was processed: repeating it would duplicate) */
        bool keep = outcome == GW_EXEC_OK || outcome == GW_EXEC_BUSINESS_ERROR ||
                    outcome == GW_EXEC_OUTPUT_INVALID || outcome == GW_EXEC_BAD_RESPONSE ||
                    (outcome == GW_EXEC_HTTP_ERROR && c->http_status < 500);
        char *text = keep ? gw_json_dumps(result) : NULL;
        if (text)
            u->idem.ops->complete(u->idem.self, c->idem_key, text, strlen(text),
                                  gw_upstreams_now_ms(u));
        else
            u->idem.ops->abort(u->idem.self, c->idem_key);
        gw_free(text);
        c->idem_reserved = false;
    }
    if (c->cache_key && outcome == GW_EXEC_OK && !c->cache_hit) {
        char *text = gw_json_dumps(result);
        if (text)
            gw_upstream_cache_put(u->cache, c->cache_key, text, strlen(text), c->cache_ttl_ms,
                                  gw_upstreams_now_ms(u));
        gw_free(text);
    }
    c->result = result;
    c->state = ST_FINISHING;
    if (c->in_submit || c->ex->defer_finish) {
        struct timeval zero = {0, 0};
        evtimer_assign(c->timer, c->ex->base, on_finish_timer, c);
        evtimer_add(c->timer, &zero);
        return;
    }
    deliver(c);
}

static void finish_error(struct gw_exec_call *c, enum gw_exec_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish_error(struct gw_exec_call *c, enum gw_exec_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    finish(c, gw_upstream_result_error("%s", c->err), o);
}

/* ---- token fetches (owned by the executor) ---- */

static void fetch_unlink(struct gw_exec *ex, struct token_fetch *f)
{
    for (struct token_fetch **pp = &ex->fetches; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}

/* A token request ended: store or record the failure in the shared entry, then wake every
 * executor so calls parked on this credential (here or on other workers) continue. */
static void on_token_done(void *arg, struct gw_httpc_response *resp)
{
    struct token_fetch *f = arg;
    struct gw_exec *ex = f->ex;
    struct gw_upstreams *u = ex->u;
    uint64_t now = gw_upstreams_now_ms(u);
    fetch_unlink(ex, f);
    char errbuf[256];
    char msg[400];
    if (resp->status != GW_HTTPC_OK) {
        snprintf(msg, sizeof(msg), "OAuth2 token request for upstream '%s' failed (%s)",
                 f->conf->name, gw_httpc_status_name(resp->status));
        GW_LOG(GW_LOG_WARN, "upstream", "%s: %s", msg, resp->error);
        gw_upstream_token_fail(f->cred->token, msg, now);
    } else {
        char *tok = NULL;
        long expires = 0;
        if (gw_upstream_token_parse(resp->http_status, resp->body, resp->body_len, &tok, &expires,
                                    errbuf, sizeof(errbuf)) == GW_OK) {
            gw_upstream_token_store(f->cred->token, tok, expires, now);
            GW_LOG(GW_LOG_INFO, "upstream", "OAuth2 token for upstream '%s' obtained (%ld s)",
                   f->conf->name, expires);
        } else {
            snprintf(msg, sizeof(msg), "OAuth2 token request for upstream '%s' failed: %s",
                     f->conf->name, errbuf);
            GW_LOG(GW_LOG_WARN, "upstream", "%s", msg);
            gw_upstream_token_fail(f->cred->token, msg, now);
        }
        gw_upstream_token_wipe(tok);
    }
    gw_free(f);
    gw_upstreams_wake_all(u);
}

/* Overwrites a buffer that held secrets, then releases it. */
static void buf_wipe(struct gw_buf *b)
{
    size_t n = 0;
    char *p = gw_buf_take(b, &n);
    OPENSSL_cleanse(p, n);
    gw_free(p);
}

static void pct_into(struct gw_buf *b, const char *s)
{
    (void)gw_upstream_pct_encode(b, s, strlen(s), NULL);
}

/* Starts the token request for `cred` on this executor; the caller holds the fetch duty. */
static void start_token_fetch(struct gw_exec *ex, struct gw_upstream_conf *conf,
                              struct gw_upstream_cred *cred)
{
    struct gw_buf body, auth, cred_plain;
    gw_buf_init(&body, 16384);
    gw_buf_init(&auth, 16384);
    gw_buf_init(&cred_plain, 16384);
    struct gw_error err;
    int rc = gw_upstream_token_body(&body, cred->scope, cred->audience, cred->creds_in_body,
                                    cred->client_id, cred->client_secret);
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           "Accept: application/json", NULL};
    size_t nh = 2;
    if (rc == GW_OK && !cred->creds_in_body) {
        /* RFC 6749 §2.3.1: form-encode id and secret, then base64 "id:secret" */
        pct_into(&cred_plain, cred->client_id);
        (void)gw_buf_addc(&cred_plain, ':');
        pct_into(&cred_plain, cred->client_secret);
        size_t n = gw_buf_len(&cred_plain);
        char *b64 = gw_xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)gw_buf_ptr(&cred_plain),
                        (int)n);
        rc = gw_buf_printf(&auth, "Authorization: Basic %s", b64);
        gw_upstream_token_wipe(b64);
        hdrs[nh++] = gw_buf_ptr(&auth);
    }
    struct token_fetch *f = gw_xcalloc(1, sizeof(*f));
    f->ex = ex;
    f->conf = conf;
    f->cred = cred;
    struct gw_httpc_request req;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = cred->token_url;
    req.headers = hdrs;
    req.nheaders = nh;
    req.body = gw_buf_ptr(&body);
    req.body_len = gw_buf_len(&body);
    req.timeout_ms = conf->timeout_ms;
    req.connect_timeout_ms = conf->connect_timeout_ms;
    req.max_response_bytes = TOKEN_MAX_RESPONSE;
    if (rc == GW_OK)
        rc = gw_httpc_submit(ex->http, &req, on_token_done, f, &f->hcall, &err);
    if (rc == GW_OK) {
        f->next = ex->fetches;
        ex->fetches = f;
    } else {
        char msg[300];
        snprintf(msg, sizeof(msg), "OAuth2 token request for upstream '%s' could not start",
                 conf->name);
        gw_upstream_token_fail(cred->token, msg, gw_upstreams_now_ms(ex->u));
        gw_free(f);
        gw_upstreams_wake_all(ex->u);
    }
    buf_wipe(&body);
    buf_wipe(&auth);
    buf_wipe(&cred_plain);
}

/* ---- attempts ---- */

static void on_http_done(void *arg, struct gw_httpc_response *resp);

static void attempt(struct gw_exec_call *c);

/* A call parked for a token reached its deadline before the token arrived. */
static void on_token_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_exec_call *c = arg;
    if (c->state == ST_TOKEN_WAIT)
        finish_error(c, GW_EXEC_TIMEOUT,
                     "timed out waiting for credentials of upstream '%s' (token request still "
                     "running)",
                     c->conf->name);
}

/* Parks the call until a token wake-up, bounded by its deadline. */
static void park_for_token(struct gw_exec_call *c, uint64_t now)
{
    c->state = ST_TOKEN_WAIT;
    uint64_t left = c->deadline > now ? c->deadline - now : 0;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)((left % 1000) * 1000)};
    evtimer_assign(c->timer, c->ex->base, on_token_deadline, c);
    evtimer_add(c->timer, &tv);
}

/* Token step of an attempt. Returns true when the call may proceed to send. */
static bool ensure_token(struct gw_exec_call *c)
{
    if (!c->oauth)
        return true;
    struct gw_exec *ex = c->ex;
    uint64_t now = gw_upstreams_now_ms(ex->u);
    char *tok = NULL;
    bool refresh = false;
    uint64_t gen = 0;
    char errbuf[300] = "";
    enum gw_token_verdict v = gw_upstream_token_acquire(c->oauth->token, now, c->token_gen, &tok,
                                                        &refresh, &gen, errbuf, sizeof(errbuf));
    switch (v) {
    case GW_TOKEN_READY:
        gw_upstream_token_wipe(c->token);
        c->token = tok;
        if (refresh)
            start_token_fetch(ex, c->conf, c->oauth);
        return true;
    case GW_TOKEN_FETCH:
        c->token_gen = gen;
        park_for_token(c, now);
        start_token_fetch(ex, c->conf, c->oauth);
        return false;
    case GW_TOKEN_WAIT:
        c->token_gen = gen;
        park_for_token(c, now);
        return false;
    case GW_TOKEN_FAILED:
        break;
    }
    finish_error(c, GW_EXEC_CREDENTIALS, "could not obtain credentials for upstream '%s': %s",
                 c->conf->name, errbuf);
    return false;
}

static void attempt(struct gw_exec_call *c)
{
    struct gw_exec *ex = c->ex;
    struct gw_upstreams *u = ex->u;
    uint64_t now = gw_upstreams_now_ms(u);
    if (now >= c->deadline) {
        finish_error(c, GW_EXEC_TIMEOUT, "deadline passed before calling upstream '%s'",
                     c->conf->name);
        return;
    }
    if (!ensure_token(c))
        return;
    uint64_t retry_in = 0;
    bool probe = false;
    if (gw_upstream_breaker_acquire(c->conf->breaker, now, &probe, &retry_in) != GW_OK) {
        if (retry_in)
            finish_error(c, GW_EXEC_BREAKER_OPEN,
                         "upstream '%s' is temporarily unavailable: circuit breaker open after "
                         "repeated failures; retry in %llu s",
                         c->conf->name, (unsigned long long)((retry_in + 999) / 1000));
        else
            finish_error(c, GW_EXEC_BREAKER_OPEN,
                         "upstream '%s' is temporarily unavailable: circuit breaker half-open, "
                         "a probe request is in progress; retry shortly",
                         c->conf->name);
        return;
    }
    c->bh_held = true;
    c->bh_probe = probe;

    /* headers of this attempt: the built ones plus the OAuth2 bearer token */
    const char **hdrs = gw_xcalloc(c->req.nheaders + 1, sizeof(char *));
    for (size_t i = 0; i < c->req.nheaders; i++)
        hdrs[i] = c->req.headers[i];
    size_t nh = c->req.nheaders;
    char *authz = NULL;
    if (c->token) {
        size_t n = strlen(c->token) + 32;
        authz = gw_xmalloc(n);
        snprintf(authz, n, "Authorization: Bearer %s", c->token);
        hdrs[nh++] = authz;
    }
    uint64_t left = c->deadline - now;
    struct gw_httpc_request req;
    memset(&req, 0, sizeof(req));
    req.method = c->req.method;
    req.url = c->req.url;
    req.headers = hdrs;
    req.nheaders = nh;
    req.body = c->req.body;
    req.body_len = c->req.body_len;
    req.parts = c->req.parts;
    req.nparts = c->req.nparts;
    req.timeout_ms = (uint64_t)c->timeout_ms < left ? c->timeout_ms : (long)left;
    req.connect_timeout_ms = c->connect_timeout_ms;
    req.max_response_bytes = c->max_response_bytes;
    req.ca_file = c->conf->ca_file;
    req.client_cert = c->conf->client_cert;
    req.client_key = c->conf->client_key;
    req.key_password = c->conf->key_password;
    req.insecure_skip_verify = c->conf->insecure;
    req.accept_encoding = true;
    /* a write that may not be repeated reaches the upstream at most once: libcurl must not
     * re-send it on its own after a reused connection died (the executor would not even
     * count that as an attempt) */
    req.no_replay = !c->retry_allowed;
    c->attempt++;
    struct gw_error err;
    gw_error_clear(&err);
    struct gw_httpc *http = ex->http;
    if (c->guarded && !ex->http_guarded) {
        struct gw_httpc_options ho;
        memset(&ho, 0, sizeof(ho));
        ho.ssrf = u->ssrf;
        ho.curl_only = u->curl_only;
        ex->http_guarded = gw_httpc_new(ex->base, &ho, &err);
    }
    if (c->guarded)
        http = ex->http_guarded;
    int rc = http ? gw_httpc_submit(http, &req, on_http_done, c, &c->hcall, &err) : GW_ENOMEM;
    if (rc == GW_OK)
        atomic_fetch_add_explicit(gw_httpc_call_native(c->hcall) ? &u->http_native : &u->http_curl,
                                  1, memory_order_relaxed);
    gw_upstream_token_wipe(authz);
    gw_free(hdrs);
    if (rc != GW_OK) {
        release_breaker(c, GW_BREAKER_NEUTRAL);
        finish_error(c, GW_EXEC_INVALID_REQUEST, "cannot call upstream '%s': %s", c->conf->name,
                     err.msg);
        return;
    }
    c->state = ST_SENDING;
}

/* Backoff elapsed: next attempt. */
static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    attempt(arg);
}

/* Waits (full jitter) and tries again; false when no further attempt fits. */
static bool schedule_retry(struct gw_exec_call *c, const char *why, long retry_after_ms)
{
    if (!c->retry_allowed || c->attempt >= c->max_attempts)
        return false;
    uint64_t cap = c->conf->max_delay_ms;
    uint64_t exp = (uint64_t)c->conf->base_delay_ms << (c->attempt - 1 < 20 ? c->attempt - 1 : 20);
    if (exp > cap)
        exp = cap;
    uint64_t delay = exp ? rnd(c->ex) % (exp + 1) : 0;
    if (retry_after_ms > 0 && (uint64_t)retry_after_ms > delay)
        delay = (uint64_t)retry_after_ms < cap ? (uint64_t)retry_after_ms : cap;
    uint64_t now = gw_upstreams_now_ms(c->ex->u);
    if (now + delay + 10 >= c->deadline)
        return false;
    if (c->progress) {
        char msg[200];
        snprintf(msg, sizeof(msg), "retrying upstream '%s' after %s (attempt %u of %u)",
                 c->conf->name, why, c->attempt + 1, c->max_attempts);
        c->progress(c->progress_arg, c->attempt + 1, c->max_attempts, msg);
    }
    GW_LOG(GW_LOG_INFO, "upstream", "tool %s: %s %s on upstream '%s' failed (%s); retry in %llu ms",
           c->tool, c->req.method, c->path_tmpl, c->conf->name, why, (unsigned long long)delay);
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)((delay % 1000) * 1000)};
    evtimer_assign(c->timer, c->ex->base, on_retry_timer, c);
    evtimer_add(c->timer, &tv);
    c->state = ST_BACKOFF;
    return true;
}

/* Retry-After in seconds (the HTTP-date form is ignored), as milliseconds; 0 if absent. */
static long retry_after(const struct gw_httpc_response *resp)
{
    char v[32];
    unsigned long long secs;
    if (gw_httpc_response_header(resp, "Retry-After", v, sizeof(v)) &&
        gw_str_to_u64(gw_str_c(v), &secs) == GW_OK && secs < 3600)
        return (long)secs * 1000;
    return 0;
}

static void on_http_done(void *arg, struct gw_httpc_response *resp)
{
    struct gw_exec_call *c = arg;
    c->hcall = NULL;
    c->http_status = (int)resp->http_status;
    c->response_bytes = resp->body_len;
    const char *up = c->conf->name;
    GW_LOG(GW_LOG_DEBUG, "upstream",
           "tool %s: %s %s on upstream '%s' attempt %u -> %s %ld (%ld us)", c->tool, c->req.method,
           c->path_tmpl, up, c->attempt, gw_httpc_status_name(resp->status), resp->http_status,
           resp->total_us);
    if (resp->status == GW_HTTPC_EDENIED) {
        /* not the upstream's fault and never worth repeating */
        release_breaker(c, GW_BREAKER_NEUTRAL);
        GW_LOG(GW_LOG_WARN, "upstream", "tool %s: %s %s on upstream '%s' refused: %s", c->tool,
               c->req.method, c->path_tmpl, up, resp->error);
        finish_error(c, GW_EXEC_ADDRESS_DENIED,
                     "tool '%s' may not call upstream '%s': its server resolves to a %s address, "
                     "which tool calls may reach only when the upstream is configured with a "
                     "base URL in the upstreams file or the address is listed in "
                     "GW_UPSTREAM_ALLOWLIST",
                     c->tool, up, resp->denied_class ? resp->denied_class : "non-public");
        return;
    }
    if (resp->status != GW_HTTPC_OK && resp->status != GW_HTTPC_ETOOLARGE) {
        bool transient = resp->status != GW_HTTPC_EINVAL && resp->status != GW_HTTPC_ETLS;
        release_breaker(c, resp->status == GW_HTTPC_EINVAL ? GW_BREAKER_NEUTRAL
                                                           : GW_BREAKER_FAILURE);
        const char *why = gw_httpc_status_name(resp->status);
        if (transient && schedule_retry(c, why, 0))
            return;
        GW_LOG(GW_LOG_WARN, "upstream", "tool %s: %s %s on upstream '%s' failed: %s", c->tool,
               c->req.method, c->path_tmpl, up, resp->error);
        switch (resp->status) {
        case GW_HTTPC_ETIMEOUT:
            finish_error(c, GW_EXEC_TIMEOUT,
                         "upstream '%s' did not answer in time (%s %s, %u attempt(s), limit %ld "
                         "ms each)",
                         up, c->req.method, c->path_tmpl, c->attempt, c->timeout_ms);
            break;
        case GW_HTTPC_EDNS:
            finish_error(c, GW_EXEC_CONNECT_ERROR, "upstream '%s' could not be resolved (DNS)",
                         up);
            break;
        case GW_HTTPC_ETLS:
            finish_error(c, GW_EXEC_CONNECT_ERROR,
                         "TLS connection to upstream '%s' failed (certificate or handshake)", up);
            break;
        case GW_HTTPC_EINVAL:
            finish_error(c, GW_EXEC_INVALID_REQUEST, "the request to upstream '%s' was refused "
                                                     "before sending (invalid URL or option)",
                         up);
            break;
        default:
            if (!c->retry_allowed && (resp->connected || resp->not_resent))
                /* the request may have been sent: say so, a blind retry could duplicate it */
                finish_error(c, GW_EXEC_CONNECT_ERROR,
                             "upstream '%s' closed the connection without answering (%s %s); "
                             "the request may have been processed: it was not repeated "
                             "because %s is not idempotent. Check its effect before trying "
                             "again, or call with an idempotency key so that retries are safe",
                             up, c->req.method, c->path_tmpl, c->req.method);
            else
                finish_error(c, GW_EXEC_CONNECT_ERROR,
                             "upstream '%s' is unreachable (connection failed or reset; %u "
                             "attempt(s))",
                             up, c->attempt);
            break;
        }
        return;
    }
    if (resp->status == GW_HTTPC_ETOOLARGE) {
        release_breaker(c, GW_BREAKER_SUCCESS);
        finish_error(c, GW_EXEC_TOO_LARGE,
                     "response too large (limit %zu bytes) from upstream '%s' (%s %s)",
                     c->max_response_bytes, up, c->req.method, c->path_tmpl);
        return;
    }
    long st = resp->http_status;
    release_breaker(c, st >= 500 ? GW_BREAKER_FAILURE : GW_BREAKER_SUCCESS);
    if (st == 401 && c->oauth && !c->reauthed) {
        /* the token may have been revoked or rotated: drop exactly this one, fetch, retry once */
        c->reauthed = true;
        gw_upstream_token_invalidate(c->oauth->token, c->token);
        gw_upstream_token_wipe(c->token);
        c->token = NULL;
        c->token_gen = 0;
        c->max_attempts++;
        attempt(c);
        return;
    }
    if (st == 502 || st == 503 || st == 504) {
        char why[32];
        snprintf(why, sizeof(why), "HTTP %ld", st);
        if (schedule_retry(c, why, st == 503 ? retry_after(resp) : 0))
            return;
    }
    struct gw_result_input in;
    memset(&in, 0, sizeof(in));
    in.upstream = up;
    in.http_status = st;
    in.content_type = resp->content_type;
    in.body = resp->body;
    in.body_len = resp->body_len;
    in.conf = c->conf;
    in.shape = &c->shape;
    in.has_output_schema = c->has_output_schema;
    enum gw_exec_outcome outcome;
    json_t *result = gw_upstream_result_build(&in, &outcome);
    struct gw_upstreams *u = c->ex->u;
    json_t *sc = json_object_get(result, "structuredContent");
    if (outcome == GW_EXEC_OK && sc && u->output_check && c->tool_ref) {
        struct gw_error err;
        gw_error_clear(&err);
        if (u->output_check(u->output_check_ud, c->tool_ref, sc, &err) != GW_OK) {
            json_decref(result);
            result = gw_upstream_result_error(
                "upstream '%s' returned data that does not match the tool's output schema: %s",
                up, err.msg);
            outcome = GW_EXEC_OUTPUT_INVALID;
        }
    }
    finish(c, result, outcome);
}

/* ---- preparation ---- */

static bool printable_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 255)
        return false;
    for (; *k; k++)
        if ((unsigned char)*k < 0x21 || (unsigned char)*k > 0x7e)
            return false;
    return true;
}

/* Lower-case hex SHA-256 (the forwarded idempotency key is derived from the scoped key, so
 * the upstream never sees the client's raw key and keys of different callers never collide). */
static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Name of the upstream a binding calls: binding.upstream, else the origin of servers[0]. */
static void upstream_name(const json_t *binding, char *out, size_t n)
{
    const char *name = gw_json_str(binding, "upstream");
    if (name && *name) {
        gw_strlcpy(out, n, name);
        return;
    }
    const char *srv = json_string_value(json_array_get(json_object_get(binding, "servers"), 0));
    if (srv) {
        const char *p = strstr(srv, "://");
        size_t len = p ? (size_t)(p + 3 - srv) + strcspn(p + 3, "/?#") : strlen(srv);
        snprintf(out, n, "%.*s", (int)len, srv);
        return;
    }
    snprintf(out, n, "default");
}

/* The binding.security entry of `scheme`, or NULL. */
static const json_t *security_entry(const json_t *binding, const char *scheme)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(binding, "security"), i, s) {
        const char *n = gw_json_str(s, "scheme");
        if (n && strcmp(n, scheme) == 0)
            return s;
    }
    return NULL;
}

/* Index of the configured credential for a scheme name, or -1. */
static int cred_index(const struct gw_upstream_conf *k, const char *scheme)
{
    for (size_t i = 0; i < k->ncreds && i < MAX_CREDS; i++)
        if (strcmp(k->creds[i].scheme, scheme) == 0)
            return (int)i;
    return -1;
}

/* Can this upstream satisfy `scheme`? A configured credential, or mTLS with a client cert. */
static bool scheme_satisfied(const struct gw_upstream_conf *k, const json_t *binding,
                             const char *scheme)
{
    if (cred_index(k, scheme) >= 0)
        return true;
    const char *type = gw_json_str(security_entry(binding, scheme), "type");
    return type && strcmp(type, "mutualTLS") == 0 && k->client_cert;
}

/* Where a credential goes (apiKey: `in`/`name` from the upstreams file, else the tool's
 * binding.security entry of the scheme, else the credential parameter that asked for it;
 * bearer, basic and OAuth2: the Authorization header). False when it has no name. */
struct placement {
    enum gw_cred_in in;
    const char *name;
};

static enum gw_cred_in cred_in_of(const char *in)
{
    return in && strcmp(in, "query") == 0    ? GW_CRED_IN_QUERY
           : in && strcmp(in, "cookie") == 0 ? GW_CRED_IN_COOKIE
                                             : GW_CRED_IN_HEADER;
}

static bool place(const struct gw_upstream_cred *cr, const json_t *binding, const json_t *param,
                  struct placement *out)
{
    if (cr->type != GW_CRED_APIKEY) {
        out->in = GW_CRED_IN_HEADER;
        out->name = "Authorization";
        return true;
    }
    const json_t *se = security_entry(binding, cr->scheme);
    const json_t *from = gw_json_str(se, "name") ? se : param;
    out->name = cr->name ? cr->name : gw_json_str(from, "name");
    out->in = cr->in_given ? cr->in : cred_in_of(gw_json_str(from ? from : param, "in"));
    return out->name != NULL;
}

/* Whether two placements are the same header (case-insensitive) or query/cookie name. */
static bool same_place(const struct placement *a, const struct placement *b)
{
    if (a->in != b->in)
        return false;
    return a->in == GW_CRED_IN_HEADER ? strcasecmp(a->name, b->name) == 0
                                      : strcmp(a->name, b->name) == 0;
}

/* Which credentials a call carries (indexes into conf->creds; MAX_CREDS bounds the file's
 * credentials object, see upstream_conf.c). */
struct cred_plan {
    bool use[MAX_CREDS];
    const json_t *param[MAX_CREDS]; /* the credential parameter that asked for it, if any */
};

/* Selects every credential the operation requires:
 *  1. credentials marked "always";
 *  2. the credential of every REQUIRED binding.args entry {source: "credential", scheme}
 *     (a spec may declare the Authorization and API-key headers as required parameters on
 *     top of its security requirements, as the MSIL DMS swagger does); with scheme null, the
 *     first configured credential written to that parameter's header/query/cookie name;
 *  3. one alternative of binding.securityRequirements (OR of AND-sets) whose schemes this
 *     upstream can all satisfy: first one already covered by 1-2 (adds nothing), else the first
 *     satisfiable non-empty one in spec order, else an empty one (anonymous allowed);
 *  4. no requirements list, or no alternative satisfiable: every configured credential whose
 *     scheme binding.security names (the upstream answers 401 if that was not enough). */
static void plan_credentials(const struct gw_upstream_conf *k, const json_t *binding,
                             struct cred_plan *p)
{
    size_t n = k->ncreds < MAX_CREDS ? k->ncreds : MAX_CREDS;
    for (size_t i = 0; i < n; i++) { /* only the first n entries are ever read */
        p->use[i] = k->creds[i].always;
        p->param[i] = NULL;
    }
    size_t ai;
    json_t *a;
    json_array_foreach(json_object_get(binding, "args"), ai, a) {
        const char *src = gw_json_str(a, "source");
        if (!src || strcmp(src, "credential") != 0 || !json_is_true(json_object_get(a, "required")))
            continue;
        const char *scheme = gw_json_str(a, "scheme");
        int idx = -1;
        if (scheme) {
            idx = cred_index(k, scheme);
        } else {
            struct placement want = {cred_in_of(gw_json_str(a, "in")), gw_json_str(a, "name")};
            for (size_t i = 0; want.name && idx < 0 && i < n; i++) {
                struct placement got;
                if (place(&k->creds[i], binding, NULL, &got) && same_place(&got, &want))
                    idx = (int)i;
            }
        }
        if (idx < 0)
            continue; /* nothing configured for it: the upstream decides (401) */
        p->use[idx] = true;
        if (!p->param[idx])
            p->param[idx] = a;
    }
    const json_t *best = NULL;
    int best_rank = 3;
    size_t i;
    json_t *alt;
    json_array_foreach(json_object_get(binding, "securityRequirements"), i, alt) {
        if (!json_is_array(alt))
            continue;
        bool ok = true, covered = true;
        size_t j;
        json_t *name;
        json_array_foreach(alt, j, name) {
            const char *sn = json_string_value(name);
            ok = ok && sn && scheme_satisfied(k, binding, sn);
            int idx = sn ? cred_index(k, sn) : -1;
            covered = covered && (idx < 0 || p->use[idx]); /* (mTLS: always on) */
        }
        if (!ok)
            continue;
        int rank = json_array_size(alt) == 0 ? 2 : covered ? 0 : 1;
        if (rank < best_rank) {
            best = alt;
            best_rank = rank;
        }
    }
    if (best) {
        json_t *name;
        json_array_foreach(best, i, name) {
            int idx = cred_index(k, json_string_value(name));
            if (idx >= 0)
                p->use[idx] = true;
        }
        return;
    }
    for (size_t c = 0; c < n; c++)
        if (security_entry(binding, k->creds[c].scheme))
            p->use[c] = true;
}

/* Applies static headers, identity and credentials. Returns GW_OK or fills c->err. */
static int apply_headers(struct gw_exec_call *c, const json_t *binding,
                         const struct gw_exec_opts *o)
{
    struct gw_upstream_conf *k = c->conf;
    struct gw_error err;
    gw_error_clear(&err);
    int rc = gw_upstream_req_add_header(&c->req, "Accept", "application/json, */*;q=0.5", &err);
    if (rc == GW_OK)
        rc = gw_upstream_req_add_header(&c->req, "User-Agent", "mcpgw/" GW_VERSION, &err);
    for (size_t i = 0; rc == GW_OK && i < k->nheaders; i++)
        rc = gw_upstream_req_add_header(&c->req, k->headers[i].name, k->headers[i].value, &err);
    const struct gw_exec_caller *who = o ? o->caller : NULL;
    if (rc == GW_OK && who && who->user_id && k->user_header)
        rc = gw_upstream_req_add_header(&c->req, k->user_header, who->user_id, &err);
    if (rc == GW_OK && who && who->client_id && k->client_header)
        rc = gw_upstream_req_add_header(&c->req, k->client_header, who->client_id, &err);
    if (rc == GW_OK && o && o->request_id && k->request_id_header && *k->request_id_header)
        rc = gw_upstream_req_add_header(&c->req, k->request_id_header, o->request_id, &err);
    if (rc == GW_OK && o && o->traceparent && *o->traceparent)
        rc = gw_upstream_req_add_header(&c->req, "traceparent", o->traceparent, &err);
    if (rc != GW_OK) {
        snprintf(c->err, sizeof(c->err), "cannot forward the caller's identity or request id to "
                                         "upstream '%s' (invalid characters)",
                 k->name);
        return rc;
    }
    struct cred_plan plan;
    plan_credentials(k, binding, &plan);
    struct placement done[MAX_CREDS];
    size_t ndone = 0;
    for (size_t i = 0; i < k->ncreds && i < MAX_CREDS; i++) {
        struct gw_upstream_cred *cr = &k->creds[i];
        if (!plan.use[i])
            continue;
        struct placement at;
        if (!place(cr, binding, plan.param[i], &at)) {
            GW_LOG(GW_LOG_WARN, "upstream",
                   "credential '%s' of upstream '%s' has no name and tool %s does not name "
                   "it: not applied",
                   cr->scheme, k->name, c->tool);
            continue;
        }
        bool clash = false;
        for (size_t d = 0; d < ndone && !clash; d++)
            clash = same_place(&done[d], &at);
        if (clash || (cr->type == GW_CRED_OAUTH2 && c->oauth)) {
            /* two credentials for one header (e.g. basic and OAuth2 both on Authorization):
             * the first in the upstreams file wins, the request never carries both */
            GW_LOG(GW_LOG_WARN, "upstream",
                   "credential '%s' of upstream '%s' not applied for tool %s: '%s' is already "
                   "set by another credential",
                   cr->scheme, k->name, c->tool, at.name);
            continue;
        }
        done[ndone++] = at;
        switch (cr->type) {
        case GW_CRED_APIKEY:
            if (at.in == GW_CRED_IN_HEADER)
                rc = gw_upstream_req_add_header(&c->req, at.name, cr->value, &err);
            else if (at.in == GW_CRED_IN_QUERY)
                rc = gw_upstream_req_add_query(&c->req, at.name, cr->value, &err);
            else
                rc = gw_upstream_req_add_cookie(&c->req, at.name, cr->value, &err);
            break;
        case GW_CRED_BEARER: {
            size_t n = strlen(cr->value) + 8;
            char *v = gw_xmalloc(n);
            snprintf(v, n, "Bearer %s", cr->value);
            rc = gw_upstream_req_add_header(&c->req, "Authorization", v, &err);
            gw_upstream_token_wipe(v);
            break;
        }
        case GW_CRED_BASIC:
            rc = gw_upstream_req_add_header(&c->req, "Authorization", cr->basic, &err);
            break;
        case GW_CRED_OAUTH2:
            c->oauth = cr; /* the bearer token is added per attempt */
            break;
        }
        if (rc != GW_OK) {
            snprintf(c->err, sizeof(c->err), "cannot apply credential '%s' of upstream '%s'",
                     cr->scheme, k->name);
            return rc;
        }
    }
    return GW_OK;
}

/* The tool's "execution" overrides (bounds as documented in docs/tool-model.md). */
static int read_execution(struct gw_exec_call *c, const json_t *tool, struct gw_upstreams *u,
                          const char *method)
{
    const json_t *e = json_object_get(tool, "execution");
    struct gw_upstream_conf *k = c->conf;
    c->timeout_ms = k->timeout_ms;
    c->connect_timeout_ms = k->connect_timeout_ms;
    c->max_response_bytes = k->max_response_bytes;
    c->max_attempts = k->max_attempts;
    if (e && !json_is_object(e)) {
        snprintf(c->err, sizeof(c->err), "tool field 'execution' must be an object");
        return GW_EINVAL;
    }
    json_t *v;
    if ((v = json_object_get(e, "timeoutMs")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 100 || json_integer_value(v) > 600000)
            goto bad;
        c->timeout_ms = (long)json_integer_value(v);
    }
    if ((v = json_object_get(e, "connectTimeoutMs")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 50 || json_integer_value(v) > 120000)
            goto bad;
        c->connect_timeout_ms = (long)json_integer_value(v);
    }
    if ((v = json_object_get(e, "maxResponseBytes")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 1024 ||
            json_integer_value(v) > 268435456)
            goto bad;
        c->max_response_bytes = (size_t)json_integer_value(v);
    }
    if ((v = json_object_get(e, "retries")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 9)
            goto bad;
        c->max_attempts = (unsigned)json_integer_value(v) + 1;
    }
    if ((v = json_object_get(e, "cacheTtlSeconds")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 86400)
            goto bad;
        if (strcmp(method, "GET") == 0)
            c->cache_ttl_ms = (uint64_t)json_integer_value(v) * 1000u;
    }
    (void)u;
    return GW_OK;
bad:
    snprintf(c->err, sizeof(c->err),
             "tool field 'execution' has an invalid value (timeoutMs 100..600000, "
             "connectTimeoutMs 50..120000, maxResponseBytes 1024..268435456, retries 0..9, "
             "cacheTtlSeconds 0..86400)");
    return GW_EINVAL;
}

/* Canonical text of the arguments (sorted keys, compact) for fingerprints and cache keys. */
static char *canonical(const json_t *args)
{
    char *s = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    return s ? s : gw_xstrdup("{}");
}

/* Joins the parts of an idempotency scope: "<caller>\n<tool>\n<key>". */
static char *scoped_key(const char *caller, const char *tool, const char *rest)
{
    size_t n = strlen(caller) + strlen(tool) + strlen(rest) + 3;
    char *k = gw_xmalloc(n);
    snprintf(k, n, "%s\n%s\n%s", caller, tool, rest);
    return k;
}

#define IDEM_UNAVAILABLE                                                                       \
    "the idempotency store shared by the gateway's replicas cannot be reached, so this write "   \
    "was not sent (it could not be protected against duplicates); retry with the same key in a " \
    "moment"

/* Acts on an idempotency verdict; true for a new reservation (go on with the call). */
static bool idem_verdict(struct gw_exec_call *c, enum gw_idem_verdict verdict, const char *stored,
                         size_t slen)
{
    struct gw_upstreams *u = c->ex->u;
    switch (verdict) {
    case GW_IDEM_NEW:
        c->idem_reserved = true;
        c->retry_allowed = true; /* the key makes a write safe to repeat */
        return true;
    case GW_IDEM_REPLAY: {
        struct gw_json_limits lim = {0, 128};
        json_t *r = gw_json_parse(stored ? stored : "", slen, &lim, NULL);
        atomic_fetch_add(&u->idem_replays, 1);
        c->replay = true;
        if (!r) {
            finish_error(c, GW_EXEC_INTERNAL, "stored idempotent result is unreadable");
            return false;
        }
        json_t *ie = json_object_get(r, "isError");
        finish(c, r, json_is_true(ie) ? GW_EXEC_HTTP_ERROR : GW_EXEC_OK);
        return false;
    }
    case GW_IDEM_MISMATCH:
        atomic_fetch_add(&u->idem_conflicts, 1);
        finish_error(c, GW_EXEC_IDEM_CONFLICT,
                     "idempotency key '%s' was already used with different arguments for "
                     "tool '%s'; use a new key for a new request",
                     c->idem_client_key, c->tool);
        return false;
    case GW_IDEM_IN_FLIGHT:
        atomic_fetch_add(&u->idem_conflicts, 1);
        finish_error(c, GW_EXEC_IDEM_CONFLICT,
                     "a call with idempotency key '%s' for tool '%s' is still in progress; "
                     "retry with the same key later to get its result",
                     c->idem_client_key, c->tool);
        return false;
    }
    return false;
}

/* What follows the reservation: the forwarded key, cookies, the GET cache. True to attempt. */
static bool prepare_tail(struct gw_exec_call *c)
{
    struct gw_upstreams *u = c->ex->u;
    struct gw_upstream_conf *k = c->conf;
    struct gw_error err;
    gw_error_clear(&err);
    if (c->idem_reserved && k->idempotency_header && *k->idempotency_header) {
        char hex[65];
        sha256_hex(c->idem_key, strlen(c->idem_key), hex);
        hex[32] = '\0';
        (void)gw_upstream_req_add_header(&c->req, k->idempotency_header, hex, &err);
    }
    struct gw_error ferr;
    if (gw_upstream_req_finish(&c->req, &ferr) != GW_OK) {
        finish_error(c, GW_EXEC_INVALID_REQUEST, "invalid cookies for tool '%s': %s", c->tool,
                     ferr.msg);
        return false;
    }
    if (c->cache_key) {
        size_t len = 0;
        char *hit = gw_upstream_cache_get(u->cache, c->cache_key, gw_upstreams_now_ms(u), &len);
        if (hit) {
            struct gw_json_limits lim = {0, 128};
            json_t *r = gw_json_parse(hit, len, &lim, NULL);
            gw_free(hit);
            if (r) {
                c->cache_hit = true;
                finish(c, r, GW_EXEC_OK);
                return false;
            }
        }
    }
    return true;
}

/* The shared store answered a reservation (on the call's loop). */
static void on_idem_begin(void *arg, int rc, enum gw_idem_verdict v, const char *result,
                          size_t len)
{
    struct idem_wait *w = arg;
    struct gw_exec_call *c = w->c;
    if (!c) { /* cancelled meanwhile: a reservation made for it is released */
        if (rc == GW_OK && v == GW_IDEM_NEW)
            w->u->idem.ops->abort(w->u->idem.self, w->key);
        gw_free(w->key);
        gw_free(w);
        return;
    }
    c->idem_wait = NULL;
    gw_free(w->key);
    gw_free(w);
    c->state = ST_PREPARE;
    if (rc != GW_OK) {
        finish_error(c, GW_EXEC_INTERNAL, "%s", IDEM_UNAVAILABLE);
        return;
    }
    if (idem_verdict(c, v, result, len) && prepare_tail(c))
        attempt(c);
}

/* Everything before the first attempt; returns false when the call already finished (or will
 * continue later: a shared idempotency store answers asynchronously). */
static bool prepare(struct gw_exec_call *c, const json_t *tool, const json_t *args,
                    const struct gw_exec_opts *o)
{
    struct gw_exec *ex = c->ex;
    struct gw_upstreams *u = ex->u;
    const json_t *binding = json_object_get(tool, "binding");
    const char *name = gw_json_str(tool, "name");
    c->tool = gw_xstrdup(name ? name : "(unnamed)");
    char uname[200];
    upstream_name(binding, uname, sizeof(uname));
    c->conf = gw_upstreams_conf(u, uname);
    const char *path = gw_json_str(binding, "path");
    gw_strlcpy(c->path_copy, sizeof(c->path_copy), path ? path : "?");
    c->path_tmpl = c->path_copy;
    const char *method = gw_json_str(binding, "method");
    if (!json_is_object(binding) || !method) {
        finish_error(c, GW_EXEC_INVALID_REQUEST, "tool '%s' has no usable binding", c->tool);
        return false;
    }
    if (read_execution(c, tool, u, method) != GW_OK) {
        char msg[sizeof(c->err)];
        gw_strlcpy(msg, sizeof(msg), c->err);
        finish_error(c, GW_EXEC_INVALID_REQUEST, "%s", msg);
        return false;
    }
    struct gw_error err;
    gw_error_clear(&err);
    if (gw_upstream_shape_parse(json_object_get(tool, "response"), &c->shape, &err) != GW_OK) {
        finish_error(c, GW_EXEC_INVALID_REQUEST, "tool '%s': %s", c->tool, err.msg);
        return false;
    }
    c->has_output_schema = json_is_object(json_object_get(tool, "outputSchema"));
    if (c->has_output_schema && u->output_check)
        c->tool_ref = json_incref((json_t *)tool);
    const char *base = c->conf->base_url;
    c->guarded = base == NULL; /* only base URLs from the upstreams file are trusted */
    if (!base)
        base = json_string_value(json_array_get(json_object_get(binding, "servers"), 0));
    if (!base) {
        finish_error(c, GW_EXEC_INVALID_REQUEST,
                     "no base URL for upstream '%s' in environment '%s' and the tool has no "
                     "server",
                     c->conf->name, u->env);
        return false;
    }
    const char *protected_hdrs[MAX_PROTECTED];
    size_t np = 0;
    struct gw_upstream_conf *k = c->conf;
    for (size_t i = 0; i < k->nprotected && np < MAX_PROTECTED - 4; i++)
        protected_hdrs[np++] = k->protected_headers[i];
    const char *extra[] = {k->user_header, k->client_header, k->request_id_header,
                           k->idempotency_header};
    for (size_t i = 0; i < 4; i++)
        if (extra[i] && *extra[i])
            protected_hdrs[np++] = extra[i];
    size_t si;
    json_t *se;
    json_array_foreach(json_object_get(binding, "security"), si, se) {
        const char *in = gw_json_str(se, "in"), *hn = gw_json_str(se, "name");
        if (in && hn && strcmp(in, "header") == 0 && np < MAX_PROTECTED)
            protected_hdrs[np++] = hn; /* the spec's own API-key header */
    }
    struct gw_upstream_build_opts bo;
    memset(&bo, 0, sizeof(bo));
    bo.base_url = base;
    bo.protected_headers = protected_hdrs;
    bo.nprotected = np;
    if (gw_upstream_req_build(binding, args, &bo, &c->req, &err) != GW_OK) {
        finish_error(c, GW_EXEC_INVALID_REQUEST, "invalid arguments for tool '%s': %s", c->tool,
                     err.msg);
        return false;
    }
    if (apply_headers(c, binding, o) != GW_OK) {
        char msg[512];
        gw_strlcpy(msg, sizeof(msg), c->err);
        finish_error(c, GW_EXEC_INVALID_REQUEST, "%s", msg);
        return false;
    }
    const struct gw_exec_caller *who = o ? o->caller : NULL;
    const char *caller = who && who->user_id ? who->user_id
                         : who && who->client_id ? who->client_id
                                                 : "(anonymous)";
    bool write = !c->req.idempotent_method || strcmp(method, "PUT") == 0 ||
                 strcmp(method, "DELETE") == 0;
    c->retry_allowed = c->req.idempotent_method;
    /* everything that reads the borrowed tool, arguments and options happens before the
     * idempotency reservation, which may answer later (a store shared by replicas) */
    if (c->cache_ttl_ms) {
        char *canon = canonical(args);
        char ver[32];
        json_t *jv = json_object_get(tool, "version");
        snprintf(ver, sizeof(ver), "%lld", json_is_integer(jv) ? (long long)json_integer_value(jv)
                                                                : 0LL);
        size_t n = strlen(c->tool) + strlen(ver) + strlen(caller) + strlen(canon) + 8;
        c->cache_key = gw_xmalloc(n);
        snprintf(c->cache_key, n, "%s\n%s\n%s\n%s", c->tool, ver,
                 k->cache_per_caller ? caller : "*", canon);
        gw_free(canon);
    }
    uint64_t now = gw_upstreams_now_ms(u);
    uint64_t budget = (uint64_t)c->timeout_ms * c->max_attempts +
                      (uint64_t)k->max_delay_ms * (c->max_attempts - 1) + 1000;
    c->deadline = o && o->deadline_ms ? o->deadline_ms : now + budget;
    if (o && o->idempotency_key && write) {
        if (!printable_key(o->idempotency_key)) {
            finish_error(c, GW_EXEC_INVALID_REQUEST,
                         "idempotency key must be 1-255 printable ASCII characters");
            return false;
        }
        gw_strlcpy(c->idem_client_key, sizeof(c->idem_client_key), o->idempotency_key);
        c->idem_key = scoped_key(caller, c->tool, o->idempotency_key);
        char *canon = canonical(args);
        unsigned char fp[32];
        unsigned int fl = 0;
        EVP_Digest(canon, strlen(canon), fp, &fl, EVP_sha256(), NULL);
        gw_free(canon);
        if (u->idem.ops->begin_async) {
            struct idem_wait *w = gw_xcalloc(1, sizeof(*w));
            w->c = c;
            w->u = u;
            w->key = gw_xstrdup(c->idem_key);
            c->idem_wait = w;
            c->state = ST_IDEM_WAIT;
            int rc = u->idem.ops->begin_async(u->idem.self, c->idem_key, fp, on_idem_begin, w);
            if (rc == GW_AGAIN)
                return false; /* on_idem_begin continues */
            c->idem_wait = NULL;
            gw_free(w->key);
            gw_free(w);
            c->state = ST_PREPARE;
            finish_error(c, GW_EXEC_INTERNAL, "%s", IDEM_UNAVAILABLE);
            return false;
        }
        enum gw_idem_verdict verdict;
        char *stored = NULL;
        size_t slen = 0;
        int rc = u->idem.ops->begin(u->idem.self, c->idem_key, fp, gw_upstreams_now_ms(u),
                                    &verdict, &stored, &slen);
        if (rc != GW_OK) {
            finish_error(c, GW_EXEC_INTERNAL,
                         "the idempotency store is full; retry later");
            return false;
        }
        bool go = idem_verdict(c, verdict, stored, slen);
        gw_free(stored);
        if (!go)
            return false;
    }
    return prepare_tail(c);
}

int gw_exec_call(struct gw_exec *ex, const json_t *tool_def, const json_t *args,
                 const struct gw_exec_opts *opts, gw_exec_done_fn done, void *arg,
                 struct gw_exec_call **out_handle)
{
    if (out_handle)
        *out_handle = NULL;
    if (!ex || !tool_def || !done)
        return GW_EINVAL;
    struct gw_exec_call *c = gw_xcalloc(1, sizeof(*c));
    c->ex = ex;
    c->done = done;
    c->arg = arg;
    c->progress = opts ? opts->progress : NULL;
    c->progress_arg = opts ? opts->progress_arg : NULL;
    c->started_real = real_ms();
    c->timer = evtimer_new(ex->base, on_finish_timer, c);
    c->in_submit = true;
    c->next = ex->calls;
    if (ex->calls)
        ex->calls->prev = c;
    ex->calls = c;
    ex->ncalls++;
    if (out_handle)
        *out_handle = c;
    if (prepare(c, tool_def, args, opts))
        attempt(c);
    c->in_submit = false;
    return GW_OK;
}

void gw_exec_cancel(struct gw_exec_call *c)
{
    if (!c)
        return;
    struct gw_upstreams *u = c->ex->u;
    if (c->hcall) {
        gw_httpc_cancel(c->hcall);
        c->hcall = NULL;
    }
    evtimer_del(c->timer);
    release_breaker(c, GW_BREAKER_NEUTRAL);
    if (c->idem_wait) {
        c->idem_wait->c = NULL; /* the store's answer finds no call */
        c->idem_wait = NULL;
    }
    if (c->idem_reserved) {
        u->idem.ops->abort(u->idem.self, c->idem_key);
        c->idem_reserved = false;
    }
    unlink_call(c);
    call_free(c);
}

size_t gw_exec_pending(const struct gw_exec *ex)
{
    return ex ? ex->ncalls : 0;
}

/* ---- wake-ups: token state changed somewhere ---- */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct gw_exec *ex = arg;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    /* No done callback runs during the sweep (finishes are deferred), so the list is stable
     * apart from the calls we move forward ourselves. */
    ex->defer_finish = true;
    for (struct gw_exec_call *c = ex->calls; c; c = c->next) {
        if (c->state == ST_TOKEN_WAIT) {
            evtimer_del(c->timer);
            c->state = ST_PREPARE;
            attempt(c);
        }
    }
    ex->defer_finish = false;
}

struct gw_exec *gw_exec_new(struct event_base *base, struct gw_upstreams *shared,
                            struct gw_error *err)
{
    if (!base || !shared) {
        GW_ERROR_SET(err, GW_EINVAL, "gw_exec_new: base and shared state are required");
        return NULL;
    }
    struct gw_exec *ex = gw_xcalloc(1, sizeof(*ex));
    ex->base = base;
    ex->u = shared;
    ex->wake_fd = -1;
    struct gw_httpc_options ho;
    memset(&ho, 0, sizeof(ho));
    ho.curl_only = shared->curl_only;
    ex->http = gw_httpc_new(base, &ho, err);
    if (!ex->http)
        goto fail;
    ex->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ex->wake_fd < 0) {
        GW_ERROR_SET(err, GW_EIO, "eventfd failed");
        goto fail;
    }
    ex->wake_ev = event_new(base, ex->wake_fd, EV_READ | EV_PERSIST, on_wake, ex);
    if (!ex->wake_ev || event_add(ex->wake_ev, NULL) != 0) {
        GW_ERROR_SET(err, GW_EIO, "cannot register the wake-up event");
        goto fail;
    }
    if (getrandom(&ex->rng, sizeof(ex->rng), GRND_NONBLOCK) != (ssize_t)sizeof(ex->rng) ||
        ex->rng == 0)
        ex->rng = (uint64_t)real_ms() * 6364136223846793005ull + (uint64_t)(uintptr_t)ex;
    gw_upstreams_wake_register(shared, ex->wake_fd);
    return ex;
fail:
    if (ex->wake_ev)
        event_free(ex->wake_ev);
    if (ex->wake_fd >= 0)
        close(ex->wake_fd);
    gw_httpc_free(ex->http);
    gw_free(ex);
    return NULL;
}

void gw_exec_free(struct gw_exec *ex)
{
    if (!ex)
        return;
    gw_upstreams_wake_unregister(ex->u, ex->wake_fd);
    while (ex->calls)
        gw_exec_cancel(ex->calls);
    while (ex->fetches) {
        struct token_fetch *f = ex->fetches;
        ex->fetches = f->next;
        gw_httpc_cancel(f->hcall);
        gw_upstream_token_abandon(f->cred->token);
        gw_free(f);
    }
    gw_upstreams_wake_all(ex->u); /* waiters elsewhere must pick the fetch duty up */
    gw_httpc_free(ex->http);
    gw_httpc_free(ex->http_guarded);
    event_free(ex->wake_ev);
    close(ex->wake_fd);
    gw_free(ex);
}
