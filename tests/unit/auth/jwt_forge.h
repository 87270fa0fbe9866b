/*
 * tests/unit/auth/jwt_forge.h
 * Test-only token forge: makes keys with OpenSSL, their JWKs, and signs JWTs with any header
 * and payload (including deliberately broken ones), so the verifier is tested against tokens
 * built independently of the code under test (OpenSSL's EVP API, not cJOSE).
 */
#ifndef GW_TEST_JWT_FORGE_H
#define GW_TEST_JWT_FORGE_H

#include "core/alloc.h"
#include "core/b64.h"
#include "core/json.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

enum forge_kind { FORGE_RSA2048, FORGE_RSA1024, FORGE_P256, FORGE_P384, FORGE_ED25519 };

static EVP_PKEY *forge_key(enum forge_kind k)
{
    switch (k) {
    case FORGE_RSA2048: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case FORGE_RSA1024: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    case FORGE_P256: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case FORGE_P384: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case FORGE_ED25519: return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    return NULL;
}

static char *b64(const unsigned char *p, size_t n)
{
    char *out = gw_xmalloc(gw_b64url_len(n) + 1);
    gw_b64url_encode(p, n, out);
    return out;
}

static char *bn_b64(const EVP_PKEY *k, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(k, param, &bn);
    size_t n = (size_t)BN_num_bytes(bn);
    if (pad > n)
        n = pad;
    unsigned char *buf = gw_xcalloc(1, n);
    BN_bn2binpad(bn, buf, (int)n);
    char *s = b64(buf, n);
    gw_free(buf);
    BN_free(bn);
    return s;
}

/* The public JWK of `k` with `kid` (and "alg" when alg != NULL). New reference. */
static json_t *forge_jwk(EVP_PKEY *k, enum forge_kind kind, const char *kid, const char *alg)
{
    json_t *j = json_object();
    if (kind == FORGE_RSA2048 || kind == FORGE_RSA1024) {
        char *n = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(n));
        json_object_set_new(j, "e", json_string(e));
        gw_free(n);
        gw_free(e);
    } else if (kind == FORGE_P256 || kind == FORGE_P384) {
        size_t sz = kind == FORGE_P256 ? 32 : 48;
        char *x = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, sz);
        char *y = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, sz);
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string(kind == FORGE_P256 ? "P-256" : "P-384"));
        json_object_set_new(j, "x", json_string(x));
        json_object_set_new(j, "y", json_string(y));
        gw_free(x);
        gw_free(y);
    } else {
        unsigned char raw[32];
        size_t n = sizeof(raw);
        EVP_PKEY_get_raw_public_key(k, raw, &n);
        char *x = b64(raw, n);
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string("Ed25519"));
        json_object_set_new(j, "x", json_string(x));
        gw_free(x);
    }
    if (kid)
        json_object_set_new(j, "kid", json_string(kid));
    if (alg)
        json_object_set_new(j, "alg", json_string(alg));
    json_object_set_new(j, "use", json_string("sig"));
    return j;
}

/* Signs `input` with alg over key k: raw JWS signature bytes into out (>= 512), length. */
static size_t forge_sign(EVP_PKEY *k, const char *alg, const char *input, unsigned char *out)
{
    const EVP_MD *md = NULL;
    if (!strcmp(alg, "RS256") || !strcmp(alg, "PS256") || !strcmp(alg, "ES256"))
        md = EVP_sha256();
    else if (!strcmp(alg, "RS384") || !strcmp(alg, "PS384") || !strcmp(alg, "ES384"))
        md = EVP_sha384();
    else if (!strcmp(alg, "RS512") || !strcmp(alg, "PS512"))
        md = EVP_sha512();
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    EVP_DigestSignInit(m, &pctx, md, NULL, k);
    if (alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    unsigned char der[600];
    size_t n = sizeof(der);
    EVP_DigestSign(m, der, &n, (const unsigned char *)input, strlen(input));
    EVP_MD_CTX_free(m);
    if (alg[0] != 'E' || !strcmp(alg, "EdDSA")) {
        memcpy(out, der, n);
        return n;
    }
    /* ECDSA: DER (r, s) -> fixed-size r || s */
    size_t half = !strcmp(alg, "ES256") ? 32 : 48;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, (int)half);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + half, (int)half);
    ECDSA_SIG_free(sig);
    return 2 * half;
}

/* header.payload.signature from JSON texts; sign_alg selects how to sign (NULL = no
 * signature part content: ""), hmac_key non-NULL signs with HMAC-SHA256 instead. Heap string. */
static char *forge_token(const char *header, const char *payload, EVP_PKEY *k,
                         const char *sign_alg, const char *hmac_key)
{
    char *h = b64((const unsigned char *)header, strlen(header));
    char *p = b64((const unsigned char *)payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = gw_xmalloc(n);
    snprintf(input, n, "%s.%s", h, p);
    unsigned char sig[600];
    size_t slen = 0;
    if (hmac_key) {
        unsigned int l = 0;
        HMAC(EVP_sha256(), hmac_key, (int)strlen(hmac_key), (const unsigned char *)input,
             strlen(input), sig, &l);
        slen = l;
    } else if (sign_alg) {
        slen = forge_sign(k, sign_alg, input, sig);
    }
    char *s = b64(sig, slen);
    size_t tn = strlen(input) + strlen(s) + 2;
    char *tok = gw_xmalloc(tn);
    snprintf(tok, tn, "%s.%s", input, s);
    gw_free(h);
    gw_free(p);
    gw_free(input);
    gw_free(s);
    return tok;
}

#endif
