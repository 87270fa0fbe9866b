/*
 * tools/mock-apim/mockapim_booking.c
 * Handlers of the service-booking API (see mockapim_booking.h for the routes and statuses).
 *
 * Validation order in every write: shape (400) -> existence (404) -> business rules (422) ->
 * idempotency -> capacity (409), so an agent always gets the most fundamental problem first.
 * Slot occupancy = deterministic seeded count (mockapim_data.c) + CONFIRMED bookings in the
 * database; the check and the insert run in one IMMEDIATE transaction.
 * Idempotency-Key (optional header, <= 128 chars) on createBooking: the same key with the same
 * body replays the first booking (200, Idempotent-Replayed: true); with another body -> 422.
 */
#include "mockapim_booking.h"

#include "core/alloc.h"
#include "core/log.h"
#include "mockapim_data.h"
#include "mockapim_date.h"
#include "mockapim_db.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SLOT_MINUTES 30
#define LIST_LIMIT 50

/* Logs the database failure (never the request data) and answers a generic 500. */
static int db_error(struct gw_mockapim_resp *resp, const struct gw_error *err)
{
    GW_LOG(GW_LOG_ERROR, "mock-apim", "database failure: %s", err->msg);
    gw_mockapim_resp_error(resp, 500, "INTERNAL_ERROR", NULL, "database failure");
    return GW_OK;
}

/* The service bit set as the API's names, in a fixed order. */
static json_t *services_json(unsigned svc)
{
    json_t *a = json_array();
    if (svc & GW_MOCKAPIM_SVC_REGULAR)
        json_array_append_new(a, json_string("regular"));
    if (svc & GW_MOCKAPIM_SVC_EXPRESS)
        json_array_append_new(a, json_string("express"));
    if (svc & GW_MOCKAPIM_SVC_BODY_REPAIR)
        json_array_append_new(a, json_string("body_repair"));
    return a;
}

/* Rounds to one decimal (distances are shown to 100 m). */
static double round1(double v)
{
    return round(v * 10.0) / 10.0;
}

/* The Dealer schema of the OpenAPI document (distance_km is added by the search). */
static json_t *dealer_json(const struct gw_mockapim_dealer *d)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s, s:s, s:o, s:i}",
                     "dealer_id", d->dealer_id, "name", d->name, "address", d->address, "city",
                     d->city, "area", d->area, "latitude", d->latitude, "longitude",
                     d->longitude, "rating", d->rating, "phone", d->phone, "opening_hours",
                     d->opening_hours, "services", services_json(d->services),
                     "slot_capacity", d->bays);
}

/* The Customer schema, with the vehicles registered to the customer. */
static json_t *customer_json(const struct gw_mockapim_customer *c)
{
    json_t *veh = json_array();
    for (size_t i = 0; i < gw_mockapim_vehicle_count(); i++) {
        const struct gw_mockapim_vehicle *v = gw_mockapim_vehicle_at(i);
        if (strcmp(v->owner_customer_id, c->customer_id) == 0)
            json_array_append_new(veh, json_pack("{s:s, s:s, s:s}", "registration_number",
                                                 v->registration_number, "model", v->model,
                                                 "variant", v->variant));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "customer_id", c->customer_id,
                     "name", c->name, "mobile", c->mobile, "email", c->email, "address",
                     c->address, "city", c->city, "vehicles", veh);
}

int gw_mockapim_booking_resolve_customer(const struct gw_mockapim_env *env,
                                         const struct gw_mockapim_req *req,
                                         struct gw_mockapim_resp *resp)
{
    (void)env;
    const char *mobile = gw_mockapim_req_query(req, "mobile");
    const char *id = gw_mockapim_req_query(req, "customer_id");
    const struct gw_mockapim_customer *c = NULL;
    char m10[16];
    if ((!mobile || !*mobile) && (!id || !*id)) {
        gw_mockapim_resp_error(resp, 400, "MISSING_PARAMETER",
                               "Pass the customer's 10-digit mobile number, e.g. mobile=9876543210.",
                               "one of 'mobile' or 'customer_id' is required");
        return GW_OK;
    }
    if (mobile && *mobile) {
        if (gw_mockapim_mobile_normalise(mobile, m10, sizeof(m10)) != GW_OK) {
            gw_mockapim_resp_error(resp, 400, "INVALID_MOBILE",
                                   "Use a 10-digit Indian mobile number such as 9876543210 "
                                   "(a +91 prefix is accepted).",
                                   "'%s' is not a valid mobile number", mobile);
            return GW_OK;
        }
        c = gw_mockapim_customer_by_mobile(m10);
        if (!c) {
            gw_mockapim_resp_error(resp, 404, "CUSTOMER_NOT_FOUND",
                                   "Ask the user to confirm the registered mobile number.",
                                   "no customer is registered with mobile %s", m10);
            return GW_OK;
        }
    }
    if (id && *id) {
        const struct gw_mockapim_customer *byid = gw_mockapim_customer_by_id(id);
        if (!byid) {
            gw_mockapim_resp_error(resp, 404, "CUSTOMER_NOT_FOUND", NULL,
                                   "no customer has id '%s'", id);
            return GW_OK;
        }
        if (c && c != byid) {
            gw_mockapim_resp_error(resp, 422, "CUSTOMER_MISMATCH", NULL,
                                   "mobile %s belongs to %s, not to %s", m10, c->customer_id, id);
            return GW_OK;
        }
        c = byid;
    }
    gw_mockapim_resp_json(resp, 200, customer_json(c));
    return GW_OK;
}

int gw_mockapim_booking_resolve_vehicle(const struct gw_mockapim_env *env,
                                        const struct gw_mockapim_req *req,
                                        struct gw_mockapim_resp *resp)
{
    (void)env;
    const char *reg = gw_mockapim_req_query(req, "registration_number");
    char r[16];
    if (!reg || !*reg) {
        gw_mockapim_resp_error(resp, 400, "MISSING_PARAMETER", NULL,
                               "'registration_number' is required (e.g. MH12AB1234)");
        return GW_OK;
    }
    if (gw_mockapim_regno_normalise(reg, r, sizeof(r)) != GW_OK) {
        gw_mockapim_resp_error(resp, 400, "INVALID_REGISTRATION_NUMBER",
                               "Expected an Indian registration number like MH12AB1234 "
                               "(spaces and dashes are ignored).",
                               "'%s' is not a valid registration number", reg);
        return GW_OK;
    }
    const struct gw_mockapim_vehicle *v = gw_mockapim_vehicle_by_regno(r);
    if (!v) {
        gw_mockapim_resp_error(resp, 404, "VEHICLE_NOT_FOUND",
                               "Ask the user to check the registration number.",
                               "no vehicle is registered as %s", r);
        return GW_OK;
    }
    const struct gw_mockapim_customer *o = gw_mockapim_customer_by_id(v->owner_customer_id);
    gw_mockapim_resp_json(
        resp, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:{s:s, s:s}}",
                  "vehicle_id", v->vehicle_id, "registration_number", v->registration_number,
                  "make", "Maruti Suzuki", "model", v->model, "variant", v->variant, "color",
                  v->color, "year", v->year, "fuel_type", v->fuel_type, "last_service_date",
                  v->last_service_date, "next_service_due", v->next_service_due, "odometer_km",
                  v->odometer_km, "owner", "customer_id", o ? o->customer_id : "", "name",
                  o ? o->name : ""));
    return GW_OK;
}

/* Parses a decimal number within [lo, hi]; false when malformed or out of range. */
static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    if (!s || !*s)
        return false;
    double v = strtod(s, &end);
    if (!end || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* A dealer with its distance from the search centre, for sorting. */
struct ranked {
    const struct gw_mockapim_dealer *d;
    double km;
};

/* qsort order: nearest first, ties by dealer id so the order is stable across runs. */
static int by_distance(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->km != y->km)
        return x->km < y->km ? -1 : 1;
    return strcmp(x->d->dealer_id, y->d->dealer_id);
}

int gw_mockapim_booking_nearby_dealers(const struct gw_mockapim_env *env,
                                       const struct gw_mockapim_req *req,
                                       struct gw_mockapim_resp *resp)
{
    (void)env;
    const char *loc = gw_mockapim_req_query(req, "location");
    const char *lat_s = gw_mockapim_req_query(req, "latitude");
    const char *lon_s = gw_mockapim_req_query(req, "longitude");
    const char *svc_s = gw_mockapim_req_query(req, "service_type");
    const char *rad_s = gw_mockapim_req_query(req, "radius_km");
    const char *lim_s = gw_mockapim_req_query(req, "limit");
    double lat = 0, lon = 0, radius = 25, limit = 5;
    unsigned svc = 0;
    const struct gw_mockapim_place *place = NULL;
    bool have_ll = (lat_s && *lat_s) || (lon_s && *lon_s);

    if (have_ll && (!parse_num(lat_s, -90, 90, &lat) || !parse_num(lon_s, -180, 180, &lon))) {
        gw_mockapim_resp_error(resp, 400, "INVALID_COORDINATES", NULL,
                               "'latitude' and 'longitude' must both be given as decimal "
                               "degrees (e.g. 18.5913 and 73.7389)");
        return GW_OK;
    }
    if (!have_ll && (!loc || !*loc)) {
        gw_mockapim_resp_error(resp, 400, "MISSING_PARAMETER",
                               "Pass location as free text, e.g. location=Hinjewadi, Pune.",
                               "'location' or 'latitude'+'longitude' is required");
        return GW_OK;
    }
    if (svc_s && *svc_s && !(svc = gw_mockapim_service_parse(svc_s))) {
        gw_mockapim_resp_error(resp, 400, "INVALID_SERVICE_TYPE", NULL,
                               "service_type must be regular, express or body_repair");
        return GW_OK;
    }
    if ((rad_s && *rad_s && !parse_num(rad_s, 1, 500, &radius)) ||
        (lim_s && *lim_s && !parse_num(lim_s, 1, 20, &limit))) {
        gw_mockapim_resp_error(resp, 400, "INVALID_PARAMETER", NULL,
                               "radius_km must be 1..500 and limit 1..20");
        return GW_OK;
    }
    if (!have_ll) {
        place = gw_mockapim_place_find(loc);
        if (!place) {
            char hint[256];
            snprintf(hint, sizeof(hint),
                     "Name an area and city, e.g. 'Hinjewadi, Pune'. Cities served: %s.",
                     gw_mockapim_place_cities());
            gw_mockapim_resp_error(resp, 404, "LOCATION_NOT_FOUND", hint,
                                   "no known place in '%s'", loc);
            return GW_OK;
        }
        lat = place->latitude;
        lon = place->longitude;
    }
    size_t n = gw_mockapim_dealer_count(), k = 0;
    struct ranked *r = gw_xcalloc(n, sizeof(*r));
    for (size_t i = 0; i < n; i++) {
        const struct gw_mockapim_dealer *d = gw_mockapim_dealer_at(i);
        if (svc && !(d->services & svc))
            continue;
        r[k].d = d;
        r[k].km = gw_mockapim_distance_km(lat, lon, d->latitude, d->longitude);
        k++;
    }
    qsort(r, k, sizeof(*r), by_distance);
    json_t *list = json_array();
    for (size_t i = 0; i < k && json_array_size(list) < (size_t)limit; i++) {
        if (r[i].km > radius)
            break;
        json_t *dj = dealer_json(r[i].d);
        json_object_set_new(dj, "distance_km", json_real(round1(r[i].km)));
        json_array_append_new(list, dj);
    }
    json_t *search = json_pack("{s:f, s:f, s:f}", "latitude", lat, "longitude", lon,
                               "radius_km", radius);
    if (loc && *loc)
        json_object_set_new(search, "location", json_string(loc));
    json_object_set_new(search, "resolved_as",
                        json_string(place ? place->display : "coordinates"));
    if (svc)
        json_object_set_new(search, "service_type", json_string(svc_s));
    json_t *body = json_pack("{s:o, s:I}", "search", search, "count",
                             (json_int_t)json_array_size(list));
    if (json_array_size(list) == 0 && k > 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "No dealer within %.0f km. The nearest is %s (%s) at %.1f km; retry with a "
                 "larger radius_km.",
                 radius, r[0].d->name, r[0].d->dealer_id, r[0].km);
        json_object_set_new(body, "message", json_string(msg));
    }
    json_object_set_new(body, "dealers", list);
    gw_free(r);
    gw_mockapim_resp_json(resp, 200, body);
    return GW_OK;
}

/* Looks a dealer up by id; on failure writes the 404 (with a hint) and returns NULL. */
static const struct gw_mockapim_dealer *dealer_or_404(const char *id,
                                                      struct gw_mockapim_resp *resp)
{
    const struct gw_mockapim_dealer *d = gw_mockapim_dealer_by_id(id);
    if (!d)
        gw_mockapim_resp_error(resp, 404, "DEALER_NOT_FOUND",
                               "Use a dealer_id returned by findNearbyDealers, e.g. MSIL-PUNE-001.",
                               "no dealer has id '%s'", id);
    return d;
}

int gw_mockapim_booking_get_dealer(const struct gw_mockapim_env *env,
                                   const struct gw_mockapim_req *req,
                                   struct gw_mockapim_resp *resp)
{
    (void)env;
    const struct gw_mockapim_dealer *d = dealer_or_404(req->params[0], resp);
    if (d)
        gw_mockapim_resp_json(resp, 200, dealer_json(d));
    return GW_OK;
}

/* Checks a booking date: format (400), past (422), Sunday (422), horizon (422). */
static bool check_date(const struct gw_mockapim_env *env, const char *date,
                       struct gw_mockapim_resp *resp, long *out_days)
{
    long days;
    char buf[16];
    if (!date || !*date) {
        gw_mockapim_resp_error(resp, 400, "MISSING_PARAMETER", NULL,
                               "'date' is required, formatted YYYY-MM-DD");
        return false;
    }
    if (gw_mockapim_date_parse_iso(date, &days) != GW_OK) {
        gw_mockapim_resp_error(resp, 400, "INVALID_DATE", "Use the format YYYY-MM-DD.",
                               "'%s' is not a valid date", date);
        return false;
    }
    if (days < env->today) {
        json_t *e = gw_mockapim_resp_error(resp, 422, "DATE_IN_PAST",
                                           "Choose today or a later date.",
                                           "%s is in the past (today is %s)", date,
                                           gw_mockapim_date_iso(env->today, buf, sizeof(buf)));
        json_object_set_new(e, "today", json_string(buf));
        return false;
    }
    if (gw_mockapim_date_weekday(days) == 0) {
        long next = days + 1;
        json_t *e = gw_mockapim_resp_error(resp, 422, "DEALER_CLOSED",
                                           "Workshops are closed on Sundays; offer the next "
                                           "open day instead.",
                                           "%s is a Sunday; workshops are open Monday to "
                                           "Saturday", date);
        json_object_set_new(e, "next_open_date",
                            json_string(gw_mockapim_date_iso(next, buf, sizeof(buf))));
        return false;
    }
    if (days > env->today + GW_MOCKAPIM_BOOKING_HORIZON_DAYS) {
        gw_mockapim_resp_error(resp, 422, "DATE_TOO_FAR", NULL,
                               "bookings open at most %d days ahead",
                               GW_MOCKAPIM_BOOKING_HORIZON_DAYS);
        return false;
    }
    *out_days = days;
    return true;
}

/* Occupancy of one slot: seeded + confirmed bookings. */
static int slot_booked(const struct gw_mockapim_env *env, const struct gw_mockapim_dealer *d,
                       const char *date, const char *time, int *out, struct gw_error *err)
{
    int db_n = 0;
    int rc = gw_mockapim_db_booking_count(env->db, d->dealer_id, date, time, &db_n, err);
    if (rc == GW_OK)
        *out = gw_mockapim_slot_seeded(d->dealer_id, date, time, d->bays) + db_n;
    return rc;
}

/* True for a slot that already started today (IST): it can no longer be booked. */
static bool slot_passed(const struct gw_mockapim_env *env, long days, int minute)
{
    return days == env->today && minute <= env->minute_now;
}

/* "MSIL-PUNE-001@2026-03-03T10:00": readable, and unique per dealer, day and time. */
static void slot_id(const struct gw_mockapim_dealer *d, const char *date, const char *time,
                    char *out, size_t cap)
{
    snprintf(out, cap, "%s@%sT%s", d->dealer_id, date, time);
}

int gw_mockapim_booking_slots(const struct gw_mockapim_env *env,
                              const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    long days;
    const char *svc_s = gw_mockapim_req_query(req, "service_type");
    unsigned svc = GW_MOCKAPIM_SVC_REGULAR;
    const struct gw_mockapim_dealer *d = dealer_or_404(req->params[0], resp);
    if (!d)
        return GW_OK;
    if (svc_s && *svc_s && !(svc = gw_mockapim_service_parse(svc_s))) {
        gw_mockapim_resp_error(resp, 400, "INVALID_SERVICE_TYPE", NULL,
                               "service_type must be regular, express or body_repair");
        return GW_OK;
    }
    const char *date = gw_mockapim_req_query(req, "date");
    if (!check_date(env, date, resp, &days))
        return GW_OK;
    if (!(d->services & svc)) {
        gw_mockapim_resp_error(resp, 422, "SERVICE_NOT_OFFERED", NULL,
                               "%s does not offer %s service", d->name, svc_s);
        return GW_OK;
    }
    json_t *slots = json_array();
    int free_slots = 0;
    for (size_t i = 0; i < gw_mockapim_slot_count(); i++) {
        const char *t = gw_mockapim_slot_time(i);
        int booked = 0, minute = 0;
        if (slot_booked(env, d, date, t, &booked, &err) != GW_OK) {
            json_decref(slots);
            return db_error(resp, &err);
        }
        gw_mockapim_time_parse(t, &minute);
        int left = d->bays - booked;
        if (left < 0 || slot_passed(env, days, minute))
            left = 0;
        char id[64], end[16];
        slot_id(d, date, t, id, sizeof(id));
        snprintf(end, sizeof(end), "%02d:%02d", (minute + SLOT_MINUTES) / 60,
                 (minute + SLOT_MINUTES) % 60);
        json_array_append_new(slots, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:b}", "slot_id",
                                               id, "time", t, "end_time", end, "capacity",
                                               d->bays, "booked", booked, "available_capacity",
                                               left, "available", left > 0));
        free_slots += left > 0;
    }
    gw_mockapim_resp_json(resp, 200,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "dealer_id",
                                    d->dealer_id, "dealer_name", d->name, "date", date,
                                    "day_of_week", gw_mockapim_date_dayname(days), "service_type",
                                    svc_s && *svc_s ? svc_s : "regular", "slot_minutes",
                                    SLOT_MINUTES, "available_slots", free_slots, "slots", slots));
    return GW_OK;
}

/* The Booking schema: the stored row joined with the demo data (names, address). */
static json_t *booking_json(const struct gw_mockapim_booking *b)
{
    const struct gw_mockapim_customer *c = gw_mockapim_customer_by_id(b->customer_id);
    const struct gw_mockapim_vehicle *v = gw_mockapim_vehicle_by_regno(b->registration_number);
    const struct gw_mockapim_dealer *d = gw_mockapim_dealer_by_id(b->dealer_id);
    json_t *o = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, "
        "s:s, s:s, s:s, s:s}",
        "booking_id", b->booking_id, "status", b->status, "customer", "customer_id",
        b->customer_id, "name", c ? c->name : "", "mobile", b->mobile, "vehicle",
        "registration_number", b->registration_number, "model", v ? v->model : "", "dealer",
        "dealer_id", b->dealer_id, "name", d ? d->name : "", "address", d ? d->address : "",
        "phone", d ? d->phone : "", "date", b->date, "time", b->time, "service_type",
        b->service_type, "estimated_duration",
        gw_mockapim_service_duration(gw_mockapim_service_parse(b->service_type)), "notes",
        b->notes, "created_at", b->created_at, "updated_at", b->updated_at);
    if (o && b->cancel_reason[0])
        json_object_set_new(o, "cancel_reason", json_string(b->cancel_reason));
    return o;
}

/* The JSON body must only carry known members (catches arguments sent to the wrong place). */
static bool only_known(const struct gw_mockapim_req *req, const char *const *known,
                       struct gw_mockapim_resp *resp)
{
    const char *key;
    json_t *v;
    json_object_foreach(req->json, key, v)
    {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok) {
            gw_mockapim_resp_error(resp, 400, "UNKNOWN_FIELD", NULL,
                                   "unknown field '%s' in the request body", key);
            return false;
        }
        if (!json_is_string(v)) {
            gw_mockapim_resp_error(resp, 400, "INVALID_FIELD", NULL,
                                   "field '%s' must be a string", key);
            return false;
        }
    }
    return true;
}

/* json_dump_callback sink folding the bytes into an FNV-1a state. */
static int fnv_cb(const char *buf, size_t size, void *data)
{
    uint64_t *h = data;
    for (size_t i = 0; i < size; i++) {
        *h ^= (unsigned char)buf[i];
        *h *= 0x100000001b3ULL;
    }
    return 0;
}

/* Stable digest of the request body for idempotency: FNV-1a over the sorted compact dump,
 * streamed (no copy of the body). */
static void body_hash(const json_t *body, char *out, size_t cap)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    json_dump_callback(body, fnv_cb, &h, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(out, cap, "%016llx", (unsigned long long)h);
}

/* Up to three later free times on the same day, for SLOT_FULL answers. */
static json_t *alternatives(const struct gw_mockapim_env *env, const struct gw_mockapim_dealer *d,
                            const char *date, long days, int from)
{
    json_t *a = json_array();
    struct gw_error err = {0};
    for (size_t i = 0; i < gw_mockapim_slot_count() && json_array_size(a) < 3; i++) {
        const char *t = gw_mockapim_slot_time(i);
        int minute = 0, booked = 0;
        gw_mockapim_time_parse(t, &minute);
        if (minute <= from || slot_passed(env, days, minute))
            continue;
        if (slot_booked(env, d, date, t, &booked, &err) == GW_OK && booked < d->bays)
            json_array_append_new(a, json_string(t));
    }
    return a;
}

int gw_mockapim_booking_create(const struct gw_mockapim_env *env,
                               const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    static const char *const known[] = {"customer_id", "mobile",       "registration_number",
                                        "dealer_id",   "date",         "time",
                                        "service_type", "notes",       NULL};
    struct gw_error err = {0};
    struct gw_mockapim_booking b;
    char m10[16], reg[16], hash[32] = "", stored_hash[32] = "";
    long days;
    int minute;
    memset(&b, 0, sizeof(b));
    if (!only_known(req, known, resp))
        return GW_OK;
    const char *cid = gw_mockapim_req_str(req, "customer_id");
    const char *mobile = gw_mockapim_req_str(req, "mobile");
    const char *regno = gw_mockapim_req_str(req, "registration_number");
    const char *dealer_id = gw_mockapim_req_str(req, "dealer_id");
    const char *date = gw_mockapim_req_str(req, "date");
    const char *time = gw_mockapim_req_str(req, "time");
    const char *svc_s = gw_mockapim_req_str(req, "service_type");
    const char *notes = gw_mockapim_req_str(req, "notes");
    const char *idem = gw_mockapim_req_header(req, "Idempotency-Key");

    const char *missing = !regno ? "registration_number" : !dealer_id ? "dealer_id"
                        : !date ? "date" : !time ? "time" : NULL;
    if (!cid && !mobile)
        missing = "customer_id or mobile";
    if (missing) {
        gw_mockapim_resp_error(resp, 400, "MISSING_FIELD", NULL, "'%s' is required", missing);
        return GW_OK;
    }
    if (mobile && gw_mockapim_mobile_normalise(mobile, m10, sizeof(m10)) != GW_OK) {
        gw_mockapim_resp_error(resp, 400, "INVALID_MOBILE", NULL,
                               "'%s' is not a valid 10-digit mobile number", mobile);
        return GW_OK;
    }
    if (gw_mockapim_regno_normalise(regno, reg, sizeof(reg)) != GW_OK) {
        gw_mockapim_resp_error(resp, 400, "INVALID_REGISTRATION_NUMBER",
                               "Expected a registration number like MH12AB1234.",
                               "'%s' is not a valid registration number", regno);
        return GW_OK;
    }
    if (gw_mockapim_time_parse(time, &minute) != GW_OK) {
        gw_mockapim_resp_error(resp, 400, "INVALID_TIME",
                               "Use 24-hour HH:MM, e.g. 10:00 for 10 AM.",
                               "'%s' is not a valid time", time);
        return GW_OK;
    }
    unsigned svc = GW_MOCKAPIM_SVC_REGULAR;
    if (svc_s && !(svc = gw_mockapim_service_parse(svc_s))) {
        gw_mockapim_resp_error(resp, 400, "INVALID_SERVICE_TYPE", NULL,
                               "service_type must be regular, express or body_repair");
        return GW_OK;
    }
    if (notes && strlen(notes) >= sizeof(b.notes)) {
        gw_mockapim_resp_error(resp, 400, "FIELD_TOO_LONG", NULL,
                               "notes must be shorter than %zu bytes", sizeof(b.notes));
        return GW_OK;
    }
    if (idem && (!*idem || strlen(idem) > 128)) {
        gw_mockapim_resp_error(resp, 400, "INVALID_IDEMPOTENCY_KEY", NULL,
                               "Idempotency-Key must be 1 to 128 characters");
        return GW_OK;
    }
    /* Existence. */
    const struct gw_mockapim_customer *c =
        mobile ? gw_mockapim_customer_by_mobile(m10) : gw_mockapim_customer_by_id(cid);
    if (!c) {
        gw_mockapim_resp_error(resp, 404, "CUSTOMER_NOT_FOUND",
                               "Resolve the customer first with resolveCustomer.",
                               "no customer matches %s", mobile ? "that mobile number" : cid);
        return GW_OK;
    }
    if (cid && mobile && c != gw_mockapim_customer_by_id(cid)) {
        gw_mockapim_resp_error(resp, 422, "CUSTOMER_MISMATCH", NULL,
                               "mobile %s does not belong to customer '%s'", m10, cid);
        return GW_OK;
    }
    if (!gw_mockapim_vehicle_by_regno(reg)) {
        gw_mockapim_resp_error(resp, 404, "VEHICLE_NOT_FOUND", NULL,
                               "no vehicle is registered as %s", reg);
        return GW_OK;
    }
    const struct gw_mockapim_dealer *d = dealer_or_404(dealer_id, resp);
    if (!d)
        return GW_OK;
    /* Business rules. */
    if (!check_date(env, date, resp, &days))
        return GW_OK;
    if (!(d->services & svc)) {
        gw_mockapim_resp_error(resp, 422, "SERVICE_NOT_OFFERED", NULL,
                               "%s does not offer %s service", d->name, svc_s);
        return GW_OK;
    }
    if (gw_mockapim_slot_index(time) < 0) {
        gw_mockapim_resp_error(resp, 422, "INVALID_SLOT",
                               "Slots start every 30 minutes 09:00-12:00 and 14:00-17:00; "
                               "call getAvailableSlots.",
                               "%s is not a slot start time", time);
        return GW_OK;
    }
    if (slot_passed(env, days, minute)) {
        gw_mockapim_resp_error(resp, 422, "SLOT_IN_PAST", NULL,
                               "the %s slot today has already started", time);
        return GW_OK;
    }
    if (gw_mockapim_db_begin(env->db, &err) != GW_OK)
        return db_error(resp, &err);
    if (idem) {
        body_hash(req->json, hash, sizeof(hash));
        int rc = gw_mockapim_db_booking_by_idem(env->db, idem, &b, stored_hash,
                                                sizeof(stored_hash), &err);
        if (rc == GW_OK) {
            gw_mockapim_db_rollback(env->db);
            if (strcmp(stored_hash, hash) != 0) {
                gw_mockapim_resp_error(resp, 422, "IDEMPOTENCY_KEY_REUSED", NULL,
                                       "this Idempotency-Key was used for a different request "
                                       "(booking %s)", b.booking_id);
                return GW_OK;
            }
            gw_mockapim_resp_json(resp, 200, booking_json(&b));
            gw_mockapim_resp_header(resp, "Idempotent-Replayed", "true");
            return GW_OK;
        }
        if (rc != GW_ENOTFOUND)
            goto dbfail;
    }
    int booked = 0;
    if (slot_booked(env, d, date, time, &booked, &err) != GW_OK)
        goto dbfail;
    if (booked >= d->bays) {
        gw_mockapim_db_rollback(env->db);
        json_t *e = gw_mockapim_resp_error(resp, 409, "SLOT_FULL",
                                           "Offer the user one of the alternatives or another "
                                           "date.",
                                           "the %s slot on %s at %s is fully booked", time, date,
                                           d->name);
        json_object_set_new(e, "alternatives", alternatives(env, d, date, days, minute));
        return GW_OK;
    }
    long long seq = 0;
    if (gw_mockapim_db_next_seq(env->db, "booking", &seq, &err) != GW_OK)
        goto dbfail;
    int y, mo, dd;
    gw_mockapim_date_civil(gw_mockapim_date_ist_days(env->now), &y, &mo, &dd);
    snprintf(b.booking_id, sizeof(b.booking_id), "BK-%04d-%06lld", y, seq % 1000000);
    snprintf(b.customer_id, sizeof(b.customer_id), "%s", c->customer_id);
    snprintf(b.mobile, sizeof(b.mobile), "%s", c->mobile);
    snprintf(b.registration_number, sizeof(b.registration_number), "%s", reg);
    snprintf(b.dealer_id, sizeof(b.dealer_id), "%s", d->dealer_id);
    snprintf(b.date, sizeof(b.date), "%s", date);
    snprintf(b.time, sizeof(b.time), "%s", time);
    snprintf(b.service_type, sizeof(b.service_type), "%s", svc_s ? svc_s : "regular");
    for (char *p = b.service_type; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    snprintf(b.status, sizeof(b.status), "CONFIRMED");
    snprintf(b.notes, sizeof(b.notes), "%s", notes ? notes : "");
    gw_mockapim_date_timestamp(env->now, b.created_at, sizeof(b.created_at));
    memcpy(b.updated_at, b.created_at, sizeof(b.updated_at));
    if (gw_mockapim_db_booking_insert(env->db, &b, idem, idem ? hash : NULL, &err) != GW_OK ||
        gw_mockapim_db_commit(env->db, &err) != GW_OK)
        goto dbfail;
    char loc[96];
    snprintf(loc, sizeof(loc), "/api/v1/bookings/%s", b.booking_id);
    json_t *body = booking_json(&b);
    char msg[256];
    snprintf(msg, sizeof(msg), "Booking %s confirmed at %s on %s at %s.", b.booking_id, d->name,
             b.date, b.time);
    json_object_set_new(body, "message", json_string(msg));
    gw_mockapim_resp_json(resp, 201, body);
    gw_mockapim_resp_header(resp, "Location", loc);
    return GW_OK;
dbfail:
    gw_mockapim_db_rollback(env->db);
    return db_error(resp, &err);
}

/* booking_each callback: appends the booking to the JSON array `arg`. */
static int add_booking(const struct gw_mockapim_booking *b, void *arg)
{
    json_array_append_new(arg, booking_json(b));
    return 0;
}

int gw_mockapim_booking_list(const struct gw_mockapim_env *env,
                             const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    struct gw_mockapim_booking_filter f = {0};
    char m10[16], reg[16];
    const char *mobile = gw_mockapim_req_query(req, "mobile");
    const char *regno = gw_mockapim_req_query(req, "registration_number");
    const char *status = gw_mockapim_req_query(req, "status");
    f.customer_id = gw_mockapim_req_query(req, "customer_id");
    if (mobile && *mobile) {
        if (gw_mockapim_mobile_normalise(mobile, m10, sizeof(m10)) != GW_OK) {
            gw_mockapim_resp_error(resp, 400, "INVALID_MOBILE", NULL,
                                   "'%s' is not a valid mobile number", mobile);
            return GW_OK;
        }
        const struct gw_mockapim_customer *c = gw_mockapim_customer_by_mobile(m10);
        f.customer_id = c ? c->customer_id : "-none-";
    }
    if (regno && *regno) {
        if (gw_mockapim_regno_normalise(regno, reg, sizeof(reg)) != GW_OK) {
            gw_mockapim_resp_error(resp, 400, "INVALID_REGISTRATION_NUMBER", NULL,
                                   "'%s' is not a valid registration number", regno);
            return GW_OK;
        }
        f.registration_number = reg;
    }
    if (status && *status && strcmp(status, "CONFIRMED") != 0 &&
        strcmp(status, "CANCELLED") != 0) {
        gw_mockapim_resp_error(resp, 400, "INVALID_STATUS", NULL,
                               "status must be CONFIRMED or CANCELLED");
        return GW_OK;
    }
    f.status = status;
    json_t *list = json_array();
    if (gw_mockapim_db_booking_each(env->db, &f, LIST_LIMIT, add_booking, list, &err) != GW_OK) {
        json_decref(list);
        return db_error(resp, &err);
    }
    gw_mockapim_resp_json(resp, 200,
                          json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(list),
                                    "bookings", list));
    return GW_OK;
}

int gw_mockapim_booking_get(const struct gw_mockapim_env *env,
                            const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    struct gw_mockapim_booking b;
    int rc = gw_mockapim_db_booking_get(env->db, req->params[0], &b, &err);
    if (rc == GW_ENOTFOUND) {
        gw_mockapim_resp_error(resp, 404, "BOOKING_NOT_FOUND",
                               "Booking ids look like BK-2026-000123; check the id.",
                               "no booking has id '%s'", req->params[0]);
        return GW_OK;
    }
    if (rc != GW_OK)
        return db_error(resp, &err);
    gw_mockapim_resp_json(resp, 200, booking_json(&b));
    return GW_OK;
}

int gw_mockapim_booking_cancel(const struct gw_mockapim_env *env,
                               const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    static const char *const known[] = {"reason", NULL};
    struct gw_error err = {0};
    struct gw_mockapim_booking b;
    long days = 0;
    if (req->json && !only_known(req, known, resp))
        return GW_OK;
    const char *reason = gw_mockapim_req_str(req, "reason");
    if (reason && strlen(reason) >= sizeof(b.cancel_reason)) {
        gw_mockapim_resp_error(resp, 400, "FIELD_TOO_LONG", NULL, "reason is too long");
        return GW_OK;
    }
    int rc = gw_mockapim_db_booking_get(env->db, req->params[0], &b, &err);
    if (rc == GW_ENOTFOUND) {
        gw_mockapim_resp_error(resp, 404, "BOOKING_NOT_FOUND", NULL, "no booking has id '%s'",
                               req->params[0]);
        return GW_OK;
    }
    if (rc != GW_OK)
        return db_error(resp, &err);
    if (strcmp(b.status, "CANCELLED") == 0) {
        json_t *body = booking_json(&b);
        json_object_set_new(body, "message", json_string("The booking was already cancelled."));
        gw_mockapim_resp_json(resp, 200, body);
        return GW_OK;
    }
    if (gw_mockapim_date_parse_iso(b.date, &days) == GW_OK && days < env->today) {
        gw_mockapim_resp_error(resp, 422, "BOOKING_IN_PAST", NULL,
                               "booking %s was for %s and can no longer be cancelled",
                               b.booking_id, b.date);
        return GW_OK;
    }
    char now[32];
    gw_mockapim_date_timestamp(env->now, now, sizeof(now));
    if (gw_mockapim_db_booking_set_status(env->db, b.booking_id, "CANCELLED",
                                          reason ? reason : "cancelled by customer", now,
                                          &err) != GW_OK ||
        gw_mockapim_db_booking_get(env->db, b.booking_id, &b, &err) != GW_OK)
        return db_error(resp, &err);
    json_t *body = booking_json(&b);
    json_object_set_new(body, "message", json_string("The booking is cancelled."));
    gw_mockapim_resp_json(resp, 200, body);
    return GW_OK;
}
