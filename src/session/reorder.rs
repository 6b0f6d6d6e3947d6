//! Putting a session's frames back in order. Frames can overtake each other (several beacon
//! POSTs fired at page unload, a POST racing the socket); dedup by "highest seq received" would
//! then drop the overtaken ones as duplicates. A frame that leaves a gap is parked until the gap
//! fills. Parked events are never accepted across a gap: the session asks the recorder to resend
//! from the gap instead, so that a seq is only acknowledged once every seq before it is stored.

use std::collections::BTreeMap;

use crate::{
    error::{Error, Result},
    event::Event,
};

/// Bytes of parked frames per session; a frame that would park more is refused (`overloaded`:
/// the recorder retries, after resending what fills the gap).
const MAX_PARKED_BYTES: usize = 8 * 1024 * 1024;
/// How far past the last received seq a frame may start. A recorder's buffer holds at most
/// 32 MiB of events, so a real one never numbers this far ahead; a seq beyond it is refused
/// rather than parked, so one bogus frame cannot stall the session.
pub const MAX_AHEAD: u64 = 1_000_000;

#[derive(Default)]
pub struct Reorder {
    parked: BTreeMap<u64, Vec<Event>>,
    bytes: usize,
}

impl Reorder {
    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }

    /// Takes a frame; returns the batches now ready to accept, in order, each with only seqs
    /// above what came before it. `received` is the highest seq accepted so far.
    pub fn offer(&mut self, received: u64, events: Vec<Event>) -> Result<Vec<Vec<Event>>> {
        let events: Vec<Event> = events.into_iter().filter(|e| e.seq > received).collect();
        let Some(first) = events.first().map(|e| e.seq) else {
            return Ok(Vec::new());
        };
        if first > received + 1 {
            if first - received > MAX_AHEAD {
                return Err(Error::InvalidFrame(format!(
                    "seq {first} is more than {MAX_AHEAD} past the last received ({received})"
                )));
            }
            let size: usize = events.iter().map(Event::size).sum();
            if self.bytes + size > MAX_PARKED_BYTES {
                return Err(Error::Overloaded);
            }
            self.bytes += size;
            self.parked.insert(first, events);
            return Ok(Vec::new());
        }
        let mut top = events.last().map_or(received, |e| e.seq);
        let mut ready = vec![events];
        while let Some(entry) = self.parked.first_entry() {
            if *entry.key() > top + 1 {
                break;
            }
            let batch = entry.remove();
            self.bytes -= batch.iter().map(Event::size).sum::<usize>();
            let batch: Vec<Event> = batch.into_iter().filter(|e| e.seq > top).collect();
            if let Some(last) = batch.last() {
                top = last.seq;
                ready.push(batch);
            }
        }
        Ok(ready)
    }

    /// Forgets everything parked: the recorder was asked to resend from the gap, and will send
    /// these again (they are not acknowledged, so it still holds them).
    pub fn clear(&mut self) {
        self.parked.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seqs: std::ops::RangeInclusive<u64>) -> Vec<Event> {
        seqs.map(|seq| Event {
            seq,
            hub_time: 0,
            ts: 0,
            kind: 3,
            json: "{}".into(),
        })
        .collect()
    }

    fn flat(batches: &[Vec<Event>]) -> Vec<u64> {
        batches.iter().flatten().map(|e| e.seq).collect()
    }

    fn offer(r: &mut Reorder, received: u64, seqs: std::ops::RangeInclusive<u64>) -> Vec<u64> {
        flat(&r.offer(received, frame(seqs)).expect("accepted"))
    }

    #[test]
    fn an_overtaken_frame_is_not_lost() {
        let mut r = Reorder::default();
        assert!(
            offer(&mut r, 37, 51..=70).is_empty(),
            "51.. waits for 38..50"
        );
        assert_eq!(offer(&mut r, 37, 38..=50), (38..=70).collect::<Vec<_>>());
        assert!(r.is_empty());
    }

    #[test]
    fn overlaps_and_duplicates_are_trimmed() {
        let mut r = Reorder::default();
        offer(&mut r, 10, 15..=20);
        offer(&mut r, 10, 18..=25);
        assert_eq!(offer(&mut r, 10, 5..=16), (11..=25).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_crosses_a_gap_that_stays_open() {
        let mut r = Reorder::default();
        assert!(offer(&mut r, 2, 10..=11).is_empty());
        assert_eq!(
            offer(&mut r, 2, 3..=5),
            vec![3, 4, 5],
            "10.. still waits for 6..9"
        );
        assert!(!r.is_empty());
        r.clear();
        assert_eq!(offer(&mut r, 5, 6..=11), (6..=11).collect::<Vec<_>>());
    }

    #[test]
    fn a_seq_far_ahead_is_refused_and_parking_is_bounded() {
        let mut r = Reorder::default();
        let far = r.offer(2, frame(MAX_AHEAD + 3..=MAX_AHEAD + 3));
        assert_eq!(far.err().map(|e| e.code()), Some("invalid_frame"));
        assert!(r.is_empty(), "nothing parked");
        let big: Vec<Event> = (10..=10)
            .map(|seq| Event {
                seq,
                hub_time: 0,
                ts: 0,
                kind: 3,
                json: "x".repeat(MAX_PARKED_BYTES).into(),
            })
            .collect();
        assert_eq!(r.offer(2, big).err().map(|e| e.code()), Some("overloaded"));
    }
}
