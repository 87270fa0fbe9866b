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
 *     checkpoint in the database (linear in the log, so bounded by the caller).
 * The decision of an event is computed in SQL (AUDIT_SQL_DECISION, audit_internal.h); its C
 * twin is gw_audit_decision (audit_read.c): tests/integration/74-audit-pg.test.mjs compares them.
 * Blocking libpq on one connection per thread, kept between calls (admin pool threads, never a
 * loop).
 */
#include "audit/audit_internal.h"
#include "audit/audit_merkle.h"
#include "audit/audit_read.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define PG_BATCH 500      /* rows per round trip of a search */
#define PG_LEAF_BATCH 20000 /* rows per round trip while hashing a log for a proof */

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

/* Sets err to libpq's message for `c` (without its trailing newline; it names the host, never
 * the password) and returns GW_EIO. */
static int db_fail(struct gw_error *err, PGconn *c)
{
    char m[GW_ERROR_MSG_MAX];
    snprintf(m, sizeof(m), "%s", PQerrorMessage(c));
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    return GW_ERROR_SET(err, GW_EIO, "audit database: %s", m);
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

/* Hands the connection back: kept when the call went well, dropped when it failed. */
static void release_db(PGconn *c, int rc)
{
    (void)c;
    if (rc != GW_EIO)
        return;
    held_free(pthread_getspecific(held_key));
    pthread_setspecific(held_key, NULL);
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
            unsigned long long seq = 0;
            gw_str_to_u64(gw_str_c(PQgetvalue(r, i, 1)), &seq);
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
    release_db(c, rc);
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
    release_db(c, rc);
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
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), lr.ts FROM audit_logs l "
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
            unsigned long long records = 0, size = 0;
            gw_str_to_u64(gw_str_c(PQgetvalue(r, i, 2)), &records); /* NULL: "" = 0 records */
            json_t *cp = json_null();
            if (!PQgetisnull(r, i, 3) &&
                gw_str_to_u64(gw_str_c(PQgetvalue(r, i, 3)), &size) == GW_OK)
                cp = json_pack("{s:I,s:s}", "size", (json_int_t)size, "time",
                               PQgetvalue(r, i, 4));
            json_t *l = json_pack("{s:s,s:s,s:I,s:o,s:s}", "log", PQgetvalue(r, i, 0), "origin",
                                  PQgetvalue(r, i, 1), "records", (json_int_t)records,
                                  "checkpoint", cp, "createdAt", PQgetvalue(r, i, 5));
            json_object_set_new(l, "lastRecordAt", PQgetisnull(r, i, 6)
                                                       ? json_null()
                                                       : json_string(PQgetvalue(r, i, 6)));
            json_array_append_new(out, l);
        }
    }
    PQclear(r);
    release_db(c, out ? GW_OK : GW_EIO);
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
    unsigned long long v = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = db_fail(err, c);
    else if (PQntuples(r) != 1 || gw_str_to_u64(gw_str_c(PQgetvalue(r, 0, 0)), &v) != GW_OK)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND,
                          "log %s has no signed checkpoint in the audit database yet", log_id);
    if (rc == GW_OK) {
        *size = v;
        *note = gw_xstrndup(PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

/* Hashes the records [0, size) of the log into leaves (in order, without gaps) and keeps the
 * line of record `seq` (gw_free). */
static int hash_leaves(PGconn *c, const char *log_id, uint64_t size, uint64_t seq,
                       gw_hash *leaves, char **line, struct gw_error *err)
{
    uint64_t next = 0;
    while (next < size) {
        char from[24], to[24], lim[16];
        snprintf(from, sizeof(from), "%" PRIu64, next);
        snprintf(to, sizeof(to), "%" PRIu64, size);
        snprintf(lim, sizeof(lim), "%d", PG_LEAF_BATCH);
        const char *p[4] = {log_id, from, to, lim};
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
        int n = PQntuples(r);
        for (int i = 0; i < n; i++, next++) {
            unsigned long long s = 0;
            if (gw_str_to_u64(gw_str_c(PQgetvalue(r, i, 0)), &s) != GW_OK || s != next) {
                PQclear(r);
                return GW_ERROR_SET(err, GW_ECONFLICT,
                                    "log %s in the audit database lacks record %" PRIu64
                                    " (below its checkpoint of %" PRIu64 ")",
                                    log_id, next, size);
            }
            size_t len = (size_t)PQgetlength(r, i, 1);
            gw_merkle_leaf_hash(PQgetvalue(r, i, 1), len, leaves[next]);
            if (s == seq)
                *line = gw_xstrndup(PQgetvalue(r, i, 1), len);
        }
        PQclear(r);
        if (n == 0)
            return GW_ERROR_SET(err, GW_ECONFLICT,
                                "log %s in the audit database ends at record %" PRIu64
                                ", before its checkpoint of %" PRIu64,
                                log_id, next, size);
    }
    return GW_OK;
}

static json_t *hash_json(const gw_hash h)
{
    char b[AUDIT_B64_HASH];
    gw_note_b64(h, GW_HASH_LEN, b);
    return json_string(b);
}

json_t *gw_audit_inclusion_pg(const char *url, const char *log_id, uint64_t seq,
                              uint64_t max_records, struct gw_error *err)
{
    PGconn *c = connect_db(url, err);
    if (!c)
        return NULL;
    uint64_t size = 0;
    char *note = NULL, *line = NULL;
    gw_hash *leaves = NULL;
    json_t *o = NULL;
    int rc = latest_checkpoint(c, log_id, &size, &note, err);
    if (rc == GW_OK && seq >= size)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND,
                          "record %" PRIu64 " of log %s is not in its latest signed checkpoint "
                          "(%" PRIu64 " records): wait for the next checkpoint",
                          seq, log_id, size);
    if (rc == GW_OK && size > max_records)
        rc = GW_ERROR_SET(err, GW_ELIMIT,
                          "log %s holds %" PRIu64 " signed records, more than the %" PRIu64
                          " a proof from the audit database reads: ask the replica that writes "
                          "it, or run `mcpgw audit export --db URL --log %s --out DIR` and "
                          "`mcpgw audit proof --dir DIR/%s --seq %" PRIu64 "`",
                          log_id, size, max_records, log_id, log_id, seq);
    if (rc == GW_OK) {
        leaves = gw_xmalloc((size_t)size * sizeof(*leaves));
        rc = hash_leaves(c, log_id, size, seq, leaves, &line, err);
    }
    release_db(c, rc);
    if (rc == GW_OK) {
        gw_hash proof[GW_MERKLE_MAX_PROOF], root;
        int np = gw_merkle_inclusion_proof((const gw_hash *)leaves, size, seq, proof);
        gw_merkle_root((const gw_hash *)leaves, size, root);
        json_t *pa = json_array();
        for (int i = 0; i < np; i++)
            json_array_append_new(pa, hash_json(proof[i]));
        o = json_pack("{s:s,s:I,s:I,s:o,s:o,s:o,s:s,s:s}", "log", log_id, "seq",
                      (json_int_t)seq, "size", (json_int_t)size, "leaf_hash",
                      hash_json(leaves[seq]), "root", hash_json(root), "proof", pa, "record",
                      line, "checkpoint", note);
    }
    gw_free(leaves);
    gw_free(line);
    gw_free(note);
    return o;
}
