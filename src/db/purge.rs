//! Deleting sessions (retention, or one on request) with everything keyed by them: their row,
//! their chunks (`ON DELETE CASCADE`) and their access-log rows; then giving the space back:
//! SQLite runs `incremental_vacuum` (the file shrinks), PostgreSQL `VACUUM` (the space becomes
//! reusable at once instead of at autovacuum's next visit).

use diesel::prelude::*;

use super::{
    schema::{session_access, session_owners, sessions},
    DbConn,
};
use crate::error::Result;

/// A session retention may delete: ended, and its last event before the project's cut-off.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub last_event_at: i64,
    pub stored_bytes: i64,
}

/// Up to `limit` ended sessions of `project` whose last event is before `cutoff`, oldest first,
/// after the keyset cursor `after` (last_event_at, id).
pub fn old_sessions(
    conn: &mut DbConn,
    project: &str,
    cutoff: i64,
    after: Option<&(i64, String)>,
    limit: i64,
) -> Result<Vec<Candidate>> {
    let mut query = sessions::table
        .filter(sessions::project_id.eq(project))
        .filter(sessions::last_event_at.lt(cutoff))
        .filter(sessions::ended_at.is_not_null())
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            sessions::last_event_at.gt(*at).or(sessions::last_event_at
                .eq(*at)
                .and(sessions::id.gt(id.clone()))),
        );
    }
    Ok(query
        .order((sessions::last_event_at.asc(), sessions::id.asc()))
        .select((
            sessions::id,
            sessions::last_event_at,
            sessions::stored_bytes,
        ))
        .limit(limit)
        .load(conn)?)
}

/// Deletes those of `keys` that are ended (and, with `cutoff`, whose last event is still before
/// it: a recorder may have come back since they were picked), with their chunks and access-log
/// rows, in one transaction. Returns the keys deleted. Never a session some hub of a cluster
/// holds a running lease on: its recorder came back there, and its row is reopened with the
/// first events it sends (the caller's own live sessions are only those of this hub).
pub fn delete_sessions(
    conn: &mut DbConn,
    keys: &[String],
    cutoff: Option<i64>,
) -> Result<Vec<String>> {
    conn.transaction(|conn| {
        // Write first (see `sessions::open_session`): the conditions are checked under the write
        // lock, so a recorder reopening one of them either comes before (and it is kept) or after
        // (and it starts afresh).
        let leased = session_owners::table
            .filter(session_owners::lease_until.ge(crate::event::now_ms()))
            .select(session_owners::session_id);
        let mut delete = diesel::delete(sessions::table)
            .filter(sessions::id.eq_any(keys))
            .filter(sessions::ended_at.is_not_null())
            .filter(diesel::dsl::not(sessions::id.eq_any(leased)))
            .into_boxed();
        if let Some(cutoff) = cutoff {
            delete = delete.filter(sessions::last_event_at.lt(cutoff));
        }
        let removed = delete.execute(conn)?;
        if removed == 0 {
            return Ok(Vec::new());
        }
        let kept: Vec<String> = sessions::table
            .filter(sessions::id.eq_any(keys))
            .select(sessions::id)
            .load(conn)?;
        let gone: Vec<String> = keys.iter().filter(|k| !kept.contains(k)).cloned().collect();
        diesel::delete(session_access::table.filter(session_access::session_key.eq_any(&gone)))
            .execute(conn)?;
        Ok(gone)
    })
}

/// What [`delete_session`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    NotFound,
    /// Open in the database: recording, or left open by a previous run until its recorder's
    /// idle timeout passes.
    Active,
}

/// Deletes one ended session with its chunks and access-log rows.
pub fn delete_session(conn: &mut DbConn, key: &str) -> Result<Deleted> {
    let keys = [key.to_owned()];
    if !delete_sessions(conn, &keys, None)?.is_empty() {
        return Ok(Deleted::Deleted);
    }
    Ok(match super::sessions::get_session(conn, key)? {
        Some(_) => Deleted::Active,
        None => Deleted::NotFound,
    })
}

/// Pages SQLite's incremental vacuum frees per statement: each statement is a write
/// transaction, so writers wait at most for this many pages (16 MiB at 4 KiB pages).
const VACUUM_PAGES: i64 = 4096;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Gives the space of deleted rows back: SQLite moves free pages to the end and truncates the
/// file (a few thousand pages per statement), PostgreSQL marks dead tuples reusable.
pub fn reclaim(conn: &mut DbConn) -> Result<()> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            use diesel::connection::SimpleConnection;
            loop {
                let free =
                    diesel::sql_query("SELECT freelist_count AS n FROM pragma_freelist_count")
                        .get_result::<Count>(c)?
                        .n;
                if free == 0 {
                    break;
                }
                c.batch_execute(&format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))?;
                // A database still without incremental auto-vacuum frees nothing: stop.
                let after =
                    diesel::sql_query("SELECT freelist_count AS n FROM pragma_freelist_count")
                        .get_result::<Count>(c)?
                        .n;
                if after >= free {
                    break;
                }
            }
            // With WAL the file is truncated when the log is copied back; do it now if no reader
            // holds an older snapshot (PASSIVE never waits for one).
            c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
        }
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => {
            // Not FULL: no exclusive lock, readers and the writer go on. Outside a transaction.
            diesel::sql_query("VACUUM event_chunks, sessions, session_access").execute(c)?;
        }
    }
    Ok(())
}

/// SQLite's `auto_vacuum` mode: 0 none, 1 full, 2 incremental.
#[cfg(feature = "sqlite")]
pub fn sqlite_auto_vacuum(c: &mut diesel::SqliteConnection) -> Result<i64> {
    Ok(
        diesel::sql_query("SELECT auto_vacuum AS n FROM pragma_auto_vacuum")
            .get_result::<Count>(c)?
            .n,
    )
}

/// Makes a SQLite database shrink when sessions are deleted. A new database gets incremental
/// auto-vacuum from its first table (the pool sets the pragma on every connection); one created
/// before needs a one-time `VACUUM` to switch, which rewrites the file (it needs as much free
/// disk again, and time in proportion to its size).
pub fn ensure_incremental_vacuum(conn: &mut DbConn) -> Result<()> {
    #[cfg(feature = "sqlite")]
    #[allow(irrefutable_let_patterns)]
    if let DbConn::Sqlite(c) = conn {
        use diesel::connection::SimpleConnection;
        if sqlite_auto_vacuum(c)? != 2 {
            log::warn!(
                "switching the SQLite database to incremental auto-vacuum (a one-time VACUUM \
                 that rewrites the file; it may take a while for a large one)"
            );
            c.batch_execute("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
            log::info!("the SQLite database now shrinks when sessions are deleted");
        }
    }
    #[cfg(not(feature = "sqlite"))]
    let _ = conn;
    Ok(())
}
