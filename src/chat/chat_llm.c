/*
 * src/chat/chat_llm.c
 * The providers' wire formats (see chat_llm.h): request bodies from the neutral conversation,
 * and the two stream grammars read into one assistant message.
 */
#include "chat/chat_llm.h"

#include "core/alloc.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

enum gw_llm_provider gw_llm_provider_parse(const char *s)
{
    if (s && strcmp(s, "openai") == 0)
        return GW_LLM_OPENAI;
    if (s && strcmp(s, "anthropic") == 0)
        return GW_LLM_ANTHROPIC;
    return GW_LLM_NONE;
}

const char *gw_llm_provider_name(enum gw_llm_provider p)
{
    return p == GW_LLM_OPENAI ? "openai" : p == GW_LLM_ANTHROPIC ? "anthropic" : "none";
}

const char *gw_llm_path(enum gw_llm_provider p)
{
    return p == GW_LLM_ANTHROPIC ? "/messages" : "/chat/completions";
}

/* ================================================================ requests */

static const char *str_or(const json_t *o, const char *k, const char *def)
{
    const char *v = gw_json_str(o, k);
    return v ? v : def;
}

/* A tool result's text for the model, cut at `max` bytes on a UTF-8 boundary. */
static json_t *bounded_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return json_string(s);
    while (n > 0 && n > max)
        n--;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    char *t = gw_xmalloc(n + 64);
    memcpy(t, s, n);
    snprintf(t + n, 64, "\n[... cut at %zu bytes]", max);
    json_t *v = json_string(t);
    gw_free(t);
    return v ? v : json_string("[unreadable result]");
}

/* Whether tool result `id` follows position i in `msgs` before the next assistant message. */
static bool has_result(const json_t *msgs, size_t i, const char *id)
{
    for (size_t j = i + 1; j < json_array_size(msgs); j++) {
        const json_t *m = json_array_get(msgs, j);
        const char *role = str_or(m, "role", "");
        if (strcmp(role, "assistant") == 0 || strcmp(role, "user") == 0)
            return false;
        if (strcmp(role, "tool") == 0 && strcmp(str_or(m, "tool_call_id", ""), id) == 0)
            return true;
    }
    return false;
}

/* The neutral history made consistent: events dropped, a missing tool result added after an
 * interrupted assistant message, tool results without their call dropped. New reference. */
static json_t *normalise(const json_t *msgs)
{
    json_t *out = json_array();
    json_t *open_ids = json_object(); /* ids of the calls of the last assistant message */
    json_t *missing = json_array();   /* their "not made" results, added after the real ones */
    for (size_t i = 0; i < json_array_size(msgs); i++) {
        json_t *m = json_array_get(msgs, i);
        const char *role = str_or(m, "role", "");
        bool turn = strcmp(role, "user") == 0 || strcmp(role, "assistant") == 0;
        if (turn) {
            json_array_extend(out, missing);
            json_array_clear(missing);
            json_object_clear(open_ids);
            json_array_append(out, m);
        }
        if (strcmp(role, "assistant") == 0) {
            json_t *calls = json_object_get(m, "tool_calls");
            for (size_t k = 0; k < json_array_size(calls); k++) {
                const char *id = str_or(json_array_get(calls, k), "id", "");
                json_object_set_new(open_ids, id, json_true());
                if (!has_result(msgs, i, id))
                    json_array_append_new(
                        missing, json_pack("{s:s,s:s,s:s,s:s,s:b}", "role", "tool",
                                           "tool_call_id", id, "name",
                                           str_or(json_array_get(calls, k), "name", ""),
                                           "content",
                                           "The call was not made: the turn was interrupted.",
                                           "is_error", 1));
            }
        } else if (strcmp(role, "tool") == 0) {
            const char *id = str_or(m, "tool_call_id", "");
            if (json_object_get(open_ids, id)) {
                json_array_append(out, m);
                json_object_del(open_ids, id); /* a second result for one call is dropped */
            }
        }
    }
    json_array_extend(out, missing);
    json_decref(missing);
    json_decref(open_ids);
    return out;
}

static json_t *openai_messages(const struct gw_llm_request_opts *o, const json_t *msgs)
{
    json_t *out = json_array();
    if (o->system && *o->system)
        json_array_append_new(out, json_pack("{s:s,s:s}", "role", "system", "content", o->system));
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *role = str_or(m, "role", "");
        if (strcmp(role, "user") == 0) {
            json_array_append_new(out, json_pack("{s:s,s:s}", "role", "user", "content",
                                                 str_or(m, "content", "")));
        } else if (strcmp(role, "assistant") == 0) {
            json_t *a = json_pack("{s:s}", "role", "assistant");
            const char *text = str_or(m, "content", "");
            json_object_set_new(a, "content", *text ? json_string(text) : json_null());
            json_t *calls = json_object_get(m, "tool_calls");
            if (json_array_size(calls)) {
                json_t *tc = json_array();
                size_t k;
                json_t *c;
                json_array_foreach(calls, k, c)
                {
                    char *args = gw_json_dumps(json_object_get(c, "arguments"));
                    json_array_append_new(
                        tc, json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", str_or(c, "id", ""), "type",
                                      "function", "function", "name", str_or(c, "name", ""),
                                      "arguments", args ? args : "{}"));
                    gw_free(args);
                }
                json_object_set_new(a, "tool_calls", tc);
            }
            json_array_append_new(out, a);
        } else if (strcmp(role, "tool") == 0) {
            json_array_append_new(out, json_pack("{s:s,s:s,s:o}", "role", "tool", "tool_call_id",
                                                 str_or(m, "tool_call_id", ""), "content",
                                                 bounded_text(str_or(m, "content", ""),
                                                              o->max_tool_result)));
        }
    }
    return out;
}

/* Anthropic wants alternating roles: consecutive messages of one role become one message with
 * all their content blocks. */
static void anthropic_push(json_t *out, const char *role, json_t *block)
{
    json_t *last = json_array_get(out, json_array_size(out) - 1);
    if (last && strcmp(str_or(last, "role", ""), role) == 0) {
        json_array_append_new(json_object_get(last, "content"), block);
        return;
    }
    json_array_append_new(out, json_pack("{s:s,s:[o]}", "role", role, "content", block));
}

static json_t *anthropic_messages(const struct gw_llm_request_opts *o, const json_t *msgs)
{
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *role = str_or(m, "role", "");
        if (strcmp(role, "user") == 0) {
            const char *text = str_or(m, "content", "");
            anthropic_push(out, "user", json_pack("{s:s,s:s}", "type", "text", "text",
                                                  *text ? text : "(empty message)"));
        } else if (strcmp(role, "assistant") == 0) {
            const char *text = str_or(m, "content", "");
            json_t *calls = json_object_get(m, "tool_calls");
            if (*text || !json_array_size(calls))
                anthropic_push(out, "assistant", json_pack("{s:s,s:s}", "type", "text", "text",
                                                           *text ? text : "(no answer)"));
            size_t k;
            json_t *c;
            json_array_foreach(calls, k, c)
            {
                json_t *args = json_object_get(c, "arguments");
                anthropic_push(out, "assistant",
                               json_pack("{s:s,s:s,s:s,s:O}", "type", "tool_use", "id",
                                         str_or(c, "id", ""), "name", str_or(c, "name", ""),
                                         "input", json_is_object(args) ? args : json_object()));
            }
        } else if (strcmp(role, "tool") == 0) {
            anthropic_push(out, "user",
                           json_pack("{s:s,s:s,s:o,s:b}", "type", "tool_result", "tool_use_id",
                                     str_or(m, "tool_call_id", ""), "content",
                                     bounded_text(str_or(m, "content", ""), o->max_tool_result),
                                     "is_error", json_is_true(json_object_get(m, "is_error"))));
        }
    }
    return out;
}

static json_t *tool_defs(enum gw_llm_provider p, const json_t *tools)
{
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t)
    {
        const char *name = gw_json_str(t, "name");
        if (!name)
            continue;
        const char *desc = str_or(t, "description", str_or(t, "title", name));
        json_t *schema = json_object_get(t, "inputSchema");
        json_t *s = json_is_object(schema) ? json_deep_copy(schema)
                                           : json_pack("{s:s}", "type", "object");
        if (!json_object_get(s, "type"))
            json_object_set_new(s, "type", json_string("object"));
        if (p == GW_LLM_ANTHROPIC)
            json_array_append_new(out, json_pack("{s:s,s:s,s:o}", "name", name, "description",
                                                 desc, "input_schema", s));
        else
            json_array_append_new(out, json_pack("{s:s,s:{s:s,s:s,s:o}}", "type", "function",
                                                 "function", "name", name, "description", desc,
                                                 "parameters", s));
    }
    return out;
}

json_t *gw_llm_build_request(const struct gw_llm_request_opts *o, const json_t *messages,
                             const json_t *tools)
{
    json_t *norm = normalise(messages);
    json_t *body = json_pack("{s:s,s:b}", "model", o->model ? o->model : "", "stream", 1);
    long max_tokens = o->max_tokens > 0 ? o->max_tokens : 1024;
    if (o->provider == GW_LLM_ANTHROPIC) {
        if (o->system && *o->system)
            json_object_set_new(body, "system", json_string(o->system));
        json_object_set_new(body, "max_tokens", json_integer(max_tokens));
        json_object_set_new(body, "messages", anthropic_messages(o, norm));
    } else {
        json_object_set_new(body, "max_tokens", json_integer(max_tokens));
        json_object_set_new(body, "messages", openai_messages(o, norm));
    }
    if (json_array_size(tools)) {
        json_object_set_new(body, "tools", tool_defs(o->provider, tools));
        if (o->provider == GW_LLM_OPENAI)
            json_object_set_new(body, "tool_choice", json_string("auto"));
    }
    json_decref(norm);
    return body;
}

/* Copies a provider message into out: printable, bounded. */
static void copy_clean(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; s && *s && n + 1 < size; s++)
        out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
    out[n] = '\0';
}

void gw_llm_error_message(const char *body, size_t len, char *out, size_t size)
{
    out[0] = '\0';
    struct gw_json_limits lim = {1u << 20, 16};
    json_t *v = body && len ? gw_json_parse(body, len, &lim, NULL) : NULL;
    json_t *e = json_object_get(v, "error");
    const char *msg = json_is_object(e) ? gw_json_str(e, "message") : json_string_value(e);
    if (!msg)
        msg = gw_json_str(v, "message");
    copy_clean(msg, out, size);
    json_decref(v);
}

/* ================================================================ streams */

static int on_event(void *arg, const struct gw_sse_event *ev);

void gw_llm_stream_init(struct gw_llm_stream *s, enum gw_llm_provider p,
                        const struct gw_llm_stream_cb *cb)
{
    memset(s, 0, sizeof(*s));
    s->provider = p;
    gw_sse_init(&s->sse, GW_LLM_MAX_LINE, GW_LLM_MAX_EVENT, on_event, s);
    gw_buf_init(&s->text, GW_LLM_MAX_TEXT);
    for (size_t i = 0; i < GW_LLM_MAX_TOOL_CALLS; i++)
        gw_buf_init(&s->calls[i].args, GW_LLM_MAX_ARGS);
    if (cb)
        s->cb = *cb;
    s->cur_block = -1;
}

void gw_llm_stream_fini(struct gw_llm_stream *s)
{
    gw_sse_fini(&s->sse);
    gw_buf_fini(&s->text);
    for (size_t i = 0; i < GW_LLM_MAX_TOOL_CALLS; i++)
        gw_buf_fini(&s->calls[i].args);
}

/* The error of the current event, kept for gw_llm_stream_feed to report. */
static struct gw_error *cur_err(struct gw_llm_stream *s);

static int add_text(struct gw_llm_stream *s, const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (!n)
        return GW_OK;
    if (gw_buf_add(&s->text, t, n) != GW_OK)
        return GW_ERROR_SET(cur_err(s), GW_ELIMIT, "the model's answer is longer than %u bytes",
                            GW_LLM_MAX_TEXT);
    if (s->cb.text)
        s->cb.text(s->cb.arg, t, n);
    return GW_OK;
}

static struct gw_llm_tool_call *call_by_index(struct gw_llm_stream *s, json_int_t index)
{
    for (size_t i = 0; i < s->ncalls; i++)
        if (s->calls[i].index == index)
            return &s->calls[i];
    return NULL;
}

static int new_call(struct gw_llm_stream *s, json_int_t index, const char *id, const char *name,
                    struct gw_llm_tool_call **out)
{
    if (s->ncalls >= GW_LLM_MAX_TOOL_CALLS)
        return GW_ERROR_SET(cur_err(s), GW_ELIMIT, "the model asked for more than %d tool calls "
                                                   "at once", GW_LLM_MAX_TOOL_CALLS);
    if (index < 0 || index > 1000000)
        return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a tool call has an invalid index");
    if (!name || !*name || strlen(name) > GW_LLM_NAME_MAX)
        return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a tool call has no valid name");
    if (!id || !*id || strlen(id) > GW_LLM_ID_MAX)
        return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a tool call has no valid id");
    struct gw_llm_tool_call *c = &s->calls[s->ncalls++];
    c->index = (int)index;
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->name, sizeof(c->name), "%s", name);
    *out = c;
    if (s->cb.tool)
        s->cb.tool(s->cb.arg, c);
    return GW_OK;
}

static int add_args(struct gw_llm_stream *s, struct gw_llm_tool_call *c, const char *piece)
{
    if (piece && *piece && gw_buf_adds(&c->args, piece) != GW_OK)
        return GW_ERROR_SET(cur_err(s), GW_ELIMIT, "the arguments of tool call %s are longer "
                                                   "than %u bytes", c->name, GW_LLM_MAX_ARGS);
    return GW_OK;
}

static int provider_error(struct gw_llm_stream *s, const json_t *e)
{
    const char *msg = json_is_object(e) ? gw_json_str(e, "message") : json_string_value(e);
    copy_clean(msg ? msg : "unspecified error", s->error, sizeof(s->error));
    copy_clean(json_is_object(e) ? str_or(e, "type", str_or(e, "code", "")) : "", s->error_type,
               sizeof(s->error_type));
    return GW_ERROR_SET(cur_err(s), GW_EINVAL, "the provider reported an error in the stream: %s",
                        s->error);
}

static int openai_event(struct gw_llm_stream *s, const struct gw_sse_event *ev, json_t *v)
{
    (void)ev;
    json_t *err = json_object_get(v, "error");
    if (err)
        return provider_error(s, err);
    json_t *choices = json_object_get(v, "choices");
    if (!json_is_array(choices))
        return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a chunk of the stream has no choices");
    json_t *ch = json_array_get(choices, 0);
    if (!ch)
        return GW_OK; /* usage-only chunk (stream_options.include_usage) */
    json_t *delta = json_object_get(ch, "delta");
    if (delta && !json_is_object(delta))
        return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a chunk has a malformed delta");
    json_t *content = json_object_get(delta, "content");
    if (json_is_string(content)) {
        int rc = add_text(s, json_string_value(content));
        if (rc != GW_OK)
            return rc;
    }
    json_t *tcs = json_object_get(delta, "tool_calls");
    size_t i;
    json_t *tc;
    json_array_foreach(tcs, i, tc)
    {
        json_t *idx = json_object_get(tc, "index");
        json_int_t index = json_is_integer(idx) ? json_integer_value(idx) : (json_int_t)i;
        json_t *fn = json_object_get(tc, "function");
        struct gw_llm_tool_call *c = call_by_index(s, index);
        if (!c) {
            int rc = new_call(s, index, gw_json_str(tc, "id"), gw_json_str(fn, "name"), &c);
            if (rc != GW_OK)
                return rc;
        }
        int rc = add_args(s, c, gw_json_str(fn, "arguments"));
        if (rc != GW_OK)
            return rc;
    }
    const char *fr = gw_json_str(ch, "finish_reason");
    if (fr)
        copy_clean(fr, s->stop, sizeof(s->stop));
    return GW_OK;
}

static int anthropic_event(struct gw_llm_stream *s, const struct gw_sse_event *ev, json_t *v)
{
    const char *type = gw_json_str(v, "type");
    if (!type)
        type = ev->event;
    if (strcmp(type, "error") == 0)
        return provider_error(s, json_object_get(v, "error"));
    if (strcmp(type, "content_block_start") == 0) {
        json_t *b = json_object_get(v, "content_block");
        const char *bt = str_or(b, "type", "");
        json_t *idx = json_object_get(v, "index");
        if (!json_is_integer(idx))
            return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a content block has no index");
        s->cur_block = -1;
        if (strcmp(bt, "text") == 0)
            return add_text(s, gw_json_str(b, "text"));
        if (strcmp(bt, "tool_use") == 0) {
            if (call_by_index(s, json_integer_value(idx)))
                return GW_ERROR_SET(cur_err(s), GW_EINVAL, "a content block index was reused");
            struct gw_llm_tool_call *c;
            int rc = new_call(s, json_integer_value(idx), gw_json_str(b, "id"),
                              gw_json_str(b, "name"), &c);
            if (rc != GW_OK)
                return rc;
            json_t *input = json_object_get(b, "input");
            if (json_is_object(input) && json_object_size(input)) {
                char *t = gw_json_dumps(input);
                rc = add_args(s, c, t);
                gw_free(t);
            }
            return rc;
        }
        return GW_OK; /* thinking and other block kinds are not shown */
    }
    if (strcmp(type, "content_block_delta") == 0) {
        json_t *d = json_object_get(v, "delta");
        const char *dt = str_or(d, "type", "");
        if (strcmp(dt, "text_delta") == 0)
            return add_text(s, gw_json_str(d, "text"));
        if (strcmp(dt, "input_json_delta") == 0) {
            struct gw_llm_tool_call *c =
                call_by_index(s, json_integer_value(json_object_get(v, "index")));
            if (!c)
                return GW_ERROR_SET(cur_err(s), GW_EINVAL, "tool input for an unknown block");
            return add_args(s, c, gw_json_str(d, "partial_json"));
        }
        return GW_OK;
    }
    if (strcmp(type, "message_delta") == 0) {
        const char *sr = gw_json_str(json_object_get(v, "delta"), "stop_reason");
        if (sr)
            copy_clean(sr, s->stop, sizeof(s->stop));
        return GW_OK;
    }
    if (strcmp(type, "message_stop") == 0) {
        s->finished = true;
        return GW_OK;
    }
    return GW_OK; /* message_start, content_block_stop, ping, unknown future events */
}

static struct gw_error *cur_err(struct gw_llm_stream *s)
{
    return &s->err;
}

static int on_event(void *arg, const struct gw_sse_event *ev)
{
    struct gw_llm_stream *s = arg;
    if (s->finished)
        return GW_OK; /* anything after the end marker is ignored */
    if (s->provider == GW_LLM_OPENAI && ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
        s->finished = true;
        return GW_OK;
    }
    if (s->provider == GW_LLM_ANTHROPIC && strcmp(ev->event, "ping") == 0)
        return GW_OK;
    struct gw_json_limits lim = {GW_LLM_MAX_EVENT, 64};
    struct gw_error perr = {0};
    json_t *v = gw_json_parse(ev->data, ev->data_len, &lim, &perr);
    if (!json_is_object(v)) {
        json_decref(v);
        return GW_ERROR_SET(cur_err(s), GW_EINVAL, "an event of the stream is not a JSON "
                                                   "object%s%s", perr.msg[0] ? ": " : "",
                            perr.msg);
    }
    int rc = s->provider == GW_LLM_ANTHROPIC ? anthropic_event(s, ev, v)
                                             : openai_event(s, ev, v);
    json_decref(v);
    if (rc == GW_OK)
        s->started = true;
    return rc;
}

int gw_llm_stream_feed(struct gw_llm_stream *s, const char *p, size_t n, struct gw_error *err)
{
    gw_error_clear(&s->err);
    int rc = gw_sse_feed(&s->sse, p, n, &s->err);
    if (rc != GW_OK && err)
        *err = s->err;
    return rc;
}

int gw_llm_stream_end(struct gw_llm_stream *s, struct gw_error *err)
{
    if (s->sse.failed)
        return GW_ERROR_SET(err, s->sse.failed, "the stream had failed");
    if (!s->finished)
        return GW_ERROR_SET(err, GW_EINVAL, "the provider's stream ended before the answer was "
                                            "complete");
    return GW_OK;
}

bool gw_llm_stream_truncated(const struct gw_llm_stream *s)
{
    return strcmp(s->stop, "length") == 0 || strcmp(s->stop, "max_tokens") == 0;
}

json_t *gw_llm_stream_message(const struct gw_llm_stream *s)
{
    json_t *m = json_pack("{s:s,s:s%}", "role", "assistant", "content", gw_buf_ptr(&s->text),
                          gw_buf_len(&s->text));
    if (!m) /* invalid UTF-8 cannot come out of jansson-parsed strings; be safe anyway */
        m = json_pack("{s:s,s:s}", "role", "assistant", "content", "");
    if (s->ncalls) {
        json_t *calls = json_array();
        for (size_t i = 0; i < s->ncalls; i++) {
            const struct gw_llm_tool_call *c = &s->calls[i];
            json_t *args;
            if (gw_buf_len(&c->args) == 0) {
                args = json_object();
            } else {
                struct gw_json_limits lim = {GW_LLM_MAX_ARGS, 64};
                args = gw_json_parse(gw_buf_ptr(&c->args), gw_buf_len(&c->args), &lim, NULL);
                if (!json_is_object(args)) {
                    json_decref(args);
                    args = json_pack("{s:s%}", "_invalid", gw_buf_ptr(&c->args),
                                     gw_buf_len(&c->args));
                    if (!args)
                        args = json_pack("{s:s}", "_invalid", "(not UTF-8)");
                }
            }
            json_array_append_new(calls, json_pack("{s:s,s:s,s:o}", "id", c->id, "name",
                                                   c->name, "arguments", args));
        }
        json_object_set_new(m, "tool_calls", calls);
    }
    return m;
}
