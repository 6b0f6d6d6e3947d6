//! A session's rolling buffer and its accounting, as a plain policy the session actor drives.
//!
//! Bound: the buffer holds every event not yet durable (at most `max_pending` bytes; past it
//! `accept` answers `overloaded` and the recorder retries) plus durable events from the latest
//! full snapshot on, trimmed to `max_history` bytes, or to none while the hub-wide `Budget` is
//! under pressure. Every byte held is counted in that budget, which also refuses new events. Invariant: anything trimmed is durable, so
//! a viewer reads it back from the database; `snapshot` says where that handover happens.

use std::{collections::VecDeque, sync::Arc};

use super::budget::Budget;
use crate::{
    error::{Error, Result},
    event::{SharedEvent, META},
};

/// Where a viewer or reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// The latest full snapshot.
    Live,
    /// The first event.
    Start,
    /// The latest full snapshot at or before this many ms after the first event.
    Offset(i64),
    /// Exactly this seq (the events API's `after_seq` + 1).
    Seq(u64),
}

/// The seq to start from, given the (seq, ts) of every Meta event in order.
pub fn pick_start(metas: &[(u64, i64)], from: StartFrom, first_event_ts: Option<i64>) -> u64 {
    match from {
        StartFrom::Start => 1,
        StartFrom::Seq(seq) => seq.max(1),
        StartFrom::Live => metas.last().map_or(1, |m| m.0),
        StartFrom::Offset(ms) => {
            let target = first_event_ts.unwrap_or(0).saturating_add(ms);
            metas
                .iter()
                .rev()
                .find(|m| m.1 <= target)
                .map_or(1, |m| m.0)
        }
    }
}

/// Everything from `start_seq` on: events `start_seq..stored_before` are in the database, then
/// `buffered` (from `max(start_seq, stored_before)`), then whatever the session accepts next.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub start_seq: u64,
    pub stored_before: u64,
    pub buffered: Vec<SharedEvent>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Durable history kept for late viewers, in bytes.
    pub max_history: usize,
    /// Not-yet-durable events, in bytes.
    pub max_pending: usize,
}

pub struct Backlog {
    limits: Limits,
    budget: Arc<Budget>,
    buffer: VecDeque<SharedEvent>,
    buffer_bytes: usize,
    pending_bytes: usize,
    received_seq: u64,
    durable_seq: u64,
    /// (seq, visitor timestamp) of every Meta event: where a viewer can start.
    metas: Vec<(u64, i64)>,
}

impl Backlog {
    /// A session whose events up to `stored_seq` are all in the database.
    pub fn new(
        limits: Limits,
        budget: Arc<Budget>,
        stored_seq: u64,
        metas: Vec<(u64, i64)>,
    ) -> Self {
        Backlog {
            limits,
            budget,
            buffer: VecDeque::new(),
            buffer_bytes: 0,
            pending_bytes: 0,
            received_seq: stored_seq,
            durable_seq: stored_seq,
            metas,
        }
    }

    pub fn received_seq(&self) -> u64 {
        self.received_seq
    }

    pub fn durable_seq(&self) -> u64 {
        self.durable_seq
    }

    pub fn all_durable(&self) -> bool {
        self.durable_seq >= self.received_seq
    }

    /// Takes in-order events whose seqs are all above `received_seq`, whole or not at all;
    /// returns their bytes.
    pub fn accept(&mut self, events: &[SharedEvent]) -> Result<usize> {
        let bytes: usize = events.iter().map(|e| e.size()).sum();
        let Some(last) = events.last() else {
            return Ok(0);
        };
        if self.pending_bytes + bytes > self.limits.max_pending || !self.budget.try_take(bytes) {
            return Err(Error::Overloaded);
        }
        self.received_seq = last.seq;
        self.metas.extend(
            events
                .iter()
                .filter(|e| e.kind == META)
                .map(|e| (e.seq, e.ts)),
        );
        self.pending_bytes += bytes;
        self.buffer_bytes += bytes;
        self.buffer.extend(events.iter().cloned());
        Ok(bytes)
    }

    /// The writer stored everything up to `up_to`, `bytes` of it pending until now.
    pub fn durable(&mut self, up_to: u64, bytes: usize) {
        self.durable_seq = self.durable_seq.max(up_to);
        self.pending_bytes = self.pending_bytes.saturating_sub(bytes);
        self.trim();
    }

    /// Drops durable events the buffer no longer needs: those before the latest full snapshot,
    /// and the oldest durable ones while over the byte bound.
    fn trim(&mut self) {
        let latest_meta = self.metas.last().map_or(0, |m| m.0);
        let max_history = if self.budget.under_pressure() {
            0
        } else {
            self.limits.max_history
        };
        while let Some(front) = self.buffer.front() {
            let durable = front.seq <= self.durable_seq;
            let before_snapshot = front.seq < latest_meta;
            let over = self.buffer_bytes > max_history + self.pending_bytes;
            if !(durable && (before_snapshot || over)) {
                break;
            }
            let size = front.size();
            self.buffer_bytes -= size;
            self.budget.give(size);
            self.buffer.pop_front();
        }
    }

    /// First seq held in the buffer; everything before it is durable and in the database.
    fn buffer_start(&self) -> u64 {
        self.buffer.front().map_or(self.received_seq + 1, |e| e.seq)
    }

    /// Where a viewer starting `from` reads what.
    pub fn snapshot(&self, from: StartFrom, first_event_ts: Option<i64>) -> Snapshot {
        let start_seq = pick_start(&self.metas, from, first_event_ts);
        Snapshot {
            start_seq,
            stored_before: self.buffer_start(),
            buffered: self
                .buffer
                .iter()
                .filter(|e| e.seq >= start_seq)
                .cloned()
                .collect(),
        }
    }
}

impl Drop for Backlog {
    /// A session that ends hands its memory back to the hub.
    fn drop(&mut self) {
        self.budget.give(self.buffer_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn ev(seq: u64, kind: u8, bytes: usize) -> SharedEvent {
        Arc::new(Event {
            seq,
            hub_time: 0,
            ts: seq as i64 * 10,
            kind,
            json: "x".repeat(bytes).into(),
        })
    }

    fn size(bytes: usize) -> usize {
        ev(1, 3, bytes).size()
    }

    fn roomy() -> Arc<Budget> {
        Arc::new(Budget::new(usize::MAX))
    }

    /// The invariant: every seq below the buffer is durable, and the buffer is contiguous.
    fn check(b: &Backlog) {
        assert!(
            b.buffer_start() <= b.durable_seq + 1,
            "a non-durable event was trimmed"
        );
        for (i, e) in b.buffer.iter().enumerate() {
            assert_eq!(e.seq, b.buffer_start() + i as u64, "the buffer has a hole");
        }
    }

    #[test]
    fn trimmed_events_are_always_durable() {
        let limits = Limits {
            max_history: 3 * size(100),
            max_pending: usize::MAX,
        };
        let mut b = Backlog::new(limits, roomy(), 0, Vec::new());
        let mut durable_bytes = Vec::new();
        for seq in 1..=200u64 {
            let kind = if seq % 50 == 1 { META } else { 3 };
            let bytes = b.accept(&[ev(seq, kind, 100)]).expect("room");
            durable_bytes.push((seq, bytes));
            check(&b);
            // The writer lags behind by a varying amount.
            if seq % 7 == 0 {
                let up_to = seq.saturating_sub(10);
                let bytes: usize = durable_bytes
                    .iter()
                    .filter(|(s, _)| *s <= up_to)
                    .map(|x| x.1)
                    .sum();
                durable_bytes.retain(|(s, _)| *s > up_to);
                b.durable(up_to, bytes);
                check(&b);
            }
        }
        assert_eq!(b.received_seq(), 200);
        assert!(!b.all_durable());
    }

    #[test]
    fn durable_history_starts_at_the_latest_snapshot_within_its_bound() {
        let limits = Limits {
            max_history: 100 * size(10),
            max_pending: usize::MAX,
        };
        let mut b = Backlog::new(limits, roomy(), 0, Vec::new());
        let events: Vec<_> = (1..=30)
            .map(|s| ev(s, if s == 1 || s == 20 { META } else { 3 }, 10))
            .collect();
        let bytes = b.accept(&events).expect("room");
        let s = b.snapshot(StartFrom::Live, Some(10));
        assert_eq!(
            (s.start_seq, s.stored_before, s.buffered.len()),
            (20, 1, 11),
            "nothing durable: all buffered"
        );
        b.durable(30, bytes);
        let s = b.snapshot(StartFrom::Live, Some(10));
        assert_eq!(
            (s.start_seq, s.stored_before),
            (20, 20),
            "history before the snapshot is dropped"
        );
        assert_eq!(s.buffered.first().map(|e| e.seq), Some(20));
        // From the start: 1..20 from the database, then the buffer.
        let s = b.snapshot(StartFrom::Start, Some(10));
        assert_eq!(
            (s.start_seq, s.stored_before, s.buffered.len()),
            (1, 20, 11)
        );
        let s = b.snapshot(StartFrom::Seq(25), Some(10));
        assert_eq!(s.buffered.first().map(|e| e.seq), Some(25));
    }

    #[test]
    fn pending_past_its_bound_is_refused_whole() {
        let limits = Limits {
            max_history: 0,
            max_pending: 2 * size(100),
        };
        let mut b = Backlog::new(limits, roomy(), 5, Vec::new());
        let first = b
            .accept(&[ev(6, 3, 100), ev(7, 3, 100)])
            .expect("fits exactly");
        let refused = b.accept(&[ev(8, 3, 1)]);
        assert_eq!(refused.err().map(|e| e.code()), Some("overloaded"));
        assert_eq!(b.received_seq(), 7, "nothing of a refused batch is taken");
        b.durable(7, first);
        assert!(b.all_durable());
        assert!(
            b.accept(&[ev(8, 3, 100)]).is_ok(),
            "durable events free the room"
        );
        check(&b);
    }

    #[test]
    fn the_hub_budget_bounds_every_session_and_is_given_back() {
        let limits = Limits {
            max_history: usize::MAX,
            max_pending: usize::MAX,
        };
        let budget = Arc::new(Budget::new(4 * size(100)));
        let mut a = Backlog::new(limits, budget.clone(), 0, vec![(1, 10)]);
        let mut b = Backlog::new(limits, budget.clone(), 0, Vec::new());
        let taken = a
            .accept(&[ev(1, META, 100), ev(2, 3, 100), ev(3, 3, 100)])
            .expect("room");
        assert!(
            b.accept(&[ev(1, 3, 100)]).is_ok(),
            "the budget's last quarter"
        );
        let refused = b.accept(&[ev(2, 3, 100)]);
        assert_eq!(
            refused.err().map(|e| e.code()),
            Some("overloaded"),
            "no room left in the hub"
        );
        // Under pressure, durable history is not kept: a's events go once stored.
        a.durable(3, taken);
        assert_eq!(budget.used(), size(100), "only b's pending event is held");
        assert!(b.accept(&[ev(2, 3, 100)]).is_ok());
        drop(b);
        assert_eq!(budget.used(), 0, "an ended session gives its memory back");
    }

    #[test]
    fn start_points_follow_full_snapshots() {
        let metas = [(1, 1000), (40, 5000), (90, 9000)];
        assert_eq!(pick_start(&metas, StartFrom::Live, Some(1000)), 90);
        assert_eq!(pick_start(&metas, StartFrom::Start, Some(1000)), 1);
        assert_eq!(pick_start(&metas, StartFrom::Offset(4000), Some(1000)), 40);
        assert_eq!(pick_start(&metas, StartFrom::Offset(3999), Some(1000)), 1);
        assert_eq!(pick_start(&[], StartFrom::Live, None), 1);
    }
}
