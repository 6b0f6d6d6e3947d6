//! The writer actor: collects events from every session and stores them in batches, one
//! transaction per flush (by time and by size), then tells each session what is durable.
//! One flush is in flight at a time, so "durable up to N" always covers everything before N.
//! Which writes merge a session's small chunks is decided by the policy in `plan`.
//!
//! A flush carries at most `flush_max_bytes` of events and `MAX_SESSIONS_PER_FLUSH` sessions,
//! so a backlog (after a database outage) drains in many bounded transactions. A failed flush
//! is never retried whole forever: when the database is unreachable the batch is
//! spooled (see `spooling`); when the database refuses the data, the batch is split until the
//! session at fault is alone, and that session waits (with its later events, so its order holds)
//! while every other session goes on.

mod plan;
mod spooling;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use actix::prelude::*;
use tokio::sync::oneshot;

pub use self::spooling::{plan_replay, CloseSpool, SpooledSeq};
use self::{
    plan::{Merges, Planned, Share},
    spooling::SharedSpool,
};
use crate::{
    config::Config,
    db::{
        chunks::{self, SessionWrite},
        owners::Fence,
        sessions::NewSession,
        Store,
    },
    event::SharedEvent,
    spool::Spool,
    summary::SummaryWrite,
};

/// How long a flush waits for a database connection; past it the batch goes to the spool.
const WRITE_WAIT: Duration = Duration::from_secs(5);
/// After the spool or the database failed for want of room or of a connection, the next
/// attempt is this much later.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// A session whose events the database refused on their own is retried this much later.
const BLOCK_AFTER: Duration = Duration::from_secs(5);
/// Sessions per flush at most (each is a chunk row and a row update).
const MAX_SESSIONS_PER_FLUSH: usize = 1000;
/// A flush slower than this is logged: durability waits for it.
const SLOW_FLUSH: Duration = Duration::from_millis(250);

/// Events of one session to store; within a flush, a session's appends are folded into one.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Append {
    pub session_id: Arc<str>,
    pub notify: Recipient<Durable>,
    pub events: Vec<SharedEvent>,
    /// The page URL, set once: with the session's first Meta event.
    pub url: Option<String>,
    /// The visitor timestamp of the session's first event, set once, with that event.
    pub first_event_ts: Option<i64>,
    /// Bytes of `events` (as `Event::size` counts them).
    pub bytes: usize,
    /// Set once, by a session that started while its row could not be created: the write that
    /// stores it creates the row first.
    pub opened: Option<NewSession>,
    /// What the session derived up to the last of `events`, stored in the same transaction so
    /// that the stored fields never run ahead of the stored events.
    pub summary: Option<SummaryWrite>,
    /// Cluster mode: the session's claim, checked in the write's transaction (a hub that lost
    /// the session writes nothing more of it, see `owners::hold`).
    pub fence: Option<Fence>,
}

impl Append {
    /// Splits off the events past `max_bytes` (keeping at least one), to go in a later flush.
    fn split_off(&mut self, max_bytes: usize) -> Option<Append> {
        let mut bytes = 0;
        let cut = self
            .events
            .iter()
            .position(|e| {
                bytes += e.size();
                bytes > max_bytes
            })?
            .max(1);
        if cut >= self.events.len() {
            return None;
        }
        let tail = self.events.split_off(cut);
        let tail_bytes: usize = tail.iter().map(|e| e.size()).sum();
        self.bytes -= tail_bytes;
        Some(Append {
            session_id: self.session_id.clone(),
            notify: self.notify.clone(),
            events: tail,
            url: None,
            first_event_ts: None,
            bytes: tail_bytes,
            opened: None,
            // The summary covers the last events: it goes with them.
            summary: self.summary.take(),
            fence: self.fence.clone(),
        })
    }

    fn absorb(&mut self, later: Append) {
        self.events.extend(later.events);
        self.url = self.url.take().or(later.url);
        self.first_event_ts = self.first_event_ts.or(later.first_event_ts);
        self.opened = self.opened.take().or(later.opened);
        self.bytes += later.bytes;
        match (&mut self.summary, later.summary) {
            (Some(mine), Some(later)) => mine.absorb(later),
            (mine @ None, later) => *mine = later,
            (Some(_), None) => {}
        }
    }

    fn share(&self) -> Share<'_, Recipient<Durable>> {
        Share {
            session_id: &self.session_id,
            events: &self.events,
            bytes: self.bytes,
            notify: &self.notify,
        }
    }
}

/// To a session: its events up to `up_to` are durable.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Durable {
    pub up_to: u64,
    /// Bytes of the session's pending events this flush made durable.
    pub bytes: usize,
    pub stored_bytes: i64,
    pub raw_bytes: i64,
    /// Nothing was stored: the session's claim no longer holds (another hub took it over);
    /// the session must stop taking events here.
    pub lost: bool,
}

/// Resolves when nothing is waiting or in flight (used at shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain;

pub struct Writer {
    store: Store,
    cfg: Arc<Config>,
    pending: Vec<Append>,
    pending_bytes: usize,
    in_flight: bool,
    drained: Vec<oneshot::Sender<()>>,
    spool: SharedSpool,
    /// The spool holds records: flushes go there too, behind them, until it has drained.
    spooling: bool,
    /// Records in the spool, as this actor counts its appends and drains.
    spooled_records: u64,
    appending: bool,
    draining: bool,
    /// After a failed append, the next is not tried before this.
    spool_retry_at: Option<Instant>,
    /// After a failed drain, the next is not tried before this.
    drain_at: Option<Instant>,
    /// The database refused a drain of several records: drain one at a time for a while.
    drain_one: bool,
    /// The last seq of each session with records in the spool (forgotten once it drained).
    spooled_seqs: HashMap<Arc<str>, u64>,
    merges: Merges<Recipient<Durable>>,
    /// Sessions whose events the database refused, and when to try them again.
    blocked: HashMap<Arc<str>, Instant>,
    /// After a refused flush of several sessions, the next takes at most this many.
    max_sessions: usize,
}

impl Writer {
    /// A writer that first drains whatever `spool` holds from an earlier run.
    pub fn new(store: Store, cfg: Arc<Config>, mut spool: Spool) -> Self {
        let spooled_seqs = spool
            .take_found()
            .into_iter()
            .map(|(id, seq)| (Arc::from(id), seq))
            .collect();
        Writer {
            store,
            cfg,
            pending: Vec::new(),
            pending_bytes: 0,
            in_flight: false,
            drained: Vec::new(),
            spooling: !spool.is_empty(),
            spooled_records: spool.records(),
            spool: Arc::new(std::sync::Mutex::new(spool)),
            appending: false,
            draining: false,
            spool_retry_at: None,
            drain_at: None,
            drain_one: false,
            spooled_seqs,
            merges: Merges::default(),
            blocked: HashMap::new(),
            max_sessions: MAX_SESSIONS_PER_FLUSH,
        }
    }

    /// Takes the next flush (at most `cap` bytes of events) out of `pending`: sessions in arrival order, skipping blocked ones,
    /// within the byte and session bounds; the rest stays pending, in order.
    fn take_batch(&mut self, now: Instant, cap: usize) -> Vec<Append> {
        self.blocked.retain(|_, until| *until > now);
        let cap = cap.max(1);
        let (mut batch, mut rest) = (Vec::new(), Vec::new());
        let mut bytes = 0;
        let mut taken = HashSet::new();
        for mut a in group(std::mem::take(&mut self.pending)) {
            let full = batch.len() >= self.max_sessions || (!batch.is_empty() && bytes >= cap);
            // A session once per flush (two groups of it: two claims, see `group`).
            if full
                || self.blocked.contains_key(&a.session_id)
                || !taken.insert(a.session_id.clone())
            {
                rest.push(a);
                continue;
            }
            if let Some(tail) = a.split_off(cap.saturating_sub(bytes)) {
                rest.push(tail);
            }
            bytes += a.bytes;
            batch.push(a);
        }
        self.pending_bytes = rest.iter().map(|a| a.bytes).sum();
        self.pending = rest;
        batch
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.spooling {
            self.spool_pending(ctx);
            self.drain_spool(ctx);
            if self.pending.is_empty() && !self.appending {
                for tx in self.drained.drain(..) {
                    let _ = tx.send(());
                }
            }
            return;
        }
        if self.in_flight {
            return;
        }
        if self.pending.is_empty() {
            for tx in self.drained.drain(..) {
                let _ = tx.send(());
            }
        }
        let now = Instant::now();
        let mut batch = self.take_batch(now, self.cfg.flush_max_bytes);
        let busy: HashSet<Arc<str>> = self
            .pending
            .iter()
            .chain(&batch)
            .map(|a| a.session_id.clone())
            .collect();
        for (session_id, notify) in self.merges.quiet(|id| busy.contains(id), now) {
            batch.push(Append {
                session_id,
                notify,
                events: Vec::new(),
                url: None,
                first_event_ts: None,
                bytes: 0,
                opened: None,
                summary: None,
                fence: None,
            });
        }
        if batch.is_empty() {
            return;
        }
        self.in_flight = true;
        let shares: Vec<_> = batch.iter().map(Append::share).collect();
        let plan = self.merges.plan(&shares, now);
        drop(shares);
        // Kept here as well as moved into the write, so that a failure of any kind (the
        // transaction, the pool, the blocking task) can put the batch back: nothing is lost.
        let (batch, plan) = (Arc::new(batch), Arc::new(plan));
        let (for_write, chunks) = (batch.clone(), plan.clone());
        let started = Instant::now();
        let merges = plan.iter().filter(|p| p.replaces.is_some()).count();
        let write = self.store.run_within(Some(WRITE_WAIT), move |conn| {
            let writes: Vec<SessionWrite<'_>> = for_write
                .iter()
                .zip(chunks.iter())
                .map(|(a, p)| SessionWrite {
                    session_id: &a.session_id,
                    events: &p.events,
                    url: a.url.clone(),
                    first_event_ts: a.first_event_ts,
                    replaces: p.replaces,
                    opened: a.opened.as_ref(),
                    summary: a.summary.as_ref(),
                    fence: a.fence.as_ref(),
                })
                .collect();
            chunks::write_batch(conn, &writes)
        });
        ctx.spawn(write.into_actor(self).map(move |res, act, ctx| {
            act.in_flight = false;
            let batch = Arc::try_unwrap(batch).unwrap_or_else(|shared| (*shared).clone());
            match res {
                Ok(written) => {
                    let took = started.elapsed();
                    if took >= SLOW_FLUSH {
                        log::warn!(
                            "writer: flush of {} sessions ({merges} merges) took {} ms",
                            batch.len(),
                            took.as_millis()
                        );
                    }
                    notify_durable(&batch, &plan, &written);
                    // What a stale claim did not write is dropped here: its recorder was never
                    // acknowledged for it, and sends it again to the hub that owns it now.
                    let kept = |i: &usize| !written[*i].fenced;
                    let idx: Vec<usize> = (0..batch.len()).filter(kept).collect();
                    let shares: Vec<_> = idx.iter().map(|&i| batch[i].share()).collect();
                    let plan: Vec<_> = idx.iter().map(|&i| plan[i].clone()).collect();
                    let written: Vec<_> = idx.iter().map(|&i| written[i]).collect();
                    act.merges
                        .remember(&shares, &plan, &written, Instant::now());
                    act.max_sessions = MAX_SESSIONS_PER_FLUSH;
                }
                Err(e) => {
                    // The retry writes plain chunks: merging cannot make it fail again (the
                    // small chunks already stored simply stay).
                    act.merges.clear();
                    act.failed(batch, &e);
                }
            }
            let backlog = act.pending_bytes >= act.cfg.flush_max_bytes;
            if backlog || !act.drained.is_empty() || act.spooling {
                act.flush(ctx);
            }
        }));
    }

    /// Decides what a failed flush does next: spool it (the database is unavailable), split the
    /// batch, or set aside the one session whose data the database refuses.
    fn failed(&mut self, batch: Vec<Append>, e: &crate::error::Error) {
        let sessions = batch.iter().filter(|a| !a.events.is_empty()).count();
        if e.is_unavailable() {
            log::error!("writer: database unavailable, spooling {sessions} sessions: {e}");
            self.spooling = true;
            self.drain_at = Some(Instant::now() + RETRY_AFTER);
        } else if sessions > 1 {
            self.max_sessions = (sessions / 2).max(1);
            log::warn!("writer: flush of {sessions} sessions refused, retrying in halves: {e}");
        } else if let Some(a) = batch.iter().find(|a| !a.events.is_empty()) {
            log::error!(
                "writer: session {} refused by the database, retrying in {BLOCK_AFTER:?}: {e}",
                a.session_id
            );
            self.blocked
                .insert(a.session_id.clone(), Instant::now() + BLOCK_AFTER);
            self.max_sessions = MAX_SESSIONS_PER_FLUSH;
        }
        self.requeue(batch);
    }

    /// Puts a failed batch back in front of what arrived since, keeping per-session order.
    fn requeue(&mut self, batch: Vec<Append>) {
        let mut again: Vec<Append> = batch
            .into_iter()
            .filter(|a| !a.events.is_empty() || a.opened.is_some() || a.summary.is_some())
            .collect();
        self.pending_bytes += again.iter().map(|a| a.bytes).sum::<usize>();
        again.append(&mut self.pending);
        self.pending = again;
    }
}

/// Tells each session of a stored batch what is durable. A merge of a quiet run carries no new
/// events; its `Durable` only corrects the session's stored size.
fn notify_durable(batch: &[Append], plan: &[Planned], written: &[chunks::Written]) {
    for ((a, p), w) in batch.iter().zip(plan).zip(written) {
        if w.fenced {
            a.notify.do_send(Durable {
                up_to: 0,
                bytes: 0,
                stored_bytes: 0,
                raw_bytes: 0,
                lost: true,
            });
        } else if let Some(last) = p.events.last() {
            a.notify.do_send(Durable {
                up_to: last.seq,
                bytes: a.bytes,
                stored_bytes: w.stored_delta,
                raw_bytes: w.raw_delta,
                lost: false,
            });
        }
    }
}

/// Folds the appends of each session and claim, in arrival order, into one. (Appends of one
/// session under two claims, a stale one and the next, stay apart: the stale one is refused.)
fn group(appends: Vec<Append>) -> Vec<Append> {
    let mut groups: Vec<Append> = Vec::new();
    let mut index = HashMap::<(Arc<str>, Option<i64>), usize>::new();
    for a in appends {
        let key = (a.session_id.clone(), a.fence.as_ref().map(|f| f.epoch));
        match index.get(&key) {
            Some(&i) => groups[i].absorb(a),
            None => {
                index.insert(key, groups.len());
                groups.push(a);
            }
        }
    }
    groups
}

impl Actor for Writer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.cfg.flush_interval(), |act, ctx| act.flush(ctx));
    }
}

impl Handler<Append> for Writer {
    type Result = ();

    fn handle(&mut self, msg: Append, ctx: &mut Self::Context) {
        self.pending_bytes += msg.bytes;
        self.pending.push(msg);
        if self.pending_bytes >= self.cfg.flush_max_bytes {
            self.flush(ctx);
        }
    }
}

impl Handler<Drain> for Writer {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Drain, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.drained.push(tx);
        self.flush(ctx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}
