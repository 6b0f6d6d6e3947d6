-- Who watched which session and when: one row per viewer socket (`live` or `replay`) and per
-- read of the events API (`api`). Kept when the session or the user is deleted: it is the audit.
CREATE TABLE session_access (
    id TEXT PRIMARY KEY NOT NULL,
    -- The session's key, `<project>:<id>`.
    session_key TEXT NOT NULL,
    project_id TEXT NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX session_access_session ON session_access (session_key, at);
