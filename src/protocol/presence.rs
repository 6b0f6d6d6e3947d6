//! Recording on demand on the wire: what a page in standby sends on its presence socket
//! (`/ws/presence`), what the hub tells it (start recording under a session id, stop), and the
//! online list of `GET /api/online`.

use serde::{Deserialize, Serialize};

use super::Viewport;
use crate::error::{Error, Result};

/// Longest page URL a presence message may carry (longer ones are cut).
pub const MAX_URL_CHARS: usize = 2048;
/// Longest user agent kept.
pub const MAX_UA_CHARS: usize = 512;

/// What a standby page sends: where the visitor is, on connecting and on every page change of a
/// single-page app. The only kind of message a presence socket takes.
#[derive(Deserialize, Debug, PartialEq)]
#[cfg_attr(test, derive(Serialize, ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PresenceToHub {
    Presence {
        url: String,
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        viewport: Option<Viewport>,
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        user_agent: Option<String>,
    },
}

/// A presence message, read and bounded (URL and user agent cut to their limits).
pub fn parse_presence(text: &str) -> Result<(String, Option<Viewport>, Option<String>)> {
    let msg: PresenceToHub = serde_json::from_str(text)
        .map_err(|e| Error::InvalidFrame(format!("presence message: {e}")))?;
    let PresenceToHub::Presence {
        url,
        viewport,
        user_agent,
    } = msg;
    let cut = |s: String, n: usize| s.chars().take(n).collect::<String>();
    Ok((
        cut(url, MAX_URL_CHARS),
        viewport,
        user_agent.map(|u| cut(u, MAX_UA_CHARS)),
    ))
}

/// What the hub sends a page on its presence socket.
#[derive(Serialize, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubToPresence {
    /// A PM asked to watch: start recording now (full snapshot, then live) as this session, on
    /// the recorder socket as in `all` mode.
    Record { session_id: String },
    /// Stop recording (a PM clicked Stop, or nobody watched for the grace period).
    Stop,
}

/// A visitor online now, as `GET /api/online` lists them (and as hubs of a cluster tell each
/// other, see `presence::peers`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OnlineVisitor {
    /// Stable across the visitor's pages and visits (kept in the browser's localStorage).
    pub visitor_id: String,
    pub project: String,
    /// The page the visitor is on.
    pub url: String,
    pub viewport: Option<Viewport>,
    pub user_agent: Option<String>,
    /// From the user agent: browser, OS and `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    /// When this visit's first page connected (RFC 3339): time on site is now minus this.
    pub online_since: String,
    /// Whether a recording started on demand is running.
    pub recording: bool,
    /// While recording: the session to open at `/sessions/{session_id}?project={project}`.
    pub session_id: Option<String>,
    /// While recording: when it started (RFC 3339).
    pub started: Option<String>,
    /// While recording: how many viewers watch it now.
    pub viewers: usize,
}

/// `GET /api/online`.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OnlineList {
    pub visitors: Vec<OnlineVisitor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presence_message_is_read_and_bounded() {
        let long = "x".repeat(5000);
        let text = format!(
            r#"{{"type":"presence","url":"https://a.example/{long}","viewport":{{"width":800,"height":600}},"user_agent":"{long}"}}"#
        );
        let (url, vp, ua) = parse_presence(&text).expect("valid");
        assert_eq!(url.chars().count(), MAX_URL_CHARS);
        assert_eq!(vp.map(|v| v.width), Some(800));
        assert_eq!(ua.map(|u| u.len()), Some(MAX_UA_CHARS));
        assert!(parse_presence(r#"{"type":"presence","url":"/a"}"#).is_ok());
        for bad in [
            r#"{"type":"events","seq":1,"events":[]}"#,
            r#"{"type":"presence"}"#,
            "not json",
        ] {
            assert!(parse_presence(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hub_messages_are_tagged() {
        let record = HubToPresence::Record {
            session_id: "s1".into(),
        };
        assert_eq!(
            serde_json::to_string(&record).ok().as_deref(),
            Some(r#"{"type":"record","session_id":"s1"}"#)
        );
        assert_eq!(
            serde_json::to_string(&HubToPresence::Stop).ok().as_deref(),
            Some(r#"{"type":"stop"}"#)
        );
    }
}
