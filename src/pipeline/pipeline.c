/*
 * src/pipeline/pipeline.c
 * The registry tool provider and the tools/call phase runner (see pipeline.h).
 *
 * Call lifecycle (one struct gw_call per tools/call, owned by the loop of its exchange):
 *   resolve -> exposure -> authorize -> ratelimit -> validate --(async)--> execute
 *           -> respond -> audit -> free
 * Invariants: the call holds a reference on its exchange and on the snapshot it resolved the
 * tool in (so the definition stays valid while the upstream call runs, even if the registry
 * is reloaded meanwhile); exactly one reply per call; a cancelled call cancels its upstream
 * request and sends nothing.
 * Per-loop state (found by event_base): the upstream executor and the compiled input schemas,
 * cached per (tool name, definition version) and dropped when the snapshot version changes.
 */
#include "pipeline/pipeline.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "mcp/mcp_jsonrpc.h"
#include "net/net_loop.h"
#include "schema/schema.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_HANDLERS 16
#define MAX_LOOPS 256
#define CACHE_BUCKETS 512

struct handler {
    char name[64];
    gw_phase_fn fn;
    void *ud;
    enum gw_phase_mode mode;
};

struct audit_obs {
    char name[64];
    gw_audit_fn fn;
    void *ud;
};

struct cached_schema {
    struct cached_schema *next;
    char name[72];
    bool output; /* outputSchema (true) or inputSchema */
    long long version;
    struct gw_schema *schema; /* NULL: the tool's schema failed to compile */
    char error[GW_ERROR_MSG_MAX + 64];
};

struct loop_state {
    struct event_base *base;
    struct gw_exec *exec;
    uint64_t snapshot_version; /* the cache below belongs to this snapshot */
    struct cached_schema *cache[CACHE_BUCKETS];
};

struct gw_pipeline {
    struct gw_registry *reg;
    struct gw_upstreams *ups;
    struct gw_pipeline_options opts;
    struct gw_schema_options schema_opts;
    struct handler handlers[GW_PHASE_COUNT][MAX_HANDLERS];
    int nhandlers[GW_PHASE_COUNT];
    struct audit_obs audits[MAX_HANDLERS];
    int naudits;
    gw_tool_filter_fn list_filter;
    void *list_filter_ud;
    pthread_mutex_t lock; /* guards loops[] */
    struct loop_state *loops[MAX_LOOPS];
    int nloops;
};

struct gw_call {
    struct gw_pipeline *p;
    struct gw_mcp_exchange *x;
    struct gw_snapshot *snap;
    const struct gw_tool_entry *tool;
    json_t *args;
    json_t *dry_run;
    struct gw_exec_call *handle;
    struct timespec t0;
};

static const char *const phase_names[GW_PHASE_COUNT] = {
    "resolve", "exposure", "authorize", "ratelimit", "validate", "execute", "respond", "audit"};

const char *gw_phase_name(enum gw_phase p)
{
    return p < GW_PHASE_COUNT ? phase_names[p] : "?";
}

/* ---------- set-up ---------- */

static int output_check(void *ud, const json_t *tool_def, const json_t *structured,
                        struct gw_error *err);

struct gw_pipeline *gw_pipeline_new(struct gw_registry *reg, struct gw_upstreams *ups,
                                    const struct gw_pipeline_options *opts)
{
    struct gw_pipeline *p = gw_xcalloc(1, sizeof(*p));
    p->reg = reg;
    p->ups = ups;
    if (opts)
        p->opts = *opts;
    else
        p->opts.validate_arguments = true;
    if (!p->opts.max_errors_shown)
        p->opts.max_errors_shown = 8;
    if (opts && opts->schema)
        p->schema_opts = *opts->schema;
    else
        gw_schema_options_init(&p->schema_opts);
    p->opts.schema = NULL;
    pthread_mutex_init(&p->lock, NULL);
    if (ups)
        gw_upstreams_set_output_check(ups, output_check, p);
    return p;
}

static void clear_cache(struct loop_state *ls)
{
    for (int i = 0; i < CACHE_BUCKETS; i++) {
        struct cached_schema *c = ls->cache[i];
        while (c) {
            struct cached_schema *n = c->next;
            gw_schema_release(c->schema);
            gw_free(c);
            c = n;
        }
        ls->cache[i] = NULL;
    }
}

void gw_pipeline_free(struct gw_pipeline *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nloops; i++) {
        gw_exec_free(p->loops[i]->exec);
        clear_cache(p->loops[i]);
        gw_free(p->loops[i]);
    }
    pthread_mutex_destroy(&p->lock);
    gw_free(p);
}

int gw_pipeline_add(struct gw_pipeline *p, enum gw_phase phase, const char *name, gw_phase_fn fn,
                    void *ud, enum gw_phase_mode mode)
{
    if (phase >= GW_PHASE_COUNT || p->nhandlers[phase] >= MAX_HANDLERS)
        return GW_ELIMIT;
    struct handler *h = &p->handlers[phase][p->nhandlers[phase]++];
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->fn = fn;
    h->ud = ud;
    h->mode = mode;
    return GW_OK;
}

int gw_pipeline_set_list_filter(struct gw_pipeline *p, gw_tool_filter_fn filter, void *ud)
{
    p->list_filter = filter;
    p->list_filter_ud = ud;
    return GW_OK;
}

int gw_pipeline_add_audit(struct gw_pipeline *p, const char *name, gw_audit_fn fn, void *ud)
{
    if (p->naudits >= MAX_HANDLERS)
        return GW_ELIMIT;
    struct audit_obs *a = &p->audits[p->naudits++];
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->fn = fn;
    a->ud = ud;
    return GW_OK;
}

const struct gw_tool_entry *gw_call_tool(const struct gw_call *c)
{
    return c->tool;
}

const json_t *gw_call_args(const struct gw_call *c)
{
    return c->args;
}

struct gw_mcp_exchange *gw_call_exchange(struct gw_call *c)
{
    return c->x;
}

const json_t *gw_call_dry_run_denials(const struct gw_call *c)
{
    return c->dry_run;
}

/* ---------- per-loop state ---------- */

static struct loop_state *loop_state(struct gw_pipeline *p, struct event_base *base,
                                     struct gw_error *err)
{
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nloops; i++) {
        if (p->loops[i]->base == base) {
            struct loop_state *ls = p->loops[i];
            pthread_mutex_unlock(&p->lock);
            return ls;
        }
    }
    pthread_mutex_unlock(&p->lock);
    /* only this loop's thread creates this loop's state, so no race on `base` */
    struct gw_exec *ex = gw_exec_new(base, p->ups, err);
    if (!ex)
        return NULL;
    struct loop_state *ls = gw_xcalloc(1, sizeof(*ls));
    ls->base = base;
    ls->exec = ex;
    pthread_mutex_lock(&p->lock);
    if (p->nloops >= MAX_LOOPS) {
        pthread_mutex_unlock(&p->lock);
        gw_exec_free(ex);
        gw_free(ls);
        GW_ERROR_SET(err, GW_ELIMIT, "too many event loops");
        return NULL;
    }
    p->loops[p->nloops++] = ls;
    pthread_mutex_unlock(&p->lock);
    return ls;
}

static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CACHE_BUCKETS;
}

/* The compiled input schema of `tool` (cached per loop); NULL with *why when it cannot be
 * compiled (a broken definition: reported to the caller as a tool error). */
/* The compiled input or output schema of the tool definition `def` (cached per loop, per
 * name and definition version); NULL with *why when it cannot be compiled. */
static const struct gw_schema *tool_schema(struct gw_pipeline *p, struct loop_state *ls,
                                           const json_t *def, bool output, const char **why)
{
    const char *name = gw_json_str(def, "name");
    json_t *vj = json_object_get(def, "version");
    long long version = json_is_integer(vj) ? (long long)json_integer_value(vj) : 0;
    if (!name)
        name = "";
    unsigned h = name_hash(name);
    for (struct cached_schema *c = ls->cache[h]; c; c = c->next) {
        if (c->version == version && c->output == output && strcmp(c->name, name) == 0) {
            *why = c->error;
            return c->schema;
        }
    }
    struct cached_schema *c = gw_xcalloc(1, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->version = version;
    c->output = output;
    struct gw_schema_options so = p->schema_opts;
    const char *dialect = gw_json_str(def, "schemaDialect");
    if (dialect)
        gw_schema_dialect_parse(dialect, &so.dialect);
    struct gw_error err = {0};
    json_t *schema = json_object_get(def, output ? "outputSchema" : "inputSchema");
    if (!schema || gw_schema_compile(schema, &so, &c->schema, &err) != GW_OK) {
        c->schema = NULL;
        snprintf(c->error, sizeof(c->error), "the tool's %s schema is invalid: %s",
                 output ? "output" : "input", schema ? err.msg : "missing");
        GW_LOG(GW_LOG_ERROR, "pipeline", "tool %s: %s", name, c->error);
    }
    c->next = ls->cache[h];
    ls->cache[h] = c;
    *why = c->error;
    return c->schema;
}

/* ---------- the call ---------- */

static void call_free(struct gw_call *c)
{
    json_decref(c->args);
    json_decref(c->dry_run);
    gw_snapshot_release(c->snap);
    gw_mcp_x_unref(c->x);
    gw_free(c);
}

static json_t *error_result(const char *text)
{
    return json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text, "isError",
                     1);
}

static void audit(struct gw_call *c, const json_t *result, const struct gw_exec_info *info)
{
    for (int i = 0; i < c->p->naudits; i++)
        c->p->audits[i].fn(c->p->audits[i].ud, c, result, info);
}

/* Completes the call with `result` (stolen): RESPOND then AUDIT. */
static void finish(struct gw_call *c, json_t *result, const struct gw_exec_info *info)
{
    /* an error result's structured part would be checked against the tool's outputSchema by
     * clients (and fail): errors carry text only */
    if (json_is_true(json_object_get(result, "isError")) &&
        json_object_get(c->tool->def, "outputSchema"))
        json_object_del(result, "structuredContent");
    if (c->dry_run && json_array_size(c->dry_run)) {
        json_t *meta = json_object_get(result, "_meta");
        if (!json_is_object(meta)) {
            meta = json_object();
            json_object_set_new(result, "_meta", meta);
        }
        json_object_set(meta, "io.msil/dryRunDenials", c->dry_run);
    }
    json_incref(result);
    gw_mcp_reply(c->x, result); /* RESPOND */
    audit(c, result, info);     /* AUDIT */
    json_decref(result);
    call_free(c);
}

static void on_exec_done(void *arg, json_t *result, const struct gw_exec_info *info)
{
    struct gw_call *c = arg;
    c->handle = NULL;
    if (!result)
        result = error_result("the upstream call produced no result");
    finish(c, result, info);
}

static void on_cancel(struct gw_mcp_exchange *x, void *arg)
{
    (void)x;
    struct gw_call *c = arg;
    if (c->handle) {
        gw_exec_cancel(c->handle); /* its done callback will not run */
        c->handle = NULL;
        call_free(c);
    }
}

/* Runs the handlers of an enforcing phase. Returns false when the call was refused (and
 * answered). */
static bool run_phase(struct gw_call *c, enum gw_phase phase)
{
    struct gw_pipeline *p = c->p;
    for (int i = 0; i < p->nhandlers[phase]; i++) {
        struct handler *h = &p->handlers[phase][i];
        struct gw_phase_verdict v = {{0}, 0};
        if (h->fn(h->ud, c, &v) == GW_OK)
            continue;
        if (h->mode == GW_PHASE_DRY_RUN) {
            GW_LOG(GW_LOG_INFO, "pipeline", "dry-run %s/%s would deny %s: %s", gw_phase_name(phase),
                   h->name, c->tool ? c->tool->name : "?", v.reason);
            if (!c->dry_run)
                c->dry_run = json_array();
            json_array_append_new(c->dry_run, json_pack("{s:s,s:s,s:s}", "phase",
                                                        gw_phase_name(phase), "handler", h->name,
                                                        "reason", v.reason));
            continue;
        }
        if (v.jsonrpc_code) {
            gw_mcp_reply_error(c->x, v.jsonrpc_code, v.reason, NULL);
            audit(c, NULL, NULL);
            call_free(c);
        } else {
            finish(c, error_result(v.reason), NULL);
        }
        return false;
    }
    return true;
}

static bool validate(struct gw_call *c, struct loop_state *ls)
{
    if (!c->p->opts.validate_arguments)
        return true;
    if (ls->snapshot_version != gw_snapshot_version(c->snap)) {
        clear_cache(ls);
        ls->snapshot_version = gw_snapshot_version(c->snap);
    }
    const char *why = NULL;
    const struct gw_schema *s = tool_schema(c->p, ls, c->tool->def, false, &why);
    if (!s) {
        finish(c, error_result(why), NULL);
        return false;
    }
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    int rc = gw_schema_validate(s, c->args, &rep);
    if (rc == GW_OK) {
        gw_schema_report_fini(&rep);
        return true;
    }
    struct gw_buf text;
    gw_buf_init(&text, 8192);
    gw_schema_report_render(&rep, "arguments", &text);
    json_t *result = error_result(gw_buf_ptr(&text));
    json_t *errors = gw_schema_report_json(&rep);
    if (errors) /* _meta, not structuredContent: clients check that against the outputSchema */
        json_object_set_new(result, "_meta", json_pack("{s:o}", "io.msil/violations", errors));
    gw_buf_fini(&text);
    gw_schema_report_fini(&rep);
    finish(c, result, NULL);
    return false;
}

static int call_tool(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args)
{
    struct gw_pipeline *p = self;
    /* RESOLVE */
    struct gw_snapshot *snap = gw_registry_acquire(p->reg);
    const struct gw_tool_entry *tool = gw_snapshot_find(snap, name, strlen(name));
    if (!tool) {
        gw_snapshot_release(snap);
        return GW_ENOTFOUND; /* the server tries other providers, then answers -32602 */
    }
    struct gw_call *c = gw_xcalloc(1, sizeof(*c));
    c->p = p;
    c->x = x;
    gw_mcp_x_ref(x);
    c->snap = snap;
    c->tool = tool;
    c->args = json_incref(args);
    clock_gettime(CLOCK_MONOTONIC, &c->t0);

    if (!run_phase(c, GW_PHASE_EXPOSURE) || !run_phase(c, GW_PHASE_AUTHORIZE) ||
        !run_phase(c, GW_PHASE_RATELIMIT))
        return GW_OK;

    struct gw_error err = {0};
    struct loop_state *ls = loop_state(p, gw_mcp_x_base(x), &err);
    if (!ls) {
        GW_LOG(GW_LOG_ERROR, "pipeline", "no executor on this loop: %s", err.msg);
        finish(c, error_result("the gateway cannot execute tools right now (internal error)"),
               NULL);
        return GW_OK;
    }
    if (!validate(c, ls)) /* VALIDATE */
        return GW_OK;

    /* EXECUTE */
    json_t *meta = json_object_get(gw_mcp_x_params(x), "_meta");
    const char *idem = gw_json_str(meta, "idempotencyKey");
    if (!idem)
        idem = gw_mcp_x_header(x, "Idempotency-Key");
    struct gw_exec_opts eo = {0};
    eo.idempotency_key = idem;
    eo.request_id = gw_mcp_x_request_id(x);
    gw_mcp_x_on_cancel(x, on_cancel, c);
    if (gw_exec_call(ls->exec, tool->def, c->args, &eo, on_exec_done, c, &c->handle) != GW_OK)
        finish(c, error_result("the gateway could not start the upstream call"), NULL);
    return GW_OK;
}

/* Output conformance (called by the executor on the worker loop): structuredContent must match
 * the tool's outputSchema, as MCP requires of a tool that declares one. */
static int output_check(void *ud, const json_t *tool_def, const json_t *structured,
                        struct gw_error *err)
{
    struct gw_pipeline *p = ud;
    struct gw_loop *loop = gw_loop_current();
    struct gw_error lerr = {0};
    struct loop_state *ls = loop ? loop_state(p, gw_loop_base(loop), &lerr) : NULL;
    if (!ls || !json_object_get(tool_def, "outputSchema"))
        return GW_OK;
    const char *why = NULL;
    const struct gw_schema *s = tool_schema(p, ls, tool_def, true, &why);
    if (!s)
        return GW_ERROR_SET(err, GW_EINVAL, "%s", why);
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    int rc = gw_schema_validate(s, structured, &rep);
    if (rc != GW_OK) {
        struct gw_buf text;
        gw_buf_init(&text, 1024);
        gw_schema_report_render(&rep, "response", &text);
        GW_ERROR_SET(err, GW_EINVAL, "the upstream response does not match the tool's output "
                                     "schema: %s", gw_buf_ptr(&text));
        gw_buf_fini(&text);
    }
    gw_schema_report_fini(&rep);
    return rc == GW_OK ? GW_OK : GW_EINVAL;
}

/* ---------- tools/list ---------- */

static int list_tools(void *self, struct gw_mcp_exchange *x, const char *cursor, size_t limit,
                      struct gw_buf *items, size_t *count, char next[128])
{
    (void)x;
    struct gw_pipeline *p = self;
    struct gw_snapshot *snap = gw_registry_acquire(p->reg);
    if (limit > GW_PAGE_MAX)
        limit = GW_PAGE_MAX;
    const struct gw_tool_entry *stack_page[128];
    const struct gw_tool_entry **page =
        limit <= 128 ? stack_page : gw_xmalloc(limit * sizeof(*page));
    size_t n = 0;
    char nxt[GW_CURSOR_MAX] = "";
    struct gw_error err = {0};
    int rc = gw_snapshot_paginate(snap, cursor, cursor ? strlen(cursor) : 0, limit,
                                  p->list_filter, p->list_filter_ud, page, &n, nxt, &err);
    for (size_t i = 0; rc == GW_OK && i < n; i++) {
        if (i)
            rc = gw_buf_addc(items, ',');
        if (rc == GW_OK)
            rc = gw_buf_add(items, page[i]->mcp_json, page[i]->mcp_json_len);
    }
    *count = rc == GW_OK ? n : 0;
    snprintf(next, 128, "%s", rc == GW_OK ? nxt : "");
    if (page != stack_page)
        gw_free(page);
    gw_snapshot_release(snap);
    return rc;
}

static const struct gw_mcp_provider_ops ops = {
    .name = "registry",
    .list_tools = list_tools,
    .call_tool = call_tool,
};

struct gw_mcp_provider gw_pipeline_provider(struct gw_pipeline *p)
{
    return (struct gw_mcp_provider){&ops, p};
}
