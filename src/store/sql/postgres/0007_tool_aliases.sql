-- src/store/sql/postgres/0007_tool_aliases.sql
-- Old names of renamed tools (docs/openapi-import.md "Naming across specs"): for its
-- deprecation period an alias still reaches the tool (tools/call resolves it) and no other tool
-- may take the name, so a rename never silently breaks an agent that relies on the old name.
-- Expired rows are ignored and removed by later renames. Deleting a tool removes its aliases.
-- Mirrors ../sqlite/0007_tool_aliases.sql; keep the two in step.

CREATE TABLE tool_aliases (
    name       text COLLATE "C" NOT NULL PRIMARY KEY,
    tool_id    bigint NOT NULL REFERENCES tools (id) ON DELETE CASCADE,
    expires_at text NOT NULL,   -- ISO-8601 UTC, as every timestamp of the store
    created_at text NOT NULL
);
CREATE INDEX tool_aliases_tool ON tool_aliases (tool_id);
