-- Retention finds a project's sessions whose last event is older than its `retention_days`,
-- oldest first, and deletes them with their chunks and their access-log rows.
CREATE INDEX sessions_retention ON sessions (project_id, last_event_at, id);
