//! Ingest limits (`rate_limited`: close 4429, HTTP 429): events and bytes per second per
//! connection and per project, recorders per key, sockets per address. A refused frame is
//! neither stored nor acknowledged and goes in whole once the recorder sends it again; a project
//! over its limit leaves the others alone. Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{cell::Cell, time::Duration};

use common::*;
use serde_json::{json, Value};

/// `n` small incremental events, the first with timestamp `ts`.
fn incs(ts: i64, n: u64) -> Vec<Value> {
    (0..n).map(|i| inc(ts + i as i64, i)).collect()
}

fn seq_range(from: u64, to: u64) -> Vec<u64> {
    (from..=to).collect()
}

/// Creates a project through the admin API; returns its key.
async fn add_project(hub: &Hub, name: &str) -> String {
    let (status, body, _) = hub
        .call(
            "POST",
            "/api/projects",
            &hub.admin,
            Some(json!({"name": name, "allowed_origins": []})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().unwrap().to_owned()
}

/// A POST of a frame with the default key: status, body and `Retry-After`.
async fn post_frame(hub: &Hub, id: &str, frame: &Value) -> (u16, Value, Option<u64>) {
    let mut res = awc::Client::new()
        .post(hub.http(&keyed(&format!("/api/sessions/{id}/events"))))
        .timeout(Duration::from_secs(30))
        .insert_header(("content-type", "text/plain"))
        .send_body(frame.to_string())
        .await
        .unwrap();
    let body = res.body().limit(1 << 20).await.unwrap();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (
        res.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        retry,
    )
}

/// Connects once the hub lets go of a closed socket's place (it does once that socket's
/// connection is over, a moment after its close).
async fn connect_eventually(hub: &Hub, path: &str, creds: &Creds) -> Ws {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match hub.ws_as(path, creds).await {
            Ok(ws) => return ws,
            Err((429, _)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{path} refused: {e:?}"),
        }
    }
}

/// Waits for the hub to close `ws` with `rate_limited`, after an error message saying so.
async fn assert_limited(ws: &mut Ws) {
    let (code, reason, before) = ws.closed().await;
    assert_eq!(
        (code, reason.as_str()),
        (4429, "rate_limited"),
        "{before:?}"
    );
    assert!(
        before.iter().any(|m| m["error"] == "rate_limited"),
        "{before:?}"
    );
}

async fn a_connection_over_its_event_rate_is_closed_and_its_resend_stored_once(b: Backend) {
    // 100 events/s in bursts of 1000.
    let hub = Hub::start_with(b, |c| c.connection_events_per_sec = 100.0).await;
    let id = unique_id("fast");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 98))).await;
    for k in 1..10 {
        rec.send(&frame(1 + 100 * k, &incs(2_000 + 100 * k as i64, 100)))
            .await;
    }
    rec.ack_of(1000, WAIT).await;
    // The burst is spent: 200 more events are refused whole.
    let over = frame(1001, &incs(5_000, 200));
    rec.send(&over).await;
    assert_limited(&mut rec).await;
    assert_eq!(seqs(&hub.stored(&id).await), seq_range(1, 1000));

    // Reconnecting does not refill the bucket: the same frame is refused again.
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(
        (
            welcome["received_seq"].as_u64(),
            welcome["durable_seq"].as_u64()
        ),
        (Some(1000), Some(1000))
    );
    rec.send(&over).await;
    assert_limited(&mut rec).await;
    assert_eq!(seqs(&hub.stored(&id).await), seq_range(1, 1000));

    // Once 200 events' worth has refilled (2 s at 100/s), the recorder's resend goes in whole.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 1000);
    rec.send(&over).await;
    rec.ack_of(1200, WAIT).await;
    assert_eq!(seqs(&hub.stored(&id).await), seq_range(1, 1200));

    let text = awc::Client::new()
        .get(hub.http("/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("streamdom_limited_total{limit=\"connection_events\"} "),
        "{text}"
    );
}
both!(a_connection_over_its_event_rate_is_closed_and_its_resend_stored_once);

async fn a_project_over_its_byte_rate_is_refused_across_its_connections(b: Backend) {
    // 1000 B/s, in a burst of two 64 KiB frames (128 KiB): far below either connection's own.
    let hub = Hub::start_with(b, |c| {
        c.max_frame_bytes = 64 << 10;
        c.project_bytes_per_sec = 1000.0;
    })
    .await;
    let ids = [unique_id("shop-a"), unique_id("shop-b")];
    let mut recs = Vec::new();
    for id in &ids {
        recs.push(hub.recorder(id).await.0);
    }
    // Four frames of ~30 KB in all: 121 KB of the 128 KiB burst.
    for rec in &mut recs {
        let mut first = page(1_000, 0);
        first.push(heavy(1_100, 30_000));
        rec.send(&frame(1, &first)).await;
        rec.send(&frame(4, &[heavy(1_200, 30_000)])).await;
        rec.ack_of(4, WAIT).await;
    }
    // 30 KB more is over the project's burst, whichever connection sends it, and by POST too.
    for rec in &mut recs {
        rec.send(&frame(5, &[heavy(1_300, 30_000)])).await;
        assert_limited(rec).await;
    }
    let (status, body, retry) = post_frame(&hub, &ids[0], &frame(5, &[heavy(1_300, 30_000)])).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(retry.unwrap() >= 1);
    for id in &ids {
        assert_eq!(seqs(&hub.stored(id).await), seq_range(1, 4));
    }
}
both!(a_project_over_its_byte_rate_is_refused_across_its_connections);

async fn a_post_over_a_limit_gets_429_with_retry_after_and_stores_nothing(b: Backend) {
    // Each connection 10 events/s (bursts of 100), the project 20/s (bursts of 200).
    let hub = Hub::start_with(b, |c| {
        c.connection_events_per_sec = 10.0;
        c.project_events_per_sec = 20.0;
    })
    .await;
    let (a, b2, c) = (
        unique_id("post-a"),
        unique_id("post-b"),
        unique_id("post-c"),
    );
    let (status, body, _) = post_frame(&hub, &a, &frame(1, &page(1_000, 98))).await;
    assert_eq!((status, body["durable_seq"].as_u64()), (200, Some(100)));
    // Over the connection's limit: 50 events take 5 s to refill (less the time since).
    let (status, body, retry) = post_frame(&hub, &a, &frame(101, &incs(3_000, 50))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    let retry = retry.expect("Retry-After");
    assert!((1..=5).contains(&retry), "Retry-After: {retry}");
    assert_eq!(seqs(&hub.stored(&a).await), seq_range(1, 100));
    // Over the project's: another session spends the rest, a third is refused and not created.
    let (status, _, _) = post_frame(&hub, &b2, &frame(1, &page(1_000, 98))).await;
    assert_eq!(status, 200);
    let (status, body, retry) = post_frame(&hub, &c, &frame(1, &page(1_000, 98))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(retry.is_some());
    assert_eq!(hub.get(&format!("/api/sessions/{c}")).await.0, 404);
}
both!(a_post_over_a_limit_gets_429_with_retry_after_and_stores_nothing);

async fn a_key_holds_at_most_its_recorders_and_a_closed_one_frees_its_slot(b: Backend) {
    let hub = Hub::start_with(b, |c| c.recorders_per_key = 2).await;
    let blog = add_project(&hub, "blog").await;
    let ids = [unique_id("cap-a"), unique_id("cap-b"), unique_id("cap-c")];
    let (first, _) = hub.recorder(&ids[0]).await;
    let (_second, _) = hub.recorder(&ids[1]).await;
    let (status, body) = hub
        .ws(&format!("/ws/record/{}", ids[2]))
        .await
        .err()
        .expect("the third recorder of the key is refused");
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    assert_eq!(hub.get(&format!("/api/sessions/{}", ids[2])).await.0, 404);
    // Viewers and other keys are not counted.
    let mut viewer = hub.ws(&format!("/ws/watch/{}", ids[0])).await.unwrap();
    viewer.recv_type("live").await;
    let mut other = hub
        .ws_as(
            &format!("/ws/record/{}?key={blog}", ids[2]),
            &Creds::default(),
        )
        .await
        .unwrap();
    other.recv_type("welcome").await;

    first.close().await;
    let path = keyed(&format!("/ws/record/{}", ids[2]));
    let mut third = connect_eventually(&hub, &path, &Creds::default()).await;
    third.recv_type("welcome").await;
}
both!(a_key_holds_at_most_its_recorders_and_a_closed_one_frees_its_slot);

async fn one_address_holds_at_most_its_sockets(b: Backend) {
    let hub = Hub::start_with(b, |c| c.connections_per_address = 3).await;
    let id = unique_id("addr");
    let (_rec, _) = hub.recorder(&id).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    viewer.recv_type("live").await;
    let _list = hub.ws("/ws/sessions").await.unwrap();
    for path in [
        format!("/ws/watch/{id}"),
        "/ws/sessions".to_owned(),
        format!("/ws/record/{}", unique_id("addr-more")),
    ] {
        let (status, body) = hub
            .ws(&path)
            .await
            .err()
            .expect("a fourth socket is refused");
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("rate_limited")),
            "{path}"
        );
    }
    // Plain requests are not sockets.
    assert_eq!(hub.get(&format!("/api/sessions/{id}")).await.0, 200);

    viewer.close().await;
    let mut again = connect_eventually(&hub, &format!("/ws/watch/{id}"), &hub.admin).await;
    again.recv_type("live").await;
}
both!(one_address_holds_at_most_its_sockets);

async fn another_project_keeps_recording_and_streaming_while_one_is_limited(b: Backend) {
    // Every project: 100 events/s in bursts of 1000.
    let hub = Hub::start_with(b, |c| c.project_events_per_sec = 100.0).await;
    let calm_key = add_project(&hub, "calm").await;
    let (loud, calm) = (unique_id("loud"), unique_id("calm"));
    let done = Cell::new(false);
    let refusals = Cell::new(0u32);

    // The default project's recorder floods: 500 events a frame, reconnecting at once whenever
    // it is refused, until the other project is done.
    let hammer = async {
        while !done.get() {
            let (mut rec, welcome) = hub.recorder(&loud).await;
            let mut next = welcome["received_seq"].as_u64().unwrap() + 1;
            loop {
                let events = if next == 1 {
                    page(1_000, 498)
                } else {
                    incs(next as i64, 500)
                };
                rec.send(&frame(next, &events)).await;
                next += 500;
                match tokio::time::timeout(Duration::from_millis(50), rec.closed()).await {
                    Ok((4429, _, _)) => {
                        refusals.set(refusals.get() + 1);
                        break;
                    }
                    Ok(other) => panic!("closed with {other:?}"),
                    Err(_) if done.get() => return,
                    Err(_) => {}
                }
            }
        }
    };

    // Meanwhile the other project records, and its viewer sees every event.
    let quiet = async {
        // Let the flood spend its burst first.
        eventually("the flood is refused", || async { refusals.get() > 0 }).await;
        let mut rec = hub
            .ws_as(
                &format!("/ws/record/{calm}?key={calm_key}"),
                &Creds::default(),
            )
            .await
            .unwrap();
        rec.recv_type("welcome").await;
        rec.send(&frame(1, &page(10_000, 8))).await;
        rec.ack_of(10, WAIT).await;
        let mut viewer = hub
            .ws(&format!("/ws/watch/{calm}?project=calm"))
            .await
            .unwrap();
        viewer.acking = true;
        viewer.recv_type("live").await;
        for k in 1..=20u64 {
            rec.send(&frame(1 + 10 * k, &incs(20_000 + 10 * k as i64, 10)))
                .await;
        }
        rec.ack_of(210, WAIT).await;
        let mut got = Vec::new();
        while got.last() != Some(&210) {
            got.extend(seqs(&viewer.events(1).await.0));
        }
        assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "{got:?}");
        done.set(true);
    };
    tokio::join!(hammer, quiet);
    assert!(refusals.get() >= 1);
    let stored = hub
        .get(&format!(
            "/api/sessions/{calm}/events?project=calm&format=envelope"
        ))
        .await
        .1;
    assert_eq!(seqs(stored.as_array().unwrap()), seq_range(1, 210));
}
both!(another_project_keeps_recording_and_streaming_while_one_is_limited);
