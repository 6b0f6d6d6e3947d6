//! `GET /api/numbers`'s answer, read from the rollups `numbers` keeps (a few rows per day and
//! page, never the sessions themselves) plus one indexed count of the sessions open now.

use std::collections::BTreeMap;

use diesel::{dsl::sql, expression::SqlLiteral, prelude::*, sql_types::BigInt};
use serde::Serialize;

use super::{
    numbers::{bucket_value, ACTIVE, DAY_MS, DURATION},
    schema::{numbers_days, numbers_events, numbers_hist, numbers_pages, sessions},
    DbConn,
};
use crate::error::Result;

/// `SUM(column)` as a BIGINT on both backends (Diesel types a sum of BIGINT as NUMERIC).
fn total(column: &str) -> SqlLiteral<BigInt> {
    sql::<BigInt>(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}

/// Entries per list (top pages, entry and exit pages, rage and dead clicks, custom events).
const TOP: usize = 10;

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Numbers {
    pub project: String,
    /// The first millisecond of the first day and the last of the last day (UTC), inclusive:
    /// the `from` and `to` the sessions list takes for the same sessions.
    pub from: i64,
    pub to: i64,
    pub days: Vec<Day>,
    pub sessions: i64,
    /// Sessions with at least one error, and their share of `sessions` (0 without sessions).
    pub errored: i64,
    pub error_rate: f64,
    /// Sessions of the project not ended now (whatever the range).
    pub active_now: i64,
    /// Medians read from log-spaced histograms: off by at most `median_error` (relative).
    pub median_duration_ms: Option<i64>,
    pub median_active_ms: Option<i64>,
    pub median_error: f64,
    pub top_pages: Vec<Count>,
    pub entry_pages: Vec<Count>,
    pub exit_pages: Vec<Count>,
    pub rage_clicks: Vec<Count>,
    /// Dead clicks (clicks nothing answered) per page path, from the heatmaps' aggregates
    /// (`heatmaps::dead_clicks_per_page`), which count by the day of the click.
    pub dead_clicks: Vec<Count>,
    pub events: Vec<Count>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// Its first millisecond (UTC).
    pub from: i64,
    pub sessions: i64,
    pub errored: i64,
}

/// A page URL or event name and how many sessions (or rage clicks) it has.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// Bounds the median error of `numbers::bucket_value`.
pub const MEDIAN_ERROR: f64 = 0.0443;

/// The lower median of a histogram (bucket → sessions).
fn median(hist: &BTreeMap<i32, i64>) -> Option<i64> {
    let n: i64 = hist.values().sum();
    if n <= 0 {
        return None;
    }
    let want = (n + 1) / 2;
    let mut seen = 0;
    for (b, c) in hist {
        seen += c;
        if seen >= want {
            return Some(bucket_value(*b));
        }
    }
    None
}

/// The `TOP` largest positive counts, largest first, ties by key.
fn top(mut all: Vec<Count>) -> Vec<Count> {
    all.retain(|c| c.count > 0);
    all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    all.truncate(TOP);
    all
}

/// The numbers of `project` for the UTC days `first..=last`.
pub fn numbers(conn: &mut DbConn, project: &str, first: i64, last: i64) -> Result<Numbers> {
    let day_rows: Vec<(i64, i64, i64)> = numbers_days::table
        .filter(numbers_days::project_id.eq(project))
        .filter(numbers_days::day.between(first, last))
        .select((
            numbers_days::day,
            numbers_days::sessions,
            numbers_days::errored,
        ))
        .load(conn)?;
    let by_day: BTreeMap<i64, (i64, i64)> =
        day_rows.into_iter().map(|(d, s, e)| (d, (s, e))).collect();
    let days: Vec<Day> = (first..=last)
        .map(|d| {
            let (sessions, errored) = by_day.get(&d).copied().unwrap_or_default();
            Day {
                from: d * DAY_MS,
                sessions,
                errored,
            }
        })
        .collect();
    let sessions: i64 = days.iter().map(|d| d.sessions).sum();
    let errored: i64 = days.iter().map(|d| d.errored).sum();

    let hist_rows: Vec<(i32, i32, i64)> = numbers_hist::table
        .filter(numbers_hist::project_id.eq(project))
        .filter(numbers_hist::day.between(first, last))
        .group_by((numbers_hist::metric, numbers_hist::bucket))
        .select((
            numbers_hist::metric,
            numbers_hist::bucket,
            total("sessions"),
        ))
        .load(conn)?;
    let mut hists = [BTreeMap::new(), BTreeMap::new()];
    for (metric, b, n) in hist_rows {
        if let Some(h) = usize::try_from(metric).ok().and_then(|m| hists.get_mut(m)) {
            h.insert(b, n);
        }
    }

    type PageSums = (String, i64, i64, i64, i64);
    let page_rows: Vec<PageSums> = numbers_pages::table
        .filter(numbers_pages::project_id.eq(project))
        .filter(numbers_pages::day.between(first, last))
        .group_by(numbers_pages::url)
        .select((
            numbers_pages::url,
            total("visits"),
            total("entries"),
            total("exits"),
            total("rage_clicks"),
        ))
        .load(conn)?;
    let list = |f: fn(&PageSums) -> i64| {
        top(page_rows
            .iter()
            .map(|r| Count {
                key: r.0.clone(),
                count: f(r),
            })
            .collect())
    };
    let event_rows: Vec<(String, i64)> = numbers_events::table
        .filter(numbers_events::project_id.eq(project))
        .filter(numbers_events::day.between(first, last))
        .group_by(numbers_events::name)
        .select((numbers_events::name, total("sessions")))
        .load(conn)?;
    let dead_rows = super::heatmaps::dead_clicks_per_page(
        conn,
        project,
        first * DAY_MS,
        (last + 1) * DAY_MS - 1,
    )?;
    let active_now: i64 = sessions::table
        .filter(sessions::project_id.eq(project))
        .filter(sessions::ended_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(Numbers {
        project: project.to_owned(),
        from: first * DAY_MS,
        to: (last + 1) * DAY_MS - 1,
        sessions,
        errored,
        error_rate: if sessions > 0 {
            errored as f64 / sessions as f64
        } else {
            0.0
        },
        days,
        active_now,
        median_duration_ms: median(&hists[DURATION as usize]),
        median_active_ms: median(&hists[ACTIVE as usize]),
        median_error: MEDIAN_ERROR,
        top_pages: list(|r| r.1),
        entry_pages: list(|r| r.2),
        exit_pages: list(|r| r.3),
        rage_clicks: list(|r| r.4),
        dead_clicks: top(dead_rows
            .into_iter()
            .map(|(key, count)| Count { key, count })
            .collect()),
        events: top(event_rows
            .into_iter()
            .map(|(key, n)| Count { key, count: n })
            .collect()),
    })
}
