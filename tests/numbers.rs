//! `GET /api/numbers`: scripted sessions recorded over real sockets give exact numbers, which
//! follow a session whose duration, exit page and errors change (the rollups move by deltas,
//! never count a session twice), and a time range picks whole days. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use streamdom::db::numbers::{bucket, bucket_value, DAY_MS};

fn click(ts: i64, x: i64, y: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":2,"type":2,"id":5,"x":x,"y":y}})
}

fn moved(ts: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":1,"positions":[{"x":1,"y":1,"id":1,"timeOffset":0}]}})
}

fn custom(ts: i64, tag: &str, payload: Value) -> Value {
    json!({"type":5,"timestamp":ts,"data":{"tag":tag,"payload":payload}})
}

fn pageview(ts: i64, url: &str) -> Value {
    custom(ts, "$pageview", json!({ "url": url }))
}

fn error(ts: i64) -> Value {
    json!({"type":6,"timestamp":ts,"data":{"plugin":"rrweb/console@1","payload":{
        "level":"error","payload":["\"boom\""],"trace":[],"source":"console"}}})
}

const HOME: &str = "https://shop.example/";
const PRICING: &str = "https://shop.example/pricing";
const CHECKOUT: &str = "https://shop.example/checkout";

/// Sends `events` from seq `from` and waits until they are durable (the rollups commit with
/// them); returns the next seq.
async fn send_durable(rec: &mut Ws, from: u64, events: &[Value]) -> u64 {
    rec.send(&frame(from, events)).await;
    let last = from + events.len() as u64 - 1;
    rec.ack_of(last, std::time::Duration::from_secs(30)).await;
    last + 1
}

async fn numbers(hub: &Hub, query: &str) -> Value {
    let (status, body) = hub
        .get(&format!("/api/numbers?project=default{query}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A list of `{key, count}` as pairs.
fn counts(v: &Value) -> Vec<(String, i64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

fn approx(ms: i64) -> i64 {
    bucket_value(bucket(ms))
}

both!(numbers_follow_sessions_as_they_change);
async fn numbers_follow_sessions_as_they_change(backend: Backend) {
    let hub = Hub::start(backend).await;
    // A: home → pricing, a rage click on pricing, an error, signs up; 5 s.
    let (mut a, _) = hub.recorder("num-a").await;
    let a_events = vec![
        meta(1_000, HOME),
        full(1_001),
        pageview(2_000, PRICING),
        click(2_100, 10, 10),
        click(2_200, 12, 10),
        click(2_300, 10, 14),
        moved(2_400),
        error(3_000),
        custom(4_000, "signup", json!({})),
        // A click on pricing that nothing answers within a second: dead.
        custom(
            4_100,
            "$click",
            json!({"sel": "html>body>button", "ox": 0.5, "oy": 0.5, "px": 20, "py": 20}),
        ),
        moved(6_000),
    ];
    send_durable(&mut a, 1, &a_events).await;
    // B: home only, signs up and buys; 2 s.
    let (mut b, _) = hub.recorder("num-b").await;
    let b_events = vec![
        meta(10_000, HOME),
        full(10_001),
        custom(11_000, "signup", json!({})),
        custom(11_500, "buy", json!({})),
        moved(12_000),
    ];
    let b_next = send_durable(&mut b, 1, &b_events).await;
    // C: lands on pricing; 1 s.
    let (mut c, _) = hub.recorder("num-c").await;
    send_durable(
        &mut c,
        1,
        &[meta(20_000, PRICING), full(20_001), moved(21_000)],
    )
    .await;

    let n = numbers(&hub, "").await;
    assert_eq!(n["sessions"], 3, "{n}");
    assert_eq!(n["errored"], 1);
    assert!((n["error_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(n["active_now"], 3);
    let days = n["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["sessions"], 3);
    assert_eq!(days[29]["from"].as_i64().unwrap() % DAY_MS, 0);
    assert_eq!(n["median_duration_ms"], approx(2_000));
    assert_eq!(counts(&n["top_pages"]), pairs(&[(HOME, 2), (PRICING, 2)]));
    assert_eq!(counts(&n["entry_pages"]), pairs(&[(HOME, 2), (PRICING, 1)]));
    assert_eq!(counts(&n["exit_pages"]), pairs(&[(PRICING, 2), (HOME, 1)]));
    assert_eq!(counts(&n["rage_clicks"]), pairs(&[(PRICING, 1)]));
    assert_eq!(counts(&n["dead_clicks"]), pairs(&[("/pricing", 1)]));
    assert_eq!(counts(&n["events"]), pairs(&[("signup", 2), ("buy", 1)]));

    // B goes on: to checkout, an error, 10 s long. Its old exit page, duration bucket and
    // error-free state are taken back; it is still one session.
    send_durable(
        &mut b,
        b_next,
        &[pageview(15_000, CHECKOUT), error(16_000), moved(20_000)],
    )
    .await;
    let n = numbers(&hub, "").await;
    assert_eq!(n["sessions"], 3, "{n}");
    assert_eq!(n["errored"], 2);
    assert_eq!(n["median_duration_ms"], approx(5_000));
    assert_eq!(
        counts(&n["top_pages"]),
        pairs(&[(HOME, 2), (PRICING, 2), (CHECKOUT, 1)])
    );
    assert_eq!(counts(&n["entry_pages"]), pairs(&[(HOME, 2), (PRICING, 1)]));
    assert_eq!(
        counts(&n["exit_pages"]),
        pairs(&[(PRICING, 2), (CHECKOUT, 1)])
    );
    let hist: i64 = hub
        .db
        .scalar("SELECT CAST(SUM(sessions) AS BIGINT) AS n FROM numbers_hist WHERE metric = 0");
    assert_eq!(hist, 3, "each session sits in one duration bucket");
    a.close().await;
    c.close().await;
}

both!(a_range_counts_whole_days);
async fn a_range_counts_whole_days(backend: Backend) {
    let hub = Hub::start(backend).await;
    // A session that started three days ago (its row is there; its recorder comes back).
    hub.db.seed_session("default", "old", 3 * DAY_MS, true, 0);
    let (mut old, _) = hub.recorder("old").await;
    send_durable(&mut old, 1, &[meta(1_000, HOME), full(1_001), moved(4_000)]).await;
    let (mut new, _) = hub.recorder("new").await;
    send_durable(&mut new, 1, &[meta(1_000, PRICING), full(1_001)]).await;

    let all = numbers(&hub, "").await;
    assert_eq!(all["sessions"], 2, "{all}");
    let today = streamdom::event::now_ms().div_euclid(DAY_MS);
    let old_day = (streamdom::event::now_ms() - 3 * DAY_MS - 60_000).div_euclid(DAY_MS);
    let only_old = numbers(
        &hub,
        &format!(
            "&from={}&to={}",
            old_day * DAY_MS + 5,
            old_day * DAY_MS + 10
        ),
    )
    .await;
    assert_eq!(only_old["sessions"], 1, "{only_old}");
    assert_eq!(only_old["from"], old_day * DAY_MS);
    assert_eq!(only_old["to"], (old_day + 1) * DAY_MS - 1);
    assert_eq!(only_old["days"].as_array().unwrap().len(), 1);
    assert_eq!(counts(&only_old["top_pages"]), pairs(&[(HOME, 1)]));
    // A `from` after `to` leaves `to`'s day; a range over 366 days is cut to its last 366.
    let reversed = numbers(
        &hub,
        &format!("&from={}&to={}", today * DAY_MS, old_day * DAY_MS),
    )
    .await;
    assert_eq!(reversed["days"].as_array().unwrap().len(), 1, "{reversed}");
    assert_eq!(reversed["sessions"], 1);
    let long = numbers(&hub, "&from=0").await;
    assert_eq!(long["days"].as_array().unwrap().len(), 366);
    assert_eq!(long["sessions"], 2);
    let only_today = numbers(&hub, &format!("&from={}", today * DAY_MS)).await;
    assert_eq!(only_today["sessions"], 1, "{only_today}");
    assert_eq!(counts(&only_today["entry_pages"]), pairs(&[(PRICING, 1)]));

    // The numbers' links filter the sessions list by project too.
    let (_, listed) = hub.get("/api/sessions?all=true&project=default").await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2, "{listed}");
    let (_, listed) = hub.get("/api/sessions?all=true&project=other").await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 0, "{listed}");

    // Another project's numbers are not the user's to see; a project is required.
    let (status, _) = hub.get("/api/numbers?project=nope").await;
    assert_eq!(status, 404);
    let (status, _) = hub.get("/api/numbers").await;
    assert_eq!(status, 400);
    let (status, _, _) = hub
        .call(
            "GET",
            "/api/numbers?project=default",
            &Creds::default(),
            None,
        )
        .await;
    assert_eq!(status, 401);
}

both!(a_write_retried_after_its_commit_counts_once);
/// The writer retries a flush whose commit reply was lost: the rollups must not count its new
/// pages, events or rage clicks twice (driven through the writer's own `write_batch`).
async fn a_write_retried_after_its_commit_counts_once(backend: Backend) {
    use std::sync::Arc;
    use streamdom::{
        db::{chunks::SessionWrite, sessions::NewSession},
        event::Event,
        summary::{Derived, SummaryWrite},
    };
    let db = TestDb::new(backend);
    let pool = streamdom::db::connect(&db.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let now = streamdom::event::now_ms();
    let opened = NewSession {
        started_at: now,
        user_agent: None,
    };
    let summary = SummaryWrite {
        derived: Derived {
            duration_ms: 1_000,
            rage_click_count: 1,
            exit_url: Some(PRICING.into()),
            ..Derived::default()
        },
        new_pages: vec![HOME.into(), PRICING.into()],
        new_events: vec!["signup".into()],
        rage_pages: vec![Some(PRICING.into())],
        heat: Default::default(),
    };
    for seq in [1, 2] {
        let events = vec![Arc::new(Event {
            seq,
            hub_time: now,
            ts: now,
            kind: 3,
            json: format!(r#"{{"type":3,"timestamp":{now},"data":{{"source":1}}}}"#).into(),
        })];
        let write = SessionWrite {
            session_id: "default:retried",
            events: &events,
            url: None,
            first_event_ts: None,
            replaces: None,
            opened: Some(&opened),
            summary: Some(&summary),
            fence: None,
        };
        streamdom::db::chunks::write_batch(&mut conn, &[write]).unwrap();
    }
    let n = streamdom::db::numbers_query::numbers(
        &mut conn,
        "default",
        streamdom::db::numbers::day_of(now),
        streamdom::db::numbers::day_of(now),
    )
    .unwrap();
    assert_eq!(n.sessions, 1);
    let counts = |l: &[streamdom::db::numbers_query::Count]| {
        l.iter()
            .map(|c| (c.key.clone(), c.count))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&n.top_pages), pairs(&[(HOME, 1), (PRICING, 1)]));
    assert_eq!(counts(&n.entry_pages), pairs(&[(HOME, 1)]));
    assert_eq!(counts(&n.exit_pages), pairs(&[(PRICING, 1)]));
    assert_eq!(counts(&n.rage_clicks), pairs(&[(PRICING, 1)]));
    assert_eq!(counts(&n.events), pairs(&[("signup", 1)]));
}
