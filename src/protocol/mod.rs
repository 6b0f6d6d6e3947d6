//! The wire protocol, defined once on the hub's side: what clients send (`incoming`), what the
//! hub sends (`outgoing`, including the API's JSON view of a session), and the close codes. The
//! TypeScript side (`recorder-js/src/protocol.ts`) is generated from these types by a test, so
//! the two cannot drift. docs/PROTOCOL.md describes every message with examples.

pub mod heatmap;
pub mod incoming;
pub mod outgoing;
pub mod presence;
#[cfg(test)]
mod typescript;

pub use incoming::{parse_client_message, ClientMessage};
pub use outgoing::{
    events_frame, rfc3339, EventEnvelope, HubToFeed, HubToRecorder, HubToViewer, SessionInfo,
    SessionList, Viewport,
};

/// Close code of a normal end (the session ended, or the client closed).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code of a socket whose peer went silent past the heartbeat timeout.
pub const CLOSE_AWAY: u16 = 1001;
/// Close code of every socket when the hub stops (reason `shutting_down`): reconnect shortly.
pub const CLOSE_RESTART: u16 = 1012;

/// Closes a socket the way the hub does when it stops.
pub fn restart_reason() -> actix_web_actors::ws::CloseReason {
    actix_web_actors::ws::CloseReason {
        code: actix_web_actors::ws::CloseCode::from(CLOSE_RESTART),
        description: Some("shutting_down".into()),
    }
}
