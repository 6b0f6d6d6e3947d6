//! The registry actor: session id → session actor for every active session, the feed of
//! session-list changes for dashboards, and the clean-up of sessions a previous run left open.
//! In a cluster also: the followers of sessions recorded on other hubs, the other hubs'
//! session-list changes, and their requests to hand a session over.

use std::{collections::HashMap, sync::Arc};

use actix::prelude::*;

use crate::{
    cluster::{
        remote::{RemoteGone, RemoteSession},
        Bus, InRuntime,
    },
    config::Config,
    db::{owners, sessions, Store},
    error::{Error, Result},
    event::now_ms,
    protocol::SessionInfo,
    rate::Buckets,
    session::{budget::Budget, relay::Relay, GetInfo, HandOver, Lifecycle, Session, Stopping},
    writer::Writer,
};

pub struct Registry {
    cfg: Arc<Config>,
    /// New sessions per client address.
    new_sessions: Buckets<std::net::IpAddr>,
    budget: Arc<Budget>,
    store: Store,
    writer: Addr<Writer>,
    sessions: HashMap<Arc<str>, Addr<Session>>,
    /// Sessions writing their end: a recorder for one of them must retry in a moment.
    closing: HashMap<Arc<str>, Addr<Session>>,
    /// Sessions older than this that are open in the database were left by a previous run.
    booted_at: i64,
    feed: HashMap<u64, Recipient<FeedUpdate>>,
    shutting_down: bool,
    /// Cluster mode: the bus, and the sessions recorded elsewhere that viewers here follow.
    bus: Option<Arc<Bus>>,
    remotes: HashMap<Arc<str>, Addr<RemoteSession>>,
}

impl Registry {
    /// `budget` is the hub's one memory account, shared with the sockets and bodies being read.
    pub fn new(cfg: Arc<Config>, store: Store, writer: Addr<Writer>, budget: Arc<Budget>) -> Self {
        Registry {
            new_sessions: Buckets::new(cfg.new_sessions_per_sec, cfg.new_sessions_per_sec * 10.0),
            budget,
            cfg,
            store,
            writer,
            sessions: HashMap::new(),
            closing: HashMap::new(),
            booted_at: now_ms(),
            feed: HashMap::new(),
            shutting_down: false,
            bus: None,
            remotes: HashMap::new(),
        }
    }

    /// A hub of a cluster (`--nats-url`).
    pub fn in_cluster(mut self, bus: Option<Arc<Bus>>) -> Self {
        self.bus = bus;
        self
    }
}

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Sessions open in the database but with no recorder back within one idle timeout of
        // the start were cut off by the previous run: end them at their last event.
        ctx.run_later(self.cfg.idle_timeout(), Self::end_orphans);
        if let Some(bus) = self.bus.clone() {
            let follow = async move { (bus.watch_feed().await, bus.watch_releases().await) };
            ctx.wait(follow.into_actor(self).map(|(feed, releases), _, ctx| {
                use futures_util::StreamExt;
                match (feed, releases) {
                    (Ok(feed), Ok(releases)) => {
                        let both = InRuntime::new(feed).zip(InRuntime::new(releases));
                        if let Some((feed, releases)) = both {
                            ctx.add_message_stream(feed.map(FromHub::Feed));
                            ctx.add_message_stream(releases.map(FromHub::Release));
                        }
                    }
                    (Err(e), _) | (_, Err(e)) => log::error!("cluster: {e}"),
                }
            }));
        }
    }
}

/// What another hub of the cluster sent this one.
#[derive(Message)]
#[rtype(result = "()")]
enum FromHub {
    /// A session-list change there.
    Feed(async_nats::Message),
    /// Hand over the session whose key is the payload (its recorder is there now).
    Release(async_nats::Message),
}

impl Handler<FromHub> for Registry {
    type Result = ();

    fn handle(&mut self, msg: FromHub, _: &mut Self::Context) {
        match msg {
            FromHub::Feed(msg) => {
                let own = self
                    .bus
                    .as_ref()
                    .is_none_or(|b| b.is_own(msg.headers.as_ref()));
                if own {
                    return;
                }
                match serde_json::from_slice::<SessionInfo>(&msg.payload) {
                    Ok(info) => self.tell_feed(info),
                    Err(e) => log::warn!("cluster: an unreadable session-list change: {e}"),
                }
            }
            FromHub::Release(msg) => {
                let key = String::from_utf8_lossy(&msg.payload);
                if let Some(session) = self.sessions.get(&*key) {
                    session.do_send(HandOver);
                }
            }
        }
    }
}

/// The follower of a session recorded on another hub (started if there is none); `None` on a
/// hub that is not part of a cluster.
#[derive(Message)]
#[rtype(result = "Option<Addr<RemoteSession>>")]
pub struct WatchRemote {
    pub id: Arc<str>,
    /// Where a new follower runs: the first viewer's worker, so that followers spread over the
    /// workers (as sessions do, see [`Open`]) instead of queueing behind the registry's thread.
    pub arbiter: ArbiterHandle,
}

impl Handler<WatchRemote> for Registry {
    type Result = Option<Addr<RemoteSession>>;

    fn handle(&mut self, msg: WatchRemote, ctx: &mut Self::Context) -> Self::Result {
        let bus = self.bus.clone()?;
        if let Some(addr) = self.remotes.get(&msg.id).filter(|a| a.connected()) {
            return Some(addr.clone());
        }
        let remote = RemoteSession::new(
            msg.id.clone(),
            bus,
            self.store.clone(),
            self.cfg.buffer_max_bytes,
            ctx.address().recipient(),
        );
        let remote = RemoteSession::start_in_arbiter(&msg.arbiter, move |_| remote);
        self.remotes.insert(msg.id, remote.clone());
        Some(remote)
    }
}

/// Whether this hub is part of a cluster.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct InCluster;

impl Handler<InCluster> for Registry {
    type Result = bool;

    fn handle(&mut self, _: InCluster, _: &mut Self::Context) -> bool {
        self.bus.is_some()
    }
}

impl Handler<RemoteGone> for Registry {
    type Result = ();

    fn handle(&mut self, msg: RemoteGone, _: &mut Self::Context) {
        if self.remotes.get(&msg.0) == Some(&msg.1) {
            self.remotes.remove(&msg.0);
        }
    }
}

impl Registry {
    fn tell_feed(&mut self, info: SessionInfo) {
        self.feed.retain(|_, r| r.connected());
        let change = FeedUpdate::Changed(Box::new(info));
        for r in self.feed.values() {
            r.do_send(change.clone());
        }
    }
}

/// How long after a failed clean-up of a previous run's sessions it is tried again.
const ORPHANS_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

impl Registry {
    fn end_orphans(&mut self, ctx: &mut Context<Self>) {
        let booted_at = self.booted_at;
        let mut live: Vec<String> = self.sessions.keys().map(|k| k.to_string()).collect();
        let cluster = self.bus.is_some();
        let end = self.store.run(move |c| {
            // In a cluster, sessions another hub records now are not leftovers.
            if cluster {
                live.extend(owners::leased(c, now_ms())?);
            }
            sessions::end_orphans(c, booted_at, &live)
        });
        ctx.spawn(end.into_actor(self).map(|res, _, ctx| match res {
            Ok(0) => {}
            Ok(n) => log::info!("ended {n} sessions left open by a previous run"),
            Err(e) => {
                log::error!("ending sessions left open by a previous run failed, retrying in {ORPHANS_RETRY:?}: {e}");
                ctx.run_later(ORPHANS_RETRY, Self::end_orphans);
            }
        }));
    }
}

/// The session actor for `id`, started if it is not active (a recorder is arriving).
#[derive(Message)]
#[rtype(result = "Result<Addr<Session>>")]
pub struct Open {
    pub id: Arc<str>,
    pub user_agent: Option<String>,
    /// The client's address: new sessions are rate-limited per address.
    pub address: Option<std::net::IpAddr>,
    /// Where a new session actor runs: the recorder's own worker, so that its events reach the
    /// session without a thread hop and sessions spread over the workers instead of all
    /// sharing the registry's thread.
    pub arbiter: ArbiterHandle,
}

impl Handler<Open> for Registry {
    type Result = Result<Addr<Session>>;

    fn handle(&mut self, msg: Open, ctx: &mut Self::Context) -> Self::Result {
        if self.shutting_down {
            return Err(Error::ShuttingDown);
        }
        if self.closing.contains_key(&msg.id) {
            return Err(Error::SessionClosing);
        }
        if let Some(addr) = self.sessions.get(&msg.id).filter(|a| a.connected()) {
            return Ok(addr.clone());
        }
        if let Some(ip) = msg.address {
            if !self.new_sessions.take(ip, std::time::Instant::now()) {
                return Err(Error::RateLimited);
            }
        }
        let session = Session::new(
            msg.id.clone(),
            self.cfg.clone(),
            self.budget.clone(),
            self.store.clone(),
            self.writer.clone(),
            ctx.address().recipient(),
            msg.user_agent,
        )
        .in_cluster(self.bus.clone().map(|b| b as Arc<dyn Relay>));
        let addr = Session::start_in_arbiter(&msg.arbiter, move |_| session);
        self.sessions.insert(msg.id, addr.clone());
        Ok(addr)
    }
}

/// The session actor for `id` if the session is active.
#[derive(Message)]
#[rtype(result = "Option<Addr<Session>>")]
pub struct Lookup(pub Arc<str>);

impl Handler<Lookup> for Registry {
    type Result = Option<Addr<Session>>;

    fn handle(&mut self, msg: Lookup, _: &mut Self::Context) -> Self::Result {
        self.sessions.get(&msg.0).filter(|a| a.connected()).cloned()
    }
}

impl Handler<Lifecycle> for Registry {
    type Result = ();

    fn handle(&mut self, msg: Lifecycle, _: &mut Self::Context) {
        match msg {
            Lifecycle::Changed(info) => {
                if let Some(bus) = &self.bus {
                    bus.publish_feed(&info);
                }
                self.tell_feed(info);
            }
            // A newer actor may already serve this id; remove only the one that stopped.
            Lifecycle::Gone(id, addr) => {
                if self.sessions.get(&id) == Some(&addr) {
                    self.sessions.remove(&id);
                }
                if self.closing.get(&id) == Some(&addr) {
                    self.closing.remove(&id);
                }
            }
            Lifecycle::Closing(id, addr) => {
                if self.sessions.get(&id) == Some(&addr) {
                    self.sessions.remove(&id);
                }
                self.closing.insert(id, addr);
            }
        }
    }
}

/// What dashboards watching the list are told (the feed sockets hold a `Recipient` of it).
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub enum FeedUpdate {
    /// A session started, grew or ended.
    Changed(Box<SessionInfo>),
    /// The hub is stopping.
    ShuttingDown,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct WatchFeed {
    pub conn: u64,
    pub addr: Option<Recipient<FeedUpdate>>,
}

impl Handler<WatchFeed> for Registry {
    type Result = ();

    fn handle(&mut self, msg: WatchFeed, _: &mut Self::Context) {
        match msg.addr {
            Some(addr) => self.feed.insert(msg.conn, addr),
            None => self.feed.remove(&msg.conn),
        };
    }
}

/// The keys of every session with a running actor (serving, or writing its end): retention and
/// deletion leave them alone.
#[derive(Message)]
#[rtype(result = "std::collections::HashSet<Arc<str>>")]
pub struct LiveKeys;

impl Handler<LiveKeys> for Registry {
    type Result = MessageResult<LiveKeys>;

    fn handle(&mut self, _: LiveKeys, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.sessions
                .keys()
                .chain(self.closing.keys())
                .cloned()
                .collect(),
        )
    }
}

/// Whether the session has a running actor (serving, or writing its end).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct IsLive(pub Arc<str>);

impl Handler<IsLive> for Registry {
    type Result = bool;

    fn handle(&mut self, msg: IsLive, _: &mut Self::Context) -> bool {
        self.sessions.contains_key(&msg.0) || self.closing.contains_key(&msg.0)
    }
}

/// What every active session knows of itself: the session list's answer while the database is
/// unreachable.
#[derive(Message)]
#[rtype(result = "Vec<SessionInfo>")]
pub struct ActiveSessions;

impl Handler<ActiveSessions> for Registry {
    type Result = ResponseFuture<Vec<SessionInfo>>;

    fn handle(&mut self, _: ActiveSessions, _: &mut Self::Context) -> Self::Result {
        let sessions: Vec<_> = self.sessions.values().cloned().collect();
        Box::pin(async move {
            let mut infos = Vec::with_capacity(sessions.len());
            for s in sessions {
                if let Ok(Some(info)) = s.send(GetInfo).await {
                    infos.push(info);
                }
            }
            infos
        })
    }
}

/// The hub is stopping: no new sessions; every session stops taking events and viewers.
/// Resolves once they all have, with how many there are; the caller then drains the writer.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Shutdown;

impl Handler<Shutdown> for Registry {
    type Result = ResponseFuture<usize>;

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) -> Self::Result {
        self.shutting_down = true;
        let sessions: Vec<_> = self.sessions.values().cloned().collect();
        Box::pin(async move {
            let n = sessions.len();
            for s in sessions {
                let _ = s.send(Stopping::Quiesce).await;
            }
            n
        })
    }
}

/// After the writer drained: close every socket (recorders after their final acks, viewers,
/// dashboards watching the list) with 1012 `shutting_down`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseAll;

impl Handler<CloseAll> for Registry {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) -> Self::Result {
        for feed in self.feed.values() {
            feed.do_send(FeedUpdate::ShuttingDown);
        }
        let sessions: Vec<_> = self
            .sessions
            .values()
            .chain(self.closing.values())
            .cloned()
            .collect();
        Box::pin(async move {
            for s in sessions {
                let _ = s.send(Stopping::CloseSockets).await;
            }
        })
    }
}
