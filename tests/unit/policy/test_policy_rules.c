/*
 * tests/unit/policy/test_policy_rules.c
 * The rule model and its decisions (policy/policy_rules.h):
 *   - building: every malformed rule is refused with a message naming the rule and the field
 *     (unknown fields and sections, bad effects and modes, duplicate ids, bad risks, conditions
 *     on exposure rules, conditions that do not compile);
 *   - exposure: no rules = everything visible; deny beats allow; default deny once any rule
 *     exists; selectors of different kinds all match, entries of one kind any; dry-run rules
 *     never hide but are reported;
 *   - authorization: the risk ceiling of declared roles; elevation by recent sign-in, scope,
 *     group, acr or amr; deny beats allow; default deny once an allow policy exists; dry-run
 *     policies reported, not enforced; confirm from rules and from the tool's flag; a deny
 *     rule whose condition cannot be evaluated still denies (fail closed); reasons expand
 *     {placeholders} from the call's arguments and the principal's claims;
 *   - the version: the document's version plus a content hash that changes with any rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/json.h"
#include "policy/policy_rules.h"

#include <string.h>

static struct gw_ruleset *build(const char *text)
{
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc)
        fail_msg("test document: %s", je.text);
    struct gw_ruleset *rs = NULL;
    struct gw_error err = {0};
    if (gw_ruleset_build(doc, &rs, &err) != GW_OK)
        fail_msg("build: %s", err.msg);
    json_decref(doc);
    return rs;
}

static void refused(const char *text, const char *needle)
{
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    assert_non_null(doc);
    struct gw_ruleset *rs = NULL;
    struct gw_error err = {0};
    if (gw_ruleset_build(doc, &rs, &err) == GW_OK)
        fail_msg("accepted: %s", text);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_null(rs);
    json_decref(doc);
}

static struct gw_principal *who(const char *subject, const char *roles_csv, const char *client,
                                const char *claims_json)
{
    const char *roles[8];
    char buf[256];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", roles_csv ? roles_csv : "");
    for (char *p = buf; *p && n < 8;) {
        roles[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    json_error_t je;
    json_t *claims = claims_json ? json_loads(claims_json, 0, &je) : NULL;
    struct gw_principal_init in = {.method = GW_AUTH_OIDC, .subject = subject, .client_id = client,
                                   .roles = roles, .nroles = roles_csv && *roles_csv ? n : 0,
                                   .claims = claims};
    struct gw_principal *p = gw_principal_new(&in);
    json_decref(claims);
    return p;
}

static struct gw_rule_tool tool(const char *name, const char *bundle, int risk, json_t *tags)
{
    struct gw_rule_tool t = {name, bundle, risk, tags, false, risk == GW_RISK_PRIVILEGED, NULL, 0};
    return t;
}

static void test_build_refusals(void **state)
{
    (void)state;
    refused("{\"exposure\":[{\"id\":\"a\",\"effect\":\"allow\",\"rolez\":[\"x\"]}]}",
            "unknown field \"rolez\"");
    refused("{\"policies\":[{\"id\":\"a\",\"effect\":\"maybe\"}]}", "effect");
    refused("{\"exposure\":[{\"id\":\"a\",\"effect\":\"confirm\"}]}", "allow or deny");
    refused("{\"exposure\":[{\"id\":\"a\",\"effect\":\"allow\"}],\"policies\":[{\"id\":\"a\","
            "\"effect\":\"deny\"}]}",
            "used twice");
    refused("{\"exposure\":[{\"id\":\"bad id!\",\"effect\":\"allow\"}]}", "\"id\"");
    refused("{\"exposure\":[{\"id\":\"a\",\"effect\":\"allow\",\"risk\":[\"dangerous\"]}]}",
            "risk");
    refused("{\"exposure\":[{\"id\":\"a\",\"effect\":\"allow\",\"when\":{\"==\":[1,1]}}]}",
            "exposure rules take no");
    refused("{\"policies\":[{\"id\":\"a\",\"effect\":\"deny\",\"mode\":\"sometimes\"}]}", "mode");
    refused("{\"policies\":[{\"id\":\"a\",\"effect\":\"deny\",\"roles\":[]}]}", "roles");
    refused("{\"roles\":{\"x\":{\"max_risk\":\"all\"}}}", "max_risk");
    refused("{\"rules\":[]}", "unknown section");
    refused("{\"elevation\":{\"max_age_seconds\":-1}}", "max_age_seconds");
    refused("[1]", "object");
}

static void test_exposure(void **state)
{
    (void)state;
    struct gw_exposure_result r;
    struct gw_principal *cc = who("u1", "customer-care", "chat", NULL);
    struct gw_principal *an = who("u2", "analyst", "bi", NULL);
    json_t *tags = json_pack("[s]", "booking");
    struct gw_rule_tool book = tool("create_booking", "svc", GW_RISK_WRITE, tags);
    struct gw_rule_tool read = tool("get_dealer", "svc", GW_RISK_READ, NULL);
    struct gw_rule_tool other = tool("list_repos", "github", GW_RISK_READ, NULL);
    /* no rules: everything visible */
    struct gw_ruleset *rs = build("{}");
    gw_ruleset_exposure(rs, an, &book, &r);
    assert_true(r.visible);
    assert_true(gw_ruleset_empty(rs));
    gw_ruleset_unref(rs);
    rs = build(
        "{\"exposure\":["
        "{\"id\":\"cc\",\"effect\":\"allow\",\"roles\":[\"customer-care\"],\"bundles\":\"svc\"},"
        "{\"id\":\"an\",\"effect\":\"allow\",\"roles\":\"analyst\",\"risk\":\"read\"},"
        "{\"id\":\"no-bi-booking\",\"effect\":\"deny\",\"clients\":\"bi\",\"tags\":\"booking\"},"
        "{\"id\":\"trial\",\"effect\":\"deny\",\"mode\":\"dry_run\",\"tools\":\"get_dealer\"}]}");
    gw_ruleset_exposure(rs, cc, &book, &r);
    assert_true(r.visible);
    assert_string_equal(r.decided.id, "cc");
    gw_ruleset_exposure(rs, cc, &other, &r); /* default deny: no rule shows github */
    assert_false(r.visible);
    assert_string_equal(r.decided.id, "");
    gw_ruleset_exposure(rs, an, &read, &r);
    assert_true(r.visible); /* the dry-run deny does not hide... */
    assert_string_equal(r.dry_run_denial.id, "trial"); /* ...but is reported */
    gw_ruleset_exposure(rs, an, &book, &r); /* analyst: read only */
    assert_false(r.visible);
    /* deny beats allow: a customer-care principal using the "bi" client */
    struct gw_principal *cc_bi = who("u3", "customer-care", "bi", NULL);
    gw_ruleset_exposure(rs, cc_bi, &book, &r);
    assert_false(r.visible);
    assert_string_equal(r.decided.id, "no-bi-booking");
    gw_ruleset_exposure(rs, cc_bi, &read, &r);
    assert_true(r.visible);
    gw_ruleset_unref(rs);
    gw_principal_unref(cc);
    gw_principal_unref(an);
    gw_principal_unref(cc_bi);
    json_decref(tags);
}

static void test_risk_and_elevation(void **state)
{
    (void)state;
    struct gw_ruleset *rs = build(
        "{\"roles\":{\"reader\":{\"max_risk\":\"read\"},\"writer\":{\"max_risk\":\"write\"},"
        "\"ops\":{\"max_risk\":\"privileged\"}},"
        "\"elevation\":{\"max_age_seconds\":600,\"scopes\":[\"mcp:elevated\"],"
        "\"groups\":[\"pim\"],\"acr\":[\"mfa\"],\"amr\":[\"hwk\"]}}");
    json_t *ctx = json_pack("{s:I}", "now", (json_int_t)10000);
    struct gw_authz_result r;
    struct gw_rule_tool w = tool("create", NULL, GW_RISK_WRITE, NULL);
    struct gw_rule_tool priv = tool("purge", NULL, GW_RISK_PRIVILEGED, NULL);
    struct gw_principal *reader = who("r", "reader", NULL, NULL);
    gw_ruleset_authorize(rs, reader, &w, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    assert_int_equal(r.stage, GW_AUTHZ_STAGE_RISK);
    assert_non_null(strstr(r.reason, "'reader' may execute read tools only"));
    struct gw_principal *both = who("rw", "reader,writer", NULL, NULL);
    gw_ruleset_authorize(rs, both, &w, NULL, ctx, &r); /* the highest role counts, not the first */
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW);
    struct gw_principal *nobody = who("n", "unknown-role", NULL, NULL);
    gw_ruleset_authorize(rs, nobody, &w, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    /* privileged: the role allows it, elevation decides */
    struct gw_principal *ops = who("o", "ops", NULL, NULL);
    gw_ruleset_authorize(rs, ops, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    assert_int_equal(r.stage, GW_AUTHZ_STAGE_ELEVATION);
    assert_string_equal(r.step_up_scope, "mcp:elevated");
    const char *roles[] = {"ops"};
    const char *scope[] = {"mcp:elevated"};
    struct gw_principal_init fresh = {.method = GW_AUTH_OIDC, .subject = "o", .roles = roles,
                                      .nroles = 1, .auth_time = 9700};
    struct gw_principal *p = gw_principal_new(&fresh);
    gw_ruleset_authorize(rs, p, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW); /* signed in 300 s ago */
    gw_principal_unref(p);
    fresh.auth_time = 9000; /* 1000 s ago: too old */
    p = gw_principal_new(&fresh);
    gw_ruleset_authorize(rs, p, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    gw_principal_unref(p);
    fresh.auth_time = 0;
    fresh.scopes = scope;
    fresh.nscopes = 1;
    p = gw_principal_new(&fresh);
    gw_ruleset_authorize(rs, p, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW); /* step-up scope */
    gw_principal_unref(p);
    struct gw_principal *pim = who("o", "ops,pim", NULL, NULL);
    gw_ruleset_authorize(rs, pim, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW); /* just-in-time group */
    struct gw_principal *acr = who("o", "ops", NULL, "{\"acr\":\"mfa\"}");
    gw_ruleset_authorize(rs, acr, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW);
    struct gw_principal *amr = who("o", "ops", NULL, "{\"amr\":[\"pwd\",\"hwk\"]}");
    gw_ruleset_authorize(rs, amr, &priv, NULL, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW);
    gw_principal_unref(reader);
    gw_principal_unref(both);
    gw_principal_unref(nobody);
    gw_principal_unref(ops);
    gw_principal_unref(pim);
    gw_principal_unref(acr);
    gw_principal_unref(amr);
    json_decref(ctx);
    gw_ruleset_unref(rs);
}

static void test_policies(void **state)
{
    (void)state;
    struct gw_ruleset *rs = build(
        "{\"version\":\"v7\",\"policies\":["
        "{\"id\":\"own-dealer\",\"effect\":\"deny\",\"roles\":\"dealer\",\"tools\":\"book\","
        " \"when\":{\"!\":{\"in\":[{\"var\":\"args.dealer_id\"},"
        "{\"var\":\"principal.claims.dealer_ids\"}]}},"
        " \"reason\":\"{args.dealer_id} is not yours ({principal.subject})\","
        "\"hint\":\"use {principal.claims.dealer_ids.0}\"},"
        "{\"id\":\"trial-deny\",\"effect\":\"deny\",\"mode\":\"dry_run\",\"tools\":\"book\"},"
        "{\"id\":\"allow-dealers\",\"effect\":\"allow\",\"roles\":\"dealer\"},"
        "{\"id\":\"confirm-book\",\"effect\":\"confirm\",\"tools\":\"book\","
        "\"reason\":\"booking\"}]}");
    assert_non_null(strstr(gw_ruleset_version(rs), "v7+"));
    json_t *ctx = json_object();
    struct gw_authz_result r;
    struct gw_rule_tool book = tool("book", NULL, GW_RISK_WRITE, NULL);
    struct gw_rule_tool look = tool("look", NULL, GW_RISK_READ, NULL);
    struct gw_principal *d = who("d1", "dealer", NULL, "{\"dealer_ids\":[\"D1\",\"D2\"]}");
    json_t *mine = json_pack("{s:s}", "dealer_id", "D2");
    json_t *theirs = json_pack("{s:s}", "dealer_id", "D9");
    gw_ruleset_authorize(rs, d, &book, theirs, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    assert_string_equal(r.rule_id, "own-dealer");
    assert_string_equal(r.reason, "D9 is not yours (d1)");
    assert_string_equal(r.hint, "use D1");
    gw_ruleset_authorize(rs, d, &book, mine, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_CONFIRM); /* allowed, then confirmation */
    assert_string_equal(r.rule_id, "confirm-book");
    bool saw_trial = false;
    for (size_t i = 0; i < r.nhits; i++)
        saw_trial = saw_trial || (!strcmp(r.hits[i].id, "trial-deny") && r.hits[i].dry_run);
    assert_true(saw_trial); /* reported, not enforced */
    gw_ruleset_authorize(rs, d, &look, mine, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_ALLOW);
    assert_string_equal(r.rule_id, "allow-dealers");
    /* an allow policy exists: whoever no allow matches is refused */
    struct gw_principal *x = who("x", "visitor", NULL, NULL);
    gw_ruleset_authorize(rs, x, &look, mine, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    assert_string_equal(r.rule_id, "default-deny");
    /* a dealer without the claim: the deny's condition is true (not in null): fail closed */
    struct gw_principal *nd = who("d2", "dealer", NULL, NULL);
    gw_ruleset_authorize(rs, nd, &book, mine, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_DENY);
    /* the tool's own flag asks for confirmation when rules allow */
    struct gw_rule_tool flagged = tool("look", NULL, GW_RISK_READ, NULL);
    flagged.requires_confirmation = true;
    gw_ruleset_authorize(rs, d, &flagged, mine, ctx, &r);
    assert_int_equal(r.verdict, GW_AUTHZ_CONFIRM);
    assert_true(r.confirm_from_tool);
    /* preview (arguments unknown): conditional rules are listed, not applied */
    gw_ruleset_authorize(rs, d, &book, NULL, ctx, &r);
    assert_true(r.conditional);
    assert_int_not_equal(r.verdict, GW_AUTHZ_DENY);
    json_decref(mine);
    json_decref(theirs);
    json_decref(ctx);
    gw_principal_unref(d);
    gw_principal_unref(x);
    gw_principal_unref(nd);
    gw_ruleset_unref(rs);
}

static void test_version_tracks_content(void **state)
{
    (void)state;
    struct gw_ruleset *a = build("{\"exposure\":[{\"id\":\"a\",\"effect\":\"allow\"}]}");
    struct gw_ruleset *b = build("{\"exposure\":[{\"id\":\"a\",\"effect\":\"deny\"}]}");
    struct gw_ruleset *c = build("{\"exposure\":[{\"effect\":\"allow\",\"id\":\"a\"}]}");
    assert_string_not_equal(gw_ruleset_version(a), gw_ruleset_version(b));
    assert_string_equal(gw_ruleset_version(a), gw_ruleset_version(c)); /* key order is no change */
    gw_ruleset_unref(a);
    gw_ruleset_unref(b);
    gw_ruleset_unref(c);
}

/* the principal as conditions see it is made once per principal and kept with it (a cached
 * token's or an API key's principal serves many calls): same content as
 * gw_rules_principal_json, the same object on every later call, released with the principal */
static void test_principal_json_memo(void **state)
{
    (void)state;
    struct gw_principal *p = who("alice", "agent,viewer", "app", "{\"dept\":\"sales\"}");
    const json_t *m = gw_principal_json_with_claims(p);
    json_t *fresh = gw_rules_principal_json(p);
    assert_true(json_equal((json_t *)m, fresh));
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "claims"), "dept")),
                        "sales");
    assert_ptr_equal(gw_principal_json_with_claims(p), m);
    json_t *kept = json_incref((json_t *)m); /* outlives the principal with a reference */
    gw_principal_unref(p);
    assert_true(json_equal(kept, fresh));
    json_decref(kept);
    json_decref(fresh);
    /* a condition on the claims decides the same on the first call and on later ones */
    struct gw_ruleset *rs =
        build("{\"policies\":[{\"id\":\"sales-only\",\"effect\":\"deny\",\"when\":"
              "{\"!=\":[{\"var\":\"principal.claims.dept\"},\"sales\"]}}]}");
    struct gw_principal *in = who("bob", "agent", "app", "{\"dept\":\"sales\"}");
    struct gw_principal *out = who("eve", "agent", "app", "{\"dept\":\"hr\"}");
    struct gw_rule_tool t = tool("get_item", NULL, GW_RISK_READ, NULL);
    json_t *args = json_object(), *ctx = json_object();
    for (int i = 0; i < 3; i++) {
        struct gw_authz_result r;
        gw_ruleset_authorize(rs, in, &t, args, ctx, &r);
        assert_int_not_equal(r.verdict, GW_AUTHZ_DENY);
        gw_ruleset_authorize(rs, out, &t, args, ctx, &r);
        assert_int_equal(r.verdict, GW_AUTHZ_DENY);
        assert_string_equal(r.rule_id, "sales-only");
    }
    json_decref(args);
    json_decref(ctx);
    gw_principal_unref(in);
    gw_principal_unref(out);
    gw_ruleset_unref(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_refusals), cmocka_unit_test(test_exposure),
        cmocka_unit_test(test_risk_and_elevation), cmocka_unit_test(test_policies),
        cmocka_unit_test(test_version_tracks_content), cmocka_unit_test(test_principal_json_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
