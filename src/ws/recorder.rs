//! The recorder socket (`/ws/record/{id}`): takes event frames from a tracked page, hands them
//! to the session actor one frame at a time, and relays durable acknowledgements back.

use std::{sync::Arc, time::Instant};

use actix::prelude::*;
use actix_web_actors::ws::{self, WebsocketContext};

use super::{close_with, next_conn_id, read_text, send, start_heartbeat, Assembler};
use crate::{
    error::Error,
    event::now_ms,
    limits::Quota,
    protocol::{parse_client_message, restart_reason, ClientMessage, HubToRecorder},
    session::{AttachRecorder, DetachRecorder, Ingest, RecorderClock, Session, ToRecorder},
};

pub struct RecorderSocket {
    id: Arc<str>,
    /// The resume token presented on connecting (`?resume=`).
    resume: Option<String>,
    conn: u64,
    session: Addr<Session>,
    last_seen: Instant,
    frames: Assembler,
    /// The events and bytes this connection may still send (see `limits`).
    quota: Quota,
    /// A frame was refused for rate: nothing after it is taken, so no later frame gets in ahead.
    limited: bool,
}

impl RecorderSocket {
    pub fn new(
        id: Arc<str>,
        session: Addr<Session>,
        frames: Assembler,
        resume: Option<String>,
        quota: Quota,
    ) -> Self {
        RecorderSocket {
            id,
            resume,
            conn: next_conn_id(),
            session,
            last_seen: Instant::now(),
            frames,
            quota,
            limited: false,
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut WebsocketContext<Self>) {
        if self.limited {
            return;
        }
        match parse_client_message(text, now_ms()) {
            Ok(ClientMessage::Events { events, .. }) => {
                // Refused whole, before the session sees it: neither stored nor acknowledged.
                if let Err(r) = self.quota.admit(events.len(), text.len()) {
                    log::info!(
                        "recorder {}: frame refused: {} limit",
                        self.id,
                        r.limit.name()
                    );
                    self.limited = true;
                    return close_with(ctx, &r.into());
                }
                // `wait`: the next frame is read only once this one is accepted, so a rejected
                // frame can never be overtaken by a later one (which would leave a gap).
                let ingest = self.session.send(Ingest { events });
                ctx.wait(ingest.into_actor(self).map(|res, act, ctx| {
                    match res.map_err(Error::from).and_then(|r| r) {
                        Ok(_) => {}
                        Err(e) => {
                            log::warn!("recorder {}: frame refused: {}", act.id, e.code());
                            close_with(ctx, &e);
                        }
                    }
                }));
            }
            Ok(ClientMessage::Ping { id, client_time }) => send(
                ctx,
                &HubToRecorder::Pong {
                    id: &id,
                    client_time,
                    hub_time: now_ms(),
                },
            ),
            Ok(ClientMessage::Clock { offset, rtt }) => {
                self.session.do_send(RecorderClock { offset, rtt });
            }
            Ok(ClientMessage::Ack { .. }) => close_with(
                ctx,
                &Error::InvalidFrame("recorders do not send acks".into()),
            ),
            Err(e) => {
                log::warn!("recorder {}: {}", self.id, e.code());
                close_with(ctx, &e);
            }
        }
    }
}

impl Actor for RecorderSocket {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        start_heartbeat(ctx, |a| a.last_seen);
        Assembler::watch(ctx, |a| &a.frames);
        let attach = self.session.send(AttachRecorder {
            conn: self.conn,
            addr: ctx.address().recipient(),
            resume: self.resume.take(),
        });
        ctx.wait(attach.into_actor(self).map(|res, act, ctx| {
            match res.map_err(Error::from).and_then(|r| r) {
                Ok(w) => send(
                    ctx,
                    &HubToRecorder::Welcome {
                        session_id: &act.id,
                        received_seq: w.received_seq,
                        durable_seq: w.durable_seq,
                        hub_time: now_ms(),
                        resume_token: &w.resume_token,
                    },
                ),
                Err(e) => close_with(ctx, &e),
            }
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.session.do_send(DetachRecorder { conn: self.conn });
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for RecorderSocket {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        if let Some(text) = read_text(&mut self.frames, msg, ctx) {
            self.on_text(&text, ctx);
        }
    }
}

impl Handler<ToRecorder> for RecorderSocket {
    type Result = ();

    fn handle(&mut self, msg: ToRecorder, ctx: &mut Self::Context) {
        match msg {
            ToRecorder::Ack(durable_seq) => send(ctx, &HubToRecorder::Ack { durable_seq }),
            ToRecorder::Resend(from_seq) => send(ctx, &HubToRecorder::Resend { from_seq }),
            ToRecorder::Replaced => close_with(ctx, &Error::RecorderReplaced),
            ToRecorder::ShuttingDown => {
                ctx.close(Some(restart_reason()));
                ctx.stop();
            }
        }
    }
}
