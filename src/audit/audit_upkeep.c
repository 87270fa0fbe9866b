/*
 * src/audit/audit_upkeep.c
 * The upkeep of the audit trail's PostgreSQL copy against the WORM archive, run by the archive
 * shipper's thread (audit_s3.c), never on a request's path:
 *   publish: after each shipping pass (and at least every UPKEEP_BEAT_S, the replica's
 *     heartbeat) the number of leading records of this log the archive acknowledged (the first
 *     record of its oldest segment still open or not shipped) and that segment's header go to
 *     audit_archive(log_id, archived_upto, next_header, updated_at); archived_upto only rises;
 *   a maintenance pass every GW_AUDIT_MAINTENANCE_SECONDS, by one replica at a time (a session
 *     advisory lock), that
 *     - salvages the logs of replicas that stopped without closing them (no heartbeat for
 *       GW_AUDIT_SALVAGE_AFTER_SECONDS, records beyond what the archive holds): their missing
 *       segment is rebuilt from the published header and the rows (the exact canonical lines),
 *       with their checkpoints, for the shipper to upload (gw_audit__upkeep_rebuild);
 *     - prunes (GW_AUDIT_DATABASE_RETENTION_DAYS > 0), log by log, the rows below both
 *       archived_upto and the first record younger than the retention, as a prefix of the log
 *       (pruned_below rises, no holes), UPKEEP_BATCH rows per transaction, each row hashed into
 *       the compact range of the deleted prefix first (pruned_header: the proofs of the records
 *       kept need it).
 * Nothing is pruned that the archive does not hold (gw_audit_open refuses a retention without an
 * archive). The readers of the copy prove and verify the records kept over the deleted
 * prefix's compact range, and refuse the records deleted (audit_pg_read.c).
 */
#include "audit/audit_internal.h"
#include "audit/audit_merkle.h"
#include "audit/audit_note.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define UPKEEP_BATCH 10000
#define UPKEEP_BEAT_S 60      /* the heartbeat: a live replica's row is never older than this */
#define UPKEEP_LOCK "7243082" /* pg_advisory_lock key of the maintenance pass (7243081: DDL) */

struct audit_upkeep {
    char *url;
    PGconn *conn;
    unsigned days, every_s;
    time_t next;        /* the next maintenance pass is due at */
    time_t beat;        /* the last publish */
    uint64_t published; /* archived_upto last written */
    char *header;       /* next_header last written (NULL: none) */
    bool failing;       /* the last attempt failed (logged once per streak) */
    bool locked;        /* this replica holds the maintenance lock */
    atomic_ullong pruned, salvaged, errors; /* read by the metrics */
};

struct audit_upkeep *gw_audit__upkeep_new(const char *url, unsigned days, unsigned every_s)
{
    struct audit_upkeep *u = gw_xcalloc(1, sizeof(*u));
    u->url = gw_xstrdup(url);
    u->days = days;
    u->every_s = every_s ? every_s : 3600;
    u->next = time(NULL) + 5; /* not in the replica's first seconds */
    u->published = UINT64_MAX;
    return u;
}

void gw_audit__upkeep_free(struct audit_upkeep *u)
{
    if (!u)
        return;
    PQfinish(u->conn);
    gw_free(u->url);
    gw_free(u->header);
    gw_free(u);
}

static bool connected(struct audit_upkeep *u)
{
    if (u->conn && PQstatus(u->conn) == CONNECTION_OK)
        return true;
    PQfinish(u->conn);
    u->locked = false; /* a session lock dies with its session */
    u->conn = PQconnectdb(u->url);
    return PQstatus(u->conn) == CONNECTION_OK;
}

/* Logs libpq's reason once per streak of failures; GW_EIO. */
static int fail(struct audit_upkeep *u, PGresult *r, const char *what)
{
    if (!u->failing) {
        char m[GW_ERROR_MSG_MAX];
        GW_LOG(GW_LOG_WARN, "audit", "database copy upkeep: %s: %s (will retry)", what,
               gw_audit__pg_message(u->conn, m, sizeof(m)));
    }
    u->failing = true;
    atomic_fetch_add(&u->errors, 1);
    PQclear(r);
    return GW_EIO;
}

static int command(struct audit_upkeep *u, const char *sql, int n, const char *const *params,
                   const char *what)
{
    PGresult *r = PQexecParams(u->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(u, r, what);
    PQclear(r);
    return GW_OK;
}

void gw_audit__upkeep_publish(struct audit_upkeep *u, const char *log_id, uint64_t upto,
                              const char *header)
{
    time_t now = time(NULL);
    bool same_header = header && u->header ? strcmp(header, u->header) == 0 : header == u->header;
    if (upto == u->published && same_header && now - u->beat < UPKEEP_BEAT_S)
        return;
    if (!connected(u)) {
        fail(u, NULL, "connect");
        return;
    }
    char up[24];
    snprintf(up, sizeof(up), "%" PRIu64, upto);
    const char *params[3] = {log_id, up, header};
    int rc = command(u,
                     "INSERT INTO audit_archive (log_id, archived_upto, next_header) "
                     "VALUES ($1, $2::bigint, $3) ON CONFLICT (log_id) DO UPDATE SET "
                     "next_header = CASE WHEN excluded.archived_upto >= "
                     "audit_archive.archived_upto THEN excluded.next_header ELSE "
                     "audit_archive.next_header END, archived_upto = "
                     "greatest(audit_archive.archived_upto, excluded.archived_upto), "
                     "updated_at = now()",
                     3, params, "record what the archive holds");
    if (rc == GW_OK) {
        u->published = upto;
        if (!same_header) {
            gw_free(u->header);
            u->header = header ? gw_xstrdup(header) : NULL;
        }
        u->beat = now;
        u->failing = false;
    }
}

unsigned gw_audit__upkeep_wait_s(const struct audit_upkeep *u)
{
    time_t now = time(NULL);
    return u->next <= now ? 1 : (unsigned)(u->next - now);
}

bool gw_audit__upkeep_begin(struct audit_upkeep *u)
{
    if (time(NULL) < u->next)
        return false;
    /* after a failure, again in a minute */
    u->next = time(NULL) + (time_t)(u->every_s < 60 ? u->every_s : 60);
    if (!connected(u)) {
        fail(u, NULL, "connect");
        return false;
    }
    PGresult *r = PQexec(u->conn, "SELECT pg_try_advisory_lock(" UPKEEP_LOCK ")");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail(u, r, "take the maintenance lock");
        return false;
    }
    u->next = time(NULL) + (time_t)u->every_s;
    u->locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return u->locked; /* false: another replica is at it */
}

void gw_audit__upkeep_end(struct audit_upkeep *u)
{
    if (!u->locked)
        return;
    PGresult *r = PQexec(u->conn, "SELECT pg_advisory_unlock(" UPKEEP_LOCK ")");
    PQclear(r);
    u->locked = false;
}

/* ---- salvage -------------------------------------------------------------------------- */

int gw_audit__upkeep_orphans(struct audit_upkeep *u, const char *self, unsigned after_s,
                             struct audit_orphan **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char secs[16];
    snprintf(secs, sizeof(secs), "%u", after_s);
    const char *params[2] = {self, secs};
    /* silent for after_s, with records beyond what its archive holds and the header of the
     * segment they start */
    PGresult *r = PQexecParams(
        u->conn,
        "SELECT a.log_id, a.archived_upto, lr.seq + 1, a.next_header FROM audit_archive a "
        "JOIN LATERAL (SELECT seq FROM audit_records k WHERE k.log_id = a.log_id ORDER BY seq "
        "DESC LIMIT 1) lr ON true WHERE a.log_id <> $1 AND a.next_header IS NOT NULL AND "
        "a.updated_at < now() - make_interval(secs => $2::int) AND lr.seq + 1 > "
        "a.archived_upto ORDER BY a.log_id LIMIT 100",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(u, r, "find the logs of replicas that stopped without closing them");
    int rows = PQntuples(r);
    struct audit_orphan *o = rows ? gw_xcalloc((size_t)rows, sizeof(*o)) : NULL;
    size_t k = 0;
    for (int i = 0; i < rows; i++) {
        if (!gw_audit_log_id_valid(PQgetvalue(r, i, 0)))
            continue; /* names object keys and files: never anything else */
        snprintf(o[k].log_id, sizeof(o[k].log_id), "%s", PQgetvalue(r, i, 0));
        o[k].from = gw_audit__pg_u64(r, i, 1);
        o[k].to = gw_audit__pg_u64(r, i, 2);
        o[k].header = gw_xstrndup(PQgetvalue(r, i, 3), (size_t)PQgetlength(r, i, 3));
        k++;
    }
    PQclear(r);
    *out = o;
    *n = k;
    return GW_OK;
}

void gw_audit__upkeep_orphans_free(struct audit_orphan *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gw_free(o[i].header);
    gw_free(o);
}

int gw_audit__upkeep_rebuild(struct audit_upkeep *u, const struct audit_orphan *o,
                             const char *segdir, const char *cpdir, struct gw_error *err)
{
    struct audit_seg_header h;
    int rc = gw_audit__parse_header(o->header, strlen(o->header), &h, err);
    if (rc == GW_OK && h.first != o->from)
        rc = GW_ERROR_SET(err, GW_ECONFLICT,
                          "the published header starts at record %" PRIu64 ", not %" PRIu64,
                          h.first, o->from);
    struct audit_seg_writer w;
    if (rc == GW_OK)
        rc = gw_audit__seg_writer_open(&w, segdir, o->from, false, o->header, strlen(o->header),
                                       err);
    if (rc == GW_OK) { /* a MiB at a time: a dead replica's unshipped segments may be many */
        rc = gw_audit__pg_rows(u->conn, o->log_id, o->from, o->to, gw_audit__seg_writer_append,
                               &w, err);
        if (rc == GW_OK && w.next != o->to)
            rc = GW_ERROR_SET(err, GW_ECONFLICT, "the database's rows end at %" PRIu64, w.next);
        rc = gw_audit__seg_writer_close(&w, rc, err);
    }
    if (rc != GW_OK) {
        atomic_fetch_add(&u->errors, 1);
        return rc;
    }
    /* the checkpoints signed over these records, as signed */
    rc = gw_audit__pg_checkpoints_to(u->conn, o->log_id, (int64_t)o->from, INT64_MAX, cpdir,
                                     err);
    if (rc != GW_OK)
        atomic_fetch_add(&u->errors, 1);
    return rc;
}

int gw_audit__upkeep_salvaged(struct audit_upkeep *u, const struct audit_orphan *o)
{
    char to[24];
    snprintf(to, sizeof(to), "%" PRIu64, o->to);
    const char *params[2] = {o->log_id, to};
    int rc = command(u,
                     "UPDATE audit_archive SET archived_upto = greatest(archived_upto, "
                     "$2::bigint), next_header = NULL WHERE log_id = $1",
                     2, params, "record the salvage");
    if (rc == GW_OK)
        atomic_fetch_add(&u->salvaged, 1);
    return rc;
}

void gw_audit__upkeep_stats(struct audit_upkeep *u, unsigned long long *pruned,
                            unsigned long long *salvaged, unsigned long long *errors)
{
    *pruned = atomic_load(&u->pruned);
    *salvaged = atomic_load(&u->salvaged);
    *errors = atomic_load(&u->errors);
}

/* ---- retention ------------------------------------------------------------------------ */

/* The ISO time stamp (as events carry it) `days` days ago. */
static void cutoff_of(unsigned days, char *out, size_t size)
{
    time_t t = time(NULL) - (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* The compact range of what a log's retention deleted (audit_archive.pruned_header: the header
 * a segment starting at the first record kept would carry), extended over every row deleted,
 * so that a record kept can still be proven from the database (audit_pg_read.c). */
struct pruned_head {
    bool known; /* false: pruned by a version that kept no head, or rows that did not chain */
    struct gw_merkle_range range;
    gw_hash prev;
    bool has_prev;
    const char *origin;
    const char *log_id;
    uint64_t to; /* the first record kept by this batch (read only to check its chain) */
};

/* Whether a record line names the leaf hash before it as its "prev" (a record ends with
 * ,"prev":"<base64>","seq":N}): the rows deleted are the ones the log chained. */
static bool chains(const struct pruned_head *h, uint64_t seq, const char *line, size_t len)
{
    char tail[128], p[AUDIT_B64_HASH] = "";
    if (h->has_prev)
        gw_note_b64(h->prev, GW_HASH_LEN, p);
    int n = snprintf(tail, sizeof(tail), ",\"prev\":\"%s\",\"seq\":%" PRIu64 "}", p, seq);
    return n > 0 && (size_t)n <= len && memcmp(line + len - (size_t)n, tail, (size_t)n) == 0;
}

static int head_row(void *ud, uint64_t seq, const char *line, size_t len, struct gw_error *err)
{
    (void)err;
    struct pruned_head *h = ud;
    if (!h->known)
        return GW_OK;
    if (seq != h->range.size || !chains(h, seq, line, len)) {
        if (seq != h->range.size)
            GW_LOG(GW_LOG_WARN, "audit",
                   "database copy retention: record %" PRIu64 " of log %s is missing from "
                   "the database: its records kept can no longer be proven from the database, "
                   "only from the WORM archive",
                   h->range.size, h->log_id);
        else
            GW_LOG(GW_LOG_WARN, "audit",
                   "database copy retention: record %" PRIu64 " of log %s does not chain to "
                   "the record before it (its prev hash differs): rows were changed in the "
                   "database; its records kept can no longer be proven from the database, "
                   "only from the WORM archive",
                   seq, h->log_id);
        h->known = false;
        return GW_OK;
    }
    if (seq == h->to) /* the first record kept: checked, not counted */
        return GW_OK;
    gw_merkle_leaf_hash(line, len, h->prev);
    gw_merkle_range_append(&h->range, h->prev);
    h->has_prev = true;
    return GW_OK;
}

/* The head at `below` from its stored header (NULL: none kept, or nothing pruned yet). */
static void head_of(struct pruned_head *h, const char *log_id, uint64_t below,
                    const char *header, const char *origin)
{
    memset(h, 0, sizeof(*h));
    h->origin = origin;
    h->log_id = log_id;
    gw_merkle_range_init(&h->range);
    struct audit_seg_header sh;
    if (below == 0) {
        h->known = true;
    } else if (gw_audit__pruned_header(header, header ? strlen(header) : 0, below, &sh)) {
        h->known = true;
        h->range = sh.range;
        memcpy(h->prev, sh.prev, GW_HASH_LEN);
        h->has_prev = sh.has_prev;
    }
}

/* Deletes the rows [from, to) of a log and moves its pruned_below (and head) there, in one
 * transaction; the head is extended over the rows first. */
static int prune_batch(struct audit_upkeep *u, const char *log_id, uint64_t from, uint64_t to,
                       struct pruned_head *h)
{
    char f[24], b[24];
    snprintf(f, sizeof(f), "%" PRIu64, from);
    snprintf(b, sizeof(b), "%" PRIu64, to);
    int rc = command(u, "BEGIN", 0, NULL, "prune");
    if (rc == GW_OK && h->known) { /* the rows deleted, and the first one kept */
        struct gw_error err = {0};
        h->to = to;
        if (gw_audit__pg_rows(u->conn, log_id, from, to + 1, head_row, h, &err) != GW_OK)
            rc = fail(u, NULL, "read the rows to prune");
        if (h->known && h->range.size != to)
            h->known = false;
    }
    struct gw_buf hb;
    gw_buf_init(&hb, SIZE_MAX);
    if (h->known) {
        gw_audit__format_header(h->origin, &h->range, h->prev, h->has_prev, &hb);
        gw_buf_truncate(&hb, gw_buf_len(&hb) - 1); /* its newline */
    }
    const char *dp[3] = {log_id, f, b};
    const char *up[4] = {log_id, b, h->known ? gw_buf_ptr(&hb) : NULL, f};
    if (rc == GW_OK)
        rc = command(u,
                     "DELETE FROM audit_records WHERE log_id = $1 AND seq >= $2::bigint AND "
                     "seq < $3::bigint",
                     3, dp, "prune");
    if (rc == GW_OK) { /* only from where this pass read it (one pruner: the advisory lock) */
        PGresult *r = PQexecParams(u->conn,
                                   "UPDATE audit_archive SET pruned_below = $2::bigint, "
                                   "pruned_header = $3 WHERE log_id = $1 AND "
                                   "pruned_below = $4::bigint",
                                   4, NULL, up, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = fail(u, r, "prune");
        else if (strcmp(PQcmdTuples(r), "1") != 0)
            rc = fail(u, r, "prune (the log's pruned_below moved meanwhile)");
        else
            PQclear(r);
    }
    gw_buf_fini(&hb);
    if (rc == GW_OK)
        rc = command(u, "COMMIT", 0, NULL, "prune");
    if (rc != GW_OK) {
        PGresult *rb = PQexec(u->conn, "ROLLBACK");
        PQclear(rb);
    }
    return rc;
}

/* Prunes one log from `below` (its pruned_below) up to `upto`; adds the rows deleted to *n. */
static int prune_log(struct audit_upkeep *u, const char *log_id, uint64_t below, uint64_t upto,
                     struct pruned_head *h, const char *cutoff, bool (*stopping)(void *),
                     void *ud, unsigned long long *n)
{
    while (below < upto && !stopping(ud)) {
        char from[24], to[24], lim[16];
        snprintf(from, sizeof(from), "%" PRIu64, below);
        snprintf(to, sizeof(to), "%" PRIu64, upto);
        snprintf(lim, sizeof(lim), "%d", UPKEEP_BATCH);
        const char *params[5] = {log_id, from, to, lim, cutoff};
        /* the window of the next UPKEEP_BATCH rows: its first record young enough to keep,
         * else its end */
        PGresult *r = PQexecParams(
            u->conn,
            "WITH w AS (SELECT seq, " AUDIT_SQL_TS " AS ts FROM audit_records WHERE log_id = $1 "
            "AND seq >= $2::bigint AND seq < $3::bigint ORDER BY seq LIMIT $4::int) "
            "SELECT (SELECT min(seq) FROM w WHERE ts >= $5), (SELECT max(seq) + 1 FROM w), "
            "(SELECT count(*) FROM w)",
            5, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            return fail(u, r, "find what to prune");
        bool has_young = !PQgetisnull(r, 0, 0), has_end = !PQgetisnull(r, 0, 1);
        uint64_t young = gw_audit__pg_u64(r, 0, 0), end = gw_audit__pg_u64(r, 0, 1);
        uint64_t rows = gw_audit__pg_u64(r, 0, 2);
        PQclear(r);
        uint64_t stop_at = has_young ? young : has_end ? end : below;
        if (stop_at <= below)
            return GW_OK; /* the oldest row kept is young, or none is left below upto */
        int rc = prune_batch(u, log_id, below, stop_at, h);
        if (rc != GW_OK)
            return rc;
        *n += stop_at - below;
        atomic_fetch_add(&u->pruned, stop_at - below);
        below = stop_at;
        if (has_young || rows < UPKEEP_BATCH)
            return GW_OK;
    }
    return GW_OK;
}

void gw_audit__upkeep_prune(struct audit_upkeep *u, bool (*stopping)(void *), void *ud)
{
    if (!u->days || !u->locked)
        return;
    char cutoff[32];
    cutoff_of(u->days, cutoff, sizeof(cutoff));
    PGresult *r = PQexec(u->conn, "SELECT a.log_id, a.pruned_below, a.archived_upto, "
                                  "a.pruned_header, l.origin FROM audit_archive a LEFT JOIN "
                                  "audit_logs l USING (log_id) WHERE a.archived_upto > "
                                  "a.pruned_below ORDER BY a.log_id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail(u, r, "list the archived logs");
        return;
    }
    int rc = GW_OK;
    unsigned long long deleted = 0;
    for (int i = 0; rc == GW_OK && i < PQntuples(r); i++) {
        uint64_t below = gw_audit__pg_u64(r, i, 1);
        struct pruned_head h;
        head_of(&h, PQgetvalue(r, i, 0), below, PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
                PQgetvalue(r, i, 4));
        rc = prune_log(u, PQgetvalue(r, i, 0), below, gw_audit__pg_u64(r, i, 2), &h, cutoff,
                       stopping, ud, &deleted);
    }
    PQclear(r);
    if (deleted)
        GW_LOG(GW_LOG_INFO, "audit",
               "database copy retention: %llu records older than %s (and in the archive) "
               "deleted",
               deleted, cutoff);
    if (rc == GW_OK)
        u->failing = false;
}
