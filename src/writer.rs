//! The writer actor: collects events from every session and stores them in batches, one
//! transaction per flush (by time and by size), then tells each session what is durable.
//! One flush is in flight at a time, so "durable up to N" always covers everything before N.
//!
//! A flush every 50 ms gives a session one chunk of one or two events per flush, which would
//! make replay read a row per event and leave zstd nothing to compress. So the writer keeps, per
//! session, the events of its recent small chunks (a run) and, once the run is big enough,
//! writes the next chunk as the merge of the run and the new events, in the same transaction
//! that deletes the small ones. Each event is thus compressed twice; stored chunks hold about
//! `MERGE_EVENTS` events or `MERGE_BYTES` of JSON.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::{
    config::Config,
    db::store::{self, Replaces, SessionWrite, Store, Written},
    event::SharedEvent,
    session::Durable,
};

/// After a failed flush the batch is kept and retried this much later.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// A run is merged with the next write once it has this many events, this many bytes of event
/// JSON, or is this old.
const MERGE_EVENTS: usize = 256;
const MERGE_BYTES: usize = 128 * 1024;
const MERGE_AGE: Duration = Duration::from_secs(30);
/// A flush slower than this is logged: durability waits for it.
const SLOW_FLUSH: Duration = Duration::from_millis(250);
/// Merges per flush: sessions that started together reach their thresholds together, and a
/// flush carrying all their merges would hold up everyone's durability.
const MERGES_PER_FLUSH: usize = 4;
/// A run without writes for this long (an ended or idle session) is merged on its own.
const SEAL_AFTER: Duration = Duration::from_secs(5);

#[derive(Message)]
#[rtype(result = "()")]
pub struct Append {
    pub session_id: Arc<str>,
    pub notify: Recipient<Durable>,
    pub events: Vec<SharedEvent>,
    pub url: Option<String>,
    pub first_event_ts: Option<i64>,
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
    retry_at: Option<Instant>,
    drained: Vec<oneshot::Sender<()>>,
    runs: HashMap<Arc<str>, Run>,
}

/// One session's small chunks written since its last merged one, with their events.
#[derive(Clone)]
struct Run {
    events: Vec<SharedEvent>,
    json_bytes: usize,
    replaces: Replaces,
    notify: Recipient<Durable>,
    started_at: Instant,
    written_at: Instant,
}

impl Run {
    fn merges_with(&self, g: &Group) -> bool {
        let alone = g.events.is_empty() && self.replaces.chunks >= 2;
        alone
            || self.events.len() + g.events.len() >= MERGE_EVENTS
            || self.json_bytes + g.bytes >= MERGE_BYTES
            || self.started_at.elapsed() >= MERGE_AGE
    }
}

/// One session's share of a flush.
#[derive(Clone)]
struct Group {
    session_id: Arc<str>,
    notify: Recipient<Durable>,
    events: Vec<SharedEvent>,
    url: Option<String>,
    first_event_ts: Option<i64>,
    bytes: usize,
}

impl Writer {
    pub fn new(store: Store, cfg: Arc<Config>) -> Self {
        Writer {
            store,
            cfg,
            pending: Vec::new(),
            pending_bytes: 0,
            in_flight: false,
            retry_at: None,
            drained: Vec::new(),
            runs: HashMap::new(),
        }
    }

    /// The chunk to write for each group: its own events, or merged after its run's.
    fn plan(&self, groups: &[Group]) -> Vec<(Vec<SharedEvent>, Option<Replaces>)> {
        let mut merges = 0;
        groups
            .iter()
            .map(|g| match self.runs.get(&g.session_id) {
                Some(run) if merges < MERGES_PER_FLUSH && run.merges_with(g) => {
                    merges += 1;
                    let mut events = run.events.clone();
                    events.extend(g.events.iter().cloned());
                    (events, Some(run.replaces))
                }
                _ => (g.events.clone(), None),
            })
            .collect()
    }

    /// Empty groups for runs that have gone quiet, so that they are merged without new events.
    fn seals(&mut self, groups: &[Group]) -> Vec<Group> {
        let now = Instant::now();
        // A quiet run of one chunk has nothing to merge with: forget it.
        self.runs
            .retain(|_, r| r.replaces.chunks >= 2 || now.duration_since(r.written_at) < SEAL_AFTER);
        let quiet = |r: &Run| now.duration_since(r.written_at) >= SEAL_AFTER;
        if !self.runs.values().any(quiet) {
            return Vec::new();
        }
        let busy: std::collections::HashSet<&str> = groups.iter().map(|g| &*g.session_id).collect();
        self.runs
            .iter()
            .filter(|(id, r)| quiet(r) && !busy.contains(&***id))
            .take(MERGES_PER_FLUSH)
            .map(|(id, r)| Group {
                session_id: id.clone(),
                notify: r.notify.clone(),
                events: Vec::new(),
                url: None,
                first_event_ts: None,
                bytes: 0,
            })
            .collect()
    }

    /// Records what a successful flush wrote: merged runs start over, small chunks join theirs.
    fn remember(
        &mut self,
        groups: &[Group],
        plan: Vec<(Vec<SharedEvent>, Option<Replaces>)>,
        written: &[Written],
    ) {
        let now = Instant::now();
        for ((g, (events, replaced)), w) in groups.iter().zip(plan).zip(written) {
            let big = g.events.len() >= MERGE_EVENTS || g.bytes >= MERGE_BYTES;
            if replaced.is_some() || big {
                self.runs.remove(&g.session_id);
                continue;
            }
            let Some(first) = events.first().map(|e| e.seq) else {
                continue;
            };
            let run = self
                .runs
                .entry(g.session_id.clone())
                .or_insert_with(|| Run {
                    events: Vec::new(),
                    json_bytes: 0,
                    replaces: Replaces {
                        first_seq: first,
                        ..Replaces::default()
                    },
                    notify: g.notify.clone(),
                    started_at: now,
                    written_at: now,
                });
            run.json_bytes += g.bytes;
            run.replaces.chunks += 1;
            run.replaces.events += events.len();
            run.replaces.raw_bytes += w.chunk_raw;
            run.replaces.stored_bytes += w.chunk_stored;
            run.events.extend(events);
            run.written_at = now;
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight || self.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        if self.pending.is_empty() {
            for tx in self.drained.drain(..) {
                let _ = tx.send(());
            }
        }
        let mut groups = group(std::mem::take(&mut self.pending));
        let seals = self.seals(&groups);
        groups.extend(seals);
        if groups.is_empty() {
            return;
        }
        self.in_flight = true;
        self.pending_bytes = 0;
        // Kept here as well as moved into the write, so that a failure of any kind (the
        // transaction, the pool, the blocking task) can put the batch back: nothing is lost.
        let plan = Arc::new(self.plan(&groups));
        let groups = Arc::new(groups);
        let (batch, chunks) = (groups.clone(), plan.clone());
        let started = Instant::now();
        let merges = plan.iter().filter(|(_, r)| r.is_some()).count();
        let write = self.store.run(move |conn| {
            let writes: Vec<SessionWrite<'_>> = batch
                .iter()
                .zip(chunks.iter())
                .map(|(g, (events, replaces))| SessionWrite {
                    session_id: &g.session_id,
                    events,
                    url: g.url.clone(),
                    first_event_ts: g.first_event_ts,
                    replaces: *replaces,
                })
                .collect();
            store::write_batch(conn, &writes)
        });
        ctx.spawn(write.into_actor(self).map(move |res, act, ctx| {
            act.in_flight = false;
            let groups = Arc::try_unwrap(groups).unwrap_or_else(|shared| (*shared).clone());
            let plan = Arc::try_unwrap(plan).unwrap_or_else(|shared| (*shared).clone());
            match res {
                Ok(written) => {
                    let took = started.elapsed();
                    if took >= SLOW_FLUSH {
                        log::warn!(
                            "writer: flush of {} sessions ({merges} merges) took {} ms",
                            groups.len(),
                            took.as_millis()
                        );
                    }
                    // A merge of a quiet run carries no new events; its Durable only corrects
                    // the session's stored size.
                    for ((g, (events, _)), w) in groups.iter().zip(&plan).zip(&written) {
                        if let Some(last) = events.last() {
                            g.notify.do_send(Durable {
                                up_to: last.seq,
                                bytes: g.bytes,
                                stored_bytes: w.stored_delta,
                                raw_bytes: w.raw_delta,
                            });
                        }
                    }
                    act.remember(&groups, plan, &written);
                    act.retry_at = None;
                }
                Err(e) => {
                    log::error!(
                        "writer: flush of {} sessions failed, will retry: {e}",
                        groups.len()
                    );
                    // The retry writes plain chunks: whatever failed, merging cannot make it fail
                    // again (the small chunks already stored simply stay).
                    act.runs.clear();
                    act.requeue(groups);
                }
            }
            if act.pending_bytes >= act.cfg.flush_max_bytes || !act.drained.is_empty() {
                act.flush(ctx);
            }
        }));
    }

    /// Puts a failed batch back in front of what arrived since, keeping per-session order.
    fn requeue(&mut self, groups: Vec<Group>) {
        self.retry_at = Some(Instant::now() + RETRY_AFTER);
        let mut again: Vec<Append> = groups
            .into_iter()
            .filter(|g| !g.events.is_empty())
            .map(|g| Append {
                session_id: g.session_id,
                notify: g.notify,
                events: g.events,
                url: g.url,
                first_event_ts: g.first_event_ts,
            })
            .collect();
        self.pending_bytes += again
            .iter()
            .flat_map(|a| a.events.iter())
            .map(|e| e.size())
            .sum::<usize>();
        again.append(&mut self.pending);
        self.pending = again;
    }
}

/// Merges the appends of each session, in arrival order, into one write.
fn group(appends: Vec<Append>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index = HashMap::<Arc<str>, usize>::new();
    for a in appends {
        let bytes: usize = a.events.iter().map(|e| e.size()).sum();
        match index.get(&a.session_id) {
            Some(&i) => {
                let g = &mut groups[i];
                g.events.extend(a.events);
                g.url = g.url.take().or(a.url);
                g.first_event_ts = g.first_event_ts.or(a.first_event_ts);
                g.bytes += bytes;
            }
            None => {
                index.insert(a.session_id.clone(), groups.len());
                groups.push(Group {
                    session_id: a.session_id,
                    notify: a.notify,
                    events: a.events,
                    url: a.url,
                    first_event_ts: a.first_event_ts,
                    bytes,
                });
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
        self.pending_bytes += msg.events.iter().map(|e| e.size()).sum::<usize>();
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
        self.retry_at = None;
        self.flush(ctx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}
