//! Soak mode (`--soak-secs`): one hub under steady load for a long time, with churn, to show
//! that its memory and open files stay flat and are given back when the load ends.
//!
//! Two waves of sessions run side by side, each starting a new set of sessions every round and
//! ending it at the round's end; the second wave starts half a round later, so sessions end and
//! begin every half round while the session count stays near `--sessions`. The hub's RSS and
//! open files are sampled every `--soak-sample-secs`, and once more after the load ends and
//! the hub has been idle for a while.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{
    hub,
    load::{self, Plan},
    BenchArgs, MIB,
};

/// How long the hub is left idle after the load before its memory is read the last time:
/// sessions end after `--idle-timeout-secs` (30 s by default) without a recorder.
const IDLE_AFTER: Duration = Duration::from_secs(45);

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub at_s: f64,
    pub rss_mib: f64,
    pub open_files: usize,
}

#[derive(Debug, Serialize)]
pub struct SoakReport {
    pub machine: String,
    pub command: Vec<String>,
    pub backend: String,
    pub sessions: usize,
    pub viewers_per_session: usize,
    pub rate_per_session: f64,
    pub round_s: f64,
    pub duration_s: f64,
    pub rounds: usize,
    pub events_sent: u64,
    pub events_durable: u64,
    pub deliveries_expected: u64,
    pub deliveries: u64,
    pub integrity_errors: u64,
    pub sessions_failed: usize,
    pub latency_p99_ms_per_round: Vec<f64>,
    pub samples: Vec<Sample>,
    /// After the load, once the hub has been idle for `IDLE_AFTER`.
    pub idle: Option<Sample>,
    pub errors: std::collections::BTreeMap<String, u64>,
}

/// Open file descriptors of a process.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn take(pid: u32, t0: Instant) -> Option<Sample> {
    let s = hub::sample(Some(pid))?;
    Some(Sample {
        at_s: t0.elapsed().as_secs_f64(),
        rss_mib: s.rss_bytes as f64 / MIB,
        open_files: open_files(pid),
    })
}

pub fn run(args: &BenchArgs, fixtures: Arc<Vec<crate::fixture::Fixture>>) -> Result<(), String> {
    let run_id = format!("soak{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (spawned, db) = crate::spawn_hub(args, &run_id)?;
    let pid = spawned.pid();
    let base_ws = crate::loopback(&spawned.base_url)?;
    let viewer_auth = crate::viewer_auth(args, Some(&spawned))?;
    let total = Duration::from_secs_f64(args.soak_secs);
    let round = Duration::from_secs_f64(args.soak_round_secs);
    let t0 = Instant::now();
    let deadline = t0 + total;

    let samples = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (samples, done) = (samples.clone(), done.clone());
        let every = Duration::from_secs_f64(args.soak_sample_secs);
        std::thread::spawn(move || {
            let mut next = Instant::now();
            while !done.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    if let Some(s) = take(pid, t0) {
                        if let Ok(mut v) = samples.lock() {
                            v.push(s);
                        }
                        eprintln!(
                            "soak: {:>6.0} s  rss {:>7.1} MiB  open files {}",
                            s.at_s, s.rss_mib, s.open_files
                        );
                    }
                    next += every;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };

    // Each wave: rounds of fresh sessions until the deadline; the second starts half a round late.
    let half = args.sessions.div_ceil(2);
    let waves: Vec<_> = [(0usize, half), (1, args.sessions - half)]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(wave, sessions)| {
            let plan_of = {
                let (base_ws, key, fixtures) =
                    (base_ws.clone(), args.key.clone(), fixtures.clone());
                let (viewers, rate, batch) = (args.viewers, args.rate, args.batch);
                let (threads, cc) = (args.threads.min(sessions), args.connect_concurrency);
                let (setup, drain) = (args.setup_timeout, args.drain_timeout);
                let (run_id, viewer_auth) = (run_id.clone(), viewer_auth.clone());
                let viewer_ack_every = Duration::from_millis(args.viewer_ack_ms);
                move |n: usize, duration: Duration| Plan {
                    base_ws: vec![base_ws.clone()],
                    viewer_base_ws: vec![base_ws.clone()],
                    key: key.clone(),
                    run_id: format!("{run_id}w{wave}r{n}"),
                    sessions,
                    viewers,
                    rate,
                    batch,
                    duration,
                    threads,
                    connect_concurrency: cc,
                    setup_timeout: Duration::from_secs_f64(setup),
                    drain_timeout: Duration::from_secs_f64(drain),
                    fixtures: fixtures.clone(),
                    viewer_auth: viewer_auth.clone(),
                    viewer_ack_every,
                }
            };
            std::thread::spawn(move || {
                if wave == 1 {
                    std::thread::sleep(round / 2);
                }
                let mut tallies = Vec::new();
                let mut n = 0;
                while Instant::now() + round / 4 < deadline {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let (tally, _) = load::run(plan_of(n, round.min(left)), |_| {});
                    tallies.push(tally);
                    n += 1;
                }
                tallies
            })
        })
        .collect();
    let mut tallies = Vec::new();
    for w in waves {
        tallies.extend(w.join().map_err(|_| "a soak wave panicked")?);
    }
    eprintln!("soak: load over; the hub idles {} s", IDLE_AFTER.as_secs());
    std::thread::sleep(IDLE_AFTER);
    let idle = take(pid, t0);
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    drop(spawned);
    let backend = db.backend().to_owned();
    drop(db);

    let mut report = SoakReport {
        machine: hub::machine(),
        command: std::env::args().collect(),
        backend,
        sessions: args.sessions,
        viewers_per_session: args.viewers,
        rate_per_session: args.rate,
        round_s: args.soak_round_secs,
        duration_s: args.soak_secs,
        rounds: tallies.len(),
        events_sent: 0,
        events_durable: 0,
        deliveries_expected: 0,
        deliveries: 0,
        integrity_errors: 0,
        sessions_failed: 0,
        latency_p99_ms_per_round: Vec::new(),
        samples: samples.lock().map(|v| v.clone()).unwrap_or_default(),
        idle,
        errors: Default::default(),
    };
    for mut t in tallies {
        report.events_sent += t.events_sent;
        report.events_durable += t.events_durable;
        report.deliveries_expected += t.events_sent * args.viewers as u64;
        report.deliveries += t.events_delivered;
        report.integrity_errors += t.integrity_errors;
        report.sessions_failed += t.sessions_failed;
        if let Some(p) = crate::report::Percentiles::of_micros(&mut t.latency_us) {
            report.latency_p99_ms_per_round.push(p.p99);
        }
        for (k, v) in t.errors {
            *report.errors.entry(k).or_default() += v;
        }
    }
    print!("{}", summary(&report));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Mean of the samples whose time falls in `[from, to)` seconds.
fn mean_between(samples: &[Sample], from: f64, to: f64) -> Option<(f64, f64)> {
    let within: Vec<_> = samples
        .iter()
        .filter(|s| s.at_s >= from && s.at_s < to)
        .collect();
    if within.is_empty() {
        return None;
    }
    let n = within.len() as f64;
    Some((
        within.iter().map(|s| s.rss_mib).sum::<f64>() / n,
        within.iter().map(|s| s.open_files as f64).sum::<f64>() / n,
    ))
}

/// The soak's verdict as text: memory and files early in the run (after the first tenth, the
/// warm-up) against the last tenth, and after idling.
pub fn summary(r: &SoakReport) -> String {
    let tenth = r.duration_s / 10.0;
    let early = mean_between(&r.samples, tenth, 2.0 * tenth);
    let late = mean_between(&r.samples, r.duration_s - tenth, r.duration_s + 1.0);
    let fmt = |m: Option<(f64, f64)>| {
        m.map_or("-".into(), |(rss, f)| {
            format!("rss {rss:.1} MiB, {f:.0} open files")
        })
    };
    let mut p99 = r.latency_p99_ms_per_round.clone();
    p99.sort_by(f64::total_cmp);
    format!(
        "soak on {}: {} sessions x {} viewers at {} ev/s, {} s in {} rounds of {} s (two waves)\n\
         events sent {}, durable {}, deliveries {}/{}, integrity errors {}, sessions failed {}\n\
         latency p99 per round: best {:.1} ms, worst {:.1} ms\n\
         early (second tenth): {}\nlate (last tenth):    {}\nidle after the load:  {}\n\
         errors: {:?}\n",
        r.backend,
        r.sessions,
        r.viewers_per_session,
        r.rate_per_session,
        r.duration_s,
        r.rounds,
        r.round_s,
        r.events_sent,
        r.events_durable,
        r.deliveries,
        r.deliveries_expected,
        r.integrity_errors,
        r.sessions_failed,
        p99.first().copied().unwrap_or(f64::NAN),
        p99.last().copied().unwrap_or(f64::NAN),
        fmt(early),
        fmt(late),
        r.idle.map_or("-".into(), |s| format!(
            "rss {:.1} MiB, {} open files",
            s.rss_mib, s.open_files
        )),
        r.errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_and_late_means_come_from_their_tenths() {
        let samples: Vec<Sample> = (0..100)
            .map(|i| Sample {
                at_s: i as f64,
                rss_mib: if i < 50 { 100.0 } else { 200.0 },
                open_files: i,
            })
            .collect();
        assert_eq!(mean_between(&samples, 10.0, 20.0), Some((100.0, 14.5)));
        assert_eq!(mean_between(&samples, 90.0, 101.0), Some((200.0, 94.5)));
        assert_eq!(mean_between(&samples, 200.0, 300.0), None);
    }
}
