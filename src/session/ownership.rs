//! A session in a cluster: exactly one hub records it and writes its events, the one holding
//! its ownership in the database (`db::owners`). A session actor claims it before loading the
//! session's stored state (so it continues from what the previous owner made durable), renews
//! the lease while it lives, hands the session over when its recorder went to another hub
//! (once everything it accepted is durable), and releases it when it stops. Its writes carry
//! the claim (owner and epoch), so that once another hub has the session nothing more of this
//! one's is stored (`owners::hold`), even if it was paused past its lease and never noticed.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix::prelude::*;

use super::{fanout::ToViewer, relay::Relay, Lifecycle, Session, State, ToRecorder};
use crate::{
    db::{owners, owners::Fence, Store},
    error::{Error, Result},
    event::now_ms,
};

/// How often a claim held by another hub is tried again.
const CLAIM_RETRY: Duration = Duration::from_millis(250);
/// How often the holder is asked to hand over while a claim waits.
const RELEASE_ASK: Duration = Duration::from_secs(1);

/// A session's part in the cluster.
pub struct ClusterSide {
    pub relay: Arc<dyn Relay>,
    /// This hub holds the session's ownership, under this claim.
    claim: Option<Fence>,
    /// Its recorder went to another hub: finishing what was accepted, then letting go.
    handing_over: bool,
    /// The last renewal that succeeded.
    renewed_at: Option<Instant>,
}

impl ClusterSide {
    pub fn new(relay: Arc<dyn Relay>) -> Self {
        ClusterSide {
            relay,
            claim: None,
            handing_over: false,
            renewed_at: None,
        }
    }

    pub fn handing_over(&self) -> bool {
        self.handing_over
    }

    /// The claim the session's writes go under.
    pub fn fence(&self) -> Option<Fence> {
        self.claim.clone()
    }
}

/// Takes the session's ownership, waiting for the holder's lease to run out (asking it to hand
/// over meanwhile) for at most one lease and a bit; `session_closing` (the recorder retries)
/// when it does not come, or when the database cannot say. Returns the claim's epoch.
pub async fn claim(store: Store, relay: Arc<dyn Relay>, key: Arc<str>) -> Result<i64> {
    let lease = relay.lease();
    let deadline = Instant::now() + lease + Duration::from_secs(2);
    let mut asked: Option<Instant> = None;
    loop {
        let (me, id) = (relay.hub_id().to_owned(), key.clone());
        let until = now_ms() + lease.as_millis() as i64;
        let claim = store
            .run(move |c| owners::acquire(c, &id, &me, now_ms(), until))
            .await;
        match claim {
            Ok(owners::Claim::Acquired(epoch)) => return Ok(epoch),
            Ok(owners::Claim::HeldBy(owner)) => {
                if !owner.is_empty() && asked.is_none_or(|t| t.elapsed() >= RELEASE_ASK) {
                    relay.request_release(&owner, &key);
                    asked = Some(Instant::now());
                }
            }
            Err(e) => log::warn!("session {key}: claiming it failed: {e}"),
        }
        if Instant::now() >= deadline {
            log::info!("session {key}: another hub still owns it; the recorder will retry");
            return Err(Error::SessionClosing);
        }
        actix_web::rt::time::sleep(CLAIM_RETRY).await;
    }
}

/// To a session: another hub's recorder connection wants it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct HandOver;

impl Handler<HandOver> for Session {
    type Result = ();

    fn handle(&mut self, _: HandOver, ctx: &mut Self::Context) {
        // A recorder still attached here keeps the session here; the claim times out.
        if self.recorder.is_some() || self.state != State::Active {
            return;
        }
        if let Some(cluster) = self.cluster.as_mut().filter(|c| c.claim.is_some()) {
            log::info!("session {}: handing it over to another hub", self.id);
            cluster.handing_over = true;
            self.maybe_hand_over(ctx);
        }
    }
}

impl Session {
    /// Claimed under `epoch`: renew the lease every third of it for as long as the actor lives.
    pub(super) fn start_lease(&mut self, epoch: i64, ctx: &mut Context<Self>) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        cluster.claim = Some(Fence {
            owner: cluster.relay.hub_id().into(),
            epoch,
        });
        cluster.renewed_at = Some(Instant::now());
        let lease = cluster.relay.lease();
        ctx.run_interval(lease / 3, move |act, ctx| {
            let Some(claim) = act.cluster.as_ref().and_then(ClusterSide::fence) else {
                return;
            };
            let id = act.id.clone();
            let until = now_ms() + lease.as_millis() as i64;
            let renew = act.store.run(move |c| owners::renew(c, &id, &claim, until));
            ctx.spawn(renew.into_actor(act).map(move |res, act, ctx| {
                let Some(cluster) = act.cluster.as_mut() else {
                    return;
                };
                match res {
                    Ok(true) => cluster.renewed_at = Some(Instant::now()),
                    Ok(false) => act.lost_ownership(ctx),
                    Err(e) => {
                        log::warn!("session {}: renewing its ownership failed: {e}", act.id);
                        if cluster.renewed_at.is_none_or(|t| t.elapsed() >= lease) {
                            act.lost_ownership(ctx);
                        }
                    }
                }
            }));
        });
    }

    /// Another hub has the session now (this one's lease ran out): take nothing more, and let
    /// the recorder and viewers reconnect to wherever it is served. (Also when the writer found
    /// the claim gone: see `Durable::lost`.)
    pub(super) fn lost_ownership(&mut self, ctx: &mut Context<Self>) {
        if self.cluster.as_ref().is_none_or(|c| c.claim.is_none()) {
            return; // Told already (the writer may refuse several flushes).
        }
        log::error!(
            "session {}: its ownership was lost; closing it here",
            self.id
        );
        if let Some(cluster) = self.cluster.as_mut() {
            cluster.claim = None;
        }
        if let Some((_, recorder)) = self.recorder.take() {
            recorder.do_send(ToRecorder::ShuttingDown);
        }
        self.let_go(ctx);
    }

    /// Hands over once everything accepted is durable.
    pub(super) fn maybe_hand_over(&mut self, ctx: &mut Context<Self>) {
        let ready = self.cluster.as_ref().is_some_and(|c| c.handing_over)
            && self.state == State::Active
            && self
                .backlog
                .as_ref()
                .is_none_or(super::backlog::Backlog::all_durable);
        if ready {
            self.let_go(ctx);
        }
    }

    /// Stops serving the session without ending it; `stopped` releases the ownership.
    fn let_go(&mut self, ctx: &mut Context<Self>) {
        self.state = State::Closing;
        self.lifecycle
            .do_send(Lifecycle::Closing(self.id.clone(), ctx.address()));
        self.publish(ToViewer::Moved);
        ctx.stop();
    }

    /// The actor stopped: whoever comes next takes the session at once.
    pub(super) fn release_ownership(&mut self) {
        let Some(claim) = self.cluster.as_mut().and_then(|c| c.claim.take()) else {
            return;
        };
        let id = self.id.clone();
        let release = self.store.run(move |c| owners::release(c, &id, &claim));
        actix::spawn(async move {
            if let Err(e) = release.await {
                log::warn!("releasing a session's ownership failed (its lease runs out): {e}");
            }
        });
    }
}
