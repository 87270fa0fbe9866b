/*
 * src/registry/registry.h
 * The tool registry of a gateway process: the current snapshot (registry_snapshot.h) of the
 * servable tools, rebuilt from the store and swapped atomically when the registry changes.
 *
 * Data plane (any thread, never blocks, never touches the database):
 *     struct gw_snapshot *s = gw_registry_acquire(reg);
 *     ... gw_snapshot_find / gw_snapshot_paginate ...
 *     gw_snapshot_release(s);
 * A reader keeps the snapshot it acquired for the whole request even if a reload swaps in a
 * newer one meanwhile; the old snapshot is freed by its last release.
 * Control plane (blocking, off the event loops): gw_registry_reload rebuilds from the store.
 * With `watch`, a background thread does it by itself when the store changes: on PostgreSQL it
 * LISTENs for the NOTIFY every writer sends in its transaction (any replica's write reaches
 * every replica), reconnecting with backoff when the connection drops; on SQLite it is woken
 * by writes made in this process; in both cases it also polls the store's registry version
 * every poll_ms as a fallback (catches writes from another process on the same SQLite file,
 * and notifications missed while disconnected).
 * Change listeners run after each swap, so the MCP layer can send
 * notifications/tools/list_changed.
 */
#ifndef GW_REGISTRY_REGISTRY_H
#define GW_REGISTRY_REGISTRY_H

#include "registry/registry_snapshot.h"
#include "store/store.h"

struct gw_registry;

struct gw_registry_config {
    const char *store_url; /* database to read (gw_store_open syntax); NULL = no store: the
                              snapshot only changes through gw_registry_publish (tests, tools) */
    const struct gw_store_options *store_opts; /* may be NULL */
    int poll_ms;           /* registry-version poll period of the watcher; <= 0 = no polling */
    bool watch;            /* run the background watcher (needs store_url) */
    bool lazy;             /* with a store and `watch`: when the first load fails (database
                              unreachable), still return the registry, serving the empty
                              snapshot and reporting loaded = false until the watcher has
                              loaded one (gw_registry_stats). Without it the first load must
                              succeed. */
};

/* Creates a registry. With a store it opens its own connection (the store must be migrated)
 * and builds the first snapshot before returning (with `lazy`, a failure there is logged and
 * left to the watcher); with `watch` it starts the watcher thread.
 * Without a store the first snapshot is empty. Borrows cfg.
 * Returns GW_OK, GW_EINVAL, GW_EIO (store unreachable), or the store's error. Blocks. */
int gw_registry_new(const struct gw_registry_config *cfg, struct gw_registry **out,
                    struct gw_error *err);

/* Stops the watcher, closes the store and drops the registry's reference to the current
 * snapshot (readers still holding one keep it valid). Accepts NULL. Blocks until the watcher
 * thread has exited. No other call may be running or start on `reg`. */
void gw_registry_free(struct gw_registry *reg);

/* The current snapshot, with a reference the caller must release (gw_snapshot_release).
 * Never NULL. Thread-safe; cost: one uncontended mutex and one atomic increment. */
struct gw_snapshot *gw_registry_acquire(struct gw_registry *reg);

/* Rebuilds the snapshot from the store when the store's registry version differs from the
 * current snapshot's (or always, with force) and swaps it in; *out_swapped (may be NULL)
 * tells whether it did. Reloads are serialised. On failure the current snapshot stays.
 * Returns GW_OK, GW_EINVAL (no store), or the store's error. BLOCKS on the database: never
 * call it on an event loop. */
int gw_registry_reload(struct gw_registry *reg, bool force, bool *out_swapped,
                       struct gw_error *err);

/* Swaps in a snapshot built from `defs` (array of definitions; shared, not copied) without a
 * store, then notifies listeners. For registries without a store (tests, tools) and for
 * callers that hold definitions already. GW_OK, GW_EINVAL (bad definitions), GW_ENOMEM. */
int gw_registry_publish(struct gw_registry *reg, const json_t *defs, struct gw_error *err);

/* What a change listener is told after a swap. */
struct gw_registry_change {
    uint64_t old_version;  /* snapshot versions (gw_snapshot_version) */
    uint64_t new_version;
    long long store_version;
    size_t tool_count;
    bool list_changed;     /* false when the tool list (names and definition versions) is
                              identical, e.g. only a bundle title changed */
};

/* Called after each swap, on the thread that swapped (the watcher or a reload caller), in
 * swap order. Must be quick and must not block (post to your event loops instead) and must not
 * call gw_registry_on_change/off_change. */
typedef void (*gw_registry_change_fn)(void *ctx, const struct gw_registry_change *chg);

/* Registers a listener; returns its id (> 0) for gw_registry_off_change, or 0 when the
 * table of 32 listeners is full. Thread-safe. */
int gw_registry_on_change(struct gw_registry *reg, gw_registry_change_fn fn, void *ctx);

/* Unregisters; after it returns the callback is not running and will not run. */
void gw_registry_off_change(struct gw_registry *reg, int id);

/* Registers an extension (registry_snapshot.h) that every later snapshot runs while it is
 * built (off the event loops), and rebuilds the current snapshot so that it has the
 * extension's data too. Returns the index for gw_snapshot_ext (>= 0), or -1 when
 * GW_SNAPSHOT_EXT_MAX extensions are registered. Call at start-up, before serving. Blocks
 * (a rebuild reads the store). */
int gw_registry_add_ext(struct gw_registry *reg, const struct gw_snapshot_ext *ext);

/* Counters and state for readiness, metrics and alerts. Readiness of a replica is `loaded`
 * (it can serve its snapshot); `store_ok` and `listening` describe the shared database and are
 * for metrics and alerts: a database outage must not take every replica out of the load
 * balancer while each keeps serving its snapshot. */
struct gw_registry_stats {
    unsigned long long reloads;        /* snapshots swapped in */
    unsigned long long reload_errors;  /* failed reload attempts */
    unsigned long long notifications;  /* wake-ups of the watcher by the store listener */
    unsigned long long checks;         /* registry-version checks made by the watcher */
    bool listening;                    /* the watcher holds a listener connection now */
    bool loaded;                       /* a snapshot has been installed (from the store, or
                                          published); false only for a lazy registry whose
                                          first load has not succeeded yet */
    bool store_ok;                     /* the last reload or version check succeeded */
    long long last_ok_unix;            /* wall-clock time of that last success (0 = never):
                                          how stale the snapshot may be */
};
void gw_registry_stats(struct gw_registry *reg, struct gw_registry_stats *out);

#endif
