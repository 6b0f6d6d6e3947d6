-- SQLite gets a trigram index (FTS5) for the list's substring filters here. PostgreSQL has had
-- its own since 2026-11-27-000016_substring_search (pg_trgm); the migration exists so that both
-- backends have the same list.
SELECT 1;
