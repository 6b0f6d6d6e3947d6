//! The writer under database faults: one session's refused data stalls nobody else, and a
//! backlog drains in bounded transactions once the database takes writes again, with every
//! event stored once, in order. Faults are injected with a trigger on the test's own database.
//! Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Refuses chunk inserts for sessions whose id matches `pattern` (SQL LIKE).
fn refuse(hub: &Hub, backend: Backend, pattern: &str) {
    let sql = match backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON event_chunks WHEN NEW.session_id LIKE '{pattern}' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
             IF NEW.session_id LIKE '{pattern}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse BEFORE INSERT ON event_chunks FOR EACH ROW EXECUTE FUNCTION refuse();"
        ),
    };
    hub.db.batch(&sql);
}

/// Lifts `refuse`.
fn lift(hub: &Hub, backend: Backend) {
    hub.db.batch(match backend {
        Backend::Sqlite => "DROP TRIGGER refuse;",
        Backend::Postgres => "DROP TRIGGER refuse ON event_chunks; DROP FUNCTION refuse();",
    });
}

/// An incremental event of about `bytes` bytes.
fn sized(ts: i64, bytes: usize) -> Value {
    json!({"type": 3, "timestamp": ts, "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": [{"parentId": 1, "nextId": null, "node": {"type": 3, "textContent": "y".repeat(bytes), "id": ts}}]}})
}

async fn refused_data_stalls_only_its_own_session(backend: Backend) {
    let hub = Hub::start(backend).await;
    let (good, bad) = (unique_id("good"), unique_id("bad"));
    refuse(&hub, backend, "default:bad-%");
    let (mut rec_good, _) = hub.recorder(&good).await;
    let (mut rec_bad, _) = hub.recorder(&bad).await;
    let events = page(1_000, 38); // 40 events
    for (i, e) in events.iter().enumerate() {
        let f = frame(1 + i as u64, std::slice::from_ref(e));
        rec_bad.send(&f).await;
        rec_good.send(&f).await;
    }
    // The good session is stored and acknowledged while the bad one's writes keep failing.
    rec_good.ack_of(40, Duration::from_secs(10)).await;
    assert_eq!(seqs(&hub.stored(&good).await), (1..=40).collect::<Vec<_>>());
    let (_, info) = hub.get(&format!("/api/sessions/{bad}")).await;
    assert_eq!(
        info["event_count"], 40,
        "the bad session's events are held, not dropped"
    );
    assert_eq!(hub.db.chunk_count(&bad), 0);
    // Once the database takes them, they are stored once, in order, and acknowledged.
    lift(&hub, backend);
    rec_bad.ack_of(40, Duration::from_secs(20)).await;
    let stored = hub.stored(&bad).await;
    assert_eq!(seqs(&stored), (1..=40).collect::<Vec<_>>());
    for (env, sent) in stored.iter().zip(&events) {
        assert_eq!(&env["event"], sent);
    }
}
both!(refused_data_stalls_only_its_own_session);

async fn a_backlog_drains_in_bounded_transactions(backend: Backend) {
    const CAP: usize = 256 * 1024;
    let hub = Hub::start_with(backend, |c| c.flush_max_bytes = CAP).await;
    refuse(&hub, backend, "%");
    let ids: Vec<String> = (0..4).map(|_| unique_id("backlog")).collect();
    let mut recs = Vec::new();
    for id in &ids {
        recs.push(hub.recorder(id).await.0);
    }
    // 2 MiB per session while nothing can be written: 100 events of 20 KiB.
    let mut sent: Vec<Value> = page(1_000, 0);
    sent.extend((0..100).map(|i| sized(2_000 + i, 20 * 1024)));
    for rec in &mut recs {
        for (i, e) in sent.iter().enumerate() {
            rec.send(&frame(1 + i as u64, std::slice::from_ref(e)))
                .await;
        }
    }
    lift(&hub, backend);
    for rec in &mut recs {
        rec.ack_of(sent.len() as u64, Duration::from_secs(30)).await;
    }
    for id in &ids {
        let stored = hub.stored(id).await;
        assert_eq!(seqs(&stored), (1..=sent.len() as u64).collect::<Vec<_>>());
        for (env, e) in stored.iter().zip(&sent) {
            assert_eq!(&env["event"], e);
        }
        // No chunk is much larger than one flush's bound (merges stay under 128 KiB + a write).
        let largest = hub.db.largest_chunk(id) as usize;
        assert!(
            largest <= CAP + 64 * 1024,
            "a {largest}-byte chunk with a {CAP}-byte bound"
        );
    }
}
both!(a_backlog_drains_in_bounded_transactions);
