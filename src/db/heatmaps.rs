//! The heatmap aggregates (`crate::heatmap`): counts added by the writer in the transaction that
//! stores the events they come from, and the reads behind `GET /api/heatmaps` and the numbers
//! page (`dead_clicks_per_page`). A read sums a page's rows over days and points, never events.

use std::collections::HashMap;

use diesel::{dsl::sql, prelude::*, sql_types::BigInt, upsert::excluded};

use super::{
    schema::{heatmap_points as hp, heatmap_snapshots as hs},
    DbConn,
};
use crate::{
    error::Result,
    heatmap::{HeatDelta, HeatKey, Kind},
    summary::SummaryWrite,
};

/// Rows per multi-row INSERT, well under both backends' bound-parameter limits.
const INSERT_ROWS: usize = 400;

#[derive(Insertable)]
#[diesel(table_name = hp)]
struct PointRow<'a> {
    project_id: &'a str,
    kind: &'a str,
    bucket: &'a str,
    path: &'a str,
    day: i64,
    selector: &'a str,
    gx: i64,
    gy: i64,
    count: i64,
    px_sum: i64,
    py_sum: i64,
}

#[derive(Insertable, Queryable, Clone, Debug)]
#[diesel(table_name = hs)]
pub struct SnapshotRow {
    pub project_id: String,
    pub path: String,
    pub bucket: String,
    pub session_id: String,
    pub meta_seq: i64,
    pub full_seq: i64,
    pub width: i64,
    pub height: i64,
    pub taken_at: i64,
}

/// Adds each write's deltas (summed per cell first: one statement may not touch a row twice)
/// and keeps each write's snapshot as its page's latest.
pub fn store(conn: &mut DbConn, writes: &[(&str, &SummaryWrite)]) -> Result<()> {
    let mut cells: HashMap<&HeatKey, HeatDelta> = HashMap::new();
    for (_, w) in writes {
        for (k, d) in &w.heat.deltas {
            let c = cells.entry(k).or_default();
            c.count += d.count;
            c.px += d.px;
            c.py += d.py;
        }
    }
    let rows: Vec<PointRow<'_>> = cells
        .iter()
        .filter(|(_, d)| **d != HeatDelta::default())
        .map(|(k, d)| PointRow {
            project_id: &k.project,
            kind: k.kind.name(),
            bucket: k.bucket,
            path: &k.path,
            day: k.day,
            selector: &k.selector,
            gx: k.gx,
            gy: k.gy,
            count: d.count,
            px_sum: d.px,
            py_sum: d.py,
        })
        .collect();
    let snaps: Vec<SnapshotRow> = writes
        .iter()
        .filter_map(|(id, w)| {
            let s = w.heat.snapshot.as_ref()?;
            Some(SnapshotRow {
                project_id: s.project.clone(),
                path: s.path.clone(),
                bucket: s.bucket.to_owned(),
                session_id: (*id).to_owned(),
                meta_seq: s.meta_seq,
                full_seq: s.full_seq,
                width: s.width,
                height: s.height,
                taken_at: s.taken_at,
            })
        })
        .collect();
    let key = (
        hp::project_id,
        hp::kind,
        hp::bucket,
        hp::path,
        hp::day,
        hp::selector,
        hp::gx,
        hp::gy,
    );
    let add = (
        hp::count.eq(hp::count + excluded(hp::count)),
        hp::px_sum.eq(hp::px_sum + excluded(hp::px_sum)),
        hp::py_sum.eq(hp::py_sum + excluded(hp::py_sum)),
    );
    let replace = (
        hs::session_id.eq(excluded(hs::session_id)),
        hs::meta_seq.eq(excluded(hs::meta_seq)),
        hs::full_seq.eq(excluded(hs::full_seq)),
        hs::width.eq(excluded(hs::width)),
        hs::height.eq(excluded(hs::height)),
        hs::taken_at.eq(excluded(hs::taken_at)),
    );
    let snap_key = (hs::project_id, hs::path, hs::bucket);
    // Diesel builds SQLite's ON CONFLICT for one row at a time (in-process: microseconds each).
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => {
            for part in rows.chunks(INSERT_ROWS) {
                diesel::insert_into(hp::table)
                    .values(part)
                    .on_conflict(key)
                    .do_update()
                    .set(add)
                    .execute(c)?;
            }
            for s in &snaps {
                diesel::insert_into(hs::table)
                    .values(s)
                    .on_conflict(snap_key)
                    .do_update()
                    .set(replace)
                    .execute(c)?;
            }
        }
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            for r in &rows {
                diesel::insert_into(hp::table)
                    .values(r)
                    .on_conflict(key)
                    .do_update()
                    .set(add)
                    .execute(c)?;
            }
            for s in &snaps {
                diesel::insert_into(hs::table)
                    .values(s)
                    .on_conflict(snap_key)
                    .do_update()
                    .set(replace)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Which aggregates a read sums.
#[derive(Clone, Debug)]
pub struct HeatQuery {
    /// Only these projects; `None`: every project.
    pub projects: Option<Vec<String>>,
    /// A path, or a pattern where `*` stands for any characters (`/product/*`).
    pub url: String,
    pub bucket: String,
    /// Days since the epoch, both included.
    pub from_day: i64,
    pub to_day: i64,
}

/// One point summed over days: its cell, count and summed page coordinates.
#[derive(Queryable, Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub selector: String,
    pub gx: i64,
    pub gy: i64,
    pub count: i64,
    pub px_sum: i64,
    pub py_sum: i64,
}

/// `url` as a LIKE pattern: `*` is any characters, LIKE's own wildcards escaped (with `\`).
fn pattern(url: &str) -> String {
    url.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
        .replace('*', "%")
}

type Backend = <DbConn as diesel::Connection>::Backend;
type Cond = Box<dyn BoxableExpression<hp::table, Backend, SqlType = diesel::sql_types::Bool>>;

/// The rows of `kinds` that `q` selects.
fn filtered(q: &HeatQuery, kinds: &[&'static str]) -> Cond {
    let mut c: Cond = Box::new(
        hp::kind
            .eq_any(kinds.to_vec())
            .and(hp::bucket.eq(q.bucket.clone()))
            .and(hp::day.between(q.from_day, q.to_day)),
    );
    if let Some(p) = &q.projects {
        c = Box::new(c.and(hp::project_id.eq_any(p.clone())));
    }
    if q.url.contains('*') {
        Box::new(c.and(hp::path.like(pattern(&q.url)).escape('\\')))
    } else {
        Box::new(c.and(hp::path.eq(q.url.clone())))
    }
}

/// The points of one kind, summed over the matching pages and days, most counted first.
pub fn points(conn: &mut DbConn, q: &HeatQuery, kind: Kind, limit: i64) -> Result<Vec<Point>> {
    Ok(hp::table
        .filter(filtered(q, &[kind.name()]))
        .group_by((hp::selector, hp::gx, hp::gy))
        .select((
            hp::selector,
            hp::gx,
            hp::gy,
            sql::<BigInt>("CAST(SUM(count) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(px_sum) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(py_sum) AS BIGINT)"),
        ))
        .order(sql::<BigInt>("CAST(SUM(count) AS BIGINT)").desc())
        .limit(limit)
        .load(conn)?)
}

/// The counts of `kind`, rage and dead clicks in the rows `q` selects (not the other kinds:
/// a page's moves are most of its rows).
pub fn totals(conn: &mut DbConn, q: &HeatQuery, kind: Kind) -> Result<HashMap<String, i64>> {
    let kinds = [kind.name(), "rage", "dead"];
    let rows: Vec<(String, i64)> = hp::table
        .filter(filtered(q, &kinds))
        .group_by(hp::kind)
        .select((hp::kind, sql::<BigInt>("CAST(SUM(count) AS BIGINT)")))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// An element's clicks, rage clicks and dead clicks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub selector: String,
    pub clicks: i64,
    pub rage: i64,
    pub dead: i64,
}

/// Clicks per element (those placed by element), most clicked first.
pub fn elements(conn: &mut DbConn, q: &HeatQuery, limit: usize) -> Result<Vec<Element>> {
    let rows: Vec<(String, String, i64)> = hp::table
        .filter(filtered(q, &["click", "rage", "dead"]))
        .filter(hp::selector.ne(""))
        .group_by((hp::selector, hp::kind))
        .select((
            hp::selector,
            hp::kind,
            sql::<BigInt>("CAST(SUM(count) AS BIGINT)"),
        ))
        .load(conn)?;
    let mut by: HashMap<String, Element> = HashMap::new();
    for (selector, kind, n) in rows {
        let e = by.entry(selector.clone()).or_insert_with(|| Element {
            selector,
            ..Element::default()
        });
        match kind.as_str() {
            "click" => e.clicks += n,
            "rage" => e.rage += n,
            _ => e.dead += n,
        }
    }
    let mut out: Vec<Element> = by.into_values().collect();
    out.sort_by(|a, b| (b.clicks, b.dead, &a.selector).cmp(&(a.clicks, a.dead, &b.selector)));
    out.truncate(limit);
    Ok(out)
}

/// The latest snapshot of a page in a bucket (for a pattern: of any matching page).
pub fn snapshot(conn: &mut DbConn, q: &HeatQuery) -> Result<Option<SnapshotRow>> {
    let mut b = hs::table
        .filter(hs::bucket.eq(q.bucket.clone()))
        .into_boxed();
    if let Some(p) = &q.projects {
        b = b.filter(hs::project_id.eq_any(p.clone()));
    }
    if q.url.contains('*') {
        b = b.filter(hs::path.like(pattern(&q.url)).escape('\\'));
    } else {
        b = b.filter(hs::path.eq(q.url.clone()));
    }
    Ok(b.order(hs::taken_at.desc()).first(conn).optional()?)
}

/// Dead clicks per page of `project` over the days of `from_ms..=to_ms` (hub time), most first:
/// for the numbers page.
pub fn dead_clicks_per_page(
    conn: &mut DbConn,
    project: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(String, i64)>> {
    use crate::heatmap::day;
    Ok(hp::table
        .filter(hp::project_id.eq(project))
        .filter(hp::kind.eq(Kind::Dead.name()))
        .filter(hp::day.between(day(from_ms), day(to_ms)))
        .group_by(hp::path)
        .select((hp::path, sql::<BigInt>("CAST(SUM(count) AS BIGINT)")))
        .order(sql::<BigInt>("CAST(SUM(count) AS BIGINT)").desc())
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn stars_match_anything_and_like_wildcards_are_literal() {
        assert_eq!(pattern("/product/*"), "/product/%");
        assert_eq!(pattern("/a_b%/*"), "/a\\_b\\%/%");
    }
}
