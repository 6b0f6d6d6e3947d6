//! The list's substring filters (`q`, `url`) far down a long list, where SQLite answers them from
//! its trigram index (src/db/search.rs, migration 2026-11-28-001616_search_index): the index
//! follows what the writer stores, what a deletion removes and what was stored before it
//! existed, and the answers stay those of `LIKE`. Each test runs on SQLite and PostgreSQL
//! (which has its own indexes, and must answer the same).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

/// Sessions newer than every session a test looks for, so that those are more than the 2,000
/// sessions down the list that SQLite walks before it asks the index.
const ABOVE: u32 = 2_100;

/// `ABOVE` ended sessions `filler-0000`… written straight into the database, started in 2027
/// (after anything a test records), each with a page of its own.
fn bury_under_newer_sessions(hub: &Hub, backend: Backend) {
    let (from, key) = number_series(backend, ABOVE);
    let t0 = 1_800_000_000_000_i64;
    hub.db.execute(&format!(
        "INSERT INTO sessions (id, project_id, started_at, last_event_at, ended_at, url, user_id) \
         SELECT 'default:filler-' || {key}, 'default', {t0} - i * 1000, {t0} - i * 1000 + 500, \
         {t0} - i * 1000 + 500, 'https://x.example/f-' || i, 'someone-' || i FROM {from}"
    ));
    hub.db.execute(&format!(
        "INSERT INTO session_pages (session_id, url) \
         SELECT 'default:filler-' || {key}, 'https://x.example/f-' || i FROM {from}"
    ));
}

/// An ended session `default:<id>` written straight into the database, started in 2025 (below
/// every filler), with these texts and pages.
fn seed_below(hub: &Hub, id: &str, user: &str, traits: &str, pages: &[&str]) {
    let t = 1_750_000_000_000_i64;
    hub.db.execute(&format!(
        "INSERT INTO sessions (id, project_id, started_at, last_event_at, ended_at, url, user_id, \
         traits) VALUES ('default:{id}', 'default', {t}, {t}, {t}, '{}', '{user}', '{traits}')",
        pages[0]
    ));
    for page in pages {
        hub.db.execute(&format!(
            "INSERT INTO session_pages (session_id, url) VALUES ('default:{id}', '{page}')"
        ));
    }
}

/// The ids the list answers for `query` (all projects, 100 at most), in order.
async fn found(hub: &Hub, query: &str) -> Vec<String> {
    let (status, body) = hub.get(&format!("/api/sessions?all=true&{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    session_ids(&body)
}

fn custom(ts: i64, tag: &str, payload: Value) -> Value {
    json!({"type":5,"timestamp":ts,"data":{"tag":tag,"payload":payload}})
}

async fn search_follows_what_the_writer_stores(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("deep");
    let (mut rec, _) = hub.recorder(&id).await;
    let events = [
        meta(1_000, "https://shop.example/"),
        full(1_001),
        custom(
            1_500,
            "$identify",
            json!({"user_id":"Zed-Customer-41","traits":{"plan":"Gold-Tier"}}),
        ),
        custom(
            2_000,
            "$pageview",
            json!({"url":"https://shop.example/Rare-Checkout-Page","title":"Pay"}),
        ),
    ];
    rec.send(&frame(1, &events)).await;
    rec.ack_of(4, WAIT).await;
    bury_under_newer_sessions(&hub, backend);
    let just = vec![id.clone()];

    assert_eq!(found(&hub, "q=zed-CUSTOMER-41").await, just);
    assert_eq!(found(&hub, "q=gold-tier").await, just);
    assert_eq!(found(&hub, "q=rare-checkout-PAGE").await, just);
    assert_eq!(found(&hub, "url=Rare-Checkout").await, just);
    // `url` looks in the pages only.
    assert!(found(&hub, "url=zed-customer").await.is_empty());

    // A new identity replaces the old one in the search as in the row.
    rec.send(&frame(
        5,
        &[custom(
            3_000,
            "$identify",
            json!({"user_id":"Ada-Lovelace-9","traits":{"plan":"Gold-Tier"}}),
        )],
    ))
    .await;
    rec.ack_of(5, WAIT).await;
    assert_eq!(found(&hub, "q=ada-lovelace-9").await, just);
    assert!(found(&hub, "q=zed-customer-41").await.is_empty());
}
both!(search_follows_what_the_writer_stores);

async fn texts_too_short_for_the_index_or_with_query_syntax_mean_what_they_say(backend: Backend) {
    let hub = Hub::start(backend).await;
    bury_under_newer_sessions(&hub, backend);
    seed_below(
        &hub,
        "odd",
        "Needle~#",
        r#"{"zq":"Or Not"}"#,
        &["https://odd.example/a*b"],
    );
    // Two characters: no trigram to look up, still found.
    assert_eq!(found(&hub, "q=~%23").await, ["odd"]);
    // Quotes, stars and words FTS5 would read as operators are characters like any other.
    assert_eq!(found(&hub, "q=%22zq%22").await, ["odd"]);
    assert_eq!(found(&hub, "q=zq%22%3A%22or").await, ["odd"]);
    assert_eq!(found(&hub, "url=a*b").await, ["odd"]);
    assert!(found(&hub, "q=zq%20OR%20filler").await.is_empty());
    assert!(found(&hub, "url=a*c").await.is_empty());
    assert!(found(&hub, "q=NEAR(zq)").await.is_empty());
}
both!(texts_too_short_for_the_index_or_with_query_syntax_mean_what_they_say);

async fn deleted_sessions_leave_the_search(backend: Backend) {
    let hub = Hub::start(backend).await;
    bury_under_newer_sessions(&hub, backend);
    seed_below(
        &hub,
        "gone",
        "needle-gone",
        "{}",
        &["https://x.example/needle-page"],
    );
    seed_below(
        &hub,
        "kept",
        "needle-kept",
        "{}",
        &["https://x.example/needle-page"],
    );
    assert_eq!(found(&hub, "url=needle-page").await, ["kept", "gone"]);

    let (status, body, _) = hub
        .call(
            "DELETE",
            "/api/sessions/gone?project=default",
            &hub.admin,
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(found(&hub, "q=needle").await, ["kept"]);
    assert_eq!(found(&hub, "url=needle-page").await, ["kept"]);
    if matches!(backend, Backend::Sqlite) {
        // Nothing of it is left in the index, and every entry has its link.
        let left = hub.db.scalar(
            "SELECT COUNT(*) AS n FROM session_search_keys WHERE session_id = 'default:gone'",
        );
        assert_eq!(left, 0);
        assert_eq!(
            hub.db.rows("session_search"),
            hub.db.rows("session_search_keys")
        );
        // A VACUUM (the one-time switch to incremental auto-vacuum runs one) keeps the links.
        hub.db.batch("VACUUM");
        assert_eq!(found(&hub, "q=needle-kept").await, ["kept"]);
        assert_eq!(found(&hub, "url=needle-page").await, ["kept"]);
    }
}
both!(deleted_sessions_leave_the_search);

async fn sessions_stored_before_the_index_are_found(backend: Backend) {
    let mut hub = Hub::start(backend).await;
    hub.stop().await;
    if matches!(backend, Backend::Sqlite) {
        // Back to the database as it was before the index's migration.
        hub.db.batch(include_str!(
            "../migrations/sqlite/2026-11-28-001616_search_index/down.sql"
        ));
        hub.db
            .batch("DELETE FROM __diesel_schema_migrations WHERE version = '20261128001616'");
    }
    bury_under_newer_sessions(&hub, backend);
    seed_below(
        &hub,
        "old",
        "Old-Timer-7",
        r#"{"plan":"Legacy-Plan"}"#,
        &["https://x.example/first", "https://x.example/Second-Page"],
    );
    hub.restart().await;
    assert_eq!(found(&hub, "q=old-timer-7").await, ["old"]);
    assert_eq!(found(&hub, "q=legacy-plan").await, ["old"]);
    assert_eq!(found(&hub, "url=second-page").await, ["old"]);
    assert_eq!(found(&hub, "q=x.example/first").await, ["old"]);
    // And the index goes on from there: a page added now is found too.
    hub.db.execute(
        "INSERT INTO session_pages (session_id, url) VALUES ('default:old', 'https://x.example/Third-Page')",
    );
    assert_eq!(found(&hub, "url=third-page").await, ["old"]);
}
both!(sessions_stored_before_the_index_are_found);
