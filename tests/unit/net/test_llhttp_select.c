/*
 * tests/unit/net/test_llhttp_select.c
 * The two copies of llhttp's parser (src/net/llhttp/): on a CPU with SSE4.2 the SSE4.2 copy is
 * the one in use, and over 200,000 generated streams (requests and responses whose header names
 * and values carry the bytes the SSE4.2 ranges split on: tab, space, DEL, high-bit bytes,
 * controls, colons, line ends, at every distance from a 16-byte step) it gives the portable
 * copy's answers callback for callback. The comparison is the differential fuzz target's
 * (tests/fuzz/fuzz_net_llhttp.c, included here), which aborts on the first difference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../fuzz/fuzz_net_llhttp.c"

static void test_variant(void **state)
{
    (void)state;
    assert_non_null(gw_llhttp_portable());
#ifdef GW_LLHTTP_SSE42
    if (__builtin_cpu_supports("sse4.2")) {
        assert_non_null(gw_llhttp_sse42());
        assert_string_equal(gw_llhttp_variant(), "sse4.2");
        return;
    }
#endif
    assert_null(gw_llhttp_sse42());
    assert_string_equal(gw_llhttp_variant(), "portable");
}

static const char *const TEMPLATES[] = {
    "\0POST /mcp?x=1 HTTP/1.1\r\nHost: gateway.example:8000\r\n"
    "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0\r\n"
    "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
    "MCP-Protocol-Version: 2026-07-28\r\nContent-Length: 17\r\n\r\n{\"jsonrpc\":\"2.0\"}",
    "\0GET /items/42 HTTP/1.1\r\nHost: a\r\nX-A-Rather-Long-Header-Name-For-Steps: v\r\n"
    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "\1HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
    "Set-Cookie: session=0123456789abcdef0123456789abcdef; Path=/; HttpOnly\r\n"
    "Content-Length: 2\r\n\r\n{}",
    "\1HTTP/1.1 404 Not Found For This Particular Resource\r\nTransfer-Encoding: chunked\r\n"
    "X-Request-Id: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"
    "3;ext=val\r\nabc\r\n0\r\nTrailer-Field: x\r\n\r\n",
};

static uint32_t next(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void test_same_answers(void **state)
{
    (void)state;
    static const unsigned char EDGE[] = {'\t', ' ', 0x7f, 0x80, 0xff, 0x00, 0x01, 0x1f,
                                         ':',  '\r', '\n', '"', ',', ';', '=', 'A'};
    uint32_t seed = 20261207u;
    unsigned char buf[1024];
    for (unsigned n = 0; n < 200000; n++) {
        const char *t = TEMPLATES[n % 4];
        size_t len = 1 + strlen(t + 1);
        memcpy(buf, t, len);
        unsigned edits = next(&seed) % 4;
        for (unsigned e = 0; e < edits; e++) {
            size_t at = 1 + next(&seed) % (len - 1);
            uint32_t r = next(&seed);
            buf[at] = r % 3 ? EDGE[(r >> 4) % sizeof(EDGE)] : (unsigned char)(r >> 8);
        }
        assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variant),
        cmocka_unit_test(test_same_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
