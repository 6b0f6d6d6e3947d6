//! Retention: sessions whose last event is older than their project's `retention_days` are
//! deleted with everything keyed by them, by a periodic pass (shortly after start, then every
//! `--retention-interval-secs`), and the space is given back. Never a session with a running
//! actor or open in the database. The pass works in small batches, each its own short
//! transaction on the blocking pool, so recorders and readers never wait long for it; it logs
//! counts only. The same actor gives the space of a session deleted on request back.

use std::{collections::HashSet, sync::Arc, time::Duration};

use actix::prelude::*;

use crate::{
    db::{
        projects,
        purge::{self, Candidate},
        Store,
    },
    error::Result,
    event::now_ms,
    registry::{LiveKeys, Registry},
};

/// The first pass runs this long after start (or after one interval, if shorter).
const FIRST_PASS_AFTER: Duration = Duration::from_secs(30);
/// Sessions read per query while looking for old ones.
const CANDIDATES: i64 = 500;
/// At most this many sessions, or this many stored bytes, per deleting transaction (always at
/// least one session).
const BATCH_SESSIONS: usize = 100;
const BATCH_BYTES: i64 = 16 * 1024 * 1024;
/// Space freed by deletions on request is given back this long after the first of them, once
/// for a burst of them.
const RECLAIM_AFTER: Duration = Duration::from_secs(1);

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Sessions whose last event is before this (ms) are old for a project keeping them `days`.
pub fn cutoff(now: i64, days: i32) -> i64 {
    now.saturating_sub(i64::from(days.max(1)).saturating_mul(DAY_MS))
}

/// The next batch to delete from `candidates` (oldest first): skips live sessions, stops at
/// `BATCH_SESSIONS` sessions or `BATCH_BYTES` stored bytes (always taking one). Returns the
/// keys and how many candidates it went through.
pub fn next_batch(candidates: &[Candidate], live: &HashSet<Arc<str>>) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut bytes = 0i64;
    let mut used = 0;
    for c in candidates {
        if live.contains(c.id.as_str()) {
            used += 1;
            continue;
        }
        if !keys.is_empty()
            && (keys.len() >= BATCH_SESSIONS || bytes.saturating_add(c.stored_bytes) > BATCH_BYTES)
        {
            break;
        }
        bytes = bytes.saturating_add(c.stored_bytes);
        keys.push(c.id.clone());
        used += 1;
    }
    (keys, used)
}

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sessions: usize,
    pub stored_bytes: i64,
    pub projects: usize,
}

/// One retention pass over every project, then the space given back if anything went.
pub async fn pass(store: &Store, registry: &Addr<Registry>) -> Result<Report> {
    let started = std::time::Instant::now();
    let now = now_ms();
    let mut report = Report::default();
    for project in store.run(projects::list).await? {
        let limit = cutoff(now, project.retention_days);
        let deleted = purge_project(store, registry, project.id, limit).await?;
        if deleted.sessions > 0 {
            report.projects += 1;
            report.sessions += deleted.sessions;
            report.stored_bytes += deleted.stored_bytes;
        }
    }
    if report.sessions > 0 {
        store.run(purge::reclaim).await?;
        log::info!(
            "retention: deleted {} sessions ({} bytes stored) of {} projects in {} ms",
            report.sessions,
            report.stored_bytes,
            report.projects,
            started.elapsed().as_millis()
        );
    }
    Ok(report)
}

async fn purge_project(
    store: &Store,
    registry: &Addr<Registry>,
    project: String,
    cutoff: i64,
) -> Result<Report> {
    let mut report = Report::default();
    let mut after: Option<(i64, String)> = None;
    loop {
        let (p, from) = (project.clone(), after.clone());
        let candidates = store
            .run(move |c| purge::old_sessions(c, &p, cutoff, from.as_ref(), CANDIDATES))
            .await?;
        // Asked per batch: a recorder may have come back meanwhile.
        let live = registry.send(LiveKeys).await?;
        let mut rest = candidates.as_slice();
        while !rest.is_empty() {
            let (keys, used) = next_batch(rest, &live);
            let sizes: Vec<(String, i64)> = rest[..used]
                .iter()
                .map(|c| (c.id.clone(), c.stored_bytes))
                .collect();
            rest = &rest[used..];
            if keys.is_empty() {
                continue;
            }
            let gone = store
                .run(move |c| purge::delete_sessions(c, &keys, Some(cutoff)))
                .await?;
            report.sessions += gone.len();
            report.stored_bytes += sizes
                .iter()
                .filter(|(id, _)| gone.contains(id))
                .map(|(_, b)| b)
                .sum::<i64>();
        }
        match candidates.last() {
            Some(last) if candidates.len() as i64 == CANDIDATES => {
                after = Some((last.last_event_at, last.id.clone()));
            }
            _ => return Ok(report),
        }
    }
}

/// The periodic task, and the one place space is given back after deletions.
pub struct Retention {
    store: Store,
    registry: Addr<Registry>,
    /// `None`: no periodic pass (`--retention-interval-secs 0`).
    interval: Option<Duration>,
    reclaim_queued: bool,
}

impl Retention {
    pub fn new(store: Store, registry: Addr<Registry>, interval: Option<Duration>) -> Self {
        Retention {
            store,
            registry,
            interval,
            reclaim_queued: false,
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(RunPass);
        if let Some(every) = self.interval {
            ctx.run_later(every, Self::tick);
        }
    }
}

impl Actor for Retention {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if let Some(every) = self.interval {
            ctx.run_later(every.min(FIRST_PASS_AFTER), Self::tick);
        }
    }
}

/// Runs a pass now (after any running one): what the timer sends, and what tests call through
/// `Server::run_retention`.
#[derive(Message)]
#[rtype(result = "Result<Report>")]
pub struct RunPass;

impl Handler<RunPass> for Retention {
    // Atomic: passes and reclaims never overlap.
    type Result = AtomicResponse<Self, Result<Report>>;

    fn handle(&mut self, _: RunPass, _: &mut Self::Context) -> Self::Result {
        let (store, registry) = (self.store.clone(), self.registry.clone());
        AtomicResponse::new(Box::pin(
            async move {
                let result = pass(&store, &registry).await;
                if let Err(e) = &result {
                    log::error!("retention pass failed (retried at the next one): {e}");
                }
                result
            }
            .into_actor(self),
        ))
    }
}

/// A session was deleted on request: give its space back soon.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reclaim;

impl Handler<Reclaim> for Retention {
    type Result = ();

    fn handle(&mut self, _: Reclaim, ctx: &mut Self::Context) {
        if std::mem::replace(&mut self.reclaim_queued, true) {
            return;
        }
        ctx.run_later(RECLAIM_AFTER, |act, ctx| {
            act.reclaim_queued = false;
            let reclaim = act.store.run(purge::reclaim);
            ctx.wait(reclaim.into_actor(act).map(|res, _, _| {
                if let Err(e) = res {
                    log::error!("giving back the space of deleted sessions failed: {e}");
                }
            }));
        });
    }
}

/// The hub is stopping: no more passes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

impl Handler<Stop> for Retention {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, bytes: i64) -> Candidate {
        Candidate {
            id: id.into(),
            last_event_at: 0,
            stored_bytes: bytes,
        }
    }

    #[test]
    fn the_cutoff_is_that_many_days_back() {
        assert_eq!(cutoff(10 * DAY_MS, 3), 7 * DAY_MS);
        assert_eq!(cutoff(10 * DAY_MS, 0), 9 * DAY_MS, "at least a day");
        assert_eq!(cutoff(0, i32::MAX), -(i32::MAX as i64) * DAY_MS);
    }

    #[test]
    fn a_batch_skips_live_sessions_and_stops_at_its_bounds() {
        let live: HashSet<Arc<str>> = ["p:b".into()].into_iter().collect();
        let list = [cand("p:a", 1), cand("p:b", 1), cand("p:c", 1)];
        assert_eq!(
            next_batch(&list, &live),
            (vec!["p:a".to_owned(), "p:c".to_owned()], 3)
        );
        let many: Vec<_> = (0..250).map(|i| cand(&format!("p:{i}"), 10)).collect();
        let (keys, used) = next_batch(&many, &HashSet::new());
        assert_eq!((keys.len(), used), (BATCH_SESSIONS, BATCH_SESSIONS));
        let big = [
            cand("p:x", BATCH_BYTES),
            cand("p:y", 1),
            cand("p:z", BATCH_BYTES * 3),
        ];
        assert_eq!(
            next_batch(&big, &HashSet::new()).1,
            1,
            "bytes bound a batch"
        );
        assert_eq!(
            next_batch(&big[2..], &HashSet::new()),
            (vec!["p:z".to_owned()], 1),
            "a session larger than the bound goes alone"
        );
        let only_live = [cand("p:b", 1)];
        assert_eq!(next_batch(&only_live, &live), (vec![], 1));
    }
}
