-- src/store/sql/postgres/0008_chat_retention.sql
-- Conversations not written to for GW_CHAT_RETENTION_DAYS are deleted hourly
-- (src/chat/chat_api.c, store_janitor.c): the deletion looks them up by their last write.
-- Mirrors ../sqlite/0008_chat_retention.sql; keep the two in step.

CREATE INDEX chat_conversations_updated ON chat_conversations (updated_at);
