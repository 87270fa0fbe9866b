/*
 * src/store/store.h
 * The durable store of the platform: one handle = one database connection, on SQLite
 * (embedded default) or PostgreSQL (production), chosen by URL.
 *
 * This header has the handle, versioned schema migrations, the registry version counter and
 * the change listener. The registry data lives in store_tool.h, store_bundle.h,
 * store_spec.h and store_import.h; everything goes through the same handle.
 *
 * BLOCKING: every function here and in the other store_*.h headers performs database I/O and
 * may block for as long as a lock wait or a network round trip takes. Call them from a
 * dedicated thread, from the CLI, or from admin work that runs off the event loops — never
 * on a data-plane event loop (the data plane reads the in-memory snapshot of src/registry/).
 *
 * Threading: a handle is NOT thread-safe; it owns one connection and must be used by one
 * thread at a time (open one handle per thread that needs the database). Different handles
 * may be used concurrently, in one process or many: writers are serialised by the database
 * (SQLite write lock, a PostgreSQL row lock on registry_state).
 */
#ifndef GW_STORE_STORE_H
#define GW_STORE_STORE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

/* Limits applied to everything the store accepts (values sized by client input). */
#define GW_STORE_NAME_MAX 64             /* tool and bundle names, spec ids */
#define GW_STORE_DEF_MAX (4u << 20)      /* bytes of one serialised tool definition */
#define GW_STORE_SPEC_MAX (64u << 20)    /* bytes of one stored spec document */
#define GW_STORE_TEXT_MAX 8192           /* titles, descriptions, actor, reason, URLs */
#define GW_STORE_PAGE_MAX 1000           /* rows of one list page */

/* The NOTIFY channel on PostgreSQL; the payload is the new registry version. */
#define GW_STORE_CHANNEL "gw_registry"

struct gw_store;

/* Connection options; a zero field means the default. */
struct gw_store_options {
    int busy_timeout_ms;   /* how long to wait for a lock: SQLite busy timeout, PostgreSQL
                              lock_timeout (default 5000) */
    int connect_timeout_s; /* PostgreSQL connect timeout (default 10); a URL value wins */
};

/* Who makes a change and why: recorded in the tool history. NULL pointers (or a NULL actor)
 * are recorded as "system" and "". Borrowed for the duration of the call. */
struct gw_store_actor {
    const char *who;
    const char *why;
};

/* Opens a store. `url` selects the backend:
 *   "postgres://…" or "postgresql://…"     PostgreSQL through libpq (any libpq URL parameters);
 *   "sqlite:///abs/file.db", "sqlite://rel/file.db", "sqlite:file.db" or a plain path
 *                                          SQLite (WAL journal, synchronous=FULL, foreign keys
 *                                          on, busy timeout); the parent folder is created when
 *                                          missing (one level, mode 0750).
 * `opt` may be NULL. Does not migrate (call gw_store_migrate). Borrows `url`.
 * Returns GW_OK with *out set, GW_EINVAL (empty or unknown URL, ":memory:"), GW_EIO (cannot
 * connect or open; the message never contains the password). Blocks. */
int gw_store_open(const char *url, const struct gw_store_options *opt, struct gw_store **out,
                  struct gw_error *err);

/* Closes the connection and frees the handle. Accepts NULL. A transaction left open (only
 * after a programming error) is rolled back. */
void gw_store_close(struct gw_store *st);

/* "sqlite" or "postgres". */
const char *gw_store_backend_name(const struct gw_store *st);

/* Writes the default URL for a data folder, "sqlite://<data_dir>/gateway.db", into out.
 * GW_OK, or GW_ELIMIT when it does not fit. */
int gw_store_default_url(const char *data_dir, char *out, size_t size);

/* Copies `url` into out with any password replaced by "***" (for logs and messages). */
void gw_store_url_redact(const char *url, char *out, size_t size);

/* Applies every embedded migration that the database lacks, in version order, each in its own
 * transaction together with its schema_migrations row; concurrent runners (several replicas
 * starting at once) are serialised. Idempotent. A migration that was applied from different
 * SQL text than this binary embeds fails with GW_ECONFLICT (edited migration); a database
 * newer than this binary is accepted with a warning (rolling deploys add columns only).
 * *out_version (may be NULL) receives the schema version after the run. Blocks. */
int gw_store_migrate(struct gw_store *st, int *out_version, struct gw_error *err);

/* The newest migration version this binary embeds for the handle's backend. */
int gw_store_latest_version(const struct gw_store *st);

/* The newest applied migration version (0 for an empty database). Blocks. */
int gw_store_schema_version(struct gw_store *st, int *out_version, struct gw_error *err);

/* Calls fn once per embedded migration in version order; applied_at is the ISO time it was
 * applied, or NULL when pending (for `mcpgw db status`). Blocks. */
typedef void (*gw_store_migration_fn)(void *ctx, int version, const char *name,
                                      const char *applied_at);
int gw_store_migration_status(struct gw_store *st, gw_store_migration_fn fn, void *ctx,
                              struct gw_error *err);

/* The registry version counter: incremented by every committed registry write (tools,
 * bundles, specs, imports). Readers compare it with the version their snapshot was built
 * from. Blocks (one indexed read). */
int gw_store_registry_version(struct gw_store *st, long long *out, struct gw_error *err);

/* ---- change listener ----------------------------------------------------------------------
 * Wakes a thread when any handle commits a registry write: on PostgreSQL through LISTEN on a
 * dedicated connection (writers NOTIFY in the same transaction, so every replica hears it);
 * on SQLite through an in-process bus keyed by the database file (a second process writing
 * the same file is caught by the caller's periodic gw_store_registry_version check).
 * A listener is used by one thread; gw_store_listener_wake may be called from any thread. */
struct gw_store_listener;

/* Opens a listener for the database at `url` (same syntax as gw_store_open). GW_OK, GW_EINVAL,
 * GW_EIO (cannot connect). Blocks while connecting. */
int gw_store_listener_open(const char *url, const struct gw_store_options *opt,
                           struct gw_store_listener **out, struct gw_error *err);

/* Waits up to timeout_ms (< 0 = forever) for a change notification or a wake-up. Returns GW_OK
 * (something arrived: re-check the registry version), GW_ETIMEOUT, or GW_EIO when the
 * connection was lost (close the listener and open a new one; notifications may have been
 * missed in between). Blocks. */
int gw_store_listener_wait(struct gw_store_listener *l, int timeout_ms, struct gw_error *err);

/* Makes a current or the next gw_store_listener_wait return GW_OK at once. Async-signal-safe,
 * callable from any thread. */
void gw_store_listener_wake(struct gw_store_listener *l);

/* Closes the listener. Accepts NULL. No other thread may be waiting on it. */
void gw_store_listener_close(struct gw_store_listener *l);

#endif
