/*
 * src/store/store_thread.h
 * One store handle per thread of a pool: the admin API's and the chat's blocking work runs on
 * pool threads, each of which opens its own connection on first use (a handle is not
 * thread-safe) and keeps it until the thread exits.
 */
#ifndef GW_STORE_STORE_THREAD_H
#define GW_STORE_STORE_THREAD_H

#include "store/store.h"

#include <pthread.h>

struct gw_store_per_thread {
    pthread_key_t key; /* the calling thread's struct gw_store * (closed when it exits) */
    char *url;
    struct gw_store_options opts;
};

/* Copies url and opts (opts may be NULL: defaults). */
void gw_store_per_thread_init(struct gw_store_per_thread *t, const char *url,
                              const struct gw_store_options *opts);
/* The calling thread's handle, opened on first use. NULL with err set on failure. */
struct gw_store *gw_store_per_thread_get(struct gw_store_per_thread *t, struct gw_error *err);
/* Closes the calling thread's handle (a broken connection): the next get reopens it. */
void gw_store_per_thread_drop(struct gw_store_per_thread *t);
/* Frees; call after every thread that used it has exited (their handles are closed then). */
void gw_store_per_thread_fini(struct gw_store_per_thread *t);

#endif
