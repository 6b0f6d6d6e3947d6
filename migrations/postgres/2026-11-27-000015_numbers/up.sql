-- The numbers page (src/db/numbers.rs): per (project, UTC day of the session's start) rollups,
-- kept up to date by the writer in the transaction that stores a session's summary, by deltas
-- (what the session contributed before is subtracted, its new contribution added).
-- `exit_url` is the last page a session visited; `numbered` says it is counted in the rollups
-- (sessions stored before this migration are counted from their next write on).
ALTER TABLE sessions ADD COLUMN exit_url TEXT;
ALTER TABLE sessions ADD COLUMN numbered BOOLEAN NOT NULL DEFAULT FALSE;

-- Sessions started that day, and those with at least one error.
CREATE TABLE numbers_days (
    project_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    errored BIGINT NOT NULL,
    PRIMARY KEY (project_id, day)
);
-- Sessions per log-spaced bucket of duration (metric 0) and active time (metric 1).
CREATE TABLE numbers_hist (
    project_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    metric INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    sessions BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, metric, bucket)
);
-- Per page: sessions that visited it, entered on it, left from it, and rage clicks on it.
CREATE TABLE numbers_pages (
    project_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    url TEXT NOT NULL,
    visits BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    exits BIGINT NOT NULL,
    rage_clicks BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, url)
);
-- Per custom event name: sessions that tracked it.
CREATE TABLE numbers_events (
    project_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    name TEXT NOT NULL,
    sessions BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, name)
);
-- "Active now" counts a project's open sessions without reading its ended ones.
CREATE INDEX sessions_live ON sessions (project_id) WHERE ended_at IS NULL;
