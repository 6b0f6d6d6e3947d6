//! What a run found, as a table on stdout and as JSON: one row per step of the scale.

use std::collections::BTreeMap;

use serde::Serialize;

/// Latency percentiles, in milliseconds.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Percentiles {
    pub samples: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of microsecond samples (sorts them in place).
    pub fn of_micros(samples: &mut [u32]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let n = samples.len();
        let at = |q: f64| {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            f64::from(samples[rank - 1]) / 1000.0
        };
        Some(Percentiles {
            samples: n,
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: f64::from(samples[n - 1]) / 1000.0,
        })
    }
}

/// One step: one load against one hub.
#[derive(Serialize, Debug)]
pub struct Step {
    pub backend: String,
    pub sessions: usize,
    pub viewers_per_session: usize,
    pub rate_per_session: f64,
    pub events_per_frame: usize,
    pub duration_s: f64,
    pub sessions_ready: usize,
    pub sessions_failed: usize,
    /// Seconds to connect every recorder and viewer and send the opening snapshots.
    pub setup_s: f64,
    pub setup_mib: f64,
    /// Seconds after the load until every session had drained (or gave up).
    pub drain_s: f64,
    pub frames_sent: u64,
    /// Over the whole run (setup and drain too): durable acks the recorders received, events
    /// messages the viewers received, acks the viewers sent.
    pub recorder_acks: u64,
    pub viewer_frames: u64,
    pub viewer_acks: u64,
    pub events_sent: u64,
    /// Load-phase events and MiB of event JSON sent per second (what the hub ingested).
    pub events_per_s: f64,
    pub mib_per_s: f64,
    /// Expected: events_sent × viewers.
    pub deliveries_expected: u64,
    pub deliveries: u64,
    /// Recorder frame sent → viewer frame received.
    pub latency_ms: Option<Percentiles>,
    /// Of that, the part after the recording hub took the event in (its `hub_time`, whole
    /// ms, on the wall clock): the hubs' and NATS's share, without the recorder's socket.
    pub after_hub_ms: Option<Percentiles>,
    pub events_durable: u64,
    pub durable_events_per_s: f64,
    pub durable_mib_per_s: f64,
    /// Recorder frame sent → `ack` with a `durable_seq` covering it received.
    pub durable_ms: Option<Percentiles>,
    /// How late the bench sent frames against its schedule: large values mean the bench, not
    /// the hub, is short of CPU.
    pub send_lag_ms: Option<Percentiles>,
    /// Peak resident memory of the hub during the step (VmHWM of a spawned hub; the highest
    /// VmRSS sampled every 100 ms for a hub given by pid).
    pub hub_peak_rss_mib: Option<f64>,
    pub hub_rss_end_mib: Option<f64>,
    /// The hub's CPU during the load phase, in % of one core (cluster mode: all hubs together).
    pub hub_cpu_pct: Option<f64>,
    /// The NATS server's CPU during the load phase, in % of one core (cluster mode).
    pub nats_cpu_pct: f64,
    /// The bench's own CPU during the load phase, in % of one core.
    pub bench_cpu_pct: f64,
    /// PostgreSQL's server processes during the load phase, in % of one core (≈ 0 on SQLite).
    pub postgres_cpu_pct: f64,
    /// Everything else on the machine during the load phase, in % of one core: other work
    /// competing for the cores. Runs where this is large were disturbed.
    pub others_cpu_pct: Option<f64>,
    /// The whole machine during the load phase (hub, bench, PostgreSQL, everything), in % of
    /// all cores, and the part of it stolen by the hypervisor.
    pub machine_cpu_pct: Option<f64>,
    pub machine_steal_pct: Option<f64>,
    pub integrity_errors: u64,
    pub errors: BTreeMap<String, u64>,
    /// Why this step counts as broken (empty: it held).
    pub broken: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct FixtureInfo {
    pub name: String,
    pub opening_bytes: usize,
    pub incremental_events: usize,
    pub mean_incremental_bytes: usize,
}

#[derive(Serialize, Debug)]
pub struct BreakingPoint {
    pub sessions: usize,
    pub events_per_s: f64,
    pub latency_p99_ms: Option<f64>,
    pub reasons: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub machine: String,
    pub command: Vec<String>,
    pub started_at: String,
    pub break_p99_ms: f64,
    pub fixtures: Vec<FixtureInfo>,
    pub steps: Vec<Step>,
    /// The first step that broke, if any.
    pub breaking_point: Option<BreakingPoint>,
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

/// Other processes using more than this much of a core during a step make it suspect.
const DISTURBED_PCT: f64 = 25.0;

/// The table printed on stdout.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let header = [
        "backend",
        "sess",
        "view",
        "ev/s",
        "MiB/s",
        "p50",
        "p95",
        "p99",
        "max",
        "dur ev/s",
        "dur p50",
        "dur p99",
        "dur max",
        "rss MiB",
        "hub cpu",
        "bench cpu",
        "pg cpu",
        "other cpu",
        "lag p99",
        "ok",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for s in &report.steps {
        let l = s.latency_ms;
        let d = s.durable_ms;
        rows.push(vec![
            s.backend.clone(),
            s.sessions.to_string(),
            s.viewers_per_session.to_string(),
            format!("{:.0}", s.events_per_s),
            format!("{:.2}", s.mib_per_s),
            opt(l.map(|p| p.p50), 2),
            opt(l.map(|p| p.p95), 2),
            opt(l.map(|p| p.p99), 2),
            opt(l.map(|p| p.max), 1),
            format!("{:.0}", s.durable_events_per_s),
            opt(d.map(|p| p.p50), 1),
            opt(d.map(|p| p.p99), 1),
            opt(d.map(|p| p.max), 1),
            opt(s.hub_peak_rss_mib, 0),
            opt(s.hub_cpu_pct.map(|c| c.round()), 0) + "%",
            format!("{:.0}%", s.bench_cpu_pct),
            format!("{:.0}%", s.postgres_cpu_pct),
            opt(s.others_cpu_pct.map(|c| c.round()), 0) + "%",
            opt(s.send_lag_ms.map(|p| p.p99), 2),
            if s.broken.is_empty() { "yes" } else { "NO" }.into(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| {
                if c == 0 {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    out.push_str("latencies in ms (p50/p95/p99/max: recorder send -> viewer receive; dur: send -> durable ack); cpu in % of one core during the load (other: everything else on the machine)\n");
    for s in &report.steps {
        if let Some(other) = s.others_cpu_pct.filter(|c| *c > DISTURBED_PCT) {
            out.push_str(&format!(
                "{} x{}: disturbed: other processes used {other:.0}% of a core during the load\n",
                s.backend, s.sessions
            ));
        }
        if !s.broken.is_empty() || !s.errors.is_empty() {
            out.push_str(&format!(
                "{} x{}: {}{}\n",
                s.backend,
                s.sessions,
                s.broken.join("; "),
                if s.errors.is_empty() {
                    String::new()
                } else {
                    format!(" | errors: {:?}", s.errors)
                }
            ));
        }
    }
    match &report.breaking_point {
        Some(b) => out.push_str(&format!(
            "breaking point: {} sessions, {:.0} events/s (p99 {} ms): {}\n",
            b.sessions,
            b.events_per_s,
            opt(b.latency_p99_ms, 2),
            b.reasons.join("; ")
        )),
        None => out.push_str(&format!(
            "no step broke (p99 ≤ {} ms, everything delivered and durable)\n",
            report.break_p99_ms
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut v: Vec<u32> = (1..=100).map(|x| x * 1000).collect();
        let p = Percentiles::of_micros(&mut v).unwrap();
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert!(Percentiles::of_micros(&mut []).is_none());
    }
}
