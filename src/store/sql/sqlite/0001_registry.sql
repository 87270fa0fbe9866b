-- src/store/sql/sqlite/0001_registry.sql
-- The tool registry: API products (bundles), imported specs, tools and their version history,
-- plus the registry_state counter that every registry write bumps (replicas and the in-memory
-- snapshot compare it to know whether to reload). Timestamps are ISO-8601 UTC text
-- ("2025-01-31T09:15:00.123Z") written by the gateway, so they sort and compare as text.
-- Mirrors ../postgres/0001_registry.sql; keep the two in step.

CREATE TABLE registry_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO registry_state (id, version) VALUES (1, 0);

-- API products: groups of tools ("Service Booking"). `name` is the slug tools refer to.
CREATE TABLE bundles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Imported OpenAPI/Swagger documents, one row per spec id (re-import updates it).
CREATE TABLE specs (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    version      TEXT NOT NULL DEFAULT '',
    source_url   TEXT,
    file_name    TEXT,
    content_hash TEXT,
    content      TEXT,
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    tool_count   INTEGER NOT NULL DEFAULT 0
);

-- Tools: the definition JSON (docs/tool-model.md) is the source of truth; the other columns
-- are copies of its fields for filtering and for matching operations on re-import.
-- spec_id has no foreign key on purpose: deleting a spec may keep its tools (deprecated).
CREATE TABLE tools (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    bundle       TEXT REFERENCES bundles (name),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'active', 'deprecated', 'disabled')),
    risk         TEXT NOT NULL CHECK (risk IN ('read', 'write', 'privileged')),
    spec_id      TEXT,
    op_key       TEXT,          -- "METHOD /path" of source (upper-case method)
    operation_id TEXT,          -- source.operationId
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL
);
CREATE INDEX tools_status ON tools (status);
CREATE INDEX tools_bundle ON tools (bundle);
CREATE INDEX tools_spec ON tools (spec_id, op_key);

-- Every change to a tool appends one row holding the full definition before the change
-- (NULL for a creation). No foreign key: history outlives a deleted tool.
CREATE TABLE tool_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tool_id    INTEGER NOT NULL,
    tool_name  TEXT NOT NULL,
    version    INTEGER NOT NULL,  -- version of the tool after the change (0 after a delete)
    action     TEXT NOT NULL,     -- create | update | status | import | deprecate | delete
    previous   TEXT,
    actor      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL
);
CREATE INDEX tool_history_tool ON tool_history (tool_id, id);
CREATE INDEX tool_history_name ON tool_history (tool_name, id);
