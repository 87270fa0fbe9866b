/*
 * src/registry/registry.c
 * The registry: current snapshot, atomic swap, reloads from the store, the watcher thread and
 * change listeners.
 *
 * Locks (never nested except reload_mu -> swap_mu and reload_mu -> lis_mu, in that order):
 *   swap_mu    guards `cur` only; held for a pointer read plus an atomic increment
 *              (acquire) or a pointer write (swap). Readers never wait on the database.
 *   reload_mu  serialises reloads and publishes, owns the store handle and next_version, so
 *              snapshots are built and swapped in version order and listeners hear them in
 *              that order.
 *   lis_mu     guards the listener table; held while calling listeners.
 *   stop_mu    guards `stop` and `listener` (so gw_registry_free can wake a waiting watcher).
 * Watcher thread: open a store listener (retry with exponential backoff 100 ms → 30 s while the
 * database is unreachable), then loop: wait for a notification or poll_ms, reload if the
 * store's registry version moved; on a lost connection close the listener and start over (a
 * reload check follows every reconnect, since notifications may have been missed).
 * Not here: snapshot internals (registry_snapshot.c), who sees which tool (exposure).
 */
#include "registry/registry.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "store/store_tool.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Listeners are a handful of subsystems (MCP sessions fan out on their own). */
#define MAX_LISTENERS 32
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define TRIM_AFTER_BYTES ((size_t)4 << 20) /* snapshots from this size trim the heap after */

/* A registered change listener (id 0 = free slot). */
struct listener_slot {
    int id;
    gw_registry_change_fn fn;
    void *ctx;
};

/* See the file comment for which lock guards which field. */
struct gw_registry {
    pthread_mutex_t swap_mu;
    struct gw_snapshot *cur;

    pthread_mutex_t reload_mu;
    struct gw_store *store;
    uint64_t next_version;
    struct gw_snapshot_ext exts[GW_SNAPSHOT_EXT_MAX]; /* guarded by reload_mu */
    size_t nexts;
    json_t *published; /* the definitions of the last publish (registries without a store) */

    pthread_mutex_t lis_mu;
    struct listener_slot lis[MAX_LISTENERS];
    int next_lis_id;

    char *url;
    struct gw_store_options opts;
    int poll_ms;

    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    bool stop;
    struct gw_store_listener *listener;
    pthread_t thread;
    bool thread_running;

    atomic_ullong reloads, reload_errors, notifications, checks;
    atomic_bool listening, loaded, store_ok;
    atomic_llong last_ok_unix;
};

/* Calls every listener with lis_mu held (so off_change waits for running calls). */
static void notify_listeners(struct gw_registry *reg, const struct gw_registry_change *chg)
{
    pthread_mutex_lock(&reg->lis_mu);
    for (int i = 0; i < MAX_LISTENERS; i++)
        if (reg->lis[i].id)
            reg->lis[i].fn(reg->lis[i].ctx, chg);
    pthread_mutex_unlock(&reg->lis_mu);
}

/* Installs `s` (taking over the caller's reference) and tells the listeners. Called with
 * reload_mu held. */
static void swap_in(struct gw_registry *reg, struct gw_snapshot *s)
{
    pthread_mutex_lock(&reg->swap_mu);
    struct gw_snapshot *old = reg->cur;
    reg->cur = s;
    pthread_mutex_unlock(&reg->swap_mu);
    struct gw_registry_change chg = {
        .old_version = old ? gw_snapshot_version(old) : 0,
        .new_version = gw_snapshot_version(s),
        .store_version = gw_snapshot_store_version(s),
        .tool_count = gw_snapshot_count(s),
        .list_changed = !old || gw_snapshot_fingerprint(old) != gw_snapshot_fingerprint(s),
    };
    gw_snapshot_release(old);
    atomic_fetch_add(&reg->reloads, 1);
    atomic_store(&reg->loaded, true);
    GW_LOG(GW_LOG_INFO, "registry", "snapshot %llu: %zu tools (store version %lld)%s",
           (unsigned long long)chg.new_version, chg.tool_count, chg.store_version,
           chg.list_changed ? "" : ", list unchanged");
    notify_listeners(reg, &chg);
}

struct gw_snapshot *gw_registry_acquire(struct gw_registry *reg)
{
    pthread_mutex_lock(&reg->swap_mu);
    struct gw_snapshot *s = gw_snapshot_ref(reg->cur);
    pthread_mutex_unlock(&reg->swap_mu);
    return s;
}

/* Scan callback: adds every servable definition to the snapshot being built (which copies
 * its compact text: no definition is kept as a document). */
struct scan {
    struct gw_snapshot_builder *b;
    struct gw_error *err;
};

static int collect(void *ctx, json_t *def)
{
    struct scan *sc = ctx;
    return gw_snapshot_builder_add(sc->b, def, sc->err);
}

/* The body of a reload; reload_mu is held. Without force, a cheap version read decides whether
 * the full scan is needed. */
static int reload_locked(struct gw_registry *reg, bool force, bool *out_swapped,
                         struct gw_error *err)
{
    long long current = 0, version = 0;
    struct gw_snapshot *s = NULL;
    int rc = GW_OK;
    if (!force) {
        pthread_mutex_lock(&reg->swap_mu);
        current = gw_snapshot_store_version(reg->cur);
        pthread_mutex_unlock(&reg->swap_mu);
        rc = gw_store_registry_version(reg->store, &version, err);
        if (rc != GW_OK || version == current)
            return rc;
    }
    struct scan sc = {gw_snapshot_builder_new(reg->next_version, 0, reg->exts, reg->nexts), err};
    rc = gw_store_tool_scan_servable(reg->store, collect, &sc, &version, err);
    if (rc != GW_OK) {
        gw_snapshot_builder_free(sc.b);
        return rc;
    }
    gw_snapshot_builder_set_store_version(sc.b, version);
    rc = gw_snapshot_builder_finish(sc.b, &s, err);
    if (rc != GW_OK)
        return rc;
    /* every definition was parsed and freed again: hand that heap back to the system, so a
     * large catalogue's resident memory is its compact snapshot, not the peak of the build */
    if (gw_snapshot_memory(s) >= TRIM_AFTER_BYTES)
        malloc_trim(0);
    reg->next_version++;
    swap_in(reg, s);
    *out_swapped = true;
    return GW_OK;
}

int gw_registry_reload(struct gw_registry *reg, bool force, bool *out_swapped,
                       struct gw_error *err)
{
    bool swapped = false;
    if (out_swapped)
        *out_swapped = false;
    if (!reg->url)
        return GW_ERROR_SET(err, GW_EINVAL, "registry has no store to reload from");
    pthread_mutex_lock(&reg->reload_mu);
    int rc = GW_OK;
    if (!reg->store) /* a lazy registry whose database was unreachable at start */
        rc = gw_store_open(reg->url, &reg->opts, &reg->store, err);
    if (rc == GW_OK)
        rc = reload_locked(reg, force || !atomic_load(&reg->loaded), &swapped, err);
    pthread_mutex_unlock(&reg->reload_mu);
    if (rc != GW_OK) {
        atomic_fetch_add(&reg->reload_errors, 1);
        atomic_store(&reg->store_ok, false);
    } else {
        atomic_store(&reg->store_ok, true);
        atomic_store(&reg->last_ok_unix, (long long)time(NULL));
    }
    if (out_swapped)
        *out_swapped = swapped;
    return rc;
}

/* A snapshot of `defs` with the registered extensions. */
static int build_from(struct gw_registry *reg, const json_t *defs, struct gw_snapshot **out,
                      struct gw_error *err)
{
    return gw_snapshot_build(defs, reg->next_version, 0, reg->exts, reg->nexts, out, err);
}

int gw_registry_publish(struct gw_registry *reg, const json_t *defs, struct gw_error *err)
{
    struct gw_snapshot *s = NULL;
    pthread_mutex_lock(&reg->reload_mu);
    int rc = build_from(reg, defs, &s, err);
    if (rc == GW_OK) {
        reg->next_version++;
        json_decref(reg->published);
        reg->published = json_incref((json_t *)(uintptr_t)defs);
        swap_in(reg, s);
    }
    pthread_mutex_unlock(&reg->reload_mu);
    return rc;
}

int gw_registry_add_ext(struct gw_registry *reg, const struct gw_snapshot_ext *ext)
{
    pthread_mutex_lock(&reg->reload_mu);
    if (reg->nexts >= GW_SNAPSHOT_EXT_MAX) {
        pthread_mutex_unlock(&reg->reload_mu);
        return -1;
    }
    int idx = (int)reg->nexts;
    reg->exts[reg->nexts++] = *ext;
    pthread_mutex_unlock(&reg->reload_mu);
    /* rebuild now, so that the current snapshot carries the extension's data too */
    struct gw_error err = {0};
    if (reg->url) {
        /* a lazy registry whose database is not reachable yet loads later, with the extension */
        if (gw_registry_reload(reg, true, NULL, &err) != GW_OK)
            GW_LOG(GW_LOG_WARN, "registry", "rebuild for a new extension failed: %s", err.msg);
    } else {
        json_t *defs = reg->published ? json_incref(reg->published) : json_array();
        if (gw_registry_publish(reg, defs, &err) != GW_OK)
            GW_LOG(GW_LOG_WARN, "registry", "rebuild for a new extension failed: %s", err.msg);
        json_decref(defs);
    }
    return idx;
}

/* ---- watcher ----------------------------------------------------------------------------- */

/* Sleeps up to ms unless stopped; returns true when stopping. */
static bool stoppable_sleep(struct gw_registry *reg, int ms)
{
    struct timespec until = gw_clock_deadline(CLOCK_MONOTONIC, ms);
    pthread_mutex_lock(&reg->stop_mu);
    while (!reg->stop &&
           pthread_cond_timedwait(&reg->stop_cv, &reg->stop_mu, &until) != ETIMEDOUT) {
    }
    bool stop = reg->stop;
    pthread_mutex_unlock(&reg->stop_mu);
    return stop;
}

/* Whether gw_registry_free asked the watcher to stop. */
static bool stopping(struct gw_registry *reg)
{
    pthread_mutex_lock(&reg->stop_mu);
    bool stop = reg->stop;
    pthread_mutex_unlock(&reg->stop_mu);
    return stop;
}

/* One version check by the watcher, with log noise limited to the first failure of a streak. */
static void check(struct gw_registry *reg, bool *failing)
{
    struct gw_error err = {0};
    int rc = gw_registry_reload(reg, false, NULL, &err);
    atomic_fetch_add(&reg->checks, 1);
    if (rc == GW_OK) {
        if (*failing)
            GW_LOG(GW_LOG_INFO, "registry", "reloads work again");
        *failing = false;
        return;
    }
    /* the first failure of a streak is a warning, the rest are debug noise */
    GW_LOG(*failing ? GW_LOG_DEBUG : GW_LOG_WARN, "registry",
           "registry reload failed, serving the previous snapshot: %s", err.msg);
    *failing = true;
}

/* The watcher thread (algorithm in the file comment). */
static void *watcher_main(void *arg)
{
    gw_thread_init_self("gw-registry", GW_THREAD_BACKGROUND);
    struct gw_registry *reg = arg;
    int backoff = BACKOFF_MIN_MS;
    bool failing = false, open_failing = false;
    while (!stopping(reg)) {
        struct gw_error err = {0};
        struct gw_store_listener *l = NULL;
        if (gw_store_listener_open(reg->url, &reg->opts, &l, &err) != GW_OK) {
            GW_LOG(open_failing ? GW_LOG_DEBUG : GW_LOG_WARN, "registry",
                   "cannot listen for registry changes (retrying in %d ms): %s", backoff,
                   err.msg);
            open_failing = true;
            if (stoppable_sleep(reg, backoff))
                break;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (open_failing)
            GW_LOG(GW_LOG_INFO, "registry", "listening for registry changes again");
        open_failing = false;
        backoff = BACKOFF_MIN_MS;
        pthread_mutex_lock(&reg->stop_mu);
        reg->listener = l;
        bool stop = reg->stop;
        pthread_mutex_unlock(&reg->stop_mu);
        atomic_store(&reg->listening, true);
        if (!stop)
            check(reg, &failing); /* changes may have happened while not listening */
        while (!stopping(reg)) {
            int rc = gw_store_listener_wait(l, reg->poll_ms > 0 ? reg->poll_ms : -1, &err);
            if (stopping(reg))
                break;
            if (rc == GW_EIO) {
                GW_LOG(GW_LOG_WARN, "registry", "registry change listener lost: %s", err.msg);
                break;
            }
            if (rc == GW_OK)
                atomic_fetch_add(&reg->notifications, 1);
            check(reg, &failing);
        }
        atomic_store(&reg->listening, false);
        pthread_mutex_lock(&reg->stop_mu);
        reg->listener = NULL;
        pthread_mutex_unlock(&reg->stop_mu);
        gw_store_listener_close(l);
    }
    return NULL;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

int gw_registry_new(const struct gw_registry_config *cfg, struct gw_registry **out,
                    struct gw_error *err)
{
    struct gw_registry *reg = gw_xcalloc(1, sizeof(*reg));
    struct gw_snapshot *empty = NULL;
    int rc = GW_OK;
    *out = NULL;
    pthread_mutex_init(&reg->swap_mu, NULL);
    pthread_mutex_init(&reg->reload_mu, NULL);
    pthread_mutex_init(&reg->lis_mu, NULL);
    pthread_mutex_init(&reg->stop_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&reg->stop_cv, &ca);
    pthread_condattr_destroy(&ca);
    reg->next_version = 1;
    reg->poll_ms = cfg->poll_ms;
    if (cfg->store_opts)
        reg->opts = *cfg->store_opts;
    json_t *none = json_array();
    rc = gw_snapshot_new(none, 0, 0, &empty, err);
    json_decref(none);
    if (rc != GW_OK)
        goto fail;
    reg->cur = empty;
    if (cfg->watch && !cfg->store_url) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "a registry without a store has nothing to watch");
        goto fail;
    }
    if (cfg->store_url) {
        reg->url = gw_xstrdup(cfg->store_url);
        rc = gw_registry_reload(reg, true, NULL, err); /* opens the store first */
        if (rc != GW_OK && cfg->lazy && cfg->watch) {
            /* the watcher reconnects and loads the first snapshot when the database is back */
            GW_LOG(GW_LOG_WARN, "registry",
                   "first registry load failed (not ready until the database answers): %s",
                   err->msg);
            rc = GW_OK;
        }
        if (rc != GW_OK)
            goto fail;
    }
    if (cfg->watch) {
        if (pthread_create(&reg->thread, NULL, watcher_main, reg) != 0) {
            rc = GW_ERROR_SET(err, GW_ERR, "cannot start the registry watcher thread");
            goto fail;
        }
        reg->thread_running = true;
    }
    *out = reg;
    return GW_OK;
fail:
    gw_registry_free(reg);
    return rc;
}

void gw_registry_free(struct gw_registry *reg)
{
    if (!reg)
        return;
    if (reg->thread_running) {
        pthread_mutex_lock(&reg->stop_mu);
        reg->stop = true;
        gw_store_listener_wake(reg->listener);
        pthread_cond_broadcast(&reg->stop_cv);
        pthread_mutex_unlock(&reg->stop_mu);
        pthread_join(reg->thread, NULL);
    }
    gw_store_close(reg->store);
    gw_snapshot_release(reg->cur);
    gw_free(reg->url);
    pthread_mutex_destroy(&reg->swap_mu);
    pthread_mutex_destroy(&reg->reload_mu);
    pthread_mutex_destroy(&reg->lis_mu);
    pthread_mutex_destroy(&reg->stop_mu);
    pthread_cond_destroy(&reg->stop_cv);
    json_decref(reg->published);
    gw_free(reg);
}

int gw_registry_on_change(struct gw_registry *reg, gw_registry_change_fn fn, void *ctx)
{
    int id = 0;
    pthread_mutex_lock(&reg->lis_mu);
    for (int i = 0; i < MAX_LISTENERS; i++) {
        if (!reg->lis[i].id) {
            id = ++reg->next_lis_id;
            reg->lis[i] = (struct listener_slot){id, fn, ctx};
            break;
        }
    }
    pthread_mutex_unlock(&reg->lis_mu);
    return id;
}

void gw_registry_off_change(struct gw_registry *reg, int id)
{
    pthread_mutex_lock(&reg->lis_mu);
    for (int i = 0; i < MAX_LISTENERS; i++)
        if (id && reg->lis[i].id == id)
            reg->lis[i] = (struct listener_slot){0, NULL, NULL};
    pthread_mutex_unlock(&reg->lis_mu);
}

void gw_registry_stats(struct gw_registry *reg, struct gw_registry_stats *out)
{
    out->reloads = atomic_load(&reg->reloads);
    out->reload_errors = atomic_load(&reg->reload_errors);
    out->notifications = atomic_load(&reg->notifications);
    out->checks = atomic_load(&reg->checks);
    out->listening = atomic_load(&reg->listening);
    out->loaded = atomic_load(&reg->loaded);
    out->store_ok = atomic_load(&reg->store_ok);
    out->last_ok_unix = atomic_load(&reg->last_ok_unix);
}
