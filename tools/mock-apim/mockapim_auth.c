/*
 * tools/mock-apim/mockapim_auth.c
 * API keys, bearer tokens and the client-credentials token endpoint (see mockapim_auth.h).
 * Form bodies are decoded by libevent's evhttp_parse_query_str (no hand-written decoder);
 * Basic credentials by OpenSSL's EVP_DecodeBlock; digests and randomness by OpenSSL.
 */
#include "mockapim_auth.h"

#include "core/alloc.h"
#include "core/log.h"
#include "mockapim_db.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

/* Constant-time comparison of two secrets; empty never matches. */
static bool secret_eq(const char *a, const char *b)
{
    size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0;
    if (na != nb || na == 0)
        return false;
    return CRYPTO_memcmp(a, b, na) == 0;
}

bool gw_mockapim_auth_api_key_ok(const struct gw_mockapim_auth_config *cfg,
                                 const struct gw_mockapim_req *req)
{
    const char *k = gw_mockapim_req_header(req, "x-api-key");
    if (!k)
        k = gw_mockapim_req_header(req, "Ocp-Apim-Subscription-Key");
    return secret_eq(k, cfg->api_key);
}

void gw_mockapim_auth_sha256_hex(const char *s, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

int gw_mockapim_auth_bearer(struct gw_mockapim_db *db, const struct gw_mockapim_req *req,
                            long long now, bool allow_bare, struct gw_error *err)
{
    const char *h = gw_mockapim_req_header(req, "Authorization");
    const char *tok = NULL;
    char hash[65];
    if (!h)
        return GW_EDENIED;
    if (strncasecmp(h, "Bearer ", 7) == 0)
        tok = h + 7;
    else if (allow_bare && !strchr(h, ' '))
        tok = h;
    if (!tok)
        return GW_EDENIED;
    while (*tok == ' ')
        tok++;
    if (!*tok || strlen(tok) > 512)
        return GW_ENOTFOUND;
    gw_mockapim_auth_sha256_hex(tok, hash);
    return gw_mockapim_db_token_check(db, hash, now, err);
}

/* An RFC 6749 section 5.2 error response (never cached). */
static void oauth_error(struct gw_mockapim_resp *resp, int status, const char *code,
                        const char *desc)
{
    gw_mockapim_resp_json(resp, status,
                          json_pack("{s:s, s:s}", "error", code, "error_description", desc));
    gw_mockapim_resp_header(resp, "Cache-Control", "no-store");
    gw_mockapim_resp_header(resp, "Pragma", "no-cache");
}

/* Splits "Basic base64(id:secret)" into id and secret. False when absent or malformed. */
static bool basic_credentials(const char *h, char *id, size_t id_cap, char *secret,
                              size_t secret_cap)
{
    unsigned char dec[512];
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    const char *b64 = h + 6;
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n / 4 * 3 >= sizeof(dec))
        return false;
    int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return false;
    /* EVP_DecodeBlock counts padding bytes as output: drop them. */
    while (n > 0 && b64[--n] == '=' && len > 0)
        len--;
    dec[len] = '\0';
    char *colon = memchr(dec, ':', (size_t)len);
    if (!colon || memchr(dec, '\0', (size_t)len))
        return false;
    *colon = '\0';
    snprintf(id, id_cap, "%s", (char *)dec);
    snprintf(secret, secret_cap, "%s", colon + 1);
    OPENSSL_cleanse(dec, sizeof(dec));
    return true;
}

int gw_mockapim_auth_token(struct gw_mockapim_db *db, const struct gw_mockapim_auth_config *cfg,
                           const struct gw_mockapim_req *req, long long now,
                           struct gw_mockapim_resp *resp)
{
    struct evkeyvalq form;
    struct gw_error err = {0};
    char id[256] = "", secret[256] = "", *body = NULL;
    bool basic = false;
    TAILQ_INIT(&form);
    const char *ct = gw_mockapim_req_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        oauth_error(resp, 400, "invalid_request",
                    "send grant_type=client_credentials as application/x-www-form-urlencoded");
        goto out;
    }
    body = gw_xstrndup(req->body ? req->body : "", req->body_len);
    if (strlen(body) != req->body_len || evhttp_parse_query_str(body, &form) != 0) {
        oauth_error(resp, 400, "invalid_request", "the form body cannot be parsed");
        goto out;
    }
    const char *grant = evhttp_find_header(&form, "grant_type");
    if (!grant) {
        oauth_error(resp, 400, "invalid_request", "grant_type is required");
        goto out;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        oauth_error(resp, 400, "unsupported_grant_type",
                    "only grant_type=client_credentials is supported");
        goto out;
    }
    basic = basic_credentials(gw_mockapim_req_header(req, "Authorization"), id, sizeof(id),
                              secret, sizeof(secret));
    if (!basic) {
        const char *fid = evhttp_find_header(&form, "client_id");
        const char *fsec = evhttp_find_header(&form, "client_secret");
        snprintf(id, sizeof(id), "%s", fid ? fid : "");
        snprintf(secret, sizeof(secret), "%s", fsec ? fsec : "");
    }
    if (!secret_eq(id, cfg->client_id) || !secret_eq(secret, cfg->client_secret)) {
        oauth_error(resp, 401, "invalid_client", "unknown client or wrong client secret");
        if (basic)
            gw_mockapim_resp_header(resp, "WWW-Authenticate", "Basic realm=\"mock-apim\"");
        goto out;
    }
    unsigned char raw[32];
    char token[65], hash[65];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        oauth_error(resp, 500, "server_error", "no randomness available");
        goto out;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    gw_mockapim_auth_sha256_hex(token, hash);
    if (gw_mockapim_db_token_put(db, hash, id, now + cfg->token_ttl, now, GW_MOCKAPIM_TOKENS_MAX,
                                 &err) != GW_OK) {
        GW_LOG(GW_LOG_ERROR, "mock-apim", "storing a token failed: %s", err.msg);
        oauth_error(resp, 500, "server_error", "the token could not be stored");
        goto out;
    }
    gw_mockapim_resp_json(resp, 200,
                          json_pack("{s:s, s:s, s:i, s:s}", "access_token", token, "token_type",
                                    "Bearer", "expires_in", cfg->token_ttl, "scope", "apim"));
    gw_mockapim_resp_header(resp, "Cache-Control", "no-store");
    gw_mockapim_resp_header(resp, "Pragma", "no-cache");
    OPENSSL_cleanse(token, sizeof(token));
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    evhttp_clear_headers(&form);
    gw_free(body);
    return GW_OK;
}
