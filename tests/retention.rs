//! Retention and deletion, over real sockets on both backends: a pass deletes exactly the
//! sessions older than their own project's retention (never an active one) with their chunks
//! and access log, and the space comes back; `DELETE /api/sessions/{id}` deletes one, for admins
//! only, with the CSRF token, never while it records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;
use streamdom::auth::Role;

const DAY: i64 = 24 * 3600 * 1000;
const MIB: usize = 1024 * 1024;

async fn add_project(hub: &Hub, name: &str, days: i32) -> String {
    let (status, body, _) = hub
        .call(
            "POST",
            "/api/projects",
            &hub.admin,
            Some(json!({"name": name, "retention_days": days})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().unwrap().to_owned()
}

async fn a_pass_deletes_exactly_what_is_old_per_project(b: Backend) {
    let hub = Hub::start(b).await;
    add_project(&hub, "short", 1).await;
    let db = &hub.db;
    // The default project keeps 30 days, `short` one.
    db.seed_session("default", "old", 40 * DAY, true, 10_000);
    db.seed_session("default", "young", 10 * DAY, true, 10_000);
    db.seed_session("default", "open", 40 * DAY, false, 10_000);
    db.seed_session("short", "old", 2 * DAY, true, 10_000);
    db.seed_session("short", "young", DAY / 2, true, 10_000);
    db.seed_access("default", "old");
    db.seed_access("default", "young");
    // A session whose actor runs (its recorder is connected), aged in the database and even
    // marked ended there: the registry still knows it is live.
    let (mut rec, _) = hub.recorder("live").await;
    rec.send(&frame(1, &page(1_000, 2))).await;
    rec.ack_of(4, WAIT).await;
    db.execute(&format!(
        "UPDATE sessions SET last_event_at = {0}, started_at = {0}, ended_at = {0} \
         WHERE id = 'default:live'",
        streamdom::event::now_ms() - 40 * DAY
    ));
    let chunks_before = db.rows("event_chunks");

    let report = hub.server.as_ref().unwrap().run_retention().await.unwrap();
    assert_eq!((report.sessions, report.projects), (2, 2), "{report:?}");
    assert_eq!(
        db.session_keys(),
        [
            "default:live",
            "default:open",
            "default:young",
            "short:young"
        ]
    );
    assert_eq!(
        db.rows("session_access"),
        1,
        "the old session's access log went with it"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) AS n FROM event_chunks WHERE session_id IN ('default:old', 'short:old')"),
        0
    );
    assert_eq!(db.rows("event_chunks"), chunks_before - 2);
    let (status, _) = hub.get("/api/sessions/old?project=default").await;
    assert_eq!(status, 404);
    let again = hub.server.as_ref().unwrap().run_retention().await.unwrap();
    assert_eq!(again.sessions, 0, "nothing more is old");
    rec.close().await;
}
both!(a_pass_deletes_exactly_what_is_old_per_project);

async fn a_changed_retention_applies_at_the_next_pass(b: Backend) {
    let hub = Hub::start(b).await;
    hub.db.seed_session("default", "week", 7 * DAY, true, 1_000);
    assert_eq!(
        hub.server
            .as_ref()
            .unwrap()
            .run_retention()
            .await
            .unwrap()
            .sessions,
        0
    );
    let (status, body, _) = hub
        .call(
            "PUT",
            "/api/projects/default/retention",
            &hub.admin,
            Some(json!({"retention_days": 5})),
        )
        .await;
    assert_eq!(
        (status, body["retention_days"].as_i64()),
        (200, Some(5)),
        "{body}"
    );
    for bad in [json!({"retention_days": 0}), json!({"retention_days": "5"})] {
        let (status, _, _) = hub
            .call(
                "PUT",
                "/api/projects/default/retention",
                &hub.admin,
                Some(bad),
            )
            .await;
        assert_eq!(status, 400);
    }
    assert_eq!(
        hub.server
            .as_ref()
            .unwrap()
            .run_retention()
            .await
            .unwrap()
            .sessions,
        1
    );
    assert!(hub.db.session_keys().is_empty());
}
both!(a_changed_retention_applies_at_the_next_pass);

async fn the_periodic_pass_runs_by_itself(b: Backend) {
    let hub = Hub::start_with(b, |c| c.retention_interval_secs = 1).await;
    hub.db.seed_session("default", "old", 31 * DAY, true, 1_000);
    eventually("the periodic pass deletes the old session", || async {
        hub.db.session_keys().is_empty()
    })
    .await;
}
both!(the_periodic_pass_runs_by_itself);

/// Space: SQLite's file shrinks; PostgreSQL reuses the space (what is written after a deletion
/// takes no more room than before it).
async fn deleting_gives_the_space_back(b: Backend) {
    // Its own database: other tests' open transactions in a shared one would keep VACUUM from
    // freeing the deleted rows (CI saw the refill take 8.7 MB of new space).
    let hub = Hub::start_on(TestDb::own_database(b), |_| {}).await;
    let db = &hub.db;
    let empty = db.disk_bytes();
    for i in 0..8 {
        db.seed_session("default", &format!("big-{i}"), 40 * DAY, true, MIB);
    }
    let full = db.disk_bytes();
    assert!(full - empty > 7 * MIB as i64, "{empty} → {full}");
    let report = hub.server.as_ref().unwrap().run_retention().await.unwrap();
    assert_eq!(report.sessions, 8);
    let after = db.disk_bytes();
    let mut refilled = None;
    match b {
        Backend::Sqlite => assert!(
            after - empty < MIB as i64,
            "the file shrinks back: {empty} → {full} → {after}"
        ),
        Backend::Postgres => {
            for i in 0..8 {
                db.seed_session("default", &format!("again-{i}"), 40 * DAY, true, MIB);
            }
            let again = db.disk_bytes();
            assert!(
                again - full < 2 * MIB as i64,
                "the freed space is reused: {empty} → {full} → {after} → {again}"
            );
            refilled = Some(again);
        }
    }
    eprintln!(
        "disk bytes ({b:?}): empty {empty}, 8 MiB seeded {full}, after the pass {after}, \
         8 MiB seeded again {refilled:?}"
    );
}
both!(deleting_gives_the_space_back);

#[actix_web::test]
async fn an_older_sqlite_database_is_switched_to_incremental_vacuum() {
    let db = TestDb::new(Backend::Sqlite);
    // A database created before: no auto-vacuum, a table already there.
    db.batch("PRAGMA auto_vacuum = NONE; CREATE TABLE before_upgrade (x INTEGER);");
    assert_eq!(
        db.scalar("SELECT auto_vacuum AS n FROM pragma_auto_vacuum"),
        0
    );
    let mut cfg =
        streamdom::config::Config::with_defaults("127.0.0.1:0".parse().unwrap(), db.url.clone());
    cfg.admin_password = Some(ADMIN_PASSWORD.to_owned());
    let server = streamdom::server::run(cfg).await.unwrap();
    assert_eq!(
        db.scalar("SELECT auto_vacuum AS n FROM pragma_auto_vacuum"),
        2,
        "incremental"
    );
    server.stop().await.unwrap();
}

async fn deleting_a_session(b: Backend) {
    let hub = Hub::start_with(b, |c| c.idle_timeout_secs = 1).await;
    let other_key = add_project(&hub, "other", 30).await;
    hub.db.add_user("mia", "mia-password", Role::Member);
    hub.grant("default", "mia").await;
    let mia = hub.sign_in("mia", "mia-password").await.unwrap();
    let id = unique_id("gone");
    // The same id in another project, untouched by the deletion.
    let mut rec = hub
        .ws(&format!("/ws/record/{id}?key={other_key}"))
        .await
        .unwrap();
    rec.recv_type("welcome").await;
    rec.send(&frame(1, &page(1_000, 1))).await;
    rec.ack_of(3, WAIT).await;
    rec.close().await;
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 2))).await;
    rec.ack_of(4, WAIT).await;
    hub.get(&format!("/api/sessions/{id}/events?project=default"))
        .await;
    let path = format!("/api/sessions/{id}?project=default");

    // Recording now: refused, and nothing is deleted.
    let (status, body, _) = hub.call("DELETE", &path, &hub.admin, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("still_recording"))
    );
    rec.close().await;
    eventually("the session ends", || async {
        hub.get(&path).await.1["active"] == false
    })
    .await;
    // Without the CSRF token (a cookie alone), or as a member: refused.
    let no_csrf = Creds {
        csrf: None,
        ..hub.admin.clone()
    };
    let (status, body, _) = hub.call("DELETE", &path, &no_csrf, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("csrf_rejected"))
    );
    let (status, body, _) = hub.call("DELETE", &path, &mia, None).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _, _) = hub.call("DELETE", &path, &Creds::default(), None).await;
    assert_eq!(status, 401);
    assert_eq!(hub.get(&path).await.0, 200, "still there");

    let (status, _, _) = hub.call("DELETE", &path, &hub.admin, None).await;
    assert_eq!(status, 204);
    assert_eq!(hub.get(&path).await.0, 404);
    let (status, _) = hub
        .get(&format!("/api/sessions/{id}/events?project=default"))
        .await;
    assert_eq!(status, 404);
    let (_, list) = hub.get("/api/sessions?all=true").await;
    let listed: Vec<_> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] == id.as_str())
        .map(|s| s["project"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        listed,
        ["other"],
        "only the other project's session is left"
    );
    assert_eq!(
        hub.db.scalar(&format!(
            "SELECT COUNT(*) AS n FROM event_chunks WHERE session_id = 'default:{id}'"
        )),
        0
    );
    assert_eq!(
        hub.db.scalar(&format!(
            "SELECT COUNT(*) AS n FROM session_access WHERE session_key = 'default:{id}'"
        )),
        0,
        "its access log goes with it"
    );
    let (status, events) = hub
        .get(&format!("/api/sessions/{id}/events?project=other"))
        .await;
    assert_eq!((status, events.as_array().map(Vec::len)), (200, Some(3)));
    // Gone, or never there: 404.
    let (status, body, _) = hub.call("DELETE", &path, &hub.admin, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("session_not_found"))
    );
    let (status, _, _) = hub
        .call(
            "DELETE",
            &format!("/api/sessions/{}", unique_id("never")),
            &hub.admin,
            None,
        )
        .await;
    assert_eq!(status, 404);
}
both!(deleting_a_session);
