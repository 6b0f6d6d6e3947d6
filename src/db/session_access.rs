//! The `session_access` table: the access log, one row per watch of a session (a viewer socket,
//! live or replay, or a read of its events through the API).

use diesel::prelude::*;

use super::{schema::session_access, DbConn};
use crate::{error::Result, event::split_key};

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = session_access)]
pub struct AccessRow {
    pub id: String,
    pub session_key: String,
    pub project_id: String,
    pub username: String,
    /// `live`, `replay` or `api`.
    pub kind: String,
    pub at: i64,
}

/// Records that `username` watched the session `key` now.
pub fn record(conn: &mut DbConn, key: &str, username: &str, kind: &str, at: i64) -> Result<()> {
    let row = AccessRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        session_key: key.to_owned(),
        project_id: split_key(key).0.to_owned(),
        username: username.to_owned(),
        kind: kind.to_owned(),
        at,
    };
    diesel::insert_into(session_access::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// A session's accesses, newest first.
pub fn for_session(conn: &mut DbConn, key: &str, limit: i64) -> Result<Vec<AccessRow>> {
    Ok(session_access::table
        .filter(session_access::session_key.eq(key))
        .order((session_access::at.desc(), session_access::id.desc()))
        .limit(limit)
        .select(AccessRow::as_select())
        .load(conn)?)
}
