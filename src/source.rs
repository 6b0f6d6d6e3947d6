//! Where a viewer's or a reader's events come from: [`locate`] finds the session (active, or
//! ended in the database) before a socket is upgraded, and [`open`] picks the start point and
//! yields the history page by page, from the database and then from the session's buffer. The
//! viewer socket and the events API both read through here.

use std::{pin::Pin, sync::Arc};

use actix::Addr;
use futures_util::{stream, Stream};

use crate::{
    cluster::remote::RemoteSession,
    db::{chunks, sessions, Store},
    error::{Error, Result},
    event::SharedEvent,
    protocol::SessionInfo,
    registry::{InCluster, Lookup, Registry, WatchRemote},
    session::{fanout::ViewerHandle, pick_start, Read, Session, StartFrom, Subscribe},
};

/// How often, and how many times, a cluster hub looks again for a session not stored yet.
const NEW_SESSION_POLL: std::time::Duration = std::time::Duration::from_millis(100);
const NEW_SESSION_POLLS: usize = 20;

/// A session found by [`locate`].
#[derive(Clone)]
pub enum Located {
    Active(Addr<Session>),
    /// Active, recorded by another hub of the cluster: followed from the bus.
    Remote(Addr<RemoteSession>),
    /// Ended (or left by a previous run): everything is in the database.
    Stored {
        info: Box<SessionInfo>,
        metas: Vec<(u64, i64)>,
    },
}

/// Finds a session, active or stored; `session_not_found` when there is none.
pub async fn locate(registry: &Addr<Registry>, store: &Store, id: &Arc<str>) -> Result<Located> {
    if let Some(addr) = registry.send(Lookup(id.clone())).await? {
        return Ok(Located::Active(addr));
    }
    let read = || {
        let key = id.to_string();
        store.run(move |c| {
            let row = sessions::get_session(c, &key)?;
            let metas = chunks::load_metas(c, &key)?;
            Ok((row, metas))
        })
    };
    let (mut row, mut metas) = read().await?;
    // In a cluster, a session that just started on another hub has its row once that hub's
    // writer stored its first events (a flush interval or so later).
    if row.is_none() && registry.send(InCluster).await? {
        for _ in 0..NEW_SESSION_POLLS {
            actix_web::rt::time::sleep(NEW_SESSION_POLL).await;
            (row, metas) = read().await?;
            if row.is_some() {
                break;
            }
        }
    }
    let info = row.ok_or(Error::SessionNotFound)?.info();
    if info.active {
        let watch = WatchRemote {
            id: id.clone(),
            arbiter: actix::Arbiter::current(),
        };
        if let Some(remote) = registry.send(watch).await? {
            return Ok(Located::Remote(remote));
        }
    }
    Ok(Located::Stored {
        info: Box::new(info),
        metas,
    })
}

pub type Pages = Pin<Box<dyn Stream<Item = Result<Vec<SharedEvent>>>>>;

/// A source opened from its start point.
pub struct Opened {
    pub info: SessionInfo,
    /// The recorder's latest clock report, as a ready-made frame.
    pub clock: Option<Arc<str>>,
    pub start_seq: u64,
    pub pages: Pages,
}

/// Opens a located session from `from`. A `viewer` is registered with an active session in the
/// same step as its snapshot, so its live frames follow the last page with no gap.
pub async fn open(
    located: &Located,
    store: Store,
    id: &str,
    from: StartFrom,
    viewer: Option<ViewerHandle>,
) -> Result<Opened> {
    match located {
        Located::Active(_) | Located::Remote(_) => {
            let sub = match (located, viewer) {
                (Located::Active(s), Some(viewer)) => s.send(Subscribe { from, viewer }).await??,
                (Located::Active(s), None) => s.send(Read { from }).await??,
                (Located::Remote(s), Some(viewer)) => s.send(Subscribe { from, viewer }).await??,
                (Located::Remote(s), None) => s.send(Read { from }).await??,
                (Located::Stored { .. }, _) => return Err(Error::internal("not an active source")),
            };
            let snap = sub.snapshot;
            Ok(Opened {
                info: sub.info,
                clock: sub.clock,
                start_seq: snap.start_seq,
                pages: Box::pin(pages(
                    store,
                    id.to_owned(),
                    snap.start_seq,
                    Some(snap.stored_before),
                    snap.buffered,
                )),
            })
        }
        Located::Stored { info, metas } => {
            // A stored session has no live edge: "live" plays it from the start.
            let from = if from == StartFrom::Live {
                StartFrom::Start
            } else {
                from
            };
            let start_seq = pick_start(metas, from, info.first_event_ts);
            Ok(Opened {
                info: info.as_ref().clone(),
                clock: None,
                start_seq,
                pages: Box::pin(pages(store, id.to_owned(), start_seq, None, Vec::new())),
            })
        }
    }
}

/// Bytes of event JSON per page (a page may exceed it by one chunk, or one large event).
pub const PAGE_BYTES: usize = 512 * 1024;

/// Pages of events with seq ≥ `from_seq`: stored ones below `stored_before` (all of them when
/// `None`), then `buffered` (already filtered by the caller) as the last page. A stored page
/// that does not start where it should (its events are still in the spool) is `unavailable`.
fn pages(
    store: Store,
    id: String,
    from_seq: u64,
    stored_before: Option<u64>,
    buffered: Vec<SharedEvent>,
) -> impl Stream<Item = Result<Vec<SharedEvent>>> {
    enum Next {
        Stored(u64),
        Buffered,
        Done,
    }
    let first = match stored_before {
        Some(before) if before <= from_seq => Next::Buffered,
        _ => Next::Stored(from_seq),
    };
    stream::unfold((first, Some(buffered)), move |(next, mut buffered)| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            match next {
                Next::Stored(from) => {
                    let page = store
                        .run(move |c| chunks::load_events(c, &id, from, stored_before, PAGE_BYTES))
                        .await;
                    // Events below `stored_before` left the session's memory because they are
                    // durable, but durable may mean spooled during an outage: until the spool
                    // has drained they are not in the database, and the page says so rather
                    // than skipping them.
                    let missing = |events: &[crate::event::Event]| {
                        stored_before.is_some_and(|before| from < before)
                            && events.first().is_none_or(|e| e.seq != from)
                    };
                    match page {
                        Ok(events) if missing(&events) => {
                            Some((Err(Error::Unavailable), (Next::Done, None)))
                        }
                        Ok(events) => {
                            let after = match events.last() {
                                Some(last) => Next::Stored(last.seq + 1),
                                None => Next::Buffered,
                            };
                            let page = events.into_iter().map(std::sync::Arc::new).collect();
                            Some((Ok(page), (after, buffered)))
                        }
                        Err(e) => Some((Err(e), (Next::Done, None))),
                    }
                }
                Next::Buffered => {
                    let mut page = buffered.take().unwrap_or_default();
                    let mut size = 0;
                    let cut = page
                        .iter()
                        .position(|e| {
                            size += e.json.len();
                            size >= PAGE_BYTES
                        })
                        .map_or(page.len(), |i| i + 1);
                    let rest = page.split_off(cut);
                    let next = if rest.is_empty() {
                        Next::Done
                    } else {
                        Next::Buffered
                    };
                    Some((Ok(page), (next, Some(rest))))
                }
                Next::Done => None,
            }
        }
    })
}
