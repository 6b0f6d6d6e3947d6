//! rrweb events as the hub sees them, and the parsing and validation of client frames.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// rrweb's `EventType.Meta`: the start of a page's recording, followed by its full snapshot.
pub const META: u8 = 4;

/// Largest sequence number: JavaScript's largest exact integer, well inside the database's i64.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

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

    /// Appends `{"seq":…,"hub_time":…,"event":…}` — the viewer wire form — to `out`.
    pub fn write_envelope(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "{{\"seq\":{},\"hub_time\":{},\"event\":{}}}",
            self.seq, self.hub_time, self.json
        );
    }
}

/// Builds one `{"type":"events","events":[…]}` text frame for viewers.
pub fn events_frame<'a>(events: impl IntoIterator<Item = &'a Event>) -> String {
    let mut out = String::from("{\"type\":\"events\",\"events\":[");
    for (i, e) in events.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        e.write_envelope(&mut out);
    }
    out.push_str("]}");
    out
}

/// What a recorder or viewer may send.
#[derive(Debug)]
pub enum ClientMessage {
    Events {
        first_seq: u64,
        events: Vec<Event>,
    },
    Ping {
        id: Box<RawValue>,
        client_time: f64,
    },
    /// A viewer has received every event up to `seq` (flow control).
    Ack {
        seq: u64,
    },
    /// A recorder's estimate of its clock's offset from the hub's (hub − visitor), in ms.
    Clock {
        offset: f64,
        rtt: f64,
    },
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(rename = "type")]
    kind: String,
    seq: Option<u64>,
    #[serde(borrow)]
    events: Option<Vec<&'a RawValue>>,
    id: Option<Box<RawValue>>,
    client_time: Option<f64>,
    offset: Option<f64>,
    rtt: Option<f64>,
}

/// The two fields that make a JSON object an rrweb event.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "type")]
    kind: u8,
    timestamp: f64,
}

/// Parses a frame; a batch is accepted whole or not at all.
pub fn parse_client_message(text: &str, hub_time: i64) -> Result<ClientMessage> {
    let frame: RawFrame<'_> =
        serde_json::from_str(text).map_err(|e| Error::InvalidFrame(format!("not JSON: {e}")))?;
    match frame.kind.as_str() {
        "events" => {
            let first_seq = frame
                .seq
                .filter(|s| (1..=MAX_SEQ).contains(s))
                .ok_or_else(|| {
                    Error::InvalidFrame(format!("`seq` must be an integer from 1 to {MAX_SEQ}"))
                })?;
            let raw = frame
                .events
                .ok_or_else(|| Error::InvalidFrame("`events` must be an array".into()))?;
            if first_seq + raw.len() as u64 > MAX_SEQ {
                return Err(Error::InvalidFrame(format!("seqs go past {MAX_SEQ}")));
            }
            let events = raw
                .into_iter()
                .enumerate()
                .map(|(i, raw)| parse_event(raw, first_seq + i as u64, hub_time))
                .collect::<Result<Vec<_>>>()?;
            Ok(ClientMessage::Events { first_seq, events })
        }
        "ping" => Ok(ClientMessage::Ping {
            id: frame
                .id
                .ok_or_else(|| Error::InvalidFrame("ping needs an `id`".into()))?,
            client_time: frame.client_time.unwrap_or(0.0),
        }),
        "ack" => Ok(ClientMessage::Ack {
            seq: frame
                .seq
                .ok_or_else(|| Error::InvalidFrame("ack needs a `seq`".into()))?,
        }),
        "clock" => match (frame.offset, frame.rtt) {
            (Some(offset), Some(rtt)) if offset.is_finite() && rtt.is_finite() && rtt >= 0.0 => {
                Ok(ClientMessage::Clock { offset, rtt })
            }
            _ => Err(Error::InvalidFrame(
                "clock needs numeric `offset` and `rtt` ≥ 0".into(),
            )),
        },
        other => Err(Error::InvalidFrame(format!(
            "unknown message type {:?}",
            other.chars().take(32).collect::<String>()
        ))),
    }
}

fn parse_event(raw: &RawValue, seq: u64, hub_time: i64) -> Result<Event> {
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

/// `{"type":"pong",…}`: the hub's clock for NTP-style offset estimation.
pub fn pong_frame(id: &RawValue, client_time: f64, hub_time: i64) -> String {
    format!(
        "{{\"type\":\"pong\",\"id\":{},\"client_time\":{},\"hub_time\":{}}}",
        id.get(),
        client_time,
        hub_time
    )
}

/// Milliseconds since the Unix epoch on the hub's clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Session ids are chosen by recorders, so they are checked before they touch anything.
pub fn validate_session_id(id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
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
    fn batch_with_one_bad_event_is_rejected_whole() {
        let text = r#"{"type":"events","seq":3,"events":[{"type":4,"timestamp":1},{"x":1}]}"#;
        let err = parse_client_message(text, 0).err().map(|e| e.code());
        assert_eq!(err, Some("invalid_frame"));
    }

    #[test]
    fn events_keep_their_exact_text_and_consecutive_seqs() {
        let text = r#"{"type":"events","seq":7,"events":[{"type":3, "timestamp":5,"data":{}},{"timestamp":6,"type":2}]}"#;
        match parse_client_message(text, 99) {
            Ok(ClientMessage::Events { first_seq, events }) => {
                assert_eq!(first_seq, 7);
                assert_eq!(events[0].seq, 7);
                assert_eq!(events[1].seq, 8);
                assert_eq!(&*events[0].json, r#"{"type":3, "timestamp":5,"data":{}}"#);
                assert_eq!(events[1].ts, 6);
                assert_eq!(events[1].hub_time, 99);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn session_ids_are_checked() {
        assert!(validate_session_id("abc-DEF_123").is_ok());
        assert!(validate_session_id("").is_err());
        assert!(validate_session_id("a/b").is_err());
        assert!(validate_session_id(&"x".repeat(65)).is_err());
    }
}
