/*
 * src/audit/audit_pg_read.c
 * Reading the PostgreSQL copy of the audit trail (audit_pg.c writes it): every replica's log in
 * one place, so that an operator behind a load balancer sees the whole trail, not the log of
 * whichever replica answered. Owns:
 *   - the search over every log (or one): the same filters as a folder search plus the console's
 *     decision, ordered by the events' time, then log id, then sequence number, and paged with a
 *     keyset cursor on that triple (index audit_records_time; a decision other than "allow"
 *     is served by the partial index audit_records_decision), newest or oldest first;
 *   - the inclusion proof of a record of any log, computed from that log's rows and its latest
 *     checkpoint in the database (linear in the log, so bounded by the caller); the records
 *     the retention deleted count through the compact range it kept of them;
 *   - the export of a log to the on-disk layout (`mcpgw audit export --db`), and its
 *     verification straight from the rows, streamed as the segments the export would write
 *     (`verify --db`, the console's verification of another replica's log).
 * A log's rows are read in order in batches (gw_audit__pg_rows, also the salvage's reader), and
 * an export writes each segment as its rows come (gw_audit__seg_writer_*, audit_log.c: a MiB of
 * its text held at a time), so memory follows a batch, not the log. A log whose first records
 * the retention deleted (audit_upkeep.c) is exported from its first record kept under the
 * header the retention kept (as a folder whose older segments were removed); the proof of a
 * deleted record, or anything of a log pruned without that header, is refused with the way to
 * the archive.
 * The decision of an event is computed in SQL (AUDIT_SQL_DECISION, audit_internal.h); its C
 * twin is gw_audit_decision (audit_read.c): tests/integration/74-audit-pg.test.mjs compares them.
 * Blocking libpq on one connection per thread, kept between calls (admin pool threads, never a
 * loop).
 */
#include "audit/audit_internal.h"
#include "audit/audit_merkle.h"
#include "audit/audit_read.h"
#include "audit/audit_verification.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define PG_BATCH 500          /* rows per round trip of a search */
#define PG_LOG_BATCH 20000    /* rows per round trip while reading a log in order */
#define EXPORT_SEGMENT 100000 /* records per segment of a log exported from the database */

void gw_audit_pos_format(const struct gw_audit_pos *p, char *out, size_t size)
{
    snprintf(out, size, "%s~%s~%" PRIu64, p->ts, p->log_id, p->seq);
}

bool gw_audit_pos_parse(const char *s, struct gw_audit_pos *p)
{
    memset(p, 0, sizeof(*p));
    const char *a = strchr(s, '~');
    const char *b = a ? strchr(a + 1, '~') : NULL;
    if (!a || !b || a == s || b == a + 1 || (size_t)(a - s) >= sizeof(p->ts) ||
        (size_t)(b - a - 1) > GW_AUDIT_LOG_ID_MAX)
        return false;
    for (const char *c = s; c < a; c++) /* an event time: digits and -:.TZ+ */
        if (!strchr("0123456789-:.TZ+", *c))
            return false;
    memcpy(p->ts, s, (size_t)(a - s));
    memcpy(p->log_id, a + 1, (size_t)(b - a - 1));
    if (!gw_audit_log_id_valid(p->log_id))
        return false;
    unsigned long long v;
    if (!b[1] || strlen(b + 1) > 19 || gw_str_to_u64(gw_str_c(b + 1), &v) != GW_OK)
        return false;
    p->seq = v;
    return true;
}

/* One connection per thread, kept between calls (the admin pool's threads): a page of the
 * console costs its queries, not a connection (with TLS to a managed database, tens of ms).
 * A connection that failed a query is dropped (the next call connects afresh), and each is
 * closed when its thread ends (the key's destructor). */
struct held {
    PGconn *conn;
    char *url;
};
static pthread_key_t held_key;
static pthread_once_t held_once = PTHREAD_ONCE_INIT;

static void held_free(void *p)
{
    struct held *h = p;
    if (!h)
        return;
    PQfinish(h->conn);
    gw_free(h->url);
    gw_free(h);
}

static void held_init(void)
{
    if (pthread_key_create(&held_key, held_free) != 0)
        abort(); /* only when the process is out of keys: nothing sensible to go on with */
}

/* Sets err to libpq's message for `c` and returns GW_EIO. */
static int db_fail(struct gw_error *err, PGconn *c)
{
    char m[GW_ERROR_MSG_MAX];
    return GW_ERROR_SET(err, GW_EIO, "audit database: %s", gw_audit__pg_message(c, m, sizeof(m)));
}

static PGconn *connect_db(const char *url, struct gw_error *err)
{
    pthread_once(&held_once, held_init);
    struct held *h = pthread_getspecific(held_key);
    if (h && strcmp(h->url, url) == 0 && PQstatus(h->conn) == CONNECTION_OK)
        return h->conn;
    held_free(h);
    pthread_setspecific(held_key, NULL);
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        db_fail(err, c);
        PQfinish(c);
        return NULL;
    }
    h = gw_xcalloc(1, sizeof(*h));
    h->conn = c;
    h->url = gw_xstrdup(url);
    pthread_setspecific(held_key, h);
    return c;
}

void gw_audit_pg_release(void)
{
    pthread_once(&held_once, held_init);
    held_free(pthread_getspecific(held_key));
    pthread_setspecific(held_key, NULL);
}

/* Hands the thread's connection back: kept when the call went well, dropped when it failed. */
static void release_db(int rc)
{
    if (rc == GW_EIO)
        gw_audit_pg_release();
}

/* The query's parameters, in the order of the SQL below ($1..$16). */
enum {
    P_LOG, P_TOOL, P_OUTCOME, P_KIND, P_METHOD, P_REQ, P_TRACE, P_SINCE, P_UNTIL, P_SUB,
    P_SUB_MASKED, P_DECISION, P_CUR_TS, P_CUR_LOG, P_CUR_SEQ, P_LIMIT, P_COUNT
};

#define SQL_WHERE                                                                          \
    "SELECT log_id, seq, record, event->>'ts' FROM audit_records WHERE "                    \
    "($1::text IS NULL OR log_id = $1) AND ($2::text IS NULL OR event->>'tool' = $2) AND "  \
    "($3::text IS NULL OR event->>'outcome' = $3) AND "                                     \
    "($4::text IS NULL OR event->>'kind' = $4) AND "                                        \
    "($5::text IS NULL OR event->>'method' = $5) AND "                                      \
    "($6::text IS NULL OR event->>'request_id' = $6) AND "                                  \
    "($7::text IS NULL OR event->>'trace_id' = $7) AND "                                    \
    "($8::text IS NULL OR " AUDIT_SQL_TS " >= $8) AND "                                     \
    "($9::text IS NULL OR " AUDIT_SQL_TS " <= $9) AND "                                     \
    "($10::text IS NULL OR event->'principal'->>'subject' IN ($10, coalesce($11, $10))) AND " \
    "($12::text IS NULL OR (" AUDIT_SQL_DECISION ") = $12) AND ($13::text IS NULL OR "
#define SQL_KEY "(" AUDIT_SQL_TS ", log_id, seq)"
#define SQL_CURSOR "($13 COLLATE \"C\", $14, $15::bigint))"

static const char *const SQL_SEARCH[2] = {
    /* oldest first */
    SQL_WHERE SQL_KEY " > " SQL_CURSOR " ORDER BY " AUDIT_SQL_TS ", log_id, seq LIMIT $16::int",
    /* newest first */
    SQL_WHERE SQL_KEY " < " SQL_CURSOR " ORDER BY " AUDIT_SQL_TS
                      " DESC, log_id DESC, seq DESC LIMIT $16::int",
};

long gw_audit_search_pg(const char *url, const struct gw_audit_pg_query *pq, gw_audit_pg_fn fn,
                        void *ud, struct gw_error *err)
{
    const struct gw_audit_query *q = pq->q;
    PGconn *c = connect_db(url, err);
    if (!c)
        return GW_EIO;
    const char *p[P_COUNT] = {0};
#define OPT(v) ((v) && *(v) ? (v) : NULL)
    p[P_LOG] = OPT(pq->log_id);
    p[P_TOOL] = OPT(q->tool);
    p[P_OUTCOME] = OPT(q->outcome);
    p[P_KIND] = OPT(q->kind);
    p[P_METHOD] = OPT(q->method);
    p[P_REQ] = OPT(q->request_id);
    p[P_TRACE] = OPT(q->trace_id);
    p[P_SINCE] = OPT(q->since);
    p[P_UNTIL] = OPT(q->until);
    p[P_SUB] = OPT(q->subject);
    p[P_DECISION] = OPT(pq->decision);
#undef OPT
    char masked[128];
    if (p[P_SUB] && gw_audit__subject_masked(q->pii, p[P_SUB], masked, sizeof(masked)))
        p[P_SUB_MASKED] = masked;
    struct gw_audit_pos cur = {0};
    bool has_cur = pq->cursor != NULL;
    if (has_cur)
        cur = *pq->cursor;
    size_t limit = q->limit ? q->limit : 100;
    long matched = 0;
    bool done = false;
    int rc = GW_OK;
    while (!done && rc == GW_OK) {
        char seqs[24], lims[16];
        size_t want = limit - (size_t)matched < PG_BATCH ? limit - (size_t)matched : PG_BATCH;
        snprintf(lims, sizeof(lims), "%zu", want);
        snprintf(seqs, sizeof(seqs), "%" PRIu64, cur.seq);
        p[P_CUR_TS] = has_cur ? cur.ts : NULL;
        p[P_CUR_LOG] = has_cur ? cur.log_id : NULL;
        p[P_CUR_SEQ] = has_cur ? seqs : NULL;
        p[P_LIMIT] = lims;
        PGresult *r = PQexecParams(c, SQL_SEARCH[pq->newest_first ? 1 : 0], P_COUNT, NULL, p,
                                   NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = db_fail(err, c);
            PQclear(r);
            break;
        }
        int n = PQntuples(r);
        for (int i = 0; i < n && !done; i++) {
            const char *log = PQgetvalue(r, i, 0);
            uint64_t seq = gw_audit__pg_u64(r, i, 1);
            const char *line = PQgetvalue(r, i, 2);
            size_t len = (size_t)PQgetlength(r, i, 2);
            snprintf(cur.ts, sizeof(cur.ts), "%s", PQgetvalue(r, i, 3));
            snprintf(cur.log_id, sizeof(cur.log_id), "%s", log);
            cur.seq = seq;
            has_cur = true;
            json_t *rec = json_loadb(line, len, 0, NULL);
            const json_t *ev = json_object_get(rec, "event");
            if (json_is_object(ev)) {
                matched++;
                done = !fn(ud, log, seq, line, len, ev) || (size_t)matched >= limit;
            }
            json_decref(rec);
        }
        PQclear(r);
        done = done || (size_t)n < want;
    }
    release_db(rc);
    return rc == GW_OK ? matched : rc;
}

int gw_audit_record_pg(const char *url, const char *log_id, uint64_t seq, gw_audit_pg_fn fn,
                       void *ud, struct gw_error *err)
{
    PGconn *c = connect_db(url, err);
    if (!c)
        return GW_EIO;
    char seqs[24];
    snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
    const char *p[2] = {log_id, seqs};
    PGresult *r = PQexecParams(c,
                               "SELECT record FROM audit_records WHERE log_id = $1 AND "
                               "seq = $2::bigint",
                               2, NULL, p, NULL, NULL, 0);
    int rc = GW_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(err, c);
    } else if (PQntuples(r) != 1) {
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no record %" PRIu64 " of log %s", seq, log_id);
    } else {
        const char *line = PQgetvalue(r, 0, 0);
        size_t len = (size_t)PQgetlength(r, 0, 0);
        json_t *rec = json_loadb(line, len, 0, NULL);
        const json_t *ev = json_object_get(rec, "event");
        if (json_is_object(ev))
            fn(ud, log_id, seq, line, len, ev);
        else
            rc = GW_ERROR_SET(err, GW_EINVAL, "record %" PRIu64 " of log %s is not a record",
                              seq, log_id);
        json_decref(rec);
    }
    PQclear(r);
    release_db(rc);
    return rc;
}

int gw_audit_pg_save_verification(const char *url, const char *log_id, const json_t *summary,
                                  struct gw_error *err)
{
    char *text = json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text || strlen(text) > GW_AUDIT_VERIFICATION_MAX) {
        free(text); /* checksrc: allow (jansson's allocation) */
        return GW_ERROR_SET(err, GW_ELIMIT, "the verification summary is too long to store");
    }
    PGconn *c = connect_db(url, err);
    if (!c) {
        free(text); /* checksrc: allow (jansson's allocation) */
        return GW_EIO;
    }
    const char *p[2] = {log_id, text};
    PGresult *r = PQexecParams(c, "UPDATE audit_logs SET verification = $2 WHERE log_id = $1", 2,
                               NULL, p, NULL, NULL, 0);
    int rc = GW_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = db_fail(err, c);
    else if (strcmp(PQcmdTuples(r), "1") != 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no log %s in the audit database", log_id);
    PQclear(r);
    free(text); /* checksrc: allow (jansson's allocation) */
    release_db(rc == GW_EIO ? GW_EIO : GW_OK);
    return rc;
}

json_t *gw_audit_logs_pg(const char *url, unsigned limit, struct gw_error *err)
{
    PGconn *c = connect_db(url, err);
    if (!c)
        return NULL;
    char lim[16];
    snprintf(lim, sizeof(lim), "%u", limit);
    const char *p[1] = {lim};
    /* the newest activity first: a replica's log id is its pod name, so every rollout adds logs
     * and the ones still written come first; each last record is one backward step of the
     * primary key, each checkpoint one of its own */
    PGresult *r = PQexecParams(
        c,
        "SELECT l.log_id, l.origin, lr.seq + 1, cp.size, to_char(cp.created_at AT TIME ZONE "
        "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(l.created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), lr.ts, a.archived_upto, a.pruned_below, "
        "l.verification "
        "FROM audit_logs l LEFT JOIN audit_archive a ON a.log_id = l.log_id "
        "LEFT JOIN LATERAL (SELECT seq, event->>'ts' AS ts FROM audit_records r WHERE "
        "r.log_id = l.log_id ORDER BY seq DESC LIMIT 1) lr ON true "
        "LEFT JOIN LATERAL (SELECT size, created_at FROM audit_checkpoints k WHERE "
        "k.log_id = l.log_id ORDER BY size DESC LIMIT 1) cp ON true "
        "ORDER BY coalesce(cp.created_at, l.created_at) DESC, l.log_id LIMIT $1::int",
        1, NULL, p, NULL, NULL, 0);
    json_t *out = NULL;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_fail(err, c);
    } else {
        out = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            uint64_t records = gw_audit__pg_u64(r, i, 2); /* NULL: no record, 0 */
            json_t *cp = json_null();
            if (!PQgetisnull(r, i, 3))
                cp = json_pack("{s:I,s:s}", "size", (json_int_t)gw_audit__pg_u64(r, i, 3),
                               "time", PQgetvalue(r, i, 4));
            json_t *l = json_pack("{s:s,s:s,s:I,s:o,s:s}", "log", PQgetvalue(r, i, 0), "origin",
                                  PQgetvalue(r, i, 1), "records", (json_int_t)records,
                                  "checkpoint", cp, "createdAt", PQgetvalue(r, i, 5));
            json_object_set_new(l, "lastRecordAt", PQgetisnull(r, i, 6)
                                                       ? json_null()
                                                       : json_string(PQgetvalue(r, i, 6)));
            /* what the WORM archive holds of it (null: no archive), and what the retention
             * deleted from the database */
            uint64_t archived = gw_audit__pg_u64(r, i, 7), pruned = gw_audit__pg_u64(r, i, 8);
            bool known = !PQgetisnull(r, i, 7);
            json_object_set_new(l, "archivedRecords",
                                known ? json_integer((json_int_t)(archived < records ? archived
                                                                                     : records))
                                      : json_null());
            json_object_set_new(l, "prunedBelow", json_integer((json_int_t)pruned));
            json_t *v = PQgetisnull(r, i, 9)
                            ? NULL
                            : gw_audit_verification_parse(PQgetvalue(r, i, 9),
                                                          (size_t)PQgetlength(r, i, 9));
            if (v)
                json_object_set_new(l, "storedVerification", v);
            json_array_append_new(out, l);
        }
    }
    PQclear(r);
    release_db(out ? GW_OK : GW_EIO);
    return out;
}

/* The latest checkpoint of `log_id` in the database: its size and note (gw_free). */
static int latest_checkpoint(PGconn *c, const char *log_id, uint64_t *size, char **note,
                             struct gw_error *err)
{
    const char *p[1] = {log_id};
    PGresult *r = PQexecParams(c,
                               "SELECT size, note FROM audit_checkpoints WHERE log_id = $1 "
                               "ORDER BY size DESC LIMIT 1",
                               1, NULL, p, NULL, NULL, 0);
    int rc = GW_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = db_fail(err, c);
    else if (PQntuples(r) != 1)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND,
                          "log %s has no signed checkpoint in the audit database yet", log_id);
    if (rc == GW_OK) {
        *size = gw_audit__pg_u64(r, 0, 0);
        *note = gw_xstrndup(PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

/* What the retention deleted of `log_id`: the first record it left (0: none deleted) and,
 * when it kept one, the compact range of the records below it (audit_upkeep.c). */
struct pruned {
    uint64_t below;
    bool has_head;
    struct audit_seg_header head;
};

bool gw_audit__pruned_header(const char *text, size_t len, uint64_t below,
                             struct audit_seg_header *out)
{
    return below > 0 && text && gw_audit__parse_header(text, len, out, NULL) == GW_OK &&
           out->first == below;
}

static int pruned_of(PGconn *c, const char *log_id, struct pruned *out, struct gw_error *err)
{
    const char *p[1] = {log_id};
    PGresult *r = PQexecParams(c,
                               "SELECT pruned_below, pruned_header FROM audit_archive "
                               "WHERE log_id = $1",
                               1, NULL, p, NULL, NULL, 0);
    int rc = GW_OK;
    memset(out, 0, sizeof(*out));
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(err, c);
    } else if (PQntuples(r) == 1) {
        out->below = gw_audit__pg_u64(r, 0, 0);
        out->has_head = gw_audit__pruned_header(
            PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1),
            out->below, &out->head);
    }
    PQclear(r);
    return rc;
}

/* PG_LOG_BATCH rows per query. */
int gw_audit__pg_rows(PGconn *c, const char *log_id, uint64_t from, uint64_t to,
                      gw_audit__row_fn fn, void *ud, struct gw_error *err)
{
    for (;;) {
        char fs[24], ts[24], lim[16];
        snprintf(fs, sizeof(fs), "%" PRIu64, from);
        snprintf(ts, sizeof(ts), "%" PRIu64, to);
        snprintf(lim, sizeof(lim), "%d", PG_LOG_BATCH);
        const char *p[4] = {log_id, fs, ts, lim};
        PGresult *r = PQexecParams(c,
                                   "SELECT seq, record FROM audit_records WHERE log_id = $1 AND "
                                   "seq >= $2::bigint AND seq < $3::bigint ORDER BY seq "
                                   "LIMIT $4::int",
                                   4, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            int rc = db_fail(err, c);
            PQclear(r);
            return rc;
        }
        int n = PQntuples(r), rc = GW_OK;
        for (int i = 0; i < n && rc == GW_OK; i++) {
            uint64_t seq = gw_audit__pg_u64(r, i, 0);
            rc = fn(ud, seq, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), err);
            from = seq + 1;
        }
        PQclear(r);
        if (rc != GW_OK || n < PG_LOG_BATCH)
            return rc;
    }
}

/* Hashing the records [first, size) of a log into leaves, in order and without gaps, keeping
 * the line of record `seq`. */
struct leaves {
    const char *log_id;
    gw_hash *leaves; /* leaves[i] is record first + i */
    uint64_t first, next, size, seq;
    char *line; /* gw_free */
};

static int leaf_row(void *ud, uint64_t seq, const char *line, size_t len, struct gw_error *err)
{
    struct leaves *l = ud;
    if (seq != l->next)
        return GW_ERROR_SET(err, GW_ECONFLICT,
                            "log %s in the audit database lacks record %" PRIu64
                            " (below its checkpoint of %" PRIu64 ")",
                            l->log_id, l->next, l->size);
    gw_merkle_leaf_hash(line, len, l->leaves[l->next++ - l->first]);
    if (seq == l->seq)
        l->line = gw_xstrndup(line, len);
    return GW_OK;
}

/* Refuses a proof or an export of a log whose deleted records left no summary. */
static int no_head(const struct pruned *p, const char *log_id, const char *what,
                   struct gw_error *err)
{
    return GW_ERROR_SET(err, GW_ECONFLICT,
                        "%s from the database needs the Merkle tree of log %s, whose records "
                        "below %" PRIu64 " were deleted from the database copy "
                        "(GW_AUDIT_DATABASE_RETENTION_DAYS) without the summary of them that "
                        "proofs use (an older version kept none, or the retention found rows "
                        "changed in the database and said so in a warning): use the archive's "
                        "copy of the log (mcpgw audit verify|proof --dir)",
                        what, log_id, p->below);
}

/* Whether the proof of record `seq` can be computed from the database: the retention may have
 * deleted the first records of the log; those it kept are proven over the compact range of the
 * deleted ones (pruned_header). */
static int provable(const struct pruned *p, const char *log_id, uint64_t seq,
                    struct gw_error *err)
{
    if (p->below == 0 || (p->has_head && seq >= p->below))
        return GW_OK;
    if (!p->has_head)
        return no_head(p, log_id, "a proof", err);
    return GW_ERROR_SET(err, GW_ECONFLICT,
                        "record %" PRIu64 " of log %s was deleted from the database copy "
                        "(GW_AUDIT_DATABASE_RETENTION_DAYS keeps records from %" PRIu64
                        ") once the WORM archive held it: use the archive's copy of the log "
                        "(mcpgw audit proof --dir)",
                        seq, log_id, p->below);
}

json_t *gw_audit_inclusion_pg(const char *url, const char *log_id, uint64_t seq,
                              uint64_t max_records, struct gw_error *err)
{
    PGconn *c = connect_db(url, err);
    if (!c)
        return NULL;
    uint64_t size = 0;
    char *note = NULL;
    struct pruned pr;
    struct leaves l = {.log_id = log_id, .seq = seq};
    json_t *o = NULL;
    int rc = pruned_of(c, log_id, &pr, err);
    if (rc == GW_OK)
        rc = provable(&pr, log_id, seq, err);
    if (rc == GW_OK)
        rc = latest_checkpoint(c, log_id, &size, &note, err);
    if (rc == GW_OK && seq >= size)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND,
                          "record %" PRIu64 " of log %s is not in its latest signed checkpoint "
                          "(%" PRIu64 " records): wait for the next checkpoint",
                          seq, log_id, size);
    if (rc == GW_OK && size - pr.below > max_records)
        rc = GW_ERROR_SET(err, GW_ELIMIT,
                          "log %s holds %" PRIu64 " signed records in the database, more than "
                          "the %" PRIu64 " a proof from the admin API reads: ask the replica "
                          "that writes it, or run `mcpgw audit proof --db URL --log %s --seq "
                          "%" PRIu64 "`",
                          log_id, size - pr.below, max_records, log_id, seq);
    if (rc == GW_OK) {
        l.first = l.next = pr.below;
        l.size = size;
        l.leaves = gw_xmalloc((size_t)(size - pr.below) * sizeof(*l.leaves));
        rc = gw_audit__pg_rows(c, log_id, pr.below, size, leaf_row, &l, err);
    }
    if (rc == GW_OK && l.next < size)
        rc = GW_ERROR_SET(err, GW_ECONFLICT,
                          "log %s in the audit database ends at record %" PRIu64
                          ", before its checkpoint of %" PRIu64,
                          log_id, l.next, size);
    release_db(rc);
    gw_hash proof[GW_MERKLE_MAX_PROOF], root;
    int np = 0;
    if (rc == GW_OK) { /* below <= seq < size: every subtree needed is there (audit_merkle.h) */
        struct gw_merkle_range none;
        gw_merkle_range_init(&none);
        struct gw_merkle_tail t = {pr.below ? &pr.head.range : &none,
                                   (const gw_hash *)l.leaves};
        struct gw_merkle_source src;
        gw_merkle_tail_source(&t, &src);
        if (gw_merkle_source_inclusion(&src, size, seq, proof, &np) != 0 ||
            gw_merkle_source_root(&src, 0, size, root) != 0)
            rc = GW_ERROR_SET(err, GW_ERR, "log %s: the proof of record %" PRIu64
                              " needs records the database no longer holds", log_id, seq);
    }
    if (rc == GW_OK) {
        json_t *pa = json_array();
        for (int i = 0; i < np; i++)
            json_array_append_new(pa, gw_audit__hash_json(proof[i]));
        o = json_pack("{s:s,s:I,s:I,s:o,s:o,s:o,s:s,s:s}", "log", log_id, "seq",
                      (json_int_t)seq, "size", (json_int_t)size, "leaf_hash",
                      gw_audit__hash_json(l.leaves[seq - pr.below]), "root",
                      gw_audit__hash_json(root), "proof", pa, "record", l.line, "checkpoint",
                      note);
    }
    gw_free(l.leaves);
    gw_free(l.line);
    gw_free(note);
    return o;
}

int gw_audit__pg_checkpoints_to(PGconn *c, const char *log_id, int64_t above, int64_t upto,
                                const char *cpdir, struct gw_error *err)
{
    char ab[24], ub[24];
    snprintf(ab, sizeof(ab), "%" PRId64, above);
    snprintf(ub, sizeof(ub), "%" PRId64, upto);
    const char *p[3] = {log_id, ab, ub};
    PGresult *r = PQexecParams(c,
                               "SELECT size, note FROM audit_checkpoints WHERE log_id = $1 AND "
                               "size > $2::bigint AND size <= $3::bigint ORDER BY size",
                               3, NULL, p, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? GW_OK : db_fail(err, c);
    for (int i = 0; rc == GW_OK && i < PQntuples(r); i++) {
        char name[64];
        snprintf(name, sizeof(name), "%020" PRIu64 ".cp", gw_audit__pg_u64(r, i, 0));
        rc = gw_audit__write_file_atomic(cpdir, name, PQgetvalue(r, i, 1),
                                         (size_t)PQgetlength(r, i, 1), 0644, err);
    }
    PQclear(r);
    return rc;
}

/* Hashes a record line into its leaf (`prev`, the last leaf) and appends that to the running
 * compact range: the Merkle side of what the export writes and the verification from the rows
 * streams. */
static void add_leaf(struct gw_merkle_range *range, gw_hash prev, bool *has_prev,
                     const char *line, size_t len)
{
    gw_merkle_leaf_hash(line, len, prev);
    gw_merkle_range_append(range, prev);
    *has_prev = true;
}

/* Exporting a log: its records cut into segments of EXPORT_SEGMENT, each with its header,
 * each written as its rows are read (a MiB of its text held at a time). */
struct export {
    const char *segdir, *origin;
    struct gw_merkle_range range;
    gw_hash prev;
    bool has_prev;
    struct audit_seg_writer w; /* the segment being written, when open */
    bool open;
    struct gw_buf head; /* its header line */
    uint64_t total, seg_first;
};

static int export_row(void *ud, uint64_t seq, const char *line, size_t len,
                      struct gw_error *err)
{
    struct export *x = ud;
    int rc = GW_OK;
    /* a full segment is closed by the record after it, once that one is known to follow (a
     * record missing leaves the segment it would end unwritten) */
    if (x->open && seq == x->total && x->total - x->seg_first == EXPORT_SEGMENT) {
        x->open = false;
        x->seg_first = x->total;
        rc = gw_audit__seg_writer_close(&x->w, GW_OK, err);
    }
    if (rc == GW_OK && !x->open) { /* its header holds the compact range of every earlier leaf */
        gw_buf_reset(&x->head);
        gw_audit__format_header(x->origin, &x->range, x->prev, x->has_prev, &x->head);
        rc = gw_audit__seg_writer_open(&x->w, x->segdir, x->seg_first, true, gw_buf_ptr(&x->head),
                                       gw_buf_len(&x->head) - 1, err);
        x->open = rc == GW_OK;
    }
    if (rc == GW_OK)
        rc = gw_audit__seg_writer_append(&x->w, seq, line, len, err);
    if (rc == GW_ECONFLICT) /* the record expected is missing: said the export's way */
        return GW_ERROR_SET(err, GW_ECONFLICT,
                            "the database copy of the log lacks record %" PRIu64
                            " (its next is %" PRIu64 "): it cannot be exported whole",
                            x->total, seq);
    if (rc != GW_OK)
        return rc;
    add_leaf(&x->range, x->prev, &x->has_prev, line, len);
    x->total++;
    return GW_OK;
}

int gw_audit_export_pg(const char *url, const char *log_id, const char *outdir,
                       uint64_t *out_records, struct gw_error *err)
{
    *out_records = 0;
    PGconn *c = connect_db(url, err);
    if (!c)
        return GW_EIO;
    struct audit_export_dirs d = {0};
    struct pruned pr;
    int rc = pruned_of(c, log_id, &pr, err);
    if (rc == GW_OK && pr.below > 0 && !pr.has_head)
        rc = no_head(&pr, log_id, "an export", err);
    if (rc == GW_OK)
        rc = gw_audit__export_layout(outdir, log_id, &d, err);
    const char *p[1] = {log_id};
    char origin[256] = "";
    if (rc == GW_OK) {
        PGresult *r = PQexecParams(c, "SELECT origin FROM audit_logs WHERE log_id = $1", 1, NULL,
                                   p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = db_fail(err, c);
        else if (PQntuples(r) != 1)
            rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no audit log '%s' in the database", log_id);
        else
            snprintf(origin, sizeof(origin), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    /* a log the retention pruned starts at its first record kept, under the header the
     * retention kept (what a folder whose older segments were removed looks like) */
    /* the checkpoints signed before the rows are read (a live log signs more meanwhile: those
     * would cover rows not read, and read as a cut-off log) */
    int64_t signed_upto = -1;
    if (rc == GW_OK) {
        PGresult *r = PQexecParams(c,
                                   "SELECT coalesce(max(size), -1) FROM audit_checkpoints "
                                   "WHERE log_id = $1",
                                   1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = db_fail(err, c);
        else
            signed_upto = (int64_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    struct export x = {.segdir = d.seg, .origin = origin};
    gw_merkle_range_init(&x.range);
    if (pr.below > 0 && pr.has_head) {
        x.range = pr.head.range;
        memcpy(x.prev, pr.head.prev, GW_HASH_LEN);
        x.has_prev = pr.head.has_prev;
        x.total = x.seg_first = pr.below;
    }
    gw_buf_init(&x.head, SIZE_MAX);
    if (rc == GW_OK)
        rc = gw_audit__pg_rows(c, log_id, x.total, INT64_MAX, export_row, &x, err);
    if (x.open) /* the last segment: written out, or removed after an error */
        rc = gw_audit__seg_writer_close(&x.w, rc, err);
    gw_buf_fini(&x.head);
    if (rc == GW_OK) /* every checkpoint of the log, as signed */
        rc = gw_audit__pg_checkpoints_to(c, log_id, -1, signed_upto, d.cp, err);
    release_db(rc);
    *out_records = x.total - (pr.below > 0 ? pr.below : 0);
    return rc;
}

/* ---- verification straight from the rows (no copy on disk) ---- */

/* A log in the database as a verification source (audit_internal.h): its rows streamed as the
 * segments an export would write (EXPORT_SEGMENT records each, from the first record kept,
 * every header carrying the compact range of the records before it), its checkpoints as
 * signed. A database error ends the stream and is reported as such, not as a cut-off log. */
struct pg_src {
    PGconn *c;
    const char *log_id;
    char origin[256];
    struct pruned pr;
    uint64_t first, end; /* the rows [first, end) */
    /* the segment being read: the range and the last leaf at `next`, what is formatted */
    struct gw_merkle_range range;
    gw_hash prev;
    bool has_prev, header_sent;
    uint64_t next, seg_end;
    struct gw_buf out;
    size_t off;
    bool failed;
    struct gw_error err;
    uint64_t *cps; /* the checkpoints' sizes, listed before `end` was read */
    size_t ncp;
};

static int src_segments(void *ud, struct audit_seg **out, size_t *n, struct gw_error *err)
{
    (void)err;
    struct pg_src *p = ud;
    size_t k = p->end > p->first ? (size_t)((p->end - p->first - 1) / EXPORT_SEGMENT + 1) : 0;
    *out = gw_xcalloc(k ? k : 1, sizeof(**out));
    for (size_t i = 0; i < k; i++) {
        (*out)[i].first = p->first + (uint64_t)i * EXPORT_SEGMENT;
        snprintf((*out)[i].name, sizeof((*out)[i].name), "%020" PRIu64 ".jsonl",
                 (*out)[i].first);
    }
    *n = k;
    return GW_OK;
}

/* Formats the next rows of the segment into p->out; false at its end or on an error. */
static bool src_fill(struct pg_src *p)
{
    gw_buf_reset(&p->out);
    p->off = 0;
    if (!p->header_sent) {
        p->header_sent = true;
        gw_audit__format_header(p->origin, &p->range, p->prev, p->has_prev, &p->out);
        return true;
    }
    if (p->failed || p->next >= p->seg_end)
        return false;
    char fs[24], ts[24], lim[16];
    snprintf(fs, sizeof(fs), "%" PRIu64, p->next);
    snprintf(ts, sizeof(ts), "%" PRIu64, p->seg_end);
    snprintf(lim, sizeof(lim), "%d", PG_LOG_BATCH); /* fewer, larger reads: 2,000 took 2x */
    const char *prm[4] = {p->log_id, fs, ts, lim};
    PGresult *r = PQexecParams(p->c,
                               "SELECT seq, record FROM audit_records WHERE log_id = $1 AND "
                               "seq >= $2::bigint AND seq < $3::bigint ORDER BY seq "
                               "LIMIT $4::int",
                               4, NULL, prm, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_fail(&p->err, p->c);
        p->failed = true;
        PQclear(r);
        return false;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        const char *line = PQgetvalue(r, i, 1);
        size_t len = (size_t)PQgetlength(r, i, 1);
        gw_buf_add(&p->out, line, len);
        gw_buf_addc(&p->out, '\n');
        add_leaf(&p->range, p->prev, &p->has_prev, line, len);
        p->next = gw_audit__pg_u64(r, i, 0) + 1;
    }
    PQclear(r);
    if (n == 0)
        p->next = p->seg_end;
    return n > 0;
}

static ssize_t src_read(void *cookie, char *buf, size_t size)
{
    struct pg_src *p = cookie;
    while (p->off == gw_buf_len(&p->out))
        if (!src_fill(p))
            return 0;
    size_t k = gw_buf_len(&p->out) - p->off;
    if (k > size)
        k = size;
    memcpy(buf, gw_buf_ptr(&p->out) + p->off, k);
    p->off += k;
    return (ssize_t)k;
}

static int src_close(void *cookie)
{
    (void)cookie;
    return 0;
}

static FILE *src_open(void *ud, const struct audit_seg *seg, size_t index)
{
    struct pg_src *p = ud;
    if (index == 0) { /* a pass begins: from the head the retention kept, or from nothing */
        gw_merkle_range_init(&p->range);
        memset(p->prev, 0, sizeof(p->prev));
        p->has_prev = false;
        if (p->pr.below > 0) {
            p->range = p->pr.head.range;
            memcpy(p->prev, p->pr.head.prev, GW_HASH_LEN);
            p->has_prev = p->pr.head.has_prev;
        }
    }
    p->next = seg->first;
    p->seg_end = seg->first + EXPORT_SEGMENT < p->end ? seg->first + EXPORT_SEGMENT : p->end;
    p->header_sent = false;
    gw_buf_reset(&p->out);
    p->off = 0;
    cookie_io_functions_t io = {.read = src_read, .close = src_close};
    return fopencookie(p, "r", io);
}

static int src_checkpoints(void *ud, uint64_t **sizes, size_t *n)
{
    struct pg_src *p = ud;
    *sizes = gw_xcalloc(p->ncp ? p->ncp : 1, sizeof(**sizes));
    memcpy(*sizes, p->cps, p->ncp * sizeof(**sizes));
    *n = p->ncp;
    return GW_OK;
}

static int src_checkpoint(void *ud, uint64_t size, char **text, size_t *len,
                          struct gw_error *err)
{
    struct pg_src *p = ud;
    char ss[24];
    snprintf(ss, sizeof(ss), "%" PRIu64, size);
    const char *prm[2] = {p->log_id, ss};
    PGresult *r = PQexecParams(p->c,
                               "SELECT note FROM audit_checkpoints WHERE log_id = $1 AND "
                               "size = $2::bigint",
                               2, NULL, prm, NULL, NULL, 0);
    int rc = GW_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        rc = db_fail(err, p->c);
        p->err = *err;
        p->failed = true;
    } else {
        *len = (size_t)PQgetlength(r, 0, 0);
        *text = gw_xstrndup(PQgetvalue(r, 0, 0), *len);
    }
    PQclear(r);
    return rc;
}

/* The log's origin, where its rows begin (the first kept) and end. */
static int src_init(struct pg_src *p, PGconn *c, const char *log_id, struct gw_error *err)
{
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->log_id = log_id;
    gw_buf_init(&p->out, SIZE_MAX);
    int rc = pruned_of(c, log_id, &p->pr, err);
    if (rc == GW_OK && p->pr.below > 0 && !p->pr.has_head)
        rc = no_head(&p->pr, log_id, "a verification", err);
    if (rc != GW_OK)
        return rc;
    /* the checkpoints first, then where the rows end: every checkpoint listed covers rows that
     * are there (unless rows were taken away), while a live log goes on meanwhile */
    const char *prm[1] = {log_id};
    PGresult *r = PQexecParams(c,
                               "SELECT size FROM audit_checkpoints WHERE log_id = $1 "
                               "ORDER BY size",
                               1, NULL, prm, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(err, c);
        PQclear(r);
        return rc;
    }
    p->ncp = (size_t)PQntuples(r);
    p->cps = gw_xcalloc(p->ncp ? p->ncp : 1, sizeof(*p->cps));
    for (size_t i = 0; i < p->ncp; i++)
        p->cps[i] = gw_audit__pg_u64(r, (int)i, 0);
    PQclear(r);
    r = PQexecParams(c,
                     "SELECT origin, (SELECT max(seq) + 1 FROM audit_records WHERE "
                     "log_id = $1) FROM audit_logs WHERE log_id = $1",
                     1, NULL, prm, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = db_fail(err, c);
    else if (PQntuples(r) != 1)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no audit log '%s' in the database", log_id);
    else {
        gw_strlcpy(p->origin, sizeof(p->origin), PQgetvalue(r, 0, 0));
        p->first = p->pr.below;
        p->end = gw_audit__pg_u64(r, 0, 1);
        if (p->end < p->first)
            p->end = p->first;
    }
    PQclear(r);
    return rc;
}

json_t *gw_audit_verify_pg(const char *url, const char *log_id,
                           struct gw_note_verifier *const *vs, size_t nvs,
                           bool (*progress)(void *ud, int pass, uint64_t records), void *ud,
                           struct gw_error *err)
{
    PGconn *c = connect_db(url, err);
    if (!c)
        return NULL;
    struct pg_src p;
    json_t *r = NULL;
    int rc = src_init(&p, c, log_id, err);
    if (rc == GW_OK) {
        struct audit_src src = {src_segments, src_open, src_checkpoints, src_checkpoint, &p};
        r = gw_audit__verify_src(&src, log_id, vs, nvs, progress, ud);
        if (p.failed) { /* what the reading missed is the database's failure, not the log's */
            json_decref(r);
            r = NULL;
            *err = p.err;
            rc = GW_EIO;
        }
    }
    gw_buf_fini(&p.out);
    gw_free(p.cps);
    release_db(rc);
    return r;
}
