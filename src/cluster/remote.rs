//! A session recorded on another hub, as this hub's viewers see it: the actor follows the
//! session's subject while it has viewers, fills gaps from the database (`follow`), and answers
//! `Subscribe`, `Read` and `Unsubscribe` like a local session, through the same fan-out, so the
//! viewer protocol is the same. When the bus is lost its viewers are closed with
//! `bus_unavailable` and reconnect.
//!
//! Two paths feed it. The live tail is a plain core-NATS subscription, made first: a frame
//! goes publisher → server → here with no storage, acks or flow control on the way (a JetStream
//! push consumer for the live part cost tens of ms at the median and hundreds at p99 on a loaded
//! machine: see docs/PERFORMANCE.md, "Cluster mode"). The catch-up, from the latest full
//! snapshot up to the newest message at the time of joining, is read from the JetStream stream
//! once, and its consumer dropped. The two overlap; the follower drops every seq it already
//! has, and what falls between them (a frame the stream had not stored yet when its newest
//! sequence was read) is a gap filled from the database.

use std::{sync::Arc, time::Duration};

use actix::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{follow::Follower, follow::Step, Bus, H_KIND, H_LAST, KIND_CLOCK, KIND_END};
use crate::{
    db::{chunks, sessions, Store},
    error::{Error, Result},
    event::{parse_event, Event},
    protocol::{events_frame, SessionInfo},
    session::{
        fanout::{Fanout, ToViewer},
        Read, Subscribe, Subscription, Unsubscribe,
    },
};

/// How long a followed session without viewers is kept (a viewer reconnecting finds it).
const LINGER: Duration = Duration::from_secs(5);
/// How long the first messages (up to the newest the stream held) may take to arrive.
const CATCH_UP: Duration = Duration::from_secs(10);
/// A gap the database does not cover yet is read again after this long.
const FILL_RETRY: Duration = Duration::from_millis(200);
/// Bytes per read of a gap from the database.
const FILL_BYTES: usize = 4 * 1024 * 1024;

/// To the registry: this follower stopped.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoteGone(pub Arc<str>, pub Addr<RemoteSession>);

pub struct RemoteSession {
    key: Arc<str>,
    bus: Arc<Bus>,
    store: Store,
    max_bytes: usize,
    gone: Recipient<RemoteGone>,
    info: Option<SessionInfo>,
    follower: Option<Follower>,
    viewers: Fanout,
    clock: Option<Arc<str>>,
    /// Reading a gap from the database.
    filling: bool,
    /// The session ended after this seq; the end goes out once everything up to it did.
    end_after: Option<u64>,
    /// The bus was lost, or following never started: new viewers are refused.
    broken: bool,
    linger: Option<SpawnHandle>,
}

impl RemoteSession {
    pub fn new(
        key: Arc<str>,
        bus: Arc<Bus>,
        store: Store,
        max_bytes: usize,
        gone: Recipient<RemoteGone>,
    ) -> Self {
        RemoteSession {
            key,
            bus,
            store,
            max_bytes,
            gone,
            info: None,
            follower: None,
            viewers: Fanout::default(),
            clock: None,
            filling: false,
            end_after: None,
            broken: false,
            linger: None,
        }
    }

    /// Stops after `LINGER` unless a viewer comes.
    fn linger(&mut self, ctx: &mut Context<Self>) {
        if self.viewers.is_empty() && self.linger.is_none() {
            self.linger = Some(ctx.run_later(LINGER, |act, ctx| {
                act.linger = None;
                if act.viewers.is_empty() {
                    ctx.stop();
                }
            }));
        }
    }

    /// The bus is gone: viewers reconnect (to whatever serves the session then).
    fn lose(&mut self, ctx: &mut Context<Self>, why: &str) {
        if !self.broken {
            log::warn!("cluster: stopped following {}: {why}", self.key);
        }
        self.broken = true;
        self.viewers.publish(ToViewer::BusLost);
        ctx.stop();
    }

    fn on_message(&mut self, msg: &async_nats::Message, ctx: &mut Context<Self>) {
        let kind = msg
            .headers
            .as_ref()
            .and_then(|h| h.get(H_KIND))
            .map(|v| v.as_str().to_owned());
        match kind.as_deref() {
            Some(KIND_CLOCK) => {
                let frame: Arc<str> = String::from_utf8_lossy(&msg.payload).into();
                self.clock = Some(frame.clone());
                self.viewers.publish(ToViewer::Clock(frame));
            }
            Some(KIND_END) => {
                let last = msg
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(H_LAST))
                    .and_then(|v| v.as_str().parse().ok())
                    .unwrap_or(0);
                self.end_after = Some(last);
                self.maybe_end(ctx);
            }
            _ => match parse_frame(&msg.payload) {
                Ok(events) => {
                    let Some(follower) = self.follower.as_mut() else {
                        return;
                    };
                    let step = follower.offer(events);
                    self.step(step, ctx);
                }
                Err(e) => log::warn!("cluster: a frame of {} is unreadable: {e}", self.key),
            },
        }
    }

    fn step(&mut self, step: Step, ctx: &mut Context<Self>) {
        match step {
            Step::Forward(events) => self.forward(&events, ctx),
            Step::Gap { from, to } => self.fill(from, to, ctx),
        }
    }

    fn forward(&mut self, events: &[crate::event::SharedEvent], ctx: &mut Context<Self>) {
        if let Some(last) = events.last() {
            if !self.viewers.is_empty() {
                let frame = events_frame(events.iter().map(|e| &**e));
                self.viewers
                    .publish(ToViewer::Frame(frame.into(), last.seq));
            }
        }
        self.maybe_end(ctx);
    }

    /// Reads a gap from the database; again later while it is not all stored yet.
    fn fill(&mut self, from: u64, to: u64, ctx: &mut Context<Self>) {
        if self.filling {
            return;
        }
        self.filling = true;
        let key = self.key.to_string();
        let read = self
            .store
            .read(move |c| chunks::load_events(c, &key, from, Some(to + 1), FILL_BYTES));
        ctx.spawn(read.into_actor(self).map(move |res, act, ctx| {
            act.filling = false;
            let stored = match res {
                Ok(events) => events,
                Err(e) => {
                    log::warn!("cluster: filling a gap of {} failed: {e}", act.key);
                    Vec::new()
                }
            };
            let Some(follower) = act.follower.as_mut() else {
                return;
            };
            let got = follower.fill(stored);
            let next = follower.gap();
            act.forward(&got, ctx);
            if let Step::Gap { .. } = next {
                ctx.run_later(FILL_RETRY, move |act, ctx| {
                    if let Some(step) = act.follower.as_ref().map(Follower::gap) {
                        act.step(step, ctx);
                    }
                });
            }
        }));
    }

    fn maybe_end(&mut self, ctx: &mut Context<Self>) {
        let received = self.follower.as_ref().and_then(Follower::received);
        if let Some(end) = self.end_after {
            if received.unwrap_or(0) >= end {
                self.viewers.publish(ToViewer::Ended);
                ctx.stop();
            }
        }
    }

    fn subscription(&self, from: crate::session::StartFrom) -> Result<Subscription> {
        if self.broken {
            return Err(Error::BusUnavailable);
        }
        let info = self.info.clone().ok_or(Error::SessionNotFound)?;
        let follower = self.follower.as_ref().ok_or(Error::BusUnavailable)?;
        Ok(Subscription {
            snapshot: follower.snapshot(from, info.first_event_ts),
            info,
            clock: self.clock.clone(),
        })
    }
}

/// The events of a `{"type":"events","events":[{"seq":…,"hub_time":…,"event":…}]}` frame.
fn parse_frame(payload: &[u8]) -> Result<Vec<Event>> {
    #[derive(Deserialize)]
    struct Frame<'a> {
        #[serde(borrow)]
        events: Vec<Envelope<'a>>,
    }
    #[derive(Deserialize)]
    struct Envelope<'a> {
        seq: u64,
        hub_time: i64,
        #[serde(borrow)]
        event: &'a RawValue,
    }
    let frame: Frame<'_> =
        serde_json::from_slice(payload).map_err(|e| Error::InvalidFrame(e.to_string()))?;
    frame
        .events
        .iter()
        .map(|e| parse_event(e.event, e.seq, e.hub_time))
        .collect()
}

/// What following starts from: the stored session, and the messages the stream held.
struct Start {
    info: SessionInfo,
    stored: u64,
    metas: Vec<(u64, i64)>,
    held: Vec<async_nats::Message>,
    /// The stream held nothing of the session: it starts from what is stored.
    empty: bool,
    /// The live tail, subscribed before the catch-up was read.
    live: async_nats::Subscriber,
}

async fn start(bus: Arc<Bus>, store: Store, key: Arc<str>) -> Result<Start> {
    use futures_util::StreamExt;
    if !bus.is_connected() {
        return Err(Error::BusUnavailable);
    }
    let id = key.to_string();
    let found = store
        .read(move |c| sessions::find_session(c, &id))
        .await?
        .ok_or(Error::SessionNotFound)?;
    let live = bus.subscribe(&key).await?;
    let newest = bus.last_sequence(&key).await?;
    let mut held = Vec::new();
    if let Some(newest) = newest {
        let mut messages = bus.follow(&key).await?;
        let catch_up = async {
            while let Some(msg) = messages.next().await {
                let msg = msg.map_err(|_| Error::BusUnavailable)?;
                let seq = msg.info().map_or(0, |i| i.stream_sequence);
                held.push(msg.message);
                if seq >= newest {
                    return Ok(());
                }
            }
            Err(Error::BusUnavailable)
        };
        actix_web::rt::time::timeout(CATCH_UP, catch_up)
            .await
            .map_err(|_| Error::BusUnavailable)??;
    }
    Ok(Start {
        info: found.row.info(),
        stored: found.row.last_seq.max(0) as u64,
        metas: found.metas,
        held,
        empty: newest.is_none(),
        live,
    })
}

impl Actor for RemoteSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let begin = start(self.bus.clone(), self.store.clone(), self.key.clone());
        // `wait`: viewers subscribe once what the stream held has been taken in.
        ctx.wait(begin.into_actor(self).map(|res, act, ctx| {
            let start = match res {
                Ok(start) => start,
                Err(e) => {
                    log::warn!("cluster: cannot follow {}: {e}", act.key);
                    act.broken = true;
                    // Kept a moment to answer the viewers waiting, then gone.
                    ctx.run_later(Duration::from_secs(1), |_, ctx| ctx.stop());
                    return;
                }
            };
            act.info = Some(start.info);
            let stored = start.empty.then_some(start.stored);
            act.follower = Some(Follower::new(stored, start.metas, act.max_bytes));
            for msg in &start.held {
                act.on_message(msg, ctx);
            }
            match super::InRuntime::new(start.live) {
                Some(live) => {
                    ctx.add_stream(live);
                }
                None => return act.lose(ctx, "no runtime"),
            }
            let connection = futures_util::stream::unfold(act.bus.connection(), |mut rx| async {
                rx.changed().await.ok()?;
                let up = *rx.borrow();
                Some((BusState(up), rx))
            });
            ctx.add_message_stream(connection);
            act.linger(ctx);
        }));
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.gone
            .do_send(RemoteGone(self.key.clone(), ctx.address()));
    }
}

impl StreamHandler<async_nats::Message> for RemoteSession {
    fn handle(&mut self, msg: async_nats::Message, ctx: &mut Self::Context) {
        self.on_message(&msg, ctx);
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        self.lose(ctx, "the subscription ended");
    }
}

/// The bus connection went up (true) or down.
#[derive(Message)]
#[rtype(result = "()")]
struct BusState(bool);

impl Handler<BusState> for RemoteSession {
    type Result = ();

    fn handle(&mut self, msg: BusState, ctx: &mut Self::Context) {
        if !msg.0 {
            self.lose(ctx, "NATS is unreachable");
        }
    }
}

impl Handler<Subscribe> for RemoteSession {
    type Result = Result<Subscription>;

    fn handle(&mut self, msg: Subscribe, ctx: &mut Self::Context) -> Self::Result {
        let sub = self.subscription(msg.from)?;
        self.viewers.add(msg.viewer);
        if let Some(h) = self.linger.take() {
            ctx.cancel_future(h);
        }
        Ok(sub)
    }
}

impl Handler<Read> for RemoteSession {
    type Result = Result<Subscription>;

    fn handle(&mut self, msg: Read, _: &mut Self::Context) -> Self::Result {
        self.subscription(msg.from)
    }
}

impl Handler<Unsubscribe> for RemoteSession {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, ctx: &mut Self::Context) {
        self.viewers.remove(msg.conn);
        self.linger(ctx);
    }
}
