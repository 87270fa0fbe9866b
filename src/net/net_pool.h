/*
 * src/net/net_pool.h
 * A small pool of threads for blocking work (database, file and spec-fetch I/O of the admin
 * API), so that nothing blocks an event loop. A job runs `work` on a pool thread, then `done`
 * on the loop that submitted it (through the loop's mailbox). Jobs are FIFO; the queue is
 * bounded (a full queue refuses new jobs: the caller answers 503).
 */
#ifndef GW_NET_POOL_H
#define GW_NET_POOL_H

#include "net/net_loop.h"

#include <stddef.h>

struct gw_pool;

/* Creates `threads` workers (>= 1) with a queue of at most `max_queue` waiting jobs. */
struct gw_pool *gw_pool_new(int threads, size_t max_queue);
/* Finishes queued jobs, joins the threads and frees. Their `done` callbacks are posted to
 * their loops if those still accept posts (else dropped after `work` ran). */
void gw_pool_free(struct gw_pool *p);

/* Queues work(arg) on a pool thread, then done(arg) on `loop`. GW_OK, or GW_ELIMIT when the
 * queue is full / the pool is stopping (neither function is called then). */
int gw_pool_submit(struct gw_pool *p, gw_task_fn work, gw_task_fn done, void *arg,
                   struct gw_loop *loop);

#endif
