/*
 * src/kv/kv_internal.h
 * Shared between the files of src/kv only: the process object and the connection internals
 * (kv.c: configuration, scripts, counters, single-use table; kv_conn.c: one asynchronous
 * connection per loop; kv_sub.c: the subscriber thread; kv_adapter.c: hiredis on a loop).
 */
#ifndef GW_KV_INTERNAL_H
#define GW_KV_INTERNAL_H

#include "kv/kv.h"

#include <pthread.h>
#include <stdatomic.h>

#define KV_MAX_SCRIPTS 16
#define KV_MAX_SUBS 8
#define KV_HOST_MAX 256

struct kv_sub_entry {
    char channel[128]; /* with the prefix */
    gw_kv_message_fn on_message;
    gw_kv_resync_fn on_resync;
    void *ud;
};

struct kv_once_table;
struct kv_sub;

struct gw_kv {
    bool enabled;
    /* where */
    char host[KV_HOST_MAX];    /* TCP host as configured ("" for a unix socket) */
    int port;
    char unix_path[KV_HOST_MAX];
    int db;
    char user[128];
    char password[256];        /* secret: never logged */
    char prefix[64];
    char shown[KV_HOST_MAX + 64];
    /* the resolved address of `host` (numeric), refreshed by the subscriber thread */
    pthread_mutex_t addr_lock;
    char addr[64];
    /* behaviour */
    int connect_timeout_ms, command_timeout_ms, reconnect_max_ms;
    size_t max_pending;
    struct gw_kv_script *scripts[KV_MAX_SCRIPTS];
    int nscripts;
    struct kv_sub_entry subs[KV_MAX_SUBS];
    int nsubs;
    struct kv_sub *sub;
    struct kv_once_table *once;
    /* counters */
    atomic_uint loops, loops_ready;
    atomic_bool subscriber_ready;
    atomic_ullong commands, replies, errors, timeouts, disconnects, connects, connect_failures,
        refused, noscript_retries, messages, resyncs, once_claims, once_conflicts;
};

/* Attaches a hiredis asynchronous context to a loop (kv_adapter.c: hiredis's libevent adapter
 * without its epoll churn). REDIS_OK or REDIS_ERR. */
struct redisAsyncContext;
struct event_base;
int gw_kv__attach(struct redisAsyncContext *ac, struct event_base *base);

/* Copies the current numeric address of the host (or "" for a unix socket) into out. */
void gw_kv__addr(struct gw_kv *kv, char *out, size_t size);
/* Resolves kv->host with getaddrinfo (BLOCKS: start-up and the subscriber thread only) and
 * stores the first address. GW_OK or GW_EIO. */
int gw_kv__resolve(struct gw_kv *kv, struct gw_error *err);

/* Creates a connection driven by `loop` and starts connecting. `on_ready` (may be NULL) runs
 * on the loop each time the connection becomes ready. */
struct gw_kv_conn *gw_kv__conn_new(struct gw_kv *kv, struct gw_loop *loop,
                                   void (*on_ready)(void *ud), void *ud);
/* Fails pending commands (GW_EIO) and frees. On the loop's thread. */
void gw_kv__conn_free(struct gw_kv_conn *c);

/* The subscriber thread (kv_sub.c). */
int gw_kv__sub_start(struct gw_kv *kv, struct gw_error *err);
void gw_kv__sub_stop(struct gw_kv *kv);

/* The single-use table (kv.c). */
void gw_kv__once_free(struct kv_once_table *t);

#endif
