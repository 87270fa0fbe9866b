/*
 * src/core/thread.c
 * Thread names and scheduling classes (see thread.h).
 */
#include "core/thread.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static atomic_bool background_batch = true;

void gw_thread_set_background_batch(bool on)
{
    atomic_store(&background_batch, on);
}

bool gw_thread_init_self(const char *name, enum gw_thread_role role)
{
    pthread_setname_np(pthread_self(), name);
    struct sched_param p = {.sched_priority = 0};
    int policy = role == GW_THREAD_BACKGROUND && atomic_load(&background_batch) ? SCHED_BATCH
                                                                                 : SCHED_OTHER;
    return pthread_setschedparam(pthread_self(), policy, &p) == 0;
}
