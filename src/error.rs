//! The one error type of the hub, and the single place where each kind maps to an
//! HTTP status, a WebSocket close code and a stable machine-readable string.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use actix_web_actors::ws::{CloseCode, CloseReason};
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("session ids are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")]
    InvalidSessionId,
    #[error("session not found")]
    SessionNotFound,
    #[error("not found")]
    NotFound,
    #[error("this path does not answer this method; `Allow` lists those it does")]
    MethodNotAllowed,
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("frame of {size} bytes is over the limit of {limit} bytes")]
    FrameTooLarge { size: usize, limit: usize },
    #[error("another recorder is connected to this session")]
    RecorderConflict,
    #[error("the request or message did not arrive in full in time")]
    RequestTimeout,
    #[error("{0} is recording now; retry once it has ended")]
    StillRecording(String),
    #[error("a newer connection of this recorder took over the session")]
    RecorderReplaced,
    #[error("the hub is overloaded for this session; retry later")]
    Overloaded,
    #[error("the hub is shutting down")]
    ShuttingDown,
    #[error("this session is closing; reconnect in a moment")]
    SessionClosing,
    #[error("the database is unavailable and this cannot be answered from what the hub holds; retry once it is back")]
    Unavailable,
    #[error("this hub lost the cluster's bus (NATS); reconnect in a moment")]
    BusUnavailable,
    #[error("this viewer fell too far behind; reconnect to continue from the latest snapshot")]
    ViewerTooSlow,
    #[error("sign in first (a session cookie or an API token)")]
    Unauthorized,
    #[error("not allowed for this user")]
    Forbidden,
    #[error("unknown or missing project key (`?key=` of the recorder's script)")]
    InvalidKey,
    #[error("missing or wrong CSRF token; reload the page")]
    CsrfRejected,
    #[error("requests from this origin are not allowed")]
    OriginNotAllowed,
    #[error("too many requests; retry later")]
    RateLimited,
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The hub cannot start (a port in use, a database out of reach): said in one line.
    #[error("{0}")]
    Startup(String),
}

impl Error {
    /// Stable string sent to clients as `error`; never changes once published.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidSessionId => "invalid_session_id",
            Error::SessionNotFound => "session_not_found",
            Error::NotFound => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::InvalidFrame(_) => "invalid_frame",
            Error::InvalidQuery(_) => "invalid_query",
            Error::FrameTooLarge { .. } => "frame_too_large",
            Error::RecorderConflict => "recorder_conflict",
            Error::RequestTimeout => "request_timeout",
            Error::StillRecording(_) => "still_recording",
            Error::RecorderReplaced => "recorder_replaced",
            Error::Overloaded => "overloaded",
            Error::ShuttingDown => "shutting_down",
            Error::SessionClosing => "session_closing",
            Error::Unavailable => "unavailable",
            Error::BusUnavailable => "bus_unavailable",
            Error::ViewerTooSlow => "viewer_too_slow",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden => "forbidden",
            Error::InvalidKey => "invalid_key",
            Error::CsrfRejected => "csrf_rejected",
            Error::OriginNotAllowed => "origin_not_allowed",
            Error::RateLimited => "rate_limited",
            // An unreachable or busy database is a condition to retry, not a fault of the hub's.
            e @ (Error::Database(_) | Error::Pool(_)) if e.is_unavailable() => "unavailable",
            Error::Database(_)
            | Error::Pool(_)
            | Error::Migration(_)
            | Error::Internal(_)
            | Error::Startup(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidSessionId | Error::InvalidFrame(_) | Error::InvalidQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::SessionNotFound | Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::ViewerTooSlow | Error::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::FrameTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RecorderConflict | Error::StillRecording(_) => StatusCode::CONFLICT,
            Error::RecorderReplaced => StatusCode::GONE,
            Error::Unauthorized | Error::InvalidKey => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::CsrfRejected | Error::OriginNotAllowed => {
                StatusCode::FORBIDDEN
            }
            Error::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Error::Overloaded
            | Error::ShuttingDown
            | Error::SessionClosing
            | Error::Unavailable
            | Error::BusUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            e @ (Error::Database(_) | Error::Pool(_)) if e.is_unavailable() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Database(_)
            | Error::Pool(_)
            | Error::Migration(_)
            | Error::Internal(_)
            | Error::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// WebSocket close code: 4000 + the HTTP status, so one table serves both transports.
    pub fn close_code(&self) -> u16 {
        4000 + self.status().as_u16()
    }

    pub fn close_reason(&self) -> CloseReason {
        CloseReason {
            code: CloseCode::Other(self.close_code()),
            description: Some(self.code().to_owned()),
        }
    }

    /// One error of each kind a client can see, for the published table of close codes.
    pub fn published() -> Vec<Error> {
        vec![
            Error::InvalidSessionId,
            Error::SessionNotFound,
            Error::NotFound,
            Error::InvalidFrame(String::new()),
            Error::InvalidQuery(String::new()),
            Error::FrameTooLarge { size: 0, limit: 0 },
            Error::RecorderConflict,
            Error::StillRecording(String::new()),
            Error::RecorderReplaced,
            Error::RequestTimeout,
            Error::Overloaded,
            Error::ShuttingDown,
            Error::SessionClosing,
            Error::Unavailable,
            Error::BusUnavailable,
            Error::ViewerTooSlow,
            Error::Unauthorized,
            Error::Forbidden,
            Error::InvalidKey,
            Error::CsrfRejected,
            Error::OriginNotAllowed,
            Error::RateLimited,
            Error::Internal(String::new()),
        ]
    }

    /// The JSON body shared by HTTP errors and WebSocket error messages.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            kind: "error",
            error: self.code(),
            message: self.public_message(),
        }
    }

    /// Internal details stay in the log; clients get the category only.
    fn public_message(&self) -> String {
        match self.status() {
            StatusCode::INTERNAL_SERVER_ERROR => "internal server error".to_owned(),
            // The pool's or driver's words (hosts, roles) stay in the log.
            _ if self.is_unavailable() => Error::Unavailable.to_string(),
            _ => self.to_string(),
        }
    }

    /// Whether this is the database being unreachable or busy (worth retrying as it is, or
    /// answering from memory), rather than refusing a query or its data.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        match self {
            Error::Pool(_) => true,
            Error::Database(Diesel::DatabaseError(kind, info)) => {
                matches!(
                    kind,
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
                ) || ["locked", "busy", "connection"]
                    .iter()
                    .any(|w| info.message().contains(w))
            }
            Error::Database(Diesel::BrokenTransactionManager) => true,
            _ => false,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }
}

#[derive(Serialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub error: &'static str,
    pub message: String,
}

/// `Retry-After` of a `rate_limited` answer when the limit gives no better figure.
const RATE_LIMITED_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl Error {
    /// The error's response with `Retry-After`: when the same request may pass (whole seconds,
    /// rounded up, at least one).
    pub fn response_after(&self, retry_after: std::time::Duration) -> HttpResponse {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        HttpResponse::build(self.status())
            .insert_header((actix_web::http::header::RETRY_AFTER, secs.max(1)))
            .json(self.body())
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.status().is_server_error() {
            log::error!("{self}");
        }
        match self {
            Error::RateLimited => self.response_after(RATE_LIMITED_RETRY),
            _ => HttpResponse::build(self.status()).json(self.body()),
        }
    }
}

impl From<actix::MailboxError> for Error {
    /// A closed mailbox is a session actor that has just stopped: the client may retry.
    fn from(e: actix::MailboxError) -> Self {
        match e {
            actix::MailboxError::Closed => Error::SessionClosing,
            actix::MailboxError::Timeout => Error::Internal(format!("actor mailbox: {e}")),
        }
    }
}

impl From<actix_web::error::BlockingError> for Error {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Error::Internal(format!("blocking pool: {e}"))
    }
}
