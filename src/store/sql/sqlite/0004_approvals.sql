-- src/store/sql/sqlite/0004_approvals.sql
-- Approvals (src/governance/gov_confirm.c): a call that needs the user's confirmation from a
-- client that cannot ask for it becomes a pending approval that a person approves or denies in
-- the admin console; the client then repeats the exact call naming the approval, which is spent
-- (single use). Bound to the principal (binding), the tool and the SHA-256 of the canonical
-- arguments. Not registry writes. Mirrors the other backend's file; keep in step.

CREATE TABLE approvals (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    binding     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    client_id   TEXT NOT NULL DEFAULT '',
    tool        TEXT NOT NULL,
    risk        TEXT NOT NULL DEFAULT '',
    args_digest TEXT NOT NULL,
    arguments   TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    decided_at  TEXT,
    decided_by  TEXT,
    comment     TEXT,
    used_at     TEXT
);
CREATE INDEX approvals_status ON approvals (status, created_at);
CREATE INDEX approvals_call ON approvals (binding, tool, args_digest);
