//! Recording on demand, over real sockets on both backends: a project's `record_mode` reaches
//! pages through the script they load (and `all` gets the very same script as before); a page
//! in standby keeps only a presence socket, is listed by `GET /api/online` (to the projects a
//! user sees) and costs no database row; Watch makes its page record under the session id the
//! answer names, Stop ends it at once and it stays stored; nobody watching for the grace period
//! stops it too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use streamdom::auth::Role;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                  Chrome/131.0.0.0 Safari/537.36";

async fn set_mode(hub: &Hub, mode: &str) -> (u16, Value) {
    let body = json!({"record_mode": mode, "sample_percent": 10, "sample_urls": ["/checkout/*"]});
    let (status, body, _) = hub
        .call(
            "PUT",
            "/api/projects/default/record_mode",
            &hub.admin,
            Some(body),
        )
        .await;
    (status, body)
}

/// The raw script and its entity tag, as a browser without compression gets them.
async fn script(hub: &Hub, path: &str) -> (String, String) {
    let mut res = awc::Client::new()
        .get(hub.http(path))
        .insert_header(("accept-encoding", "identity"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    let etag = res
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.body().limit(8 << 20).await.unwrap();
    (String::from_utf8(body.to_vec()).unwrap(), etag)
}

/// The number of session rows in the database, of any project.
fn session_rows(hub: &Hub) -> i64 {
    use diesel::{Connection, QueryDsl, RunQueryDsl};
    use streamdom::db::schema::sessions;
    let mut conn = streamdom::db::DbConn::establish(&hub.db.url).unwrap();
    sessions::table.count().get_result(&mut conn).unwrap()
}

/// A page in standby: its presence socket, with its presence message sent.
async fn standby_page(hub: &Hub, visitor: &str, url: &str) -> Ws {
    let creds = Creds {
        user_agent: Some(UA.into()),
        ..Creds::default()
    };
    let path = format!("/ws/presence?key={TEST_KEY}&visitor={visitor}");
    let mut ws = hub.ws_as(&path, &creds).await.expect("presence connects");
    ws.send(&json!({"type": "presence", "url": url, "viewport": {"width": 390, "height": 844}}))
        .await;
    ws
}

async fn online(hub: &Hub, creds: &Creds) -> Vec<Value> {
    let (status, body, _) = hub.call("GET", "/api/online", creds, None).await;
    assert_eq!(status, 200, "{body}");
    body["visitors"].as_array().unwrap().clone()
}

async fn listed(hub: &Hub, visitor: &str) -> Option<Value> {
    online(hub, &hub.admin)
        .await
        .into_iter()
        .find(|v| v["visitor_id"] == visitor)
}

async fn project_mode_reaches_pages_through_the_script(backend: Backend) {
    let hub = Hub::start(backend).await;
    let (plain, plain_tag) = script(&hub, "/streamdom.js").await;
    let (keyed, keyed_tag) = script(&hub, &format!("/streamdom.js?key={TEST_KEY}")).await;
    assert_eq!(
        (&keyed, &keyed_tag),
        (&plain, &plain_tag),
        "`all`: the same script"
    );

    let (status, body) = set_mode(&hub, "standby").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["record_mode"], "standby");
    assert_eq!(body["sample_urls"], json!(["/checkout/*"]));
    let (_, list) = hub.get("/api/projects").await;
    assert_eq!(list["projects"][0]["record_mode"], "standby");

    let (standby, standby_tag) = script(&hub, &format!("/streamdom.js?key={TEST_KEY}")).await;
    assert!(
        standby.starts_with(r#"globalThis[Symbol.for("streamdom.mode")]={"record_mode":"standby""#),
        "{}",
        &standby[..120]
    );
    assert!(standby.ends_with(&plain), "the bundle follows unchanged");
    assert_ne!(standby_tag, plain_tag, "a mode change is a new entity");
    let res = awc::Client::new()
        .get(hub.http(&format!("/streamdom.js?key={TEST_KEY}")))
        .insert_header(("accept-encoding", "identity"))
        .insert_header(("if-none-match", standby_tag.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 304, "revalidates without a body");
    // gzip is made for the prefixed script too (awc inflates it).
    let mut res = awc::Client::new()
        .get(hub.http(&format!("/streamdom.js?key={TEST_KEY}")))
        .insert_header(("accept-encoding", "gzip"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("content-encoding").unwrap(), "gzip");
    let body = res.body().limit(8 << 20).await.unwrap();
    assert_eq!(body.as_ref(), standby.as_bytes());

    for bad in [
        json!({"record_mode": "some"}),
        json!({"record_mode": "sample", "sample_percent": 101}),
        json!({"record_mode": "sample", "sample_urls": ["no-slash"]}),
    ] {
        let (status, body, _) = hub
            .call(
                "PUT",
                "/api/projects/default/record_mode",
                &hub.admin,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_query")),
            "{bad}"
        );
    }
    let (status, _) = set_mode(&hub, "all").await;
    assert_eq!(status, 200);
    let (back, back_tag) = script(&hub, &format!("/streamdom.js?key={TEST_KEY}")).await;
    assert_eq!(
        (back, back_tag),
        (plain, plain_tag),
        "back to `all`: as before"
    );
}
both!(project_mode_reaches_pages_through_the_script);

async fn a_standby_visitor_is_watched_live_then_stopped_and_stays_stored(backend: Backend) {
    let hub = Hub::start(backend).await;
    set_mode(&hub, "standby").await;
    let visitor = unique_id("v");
    let mut tab = standby_page(&hub, &visitor, "https://shop.example/pricing").await;
    eventually("the visitor is listed", || async {
        listed(&hub, &visitor).await.is_some_and(|v| v["url"] != "")
    })
    .await;
    let row = listed(&hub, &visitor).await.unwrap();
    assert_eq!(row["url"], "https://shop.example/pricing");
    assert_eq!(row["recording"], false);
    assert_eq!(row["device"], "desktop");
    assert_eq!(row["viewport"], json!({"width": 390, "height": 844}));
    assert_eq!(session_rows(&hub), 0, "standby writes nothing");

    // Watch answers once the page has opened its recording: the page gets `record` first.
    let watch_path = format!("/api/online/{visitor}/watch");
    let watching = hub.call("POST", &watch_path, &hub.admin, None);
    let page_side = async {
        let record = tab.recv_type("record").await;
        let id = record["session_id"].as_str().unwrap().to_owned();
        let (mut rec, welcome) = hub.recorder(&id).await;
        assert_eq!(welcome["session_id"], id.as_str());
        rec.send(&frame(1, &page(now(), 2))).await;
        (id, rec)
    };
    let ((status, started, _), (id, mut rec)) = tokio::join!(watching, page_side);
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["session_id"], id.as_str());
    assert_eq!(started["project"], "default");

    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.expect("viewer");
    viewer.events(4).await;
    rec.send(&frame(5, &[inc(now(), 9)])).await;
    let (live, _) = viewer.events(1).await;
    assert_eq!(live[0]["event"]["data"]["positions"][0]["x"], 9, "live");
    eventually("listed as recording, with its viewer", || async {
        listed(&hub, &visitor).await.is_some_and(|v| {
            v["recording"] == true && v["viewers"] == 1 && v["session_id"] == id.as_str()
        })
    })
    .await;
    // A second PM joins the same recording.
    let (status, again, _) = hub.call("POST", &watch_path, &hub.admin, None).await;
    assert_eq!((status, &again["session_id"]), (200, &json!(id)));

    let (status, _, _) = hub
        .call(
            "POST",
            &format!("/api/online/{visitor}/stop"),
            &hub.admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    tab.recv_type("stop").await;
    rec.ack_of(5, WAIT).await;
    rec.close().await;
    // Ended at once, not after the idle timeout (30 s here, longer than WAIT).
    eventually("the session ended", || async {
        let (s, body) = hub.get(&format!("/api/sessions/{id}")).await;
        s == 200 && body["active"] == false
    })
    .await;
    assert_eq!(hub.stored(&id).await.len(), 5, "stored like any session");
    assert_eq!(listed(&hub, &visitor).await.unwrap()["recording"], false);
    let (status, _, _) = hub
        .call(
            "POST",
            &format!("/api/online/{visitor}/stop"),
            &hub.admin,
            None,
        )
        .await;
    assert_eq!(status, 404, "nothing to stop");

    tab.close().await;
    eventually("gone once its page closed", || async {
        listed(&hub, &visitor).await.is_none()
    })
    .await;
}
both!(a_standby_visitor_is_watched_live_then_stopped_and_stays_stored);

async fn online_visitors_are_scoped_to_the_projects_a_user_sees(backend: Backend) {
    let hub = Hub::start(backend).await;
    set_mode(&hub, "standby").await;
    let visitor = unique_id("v");
    let _tab = standby_page(&hub, &visitor, "https://shop.example/").await;
    eventually("listed", || async {
        listed(&hub, &visitor).await.is_some()
    })
    .await;
    hub.db.add_user("mia", "mia-password-1", Role::Member);
    let mia = hub.sign_in("mia", "mia-password-1").await.unwrap();
    assert!(online(&hub, &mia).await.is_empty(), "not granted");
    let watch = format!("/api/online/{visitor}/watch");
    let (status, _, _) = hub.call("POST", &watch, &mia, None).await;
    assert_eq!(
        status, 404,
        "a project not granted is answered like nobody online"
    );
    let (status, _, _) = hub
        .call("GET", "/api/online", &Creds::default(), None)
        .await;
    assert_eq!(status, 401);
    hub.grant("default", "mia").await;
    assert_eq!(online(&hub, &mia).await.len(), 1);
    let (status, _) = hub
        .ws_as(
            "/ws/presence?key=pk_not_a_known_key&visitor=v",
            &Creds::default(),
        )
        .await
        .err()
        .expect("an unknown key is refused");
    assert_eq!(status, 401);
}
both!(online_visitors_are_scoped_to_the_projects_a_user_sees);

async fn nobody_watching_for_the_grace_period_stops_the_recording(backend: Backend) {
    let hub = Hub::start_with(backend, |c| c.watch_grace_secs = 1).await;
    set_mode(&hub, "standby").await;
    let visitor = unique_id("v");
    let mut tab = standby_page(&hub, &visitor, "https://shop.example/").await;
    eventually("listed", || async {
        listed(&hub, &visitor).await.is_some()
    })
    .await;
    let watch_path = format!("/api/online/{visitor}/watch");
    let watching = hub.call("POST", &watch_path, &hub.admin, None);
    let page_side = async {
        let id = tab.recv_type("record").await["session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (mut rec, _) = hub.recorder(&id).await;
        rec.send(&frame(1, &page(now(), 1))).await;
        (id, rec)
    };
    let ((status, _, _), (id, mut rec)) = tokio::join!(watching, page_side);
    assert_eq!(status, 200);
    let viewer = hub.ws(&format!("/ws/watch/{id}")).await.expect("viewer");
    viewer.close().await;
    let t = std::time::Instant::now();
    tab.recv_type("stop").await;
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "not before the grace"
    );
    rec.ack_of(3, WAIT).await;
    rec.close().await;
    eventually("the session ended", || async {
        hub.get(&format!("/api/sessions/{id}")).await.1["active"] == false
    })
    .await;
}
both!(nobody_watching_for_the_grace_period_stops_the_recording);

fn now() -> i64 {
    streamdom::event::now_ms()
}
