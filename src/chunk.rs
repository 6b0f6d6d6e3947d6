//! The storage form of events: consecutive events of one session packed into one
//! zstd-compressed chunk (one per writer flush, later merged into chunks of a few hundred events
//! by the writer), so that replay reads few rows and storage stays small.
//!
//! Layout before compression, per event: seq u64, hub_time i64, ts i64, len u32 (all
//! little-endian), then `len` bytes of the event's JSON exactly as received.

use crate::{
    error::{Error, Result},
    event::Event,
};

const HEADER: usize = 8 + 8 + 8 + 4;
/// zstd level 3: most of the size gain of higher levels at a fraction of the CPU.
const LEVEL: i32 = 3;

/// A zstd context to reuse across chunks: creating one per chunk was 5 % of the hub's CPU.
pub fn compressor() -> Result<zstd::bulk::Compressor<'static>> {
    zstd::bulk::Compressor::new(LEVEL).map_err(Error::internal)
}

pub fn encode<'a>(
    zstd: &mut zstd::bulk::Compressor<'_>,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<(Vec<u8>, usize)> {
    let mut raw = Vec::new();
    for e in events {
        raw.extend_from_slice(&e.seq.to_le_bytes());
        raw.extend_from_slice(&e.hub_time.to_le_bytes());
        raw.extend_from_slice(&e.ts.to_le_bytes());
        let len = u32::try_from(e.json.len()).map_err(Error::internal)?;
        raw.extend_from_slice(&len.to_le_bytes());
        raw.extend_from_slice(e.json.as_bytes());
    }
    let packed = zstd.compress(&raw).map_err(Error::internal)?;
    Ok((packed, raw.len()))
}

pub fn decode(packed: &[u8], raw_len: usize) -> Result<Vec<Event>> {
    let raw = zstd::bulk::decompress(packed, raw_len).map_err(Error::internal)?;
    let mut out = Vec::new();
    let mut rest = raw.as_slice();
    while !rest.is_empty() {
        if rest.len() < HEADER {
            return Err(Error::internal("truncated chunk"));
        }
        let (head, tail) = rest.split_at(HEADER);
        let int = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&head[at..at + 8]);
            b
        };
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&head[24..28]);
        let len = u32::from_le_bytes(len_bytes) as usize;
        if tail.len() < len {
            return Err(Error::internal("truncated chunk"));
        }
        let (json, next) = tail.split_at(len);
        let json = std::str::from_utf8(json).map_err(Error::internal)?;
        out.push(Event {
            seq: u64::from_le_bytes(int(0)),
            hub_time: i64::from_le_bytes(int(8)),
            ts: i64::from_le_bytes(int(16)),
            kind: 0,
            json: json.into(),
        });
        rest = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field() {
        let events: Vec<Event> = (1..=3)
            .map(|i| Event {
                seq: i,
                hub_time: 1000 + i as i64,
                ts: 2000 + i as i64,
                kind: 3,
                json: format!("{{\"type\":3,\"timestamp\":{i},\"data\":\"é\"}}").into(),
            })
            .collect();
        let mut zstd = compressor().expect("zstd");
        let (packed, raw_len) = encode(&mut zstd, &events).expect("encode");
        let back = decode(&packed, raw_len).expect("decode");
        assert_eq!(back.len(), 3);
        for (a, b) in events.iter().zip(&back) {
            assert_eq!(
                (a.seq, a.hub_time, a.ts, &a.json),
                (b.seq, b.hub_time, b.ts, &b.json)
            );
        }
    }
}
