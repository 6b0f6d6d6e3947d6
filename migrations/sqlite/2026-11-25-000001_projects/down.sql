DROP TABLE project_members;
PRAGMA defer_foreign_keys = ON;
DROP INDEX sessions_project;
UPDATE event_chunks SET session_id = substr(session_id, instr(session_id, ':') + 1);
UPDATE sessions SET id = substr(id, instr(id, ':') + 1);
ALTER TABLE sessions DROP COLUMN project_id;
DROP TABLE projects;
