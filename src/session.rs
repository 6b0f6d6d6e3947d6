//! The session actor: one per active session. It drops resent events, keeps the rolling buffer
//! late viewers start from, fans events out to viewers before they are stored, hands them to the
//! writer, and ends the session once its recorder has been gone for the idle timeout.
//!
//! Buffer bound: the buffer holds every event not yet durable (at most `pending_max_bytes`;
//! past it ingest answers `overloaded` and the recorder retries) plus durable events from the
//! latest full snapshot on, trimmed to `buffer_max_bytes`. Anything trimmed is durable, so a
//! viewer reads it back from the database.

use std::{collections::VecDeque, sync::Arc, time::Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::{
    config::Config,
    db::store::{self, SessionInfo, SessionRow, Store},
    error::{Error, Result},
    event::{events_frame, now_ms, Event, SharedEvent, META},
    fanout::{Fanout, ToViewer},
    registry::{Registry, SessionChanged, SessionClosing, SessionGone},
    reorder::Reorder,
    writer::{Append, Writer},
};

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
}

pub struct Session {
    id: Arc<str>,
    cfg: Arc<Config>,
    store: Store,
    writer: Addr<Writer>,
    registry: Addr<Registry>,
    user_agent: Option<String>,
    row: Option<SessionRow>,
    buffer: VecDeque<SharedEvent>,
    buffer_bytes: usize,
    pending_bytes: usize,
    received_seq: u64,
    durable_seq: u64,
    /// (seq, visitor timestamp) of every Meta event: where a viewer can start.
    metas: Vec<(u64, i64)>,
    recorder: Option<(u64, Recipient<ToRecorder>)>,
    viewers: Fanout,
    reorder: Reorder,
    reorder_timer: Option<SpawnHandle>,
    waiters: Vec<(u64, oneshot::Sender<u64>)>,
    idle: Option<SpawnHandle>,
    /// The recorder's latest `{"type":"clock",…}` report, passed on to viewers.
    clock: Option<Arc<str>>,
    state: State,
    last_feed: Option<Instant>,
    /// A session-list update is scheduled for the end of the current feed interval.
    feed_scheduled: bool,
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
        store: Store,
        writer: Addr<Writer>,
        registry: Addr<Registry>,
        user_agent: Option<String>,
    ) -> Self {
        Session {
            id,
            cfg,
            store,
            writer,
            registry,
            user_agent,
            row: None,
            buffer: VecDeque::new(),
            buffer_bytes: 0,
            pending_bytes: 0,
            received_seq: 0,
            durable_seq: 0,
            metas: Vec::new(),
            recorder: None,
            viewers: Fanout::default(),
            reorder: Reorder::default(),
            reorder_timer: None,
            waiters: Vec::new(),
            idle: None,
            clock: None,
            state: State::Active,
            last_feed: None,
            feed_scheduled: false,
        }
    }

    fn info(&self) -> Option<SessionInfo> {
        self.row.as_ref().map(SessionRow::info)
    }

    /// Pushes the session's current state to dashboards watching the list.
    fn publish_info(&mut self) {
        if let Some(info) = self.info() {
            self.registry.do_send(SessionChanged(info));
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
        if self.state != State::Ending || self.durable_seq < self.received_seq {
            return;
        }
        if self.state != State::Closing {
            self.state = State::Closing;
            // From here on a returning recorder is told to retry, and gets a fresh actor once
            // this one is gone: the end is written before anything can reopen the session.
            self.registry.do_send(SessionClosing {
                id: self.id.clone(),
                addr: ctx.address(),
            });
        }
        let ended_at = now_ms();
        let id = self.id.clone();
        let write = self
            .store
            .run(move |c| store::end_session(c, &id, ended_at));
        ctx.wait(write.into_actor(self).map(move |res, act, ctx| {
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
            log::info!("session {} ended after {} events", act.id, act.received_seq);
            act.publish_info();
            act.viewers.publish(ToViewer::Ended);
            ctx.stop();
        }));
    }

    /// Drops durable events the buffer no longer needs: those before the latest full snapshot,
    /// and the oldest durable ones while over the byte bound.
    fn trim(&mut self) {
        let latest_meta = self.metas.last().map_or(0, |m| m.0);
        while let Some(front) = self.buffer.front() {
            let durable = front.seq <= self.durable_seq;
            let before_snapshot = front.seq < latest_meta;
            let over = self.buffer_bytes > self.cfg.buffer_max_bytes + self.pending_bytes;
            if !(durable && (before_snapshot || over)) {
                break;
            }
            self.buffer_bytes -= front.size();
            self.buffer.pop_front();
        }
    }

    /// First seq held in the buffer; everything before it is durable and in the database.
    fn buffer_start(&self) -> u64 {
        self.buffer.front().map_or(self.received_seq + 1, |e| e.seq)
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let (id, ua) = (self.id.clone(), self.user_agent.take());
        let open = self
            .store
            .run(move |c| store::open_session(c, &id, now_ms(), ua));
        // `wait` holds every other message until the session's state is loaded.
        ctx.wait(open.into_actor(self).map(|res, act, ctx| match res {
            Ok(opened) => {
                act.received_seq = opened.row.last_seq.max(0) as u64;
                act.durable_seq = act.received_seq;
                act.metas = opened.metas;
                log::info!("session {} started (from seq {})", act.id, act.received_seq);
                act.row = Some(opened.row);
                act.publish_info();
                act.restart_idle_timer(ctx);
            }
            Err(e) => {
                log::error!("session {}: could not open: {e}", act.id);
                act.state = State::Closing;
                ctx.stop();
            }
        }));
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.registry.do_send(SessionGone {
            id: self.id.clone(),
            addr: ctx.address(),
        });
    }
}

/// A recorder socket wants to stream into this session.
#[derive(Message)]
#[rtype(result = "Result<Welcome>")]
pub struct AttachRecorder {
    pub conn: u64,
    pub addr: Recipient<ToRecorder>,
}

#[derive(Debug, Clone, Copy)]
pub struct Welcome {
    pub received_seq: u64,
    pub durable_seq: u64,
}

impl Handler<AttachRecorder> for Session {
    type Result = Result<Welcome>;

    fn handle(&mut self, msg: AttachRecorder, ctx: &mut Self::Context) -> Self::Result {
        match (&self.recorder, self.state) {
            (_, State::Closing) => return Err(Error::SessionClosing),
            (Some((conn, _)), _) if *conn != msg.conn => return Err(Error::RecorderConflict),
            _ => {}
        }
        if let Some(h) = self.idle.take() {
            ctx.cancel_future(h);
        }
        self.state = State::Active;
        self.recorder = Some((msg.conn, msg.addr));
        Ok(Welcome {
            received_seq: self.received_seq,
            durable_seq: self.durable_seq,
        })
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
            self.restart_idle_timer(ctx);
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
        if self.state == State::Closing {
            return Err(Error::SessionClosing);
        }
        if self.recorder.is_none() {
            // A beacon is activity too: the session stays open for another idle period.
            self.state = State::Active;
            self.restart_idle_timer(ctx);
        }
        let ready = self.reorder.offer(self.received_seq, msg.events);
        if !self.reorder.is_empty() && self.reorder_timer.is_none() {
            self.reorder_timer = Some(ctx.run_later(REORDER_WAIT, |act, ctx| {
                act.reorder_timer = None;
                for batch in act.reorder.release_all(act.received_seq) {
                    if let Err(e) = act.accept(batch, ctx) {
                        log::warn!("session {}: parked events refused: {}", act.id, e.code());
                    }
                }
            }));
        }
        let mut accepted = 0;
        for batch in ready {
            accepted += self.accept(batch, ctx)?;
        }
        Ok(Ingested {
            accepted,
            received_seq: self.received_seq,
        })
    }
}

impl Session {
    /// Takes in-order events whose seqs are all above `received_seq`: forwards them to viewers,
    /// buffers them and hands them to the writer.
    fn accept(&mut self, events: Vec<Event>, ctx: &mut Context<Self>) -> Result<usize> {
        let fresh: Vec<SharedEvent> = events.into_iter().map(Arc::new).collect();
        let bytes: usize = fresh.iter().map(|e| e.size()).sum();
        let Some(last) = fresh.last() else {
            return Ok(0);
        };
        if self.pending_bytes + bytes > self.cfg.pending_max_bytes {
            return Err(Error::Overloaded);
        }
        // Forward first: viewers must not wait for anything else.
        if !self.viewers.is_empty() {
            let frame = events_frame(fresh.iter().map(|e| &**e));
            self.viewers
                .publish(ToViewer::Frame(frame.into(), last.seq));
        }

        self.received_seq = last.seq;
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
            if e.kind == META {
                self.metas.push((e.seq, e.ts));
            }
        }
        self.pending_bytes += bytes;
        self.buffer_bytes += bytes;
        self.buffer.extend(fresh.iter().cloned());
        let accepted = fresh.len();
        self.writer.do_send(Append {
            session_id: self.id.clone(),
            notify: ctx.address().recipient(),
            events: fresh,
            url,
            first_event_ts,
        });
        self.publish_growth(ctx);
        Ok(accepted)
    }
}

/// From the writer: events up to `up_to` are durable.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Durable {
    pub up_to: u64,
    pub bytes: usize,
    pub stored_bytes: i64,
    pub raw_bytes: i64,
}

impl Handler<Durable> for Session {
    type Result = ();

    fn handle(&mut self, msg: Durable, ctx: &mut Self::Context) {
        self.durable_seq = self.durable_seq.max(msg.up_to);
        self.pending_bytes = self.pending_bytes.saturating_sub(msg.bytes);
        if let Some(row) = self.row.as_mut() {
            row.stored_bytes += msg.stored_bytes;
            row.raw_bytes += msg.raw_bytes;
        }
        if let Some((_, recorder)) = &self.recorder {
            recorder.do_send(ToRecorder::Ack(self.durable_seq));
        }
        let durable = self.durable_seq;
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|(seq, _)| *seq <= durable);
        self.waiters = waiting;
        for (_, tx) in ready {
            let _ = tx.send(durable);
        }
        self.trim();
        self.maybe_finish(ctx);
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
        if msg.seq <= self.durable_seq {
            let durable = self.durable_seq;
            return Box::pin(async move { Ok(durable) });
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.push((msg.seq, tx));
        Box::pin(async move { rx.await.map_err(|_| Error::internal("session stopped")) })
    }
}

/// Where a viewer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// The latest full snapshot.
    Live,
    /// The first event.
    Start,
    /// The latest full snapshot at or before this many ms after the first event.
    Offset(i64),
}

/// The seq to start from, given the (seq, ts) of every Meta event in order.
pub fn pick_start(metas: &[(u64, i64)], from: StartFrom, first_event_ts: Option<i64>) -> u64 {
    match from {
        StartFrom::Start => 1,
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

/// A viewer joins (or, with no `addr`, a reader takes a snapshot of the buffer).
#[derive(Message)]
#[rtype(result = "Result<Subscription>")]
pub struct Subscribe {
    pub conn: u64,
    pub from: StartFrom,
    pub addr: Option<Recipient<ToViewer>>,
}

/// Everything from `start_seq` on: events `start_seq..stored_before` come from the database,
/// then `buffered`, then live frames. The actor answers and registers the viewer in one step,
/// so the seam has neither a gap nor a duplicate.
pub struct Subscription {
    pub info: SessionInfo,
    pub clock: Option<Arc<str>>,
    pub start_seq: u64,
    pub stored_before: u64,
    pub buffered: Vec<SharedEvent>,
}

impl Handler<Subscribe> for Session {
    type Result = Result<Subscription>;

    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> Self::Result {
        let info = self.info().ok_or(Error::SessionNotFound)?;
        let start_seq = pick_start(&self.metas, msg.from, info.first_event_ts);
        let stored_before = self.buffer_start();
        let buffered = self
            .buffer
            .iter()
            .filter(|e| e.seq >= start_seq)
            .cloned()
            .collect();
        if let Some(addr) = msg.addr {
            if self.state == State::Closing {
                return Err(Error::SessionClosing);
            }
            self.viewers.add(msg.conn, addr);
        }
        Ok(Subscription {
            info,
            clock: self.clock.clone(),
            start_seq,
            stored_before,
            buffered,
        })
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
        let frame: Arc<str> = format!(
            "{{\"type\":\"clock\",\"recorder_offset\":{},\"recorder_rtt\":{}}}",
            msg.offset, msg.rtt
        )
        .into();
        self.clock = Some(frame.clone());
        self.viewers.publish(ToViewer::Clock(frame));
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

#[cfg(test)]
mod tests {
    use super::*;

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
