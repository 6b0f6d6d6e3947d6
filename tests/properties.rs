//! Property tests over the three functions that take untrusted bytes, the same ones the
//! `cargo fuzz` targets in fuzz/ exercise for longer: the frame parser, the event validator
//! and the chunk decoder. Random and mutated inputs never panic; what is accepted is kept
//! byte for byte; a chunk decodes to exactly what was encoded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{json, value::RawValue, Value};
use streamdom::{
    chunk,
    event::{parse_event, Event},
    protocol::{parse_client_message, ClientMessage},
};

const HUB_TIME: i64 = 1_795_432_124_833;

/// Any JSON value, a few levels deep, with the keys rrweb frames and events use among others.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    let key = prop_oneof![
        Just("type".to_owned()),
        Just("timestamp".to_owned()),
        Just("seq".to_owned()),
        Just("events".to_owned()),
        Just("data".to_owned()),
        Just("id".to_owned()),
        "\\PC{0,6}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid events frame, as a recorder sends it.
fn valid_frame() -> impl Strategy<Value = String> {
    (
        1u64..1_000_000,
        prop::collection::vec((0u8..10, any::<i32>()), 0..5),
    )
        .prop_map(|(seq, events)| {
            let events: Vec<Value> = events
                .into_iter()
                .map(|(t, ts)| json!({"type": t, "timestamp": ts, "data": {"x": ts}}))
                .collect();
            json!({"type": "events", "seq": seq, "events": events}).to_string()
        })
}

/// Random edits of a string's bytes: replace, insert, delete, keeping whatever is UTF-8.
fn mutated(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        base,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(s, edits)| {
            let mut bytes = s.into_bytes();
            for (at, b, op) in edits {
                if bytes.is_empty() {
                    bytes.push(b);
                    continue;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = b,
                    1 => bytes.insert(i, b),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

fn event(seq: u64, json: String) -> Event {
    Event {
        seq,
        hub_time: HUB_TIME,
        ts: seq as i64,
        kind: 3,
        json: json.into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_frame_parser_never_panics_on_any_text(text in "\\PC{0,200}") {
        let _ = parse_client_message(&text, HUB_TIME);
    }

    #[test]
    fn the_frame_parser_never_panics_on_any_json(v in json_value()) {
        let _ = parse_client_message(&v.to_string(), HUB_TIME);
    }

    #[test]
    fn a_mutated_frame_is_parsed_or_refused_never_a_panic(text in mutated(valid_frame())) {
        if let Ok(ClientMessage::Events { first_seq, events }) = parse_client_message(&text, HUB_TIME) {
            // Accepted events are numbered from the frame's seq, one by one.
            for (i, e) in events.iter().enumerate() {
                prop_assert_eq!(e.seq, first_seq + i as u64);
            }
        }
    }

    #[test]
    fn a_valid_frame_is_accepted_with_its_events_byte_for_byte(text in valid_frame()) {
        let frame: Value = serde_json::from_str(&text).unwrap();
        let Ok(ClientMessage::Events { first_seq, events }) = parse_client_message(&text, HUB_TIME) else {
            panic!("refused: {text}");
        };
        prop_assert_eq!(first_seq, frame["seq"].as_u64().unwrap());
        let sent = frame["events"].as_array().unwrap();
        prop_assert_eq!(events.len(), sent.len());
        for (e, s) in events.iter().zip(sent) {
            prop_assert_eq!(&*e.json, s.to_string());
        }
    }

    #[test]
    fn the_event_validator_never_panics_and_keeps_what_it_accepts(v in json_value()) {
        let text = v.to_string();
        let raw: &RawValue = serde_json::from_str(&text).unwrap();
        if let Ok(e) = parse_event(raw, 9, HUB_TIME) {
            prop_assert_eq!(&*e.json, text.as_str());
            prop_assert!(v["type"].is_u64() && v["timestamp"].is_number());
        }
    }

    #[test]
    fn chunks_decode_to_exactly_what_was_encoded(
        events in prop::collection::vec((any::<u64>(), any::<i64>(), any::<i64>(), "\\PC{0,40}"), 0..20)
    ) {
        let events: Vec<Event> = events
            .into_iter()
            .map(|(seq, hub_time, ts, json)| Event { seq, hub_time, ts, kind: 2, json: json.into() })
            .collect();
        let mut zstd = chunk::compressor().unwrap();
        let (packed, raw_len) = chunk::encode(&mut zstd, &events).unwrap();
        let back = chunk::decode(&packed, raw_len).unwrap();
        prop_assert_eq!(back.len(), events.len());
        for (a, b) in events.iter().zip(&back) {
            prop_assert_eq!((a.seq, a.hub_time, a.ts, &a.json), (b.seq, b.hub_time, b.ts, &b.json));
        }
    }

    #[test]
    fn a_corrupted_chunk_is_refused_or_decoded_never_a_panic(
        n in 1usize..6,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        claimed in prop_oneof![Just(None), (0usize..1 << 16).prop_map(Some)],
    ) {
        let events: Vec<Event> = (1..=n as u64).map(|s| event(s, format!("{{\"type\":3,\"n\":{s}}}"))).collect();
        let mut zstd = chunk::compressor().unwrap();
        let (packed, raw_len) = chunk::encode(&mut zstd, &events).unwrap();
        // Corrupt the decompressed layout (lengths, UTF-8) as well as the compressed bytes.
        let mut raw = zstd::bulk::decompress(&packed, raw_len).unwrap();
        let mut bad_packed = packed.clone();
        for (at, b) in &flips {
            let i = at.index(raw.len());
            raw[i] ^= b | 1;
            let j = at.index(bad_packed.len());
            bad_packed[j] ^= b;
        }
        let repacked = zstd::bulk::compress(&raw, 1).unwrap();
        let _ = chunk::decode(&repacked, claimed.unwrap_or(raw.len()));
        let _ = chunk::decode(&bad_packed, claimed.unwrap_or(raw_len));
    }

    #[test]
    fn any_bytes_as_a_chunk_are_refused_or_decoded_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        claimed in 0usize..1 << 16,
    ) {
        let _ = chunk::decode(&bytes, claimed);
        if let Ok(packed) = zstd::bulk::compress(&bytes, 1) {
            let _ = chunk::decode(&packed, bytes.len());
        }
    }
}
