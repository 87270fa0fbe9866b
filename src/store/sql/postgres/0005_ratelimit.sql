-- src/store/sql/postgres/0005_ratelimit.sql
-- Rate-limit rules managed at run time (`mcpgw limits`, the admin API). `definition` is the
-- rule's JSON as src/ratelimit/ratelimit_rule.h specifies it (validated by the writer; the
-- loader validates again and skips what it cannot use). Rules from the rules file are not
-- stored here. Writes bump registry_state and NOTIFY gw_registry (the registry write
-- protocol), so that every replica hears of a change at once and reloads its rules.
-- Mirrors ../sqlite/0005_ratelimit.sql; keep the two in step.

CREATE TABLE ratelimit_rules (
    id          text COLLATE "C" PRIMARY KEY,
    definition  json NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  text NOT NULL
);
