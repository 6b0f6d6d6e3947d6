//! The database: one connection type over SQLite and PostgreSQL, picked by the URL, its
//! r2d2 pool, and the embedded migrations run at start. Queries live beside their table
//! (`sessions`, `chunks`, `owners`, `projects`, `users`, `user_sessions`, `api_tokens`,
//! `session_access`), the list's filters and sorts (`session_list`) with SQLite's index for its
//! substring filters (`search`), derived fields (`summaries`),
//! heatmap aggregates (`heatmaps`), the numbers page's rollups (`numbers`, `numbers_query`),
//! deletions across them with the space given back (`purge`); async code reaches them through
//! [`Store`].

pub mod api_tokens;
pub mod chunks;
pub mod heatmaps;
pub mod numbers;
pub mod numbers_query;
pub mod owners;
pub mod projects;
pub mod purge;
pub mod schema;
pub mod scratch;
mod search;
pub mod session_access;
pub mod session_list;
pub mod sessions;
mod startup;
mod store;
pub mod summaries;
pub mod user_sessions;
pub mod users;

pub use startup::connect_waiting;
pub use store::Store;

use diesel::{
    connection::SimpleConnection,
    r2d2::{CustomizeConnection, ManageConnection, Pool, R2D2Connection},
    Connection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};

#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    #[cfg(feature = "postgres")]
    Pg(PgConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<Manager>;

/// Opens pooled connections on the backend the URL names. Diesel's own manager tries every
/// backend of a multi-connection in turn, so a PostgreSQL that refuses connections was reported
/// as "Invalid connection url"; this one reports the server's own error.
#[derive(Debug)]
pub struct Manager {
    url: String,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let conn = if is_postgres(&self.url) {
            #[cfg(feature = "postgres")]
            {
                establish_postgres(&self.url).map(DbConn::Pg)
            }
            #[cfg(not(feature = "postgres"))]
            {
                Err(diesel::ConnectionError::InvalidConnectionUrl(
                    "this build has no PostgreSQL support".into(),
                ))
            }
        } else {
            #[cfg(feature = "sqlite")]
            {
                SqliteConnection::establish(&self.url).map(DbConn::Sqlite)
            }
            #[cfg(not(feature = "sqlite"))]
            {
                Err(diesel::ConnectionError::InvalidConnectionUrl(
                    "this build has no SQLite support".into(),
                ))
            }
        };
        conn.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Opens a PostgreSQL connection; every one the hub opens goes through here.
///
/// libpq uses OpenSSL, and OpenSSL by default frees its global state in an `atexit` handler.
/// A process ends while other threads may still be opening or closing connections (a pool's
/// last connections dropped on an arbiter thread as the process exits): they then ran on freed
/// state, and the process died with SIGSEGV after its work was done (tests/exit.rs: a child died
/// within its first 2 to 7 runs of 30, in each of five tries). Initialising OpenSSL first with `OPENSSL_INIT_NO_ATEXIT`, which
/// `openssl_sys::init` does once per process, leaves that state to the OS.
#[cfg(feature = "postgres")]
pub fn establish_postgres(url: &str) -> diesel::ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

#[cfg(feature = "postgres")]
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Which backend a URL names: PostgreSQL for `postgres://`/`postgresql://`, SQLite otherwise.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// SQLite settings every pooled connection needs: WAL so that replay reads never wait for the
/// writer, a busy timeout instead of immediate `SQLITE_BUSY`, enforced foreign keys, and
/// incremental auto-vacuum (effective from a new database's first table; see
/// `purge::ensure_incremental_vacuum` for older ones).
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        #[cfg(feature = "sqlite")]
        #[allow(irrefutable_let_patterns)]
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(
                // busy_timeout first: the pool opens connections in parallel, and switching the
                // file to WAL takes a lock the others must wait for rather than fail on.
                "PRAGMA busy_timeout = 10000; PRAGMA auto_vacuum = INCREMENTAL; \
                 PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        #[cfg(not(feature = "sqlite"))]
        let _ = conn;
        Ok(())
    }
}

/// How long a query waits for a connection when the caller sets no bound of its own.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What both pools share: the connection setup and how long a connection is waited for.
fn builder() -> r2d2::Builder<Manager> {
    Pool::builder()
        // r2d2 retries a failed connect with a delay that doubles up to half of this: at its
        // default (30 s) reads stayed refused up to 15 s after the database came back.
        .connection_timeout(POOL_WAIT)
        .connection_customizer(Box::new(SqlitePragmas))
}

/// Opens the pool and brings the schema up to date.
pub fn connect(url: &str, pool_size: u32) -> Result<DbPool> {
    let url = url.strip_prefix("sqlite://").unwrap_or(url);
    if !is_postgres(url) {
        if let Some(dir) = std::path::Path::new(url).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(Error::internal)?;
            }
        }
    }
    let manager = Manager {
        url: url.to_owned(),
    };
    let pool = builder().max_size(pool_size.max(2)).build(manager)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    purge::ensure_incremental_vacuum(&mut conn)?;
    Ok(pool)
}

/// A pool for interactive reads beside the main one (see `Store::read`), on a schema `connect`
/// brought up to date. Connections are opened as needed, not at start.
pub fn read_pool(url: &str, pool_size: u32) -> Result<DbPool> {
    let url = url.strip_prefix("sqlite://").unwrap_or(url);
    Ok(builder()
        .max_size(pool_size.max(1))
        .min_idle(Some(0))
        .build_unchecked(Manager {
            url: url.to_owned(),
        }))
}

fn run_migrations(conn: &mut DbConn) -> Result<()> {
    let done = match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|_| ()),
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    done.map_err(|e| Error::Migration(e.to_string()))
}
