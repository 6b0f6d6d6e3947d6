//! Putting a session's frames back in order. Frames can overtake each other (several beacon
//! POSTs fired at page unload, a POST racing the socket); dedup by "highest seq received" would
//! then drop the overtaken ones as duplicates. A frame that leaves a gap is parked until the gap
//! fills, or until the session's timer releases it (the recorder may have dropped events on
//! purpose, after its own buffer overflowed).

use std::collections::BTreeMap;

use crate::event::Event;

/// Bytes of parked frames per session; past it everything parked is released at once.
const MAX_PARKED_BYTES: usize = 8 * 1024 * 1024;

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
    pub fn offer(&mut self, received: u64, events: Vec<Event>) -> Vec<Vec<Event>> {
        let events: Vec<Event> = events.into_iter().filter(|e| e.seq > received).collect();
        let Some(first) = events.first().map(|e| e.seq) else {
            return Vec::new();
        };
        let size: usize = events.iter().map(Event::size).sum();
        if first > received + 1 {
            self.bytes += size;
            self.parked.insert(first, events);
            if self.bytes > MAX_PARKED_BYTES {
                return self.release_all(received);
            }
            return Vec::new();
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
        ready
    }

    /// Everything parked, in order and without overlaps, gaps and all.
    pub fn release_all(&mut self, received: u64) -> Vec<Vec<Event>> {
        self.bytes = 0;
        let mut top = received;
        let mut ready = Vec::new();
        for (_, batch) in std::mem::take(&mut self.parked) {
            let batch: Vec<Event> = batch.into_iter().filter(|e| e.seq > top).collect();
            if let Some(last) = batch.last() {
                top = last.seq;
                ready.push(batch);
            }
        }
        ready
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

    #[test]
    fn an_overtaken_frame_is_not_lost() {
        let mut r = Reorder::default();
        assert!(
            r.offer(37, frame(51..=70)).is_empty(),
            "51.. waits for 38..50"
        );
        let ready = r.offer(37, frame(38..=50));
        assert_eq!(flat(&ready), (38..=70).collect::<Vec<_>>());
        assert!(r.is_empty());
    }

    #[test]
    fn overlaps_and_duplicates_are_trimmed() {
        let mut r = Reorder::default();
        r.offer(10, frame(15..=20));
        r.offer(10, frame(18..=25));
        let ready = r.offer(10, frame(5..=16));
        assert_eq!(flat(&ready), (11..=25).collect::<Vec<_>>());
    }

    #[test]
    fn a_real_gap_is_released_whole_and_in_order() {
        let mut r = Reorder::default();
        r.offer(1, frame(30..=31));
        r.offer(1, frame(10..=12));
        assert_eq!(flat(&r.release_all(1)), vec![10, 11, 12, 30, 31]);
        assert!(r.is_empty());
    }
}
