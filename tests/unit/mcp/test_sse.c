/*
 * tests/unit/mcp/test_sse.c
 * SSE framing (mcp/mcp_sse.h): the exact bytes of an event ("event: <type>\ndata: <json>\n\n")
 * and of a keep-alive comment, no "id:" lines ever, refusal (GW_EINVAL, buffer untouched) of
 * CR or LF in the data or the event name and of an empty/NULL event name, several events in
 * one buffer, a large payload, the buffer limit surfacing as GW_ELIMIT with nothing appended
 * (no torn frame), and a round trip
 * through a minimal SSE parser written to the WHATWG rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "mcp/mcp_sse.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void test_event_bytes(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    const char *json = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
    assert_int_equal(gw_sse_event(&b, "message", json, strlen(json)), GW_OK);
    assert_string_equal(gw_buf_ptr(&b),
                        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
    assert_null(strstr(gw_buf_ptr(&b), "id:"));
    /* `len` bounds the data: bytes after it are not sent */
    gw_buf_reset(&b);
    assert_int_equal(gw_sse_event(&b, "endpoint", "/messages?x=1TRAILING", 13), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "event: endpoint\ndata: /messages?x=1\n\n");
    /* empty data is a valid event */
    gw_buf_reset(&b);
    assert_int_equal(gw_sse_event(&b, "message", "", 0), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "event: message\ndata: \n\n");
    gw_buf_fini(&b);
}

static void test_comment(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 100);
    assert_int_equal(gw_sse_comment(&b, "keepalive"), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), ": keepalive\n\n");
    assert_int_equal(gw_sse_comment(&b, "two\nlines"), GW_EINVAL);
    assert_int_equal(gw_sse_comment(&b, "cr\r"), GW_EINVAL);
    assert_string_equal(gw_buf_ptr(&b), ": keepalive\n\n");
    gw_buf_fini(&b);
}

static void test_refusals(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    assert_int_equal(gw_buf_adds(&b, "PREFIX"), GW_OK);
    assert_int_equal(gw_sse_event(&b, "message", "{\"a\":\n1}", 8), GW_EINVAL);
    assert_int_equal(gw_sse_event(&b, "message", "{\"a\":\r1}", 8), GW_EINVAL);
    assert_int_equal(gw_sse_event(&b, "message", "x\n", 2), GW_EINVAL);
    assert_int_equal(gw_sse_event(&b, "mess\nage", "{}", 2), GW_EINVAL);
    assert_int_equal(gw_sse_event(&b, "mess\rage", "{}", 2), GW_EINVAL);
    assert_int_equal(gw_sse_event(&b, "", "{}", 2), GW_EINVAL);
    assert_int_equal(gw_sse_event(&b, NULL, "{}", 2), GW_EINVAL);
    /* a newline beyond `len` is not part of the data */
    assert_int_equal(gw_sse_event(&b, "message", "{}\n", 2), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "PREFIXevent: message\ndata: {}\n\n");
    gw_buf_fini(&b);
}

static void test_several_and_large(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 1u << 22);
    assert_int_equal(gw_sse_event(&b, "message", "{\"n\":1}", 7), GW_OK);
    assert_int_equal(gw_sse_comment(&b, "ka"), GW_OK);
    assert_int_equal(gw_sse_event(&b, "message", "{\"n\":2}", 7), GW_OK);
    assert_string_equal(gw_buf_ptr(&b), "event: message\ndata: {\"n\":1}\n\n: ka\n\n"
                                        "event: message\ndata: {\"n\":2}\n\n");
    gw_buf_reset(&b);
    size_t n = 1u << 21;
    char *big = gw_xmalloc(n);
    memset(big, 'a', n);
    big[0] = '"';
    big[n - 1] = '"';
    assert_int_equal(gw_sse_event(&b, "message", big, n), GW_OK);
    assert_int_equal(gw_buf_len(&b), n + strlen("event: message\ndata: \n\n"));
    gw_free(big);
    gw_buf_fini(&b);
}

static void test_limit(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 20);
    assert_int_equal(gw_sse_event(&b, "message", "{\"too\":\"long for 20 bytes\"}", 27),
                     GW_ELIMIT);
    gw_buf_fini(&b);
    /* all or nothing: when the limit is hit part-way, no partial frame stays behind */
    gw_buf_init(&b, 40);
    assert_int_equal(gw_buf_adds(&b, "KEEP"), GW_OK);
    const char *data = "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}";
    assert_int_equal(gw_sse_event(&b, "message", data, strlen(data)), GW_ELIMIT);
    assert_string_equal(gw_buf_ptr(&b), "KEEP");
    gw_buf_fini(&b);
}

/* Minimal SSE parser (WHATWG): returns the data of the first event of type `type` in `s`. */
static int sse_first_data(const char *s, const char *type, char *out, size_t out_size)
{
    char ev[64] = "message";
    char data[4096] = "";
    size_t dn = 0;
    bool have = false;
    while (*s) {
        const char *eol = strchr(s, '\n');
        size_t n = eol ? (size_t)(eol - s) : strlen(s);
        if (n == 0) { /* dispatch */
            if (have && strcmp(ev, type) == 0) {
                snprintf(out, out_size, "%s", data);
                return 0;
            }
            snprintf(ev, sizeof(ev), "message");
            dn = 0;
            data[0] = '\0';
            have = false;
        } else if (s[0] != ':') {
            const char *colon = memchr(s, ':', n);
            size_t fn = colon ? (size_t)(colon - s) : n;
            const char *v = colon ? colon + 1 : s + n;
            if (colon && *v == ' ')
                v++;
            size_t vn = (size_t)(s + n - v);
            if (fn == 5 && !strncmp(s, "event", 5))
                snprintf(ev, sizeof(ev), "%.*s", (int)vn, v);
            else if (fn == 4 && !strncmp(s, "data", 4)) {
                if (have && dn + 1 < sizeof(data))
                    data[dn++] = '\n';
                size_t cp = vn < sizeof(data) - dn - 1 ? vn : sizeof(data) - dn - 1;
                memcpy(data + dn, v, cp);
                dn += cp;
                data[dn] = '\0';
                have = true;
            }
        }
        if (!eol)
            break;
        s = eol + 1;
    }
    return -1;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    const char *j1 = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                     "{\"progress\":50,\"message\":\"a: b\\n c\"}}";
    assert_int_equal(gw_sse_comment(&b, "hello"), GW_OK);
    assert_int_equal(gw_sse_event(&b, "endpoint", "/messages?sessionId=abc", 23), GW_OK);
    assert_int_equal(gw_sse_event(&b, "message", j1, strlen(j1)), GW_OK);
    char got[4096];
    assert_int_equal(sse_first_data(gw_buf_ptr(&b), "message", got, sizeof(got)), 0);
    assert_string_equal(got, j1);
    assert_int_equal(sse_first_data(gw_buf_ptr(&b), "endpoint", got, sizeof(got)), 0);
    assert_string_equal(got, "/messages?sessionId=abc");
    gw_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_bytes),     cmocka_unit_test(test_comment),
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_several_and_large),
        cmocka_unit_test(test_limit),           cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
