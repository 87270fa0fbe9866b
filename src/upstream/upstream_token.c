/*
 * src/upstream/upstream_token.c
 * Token cache entry state (mutex) and the client-credentials wire format.
 *
 * State of one entry: token (maybe NULL) + expiry, `fetching` (a fetcher exists), `gen`
 * (bumped whenever a fetch ends: stored or failed), the last failure (message + time).
 *   acquire: valid token            -> READY (+ refresh duty if in the margin and no fetcher)
 *            fetching               -> WAIT
 *            failed after seen_gen,
 *            or within the back-off -> FAILED
 *            otherwise              -> FETCH (caller becomes the fetcher)
 * Invariant: `fetching` is true exactly while one caller holds the fetch duty; that caller
 * always ends it with store, fail or abandon.
 */
#include "upstream/upstream_token.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"
#include "core/str.h"
#include "upstream/upstream_request.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct gw_upstream_token {
    pthread_mutex_t mu;
    char *token;
    uint64_t expires_at, refresh_at;
    bool fetching;
    uint64_t gen;
    bool last_failed;
    uint64_t failed_at;
    char last_error[200];
    uint64_t refresh_margin_ms, fail_backoff_ms;
    uint64_t fetches, failures;
};

void gw_upstream_token_wipe(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    gw_free(s);
}

struct gw_upstream_token *gw_upstream_token_new(uint64_t refresh_margin_ms,
                                                uint64_t fail_backoff_ms)
{
    struct gw_upstream_token *t = gw_xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->refresh_margin_ms = refresh_margin_ms;
    t->fail_backoff_ms = fail_backoff_ms;
    t->gen = 1;
    return t;
}

void gw_upstream_token_free(struct gw_upstream_token *t)
{
    if (!t)
        return;
    gw_upstream_token_wipe(t->token);
    pthread_mutex_destroy(&t->mu);
    gw_free(t);
}

enum gw_token_verdict gw_upstream_token_acquire(struct gw_upstream_token *t, uint64_t now_ms,
                                                uint64_t seen_gen, char **out_token,
                                                bool *out_refresh, uint64_t *out_gen,
                                                char *errbuf, size_t errlen)
{
    enum gw_token_verdict v;
    *out_token = NULL;
    *out_refresh = false;
    pthread_mutex_lock(&t->mu);
    *out_gen = t->gen;
    if (t->token && now_ms < t->expires_at) {
        *out_token = gw_xstrdup(t->token);
        if (now_ms >= t->refresh_at && !t->fetching) {
            t->fetching = true;
            t->fetches++;
            *out_refresh = true;
        }
        v = GW_TOKEN_READY;
    } else if (t->fetching) {
        v = GW_TOKEN_WAIT;
    } else if (t->last_failed &&
               ((seen_gen && t->gen > seen_gen) || now_ms < t->failed_at + t->fail_backoff_ms)) {
        snprintf(errbuf, errlen, "%s", t->last_error);
        v = GW_TOKEN_FAILED;
    } else {
        t->fetching = true;
        t->fetches++;
        v = GW_TOKEN_FETCH;
    }
    pthread_mutex_unlock(&t->mu);
    return v;
}

void gw_upstream_token_store(struct gw_upstream_token *t, const char *token, long expires_in_s,
                             uint64_t now_ms)
{
    char *copy = gw_xstrdup(token);
    uint64_t life = (uint64_t)(expires_in_s > 0 ? expires_in_s : 300) * 1000u;
    uint64_t margin = t->refresh_margin_ms < life / 2 ? t->refresh_margin_ms : life / 2;
    pthread_mutex_lock(&t->mu);
    char *old = t->token;
    t->token = copy;
    t->expires_at = now_ms + life;
    t->refresh_at = t->expires_at - margin;
    t->fetching = false;
    t->last_failed = false;
    t->gen++;
    pthread_mutex_unlock(&t->mu);
    gw_upstream_token_wipe(old);
}

void gw_upstream_token_fail(struct gw_upstream_token *t, const char *msg, uint64_t now_ms)
{
    pthread_mutex_lock(&t->mu);
    t->fetching = false;
    t->last_failed = true;
    t->failed_at = now_ms;
    t->failures++;
    snprintf(t->last_error, sizeof(t->last_error), "%s", msg);
    t->gen++;
    pthread_mutex_unlock(&t->mu);
}

void gw_upstream_token_abandon(struct gw_upstream_token *t)
{
    pthread_mutex_lock(&t->mu);
    t->fetching = false;
    pthread_mutex_unlock(&t->mu);
}

void gw_upstream_token_invalidate(struct gw_upstream_token *t, const char *used)
{
    char *old = NULL;
    pthread_mutex_lock(&t->mu);
    if (t->token && used && strcmp(t->token, used) == 0) {
        old = t->token;
        t->token = NULL;
        t->expires_at = 0;
    }
    pthread_mutex_unlock(&t->mu);
    gw_upstream_token_wipe(old);
}

char *gw_upstream_token_peek(struct gw_upstream_token *t)
{
    pthread_mutex_lock(&t->mu);
    char *c = t->token ? gw_xstrdup(t->token) : NULL;
    pthread_mutex_unlock(&t->mu);
    return c;
}

uint64_t gw_upstream_token_fetches(struct gw_upstream_token *t)
{
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->fetches;
    pthread_mutex_unlock(&t->mu);
    return n;
}

uint64_t gw_upstream_token_failures(struct gw_upstream_token *t)
{
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->failures;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static int form_pair(struct gw_buf *out, const char *k, const char *v)
{
    int rc = gw_buf_len(out) ? gw_buf_addc(out, '&') : GW_OK;
    if (rc == GW_OK)
        rc = gw_upstream_pct_encode(out, k, strlen(k), NULL);
    if (rc == GW_OK)
        rc = gw_buf_addc(out, '=');
    if (rc == GW_OK)
        rc = gw_upstream_pct_encode(out, v, strlen(v), NULL);
    return rc;
}

int gw_upstream_token_body(struct gw_buf *out, const char *scope, const char *audience,
                           bool creds_in_body, const char *client_id, const char *client_secret)
{
    int rc = form_pair(out, "grant_type", "client_credentials");
    if (rc == GW_OK && scope && *scope)
        rc = form_pair(out, "scope", scope);
    if (rc == GW_OK && audience && *audience)
        rc = form_pair(out, "audience", audience);
    if (rc == GW_OK && creds_in_body) {
        rc = form_pair(out, "client_id", client_id ? client_id : "");
        if (rc == GW_OK)
            rc = form_pair(out, "client_secret", client_secret ? client_secret : "");
    }
    return rc;
}

static bool safe_code(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

int gw_upstream_token_parse(long http_status, const char *body, size_t len, char **out_token,
                            long *out_expires_in, char *errbuf, size_t errlen)
{
    *out_token = NULL;
    *out_expires_in = 0;
    struct gw_json_limits lim = {65536, 16};
    json_t *doc = gw_json_parse(body, len, &lim, NULL);
    const char *code = gw_json_str(doc, "error");
    int rc = GW_EUPSTREAM;
    if (http_status < 200 || http_status > 299) {
        snprintf(errbuf, errlen, "token endpoint answered HTTP %ld%s%s%s", http_status,
                 safe_code(code) ? " (" : "", safe_code(code) ? code : "",
                 safe_code(code) ? ")" : "");
        goto out;
    }
    const char *tok = gw_json_str(doc, "access_token");
    if (!tok || !*tok || strlen(tok) > 16384) {
        snprintf(errbuf, errlen, "token endpoint response has no usable access_token");
        goto out;
    }
    for (const char *p = tok; *p; p++) {
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
            snprintf(errbuf, errlen, "token endpoint returned a malformed access_token");
            goto out;
        }
    }
    const char *type = gw_json_str(doc, "token_type");
    if (type && strcasecmp(type, "bearer") != 0) {
        snprintf(errbuf, errlen, "token endpoint returned token_type other than Bearer");
        goto out;
    }
    json_t *exp = json_object_get(doc, "expires_in");
    if (json_is_integer(exp))
        *out_expires_in = (long)json_integer_value(exp);
    else if (json_is_string(exp)) {
        unsigned long long secs = 0;
        if (gw_str_to_u64(gw_str_c(json_string_value(exp)), &secs) == GW_OK && secs < 100000000)
            *out_expires_in = (long)secs;
    }
    *out_token = gw_xstrdup(tok);
    rc = GW_OK;
out:
    json_decref(doc);
    return rc;
}
