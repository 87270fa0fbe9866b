/*
 * src/core/thread.h
 * How the platform's threads present themselves to the kernel: their names (seen in `top -H`,
 * /proc and profiles) and their scheduling class. Request workers stay in the normal class;
 * background threads (the audit writer, the log sink, loaders, exporters) run as SCHED_BATCH by
 * default, so that waking one (a record queued, a line logged) never preempts the worker that
 * woke it: on a busy machine the worker finishes its turn of the event loop first and the
 * background thread then finds a bigger batch (one group commit for more records).
 */
#ifndef GW_CORE_THREAD_H
#define GW_CORE_THREAD_H

#include <stdbool.h>

enum gw_thread_role {
    GW_THREAD_SERVING,    /* answers requests: normal scheduling */
    GW_THREAD_BACKGROUND, /* batch work beside the requests: SCHED_BATCH unless turned off */
};

/* Process-wide, before the threads start (GW_BACKGROUND_SCHEDULING): whether background
 * threads ask for SCHED_BATCH (default true). */
void gw_thread_set_background_batch(bool on);

/* Called first by a thread about itself: sets its name (at most 15 characters) and its
 * scheduling class for `role`. Returns false if the class could not be set (the thread then
 * runs with the normal class; no privilege is needed for SCHED_BATCH, so this is rare). */
bool gw_thread_init_self(const char *name, enum gw_thread_role role);

#endif
