/*
 * tests/unit/chat/test_chat_stream.c
 * The chat backend's parsers of untrusted provider output and its request builders:
 *   - the SSE reader: CRLF/LF/CR line ends split across pieces (fed byte by byte too), multi-
 *     line data, comments, the BOM, an unfinished event discarded, line/event/name limits;
 *   - the OpenAI stream: text deltas, parallel tool calls with id/name first and arguments in
 *     pieces keyed by index, finish_reason, [DONE], an error chunk, malformed chunks, a stream
 *     without its end marker, unparsable arguments, too many tool calls;
 *   - the Anthropic stream: message_start .. message_stop with ping, text and tool_use blocks,
 *     input_json_delta pieces, an input given whole at block start, stop_reason, the error
 *     event, a delta for an unknown block, a reused block index;
 *   - request bodies: the neutral history translated for both providers (system prompt, tool
 *     calls and results, alternating roles merged for Anthropic, tools as functions or
 *     input_schema), an interrupted tool call given a "not made" result, orphan results and
 *     events dropped, long results cut on a UTF-8 boundary;
 *   - provider error bodies read into one clean line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat/chat_llm.h"
#include "chat/chat_sse.h"
#include "core/alloc.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- SSE */

struct got {
    char events[16][64];
    char data[16][256];
    int n;
    int stop_at; /* return an error at this event (1-based), 0 never */
};

static int on_ev(void *arg, const struct gw_sse_event *ev)
{
    struct got *g = arg;
    if (g->n < 16) {
        snprintf(g->events[g->n], sizeof(g->events[0]), "%s", ev->event);
        snprintf(g->data[g->n], sizeof(g->data[0]), "%s", ev->data);
    }
    g->n++;
    return g->stop_at && g->n == g->stop_at ? GW_EINVAL : GW_OK;
}

static void feed_all(struct gw_sse_reader *r, const char *s, size_t step)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        assert_int_equal(gw_sse_feed(r, s + i, k, NULL), GW_OK);
    }
}

static void test_sse_lines(void **state)
{
    (void)state;
    static const char *const text =
        "\xEF\xBB\xBF: a comment\r\n"
        "event: first\r\n"
        "data: one\r\n"
        "data:two\r\n"
        "id: 7\r\n"
        "retry: 100\r\n"
        "\r\n"
        "data: lf only\n\n"
        "data: cr only\r\r"
        "event: empty-is-no-event\n\n"
        "unknown: field\ndata\n\n"
        "data: unfinished";
    for (size_t step = 1; step <= 7; step += 3) {
        struct got g = {0};
        struct gw_sse_reader r;
        gw_sse_init(&r, 1024, 4096, on_ev, &g);
        feed_all(&r, text, step);
        assert_int_equal(g.n, 4);
        assert_string_equal(g.events[0], "first");
        assert_string_equal(g.data[0], "one\ntwo");
        assert_string_equal(g.events[1], "message");
        assert_string_equal(g.data[1], "lf only");
        assert_string_equal(g.data[2], "cr only");
        assert_string_equal(g.data[3], ""); /* "data" without a colon: an empty data line */
        gw_sse_fini(&r);
    }
}

static void test_sse_limits(void **state)
{
    (void)state;
    struct got g = {0};
    struct gw_sse_reader r;
    struct gw_error err = {0};
    gw_sse_init(&r, 64, 128, on_ev, &g);
    char line[200];
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    /* a line longer than the limit, in pieces or at once */
    assert_int_equal(gw_sse_feed(&r, "data: ", 6, &err), GW_OK);
    assert_int_equal(gw_sse_feed(&r, line, 100, &err), GW_ELIMIT);
    assert_non_null(strstr(err.msg, "longer than the limit"));
    assert_int_equal(gw_sse_feed(&r, "\n\n", 2, &err), GW_ELIMIT); /* sticky */
    gw_sse_fini(&r);

    /* an event whose data lines add up beyond the limit */
    gw_sse_init(&r, 64, 128, on_ev, &g);
    int rc = GW_OK;
    for (int i = 0; i < 10 && rc == GW_OK; i++)
        rc = gw_sse_feed(&r, "data: 0123456789012345678901234567890\n", 38, &err);
    assert_int_equal(rc, GW_ELIMIT);
    assert_non_null(strstr(err.msg, "event"));
    gw_sse_fini(&r);

    /* an event name longer than GW_SSE_NAME_MAX */
    gw_sse_init(&r, 1024, 1024, on_ev, &g);
    char name[128];
    snprintf(name, sizeof(name), "event: %.*s\n", 70, line);
    assert_int_equal(gw_sse_feed(&r, name, strlen(name), &err), GW_ELIMIT);
    gw_sse_fini(&r);

    /* the callback's refusal stops the reader and is returned */
    struct got g2 = {.stop_at = 1};
    gw_sse_init(&r, 1024, 1024, on_ev, &g2);
    assert_int_equal(gw_sse_feed(&r, "data: a\n\ndata: b\n\n", 18, &err), GW_EINVAL);
    assert_int_equal(g2.n, 1);
    gw_sse_fini(&r);
}

/* ---------------------------------------------------------------- streams */

struct seen {
    char text[1024];
    char tools[8][GW_LLM_NAME_MAX + 1];
    int ntools;
};

static void cb_text(void *arg, const char *d, size_t n)
{
    struct seen *s = arg;
    strncat(s->text, d, n < sizeof(s->text) - strlen(s->text) - 1 ? n : 0);
}

static void cb_tool(void *arg, const struct gw_llm_tool_call *c)
{
    struct seen *s = arg;
    if (s->ntools < 8)
        snprintf(s->tools[s->ntools++], sizeof(s->tools[0]), "%s", c->name);
}

/* Feeds `text` in pieces of `step` bytes; returns the first failure or GW_OK. */
static int feed(struct gw_llm_stream *st, const char *text, size_t step, struct gw_error *err)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += step) {
        int rc = gw_llm_stream_feed(st, text + i, n - i < step ? n - i : step, err);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static const char openai_tools[] =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let me \"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"look.\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\","
    "\"type\":\"function\",\"function\":{\"name\":\"resolve_vehicle\",\"arguments\":\"\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\","
    "\"type\":\"function\",\"function\":{\"name\":\"find_nearby_dealers\",\"arguments\":"
    "\"{\\\"loc\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
    "{\"arguments\":\"{\\\"registration_number\\\":\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
    "{\"arguments\":\"\\\"MH12AB1234\\\"}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":"
    "{\"arguments\":\"ation\\\":\\\"Pune\\\"}\"}}]}}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n"
    "data: [DONE]\n\n";

static void test_openai_stream(void **state)
{
    (void)state;
    for (size_t step = 1; step < 64; step += 21) {
        struct seen s = {0};
        struct gw_llm_stream_cb cb = {cb_text, cb_tool, &s};
        struct gw_llm_stream st;
        gw_llm_stream_init(&st, GW_LLM_OPENAI, &cb);
        struct gw_error err = {0};
        assert_int_equal(feed(&st, openai_tools, step, &err), GW_OK);
        assert_int_equal(gw_llm_stream_end(&st, &err), GW_OK);
        assert_string_equal(s.text, "Let me look.");
        assert_int_equal(s.ntools, 2);
        assert_string_equal(s.tools[1], "find_nearby_dealers");
        assert_string_equal(st.stop, "tool_calls");
        json_t *m = gw_llm_stream_message(&st);
        json_t *calls = json_object_get(m, "tool_calls");
        assert_int_equal(json_array_size(calls), 2);
        json_t *c0 = json_array_get(calls, 0);
        assert_string_equal(gw_json_str(c0, "id"), "call_a");
        assert_string_equal(gw_json_str(json_object_get(c0, "arguments"), "registration_number"),
                            "MH12AB1234");
        json_t *c1 = json_array_get(calls, 1);
        assert_string_equal(gw_json_str(json_object_get(c1, "arguments"), "location"), "Pune");
        assert_string_equal(gw_json_str(m, "content"), "Let me look.");
        json_decref(m);
        gw_llm_stream_fini(&st);
    }
}

static void expect_fail(enum gw_llm_provider p, const char *text, const char *what)
{
    struct gw_llm_stream st;
    gw_llm_stream_init(&st, p, NULL);
    struct gw_error err = {0};
    int rc = feed(&st, text, 5, &err);
    if (rc == GW_OK)
        rc = gw_llm_stream_end(&st, &err);
    if (rc == GW_OK || !strstr(err.msg, what))
        fail_msg("expected a failure with '%s', got %d '%s' for: %s", what, rc, err.msg, text);
    gw_llm_stream_fini(&st);
}

static void test_openai_bad(void **state)
{
    (void)state;
    expect_fail(GW_LLM_OPENAI, "data: not json\n\n", "not a JSON object");
    expect_fail(GW_LLM_OPENAI, "data: [1,2]\n\n", "not a JSON object");
    expect_fail(GW_LLM_OPENAI, "data: {\"object\":\"x\"}\n\n", "no choices");
    expect_fail(GW_LLM_OPENAI, "data: {\"choices\":[{\"delta\":7}]}\n\n", "malformed delta");
    expect_fail(GW_LLM_OPENAI, "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n",
                "ended before");
    expect_fail(GW_LLM_OPENAI,
                "data: {\"error\":{\"message\":\"The model is overloaded\",\"type\":\"x\"}}\n\n",
                "The model is overloaded");
    expect_fail(GW_LLM_OPENAI,
                "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
                "{\"arguments\":\"{}\"}}]}}]}\n\n",
                "no valid name");
    expect_fail(GW_LLM_OPENAI,
                "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
                "{\"name\":\"x\"}}]}}]}\n\n",
                "no valid id");
    /* more tool calls than allowed */
    char buf[8192] = "";
    for (int i = 0; i <= GW_LLM_MAX_TOOL_CALLS; i++) {
        char one[256];
        snprintf(one, sizeof(one),
                 "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":%d,\"id\":\"c%d\","
                 "\"function\":{\"name\":\"t\"}}]}}]}\n\n",
                 i, i);
        strcat(buf, one);
    }
    expect_fail(GW_LLM_OPENAI, buf, "more than");
    /* the error event carries its message out */
    struct gw_llm_stream st;
    gw_llm_stream_init(&st, GW_LLM_OPENAI, NULL);
    struct gw_error err = {0};
    assert_int_equal(feed(&st, "data: {\"error\":{\"message\":\"bad\\nthing\",\"code\":\"c\"}}\n\n",
                          3, &err),
                     GW_EINVAL);
    assert_string_equal(st.error, "bad thing"); /* control characters cleaned */
    gw_llm_stream_fini(&st);
}

static void test_openai_invalid_arguments(void **state)
{
    (void)state;
    struct gw_llm_stream st;
    gw_llm_stream_init(&st, GW_LLM_OPENAI, NULL);
    struct gw_error err = {0};
    assert_int_equal(
        feed(&st,
             "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
             "\"function\":{\"name\":\"t\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n"
             "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"d\","
             "\"function\":{\"name\":\"u\",\"arguments\":\"[1]\"}}]}}]}\n\n"
             "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":2,\"id\":\"e\","
             "\"function\":{\"name\":\"v\"}}]},\"finish_reason\":\"length\"}]}\n\n"
             "data: [DONE]\n\ndata: ignored after the end\n\n",
             64, &err),
        GW_OK);
    assert_int_equal(gw_llm_stream_end(&st, &err), GW_OK);
    assert_true(gw_llm_stream_truncated(&st));
    json_t *m = gw_llm_stream_message(&st);
    json_t *calls = json_object_get(m, "tool_calls");
    assert_string_equal(gw_json_str(json_object_get(json_array_get(calls, 0), "arguments"),
                                    "_invalid"),
                        "{\"a\":");
    assert_string_equal(gw_json_str(json_object_get(json_array_get(calls, 1), "arguments"),
                                    "_invalid"),
                        "[1]");
    assert_int_equal(json_object_size(json_object_get(json_array_get(calls, 2), "arguments")), 0);
    json_decref(m);
    gw_llm_stream_fini(&st);
}

static const char anthropic_tools[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\"}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
    "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
    "\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking \"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
    "\"delta\":{\"type\":\"text_delta\",\"text\":\"slots.\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
    "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_available_slots\","
    "\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
    "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
    "\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"dealer_id\\\": \\\"MSIL\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
    "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"-PUNE-001\\\"}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,"
    "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"resolve_vehicle\","
    "\"input\":{\"registration_number\":\"MH12AB1234\"}}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static void test_anthropic_stream(void **state)
{
    (void)state;
    for (size_t step = 1; step < 80; step += 39) {
        struct seen s = {0};
        struct gw_llm_stream_cb cb = {cb_text, cb_tool, &s};
        struct gw_llm_stream st;
        gw_llm_stream_init(&st, GW_LLM_ANTHROPIC, &cb);
        struct gw_error err = {0};
        assert_int_equal(feed(&st, anthropic_tools, step, &err), GW_OK);
        assert_int_equal(gw_llm_stream_end(&st, &err), GW_OK);
        assert_string_equal(s.text, "Checking slots.");
        assert_string_equal(st.stop, "tool_use");
        json_t *m = gw_llm_stream_message(&st);
        json_t *calls = json_object_get(m, "tool_calls");
        assert_int_equal(json_array_size(calls), 2);
        assert_string_equal(gw_json_str(json_array_get(calls, 0), "id"), "toolu_1");
        assert_string_equal(gw_json_str(json_object_get(json_array_get(calls, 0), "arguments"),
                                        "dealer_id"),
                            "MSIL-PUNE-001");
        assert_string_equal(gw_json_str(json_object_get(json_array_get(calls, 1), "arguments"),
                                        "registration_number"),
                            "MH12AB1234");
        json_decref(m);
        gw_llm_stream_fini(&st);
    }
}

static void test_anthropic_bad(void **state)
{
    (void)state;
    expect_fail(GW_LLM_ANTHROPIC,
                "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                "\"message\":\"Overloaded\"}}\n\n",
                "Overloaded");
    expect_fail(GW_LLM_ANTHROPIC,
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"
                "4,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
                "unknown block");
    expect_fail(GW_LLM_ANTHROPIC,
                "event: content_block_start\ndata: {\"type\":\"content_block_start\","
                "\"content_block\":{\"type\":\"text\"}}\n\n",
                "no index");
    const char reuse[] =
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
        "\"tool_use\",\"id\":\"a\",\"name\":\"t\"}}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
        "\"tool_use\",\"id\":\"b\",\"name\":\"t\"}}\n\n";
    expect_fail(GW_LLM_ANTHROPIC, reuse, "reused");
    expect_fail(GW_LLM_ANTHROPIC,
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n",
                "ended before");
    expect_fail(GW_LLM_ANTHROPIC, "event: message_stop\ndata: {\"type\":\n\n", "not a JSON");
}

/* ---------------------------------------------------------------- requests */

static json_t *conversation(void)
{
    json_error_t je;
    json_t *m = json_loads(
        "[{\"role\":\"user\",\"content\":\"book it\"},"
        " {\"role\":\"assistant\",\"content\":\"Looking.\",\"tool_calls\":["
        "   {\"id\":\"a\",\"name\":\"resolve_vehicle\",\"arguments\":{\"r\":\"X\"}},"
        "   {\"id\":\"b\",\"name\":\"find_nearby_dealers\",\"arguments\":{}}]},"
        " {\"role\":\"tool\",\"tool_call_id\":\"a\",\"name\":\"resolve_vehicle\","
        "  \"content\":\"{\\\"model\\\":\\\"Swift\\\"}\",\"is_error\":false,\"decision\":"
        "  \"allowed\"},"
        " {\"role\":\"event\",\"kind\":\"timeout\",\"message\":\"slow\"},"
        " {\"role\":\"tool\",\"tool_call_id\":\"zz\",\"content\":\"orphan\"},"
        " {\"role\":\"user\",\"content\":\"again\"},"
        " {\"role\":\"user\",\"content\":\"and again\"}]",
        0, &je);
    assert_non_null(m);
    return m;
}

static json_t *tools(void)
{
    json_error_t je;
    return json_loads("[{\"name\":\"resolve_vehicle\",\"description\":\"Find a vehicle\","
                      "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"r\":{}}}},"
                      "{\"name\":\"no_schema\"}, {\"description\":\"no name\"}]",
                      0, &je);
}

static void test_request_openai(void **state)
{
    (void)state;
    json_t *m = conversation(), *t = tools();
    struct gw_llm_request_opts o = {GW_LLM_OPENAI, "gpt-x", "SYSTEM", 100, 8192};
    json_t *b = gw_llm_build_request(&o, m, t);
    assert_string_equal(gw_json_str(b, "model"), "gpt-x");
    assert_true(json_is_true(json_object_get(b, "stream")));
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 100);
    assert_string_equal(gw_json_str(b, "tool_choice"), "auto");
    json_t *msgs = json_object_get(b, "messages");
    /* system, user, assistant, tool a, tool b (not made), user, user */
    assert_int_equal(json_array_size(msgs), 7);
    assert_string_equal(gw_json_str(json_array_get(msgs, 0), "role"), "system");
    json_t *a = json_array_get(msgs, 2);
    json_t *tc = json_object_get(a, "tool_calls");
    assert_int_equal(json_array_size(tc), 2);
    assert_string_equal(gw_json_str(json_object_get(json_array_get(tc, 0), "function"),
                                    "arguments"),
                        "{\"r\":\"X\"}");
    assert_string_equal(gw_json_str(json_array_get(msgs, 3), "tool_call_id"), "a");
    assert_string_equal(gw_json_str(json_array_get(msgs, 4), "tool_call_id"), "b");
    assert_non_null(strstr(gw_json_str(json_array_get(msgs, 4), "content"), "not made"));
    json_t *tl = json_object_get(b, "tools");
    assert_int_equal(json_array_size(tl), 2); /* the nameless one is dropped */
    assert_string_equal(gw_json_str(json_array_get(tl, 0), "type"), "function");
    json_t *f1 = json_object_get(json_array_get(tl, 1), "function");
    assert_string_equal(gw_json_str(json_object_get(f1, "parameters"), "type"), "object");
    json_decref(b);
    json_decref(m);
    json_decref(t);
}

static void test_request_anthropic(void **state)
{
    (void)state;
    json_t *m = conversation(), *t = tools();
    struct gw_llm_request_opts o = {GW_LLM_ANTHROPIC, "claude-x", "SYSTEM", 0, 8192};
    json_t *b = gw_llm_build_request(&o, m, t);
    assert_string_equal(gw_json_str(b, "system"), "SYSTEM");
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 1024);
    json_t *msgs = json_object_get(b, "messages");
    /* user, assistant (text + 2 tool_use), user (2 tool_result + 2 texts) */
    assert_int_equal(json_array_size(msgs), 3);
    json_t *a = json_object_get(json_array_get(msgs, 1), "content");
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(gw_json_str(json_array_get(a, 1), "type"), "tool_use");
    assert_string_equal(gw_json_str(json_object_get(json_array_get(a, 1), "input"), "r"), "X");
    json_t *u = json_object_get(json_array_get(msgs, 2), "content");
    assert_int_equal(json_array_size(u), 4);
    assert_string_equal(gw_json_str(json_array_get(u, 0), "type"), "tool_result");
    assert_true(json_is_true(json_object_get(json_array_get(u, 1), "is_error")));
    assert_string_equal(gw_json_str(json_array_get(u, 3), "text"), "and again");
    json_t *tl = json_object_get(b, "tools");
    assert_non_null(json_object_get(json_array_get(tl, 0), "input_schema"));
    assert_null(json_object_get(b, "tool_choice"));
    json_decref(b);
    json_decref(m);
    json_decref(t);
}

static void test_request_cut_result(void **state)
{
    (void)state;
    /* a long result is cut for the model on a UTF-8 boundary, with a note */
    char *big = gw_xmalloc(20000);
    size_t n = 0;
    while (n + 2 < 19990) {
        big[n++] = (char)0xC3; /* é */
        big[n++] = (char)0xA9;
    }
    big[n] = '\0';
    json_t *m = json_pack("[{s:s,s:s},{s:s,s:s,s:[{s:s,s:s,s:{}}]},{s:s,s:s,s:s}]", "role",
                          "user", "content", "x", "role", "assistant", "content", "",
                          "tool_calls", "id", "a", "name", "t", "arguments", "role", "tool",
                          "tool_call_id", "a", "content", big);
    struct gw_llm_request_opts o = {GW_LLM_OPENAI, "m", NULL, 0, 1001};
    json_t *b = gw_llm_build_request(&o, m, NULL);
    const char *c = gw_json_str(json_array_get(json_object_get(b, "messages"), 2), "content");
    assert_non_null(c);
    assert_non_null(strstr(c, "[... cut at 1001 bytes]"));
    assert_true(strlen(c) < 1100);
    assert_null(json_object_get(b, "tools"));
    json_decref(b);
    json_decref(m);
    gw_free(big);
}

static void test_error_bodies(void **state)
{
    (void)state;
    char out[64];
    const char *oa = "{\"error\":{\"message\":\"Rate limit\\r\\nreached\",\"type\":\"requests\"}}";
    gw_llm_error_message(oa, strlen(oa), out, sizeof(out));
    assert_string_equal(out, "Rate limit  reached");
    const char *an = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                     "\"Overloaded\"}}";
    gw_llm_error_message(an, strlen(an), out, sizeof(out));
    assert_string_equal(out, "Overloaded");
    gw_llm_error_message("<html>bad gateway</html>", 24, out, sizeof(out));
    assert_string_equal(out, "");
    gw_llm_error_message("{\"error\":\"plain\"}", 17, out, sizeof(out));
    assert_string_equal(out, "plain");
    assert_int_equal(gw_llm_provider_parse("anthropic"), GW_LLM_ANTHROPIC);
    assert_int_equal(gw_llm_provider_parse("OpenAI"), GW_LLM_NONE);
    assert_string_equal(gw_llm_path(GW_LLM_OPENAI), "/chat/completions");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_lines),
        cmocka_unit_test(test_sse_limits),
        cmocka_unit_test(test_openai_stream),
        cmocka_unit_test(test_openai_bad),
        cmocka_unit_test(test_openai_invalid_arguments),
        cmocka_unit_test(test_anthropic_stream),
        cmocka_unit_test(test_anthropic_bad),
        cmocka_unit_test(test_request_openai),
        cmocka_unit_test(test_request_anthropic),
        cmocka_unit_test(test_request_cut_result),
        cmocka_unit_test(test_error_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
