//! Several hubs as one (`--nats-url`): the NATS client with JetStream, and the glue between it
//! and the hub. The hub recording a session publishes its events on the session's subject
//! (`subject`); a hub with viewers of a session recorded elsewhere follows that subject through a
//! [`remote::RemoteSession`], which feeds them through the same fan-out as a local session. The
//! JetStream stream keeps each live session from its latest full snapshot on (older messages of
//! the subject are purged when a new snapshot is stored) within a bounded age and size, so a
//! late viewer anywhere starts there without asking the recording hub. Which hub records a
//! session is decided in the database (`db::owners`, `session::ownership`); session-list
//! changes travel on a feed subject; requests to hand a session over on each hub's own subject.
//!
//! Publishing never blocks a session: frames go through a bounded queue to one task that
//! publishes them in order. A frame that cannot be queued or published leaves a gap in the
//! seqs that followers fill from the database.

pub mod follow;
pub mod remote;
pub mod subject;

use std::{sync::Arc, time::Duration};

use async_nats::{
    jetstream::{self, stream},
    HeaderMap,
};
use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::{
    config::Config,
    error::{Error, Result},
    metrics,
    protocol::SessionInfo,
    session::relay::Relay,
};

/// Message headers: the seqs a frame carries, what kind it is, and which hub sent it.
pub const H_FIRST: &str = "Sd-First";
pub const H_LAST: &str = "Sd-Last";
pub const H_KIND: &str = "Sd-Kind";
pub const H_HUB: &str = "Sd-Hub";

/// Kinds of message on a session's subject.
pub const KIND_EVENTS: &str = "events";
pub const KIND_CLOCK: &str = "clock";
pub const KIND_END: &str = "end";

/// Messages waiting to be published, all sessions together; past it frames are dropped (and
/// their gaps filled from the database by followers).
const OUT_QUEUE: usize = 16 * 1024;
/// How long the first connection to NATS may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Out {
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
    /// A full snapshot: published through JetStream, and the subject's older messages purged.
    snapshot: bool,
}

/// The hub's connection to the cluster. Cheap to share (`Arc<Bus>`).
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    prefix: String,
    stream: String,
    hub_id: Arc<str>,
    lease: Duration,
    out: mpsc::Sender<Out>,
    connected: watch::Receiver<bool>,
}

impl Bus {
    /// Connects, makes sure the stream exists (again after every reconnect, in case the server
    /// lost it), and starts the publishing task. Fails when NATS cannot be reached.
    pub async fn connect(cfg: &Config, url: &str) -> Result<Arc<Bus>> {
        let hub_id: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
        let (state_tx, state_rx) = watch::channel(true);
        let (reconnected_tx, mut reconnected) = mpsc::unbounded_channel::<()>();
        let client = async_nats::ConnectOptions::new()
            .name(format!("streamdom-{hub_id}"))
            .connection_timeout(CONNECT_TIMEOUT)
            .max_reconnects(None)
            .reconnect_delay_callback(|attempt| {
                Duration::from_millis((100 * 2u64.pow(attempt.min(5) as u32)).min(2000))
            })
            .event_callback(move |event| {
                let (state_tx, reconnected_tx) = (state_tx.clone(), reconnected_tx.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            log::info!("cluster: connected to NATS");
                            let _ = state_tx.send(true);
                            let _ = reconnected_tx.send(());
                        }
                        async_nats::Event::Disconnected => {
                            log::warn!("cluster: lost NATS; reconnecting");
                            let _ = state_tx.send(false);
                        }
                        other => log::info!("cluster: NATS {other}"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| Error::Startup(format!("cannot reach NATS at {url}: {e}")))?;
        let js = jetstream::new(client.clone());
        let stream = subject::stream_name(&cfg.nats_prefix);
        let config = stream::Config {
            name: stream.clone(),
            subjects: vec![subject::sessions(&cfg.nats_prefix)],
            max_age: Duration::from_secs(cfg.nats_max_age_secs.max(1)),
            max_bytes: cfg.nats_max_bytes,
            discard: stream::DiscardPolicy::Old,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        js.get_or_create_stream(config.clone())
            .await
            .map_err(|e| Error::Startup(format!("cannot open the JetStream stream: {e}")))?;
        let again = js.clone();
        actix_web::rt::spawn(async move {
            while reconnected.recv().await.is_some() {
                if let Err(e) = again.get_or_create_stream(config.clone()).await {
                    log::error!("cluster: the JetStream stream cannot be opened: {e}");
                }
            }
        });
        let (out, queue) = mpsc::channel(OUT_QUEUE);
        actix_web::rt::spawn(publish_all(js.clone(), stream.clone(), queue));
        log::info!("cluster: hub {hub_id} on NATS, stream {stream}");
        Ok(Arc::new(Bus {
            client,
            js,
            prefix: cfg.nats_prefix.clone(),
            stream,
            hub_id,
            lease: cfg.cluster_lease(),
            out,
            connected: state_rx,
        }))
    }

    pub fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Changes of the connection (true: connected).
    pub fn connection(&self) -> watch::Receiver<bool> {
        self.connected.clone()
    }

    fn queue(&self, subject: String, headers: HeaderMap, payload: Bytes, snapshot: bool) {
        let msg = Out {
            subject,
            headers,
            payload,
            snapshot,
        };
        if self.out.try_send(msg).is_err() {
            metrics::CLUSTER_DROPPED.inc();
        }
    }

    fn headers(&self, kind: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(H_KIND, kind);
        h.insert(H_HUB, &*self.hub_id);
        h
    }

    /// A session-list change, for the other hubs' dashboards.
    pub fn publish_feed(&self, info: &SessionInfo) {
        match serde_json::to_vec(info) {
            Ok(json) => {
                let headers = self.headers("feed");
                let subject = subject::feed(&self.prefix);
                let client = self.client.clone();
                actix_web::rt::spawn(async move {
                    let _ = client
                        .publish_with_headers(subject, headers, json.into())
                        .await;
                });
            }
            Err(e) => log::error!("cluster: a session's info does not serialize: {e}"),
        }
    }

    /// Session-list changes of the other hubs.
    pub async fn watch_feed(&self) -> Result<async_nats::Subscriber> {
        self.client
            .subscribe(subject::feed(&self.prefix))
            .await
            .map_err(|e| Error::Startup(format!("cannot follow the cluster's feed: {e}")))
    }

    /// Requests that this hub hand sessions over (their payload is the session key).
    pub async fn watch_releases(&self) -> Result<async_nats::Subscriber> {
        self.client
            .subscribe(subject::release(&self.prefix, &self.hub_id))
            .await
            .map_err(|e| Error::Startup(format!("cannot follow hand-over requests: {e}")))
    }

    /// Publishes this hub's presence report (`presence::peers`), already serialized.
    pub fn publish_presence(&self, report: Vec<u8>) {
        let (client, subject) = (self.client.clone(), subject::presence(&self.prefix));
        let headers = self.headers("presence");
        actix_web::rt::spawn(async move {
            let _ = client
                .publish_with_headers(subject, headers, report.into())
                .await;
        });
    }

    /// Every hub's presence reports (this hub's own included: see [`Bus::is_own`]).
    pub async fn watch_presence(&self) -> Result<async_nats::Subscriber> {
        self.client
            .subscribe(subject::presence(&self.prefix))
            .await
            .map_err(|e| Error::Startup(format!("cannot follow the cluster's presence: {e}")))
    }

    /// Watch and Stop requests for visitors online on this hub.
    pub async fn presence_commands(&self) -> Result<async_nats::Subscriber> {
        self.client
            .subscribe(subject::presence_commands(&self.prefix, &self.hub_id))
            .await
            .map_err(|e| Error::Startup(format!("cannot follow presence requests: {e}")))
    }

    /// Asks `hub` (a presence command) and waits up to `wait` for its answer.
    pub async fn ask_presence(&self, hub: &str, command: Vec<u8>, wait: Duration) -> Result<Bytes> {
        let subject = subject::presence_commands(&self.prefix, hub);
        let asked = self.client.request(subject, command.into());
        match tokio::time::timeout(wait, asked).await {
            Ok(Ok(msg)) => Ok(msg.payload),
            Ok(Err(e)) => {
                log::warn!("cluster: a presence request to another hub failed: {e}");
                Err(Error::BusUnavailable)
            }
            Err(_) => {
                log::warn!("cluster: another hub did not answer a presence request in {wait:?}");
                Err(Error::BusUnavailable)
            }
        }
    }

    /// Answers a request (a message with a reply subject).
    pub fn reply(&self, to: async_nats::Subject, payload: Vec<u8>) {
        let client = self.client.clone();
        actix_web::rt::spawn(async move {
            let _ = client.publish(to, payload.into()).await;
        });
    }

    /// Whether a message came from this hub.
    pub fn is_own(&self, headers: Option<&HeaderMap>) -> bool {
        headers
            .and_then(|h| h.get(H_HUB))
            .is_some_and(|v| v.as_str() == &*self.hub_id)
    }

    pub fn session_subject(&self, key: &str) -> String {
        subject::session(&self.prefix, key)
    }

    /// The stream sequence of the session's newest message, if the stream holds any.
    pub async fn last_sequence(&self, key: &str) -> Result<Option<u64>> {
        let stream = self
            .js
            .get_stream_no_info(&self.stream)
            .await
            .map_err(|_| Error::BusUnavailable)?;
        match stream
            .get_last_raw_message_by_subject(&self.session_subject(key))
            .await
        {
            Ok(msg) => Ok(Some(msg.sequence)),
            Err(e) if e.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound => {
                Ok(None)
            }
            Err(e) => {
                log::warn!("cluster: reading a session's newest message failed: {e}");
                Err(Error::BusUnavailable)
            }
        }
    }

    /// The session's live frames: a plain (core NATS) subscription to its subject, no stream
    /// or acks in the way. Once this returns the server has the subscription, so every message
    /// published from then on reaches it (async-nats subscribes again after a reconnect).
    pub async fn subscribe(&self, key: &str) -> Result<async_nats::Subscriber> {
        let sub = self
            .client
            .subscribe(self.session_subject(key))
            .await
            .map_err(|e| {
                log::warn!("cluster: subscribing to a session failed: {e}");
                Error::BusUnavailable
            })?;
        self.client.flush().await.map_err(|e| {
            log::warn!("cluster: subscribing to a session failed: {e}");
            Error::BusUnavailable
        })?;
        Ok(sub)
    }

    /// Reads a session's subject from the oldest message the stream keeps of it (its latest
    /// full snapshot) on, in order: the catch-up of a follower, whose live part comes from
    /// [`Bus::subscribe`].
    pub async fn follow(&self, key: &str) -> Result<jetstream::consumer::push::Ordered> {
        let stream = self
            .js
            .get_stream_no_info(&self.stream)
            .await
            .map_err(|_| Error::BusUnavailable)?;
        let consumer = stream
            .create_consumer(jetstream::consumer::push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subject: self.session_subject(key),
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                log::warn!("cluster: following a session failed: {e}");
                Error::BusUnavailable
            })?;
        consumer.messages().await.map_err(|e| {
            log::warn!("cluster: following a session failed: {e}");
            Error::BusUnavailable
        })
    }
}

impl Relay for Bus {
    fn hub_id(&self) -> &str {
        &self.hub_id
    }

    fn lease(&self) -> Duration {
        self.lease
    }

    fn events(&self, key: &str, frame: &Arc<str>, first: u64, last: u64, snapshot: bool) {
        let mut h = self.headers(KIND_EVENTS);
        h.insert(H_FIRST, first.to_string().as_str());
        h.insert(H_LAST, last.to_string().as_str());
        let payload = Bytes::copy_from_slice(frame.as_bytes());
        self.queue(self.session_subject(key), h, payload, snapshot);
    }

    fn clock(&self, key: &str, frame: &Arc<str>) {
        let payload = Bytes::copy_from_slice(frame.as_bytes());
        self.queue(
            self.session_subject(key),
            self.headers(KIND_CLOCK),
            payload,
            false,
        );
    }

    fn ended(&self, key: &str, last: u64) {
        let mut h = self.headers(KIND_END);
        h.insert(H_LAST, last.to_string().as_str());
        self.queue(self.session_subject(key), h, Bytes::new(), false);
    }

    fn request_release(&self, owner: &str, key: &str) {
        let subject = subject::release(&self.prefix, owner);
        let payload = Bytes::copy_from_slice(key.as_bytes());
        let client = self.client.clone();
        actix_web::rt::spawn(async move {
            let _ = client.publish(subject, payload).await;
        });
    }
}

/// A NATS stream (a subscription, a consumer) that is dropped inside the runtime it was made
/// in: async-nats unsubscribes from `Drop` by spawning a task, which panics outside any runtime
/// (an actor dropped as the process exits). On a runtime already shut down the spawn is simply
/// cancelled.
pub struct InRuntime<S> {
    inner: Option<S>,
    handle: tokio::runtime::Handle,
}

impl<S> InRuntime<S> {
    /// Must be called inside a runtime (any actor or async context of the hub is).
    pub fn new(inner: S) -> Option<Self> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        Some(InRuntime {
            inner: Some(inner),
            handle,
        })
    }
}

impl<S: futures_util::Stream + Unpin> futures_util::Stream for InRuntime<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        match self.inner.as_mut() {
            Some(s) => std::pin::Pin::new(s).poll_next(cx),
            None => std::task::Poll::Ready(None),
        }
    }
}

impl<S> Drop for InRuntime<S> {
    fn drop(&mut self) {
        let _entered = self.handle.enter();
        drop(self.inner.take());
    }
}

/// The publishing task: one message at a time, in order. A snapshot frame is published through
/// JetStream, and once stored the subject's older messages are purged: the stream keeps each
/// session from its latest full snapshot on.
async fn publish_all(js: jetstream::Context, stream: String, mut queue: mpsc::Receiver<Out>) {
    while let Some(msg) = queue.recv().await {
        metrics::CLUSTER_PUBLISHED.inc();
        if !msg.snapshot {
            if let Err(e) = js
                .client()
                .publish_with_headers(msg.subject, msg.headers, msg.payload)
                .await
            {
                log::warn!("cluster: publishing failed: {e}");
            }
            continue;
        }
        let subject = msg.subject.clone();
        match js
            .publish_with_headers(msg.subject, msg.headers, msg.payload)
            .await
        {
            Ok(ack) => {
                let (js, stream) = (js.clone(), stream.clone());
                // Waiting for the ack elsewhere keeps the next frames flowing meanwhile.
                actix_web::rt::spawn(async move {
                    let Ok(ack) = ack.await else { return };
                    if let Err(e) = trim_before(&js, &stream, &subject, ack.sequence).await {
                        log::warn!("cluster: trimming a session before its snapshot failed: {e}");
                    }
                });
            }
            Err(e) => log::warn!("cluster: publishing a snapshot failed: {e}"),
        }
    }
}

/// Removes the subject's messages older than stream sequence `seq` (a session's latest full
/// snapshot). Nothing precedes the stream's first message: NATS (2.9.10 here) takes a purge "up
/// to sequence 1" as a purge of the whole subject, which removed the snapshot and every frame
/// after it (a late viewer on another hub then found nothing of the session in the stream).
pub async fn trim_before(
    js: &jetstream::Context,
    stream: &str,
    subject: &str,
    seq: u64,
) -> std::result::Result<(), String> {
    if seq <= 1 {
        return Ok(());
    }
    let handle = js
        .get_stream_no_info(stream)
        .await
        .map_err(|e| e.to_string())?;
    handle
        .purge()
        .filter(subject)
        .sequence(seq)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
