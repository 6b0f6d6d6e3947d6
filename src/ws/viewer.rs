//! The viewer socket (`/ws/watch/{id}`): sends a session's history from the chosen start, then
//! its live events, with no gap and no duplicate at the seam, and an end marker when it ends.
//!
//! Flow control: viewers acknowledge what they received (`{"type":"ack","seq":N}`). History is
//! sent only while less than `HISTORY_WINDOW` bytes are unacknowledged, so an hour-long session
//! never piles up in memory for one slow viewer; a live viewer more than `MAX_UNACKED` bytes
//! behind is disconnected with `viewer_too_slow` (it reconnects at the latest full snapshot).
//! Each viewer has its own actor and queue, so a stalled one never delays another.

use std::{collections::VecDeque, sync::Arc, time::Instant};

use actix::prelude::*;
use actix_web_actors::ws::{self, CloseCode, CloseReason, WebsocketContext};
use futures_util::StreamExt;

use super::{close_with, next_conn_id, read_text, send, start_heartbeat, Assembler};
use crate::{
    compression,
    db::Store,
    error::Error,
    event::now_ms,
    metrics,
    presence::{Presence, Viewers},
    protocol::{
        events_frame, parse_client_message, restart_reason, ClientMessage, HubToViewer,
        CLOSE_NORMAL,
    },
    session::{
        fanout::{Queued, ToViewer, ViewerHandle},
        StartFrom, Unsubscribe,
    },
    source::{self, Located, Opened, Pages},
};

/// Unacknowledged bytes below which more history is sent.
const HISTORY_WINDOW: usize = 4 * 1024 * 1024;
/// Unacknowledged bytes at which a live viewer is disconnected.
const MAX_UNACKED: usize = 32 * 1024 * 1024;

pub struct ViewerSocket {
    id: Arc<str>,
    conn: u64,
    source: Located,
    from: StartFrom,
    /// Bytes the session has queued for this socket (see `fanout`).
    queued: Queued,
    store: Store,
    last_seen: Instant,
    frames: Assembler,
    /// History still to send; `None` once live. Taken out while a page is being read.
    pages: Option<Pages>,
    reading: bool,
    /// Live frames that arrive while history is still being sent.
    held: Vec<(Arc<str>, u64)>,
    held_bytes: usize,
    live: bool,
    ended: bool,
    /// (last seq of a frame, bytes sent up to and including it), oldest first.
    in_flight: VecDeque<(u64, usize)>,
    sent_bytes: usize,
    acked_bytes: usize,
    /// The viewer asked for compressed frames (`?enc=deflate-raw`).
    compressed: bool,
    /// Told when this viewer comes and goes: a recording on demand stops a grace period after
    /// its last viewer left.
    presence: Option<Addr<Presence>>,
}

impl ViewerSocket {
    pub fn new(
        id: Arc<str>,
        source: Located,
        from: StartFrom,
        store: Store,
        frames: Assembler,
    ) -> Self {
        let ended = matches!(source, Located::Stored { .. });
        ViewerSocket {
            id,
            conn: next_conn_id(),
            source,
            from,
            queued: Queued::default(),
            store,
            last_seen: Instant::now(),
            frames,
            pages: None,
            reading: false,
            held: Vec::new(),
            held_bytes: 0,
            live: false,
            ended,
            in_flight: VecDeque::new(),
            sent_bytes: 0,
            acked_bytes: 0,
            compressed: false,
            presence: None,
        }
    }

    /// Counts this viewer for recordings on demand (see `presence`).
    pub fn counted_by(mut self, presence: Addr<Presence>) -> Self {
        self.presence = Some(presence);
        self
    }

    fn count(&self, delta: isize) {
        if let Some(p) = &self.presence {
            p.do_send(Viewers {
                session_key: self.id.clone(),
                delta,
            });
        }
    }

    /// Large event frames go out deflated (small live ones stay text: see `compression`).
    pub fn compressed(mut self, yes: bool) -> Self {
        self.compressed = yes;
        self
    }

    fn unacked(&self) -> usize {
        self.sent_bytes - self.acked_bytes
    }

    /// Flow control counts the text's bytes, compressed or not: what the viewer has to handle.
    fn send_events(&mut self, ctx: &mut WebsocketContext<Self>, frame: &str, last_seq: u64) {
        if self.compressed && frame.len() >= compression::VIEWER_MIN_BYTES {
            let bytes = compression::deflate_frame(frame);
            metrics::COMPRESSED_FRAMES_OUT.inc();
            metrics::COMPRESSION_SAVED_BYTES_OUT
                .add(frame.len().saturating_sub(bytes.len()) as u64);
            ctx.binary(bytes);
        } else {
            ctx.text(frame);
        }
        metrics::FRAMES_OUT.inc();
        self.sent_bytes += frame.len();
        self.in_flight.push_back((last_seq, self.sent_bytes));
    }

    fn begin(&mut self, ctx: &mut WebsocketContext<Self>, opened: Opened) {
        send(
            ctx,
            &HubToViewer::Session {
                session: &opened.info,
                start_seq: opened.start_seq,
            },
        );
        self.pages = Some(opened.pages);
        self.pump(ctx);
        if let Some(clock) = opened.clock {
            ctx.text(&*clock);
        }
    }

    /// Sends the next history page if the window allows; switches to live after the last.
    fn pump(&mut self, ctx: &mut WebsocketContext<Self>) {
        if self.reading || self.unacked() >= HISTORY_WINDOW {
            return;
        }
        let Some(pages) = self.pages.take() else {
            return;
        };
        self.reading = true;
        ctx.spawn(
            pages
                .into_future()
                .into_actor(self)
                .map(|(page, rest), act, ctx| {
                    act.reading = false;
                    match page {
                        Some(Ok(page)) => {
                            if let Some(last) = page.last() {
                                let frame = events_frame(page.iter().map(|e| &**e));
                                act.send_events(ctx, &frame, last.seq);
                            }
                            act.pages = Some(rest);
                            act.pump(ctx);
                        }
                        Some(Err(e)) => {
                            log::error!("viewer {}: reading history failed: {e}", act.id);
                            close_with(ctx, &e);
                        }
                        None => act.go_live(ctx),
                    }
                }),
        );
    }

    fn go_live(&mut self, ctx: &mut WebsocketContext<Self>) {
        self.live = true;
        self.held_bytes = 0;
        for (frame, seq) in std::mem::take(&mut self.held) {
            self.send_events(ctx, &frame, seq);
        }
        if self.ended {
            self.finish(ctx);
        } else {
            send(ctx, &HubToViewer::Live);
        }
    }

    fn finish(&mut self, ctx: &mut WebsocketContext<Self>) {
        send(ctx, &HubToViewer::End);
        ctx.close(Some(CloseReason {
            code: CloseCode::from(CLOSE_NORMAL),
            description: Some("session ended".into()),
        }));
        ctx.stop();
    }

    fn on_ack(&mut self, seq: u64, ctx: &mut WebsocketContext<Self>) {
        while let Some(&(last, bytes)) = self.in_flight.front() {
            if last > seq {
                break;
            }
            self.acked_bytes = bytes;
            self.in_flight.pop_front();
        }
        self.pump(ctx);
    }
}

impl Actor for ViewerSocket {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::VIEWERS_CONNECTED.inc();
        self.count(1);
        start_heartbeat(ctx, |a| a.last_seen);
        Assembler::watch(ctx, |a| &a.frames);
        let viewer = match self.source {
            Located::Active(_) | Located::Remote(_) => Some(ViewerHandle {
                conn: self.conn,
                addr: ctx.address().recipient(),
                queued: self.queued.clone(),
            }),
            Located::Stored { .. } => None,
        };
        let (store, id) = (self.store.clone(), self.id.clone());
        // A clone: an address, or a stored session's few snapshot points.
        let (source, from) = (self.source.clone(), self.from);
        let open = async move { source::open(&source, store, &id, from, viewer).await };
        ctx.wait(open.into_actor(self).map(|opened, act, ctx| match opened {
            Ok(opened) => act.begin(ctx, opened),
            Err(e) => close_with(ctx, &e),
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        metrics::VIEWERS_CONNECTED.dec();
        self.count(-1);
        match &self.source {
            Located::Active(session) => session.do_send(Unsubscribe { conn: self.conn }),
            Located::Remote(session) => session.do_send(Unsubscribe { conn: self.conn }),
            Located::Stored { .. } => {}
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for ViewerSocket {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        let Some(text) = read_text(&mut self.frames, msg, ctx) else {
            return;
        };
        match parse_client_message(&text, now_ms()) {
            Ok(ClientMessage::Ping { id, client_time }) => send(
                ctx,
                &HubToViewer::Pong {
                    id: &id,
                    client_time,
                    hub_time: now_ms(),
                },
            ),
            Ok(ClientMessage::Ack { seq }) => self.on_ack(seq, ctx),
            Ok(ClientMessage::Events { .. } | ClientMessage::Clock { .. }) => close_with(
                ctx,
                &Error::InvalidFrame("viewers send only ping and ack".into()),
            ),
            Err(e) => close_with(ctx, &e),
        }
    }
}

impl Handler<ToViewer> for ViewerSocket {
    type Result = ();

    fn handle(&mut self, msg: ToViewer, ctx: &mut Self::Context) {
        self.queued.handled(&msg);
        match msg {
            ToViewer::Frame(frame, seq) if self.live => {
                self.send_events(ctx, &frame, seq);
                if self.unacked() > MAX_UNACKED {
                    log::warn!(
                        "viewer of {} is {} bytes behind; disconnecting",
                        self.id,
                        self.unacked()
                    );
                    metrics::VIEWERS_CUT.inc();
                    close_with(ctx, &Error::ViewerTooSlow);
                }
            }
            ToViewer::Frame(frame, seq) => {
                self.held_bytes += frame.len();
                self.held.push((frame, seq));
                if self.held_bytes > MAX_UNACKED {
                    metrics::VIEWERS_CUT.inc();
                    close_with(ctx, &Error::ViewerTooSlow);
                }
            }
            ToViewer::Clock(frame) => ctx.text(&*frame),
            ToViewer::Ended if self.live => self.finish(ctx),
            ToViewer::Ended => self.ended = true,
            ToViewer::TooSlow => close_with(ctx, &Error::ViewerTooSlow),
            ToViewer::Moved => close_with(ctx, &Error::SessionClosing),
            ToViewer::BusLost => close_with(ctx, &Error::BusUnavailable),
            ToViewer::ShuttingDown => {
                ctx.close(Some(restart_reason()));
                ctx.stop();
            }
        }
    }
}
