//! HTTP routes: the JSON API, the WebSocket upgrades, the embedded dashboard and recorder.

use std::sync::{Arc, Mutex};

use actix::Addr;
use actix_web::{
    guard,
    http::header,
    web::{self, Data, Path, Query},
    HttpRequest, HttpResponse,
};
use actix_web_actors::ws as actix_ws;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::{
    access::{self, Changing, SignedIn},
    admin, assets,
    auth::{
        cache::{KnownKeys, Verified},
        limiter::SignInLimiter,
        projects::Scope,
    },
    compression,
    config::{parse_key, Config},
    db::{
        projects,
        purge::{self, Deleted},
        session_access,
        sessions::{self, ListQuery},
        Store,
    },
    error::{Error, Result},
    event::{now_ms, session_key, split_key, validate_session_id},
    limits::{Held, Limits, Quota, Refused},
    protocol::{
        outgoing::write_envelope, parse_client_message, rfc3339, ClientMessage, SessionInfo,
        SessionList,
    },
    registry::{ActiveSessions, IsLive, Lookup, Open, Registry},
    retention::{Reclaim, Retention},
    session::{GetInfo, Ingest, StartFrom, WaitDurable},
    source::{self, Located},
    ws::{feed::FeedSocket, recorder::RecorderSocket, user_agent, viewer, Assembler},
};

/// How long `POST …/events` waits for its events to become durable before answering anyway.
const DURABLE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// Sessions shown per page at most.
const MAX_PAGE: i64 = 1000;
/// The list shows sessions that ended within this window (plus every active one).
const RECENT_MS: i64 = 24 * 3600 * 1000;

pub struct AppState {
    pub cfg: Arc<Config>,
    pub store: Store,
    pub registry: Addr<Registry>,
    /// Gives the space of deleted sessions back.
    pub retention: Addr<Retention>,
    /// Failed sign-ins per account and address (in memory).
    pub sign_ins: Mutex<SignInLimiter>,
    /// Sign-ins verified recently (in memory; see `auth::cache`).
    pub verified: Verified,
    /// Events and bytes per second, recorders per key, sockets per address (in memory).
    pub limits: Arc<Limits>,
    /// Ingest keys the database confirmed, for recorders arriving while it cannot be asked.
    pub keys: KnownKeys,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/sessions", web::get().to(list_sessions))
        .route("/api/sessions/{id}", web::get().to(get_session))
        .route("/api/sessions/{id}", web::delete().to(delete_session))
        .service(
            // Recorders post from the tracked site's origin; reading recordings stays same-origin.
            web::resource("/api/sessions/{id}/events")
                .guard(guard::Any(guard::Post()).or(guard::Options()))
                .wrap(
                    actix_cors::Cors::default()
                        .allow_any_origin()
                        .allowed_methods(["POST"])
                        .allowed_headers([header::CONTENT_TYPE, header::CONTENT_ENCODING])
                        .max_age(3600),
                )
                .route(web::post().to(post_events)),
        )
        .route("/api/sessions/{id}/events", web::get().to(get_events))
        .route("/api/sessions/{id}/access", web::get().to(get_access))
        .route("/ws/record/{id}", web::get().to(record))
        .route("/ws/watch/{id}", web::get().to(watch))
        .route("/ws/sessions", web::get().to(feed));
    access::routes(cfg);
    admin::routes(cfg);
    assets::routes(cfg);
}

/// Query-string errors answer in the same JSON shape as every other error.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| Error::InvalidQuery(e.to_string()).into())
}

/// So do bodies that are not the JSON an endpoint takes (actix-web answers those in plain text).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().error_handler(|e, _| Error::InvalidQuery(e.to_string()).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, _| Error::InvalidQuery(e.to_string()).into())
}

pub async fn not_found() -> Result<HttpResponse> {
    Err(Error::NotFound)
}

fn session_id(raw: &str) -> Result<Arc<str>> {
    validate_session_id(raw)?;
    Ok(raw.into())
}

/// The project a recorder's `?key=` names, provided the request's `Origin` is one the project
/// allows: `invalid_key` (401) or `origin_not_allowed` (403) otherwise, before anything is
/// created or stored.
async fn ingest_project(state: &AppState, req: &HttpRequest, key: Option<&str>) -> Result<String> {
    let key = key
        .and_then(|k| parse_key(k).ok())
        .ok_or(Error::InvalidKey)?;
    let asked = key.clone();
    let project = match state.store.read(move |c| projects::by_key(c, &asked)).await {
        Ok(found) => {
            state.keys.put(&key, found.as_ref());
            found.ok_or(Error::InvalidKey)?
        }
        // The database cannot be asked: a key it confirmed before still records (the events go
        // to the spool), so that visitors arriving during an outage are recorded too.
        Err(e) if e.is_unavailable() => state.keys.get(&key).ok_or(Error::Unavailable)?,
        Err(e) => return Err(e),
    };
    let origin = match req.headers().get(header::ORIGIN) {
        Some(o) => Some(o.to_str().map_err(|_| Error::OriginNotAllowed)?),
        None => None,
    };
    if !project.allows_origin(origin) {
        log::info!(
            "recorder refused for project {}: origin not allowed",
            project.id
        );
        return Err(Error::OriginNotAllowed);
    }
    Ok(project.id)
}

/// A request refused by an ingest limit: 429 `rate_limited`, with when to retry.
fn limited(r: Refused, what: &str) -> HttpResponse {
    log::info!("{what} refused: {} limit", r.limit.name());
    Error::from(r).response_after(r.retry_after)
}

/// The hub's key of the session `id` as a user with `scope` addresses it: in `project` when
/// given, else in the one project they see that has a session `id`. A project they do not see
/// is answered like a session that does not exist (404), so nothing leaks.
async fn resolve(
    state: &AppState,
    scope: &Scope,
    id: &str,
    project: Option<&str>,
) -> Result<Arc<str>> {
    validate_session_id(id)?;
    if let Some(project) = project {
        if validate_session_id(project).is_err() || !scope.allows(project) {
            return Err(Error::SessionNotFound);
        }
        return Ok(session_key(project, id).into());
    }
    let candidates = match scope {
        Scope::Only(list) => list.clone(),
        Scope::All => {
            let rows = state.store.read(projects::list).await?;
            rows.into_iter().map(|p| p.id).collect()
        }
    };
    let keys: Vec<String> = candidates.iter().map(|p| session_key(p, id)).collect();
    match keys.as_slice() {
        [] => return Err(Error::SessionNotFound),
        [only] => return Ok(only.as_str().into()),
        _ => {}
    }
    let mut found = Vec::new();
    for key in &keys {
        if state
            .registry
            .send(Lookup(key.as_str().into()))
            .await?
            .is_some()
        {
            found.push(key.clone());
        }
    }
    let wanted = keys.clone();
    for key in state
        .store
        .read(move |c| sessions::find_keys(c, &wanted))
        .await?
    {
        if !found.contains(&key) {
            found.push(key);
        }
    }
    match found.as_slice() {
        [] => Err(Error::SessionNotFound),
        [one] => Ok(one.as_str().into()),
        _ => Err(Error::InvalidQuery(
            "sessions with this id exist in several projects: add ?project=NAME".into(),
        )),
    }
}

/// Writes the access log's row for a watch before anything of the session is sent: a watch that
/// cannot be recorded does not happen.
async fn record_access(
    state: &AppState,
    key: &Arc<str>,
    username: &str,
    kind: &'static str,
) -> Result<()> {
    let (key, user) = (key.to_string(), username.to_owned());
    state
        .store
        .run(move |c| session_access::record(c, &key, &user, kind, now_ms()))
        .await
}

#[derive(Deserialize)]
struct ProjectParam {
    /// The session's project; needed only when the id is used in several projects the user sees.
    project: Option<String>,
}

#[derive(Deserialize)]
struct ListParams {
    /// Include sessions that ended more than 24 h ago.
    #[serde(default)]
    all: bool,
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

async fn list_sessions(
    state: Data<AppState>,
    who: SignedIn,
    q: Query<ListParams>,
) -> Result<HttpResponse> {
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let before = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let scope = Scope::load(&state.store, &who.0).await?;
    let query = ListQuery {
        projects: scope.filter(),
        ended_after: (!q.all).then(|| now_ms() - RECENT_MS),
        before,
        limit: limit + 1,
    };
    let rows = state
        .store
        .read(move |c| sessions::list_sessions(c, &query))
        .await;
    let mut rows = match rows {
        Ok(rows) => rows,
        // The database is unreachable: answer at once with what this hub knows, saying so.
        Err(e) if e.is_unavailable() => {
            log::warn!("session list from memory only: {e}");
            let mut sessions = state.registry.send(ActiveSessions).await?;
            sessions.retain(|s| scope.allows(&s.project));
            sessions.sort_by(|a, b| (&b.started_at, &b.id).cmp(&(&a.started_at, &a.id)));
            return Ok(HttpResponse::Ok().json(SessionList {
                sessions,
                next_cursor: None,
                partial: true,
            }));
        }
        Err(e) => return Err(e),
    };
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| format!("{}:{}", r.started_at, r.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(SessionList {
        sessions: rows.iter().map(|r| r.info()).collect(),
        next_cursor,
        partial: false,
    }))
}

fn parse_cursor(raw: &str) -> Result<(i64, String)> {
    let bad = || Error::InvalidQuery("cursor must be a `next_cursor` value".into());
    let (ms, key) = raw.split_once(':').ok_or_else(bad)?;
    let (project, id) = split_key(key);
    validate_session_id(project).map_err(|_| bad())?;
    validate_session_id(id).map_err(|_| bad())?;
    Ok((ms.parse().map_err(|_| bad())?, key.to_owned()))
}

/// The session as the active actor knows it, else as stored.
async fn session_info(state: &AppState, id: &Arc<str>) -> Result<SessionInfo> {
    if let Some(addr) = state.registry.send(Lookup(id.clone())).await? {
        if let Ok(Some(info)) = addr.send(GetInfo).await {
            return Ok(info);
        }
    }
    let key = id.to_string();
    state
        .store
        .run(move |c| sessions::get_session(c, &key))
        .await?
        .map(|r| r.info())
        .ok_or(Error::SessionNotFound)
}

async fn get_session(
    state: Data<AppState>,
    who: SignedIn,
    id: Path<String>,
    q: Query<ProjectParam>,
) -> Result<HttpResponse> {
    let scope = Scope::load(&state.store, &who.0).await?;
    let key = resolve(&state, &scope, &id, q.project.as_deref()).await?;
    Ok(HttpResponse::Ok().json(session_info(&state, &key).await?))
}

/// Deletes a stored session with its events and access log (admins only). A session recording
/// now (or writing its end, or left open by a previous run until its idle timeout) is refused
/// with 409 `still_recording`: deleting it would race its recorder's next events.
async fn delete_session(
    state: Data<AppState>,
    who: Changing,
    id: Path<String>,
    q: Query<ProjectParam>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let key = resolve(&state, &Scope::All, &id, q.project.as_deref()).await?;
    let still = || Error::StillRecording(format!("session {}", split_key(&key).1));
    if state.registry.send(IsLive(key.clone())).await? {
        return Err(still());
    }
    let k = key.to_string();
    match state
        .store
        .run(move |c| purge::delete_session(c, &k))
        .await?
    {
        Deleted::Deleted => {
            let (project, id) = split_key(&key);
            log::info!(
                "{} deleted session {id} of project {project}",
                who.0.username
            );
            state.retention.do_send(Reclaim);
            Ok(HttpResponse::NoContent().finish())
        }
        Deleted::NotFound => Err(Error::SessionNotFound),
        Deleted::Active => Err(still()),
    }
}

/// Entries of the access log one request returns at most.
const MAX_ACCESS: i64 = 1000;

/// The session's access log, newest first: who watched it, how and when (admins only).
async fn get_access(
    state: Data<AppState>,
    who: SignedIn,
    id: Path<String>,
    q: Query<ProjectParam>,
) -> Result<HttpResponse> {
    who.0.require_admin()?;
    let key = resolve(&state, &Scope::All, &id, q.project.as_deref()).await?;
    let rows = state
        .store
        .read(move |c| session_access::for_session(c, &key, MAX_ACCESS))
        .await?;
    let access: Vec<_> = rows
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "username": r.username,
                "kind": r.kind,
                "at": rfc3339(r.at),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "access": access })))
}

#[derive(Deserialize)]
struct EventParams {
    #[serde(default)]
    after_seq: u64,
    limit: Option<usize>,
    /// `rrweb` (default): the events as recorded; `envelope`: each as {seq, hub_time, event}.
    format: Option<String>,
    project: Option<String>,
}

/// Streams the events as a JSON array, page by page from the database, then the buffer.
async fn get_events(
    state: Data<AppState>,
    who: SignedIn,
    id: Path<String>,
    q: Query<EventParams>,
) -> Result<HttpResponse> {
    let scope = Scope::load(&state.store, &who.0).await?;
    let id = resolve(&state, &scope, &id, q.project.as_deref()).await?;
    let envelope = match q.format.as_deref() {
        None | Some("rrweb") => false,
        Some("envelope") => true,
        Some(_) => {
            return Err(Error::InvalidQuery(
                "format is `rrweb` or `envelope`".into(),
            ))
        }
    };
    let from = StartFrom::Seq(q.after_seq.saturating_add(1));
    let located = source::locate(&state.registry, &state.store, &id).await?;
    record_access(&state, &id, &who.0.username, "api").await?;
    let pages = source::open(&located, state.store.clone(), &id, from, None)
        .await?
        .pages;
    let mut left = q.limit.unwrap_or(usize::MAX);
    let mut wrote_any = false;
    // Stop reading pages once `limit` events are out; the array is closed after the last one.
    let events = pages.scan((), move |_, page| {
        let item = match page {
            _ if left == 0 => None,
            Err(e) => Some(Err(e)),
            Ok(page) => {
                let mut out = String::new();
                for e in page.iter().take(left) {
                    if wrote_any {
                        out.push(',');
                    }
                    wrote_any = true;
                    if envelope {
                        write_envelope(e, &mut out);
                    } else {
                        out.push_str(&e.json);
                    }
                }
                left = left.saturating_sub(page.len());
                Some(Ok(web::Bytes::from(out)))
            }
        };
        std::future::ready(item)
    });
    let body = futures_util::stream::once(async { Ok(web::Bytes::from_static(b"[")) })
        .chain(events)
        .chain(futures_util::stream::once(async {
            Ok::<_, Error>(web::Bytes::from_static(b"]"))
        }));
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .streaming(body))
}

/// The recorder's fallback when it cannot keep a socket (page unload, proxies). Answers once
/// the events are durable, so a 200 means stored.
async fn post_events(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    q: Query<RecordParams>,
    mut payload: web::Payload,
) -> Result<HttpResponse> {
    let id = session_id(&id)?;
    let project = ingest_project(&state, &req, q.key.as_deref()).await?;
    let key: Arc<str> = session_key(&project, &id).into();
    let limit = state.cfg.max_frame_bytes;
    // A body trickling in holds memory and a connection: it must arrive in full in time.
    let read = async move {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| Error::InvalidFrame(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(Error::FrameTooLarge {
                    size: body.len() + chunk.len(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = actix_web::rt::time::timeout(state.cfg.body_timeout(), read)
        .await
        .map_err(|_| Error::RequestTimeout)??;
    let inflated;
    let text = match content_encoding(&req)? {
        // Held to the same limit once inflated, checked while inflating.
        Some(enc) => {
            inflated = compression::inflate(enc, &body, limit)?;
            &*inflated
        }
        None => std::str::from_utf8(&body).map_err(|_| Error::InvalidFrame("not UTF-8".into()))?,
    };
    let ClientMessage::Events { events, .. } = parse_client_message(text, now_ms())? else {
        return Err(Error::InvalidFrame("expected an `events` frame".into()));
    };
    // Before the session is opened: a refused POST leaves nothing behind.
    if let Err(r) = state
        .limits
        .admit(&project.as_str().into(), &key, events.len(), body.len())
    {
        return Ok(limited(r, "POST of events"));
    }
    let session = state
        .registry
        .send(Open {
            id: key,
            user_agent: user_agent(&req),
            address: access::client_ip(&req, &state.cfg),
            arbiter: actix::Arbiter::current(),
        })
        .await??;
    // Wait for this frame's own events: one that arrived ahead of a gap is parked a moment.
    let last_seq = events.last().map_or(0, |e| e.seq);
    let ingested = session.send(Ingest { events }).await??;
    let durable =
        actix_web::rt::time::timeout(DURABLE_WAIT, session.send(WaitDurable { seq: last_seq }))
            .await;
    let durable_seq = match durable {
        Ok(Ok(Ok(seq))) => Some(seq),
        _ => None,
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "accepted": ingested.accepted,
        "received_seq": ingested.received_seq,
        "durable_seq": durable_seq,
    })))
}

/// How a POST body is compressed (`Content-Encoding: gzip` or `deflate`), if it is.
fn content_encoding(req: &HttpRequest) -> Result<Option<compression::Encoding>> {
    match req.headers().get(actix_web::http::header::CONTENT_ENCODING) {
        None => Ok(None),
        Some(v) => compression::Encoding::from_content_encoding(
            v.to_str()
                .map_err(|_| Error::InvalidFrame("bad Content-Encoding".into()))?,
        ),
    }
}

#[derive(Deserialize)]
struct RecordParams {
    /// The project's ingest key.
    key: Option<String>,
    /// The `resume_token` of an earlier `welcome`: takes the session's slot over.
    resume: Option<String>,
}

async fn record(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    q: Query<RecordParams>,
    stream: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let id = session_id(&id)?;
    let q = q.into_inner();
    let project: Arc<str> = ingest_project(&state, &req, q.key.as_deref()).await?.into();
    let address = access::client_ip(&req, &state.cfg);
    let permit = match state.limits.connect(address, Some(&project)) {
        Ok(p) => p,
        Err(r) => return Ok(limited(r, "recorder socket")),
    };
    let key: Arc<str> = session_key(&project, &id).into();
    let session = state
        .registry
        .send(Open {
            id: key.clone(),
            user_agent: user_agent(&req),
            address,
            arbiter: actix::Arbiter::current(),
        })
        .await
        .map_err(Error::from)??;
    let limit = state.cfg.max_frame_bytes;
    let frames = Assembler::new(limit, state.cfg.body_timeout());
    let quota = Quota::new(state.limits.clone(), project, key);
    let socket = RecorderSocket::new(id, session, frames, q.resume, quota);
    actix_ws::WsResponseBuilder::new(socket, &req, Held::new(stream, permit))
        .frame_size(limit)
        .start()
}

#[derive(Deserialize)]
struct WatchParams {
    from: Option<String>,
    project: Option<String>,
    /// `deflate-raw`: the viewer inflates binary frames, so large ones are sent compressed.
    enc: Option<String>,
}

fn parse_enc(raw: Option<&str>) -> Result<bool> {
    match raw {
        None | Some("") => Ok(false),
        Some("deflate-raw") => Ok(true),
        Some(_) => Err(Error::InvalidQuery("enc is `deflate-raw` or absent".into())),
    }
}

fn parse_from(raw: Option<&str>) -> Result<StartFrom> {
    match raw {
        None | Some("live") => Ok(StartFrom::Live),
        Some("start") => Ok(StartFrom::Start),
        Some(ms) => ms
            .parse::<i64>()
            .ok()
            .filter(|ms| *ms >= 0)
            .map(StartFrom::Offset)
            .ok_or_else(|| {
                Error::InvalidQuery("from is `live`, `start` or milliseconds ≥ 0".into())
            }),
    }
}

/// Viewer sockets are refused before the upgrade without a sign-in (401) or from another
/// site's page (403 `origin_not_allowed`: cross-site WebSocket hijacking).
async fn watch(
    state: Data<AppState>,
    req: HttpRequest,
    who: SignedIn,
    id: Path<String>,
    q: Query<WatchParams>,
    stream: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    access::check_origin(&req, &state.cfg)?;
    let scope = Scope::load(&state.store, &who.0).await?;
    let id = resolve(&state, &scope, &id, q.project.as_deref()).await?;
    let from = parse_from(q.from.as_deref())?;
    let compressed = parse_enc(q.enc.as_deref())?;
    let source = source::locate(&state.registry, &state.store, &id).await?;
    let kind = match source {
        Located::Active(_) => "live",
        Located::Stored { .. } => "replay",
    };
    let permit = match state
        .limits
        .connect(access::client_ip(&req, &state.cfg), None)
    {
        Ok(p) => p,
        Err(r) => return Ok(limited(r, "viewer socket")),
    };
    record_access(&state, &id, &who.0.username, kind).await?;
    let limit = state.cfg.max_frame_bytes;
    let frames = Assembler::new(limit, state.cfg.body_timeout());
    let socket = viewer::ViewerSocket::new(id, source, from, state.store.clone(), frames)
        .compressed(compressed);
    actix_ws::WsResponseBuilder::new(socket, &req, Held::new(stream, permit))
        .frame_size(limit)
        .start()
}

async fn feed(
    state: Data<AppState>,
    req: HttpRequest,
    who: SignedIn,
    stream: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    access::check_origin(&req, &state.cfg)?;
    let scope = Scope::load(&state.store, &who.0).await?;
    let permit = match state
        .limits
        .connect(access::client_ip(&req, &state.cfg), None)
    {
        Ok(p) => p,
        Err(r) => return Ok(limited(r, "session list socket")),
    };
    let socket = FeedSocket::new(state.registry.clone(), scope.filter());
    actix_ws::start(socket, &req, Held::new(stream, permit))
}
