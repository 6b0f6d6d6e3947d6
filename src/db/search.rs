//! SQLite's index for the session list's substring filters: the FTS5 `trigram` table
//! `session_search` (migration 2026-11-28-001616_search_index, kept in step by triggers) gives
//! the sessions that may contain a text; the list's `LIKE` then decides, so the filters mean
//! what they mean without it. PostgreSQL has pg_trgm indexes under the `LIKE` itself.

use diesel::{dsl::sql, sql_types::Bool, sql_types::Text};

use super::session_list::Cond;

/// The trigram tokenizer indexes every run of three characters: a shorter text has none to look
/// up (FTS5 finds nothing for it), so the list searches it with `LIKE` alone.
const MIN_CHARS: usize = 3;

/// Whether the index can find `text`. A NUL would end the text where SQLite reads it as a C
/// string, so such a text is left to `LIKE` too.
pub fn indexed(text: &str) -> bool {
    text.chars().take(MIN_CHARS).count() == MIN_CHARS && !text.contains('\0')
}

/// Which of the index's columns to look in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The user id, traits, first URL and pages (`q`).
    Any,
    /// The pages visited (`url`).
    Page,
}

/// The FTS5 query for `text` anywhere in `field`: one phrase, quoted, so that no character of
/// it is query syntax (a `"` is written twice). With trigrams a phrase is a substring, and case
/// is folded as `LIKE` folds it and more (non-ASCII letters too): never fewer matches.
fn phrase(field: Field, text: &str) -> String {
    let column = match field {
        Field::Any => "",
        Field::Page => "page : ",
    };
    format!("{column}\"{}\"", text.replace('"', "\"\""))
}

/// The sessions whose indexed text in `field` may contain `text` (see [`indexed`]).
pub fn candidates(field: Field, text: &str) -> Cond {
    Box::new(
        sql::<Bool>(
            "sessions.id IN (SELECT session_id FROM session_search_keys WHERE key IN \
             (SELECT rowid FROM session_search WHERE session_search MATCH ",
        )
        .bind::<Text, _>(phrase(field, text))
        .sql("))"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_texts_of_three_characters_or_more_use_the_index() {
        assert!(!indexed(""));
        assert!(!indexed("ab"));
        // Characters, not bytes: two letters of two bytes each are still two.
        assert!(!indexed("éé"));
        assert!(indexed("abc"));
        assert!(indexed("ééé"));
        assert!(!indexed("ab\0cd"));
    }

    #[test]
    fn a_text_is_one_quoted_phrase_whatever_it_holds() {
        assert_eq!(phrase(Field::Any, "user-77"), "\"user-77\"");
        assert_eq!(phrase(Field::Page, "/pricing"), "page : \"/pricing\"");
        assert_eq!(
            phrase(Field::Any, "a\"b OR c*"),
            "\"a\"\"b OR c*\"",
            "quotes doubled, operators inside the phrase"
        );
    }
}
