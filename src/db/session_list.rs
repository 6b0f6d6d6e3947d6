//! `GET /api/sessions`'s query: filters on the session row, its pages and custom event names,
//! four sorts, each paged with a keyset cursor on (sort key, id) that an index serves, so that
//! a page costs the same at any depth and new sessions never shift the pages already read.

use diesel::{
    dsl::{sql, AsSelect, IntoBoxed, Select},
    expression::BoxableExpression,
    prelude::*,
    sql_types::{BigInt, Bool, Text},
};

use super::{schema::sessions, search, sessions::SessionRow, DbConn};
use crate::error::Result;

/// What the list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Started,
    Duration,
    Active,
    Errors,
}

impl Sort {
    pub fn name(self) -> &'static str {
        match self {
            Sort::Started => "started",
            Sort::Duration => "duration",
            Sort::Active => "active",
            Sort::Errors => "errors",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        [Sort::Started, Sort::Duration, Sort::Active, Sort::Errors]
            .into_iter()
            .find(|x| x.name() == s)
    }

    /// The row's sort key, as the cursor carries it.
    pub fn key(self, r: &SessionRow) -> i64 {
        match self {
            Sort::Started => r.started_at,
            Sort::Duration => r.duration_ms,
            Sort::Active => r.active_ms,
            Sort::Errors => r.error_count,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Live,
    Ended,
}

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Only sessions of these projects; `None` lists every project's.
    pub projects: Option<Vec<String>>,
    /// Hide sessions that ended before this time (ms); `None` lists all.
    pub ended_after: Option<i64>,
    /// User id, exact.
    pub user: Option<String>,
    /// Substring of the user id, the traits' JSON or a page's URL.
    pub q: Option<String>,
    /// Substring of a page visited.
    pub url: Option<String>,
    /// Started at or after / before (ms).
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub min_duration_ms: Option<i64>,
    pub max_duration_ms: Option<i64>,
    /// Active time (with input) at least / at most (ms).
    pub min_active_ms: Option<i64>,
    pub max_active_ms: Option<i64>,
    /// `Some(true)`: at least one error; `Some(false)`: none.
    pub has_errors: Option<bool>,
    /// A custom event name, exact.
    pub event: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub status: Option<Status>,
    pub sort: Sort,
    pub desc: bool,
    /// Keyset cursor: only sessions strictly after (sort key, id) in the list's order.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// A LIKE pattern matching `s` anywhere, its wildcards escaped (with `\`).
fn contains(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The backend of whichever database `DbConn` holds, and the list's query on it.
type Backend = <DbConn as Connection>::Backend;
type Query = IntoBoxed<'static, Select<sessions::table, AsSelect<SessionRow, Backend>>, Backend>;
pub(super) type Cond = Box<dyn BoxableExpression<sessions::table, Backend, SqlType = Bool>>;

/// `column` contains `text`, ignoring case alike on both backends. SQLite's LIKE already ignores
/// the case of ASCII letters (and only theirs, as its `lower()` does); PostgreSQL's does not,
/// so there both sides go through `lower()`, which the pg_trgm indexes of migration
/// 2026-11-27-000016_substring_search are built on.
fn has_text(pg: bool, column: &str, text: &str) -> Cond {
    let (open, close) = if pg { ("lower(", ")") } else { ("", "") };
    Box::new(
        sql::<Bool>(&format!("{open}{column}{close} LIKE {open}"))
            .bind::<Text, _>(contains(text))
            .sql(&format!("{close} ESCAPE '\\'")),
    )
}

/// How one query of the list is written.
#[derive(Clone, Copy)]
struct Shape {
    pg: bool,
    search: Search,
    /// SQLite: a side table (pages, event names) is probed for each session walked, which stops
    /// with the page; otherwise its matches are listed first, reading all of it once.
    per_row: bool,
    /// With the substring filters (`q`, `url`); without, for the bounded walk's far end.
    texts: bool,
    /// SQLite: a substring long enough for the trigram index (`search::indexed`) takes its
    /// candidates from it, each then tested with the `LIKE` as without it.
    fts: bool,
}

/// The session has a row in `table` (`session_pages`, `session_events`) where `cond` (ending in
/// one bind, `value`, then `rest`) holds. On SQLite, listed, the key is written `+sessions.id`,
/// so that the planner keeps walking the sort's index and probes the list, rather than looking
/// each listed session up and sorting them all. PostgreSQL picks between both by itself.
fn among(shape: Shape, table: &str, cond: &str, value: String, rest: &str) -> Cond {
    let open = if shape.per_row {
        format!("EXISTS (SELECT 1 FROM {table} WHERE {table}.session_id = sessions.id AND {cond}")
    } else {
        let key = if shape.pg {
            "sessions.id"
        } else {
            "+sessions.id"
        };
        format!("{key} IN (SELECT session_id FROM {table} WHERE {cond}")
    };
    Box::new(
        sql::<Bool>(&open)
            .bind::<Text, _>(value)
            .sql(&format!("{rest})")),
    )
}

/// On one of a session's pages (their URL contains `text`).
fn on_page(shape: Shape, text: &str) -> Cond {
    let url = if shape.pg {
        "lower(url) LIKE lower("
    } else {
        "url LIKE ("
    };
    among(shape, "session_pages", url, contains(text), ") ESCAPE '\\'")
}

/// Part of `q`: it matches the session row's own text or the URL of one of its pages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Search {
    Both,
    Row,
    Pages,
}

/// The column a sort orders by.
fn key_column(sort: Sort) -> &'static str {
    match sort {
        Sort::Started => "started_at",
        Sort::Duration => "duration_ms",
        Sort::Active => "active_ms",
        Sort::Errors => "error_count",
    }
}

/// `(sort key, id) op (key, id)`: a row comparison, which both backends take as the bound of an
/// index range.
fn beyond(sort: Sort, op: &str, key: i64, id: String) -> Cond {
    Box::new(
        sql::<Bool>(&format!(
            "(sessions.{}, sessions.id) {op} (",
            key_column(sort)
        ))
        .bind::<BigInt, _>(key)
        .sql(", ")
        .bind::<Text, _>(id)
        .sql(")"),
    )
}

/// Orders and pages `$query` by the column `$key` (then id, the same way). The cursor is a row
/// comparison: a page deep in the list starts where the index holds the cursor rather than after
/// every row before it.
macro_rules! keyset {
    ($query:expr, $key:expr, $q:expr) => {{
        let mut query = $query;
        if let Some((k, id)) = &$q.after {
            let op = if $q.desc { "<" } else { ">" };
            query = query.filter(beyond($q.sort, op, *k, id.clone()));
        }
        if $q.desc {
            query.order(($key.desc(), sessions::id.desc()))
        } else {
            query.order(($key.asc(), sessions::id.asc()))
        }
    }};
}

/// How far down the list (sessions passing the other filters) SQLite looks for a page of
/// substring matches by probing each session, before it lists every match instead.
const WALK: i64 = 2_000;

/// One page of the list.
///
/// On SQLite a substring (`q`, `url`) is first looked for by walking the sort's index at most
/// `WALK` sessions down, probing each (a common word fills the page within a few hundred).
/// Only when that falls short are the candidates taken from the trigram index (`search`), each
/// probed, and sorted: at 100,000 sessions a common word had 100,000 candidates to sort (90 ms
/// for `checkout`), a rare one a few (2–12 ms, against 100–170 ms for reading every session).
/// A text too short for the index (`search::indexed`) still reads every page URL once and
/// walks to the end.
///
/// On PostgreSQL a search (`q`) is two queries, the row's own text and the pages', merged here:
/// each is planned on its own, so each either walks the sort's index until the page is full
/// (common words) or takes the few matches from its trigram index and sorts them (rare ones).
/// One query with an OR across both tables can do neither (176 ms for a word no session has).
pub fn list_sessions(conn: &mut DbConn, q: &ListQuery) -> Result<Vec<SessionRow>> {
    let pg = is_pg(conn);
    let shape = Shape {
        pg,
        search: Search::Both,
        per_row: false,
        texts: true,
        fts: false,
    };
    let texts = q.q.is_some() || q.url.is_some();
    if !pg && texts {
        // With a candidate list from the index, each candidate is probed (`per_row`).
        let indexed = [&q.q, &q.url]
            .into_iter()
            .flatten()
            .any(|t| search::indexed(t));
        let listed = Shape {
            per_row: indexed,
            fts: true,
            ..shape
        };
        let far = filtered(
            q,
            Shape {
                texts: false,
                ..shape
            },
        )
        .offset(WALK)
        .limit(1)
        .load::<SessionRow>(conn)?
        .pop();
        let walk = filtered(
            q,
            Shape {
                per_row: true,
                ..shape
            },
        );
        let Some(far) = far else {
            // Fewer than WALK sessions to look at: the walk is the whole list.
            return Ok(walk.load(conn)?);
        };
        let op = if q.desc { ">=" } else { "<=" };
        let rows = walk
            .filter(beyond(q.sort, op, q.sort.key(&far), far.id))
            .load::<SessionRow>(conn)?;
        if rows.len() as i64 >= q.limit {
            return Ok(rows);
        }
        return Ok(filtered(q, listed).load(conn)?);
    }
    if !(pg && q.q.is_some()) {
        return Ok(filtered(q, shape).load(conn)?);
    }
    let mut rows = filtered(
        q,
        Shape {
            search: Search::Row,
            ..shape
        },
    )
    .load(conn)?;
    rows.extend(
        filtered(
            q,
            Shape {
                search: Search::Pages,
                ..shape
            },
        )
        .load::<SessionRow>(conn)?,
    );
    rows.sort_by(|a, b| {
        let order = (q.sort.key(a), &a.id).cmp(&(q.sort.key(b), &b.id));
        if q.desc {
            order.reverse()
        } else {
            order
        }
    });
    rows.dedup_by(|a, b| a.id == b.id);
    rows.truncate(usize::try_from(q.limit).unwrap_or(0));
    Ok(rows)
}

#[allow(irrefutable_let_patterns, unreachable_patterns)]
fn is_pg(conn: &DbConn) -> bool {
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(_) => true,
        _ => false,
    }
}

fn filtered(q: &ListQuery, shape: Shape) -> Query {
    let pg = shape.pg;
    let mut query = sessions::table.select(SessionRow::as_select()).into_boxed();
    if let Some(projects) = &q.projects {
        query = query.filter(sessions::project_id.eq_any(projects.clone()));
    }
    if let Some(cutoff) = q.ended_after {
        query = query.filter(
            sessions::ended_at
                .is_null()
                .or(sessions::ended_at.gt(cutoff)),
        );
    }
    if let Some(user) = &q.user {
        query = query.filter(sessions::user_id.eq(user.clone()));
    }
    if let Some(text) = q.q.as_ref().filter(|_| shape.texts) {
        if shape.fts && search::indexed(text) {
            query = query.filter(search::candidates(search::Field::Any, text));
        }
        let row = || {
            has_text(pg, "sessions.user_id", text)
                .or(has_text(pg, "sessions.traits", text))
                .or(has_text(pg, "sessions.url", text))
        };
        query = match shape.search {
            Search::Both => query.filter(row().or(on_page(shape, text))),
            Search::Row => query.filter(row()),
            Search::Pages => query.filter(on_page(shape, text)),
        };
    }
    if let Some(url) = q.url.as_ref().filter(|_| shape.texts) {
        if shape.fts && search::indexed(url) {
            query = query.filter(search::candidates(search::Field::Page, url));
        }
        query = query.filter(on_page(shape, url));
    }
    if let Some(event) = &q.event {
        query = query.filter(among(shape, "session_events", "name = ", event.clone(), ""));
    }
    if let Some(from) = q.from {
        query = query.filter(sessions::started_at.ge(from));
    }
    if let Some(to) = q.to {
        query = query.filter(sessions::started_at.le(to));
    }
    if let Some(min) = q.min_duration_ms {
        query = query.filter(sessions::duration_ms.ge(min));
    }
    if let Some(max) = q.max_duration_ms {
        query = query.filter(sessions::duration_ms.le(max));
    }
    if let Some(min) = q.min_active_ms {
        query = query.filter(sessions::active_ms.ge(min));
    }
    if let Some(max) = q.max_active_ms {
        query = query.filter(sessions::active_ms.le(max));
    }
    match q.has_errors {
        Some(true) => query = query.filter(sessions::error_count.gt(0)),
        Some(false) => query = query.filter(sessions::error_count.eq(0)),
        None => {}
    }
    if let Some(b) = &q.browser {
        query = query.filter(sessions::browser.eq(b.clone()));
    }
    if let Some(os) = &q.os {
        query = query.filter(sessions::os.eq(os.clone()));
    }
    if let Some(d) = &q.device {
        query = query.filter(sessions::device.eq(d.clone()));
    }
    match q.status {
        Some(Status::Live) => query = query.filter(sessions::ended_at.is_null()),
        Some(Status::Ended) => query = query.filter(sessions::ended_at.is_not_null()),
        None => {}
    }
    let query = match q.sort {
        Sort::Started => keyset!(query, sessions::started_at, q),
        Sort::Duration => keyset!(query, sessions::duration_ms, q),
        Sort::Active => keyset!(query, sessions::active_ms, q),
        Sort::Errors => keyset!(query, sessions::error_count, q),
    };
    query.limit(q.limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(Sort::parse("active"), Some(Sort::Active));
        assert_eq!(Sort::parse("nope"), None);
    }
}
