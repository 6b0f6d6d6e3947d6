//! The writer's side of the spool. When the database cannot take a flush (unavailable, not a
//! refusal of the data), the batch goes to the spool instead, and is acknowledged once the
//! spool has fsynced it. From then on every flush goes to the spool too, behind it, until the
//! spool has drained: one session's events always reach the database in order. The drain
//! stores the oldest records in bounded transactions and is idempotent: a record replayed after
//! a crash between its transaction and its removal skips the events its session already has.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use actix::prelude::*;
use diesel::Connection;

use super::{Append, Durable, Writer, BLOCK_AFTER, RETRY_AFTER};
use crate::{
    db::{
        chunks::{self, SessionWrite},
        sessions::NewSession,
        DbConn,
    },
    error::{Error, Result},
    event::SharedEvent,
    spool::{Record, RecordRef, Spool},
    summary::SummaryWrite,
};

/// How long a drain waits for a database connection before it tries again later.
const DRAIN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub type SharedSpool = Arc<Mutex<Spool>>;

fn lock(spool: &SharedSpool) -> std::sync::MutexGuard<'_, Spool> {
    spool.lock().unwrap_or_else(|e| e.into_inner())
}

/// One session's share of a drain: its spooled events not yet stored, in order.
#[derive(Debug)]
pub struct Replayed {
    pub session_id: String,
    pub opened: Option<NewSession>,
    pub url: Option<String>,
    pub first_event_ts: Option<i64>,
    pub events: Vec<SharedEvent>,
    /// What the session derived up to its last replayed event.
    pub summary: Option<SummaryWrite>,
}

/// Folds records into one write per session (in order of first appearance), skipping events at
/// or below what the session has `stored`: whatever an earlier, interrupted drain already wrote.
pub fn plan_replay(records: Vec<Record>, stored: &HashMap<String, u64>) -> Vec<Replayed> {
    let mut out: Vec<Replayed> = Vec::new();
    let mut index = HashMap::<String, usize>::new();
    for r in records {
        let i = *index.entry(r.session_id.clone()).or_insert_with(|| {
            out.push(Replayed {
                // A session with stored events has its row already.
                opened: None,
                session_id: r.session_id.clone(),
                url: None,
                first_event_ts: None,
                events: Vec::new(),
                summary: None,
            });
            out.len() - 1
        });
        let w = &mut out[i];
        if !stored.contains_key(&r.session_id) {
            w.opened = w.opened.take().or(r.opened);
        }
        w.url = w.url.take().or(r.url);
        w.first_event_ts = w.first_event_ts.or(r.first_event_ts);
        let floor = stored.get(&r.session_id).copied().unwrap_or(0);
        let before = w.events.len();
        for e in r.events {
            let after = w.events.last().map_or(floor, |l| l.seq.max(floor));
            if e.seq > after {
                w.events.push(Arc::new(e));
            }
        }
        // A summary goes with its record's events: one whose events an interrupted drain already
        // stored was stored with them.
        if w.events.len() > before {
            match (&mut w.summary, r.summary) {
                (Some(mine), Some(later)) => mine.absorb(later),
                (mine, later) => *mine = later.or(mine.take()),
            }
        }
    }
    out
}

/// Stores spooled records in one transaction, once.
fn replay(conn: &mut DbConn, records: Vec<Record>) -> Result<()> {
    conn.transaction::<_, Error, _>(|conn| {
        let ids: Vec<String> = records.iter().map(|r| r.session_id.clone()).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let stored = chunks::stored_seqs(conn, &ids)?;
        let plan = plan_replay(records, &stored);
        let writes: Vec<SessionWrite<'_>> = plan
            .iter()
            .filter(|w| !w.events.is_empty() || w.opened.is_some())
            .map(|w| SessionWrite {
                session_id: &w.session_id,
                events: &w.events,
                url: w.url.clone(),
                first_event_ts: w.first_event_ts,
                replaces: None,
                opened: w.opened.as_ref(),
                summary: w.summary.as_ref(),
                // Not spooled: a record is stored as its hub took it in (the replay skips what
                // is stored already, see `plan_replay`).
                fence: None,
            })
            .collect();
        chunks::write_batch(conn, &writes)?;
        Ok(())
    })
}

impl Writer {
    /// Appends what is pending to the spool (one append at a time, bounded like a flush), and
    /// acknowledges it once fsynced. A full spool keeps the events pending: sessions then push
    /// back with `overloaded`, and nothing is lost.
    pub(super) fn spool_pending(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        if self.appending || self.spool_retry_at.is_some_and(|t| now < t) {
            return;
        }
        // An append is a small part of the spool, so that a nearly full spool still takes some.
        let cap = self
            .cfg
            .flush_max_bytes
            .min(usize::try_from(self.cfg.spool_max_bytes / 8).unwrap_or(usize::MAX));
        let batch = self.take_batch(now, cap);
        if batch.is_empty() {
            return;
        }
        self.appending = true;
        let (batch, spool) = (Arc::new(batch), self.spool.clone());
        let for_write = batch.clone();
        let append = actix_web::web::block(move || {
            let records: Vec<RecordRef<'_>> = for_write.iter().map(Append::record).collect();
            lock(&spool).append(&records)
        });
        ctx.spawn(append.into_actor(self).map(move |res, act, ctx| {
            act.appending = false;
            let batch = Arc::try_unwrap(batch).unwrap_or_else(|shared| (*shared).clone());
            match res.map_err(Error::from).and_then(|r| r) {
                Ok(()) => {
                    act.spooled_records += batch.len() as u64;
                    act.spool_retry_at = None;
                    for a in &batch {
                        if let Some(last) = a.events.last() {
                            act.spooled_seqs.insert(a.session_id.clone(), last.seq);
                            a.notify.do_send(Durable {
                                up_to: last.seq,
                                bytes: a.bytes,
                                stored_bytes: 0,
                                raw_bytes: 0,
                                lost: false,
                            });
                        }
                    }
                }
                Err(e) => {
                    if matches!(e, Error::Overloaded) {
                        log::error!("writer: the spool is full; sessions wait for the database");
                    } else {
                        log::error!("writer: appending to the spool failed, retrying: {e}");
                    }
                    act.spool_retry_at = Some(Instant::now() + RETRY_AFTER);
                    act.requeue(batch);
                }
            }
            act.flush(ctx);
        }));
    }

    /// Stores the oldest spooled records in one bounded transaction, then the next, until the
    /// spool is empty; then flushes go to the database directly again.
    pub(super) fn drain_spool(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        if self.draining || self.spooled_records == 0 || self.drain_at.is_some_and(|t| now < t) {
            return;
        }
        self.draining = true;
        let (spool, store) = (self.spool.clone(), self.store.clone());
        let max = if self.drain_one {
            1
        } else {
            self.cfg.flush_max_bytes.max(1)
        };
        let work = async move {
            let peek = spool.clone();
            let (records, pos) = actix_web::web::block(move || lock(&peek).peek(max)).await??;
            let n = records.len() as u64;
            if n > 0 {
                store
                    .run_within(Some(DRAIN_WAIT), move |c| replay(c, records))
                    .await?;
            }
            actix_web::web::block(move || lock(&spool).consume(pos)).await??;
            Ok::<_, Error>(n)
        };
        ctx.spawn(work.into_actor(self).map(|res, act, ctx| {
            act.draining = false;
            match res {
                Ok(n) => {
                    act.drain_one = false;
                    act.drain_at = None;
                    act.spooled_records = act.spooled_records.saturating_sub(n);
                    if n == 0 {
                        // The count and the files disagree: trust the files.
                        act.spooled_records = 0;
                    }
                    if act.spooled_records == 0 && !act.appending {
                        log::info!("writer: the spool has drained; writing to the database again");
                        act.spooling = false;
                        act.spooled_seqs.clear();
                    }
                }
                Err(e) if e.is_unavailable() => {
                    act.drain_at = Some(Instant::now() + RETRY_AFTER);
                }
                Err(e) if !act.drain_one => {
                    log::warn!("writer: spooled records refused, draining one at a time: {e}");
                    act.drain_one = true;
                }
                Err(e) => {
                    log::error!(
                        "writer: the database refuses a spooled record; the spool waits \
                         {BLOCK_AFTER:?} and tries again: {e}"
                    );
                    act.drain_at = Some(Instant::now() + BLOCK_AFTER);
                }
            }
            act.flush(ctx);
        }));
    }
}

impl Append {
    fn record(&self) -> RecordRef<'_> {
        RecordRef {
            session_id: &self.session_id,
            opened: self.opened.as_ref(),
            url: self.url.as_deref(),
            first_event_ts: self.first_event_ts,
            events: &self.events,
            summary: self.summary.as_ref(),
        }
    }
}

/// The last seq spooled of a session and not yet stored, if any: where a session actor that
/// starts meanwhile must take it up (the database does not have those events yet).
#[derive(Message)]
#[rtype(result = "Option<u64>")]
pub struct SpooledSeq(pub Arc<str>);

impl Handler<SpooledSeq> for Writer {
    type Result = Option<u64>;

    fn handle(&mut self, msg: SpooledSeq, _: &mut Self::Context) -> Self::Result {
        self.spooled_seqs.get(&msg.0).copied()
    }
}

/// The hub stops: once the writer has drained into the database or the spool, the spool lets
/// its directory go, so that the next hub (in the same process, in tests) can open it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseSpool;

impl Handler<CloseSpool> for Writer {
    type Result = ();

    fn handle(&mut self, _: CloseSpool, _: &mut Self::Context) {
        lock(&self.spool).close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn record(id: &str, seqs: std::ops::RangeInclusive<u64>, opened: bool) -> Record {
        Record {
            session_id: id.into(),
            opened: opened.then_some(NewSession {
                started_at: 1,
                user_agent: None,
            }),
            url: None,
            first_event_ts: None,
            events: seqs
                .map(|seq| Event {
                    seq,
                    hub_time: 0,
                    ts: 0,
                    kind: 3,
                    json: "{}".into(),
                })
                .collect(),
            summary: None,
        }
    }

    fn seqs(r: &Replayed) -> Vec<u64> {
        r.events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn a_replay_skips_what_is_stored_and_keeps_each_sessions_order() {
        let records = vec![
            record("a", 1..=5, false),
            record("b", 1..=2, true),
            record("a", 6..=8, false),
            record("b", 3..=3, false),
        ];
        let stored = HashMap::from([("a".to_owned(), 6)]);
        let plan = plan_replay(records, &stored);
        assert_eq!(plan.len(), 2);
        assert_eq!(
            (plan[0].session_id.as_str(), seqs(&plan[0])),
            ("a", vec![7, 8])
        );
        assert_eq!(
            (plan[1].session_id.as_str(), seqs(&plan[1])),
            ("b", vec![1, 2, 3])
        );
        assert!(plan[1].opened.is_some(), "b's row is created");
        assert!(plan[0].opened.is_none());
    }

    #[test]
    fn a_fully_stored_record_replays_as_nothing() {
        let plan = plan_replay(
            vec![record("a", 1..=3, true)],
            &HashMap::from([("a".to_owned(), 3)]),
        );
        assert!(plan[0].events.is_empty() && plan[0].opened.is_none());
    }

    #[test]
    fn summaries_replay_with_their_records_events_only() {
        let summary = |pages: i64, page: &str| SummaryWrite {
            derived: crate::summary::Derived {
                page_count: pages,
                ..Default::default()
            },
            new_pages: vec![page.into()],
            new_events: Vec::new(),
            heat: Default::default(),
            rage_pages: Vec::new(),
        };
        let with = |id, seqs, s| Record {
            summary: Some(s),
            ..record(id, seqs, false)
        };
        let records = vec![
            with("a", 1..=3, summary(1, "/one")),
            with("a", 4..=6, summary(2, "/two")),
            with("b", 1..=2, summary(1, "/b")),
        ];
        // b's record was stored by an interrupted drain, with its summary.
        let stored = HashMap::from([("b".to_owned(), 2)]);
        let plan = plan_replay(records, &stored);
        let a = plan[0].summary.as_ref().unwrap();
        assert_eq!(a.derived.page_count, 2, "the latest fields");
        assert_eq!(a.new_pages, ["/one", "/two"], "every page first seen");
        assert_eq!(plan[1].session_id, "b");
        assert_eq!(plan[1].summary, None);
    }
}
