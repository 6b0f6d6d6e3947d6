DROP TRIGGER session_search_page;
DROP TRIGGER session_search_delete;
DROP TRIGGER session_search_update;
DROP TRIGGER session_search_insert;
DROP TABLE session_search;
DROP TABLE session_search_keys;
