/*
 * src/auth/auth_apikey.c
 * API keys of service clients: mcpgw_<id>_<secret>, where id is 12 hex characters (public,
 * the lookup key) and secret 43 base64url characters (256 random bits). The store keeps only
 * the SHA-256 of the whole key; the gateway holds every live key in an immutable table sorted
 * by id (reloaded when keys change), so a check is a binary search, one hash and a
 * constant-time comparison, with no database access on the request path.
 * Use times are recorded in the table (an atomic per key) and written to the store in batches
 * by the authenticator's thread (gw_auth__apikeys_flush).
 */
#include "auth/auth_internal.h"

#include "core/alloc.h"
#include "core/b64.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store_apikey.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_LEN 12
#define SECRET_LEN 43
#define KEY_LEN (sizeof(GW_APIKEY_PREFIX) - 1 + ID_LEN + 1 + SECRET_LEN)

struct key {
    char id[ID_LEN + 1];
    unsigned char hash[32];
    struct gw_principal *p;
    int64_t expires_at; /* 0 = never */
    _Atomic int64_t used_at;
    int64_t flushed_at;
};

struct apikey_table {
    atomic_int refs;
    size_t n;
    struct key keys[];
};

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return GW_EINVAL;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return GW_EINVAL;
        out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return GW_OK;
}

void gw_apikey_generate(char out_key[GW_APIKEY_MAX], char out_id[24], char out_hash[65])
{
    unsigned char idb[ID_LEN / 2], secret[32], md[32];
    if (RAND_bytes(idb, sizeof(idb)) != 1 || RAND_bytes(secret, sizeof(secret)) != 1)
        abort(); /* no randomness: never hand out a guessable key */
    char sec[64];
    hex(idb, sizeof(idb), out_id);
    gw_b64url_encode(secret, sizeof(secret), sec);
    snprintf(out_key, GW_APIKEY_MAX, GW_APIKEY_PREFIX "%s_%s", out_id, sec);
    SHA256((const unsigned char *)out_key, strlen(out_key), md);
    hex(md, sizeof(md), out_hash);
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(sec, sizeof(sec));
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct key *)a)->id, ((const struct key *)b)->id);
}

struct apikey_table *gw_auth__apikeys_build(const json_t *rows)
{
    size_t n = json_array_size(rows);
    struct apikey_table *t = gw_xcalloc(1, sizeof(*t) + n * sizeof(struct key));
    atomic_init(&t->refs, 1);
    size_t i;
    json_t *row;
    json_array_foreach((json_t *)rows, i, row)
    {
        struct key *k = &t->keys[t->n];
        const char *id = json_string_value(json_object_get(row, "id"));
        const char *exp = json_string_value(json_object_get(row, "expires_at"));
        const char *used = json_string_value(json_object_get(row, "last_used_at"));
        if (!id || strlen(id) != ID_LEN ||
            unhex(json_string_value(json_object_get(row, "hash")), k->hash, 32) != GW_OK ||
            (exp && gw_clock_parse_iso(exp, &k->expires_at) != GW_OK)) {
            GW_LOG(GW_LOG_WARN, "auth", "api key %s: unusable row skipped", id ? id : "?");
            continue;
        }
        memcpy(k->id, id, ID_LEN + 1);
        const char *roles[GW_PRINCIPAL_MAX_ROLES];
        size_t nroles = 0, j;
        json_t *r;
        json_array_foreach(json_object_get(row, "roles"), j, r)
        {
            if (nroles < GW_PRINCIPAL_MAX_ROLES && json_is_string(r))
                roles[nroles++] = json_string_value(r);
        }
        const char *client = json_string_value(json_object_get(row, "client_id"));
        struct gw_principal_init in = {
            .method = GW_AUTH_API_KEY,
            .subject = json_string_value(json_object_get(row, "subject")),
            .client_id = client && *client ? client : id,
            .tenant = json_string_value(json_object_get(row, "tenant")),
            .key_id = id,
            .name = json_string_value(json_object_get(row, "name")),
            .roles = roles,
            .nroles = nroles,
            .claims = json_object_get(row, "claims"),
            .expires_at = k->expires_at};
        k->p = gw_principal_new(&in);
        if (!k->p) {
            GW_LOG(GW_LOG_WARN, "auth", "api key %s: values too long; skipped", id);
            continue;
        }
        int64_t u = 0;
        if (used)
            gw_clock_parse_iso(used, &u);
        atomic_init(&k->used_at, u);
        k->flushed_at = u;
        t->n++;
    }
    qsort(t->keys, t->n, sizeof(struct key), cmp_key);
    return t;
}

struct apikey_table *gw_auth__apikeys_ref(struct apikey_table *t)
{
    if (t)
        atomic_fetch_add(&t->refs, 1);
    return t;
}

void gw_auth__apikeys_unref(struct apikey_table *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    for (size_t i = 0; i < t->n; i++)
        gw_principal_unref(t->keys[i].p);
    gw_free(t);
}

size_t gw_auth__apikeys_count(const struct apikey_table *t)
{
    return t ? t->n : 0;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

int gw_auth__apikey_check(struct apikey_table *t, const char *key, int64_t now,
                          struct gw_principal **out, char why[200])
{
    *out = NULL;
    size_t plen = sizeof(GW_APIKEY_PREFIX) - 1;
    size_t n = strnlen(key, KEY_LEN + 1);
    bool shape = n == KEY_LEN && strncmp(key, GW_APIKEY_PREFIX, plen) == 0 &&
                 key[plen + ID_LEN] == '_';
    for (size_t i = 0; shape && i < ID_LEN; i++) {
        char c = key[plen + i];
        shape = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }
    for (size_t i = plen + ID_LEN + 1; shape && i < n; i++)
        shape = b64url_char(key[i]);
    if (!shape) {
        snprintf(why, 200, "malformed API key");
        return GW_EDENIED;
    }
    struct key probe;
    memcpy(probe.id, key + plen, ID_LEN);
    probe.id[ID_LEN] = '\0';
    struct key *k = t ? bsearch(&probe, t->keys, t->n, sizeof(struct key), cmp_key) : NULL;
    unsigned char md[32];
    SHA256((const unsigned char *)key, n, md);
    if (!k || CRYPTO_memcmp(md, k->hash, 32) != 0) {
        snprintf(why, 200, "unknown or revoked API key");
        return GW_EDENIED;
    }
    if (k->expires_at && now >= k->expires_at) {
        snprintf(why, 200, "the API key has expired");
        return GW_EDENIED;
    }
    atomic_store(&k->used_at, now);
    *out = gw_principal_ref(k->p);
    return GW_OK;
}

void gw_auth__apikeys_flush(struct apikey_table *t, struct gw_store *st)
{
    for (size_t i = 0; t && i < t->n; i++) {
        struct key *k = &t->keys[i];
        int64_t used = atomic_load(&k->used_at);
        if (used <= k->flushed_at)
            continue;
        char when[32];
        struct gw_error err = {0};
        if (gw_store_apikey_touch(st, k->id, gw_clock_iso(used, when, sizeof(when)), &err) !=
            GW_OK) {
            GW_LOG(GW_LOG_WARN, "auth", "recording the use of api key %s: %s", k->id, err.msg);
            return; /* try again at the next flush */
        }
        k->flushed_at = used;
    }
}

int gw_apikey_create(struct gw_store *st, const json_t *spec, const char *actor, json_t **out,
                     struct gw_error *err)
{
    *out = NULL;
    if (!json_is_object(spec))
        return GW_ERROR_SET(err, GW_EINVAL, "an API key needs a JSON object");
    static const char *const allowed[] = {"name",   "subject",    "roles",      "client_id",
                                          "tenant", "expires_at", "ttl_seconds", "claims"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)spec, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            ok = ok || strcmp(allowed[i], k) == 0;
        if (!ok)
            return GW_ERROR_SET(err, GW_EINVAL, "api key: unknown field \"%.40s\"", k);
    }
    json_t *row = json_deep_copy(spec);
    json_object_del(row, "ttl_seconds");
    json_t *ttl = json_object_get(spec, "ttl_seconds");
    const char *exp = json_string_value(json_object_get(spec, "expires_at"));
    int64_t t = 0;
    char when[32];
    if (ttl && (!json_is_integer(ttl) || json_integer_value(ttl) <= 0 ||
                json_integer_value(ttl) > 10LL * 366 * 86400)) {
        json_decref(row);
        return GW_ERROR_SET(err, GW_EINVAL, "api key: ttl_seconds must be 1..%lld",
                            10LL * 366 * 86400);
    }
    if (ttl && exp) {
        json_decref(row);
        return GW_ERROR_SET(err, GW_EINVAL, "api key: give expires_at or ttl_seconds, not both");
    }
    if (ttl)
        json_object_set_new(row, "expires_at",
                            json_string(gw_clock_iso(gw_clock_now() + json_integer_value(ttl),
                                                     when, sizeof(when))));
    else if (exp && (gw_clock_parse_iso(exp, &t) != GW_OK || t <= gw_clock_now())) {
        json_decref(row);
        return GW_ERROR_SET(err, GW_EINVAL,
                            "api key: expires_at must be a future time like "
                            "2026-12-31T00:00:00Z");
    }
    char key[GW_APIKEY_MAX], id[24], hash[65];
    gw_apikey_generate(key, id, hash);
    json_object_set_new(row, "id", json_string(id));
    json_object_set_new(row, "hash", json_string(hash));
    struct gw_store_actor who = {actor, NULL};
    int rc = gw_store_apikey_create(st, row, &who, err);
    json_decref(row);
    if (rc == GW_OK)
        rc = gw_store_apikey_get(st, id, out, err);
    if (rc == GW_OK)
        json_object_set_new(*out, "key", json_string(key));
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}
