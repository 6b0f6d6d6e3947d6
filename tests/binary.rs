//! The real `streamdom` binary as an operator runs it, in a child process: its metrics, its
//! configuration sources and logs, and how it fails at start. Database scenarios run on SQLite
//! and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod process;

use std::collections::BTreeMap;

use common::*;
use diesel::{connection::SimpleConnection, Connection};
use process::*;
use streamdom::config::Config;

/// The shared test client (`common::Hub`'s requests and sockets), pointed at a child process.
fn client(hub: &HubProcess, db: TestDb) -> Hub {
    Hub {
        cfg: Config::with_defaults(hub.base.parse().unwrap(), db.url.clone()),
        db,
        server: None,
        base: hub.base.clone(),
    }
}

fn sql(db: &TestDb, statement: &str) {
    let mut conn = streamdom::db::DbConn::establish(&db.url).unwrap();
    conn.batch_execute(statement).unwrap();
}

/// `GET /metrics`, parsed: `name{labels}` → value.
async fn metrics(hub: &Hub) -> BTreeMap<String, f64> {
    let mut res = awc::Client::new()
        .get(hub.http("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

async fn metric(hub: &Hub, name: &str) -> f64 {
    metrics(hub).await.get(name).copied().unwrap_or(0.0)
}

async fn metrics_count_sessions_viewers_events_lag_refusals_and_errors(backend: Backend) {
    let db = TestDb::new(backend);
    let (_dir, path) = workdir();
    // A slow writer, so that events stay not-yet-durable long enough to be seen as lag.
    let proc = HubProcess::start(
        &path,
        &[
            "--database-url",
            &db.url,
            "--flush-interval-ms",
            "4000",
            "--idle-timeout-secs",
            "1",
        ],
        &[],
    );
    let hub = client(&proc, db);
    let m = metrics(&hub).await;
    for name in [
        "streamdom_sessions_active",
        "streamdom_viewers_connected",
        "streamdom_events_in_total",
        "streamdom_frames_out_total",
        "streamdom_durable_lag_events",
        "streamdom_database_errors_total",
        "streamdom_viewers_cut_total",
    ] {
        assert_eq!(m.get(name), Some(&0.0), "{name} in {m:#?}");
    }

    let id = unique_id("metrics");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 3))).await;
    eventually("5 events in", || async {
        metric(&hub, "streamdom_events_in_total").await == 5.0
    })
    .await;
    let m = metrics(&hub).await;
    assert_eq!(m["streamdom_sessions_active"], 1.0);
    assert_eq!(m["streamdom_durable_lag_events"], 5.0, "before the flush");
    assert_eq!(rec.recv_type("ack").await["durable_seq"], 5);
    assert_eq!(metric(&hub, "streamdom_durable_lag_events").await, 0.0);

    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    viewer.acking = true;
    viewer.recv_type("live").await;
    rec.send(&frame(6, &[inc(2_000, 6)])).await;
    viewer.events(1).await;
    let m = metrics(&hub).await;
    assert_eq!(m["streamdom_viewers_connected"], 1.0);
    assert_eq!(m["streamdom_events_in_total"], 6.0);
    assert_eq!(m["streamdom_frames_out_total"], 2.0, "history, then live");
    assert_eq!(m["streamdom_durable_lag_events"], 1.0);

    // A refused frame, counted by its error code.
    let (mut bad, _) = hub.recorder(&unique_id("bad")).await;
    bad.send_text("not json".into()).await;
    assert_eq!(bad.closed().await.0, 4400);
    let refused = "streamdom_frames_refused_total{reason=\"invalid_frame\"}";
    assert_eq!(metric(&hub, refused).await, 1.0);

    // A database that fails a query: counted, and answered 500.
    sql(&hub.db, "ALTER TABLE sessions RENAME TO sessions_away");
    assert_eq!(hub.get("/api/sessions").await.0, 500);
    sql(&hub.db, "ALTER TABLE sessions_away RENAME TO sessions");
    assert_eq!(hub.get("/no/such/page").await.0, 404);
    let m = metrics(&hub).await;
    assert!(m["streamdom_database_errors_total"] >= 1.0, "{m:#?}");
    assert!(
        m["streamdom_http_responses_total{class=\"1xx\"}"] >= 3.0,
        "upgrades: {m:#?}"
    );
    assert!(m["streamdom_http_responses_total{class=\"4xx\"}"] >= 1.0);
    assert!(m["streamdom_http_responses_total{class=\"5xx\"}"] >= 1.0);
    assert!(m["streamdom_http_responses_total{class=\"2xx\"}"] >= 1.0);

    viewer.close().await;
    rec.close().await;
    // Everything flushed and the sessions ended after their idle second: all back to zero.
    eventually("sessions ended, viewers gone, nothing pending", || async {
        let m = metrics(&hub).await;
        m["streamdom_sessions_active"] == 0.0
            && m["streamdom_viewers_connected"] == 0.0
            && m["streamdom_durable_lag_events"] == 0.0
    })
    .await;
    assert!(proc.stop().success());
}
both!(metrics_count_sessions_viewers_events_lag_refusals_and_errors);
