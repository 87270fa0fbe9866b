/*
 * src/auth/auth_jwt.h
 * OIDC/OAuth access tokens (JWT, compact JWS): key sets and verification, as pure functions.
 *
 * A key set (struct gw_jwks) is parsed from a JWKS document and never changes afterwards; it
 * is shared read-only by every worker (reference counted). Verification takes a token, a key
 * set, the expected issuer/audiences/algorithms and the current time, and yields the verified
 * header and claims, or a precise reason for refusal. Nothing here does I/O or keeps state:
 * fetching keys is auth_jwks.c, mapping claims to a principal is auth_claims.c.
 *
 * What is refused (the JWT attack catalogue): anything but three non-empty base64url parts;
 * oversized tokens; headers or claims that are not JSON objects, nest too deep or repeat a
 * member; alg "none", any HMAC algorithm and any algorithm outside the configured allow-list;
 * embedded or remote key references (jwk, jku, x5u, x5c) and any "crit" header; a key whose
 * type or curve does not match the algorithm (RS/HS confusion), RSA keys under 2048 bits;
 * unknown key ids; bad signatures; a wrong or missing issuer; an audience that is not ours;
 * missing, mistyped, expired or not-yet-valid time claims (with a small clock skew).
 * Signatures are checked by cJOSE (RSA, RSA-PSS, ECDSA) and by OpenSSL for EdDSA (Ed25519),
 * which cJOSE 0.6 does not implement; the compact form is split and decoded here, strictly.
 */
#ifndef GW_AUTH_JWT_H
#define GW_AUTH_JWT_H

#include "core/err.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_JWT_MAX_BYTES_DEFAULT 8192
#define GW_JWKS_MAX_KEYS 64
#define GW_JWKS_MAX_BYTES (512u * 1024u)

/* Signature algorithms the gateway can verify (a bit set). */
enum {
    GW_JWT_RS256 = 1 << 0,
    GW_JWT_RS384 = 1 << 1,
    GW_JWT_RS512 = 1 << 2,
    GW_JWT_PS256 = 1 << 3,
    GW_JWT_PS384 = 1 << 4,
    GW_JWT_PS512 = 1 << 5,
    GW_JWT_ES256 = 1 << 6,
    GW_JWT_ES384 = 1 << 7,
    GW_JWT_EDDSA = 1 << 8
};

/* Parses "RS256,PS256,ES256,EdDSA" into a bit set. GW_OK, or GW_EINVAL naming the bad entry
 * (including "none" and HS*, which are never accepted). */
int gw_jwt_algs_parse(const char *list, unsigned *out, struct gw_error *err);

struct gw_jwks;

/* Parses a JWKS document ({"keys":[...]}, at most GW_JWKS_MAX_BYTES). Keys for encryption
 * ("use":"enc"), of unknown types, or unusable (short RSA, unknown curve) are skipped with a
 * note in *skipped (may be NULL); a document with no usable key is an error. GW_OK with *out
 * (one reference), GW_EINVAL with err. Does not block. */
int gw_jwks_parse(const char *text, size_t len, struct gw_jwks **out, unsigned *skipped,
                  struct gw_error *err);
struct gw_jwks *gw_jwks_ref(struct gw_jwks *k);
void gw_jwks_unref(struct gw_jwks *k); /* accepts NULL; any thread */
size_t gw_jwks_count(const struct gw_jwks *k);
/* Whether a key with this id exists (NULL kid: whether exactly one key exists). */
bool gw_jwks_has(const struct gw_jwks *k, const char *kid);

struct gw_jwt_expect {
    const char *issuer;            /* exact match of "iss" (required) */
    const char *const *audiences;  /* "aud" must contain one of these */
    size_t naudiences;
    unsigned algs;                 /* allow-list (GW_JWT_* bits) */
    int64_t now;                   /* unix seconds */
    int64_t skew;                  /* clock skew allowed on exp/nbf/iat, seconds */
    size_t max_bytes;              /* longest token accepted (0 = GW_JWT_MAX_BYTES_DEFAULT) */
};

/* Why a token was refused, for error_description. `unknown_kid` is set when the only problem
 * found so far is a key id missing from the key set (the caller may refetch the keys once). */
struct gw_jwt_failure {
    char reason[200];
    bool unknown_kid;
};

/* Verifies `token` against `keys` and `x`. GW_OK with *out_claims (new reference: the payload
 * object) and *out_header (new reference; may be NULL when not wanted); GW_EDENIED with `why`
 * filled. Checks the header before the key lookup, the signature before trusting any claim,
 * then the claims. Does not block. */
int gw_jwt_verify(const char *token, size_t len, const struct gw_jwks *keys,
                  const struct gw_jwt_expect *x, json_t **out_claims, json_t **out_header,
                  struct gw_jwt_failure *why);

#endif
