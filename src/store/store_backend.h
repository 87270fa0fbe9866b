/*
 * src/store/store_backend.h
 * The backend interface of the store (internal to src/store/): one const vtable per database
 * engine, `gw_store_sqlite_ops` (store_sqlite.c) and `gw_store_pg_ops` (store_pg.c).
 *
 * A backend only moves SQL and rows: it opens a connection, runs one statement with typed
 * parameters and hands each result row to a callback as text, runs a migration script, and
 * brackets transactions. Everything else (schema logic, validation, import diffs, version
 * counter, notifications) is written once in store*.c on top of this interface, so the two
 * backends behave identically by construction.
 * SQL passed to `exec` uses PostgreSQL placeholders ($1, $2, …) and the dialect common to
 * SQLite ≥ 3.35 and PostgreSQL ≥ 12 (ON CONFLICT, RETURNING); the SQLite backend rewrites
 * $N to ?N. Timestamps come back as ISO-8601 UTC text ("2025-01-31T09:15:00.123Z") from both.
 * Threading: a connection is used by one thread at a time (the owner of the gw_store handle).
 */
#ifndef GW_STORE_BACKEND_H
#define GW_STORE_BACKEND_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_store_options;

/* One embedded migration (generated into store_sql_gen.c by sql/embed.cmake). */
struct gw_store_migration {
    int version;      /* NNNN of the file name; tables end with version 0 */
    const char *name; /* <name> of the file name */
    const char *sql;  /* the whole file, NUL-terminated */
    size_t len;
};

extern const struct gw_store_migration gw_store__migrations_sqlite[];
extern const struct gw_store_migration gw_store__migrations_postgres[];

/* A statement parameter: text (s != NULL), integer (is_int) or SQL NULL (neither). */
struct store_param {
    const char *s;
    long long i;
    bool is_int;
};

#define SP_TEXT(x) ((struct store_param){(x), 0, false})
#define SP_INT(x) ((struct store_param){NULL, (x), true})
#define SP_NULL ((struct store_param){NULL, 0, false})

/* Hard limits of the interface (programming errors if exceeded, not input errors). */
#define STORE_MAX_PARAMS 16
#define STORE_MAX_COLS 16

/* One result row: n columns as NUL-terminated text (v[i] == NULL for SQL NULL), valid only
 * during the callback. */
struct store_row {
    int n;
    const char *const *v;
    const size_t *len;
};

/* Called once per row. Returning anything but GW_OK stops the statement and becomes exec's
 * return code. */
typedef int (*store_row_fn)(void *ctx, const struct store_row *row);

enum store_tx {
    STORE_TX_READ,  /* consistent read-only snapshot (SQLite deferred; PG repeatable read) */
    STORE_TX_WRITE  /* takes the write lock up front (SQLite IMMEDIATE; PG row lock on
                       registry_state taken by the first statement, see store.c) */
};

struct gw_store_ops {
    const char *name;   /* "sqlite" | "postgres" */
    bool has_notify;    /* NOTIFY/LISTEN across processes (else the in-process bus only) */
    const struct gw_store_migration *migrations;

    /* Opens a connection to `target` (a file path for SQLite, the URL for PostgreSQL). */
    int (*open)(const char *target, const struct gw_store_options *opt, void **out_conn,
                struct gw_error *err);
    void (*close)(void *conn);

    /* Runs one statement with np parameters; cb (may be NULL) receives each row. When
     * out_changes is not NULL it receives the number of rows inserted/updated/deleted.
     * Errors: GW_ECONFLICT (unique/foreign-key/check violation), GW_ETIMEOUT (lock wait),
     * GW_EIO (connection or disk), GW_ERR (other SQL errors; a bug). */
    int (*exec)(void *conn, const char *sql, const struct store_param *p, int np,
                store_row_fn cb, void *ctx, long long *out_changes, struct gw_error *err);

    /* Runs an INSERT of one row into a table keyed by an integer `id` (the SQL has no
     * RETURNING clause) and gives the new id. SQLite: its last insert rowid, because a
     * RETURNING clause makes SQLite keep a statement journal (a copy of every page the insert
     * touches: 2.4 GB of file writes in an import of 20,000 tools); PostgreSQL: the statement
     * with RETURNING id. */
    int (*insert)(void *conn, const char *sql, const struct store_param *p, int np,
                  long long *out_id, struct gw_error *err);

    /* Runs a multi-statement script without parameters (migrations). */
    int (*exec_script)(void *conn, const char *sql, struct gw_error *err);

    int (*begin)(void *conn, enum store_tx mode, struct gw_error *err);
    int (*commit)(void *conn, struct gw_error *err);
    void (*rollback)(void *conn);

    /* Serialises concurrent migration runners across processes; called inside the migration
     * transaction. SQLite: nothing to do (BEGIN IMMEDIATE). PG: transaction advisory lock. */
    int (*migrate_lock)(void *conn, struct gw_error *err);

    /* Queues `payload` on `channel` within the open transaction (delivered on commit). Only
     * when has_notify. */
    int (*notify)(void *conn, const char *channel, const char *payload, struct gw_error *err);

    /* Listener side (only when has_notify): a dedicated connection LISTENing on `channel`. */
    int (*listen_open)(const char *target, const struct gw_store_options *opt,
                       const char *channel, void **out, struct gw_error *err);
    int (*listen_fd)(void *l);
    /* Consumes input after the fd polled readable; *out_got = a notification arrived.
     * GW_EIO when the connection is lost. Never blocks. */
    int (*listen_drain)(void *l, bool *out_got, struct gw_error *err);
    void (*listen_close)(void *l);
};

extern const struct gw_store_ops gw_store_sqlite_ops;
extern const struct gw_store_ops gw_store_pg_ops;

/* Writes the current time as ISO-8601 UTC with milliseconds into out (>= 32 bytes). */
void gw_store__now(char *out, size_t size);

#endif
