/*
 * src/audit/audit_event.c
 * What an audit event says, built on the producer's thread: the MCP completion observer (on
 * the exchange's loop), admin changes (pool threads) and transport refusals.
 *
 * Event (before JCS), fields present only when known:
 *   v, ts (UTC, ms), kind ("mcp" | "admin" | "transport"), request_id, trace_id, transport,
 *   peer, principal {method, subject, issuer, client_id, tenant, key_id, roles},
 *   auth {status, error, reason} (refusals), method, rpc_id, tool, risk, args (masked),
 *   args_digest ("hmac-sha256:<hex>" of the canonical raw arguments, keyed: an auditor with
 *   the key can check a claimed argument set; nobody can brute-force it without), decisions
 *   [{phase, verdict, handler, rule_id, policy_version, reason}], decisions_dropped,
 *   confirmation, outcome (result | error | cancelled | refused | rejected), is_error, error
 *   {code, message (masked)}, upstream {name, status, outcome, attempts, latency_ms},
 *   response_digest (tools/call), latency_us, phases_us {phase: us}.
 * Everything textual that a client or upstream controls passes the PII masker first.
 */
#include "audit/audit.h"
#include "audit/audit_jcs.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/log.h"
#include "ctx/ctx.h"
#include "mcp/mcp_server.h"
#include "pii/pii.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RESPONSE_DIGEST_MAX (256u << 10) /* larger answers are recorded by size only */

static void put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters; size >= 25). Written digit by digit: this runs for
 * every record; years outside 0..9999 (and times before 1970) take snprintf, same text. */
static void iso_now(char *out, size_t size, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    int year = tm.tm_year + 1900;
    if (size < 25 || ms < 0 || year > 9999) {
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        return;
    }
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    put_digits(out, year, 4);
    put_digits(out + 5, tm.tm_mon + 1, 2);
    put_digits(out + 8, tm.tm_mday, 2);
    put_digits(out + 11, tm.tm_hour, 2);
    put_digits(out + 14, tm.tm_min, 2);
    put_digits(out + 17, tm.tm_sec, 2);
    put_digits(out + 20, (int)(ms % 1000), 3);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A masked copy of text (a string JSON value). */
static json_t *masked_str(struct gw_audit *a, const char *s, unsigned *count)
{
    const struct gw_pii *p = gw_audit__pii(a);
    if (!s)
        s = "";
    if (!p)
        return json_string(s);
    struct gw_buf b;
    size_t n = strlen(s);
    gw_buf_init(&b, n * 4 + 256);
    gw_pii_mask_text(p, s, n, &b, count);
    json_t *v = json_stringn(gw_buf_ptr(&b), gw_buf_len(&b));
    gw_buf_fini(&b);
    return v ? v : json_string("[unprintable]");
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* "hmac-sha256:<hex>" of bytes, keyed with the PII key (plain sha256 without a masker). */
static void digest_text(struct gw_audit *a, const char *data, size_t n, char out[80])
{
    unsigned char md[32];
    char hx[65];
    const struct gw_pii *p = gw_audit__pii(a);
    if (p) {
        gw_pii_hmac(p, data, n, md);
        hex(md, 32, hx);
        memcpy(out, "hmac-sha256:", 12);
        memcpy(out + 12, hx, 65);
    } else {
        gw_sha256(data, n, md);
        hex(md, 32, hx);
        memcpy(out, "sha256:", 7);
        memcpy(out + 7, hx, 65);
    }
}

static json_t *digest(struct gw_audit *a, const char *data, size_t n)
{
    char out[80];
    digest_text(a, data, n, out);
    return json_string(out);
}

static json_t *principal_json(struct gw_audit *a, const struct gw_principal *p, unsigned *count)
{
    json_t *o = json_object();
    json_object_set_new(o, "method", json_string(gw_auth_method_name(p->method)));
    if (p->subject[0])
        json_object_set_new(o, "subject", masked_str(a, p->subject, count));
    set_str(o, "issuer", p->issuer);
    set_str(o, "client_id", p->client_id);
    set_str(o, "tenant", p->tenant);
    set_str(o, "key_id", p->key_id);
    if (p->nroles) {
        json_t *r = json_array();
        for (size_t i = 0; i < p->nroles; i++)
            json_array_append_new(r, json_string(p->roles[i]));
        json_object_set_new(o, "roles", r);
    }
    return o;
}

/* Queues `ev` (consumed). done/arg as gw_audit_append. */
static int queue_event(struct gw_audit *a, json_t *ev, gw_audit_done_fn done, void *arg,
                       bool sync, struct gw_error *err)
{
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    int rc = gw_jcs_dump(ev, &b);
    json_decref(ev);
    if (rc != GW_OK) {
        gw_buf_fini(&b);
        GW_LOG(GW_LOG_ERROR, "audit", "an event could not be encoded (%s)", gw_rc_name(rc));
        return GW_ERROR_SET(err, rc, "audit event could not be encoded");
    }
    if (sync)
        rc = gw_audit_append_sync(a, gw_buf_ptr(&b), gw_buf_len(&b), err);
    else
        rc = gw_audit_append(a, gw_buf_ptr(&b), gw_buf_len(&b), done, arg);
    gw_buf_fini(&b);
    return rc;
}

/* ---- MCP completions --------------------------------------------------------------------- */

struct hold {
    void (*release)(void *token);
    void *token;
};

static void release_done(void *arg, int rc)
{
    struct hold *h = arg;
    if (rc == GW_OK)
        h->release(h->token);
    /* rc < 0: the record can never be written (shutdown with a broken disk): the response
     * stays held and is dropped with its exchange */
    gw_free(h);
}


/* A canonical (JCS) object written directly: members must be added in sorted key order (the
 * fixed schema below is), values are canonical. Cheaper than building a jansson tree and
 * sorting it: this runs on a worker for every exchange. */
struct jw {
    struct gw_buf *b;
    bool first[8];
    int depth;
    struct gw_buf mask; /* scratch for the masked strings, reused member after member */
};

static void jw_open(struct jw *w, char c)
{
    gw_buf_addc(w->b, c);
    w->first[++w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
    gw_buf_addc(w->b, c);
    w->depth--;
}

static void jw_key(struct jw *w, const char *k)
{
    size_t kl = k ? strlen(k) : 0;
    char *p = gw_buf_space(w->b, kl + 4); /* ,"k": in one reservation */
    if (!p)
        return; /* past the 16 MiB record limit (beyond any request the limits let in):
                 * dropped, as every write past the limit is */
    size_t n = 0;
    if (!w->first[w->depth])
        p[n++] = ',';
    w->first[w->depth] = false;
    if (k) {
        p[n++] = '"';
        memcpy(p + n, k, kl); /* our keys: ASCII without escapes */
        n += kl;
        p[n++] = '"';
        p[n++] = ':';
    }
    gw_buf_commit(w->b, n);
}

static void jw_str(struct jw *w, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    jw_key(w, k);
    gw_jcs_string(v, strlen(v), w->b);
}

static void jw_int(struct jw *w, const char *k, long long v)
{
    jw_key(w, k);
    gw_buf_add_i64(w->b, v); /* the digits "%lld" prints */
}

/* A masked string member. */
static void jw_masked(struct gw_audit *a, struct jw *w, const char *k, const char *v,
                      unsigned *count)
{
    if (!v || !*v)
        return;
    const struct gw_pii *p = gw_audit__pii(a);
    jw_key(w, k);
    if (!p) {
        gw_jcs_string(v, strlen(v), w->b);
        return;
    }
    gw_buf_reset(&w->mask);
    gw_pii_mask_text(p, v, strlen(v), &w->mask, count);
    gw_jcs_string(gw_buf_ptr(&w->mask), gw_buf_len(&w->mask), w->b);
}

static void jw_digest(struct gw_audit *a, struct jw *w, const char *k, const char *data,
                      size_t n)
{
    char d[80];
    digest_text(a, data, n, d);
    jw_str(w, k, d);
}

static const char *outcome_name(enum gw_mcp_outcome o)
{
    switch (o) {
    case GW_MCP_OUTCOME_RESULT: return "result";
    case GW_MCP_OUTCOME_ERROR: return "error";
    case GW_MCP_OUTCOME_CANCELLED: return "cancelled";
    case GW_MCP_OUTCOME_REFUSED: return "refused";
    case GW_MCP_OUTCOME_REJECTED: return "rejected";
    }
    return "?";
}

/* The phases in the byte order of their names (phases_us keys). */
static const enum gw_phase PHASES_SORTED[] = {
    GW_PHASE_AUTHENTICATE, GW_PHASE_AUTHORIZE, GW_PHASE_AUDIT,    GW_PHASE_DECODE,
    GW_PHASE_EXECUTE,      GW_PHASE_EXPOSURE,  GW_PHASE_RATELIMIT, GW_PHASE_RESOLVE,
    GW_PHASE_RESPOND,      GW_PHASE_VALIDATE};

int gw_audit_on_complete(void *ud, const struct gw_mcp_completion *c,
                         void (*release)(void *token), void *token)
{
    struct gw_audit *a = ud;
    const char *method = c->method && c->method[0] ? c->method : gw_ctx_method(c->ctx);
    bool is_call = strcmp(method, "tools/call") == 0;
    if (gw_audit__scope(a) == GW_AUDIT_SCOPE_CALLS && !is_call &&
        c->outcome != GW_MCP_OUTCOME_REFUSED && c->outcome != GW_MCP_OUTCOME_REJECTED)
        return GW_OK;
    const struct gw_pii *pii = gw_audit__pii(a);
    unsigned masked = 0;
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    (void)gw_buf_space(&b, 2048); /* a usual record at once, instead of doubling from 64 */
    struct jw w = {.b = &b};
    gw_buf_init(&w.mask, 16u << 20);
    const struct gw_ctx *ctx = c->ctx;
    jw_open(&w, '{');
    /* keys in byte order: args args_digest auth confirmation decisions decisions_dropped error
     * http_status is_error kind latency_us method outcome peer phases_us principal request_id
     * response_bytes response_digest risk rpc_id tool trace_id transport ts upstream v */
    const json_t *args = gw_ctx_args(ctx);
    if (!args && is_call)
        args = json_object_get(c->params, "arguments");
    if (args) {
        jw_key(&w, "args");
        json_t *m = pii ? gw_pii_mask_json(pii, args, &masked) : json_incref((json_t *)args);
        if (gw_jcs_dump(m, &b) != GW_OK)
            gw_buf_adds(&b, "null");
        json_decref(m);
        struct gw_buf cb;
        gw_buf_init(&cb, 16u << 20);
        if (gw_jcs_dump(args, &cb) == GW_OK)
            jw_digest(a, &w, "args_digest", gw_buf_ptr(&cb), gw_buf_len(&cb));
        gw_buf_fini(&cb);
    }
    const struct gw_auth_failure *f = gw_ctx_auth_failure(ctx);
    if (f) {
        jw_key(&w, "auth");
        jw_open(&w, '{');
        jw_str(&w, "error", f->error);
        jw_masked(a, &w, "reason", f->description, &masked);
        jw_int(&w, "status", f->status);
        jw_close(&w, '}');
    }
    jw_str(&w, "confirmation", gw_ctx_confirmation(ctx));
    size_t nd = gw_ctx_decision_count(ctx);
    if (nd) {
        jw_key(&w, "decisions");
        jw_open(&w, '[');
        for (size_t i = 0; i < nd; i++) {
            const struct gw_decision *d = gw_ctx_decision(ctx, i);
            jw_key(&w, NULL);
            jw_open(&w, '{');
            jw_str(&w, "handler", d->handler);
            jw_str(&w, "phase", gw_phase_name(d->phase));
            jw_str(&w, "policy_version", d->policy_version);
            jw_masked(a, &w, "reason", d->reason, &masked);
            jw_str(&w, "rule_id", d->rule_id);
            jw_str(&w, "verdict", gw_verdict_name(d->verdict));
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
        if (gw_ctx_decisions_dropped(ctx))
            jw_int(&w, "decisions_dropped", gw_ctx_decisions_dropped(ctx));
    }
    if (c->error_code || (c->error_message && c->error_message[0])) {
        jw_key(&w, "error");
        jw_open(&w, '{');
        jw_int(&w, "code", c->error_code);
        jw_masked(a, &w, "message", c->error_message, &masked);
        jw_close(&w, '}');
    }
    if (c->http_status)
        jw_int(&w, "http_status", c->http_status);
    if (is_call && c->outcome == GW_MCP_OUTCOME_RESULT) {
        jw_key(&w, "is_error");
        gw_buf_adds(&b, gw_ctx_tool_error(ctx) ? "true" : "false");
    }
    jw_str(&w, "kind", c->outcome == GW_MCP_OUTCOME_REJECTED ? "transport" : "mcp");
    jw_int(&w, "latency_us", (long long)(gw_ctx_elapsed_ns(ctx) / 1000));
    jw_str(&w, "method", method);
    jw_str(&w, "outcome", outcome_name(c->outcome));
    jw_str(&w, "peer", gw_ctx_peer(ctx));
    bool any_phase = false;
    for (size_t i = 0; i < sizeof(PHASES_SORTED) / sizeof(PHASES_SORTED[0]); i++) {
        uint64_t ns = gw_ctx_phase_ns(ctx, PHASES_SORTED[i]);
        if (!ns)
            continue;
        if (!any_phase) {
            jw_key(&w, "phases_us");
            jw_open(&w, '{');
            any_phase = true;
        }
        jw_int(&w, gw_phase_name(PHASES_SORTED[i]), (long long)(ns / 1000));
    }
    if (any_phase)
        jw_close(&w, '}');
    const struct gw_principal *p = gw_ctx_principal(ctx);
    if (p) {
        jw_key(&w, "principal");
        jw_open(&w, '{');
        jw_str(&w, "client_id", p->client_id);
        jw_str(&w, "issuer", p->issuer);
        jw_str(&w, "key_id", p->key_id);
        jw_str(&w, "method", gw_auth_method_name(p->method));
        if (p->nroles) {
            jw_key(&w, "roles");
            jw_open(&w, '[');
            for (size_t i = 0; i < p->nroles; i++) {
                jw_key(&w, NULL);
                gw_jcs_string(p->roles[i], strlen(p->roles[i]), &b);
            }
            jw_close(&w, ']');
        }
        jw_masked(a, &w, "subject", p->subject, &masked);
        jw_str(&w, "tenant", p->tenant);
        jw_close(&w, '}');
    }
    jw_str(&w, "request_id", gw_ctx_request_id(ctx));
    if (is_call && c->message_len) {
        jw_int(&w, "response_bytes", (long long)c->message_len);
        if (gw_audit__response_digest(a) && c->message_len <= RESPONSE_DIGEST_MAX)
            jw_digest(a, &w, "response_digest", c->message, c->message_len);
    }
    jw_str(&w, "risk", gw_ctx_risk(ctx));
    if (c->id) {
        jw_key(&w, "rpc_id");
        gw_jcs_dump(c->id, &b);
    }
    const char *tool = gw_ctx_tool(ctx);
    if (!tool[0] && is_call)
        tool = json_string_value(json_object_get(c->params, "name"));
    jw_masked(a, &w, "tool", tool, &masked);
    jw_str(&w, "trace_id", gw_ctx_trace_id(ctx));
    jw_str(&w, "transport", gw_transport_name(gw_ctx_transport(ctx)));
    char ts[40];
    iso_now(ts, sizeof(ts), wall_ms());
    jw_str(&w, "ts", ts);
    const struct gw_ctx_upstream *u = gw_ctx_upstream(ctx);
    if (u && u->called) {
        jw_key(&w, "upstream");
        jw_open(&w, '{');
        jw_int(&w, "attempts", u->attempts);
        jw_int(&w, "latency_ms", (long long)u->latency_ms);
        jw_str(&w, "name", u->upstream);
        jw_str(&w, "outcome", u->outcome);
        jw_int(&w, "status", u->http_status);
        jw_close(&w, '}');
    }
    jw_int(&w, "v", 1);
    jw_close(&w, '}');
    gw_buf_fini(&w.mask);
    gw_audit__count_pii(a, masked);
    int rc;
    if (!release) {
        rc = gw_audit_append(a, gw_buf_ptr(&b), gw_buf_len(&b), NULL, NULL);
        gw_buf_fini(&b);
        return GW_OK;
    }
    struct hold *h = gw_xmalloc(sizeof(*h));
    h->release = release;
    h->token = token;
    rc = gw_audit_append(a, gw_buf_ptr(&b), gw_buf_len(&b), release_done, h);
    gw_buf_fini(&b);
    if (rc != GW_OK) {
        gw_free(h);
        return GW_OK;
    }
    return GW_AGAIN;
}

/* ---- admin changes ----------------------------------------------------------------------- */

#define ADMIN_BODY_INLINE (16u << 10) /* bodies up to this size are kept (masked) */

int gw_audit_admin_event(struct gw_audit *a, const struct gw_audit_admin_event *e,
                         struct gw_error *err)
{
    unsigned masked = 0;
    json_t *ev = json_object();
    char ts[40];
    iso_now(ts, sizeof(ts), wall_ms());
    json_object_set_new(ev, "v", json_integer(1));
    json_object_set_new(ev, "ts", json_string(ts));
    json_object_set_new(ev, "kind", json_string("admin"));
    set_str(ev, "request_id", e->request_id);
    set_str(ev, "trace_id", e->trace_id);
    set_str(ev, "transport", "admin");
    set_str(ev, "peer", e->peer);
    if (e->principal)
        json_object_set_new(ev, "principal", principal_json(a, e->principal, &masked));
    set_str(ev, "actor", e->actor);
    set_str(ev, "method", e->method);
    if (e->path)
        json_object_set_new(ev, "path", masked_str(a, e->path, &masked));
    set_str(ev, "action", e->action);
    if (e->target && e->target[0])
        json_object_set_new(ev, "target", masked_str(a, e->target, &masked));
    json_object_set_new(ev, "status", json_integer(e->status));
    json_object_set_new(ev, "outcome",
                        json_string(e->status >= 200 && e->status < 300 ? "result" : "error"));
    if (e->reason && e->reason[0])
        json_object_set_new(ev, "reason", masked_str(a, e->reason, &masked));
    if (e->body && e->body_len) {
        json_object_set_new(ev, "body_digest", digest(a, e->body, e->body_len));
        json_object_set_new(ev, "body_bytes", json_integer((json_int_t)e->body_len));
        if (e->body_len <= ADMIN_BODY_INLINE) {
            json_error_t je;
            json_t *b = json_loadb(e->body, e->body_len, JSON_DECODE_ANY, &je);
            const struct gw_pii *p = gw_audit__pii(a);
            if (b)
                json_object_set_new(ev, "body", p ? gw_pii_mask_json(p, b, &masked)
                                                  : json_incref(b));
            json_decref(b);
        }
    }
    if (e->details) {
        const struct gw_pii *p = gw_audit__pii(a);
        json_object_set_new(ev, "details", p ? gw_pii_mask_json(p, e->details, &masked)
                                             : json_deep_copy(e->details));
    }
    gw_audit__count_pii(a, masked);
    return queue_event(a, ev, NULL, NULL, true, err);
}

void gw_audit_reject(struct gw_audit *a, const struct gw_audit_reject *r)
{
    unsigned masked = 0;
    json_t *ev = json_object();
    char ts[40];
    iso_now(ts, sizeof(ts), wall_ms());
    json_object_set_new(ev, "v", json_integer(1));
    json_object_set_new(ev, "ts", json_string(ts));
    json_object_set_new(ev, "kind", json_string("transport"));
    set_str(ev, "request_id", r->request_id);
    set_str(ev, "trace_id", r->trace_id);
    set_str(ev, "transport", r->transport);
    set_str(ev, "peer", r->peer);
    set_str(ev, "method", r->method);
    if (r->path)
        json_object_set_new(ev, "path", masked_str(a, r->path, &masked));
    json_object_set_new(ev, "outcome", json_string("rejected"));
    json_object_set_new(ev, "http_status", json_integer(r->status));
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(r->code));
    json_object_set_new(e, "message", masked_str(a, r->message, &masked));
    json_object_set_new(ev, "error", e);
    gw_audit__count_pii(a, masked);
    queue_event(a, ev, NULL, NULL, false, NULL);
}
