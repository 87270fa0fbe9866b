/*
 * tests/unit/mcp/test_session.c
 * Signed session ids (mcp/mcp_session.h): issue/verify round trip with the claims; the id is
 * 52 characters of [A-Za-z0-9_-] (visible ASCII); every single-character change anywhere, any
 * truncation or extension, and a key from another secret make it "not found"; two replicas with
 * the same secret accept each other's ids; expiry, unknown versions and formats are checked on
 * tokens this test signs itself with the documented format (so no sleeping is needed), plus
 * one real 1-second TTL run; terminate makes an id dead for good; 10,000 ids are unique; log
 * level and subscription state are per session; concurrent use from several threads; the
 * sealed request state of 2026-07-28 round-trips across replicas and refuses any alteration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/b64.h"
#include "core/json.h"
#include "mcp/mcp_session.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static void test_round_trip(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("secret-one", 3600);
    struct gw_session_claims c, v;
    uint64_t before = (uint64_t)time(NULL);
    gw_session_issue(s, GW_MCP_V_2025_06_18, GW_CAP_SAMPLING | GW_CAP_ROOTS, NULL, &c);
    assert_int_equal(c.version, GW_MCP_V_2025_06_18);
    assert_int_equal(c.caps, GW_CAP_SAMPLING | GW_CAP_ROOTS);
    assert_true(c.issued_at >= before && c.issued_at <= (uint64_t)time(NULL));
    assert_int_equal(strlen(c.id), 52);
    for (size_t i = 0; i < 52; i++) {
        assert_true(url_char(c.id[i]));
        assert_true(c.id[i] >= 0x21 && c.id[i] <= 0x7e);
    }
    memset(&v, 0, sizeof(v));
    assert_int_equal(gw_session_verify(s, c.id, NULL, &v), GW_OK);
    assert_int_equal(v.version, GW_MCP_V_2025_06_18);
    assert_int_equal(v.caps, GW_CAP_SAMPLING | GW_CAP_ROOTS);
    assert_int_equal(v.issued_at, c.issued_at);
    assert_string_equal(v.id, c.id);
    /* every legacy version and all capability bits survive */
    for (int ver = GW_MCP_V_2024_11_05; ver <= GW_MCP_V_2025_11_25; ver++) {
        gw_session_issue(s, (enum gw_mcp_version)ver, 0xff, NULL, &c);
        assert_int_equal(gw_session_verify(s, c.id, NULL, &v), GW_OK);
        assert_int_equal(v.version, ver);
        assert_int_equal(v.caps, 0xff);
    }
    /* decode without verification sees the same claims */
    assert_int_equal(gw_session__decode(c.id, &v), GW_OK);
    assert_int_equal(v.version, GW_MCP_V_2025_11_25);
    gw_sessions_free(s);
    gw_sessions_free(NULL);
}

static void test_tampering(void **state)
{
    (void)state;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct gw_sessions *s = gw_sessions_new("tamper", 3600);
    struct gw_session_claims c, v;
    gw_session_issue(s, GW_MCP_V_2025_11_25, GW_CAP_ELICITATION, NULL, &c);
    char id[GW_SESSION_ID_MAX];
    int tried = 0;
    for (size_t pos = 0; pos < 52; pos++) {
        for (size_t k = 0; k < 64; k++) {
            if (alphabet[k] == c.id[pos])
                continue;
            memcpy(id, c.id, sizeof(id));
            id[pos] = alphabet[k];
            if (gw_session_verify(s, id, NULL, &v) != GW_ENOTFOUND)
                fail_msg("changing position %zu to '%c' still verifies: %s", pos, alphabet[k], id);
            tried++;
        }
        /* characters outside the alphabet */
        static const char other[] = "+/=.~ !\"%";
        for (size_t k = 0; k < sizeof(other) - 1; k++) {
            memcpy(id, c.id, sizeof(id));
            id[pos] = other[k];
            assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
        }
    }
    assert_int_equal(tried, 52 * 63);
    /* truncated, extended, empty, NULL */
    memcpy(id, c.id, sizeof(id));
    id[51] = '\0';
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    char longer[80];
    snprintf(longer, sizeof(longer), "%sA", c.id);
    assert_int_equal(gw_session_verify(s, longer, NULL, &v), GW_ENOTFOUND);
    snprintf(longer, sizeof(longer), "%sAAAA", c.id);
    assert_int_equal(gw_session_verify(s, longer, NULL, &v), GW_ENOTFOUND);
    snprintf(longer, sizeof(longer), " %s", c.id);
    assert_int_equal(gw_session_verify(s, longer, NULL, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(s, "", NULL, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(s, NULL, NULL, &v), GW_ENOTFOUND);
    /* the original is still fine */
    assert_int_equal(gw_session_verify(s, c.id, NULL, &v), GW_OK);
    gw_sessions_free(s);
}

static void test_secrets(void **state)
{
    (void)state;
    struct gw_sessions *a = gw_sessions_new("shared-secret", 3600);
    struct gw_sessions *b = gw_sessions_new("shared-secret", 3600);
    struct gw_sessions *other = gw_sessions_new("another-secret", 3600);
    struct gw_sessions *r1 = gw_sessions_new(NULL, 3600);
    struct gw_sessions *r2 = gw_sessions_new("", 3600);
    struct gw_session_claims c, v;
    gw_session_issue(a, GW_MCP_V_2025_11_25, 0, NULL, &c);
    /* replicas with the same secret accept each other's ids */
    assert_int_equal(gw_session_verify(b, c.id, NULL, &v), GW_OK);
    assert_int_equal(gw_session_verify(other, c.id, NULL, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(r1, c.id, NULL, &v), GW_ENOTFOUND);
    /* random per-process keys differ from each other */
    gw_session_issue(r1, GW_MCP_V_2025_11_25, 0, NULL, &c);
    assert_int_equal(gw_session_verify(r1, c.id, NULL, &v), GW_OK);
    assert_int_equal(gw_session_verify(r2, c.id, NULL, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(a, c.id, NULL, &v), GW_ENOTFOUND);
    gw_sessions_free(a);
    gw_sessions_free(b);
    gw_sessions_free(other);
    gw_sessions_free(r1);
    gw_sessions_free(r2);
}

/* Signs a token in the documented format: base64url(payload || HMAC-SHA256(SHA256(secret),
 * payload)[0..16]) with payload = format | version | caps | issued-at (8, BE) | nonce (12). */
static void forge(const char *secret, uint8_t format, uint8_t version, uint8_t caps,
                  uint64_t issued_at, char out[GW_SESSION_ID_MAX])
{
    unsigned char key[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)secret, strlen(secret), key);
    unsigned char buf[39];
    buf[0] = format;
    buf[1] = version;
    buf[2] = caps;
    for (int i = 0; i < 8; i++)
        buf[3 + i] = (unsigned char)(issued_at >> (56 - 8 * i));
    for (int i = 0; i < 12; i++)
        buf[11 + i] = (unsigned char)(rand() & 0xff);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, sizeof(key), buf, 23, mac, &n);
    memcpy(buf + 23, mac, 16);
    gw_b64url_encode(buf, sizeof(buf), out);
}

/* A session is bound to the principal that initialized it: the same id presented by anyone
 * else (another binding, or none) does not verify, nor can they terminate it. */
static void test_principal_binding(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("binding-secret", 600);
    struct gw_session_claims c, v;
    const char *alice = "0123456789abcdef0123456789abcdef";
    const char *mallory = "fedcba9876543210fedcba9876543210";
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, alice, &c);
    assert_int_equal(strlen(c.id), 52);
    assert_int_equal(gw_session_verify(s, c.id, alice, &v), GW_OK);
    assert_int_equal(gw_session_verify(s, c.id, mallory, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(s, c.id, NULL, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(s, c.id, "", &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_terminate(s, c.id, mallory), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(s, c.id, alice, &v), GW_OK); /* still alive */
    /* an unbound session is not usable by a principal either */
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &c);
    assert_int_equal(gw_session_verify(s, c.id, alice, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(s, c.id, "", &v), GW_OK);
    gw_sessions_free(s);
}

static void test_crafted_claims(void **state)
{
    (void)state;
    const char *secret = "crafting-secret";
    struct gw_sessions *s = gw_sessions_new(secret, 600);
    struct gw_session_claims v;
    char id[GW_SESSION_ID_MAX];
    uint64_t now = (uint64_t)time(NULL);
    /* the forger is right: a fresh token verifies (so the refusals below mean something) */
    forge(secret, 2, GW_MCP_V_2025_11_25, 3, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_OK);
    assert_int_equal(v.caps, 3);
    /* expiry: issued-at + TTL */
    forge(secret, 2, GW_MCP_V_2025_11_25, 0, now - 590, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_OK);
    forge(secret, 2, GW_MCP_V_2025_11_25, 0, now - 610, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    forge(secret, 2, GW_MCP_V_2025_11_25, 0, 0, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    /* issued-at so large that issued-at + TTL wraps around: expired, not eternal */
    forge(secret, 2, GW_MCP_V_2025_11_25, 0, UINT64_MAX - 10, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    /* versions: unknown, modern (no sessions in 2026-07-28), out of range */
    forge(secret, 2, GW_MCP_V_UNKNOWN, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    forge(secret, 2, GW_MCP_V_2026_07_28, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    forge(secret, 2, 200, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    /* unknown format byte (1: ids from before sessions were bound to principals) */
    forge(secret, 9, GW_MCP_V_2025_11_25, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    forge(secret, 0, GW_MCP_V_2025_11_25, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    forge(secret, 1, GW_MCP_V_2025_11_25, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    /* right format, wrong key */
    forge("not-the-secret", 2, GW_MCP_V_2025_11_25, 0, now, id);
    assert_int_equal(gw_session_verify(s, id, NULL, &v), GW_ENOTFOUND);
    gw_sessions_free(s);
}

static void test_real_expiry(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("ttl", 1);
    struct gw_session_claims c, v;
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &c);
    assert_int_equal(gw_session_verify(s, c.id, NULL, &v), GW_OK);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = GW_OK;
    double waited = 0;
    while (rc == GW_OK && waited < 4.0) {
        usleep(100 * 1000);
        rc = gw_session_verify(s, c.id, NULL, &v);
        clock_gettime(CLOCK_MONOTONIC, &t);
        waited = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
    }
    assert_int_equal(rc, GW_ENOTFOUND);
    assert_true(waited >= 0.9); /* not before the TTL */
    gw_sessions_free(s);
}

static void test_terminate(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("term", 3600);
    struct gw_session_claims a, b, v;
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &a);
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &b);
    assert_int_equal(gw_session_terminate(s, a.id, NULL), GW_OK);
    assert_int_equal(gw_session_verify(s, a.id, NULL, &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_terminate(s, a.id, NULL), GW_ENOTFOUND); /* already dead */
    assert_int_equal(gw_session_verify(s, b.id, NULL, &v), GW_OK);       /* others live on */
    assert_int_equal(gw_session_terminate(s, "forged-id", NULL), GW_ENOTFOUND);
    assert_int_equal(gw_session_terminate(s, NULL, NULL), GW_ENOTFOUND);
    /* state set before termination does not resurrect it */
    gw_session_set_log_level(s, b.id, 2);
    assert_int_equal(gw_session_terminate(s, b.id, NULL), GW_OK);
    assert_int_equal(gw_session_verify(s, b.id, NULL, &v), GW_ENOTFOUND);
    gw_sessions_free(s);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

static void test_uniqueness(void **state)
{
    (void)state;
    enum { N = 10000 };
    struct gw_sessions *s = gw_sessions_new("uniq", 3600);
    char (*ids)[GW_SESSION_ID_MAX] = gw_xcalloc(N, GW_SESSION_ID_MAX);
    struct gw_session_claims c;
    for (int i = 0; i < N; i++) {
        gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &c);
        memcpy(ids[i], c.id, GW_SESSION_ID_MAX);
    }
    qsort(ids, N, GW_SESSION_ID_MAX, cmp_str);
    for (int i = 1; i < N; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("duplicate session id %s", ids[i]);
    gw_free(ids);
    gw_sessions_free(s);
}

static void test_log_level_and_subscriptions(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("state", 3600);
    struct gw_session_claims a, b;
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &a);
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, NULL, &b);
    assert_int_equal(gw_session_log_level(s, a.id), -1);
    gw_session_set_log_level(s, a.id, 3);
    assert_int_equal(gw_session_log_level(s, a.id), 3);
    assert_int_equal(gw_session_log_level(s, b.id), -1);
    gw_session_set_log_level(s, a.id, 0);
    assert_int_equal(gw_session_log_level(s, a.id), 0);

    assert_false(gw_session_subscribed(s, a.id, "test://static-text"));
    gw_session_subscribe(s, a.id, "test://static-text", true);
    gw_session_subscribe(s, a.id, "test://static-text", true); /* idempotent */
    gw_session_subscribe(s, a.id, "test://other", true);
    assert_true(gw_session_subscribed(s, a.id, "test://static-text"));
    assert_true(gw_session_subscribed(s, a.id, "test://other"));
    assert_false(gw_session_subscribed(s, b.id, "test://static-text"));
    assert_false(gw_session_subscribed(s, a.id, "test://static"));
    gw_session_subscribe(s, a.id, "test://static-text", false);
    assert_false(gw_session_subscribed(s, a.id, "test://static-text"));
    assert_true(gw_session_subscribed(s, a.id, "test://other"));
    gw_session_subscribe(s, a.id, "test://never", false); /* unsubscribing unknown: no-op */
    assert_int_equal(gw_session_log_level(s, a.id), 0);   /* other state kept */
    /* many subscriptions: bounded, no crash, still answers */
    char uri[64];
    for (int i = 0; i < 500; i++) {
        snprintf(uri, sizeof(uri), "test://many/%d", i);
        gw_session_subscribe(s, b.id, uri, true);
    }
    assert_true(gw_session_subscribed(s, b.id, "test://many/0"));
    gw_sessions_free(s);
}

/* ---- sealed request state (2026-07-28 requestState) ---- */

static void test_seal_round_trip(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("seal-secret", 3600);
    json_t *st = json_pack("{s:s,s:i,s:[s,s]}", "tool", "t", "step", 2, "seen", "a", "b");
    char *sealed = gw_sessions_seal(s, st);
    assert_non_null(sealed);
    for (const char *p = sealed; *p; p++)
        assert_true(url_char(*p) || *p == '.');
    json_t *back = gw_sessions_unseal(s, sealed);
    assert_non_null(back);
    assert_true(json_equal(back, st));
    json_decref(back);
    /* another replica with the same secret opens it; another secret does not */
    struct gw_sessions *same = gw_sessions_new("seal-secret", 3600);
    struct gw_sessions *other = gw_sessions_new("other-secret", 3600);
    back = gw_sessions_unseal(same, sealed);
    assert_non_null(back);
    json_decref(back);
    assert_null(gw_sessions_unseal(other, sealed));
    gw_sessions_free(same);
    gw_sessions_free(other);
    json_decref(st);
    gw_free(sealed);
    gw_sessions_free(s);
}

static void test_seal_tampering(void **state)
{
    (void)state;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct gw_sessions *s = gw_sessions_new("seal-secret", 3600);
    json_t *st = json_pack("{s:s,s:b}", "step", "confirm", "admin", 0);
    char *sealed = gw_sessions_seal(s, st);
    size_t n = strlen(sealed);
    char *copy = gw_xmalloc(n + 8);
    /* every single-character change anywhere is refused */
    for (size_t pos = 0; pos < n; pos++) {
        if (sealed[pos] == '.')
            continue;
        for (size_t k = 0; k < 64; k += 7) {
            if (alphabet[k] == sealed[pos])
                continue;
            memcpy(copy, sealed, n + 1);
            copy[pos] = alphabet[k];
            json_t *v = gw_sessions_unseal(s, copy);
            if (v) {
                char *d = gw_json_dumps(v);
                fail_msg("changing position %zu to '%c' still opens: %s", pos, alphabet[k], d);
            }
        }
    }
    /* truncation, extension, no dot, empty, NULL, a forged payload with a MAC from elsewhere */
    memcpy(copy, sealed, n + 1);
    copy[n - 1] = '\0';
    assert_null(gw_sessions_unseal(s, copy));
    snprintf(copy, n + 8, "%sA", sealed);
    assert_null(gw_sessions_unseal(s, copy));
    snprintf(copy, n + 8, "%s==", sealed);
    assert_null(gw_sessions_unseal(s, copy));
    assert_null(gw_sessions_unseal(s, "no-dot-here"));
    assert_null(gw_sessions_unseal(s, ""));
    assert_null(gw_sessions_unseal(s, "."));
    assert_null(gw_sessions_unseal(s, NULL));
    json_t *evil = json_pack("{s:s,s:b}", "step", "confirm", "admin", 1);
    char *other = gw_sessions_seal(s, evil);
    const char *dot_a = strchr(sealed, '.'), *dot_b = strchr(other, '.');
    char spliced[1024];
    snprintf(spliced, sizeof(spliced), "%.*s%s", (int)(dot_b - other), other, dot_a);
    assert_null(gw_sessions_unseal(s, spliced));
    /* oversized input is refused without work */
    char *huge = gw_xmalloc(20000);
    memset(huge, 'A', 19999);
    huge[19999] = '\0';
    huge[100] = '.';
    assert_null(gw_sessions_unseal(s, huge));
    gw_free(huge);
    gw_free(other);
    json_decref(evil);
    gw_free(copy);
    gw_free(sealed);
    json_decref(st);
    gw_sessions_free(s);
}

struct worker_arg {
    struct gw_sessions *s;
    int failures;
};

static void *worker(void *p)
{
    struct worker_arg *w = p;
    struct gw_session_claims c, v;
    for (int i = 0; i < 2000; i++) {
        gw_session_issue(w->s, GW_MCP_V_2025_03_26, (uint8_t)i, NULL, &c);
        if (gw_session_verify(w->s, c.id, NULL, &v) != GW_OK || v.caps != (uint8_t)i)
            w->failures++;
        gw_session_set_log_level(w->s, c.id, i % 8);
        if (gw_session_log_level(w->s, c.id) != i % 8)
            w->failures++;
        if (i % 3 == 0) {
            gw_session_terminate(w->s, c.id, NULL);
            if (gw_session_verify(w->s, c.id, NULL, &v) != GW_ENOTFOUND)
                w->failures++;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct gw_sessions *s = gw_sessions_new("threads", 3600);
    pthread_t t[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){s, 0};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    gw_sessions_free(s);
}

int main(void)
{
    srand((unsigned)time(NULL));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_crafted_claims),
        cmocka_unit_test(test_principal_binding),
        cmocka_unit_test(test_real_expiry),
        cmocka_unit_test(test_terminate),
        cmocka_unit_test(test_uniqueness),
        cmocka_unit_test(test_log_level_and_subscriptions),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_seal_round_trip),
        cmocka_unit_test(test_seal_tampering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
