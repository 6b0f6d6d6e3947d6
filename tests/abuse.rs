//! Clients that hold the hub's resources without finishing what they started: a POST body that
//! trickles in, a WebSocket message left half-sent, one address opening sessions by the
//! thousand. Each is cut with a clear reason while everyone else goes on. Each test runs on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    io::{Read, Write},
    time::Duration,
};

use awc::ws::Message;
use common::*;

async fn a_trickling_body_gets_408_in_time(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.body_timeout_secs = 1).await;
    let addr = hub.base.clone();
    let reply = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /api/sessions/trickle/events?key={TEST_KEY} HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: text/plain\r\nContent-Length: 100\r\n\r\n{{\"type\":"
        );
        tcp.write_all(head.as_bytes()).unwrap();
        // ... and never the other 92 bytes.
        let mut reply = String::new();
        let _ = tcp.read_to_string(&mut reply);
        reply
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("\"request_timeout\""), "{reply}");
    // Nothing was started for it.
    assert_eq!(hub.get("/api/sessions/trickle").await.0, 404);
}
both!(a_trickling_body_gets_408_in_time);

async fn a_message_left_half_sent_closes_the_socket(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.body_timeout_secs = 1).await;
    let id = unique_id("half");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send_message(Message::Continuation(actix_http::ws::Item::FirstText(
        "{\"type\":\"events\",".into(),
    )))
    .await;
    let (code, reason, _) = rec.closed().await;
    assert_eq!((code, reason.as_str()), (4408, "request_timeout"));
}
both!(a_message_left_half_sent_closes_the_socket);

async fn one_address_cannot_open_sessions_without_bound(backend: Backend) {
    // A burst of 5 new sessions, then one every 2 s.
    let hub = Hub::start_with(backend, |c| c.new_sessions_per_sec = 0.5).await;
    let ids: Vec<String> = (0..5).map(|_| unique_id("burst")).collect();
    let mut recs = Vec::new();
    for id in &ids {
        recs.push(hub.recorder(id).await.0);
    }
    let (status, body) = hub
        .ws(&format!("/ws/record/{}", unique_id("one-too-many")))
        .await
        .err()
        .expect("refused before the upgrade");
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    // Sessions already open are not counted: their recorders come back.
    let first = recs.remove(0);
    first.close().await;
    let (mut again, welcome) = hub.recorder(&ids[0]).await;
    assert_eq!(welcome["session_id"], ids[0].as_str());
    again.send(&frame(1, &page(1_000, 0))).await;
    assert_eq!(again.recv_type("ack").await["durable_seq"], 2);
}
both!(one_address_cannot_open_sessions_without_bound);

async fn messages_and_bodies_being_received_count_in_the_memory_budget(backend: Backend) {
    // Room for the events themselves, not for a 200 KiB message on top.
    let hub = Hub::start_with(backend, |c| c.memory_budget_bytes = 256 * 1024).await;
    let big = "x".repeat(100 * 1024);

    // A fragmented message past the budget closes its socket with `overloaded`...
    let id = unique_id("fragments");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send_message(Message::Continuation(actix_http::ws::Item::FirstText(
        big.clone().into(),
    )))
    .await;
    for _ in 0..2 {
        rec.send_message(Message::Continuation(actix_http::ws::Item::Continue(
            big.clone().into(),
        )))
        .await;
    }
    let (code, reason, _) = rec.closed().await;
    assert_eq!((code, reason.as_str()), (4503, "overloaded"));

    // ... and so does a POST body, refused with 503 before it is parsed.
    let body = format!("{{\"type\":\"events\",\"pad\":\"{big}{big}{big}\"}}");
    let (status, reply) = hub
        .post(&format!("/api/sessions/{}/events", unique_id("body")), body)
        .await;
    assert_eq!(
        (status, reply["error"].as_str()),
        (503, Some("overloaded")),
        "{reply}"
    );

    // What they held is given back: a 100 KiB message in fragments and the events go through.
    let (mut rec, _) = hub.recorder(&id).await;
    let mut events = page(1_000, 0);
    events.push(heavy(1_100, 100 * 1024));
    let text = frame(1, &events).to_string();
    let (head, tail) = text.split_at(text.len() / 2);
    rec.send_message(Message::Continuation(actix_http::ws::Item::FirstText(
        head.to_owned().into(),
    )))
    .await;
    rec.send_message(Message::Continuation(actix_http::ws::Item::Last(
        tail.to_owned().into(),
    )))
    .await;
    assert_eq!(
        rec.recv_type("ack").await["durable_seq"],
        events.len() as u64
    );
}
both!(messages_and_bodies_being_received_count_in_the_memory_budget);
