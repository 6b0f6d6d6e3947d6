//! The session-list feed (`/ws/sessions`): pushes every session start, growth and end to a
//! dashboard so its list updates without reloading.

use std::time::Instant;

use actix::prelude::*;
use actix_web_actors::ws::{self, WebsocketContext};

use super::{next_conn_id, send, start_heartbeat};
use crate::{
    protocol::{restart_reason, HubToFeed},
    registry::{FeedUpdate, Registry, WatchFeed},
};

pub struct FeedSocket {
    conn: u64,
    /// Only sessions of these projects are shown; `None` shows every project's.
    projects: Option<Vec<String>>,
    registry: Addr<Registry>,
    last_seen: Instant,
}

impl FeedSocket {
    pub fn new(registry: Addr<Registry>, projects: Option<Vec<String>>) -> Self {
        FeedSocket {
            conn: next_conn_id(),
            projects,
            registry,
            last_seen: Instant::now(),
        }
    }
}

impl Actor for FeedSocket {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        start_heartbeat(ctx, |a| a.last_seen);
        self.registry.do_send(WatchFeed {
            conn: self.conn,
            addr: Some(ctx.address().recipient()),
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.registry.do_send(WatchFeed {
            conn: self.conn,
            addr: None,
        });
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for FeedSocket {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        match msg {
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Close(_)) | Err(_) => ctx.stop(),
            Ok(_) => {}
        }
    }
}

impl Handler<FeedUpdate> for FeedSocket {
    type Result = ();

    fn handle(&mut self, msg: FeedUpdate, ctx: &mut Self::Context) {
        match msg {
            FeedUpdate::Changed(info) => {
                let shown = self
                    .projects
                    .as_ref()
                    .is_none_or(|list| list.contains(&info.project));
                if shown {
                    send(ctx, &HubToFeed::Session { session: &info });
                }
            }
            FeedUpdate::ShuttingDown => {
                ctx.close(Some(restart_reason()));
                ctx.stop();
            }
        }
    }
}
