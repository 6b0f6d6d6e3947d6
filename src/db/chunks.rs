//! The `event_chunks` table: a session's events in zstd-compressed chunks, written by the
//! writer's flushes (merging small chunks into large ones) and read back page by page.

use diesel::prelude::*;

use super::{
    schema::{event_chunks, sessions},
    DbConn,
};
use crate::{
    chunk,
    error::{Error, Result},
    event::{Event, META},
};

#[derive(Insertable, Debug)]
#[diesel(table_name = event_chunks)]
struct NewChunk<'a> {
    session_id: &'a str,
    first_seq: i64,
    last_seq: i64,
    first_ts: i64,
    last_ts: i64,
    event_count: i32,
    meta_seq: Option<i64>,
    meta_ts: Option<i64>,
    raw_len: i32,
    data: &'a [u8],
}

/// Rows per multi-row INSERT: well under both backends' limits on bound parameters.
const INSERT_ROWS: usize = 500;

/// What one flush writes for one session: its new events and what they change in its row.
#[derive(Debug)]
pub struct SessionWrite<'a> {
    pub session_id: &'a str,
    /// The events of the chunk to write: those of `replaces` (already stored), then new ones.
    pub events: &'a [std::sync::Arc<Event>],
    /// The page URL, set once: when the session's first Meta event is in this write.
    pub url: Option<String>,
    /// The visitor timestamp of the session's first event, set once, with that event.
    pub first_event_ts: Option<i64>,
    pub replaces: Option<Replaces>,
    /// A session opened while its row could not be created: created (or reopened) first.
    pub opened: Option<&'a super::sessions::NewSession>,
    /// What the session derived up to the last of `events` (see `crate::summary`).
    pub summary: Option<&'a crate::summary::SummaryWrite>,
    /// Cluster mode: the claim the session's events are written under; the write is skipped
    /// (`Written::fenced`) if it no longer holds (see `owners::hold`).
    pub fence: Option<&'a super::owners::Fence>,
}

/// Consecutive small chunks of one session that a write merges into its own chunk.
#[derive(Clone, Copy, Debug, Default)]
pub struct Replaces {
    /// Where the first of them starts; they end right before the write's new events.
    pub first_seq: u64,
    pub chunks: usize,
    /// How many leading events of the write they hold.
    pub events: usize,
    pub raw_bytes: i64,
    pub stored_bytes: i64,
}

/// What one write stored: its chunk's sizes, and how much the session's totals grew.
#[derive(Clone, Copy, Debug)]
pub struct Written {
    pub chunk_raw: i64,
    pub chunk_stored: i64,
    pub raw_delta: i64,
    pub stored_delta: i64,
    /// Nothing was written: the session's claim no longer holds (another hub owns it now).
    pub fenced: bool,
}

/// (seq, visitor timestamp) of every stored Meta event, in order: where a viewer can start.
pub fn load_metas(conn: &mut DbConn, id: &str) -> Result<Vec<(u64, i64)>> {
    Ok(event_chunks::table
        .filter(event_chunks::session_id.eq(id))
        .filter(event_chunks::meta_seq.is_not_null())
        .order(event_chunks::first_seq.asc())
        .select((event_chunks::meta_seq, event_chunks::meta_ts))
        .load::<(Option<i64>, Option<i64>)>(conn)?
        .into_iter()
        .filter_map(|(s, t)| Some((s? as u64, t?)))
        .collect())
}

/// Writes one flush in one transaction: a compressed chunk per session (replacing the small
/// chunks it merges) plus its row's totals, summaries and the numbers' rollups.
pub fn write_batch(conn: &mut DbConn, writes: &[SessionWrite<'_>]) -> Result<Vec<Written>> {
    write_batch_with(conn, writes, true)
}

/// `write_batch`, with or without the numbers' rollups: the benchmark measures what they add to
/// a flush (docs/PERFORMANCE.md, "Numbers"); the hub always keeps them.
pub fn write_batch_with(
    conn: &mut DbConn,
    writes: &[SessionWrite<'_>],
    rollups: bool,
) -> Result<Vec<Written>> {
    let mut zstd = chunk::compressor()?;
    let encoded = writes
        .iter()
        .map(|w| chunk::encode(&mut zstd, w.events.iter().map(|e| &**e)))
        .collect::<Result<Vec<_>>>()?;
    let mut chunks = Vec::with_capacity(writes.len());
    let mut written = Vec::with_capacity(writes.len());
    let mut totals = Vec::with_capacity(writes.len());
    for (w, (data, raw_len)) in writes.iter().zip(&encoded) {
        let r = w.replaces.unwrap_or_default();
        let done = Written {
            chunk_raw: *raw_len as i64,
            chunk_stored: data.len() as i64,
            raw_delta: *raw_len as i64 - r.raw_bytes,
            stored_delta: data.len() as i64 - r.stored_bytes,
            fenced: false,
        };
        written.push(done);
        let (Some(first), Some(last)) = (w.events.first(), w.events.last()) else {
            continue;
        };
        let meta = w.events.iter().rev().find(|e| e.kind == META);
        chunks.push(NewChunk {
            session_id: w.session_id,
            first_seq: first.seq as i64,
            last_seq: last.seq as i64,
            first_ts: first.ts,
            last_ts: last.ts,
            event_count: i32::try_from(w.events.len()).map_err(Error::internal)?,
            meta_seq: meta.map(|m| m.seq as i64),
            meta_ts: meta.map(|m| m.ts),
            raw_len: i32::try_from(*raw_len).map_err(Error::internal)?,
            data,
        });
        totals.push(Totals {
            id: w.session_id,
            last_event_at: last.hub_time,
            events: w.events.len().saturating_sub(r.events) as i64,
            raw_bytes: done.raw_delta,
            stored_bytes: done.stored_delta,
            last_seq: last.seq as i64,
        });
    }
    conn.transaction(move |conn| {
        // First, so that a hub taking one of these sessions over waits for this commit.
        let claims: Vec<(&str, &super::owners::Fence)> = writes
            .iter()
            .filter_map(|w| Some((w.session_id, w.fence?)))
            .collect();
        let held = super::owners::hold(conn, &claims)?;
        let fenced: std::collections::HashSet<&str> = claims
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !held.contains(*id))
            .collect();
        if !fenced.is_empty() {
            log::warn!(
                "writer: {} sessions are owned by another hub now; their events are not written",
                fenced.len()
            );
            for (w, done) in writes.iter().zip(written.iter_mut()) {
                done.fenced = fenced.contains(w.session_id);
            }
            chunks.retain(|c| !fenced.contains(c.session_id));
            totals.retain(|t| !fenced.contains(t.id));
        }
        let writes = writes.iter().filter(|w| !fenced.contains(w.session_id));
        for w in writes.clone() {
            if let Some(new) = w.opened {
                super::sessions::ensure_open(conn, w.session_id, new)?;
            }
            if let Some(r) = w.replaces {
                remove_merged(conn, w, r)?;
            }
        }
        insert_chunks(conn, &chunks)?;
        update_totals(conn, &totals)?;
        let summaries: Vec<_> = writes
            .clone()
            .filter_map(|w| Some((w.session_id, w.summary?)))
            .collect();
        // The rollups read each session's previous contribution from its row: before it changes.
        if rollups {
            super::numbers::apply(conn, &summaries)?;
        }
        super::summaries::store(conn, &summaries)?;
        super::heatmaps::store(conn, &summaries)?;
        for w in writes {
            // Only a session's first writes carry these; later ones leave them be.
            let target = sessions::table.find(w.session_id);
            if let Some(ts) = w.first_event_ts {
                diesel::update(target)
                    .filter(sessions::first_event_ts.is_null())
                    .set(sessions::first_event_ts.eq(ts))
                    .execute(conn)?;
            }
            if let Some(url) = &w.url {
                diesel::update(target)
                    .filter(sessions::url.is_null())
                    .set(sessions::url.eq(url))
                    .execute(conn)?;
            }
        }
        Ok(written)
    })
}

/// Deletes the small chunks a merged chunk replaces, checking that they are exactly the ones the
/// writer merged: the merged chunk is written from the writer's copy of their events.
fn remove_merged(conn: &mut DbConn, w: &SessionWrite<'_>, r: Replaces) -> Result<()> {
    let end = w
        .events
        .get(r.events)
        .map_or(u64::MAX, |e| e.seq)
        .min(i64::MAX as u64) as i64;
    let removed = diesel::delete(
        event_chunks::table
            .filter(event_chunks::session_id.eq(w.session_id))
            .filter(event_chunks::first_seq.ge(r.first_seq as i64))
            .filter(event_chunks::first_seq.lt(end)),
    )
    .execute(conn)?;
    if removed != r.chunks {
        return Err(Error::internal(format!(
            "merging chunks: found {removed} where {} were written",
            r.chunks
        )));
    }
    Ok(())
}

/// What one flush adds to one session's row.
struct Totals<'a> {
    id: &'a str,
    last_event_at: i64,
    events: i64,
    raw_bytes: i64,
    stored_bytes: i64,
    last_seq: i64,
}

/// Adds each session's new events to its row. On PostgreSQL this is one statement for the whole
/// flush (a per-session UPDATE made durable latency grow with the number of sessions: one round
/// trip each); SQLite runs in-process, where a statement per session costs microseconds.
fn update_totals(conn: &mut DbConn, totals: &[Totals<'_>]) -> Result<()> {
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => {
            use diesel::sql_types::{Array, BigInt, Text};
            let col = |f: fn(&Totals<'_>) -> i64| totals.iter().map(f).collect::<Vec<i64>>();
            diesel::sql_query(
                "UPDATE sessions AS s SET last_event_at = v.last_event_at, \
                 event_count = s.event_count + v.events, raw_bytes = s.raw_bytes + v.raw, \
                 stored_bytes = s.stored_bytes + v.stored, last_seq = v.last_seq \
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], \
                 $5::bigint[], $6::bigint[]) AS v(id, last_event_at, events, raw, stored, last_seq) \
                 WHERE s.id = v.id",
            )
            .bind::<Array<Text>, _>(totals.iter().map(|t| t.id).collect::<Vec<&str>>())
            .bind::<Array<BigInt>, _>(col(|t| t.last_event_at))
            .bind::<Array<BigInt>, _>(col(|t| t.events))
            .bind::<Array<BigInt>, _>(col(|t| t.raw_bytes))
            .bind::<Array<BigInt>, _>(col(|t| t.stored_bytes))
            .bind::<Array<BigInt>, _>(col(|t| t.last_seq))
            .execute(c)?;
        }
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            for t in totals {
                diesel::update(sessions::table.find(t.id))
                    .set((
                        sessions::last_event_at.eq(t.last_event_at),
                        sessions::event_count.eq(sessions::event_count + t.events),
                        sessions::raw_bytes.eq(sessions::raw_bytes + t.raw_bytes),
                        sessions::stored_bytes.eq(sessions::stored_bytes + t.stored_bytes),
                        sessions::last_seq.eq(t.last_seq),
                    ))
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Multi-row inserts, one statement per few hundred sessions instead of one each. Diesel builds
/// them per backend, so this is the one query that matches on the connection.
fn insert_chunks(conn: &mut DbConn, rows: &[NewChunk<'_>]) -> Result<()> {
    for part in rows.chunks(INSERT_ROWS) {
        let insert = diesel::insert_into(event_chunks::table).values(part);
        match conn {
            #[cfg(feature = "postgres")]
            DbConn::Pg(c) => insert.execute(c)?,
            #[cfg(feature = "sqlite")]
            DbConn::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// The last seq stored of each of these sessions (absent: none stored), read from their chunk
/// rows: what a replayed spool record skips.
pub fn stored_seqs(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, u64>> {
    use diesel::dsl::max;
    let rows: Vec<(String, Option<i64>)> = event_chunks::table
        .filter(event_chunks::session_id.eq_any(ids))
        .group_by(event_chunks::session_id)
        .select((event_chunks::session_id, max(event_chunks::last_seq)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, last)| Some((id, last?.max(0) as u64)))
        .collect())
}

/// Stored events with `from_seq <= seq < before_seq`, in order, stopping after whole chunks
/// once `max_bytes` of event JSON is reached (always at least one chunk).
///
/// Pages go by each chunk's last seq: when the writer merges chunks between two queries, the
/// merged chunk ends at or after the cursor, so the next query still finds its events.
pub fn load_events(
    conn: &mut DbConn,
    id: &str,
    from_seq: u64,
    before_seq: Option<u64>,
    max_bytes: usize,
) -> Result<Vec<Event>> {
    let mut cursor = from_seq;
    let mut out = Vec::new();
    let mut bytes = 0;
    // Chunks are fetched a few at a time so a page never decodes much past `max_bytes`.
    const CHUNKS_PER_QUERY: i64 = 16;
    loop {
        let mut query = event_chunks::table
            .filter(event_chunks::session_id.eq(id))
            .filter(event_chunks::last_seq.ge(cursor.min(i64::MAX as u64) as i64))
            .into_boxed();
        if let Some(before) = before_seq {
            query = query.filter(event_chunks::first_seq.lt(before.min(i64::MAX as u64) as i64));
        }
        let chunks = query
            .order(event_chunks::last_seq.asc())
            .select((
                event_chunks::last_seq,
                event_chunks::data,
                event_chunks::raw_len,
            ))
            .limit(CHUNKS_PER_QUERY)
            .load::<(i64, Vec<u8>, i32)>(conn)?;
        let got = chunks.len() as i64;
        for (last_seq, data, raw_len) in chunks {
            let events = chunk::decode(&data, raw_len.max(0) as usize)?;
            for e in events {
                if e.seq >= cursor && before_seq.is_none_or(|b| e.seq < b) {
                    bytes += e.json.len();
                    out.push(e);
                }
            }
            cursor = cursor.max(last_seq.max(0) as u64 + 1);
            if bytes >= max_bytes {
                return Ok(out);
            }
        }
        if got < CHUNKS_PER_QUERY {
            return Ok(out);
        }
    }
}
