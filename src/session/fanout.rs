//! The viewers of one session, behind the narrow interface the session actor uses to reach
//! them; a broker-backed fan-out across hubs would implement the same calls.
//!
//! Each viewer's queue is bounded in bytes where frames are queued, not only where they are
//! written: a viewer whose socket stops draining (a frozen tab, a full TCP window) is not polled
//! by its socket actor, so its mailbox would otherwise grow without bound. Past
//! `MAX_QUEUED_BYTES` the viewer is cut from the fan-out at once and told `TooSlow`.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use actix::{Message, Recipient};

/// Bytes of frames queued for one viewer and not yet handled by its socket.
pub const MAX_QUEUED_BYTES: usize = 32 * 1024 * 1024;

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
    /// This viewer fell too far behind and no longer gets frames.
    TooSlow,
    /// The hub is stopping.
    ShuttingDown,
    /// The session is served elsewhere now (cluster mode: its recorder moved to another hub,
    /// or the bus was lost): reconnect.
    Moved,
    /// Cluster mode: this hub lost the bus the session's events come from; reconnect.
    BusLost,
}

impl ToViewer {
    fn bytes(&self) -> usize {
        match self {
            ToViewer::Frame(f, _) | ToViewer::Clock(f) => f.len(),
            ToViewer::Ended
            | ToViewer::TooSlow
            | ToViewer::ShuttingDown
            | ToViewer::Moved
            | ToViewer::BusLost => 0,
        }
    }
}

/// The count of bytes queued for one viewer, shared by the fan-out (which adds) and the viewer's
/// socket (which takes away as it handles each frame).
#[derive(Clone, Default, Debug)]
pub struct Queued(Arc<AtomicUsize>);

impl Queued {
    /// The socket handled a message.
    pub fn handled(&self, msg: &ToViewer) {
        self.0.fetch_sub(msg.bytes(), Ordering::Relaxed);
    }

    pub fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// A viewer as the session holds it.
pub struct ViewerHandle {
    pub conn: u64,
    pub addr: Recipient<ToViewer>,
    pub queued: Queued,
}

#[derive(Default)]
pub struct Fanout {
    viewers: HashMap<u64, ViewerHandle>,
}

impl Fanout {
    pub fn add(&mut self, viewer: ViewerHandle) {
        self.viewers.insert(viewer.conn, viewer);
    }

    pub fn remove(&mut self, conn: u64) {
        self.viewers.remove(&conn);
    }

    /// Sends to every viewer; returns the viewers cut for being over their bound.
    pub fn publish(&mut self, msg: ToViewer) -> Vec<u64> {
        let bytes = msg.bytes();
        let mut cut = Vec::new();
        for v in self.viewers.values() {
            let before = v.queued.0.fetch_add(bytes, Ordering::Relaxed);
            if before + bytes > MAX_QUEUED_BYTES {
                v.queued.0.fetch_sub(bytes, Ordering::Relaxed);
                v.addr.do_send(ToViewer::TooSlow);
                cut.push(v.conn);
            } else {
                v.addr.do_send(msg.clone());
            }
        }
        for conn in &cut {
            self.viewers.remove(conn);
        }
        cut
    }

    pub fn len(&self) -> usize {
        self.viewers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.viewers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use actix::{Actor, Context, Handler};

    use super::*;

    /// A viewer that never handles anything: its mailbox only grows.
    struct Stuck;
    impl Actor for Stuck {
        type Context = Context<Self>;
    }
    impl Handler<ToViewer> for Stuck {
        type Result = ();
        fn handle(&mut self, _: ToViewer, _: &mut Context<Self>) {}
    }

    #[actix_web::test]
    async fn a_viewer_that_never_drains_is_cut_at_its_bound_and_others_are_not() {
        let mut fanout = Fanout::default();
        let (stuck, healthy) = (Queued::default(), Queued::default());
        fanout.add(ViewerHandle {
            conn: 1,
            addr: Stuck.start().recipient(),
            queued: stuck.clone(),
        });
        fanout.add(ViewerHandle {
            conn: 2,
            addr: Stuck.start().recipient(),
            queued: healthy.clone(),
        });
        let frame: Arc<str> = "x".repeat(1024 * 1024).into();
        let mut cut = Vec::new();
        for seq in 0..40 {
            let msg = ToViewer::Frame(frame.clone(), seq);
            cut.extend(fanout.publish(msg.clone()));
            healthy.handled(&msg); // this one keeps up
        }
        assert_eq!(cut, vec![1]);
        assert_eq!(fanout.len(), 1);
        assert_eq!(
            stuck.bytes(),
            MAX_QUEUED_BYTES,
            "queued up to the bound, never past it"
        );
        assert_eq!(healthy.bytes(), 0);
    }
}
