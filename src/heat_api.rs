//! `GET /api/heatmaps?url=…&kind=click|rage|dead|move|scroll&from=…&to=…&bucket=…&project=…`:
//! sums the aggregates `crate::heatmap` keeps (per day, so a range sums whole days) and names
//! the latest snapshot of that page and viewport bucket to draw them on.

use actix_web::{
    web::{self, Data, Query},
    HttpResponse,
};
use serde::Deserialize;

use crate::{
    access::SignedIn,
    api::{bad_param, text_param, time_param, AppState},
    auth::projects::Scope,
    db::heatmaps::{self, HeatQuery, Point},
    error::{Error, Result},
    event::{now_ms, split_key, validate_session_id},
    heatmap::{day, Kind, DEPTH_GRID},
    protocol::{
        heatmap::{HeatElement, HeatPoint, HeatSnapshot, Heatmap, ScrollDepth},
        rfc3339,
    },
};

/// Without `from`, a heatmap covers this many days up to `to`.
const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Points and elements answered at most (the most counted).
const MAX_POINTS: i64 = 10_000;
const MAX_ELEMENTS: usize = 100;
/// Offsets within an element are stored in twentieths (see `crate::heatmap`).
const OFFSET_STEPS: f64 = 20.0;
/// Scroll depths deeper than this are counted at it.
const MAX_DEPTH_PX: i64 = 100_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/heatmaps", web::get().to(get_heatmap));
}

#[derive(Deserialize)]
struct HeatParams {
    url: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bucket: Option<String>,
    project: Option<String>,
}

/// Percent-encodes a query parameter's value (every byte but RFC 3986's unreserved ones).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/` with the sessions list's `url` filter: the sessions behind a number.
fn sessions_url(url: &str) -> String {
    let page = url.trim_end_matches('*');
    format!("/?url={}", encode(page))
}

async fn get_heatmap(
    state: Data<AppState>,
    who: SignedIn,
    p: Query<HeatParams>,
) -> Result<HttpResponse> {
    let url =
        text_param("url", p.url.as_deref())?.ok_or_else(|| bad_param("url", "is required"))?;
    if !url.starts_with('/') {
        return Err(bad_param("url", "must be a path, starting with /"));
    }
    let kind = match p.kind.as_deref() {
        None => Kind::Click,
        Some(k) => Kind::parse(k)
            .ok_or_else(|| bad_param("kind", "must be click, rage, dead, move or scroll"))?,
    };
    let bucket = match p.bucket.as_deref() {
        None => "desktop",
        Some(b @ ("mobile" | "tablet" | "desktop")) => b,
        Some(_) => return Err(bad_param("bucket", "must be mobile, tablet or desktop")),
    };
    let to = time_param("to", p.to.as_deref())?.unwrap_or_else(now_ms);
    let from = time_param("from", p.from.as_deref())?.unwrap_or(to - DEFAULT_DAYS * DAY_MS);
    if from > to {
        return Err(bad_param("from", "must not be after `to`"));
    }
    let scope = Scope::load(&state.store, &who.0).await?;
    let projects = match p.project.as_deref() {
        Some(project) => {
            if validate_session_id(project).is_err() || !scope.allows(project) {
                return Err(Error::SessionNotFound);
            }
            Some(vec![project.to_owned()])
        }
        None => scope.filter(),
    };
    let q = HeatQuery {
        projects,
        url: url.clone(),
        bucket: bucket.to_owned(),
        from_day: day(from),
        to_day: day(to),
    };
    let (points, elements, totals, snapshot) = state
        .store
        .read(move |c| {
            Ok((
                heatmaps::points(c, &q, kind, MAX_POINTS)?,
                heatmaps::elements(c, &q, MAX_ELEMENTS)?,
                heatmaps::totals(c, &q, kind)?,
                heatmaps::snapshot(c, &q)?,
            ))
        })
        .await?;
    let total = totals.get(kind.name()).copied().unwrap_or(0);
    let scroll = if kind == Kind::Scroll {
        scroll_depths(&points, total)
    } else {
        Vec::new()
    };
    let snapshot = snapshot.map(|s| {
        let (project, id) = split_key(&s.session_id);
        HeatSnapshot {
            events_url: format!(
                "/api/sessions/{}/events?project={}&after_seq={}&limit={}",
                encode(id),
                encode(project),
                (s.meta_seq - 1).max(0),
                (s.full_seq - s.meta_seq + 1).max(1)
            ),
            session_id: id.to_owned(),
            project: project.to_owned(),
            url: s.path,
            width: s.width,
            height: s.height,
            taken_at: rfc3339(s.taken_at),
        }
    });
    let sessions = sessions_url(&url);
    Ok(HttpResponse::Ok().json(Heatmap {
        kind: kind.name().to_owned(),
        bucket: bucket.to_owned(),
        from: rfc3339(day(from) * DAY_MS),
        to: rfc3339((day(to) + 1) * DAY_MS - 1),
        total,
        points: if kind == Kind::Scroll {
            Vec::new()
        } else {
            points.into_iter().map(point).collect()
        },
        elements: elements
            .into_iter()
            .map(|e| HeatElement {
                sessions_url: sessions.clone(),
                selector: e.selector,
                clicks: e.clicks,
                rage: e.rage,
                dead: e.dead,
            })
            .collect(),
        rage_clicks: totals.get("rage").copied().unwrap_or(0),
        dead_clicks: totals.get("dead").copied().unwrap_or(0),
        scroll,
        snapshot,
        sessions_url: sessions,
        url,
    }))
}

fn point(p: Point) -> HeatPoint {
    if p.selector.is_empty() {
        return HeatPoint {
            selector: None,
            ox: None,
            oy: None,
            x: p.gx,
            y: p.gy,
            count: p.count,
        };
    }
    let n = p.count.max(1);
    HeatPoint {
        ox: Some(p.gx as f64 / OFFSET_STEPS),
        oy: Some(p.gy as f64 / OFFSET_STEPS),
        selector: Some(p.selector),
        x: p.px_sum / n,
        y: p.py_sum / n,
        count: p.count,
    }
}

/// Each depth row's share of visits that got at least that far (from the rows where visits
/// ended their deepest), top down, to `MAX_DEPTH_PX` at most.
fn scroll_depths(points: &[Point], total: i64) -> Vec<ScrollDepth> {
    let rows = (points
        .iter()
        .map(|p| p.gy)
        .max()
        .unwrap_or(-1)
        .min(MAX_DEPTH_PX)
        / DEPTH_GRID
        + 1)
    .max(0) as usize;
    let mut ended = vec![0i64; rows];
    for p in points {
        let row = (p.gy.clamp(0, MAX_DEPTH_PX) / DEPTH_GRID) as usize;
        if let Some(n) = ended.get_mut(row) {
            *n += p.count;
        }
    }
    let mut reached = 0;
    let mut out: Vec<ScrollDepth> = (0..rows)
        .rev()
        .map(|row| {
            reached += ended[row];
            ScrollDepth {
                y: row as i64 * DEPTH_GRID,
                reached,
                share: if total > 0 {
                    reached as f64 / total as f64
                } else {
                    0.0
                },
            }
        })
        .collect();
    out.reverse();
    out
}
