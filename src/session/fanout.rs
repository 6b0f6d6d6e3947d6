//! The viewers of one session, behind the narrow interface the session actor uses to reach
//! them; a broker-backed fan-out across hubs would implement the same four calls.

use std::{collections::HashMap, sync::Arc};

use actix::{Message, Recipient};

/// What a session tells its viewers.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub enum ToViewer {
    /// A ready-made `{"type":"events",…}` text frame, built once for every viewer, and the seq
    /// of its last event.
    Frame(Arc<str>, u64),
    /// The recorder's latest clock estimate, as a ready-made `{"type":"clock",…}` frame.
    Clock(Arc<str>),
    /// Everything has been sent and the session is over.
    Ended,
}

#[derive(Default)]
pub struct Fanout {
    viewers: HashMap<u64, Recipient<ToViewer>>,
}

impl Fanout {
    pub fn add(&mut self, conn: u64, viewer: Recipient<ToViewer>) {
        self.viewers.insert(conn, viewer);
    }

    pub fn remove(&mut self, conn: u64) {
        self.viewers.remove(&conn);
    }

    pub fn publish(&self, msg: ToViewer) {
        for viewer in self.viewers.values() {
            viewer.do_send(msg.clone());
        }
    }

    pub fn len(&self) -> usize {
        self.viewers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.viewers.is_empty()
    }
}
