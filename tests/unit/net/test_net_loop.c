/*
 * tests/unit/net/test_net_loop.c
 * The loop mailbox (net/net_loop.h): tasks posted from several threads all run, on the loop's
 * thread, in FIFO order per poster, never synchronously inside gw_loop_post; after
 * gw_loop_close posts fail with GW_ERR and the task does not run, while tasks queued before
 * the close still run; gw_loop_free runs what is queued; the current-loop marker is per
 * thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "net/net_loop.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

enum { POSTERS = 4, PER_POSTER = 5000 };

struct ctx {
    struct gw_loop *loop;
    pthread_t loop_thread;
    atomic_int ran;
    int last_seq[POSTERS];
    bool order_ok;
    bool thread_ok;
};

struct item {
    struct ctx *c;
    int poster;
    int seq;
};

static struct item items[POSTERS][PER_POSTER];

static void task(void *arg)
{
    struct item *it = arg;
    struct ctx *c = it->c;
    if (!pthread_equal(pthread_self(), c->loop_thread))
        c->thread_ok = false;
    if (it->seq != c->last_seq[it->poster] + 1)
        c->order_ok = false;
    c->last_seq[it->poster] = it->seq;
    if (atomic_fetch_add(&c->ran, 1) + 1 == POSTERS * PER_POSTER)
        event_base_loopbreak(gw_loop_base(c->loop));
}

struct poster_arg {
    struct ctx *c;
    int id;
    int failures;
};

static void *poster(void *p)
{
    struct poster_arg *a = p;
    for (int i = 0; i < PER_POSTER; i++) {
        items[a->id][i] = (struct item){a->c, a->id, i};
        if (gw_loop_post(a->c->loop, task, &items[a->id][i]) != GW_OK)
            a->failures++;
    }
    return NULL;
}

static void test_many_posters(void **state)
{
    (void)state;
    gw_loop_init_threads();
    struct event_base *base = event_base_new();
    struct ctx c;
    memset(&c, 0, sizeof(c));
    c.loop = gw_loop_new(base);
    c.loop_thread = pthread_self();
    c.order_ok = true;
    c.thread_ok = true;
    for (int i = 0; i < POSTERS; i++)
        c.last_seq[i] = -1;
    gw_loop_set_current(c.loop);
    assert_ptr_equal(gw_loop_current(), c.loop);
    pthread_t t[POSTERS];
    struct poster_arg args[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        args[i] = (struct poster_arg){&c, i, 0};
        pthread_create(&t[i], NULL, poster, &args[i]);
    }
    /* a safety timeout so a lost wake-up fails instead of hanging */
    struct timeval limit = {20, 0};
    event_base_loopexit(base, &limit);
    while (atomic_load(&c.ran) < POSTERS * PER_POSTER && !event_base_got_exit(base))
        event_base_loop(base, EVLOOP_ONCE);
    for (int i = 0; i < POSTERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(atomic_load(&c.ran), POSTERS * PER_POSTER);
    assert_true(c.order_ok);
    assert_true(c.thread_ok);
    gw_loop_set_current(NULL);
    assert_null(gw_loop_current());
    gw_loop_free(c.loop);
    event_base_free(base);
}

static int counter;

static void count(void *arg)
{
    (void)arg;
    counter++;
}

static void test_not_synchronous_and_close(void **state)
{
    (void)state;
    gw_loop_init_threads();
    struct event_base *base = event_base_new();
    struct gw_loop *l = gw_loop_new(base);
    counter = 0;
    assert_int_equal(gw_loop_post(l, count, NULL), GW_OK);
    assert_int_equal(counter, 0); /* never run inside post */
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(counter, 1);
    /* queued before close: runs at close; posted after: refused and never run */
    assert_int_equal(gw_loop_post(l, count, NULL), GW_OK);
    assert_int_equal(gw_loop_post(l, count, NULL), GW_OK);
    gw_loop_close(l);
    assert_int_equal(counter, 3);
    assert_int_equal(gw_loop_post(l, count, NULL), GW_ERR);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(counter, 3);
    gw_loop_free(l);
    event_base_free(base);
}

static void test_free_runs_queued(void **state)
{
    (void)state;
    gw_loop_init_threads();
    struct event_base *base = event_base_new();
    struct gw_loop *l = gw_loop_new(base);
    counter = 0;
    for (int i = 0; i < 10; i++)
        assert_int_equal(gw_loop_post(l, count, NULL), GW_OK);
    gw_loop_free(l); /* tasks may own memory: they run rather than leak */
    assert_int_equal(counter, 10);
    gw_loop_free(NULL);
    event_base_free(base);
}

static void *other_thread_current(void *p)
{
    (void)p;
    return gw_loop_current();
}

static void test_current_is_per_thread(void **state)
{
    (void)state;
    gw_loop_init_threads();
    struct event_base *base = event_base_new();
    struct gw_loop *l = gw_loop_new(base);
    gw_loop_set_current(l);
    pthread_t t;
    void *seen = (void *)1;
    pthread_create(&t, NULL, other_thread_current, NULL);
    pthread_join(t, &seen);
    assert_null(seen);
    assert_ptr_equal(gw_loop_current(), l);
    gw_loop_set_current(NULL);
    gw_loop_free(l);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_posters),
        cmocka_unit_test(test_not_synchronous_and_close),
        cmocka_unit_test(test_free_runs_queued),
        cmocka_unit_test(test_current_is_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
