/*
 * src/chat/chat.h
 * The chat agent's backend on the data-plane listener: a person signs in on the chat page
 * (/chat/, static assets served by src/web) and talks to an LLM agent that calls the gateway's
 * tools under that person's identity, in process, through the same protocol server and
 * governance as any MCP client.
 *
 * API (/chat/api/, JSON; every request but /config carries the same Authorization header as
 * /mcp and is authenticated by the gateway's authenticator):
 *   GET    /chat/api/config                          provider, model, sign-in settings (public)
 *   GET    /chat/api/me                              the signed-in principal
 *   GET    /chat/api/conversations                   the person's conversations
 *   POST   /chat/api/conversations                   a new one {"title"?} -> 201
 *   GET    /chat/api/conversations/{id}              one, with messages and pending confirmations
 *   DELETE /chat/api/conversations/{id}              -> 204
 *   POST   /chat/api/conversations/{id}/messages     {"content"} -> one turn, streamed (SSE)
 *   POST   /chat/api/conversations/{id}/confirm      {"call_id","accept"} -> the turn resumed
 * A streamed turn answers text/event-stream with events: step, text {delta}, tool_call {id,
 * name, arguments}, confirm {id, name, arguments, message}, confirm_answer, tool_result {id,
 * name, decision, is_error, content, error?}, status {message}, error {kind, message,
 * retry_after?}, done {state, steps}, saved {version}.
 * Design: the agent loop (chat_agent.c) runs on the worker loop that received the request;
 * model answers stream in through the worker's own asynchronous HTTP client (src/httpc with
 * on_data), tool calls go through gw_mcp_server_call (2026-07-28, stateless; confirmation
 * arrives as input_required + requestState and is re-sent with the user's answer); the
 * conversations live in the registry database and every database access runs on a small
 * thread pool, never on a loop. Keys of the provider stay in the gateway.
 * Threading: attach/free on the main thread; everything else on worker loops and the pool.
 */
#ifndef GW_CHAT_CHAT_H
#define GW_CHAT_CHAT_H

#include "core/err.h"
#include "core/settings.h"
#include "ctx/ctx.h"
#include "net/net_server.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_chat;
struct gw_mcp_server;

extern const struct gw_setting_def gw_chat_settings[];

struct gw_chat_config {
    const struct gw_settings *settings;
    struct gw_mcp_server *mcp;       /* the protocol server tools are called through */
    struct gw_authn authn;           /* ops NULL: every request is anonymous */
    const char *store_url;
    const struct gw_store_options *store_opts;
    const json_t *auth_config;       /* gw_auth_public_config (borrowed, copied); may be NULL */
};

/* Registers /chat/api/ on `http` (before the page's routes) with per-worker state. GW_OK with
 * *out, GW_DECLINED (GW_CHAT_ENABLED=false: nothing registered, *out NULL), or GW_EINVAL (bad
 * settings: a provider without a model, an unreadable key or prompt file; err says which).
 * Blocks (reads files). */
int gw_chat_attach(struct gw_server *http, const struct gw_chat_config *cfg,
                   struct gw_chat **out, struct gw_error *err);
/* After the server stopped. Accepts NULL. */
void gw_chat_free(struct gw_chat *c);
/* One line for the start-up log: provider and model, or why there is none. */
const char *gw_chat_describe(const struct gw_chat *c);

/* ---- pure helpers (exposed for tests) ---- */

/* The conversation owner key of a principal: hex SHA-256 of method, issuer and subject. */
void gw_chat_owner_key(const struct gw_principal *p, char out[65]);

enum gw_chat_route {
    GW_CHAT_R_NONE = 0,
    GW_CHAT_R_CONFIG,
    GW_CHAT_R_ME,
    GW_CHAT_R_CONVERSATIONS,
    GW_CHAT_R_CONVERSATION,
    GW_CHAT_R_MESSAGES,
    GW_CHAT_R_CONFIRM
};
/* Matches a decoded path below /chat/api/; *id receives the conversation id (validated:
 * 1..64 of [A-Za-z0-9_-]). GW_OK, GW_ENOTFOUND. */
int gw_chat_route(const char *path, enum gw_chat_route *out, char id[65]);

/* Chooses at most `max` tools of `tools` (an array of MCP tool objects, borrowed) for a
 * conversation: all when they fit, else the best matches of the words of the user's messages
 * (name and description, names weigh more; ties keep the catalogue order). New array. */
json_t *gw_chat_select_tools(const json_t *tools, const json_t *messages, size_t max);

/* The system prompt: `tmpl` (NULL = built-in) with {date} = today at the offset and {user}. */
char *gw_chat_system_prompt(const char *tmpl, long long now_s, int offset_min,
                            const char *user);

/* The last messages of a conversation to send to the model: at most `max`, starting at a user
 * message. New reference. */
json_t *gw_chat_history_window(const json_t *messages, size_t max);

#endif
