/*
 * src/audit/audit_prune.c
 * The retention of the PostgreSQL copy of the audit trail, run by the archive shipper's thread
 * (audit_s3.c), never on a request's path:
 *   publish: after each shipping pass, the number of leading records of this log that the WORM
 *     archive acknowledged (the first record of its oldest segment not yet shipped) goes to
 *     audit_archive(log_id, archived_upto) — only ever upwards, so a log whose replica is gone
 *     (a rollout) stays prunable by the others;
 *   prune (GW_AUDIT_DATABASE_RETENTION_DAYS > 0, every GW_AUDIT_DATABASE_PRUNE_SECONDS): one
 *     replica at a time (a session advisory lock) deletes, log by log, the rows below both
 *     archived_upto and the first record younger than the retention, as a prefix of the log
 *     (pruned_below rises, no holes), PRUNE_BATCH rows per transaction.
 * Nothing is pruned that the archive does not hold: without an archive there is no retention
 * (gw_audit_open refuses the setting). A pruned log's records below pruned_below are read from
 * the archive; the readers of the database copy say so (audit_pg_read.c).
 */
#include "audit/audit_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

#include <inttypes.h>
#include <limits.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PRUNE_BATCH 10000
#define PRUNE_LOCK "7243082" /* pg_advisory_lock key of the pruning pass (7243081: the DDL) */

struct audit_pruner {
    char *url;
    PGconn *conn;
    unsigned days, every_s;
    time_t next;        /* the next pruning pass is due at */
    uint64_t published; /* archived_upto last written */
    bool failing;       /* the last attempt failed (logged once per streak) */
};

struct audit_pruner *gw_audit__pruner_new(const char *url, unsigned days, unsigned every_s)
{
    struct audit_pruner *p = gw_xcalloc(1, sizeof(*p));
    p->url = gw_xstrdup(url);
    p->days = days;
    p->every_s = every_s ? every_s : 3600;
    p->next = time(NULL) + 5; /* not in the replica's first seconds */
    p->published = UINT64_MAX;
    return p;
}

void gw_audit__pruner_free(struct audit_pruner *p)
{
    if (!p)
        return;
    PQfinish(p->conn);
    gw_free(p->url);
    gw_free(p);
}

static PGconn *conn_of(struct audit_pruner *p)
{
    if (p->conn && PQstatus(p->conn) == CONNECTION_OK)
        return p->conn;
    PQfinish(p->conn);
    p->conn = PQconnectdb(p->url);
    return p->conn;
}

/* Logs libpq's reason once per streak of failures; GW_EIO. */
static int fail(struct audit_pruner *p, PGresult *r, const char *what)
{
    if (!p->failing) {
        char m[GW_ERROR_MSG_MAX];
        snprintf(m, sizeof(m), "%s", p->conn ? PQerrorMessage(p->conn) : "no connection");
        size_t n = strlen(m);
        while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
            m[--n] = '\0';
        GW_LOG(GW_LOG_WARN, "audit", "database copy retention: %s: %s (will retry)", what, m);
    }
    p->failing = true;
    PQclear(r);
    return GW_EIO;
}

static int command(struct audit_pruner *p, const char *sql, int n, const char *const *params,
                   const char *what)
{
    PGresult *r = PQexecParams(p->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(p, r, what);
    PQclear(r);
    return GW_OK;
}

static int publish(struct audit_pruner *p, const char *log_id, uint64_t upto)
{
    char up[24];
    snprintf(up, sizeof(up), "%" PRIu64, upto);
    const char *params[2] = {log_id, up};
    int rc = command(p,
                     "INSERT INTO audit_archive (log_id, archived_upto) VALUES ($1, $2::bigint) "
                     "ON CONFLICT (log_id) DO UPDATE SET archived_upto = "
                     "greatest(audit_archive.archived_upto, excluded.archived_upto), "
                     "updated_at = now()",
                     2, params, "record what the archive holds");
    if (rc == GW_OK)
        p->published = upto;
    return rc;
}

/* The ISO time stamp (as events carry it) `days` days ago. */
static void cutoff_of(unsigned days, char *out, size_t size)
{
    time_t t = time(NULL) - (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Prunes one log from `below` (its pruned_below) up to `upto`; adds the rows deleted to *n. */
static int prune_log(struct audit_pruner *p, const char *log_id, uint64_t below, uint64_t upto,
                     const char *cutoff, bool (*stopping)(void *), void *ud,
                     unsigned long long *n)
{
    while (below < upto && !stopping(ud)) {
        char from[24], to[24], lim[16];
        snprintf(from, sizeof(from), "%" PRIu64, below);
        snprintf(to, sizeof(to), "%" PRIu64, upto);
        snprintf(lim, sizeof(lim), "%d", PRUNE_BATCH);
        const char *params[5] = {log_id, from, to, lim, cutoff};
        /* the window of the next PRUNE_BATCH rows: its first record young enough to keep,
         * else its end */
        PGresult *r = PQexecParams(
            p->conn,
            "WITH w AS (SELECT seq, " AUDIT_SQL_TS " AS ts FROM audit_records WHERE log_id = $1 "
            "AND seq >= $2::bigint AND seq < $3::bigint ORDER BY seq LIMIT $4::int) "
            "SELECT (SELECT min(seq) FROM w WHERE ts >= $5), (SELECT max(seq) + 1 FROM w), "
            "(SELECT count(*) FROM w)",
            5, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            return fail(p, r, "find what to prune");
        unsigned long long young = 0, end = 0, rows = 0;
        bool has_young = !PQgetisnull(r, 0, 0), has_end = !PQgetisnull(r, 0, 1);
        if (has_young)
            gw_str_to_u64(gw_str_c(PQgetvalue(r, 0, 0)), &young);
        if (has_end)
            gw_str_to_u64(gw_str_c(PQgetvalue(r, 0, 1)), &end);
        gw_str_to_u64(gw_str_c(PQgetvalue(r, 0, 2)), &rows);
        PQclear(r);
        uint64_t stop_at = has_young ? young : has_end ? end : below;
        if (stop_at <= below)
            return GW_OK; /* the oldest row kept is young, or none is left below upto */
        char b[24];
        snprintf(b, sizeof(b), "%" PRIu64, stop_at);
        const char *dp[3] = {log_id, from, b}, *up[2] = {log_id, b};
        int rc = command(p, "BEGIN", 0, NULL, "prune");
        if (rc == GW_OK)
            rc = command(p,
                         "DELETE FROM audit_records WHERE log_id = $1 AND seq >= $2::bigint AND "
                         "seq < $3::bigint",
                         3, dp, "prune");
        if (rc == GW_OK)
            rc = command(p,
                         "UPDATE audit_archive SET pruned_below = greatest(pruned_below, "
                         "$2::bigint) WHERE log_id = $1",
                         2, up, "prune");
        if (rc == GW_OK)
            rc = command(p, "COMMIT", 0, NULL, "prune");
        if (rc != GW_OK) {
            PGresult *rb = PQexec(p->conn, "ROLLBACK");
            PQclear(rb);
            return rc;
        }
        *n += stop_at - below;
        below = stop_at;
        if (has_young || rows < PRUNE_BATCH)
            return GW_OK;
    }
    return GW_OK;
}

/* One pruning pass over every log the archive holds records of. */
static int prune(struct audit_pruner *p, bool (*stopping)(void *), void *ud)
{
    PGresult *r = PQexec(p->conn, "SELECT pg_try_advisory_lock(" PRUNE_LOCK ")");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(p, r, "take the pruning lock");
    bool mine = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!mine)
        return GW_OK; /* another replica is pruning */
    char cutoff[32];
    cutoff_of(p->days, cutoff, sizeof(cutoff));
    r = PQexec(p->conn, "SELECT log_id, pruned_below, archived_upto FROM audit_archive WHERE "
                        "archived_upto > pruned_below ORDER BY log_id");
    int rc = GW_OK;
    unsigned long long deleted = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = fail(p, r, "list the archived logs");
        r = NULL;
    }
    for (int i = 0; r && rc == GW_OK && i < PQntuples(r); i++) {
        unsigned long long below = 0, upto = 0;
        gw_str_to_u64(gw_str_c(PQgetvalue(r, i, 1)), &below);
        gw_str_to_u64(gw_str_c(PQgetvalue(r, i, 2)), &upto);
        rc = prune_log(p, PQgetvalue(r, i, 0), below, upto, cutoff, stopping, ud, &deleted);
    }
    PQclear(r);
    PGresult *u = PQexec(p->conn, "SELECT pg_advisory_unlock(" PRUNE_LOCK ")");
    PQclear(u);
    if (deleted)
        GW_LOG(GW_LOG_INFO, "audit",
               "database copy retention: %llu records older than %s (and in the archive) "
               "deleted",
               deleted, cutoff);
    return rc;
}

unsigned gw_audit__pruner_wait_s(const struct audit_pruner *p)
{
    if (!p->days)
        return UINT_MAX;
    time_t now = time(NULL);
    return p->next <= now ? 1 : (unsigned)(p->next - now);
}

void gw_audit__pruner_run(struct audit_pruner *p, const char *log_id, uint64_t upto,
                          bool (*stopping)(void *), void *ud)
{
    bool due = p->days && !stopping(ud) && time(NULL) >= p->next;
    if (upto == p->published && !due)
        return;
    if (PQstatus(conn_of(p)) != CONNECTION_OK) {
        fail(p, NULL, "connect");
        return;
    }
    int rc = upto == p->published ? GW_OK : publish(p, log_id, upto);
    if (rc == GW_OK && due) {
        rc = prune(p, stopping, ud);
        p->next = time(NULL) + (time_t)p->every_s;
    }
    if (rc == GW_OK)
        p->failing = false;
}
