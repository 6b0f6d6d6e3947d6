//! Flow control and clocks: history is paced by viewer acks, a stalled viewer is cut off
//! without delaying anyone else, and recorder clock reports reach viewers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

async fn stalled_viewer_does_not_delay_others_or_the_recorder(backend: Backend) {
    // The kernel's own cut (TCP_USER_TIMEOUT, a reset) is tested in stuck_viewer.rs; here the
    // hub's bound must act first, even on a machine so loaded that the test takes 20 s.
    let hub = Hub::start_with(backend, |c| c.tcp_user_timeout_secs = 600).await;
    let id = unique_id("stall");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 0))).await;
    let mut stalled = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    stalled.recv_type("live").await;
    let mut healthy = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    healthy.acking = true;
    healthy.recv_type("live").await;
    // 48 MiB in 200 KiB events: more than a stalled viewer may owe.
    let n = 240u64;
    for i in 0..n {
        rec.send(&frame(3 + i, &[heavy(2_000 + i as i64, 200 * 1024)]))
            .await;
        let (got, _) = healthy.events(1).await;
        assert_eq!(
            seqs(&got),
            vec![3 + i],
            "the healthy viewer gets each event before the next is sent"
        );
    }
    let last = 2 + n;
    loop {
        let ack = rec.recv_type("ack").await;
        if ack["durable_seq"] == last {
            break;
        }
    }
    // The stalled viewer was cut off with a reason instead of queueing without bound.
    let (code, reason, _) = stalled.closed().await;
    assert_eq!((code, reason.as_str()), (4408, "viewer_too_slow"));
}
both!(stalled_viewer_does_not_delay_others_or_the_recorder);

/// Largest write per flush in the pacing test: a history page ends after a whole chunk, so this
/// bounds how far a page can run past its nominal size.
const PACED_FLUSH_BYTES: usize = 256 * 1024;

async fn history_is_paced_by_acks(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.flush_max_bytes = PACED_FLUSH_BYTES).await;
    let id = unique_id("paced");
    let (mut rec, _) = hub.recorder(&id).await;
    let mut events = page(1_000, 0);
    events.extend((0..60).map(|i| heavy(2_000 + i, 200 * 1024)));
    for (i, e) in events.iter().enumerate() {
        rec.send(&frame(1 + i as u64, std::slice::from_ref(e)))
            .await;
    }
    eventually("all stored", || async {
        hub.get(&format!("/api/sessions/{id}")).await.1["event_count"] == 62
    })
    .await;
    // A viewer that does not ack gets about one window (4 MiB) of history, then waits.
    let mut lazy = hub.ws(&format!("/ws/watch/{id}?from=start")).await.unwrap();
    let (first, _) = lazy.events(2).await;
    assert_eq!(seqs(&first)[0], 1);
    // One that acks gets everything, then the live marker.
    let mut v = hub.ws(&format!("/ws/watch/{id}?from=start")).await.unwrap();
    v.acking = true;
    let (got, _) = v.events(62).await;
    assert_eq!(seqs(&got), (1..=62).collect::<Vec<_>>());
    v.recv_type("live").await;
    // By now the hub has had all the time the acking viewer needed: whatever the lazy one was
    // sent is on its socket. It is about one window, not the 12 MiB of history.
    let mut held = seqs(&first);
    for msg in lazy.drain_for(std::time::Duration::from_millis(500)).await {
        if msg["type"] == "events" {
            held.extend(seqs(msg["events"].as_array().unwrap()));
        }
        assert_ne!(msg["type"], "live", "history waits for acks");
    }
    // At most one window (4 MiB), then one more page (512 KiB, plus the rest of its last
    // chunk) of 200 KiB events, and the page's Meta and FullSnapshot.
    let most = (4 * 1024 * 1024 + 512 * 1024 + PACED_FLUSH_BYTES) / (200 * 1024) + 2;
    assert!(
        held.len() <= most,
        "{} of 62 events sent without an ack",
        held.len()
    );
    lazy.acking = true;
    lazy.send(&json!({"type": "ack", "seq": held.last().unwrap()}))
        .await;
    let (rest, _) = lazy.events(62 - held.len()).await;
    let all: Vec<u64> = held.into_iter().chain(seqs(&rest)).collect();
    assert_eq!(all, (1..=62).collect::<Vec<_>>());
}
both!(history_is_paced_by_acks);

async fn recorder_clock_reaches_viewers(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("clock");
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert!(welcome["hub_time"].as_i64().unwrap() > 0);
    rec.send(&frame(1, &page(1_000, 1))).await;
    let mut early = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    early.recv_type("live").await;
    rec.send(&json!({"type": "clock", "offset": -300000.5, "rtt": 2.0}))
        .await;
    let clock = early.recv_type("clock").await;
    assert_eq!(
        (
            clock["recorder_offset"].as_f64(),
            clock["recorder_rtt"].as_f64()
        ),
        (Some(-300000.5), Some(2.0))
    );
    // A viewer joining later gets the latest estimate right away.
    let mut late = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    assert_eq!(
        late.recv_type("clock").await["recorder_offset"].as_f64(),
        Some(-300000.5)
    );
    rec.send(&json!({"type": "clock", "offset": "soon"})).await;
    let (code, reason, _) = rec.closed().await;
    assert_eq!((code, reason.as_str()), (4400, "invalid_frame"));
}
both!(recorder_clock_reaches_viewers);

async fn the_hub_memory_budget_refuses_new_events_with_overloaded(backend: Backend) {
    // Nothing becomes durable during the test, so everything accepted stays in memory.
    let hub = Hub::start_with(backend, |c| {
        c.memory_budget_bytes = 1024 * 1024;
        c.flush_interval_ms = 60_000;
    })
    .await;
    let (a, b) = (unique_id("budget-a"), unique_id("budget-b"));
    let (mut rec_a, _) = hub.recorder(&a).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{a}")).await.unwrap();
    viewer.recv_type("live").await;
    rec_a.send(&frame(1, &[heavy(1_000, 800 * 1024)])).await;
    assert_eq!(seqs(&viewer.events(1).await.0), vec![1]);
    // Another session's 300 KiB would take the hub past its budget: refused, with a reason.
    let (mut rec_b, _) = hub.recorder(&b).await;
    rec_b.send(&frame(1, &[heavy(1_000, 300 * 1024)])).await;
    let (code, reason, _) = rec_b.closed().await;
    assert_eq!((code, reason.as_str()), (4503, "overloaded"));
    // Small events still fit, and the first session goes on.
    rec_a.send(&frame(2, &[inc(2_000, 1)])).await;
    assert_eq!(seqs(&viewer.events(1).await.0), vec![2]);
}
both!(the_hub_memory_budget_refuses_new_events_with_overloaded);
