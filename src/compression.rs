//! Compressed frames: a binary WebSocket frame is one encoding byte followed by the compressed
//! JSON text of an ordinary message (docs/PROTOCOL.md, "Compressed frames"). Recorders send them,
//! viewers that ask (`?enc=deflate-raw`) receive large ones. Inflating is bounded by the frame
//! limit *while* it runs, so a small frame that inflates to gigabytes (a decompression bomb) is
//! refused with `frame_too_large` before more than the limit is ever allocated.

use std::io::{Read, Write};

use flate2::{
    read::{DeflateDecoder, GzDecoder, ZlibDecoder},
    write::DeflateEncoder,
    Compression,
};

use crate::error::{Error, Result};

/// The first byte of a compressed frame: how the rest is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Raw DEFLATE (RFC 1951): `CompressionStream("deflate-raw")`.
    DeflateRaw = 1,
    /// gzip (RFC 1952): `CompressionStream("gzip")`, for browsers without `deflate-raw`.
    Gzip = 2,
    /// zlib (RFC 1950): HTTP's `Content-Encoding: deflate` on the POST fallback only.
    Zlib = 3,
}

impl Encoding {
    fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(Encoding::DeflateRaw),
            2 => Some(Encoding::Gzip),
            _ => None,
        }
    }

    /// The encoding of an HTTP body from its `Content-Encoding` (`None`: not compressed).
    pub fn from_content_encoding(value: &str) -> Result<Option<Self>> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(None),
            "gzip" | "x-gzip" => Ok(Some(Encoding::Gzip)),
            "deflate" => Ok(Some(Encoding::Zlib)),
            other => Err(Error::InvalidFrame(format!(
                "unsupported Content-Encoding `{other}` (gzip or deflate)"
            ))),
        }
    }
}

/// Frames whose text is shorter than this go to viewers uncompressed: deflating a few hundred
/// bytes saves less than it costs the viewer, whose inflating is asynchronous in the browser.
pub const VIEWER_MIN_BYTES: usize = 16 * 1024;

/// Inflates a binary socket frame (tag byte + body) into the text it carries.
pub fn inflate_frame(frame: &[u8], limit: usize) -> Result<String> {
    let (&tag, body) = frame
        .split_first()
        .ok_or_else(|| Error::InvalidFrame("empty binary frame".into()))?;
    let encoding = Encoding::from_tag(tag).ok_or_else(|| {
        Error::InvalidFrame(format!(
            "binary frames start with 1 (deflate-raw) or 2 (gzip), not {tag}"
        ))
    })?;
    inflate(encoding, body, limit)
}

/// Inflates `body`, failing with `frame_too_large` as soon as the output would pass `limit`.
pub fn inflate(encoding: Encoding, body: &[u8], limit: usize) -> Result<String> {
    match encoding {
        Encoding::DeflateRaw => bounded(DeflateDecoder::new(body), limit),
        Encoding::Gzip => bounded(GzDecoder::new(body), limit),
        Encoding::Zlib => bounded(ZlibDecoder::new(body), limit),
    }
}

/// Reads a decoder to its end in 64 KiB steps. The buffer's capacity never passes `limit`
/// (growth is capped there by hand, not left to `Vec`'s doubling).
fn bounded(mut decoder: impl Read, limit: usize) -> Result<String> {
    let mut out: Vec<u8> = Vec::new();
    let mut step = [0u8; 64 * 1024];
    loop {
        let n = match decoder.read(&mut step) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::InvalidFrame(format!(
                    "compressed frame does not inflate: {e}"
                )))
            }
        };
        let size = out.len() + n;
        if size > limit {
            return Err(Error::FrameTooLarge { size, limit });
        }
        if out.capacity() < size {
            let target = (out.capacity() * 2).clamp(size, limit);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(&step[..n]);
    }
    String::from_utf8(out).map_err(|_| Error::InvalidFrame("text is not UTF-8".into()))
}

/// A binary frame for a viewer: tag 1 and the text deflated. Level 1: most of the ratio of the
/// default level on rrweb JSON at several times its speed (docs/PERFORMANCE.md), and it runs on
/// the viewer's socket thread.
pub fn deflate_frame(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 6 + 64);
    out.push(Encoding::DeflateRaw as u8);
    let mut encoder = DeflateEncoder::new(out, Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;

    fn gzip_frame(text: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(vec![Encoding::Gzip as u8], Compression::default());
        enc.write_all(text).unwrap_or_default();
        enc.finish().unwrap_or_default()
    }

    #[test]
    fn both_encodings_round_trip_byte_for_byte() {
        let text =
            r#"{"type":"events","seq":1,"events":[{"type":3,"timestamp":1,"data":{"é":"x"}}]}"#;
        assert_eq!(
            inflate_frame(&deflate_frame(text), 1 << 20).ok().as_deref(),
            Some(text)
        );
        let gz = gzip_frame(text.as_bytes());
        assert_eq!(inflate_frame(&gz, 1 << 20).ok().as_deref(), Some(text));
    }

    #[test]
    fn a_bomb_is_refused_at_the_limit() {
        // 64 MiB of one byte deflates to about 64 KiB.
        let mut enc = DeflateEncoder::new(vec![Encoding::DeflateRaw as u8], Compression::best());
        enc.write_all(&vec![b'a'; 64 << 20]).unwrap_or_default();
        let bomb = enc.finish().unwrap_or_default();
        assert!(bomb.len() < 128 * 1024, "{}", bomb.len());
        match inflate_frame(&bomb, 1 << 20) {
            Err(Error::FrameTooLarge { size, limit }) => {
                assert_eq!(limit, 1 << 20);
                assert!(size > limit && size <= limit + 64 * 1024);
            }
            other => panic!("expected frame_too_large, got {other:?}"),
        }
        // Exactly at the limit is fine.
        let exact = deflate_frame(&"b".repeat(1000));
        assert!(inflate_frame(&exact, 1000).is_ok());
        assert!(matches!(
            inflate_frame(&exact, 999),
            Err(Error::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn bad_frames_are_invalid_not_too_large() {
        for frame in [&[][..], &[9, 1, 2][..], &[1, 0xff, 0xff, 0xff][..]] {
            assert!(
                matches!(inflate_frame(frame, 1 << 20), Err(Error::InvalidFrame(_))),
                "{frame:?}"
            );
        }
        let mut latin1 = gzip_frame(b"caf\xe9");
        assert!(matches!(
            inflate_frame(&latin1, 10),
            Err(Error::InvalidFrame(_))
        ));
        // A truncated stream is refused too, not taken as the text so far.
        latin1 = gzip_frame(b"cafe");
        latin1.truncate(latin1.len() - 6);
        assert!(matches!(
            inflate_frame(&latin1, 10),
            Err(Error::InvalidFrame(_))
        ));
    }

    #[test]
    fn content_encodings() {
        assert_eq!(Encoding::from_content_encoding("identity").ok(), Some(None));
        assert_eq!(
            Encoding::from_content_encoding(" GZIP").ok(),
            Some(Some(Encoding::Gzip))
        );
        assert_eq!(
            Encoding::from_content_encoding("deflate").ok(),
            Some(Some(Encoding::Zlib))
        );
        assert!(Encoding::from_content_encoding("br").is_err());
    }
}
