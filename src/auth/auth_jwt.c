/*
 * src/auth/auth_jwt.c
 * JWKS parsing and JWT verification (see auth_jwt.h for what is refused and why).
 *
 * Order of checks in gw_jwt_verify, each refusing with its own reason:
 *   1. size and shape: three non-empty parts of the base64url alphabet;
 *   2. header: strict base64url, a JSON object without duplicate members, an allowed "alg",
 *      no jwk/jku/x5u/x5c/crit, a sane "typ" and "kid";
 *   3. payload: strict base64url, a JSON object without duplicate members;
 *   4. key: by "kid" (or the only key when the token has none), of the algorithm's type and
 *      curve, and allowed for that algorithm by its own "alg";
 *   5. signature: cJOSE (RSA/PSS/ECDSA) or OpenSSL (Ed25519) over the exact signing input;
 *   6. claims: iss, aud, exp, nbf, iat, sub.
 * The payload is parsed before the signature is checked only to keep one decoding path; no
 * claim is looked at before step 5 succeeds.
 */
#include "auth/auth_jwt.h"

#include "core/alloc.h"
#include "core/b64.h"
#include "core/json.h"

#include <cjose/jwk.h>
#include <cjose/jws.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define JOSE_DEPTH 16
#define KID_MAX 128
#define RSA_MIN_BITS 2048

enum kty { KTY_RSA, KTY_EC, KTY_OKP };

struct jwk {
    char kid[KID_MAX + 1];
    enum kty kty;
    unsigned algs; /* algorithms this key may verify */
    cjose_jwk_t *cj;
    EVP_PKEY *ed;
};

struct gw_jwks {
    atomic_int refs;
    size_t n;
    struct jwk keys[];
};

static const struct {
    const char *name;
    unsigned bit;
} alg_names[] = {{"RS256", GW_JWT_RS256}, {"RS384", GW_JWT_RS384}, {"RS512", GW_JWT_RS512},
                 {"PS256", GW_JWT_PS256}, {"PS384", GW_JWT_PS384}, {"PS512", GW_JWT_PS512},
                 {"ES256", GW_JWT_ES256}, {"ES384", GW_JWT_ES384}, {"EdDSA", GW_JWT_EDDSA},
                 /* RFC 9864's fully-specified name for EdDSA over Ed25519 */
                 {"Ed25519", GW_JWT_EDDSA}};

#define RSA_ALGS                                                                               \
    (GW_JWT_RS256 | GW_JWT_RS384 | GW_JWT_RS512 | GW_JWT_PS256 | GW_JWT_PS384 | GW_JWT_PS512)

static unsigned alg_bit(const char *name)
{
    for (size_t i = 0; name && i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (strcmp(alg_names[i].name, name) == 0)
            return alg_names[i].bit;
    return 0;
}

int gw_jwt_algs_parse(const char *list, unsigned *out, struct gw_error *err)
{
    *out = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (!n)
            break;
        char name[16];
        if (n >= sizeof(name))
            return GW_ERROR_SET(err, GW_EINVAL, "unknown JWT algorithm '%.*s'", (int)n, p);
        memcpy(name, p, n);
        name[n] = '\0';
        unsigned bit = alg_bit(name);
        if (!bit)
            return GW_ERROR_SET(err, GW_EINVAL,
                                "JWT algorithm '%s' is not accepted (supported: RS256, RS384, "
                                "RS512, PS256, PS384, PS512, ES256, ES384, EdDSA; never none or "
                                "HMAC)",
                                name);
        *out |= bit;
        p += n;
    }
    if (!*out)
        return GW_ERROR_SET(err, GW_EINVAL, "no JWT algorithm allowed");
    return GW_OK;
}

/* ---------------------------------------------------------------- key sets */

static void jwk_fini(struct jwk *k)
{
    if (k->cj)
        cjose_jwk_release(k->cj);
    EVP_PKEY_free(k->ed);
}

struct gw_jwks *gw_jwks_ref(struct gw_jwks *k)
{
    if (k)
        atomic_fetch_add(&k->refs, 1);
    return k;
}

void gw_jwks_unref(struct gw_jwks *k)
{
    if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    for (size_t i = 0; i < k->n; i++)
        jwk_fini(&k->keys[i]);
    gw_free(k);
}

size_t gw_jwks_count(const struct gw_jwks *k)
{
    return k ? k->n : 0;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* The key members cjose decodes as base64url. Its decoder asserts on some malformed input
 * (padding after a single character: "A=", or inside the value), and Debian builds it with
 * assertions on, so a malformed key in an identity provider's key set would abort the gateway
 * at every refresh: before cjose sees the key, these members must be the base64url alphabet,
 * at most two '=' at the very end (RFC 7515 omits them; cjose has always accepted them, and so
 * do we) and a number of characters before them that is not 1 modulo 4; otherwise the key is
 * skipped. */
static const char *const CJOSE_B64_MEMBERS[] = {"n", "e", "d", "p", "q", "dp", "dq", "qi",
                                                "x", "y", NULL};

static bool b64url_members_ok(const json_t *key)
{
    for (const char *const *m = CJOSE_B64_MEMBERS; *m; m++) {
        const json_t *v = json_object_get(key, *m);
        if (!v)
            continue;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (int pad = 0; s && pad < 2 && n > 0 && s[n - 1] == '='; pad++)
            n--;
        if (!s || n % 4 == 1)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!b64url_char(s[i]))
                return false;
    }
    return true;
}

/* Decodes a base64url member into out (exactly `want` bytes). */
static bool b64_exact(const json_t *key, const char *member, unsigned char *out, size_t want)
{
    const char *s = json_string_value(json_object_get(key, member));
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n > 4 * want / 3 + 4)
        return false;
    unsigned char tmp[128];
    long len = gw_b64url_decode(s, n, tmp);
    if (len != (long)want)
        return false;
    memcpy(out, tmp, want);
    return true;
}

/* Fills `k` from one JWK object. Returns false (skip) for keys that cannot verify. */
static bool jwk_load(const json_t *o, struct jwk *k)
{
    memset(k, 0, sizeof(*k));
    const char *kty = json_string_value(json_object_get(o, "kty"));
    const char *use = json_string_value(json_object_get(o, "use"));
    const char *kid = json_string_value(json_object_get(o, "kid"));
    const char *alg = json_string_value(json_object_get(o, "alg"));
    json_t *kidv = json_object_get(o, "kid");
    if (!kty || (use && strcmp(use, "sig") != 0) || (kidv && !kid) ||
        (kid && strlen(kid) > KID_MAX))
        return false;
    snprintf(k->kid, sizeof(k->kid), "%s", kid ? kid : "");
    unsigned own = alg ? alg_bit(alg) : ~0u;
    if (alg && !own)
        return false; /* a key meant for an algorithm we never accept (HS256, none, ...) */
    if (strcmp(kty, "RSA") == 0 || strcmp(kty, "EC") == 0) {
        if (!b64url_members_ok(o))
            return false;
        char *text = gw_json_dumps(o);
        cjose_err cerr;
        k->cj = text ? cjose_jwk_import(text, strlen(text), &cerr) : NULL;
        gw_free(text);
        if (!k->cj)
            return false;
        if (cjose_jwk_get_kty(k->cj, &cerr) == CJOSE_JWK_KTY_RSA) {
            k->kty = KTY_RSA;
            if (cjose_jwk_get_keysize(k->cj, &cerr) < RSA_MIN_BITS)
                goto unusable;
            k->algs = RSA_ALGS & own;
        } else if (cjose_jwk_get_kty(k->cj, &cerr) == CJOSE_JWK_KTY_EC) {
            k->kty = KTY_EC;
            cjose_jwk_ec_curve crv = cjose_jwk_EC_get_curve(k->cj, &cerr);
            k->algs = (crv == CJOSE_JWK_EC_P_256   ? GW_JWT_ES256
                       : crv == CJOSE_JWK_EC_P_384 ? GW_JWT_ES384
                                                   : 0) &
                      own;
        }
    } else if (strcmp(kty, "OKP") == 0) {
        const char *crv = json_string_value(json_object_get(o, "crv"));
        unsigned char x[32];
        if (!crv || strcmp(crv, "Ed25519") != 0 || !b64_exact(o, "x", x, sizeof(x)))
            return false;
        k->kty = KTY_OKP;
        k->ed = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof(x));
        if (!k->ed)
            return false;
        k->algs = GW_JWT_EDDSA & own;
    } else {
        return false;
    }
    if (k->algs)
        return true;
unusable:
    jwk_fini(k);
    memset(k, 0, sizeof(*k));
    return false;
}

int gw_jwks_parse(const char *text, size_t len, struct gw_jwks **out, unsigned *skipped,
                  struct gw_error *err)
{
    *out = NULL;
    if (skipped)
        *skipped = 0;
    if (len > GW_JWKS_MAX_BYTES)
        return GW_ERROR_SET(err, GW_EINVAL, "JWKS document larger than %u bytes",
                            GW_JWKS_MAX_BYTES);
    if (gw_json_depth(text, len, JOSE_DEPTH) > JOSE_DEPTH)
        return GW_ERROR_SET(err, GW_EINVAL, "JWKS document nests too deeply");
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        json_decref(doc);
        return GW_ERROR_SET(err, GW_EINVAL, "not a JWKS document (no \"keys\" array)");
    }
    size_t n = json_array_size(keys);
    if (n > GW_JWKS_MAX_KEYS)
        n = GW_JWKS_MAX_KEYS;
    struct gw_jwks *k = gw_xcalloc(1, sizeof(*k) + n * sizeof(struct jwk));
    atomic_init(&k->refs, 1);
    unsigned skip = (unsigned)(json_array_size(keys) - n);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(keys, i);
        if (json_is_object(o) && jwk_load(o, &k->keys[k->n]))
            k->n++;
        else
            skip++;
    }
    json_decref(doc);
    if (skipped)
        *skipped = skip;
    if (k->n == 0) {
        gw_jwks_unref(k);
        return GW_ERROR_SET(err, GW_EINVAL, "the JWKS document has no usable signing key");
    }
    *out = k;
    return GW_OK;
}

static const struct jwk *find_key(const struct gw_jwks *k, const char *kid)
{
    if (!k)
        return NULL;
    if (!kid)
        return k->n == 1 ? &k->keys[0] : NULL;
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->keys[i].kid, kid) == 0)
            return &k->keys[i];
    return NULL;
}

bool gw_jwks_has(const struct gw_jwks *k, const char *kid)
{
    return find_key(k, kid) != NULL;
}

/* ---------------------------------------------------------------- verification */

static int refuse(struct gw_jwt_failure *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int refuse(struct gw_jwt_failure *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->reason, sizeof(why->reason), fmt, ap);
    va_end(ap);
    return GW_EDENIED;
}

/* Decodes one part into a JSON object (strict base64url, no duplicate members). */
static json_t *part_json(const char *p, size_t n)
{
    unsigned char *raw = gw_xmalloc(n * 3 / 4 + 4);
    long len = gw_b64url_decode(p, n, raw);
    json_t *v = NULL;
    if (len > 0 && gw_json_depth((const char *)raw, (size_t)len, JOSE_DEPTH) <= JOSE_DEPTH) {
        json_error_t je;
        v = json_loadb((const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, &je);
        if (v && !json_is_object(v)) {
            json_decref(v);
            v = NULL;
        }
    }
    gw_free(raw);
    return v;
}

static bool verify_ed25519(EVP_PKEY *key, const char *input, size_t input_len, const char *sig,
                           size_t sig_len)
{
    unsigned char raw[96];
    if (sig_len > 90 || gw_b64url_decode(sig, sig_len, raw) != 64)
        return false;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = m && EVP_DigestVerifyInit(m, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(m, raw, 64, (const unsigned char *)input, input_len) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

/* A NumericDate claim: absent (false, *present=false), a number (true), else mistyped. */
static bool time_claim(const json_t *claims, const char *name, bool *present, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    *present = v != NULL;
    if (!v)
        return true;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) > -1e15 && json_real_value(v) < 1e15) {
        *out = (int64_t)json_real_value(v);
        return true;
    }
    return false;
}

static bool audience_ok(const json_t *aud, const struct gw_jwt_expect *x)
{
    for (size_t i = 0; i < x->naudiences; i++) {
        if (json_is_string(aud) && strcmp(json_string_value(aud), x->audiences[i]) == 0)
            return true;
        size_t j;
        json_t *a;
        json_array_foreach((json_t *)aud, j, a)
        {
            if (json_is_string(a) && strcmp(json_string_value(a), x->audiences[i]) == 0)
                return true;
        }
    }
    return false;
}

static int check_header(const json_t *hdr, const struct gw_jwt_expect *x, unsigned *out_alg,
                        const char **out_kid, struct gw_jwt_failure *why)
{
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (!alg)
        return refuse(why, "the token header has no \"alg\"");
    if (strcasecmp(alg, "none") == 0)
        return refuse(why, "unsigned tokens (alg none) are not accepted");
    if (strncmp(alg, "HS", 2) == 0)
        return refuse(why, "HMAC-signed tokens (%.8s) are not accepted", alg);
    unsigned bit = alg_bit(alg);
    if (!bit || !(bit & x->algs))
        return refuse(why, "signature algorithm %.16s is not accepted", alg);
    static const char *const banned[] = {"jwk", "jku", "x5u", "x5c"};
    for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
        if (json_object_get(hdr, banned[i]))
            return refuse(why, "tokens naming their own key (\"%s\" header) are not accepted",
                          banned[i]);
    if (json_object_get(hdr, "crit"))
        return refuse(why, "the token requires extensions (\"crit\") this gateway does not "
                           "implement");
    json_t *typ = json_object_get(hdr, "typ");
    if (typ) {
        const char *t = json_string_value(typ);
        if (!t || (strcasecmp(t, "JWT") != 0 && strcasecmp(t, "at+jwt") != 0 &&
                   strcasecmp(t, "application/at+jwt") != 0))
            return refuse(why, "token type (typ) is not an access token");
    }
    json_t *kidv = json_object_get(hdr, "kid");
    const char *kid = json_string_value(kidv);
    if (kidv && (!kid || strlen(kid) > KID_MAX || !*kid))
        return refuse(why, "the token's key id (kid) is malformed");
    *out_alg = bit;
    *out_kid = kid;
    return GW_OK;
}

static int check_claims(const json_t *c, const struct gw_jwt_expect *x,
                        struct gw_jwt_failure *why)
{
    const char *iss = json_string_value(json_object_get(c, "iss"));
    if (!iss)
        return refuse(why, "the token has no issuer (iss)");
    if (!x->issuer || strcmp(iss, x->issuer) != 0)
        return refuse(why, "the token was issued by another issuer");
    json_t *aud = json_object_get(c, "aud");
    if (!aud)
        return refuse(why, "the token has no audience (aud); request it for this resource");
    if (!audience_ok(aud, x))
        return refuse(why, "the token is for another audience (resource); request one for "
                           "this gateway");
    bool has;
    int64_t t = 0;
    if (!time_claim(c, "exp", &has, &t))
        return refuse(why, "the token's expiry (exp) is not a number");
    if (!has)
        return refuse(why, "the token has no expiry (exp)");
    if (x->now >= t + x->skew)
        return refuse(why, "the token has expired");
    if (!time_claim(c, "nbf", &has, &t))
        return refuse(why, "the token's nbf is not a number");
    if (has && x->now + x->skew < t)
        return refuse(why, "the token is not valid yet (nbf)");
    if (!time_claim(c, "iat", &has, &t))
        return refuse(why, "the token's iat is not a number");
    if (has && x->now + x->skew < t)
        return refuse(why, "the token was issued in the future (iat)");
    const char *sub = json_string_value(json_object_get(c, "sub"));
    if (!sub || !*sub)
        return refuse(why, "the token has no subject (sub)");
    return GW_OK;
}

int gw_jwt_verify(const char *token, size_t len, const struct gw_jwks *keys,
                  const struct gw_jwt_expect *x, json_t **out_claims, json_t **out_header,
                  struct gw_jwt_failure *why)
{
    memset(why, 0, sizeof(*why));
    *out_claims = NULL;
    if (out_header)
        *out_header = NULL;
    size_t max = x->max_bytes ? x->max_bytes : GW_JWT_MAX_BYTES_DEFAULT;
    if (len > max)
        return refuse(why, "the token is longer than %zu bytes", max);
    const char *dot1 = NULL, *dot2 = NULL;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (!dot1)
                dot1 = token + i;
            else if (!dot2)
                dot2 = token + i;
            else
                return refuse(why, "the token is not a signed JWT (too many parts; encrypted "
                                   "tokens are not accepted)");
        } else if (!b64url_char(token[i])) {
            return refuse(why, "the token contains characters outside base64url");
        }
    }
    if (!dot2)
        return refuse(why, "the token is not a JWT (three dot-separated parts expected)");
    size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1);
    size_t slen = len - (size_t)(dot2 - token) - 1;
    if (!hlen || !plen)
        return refuse(why, "the token has an empty header or payload");

    json_t *hdr = part_json(token, hlen);
    if (!hdr)
        return refuse(why, "the token header is not valid base64url JSON");
    unsigned alg = 0;
    const char *kid = NULL;
    int rc = check_header(hdr, x, &alg, &kid, why);
    if (rc == GW_OK && !slen)
        rc = refuse(why, "the token has no signature");
    json_t *claims = NULL;
    if (rc == GW_OK) {
        claims = part_json(dot1 + 1, plen);
        if (!claims)
            rc = refuse(why, "the token payload is not valid base64url JSON (or repeats a "
                             "claim)");
    }
    const struct jwk *k = NULL;
    if (rc == GW_OK) {
        k = find_key(keys, kid);
        if (!k) {
            rc = refuse(why, kid ? "the token is signed with an unknown key id"
                                 : "the token names no key id and the key set has several keys");
            why->unknown_kid = kid != NULL;
        } else if (!(k->algs & alg)) {
            rc = refuse(why, "the token's algorithm does not match its key's type");
        }
    }
    if (rc == GW_OK) {
        bool ok;
        if (k->kty == KTY_OKP) {
            ok = verify_ed25519(k->ed, token, (size_t)(dot2 - token), dot2 + 1, slen);
        } else {
            cjose_err cerr;
            cjose_jws_t *jws = cjose_jws_import(token, len, &cerr);
            ok = jws && cjose_jws_verify(jws, k->cj, &cerr);
            if (jws)
                cjose_jws_release(jws);
        }
        if (!ok)
            rc = refuse(why, "the token signature is invalid");
    }
    if (rc == GW_OK)
        rc = check_claims(claims, x, why);
    if (rc != GW_OK) {
        json_decref(claims);
        json_decref(hdr);
        return rc;
    }
    *out_claims = claims;
    if (out_header)
        *out_header = hdr;
    else
        json_decref(hdr);
    return GW_OK;
}
