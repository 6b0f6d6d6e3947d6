//! Configuration: one struct, read from command-line flags or the environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

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

    /// Bytes of already-durable history a session keeps in memory for late viewers (from its
    /// latest full snapshot on); older durable events are read back from the database.
    #[arg(long, env = "STREAMDOM_BUFFER_MAX_BYTES", default_value_t = 4 * MIB)]
    pub buffer_max_bytes: usize,

    /// Bytes of not-yet-durable events a session may hold; past it the recorder is told to
    /// retry later (nothing is dropped).
    #[arg(long, env = "STREAMDOM_PENDING_MAX_BYTES", default_value_t = 64 * MIB)]
    pub pending_max_bytes: usize,

    /// The writer flushes at least this often, in milliseconds.
    #[arg(long, env = "STREAMDOM_FLUSH_INTERVAL_MS", default_value_t = 50)]
    pub flush_interval_ms: u64,

    /// The writer flushes early once this many bytes of events wait.
    #[arg(long, env = "STREAMDOM_FLUSH_MAX_BYTES", default_value_t = 4 * MIB)]
    pub flush_max_bytes: usize,

    /// Seconds to wait at start for a PostgreSQL server that does not answer yet (retried every
    /// second, each attempt logged) before giving up with an error.
    #[arg(long, env = "STREAMDOM_DB_CONNECT_TIMEOUT_SECS", default_value_t = 30)]
    pub db_connect_timeout_secs: u64,

    /// Database connections in the pool.
    #[arg(long, env = "STREAMDOM_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "STREAMDOM_WORKERS")]
    pub workers: Option<usize>,

    /// Log lines as `text` or as `json` (one object a line: ts, level, target, message).
    #[arg(long, env = "STREAMDOM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// env_logger's `[2026-11-24T10:00:00Z INFO  streamdom::server] listening on …`.
    Text,
    /// `{"ts":"2026-11-24T10:00:00.000Z","level":"INFO","target":"streamdom::server","message":…}`.
    Json,
}

impl Config {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.db_connect_timeout_secs)
    }

    pub fn flush_interval(&self) -> Duration {
        Duration::from_millis(self.flush_interval_ms.max(1))
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

    /// A configuration with every default, for tests and the bench.
    pub fn with_defaults(bind: SocketAddr, database_url: String) -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        let mut config = <Wrapper as clap::Parser>::parse_from(["streamdom"]).config;
        config.bind = bind;
        config.database_url = Some(database_url);
        config
    }
}
