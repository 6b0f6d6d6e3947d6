//! The hub under test: either spawned here (`streamdom serve`, on a port the OS picks, against a fresh database) or an already running one named by its pid, and
//! its memory and CPU read from `/proc`.

use streamdom::db::scratch;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// How long a spawned hub may take to open its database and listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a spawned hub may take to flush and exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A database of its own for one run.
pub enum FreshDb {
    /// A schema in the given PostgreSQL database, dropped afterwards.
    Postgres {
        base: String,
        schema: String,
        keep: bool,
    },
    /// A SQLite file (plus its -wal/-shm), removed afterwards.
    Sqlite { path: PathBuf, keep: bool },
}

impl FreshDb {
    /// `base` is a PostgreSQL URL or a SQLite path; `tag` makes the run's name unique.
    pub fn create(base: &str, tag: &str, keep: bool) -> Result<Self, String> {
        if streamdom::db::is_postgres(base) {
            let schema = format!("bench_{}_{tag}", std::process::id());
            scratch::create_schema(base, &schema).map_err(|e| e.to_string())?;
            return Ok(FreshDb::Postgres {
                base: base.to_owned(),
                schema,
                keep,
            });
        }
        let base = PathBuf::from(base.strip_prefix("sqlite://").unwrap_or(base));
        let stem = base
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "streamdom-bench".into());
        let path = base.with_file_name(format!("{stem}-{}-{tag}.db", std::process::id()));
        Ok(FreshDb::Sqlite { path, keep })
    }

    /// The URL the hub is given.
    pub fn url(&self) -> String {
        match self {
            FreshDb::Postgres { base, schema, .. } => scratch::schema_url(base, schema),
            FreshDb::Sqlite { path, .. } => path.to_string_lossy().into_owned(),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            FreshDb::Postgres { .. } => "postgres",
            FreshDb::Sqlite { .. } => "sqlite",
        }
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        match self {
            FreshDb::Postgres { keep: true, .. } | FreshDb::Sqlite { keep: true, .. } => {}
            FreshDb::Postgres { base, schema, .. } => {
                if let Err(e) = scratch::drop_schema(base, schema) {
                    eprintln!("bench: could not drop schema {schema}: {e}");
                }
            }
            FreshDb::Sqlite { path, .. } => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
        }
    }
}

/// A hub started by the bench; stopped (SIGTERM, then flush) when dropped.
pub struct SpawnedHub {
    child: Child,
    pub base_url: String,
    /// The administrator's password the hub was started with (random, per hub).
    pub admin_password: String,
}

impl SpawnedHub {
    /// Runs `<hub> serve --bind 127.0.0.1:0 --database-url URL [extra…]` and waits for its
    /// "listening on" line.
    pub fn start(
        hub: &Path,
        database_url: &str,
        extra: &[String],
        key: &str,
    ) -> Result<Self, String> {
        let admin_password = uuid::Uuid::new_v4().simple().to_string();
        let mut child = Command::new(hub)
            .arg("serve")
            .args(["--bind", "127.0.0.1:0", "--database-url", database_url])
            // Every simulated visitor comes from 127.0.0.1 and records into one project: lift
            // the per-address limits and the project's (a later --hub-arg may set them again).
            // Each session's own connection limits stay as a real hub has them.
            .args(["--new-sessions-per-sec", "1000000"])
            .args(["--connections-per-address", "0", "--recorders-per-key", "0"])
            .args(["--project-events-per-sec", "0"])
            .args(["--project-bytes-per-sec", "0"])
            .args(extra)
            // The bench reads the bound address from the log; warnings still come through.
            .env("RUST_LOG", "warn,streamdom::server=info")
            .env("STREAMDOM_DEFAULT_KEY", key)
            .env("STREAMDOM_ADMIN_PASSWORD", &admin_password)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the hub: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on ").nth(1) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.trim().to_owned());
                        continue;
                    }
                }
                eprintln!("hub: {line}");
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(base_url) => Ok(SpawnedHub {
                child,
                base_url,
                admin_password,
            }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!("the hub did not start listening ({status})"))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait for the flush; killed if it takes too long.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("bench: the hub did not stop within {STOP_TIMEOUT:?}; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SpawnedHub {
    fn drop(&mut self) {
        self.stop();
    }
}

/// CPU time and memory of a process, from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// User + system CPU seconds since the process started (all threads).
    pub cpu_secs: f64,
    pub rss_bytes: u64,
    /// Peak resident set size since the process started.
    pub hwm_bytes: u64,
}

/// Reads `/proc/<pid>` (`None`: this process).
pub fn sample(pid: Option<u32>) -> Option<ProcSample> {
    let dir = pid.map_or_else(|| "/proc/self".to_owned(), |p| format!("/proc/{p}"));
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Some(ProcSample {
        cpu_secs: ticks / clock_ticks_per_sec(),
        rss_bytes: kib("VmRSS:") * 1024,
        hwm_bytes: kib("VmHWM:") * 1024,
    })
}

/// `sysconf(_SC_CLK_TCK)` without unsafe code: asked once from `getconf`, 100 otherwise.
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// Whole-machine CPU counters from `/proc/stat`, in clock ticks summed over all cores.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    pub busy: f64,
    pub total: f64,
    /// Time the hypervisor gave to other guests while this one wanted to run.
    pub steal: f64,
}

pub fn machine_cpu() -> Option<MachineCpu> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let idle = v.get(3)? + v.get(4)?;
    let total: f64 = v.iter().take(8).sum();
    Some(MachineCpu {
        busy: total - idle,
        total,
        steal: *v.get(7)?,
    })
}

/// Total CPU seconds of every process whose command name is `name` (e.g. the PostgreSQL
/// server's processes), from `/proc/*/stat`.
pub fn cpu_of_processes_named(name: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .filter_map(|pid| sample(Some(pid)))
        .map(|s| s.cpu_secs)
        .sum()
}

/// CPU counters at one instant: the hub, the bench, PostgreSQL, the whole machine.
#[derive(Clone, Copy)]
pub struct CpuSnapshot {
    at: Instant,
    hub: Option<ProcSample>,
    bench: Option<ProcSample>,
    postgres: f64,
    nats: f64,
    machine: Option<MachineCpu>,
}

impl CpuSnapshot {
    pub fn take(hub: Option<ProcSample>) -> Self {
        CpuSnapshot {
            at: Instant::now(),
            hub,
            bench: sample(None),
            postgres: cpu_of_processes_named("postgres"),
            nats: cpu_of_processes_named("nats-server"),
            machine: machine_cpu(),
        }
    }
}

/// CPU used between two snapshots, in % of one core (machine and steal: % of all cores).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub hub: Option<f64>,
    pub bench: Option<f64>,
    pub postgres: f64,
    /// The NATS server's (cluster mode; whatever runs on the machine, as it is shared).
    pub nats: f64,
    /// Everything else on the machine: other people's builds and tests, the kernel's own work
    /// not charged to a process. A large value means the run was disturbed.
    pub others: Option<f64>,
    pub machine: Option<f64>,
    pub steal: Option<f64>,
}

impl CpuUse {
    pub fn between(a: &CpuSnapshot, b: &CpuSnapshot) -> Self {
        let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-3);
        let pct = |x: Option<ProcSample>, y: Option<ProcSample>| {
            Some((y?.cpu_secs - x?.cpu_secs) / wall * 100.0)
        };
        let hub = pct(a.hub, b.hub);
        let bench = pct(a.bench, b.bench);
        let postgres = (b.postgres - a.postgres).max(0.0) / wall * 100.0;
        let nats = (b.nats - a.nats).max(0.0) / wall * 100.0;
        let machine = a.machine.zip(b.machine);
        let others = machine.map(|(m0, m1)| {
            let busy = (m1.busy - m0.busy) / clock_ticks_per_sec() / wall * 100.0;
            (busy - hub.unwrap_or(0.0) - bench.unwrap_or(0.0) - postgres - nats).max(0.0)
        });
        let share = |f: fn(&MachineCpu) -> f64| {
            machine.map(|(m0, m1)| (f(&m1) - f(&m0)) / (m1.total - m0.total).max(1.0) * 100.0)
        };
        CpuUse {
            hub,
            bench,
            postgres,
            nats,
            others,
            machine: share(|m| m.busy),
            steal: share(|m| m.steal),
        }
    }
}

/// A short description of the machine, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {mem_gib:.1} GiB RAM, Linux {}",
        kernel.trim()
    )
}

/// Signs in as `admin` through the login form and returns the `Cookie` header viewers send
/// (watching needs a signed-in user).
pub fn sign_in(base_url: &str, password: &str) -> Result<String, String> {
    actix_web::rt::System::new().block_on(async {
        let res = awc::Client::builder()
            .disable_redirects()
            .finish()
            .post(format!("{base_url}/login"))
            .send_form(&[("username", "admin"), ("password", password)])
            .await
            .map_err(|e| format!("sign-in: {e}"))?;
        res.headers()
            .get_all(awc::http::header::SET_COOKIE)
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|c| c.starts_with("streamdom_session=") && c.len() > "streamdom_session=".len())
            .map(str::to_owned)
            .ok_or_else(|| format!("sign-in refused ({})", res.status()))
    })
}
