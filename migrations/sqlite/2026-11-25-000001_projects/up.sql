-- Projects: each has a public ingest key that recorders send, the origins its pages may record
-- from (space-separated; empty means any) and how many days its sessions are kept.
CREATE TABLE projects (
    id TEXT PRIMARY KEY NOT NULL,
    -- NULL only for the default project an upgrade creates: the hub gives it a key at start.
    public_key TEXT UNIQUE,
    allowed_origins TEXT NOT NULL DEFAULT '',
    retention_days INTEGER NOT NULL DEFAULT 30,
    created_at BIGINT NOT NULL
);

-- Sessions already recorded belong to the default project.
INSERT INTO projects (id, public_key, allowed_origins, retention_days, created_at)
SELECT 'default', NULL, '', 30, CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE EXISTS (SELECT 1 FROM sessions);

-- A session's key in the hub is `<project>:<id>` (two projects may use the same id); its
-- chunks follow. The chunks' foreign key is checked at commit, once both tables agree again.
PRAGMA defer_foreign_keys = ON;
ALTER TABLE sessions ADD COLUMN project_id TEXT NOT NULL DEFAULT 'default';
UPDATE event_chunks SET session_id = 'default:' || session_id;
UPDATE sessions SET id = 'default:' || id;
CREATE INDEX sessions_project ON sessions (project_id, started_at DESC, id DESC);

-- Which members see which project (admins see every project).
CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    PRIMARY KEY (project_id, username)
);
CREATE INDEX project_members_user ON project_members (username);
