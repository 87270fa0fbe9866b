/*
 * tools/mock-apim/mockapim_dms.c
 * Handlers of the DMS appointment API (routes and failure model in mockapim_dms.h).
 *
 * Field rules taken from the swagger: every appointmentbook/HyperLocal property is a string of
 * at most 64 characters; UpdateBook's dealerCode and odoMeter are int32 (a digit string is
 * accepted too). The swagger's pattern ^[A-Za-z0-9]+$ contradicts its own examples
 * ("25-JUL-2022", "1230-1245", "vinod.okf"), so it is not enforced: control characters are.
 * Slot grid: 4 slot codes x 3 slot time codes (data module), GW_MOCKAPIM_DMS_SLOT_CAPACITY
 * places each, less a deterministic seeded occupancy, less active appointments in the DB.
 */
#include "mockapim_dms.h"

#include "core/alloc.h"
#include "core/log.h"
#include "mockapim_data.h"
#include "mockapim_date.h"
#include "mockapim_db.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DMS_HORIZON_DAYS 90
#define LIST_LIMIT 100

/* Logs the database failure and answers the Error envelope with HTTP 500. */
static int db_error(struct gw_mockapim_resp *resp, const struct gw_error *err)
{
    GW_LOG(GW_LOG_ERROR, "mock-apim", "database failure: %s", err->msg);
    gw_mockapim_resp_dms_fail(resp, 500, "INTERNAL_ERROR", "internal error");
    return GW_OK;
}

/* Business failure: HTTP 200 with error:true (see mockapim_dms.h). */
#define BIZ_FAIL(resp, code, ...) gw_mockapim_resp_dms_fail((resp), 200, (code), __VA_ARGS__)

/* Every name in `names` must be a non-empty query parameter; else 400 and false. */
static bool require_query(const struct gw_mockapim_req *req, const char *const *names,
                          struct gw_mockapim_resp *resp)
{
    for (; *names; names++) {
        const char *v = gw_mockapim_req_query(req, *names);
        if (!v || !*v) {
            gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                      "query parameter '%s' is required", *names);
            return false;
        }
        if (strlen(v) > 64) {
            gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                      "query parameter '%s' is longer than 64 characters", *names);
            return false;
        }
    }
    return true;
}

/* Checks one body property: absent is fine unless required; strings <= 64 characters, no
 * control characters; ints allowed where `int_ok`. Copies the text form into out. */
static bool body_field(const struct gw_mockapim_req *req, const char *name, bool required,
                       bool int_ok, char *out, size_t cap, struct gw_mockapim_resp *resp)
{
    json_t *v = json_object_get(req->json, name);
    out[0] = '\0';
    if (!v || json_is_null(v)) {
        if (required)
            gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR", "'%s' is required", name);
        return !required;
    }
    if (int_ok && json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || i > 2147483647) {
            gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                      "'%s' must be a non-negative int32", name);
            return false;
        }
        snprintf(out, cap, "%lld", (long long)i);
        return true;
    }
    if (!json_is_string(v)) {
        gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR", "'%s' must be a %s", name,
                                  int_ok ? "integer" : "string");
        return false;
    }
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n > 64) {
        gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                  "'%s' is longer than 64 characters", name);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (int_ok && !isdigit((unsigned char)s[i]))) {
            gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR", "'%s' has invalid characters",
                                      name);
            return false;
        }
    }
    if (required && n == 0) {
        gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR", "'%s' must not be empty", name);
        return false;
    }
    snprintf(out, cap, "%s", s);
    return true;
}

/* Optional properties kept verbatim in the appointment's `extra` JSON. */
static const char *const extra_fields[] = {
    "pickUpType", "pickUpLoc", "pickUpAddress", "pickUpTime", "pickUpRemarks", "driver",
    "vehicleNo", "dropLoc",    "dropAddress",   "dropTime",   "dropDriver",    "demandJobs",
    "remarkNonPrevSa", "prePhoneType", "prePhoneDate", NULL};

/* Validates the optional properties and merges the present ones into a->extra. */
static bool collect_extra(const struct gw_mockapim_req *req, struct gw_mockapim_appt *a,
                          bool update_only_fields, struct gw_mockapim_resp *resp)
{
    json_t *extra = json_loads(a->extra[0] ? a->extra : "{}", 0, NULL);
    char v[GW_MOCKAPIM_FIELD];
    bool ok = true;
    if (!extra)
        extra = json_object();
    for (const char *const *f = extra_fields; *f && ok; f++) {
        bool pre = strncmp(*f, "prePhone", 8) == 0;
        if (pre && !update_only_fields)
            continue;
        if (!json_object_get(req->json, *f))
            continue;
        if ((ok = body_field(req, *f, false, false, v, sizeof(v), resp)))
            json_object_set_new(extra, *f, json_string(v));
    }
    if (ok) {
        char *s = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s || strlen(s) >= sizeof(a->extra)) {
            gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR", "optional fields too long");
            ok = false;
        } else {
            snprintf(a->extra, sizeof(a->extra), "%s", s);
        }
        json_free_t freefn;
        json_get_alloc_funcs(NULL, &freefn);
        if (s)
            freefn(s);
    }
    json_decref(extra);
    return ok;
}

/* Name of a service advisor code ("" when unknown: the code is stored as sent). */
static const char *advisor_name(const char *sa_code)
{
    for (size_t i = 0; i < gw_mockapim_advisor_count(); i++)
        if (strcmp(gw_mockapim_advisor_at(i)->sa_code, sa_code) == 0)
            return gw_mockapim_advisor_at(i)->name;
    return "";
}

/* An appointment as the API shows it: camelCase names as in the swagger's bodies, the date
 * as DD-MON-YYYY, names joined from the demo data, and the optional fields that were sent. */
static json_t *appt_json(const struct gw_mockapim_appt *a)
{
    long days = 0;
    char dms[16] = "";
    if (gw_mockapim_date_parse_iso(a->date, &days) == GW_OK)
        gw_mockapim_date_dms(days, dms, sizeof(dms));
    const struct gw_mockapim_dealer *d = gw_mockapim_dealer_by_dms(a->dealer_code, a->loc_code);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s}",
        "appointmentNo", a->appointment_no, "regNo", a->reg_no, "dealerCode", a->dealer_code,
        "locCode", a->loc_code, "dealerName", d ? d->name : "", "appointmentDate", dms,
        "slotCode", a->slot_code, "slotTimeCode", a->slot_time_code, "appointmentTypeCode",
        a->appointment_type_code, "srvTypeCode", a->srv_type_code, "currentSaCode",
        a->current_sa_code, "saName", advisor_name(a->current_sa_code), "odoMeter", a->odometer,
        "userId", a->user_id, "mobileNo", a->mobile_no, "status", a->status, "createdAt",
        a->created_at, "updatedAt", a->updated_at);
    if (!o)
        return json_object();
    if (strcmp(a->kind, "hyperlocal") == 0)
        json_object_set_new(o, "psfNum", json_string(a->psf_num));
    if (a->cancel_reason[0]) {
        json_object_set_new(o, "cancelReason", json_string(a->cancel_reason));
        json_object_set_new(o, "cancelledBy", json_string(a->cancelled_by));
    }
    json_t *extra = json_loads(a->extra, 0, NULL);
    if (json_is_object(extra))
        json_object_update_missing(o, extra);
    json_decref(extra);
    return o;
}

/* Date rules shared by book and calendar: GW_OK, or a business failure already written. */
static int check_dms_date(const struct gw_mockapim_env *env, long days,
                          struct gw_mockapim_resp *resp)
{
    char buf[16];
    if (days < env->today) {
        BIZ_FAIL(resp, "INVALID_DATE", "appointment date %s is in the past",
                 gw_mockapim_date_dms(days, buf, sizeof(buf)));
        return GW_EINVAL;
    }
    if (days > env->today + DMS_HORIZON_DAYS) {
        BIZ_FAIL(resp, "INVALID_DATE", "appointments open at most %d days ahead",
                 DMS_HORIZON_DAYS);
        return GW_EINVAL;
    }
    return GW_OK;
}

/* Free places of one slot time: capacity - seeded - active appointments (excluding one). */
static int slot_free(const struct gw_mockapim_env *env, const char *dealer, const char *loc,
                     const char *date, const char *stc, const char *exclude, int *out_booked,
                     struct gw_error *err)
{
    char key[160];
    int n = 0;
    snprintf(key, sizeof(key), "%s/%s", dealer, loc);
    int rc = gw_mockapim_db_appt_count(env->db, dealer, loc, date, stc, exclude, &n, err);
    if (rc == GW_OK)
        *out_booked = n + gw_mockapim_slot_seeded(key, date, stc, GW_MOCKAPIM_DMS_SLOT_CAPACITY);
    return rc;
}

/* Shared by appointment-booking and -hyperlocal (which also requires regNo and psfNum).
 * Order: fields (400) -> date syntax (400) -> dealer, slot, date rules (200 error) ->
 * capacity in one IMMEDIATE transaction (200 SLOT_NOT_AVAILABLE) -> insert. */
static int book(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                struct gw_mockapim_resp *resp, bool hyperlocal)
{
    struct gw_error err = {0};
    struct gw_mockapim_appt *a = gw_xcalloc(1, sizeof(*a));
    char date_s[GW_MOCKAPIM_FIELD];
    long days = 0;
    struct {
        const char *name;
        char *dst;
        bool required;
    } f[] = {
        {"regNo", a->reg_no, hyperlocal},
        {"dealerCode", a->dealer_code, true},
        {"locCode", a->loc_code, true},
        {"appointmentDate", date_s, true},
        {"slotCode", a->slot_code, true},
        {"slotTimeCode", a->slot_time_code, true},
        {"appointmentTypeCode", a->appointment_type_code, true},
        {"srvTypeCode", a->srv_type_code, true},
        {"currentSaCode", a->current_sa_code, true},
        {"odoMeter", a->odometer, true},
        {"userId", a->user_id, true},
        {"mobileNo", a->mobile_no, false},
        {"psfNum", a->psf_num, hyperlocal},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (!hyperlocal && strcmp(f[i].name, "psfNum") == 0)
            continue;
        if (!body_field(req, f[i].name, f[i].required, false, f[i].dst, GW_MOCKAPIM_FIELD, resp))
            goto out;
    }
    if (!collect_extra(req, a, false, resp))
        goto out;
    if (gw_mockapim_date_parse_any(date_s, &days) != GW_OK) {
        gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                  "appointmentDate '%s' must be DD-MMM-YYYY, e.g. 25-JUL-2022",
                                  date_s);
        goto out;
    }
    for (char *p = a->reg_no; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const struct gw_mockapim_dealer *d = gw_mockapim_dealer_by_dms(a->dealer_code, a->loc_code);
    if (!d) {
        BIZ_FAIL(resp, "DEALER_NOT_FOUND", "no dealer %s at location %s", a->dealer_code,
                 a->loc_code);
        goto out;
    }
    snprintf(a->loc_code, sizeof(a->loc_code), "%s", d->dms_loc_code);
    if (gw_mockapim_dms_slot_index(a->slot_code, a->slot_time_code) < 0) {
        BIZ_FAIL(resp, "INVALID_SLOT", "slot %s / %s does not exist; see service-booking-calendar",
                 a->slot_code, a->slot_time_code);
        goto out;
    }
    if (check_dms_date(env, days, resp) != GW_OK)
        goto out;
    if (gw_mockapim_date_weekday(days) == 0) {
        BIZ_FAIL(resp, "NON_WORKING_DAY", "the workshop is closed on Sundays");
        goto out;
    }
    gw_mockapim_date_iso(days, a->date, sizeof(a->date));
    if (gw_mockapim_db_begin(env->db, &err) != GW_OK) {
        db_error(resp, &err);
        goto out;
    }
    int booked = 0;
    long long seq = 0;
    if (slot_free(env, a->dealer_code, a->loc_code, a->date, a->slot_time_code, NULL, &booked,
                  &err) != GW_OK)
        goto dbfail;
    if (booked >= GW_MOCKAPIM_DMS_SLOT_CAPACITY) {
        gw_mockapim_db_rollback(env->db);
        BIZ_FAIL(resp, "SLOT_NOT_AVAILABLE", "slot %s on %s is fully booked", a->slot_time_code,
                 date_s);
        goto out;
    }
    if (gw_mockapim_db_next_seq(env->db, "appointment", &seq, &err) != GW_OK)
        goto dbfail;
    snprintf(a->appointment_no, sizeof(a->appointment_no), "SB%lld", seq);
    snprintf(a->kind, sizeof(a->kind), "%s", hyperlocal ? "hyperlocal" : "standard");
    snprintf(a->status, sizeof(a->status), "BOOKED");
    gw_mockapim_date_timestamp(env->now, a->created_at, sizeof(a->created_at));
    memcpy(a->updated_at, a->created_at, sizeof(a->updated_at));
    if (gw_mockapim_db_appt_insert(env->db, a, &err) != GW_OK ||
        gw_mockapim_db_commit(env->db, &err) != GW_OK)
        goto dbfail;
    gw_mockapim_resp_dms_ok(resp, appt_json(a));
    goto out;
dbfail:
    gw_mockapim_db_rollback(env->db);
    db_error(resp, &err);
out:
    gw_free(a);
    return GW_OK;
}

int gw_mockapim_dms_book(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                         struct gw_mockapim_resp *resp)
{
    return book(env, req, resp, false);
}

int gw_mockapim_dms_book_hyperlocal(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp)
{
    return book(env, req, resp, true);
}

/* Loads an appointment that may still change; writes the business failure otherwise. */
static bool load_modifiable(const struct gw_mockapim_env *env, const char *no,
                            const char *dealer, const char *loc, struct gw_mockapim_appt *a,
                            struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    int rc = gw_mockapim_db_appt_get(env->db, no, a, &err);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        db_error(resp, &err);
        return false;
    }
    if (rc == GW_ENOTFOUND || (dealer && *dealer && strcmp(dealer, a->dealer_code) != 0) ||
        (loc && *loc && strcasecmp(loc, a->loc_code) != 0)) {
        BIZ_FAIL(resp, "APPOINTMENT_NOT_FOUND", "no appointment %s%s%s", no,
                 dealer && *dealer ? " at dealer " : "", dealer && *dealer ? dealer : "");
        return false;
    }
    if (strcmp(a->status, "CANCELLED") == 0) {
        BIZ_FAIL(resp, "APPOINTMENT_ALREADY_CANCELLED", "appointment %s is already cancelled",
                 no);
        return false;
    }
    if (strcmp(a->status, "COMPLETED") == 0) {
        BIZ_FAIL(resp, "APPOINTMENT_NOT_MODIFIABLE", "appointment %s is already completed", no);
        return false;
    }
    return true;
}

int gw_mockapim_dms_update(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    struct gw_mockapim_appt *a = gw_xcalloc(1, sizeof(*a));
    char no[GW_MOCKAPIM_FIELD], dealer[GW_MOCKAPIM_FIELD], loc[GW_MOCKAPIM_FIELD];
    char slot[GW_MOCKAPIM_FIELD], stc[GW_MOCKAPIM_FIELD], odo[GW_MOCKAPIM_FIELD];
    char atc[GW_MOCKAPIM_FIELD], srv[GW_MOCKAPIM_FIELD], sa[GW_MOCKAPIM_FIELD];
    char user[GW_MOCKAPIM_FIELD];
    if (!body_field(req, "appointmentNo", true, false, no, sizeof(no), resp) ||
        !body_field(req, "dealerCode", false, true, dealer, sizeof(dealer), resp) ||
        !body_field(req, "locCode", false, false, loc, sizeof(loc), resp) ||
        !body_field(req, "slotCode", false, false, slot, sizeof(slot), resp) ||
        !body_field(req, "slotTimeCode", false, false, stc, sizeof(stc), resp) ||
        !body_field(req, "odoMeter", false, true, odo, sizeof(odo), resp) ||
        !body_field(req, "appointmentTypeCode", false, false, atc, sizeof(atc), resp) ||
        !body_field(req, "srvTypeCode", false, false, srv, sizeof(srv), resp) ||
        !body_field(req, "currentSaCode", false, false, sa, sizeof(sa), resp) ||
        !body_field(req, "userId", false, false, user, sizeof(user), resp))
        goto out;
    if (!load_modifiable(env, no, dealer, loc, a, resp))
        goto out;
    if (!collect_extra(req, a, true, resp))
        goto out;
    if ((*slot || *stc) && gw_mockapim_dms_slot_index(*slot ? slot : a->slot_code,
                                                      *stc ? stc : a->slot_time_code) < 0) {
        BIZ_FAIL(resp, "INVALID_SLOT", "slot %s / %s does not exist", *slot ? slot : a->slot_code,
                 *stc ? stc : a->slot_time_code);
        goto out;
    }
    if (gw_mockapim_db_begin(env->db, &err) != GW_OK) {
        db_error(resp, &err);
        goto out;
    }
    if (*stc && strcmp(stc, a->slot_time_code) != 0) {
        int booked = 0;
        if (slot_free(env, a->dealer_code, a->loc_code, a->date, stc, a->appointment_no,
                      &booked, &err) != GW_OK)
            goto dbfail;
        if (booked >= GW_MOCKAPIM_DMS_SLOT_CAPACITY) {
            gw_mockapim_db_rollback(env->db);
            BIZ_FAIL(resp, "SLOT_NOT_AVAILABLE", "slot %s is fully booked", stc);
            goto out;
        }
    }
    if (*slot)
        snprintf(a->slot_code, sizeof(a->slot_code), "%s", slot);
    if (*stc)
        snprintf(a->slot_time_code, sizeof(a->slot_time_code), "%s", stc);
    if (*odo)
        snprintf(a->odometer, sizeof(a->odometer), "%s", odo);
    if (*atc)
        snprintf(a->appointment_type_code, sizeof(a->appointment_type_code), "%s", atc);
    if (*srv)
        snprintf(a->srv_type_code, sizeof(a->srv_type_code), "%s", srv);
    if (*sa)
        snprintf(a->current_sa_code, sizeof(a->current_sa_code), "%s", sa);
    if (*user)
        snprintf(a->user_id, sizeof(a->user_id), "%s", user);
    snprintf(a->status, sizeof(a->status), "UPDATED");
    gw_mockapim_date_timestamp(env->now, a->updated_at, sizeof(a->updated_at));
    if (gw_mockapim_db_appt_update(env->db, a, &err) != GW_OK ||
        gw_mockapim_db_commit(env->db, &err) != GW_OK)
        goto dbfail;
    gw_mockapim_resp_dms_ok(resp, appt_json(a));
    goto out;
dbfail:
    gw_mockapim_db_rollback(env->db);
    db_error(resp, &err);
out:
    gw_free(a);
    return GW_OK;
}

int gw_mockapim_dms_cancel(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"appointmentNo", "dealerCode", "locCd", "userId",
                                       "cancelReason", NULL};
    struct gw_error err = {0};
    struct gw_mockapim_appt *a = gw_xcalloc(1, sizeof(*a));
    if (!require_query(req, need, resp))
        goto out;
    const char *no = gw_mockapim_req_query(req, "appointmentNo");
    if (!load_modifiable(env, no, gw_mockapim_req_query(req, "dealerCode"),
                         gw_mockapim_req_query(req, "locCd"), a, resp))
        goto out;
    snprintf(a->status, sizeof(a->status), "CANCELLED");
    snprintf(a->cancel_reason, sizeof(a->cancel_reason), "%s",
             gw_mockapim_req_query(req, "cancelReason"));
    snprintf(a->cancelled_by, sizeof(a->cancelled_by), "%s",
             gw_mockapim_req_query(req, "userId"));
    gw_mockapim_date_timestamp(env->now, a->updated_at, sizeof(a->updated_at));
    if (gw_mockapim_db_appt_update(env->db, a, &err) != GW_OK) {
        db_error(resp, &err);
        goto out;
    }
    gw_mockapim_resp_dms_ok(resp, json_pack("{s:s, s:s, s:s, s:s, s:s}", "appointmentNo",
                                            a->appointment_no, "status", a->status,
                                            "cancelReason", a->cancel_reason, "cancelledBy",
                                            a->cancelled_by, "message",
                                            "Appointment cancelled successfully"));
out:
    gw_free(a);
    return GW_OK;
}

int gw_mockapim_dms_cancel_reasons(const struct gw_mockapim_env *env,
                                   const struct gw_mockapim_req *req,
                                   struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"pmc", "reasonType", NULL};
    (void)env;
    if (!require_query(req, need, resp))
        return GW_OK;
    json_t *list = json_array();
    /* Reason type B (booking cancellation) is the only list the mock knows. */
    if (strcasecmp(gw_mockapim_req_query(req, "reasonType"), "B") == 0)
        for (size_t i = 0; i < gw_mockapim_cancel_reason_count(); i++) {
            const struct gw_mockapim_cancel_reason *r = gw_mockapim_cancel_reason_at(i);
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "code", r->code, "reason",
                                                  r->reason, "description", r->description));
        }
    gw_mockapim_resp_dms_ok(resp, list);
    return GW_OK;
}

/* State of one reminder run: the appointments picked so far. */
struct reminder_ctx {
    const struct gw_mockapim_env *env;
    json_t *sent;
    struct gw_error err;
    int rc;
};

/* appt_each callback: picks live appointments not reminded yet. */
static int remind_one(const struct gw_mockapim_appt *a, void *arg)
{
    struct reminder_ctx *c = arg;
    if (strcmp(a->status, "BOOKED") != 0 && strcmp(a->status, "UPDATED") != 0)
        return 0;
    if (a->reminder_sent_at[0])
        return 0;
    json_array_append_new(c->sent, json_pack("{s:s, s:s, s:s}", "appointmentNo",
                                             a->appointment_no, "regNo", a->reg_no, "mobileNo",
                                             a->mobile_no));
    return 0;
}

int gw_mockapim_dms_reminder(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"source", NULL};
    struct reminder_ctx c = {.env = env, .sent = json_array()};
    struct gw_mockapim_appt_filter f = {0};
    char date[16], dms[16];
    if (!require_query(req, need, resp)) {
        json_decref(c.sent);
        return GW_OK;
    }
    /* Reminders go out the day before the appointment. */
    f.date = gw_mockapim_date_iso(env->today + 1, date, sizeof(date));
    if (gw_mockapim_db_appt_each(env->db, &f, LIST_LIMIT, remind_one, &c, &c.err) != GW_OK) {
        json_decref(c.sent);
        return db_error(resp, &c.err);
    }
    /* Mark them, so a second run does not remind twice. */
    size_t i;
    json_t *v;
    char now[32];
    gw_mockapim_date_timestamp(env->now, now, sizeof(now));
    json_array_foreach(c.sent, i, v)
    {
        struct gw_mockapim_appt *a = gw_xcalloc(1, sizeof(*a));
        const char *no = json_string_value(json_object_get(v, "appointmentNo"));
        if (gw_mockapim_db_appt_get(env->db, no, a, &c.err) == GW_OK) {
            snprintf(a->reminder_sent_at, sizeof(a->reminder_sent_at), "%s", now);
            gw_mockapim_db_appt_update(env->db, a, &c.err);
        }
        gw_free(a);
    }
    gw_mockapim_resp_dms_ok(resp, json_pack("{s:s, s:s, s:I, s:o}", "source",
                                            gw_mockapim_req_query(req, "source"),
                                            "appointmentDate",
                                            gw_mockapim_date_dms(env->today + 1, dms, sizeof(dms)),
                                            "remindersSent", (json_int_t)json_array_size(c.sent),
                                            "reminders", c.sent));
    return GW_OK;
}

/* appt_each callback: appends the appointment to the JSON array `arg`. */
static int add_appt(const struct gw_mockapim_appt *a, void *arg)
{
    json_array_append_new(arg, appt_json(a));
    return 0;
}

int gw_mockapim_dms_list(const struct gw_mockapim_env *env, const struct gw_mockapim_req *req,
                         struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"regNo", NULL};
    struct gw_error err = {0};
    struct gw_mockapim_appt_filter f = {0};
    char reg[GW_MOCKAPIM_FIELD];
    size_t n = 0;
    if (!require_query(req, need, resp))
        return GW_OK;
    for (const char *p = gw_mockapim_req_query(req, "regNo"); *p && n + 1 < sizeof(reg); p++)
        if (*p != ' ' && *p != '-')
            reg[n++] = (char)toupper((unsigned char)*p);
    reg[n] = '\0';
    f.reg_no = reg;
    f.dealer_code = gw_mockapim_req_query(req, "dealerMapCd");
    f.loc_code = gw_mockapim_req_query(req, "locCd");
    json_t *list = json_array();
    if (gw_mockapim_db_appt_each(env->db, &f, LIST_LIMIT, add_appt, list, &err) != GW_OK) {
        json_decref(list);
        return db_error(resp, &err);
    }
    gw_mockapim_resp_dms_ok(resp, list);
    return GW_OK;
}

/* "1230-1245" -> "12:30" / "12:45". */
static void split_time_code(const char *stc, char *start, char *end, size_t cap)
{
    snprintf(start, cap, "%.2s:%.2s", stc, stc + 2);
    snprintf(end, cap, "%.2s:%.2s", stc + 5, stc + 7);
}

int gw_mockapim_dms_calendar(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"parentGroup", "date", "dealerMapCd", "locCd", NULL};
    struct gw_error err = {0};
    long days = 0;
    char iso[16], dms[16];
    if (!require_query(req, need, resp))
        return GW_OK;
    const char *date = gw_mockapim_req_query(req, "date");
    const char *slot_filter = gw_mockapim_req_query(req, "slotCd");
    if (gw_mockapim_date_parse_any(date, &days) != GW_OK) {
        gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                  "date '%s' must be YYYY-MM-DD, e.g. 2022-05-23", date);
        return GW_OK;
    }
    const struct gw_mockapim_dealer *d = gw_mockapim_dealer_by_dms(
        gw_mockapim_req_query(req, "dealerMapCd"), gw_mockapim_req_query(req, "locCd"));
    if (!d) {
        BIZ_FAIL(resp, "DEALER_NOT_FOUND", "no dealer %s at location %s",
                 gw_mockapim_req_query(req, "dealerMapCd"), gw_mockapim_req_query(req, "locCd"));
        return GW_OK;
    }
    if (check_dms_date(env, days, resp) != GW_OK)
        return GW_OK;
    gw_mockapim_date_iso(days, iso, sizeof(iso));
    bool working = gw_mockapim_date_weekday(days) != 0;
    json_t *slots = json_array();
    for (size_t i = 0; working && i < gw_mockapim_dms_slot_count(); i++) {
        const struct gw_mockapim_dms_slot *s = gw_mockapim_dms_slot_at(i);
        if (slot_filter && *slot_filter && strcmp(slot_filter, s->slot_code) != 0 &&
            strcmp(slot_filter, s->slot_time_code) != 0)
            continue;
        int booked = 0;
        if (slot_free(env, d->dms_dealer_code, d->dms_loc_code, iso, s->slot_time_code, NULL,
                      &booked, &err) != GW_OK) {
            json_decref(slots);
            return db_error(resp, &err);
        }
        char start[8], end[8];
        split_time_code(s->slot_time_code, start, end, sizeof(start));
        int left = GW_MOCKAPIM_DMS_SLOT_CAPACITY - booked;
        if (left < 0)
            left = 0;
        json_array_append_new(slots, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:b}",
                                               "slotCode", s->slot_code, "slotTimeCode",
                                               s->slot_time_code, "startTime", start, "endTime",
                                               end, "capacity", GW_MOCKAPIM_DMS_SLOT_CAPACITY,
                                               "booked", booked, "availableCapacity", left,
                                               "available", left > 0));
    }
    gw_mockapim_resp_dms_ok(
        resp, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "dealerMapCd",
                        d->dms_dealer_code, "locCd", d->dms_loc_code, "dealerName", d->name,
                        "parentGroup", gw_mockapim_req_query(req, "parentGroup"), "date", iso,
                        "appointmentDate", gw_mockapim_date_dms(days, dms, sizeof(dms)),
                        "dayOfWeek", gw_mockapim_date_dayname(days), "isWorkingDay", working,
                        "slots", slots));
    return GW_OK;
}

/* Service types of service-details with their base labour and parts prices (INR). */
struct service_kind {
    const char *code, *name, *duration;
    int labour, parts;
};

static const struct service_kind service_kinds[] = {
    {"PMS", "Periodic Maintenance Service", "3-4 hours", 1200, 1800},
    {"RR", "Running Repair", "2-3 hours", 900, 600},
    {"BR", "Body Repair", "2-3 days", 3500, 4200},
    {"ES", "Express Service", "60-90 minutes", 600, 900},
};

int gw_mockapim_dms_service_details(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"fuelType", "model",       "variantCd",      "city",
                                       "channel",  "serviceType", "subServiceType", NULL};
    (void)env;
    if (!require_query(req, need, resp))
        return GW_OK;
    const char *type = gw_mockapim_req_query(req, "serviceType");
    const char *sub = gw_mockapim_req_query(req, "subServiceType");
    const char *model = gw_mockapim_req_query(req, "model");
    const char *fuel = gw_mockapim_req_query(req, "fuelType");
    const char *sez = gw_mockapim_req_query(req, "sez");
    const struct service_kind *k = NULL;
    for (size_t i = 0; i < sizeof(service_kinds) / sizeof(service_kinds[0]); i++)
        if (strcasecmp(service_kinds[i].code, type) == 0)
            k = &service_kinds[i];
    if (!k) {
        BIZ_FAIL(resp, "INVALID_SERVICE_TYPE", "service type '%s' is not one of PMS, RR, BR, ES",
                 type);
        return GW_OK;
    }
    /* PMS<n> is the n-th service (1..20); later services replace more parts. */
    int nth = 0;
    size_t cl = strlen(k->code);
    if (strncasecmp(sub, k->code, cl) == 0)
        for (const char *p = sub + cl; isdigit((unsigned char)*p) && nth < 100; p++)
            nth = nth * 10 + (*p - '0');
    if (nth < 1 || nth > 20)
        nth = 1;
    /* A per-model price factor, 1.00..1.25, stable for a model code. */
    char mu[GW_MOCKAPIM_FIELD];
    size_t mn = 0;
    for (const char *p = model; *p && mn + 1 < sizeof(mu); p++)
        mu[mn++] = (char)toupper((unsigned char)*p);
    mu[mn] = '\0';
    double factor = 1.0 + 0.05 * (double)(gw_mockapim_fnv1a(mu) % 6);
    if (strcasecmp(fuel, "CNG") == 0)
        factor *= 1.08;
    double labour = round(k->labour * factor);
    double parts = round((k->parts + 250.0 * (nth - 1)) * factor);
    double consumables = round(350.0 * factor);
    double tax = (sez && (*sez == 'Y' || *sez == 'y')) ? 0.0
                                                       : round((labour + parts + consumables) * 0.18);
    gw_mockapim_resp_dms_ok(
        resp, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f,"
                        " s:s}",
                        "model", model, "variantCd", gw_mockapim_req_query(req, "variantCd"),
                        "fuelType", fuel, "city", gw_mockapim_req_query(req, "city"), "channel",
                        gw_mockapim_req_query(req, "channel"), "serviceType", k->code,
                        "subServiceType", sub, "serviceName", k->name, "estimatedDuration",
                        k->duration, "labourAmount", labour, "partsAmount", parts,
                        "consumablesAmount", consumables, "taxAmount", tax, "totalAmount",
                        labour + parts + consumables + tax, "currency", "INR"));
    return GW_OK;
}

int gw_mockapim_dms_nearest_dealers(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp)
{
    static const char *const need[] = {"latitude", "longitude", "distance", NULL};
    (void)env;
    if (!require_query(req, need, resp))
        return GW_OK;
    char *e1 = NULL, *e2 = NULL, *e3 = NULL;
    double lat = strtod(gw_mockapim_req_query(req, "latitude"), &e1);
    double lon = strtod(gw_mockapim_req_query(req, "longitude"), &e2);
    double dist_m = strtod(gw_mockapim_req_query(req, "distance"), &e3);
    if (*e1 || *e2 || *e3 || !isfinite(lat) || !isfinite(lon) || !isfinite(dist_m) ||
        fabs(lat) > 90 || fabs(lon) > 180 || dist_m < 0) {
        gw_mockapim_resp_dms_fail(resp, 400, "VALIDATION_ERROR",
                                  "latitude, longitude and distance (metres) must be numbers");
        return GW_OK;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < gw_mockapim_dealer_count(); i++) {
        const struct gw_mockapim_dealer *d = gw_mockapim_dealer_at(i);
        double km = gw_mockapim_distance_km(lat, lon, d->latitude, d->longitude);
        if (km * 1000.0 > dist_m)
            continue;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s}",
                                              "dealerMapCd", d->dms_dealer_code, "locCd",
                                              d->dms_loc_code, "dealerName", d->name, "address",
                                              d->address, "city", d->city, "pinCode", d->pin_code,
                                              "latitude", d->latitude, "longitude", d->longitude,
                                              "distanceKm", round(km * 10.0) / 10.0, "phone",
                                              d->phone));
    }
    gw_mockapim_resp_dms_ok(resp, list);
    return GW_OK;
}

int gw_mockapim_dms_advisors(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    (void)env;
    const char *dealer = gw_mockapim_req_query(req, "dealerMapCd");
    const char *loc = gw_mockapim_req_query(req, "locCd");
    json_t *list = json_array();
    for (size_t i = 0; i < gw_mockapim_dealer_count(); i++) {
        const struct gw_mockapim_dealer *d = gw_mockapim_dealer_at(i);
        if ((dealer && *dealer && strcmp(dealer, d->dms_dealer_code) != 0) ||
            (loc && *loc && strcasecmp(loc, d->dms_loc_code) != 0))
            continue;
        for (size_t j = 0; j < gw_mockapim_advisor_count(); j++) {
            const struct gw_mockapim_advisor *a = gw_mockapim_advisor_at(j);
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "saCode", a->sa_code,
                                                  "saName", a->name, "dealerMapCd",
                                                  d->dms_dealer_code, "locCd", d->dms_loc_code));
        }
    }
    gw_mockapim_resp_dms_ok(resp, list);
    return GW_OK;
}

int gw_mockapim_dms_not_implemented(const struct gw_mockapim_env *env,
                                    const struct gw_mockapim_req *req,
                                    struct gw_mockapim_resp *resp)
{
    (void)env;
    gw_mockapim_resp_dms_fail(resp, 501, "NOT_IMPLEMENTED",
                              "%s %s is in the DMS swagger but not implemented by the mock",
                              req->method, req->path);
    return GW_OK;
}
