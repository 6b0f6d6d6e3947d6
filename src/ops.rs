//! Operations endpoints and HTTP basics: liveness (`/livez`), readiness (`/readyz`, and
//! `/healthz` as its alias), Prometheus `/metrics` (counted in `metrics`), `HEAD` wherever `GET`
//! is served, the access log, and the listening socket (bound first, so that a port in use is
//! one clear line). Liveness says only that the process answers; readiness asks the database through
//! the pool, on the blocking pool and within `READY_TIMEOUT`, so a database that hangs makes
//! the hub unready without ever blocking the runtime.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
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
        .route("/metrics", web::get().to(metrics_text));
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

async fn metrics_text() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics::render())
}

async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: Data<AppState>, checking: Data<Checking>) -> HttpResponse {
    match check_database(&state, &checking.0).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(reason) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "unavailable",
            "reason": reason,
        })),
    }
}

/// `Err` carries a reason fit for clients; details go to the log.
async fn check_database(state: &AppState, checking: &Arc<AtomicBool>) -> Result<(), String> {
    if checking.swap(true, Ordering::AcqRel) {
        return Err("database: the previous check has not answered yet".into());
    }
    let done = Done(checking.clone());
    let ping = state.store.ping(READY_TIMEOUT, move || drop(done));
    match actix_web::rt::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            log::warn!("readiness: database check failed: {e}");
            Err("database: not reachable (see the hub's log)".into())
        }
        Err(_) => {
            log::warn!("readiness: the database did not answer within {READY_TIMEOUT:?}");
            Err(format!(
                "database: no answer within {} s",
                READY_TIMEOUT.as_secs()
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
