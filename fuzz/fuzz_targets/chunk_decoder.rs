//! Any stored chunk, corrupted or not: decoded or refused, never a panic or an allocation past
//! the length the row claims. The first 4 bytes are that length; the rest is the packed chunk,
//! either as given or compressed first (so that the decoder's own parsing is reached too).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Rows claim at most this much in the fuzzer: the decoder allocates what the row says.
const MAX_RAW: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let raw_len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize % MAX_RAW;
    let (mode, body) = (data[4], &data[5..]);
    if mode % 2 == 0 {
        let _ = streamdom::chunk::decode(body, raw_len);
    } else if let Ok(packed) = zstd::bulk::compress(body, 1) {
        if let Ok(events) = streamdom::chunk::decode(&packed, body.len()) {
            // What decodes re-encodes to the same layout.
            let mut zstd = streamdom::chunk::compressor().expect("zstd");
            let (again, len) = streamdom::chunk::encode(&mut zstd, &events).expect("encode");
            assert_eq!(len, body.len());
            assert_eq!(
                zstd::bulk::decompress(&again, len).expect("round trip"),
                body
            );
        }
    }
});
