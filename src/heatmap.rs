//! Heatmap aggregation as events arrive: a plain policy fed by the session actor with every
//! accepted event, whose deltas travel with the session's summary to the writer and are added
//! to the `heatmap_points` counts in the transaction that stores the events (so they are as
//! durable as the events and never re-read from them).
//!
//! Clicks come from the recorder's `$click` event, which carries the clicked element's selector
//! path and the offset within it (the hub sees only rrweb node ids; mirroring the DOM here would
//! mean parsing every mutation). Moves are rrweb's sampled mouse positions, scroll depth is the
//! lowest pixel of the page each visit showed. Everything is keyed by project, normalized path,
//! viewport bucket and day.

use std::{collections::HashMap, sync::Arc};

use serde::Deserialize;

use crate::{
    event::{Event, META},
    summary::{sniff_source, RageRule},
};

/// A click followed by no DOM mutation, navigation or input within this long is dead.
pub const DEAD_AFTER_MS: i64 = 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Grids of the points: element offsets in 5 % steps, page clicks in 10 px, moves in 20 px,
/// scroll depth in 100 px.
const OFFSET_STEPS: f64 = 20.0;
const CLICK_GRID: i64 = 10;
const MOVE_GRID: i64 = 20;
pub const DEPTH_GRID: i64 = 100;
/// Moves are taken at most once per this long per session (the first position of the batch).
const MOVE_EVERY_MS: i64 = 100;
const MAX_SELECTOR_CHARS: usize = 512;
const MAX_PATH_CHARS: usize = 512;
/// Deltas kept between writes at most: a flood of distinct points waits for the next write.
const MAX_DELTAS: usize = 4096;

const FULL_SNAPSHOT: u8 = 2;
const INCREMENTAL: u8 = 3;
const CUSTOM: u8 = 5;
/// rrweb incremental sources.
const MUTATION: u8 = 0;
const MOUSE_MOVE: u8 = 1;
const SCROLL: u8 = 3;
const VIEWPORT_RESIZE: u8 = 4;
const INPUT: u8 = 5;
const TOUCH_MOVE: u8 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub enum Kind {
    Click,
    Rage,
    Dead,
    Move,
    Scroll,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Click => "click",
            Kind::Rage => "rage",
            Kind::Dead => "dead",
            Kind::Move => "move",
            Kind::Scroll => "scroll",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Click,
            Kind::Rage,
            Kind::Dead,
            Kind::Move,
            Kind::Scroll,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// Viewport width bucket: mobile below 768 px, tablet below 1024, desktop otherwise.
pub fn bucket(width: Option<i64>) -> &'static str {
    match width {
        Some(w) if w < 768 => "mobile",
        Some(w) if w < 1024 => "tablet",
        _ => "desktop",
    }
}

/// The page a URL shows: its path, without scheme, host, query or fragment.
pub fn page_path(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            after.find(['/', '?', '#']).map_or("", |j| &after[j..])
        }
        None => url,
    };
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let path = if path.is_empty() { "/" } else { path };
    path.chars()
        .filter(|c| *c != '\0')
        .take(MAX_PATH_CHARS)
        .collect()
}

/// A viewport bucket, one of [`bucket`]'s names. An alias: serde would take a field written
/// `&'static str` as borrowed from the input, which a spool record read back cannot lend.
pub type Bucket = &'static str;

/// A bucket read back from the spool, as the `&'static str` that [`bucket`] gives.
fn known_bucket<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Bucket, D::Error> {
    let name = String::deserialize(d)?;
    ["mobile", "tablet", "desktop"]
        .into_iter()
        .find(|b| *b == name)
        .ok_or_else(|| serde::de::Error::custom("unknown viewport bucket"))
}

/// Days since the epoch (UTC) of a hub time.
pub fn day(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// One aggregated cell. `selector` is empty for points placed by page coordinates; otherwise
/// (`gx`, `gy`) is the offset within the element in `OFFSET_STEPS`ths.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub struct HeatKey {
    pub project: Arc<str>,
    pub path: Arc<str>,
    #[serde(deserialize_with = "known_bucket")]
    pub bucket: Bucket,
    pub day: i64,
    pub kind: Kind,
    pub selector: String,
    pub gx: i64,
    pub gy: i64,
}

/// What a cell gains: its count, and the page coordinates summed (their mean is the fallback
/// place of an element's points).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct HeatDelta {
    pub count: i64,
    pub px: i64,
    pub py: i64,
}

/// A full snapshot to draw a page's heatmap on: `session`'s events `meta_seq..=full_seq`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct SnapshotRef {
    pub project: String,
    pub path: String,
    #[serde(deserialize_with = "known_bucket")]
    pub bucket: Bucket,
    pub meta_seq: i64,
    pub full_seq: i64,
    pub width: i64,
    pub height: i64,
    pub taken_at: i64,
}

/// What one write adds to the aggregates. Serializable: it waits in the spool with its events
/// during a database outage (`crate::summary::SummaryWrite`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct HeatWrite {
    pub deltas: Vec<(HeatKey, HeatDelta)>,
    pub snapshot: Option<SnapshotRef>,
}

impl HeatWrite {
    pub fn absorb(&mut self, later: HeatWrite) {
        self.deltas.extend(later.deltas);
        if later.snapshot.is_some() {
            self.snapshot = later.snapshot;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty() && self.snapshot.is_none()
    }
}

/// The dead-click rule: each click waits `DEAD_AFTER_MS` for a reaction (a mutation, a
/// navigation, an input); one that sees none is dead. Decided as later events arrive, so a
/// click in a session's very last second stays undecided.
#[derive(Clone, Debug)]
pub struct DeadClicks<T> {
    waiting: Vec<(i64, T)>,
}

impl<T> Default for DeadClicks<T> {
    fn default() -> Self {
        DeadClicks {
            waiting: Vec::new(),
        }
    }
}

impl<T> DeadClicks<T> {
    /// Time moved on to `ts`: the clicks whose window ended before it are dead.
    pub fn advance(&mut self, ts: i64) -> Vec<T> {
        let (dead, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(at, _)| ts - at > DEAD_AFTER_MS);
        self.waiting = live;
        dead.into_iter().map(|(_, t)| t).collect()
    }

    /// Something changed at `ts`: every click still waiting had an effect.
    pub fn reacted(&mut self, ts: i64) {
        self.waiting.retain(|(at, _)| *at > ts);
    }

    pub fn click(&mut self, ts: i64, target: T) {
        self.waiting.push((ts, target));
    }
}

/// A click's page coordinates.
#[derive(Clone, Copy, Debug)]
struct Place {
    px: i64,
    py: i64,
}

/// One session's heatmap state.
#[derive(Debug, Default)]
pub struct HeatAccumulator {
    project: Arc<str>,
    path: Option<Arc<str>>,
    width: Option<i64>,
    height: Option<i64>,
    /// rrweb's id of the document node (from the last full snapshot) and its scroll offset.
    doc_id: i64,
    scroll: (f64, f64),
    /// This page visit's deepest point so far: (its key, grid row).
    depth: Option<HeatKey>,
    meta_seq: Option<i64>,
    /// The last mouse or touch move taken (see `MOVE_EVERY_MS`).
    last_move: Option<i64>,
    rage: RageRule,
    dead: DeadClicks<(HeatKey, Place)>,
    deltas: HashMap<HeatKey, HeatDelta>,
    snapshot: Option<SnapshotRef>,
}

impl HeatAccumulator {
    /// For a session of `project`, carrying on (after a restart) at `path` with `width` × `height`.
    pub fn new(project: &str, path: Option<&str>, width: Option<i64>, height: Option<i64>) -> Self {
        HeatAccumulator {
            project: project.into(),
            path: path.map(|p| page_path(p).into()),
            width,
            height,
            doc_id: 1,
            ..HeatAccumulator::default()
        }
    }

    /// The deltas since the last call.
    pub fn take(&mut self) -> Option<HeatWrite> {
        let w = HeatWrite {
            deltas: self.deltas.drain().collect(),
            snapshot: self.snapshot.take(),
        };
        (!w.is_empty()).then_some(w)
    }

    pub fn observe(&mut self, e: &Event) {
        for (key, place) in self.dead.advance(e.ts) {
            let key = HeatKey {
                kind: Kind::Dead,
                ..key
            };
            self.add(key, place.px, place.py, 1);
        }
        match e.kind {
            META => self.meta(e),
            FULL_SNAPSHOT => self.full_snapshot(e),
            INCREMENTAL => self.incremental(e),
            CUSTOM => self.custom(e),
            _ => {}
        }
    }

    fn key(&self, e: &Event, kind: Kind, selector: &str, gx: i64, gy: i64) -> Option<HeatKey> {
        Some(HeatKey {
            project: self.project.clone(),
            path: self.path.clone()?,
            bucket: bucket(self.width),
            day: day(e.hub_time),
            kind,
            selector: selector.to_owned(),
            gx,
            gy,
        })
    }

    fn add(&mut self, key: HeatKey, px: i64, py: i64, n: i64) {
        if self.deltas.len() >= MAX_DELTAS && !self.deltas.contains_key(&key) {
            return;
        }
        let d = self.deltas.entry(key).or_default();
        d.count += n;
        d.px += px * n;
        d.py += py * n;
    }

    fn meta(&mut self, e: &Event) {
        self.dead.reacted(e.ts);
        let Ok(m) = serde_json::from_str::<Probe<Meta>>(&e.json) else {
            return;
        };
        if let Some(href) = m.data.href {
            self.visit(&href);
        }
        self.resize(m.data.width, m.data.height);
        self.meta_seq = Some(e.seq as i64);
        self.scroll = (0.0, 0.0);
        self.deepen(e);
    }

    fn visit(&mut self, url: &str) {
        self.path = Some(page_path(url).into());
        self.depth = None;
    }

    fn resize(&mut self, w: Option<f64>, h: Option<f64>) {
        if let (Some(w), Some(h)) = (w, h) {
            if w.is_finite() && h.is_finite() {
                self.width = Some(w as i64);
                self.height = Some(h as i64);
            }
        }
    }

    fn full_snapshot(&mut self, e: &Event) {
        if let Some((id, left, top)) = sniff_document(&e.json) {
            self.doc_id = id;
            self.scroll = (left, top);
        }
        let (Some(meta_seq), Some(path), Some(w), Some(h)) =
            (self.meta_seq, &self.path, self.width, self.height)
        else {
            return;
        };
        self.snapshot = Some(SnapshotRef {
            project: self.project.to_string(),
            path: path.to_string(),
            bucket: bucket(Some(w)),
            meta_seq,
            full_seq: e.seq as i64,
            width: w,
            height: h,
            taken_at: e.hub_time,
        });
        self.deepen(e);
    }

    fn incremental(&mut self, e: &Event) {
        let source = match sniff_source(&e.json) {
            Some(s) => s,
            None => match serde_json::from_str::<Probe<Source>>(&e.json) {
                Ok(p) => p.data.source,
                Err(_) => return,
            },
        };
        match source {
            MUTATION | INPUT => self.dead.reacted(e.ts),
            MOUSE_MOVE | TOUCH_MOVE => {
                // Sampled: rrweb reports a position every 20 ms of movement; a heatmap needs fewer.
                if self
                    .last_move
                    .is_some_and(|t| (0..MOVE_EVERY_MS).contains(&(e.ts - t)))
                {
                    return;
                }
                self.last_move = Some(e.ts);
                let Ok(p) = serde_json::from_str::<Probe<Moves>>(&e.json) else {
                    return;
                };
                for m in p.data.positions.unwrap_or_default().into_iter().take(4) {
                    let x = grid(m.x + self.scroll.0, MOVE_GRID);
                    let y = grid(m.y + self.scroll.1, MOVE_GRID);
                    if let Some(key) = self.key(e, Kind::Move, "", x, y) {
                        self.add(key, x, y, 1);
                    }
                }
            }
            SCROLL => {
                let Ok(p) = serde_json::from_str::<Probe<Scroll>>(&e.json) else {
                    return;
                };
                if p.data.id == Some(self.doc_id) {
                    self.scroll = (p.data.x.unwrap_or(0.0), p.data.y.unwrap_or(0.0));
                    self.deepen(e);
                }
            }
            VIEWPORT_RESIZE => {
                if let Ok(p) = serde_json::from_str::<Probe<Meta>>(&e.json) {
                    self.resize(p.data.width, p.data.height);
                    self.deepen(e);
                }
            }
            _ => {}
        }
    }

    /// The visit showed the page down to its viewport's bottom: moves its one scroll-depth
    /// count down to the new row (-1 on the old one), so each visit counts once, at its deepest.
    fn deepen(&mut self, e: &Event) {
        let Some(h) = self.height else { return };
        let row = grid(self.scroll.1 + h as f64, DEPTH_GRID);
        if self.depth.as_ref().is_some_and(|d| d.gy >= row) {
            return;
        }
        // A visit stays on the day and bucket it started in.
        let Some(key) = self.depth.clone().map_or_else(
            || self.key(e, Kind::Scroll, "", 0, row),
            |d| Some(HeatKey { gy: row, ..d }),
        ) else {
            return;
        };
        if let Some(old) = self.depth.replace(key.clone()) {
            self.add(old, 0, 0, -1);
        }
        self.add(key, 0, 0, 1);
    }

    fn custom(&mut self, e: &Event) {
        let Ok(p) = serde_json::from_str::<Probe<Custom<'_>>>(&e.json) else {
            return;
        };
        // Only StreamDOM's own payloads are read (a site's `track` payload can be large).
        let payload = || {
            p.data
                .payload
                .and_then(|raw| serde_json::from_str::<Payload>(raw.get()).ok())
        };
        match &*p.data.tag {
            "$pageview" => {
                self.dead.reacted(e.ts);
                if let Some(url) = payload().and_then(|v| v.url) {
                    self.visit(&url);
                    self.deepen(e);
                }
            }
            "$visibility" => self.dead.reacted(e.ts),
            "$click" => {
                if let Some(c) = payload() {
                    self.click(e, c);
                }
            }
            _ => {}
        }
    }

    fn click(&mut self, e: &Event, c: Payload) {
        let (px, py) = (c.px.unwrap_or(0.0), c.py.unwrap_or(0.0));
        if !(px.is_finite() && py.is_finite()) {
            return;
        }
        let selector: String = c
            .sel
            .unwrap_or_default()
            .chars()
            .filter(|c| *c != '\0')
            .take(MAX_SELECTOR_CHARS)
            .collect();
        let (gx, gy) = match (c.ox, c.oy) {
            (Some(ox), Some(oy)) if !selector.is_empty() => (
                (ox.clamp(0.0, 1.0) * OFFSET_STEPS).round() as i64,
                (oy.clamp(0.0, 1.0) * OFFSET_STEPS).round() as i64,
            ),
            _ => (grid(px, CLICK_GRID), grid(py, CLICK_GRID)),
        };
        let selector = if c.ox.is_some() && c.oy.is_some() {
            selector
        } else {
            String::new()
        };
        let Some(key) = self.key(e, Kind::Click, &selector, gx, gy) else {
            return;
        };
        let place = Place {
            px: px as i64,
            py: py as i64,
        };
        if self.rage.click(e.ts, px, py) {
            let rage = HeatKey {
                kind: Kind::Rage,
                ..key.clone()
            };
            self.add(rage, place.px, place.py, 1);
        }
        self.add(key.clone(), place.px, place.py, 1);
        self.dead.click(e.ts, (key, place));
    }
}

fn grid(v: f64, step: i64) -> i64 {
    if !v.is_finite() {
        return 0;
    }
    (v.max(0.0) as i64 / step) * step
}

/// (document node id, initial scroll left, top) from the tail of a full snapshot, which rrweb
/// writes as `…,"id":N},"initialOffset":{"left":L,"top":T}}…`; read without parsing the rest.
fn sniff_document(json: &str) -> Option<(i64, f64, f64)> {
    let start = json.len().saturating_sub(200);
    let tail = json.get(start..).or_else(|| {
        (start..json.len())
            .find(|i| json.is_char_boundary(*i))
            .and_then(|i| json.get(i..))
    })?;
    let at = tail.rfind("},\"initialOffset\":")?;
    let id_at = tail[..at].rfind("\"id\":")? + 5;
    let id = tail[id_at..at].parse().ok()?;
    #[derive(Deserialize)]
    struct Offset {
        left: f64,
        top: f64,
    }
    let rest = &tail[at + "},\"initialOffset\":".len()..];
    let end = rest.find('}')? + 1;
    let o: Offset = serde_json::from_str(&rest[..end]).ok()?;
    Some((id, o.left, o.top))
}

#[derive(Deserialize)]
struct Probe<D> {
    data: D,
}

#[derive(Deserialize)]
struct Source {
    source: u8,
}

#[derive(Deserialize)]
struct Meta {
    href: Option<String>,
    width: Option<f64>,
    height: Option<f64>,
}

#[derive(Deserialize)]
struct Moves {
    positions: Option<Vec<Position>>,
}

#[derive(Deserialize)]
struct Position {
    x: f64,
    y: f64,
}

#[derive(Deserialize)]
struct Scroll {
    id: Option<i64>,
    x: Option<f64>,
    y: Option<f64>,
}

#[derive(Deserialize)]
struct Custom<'a> {
    tag: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: Option<&'a serde_json::value::RawValue>,
}

/// The payloads of the custom events read here (`$click` and `$pageview` share it).
#[derive(Deserialize)]
struct Payload {
    url: Option<String>,
    sel: Option<String>,
    ox: Option<f64>,
    oy: Option<f64>,
    px: Option<f64>,
    py: Option<f64>,
}

#[cfg(test)]
mod tests;
