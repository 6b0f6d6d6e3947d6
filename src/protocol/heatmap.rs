//! `GET /api/heatmaps`'s answer: a page's aggregated points of one kind, its elements' clicks,
//! rage and dead clicks, and the snapshot to draw them on (see `crate::heatmap`).

use serde::Serialize;

/// A heatmap of one page (or pattern), kind, viewport bucket and range of days.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Heatmap {
    pub url: String,
    pub kind: String,
    /// `mobile` (< 768 px), `tablet` (< 1024 px) or `desktop`.
    pub bucket: String,
    /// The days summed, as RFC 3339 times (the first day's start, the last day's end).
    pub from: String,
    pub to: String,
    /// Sum of the points' counts (for `scroll`: page visits).
    pub total: i64,
    pub points: Vec<HeatPoint>,
    /// Clicks per element, most clicked first (recorded page text: show with textContent).
    pub elements: Vec<HeatElement>,
    pub rage_clicks: i64,
    pub dead_clicks: i64,
    /// For `scroll`: the share of visits that showed each depth, top down.
    pub scroll: Vec<ScrollDepth>,
    pub snapshot: Option<HeatSnapshot>,
    /// The sessions list, filtered to this page.
    pub sessions_url: String,
}

/// One point. With a `selector`, `ox`/`oy` place it within that element (0–1) and `x`/`y` are
/// the mean page coordinates, the fallback; without, `x`/`y` are page coordinates.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HeatPoint {
    pub selector: Option<String>,
    pub ox: Option<f64>,
    pub oy: Option<f64>,
    pub x: i64,
    pub y: i64,
    pub count: i64,
}

#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HeatElement {
    pub selector: String,
    pub clicks: i64,
    pub rage: i64,
    pub dead: i64,
    pub sessions_url: String,
}

#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ScrollDepth {
    /// Pixels from the page's top.
    pub y: i64,
    /// Visits that showed the page at least this far down, and their share of all.
    pub reached: i64,
    pub share: f64,
}

/// The full snapshot the heatmap is drawn on: `events_url` answers its Meta and full snapshot.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HeatSnapshot {
    pub session_id: String,
    pub project: String,
    pub url: String,
    pub width: i64,
    pub height: i64,
    pub taken_at: String,
    pub events_url: String,
}
