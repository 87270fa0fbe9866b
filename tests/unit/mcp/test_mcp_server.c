/*
 * tests/unit/mcp/test_mcp_server.c
 * The protocol server (mcp/mcp_server.h) with a recording origin, a scripted tool provider
 * and a scripted authenticator, on a real event loop:
 *   - AUTHENTICATE runs once per context before any exchange exists, synchronously or later
 *     (GW_AGAIN: nothing is answered until the authenticator finishes, the transport is held);
 *   - a failed authentication creates no exchange: requests get -32001 and the transport's
 *     auth_failed hook, notifications only the hook, and the observer sees REFUSED;
 *   - the exchange carries the context (principal, decision record: an unknown tool is
 *     recorded as a RESOLVE denial);
 *   - the completion observer sees every finished message exactly once and may hold the final
 *     message until it releases it (from another thread), cancellations are observed and send
 *     nothing; exactly one final message per request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_server.h"
#include "net/net_loop.h"

#include <event2/event.h>
#include <pthread.h>
#include <string.h>

/* ---- recording origin ---- */

struct rec {
    json_t *sent; /* array of {"json":..., "final":bool} */
    int holds, finals, auth_failed_status;
    char challenge[800];
};

static void o_send(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len, bool final)
{
    (void)x;
    struct rec *r = tctx;
    json_error_t je;
    json_t *m = json_loadb(json, len, 0, &je);
    assert_non_null(m);
    json_array_append_new(r->sent, json_pack("{s:o,s:b}", "json", m, "final", final));
    if (final)
        r->finals++;
}

static void o_hold(void *tctx)
{
    ((struct rec *)tctx)->holds++;
}

static void o_release(void *tctx)
{
    ((struct rec *)tctx)->holds--;
}

static void o_auth_failed(void *tctx, const struct gw_auth_failure *f)
{
    struct rec *r = tctx;
    r->auth_failed_status = f->status;
    snprintf(r->challenge, sizeof(r->challenge), "%s", f->challenge);
}

static const struct gw_mcp_origin_ops ops = {.send = o_send,
                                             .hold = o_hold,
                                             .release = o_release,
                                             .auth_failed = o_auth_failed};

/* ---- scripted authenticator ---- */

enum auth_script { AUTH_OK_NOW, AUTH_FAIL_NOW, AUTH_LATER };
static enum auth_script script;
static int auth_calls;
static struct gw_ctx *pending_ctx;
static gw_authn_done_fn pending_done;
static void *pending_arg;

static int a_authenticate(void *self, struct gw_ctx *c, gw_authn_done_fn done, void *arg)
{
    (void)self;
    auth_calls++;
    if (script == AUTH_LATER) {
        pending_ctx = gw_ctx_ref(c);
        pending_done = done;
        pending_arg = arg;
        return GW_AGAIN;
    }
    if (script == AUTH_FAIL_NOW) {
        struct gw_auth_failure f = {.status = 401, .error = "invalid_token"};
        snprintf(f.description, sizeof(f.description), "bad token");
        snprintf(f.challenge, sizeof(f.challenge), "Bearer error=\"invalid_token\"");
        gw_ctx_set_auth_failure(c, &f);
        return GW_OK;
    }
    const char *roles[] = {"tester"};
    struct gw_principal_init in = {.method = GW_AUTH_API_KEY, .subject = "alice", .roles = roles,
                                   .nroles = 1};
    gw_ctx_set_principal(c, gw_principal_new(&in));
    return GW_OK;
}

static const struct gw_authn_ops authn_ops = {.authenticate = a_authenticate};

/* finish a pending authentication as `script` says */
static void finish_pending(bool ok)
{
    assert_non_null(pending_ctx);
    if (ok) {
        struct gw_principal_init in = {.method = GW_AUTH_OIDC, .subject = "bob"};
        gw_ctx_set_principal(pending_ctx, gw_principal_new(&in));
    } else {
        struct gw_auth_failure f = {.status = 503};
        snprintf(f.description, sizeof(f.description), "keys unavailable");
        gw_ctx_set_auth_failure(pending_ctx, &f);
    }
    struct gw_ctx *c = pending_ctx;
    pending_ctx = NULL;
    pending_done(c, pending_arg);
    gw_ctx_unref(c);
}

/* ---- scripted provider: tool "echo" answers with the caller's subject ---- */

static int p_call(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args)
{
    (void)self;
    (void)args;
    if (strcmp(name, "echo") != 0)
        return GW_ENOTFOUND;
    const struct gw_principal *p = gw_ctx_principal(gw_mcp_x_ctx(x));
    gw_mcp_reply(x, json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text",
                              p ? p->subject : "?"));
    return GW_OK;
}

static struct gw_mcp_exchange *parked; /* tool "park": replies only when the test says */

static int p_call_park(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args)
{
    if (strcmp(name, "park") == 0) {
        gw_mcp_x_ref(x);
        parked = x;
        return GW_OK;
    }
    return p_call(self, x, name, args);
}

static const struct gw_mcp_provider_ops prov_ops = {.name = "test", .call_tool = p_call_park};

/* ---- observer ---- */

static json_t *observed; /* array of {"outcome","method","code","subject"} */
static bool hold_next;
static gw_mcp_release_fn held_release;
static void *held_token;

static int observe(void *ud, const struct gw_mcp_completion *c, gw_mcp_release_fn release,
                   void *token)
{
    (void)ud;
    const struct gw_principal *p = gw_ctx_principal(c->ctx);
    json_array_append_new(observed,
                          json_pack("{s:i,s:s,s:i,s:s,s:i}", "outcome", (int)c->outcome, "method",
                                    c->method, "code", c->error_code, "subject",
                                    p ? p->subject : "", "decisions",
                                    (int)gw_ctx_decision_count(c->ctx)));
    if (hold_next && release) {
        hold_next = false;
        held_release = release;
        held_token = token;
        return GW_AGAIN;
    }
    return GW_OK;
}

/* ---- fixture ---- */

static struct event_base *base;
static struct gw_loop *loop;
static struct gw_mcp_server *srv;
static struct rec rec;

static int setup(void **state)
{
    (void)state;
    gw_loop_init_threads();
    base = event_base_new();
    loop = gw_loop_new(base);
    gw_loop_set_current(loop);
    struct gw_mcp_server_options o = {0};
    o.name = "t";
    o.version = "1";
    o.title = "T";
    o.page_size = 10;
    o.session_secret = "s";
    o.session_ttl_s = 60;
    o.max_json_depth = 32;
    o.max_batch = 8;
    o.allowed_origins = "";
    o.allowed_hosts = "";
    srv = gw_mcp_server_new(&o);
    gw_mcp_server_add_provider(srv, (struct gw_mcp_provider){&prov_ops, NULL});
    gw_mcp_server_set_authn(srv, (struct gw_authn){&authn_ops, NULL});
    gw_mcp_server_on_complete(srv, observe, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_mcp_server_free(srv);
    gw_loop_free(loop);
    event_base_free(base);
    return 0;
}

static void reset(void)
{
    json_decref(rec.sent);
    json_decref(observed);
    memset(&rec, 0, sizeof(rec));
    rec.sent = json_array();
    observed = json_array();
    auth_calls = 0;
    script = AUTH_OK_NOW;
}

/* Dispatches `text` with a fresh PENDING context; returns the context (caller unrefs). */
static struct gw_ctx *send_msg(const char *text)
{
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_HTTP, .loop = loop, .request_id = "r1",
                             .credential = "Bearer x"};
    struct gw_ctx *ctx = gw_ctx_new(&ci);
    struct gw_mcp_origin o = {.ops = &ops, .tctx = &rec, .loop = loop, .log_level = -1,
                              .request_id = "r1", .ctx = ctx};
    o.modern = true;
    o.version = GW_MCP_V_2026_07_28;
    json_error_t je;
    json_t *m = json_loads(text, 0, &je);
    assert_non_null(m);
    gw_mcp_server_dispatch(srv, &o, m);
    json_decref(m);
    return ctx;
}

static json_t *sent(size_t i)
{
    return json_object_get(json_array_get(rec.sent, i), "json");
}

#define CALL(tool)                                                                                 \
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"" tool "\"}}"

static void test_sync_authentication(void **state)
{
    (void)state;
    reset();
    struct gw_ctx *ctx = send_msg(CALL("echo"));
    assert_int_equal(auth_calls, 1);
    assert_int_equal(rec.finals, 1);
    assert_int_equal(rec.holds, 0); /* every hold released */
    const char *text = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(sent(0), "result"), "content"), 0), "text"));
    assert_string_equal(text, "alice");
    assert_string_equal(gw_ctx_principal(ctx)->subject, "alice");
    assert_string_equal(gw_ctx_method(ctx), "tools/call");
    assert_string_equal(gw_ctx_tool(ctx), "echo");
    /* the observer saw one RESULT with the principal */
    assert_int_equal(json_array_size(observed), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(observed, 0), "outcome")),
                     GW_MCP_OUTCOME_RESULT);
    assert_string_equal(json_string_value(json_object_get(json_array_get(observed, 0), "subject")),
                        "alice");
    gw_ctx_unref(ctx);
    /* an already authenticated context is not authenticated again */
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_HTTP, .loop = loop};
    struct gw_ctx *done = gw_ctx_new(&ci);
    gw_ctx_set_principal(done, gw_principal_anonymous());
    struct gw_mcp_origin o = {.ops = &ops, .tctx = &rec, .loop = loop, .log_level = -1,
                              .ctx = done, .modern = true, .version = GW_MCP_V_2026_07_28};
    json_error_t je;
    json_t *m = json_loads(CALL("echo"), 0, &je);
    gw_mcp_server_dispatch(srv, &o, m);
    json_decref(m);
    assert_int_equal(auth_calls, 1);
    assert_int_equal(rec.finals, 2);
    gw_ctx_unref(done);
}

static void test_async_authentication(void **state)
{
    (void)state;
    reset();
    script = AUTH_LATER;
    struct gw_ctx *ctx = send_msg(CALL("echo"));
    assert_int_equal(rec.finals, 0);  /* nothing answered yet */
    assert_int_equal(rec.holds, 1);   /* the transport is held while waiting */
    finish_pending(true);
    assert_int_equal(rec.finals, 1);
    assert_int_equal(rec.holds, 0);
    const char *text = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(sent(0), "result"), "content"), 0), "text"));
    assert_string_equal(text, "bob");
    gw_ctx_unref(ctx);
    /* ... and failing later */
    reset();
    script = AUTH_LATER;
    ctx = send_msg(CALL("echo"));
    finish_pending(false);
    assert_int_equal(rec.finals, 1);
    assert_int_equal(rec.auth_failed_status, 503);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sent(0), "error"), "code")),
                     GW_GATEWAY_UNAUTHENTICATED);
    gw_ctx_unref(ctx);
}

static void test_failed_authentication(void **state)
{
    (void)state;
    reset();
    script = AUTH_FAIL_NOW;
    parked = NULL;
    struct gw_ctx *ctx = send_msg(CALL("park"));
    assert_null(parked); /* no exchange: the provider was never asked */
    assert_int_equal(rec.finals, 1);
    assert_int_equal(rec.auth_failed_status, 401);
    assert_string_equal(rec.challenge, "Bearer error=\"invalid_token\"");
    json_t *e = json_object_get(sent(0), "error");
    assert_int_equal(json_integer_value(json_object_get(e, "code")), GW_GATEWAY_UNAUTHENTICATED);
    assert_string_equal(json_string_value(json_object_get(e, "message")), "bad token");
    assert_int_equal(json_integer_value(json_object_get(sent(0), "id")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(observed, 0), "outcome")),
                     GW_MCP_OUTCOME_REFUSED);
    gw_ctx_unref(ctx);
    /* a notification refused: only the hook, nothing sent */
    reset();
    script = AUTH_FAIL_NOW;
    ctx = send_msg("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
                   "{\"requestId\":1}}");
    assert_int_equal(json_array_size(rec.sent), 0);
    assert_int_equal(rec.auth_failed_status, 401);
    gw_ctx_unref(ctx);
}

static void test_unknown_tool_decision(void **state)
{
    (void)state;
    reset();
    struct gw_ctx *ctx = send_msg(CALL("nope"));
    json_t *e = json_object_get(sent(0), "error");
    assert_int_equal(json_integer_value(json_object_get(e, "code")), GW_JSONRPC_INVALID_PARAMS);
    assert_int_equal(gw_ctx_decision_count(ctx), 1);
    const struct gw_decision *d = gw_ctx_decision(ctx, 0);
    assert_int_equal(d->phase, GW_PHASE_RESOLVE);
    assert_int_equal(d->verdict, GW_VERDICT_DENY);
    assert_non_null(strstr(d->reason, "Unknown tool"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(observed, 0), "outcome")),
                     GW_MCP_OUTCOME_ERROR);
    gw_ctx_unref(ctx);
}

static void *release_later(void *arg)
{
    (void)arg;
    held_release(held_token); /* from another thread, as an audit writer would */
    return NULL;
}

static void test_observer_holds_the_response(void **state)
{
    (void)state;
    reset();
    hold_next = true;
    struct gw_ctx *ctx = send_msg(CALL("echo"));
    assert_int_equal(rec.finals, 0); /* held */
    assert_int_equal(json_array_size(observed), 1);
    pthread_t t;
    pthread_create(&t, NULL, release_later, NULL);
    pthread_join(t, NULL);
    assert_int_equal(rec.finals, 0); /* the send happens on the loop */
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(rec.finals, 1);
    assert_int_equal(rec.holds, 0);
    gw_ctx_unref(ctx);
}

static void test_cancellation_observed(void **state)
{
    (void)state;
    reset();
    parked = NULL;
    struct gw_ctx *ctx = send_msg(CALL("park"));
    assert_non_null(parked);
    /* the client cancels: posted to the exchange's loop */
    gw_ctx_unref(send_msg("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                          "\"params\":{\"requestId\":7}}"));
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_true(gw_mcp_x_cancelled(parked));
    gw_mcp_reply(parked, json_object()); /* a late reply is dropped */
    gw_mcp_x_unref(parked);
    parked = NULL;
    assert_int_equal(rec.finals, 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(observed, 0), "outcome")),
                     GW_MCP_OUTCOME_CANCELLED);
    assert_int_equal(json_array_size(observed), 1); /* exactly once */
    gw_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_authentication),
        cmocka_unit_test(test_async_authentication),
        cmocka_unit_test(test_failed_authentication),
        cmocka_unit_test(test_unknown_tool_decision),
        cmocka_unit_test(test_observer_holds_the_response),
        cmocka_unit_test(test_cancellation_observed),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    json_decref(rec.sent);
    json_decref(observed);
    return rc;
}
