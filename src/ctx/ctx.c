/*
 * src/ctx/ctx.c
 * Request contexts (see ctx.h): fixed-size fields for what every request has, the arena made
 * on first use, the decision record as a bounded array, phase timings on the monotonic clock.
 * The credential is held in its own heap block so it can be wiped (OPENSSL_cleanse) the moment
 * authentication is done with it, and at the latest when the context is freed.
 */
#include "ctx/ctx.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/assert.h"
#include "core/log.h"
#include "core/str.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CTX_ARENA_BUDGET (1u << 20)
#define CREDENTIAL_MAX 16384 /* longer Authorization values are cut (and then fail to verify) */

struct gw_ctx {
    atomic_int refs;
    enum gw_transport transport;
    struct gw_loop *loop;
    char peer[64];
    char request_id[132];
    char trace_id[33];
    char session[128];
    char method[64];
    char *credential;
    size_t credential_len;
    enum gw_auth_state auth;
    struct gw_principal *principal;
    struct gw_auth_failure failure;
    struct gw_arena *arena;
    size_t ndecisions;
    unsigned dropped;
    uint64_t t0_ns;
    int64_t started_ms;
    uint64_t phase_start[GW_PHASE_COUNT];
    uint64_t phase_ns[GW_PHASE_COUNT];
    char tool[72];
    json_t *args;
    char risk[16];
    char confirmation[72];
    struct gw_ctx_upstream upstream;
    bool tool_error;
    void *slots[GW_CTX_SLOTS];
    void (*slot_free[GW_CTX_SLOTS])(void *);
    size_t nheaders;
    /* the large arrays last: only the part before them is zeroed at creation (their counts
     * guard them), which saves clearing ~12 KB on every request */
    struct gw_decision decisions[GW_CTX_MAX_DECISIONS];
    struct {
        char name[64];
        char value[256];
    } headers[GW_CTX_MAX_HEADERS];
};

static const char *const phase_names[GW_PHASE_COUNT] = {
    "decode",    "authenticate", "resolve", "exposure", "authorize",
    "ratelimit", "validate",     "execute", "respond",  "audit"};

const char *gw_phase_name(enum gw_phase p)
{
    return (unsigned)p < GW_PHASE_COUNT ? phase_names[p] : "?";
}

const char *gw_transport_name(enum gw_transport t)
{
    switch (t) {
    case GW_TRANSPORT_HTTP: return "http";
    case GW_TRANSPORT_SSE: return "sse";
    case GW_TRANSPORT_STDIO: return "stdio";
    case GW_TRANSPORT_ADMIN: return "admin";
    case GW_TRANSPORT_INTERNAL: return "internal";
    }
    return "?";
}

const char *gw_verdict_name(enum gw_verdict v)
{
    switch (v) {
    case GW_VERDICT_ALLOW: return "allow";
    case GW_VERDICT_DENY: return "deny";
    case GW_VERDICT_DRY_RUN_DENY: return "dry_run_deny";
    case GW_VERDICT_ERROR: return "error";
    case GW_VERDICT_CHALLENGE: return "challenge";
    }
    return "?";
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void copy(char *dst, size_t size, const char *src)
{
    gw_strlcpy(dst, size, src); /* not snprintf: several per request */
}

struct gw_ctx *gw_ctx_new(const struct gw_ctx_init *in)
{
    struct gw_ctx *c = gw_xmalloc(sizeof(*c));
    memset(c, 0, offsetof(struct gw_ctx, decisions));
    atomic_init(&c->refs, 1);
    c->transport = in->transport;
    c->loop = in->loop;
    copy(c->peer, sizeof(c->peer), in->peer ? in->peer : "-");
    copy(c->request_id, sizeof(c->request_id), in->request_id);
    copy(c->trace_id, sizeof(c->trace_id), in->trace_id);
    copy(c->session, sizeof(c->session), in->session);
    if (in->credential) {
        c->credential_len = strnlen(in->credential, CREDENTIAL_MAX);
        c->credential = gw_xstrndup(in->credential, c->credential_len);
    }
    c->auth = GW_AUTH_PENDING;
    c->t0_ns = now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->started_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return c;
}

struct gw_ctx *gw_ctx_derive(const struct gw_ctx *c)
{
    struct gw_ctx_init ci = {.transport = c->transport,
                             .loop = c->loop,
                             .peer = c->peer,
                             .request_id = c->request_id,
                             .trace_id = c->trace_id,
                             .session = c->session};
    struct gw_ctx *d = gw_ctx_new(&ci);
    d->auth = c->auth;
    d->principal = gw_principal_ref(c->principal);
    d->failure = c->failure;
    return d;
}

struct gw_ctx *gw_ctx_ref(struct gw_ctx *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

static void wipe_credential(struct gw_ctx *c)
{
    if (!c->credential)
        return;
    OPENSSL_cleanse(c->credential, c->credential_len);
    gw_free(c->credential);
    c->credential = NULL;
    c->credential_len = 0;
}

void gw_ctx_unref(struct gw_ctx *c)
{
    if (!c)
        return;
    int before = atomic_fetch_sub(&c->refs, 1);
    GW_ASSERT(before > 0);
    if (before != 1)
        return;
    wipe_credential(c);
    for (int i = 0; i < GW_CTX_SLOTS; i++)
        if (c->slots[i] && c->slot_free[i])
            c->slot_free[i](c->slots[i]);
    gw_principal_unref(c->principal);
    json_decref(c->args);
    gw_arena_free(c->arena);
    gw_free(c);
}

enum gw_transport gw_ctx_transport(const struct gw_ctx *c)
{
    return c->transport;
}

struct gw_loop *gw_ctx_loop(const struct gw_ctx *c)
{
    return c->loop;
}

const char *gw_ctx_peer(const struct gw_ctx *c)
{
    return c->peer;
}

const char *gw_ctx_request_id(const struct gw_ctx *c)
{
    return c->request_id;
}

const char *gw_ctx_trace_id(const struct gw_ctx *c)
{
    return c->trace_id;
}

const char *gw_ctx_session(const struct gw_ctx *c)
{
    return c->session;
}

void gw_ctx_set_session(struct gw_ctx *c, const char *session)
{
    copy(c->session, sizeof(c->session), session);
}

struct gw_arena *gw_ctx_arena(struct gw_ctx *c)
{
    if (!c->arena) {
        c->arena = gw_arena_new(CTX_ARENA_BUDGET);
        GW_ASSERT(c->arena);
    }
    return c->arena;
}

void gw_ctx_set_method(struct gw_ctx *c, const char *method)
{
    copy(c->method, sizeof(c->method), method);
}

const char *gw_ctx_method(const struct gw_ctx *c)
{
    return c->method;
}

/* ---- authentication ---- */

enum gw_auth_state gw_ctx_auth_state(const struct gw_ctx *c)
{
    return c->auth;
}

const char *gw_ctx_credential(const struct gw_ctx *c)
{
    return c->credential;
}

void gw_ctx_set_principal(struct gw_ctx *c, struct gw_principal *p)
{
    GW_ASSERT(p);
    GW_ASSERT(c->auth == GW_AUTH_PENDING);
    wipe_credential(c);
    c->principal = p;
    c->auth = GW_AUTH_DONE;
}

void gw_ctx_set_auth_failure(struct gw_ctx *c, const struct gw_auth_failure *f)
{
    GW_ASSERT(c->auth == GW_AUTH_PENDING);
    wipe_credential(c);
    c->failure = *f;
    c->failure.error[sizeof(c->failure.error) - 1] = '\0';
    c->failure.description[sizeof(c->failure.description) - 1] = '\0';
    c->failure.challenge[sizeof(c->failure.challenge) - 1] = '\0';
    c->auth = GW_AUTH_FAILED;
}

const struct gw_principal *gw_ctx_principal(const struct gw_ctx *c)
{
    return c->auth == GW_AUTH_DONE ? c->principal : NULL;
}

const struct gw_auth_failure *gw_ctx_auth_failure(const struct gw_ctx *c)
{
    return c->auth == GW_AUTH_FAILED ? &c->failure : NULL;
}

int gw_auth_failure_http(const struct gw_auth_failure *f, const char **code)
{
    switch (f->status) {
    case 403: *code = "forbidden"; return 403;
    case 503: *code = "unavailable"; return 503;
    default: *code = "unauthenticated"; return 401;
    }
}

/* ---- decisions ---- */

void gw_ctx_decide(struct gw_ctx *c, enum gw_phase phase, enum gw_verdict verdict,
                   const char *handler, const char *rule_id, const char *policy_version,
                   const char *reason)
{
    struct gw_decision *d;
    if (c->ndecisions < GW_CTX_MAX_DECISIONS) {
        d = &c->decisions[c->ndecisions++];
    } else {
        c->dropped++;
        if (verdict != GW_VERDICT_DENY)
            return;
        d = &c->decisions[GW_CTX_MAX_DECISIONS - 1]; /* a refusal is never lost */
    }
    d->phase = phase;
    d->verdict = verdict;
    copy(d->handler, sizeof(d->handler), handler);
    copy(d->rule_id, sizeof(d->rule_id), rule_id);
    copy(d->policy_version, sizeof(d->policy_version), policy_version);
    copy(d->reason, sizeof(d->reason), reason);
}

size_t gw_ctx_decision_count(const struct gw_ctx *c)
{
    return c->ndecisions;
}

const struct gw_decision *gw_ctx_decision(const struct gw_ctx *c, size_t i)
{
    return i < c->ndecisions ? &c->decisions[i] : NULL;
}

unsigned gw_ctx_decisions_dropped(const struct gw_ctx *c)
{
    return c->dropped;
}

/* ---- call facts ---- */

void gw_ctx_set_tool(struct gw_ctx *c, const char *tool, const json_t *args)
{
    copy(c->tool, sizeof(c->tool), tool);
    json_decref(c->args);
    c->args = args ? json_incref((json_t *)args) : json_object();
}

const char *gw_ctx_tool(const struct gw_ctx *c)
{
    return c->tool;
}

const json_t *gw_ctx_args(const struct gw_ctx *c)
{
    return c->args;
}

void gw_ctx_set_risk(struct gw_ctx *c, const char *risk)
{
    copy(c->risk, sizeof(c->risk), risk);
}

const char *gw_ctx_risk(const struct gw_ctx *c)
{
    return c->risk;
}

void gw_ctx_set_confirmation(struct gw_ctx *c, const char *confirmation_id)
{
    copy(c->confirmation, sizeof(c->confirmation), confirmation_id);
}

const char *gw_ctx_confirmation(const struct gw_ctx *c)
{
    return c->confirmation;
}

void gw_ctx_set_upstream(struct gw_ctx *c, const struct gw_ctx_upstream *u)
{
    c->upstream = *u;
    c->upstream.upstream[sizeof(c->upstream.upstream) - 1] = '\0';
    c->upstream.outcome[sizeof(c->upstream.outcome) - 1] = '\0';
}

const struct gw_ctx_upstream *gw_ctx_upstream(const struct gw_ctx *c)
{
    return &c->upstream;
}

void gw_ctx_set_tool_error(struct gw_ctx *c, bool is_error)
{
    c->tool_error = is_error;
}

bool gw_ctx_tool_error(const struct gw_ctx *c)
{
    return c->tool_error;
}

/* ---- timings ---- */

void gw_ctx_phase_begin(struct gw_ctx *c, enum gw_phase p)
{
    GW_DEBUG_ASSERT((unsigned)p < GW_PHASE_COUNT);
    c->phase_start[p] = now_ns();
}

void gw_ctx_phase_end(struct gw_ctx *c, enum gw_phase p)
{
    GW_DEBUG_ASSERT((unsigned)p < GW_PHASE_COUNT);
    if (!c->phase_start[p])
        return;
    c->phase_ns[p] += now_ns() - c->phase_start[p];
    c->phase_start[p] = 0;
}

uint64_t gw_ctx_phase_ns(const struct gw_ctx *c, enum gw_phase p)
{
    return (unsigned)p < GW_PHASE_COUNT ? c->phase_ns[p] : 0;
}

uint64_t gw_ctx_elapsed_ns(const struct gw_ctx *c)
{
    return now_ns() - c->t0_ns;
}

int64_t gw_ctx_started_ms(const struct gw_ctx *c)
{
    return c->started_ms;
}

/* ---- module slots ---- */

void gw_ctx_put(struct gw_ctx *c, int slot, void *p, void (*free_fn)(void *))
{
    GW_ASSERT(slot >= 0 && slot < GW_CTX_SLOTS);
    if (c->slots[slot] && c->slot_free[slot])
        c->slot_free[slot](c->slots[slot]);
    c->slots[slot] = p;
    c->slot_free[slot] = free_fn;
}

void *gw_ctx_get(const struct gw_ctx *c, int slot)
{
    return slot >= 0 && slot < GW_CTX_SLOTS ? c->slots[slot] : NULL;
}

/* ---- logging ---- */

const char *gw_ctx_enter(const struct gw_ctx *c)
{
    const char *prev = gw_log_request_id();
    gw_log_set_request_id(c && c->request_id[0] ? c->request_id : NULL);
    return prev;
}

void gw_ctx_leave(const char *previous)
{
    gw_log_set_request_id(previous);
}

/* ---------- response headers ---------- */

void gw_ctx_add_header(struct gw_ctx *c, const char *name, const char *value)
{
    if (!c || !name || !value || c->nheaders >= GW_CTX_MAX_HEADERS)
        return;
    size_t n = strnlen(name, sizeof(c->headers[0].name) - 1);
    memcpy(c->headers[c->nheaders].name, name, n);
    c->headers[c->nheaders].name[n] = '\0';
    n = strnlen(value, sizeof(c->headers[0].value) - 1);
    memcpy(c->headers[c->nheaders].value, value, n);
    c->headers[c->nheaders].value[n] = '\0';
    c->nheaders++;
}

size_t gw_ctx_header_count(const struct gw_ctx *c)
{
    return c ? c->nheaders : 0;
}

void gw_ctx_header(const struct gw_ctx *c, size_t i, const char **name, const char **value)
{
    GW_ASSERT(i < c->nheaders);
    *name = c->headers[i].name;
    *value = c->headers[i].value;
}
