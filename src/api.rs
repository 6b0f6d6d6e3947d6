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
        session_list::{self, ListQuery, Sort, Status},
        sessions, Store,
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
    session::{budget::Budget, GetDetails, Ingest, StartFrom, WaitDurable},
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
    /// The hub's memory account (see `session::budget`).
    pub budget: Arc<Budget>,
    /// Who is online, and recordings on demand (see `presence`).
    pub presence: Addr<crate::presence::Presence>,
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
    crate::numbers::routes(cfg);
    admin::routes(cfg);
    crate::online::routes(cfg);
    crate::heat_api::routes(cfg);
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
pub(crate) async fn ingest_project(
    state: &AppState,
    req: &HttpRequest,
    key: Option<&str>,
) -> Result<String> {
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
pub(crate) fn limited(r: Refused, what: &str) -> HttpResponse {
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

/// `GET /api/sessions`'s query string, each value checked by `list_query` so that a bad one is
/// answered with a 400 naming it.
#[derive(Deserialize, Default)]
struct ListParams {
    /// Include sessions that ended more than 24 h ago (so do `from` and `to`).
    all: Option<String>,
    limit: Option<String>,
    /// `next_cursor` of the previous page (of the same sort and order).
    cursor: Option<String>,
    /// Only this project's sessions (one the user sees; another lists nothing).
    project: Option<String>,
    user: Option<String>,
    q: Option<String>,
    url: Option<String>,
    from: Option<String>,
    to: Option<String>,
    min_duration_ms: Option<String>,
    max_duration_ms: Option<String>,
    min_active_ms: Option<String>,
    max_active_ms: Option<String>,
    has_errors: Option<String>,
    event: Option<String>,
    browser: Option<String>,
    os: Option<String>,
    device: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

pub(crate) fn bad_param(name: &str, what: &str) -> Error {
    Error::InvalidQuery(format!("`{name}` {what}"))
}

fn int_param(name: &str, raw: Option<&str>) -> Result<Option<i64>> {
    raw.map(|v| v.parse().map_err(|_| bad_param(name, "must be an integer")))
        .transpose()
}

fn bool_param(name: &str, raw: Option<&str>) -> Result<Option<bool>> {
    raw.map(|v| match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad_param(name, "must be `true` or `false`")),
    })
    .transpose()
}

/// A time as RFC 3339 or milliseconds since the epoch.
pub(crate) fn time_param(name: &str, raw: Option<&str>) -> Result<Option<i64>> {
    raw.map(|v| {
        v.parse::<i64>()
            .ok()
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(v)
                    .ok()
                    .map(|t| t.timestamp_millis())
            })
            .ok_or_else(|| bad_param(name, "must be an RFC 3339 time or epoch milliseconds"))
    })
    .transpose()
}

/// A text filter: non-empty, of a sane length.
pub(crate) fn text_param(name: &str, raw: Option<&str>) -> Result<Option<String>> {
    match raw {
        None => Ok(None),
        Some("") => Err(bad_param(name, "must not be empty")),
        Some(v) if v.chars().count() > 2048 => Err(bad_param(name, "is too long")),
        Some(v) if v.contains('\0') => Err(bad_param(name, "must not contain NUL")),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// The list's query from its parameters (without the projects, which come from who asks).
fn list_query(p: &ListParams) -> Result<(ListQuery, i64)> {
    let limit = int_param("limit", p.limit.as_deref())?
        .unwrap_or(100)
        .clamp(1, MAX_PAGE);
    let sort = match p.sort.as_deref() {
        None => Sort::Started,
        Some(s) => Sort::parse(s)
            .ok_or_else(|| bad_param("sort", "must be started, duration, active or errors"))?,
    };
    let desc = match p.order.as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => return Err(bad_param("order", "must be asc or desc")),
    };
    let status = match p.status.as_deref() {
        None => None,
        Some("live") => Some(Status::Live),
        Some("ended") => Some(Status::Ended),
        Some(_) => return Err(bad_param("status", "must be live or ended")),
    };
    let after = p.cursor.as_deref().map(parse_cursor).transpose()?;
    let (from, to) = (
        time_param("from", p.from.as_deref())?,
        time_param("to", p.to.as_deref())?,
    );
    let all = bool_param("all", p.all.as_deref())?.unwrap_or(false);
    let windowed = !all && from.is_none() && to.is_none();
    let q = ListQuery {
        projects: None,
        ended_after: windowed.then(|| now_ms() - RECENT_MS),
        user: text_param("user", p.user.as_deref())?,
        q: text_param("q", p.q.as_deref())?,
        url: text_param("url", p.url.as_deref())?,
        from,
        to,
        min_duration_ms: int_param("min_duration_ms", p.min_duration_ms.as_deref())?,
        max_duration_ms: int_param("max_duration_ms", p.max_duration_ms.as_deref())?,
        min_active_ms: int_param("min_active_ms", p.min_active_ms.as_deref())?,
        max_active_ms: int_param("max_active_ms", p.max_active_ms.as_deref())?,
        has_errors: bool_param("has_errors", p.has_errors.as_deref())?,
        event: text_param("event", p.event.as_deref())?,
        browser: text_param("browser", p.browser.as_deref())?,
        os: text_param("os", p.os.as_deref())?,
        device: text_param("device", p.device.as_deref())?,
        status,
        sort,
        desc,
        after,
        limit: limit + 1,
    };
    Ok((q, limit))
}

async fn list_sessions(
    state: Data<AppState>,
    who: SignedIn,
    params: Query<ListParams>,
) -> Result<HttpResponse> {
    let (mut query, limit) = list_query(&params)?;
    let scope = Scope::load(&state.store, &who.0).await?;
    query.projects = match text_param("project", params.project.as_deref())? {
        Some(p) if validate_session_id(&p).is_err() => {
            return Err(bad_param("project", "is not a project name"))
        }
        // A project the user does not see has, for them, no sessions.
        Some(p) => Some(if scope.allows(&p) { vec![p] } else { vec![] }),
        None => scope.filter(),
    };
    let (sort, desc, shown) = (query.sort, query.desc, query.projects.clone());
    let rows = state
        .store
        .read(move |c| session_list::list_sessions(c, &query))
        .await;
    let mut rows = match rows {
        Ok(rows) => rows,
        // The database is unreachable: answer at once with what this hub knows, saying so.
        Err(e) if e.is_unavailable() => {
            log::warn!("session list from memory only: {e}");
            let mut sessions = state.registry.send(ActiveSessions).await?;
            sessions.retain(|s| shown.as_ref().is_none_or(|l| l.contains(&s.project)));
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
        rows.last().map(|r| cursor(sort, desc, sort.key(r), &r.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(SessionList {
        sessions: rows.iter().map(|r| r.info()).collect(),
        next_cursor,
        partial: false,
    }))
}

/// `<sort>.<order>.<sort key>.<session key>`: where the next page starts, in this sort only.
fn cursor(sort: Sort, desc: bool, key: i64, id: &str) -> String {
    let order = if desc { "desc" } else { "asc" };
    format!("{}.{order}.{key}.{id}", sort.name())
}

/// The (sort key, session key) of a cursor. Its sort and order are those of the page that made
/// it; given with another sort, its key is read as that sort's (a page, not an error).
fn parse_cursor(raw: &str) -> Result<(i64, String)> {
    let bad = || bad_param("cursor", "must be a `next_cursor` value");
    let (key, id) = match raw.split_once('.') {
        Some(_) => {
            let mut parts = raw.splitn(4, '.');
            parts.next().and_then(Sort::parse).ok_or_else(bad)?;
            parts
                .next()
                .filter(|o| matches!(*o, "asc" | "desc"))
                .ok_or_else(bad)?;
            (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?)
        }
        // The earlier form, `<started ms>:<session key>`.
        None => raw.split_once(':').ok_or_else(bad)?,
    };
    let (project, session) = split_key(id);
    validate_session_id(project).map_err(|_| bad())?;
    validate_session_id(session).map_err(|_| bad())?;
    Ok((key.parse().map_err(|_| bad())?, id.to_owned()))
}

/// The session as the active actor knows it, else as stored, with the pages it visited.
async fn session_info(state: &AppState, id: &Arc<str>) -> Result<SessionInfo> {
    if let Some(addr) = state.registry.send(Lookup(id.clone())).await? {
        if let Ok(Some(info)) = addr.send(GetDetails).await {
            return Ok(info);
        }
    }
    let key = id.to_string();
    state
        .store
        .read(move |c| sessions::find_session(c, &key))
        .await?
        .map(|found| {
            let mut info = found.row.info();
            info.pages = Some(found.pages);
            info
        })
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
    // Held on the hub's memory account until the answer is sent.
    let mut held = state.budget.lease();
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| Error::InvalidFrame(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(Error::FrameTooLarge {
                    size: body.len() + chunk.len(),
                    limit,
                });
            }
            if !held.grow(chunk.len()) {
                return Err(Error::Overloaded);
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
            if !held.grow(inflated.len()) {
                return Err(Error::Overloaded);
            }
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
    let frames = Assembler::new(limit, state.cfg.body_timeout(), state.budget.lease());
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
        Located::Active(_) | Located::Remote(_) => "live",
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
    let frames = Assembler::new(limit, state.cfg.body_timeout(), state.budget.lease());
    let socket = viewer::ViewerSocket::new(id, source, from, state.store.clone(), frames)
        .compressed(compressed)
        .counted_by(state.presence.clone());
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
