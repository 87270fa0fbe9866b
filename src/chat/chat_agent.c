/*
 * src/chat/chat_agent.c
 * The turn state machine (see chat_agent.h) and the reading of tool outcomes.
 *
 * Pending state (kept in the conversation between the question and the user's answer):
 *   {"step": n, "calls": [{"id","name","arguments","state":"running"|"waiting"|"done",
 *                          "request_state","prompt","message": <tool message when done>}]}
 * The calls are those of the last assistant message; their tool messages are appended to the
 * conversation together, in the model's order, once every one of them is done.
 */
#include "chat/chat_agent.h"

#include "core/alloc.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

#define CONTENT_MAX (32u << 10) /* result text kept per call (the model gets a cut of it) */

struct gw_chat_turn {
    const struct gw_chat_turn_ops *ops;
    void *env;
    json_t *messages;
    json_t *pending; /* see above; NULL when no tool calls are outstanding */
    int max_steps;
    int step;
    int outstanding; /* LLM answer or tool calls started and not reported */
    enum gw_chat_state state;
};

const char *gw_chat_state_name(enum gw_chat_state s)
{
    switch (s) {
    case GW_CHAT_IDLE: return "idle";
    case GW_CHAT_LLM: return "llm";
    case GW_CHAT_TOOLS: return "tools";
    case GW_CHAT_WAIT: return "awaiting_confirmation";
    case GW_CHAT_DONE: return "complete";
    case GW_CHAT_FAILED: return "failed";
    }
    return "?";
}

struct gw_chat_turn *gw_chat_turn_new(const struct gw_chat_turn_ops *ops, void *env,
                                      json_t *messages, json_t *pending, int max_steps)
{
    struct gw_chat_turn *t = gw_xcalloc(1, sizeof(*t));
    t->ops = ops;
    t->env = env;
    t->messages = json_is_array(messages) ? messages : json_array();
    if (!json_is_array(messages))
        json_decref(messages);
    t->pending = json_is_object(pending) ? pending : NULL;
    if (!t->pending)
        json_decref(pending);
    t->max_steps = max_steps > 0 ? max_steps : 1;
    t->state = GW_CHAT_IDLE;
    return t;
}

void gw_chat_turn_free(struct gw_chat_turn *t)
{
    if (!t)
        return;
    json_decref(t->messages);
    json_decref(t->pending);
    gw_free(t);
}

enum gw_chat_state gw_chat_turn_state(const struct gw_chat_turn *t)
{
    return t->state;
}
const json_t *gw_chat_turn_messages(const struct gw_chat_turn *t)
{
    return t->messages;
}
const json_t *gw_chat_turn_pending(const struct gw_chat_turn *t)
{
    return t->pending;
}
int gw_chat_turn_steps(const struct gw_chat_turn *t)
{
    return t->step;
}

static bool finished(const struct gw_chat_turn *t)
{
    return t->state == GW_CHAT_DONE || t->state == GW_CHAT_WAIT || t->state == GW_CHAT_FAILED;
}

static void emit(struct gw_chat_turn *t, const char *name, json_t *data)
{
    t->ops->emit(t->env, t, name, data);
}

static void finish(struct gw_chat_turn *t, enum gw_chat_state st)
{
    t->state = st;
    emit(t, "done", json_pack("{s:s,s:i}", "state", gw_chat_state_name(st), "steps", t->step));
    t->ops->finished(t->env, t);
}

static void fail(struct gw_chat_turn *t, const char *kind, const char *message, long retry_after)
{
    json_t *ev = json_pack("{s:s,s:s,s:s}", "role", "event", "kind", kind, "message", message);
    if (retry_after > 0)
        json_object_set_new(ev, "retry_after", json_integer(retry_after));
    json_t *shown = json_deep_copy(ev);
    json_object_del(shown, "role");
    json_array_append_new(t->messages, ev);
    emit(t, "error", shown);
    finish(t, GW_CHAT_FAILED);
}

static void ask_model(struct gw_chat_turn *t)
{
    if (t->step >= t->max_steps) {
        char msg[256];
        snprintf(msg, sizeof(msg), "I stopped after %d steps without finishing this request "
                                   "(the step budget of one turn). Ask me to continue, or make "
                                   "the request more specific.", t->step);
        fail(t, "budget", msg, 0);
        return;
    }
    t->step++;
    t->state = GW_CHAT_LLM;
    t->outstanding = 1;
    emit(t, "step", json_pack("{s:i}", "step", t->step));
    t->ops->llm_start(t->env, t, t->messages);
}

int gw_chat_turn_start(struct gw_chat_turn *t, const char *user_text)
{
    if (t->pending)
        return GW_ECONFLICT;
    json_array_append_new(t->messages,
                          json_pack("{s:s,s:s}", "role", "user", "content", user_text));
    t->step = 0;
    ask_model(t);
    return GW_OK;
}

static json_t *call_at(struct gw_chat_turn *t, size_t slot)
{
    return json_array_get(json_object_get(t->pending, "calls"), slot);
}

static const char *call_state(const json_t *c)
{
    const char *s = gw_json_str(c, "state");
    return s ? s : "";
}

int gw_chat_turn_answer(struct gw_chat_turn *t, const char *call_id, bool accept)
{
    json_t *calls = json_object_get(t->pending, "calls");
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c)
    {
        const char *id = gw_json_str(c, "id");
        if (!id || strcmp(id, call_id) != 0 || strcmp(call_state(c), "waiting") != 0)
            continue;
        t->step = (int)json_integer_value(json_object_get(t->pending, "step"));
        t->state = GW_CHAT_TOOLS;
        t->outstanding = 1;
        json_object_set_new(c, "state", json_string("running"));
        json_object_set_new(c, "answered", json_true());
        json_object_set_new(c, "accept", json_boolean(accept));
        json_t *ir = json_pack("{s:{s:s,s:{s:b}}}", "confirm", "action",
                               accept ? "accept" : "decline", "content", "confirm", accept);
        emit(t, "confirm_answer", json_pack("{s:s,s:b}", "id", id, "accept", accept));
        /* the state string is copied before the call: the answer may rewrite `c` */
        char *rs = gw_xstrdup(gw_json_str(c, "request_state") ? gw_json_str(c, "request_state")
                                                               : "");
        t->ops->tool_start(t->env, t, i, gw_json_str(c, "name"), json_object_get(c, "arguments"),
                           rs, ir);
        gw_free(rs);
        json_decref(ir);
        return GW_OK;
    }
    return GW_ENOTFOUND;
}

void gw_chat_turn_llm_text(struct gw_chat_turn *t, const char *delta, size_t len)
{
    if (t->state != GW_CHAT_LLM || !len)
        return;
    json_t *d = json_stringn(delta, len);
    if (d)
        emit(t, "text", json_pack("{s:o}", "delta", d));
}

void gw_chat_turn_llm_failed(struct gw_chat_turn *t, const char *kind, const char *message,
                             long retry_after_s)
{
    if (t->state != GW_CHAT_LLM)
        return;
    t->outstanding = 0;
    fail(t, kind, message, retry_after_s);
}

/* All calls settled: results to the conversation, then the next step or the wait. */
static void calls_settled(struct gw_chat_turn *t)
{
    json_t *calls = json_object_get(t->pending, "calls");
    size_t i;
    json_t *c;
    bool waiting = false;
    json_array_foreach(calls, i, c)
    {
        if (strcmp(call_state(c), "running") == 0)
            return;
        waiting = waiting || strcmp(call_state(c), "waiting") == 0;
    }
    if (waiting) {
        json_object_set_new(t->pending, "step", json_integer(t->step));
        finish(t, GW_CHAT_WAIT);
        return;
    }
    json_array_foreach(calls, i, c)
        json_array_append(t->messages, json_object_get(c, "message"));
    json_decref(t->pending);
    t->pending = NULL;
    ask_model(t);
}

/* A call settled without reaching the gateway (bad arguments). */
static void settle_locally(struct gw_chat_turn *t, json_t *c, const char *text)
{
    json_t *msg = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "role", "tool", "tool_call_id",
                            gw_json_str(c, "id"), "name", gw_json_str(c, "name"), "content", text,
                            "is_error", 1, "decision", "error");
    emit(t, "tool_result", json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", gw_json_str(c, "id"), "name",
                                     gw_json_str(c, "name"), "decision", "error", "is_error", 1,
                                     "content", text));
    json_object_set_new(c, "message", msg);
    json_object_set_new(c, "state", json_string("done"));
}

void gw_chat_turn_llm_done(struct gw_chat_turn *t, json_t *assistant, bool truncated)
{
    if (t->state != GW_CHAT_LLM) {
        json_decref(assistant);
        return;
    }
    t->outstanding = 0;
    json_t *calls = json_object_get(assistant, "tool_calls");
    if (!json_array_size(calls)) {
        const char *text = gw_json_str(assistant, "content");
        if ((!text || !*text) && truncated) {
            json_decref(assistant);
            fail(t, "provider_error", "The model ran out of its answer length before saying "
                                      "anything (GW_CHAT_MAX_TOKENS).", 0);
            return;
        }
        if (!text || !*text)
            json_object_set_new(assistant, "content",
                                json_string("(The model gave no answer.)"));
        if (truncated)
            json_object_set_new(assistant, "truncated", json_true());
        json_array_append_new(t->messages, assistant);
        finish(t, GW_CHAT_DONE);
        return;
    }
    json_array_append(t->messages, assistant);
    json_decref(t->pending);
    t->pending = json_pack("{s:i,s:[]}", "step", t->step, "calls");
    json_t *pc = json_object_get(t->pending, "calls");
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c)
    {
        json_array_append_new(pc, json_pack("{s:O,s:O,s:O,s:s}", "id", json_object_get(c, "id"),
                                            "name", json_object_get(c, "name"), "arguments",
                                            json_object_get(c, "arguments"), "state",
                                            "running"));
        emit(t, "tool_call", json_pack("{s:O,s:O,s:O}", "id", json_object_get(c, "id"), "name",
                                       json_object_get(c, "name"), "arguments",
                                       json_object_get(c, "arguments")));
    }
    json_decref(assistant);
    t->state = GW_CHAT_TOOLS;
    /* count first: a call reported synchronously must not see the batch settled early */
    t->outstanding = (int)json_array_size(pc);
    json_array_foreach(pc, i, c)
    {
        json_t *args = json_object_get(c, "arguments");
        if (json_object_get(args, "_invalid")) {
            t->outstanding--;
            settle_locally(t, c, "The arguments were not a valid JSON object, so the call was "
                                 "not made. Send the arguments as one JSON object.");
            continue;
        }
        t->ops->tool_start(t->env, t, i, gw_json_str(c, "name"), args, NULL, NULL);
        if (finished(t))
            return;
    }
    if (t->outstanding == 0 && t->state == GW_CHAT_TOOLS)
        calls_settled(t);
}

void gw_chat_turn_tool_done(struct gw_chat_turn *t, size_t slot, const json_t *response)
{
    json_t *c = call_at(t, slot);
    if (t->state != GW_CHAT_TOOLS || !c || strcmp(call_state(c), "running") != 0)
        return;
    t->outstanding--;
    bool answered = json_is_true(json_object_get(c, "answered"));
    bool accept = json_is_true(json_object_get(c, "accept"));
    struct gw_chat_tool_outcome o;
    gw_chat_tool_outcome(response, answered, accept, &o);
    const char *id = gw_json_str(c, "id");
    const char *name = gw_json_str(c, "name");
    if (o.confirm) {
        json_object_set_new(c, "state", json_string("waiting"));
        json_object_set(c, "request_state", json_object_get(o.confirm, "request_state"));
        json_object_set(c, "prompt", json_object_get(o.confirm, "message"));
        emit(t, "confirm", json_pack("{s:s,s:s,s:O,s:O}", "id", id, "name", name, "arguments",
                                     json_object_get(c, "arguments"), "message",
                                     json_object_get(o.confirm, "message")));
    } else {
        json_t *msg = json_pack("{s:s,s:s,s:s,s:O,s:b,s:s}", "role", "tool", "tool_call_id", id,
                                "name", name, "content", o.content, "is_error", o.is_error,
                                "decision", o.decision);
        json_t *ev = json_pack("{s:s,s:s,s:s,s:b,s:O}", "id", id, "name", name, "decision",
                               o.decision, "is_error", o.is_error, "content", o.content);
        if (o.error) {
            json_object_set(msg, "error", o.error);
            json_object_set(ev, "error", o.error);
        }
        emit(t, "tool_result", ev);
        json_object_set_new(c, "message", msg);
        json_object_set_new(c, "state", json_string("done"));
        json_object_del(c, "request_state");
        json_object_del(c, "prompt");
    }
    gw_chat_tool_outcome_fini(&o);
    if (t->outstanding <= 0)
        calls_settled(t);
}

void gw_chat_turn_abort(struct gw_chat_turn *t, const char *kind, const char *message)
{
    if (finished(t))
        return;
    t->outstanding = 0;
    if (t->pending) {
        /* calls still running are forgotten: their results are unknown. The conversation keeps
         * the assistant's calls (normalised as "not made" for the model) plus what is known. */
        json_t *calls = json_object_get(t->pending, "calls");
        size_t i;
        json_t *c;
        json_array_foreach(calls, i, c)
        {
            json_t *m = json_object_get(c, "message");
            if (m)
                json_array_append(t->messages, m);
            else
                json_array_append_new(
                    t->messages,
                    json_pack("{s:s,s:O,s:O,s:s,s:b,s:s}", "role", "tool", "tool_call_id",
                              json_object_get(c, "id"), "name", json_object_get(c, "name"),
                              "content", "The outcome of this call is unknown: the turn was "
                              "stopped before it answered.", "is_error", 1, "decision",
                              "error"));
        }
        json_decref(t->pending);
        t->pending = NULL;
    }
    fail(t, kind, message, 0);
}

/* ================================================================ outcomes */

/* The text of a CallToolResult for the model: its text content items joined, else its
 * structuredContent serialised. */
static json_t *result_text(const json_t *result)
{
    struct gw_buf b;
    gw_buf_init(&b, CONTENT_MAX);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(result, "content"), i, item)
    {
        const char *type = gw_json_str(item, "type");
        const char *text = gw_json_str(item, "text");
        if (type && strcmp(type, "text") == 0 && text) {
            if (gw_buf_len(&b))
                (void)gw_buf_addc(&b, '\n');
            if (gw_buf_adds(&b, text) != GW_OK) {
                gw_buf_truncate(&b, CONTENT_MAX - 64);
                (void)gw_buf_adds(&b, "\n[... cut]");
                break;
            }
        }
    }
    json_t *sc = json_object_get(result, "structuredContent");
    if (!gw_buf_len(&b) && sc) {
        char *t = gw_json_dumps(sc);
        if (t && strlen(t) < CONTENT_MAX)
            (void)gw_buf_adds(&b, t);
        gw_free(t);
    }
    json_t *v = json_stringn(gw_buf_ptr(&b), gw_buf_len(&b));
    gw_buf_fini(&b);
    return v ? v : json_string("(the result was not readable text)");
}

static bool is_refusal(json_int_t code)
{
    /* -32001 unauthenticated, -32003 risk, -32004 policy, -32005 elevation, -32006 confirmation
     * impossible, -32007 confirmation invalid; -32602 includes tools hidden by exposure */
    return code == -32001 || (code <= -32003 && code >= -32007) || code == -32602;
}

void gw_chat_tool_outcome(const json_t *response, bool answered, bool accept,
                          struct gw_chat_tool_outcome *out)
{
    memset(out, 0, sizeof(*out));
    json_t *err = json_object_get(response, "error");
    json_t *res = json_object_get(response, "result");
    if (!response || (!err && !json_is_object(res))) {
        out->decision = "error";
        out->is_error = true;
        out->content = json_string("The gateway gave no answer for this call (it may be shutting "
                                   "down). Nothing is known about its outcome.");
        return;
    }
    if (err) {
        json_int_t code = json_integer_value(json_object_get(err, "code"));
        const char *msg = gw_json_str(err, "message");
        json_t *data = json_object_get(err, "data");
        const char *reason = gw_json_str(data, "reason");
        const char *hint = gw_json_str(data, "hint");
        out->decision = is_refusal(code) ? "denied" : "error";
        out->is_error = true;
        out->error = json_pack("{s:I,s:s}", "code", code, "message", msg ? msg : "");
        if (reason)
            json_object_set_new(out->error, "reason", json_string(reason));
        if (hint)
            json_object_set_new(out->error, "hint", json_string(hint));
        char text[1536];
        snprintf(text, sizeof(text), "%s (gateway error %lld): %s%s%s%s%s",
                 is_refusal(code) ? "The gateway refused this call" : "The call failed",
                 (long long)code, msg ? msg : "no message", reason && (!msg || strcmp(reason, msg))
                                                                ? ". Reason: " : "",
                 reason && (!msg || strcmp(reason, msg)) ? reason : "", hint ? ". Hint: " : "",
                 hint ? hint : "");
        out->content = json_string(text);
        if (!out->content)
            out->content = json_string("The gateway refused this call.");
        return;
    }
    const char *rt = gw_json_str(res, "resultType");
    if (rt && strcmp(rt, "input_required") == 0) {
        json_t *q = json_object_get(json_object_get(res, "inputRequests"), "confirm");
        const char *rs = gw_json_str(res, "requestState");
        const char *msg = gw_json_str(json_object_get(q, "params"), "message");
        if (!answered && rs && *rs) {
            out->decision = "confirm";
            out->confirm = json_pack("{s:s,s:s}", "request_state", rs, "message",
                                     msg ? msg : "Do you want this call to be made?");
            out->content = json_string("");
            return;
        }
        /* asked again after an answer, or a question the chat cannot show: refuse */
        out->decision = "denied";
        out->is_error = true;
        out->content = json_string("The gateway asked for more input than the user's "
                                   "confirmation; the call was not made.");
        return;
    }
    out->is_error = json_is_true(json_object_get(res, "isError"));
    out->content = result_text(res);
    if (answered && !accept)
        out->decision = "declined";
    else if (out->is_error)
        out->decision = "error";
    else
        out->decision = answered ? "confirmed" : "allowed";
}

void gw_chat_tool_outcome_fini(struct gw_chat_tool_outcome *o)
{
    json_decref(o->content);
    json_decref(o->error);
    json_decref(o->confirm);
    memset(o, 0, sizeof(*o));
}
