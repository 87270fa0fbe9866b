/*
 * src/store/store_sqlite.c
 * SQLite backend of the store (gw_store_sqlite_ops): the embedded default, one file under the
 * data folder.
 *
 * Each connection runs with journal_mode=WAL (readers never block the writer), synchronous=FULL
 * (a committed registry change survives power loss; writes are rare), foreign_keys=ON and a
 * busy timeout, and with extended result codes so that constraint violations map to
 * GW_ECONFLICT. Statements ($N placeholders rewritten to SQLite's ?N) are kept in a small
 * per-connection cache keyed by their SQL text (an import of 20,000 tools runs the same three
 * statements 20,000 times: preparing each again cost more than running it); a cached statement
 * is reset and its bindings cleared after every use, and the cache is finalised with the
 * connection.
 * Idle memory: a connection keeps at most IDLE_CACHE_BYTES of page cache between transactions.
 * Loading the registry reads every tool and sorts them in a temporary B-tree; SQLite keeps those
 * pages (~2 MB for 1,000 tools, on top of the snapshot built from them) until told otherwise, so
 * when no transaction is open and the connection holds more, the clean pages are given back
 * (sqlite3_db_release_memory; the next read finds them in the OS page cache). Inside a
 * transaction nothing is released: an import keeps its working set.
 * Threading: a connection belongs to one gw_store handle, used by one thread at a time.
 * No cross-process notification: store_listen.c provides the in-process bus instead.
 */
#include "store/store.h"
#include "store/store_backend.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Maps SQLite's primary result code to the platform's error vocabulary. */
static int map_rc(int src)
{
    switch (src & 0xff) {
    case SQLITE_CONSTRAINT: return GW_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return GW_ETIMEOUT;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PERM: return GW_EIO;
    case SQLITE_NOMEM: return GW_ENOMEM;
    default: return GW_ERR;
    }
}

/* Fills err with the connection's message for a failed call. */
static int fail(sqlite3 *db, int src, const char *what, struct gw_error *err)
{
    return GW_ERROR_SET(err, map_rc(src), "sqlite %s: %s", what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
}

/* Runs SQL without parameters or results (pragmas, transaction control, migrations). */
static int run(sqlite3 *db, const char *sql, struct gw_error *err)
{
    char *msg = NULL;
    int src = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (src == SQLITE_OK)
        return GW_OK;
    int rc = GW_ERROR_SET(err, map_rc(src), "sqlite: %s", msg ? msg : sqlite3_errstr(src));
    sqlite3_free(msg);
    return rc;
}

#define STMT_CACHE 32

/* A connection: the database and its statement cache (most recently used first). */
struct sq_conn {
    sqlite3 *db;
    struct {
        char *sql; /* the caller's SQL text (gw_free); NULL = free slot */
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
};

/* Before SQLite initialises: no up-front page-cache block per connection (20 pages each by
 * default, which 16 KiB pages make 330 KB); pages are allocated as they are used. */
static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

static int sq_open(const char *target, const struct gw_store_options *opt, void **out_conn,
                   struct gw_error *err)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
    sqlite3 *db = NULL;
    int src = sqlite3_open_v2(target, &db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                              NULL);
    int rc = GW_OK;
    if (src != SQLITE_OK) {
        rc = GW_ERROR_SET(err, GW_EIO, "cannot open SQLite database %s: %s", target,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, opt->busy_timeout_ms);
    /* 16 KiB pages for a new database (an existing one keeps its size): a tool definition
     * (~9 KB at scale) fits in its leaf page instead of a chain of 4 KiB overflow pages,
     * which makes a 20,000-tool import write a quarter fewer pages. Before the journal mode:
     * that write creates the file. */
    rc = run(db, "PRAGMA page_size=16384", err);
    if (rc != GW_OK)
        goto out;
    /* journal_mode returns the mode actually in effect: WAL is refused on some file systems */
    sqlite3_stmt *stmt = NULL;
    src = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(stmt);
    if (src != SQLITE_ROW) {
        rc = fail(db, src, "journal_mode", err);
        sqlite3_finalize(stmt);
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        rc = GW_ERROR_SET(err, GW_EIO, "SQLite database %s cannot use WAL (journal_mode %s)",
                          target, mode ? mode : "?");
        sqlite3_finalize(stmt);
        goto out;
    }
    sqlite3_finalize(stmt);
    rc = run(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err);
    if (rc != GW_OK)
        goto out;
    struct sq_conn *c = gw_xcalloc(1, sizeof(*c));
    c->db = db;
    *out_conn = c;
    db = NULL;
out:
    sqlite3_close_v2(db);
    return rc;
}

/* Finalises the cached statements, then closes. */
static void sq_close(void *conn)
{
    struct sq_conn *c = conn;
    if (!c)
        return;
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        gw_free(c->cache[i].sql);
    }
    sqlite3_close_v2(c->db);
    gw_free(c);
}

/* The cached statement for sql (moved to the front), or NULL. */
static sqlite3_stmt *cache_get(struct sq_conn *c, const char *sql)
{
    for (int i = 0; i < STMT_CACHE && c->cache[i].sql; i++) {
        if (strcmp(c->cache[i].sql, sql) != 0)
            continue;
        sqlite3_stmt *stmt = c->cache[i].stmt;
        char *key = c->cache[i].sql;
        memmove(&c->cache[1], &c->cache[0], (size_t)i * sizeof(c->cache[0]));
        c->cache[0].sql = key;
        c->cache[0].stmt = stmt;
        return stmt;
    }
    return NULL;
}

/* Puts a prepared statement at the front of the cache, finalising the least recently used
 * one when the cache is full. */
static void cache_put(struct sq_conn *c, const char *sql, sqlite3_stmt *stmt)
{
    sqlite3_finalize(c->cache[STMT_CACHE - 1].stmt);
    gw_free(c->cache[STMT_CACHE - 1].sql);
    memmove(&c->cache[1], &c->cache[0], (STMT_CACHE - 1) * sizeof(c->cache[0]));
    c->cache[0].sql = gw_xstrdup(sql);
    c->cache[0].stmt = stmt;
}

#define IDLE_CACHE_BYTES (256 * 1024)

/* Gives back page cache above IDLE_CACHE_BYTES once no transaction is open (see the top). */
static void trim_idle(sqlite3 *db)
{
    int cur = 0, hi = 0;
    if (sqlite3_get_autocommit(db) &&
        sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0) == SQLITE_OK &&
        cur > IDLE_CACHE_BYTES)
        sqlite3_db_release_memory(db);
}

/* Copies sql into b with $N placeholders turned into ?N (outside quoted text). */
static int rewrite(const char *sql, struct gw_buf *b)
{
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        char c = *p;
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '$' && p[1] >= '0' && p[1] <= '9') {
            c = '?';
        }
        if (gw_buf_addc(b, c) != GW_OK)
            return GW_ELIMIT;
    }
    return GW_OK;
}

/* Prepares, binds (SQLITE_STATIC: the caller's strings outlive the statement), steps and hands
 * each row to cb as text; finalises on every path. */
static int sq_exec(void *conn, const char *sql, const struct store_param *p, int np,
                   store_row_fn cb, void *ctx, long long *out_changes, struct gw_error *err)
{
    struct sq_conn *c = conn;
    sqlite3 *db = c->db;
    struct gw_buf b;
    int rc = GW_OK, src;
    gw_buf_init(&b, 64 * 1024);
    sqlite3_stmt *stmt = cache_get(c, sql);
    if (!stmt) {
        if (np > STORE_MAX_PARAMS || rewrite(sql, &b) != GW_OK) {
            rc = GW_ERROR_SET(err, GW_ERR, "sqlite: statement too large");
            goto out;
        }
        src = sqlite3_prepare_v2(db, gw_buf_ptr(&b), (int)gw_buf_len(&b), &stmt, NULL);
        if (src != SQLITE_OK) {
            rc = fail(db, src, "prepare", err);
            goto out;
        }
        cache_put(c, sql, stmt);
    }
    for (int i = 0; i < np; i++) {
        if (p[i].is_int)
            src = sqlite3_bind_int64(stmt, i + 1, p[i].i);
        else if (p[i].s)
            src = sqlite3_bind_text(stmt, i + 1, p[i].s, -1, SQLITE_STATIC);
        else
            src = sqlite3_bind_null(stmt, i + 1);
        if (src != SQLITE_OK) {
            rc = fail(db, src, "bind", err);
            goto out;
        }
    }
    for (;;) {
        src = sqlite3_step(stmt);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = fail(db, src, "step", err);
            goto out;
        }
        if (!cb)
            continue;
        int n = sqlite3_column_count(stmt);
        if (n > STORE_MAX_COLS)
            n = STORE_MAX_COLS;
        const char *v[STORE_MAX_COLS];
        size_t len[STORE_MAX_COLS];
        for (int i = 0; i < n; i++) {
            if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
                v[i] = NULL;
                len[i] = 0;
            } else {
                v[i] = (const char *)sqlite3_column_text(stmt, i);
                len[i] = (size_t)sqlite3_column_bytes(stmt, i);
                if (!v[i] && sqlite3_errcode(db) == SQLITE_NOMEM) {
                    rc = GW_ERROR_SET(err, GW_ENOMEM, "sqlite: out of memory reading a row");
                    goto out;
                }
                if (!v[i])
                    v[i] = ""; /* zero-length value */
            }
        }
        struct store_row row = {n, v, len};
        rc = cb(ctx, &row);
        if (rc != GW_OK)
            goto out;
    }
    if (out_changes)
        *out_changes = (long long)sqlite3_changes64(db);
out:
    if (stmt) { /* cached: ready for the next use, bindings (borrowed strings) dropped */
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
    trim_idle(db);
    gw_buf_fini(&b);
    return rc;
}

/* The new row's id is the connection's last insert rowid (the tables' INTEGER PRIMARY KEY):
 * no RETURNING clause, hence no statement journal. */
static int sq_insert(void *conn, const char *sql, const struct store_param *p, int np,
                     long long *out_id, struct gw_error *err)
{
    struct sq_conn *c = conn;
    int rc = sq_exec(conn, sql, p, np, NULL, NULL, NULL, err);
    if (rc == GW_OK)
        *out_id = (long long)sqlite3_last_insert_rowid(c->db);
    return rc;
}

/* Scripts (migrations) may change the schema: cached statements would be re-prepared by
 * SQLite anyway, but drop them so nothing old survives a migration. */
static int sq_exec_script(void *conn, const char *sql, struct gw_error *err)
{
    struct sq_conn *c = conn;
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        gw_free(c->cache[i].sql);
        c->cache[i].stmt = NULL;
        c->cache[i].sql = NULL;
    }
    return run(c->db, sql, err);
}

/* IMMEDIATE takes the write lock at BEGIN (waiting up to the busy timeout), so two writers never
 * deadlock upgrading read locks; DEFERRED read transactions snapshot at their first SELECT. */
static int sq_begin(void *conn, enum store_tx mode, struct gw_error *err)
{
    struct sq_conn *c = conn;
    return run(c->db, mode == STORE_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", err);
}

static int sq_commit(void *conn, struct gw_error *err)
{
    struct sq_conn *c = conn;
    int rc = run(c->db, "COMMIT", err);
    trim_idle(c->db);
    return rc;
}

static void sq_rollback(void *conn)
{
    struct sq_conn *c = conn;
    if (!sqlite3_get_autocommit(c->db))
        run(c->db, "ROLLBACK", NULL);
    trim_idle(c->db);
}

static int sq_migrate_lock(void *conn, struct gw_error *err)
{
    (void)conn;
    (void)err;
    return GW_OK; /* BEGIN IMMEDIATE already holds the database write lock */
}

const struct gw_store_ops gw_store_sqlite_ops = {
    .name = "sqlite",
    .has_notify = false,
    .migrations = gw_store__migrations_sqlite,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .insert = sq_insert,
    .exec_script = sq_exec_script,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .migrate_lock = sq_migrate_lock,
};
