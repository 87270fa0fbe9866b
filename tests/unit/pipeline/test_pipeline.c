/*
 * tests/unit/pipeline/test_pipeline.c
 * The tools/call phase chain (pipeline/pipeline.h), driven through the real protocol server
 * on a real loop, with a registry published in memory and handlers scripted per test:
 *   - a denial answers with an isError result (or the verdict's JSON-RPC error), records the
 *     verdict with rule id and policy version, and never reaches VALIDATE/EXECUTE;
 *   - dry-run denials are recorded and reported in _meta while the call proceeds;
 *   - a failing handler fails closed;
 *   - a handler may answer later (GW_AGAIN): nothing is sent until gw_call_resume, and the
 *     chain continues from the next handler; a call cancelled while waiting sends nothing and
 *     is freed when the handler resumes it (ASan checks the freeing);
 *   - VALIDATE refuses bad arguments before the upstream; the executor is called with the
 *     context's facts (upstream outcome recorded);
 *   - the tools/list filter sees the caller's context.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/settings.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_server.h"
#include "net/net_loop.h"
#include "pipeline/pipeline.h"
#include "upstream/upstream_settings.h"

#include <event2/event.h>
#include <string.h>

static struct event_base *base;
static struct gw_loop *loop;
static struct gw_registry *reg;
static struct gw_upstreams *ups;
static struct gw_settings *settings;

static json_t *sent;

static void o_send(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len, bool final)
{
    (void)tctx;
    (void)x;
    (void)final;
    json_error_t je;
    json_array_append_new(sent, json_loadb(json, len, 0, &je));
}

static const struct gw_mcp_origin_ops ops = {.send = o_send};

static json_t *tool(const char *name)
{
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:{s:{s:s}},s:[s]},s:s,s:s,s:I,s:{s:s,s:s}}", "name",
                     name, "title", name, "description", "d", "inputSchema", "type", "object",
                     "properties", "id", "type", "string", "required", "id", "risk", "read",
                     "status", "active", "version", (json_int_t)1, "binding", "method", "GET",
                     "path", "/x");
}

static int setup(void **state)
{
    (void)state;
    gw_loop_init_threads();
    base = event_base_new();
    loop = gw_loop_new(base);
    gw_loop_set_current(loop);
    struct gw_registry_config rc = {0};
    struct gw_error err = {0};
    assert_int_equal(gw_registry_new(&rc, &reg, &err), GW_OK);
    json_t *defs = json_pack("[o,o]", tool("t_read"), tool("t_other"));
    assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
    json_decref(defs);
    settings = gw_settings_new();
    gw_settings_register(settings, gw_upstream_settings);
    assert_int_equal(gw_settings_load(settings, NULL, &err), GW_OK);
    ups = gw_upstreams_load(settings, &err);
    assert_non_null(ups);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_upstreams_free(ups);
    gw_registry_free(reg);
    gw_settings_free(settings);
    gw_loop_free(loop);
    event_base_free(base);
    return 0;
}

/* ---- a pipeline + server per test ---- */

struct fx {
    struct gw_pipeline *p;
    struct gw_mcp_server *srv;
};

static struct fx fx_new(void)
{
    struct fx f;
    struct gw_pipeline_options po = {true, 8, NULL};
    f.p = gw_pipeline_new(reg, ups, &po);
    struct gw_error err = {0};
    assert_int_equal(gw_pipeline_loop_start(f.p, loop, &err), GW_OK);
    struct gw_mcp_server_options o = {0};
    o.name = o.version = o.title = "t";
    o.page_size = 10;
    o.session_secret = "s";
    o.session_ttl_s = 60;
    o.max_json_depth = 32;
    o.max_batch = 8;
    o.allowed_origins = o.allowed_hosts = "";
    f.srv = gw_mcp_server_new(&o);
    gw_mcp_server_add_provider(f.srv, gw_pipeline_provider(f.p));
    json_decref(sent);
    sent = json_array();
    return f;
}

static void fx_free(struct fx *f)
{
    /* let posted tasks and executor timers settle */
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    gw_pipeline_loop_stop(f->p, loop);
    gw_mcp_server_free(f->srv);
    gw_pipeline_free(f->p);
}

static struct gw_ctx *call(struct fx *f, const char *subject, const char *text)
{
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_HTTP, .loop = loop, .request_id = "r"};
    struct gw_ctx *ctx = gw_ctx_new(&ci);
    struct gw_principal_init in = {.method = GW_AUTH_API_KEY, .subject = subject};
    gw_ctx_set_principal(ctx, gw_principal_new(&in));
    struct gw_mcp_origin o = {.ops = &ops, .loop = loop, .log_level = -1, .ctx = ctx,
                              .modern = true, .version = GW_MCP_V_2026_07_28};
    json_error_t je;
    json_t *m = json_loads(text, 0, &je);
    assert_non_null(m);
    gw_mcp_server_dispatch(f->srv, &o, m);
    json_decref(m);
    return ctx;
}

#define CALL_READ                                                                                  \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_read\","     \
    "\"arguments\":{\"id\":\"42\"}}}"

static const char *result_text(size_t i)
{
    json_t *r = json_object_get(json_array_get(sent, i), "result");
    return json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0),
                                             "text"));
}

static bool result_is_error(size_t i)
{
    return json_is_true(
        json_object_get(json_object_get(json_array_get(sent, i), "result"), "isError"));
}

/* ---- handlers ---- */

static int deny_authorize(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    assert_string_equal(gw_call_principal(c)->subject, "alice");
    snprintf(v->reason, sizeof(v->reason), "role reader may not call %s", gw_call_tool(c)->name);
    snprintf(v->rule_id, sizeof(v->rule_id), "rule-7");
    snprintf(v->policy_version, sizeof(v->policy_version), "v3");
    return GW_EDENIED;
}

static int hide_tool(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    snprintf(v->reason, sizeof(v->reason), "Unknown tool: %s", gw_call_tool(c)->name);
    v->jsonrpc_code = GW_JSONRPC_INVALID_PARAMS;
    return GW_EDENIED;
}

static int broken(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    (void)c;
    (void)v;
    return GW_EIO;
}

static int allow_with_rule(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    (void)c;
    snprintf(v->rule_id, sizeof(v->rule_id), "allow-readers");
    return GW_OK;
}

static struct gw_call *waiting;
static int later(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    (void)v;
    waiting = c;
    return GW_AGAIN;
}

static int seen_after_later;
static int after_later(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    (void)c;
    (void)v;
    seen_after_later++;
    return GW_OK;
}

/* ---- tests ---- */

static void test_denial_records_and_stops(void **state)
{
    (void)state;
    struct fx f = fx_new();
    gw_pipeline_add(f.p, GW_PHASE_EXPOSURE, "expose-all", allow_with_rule, NULL, GW_PHASE_ENFORCE);
    gw_pipeline_add(f.p, GW_PHASE_AUTHORIZE, "policy", deny_authorize, NULL, GW_PHASE_ENFORCE);
    gw_pipeline_add(f.p, GW_PHASE_RATELIMIT, "never-reached", broken, NULL, GW_PHASE_ENFORCE);
    struct gw_ctx *ctx = call(&f, "alice", CALL_READ);
    assert_int_equal(json_array_size(sent), 1);
    assert_true(result_is_error(0));
    assert_string_equal(result_text(0), "role reader may not call t_read");
    assert_int_equal(gw_ctx_decision_count(ctx), 2);
    const struct gw_decision *d0 = gw_ctx_decision(ctx, 0), *d1 = gw_ctx_decision(ctx, 1);
    assert_int_equal(d0->phase, GW_PHASE_EXPOSURE);
    assert_int_equal(d0->verdict, GW_VERDICT_ALLOW);
    assert_string_equal(d0->rule_id, "allow-readers");
    assert_int_equal(d1->phase, GW_PHASE_AUTHORIZE);
    assert_int_equal(d1->verdict, GW_VERDICT_DENY);
    assert_string_equal(d1->handler, "policy");
    assert_string_equal(d1->rule_id, "rule-7");
    assert_string_equal(d1->policy_version, "v3");
    assert_false(gw_ctx_upstream(ctx)->called);
    assert_true(gw_ctx_phase_ns(ctx, GW_PHASE_AUTHORIZE) > 0);
    gw_ctx_unref(ctx);
    fx_free(&f);
}

static void test_protocol_refusal(void **state)
{
    (void)state;
    struct fx f = fx_new();
    gw_pipeline_add(f.p, GW_PHASE_EXPOSURE, "exposure", hide_tool, NULL, GW_PHASE_ENFORCE);
    struct gw_ctx *ctx = call(&f, "alice", CALL_READ);
    json_t *e = json_object_get(json_array_get(sent, 0), "error");
    assert_int_equal(json_integer_value(json_object_get(e, "code")), GW_JSONRPC_INVALID_PARAMS);
    assert_string_equal(json_string_value(json_object_get(e, "message")), "Unknown tool: t_read");
    gw_ctx_unref(ctx);
    fx_free(&f);
}

static void test_dry_run_and_fail_closed(void **state)
{
    (void)state;
    struct fx f = fx_new();
    gw_pipeline_add(f.p, GW_PHASE_AUTHORIZE, "trial", deny_authorize, NULL, GW_PHASE_DRY_RUN);
    struct gw_ctx *ctx = call(&f, "alice", CALL_READ);
    for (int i = 0; i < 50 && json_array_size(sent) == 0; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(json_array_size(sent), 1);
    /* the call went on to the executor (this tool has no upstream: an error result) */
    json_t *meta = json_object_get(json_object_get(json_array_get(sent, 0), "result"), "_meta");
    json_t *dr = json_object_get(meta, "io.msil/dryRunDenials");
    assert_int_equal(json_array_size(dr), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(dr, 0), "rule")),
                        "rule-7");
    assert_int_equal(gw_ctx_decision(ctx, 0)->verdict, GW_VERDICT_DRY_RUN_DENY);
    gw_ctx_unref(ctx);
    fx_free(&f);

    f = fx_new();
    gw_pipeline_add(f.p, GW_PHASE_RATELIMIT, "limiter", broken, NULL, GW_PHASE_ENFORCE);
    ctx = call(&f, "alice", CALL_READ);
    assert_true(result_is_error(0));
    assert_non_null(strstr(result_text(0), "could not check this call"));
    assert_int_equal(gw_ctx_decision(ctx, 0)->verdict, GW_VERDICT_ERROR);
    gw_ctx_unref(ctx);
    fx_free(&f);
}

static void test_async_handler(void **state)
{
    (void)state;
    struct fx f = fx_new();
    gw_pipeline_add(f.p, GW_PHASE_AUTHORIZE, "remote-policy", later, NULL, GW_PHASE_ENFORCE);
    gw_pipeline_add(f.p, GW_PHASE_AUTHORIZE, "after", after_later, NULL, GW_PHASE_ENFORCE);
    waiting = NULL;
    seen_after_later = 0;
    struct gw_ctx *ctx = call(&f, "alice", CALL_READ);
    assert_non_null(waiting);
    assert_int_equal(json_array_size(sent), 0);
    assert_int_equal(seen_after_later, 0);
    struct gw_phase_verdict v;
    memset(&v, 0, sizeof(v));
    snprintf(v.reason, sizeof(v.reason), "policy server says no");
    snprintf(v.rule_id, sizeof(v.rule_id), "opa:deny");
    gw_call_resume(waiting, GW_EDENIED, &v);
    assert_int_equal(json_array_size(sent), 1);
    assert_string_equal(result_text(0), "policy server says no");
    assert_int_equal(seen_after_later, 0);
    assert_string_equal(gw_ctx_decision(ctx, 0)->rule_id, "opa:deny");
    gw_ctx_unref(ctx);

    /* allowed later: the chain continues with the next handler */
    json_array_clear(sent);
    waiting = NULL;
    ctx = call(&f, "alice", CALL_READ);
    gw_call_resume(waiting, GW_OK, NULL);
    assert_int_equal(seen_after_later, 1);
    for (int i = 0; i < 50 && json_array_size(sent) == 0; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(json_array_size(sent), 1);
    gw_ctx_unref(ctx);

    /* cancelled while waiting: nothing is sent, resuming frees the call */
    json_array_clear(sent);
    waiting = NULL;
    ctx = call(&f, "alice", CALL_READ);
    assert_non_null(waiting);
    gw_ctx_unref(call(&f, "alice", "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                                   "\"params\":{\"requestId\":1}}"));
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_true(gw_call_cancelled(waiting));
    gw_call_resume(waiting, GW_OK, NULL);
    assert_int_equal(json_array_size(sent), 0);
    assert_int_equal(seen_after_later, 1);
    gw_ctx_unref(ctx);
    fx_free(&f);
}

static void test_validation_before_execute(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct gw_ctx *ctx = call(&f, "alice",
                              "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                              "{\"name\":\"t_read\",\"arguments\":{\"id\":5}}}");
    assert_int_equal(json_array_size(sent), 1);
    assert_true(result_is_error(0));
    assert_non_null(strstr(result_text(0), "id"));
    const struct gw_decision *d = gw_ctx_decision(ctx, 0);
    assert_int_equal(d->phase, GW_PHASE_VALIDATE);
    assert_false(gw_ctx_upstream(ctx)->called);
    gw_ctx_unref(ctx);
    /* valid arguments reach the executor, whose facts land on the context */
    json_array_clear(sent);
    ctx = call(&f, "alice", CALL_READ);
    for (int i = 0; i < 50 && json_array_size(sent) == 0; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(json_array_size(sent), 1);
    assert_true(gw_ctx_upstream(ctx)->called);
    assert_string_not_equal(gw_ctx_upstream(ctx)->outcome, "");
    assert_string_equal(gw_ctx_tool(ctx), "t_read");
    gw_ctx_unref(ctx);
    fx_free(&f);
}

static bool only_for_alice(void *ud, struct gw_ctx *c, const struct gw_snapshot *snap,
                           const struct gw_tool_entry *t)
{
    (void)ud;
    assert_non_null(snap);
    const struct gw_principal *p = gw_ctx_principal(c);
    return strcmp(t->name, "t_read") != 0 || (p && strcmp(p->subject, "alice") == 0);
}

static void test_list_filter_sees_caller(void **state)
{
    (void)state;
    struct fx f = fx_new();
    gw_pipeline_set_list_filter(f.p, only_for_alice, NULL);
    const char *list = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}";
    gw_ctx_unref(call(&f, "alice", list));
    gw_ctx_unref(call(&f, "bob", list));
    json_t *a = json_object_get(json_object_get(json_array_get(sent, 0), "result"), "tools");
    json_t *b = json_object_get(json_object_get(json_array_get(sent, 1), "result"), "tools");
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(json_array_size(b), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "name")),
                        "t_other");
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_denial_records_and_stops),
        cmocka_unit_test(test_protocol_refusal),
        cmocka_unit_test(test_dry_run_and_fail_closed),
        cmocka_unit_test(test_async_handler),
        cmocka_unit_test(test_validation_before_execute),
        cmocka_unit_test(test_list_filter_sees_caller),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    json_decref(sent);
    return rc;
}
