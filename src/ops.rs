//! Operations endpoints and HTTP basics: liveness (`/livez`), readiness (`/readyz`, and
//! `/healthz` as its alias), Prometheus `/metrics` (counted in `metrics`), `HEAD` wherever `GET`
//! is served, the OpenAPI document (`/api/openapi.json`), the access log, and the listening socket (bound first, so that a port in use is
//! one clear line). Liveness says only that the process answers; readiness asks the database through
//! the pool, on the blocking pool and within `READY_TIMEOUT` (never blocking the runtime), and
//! reports the spool: a database out of reach leaves the hub ready (`degraded`) while the spool
//! takes its events.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, LazyLock,
    },
    time::Duration,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ResourceDef, ServiceRequest, ServiceResponse},
    http::{
        header::{HeaderValue, ALLOW},
        Method, StatusCode,
    },
    middleware::{Logger, Next},
    web::{self, Data},
    HttpResponse,
};
use serde_json::json;

use crate::{
    api::AppState,
    error::{Error, Result as HubResult},
    metrics,
};

/// The methods each documented path answers (`HEAD` wherever `GET`), read once from the
/// OpenAPI document, which `tests/openapi.rs` checks against the real routes.
static DOCUMENTED: LazyLock<Vec<(ResourceDef, String)>> = LazyLock::new(|| {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
    let Some(paths) = doc["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<String> = item
                .as_object()
                .map(|ops| ops.keys().map(|m| m.to_uppercase()).collect())
                .unwrap_or_default();
            if methods.iter().any(|m| m == "GET") {
                methods.push("HEAD".into());
            }
            (ResourceDef::new(path.as_str()), methods.join(", "))
        })
        .collect()
});

/// How long readiness waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// One database check at a time (per worker): with a database that hangs, probes must not pile
/// up blocking threads, each stuck in a query. Cleared when the check's blocking task ends.
#[derive(Default)]
struct Checking(Arc<AtomicBool>);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(Data::new(Checking::default()))
        .route("/livez", web::get().to(livez))
        .route("/readyz", web::get().to(readyz))
        // Kept for monitors set up before /readyz existed: the same check.
        .route("/healthz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_text))
        .route("/api/openapi.json", web::get().to(openapi));
}

/// Connections waiting to be accepted, as actix-web's own `bind` asks for.
const BACKLOG: i32 = 1024;

/// The listening socket for `addr`; a port in use is an error that says what to do.
pub fn listen(addr: std::net::SocketAddr) -> HubResult<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let fail = |e: std::io::Error| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                " (another process, perhaps another hub, is using it: stop it or set another \
                 address with --bind or STREAMDOM_BIND)"
            }
            _ => "",
        };
        Error::Startup(format!("cannot listen on {addr}: {e}{hint}"))
    };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(fail)?;
    socket.set_reuse_address(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    socket.listen(BACKLOG).map_err(fail)?;
    Ok(socket.into())
}

/// Paths probed every few seconds by orchestrators and scrapers stay out of the access log.
const PROBES: &[&str] = &["/livez", "/readyz", "/healthz", "/metrics"];

/// The access log: request line, status and time, without the probes.
pub fn quiet_logger() -> Logger {
    PROBES
        .iter()
        .fold(Logger::new("%r %s %Dms"), |l, p| l.exclude(*p))
}

/// `HEAD` is answered wherever `GET` is (API, pages, assets, the recorder bundle): the request
/// is routed as the `GET` it mirrors, and the HTTP layer, which saw `HEAD` on the request line,
/// sends the same status and headers (with the `Content-Length` of a sized body) and no body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// A documented path asked with a method it does not answer gets 405 `method_not_allowed` with
/// an `Allow` header, instead of the 404 that actix-web gives a route whose method does not
/// match (or the bare 405 of a resource with guards).
pub async fn method_not_allowed(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    if !matches!(
        res.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) {
        return Ok(res.map_into_left_body());
    }
    let method = res.request().method().as_str();
    let path = res.request().path();
    let allow = DOCUMENTED
        .iter()
        .find(|(def, _)| def.is_match(path))
        .map(|(_, allow)| allow.as_str())
        .filter(|allow| !allow.split(", ").any(|m| m == method));
    let Some(allow) = allow.and_then(|a| HeaderValue::from_str(a).ok()) else {
        return Ok(res.map_into_left_body());
    };
    let mut refused = actix_web::ResponseError::error_response(&Error::MethodNotAllowed);
    refused.headers_mut().insert(ALLOW, allow);
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, refused).map_into_right_body())
}

/// Counts every response by status class (WebSocket upgrades are 1xx).
pub async fn count_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await;
    let status = match &res {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    metrics::http_response(status.as_u16());
    res
}

/// The OpenAPI 3 description of the HTTP API, embedded from docs/openapi.json.
pub const OPENAPI: &str = include_str!("../docs/openapi.json");

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

async fn metrics_text() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics::render())
}

async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready while recordings are taken durably: the database answers, or it is unreachable and the
/// spool still has room (status `degraded`). A database that answers but fails the check (its
/// schema gone) is unready. The body always carries the spool's state.
async fn readyz(state: Data<AppState>, checking: Data<Checking>) -> HttpResponse {
    let bytes = metrics::SPOOL_BYTES.get().max(0) as u64;
    let max = state.cfg.spool_max_bytes;
    let accepting = bytes.saturating_add(state.cfg.flush_max_bytes as u64) <= max;
    let spool = json!({
        "bytes": bytes,
        "records": metrics::SPOOL_RECORDS.get().max(0),
        "max_bytes": max,
        "accepting": accepting,
    });
    match check_database(&state, &checking.0).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok", "spool": spool })),
        Err((reason, true)) if accepting => HttpResponse::Ok().json(json!({
            "status": "degraded",
            "reason": format!("{reason}; events go to the spool"),
            "spool": spool,
        })),
        Err((reason, _)) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "unavailable",
            "reason": reason,
            "spool": spool,
        })),
    }
}

/// `Err` carries a reason fit for clients (details go to the log), and whether the database is
/// out of reach (rather than answering with an error).
async fn check_database(
    state: &AppState,
    checking: &Arc<AtomicBool>,
) -> Result<(), (String, bool)> {
    if checking.swap(true, Ordering::AcqRel) {
        return Err((
            "database: the previous check has not answered yet".into(),
            true,
        ));
    }
    let done = Done(checking.clone());
    let ping = state.store.ping(READY_TIMEOUT, move || drop(done));
    match actix_web::rt::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            log::warn!("readiness: database check failed: {e}");
            Err((
                "database: not reachable (see the hub's log)".into(),
                e.is_unavailable(),
            ))
        }
        Err(_) => {
            log::warn!("readiness: the database did not answer within {READY_TIMEOUT:?}");
            Err((
                format!("database: no answer within {} s", READY_TIMEOUT.as_secs()),
                true,
            ))
        }
    }
}

/// Clears the `Checking` flag when dropped, wherever the check ends.
struct Done(Arc<AtomicBool>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
