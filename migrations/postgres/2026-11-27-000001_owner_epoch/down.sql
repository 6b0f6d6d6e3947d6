ALTER TABLE session_owners DROP COLUMN epoch;
