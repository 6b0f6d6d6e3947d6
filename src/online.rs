//! Recording on demand over HTTP: the presence socket's upgrade (`/ws/presence`), the online
//! list (`GET /api/online`), and Watch and Stop (`POST /api/online/{visitor_id}/watch|stop`).
//! Who is online lives in the `presence` actor; this module checks keys, sign-ins and scopes.

use std::{sync::Arc, time::Duration};

use actix_web::{
    web::{self, Data, Path, Query},
    HttpRequest, HttpResponse,
};
use actix_web_actors::ws as actix_ws;
use serde::Deserialize;

use crate::{
    access::{self, Changing, SignedIn},
    api::{ingest_project, limited, AppState},
    auth::projects::Scope,
    error::{Error, Result},
    event::{now_ms, session_key, validate_session_id},
    limits::Held,
    presence::{Online, Stop, Watch},
    protocol::presence::OnlineList,
    registry::Lookup,
    ws::{presence::PresenceSocket, user_agent, Assembler},
};

/// Largest presence message (a URL, a viewport and a user agent).
const MAX_PRESENCE_BYTES: usize = 8 * 1024;
/// How long Watch waits for the visitor's page to open its recording (the answer then names a
/// session the PM's page can open at once).
const RECORDING_START_WAIT: Duration = Duration::from_secs(5);
const RECORDING_START_POLL: Duration = Duration::from_millis(5);
/// In a cluster the recorder may open on another hub: the database says so, asked less often.
const CLUSTER_START_POLL: Duration = Duration::from_millis(50);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws/presence", web::get().to(presence))
        .route("/api/online", web::get().to(online))
        .route("/api/online/{visitor_id}/watch", web::post().to(watch))
        .route("/api/online/{visitor_id}/stop", web::post().to(stop));
}

#[derive(Deserialize)]
struct PresenceParams {
    key: Option<String>,
    /// The visitor id the page keeps in localStorage (same characters as session ids).
    visitor: Option<String>,
}

/// A page in standby connects: the key and origin are checked as for a recorder socket, and it
/// counts against the same per-address socket limit.
async fn presence(
    state: Data<AppState>,
    req: HttpRequest,
    q: Query<PresenceParams>,
    stream: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let visitor = q.visitor.as_deref().unwrap_or_default();
    validate_session_id(visitor)
        .map_err(|_| Error::InvalidQuery("visitor is 1 to 64 of A-Z a-z 0-9 _ -".into()))?;
    let project: Arc<str> = ingest_project(&state, &req, q.key.as_deref()).await?.into();
    let address = access::client_ip(&req, &state.cfg);
    let permit = match state.limits.connect(address, Some(&project)) {
        Ok(p) => p,
        Err(r) => return Ok(limited(r, "presence socket")),
    };
    let frames = Assembler::new(
        MAX_PRESENCE_BYTES,
        state.cfg.body_timeout(),
        state.budget.lease(),
    );
    let socket = PresenceSocket::new(
        project,
        visitor.into(),
        state.presence.clone(),
        user_agent(&req),
        frames,
    );
    actix_ws::WsResponseBuilder::new(socket, &req, Held::new(stream, permit))
        .frame_size(MAX_PRESENCE_BYTES)
        .start()
}

async fn online(state: Data<AppState>, who: SignedIn) -> Result<HttpResponse> {
    let scope = Scope::load(&state.store, &who.0).await?;
    let visitors = state.presence.send(Online(scope.filter())).await?;
    Ok(HttpResponse::Ok().json(OnlineList { visitors }))
}

#[derive(Deserialize)]
struct VisitorParams {
    /// The visitor's project; needed only when the id is online in several projects.
    project: Option<String>,
}

/// The project of an online visitor among those the user sees; 404 `not_found` otherwise (a
/// project they do not see is answered like a visitor who is not online).
async fn visitor_project(
    state: &AppState,
    scope: &Scope,
    visitor: &str,
    project: Option<&str>,
) -> Result<String> {
    validate_session_id(visitor).map_err(|_| Error::NotFound)?;
    let online = state.presence.send(Online(scope.filter())).await?;
    let mut found = online
        .into_iter()
        .filter(|v| v.visitor_id == visitor && project.is_none_or(|p| v.project == p))
        .map(|v| v.project);
    match (found.next(), found.next()) {
        (Some(p), None) => Ok(p),
        (None, _) => Err(Error::NotFound),
        (Some(_), Some(_)) => Err(Error::InvalidQuery(
            "this visitor is online in several projects: add ?project=NAME".into(),
        )),
    }
}

/// Starts recording the visitor (or joins the running recording) and answers once the
/// visitor's page has opened it, so that `/sessions/{session_id}` plays it live at once.
async fn watch(
    state: Data<AppState>,
    who: Changing,
    visitor: Path<String>,
    q: Query<VisitorParams>,
) -> Result<HttpResponse> {
    let scope = Scope::load(&state.store, &who.0).await?;
    let project = visitor_project(&state, &scope, &visitor, q.project.as_deref()).await?;
    let session_id = state
        .presence
        .send(Watch {
            project: project.clone(),
            visitor: visitor.into_inner(),
        })
        .await??;
    let key: Arc<str> = session_key(&project, &session_id).into();
    let opened =
        actix_web::rt::time::timeout(RECORDING_START_WAIT, recording_opened(&state, key)).await;
    match opened {
        Ok(res) => res?,
        Err(_) => {
            log::warn!("project {project}: a page asked to record did not start within 5 s");
            return Err(Error::Unavailable);
        }
    }
    log::info!(
        "{} watches a recording on demand of project {project}",
        who.0.username
    );
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "session_id": session_id,
        "project": project,
    })))
}

/// Returns once the recording `key` is open on this hub or, in a cluster, on any hub.
async fn recording_opened(state: &AppState, key: Arc<str>) -> Result<()> {
    let clustered = state.cfg.nats_url.as_deref().is_some_and(|u| !u.is_empty());
    let mut next_db_check = std::time::Instant::now();
    loop {
        if state.registry.send(Lookup(key.clone())).await?.is_some() {
            return Ok(());
        }
        if clustered && std::time::Instant::now() >= next_db_check {
            let id = key.to_string();
            let leased = state
                .store
                .read(move |c| crate::db::owners::is_leased(c, &id, now_ms()))
                .await?;
            if leased {
                return Ok(());
            }
            next_db_check = std::time::Instant::now() + CLUSTER_START_POLL;
        }
        actix_web::rt::time::sleep(RECORDING_START_POLL).await;
    }
}

/// Stops the visitor's recording; it ends and stays stored like any session.
async fn stop(
    state: Data<AppState>,
    who: Changing,
    visitor: Path<String>,
    q: Query<VisitorParams>,
) -> Result<HttpResponse> {
    let scope = Scope::load(&state.store, &who.0).await?;
    let project = visitor_project(&state, &scope, &visitor, q.project.as_deref()).await?;
    state
        .presence
        .send(Stop {
            project: project.clone(),
            visitor: visitor.into_inner(),
        })
        .await??;
    log::info!(
        "{} stopped a recording on demand of project {project}",
        who.0.username
    );
    Ok(HttpResponse::NoContent().finish())
}
