-- PostgreSQL gets trigram indexes for the list's substring filters here. SQLite has no index a
-- `LIKE '%…%'` can use; the list walks the sort's index and stops at a full page instead (see
-- src/db/session_list.rs), so there is nothing to create. The migration exists so that both
-- backends have the same list.
SELECT 1;
