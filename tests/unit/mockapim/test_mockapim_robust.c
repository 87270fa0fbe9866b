/*
 * tests/unit/mockapim/test_mockapim_robust.c
 * Hostile input, deterministic: thousands of mutated requests (bit flips, truncation, inserted
 * quotes, brackets, NULs, huge numbers) built from valid ones of every route, plus mutated
 * fault rules, dates, registration numbers and YAML. Every request must get a well-formed
 * answer (status 100..599 and a body) and nothing may crash; under the ASan build this also
 * proves there is no memory error or leak on these paths. (The mock's parsers live outside
 * src/, so this stands in for a fuzz target; the seed is fixed so failures reproduce.)
 */
#include "mockapim_test.h"

#include "mockapim_data.h"
#include "mockapim_date.h"
#include "mockapim_faults.h"
#include "mockapim_yaml.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static uint64_t rng = 0x5eed;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Mutates s in place (keeping it NUL-terminated within cap). */
static void mutate(char *s, size_t cap)
{
    static const char inserts[] = "\"{}[],:\\\x01\xff\xc3 -.9eE+/%&=?*'";
    size_t n = strlen(s);
    int ops = 1 + (int)(next() % 4);
    for (int k = 0; k < ops; k++) {
        switch (next() % 5) {
        case 0: /* flip a byte */
            if (n)
                s[next() % n] ^= (char)(1u << (next() % 7));
            break;
        case 1: /* truncate */
            if (n)
                s[n = next() % n] = '\0';
            break;
        case 2: /* insert a special character */
            if (n + 2 < cap) {
                size_t at = n ? next() % n : 0;
                memmove(s + at + 1, s + at, n - at + 1);
                s[at] = inserts[next() % (sizeof(inserts) - 1)];
                n++;
            }
            break;
        case 3: /* duplicate a chunk */
            if (n && n * 2 + 1 < cap) {
                size_t at = next() % n;
                memmove(s + n, s + at, n - at);
                n += n - at;
                s[n] = '\0';
            }
            break;
        default: /* a long number */
            if (n + 24 < cap) {
                memcpy(s + n, "99999999999999999999", 20);
                n += 20;
                s[n] = '\0';
            }
        }
        n = strlen(s);
    }
}

static void test_mutated_requests(void **state)
{
    (void)state;
    char db[512], bearer[128];
    t_db_path(db, sizeof(db), "robust");
    struct gw_mockapim_app *app = t_app(db, "2026-03-02", 3600);
    gw_mockapim_app_set_now(app, (long long)gw_mockapim_date_days(2026, 3, 2) * 86400);
    struct t_call c;
    t_run(app, &c, "POST", "/oauth2/token",
          "grant_type=client_credentials&client_id=mock-gateway&client_secret=mock-gateway-secret",
          "Content-Type", "application/x-www-form-urlencoded", NULL);
    snprintf(bearer, sizeof(bearer), "Bearer %s", t_str(&c, "access_token"));
    t_done(&c);
    static const struct {
        const char *method, *url, *body;
    } seeds[] = {
        {"GET", "/api/v1/customers/resolve?mobile=9876543210", NULL},
        {"GET", "/api/v1/vehicles/resolve?registration_number=MH12AB1234", NULL},
        {"GET", "/api/v1/dealers/nearby?location=Hinjewadi,+Pune&radius_km=30&limit=3", NULL},
        {"GET", "/api/v1/dealers/nearby?latitude=18.59&longitude=73.73", NULL},
        {"GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=2026-03-03&service_type=express", NULL},
        {"POST", "/api/v1/bookings",
         "{\"mobile\":\"9876543210\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":"
         "\"MSIL-PUNE-001\",\"date\":\"2026-03-03\",\"time\":\"10:00\",\"notes\":\"x\"}"},
        {"GET", "/api/v1/bookings?mobile=9876543210&status=CONFIRMED", NULL},
        {"GET", "/api/v1/bookings/BK-2026-000101", NULL},
        {"POST", "/api/v1/bookings/BK-2026-000101/cancel", "{\"reason\":\"r\"}"},
        {"POST", "/dms/v1/api/common/msil/dms/appointment-booking",
         "{\"regNo\":\"DL3CCA1985\",\"dealerCode\":\"10744\",\"locCode\":\"OKF\","
         "\"appointmentDate\":\"03-MAR-2026\",\"slotCode\":\"1100-1300\",\"slotTimeCode\":"
         "\"1230-1245\",\"appointmentTypeCode\":\"PRM\",\"srvTypeCode\":\"RR\",\"currentSaCode\":"
         "\"0147\",\"odoMeter\":\"65000\",\"userId\":\"vinod.okf\",\"pickUpType\":\"S\"}"},
        {"POST", "/dms/v1/api/common/msil/dms/update-appointment-booking",
         "{\"appointmentNo\":\"SB22005901\",\"dealerCode\":10744,\"slotCode\":\"1400-1600\","
         "\"slotTimeCode\":\"1445-1500\",\"odoMeter\":65100,\"dropTime\":\"x\"}"},
        {"DELETE", "/dms/v1/api/common/msil/dms/cancel-appointment-booking?appointmentNo="
                   "SB22005901&dealerCode=10744&locCd=OKF&userId=u&cancelReason=c", NULL},
        {"GET", "/dms/v1/api/common/msil/dms/service-booking-calendar?parentGroup=V&date="
                "2026-03-03&dealerMapCd=10744&locCd=OKF&slotCd=1100-1300", NULL},
        {"GET", "/dms/v1/api/common/msil/dms/service-details?fuelType=CNG&model=XL&variantCd=A"
                "&city=08&channel=NRM&serviceType=PMS&subServiceType=PMS12&sez=N", NULL},
        {"GET", "/dms/v1/api/common/msil/dms/nearest-dealers?latitude=28.5&longitude=77.2"
                "&distance=20000", NULL},
        {"GET", "/dms/v1/api/common/msil/dms/service-appointments?regNo=DL3CCA1985", NULL},
        {"GET", "/dms/v1/api/common/msil/dms/appointment-remainder?source=MSILDM", NULL},
        {"POST", "/__mock/faults",
         "{\"mode\":\"latency\",\"ms\":5,\"paths\":[\"/x\"],\"count\":1}"},
        {"POST", "/oauth2/token", "grant_type=client_credentials&client_id=a&client_secret=b"},
    };
    const size_t nseeds = sizeof(seeds) / sizeof(seeds[0]);
    int statuses[6] = {0};
    for (int i = 0; i < 6000; i++) {
        size_t s = next() % nseeds;
        char url[1024], body[4096];
        snprintf(url, sizeof(url), "%s", seeds[s].url);
        snprintf(body, sizeof(body), "%s", seeds[s].body ? seeds[s].body : "");
        if (next() % 2)
            mutate(body, sizeof(body));
        else
            mutate(url, sizeof(url));
        if (url[0] != '/')
            url[0] = '/';
        const char *ct = strncmp(url, "/oauth2", 7) == 0 ? "application/x-www-form-urlencoded"
                                                         : "application/json";
        t_run(app, &c, seeds[s].method, url, body[0] ? body : NULL, "x-api-key", T_KEY,
              "Authorization", bearer, "Content-Type", ct, "Idempotency-Key",
              (i % 7 == 0) ? "robust-key" : NULL, NULL);
        if (c.resp.status < 100 || c.resp.status > 599 ||
            (c.resp.status != 204 && !c.resp.json && !c.resp.raw))
            fail_msg("iteration %d: %s %s -> status %d without a body", i, seeds[s].method, url,
                     c.resp.status);
        statuses[c.resp.status / 100]++;
        if (c.resp.status == 500)
            fail_msg("iteration %d: %s %s -> 500", i, seeds[s].method, url);
        t_done(&c);
        if (i % 500 == 0) { /* keep the fault list from filling up */
            t_run(app, &c, "DELETE", "/__mock/faults", NULL, NULL);
            t_done(&c);
        }
    }
    /* The mutations reach both the success and the error paths. */
    assert_true(statuses[2] > 100);
    assert_true(statuses[4] > 100);
    gw_mockapim_app_free(app);
    t_db_remove(db);
}

static void test_mutated_parsers(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "mode=latency,ms=500,paths=/api/*,probability=0.5,count=3,methods=GET",
        "{\"mode\":\"oversized\",\"size_mb\":0.5,\"paths\":[\"/a\",\"/b\"]}",
        "2026-03-02", "25-JUL-2022", "MH 12 AB 1234", "+91 98765 43210", "Hinjewadi, Pune",
        "a: [1, {b: 'c'}, ~]\nd: &x {e: *x}\n",
    };
    struct gw_mockapim_faults *f = gw_mockapim_faults_new(1);
    for (int i = 0; i < 20000; i++) {
        char s[512], out[64];
        long days;
        int id;
        struct gw_error err = {0};
        snprintf(s, sizeof(s), "%s", seeds[next() % (sizeof(seeds) / sizeof(seeds[0]))]);
        mutate(s, sizeof(s));
        if (gw_mockapim_faults_add_text(f, s, &id, &err) != GW_OK)
            assert_true(err.msg[0] != '\0');
        if (i % 16 == 0)
            gw_mockapim_faults_clear(f);
        gw_mockapim_date_parse_any(s, &days);
        if (gw_mockapim_regno_normalise(s, out, sizeof(out)) == GW_OK)
            assert_true(strlen(out) >= 8 && strlen(out) <= 11);
        if (gw_mockapim_mobile_normalise(s, out, sizeof(out)) == GW_OK)
            assert_int_equal(strlen(out), 10);
        gw_mockapim_place_find(s);
        json_t *doc = NULL;
        if (gw_mockapim_yaml_to_json(s, strlen(s), &doc, &err) == GW_OK)
            json_decref(doc);
    }
    gw_mockapim_faults_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_requests),
        cmocka_unit_test(test_mutated_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
