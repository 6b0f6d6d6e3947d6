//! Any text a client can send on a socket or POST: parsed or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = streamdom::protocol::parse_client_message(text, 1_795_432_124_833);
    }
});
