//! A PostgreSQL outage: live viewing goes on, the session list answers at once from what the hub
//! knows (marked partial), and everything is stored and acknowledged once the database is back.
//! The outage is made on the shared server without stopping it: the hub connects as a role of
//! its own, which is denied logins and has its connections terminated. PostgreSQL only: the
//! embedded SQLite has no outage of this kind (its faults are in tests/writer_faults.rs).
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use diesel::RunQueryDsl;

fn admin(sql: &str) {
    let mut conn = streamdom::db::establish_postgres(&postgres_url()).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

struct Outage {
    role: String,
}

impl Outage {
    fn begin(&self) {
        admin(&format!("ALTER ROLE {} NOLOGIN", self.role));
        admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{}'",
            self.role
        ));
    }

    fn end(&self) {
        admin(&format!("ALTER ROLE {} LOGIN", self.role));
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            admin(&format!("DROP SCHEMA {} CASCADE", self.role));
            admin(&format!("DROP ROLE {}", self.role));
        });
    }
}

#[actix_web::test]
async fn during_a_database_outage_live_goes_on_the_list_answers_and_nothing_is_lost() {
    let role = format!("outage_{}", uuid::Uuid::new_v4().simple());
    admin(&format!("CREATE ROLE {role} LOGIN"));
    admin(&format!("CREATE SCHEMA {role} AUTHORIZATION {role}"));
    let outage = Outage { role: role.clone() };
    let base = postgres_url().replacen("postgres@", &format!("{role}@"), 1);
    let url = streamdom::db::scratch::schema_url(&base, &role);
    let mut cfg = streamdom::config::Config::with_defaults("127.0.0.1:0".parse().unwrap(), url);
    cfg.db_pool_size = 4;
    cfg.workers = Some(2);
    cfg.admin_password = Some(ADMIN_PASSWORD.to_owned());
    cfg.default_key = Some(TEST_KEY.to_owned());
    let server = streamdom::server::run(cfg).await.expect("hub starts");
    let hub = Hub::attach(server).await;

    let id = unique_id("outage");
    let mut events = page(1_000, 18); // 20 events
                                      // Derived fields that only events of the outage carry: they wait in the spool with them.
    events[12] = serde_json::json!({"type": 5, "timestamp": 1_200, "data": {"tag": "$identify",
        "payload": {"user_id": "u-outage", "traits": {}}}});
    events[15] = serde_json::json!({"type": 5, "timestamp": 1_500, "data": {"tag": "$pageview",
        "payload": {"url": "https://shop.example/during-outage"}}});
    let (mut rec, _) = hub.recorder(&id).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    viewer.recv_type("live").await;
    rec.send(&frame(1, &events[..10])).await;
    assert_eq!(
        seqs(&viewer.events(10).await.0),
        (1..=10).collect::<Vec<_>>()
    );
    rec.ack_of(10, WAIT).await;

    outage.begin();
    // Live viewing goes on.
    rec.send(&frame(11, &events[10..])).await;
    assert_eq!(
        seqs(&viewer.events(10).await.0),
        (11..=20).collect::<Vec<_>>()
    );
    // The list answers within a few seconds, from memory, and says so.
    let asked = Instant::now();
    let (status, list) = hub.get("/api/sessions").await;
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "took {:?}",
        asked.elapsed()
    );
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["partial"], true);
    assert_eq!(list["sessions"][0]["id"], id.as_str());
    // What needs the database says so plainly: 503 `unavailable`, not a 500, and no driver
    // detail. (A new watch needs its access-log row written first; see docs/PROTOCOL.md.)
    let refused = hub.ws(&format!("/ws/watch/{id}")).await.err();
    let (status, body) = refused.expect("a watch that cannot be logged is refused");
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert!(!body["message"].to_string().contains(&role), "{body}");
    let (status, body) = hub.get(&format!("/api/sessions/{id}/events")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );

    outage.end();
    // Everything is acknowledged once the database is back.
    rec.ack_of(20, Duration::from_secs(30)).await;
    // Reads answer again soon after (503 `unavailable` until the pool has reconnected).
    let back = Instant::now();
    let status = loop {
        let (status, body) = hub.get(&format!("/api/sessions/{id}/events")).await;
        if status != 503 || back.elapsed() > Duration::from_secs(30) {
            break status;
        }
        assert_eq!(body["error"], "unavailable");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!(
        "reads answered again {:?} after the last ack",
        back.elapsed()
    );
    assert_eq!(status, 200);
    assert_eq!(seqs(&hub.stored(&id).await), (1..=20).collect::<Vec<_>>());
    let (_, list) = hub.get("/api/sessions").await;
    assert_eq!(list["partial"], false);
    // The derivation of the outage's events was stored with them, though no later write came.
    let (_, s) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(
        (&s["user_id"], &s["page_count"]),
        (&"u-outage".into(), &2.into()),
        "{s}"
    );
    let (_, found) = hub.get("/api/sessions?url=during-outage").await;
    assert_eq!(found["sessions"][0]["id"], id.as_str(), "{found}");
}
