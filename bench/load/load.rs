//! The load generator: recorders and viewers over real WebSockets, on a few threads that each
//! run a single-threaded actix runtime (awc's client is `!Send`) and own a share of the
//! sessions — a session's recorder and its viewers always live on the same thread, so the send
//! instant and the receive instant are read from one monotonic clock with no locking.
//!
//! A run has three phases. Setup: every session connects its recorder, sends the fixture's
//! opening (Meta + FullSnapshot), connects its viewers and waits for their `live`. Load: all
//! sessions start together and send incremental events at the chosen rate for the chosen time,
//! spread evenly over the period so they do not fire in lockstep. Drain: each session waits
//! until its viewers have everything and the hub has made everything durable (bounded), then
//! closes.

use std::{
    borrow::Cow,
    cell::RefCell,
    collections::BTreeMap,
    rc::Rc,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use awc::{
    error::WsProtocolError,
    ws::{Frame, Message},
};
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch, Notify, Semaphore};

use super::fixture::Fixture;

/// Largest frame the bench accepts from the hub (history batches hold whole full snapshots).
const MAX_FRAME: usize = 64 * 1024 * 1024;
/// How long one WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a draining session checks whether everything has arrived.
const DRAIN_POLL: Duration = Duration::from_millis(10);
/// The load phase starts this long after the last session is ready.
const START_DELAY: Duration = Duration::from_millis(200);
/// How often the main thread wakes to sample the hub while waiting.
const TICK: Duration = Duration::from_millis(100);

/// What one run does.
pub struct Plan {
    /// `ws://127.0.0.1:PORT` of the hubs recorders connect to: session `i` records on
    /// `base_ws[i % len]` (one hub, or every hub of a cluster in turn).
    pub base_ws: Vec<String>,
    /// Where the viewers of session `i` watch: `viewer_base_ws[i % len]` (the recorder's hub,
    /// or another hub of a cluster: the cross-hub delay).
    pub viewer_base_ws: Vec<String>,
    /// The project key recorders send.
    pub key: String,
    /// Prefix of the session ids, unique per run.
    pub run_id: String,
    pub sessions: usize,
    pub viewers: usize,
    /// Events per second per session.
    pub rate: f64,
    /// Events per frame.
    pub batch: usize,
    pub duration: Duration,
    pub threads: usize,
    pub connect_concurrency: usize,
    pub setup_timeout: Duration,
    pub drain_timeout: Duration,
    pub fixtures: Arc<Vec<Fixture>>,
    /// The header viewers sign in with: `Cookie` or `Authorization`, and its value.
    pub viewer_auth: Option<(String, String)>,
    /// A viewer acknowledges at most once per this long (zero: every events message).
    pub viewer_ack_every: Duration,
}

/// Everything measured in a run; each thread fills its own and they are merged at the end.
#[derive(Default, Debug)]
pub struct Tally {
    /// Recorder frame sent → viewer frame received, per event and viewer (µs).
    pub latency_us: Vec<u32>,
    /// The part of it after the recording hub took the event in (its `hub_time`) → viewer
    /// frame received, on the wall clock (µs, from a time in whole ms: ±1 ms).
    pub after_hub_us: Vec<u32>,
    /// Recorder frame sent → `ack` covering it received (µs), per event.
    pub durable_us: Vec<u32>,
    /// How late the bench sent each frame against its schedule (µs): the bench's own health.
    pub send_lag_us: Vec<u32>,
    pub frames_sent: u64,
    pub events_sent: u64,
    /// Bytes of event JSON sent during the load phase.
    pub bytes_sent: u64,
    /// Bytes of event JSON (full snapshots included) sent during setup.
    pub setup_bytes: u64,
    /// Load-phase events received by viewers (counted once per viewer).
    pub events_delivered: u64,
    pub events_durable: u64,
    pub bytes_durable: u64,
    pub sessions_ready: usize,
    pub sessions_failed: usize,
    /// Viewer frames whose seqs skip or repeat, or whose `bench_id` disagrees with the seq.
    pub integrity_errors: u64,
    /// Frames other than events, over the whole run: durable acks recorders received, events
    /// messages viewers received and the acks they sent back.
    pub recorder_acks: u64,
    pub viewer_frames: u64,
    pub viewer_acks: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    fn error(&mut self, what: impl Into<String>) {
        *self.errors.entry(what.into()).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.latency_us.extend(other.latency_us);
        self.after_hub_us.extend(other.after_hub_us);
        self.durable_us.extend(other.durable_us);
        self.send_lag_us.extend(other.send_lag_us);
        self.frames_sent += other.frames_sent;
        self.events_sent += other.events_sent;
        self.bytes_sent += other.bytes_sent;
        self.setup_bytes += other.setup_bytes;
        self.events_delivered += other.events_delivered;
        self.events_durable += other.events_durable;
        self.recorder_acks += other.recorder_acks;
        self.viewer_frames += other.viewer_frames;
        self.viewer_acks += other.viewer_acks;
        self.bytes_durable += other.bytes_durable;
        self.sessions_ready += other.sessions_ready;
        self.sessions_failed += other.sessions_failed;
        self.integrity_errors += other.integrity_errors;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

/// When the phases of a run happened.
pub struct Timeline {
    pub setup: Duration,
    /// From the end of the load phase until the last session finished draining.
    pub drain: Duration,
}

/// Moments the caller may want to sample the hub at.
pub enum Phase {
    /// About every 100 ms, from start to finish.
    Tick,
    LoadStart,
    LoadEnd,
}

struct Control {
    ready: AtomicUsize,
    failed: AtomicUsize,
    setup_deadline: Instant,
}

/// Runs the plan to completion; `hook` is called on the main thread at the phase changes and
/// about every 100 ms.
pub fn run(plan: Plan, mut hook: impl FnMut(Phase)) -> (Tally, Timeline) {
    let plan = Arc::new(plan);
    let t0 = Instant::now();
    let ctl = Arc::new(Control {
        ready: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        setup_deadline: t0 + plan.setup_timeout,
    });
    let (start_tx, start_rx) = watch::channel(None::<Instant>);
    let threads: Vec<_> = (0..plan.threads)
        .map(|t| {
            let (plan, ctl, start_rx) = (plan.clone(), ctl.clone(), start_rx.clone());
            std::thread::Builder::new()
                .name(format!("bench-{t}"))
                .spawn(move || worker(t, plan, ctl, start_rx))
        })
        .collect();
    let settled = || ctl.ready.load(Ordering::SeqCst) + ctl.failed.load(Ordering::SeqCst);
    while settled() < plan.sessions && Instant::now() < ctl.setup_deadline {
        hook(Phase::Tick);
        std::thread::sleep(TICK);
    }
    let setup = t0.elapsed();
    let start = Instant::now() + START_DELAY;
    let _ = start_tx.send(Some(start));
    sleep_until(start);
    hook(Phase::LoadStart);
    let end = start + plan.duration;
    while Instant::now() < end {
        std::thread::sleep(TICK.min(end.saturating_duration_since(Instant::now())));
        hook(Phase::Tick);
    }
    hook(Phase::LoadEnd);
    while threads
        .iter()
        .any(|t| t.as_ref().is_ok_and(|h| !h.is_finished()))
    {
        std::thread::sleep(TICK);
        hook(Phase::Tick);
    }
    let drain = end.elapsed();
    let mut total = Tally::default();
    for t in threads {
        match t
            .map_err(|e| e.to_string())
            .and_then(|h| h.join().map_err(|_| "a bench thread panicked".to_owned()))
        {
            Ok(tally) => total.merge(tally),
            Err(e) => total.error(e),
        }
    }
    (total, Timeline { setup, drain })
}

fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

/// One thread: its share of the sessions on a single-threaded runtime.
fn worker(
    t: usize,
    plan: Arc<Plan>,
    ctl: Arc<Control>,
    start_rx: watch::Receiver<Option<Instant>>,
) -> Tally {
    actix_web::rt::System::new().block_on(async move {
        let connector = awc::Connector::new()
            .connector(NoDelay(actix_tls::connect::ConnectorService::default()))
            .limit(0)
            .timeout(CONNECT_TIMEOUT);
        let mut client = awc::Client::builder()
            .connector(connector)
            .timeout(CONNECT_TIMEOUT);
        if let Some((name, value)) = &plan.viewer_auth {
            client = client.add_default_header((name.as_str(), value.as_str()));
        }
        let client = client.finish();
        let tally = Rc::new(RefCell::new(Tally::default()));
        let permits = (plan.connect_concurrency / plan.threads).max(1);
        let gate = Rc::new(Semaphore::new(permits));
        let sessions: Vec<_> = (t..plan.sessions)
            .step_by(plan.threads)
            .map(|i| {
                actix_web::rt::spawn(session(
                    i,
                    plan.clone(),
                    client.clone(),
                    ctl.clone(),
                    start_rx.clone(),
                    tally.clone(),
                    gate.clone(),
                ))
            })
            .collect();
        for s in sessions {
            if s.await.is_err() {
                tally.borrow_mut().error("a session task panicked");
            }
        }
        let out = std::mem::take(&mut *tally.borrow_mut());
        out
    })
}

/// Opens TCP connections with `TCP_NODELAY`, as browsers do: without it, Nagle's algorithm holds
/// a small frame back while an earlier one is unacknowledged, which adds up to a delayed-ACK
/// timeout (40 ms on Linux) to the measured latency.
#[derive(Clone)]
struct NoDelay(actix_tls::connect::ConnectorService);

type TcpConnection = actix_tls::connect::Connection<awc::http::Uri, actix_web::rt::net::TcpStream>;

impl actix_service::Service<actix_tls::connect::ConnectInfo<awc::http::Uri>> for NoDelay {
    type Response = TcpConnection;
    type Error = actix_tls::connect::ConnectError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<TcpConnection, Self::Error>>;

    actix_service::always_ready!();

    fn call(&self, req: actix_tls::connect::ConnectInfo<awc::http::Uri>) -> Self::Future {
        let connecting = self.0.call(req);
        Box::pin(async move {
            let conn = connecting.await?;
            conn.io_ref()
                .set_nodelay(true)
                .map_err(actix_tls::connect::ConnectError::Io)?;
            Ok(conn)
        })
    }
}

/// What one session shares between its recorder's tasks and its viewers.
struct SessionState {
    /// Seq of the first load-phase event; `sent_at[k]` is when seq `first + k` was sent.
    first: u64,
    sent_at: Vec<Instant>,
    sizes: Vec<u32>,
    durable: u64,
    /// Last seq each viewer received.
    seen: Vec<u64>,
    closing: bool,
}

impl SessionState {
    fn last_sent(&self) -> u64 {
        self.first + self.sent_at.len() as u64 - 1
    }

    fn sent(&self, seq: u64) -> Option<(Instant, u32)> {
        let k = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        Some((*self.sent_at.get(k)?, self.sizes[k]))
    }

    fn drained(&self) -> bool {
        let last = self.last_sent();
        self.durable >= last && self.seen.iter().all(|s| *s >= last)
    }
}

type Shared = Rc<RefCell<SessionState>>;
type Counts = Rc<RefCell<Tally>>;

/// Frames for the recorder socket's writer task.
enum Out {
    Events {
        frame: String,
        sizes: Vec<u32>,
        scheduled: Instant,
    },
    Pong(Bytes),
    Close,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn connect(
    client: &awc::Client,
    url: &str,
) -> Result<
    impl Sink<Message, Error = WsProtocolError> + Stream<Item = Result<Frame, WsProtocolError>>,
    String,
> {
    match client.ws(url).max_frame_size(MAX_FRAME).connect().await {
        Ok((_, framed)) => Ok(framed),
        Err(e) => Err(format!("connect failed: {e}")),
    }
}

#[derive(Deserialize)]
struct HubMessage<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    events: Vec<Envelope<'a>>,
    durable_seq: Option<u64>,
    #[serde(borrow)]
    error: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    seq: u64,
    #[serde(default)]
    hub_time: i64,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// The `bench_id` the template put last in the event.
fn bench_id(event: &str) -> Option<u64> {
    let body = event.trim_end().strip_suffix('}')?;
    let (before, id) = body.rsplit_once(':')?;
    before
        .ends_with("\"bench_id\"")
        .then(|| id.trim().parse().ok())?
}

async fn session(
    i: usize,
    plan: Arc<Plan>,
    client: awc::Client,
    ctl: Arc<Control>,
    mut start_rx: watch::Receiver<Option<Instant>>,
    tally: Counts,
    gate: Rc<Semaphore>,
) {
    let fixture = &plan.fixtures[i % plan.fixtures.len()];
    let opening = fixture.opening.len() as u64;
    let state = Rc::new(RefCell::new(SessionState {
        first: opening + 1,
        sent_at: Vec::new(),
        sizes: Vec::new(),
        durable: 0,
        seen: vec![0; plan.viewers],
        closing: false,
    }));
    let stop_viewers = Rc::new(Notify::new());
    let id = format!("{}-{i}", plan.run_id);

    // Setup, bounded by the run's setup deadline.
    let setup = async {
        let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
        let base = &plan.base_ws[i % plan.base_ws.len()];
        let url = format!("{base}/ws/record/{id}?key={}", plan.key);
        let (mut sink, mut stream) = connect(&client, &url).await?.split();
        match stream.next().await {
            Some(Ok(Frame::Text(t))) if t.starts_with(b"{\"type\":\"welcome\"") => {}
            other => return Err(format!("no welcome: {other:?}")),
        }
        let wall = streamdom::event::now_ms();
        let mut frame = String::from("{\"type\":\"events\",\"seq\":1,\"events\":[");
        for (k, t) in fixture.opening.iter().enumerate() {
            if k > 0 {
                frame.push(',');
            }
            t.write(&mut frame, wall, k as u64 + 1);
        }
        frame.push_str("]}");
        tally.borrow_mut().setup_bytes += frame.len() as u64;
        sink.send(Message::Text(frame.into()))
            .await
            .map_err(|e| format!("recorder send failed: {e}"))?;
        let mut lives = Vec::new();
        let mut viewers = Vec::new();
        for v in 0..plan.viewers {
            let base = &plan.viewer_base_ws[i % plan.viewer_base_ws.len()];
            let url = format!("{base}/ws/watch/{id}?from=live");
            let conn = connect(&client, &url).await?;
            let (tx, rx) = oneshot::channel();
            viewers.push(actix_web::rt::spawn(viewer(
                conn,
                (v, plan.viewer_ack_every),
                state.clone(),
                tally.clone(),
                tx,
                stop_viewers.clone(),
            )));
            lives.push(rx);
        }
        for rx in lives {
            rx.await
                .map_err(|_| "a viewer closed before `live`".to_owned())?;
        }
        Ok((sink, stream, viewers))
    };
    let deadline = tokio::time::Instant::from_std(ctl.setup_deadline);
    let setup = match tokio::time::timeout_at(deadline, setup).await {
        Ok(Ok(s)) if start_rx.borrow().is_none() => Ok(s),
        Ok(Ok(_)) | Err(_) => Err("setup did not finish in time".to_owned()),
        Ok(Err(e)) => Err(e),
    };
    let (sink, stream, viewers) = match setup {
        Ok(s) => s,
        Err(e) => {
            ctl.failed.fetch_add(1, Ordering::SeqCst);
            let mut t = tally.borrow_mut();
            t.sessions_failed += 1;
            t.error(format!(
                "setup: {}",
                e.chars().take(120).collect::<String>()
            ));
            state.borrow_mut().closing = true;
            stop_viewers.notify_waiters();
            return;
        }
    };
    ctl.ready.fetch_add(1, Ordering::SeqCst);
    tally.borrow_mut().sessions_ready += 1;

    let (tx, rx) = mpsc::unbounded_channel();
    let writer = actix_web::rt::spawn(recorder_writer(sink, rx, state.clone(), tally.clone()));
    let reader = actix_web::rt::spawn(recorder_reader(
        stream,
        tx.clone(),
        state.clone(),
        tally.clone(),
    ));

    // Load.
    let start = loop {
        if let Some(s) = *start_rx.borrow_and_update() {
            break s;
        }
        if start_rx.changed().await.is_err() {
            return;
        }
    };
    let period = Duration::from_secs_f64(plan.batch as f64 / plan.rate);
    let first = start + period.mul_f64(i as f64 / plan.sessions as f64);
    let end = start + plan.duration;
    let mut ticker = tokio::time::interval_at(first.into(), period);
    let incremental = &fixture.incremental;
    // Sessions sharing a fixture start at different places in it.
    let mut next = (i * 97) % incremental.len();
    let mut seq = opening + 1;
    loop {
        let scheduled = ticker.tick().await.into_std();
        if scheduled >= end {
            break;
        }
        let wall = streamdom::event::now_ms();
        let mut frame = format!("{{\"type\":\"events\",\"seq\":{seq},\"events\":[");
        let mut sizes = Vec::with_capacity(plan.batch);
        for k in 0..plan.batch {
            if k > 0 {
                frame.push(',');
            }
            let before = frame.len();
            incremental[next].write(&mut frame, wall, seq);
            sizes.push((frame.len() - before) as u32);
            next = (next + 1) % incremental.len();
            seq += 1;
        }
        frame.push_str("]}");
        if tx
            .send(Out::Events {
                frame,
                sizes,
                scheduled,
            })
            .is_err()
        {
            break;
        }
    }

    // Drain: wait until the writer has sent everything, viewers have it and it is durable.
    let planned_last = seq - 1;
    let drain_deadline = end + plan.drain_timeout;
    loop {
        {
            let s = state.borrow();
            if s.last_sent() >= planned_last && s.drained() {
                break;
            }
        }
        if Instant::now() >= drain_deadline || writer.is_finished() {
            let s = state.borrow();
            let mut t = tally.borrow_mut();
            if s.durable < s.last_sent() {
                t.error("drain: events not durable in time");
            }
            if s.seen.iter().any(|v| *v < s.last_sent()) {
                t.error("drain: events not delivered to a viewer in time");
            }
            break;
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
    state.borrow_mut().closing = true;
    let _ = tx.send(Out::Close);
    stop_viewers.notify_waiters();
    let _ = writer.await;
    reader.abort();
    for v in viewers {
        let _ = v.await;
    }
}

async fn recorder_writer(
    mut sink: impl Sink<Message, Error = WsProtocolError> + Unpin,
    mut rx: mpsc::UnboundedReceiver<Out>,
    state: Shared,
    tally: Counts,
) {
    while let Some(out) = rx.recv().await {
        let msg = match out {
            Out::Events {
                frame,
                sizes,
                scheduled,
            } => {
                let now = Instant::now();
                {
                    let mut s = state.borrow_mut();
                    s.sent_at.extend(std::iter::repeat_n(now, sizes.len()));
                    let mut t = tally.borrow_mut();
                    t.send_lag_us
                        .push(micros(now.saturating_duration_since(scheduled)));
                    t.frames_sent += 1;
                    t.events_sent += sizes.len() as u64;
                    t.bytes_sent += sizes.iter().map(|s| u64::from(*s)).sum::<u64>();
                    s.sizes.extend(sizes);
                }
                Message::Text(frame.into())
            }
            Out::Pong(b) => Message::Pong(b),
            Out::Close => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        };
        if let Err(e) = sink.send(msg).await {
            tally
                .borrow_mut()
                .error(format!("recorder send failed: {e}"));
            return;
        }
    }
}

async fn recorder_reader(
    mut stream: impl Stream<Item = Result<Frame, WsProtocolError>> + Unpin,
    tx: mpsc::UnboundedSender<Out>,
    state: Shared,
    tally: Counts,
) {
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(Frame::Text(text)) => {
                let now = Instant::now();
                let Ok(msg) = serde_json::from_slice::<HubMessage<'_>>(&text) else {
                    tally.borrow_mut().error("recorder: unparsable message");
                    continue;
                };
                match (&*msg.kind, msg.durable_seq) {
                    ("ack", Some(up_to)) => {
                        let mut s = state.borrow_mut();
                        let mut t = tally.borrow_mut();
                        t.recorder_acks += 1;
                        for seq in s.durable + 1..=up_to {
                            if let Some((sent, size)) = s.sent(seq) {
                                t.durable_us.push(micros(now - sent));
                                t.events_durable += 1;
                                t.bytes_durable += u64::from(size);
                            }
                        }
                        s.durable = s.durable.max(up_to);
                    }
                    ("error", _) => tally.borrow_mut().error(format!(
                        "recorder got error {}",
                        msg.error.as_deref().unwrap_or("?")
                    )),
                    _ => {}
                }
            }
            Ok(Frame::Ping(b)) => {
                let _ = tx.send(Out::Pong(b));
            }
            Ok(Frame::Close(reason)) => {
                if !state.borrow().closing {
                    tally
                        .borrow_mut()
                        .error(format!("recorder closed by hub: {reason:?}"));
                }
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if !state.borrow().closing {
                    tally.borrow_mut().error(format!("recorder socket: {e}"));
                }
                return;
            }
        }
    }
}

/// Microseconds since the Unix epoch (the hub's `hub_time` is on the same clock, in ms).
fn wall_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

async fn viewer(
    conn: impl Sink<Message, Error = WsProtocolError> + Stream<Item = Result<Frame, WsProtocolError>>,
    (v, ack_every): (usize, Duration),
    state: Shared,
    tally: Counts,
    live: oneshot::Sender<()>,
    stop: Rc<Notify>,
) {
    let (mut sink, mut stream) = conn.split();
    let mut live = Some(live);
    let mut expected: Option<u64> = None;
    let mut last_ack: Option<Instant> = None;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    // Registered now, so a stop notified before the first poll is not missed.
    stopped.as_mut().enable();
    loop {
        let frame = tokio::select! {
            f = stream.next() => f,
            _ = &mut stopped => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        };
        let Some(frame) = frame else { return };
        let reply = match frame {
            Ok(Frame::Text(text)) => {
                let now = Instant::now();
                let wall_us = wall_micros();
                let Ok(msg) = serde_json::from_slice::<HubMessage<'_>>(&text) else {
                    tally.borrow_mut().error("viewer: unparsable message");
                    continue;
                };
                match &*msg.kind {
                    "events" => {
                        let Some(last) = msg.events.last().map(|e| e.seq) else {
                            continue;
                        };
                        let mut s = state.borrow_mut();
                        let mut t = tally.borrow_mut();
                        for e in &msg.events {
                            if expected.is_some_and(|n| n != e.seq)
                                || bench_id(e.event.get()) != Some(e.seq)
                            {
                                t.integrity_errors += 1;
                            }
                            expected = Some(e.seq + 1);
                            if let Some((sent, _)) = s.sent(e.seq) {
                                t.latency_us.push(micros(now - sent));
                                t.events_delivered += 1;
                                let after = wall_us.saturating_sub(e.hub_time.max(0) as u64 * 1000);
                                t.after_hub_us.push(after.min(u64::from(u32::MAX)) as u32);
                            }
                        }
                        s.seen[v] = s.seen[v].max(last);
                        t.viewer_frames += 1;
                        if last_ack.is_some_and(|at| now - at < ack_every) {
                            continue;
                        }
                        last_ack = Some(now);
                        t.viewer_acks += 1;
                        Message::Text(format!("{{\"type\":\"ack\",\"seq\":{last}}}").into())
                    }
                    "live" => {
                        if let Some(tx) = live.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    "error" => {
                        tally.borrow_mut().error(format!(
                            "viewer got error {}",
                            msg.error.as_deref().unwrap_or("?")
                        ));
                        continue;
                    }
                    _ => continue,
                }
            }
            Ok(Frame::Ping(b)) => Message::Pong(b),
            Ok(Frame::Close(reason)) => {
                if !state.borrow().closing {
                    tally
                        .borrow_mut()
                        .error(format!("viewer closed by hub: {reason:?}"));
                }
                return;
            }
            Ok(_) => continue,
            Err(e) => {
                if !state.borrow().closing {
                    tally.borrow_mut().error(format!("viewer socket: {e}"));
                }
                return;
            }
        };
        if let Err(e) = sink.send(reply).await {
            if !state.borrow().closing {
                tally.borrow_mut().error(format!("viewer send failed: {e}"));
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_id_is_read_from_the_end_of_the_event() {
        assert_eq!(
            bench_id(r#"{"type":3,"data":{"a":1},"timestamp":5,"bench_id":42}"#),
            Some(42)
        );
        assert_eq!(bench_id(r#"{"type":3,"data":{"x":42}}"#), None);
    }
}
