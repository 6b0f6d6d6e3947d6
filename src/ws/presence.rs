//! The presence socket (`/ws/presence?key=…&visitor=…`): one per tab of a page whose project
//! records on demand. It carries the visitor's small presence message (URL, viewport, user
//! agent) in, and `record`/`stop` out; nothing it receives is stored.

use std::{sync::Arc, time::Instant};

use actix::prelude::*;
use actix_web_actors::ws::{self, WebsocketContext};

use super::{close_with, next_conn_id, read_text, send, start_heartbeat, Assembler};
use crate::{
    presence::{Join, Leave, Presence, Report, ToPresence},
    protocol::{
        presence::{parse_presence, HubToPresence},
        restart_reason,
    },
};

pub struct PresenceSocket {
    project: Arc<str>,
    visitor: Arc<str>,
    conn: u64,
    presence: Addr<Presence>,
    user_agent: Option<String>,
    last_seen: Instant,
    frames: Assembler,
}

impl PresenceSocket {
    pub fn new(
        project: Arc<str>,
        visitor: Arc<str>,
        presence: Addr<Presence>,
        user_agent: Option<String>,
        frames: Assembler,
    ) -> Self {
        PresenceSocket {
            project,
            visitor,
            conn: next_conn_id(),
            presence,
            user_agent,
            last_seen: Instant::now(),
            frames,
        }
    }
}

impl Actor for PresenceSocket {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        start_heartbeat(ctx, |a| a.last_seen);
        // No `Assembler::watch` timer here: a presence message is at most 8 KiB, so a trickled
        // one holds little, and one timer less per visitor is memory and wake-ups saved (the
        // heartbeat still closes a silent peer).
        self.presence.do_send(Join {
            project: self.project.clone(),
            visitor: self.visitor.clone(),
            conn: self.conn,
            addr: ctx.address().recipient(),
            user_agent: self.user_agent.take(),
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.presence.do_send(Leave {
            project: self.project.clone(),
            visitor: self.visitor.clone(),
            conn: self.conn,
        });
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for PresenceSocket {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        let Some(text) = read_text(&mut self.frames, msg, ctx) else {
            return;
        };
        match parse_presence(&text) {
            Ok((url, viewport, user_agent)) => self.presence.do_send(Report {
                project: self.project.clone(),
                visitor: self.visitor.clone(),
                conn: self.conn,
                url,
                viewport,
                user_agent,
            }),
            Err(e) => close_with(ctx, &e),
        }
    }
}

impl Handler<ToPresence> for PresenceSocket {
    type Result = ();

    fn handle(&mut self, msg: ToPresence, ctx: &mut Self::Context) {
        match msg {
            ToPresence::Record(session_id) => send(ctx, &HubToPresence::Record { session_id }),
            ToPresence::Stop => send(ctx, &HubToPresence::Stop),
            ToPresence::ShuttingDown => {
                ctx.close(Some(restart_reason()));
                ctx.stop();
            }
        }
    }
}
