/*
 * src/trace/trace.c
 * Span building (OTLP JSON: resourceSpans / scopeSpans / spans with hex ids, nanosecond
 * times as strings, attributes as key/value lists) and the exporter thread (trace.h).
 */
#include "trace/trace.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/log.h"
#include "core/str.h"
#include "core/thread.h"
#include "ctx/ctx.h"
#include "mcp/mcp_server.h"
#include "pii/pii.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct gw_setting_def gw_trace_settings[] = {
    {"GW_OTLP_ENDPOINT", GW_SET_STRING, "", 0, 0, NULL, "Observability",
     "OTLP/HTTP traces endpoint (e.g. `http://otel-collector:4318/v1/traces`). Empty: no "
     "traces are exported."},
    {"GW_OTLP_HEADERS", GW_SET_SECRET, "", 0, 0, NULL, "Observability",
     "Extra headers of the OTLP requests, `Name=value` pairs separated by commas (e.g. an "
     "authorization header of a hosted collector)."},
    {"GW_OTLP_SERVICE_NAME", GW_SET_STRING, "mcpgw", 0, 0, NULL, "Observability",
     "`service.name` resource attribute of the spans."},
    {"GW_OTLP_QUEUE_MAX", GW_SET_INT, "8192", 16, 1000000, NULL, "Observability",
     "Requests waiting for export above which new ones are dropped (and counted)."},
    {"GW_OTLP_BATCH_MS", GW_SET_INT, "1000", 10, 60000, NULL, "Observability",
     "Export interval: queued spans are sent at least this often."},
    GW_SETTINGS_END};

struct item {
    struct item *next;
    char *json; /* one ResourceSpans-level "spans" array body: span objects joined by ',' */
    size_t len;
};

struct gw_tracer {
    char *endpoint, *service;
    struct curl_slist *headers;
    const struct gw_pii *pii;
    unsigned batch_ms;
    size_t queue_max;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct item *head, *tail;
    size_t qn;
    bool stop;
    atomic_ullong spans, exported, dropped, errors;
};

/* ---- ids ------------------------------------------------------------------------------- */

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void span_id(const struct gw_ctx *c, const char *name, char out[17])
{
    unsigned char md[32];
    char buf[400];
    /* "<trace id>\n<request id>\n<name>", cut to the buffer (as snprintf did) */
    size_t n = gw_strlcpy(buf, sizeof(buf), gw_ctx_trace_id(c));
    n += gw_strlcpy(buf + n, sizeof(buf) - n, "\n");
    n += gw_strlcpy(buf + n, sizeof(buf) - n, gw_ctx_request_id(c));
    n += gw_strlcpy(buf + n, sizeof(buf) - n, "\n");
    n += gw_strlcpy(buf + n, sizeof(buf) - n, name);
    gw_sha256(buf, n, md);
    if (!(md[0] | md[1] | md[2] | md[3] | md[4] | md[5] | md[6] | md[7]))
        md[7] = 1; /* an all-zero span id is invalid */
    hex(md, 8, out);
}

bool gw_trace_upstream_parent(const struct gw_ctx *ctx, char *out, size_t size)
{
    const char *t = gw_ctx_trace_id(ctx);
    if (strlen(t) != 32)
        return false;
    char sid[17];
    span_id(ctx, "upstream", sid);
    /* "00-<32 hex trace id>-<16 hex span id>-01" (55 characters) */
    char tp[56];
    memcpy(tp, "00-", 3);
    memcpy(tp + 3, t, 32);
    tp[35] = '-';
    memcpy(tp + 36, sid, 16);
    memcpy(tp + 52, "-01", 4);
    gw_strlcpy(out, size, tp);
    return true;
}

/* ---- spans --------------------------------------------------------------------------------- */

static void attr_str(struct gw_buf *b, bool *first, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    json_t *s = json_string(v);
    char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    if (!q)
        return;
    gw_buf_printf(b, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":%s}}", *first ? "" : ",", k,
                  q);
    free(q); /* checksrc: allow (jansson's allocator) */
    *first = false;
}

static void attr_int(struct gw_buf *b, bool *first, const char *k, long long v)
{
    gw_buf_printf(b, "%s{\"key\":\"%s\",\"value\":{\"intValue\":\"%lld\"}}", *first ? "" : ",", k,
                  v);
    *first = false;
}

static void masked(const struct gw_tracer *t, const char *s, char *out, size_t size)
{
    if (!t->pii || !s) {
        snprintf(out, size, "%s", s ? s : "");
        return;
    }
    struct gw_buf b;
    gw_buf_init(&b, size * 4);
    gw_pii_mask_text(t->pii, s, strlen(s), &b, NULL);
    snprintf(out, size, "%s", gw_buf_ptr(&b));
    gw_buf_fini(&b);
}

/* Appends one span object. kind: 1 internal, 2 server, 3 client. status: 0 unset, 2 error. */
static void span(struct gw_buf *b, bool *first_span, const char *trace, const char *sid,
                 const char *parent, const char *name, int kind, unsigned long long start_ns,
                 unsigned long long end_ns, int status, const char *status_msg,
                 const char *attrs)
{
    json_t *nm = json_string(name);
    char *q = json_dumps(nm, JSON_ENCODE_ANY);
    json_decref(nm);
    gw_buf_printf(b,
                  "%s{\"traceId\":\"%s\",\"spanId\":\"%s\",%s%s%s\"name\":%s,\"kind\":%d,"
                  "\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\","
                  "\"attributes\":[%s],\"status\":{\"code\":%d",
                  *first_span ? "" : ",", trace, sid, parent ? "\"parentSpanId\":\"" : "",
                  parent ? parent : "", parent ? "\"," : "", q ? q : "\"?\"", kind, start_ns,
                  end_ns, attrs, status);
    free(q); /* checksrc: allow (jansson's allocator) */
    if (status_msg && *status_msg) {
        json_t *m = json_string(status_msg);
        char *mq = m ? json_dumps(m, JSON_ENCODE_ANY) : NULL;
        json_decref(m);
        if (mq)
            gw_buf_printf(b, ",\"message\":%s", mq);
        free(mq); /* checksrc: allow (jansson's allocator) */
    }
    gw_buf_adds(b, "}}");
    *first_span = false;
}

void gw_tracer_observe(struct gw_tracer *t, const struct gw_mcp_completion *c)
{
    if (!t)
        return;
    const char *trace = gw_ctx_trace_id(c->ctx);
    if (strlen(trace) != 32)
        return;
    pthread_mutex_lock(&t->lock);
    bool full = t->qn >= t->queue_max;
    pthread_mutex_unlock(&t->lock);
    if (full) {
        atomic_fetch_add(&t->dropped, 1);
        return;
    }
    unsigned long long start = (unsigned long long)gw_ctx_started_ms(c->ctx) * 1000000ull;
    unsigned long long end = start + gw_ctx_elapsed_ns(c->ctx);
    char root[17];
    span_id(c->ctx, "request", root);
    struct gw_buf b, a;
    gw_buf_init(&b, 1 << 20);
    gw_buf_init(&a, 64 << 10);
    bool fs = true, fa = true;
    const char *method = c->method && c->method[0] ? c->method : gw_ctx_method(c->ctx);
    char name[128], msg[300];
    snprintf(name, sizeof(name), "mcp %s", method);
    attr_str(&a, &fa, "rpc.system", "jsonrpc");
    attr_str(&a, &fa, "rpc.method", method);
    attr_str(&a, &fa, "mcp.request_id", gw_ctx_request_id(c->ctx));
    attr_str(&a, &fa, "mcp.transport", gw_transport_name(gw_ctx_transport(c->ctx)));
    attr_str(&a, &fa, "client.address", gw_ctx_peer(c->ctx));
    masked(t, gw_ctx_tool(c->ctx), msg, sizeof(msg)); /* an unknown name is client text */
    attr_str(&a, &fa, "mcp.tool", msg);
    const struct gw_principal *p = gw_ctx_principal(c->ctx);
    if (p && p->method != GW_AUTH_ANONYMOUS) {
        masked(t, p->subject, msg, sizeof(msg));
        attr_str(&a, &fa, "enduser.id", msg);
        attr_str(&a, &fa, "mcp.client_id", p->client_id);
    }
    static const char *const outcomes[] = {"result", "error", "cancelled", "refused", "rejected"};
    attr_str(&a, &fa, "mcp.outcome", outcomes[c->outcome]);
    if (c->error_code)
        attr_int(&a, &fa, "rpc.jsonrpc.error_code", c->error_code);
    if (c->http_status)
        attr_int(&a, &fa, "http.response.status_code", c->http_status);
    masked(t, c->error_message, msg, sizeof(msg));
    bool failed = c->outcome == GW_MCP_OUTCOME_ERROR || c->outcome == GW_MCP_OUTCOME_REFUSED ||
                  c->outcome == GW_MCP_OUTCOME_REJECTED || gw_ctx_tool_error(c->ctx);
    span(&b, &fs, trace, root, NULL, name, 2, start, end, failed ? 2 : 0, failed ? msg : NULL,
         gw_buf_ptr(&a));
    /* phase children, laid end to end in phase order */
    unsigned long long at = start;
    for (int ph = GW_PHASE_AUTHENTICATE; ph <= GW_PHASE_RESPOND; ph++) {
        uint64_t ns = gw_ctx_phase_ns(c->ctx, (enum gw_phase)ph);
        if (!ns)
            continue;
        const char *pn = gw_phase_name((enum gw_phase)ph);
        char sid[17], pname[64];
        span_id(c->ctx, pn, sid);
        snprintf(pname, sizeof(pname), "phase %s", pn);
        gw_buf_reset(&a);
        fa = true;
        attr_str(&a, &fa, "mcp.phase", pn);
        const char *verdict = NULL;
        for (size_t i = 0; i < gw_ctx_decision_count(c->ctx); i++) {
            const struct gw_decision *d = gw_ctx_decision(c->ctx, i);
            if ((int)d->phase != ph)
                continue;
            verdict = gw_verdict_name(d->verdict);
            attr_str(&a, &fa, "mcp.decision.handler", d->handler);
            attr_str(&a, &fa, "mcp.decision.rule_id", d->rule_id);
        }
        attr_str(&a, &fa, "mcp.decision.verdict", verdict);
        span(&b, &fs, trace, sid, root, pname, 1, at, at + ns,
             verdict && strcmp(verdict, "deny") == 0 ? 2 : 0, NULL, gw_buf_ptr(&a));
        if (ph == GW_PHASE_EXECUTE) {
            const struct gw_ctx_upstream *u = gw_ctx_upstream(c->ctx);
            if (u && u->called) {
                char usid[17], uname[96];
                span_id(c->ctx, "upstream", usid);
                snprintf(uname, sizeof(uname), "upstream %s", u->upstream);
                gw_buf_reset(&a);
                fa = true;
                attr_str(&a, &fa, "server.name", u->upstream);
                attr_int(&a, &fa, "http.response.status_code", u->http_status);
                attr_int(&a, &fa, "mcp.upstream.attempts", u->attempts);
                attr_str(&a, &fa, "mcp.upstream.outcome", u->outcome);
                unsigned long long ue = at + u->latency_ms * 1000000ull;
                if (ue > at + ns)
                    ue = at + ns;
                span(&b, &fs, trace, usid, sid, uname, 3, at, ue,
                     strcmp(u->outcome, "ok") == 0 || !u->outcome[0] ? 0 : 2, NULL,
                     gw_buf_ptr(&a));
            }
        }
        at += ns;
    }
    gw_buf_fini(&a);
    struct item *it = gw_xmalloc(sizeof(*it));
    it->next = NULL;
    it->json = gw_buf_take(&b, &it->len);
    pthread_mutex_lock(&t->lock);
    if (t->tail)
        t->tail->next = it;
    else
        t->head = it;
    t->tail = it;
    t->qn++;
    pthread_mutex_unlock(&t->lock);
    atomic_fetch_add(&t->spans, 1);
}

/* ---- export -------------------------------------------------------------------------------- */

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int post_batch(struct gw_tracer *t, struct item *batch, size_t *count)
{
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX);
    json_t *svc = json_string(t->service);
    char *sq = json_dumps(svc, JSON_ENCODE_ANY);
    json_decref(svc);
    gw_buf_printf(&b,
                  "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
                  "\"value\":{\"stringValue\":%s}}]},\"scopeSpans\":[{\"scope\":{\"name\":"
                  "\"mcpgw\",\"version\":\"%s\"},\"spans\":[",
                  sq ? sq : "\"mcpgw\"", GW_VERSION);
    free(sq); /* checksrc: allow (jansson's allocator) */
    *count = 0;
    for (struct item *it = batch; it; it = it->next) {
        if (*count)
            gw_buf_addc(&b, ',');
        gw_buf_add(&b, it->json, it->len);
        (*count)++;
    }
    gw_buf_adds(&b, "]}]}]}");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, t->endpoint);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, gw_buf_ptr(&b));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)gw_buf_len(&b));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    gw_buf_fini(&b);
    return cc == CURLE_OK && status >= 200 && status < 300 ? GW_OK : GW_EIO;
}

static void *exporter_main(void *arg)
{
    gw_thread_init_self("gw-trace", GW_THREAD_BACKGROUND);
    struct gw_tracer *t = arg;
    unsigned backoff = 0;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        if (!t->stop) {
            struct timespec ts =
                gw_clock_deadline(CLOCK_REALTIME, (long)t->batch_ms + (long)backoff);
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
        struct item *batch = t->head;
        t->head = t->tail = NULL;
        t->qn = 0;
        bool stop = t->stop;
        pthread_mutex_unlock(&t->lock);
        if (batch) {
            size_t n = 0;
            int rc = post_batch(t, batch, &n);
            if (rc == GW_OK) {
                atomic_fetch_add(&t->exported, n);
                backoff = 0;
            } else {
                atomic_fetch_add(&t->errors, 1);
                atomic_fetch_add(&t->dropped, n); /* telemetry is best effort: not retried */
                backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 1000;
            }
            for (struct item *it = batch, *nx; it; it = nx) {
                nx = it->next;
                gw_free(it->json);
                gw_free(it);
            }
        }
        if (stop)
            break;
    }
    return NULL;
}

int gw_tracer_from_settings(const struct gw_settings *s, const struct gw_pii *pii,
                            struct gw_tracer **out, struct gw_error *err)
{
    *out = NULL;
    const char *ep = gw_settings_str(s, "GW_OTLP_ENDPOINT");
    if (!ep[0])
        return GW_DECLINED;
    if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
        return GW_ERROR_SET(err, GW_EINVAL, "GW_OTLP_ENDPOINT must be an http(s) URL");
    struct gw_tracer *t = gw_xcalloc(1, sizeof(*t));
    t->endpoint = gw_xstrdup(ep);
    t->service = gw_xstrdup(gw_settings_str(s, "GW_OTLP_SERVICE_NAME"));
    t->pii = pii;
    t->batch_ms = (unsigned)gw_settings_int(s, "GW_OTLP_BATCH_MS");
    t->queue_max = (size_t)gw_settings_int(s, "GW_OTLP_QUEUE_MAX");
    t->headers = curl_slist_append(NULL, "Content-Type: application/json");
    const char *h = gw_settings_str(s, "GW_OTLP_HEADERS");
    while (*h) {
        const char *e = strchr(h, ',');
        size_t l = e ? (size_t)(e - h) : strlen(h);
        const char *eq = memchr(h, '=', l);
        if (eq && eq > h) {
            char line[1024];
            snprintf(line, sizeof(line), "%.*s: %.*s", (int)(eq - h), h,
                     (int)(l - (size_t)(eq - h) - 1), eq + 1);
            t->headers = curl_slist_append(t->headers, line);
        }
        h += l + (e ? 1 : 0);
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pthread_create(&t->thread, NULL, exporter_main, t) != 0) {
        curl_slist_free_all(t->headers);
        gw_free(t->endpoint);
        gw_free(t->service);
        gw_free(t);
        return GW_ERROR_SET(err, GW_EIO, "cannot start the trace exporter");
    }
    *out = t;
    return GW_OK;
}

void gw_tracer_free(struct gw_tracer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    for (struct item *it = t->head, *nx; it; it = nx) {
        nx = it->next;
        gw_free(it->json);
        gw_free(it);
    }
    curl_slist_free_all(t->headers);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    gw_free(t->endpoint);
    gw_free(t->service);
    gw_free(t);
}

void gw_tracer_stats(const struct gw_tracer *t, struct gw_trace_stats *out)
{
    struct gw_tracer *m = (struct gw_tracer *)t;
    out->spans = atomic_load(&m->spans);
    out->exported = atomic_load(&m->exported);
    out->dropped = atomic_load(&m->dropped);
    out->export_errors = atomic_load(&m->errors);
}
