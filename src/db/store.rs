//! The handle to the database that async code holds: it moves each query onto the blocking pool.

use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DbConn, DbPool};
use crate::{error::Result, metrics};

/// How long an interactive read waits for a connection before it gives up, so that a page can
/// answer from what the hub knows while the database is unreachable (instead of after the pool's
/// 30 s).
const READ_WAIT: Duration = Duration::from_secs(2);

/// Handle to the database that async code can clone freely. Interactive reads (`read`: the
/// API's and the dashboard's queries) take connections of their own pool, so that no number of
/// list requests can hold the connections the writer and the sessions need (SQLite's WAL
/// readers never block its writer).
#[derive(Clone)]
pub struct Store {
    pool: DbPool,
    reads: DbPool,
}

impl Store {
    /// One pool for everything (tools and tests).
    pub fn new(pool: DbPool) -> Self {
        Store {
            reads: pool.clone(),
            pool,
        }
    }

    /// Writes and the hub's own reads on `pool`, interactive reads on `reads`.
    pub fn with_reads(pool: DbPool, reads: DbPool) -> Self {
        Store { pool, reads }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, never on the runtime.
    pub fn run<R, F>(&self, f: F) -> impl std::future::Future<Output = Result<R>> + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<R> + Send + 'static,
    {
        self.run_within(None, f)
    }

    /// A read-only query on the read pool, giving up after `READ_WAIT` without a connection.
    pub fn read<R, F>(&self, f: F) -> impl std::future::Future<Output = Result<R>> + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<R> + Send + 'static,
    {
        Self::on(self.reads.clone(), Some(READ_WAIT), f)
    }

    /// As [`Store::run`], giving up after `wait` without a connection (`None`: the pool's own
    /// timeout).
    pub fn run_within<R, F>(
        &self,
        wait: Option<Duration>,
        f: F,
    ) -> impl std::future::Future<Output = Result<R>> + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<R> + Send + 'static,
    {
        Self::on(self.pool.clone(), wait, f)
    }

    async fn on<R, F>(pool: DbPool, wait: Option<Duration>, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<R> + Send + 'static,
    {
        let result = actix_web::web::block(move || {
            yield_to_the_live_path();
            let mut conn = match wait {
                Some(w) => pool.get_timeout(w)?,
                None => pool.get()?,
            };
            f(&mut conn)
        })
        .await?;
        metrics::database_result(&result);
        result
    }

    /// Checks that the database answers a query on the hub's schema, waiting at most `timeout`
    /// for a connection. Runs on the blocking pool; `finished` runs when the blocking task ends
    /// (which, with a database that hangs mid-query, can be after the caller stopped waiting).
    pub fn ping(
        &self,
        timeout: Duration,
        finished: impl FnOnce() + Send + 'static,
    ) -> impl std::future::Future<Output = Result<()>> + 'static {
        let pool = self.pool.clone();
        async move {
            actix_web::web::block(move || {
                let result = pool
                    .get_timeout(timeout)
                    .map_err(Into::into)
                    .and_then(|mut c| {
                        c.batch_execute("SELECT 1 FROM sessions LIMIT 1")
                            .map_err(Into::into)
                    });
                finished();
                metrics::database_result(&result);
                result
            })
            .await?
        }
    }
}

/// How much lower than the rest of the hub database threads run (Linux nice levels, added to
/// the hub's own).
const DATABASE_NICE: i32 = 5;

/// Lowers the priority of the blocking thread it runs on, once per thread. On a busy machine the
/// writer's flushes (with SQLite, the engine's own CPU) competed with the actors that forward
/// live events (docs/PERFORMANCE.md, "On a quiet machine"). Live delivery goes first; a flush
/// that waits a little longer only delays a durable ack.
fn yield_to_the_live_path() {
    thread_local!(static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    LOWERED.with(|lowered| {
        if !lowered.replace(true) {
            use rustix::process::{getpriority_process, setpriority_process};
            let thread = Some(rustix::thread::gettid());
            // Best effort: where it is refused the thread keeps its priority.
            if let Ok(nice) = getpriority_process(thread) {
                let _ = setpriority_process(thread, (nice + DATABASE_NICE).min(19));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Database work runs below the hub's own priority: the thread that ran it is niced.
    #[actix_web::test]
    async fn database_work_runs_below_the_live_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("db.sqlite").to_string_lossy().into_owned();
        let store = Store::new(crate::db::connect(&url, 2).expect("pool"));
        let hub = rustix::process::getpriority_process(None).expect("the hub's nice");
        let nice = store
            .run(|_| {
                rustix::process::getpriority_process(Some(rustix::thread::gettid()))
                    .map_err(crate::error::Error::internal)
            })
            .await
            .expect("nice of the database thread");
        assert_eq!(nice, (hub + DATABASE_NICE).min(19));
    }

    /// Reads keep answering while every connection of the main pool is taken (by the writer and
    /// the sessions, in the hub): they have connections of their own.
    #[actix_web::test]
    async fn reads_do_not_take_the_main_pools_connections() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("db.sqlite").to_string_lossy().into_owned();
        let pool = crate::db::connect(&url, 2).expect("pool");
        let reads = crate::db::read_pool(&url, 1).expect("read pool");
        let store = Store::with_reads(pool.clone(), reads);
        let held: Vec<_> = (0..2).map(|_| pool.get().expect("connection")).collect();
        let n = store
            .read(|c| {
                c.batch_execute("SELECT 1 FROM sessions LIMIT 1")?;
                Ok(1)
            })
            .await
            .expect("a read answers while the main pool is exhausted");
        assert_eq!(n, 1);
        drop(held);
    }
}
