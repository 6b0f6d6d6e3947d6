//! Bad input gets a clear error (JSON 4xx or a close code with a reason), loses nothing, and
//! leaves every other session working. Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

/// Asserts the socket sends `{"type":"error","error":code}` and closes with 4000 + status.
async fn expect_close(ws: &mut Ws, code: &str, status: u16) {
    let (close, reason, before) = ws.closed().await;
    assert_eq!(
        before.last().map(|m| m["error"].clone()),
        Some(json!(code)),
        "{before:?}"
    );
    assert_eq!((close, reason.as_str()), (4000 + status, code));
}

async fn every_bad_input_gets_its_error_and_others_keep_working(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.max_frame_bytes = 64 * 1024).await;
    // A healthy session with a viewer runs alongside everything below.
    let good = unique_id("good");
    let (mut rec, _) = hub.recorder(&good).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{good}")).await.unwrap();
    viewer.recv_type("live").await;
    let mut next = 1u64;
    let mut check_good = async |rec: &mut Ws, viewer: &mut Ws| {
        rec.send(&frame(next, &[inc(1_000 + next as i64, next)]))
            .await;
        let (got, _) = viewer.events(1).await;
        assert_eq!(seqs(&got), vec![next]);
        next += 1;
    };
    check_good(&mut rec, &mut viewer).await;

    let bad = unique_id("bad");
    let cases: Vec<(&str, String, &str, u16)> = vec![
        ("malformed JSON", "{not json".into(), "invalid_frame", 400),
        (
            "not an rrweb event",
            frame(1, &[json!({"hello": 1})]).to_string(),
            "invalid_frame",
            400,
        ),
        (
            "timestamp not numeric",
            frame(1, &[json!({"type": 3, "timestamp": "x"})]).to_string(),
            "invalid_frame",
            400,
        ),
        (
            "seq zero",
            frame(0, &[inc(1, 1)]).to_string(),
            "invalid_frame",
            400,
        ),
        (
            "seq past 2^53",
            frame(1 << 63, &[inc(1, 1)]).to_string(),
            "invalid_frame",
            400,
        ),
        (
            "unknown type",
            json!({"type": "hack"}).to_string(),
            "invalid_frame",
            400,
        ),
        (
            "oversized",
            frame(
                1,
                &[json!({"type": 3, "timestamp": 1, "data": "x".repeat(70_000)})],
            )
            .to_string(),
            "frame_too_large",
            413,
        ),
    ];
    for (what, text, code, status) in cases {
        let (mut ws, _) = hub.recorder(&bad).await;
        ws.send_text(text.clone()).await;
        expect_close(&mut ws, code, status).await;
        // The same body over HTTP gets the same error as JSON.
        let (s, body) = hub.post(&format!("/api/sessions/{bad}/events"), text).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
        check_good(&mut rec, &mut viewer).await;
    }
    let (mut ws, _) = hub.recorder(&bad).await;
    // A binary frame is a compressed one: an unknown encoding byte is refused.
    ws.send_binary(vec![9, 2, 3]).await;
    expect_close(&mut ws, "invalid_frame", 400).await;
    // Nothing from the bad frames was stored.
    let (status, _) = hub.get(&format!("/api/sessions/{bad}")).await;
    assert_eq!(status, 200);
    assert!(hub.stored(&bad).await.is_empty());

    // A second recorder on an active session is refused; the first keeps working.
    let mut second = hub.ws(&format!("/ws/record/{good}")).await.unwrap();
    expect_close(&mut second, "recorder_conflict", 409).await;
    check_good(&mut rec, &mut viewer).await;

    // Invalid ids, unknown sessions and unknown paths: JSON 4xx before any upgrade.
    let (status, body) = hub.ws("/ws/record/bad%20id").await.err().unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_session_id"))
    );
    let (status, body) = hub.ws("/ws/watch/nobody-here").await.err().unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("session_not_found"))
    );
    let (status, body) = hub
        .ws(&format!("/ws/watch/{good}?from=yesterday"))
        .await
        .err()
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_query"))
    );
    for path in [
        "/api/sessions/nobody-here",
        "/api/sessions/nobody-here/events",
        "/no/such/path",
    ] {
        let (status, body) = hub.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["message"].is_string(), "{path}: {body}");
    }
    let (status, body) = hub.get("/api/sessions?limit=many").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, body) = hub.get("/api/sessions?cursor=nonsense").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_query"))
    );

    // A viewer may only ping.
    let mut v2 = hub.ws(&format!("/ws/watch/{good}")).await.unwrap();
    v2.send(&json!({"type": "ping", "id": 7, "client_time": 1.5}))
        .await;
    let pong = v2.recv_type("pong").await;
    assert_eq!(
        (pong["id"].clone(), pong["client_time"].clone()),
        (json!(7), json!(1.5))
    );
    assert!(pong["hub_time"].as_i64().unwrap() > 0);
    v2.send(&frame(99, &[inc(1, 1)])).await;
    expect_close(&mut v2, "invalid_frame", 400).await;

    check_good(&mut rec, &mut viewer).await;
    let stored = seqs(&hub.stored(&good).await);
    assert_eq!(
        stored,
        (1..next).collect::<Vec<_>>(),
        "every accepted event is stored"
    );
}
both!(every_bad_input_gets_its_error_and_others_keep_working);

async fn an_event_nested_too_deep_is_refused_and_nothing_is_stored(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("deep");
    let (mut rec, _) = hub.recorder(&id).await;
    // 20,000 levels: enough to overflow a player's stack when replayed.
    let deep = format!(
        r#"{{"type":"events","seq":1,"events":[{{"type":3,"timestamp":1,"data":{}1{}}}]}}"#,
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    rec.send_text(deep.clone()).await;
    expect_close(&mut rec, "invalid_frame", 400).await;
    let (status, body) = hub.post(&format!("/api/sessions/{id}/events"), deep).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_frame"))
    );
    // A real page's depth is fine.
    let ok = format!(
        r#"{{"type":"events","seq":1,"events":[{{"type":3,"timestamp":1,"data":{}1{}}}]}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    let (status, body) = hub.post(&format!("/api/sessions/{id}/events"), ok).await;
    assert_eq!(
        (status, body["durable_seq"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(seqs(&hub.stored(&id).await), vec![1]);
}
both!(an_event_nested_too_deep_is_refused_and_nothing_is_stored);
