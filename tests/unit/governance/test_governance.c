/*
 * tests/unit/governance/test_governance.c
 * "One snapshot decides both layers": a randomized test over many rule sets, principals and
 * tools, through the real protocol server, pipeline and governance (rules from a file, reloaded
 * between rounds; the registry republished now and then so the exposure cache must notice):
 * for every principal, tools/list lists exactly the tools whose tools/call passes EXPOSURE
 * (a hidden tool's call is "Unknown tool", -32602; an exposed one reaches the next phase, which
 * this test stops with a marker). Seeded and reproducible (GW_TEST_SEED overrides the seed).
 * Also: the cache is reused within a generation and recomputed after a change; the rules read
 * a registry tool from its compact snapshot entry exactly as from its definition.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "governance/gov.h"
#include "governance/gov_internal.h"
#include "policy/policy_rules.h"
#include "registry/registry_snapshot.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_server.h"
#include "net/net_loop.h"
#include "pipeline/pipeline.h"
#include "upstream/upstream_settings.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTOOLS 40
#define ROUNDS 150
#define PRINCIPALS 8

static const char *const ROLES[] = {"r0", "r1", "r2", "r3", "r4", "r5"};
static const char *const CLIENTS[] = {"c0", "c1", "c2"};
static const char *const BUNDLES[] = {"b0", "b1", "b2", "b3"};
static const char *const TAGS[] = {"t0", "t1", "t2", "t3", "t4"};
static const char *const RISKS[] = {"read", "write", "privileged"};

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

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

static int stop_here(void *ud, struct gw_call *c, struct gw_phase_verdict *v)
{
    (void)ud;
    (void)c;
    snprintf(v->reason, sizeof(v->reason), "reached ratelimit");
    return GW_EDENIED;
}

static json_t *random_tools(int generation)
{
    json_t *a = json_array();
    for (int i = 0; i < NTOOLS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "tool_%02d_g%d", i, generation % 2);
        json_t *tags = json_array();
        for (unsigned k = rnd(3); k > 0; k--)
            json_array_append_new(tags, json_string(TAGS[rnd(5)]));
        json_t *t = json_pack("{s:s,s:s,s:{s:s},s:s,s:s,s:I,s:o,s:b}", "name", name,
                              "description", "d", "inputSchema", "type", "object", "risk",
                              RISKS[rnd(3)], "status", "active", "version", (json_int_t)1, "tags",
                              tags, "requiresElevation", 0);
        if (rnd(5))
            json_object_set_new(t, "bundle", json_string(BUNDLES[rnd(4)]));
        json_array_append_new(a, t);
    }
    return a;
}

static json_t *some(const char *const *from, unsigned n)
{
    json_t *a = json_array();
    for (unsigned k = 1 + rnd(2); k > 0; k--)
        json_array_append_new(a, json_string(from[rnd(n)]));
    return a;
}

static json_t *random_rules(void)
{
    json_t *list = json_array();
    unsigned n = rnd(12); /* 0 = no exposure rules: everything visible */
    for (unsigned i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "e%u", i);
        json_t *r = json_pack("{s:s,s:s}", "id", id, "effect", rnd(4) ? "allow" : "deny");
        if (rnd(2))
            json_object_set_new(r, "roles", some(ROLES, 6));
        if (!rnd(4))
            json_object_set_new(r, "clients", some(CLIENTS, 3));
        if (!rnd(3))
            json_object_set_new(r, "bundles", some(BUNDLES, 4));
        if (!rnd(3))
            json_object_set_new(r, "tags", some(TAGS, 5));
        if (!rnd(4))
            json_object_set_new(r, "risk", some(RISKS, 3));
        if (!rnd(5)) {
            char t[32];
            snprintf(t, sizeof(t), "tool_%02u_g0", rnd(NTOOLS));
            json_object_set_new(r, "tools", json_pack("[s]", t));
        }
        if (!rnd(8))
            json_object_set_new(r, "mode", json_string("dry_run"));
        json_array_append_new(list, r);
    }
    return json_pack("{s:o}", "exposure", list);
}

static struct gw_principal *random_principal(int i)
{
    const char *roles[3];
    size_t n = rnd(4);
    for (size_t k = 0; k < n; k++)
        roles[k] = ROLES[rnd(6)];
    char subject[16];
    snprintf(subject, sizeof(subject), "p%d", i);
    struct gw_principal_init in = {.method = GW_AUTH_API_KEY, .subject = subject,
                                   .client_id = CLIENTS[rnd(3)], .roles = roles, .nroles = n};
    return gw_principal_new(&in);
}

static struct event_base *base;
static struct gw_loop *loop;
static struct gw_mcp_server *srv;

static struct gw_ctx *ctx_for(struct gw_principal *p)
{
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_HTTP, .loop = loop, .request_id = "r"};
    struct gw_ctx *c = gw_ctx_new(&ci);
    gw_ctx_set_principal(c, gw_principal_ref(p));
    return c;
}

static void dispatch(struct gw_principal *p, const char *text)
{
    struct gw_ctx *c = ctx_for(p);
    struct gw_mcp_origin o = {.ops = &ops, .loop = loop, .log_level = -1, .ctx = c,
                              .modern = true, .version = GW_MCP_V_2026_07_28};
    json_error_t je;
    json_t *m = json_loads(text, 0, &je);
    gw_mcp_server_dispatch(srv, &o, m);
    json_decref(m);
    gw_ctx_unref(c);
}

static void test_list_equals_call(void **state)
{
    (void)state;
    const char *seed = getenv("GW_TEST_SEED");
    rng = seed ? strtoull(seed, NULL, 10) : 0x9e3779b97f4a7c15ull;
    gw_loop_init_threads();
    base = event_base_new();
    loop = gw_loop_new(base);
    gw_loop_set_current(loop);
    char file[] = "/tmp/gw-gov-test-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_gov_settings);
    gw_settings_register(s, gw_gov_opa_settings);
    gw_settings_register(s, gw_upstream_settings);
    struct gw_error err = {0};
    gw_settings_override(s, "GW_GOVERNANCE_FILE", file, &err);
    FILE *f = fopen(file, "w");
    fputs("{}", f);
    fclose(f);
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    struct gw_gov *gov = NULL;
    assert_int_equal(gw_gov_new(s, NULL, &gov, &err), GW_OK);
    struct gw_registry_config rc = {0};
    struct gw_registry *reg = NULL;
    assert_int_equal(gw_registry_new(&rc, &reg, &err), GW_OK);
    struct gw_upstreams *ups = gw_upstreams_load(s, &err);
    struct gw_pipeline_options po = {true, 8, NULL};
    struct gw_pipeline *p = gw_pipeline_new(reg, ups, &po);
    assert_int_equal(gw_pipeline_loop_start(p, loop, &err), GW_OK);
    assert_int_equal(gw_gov_attach(gov, p), GW_OK);
    gw_pipeline_add(p, GW_PHASE_RATELIMIT, "stop", stop_here, NULL, GW_PHASE_ENFORCE);
    struct gw_mcp_server_options o = {0};
    o.name = o.version = o.title = "t";
    o.page_size = 100;
    o.session_secret = "s";
    o.session_ttl_s = 60;
    o.max_json_depth = 32;
    o.max_batch = 8;
    o.allowed_origins = o.allowed_hosts = "";
    srv = gw_mcp_server_new(&o);
    gw_mcp_server_add_provider(srv, gw_pipeline_provider(p));

    int checked = 0, hidden = 0, shown = 0;
    json_t *defs = NULL;
    for (int round = 0; round < ROUNDS; round++) {
        if (round % 10 == 0) { /* new tools now and then: the cache must follow */
            json_decref(defs);
            defs = random_tools(round / 10);
            assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
        }
        json_t *doc = random_rules();
        json_dump_file(doc, file, 0);
        json_decref(doc);
        if (gw_gov_reload(gov, &err) != GW_OK)
            fail_msg("reload: %s", err.msg);
        for (int pi = 0; pi < PRINCIPALS; pi++) {
            struct gw_principal *pr = random_principal(pi);
            for (int twice = 0; twice < 2; twice++) { /* the second list comes from the cache */
                json_decref(sent);
                sent = json_array();
                dispatch(pr, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
                json_t *tools = json_object_get(json_object_get(json_array_get(sent, 0), "result"),
                                                "tools");
                assert_non_null(tools);
                for (size_t ti = 0; ti < json_array_size(defs); ti++) {
                    const char *name = gw_json_str(json_array_get(defs, ti), "name");
                    bool listed = false;
                    size_t k;
                    json_t *t;
                    json_array_foreach(tools, k, t)
                        listed = listed || !strcmp(gw_json_str(t, "name"), name);
                    char call[160];
                    snprintf(call, sizeof(call),
                             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                             "{\"name\":\"%s\",\"arguments\":{}}}",
                             name);
                    dispatch(pr, call);
                    json_t *ans = json_array_get(sent, json_array_size(sent) - 1);
                    json_t *e = json_object_get(ans, "error");
                    bool refused = e && json_integer_value(json_object_get(e, "code")) ==
                                            GW_JSONRPC_INVALID_PARAMS;
                    if (!refused) {
                        const char *txt = gw_json_str(json_array_get(json_object_get(
                                              json_object_get(ans, "result"), "content"), 0),
                                          "text");
                        assert_non_null(txt);
                        assert_string_equal(txt, "reached ratelimit");
                    }
                    if (listed == refused)
                        fail_msg("round %d principal %d tool %s: listed=%d but call %s "
                                 "(seed %s)",
                                 round, pi, name, listed, refused ? "refused" : "allowed",
                                 seed ? seed : "default");
                    checked++;
                    if (listed)
                        shown++;
                    else
                        hidden++;
                }
            }
            gw_principal_unref(pr);
        }
    }
    printf("# %d list/call pairs agreed (%d visible, %d hidden)\n", checked, shown, hidden);
    assert_true(shown > 1000 && hidden > 1000); /* both outcomes were really exercised */
    struct gw_gov_stats st;
    gw_gov_stats(gov, &st);
    assert_true(st.exposure_hits > 0 && st.exposure_misses > 0);
    json_decref(defs);
    json_decref(sent);
    gw_mcp_server_free(srv);
    gw_pipeline_loop_stop(p, loop);
    gw_pipeline_free(p);
    gw_upstreams_free(ups);
    gw_registry_free(reg);
    gw_gov_free(gov);
    gw_settings_free(s);
    gw_loop_free(loop);
    event_base_free(base);
    unlink(file);
}

/* The exposure of a whole catalogue is computed from snapshot entries (no definition parsed):
 * every field the rules look at must read as it does from the definition, for every kind of
 * value (absent, invalid risk, requiresElevation absent/true/false/not a boolean, many tags). */
static void test_rule_tool_from_entry(void **state)
{
    (void)state;
    json_t *defs = json_array();
    const char *risks[] = {"read", "write", "privileged", "bogus", NULL};
    json_t *els[] = {NULL, json_true(), json_false(), json_string("yes")};
    int k = 0;
    for (int r = 0; r < 5; r++)
        for (int e = 0; e < 4; e++)
            for (int c = 0; c < 2; c++) {
                char name[32];
                snprintf(name, sizeof(name), "t%02d", k++);
                json_t *d = json_pack("{s:s,s:{s:s}}", "name", name, "inputSchema", "type",
                                      "object");
                if (risks[r])
                    json_object_set_new(d, "risk", json_string(risks[r]));
                if (els[e])
                    json_object_set(d, "requiresElevation", els[e]);
                if (c)
                    json_object_set_new(d, "requiresConfirmation", json_true());
                if (k % 3)
                    json_object_set_new(d, "bundle", json_string(k % 2 ? "b1" : "b2"));
                json_t *tags = json_array();
                for (int i = 0; i < (k == 7 ? 100 : k % 4); i++) { /* one with 100 tags */
                    char tag[16];
                    snprintf(tag, sizeof(tag), "tag%d", i);
                    json_array_append_new(tags, json_string(tag));
                }
                json_object_set_new(d, "tags", tags);
                json_array_append_new(defs, d);
            }
    for (int e = 0; e < 4; e++)
        json_decref(els[e]);
    struct gw_snapshot *snap = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &snap, &err), GW_OK);
    for (size_t i = 0; i < gw_snapshot_count(snap); i++) {
        const struct gw_tool_entry *t = gw_snapshot_tool_at(snap, i);
        struct gw_rule_tool a, b;
        gw_gov__rule_tool(t, &a);
        gw_rule_tool_from_def(gw_tool_def(t), &b);
        assert_string_equal(a.name, b.name);
        assert_true((a.bundle == NULL) == (b.bundle == NULL));
        if (a.bundle)
            assert_string_equal(a.bundle, b.bundle);
        assert_int_equal(a.risk, b.risk);
        assert_int_equal(a.requires_confirmation, b.requires_confirmation);
        assert_int_equal(a.requires_elevation, b.requires_elevation);
        assert_null(a.tags);
        assert_int_equal(a.ntags, json_array_size(b.tags));
        for (size_t j = 0; j < a.ntags; j++)
            assert_string_equal(a.tag_list[j], json_string_value(json_array_get(b.tags, j)));
    }
    gw_snapshot_release(snap);
    json_decref(defs);
}

/* The preview's principal: a sign-in long ago needs elevation for a privileged tool, a recent
 * one does not (authenticated_seconds_ago, default 0); bad ages are refused with a message. */
static void test_preview_auth_age(void **state)
{
    (void)state;
    char file[] = "/tmp/gw-gov-preview-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    const char *rules = "{\"roles\":{\"op\":{\"max_risk\":\"privileged\"}},"
                        "\"elevation\":{\"max_age_seconds\":900}}";
    assert_int_equal(write(fd, rules, strlen(rules)), (ssize_t)strlen(rules));
    close(fd);
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_gov_settings);
    gw_settings_register(s, gw_gov_opa_settings);
    struct gw_error err = {0};
    gw_settings_override(s, "GW_GOVERNANCE_FILE", file, &err);
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    struct gw_gov *gov = NULL;
    assert_int_equal(gw_gov_new(s, NULL, &gov, &err), GW_OK);
    json_t *defs = json_pack("[{s:s,s:{s:s},s:s}]", "name", "reset_all", "inputSchema", "type",
                             "object", "risk", "privileged");
    struct gw_snapshot *snap = NULL;
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &snap, &err), GW_OK);
    const char *specs[] = {"{\"roles\":[\"op\"]}",
                           "{\"roles\":[\"op\"],\"authenticated_seconds_ago\":600}",
                           "{\"roles\":[\"op\"],\"authenticated_seconds_ago\":3600}"};
    const char *expect[] = {"allow", "allow", "deny"};
    for (int i = 0; i < 3; i++) {
        json_error_t je;
        json_t *spec = json_loads(specs[i], 0, &je);
        struct gw_principal *p = gw_gov_principal_from_spec(spec, &err);
        assert_non_null(p);
        json_t *out = gw_gov_preview(gov, p, snap);
        json_t *tool = json_array_get(json_object_get(out, "tools"), 0);
        assert_string_equal(gw_json_str(tool, "call"), expect[i]);
        if (i == 2) {
            assert_non_null(strstr(gw_json_str(tool, "reason"), "elevated session"));
            assert_non_null(strstr(gw_json_str(tool, "hint"), "authenticate again"));
        }
        json_decref(out);
        gw_principal_unref(p);
        json_decref(spec);
    }
    const char *bad[] = {"{\"authenticated_seconds_ago\":-1}",
                         "{\"authenticated_seconds_ago\":\"1h\"}",
                         "{\"authenticated_seconds_ago\":99999999999}"};
    for (int i = 0; i < 3; i++) {
        json_error_t je;
        json_t *spec = json_loads(bad[i], 0, &je);
        err = (struct gw_error){0};
        assert_null(gw_gov_principal_from_spec(spec, &err));
        assert_non_null(strstr(err.msg, "authenticated_seconds_ago"));
        json_decref(spec);
    }
    gw_snapshot_release(snap);
    json_decref(defs);
    gw_gov_free(gov);
    gw_settings_free(s);
    unlink(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rule_tool_from_entry),
                                       cmocka_unit_test(test_list_equals_call),
                                       cmocka_unit_test(test_preview_auth_age)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
