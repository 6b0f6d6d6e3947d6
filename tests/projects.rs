//! Projects and their ingest keys, over real sockets on both backends: a recorder needs a known
//! key and an origin its project allows, or nothing is created; two projects use the same
//! session id without seeing each other; members see only the projects granted to them; the
//! `streamdom project` command manages the same projects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use streamdom::auth::Role;

const SHOP: &str = "https://shop.example";
const EVIL: &str = "https://evil.example";

/// Creates a project through the admin API; returns its key.
async fn add_project(hub: &Hub, name: &str, origins: &[&str]) -> String {
    let (status, body, _) = hub
        .call(
            "POST",
            "/api/projects",
            &hub.admin,
            Some(json!({"name": name, "allowed_origins": origins})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["key"].as_str().unwrap().to_owned()
}

/// How many session rows the database holds whose key ends in `id` (any project).
fn rows_for(hub: &Hub, id: &str) -> i64 {
    use diesel::{Connection, QueryDsl, RunQueryDsl, TextExpressionMethods};
    use streamdom::db::schema::{event_chunks, sessions};
    let mut conn = streamdom::db::DbConn::establish(&hub.db.url).unwrap();
    let s: i64 = sessions::table
        .filter(sessions::id.like(format!("%{id}")))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let c: i64 = event_chunks::table
        .filter(event_chunks::session_id.like(format!("%{id}")))
        .count()
        .get_result(&mut conn)
        .unwrap();
    s + c
}

fn with_origin(origin: &str) -> Creds {
    Creds {
        origin: Some(origin.to_owned()),
        ..Creds::default()
    }
}

async fn a_missing_or_unknown_key_is_refused_and_nothing_is_stored(b: Backend) {
    let hub = Hub::start(b).await;
    let id = unique_id("nokey");
    let anon = Creds::default();
    for path in [
        format!("/ws/record/{id}"),
        format!("/ws/record/{id}?key=pk_not_a_key_of_this_hub"),
        format!("/ws/record/{id}?key=short"),
    ] {
        let (status, body) = hub.ws_as(&path, &anon).await.err().expect("refused");
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_key")),
            "{path}"
        );
    }
    for path in [
        format!("/api/sessions/{id}/events"),
        format!("/api/sessions/{id}/events?key=pk_not_a_key_of_this_hub"),
    ] {
        let (status, body, _) = hub
            .call("POST", &path, &anon, Some(frame(1, &page(1_000, 2))))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_key")),
            "{path}"
        );
    }
    assert_eq!(rows_for(&hub, &id), 0, "no session row, no chunk");
    assert_eq!(hub.get(&format!("/api/sessions/{id}")).await.0, 404);
    // The right key records.
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["session_id"], id.as_str());
    rec.send(&frame(1, &page(1_000, 2))).await;
    rec.recv_type("ack").await;
    let (_, info) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(
        (info["id"].as_str(), info["project"].as_str()),
        (Some(id.as_str()), Some("default"))
    );
}
both!(a_missing_or_unknown_key_is_refused_and_nothing_is_stored);

async fn an_origin_the_project_does_not_allow_is_refused_and_nothing_is_stored(b: Backend) {
    let hub = Hub::start(b).await;
    let key = add_project(&hub, "shop", &[SHOP]).await;
    let id = unique_id("origin");
    let ws_path = format!("/ws/record/{id}?key={key}");
    let post_path = format!("/api/sessions/{id}/events?key={key}");
    for creds in [with_origin(EVIL), Creds::default()] {
        let (status, body) = hub.ws_as(&ws_path, &creds).await.err().expect("refused");
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("origin_not_allowed"))
        );
        let (status, body, _) = hub
            .call("POST", &post_path, &creds, Some(frame(1, &page(1_000, 2))))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("origin_not_allowed"))
        );
    }
    assert_eq!(rows_for(&hub, &id), 0, "no session row, no chunk");
    // The allowed origin records (in any case, with or without a trailing slash).
    let mut rec = hub
        .ws_as(&ws_path, &with_origin("https://SHOP.example"))
        .await
        .unwrap();
    rec.recv_type("welcome").await;
    rec.send(&frame(1, &page(1_000, 2))).await;
    rec.recv_type("ack").await;
    let (status, body, _) = hub
        .call(
            "POST",
            &post_path,
            &with_origin(SHOP),
            Some(frame(5, &[inc(1_100, 9)])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, info) = hub.get(&format!("/api/sessions/{id}?project=shop")).await;
    assert_eq!(info["event_count"], 5);
    // The default project allows any origin (an empty list).
    let other = unique_id("any");
    let mut rec = hub
        .ws_as(&keyed(&format!("/ws/record/{other}")), &with_origin(EVIL))
        .await
        .unwrap();
    rec.recv_type("welcome").await;
}
both!(an_origin_the_project_does_not_allow_is_refused_and_nothing_is_stored);

async fn two_projects_use_the_same_session_id_without_touching_each_other(b: Backend) {
    let hub = Hub::start(b).await;
    let key = add_project(&hub, "blog", &[]).await;
    let id = unique_id("same");
    let (mut a, _) = hub.recorder(&id).await;
    a.send(&frame(1, &page(1_000, 2))).await;
    a.recv_type("ack").await;
    let mut blog = hub
        .ws_as(&format!("/ws/record/{id}?key={key}"), &Creds::default())
        .await
        .unwrap();
    let welcome = blog.recv_type("welcome").await;
    assert_eq!(
        welcome["received_seq"], 0,
        "a new session, not the default project's"
    );
    blog.send(&frame(1, &page(5_000, 5))).await;
    let ack = blog.recv_type("ack").await;
    assert_eq!(ack["durable_seq"], 7);

    // Without `?project=` an admin, who sees both, is asked to choose.
    let (status, body) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_query")),
        "{body}"
    );
    let (_, info) = hub
        .get(&format!("/api/sessions/{id}?project=default"))
        .await;
    assert_eq!(
        (info["event_count"].as_i64(), info["project"].as_str()),
        (Some(4), Some("default"))
    );
    let (_, info) = hub.get(&format!("/api/sessions/{id}?project=blog")).await;
    assert_eq!(
        (info["event_count"].as_i64(), info["project"].as_str()),
        (Some(7), Some("blog"))
    );
    let (_, events) = hub
        .get(&format!(
            "/api/sessions/{id}/events?project=blog&format=envelope"
        ))
        .await;
    assert_eq!(
        seqs(events.as_array().unwrap()),
        (1..=7).collect::<Vec<_>>()
    );
    assert_eq!(events[0]["event"]["timestamp"], 5_000);
    let (_, events) = hub
        .get(&format!("/api/sessions/{id}/events?project=default"))
        .await;
    assert_eq!(events.as_array().unwrap().len(), 4);
    assert_eq!(events[0]["timestamp"], 1_000);
    let mut v = hub
        .ws(&format!("/ws/watch/{id}?from=start&project=blog"))
        .await
        .unwrap();
    let (got, _) = v.events(7).await;
    assert_eq!(got[0]["event"]["timestamp"], 5_000);
    let (_, list) = hub.get("/api/sessions").await;
    let mut mine: Vec<(String, i64)> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] == id.as_str())
        .map(|s| {
            (
                s["project"].as_str().unwrap().to_owned(),
                s["event_count"].as_i64().unwrap(),
            )
        })
        .collect();
    mine.sort();
    assert_eq!(
        mine,
        vec![("blog".to_owned(), 7), ("default".to_owned(), 4)]
    );
    // The default project's recorder going on does not touch blog's session.
    a.send(&frame(5, &page(9_000, 0))).await;
    a.recv_type("ack").await;
    let (_, info) = hub.get(&format!("/api/sessions/{id}?project=blog")).await;
    assert_eq!(info["event_count"], 7);
    let (_, info) = hub
        .get(&format!("/api/sessions/{id}?project=default"))
        .await;
    assert_eq!(info["event_count"], 6);
}
both!(two_projects_use_the_same_session_id_without_touching_each_other);

/// Every `session` message a feed socket receives within a short quiet time.
async fn feed_projects(feed: &mut Ws) -> Vec<(String, String)> {
    feed.drain_for(std::time::Duration::from_millis(700))
        .await
        .iter()
        .filter(|m| m["type"] == "session")
        .map(|m| {
            let s = &m["session"];
            (
                s["project"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn members_see_only_the_projects_granted_to_them(b: Backend) {
    let hub = Hub::start(b).await;
    let key = add_project(&hub, "blog", &[]).await;
    hub.db.add_user("mia", "mia-password", Role::Member);
    let mia = hub.sign_in("mia", "mia-password").await.unwrap();
    let hidden = unique_id("hidden");
    let (mut rec, _) = hub.recorder(&hidden).await;
    rec.send(&frame(1, &page(1_000, 2))).await;
    rec.recv_type("ack").await;

    // Nothing granted: an empty list, and the session is as if it did not exist.
    let (status, list, _) = hub.call("GET", "/api/sessions?all=true", &mia, None).await;
    assert_eq!(
        (status, list["sessions"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    for path in [
        format!("/api/sessions/{hidden}"),
        format!("/api/sessions/{hidden}?project=default"),
        format!("/api/sessions/{hidden}/events"),
        format!("/api/sessions/{hidden}/events?project=default"),
    ] {
        let (status, body, _) = hub.call("GET", &path, &mia, None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("session_not_found")),
            "{path}"
        );
    }
    for path in [
        format!("/ws/watch/{hidden}"),
        format!("/ws/watch/{hidden}?project=default&from=start"),
    ] {
        let (status, _) = hub.ws_as(&path, &mia).await.err().expect("refused");
        assert_eq!(status, 404, "{path}");
    }
    // Members change nothing.
    let (status, body, _) = hub
        .call("POST", "/api/projects", &mia, Some(json!({"name": "mine"})))
        .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _, _) = hub
        .call(
            "POST",
            "/api/projects/default/members",
            &mia,
            Some(json!({"username": "mia"})),
        )
        .await;
    assert_eq!(status, 403);

    // Granted blog: blog's sessions, live and stored, and the feed of blog only.
    hub.grant("blog", "mia").await;
    let (_, projects, _) = hub.call("GET", "/api/projects", &mia, None).await;
    let names: Vec<&str> = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["blog"]);
    let mut feed = hub.ws_as("/ws/sessions", &mia).await.unwrap();
    let shown = unique_id("shown");
    let mut blog = hub
        .ws_as(&format!("/ws/record/{shown}?key={key}"), &Creds::default())
        .await
        .unwrap();
    blog.recv_type("welcome").await;
    blog.send(&frame(1, &page(2_000, 3))).await;
    blog.recv_type("ack").await;
    rec.send(&frame(5, &[inc(1_100, 7)])).await;
    rec.recv_type("ack").await;
    // A session starting in the default project is announced at once, to those who see it.
    let (mut other, _) = hub.recorder(&unique_id("other")).await;
    other.send(&frame(1, &page(3_000, 1))).await;
    other.recv_type("ack").await;
    // (The admin's feed, opened now, shows that default's sessions are announced at all.)
    let mut admin_feed = hub.ws("/ws/sessions").await.unwrap();
    let later = unique_id("later");
    let (mut last, _) = hub.recorder(&later).await;
    last.send(&frame(1, &page(4_000, 1))).await;
    last.recv_type("ack").await;
    let admin_seen = feed_projects(&mut admin_feed).await;
    assert!(
        admin_seen.contains(&("default".to_owned(), later.clone())),
        "{admin_seen:?}"
    );
    let seen = feed_projects(&mut feed).await;
    assert!(
        seen.contains(&("blog".to_owned(), shown.clone())),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|(p, _)| p == "blog"),
        "only blog in the feed: {seen:?}"
    );
    let (_, list, _) = hub.call("GET", "/api/sessions", &mia, None).await;
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![shown.as_str()]);
    let (status, _, _) = hub
        .call("GET", &format!("/api/sessions/{shown}"), &mia, None)
        .await;
    assert_eq!(status, 200);
    let (status, events, _) = hub
        .call("GET", &format!("/api/sessions/{shown}/events"), &mia, None)
        .await;
    assert_eq!((status, events.as_array().map(Vec::len)), (200, Some(5)));
    let mut v = hub
        .ws_as(&format!("/ws/watch/{shown}?from=start"), &mia)
        .await
        .unwrap();
    v.events(5).await;
    let (status, _, _) = hub
        .call("GET", &format!("/api/sessions/{hidden}"), &mia, None)
        .await;
    assert_eq!(status, 404, "the default project stays hidden");

    // Revoked: hidden again.
    let (status, _, _) = hub
        .call("DELETE", "/api/projects/blog/members/mia", &hub.admin, None)
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = hub
        .call("GET", &format!("/api/sessions/{shown}"), &mia, None)
        .await;
    assert_eq!(status, 404);
    let (_, list, _) = hub.call("GET", "/api/sessions", &mia, None).await;
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(0));
}
both!(members_see_only_the_projects_granted_to_them);

async fn admins_manage_projects_origins_and_removal(b: Backend) {
    let hub = Hub::start(b).await;
    let key = add_project(&hub, "docs", &[]).await;
    let (status, body, _) = hub
        .call(
            "POST",
            "/api/projects",
            &hub.admin,
            Some(json!({"name": "docs"})),
        )
        .await;
    assert_eq!(status, 400, "the name is taken: {body}");
    let (status, body, _) = hub
        .call(
            "POST",
            "/api/projects/docs/origins",
            &hub.admin,
            Some(json!({"origin": "https://Docs.example/"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["allowed_origins"], json!(["https://docs.example"]));
    let id = unique_id("docs");
    let path = format!("/ws/record/{id}?key={key}");
    assert_eq!(
        hub.ws_as(&path, &with_origin(EVIL)).await.err().unwrap().0,
        403
    );
    let (status, body, _) = hub
        .call(
            "DELETE",
            "/api/projects/docs/origins?origin=https://docs.example",
            &hub.admin,
            None,
        )
        .await;
    assert_eq!((status, body["allowed_origins"].clone()), (200, json!([])));
    let mut rec = hub.ws_as(&path, &with_origin(EVIL)).await.unwrap();
    rec.recv_type("welcome").await;
    rec.send(&frame(1, &page(1_000, 1))).await;
    rec.recv_type("ack").await;
    // Not while it records; then the project goes with its sessions.
    let (status, body, _) = hub
        .call("DELETE", "/api/projects/docs", &hub.admin, None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("still_recording"))
    );
    rec.close().await;
    hub.db.execute(&format!(
        "UPDATE sessions SET ended_at = last_event_at WHERE id = 'docs:{id}'"
    ));
    let (status, _, _) = hub
        .call("DELETE", "/api/projects/docs", &hub.admin, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(rows_for(&hub, &id), 0);
    let (status, body) = hub.ws_as(&path, &Creds::default()).await.err().unwrap();
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_key")));
}
both!(admins_manage_projects_origins_and_removal);

fn cli(hub: &Hub, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamdom"))
        .args(["project", "--database-url", &hub.db.url])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

async fn the_project_command_manages_the_same_projects(b: Backend) {
    let hub = Hub::start(b).await;
    let (ok, out) = cli(
        &hub,
        &[
            "add",
            "cli-shop",
            "--origin",
            SHOP,
            "--key",
            "pk_cli_shop_key_1",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("streamdom.js?key=pk_cli_shop_key_1"), "{out}");
    let (ok, out) = cli(&hub, &["list"]);
    assert!(
        ok && out.contains("cli-shop\tpk_cli_shop_key_1\thttps://shop.example"),
        "{out}"
    );
    assert!(
        out.contains(&format!("default\t{TEST_KEY}\tany origin\t30 days")),
        "{out}"
    );
    // The running hub takes the new key at once.
    let id = unique_id("cli");
    let path = format!("/ws/record/{id}?key=pk_cli_shop_key_1");
    let mut rec = hub.ws_as(&path, &with_origin(SHOP)).await.unwrap();
    rec.recv_type("welcome").await;
    rec.close().await;
    assert_eq!(
        hub.ws_as(&path, &with_origin(EVIL)).await.err().unwrap().0,
        403
    );
    let (ok, out) = cli(&hub, &["allow-origin", "cli-shop", "https://evil.example"]);
    assert!(ok, "{out}");
    let path = format!("/ws/record/{}?key=pk_cli_shop_key_1", unique_id("cli"));
    let mut rec = hub.ws_as(&path, &with_origin(EVIL)).await.unwrap();
    rec.recv_type("welcome").await;
    rec.close().await;
    let (ok, _) = cli(&hub, &["add", "cli-shop"]);
    assert!(!ok, "the name is taken");
    let (ok, _) = cli(&hub, &["remove", "nope"]);
    assert!(!ok);
    let (_, projects) = hub.get("/api/projects").await;
    let names: Vec<Value> = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("cli-shop"), json!("default")]);
}
both!(the_project_command_manages_the_same_projects);

/// Brings a database to the schema before projects (the first three migrations).
fn migrate_to_before_projects(url: &str, b: Backend) {
    use diesel::Connection;
    use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    const PG: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    let mut conn = streamdom::db::DbConn::establish(url).unwrap();
    for _ in 0..3 {
        match b {
            Backend::Sqlite => conn.run_next_migration(SQLITE).unwrap(),
            Backend::Postgres => conn.run_next_migration(PG).unwrap(),
        };
    }
}

async fn an_upgraded_install_keeps_its_sessions_in_the_default_project(b: Backend) {
    let db = TestDb::new(b);
    migrate_to_before_projects(&db.url, b);
    let id = unique_id("old");
    db.batch(&format!(
        "INSERT INTO sessions (id, started_at, last_event_at, ended_at, event_count, last_seq) \
         VALUES ('{id}', 1000, 2000, 2000, 1, 1); \
         INSERT INTO event_chunks (session_id, first_seq, last_seq, first_ts, last_ts, \
         event_count, raw_len, data) VALUES ('{id}', 1, 1, 1000, 1000, 1, 2, 'x');"
    ));
    let mut cfg =
        streamdom::config::Config::with_defaults("127.0.0.1:0".parse().unwrap(), db.url.clone());
    cfg.admin_password = Some(ADMIN_PASSWORD.to_owned());
    cfg.default_key = Some(TEST_KEY.to_owned());
    let server = streamdom::server::run(cfg)
        .await
        .expect("the hub migrates and starts");
    let hub = Hub::attach(server).await;
    let (status, info) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(
        (info["id"].as_str(), info["project"].as_str()),
        (Some(id.as_str()), Some("default"))
    );
    assert_eq!(db.chunk_count(&id), 1, "its chunks follow it");
    let (_, projects) = hub.get("/api/projects").await;
    assert_eq!(
        projects["projects"][0]["key"], TEST_KEY,
        "the default project got its key at start"
    );
    // Its recorder, coming back with the key, continues it.
    let (_, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 1);
}
both!(an_upgraded_install_keeps_its_sessions_in_the_default_project);
