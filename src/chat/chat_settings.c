/*
 * src/chat/chat_settings.c
 * The GW_CHAT_* settings (declarative table registered by the app; docs/configuration.md is
 * generated from it) and their translation into struct gw_chat_config.
 */
#include "chat/chat.h"

#include <string.h>

#define GROUP "Chat agent"

const struct gw_setting_def gw_chat_settings[] = {
    {"GW_CHAT_ENABLED", GW_SET_BOOL, "true", 0, 0, NULL, GROUP,
     "Serve the chat agent's API at /chat/api/ on the data-plane listener (GW_LISTEN). Every "
     "request is authenticated like /mcp and the agent calls tools under the signed-in user's "
     "identity, so exposure, policies, confirmation, limits and audit apply unchanged."},
    {"GW_CHAT_UI_DIR", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Directory of the built chat page (ui/chat/dist; scripts/run.sh builds and sets it), served "
     "at /chat/ on the data-plane listener. Read once at start-up. Empty: no page (the API "
     "still works)."},
    {"GW_CHAT_UI_CONNECT_SRC", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Extra origins the chat page may connect to (Content-Security-Policy connect-src, space "
     "separated): the OIDC provider's origin for sign-in."},
    {"GW_CHAT_OIDC_CLIENT_ID", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "OAuth client id the chat page signs in with (authorization code + PKCE at GW_OIDC_ISSUER); "
     "empty: the admin console's client id. Its tokens must carry the gateway's resource as "
     "audience, like any MCP client's."},
    {"GW_CHAT_PROVIDER", GW_SET_ENUM, "none", 0, 0, "none|openai|anthropic", GROUP,
     "The LLM provider: `openai` (any OpenAI-compatible Chat Completions endpoint: OpenAI, "
     "Azure OpenAI's compatible endpoint, vLLM, Ollama, LiteLLM ...) or `anthropic` (the "
     "Anthropic Messages API). `none`: the chat page says that no model is configured."},
    {"GW_CHAT_MODEL", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Model name sent to the provider (e.g. `gpt-4o-mini`, `claude-sonnet-4-5`). Required with "
     "a provider."},
    {"GW_CHAT_BASE_URL", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Base URL of the provider's API, up to and including its version path; the gateway appends "
     "`/chat/completions` (openai) or `/messages` (anthropic). Empty: "
     "https://api.openai.com/v1 or https://api.anthropic.com/v1."},
    {"GW_CHAT_API_KEY", GW_SET_SECRET, "", 0, 0, NULL, GROUP,
     "The provider's API key (sent as `Authorization: Bearer` to openai, `x-api-key` to "
     "anthropic). Prefer GW_CHAT_API_KEY_FILE. Never sent to the browser nor logged."},
    {"GW_CHAT_API_KEY_FILE", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "File holding the provider's API key (a mounted secret; surrounding white space is "
     "ignored). Read at start-up; wins over GW_CHAT_API_KEY."},
    {"GW_CHAT_CA_FILE", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "PEM CA bundle to verify the provider's TLS certificate (empty: the system store)."},
    {"GW_CHAT_MAX_TOKENS", GW_SET_INT, "1024", 16, 65536, NULL, GROUP,
     "Most tokens the model may produce in one answer."},
    {"GW_CHAT_MAX_STEPS", GW_SET_INT, "8", 1, 64, NULL, GROUP,
     "Step budget of one turn: the most answers the model may give (each answer may call "
     "several tools in parallel) before the agent stops and says so."},
    {"GW_CHAT_TURN_TIMEOUT_SECONDS", GW_SET_INT, "120", 5, 3600, NULL, GROUP,
     "Time budget of one turn (model answers, tool calls and retries together); when it runs "
     "out the turn ends with a clear message and what was done so far is kept."},
    {"GW_CHAT_LLM_TIMEOUT_SECONDS", GW_SET_INT, "60", 2, 600, NULL, GROUP,
     "Longest one model answer may take (connection, queueing and streaming)."},
    {"GW_CHAT_LLM_STALL_SECONDS", GW_SET_INT, "20", 1, 600, NULL, GROUP,
     "A model answer that sends nothing for this long is given up (a stalled stream)."},
    {"GW_CHAT_LLM_RETRIES", GW_SET_INT, "2", 0, 10, NULL, GROUP,
     "How often one model answer is retried after a rate limit (HTTP 429) or an overloaded "
     "provider (503, 529) that says when to come back (Retry-After) within "
     "GW_CHAT_RETRY_MAX_WAIT_SECONDS and the turn's time budget."},
    {"GW_CHAT_RETRY_MAX_WAIT_SECONDS", GW_SET_INT, "10", 0, 300, NULL, GROUP,
     "Longest Retry-After the agent waits for by itself; a longer one ends the turn with the "
     "time to wait."},
    {"GW_CHAT_MAX_TOOLS", GW_SET_INT, "40", 1, 128, NULL, GROUP,
     "Most tools offered to the model in one request: the user's exposed tools (tools/list "
     "under their identity); from larger catalogues the ones whose names and descriptions best "
     "match the conversation."},
    {"GW_CHAT_HISTORY_MESSAGES", GW_SET_INT, "60", 4, 1000, NULL, GROUP,
     "Most recent messages of a conversation sent to the model (cut at a user message)."},
    {"GW_CHAT_MAX_CONVERSATIONS", GW_SET_INT, "200", 1, 100000, NULL, GROUP,
     "Conversations one person may keep; creating one more is refused until some are deleted."},
    {"GW_CHAT_RETENTION_DAYS", GW_SET_INT, "90", 0, 36500, NULL, GROUP,
     "Conversations not written to for this many days are deleted (checked at start and "
     "hourly): they hold what customers and tools said, personal data kept no longer than "
     "needed. 0 = keep until their owner deletes them. The tool calls stay in the audit trail."},
    {"GW_CHAT_MAX_MESSAGE_BYTES", GW_SET_INT, "8192", 16, 65536, NULL, GROUP,
     "Longest message a person may send."},
    {"GW_CHAT_SYSTEM_PROMPT_FILE", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "File with the system prompt (empty: the built-in service-assistant prompt). `{date}` is "
     "replaced by today's date and `{user}` by the signed-in person's name or subject."},
    {"GW_CHAT_TIMEZONE_OFFSET_MINUTES", GW_SET_INT, "330", -720, 840, NULL, GROUP,
     "Offset from UTC of the date the model is told is today (minutes; 330 = India Standard "
     "Time), so that \"tomorrow\" means the user's tomorrow."},
    GW_SETTINGS_END,
};
