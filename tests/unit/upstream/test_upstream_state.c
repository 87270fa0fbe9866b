/*
 * tests/unit/upstream/test_upstream_state.c
 * The shared state machines with an explicit clock: circuit breaker (consecutive and ratio
 * rules, 4xx not counted, half-open single probe, neutral probe, recovery), idempotency store
 * (new/replay/mismatch/in-flight/abort/TTL/capacity), GET cache (TTL, LRU by entries and bytes),
 * token cache (single flight, refresh margin, failure back-off, invalidate only the used token),
 * and the client-credentials wire format. Includes a multi-thread single-flight check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "upstream/upstream_breaker.h"
#include "upstream/upstream_cache.h"
#include "upstream/upstream_idem.h"
#include "upstream/upstream_token.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static void test_breaker_consecutive(void **state)
{
    (void)state;
    struct gw_breaker_conf conf = {3, 0, 60000, 10, 1000};
    struct gw_breaker *b = gw_upstream_breaker_new("svc", &conf);
    bool probe;
    uint64_t retry;
    uint64_t t = 1000000;
    /* 4xx are successes for the breaker: failures must be consecutive */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gw_upstream_breaker_acquire(b, t, &probe, &retry), GW_OK);
        gw_upstream_breaker_release(b, probe, GW_BREAKER_FAILURE, t);
    }
    assert_int_equal(gw_upstream_breaker_acquire(b, t, &probe, &retry), GW_OK);
    gw_upstream_breaker_release(b, probe, GW_BREAKER_SUCCESS, t);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gw_upstream_breaker_acquire(b, t, &probe, &retry), GW_OK);
        assert_false(probe);
        gw_upstream_breaker_release(b, probe, GW_BREAKER_FAILURE, t);
    }
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_OPEN);
    assert_int_equal(gw_upstream_breaker_acquire(b, t + 10, &probe, &retry), GW_EDENIED);
    assert_int_equal(retry, 990);
    /* after the cool-down exactly one probe goes through */
    assert_int_equal(gw_upstream_breaker_acquire(b, t + 1000, &probe, &retry), GW_OK);
    assert_true(probe);
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_HALF_OPEN);
    bool p2;
    assert_int_equal(gw_upstream_breaker_acquire(b, t + 1001, &p2, &retry), GW_EDENIED);
    /* a failed probe re-opens */
    gw_upstream_breaker_release(b, true, GW_BREAKER_FAILURE, t + 1002);
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_OPEN);
    assert_int_equal(gw_upstream_breaker_acquire(b, t + 1500, &probe, &retry), GW_EDENIED);
    /* a cancelled (neutral) probe frees the slot, a successful one closes */
    assert_int_equal(gw_upstream_breaker_acquire(b, t + 2002, &probe, &retry), GW_OK);
    assert_true(probe);
    gw_upstream_breaker_release(b, true, GW_BREAKER_NEUTRAL, t + 2003);
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_HALF_OPEN);
    assert_int_equal(gw_upstream_breaker_acquire(b, t + 2004, &probe, &retry), GW_OK);
    assert_true(probe);
    gw_upstream_breaker_release(b, true, GW_BREAKER_SUCCESS, t + 2005);
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_CLOSED);
    struct gw_breaker_status st;
    gw_upstream_breaker_status(b, t + 2006, &st);
    assert_string_equal(st.name, "svc");
    assert_int_equal(st.open_count, 2);
    assert_int_equal(st.rejected, 3);
    assert_int_equal(st.consecutive_failures, 0);
    assert_true(st.opened_at_unix_ms > 0);
    gw_upstream_breaker_free(b);
}

static void test_breaker_ratio(void **state)
{
    (void)state;
    struct gw_breaker_conf conf = {0, 50, 10000, 10, 5000};
    struct gw_breaker *b = gw_upstream_breaker_new("ratio", &conf);
    bool probe;
    uint64_t retry, t = 5000000;
    /* alternate success/failure: 50% but only after 10 calls */
    for (int i = 0; i < 9; i++) {
        assert_int_equal(gw_upstream_breaker_acquire(b, t, &probe, &retry), GW_OK);
        gw_upstream_breaker_release(b, false, i % 2 ? GW_BREAKER_FAILURE : GW_BREAKER_SUCCESS,
                                    t);
    }
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_CLOSED);
    gw_upstream_breaker_release(b, false, GW_BREAKER_FAILURE, t);
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_OPEN);
    gw_upstream_breaker_free(b);

    /* old calls slide out of the window */
    b = gw_upstream_breaker_new("ratio2", &conf);
    for (int i = 0; i < 9; i++)
        gw_upstream_breaker_release(b, false, GW_BREAKER_FAILURE, t);
    t += 20000;
    for (int i = 0; i < 9; i++)
        gw_upstream_breaker_release(b, false, GW_BREAKER_SUCCESS, t);
    gw_upstream_breaker_release(b, false, GW_BREAKER_FAILURE, t);
    assert_int_equal(gw_upstream_breaker_state(b), GW_BREAKER_CLOSED);
    gw_upstream_breaker_free(b);
}

static void test_idempotency_store(void **state)
{
    (void)state;
    struct gw_idem_store s;
    gw_upstream_idem_mem_init(&s, 1000, 5000, 3);
    unsigned char fp1[32], fp2[32];
    memset(fp1, 1, 32);
    memset(fp2, 2, 32);
    enum gw_idem_verdict v;
    char *res;
    size_t len;
    assert_int_equal(s.ops->begin(s.self, "u\nt\nk1", fp1, 100, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_NEW);
    assert_int_equal(s.ops->begin(s.self, "u\nt\nk1", fp1, 101, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_IN_FLIGHT);
    assert_int_equal(s.ops->begin(s.self, "u\nt\nk1", fp2, 101, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_MISMATCH);
    s.ops->complete(s.self, "u\nt\nk1", "{\"r\":1}", 7, 200);
    assert_int_equal(s.ops->begin(s.self, "u\nt\nk1", fp1, 300, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_REPLAY);
    assert_string_equal(res, "{\"r\":1}");
    assert_int_equal(len, 7);
    gw_free(res);
    assert_int_equal(s.ops->begin(s.self, "u\nt\nk1", fp2, 300, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_MISMATCH);
    /* another caller with the same client key is independent */
    assert_int_equal(s.ops->begin(s.self, "v\nt\nk1", fp2, 300, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_NEW);
    s.ops->abort(s.self, "v\nt\nk1");
    assert_int_equal(s.ops->begin(s.self, "v\nt\nk1", fp1, 301, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_NEW);
    /* TTL: the completed result expires 1000 ms after completion */
    assert_int_equal(s.ops->begin(s.self, "u\nt\nk1", fp2, 1201, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_NEW);
    /* capacity 3: a fourth in-flight key is refused while all three are in flight */
    assert_int_equal(s.ops->begin(s.self, "w\nt\nk", fp1, 1202, &v, &res, &len), GW_OK);
    assert_int_equal(s.ops->count(s.self), 3);
    assert_int_equal(s.ops->begin(s.self, "x\nt\nk", fp1, 1203, &v, &res, &len), GW_ELIMIT);
    s.ops->complete(s.self, "w\nt\nk", "{}", 2, 1204);
    assert_int_equal(s.ops->begin(s.self, "x\nt\nk", fp1, 1205, &v, &res, &len), GW_OK);
    assert_int_equal(v, GW_IDEM_NEW);
    s.ops->destroy(s.self);
}

static void test_cache(void **state)
{
    (void)state;
    struct gw_upstream_cache *c = gw_upstream_cache_new(3, 1 << 20);
    size_t len;
    assert_null(gw_upstream_cache_get(c, "a", 0, &len));
    gw_upstream_cache_put(c, "a", "AAA", 3, 100, 0);
    gw_upstream_cache_put(c, "b", "BBB", 3, 100, 0);
    gw_upstream_cache_put(c, "c", "CCC", 3, 100, 0);
    char *v = gw_upstream_cache_get(c, "a", 50, &len); /* a is now most recent */
    assert_string_equal(v, "AAA");
    gw_free(v);
    gw_upstream_cache_put(c, "d", "DDD", 3, 100, 50); /* evicts b (least recent) */
    assert_null(gw_upstream_cache_get(c, "b", 50, &len));
    v = gw_upstream_cache_get(c, "c", 50, &len);
    assert_non_null(v);
    gw_free(v);
    assert_null(gw_upstream_cache_get(c, "a", 100, &len)); /* expired */
    struct gw_upstream_cache_stats st;
    gw_upstream_cache_stats(c, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 3);
    gw_upstream_cache_free(c);

    /* byte bound: values larger than 1/8 of the budget are not cached, old ones are evicted */
    c = gw_upstream_cache_new(100, 800);
    char big[150];
    memset(big, 'x', sizeof(big));
    gw_upstream_cache_put(c, "big", big, sizeof(big), 100, 0);
    assert_null(gw_upstream_cache_get(c, "big", 1, &len));
    for (int i = 0; i < 20; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        gw_upstream_cache_put(c, k, big, 90, 100, 0);
    }
    gw_upstream_cache_stats(c, &st);
    assert_true(st.bytes <= 800);
    assert_true(st.entries < 20);
    gw_upstream_cache_free(c);
}

static void test_token_single_flight(void **state)
{
    (void)state;
    struct gw_upstream_token *t = gw_upstream_token_new(60000, 1000);
    char *tok;
    bool refresh;
    uint64_t gen, gen2;
    char err[128];
    assert_int_equal(gw_upstream_token_acquire(t, 1000, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_FETCH);
    for (int i = 0; i < 10; i++)
        assert_int_equal(gw_upstream_token_acquire(t, 1000, 0, &tok, &refresh, &gen2, err, 128),
                         GW_TOKEN_WAIT);
    gw_upstream_token_store(t, "tok-1", 100, 1010); /* 100 s, margin min(60 s, 50 s) */
    assert_int_equal(gw_upstream_token_acquire(t, 1020, gen2, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_READY);
    assert_string_equal(tok, "tok-1");
    assert_false(refresh);
    gw_upstream_token_wipe(tok);
    /* inside the refresh margin: first caller gets the refresh duty, all keep the token */
    assert_int_equal(gw_upstream_token_acquire(t, 60000, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_READY);
    assert_true(refresh);
    gw_upstream_token_wipe(tok);
    assert_int_equal(gw_upstream_token_acquire(t, 60001, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_READY);
    assert_false(refresh);
    gw_upstream_token_wipe(tok);
    gw_upstream_token_store(t, "tok-2", 100, 60010);
    /* 401 with an older token does not drop the new one */
    gw_upstream_token_invalidate(t, "tok-1");
    assert_int_equal(gw_upstream_token_acquire(t, 60020, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_READY);
    assert_string_equal(tok, "tok-2");
    gw_upstream_token_wipe(tok);
    gw_upstream_token_invalidate(t, "tok-2");
    assert_int_equal(gw_upstream_token_acquire(t, 60030, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_FETCH);
    assert_int_equal(gw_upstream_token_acquire(t, 60030, 0, &tok, &refresh, &gen2, err, 128),
                     GW_TOKEN_WAIT);
    gw_upstream_token_fail(t, "token endpoint answered HTTP 401 (invalid_client)", 60040);
    /* the waiter learns of the failure; new callers within the back-off too */
    assert_int_equal(gw_upstream_token_acquire(t, 60041, gen2, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_FAILED);
    assert_non_null(strstr(err, "invalid_client"));
    assert_int_equal(gw_upstream_token_acquire(t, 60500, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_FAILED);
    /* after the back-off a new fetch is allowed; abandoning hands the duty on */
    assert_int_equal(gw_upstream_token_acquire(t, 61100, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_FETCH);
    gw_upstream_token_abandon(t);
    assert_int_equal(gw_upstream_token_acquire(t, 61100, 0, &tok, &refresh, &gen, err, 128),
                     GW_TOKEN_FETCH);
    assert_int_equal(gw_upstream_token_fetches(t), 5);
    gw_upstream_token_free(t);
}

/* Many threads asking at once: exactly one becomes the fetcher. */
struct race {
    struct gw_upstream_token *t;
    atomic_int fetchers, waiters;
    atomic_int go;
};

static void *race_thread(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->go)) {
    }
    for (int i = 0; i < 1000; i++) {
        char *tok;
        bool refresh;
        uint64_t gen;
        char err[64];
        enum gw_token_verdict v =
            gw_upstream_token_acquire(r->t, 5000, 0, &tok, &refresh, &gen, err, sizeof(err));
        if (v == GW_TOKEN_FETCH)
            atomic_fetch_add(&r->fetchers, 1);
        else if (v == GW_TOKEN_WAIT)
            atomic_fetch_add(&r->waiters, 1);
        gw_upstream_token_wipe(tok);
    }
    return NULL;
}

static void test_token_single_flight_threads(void **state)
{
    (void)state;
    struct race r;
    memset(&r, 0, sizeof(r));
    r.t = gw_upstream_token_new(1000, 1000);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, race_thread, &r);
    atomic_store(&r.go, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.fetchers), 1);
    assert_int_equal(atomic_load(&r.waiters), 3999);
    gw_upstream_token_free(r.t);
}

static void test_token_wire(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    assert_int_equal(gw_upstream_token_body(&b, "a b", "api://x", true, "id 1", "s&cr=t"), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "grant_type=client_credentials&scope=a%20b&audience="
                                        "api%3A%2F%2Fx&client_id=id%201&client_secret=s%26cr%3Dt");
    gw_buf_fini(&b);
    char *tok;
    long exp;
    char err[200];
    const char *ok = "{\"access_token\":\"abc.def\",\"token_type\":\"Bearer\",\"expires_in\":3599}";
    assert_int_equal(gw_upstream_token_parse(200, ok, strlen(ok), &tok, &exp, err, 200), GW_OK);
    assert_string_equal(tok, "abc.def");
    assert_int_equal(exp, 3599);
    gw_upstream_token_wipe(tok);
    const char *bad =
        "{\"error\":\"invalid_client\",\"error_description\":\"secret s3cr3t wrong\"}";
    assert_int_equal(gw_upstream_token_parse(401, bad, strlen(bad), &tok, &exp, err, 200),
                     GW_EUPSTREAM);
    assert_non_null(strstr(err, "HTTP 401 (invalid_client)"));
    assert_null(strstr(err, "s3cr3t")); /* never the body verbatim */
    const char *crlf = "{\"access_token\":\"a\\r\\nX: y\"}";
    assert_int_equal(gw_upstream_token_parse(200, crlf, strlen(crlf), &tok, &exp, err, 200),
                     GW_EUPSTREAM);
    const char *mac = "{\"access_token\":\"a\",\"token_type\":\"mac\"}";
    assert_int_equal(gw_upstream_token_parse(200, mac, strlen(mac), &tok, &exp, err, 200),
                     GW_EUPSTREAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_breaker_consecutive),
        cmocka_unit_test(test_breaker_ratio),
        cmocka_unit_test(test_idempotency_store),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_token_single_flight),
        cmocka_unit_test(test_token_single_flight_threads),
        cmocka_unit_test(test_token_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
