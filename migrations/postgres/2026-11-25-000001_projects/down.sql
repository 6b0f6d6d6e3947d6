DROP TABLE project_members;
DROP INDEX sessions_project;
ALTER TABLE event_chunks DROP CONSTRAINT event_chunks_session_id_fkey;
UPDATE event_chunks SET session_id = substr(session_id, strpos(session_id, ':') + 1);
UPDATE sessions SET id = substr(id, strpos(id, ':') + 1);
ALTER TABLE event_chunks ADD CONSTRAINT event_chunks_session_id_fkey
    FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE;
ALTER TABLE sessions DROP COLUMN project_id;
DROP TABLE projects;
