//! The session actor: one per active session. It puts frames back in order (`reorder`), keeps
//! the rolling buffer late viewers start from (`backlog`), fans events out to viewers before
//! they are stored (`fanout`), hands them to the writer, and ends the session once its recorder
//! has been gone for the idle timeout. Its lifecycle goes to whoever holds the `Recipient` of
//! [`Lifecycle`] (the registry), so this module never reaches up to it.

mod acks;
mod backlog;
pub mod budget;
pub mod fanout;
mod ownership;
pub mod relay;
mod reorder;

use std::{sync::Arc, time::Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

pub use self::backlog::{pick_start, Snapshot, StartFrom};
pub use self::ownership::HandOver;
use self::{
    acks::{AckPacer, Pace},
    backlog::{Backlog, Limits},
    fanout::{Fanout, ToViewer, ViewerHandle},
    reorder::Reorder,
};
use crate::{
    config::Config,
    db::{
        sessions::{self, SessionRow},
        Store,
    },
    error::{Error, Result},
    event::{now_ms, Event, SharedEvent},
    heatmap::HeatAccumulator,
    metrics,
    protocol::{events_frame, outgoing::to_text, HubToViewer, SessionInfo},
    summary::SessionSummary,
    writer::{Append, Durable, SpooledSeq, Writer},
};

/// How long opening a session waits for a database connection before it opens without one.
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a frame that arrived ahead of a missing one waits for it (see `reorder`).
const REORDER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A failed write of the session's end is retried after this long.
const END_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// Session-list updates for a growing session are sent at most this often.
const FEED_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// What a session tells its recorder socket.
#[derive(Message)]
#[rtype(result = "()")]
pub enum ToRecorder {
    /// Every event with a seq up to this one is durable.
    Ack(u64),
    /// A gap stayed open: send everything again from this seq.
    Resend(u64),
    /// The hub is stopping: close with 1012 `shutting_down` (after any ack sent before).
    ShuttingDown,
    /// A newer connection of the same recorder (it presented the resume token) took over.
    Replaced,
}

/// What a session reports about itself to the registry. (`Changed` is the common message and
/// goes by value: boxing it would allocate once more per list update.)
#[allow(clippy::large_enum_variant)]
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub enum Lifecycle {
    /// Started, grew or ended: for dashboards watching the list.
    Changed(SessionInfo),
    /// Writing its end: it stops being served until it is gone.
    Closing(Arc<str>, Addr<Session>),
    /// Stopped.
    Gone(Arc<str>, Addr<Session>),
}

pub struct Session {
    id: Arc<str>,
    cfg: Arc<Config>,
    /// The hub-wide memory budget every session's backlog draws on.
    budget: Arc<budget::Budget>,
    store: Store,
    writer: Addr<Writer>,
    lifecycle: Recipient<Lifecycle>,
    user_agent: Option<String>,
    row: Option<SessionRow>,
    /// Set once the session's stored state is loaded.
    backlog: Option<Backlog>,
    recorder: Option<(u64, Recipient<ToRecorder>)>,
    /// Given to the recorder in `welcome`; presenting it takes the slot over (see
    /// `AttachRecorder`). Set by the first recorder of this actor, from what it presents.
    resume_token: Option<Arc<str>>,
    viewers: Fanout,
    reorder: Reorder,
    reorder_timer: Option<SpawnHandle>,
    waiters: Vec<(u64, oneshot::Sender<u64>)>,
    idle: Option<SpawnHandle>,
    /// The recorder's latest `{"type":"clock",…}` report, passed on to viewers.
    clock: Option<Arc<str>>,
    state: State,
    /// The hub is stopping: no new events or viewers, only final acks.
    draining: bool,
    /// A recording on demand was stopped: end as soon as the recorder is gone, without waiting
    /// for the idle timeout (which is there for page navigations).
    end_on_detach: bool,
    last_feed: Option<Instant>,
    /// A session-list update is scheduled for the end of the current feed interval.
    feed_scheduled: bool,
    /// Its events not yet durable, as counted in `/metrics`.
    lag: metrics::LagShare,
    /// Coalesces durable acks to the recorder (see `acks`).
    acks: AckPacer,
    ack_timer: Option<SpawnHandle>,
    /// Opened without the database: what it stored of this session is unknown.
    provisional: bool,
    /// The row to create or reopen with the session's first write (no active row at start).
    opened: Option<sessions::NewSession>,
    /// What is derived from its events (user, pages, clicks, errors…), stored with them.
    summary: SessionSummary,
    /// What its events add to the heatmaps, stored with them like the summary.
    heat: HeatAccumulator,
    /// Cluster mode: the bus and this hub's ownership of the session (see `ownership`).
    cluster: Option<ownership::ClusterSide>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum State {
    Active,
    /// The idle timeout passed; waiting for the writer before the end is recorded.
    Ending,
    /// The end is being written; new recorders must wait for the next actor.
    Closing,
}

impl Session {
    pub fn new(
        id: Arc<str>,
        cfg: Arc<Config>,
        budget: Arc<budget::Budget>,
        store: Store,
        writer: Addr<Writer>,
        lifecycle: Recipient<Lifecycle>,
        user_agent: Option<String>,
    ) -> Self {
        Session {
            id,
            budget,
            store,
            writer,
            lifecycle,
            user_agent,
            row: None,
            backlog: None,
            recorder: None,
            resume_token: None,
            viewers: Fanout::default(),
            reorder: Reorder::default(),
            reorder_timer: None,
            waiters: Vec::new(),
            idle: None,
            clock: None,
            state: State::Active,
            draining: false,
            end_on_detach: false,
            last_feed: None,
            feed_scheduled: false,
            lag: metrics::LagShare::default(),
            acks: AckPacer::new(cfg.ack_interval()),
            ack_timer: None,
            cfg,
            provisional: false,
            opened: None,
            summary: SessionSummary::default(),
            heat: HeatAccumulator::default(),
            cluster: None,
        }
    }

    /// A session of a cluster: owned by one hub at a time, its events relayed to the others.
    pub fn in_cluster(mut self, relay: Option<Arc<dyn relay::Relay>>) -> Self {
        self.cluster = relay.map(ownership::ClusterSide::new);
        self
    }

    /// A session without an active row: new, ended, or unknown while the database cannot be
    /// read (`provisional`). Its row is created or reopened by the writer with its first events
    /// (through the spool during an outage), so a connection that sends nothing leaves no row.
    fn open_anew(
        &mut self,
        now: i64,
        user_agent: Option<String>,
        found: Option<sessions::OpenedSession>,
    ) -> sessions::OpenedSession {
        let opened = found.unwrap_or_else(|| sessions::OpenedSession {
            row: SessionRow::new(&self.id, now, user_agent.clone()),
            metas: Vec::new(),
            pages: Vec::new(),
            event_names: Vec::new(),
        });
        self.opened = Some(sessions::NewSession {
            started_at: opened.row.started_at,
            user_agent,
        });
        let mut opened = opened;
        opened.row.ended_at = None;
        opened
    }

    fn info(&self) -> Option<SessionInfo> {
        self.row.as_ref().map(SessionRow::info)
    }

    /// The session with the distinct pages it visited (for `GET /api/sessions/{id}`).
    fn detailed_info(&self) -> Option<SessionInfo> {
        let mut info = self.info()?;
        info.pages = Some(self.summary.pages().to_vec());
        Some(info)
    }

    /// Whether the session takes new events and viewers: not while the hub stops, nor once its
    /// end is being written.
    fn taking_more(&self) -> Result<()> {
        if self.draining {
            Err(Error::ShuttingDown)
        } else if self.state == State::Closing
            || self.cluster.as_ref().is_some_and(|c| c.handing_over())
        {
            Err(Error::SessionClosing)
        } else {
            Ok(())
        }
    }

    fn received_seq(&self) -> u64 {
        self.backlog.as_ref().map_or(0, Backlog::received_seq)
    }

    /// Pushes the session's current state to dashboards watching the list.
    fn publish_info(&mut self) {
        if let Some(info) = self.info() {
            self.lifecycle.do_send(Lifecycle::Changed(info));
            self.last_feed = Some(Instant::now());
        }
    }

    /// Pushes growth at most once per `FEED_INTERVAL`, and always the last change of a burst: it
    /// goes out when the interval ends, so the list never keeps a stale count or a missing URL.
    fn publish_growth(&mut self, ctx: &mut Context<Self>) {
        if self.feed_scheduled {
            return;
        }
        let wait = self.last_feed.map_or(std::time::Duration::ZERO, |t| {
            FEED_INTERVAL.saturating_sub(t.elapsed())
        });
        if wait.is_zero() {
            return self.publish_info();
        }
        self.feed_scheduled = true;
        ctx.run_later(wait, |act, _| {
            act.feed_scheduled = false;
            act.publish_info();
        });
    }

    fn restart_idle_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.idle.take() {
            ctx.cancel_future(h);
        }
        self.idle = Some(ctx.run_later(self.cfg.idle_timeout(), |act, ctx| {
            act.idle = None;
            if act.recorder.is_none() && act.state == State::Active {
                act.state = State::Ending;
                act.maybe_finish(ctx);
            }
        }));
    }

    /// Records the end once everything received is durable, then stops.
    fn maybe_finish(&mut self, ctx: &mut Context<Self>) {
        let all_durable = self.backlog.as_ref().is_none_or(Backlog::all_durable);
        if self.state != State::Ending || !all_durable {
            return;
        }
        if self.opened.is_some() {
            // Its row was never created or reopened (no event came): there is nothing to end.
            log::info!("session {} ended without events", self.id);
            return ctx.stop();
        }
        self.state = State::Closing;
        // From here on a returning recorder is told to retry, and gets a fresh actor once this
        // one is gone: the end is written before anything can reopen the session.
        self.lifecycle
            .do_send(Lifecycle::Closing(self.id.clone(), ctx.address()));
        let ended_at = now_ms();
        let id = self.id.clone();
        let write = self
            .store
            .run(move |c| sessions::end_session(c, &id, ended_at));
        ctx.wait(write.into_actor(self).map(move |res, act, ctx| {
            // No row yet: it is in the spool, and created once the spool drains.
            let res = res.and_then(|found| {
                found
                    .then_some(())
                    .ok_or_else(|| Error::internal("its row is not stored yet"))
            });
            if let Err(e) = res {
                log::error!(
                    "session {}: recording its end failed, retrying: {e}",
                    act.id
                );
                ctx.run_later(END_RETRY, |act, ctx| {
                    act.state = State::Ending;
                    act.maybe_finish(ctx);
                });
                return;
            }
            if let Some(row) = act.row.as_mut() {
                row.ended_at = Some(ended_at);
            }
            log::info!(
                "session {} ended after {} events",
                act.id,
                act.received_seq()
            );
            act.publish_info();
            act.publish(ToViewer::Ended);
            if let Some(cluster) = &act.cluster {
                cluster.relay.ended(&act.id, act.received_seq());
            }
            ctx.stop();
        }));
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::SESSIONS_ACTIVE.inc();
        let (id, ua) = (self.id.clone(), self.user_agent.take());
        let (store, writer) = (self.store.clone(), self.writer.clone());
        let now = now_ms();
        let relay = self.cluster.as_ref().map(|c| c.relay.clone());
        let open = async move {
            // In a cluster, the stored state is read once the previous owner let go of it.
            let claimed = match relay {
                Some(relay) => ownership::claim(store.clone(), relay, id.clone())
                    .await
                    .map(Some),
                None => Ok(None),
            };
            // Events of this session may still be in the spool, past what the database has.
            let spooled = writer.send(SpooledSeq(id.clone())).await.ok().flatten();
            let epoch = claimed.as_ref().ok().copied().flatten();
            let found = match claimed {
                Ok(_) => {
                    store
                        .run_within(Some(OPEN_WAIT), move |c| sessions::find_session(c, &id))
                        .await
                }
                Err(e) => Err(e),
            };
            (spooled, found, ua, epoch)
        };
        // `wait` holds every other message until the session's state is loaded.
        ctx.wait(
            open.into_actor(self)
                .map(move |(spooled, res, ua, epoch), act, ctx| {
                    let opened = match res {
                        Ok(Some(found)) if found.row.ended_at.is_none() => found,
                        Ok(found) => act.open_anew(now, ua, found),
                        Err(e) if e.is_unavailable() => {
                            log::warn!(
                                "session {}: the database cannot be read ({e}); recording it all \
                                 the same",
                                act.id
                            );
                            act.provisional = true;
                            act.open_anew(now, ua, None)
                        }
                        Err(e) => {
                            log::error!("session {}: could not open: {e}", act.id);
                            act.state = State::Closing;
                            return ctx.stop();
                        }
                    };
                    // After a restart the page and viewport carry on from what is stored.
                    act.heat = HeatAccumulator::new(
                        crate::event::split_key(&act.id).0,
                        opened
                            .pages
                            .last()
                            .or(opened.row.url.as_ref())
                            .map(String::as_str),
                        opened.row.viewport_width,
                        opened.row.viewport_height,
                    );
                    act.summary = SessionSummary::resume(
                        opened.row.derived(),
                        opened.row.first_event_ts,
                        opened.pages,
                        opened.event_names,
                    );
                    let stored = (opened.row.last_seq.max(0) as u64).max(spooled.unwrap_or(0));
                    let limits = Limits {
                        max_history: act.cfg.buffer_max_bytes,
                        max_pending: act.cfg.pending_max_bytes,
                    };
                    act.backlog = Some(Backlog::new(
                        limits,
                        act.budget.clone(),
                        stored,
                        opened.metas,
                    ));
                    log::info!("session {} started (from seq {stored})", act.id);
                    let mut row = opened.row;
                    row.last_seq = stored as i64;
                    act.row = Some(row);
                    act.publish_info();
                    act.restart_idle_timer(ctx);
                    if let Some(epoch) = epoch {
                        act.start_lease(epoch, ctx);
                    }
                }),
        );
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        metrics::SESSIONS_ACTIVE.dec();
        self.release_ownership();
        self.lifecycle
            .do_send(Lifecycle::Gone(self.id.clone(), ctx.address()));
    }
}

/// A recorder socket wants to stream into this session, presenting the resume token it was
/// given before, if any.
#[derive(Message)]
#[rtype(result = "Result<Welcome>")]
pub struct AttachRecorder {
    pub conn: u64,
    pub addr: Recipient<ToRecorder>,
    pub resume: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Welcome {
    pub received_seq: u64,
    pub durable_seq: u64,
    pub resume_token: Arc<str>,
}

/// Resume tokens are 128 random bits; a presented one is taken as is only if it is that shape.
fn token_or_new(presented: Option<&str>) -> Arc<str> {
    match presented {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.into(),
        _ => uuid::Uuid::new_v4().simple().to_string().into(),
    }
}

impl Handler<AttachRecorder> for Session {
    type Result = Result<Welcome>;

    /// The slot goes to a recorder that presents the session's token (taking it over from a
    /// connection that died silently, at once), or to the first recorder of this actor. Anyone
    /// else is refused while the session is active, with or without a recorder attached.
    fn handle(&mut self, msg: AttachRecorder, ctx: &mut Self::Context) -> Self::Result {
        if self.state == State::Closing {
            return Err(Error::SessionClosing);
        }
        let backlog = self.backlog.as_ref().ok_or(Error::SessionClosing)?;
        let presented = msg.resume.as_deref();
        let token = match &self.resume_token {
            Some(t) if presented == Some(&**t) => t.clone(),
            Some(_) => return Err(Error::RecorderConflict),
            None => token_or_new(presented),
        };
        let welcome = Welcome {
            received_seq: backlog.received_seq(),
            durable_seq: backlog.durable_seq(),
            resume_token: token.clone(),
        };
        if let Some((old, recorder)) = self.recorder.take() {
            if old != msg.conn {
                log::info!(
                    "session {}: a recorder resumed over its old connection",
                    self.id
                );
                recorder.do_send(ToRecorder::Replaced);
            }
        }
        if let Some(h) = self.idle.take() {
            ctx.cancel_future(h);
        }
        self.resume_token = Some(token);
        self.state = State::Active;
        self.recorder = Some((msg.conn, msg.addr));
        Ok(welcome)
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct DetachRecorder {
    pub conn: u64,
}

impl Handler<DetachRecorder> for Session {
    type Result = ();

    fn handle(&mut self, msg: DetachRecorder, ctx: &mut Self::Context) {
        if self.recorder.as_ref().is_some_and(|(c, _)| *c == msg.conn) {
            self.recorder = None;
            match self.end_on_detach {
                true => self.end_now(ctx),
                false => self.restart_idle_timer(ctx),
            }
        }
    }
}

/// A recording on demand was stopped (Stop, or its grace after the last viewer ran out): the
/// session ends once its recorder has left, at once if it already has.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EndOnDetach;

impl Handler<EndOnDetach> for Session {
    type Result = ();

    fn handle(&mut self, _: EndOnDetach, ctx: &mut Self::Context) {
        self.end_on_detach = true;
        if self.recorder.is_none() {
            self.end_now(ctx);
        }
    }
}

impl Session {
    fn end_now(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.idle.take() {
            ctx.cancel_future(h);
        }
        if self.state == State::Active {
            self.state = State::Ending;
            self.maybe_finish(ctx);
        }
    }
}

/// Events from a recorder socket or from `POST /api/sessions/{id}/events`.
#[derive(Message)]
#[rtype(result = "Result<Ingested>")]
pub struct Ingest {
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy)]
pub struct Ingested {
    pub accepted: usize,
    pub received_seq: u64,
}

impl Handler<Ingest> for Session {
    type Result = Result<Ingested>;

    fn handle(&mut self, msg: Ingest, ctx: &mut Self::Context) -> Self::Result {
        self.taking_more()?;
        if self.recorder.is_none() {
            // A beacon is activity too: the session stays open for another idle period.
            self.state = State::Active;
            self.restart_idle_timer(ctx);
        }
        if self.provisional {
            // Opened without the database: a recorder continuing from events stored earlier
            // cannot be taken up (where it left off is unknown) until the database is back.
            let first = msg.events.first().map_or(0, |e| e.seq);
            if first > self.received_seq() + 1 {
                return Err(Error::Unavailable);
            }
        }
        let ready = self.reorder.offer(self.received_seq(), msg.events)?;
        if !self.reorder.is_empty() && self.reorder_timer.is_none() {
            self.reorder_timer = Some(ctx.run_later(REORDER_WAIT, |act, _| {
                act.reorder_timer = None;
                act.ask_for_gap();
            }));
        }
        let mut accepted = 0;
        for batch in ready {
            accepted += self.accept(batch, ctx)?;
        }
        Ok(Ingested {
            accepted,
            received_seq: self.received_seq(),
        })
    }
}

impl Session {
    /// A gap stayed open for `REORDER_WAIT`: never skip it (that would acknowledge events never
    /// stored); ask the recorder to send everything again from the gap, and forget what was
    /// parked, which it still holds. Without a recorder, the parked frames wait for one: its
    /// welcome tells it where to resume.
    fn ask_for_gap(&mut self) {
        if self.reorder.is_empty() {
            return;
        }
        let from = self.received_seq() + 1;
        if let Some((_, recorder)) = &self.recorder {
            log::info!(
                "session {}: asking the recorder to resend from seq {from}",
                self.id
            );
            recorder.do_send(ToRecorder::Resend(from));
            self.reorder.clear();
        }
    }

    /// Takes in-order events whose seqs are all above the received seq: forwards them to
    /// viewers, buffers them and hands them to the writer.
    fn accept(&mut self, events: Vec<Event>, ctx: &mut Context<Self>) -> Result<usize> {
        let fresh: Vec<SharedEvent> = events.into_iter().map(Arc::new).collect();
        let backlog = self.backlog.as_mut().ok_or(Error::SessionClosing)?;
        let Some(last) = fresh.last() else {
            return Ok(0);
        };
        let bytes = backlog.accept(&fresh)?;
        self.lag
            .set(backlog.received_seq().saturating_sub(backlog.durable_seq()));
        metrics::EVENTS_IN.add(fresh.len() as u64);
        // Forward first: viewers (here and on other hubs) must not wait for anything else.
        if !self.viewers.is_empty() || self.cluster.is_some() {
            let frame: Arc<str> = events_frame(fresh.iter().map(|e| &**e)).into();
            if let Some(cluster) = &self.cluster {
                let snapshot = fresh.iter().any(|e| e.kind == crate::event::META);
                let first = fresh.first().map_or(last.seq, |e| e.seq);
                cluster
                    .relay
                    .events(&self.id, &frame, first, last.seq, snapshot);
            }
            if !self.viewers.is_empty() {
                self.publish(ToViewer::Frame(frame, last.seq));
            }
        }
        let (mut url, mut first_event_ts) = (None, None);
        if let Some(row) = self.row.as_mut() {
            row.event_count += fresh.len() as i64;
            row.last_event_at = last.hub_time;
            row.last_seq = last.seq as i64;
            if row.first_event_ts.is_none() {
                row.first_event_ts = fresh.first().map(|e| e.ts);
                first_event_ts = row.first_event_ts;
            }
            if row.url.is_none() {
                row.url = fresh.iter().find_map(|e| e.meta_href());
                url = row.url.clone();
            }
        }
        for e in &fresh {
            self.summary.observe(e);
            if self.cfg.heatmaps {
                self.heat.observe(e);
            }
        }
        let mut summary = self.summary.take_write();
        if let (Some(s), Some(h)) = (summary.as_mut(), self.heat.take()) {
            s.heat = h;
        }
        if let (Some(row), Some(s)) = (self.row.as_mut(), &summary) {
            row.set_derived(&s.derived);
        }
        let accepted = fresh.len();
        self.provisional = false;
        self.writer.do_send(Append {
            opened: self.opened.take(),
            session_id: self.id.clone(),
            notify: ctx.address().recipient(),
            events: fresh,
            url,
            first_event_ts,
            bytes,
            summary,
            fence: self
                .cluster
                .as_ref()
                .and_then(ownership::ClusterSide::fence),
        });
        self.publish_growth(ctx);
        Ok(accepted)
    }
}

impl Handler<Durable> for Session {
    type Result = ();

    fn handle(&mut self, msg: Durable, ctx: &mut Self::Context) {
        if msg.lost {
            return self.lost_ownership(ctx);
        }
        let Some(backlog) = self.backlog.as_mut() else {
            return;
        };
        backlog.durable(msg.up_to, msg.bytes);
        let durable = backlog.durable_seq();
        self.lag.set(backlog.received_seq().saturating_sub(durable));
        if let Some(row) = self.row.as_mut() {
            row.stored_bytes += msg.stored_bytes;
            row.raw_bytes += msg.raw_bytes;
        }
        self.pace_ack(durable, ctx);
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|(seq, _)| *seq <= durable);
        self.waiters = waiting;
        for (_, tx) in ready {
            let _ = tx.send(durable);
        }
        self.maybe_finish(ctx);
        self.maybe_hand_over(ctx);
    }
}

impl Session {
    /// Acknowledges `durable` to the recorder now, or once the ack interval has passed.
    fn pace_ack(&mut self, durable: u64, ctx: &mut Context<Self>) {
        match self.acks.durable(durable, Instant::now()) {
            Pace::Now(seq) => self.send_ack(seq),
            Pace::Later(wait) if self.ack_timer.is_none() => {
                self.ack_timer = Some(ctx.run_later(wait, |act, _| {
                    act.ack_timer = None;
                    if let Some(seq) = act.acks.due(Instant::now()) {
                        act.send_ack(seq);
                    }
                }));
            }
            Pace::Later(_) | Pace::Nothing => {}
        }
    }

    fn send_ack(&self, seq: u64) {
        if let Some((_, recorder)) = &self.recorder {
            recorder.do_send(ToRecorder::Ack(seq));
        }
    }
}

/// Resolves once every event up to `seq` is durable; used where a reply must mean "stored".
#[derive(Message)]
#[rtype(result = "Result<u64>")]
pub struct WaitDurable {
    pub seq: u64,
}

impl Handler<WaitDurable> for Session {
    type Result = ResponseFuture<Result<u64>>;

    fn handle(&mut self, msg: WaitDurable, _: &mut Self::Context) -> Self::Result {
        let durable = self.backlog.as_ref().map_or(0, Backlog::durable_seq);
        if msg.seq <= durable {
            return Box::pin(async move { Ok(durable) });
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.push((msg.seq, tx));
        Box::pin(async move { rx.await.map_err(|_| Error::internal("session stopped")) })
    }
}

/// What a viewer or reader starts from: the session as it is, the latest clock report and the
/// backlog's snapshot. A viewer is registered in the same step, so the seam between the
/// snapshot and live frames has neither a gap nor a duplicate.
pub struct Subscription {
    pub info: SessionInfo,
    pub clock: Option<Arc<str>>,
    pub snapshot: Snapshot,
}

impl Session {
    fn publish(&mut self, msg: ToViewer) {
        let cut = self.viewers.publish(msg);
        metrics::VIEWERS_CUT.add(cut.len() as u64);
        if !cut.is_empty() {
            log::warn!(
                "session {}: {} viewers cut for falling {} MiB behind",
                self.id,
                cut.len(),
                fanout::MAX_QUEUED_BYTES >> 20
            );
        }
    }

    fn subscription(&self, from: StartFrom) -> Result<Subscription> {
        let info = self.info().ok_or(Error::SessionNotFound)?;
        let backlog = self.backlog.as_ref().ok_or(Error::SessionNotFound)?;
        Ok(Subscription {
            snapshot: backlog.snapshot(from, info.first_event_ts),
            info,
            clock: self.clock.clone(),
        })
    }
}

/// A viewer joins.
#[derive(Message)]
#[rtype(result = "Result<Subscription>")]
pub struct Subscribe {
    pub from: StartFrom,
    pub viewer: ViewerHandle,
}

impl Handler<Subscribe> for Session {
    type Result = Result<Subscription>;

    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> Self::Result {
        self.taking_more()?;
        let sub = self.subscription(msg.from)?;
        self.viewers.add(msg.viewer);
        Ok(sub)
    }
}

/// A reader (the events API) takes the backlog's snapshot without following live events.
#[derive(Message)]
#[rtype(result = "Result<Subscription>")]
pub struct Read {
    pub from: StartFrom,
}

impl Handler<Read> for Session {
    type Result = Result<Subscription>;

    fn handle(&mut self, msg: Read, _: &mut Self::Context) -> Self::Result {
        self.subscription(msg.from)
    }
}

/// The recorder's clock estimate: offset (hub − visitor) and round trip, in ms.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RecorderClock {
    pub offset: f64,
    pub rtt: f64,
}

impl Handler<RecorderClock> for Session {
    type Result = ();

    fn handle(&mut self, msg: RecorderClock, _: &mut Self::Context) {
        let frame: Arc<str> = to_text(&HubToViewer::Clock {
            recorder_offset: msg.offset,
            recorder_rtt: msg.rtt,
        })
        .into();
        self.clock = Some(frame.clone());
        if let Some(cluster) = &self.cluster {
            cluster.relay.clock(&self.id, &frame);
        }
        self.publish(ToViewer::Clock(frame));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub conn: u64,
}

impl Handler<Unsubscribe> for Session {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        self.viewers.remove(msg.conn);
    }
}

#[derive(Message)]
#[rtype(result = "Option<SessionInfo>")]
pub struct GetInfo;

impl Handler<GetInfo> for Session {
    type Result = Option<SessionInfo>;

    fn handle(&mut self, _: GetInfo, _: &mut Self::Context) -> Self::Result {
        self.info()
    }
}

/// As [`GetInfo`], with the distinct pages visited.
#[derive(Message)]
#[rtype(result = "Option<SessionInfo>")]
pub struct GetDetails;

impl Handler<GetDetails> for Session {
    type Result = Option<SessionInfo>;

    fn handle(&mut self, _: GetDetails, _: &mut Self::Context) -> Self::Result {
        self.detailed_info()
    }
}

/// The hub is stopping. `Quiesce`: take no more events or viewers (what was accepted is still
/// stored and acknowledged). `CloseSockets`: then close the recorder's and the viewers' sockets.
#[derive(Message, Clone, Copy, PartialEq, Eq)]
#[rtype(result = "()")]
pub enum Stopping {
    Quiesce,
    CloseSockets,
}

impl Handler<Stopping> for Session {
    type Result = ();

    fn handle(&mut self, msg: Stopping, _: &mut Self::Context) {
        self.draining = true;
        if msg == Stopping::CloseSockets {
            // The final ack goes before the close, held or not.
            if let Some(seq) = self.acks.flush(Instant::now()) {
                self.send_ack(seq);
            }
            if let Some((_, recorder)) = &self.recorder {
                recorder.do_send(ToRecorder::ShuttingDown);
            }
            self.publish(ToViewer::ShuttingDown);
            // Everything accepted is durable by now: the recorder's next hub takes over at once.
            self.release_ownership();
        }
    }
}
