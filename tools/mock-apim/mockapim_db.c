/*
 * tools/mock-apim/mockapim_db.c
 * SQLite storage of the mock (schema version 1, PRAGMA user_version).
 *
 * Tables: meta(key, value) for counters and the "seeded" mark; bookings; appointments; tokens.
 * Invariants: (1) counters only grow, so ids are never reused, also across restarts (a reset
 * starts them over, together with deleting every row that used them); (2) the demo rows are
 * seeded exactly once per database (meta.seeded) or on reset; (3) every statement is prepared
 * with bound parameters, never built from request text.
 */
#include "mockapim_db.h"

#include "core/alloc.h"
#include "mockapim_date.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The handle: one SQLite connection and its path (for messages). */
struct gw_mockapim_db {
    sqlite3 *h;
    char path[512];
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS bookings("
    " booking_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, mobile TEXT NOT NULL,"
    " registration_number TEXT NOT NULL, dealer_id TEXT NOT NULL, date TEXT NOT NULL,"
    " time TEXT NOT NULL, service_type TEXT NOT NULL, status TEXT NOT NULL,"
    " notes TEXT NOT NULL DEFAULT '', cancel_reason TEXT NOT NULL DEFAULT '',"
    " created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    " idempotency_key TEXT UNIQUE, request_hash TEXT);"
    "CREATE INDEX IF NOT EXISTS bookings_slot ON bookings(dealer_id, date, time, status);"
    "CREATE TABLE IF NOT EXISTS appointments("
    " appointment_no TEXT PRIMARY KEY, kind TEXT NOT NULL, reg_no TEXT NOT NULL,"
    " dealer_code TEXT NOT NULL, loc_code TEXT NOT NULL, date TEXT NOT NULL,"
    " slot_code TEXT NOT NULL, slot_time_code TEXT NOT NULL,"
    " appointment_type_code TEXT NOT NULL, srv_type_code TEXT NOT NULL,"
    " current_sa_code TEXT NOT NULL, odometer TEXT NOT NULL, user_id TEXT NOT NULL,"
    " mobile_no TEXT NOT NULL DEFAULT '', psf_num TEXT NOT NULL DEFAULT '',"
    " extra TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL,"
    " cancel_reason TEXT NOT NULL DEFAULT '', cancelled_by TEXT NOT NULL DEFAULT '',"
    " reminder_sent_at TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS appointments_slot ON appointments(dealer_code, loc_code, date,"
    " slot_time_code, status);"
    "CREATE INDEX IF NOT EXISTS appointments_reg ON appointments(reg_no);"
    "CREATE TABLE IF NOT EXISTS tokens(token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

static const char appt_cols[] =
    "appointment_no, kind, reg_no, dealer_code, loc_code, date, slot_code, slot_time_code,"
    " appointment_type_code, srv_type_code, current_sa_code, odometer, user_id, mobile_no,"
    " psf_num, extra, status, cancel_reason, cancelled_by, reminder_sent_at, created_at,"
    " updated_at";

static const char booking_cols[] =
    "booking_id, customer_id, mobile, registration_number, dealer_id, date, time, service_type,"
    " status, notes, cancel_reason, created_at, updated_at";

/* Fills err with the SQLite message for `what` and returns GW_EIO. */
static int db_fail(struct gw_mockapim_db *db, struct gw_error *err, const char *what)
{
    return GW_ERROR_SET(err, GW_EIO, "database %s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

/* Runs SQL without results (schema, transaction control). */
static int exec(struct gw_mockapim_db *db, const char *sql, struct gw_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = GW_ERROR_SET(err, GW_EIO, "database %s: %s", db->path, msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return GW_OK;
}

/* Prepares one statement; every statement binds its parameters (invariant 3). */
static int prepare(struct gw_mockapim_db *db, const char *sql, sqlite3_stmt **st,
                   struct gw_error *err)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare");
    return GW_OK;
}

/* Binds s as text, or NULL (which the list filters read as "any"). */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Copies column i as text into dst (truncating to cap - 1). */
static void col(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Creates the parent folders of path (mkdir -p of dirname). */
static int make_parents(const char *path, struct gw_error *err)
{
    char tmp[512];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return GW_ERROR_SET(err, GW_EINVAL, "database path too long");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        char ebuf[128];
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return GW_ERROR_SET(err, GW_EIO, "cannot create folder %s: %s", tmp,
                                gw_strerror(errno, ebuf, sizeof(ebuf)));
        *p = '/';
    }
    return GW_OK;
}

/* Upserts one meta counter. */
static int set_meta(struct gw_mockapim_db *db, const char *key, long long v,
                    struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, v);
    rc = sqlite3_step(st) == SQLITE_DONE ? GW_OK : db_fail(db, err, "set meta");
    sqlite3_finalize(st);
    return rc;
}

/* The demo appointment of the DMS swagger's own examples (SB22005900, DL3CCA1985 at 10744/OKF,
 * 25-JUL-2022): already serviced, so it lists but cannot be cancelled or moved. */
static int seed(struct gw_mockapim_db *db, struct gw_error *err)
{
    struct gw_mockapim_appt a;
    memset(&a, 0, sizeof(a));
    snprintf(a.appointment_no, sizeof(a.appointment_no), "SB22005900");
    snprintf(a.kind, sizeof(a.kind), "standard");
    snprintf(a.reg_no, sizeof(a.reg_no), "DL3CCA1985");
    snprintf(a.dealer_code, sizeof(a.dealer_code), "10744");
    snprintf(a.loc_code, sizeof(a.loc_code), "OKF");
    snprintf(a.date, sizeof(a.date), "2022-07-25");
    snprintf(a.slot_code, sizeof(a.slot_code), "1100-1300");
    snprintf(a.slot_time_code, sizeof(a.slot_time_code), "1230-1245");
    snprintf(a.appointment_type_code, sizeof(a.appointment_type_code), "PRM");
    snprintf(a.srv_type_code, sizeof(a.srv_type_code), "RR");
    snprintf(a.current_sa_code, sizeof(a.current_sa_code), "0147");
    snprintf(a.odometer, sizeof(a.odometer), "65000");
    snprintf(a.user_id, sizeof(a.user_id), "vinod.okf");
    snprintf(a.mobile_no, sizeof(a.mobile_no), "9811122233");
    snprintf(a.extra, sizeof(a.extra), "{}");
    snprintf(a.status, sizeof(a.status), "COMPLETED");
    snprintf(a.created_at, sizeof(a.created_at), "2022-07-20T10:00:00+05:30");
    snprintf(a.updated_at, sizeof(a.updated_at), "2022-07-25T17:30:00+05:30");
    int rc = gw_mockapim_db_appt_insert(db, &a, err);
    if (rc == GW_OK)
        rc = set_meta(db, "booking", 100, err);
    if (rc == GW_OK)
        rc = set_meta(db, "appointment", 22005900, err);
    if (rc == GW_OK)
        rc = set_meta(db, "seeded", 1, err);
    return rc;
}

/* Whether the demo rows were seeded in this file already (invariant 2). */
static int is_seeded(struct gw_mockapim_db *db, bool *out, struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "SELECT value FROM meta WHERE key = 'seeded'", &st, err);
    if (rc != GW_OK)
        return rc;
    int s = sqlite3_step(st);
    *out = s == SQLITE_ROW;
    rc = (s == SQLITE_ROW || s == SQLITE_DONE) ? GW_OK : db_fail(db, err, "read meta");
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_reset(struct gw_mockapim_db *db, struct gw_error *err)
{
    int rc = exec(db, "BEGIN IMMEDIATE", err);
    if (rc != GW_OK)
        return rc;
    rc = exec(db, "DELETE FROM bookings; DELETE FROM appointments; DELETE FROM tokens;"
                  " DELETE FROM meta;", err);
    if (rc == GW_OK)
        rc = seed(db, err);
    if (rc == GW_OK)
        rc = exec(db, "COMMIT", err);
    if (rc != GW_OK)
        exec(db, "ROLLBACK", NULL);
    return rc;
}

int gw_mockapim_db_open(const char *path, unsigned flags, struct gw_mockapim_db **out,
                        struct gw_error *err)
{
    int rc = GW_EIO;
    bool ro = (flags & GW_MOCKAPIM_DB_READONLY) != 0, seeded = false;
    struct gw_mockapim_db *db = gw_xcalloc(1, sizeof(*db));
    snprintf(db->path, sizeof(db->path), "%s", path);
    *out = NULL;
    if (!ro && (rc = make_parents(path, err)) != GW_OK)
        goto out;
    int oflags = ro ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &db->h, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "open");
        goto out;
    }
    sqlite3_busy_timeout(db->h, 5000);
    if (ro) {
        rc = exec(db, "SELECT count(*) FROM bookings", err);
        goto out;
    }
    if ((rc = exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", err)) != GW_OK ||
        (rc = exec(db, schema_sql, err)) != GW_OK || (rc = is_seeded(db, &seeded, err)) != GW_OK)
        goto out;
    if (!seeded || (flags & GW_MOCKAPIM_DB_RESET))
        rc = gw_mockapim_db_reset(db, err);
out:
    if (rc != GW_OK) {
        gw_mockapim_db_close(db);
        return rc;
    }
    *out = db;
    return GW_OK;
}

void gw_mockapim_db_close(struct gw_mockapim_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    gw_free(db);
}

int gw_mockapim_db_ping(struct gw_mockapim_db *db, struct gw_error *err)
{
    return exec(db, "SELECT count(*) FROM meta", err);
}

int gw_mockapim_db_begin(struct gw_mockapim_db *db, struct gw_error *err)
{
    return exec(db, "BEGIN IMMEDIATE", err);
}

int gw_mockapim_db_commit(struct gw_mockapim_db *db, struct gw_error *err)
{
    return exec(db, "COMMIT", err);
}

void gw_mockapim_db_rollback(struct gw_mockapim_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        exec(db, "ROLLBACK", NULL);
}

int gw_mockapim_db_next_seq(struct gw_mockapim_db *db, const char *name, long long *out,
                            struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "INSERT INTO meta(key, value) VALUES(?1, 1) ON CONFLICT(key) DO UPDATE"
                         " SET value = value + 1 RETURNING value", &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, name);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = GW_OK;
    } else {
        rc = db_fail(db, err, "next sequence");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- bookings ---- */

static void booking_row(sqlite3_stmt *st, struct gw_mockapim_booking *b)
{
    memset(b, 0, sizeof(*b));
    col(st, 0, b->booking_id, sizeof(b->booking_id));
    col(st, 1, b->customer_id, sizeof(b->customer_id));
    col(st, 2, b->mobile, sizeof(b->mobile));
    col(st, 3, b->registration_number, sizeof(b->registration_number));
    col(st, 4, b->dealer_id, sizeof(b->dealer_id));
    col(st, 5, b->date, sizeof(b->date));
    col(st, 6, b->time, sizeof(b->time));
    col(st, 7, b->service_type, sizeof(b->service_type));
    col(st, 8, b->status, sizeof(b->status));
    col(st, 9, b->notes, sizeof(b->notes));
    col(st, 10, b->cancel_reason, sizeof(b->cancel_reason));
    col(st, 11, b->created_at, sizeof(b->created_at));
    col(st, 12, b->updated_at, sizeof(b->updated_at));
}

int gw_mockapim_db_booking_insert(struct gw_mockapim_db *db, const struct gw_mockapim_booking *b,
                                  const char *idem_key, const char *req_hash,
                                  struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "INSERT INTO bookings(booking_id, customer_id, mobile,"
                         " registration_number, dealer_id, date, time, service_type, status, notes,"
                         " cancel_reason, created_at, updated_at, idempotency_key, request_hash)"
                         " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)", &st, err);
    if (rc != GW_OK)
        return rc;
    const char *v[13] = {b->booking_id, b->customer_id, b->mobile,  b->registration_number,
                         b->dealer_id,  b->date,        b->time,    b->service_type,
                         b->status,     b->notes,       b->cancel_reason, b->created_at,
                         b->updated_at};
    for (int i = 0; i < 13; i++)
        bind_text(st, i + 1, v[i]);
    bind_text(st, 14, idem_key && *idem_key ? idem_key : NULL);
    bind_text(st, 15, req_hash);
    rc = sqlite3_step(st) == SQLITE_DONE ? GW_OK : db_fail(db, err, "insert booking");
    sqlite3_finalize(st);
    return rc;
}

/* Reads the booking whose `where` column equals key (and its request hash, if wanted). */
static int booking_one(struct gw_mockapim_db *db, const char *where, const char *key,
                       struct gw_mockapim_booking *out, char *out_hash, size_t hash_cap,
                       struct gw_error *err)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT %s, request_hash FROM bookings WHERE %s = ?1",
             booking_cols, where);
    int rc = prepare(db, sql, &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, key);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        booking_row(st, out);
        if (out_hash)
            col(st, 13, out_hash, hash_cap);
        rc = GW_OK;
    } else {
        rc = s == SQLITE_DONE ? GW_ENOTFOUND : db_fail(db, err, "read booking");
    }
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_booking_get(struct gw_mockapim_db *db, const char *booking_id,
                               struct gw_mockapim_booking *out, struct gw_error *err)
{
    return booking_one(db, "booking_id", booking_id, out, NULL, 0, err);
}

int gw_mockapim_db_booking_by_idem(struct gw_mockapim_db *db, const char *idem_key,
                                   struct gw_mockapim_booking *out, char *out_hash,
                                   size_t hash_cap, struct gw_error *err)
{
    return booking_one(db, "idempotency_key", idem_key, out, out_hash, hash_cap, err);
}

int gw_mockapim_db_booking_set_status(struct gw_mockapim_db *db, const char *booking_id,
                                      const char *status, const char *reason,
                                      const char *updated_at, struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "UPDATE bookings SET status = ?2, cancel_reason = ?3, updated_at = ?4"
                         " WHERE booking_id = ?1", &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, booking_id);
    bind_text(st, 2, status);
    bind_text(st, 3, reason ? reason : "");
    bind_text(st, 4, updated_at);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, err, "update booking");
    else
        rc = sqlite3_changes(db->h) == 1 ? GW_OK : GW_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
}

/* Steps a SELECT count(*) statement, finalizes it, returns the count in *out. */
static int count_query(struct gw_mockapim_db *db, sqlite3_stmt *st, int *out,
                       struct gw_error *err)
{
    int rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = GW_OK;
    } else {
        rc = db_fail(db, err, "count");
    }
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_booking_count(struct gw_mockapim_db *db, const char *dealer_id,
                                 const char *date, const char *time, int *out,
                                 struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "SELECT count(*) FROM bookings WHERE dealer_id = ?1 AND date = ?2"
                         " AND time = ?3 AND status = 'CONFIRMED'", &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, dealer_id);
    bind_text(st, 2, date);
    bind_text(st, 3, time);
    return count_query(db, st, out, err);
}

/* NULL for "" so that empty filters match anything. */
static const char *opt(const char *s)
{
    return s && *s ? s : NULL;
}

int gw_mockapim_db_booking_each(struct gw_mockapim_db *db,
                                const struct gw_mockapim_booking_filter *f, size_t limit,
                                gw_mockapim_booking_cb cb, void *arg, struct gw_error *err)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM bookings WHERE (?1 IS NULL OR customer_id = ?1)"
             " AND (?2 IS NULL OR registration_number = ?2) AND (?3 IS NULL OR status = ?3)"
             " ORDER BY created_at DESC, booking_id DESC LIMIT ?4", booking_cols);
    int rc = prepare(db, sql, &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, f ? opt(f->customer_id) : NULL);
    bind_text(st, 2, f ? opt(f->registration_number) : NULL);
    bind_text(st, 3, f ? opt(f->status) : NULL);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    int s;
    struct gw_mockapim_booking b;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        booking_row(st, &b);
        if (cb(&b, arg) != 0)
            break;
    }
    rc = (s == SQLITE_ROW || s == SQLITE_DONE) ? GW_OK : db_fail(db, err, "list bookings");
    sqlite3_finalize(st);
    return rc;
}

/* ---- appointments ---- */

static void appt_row(sqlite3_stmt *st, struct gw_mockapim_appt *a)
{
    memset(a, 0, sizeof(*a));
    struct {
        char *p;
        size_t n;
    } f[] = {
        {a->appointment_no, sizeof(a->appointment_no)},
        {a->kind, sizeof(a->kind)},
        {a->reg_no, sizeof(a->reg_no)},
        {a->dealer_code, sizeof(a->dealer_code)},
        {a->loc_code, sizeof(a->loc_code)},
        {a->date, sizeof(a->date)},
        {a->slot_code, sizeof(a->slot_code)},
        {a->slot_time_code, sizeof(a->slot_time_code)},
        {a->appointment_type_code, sizeof(a->appointment_type_code)},
        {a->srv_type_code, sizeof(a->srv_type_code)},
        {a->current_sa_code, sizeof(a->current_sa_code)},
        {a->odometer, sizeof(a->odometer)},
        {a->user_id, sizeof(a->user_id)},
        {a->mobile_no, sizeof(a->mobile_no)},
        {a->psf_num, sizeof(a->psf_num)},
        {a->extra, sizeof(a->extra)},
        {a->status, sizeof(a->status)},
        {a->cancel_reason, sizeof(a->cancel_reason)},
        {a->cancelled_by, sizeof(a->cancelled_by)},
        {a->reminder_sent_at, sizeof(a->reminder_sent_at)},
        {a->created_at, sizeof(a->created_at)},
        {a->updated_at, sizeof(a->updated_at)},
    };
    for (int i = 0; i < (int)(sizeof(f) / sizeof(f[0])); i++)
        col(st, i, f[i].p, f[i].n);
}

/* Binds the 22 appointment columns, in appt_cols order, as ?1..?22. */
static void appt_bind(sqlite3_stmt *st, const struct gw_mockapim_appt *a)
{
    const char *v[22] = {a->appointment_no, a->kind, a->reg_no, a->dealer_code, a->loc_code,
                         a->date, a->slot_code, a->slot_time_code, a->appointment_type_code,
                         a->srv_type_code, a->current_sa_code, a->odometer, a->user_id,
                         a->mobile_no, a->psf_num, a->extra[0] ? a->extra : "{}", a->status,
                         a->cancel_reason, a->cancelled_by, a->reminder_sent_at, a->created_at,
                         a->updated_at};
    for (int i = 0; i < 22; i++)
        bind_text(st, i + 1, v[i]);
}

int gw_mockapim_db_appt_insert(struct gw_mockapim_db *db, const struct gw_mockapim_appt *a,
                               struct gw_error *err)
{
    char sql[768];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "INSERT INTO appointments(%s) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
             "?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)", appt_cols);
    int rc = prepare(db, sql, &st, err);
    if (rc != GW_OK)
        return rc;
    appt_bind(st, a);
    rc = sqlite3_step(st) == SQLITE_DONE ? GW_OK : db_fail(db, err, "insert appointment");
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_appt_update(struct gw_mockapim_db *db, const struct gw_mockapim_appt *a,
                               struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "UPDATE appointments SET kind=?2, reg_no=?3, dealer_code=?4,"
                         " loc_code=?5, date=?6, slot_code=?7, slot_time_code=?8,"
                         " appointment_type_code=?9, srv_type_code=?10, current_sa_code=?11,"
                         " odometer=?12, user_id=?13, mobile_no=?14, psf_num=?15, extra=?16,"
                         " status=?17, cancel_reason=?18, cancelled_by=?19,"
                         " reminder_sent_at=?20, created_at=?21, updated_at=?22"
                         " WHERE appointment_no = ?1", &st, err);
    if (rc != GW_OK)
        return rc;
    appt_bind(st, a);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, err, "update appointment");
    else
        rc = sqlite3_changes(db->h) == 1 ? GW_OK : GW_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_appt_get(struct gw_mockapim_db *db, const char *appointment_no,
                            struct gw_mockapim_appt *out, struct gw_error *err)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT %s FROM appointments WHERE appointment_no = ?1",
             appt_cols);
    int rc = prepare(db, sql, &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, appointment_no);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        appt_row(st, out);
        rc = GW_OK;
    } else {
        rc = s == SQLITE_DONE ? GW_ENOTFOUND : db_fail(db, err, "read appointment");
    }
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_appt_count(struct gw_mockapim_db *db, const char *dealer_code,
                              const char *loc_code, const char *date,
                              const char *slot_time_code, const char *exclude_no, int *out,
                              struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "SELECT count(*) FROM appointments WHERE dealer_code = ?1 AND"
                         " loc_code = ?2 AND date = ?3 AND slot_time_code = ?4 AND"
                         " status <> 'CANCELLED' AND (?5 IS NULL OR appointment_no <> ?5)",
                     &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, dealer_code);
    bind_text(st, 2, loc_code);
    bind_text(st, 3, date);
    bind_text(st, 4, slot_time_code);
    bind_text(st, 5, exclude_no);
    return count_query(db, st, out, err);
}

int gw_mockapim_db_appt_each(struct gw_mockapim_db *db, const struct gw_mockapim_appt_filter *f,
                             size_t limit, gw_mockapim_appt_cb cb, void *arg,
                             struct gw_error *err)
{
    char sql[768];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM appointments WHERE (?1 IS NULL OR reg_no = ?1)"
             " AND (?2 IS NULL OR dealer_code = ?2) AND (?3 IS NULL OR loc_code = ?3 COLLATE NOCASE)"
             " AND (?4 IS NULL OR date = ?4) AND (?5 IS NULL OR status <> ?5)"
             " ORDER BY date DESC, appointment_no DESC LIMIT ?6", appt_cols);
    int rc = prepare(db, sql, &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, f ? opt(f->reg_no) : NULL);
    bind_text(st, 2, f ? opt(f->dealer_code) : NULL);
    bind_text(st, 3, f ? opt(f->loc_code) : NULL);
    bind_text(st, 4, f ? opt(f->date) : NULL);
    bind_text(st, 5, f ? opt(f->status_not) : NULL);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)limit);
    int s;
    struct gw_mockapim_appt *a = gw_xmalloc(sizeof(*a));
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        appt_row(st, a);
        if (cb(a, arg) != 0)
            break;
    }
    gw_free(a);
    rc = (s == SQLITE_ROW || s == SQLITE_DONE) ? GW_OK : db_fail(db, err, "list appointments");
    sqlite3_finalize(st);
    return rc;
}

/* ---- tokens ---- */

int gw_mockapim_db_token_put(struct gw_mockapim_db *db, const char *token_hash,
                             const char *client_id, long long expires_at, long long now,
                             int keep_max, struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "DELETE FROM tokens WHERE expires_at <= ?1", &st, err);
    if (rc != GW_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if ((rc = prepare(db, "DELETE FROM tokens WHERE token_hash IN (SELECT token_hash FROM tokens"
                          " ORDER BY expires_at DESC LIMIT -1 OFFSET ?1)", &st, err)) != GW_OK)
        return rc;
    sqlite3_bind_int(st, 1, keep_max > 1 ? keep_max - 1 : 0);
    sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if ((rc = prepare(db, "INSERT OR REPLACE INTO tokens(token_hash, client_id, expires_at)"
                          " VALUES(?1, ?2, ?3)", &st, err)) != GW_OK)
        return rc;
    bind_text(st, 1, token_hash);
    bind_text(st, 2, client_id);
    sqlite3_bind_int64(st, 3, expires_at);
    rc = sqlite3_step(st) == SQLITE_DONE ? GW_OK : db_fail(db, err, "store token");
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_token_check(struct gw_mockapim_db *db, const char *token_hash, long long now,
                               struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "SELECT expires_at FROM tokens WHERE token_hash = ?1", &st, err);
    if (rc != GW_OK)
        return rc;
    bind_text(st, 1, token_hash);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        rc = sqlite3_column_int64(st, 0) > now ? GW_OK : GW_ETIMEOUT;
    else
        rc = s == SQLITE_DONE ? GW_ENOTFOUND : db_fail(db, err, "read token");
    sqlite3_finalize(st);
    return rc;
}

/* ---- inspection ---- */

static int rows_json(struct gw_mockapim_db *db, const char *sql, json_t *arr,
                     struct gw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, sql, &st, err);
    if (rc != GW_OK)
        return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i)));
                break;
            case SQLITE_NULL:
                json_object_set_new(o, name, json_null());
                break;
            default: {
                const char *t = (const char *)sqlite3_column_text(st, i);
                json_t *v = NULL;
                if (strcmp(name, "extra") == 0)
                    v = json_loads(t ? t : "{}", 0, NULL);
                json_object_set_new(o, name, v ? v : json_string(t ? t : ""));
            }
            }
        }
        json_array_append_new(arr, o);
    }
    rc = s == SQLITE_DONE ? GW_OK : db_fail(db, err, "dump");
    sqlite3_finalize(st);
    return rc;
}

int gw_mockapim_db_dump(struct gw_mockapim_db *db, json_t **out, struct gw_error *err)
{
    char sql[512];
    json_t *root = json_object(), *b = json_array(), *a = json_array();
    json_object_set_new(root, "bookings", b);
    json_object_set_new(root, "appointments", a);
    snprintf(sql, sizeof(sql), "SELECT %s, idempotency_key FROM bookings ORDER BY booking_id",
             booking_cols);
    int rc = rows_json(db, sql, b, err);
    if (rc == GW_OK) {
        snprintf(sql, sizeof(sql), "SELECT %s FROM appointments ORDER BY appointment_no",
                 appt_cols);
        rc = rows_json(db, sql, a, err);
    }
    if (rc != GW_OK) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return GW_OK;
}
