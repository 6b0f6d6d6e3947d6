//! Sequence integrity: a seq is acknowledged only once every seq up to it is stored. A gap is
//! filled by asking the recorder to resend, never skipped; a seq far beyond the window is
//! refused and cannot stall the session. Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

/// Every ack until one of type `until`, asserting none passes `max_ack`.
async fn acks_until(rec: &mut Ws, until: &str, max_ack: u64) -> Value {
    loop {
        let msg = rec.recv().await;
        if msg["type"] == "ack" {
            let ack = msg["durable_seq"].as_u64().unwrap();
            assert!(
                ack <= max_ack,
                "acknowledged {ack} with only 1..={max_ack} stored"
            );
        }
        if msg["type"] == until {
            return msg;
        }
    }
}

async fn a_gap_is_never_acknowledged_and_a_resend_fills_it(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("gap");
    let events = page(1_000, 10); // 12 events
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &events[..2])).await;
    rec.send(&frame(10, &events[9..11])).await;
    // The gap 3..=9 stays open: the hub asks for everything from 3, acknowledging at most 2.
    let resend = acks_until(&mut rec, "resend", 2).await;
    assert_eq!(resend["from_seq"], 3);
    // The recorder resends from 3, as asked; only then is anything past 2 acknowledged.
    rec.send(&frame(3, &events[2..9])).await;
    rec.send(&frame(10, &events[9..])).await;
    rec.ack_of(12, WAIT).await;
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=12).collect::<Vec<_>>());
    for (env, sent) in stored.iter().zip(&events) {
        assert_eq!(&env["event"], sent, "each event stored once, as sent");
    }
}
both!(a_gap_is_never_acknowledged_and_a_resend_fills_it);

async fn a_seq_far_beyond_the_window_is_refused_and_recording_goes_on(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("huge");
    let events = page(1_000, 8); // 10 events
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &events[..5])).await;
    rec.recv_type("ack").await;
    // A frame numbered 2^53 − 2: refused with a reason, nothing stored, not acknowledged.
    rec.send(&frame((1 << 53) - 2, &events[5..6])).await;
    let (code, reason, _) = rec.closed().await;
    assert_eq!((code, reason.as_str()), (4400, "invalid_frame"));
    // The real recorder comes back and continues where the hub is.
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 5);
    rec.send(&frame(6, &events[5..])).await;
    rec.ack_of(10, WAIT).await;
    assert_eq!(seqs(&hub.stored(&id).await), (1..=10).collect::<Vec<_>>());
}
both!(a_seq_far_beyond_the_window_is_refused_and_recording_goes_on);

async fn a_recorder_resumes_over_its_dead_connection_and_a_squatter_is_refused(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("resume");
    let events = page(1_000, 8); // 10 events
    let (mut first, welcome) = hub.recorder(&id).await;
    let token = welcome["resume_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    first.send(&frame(1, &events[..5])).await;
    first.recv_type("ack").await;
    // The first connection is left hanging, as one that died silently. Without the token, no
    // one takes or shares the slot.
    let mut squatter = hub.ws(&format!("/ws/record/{id}")).await.unwrap();
    let (code, reason, _) = squatter.closed().await;
    assert_eq!((code, reason.as_str()), (4409, "recorder_conflict"));
    let wrong = "0".repeat(32);
    let mut guess = hub
        .ws(&format!("/ws/record/{id}?resume={wrong}"))
        .await
        .unwrap();
    assert_eq!(guess.closed().await.0, 4409);
    // With it, the recorder takes over at once; the old connection is told why it was closed.
    let mut second = hub
        .ws(&format!("/ws/record/{id}?resume={token}"))
        .await
        .unwrap();
    let welcome = second.recv_type("welcome").await;
    assert_eq!(welcome["received_seq"], 5);
    assert_eq!(welcome["resume_token"], token.as_str());
    let (code, reason, _) = first.closed().await;
    assert_eq!((code, reason.as_str()), (4410, "recorder_replaced"));
    second.send(&frame(6, &events[5..])).await;
    second.ack_of(10, WAIT).await;
    assert_eq!(seqs(&hub.stored(&id).await), (1..=10).collect::<Vec<_>>());
}
both!(a_recorder_resumes_over_its_dead_connection_and_a_squatter_is_refused);
