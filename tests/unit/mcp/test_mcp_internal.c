/*
 * tests/unit/mcp/test_mcp_internal.c
 * In-process MCP calls (mcp/mcp_internal.h) on a real event loop with a scripted provider and
 * the completion observer:
 *   - the call runs under the context's principal, in the 2026-07-28 era with the elicitation
 *     capability and the internal _meta, and its answer arrives once, from the loop, never from
 *     inside gw_mcp_server_call (so the callback may start the next call);
 *   - errors (unknown tool) come back as the JSON-RPC error message;
 *   - a cancelled call never calls back, the provider's late reply is dropped, and the observer
 *     sees the cancellation; a context that is not authenticated is refused up front;
 *   - request ids are unguessable and distinct, so a remote client cannot cancel an internal call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "mcp/mcp_internal.h"
#include "mcp/mcp_server.h"
#include "mcp/mcp_session.h"
#include "net/net_loop.h"

#include <event2/event.h>
#include <string.h>

static struct gw_mcp_exchange *parked;
static char seen_meta[256];
static int seen_modern, seen_caps;

static int p_call(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args)
{
    (void)self;
    (void)args;
    seen_modern = gw_mcp_x_modern(x);
    seen_caps = gw_mcp_x_client_caps(x);
    const char *v = gw_json_str(json_object_get(gw_mcp_x_params(x), "_meta"),
                                "io.modelcontextprotocol/protocolVersion");
    snprintf(seen_meta, sizeof(seen_meta), "%s", v ? v : "");
    if (strcmp(name, "park") == 0) {
        gw_mcp_x_ref(x);
        parked = x;
        return GW_OK;
    }
    if (strcmp(name, "whoami") != 0)
        return GW_ENOTFOUND;
    const struct gw_principal *p = gw_ctx_principal(gw_mcp_x_ctx(x));
    gw_mcp_reply(x, json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text",
                              p ? p->subject : "?"));
    return GW_OK;
}

static const struct gw_mcp_provider_ops prov_ops = {.name = "test", .call_tool = p_call};

static json_t *observed;

static int observe(void *ud, const struct gw_mcp_completion *c, gw_mcp_release_fn release,
                   void *token)
{
    (void)ud;
    (void)release;
    (void)token;
    json_array_append_new(observed, json_pack("{s:i,s:s,s:s}", "outcome", (int)c->outcome,
                                              "method", c->method, "transport",
                                              gw_transport_name(gw_ctx_transport(c->ctx))));
    return GW_OK;
}

static struct event_base *base;
static struct gw_loop *loop;
static struct gw_mcp_server *srv;

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
    o.page_size = 10;
    o.session_secret = "s";
    o.session_ttl_s = 60;
    o.max_json_depth = 32;
    o.max_batch = 8;
    o.allowed_origins = "";
    o.allowed_hosts = "";
    srv = gw_mcp_server_new(&o);
    gw_mcp_server_add_provider(srv, (struct gw_mcp_provider){&prov_ops, NULL});
    gw_mcp_server_on_complete(srv, observe, NULL);
    observed = json_array();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_mcp_server_free(srv);
    gw_loop_free(loop);
    event_base_free(base);
    json_decref(observed);
    return 0;
}

static struct gw_ctx *user_ctx(const char *subject)
{
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_INTERNAL, .loop = loop, .request_id = "rq"};
    struct gw_ctx *c = gw_ctx_new(&ci);
    struct gw_principal_init pi = {.method = GW_AUTH_API_KEY, .subject = subject};
    gw_ctx_set_principal(c, gw_principal_new(&pi));
    return c;
}

struct answer {
    int calls;
    json_t *resp;
    bool chain; /* start another call from inside the callback */
    struct gw_ctx *ctx;
};

static void on_done(void *arg, json_t *resp)
{
    struct answer *a = arg;
    a->calls++;
    json_decref(a->resp);
    a->resp = json_incref(resp);
    if (a->chain) {
        a->chain = false;
        json_t *p = json_pack("{s:s}", "name", "whoami");
        assert_int_equal(gw_mcp_server_call(srv, a->ctx, "tools/call", p, on_done, a, NULL), GW_OK);
        json_decref(p);
    }
}

static void spin(int rounds)
{
    for (int i = 0; i < rounds; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

static void test_call_under_the_principal(void **state)
{
    (void)state;
    struct gw_ctx *c = user_ctx("asha@msil.example");
    struct answer a = {.chain = true, .ctx = c};
    json_t *p = json_pack("{s:s,s:{}}", "name", "whoami", "arguments");
    struct gw_mcp_call *h = NULL;
    assert_int_equal(gw_mcp_server_call(srv, c, "tools/call", p, on_done, &a, &h), GW_OK);
    json_decref(p);
    assert_non_null(h);
    assert_int_equal(a.calls, 0); /* never from inside the call */
    spin(10);
    assert_int_equal(a.calls, 2); /* the first answer, then the one started from the callback */
    json_t *res = json_object_get(a.resp, "result");
    assert_string_equal(gw_json_str(json_array_get(json_object_get(res, "content"), 0), "text"),
                        "asha@msil.example");
    assert_string_equal(gw_json_str(res, "resultType"), "complete");
    assert_true(seen_modern);
    assert_true(seen_caps & GW_CAP_ELICITATION);
    assert_string_equal(seen_meta, "2026-07-28");
    assert_int_equal(json_array_size(observed), 2);
    assert_string_equal(gw_json_str(json_array_get(observed, 0), "transport"), "internal");
    json_decref(a.resp);
    gw_ctx_unref(c);
}

static void test_errors_and_refusals(void **state)
{
    (void)state;
    struct gw_ctx *c = user_ctx("u");
    struct answer a = {0};
    json_t *p = json_pack("{s:s}", "name", "nope");
    assert_int_equal(gw_mcp_server_call(srv, c, "tools/call", p, on_done, &a, NULL), GW_OK);
    spin(5);
    assert_int_equal(a.calls, 1);
    assert_non_null(json_object_get(a.resp, "error"));
    json_decref(a.resp);
    a.resp = NULL;
    /* unknown method */
    assert_int_equal(gw_mcp_server_call(srv, c, "no/such", NULL, on_done, &a, NULL), GW_OK);
    spin(5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a.resp, "error"), "code")),
                     -32601);
    json_decref(a.resp);
    /* a context that is not authenticated */
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_INTERNAL, .loop = loop};
    struct gw_ctx *anon = gw_ctx_new(&ci);
    assert_int_equal(gw_mcp_server_call(srv, anon, "tools/list", NULL, on_done, &a, NULL),
                     GW_EINVAL);
    gw_ctx_unref(anon);
    json_decref(p);
    gw_ctx_unref(c);
}

static void test_cancel(void **state)
{
    (void)state;
    struct gw_ctx *c = user_ctx("u");
    struct answer a = {0};
    json_t *p = json_pack("{s:s}", "name", "park");
    struct gw_mcp_call *h = NULL;
    parked = NULL;
    assert_int_equal(gw_mcp_server_call(srv, c, "tools/call", p, on_done, &a, &h), GW_OK);
    spin(3);
    assert_non_null(parked);
    gw_mcp_call_cancel(h);
    spin(5);
    assert_true(gw_mcp_x_cancelled(parked));
    gw_mcp_reply(parked, json_pack("{s:[]}", "content")); /* late: dropped */
    gw_mcp_x_unref(parked);
    spin(5);
    assert_int_equal(a.calls, 0);
    json_t *last = json_array_get(observed, json_array_size(observed) - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "outcome")),
                     GW_MCP_OUTCOME_CANCELLED);
    /* cancelling after the answer was queued: no callback either */
    assert_int_equal(gw_mcp_server_call(srv, c, "tools/list", NULL, on_done, &a, &h), GW_OK);
    gw_mcp_call_cancel(h);
    spin(5);
    assert_int_equal(a.calls, 0);
    gw_mcp_call_cancel(NULL);
    json_decref(p);
    gw_ctx_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_call_under_the_principal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
