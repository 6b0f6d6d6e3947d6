//! Heatmaps over real sockets: scripted sessions with known clicks give exact aggregated counts
//! (clicks per element, rage and dead clicks, moves, scroll depth), grouped by page pattern,
//! split by viewport bucket, summed over a range of days, and kept across a restart. Each test
//! runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const DAY_MS: i64 = 24 * 3600 * 1000;

fn meta_w(ts: i64, href: &str, width: i64) -> Value {
    json!({"type":4,"timestamp":ts,"data":{"href":href,"width":width,"height":720}})
}

fn click(ts: i64, sel: &str, px: i64, py: i64) -> Value {
    json!({"type":5,"timestamp":ts,"data":{"tag":"$click",
        "payload":{"sel":sel,"ox":0.5,"oy":0.25,"px":px,"py":py}}})
}

fn mutation(ts: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":0,"texts":[],"attributes":[],"removes":[],"adds":[]}})
}

fn scroll(ts: i64, y: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":3,"id":1,"x":0,"y":y}})
}

fn moved(ts: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":1,"positions":[{"x":45,"y":30,"id":1,"timeOffset":0}]}})
}

async fn send_durable(rec: &mut Ws, from: u64, events: &[Value]) -> u64 {
    rec.send(&frame(from, events)).await;
    let last = from + events.len() as u64 - 1;
    rec.ack_of(last, Duration::from_secs(30)).await;
    last
}

/// A desktop visit of /product/1 (a live click, a dead one, a rage burst that changes nothing,
/// a scroll), then /product/2 (one click), moves deciding the last clicks dead.
fn desktop_visit() -> Vec<Value> {
    vec![
        meta_w(1_000, "https://shop.example/product/1?ref=ad#top", 1280),
        full(1_001),
        click(2_000, "main#shop>button#buy", 100, 100),
        mutation(2_100),
        click(3_000, "html>body>a", 400, 300),
        click(5_000, "div#rage", 600, 600),
        click(5_300, "div#rage", 605, 600),
        click(5_600, "div#rage", 600, 610),
        scroll(6_000, 1_000),
        scroll(6_500, 0),
        custom_event(
            7_000,
            "$pageview",
            json!({"url":"https://shop.example/product/2"}),
        ),
        click(7_500, "main#shop>button#buy", 100, 100),
        mutation(7_600),
        moved(8_000),
    ]
}

fn custom_event(ts: i64, tag: &str, payload: Value) -> Value {
    json!({"type":5,"timestamp":ts,"data":{"tag":tag,"payload":payload}})
}

/// A phone visit of /product/1: one click with no reaction.
fn mobile_visit() -> Vec<Value> {
    vec![
        meta_w(1_000, "https://shop.example/product/1", 400),
        full(1_001),
        click(2_000, "main#shop>button#buy", 50, 80),
        moved(4_000),
    ]
}

fn element<'a>(h: &'a Value, sel: &str) -> &'a Value {
    h["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["selector"] == sel)
        .unwrap_or_else(|| panic!("no element {sel} in {h}"))
}

async fn heatmap(hub: &Hub, query: &str) -> Value {
    let (status, h) = hub.get(&format!("/api/heatmaps?{query}")).await;
    assert_eq!(status, 200, "{h}");
    h
}

async fn assert_desktop_counts(hub: &Hub) {
    let h = heatmap(hub, "url=/product/1&kind=click").await;
    assert_eq!(h["total"], 5, "{h}");
    assert_eq!(h["rage_clicks"], 1);
    assert_eq!(h["dead_clicks"], 4, "the a and the three rage clicks");
    let buy = element(&h, "main#shop>button#buy");
    assert_eq!(
        (buy["clicks"].as_i64(), buy["dead"].as_i64()),
        (Some(1), Some(0))
    );
    let rage = element(&h, "div#rage");
    assert_eq!(
        (
            rage["clicks"].as_i64(),
            rage["rage"].as_i64(),
            rage["dead"].as_i64()
        ),
        (Some(3), Some(1), Some(3))
    );
    assert_eq!(element(&h, "html>body>a")["dead"], 1);
    assert_eq!(
        h["elements"][0]["selector"], "div#rage",
        "most clicked first"
    );
    let p = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["selector"] == "main#shop>button#buy")
        .unwrap();
    assert_eq!(
        (p["ox"].as_f64(), p["oy"].as_f64()),
        (Some(0.5), Some(0.25))
    );
    assert_eq!((p["x"].as_i64(), p["y"].as_i64()), (Some(100), Some(100)));
    assert_eq!(h["sessions_url"], "/?url=%2Fproduct%2F1");
}

async fn heatmaps_count_a_scripted_session_exactly(backend: Backend) {
    let mut hub = Hub::start(backend).await;
    let id = unique_id("heat");
    let (mut rec, _) = hub.recorder(&id).await;
    let last = send_durable(&mut rec, 1, &desktop_visit()).await;
    let phone = unique_id("phone");
    let (mut rec2, _) = hub.recorder(&phone).await;
    send_durable(&mut rec2, 1, &mobile_visit()).await;

    assert_desktop_counts(&hub).await;
    // A pattern sums the matching pages.
    let h = heatmap(&hub, "url=/product/*&kind=click").await;
    assert_eq!(h["total"], 6, "{h}");
    assert_eq!(element(&h, "main#shop>button#buy")["clicks"], 2);
    assert_eq!(heatmap(&hub, "url=/product/2").await["total"], 1);
    assert_eq!(heatmap(&hub, "url=/product").await["total"], 0);
    // Rage and dead as kinds of their own.
    assert_eq!(heatmap(&hub, "url=/product/1&kind=rage").await["total"], 1);
    assert_eq!(heatmap(&hub, "url=/product/1&kind=dead").await["total"], 4);
    // The phone's click is in the mobile bucket only, with a mobile snapshot.
    let m = heatmap(&hub, "url=/product/1&bucket=mobile").await;
    assert_eq!(
        (m["total"].as_i64(), m["dead_clicks"].as_i64()),
        (Some(1), Some(1)),
        "{m}"
    );
    assert_eq!(m["snapshot"]["width"], 400);
    assert_eq!(m["snapshot"]["session_id"], phone.as_str());
    assert_eq!(
        heatmap(&hub, "url=/product/1&bucket=tablet").await["total"],
        0
    );
    // Scroll depth: the visit showed down to 1000 + 720 px, once.
    let s = heatmap(&hub, "url=/product/1&kind=scroll").await;
    assert_eq!(s["total"], 1, "{s}");
    let rows = s["scroll"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["y"], 1700);
    assert_eq!(rows.last().unwrap()["share"], 1.0);
    assert_eq!(rows[0]["reached"], 1);
    // Moves: page coordinates on a 20 px grid.
    let mv = heatmap(&hub, "url=/product/2&kind=move").await;
    assert_eq!(
        mv["points"],
        json!([{"selector":null,"ox":null,"oy":null,"x":40,"y":20,"count":1}])
    );

    // The snapshot to draw on: the desktop visit's Meta and full snapshot.
    let h = heatmap(&hub, "url=/product/1").await;
    assert_eq!(h["snapshot"]["session_id"], id.as_str(), "{h}");
    let (status, events) = hub.get(h["snapshot"]["events_url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{events}");
    let kinds: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_i64().unwrap())
        .collect();
    assert_eq!(kinds, vec![4, 2]);

    // Days: today's counts are outside yesterday; a range sums the days in it.
    let now = streamdom::event::now_ms();
    let yesterday = format!("from={}&to={}", now - DAY_MS, now - DAY_MS);
    assert_eq!(
        heatmap(&hub, &format!("url=/product/1&{yesterday}")).await["total"],
        0
    );
    // For the numbers page: dead clicks per page.
    let mut conn = {
        use diesel::Connection;
        streamdom::db::DbConn::establish(&hub.db.url).unwrap()
    };
    let dead =
        streamdom::db::heatmaps::dead_clicks_per_page(&mut conn, "default", now - DAY_MS, now)
            .unwrap();
    assert_eq!(dead, vec![("/product/1".to_owned(), 5)]);
    drop(conn);

    // Durable: after a restart the counts are the same, and the session goes on counting on
    // the page it was on.
    drop((rec, rec2));
    hub.restart().await;
    let h = heatmap(&hub, "url=/product/1&kind=click").await;
    assert_eq!(h["total"], 5);
    let (mut rec, _) = hub.recorder(&id).await;
    send_durable(
        &mut rec,
        last + 1,
        &[
            click(9_000, "main#shop>button#buy", 100, 100),
            mutation(9_050),
        ],
    )
    .await;
    assert_desktop_counts(&hub).await;
    assert_eq!(heatmap(&hub, "url=/product/2").await["total"], 2);

    // A range sums the days in it.
    let three_days_ago = now.div_euclid(DAY_MS) - 3;
    hub.db.execute(&format!(
        "INSERT INTO heatmap_points VALUES ('default', 'click', 'desktop', '/product/1', \
         {three_days_ago}, 'html>body>a', 10, 5, 7, 2800, 2100)"
    ));
    let week = format!("from={}&to={now}", now - 7 * DAY_MS);
    let h = heatmap(&hub, &format!("url=/product/1&{week}")).await;
    assert_eq!(h["total"], 12, "{h}");
    assert_eq!(element(&h, "html>body>a")["clicks"], 8);
    let two_days = format!("from={}&to={now}", now - 2 * DAY_MS);
    assert_eq!(
        heatmap(&hub, &format!("url=/product/1&{two_days}")).await["total"],
        5
    );
}

both!(heatmaps_count_a_scripted_session_exactly);

async fn heatmap_parameters_are_checked(backend: Backend) {
    let hub = Hub::start(backend).await;
    for bad in [
        "kind=click",
        "url=product",
        "url=/a&kind=hover",
        "url=/a&bucket=watch",
        "url=/a&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "url=/a&from=yesterday",
    ] {
        let (status, body) = hub.get(&format!("/api/heatmaps?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _, _) = hub
        .call("GET", "/api/heatmaps?url=/a", &Creds::default(), None)
        .await;
    assert_eq!(status, 401);
}

both!(heatmap_parameters_are_checked);
