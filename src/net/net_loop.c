/*
 * src/net/net_loop.c
 * Mailbox: a mutex-protected FIFO drained by an event that posting threads activate
 * (event_active is safe across threads once evthread_use_pthreads has run).
 */
#include "net/net_loop.h"

#include "core/alloc.h"
#include "core/err.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdbool.h>

struct task {
    struct task *next;
    gw_task_fn fn;
    void *arg;
};

struct gw_loop {
    struct event_base *base;
    struct event *ev;
    pthread_mutex_t lock;
    struct task *head, *tail;
    bool closed;
    void *slots[GW_LOOP_SLOTS];
};

static _Thread_local struct gw_loop *tl_loop;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_threads(void)
{
    evthread_use_pthreads();
}

void gw_loop_init_threads(void)
{
    pthread_once(&once, init_threads);
}

void gw_loop_set_slot(struct gw_loop *l, int idx, void *p)
{
    if (idx >= 0 && idx < GW_LOOP_SLOTS)
        l->slots[idx] = p;
}

void *gw_loop_slot(const struct gw_loop *l, int idx)
{
    return l && idx >= 0 && idx < GW_LOOP_SLOTS ? l->slots[idx] : NULL;
}

static void drain(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_loop *l = arg;
    pthread_mutex_lock(&l->lock);
    struct task *t = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->lock);
    while (t) {
        struct task *next = t->next;
        t->fn(t->arg);
        gw_free(t);
        t = next;
    }
}

struct gw_loop *gw_loop_new(struct event_base *base)
{
    struct gw_loop *l = gw_xcalloc(1, sizeof(*l));
    l->base = base;
    l->ev = event_new(base, -1, 0, drain, l);
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void gw_loop_close(struct gw_loop *l)
{
    pthread_mutex_lock(&l->lock);
    l->closed = true;
    pthread_mutex_unlock(&l->lock);
    drain(-1, 0, l);
}

void gw_loop_free(struct gw_loop *l)
{
    if (!l)
        return;
    gw_loop_close(l);
    event_free(l->ev);
    pthread_mutex_destroy(&l->lock);
    gw_free(l);
}

struct event_base *gw_loop_base(struct gw_loop *l)
{
    return l->base;
}

int gw_loop_post(struct gw_loop *l, gw_task_fn fn, void *arg)
{
    struct task *t = gw_xmalloc(sizeof(*t));
    t->next = NULL;
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&l->lock);
    if (l->closed) {
        pthread_mutex_unlock(&l->lock);
        gw_free(t);
        return GW_ERR;
    }
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    event_active(l->ev, EV_READ, 0);
    pthread_mutex_unlock(&l->lock);
    return GW_OK;
}

void gw_loop_set_current(struct gw_loop *l)
{
    tl_loop = l;
}

struct gw_loop *gw_loop_current(void)
{
    return tl_loop;
}
