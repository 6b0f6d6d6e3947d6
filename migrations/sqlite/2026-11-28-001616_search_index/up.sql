-- A trigram index (FTS5) over what the list's substring filters search: `q` the user id,
-- traits, first URL and pages visited, `url` the pages. The list takes its matches as candidates
-- and keeps the `LIKE` of src/db/session_list.rs as the final test, so the filters mean what they
-- meant (a substring, ASCII case ignored) and an entry that says too much costs time, never a
-- wrong answer; one that says too little would lose a match, hence the triggers below.
--
-- One entry per session (its row's text) and one per page, so that a new page adds its own URL
-- instead of rewriting the session's. FTS5 entries are found by an integer key; `sessions` has a
-- text key and a rowid that `VACUUM` may renumber, so `session_search_keys` holds the link, with
-- its own INTEGER PRIMARY KEY, which `VACUUM` keeps.
CREATE TABLE session_search_keys (
    key INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    of_page BOOLEAN NOT NULL
);
CREATE INDEX session_search_keys_session ON session_search_keys (session_id, of_page);
CREATE VIRTUAL TABLE session_search USING fts5 (user_id, traits, url, page, tokenize = 'trigram');

-- Kept in step in the transaction of the statement that changes the session (the writer's, with
-- its events and summary; retention's; a project's removal), from the values at hand: nothing
-- stored is read again. The summary sets the user and traits at every flush, hence the WHEN.
-- Pages are only deleted with their session.
CREATE TRIGGER session_search_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_search_keys (session_id, of_page) VALUES (new.id, FALSE);
    INSERT INTO session_search (rowid, user_id, traits, url)
    VALUES (last_insert_rowid(), new.user_id, new.traits, new.url);
END;
CREATE TRIGGER session_search_update AFTER UPDATE OF user_id, traits, url ON sessions
WHEN old.user_id IS NOT new.user_id OR old.traits IS NOT new.traits OR old.url IS NOT new.url
BEGIN
    UPDATE session_search SET user_id = new.user_id, traits = new.traits, url = new.url
    WHERE rowid = (SELECT key FROM session_search_keys WHERE session_id = new.id AND NOT of_page);
END;
CREATE TRIGGER session_search_delete AFTER DELETE ON sessions BEGIN
    DELETE FROM session_search
    WHERE rowid IN (SELECT key FROM session_search_keys WHERE session_id = old.id);
    DELETE FROM session_search_keys WHERE session_id = old.id;
END;
CREATE TRIGGER session_search_page AFTER INSERT ON session_pages BEGIN
    INSERT INTO session_search_keys (session_id, of_page) VALUES (new.session_id, TRUE);
    INSERT INTO session_search (rowid, page) VALUES (last_insert_rowid(), new.url);
END;

-- The sessions stored before: their rows, then their pages under keys numbered past them.
INSERT INTO session_search_keys (session_id, of_page) SELECT id, FALSE FROM sessions;
INSERT INTO session_search (rowid, user_id, traits, url)
SELECT k.key, s.user_id, s.traits, s.url
FROM session_search_keys k JOIN sessions s ON s.id = k.session_id;
CREATE TEMP TABLE session_search_backfill AS
SELECT coalesce((SELECT max(key) FROM session_search_keys), 0)
        + row_number() OVER (ORDER BY session_id, url) AS key,
    session_id, url
FROM session_pages;
INSERT INTO session_search_keys (key, session_id, of_page)
SELECT key, session_id, TRUE FROM session_search_backfill;
INSERT INTO session_search (rowid, page) SELECT key, url FROM session_search_backfill;
DROP TABLE session_search_backfill;
