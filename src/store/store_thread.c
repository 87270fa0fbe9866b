/*
 * src/store/store_thread.c
 * Per-thread store handles for the pools that do blocking database work (store_thread.h).
 */
#include "store/store_thread.h"

#include "core/alloc.h"

static void close_store(void *p)
{
    gw_store_close(p);
}

void gw_store_per_thread_init(struct gw_store_per_thread *t, const char *url,
                              const struct gw_store_options *opts)
{
    pthread_key_create(&t->key, close_store);
    t->url = gw_xstrdup(url);
    t->opts = opts ? *opts : (struct gw_store_options){0};
}

struct gw_store *gw_store_per_thread_get(struct gw_store_per_thread *t, struct gw_error *err)
{
    struct gw_store *st = pthread_getspecific(t->key);
    if (st)
        return st;
    if (gw_store_open(t->url, &t->opts, &st, err) != GW_OK)
        return NULL;
    pthread_setspecific(t->key, st);
    return st;
}

void gw_store_per_thread_drop(struct gw_store_per_thread *t)
{
    struct gw_store *st = pthread_getspecific(t->key);
    pthread_setspecific(t->key, NULL);
    gw_store_close(st);
}

void gw_store_per_thread_fini(struct gw_store_per_thread *t)
{
    pthread_key_delete(t->key);
    gw_free(t->url);
    t->url = NULL;
}
