//! The access log, over real sockets on both backends: every watch (viewer socket, live or
//! replay, and the events API) is recorded with who, how and when; only admins read it; a
//! refused watch is not a watch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;
use streamdom::auth::Role;

fn entries(log: &Value) -> Vec<(String, String)> {
    log["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
            (
                e["username"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn the_access_log_records_every_watch_live_replay_and_api(b: Backend) {
    let hub = Hub::start_with(b, |c| c.idle_timeout_secs = 1).await;
    hub.db.add_user("mia", "mia-password", Role::Member);
    hub.db.add_user("bob", "bob-password", Role::Member);
    hub.grant("default", "mia").await;
    let mia = hub.sign_in("mia", "mia-password").await.unwrap();
    let bob = hub.sign_in("bob", "bob-password").await.unwrap();
    let id = unique_id("watched");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 2))).await;
    rec.recv_type("ack").await;
    let access = format!("/api/sessions/{id}/access");
    let (status, log) = hub.get(&access).await;
    assert_eq!((status, entries(&log)), (200, vec![]), "nobody watched yet");

    let mut live = hub.ws_as(&format!("/ws/watch/{id}"), &mia).await.unwrap();
    live.recv_type("live").await;
    live.close().await;
    let (status, _) = hub.get(&format!("/api/sessions/{id}/events")).await;
    assert_eq!(status, 200);
    // Refused: not a watch.
    assert_eq!(
        hub.ws_as(&format!("/ws/watch/{id}"), &bob)
            .await
            .err()
            .unwrap()
            .0,
        404
    );
    let (status, _, _) = hub
        .call("GET", &format!("/api/sessions/{id}/events"), &bob, None)
        .await;
    assert_eq!(status, 404);

    rec.close().await;
    eventually("the session ends", || async {
        hub.get(&format!("/api/sessions/{id}")).await.1["active"] == false
    })
    .await;
    let mut replay = hub
        .ws_as(&format!("/ws/watch/{id}?from=start"), &mia)
        .await
        .unwrap();
    replay.events(4).await;

    let (status, log) = hub.get(&access).await;
    assert_eq!(status, 200, "{log}");
    let who = |u: &str, k: &str| (u.to_owned(), k.to_owned());
    assert_eq!(
        entries(&log),
        vec![who("mia", "replay"), who(ADMIN, "api"), who("mia", "live")],
        "newest first"
    );
    // Only admins read it; an unknown session has none.
    let (status, body, _) = hub.call("GET", &access, &mia, None).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = hub
        .get(&format!("/api/sessions/{}/access", unique_id("nobody")))
        .await;
    assert_eq!(status, 200, "an id with no watches has an empty log");
}
both!(the_access_log_records_every_watch_live_replay_and_api);
