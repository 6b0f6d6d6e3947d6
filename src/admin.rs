//! The administration API: projects (their keys, allowed origins and retention) and which
//! members see which project, and the list of users to grant from. Reading the project list is
//! open to every signed-in user (a member sees the projects granted to them); the user list and
//! every change need an admin, and changes pass the CSRF check.

use actix_web::{
    web::{self, Data, Json, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};

use crate::{
    access::{Changing, SignedIn},
    api::AppState,
    auth::projects::{self as access_projects, Scope},
    db::{
        projects::{self, ProjectRow, Removed},
        users,
    },
    error::{Error, Result},
    protocol::rfc3339,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects", web::get().to(list))
        .route("/api/projects", web::post().to(create))
        .route("/api/projects/{name}", web::delete().to(remove))
        .route(
            "/api/projects/{name}/retention",
            web::put().to(set_retention),
        )
        .route(
            "/api/projects/{name}/record_mode",
            web::put().to(set_record_mode),
        )
        .route("/api/projects/{name}/origins", web::post().to(add_origin))
        .route(
            "/api/projects/{name}/origins",
            web::delete().to(remove_origin),
        )
        .route("/api/projects/{name}/members", web::post().to(grant))
        .route(
            "/api/projects/{name}/members/{username}",
            web::delete().to(revoke),
        )
        .route("/api/users", web::get().to(list_users));
}

#[derive(Serialize)]
struct ProjectInfo {
    name: String,
    /// The public ingest key recorders send as `?key=`.
    key: Option<String>,
    /// Origins whose pages may record; empty allows any.
    allowed_origins: Vec<String>,
    retention_days: i32,
    created_at: String,
    /// `all` (every visitor), `sample` or `standby` (nobody until a PM clicks Watch).
    record_mode: String,
    /// In `sample` mode, the share of visitors recorded (0 to 100).
    sample_percent: i32,
    /// In `sample` mode, path patterns (`/checkout/*`) recorded whatever the share.
    sample_urls: Vec<String>,
    /// Members granted the project (shown to admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<String>>,
}

impl ProjectInfo {
    fn new(row: ProjectRow, members: Option<Vec<String>>) -> Self {
        ProjectInfo {
            allowed_origins: row.origins(),
            name: row.id,
            key: row.public_key,
            retention_days: row.retention_days,
            created_at: rfc3339(row.created_at),
            sample_urls: row
                .sample_urls
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            record_mode: row.record_mode,
            sample_percent: row.sample_percent,
            members,
        }
    }
}

async fn list(state: Data<AppState>, who: SignedIn) -> Result<HttpResponse> {
    let scope = Scope::load(&state.store, &who.0).await?;
    let admin = scope == Scope::All;
    let shown = state
        .store
        .read(move |c| {
            let mut out = Vec::new();
            for row in projects::list(c)? {
                if !scope.allows(&row.id) {
                    continue;
                }
                let members = match admin {
                    true => Some(projects::members_of(c, &row.id)?),
                    false => None,
                };
                out.push(ProjectInfo::new(row, members));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "projects": shown })))
}

#[derive(Deserialize)]
struct NewProject {
    name: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
    retention_days: Option<i32>,
}

async fn create(
    state: Data<AppState>,
    who: Changing,
    body: Json<NewProject>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let new = body.into_inner();
    let name = new.name.clone();
    let row = state
        .store
        .run(move |c| {
            access_projects::add_project(
                c,
                &new.name,
                None,
                &new.allowed_origins,
                new.retention_days,
            )
        })
        .await?
        .ok_or_else(|| Error::InvalidQuery(format!("project {name} already exists")))?;
    log::info!("{} added project {}", who.0.username, row.id);
    Ok(HttpResponse::Created().json(ProjectInfo::new(row, Some(Vec::new()))))
}

async fn remove(state: Data<AppState>, who: Changing, name: Path<String>) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let name = name.into_inner();
    let id = name.clone();
    match state.store.run(move |c| projects::remove(c, &id)).await? {
        Removed::Removed => {
            log::info!("{} removed project {name}", who.0.username);
            Ok(HttpResponse::NoContent().finish())
        }
        Removed::NotFound => Err(Error::NotFound),
        Removed::HasActiveSessions => Err(Error::StillRecording(format!("a session of {name}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Retention {
    /// Days its sessions are kept (1 to 36500); the next retention pass applies it.
    retention_days: i32,
}

async fn set_retention(
    state: Data<AppState>,
    who: Changing,
    name: Path<String>,
    body: Json<Retention>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let (name, days) = (name.into_inner(), body.into_inner().retention_days);
    let id = name.clone();
    let (row, members) = state
        .store
        .run(move |c| {
            let Some(row) = access_projects::set_retention(c, &id, days)? else {
                return Ok(None);
            };
            Ok(Some((row, projects::members_of(c, &id)?)))
        })
        .await?
        .ok_or(Error::NotFound)?;
    log::info!(
        "{} set the retention of project {name} to {days} days",
        who.0.username
    );
    Ok(HttpResponse::Ok().json(ProjectInfo::new(row, Some(members))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordModeBody {
    record_mode: String,
    /// Only read in `sample` mode; kept as given otherwise.
    #[serde(default = "all_of_them")]
    sample_percent: i32,
    #[serde(default)]
    sample_urls: Vec<String>,
}

fn all_of_them() -> i32 {
    100
}

/// Sets how the project records. Pages learn it from the script they load (`streamdom.js?key=`
/// revalidates on every page view), so a change applies from each visitor's next page.
async fn set_record_mode(
    state: Data<AppState>,
    who: Changing,
    name: Path<String>,
    body: Json<RecordModeBody>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let (name, body) = (name.into_inner(), body.into_inner());
    let id = name.clone();
    let (row, members) = state
        .store
        .run(move |c| {
            let Some(row) = access_projects::set_record_mode(
                c,
                &id,
                &body.record_mode,
                body.sample_percent,
                &body.sample_urls,
            )?
            else {
                return Ok(None);
            };
            Ok(Some((row, projects::members_of(c, &id)?)))
        })
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(key) = &row.public_key {
        state.keys.put(key, Some(&row));
    }
    log::info!(
        "{} set the record mode of project {name} to {}",
        who.0.username,
        row.record_mode
    );
    Ok(HttpResponse::Ok().json(ProjectInfo::new(row, Some(members))))
}

/// Every user with their role, for an admin granting projects.
async fn list_users(state: Data<AppState>, who: SignedIn) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let rows = state.store.read(users::list).await?;
    let list: Vec<_> = rows
        .into_iter()
        .map(|u| serde_json::json!({ "username": u.username, "role": u.role }))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "users": list })))
}

#[derive(Deserialize)]
struct OriginParam {
    origin: String,
}

async fn add_origin(
    state: Data<AppState>,
    who: Changing,
    name: Path<String>,
    body: Json<OriginParam>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let (name, origin) = (name.into_inner(), body.into_inner().origin);
    let row = state
        .store
        .run(move |c| access_projects::allow_origin(c, &name, &origin))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(ProjectInfo::new(row, None)))
}

async fn remove_origin(
    state: Data<AppState>,
    who: Changing,
    name: Path<String>,
    q: Query<OriginParam>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let (name, origin) = (name.into_inner(), q.into_inner().origin);
    let row = state
        .store
        .run(move |c| access_projects::disallow_origin(c, &name, &origin))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(ProjectInfo::new(row, None)))
}

#[derive(Deserialize)]
struct Member {
    username: String,
}

async fn grant(
    state: Data<AppState>,
    who: Changing,
    name: Path<String>,
    body: Json<Member>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let (name, user) = (name.into_inner(), body.into_inner().username);
    let found = state
        .store
        .run(move |c| {
            if projects::get(c, &name)?.is_none() || users::get(c, &user)?.is_none() {
                return Ok(false);
            }
            projects::grant(c, &name, &user)?;
            Ok(true)
        })
        .await?;
    match found {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(Error::NotFound),
    }
}

async fn revoke(
    state: Data<AppState>,
    who: Changing,
    path: Path<(String, String)>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let (name, user) = path.into_inner();
    let found = state
        .store
        .run(move |c| projects::revoke(c, &name, &user))
        .await?;
    match found {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(Error::NotFound),
    }
}
