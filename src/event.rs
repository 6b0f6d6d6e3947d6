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

/// Deepest nesting of arrays and objects an event may have. rrweb nests two levels per DOM level
/// (a node and its `childNodes`), so this allows documents 500 elements deep, far past real
/// pages, while an event nested thousands deep (which would overflow a player's stack) is
/// refused.
pub const MAX_DEPTH: usize = 1000;

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

/// How deeply arrays and objects nest in a JSON text, counted outside strings; stops counting
/// once past `limit`.
fn nesting_depth(json: &str, limit: usize) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > limit {
                    return deepest;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Checks that `raw` is an rrweb event and numbers it.
pub fn parse_event(raw: &RawValue, seq: u64, hub_time: i64) -> Result<Event> {
    if nesting_depth(raw.get(), MAX_DEPTH) > MAX_DEPTH {
        return Err(Error::InvalidFrame(format!(
            "event {seq} nests deeper than {MAX_DEPTH} levels"
        )));
    }
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

/// Separates a project from a session id in the hub's internal session key. Session ids and
/// project names never contain it (see [`validate_session_id`]).
pub const KEY_SEPARATOR: char = ':';

/// The hub's internal key of a session: `<project>:<id>`, so that two projects can use the same
/// session id. Registry, sessions, writer and the `sessions`/`event_chunks` rows use it; the API
/// shows `id` and `project` apart.
pub fn session_key(project: &str, id: &str) -> String {
    format!("{project}{KEY_SEPARATOR}{id}")
}

/// `(project, id)` of an internal session key; a key without a project (never made by the hub)
/// is read as the session id alone.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once(KEY_SEPARATOR).unwrap_or(("", key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back_into_project_and_id() {
        let key = session_key("shop", "a-1");
        assert_eq!(key, "shop:a-1");
        assert_eq!(split_key(&key), ("shop", "a-1"));
        assert_eq!(split_key("bare"), ("", "bare"));
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert_eq!(nesting_depth(r#"{"a":[1,{"b":"[[[{{"}]}"#, 99), 3);
        assert_eq!(nesting_depth(r#"{"a":"\"[[["}"#, 99), 1);
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(
            nesting_depth(&deep, 10),
            11,
            "stops counting past the limit"
        );
    }

    #[test]
    fn session_ids_are_checked() {
        assert!(validate_session_id("abc-DEF_123").is_ok());
        assert!(validate_session_id("").is_err());
        assert!(validate_session_id("a/b").is_err());
        assert!(validate_session_id(&"x".repeat(65)).is_err());
    }
}
