/*
 * tools/mock-apim/mockapim_db.h
 * Persistence of the mock: service bookings, DMS appointments, sequence counters and issued
 * OAuth tokens (hashed), in one SQLite file (WAL, synchronous=NORMAL) that survives restarts.
 *
 * Rows travel as fixed-size value structs (fields bounded by the APIs' own limits; longer
 * values are rejected by the handlers before they get here). Capacity checks are the caller's:
 * it brackets "count, decide, insert" in gw_mockapim_db_begin/commit (BEGIN IMMEDIATE, so two
 * processes sharing a file cannot both take the last place).
 * Threading: one handle per thread; the server uses it from its single event-loop thread.
 * Calls block on the local disk (milliseconds); the mock accepts that, the gateway would not.
 * Not here: business rules (mockapim_booking.c, mockapim_dms.c), demo data (mockapim_data.c).
 */
#ifndef GW_MOCKAPIM_DB_H
#define GW_MOCKAPIM_DB_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_MOCKAPIM_FIELD 65 /* a DMS string field: maxLength 64 in the swagger, + NUL */

struct gw_mockapim_db;

struct gw_mockapim_booking {
    char booking_id[24];
    char customer_id[16];
    char mobile[16];
    char registration_number[16];
    char dealer_id[24];
    char date[11]; /* YYYY-MM-DD */
    char time[6];  /* HH:MM */
    char service_type[16];
    char status[16]; /* CONFIRMED | CANCELLED */
    char notes[512];
    char cancel_reason[256];
    char created_at[32];
    char updated_at[32];
};

struct gw_mockapim_appt {
    char appointment_no[16];
    char kind[16]; /* standard | hyperlocal */
    char reg_no[GW_MOCKAPIM_FIELD];
    char dealer_code[GW_MOCKAPIM_FIELD];
    char loc_code[GW_MOCKAPIM_FIELD];
    char date[11]; /* stored ISO; the API shows DD-MON-YYYY */
    char slot_code[GW_MOCKAPIM_FIELD];
    char slot_time_code[GW_MOCKAPIM_FIELD];
    char appointment_type_code[GW_MOCKAPIM_FIELD];
    char srv_type_code[GW_MOCKAPIM_FIELD];
    char current_sa_code[GW_MOCKAPIM_FIELD];
    char odometer[GW_MOCKAPIM_FIELD];
    char user_id[GW_MOCKAPIM_FIELD];
    char mobile_no[GW_MOCKAPIM_FIELD];
    char psf_num[GW_MOCKAPIM_FIELD];
    char extra[2048]; /* JSON object text: optional pick-up/drop fields as sent */
    char status[16];  /* BOOKED | UPDATED | CANCELLED | COMPLETED */
    char cancel_reason[GW_MOCKAPIM_FIELD];
    char cancelled_by[GW_MOCKAPIM_FIELD];
    char reminder_sent_at[32];
    char created_at[32];
    char updated_at[32];
};

/* Filters for the list functions: NULL or "" fields match anything. */
struct gw_mockapim_booking_filter {
    const char *customer_id, *registration_number, *status;
};
struct gw_mockapim_appt_filter {
    const char *reg_no, *dealer_code, *loc_code, *date, *status_not;
};

typedef int (*gw_mockapim_booking_cb)(const struct gw_mockapim_booking *b, void *arg);
typedef int (*gw_mockapim_appt_cb)(const struct gw_mockapim_appt *a, void *arg);

#define GW_MOCKAPIM_DB_RESET 1u    /* wipe run-time data and reseed the demo rows */
#define GW_MOCKAPIM_DB_READONLY 2u /* inspection only (the `bookings` subcommand) */

/* Opens (creating, with parent folders, unless READONLY) the database at `path`, applies the
 * schema and seeds the demo rows on first use or when RESET is given. GW_OK with *out (free
 * with gw_mockapim_db_close), GW_EIO with err naming the path. Blocks on disk. */
int gw_mockapim_db_open(const char *path, unsigned flags, struct gw_mockapim_db **out,
                        struct gw_error *err);
/* Closes the handle (checkpointing the WAL). Accepts NULL. */
void gw_mockapim_db_close(struct gw_mockapim_db *db);
/* Runs a trivial read; GW_OK when the database answers (for /health). */
int gw_mockapim_db_ping(struct gw_mockapim_db *db, struct gw_error *err);
/* Deletes bookings, appointments and tokens, resets the counters and reseeds. */
int gw_mockapim_db_reset(struct gw_mockapim_db *db, struct gw_error *err);

/* Write transaction bracket: begin is BEGIN IMMEDIATE; rollback never fails. */
int gw_mockapim_db_begin(struct gw_mockapim_db *db, struct gw_error *err);
int gw_mockapim_db_commit(struct gw_mockapim_db *db, struct gw_error *err);
void gw_mockapim_db_rollback(struct gw_mockapim_db *db);

/* Increments counter `name` ("booking", "appointment") and returns the new value. */
int gw_mockapim_db_next_seq(struct gw_mockapim_db *db, const char *name, long long *out,
                            struct gw_error *err);

/* Bookings. insert stores `b` (idem_key/req_hash may be NULL); get/by_idem return GW_OK or
 * GW_ENOTFOUND; set_status updates status, cancel reason and updated_at. */
int gw_mockapim_db_booking_insert(struct gw_mockapim_db *db, const struct gw_mockapim_booking *b,
                                  const char *idem_key, const char *req_hash,
                                  struct gw_error *err);
int gw_mockapim_db_booking_get(struct gw_mockapim_db *db, const char *booking_id,
                               struct gw_mockapim_booking *out, struct gw_error *err);
int gw_mockapim_db_booking_by_idem(struct gw_mockapim_db *db, const char *idem_key,
                                   struct gw_mockapim_booking *out, char *out_hash,
                                   size_t hash_cap, struct gw_error *err);
int gw_mockapim_db_booking_set_status(struct gw_mockapim_db *db, const char *booking_id,
                                      const char *status, const char *reason,
                                      const char *updated_at, struct gw_error *err);
/* Number of CONFIRMED bookings in one slot. */
int gw_mockapim_db_booking_count(struct gw_mockapim_db *db, const char *dealer_id,
                                 const char *date, const char *time, int *out,
                                 struct gw_error *err);
/* Calls cb for up to `limit` matching bookings, newest first; a non-zero cb return stops. */
int gw_mockapim_db_booking_each(struct gw_mockapim_db *db,
                                const struct gw_mockapim_booking_filter *f, size_t limit,
                                gw_mockapim_booking_cb cb, void *arg, struct gw_error *err);

/* DMS appointments: insert, get (GW_ENOTFOUND), update (whole row by appointment_no). */
int gw_mockapim_db_appt_insert(struct gw_mockapim_db *db, const struct gw_mockapim_appt *a,
                               struct gw_error *err);
int gw_mockapim_db_appt_get(struct gw_mockapim_db *db, const char *appointment_no,
                            struct gw_mockapim_appt *out, struct gw_error *err);
int gw_mockapim_db_appt_update(struct gw_mockapim_db *db, const struct gw_mockapim_appt *a,
                               struct gw_error *err);
/* Active (not CANCELLED) appointments in one DMS slot time, not counting `exclude_no`. */
int gw_mockapim_db_appt_count(struct gw_mockapim_db *db, const char *dealer_code,
                              const char *loc_code, const char *date,
                              const char *slot_time_code, const char *exclude_no, int *out,
                              struct gw_error *err);
int gw_mockapim_db_appt_each(struct gw_mockapim_db *db, const struct gw_mockapim_appt_filter *f,
                             size_t limit, gw_mockapim_appt_cb cb, void *arg,
                             struct gw_error *err);

/* OAuth tokens, stored as SHA-256 hex of the token (never the token). put also deletes expired
 * tokens and keeps at most `keep_max` live ones (oldest dropped). check: GW_OK when live,
 * GW_ETIMEOUT when expired, GW_ENOTFOUND when unknown. */
int gw_mockapim_db_token_put(struct gw_mockapim_db *db, const char *token_hash,
                             const char *client_id, long long expires_at, long long now,
                             int keep_max, struct gw_error *err);
int gw_mockapim_db_token_check(struct gw_mockapim_db *db, const char *token_hash, long long now,
                               struct gw_error *err);

/* Every booking and appointment as {"bookings":[...],"appointments":[...]} (one object per
 * row, column names as keys). New reference in *out. */
int gw_mockapim_db_dump(struct gw_mockapim_db *db, json_t **out, struct gw_error *err);

#endif
