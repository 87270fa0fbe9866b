/*
 * tests/unit/chat/test_chat_agent.c
 * The agent's turn state machine (src/chat/chat_agent.c) driven by a scripted environment that
 * records what the turn asks for and reports answers when the test says so:
 *   - a plain answer ends the turn (DONE) after one step;
 *   - parallel tool calls all start before any result, the next step waits for the last one,
 *     results go back in the model's order whatever order they finish in;
 *   - a refusal (-32004 with reason and hint) and a tool error are given to the model as the
 *     call's result (the model recovers or explains), with the decision shown to the user;
 *   - unparsable arguments are refused without a call;
 *   - input_required makes the turn WAIT with the sealed state kept; the answer re-sends the
 *     same call with requestState + inputResponses; accept -> "confirmed", decline ->
 *     "declined"; a second question after an answer is refused; an unknown call id is refused;
 *     a new message while waiting is refused;
 *   - the step budget stops a model that keeps calling tools; a provider failure and an abort
 *     (time budget) end the turn FAILED with the failure stored and calls left open given
 *     "unknown outcome" results; nothing is started after the end;
 * and the pure helpers: routes, owner keys, tool selection, history window, system prompt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "chat/chat.h"
#include "chat/chat_agent.h"
#include "core/alloc.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

struct env {
    int llm_starts;
    int tool_starts;
    char tools[16][64];
    char states[16][256]; /* request_state of each tool start ("" none) */
    char answers[16][32]; /* inputResponses.confirm.action ("" none) */
    size_t slots[16];
    json_t *events; /* [[name, data], ...] */
    int finished;
};

static void e_llm(void *envp, struct gw_chat_turn *t, const json_t *messages)
{
    (void)t;
    (void)messages;
    ((struct env *)envp)->llm_starts++;
}

static void e_tool(void *envp, struct gw_chat_turn *t, size_t slot, const char *name,
                   const json_t *args, const char *rs, const json_t *ir)
{
    (void)t;
    (void)args;
    struct env *e = envp;
    int i = e->tool_starts++;
    snprintf(e->tools[i], sizeof(e->tools[0]), "%s", name);
    snprintf(e->states[i], sizeof(e->states[0]), "%s", rs ? rs : "");
    const char *a = gw_json_str(json_object_get(ir, "confirm"), "action");
    snprintf(e->answers[i], sizeof(e->answers[0]), "%s", a ? a : "");
    e->slots[i] = slot;
}

static void e_emit(void *envp, struct gw_chat_turn *t, const char *name, json_t *data)
{
    (void)t;
    struct env *e = envp;
    json_array_append_new(e->events, json_pack("[s,o]", name, data));
}

static void e_finished(void *envp, struct gw_chat_turn *t)
{
    (void)t;
    ((struct env *)envp)->finished++;
}

static const struct gw_chat_turn_ops ops = {e_llm, e_tool, e_emit, e_finished};

static int setup(void **state)
{
    struct env *e = gw_xcalloc(1, sizeof(*e));
    e->events = json_array();
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    json_decref(e->events);
    gw_free(e);
    return 0;
}

/* The data of the n-th event called `name` (0-based), or NULL. */
static json_t *event(struct env *e, const char *name, int n)
{
    size_t i;
    json_t *ev;
    json_array_foreach(e->events, i, ev)
    {
        if (strcmp(json_string_value(json_array_get(ev, 0)), name) == 0 && n-- == 0)
            return json_array_get(ev, 1);
    }
    return NULL;
}

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("bad JSON in test: %s: %s", je.text, text);
    return v;
}

static json_t *ok_result(const char *text)
{
    return json_pack("{s:s,s:s,s:{s:[{s:s,s:s}],s:b}}", "jsonrpc", "2.0", "id", "x", "result",
                     "content", "type", "text", "text", text, "isError", 0);
}

static void test_plain_answer(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = gw_chat_turn_new(&ops, e, json_array(), NULL, 4);
    assert_int_equal(gw_chat_turn_start(t, "hello"), GW_OK);
    assert_int_equal(e->llm_starts, 1);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_LLM);
    gw_chat_turn_llm_text(t, "Hi ", 3);
    gw_chat_turn_llm_text(t, "there", 5);
    gw_chat_turn_llm_done(t, J("{\"role\":\"assistant\",\"content\":\"Hi there\"}"), false);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_DONE);
    assert_int_equal(e->finished, 1);
    assert_string_equal(gw_json_str(event(e, "text", 1), "delta"), "there");
    assert_string_equal(gw_json_str(event(e, "done", 0), "state"), "complete");
    const json_t *m = gw_chat_turn_messages(t);
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(gw_json_str(json_array_get(m, 1), "content"), "Hi there");
    /* late reports after the end change nothing */
    gw_chat_turn_llm_failed(t, "timeout", "late", 0);
    gw_chat_turn_tool_done(t, 0, NULL);
    assert_int_equal(e->finished, 1);
    gw_chat_turn_free(t);
}

static void test_parallel_tools_and_recovery(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = gw_chat_turn_new(&ops, e, json_array(), NULL, 5);
    gw_chat_turn_start(t, "book");
    gw_chat_turn_llm_done(
        t,
        J("{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
          "{\"id\":\"a\",\"name\":\"resolve_vehicle\",\"arguments\":{\"r\":\"X\"}},"
          "{\"id\":\"b\",\"name\":\"find_nearby_dealers\",\"arguments\":{}},"
          "{\"id\":\"c\",\"name\":\"bad_args\",\"arguments\":{\"_invalid\":\"{x\"}},"
          "{\"id\":\"d\",\"name\":\"get_dealer\",\"arguments\":{}}]}"),
        false);
    assert_int_equal(e->tool_starts, 3); /* the unparsable one is not called */
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_TOOLS);
    assert_string_equal(gw_json_str(event(e, "tool_result", 0), "id"), "c");
    /* results arrive out of order: b (refused), d (tool error), then a */
    json_t *refused = J("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32004,"
                        "\"message\":\"Policy refused the call\",\"data\":{\"reason\":\"dealer "
                        "agents act only for their own dealers\",\"hint\":\"use your dealer "
                        "id\"}}}");
    gw_chat_turn_tool_done(t, 1, refused);
    json_t *err = J("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"content\":[{\"type\":"
                    "\"text\",\"text\":\"upstream 404\"}],\"isError\":true}}");
    gw_chat_turn_tool_done(t, 3, err);
    assert_int_equal(e->llm_starts, 1); /* still waiting for a */
    json_t *ok = ok_result("{\"model\":\"Swift\"}");
    gw_chat_turn_tool_done(t, 0, ok);
    assert_int_equal(e->llm_starts, 2);
    assert_int_equal(gw_chat_turn_steps(t), 2);
    const json_t *m = gw_chat_turn_messages(t);
    /* user, assistant, then the four results in the model's order */
    assert_int_equal(json_array_size(m), 6);
    const char *order[] = {"a", "b", "c", "d"};
    const char *decisions[] = {"allowed", "denied", "error", "error"};
    for (int i = 0; i < 4; i++) {
        json_t *r = json_array_get(m, 2 + (size_t)i);
        assert_string_equal(gw_json_str(r, "tool_call_id"), order[i]);
        assert_string_equal(gw_json_str(r, "decision"), decisions[i]);
    }
    const char *rc = gw_json_str(json_array_get(m, 3), "content");
    assert_non_null(strstr(rc, "refused"));
    assert_non_null(strstr(rc, "-32004"));
    assert_non_null(strstr(rc, "their own dealers"));
    assert_non_null(strstr(rc, "Hint: use your dealer id"));
    assert_string_equal(gw_json_str(json_array_get(m, 2), "content"), "{\"model\":\"Swift\"}");
    json_t *ev = event(e, "tool_result", 1);
    assert_string_equal(gw_json_str(ev, "decision"), "denied");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "error"), "code")),
                     -32004);
    /* a late duplicate report for a settled call is ignored */
    gw_chat_turn_tool_done(t, 0, ok);
    assert_int_equal(e->llm_starts, 2);
    gw_chat_turn_llm_done(t, J("{\"role\":\"assistant\",\"content\":\"Sorry.\"}"), false);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_DONE);
    json_decref(refused);
    json_decref(err);
    json_decref(ok);
    gw_chat_turn_free(t);
}

static const char booking_call[] =
    "{\"role\":\"assistant\",\"content\":\"Booking.\",\"tool_calls\":["
    "{\"id\":\"k\",\"name\":\"create_booking\",\"arguments\":{\"date\":\"2026-12-07\"}}]}";

static const char input_required[] =
    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"resultType\":\"input_required\","
    "\"inputRequests\":{\"confirm\":{\"method\":\"elicitation/create\",\"params\":{\"message\":"
    "\"Do you want create_booking to run?\"}}},\"requestState\":\"SEALED\"}}";

/* Runs a turn up to the confirmation; returns the turn waiting (its saved state round-tripped
 * through JSON text, as the database would). */
static struct gw_chat_turn *until_confirmation(struct env *e)
{
    struct gw_chat_turn *t = gw_chat_turn_new(&ops, e, json_array(), NULL, 6);
    gw_chat_turn_start(t, "book it");
    gw_chat_turn_llm_done(t, J(booking_call), false);
    json_t *ir = J(input_required);
    gw_chat_turn_tool_done(t, 0, ir);
    json_decref(ir);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_WAIT);
    assert_string_equal(gw_json_str(event(e, "done", 0), "state"), "awaiting_confirmation");
    json_t *c = event(e, "confirm", 0);
    assert_string_equal(gw_json_str(c, "id"), "k");
    assert_string_equal(gw_json_str(c, "message"), "Do you want create_booking to run?");
    assert_string_equal(gw_json_str(json_object_get(c, "arguments"), "date"), "2026-12-07");
    char *mt = json_dumps(gw_chat_turn_messages(t), 0);
    char *pt = json_dumps(gw_chat_turn_pending(t), 0);
    gw_chat_turn_free(t);
    json_error_t je;
    struct gw_chat_turn *t2 = gw_chat_turn_new(&ops, e, json_loads(mt, 0, &je),
                                               json_loads(pt, 0, &je), 6);
    free(mt);
    free(pt);
    assert_int_equal(gw_chat_turn_start(t2, "something else"), GW_ECONFLICT);
    assert_int_equal(gw_chat_turn_answer(t2, "nope", true), GW_ENOTFOUND);
    return t2;
}

static void test_confirmation_accepted(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = until_confirmation(e);
    assert_int_equal(gw_chat_turn_answer(t, "k", true), GW_OK);
    assert_int_equal(e->tool_starts, 2);
    assert_string_equal(e->tools[1], "create_booking");
    assert_string_equal(e->states[1], "SEALED");
    assert_string_equal(e->answers[1], "accept");
    json_t *ok = ok_result("{\"booking_id\":\"BK-2026-000001\"}");
    gw_chat_turn_tool_done(t, 0, ok);
    json_decref(ok);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_LLM);
    assert_int_equal(gw_chat_turn_steps(t), 2); /* the step count goes on from the question */
    assert_null(gw_chat_turn_pending(t));
    const json_t *m = gw_chat_turn_messages(t);
    assert_string_equal(gw_json_str(json_array_get(m, 2), "decision"), "confirmed");
    gw_chat_turn_llm_done(t, J("{\"role\":\"assistant\",\"content\":\"Booked.\"}"), false);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_DONE);
    assert_int_equal(gw_chat_turn_answer(t, "k", true), GW_ENOTFOUND); /* spent */
    gw_chat_turn_free(t);
}

static void test_confirmation_declined(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = until_confirmation(e);
    assert_int_equal(gw_chat_turn_answer(t, "k", false), GW_OK);
    assert_string_equal(e->answers[1], "decline");
    json_t *dec = J("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"content\":[{\"type\":"
                    "\"text\",\"text\":\"The user declined create_booking; nothing was done.\"}],"
                    "\"isError\":true}}");
    gw_chat_turn_tool_done(t, 0, dec);
    json_decref(dec);
    const json_t *m = gw_chat_turn_messages(t);
    assert_string_equal(gw_json_str(json_array_get(m, 2), "decision"), "declined");
    assert_string_equal(gw_json_str(event(e, "confirm_answer", 0), "id"), "k");
    gw_chat_turn_free(t);
}

static void test_second_question_refused(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = until_confirmation(e);
    gw_chat_turn_answer(t, "k", true);
    json_t *ir = J(input_required); /* the gateway asks again: not shown twice */
    gw_chat_turn_tool_done(t, 0, ir);
    json_decref(ir);
    const json_t *m = gw_chat_turn_messages(t);
    assert_string_equal(gw_json_str(json_array_get(m, 2), "decision"), "denied");
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_LLM);
    gw_chat_turn_free(t);
}

static void test_step_budget(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = gw_chat_turn_new(&ops, e, json_array(), NULL, 2);
    gw_chat_turn_start(t, "loop");
    for (int i = 0; i < 2; i++) {
        char call[200];
        snprintf(call, sizeof(call), "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":"
                                     "[{\"id\":\"i%d\",\"name\":\"t\",\"arguments\":{}}]}", i);
        gw_chat_turn_llm_done(t, J(call), false);
        json_t *ok = ok_result("again");
        gw_chat_turn_tool_done(t, 0, ok);
        json_decref(ok);
    }
    assert_int_equal(e->llm_starts, 2);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_FAILED);
    assert_string_equal(gw_json_str(event(e, "error", 0), "kind"), "budget");
    const json_t *m = gw_chat_turn_messages(t);
    const json_t *last = json_array_get(m, json_array_size(m) - 1);
    assert_string_equal(gw_json_str(last, "role"), "event");
    assert_string_equal(gw_json_str(last, "kind"), "budget");
    gw_chat_turn_free(t);
}

static void test_failure_and_abort(void **state)
{
    struct env *e = *state;
    struct gw_chat_turn *t = gw_chat_turn_new(&ops, e, json_array(), NULL, 4);
    gw_chat_turn_start(t, "hi");
    gw_chat_turn_llm_failed(t, "rate_limited", "wait", 30);
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_FAILED);
    json_t *er = event(e, "error", 0);
    assert_int_equal(json_integer_value(json_object_get(er, "retry_after")), 30);
    assert_int_equal(e->finished, 1);
    gw_chat_turn_free(t);

    /* aborted while two calls run: both get "unknown outcome" results, nothing starts after */
    t = gw_chat_turn_new(&ops, e, json_array(), NULL, 4);
    gw_chat_turn_start(t, "hi");
    gw_chat_turn_llm_done(t, J("{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
                               "{\"id\":\"a\",\"name\":\"t\",\"arguments\":{}},"
                               "{\"id\":\"b\",\"name\":\"u\",\"arguments\":{}}]}"),
                          false);
    json_t *ok = ok_result("fine");
    gw_chat_turn_tool_done(t, 1, ok);
    json_decref(ok);
    gw_chat_turn_abort(t, "timeout", "too slow");
    assert_int_equal(gw_chat_turn_state(t), GW_CHAT_FAILED);
    const json_t *m = gw_chat_turn_messages(t);
    assert_int_equal(json_array_size(m), 5); /* user, assistant, a, b, event */
    assert_non_null(strstr(gw_json_str(json_array_get(m, 2), "content"), "unknown"));
    assert_string_equal(gw_json_str(json_array_get(m, 3), "content"), "fine");
    int starts = e->llm_starts;
    gw_chat_turn_tool_done(t, 0, NULL);
    assert_int_equal(e->llm_starts, starts);
    assert_null(gw_chat_turn_pending(t));
    gw_chat_turn_abort(t, "timeout", "twice");
    assert_int_equal(e->finished, 2);
    gw_chat_turn_free(t);
}

static void test_outcomes(void **state)
{
    (void)state;
    struct gw_chat_tool_outcome o;
    gw_chat_tool_outcome(NULL, false, false, &o);
    assert_string_equal(o.decision, "error");
    gw_chat_tool_outcome_fini(&o);
    json_t *hidden = J("{\"error\":{\"code\":-32602,\"message\":\"Unknown tool: x\"}}");
    gw_chat_tool_outcome(hidden, false, false, &o);
    assert_string_equal(o.decision, "denied");
    assert_non_null(strstr(json_string_value(o.content), "Unknown tool"));
    gw_chat_tool_outcome_fini(&o);
    json_decref(hidden);
    json_t *other = J("{\"error\":{\"code\":-32603,\"message\":\"internal\"}}");
    gw_chat_tool_outcome(other, false, false, &o);
    assert_string_equal(o.decision, "error");
    gw_chat_tool_outcome_fini(&o);
    json_decref(other);
    json_t *sc = J("{\"result\":{\"content\":[],\"structuredContent\":{\"a\":1}}}");
    gw_chat_tool_outcome(sc, false, false, &o);
    assert_string_equal(json_string_value(o.content), "{\"a\":1}");
    assert_string_equal(o.decision, "allowed");
    gw_chat_tool_outcome_fini(&o);
    json_decref(sc);
    json_t *nostate = J("{\"result\":{\"resultType\":\"input_required\",\"inputRequests\":{}}}");
    gw_chat_tool_outcome(nostate, false, false, &o);
    assert_string_equal(o.decision, "denied");
    gw_chat_tool_outcome_fini(&o);
    json_decref(nostate);
}

/* ---------------------------------------------------------------- helpers */

static void test_routes(void **state)
{
    (void)state;
    enum gw_chat_route r;
    char id[65];
    assert_int_equal(gw_chat_route("/chat/api/config", &r, id), GW_OK);
    assert_int_equal(r, GW_CHAT_R_CONFIG);
    assert_int_equal(gw_chat_route("/chat/api/conversations", &r, id), GW_OK);
    assert_int_equal(r, GW_CHAT_R_CONVERSATIONS);
    assert_int_equal(gw_chat_route("/chat/api/conversations/", &r, id), GW_OK);
    assert_int_equal(gw_chat_route("/chat/api/conversations/c12_ab-3", &r, id), GW_OK);
    assert_int_equal(r, GW_CHAT_R_CONVERSATION);
    assert_string_equal(id, "c12_ab-3");
    assert_int_equal(gw_chat_route("/chat/api/conversations/c1/messages", &r, id), GW_OK);
    assert_int_equal(r, GW_CHAT_R_MESSAGES);
    assert_int_equal(gw_chat_route("/chat/api/conversations/c1/confirm", &r, id), GW_OK);
    assert_int_equal(r, GW_CHAT_R_CONFIRM);
    const char *bad[] = {"/chat/api/", "/chat/api/conversationsx", "/chat/api/conversations//x",
                         "/chat/api/conversations/../x", "/chat/api/conversations/a.b",
                         "/chat/api/conversations/a/other", "/chat/api/conversations/a/messages/",
                         "/chat/apix/config", "/chat/api/conversations/"
                         "01234567890123456789012345678901234567890123456789012345678901234",
                         NULL};
    for (int i = 0; bad[i]; i++)
        if (gw_chat_route(bad[i], &r, id) != GW_ENOTFOUND)
            fail_msg("route accepted: %s", bad[i]);
}

static void test_owner_key(void **state)
{
    (void)state;
    const char *roles[] = {"customer-care"};
    struct gw_principal_init a = {.method = GW_AUTH_API_KEY, .subject = "cc@x", .key_id = "k1",
                                  .roles = roles, .nroles = 1};
    struct gw_principal_init b = a;
    b.key_id = "k2"; /* another key of the same subject: the same person */
    struct gw_principal_init c = a;
    c.method = GW_AUTH_OIDC; /* the same subject from a token: another identity */
    struct gw_principal *pa = gw_principal_new(&a), *pb = gw_principal_new(&b),
                        *pc = gw_principal_new(&c);
    char ka[65], kb[65], kc[65];
    gw_chat_owner_key(pa, ka);
    gw_chat_owner_key(pb, kb);
    gw_chat_owner_key(pc, kc);
    assert_int_equal(strlen(ka), 64);
    assert_string_equal(ka, kb);
    assert_string_not_equal(ka, kc);
    gw_principal_unref(pa);
    gw_principal_unref(pb);
    gw_principal_unref(pc);
}

static void test_select_tools(void **state)
{
    (void)state;
    json_t *tools = json_array();
    for (int i = 0; i < 50; i++) {
        char n[32];
        snprintf(n, sizeof(n), "report_%02d", i);
        json_array_append_new(tools, json_pack("{s:s,s:s}", "name", n, "description",
                                               "Quarterly figures"));
    }
    json_array_append_new(tools, json_pack("{s:s,s:s}", "name", "create_booking", "description",
                                           "Book a service appointment"));
    json_array_append_new(tools, json_pack("{s:s,s:s}", "name", "resolve_vehicle",
                                           "description", "Find a vehicle by registration"));
    json_t *msgs = J("[{\"role\":\"user\",\"content\":\"Book a service for my vehicle\"},"
                     "{\"role\":\"assistant\",\"content\":\"quarterly report\"}]");
    json_t *sel = gw_chat_select_tools(tools, msgs, 5);
    assert_int_equal(json_array_size(sel), 5);
    assert_string_equal(gw_json_str(json_array_get(sel, 0), "name"), "create_booking");
    assert_string_equal(gw_json_str(json_array_get(sel, 1), "name"), "resolve_vehicle");
    assert_string_equal(gw_json_str(json_array_get(sel, 2), "name"), "report_00"); /* order */
    json_decref(sel);
    sel = gw_chat_select_tools(tools, msgs, 100);
    assert_int_equal(json_array_size(sel), 52);
    json_decref(sel);
    json_decref(msgs);
    json_decref(tools);
}

static void test_history_and_prompt(void **state)
{
    (void)state;
    json_t *m = J("[{\"role\":\"user\",\"content\":\"1\"},{\"role\":\"assistant\"},"
                  "{\"role\":\"tool\"},{\"role\":\"assistant\"},{\"role\":\"user\",\"content\":"
                  "\"2\"},{\"role\":\"assistant\"}]");
    json_t *w = gw_chat_history_window(m, 3); /* would start at a tool: moves to the user */
    assert_int_equal(json_array_size(w), 2);
    assert_string_equal(gw_json_str(json_array_get(w, 0), "content"), "2");
    json_decref(w);
    w = gw_chat_history_window(m, 100);
    assert_int_equal(json_array_size(w), 6);
    json_decref(w);
    json_decref(m);
    /* 2026-12-06 22:00 UTC is 2026-12-07 in India */
    char *p = gw_chat_system_prompt("Today is {date}; hello {user}.", 1796594400LL, 330, "Asha");
    assert_string_equal(p, "Today is 2026-12-07 (Monday); hello Asha.");
    gw_free(p);
    p = gw_chat_system_prompt(NULL, 1796594400LL, 0, "");
    assert_non_null(strstr(p, "Today is 2026-12-06"));
    assert_non_null(strstr(p, "the signed-in person"));
    gw_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_tools_and_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirmation_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirmation_declined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_question_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_and_abort, setup, teardown),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_owner_key),
        cmocka_unit_test(test_select_tools),
        cmocka_unit_test(test_history_and_prompt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
