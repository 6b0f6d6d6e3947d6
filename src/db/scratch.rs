//! Databases of their own for a test or a benchmark run: a PostgreSQL schema created for it
//! (so that runs in parallel never see each other's sessions) and dropped afterwards, or a whole
//! database where a schema is not enough (see [`create_database`]).

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

/// The URL of the database `name` on the server of `base` (`base` with its path replaced).
pub fn database_url(base: &str, name: &str) -> String {
    let (head, query) = base
        .split_once('?')
        .map_or((base, None), |(h, q)| (h, Some(q)));
    let head = match head.rfind('/') {
        Some(i) if i > head.find("://").map_or(0, |j| j + 2) => &head[..i],
        _ => head,
    };
    match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    }
}

/// Creates the database `name` on the server of `base`. A schema shares its database's
/// transaction horizon: while any session of that database holds an old snapshot, `VACUUM`
/// frees nothing in any of its schemas. A test that measures reclaimed space needs a database
/// of its own, whose horizon only its own connections move.
pub fn create_database(base: &str, name: &str) -> Result<()> {
    execute(base, &format!("CREATE DATABASE {}", identifier(name)?))
}

/// Drops the database `name`, closing its connections (PostgreSQL 13 and later).
pub fn drop_database(base: &str, name: &str) -> Result<()> {
    execute(
        base,
        &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", identifier(name)?),
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
    use diesel::RunQueryDsl;
    let mut conn = crate::db::establish_postgres(url)
        .map_err(|e| Error::internal(format!("PostgreSQL at {url} is unreachable: {e}")))?;
    diesel::sql_query(sql).execute(&mut conn)?;
    Ok(())
}

#[cfg(not(feature = "postgres"))]
fn execute(_: &str, _: &str) -> Result<()> {
    Err(Error::internal("this build has no PostgreSQL support"))
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn a_database_url_replaces_only_the_path() {
        let cases = [
            ("postgres://u@h:5432/test", "postgres://u@h:5432/x"),
            (
                "postgres://u@h:5432/test?sslmode=disable",
                "postgres://u@h:5432/x?sslmode=disable",
            ),
            ("postgres://u@h:5432", "postgres://u@h:5432/x"),
        ];
        for (base, want) in cases {
            assert_eq!(database_url(base, "x"), want, "{base}");
        }
    }
}
