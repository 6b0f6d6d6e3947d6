//! Durable acknowledgements are coalesced (`--ack-interval-ms`): a burst of frames gets far fewer
//! acks than frames, none past what is stored, and the last covers everything. Each test runs on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;

async fn a_burst_of_frames_gets_few_acks_and_the_last_covers_all(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("burst");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 0))).await;
    rec.ack_of(2, WAIT).await;
    // 1,000 events in 1,000 frames, sent over about a second.
    let started = std::time::Instant::now();
    let n = 1_000u64;
    for i in 0..n {
        rec.send(&frame(3 + i, &[inc(2_000 + i as i64, i)])).await;
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let last = n + 2;
    let mut acks = Vec::new();
    while acks.last() != Some(&last) {
        let ack = rec.recv_type("ack").await["durable_seq"].as_u64().unwrap();
        assert!(ack <= last, "ack {ack} past {last}");
        acks.push(ack);
    }
    assert!(acks.windows(2).all(|w| w[0] < w[1]), "{acks:?}");
    // One per 250 ms at most, plus the first at once; per flush it would be one per 50 ms.
    let bound = started.elapsed().as_millis() / 250 + 2;
    assert!(
        acks.len() as u128 <= bound,
        "{} acks in {:?}: {acks:?}",
        acks.len(),
        started.elapsed()
    );
    // Acknowledged means stored.
    assert_eq!(hub.stored(&id).await.len() as u64, last);
}
both!(a_burst_of_frames_gets_few_acks_and_the_last_covers_all);

async fn a_lone_frame_after_a_pause_is_acknowledged_at_once(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.ack_interval_ms = 3_000).await;
    let id = unique_id("lone");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 0))).await;
    rec.ack_of(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    let sent = std::time::Instant::now();
    rec.send(&frame(3, &[inc(1_100, 1)])).await;
    rec.ack_of(3, WAIT).await;
    // A flush (50 ms) and the write; not held for the ack interval (3 s).
    assert!(
        sent.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        sent.elapsed()
    );
}
both!(a_lone_frame_after_a_pause_is_acknowledged_at_once);
