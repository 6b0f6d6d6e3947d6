//! The handle to the database that async code holds: it moves each query onto the blocking pool.

use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DbConn, DbPool};
use crate::{error::Result, metrics};

/// How long an interactive read waits for a connection before it gives up, so that a page can
/// answer from what the hub knows while the database is unreachable (instead of after the pool's
/// 30 s).
const READ_WAIT: Duration = Duration::from_secs(2);

/// Handle to the database that async code can clone freely.
#[derive(Clone)]
pub struct Store {
    pool: DbPool,
}

impl Store {
    pub fn new(pool: DbPool) -> Self {
        Store { pool }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, never on the runtime.
    pub fn run<R, F>(&self, f: F) -> impl std::future::Future<Output = Result<R>> + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<R> + Send + 'static,
    {
        self.run_within(None, f)
    }

    /// As [`Store::run`], giving up after `READ_WAIT` without a connection.
    pub fn read<R, F>(&self, f: F) -> impl std::future::Future<Output = Result<R>> + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<R> + Send + 'static,
    {
        self.run_within(Some(READ_WAIT), f)
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
        let pool = self.pool.clone();
        async move {
            let result = actix_web::web::block(move || {
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
