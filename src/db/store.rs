//! The handle to the database that async code holds: it moves each query onto the blocking pool.

use super::{DbConn, DbPool};
use crate::error::Result;
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
        let pool = self.pool.clone();
        async move {
            actix_web::web::block(move || {
                let mut conn = pool.get()?;
                f(&mut conn)
            })
            .await?
        }
    }
}
