/*
 * tests/unit/shared/test_shared.c
 * What replicas share through Redis (src/shared), with two "replicas" in one process: two
 * session tables with the same secret, two Redis clients (each with its own subscriber thread)
 * on one real redis-server, each driven by its own event loop.
 *  - a log level and a subscription set through one replica hold on the other;
 *  - a termination answered through gw_session_terminate_then is already in force on the
 *    other replica when the caller is answered (no window);
 *  - a replica attached later learns earlier terminations from Redis (resynchronisation);
 *  - idempotency: a reservation made through one replica is "in progress" on the other, its
 *    result is replayed there, other arguments are a conflict, an aborted one is free again;
 *  - without Redis nothing is attached and the tables stay local.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../kv/redis_testenv.h"
#include "core/err.h"
#include "kv/kv.h"
#include "mcp/mcp_session.h"
#include "net/net_loop.h"
#include "shared/shared.h"
#include "upstream/upstream_conf.h"
#include "upstream/upstream_exec.h"
#include "upstream/upstream_settings.h"
#include "upstream/upstream_idem.h"

#include <event2/event.h>
#include <string.h>

static struct test_redis R;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct replica {
    struct event_base *base;
    struct gw_loop *loop;
    struct gw_kv *kv;
    struct gw_shared *sh;
    struct gw_sessions *sessions;
};

static void replica_open(struct replica *r, const char *url)
{
    memset(r, 0, sizeof(*r));
    r->base = event_base_new();
    r->loop = gw_loop_new(r->base);
    struct gw_kv_config cfg = {.url = url, .prefix = "t:", .command_timeout_ms = 1000};
    assert_int_equal(gw_kv_new(&cfg, &r->kv, NULL), GW_OK);
    r->sh = gw_shared_new(r->kv);
    r->sessions = gw_sessions_new("one secret for every replica", 3600);
    assert_int_equal(gw_shared_sessions_attach(r->sh, r->sessions, NULL), GW_OK);
    assert_int_equal(gw_kv_start(r->kv, NULL), GW_OK);
    gw_loop_set_current(r->loop);
    gw_kv_loop_start(r->kv, r->loop, NULL);
}

static void replica_close(struct replica *r)
{
    gw_loop_set_current(r->loop);
    gw_kv_loop_stop(r->kv, r->loop);
    gw_kv_free(r->kv);
    gw_shared_free(r->sh);
    gw_sessions_free(r->sessions);
    gw_loop_free(r->loop);
    event_base_free(r->base);
    gw_loop_set_current(NULL);
}

/* Runs both loops until cond(arg) or ms pass. */
static bool spin(struct replica *a, struct replica *b, bool (*cond)(void *), void *arg, int ms)
{
    uint64_t end = mono_ms() + (uint64_t)ms;
    while (!cond(arg) && mono_ms() < end) {
        gw_loop_set_current(a->loop);
        event_base_loop(a->base, EVLOOP_NONBLOCK);
        if (b) {
            gw_loop_set_current(b->loop);
            event_base_loop(b->base, EVLOOP_NONBLOCK);
        }
        test_sleep_ms(1);
    }
    return cond(arg);
}

struct pair {
    struct replica *a, *b;
};

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static bool both_ready(void *arg)
{
    struct pair *p = arg;
    struct gw_kv_stats sa, sb;
    gw_kv_stats(p->a->kv, &sa);
    gw_kv_stats(p->b->kv, &sb);
    return gw_kv_conn_ready(gw_kv_conn_of(p->a->loop)) &&
           gw_kv_conn_ready(gw_kv_conn_of(p->b->loop)) && sa.subscriber_ready &&
           sb.subscriber_ready && sa.resyncs && sb.resyncs;
}

struct level_wait {
    struct gw_sessions *s;
    const char *id;
    int level;
};

static bool level_is(void *arg)
{
    struct level_wait *w = arg;
    return gw_session_log_level(w->s, w->id) == w->level;
}

struct done {
    bool called;
    int rc;
};

static void on_done(void *arg, int rc)
{
    struct done *d = arg;
    d->called = true;
    d->rc = rc;
}

static bool done_called(void *arg)
{
    return ((struct done *)arg)->called;
}

static void test_sessions(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct replica a, b;
    replica_open(&a, R.url);
    replica_open(&b, R.url);
    struct pair p = {&a, &b};
    assert_true(spin(&a, &b, both_ready, &p, 5000));

    struct gw_session_claims c, v;
    gw_loop_set_current(a.loop);
    gw_session_issue(a.sessions, GW_MCP_V_2025_11_25, 0, "alice-binding", &c);
    assert_int_equal(gw_session_verify(b.sessions, c.id, "alice-binding", &v), GW_OK);
    assert_int_equal(gw_session_log_level(b.sessions, c.id), -1);

    /* a log level and a subscription set on a reach b */
    gw_session_set_log_level(a.sessions, c.id, 3);
    gw_session_subscribe(a.sessions, c.id, "file:///a b.txt", true);
    struct level_wait lw = {b.sessions, c.id, 3};
    assert_true(spin(&a, &b, level_is, &lw, 3000));
    assert_true(gw_session_subscribed(b.sessions, c.id, "file:///a b.txt"));
    gw_loop_set_current(b.loop);
    gw_session_subscribe(b.sessions, c.id, "file:///a b.txt", false);
    uint64_t t0 = mono_ms();
    while (gw_session_subscribed(a.sessions, c.id, "file:///a b.txt") && mono_ms() - t0 < 3000)
        spin(&a, &b, never, NULL, 5);
    assert_false(gw_session_subscribed(a.sessions, c.id, "file:///a b.txt"));

    /* a termination through a: when the caller is answered, b refuses already */
    struct done d = {0};
    gw_loop_set_current(a.loop);
    assert_int_equal(gw_session_terminate_then(a.sessions, c.id, "alice-binding", on_done, &d),
                     GW_AGAIN);
    assert_int_equal(gw_session_verify(a.sessions, c.id, "alice-binding", &v), GW_ENOTFOUND);
    assert_true(spin(&a, &b, done_called, &d, 3000));
    assert_int_equal(d.rc, GW_OK);
    assert_int_equal(gw_session_verify(b.sessions, c.id, "alice-binding", &v), GW_ENOTFOUND);
    /* another principal cannot terminate a session it does not own */
    struct gw_session_claims c2;
    gw_session_issue(a.sessions, GW_MCP_V_2025_11_25, 0, "bob-binding", &c2);
    assert_int_equal(gw_session_terminate_then(b.sessions, c2.id, "alice-binding", on_done, &d),
                     GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(b.sessions, c2.id, "bob-binding", &v), GW_OK);

    /* a replica attached later learns the termination from Redis */
    struct replica late;
    replica_open(&late, R.url);
    struct pair p2 = {&late, &a};
    assert_true(spin(&late, &a, both_ready, &p2, 5000));
    uint64_t t1 = mono_ms();
    while (gw_session_verify(late.sessions, c.id, "alice-binding", &v) == GW_OK &&
           mono_ms() - t1 < 3000)
        spin(&late, NULL, never, NULL, 5);
    assert_int_equal(gw_session_verify(late.sessions, c.id, "alice-binding", &v), GW_ENOTFOUND);
    assert_int_equal(gw_session_verify(late.sessions, c2.id, "bob-binding", &v), GW_OK);
    replica_close(&late);

    struct gw_shared_stats st;
    gw_shared_stats(a.sh, &st);
    assert_true(st.session_publishes >= 3);
    assert_int_equal(st.session_publish_failures, 0);
    gw_shared_stats(b.sh, &st);
    assert_true(st.session_applied >= 3);
    replica_close(&b);
    replica_close(&a);
}

/* ---- idempotency ---- */

struct begin_res {
    bool done;
    int rc;
    enum gw_idem_verdict v;
    char result[128];
};

static void on_begin(void *arg, int rc, enum gw_idem_verdict v, const char *result, size_t len)
{
    struct begin_res *b = arg;
    b->done = true;
    b->rc = rc;
    b->v = v;
    snprintf(b->result, sizeof(b->result), "%.*s", (int)len, result ? result : "");
}

static bool begun(void *arg)
{
    return ((struct begin_res *)arg)->done;
}

static struct gw_upstreams *upstreams(void)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_upstream_settings);
    assert_int_equal(gw_settings_load(s, NULL, NULL), GW_OK);
    struct gw_upstreams *u = gw_upstreams_load(s, NULL);
    gw_settings_free(s);
    assert_non_null(u);
    return u;
}

static void test_idempotency(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct replica a, b;
    replica_open(&a, R.url);
    replica_open(&b, R.url);
    struct gw_upstreams *ua = upstreams(), *ub = upstreams();
    assert_int_equal(gw_shared_idem_attach(a.sh, ua, 60000, 60000, NULL), GW_OK);
    assert_int_equal(gw_shared_idem_attach(b.sh, ub, 60000, 60000, NULL), GW_OK);
    struct pair p = {&a, &b};
    assert_true(spin(&a, &b, both_ready, &p, 5000));
    /* the stores, as the executors see them */
    const struct gw_idem_store *sa = &ua->idem, *sb = &ub->idem;
    char key[64];
    snprintf(key, sizeof(key), "alice\ncreate_booking\nk-%llu", (unsigned long long)mono_ms());
    unsigned char fp[32] = {1}, other[32] = {2};
    struct begin_res r1 = {0}, r2 = {0}, r3 = {0}, r4 = {0};
    gw_loop_set_current(a.loop);
    assert_int_equal(sa->ops->begin_async(sa->self, key, fp, on_begin, &r1), GW_AGAIN);
    assert_true(spin(&a, &b, begun, &r1, 2000));
    assert_int_equal(r1.v, GW_IDEM_NEW);
    gw_loop_set_current(b.loop);
    assert_int_equal(sb->ops->begin_async(sb->self, key, fp, on_begin, &r2), GW_AGAIN);
    assert_true(spin(&a, &b, begun, &r2, 2000));
    assert_int_equal(r2.v, GW_IDEM_IN_FLIGHT);
    gw_loop_set_current(a.loop);
    sa->ops->complete(sa->self, key, "{\"content\":[],\"booking\":\"BK-1\"}", 32, 0);
    gw_loop_set_current(b.loop);
    uint64_t t0 = mono_ms();
    do {
        memset(&r3, 0, sizeof(r3));
        gw_loop_set_current(b.loop);
        sb->ops->begin_async(sb->self, key, fp, on_begin, &r3);
        spin(&a, &b, begun, &r3, 2000);
    } while (r3.v == GW_IDEM_IN_FLIGHT && mono_ms() - t0 < 2000);
    assert_int_equal(r3.v, GW_IDEM_REPLAY);
    assert_string_equal(r3.result, "{\"content\":[],\"booking\":\"BK-1\"}");
    gw_loop_set_current(b.loop);
    sb->ops->begin_async(sb->self, key, other, on_begin, &r4);
    assert_true(spin(&a, &b, begun, &r4, 2000));
    assert_int_equal(r4.v, GW_IDEM_MISMATCH);
    /* an aborted reservation is free again */
    char key2[80];
    snprintf(key2, sizeof(key2), "%s-2", key);
    struct begin_res r5 = {0}, r6 = {0};
    gw_loop_set_current(a.loop);
    sa->ops->begin_async(sa->self, key2, fp, on_begin, &r5);
    assert_true(spin(&a, &b, begun, &r5, 2000));
    assert_int_equal(r5.v, GW_IDEM_NEW);
    sa->ops->abort(sa->self, key2);
    t0 = mono_ms();
    do {
        memset(&r6, 0, sizeof(r6));
        gw_loop_set_current(b.loop);
        sb->ops->begin_async(sb->self, key2, fp, on_begin, &r6);
        spin(&a, &b, begun, &r6, 2000);
    } while (r6.v == GW_IDEM_IN_FLIGHT && mono_ms() - t0 < 2000);
    assert_int_equal(r6.v, GW_IDEM_NEW);
    /* Redis gone: the store says so at once or through the callback, never hangs */
    test_redis_stop(&R);
    struct begin_res r7 = {0};
    uint64_t t1 = mono_ms();
    gw_loop_set_current(a.loop);
    int rc = sa->ops->begin_async(sa->self, key, fp, on_begin, &r7);
    if (rc == GW_AGAIN) {
        assert_true(spin(&a, &b, begun, &r7, 3000));
        assert_int_not_equal(r7.rc, GW_OK);
    }
    assert_true(mono_ms() - t1 < 3000);
    gw_upstreams_free(ua);
    gw_upstreams_free(ub);
    replica_close(&b);
    replica_close(&a);
    test_redis_start(&R);
}

static void test_without_redis(void **state)
{
    (void)state;
    struct gw_kv *kv = NULL;
    assert_int_equal(gw_kv_new(&(struct gw_kv_config){0}, &kv, NULL), GW_OK);
    struct gw_shared *sh = gw_shared_new(kv);
    struct gw_sessions *s = gw_sessions_new("x", 60);
    assert_int_equal(gw_shared_sessions_attach(sh, s, NULL), GW_OK);
    struct gw_session_claims c, v;
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, "", &c);
    struct done d = {0};
    assert_int_equal(gw_session_terminate_then(s, c.id, "", on_done, &d), GW_OK);
    assert_false(d.called);
    assert_int_equal(gw_session_verify(s, c.id, "", &v), GW_ENOTFOUND);
    /* applying a change from elsewhere */
    struct gw_session_claims c2;
    gw_session_issue(s, GW_MCP_V_2025_11_25, 0, "", &c2);
    struct gw_session_change chg = {GW_SESSION_LOG_LEVEL, c2.id, c2.issued_at + 60, 4, NULL};
    gw_sessions_apply(s, &chg);
    assert_int_equal(gw_session_log_level(s, c2.id), 4);
    chg = (struct gw_session_change){GW_SESSION_TERMINATED, c2.id, 0, -1, NULL};
    gw_sessions_apply(s, &chg);
    assert_int_equal(gw_session_verify(s, c2.id, "", &v), GW_ENOTFOUND);
    gw_sessions_free(s);
    gw_shared_free(sh);
    gw_kv_free(kv);
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
    gw_loop_init_threads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_redis),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_idempotency),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
