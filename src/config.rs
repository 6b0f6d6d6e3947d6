//! Configuration: one struct, read from command-line flags or the environment.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use clap::Args;

const MIB: usize = 1024 * 1024;

/// Default of `--max-frame-bytes`; published to recorders in `protocol.ts`.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * MIB;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "STREAMDOM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Database URL: `postgres://user@host/db` for PostgreSQL, otherwise a SQLite file path
    /// (`sqlite://` prefix optional). Default: `<data-dir>/streamdom.db`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the embedded SQLite database.
    #[arg(long, env = "STREAMDOM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Largest accepted WebSocket message or POST body, in bytes (a real full snapshot can be
    /// several MiB).
    #[arg(long, env = "STREAMDOM_MAX_FRAME_BYTES", default_value_t = DEFAULT_MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,

    /// Seconds a session stays active after its recorder disconnected; a page navigation or a
    /// reconnect within this time continues the same session.
    #[arg(long, env = "STREAMDOM_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub idle_timeout_secs: u64,

    /// Seconds a recording started on demand (Watch on the online page) goes on after its last
    /// viewer left (or after Watch, if nobody opens it), before the hub stops it.
    #[arg(long, env = "STREAMDOM_WATCH_GRACE_SECS", default_value_t = 30)]
    pub watch_grace_secs: u64,

    /// Bytes of already-durable history a session keeps in memory for late viewers (from its
    /// latest full snapshot on); older durable events are read back from the database.
    #[arg(long, env = "STREAMDOM_BUFFER_MAX_BYTES", default_value_t = 4 * MIB)]
    pub buffer_max_bytes: usize,

    /// Bytes of not-yet-durable events a session may hold; past it the recorder is told to
    /// retry later (nothing is dropped).
    #[arg(long, env = "STREAMDOM_PENDING_MAX_BYTES", default_value_t = 64 * MIB)]
    pub pending_max_bytes: usize,

    /// Bytes of events all sessions together may hold in memory (not yet durable, or history for
    /// late viewers), with socket messages being assembled and POST bodies being read; past it
    /// new events, messages and bodies are refused with `overloaded` until writes catch up, and
    /// past three quarters of it sessions keep no durable history in memory.
    #[arg(long, env = "STREAMDOM_MEMORY_BUDGET_BYTES", default_value_t = 1024 * MIB)]
    pub memory_budget_bytes: usize,

    /// Directory of the durable spool, where accepted events wait (fsynced, and acknowledged)
    /// while the database cannot take them. Default: `<data-dir>/spool`.
    #[arg(long, env = "STREAMDOM_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,

    /// Bytes the spool may hold on disk; past it recorders are told `overloaded` and keep their
    /// events until the database is back (nothing is dropped).
    #[arg(long, env = "STREAMDOM_SPOOL_MAX_BYTES", default_value_t = 1024 * MIB as u64)]
    pub spool_max_bytes: u64,

    /// The writer flushes at least this often, in milliseconds.
    #[arg(long, env = "STREAMDOM_FLUSH_INTERVAL_MS", default_value_t = 50)]
    pub flush_interval_ms: u64,

    /// A recorder gets at most one durable ack per this many milliseconds (the first after a
    /// pause at once, later ones covering everything stored meanwhile); 0 acks every flush.
    #[arg(long, env = "STREAMDOM_ACK_INTERVAL_MS", default_value_t = 250)]
    pub ack_interval_ms: u64,

    /// The writer flushes early once this many bytes of events wait.
    #[arg(long, env = "STREAMDOM_FLUSH_MAX_BYTES", default_value_t = 4 * MIB)]
    pub flush_max_bytes: usize,

    /// Seconds a connection may leave the hub's data unacknowledged (or its receive window shut)
    /// before the kernel drops it (TCP_USER_TIMEOUT): a viewer that stopped reading is not
    /// otherwise noticed, since its socket is only polled when it can take more. 0 leaves the
    /// system default.
    #[arg(long, env = "STREAMDOM_TCP_USER_TIMEOUT_SECS", default_value_t = 20)]
    pub tcp_user_timeout_secs: u64,

    /// Aggregate heatmaps (clicks, rage and dead clicks, moves, scroll depth per page) as events
    /// arrive. `false` leaves them as they are: for measuring what the aggregation costs.
    #[arg(long, env = "STREAMDOM_HEATMAPS", default_value_t = true, action = clap::ArgAction::Set)]
    pub heatmaps: bool,

    /// Seconds a request body or a fragmented WebSocket message may take to arrive in full;
    /// past it the request gets 408 and the socket is closed with `request_timeout`.
    #[arg(long, env = "STREAMDOM_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// New sessions one address may start per second, in bursts of up to ten times that; past
    /// it `rate_limited` (429). Reconnecting to an existing session is not counted.
    #[arg(long, env = "STREAMDOM_NEW_SESSIONS_PER_SEC", default_value_t = 10.0)]
    pub new_sessions_per_sec: f64,

    /// Events per second one recorder connection may send (its reconnects and POSTs included),
    /// in bursts of 10 s of it; past it the frame is refused whole with `rate_limited` (close
    /// 4429, HTTP 429) and the recorder sends it again later. 0: no limit.
    #[arg(
        long,
        env = "STREAMDOM_CONNECTION_EVENTS_PER_SEC",
        default_value_t = 200.0
    )]
    pub connection_events_per_sec: f64,

    /// Bytes of event frames per second one recorder connection may send, in bursts of 10 s of
    /// it but at least two frames of `--max-frame-bytes` (a page's full snapshot and the
    /// next page's). 0: no limit.
    #[arg(long, env = "STREAMDOM_CONNECTION_BYTES_PER_SEC", default_value_t = 2.0 * MIB as f64)]
    pub connection_bytes_per_sec: f64,

    /// Events per second all recorders of one project may send together, in bursts of 10 s of
    /// it, so that one project cannot take the hub from the others. 0: no limit.
    #[arg(
        long,
        env = "STREAMDOM_PROJECT_EVENTS_PER_SEC",
        default_value_t = 10_000.0
    )]
    pub project_events_per_sec: f64,

    /// Bytes of event frames per second all recorders of one project may send together, in
    /// bursts of 10 s of it (at least two frames of `--max-frame-bytes`). 0: no limit.
    #[arg(long, env = "STREAMDOM_PROJECT_BYTES_PER_SEC", default_value_t = 32.0 * MIB as f64)]
    pub project_bytes_per_sec: f64,

    /// Recorder sockets one project's ingest key may hold open at once (one per visitor
    /// recording now); past it `rate_limited` (429) before the upgrade. 0: no limit.
    #[arg(long, env = "STREAMDOM_RECORDERS_PER_KEY", default_value_t = 5000)]
    pub recorders_per_key: usize,

    /// Sockets (recorders, viewers, session lists) one client address may hold open at once;
    /// past it `rate_limited` (429) before the upgrade. 0: no limit.
    #[arg(
        long,
        env = "STREAMDOM_CONNECTIONS_PER_ADDRESS",
        default_value_t = 1000
    )]
    pub connections_per_address: usize,

    /// Seconds to wait at start for a PostgreSQL server that does not answer yet (retried every
    /// second, each attempt logged) before giving up with an error.
    #[arg(long, env = "STREAMDOM_DB_CONNECT_TIMEOUT_SECS", default_value_t = 30)]
    pub db_connect_timeout_secs: u64,

    /// Database connections in the pool.
    #[arg(long, env = "STREAMDOM_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,

    /// Database connections for the API's and the dashboard's reads, apart from the pool the
    /// writer and the sessions use, so that reading never slows recording.
    #[arg(long, env = "STREAMDOM_DB_READ_POOL_SIZE", default_value_t = 4)]
    pub db_read_pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "STREAMDOM_WORKERS")]
    pub workers: Option<usize>,

    /// The URL users reach the dashboard at, e.g. `https://replay.example.com` behind a TLS
    /// proxy: its origin is the only one allowed on viewer sockets and state-changing requests,
    /// and `https` makes the sign-in cookie `Secure`. Default: the request's own `Host`.
    #[arg(long, env = "STREAMDOM_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Addresses of reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are
    /// believed (comma-separated); from anyone else those headers are ignored.
    #[arg(long, env = "STREAMDOM_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Name of the administrator a fresh install creates.
    #[arg(long, env = "STREAMDOM_ADMIN_USER", default_value = "admin")]
    pub admin_user: String,

    /// Password of that administrator; without it a random one is printed once to stderr.
    #[arg(long, env = "STREAMDOM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Ingest key of the default project a fresh install creates (what recorders send as
    /// `?key=`); without it a random one is printed once with the snippet to paste.
    #[arg(long, env = "STREAMDOM_DEFAULT_KEY", value_parser = parse_key)]
    pub default_key: Option<String>,

    /// Hours a sign-in lasts before the user must sign in again.
    #[arg(long, env = "STREAMDOM_SIGN_IN_HOURS", default_value_t = 168)]
    pub sign_in_hours: u64,

    /// Seconds between two retention passes, which delete the sessions older than their
    /// project's retention (`streamdom project retention`); the first runs shortly after start.
    /// 0 turns the periodic pass off (deleting a session on request still works).
    #[arg(
        long,
        env = "STREAMDOM_RETENTION_INTERVAL_SECS",
        default_value_t = 3600
    )]
    pub retention_interval_secs: u64,

    /// NATS server(s) of the cluster (`nats://host:4222`, comma-separated for several), with
    /// JetStream enabled: hubs sharing one PostgreSQL database and this bus serve every
    /// session from any of them. Without it the hub runs alone and needs no NATS.
    #[arg(long, env = "STREAMDOM_NATS_URL")]
    pub nats_url: Option<String>,

    /// First token of every NATS subject the cluster uses, and the JetStream stream's name
    /// (upper-cased): clusters sharing one NATS need different prefixes.
    #[arg(long, env = "STREAMDOM_NATS_PREFIX", default_value = "streamdom", value_parser = parse_prefix)]
    pub nats_prefix: String,

    /// Seconds a hub's ownership of a session it records lasts without being renewed (it is
    /// renewed every third of it): after a hub dies, its sessions move to other hubs this
    /// much later at most.
    #[arg(long, env = "STREAMDOM_CLUSTER_LEASE_SECS", default_value_t = 10)]
    pub cluster_lease_secs: u64,

    /// Seconds the JetStream stream keeps a live session's recent events (from its latest
    /// full snapshot on); older ones are read from the database.
    #[arg(long, env = "STREAMDOM_NATS_MAX_AGE_SECS", default_value_t = 3600)]
    pub nats_max_age_secs: u64,

    /// Bytes the JetStream stream may hold for all sessions together (oldest dropped first).
    #[arg(long, env = "STREAMDOM_NATS_MAX_BYTES", default_value_t = 1024 * MIB as i64)]
    pub nats_max_bytes: i64,

    /// Log lines as `text` or as `json` (one object a line: ts, level, target, message).
    #[arg(long, env = "STREAMDOM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `--public-url` is an absolute http(s) URL; kept without its trailing slash.
fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("--public-url must start with http:// or https://")?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err("--public-url must be like https://replay.example.com".into());
    }
    Ok(url.to_owned())
}

/// `--nats-prefix`: one NATS subject token (A-Z, a-z, 0-9, '_' and '-').
fn parse_prefix(raw: &str) -> Result<String, String> {
    let ok = (1..=32).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then(|| raw.to_owned())
        .ok_or_else(|| "--nats-prefix is 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'".into())
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// env_logger's `[2026-11-24T10:00:00Z INFO  streamdom::server] listening on …`.
    Text,
    /// `{"ts":"2026-11-24T10:00:00.000Z","level":"INFO","target":"streamdom::server","message":…}`.
    Json,
}

/// Project keys travel in URLs: 8 to 128 characters of A-Z, a-z, 0-9, '_' and '-'.
pub fn parse_key(raw: &str) -> Result<String, String> {
    let ok = (8..=128).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then(|| raw.to_owned())
        .ok_or_else(|| "a project key is 8 to 128 characters of A-Z, a-z, 0-9, '_' and '-'".into())
}

impl Config {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn watch_grace(&self) -> Duration {
        Duration::from_secs(self.watch_grace_secs)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs.max(1))
    }

    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.db_connect_timeout_secs)
    }

    pub fn flush_interval(&self) -> Duration {
        Duration::from_millis(self.flush_interval_ms.max(1))
    }

    /// `None` when the periodic retention pass is off.
    pub fn retention_interval(&self) -> Option<Duration> {
        (self.retention_interval_secs > 0)
            .then(|| Duration::from_secs(self.retention_interval_secs))
    }

    /// How long a hub's ownership of a session lasts unrenewed (cluster mode).
    pub fn cluster_lease(&self) -> Duration {
        Duration::from_secs(self.cluster_lease_secs.max(1))
    }

    pub fn ack_interval(&self) -> Duration {
        Duration::from_millis(self.ack_interval_ms)
    }

    pub fn sign_in_ttl(&self) -> Duration {
        Duration::from_secs(self.sign_in_hours.max(1) * 3600)
    }

    /// `scheme://host[:port]` of `--public-url`.
    pub fn public_origin(&self) -> Option<&str> {
        let url = self.public_url.as_deref()?;
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        Some(match url[after_scheme..].find('/') {
            Some(i) => &url[..after_scheme + i],
            None => url,
        })
    }

    /// The database URL actually used: the explicit one, or the SQLite file in the data dir.
    pub fn resolved_database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => self
                .data_dir
                .join("streamdom.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// The spool's directory: the explicit one, or `spool` in the data dir.
    pub fn resolved_spool_dir(&self) -> PathBuf {
        self.spool_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("spool"))
    }

    /// A configuration with every default, for tests and the bench; its spool is a directory
    /// of its own under the system's temp dir, so that hubs started side by side never share
    /// one (a restart with the same configuration finds it again).
    pub fn with_defaults(bind: SocketAddr, database_url: String) -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        let mut config = <Wrapper as clap::Parser>::parse_from(["streamdom"]).config;
        config.bind = bind;
        config.database_url = Some(database_url);
        config.spool_dir = Some(
            std::env::temp_dir().join(format!("streamdom-spool-{}", uuid::Uuid::new_v4().simple())),
        );
        config
    }
}
