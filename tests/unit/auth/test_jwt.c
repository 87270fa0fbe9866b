/*
 * tests/unit/auth/test_jwt.c
 * Token verification (auth/auth_jwt.h) against tokens forged with OpenSSL (jwt_forge.h):
 * valid RS256, PS256, ES256 and EdDSA tokens pass and yield their claims; every case of the
 * JWT attack catalogue is refused with a precise reason: alg none, HMAC (including HS256 keyed
 * with the public key: RS/HS confusion), algorithms outside the allow-list, stripped,
 * tampered and foreign signatures, expired / not yet valid / issued in the future, wrong and
 * missing issuer or audience, unknown kid, embedded jwk/jku/x5u/x5c, crit, duplicate claims
 * and header members, wrong part counts, bad base64, bad JSON, non-object parts, mistyped
 * time claims, huge tokens, keys too short or of the wrong curve, a key restricted to another
 * alg. JWKS parsing: unusable keys skipped, empty sets refused, duplicates refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth/auth_jwt.h"
#include "jwt_forge.h"

#include <stdlib.h>

#define ISS "https://idp.example"
#define AUD "https://gw.example/mcp"
#define NOW 2000000000LL

static EVP_PKEY *rsa, *rsa_other, *ec, *ed, *rsa_short, *ec384;
static struct gw_jwks *keys;
static char *rsa_jwk_text; /* the public key as JSON: the RS/HS confusion secret */

static int setup(void **state)
{
    (void)state;
    rsa = forge_key(FORGE_RSA2048);
    rsa_other = forge_key(FORGE_RSA2048);
    ec = forge_key(FORGE_P256);
    ed = forge_key(FORGE_ED25519);
    rsa_short = forge_key(FORGE_RSA1024);
    ec384 = forge_key(FORGE_P384);
    json_t *set = json_pack("{s:[o,o,o,o,o,o]}", "keys",
                            forge_jwk(rsa, FORGE_RSA2048, "rsa1", NULL),
                            forge_jwk(ec, FORGE_P256, "ec1", NULL),
                            forge_jwk(ed, FORGE_ED25519, "ed1", NULL),
                            forge_jwk(rsa_short, FORGE_RSA1024, "short", NULL),
                            forge_jwk(ec384, FORGE_P384, "ec384", NULL),
                            forge_jwk(rsa_other, FORGE_RSA2048, "ps-only", "PS256"));
    rsa_jwk_text = gw_json_dumps(json_array_get(json_object_get(set, "keys"), 0));
    char *text = gw_json_dumps(set);
    unsigned skipped = 9;
    struct gw_error err = {0};
    assert_int_equal(gw_jwks_parse(text, strlen(text), &keys, &skipped, &err), GW_OK);
    assert_int_equal(skipped, 1); /* the 1024-bit RSA key */
    assert_int_equal(gw_jwks_count(keys), 5);
    gw_free(text);
    json_decref(set);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_jwks_unref(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(rsa_short);
    EVP_PKEY_free(ec384);
    gw_free(rsa_jwk_text);
    return 0;
}

static const char *const auds[] = {AUD};

static struct gw_jwt_expect expect(void)
{
    struct gw_jwt_expect x = {ISS, auds, 1, 0, NOW, 60, 0};
    gw_jwt_algs_parse("RS256,PS256,ES256,ES384,EdDSA", &x.algs, NULL);
    return x;
}

#define GOOD_CLAIMS                                                                            \
    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"exp\":2000000300,"         \
    "\"iat\":1999999990,\"roles\":[\"customer-care\"]}"

/* Verifies and returns the reason ("" when accepted). */
static const char *check(const char *token, struct gw_jwt_failure *why)
{
    struct gw_jwt_expect x = expect();
    json_t *claims = NULL;
    int rc = gw_jwt_verify(token, strlen(token), keys, &x, &claims, NULL, why);
    if (rc == GW_OK) {
        assert_non_null(claims);
        assert_string_equal(json_string_value(json_object_get(claims, "sub")), "alice");
        json_decref(claims);
        why->reason[0] = '\0';
    } else {
        assert_int_equal(rc, GW_EDENIED);
        assert_null(claims);
        assert_true(why->reason[0] != '\0');
    }
    return why->reason;
}

static void accepted(const char *header, const char *payload, EVP_PKEY *k, const char *alg)
{
    char *t = forge_token(header, payload, k, alg, NULL);
    struct gw_jwt_failure why;
    const char *r = check(t, &why);
    if (r[0])
        fail_msg("expected acceptance of %s, got: %s", header, r);
    gw_free(t);
}

/* The token is refused and the reason contains `needle`. */
static void refused_token(const char *t, const char *needle)
{
    struct gw_jwt_failure why;
    const char *r = check(t, &why);
    if (!r[0] || !strstr(r, needle))
        fail_msg("expected refusal containing '%s', got '%s' for %.80s", needle, r, t);
}

static void refused(const char *header, const char *payload, EVP_PKEY *k, const char *alg,
                    const char *needle)
{
    char *t = forge_token(header, payload, k, alg, NULL);
    refused_token(t, needle);
    gw_free(t);
}

static void test_valid_algorithms(void **state)
{
    (void)state;
    accepted("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", GOOD_CLAIMS, rsa, "RS256");
    accepted("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, rsa, "PS256");
    accepted("{\"alg\":\"ES256\",\"kid\":\"ec1\",\"typ\":\"at+jwt\"}", GOOD_CLAIMS, ec, "ES256");
    accepted("{\"alg\":\"ES384\",\"kid\":\"ec384\"}", GOOD_CLAIMS, ec384, "ES384");
    accepted("{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}", GOOD_CLAIMS, ed, "EdDSA");
    accepted("{\"alg\":\"PS256\",\"kid\":\"ps-only\"}", GOOD_CLAIMS, rsa_other, "PS256");
    /* aud as an array containing ours; nbf in the past; a real number exp */
    accepted("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
             "{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD "\"],\"sub\":\"alice\","
             "\"exp\":2000000300.5,\"nbf\":1999999000}",
             rsa, "RS256");
    /* within the clock skew: expired 30 s ago, valid 30 s from now */
    accepted("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
             "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"exp\":1999999970}", rsa,
             "RS256");
    accepted("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
             "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"exp\":2000000300,"
             "\"nbf\":2000000030}",
             rsa, "RS256");
}

static void test_algorithm_attacks(void **state)
{
    (void)state;
    /* alg none, with and without a signature part */
    refused("{\"alg\":\"none\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, NULL, NULL, "alg none");
    refused("{\"alg\":\"NONE\"}", GOOD_CLAIMS, NULL, NULL, "alg none");
    char *t = forge_token("{\"alg\":\"none\"}", GOOD_CLAIMS, NULL, NULL, NULL);
    t[strlen(t) - 1] = '\0'; /* "h.p." -> "h.p" : two parts */
    refused_token(t, "three");
    gw_free(t);
    /* RS/HS confusion: HS256 keyed with the RSA public key (JWK text), and HS384/HS512 */
    t = forge_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, NULL, NULL, rsa_jwk_text);
    refused_token(t, "HMAC");
    gw_free(t);
    t = forge_token("{\"alg\":\"HS512\"}", GOOD_CLAIMS, NULL, NULL, "secret");
    refused_token(t, "HMAC");
    gw_free(t);
    /* allow-list: RS384 is verifiable but not allowed here; unknown names */
    refused("{\"alg\":\"RS384\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, rsa, "RS384", "not accepted");
    refused("{\"alg\":\"XX999\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, rsa, "RS256", "not accepted");
    refused("{\"kid\":\"rsa1\"}", GOOD_CLAIMS, rsa, "RS256", "no \"alg\"");
    refused("{\"alg\":5,\"kid\":\"rsa1\"}", GOOD_CLAIMS, rsa, "RS256", "no \"alg\"");
    /* key type / curve confusion: an RSA key named for ES256, P-384 named for ES256, a
     * key restricted to PS256 used with RS256 */
    refused("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, ec, "ES256", "does not match");
    refused("{\"alg\":\"ES256\",\"kid\":\"ec384\"}", GOOD_CLAIMS, ec384, "ES384", "does not match");
    refused("{\"alg\":\"RS256\",\"kid\":\"ps-only\"}", GOOD_CLAIMS, rsa_other, "RS256",
            "does not match");
    refused("{\"alg\":\"EdDSA\",\"kid\":\"ec1\"}", GOOD_CLAIMS, ed, "EdDSA", "does not match");
    /* a key too short to be accepted was never loaded */
    refused("{\"alg\":\"RS256\",\"kid\":\"short\"}", GOOD_CLAIMS, rsa_short, "RS256",
            "unknown key");
}

static void test_signature_attacks(void **state)
{
    (void)state;
    const char *h = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";
    /* stripped signature */
    char *t = forge_token(h, GOOD_CLAIMS, rsa, "RS256", NULL);
    char *dot = strrchr(t, '.');
    dot[1] = '\0';
    refused_token(t, "no signature");
    gw_free(t);
    /* tampered payload: the signature of another payload */
    t = forge_token(h, GOOD_CLAIMS, rsa, "RS256", NULL);
    char *t2 = forge_token(h,
                           "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\",\"exp\":"
                           "2000000300,\"roles\":[\"admin\"]}",
                           rsa, "RS256", NULL);
    char *sig1 = strrchr(t, '.'), *sig2 = strrchr(t2, '.');
    size_t head = (size_t)(sig2 - t2);
    char *spliced = gw_xmalloc(head + strlen(sig1) + 1);
    memcpy(spliced, t2, head);
    strcpy(spliced + head, sig1); /* checksrc: allow (test) */
    refused_token(spliced, "signature is invalid");
    gw_free(spliced);
    /* tampered signature bytes (one character changed) */
    size_t n = strlen(t);
    t[n - 5] = t[n - 5] == 'A' ? 'B' : 'A';
    refused_token(t, "signature is invalid");
    gw_free(t);
    gw_free(t2);
    /* signed by another key under our kid */
    refused(h, GOOD_CLAIMS, rsa_other, "RS256", "signature is invalid");
    refused("{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}", GOOD_CLAIMS, ec, "ES256",
            "signature is invalid");
    /* unknown kid (the caller may refetch once), no kid with several keys */
    struct gw_jwt_failure why;
    t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rotated-away\"}", GOOD_CLAIMS, rsa, "RS256",
                    NULL);
    check(t, &why);
    assert_true(why.unknown_kid);
    assert_non_null(strstr(why.reason, "unknown key id"));
    gw_free(t);
    refused("{\"alg\":\"RS256\"}", GOOD_CLAIMS, rsa, "RS256", "several keys");
    refused("{\"alg\":\"RS256\",\"kid\":\"\"}", GOOD_CLAIMS, rsa, "RS256", "malformed");
    refused("{\"alg\":\"RS256\",\"kid\":7}", GOOD_CLAIMS, rsa, "RS256", "malformed");
}

static void test_header_attacks(void **state)
{
    (void)state;
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}",
            GOOD_CLAIMS, rsa, "RS256", "\"jwk\"");
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jku\":\"https://evil.example/jwks\"}",
            GOOD_CLAIMS, rsa, "RS256", "\"jku\"");
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x5u\":\"https://evil.example/c.pem\"}",
            GOOD_CLAIMS, rsa, "RS256", "\"x5u\"");
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x5c\":[\"MIIB\"]}", GOOD_CLAIMS, rsa, "RS256",
            "\"x5c\"");
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"]}", GOOD_CLAIMS, rsa, "RS256",
            "crit");
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWE\"}", GOOD_CLAIMS, rsa, "RS256",
            "typ");
    /* duplicate header member: the second alg would win in a lax parser */
    refused("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"alg\":\"none\"}", GOOD_CLAIMS, rsa, "RS256",
            "header is not valid");
    refused("[\"RS256\"]", GOOD_CLAIMS, rsa, "RS256", "header is not valid");
    refused("not json", GOOD_CLAIMS, rsa, "RS256", "header is not valid");
}

static void test_claim_attacks(void **state)
{
    (void)state;
    const char *h = "{\"alg\":\"ES256\",\"kid\":\"ec1\"}";
#define C(body) "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\"" body "}"
    refused(h, C(",\"exp\":1999999900"), ec, "ES256", "expired");
    refused(h, C(""), ec, "ES256", "no expiry");
    refused(h, C(",\"exp\":\"2000000300\""), ec, "ES256", "not a number");
    refused(h, C(",\"exp\":2000000300,\"nbf\":2000000100"), ec, "ES256", "not valid yet");
    refused(h, C(",\"exp\":2000000300,\"nbf\":true"), ec, "ES256", "nbf is not a number");
    refused(h, C(",\"exp\":2000000300,\"iat\":2000000500"), ec, "ES256", "future");
    refused(h,
            "{\"iss\":\"https://evil.example\",\"aud\":\"" AUD "\",\"sub\":\"a\","
            "\"exp\":2000000300}",
            ec, "ES256", "another issuer");
    refused(h, "{\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":2000000300}", ec, "ES256", "no issuer");
    refused(h,
            "{\"iss\":\"" ISS "\",\"aud\":\"https://other.example/mcp\",\"sub\":\"a\","
            "\"exp\":2000000300}",
            ec, "ES256", "another audience");
    refused(h, "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"y\"],\"sub\":\"a\",\"exp\":2000000300}", ec,
            "ES256", "another audience");
    refused(h, "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"exp\":2000000300}", ec, "ES256",
            "no audience");
    refused(h, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":2000000300}", ec, "ES256",
            "no subject");
    /* duplicate claims: {"sub":"alice","sub":"admin"} */
    refused(h, C(",\"exp\":2000000300,\"sub\":\"admin\""), ec, "ES256", "repeats a claim");
    refused(h, "[1,2,3]", ec, "ES256", "payload is not valid");
    refused(h, "{\"iss\":", ec, "ES256", "payload is not valid");
#undef C
}

static void test_shape_attacks(void **state)
{
    (void)state;
    refused_token("", "three");
    refused_token("abc", "three");
    refused_token("a.b", "three");
    refused_token("a.b.c.d.e", "too many parts");
    refused_token("a..c", "empty header");
    refused_token(".b.c", "empty header");
    refused_token("ey J.b.c", "characters outside");
    refused_token("eyJ+.b/c.d", "characters outside");
    refused_token("eyJhbGciOiJSUzI1NiJ9=.eyJ9.c", "characters outside");
    refused_token("!!!.@@@.###", "characters outside");
    refused_token("A.B.C", "not valid base64url"); /* length 1 parts do not decode */
    /* huge: longer than the limit */
    char *big = gw_xmalloc(20000);
    memset(big, 'A', 19999);
    big[19999] = '\0';
    big[100] = '.';
    big[200] = '.';
    refused_token(big, "longer than");
    gw_free(big);
    /* deeply nested header */
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"alg\":\"RS256\",\"x\":");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    refused(deep, GOOD_CLAIMS, rsa, "RS256", "header is not valid");
}

static void test_jwks_parse(void **state)
{
    (void)state;
    struct gw_jwks *k = NULL;
    struct gw_error err = {0};
    unsigned skipped = 0;
    const char *bad[] = {"", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[]}",
                         "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
                         "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}]}",
                         "{\"keys\":[1,2,3]}", "{\"keys\":[],\"keys\":[]}", "not json",
                         /* padding after one character: cjose's decoder asserts (aborts the
                          * process) on it, so such a key must never reach cjose */
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"A=\",\"e\":\"AQAB\"}]}",
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"scdPF8GmOhldhhtdGA7P5NRPkR1z54u"
                         "nGQOIDuZpXmumHO5_o3KowAjNKZBAf4Dvv5wTOgVu0Ygn7=rnfSOJf-Ta3ig\"}]}",
                         "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"A=\",\"y\":"
                         "\"AAAA\"}]}",
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"A==\"}]}",
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQ===\"}]}",
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":7,\"e\":\"AQAB\"}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gw_jwks_parse(bad[i], strlen(bad[i]), &k, &skipped, &err) == GW_OK)
            fail_msg("JWKS accepted: %s", bad[i]);
        assert_null(k);
    }
    /* an encryption key and a key for HS256 are skipped, the signing key kept */
    json_t *ok = forge_jwk(ec, FORGE_P256, "sig", NULL);
    json_t *enc = forge_jwk(ec, FORGE_P256, "enc", NULL);
    json_object_set_new(enc, "use", json_string("enc"));
    json_t *hs = forge_jwk(rsa, FORGE_RSA2048, "hs", "HS256");
    json_t *set = json_pack("{s:[o,o,o]}", "keys", ok, enc, hs);
    char *text = gw_json_dumps(set);
    assert_int_equal(gw_jwks_parse(text, strlen(text), &k, &skipped, &err), GW_OK);
    assert_int_equal(skipped, 2);
    assert_true(gw_jwks_has(k, "sig"));
    assert_false(gw_jwks_has(k, "enc"));
    assert_true(gw_jwks_has(k, NULL)); /* one key: a token without kid may use it */
    gw_jwks_unref(k);
    gw_free(text);
    json_decref(set);
    /* trailing padding (not RFC 7515's spelling, accepted as cjose always did): the key stays */
    json_t *padded = forge_jwk(rsa, FORGE_RSA2048, "padded", NULL);
    const char *n64 = json_string_value(json_object_get(padded, "n"));
    assert_int_equal(strlen(n64) % 4, 2);
    char *np = gw_xmalloc(strlen(n64) + 3);
    snprintf(np, strlen(n64) + 3, "%s==", n64);
    json_object_set_new(padded, "n", json_string(np));
    gw_free(np);
    set = json_pack("{s:[o]}", "keys", padded);
    text = gw_json_dumps(set);
    assert_int_equal(gw_jwks_parse(text, strlen(text), &k, &skipped, &err), GW_OK);
    assert_int_equal(skipped, 0);
    assert_true(gw_jwks_has(k, "padded"));
    gw_jwks_unref(k);
    gw_free(text);
    json_decref(set);
}

static void test_algs_parse(void **state)
{
    (void)state;
    unsigned a = 0;
    struct gw_error err = {0};
    assert_int_equal(gw_jwt_algs_parse("RS256, ES256 ,EdDSA", &a, &err), GW_OK);
    assert_int_equal(a, GW_JWT_RS256 | GW_JWT_ES256 | GW_JWT_EDDSA);
    assert_int_equal(gw_jwt_algs_parse("RS256,none", &a, &err), GW_EINVAL);
    assert_int_equal(gw_jwt_algs_parse("HS256", &a, &err), GW_EINVAL);
    assert_int_equal(gw_jwt_algs_parse("", &a, &err), GW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_algorithms), cmocka_unit_test(test_algorithm_attacks),
        cmocka_unit_test(test_signature_attacks), cmocka_unit_test(test_header_attacks),
        cmocka_unit_test(test_claim_attacks),    cmocka_unit_test(test_shape_attacks),
        cmocka_unit_test(test_jwks_parse),       cmocka_unit_test(test_algs_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
