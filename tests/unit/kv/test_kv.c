/*
 * tests/unit/kv/test_kv.c
 * The shared-state module (src/kv) against a real Redis (Debian's redis-server, started here on
 * a unix socket): URL parsing; commands and scripts on a loop's connection (EVALSHA, and the
 * transparent EVAL after a SCRIPT FLUSH); a hung server (SIGSTOP) is detected within the
 * command timeout, commands then fail at once, and the connection comes back by itself; a
 * stopped server fails what is in flight and the connection returns when it restarts; pub/sub
 * messages and the resync hook; single-use claims with and without Redis; the loop adapter
 * (a command larger than the socket takes at once, 500 commands from one turn).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "kv/kv.h"
#include "net/net_loop.h"
#include "redis_testenv.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct test_redis R;

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

struct env {
    struct event_base *base;
    struct gw_loop *loop;
    struct event *ticker;
    struct gw_kv *kv;
};

/* Runs the loop until *flag is true or ms pass; returns whether the flag was set. */
static bool run_until(struct env *e, bool (*cond)(void *), void *arg, int ms)
{
    uint64_t end = mono_ms() + (uint64_t)ms;
    while (!cond(arg) && mono_ms() < end)
        event_base_loop(e->base, EVLOOP_ONCE);
    return cond(arg);
}

static bool is_ready(void *arg)
{
    return gw_kv_conn_ready(gw_kv_conn_of(((struct env *)arg)->loop));
}

static void env_open(struct env *e, const char *url, int cmd_timeout)
{
    memset(e, 0, sizeof(*e));
    gw_loop_init_threads();
    e->base = event_base_new();
    e->loop = gw_loop_new(e->base);
    gw_loop_set_current(e->loop);
    struct timeval tv = {0, 5000};
    e->ticker = event_new(e->base, -1, EV_PERSIST, tick, NULL);
    event_add(e->ticker, &tv);
    struct gw_kv_config cfg = {.url = url, .command_timeout_ms = cmd_timeout,
                               .connect_timeout_ms = 300, .reconnect_max_ms = 200};
    struct gw_error err = {0};
    assert_int_equal(gw_kv_new(&cfg, &e->kv, &err), GW_OK);
}

static void env_close(struct env *e)
{
    gw_kv_loop_stop(e->kv, e->loop);
    gw_kv_free(e->kv);
    event_free(e->ticker);
    gw_loop_free(e->loop);
    event_base_free(e->base);
    gw_loop_set_current(NULL);
}

struct result {
    bool done;
    int rc;
    enum gw_kv_type type;
    long long i;
    char s[256];
    long long arr[8];
    size_t n;
};

static bool res_done(void *arg)
{
    return ((struct result *)arg)->done;
}

static void on_res(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct result *x = arg;
    x->done = true;
    x->rc = rc;
    x->type = gw_kv_reply_type(r);
    x->i = gw_kv_reply_int(r);
    size_t len = 0;
    const char *s = gw_kv_reply_str(r, &len);
    snprintf(x->s, sizeof(x->s), "%.*s", (int)len, s);
    x->n = gw_kv_reply_count(r);
    for (size_t k = 0; k < x->n && k < 8; k++)
        x->arr[k] = gw_kv_reply_int_at(r, k);
}

static int cmd(struct env *e, struct result *x, int argc, const char **argv)
{
    memset(x, 0, sizeof(*x));
    return gw_kv_cmd(gw_kv_conn_of(e->loop), on_res, x, argc, argv, NULL);
}

/* ---- URL parsing ---- */

static void test_urls(void **state)
{
    (void)state;
    struct gw_kv *kv = NULL;
    struct gw_error err = {0};
    struct gw_kv_config c = {0};
    c.url = "";
    assert_int_equal(gw_kv_new(&c, &kv, &err), GW_OK);
    assert_false(gw_kv_enabled(kv));
    gw_kv_free(kv);
    const char *good[] = {"redis://127.0.0.1", "redis://:s3cret@127.0.0.1:6380/2",
                          "redis://user:pa%40ss@localhost:1/0", "unix:///tmp/x.sock?db=3",
                          "redis://[::1]:7000"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        c.url = good[i];
        assert_int_equal(gw_kv_new(&c, &kv, &err), GW_OK);
        assert_true(gw_kv_enabled(kv));
        assert_null(strstr(gw_kv_url_shown(kv), "s3cret"));
        assert_null(strstr(gw_kv_url_shown(kv), "pa@ss"));
        gw_kv_free(kv);
    }
    const char *bad[] = {"rediss://127.0.0.1", "http://x", "redis://", "redis://h:0",
                         "redis://h:99999", "redis://h/x", "unix://rel.sock",
                         "unix:///x.sock?foo=1", "redis://a:%zz@h", "redis://h o st"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c.url = bad[i];
        err.msg[0] = '\0';
        assert_int_not_equal(gw_kv_new(&c, &kv, &err), GW_OK);
        assert_true(err.msg[0] != '\0');
    }
    char key[64];
    gw_kv_new(&(struct gw_kv_config){.prefix = "t:"}, &kv, &err);
    assert_int_equal(gw_kv_key(kv, key, sizeof(key), "rl:", "abc", ":x"), strlen("t:rl:{abc}:x"));
    assert_string_equal(key, "t:rl:{abc}:x");
    assert_int_equal(gw_kv_key(kv, key, 8, "rl:", "abc", ":x"), 0);
    gw_kv_free(kv);
}

/* ---- single use without Redis ---- */

static void test_once_local(void **state)
{
    (void)state;
    struct gw_kv *kv = NULL;
    assert_int_equal(gw_kv_new(&(struct gw_kv_config){0}, &kv, NULL), GW_OK);
    assert_int_equal(gw_kv_once(kv, NULL, "confirm:1", 60000, NULL, NULL), GW_OK);
    assert_int_equal(gw_kv_once(kv, NULL, "confirm:1", 60000, NULL, NULL), GW_ECONFLICT);
    assert_int_equal(gw_kv_once(kv, NULL, "confirm:2", 1, NULL, NULL), GW_OK);
    test_sleep_ms(5);
    assert_int_equal(gw_kv_once(kv, NULL, "confirm:2", 1, NULL, NULL), GW_OK); /* expired */
    struct gw_kv_stats st;
    gw_kv_stats(kv, &st);
    assert_int_equal(st.once_claims, 3);
    assert_int_equal(st.once_conflicts, 1);
    gw_kv_free(kv);
}

/* ---- with a real Redis ---- */

static struct gw_kv_script time_script = {
    "test-time", "local t = redis.call('TIME') "
                 "redis.call('SET', KEYS[1], ARGV[1]) "
                 "return {tonumber(t[1]), redis.call('STRLEN', KEYS[1])}",
    ""};

static void test_commands_and_scripts(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct env e;
    env_open(&e, R.url, 500);
    gw_kv_script_register(e.kv, &time_script);
    assert_int_equal(gw_kv_loop_start(e.kv, e.loop, NULL), GW_OK);
    assert_true(run_until(&e, is_ready, &e, 3000));
    struct result x;
    const char *set[] = {"SET", "gw:test{a}", "hello"};
    assert_int_equal(cmd(&e, &x, 3, set), GW_OK);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_int_equal(x.rc, GW_OK);
    assert_string_equal(x.s, "OK");
    const char *get[] = {"GET", "gw:test{a}"};
    cmd(&e, &x, 2, get);
    run_until(&e, res_done, &x, 2000);
    assert_int_equal(x.type, GW_KV_STR);
    assert_string_equal(x.s, "hello");

    const char *keys[] = {"gw:test{b}"}, *args[] = {"12345"};
    memset(&x, 0, sizeof(x));
    assert_int_equal(gw_kv_eval(gw_kv_conn_of(e.loop), &time_script, 1, keys, 1, args, on_res, &x),
                     GW_OK);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_int_equal(x.type, GW_KV_ARRAY);
    assert_true(x.arr[0] > 1600000000); /* the server's clock, in seconds */
    assert_int_equal(x.arr[1], 5);

    /* the scripts vanish from the server: EVALSHA answers NOSCRIPT, EVAL is sent instead */
    const char *flush[] = {"SCRIPT", "FLUSH"};
    cmd(&e, &x, 2, flush);
    run_until(&e, res_done, &x, 2000);
    memset(&x, 0, sizeof(x));
    gw_kv_eval(gw_kv_conn_of(e.loop), &time_script, 1, keys, 1, args, on_res, &x);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_int_equal(x.type, GW_KV_ARRAY);
    struct gw_kv_stats st;
    gw_kv_stats(e.kv, &st);
    assert_int_equal(st.noscript_retries, 1);
    assert_int_equal(st.loops_ready, 1);

    /* an error reply is a reply */
    const char *bad[] = {"INCR", "gw:test{a}"};
    cmd(&e, &x, 2, bad);
    run_until(&e, res_done, &x, 2000);
    assert_int_equal(x.rc, GW_OK);
    assert_int_equal(x.type, GW_KV_ERROR);
    env_close(&e);
}

struct once_res {
    bool done;
    int rc;
};

static void on_once(void *arg, int rc)
{
    struct once_res *o = arg;
    o->done = true;
    o->rc = rc;
}

static bool once_done(void *arg)
{
    return ((struct once_res *)arg)->done;
}

static void test_once_redis(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct env e;
    env_open(&e, R.url, 500);
    gw_kv_loop_start(e.kv, e.loop, NULL);
    assert_true(run_until(&e, is_ready, &e, 3000));
    char key[64];
    snprintf(key, sizeof(key), "approval:%ld", (long)mono_ms());
    struct once_res a = {0}, b = {0};
    assert_int_equal(gw_kv_once(e.kv, e.loop, key, 60000, on_once, &a), GW_AGAIN);
    assert_int_equal(gw_kv_once(e.kv, e.loop, key, 60000, on_once, &b), GW_AGAIN);
    assert_true(run_until(&e, once_done, &b, 2000));
    assert_int_equal(a.rc, GW_OK);
    assert_int_equal(b.rc, GW_ECONFLICT);
    env_close(&e);
}

static void test_hung_server(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct env e;
    env_open(&e, R.url, 100);
    gw_kv_loop_start(e.kv, e.loop, NULL);
    assert_true(run_until(&e, is_ready, &e, 3000));
    test_redis_freeze(&R, true);
    struct result x;
    const char *ping[] = {"PING"};
    uint64_t t0 = mono_ms();
    assert_int_equal(cmd(&e, &x, 1, ping), GW_OK);
    assert_true(run_until(&e, res_done, &x, 2000));
    uint64_t took = mono_ms() - t0;
    assert_int_equal(x.rc, GW_ETIMEOUT);
    assert_true(took >= 90 && took < 1000);
    /* down: refused at once (the callback is not called) */
    uint64_t t1 = mono_ms();
    int refused = 0;
    for (int i = 0; i < 20; i++) {
        run_until(&e, res_done, &x, 20);
        if (cmd(&e, &x, 1, ping) == GW_EIO)
            refused++;
    }
    assert_true(refused > 0);
    assert_true(mono_ms() - t1 < 1500);
    test_redis_freeze(&R, false);
    assert_true(run_until(&e, is_ready, &e, 5000));
    assert_int_equal(cmd(&e, &x, 1, ping), GW_OK);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_int_equal(x.rc, GW_OK);
    assert_string_equal(x.s, "PONG");
    struct gw_kv_stats st;
    gw_kv_stats(e.kv, &st);
    assert_true(st.timeouts >= 1);
    assert_true(st.refused >= 1);
    env_close(&e);
}

static void test_stopped_server(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct env e;
    env_open(&e, R.url, 500);
    gw_kv_loop_start(e.kv, e.loop, NULL);
    assert_true(run_until(&e, is_ready, &e, 3000));
    test_redis_stop(&R);
    struct result x;
    const char *ping[] = {"PING"};
    /* the loss is seen when the loop reads the EOF; then commands fail fast */
    uint64_t t0 = mono_ms();
    while (gw_kv_conn_ready(gw_kv_conn_of(e.loop)) && mono_ms() - t0 < 2000)
        event_base_loop(e.base, EVLOOP_ONCE);
    assert_false(gw_kv_conn_ready(gw_kv_conn_of(e.loop)));
    int rc = cmd(&e, &x, 1, ping);
    if (rc == GW_OK) { /* accepted during the first reconnection attempt: fails quickly */
        assert_true(run_until(&e, res_done, &x, 2000));
        assert_int_not_equal(x.rc, GW_OK);
    } else {
        assert_int_equal(rc, GW_EIO);
    }
    assert_true(test_redis_start(&R));
    assert_true(run_until(&e, is_ready, &e, 5000));
    assert_int_equal(cmd(&e, &x, 1, ping), GW_OK);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_string_equal(x.s, "PONG");
    env_close(&e);
}

struct sub_state {
    atomic_int messages;
    atomic_int resyncs;
    char last[64];
};

static void on_msg(void *ud, const char *channel, const char *msg, size_t len)
{
    struct sub_state *s = ud;
    if (strcmp(channel, "test") == 0)
        snprintf(s->last, sizeof(s->last), "%.*s", (int)len, msg);
    atomic_fetch_add(&s->messages, 1);
}

static void on_resync(void *ud, struct gw_kv_conn *c)
{
    struct sub_state *s = ud;
    assert_true(gw_kv_conn_ready(c));
    atomic_fetch_add(&s->resyncs, 1);
}

static bool got_msg(void *arg)
{
    return atomic_load(&((struct sub_state *)arg)->messages) > 0;
}

static bool resynced_twice(void *arg)
{
    return atomic_load(&((struct sub_state *)arg)->resyncs) >= 2;
}

static void test_pubsub(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct env e;
    env_open(&e, R.url, 500);
    struct sub_state s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(gw_kv_subscribe(e.kv, "test", on_msg, on_resync, &s), GW_OK);
    assert_int_equal(gw_kv_start(e.kv, NULL), GW_OK);
    gw_kv_loop_start(e.kv, e.loop, NULL);
    assert_true(run_until(&e, is_ready, &e, 3000));
    uint64_t t0 = mono_ms();
    struct gw_kv_stats st;
    do {
        gw_kv_stats(e.kv, &st);
        test_sleep_ms(5);
    } while (!st.subscriber_ready && mono_ms() - t0 < 3000);
    assert_true(st.subscriber_ready);
    struct result x;
    const char *pub[] = {"PUBLISH", "gw:test", "hello-replicas"};
    assert_int_equal(cmd(&e, &x, 3, pub), GW_OK);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_int_equal(x.i, 1); /* one subscriber */
    assert_true(run_until(&e, got_msg, &s, 2000));
    assert_string_equal(s.last, "hello-replicas");
    assert_true(atomic_load(&s.resyncs) >= 1);
    /* a restart of Redis: the subscription comes back and the owner resyncs */
    test_redis_stop(&R);
    test_sleep_ms(50);
    assert_true(test_redis_start(&R));
    assert_true(run_until(&e, resynced_twice, &s, 5000));
    env_close(&e);
}

static int teardown_all(void **state)
{
    (void)state;
    test_redis_cleanup(&R);
    return 0;
}

/* The loop's adapter (kv_adapter.c): a command larger than the socket takes at once is sent
 * whole (the adapter then waits for writability), and many commands issued in one turn of the
 * loop are all answered, in order. */
struct many {
    int done, in_order;
    long long next;
};

static void on_incr(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct many *m = arg;
    if (rc == GW_OK && gw_kv_reply_int(r) == m->next + 1)
        m->in_order++;
    m->next = gw_kv_reply_int(r);
    m->done++;
}

static bool many_done(void *arg)
{
    return ((struct many *)arg)->done == 500;
}

static void test_adapter_large_and_many(void **state)
{
    (void)state;
    if (!test_redis_start(&R))
        skip();
    struct env e;
    env_open(&e, R.url, 2000);
    assert_int_equal(gw_kv_loop_start(e.kv, e.loop, NULL), GW_OK);
    assert_true(run_until(&e, is_ready, &e, 3000));
    enum { BIG = 8 << 20 };
    char *big = malloc(BIG + 1);
    assert_non_null(big);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 26);
    big[BIG] = '\0';
    struct result x;
    const char *set[] = {"SET", "gw:test{big}", big};
    assert_int_equal(cmd(&e, &x, 3, set), GW_OK);
    assert_true(run_until(&e, res_done, &x, 5000));
    assert_int_equal(x.rc, GW_OK);
    assert_string_equal(x.s, "OK");
    const char *len[] = {"STRLEN", "gw:test{big}"};
    cmd(&e, &x, 2, len);
    assert_true(run_until(&e, res_done, &x, 2000));
    assert_int_equal(x.i, BIG);
    free(big);
    const char *del[] = {"DEL", "gw:test{big}", "gw:test{n}"};
    cmd(&e, &x, 3, del);
    assert_true(run_until(&e, res_done, &x, 2000));
    struct many m = {0};
    const char *incr[] = {"INCR", "gw:test{n}"};
    for (int i = 0; i < 500; i++) /* one turn of the loop: one flush */
        assert_int_equal(gw_kv_cmd(gw_kv_conn_of(e.loop), on_incr, &m, 2, incr, NULL), GW_OK);
    assert_true(run_until(&e, many_done, &m, 5000));
    assert_int_equal(m.in_order, 500);
    assert_int_equal(m.next, 500);
    env_close(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_once_local),
        cmocka_unit_test(test_commands_and_scripts),
        cmocka_unit_test(test_once_redis),
        cmocka_unit_test(test_hung_server),
        cmocka_unit_test(test_stopped_server),
        cmocka_unit_test(test_pubsub),
        cmocka_unit_test(test_adapter_large_and_many),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
