/*
 * src/metrics/metrics.c
 * The registry, the text exposition, the request families and the /metrics route
 * (metrics.h); the completion observer also feeds the dashboard's time series
 * (metrics_series.c: one short lock per tools/call). Series of a family live in a small
 * open-addressing table keyed by the joined label values; a family's mutex guards its table (held
 * for a hash lookup and an add).
 */
#include "metrics/metrics.h"

#include "core/alloc.h"
#include "metrics/metrics_series.h"
#include "core/log.h"
#include "ctx/ctx.h"
#include "mcp/mcp_server.h"
#include "net/net_http.h"
#include "net/net_server.h"

#include <math.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct series {
    char *key;  /* label values joined by \x1f */
    char *labels; /* rendered a="x",b="y" */
    double value; /* counter/gauge; histogram sum */
    unsigned long long count;
    unsigned long long *buckets; /* per bucket (not cumulative) */
};

struct gw_metrics_family {
    char *name, *help;
    enum gw_metric_type type;
    char *labels[GW_METRICS_MAX_LABELS];
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    pthread_mutex_t lock;
    struct series *s;
    size_t n, cap; /* cap is a power of two; open addressing */
    struct gw_metrics_family *next;
};

struct collector {
    gw_metrics_collect_fn fn;
    void *ud;
};

struct gw_metrics {
    struct gw_metrics_family *families, *last;
    struct collector col[32];
    size_t ncol;
    char *token;
    /* request families */
    struct gw_metrics_family *req, *req_dur, *calls, *up_dur, *decisions, *rejections;
    struct gw_metrics_series *series; /* the dashboard's time series (metrics_series.h) */
};

struct gw_metrics_writer {
    struct gw_buf *out;
};

struct gw_metrics *gw_metrics_new(void)
{
    return gw_xcalloc(1, sizeof(struct gw_metrics));
}

static void family_free(struct gw_metrics_family *f)
{
    for (size_t i = 0; i < f->cap; i++) {
        gw_free(f->s[i].key);
        gw_free(f->s[i].labels);
        gw_free(f->s[i].buckets);
    }
    gw_free(f->s);
    for (size_t i = 0; i < f->nlabels; i++)
        gw_free(f->labels[i]);
    gw_free(f->bounds);
    gw_free(f->name);
    gw_free(f->help);
    pthread_mutex_destroy(&f->lock);
    gw_free(f);
}

void gw_metrics_free(struct gw_metrics *m)
{
    if (!m)
        return;
    for (struct gw_metrics_family *f = m->families, *n; f; f = n) {
        n = f->next;
        family_free(f);
    }
    gw_metrics_series_free(m->series);
    if (m->token)
        OPENSSL_cleanse(m->token, strlen(m->token));
    gw_free(m->token);
    gw_free(m);
}

struct gw_metrics_family *gw_metrics_family(struct gw_metrics *m, const char *name,
                                            enum gw_metric_type type, const char *help,
                                            const char *const *labels, const double *buckets,
                                            size_t nbuckets)
{
    struct gw_metrics_family *f = gw_xcalloc(1, sizeof(*f));
    f->name = gw_xstrdup(name);
    f->help = gw_xstrdup(help);
    f->type = type;
    for (size_t i = 0; labels && labels[i] && i < GW_METRICS_MAX_LABELS; i++)
        f->labels[f->nlabels++] = gw_xstrdup(labels[i]);
    if (type == GW_METRIC_HISTOGRAM) {
        f->bounds = gw_xmalloc(nbuckets * sizeof(double));
        memcpy(f->bounds, buckets, nbuckets * sizeof(double));
        f->nbounds = nbuckets;
    }
    pthread_mutex_init(&f->lock, NULL);
    f->cap = 64;
    f->s = gw_xcalloc(f->cap, sizeof(*f->s));
    if (m->last)
        m->last->next = f;
    else
        m->families = f;
    m->last = f;
    return f;
}

void gw_metrics_escape(const char *v, char *out, size_t size)
{
    size_t n = 0;
    for (; v && *v && n + 3 < size; v++) {
        if (*v == '\\' || *v == '"') {
            out[n++] = '\\';
            out[n++] = *v;
        } else if (*v == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *v;
        }
    }
    out[n] = '\0';
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The series for `values` (created on first use). Called with f->lock held. */
static struct series *series_of(struct gw_metrics_family *f, const char *const *values)
{
    /* joined by hand: this runs several times per request (snprintf cost ~1,000 instructions
     * per series, measured with callgrind) */
    char key[1024];
    size_t k = 0;
    for (size_t i = 0; i < f->nlabels && k < sizeof(key) - 1; i++) {
        const char *v = values && values[i] ? values[i] : "";
        if (i)
            key[k++] = '\x1f';
        size_t l = strlen(v);
        if (l > sizeof(key) - 1 - k)
            l = sizeof(key) - 1 - k; /* cut: at most 1023 bytes of label values */
        memcpy(key + k, v, l);
        k += l;
    }
    key[k] = '\0';
    bool other = false;
again:;
    uint64_t h = hash_key(key);
    for (size_t i = 0;; i++) {
        struct series *s = &f->s[(h + i) & (f->cap - 1)];
        if (s->key && strcmp(s->key, key) == 0)
            return s;
        if (s->key)
            continue;
        if (f->n >= GW_METRICS_MAX_SERIES && !other) {
            /* cardinality guard: the last label becomes _other */
            other = true;
            char *cut = strrchr(key, '\x1f');
            if (cut)
                snprintf(cut + 1, sizeof(key) - (size_t)(cut + 1 - key), "_other");
            else
                snprintf(key, sizeof(key), "_other");
            goto again;
        }
        if ((f->n + 1) * 2 > f->cap) {
            size_t ncap = f->cap * 2;
            struct series *ns = gw_xcalloc(ncap, sizeof(*ns));
            for (size_t j = 0; j < f->cap; j++) {
                if (!f->s[j].key)
                    continue;
                uint64_t hh = hash_key(f->s[j].key);
                size_t p = 0;
                while (ns[(hh + p) & (ncap - 1)].key)
                    p++;
                ns[(hh + p) & (ncap - 1)] = f->s[j];
            }
            gw_free(f->s);
            f->s = ns;
            f->cap = ncap;
            goto again;
        }
        s->key = gw_xstrdup(key);
        struct gw_buf lb;
        gw_buf_init(&lb, 4096);
        const char *p = key;
        for (size_t j = 0; j < f->nlabels; j++) {
            const char *e = strchr(p, '\x1f');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            char raw[512], esc[1100];
            snprintf(raw, sizeof(raw), "%.*s", (int)(l < 511 ? l : 511), p);
            gw_metrics_escape(raw, esc, sizeof(esc));
            gw_buf_printf(&lb, "%s%s=\"%s\"", j ? "," : "", f->labels[j], esc);
            p = e ? e + 1 : p + l;
        }
        s->labels = gw_buf_take(&lb, NULL);
        if (f->type == GW_METRIC_HISTOGRAM)
            s->buckets = gw_xcalloc(f->nbounds, sizeof(unsigned long long));
        f->n++;
        return s;
    }
}

void gw_metrics_add(struct gw_metrics_family *f, const char *const *values, double v)
{
    pthread_mutex_lock(&f->lock);
    struct series *s = series_of(f, values);
    if (f->type == GW_METRIC_GAUGE)
        s->value = v;
    else
        s->value += v;
    pthread_mutex_unlock(&f->lock);
}

void gw_metrics_observe(struct gw_metrics_family *f, const char *const *values, double v)
{
    pthread_mutex_lock(&f->lock);
    struct series *s = series_of(f, values);
    s->value += v;
    s->count++;
    for (size_t i = 0; i < f->nbounds; i++) {
        if (v <= f->bounds[i]) {
            s->buckets[i]++;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
}

void gw_metrics_add_collector(struct gw_metrics *m, gw_metrics_collect_fn fn, void *ud)
{
    if (m->ncol < sizeof(m->col) / sizeof(m->col[0]))
        m->col[m->ncol++] = (struct collector){fn, ud};
}

static const char *type_name(enum gw_metric_type t)
{
    return t == GW_METRIC_COUNTER ? "counter" : t == GW_METRIC_GAUGE ? "gauge" : "histogram";
}

void gw_metrics_write_header(struct gw_metrics_writer *w, const char *name,
                             enum gw_metric_type type, const char *help)
{
    gw_buf_printf(w->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type_name(type));
}

static void put_value(struct gw_buf *out, double v)
{
    if (isnan(v))
        gw_buf_adds(out, "NaN");
    else if (isinf(v))
        gw_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        gw_buf_printf(out, "%.0f", v);
    else
        gw_buf_printf(out, "%.9g", v);
}

void gw_metrics_write_sample(struct gw_metrics_writer *w, const char *name, const char *labels,
                             double v)
{
    if (labels && *labels)
        gw_buf_printf(w->out, "%s{%s} ", name, labels);
    else
        gw_buf_printf(w->out, "%s ", name);
    put_value(w->out, v);
    gw_buf_addc(w->out, '\n');
}

void gw_metrics_write_single(struct gw_metrics_writer *w, const char *name,
                             enum gw_metric_type type, const char *help, double v)
{
    gw_metrics_write_header(w, name, type, help);
    gw_metrics_write_sample(w, name, NULL, v);
}

void gw_metrics_write_singles(struct gw_metrics_writer *w, const struct gw_metrics_single *s,
                              size_t n)
{
    for (size_t i = 0; i < n; i++)
        gw_metrics_write_single(w, s[i].name, s[i].type, s[i].help, s[i].value);
}

static void render_family(struct gw_metrics_family *f, struct gw_buf *out)
{
    struct gw_metrics_writer w = {out};
    pthread_mutex_lock(&f->lock);
    gw_metrics_write_header(&w, f->name, f->type, f->help);
    for (size_t i = 0; i < f->cap; i++) {
        struct series *s = &f->s[i];
        if (!s->key)
            continue;
        if (f->type != GW_METRIC_HISTOGRAM) {
            gw_metrics_write_sample(&w, f->name, s->labels, s->value);
            continue;
        }
        unsigned long long cum = 0;
        char lb[1400], name[200];
        snprintf(name, sizeof(name), "%s_bucket", f->name);
        for (size_t b = 0; b <= f->nbounds; b++) {
            char le[32];
            if (b < f->nbounds) {
                cum += s->buckets[b];
                snprintf(le, sizeof(le), "%g", f->bounds[b]);
            } else {
                cum = s->count;
                snprintf(le, sizeof(le), "+Inf");
            }
            snprintf(lb, sizeof(lb), "%s%sle=\"%s\"", s->labels, s->labels[0] ? "," : "", le);
            gw_metrics_write_sample(&w, name, lb, (double)cum);
        }
        snprintf(name, sizeof(name), "%s_sum", f->name);
        gw_metrics_write_sample(&w, name, s->labels, s->value);
        snprintf(name, sizeof(name), "%s_count", f->name);
        gw_metrics_write_sample(&w, name, s->labels, (double)s->count);
    }
    pthread_mutex_unlock(&f->lock);
}

int gw_metrics_render(struct gw_metrics *m, struct gw_buf *out)
{
    for (struct gw_metrics_family *f = m->families; f; f = f->next)
        render_family(f, out);
    struct gw_metrics_writer w = {out};
    for (size_t i = 0; i < m->ncol; i++)
        m->col[i].fn(m->col[i].ud, &w);
    return GW_OK;
}

/* ---- request families ------------------------------------------------------------------- */

static const double LATENCY[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};

void gw_metrics_request_families(struct gw_metrics *m)
{
    static const char *const l_req[] = {"method", "outcome", NULL};
    static const char *const l_dur[] = {"method", NULL};
    static const char *const l_call[] = {"tool", "decision", "outcome", NULL};
    static const char *const l_up[] = {"upstream", "outcome", NULL};
    static const char *const l_dec[] = {"phase", "verdict", NULL};
    static const char *const l_rej[] = {"status", NULL};
    size_t nb = sizeof(LATENCY) / sizeof(LATENCY[0]);
    m->req = gw_metrics_family(m, "mcpgw_requests_total", GW_METRIC_COUNTER,
                               "MCP requests finished, by method and outcome (result, error, "
                               "cancelled, refused).",
                               l_req, NULL, 0);
    m->req_dur = gw_metrics_family(m, "mcpgw_request_duration_seconds", GW_METRIC_HISTOGRAM,
                                   "Time from receiving an MCP request to its response, in the "
                                   "gateway (audit commit included).",
                                   l_dur, LATENCY, nb);
    m->calls = gw_metrics_family(m, "mcpgw_tool_calls_total", GW_METRIC_COUNTER,
                                 "tools/call requests by tool, governance decision (allow, "
                                 "deny, dry_run_deny, error) and outcome (ok, tool_error, "
                                 "error, cancelled).",
                                 l_call, NULL, 0);
    m->up_dur = gw_metrics_family(m, "mcpgw_upstream_request_duration_seconds",
                                  GW_METRIC_HISTOGRAM,
                                  "Upstream API latency per tool call (retries included), by "
                                  "upstream and executor outcome.",
                                  l_up, LATENCY, nb);
    m->decisions = gw_metrics_family(m, "mcpgw_decisions_total", GW_METRIC_COUNTER,
                                     "Verdicts of the enforcing phases (exposure, authorize, "
                                     "ratelimit): rate-limit rejections are phase=\"ratelimit\","
                                     "verdict=\"deny\".",
                                     l_dec, NULL, 0);
    m->rejections = gw_metrics_family(m, "mcpgw_transport_rejections_total", GW_METRIC_COUNTER,
                                      "HTTP requests refused by the MCP transport before any "
                                      "message was handled, by HTTP status.",
                                      l_rej, NULL, 0);
    if (!m->series)
        m->series = gw_metrics_series_new();
}

struct gw_metrics_series *gw_metrics_get_series(struct gw_metrics *m)
{
    return m ? m->series : NULL;
}

/* Unix milliseconds, from the coarse real-time clock (a vDSO read, ~4 ms resolution). */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *outcome_label(enum gw_mcp_outcome o)
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

void gw_metrics_observe_completion(struct gw_metrics *m, const struct gw_mcp_completion *c)
{
    if (!m->req)
        return;
    if (c->outcome == GW_MCP_OUTCOME_REJECTED) {
        char st[16];
        snprintf(st, sizeof(st), "%d", c->http_status);
        const char *v[] = {st};
        gw_metrics_add(m->rejections, v, 1);
        return;
    }
    /* unknown methods would be unbounded label values: a fixed set plus "other" */
    static const char *const known[] = {
        "initialize", "ping", "tools/list", "tools/call", "resources/list",
        "resources/read", "resources/templates/list", "prompts/list", "prompts/get",
        "completion/complete", "logging/setLevel", "server/discover", "subscriptions/listen",
        "resources/subscribe", "resources/unsubscribe"};
    const char *method = "other";
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (c->method && strcmp(c->method, known[i]) == 0)
            method = known[i];
    const char *v1[] = {method, outcome_label(c->outcome)};
    gw_metrics_add(m->req, v1, 1);
    const char *v2[] = {method};
    gw_metrics_observe(m->req_dur, v2, (double)gw_ctx_elapsed_ns(c->ctx) / 1e9);
    const char *decision = "allow";
    bool denied = c->outcome == GW_MCP_OUTCOME_REFUSED, challenged = false;
    size_t nd = gw_ctx_decision_count(c->ctx);
    for (size_t i = 0; i < nd; i++) {
        const struct gw_decision *d = gw_ctx_decision(c->ctx, i);
        const char *dv[] = {gw_phase_name(d->phase), gw_verdict_name(d->verdict)};
        gw_metrics_add(m->decisions, dv, 1);
        if (d->verdict == GW_VERDICT_DENY || d->verdict == GW_VERDICT_ERROR)
            decision = gw_verdict_name(d->verdict);
        else if (d->verdict == GW_VERDICT_DRY_RUN_DENY && strcmp(decision, "allow") == 0)
            decision = "dry_run_deny";
        /* a governance refusal (an unknown tool or bad arguments are the client's errors) */
        denied = denied || (d->verdict == GW_VERDICT_DENY &&
                            (d->phase == GW_PHASE_AUTHENTICATE || d->phase == GW_PHASE_EXPOSURE ||
                             d->phase == GW_PHASE_AUTHORIZE || d->phase == GW_PHASE_RATELIMIT));
        challenged = challenged || d->verdict == GW_VERDICT_CHALLENGE;
    }
    if (strcmp(method, "tools/call") != 0)
        return;
    const char *tool = gw_ctx_tool(c->ctx);
    if (c->outcome == GW_MCP_OUTCOME_ERROR && c->error_code == -32602)
        tool = ""; /* unknown tool or bad params: the name is client text (unbounded, PII) */
    const char *outcome = c->outcome == GW_MCP_OUTCOME_RESULT
                              ? (gw_ctx_tool_error(c->ctx) ? "tool_error" : "ok")
                              : outcome_label(c->outcome);
    const char *v3[] = {tool[0] ? tool : "_unknown", decision, outcome};
    gw_metrics_add(m->calls, v3, 1);
    const struct gw_ctx_upstream *u = gw_ctx_upstream(c->ctx);
    bool called = u && u->called;
    if (called) {
        const char *v4[] = {u->upstream, u->outcome[0] ? u->outcome : "ok"};
        gw_metrics_observe(m->up_dur, v4, (double)u->latency_ms / 1000.0);
    }
    if (m->series) {
        /* the dashboard: denials (and calls waiting for a person) are not failures */
        bool failed = c->outcome == GW_MCP_OUTCOME_ERROR ||
                      (c->outcome == GW_MCP_OUTCOME_RESULT && gw_ctx_tool_error(c->ctx));
        struct gw_series_obs o = {
            .tool = v3[0],
            .latency_us = gw_ctx_elapsed_ns(c->ctx) / 1000,
            .denied = denied,
            .error = failed && !denied && !challenged,
            .confirming = challenged && !denied,
            .upstream = called ? u->upstream : NULL,
            .upstream_latency_us = called ? u->latency_ms * 1000 : 0,
            .upstream_error = called && u->outcome[0] && strcmp(u->outcome, "ok") != 0};
        gw_metrics_series_record(m->series, now_ms(), &o);
    }
}

/* ---- /metrics ---------------------------------------------------------------------------- */

static void route_metrics(struct gw_http_req *r, void *arg)
{
    struct gw_metrics *m = arg;
    if (gw_http_method(r) != GW_HTTP_GET && gw_http_method(r) != GW_HTTP_HEAD) {
        gw_http_add_header(r, "Allow", "GET");
        gw_http_reply_error(r, 405, "method_not_allowed", "GET only");
        return;
    }
    if (m->token && m->token[0]) {
        const char *a = gw_http_header(r, "Authorization");
        size_t tl = strlen(m->token);
        bool ok = a && strncmp(a, "Bearer ", 7) == 0 && strlen(a + 7) == tl &&
                  CRYPTO_memcmp(a + 7, m->token, tl) == 0;
        if (!ok) {
            gw_http_add_header(r, "WWW-Authenticate", "Bearer realm=\"metrics\"");
            gw_http_reply_error(r, 401, "unauthorized", "metrics need the bearer token");
            return;
        }
    }
    struct gw_buf b;
    gw_buf_init(&b, 64u << 20);
    gw_metrics_render(m, &b);
    gw_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", gw_buf_ptr(&b),
                  gw_buf_len(&b));
    gw_buf_fini(&b);
}

void gw_metrics_attach(struct gw_metrics *m, struct gw_server *srv, const char *token)
{
    gw_free(m->token);
    m->token = gw_xstrdup(token ? token : "");
    gw_server_route(srv, "/metrics", route_metrics, m);
}

const struct gw_setting_def gw_metrics_settings[] = {
    {"GW_METRICS_LISTEN", GW_SET_STRING, "", 0, 0, NULL, "Observability",
     "Address of a separate Prometheus `/metrics` listener (e.g. `0.0.0.0:9464` for a "
     "Kubernetes scrape). Empty: `/metrics` is served on the admin listener "
     "(GW_ADMIN_LISTEN, loopback by default) instead."},
    {"GW_METRICS_TOKEN", GW_SET_SECRET, "", 0, 0, NULL, "Observability",
     "Bearer token required on `/metrics` (empty: none; keep the listener on a private "
     "network)."},
    GW_SETTINGS_END};
