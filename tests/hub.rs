//! The hub over real sockets: live fan-out, late joins, gapless history, dedup, restarts,
//! the session list and the end of a session. Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

async fn several_viewers_receive_every_event_in_order(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("fan");
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 0);
    let mut viewers = Vec::new();
    for _ in 0..3 {
        let mut v = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
        assert_eq!(v.recv_type("session").await["session"]["id"], id.as_str());
        v.recv_type("live").await;
        viewers.push(v);
    }
    let events = page(1_000, 48);
    for (i, chunk) in events.chunks(5).enumerate() {
        rec.send(&frame(1 + 5 * i as u64, chunk)).await;
    }
    for v in &mut viewers {
        let (got, _) = v.events(50).await;
        assert_eq!(seqs(&got), (1..=50).collect::<Vec<_>>());
        for (env, sent) in got.iter().zip(&events) {
            assert_eq!(&env["event"], sent);
        }
    }
    // Acks only grow, and the last one covers all 50 events.
    let mut durable = 0;
    while durable < 50 {
        let ack = rec.recv_type("ack").await["durable_seq"].as_u64().unwrap();
        assert!(ack > durable && ack <= 50, "ack {ack} after {durable}");
        durable = ack;
    }
    assert_eq!(seqs(&hub.stored(&id).await), (1..=50).collect::<Vec<_>>());
}
both!(several_viewers_receive_every_event_in_order);

async fn late_viewer_starts_at_latest_full_snapshot(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("late");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 10))).await; // seqs 1..=12
    rec.send(&frame(13, &page(5_000, 5))).await; // second page: Meta at seq 13
    eventually("all durable", || async {
        hub.stored(&id).await.len() == 19
    })
    .await;
    let mut v = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    let hello = v.recv_type("session").await;
    assert_eq!(hello["start_seq"], 13);
    let (got, _) = v.events(7).await;
    assert_eq!(seqs(&got), (13..=19).collect::<Vec<_>>());
    assert_eq!(got[0]["event"]["type"], 4);
    assert_eq!(got[1]["event"]["type"], 2);
    v.recv_type("live").await;
    rec.send(&frame(20, &[inc(6_000, 1)])).await;
    let (live, _) = v.events(1).await;
    assert_eq!(seqs(&live), vec![20]);
}
both!(late_viewer_starts_at_latest_full_snapshot);

async fn from_start_is_gapless_while_events_keep_arriving(backend: Backend) {
    // A tiny buffer forces most history through the database while events keep coming.
    let hub = Hub::start_with(backend, |c| c.buffer_max_bytes = 2_000).await;
    let id = unique_id("gapless");
    let (mut rec, _) = hub.recorder(&id).await;
    let total = 600u64;
    let events: Vec<_> = page(1_000, total - 2);
    rec.send(&frame(1, &events[..300])).await;
    eventually("first half durable", || async {
        hub.stored(&id).await.len() == 300
    })
    .await;
    let mut v = hub.ws(&format!("/ws/watch/{id}?from=start")).await.unwrap();
    // Keep sending while the viewer reads history.
    for (i, e) in events[300..].iter().enumerate() {
        rec.send(&frame(301 + i as u64, std::slice::from_ref(e)))
            .await;
    }
    let (got, other) = v.events(total as usize).await;
    assert_eq!(seqs(&got), (1..=total).collect::<Vec<_>>());
    assert_eq!(other.first().unwrap()["type"], "session");
    assert!(other.iter().any(|m| m["type"] == "live"));
}
both!(from_start_is_gapless_while_events_keep_arriving);

async fn resent_sequence_numbers_are_not_stored_twice(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("dedup");
    let events = page(1_000, 8); // 10 events
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &events[..6])).await;
    let ack = rec.recv_type("ack").await;
    assert_eq!(ack["durable_seq"], 6);
    rec.close().await;
    // Reconnect: the welcome says what the hub has; the recorder resends overlapping events.
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 6);
    assert_eq!(welcome["durable_seq"], 6);
    rec.send(&frame(4, &events[3..])).await;
    rec.send(&frame(9, &events[8..])).await;
    eventually("ack of 10", || async { hub.stored(&id).await.len() >= 10 }).await;
    // The beacon path dedups the same way.
    let (status, body) = hub
        .post(
            &format!("/api/sessions/{id}/events"),
            frame(1, &events).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 0);
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=10).collect::<Vec<_>>());
    let (_, info) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(info["event_count"], 10);
}
both!(resent_sequence_numbers_are_not_stored_twice);

async fn events_survive_a_server_restart(backend: Backend) {
    let mut hub = Hub::start(backend).await;
    let id = unique_id("restart");
    let events = page(1_000, 98);
    let (mut rec, _) = hub.recorder(&id).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    viewer.recv_type("live").await;
    rec.send(&frame(1, &events[..50])).await;
    // Accepted (a viewer has them) but not waited on to be durable: a clean stop flushes them.
    viewer.events(50).await;
    hub.restart().await;
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 50);
    rec.send(&frame(51, &events[50..])).await;
    eventually("100 stored", || async {
        hub.stored(&id).await.len() == 100
    })
    .await;
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=100).collect::<Vec<_>>());
    for (env, sent) in stored.iter().zip(&events) {
        assert_eq!(&env["event"], sent);
    }
}
both!(events_survive_a_server_restart);

async fn session_list_shows_active_and_recent_and_hides_older(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.idle_timeout_secs = 1).await;
    // An old session, ended two days ago, written straight through the store.
    let old = unique_id("old");
    {
        let pool = streamdom::db::connect(&hub.db.url, 2).unwrap();
        let mut conn = pool.get().unwrap();
        let two_days = 48 * 3600 * 1000;
        let now = streamdom::event::now_ms();
        let key = format!("default:{old}");
        let new = streamdom::db::sessions::NewSession {
            started_at: now - two_days,
            user_agent: None,
        };
        streamdom::db::sessions::ensure_open(&mut conn, &key, &new).unwrap();
        streamdom::db::sessions::end_session(&mut conn, &key, now - two_days + 1000).unwrap();
    }
    let ended = unique_id("ended");
    let (mut rec, _) = hub.recorder(&ended).await;
    rec.send(&frame(1, &page(1_000, 1))).await;
    rec.recv_type("ack").await;
    rec.close().await;
    eventually("session ends after the idle timeout", || async {
        hub.get(&format!("/api/sessions/{ended}")).await.1["active"] == false
    })
    .await;
    let active = unique_id("active");
    let (mut rec, _) = hub.recorder(&active).await;
    rec.send(&frame(1, &page(2_000, 3))).await;
    rec.recv_type("ack").await;

    let (status, list) = hub.get("/api/sessions").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![active.as_str(), ended.as_str()],
        "newest first, old one hidden"
    );
    let first = &list["sessions"][0];
    assert_eq!(first["active"], true);
    assert_eq!(first["url"], "https://shop.example/");
    assert_eq!(first["event_count"], 5);
    assert!(first["ended_at"].is_null());
    assert!(list["sessions"][1]["ended_at"].is_string());

    let (_, all) = hub.get("/api/sessions?all=true&limit=2").await;
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2);
    let cursor = all["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = hub
        .get(&format!("/api/sessions?all=true&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["sessions"][0]["id"], old.as_str());
    assert!(rest["next_cursor"].is_null());
}
both!(session_list_shows_active_and_recent_and_hides_older);

async fn ended_session_replays_history_then_end_marker(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.idle_timeout_secs = 1).await;
    let id = unique_id("ended");
    let (mut rec, _) = hub.recorder(&id).await;
    let mut events = page(1_000, 10);
    events.extend(page(9_000, 10));
    rec.send(&frame(1, &events)).await;
    let mut live = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    rec.recv_type("ack").await;
    rec.close().await;
    // The live viewer is told when the session ends.
    let (code, _, before) = live.closed().await;
    assert_eq!(code, 1000);
    assert_eq!(before.last().unwrap()["type"], "end");

    let mut v = hub.ws(&format!("/ws/watch/{id}?from=start")).await.unwrap();
    let hello = v.recv_type("session").await;
    assert_eq!(hello["session"]["active"], false);
    let (got, _) = v.events(24).await;
    assert_eq!(seqs(&got), (1..=24).collect::<Vec<_>>());
    let (code, _, rest) = v.closed().await;
    assert_eq!(code, 1000);
    assert_eq!(rest.last().unwrap()["type"], "end");

    // An offset lands on the full snapshot at or before it: 8_500 ms after the first event.
    let mut v = hub.ws(&format!("/ws/watch/{id}?from=8500")).await.unwrap();
    assert_eq!(v.recv_type("session").await["start_seq"], 13);
    let (got, _) = v.events(12).await;
    assert_eq!(seqs(&got), (13..=24).collect::<Vec<_>>());

    // The events API pages with after_seq and limit, as plain rrweb events by default.
    let (_, page1) = hub
        .get(&format!("/api/sessions/{id}/events?after_seq=5&limit=3"))
        .await;
    assert_eq!(page1, json!([events[5], events[6], events[7]]));
    let (_, past_end) = hub
        .get(&format!("/api/sessions/{id}/events?after_seq=24"))
        .await;
    assert_eq!(past_end, json!([]));
    let (_, whole) = hub.get(&format!("/api/sessions/{id}/events")).await;
    assert_eq!(whole, json!(events));
}
both!(ended_session_replays_history_then_end_marker);

async fn beacons_that_overtake_each_other_lose_nothing(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("overtake");
    let events = page(1_000, 28); // 30 events
    let path = format!("/api/sessions/{id}/events");
    let (status, _) = hub.post(&path, frame(1, &events[..10]).to_string()).await;
    assert_eq!(status, 200);
    // At page unload the later beacon lands first: it waits for the gap to fill.
    let late = frame(21, &events[20..]).to_string();
    let early = frame(11, &events[10..20]).to_string();
    let (late_reply, early_reply) = tokio::join!(hub.post(&path, late), async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        hub.post(&path, early).await
    });
    assert_eq!(late_reply.0, 200, "{}", late_reply.1);
    assert_eq!(early_reply.0, 200, "{}", early_reply.1);
    assert_eq!(late_reply.1["durable_seq"], 30);
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=30).collect::<Vec<_>>());
    // A gap that stays open is never skipped: the frame after it is not acknowledged (the POST
    // answers without a durable seq once its wait is over) and nothing past the gap is stored.
    let (status, body) = hub
        .post(&path, frame(40, &[inc(9_000, 1)]).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["durable_seq"].is_null(), "{body}");
    assert_eq!(body["received_seq"], 30);
    assert_eq!(seqs(&hub.stored(&id).await), (1..=30).collect::<Vec<_>>());
}
both!(beacons_that_overtake_each_other_lose_nothing);

async fn small_chunks_are_merged_while_history_is_read(backend: Backend) {
    // One event per flush, as a real recorder at a few events per second gets; a tiny buffer
    // sends the viewer's history through the database while the writer merges chunks.
    // Each frame waits for its ack, so acks go out per flush here (not coalesced).
    let hub = Hub::start_with(backend, |c| {
        c.flush_interval_ms = 1;
        c.buffer_max_bytes = 2_000;
        c.ack_interval_ms = 0;
    })
    .await;
    let id = unique_id("merge");
    let total = 700u64;
    let events = page(1_000, total - 2);
    let (mut rec, _) = hub.recorder(&id).await;
    let mut viewer = None;
    for (i, e) in events.iter().enumerate() {
        let seq = i as u64 + 1;
        rec.send(&frame(seq, std::slice::from_ref(e))).await;
        loop {
            let ack = rec.recv_type("ack").await;
            if ack["durable_seq"].as_u64() == Some(seq) {
                break;
            }
        }
        if seq == 400 {
            viewer = Some(hub.ws(&format!("/ws/watch/{id}?from=start")).await.unwrap());
        }
    }
    let (got, _) = viewer.unwrap().events(total as usize).await;
    assert_eq!(seqs(&got), (1..=total).collect::<Vec<_>>());
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=total).collect::<Vec<_>>());
    // 700 single-event flushes; without merging there would be 700 chunks. Merges of 256
    // events leave 188 in small chunks, merged on their own once the session is quiet.
    let chunks = hub.db.chunk_count(&id);
    assert!(chunks <= 200, "{chunks} chunks for {total} events");
    eventually("the quiet session's last run merged", || async {
        hub.db.chunk_count(&id) == 3
    })
    .await;
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=total).collect::<Vec<_>>());
    let (_, info) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(info["event_count"], total);
    let (raw, stored) = (
        info["raw_bytes"].as_i64().unwrap(),
        info["stored_bytes"].as_i64().unwrap(),
    );
    assert!(0 < stored && stored < raw, "stored {stored} of raw {raw}");
}
both!(small_chunks_are_merged_while_history_is_read);

/// An ended session's duration runs from its start to its last event: the idle wait for a
/// recorder that never came back is not part of it (a 0.4 s recording is not listed as 1.4 s).
async fn duration_ends_at_the_last_event_not_the_idle_timeout(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.idle_timeout_secs = 2).await;
    let id = unique_id("duration");
    let started = std::time::Instant::now();
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 1))).await;
    rec.ack_of(3, WAIT).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    rec.send(&frame(4, &[inc(1_400, 4)])).await;
    rec.ack_of(4, WAIT).await;
    let span = started.elapsed().as_millis() as i64;
    rec.close().await;
    eventually("the session ends", || async {
        hub.get(&format!("/api/sessions/{id}")).await.1["active"] == false
    })
    .await;
    let (_, info) = hub.get(&format!("/api/sessions/{id}")).await;
    let duration = info["duration_ms"].as_i64().unwrap();
    assert!(
        (400..=span).contains(&duration),
        "duration {duration} ms, events spanned at most {span} ms"
    );
}
both!(duration_ends_at_the_last_event_not_the_idle_timeout);
