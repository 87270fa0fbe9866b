-- src/store/sql/postgres/0006_chat.sql
-- Conversations of the chat agent (src/chat, src/store/store_chat.c), one row per conversation.
-- `owner` is the hex SHA-256 of the signed-in person's identity (authentication method, issuer
-- and subject), so a conversation is listed, resumed and deleted by that person only and the
-- table holds no user name. `messages` is the conversation as a JSON array (the neutral form of
-- src/chat/chat_llm.h: user, assistant with tool calls, tool results with the gateway's
-- decision, error events), bounded by the chat module; `pending` is the JSON of tool calls
-- waiting for the user's confirmation (the gateway's sealed requestState), or NULL.
-- `version` increases with every write (a turn saves only over the version it started from).
-- Not registry data: writes do not bump registry_state.version. Mirrors the other backend's
-- file; keep in step.

CREATE TABLE chat_conversations (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    messages   TEXT NOT NULL DEFAULT '[]',
    pending    TEXT,
    version    BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX chat_conversations_owner ON chat_conversations (owner, updated_at);
