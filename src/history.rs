//! History: a session's events from a given seq, read from the database page by page and then
//! from the session's buffer. Viewers and the events API both read through it.

use futures_util::{stream, Stream};

use crate::{
    db::store::{self, Store},
    error::Result,
    event::SharedEvent,
};

/// Bytes of event JSON per page (a page may exceed it by one chunk, or one large event).
pub const PAGE_BYTES: usize = 512 * 1024;

/// Pages of events with seq ≥ `from_seq`: stored ones below `stored_before` (all of them when
/// `None`), then `buffered` (already filtered by the caller) as the last page.
pub fn pages(
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
                        .run(move |c| store::load_events(c, &id, from, stored_before, PAGE_BYTES))
                        .await;
                    match page {
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
