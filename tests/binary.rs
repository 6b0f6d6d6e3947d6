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

/// The shared test client (`common::Hub`'s requests and sockets), pointed at a child process
/// started with `ADMIN_PASSWORD` and signed in as its administrator.
async fn client(hub: &HubProcess, db: TestDb) -> Hub {
    let cfg = Config::with_defaults(hub.base.parse().unwrap(), db.url.clone());
    Hub::remote(db, cfg, hub.base.clone()).await
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
        &[
            ("STREAMDOM_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("STREAMDOM_DEFAULT_KEY", TEST_KEY),
        ],
    );
    let hub = client(&proc, db).await;
    let m = metrics(&hub).await;
    for name in [
        "streamdom_sessions_active",
        "streamdom_viewers_connected",
        "streamdom_events_in_total",
        "streamdom_frames_out_total",
        "streamdom_durable_lag_events",
        "streamdom_memory_budget_used_bytes",
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
    assert!(
        m["streamdom_memory_budget_used_bytes"] > 0.0,
        "events held: {m:?}"
    );
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
            && m["streamdom_memory_budget_used_bytes"] == 0.0
    })
    .await;
    assert!(proc.stop().success());
}
both!(metrics_count_sessions_viewers_events_lag_refusals_and_errors);

fn json_line(line: &str) -> serde_json::Map<String, serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    v.as_object().unwrap().clone()
}

#[actix_web::test]
async fn a_dotenv_file_configures_the_hub_and_the_real_environment_wins() {
    let (_dir, path) = workdir();
    std::fs::write(
        path.join(".env"),
        "# settings for this hub\nSTREAMDOM_LOG_FORMAT=json\nDATABASE_URL=from-dotenv.db\n",
    )
    .unwrap();
    let hub = HubProcess::start(&path, &[], &[]);
    assert!(
        path.join("from-dotenv.db").exists(),
        "DATABASE_URL from .env"
    );
    awc::Client::new()
        .get(hub.url("/api/sessions"))
        .send()
        .await
        .unwrap();
    hub.log.wait_for("GET /api/sessions", WAIT).unwrap();
    assert!(hub.stop().success());

    // Every line is a JSON object with exactly ts, level, target and message.
    let (_dir2, path2) = workdir();
    std::fs::copy(path.join(".env"), path2.join(".env")).unwrap();
    let hub = HubProcess::start(&path2, &[], &[]);
    let log = hub.log.clone();
    assert!(hub.stop().success());
    let lines = log.lines();
    assert!(lines.len() >= 3, "{lines:#?}");
    for line in &lines {
        let obj = json_line(line);
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["level", "message", "target", "ts"], "{line}");
        chrono::DateTime::parse_from_rfc3339(obj["ts"].as_str().unwrap()).unwrap();
    }
    assert!(lines.iter().any(|l| json_line(l)["message"]
        .as_str()
        .unwrap()
        .starts_with("listening on http://")));
    assert!(lines.iter().any(|l| l.contains("read settings from")));

    // A variable set in the environment is not overridden by .env.
    let (_dir3, path3) = workdir();
    std::fs::copy(path.join(".env"), path3.join(".env")).unwrap();
    let hub = HubProcess::start(&path3, &[], &[("STREAMDOM_LOG_FORMAT", "text")]);
    let line = hub.log.wait_for("listening on", WAIT).unwrap();
    assert!(line.starts_with('[') && line.contains("INFO"), "{line}");
    assert!(hub.stop().success());
}

#[test]
fn a_malformed_dotenv_file_stops_the_hub_with_one_clear_line() {
    let (_dir, path) = workdir();
    std::fs::write(path.join(".env"), "STREAMDOM_BIND='unterminated\n").unwrap();
    let (mut child, log) = spawn(command(&path, &["serve"], &[]));
    let status = wait(&mut child, WAIT).expect("exits");
    assert!(!status.success());
    std::thread::sleep(std::time::Duration::from_millis(100));
    let lines = log.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("cannot read .env: the line of \"STREAMDOM_BIND\" is malformed"),
        "{lines:#?}"
    );
    assert!(!lines[0].contains("unterminated"), "no values in logs");
}

/// A port on which nothing listens (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_port_in_use_is_one_clear_line_and_an_exit() {
    let (_dir, path) = workdir();
    let first = HubProcess::start(&path, &[], &[]);
    let (_dir2, path2) = workdir();
    let (mut second, log) = spawn(command(&path2, &["serve", "--bind", &first.base], &[]));
    let status = wait(&mut second, WAIT).expect("the second hub exits");
    assert!(!status.success());
    std::thread::sleep(std::time::Duration::from_millis(100));
    let lines = log.lines();
    assert_eq!(lines.len(), 1, "one line, no panic: {lines:#?}");
    assert!(
        lines[0].contains(&format!("cannot listen on {}", first.base))
            && lines[0].contains("in use")
            && lines[0].contains("--bind"),
        "{lines:#?}"
    );
    assert!(first.stop().success(), "the first hub is untouched");
}

#[test]
fn an_unreachable_database_is_waited_for_then_named_in_one_clear_line() {
    let (_dir, path) = workdir();
    let url = format!("postgres://app:s3cret@127.0.0.1:{}/hub", closed_port());
    let started = std::time::Instant::now();
    let (mut child, log) = spawn(command(
        &path,
        &["serve", "--bind", "127.0.0.1:0"],
        &[
            ("DATABASE_URL", &url),
            ("STREAMDOM_DB_CONNECT_TIMEOUT_SECS", "3"),
        ],
    ));
    let status = wait(&mut child, WAIT).expect("gives up within its limit");
    assert!(!status.success());
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_secs(2), "{took:?}");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let lines = log.lines();
    let shown = url.replace(":s3cret@", ":***@");
    let waiting: Vec<_> = lines
        .iter()
        .filter(|l| l.contains(&format!("waiting for the database at {shown}: ")))
        .collect();
    assert!(waiting.len() >= 2, "a line per attempt: {lines:#?}");
    assert!(waiting[0].contains("s more"), "{lines:#?}");
    let last = lines.last().unwrap();
    assert!(
        last.contains(&format!("cannot reach the database at {shown} within 3 s"))
            && last.contains("refused"),
        "the cause, from libpq: {lines:#?}"
    );
    assert!(lines.iter().all(|l| !l.contains("s3cret")), "{lines:#?}");
    assert!(lines.iter().all(|l| !l.contains("panicked")), "{lines:#?}");
}

/// Passes connections on `port` to the local PostgreSQL, from when it is started.
fn forward(port: u16, to: String) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(server) = std::net::TcpStream::connect(&to) else {
                continue;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c, mut s) = (client, server);
            std::thread::spawn(move || std::io::copy(&mut c, &mut s));
            std::thread::spawn(move || std::io::copy(&mut s2, &mut c2));
        }
    });
}

#[cfg(feature = "postgres")]
#[actix_web::test]
async fn a_database_that_comes_up_during_the_wait_is_used() {
    let db = TestDb::new(Backend::Postgres);
    let upstream = postgres_url()
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let port = closed_port();
    let url = db.url.replace(&upstream, &format!("127.0.0.1:{port}"));
    let (_dir, path) = workdir();
    let (mut child, log) = spawn(command(
        &path,
        &["serve", "--bind", "127.0.0.1:0", "--database-url", &url],
        &[],
    ));
    log.wait_for("waiting for the database", WAIT)
        .unwrap_or_else(|| panic!("{:#?}", log.lines()));
    forward(port, upstream);
    let line = log.wait_for("listening on", WAIT);
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.is_some(), "{:#?}", log.lines());
}
