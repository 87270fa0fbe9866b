/*
 * tests/unit/core/test_b64.c
 * base64url without padding (core/b64.h): the RFC 4648 test vectors in the URL alphabet, the
 * URL-specific characters ('-' and '_' for 62 and 63), round trips of every length 0..300
 * with random bytes, gw_b64url_len, and rejection of what is not base64url: the standard
 * alphabet's '+' and '/', padding '=', impossible lengths (4k+1), foreign characters and
 * leading/trailing whitespace. Padded base64 (gw_b64_decode, RFC 4648 §4): the RFC's vectors,
 * round trips of OpenSSL's own encoder output, and rejection of what is not exactly that
 * (missing or misplaced padding, the URL alphabet, whitespace, data after '=').
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/b64.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static void test_vectors(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char enc[32];
        size_t n = gw_b64url_encode((const unsigned char *)in[i], strlen(in[i]), enc);
        assert_int_equal(n, strlen(out[i]));
        assert_string_equal(enc, out[i]);
        unsigned char dec[32];
        long m = gw_b64url_decode(out[i], strlen(out[i]), dec);
        assert_int_equal(m, (long)strlen(in[i]));
        assert_memory_equal(dec, in[i], strlen(in[i]));
    }
}

static void test_url_alphabet(void **state)
{
    (void)state;
    /* 0xfb 0xff 0xbf encodes to "+/+/" in the standard alphabet */
    const unsigned char in[] = {0xfb, 0xff, 0xbf, 0xfb, 0xef};
    char enc[16];
    size_t n = gw_b64url_encode(in, sizeof(in), enc);
    assert_string_equal(enc, "-_-_--8");
    assert_int_equal(n, 7);
    unsigned char dec[16];
    assert_int_equal(gw_b64url_decode(enc, n, dec), (long)sizeof(in));
    assert_memory_equal(dec, in, sizeof(in));
}

static void test_round_trips(void **state)
{
    (void)state;
    unsigned char in[300], dec[300 + 3];
    char enc[420]; /* >= gw_b64url_len(300) + 1 */
    for (size_t len = 0; len <= 300; len++) {
        RAND_bytes(in, (int)(len ? len : 1));
        size_t n = gw_b64url_encode(in, len, enc);
        assert_true(n <= gw_b64url_len(len));
        assert_int_equal(strlen(enc), n);
        for (size_t i = 0; i < n; i++) {
            char c = enc[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                fail_msg("length %zu: character %d ('%c') outside base64url", len, (int)i, c);
        }
        long m = gw_b64url_decode(enc, n, dec);
        assert_int_equal(m, (long)len);
        assert_memory_equal(dec, in, len);
    }
    assert_int_equal(gw_b64url_len(0), 0);
    assert_int_equal(gw_b64url_len(1), 4);
    assert_int_equal(gw_b64url_len(3), 4);
    assert_int_equal(gw_b64url_len(4), 8);
}

static void expect_bad(const char *s)
{
    unsigned char out[64];
    long m = gw_b64url_decode(s, strlen(s), out);
    if (m != -1)
        fail_msg("'%s' decoded to %ld bytes", s, m);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_bad("Zm9v+g");  /* standard alphabet */
    expect_bad("Zm9v/g");
    expect_bad("Zg==");    /* padding */
    expect_bad("Zm8=");
    expect_bad("Z");       /* 4k+1 characters cannot be base64 */
    expect_bad("Zm9vY");
    expect_bad("Zm9v!A");
    expect_bad("Zm 9vA");  /* embedded space */
    expect_bad("Zm9\nvA");
    expect_bad("Zm9v\x80" "g");
    expect_bad("Zm9v*A");
    /* whitespace the OpenSSL decoder would trim is not base64url either */
    expect_bad("    Zm9v");
    expect_bad("Zm9v    ");
    expect_bad("\t\t\t\tZm9vYmFy");
    expect_bad("Zm9v\r\n\r\n");
    unsigned char out[4];
    assert_int_equal(gw_b64url_decode("", 0, out), 0);
}

static void test_padded(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    unsigned char dec[32];
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        long m = gw_b64_decode(enc[i], strlen(enc[i]), dec);
        assert_int_equal(m, (long)strlen(in[i]));
        assert_memory_equal(dec, in[i], strlen(in[i]));
    }
    unsigned char raw[200], back[200];
    char text[300];
    for (size_t len = 0; len < sizeof(raw); len++) { /* OpenSSL's encoder is the reference */
        RAND_bytes(raw, (int)(len ? len : 1));
        int n = EVP_EncodeBlock((unsigned char *)text, raw, (int)len);
        assert_int_equal(gw_b64_decode(text, (size_t)n, back), (long)len);
        assert_memory_equal(back, raw, len);
    }
    static const char *const bad[] = {"SGVsbG8",  "SGVsbG8==", "Zg=", "Z===", "Zg==Zg==",
                                      "Zm9v-_8=", "Zm 9v",     " Zm9v", "Zm9v\n", "SGVs!!!bG8=",
                                      "=Zm9",     "Zm=v"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_b64_decode(bad[i], strlen(bad[i]), dec) != -1)
            fail_msg("'%s' decoded", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_padded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
