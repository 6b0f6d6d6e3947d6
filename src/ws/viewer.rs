//! The viewer socket (`/ws/watch/{id}`): sends a session's history from the chosen start, then
//! its live events, with no gap and no duplicate at the seam, and an end marker when it ends.

use std::{sync::Arc, time::Instant};

use actix::prelude::*;
use actix_web_actors::ws::{self, CloseCode, CloseReason, WebsocketContext};

use super::{close_with, next_conn_id, start_heartbeat, Assembler, Incoming};
use crate::{
    db::store::{SessionInfo, Store},
    error::{Error, Result},
    event::{events_frame, now_ms, parse_client_message, pong_frame, ClientMessage, SharedEvent},
    fanout::ToViewer,
    history,
    session::{Session, StartFrom, Subscribe, Unsubscribe},
};

/// Where the viewer's events come from.
pub enum Source {
    /// An active session: history up to its buffer, then live.
    Active(Addr<Session>, StartFrom),
    /// An ended session: everything from `start_seq`, read from the database.
    Ended { info: SessionInfo, start_seq: u64 },
}

pub struct ViewerSocket {
    id: Arc<str>,
    conn: u64,
    source: Source,
    store: Store,
    last_seen: Instant,
    frames: Assembler,
    /// Live frames that arrive while history is still being sent; `None` once live.
    held: Option<Vec<Arc<str>>>,
    ended: bool,
}

#[derive(serde::Serialize)]
struct Hello<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    session: &'a SessionInfo,
    start_seq: u64,
}

impl ViewerSocket {
    pub fn new(id: Arc<str>, source: Source, store: Store, max_frame_bytes: usize) -> Self {
        let ended = matches!(source, Source::Ended { .. });
        ViewerSocket {
            id,
            conn: next_conn_id(),
            source,
            store,
            last_seen: Instant::now(),
            frames: Assembler::new(max_frame_bytes),
            held: Some(Vec::new()),
            ended,
        }
    }

    fn begin(
        &mut self,
        ctx: &mut WebsocketContext<Self>,
        info: &SessionInfo,
        start_seq: u64,
        stored_before: Option<u64>,
        buffered: Vec<SharedEvent>,
    ) {
        if let Ok(text) = serde_json::to_string(&Hello {
            kind: "session",
            session: info,
            start_seq,
        }) {
            ctx.text(text);
        }
        ctx.add_stream(history::pages(
            self.store.clone(),
            self.id.to_string(),
            start_seq,
            stored_before,
            buffered,
        ));
    }

    fn finish(&mut self, ctx: &mut WebsocketContext<Self>) {
        ctx.text("{\"type\":\"end\"}");
        ctx.close(Some(CloseReason {
            code: CloseCode::Normal,
            description: Some("session ended".into()),
        }));
        ctx.stop();
    }
}

impl Actor for ViewerSocket {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        start_heartbeat(ctx, |a| a.last_seen);
        match &self.source {
            Source::Ended { info, start_seq } => {
                let (info, start) = (info.clone(), *start_seq);
                self.begin(ctx, &info, start, None, Vec::new());
            }
            Source::Active(session, from) => {
                let subscribe = session.send(Subscribe {
                    conn: self.conn,
                    from: *from,
                    addr: Some(ctx.address().recipient()),
                });
                ctx.wait(subscribe.into_actor(self).map(|res, act, ctx| {
                    match res.map_err(Error::from).and_then(|r| r) {
                        Ok(sub) => act.begin(
                            ctx,
                            &sub.info,
                            sub.start_seq,
                            Some(sub.stored_before),
                            sub.buffered,
                        ),
                        Err(e) => close_with(ctx, &e),
                    }
                }));
            }
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Source::Active(session, _) = &self.source {
            session.do_send(Unsubscribe { conn: self.conn });
        }
    }
}

/// History pages, in order.
impl StreamHandler<Result<Vec<SharedEvent>>> for ViewerSocket {
    fn handle(&mut self, page: Result<Vec<SharedEvent>>, ctx: &mut Self::Context) {
        match page {
            Ok(page) if page.is_empty() => {}
            Ok(page) => ctx.text(events_frame(page.iter().map(|e| &**e))),
            Err(e) => {
                log::error!("viewer {}: reading history failed: {e}", self.id);
                close_with(ctx, &e);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        for frame in self.held.take().unwrap_or_default() {
            ctx.text(&*frame);
        }
        if self.ended {
            self.finish(ctx);
        } else {
            ctx.text("{\"type\":\"live\"}");
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for ViewerSocket {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        if let Ok(ws::Message::Ping(p)) = &msg {
            ctx.pong(p);
        }
        match self.frames.push(msg) {
            Ok(Incoming::Text(text)) => match parse_client_message(&text, now_ms()) {
                Ok(ClientMessage::Ping { id, client_time }) => {
                    ctx.text(pong_frame(&id, client_time, now_ms()));
                }
                Ok(ClientMessage::Events { .. }) => close_with(
                    ctx,
                    &Error::InvalidFrame("viewers cannot send events".into()),
                ),
                Err(e) => close_with(ctx, &e),
            },
            Ok(Incoming::Binary) => close_with(
                ctx,
                &Error::InvalidFrame("frames are JSON text, not binary".into()),
            ),
            Ok(Incoming::Close) => {
                ctx.close(None);
                ctx.stop();
            }
            Ok(Incoming::Nothing) => {}
            Err(e) => close_with(ctx, &e),
        }
    }
}

impl Handler<ToViewer> for ViewerSocket {
    type Result = ();

    fn handle(&mut self, msg: ToViewer, ctx: &mut Self::Context) {
        match (msg, self.held.as_mut()) {
            (ToViewer::Frame(f), Some(held)) => held.push(f),
            (ToViewer::Frame(f), None) => ctx.text(&*f),
            (ToViewer::Ended, Some(_)) => self.ended = true,
            (ToViewer::Ended, None) => self.finish(ctx),
        }
    }
}
