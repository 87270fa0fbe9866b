/*
 * tests/unit/auth/test_auth.c
 * The authenticator (auth/auth.h) without a network: modes (required/optional/off), the
 * stdio principal, the admin API's dev mode (loopback peers only), Bearer parsing, API keys
 * end to end through a real SQLite store (create, use, wrong secret, expiry, revoke + reload),
 * challenges (RFC 6750 / RFC 9728 fields), claims mapping (role paths, splitting, refusal of
 * oversized role sets), the verified-token cache (hit, expiry, key-set generation), the public
 * configuration, and unknown GW_* variable detection with suggestions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth/auth_internal.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "store/store.h"
#include "store/store_apikey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], url[400];

static struct gw_settings *settings(const char *const *kv)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_auth_settings);
    struct gw_error err = {0};
    for (size_t i = 0; kv && kv[i]; i += 2)
        assert_int_equal(gw_settings_override(s, kv[i], kv[i + 1], &err), GW_OK);
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    return s;
}

static struct gw_auth *make(const char *const *kv)
{
    struct gw_settings *s = settings(kv);
    struct gw_auth *a = NULL;
    struct gw_error err = {0};
    int rc = gw_auth_new(s, "http://127.0.0.1:8000", url, &a, &err);
    if (rc != GW_OK)
        fail_msg("gw_auth_new: %s", err.msg);
    gw_settings_free(s);
    return a;
}

static struct gw_ctx *ctx(enum gw_transport t, const char *peer, const char *cred)
{
    struct gw_ctx_init ci = {.transport = t, .peer = peer, .request_id = "t", .credential = cred};
    return gw_ctx_new(&ci);
}

/* Authenticates synchronously (API keys, modes: never async). */
static struct gw_ctx *run(struct gw_auth *a, enum gw_transport t, const char *peer,
                          const char *cred)
{
    struct gw_ctx *c = ctx(t, peer, cred);
    struct gw_authn n = gw_auth_authn(a);
    assert_int_equal(n.ops->authenticate(n.self, c, NULL, NULL), GW_OK);
    assert_int_not_equal(gw_ctx_auth_state(c), GW_AUTH_PENDING);
    assert_null(gw_ctx_credential(c)); /* consumed and wiped */
    return c;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/auth-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite://%s/gw.db", dir);
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_store_open(url, NULL, &st, &err), GW_OK);
    assert_int_equal(gw_store_migrate(st, NULL, &err), GW_OK);
    gw_store_close(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_modes(void **state)
{
    (void)state;
    const char *req[] = {"GW_STDIO_ROLES", "ops,reader", NULL};
    struct gw_auth *a = make(req);
    /* required: no credential -> 401 with the RFC 9728 challenge, no error code */
    struct gw_ctx *c = run(a, GW_TRANSPORT_HTTP, "127.0.0.1:5", NULL);
    const struct gw_auth_failure *f = gw_ctx_auth_failure(c);
    assert_non_null(f);
    assert_int_equal(f->status, 401);
    assert_string_equal(f->error, "");
    assert_non_null(strstr(f->challenge, "Bearer "));
    assert_non_null(strstr(f->challenge,
                           "resource_metadata=\"http://127.0.0.1:8000/.well-known/"
                           "oauth-protected-resource/mcp\""));
    assert_non_null(strstr(f->challenge, "scope=\"openid mcp:tools\""));
    assert_null(strstr(f->challenge, "error="));
    gw_ctx_unref(c);
    /* other schemes and malformed headers */
    const char *bad[] = {"Basic YWxhZGRpbjpvcGVu", "Bearer", "Bearer ", "Bearer a b",
                         "Bearertoken"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = run(a, GW_TRANSPORT_HTTP, "127.0.0.1:5", bad[i]);
        f = gw_ctx_auth_failure(c);
        assert_non_null(f);
        assert_int_equal(f->status, 401);
        assert_non_null(strstr(f->challenge, "error=\"invalid_request\""));
        gw_ctx_unref(c);
    }
    /* a JWT while no provider is configured */
    c = run(a, GW_TRANSPORT_HTTP, "127.0.0.1:5", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    assert_non_null(strstr(gw_ctx_auth_failure(c)->description, "API keys only"));
    gw_ctx_unref(c);
    /* stdio: the configured local principal, no credential */
    c = run(a, GW_TRANSPORT_STDIO, "stdio", NULL);
    const struct gw_principal *p = gw_ctx_principal(c);
    assert_int_equal(p->method, GW_AUTH_LOCAL);
    assert_string_equal(p->subject, "local");
    assert_true(gw_principal_has_role(p, "ops") && gw_principal_has_role(p, "reader"));
    gw_ctx_unref(c);
    /* admin without dev mode: a credential is required even from loopback */
    c = run(a, GW_TRANSPORT_ADMIN, "127.0.0.1:5", NULL);
    assert_non_null(gw_ctx_auth_failure(c));
    gw_ctx_unref(c);
    gw_auth_free(a);

    const char *opt[] = {"GW_AUTH_MODE", "optional", NULL};
    a = make(opt);
    c = run(a, GW_TRANSPORT_HTTP, "10.0.0.1:5", NULL);
    assert_int_equal(gw_ctx_principal(c)->method, GW_AUTH_ANONYMOUS);
    gw_ctx_unref(c);
    c = run(a, GW_TRANSPORT_HTTP, "10.0.0.1:5", "Bearer mcpgw_000000000000_nope");
    assert_non_null(gw_ctx_auth_failure(c)); /* a bad credential is refused even when optional */
    gw_ctx_unref(c);
    gw_auth_free(a);

    const char *off[] = {"GW_AUTH_MODE", "off", "GW_ADMIN_DEV_MODE", "true", NULL};
    a = make(off);
    c = run(a, GW_TRANSPORT_HTTP, "10.0.0.1:5", "Bearer garbage");
    assert_int_equal(gw_ctx_principal(c)->method, GW_AUTH_ANONYMOUS);
    gw_ctx_unref(c);
    /* the admin API ignores mode off; dev mode only for loopback peers */
    c = run(a, GW_TRANSPORT_ADMIN, "127.0.0.1:5", NULL);
    assert_int_equal(gw_ctx_principal(c)->method, GW_AUTH_DEV);
    assert_true(gw_principal_has_role(gw_ctx_principal(c), "admin"));
    gw_ctx_unref(c);
    c = run(a, GW_TRANSPORT_ADMIN, "[::1]:5", NULL);
    assert_int_equal(gw_ctx_principal(c)->method, GW_AUTH_DEV);
    gw_ctx_unref(c);
    c = run(a, GW_TRANSPORT_ADMIN, "192.168.1.9:5", NULL);
    assert_non_null(gw_ctx_auth_failure(c));
    gw_ctx_unref(c);
    gw_auth_free(a);
}

static void test_api_keys(void **state)
{
    (void)state;
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_store_open(url, NULL, &st, &err), GW_OK);
    json_t *out = NULL, *spec = json_pack("{s:s,s:s,s:[s,s],s:s}", "name", "booking-bot",
                                          "subject", "svc-booking", "roles", "customer-care",
                                          "reader", "tenant", "msil");
    assert_int_equal(gw_apikey_create(st, spec, "test", &out, &err), GW_OK);
    const char *key = json_string_value(json_object_get(out, "key"));
    char good[GW_APIKEY_MAX], id[24];
    snprintf(good, sizeof(good), "%s", key);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(out, "id")));
    assert_int_equal(strlen(good), 62);
    assert_int_equal(strncmp(good, "mcpgw_", 6), 0);
    assert_null(json_object_get(out, "hash"));
    json_decref(out);
    json_decref(spec);
    /* stored hashed: the listing has no key, the hash is not the key */
    json_t *rows = NULL;
    assert_int_equal(gw_store_apikey_list(st, true, false, &rows, &err), GW_OK);
    char *text = gw_json_dumps(rows);
    assert_null(strstr(text, good + 19)); /* the secret part appears nowhere */
    gw_free(text);
    json_decref(rows);
    /* bad specs */
    json_t *bad[] = {json_pack("{s:s}", "name", "x"), json_pack("{s:s,s:s,s:s}", "name", "x",
                                                                "subject", "y", "admin", "1"),
                     json_pack("{s:s,s:s,s:i}", "name", "x", "subject", "y", "ttl_seconds", -1),
                     json_pack("{s:s,s:s,s:s}", "name", "x", "subject", "y", "expires_at",
                               "2001-01-01T00:00:00Z"),
                     json_pack("{s:s,s:s,s:[i]}", "name", "x", "subject", "y", "roles", 3)};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(gw_apikey_create(st, bad[i], "test", &out, &err), GW_EINVAL);
        json_decref(bad[i]);
    }
    /* a short-lived key */
    spec = json_pack("{s:s,s:s,s:i}", "name", "tmp", "subject", "svc-tmp", "ttl_seconds", 1);
    assert_int_equal(gw_apikey_create(st, spec, "test", &out, &err), GW_OK);
    char shortlived[GW_APIKEY_MAX];
    snprintf(shortlived, sizeof(shortlived), "%s", json_string_value(json_object_get(out, "key")));
    json_decref(out);
    json_decref(spec);

    struct gw_auth *a = make(NULL); /* loads the keys at start */
    char hdr[GW_APIKEY_MAX + 16];
    snprintf(hdr, sizeof(hdr), "Bearer %s", good);
    struct gw_ctx *c = run(a, GW_TRANSPORT_HTTP, "10.1.1.1:9", hdr);
    const struct gw_principal *p = gw_ctx_principal(c);
    assert_non_null(p);
    assert_int_equal(p->method, GW_AUTH_API_KEY);
    assert_string_equal(p->subject, "svc-booking");
    assert_string_equal(p->key_id, id);
    assert_string_equal(p->client_id, id);
    assert_string_equal(p->tenant, "msil");
    assert_true(gw_principal_has_role(p, "customer-care"));
    gw_ctx_unref(c);
    /* case-insensitive scheme, extra spaces */
    snprintf(hdr, sizeof(hdr), "bearer   %s", good);
    c = run(a, GW_TRANSPORT_ADMIN, "10.1.1.1:9", hdr);
    assert_non_null(gw_ctx_principal(c));
    gw_ctx_unref(c);
    /* a wrong secret, a mangled id, a truncated key */
    char wrong[GW_APIKEY_MAX + 16];
    snprintf(wrong, sizeof(wrong), "Bearer %s", good);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
    const char *refusals[] = {
        wrong, "Bearer mcpgw_zzzzzzzzzzzz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Bearer mcpgw_", "Bearer mcpgw_0123"};
    for (size_t i = 0; i < 4; i++) {
        c = run(a, GW_TRANSPORT_HTTP, "10.1.1.1:9", refusals[i]);
        const struct gw_auth_failure *f = gw_ctx_auth_failure(c);
        assert_non_null(f);
        assert_string_equal(f->error, "invalid_token");
        assert_non_null(strstr(f->challenge, "error=\"invalid_token\""));
        gw_ctx_unref(c);
    }
    /* expiry */
    sleep(2);
    snprintf(hdr, sizeof(hdr), "Bearer %s", shortlived);
    c = run(a, GW_TRANSPORT_HTTP, "10.1.1.1:9", hdr);
    assert_non_null(strstr(gw_ctx_auth_failure(c)->description, "expired"));
    gw_ctx_unref(c);
    /* revoke + reload on the background thread, waited for: refused from the next request on
     * (what the admin API does before answering) */
    struct gw_store_actor who = {"test", NULL};
    assert_int_equal(gw_store_apikey_revoke(st, id, &who, &err), GW_OK);
    assert_int_equal(gw_store_apikey_revoke(st, id, &who, &err), GW_ENOTFOUND);
    assert_int_equal(gw_auth_reload_wait(a, 5000), GW_OK);
    snprintf(hdr, sizeof(hdr), "Bearer %s", good);
    c = run(a, GW_TRANSPORT_HTTP, "10.1.1.1:9", hdr);
    assert_non_null(strstr(gw_ctx_auth_failure(c)->description, "revoked"));
    gw_ctx_unref(c);
    struct gw_auth_stats stx;
    gw_auth_stats(a, &stx);
    assert_int_equal(stx.apikey_accepted, 2);
    assert_true(stx.apikey_refused >= 6);
    gw_auth_free(a);
    /* the use was recorded (the authenticator writes last_used_at when it stops) */
    json_t *k = NULL;
    assert_int_equal(gw_store_apikey_get(st, id, &k, &err), GW_OK);
    assert_true(json_is_string(json_object_get(k, "last_used_at")));
    assert_true(json_is_string(json_object_get(k, "revoked_at")));
    json_decref(k);
    gw_store_close(st);
}

static void test_claims_mapping(void **state)
{
    (void)state;
    struct auth_config cfg;
    struct gw_settings *s = settings(NULL);
    struct gw_error err = {0};
    assert_int_equal(gw_auth__config(s, "http://gw.example", &cfg, &err), GW_OK);
    gw_settings_free(s);
    assert_string_equal(cfg.resource, "http://gw.example/mcp");
    char why[200];
    json_t *claims = json_pack(
        "{s:s,s:s,s:s,s:s,s:[s,s],s:s,s:{s:[s,s]},s:s,s:I,s:I}", "sub", "u1", "iss", "https://i",
        "azp", "chat-ui", "tid", "msil", "roles", "customer-care", "reader", "groups",
        "dealer-17 reader,ops", "realm_access", "roles", "kc-role", "reader", "scope",
        "openid mcp:tools", "exp", (json_int_t)2000000000, "auth_time", (json_int_t)1999999000);
    struct gw_principal *p = gw_auth__principal_from_claims(&cfg, claims, why);
    assert_non_null(p);
    assert_string_equal(p->client_id, "chat-ui");
    assert_string_equal(p->tenant, "msil");
    assert_int_equal(p->nroles, 5); /* customer-care reader dealer-17 ops kc-role (deduplicated) */
    assert_true(gw_principal_has_role(p, "kc-role") && gw_principal_has_role(p, "dealer-17"));
    assert_true(gw_principal_has_scope(p, "mcp:tools"));
    assert_int_equal(p->expires_at, 2000000000);
    assert_int_equal(p->auth_time, 1999999000);
    assert_string_equal(json_string_value(json_object_get(p->claims, "azp")), "chat-ui");
    gw_principal_unref(p);
    /* more than 64 roles: refused, never truncated */
    json_t *many = json_array();
    for (int i = 0; i < 70; i++) {
        char r[16];
        snprintf(r, sizeof(r), "r%d", i);
        json_array_append_new(many, json_string(r));
    }
    json_object_set_new(claims, "roles", many);
    assert_null(gw_auth__principal_from_claims(&cfg, claims, why));
    assert_non_null(strstr(why, "more than 64"));
    json_decref(claims);
    gw_auth__config_fini(&cfg);
}

static void test_cache(void **state)
{
    (void)state;
    struct auth_cache *c = gw_auth__cache_new(64);
    unsigned char d1[32] = {1}, d2[32] = {2};
    struct gw_principal_init in = {.method = GW_AUTH_OIDC, .subject = "alice"};
    struct gw_principal *p = gw_principal_new(&in);
    gw_auth__cache_put(c, d1, p, 1000, 7);
    struct gw_principal *got = gw_auth__cache_get(c, d1, 999, 7);
    assert_ptr_equal(got, p);
    gw_principal_unref(got);
    assert_null(gw_auth__cache_get(c, d1, 1000, 7)); /* expired */
    assert_null(gw_auth__cache_get(c, d1, 10, 8));   /* keys changed */
    assert_null(gw_auth__cache_get(c, d2, 10, 7));   /* never seen */
    /* many entries in a small cache: it stays bounded and never returns a wrong principal */
    for (int i = 0; i < 1000; i++) {
        unsigned char d[32] = {0};
        memcpy(d, &i, sizeof(i));
        d[31] = 9;
        gw_auth__cache_put(c, d, p, 5000 + i, 1);
    }
    int hits = 0;
    for (int i = 0; i < 1000; i++) {
        unsigned char d[32] = {0};
        memcpy(d, &i, sizeof(i));
        d[31] = 9;
        struct gw_principal *q = gw_auth__cache_get(c, d, 10, 1);
        if (q) {
            assert_ptr_equal(q, p);
            hits++;
            gw_principal_unref(q);
        }
    }
    assert_true(hits > 0 && hits <= 256);
    gw_principal_unref(p);
    gw_auth__cache_free(c);
}

static void test_public_config(void **state)
{
    (void)state;
    const char *kv[] = {"GW_OIDC_ISSUER", "https://idp.example/realms/msil",
                        "GW_ADMIN_OIDC_CLIENT_ID", "admin-ui", "GW_PUBLIC_URL",
                        "HTTPS://MCP.Example.COM/", NULL};
    struct gw_auth *a = make(kv);
    json_t *pc = gw_auth_public_config(a);
    assert_string_equal(json_string_value(json_object_get(pc, "resource")),
                        "https://mcp.example.com/mcp");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(pc, "oidc"), "client_id")), "admin-ui");
    assert_string_equal(json_string_value(json_object_get(pc, "mode")), "required");
    assert_string_equal(json_string_value(json_object_get(pc, "mcp_mode")), "required");
    json_decref(pc);
    gw_auth_free(a);
    /* bad settings fail the start */
    const char *bads[][3] = {{"GW_OIDC_ISSUER", "ftp://x", NULL},
                             {"GW_PUBLIC_URL", "https://x/path", NULL},
                             {"GW_OIDC_ALGORITHMS", "RS256,HS256", NULL},
                             {"GW_OIDC_JWKS_URI", "https://k/jwks", NULL}};
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct gw_settings *s = settings(bads[i]);
        struct gw_error err = {0};
        assert_int_not_equal(gw_auth_new(s, "http://127.0.0.1:1", NULL, &a, &err), GW_OK);
        assert_null(a);
        gw_settings_free(s);
    }
}

static int unknown_count;
static char unknown_suggestion[64];

static void on_unknown(void *ud, const char *name, const char *suggestion)
{
    (void)ud;
    if (strcmp(name, "GW_OIDC_ISUER") == 0) {
        unknown_count++;
        snprintf(unknown_suggestion, sizeof(unknown_suggestion), "%s",
                 suggestion ? suggestion : "");
    }
}

static void test_unknown_settings(void **state)
{
    (void)state;
    setenv("GW_OIDC_ISUER", "https://typo.example", 1);
    struct gw_settings *s = settings(NULL);
    gw_settings_unknown_env(s, on_unknown, NULL);
    assert_int_equal(unknown_count, 1);
    assert_string_equal(unknown_suggestion, "GW_OIDC_ISSUER");
    unsetenv("GW_OIDC_ISUER");
    gw_settings_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),          cmocka_unit_test(test_api_keys),
        cmocka_unit_test(test_claims_mapping), cmocka_unit_test(test_cache),
        cmocka_unit_test(test_public_config),  cmocka_unit_test(test_unknown_settings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
