//! Chunk-merge planning: which of a flush's writes merge a session's recent small chunks into
//! one. A flush every 50 ms gives a session a chunk of one or two events per flush, which would
//! make replay read a row per event and leave zstd nothing to compress; so each session's small
//! chunks since its last merge form a *run*, and once the run is big enough (events, bytes or
//! age) the next write stores the run's events and its new ones as one chunk, replacing the
//! run's chunks in the same transaction. Generic over `N`, whatever the writer needs to notify a
//! session, so that the policy is tested without actors.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    db::chunks::{Replaces, Written},
    event::SharedEvent,
};

/// A run is merged with the next write once it has this many events, this many bytes of event
/// JSON, or is this old.
pub const MERGE_EVENTS: usize = 256;
pub const MERGE_BYTES: usize = 128 * 1024;
pub const MERGE_AGE: Duration = Duration::from_secs(30);
/// Merges per flush: sessions that started together reach their thresholds together, and a
/// flush carrying all their merges would hold up everyone's durability.
pub const MERGES_PER_FLUSH: usize = 4;
/// A run without writes for this long (an ended or idle session) is merged on its own.
pub const SEAL_AFTER: Duration = Duration::from_secs(5);

/// One session's share of a flush, as the planner sees it.
pub struct Share<'a, N> {
    pub session_id: &'a Arc<str>,
    pub events: &'a [SharedEvent],
    /// Bytes of the new events (as `Event::size` counts them).
    pub bytes: usize,
    pub notify: &'a N,
}

/// The chunk to write for one share: its own events, or the run's followed by them.
#[derive(Clone, Debug)]
pub struct Planned {
    pub events: Vec<SharedEvent>,
    pub replaces: Option<Replaces>,
}

/// One session's small chunks written since its last merged one, with their events.
#[derive(Clone)]
struct Run<N> {
    events: Vec<SharedEvent>,
    json_bytes: usize,
    replaces: Replaces,
    notify: N,
    started_at: Instant,
    written_at: Instant,
}

impl<N> Run<N> {
    fn merges_with(&self, events: usize, bytes: usize, now: Instant) -> bool {
        let alone = events == 0 && self.replaces.chunks >= 2;
        alone
            || self.events.len() + events >= MERGE_EVENTS
            || self.json_bytes + bytes >= MERGE_BYTES
            || now.duration_since(self.started_at) >= MERGE_AGE
    }
}

/// Every session's current run.
pub struct Merges<N> {
    runs: HashMap<Arc<str>, Run<N>>,
}

impl<N> Default for Merges<N> {
    fn default() -> Self {
        Merges {
            runs: HashMap::new(),
        }
    }
}

impl<N: Clone> Merges<N> {
    /// The chunk each share writes, at most `MERGES_PER_FLUSH` of them merged.
    pub fn plan(&self, shares: &[Share<'_, N>], now: Instant) -> Vec<Planned> {
        let mut merges = 0;
        shares
            .iter()
            .map(|s| match self.runs.get(s.session_id) {
                Some(run)
                    if merges < MERGES_PER_FLUSH
                        && run.merges_with(s.events.len(), s.bytes, now) =>
                {
                    merges += 1;
                    let mut events = run.events.clone();
                    events.extend(s.events.iter().cloned());
                    Planned {
                        events,
                        replaces: Some(run.replaces),
                    }
                }
                _ => Planned {
                    events: s.events.to_vec(),
                    replaces: None,
                },
            })
            .collect()
    }

    /// Sessions whose run has gone quiet and should be merged without new events (at most
    /// `MERGES_PER_FLUSH`, none of those `busy` in this flush). A quiet run of one chunk has
    /// nothing to merge with and is forgotten.
    pub fn quiet(&mut self, busy: impl Fn(&str) -> bool, now: Instant) -> Vec<(Arc<str>, N)> {
        let is_quiet = |r: &Run<N>| now.duration_since(r.written_at) >= SEAL_AFTER;
        self.runs
            .retain(|_, r| r.replaces.chunks >= 2 || !is_quiet(r));
        self.runs
            .iter()
            .filter(|(id, r)| is_quiet(r) && !busy(id))
            .take(MERGES_PER_FLUSH)
            .map(|(id, r)| (id.clone(), r.notify.clone()))
            .collect()
    }

    /// Records what a successful flush wrote: merged runs start over, small chunks join theirs.
    pub fn remember(
        &mut self,
        shares: &[Share<'_, N>],
        planned: &[Planned],
        written: &[Written],
        now: Instant,
    ) {
        for ((s, p), w) in shares.iter().zip(planned).zip(written) {
            let big = s.events.len() >= MERGE_EVENTS || s.bytes >= MERGE_BYTES;
            if p.replaces.is_some() || big {
                self.runs.remove(s.session_id);
                continue;
            }
            let Some(first) = p.events.first().map(|e| e.seq) else {
                continue;
            };
            let run = self
                .runs
                .entry(s.session_id.clone())
                .or_insert_with(|| Run {
                    events: Vec::new(),
                    json_bytes: 0,
                    replaces: Replaces {
                        first_seq: first,
                        ..Replaces::default()
                    },
                    notify: s.notify.clone(),
                    started_at: now,
                    written_at: now,
                });
            run.json_bytes += s.bytes;
            run.replaces.chunks += 1;
            run.replaces.events += p.events.len();
            run.replaces.raw_bytes += w.chunk_raw;
            run.replaces.stored_bytes += w.chunk_stored;
            run.events.extend(p.events.iter().cloned());
            run.written_at = now;
        }
    }

    /// Forgets every run (after a failed flush: retries write plain chunks, and the small
    /// chunks already stored simply stay).
    pub fn clear(&mut self) {
        self.runs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn events(seqs: std::ops::RangeInclusive<u64>) -> Vec<SharedEvent> {
        seqs.map(|seq| {
            Arc::new(Event {
                seq,
                hub_time: 0,
                ts: 0,
                kind: 3,
                json: "{}".into(),
            })
        })
        .collect()
    }

    fn written(p: &Planned) -> Written {
        let n = p.events.len() as i64;
        Written {
            chunk_raw: 10 * n,
            chunk_stored: 5 * n,
            raw_delta: 0,
            stored_delta: 0,
            fenced: false,
        }
    }

    /// One flush of one share per session: plans, "writes" and remembers it.
    fn flush(
        m: &mut Merges<()>,
        batch: &[(&Arc<str>, Vec<SharedEvent>)],
        now: Instant,
    ) -> Vec<Planned> {
        let shares: Vec<Share<'_, ()>> = batch
            .iter()
            .map(|(id, ev)| Share {
                session_id: id,
                events: ev,
                bytes: ev.len() * 10,
                notify: &(),
            })
            .collect();
        let planned = m.plan(&shares, now);
        let w: Vec<Written> = planned.iter().map(written).collect();
        m.remember(&shares, &planned, &w, now);
        planned
    }

    #[test]
    fn small_chunks_merge_once_the_run_reaches_its_event_threshold() {
        let mut m = Merges::default();
        let id: Arc<str> = "s".into();
        let now = Instant::now();
        for seq in 1..MERGE_EVENTS as u64 {
            let p = flush(&mut m, &[(&id, events(seq..=seq))], now);
            assert!(p[0].replaces.is_none(), "seq {seq} is written on its own");
        }
        let last = MERGE_EVENTS as u64;
        let p = flush(&mut m, &[(&id, events(last..=last))], now);
        let r = p[0].replaces.expect("the run merges");
        assert_eq!(
            (r.first_seq, r.chunks, r.events),
            (1, MERGE_EVENTS - 1, MERGE_EVENTS - 1)
        );
        let seqs: Vec<u64> = p[0].events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=last).collect::<Vec<_>>(),
            "run then new events, in order"
        );
        assert_eq!(r.raw_bytes, 10 * (MERGE_EVENTS as i64 - 1));
        let p = flush(&mut m, &[(&id, events(last + 1..=last + 1))], now);
        assert!(p[0].replaces.is_none(), "a merge starts a new run");
    }

    #[test]
    fn a_run_merges_by_age_and_a_flush_merges_at_most_a_few() {
        let mut m = Merges::default();
        let ids: Vec<Arc<str>> = (0..6).map(|i| format!("s{i}").into()).collect();
        let t0 = Instant::now();
        let batch: Vec<_> = ids.iter().map(|id| (id, events(1..=1))).collect();
        flush(&mut m, &batch, t0);
        let batch: Vec<_> = ids.iter().map(|id| (id, events(2..=2))).collect();
        let p = flush(&mut m, &batch, t0 + Duration::from_secs(1));
        assert!(p.iter().all(|p| p.replaces.is_none()), "young runs wait");
        let batch: Vec<_> = ids.iter().map(|id| (id, events(3..=3))).collect();
        let p = flush(&mut m, &batch, t0 + MERGE_AGE);
        let merged = p.iter().filter(|p| p.replaces.is_some()).count();
        assert_eq!(merged, MERGES_PER_FLUSH);
    }

    #[test]
    fn quiet_runs_are_sealed_unless_busy_and_single_chunks_forgotten() {
        let mut m: Merges<()> = Merges::default();
        let (a, b, c): (Arc<str>, Arc<str>, Arc<str>) = ("a".into(), "b".into(), "c".into());
        let t0 = Instant::now();
        flush(
            &mut m,
            &[
                (&a, events(1..=1)),
                (&b, events(1..=1)),
                (&c, events(1..=1)),
            ],
            t0,
        );
        flush(&mut m, &[(&a, events(2..=2)), (&b, events(2..=2))], t0);
        assert!(m.quiet(|_| false, t0).is_empty(), "nothing is quiet yet");
        let later = t0 + SEAL_AFTER;
        let sealed: Vec<Arc<str>> = m
            .quiet(|id| id == "b", later)
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(sealed, vec![a.clone()], "b is busy, c has one chunk");
        // The seal is an empty share that merges the run alone.
        let p = flush(&mut m, &[(&a, Vec::new())], later);
        assert_eq!(p[0].replaces.map(|r| r.chunks), Some(2));
        assert_eq!(p[0].events.len(), 2);
        assert!(
            m.quiet(|_| false, later + SEAL_AFTER)
                .iter()
                .all(|s| &*s.0 != "c"),
            "c was forgotten"
        );
    }

    #[test]
    fn a_big_write_is_never_merged_later() {
        let mut m = Merges::default();
        let id: Arc<str> = "s".into();
        let now = Instant::now();
        flush(&mut m, &[(&id, events(1..=MERGE_EVENTS as u64))], now);
        let next = MERGE_EVENTS as u64 + 1;
        let p = flush(&mut m, &[(&id, events(next..=next))], now + MERGE_AGE);
        assert!(p[0].replaces.is_none(), "a full chunk is not part of a run");
    }
}
