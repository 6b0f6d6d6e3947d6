-- What the hub derives from a session's events (src/summary.rs), stored with the events it
-- covers, in columns the list filters and sorts on. `duration_ms` is first to last event (the
-- visitor's clock); sessions stored before it get their hub-clock span.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN traits TEXT;
ALTER TABLE sessions ADD COLUMN browser TEXT;
ALTER TABLE sessions ADD COLUMN os TEXT;
ALTER TABLE sessions ADD COLUMN device TEXT;
ALTER TABLE sessions ADD COLUMN viewport_width BIGINT;
ALTER TABLE sessions ADD COLUMN viewport_height BIGINT;
ALTER TABLE sessions ADD COLUMN page_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN active_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN error_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN click_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rage_click_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN custom_event_count BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET duration_ms = MAX(last_event_at - started_at, 0);

-- Each sort is a keyset over (key, id); equality filters have their own index.
CREATE INDEX sessions_duration ON sessions (duration_ms, id);
CREATE INDEX sessions_active ON sessions (active_ms, id);
CREATE INDEX sessions_errors ON sessions (error_count, id);
CREATE INDEX sessions_user ON sessions (user_id, started_at);
CREATE INDEX sessions_browser ON sessions (browser, started_at);
CREATE INDEX sessions_os ON sessions (os, started_at);
CREATE INDEX sessions_device ON sessions (device, started_at);

-- Distinct pages visited and custom event names, per session (capped, see src/summary.rs).
CREATE TABLE session_pages (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    PRIMARY KEY (session_id, url)
);
CREATE TABLE session_events (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (session_id, name)
);
CREATE INDEX session_events_name ON session_events (name, session_id);
