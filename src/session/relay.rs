//! What a session tells the rest of a cluster, behind a trait the cluster's bus implements
//! (the `cluster` module, a layer above this one): its accepted events, clock reports and end for
//! viewers on other hubs, and requests that another hub hand a session over. Single-node hubs
//! have no relay.

use std::{sync::Arc, time::Duration};

/// The cluster as a session sees it. Every call returns at once: publishing happens elsewhere,
/// in order, and a frame that cannot be published leaves a gap the other hubs fill from the
/// database (events carry their seq).
pub trait Relay: Send + Sync {
    /// This hub's name in the cluster (its ownership of sessions is recorded under it).
    fn hub_id(&self) -> &str;
    /// How long an ownership lasts unrenewed.
    fn lease(&self) -> Duration;
    /// A ready-made `events` frame of seqs `first..=last`; `snapshot` when it holds a Meta
    /// event (a viewer can start there, and the bus keeps the session from there on).
    fn events(&self, key: &str, frame: &Arc<str>, first: u64, last: u64, snapshot: bool);
    /// A ready-made `clock` frame.
    fn clock(&self, key: &str, frame: &Arc<str>);
    /// The session ended after its event `last`.
    fn ended(&self, key: &str, last: u64);
    /// Asks `owner` to hand `key` over (its recorder came to this hub).
    fn request_release(&self, owner: &str, key: &str);
}
