/*
 * tools/mock-apim/mockapim_auth.h
 * APIM-like authentication: a subscription key on every API call, OAuth2 client-credentials
 * bearer tokens on writes (and on every DMS call that the swagger marks with Authorization).
 *
 * Keys are compared in constant time. Tokens are 32 random bytes (OpenSSL RAND_bytes) shown
 * as 64 hex characters; the database stores only their SHA-256, so a copied database file
 * grants nothing. Nothing here logs a key, a secret or a token.
 */
#ifndef GW_MOCKAPIM_AUTH_H
#define GW_MOCKAPIM_AUTH_H

#include "core/err.h"
#include "mockapim_req.h"

#include <stdbool.h>

struct gw_mockapim_auth_config {
    const char *api_key;       /* expected x-api-key / Ocp-Apim-Subscription-Key */
    const char *client_id;     /* OAuth client of /oauth2/token */
    const char *client_secret;
    int token_ttl;             /* seconds */
};

/* Live tokens kept at most (older ones are dropped when a new one is issued). */
#define GW_MOCKAPIM_TOKENS_MAX 10000

/* True when the request carries the expected key in x-api-key or Ocp-Apim-Subscription-Key. */
bool gw_mockapim_auth_api_key_ok(const struct gw_mockapim_auth_config *cfg,
                                 const struct gw_mockapim_req *req);

/* Checks the Authorization header: "Bearer <token>" (or the bare token when `allow_bare`, as
 * the DMS swagger's "Enter the Generated Token" suggests). GW_OK when the token is live;
 * GW_EDENIED when the header is missing or not a bearer token; GW_ENOTFOUND for an unknown
 * token; GW_ETIMEOUT for an expired one; GW_EIO on a database failure (err filled). */
int gw_mockapim_auth_bearer(struct gw_mockapim_db *db, const struct gw_mockapim_req *req,
                            long long now, bool allow_bare, struct gw_error *err);

/* POST /oauth2/token (RFC 6749 section 4.4): form body grant_type=client_credentials with
 * client_id/client_secret in the body or HTTP Basic. Answers 200 {access_token, token_type,
 * expires_in, scope}, or RFC 6749 section 5.2 errors (400 invalid_request /
 * unsupported_grant_type, 401 invalid_client). Always GW_OK; the response says what happened. */
int gw_mockapim_auth_token(struct gw_mockapim_db *db, const struct gw_mockapim_auth_config *cfg,
                           const struct gw_mockapim_req *req, long long now,
                           struct gw_mockapim_resp *resp);

/* SHA-256 of s as 64 lower-case hex characters into out (>= 65 bytes). */
void gw_mockapim_auth_sha256_hex(const char *s, char *out);

#endif
