//! Any JSON value as an event: validated or refused, never a panic; an accepted event keeps its
//! bytes exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(raw) = serde_json::from_str::<&RawValue>(text) else {
        return;
    };
    if let Ok(event) = streamdom::event::parse_event(raw, 7, 1_795_432_124_833) {
        assert_eq!(&*event.json, raw.get());
        assert_eq!(event.seq, 7);
    }
});
