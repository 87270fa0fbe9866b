/*
 * src/store/store_pg.c
 * PostgreSQL backend of the store (gw_store_pg_ops), through libpq: production runs on
 * PostgreSQL 16 (RDS), the tests on Debian's PostgreSQL 15.
 *
 * Each connection is set to TimeZone UTC, DateStyle ISO and lock_timeout = the busy timeout,
 * and timestamptz columns are returned as the same ISO text SQLite stores
 * ("2025-01-31T09:15:00.123Z"). Parameters travel as text with server-inferred types.
 * A connection found broken outside a transaction is reset before the next statement (one
 * retry, then GW_EIO); inside a transaction the transaction is lost and GW_EIO is returned.
 * Notifications: `notify` queues pg_notify() inside the writer's transaction, payload
 * "<schema>:<version>"; the listener side is a separate connection that LISTENs, is drained
 * without blocking after poll(), and counts only its own schema's notifications.
 * Threading: a connection belongs to one gw_store handle (or listener), one thread at a time.
 * Messages never include the password of the URL.
 */
#include "store/store.h"
#include "store/store_backend.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#define TIMESTAMPTZ_OID 1184
#define MIGRATE_LOCK_KEY "7236514082" /* pg_advisory_xact_lock key of the migration runner */

struct pg {
    PGconn *c;
    int lock_timeout_ms;
    bool in_tx;
};

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    GW_LOG(GW_LOG_DEBUG, "store", "postgres notice: %s", message);
}

/* Session settings every connection needs (also after a reset). */
static int setup_session(PGconn *c, int lock_timeout_ms, struct gw_error *err)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO'; SET lock_timeout = %d; "
             "SET client_min_messages = warning",
             lock_timeout_ms);
    PGresult *res = PQexec(c, sql);
    int rc = GW_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = GW_ERROR_SET(err, GW_EIO, "postgres session setup failed: %s",
                          PQresultErrorMessage(res));
    PQclear(res);
    return rc;
}

/* Connects with our defaults for connect_timeout and application_name; the URL overrides them. */
static int connect_url(const char *url, const struct gw_store_options *opt, PGconn **out,
                       struct gw_error *err)
{
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%d", opt->connect_timeout_s);
    /* keywords listed before dbname are defaults: the URL (expanded from dbname) wins */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {timeout, "mcpgw", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    int rc = GW_OK;
    if (!c)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory connecting to postgres");
    if (PQstatus(c) != CONNECTION_OK) {
        char red[512];
        gw_store_url_redact(url, red, sizeof(red));
        rc = GW_ERROR_SET(err, GW_EIO, "cannot connect to postgres %s: %s", red,
                          PQerrorMessage(c));
        goto out;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    rc = setup_session(c, opt->busy_timeout_ms, err);
    if (rc != GW_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    if (c)
        PQfinish(c);
    return rc;
}

/* A store connection: connect_url plus the bookkeeping for resets. */
static int pg_open(const char *target, const struct gw_store_options *opt, void **out_conn,
                   struct gw_error *err)
{
    PGconn *c = NULL;
    int rc = connect_url(target, opt, &c, err);
    if (rc != GW_OK)
        return rc;
    struct pg *pg = gw_xcalloc(1, sizeof(*pg));
    pg->c = c;
    pg->lock_timeout_ms = opt->busy_timeout_ms;
    *out_conn = pg;
    return GW_OK;
}

static void pg_close(void *conn)
{
    struct pg *pg = conn;
    if (!pg)
        return;
    PQfinish(pg->c);
    gw_free(pg);
}

/* Reconnects a broken connection when that cannot lose work (no open transaction). */
static int ensure(struct pg *pg, struct gw_error *err)
{
    if (PQstatus(pg->c) == CONNECTION_OK)
        return GW_OK;
    if (pg->in_tx)
        return GW_ERROR_SET(err, GW_EIO, "postgres connection lost during a transaction");
    PQreset(pg->c);
    if (PQstatus(pg->c) != CONNECTION_OK)
        return GW_ERROR_SET(err, GW_EIO, "postgres connection lost: %s", PQerrorMessage(pg->c));
    GW_LOG(GW_LOG_WARN, "store", "postgres connection re-established");
    return setup_session(pg->c, pg->lock_timeout_ms, err);
}

/* SQLSTATE classes → platform codes: 23 integrity (unique/foreign key/check) and 40 serialisation
 * are conflicts; 55P03/57014 lock or statement timeouts; 08/57P/53 connection and server trouble;
 * 22 data exceptions (e.g. invalid JSON text) are invalid input; the rest are bugs. */
static int map_state(const char *state)
{
    if (!state)
        return GW_EIO;
    if (strncmp(state, "23", 2) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0)
        return GW_ECONFLICT;
    if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
        return GW_ETIMEOUT;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "53", 2) == 0)
        return GW_EIO;
    if (strncmp(state, "22", 2) == 0)
        return GW_EINVAL;
    return GW_ERR;
}

/* Fills err from a failed result: SQLSTATE and primary message (never the connection string). */
static int result_error(PGconn *c, const PGresult *res, struct gw_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    int rc = PQstatus(c) != CONNECTION_OK ? GW_EIO : map_state(state);
    return GW_ERROR_SET(err, rc, "postgres%s%s: %s", state ? " " : "", state ? state : "",
                        msg ? msg : PQerrorMessage(c));
}

/* "2025-01-31 09:15:00.12+00" → "2025-01-31T09:15:00.120Z" (other forms are left alone). */
static const char *iso_time(const char *in, char *out, size_t size)
{
    size_t n = strlen(in);
    if (n < 22 || size < 25 || in[10] != ' ' || strcmp(in + n - 3, "+00") != 0)
        return in;
    memcpy(out, in, 19);
    out[10] = 'T';
    size_t o = 19;
    out[o++] = '.';
    const char *f = in[19] == '.' ? in + 20 : "";
    for (int i = 0; i < 3; i++)
        out[o++] = (f[0] >= '0' && f[0] <= '9') ? *f++ : '0';
    out[o++] = 'Z';
    out[o] = '\0';
    return out;
}

/* Text-format parameters (integers formatted here) with server-inferred types; rows are handed
 * to cb as text, timestamptz columns rewritten to the ISO form SQLite stores. */
static int pg_exec(void *conn, const char *sql, const struct store_param *p, int np,
                   store_row_fn cb, void *ctx, long long *out_changes, struct gw_error *err)
{
    struct pg *pg = conn;
    PGresult *res = NULL;
    int rc = ensure(pg, err);
    if (rc != GW_OK)
        return rc;
    if (np > STORE_MAX_PARAMS)
        return GW_ERROR_SET(err, GW_ERR, "postgres: too many parameters");
    char ints[STORE_MAX_PARAMS][24];
    const char *vals[STORE_MAX_PARAMS];
    for (int i = 0; i < np; i++) {
        if (p[i].is_int) {
            snprintf(ints[i], sizeof(ints[i]), "%lld", p[i].i);
            vals[i] = ints[i];
        } else {
            vals[i] = p[i].s;
        }
    }
    res = PQexecParams(pg->c, sql, np, NULL, vals, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        rc = result_error(pg->c, res, err);
        goto out;
    }
    if (status == PGRES_TUPLES_OK && cb) {
        int n = PQnfields(res);
        if (n > STORE_MAX_COLS)
            n = STORE_MAX_COLS;
        bool is_ts[STORE_MAX_COLS];
        for (int i = 0; i < n; i++)
            is_ts[i] = PQftype(res, i) == TIMESTAMPTZ_OID;
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            const char *v[STORE_MAX_COLS];
            size_t len[STORE_MAX_COLS];
            char ts[STORE_MAX_COLS][32];
            for (int i = 0; i < n; i++) {
                if (PQgetisnull(res, r, i)) {
                    v[i] = NULL;
                    len[i] = 0;
                    continue;
                }
                v[i] = PQgetvalue(res, r, i);
                if (is_ts[i])
                    v[i] = iso_time(v[i], ts[i], sizeof(ts[i]));
                len[i] = is_ts[i] ? strlen(v[i]) : (size_t)PQgetlength(res, r, i);
            }
            struct store_row row = {n, v, len};
            rc = cb(ctx, &row);
            if (rc != GW_OK)
                goto out;
        }
    }
    if (out_changes) {
        unsigned long long ch = 0;
        const char *t = PQcmdTuples(res);
        *out_changes = (t && *t && gw_str_to_u64(gw_str_c(t), &ch) == GW_OK) ? (long long)ch : 0;
    }
out:
    PQclear(res);
    return rc;
}

/* Row callback of pg_insert: the id the INSERT returned. */
static int id_row(void *ctx, const struct store_row *row)
{
    unsigned long long id = 0;
    if (row->n > 0 && row->v[0] && gw_str_to_u64(gw_str_c(row->v[0]), &id) == GW_OK)
        *(long long *)ctx = (long long)id;
    return GW_OK;
}

/* The statement with RETURNING id. */
static int pg_insert(void *conn, const char *sql, const struct store_param *p, int np,
                     long long *out_id, struct gw_error *err)
{
    struct gw_buf b;
    gw_buf_init(&b, 64 * 1024);
    long long id = 0;
    int rc = gw_buf_printf(&b, "%s RETURNING id", sql);
    if (rc != GW_OK)
        rc = GW_ERROR_SET(err, GW_ERR, "postgres: statement too large");
    else
        rc = pg_exec(conn, gw_buf_ptr(&b), p, np, id_row, &id, NULL, err);
    gw_buf_fini(&b);
    if (rc == GW_OK && id <= 0)
        rc = GW_ERROR_SET(err, GW_ERR, "postgres: the insert returned no id");
    if (rc == GW_OK)
        *out_id = id;
    return rc;
}

/* Runs a statement without parameters whose result must be COMMAND_OK (and, when `tag` is
 * given, have that command tag: an aborted transaction "commits" as ROLLBACK). */
static int command(struct pg *pg, const char *sql, const char *tag, struct gw_error *err)
{
    PGresult *res = PQexec(pg->c, sql);
    int rc = GW_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = result_error(pg->c, res, err);
    else if (tag && strcmp(PQcmdStatus(res), tag) != 0)
        rc = GW_ERROR_SET(err, GW_ECONFLICT, "postgres: transaction was rolled back");
    PQclear(res);
    return rc;
}

static int pg_exec_script(void *conn, const char *sql, struct gw_error *err)
{
    struct pg *pg = conn;
    int rc = ensure(pg, err);
    return rc != GW_OK ? rc : command(pg, sql, NULL, err);
}

/* Write transactions are plain READ COMMITTED: the registry_state row lock taken by their first
 * statement serialises them. Reads use REPEATABLE READ so a scan sees one snapshot. */
static int pg_begin(void *conn, enum store_tx mode, struct gw_error *err)
{
    struct pg *pg = conn;
    int rc = ensure(pg, err);
    if (rc != GW_OK)
        return rc;
    rc = command(pg,
                 mode == STORE_TX_WRITE ? "BEGIN"
                                        : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                 NULL, err);
    pg->in_tx = rc == GW_OK;
    return rc;
}

/* An aborted transaction answers COMMIT with ROLLBACK: `command` turns that into an error. */
static int pg_commit(void *conn, struct gw_error *err)
{
    struct pg *pg = conn;
    int rc = command(pg, "COMMIT", "COMMIT", err);
    pg->in_tx = false;
    return rc;
}

/* Best effort: nothing to roll back on a broken connection (the server already did). */
static void pg_rollback(void *conn)
{
    struct pg *pg = conn;
    if (PQstatus(pg->c) == CONNECTION_OK && PQtransactionStatus(pg->c) != PQTRANS_IDLE)
        command(pg, "ROLLBACK", NULL, NULL);
    pg->in_tx = false;
}

/* Serialises migration runners of all replicas for the rest of the transaction. */
static int pg_migrate_lock(void *conn, struct gw_error *err)
{
    return command(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", NULL, err);
}

/* pg_notify() rather than NOTIFY: the channel and payload travel as parameters. The payload
 * is "<schema>:<version>": channels are per database, and several gateways may share one
 * database in different schemas (search_path); listeners ignore other schemas' changes. */
static int pg_notify(void *conn, const char *channel, const char *payload, struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(channel), SP_TEXT(payload)};
    return pg_exec(conn, "SELECT pg_notify($1, current_schema() || ':' || $2)", p, 2, NULL, NULL,
                   NULL, err);
}

/* ---- listener ------------------------------------------------------------------------- */

/* A LISTEN connection and the payload prefix ("<schema>:") of the changes it cares about. */
struct pgl {
    PGconn *c;
    char prefix[80];
};

/* Runs a one-row query without parameters and copies the first value into out. */
static int one_value(PGconn *c, const char *sql, char *out, size_t size, struct gw_error *err)
{
    PGresult *res = PQexec(c, sql);
    int rc = GW_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = result_error(c, res, err);
    else if (out)
        snprintf(out, size, "%s",
                 PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return rc;
}

/* A dedicated connection that only LISTENs (a store connection runs transactions and cannot
 * be polled for notifications between them). */
static int pg_listen_open(const char *target, const struct gw_store_options *opt,
                          const char *channel, void **out, struct gw_error *err)
{
    PGconn *c = NULL;
    char schema[64] = "";
    int rc = connect_url(target, opt, &c, err);
    if (rc != GW_OK)
        return rc;
    char *ident = PQescapeIdentifier(c, channel, strlen(channel));
    char sql[160];
    snprintf(sql, sizeof(sql), "LISTEN %s", ident ? ident : "\"\"");
    PQfreemem(ident);
    rc = one_value(c, "SELECT current_schema()", schema, sizeof(schema), err);
    if (rc == GW_OK)
        rc = one_value(c, sql, NULL, 0, err);
    if (rc != GW_OK) {
        PQfinish(c);
        return rc;
    }
    struct pgl *l = gw_xcalloc(1, sizeof(*l));
    l->c = c;
    snprintf(l->prefix, sizeof(l->prefix), "%s:", schema);
    *out = l;
    return GW_OK;
}

static int pg_listen_fd(void *l)
{
    return PQsocket(((struct pgl *)l)->c);
}

static int pg_listen_drain(void *l, bool *out_got, struct gw_error *err)
{
    struct pgl *pl = l;
    *out_got = false;
    if (!PQconsumeInput(pl->c) || PQstatus(pl->c) != CONNECTION_OK)
        return GW_ERROR_SET(err, GW_EIO, "postgres listener connection lost: %s",
                            PQerrorMessage(pl->c));
    size_t plen = strlen(pl->prefix);
    for (PGnotify *n = PQnotifies(pl->c); n; n = PQnotifies(pl->c)) {
        if (n->extra && strncmp(n->extra, pl->prefix, plen) == 0)
            *out_got = true;
        PQfreemem(n);
    }
    return GW_OK;
}

/* Closing the connection ends the LISTEN. */
static void pg_listen_close(void *l)
{
    struct pgl *pl = l;
    if (!pl)
        return;
    PQfinish(pl->c);
    gw_free(pl);
}

const struct gw_store_ops gw_store_pg_ops = {
    .name = "postgres",
    .has_notify = true,
    .migrations = gw_store__migrations_postgres,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .insert = pg_insert,
    .exec_script = pg_exec_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .migrate_lock = pg_migrate_lock,
    .notify = pg_notify,
    .listen_open = pg_listen_open,
    .listen_fd = pg_listen_fd,
    .listen_drain = pg_listen_drain,
    .listen_close = pg_listen_close,
};
