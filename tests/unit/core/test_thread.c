/*
 * tests/unit/core/test_thread.c
 * core/thread.h: a thread that initialises itself gets its name and the scheduling class of
 * its role: background threads SCHED_BATCH (or the normal class when batch is turned off),
 * serving threads the normal class even when started by a background thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/thread.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

struct probe {
    const char *name;
    enum gw_thread_role role;
    bool ok;
    int policy;
    char seen[16];
};

static void *probe_main(void *arg)
{
    struct probe *p = arg;
    p->ok = gw_thread_init_self(p->name, p->role);
    p->policy = sched_getscheduler(0);
    pthread_getname_np(pthread_self(), p->seen, sizeof(p->seen));
    return NULL;
}

static struct probe run_probe(const char *name, enum gw_thread_role role)
{
    struct probe p = {.name = name, .role = role};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, probe_main, &p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return p;
}

static void test_roles(void **state)
{
    (void)state;
    gw_thread_set_background_batch(true);
    struct probe b = run_probe("gw-unit-bg", GW_THREAD_BACKGROUND);
    assert_true(b.ok);
    assert_int_equal(b.policy, SCHED_BATCH);
    assert_string_equal(b.seen, "gw-unit-bg");
    struct probe s = run_probe("gw-unit-serve", GW_THREAD_SERVING);
    assert_true(s.ok);
    assert_int_equal(s.policy, SCHED_OTHER);
    assert_string_equal(s.seen, "gw-unit-serve");

    gw_thread_set_background_batch(false); /* GW_BACKGROUND_SCHEDULING=normal */
    b = run_probe("gw-unit-bg", GW_THREAD_BACKGROUND);
    assert_true(b.ok);
    assert_int_equal(b.policy, SCHED_OTHER);
    gw_thread_set_background_batch(true);
}

/* A serving thread started by a batch thread (which it would inherit from) is put back in the
 * normal class. */
static void *batch_parent(void *arg)
{
    struct probe *p = arg;
    gw_thread_init_self("gw-unit-parent", GW_THREAD_BACKGROUND);
    *p = run_probe("gw-unit-child", GW_THREAD_SERVING);
    return NULL;
}

static void test_serving_child_of_background(void **state)
{
    (void)state;
    gw_thread_set_background_batch(true);
    struct probe child;
    memset(&child, 0, sizeof(child));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, batch_parent, &child), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(child.ok);
    assert_int_equal(child.policy, SCHED_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_serving_child_of_background),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
