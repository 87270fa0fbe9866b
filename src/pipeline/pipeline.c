/*
 * src/pipeline/pipeline.c
 * The registry tool provider and the tools/call phase runner (see pipeline.h).
 *
 * Call lifecycle (one struct gw_call per tools/call, owned by the loop of its exchange):
 *
 *   RESOLVE -> [EXPOSURE -> AUTHORIZE -> RATELIMIT] -> VALIDATE -> EXECUTE -> RESPOND -> AUDIT
 *                 |  a handler answers GW_AGAIN: WAITING       (async)
 *                 +-- gw_call_resume --> next handler
 *
 * run_chain() walks the enforcing phases from (c->phase, c->hidx); a handler that answers
 * later parks the call (WAITING) and gw_call_resume() continues from the same place.
 * Invariants: (1) the call holds a reference on its exchange, its context and the snapshot it
 * resolved the tool in (the definition stays valid while a handler or the upstream call is
 * pending, even if the registry is reloaded); (2) exactly one reply per call, sent by finish()
 * or refuse(); (3) a cancelled call sends nothing: if it was executing its upstream request is
 * cancelled and the call freed at once; if it was WAITING on a handler it is freed when that
 * handler resumes it (handlers always resume exactly once).
 * Per-loop state (the loop's GW_LOOP_SLOT_PIPELINE, made by gw_pipeline_loop_start): the
 * upstream executor and the compiled schemas, cached per (tool name, definition version) and
 * dropped when the snapshot version changes.
 */
#include "pipeline/pipeline.h"
#include "trace/trace.h"

#include "core/alloc.h"
#include "core/assert.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_param.h"
#include "net/net_loop.h"
#include "schema/schema.h"

#include <stdio.h>
#include <string.h>

#define MAX_HANDLERS 16
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
    gw_list_filter_fn list_filter;
    void *list_filter_ud;
};

struct gw_call {
    struct gw_pipeline *p;
    struct gw_mcp_exchange *x;
    struct gw_ctx *ctx;
    struct loop_state *ls;
    struct gw_snapshot *snap;
    const struct gw_tool_entry *tool;
    json_t *args;
    json_t *dry_run;
    struct gw_exec_call *handle;
    enum gw_phase phase; /* the enforcing phase being run */
    int hidx;            /* the handler of that phase being run */
    bool in_handler;     /* inside a handler's fn (resume must not happen there) */
    bool waiting;        /* a handler answered GW_AGAIN */
    bool cancelled;
};

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
    gw_free(p);
}

int gw_pipeline_loop_start(struct gw_pipeline *p, struct gw_loop *loop, struct gw_error *err)
{
    GW_ASSERT(!gw_loop_slot(loop, GW_LOOP_SLOT_PIPELINE));
    struct gw_exec *ex = gw_exec_new(gw_loop_base(loop), p->ups, err);
    if (!ex)
        return err && err->code ? err->code : GW_ERR;
    struct loop_state *ls = gw_xcalloc(1, sizeof(*ls));
    ls->exec = ex;
    gw_loop_set_slot(loop, GW_LOOP_SLOT_PIPELINE, ls);
    return GW_OK;
}

void gw_pipeline_loop_stop(struct gw_pipeline *p, struct gw_loop *loop)
{
    (void)p;
    struct loop_state *ls = gw_loop_slot(loop, GW_LOOP_SLOT_PIPELINE);
    if (!ls)
        return;
    gw_exec_free(ls->exec);
    clear_cache(ls);
    gw_free(ls);
    gw_loop_set_slot(loop, GW_LOOP_SLOT_PIPELINE, NULL);
}

int gw_pipeline_add(struct gw_pipeline *p, enum gw_phase phase, const char *name, gw_phase_fn fn,
                    void *ud, enum gw_phase_mode mode)
{
    if (phase >= GW_PHASE_COUNT || p->nhandlers[phase] >= MAX_HANDLERS)
        return GW_ELIMIT;
    struct handler *h = &p->handlers[phase][p->nhandlers[phase]++];
    gw_strlcpy(h->name, sizeof(h->name), name);
    h->fn = fn;
    h->ud = ud;
    h->mode = mode;
    return GW_OK;
}

int gw_pipeline_set_list_filter(struct gw_pipeline *p, gw_list_filter_fn filter, void *ud)
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
    gw_strlcpy(a->name, sizeof(a->name), name);
    a->fn = fn;
    a->ud = ud;
    return GW_OK;
}

const struct gw_tool_entry *gw_call_tool(const struct gw_call *c)
{
    return c->tool;
}

const struct gw_snapshot *gw_call_snapshot(const struct gw_call *c)
{
    return c->snap;
}

const json_t *gw_call_args(const struct gw_call *c)
{
    return c->args;
}

struct gw_mcp_exchange *gw_call_exchange(struct gw_call *c)
{
    return c->x;
}

struct gw_ctx *gw_call_ctx(const struct gw_call *c)
{
    return c->ctx;
}

const struct gw_principal *gw_call_principal(const struct gw_call *c)
{
    const struct gw_principal *who = gw_ctx_principal(c->ctx);
    return who ? who : gw_principal_nobody();
}

bool gw_call_cancelled(const struct gw_call *c)
{
    return c->cancelled;
}

const json_t *gw_call_dry_run_denials(const struct gw_call *c)
{
    return c->dry_run;
}

/* ---------- per-loop state ---------- */

static struct loop_state *loop_state_of(struct gw_loop *loop)
{
    return gw_loop_slot(loop, GW_LOOP_SLOT_PIPELINE);
}

static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CACHE_BUCKETS;
}

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
    gw_strlcpy(c->name, sizeof(c->name), name);
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
    gw_ctx_unref(c->ctx);
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
    gw_ctx_phase_begin(c->ctx, GW_PHASE_AUDIT);
    for (int i = 0; i < c->p->naudits; i++)
        c->p->audits[i].fn(c->p->audits[i].ud, c, result, info);
    gw_ctx_phase_end(c->ctx, GW_PHASE_AUDIT);
}

/* Completes the call with `result` (stolen): RESPOND then AUDIT. */
static void finish(struct gw_call *c, json_t *result, const struct gw_exec_info *info)
{
    /* an error result's structured part would be checked against the tool's outputSchema by
     * clients (and fail): errors carry text only */
    if (json_is_true(json_object_get(result, "isError")) &&
        json_object_get(gw_tool_def(c->tool), "outputSchema"))
        json_object_del(result, "structuredContent");
    if (c->dry_run && json_array_size(c->dry_run)) {
        json_t *meta = json_object_get(result, "_meta");
        if (!json_is_object(meta)) {
            meta = json_object();
            json_object_set_new(result, "_meta", meta);
        }
        json_object_set(meta, "io.msil/dryRunDenials", c->dry_run);
    }
    gw_ctx_set_tool_error(c->ctx, json_is_true(json_object_get(result, "isError")));
    if (info) {
        struct gw_ctx_upstream u = {.http_status = info->http_status,
                                    .attempts = info->attempts,
                                    .latency_ms = info->latency_ms,
                                    .called = true};
        gw_strlcpy(u.upstream, sizeof(u.upstream), info->upstream ? info->upstream : "");
        gw_strlcpy(u.outcome, sizeof(u.outcome), gw_exec_outcome_name(info->outcome));
        gw_ctx_set_upstream(c->ctx, &u);
    }
    json_incref(result);
    gw_ctx_phase_begin(c->ctx, GW_PHASE_RESPOND);
    gw_mcp_reply(c->x, result); /* RESPOND */
    gw_ctx_phase_end(c->ctx, GW_PHASE_RESPOND);
    audit(c, result, info); /* AUDIT */
    json_decref(result);
    call_free(c);
}

/* Answers a refused call: a JSON-RPC error when the verdict names a code, else an isError
 * result with the reason. */
static void refuse(struct gw_call *c, struct gw_phase_verdict *v)
{
    if (v->jsonrpc_code) {
        gw_mcp_reply_error(c->x, v->jsonrpc_code, v->reason, v->data);
        v->data = NULL;
        audit(c, NULL, NULL);
        call_free(c);
        return;
    }
    json_decref(v->data);
    v->data = NULL;
    finish(c, error_result(v->reason), NULL);
}

static void on_exec_done(void *arg, json_t *result, const struct gw_exec_info *info)
{
    struct gw_call *c = arg;
    const char *prev = gw_ctx_enter(c->ctx);
    c->handle = NULL;
    gw_ctx_phase_end(c->ctx, GW_PHASE_EXECUTE);
    if (!result)
        result = error_result("the upstream call produced no result");
    finish(c, result, info);
    gw_ctx_leave(prev);
}

static void on_cancel(struct gw_mcp_exchange *x, void *arg)
{
    (void)x;
    struct gw_call *c = arg;
    c->cancelled = true;
    if (c->handle) {
        gw_exec_cancel(c->handle); /* its done callback will not run */
        c->handle = NULL;
        call_free(c);
    }
    /* WAITING: freed when the handler resumes the call */
}

/* Applies one handler's answer. Returns true to go on with the next handler, false when the
 * call was refused (and answered). */
static bool apply_verdict(struct gw_call *c, const struct handler *h, int rc,
                          struct gw_phase_verdict *v)
{
    enum gw_phase phase = c->phase;
    if (rc == GW_DECLINED) { /* the handler answered the exchange itself */
        gw_ctx_decide(c->ctx, phase, GW_VERDICT_CHALLENGE, h->name, v->rule_id,
                      v->policy_version, v->reason);
        gw_ctx_phase_end(c->ctx, phase);
        json_decref(v->data);
        v->data = NULL;
        audit(c, NULL, NULL);
        call_free(c);
        return false;
    }
    if (rc == GW_OK) {
        gw_ctx_decide(c->ctx, phase, GW_VERDICT_ALLOW, h->name, v->rule_id, v->policy_version,
                      v->reason);
        json_decref(v->data);
        v->data = NULL;
        return true;
    }
    if (rc != GW_EDENIED) { /* the handler failed: fail closed */
        GW_LOG(GW_LOG_ERROR, "pipeline", "%s/%s failed (%s) on tool %s: refused",
               gw_phase_name(phase), h->name, gw_rc_name(rc), c->tool->name);
        gw_ctx_decide(c->ctx, phase, GW_VERDICT_ERROR, h->name, v->rule_id, v->policy_version,
                      v->reason[0] ? v->reason : "internal error");
        if (h->mode == GW_PHASE_DRY_RUN) {
            json_decref(v->data);
            v->data = NULL;
            return true;
        }
        snprintf(v->reason, sizeof(v->reason),
                 "the gateway could not check this call (%s is unavailable); try again later",
                 h->name);
        v->jsonrpc_code = 0;
        refuse(c, v);
        return false;
    }
    if (h->mode == GW_PHASE_DRY_RUN) {
        GW_LOG(GW_LOG_INFO, "pipeline", "dry-run %s/%s would deny %s: %s", gw_phase_name(phase),
               h->name, c->tool->name, v->reason);
        gw_ctx_decide(c->ctx, phase, GW_VERDICT_DRY_RUN_DENY, h->name, v->rule_id,
                      v->policy_version, v->reason);
        if (!c->dry_run)
            c->dry_run = json_array();
        json_t *d = json_pack("{s:s,s:s,s:s}", "phase", gw_phase_name(phase), "handler", h->name,
                              "reason", v->reason);
        if (v->rule_id[0])
            json_object_set_new(d, "rule", json_string(v->rule_id));
        json_array_append_new(c->dry_run, d);
        json_decref(v->data);
        v->data = NULL;
        return true;
    }
    gw_ctx_decide(c->ctx, phase, GW_VERDICT_DENY, h->name, v->rule_id, v->policy_version,
                  v->reason);
    gw_ctx_phase_end(c->ctx, phase);
    refuse(c, v);
    return false;
}

static void validate_and_execute(struct gw_call *c);

/* Runs the enforcing phases from (c->phase, c->hidx) until one waits, refuses, or all pass
 * (then VALIDATE and EXECUTE). */
static void run_chain(struct gw_call *c)
{
    struct gw_pipeline *p = c->p;
    while (c->phase <= GW_PHASE_RATELIMIT) {
        int n = p->nhandlers[c->phase];
        if (c->hidx == 0 && n)
            gw_ctx_phase_begin(c->ctx, c->phase);
        while (c->hidx < n) {
            const struct handler *h = &p->handlers[c->phase][c->hidx];
            struct gw_phase_verdict v;
            memset(&v, 0, sizeof(v));
            c->in_handler = true;
            int rc = h->fn(h->ud, c, &v);
            c->in_handler = false;
            if (rc == GW_AGAIN) {
                c->waiting = true;
                return;
            }
            if (!apply_verdict(c, h, rc, &v))
                return;
            c->hidx++;
        }
        if (n)
            gw_ctx_phase_end(c->ctx, c->phase);
        c->phase++;
        c->hidx = 0;
    }
    validate_and_execute(c);
}

void gw_call_resume(struct gw_call *c, int rc, struct gw_phase_verdict *v)
{
    GW_ASSERT(c->waiting && !c->in_handler);
    c->waiting = false;
    struct gw_phase_verdict none;
    if (!v) {
        memset(&none, 0, sizeof(none));
        v = &none;
    }
    if (c->cancelled) {
        json_decref(v->data);
        v->data = NULL;
        call_free(c);
        return;
    }
    const char *prev = gw_ctx_enter(c->ctx);
    const struct handler *h = &c->p->handlers[c->phase][c->hidx];
    if (apply_verdict(c, h, rc, v)) {
        c->hidx++;
        run_chain(c);
    }
    gw_ctx_leave(prev);
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
    const struct gw_schema *s = tool_schema(c->p, ls, gw_tool_def(c->tool), false, &why);
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
    gw_ctx_decide(c->ctx, GW_PHASE_VALIDATE, GW_VERDICT_DENY, "schema", NULL, NULL,
                  "arguments do not match the input schema");
    finish(c, result, NULL);
    return false;
}

static void validate_and_execute(struct gw_call *c)
{
    struct loop_state *ls = c->ls;
    gw_ctx_phase_begin(c->ctx, GW_PHASE_VALIDATE);
    bool ok = validate(c, ls); /* VALIDATE */
    if (!ok)
        return;
    gw_ctx_phase_end(c->ctx, GW_PHASE_VALIDATE);

    /* EXECUTE */
    json_t *meta = json_object_get(gw_mcp_x_params(c->x), "_meta");
    const char *idem = gw_json_str(meta, "idempotencyKey");
    if (!idem)
        idem = gw_mcp_x_header(c->x, "Idempotency-Key");
    const struct gw_principal *who = gw_ctx_principal(c->ctx);
    struct gw_exec_caller caller = {0};
    if (who && who->method != GW_AUTH_ANONYMOUS) {
        caller.user_id = who->subject;
        caller.client_id = who->client_id; /* an API key's defaults to its key id */
        if (!caller.client_id[0])
            caller.client_id = NULL;
    }
    struct gw_exec_opts eo = {0};
    eo.caller = who && who->method != GW_AUTH_ANONYMOUS ? &caller : NULL;
    eo.idempotency_key = idem;
    eo.request_id = gw_ctx_request_id(c->ctx);
    char traceparent[64];
    if (gw_trace_upstream_parent(c->ctx, traceparent, sizeof(traceparent)))
        eo.traceparent = traceparent; /* the id of the upstream span src/trace exports */
    gw_ctx_phase_begin(c->ctx, GW_PHASE_EXECUTE);
    if (gw_exec_call(ls->exec, gw_tool_def(c->tool), c->args, &eo, on_exec_done, c, &c->handle) !=
        GW_OK) {
        gw_ctx_phase_end(c->ctx, GW_PHASE_EXECUTE);
        finish(c, error_result("the gateway could not start the upstream call"), NULL);
    }
}

static int call_tool(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args)
{
    struct gw_pipeline *p = self;
    struct gw_ctx *ctx = gw_mcp_x_ctx(x);
    /* RESOLVE */
    gw_ctx_phase_begin(ctx, GW_PHASE_RESOLVE);
    struct gw_snapshot *snap = gw_registry_acquire(p->reg);
    /* an alias (the old name of a renamed tool, during its deprecation period) resolves too */
    const struct gw_tool_entry *tool = gw_snapshot_resolve(snap, name, strlen(name), NULL);
    gw_ctx_phase_end(ctx, GW_PHASE_RESOLVE);
    if (!tool) {
        gw_snapshot_release(snap);
        return GW_ENOTFOUND; /* the server tries other providers, then answers -32602 */
    }
    /* Mcp-Param-* headers of its x-mcp-header arguments: a malformed request, refused before
     * any governance phase (a 400, as the transport's other header mismatches) */
    if (tool->param_headers) {
        struct gw_error err;
        int code = 0;
        gw_error_clear(&err);
        int rc = tool->param_decls
                     ? gw_mcp_x_check_decls(x, tool->param_decls, tool->nparam_decls, args, &code,
                                            &err)
                     : gw_mcp_x_check_params(x, json_object_get(gw_tool_def(tool), "inputSchema"),
                                             args, &code, &err); /* invalid: it says why */
        if (rc != GW_OK) {
            gw_ctx_decide(ctx, GW_PHASE_RESOLVE, GW_VERDICT_DENY, "mcp", NULL, NULL, err.msg);
            gw_snapshot_release(snap);
            gw_mcp_reply_error(x, code, err.msg, NULL);
            return GW_OK;
        }
    }
    struct gw_call *c = gw_xcalloc(1, sizeof(*c));
    c->p = p;
    c->x = x;
    gw_mcp_x_ref(x);
    c->ctx = gw_ctx_ref(ctx);
    c->snap = snap;
    c->tool = tool;
    c->args = json_incref(args);
    c->phase = GW_PHASE_EXPOSURE;
    c->ls = loop_state_of(gw_ctx_loop(ctx));
    if (!c->ls) {
        GW_LOG(GW_LOG_ERROR, "pipeline", "no pipeline state on this loop (not started)");
        finish(c, error_result("the gateway cannot execute tools right now (internal error)"),
               NULL);
        return GW_OK;
    }
    gw_mcp_x_on_cancel(x, on_cancel, c);
    run_chain(c);
    return GW_OK;
}

/* Output conformance (called by the executor on the worker loop): structuredContent must match
 * the tool's outputSchema, as MCP requires of a tool that declares one. */
static int output_check(void *ud, const json_t *tool_def, const json_t *structured,
                        struct gw_error *err)
{
    struct gw_pipeline *p = ud;
    struct loop_state *ls = loop_state_of(gw_loop_current());
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

/* Adapts the pipeline's list filter (which sees the caller) to the snapshot's filter. */
struct list_filter_arg {
    struct gw_pipeline *p;
    struct gw_ctx *ctx;
    const struct gw_snapshot *snap;
};

static bool list_filter(void *ud, const struct gw_tool_entry *tool)
{
    struct list_filter_arg *a = ud;
    return a->p->list_filter(a->p->list_filter_ud, a->ctx, a->snap, tool);
}

static int list_tools(void *self, struct gw_mcp_exchange *x, const char *cursor, size_t limit,
                      struct gw_buf *items, size_t *count, char next[128])
{
    struct gw_pipeline *p = self;
    struct gw_snapshot *snap = gw_registry_acquire(p->reg);
    struct list_filter_arg fa = {p, gw_mcp_x_ctx(x), snap};
    if (limit > GW_PAGE_MAX)
        limit = GW_PAGE_MAX;
    const struct gw_tool_entry *stack_page[128];
    const struct gw_tool_entry **page =
        limit <= 128 ? stack_page : gw_xmalloc(limit * sizeof(*page));
    size_t n = 0;
    char nxt[GW_CURSOR_MAX] = "";
    struct gw_error err = {0};
    int rc = gw_snapshot_paginate(snap, cursor, cursor ? strlen(cursor) : 0, limit,
                                  p->list_filter ? list_filter : NULL, &fa, page, &n, nxt,
                                  &err);
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

bool gw_pipeline_tool_visible(struct gw_pipeline *p, struct gw_mcp_exchange *x,
                              const struct gw_snapshot *snap, const struct gw_tool_entry *t)
{
    return !p->list_filter || p->list_filter(p->list_filter_ud, gw_mcp_x_ctx(x), snap, t);
}
