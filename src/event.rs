//! rrweb events as the hub sees them: the accepted event, its validation, session ids and the
//! hub's clock. How events travel on the wire is in `protocol`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// rrweb's `EventType.Meta`: the start of a page's recording, followed by its full snapshot.
pub const META: u8 = 4;

/// Largest sequence number: JavaScript's largest exact integer, well inside the database's i64.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Longest session id.
pub const MAX_SESSION_ID_LEN: usize = 64;

/// Page URLs longer than this are cut; they are shown in lists and pushed to every dashboard.
const MAX_URL_CHARS: usize = 2048;

/// One accepted event. `json` is the event exactly as the recorder sent it.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    /// Hub clock (ms since the epoch) when the event was received.
    pub hub_time: i64,
    /// The event's own `timestamp` (visitor's clock, ms).
    pub ts: i64,
    pub kind: u8,
    pub json: Box<str>,
}

pub type SharedEvent = Arc<Event>;

impl Event {
    /// Bytes this event holds in memory, for buffer accounting.
    pub fn size(&self) -> usize {
        self.json.len() + std::mem::size_of::<Event>()
    }

    /// The `href` of a Meta event, which is the page URL.
    pub fn meta_href(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Meta {
            data: MetaData,
        }
        #[derive(Deserialize)]
        struct MetaData {
            href: String,
        }
        if self.kind != META {
            return None;
        }
        // NUL is refused by PostgreSQL text columns; the URL is shown, not replayed.
        serde_json::from_str::<Meta>(&self.json).ok().map(|m| {
            m.data
                .href
                .chars()
                .filter(|c| *c != '\0')
                .take(MAX_URL_CHARS)
                .collect()
        })
    }
}

/// The two fields that make a JSON object an rrweb event.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "type")]
    kind: u8,
    timestamp: f64,
}

/// Checks that `raw` is an rrweb event and numbers it.
pub fn parse_event(raw: &RawValue, seq: u64, hub_time: i64) -> Result<Event> {
    let probe: Probe = serde_json::from_str(raw.get()).map_err(|_| {
        Error::InvalidFrame(format!(
            "event {seq} is not an rrweb event (needs numeric `type` and `timestamp`)"
        ))
    })?;
    if !probe.timestamp.is_finite() {
        return Err(Error::InvalidFrame(format!(
            "event {seq} has no valid timestamp"
        )));
    }
    Ok(Event {
        seq,
        hub_time,
        ts: probe.timestamp as i64,
        kind: probe.kind,
        json: raw.get().into(),
    })
}

/// Milliseconds since the Unix epoch on the hub's clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Session ids are chosen by recorders, so they are checked before they touch anything.
pub fn validate_session_id(id: &str) -> Result<()> {
    let ok = (1..=MAX_SESSION_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSessionId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_checked() {
        assert!(validate_session_id("abc-DEF_123").is_ok());
        assert!(validate_session_id("").is_err());
        assert!(validate_session_id("a/b").is_err());
        assert!(validate_session_id(&"x".repeat(65)).is_err());
    }
}
