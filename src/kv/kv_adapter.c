/*
 * src/kv/kv_adapter.c
 * Drives a hiredis asynchronous connection from a libevent loop without churning epoll: the
 * replacement of hiredis's own libevent adapter (adapters/libevent.h), whose one-shot events
 * cost four epoll_ctl per command and reply (the write event added and removed, the read event
 * removed when it fires and added again).
 *
 *   reading  one persistent read event, registered from attach to cleanup
 *   writing  a command asks for a flush: an event activated on the loop (no system call), run
 *            after the callbacks of the current turn, so the commands of one turn leave in one
 *            write; only when the socket does not take everything (or while connecting) is a
 *            real write event registered until it has
 *
 * Threading: the loop's thread only, as hiredis's asynchronous API.
 */
#include "kv/kv_internal.h"

#include "core/alloc.h"

#include <event2/event.h>
#include <hiredis/async.h>

struct kv_adapter {
    redisAsyncContext *ac;
    struct event *rev, *wev, *flush;
    bool in_flush; /* hiredis asks for writability from inside our flush: the socket is full */
};

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kv_adapter *a = arg;
    redisAsyncHandleRead(a->ac);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kv_adapter *a = arg;
    redisAsyncHandleWrite(a->ac);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kv_adapter *a = arg;
    a->in_flush = true; /* reset by add_write or del_write, which hiredis calls from here */
    redisAsyncHandleWrite(a->ac); /* may free the context and `a`: not touched after */
}

static void add_read(void *privdata)
{
    struct kv_adapter *a = privdata;
    if (!event_pending(a->rev, EV_READ, NULL))
        event_add(a->rev, NULL); /* already there after the first time: no system call */
}

static void del_read(void *privdata)
{
    struct kv_adapter *a = privdata;
    event_del(a->rev);
}

static void add_write(void *privdata)
{
    struct kv_adapter *a = privdata;
    bool full = a->in_flush; /* asked from inside the flush: the socket took less than all */
    a->in_flush = false;
    if (event_pending(a->wev, EV_WRITE, NULL))
        return; /* already waiting for writability */
    if (full || !(a->ac->c.flags & REDIS_CONNECTED)) {
        event_add(a->wev, NULL); /* or connect(2) is still in progress */
        return;
    }
    event_active(a->flush, EV_WRITE, 0); /* once per turn however many commands are queued */
}

static void del_write(void *privdata)
{
    struct kv_adapter *a = privdata;
    a->in_flush = false;
    if (event_pending(a->wev, EV_WRITE, NULL))
        event_del(a->wev);
}

static void cleanup(void *privdata)
{
    struct kv_adapter *a = privdata;
    event_free(a->rev);
    event_free(a->wev);
    event_free(a->flush); /* also takes it off the active queue */
    gw_free(a);
}

int gw_kv__attach(redisAsyncContext *ac, struct event_base *base)
{
    if (ac->ev.data)
        return REDIS_ERR;
    struct kv_adapter *a = gw_xcalloc(1, sizeof(*a));
    a->ac = ac;
    a->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_readable, a);
    a->wev = event_new(base, ac->c.fd, EV_WRITE | EV_PERSIST, on_writable, a);
    a->flush = event_new(base, -1, 0, on_flush, a);
    if (!a->rev || !a->wev || !a->flush) {
        cleanup(a);
        return REDIS_ERR;
    }
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = a;
    event_add(a->rev, NULL);
    event_add(a->wev, NULL); /* until connected: connect(2) completes with writability */
    return REDIS_OK;
}
