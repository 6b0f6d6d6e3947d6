//! Databases of their own for a test or a benchmark run: a PostgreSQL schema created for it
//! (so that runs in parallel never see each other's sessions) and dropped afterwards.

use crate::error::{Error, Result};

/// The URL of `schema` inside the PostgreSQL database at `base`.
pub fn schema_url(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Creates `schema` (a plain identifier the caller makes unique).
pub fn create_schema(base: &str, schema: &str) -> Result<()> {
    execute(base, &format!("CREATE SCHEMA {}", identifier(schema)?))
}

pub fn drop_schema(base: &str, schema: &str) -> Result<()> {
    execute(
        base,
        &format!("DROP SCHEMA {} CASCADE", identifier(schema)?),
    )
}

fn identifier(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    ok.then_some(name)
        .ok_or_else(|| Error::internal(format!("{name:?} is not a plain schema name")))
}

#[cfg(feature = "postgres")]
fn execute(url: &str, sql: &str) -> Result<()> {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(url)
        .map_err(|e| Error::internal(format!("PostgreSQL at {url} is unreachable: {e}")))?;
    diesel::sql_query(sql).execute(&mut conn)?;
    Ok(())
}

#[cfg(not(feature = "postgres"))]
fn execute(_: &str, _: &str) -> Result<()> {
    Err(Error::internal("this build has no PostgreSQL support"))
}
