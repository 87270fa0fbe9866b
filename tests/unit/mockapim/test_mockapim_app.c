/*
 * tests/unit/mockapim/test_mockapim_app.c
 * The mock APIM's behaviour through gw_mockapim_app_handle (no sockets), with the clock
 * pinned to Monday 2026-03-02 10:00 IST so date rules are deterministic:
 * the booking journey, slot capacity (409), date rules, authentication (API key, bearer
 * tokens, expiry, the token endpoint), validation, idempotency, persistence across reopen and
 * reset, the DMS appointment API per the swagger (book/update/cancel/list/calendar/...), and
 * the admin endpoints. The HTTP-level behaviour (faults on the wire, restart of the process)
 * is covered by scripts/test.d/40-mock-apim.sh.
 */
#include "mockapim_test.h"

#include "mockapim_date.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define TODAY "2026-03-02"
#define TOMORROW "2026-03-03"
#define SUNDAY "2026-03-08"
#define H_KEY "x-api-key", T_KEY
#define CT_JSON "Content-Type", "application/json"
#define FORM "Content-Type", "application/x-www-form-urlencoded"
#define DMS "/dms/v1/api/common/msil/dms"

struct ctx {
    char db[512];
    struct gw_mockapim_app *app;
    long long now;
    char bearer[128];
};

static long long monday_10am(void)
{
    return (long long)gw_mockapim_date_days(2026, 3, 2) * 86400 + 10 * 3600 -
           GW_MOCKAPIM_IST_OFFSET_S;
}

static void get_token(struct ctx *c)
{
    struct t_call t;
    t_run(c->app, &t, "POST", "/oauth2/token",
          "grant_type=client_credentials&client_id=mock-gateway&client_secret=mock-gateway-secret",
          FORM, NULL);
    assert_int_equal(t.resp.status, 200);
    snprintf(c->bearer, sizeof(c->bearer), "Bearer %s", t_str(&t, "access_token"));
    assert_int_equal(strlen(c->bearer), 7 + 64);
    assert_string_equal(gw_mockapim_resp_get_header(&t.resp, "Cache-Control"), "no-store");
    t_done(&t);
}

static int setup(void **state)
{
    struct ctx *c = gw_xcalloc(1, sizeof(*c));
    t_db_path(c->db, sizeof(c->db), "app");
    c->app = t_app(c->db, TODAY, 60);
    c->now = monday_10am();
    gw_mockapim_app_set_now(c->app, c->now);
    get_token(c);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    gw_mockapim_app_free(c->app);
    t_db_remove(c->db);
    gw_free(c);
    return 0;
}

static void book_body(char *out, size_t cap, const char *dealer, const char *date,
                      const char *time)
{
    snprintf(out, cap,
             "{\"mobile\":\"9876543210\",\"registration_number\":\"MH12AB1234\","
             "\"dealer_id\":\"%s\",\"date\":\"%s\",\"time\":\"%s\",\"service_type\":\"regular\"}",
             dealer, date, time);
}

static int create(struct ctx *c, struct t_call *t, const char *dealer, const char *date,
                  const char *time)
{
    char body[512];
    book_body(body, sizeof(body), dealer, date, time);
    t_run(c->app, t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, NULL);
    return t->resp.status;
}

static void test_journey(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    t_run(c->app, &t, "GET", "/api/v1/customers/resolve?mobile=+91+98765+43210", NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "customer_id"), "CUST001234");
    assert_string_equal(t_str(&t, "vehicles.0.registration_number"), "MH12AB1234");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/vehicles/resolve?registration_number=mh12+ab+1234", NULL,
          H_KEY, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "model"), "Maruti Suzuki Swift");
    assert_string_equal(t_str(&t, "owner.name"), "Rahul Sharma");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/dealers/nearby?location=Hinjewadi,+Pune", NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "dealers.0.dealer_id"), "MSIL-PUNE-001");
    assert_string_equal(t_str(&t, "search.resolved_as"), "Hinjewadi, Pune");
    /* Sorted by distance, all in Pune. */
    json_t *ds = t_get(t.resp.json, "dealers");
    assert_true(json_array_size(ds) >= 3);
    for (size_t i = 1; i < json_array_size(ds); i++)
        assert_true(json_real_value(t_get(json_array_get(ds, i - 1), "distance_km")) <=
                    json_real_value(t_get(json_array_get(ds, i), "distance_km")));
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=" TOMORROW, NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "day_of_week"), "Tuesday");
    assert_string_equal(t_str(&t, "slots.2.time"), "10:00");
    assert_true(json_is_true(t_get(t.resp.json, "slots.2.available")));
    long before = (long)t_int(&t, "slots.2.booked");
    t_done(&t);
    assert_int_equal(create(c, &t, "MSIL-PUNE-001", TOMORROW, "10:00"), 201);
    assert_string_equal(t_str(&t, "booking_id"), "BK-2026-000101");
    assert_string_equal(t_str(&t, "status"), "CONFIRMED");
    assert_string_equal(t_str(&t, "dealer.name"), "Maruti Suzuki Arena - Hinjewadi");
    assert_string_equal(gw_mockapim_resp_get_header(&t.resp, "Location"),
                        "/api/v1/bookings/BK-2026-000101");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/bookings/BK-2026-000101", NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "date"), TOMORROW);
    assert_string_equal(t_str(&t, "time"), "10:00");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=" TOMORROW, NULL, H_KEY,
          NULL);
    assert_int_equal(t_int(&t, "slots.2.booked"), before + 1);
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/bookings?mobile=9876543210", NULL, H_KEY, NULL);
    assert_int_equal(t_int(&t, "count"), 1);
    t_done(&t);
    /* The admin dump shows the row as stored. */
    t_run(c->app, &t, "GET", "/__mock/bookings", NULL, NULL);
    assert_string_equal(t_str(&t, "bookings.0.booking_id"), "BK-2026-000101");
    assert_string_equal(t_str(&t, "bookings.0.registration_number"), "MH12AB1234");
    t_done(&t);
    /* Unknown ids are 404, never a made-up success. */
    t_run(c->app, &t, "GET", "/api/v1/bookings/BK-2026-999999", NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 404);
    assert_string_equal(t_str(&t, "error.code"), "BOOKING_NOT_FOUND");
    t_done(&t);
    /* Cancel, twice (idempotent), then the status says so. */
    t_run(c->app, &t, "POST", "/api/v1/bookings/BK-2026-000101/cancel",
          "{\"reason\":\"travelling\"}", H_KEY, "Authorization", c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "status"), "CANCELLED");
    t_done(&t);
    t_run(c->app, &t, "POST", "/api/v1/bookings/BK-2026-000101/cancel", NULL, H_KEY,
          "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "cancel_reason"), "travelling");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/bookings/BK-2026-000101", NULL, H_KEY, NULL);
    assert_string_equal(t_str(&t, "status"), "CANCELLED");
    t_done(&t);
    t_run(c->app, &t, "POST", "/api/v1/bookings/BK-2026-999999/cancel", NULL, H_KEY,
          "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 404);
    t_done(&t);
}

static void test_capacity(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    t_run(c->app, &t, "GET", "/api/v1/dealers/MSIL-PUNE-002/slots?date=" TOMORROW, NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 200);
    long left = (long)t_int(&t, "slots.4.available_capacity");
    assert_string_equal(t_str(&t, "slots.4.time"), "11:00");
    assert_true(left >= 1);
    t_done(&t);
    char first[32] = "";
    for (long i = 0; i < left; i++) {
        assert_int_equal(create(c, &t, "MSIL-PUNE-002", TOMORROW, "11:00"), 201);
        if (i == 0)
            snprintf(first, sizeof(first), "%s", t_str(&t, "booking_id"));
        t_done(&t);
    }
    assert_int_equal(create(c, &t, "MSIL-PUNE-002", TOMORROW, "11:00"), 409);
    assert_string_equal(t_str(&t, "error.code"), "SLOT_FULL");
    assert_true(json_is_array(t_get(t.resp.json, "error.alternatives")));
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/dealers/MSIL-PUNE-002/slots?date=" TOMORROW, NULL, H_KEY,
          NULL);
    assert_true(json_is_false(t_get(t.resp.json, "slots.4.available")));
    assert_int_equal(t_int(&t, "slots.4.available_capacity"), 0);
    t_done(&t);
    /* Cancelling frees the place. */
    char url[96];
    snprintf(url, sizeof(url), "/api/v1/bookings/%s/cancel", first);
    t_run(c->app, &t, "POST", url, NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    t_done(&t);
    assert_int_equal(create(c, &t, "MSIL-PUNE-002", TOMORROW, "11:00"), 201);
    t_done(&t);
}

static void expect(struct ctx *c, const char *url, int status, const char *code)
{
    struct t_call t;
    t_run(c->app, &t, "GET", url, NULL, H_KEY, NULL);
    if (t.resp.status != status || strcmp(t_str(&t, "error.code"), code) != 0)
        fail_msg("%s: got %d %s, want %d %s", url, t.resp.status, t_str(&t, "error.code"),
                 status, code);
    t_done(&t);
}

static void test_date_rules(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    expect(c, "/api/v1/dealers/MSIL-PUNE-001/slots?date=2026-03-01", 422, "DATE_IN_PAST");
    expect(c, "/api/v1/dealers/MSIL-PUNE-001/slots?date=" SUNDAY, 422, "DEALER_CLOSED");
    expect(c, "/api/v1/dealers/MSIL-PUNE-001/slots?date=03-03-2026", 400, "INVALID_DATE");
    expect(c, "/api/v1/dealers/MSIL-PUNE-001/slots", 400, "MISSING_PARAMETER");
    expect(c, "/api/v1/dealers/MSIL-PUNE-001/slots?date=2026-06-30", 422, "DATE_TOO_FAR");
    expect(c, "/api/v1/dealers/MSIL-PUNE-002/slots?date=" TOMORROW "&service_type=body_repair",
           422, "SERVICE_NOT_OFFERED");
    expect(c, "/api/v1/dealers/MSIL-NOPE-001/slots?date=" TOMORROW, 404, "DEALER_NOT_FOUND");
    expect(c, "/api/v1/dealers/nearby?location=Atlantis", 404, "LOCATION_NOT_FOUND");
    expect(c, "/api/v1/dealers/nearby", 400, "MISSING_PARAMETER");
    expect(c, "/api/v1/dealers/nearby?latitude=91&longitude=0", 400, "INVALID_COORDINATES");
    expect(c, "/api/v1/customers/resolve?mobile=12345", 400, "INVALID_MOBILE");
    expect(c, "/api/v1/customers/resolve?mobile=9000000001", 404, "CUSTOMER_NOT_FOUND");
    expect(c, "/api/v1/customers/resolve?mobile=9876543210&customer_id=CUST001235", 422,
           "CUSTOMER_MISMATCH");
    expect(c, "/api/v1/vehicles/resolve?registration_number=ZZ99ZZ9999", 404,
           "VEHICLE_NOT_FOUND");
    expect(c, "/api/v1/vehicles/resolve?registration_number=hello", 400,
           "INVALID_REGISTRATION_NUMBER");
    t_run(c->app, &t, "GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=" SUNDAY, NULL, H_KEY,
          NULL);
    assert_string_equal(t_str(&t, "error.next_open_date"), "2026-03-09");
    t_done(&t);
    /* Today: slots that already started (10:00 IST now) are not available. */
    t_run(c->app, &t, "GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=" TODAY, NULL, H_KEY, NULL);
    assert_true(json_is_false(t_get(t.resp.json, "slots.0.available")));
    assert_true(json_is_false(t_get(t.resp.json, "slots.2.available")));
    t_done(&t);
    assert_int_equal(create(c, &t, "MSIL-PUNE-001", TODAY, "09:30"), 422);
    assert_string_equal(t_str(&t, "error.code"), "SLOT_IN_PAST");
    t_done(&t);
    assert_int_equal(create(c, &t, "MSIL-PUNE-001", TOMORROW, "13:00"), 422);
    assert_string_equal(t_str(&t, "error.code"), "INVALID_SLOT");
    t_done(&t);
    /* Far away from every dealer: an empty list with a hint, not an error. */
    t_run(c->app, &t, "GET", "/api/v1/dealers/nearby?latitude=10&longitude=70", NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 200);
    assert_int_equal(t_int(&t, "count"), 0);
    assert_non_null(strstr(t_str(&t, "message"), "nearest"));
    t_done(&t);
}

static void test_auth(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    t_run(c->app, &t, "GET", "/api/v1/vehicles/resolve?registration_number=MH12AB1234", NULL,
          NULL);
    assert_int_equal(t.resp.status, 401);
    assert_string_equal(t_str(&t, "error.code"), "UNAUTHORIZED");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/vehicles/resolve?registration_number=MH12AB1234", NULL,
          "x-api-key", "wrong", NULL);
    assert_int_equal(t.resp.status, 401);
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/vehicles/resolve?registration_number=MH12AB1234", NULL,
          "Ocp-Apim-Subscription-Key", T_KEY, NULL);
    assert_int_equal(t.resp.status, 200);
    t_done(&t);
    char body[512];
    book_body(body, sizeof(body), "MSIL-PUNE-001", TOMORROW, "14:00");
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 401);
    assert_string_equal(t_str(&t, "error.code"), "TOKEN_MISSING");
    assert_non_null(gw_mockapim_resp_get_header(&t.resp, "WWW-Authenticate"));
    t_done(&t);
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization",
          "Bearer 0000000000000000000000000000000000000000000000000000000000000000", CT_JSON,
          NULL);
    assert_string_equal(t_str(&t, "error.code"), "TOKEN_INVALID");
    t_done(&t);
    /* The service-booking API wants "Bearer"; a bare token is refused there. */
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer + 7,
          CT_JSON, NULL);
    assert_string_equal(t_str(&t, "error.code"), "TOKEN_MISSING");
    t_done(&t);
    /* Expiry: valid at ttl-1, expired at ttl (60 s). */
    gw_mockapim_app_set_now(c->app, c->now + 59);
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, NULL);
    assert_int_equal(t.resp.status, 201);
    t_done(&t);
    gw_mockapim_app_set_now(c->app, c->now + 60);
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, NULL);
    assert_int_equal(t.resp.status, 401);
    assert_string_equal(t_str(&t, "error.code"), "TOKEN_EXPIRED");
    t_done(&t);
    /* A fresh token works again. */
    get_token(c);
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, NULL);
    assert_int_equal(t.resp.status, 201);
    t_done(&t);
    gw_mockapim_app_set_now(c->app, c->now);
    /* Token endpoint errors (RFC 6749 section 5.2). */
    t_run(c->app, &t, "POST", "/oauth2/token",
          "grant_type=client_credentials&client_id=mock-gateway&client_secret=nope", FORM, NULL);
    assert_int_equal(t.resp.status, 401);
    assert_string_equal(t_str(&t, "error"), "invalid_client");
    t_done(&t);
    t_run(c->app, &t, "POST", "/oauth2/token", "grant_type=password&username=a&password=b", FORM,
          NULL);
    assert_int_equal(t.resp.status, 400);
    assert_string_equal(t_str(&t, "error"), "unsupported_grant_type");
    t_done(&t);
    t_run(c->app, &t, "POST", "/oauth2/token", "{\"grant_type\":\"client_credentials\"}",
          CT_JSON, NULL);
    assert_int_equal(t.resp.status, 400);
    assert_string_equal(t_str(&t, "error"), "invalid_request");
    t_done(&t);
    /* HTTP Basic client authentication: base64("mock-gateway:mock-gateway-secret"). */
    t_run(c->app, &t, "POST", "/oauth2/token", "grant_type=client_credentials", FORM,
          "Authorization", "Basic bW9jay1nYXRld2F5Om1vY2stZ2F0ZXdheS1zZWNyZXQ=", NULL);
    assert_int_equal(t.resp.status, 200);
    assert_int_equal(t_int(&t, "expires_in"), 60);
    assert_string_equal(t_str(&t, "token_type"), "Bearer");
    t_done(&t);
    t_run(c->app, &t, "POST", "/oauth2/token", "grant_type=client_credentials", FORM,
          "Authorization", "Basic bW9jay1nYXRld2F5Ondyb25n", NULL);
    assert_int_equal(t.resp.status, 401);
    t_done(&t);
    /* The database never holds a token in clear. */
    t_run(c->app, &t, "GET", "/__mock/bookings", NULL, NULL);
    char *dump = json_dumps(t.resp.json, 0); /* jansson uses malloc */
    assert_null(strstr(dump, c->bearer + 7));
    gw_free(dump);
    t_done(&t);
}

static void test_validation(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    struct {
        const char *body, *ct;
        int status;
        const char *code;
    } cases[] = {
        {"{\"mobile\":\"9876543210\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":"
         "\"MSIL-PUNE-001\",\"date\":\"" TOMORROW "\",\"time\":\"10:00\",\"x-api-key\":\"k\"}",
         "application/json", 400, "UNKNOWN_FIELD"},
        {"{\"mobile\":9876543210,\"registration_number\":\"MH12AB1234\"}", "application/json",
         400, "INVALID_FIELD"},
        {"{\"mobile\":\"9876543210\"", "application/json", 400, "INVALID_JSON"},
        {"[1,2]", "application/json", 400, "INVALID_JSON"},
        {"", "application/json", 400, "MISSING_BODY"},
        {"{\"registration_number\":\"MH12AB1234\",\"dealer_id\":\"MSIL-PUNE-001\",\"date\":\""
         TOMORROW "\",\"time\":\"10:00\"}", "application/json", 400, "MISSING_FIELD"},
        {"{\"mobile\":\"9000000001\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":"
         "\"MSIL-PUNE-001\",\"date\":\"" TOMORROW "\",\"time\":\"10:00\"}", "application/json",
         404, "CUSTOMER_NOT_FOUND"},
        {"{\"mobile\":\"9876543210\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":"
         "\"MSIL-PUNE-001\",\"date\":\"" TOMORROW "\",\"time\":\"10am\"}", "application/json",
         400, "INVALID_TIME"},
        {"{\"mobile\":\"9876543210\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":"
         "\"MSIL-PUNE-001\",\"date\":\"" TOMORROW "\",\"time\":\"10:00\",\"service_type\":"
         "\"oil\"}", "application/json", 400, "INVALID_SERVICE_TYPE"},
        {"mobile=9876543210", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"},
        {"{\"mobile\":\"9876543210\",\"customer_id\":\"CUST001235\",\"registration_number\":"
         "\"MH12AB1234\",\"dealer_id\":\"MSIL-PUNE-001\",\"date\":\"" TOMORROW "\",\"time\":"
         "\"10:00\"}", "application/json", 422, "CUSTOMER_MISMATCH"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t_run(c->app, &t, "POST", "/api/v1/bookings", cases[i].body, H_KEY, "Authorization",
              c->bearer, "Content-Type", cases[i].ct, NULL);
        if (t.resp.status != cases[i].status || strcmp(t_str(&t, "error.code"), cases[i].code))
            fail_msg("case %zu: got %d %s", i, t.resp.status, t_str(&t, "error.code"));
        t_done(&t);
    }
    /* Nesting deeper than the limit is refused before parsing. */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 99);
    deep[199] = '\0';
    t_run(c->app, &t, "POST", "/api/v1/bookings", deep, H_KEY, "Authorization", c->bearer,
          CT_JSON, NULL);
    assert_int_equal(t.resp.status, 413);
    t_done(&t);
}

static void test_idempotency(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    char body[512], id[32];
    book_body(body, sizeof(body), "MSIL-PUNE-003", TOMORROW, "15:00");
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, "Idempotency-Key", "k-1", NULL);
    assert_int_equal(t.resp.status, 201);
    snprintf(id, sizeof(id), "%s", t_str(&t, "booking_id"));
    t_done(&t);
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, "Idempotency-Key", "k-1", NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "booking_id"), id);
    assert_string_equal(gw_mockapim_resp_get_header(&t.resp, "Idempotent-Replayed"), "true");
    t_done(&t);
    book_body(body, sizeof(body), "MSIL-PUNE-003", TOMORROW, "15:30");
    t_run(c->app, &t, "POST", "/api/v1/bookings", body, H_KEY, "Authorization", c->bearer,
          CT_JSON, "Idempotency-Key", "k-1", NULL);
    assert_int_equal(t.resp.status, 422);
    assert_string_equal(t_str(&t, "error.code"), "IDEMPOTENCY_KEY_REUSED");
    t_done(&t);
    t_run(c->app, &t, "GET", "/api/v1/bookings?registration_number=MH12AB1234", NULL, H_KEY, NULL);
    assert_int_equal(t_int(&t, "count"), 1);
    t_done(&t);
}

static void test_persistence(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    assert_int_equal(create(c, &t, "MSIL-MUM-001", TOMORROW, "16:00"), 201);
    char id[32];
    snprintf(id, sizeof(id), "%s", t_str(&t, "booking_id"));
    t_done(&t);
    /* Reopen: the booking and the token survive; ids keep counting. */
    gw_mockapim_app_free(c->app);
    c->app = t_app(c->db, TODAY, 60);
    gw_mockapim_app_set_now(c->app, c->now);
    char url[96];
    snprintf(url, sizeof(url), "/api/v1/bookings/%s", id);
    t_run(c->app, &t, "GET", url, NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 200);
    t_done(&t);
    assert_int_equal(create(c, &t, "MSIL-MUM-001", TOMORROW, "16:30"), 201);
    assert_string_not_equal(t_str(&t, "booking_id"), id);
    t_done(&t);
    /* Reset: back to the demo data, ids start over. */
    gw_mockapim_app_free(c->app);
    struct gw_mockapim_config cfg = {.db_path = c->db, .token_ttl = 60, .faults_admin = true,
                                     .reset = true, .today = TODAY};
    struct gw_error err = {0};
    assert_int_equal(gw_mockapim_app_new(&cfg, &c->app, &err), GW_OK);
    gw_mockapim_app_set_now(c->app, c->now);
    t_run(c->app, &t, "GET", url, NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 404);
    t_done(&t);
    assert_int_equal(create(c, &t, "MSIL-MUM-001", TOMORROW, "16:00"), 401); /* tokens wiped */
    t_done(&t);
    get_token(c);
    assert_int_equal(create(c, &t, "MSIL-MUM-001", TOMORROW, "16:00"), 201);
    assert_string_equal(t_str(&t, "booking_id"), "BK-2026-000101");
    t_done(&t);
}

static const char dms_book[] =
    "{\"regNo\":\"DL3CCA1985\",\"dealerCode\":\"10744\",\"locCode\":\"OKF\","
    "\"appointmentDate\":\"03-MAR-2026\",\"slotCode\":\"1100-1300\",\"slotTimeCode\":"
    "\"1230-1245\",\"appointmentTypeCode\":\"PRM\",\"srvTypeCode\":\"RR\",\"currentSaCode\":"
    "\"0147\",\"odoMeter\":\"65000\",\"userId\":\"vinod.okf\",\"mobileNo\":\"9811122233\","
    "\"pickUpType\":\"SELF\"}";

static void test_dms(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    t_run(c->app, &t, "POST", DMS "/appointment-booking", dms_book, H_KEY, "Authorization",
          c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_true(json_is_false(t_get(t.resp.json, "error")));
    assert_true(json_is_null(t_get(t.resp.json, "errors")));
    assert_string_equal(t_str(&t, "data.appointmentNo"), "SB22005901");
    assert_string_equal(t_str(&t, "data.appointmentDate"), "03-MAR-2026");
    assert_string_equal(t_str(&t, "data.status"), "BOOKED");
    assert_string_equal(t_str(&t, "data.pickUpType"), "SELF");
    assert_string_equal(t_str(&t, "data.dealerName"), "Vipul Maruti - Okhla");
    assert_non_null(gw_mockapim_resp_get_header(&t.resp, "X-Content-Type-Options"));
    t_done(&t);
    /* The swagger's basePath-less alias and the bare token both work. */
    t_run(c->app, &t, "GET", "/v1/api/common/msil/dms/service-appointments?regNo=dl3cca1985", NULL,
          H_KEY, "Authorization", c->bearer + 7, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_int_equal(json_array_size(t_get(t.resp.json, "data")), 2); /* + the seeded one */
    assert_string_equal(t_str(&t, "data.0.appointmentNo"), "SB22005901");
    t_done(&t);
    /* Update: new slot time, odometer as the swagger's int32. */
    t_run(c->app, &t, "POST", DMS "/update-appointment-booking",
          "{\"appointmentNo\":\"SB22005901\",\"dealerCode\":10744,\"locCode\":\"OKF\","
          "\"slotCode\":\"1400-1600\",\"slotTimeCode\":\"1445-1500\",\"odoMeter\":65100,"
          "\"userId\":\"vinod.okf\"}",
          H_KEY, "Authorization", c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_true(json_is_false(t_get(t.resp.json, "error")));
    assert_string_equal(t_str(&t, "data.status"), "UPDATED");
    assert_string_equal(t_str(&t, "data.slotTimeCode"), "1445-1500");
    assert_string_equal(t_str(&t, "data.odoMeter"), "65100");
    t_done(&t);
    /* The swagger says POST for update: PUT is 405. */
    t_run(c->app, &t, "PUT", DMS "/update-appointment-booking", "{}", H_KEY, "Authorization",
          c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 405);
    assert_string_equal(gw_mockapim_resp_get_header(&t.resp, "Allow"), "POST");
    t_done(&t);
    /* Calendar shows the booking in its slot. */
    t_run(c->app, &t, "GET",
          DMS "/service-booking-calendar?parentGroup=VIPUL&date=2026-03-03&dealerMapCd=10744"
              "&locCd=OKF&slotCd=1445-1500",
          NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_true(json_is_true(t_get(t.resp.json, "data.isWorkingDay")));
    assert_int_equal(json_array_size(t_get(t.resp.json, "data.slots")), 1);
    assert_true(t_int(&t, "data.slots.0.booked") >= 1);
    t_done(&t);
    /* Cancel: missing query parameter is a 400 envelope; then success; then a business
     * failure at HTTP 200. */
    t_run(c->app, &t, "DELETE", DMS "/cancel-appointment-booking?appointmentNo=SB22005901",
          NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 400);
    assert_true(json_is_true(t_get(t.resp.json, "error")));
    assert_string_equal(t_str(&t, "errors.0.errorCode"), "VALIDATION_ERROR");
    t_done(&t);
    const char *cancel = DMS "/cancel-appointment-booking?appointmentNo=SB22005901&dealerCode="
                             "10744&locCd=OKF&userId=vinod.okf&cancelReason=RESCHEDULED";
    t_run(c->app, &t, "DELETE", cancel, NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "data.status"), "CANCELLED");
    t_done(&t);
    t_run(c->app, &t, "DELETE", cancel, NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_true(json_is_true(t_get(t.resp.json, "error")));
    assert_string_equal(t_str(&t, "errors.0.errorCode"), "APPOINTMENT_ALREADY_CANCELLED");
    assert_true(json_is_null(t_get(t.resp.json, "data")));
    t_done(&t);
    t_run(c->app, &t, "POST", DMS "/update-appointment-booking",
          "{\"appointmentNo\":\"SB99999999\"}", H_KEY, "Authorization", c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "errors.0.errorCode"), "APPOINTMENT_NOT_FOUND");
    t_done(&t);
    /* The seeded, completed appointment cannot change. */
    t_run(c->app, &t, "DELETE",
          DMS "/cancel-appointment-booking?appointmentNo=SB22005900&dealerCode=10744&locCd=OKF"
              "&userId=vinod.okf&cancelReason=cancel",
          NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_string_equal(t_str(&t, "errors.0.errorCode"), "APPOINTMENT_NOT_MODIFIABLE");
    t_done(&t);
}

static void test_dms_rules(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    char body[1024];
    /* Every DMS appointment operation needs the token (the swagger's Authorization header). */
    t_run(c->app, &t, "POST", DMS "/appointment-booking", dms_book, H_KEY, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 401);
    assert_true(json_is_true(t_get(t.resp.json, "error")));
    assert_string_equal(t_str(&t, "errors.0.errorCode"), "TOKEN_MISSING");
    t_done(&t);
    t_run(c->app, &t, "GET", DMS "/appointment-cancel-reasons?pmc=1&reasonType=B", NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 401);
    t_done(&t);
    /* nearest-dealers needs only the key, as in the swagger. */
    t_run(c->app, &t, "GET",
          DMS "/nearest-dealers?latitude=28.5355&longitude=77.2750&distance=5000", NULL, H_KEY,
          NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "data.0.dealerMapCd"), "10744");
    t_done(&t);
    struct {
        const char *from, *to;
        int status;
        const char *code;
    } cases[] = {
        {"\"appointmentDate\":\"03-MAR-2026\"", "\"appointmentDate\":\"01-MAR-2026\"", 200,
         "INVALID_DATE"},
        {"\"appointmentDate\":\"03-MAR-2026\"", "\"appointmentDate\":\"08-MAR-2026\"", 200,
         "NON_WORKING_DAY"},
        {"\"appointmentDate\":\"03-MAR-2026\"", "\"appointmentDate\":\"3/3/2026\"", 400,
         "VALIDATION_ERROR"},
        {"\"locCode\":\"OKF\"", "\"locCode\":\"XYZ\"", 200, "DEALER_NOT_FOUND"},
        {"\"slotTimeCode\":\"1230-1245\"", "\"slotTimeCode\":\"0900-0915\"", 200, "INVALID_SLOT"},
        {"\"odoMeter\":\"65000\"", "\"odoMeter\":65000", 400, "VALIDATION_ERROR"},
        {"\"userId\":\"vinod.okf\",", "", 400, "VALIDATION_ERROR"},
        {"\"userId\":\"vinod.okf\"",
         "\"userId\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", 400,
         "VALIDATION_ERROR"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *at = strstr(dms_book, cases[i].from);
        assert_non_null(at);
        snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - dms_book), dms_book, cases[i].to,
                 at + strlen(cases[i].from));
        t_run(c->app, &t, "POST", DMS "/appointment-booking", body, H_KEY, "Authorization",
              c->bearer, CT_JSON, NULL);
        if (t.resp.status != cases[i].status ||
            strcmp(t_str(&t, "errors.0.errorCode"), cases[i].code) != 0)
            fail_msg("case %zu: got %d %s", i, t.resp.status, t_str(&t, "errors.0.errorCode"));
        t_done(&t);
    }
    /* Hyperlocal needs psfNum and regNo. */
    t_run(c->app, &t, "POST", DMS "/appointment-booking-hyperlocal", dms_book, H_KEY,
          "Authorization", c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 400);
    t_done(&t);
    snprintf(body, sizeof(body), "%.*s,\"psfNum\":\"123\"}", (int)strlen(dms_book) - 1, dms_book);
    t_run(c->app, &t, "POST", DMS "/appointment-booking-hyperlocal", body, H_KEY, "Authorization",
          c->bearer, CT_JSON, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "data.psfNum"), "123");
    t_done(&t);
    /* Slot capacity: fill 1230-1245 at OKF tomorrow, then SLOT_NOT_AVAILABLE. */
    int ok = 0;
    for (int i = 0; i < 5; i++) {
        t_run(c->app, &t, "POST", DMS "/appointment-booking", dms_book, H_KEY, "Authorization",
              c->bearer, CT_JSON, NULL);
        if (json_is_false(t_get(t.resp.json, "error"))) {
            ok++;
        } else {
            assert_string_equal(t_str(&t, "errors.0.errorCode"), "SLOT_NOT_AVAILABLE");
            assert_int_equal(t.resp.status, 200);
        }
        t_done(&t);
    }
    assert_true(ok < 5);
    /* Reference lists and the reminder run. */
    t_run(c->app, &t, "GET", DMS "/appointment-cancel-reasons?pmc=1&reasonType=B", NULL, H_KEY,
          "Authorization", c->bearer, NULL);
    assert_int_equal(json_array_size(t_get(t.resp.json, "data")), 7);
    t_done(&t);
    t_run(c->app, &t, "GET", DMS "/appointment-cancel-reasons?pmc=1", NULL, H_KEY,
          "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 400);
    t_done(&t);
    t_run(c->app, &t, "GET", DMS "/appointment-remainder?source=MSILDM", NULL, H_KEY,
          "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    long sent = (long)t_int(&t, "data.remindersSent");
    assert_true(sent >= 2);
    t_done(&t);
    t_run(c->app, &t, "GET", DMS "/appointment-remainder?source=MSILDM", NULL, H_KEY,
          "Authorization", c->bearer, NULL);
    assert_int_equal(t_int(&t, "data.remindersSent"), 0);
    t_done(&t);
    t_run(c->app, &t, "GET",
          DMS "/service-details?fuelType=PET&model=XL&variantCd=XLA4AZ1&city=08&channel=NRM"
              "&serviceType=PMS&subServiceType=PMS2",
          NULL, H_KEY, "Authorization", c->bearer, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_true(json_real_value(t_get(t.resp.json, "data.totalAmount")) > 1000);
    t_done(&t);
    t_run(c->app, &t, "GET", DMS "/service-advisor-list?dealerMapCd=10744&locCd=OKF", NULL,
          H_KEY, "Authorization", c->bearer, NULL);
    assert_string_equal(t_str(&t, "data.0.saCode"), "0147");
    t_done(&t);
    /* Operations of the swagger that the mock does not implement say so. */
    t_run(c->app, &t, "GET", DMS "/gm-mod-list", NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 501);
    assert_string_equal(t_str(&t, "errors.0.errorCode"), "NOT_IMPLEMENTED");
    t_done(&t);
}

static void test_admin(void **state)
{
    struct ctx *c = *state;
    struct t_call t;
    t_run(c->app, &t, "GET", "/health", NULL, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "today"), TODAY);
    t_done(&t);
    t_run(c->app, &t, "POST", "/__mock/faults",
          "{\"mode\":\"latency\",\"ms\":500,\"paths\":\"/api/*\",\"count\":3}", CT_JSON, NULL);
    assert_int_equal(t.resp.status, 201);
    assert_int_equal(t_int(&t, "id"), 1);
    t_done(&t);
    t_run(c->app, &t, "POST", "/__mock/faults",
          "[{\"mode\":\"error\",\"status\":503},{\"mode\":\"reset\",\"probability\":0.1}]",
          CT_JSON, NULL);
    assert_int_equal(t.resp.status, 201);
    assert_int_equal(json_array_size(t_get(t.resp.json, "faults")), 3);
    t_done(&t);
    t_run(c->app, &t, "POST", "/__mock/faults", "{\"mode\":\"latency\",\"ms\":\"soon\"}", CT_JSON,
          NULL);
    assert_int_equal(t.resp.status, 400);
    assert_string_equal(t_str(&t, "error.code"), "INVALID_FAULT");
    t_done(&t);
    t_run(c->app, &t, "DELETE", "/__mock/faults/2", NULL, NULL);
    assert_int_equal(json_array_size(t_get(t.resp.json, "faults")), 2);
    t_done(&t);
    t_run(c->app, &t, "DELETE", "/__mock/faults/2", NULL, NULL);
    assert_int_equal(t.resp.status, 404);
    t_done(&t);
    t_run(c->app, &t, "POST", "/__mock/faults", "{\"mode\":\"off\"}", CT_JSON, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_int_equal(json_array_size(t_get(t.resp.json, "faults")), 0);
    t_done(&t);
    t_run(c->app, &t, "OPTIONS", "/api/v1/bookings", NULL, NULL);
    assert_int_equal(t.resp.status, 204);
    t_done(&t);
    t_run(c->app, &t, "GET", "/nope", NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 404);
    t_done(&t);
    t_run(c->app, &t, "DELETE", "/api/v1/bookings/BK-2026-000101", NULL, H_KEY, NULL);
    assert_int_equal(t.resp.status, 405);
    t_done(&t);
    t_run(c->app, &t, "GET", "/openapi/service-booking.json", NULL, NULL);
    assert_int_equal(t.resp.status, 200);
    assert_string_equal(t_str(&t, "openapi"), "3.0.3");
    t_done(&t);
    /* With the faults admin off, the switch is not there at all. */
    char db2[512];
    t_db_path(db2, sizeof(db2), "admin-off");
    struct gw_mockapim_config cfg = {.db_path = db2, .token_ttl = 60, .faults_admin = false};
    struct gw_mockapim_app *app2 = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_mockapim_app_new(&cfg, &app2, &err), GW_OK);
    t_run(app2, &t, "POST", "/__mock/faults", "{\"mode\":\"reset\"}", CT_JSON, NULL);
    assert_int_equal(t.resp.status, 404);
    t_done(&t);
    t_run(app2, &t, "POST", "/__mock/reset", NULL, NULL);
    assert_int_equal(t.resp.status, 404);
    t_done(&t);
    t_run(app2, &t, "GET", "/__mock/stats", NULL, NULL);
    assert_int_equal(t.resp.status, 200);
    t_done(&t);
    gw_mockapim_app_free(app2);
    t_db_remove(db2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_journey, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dms_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
