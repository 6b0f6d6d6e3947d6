//! What the hub sends: control messages as serde types (one enum per kind of peer), the API's
//! JSON view of a session, and the hot-path `events` frame, which is built by hand so that each
//! event's JSON is copied once; a test checks it against `HubToViewer::Events`.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::event::Event;

/// A session as the API and the dashboard show it.
/// Also read back by the hubs of a cluster, which pass each other's changes on (`cluster`).
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SessionInfo {
    /// The id the recorder chose, unique within its project.
    pub id: String,
    /// The project the session was recorded for (`?project=` where an id is ambiguous).
    pub project: String,
    pub active: bool,
    pub started_at: String,
    pub last_event_at: String,
    pub ended_at: Option<String>,
    pub duration_ms: i64,
    pub url: Option<String>,
    pub user_agent: Option<String>,
    pub event_count: i64,
    pub raw_bytes: i64,
    pub stored_bytes: i64,
    pub first_event_ts: Option<i64>,
    /// The latest `$identify`'s user id and traits (a JSON object).
    pub user_id: Option<String>,
    #[cfg_attr(test, ts(type = "Record<string, unknown> | null"))]
    pub traits: Option<serde_json::Value>,
    /// From the user agent: browser and OS names, and `desktop`, `mobile`, `tablet`, `bot` or
    /// `other`.
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub viewport: Option<Viewport>,
    /// Page visits: every Meta event and every `$pageview`.
    pub page_count: i64,
    /// Sum of the gaps under 5 s between user-input events.
    pub active_ms: i64,
    pub error_count: i64,
    pub click_count: i64,
    pub rage_click_count: i64,
    pub custom_event_count: i64,
    /// Distinct pages visited (`GET /api/sessions/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub pages: Option<Vec<String>>,
}

/// The last viewport size the recorder reported (Meta event or resize).
#[derive(Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Viewport {
    pub width: i64,
    pub height: i64,
}

/// A page of `GET /api/sessions`.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    /// True when the database could not be read: `sessions` holds only the active sessions
    /// this hub knows of.
    pub partial: bool,
}

/// Hub-clock milliseconds as the API shows times.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One event as viewers receive it: its seq, the hub's receive time and the rrweb event as
/// recorded.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EventEnvelope<'a> {
    pub seq: u64,
    pub hub_time: i64,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub event: &'a RawValue,
}

/// What the hub sends a recorder.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubToRecorder<'a> {
    Welcome {
        session_id: &'a str,
        received_seq: u64,
        durable_seq: u64,
        hub_time: i64,
        // Presented on reconnecting (`?resume=`), it takes the session's slot over at once.
        resume_token: &'a str,
    },
    Ack {
        durable_seq: u64,
    },
    /// A gap in the seqs stayed open: send every event again from `from_seq`.
    Resend {
        from_seq: u64,
    },
    Pong {
        #[cfg_attr(test, ts(type = "unknown"))]
        id: &'a RawValue,
        client_time: f64,
        hub_time: i64,
    },
    Error {
        error: &'a str,
        message: String,
    },
}

/// What the hub sends a viewer.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubToViewer<'a> {
    Session {
        session: &'a SessionInfo,
        start_seq: u64,
    },
    /// Built by [`events_frame`] on the hot path; listed here for the protocol's definition.
    Events {
        events: Vec<EventEnvelope<'a>>,
    },
    Live,
    End,
    Clock {
        recorder_offset: f64,
        recorder_rtt: f64,
    },
    Pong {
        #[cfg_attr(test, ts(type = "unknown"))]
        id: &'a RawValue,
        client_time: f64,
        hub_time: i64,
    },
    Error {
        error: &'a str,
        message: String,
    },
}

/// What the hub sends a dashboard watching the session list.
#[derive(Serialize, Debug)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubToFeed<'a> {
    Session { session: &'a SessionInfo },
}

/// Serializes a message; the types above cannot fail to serialize, but a socket must never
/// panic, so a failure yields an empty string, which no client takes for a message.
pub fn to_text<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg).unwrap_or_default()
}

/// Appends `{"seq":…,"hub_time":…,"event":…}`, an [`EventEnvelope`], to `out`.
pub fn write_envelope(e: &Event, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "{{\"seq\":{},\"hub_time\":{},\"event\":{}}}",
        e.seq, e.hub_time, e.json
    );
}

/// Builds one `{"type":"events","events":[…]}` text frame for viewers: `HubToViewer::Events`.
pub fn events_frame<'a>(events: impl IntoIterator<Item = &'a Event>) -> String {
    let mut out = String::from("{\"type\":\"events\",\"events\":[");
    for (i, e) in events.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_envelope(e, &mut out);
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_built_events_frame_is_the_typed_message() {
        let events: Vec<Event> = [
            r#"{"type":3,"timestamp":5,"data":{"a":"é"}}"#,
            r#"{"type":2,"timestamp":6}"#,
        ]
        .iter()
        .enumerate()
        .map(|(i, json)| Event {
            seq: 10 + i as u64,
            hub_time: 1_000 + i as i64,
            ts: 5,
            kind: 3,
            json: (*json).into(),
        })
        .collect();
        let raws: Vec<Box<RawValue>> = events
            .iter()
            .map(|e| RawValue::from_string(e.json.to_string()).expect("raw"))
            .collect();
        let typed = HubToViewer::Events {
            events: events
                .iter()
                .zip(&raws)
                .map(|(e, raw)| EventEnvelope {
                    seq: e.seq,
                    hub_time: e.hub_time,
                    event: raw,
                })
                .collect(),
        };
        assert_eq!(events_frame(&events), to_text(&typed));
    }

    #[test]
    fn error_bodies_are_the_protocol_error_message() {
        let err = crate::error::Error::ViewerTooSlow;
        let body = serde_json::to_value(err.body()).expect("json");
        let typed = serde_json::to_value(HubToViewer::Error {
            error: err.code(),
            message: err.to_string(),
        })
        .expect("json");
        assert_eq!(body, typed);
    }
}
