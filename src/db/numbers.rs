//! The numbers page's rollups (`numbers_days`, `numbers_hist`, `numbers_pages`,
//! `numbers_events`): per project and UTC day of a session's start, kept up to date by the
//! writer in the transaction that stores the session's summary. Each write changes them by
//! deltas: the session's previous contribution (read from its row) is subtracted and its new one
//! added, so a duration that grows or an exit page that moves counts once, where it is now.
//! Read back by `numbers_query`, which never looks at the sessions themselves.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::{prelude::*, upsert::excluded};

use super::{
    schema::{
        numbers_days, numbers_events, numbers_hist, numbers_pages, session_events, session_pages,
        sessions,
    },
    DbConn,
};
use crate::{error::Result, summary::SummaryWrite};

pub const DAY_MS: i64 = 86_400_000;
/// Histogram buckets per doubling: bucket `b ≥ 1` holds values `v` with
/// `2^(b/8) ≤ v + 1 < 2^((b+1)/8)`; bucket 0 holds 0.
const BUCKETS_PER_DOUBLING: f64 = 8.0;
/// `numbers_hist.metric` of durations and of active times.
pub const DURATION: i32 = 0;
pub const ACTIVE: i32 = 1;
/// Rows per multi-row upsert on PostgreSQL (well under its bound-parameter limit).
const UPSERT_ROWS: usize = 500;
/// Sessions read per query (SQLite's bound-parameter limit is the tighter one).
const READ_IDS: usize = 500;

/// The histogram bucket of a duration in milliseconds.
pub fn bucket(ms: i64) -> i32 {
    if ms <= 0 {
        return 0;
    }
    ((ms as f64 + 1.0).log2() * BUCKETS_PER_DOUBLING).floor() as i32
}

/// What a bucket stands for: the geometric middle of its bounds, so that a value read back from
/// it is off by at most 2^(1/16) − 1 ≈ 4.4 % (of the value plus 1 ms).
pub fn bucket_value(b: i32) -> i64 {
    if b <= 0 {
        return 0;
    }
    let mid = ((b as f64 + 0.5) / BUCKETS_PER_DOUBLING).exp2();
    (mid - 1.0).round() as i64
}

/// The UTC day (days since the epoch) of a time in milliseconds.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// What a session last contributed, as its row says.
#[derive(Queryable, Clone, Debug)]
struct Before {
    id: String,
    project_id: String,
    started_at: i64,
    duration_ms: i64,
    active_ms: i64,
    error_count: i64,
    rage_click_count: i64,
    exit_url: Option<String>,
    numbered: bool,
}

/// Pages and event names of these sessions already stored: a write retried after its commit's
/// reply was lost must not count them twice.
#[derive(Default)]
struct Stored {
    pages: HashSet<(String, String)>,
    events: HashSet<(String, String)>,
}

#[derive(Default)]
struct Deltas {
    /// (project, day) → (sessions, errored)
    days: BTreeMap<(String, i64), (i64, i64)>,
    /// (project, day, metric, bucket) → sessions
    hist: BTreeMap<(String, i64, i32, i32), i64>,
    /// (project, day, url) → (visits, entries, exits, rage clicks)
    pages: BTreeMap<(String, i64, String), [i64; 4]>,
    /// (project, day, name) → sessions
    events: BTreeMap<(String, i64, String), i64>,
}

const VISITS: usize = 0;
const ENTRIES: usize = 1;
const EXITS: usize = 2;
const RAGE: usize = 3;

impl Deltas {
    fn page(&mut self, p: &str, day: i64, url: &str, what: usize, n: i64) {
        let row = self.pages.entry((p.into(), day, url.into())).or_default();
        row[what] += n;
    }

    fn hist(&mut self, p: &str, day: i64, metric: i32, old: Option<i64>, new: i64) {
        let new = bucket(new);
        if let Some(old) = old.map(bucket) {
            if old == new {
                return;
            }
            *self.hist.entry((p.into(), day, metric, old)).or_default() -= 1;
        }
        *self.hist.entry((p.into(), day, metric, new)).or_default() += 1;
    }

    /// One session's change: from `b` (its row before this write) to what `w` stores.
    fn session(&mut self, b: &Before, w: &SummaryWrite, stored: &Stored) {
        let (p, day, d) = (&*b.project_id, day_of(b.started_at), &w.derived);
        let counted = b.numbered;
        let day_row = self.days.entry((p.into(), day)).or_default();
        if !counted {
            day_row.0 += 1;
        }
        let (was, is) = (counted && b.error_count > 0, d.error_count > 0);
        day_row.1 += i64::from(is) - i64::from(was);
        self.hist(
            p,
            day,
            DURATION,
            counted.then_some(b.duration_ms),
            d.duration_ms,
        );
        self.hist(p, day, ACTIVE, counted.then_some(b.active_ms), d.active_ms);
        let old_exit = if counted { b.exit_url.as_deref() } else { None };
        let new_exit = d.exit_url.as_deref();
        if old_exit != new_exit {
            if let Some(old) = old_exit {
                self.page(p, day, old, EXITS, -1);
            }
            if let Some(new) = new_exit {
                self.page(p, day, new, EXITS, 1);
            }
            // The first page this session stores: where it entered.
            if old_exit.is_none() {
                if let Some(entry) = w.new_pages.first().map(|s| &**s).or(new_exit) {
                    self.page(p, day, entry, ENTRIES, 1);
                }
            }
        }
        let new =
            |set: &HashSet<(String, String)>, v: &String| !set.contains(&(b.id.clone(), v.clone()));
        for url in w.new_pages.iter().filter(|u| new(&stored.pages, u)) {
            self.page(p, day, url, VISITS, 1);
        }
        // The rage clicks since the row's count (none again when a stored write is retried).
        let rage = (d.rage_click_count - b.rage_click_count).max(0) as usize;
        let since = w.rage_pages.len().saturating_sub(rage);
        for url in w.rage_pages[since..].iter().flatten() {
            self.page(p, day, url, RAGE, 1);
        }
        for name in w.new_events.iter().filter(|n| new(&stored.events, n)) {
            *self
                .events
                .entry((p.into(), day, name.clone()))
                .or_default() += 1;
        }
    }
}

/// Applies these summary writes to the rollups; run inside the writer's transaction, before
/// `summaries::store` changes the rows it reads the previous contributions from.
pub fn apply(conn: &mut DbConn, writes: &[(&str, &SummaryWrite)]) -> Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = writes.iter().map(|w| w.0).collect();
    let mut before: HashMap<String, Before> = HashMap::with_capacity(ids.len());
    for part in ids.chunks(READ_IDS) {
        let rows: Vec<Before> = sessions::table
            .filter(sessions::id.eq_any(part))
            .select((
                sessions::id,
                sessions::project_id,
                sessions::started_at,
                sessions::duration_ms,
                sessions::active_ms,
                sessions::error_count,
                sessions::rage_click_count,
                sessions::exit_url,
                sessions::numbered,
            ))
            .load(conn)?;
        before.extend(rows.into_iter().map(|r| (r.id.clone(), r)));
    }
    let stored = stored(conn, writes)?;
    let mut deltas = Deltas::default();
    for (id, w) in writes {
        let Some(b) = before.get_mut(*id) else {
            continue;
        };
        deltas.session(b, w, &stored);
        // A second write of the same session in this flush starts from this one.
        let d = &w.derived;
        b.numbered = true;
        b.duration_ms = d.duration_ms;
        b.active_ms = d.active_ms;
        b.error_count = d.error_count;
        b.rage_click_count = d.rage_click_count;
        b.exit_url = d.exit_url.as_deref().map(Into::into);
    }
    store(conn, deltas)
}

/// The stored pages and event names among those these writes bring (read only for the sessions
/// that bring some: a new page is rare next to the events of a flush).
fn stored(conn: &mut DbConn, writes: &[(&str, &SummaryWrite)]) -> Result<Stored> {
    let mut out = Stored::default();
    let with_pages: Vec<&str> = writes
        .iter()
        .filter(|w| !w.1.new_pages.is_empty())
        .map(|w| w.0)
        .collect();
    for part in with_pages.chunks(READ_IDS) {
        let rows: Vec<(String, String)> = session_pages::table
            .filter(session_pages::session_id.eq_any(part))
            .select((session_pages::session_id, session_pages::url))
            .load(conn)?;
        out.pages.extend(rows);
    }
    let with_events: Vec<&str> = writes
        .iter()
        .filter(|w| !w.1.new_events.is_empty())
        .map(|w| w.0)
        .collect();
    for part in with_events.chunks(READ_IDS) {
        let rows: Vec<(String, String)> = session_events::table
            .filter(session_events::session_id.eq_any(part))
            .select((session_events::session_id, session_events::name))
            .load(conn)?;
        out.events.extend(rows);
    }
    Ok(out)
}

#[derive(Insertable)]
#[diesel(table_name = numbers_days)]
struct DayRow<'a> {
    project_id: &'a str,
    day: i64,
    sessions: i64,
    errored: i64,
}

#[derive(Insertable)]
#[diesel(table_name = numbers_hist)]
struct HistRow<'a> {
    project_id: &'a str,
    day: i64,
    metric: i32,
    bucket: i32,
    sessions: i64,
}

#[derive(Insertable)]
#[diesel(table_name = numbers_pages)]
struct PageRow<'a> {
    project_id: &'a str,
    day: i64,
    url: &'a str,
    visits: i64,
    entries: i64,
    exits: i64,
    rage_clicks: i64,
}

#[derive(Insertable)]
#[diesel(table_name = numbers_events)]
struct EventRow<'a> {
    project_id: &'a str,
    day: i64,
    name: &'a str,
    sessions: i64,
}

/// Adds `rows` to their table, each counter by its own value: a multi-row upsert per few
/// hundred rows on PostgreSQL, one per row on SQLite (Diesel builds SQLite's ON CONFLICT for
/// single rows; in-process, each costs microseconds). Rows go in key order (the maps are
/// sorted), so two hubs' flushes lock shared rows in the same order and never deadlock.
macro_rules! upsert {
    ($conn:expr, $table:ident, $rows:expr, ($($key:ident),+), ($($count:ident),+)) => {{
        let rows = $rows;
        let set = ($($table::$count.eq($table::$count + excluded($table::$count))),+);
        match $conn {
            #[cfg(feature = "postgres")]
            DbConn::Pg(c) => {
                for part in rows.chunks(UPSERT_ROWS) {
                    diesel::insert_into($table::table)
                        .values(part)
                        .on_conflict(($($table::$key),+))
                        .do_update()
                        .set(set)
                        .execute(c)?;
                }
            }
            #[cfg(feature = "sqlite")]
            DbConn::Sqlite(c) => {
                for row in &rows {
                    diesel::insert_into($table::table)
                        .values(row)
                        .on_conflict(($($table::$key),+))
                        .do_update()
                        .set(set)
                        .execute(c)?;
                }
            }
        }
    }};
}

fn store(conn: &mut DbConn, d: Deltas) -> Result<()> {
    let days: Vec<DayRow<'_>> = d
        .days
        .iter()
        .filter(|(_, v)| **v != (0, 0))
        .map(|((p, day), (s, e))| DayRow {
            project_id: p,
            day: *day,
            sessions: *s,
            errored: *e,
        })
        .collect();
    upsert!(
        conn,
        numbers_days,
        days,
        (project_id, day),
        (sessions, errored)
    );
    let hist: Vec<HistRow<'_>> = d
        .hist
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|((p, day, metric, bucket), n)| HistRow {
            project_id: p,
            day: *day,
            metric: *metric,
            bucket: *bucket,
            sessions: *n,
        })
        .collect();
    upsert!(
        conn,
        numbers_hist,
        hist,
        (project_id, day, metric, bucket),
        (sessions)
    );
    let pages: Vec<PageRow<'_>> = d
        .pages
        .iter()
        .filter(|(_, v)| **v != [0; 4])
        .map(|((p, day, url), v)| PageRow {
            project_id: p,
            day: *day,
            url,
            visits: v[VISITS],
            entries: v[ENTRIES],
            exits: v[EXITS],
            rage_clicks: v[RAGE],
        })
        .collect();
    upsert!(
        conn,
        numbers_pages,
        pages,
        (project_id, day, url),
        (visits, entries, exits, rage_clicks)
    );
    let events: Vec<EventRow<'_>> = d
        .events
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|((p, day, name), n)| EventRow {
            project_id: p,
            day: *day,
            name,
            sessions: *n,
        })
        .collect();
    upsert!(
        conn,
        numbers_events,
        events,
        (project_id, day, name),
        (sessions)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_read_back_within_their_bound() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket_value(0), 0);
        for v in [1, 7, 999, 1000, 61_234, 3_600_000, 86_400_000] {
            let back = bucket_value(bucket(v)) as f64;
            let err = (back - v as f64).abs() / (v as f64 + 1.0);
            assert!(err <= 2f64.powf(1.0 / 16.0) - 1.0 + 1e-9, "{v} → {back}");
        }
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_of(DAY_MS), 1);
    }
}
