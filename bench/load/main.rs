//! `streamdom-bench`, the load tool (its own binary, not part of the hub): drives a hub on 127.0.0.1 with recorders replaying real rrweb streams
//! and viewers acknowledging every frame, and reports live latency, durability, throughput and
//! the hub's memory and CPU — for one load, or for a scale of session counts against a fresh
//! hub each, to find where it breaks. See docs/PERFORMANCE.md.
//!
//! Layout: `fixture` (recorded streams → templates), `load` (the socket clients and the
//! measurements), `hub` (spawning the hub, fresh databases, /proc), `report` (table and JSON),
//! `soak` (one hub for an hour with churn: memory and open files over time).

mod fixture;
mod hub;
mod load;
mod report;
mod soak;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use clap::{Args, Parser};

use self::{
    hub::{FreshDb, SpawnedHub},
    load::{Phase, Plan},
    report::{BreakingPoint, FixtureInfo, Percentiles, Report, Step},
};

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    args: BenchArgs,
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse().args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streamdom-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Args)]
#[command(
    about = "Measure the hub: live latency, durability, throughput, memory and CPU \
                   under N recording sessions with M viewers each, over real sockets on 127.0.0.1"
)]
pub struct BenchArgs {
    /// A running hub to drive (loopback addresses only). Ignored with --spawn.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub hub: String,

    /// Start a fresh hub for every step (`--hub-bin serve`, on a free port) instead of using
    /// --hub; it is stopped after the step.
    #[arg(long)]
    pub spawn: bool,

    /// The project key recorders send (`?key=`); a spawned hub gets it as its default key.
    #[arg(
        long,
        env = "STREAMDOM_DEFAULT_KEY",
        default_value = "pk_bench_default_key"
    )]
    pub key: String,

    /// Without --spawn: an API token (`Authorization: Bearer`) viewers watch with; a spawned
    /// hub is signed in to as its administrator instead.
    #[arg(long, env = "STREAMDOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// With --spawn: the hub binary (default: `streamdom` beside this one).
    #[arg(long)]
    pub hub_bin: Option<PathBuf>,

    /// With --spawn: `postgres://…` (each step gets a new schema in that database, dropped
    /// afterwards) or a SQLite file path (each step gets a new file next to it, deleted
    /// afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir().join("streamdom-bench.db"))]
    pub database_url: PathBuf,

    /// With --spawn: one more argument for `serve` (repeatable), e.g. --hub-arg=--workers=2.
    #[arg(long = "hub-arg", allow_hyphen_values = true)]
    pub hub_args: Vec<String>,

    /// Without --spawn: pid of the hub, to report its memory and CPU from /proc.
    #[arg(long)]
    pub hub_pid: Option<u32>,

    /// Concurrent recording sessions (one recorder socket each).
    #[arg(long, default_value_t = 10)]
    pub sessions: usize,

    /// Run the same load at each of these session counts (comma-separated, e.g. 10,100,1000),
    /// one table row each; replaces --sessions.
    #[arg(long, value_delimiter = ',')]
    pub scale: Vec<usize>,

    /// Viewer sockets per session; each acknowledges every events message it receives.
    #[arg(long, default_value_t = 1)]
    pub viewers: usize,

    /// Viewers acknowledge at most once per this many ms (0: every events message, as the
    /// watch page does).
    #[arg(long, default_value_t = 0)]
    pub viewer_ack_ms: u64,

    /// Incremental events per second each session sends.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,

    /// Events per frame (the StreamDOM recorder sends the events of one task together; 1 is
    /// the common case).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,

    /// Seconds of load per step (after setup; the drain that follows is bounded separately).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,

    /// A step whose latency p99 passes this many ms counts as broken.
    #[arg(long, default_value_t = 50.0)]
    pub break_p99_ms: f64,

    /// Keep stepping up after a step broke (by default the scale stops there).
    #[arg(long)]
    pub keep_going: bool,

    /// Bench threads, each running its share of the sessions on its own event loop.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,

    /// Sessions connecting at the same time during setup.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,

    /// Seconds allowed for setup (connecting and sending the opening snapshots); sessions not
    /// ready by then are counted as failed.
    #[arg(long, default_value_t = 120.0)]
    pub setup_timeout: f64,

    /// Seconds after the load during which sessions wait for their events to reach every
    /// viewer and become durable; anything still missing then is reported.
    #[arg(long, default_value_t = 10.0)]
    pub drain_timeout: f64,

    /// Directory of recorded rrweb streams (*.json or *.json.zst); sessions take them in turn.
    /// Default: bench/fixtures here or in the source tree this binary was built from.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,

    /// Also write the full report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// With --spawn: keep each step's database (schema or file) instead of dropping it.
    #[arg(long)]
    pub keep_data: bool,

    /// Cluster mode (needs --spawn and a PostgreSQL --database-url): every step starts
    /// `--cluster-hubs` hubs on the same fresh database, joined through the NATS (with
    /// JetStream) at this URL; recorders use the first.
    #[arg(long)]
    pub cluster_nats: Option<String>,

    /// Cluster mode: how many hubs (1 is a single hub with the bus on, the baseline for
    /// --spread-recorders).
    #[arg(long, default_value_t = 2)]
    pub cluster_hubs: usize,

    /// Cluster mode: viewers watch on another hub (cross-hub) instead of the recorder's own
    /// (same-hub); compare the two runs' latency for the cross-hub delay.
    #[arg(long)]
    pub viewers_elsewhere: bool,

    /// Cluster mode: recorders connect to the hubs in turn (session i to hub i mod n, its
    /// viewers to the same hub, or the next with --viewers-elsewhere) instead of all to the
    /// first: the throughput of n hubs.
    #[arg(long)]
    pub spread_recorders: bool,

    /// Soak mode (needs --spawn): one hub for this many seconds under --sessions with churn,
    /// sampling its memory and open files; replaces the steps.
    #[arg(long, default_value_t = 0.0)]
    pub soak_secs: f64,

    /// Soak mode: sessions last one round; half of them end and are replaced every half round.
    #[arg(long, default_value_t = 60.0)]
    pub soak_round_secs: f64,

    /// Soak mode: seconds between two samples of the hub's memory and open files.
    #[arg(long, default_value_t = 10.0)]
    pub soak_sample_secs: f64,
}

fn run(args: BenchArgs) -> Result<(), String> {
    check_args(&args)?;
    let fixtures = Arc::new(fixture::load_dir(&fixtures_dir(args.fixtures.as_deref()))?);
    if args.soak_secs > 0.0 {
        return soak::run(&args, fixtures);
    }
    let steps = if args.scale.is_empty() {
        vec![args.sessions]
    } else {
        args.scale.clone()
    };
    let mut report = Report {
        machine: hub::machine(),
        command: std::env::args().collect(),
        started_at: chrono::Utc::now().to_rfc3339(),
        break_p99_ms: args.break_p99_ms,
        fixtures: fixtures
            .iter()
            .map(|f| FixtureInfo {
                name: f.name.clone(),
                opening_bytes: f.opening_bytes(),
                incremental_events: f.incremental.len(),
                mean_incremental_bytes: f.mean_incremental_bytes(),
            })
            .collect(),
        steps: Vec::new(),
        breaking_point: None,
    };
    eprintln!("bench: {}", report.machine);
    for (n, &sessions) in steps.iter().enumerate() {
        eprintln!(
            "bench: step {}/{}: {sessions} sessions x {} viewers at {} events/s for {} s",
            n + 1,
            steps.len(),
            args.viewers,
            args.rate,
            args.duration
        );
        let step = run_step(&args, sessions, n, fixtures.clone())?;
        eprintln!(
            "bench: p99 {} ms, durable max {} ms, hub rss {} MiB{}",
            step.latency_ms
                .map_or("-".into(), |p| format!("{:.2}", p.p99)),
            step.durable_ms
                .map_or("-".into(), |p| format!("{:.1}", p.max)),
            step.hub_peak_rss_mib
                .map_or("-".into(), |m| format!("{m:.0}")),
            if step.broken.is_empty() {
                String::new()
            } else {
                format!(", broken: {}", step.broken.join("; "))
            }
        );
        let pct = |p: Option<Percentiles>| {
            p.map_or("-".into(), |p| {
                format!("p50 {:.2} / p95 {:.2} / p99 {:.2} ms", p.p50, p.p95, p.p99)
            })
        };
        eprintln!(
            "bench: latency {}; after the recording hub took it in {}; durable {:.0} events/s; \
             CPU % of a core: hubs {:.0}, NATS {:.0}, PostgreSQL {:.0}, bench {:.0}, others {:.0}",
            pct(step.latency_ms),
            pct(step.after_hub_ms),
            step.durable_events_per_s,
            step.hub_cpu_pct.unwrap_or(0.0),
            step.nats_cpu_pct,
            step.postgres_cpu_pct,
            step.bench_cpu_pct,
            step.others_cpu_pct.unwrap_or(0.0)
        );
        eprintln!(
            "bench: frames: {} event frames sent, {} acks to recorders; {} events messages to \
             viewers, {} acks from viewers",
            step.frames_sent, step.recorder_acks, step.viewer_frames, step.viewer_acks
        );
        let broken = !step.broken.is_empty();
        if broken && report.breaking_point.is_none() {
            report.breaking_point = Some(BreakingPoint {
                sessions,
                events_per_s: sessions as f64 * args.rate,
                latency_p99_ms: step.latency_ms.map(|p| p.p99),
                reasons: step.broken.clone(),
            });
        }
        report.steps.push(step);
        if broken && !args.keep_going {
            break;
        }
    }
    print!("{}", report::table(&report));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn check_args(args: &BenchArgs) -> Result<(), String> {
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        return Err("--rate must be > 0".into());
    }
    if !(args.duration > 0.0 && args.duration <= 3600.0) {
        return Err("--duration must be in (0, 3600] seconds".into());
    }
    if args.sessions == 0 || args.scale.contains(&0) || args.viewers == 0 {
        return Err("--sessions, --scale and --viewers must be ≥ 1".into());
    }
    if args.batch == 0 || args.threads == 0 {
        return Err("--batch and --threads must be ≥ 1".into());
    }
    if !args.spawn {
        loopback(&args.hub)?;
    }
    if args.cluster_nats.is_some() && !args.spawn {
        return Err("--cluster-nats needs --spawn (it starts the cluster's hubs)".into());
    }
    if args.cluster_nats.is_some() && args.cluster_hubs == 0 {
        return Err("--cluster-hubs must be ≥ 1".into());
    }
    if args.viewers_elsewhere && (args.cluster_nats.is_none() || args.cluster_hubs < 2) {
        return Err("--viewers-elsewhere needs --cluster-nats and --cluster-hubs ≥ 2".into());
    }
    if args.spread_recorders && args.cluster_nats.is_none() {
        return Err("--spread-recorders needs --cluster-nats".into());
    }
    if args.soak_secs > 0.0 {
        if !args.spawn {
            return Err("--soak-secs needs --spawn (it samples a hub of its own)".into());
        }
        if !(args.soak_round_secs >= 2.0 && args.soak_sample_secs > 0.0) {
            return Err("--soak-round-secs must be ≥ 2 and --soak-sample-secs > 0".into());
        }
    }
    Ok(())
}

/// `ws://host:port` for a hub URL, refusing anything but a loopback address.
fn loopback(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| format!("{url}: the bench speaks plain http:// or ws:// only"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.replacen("localhost", "127.0.0.1", 1);
    let addr: SocketAddr = authority
        .parse()
        .map_err(|_| format!("{url}: expected http://127.0.0.1:PORT"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{url}: the bench only drives hubs on loopback addresses"
        ));
    }
    Ok(format!("ws://{addr}"))
}

fn fixtures_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_owned();
    }
    let here = PathBuf::from("bench/fixtures");
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/fixtures")
}

fn run_step(
    args: &BenchArgs,
    sessions: usize,
    n: usize,
    fixtures: Arc<Vec<fixture::Fixture>>,
) -> Result<Step, String> {
    let run_id = format!(
        "bench{}s{n}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let (spawned, db) = if args.spawn {
        let (hub, db) = spawn_hub(args, &run_id)?;
        (Some(hub), Some(db))
    } else {
        (None, None)
    };
    let base_ws = loopback(spawned.as_ref().map_or(&args.hub, |h| &h.base_url))?;
    // Cluster mode: the other hubs, on the same database and NATS.
    let mut others = Vec::new();
    if let (Some(nats), Some(db)) = (&args.cluster_nats, &db) {
        for i in 1..args.cluster_hubs {
            let mut extra = args.hub_args.clone();
            // Hubs side by side each need a spool directory of their own.
            let spool = std::env::temp_dir().join(format!("{run_id}-hub{i}-spool"));
            extra.extend([
                "--spool-dir".to_owned(),
                spool.to_string_lossy().into_owned(),
            ]);
            extra.extend(["--nats-url".to_owned(), nats.clone()]);
            extra.extend(["--nats-prefix".to_owned(), run_id.clone()]);
            others.push(SpawnedHub::start(
                &hub_bin(args.hub_bin.as_deref())?,
                &db.url(),
                &extra,
                &args.key,
            )?);
        }
    }
    let mut all_ws = vec![base_ws];
    for other in &others {
        all_ws.push(loopback(&other.base_url)?);
    }
    let (base_ws, viewer_base_ws) = match (args.spread_recorders, args.viewers_elsewhere) {
        (true, false) => (all_ws.clone(), all_ws),
        (true, true) => {
            let mut next = all_ws.clone();
            next.rotate_left(1);
            (all_ws, next)
        }
        (false, true) => {
            let other = all_ws
                .get(1)
                .cloned()
                .ok_or("--viewers-elsewhere needs a 2nd hub")?;
            (vec![all_ws[0].clone()], vec![other])
        }
        (false, false) => (vec![all_ws[0].clone()], vec![all_ws[0].clone()]),
    };
    let pid = spawned.as_ref().map(SpawnedHub::pid).or(args.hub_pid);
    let other_pids: Vec<u32> = others.iter().map(SpawnedHub::pid).collect();
    // The CPU of every hub of a cluster together (memory stays the first hub's).
    let all_hubs = |first: Option<hub::ProcSample>| {
        first.map(|mut s| {
            for p in &other_pids {
                s.cpu_secs += hub::sample(Some(*p)).map_or(0.0, |o| o.cpu_secs);
            }
            s
        })
    };
    let viewer_auth = viewer_auth(args, spawned.as_ref())?;
    let backend = db
        .as_ref()
        .map_or_else(|| "hub".to_owned(), |d| d.backend().to_owned());

    let plan = Plan {
        base_ws,
        viewer_base_ws,
        key: args.key.clone(),
        run_id,
        sessions,
        viewers: args.viewers,
        rate: args.rate,
        batch: args.batch,
        duration: Duration::from_secs_f64(args.duration),
        threads: args.threads.min(sessions),
        connect_concurrency: args.connect_concurrency,
        setup_timeout: Duration::from_secs_f64(args.setup_timeout),
        drain_timeout: Duration::from_secs_f64(args.drain_timeout),
        viewer_ack_every: Duration::from_millis(args.viewer_ack_ms),
        fixtures,
        viewer_auth,
    };
    let mut peak_rss = 0u64;
    let mut cpu_start = None;
    let mut cpu = hub::CpuUse::default();
    let (mut tally, timeline) = load::run(plan, |phase| {
        let hub_now = pid.and_then(|p| hub::sample(Some(p)));
        if let Some(s) = hub_now {
            peak_rss = peak_rss.max(s.rss_bytes);
        }
        match phase {
            Phase::Tick => {}
            Phase::LoadStart => cpu_start = Some(hub::CpuSnapshot::take(all_hubs(hub_now))),
            Phase::LoadEnd => {
                if let Some(start) = &cpu_start {
                    let end = hub::CpuSnapshot::take(all_hubs(hub_now));
                    cpu = hub::CpuUse::between(start, &end);
                }
            }
        }
    });
    let hub_end = pid.and_then(|p| hub::sample(Some(p)));
    if spawned.is_some() {
        // A hub of our own: its lifetime peak is this step's peak.
        peak_rss = peak_rss.max(hub_end.map_or(0, |s| s.hwm_bytes));
    }
    // The hubs stop (and flush) before their database is dropped.
    drop(others);
    drop(spawned);
    drop(db);

    let duration = args.duration;
    let mut step = Step {
        backend,
        sessions,
        viewers_per_session: args.viewers,
        rate_per_session: args.rate,
        events_per_frame: args.batch,
        duration_s: duration,
        sessions_ready: tally.sessions_ready,
        sessions_failed: tally.sessions_failed,
        setup_s: timeline.setup.as_secs_f64(),
        setup_mib: tally.setup_bytes as f64 / MIB,
        drain_s: timeline.drain.as_secs_f64(),
        frames_sent: tally.frames_sent,
        recorder_acks: tally.recorder_acks,
        viewer_frames: tally.viewer_frames,
        viewer_acks: tally.viewer_acks,
        events_sent: tally.events_sent,
        events_per_s: tally.events_sent as f64 / duration,
        mib_per_s: tally.bytes_sent as f64 / MIB / duration,
        deliveries_expected: tally.events_sent * args.viewers as u64,
        deliveries: tally.events_delivered,
        latency_ms: Percentiles::of_micros(&mut tally.latency_us),
        after_hub_ms: Percentiles::of_micros(&mut tally.after_hub_us),
        events_durable: tally.events_durable,
        durable_events_per_s: tally.events_durable as f64 / duration,
        durable_mib_per_s: tally.bytes_durable as f64 / MIB / duration,
        durable_ms: Percentiles::of_micros(&mut tally.durable_us),
        send_lag_ms: Percentiles::of_micros(&mut tally.send_lag_us),
        hub_peak_rss_mib: pid.map(|_| peak_rss as f64 / MIB),
        hub_rss_end_mib: hub_end.map(|s| s.rss_bytes as f64 / MIB),
        hub_cpu_pct: cpu.hub,
        nats_cpu_pct: cpu.nats,
        bench_cpu_pct: cpu.bench.unwrap_or(0.0),
        postgres_cpu_pct: cpu.postgres,
        others_cpu_pct: cpu.others,
        machine_cpu_pct: cpu.machine,
        machine_steal_pct: cpu.steal,
        integrity_errors: tally.integrity_errors,
        errors: std::mem::take(&mut tally.errors),
        broken: Vec::new(),
    };
    step.broken = verdict(&step, args.break_p99_ms);
    Ok(step)
}

/// A fresh database (a schema or a file named after `run_id`) and a hub of our own on it.
fn spawn_hub(args: &BenchArgs, run_id: &str) -> Result<(SpawnedHub, FreshDb), String> {
    let db = FreshDb::create(&args.database_url.to_string_lossy(), run_id, args.keep_data)?;
    let mut extra = args.hub_args.clone();
    if let Some(nats) = &args.cluster_nats {
        extra.extend(["--nats-url".to_owned(), nats.clone()]);
        extra.extend(["--nats-prefix".to_owned(), run_id.to_owned()]);
    }
    let hub = SpawnedHub::start(
        &hub_bin(args.hub_bin.as_deref())?,
        &db.url(),
        &extra,
        &args.key,
    )?;
    Ok((hub, db))
}

/// How viewers sign in: as the administrator of a hub of our own, or with `--token`.
fn viewer_auth(
    args: &BenchArgs,
    spawned: Option<&SpawnedHub>,
) -> Result<Option<(String, String)>, String> {
    Ok(match (spawned, &args.token) {
        (Some(hub), _) => Some((
            "Cookie".into(),
            hub::sign_in(&hub.base_url, &hub.admin_password)?,
        )),
        (None, Some(token)) => Some(("Authorization".into(), format!("Bearer {token}"))),
        (None, None) => None,
    })
}

/// Why a step counts as broken: latency over the limit, or anything lost or refused.
fn verdict(s: &Step, break_p99_ms: f64) -> Vec<String> {
    let mut why = Vec::new();
    match s.latency_ms {
        Some(p) if p.p99 > break_p99_ms => {
            why.push(format!("latency p99 {:.1} ms > {break_p99_ms} ms", p.p99))
        }
        None => why.push("no latency samples".into()),
        _ => {}
    }
    if s.sessions_failed > 0 {
        why.push(format!("{} sessions failed to set up", s.sessions_failed));
    }
    if s.deliveries < s.deliveries_expected {
        why.push(format!(
            "{} of {} deliveries missing",
            s.deliveries_expected - s.deliveries,
            s.deliveries_expected
        ));
    }
    if s.events_durable < s.events_sent {
        why.push(format!(
            "{} of {} events not durable",
            s.events_sent - s.events_durable,
            s.events_sent
        ));
    }
    if s.integrity_errors > 0 {
        why.push(format!("{} integrity errors", s.integrity_errors));
    }
    why
}

/// The hub binary to spawn: the one given, or `streamdom` beside this executable.
fn hub_bin(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return Ok(p.to_owned());
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let hub = me.with_file_name(format!("streamdom{}", std::env::consts::EXE_SUFFIX));
    if hub.exists() {
        Ok(hub)
    } else {
        Err(format!(
            "no hub binary at {}; build it or pass --hub-bin",
            hub.display()
        ))
    }
}
