//! Reaching the database at start. A PostgreSQL server that is not up yet (the hub and its
//! database started together, a failover) is waited for, with a log line per attempt saying
//! what is awaited and for how much longer, up to `--db-connect-timeout-secs`; then the hub
//! stops with one line naming the database (without its password) and the cause.

use std::time::{Duration, Instant};

use super::{connect, is_postgres, DbPool};
use crate::error::{Error, Result};

/// Pause between two attempts.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Opens the pool (running migrations), waiting up to `limit` for PostgreSQL to answer.
pub async fn connect_waiting(url: String, pool_size: u32, limit: Duration) -> Result<DbPool> {
    if is_postgres(&url) {
        wait_for_postgres(&url, limit).await?;
    }
    actix_web::web::block(move || connect(&url, pool_size)).await?
}

async fn wait_for_postgres(url: &str, limit: Duration) -> Result<()> {
    let shown = redact(url);
    let started = Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        let probe = url.to_owned();
        let attempt = actix_web::web::block(move || probe_postgres(&probe));
        // An attempt that hangs (a host that drops packets) counts against the same limit.
        let cause = match actix_web::rt::time::timeout(left.max(RETRY_EVERY), attempt).await {
            Ok(Ok(Ok(()))) => return Ok(()),
            Ok(Ok(Err(cause))) => cause,
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => "no answer".to_owned(),
        };
        let left = limit.saturating_sub(started.elapsed());
        if left < RETRY_EVERY {
            return Err(Error::Startup(format!(
                "cannot reach the database at {shown} within {} s \
                 (--db-connect-timeout-secs): {cause}",
                limit.as_secs()
            )));
        }
        log::warn!(
            "waiting for the database at {shown}: {cause}; retrying every {} s for {} s more",
            RETRY_EVERY.as_secs(),
            left.as_secs()
        );
        actix_web::rt::time::sleep(RETRY_EVERY).await;
    }
}

/// One connection attempt; the error is libpq's own message, on one line.
#[cfg(feature = "postgres")]
fn probe_postgres(url: &str) -> std::result::Result<(), String> {
    crate::db::establish_postgres(url).map(drop).map_err(|e| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(not(feature = "postgres"))]
fn probe_postgres(_: &str) -> std::result::Result<(), String> {
    Err("this build has no PostgreSQL support".into())
}

/// The URL with its password, if any, replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/hub?sslmode=require"),
            "postgres://app:***@db.example:5432/hub?sslmode=require"
        );
        assert_eq!(
            redact("postgres://app@db.example/hub"),
            "postgres://app@db.example/hub"
        );
        assert_eq!(
            redact("postgres://db.example/hub"),
            "postgres://db.example/hub"
        );
        assert_eq!(redact("./data/streamdom.db"), "./data/streamdom.db");
    }
}
