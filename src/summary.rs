//! What the hub derives from a session as its events arrive (user, pages, clicks, rage clicks,
//! errors, custom events, active time, true duration, viewport) and from its user agent
//! (browser, OS, device type). A plain policy: the session actor feeds it every accepted event
//! and hands a snapshot to the writer, which stores it with the events it covers.
//!
//! It must cost little on the ingest path: each event's kind is already known, so only the few
//! kinds that matter are looked into, with small serde probes; an incremental snapshot's source
//! is read from the head of its JSON (rrweb writes `{"type":3,"data":{"source":N`), falling back
//! to a probe when the head has another shape.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::{Event, META};

/// Distinct page URLs and custom event names kept per session (visits past the cap still count).
pub const MAX_PAGES: usize = 100;
pub const MAX_EVENT_NAMES: usize = 100;
const MAX_URL_CHARS: usize = 2048;
const MAX_NAME_CHARS: usize = 128;
const MAX_USER_ID_CHARS: usize = 256;
/// Traits bigger than this (as JSON) are not kept: they are shown in lists and searched.
const MAX_TRAITS_BYTES: usize = 4096;

/// A rage click: at least `RAGE_CLICKS` clicks, each within `RAGE_WINDOW_MS` of the previous and
/// within `RAGE_RADIUS_PX` of the burst's first; a burst counts once.
const RAGE_CLICKS: u32 = 3;
const RAGE_WINDOW_MS: i64 = 1000;
const RAGE_RADIUS_PX: f64 = 30.0;
/// Gaps between input events shorter than this count as active time.
const ACTIVE_GAP_MS: i64 = 5000;

const INCREMENTAL: u8 = 3;
const CUSTOM: u8 = 5;
const PLUGIN: u8 = 6;
/// rrweb incremental sources.
const MOUSE_INTERACTION: u8 = 2;
const VIEWPORT_RESIZE: u8 = 4;
/// MouseMove, MouseInteraction, Scroll, Input, TouchMove, Drag: what counts as user input.
const INPUT_SOURCES: [u8; 6] = [1, 2, 3, 5, 6, 12];
/// rrweb's MouseInteraction type of a click.
const CLICK: u8 = 2;

/// The derived fields as a session's row holds them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Derived {
    pub user_id: Option<Arc<str>>,
    /// JSON object text.
    pub traits: Option<Arc<str>>,
    pub viewport_width: Option<i64>,
    pub viewport_height: Option<i64>,
    pub page_count: i64,
    /// Last event's timestamp minus the first's (the visitor's clock): no idle wait in it.
    pub duration_ms: i64,
    pub active_ms: i64,
    pub error_count: i64,
    pub click_count: i64,
    pub rage_click_count: i64,
    pub custom_event_count: i64,
    /// The page visited last (where the visitor left, once the session ends).
    pub exit_url: Option<Arc<str>>,
}

/// What one write stores: the fields, and the pages and event names first seen since the last.
/// Serializable: a write made during a database outage waits in the spool with its events.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SummaryWrite {
    pub derived: Derived,
    pub new_pages: Vec<String>,
    pub new_events: Vec<String>,
    /// What the same events add to the heatmaps (see `crate::heatmap`).
    pub heat: crate::heatmap::HeatWrite,
    /// The page each rage click since the last write happened on (`None`: before any page).
    pub rage_pages: Vec<Option<Arc<str>>>,
}

impl SummaryWrite {
    /// Folds a later write into this one (the writer merges a session's appends).
    pub fn absorb(&mut self, later: SummaryWrite) {
        self.derived = later.derived;
        self.new_pages.extend(later.new_pages);
        self.new_events.extend(later.new_events);
        self.heat.absorb(later.heat);
        self.rage_pages.extend(later.rage_pages);
    }
}

#[derive(Clone, Copy, Debug)]
struct Burst {
    x: f64,
    y: f64,
    last_ts: i64,
    clicks: u32,
}

/// The rage-click rule, shared by the summary and the heatmaps so that both count the same.
#[derive(Clone, Debug, Default)]
pub struct RageRule {
    burst: Option<Burst>,
}

impl RageRule {
    /// Takes a click; true when it is the one that makes its burst a rage click.
    pub fn click(&mut self, ts: i64, x: f64, y: f64) -> bool {
        match &mut self.burst {
            Some(b)
                if (0..=RAGE_WINDOW_MS).contains(&(ts - b.last_ts))
                    && (x - b.x).hypot(y - b.y) <= RAGE_RADIUS_PX =>
            {
                b.clicks += 1;
                b.last_ts = ts;
                b.clicks == RAGE_CLICKS
            }
            _ => {
                self.burst = Some(Burst {
                    x,
                    y,
                    last_ts: ts,
                    clicks: 1,
                });
                false
            }
        }
    }
}

/// A session's derivation state.
#[derive(Clone, Debug, Default)]
pub struct SessionSummary {
    derived: Derived,
    pages: Vec<String>,
    event_names: Vec<String>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    last_input: Option<i64>,
    rage: RageRule,
    unsaved: SummaryWrite,
    changed: bool,
}

impl SessionSummary {
    /// Carries on from what is stored (a recorder that came back, a hub restarted).
    pub fn resume(
        derived: Derived,
        first_ts: Option<i64>,
        pages: Vec<String>,
        event_names: Vec<String>,
    ) -> Self {
        let last_ts = first_ts.map(|f| f + derived.duration_ms);
        SessionSummary {
            derived,
            pages,
            event_names,
            first_ts,
            last_ts,
            ..SessionSummary::default()
        }
    }

    pub fn derived(&self) -> &Derived {
        &self.derived
    }

    /// Distinct pages visited, in order of first visit (at most `MAX_PAGES`).
    pub fn pages(&self) -> &[String] {
        &self.pages
    }

    /// What changed since the last call, to store with the events observed meanwhile.
    pub fn take_write(&mut self) -> Option<SummaryWrite> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let mut w = std::mem::take(&mut self.unsaved);
        w.derived = self.derived.clone();
        Some(w)
    }

    pub fn observe(&mut self, e: &Event) {
        self.changed = true;
        let first = *self.first_ts.get_or_insert(e.ts);
        let last = self.last_ts.map_or(e.ts, |l| l.max(e.ts));
        self.last_ts = Some(last);
        self.derived.duration_ms = (last - first).max(0);
        match e.kind {
            INCREMENTAL => self.incremental(e),
            META => {
                if let Ok(m) = serde_json::from_str::<Probe<MetaData>>(&e.json) {
                    self.viewport(m.data.width, m.data.height);
                    if let Some(href) = m.data.href {
                        self.visit(&href);
                    }
                }
            }
            CUSTOM => self.custom(e),
            PLUGIN => {
                if let Ok(p) = serde_json::from_str::<Probe<PluginData<'_>>>(&e.json) {
                    let console = p.data.plugin.ends_with("/console@1");
                    let level = p
                        .data
                        .payload
                        .and_then(|raw| serde_json::from_str::<ConsolePayload<'_>>(raw.get()).ok());
                    if console && level.is_some_and(|l| l.level == "error") {
                        self.derived.error_count += 1;
                    }
                }
            }
            _ => {}
        }
    }

    fn incremental(&mut self, e: &Event) {
        let source = match sniff_source(&e.json) {
            Some(s) => s,
            None => match serde_json::from_str::<Probe<SourceOnly>>(&e.json) {
                Ok(p) => p.data.source,
                Err(_) => return,
            },
        };
        if INPUT_SOURCES.contains(&source) {
            if let Some(prev) = self.last_input {
                let gap = e.ts - prev;
                if (0..ACTIVE_GAP_MS).contains(&gap) {
                    self.derived.active_ms += gap;
                }
            }
            self.last_input = Some(self.last_input.map_or(e.ts, |p| p.max(e.ts)));
        }
        match source {
            MOUSE_INTERACTION => {
                let Ok(p) = serde_json::from_str::<Probe<Pointer>>(&e.json) else {
                    return;
                };
                if p.data.kind == Some(CLICK) {
                    self.click(e.ts, p.data.x.unwrap_or(0.0), p.data.y.unwrap_or(0.0));
                }
            }
            VIEWPORT_RESIZE => {
                if let Ok(p) = serde_json::from_str::<Probe<MetaData>>(&e.json) {
                    self.viewport(p.data.width, p.data.height);
                }
            }
            _ => {}
        }
    }

    fn click(&mut self, ts: i64, x: f64, y: f64) {
        self.derived.click_count += 1;
        if self.rage.click(ts, x, y) {
            self.derived.rage_click_count += 1;
            self.unsaved.rage_pages.push(self.derived.exit_url.clone());
        }
    }

    fn viewport(&mut self, w: Option<f64>, h: Option<f64>) {
        if let (Some(w), Some(h)) = (w, h) {
            if w.is_finite() && h.is_finite() {
                self.derived.viewport_width = Some(w as i64);
                self.derived.viewport_height = Some(h as i64);
            }
        }
    }

    fn visit(&mut self, url: &str) {
        self.derived.page_count += 1;
        let url = clean(url, MAX_URL_CHARS);
        if self.derived.exit_url.as_deref() != Some(&*url) {
            self.derived.exit_url = Some(url.as_str().into());
        }
        if self.pages.len() < MAX_PAGES && !self.pages.contains(&url) {
            self.pages.push(url.clone());
            self.unsaved.new_pages.push(url);
        }
    }

    fn custom(&mut self, e: &Event) {
        let Ok(p) = serde_json::from_str::<Probe<CustomData<'_>>>(&e.json) else {
            return;
        };
        match &*p.data.tag {
            "$identify" => {
                let Some(payload) = p.data.payload else {
                    return;
                };
                if let Ok(id) = serde_json::from_str::<Identify<'_>>(payload.get()) {
                    let user = id.user_id.and_then(|raw| {
                        let v: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
                        match v {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        }
                    });
                    if let Some(user) = user.filter(|u| !u.is_empty()) {
                        self.derived.user_id = Some(clean(&user, MAX_USER_ID_CHARS).into());
                    }
                    if let Some(t) = id.traits {
                        let t = t.get();
                        if t.starts_with('{') && t.len() <= MAX_TRAITS_BYTES {
                            self.derived.traits = Some(t.into());
                        }
                    }
                }
            }
            "$pageview" => {
                let url = p.data.payload.and_then(|raw| {
                    serde_json::from_str::<PageView>(raw.get())
                        .ok()
                        .and_then(|v| v.url)
                });
                if let Some(url) = url {
                    self.visit(&url);
                }
            }
            tag if tag.starts_with('$') => {}
            tag => {
                self.derived.custom_event_count += 1;
                let name = clean(tag, MAX_NAME_CHARS);
                if self.event_names.len() < MAX_EVENT_NAMES && !self.event_names.contains(&name) {
                    self.event_names.push(name.clone());
                    self.unsaved.new_events.push(name);
                }
            }
        }
    }
}

/// Text from a recorded page, made fit to store and show: without NUL (PostgreSQL refuses it)
/// and cut to `max` characters.
fn clean(s: &str, max: usize) -> String {
    s.chars().filter(|c| *c != '\0').take(max).collect()
}

/// The source of an incremental snapshot written the way rrweb writes it, without parsing the
/// rest (a mutation can be megabytes); `None` for any other shape.
pub(crate) fn sniff_source(json: &str) -> Option<u8> {
    let head = json.get(..json.len().min(64))?;
    let at = head.find("\"data\":{\"source\":")? + "\"data\":{\"source\":".len();
    let digits: &str = &head[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit())?;
    if end == 0 || !matches!(digits.as_bytes().get(end), Some(b',' | b'}')) {
        return None;
    }
    digits[..end].parse().ok()
}

#[derive(Deserialize)]
struct Probe<D> {
    data: D,
}

#[derive(Deserialize)]
struct SourceOnly {
    source: u8,
}

#[derive(Deserialize)]
struct Pointer {
    #[serde(rename = "type")]
    kind: Option<u8>,
    x: Option<f64>,
    y: Option<f64>,
}

#[derive(Deserialize)]
struct MetaData {
    href: Option<String>,
    width: Option<f64>,
    height: Option<f64>,
}

#[derive(Deserialize)]
struct CustomData<'a> {
    tag: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Identify<'a> {
    #[serde(borrow)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow)]
    traits: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct PageView {
    url: Option<String>,
}

#[derive(Deserialize)]
struct PluginData<'a> {
    plugin: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ConsolePayload<'a> {
    level: std::borrow::Cow<'a, str>,
}

/// Browser, OS and device type of a user agent, as the list shows and filters them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    pub browser: Option<String>,
    pub os: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: Option<String>,
}

/// Parses a user agent with woothee (a maintained cross-language dataset of user agents).
pub fn client(user_agent: Option<&str>) -> Client {
    let Some(parsed) = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua)) else {
        return Client::default();
    };
    let known = |s: &str| (s != woothee::woothee::VALUE_UNKNOWN).then(|| s.to_owned());
    let device = match (parsed.category, parsed.os) {
        (_, "iPad") => "tablet",
        ("pc", _) => "desktop",
        ("smartphone" | "mobilephone", _) => "mobile",
        ("crawler", _) => "bot",
        _ => "other",
    };
    Client {
        browser: known(parsed.name),
        os: known(parsed.os),
        device: Some(device.to_owned()),
    }
}

#[cfg(test)]
mod tests;
