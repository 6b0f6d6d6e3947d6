//! What recorders and viewers send: one parser for every socket and for the POST fallback.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{
    error::{Error, Result},
    event::{parse_event, Event, MAX_SEQ},
};

/// A client message, parsed and validated.
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

/// The frame as read, before validation. Not a tagged enum: serde cannot borrow `RawValue`s
/// through one, and events are kept byte for byte without a copy.
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

/// The shapes clients send, as types: the source of the TypeScript `RecorderToHub` and
/// `ViewerToHub` unions. A test feeds a sample of each through [`parse_client_message`], so a
/// shape the parser does not take cannot be published.
#[cfg(test)]
pub mod shapes {
    use serde::Serialize;

    #[derive(Serialize, ts_rs::TS)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum RecorderToHub {
        Events {
            seq: u64,
            #[ts(type = "Array<unknown>")]
            events: Vec<serde_json::Value>,
        },
        Ping {
            #[ts(type = "unknown")]
            id: serde_json::Value,
            client_time: f64,
        },
        Clock {
            offset: f64,
            rtt: f64,
        },
    }

    #[derive(Serialize, ts_rs::TS)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum ViewerToHub {
        Ping {
            #[ts(type = "unknown")]
            id: serde_json::Value,
            client_time: f64,
        },
        Ack {
            seq: u64,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{shapes::*, *};
    use serde_json::json;

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
    fn every_published_client_shape_parses() {
        let samples = [
            serde_json::to_string(&RecorderToHub::Events {
                seq: 1,
                events: vec![json!({"type": 3, "timestamp": 5})],
            }),
            serde_json::to_string(&RecorderToHub::Ping {
                id: json!(7),
                client_time: 1.5,
            }),
            serde_json::to_string(&RecorderToHub::Clock {
                offset: -3.5,
                rtt: 2.0,
            }),
            serde_json::to_string(&ViewerToHub::Ping {
                id: json!("x"),
                client_time: 1.0,
            }),
            serde_json::to_string(&ViewerToHub::Ack { seq: 9 }),
        ];
        for sample in samples {
            let text = sample.expect("serializes");
            assert!(parse_client_message(&text, 0).is_ok(), "{text} must parse");
        }
    }
}
