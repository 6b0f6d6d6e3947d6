//! Stopping the hub is graceful: new connections are refused, every accepted event is stored
//! and acknowledged before the recorder's socket closes, and every socket gets 1012
//! `shutting_down` rather than a cut connection. Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

async fn stop_sends_final_acks_then_closes_every_socket_with_a_reason(backend: Backend) {
    // A slow flush: the events below are accepted but not yet durable when the stop begins.
    let mut hub = Hub::start_with(backend, |c| c.flush_interval_ms = 60_000).await;
    let id = unique_id("drain");
    let events = page(1_000, 8); // 10 events
    let (mut rec, _) = hub.recorder(&id).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    viewer.recv_type("live").await;
    let mut list = hub.ws("/ws/sessions").await.unwrap();
    rec.send(&frame(1, &events)).await;
    viewer.events(10).await;
    let server = hub.server.take().unwrap();
    let stopping = actix_web::rt::spawn(async move { server.stop().await });
    // The recorder hears that all 10 are stored, then the close with its reason.
    let (code, reason, before) = rec.closed().await;
    let acks: Vec<u64> = before
        .iter()
        .filter(|m| m["type"] == "ack")
        .map(|m| m["durable_seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        acks.last(),
        Some(&10),
        "final ack before the close: {before:?}"
    );
    assert_eq!((code, reason.as_str()), (1012, "shutting_down"));
    for ws in [&mut viewer, &mut list] {
        let (code, reason, _) = ws.closed().await;
        assert_eq!((code, reason.as_str()), (1012, "shutting_down"));
    }
    stopping.await.unwrap().expect("clean stop");
    // Everything acknowledged is there on the next start.
    let mut cfg = hub.cfg.clone();
    cfg.bind = "127.0.0.1:0".parse().unwrap();
    let server = streamdom::server::run(cfg).await.unwrap();
    hub.base = format!("127.0.0.1:{}", server.addr.port());
    hub.server = Some(server);
    assert_eq!(seqs(&hub.stored(&id).await), (1..=10).collect::<Vec<_>>());
}
both!(stop_sends_final_acks_then_closes_every_socket_with_a_reason);
