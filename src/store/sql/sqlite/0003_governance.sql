-- src/store/sql/sqlite/0003_governance.sql
-- Governance rules managed through the CLI and the admin API (src/governance): exposure rules,
-- policy rules and role definitions, each one JSON document (the same shape as in a rules
-- file, docs/governance.md). They are added after the rules of GW_GOVERNANCE_FILE. Every write
-- is a registry write (version bump + NOTIFY), so every replica reloads its rule set at once.
-- Mirrors the other backend's file; keep in step.

CREATE TABLE governance_rules (
    section    TEXT NOT NULL CHECK (section IN ('exposure', 'policies', 'roles')),
    id         TEXT NOT NULL,
    position   INTEGER NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (section, id)
);

-- Attributes of an API key's principal that policies may look at (e.g. {"dealer_ids":[...]}).
ALTER TABLE api_keys ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';
