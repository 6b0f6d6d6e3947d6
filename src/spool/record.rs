//! One spool record and its bytes. A record is what one flush holds for one session: the
//! session's opening (when its row could not be created), its page URL and first timestamp
//! (set once), and its events in order. On disk each record is framed as
//! `[payload length: u32 LE][CRC-32 of the payload: u32 LE][payload]`, so that a torn write or
//! a flipped bit is found when the spool is read back. Since format 2 a record also holds what
//! the session derived up to its last event (`crate::summary`), as JSON.

use crate::{
    db::sessions::NewSession,
    error::{Error, Result},
    event::{Event, SharedEvent},
    summary::SummaryWrite,
};

/// Format of the payload, its first byte: a spool written by an unknown format is refused.
/// Format 1 (no summary) is still read: a hub upgraded during an outage drains its old spool.
const VERSION: u8 = 2;
const VERSION_WITHOUT_SUMMARY: u8 = 1;
/// Bytes before each payload: its length and its checksum.
pub const HEADER: usize = 8;
/// The largest payload read back: far above a flush (`--flush-max-bytes`), so a length beyond
/// it is damage, not data.
pub const MAX_PAYLOAD: usize = 1 << 30;

/// A record read back from the spool.
#[derive(Debug, Clone)]
pub struct Record {
    pub session_id: String,
    pub opened: Option<NewSession>,
    pub url: Option<String>,
    pub first_event_ts: Option<i64>,
    pub events: Vec<Event>,
    pub summary: Option<SummaryWrite>,
}

/// A record to append, borrowed from the writer's batch.
pub struct RecordRef<'a> {
    pub session_id: &'a str,
    pub opened: Option<&'a NewSession>,
    pub url: Option<&'a str>,
    pub first_event_ts: Option<i64>,
    pub events: &'a [SharedEvent],
    pub summary: Option<&'a SummaryWrite>,
}

/// Appends the framed record to `out`.
pub fn frame(out: &mut Vec<u8>, r: &RecordRef<'_>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    out.push(VERSION);
    put_str(out, r.session_id);
    match r.opened {
        Some(o) => {
            out.push(1);
            out.extend_from_slice(&o.started_at.to_le_bytes());
            put_opt_str(out, o.user_agent.as_deref());
        }
        None => out.push(0),
    }
    put_opt_str(out, r.url);
    match r.first_event_ts {
        Some(ts) => {
            out.push(1);
            out.extend_from_slice(&ts.to_le_bytes());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&(r.events.len() as u32).to_le_bytes());
    for e in r.events {
        out.extend_from_slice(&e.seq.to_le_bytes());
        out.extend_from_slice(&e.hub_time.to_le_bytes());
        out.extend_from_slice(&e.ts.to_le_bytes());
        out.push(e.kind);
        put_str(out, &e.json);
    }
    // Plain data (strings and integers): serializing it cannot fail.
    let summary = r.summary.and_then(|s| serde_json::to_string(s).ok());
    put_opt_str(out, summary.as_deref());
    let len = (out.len() - start - HEADER) as u32;
    let crc = crc32fast::hash(&out[start + HEADER..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + HEADER].copy_from_slice(&crc.to_le_bytes());
}

/// What is found at an offset of a segment.
#[derive(Debug, PartialEq)]
pub enum Framed<'a> {
    /// A whole record whose checksum holds: its payload and the bytes it takes with its header.
    Whole(&'a [u8], usize),
    /// Nothing left.
    End,
    /// A header or payload cut short by the end of the data.
    Cut,
    /// A whole frame whose checksum or length is wrong.
    Damaged,
}

/// The frame at the start of `data`.
pub fn unframe(data: &[u8]) -> Framed<'_> {
    if data.is_empty() {
        return Framed::End;
    }
    let Some(header) = data.get(..HEADER) else {
        return Framed::Cut;
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_PAYLOAD {
        return Framed::Damaged;
    }
    let Some(payload) = data.get(HEADER..HEADER + len) else {
        return Framed::Cut;
    };
    if crc32fast::hash(payload) != crc {
        return Framed::Damaged;
    }
    Framed::Whole(payload, HEADER + len)
}

/// Decodes a payload whose checksum held.
pub fn decode(payload: &[u8]) -> Result<Record> {
    let mut r = Reader(payload);
    let version = r.u8()?;
    if version != VERSION && version != VERSION_WITHOUT_SUMMARY {
        return Err(Error::internal("spool record of an unknown format"));
    }
    let session_id = r.str()?;
    let opened = match r.u8()? {
        0 => None,
        _ => Some(NewSession {
            started_at: r.i64()?,
            user_agent: r.opt_str()?,
        }),
    };
    let url = r.opt_str()?;
    let first_event_ts = match r.u8()? {
        0 => None,
        _ => Some(r.i64()?),
    };
    let n = r.u32()? as usize;
    let mut events = Vec::with_capacity(n.min(payload.len() / 29));
    for _ in 0..n {
        events.push(Event {
            seq: r.i64()? as u64,
            hub_time: r.i64()?,
            ts: r.i64()?,
            kind: r.u8()?,
            json: r.str()?.into_boxed_str(),
        });
    }
    let summary = match version {
        VERSION => r
            .opt_str()?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|_| Error::internal("spool record with a bad summary"))?,
        _ => None,
    };
    if !r.0.is_empty() {
        return Err(Error::internal("spool record with trailing bytes"));
    }
    Ok(Record {
        session_id,
        opened,
        url,
        first_event_ts,
        events,
        summary,
    })
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.0.len() < n {
            return Err(Error::internal("spool record cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(a))
    }

    fn str(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        let bytes = self.take(n)?.to_vec();
        String::from_utf8(bytes).map_err(|_| Error::internal("spool record with bad UTF-8"))
    }

    fn opt_str(&mut self) -> Result<Option<String>> {
        match self.u8()? {
            0 => Ok(None),
            _ => Ok(Some(self.str()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn sample() -> (Vec<SharedEvent>, NewSession) {
        let events = (1..=3)
            .map(|seq| {
                Arc::new(Event {
                    seq,
                    hub_time: 1_700_000_000_000 + seq as i64,
                    ts: -5,
                    kind: 3,
                    json: format!(r#"{{"type":3,"n":"é{seq}"}}"#).into(),
                })
            })
            .collect();
        let opened = NewSession {
            started_at: 42,
            user_agent: Some("Firefox".into()),
        };
        (events, opened)
    }

    /// Every part of a heatmap write, so that a field that cannot take the trip fails here.
    fn heat_sample() -> crate::heatmap::HeatWrite {
        use crate::heatmap::{HeatDelta, HeatKey, HeatWrite, Kind, SnapshotRef};
        let key = HeatKey {
            project: "default".into(),
            path: "/cart".into(),
            bucket: "tablet",
            day: 20_417,
            kind: Kind::Dead,
            selector: "body>div:nth-of-type(2)>button".into(),
            gx: 3,
            gy: 7,
        };
        let delta = HeatDelta {
            count: 2,
            px: 400,
            py: 900,
        };
        HeatWrite {
            deltas: vec![(key, delta)],
            snapshot: Some(SnapshotRef {
                project: "default".into(),
                path: "/cart".into(),
                bucket: "mobile",
                meta_seq: 1,
                full_seq: 2,
                width: 390,
                height: 844,
                taken_at: 1_700_000_000_000,
            }),
        }
    }

    #[test]
    fn a_record_round_trips() {
        let (events, opened) = sample();
        let summary = SummaryWrite {
            derived: crate::summary::Derived {
                user_id: Some("user-é".into()),
                traits: Some(r#"{"plan":"pro"}"#.into()),
                viewport_width: Some(1280),
                page_count: 2,
                duration_ms: 9_000,
                rage_click_count: 1,
                ..Default::default()
            },
            new_pages: vec!["https://shop.example/cart".into()],
            new_events: vec!["checkout".into()],
            heat: heat_sample(),
            rage_pages: vec![Some("https://shop.example/cart".into()), None],
        };
        let mut out = Vec::new();
        frame(
            &mut out,
            &RecordRef {
                session_id: "default:s-1",
                opened: Some(&opened),
                url: Some("https://shop.example/"),
                first_event_ts: Some(7),
                events: &events,
                summary: Some(&summary),
            },
        );
        let Framed::Whole(payload, used) = unframe(&out) else {
            panic!("not whole")
        };
        assert_eq!(used, out.len());
        let r = decode(payload).unwrap();
        assert_eq!(r.session_id, "default:s-1");
        assert_eq!(r.opened, Some(opened));
        assert_eq!(r.url.as_deref(), Some("https://shop.example/"));
        assert_eq!(r.first_event_ts, Some(7));
        let back: Vec<Event> = events.iter().map(|e| (**e).clone()).collect();
        assert_eq!(format!("{:?}", r.events), format!("{back:?}"));
        assert_eq!(r.summary, Some(summary));
    }

    /// The sample's events framed as a record with nothing else set.
    fn bare_frame() -> Vec<u8> {
        let (events, _) = sample();
        let mut out = Vec::new();
        let r = RecordRef {
            session_id: "s",
            opened: None,
            url: None,
            first_event_ts: None,
            events: &events,
            summary: None,
        };
        frame(&mut out, &r);
        out
    }

    #[test]
    fn a_record_of_format_1_is_still_read() {
        let out = bare_frame();
        let Framed::Whole(payload, _) = unframe(&out) else {
            panic!("not whole")
        };
        // Format 1 is format 2 without the summary's presence byte at the end.
        let mut old = payload[..payload.len() - 1].to_vec();
        old[0] = VERSION_WITHOUT_SUMMARY;
        let back = decode(&old).unwrap();
        assert_eq!(back.events.len(), 3);
        assert_eq!(back.summary, None);
        old[0] = 3;
        assert!(decode(&old).is_err(), "an unknown format is refused");
    }

    #[test]
    fn cut_and_damaged_frames_are_told_apart() {
        let out = bare_frame();
        assert_eq!(unframe(&out[..5]), Framed::Cut);
        assert_eq!(unframe(&out[..out.len() - 1]), Framed::Cut);
        let mut flipped = out.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(unframe(&flipped), Framed::Damaged);
        assert_eq!(unframe(&[]), Framed::End);
    }
}
