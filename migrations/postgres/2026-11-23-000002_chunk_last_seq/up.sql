-- The writer merges a session's small per-flush chunks into bigger ones; readers page by the
-- last seq a chunk holds, which stays valid when the chunks before their cursor are merged.
CREATE UNIQUE INDEX event_chunks_last_seq ON event_chunks (session_id, last_seq);
