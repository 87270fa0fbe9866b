/*
 * tests/unit/ratelimit/test_ratelimit.c
 * Rate limits: GCRA against a reference model (a token bucket kept in exact integer
 * "microsecond credits": bursts, steady rates, random arrivals, the exact boundary instant,
 * a clock that steps back), the property that over any interval of length d at most
 * burst + d/T requests pass; rules (parsing, validation messages, canonical JSON round trip,
 * descriptions, rates and periods); the in-process backend (all-or-nothing batches, dry-run
 * items, bounded memory); the Redis backend against a real redis-server (the same burst and
 * refill behaviour on the server's clock, all-or-nothing, cluster mode); the client address
 * behind trusted proxies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../kv/redis_testenv.h"
#include "core/err.h"
#include "kv/kv.h"
#include "net/net_loop.h"
#include "ratelimit/ratelimit_backend.h"
#include "ratelimit/ratelimit_gcra.h"
#include "ratelimit/ratelimit_ip.h"
#include "ratelimit/ratelimit_rule.h"

#include <event2/event.h>
#include <jansson.h>
#include <string.h>

/* ---------------------------------------------------------------- reference model ---------- */

/* A token bucket in integer microsecond credits: capacity b*T, one request costs T, credit
 * grows by one per elapsed microsecond. Exactly the behaviour GCRA must have. */
struct bucket {
    int64_t credit, last, T, b;
};

static void bucket_init(struct bucket *k, int64_t T, int64_t b, int64_t t0)
{
    k->credit = b * T;
    k->last = t0;
    k->T = T;
    k->b = b;
}

static bool bucket_take(struct bucket *k, int64_t now)
{
    if (now > k->last) {
        k->credit += now - k->last;
        if (k->credit > k->b * k->T)
            k->credit = k->b * k->T;
        k->last = now;
    }
    if (k->credit >= k->T) {
        k->credit -= k->T;
        return true;
    }
    return false;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Runs n arrivals with gaps from gap() against GCRA and the model; checks every decision and
 * the reported remaining/retry/reset. Returns how many passed. */
static int run_model(int64_t T, int64_t b, int n, int64_t (*gap)(int i))
{
    struct bucket k;
    int64_t now = 1700000000000000ll, tat = 0;
    bucket_init(&k, T, b, now);
    int passed = 0;
    for (int i = 0; i < n; i++) {
        now += gap(i);
        struct gw_gcra_result r;
        gw_gcra(T, b, tat, now, &r);
        bool want = bucket_take(&k, now);
        assert_int_equal(r.allowed, want);
        if (r.allowed) {
            tat = r.tat;
            passed++;
            assert_int_equal(r.remaining, k.credit / T);
            assert_int_equal(r.retry_us, 0);
            assert_int_equal(r.reset_us, b * T - k.credit);
        } else {
            assert_int_equal(r.remaining, 0);
            assert_int_equal(r.retry_us, T - k.credit); /* exactly when the next one passes */
            struct gw_gcra_result early, on_time;
            gw_gcra(T, b, tat, now + r.retry_us - 1, &early);
            gw_gcra(T, b, tat, now + r.retry_us, &on_time);
            assert_false(early.allowed);
            assert_true(on_time.allowed);
        }
    }
    return passed;
}

static int64_t gap_zero(int i)
{
    (void)i;
    return 0;
}
static int64_t gap_steady(int i)
{
    (void)i;
    return 1000000; /* 1 per second */
}
static int64_t gap_random(int i)
{
    (void)i;
    return (int64_t)(xr() % 3000000);
}
static int64_t gap_bursty(int i)
{
    return i % 50 < 45 ? (int64_t)(xr() % 1000) : (int64_t)(xr() % 20000000);
}

static void test_gcra_model(void **state)
{
    (void)state;
    /* 60/min, burst 60: a burst of 200 at one instant passes exactly 60 */
    assert_int_equal(run_model(1000000, 60, 200, gap_zero), 60);
    /* 60/min burst 60 at exactly the rate: everything passes */
    assert_int_equal(run_model(1000000, 60, 500, gap_steady), 500);
    /* burst 1 at the rate: everything passes; burst 1 at twice the rate: half */
    assert_int_equal(run_model(1000000, 1, 100, gap_steady), 100);
    for (int trial = 0; trial < 40; trial++) {
        int64_t T = 1 + (int64_t)(xr() % 5000000);
        int64_t b = 1 + (int64_t)(xr() % 100);
        run_model(T, b, 2000, gap_random);
        run_model(T, b, 2000, gap_bursty);
    }
}

static void test_gcra_edges(void **state)
{
    (void)state;
    struct gw_gcra_result r;
    const int64_t T = 1000000, now = 5000000000000ll;
    /* an absent state (tat 0) is a full bucket */
    gw_gcra(T, 3, 0, now, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.tat, now + T);
    assert_int_equal(r.reset_us, T);
    /* the exact instant: tat - (b-1)T == now passes, one microsecond earlier does not */
    int64_t tat = now + 3 * T;
    gw_gcra(T, 3, tat, now + T, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    gw_gcra(T, 3, tat, now + T - 1, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_us, 1);
    /* the clock steps back (a failover to a replica whose clock is behind): refusals until it
     * catches up, never more than the burst */
    tat = 0;
    int passed = 0;
    for (int i = 0; i < 10; i++) {
        gw_gcra(T, 3, tat, now - i * 1000, &r);
        if (r.allowed) {
            tat = r.tat;
            passed++;
        }
    }
    assert_true(passed >= 1 && passed <= 3); /* a fuller state, never a bigger burst */
    /* the property: over any interval of length d, at most b + d/T pass */
    int64_t t = now, times[4000];
    int n = 0;
    tat = 0;
    for (int i = 0; i < 4000; i++) {
        t += (int64_t)(xr() % 400000);
        gw_gcra(T, 5, tat, t, &r);
        if (r.allowed) {
            tat = r.tat;
            times[n++] = t;
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++)
            assert_true((int64_t)(j - i + 1) <= 5 + (times[j] - times[i]) / T);
}

/* ---------------------------------------------------------------- rules --------------------- */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON: %s", e.text);
    return v;
}

static int parse(const char *text, struct gw_rl_rule **out, struct gw_error *err)
{
    json_t *v = J(text);
    int rc = gw_rl_rule_parse(v, "test", out, err);
    json_decref(v);
    return rc;
}

static void test_rules(void **state)
{
    (void)state;
    struct gw_rl_rule *r = NULL;
    struct gw_error err = {0};
    assert_int_equal(parse("{\"id\":\"writes-per-user\",\"rate\":\"60/min\",\"per\":[\"user\"],"
                           "\"match\":{\"risk\":[\"write\",\"privileged\"]}}",
                           &r, &err),
                     GW_OK);
    assert_int_equal(r->limit, 60);
    assert_int_equal(r->period_ms, 60000);
    assert_int_equal(r->burst, 60);
    assert_int_equal(r->interval_us, 1000000);
    assert_int_equal(r->per, GW_RL_PER_USER);
    assert_int_equal(r->risks, GW_RL_RISK_WRITE | GW_RL_RISK_PRIVILEGED);
    assert_int_equal(r->scope, GW_RL_SCOPE_CALL);
    assert_int_equal(r->mode, GW_RL_ENFORCE);
    char d[256];
    gw_rl_rule_describe(r, d, sizeof(d));
    assert_string_equal(d, "60 calls per minute per user for write/privileged tools");
    /* canonical JSON parses back to the same rule */
    json_t *c = gw_rl_rule_json(r);
    struct gw_rl_rule *r2 = NULL;
    assert_int_equal(gw_rl_rule_parse(c, "test", &r2, &err), GW_OK);
    json_t *c2 = gw_rl_rule_json(r2);
    assert_true(json_equal(c, c2));
    json_decref(c);
    json_decref(c2);
    gw_rl_rule_free(r);
    gw_rl_rule_free(r2);

    assert_int_equal(parse("{\"id\":\"cancellations\",\"limit\":10,\"period\":\"1h\",\"burst\":2,"
                           "\"per\":[\"user\"],\"match\":{\"tools\":[\"cancel_booking\"]},"
                           "\"mode\":\"dry_run\"}",
                           &r, &err),
                     GW_OK);
    assert_int_equal(r->interval_us, 360000000);
    assert_int_equal(r->mode, GW_RL_DRY_RUN);
    gw_rl_rule_describe(r, d, sizeof(d));
    assert_string_equal(d, "10 calls per hour per user of tool cancel_booking (bursts of 2)");
    gw_rl_rule_free(r);

    assert_int_equal(parse("{\"id\":\"edge\",\"scope\":\"http\",\"rate\":\"1000/1m\","
                           "\"per\":[\"ip\"]}",
                           &r, &err),
                     GW_OK);
    assert_int_equal(r->scope, GW_RL_SCOPE_HTTP);
    gw_rl_rule_free(r);

    static const struct {
        const char *json, *want;
    } bad[] = {
        {"[]", "JSON object"},
        {"{\"rate\":\"1/s\"}", "needs an id"},
        {"{\"id\":\"a b\",\"rate\":\"1/s\"}", "id must be"},
        {"{\"id\":\"x\"}", "a rate is needed"},
        {"{\"id\":\"x\",\"rate\":\"1/s\",\"limit\":3}", "not both"},
        {"{\"id\":\"x\",\"limit\":3}", "a rate is needed"},
        {"{\"id\":\"x\",\"rate\":\"0/s\"}", "count must be"},
        {"{\"id\":\"x\",\"rate\":\"5/fortnight\"}", "unknown unit"},
        {"{\"id\":\"x\",\"rate\":\"5/40d\"}", "31 days"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"per\":[\"planet\"]}", "per[0]"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"per\":[\"user\",\"user\"]}", "twice"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"match\":{\"risk\":[\"lethal\"]}}", "not read"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"match\":{\"colour\":[\"red\"]}}", "unknown member"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"scope\":\"http\",\"per\":[\"user\"]}",
         "before authentication"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"scope\":\"http\",\"match\":{\"tools\":[\"t\"]}}",
         "before authentication"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"mode\":\"audit\"}", "mode must be"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"enabled\":\"yes\"}", "true or false"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"limits\":5}", "unknown member 'limits'"},
        {"{\"id\":\"x\",\"rate\":\"2000000000/s\"}", "count must be"},
        {"{\"id\":\"x\",\"rate\":\"2000000/s\"}", "per microsecond"},
        {"{\"id\":\"x\",\"rate\":\"1000000000/1s\"}", "per microsecond"},
        {"{\"id\":\"x\",\"limit\":1,\"period\":2678400,\"burst\":1000000000}", "31 years"},
        {"{\"id\":\"x\",\"rate\":\"5/s\",\"burst\":0}", "burst must be"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = NULL;
        err.msg[0] = '\0';
        assert_int_equal(parse(bad[i].json, &r, &err), GW_EINVAL);
        assert_null(r);
        if (!strstr(err.msg, bad[i].want))
            fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json, err.msg, bad[i].want);
    }

    uint64_t lim, per;
    assert_int_equal(gw_rl_rate_parse("100/day", &lim, &per, NULL), GW_OK);
    assert_int_equal(per, 86400000);
    assert_int_equal(gw_rl_rate_parse("5/30s", &lim, &per, NULL), GW_OK);
    assert_int_equal(per, 30000);
    assert_int_equal(gw_rl_rate_parse("7 / 2 hours", &lim, &per, NULL), GW_OK);
    assert_int_equal(lim, 7);
    assert_int_equal(per, 7200000);
    assert_int_not_equal(gw_rl_rate_parse("/min", &lim, &per, NULL), GW_OK);
    assert_int_not_equal(gw_rl_rate_parse("5", &lim, &per, NULL), GW_OK);
    char pt[32];
    gw_rl_period_text(60000, pt, sizeof(pt));
    assert_string_equal(pt, "minute");
    gw_rl_period_text(7200000, pt, sizeof(pt));
    assert_string_equal(pt, "2 hours");

    /* sets: duplicates are refused with the index and id */
    struct gw_rl_ruleset *rs = NULL;
    json_t *doc =
        J("{\"rules\":[{\"id\":\"a\",\"rate\":\"1/s\"},{\"id\":\"a\",\"rate\":\"2/s\"}]}");
    assert_int_equal(gw_rl_ruleset_parse(doc, "file", &rs, &err), GW_ECONFLICT);
    assert_non_null(strstr(err.msg, "rule 2 (a)"));
    json_decref(doc);
    doc = J("[{\"id\":\"a\",\"rate\":\"1/s\"},{\"id\":\"b\",\"rate\":\"2/s\",\"enabled\":false}]");
    assert_int_equal(gw_rl_ruleset_parse(doc, "file", &rs, &err), GW_OK);
    assert_int_equal(gw_rl_ruleset_count(rs), 2);
    assert_false(gw_rl_ruleset_find(rs, "b")->enabled);
    json_t *back = gw_rl_ruleset_json(rs);
    struct gw_rl_ruleset *rs2 = NULL;
    assert_int_equal(gw_rl_ruleset_parse(back, "file", &rs2, &err), GW_OK);
    json_decref(back);
    json_decref(doc);
    gw_rl_ruleset_unref(rs);
    gw_rl_ruleset_unref(rs2);
}

/* ---------------------------------------------------------------- memory backend ------------ */

static int64_t fake_now;
static int64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static void item(struct gw_rl_batch *b, const char *key, int64_t T, int64_t burst, bool enforce)
{
    struct gw_rl_item *it = &b->item[b->n++];
    memset(it, 0, sizeof(*it));
    snprintf(it->key, sizeof(it->key), "%s", key);
    it->interval_us = T;
    it->burst = burst;
    it->enforce = enforce;
}

static void test_memory_backend(void **state)
{
    (void)state;
    struct gw_rl_backend be;
    fake_now = 1000000000;
    gw_rl_mem_init(&be, 1000, fake_clock, NULL);
    struct gw_rl_batch b;
    /* per-user 3 per second and a global 5 per second */
    int passed = 0;
    for (int i = 0; i < 10; i++) {
        memset(&b, 0, sizeof(b));
        item(&b, "user:alice", 333333, 3, true);
        item(&b, "global", 200000, 5, true);
        assert_int_equal(be.ops->check(be.self, NULL, &b, NULL, NULL), GW_OK);
        if (!b.refused)
            passed++;
    }
    assert_int_equal(passed, 3); /* alice's limit bound first; global used only 3 */
    /* all-or-nothing: bob still gets the 2 global slots alice left */
    passed = 0;
    for (int i = 0; i < 5; i++) {
        memset(&b, 0, sizeof(b));
        item(&b, "user:bob", 333333, 3, true);
        item(&b, "global", 200000, 5, true);
        be.ops->check(be.self, NULL, &b, NULL, NULL);
        if (!b.refused)
            passed++;
        else
            assert_false(b.item[1].allowed); /* the global limit refused, not bob's */
    }
    assert_int_equal(passed, 2);
    /* a dry-run item never refuses, and counts only when the request happens */
    memset(&b, 0, sizeof(b));
    item(&b, "dry", 1000000, 1, false);
    be.ops->check(be.self, NULL, &b, NULL, NULL);
    assert_false(b.refused);
    assert_true(b.item[0].allowed);
    memset(&b, 0, sizeof(b));
    item(&b, "dry", 1000000, 1, false);
    be.ops->check(be.self, NULL, &b, NULL, NULL);
    assert_false(b.refused);
    assert_false(b.item[0].allowed); /* would have refused */
    assert_int_equal(b.item[0].retry_us, 1000000);
    /* the clock moves on: one more for alice after T */
    fake_now += 333333;
    memset(&b, 0, sizeof(b));
    item(&b, "user:alice", 333333, 3, true);
    be.ops->check(be.self, NULL, &b, NULL, NULL);
    assert_false(b.refused);
    /* bounded: a flood of distinct keys never holds more than the cap (plus a stripe's slack) */
    for (int i = 0; i < 20000; i++) {
        memset(&b, 0, sizeof(b));
        char k[32];
        snprintf(k, sizeof(k), "ip:%d", i);
        item(&b, k, 1000000000, 1, true);
        be.ops->check(be.self, NULL, &b, NULL, NULL);
        assert_false(b.refused);
    }
    assert_true(be.ops->count(be.self) <= 1000 + 64);
    be.ops->destroy(be.self);
}

/* ---------------------------------------------------------------- Redis backend ------------- */

static struct test_redis R;

struct env {
    struct event_base *base;
    struct gw_loop *loop;
    struct gw_kv *kv;
    struct gw_rl_backend be;
};

struct wait {
    bool done;
    int rc;
};

static void on_done(void *arg, int rc)
{
    struct wait *w = arg;
    w->done = true;
    w->rc = rc;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static bool env_open(struct env *e, bool cluster)
{
    if (!test_redis_start(&R))
        return false;
    memset(e, 0, sizeof(*e));
    gw_loop_init_threads();
    e->base = event_base_new();
    e->loop = gw_loop_new(e->base);
    gw_loop_set_current(e->loop);
    struct gw_kv_config cfg = {.url = R.url, .prefix = "t:"};
    assert_int_equal(gw_kv_new(&cfg, &e->kv, NULL), GW_OK);
    gw_rl_redis_init(&e->be, e->kv, cluster);
    gw_kv_loop_start(e->kv, e->loop, NULL);
    struct event *t = event_new(e->base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(t, &tv);
    uint64_t end = mono_ms() + 3000;
    while (!gw_kv_conn_ready(gw_kv_conn_of(e->loop)) && mono_ms() < end)
        event_base_loop(e->base, EVLOOP_ONCE);
    event_free(t);
    return gw_kv_conn_ready(gw_kv_conn_of(e->loop));
}

static void env_close(struct env *e)
{
    gw_kv_loop_stop(e->kv, e->loop);
    e->be.ops->destroy(e->be.self);
    gw_kv_free(e->kv);
    gw_loop_free(e->loop);
    event_base_free(e->base);
}

static int check(struct env *e, struct gw_rl_batch *b)
{
    struct wait w = {0};
    int rc = e->be.ops->check(e->be.self, e->loop, b, on_done, &w);
    if (rc != GW_AGAIN)
        return rc;
    uint64_t end = mono_ms() + 3000;
    while (!w.done && mono_ms() < end)
        event_base_loop(e->base, EVLOOP_ONCE);
    assert_true(w.done);
    return w.rc;
}

static void redis_scenario(bool cluster)
{
    struct env e;
    if (!env_open(&e, cluster))
        skip();
    char user[64], global[64];
    snprintf(user, sizeof(user), "t:rl:{u:%llu}", (unsigned long long)mono_ms());
    snprintf(global, sizeof(global), "t:rl:{g:%llu}", (unsigned long long)mono_ms());
    /* a burst against 5 per 10 s: exactly 5 pass, on the server's clock */
    int passed = 0;
    struct gw_rl_batch b;
    for (int i = 0; i < 20; i++) {
        memset(&b, 0, sizeof(b));
        item(&b, user, 2000000, 5, true);
        assert_int_equal(check(&e, &b), GW_OK);
        if (!b.refused) {
            passed++;
            assert_int_equal(b.item[0].remaining, 5 - passed);
        } else {
            assert_true(b.item[0].retry_us > 0 && b.item[0].retry_us <= 2000000);
        }
    }
    assert_int_equal(passed, 5);
    /* 200 ms per token: after ~250 ms one more passes */
    memset(&b, 0, sizeof(b));
    item(&b, global, 200000, 1, true);
    assert_int_equal(check(&e, &b), GW_OK);
    assert_false(b.refused);
    memset(&b, 0, sizeof(b));
    item(&b, global, 200000, 1, true);
    check(&e, &b);
    assert_true(b.refused);
    test_sleep_ms(250);
    memset(&b, 0, sizeof(b));
    item(&b, global, 200000, 1, true);
    check(&e, &b);
    assert_false(b.refused);
    /* all-or-nothing (one script) vs per key (cluster) */
    char a[64], c[64];
    snprintf(a, sizeof(a), "t:rl:{a:%llu}", (unsigned long long)mono_ms());
    snprintf(c, sizeof(c), "t:rl:{c:%llu}", (unsigned long long)mono_ms());
    memset(&b, 0, sizeof(b));
    item(&b, c, 10000000, 1, true);
    check(&e, &b); /* c is now exhausted */
    memset(&b, 0, sizeof(b));
    item(&b, a, 10000000, 1, true);
    item(&b, c, 10000000, 1, true);
    check(&e, &b);
    assert_true(b.refused);
    assert_true(b.item[0].allowed); /* a alone would have passed */
    memset(&b, 0, sizeof(b));
    item(&b, a, 10000000, 1, true);
    check(&e, &b);
    if (cluster)
        assert_true(b.refused);  /* per-key: a was consumed by the refused request */
    else
        assert_false(b.refused); /* atomic batch: a was not consumed */
    env_close(&e);
}

static void test_redis_backend(void **state)
{
    (void)state;
    redis_scenario(false);
}

static void test_redis_backend_cluster(void **state)
{
    (void)state;
    redis_scenario(true);
}

static void test_redis_down(void **state)
{
    (void)state;
    struct env e;
    if (!env_open(&e, false))
        skip();
    test_redis_stop(&R);
    uint64_t end = mono_ms() + 2000;
    while (gw_kv_conn_ready(gw_kv_conn_of(e.loop)) && mono_ms() < end)
        event_base_loop(e.base, EVLOOP_ONCE);
    struct gw_rl_batch b;
    memset(&b, 0, sizeof(b));
    item(&b, "t:rl:{down}", 1000000, 1, true);
    int rc = check(&e, &b);
    assert_int_not_equal(rc, GW_OK); /* the caller applies its failure mode */
    env_close(&e);
    test_redis_start(&R);
}

/* ---------------------------------------------------------------- client address ------------ */

static void test_client_ip(void **state)
{
    (void)state;
    struct gw_rl_cidrs t;
    struct gw_error err = {0};
    assert_int_equal(gw_rl_cidrs_parse("127.0.0.1, 10.0.0.0/8 ,fd00::/8", &t, &err), GW_OK);
    assert_int_equal(t.n, 3);
    assert_true(gw_rl_cidrs_contain(&t, "10.1.2.3"));
    assert_false(gw_rl_cidrs_contain(&t, "11.1.2.3"));
    assert_true(gw_rl_cidrs_contain(&t, "fd12::1"));
    assert_true(gw_rl_cidrs_contain(&t, "::ffff:127.0.0.1"));
    char ip[64];
    /* no trusted peer: the header is ignored */
    gw_rl_client_ip(&t, "203.0.113.9", "1.2.3.4", ip, sizeof(ip));
    assert_string_equal(ip, "203.0.113.9");
    /* trusted peer: the rightmost untrusted hop */
    gw_rl_client_ip(&t, "127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.5", ip, sizeof(ip));
    assert_string_equal(ip, "198.51.100.7");
    gw_rl_client_ip(&t, "::ffff:127.0.0.1", "198.51.100.7:5555", ip, sizeof(ip));
    assert_string_equal(ip, "198.51.100.7");
    gw_rl_client_ip(&t, "127.0.0.1", "[2001:db8::1]:443", ip, sizeof(ip));
    assert_string_equal(ip, "2001:db8::1");
    /* garbage appended by a proxy: stop at the last trustworthy hop */
    gw_rl_client_ip(&t, "127.0.0.1", "198.51.100.7, nonsense", ip, sizeof(ip));
    assert_string_equal(ip, "127.0.0.1");
    /* only trusted hops: the leftmost */
    gw_rl_client_ip(&t, "127.0.0.1", "10.0.0.1, 10.0.0.2", ip, sizeof(ip));
    assert_string_equal(ip, "10.0.0.1");
    /* the last peer is remembered per thread: the same answers, whatever came before */
    const char *peers[] = {"203.0.113.9", "203.0.113.10", "203.0.113.9", "::1", "0:0::1"};
    const char *want[] = {"203.0.113.9", "203.0.113.10", "203.0.113.9", "::1", "::1"};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
            gw_rl_client_ip(&t, peers[i], NULL, ip, sizeof(ip));
            assert_string_equal(ip, want[i]);
        }
    }
    gw_rl_client_ip(&t, "not an address", NULL, ip, sizeof(ip));
    assert_string_equal(ip, "-");
    /* absurd headers are not believed */
    char big[4000];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gw_rl_client_ip(&t, "127.0.0.1", big, ip, sizeof(ip));
    assert_string_equal(ip, "127.0.0.1");
    const char *bad[] = {"10.0.0.0/33", "300.1.1.1", "fd00::/129", "x", "1.2.3.4/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gw_rl_cidrs_parse(bad[i], &t, &err), GW_EINVAL);
}

static int teardown_all(void **state)
{
    (void)state;
    test_redis_cleanup(&R);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcra_model),    cmocka_unit_test(test_gcra_edges),
        cmocka_unit_test(test_rules),         cmocka_unit_test(test_memory_backend),
        cmocka_unit_test(test_redis_backend), cmocka_unit_test(test_redis_backend_cluster),
        cmocka_unit_test(test_redis_down),    cmocka_unit_test(test_client_ip),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
