-- src/store/sql/postgres/0001_registry.sql
-- The tool registry: API products (bundles), imported specs, tools and their version history,
-- plus the registry_state counter that every registry write bumps (replicas and the in-memory
-- snapshot compare it to know whether to reload; writers also NOTIFY gw_registry).
-- Names use the "C" collation so that ordering is byte order, as in SQLite (pagination and the
-- snapshot sort agree on every backend). Definitions are `json` (validated, kept verbatim:
-- jsonb would reorder keys). Mirrors ../sqlite/0001_registry.sql; keep the two in step.

CREATE TABLE registry_state (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO registry_state (id, version) VALUES (1, 0);

-- API products: groups of tools ("Service Booking"). `name` is the slug tools refer to.
CREATE TABLE bundles (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text COLLATE "C" NOT NULL UNIQUE,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Imported OpenAPI/Swagger documents, one row per spec id (re-import updates it).
CREATE TABLE specs (
    id           text COLLATE "C" PRIMARY KEY,
    title        text NOT NULL,
    version      text NOT NULL DEFAULT '',
    source_url   text,
    file_name    text,
    content_hash text,
    content      text,
    imported_at  timestamptz NOT NULL,
    imported_by  text NOT NULL,
    tool_count   integer NOT NULL DEFAULT 0
);

-- Tools: the definition JSON (docs/tool-model.md) is the source of truth; the other columns
-- are copies of its fields for filtering and for matching operations on re-import.
-- spec_id has no foreign key on purpose: deleting a spec may keep its tools (deprecated).
CREATE TABLE tools (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text COLLATE "C" NOT NULL UNIQUE,
    bundle       text COLLATE "C" REFERENCES bundles (name),
    status       text NOT NULL CHECK (status IN ('draft', 'active', 'deprecated', 'disabled')),
    risk         text NOT NULL CHECK (risk IN ('read', 'write', 'privileged')),
    spec_id      text COLLATE "C",
    op_key       text COLLATE "C",  -- "METHOD /path" of source (upper-case method)
    operation_id text COLLATE "C",  -- source.operationId
    version      bigint NOT NULL,
    definition   json NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);
CREATE INDEX tools_status ON tools (status);
CREATE INDEX tools_bundle ON tools (bundle);
CREATE INDEX tools_spec ON tools (spec_id, op_key);

-- Every change to a tool appends one row holding the full definition before the change
-- (NULL for a creation). No foreign key: history outlives a deleted tool.
CREATE TABLE tool_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tool_id    bigint NOT NULL,
    tool_name  text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,  -- version of the tool after the change (0 after a delete)
    action     text NOT NULL,    -- create | update | status | import | deprecate | delete
    previous   json,
    actor      text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL
);
CREATE INDEX tool_history_tool ON tool_history (tool_id, id);
CREATE INDEX tool_history_name ON tool_history (tool_name, id);
