//! The `sessions` table: one row per session, its lifecycle and the list queries.

use diesel::prelude::*;

use super::{chunks::load_metas, schema::sessions, DbConn};
use crate::{
    error::Result,
    event::split_key,
    protocol::{self, SessionInfo},
};

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub started_at: i64,
    pub last_event_at: i64,
    pub ended_at: Option<i64>,
    pub url: Option<String>,
    pub user_agent: Option<String>,
    pub event_count: i64,
    pub raw_bytes: i64,
    pub stored_bytes: i64,
    pub first_event_ts: Option<i64>,
    pub last_seq: i64,
    pub project_id: String,
}

impl SessionRow {
    /// `id` is the hub's key `<project>:<id>`; the API shows the two apart.
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            id: split_key(&self.id).1.to_owned(),
            project: self.project_id.clone(),
            active: self.ended_at.is_none(),
            started_at: protocol::rfc3339(self.started_at),
            last_event_at: protocol::rfc3339(self.last_event_at),
            ended_at: self.ended_at.map(protocol::rfc3339),
            // To the last event: the idle wait for a recorder that never came back is not
            // part of what the visitor did.
            duration_ms: (self.last_event_at - self.started_at).max(0),
            url: self.url.clone(),
            user_agent: self.user_agent.clone(),
            event_count: self.event_count,
            raw_bytes: self.raw_bytes,
            stored_bytes: self.stored_bytes,
            first_event_ts: self.first_event_ts,
        }
    }
}

/// A session's row and the full snapshots (Meta seq, Meta ts) a viewer can start from.
pub struct OpenedSession {
    pub row: SessionRow,
    pub metas: Vec<(u64, i64)>,
}

/// A session the hub opened without an active row: the row is created (or reopened) when the
/// writer stores its first events (see `ensure_open`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub started_at: i64,
    pub user_agent: Option<String>,
}

/// Creates the row of a session, or reopens it if it exists (a recorder came back): run by the
/// writer in the transaction that stores the session's first events.
pub fn ensure_open(conn: &mut DbConn, id: &str, new: &NewSession) -> Result<()> {
    // Write first: a SQLite transaction that reads and then writes cannot wait for the write
    // lock (WAL answers SQLITE_BUSY at once when another connection wrote meanwhile), while one
    // that starts with a write waits out the busy timeout like any writer.
    let reopened = diesel::update(sessions::table.find(id))
        .set(sessions::ended_at.eq(None::<i64>))
        .execute(conn)?;
    if reopened == 0 {
        let row = SessionRow {
            id: id.to_owned(),
            started_at: new.started_at,
            last_event_at: new.started_at,
            ended_at: None,
            url: None,
            user_agent: new.user_agent.clone(),
            event_count: 0,
            raw_bytes: 0,
            stored_bytes: 0,
            first_event_ts: None,
            last_seq: 0,
            project_id: split_key(id).0.to_owned(),
        };
        diesel::insert_into(sessions::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

/// A session's row and where viewers can start, if it exists: read only, so that a recorder is
/// welcomed without waiting for the write lock (the row is created, or reopened, by the writer
/// with the session's first events: see `ensure_open`). `id` is the key, `<project>:<id>`.
pub fn find_session(conn: &mut DbConn, id: &str) -> Result<Option<OpenedSession>> {
    let Some(row) = get_session(conn, id)? else {
        return Ok(None);
    };
    let metas = load_metas(conn, id)?;
    Ok(Some(OpenedSession { row, metas }))
}

/// Records a session's end; `false` when its row does not exist yet (a session opened during
/// an outage whose row is still in the spool).
pub fn end_session(conn: &mut DbConn, id: &str, ended_at: i64) -> Result<bool> {
    let n = diesel::update(sessions::table.find(id))
        .set(sessions::ended_at.eq(ended_at))
        .execute(conn)?;
    Ok(n > 0)
}

/// Ends sessions left open by a previous run whose recorder never came back: open, not served
/// now (`live`), and with no event since this run started (which also spares a session whose
/// recorder returns between the `live` snapshot and this update).
pub fn end_orphans(conn: &mut DbConn, booted_at: i64, live: &[String]) -> Result<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::ended_at.is_null())
            .filter(sessions::id.ne_all(live))
            .filter(sessions::last_event_at.lt(booted_at))
            .filter(sessions::started_at.lt(booted_at)),
    )
    .set(sessions::ended_at.eq(sessions::last_event_at.nullable()))
    .execute(conn)?)
}

pub fn get_session(conn: &mut DbConn, id: &str) -> Result<Option<SessionRow>> {
    Ok(sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// The sessions among these keys that exist.
pub fn find_keys(conn: &mut DbConn, keys: &[String]) -> Result<Vec<String>> {
    Ok(sessions::table
        .filter(sessions::id.eq_any(keys))
        .select(sessions::id)
        .load(conn)?)
}

pub struct ListQuery {
    /// Only sessions of these projects; `None` lists every project's.
    pub projects: Option<Vec<String>>,
    /// Hide sessions that ended before this time (ms); `None` lists all.
    pub ended_after: Option<i64>,
    /// Keyset cursor: only sessions strictly older than (started_at, id).
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// Newest first. Active and recently ended sessions are found through the `ended_at` index, so
/// the cost follows the size of the answer, not of the table.
pub fn list_sessions(conn: &mut DbConn, q: &ListQuery) -> Result<Vec<SessionRow>> {
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
    if let Some((started, id)) = &q.before {
        query = query.filter(
            sessions::started_at.lt(*started).or(sessions::started_at
                .eq(*started)
                .and(sessions::id.lt(id.clone()))),
        );
    }
    Ok(query
        .order((sessions::started_at.desc(), sessions::id.desc()))
        .limit(q.limit)
        .load(conn)?)
}
