//! The operations endpoints against the real hub: liveness, readiness (which asks the
//! database, within a bound, without blocking anything else), on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use diesel::{connection::SimpleConnection, Connection};
use serde_json::json;

fn sql(db: &TestDb, statement: &str) {
    let mut conn = streamdom::db::DbConn::establish(&db.url).unwrap();
    conn.batch_execute(statement).unwrap();
}

async fn live_and_ready_answer_ok_and_healthz_is_readiness(backend: Backend) {
    let hub = Hub::start(backend).await;
    assert_eq!(hub.get("/livez").await, (200, json!({"status": "ok"})));
    for path in ["/readyz", "/healthz"] {
        let (status, body) = hub.get(path).await;
        assert_eq!((status, &body["status"]), (200, &json!("ok")), "{body}");
        assert_eq!(body["spool"]["records"], 0, "{body}");
        assert_eq!(body["spool"]["accepting"], true, "{body}");
    }

    // A database that no longer has the hub's tables cannot serve it: unready, with a reason;
    // alive all the same. Ready again once the table is back.
    sql(&hub.db, "ALTER TABLE sessions RENAME TO sessions_away");
    for path in ["/readyz", "/healthz"] {
        let (status, body) = hub.get(path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["status"], "unavailable");
        assert!(
            body["reason"].as_str().unwrap().starts_with("database"),
            "{body}"
        );
    }
    assert_eq!(hub.get("/livez").await.0, 200);
    sql(&hub.db, "ALTER TABLE sessions_away RENAME TO sessions");
    assert_eq!(hub.get("/readyz").await.0, 200);
}
both!(live_and_ready_answer_ok_and_healthz_is_readiness);

/// A TCP relay between the hub and PostgreSQL that can stop passing bytes, as a database host
/// that drops off the network does (connections stay open; nothing answers).
#[cfg(feature = "postgres")]
mod blackhole {
    use std::sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    };
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::{TcpListener, TcpStream},
    };

    pub struct Relay {
        pub port: u16,
        frozen: Arc<AtomicBool>,
    }

    impl Relay {
        pub fn start(upstream: String) -> Relay {
            let frozen = Arc::new(AtomicBool::new(false));
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            std_listener.set_nonblocking(true).unwrap();
            let port = std_listener.local_addr().unwrap().port();
            let f = frozen.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).unwrap();
                    while let Ok((client, _)) = listener.accept().await {
                        let Ok(server) = TcpStream::connect(&upstream).await else {
                            continue;
                        };
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::spawn(pipe(cr, sw, f.clone()));
                        tokio::spawn(pipe(sr, cw, f.clone()));
                    }
                });
            });
            Relay { port, frozen }
        }

        pub fn freeze(&self, on: bool) {
            self.frozen.store(on, Ordering::SeqCst);
        }
    }

    /// A failing test must not leave the hub's blocking threads stuck behind the relay.
    impl Drop for Relay {
        fn drop(&mut self) {
            self.freeze(false);
        }
    }

    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        frozen: Arc<AtomicBool>,
    ) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            while frozen.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(feature = "postgres")]
#[actix_web::test]
async fn readiness_gives_up_on_a_silent_database_in_bounded_time_and_liveness_stays_fast() {
    let base = postgres_url();
    let upstream = base
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let relay = blackhole::Relay::start(upstream.clone());
    let db = TestDb::new(Backend::Postgres);
    let url = db
        .url
        .replace(&upstream, &format!("127.0.0.1:{}", relay.port));
    let hub = Hub::start_with(Backend::Sqlite, |c| {
        c.database_url = Some(url);
        c.workers = Some(1);
    })
    .await;
    assert_eq!(hub.get("/readyz").await.0, 200);

    relay.freeze(true);
    let started = Instant::now();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(5))
        .finish();
    let ready = client.get(hub.http("/readyz")).send();
    let checks = async {
        // While readiness waits on the database, the same worker still answers at once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t = Instant::now();
        assert_eq!(hub.get("/livez").await.0, 200);
        let livez = t.elapsed();
        // And a second probe does not queue behind the stuck one.
        let t = Instant::now();
        let (status, body) = hub.get("/readyz").await;
        (livez, status, body, t.elapsed())
    };
    let (res, (livez, second, second_body, second_took)) = tokio::join!(ready, checks);
    let mut res = res.unwrap();
    let took = started.elapsed();
    let body: serde_json::Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    // Out of reach, not refusing: ready all the same while the spool takes the events.
    assert_eq!(res.status().as_u16(), 200, "{body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(
        body["reason"],
        "database: no answer within 2 s; events go to the spool"
    );
    assert!(took < Duration::from_secs(4), "readyz took {took:?}");
    assert!(livez < Duration::from_millis(500), "livez took {livez:?}");
    assert_eq!(second, 200, "{second_body}");
    assert_eq!(second_body["status"], "degraded");
    assert!(second_took < Duration::from_millis(500), "{second_took:?}");

    relay.freeze(false);
    eventually("ready again once the database answers", || async {
        hub.get("/readyz").await.1["status"] == "ok"
    })
    .await;
    drop(db);
}

/// Sends one raw request and returns everything the hub sent back, up to its close.
async fn raw(hub: &Hub, method: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(&hub.base).await.unwrap();
    // As the signed-in administrator: the dashboard and the API are not open to anyone.
    let cookie = hub.admin.session.as_deref().unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: hub\r\nCookie: streamdom_session={cookie}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut got))
        .await
        .expect("the hub closes after answering")
        .unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn head_is_answered_wherever_get_is_without_a_body(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("head");
    let (rec, _) = hub.recorder(&id).await;
    let mut rec = rec;
    rec.send(&frame(1, &page(1_000, 3))).await;
    rec.recv_type("ack").await;
    let paths = [
        "/".to_owned(),
        format!("/sessions/{id}"),
        "/streamdom.js".to_owned(),
        "/streamdom.mjs".to_owned(),
        "/assets/style.css".to_owned(),
        "/assets/dashboard.js".to_owned(),
        "/api/sessions".to_owned(),
        format!("/api/sessions/{id}"),
        format!("/api/sessions/{id}/events"),
        "/api/sessions/unknown-session".to_owned(),
        "/assets/missing.css".to_owned(),
        "/no/such/page".to_owned(),
        "/livez".to_owned(),
        "/readyz".to_owned(),
    ];
    for path in &paths {
        let get = raw(&hub, "GET", path).await;
        let head = raw(&hub, "HEAD", path).await;
        let status = |r: &str| r.lines().next().unwrap_or_default().to_owned();
        assert_eq!(status(&head), status(&get), "HEAD {path}");
        assert_eq!(
            header(&head, "content-type"),
            header(&get, "content-type"),
            "HEAD {path}"
        );
        let (get_head, get_body) = get.split_once("\r\n\r\n").unwrap();
        assert!(!get_body.is_empty(), "GET {path} has a body");
        let (_, head_body) = head.split_once("\r\n\r\n").unwrap();
        assert_eq!(head_body, "", "HEAD {path} sent a body");
        // A sized body announces its length, as GET does; a streamed one has none to announce.
        if let Some(len) = header(get_head, "content-length") {
            assert_eq!(header(&head, "content-length"), Some(len), "HEAD {path}");
        }
    }
    rec.close().await;
}
both!(head_is_answered_wherever_get_is_without_a_body);
