/*
 * tests/unit/mockapim/test_mockapim_data.c
 * The mock's pure modules: calendar arithmetic (IST, both date spellings), input
 * normalisation (mobile numbers, registration numbers), place resolution for "Hinjewadi,
 * Pune"-style text, distances, and the determinism of seeded slot occupancy (fixed FNV-1a
 * values, so a per-process salted hash like the prior mock's would fail here).
 */
#include "core/err.h"
#include "mockapim_data.h"
#include "mockapim_date.h"
#include "mockapim_faults.h"
#include "mockapim_stats.h"
#include "mockapim_yaml.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void test_date_roundtrip(void **state)
{
    (void)state;
    assert_int_equal(gw_mockapim_date_days(1970, 1, 1), 0);
    assert_int_equal(gw_mockapim_date_days(2000, 3, 1), 11017);
    assert_int_equal(gw_mockapim_date_weekday(0), 4); /* Thursday */
    for (long d = -1000; d < 40000; d += 7) {
        int y, m, dd;
        gw_mockapim_date_civil(d, &y, &m, &dd);
        assert_int_equal(gw_mockapim_date_days(y, m, dd), d);
    }
    long days;
    assert_int_equal(gw_mockapim_date_parse_iso("2024-02-29", &days), GW_OK);
    assert_int_equal(gw_mockapim_date_parse_iso("2023-02-29", &days), GW_EINVAL);
    assert_int_equal(gw_mockapim_date_parse_iso("2026-13-01", &days), GW_EINVAL);
    assert_int_equal(gw_mockapim_date_parse_iso("2026-3-1", &days), GW_EINVAL);
    assert_int_equal(gw_mockapim_date_parse_iso("tomorrow", &days), GW_EINVAL);
    assert_int_equal(gw_mockapim_date_parse_dms("25-JUL-2022", &days), GW_OK);
    char buf[16];
    assert_string_equal(gw_mockapim_date_iso(days, buf, sizeof(buf)), "2022-07-25");
    assert_string_equal(gw_mockapim_date_dms(days, buf, sizeof(buf)), "25-JUL-2022");
    assert_string_equal(gw_mockapim_date_dayname(days), "Monday");
    assert_int_equal(gw_mockapim_date_parse_dms("25-jul-2022", &days), GW_OK);
    assert_int_equal(gw_mockapim_date_parse_dms("32-JUL-2022", &days), GW_EINVAL);
    assert_int_equal(gw_mockapim_date_parse_any("2022-07-25", &days), GW_OK);
}

static void test_ist_clock(void **state)
{
    (void)state;
    /* 2026-03-01T18:29:59Z is 23:59:59 IST on the 1st; one second later it is the 2nd. */
    long long t = (long long)gw_mockapim_date_days(2026, 3, 1) * 86400 + 18 * 3600 + 29 * 60 + 59;
    assert_int_equal(gw_mockapim_date_ist_days(t), gw_mockapim_date_days(2026, 3, 1));
    assert_int_equal(gw_mockapim_date_ist_minute(t), 23 * 60 + 59);
    assert_int_equal(gw_mockapim_date_ist_days(t + 1), gw_mockapim_date_days(2026, 3, 2));
    char ts[32];
    assert_string_equal(gw_mockapim_date_timestamp(t + 1, ts, sizeof(ts)),
                        "2026-03-02T00:00:00+05:30");
    int m;
    assert_int_equal(gw_mockapim_time_parse("10:00", &m), GW_OK);
    assert_int_equal(m, 600);
    assert_int_equal(gw_mockapim_time_parse("24:00", &m), GW_EINVAL);
    assert_int_equal(gw_mockapim_time_parse("10 AM", &m), GW_EINVAL);
}

static void test_mobile(void **state)
{
    (void)state;
    char out[16];
    const char *ok[] = {"9876543210", "+91 98765 43210", "919876543210", "09876543210",
                        "98765-43210", "(98765) 43210"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(gw_mockapim_mobile_normalise(ok[i], out, sizeof(out)), GW_OK);
        assert_string_equal(out, "9876543210");
    }
    const char *bad[] = {"", "12345", "5876543210", "98765432101234", "98765abc10",
                         "+1 987 654 3210"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gw_mockapim_mobile_normalise(bad[i], out, sizeof(out)), GW_EINVAL);
    assert_non_null(gw_mockapim_customer_by_mobile("9876543210"));
    assert_string_equal(gw_mockapim_customer_by_mobile("9876543210")->name, "Rahul Sharma");
    assert_null(gw_mockapim_customer_by_mobile("9000000000"));
    assert_non_null(gw_mockapim_customer_by_id("cust001234"));
}

static void test_regno(void **state)
{
    (void)state;
    char out[16];
    const char *ok[][2] = {{"MH12AB1234", "MH12AB1234"}, {"mh 12 ab 1234", "MH12AB1234"},
                           {"MH-12-AB-1234", "MH12AB1234"}, {"DL8CAB7890", "DL8CAB7890"},
                           {"KA01MN3456", "KA01MN3456"}, {"22BH1234AA", "22BH1234AA"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(gw_mockapim_regno_normalise(ok[i][0], out, sizeof(out)), GW_OK);
        assert_string_equal(out, ok[i][1]);
    }
    const char *bad[] = {"", "MH12", "1234ABCD", "MH12ABCD123", "MH12AB12345", "MH12AB1234';"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gw_mockapim_regno_normalise(bad[i], out, sizeof(out)), GW_EINVAL);
    /* Every demo vehicle's plate passes its own normalisation (the prior regex rejected
     * DL8CAB7890). */
    for (size_t i = 0; i < gw_mockapim_vehicle_count(); i++) {
        const char *r = gw_mockapim_vehicle_at(i)->registration_number;
        assert_int_equal(gw_mockapim_regno_normalise(r, out, sizeof(out)), GW_OK);
        assert_non_null(gw_mockapim_customer_by_id(gw_mockapim_vehicle_at(i)->owner_customer_id));
    }
}

static void test_places(void **state)
{
    (void)state;
    const struct gw_mockapim_place *p = gw_mockapim_place_find("Hinjewadi, Pune");
    assert_non_null(p);
    assert_string_equal(p->display, "Hinjewadi, Pune");
    assert_string_equal(gw_mockapim_place_find("near hinjawadi phase 1")->display,
                        "Hinjewadi, Pune");
    assert_string_equal(gw_mockapim_place_find("PUNE")->display, "Pune");
    assert_string_equal(gw_mockapim_place_find("Whitefield, Bengaluru")->city, "Bangalore");
    assert_string_equal(gw_mockapim_place_find("Viman Nagar")->display, "Viman Nagar, Pune");
    assert_string_equal(gw_mockapim_place_find("New Delhi")->city, "Delhi");
    assert_null(gw_mockapim_place_find("Paris"));
    assert_null(gw_mockapim_place_find("Punekar")); /* whole words only */
    /* Hinjewadi dealer is nearest to Hinjewadi; Pune-Mumbai is ~120 km. */
    const struct gw_mockapim_dealer *d = gw_mockapim_dealer_by_id("MSIL-PUNE-001");
    assert_true(gw_mockapim_distance_km(p->latitude, p->longitude, d->latitude, d->longitude) <
                1.5);
    double pm = gw_mockapim_distance_km(18.5204, 73.8567, 19.0760, 72.8777);
    assert_true(pm > 110 && pm < 130);
    /* Every dealer has DMS codes that find it again. */
    for (size_t i = 0; i < gw_mockapim_dealer_count(); i++) {
        const struct gw_mockapim_dealer *x = gw_mockapim_dealer_at(i);
        assert_ptr_equal(gw_mockapim_dealer_by_dms(x->dms_dealer_code, x->dms_loc_code), x);
        assert_ptr_equal(gw_mockapim_dealer_by_id(x->dealer_id), x);
    }
}

static void test_seeded_determinism(void **state)
{
    (void)state;
    /* FNV-1a 64 test vectors: a salted or per-process hash would differ. */
    assert_true(gw_mockapim_fnv1a("") == 0xcbf29ce484222325ULL);
    assert_true(gw_mockapim_fnv1a("a") == 0xaf63dc4c8601ec8cULL);
    /* Occupancy stays below capacity and is a pure function of its inputs. */
    for (size_t i = 0; i < gw_mockapim_slot_count(); i++) {
        const char *t = gw_mockapim_slot_time(i);
        int a = gw_mockapim_slot_seeded("MSIL-PUNE-001", "2026-03-03", t, 4);
        int b = gw_mockapim_slot_seeded("MSIL-PUNE-001", "2026-03-03", t, 4);
        assert_int_equal(a, b);
        assert_true(a >= 0 && a < 4);
    }
    assert_int_equal(gw_mockapim_slot_seeded("MSIL-PUNE-001", "2026-03-03", "10:00", 4),
                     (int)(gw_mockapim_fnv1a("MSIL-PUNE-001|2026-03-03|10:00") % 4));
    assert_int_equal(gw_mockapim_slot_seeded("x", "y", "z", 1), 0);
    assert_int_equal(gw_mockapim_slot_index("10:00"), 2);
    assert_int_equal(gw_mockapim_slot_index("13:00"), -1);
    assert_true(gw_mockapim_dms_slot_index("1100-1300", "1230-1245") >= 0);
    assert_int_equal(gw_mockapim_dms_slot_index("1100-1300", "0900-0915"), -1);
}

static void test_faults_rules(void **state)
{
    (void)state;
    struct gw_mockapim_faults *f = gw_mockapim_faults_new(7);
    struct gw_mockapim_fault out;
    struct gw_error err = {0};
    int id = 0;
    assert_false(gw_mockapim_faults_pick(f, "GET", "/api/v1/x", &out));
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=error,status=502,paths=/api/v1/bookings*,"
                                                    "count=2,methods=post", &id, &err), GW_OK);
    assert_false(gw_mockapim_faults_pick(f, "GET", "/api/v1/bookings", &out)); /* method */
    assert_false(gw_mockapim_faults_pick(f, "POST", "/health", &out));         /* path */
    assert_true(gw_mockapim_faults_pick(f, "POST", "/api/v1/bookings", &out));
    assert_int_equal(out.mode, GW_MOCKAPIM_FAULT_ERROR);
    assert_int_equal(out.status, 502);
    assert_true(gw_mockapim_faults_pick(f, "POST", "/api/v1/bookings/BK-1/cancel", &out));
    assert_false(gw_mockapim_faults_pick(f, "POST", "/api/v1/bookings", &out)); /* count used */
    /* Path lists survive the flag syntax. */
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=latency,ms=250,paths=/a,/b", &id, &err),
                     GW_OK);
    assert_true(gw_mockapim_faults_pick(f, "GET", "/b", &out));
    assert_int_equal(out.ms, 250);
    /* Bad rules are refused with a message naming the problem. */
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=explode", &id, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "explode"));
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=latency,ms=-5", &id, &err), GW_EINVAL);
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=error,sttaus=500", &id, &err),
                     GW_EINVAL);
    assert_int_equal(gw_mockapim_faults_add_text(f, "{\"mode\":\"oversized\",\"size_mb\":1000}",
                                                 &id, &err),
                     GW_EINVAL);
    /* Probability draws are reproducible for a seed. */
    gw_mockapim_faults_clear(f);
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=reset,probability=0.5", &id, &err),
                     GW_OK);
    int fired1 = 0, fired2 = 0;
    char pattern1[201] = "", pattern2[201] = "";
    for (int i = 0; i < 200; i++) {
        bool hit = gw_mockapim_faults_pick(f, "GET", "/x", &out);
        fired1 += hit;
        pattern1[i] = hit ? '1' : '0';
    }
    struct gw_mockapim_faults *g = gw_mockapim_faults_new(7);
    assert_int_equal(gw_mockapim_faults_add_text(g, "mode=reset,probability=0.5", &id, &err),
                     GW_OK);
    for (int i = 0; i < 200; i++) {
        bool hit = gw_mockapim_faults_pick(g, "GET", "/x", &out);
        fired2 += hit;
        pattern2[i] = hit ? '1' : '0';
    }
    assert_string_equal(pattern1, pattern2);
    assert_true(fired1 > 70 && fired1 < 130);
    assert_int_equal(fired1, fired2);
    /* Rule limit. */
    gw_mockapim_faults_clear(f);
    int last = 0;
    for (int i = 0; i < GW_MOCKAPIM_FAULTS_MAX; i++)
        assert_int_equal(gw_mockapim_faults_add_text(f, "mode=malformed", &last, &err), GW_OK);
    assert_int_equal(gw_mockapim_faults_add_text(f, "mode=malformed", &id, &err), GW_ELIMIT);
    assert_int_equal(gw_mockapim_faults_remove(f, last), GW_OK);
    assert_int_equal(gw_mockapim_faults_remove(f, last), GW_ENOTFOUND);
    gw_mockapim_faults_free(f);
    gw_mockapim_faults_free(g);
}

static void test_stats(void **state)
{
    (void)state;
    struct gw_mockapim_stats *s = gw_mockapim_stats_new();
    gw_mockapim_stats_request(s, "GET", "/a");
    gw_mockapim_stats_request(s, "GET", "/a");
    gw_mockapim_stats_request(s, "POST", "/a");
    assert_int_equal(gw_mockapim_stats_get(s, "GET", "/a"), 2);
    assert_int_equal(gw_mockapim_stats_get(s, "POST", "/a"), 1);
    assert_int_equal(gw_mockapim_stats_get(s, "PUT", "/a"), 0);
    /* Beyond the key limit, new keys are summed under "other"; the table never overflows. */
    char p[32];
    for (int i = 0; i < GW_MOCKAPIM_STATS_KEYS + 100; i++) {
        snprintf(p, sizeof(p), "/k/%d", i);
        gw_mockapim_stats_request(s, "GET", p);
    }
    json_t *j = gw_mockapim_stats_json(s);
    assert_int_equal(json_integer_value(json_object_get(j, "total")),
                     3 + GW_MOCKAPIM_STATS_KEYS + 100);
    assert_true(json_integer_value(json_object_get(json_object_get(j, "requests"), "other")) >=
                100);
    json_decref(j);
    gw_mockapim_stats_reset(s);
    assert_int_equal(gw_mockapim_stats_get(s, "GET", "/a"), 0);
    gw_mockapim_stats_free(s);
}

static void test_yaml(void **state)
{
    (void)state;
    json_t *doc = NULL;
    struct gw_error err = {0};
    const char *y = "a: 1\nb: [true, ~, 2.5, '7', x]\nc: {d: \"e\"}\n";
    assert_int_equal(gw_mockapim_yaml_to_json(y, strlen(y), &doc, &err), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(doc, "a")), 1);
    json_t *b = json_object_get(doc, "b");
    assert_true(json_is_true(json_array_get(b, 0)));
    assert_true(json_is_null(json_array_get(b, 1)));
    assert_true(json_is_real(json_array_get(b, 2)));
    assert_string_equal(json_string_value(json_array_get(b, 3)), "7");
    assert_string_equal(json_string_value(json_array_get(b, 4)), "x");
    json_decref(doc);
    const char *bad = "a: [1, 2\n";
    assert_int_equal(gw_mockapim_yaml_to_json(bad, strlen(bad), &doc, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "line"));
    /* A billion-laughs style alias bomb is stopped by the node limit. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    assert_int_equal(gw_mockapim_yaml_to_json(bomb, strlen(bomb), &doc, &err), GW_ELIMIT);
    assert_null(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_roundtrip),  cmocka_unit_test(test_ist_clock),
        cmocka_unit_test(test_mobile),          cmocka_unit_test(test_regno),
        cmocka_unit_test(test_places),          cmocka_unit_test(test_seeded_determinism),
        cmocka_unit_test(test_faults_rules),    cmocka_unit_test(test_stats),
        cmocka_unit_test(test_yaml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
