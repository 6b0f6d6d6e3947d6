//! A session followed from the bus, as a plain policy the remote session actor drives: puts
//! the events it receives in seq order with no duplicate (the same seqs can come twice when a
//! recorder moved hubs and sent its unacknowledged events again), says which gap to fetch from
//! the database when seqs are missing (frames lost while NATS was away, or dropped for a full
//! queue), and keeps the recent part a viewer starts from: from the latest full snapshot on,
//! within `max_bytes`, older events being in the database.

use std::collections::VecDeque;

use crate::{
    event::{Event, SharedEvent, META},
    session::{pick_start, Snapshot, StartFrom},
};

/// What to do after offering events.
#[derive(Debug)]
pub enum Step {
    /// These events come next, in order: forward them to viewers.
    Forward(Vec<SharedEvent>),
    /// Seqs `from..=to` are missing: read them from the database and call `fill`.
    Gap { from: u64, to: u64 },
}

pub struct Follower {
    /// The last seq in order; `None` until the first event (everything before it is stored).
    received: Option<u64>,
    buffer: VecDeque<SharedEvent>,
    buffer_bytes: usize,
    max_bytes: usize,
    /// (seq, ts) of every Meta event known: the stored ones, then those received.
    metas: Vec<(u64, i64)>,
    /// Events that arrived past a gap, in arrival order.
    held: Vec<Event>,
}

impl Follower {
    /// `stored`: the seq the database has up to, used as the start when the bus holds nothing
    /// of the session; `metas`: the stored Meta events.
    pub fn new(stored: Option<u64>, metas: Vec<(u64, i64)>, max_bytes: usize) -> Self {
        Follower {
            received: stored,
            buffer: VecDeque::new(),
            buffer_bytes: 0,
            max_bytes,
            metas,
            held: Vec::new(),
        }
    }

    pub fn received(&self) -> Option<u64> {
        self.received
    }

    /// Events of one message, in seq order.
    pub fn offer(&mut self, events: Vec<Event>) -> Step {
        if !self.held.is_empty() {
            self.held.extend(events);
            return self.gap();
        }
        let mut fresh = Vec::new();
        let mut iter = events.into_iter();
        for e in iter.by_ref() {
            match self.received {
                Some(r) if e.seq <= r => continue,
                Some(r) if e.seq > r + 1 => {
                    self.held.push(e);
                    break;
                }
                _ => {}
            }
            self.received = Some(e.seq);
            fresh.push(e);
        }
        self.held.extend(iter);
        let fresh = self.keep(fresh);
        if self.held.is_empty() || !fresh.is_empty() {
            // Forward what is in order now; the gap (if any) is asked for next.
            return Step::Forward(fresh);
        }
        self.gap()
    }

    /// The gap now open, if any.
    pub fn gap(&self) -> Step {
        match (self.received, self.held.first()) {
            (Some(r), Some(next)) => Step::Gap {
                from: r + 1,
                to: next.seq - 1,
            },
            _ => Step::Forward(Vec::new()),
        }
    }

    /// Events read from the database for the gap (any that are not next are ignored); returns
    /// what is in order now, the held events included once the gap is closed.
    pub fn fill(&mut self, stored: Vec<Event>) -> Vec<SharedEvent> {
        let mut held = std::mem::take(&mut self.held);
        held.sort_by_key(|e| e.seq);
        let mut out = Vec::new();
        if let Step::Forward(v) = self.offer(stored) {
            out.extend(v);
        }
        if !self.held.is_empty() {
            // Still short of the gap's end: keep waiting for the database, held events kept.
            self.held.extend(held);
            return out;
        }
        if let Step::Forward(v) = self.offer(held) {
            out.extend(v);
        }
        out
    }

    /// Takes in-order events into the buffer (from the latest Meta on, within the bound).
    fn keep(&mut self, fresh: Vec<Event>) -> Vec<SharedEvent> {
        let fresh: Vec<SharedEvent> = fresh.into_iter().map(std::sync::Arc::new).collect();
        for e in &fresh {
            if e.kind == META {
                self.metas.push((e.seq, e.ts));
                // What came before is in the database (or on its way there).
                self.buffer.clear();
                self.buffer_bytes = 0;
            }
            self.buffer_bytes += e.size();
            self.buffer.push_back(e.clone());
        }
        while self.buffer_bytes > self.max_bytes {
            let Some(old) = self.buffer.pop_front() else {
                break;
            };
            self.buffer_bytes -= old.size();
        }
        fresh
    }

    /// Where a viewer starts and what it gets from the buffer; events before the buffer are
    /// read from the database.
    pub fn snapshot(&self, from: StartFrom, first_event_ts: Option<i64>) -> Snapshot {
        let start_seq = pick_start(&self.metas, from, first_event_ts);
        let stored_before = self
            .buffer
            .front()
            .map_or_else(|| self.received.unwrap_or(0) + 1, |e| e.seq);
        Snapshot {
            start_seq,
            stored_before,
            buffered: self
                .buffer
                .iter()
                .filter(|e| e.seq >= start_seq)
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, kind: u8) -> Event {
        Event {
            seq,
            hub_time: 0,
            ts: seq as i64 * 10,
            kind,
            json: format!("{{\"type\":{kind},\"timestamp\":{}}}", seq * 10).into(),
        }
    }

    fn evs(seqs: std::ops::RangeInclusive<u64>) -> Vec<Event> {
        seqs.map(|s| ev(s, 3)).collect()
    }

    fn gap_of(step: Step) -> Option<(u64, u64)> {
        match step {
            Step::Gap { from, to } => Some((from, to)),
            Step::Forward(_) => None,
        }
    }

    fn seqs(step: Step) -> Vec<u64> {
        match step {
            Step::Forward(v) => v.iter().map(|e| e.seq).collect(),
            Step::Gap { .. } => panic!("a gap: {step:?}"),
        }
    }

    #[test]
    fn in_order_events_pass_and_repeats_are_dropped() {
        let mut f = Follower::new(None, Vec::new(), 1 << 20);
        assert_eq!(seqs(f.offer(evs(5..=7))), vec![5, 6, 7]);
        // A recorder that moved hubs sends 6..=9 again: only 8 and 9 are new.
        assert_eq!(seqs(f.offer(evs(6..=9))), vec![8, 9]);
        assert_eq!(seqs(f.offer(evs(1..=9))), Vec::<u64>::new());
        assert_eq!(f.received(), Some(9));
    }

    #[test]
    fn a_gap_is_asked_for_and_closed_from_the_database() {
        let mut f = Follower::new(Some(2), Vec::new(), 1 << 20);
        assert_eq!(gap_of(f.offer(evs(6..=7))), Some((3, 5)));
        // More arrives meanwhile: held behind the gap.
        assert_eq!(gap_of(f.offer(evs(8..=8))), Some((3, 5)));
        // The database has only part of it yet.
        let got: Vec<u64> = f.fill(evs(3..=4)).iter().map(|e| e.seq).collect();
        assert_eq!(got, vec![3, 4]);
        assert_eq!(gap_of(f.gap()), Some((5, 5)));
        let got: Vec<u64> = f.fill(evs(5..=8)).iter().map(|e| e.seq).collect();
        assert_eq!(got, vec![5, 6, 7, 8], "the held events follow, once each");
        assert_eq!(gap_of(f.gap()), None);
        assert_eq!(f.received(), Some(8));
    }

    #[test]
    fn a_gap_inside_one_message_forwards_the_part_before_it() {
        let mut f = Follower::new(Some(0), Vec::new(), 1 << 20);
        let mut msg = evs(1..=2);
        msg.extend(evs(5..=6));
        assert_eq!(seqs(f.offer(msg)), vec![1, 2]);
        assert_eq!(gap_of(f.gap()), Some((3, 4)));
    }

    #[test]
    fn a_late_viewer_starts_at_the_latest_snapshot_in_the_buffer() {
        let mut f = Follower::new(None, vec![(1, 10)], 1 << 20);
        let mut msg = evs(20..=21);
        msg.push(ev(22, META));
        msg.extend(evs(23..=25));
        f.offer(msg);
        let snap = f.snapshot(StartFrom::Live, Some(10));
        assert_eq!(snap.start_seq, 22);
        assert_eq!(snap.stored_before, 22);
        let got: Vec<u64> = snap.buffered.iter().map(|e| e.seq).collect();
        assert_eq!(got, vec![22, 23, 24, 25]);
        // From the start: the database up to the buffer, then the buffer.
        let snap = f.snapshot(StartFrom::Start, Some(10));
        assert_eq!((snap.start_seq, snap.stored_before), (1, 22));
        assert_eq!(snap.buffered.len(), 4);
    }

    #[test]
    fn the_buffer_stays_within_its_bound() {
        let one = ev(1, 3).size();
        let mut f = Follower::new(Some(0), Vec::new(), one * 3);
        f.offer(evs(1..=9)); // events of one size each
        let snap = f.snapshot(StartFrom::Seq(1), None);
        assert_eq!(snap.stored_before, 7);
        assert_eq!(snap.buffered.len(), 3);
    }
}
