-- src/store/sql/sqlite/0002_api_keys.sql
-- API keys of service clients (src/auth/auth_apikey.c). The key itself is never stored: `hash`
-- is the hex SHA-256 of the whole key string (keys carry 256 random bits, so a fast hash is
-- enough and lets every request be checked in memory). `id` is the public part embedded in
-- the key (mcpgw_<id>_<secret>); roles are a JSON array of strings. Revocation sets
-- revoked_at (rows are kept for audit); last_used_at is written in batches, not per request.
-- Writes that change who can authenticate (create, revoke) bump registry_state.version so
-- that every replica reloads its key table. Mirrors the other backend's file; keep in step.

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    subject      TEXT NOT NULL,
    client_id    TEXT NOT NULL DEFAULT '',
    tenant       TEXT NOT NULL DEFAULT '',
    roles        TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX api_keys_subject ON api_keys (subject);
