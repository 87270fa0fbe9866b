/*
 * src/net/net_pool.c
 * Blocking-work pool: a mutex + condition variable protected FIFO and N threads.
 * Invariant: every accepted job runs `work` exactly once; `done` runs at most once, on the
 * submitting loop.
 */
#include "net/net_pool.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/thread.h"

#include <pthread.h>
#include <stdbool.h>

struct job {
    struct job *next;
    gw_task_fn work, done;
    void *arg;
    struct gw_loop *loop;
};

struct gw_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued, max_queue;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    gw_thread_init_self("gw-pool", GW_THREAD_SERVING);
    struct gw_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        struct job *j = p->head;
        if (!j) {
            pthread_mutex_unlock(&p->lock);
            return NULL; /* stopping and drained */
        }
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        j->work(j->arg);
        /* when the loop is gone nothing can take the result any more: done is dropped */
        if (j->done)
            (void)gw_loop_post(j->loop, j->done, j->arg);
        gw_free(j);
    }
}

struct gw_pool *gw_pool_new(int threads, size_t max_queue)
{
    struct gw_pool *p = gw_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->max_queue = max_queue ? max_queue : 64;
    p->nthreads = threads > 0 ? threads : 1;
    p->threads = gw_xcalloc((size_t)p->nthreads, sizeof(pthread_t));
    for (int i = 0; i < p->nthreads; i++)
        pthread_create(&p->threads[i], NULL, pool_main, p);
    return p;
}

void gw_pool_free(struct gw_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    gw_free(p->threads);
    gw_free(p);
}

int gw_pool_submit(struct gw_pool *p, gw_task_fn work, gw_task_fn done, void *arg,
                   struct gw_loop *loop)
{
    struct job *j = gw_xmalloc(sizeof(*j));
    j->next = NULL;
    j->work = work;
    j->done = done;
    j->arg = arg;
    j->loop = loop;
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->max_queue) {
        pthread_mutex_unlock(&p->lock);
        gw_free(j);
        return GW_ELIMIT;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return GW_OK;
}
