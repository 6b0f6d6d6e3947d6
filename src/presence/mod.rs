//! Recording on demand: the presence registry. Every page of a project in `standby` (or left out
//! of its `sample`) keeps one presence socket (`ws::presence`); this actor holds who is online in
//! memory only (no database write while a visitor idles), starts a recording when a PM clicks
//! Watch (the visitor's page opens a recorder socket as in `all` mode, under the session id
//! chosen here), and stops it on Stop or once nobody watched for `--watch-grace-secs`.
//!
//! Behind several hubs (`--nats-url`), each hub holds the presence sockets connected to it and
//! tells the others each second who they are and which sessions its PMs watch (`peers`): `GET
//! /api/online` on any hub lists every hub's visitors, Watch and Stop are passed to the hub
//! holding the visitor's page, and a recording watched only from another hub is not stopped.

pub mod board;
pub mod peers;

use std::{collections::HashMap, sync::Arc, time::Duration, time::Instant};

use actix::prelude::*;

use crate::{
    cluster::{Bus, InRuntime},
    config::Config,
    error::{Error, Result},
    event::now_ms,
    protocol::{presence::OnlineVisitor, Viewport},
    registry::{Lookup, Registry},
    session::EndOnDetach,
};
use board::{Board, Tab, Todo};
use peers::{Answer, Command, PeerReport, Peers};

/// How long a Watch or Stop passed to another hub may take.
const PEER_ANSWER_WAIT: Duration = Duration::from_secs(2);

/// How often recordings nobody watches are checked against the grace period.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// What the actor tells a presence socket.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum ToPresence {
    Record(String),
    Stop,
    ShuttingDown,
}

pub struct Presence {
    cfg: Arc<Config>,
    registry: Addr<Registry>,
    board: Board<Recipient<ToPresence>>,
    /// The cluster's bus; `None` on a single hub.
    bus: Option<Arc<Bus>>,
    peers: Peers,
    /// Viewers this hub serves, by session key (any session: the recording it watches may be
    /// held by another hub's board).
    watching: HashMap<Arc<str>, usize>,
}

impl Presence {
    pub fn new(cfg: Arc<Config>, registry: Addr<Registry>) -> Self {
        Presence {
            cfg,
            registry,
            board: Board::default(),
            bus: None,
            peers: Peers::default(),
            watching: HashMap::new(),
        }
    }

    /// Shares presence with the other hubs on `bus`.
    pub fn in_cluster(mut self, bus: Option<Arc<Bus>>) -> Self {
        self.bus = bus;
        self
    }

    /// Tells the other hubs who is online here and what this hub's PMs watch.
    fn publish(&self) {
        let Some(bus) = &self.bus else { return };
        let report = PeerReport {
            visitors: self.board.list(|_| true),
            watching: self
                .watching
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect(),
        };
        match serde_json::to_vec(&report) {
            Ok(json) => bus.publish_presence(json),
            Err(e) => log::error!("presence: a report does not serialize: {e}"),
        }
    }

    /// Watch or Stop for a visitor online on another hub: passed to that hub. `None` when no
    /// other hub has the visitor (or there is no cluster).
    fn ask_peer(
        &self,
        command: Command,
    ) -> Option<impl std::future::Future<Output = Result<Answer>>> {
        let bus = self.bus.clone()?;
        let (project, visitor) = match &command {
            Command::Watch { project, visitor } | Command::Stop { project, visitor } => {
                (project, visitor)
            }
        };
        let hub = self.peers.hub_of(project, visitor)?.to_owned();
        Some(async move {
            let json = serde_json::to_vec(&command).map_err(Error::internal)?;
            let answer = bus.ask_presence(&hub, json, PEER_ANSWER_WAIT).await?;
            serde_json::from_slice(&answer).map_err(Error::internal)
        })
    }

    /// A command from another hub, for a visitor online here.
    fn answer(&mut self, command: Command) -> Answer {
        match command {
            Command::Watch { project, visitor } => match self.watch_here(&project, &visitor) {
                Some(session_id) => Answer::Watching { session_id },
                None => Answer::NotFound,
            },
            Command::Stop { project, visitor } => match self.stop_here(&project, &visitor) {
                true => Answer::Stopped,
                false => Answer::NotFound,
            },
        }
    }

    /// Watch for a visitor online on this hub: the recording's session id.
    fn watch_here(&mut self, project: &str, visitor: &str) -> Option<String> {
        let new_id = || format!("od-{}", uuid::Uuid::new_v4().simple());
        let (id, todo) = self
            .board
            .watch(project, visitor, new_id, Instant::now(), now_ms())?;
        if let Some(todo) = todo {
            log::info!("project {project}: a recording on demand starts");
            self.apply(todo);
        }
        Some(id)
    }

    /// Stop for a visitor recorded on this hub; `false` when there is no such recording.
    fn stop_here(&mut self, project: &str, visitor: &str) -> bool {
        match self.board.stop(project, visitor) {
            Some(todo) => {
                self.apply(todo);
                true
            }
            None => false,
        }
    }

    fn tab(&self, conn: u64) -> Option<Recipient<ToPresence>> {
        self.board.addr_of(conn)
    }

    fn apply(&mut self, todo: Todo) {
        match todo {
            Todo::Record { conn, session_id } => {
                if let Some(addr) = self.tab(conn) {
                    addr.do_send(ToPresence::Record(session_id));
                }
            }
            Todo::Stop { conns, session_key } => {
                for conn in conns {
                    if let Some(addr) = self.tab(conn) {
                        addr.do_send(ToPresence::Stop);
                    }
                }
                // The session ends as soon as its recorder has gone, not after the idle timeout.
                let registry = self.registry.clone();
                actix::spawn(async move {
                    if let Ok(Some(session)) = registry.send(Lookup(session_key.into())).await {
                        session.do_send(EndOnDetach);
                    }
                });
            }
        }
    }
}

impl Actor for Presence {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(TICK, |act, _| {
            let now = Instant::now();
            if act.bus.is_some() {
                act.peers.expire(now);
                act.board.remote_viewers(&act.peers.watching(), now);
            }
            for todo in act.board.tick(act.cfg.watch_grace(), now) {
                act.apply(todo);
            }
            act.publish();
        });
        if let Some(bus) = self.bus.clone() {
            let follow = async move { (bus.watch_presence().await, bus.presence_commands().await) };
            ctx.wait(follow.into_actor(self).map(|(reports, commands), _, ctx| {
                use futures_util::StreamExt;
                match (reports, commands) {
                    (Ok(reports), Ok(commands)) => {
                        let both = InRuntime::new(reports).zip(InRuntime::new(commands));
                        if let Some((reports, commands)) = both {
                            ctx.add_message_stream(reports.map(FromHub::Report));
                            ctx.add_message_stream(commands.map(FromHub::Command));
                        }
                    }
                    (Err(e), _) | (_, Err(e)) => log::error!("cluster: {e}"),
                }
            }));
        }
    }
}

/// What another hub sent this one's presence.
#[derive(Message)]
#[rtype(result = "()")]
enum FromHub {
    /// Its presence report.
    Report(async_nats::Message),
    /// Watch or Stop for a visitor online here, to be answered.
    Command(async_nats::Message),
}

impl Handler<FromHub> for Presence {
    type Result = ();

    fn handle(&mut self, m: FromHub, _: &mut Self::Context) {
        let Some(bus) = self.bus.clone() else { return };
        match m {
            FromHub::Report(msg) => {
                if bus.is_own(msg.headers.as_ref()) {
                    return;
                }
                let hub = msg
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(crate::cluster::H_HUB))
                    .map(|v| v.as_str().to_owned());
                match (hub, serde_json::from_slice::<PeerReport>(&msg.payload)) {
                    (Some(hub), Ok(report)) => self.peers.update(&hub, report, Instant::now()),
                    (_, Err(e)) => log::warn!("presence: a hub's report is unreadable: {e}"),
                    (None, _) => log::warn!("presence: a report without its hub"),
                }
            }
            FromHub::Command(msg) => {
                let Some(reply) = msg.reply.clone() else {
                    return;
                };
                let answer = match serde_json::from_slice::<Command>(&msg.payload) {
                    Ok(command) => self.answer(command),
                    Err(e) => {
                        log::warn!("presence: a hub's request is unreadable: {e}");
                        Answer::NotFound
                    }
                };
                match serde_json::to_vec(&answer) {
                    Ok(json) => bus.reply(reply, json),
                    Err(e) => log::error!("presence: an answer does not serialize: {e}"),
                }
            }
        }
    }
}

/// A presence socket connected (one tab of a visitor).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    pub project: Arc<str>,
    pub visitor: Arc<str>,
    pub conn: u64,
    pub addr: Recipient<ToPresence>,
    pub user_agent: Option<String>,
}

impl Handler<Join> for Presence {
    type Result = ();

    fn handle(&mut self, m: Join, _: &mut Self::Context) {
        let tab = Tab::new(m.conn, m.addr, m.user_agent);
        if let Some(todo) = self.board.join(&m.project, &m.visitor, tab, now_ms()) {
            self.apply(todo);
        }
    }
}

/// The tab's presence message.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Report {
    pub project: Arc<str>,
    pub visitor: Arc<str>,
    pub conn: u64,
    pub url: String,
    pub viewport: Option<Viewport>,
    pub user_agent: Option<String>,
}

impl Handler<Report> for Presence {
    type Result = ();

    fn handle(&mut self, m: Report, _: &mut Self::Context) {
        self.board.report(
            &m.project,
            &m.visitor,
            m.conn,
            m.url,
            m.viewport,
            m.user_agent,
        );
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub project: Arc<str>,
    pub visitor: Arc<str>,
    pub conn: u64,
}

impl Handler<Leave> for Presence {
    type Result = ();

    fn handle(&mut self, m: Leave, _: &mut Self::Context) {
        self.board
            .leave(&m.project, &m.visitor, m.conn, Instant::now());
    }
}

/// Who is online in the projects listed (`None`: every project).
#[derive(Message)]
#[rtype(result = "Vec<OnlineVisitor>")]
pub struct Online(pub Option<Vec<String>>);

impl Handler<Online> for Presence {
    type Result = Vec<OnlineVisitor>;

    fn handle(&mut self, m: Online, _: &mut Self::Context) -> Self::Result {
        let shown = |p: &str| m.0.as_ref().is_none_or(|l| l.iter().any(|x| x == p));
        let local = self.board.list(shown);
        peers::merge(local, self.peers.visitors(shown).collect())
    }
}

/// Watch clicked: the session id of the visitor's recording (started now if none runs).
#[derive(Message)]
#[rtype(result = "Result<String>")]
pub struct Watch {
    pub project: String,
    pub visitor: String,
}

impl Handler<Watch> for Presence {
    type Result = ResponseFuture<Result<String>>;

    fn handle(&mut self, m: Watch, _: &mut Self::Context) -> Self::Result {
        if let Some(id) = self.watch_here(&m.project, &m.visitor) {
            return Box::pin(std::future::ready(Ok(id)));
        }
        let command = Command::Watch {
            project: m.project,
            visitor: m.visitor,
        };
        match self.ask_peer(command) {
            Some(asked) => Box::pin(async move {
                match asked.await? {
                    Answer::Watching { session_id } => Ok(session_id),
                    Answer::Stopped | Answer::NotFound => Err(Error::NotFound),
                }
            }),
            None => Box::pin(std::future::ready(Err(Error::NotFound))),
        }
    }
}

/// Stop clicked: `NotFound` when the visitor is not being recorded.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Stop {
    pub project: String,
    pub visitor: String,
}

impl Handler<Stop> for Presence {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, m: Stop, _: &mut Self::Context) -> Self::Result {
        if self.stop_here(&m.project, &m.visitor) {
            return Box::pin(std::future::ready(Ok(())));
        }
        let command = Command::Stop {
            project: m.project,
            visitor: m.visitor,
        };
        match self.ask_peer(command) {
            Some(asked) => Box::pin(async move {
                match asked.await? {
                    Answer::Stopped => Ok(()),
                    Answer::Watching { .. } | Answer::NotFound => Err(Error::NotFound),
                }
            }),
            None => Box::pin(std::future::ready(Err(Error::NotFound))),
        }
    }
}

/// A viewer opened (`+1`) or closed (`-1`) a session (by key).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Viewers {
    pub session_key: Arc<str>,
    pub delta: isize,
}

impl Handler<Viewers> for Presence {
    type Result = ();

    fn handle(&mut self, m: Viewers, _: &mut Self::Context) {
        let n = self.watching.entry(m.session_key.clone()).or_insert(0);
        *n = n.saturating_add_signed(m.delta);
        if *n == 0 {
            self.watching.remove(&m.session_key);
        }
        self.board.viewers(&m.session_key, m.delta, Instant::now());
    }
}

/// The hub stops: every presence socket is closed (pages reconnect to the next run).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseAll;

impl Handler<CloseAll> for Presence {
    type Result = ();

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) {
        for addr in self.board.all_addrs() {
            addr.do_send(ToPresence::ShuttingDown);
        }
    }
}
