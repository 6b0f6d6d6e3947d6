//! Projects as access sees them: their ingest keys and allowed origins (what a recorder must
//! present), the default project of a fresh install, and which projects a user may see
//! ([`Scope`]: admins every one, members those granted to them).

use super::{random_secret, Principal, Role};
use crate::{
    config::Config,
    db::{
        projects::{self, ProjectRow, DEFAULT_PROJECT},
        DbConn, Store,
    },
    error::{Error, Result},
    event::{now_ms, validate_session_id},
};

/// Prefix of ingest keys, so that one is recognisable in a page's source.
pub const KEY_PREFIX: &str = "pk_";
/// Retention of a project created without one, in days.
pub const DEFAULT_RETENTION_DAYS: i32 = 30;
/// The longest retention, in days.
pub const MAX_RETENTION_DAYS: i32 = 36_500;

/// A new random ingest key. It is public (it is in every recorded page), so it identifies a
/// project rather than proving anything; the allowed origins are what bind it to a site.
pub fn new_key() -> String {
    format!("{KEY_PREFIX}{}", &random_secret()[..32])
}

/// Project names appear in session keys and URLs: the same characters as session ids.
pub fn validate_name(name: &str) -> Result<()> {
    validate_session_id(name)
        .map_err(|_| Error::InvalidQuery("project names are 1 to 64 of A-Z a-z 0-9 _ -".into()))
}

/// `https://shop.example[:port]`, lower-cased, without a trailing slash; nothing else.
pub fn normalize_origin(raw: &str) -> Result<String> {
    let origin = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match host {
        Some(h) if !h.is_empty() && !h.contains(['/', '?', '#', ' ', '@']) => Ok(origin),
        _ => Err(Error::InvalidQuery(
            "an origin is like https://shop.example or http://localhost:3000".into(),
        )),
    }
}

/// Adds a project with a fresh key (or `key`); `None` when the name or key is taken.
pub fn add_project(
    conn: &mut DbConn,
    name: &str,
    key: Option<String>,
    origins: &[String],
    retention_days: Option<i32>,
) -> Result<Option<ProjectRow>> {
    validate_name(name)?;
    let origins = origins
        .iter()
        .map(|o| normalize_origin(o))
        .collect::<Result<Vec<_>>>()?;
    let retention_days = validate_retention(retention_days.unwrap_or(DEFAULT_RETENTION_DAYS))?;
    let row = ProjectRow {
        id: name.to_owned(),
        public_key: Some(key.unwrap_or_else(new_key)),
        allowed_origins: origins.join(" "),
        retention_days,
        created_at: now_ms(),
        record_mode: RecordMode::All.name().into(),
        sample_percent: 100,
        sample_urls: String::new(),
    };
    Ok(projects::insert(conn, &row)?.then_some(row))
}

/// Retention is 1 to 36500 days (a hundred years: "keep").
pub fn validate_retention(days: i32) -> Result<i32> {
    match (1..=MAX_RETENTION_DAYS).contains(&days) {
        true => Ok(days),
        false => Err(Error::InvalidQuery(format!(
            "retention is 1 to {MAX_RETENTION_DAYS} days"
        ))),
    }
}

/// Sets a project's retention; `None` when there is no such project.
pub fn set_retention(conn: &mut DbConn, name: &str, days: i32) -> Result<Option<ProjectRow>> {
    let days = validate_retention(days)?;
    if !projects::set_retention(conn, name, days)? {
        return Ok(None);
    }
    projects::get(conn, name)
}

/// How a project records (`record_mode`): every visitor, a sample, or nobody until a PM asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordMode {
    All,
    Sample,
    Standby,
}

impl RecordMode {
    pub fn parse(raw: &str) -> Option<RecordMode> {
        match raw {
            "all" => Some(RecordMode::All),
            "sample" => Some(RecordMode::Sample),
            "standby" => Some(RecordMode::Standby),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RecordMode::All => "all",
            RecordMode::Sample => "sample",
            RecordMode::Standby => "standby",
        }
    }
}

/// URL patterns a project samples at most (they travel in every recorded page's script).
pub const MAX_SAMPLE_URLS: usize = 20;

/// Sets how a project records, after checking the values: the mode, the share of visitors
/// (0–100) and path patterns (`/checkout/*`: at most 20, each 1–200 characters starting with `/`,
/// no spaces). `None` when there is no such project.
pub fn set_record_mode(
    conn: &mut DbConn,
    name: &str,
    mode: &str,
    percent: i32,
    urls: &[String],
) -> Result<Option<ProjectRow>> {
    let bad = |what: &str| Error::InvalidQuery(what.to_owned());
    let mode =
        RecordMode::parse(mode).ok_or_else(|| bad("record_mode is all, sample or standby"))?;
    if !(0..=100).contains(&percent) {
        return Err(bad("sample_percent is 0 to 100"));
    }
    if urls.len() > MAX_SAMPLE_URLS {
        return Err(bad("sample_urls holds at most 20 patterns"));
    }
    for u in urls {
        // Printable ASCII only: `location.pathname`, which patterns match, is percent-encoded.
        let ok = u.starts_with('/') && u.len() <= 200 && u.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(bad(
                "a sample_urls pattern is a path like /checkout/* (printable ASCII, no spaces)",
            ));
        }
    }
    if !projects::set_record_mode(conn, name, mode.name(), percent, &urls.join(" "))? {
        return Ok(None);
    }
    projects::get(conn, name)
}

/// Adds an origin to a project's list; `None` when there is no such project.
pub fn allow_origin(conn: &mut DbConn, name: &str, origin: &str) -> Result<Option<ProjectRow>> {
    let origin = normalize_origin(origin)?;
    let Some(mut row) = projects::get(conn, name)? else {
        return Ok(None);
    };
    let mut list = row.origins();
    if !list.contains(&origin) {
        list.push(origin);
    }
    row.allowed_origins = list.join(" ");
    projects::set_origins(conn, name, &row.allowed_origins)?;
    Ok(Some(row))
}

/// Takes an origin off a project's list (an empty list allows any origin again).
pub fn disallow_origin(conn: &mut DbConn, name: &str, origin: &str) -> Result<Option<ProjectRow>> {
    let origin = normalize_origin(origin)?;
    let Some(mut row) = projects::get(conn, name)? else {
        return Ok(None);
    };
    row.allowed_origins = row
        .origins()
        .into_iter()
        .filter(|o| *o != origin)
        .collect::<Vec<_>>()
        .join(" ");
    projects::set_origins(conn, name, &row.allowed_origins)?;
    Ok(Some(row))
}

/// On a fresh install, creates the default project (key from `--default-key`, else random); an
/// upgraded install's default project (created by the migration for its sessions) gets its key
/// here. Returns the key when it is new, for the caller to show once with the snippet.
pub fn bootstrap_default_project(conn: &mut DbConn, cfg: &Config) -> Result<Option<String>> {
    let key = || cfg.default_key.clone().unwrap_or_else(new_key);
    if projects::list(conn)?.is_empty() {
        let row = add_project(conn, DEFAULT_PROJECT, Some(key()), &[], None)?;
        return Ok(row.and_then(|r| r.public_key));
    }
    let mut shown = None;
    for id in projects::without_key(conn)? {
        let k = if id == DEFAULT_PROJECT {
            key()
        } else {
            new_key()
        };
        projects::set_key(conn, &id, &k)?;
        if id == DEFAULT_PROJECT {
            shown = Some(k);
        }
    }
    Ok(shown)
}

/// The projects a user may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// An admin: every project.
    All,
    /// A member: the projects granted to them.
    Only(Vec<String>),
}

impl Scope {
    /// Reads a user's grants (admins need none).
    pub async fn load(store: &Store, principal: &Principal) -> Result<Scope> {
        if principal.role == Role::Admin {
            return Ok(Scope::All);
        }
        let user = principal.username.clone();
        // On the read pool, as the list it scopes: a busy writer must not hold up the dashboard.
        let granted = store.read(move |c| projects::granted_to(c, &user)).await?;
        Ok(Scope::Only(granted))
    }

    pub fn allows(&self, project: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(list) => list.iter().any(|p| p == project),
        }
    }

    /// The projects to filter a query by; `None` for every project.
    pub fn filter(&self) -> Option<Vec<String>> {
        match self {
            Scope::All => None,
            Scope::Only(list) => Some(list.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_and_checked() {
        assert_eq!(
            normalize_origin(" HTTPS://Shop.Example/ ").ok().as_deref(),
            Some("https://shop.example")
        );
        assert!(normalize_origin("http://localhost:3000").is_ok());
        for bad in ["shop.example", "https://", "https://a/b", "ftp://a", "*"] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_origin_list_allows_any_and_a_list_only_its_own() {
        let mut row = ProjectRow {
            id: "p".into(),
            public_key: None,
            allowed_origins: String::new(),
            retention_days: 30,
            created_at: 0,
            record_mode: "all".into(),
            sample_percent: 100,
            sample_urls: String::new(),
        };
        assert!(row.allows_origin(None));
        assert!(row.allows_origin(Some("https://any.example")));
        row.allowed_origins = "https://shop.example http://localhost:3000".into();
        assert!(row.allows_origin(Some("https://shop.example")));
        assert!(row.allows_origin(Some("HTTP://localhost:3000")));
        assert!(!row.allows_origin(Some("https://evil.example")));
        assert!(!row.allows_origin(Some("https://shop.example.evil.example")));
        assert!(!row.allows_origin(None), "a listed project needs an Origin");
    }

    #[test]
    fn retention_is_one_day_to_a_hundred_years() {
        for ok in [1, 30, MAX_RETENTION_DAYS] {
            assert_eq!(validate_retention(ok).ok(), Some(ok));
        }
        for bad in [0, -1, MAX_RETENTION_DAYS + 1, i32::MAX] {
            assert!(validate_retention(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn record_modes_and_samples_are_checked() {
        for m in ["all", "sample", "standby"] {
            assert_eq!(RecordMode::parse(m).map(RecordMode::name), Some(m));
        }
        assert_eq!(RecordMode::parse("ALL"), None);
        assert_eq!(RecordMode::parse(""), None);
    }

    #[test]
    fn keys_are_prefixed_and_random() {
        let (a, b) = (new_key(), new_key());
        assert!(a.starts_with(KEY_PREFIX) && a.len() == 35);
        assert_ne!(a, b);
        assert!(crate::config::parse_key(&a).is_ok());
    }
}
