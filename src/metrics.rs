//! Prometheus metrics: process-wide counters and gauges as plain atomics, updated by one-line
//! calls where things happen and rendered in the text exposition format by `GET /metrics`.
//! Nothing here knows about actors or the database; the callers say what happened.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Mutex,
    },
};

use crate::error::Error;

/// A count that only grows.
pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A level that goes up and down.
pub struct Gauge(AtomicI64);

impl Gauge {
    const fn new() -> Self {
        Gauge(AtomicI64::new(0))
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn dec(&self) {
        self.add(-1);
    }

    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, n: i64) {
        self.0.store(n, Ordering::Relaxed);
    }
}

pub static SESSIONS_ACTIVE: Gauge = Gauge::new();
pub static VIEWERS_CONNECTED: Gauge = Gauge::new();
pub static EVENTS_IN: Counter = Counter::new();
pub static FRAMES_OUT: Counter = Counter::new();
pub static DURABLE_LAG: Gauge = Gauge::new();
/// Bytes of events held against the hub's memory budget (all budgets of the process).
pub static MEMORY_BUDGET_USED: Gauge = Gauge::new();
pub static DATABASE_ERRORS: Counter = Counter::new();
pub static VIEWERS_CUT: Counter = Counter::new();
/// Compressed (binary) frames received on sockets, and their bytes before inflating.
pub static COMPRESSED_FRAMES_IN: Counter = Counter::new();
pub static COMPRESSED_BYTES_IN: Counter = Counter::new();
/// Frames sent to viewers compressed, and the bytes that saved.
pub static COMPRESSED_FRAMES_OUT: Counter = Counter::new();
pub static COMPRESSION_SAVED_BYTES_OUT: Counter = Counter::new();
/// The durable spool's size on disk and its records not yet stored (set by `spool`).
pub static SPOOL_BYTES: Gauge = Gauge::new();
pub static SPOOL_RECORDS: Gauge = Gauge::new();
/// Cluster mode: messages handed to NATS, and frames dropped because the queue to it was full
/// (their gaps are filled from the database by the hubs following the session).
pub static CLUSTER_PUBLISHED: Counter = Counter::new();
pub static CLUSTER_DROPPED: Counter = Counter::new();
/// HTTP responses by status class: 1xx (WebSocket upgrades) to 5xx.
static HTTP: [Counter; 5] = [
    Counter::new(),
    Counter::new(),
    Counter::new(),
    Counter::new(),
    Counter::new(),
];
/// Sockets closed by the hub with an error, by error code. Rare, so a lock is fine.
static REFUSED: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());
/// Frames and connections refused by an ingest limit, by limit.
static LIMITED: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// One session's share of `DURABLE_LAG`: set to its current lag, taken back when dropped (with
/// the session actor), so the sum stays exact whatever path a session ends by.
#[derive(Default, Debug)]
pub struct LagShare(u64);

impl LagShare {
    pub fn set(&mut self, lag: u64) {
        DURABLE_LAG.add(lag as i64 - self.0 as i64);
        self.0 = lag;
    }
}

impl Drop for LagShare {
    fn drop(&mut self) {
        self.set(0);
    }
}

/// A socket is being closed with `err`: a refused frame or connection. Viewers cut for being
/// too slow are counted where that is decided (`VIEWERS_CUT`), since a stuck viewer may never
/// get as far as its close.
pub fn socket_error(err: &Error) {
    if matches!(err, Error::ViewerTooSlow) {
        return;
    }
    if let Ok(mut map) = REFUSED.lock() {
        *map.entry(err.code()).or_default() += 1;
    }
}

/// A frame or a connection was refused by the ingest limit named `limit` (see `limits`).
pub fn limited(limit: &'static str) {
    if let Ok(mut map) = LIMITED.lock() {
        *map.entry(limit).or_default() += 1;
    }
}

/// Counts a failed database call.
pub fn database_result<T>(result: &Result<T, Error>) {
    if let Err(Error::Database(_) | Error::Pool(_) | Error::Migration(_)) = result {
        DATABASE_ERRORS.inc();
    }
}

/// Counts one HTTP response by its status.
pub fn http_response(status: u16) {
    if let Some(c) = HTTP.get(usize::from(status / 100).wrapping_sub(1)) {
        c.inc();
    }
}

/// Everything, in the Prometheus text exposition format (version 0.0.4).
pub fn render() -> String {
    let mut out = String::new();
    let mut one = |name: &str, kind: &str, help: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    one(
        "streamdom_sessions_active",
        "gauge",
        "Sessions with a running session actor.",
        SESSIONS_ACTIVE.get().to_string(),
    );
    one(
        "streamdom_viewers_connected",
        "gauge",
        "Viewer sockets open.",
        VIEWERS_CONNECTED.get().to_string(),
    );
    one(
        "streamdom_events_in_total",
        "counter",
        "Events accepted from recorders (duplicates not counted).",
        EVENTS_IN.get().to_string(),
    );
    one(
        "streamdom_frames_out_total",
        "counter",
        "Event frames sent to viewers.",
        FRAMES_OUT.get().to_string(),
    );
    one(
        "streamdom_durable_lag_events",
        "gauge",
        "Events accepted but not yet durable, summed over sessions.",
        DURABLE_LAG.get().to_string(),
    );
    one(
        "streamdom_memory_budget_used_bytes",
        "gauge",
        "Bytes of events held in memory against --memory-budget-bytes.",
        MEMORY_BUDGET_USED.get().to_string(),
    );
    one(
        "streamdom_database_errors_total",
        "counter",
        "Database calls that failed (query, pool or migration).",
        DATABASE_ERRORS.get().to_string(),
    );
    one(
        "streamdom_viewers_cut_total",
        "counter",
        "Viewers disconnected for falling too far behind.",
        VIEWERS_CUT.get().to_string(),
    );
    one(
        "streamdom_compressed_frames_in_total",
        "counter",
        "Compressed (binary) frames received on sockets.",
        COMPRESSED_FRAMES_IN.get().to_string(),
    );
    one(
        "streamdom_compressed_bytes_in_total",
        "counter",
        "Bytes of compressed frames received on sockets, before inflating.",
        COMPRESSED_BYTES_IN.get().to_string(),
    );
    one(
        "streamdom_compressed_frames_out_total",
        "counter",
        "Event frames sent to viewers compressed.",
        COMPRESSED_FRAMES_OUT.get().to_string(),
    );
    one(
        "streamdom_compression_saved_bytes_out_total",
        "counter",
        "Bytes compressing frames to viewers saved (text bytes minus bytes sent).",
        COMPRESSION_SAVED_BYTES_OUT.get().to_string(),
    );
    one(
        "streamdom_spool_bytes",
        "gauge",
        "Bytes of the durable spool on disk (events the database has not taken yet).",
        SPOOL_BYTES.get().to_string(),
    );
    one(
        "streamdom_spool_records",
        "gauge",
        "Spool records not yet stored in the database.",
        SPOOL_RECORDS.get().to_string(),
    );
    one(
        "streamdom_cluster_published_total",
        "counter",
        "Messages handed to the cluster's bus (NATS).",
        CLUSTER_PUBLISHED.get().to_string(),
    );
    one(
        "streamdom_cluster_dropped_total",
        "counter",
        "Frames not published for a full queue to NATS (other hubs fill them from the database).",
        CLUSTER_DROPPED.get().to_string(),
    );
    let _ = writeln!(
        out,
        "# HELP streamdom_frames_refused_total Sockets closed by the hub with an error (a refused \
         frame or connection), by error code.\n# TYPE streamdom_frames_refused_total counter"
    );
    if let Ok(map) = REFUSED.lock() {
        for (code, n) in map.iter() {
            let _ = writeln!(
                out,
                "streamdom_frames_refused_total{{reason=\"{code}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP streamdom_limited_total Frames and connections refused by an ingest limit \
         (`rate_limited`), by limit.\n# TYPE streamdom_limited_total counter"
    );
    if let Ok(map) = LIMITED.lock() {
        for (limit, n) in map.iter() {
            let _ = writeln!(out, "streamdom_limited_total{{limit=\"{limit}\"}} {n}");
        }
    }
    let _ = writeln!(
        out,
        "# HELP streamdom_http_responses_total HTTP responses by status class.\n\
         # TYPE streamdom_http_responses_total counter"
    );
    for (i, c) in HTTP.iter().enumerate() {
        let _ = writeln!(
            out,
            "streamdom_http_responses_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.get()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lag_share_is_taken_back_when_dropped() {
        let before = DURABLE_LAG.get();
        let mut share = LagShare::default();
        share.set(10);
        share.set(4);
        assert_eq!(DURABLE_LAG.get() - before, 4);
        drop(share);
        assert_eq!(DURABLE_LAG.get(), before);
    }

    #[test]
    fn the_exposition_has_a_type_line_for_every_metric() {
        http_response(204);
        socket_error(&Error::InvalidFrame(String::new()));
        limited("project_bytes");
        let text = render();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "no TYPE for {line}"
            );
        }
        assert!(text.contains("streamdom_frames_refused_total{reason=\"invalid_frame\"} "));
        assert!(text.contains("streamdom_limited_total{limit=\"project_bytes\"} "));
    }
}
