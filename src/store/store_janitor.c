/*
 * src/store/store_janitor.c
 * The janitor thread (store_janitor.h): loop { open a handle -> purge what is older than the
 * retention -> close it -> log what it removed or why it failed -> wait `period` or the stop
 * signal }.
 */
#include "store/store_janitor.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct gw_store_janitor {
    char *url, *what;
    gw_store_purge_fn purge;
    int retention_days;
    unsigned period_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

static void *janitor_main(void *arg)
{
    gw_thread_init_self("gw-janitor", GW_THREAD_BACKGROUND);
    struct gw_store_janitor *j = arg;
    struct gw_store *st = NULL;
    bool first = true;
    pthread_mutex_lock(&j->lock);
    while (!j->stop) {
        pthread_mutex_unlock(&j->lock);
        struct gw_error err = {0};
        long long n = 0;
        char before[32];
        gw_clock_iso(gw_clock_now() - (int64_t)j->retention_days * 86400, before,
                     sizeof(before));
        int rc = gw_store_open(j->url, NULL, &st, &err);
        if (rc == GW_OK)
            rc = j->purge(st, before, &n, &err);
        /* a connection only for the round: an hour of idle connection costs memory (~120 KB
         * of SQLite caches) and a PostgreSQL backend */
        gw_store_close(st);
        st = NULL;
        if (rc != GW_OK)
            GW_LOG(first ? GW_LOG_INFO : GW_LOG_WARN, "store",
                   "cannot delete %s yet (again in %u s): %s", j->what, j->period_s, err.msg);
        else if (n)
            GW_LOG(GW_LOG_INFO, "store", "deleted %lld %s", n, j->what);
        first = false;
        pthread_mutex_lock(&j->lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)j->period_s;
        while (!j->stop && pthread_cond_timedwait(&j->cond, &j->lock, &ts) == 0) {
        }
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Frees a janitor whose thread has ended or never started. */
static void janitor_free(struct gw_store_janitor *j)
{
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    gw_free(j->url);
    gw_free(j->what);
    gw_free(j);
}

struct gw_store_janitor *gw_store_janitor_start(const char *url, const char *what,
                                                gw_store_purge_fn purge, int retention_days,
                                                unsigned period_s)
{
    struct gw_store_janitor *j = gw_xcalloc(1, sizeof(*j));
    j->url = gw_xstrdup(url);
    j->what = gw_xstrdup(what);
    j->purge = purge;
    j->retention_days = retention_days;
    j->period_s = period_s ? period_s : 3600;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    if (pthread_create(&j->thread, NULL, janitor_main, j) != 0) {
        GW_LOG(GW_LOG_WARN, "store", "cannot start the thread that deletes %s", what);
        janitor_free(j);
        return NULL;
    }
    return j;
}

void gw_store_janitor_stop(struct gw_store_janitor *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stop = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->thread, NULL);
    janitor_free(j);
}
