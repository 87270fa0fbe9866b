/*
 * src/chat/chat_llm.h
 * The LLM providers' wire formats: building a streaming request from the conversation, and
 * reading the streamed answer back into one assistant message.
 *
 * Two providers: any OpenAI-compatible Chat Completions endpoint (POST {base}/chat/completions,
 * "stream": true, tool calls as `tool_calls` deltas keyed by index, "data: [DONE]") and the
 * Anthropic Messages API (POST {base}/messages, typed events message_start, content_block_*,
 * message_delta, message_stop, error; tool_use blocks with input_json_delta).
 * The conversation is kept in one neutral form (chat_agent.h) and translated here:
 *   {"role":"user","content":"..."}
 *   {"role":"assistant","content":"...","tool_calls":[{"id","name","arguments":{..}}]}
 *   {"role":"tool","tool_call_id","name","content":"...","is_error":bool, ...display fields}
 *   {"role":"event", ...}   (errors and notes shown to the user; never sent to the model)
 * An assistant's tool call without a result (an interrupted turn) is given one ("not made")
 * so that both providers accept the history.
 * The stream reader is pure (no I/O): bytes in, callbacks and a final message out. Every limit
 * (line, event, text, argument sizes, number of tool calls) fails the stream with a clear
 * message; tests/fuzz/fuzz_chat_stream.c feeds it arbitrary bytes.
 */
#ifndef GW_CHAT_LLM_H
#define GW_CHAT_LLM_H

#include "chat/chat_sse.h"
#include "core/buf.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum gw_llm_provider { GW_LLM_NONE = 0, GW_LLM_OPENAI, GW_LLM_ANTHROPIC };

/* "openai", "anthropic" -> the provider; anything else GW_LLM_NONE. */
enum gw_llm_provider gw_llm_provider_parse(const char *s);
const char *gw_llm_provider_name(enum gw_llm_provider p);

#define GW_LLM_MAX_TOOL_CALLS 16     /* tool calls in one assistant message */
#define GW_LLM_MAX_TEXT (256u << 10) /* text of one assistant message */
#define GW_LLM_MAX_ARGS (64u << 10)  /* arguments of one tool call */
#define GW_LLM_MAX_LINE (1u << 20)   /* one line of the stream */
#define GW_LLM_MAX_EVENT (1u << 20)  /* one event of the stream */
#define GW_LLM_ID_MAX 127
#define GW_LLM_NAME_MAX 127

/* ---- requests ---- */

struct gw_llm_request_opts {
    enum gw_llm_provider provider;
    const char *model;
    const char *system;       /* the system prompt */
    long max_tokens;          /* per answer */
    size_t max_tool_result;   /* bytes of one tool result given to the model */
};

/* The JSON body of a streaming request for `messages` (neutral form, borrowed) and `tools`
 * (MCP tool objects {name, description, inputSchema}, borrowed; may be NULL or empty). New
 * reference. */
json_t *gw_llm_build_request(const struct gw_llm_request_opts *o, const json_t *messages,
                             const json_t *tools);

/* The path appended to the base URL ("/chat/completions", "/messages"). */
const char *gw_llm_path(enum gw_llm_provider p);

/* The message of a provider's error body ({"error":{"message"}} or {"type":"error","error":
 * {"message"}}), copied into out (truncated, control characters replaced); "" when none. */
void gw_llm_error_message(const char *body, size_t len, char *out, size_t size);

/* ---- the streamed answer ---- */

struct gw_llm_tool_call {
    char id[GW_LLM_ID_MAX + 1];
    char name[GW_LLM_NAME_MAX + 1];
    struct gw_buf args; /* the arguments' JSON text as streamed */
    int index;          /* the provider's index of this call / block */
};

struct gw_llm_stream;

/* Streaming callbacks (may be NULL): a piece of text, a tool call whose name is known. */
struct gw_llm_stream_cb {
    void (*text)(void *arg, const char *delta, size_t len);
    void (*tool)(void *arg, const struct gw_llm_tool_call *call);
    void *arg;
};

struct gw_llm_stream {
    enum gw_llm_provider provider;
    struct gw_sse_reader sse;
    struct gw_buf text;
    struct gw_llm_tool_call calls[GW_LLM_MAX_TOOL_CALLS];
    size_t ncalls;
    char stop[32];         /* finish/stop reason as the provider said it; "" none yet */
    bool finished;         /* [DONE] / message_stop seen */
    bool started;          /* a first well-formed event was seen */
    char error[300];       /* an error the provider reported inside the stream */
    char error_type[64];
    struct gw_llm_stream_cb cb;
    int cur_block;         /* anthropic: index of the open tool_use block's call, -1 none */
    struct gw_error err;   /* what went wrong in the event being read */
};

void gw_llm_stream_init(struct gw_llm_stream *s, enum gw_llm_provider p,
                        const struct gw_llm_stream_cb *cb);
void gw_llm_stream_fini(struct gw_llm_stream *s);

/* Feeds bytes of the response body. GW_OK, or GW_EINVAL / GW_ELIMIT with err saying what was
 * wrong (malformed event, limit, an error event of the provider: then s->error is set). */
int gw_llm_stream_feed(struct gw_llm_stream *s, const char *p, size_t n, struct gw_error *err);

/* The stream has ended: GW_OK when it was complete (the provider's end marker seen), else
 * GW_EINVAL ("ended before the answer was complete"). */
int gw_llm_stream_end(struct gw_llm_stream *s, struct gw_error *err);

/* The assistant message in neutral form: {"role":"assistant","content":text,"tool_calls":[..]}
 * with each call's arguments parsed (an unparsable or non-object argument text is kept as
 * {"_invalid": "<text>"} so the agent can tell the model). New reference. */
json_t *gw_llm_stream_message(const struct gw_llm_stream *s);

/* Whether the model stopped because it hit the token limit ("length", "max_tokens"). */
bool gw_llm_stream_truncated(const struct gw_llm_stream *s);

#endif
