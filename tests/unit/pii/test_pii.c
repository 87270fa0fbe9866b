/*
 * tests/unit/pii/test_pii.c
 * The PII masker against its corpus (tests/unit/pii/pii-corpus.json): every true positive is
 * replaced by a pseudonym of its type and its raw value is gone; the service-booking journey's
 * ordinary fields and near misses (bad check digits, lengths, identifiers) pass unchanged;
 * pseudonyms are consistent per key, differ across keys and are not re-detected; JSON masking
 * (fields masked or redacted at any depth, numbers that are phone numbers, keys kept); the
 * check-digit functions on known values; the log filter masks diagnostic lines; bad patterns
 * are refused with a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/log.h"
#include "pii/pii.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcdef";

static struct gw_pii *make(bool vehicle, const char *patterns)
{
    struct gw_pii_options o = {KEY, sizeof(KEY), vehicle, "phone,mobile_number,email",
                               "password,otp", patterns};
    struct gw_pii *p = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_pii_new(&o, &p, &err), GW_OK);
    return p;
}

static char *mask(struct gw_pii *p, const char *s, unsigned *count)
{
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    gw_pii_mask_text(p, s, strlen(s), &b, count);
    return gw_buf_take(&b, NULL);
}

static json_t *corpus(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/unit/pii/pii-corpus.json", getenv("GW_SOURCE_DIR"));
    json_error_t e;
    json_t *c = json_load_file(path, 0, &e);
    if (!c)
        fail_msg("corpus: %s", e.text);
    return c;
}

static void test_check_digits(void **state)
{
    (void)state;
    assert_true(gw_pii_verhoeff_ok("2363", 4));
    assert_false(gw_pii_verhoeff_ok("2364", 4));
    assert_true(gw_pii_verhoeff_ok("234123412346", 12));
    assert_false(gw_pii_verhoeff_ok("234123412345", 12));
    assert_true(gw_pii_luhn_ok("4111111111111111", 16));
    assert_true(gw_pii_luhn_ok("79927398713", 11));
    assert_false(gw_pii_luhn_ok("4111111111111112", 16));
    assert_false(gw_pii_luhn_ok("41a1", 4));
}

static void test_corpus_positives(void **state)
{
    (void)state;
    json_t *c = corpus();
    struct gw_pii *p = make(false, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(c, "positive"), i, e)
    {
        const char *text = json_string_value(json_object_get(e, "text"));
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *raw = json_string_value(json_object_get(e, "raw"));
        unsigned n = 0;
        char *out = mask(p, text, &n);
        char want[64];
        snprintf(want, sizeof(want), "[%s:", type);
        if (n == 0 || strstr(out, raw) || !strstr(out, want))
            fail_msg("positive %zu not masked as %s: '%s' -> '%s'", i, type, text, out);
        /* idempotent: a masked text has nothing left to mask */
        unsigned again = 0;
        char *out2 = mask(p, out, &again);
        assert_int_equal(again, 0);
        assert_string_equal(out, out2);
        free(out2); /* checksrc: allow */
        free(out);  /* checksrc: allow */
    }
    gw_pii_free(p);
    json_decref(c);
}

static void test_corpus_negatives(void **state)
{
    (void)state;
    json_t *c = corpus();
    for (int vehicle = 0; vehicle < 2; vehicle++) { /* vehicle masking is on by default */
        struct gw_pii *p = make(vehicle, NULL);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(c, "negative"), i, e)
        {
            const char *text = json_string_value(e);
            unsigned n = 0;
            char *out = mask(p, text, &n);
            if (n != 0 || strcmp(out, text) != 0)
                fail_msg("false positive %zu (vehicle %d): '%s' -> '%s'", i, vehicle, text, out);
            free(out); /* checksrc: allow */
        }
        gw_pii_free(p);
    }
    json_decref(c);
}

static void test_vehicle_when_configured(void **state)
{
    (void)state;
    json_t *c = corpus();
    struct gw_pii *on = make(true, NULL), *off = make(false, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(c, "vehicle"), i, e)
    {
        const char *text = json_string_value(json_object_get(e, "text"));
        const char *raw = json_string_value(json_object_get(e, "raw"));
        unsigned n = 0;
        char *out = mask(on, text, &n);
        if (n == 0 || strstr(out, raw) || !strstr(out, "[vehicle:"))
            fail_msg("vehicle %zu not masked: '%s' -> '%s'", i, text, out);
        free(out); /* checksrc: allow */
        n = 0;
        out = mask(off, text, &n);
        assert_string_equal(out, text);
        free(out); /* checksrc: allow */
    }
    /* the same registration written differently is the same pseudonym */
    char *a = mask(on, "MH12AB1234", NULL), *b = mask(on, "mh-12-ab-1234", NULL);
    assert_string_equal(a, b);
    free(a); /* checksrc: allow */
    free(b); /* checksrc: allow */
    gw_pii_free(on);
    gw_pii_free(off);
    json_decref(c);
}

static void test_pseudonyms(void **state)
{
    (void)state;
    struct gw_pii *p = make(false, NULL);
    char *a = mask(p, "9876543210", NULL), *b = mask(p, "+91 98765 43210", NULL);
    assert_string_equal(a, b); /* the same number, however written */
    char *c = mask(p, "9876543211", NULL);
    assert_string_not_equal(a, c);
    struct gw_pii_options o = {(const unsigned char *)"another key of 32 bytes, really", 32,
                               false, "", "", NULL};
    struct gw_pii *q = NULL;
    assert_int_equal(gw_pii_new(&o, &q, NULL), GW_OK);
    char *d = mask(q, "9876543210", NULL);
    assert_string_not_equal(a, d); /* another key, another pseudonym */
    free(a);                       /* checksrc: allow */
    free(b);                       /* checksrc: allow */
    free(c);                       /* checksrc: allow */
    free(d);                       /* checksrc: allow */
    gw_pii_free(q);
    gw_pii_free(p);
}

/* HMAC-SHA256 through OpenSSL's one-shot form: the reference for gw_pii_hmac. */
static void reference_hmac(const unsigned char *key, size_t klen, const char *data,
                           unsigned char out[32])
{
    unsigned l = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, strlen(data), out, &l);
}

static void assert_hmac(const struct gw_pii *p, const unsigned char *key, size_t klen,
                        const char *data)
{
    unsigned char got[32], want[32];
    gw_pii_hmac(p, data, strlen(data), got);
    reference_hmac(key, klen, data, want);
    assert_memory_equal(got, want, 32);
}

static const unsigned char KEY2[32] = "another key of 32 bytes, really";

static void *hmac_in_thread(void *arg)
{
    const struct gw_pii *p = arg;
    for (int i = 0; i < 3; i++)
        assert_hmac(p, KEY, sizeof(KEY), "from another thread");
    return NULL;
}

/* Digests are HMAC-SHA256 with the masker's key however they are interleaved: repeated on one
 * thread (each thread re-initialises its own copy of the keyed context), alternating between
 * two maskers, on another thread, and after a masker is freed and another one (likely at the
 * same address) takes its place with a different key. */
static void test_hmac_reference(void **state)
{
    (void)state;
    struct gw_pii *p = make(false, NULL);
    struct gw_pii_options o = {KEY2, sizeof(KEY2), false, "", "", NULL};
    struct gw_pii *q = NULL;
    assert_int_equal(gw_pii_new(&o, &q, NULL), GW_OK);
    for (int i = 0; i < 3; i++) {
        assert_hmac(p, KEY, sizeof(KEY), "booking 42");
        assert_hmac(p, KEY, sizeof(KEY), "");
        assert_hmac(q, KEY2, sizeof(KEY2), "booking 42");
    }
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hmac_in_thread, p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_hmac(p, KEY, sizeof(KEY), "booking 42");
    gw_pii_free(p);
    assert_int_equal(gw_pii_new(&o, &p, NULL), GW_OK); /* the other key, maybe the old address */
    assert_hmac(p, KEY2, sizeof(KEY2), "booking 42");
    gw_pii_free(q);
    gw_pii_free(p);
}

static void test_json(void **state)
{
    (void)state;
    struct gw_pii *p = make(false, NULL);
    json_error_t e;
    json_t *in = json_loads("{\"Mobile_Number\":9876543210,\"note\":\"mail ravi@x.co.in\","
                            "\"nested\":[{\"password\":\"hunter2\",\"otp\":123456}],"
                            "\"n\":9876543210,\"date\":\"2026-07-28\",\"amount\":1234.5,"
                            "\"id\":12345}",
                            0, &e);
    unsigned n = 0;
    json_t *out = gw_pii_mask_json(p, in, &n);
    char *s = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    assert_null(strstr(s, "9876543210"));
    assert_null(strstr(s, "ravi@"));
    assert_null(strstr(s, "hunter2"));
    assert_null(strstr(s, "123456"));
    assert_non_null(strstr(s, "\"password\":\"[redacted]\""));
    assert_non_null(strstr(s, "\"Mobile_Number\":\"[mobilenumber:"));
    assert_non_null(strstr(s, "\"n\":\"[phone:"));
    assert_non_null(strstr(s, "\"date\":\"2026-07-28\""));
    assert_non_null(strstr(s, "\"amount\":1234.5"));
    assert_non_null(strstr(s, "\"id\":12345"));
    assert_int_equal(n, 5);
    free(s); /* checksrc: allow */
    json_decref(out);
    json_decref(in);
    gw_pii_free(p);
}

static void test_patterns(void **state)
{
    (void)state;
    struct gw_pii *p = make(false, "custid=CUST[0-9]{8};vin=\\bMA3[A-Z0-9]{14}\\b");
    unsigned n = 0;
    char *out = mask(p, "customer CUST12345678 vin MA3ERLF1S00123456", &n);
    assert_int_equal(n, 2);
    assert_non_null(strstr(out, "[custid:"));
    assert_non_null(strstr(out, "[vin:"));
    assert_null(strstr(out, "CUST1234"));
    free(out); /* checksrc: allow */
    gw_pii_free(p);
    /* the vehicle pattern is skipped over text without four digits in a row (none of its
     * matches lacks them); an operator's pattern always runs, before or after it */
    p = make(true, "code=\\bZZ[A-Z]{3}\\b");
    n = 0; /* counts add up */
    out = mask(p, "code ZZABC only", &n);
    assert_int_equal(n, 1);
    assert_string_equal(strstr(out, "[code:") ? "ok" : out, "ok");
    free(out); /* checksrc: allow */
    n = 0;
    out = mask(p, "ZZABC drove MH 12 AB 1234 for a@b.example, MH12AB123 is no plate", &n);
    assert_int_equal(n, 3);
    assert_non_null(strstr(out, "[vehicle:"));
    assert_non_null(strstr(out, "[email:"));
    assert_non_null(strstr(out, "MH12AB123 is no plate"));
    assert_null(strstr(out, "1234"));
    free(out); /* checksrc: allow */
    gw_pii_free(p);
    struct gw_pii_options o = {KEY, sizeof(KEY), false, "", "", "bad=("};
    struct gw_error err = {0};
    struct gw_pii *q = NULL;
    assert_int_equal(gw_pii_new(&o, &q, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "bad"));
    o.patterns = "noequals";
    assert_int_equal(gw_pii_new(&o, &q, &err), GW_EINVAL);
    o.patterns = NULL;
    o.key_len = 8;
    assert_int_equal(gw_pii_new(&o, &q, &err), GW_EINVAL);
}

static void test_log_filter(void **state)
{
    (void)state;
    struct gw_pii *p = make(false, NULL);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    gw_log_configure(GW_LOG_INFO, true, fds[1]);
    gw_pii_log_filter_install(p);
    GW_LOG(GW_LOG_INFO, "test", "upstream said: customer 9876543210 <a.b@c.com> PAN ABCPE1234F");
    gw_pii_log_filter_remove();
    GW_LOG(GW_LOG_INFO, "test", "after removal 9876543210");
    char buf[4096] = {0};
    ssize_t r = read(fds[0], buf, sizeof(buf) - 1);
    assert_true(r > 0);
    char *second = strstr(buf, "after removal");
    assert_non_null(second);
    *second = '\0';
    assert_null(strstr(buf, "9876543210"));
    assert_null(strstr(buf, "a.b@c.com"));
    assert_null(strstr(buf, "ABCPE1234F"));
    assert_non_null(strstr(buf, "[phone:"));
    assert_non_null(strstr(second + 1, "9876543210") ? "" : NULL);
    gw_log_configure(GW_LOG_INFO, true, 2);
    close(fds[0]);
    close(fds[1]);
    gw_pii_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_digits),    cmocka_unit_test(test_corpus_positives),
        cmocka_unit_test(test_corpus_negatives), cmocka_unit_test(test_vehicle_when_configured),
        cmocka_unit_test(test_pseudonyms),
        cmocka_unit_test(test_hmac_reference),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_patterns),        cmocka_unit_test(test_log_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
