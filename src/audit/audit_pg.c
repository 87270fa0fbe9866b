/*
 * src/audit/audit_pg.c
 * The PostgreSQL copy of the audit log: every record is inserted in the same group commit as
 * its segment write (COPY inside one transaction), so that the shared database answers searches
 * across replicas and survives the loss of a replica's disk (audit_pg_read.c reads it: the admin
 * console's view of every replica's log). One log per replica (log_id); the
 * tables are created here (CREATE ... IF NOT EXISTS, idempotent, safe across replicas) rather
 * than by the registry's migrations: the audit trail is a separate stream with its own owner.
 *   audit_logs(log_id, origin, created_at)
 *   audit_records(log_id, seq, record text (the exact canonical line), event jsonb generated)
 *   audit_checkpoints(log_id, size, note)
 *   audit_archive(log_id, archived_upto, next_header, pruned_below, pruned_header,
 *     updated_at)  what the WORM archive holds of each log, the header of the segment after it,
 *     what the retention deleted and the compact range of it (so that what is kept can still
 *     be proven), the replica's heartbeat (audit_upkeep.c)
 * Runs on the audit writer thread only (a blocking libpq connection is fine there).
 */
#include "audit/audit_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

struct audit_pg {
    PGconn *conn;
    char *url, *log_id, *origin;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS audit_logs (log_id text PRIMARY KEY, origin text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS audit_records (log_id text NOT NULL, seq bigint NOT NULL, "
    "record text NOT NULL, event jsonb GENERATED ALWAYS AS ((record::jsonb)->'event') STORED, "
    "PRIMARY KEY (log_id, seq));"
    "CREATE INDEX IF NOT EXISTS audit_records_request ON audit_records "
    "((event->>'request_id'));"
    /* the merged view of every log, newest first (audit_pg_read.c), and its decision filter:
     * only what is not "allow" (few records) is indexed, for the console's recent denials */
    "CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records "
    "((" AUDIT_SQL_TS "), log_id, seq);"
    "CREATE INDEX IF NOT EXISTS audit_records_decision ON audit_records "
    "((" AUDIT_SQL_DECISION "), (" AUDIT_SQL_TS "), log_id, seq) WHERE (" AUDIT_SQL_DECISION
    ") <> 'allow';"
    "CREATE TABLE IF NOT EXISTS audit_checkpoints (log_id text NOT NULL, size bigint NOT NULL, "
    "note text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (log_id, size));"
    "CREATE TABLE IF NOT EXISTS audit_archive (log_id text PRIMARY KEY, "
    "archived_upto bigint NOT NULL DEFAULT 0, pruned_below bigint NOT NULL DEFAULT 0, "
    "next_header text, "
    "updated_at timestamptz NOT NULL DEFAULT now());"
    "ALTER TABLE audit_archive ADD COLUMN IF NOT EXISTS pruned_header text;"
    /* the last verification of each log, by whichever replica ran it (admin_verify.c) */
    "ALTER TABLE audit_logs ADD COLUMN IF NOT EXISTS verification text;";

uint64_t gw_audit__pg_u64(const PGresult *r, int row, int col)
{
    unsigned long long v = 0;
    if (!PQgetisnull(r, row, col))
        gw_str_to_u64(gw_str_c(PQgetvalue(r, row, col)), &v);
    return v;
}

const char *gw_audit__pg_message(const PGconn *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s", c ? PQerrorMessage(c) : "no connection");
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

static int fail(struct audit_pg *pg, PGresult *r, const char *what, struct gw_error *err)
{
    char m[GW_ERROR_MSG_MAX];
    GW_ERROR_SET(err, GW_EIO, "audit database: %s: %s", what,
                 gw_audit__pg_message(pg->conn, m, sizeof(m)));
    PQclear(r);
    if (PQstatus(pg->conn) != CONNECTION_OK)
        PQreset(pg->conn); /* next attempt on a fresh connection */
    return GW_EIO;
}

static int exec_ok(struct audit_pg *pg, const char *sql, struct gw_error *err)
{
    PGresult *r = PQexec(pg->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(pg, r, sql, err);
    PQclear(r);
    return GW_OK;
}

/* libpq prints the server's notices ("relation ... already exists, skipping" for every
 * CREATE ... IF NOT EXISTS at start) on stderr, between the JSON log lines: dropped. */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int gw_audit__pg_open(const char *url, const char *log_id, const char *origin,
                      struct audit_pg **out, struct gw_error *err)
{
    *out = NULL;
    struct audit_pg *pg = gw_xcalloc(1, sizeof(*pg));
    pg->conn = PQconnectdb(url);
    PQsetNoticeProcessor(pg->conn, quiet_notices, NULL);
    pg->log_id = gw_xstrdup(log_id);
    pg->origin = gw_xstrdup(origin);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        char m[GW_ERROR_MSG_MAX];
        GW_ERROR_SET(err, GW_EIO, "audit database: %s",
                     gw_audit__pg_message(pg->conn, m, sizeof(m)));
        gw_audit__pg_close(pg);
        return GW_EIO;
    }
    /* replicas may start together: serialise the DDL */
    int rc = exec_ok(pg, "SELECT pg_advisory_lock(7243081)", err);
    if (rc == GW_OK)
        rc = exec_ok(pg, SCHEMA, err);
    exec_ok(pg, "SELECT pg_advisory_unlock(7243081)", NULL);
    if (rc == GW_OK) {
        const char *p[2] = {log_id, origin};
        PGresult *r = PQexecParams(pg->conn,
                                   "INSERT INTO audit_logs(log_id, origin) VALUES ($1, $2) "
                                   "ON CONFLICT (log_id) DO NOTHING",
                                   2, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = fail(pg, r, "register the log", err);
        else
            PQclear(r);
    }
    if (rc != GW_OK) {
        gw_audit__pg_close(pg);
        return rc;
    }
    *out = pg;
    return GW_OK;
}

int gw_audit__pg_size(struct audit_pg *pg, uint64_t *out, struct gw_error *err)
{
    const char *p[1] = {pg->log_id};
    PGresult *r = PQexecParams(pg->conn,
                               "SELECT coalesce(max(seq) + 1, 0) FROM audit_records "
                               "WHERE log_id = $1",
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(pg, r, "count records", err);
    *out = gw_audit__pg_u64(r, 0, 0);
    PQclear(r);
    return GW_OK;
}

/* COPY text format: backslash, tab, newline and carriage return are escaped. */
static void copy_escape(struct gw_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t" : s[i] == '\n' ? "\\n"
                                                             : s[i] == '\r' ? "\\r" : NULL;
        if (e) {
            gw_buf_add(b, s + i - run, run);
            gw_buf_adds(b, e);
            run = 0;
        } else {
            run++;
        }
    }
    gw_buf_add(b, s + n - run, run);
}

int gw_audit__pg_insert(struct audit_pg *pg, uint64_t first, const char *const *lines,
                        const size_t *lens, size_t n, struct gw_error *err)
{
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        PQreset(pg->conn);
        if (PQstatus(pg->conn) != CONNECTION_OK)
            return fail(pg, NULL, "connect", err);
    }
    int rc = exec_ok(pg, "BEGIN", err);
    if (rc != GW_OK)
        return rc;
    PGresult *r = PQexec(pg->conn, "COPY audit_records(log_id, seq, record) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fail(pg, r, "COPY", err);
        exec_ok(pg, "ROLLBACK", NULL);
        return GW_EIO;
    }
    PQclear(r);
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        copy_escape(&b, pg->log_id, strlen(pg->log_id));
        gw_buf_printf(&b, "\t%llu\t", (unsigned long long)(first + i));
        copy_escape(&b, lines[i], lens[i]);
        gw_buf_addc(&b, '\n');
    }
    int ok = PQputCopyData(pg->conn, gw_buf_ptr(&b), (int)gw_buf_len(&b)) == 1 &&
             PQputCopyEnd(pg->conn, NULL) == 1;
    gw_buf_fini(&b);
    r = PQgetResult(pg->conn);
    if (!ok || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail(pg, r, "COPY records", err);
        while ((r = PQgetResult(pg->conn)))
            PQclear(r);
        exec_ok(pg, "ROLLBACK", NULL);
        return GW_EIO;
    }
    PQclear(r);
    while ((r = PQgetResult(pg->conn)))
        PQclear(r);
    return exec_ok(pg, "COMMIT", err);
}

int gw_audit__pg_checkpoint(struct audit_pg *pg, uint64_t size, const char *note, size_t n,
                            struct gw_error *err)
{
    char sz[32];
    snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
    char *text = gw_xstrndup(note, n);
    const char *p[3] = {pg->log_id, sz, text};
    PGresult *r = PQexecParams(pg->conn,
                               "INSERT INTO audit_checkpoints(log_id, size, note) VALUES "
                               "($1, $2, $3) ON CONFLICT (log_id, size) DO NOTHING",
                               3, NULL, p, NULL, NULL, 0);
    gw_free(text);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(pg, r, "insert checkpoint", err);
    PQclear(r);
    return GW_OK;
}

void gw_audit__pg_close(struct audit_pg *pg)
{
    if (!pg)
        return;
    PQfinish(pg->conn);
    gw_free(pg->url);
    gw_free(pg->log_id);
    gw_free(pg->origin);
    gw_free(pg);
}
