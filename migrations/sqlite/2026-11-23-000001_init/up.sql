-- Times are milliseconds since the Unix epoch (hub clock) except *_ts, which are the
-- visitor's rrweb timestamps; integers keep one query path for SQLite and PostgreSQL.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    started_at BIGINT NOT NULL,
    last_event_at BIGINT NOT NULL,
    ended_at BIGINT,
    url TEXT,
    user_agent TEXT,
    event_count BIGINT NOT NULL DEFAULT 0,
    raw_bytes BIGINT NOT NULL DEFAULT 0,
    stored_bytes BIGINT NOT NULL DEFAULT 0,
    first_event_ts BIGINT,
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_started ON sessions (started_at DESC, id DESC);
CREATE INDEX sessions_ended ON sessions (ended_at);

CREATE TABLE event_chunks (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    first_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    event_count INTEGER NOT NULL,
    meta_seq BIGINT,
    meta_ts BIGINT,
    raw_len INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (session_id, first_seq)
);
CREATE INDEX event_chunks_meta ON event_chunks (session_id, meta_ts) WHERE meta_seq IS NOT NULL;
