//! The writer actor: collects events from every session and stores them in batches, one
//! transaction per flush (by time and by size), then tells each session what is durable.
//! One flush is in flight at a time, so "durable up to N" always covers everything before N.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::{
    config::Config,
    db::store::{self, SessionWrite, Store},
    event::SharedEvent,
    session::Durable,
};

/// After a failed flush the batch is kept and retried this much later.
const RETRY_AFTER: Duration = Duration::from_secs(1);

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
            return;
        }
        self.in_flight = true;
        self.pending_bytes = 0;
        // Kept here as well as moved into the write, so that a failure of any kind (the
        // transaction, the pool, the blocking task) can put the batch back: nothing is lost.
        let groups = Arc::new(group(std::mem::take(&mut self.pending)));
        let batch = groups.clone();
        let write = self.store.run(move |conn| {
            let writes: Vec<SessionWrite<'_>> = batch
                .iter()
                .map(|g| SessionWrite {
                    session_id: &g.session_id,
                    events: &g.events,
                    url: g.url.clone(),
                    first_event_ts: g.first_event_ts,
                })
                .collect();
            store::write_batch(conn, &writes)
        });
        ctx.spawn(write.into_actor(self).map(move |res, act, ctx| {
            act.in_flight = false;
            let groups = Arc::try_unwrap(groups).unwrap_or_else(|shared| (*shared).clone());
            match res {
                Ok(sizes) => {
                    for (g, (stored, raw)) in groups.into_iter().zip(sizes) {
                        if let Some(last) = g.events.last() {
                            g.notify.do_send(Durable {
                                up_to: last.seq,
                                bytes: g.bytes,
                                stored_bytes: stored,
                                raw_bytes: raw,
                            });
                        }
                    }
                    act.retry_at = None;
                }
                Err(e) => {
                    log::error!(
                        "writer: flush of {} sessions failed, will retry: {e}",
                        groups.len()
                    );
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
    let mut index = std::collections::HashMap::<Arc<str>, usize>::new();
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
