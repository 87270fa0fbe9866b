/*
 * src/chat/chat_agent.h
 * One turn of the chat agent as a state machine, independent of any I/O.
 *
 * A turn starts from a user's message (or from the user's answer to a confirmation) and runs:
 *
 *     LLM ──answer with tool calls──► TOOLS (all calls of the answer, in parallel)
 *      ▲                                 │ every call settled
 *      └──────── results to the model ◄──┤
 *                                        └─ some call needs the user's confirmation ──► WAIT
 *     LLM ──answer without tool calls──► DONE         any failure / budget ──► FAILED
 *
 * Every LLM answer is one step; a turn takes at most max_steps (the step budget). A tool error
 * or a refusal is given back to the model as the call's result (so it can recover or explain);
 * an unparsable argument text is refused before any call. A call answered input_required
 * (governance's confirmation, 2026-07-28) makes the turn wait: its sealed requestState and the
 * question are kept in `pending`, the conversation is saved, and a later turn resumes with the
 * user's answer (gw_chat_turn_answer), re-sending the very same call.
 * The environment (chat_api.c; the unit tests use a scripted one) starts LLM answers and tool
 * calls, reports their outcome back, and receives the events the browser is shown.
 * The time budget is the environment's (a timer that calls gw_chat_turn_abort).
 * Threading: one loop thread.
 */
#ifndef GW_CHAT_AGENT_H
#define GW_CHAT_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_chat_turn;

enum gw_chat_state {
    GW_CHAT_IDLE,
    GW_CHAT_LLM,    /* waiting for the model's answer */
    GW_CHAT_TOOLS,  /* waiting for tool calls */
    GW_CHAT_WAIT,   /* finished: waiting for the user's confirmation */
    GW_CHAT_DONE,   /* finished: the model answered */
    GW_CHAT_FAILED  /* finished: provider failure, budget, abort */
};
const char *gw_chat_state_name(enum gw_chat_state s);

struct gw_chat_turn_ops {
    /* Starts the model's answer to the conversation `messages` (borrowed for the call). The
     * environment reports with gw_chat_turn_llm_text (any number of times), then exactly one of
     * gw_chat_turn_llm_done / gw_chat_turn_llm_failed (never from inside llm_start). */
    void (*llm_start)(void *env, struct gw_chat_turn *t, const json_t *messages);
    /* Starts tools/call `name` with `args`; for a confirmation answer also the sealed
     * `request_state` and `input_responses` (else NULL). The environment reports once with
     * gw_chat_turn_tool_done(t, slot, ...) (never from inside tool_start). */
    void (*tool_start)(void *env, struct gw_chat_turn *t, size_t slot, const char *name,
                       const json_t *args, const char *request_state,
                       const json_t *input_responses);
    /* An event for the browser: `name` and its data (stolen). */
    void (*emit)(void *env, struct gw_chat_turn *t, const char *name, json_t *data);
    /* The turn has finished (state DONE, WAIT or FAILED): save and close. Called once. */
    void (*finished)(void *env, struct gw_chat_turn *t);
};

/* A turn over the conversation `messages` (stolen; neutral form, chat_llm.h) with the pending
 * confirmation state `pending` (stolen; NULL when none). */
struct gw_chat_turn *gw_chat_turn_new(const struct gw_chat_turn_ops *ops, void *env,
                                      json_t *messages, json_t *pending, int max_steps);
void gw_chat_turn_free(struct gw_chat_turn *t);

/* Starts a turn with the user's message. GW_OK, or GW_ECONFLICT when a confirmation is pending
 * (the user must answer it first). */
int gw_chat_turn_start(struct gw_chat_turn *t, const char *user_text);
/* Resumes with the user's answer to the pending confirmation of tool call `call_id`. GW_OK,
 * GW_ENOTFOUND (no such pending confirmation). */
int gw_chat_turn_answer(struct gw_chat_turn *t, const char *call_id, bool accept);

/* Reports from the environment. */
void gw_chat_turn_llm_text(struct gw_chat_turn *t, const char *delta, size_t len);
/* The model's complete answer (neutral assistant message, stolen); `truncated` when it hit its
 * token limit. */
void gw_chat_turn_llm_done(struct gw_chat_turn *t, json_t *assistant, bool truncated);
/* The model could not answer: `kind` (provider_down, rate_limited, malformed, timeout,
 * provider_error, not_configured), a message for the user, seconds to wait (0 unknown). */
void gw_chat_turn_llm_failed(struct gw_chat_turn *t, const char *kind, const char *message,
                             long retry_after_s);
/* A tool call's final JSON-RPC message (borrowed; NULL: no answer). */
void gw_chat_turn_tool_done(struct gw_chat_turn *t, size_t slot, const json_t *response);
/* Ends the turn now (time budget): outstanding work is forgotten (the environment cancels it
 * first), the failure is recorded. No-op once finished. */
void gw_chat_turn_abort(struct gw_chat_turn *t, const char *kind, const char *message);

enum gw_chat_state gw_chat_turn_state(const struct gw_chat_turn *t);
/* The conversation as it stands (borrowed) and the pending confirmations (borrowed; NULL). */
const json_t *gw_chat_turn_messages(const struct gw_chat_turn *t);
const json_t *gw_chat_turn_pending(const struct gw_chat_turn *t);
int gw_chat_turn_steps(const struct gw_chat_turn *t);

/* ---- pure helpers (exposed for tests) ---- */

/* What a tool call's final message means for the model and the user. */
struct gw_chat_tool_outcome {
    const char *decision; /* "allowed", "confirmed", "declined", "denied", "error", "confirm" */
    bool is_error;
    json_t *content;      /* string: the result as the model reads it (new reference) */
    json_t *error;        /* {code, message, reason?, hint?} of a refusal (new ref) or NULL */
    json_t *confirm;      /* "confirm": {request_state, message} (new reference) or NULL */
};
/* Classifies `response` (a JSON-RPC response, or NULL). `answered`: the call carried the user's
 * answer (accept = the user said yes). Free with gw_chat_tool_outcome_fini. */
void gw_chat_tool_outcome(const json_t *response, bool answered, bool accept,
                          struct gw_chat_tool_outcome *out);
void gw_chat_tool_outcome_fini(struct gw_chat_tool_outcome *o);

#endif
