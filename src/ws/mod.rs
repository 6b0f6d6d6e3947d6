//! WebSocket endpoints. Every socket actor lives under this module (actix-web-actors today; a
//! move to actix-ws stays local), sharing the heartbeat, frame assembly and error closes here.

pub mod feed;
pub mod presence;
pub mod recorder;
pub mod viewer;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use actix::{ActorContext, AsyncContext};
use actix_web_actors::ws::{self, CloseCode, CloseReason, ProtocolError, WebsocketContext};
use bytes::BytesMut;

use crate::{
    compression,
    error::Error,
    metrics,
    protocol::{outgoing::to_text, CLOSE_AWAY},
    session::budget::Lease,
};

/// How often the hub pings each socket.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A socket silent for this long is closed.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique id for a connection.
pub fn next_conn_id() -> u64 {
    NEXT_CONN.fetch_add(1, Ordering::Relaxed)
}

/// Sends one protocol message.
pub fn send<A, M>(ctx: &mut WebsocketContext<A>, msg: &M)
where
    A: actix::Actor<Context = WebsocketContext<A>>,
    M: serde::Serialize,
{
    ctx.text(to_text(msg));
}

/// Sends the error as a JSON message, then closes with its code and reason.
pub fn close_with<A>(ctx: &mut WebsocketContext<A>, err: &Error)
where
    A: actix::Actor<Context = WebsocketContext<A>>,
{
    metrics::socket_error(err);
    send(ctx, &err.body());
    ctx.close(Some(err.close_reason()));
    ctx.stop();
}

/// Pings every `HEARTBEAT_INTERVAL` and stops the actor once the peer is silent too long.
pub fn start_heartbeat<A>(ctx: &mut WebsocketContext<A>, last_seen: fn(&A) -> Instant)
where
    A: actix::Actor<Context = WebsocketContext<A>>,
{
    ctx.run_interval(HEARTBEAT_INTERVAL, move |act, ctx| {
        if last_seen(act).elapsed() > CLIENT_TIMEOUT {
            ctx.close(Some(CloseReason {
                code: CloseCode::from(CLOSE_AWAY),
                description: Some("heartbeat timeout".into()),
            }));
            ctx.stop();
        } else {
            ctx.ping(b"");
        }
    });
}

/// A complete client message, reassembled from continuation frames when needed.
enum Incoming {
    Text(String),
    /// A compressed frame (`compression`): inflated once complete.
    Binary(bytes::Bytes),
    Nothing,
    Close,
}

/// Handles one socket frame the way every StreamDOM socket does (pongs, reassembly, closes,
/// inflating compressed frames, refusing oversized messages) and returns the text of a complete
/// message. A compressed frame is held to the same limit once inflated.
pub fn read_text<A>(
    frames: &mut Assembler,
    msg: Result<ws::Message, ProtocolError>,
    ctx: &mut WebsocketContext<A>,
) -> Option<String>
where
    A: actix::Actor<Context = WebsocketContext<A>>,
{
    if let Ok(ws::Message::Ping(p)) = &msg {
        ctx.pong(p);
    }
    match frames.push(msg) {
        Ok(Incoming::Text(text)) => return Some(text),
        Ok(Incoming::Binary(frame)) => {
            metrics::COMPRESSED_FRAMES_IN.inc();
            metrics::COMPRESSED_BYTES_IN.add(frame.len() as u64);
            match compression::inflate_frame(&frame, frames.limit) {
                Ok(text) => return Some(text),
                Err(e) => close_with(ctx, &e),
            }
        }
        Ok(Incoming::Close) => {
            ctx.close(None);
            ctx.stop();
        }
        Ok(Incoming::Nothing) => {}
        Err(e) => close_with(ctx, &e),
    }
    None
}

/// Turns socket frames into whole messages, enforcing the size limit across fragments and the
/// time a fragmented message may take to complete.
pub struct Assembler {
    limit: usize,
    timeout: Duration,
    partial: Option<(bool, BytesMut)>,
    /// The bytes of `partial`, on the hub's memory account.
    held: Lease,
    /// When the message being assembled began.
    since: Option<Instant>,
}

impl Assembler {
    pub fn new(limit: usize, timeout: Duration, held: Lease) -> Self {
        Assembler {
            limit,
            timeout,
            partial: None,
            held,
            since: None,
        }
    }

    /// Whether a fragmented message has been left incomplete past its time.
    fn stalled(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() > self.timeout)
    }

    /// Checks every second that no message stays half-sent past its time (a client that
    /// trickles fragments holds memory), closing the socket with `request_timeout` if one does.
    pub fn watch<A>(ctx: &mut WebsocketContext<A>, frames: fn(&A) -> &Assembler)
    where
        A: actix::Actor<Context = WebsocketContext<A>>,
    {
        ctx.run_interval(Duration::from_secs(1), move |act, ctx| {
            if frames(act).stalled() {
                close_with(ctx, &Error::RequestTimeout);
            }
        });
    }

    fn push(&mut self, frame: Result<ws::Message, ProtocolError>) -> Result<Incoming, Error> {
        use actix_http::ws::Item;
        use ws::Message;
        let msg = frame.map_err(|e| match e {
            ProtocolError::Overflow => Error::FrameTooLarge {
                size: self.limit + 1,
                limit: self.limit,
            },
            other => Error::InvalidFrame(other.to_string()),
        })?;
        match msg {
            Message::Text(t) => Ok(Incoming::Text(t.to_string())),
            Message::Binary(b) => Ok(Incoming::Binary(b)),
            Message::Close(_) => Ok(Incoming::Close),
            Message::Ping(_) | Message::Pong(_) | Message::Nop => Ok(Incoming::Nothing),
            Message::Continuation(item) => {
                let (is_text, data, last) = match item {
                    Item::FirstText(b) => (true, b, false),
                    Item::FirstBinary(b) => (false, b, false),
                    Item::Continue(b) => (false, b, false),
                    Item::Last(b) => (false, b, true),
                };
                self.since.get_or_insert_with(Instant::now);
                let (text, buf) = self
                    .partial
                    .get_or_insert_with(|| (is_text, BytesMut::new()));
                *text |= is_text;
                let size = buf.len() + data.len();
                if size > self.limit {
                    self.partial = None;
                    self.since = None;
                    self.held.release();
                    return Err(Error::FrameTooLarge {
                        size,
                        limit: self.limit,
                    });
                }
                if !self.held.grow(data.len()) {
                    self.partial = None;
                    self.since = None;
                    self.held.release();
                    return Err(Error::Overloaded);
                }
                buf.extend_from_slice(&data);
                if !last {
                    return Ok(Incoming::Nothing);
                }
                self.since = None;
                // The whole message goes on as events, counted by the session that takes them.
                self.held.release();
                match self.partial.take() {
                    Some((true, buf)) => String::from_utf8(buf.to_vec())
                        .map(Incoming::Text)
                        .map_err(|_| Error::InvalidFrame("text is not UTF-8".into())),
                    Some((false, buf)) => Ok(Incoming::Binary(buf.freeze())),
                    None => Ok(Incoming::Nothing),
                }
            }
        }
    }
}

/// The user agent of an upgrade request, bounded so a client cannot store megabytes in it.
pub fn user_agent(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}
