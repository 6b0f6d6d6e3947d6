//! The `projects` table: each project's public ingest key, the origins its pages may record
//! from, how long its sessions are kept; and `project_members`, which members see which project.

use diesel::prelude::*;

use super::{
    schema::{project_members, projects, sessions},
    DbConn,
};
use crate::error::Result;

/// The project a fresh install creates, and that sessions recorded before projects belong to.
pub const DEFAULT_PROJECT: &str = "default";

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub id: String,
    pub public_key: Option<String>,
    /// Space-separated origins (`https://shop.example`); empty allows any.
    pub allowed_origins: String,
    pub retention_days: i32,
    pub created_at: i64,
    /// `all`, `sample` or `standby` (see `auth::projects::RecordMode`).
    pub record_mode: String,
    /// In `sample` mode: the share of visitors recorded, 0 to 100.
    pub sample_percent: i32,
    /// In `sample` mode: space-separated path patterns (`/checkout/*`) recorded whatever the share.
    pub sample_urls: String,
}

impl ProjectRow {
    pub fn origins(&self) -> Vec<String> {
        self.allowed_origins
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// Whether a recorder sending `origin` (its `Origin` header, if any) may record here: any
    /// when the list is empty, otherwise only a listed origin (and not a request without one).
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.trim().is_empty() {
            return true;
        }
        origin.is_some_and(|o| {
            let o = o.trim_end_matches('/');
            self.allowed_origins
                .split_whitespace()
                .any(|allowed| allowed.eq_ignore_ascii_case(o))
        })
    }
}

/// Adds a project; `false` when the name or the key is taken.
pub fn insert(conn: &mut DbConn, row: &ProjectRow) -> Result<bool> {
    match diesel::insert_into(projects::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn list(conn: &mut DbConn) -> Result<Vec<ProjectRow>> {
    Ok(projects::table
        .select(ProjectRow::as_select())
        .order(projects::id)
        .load(conn)?)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<ProjectRow>> {
    Ok(projects::table
        .find(id)
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?)
}

/// The project whose ingest key this is.
pub fn by_key(conn: &mut DbConn, key: &str) -> Result<Option<ProjectRow>> {
    Ok(projects::table
        .filter(projects::public_key.eq(key))
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?)
}

/// Projects without a key yet (the default project of an upgraded install).
pub fn without_key(conn: &mut DbConn) -> Result<Vec<String>> {
    Ok(projects::table
        .filter(projects::public_key.is_null())
        .select(projects::id)
        .load(conn)?)
}

pub fn set_key(conn: &mut DbConn, id: &str, key: &str) -> Result<bool> {
    Ok(diesel::update(projects::table.find(id))
        .set(projects::public_key.eq(key))
        .execute(conn)?
        > 0)
}

/// Replaces the allowed origins (space-separated); `false` when there is no such project.
pub fn set_origins(conn: &mut DbConn, id: &str, origins: &str) -> Result<bool> {
    Ok(diesel::update(projects::table.find(id))
        .set(projects::allowed_origins.eq(origins))
        .execute(conn)?
        > 0)
}

/// Sets how many days the project's sessions are kept; `false` when there is no such project.
pub fn set_retention(conn: &mut DbConn, id: &str, days: i32) -> Result<bool> {
    Ok(diesel::update(projects::table.find(id))
        .set(projects::retention_days.eq(days))
        .execute(conn)?
        > 0)
}

/// Sets how the project records (see `auth::projects::set_record_mode`, which checks the
/// values); `false` when there is no such project.
pub fn set_record_mode(
    conn: &mut DbConn,
    id: &str,
    mode: &str,
    percent: i32,
    urls: &str,
) -> Result<bool> {
    Ok(diesel::update(projects::table.find(id))
        .set((
            projects::record_mode.eq(mode),
            projects::sample_percent.eq(percent),
            projects::sample_urls.eq(urls),
        ))
        .execute(conn)?
        > 0)
}

/// What [`remove`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    Removed,
    NotFound,
    /// A session of the project is still recording: end it first.
    HasActiveSessions,
}

/// Removes a project with its sessions and their events, unless one of them is active.
pub fn remove(conn: &mut DbConn, id: &str) -> Result<Removed> {
    conn.transaction(|conn| {
        // Write first (see `sessions::ensure_open`): take the write lock before reading.
        let found = diesel::update(projects::table.find(id))
            .set(projects::id.eq(id))
            .execute(conn)?;
        if found == 0 {
            return Ok(Removed::NotFound);
        }
        let active: i64 = sessions::table
            .filter(sessions::project_id.eq(id))
            .filter(sessions::ended_at.is_null())
            .count()
            .get_result(conn)?;
        if active > 0 {
            return Ok(Removed::HasActiveSessions);
        }
        // Chunks go with their sessions (ON DELETE CASCADE), grants with the project.
        diesel::delete(sessions::table.filter(sessions::project_id.eq(id))).execute(conn)?;
        diesel::delete(projects::table.find(id)).execute(conn)?;
        Ok(Removed::Removed)
    })
}

/// Lets a member see a project; `false` when the grant already existed.
pub fn grant(conn: &mut DbConn, project: &str, username: &str) -> Result<bool> {
    let res = diesel::insert_into(project_members::table)
        .values((
            project_members::project_id.eq(project),
            project_members::username.eq(username),
        ))
        .execute(conn);
    match res {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Takes a grant back; `false` when there was none.
pub fn revoke(conn: &mut DbConn, project: &str, username: &str) -> Result<bool> {
    Ok(diesel::delete(
        project_members::table
            .filter(project_members::project_id.eq(project))
            .filter(project_members::username.eq(username)),
    )
    .execute(conn)?
        > 0)
}

pub fn members_of(conn: &mut DbConn, project: &str) -> Result<Vec<String>> {
    Ok(project_members::table
        .filter(project_members::project_id.eq(project))
        .select(project_members::username)
        .order(project_members::username)
        .load(conn)?)
}

/// The projects granted to a user.
pub fn granted_to(conn: &mut DbConn, username: &str) -> Result<Vec<String>> {
    Ok(project_members::table
        .filter(project_members::username.eq(username))
        .select(project_members::project_id)
        .order(project_members::project_id)
        .load(conn)?)
}
