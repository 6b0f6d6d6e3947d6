//! The `sessions` table: one row per session, its lifecycle and the list queries.

use diesel::prelude::*;

use super::{
    chunks::load_metas,
    schema::{session_events, session_pages, sessions},
    DbConn,
};
use crate::{
    error::Result,
    event::split_key,
    protocol::{self, SessionInfo, Viewport},
    summary::{self, Derived},
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
    pub user_id: Option<String>,
    pub traits: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub viewport_width: Option<i64>,
    pub viewport_height: Option<i64>,
    pub page_count: i64,
    pub duration_ms: i64,
    pub active_ms: i64,
    pub error_count: i64,
    pub click_count: i64,
    pub rage_click_count: i64,
    pub custom_event_count: i64,
    pub exit_url: Option<String>,
    /// Counted in the numbers' rollups (`crate::db::numbers`).
    pub numbered: bool,
}

impl SessionRow {
    /// The row of a session that starts now, its browser, OS and device read from its agent.
    pub fn new(id: &str, started_at: i64, user_agent: Option<String>) -> Self {
        let client = summary::client(user_agent.as_deref());
        SessionRow {
            id: id.to_owned(),
            started_at,
            last_event_at: started_at,
            ended_at: None,
            url: None,
            user_agent,
            event_count: 0,
            raw_bytes: 0,
            stored_bytes: 0,
            first_event_ts: None,
            last_seq: 0,
            project_id: split_key(id).0.to_owned(),
            user_id: None,
            traits: None,
            browser: client.browser,
            os: client.os,
            device: client.device,
            viewport_width: None,
            viewport_height: None,
            page_count: 0,
            duration_ms: 0,
            active_ms: 0,
            error_count: 0,
            click_count: 0,
            rage_click_count: 0,
            custom_event_count: 0,
            exit_url: None,
            numbered: false,
        }
    }

    /// The derived fields as stored, to resume deriving from.
    pub fn derived(&self) -> Derived {
        Derived {
            user_id: self.user_id.as_deref().map(Into::into),
            traits: self.traits.as_deref().map(Into::into),
            viewport_width: self.viewport_width,
            viewport_height: self.viewport_height,
            page_count: self.page_count,
            duration_ms: self.duration_ms,
            active_ms: self.active_ms,
            error_count: self.error_count,
            click_count: self.click_count,
            rage_click_count: self.rage_click_count,
            custom_event_count: self.custom_event_count,
            exit_url: self.exit_url.as_deref().map(Into::into),
        }
    }

    /// Takes the fields derived so far (the session actor's copy of its row follows its events).
    pub fn set_derived(&mut self, d: &Derived) {
        if self.user_id.as_deref() != d.user_id.as_deref() {
            self.user_id = d.user_id.as_deref().map(Into::into);
        }
        if self.traits.as_deref() != d.traits.as_deref() {
            self.traits = d.traits.as_deref().map(Into::into);
        }
        self.viewport_width = d.viewport_width;
        self.viewport_height = d.viewport_height;
        self.page_count = d.page_count;
        self.duration_ms = d.duration_ms;
        self.active_ms = d.active_ms;
        self.error_count = d.error_count;
        self.click_count = d.click_count;
        self.rage_click_count = d.rage_click_count;
        self.custom_event_count = d.custom_event_count;
        if self.exit_url.as_deref() != d.exit_url.as_deref() {
            self.exit_url = d.exit_url.as_deref().map(Into::into);
        }
    }

    /// `id` is the hub's key `<project>:<id>`; the API shows the two apart.
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            id: split_key(&self.id).1.to_owned(),
            project: self.project_id.clone(),
            active: self.ended_at.is_none(),
            started_at: protocol::rfc3339(self.started_at),
            last_event_at: protocol::rfc3339(self.last_event_at),
            ended_at: self.ended_at.map(protocol::rfc3339),
            // First to last event: the idle wait for a recorder that never came back is not
            // part of what the visitor did.
            duration_ms: self.duration_ms,
            url: self.url.clone(),
            user_agent: self.user_agent.clone(),
            event_count: self.event_count,
            raw_bytes: self.raw_bytes,
            stored_bytes: self.stored_bytes,
            first_event_ts: self.first_event_ts,
            user_id: self.user_id.clone(),
            traits: self
                .traits
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            browser: self.browser.clone(),
            os: self.os.clone(),
            device: self.device.clone(),
            viewport: self
                .viewport_width
                .zip(self.viewport_height)
                .map(|(width, height)| Viewport { width, height }),
            page_count: self.page_count,
            active_ms: self.active_ms,
            error_count: self.error_count,
            click_count: self.click_count,
            rage_click_count: self.rage_click_count,
            custom_event_count: self.custom_event_count,
            pages: None,
        }
    }
}

/// A session's row, the full snapshots (Meta seq, Meta ts) a viewer can start from, and the
/// pages and custom event names stored so far (to resume its summary from).
pub struct OpenedSession {
    pub row: SessionRow,
    pub metas: Vec<(u64, i64)>,
    pub pages: Vec<String>,
    pub event_names: Vec<String>,
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
        let row = SessionRow::new(id, new.started_at, new.user_agent.clone());
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
    let pages = session_pages::table
        .filter(session_pages::session_id.eq(id))
        .select(session_pages::url)
        .load(conn)?;
    let event_names = session_events::table
        .filter(session_events::session_id.eq(id))
        .select(session_events::name)
        .load(conn)?;
    Ok(Some(OpenedSession {
        row,
        metas,
        pages,
        event_names,
    }))
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
