DROP INDEX IF EXISTS sessions_user_trgm;
DROP INDEX IF EXISTS sessions_traits_trgm;
DROP INDEX IF EXISTS sessions_url_trgm;
DROP INDEX IF EXISTS session_pages_url_trgm;
