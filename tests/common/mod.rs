//! Shared test helpers: start the real hub in-process on a free port against SQLite or the
//! PostgreSQL named by `STREAMDOM_TEST_POSTGRES_URL`, and talk to it over real sockets.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::web::Bytes;
use awc::ws::{CloseCode, Frame, Message};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use streamdom::{config::Config, server::Server};

pub mod pg;

pub const PG_ENV: &str = "STREAMDOM_TEST_POSTGRES_URL";
/// Longest wait for anything a test expects; failing tests fail after this, passing ones don't wait.
pub const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body against both backends: `both!(name)` expects `async fn name(Backend)`.
/// The PostgreSQL half always runs in a build with PostgreSQL support, against
/// `STREAMDOM_TEST_POSTGRES_URL` or the local server, and fails when it is unreachable: a test
/// that did not run is never counted as passed. A build without the `postgres` feature has no
/// PostgreSQL half at all.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[cfg(feature = "postgres")]
            #[actix_web::test]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// Where PostgreSQL tests run: `STREAMDOM_TEST_POSTGRES_URL`, else the local server.
pub fn postgres_url() -> String {
    std::env::var(PG_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_PG.to_owned())
}

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database of its own for one test: a SQLite file in a temp dir, or a fresh PostgreSQL
/// schema (so tests run in parallel without seeing each other's sessions).
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database created for this handle alone, dropped with it.
    own_database: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => dir.path().join("hub.db").to_string_lossy().into_owned(),
            Backend::Postgres => {
                use streamdom::db::scratch;
                let base = postgres_url();
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                // Fails, not skips, when the server is unreachable.
                scratch::create_schema(&base, &schema).unwrap_or_else(|e| {
                    panic!("{e} (set {PG_ENV}, or build without the postgres feature)")
                });
                scratch::schema_url(&base, &schema)
            }
        };
        TestDb {
            url,
            _dir: dir,
            own_database: None,
        }
    }

    /// On PostgreSQL, a database of its own rather than a schema in the shared one: for tests
    /// that need `VACUUM` to free space while other tests keep transactions open (a schema
    /// shares its database's transaction horizon). SQLite: the same as `new`.
    pub fn own_database(backend: Backend) -> Self {
        if matches!(backend, Backend::Sqlite) {
            return Self::new(backend);
        }
        use streamdom::db::scratch;
        let base = postgres_url();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        scratch::create_database(&base, &name).unwrap_or_else(|e| {
            panic!("{e} (set {PG_ENV}, or build without the postgres feature)")
        });
        TestDb {
            url: scratch::database_url(&base, &name),
            _dir: tempfile::tempdir().unwrap(),
            own_database: Some(name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.own_database {
            // Best effort: a database left behind holds no test's result.
            let _ = streamdom::db::scratch::drop_database(&postgres_url(), name);
        }
    }
}

impl TestDb {
    /// The test's own temp directory (the SQLite file, the hub's spool).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Runs several SQL statements straight on the test's database (to inject faults).
    pub fn batch(&self, sql: &str) {
        use diesel::{connection::SimpleConnection, Connection};
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        conn.batch_execute(sql).unwrap();
    }

    /// The largest chunk of a session, in bytes before compression.
    pub fn largest_chunk(&self, id: &str) -> i32 {
        use diesel::{dsl::max, Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
        use streamdom::db::schema::event_chunks;
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        event_chunks::table
            .filter(event_chunks::session_id.eq(format!("default:{id}")))
            .select(max(event_chunks::raw_len))
            .first::<Option<i32>>(&mut conn)
            .unwrap()
            .unwrap_or(0)
    }

    /// Runs SQL straight on the database (to age rows, say).
    pub fn execute(&self, sql: &str) -> usize {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap()
    }

    /// Adds a user as `streamdom user add` does.
    pub fn add_user(&self, name: &str, password: &str, role: streamdom::auth::Role) {
        use diesel::Connection;
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        assert!(streamdom::auth::add_user(&mut conn, name, password, role).unwrap());
    }

    /// How many chunk rows hold a session's events, read straight from the database.
    pub fn chunk_count(&self, id: &str) -> i64 {
        use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
        use streamdom::db::schema::event_chunks;
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        event_chunks::table
            .filter(event_chunks::session_id.eq(format!("default:{id}")))
            .count()
            .get_result(&mut conn)
            .unwrap()
    }
}

/// The default project's ingest key on every test hub (`STREAMDOM_DEFAULT_KEY`); the recorder
/// helpers send it.
pub const TEST_KEY: &str = "pk_test_default_key";

/// A recorder path with the default project's key added (unless it names a key already).
pub fn keyed(path: &str) -> String {
    if path.contains("key=") {
        return path.to_owned();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}key={TEST_KEY}")
}

/// The administrator every test hub starts with (`STREAMDOM_ADMIN_PASSWORD`).
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// How a request proves who sends it; `Creds::default()` is an anonymous client.
#[derive(Clone, Debug, Default)]
pub struct Creds {
    /// The sign-in cookie's value.
    pub session: Option<String>,
    /// The CSRF token of that sign-in, sent as `X-CSRF-Token` by `call`.
    pub csrf: Option<String>,
    /// An API token, sent as `Authorization: Bearer`.
    pub bearer: Option<String>,
    /// An `Origin` header, as a browser would send.
    pub origin: Option<String>,
    /// A `User-Agent` header (sockets only), as a browser would send.
    pub user_agent: Option<String>,
}

impl Creds {
    pub fn bearer(token: &str) -> Creds {
        Creds {
            bearer: Some(token.to_owned()),
            ..Creds::default()
        }
    }

    fn apply(&self, mut req: awc::ClientRequest) -> awc::ClientRequest {
        if let Some(s) = &self.session {
            req = req.insert_header(("cookie", format!("streamdom_session={s}")));
        }
        if let Some(c) = &self.csrf {
            req = req.insert_header(("x-csrf-token", c.as_str()));
        }
        if let Some(t) = &self.bearer {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        if let Some(o) = &self.origin {
            req = req.insert_header(("origin", o.as_str()));
        }
        req
    }
}

/// An HTTP client that shows redirects instead of following them.
fn client() -> awc::Client {
    awc::Client::builder().disable_redirects().finish()
}

pub struct Hub {
    pub db: TestDb,
    pub cfg: Config,
    pub server: Option<Server>,
    pub base: String,
    /// The resume token each session's recorder was given, presented again on reconnecting,
    /// as a real recorder does.
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The administrator's sign-in, which `get`, `post` and `ws` use (tests read as a signed-in
    /// user unless they say otherwise).
    pub admin: Creds,
}

impl Hub {
    pub async fn start(backend: Backend) -> Hub {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Hub {
        Self::start_on(TestDb::new(backend), tweak).await
    }

    /// A hub on a database the test prepared.
    pub async fn start_on(db: TestDb, tweak: impl FnOnce(&mut Config)) -> Hub {
        let mut cfg = Config::with_defaults("127.0.0.1:0".parse().unwrap(), db.url.clone());
        cfg.db_pool_size = 4;
        cfg.workers = Some(2);
        cfg.admin_password = Some(ADMIN_PASSWORD.to_owned());
        cfg.default_key = Some(TEST_KEY.to_owned());
        cfg.spool_dir = Some(db.dir().join("spool"));
        tweak(&mut cfg);
        let server = streamdom::server::run(cfg.clone())
            .await
            .expect("hub starts");
        Self::signed_in(db, cfg, server).await
    }

    /// A hub the test started itself (with `admin_password` = `ADMIN_PASSWORD`), on a database
    /// the test manages.
    pub async fn attach(server: Server) -> Hub {
        let cfg = Config::with_defaults(server.addr, String::new());
        Self::signed_in(TestDb::new(Backend::Sqlite), cfg, server).await
    }

    /// A hub running in another process at `base` (started with `ADMIN_PASSWORD`).
    pub async fn remote(db: TestDb, cfg: Config, base: String) -> Hub {
        Self::handle(db, cfg, None, base).await
    }

    /// The test's handle on a running hub, signed in as the administrator.
    async fn signed_in(db: TestDb, cfg: Config, server: Server) -> Hub {
        let base = format!("127.0.0.1:{}", server.addr.port());
        Self::handle(db, cfg, Some(server), base).await
    }

    async fn handle(db: TestDb, cfg: Config, server: Option<Server>, base: String) -> Hub {
        let mut hub = Hub {
            db,
            cfg,
            server,
            base,
            tokens: Default::default(),
            admin: Creds::default(),
        };
        hub.admin = hub
            .sign_in(ADMIN, ADMIN_PASSWORD)
            .await
            .expect("the administrator signs in");
        hub
    }

    /// Grants `username` the project `project`, as the administrator does in the dashboard.
    pub async fn grant(&self, project: &str, username: &str) {
        let path = format!("/api/projects/{project}/members");
        let body = json!({ "username": username });
        let (status, body, _) = self.call("POST", &path, &self.admin, Some(body)).await;
        assert_eq!(status, 204, "granting {project} to {username}: {body}");
    }

    /// Signs in through the login form; `Err(location)` when the hub sends the form back.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Creds, String> {
        self.sign_in_from(username, password, None).await
    }

    pub async fn sign_in_from(
        &self,
        username: &str,
        password: &str,
        origin: Option<&str>,
    ) -> Result<Creds, String> {
        let mut req = client()
            .post(self.http("/login"))
            .timeout(Duration::from_secs(30));
        if let Some(o) = origin {
            req = req.insert_header(("origin", o));
        }
        let res = req
            .send_form(&[("username", username), ("password", password)])
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            303,
            "the login answers with a redirect"
        );
        let location = res
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let mut creds = Creds::default();
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            match pair.split_once('=') {
                Some(("streamdom_session", val)) if !val.is_empty() => {
                    creds.session = Some(val.to_owned())
                }
                Some(("streamdom_csrf", val)) if !val.is_empty() => {
                    creds.csrf = Some(val.to_owned())
                }
                _ => {}
            }
        }
        match creds.session {
            Some(_) => Ok(creds),
            None => Err(location),
        }
    }

    /// Any request as `creds`: status, JSON body (or Null) and headers.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        creds: &Creds,
        body: Option<Value>,
    ) -> (u16, Value, awc::http::header::HeaderMap) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let req = creds.apply(
            client()
                .request(method, self.http(path))
                .timeout(Duration::from_secs(30)),
        );
        let mut res = match body {
            Some(b) => req.send_json(&b).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let bytes = res.body().limit(256 << 20).await.unwrap();
        (
            res.status().as_u16(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            res.headers().clone(),
        )
    }

    /// Opens a WebSocket as `creds`; `Err(status, body)` when the upgrade is refused.
    pub async fn ws_as(&self, path: &str, creds: &Creds) -> Result<Ws, (u16, Value)> {
        let mut req = awc::Client::new()
            .ws(format!("ws://{}{}", self.base, path))
            .max_frame_size(64 << 20);
        if let Some(s) = &creds.session {
            req = req.header("cookie", format!("streamdom_session={s}"));
        }
        if let Some(t) = &creds.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(o) = &creds.origin {
            req = req.origin(o.as_str());
        }
        if let Some(ua) = &creds.user_agent {
            req = req.header("user-agent", ua.as_str());
        }
        match req.connect().await {
            Ok((_, framed)) => Ok(Ws {
                framed,
                acking: false,
                binary_frames: 0,
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => {
                let (status, body, _) = self.call("GET", path, creds, None).await;
                assert_eq!(status, s.as_u16());
                Err((status, body))
            }
            Err(e) => panic!("ws connect {path}: {e}"),
        }
    }

    /// Stops the hub (flushing everything accepted) and starts a new one on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut cfg = self.cfg.clone();
        cfg.bind = format!("127.0.0.1:{}", self.base.rsplit(':').next().unwrap())
            .parse()
            .unwrap();
        let server = streamdom::server::run(cfg).await.expect("hub restarts");
        self.server = Some(server);
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("clean stop");
        }
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}{}", self.base, path)
    }

    /// A GET as the signed-in administrator.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = self.call("GET", path, &self.admin, None).await;
        (status, body)
    }

    pub async fn post(&self, path: &str, body: impl Into<Bytes>) -> (u16, Value) {
        // A POST may wait up to 10 s for durability, past awc's default 5 s timeout.
        let mut res = awc::Client::new()
            .post(self.http(&keyed(path)))
            .timeout(Duration::from_secs(30))
            .insert_header(("content-type", "text/plain"))
            .send_body(body.into())
            .await
            .unwrap();
        let body = res.body().limit(256 << 20).await.unwrap();
        (
            res.status().as_u16(),
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// Opens a WebSocket as the signed-in administrator; `Err(status)` when the upgrade is
    /// refused.
    pub async fn ws(&self, path: &str) -> Result<Ws, (u16, Value)> {
        let path = match path.starts_with("/ws/record/") {
            true => keyed(path),
            false => path.to_owned(),
        };
        self.ws_as(&path, &self.admin).await
    }

    /// A recorder socket that has received its welcome; like a real recorder it presents the
    /// resume token of its previous connection to the same session.
    pub async fn recorder(&self, id: &str) -> (Ws, Value) {
        let token = self.tokens.lock().unwrap().get(id).cloned();
        let path = match token {
            Some(t) => format!("/ws/record/{id}?resume={t}"),
            None => format!("/ws/record/{id}"),
        };
        let mut ws = self.ws(&path).await.expect("recorder connects");
        let welcome = ws.recv_type("welcome").await;
        if let Some(t) = welcome["resume_token"].as_str() {
            self.tokens
                .lock()
                .unwrap()
                .insert(id.to_owned(), t.to_owned());
        }
        (ws, welcome)
    }

    /// Events stored for a session, in envelope form.
    pub async fn stored(&self, id: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/sessions/{id}/events?format=envelope"))
            .await;
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap().clone()
    }
}

pub struct Ws {
    framed: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
    /// Acknowledge every events batch, as a real viewer does (flow control).
    pub acking: bool,
    /// Compressed (binary) frames received so far; `next` inflates them like text.
    pub binary_frames: usize,
}

#[derive(Debug)]
pub enum Got {
    Json(Value),
    Closed(Option<(u16, String)>),
}

impl Ws {
    pub async fn send(&mut self, v: &Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.framed.send(Message::Text(text.into())).await.unwrap();
    }

    /// Sends unless the connection is gone (a hub killed mid-stream); false then.
    pub async fn try_send_text(&mut self, text: String) -> bool {
        self.framed.send(Message::Text(text.into())).await.is_ok()
    }

    pub async fn send_message(&mut self, msg: Message) {
        self.framed.send(msg).await.unwrap();
    }

    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.framed
            .send(Message::Binary(data.into()))
            .await
            .unwrap();
    }

    /// Closes and waits for the hub's closing frame, as a browser does: by then the hub has let
    /// go of this connection, so a reconnect right after it is not taken for a second one.
    pub async fn close(mut self) {
        let _ = self
            .framed
            .send(Message::Close(Some(CloseCode::Normal.into())))
            .await;
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(frame)) = self.framed.next().await {
                if matches!(frame, Frame::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// The next JSON message or the close; panics after `WAIT`.
    pub async fn next(&mut self) -> Got {
        self.next_within(WAIT).await
    }

    /// The next JSON message or the close; panics after `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Got {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.framed.next())
                .await
                .expect("timed out waiting for a frame");
            let text = match frame {
                Some(Ok(Frame::Binary(b))) => {
                    self.binary_frames += 1;
                    let text = streamdom::compression::inflate_frame(&b, 256 << 20).unwrap();
                    Some(Ok(Frame::Text(text.into_bytes().into())))
                }
                other => other,
            };
            match text {
                Some(Ok(Frame::Text(t))) => {
                    let v: Value = serde_json::from_slice(&t).unwrap();
                    if self.acking && v["type"] == "events" {
                        if let Some(last) = v["events"].as_array().and_then(|a| a.last()) {
                            let ack = serde_json::json!({"type": "ack", "seq": last["seq"]});
                            self.framed
                                .send(Message::Text(ack.to_string().into()))
                                .await
                                .unwrap();
                        }
                    }
                    return Got::Json(v);
                }
                Some(Ok(Frame::Close(reason))) => {
                    return Got::Closed(
                        reason.map(|r| (u16::from(r.code), r.description.unwrap_or_default())),
                    )
                }
                Some(Ok(Frame::Ping(p))) => {
                    let _ = self.framed.send(Message::Pong(p)).await;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket error: {e}"),
                None => return Got::Closed(None),
            }
        }
    }

    /// Every JSON message that arrives within `quiet` of the previous one (or of the call).
    pub async fn drain_for(&mut self, quiet: Duration) -> Vec<Value> {
        let mut got = Vec::new();
        while let Ok(frame) = tokio::time::timeout(quiet, self.framed.next()).await {
            match frame {
                Some(Ok(Frame::Text(t))) => got.push(serde_json::from_slice(&t).unwrap()),
                Some(Ok(Frame::Ping(p))) => {
                    let _ = self.framed.send(Message::Pong(p)).await;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
        got
    }

    pub async fn recv(&mut self) -> Value {
        match self.next().await {
            Got::Json(v) => v,
            Got::Closed(r) => panic!("socket closed: {r:?}"),
        }
    }

    /// Waits up to `within` for the ack of `seq`, asserting that no ack goes past it (the hub
    /// acknowledges only what it stored, and it was sent no more).
    pub async fn ack_of(&mut self, seq: u64, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let v = match self.next_within(left).await {
                Got::Json(v) => v,
                Got::Closed(r) => panic!("socket closed waiting for the ack of {seq}: {r:?}"),
            };
            if v["type"] != "ack" {
                continue;
            }
            let ack = v["durable_seq"].as_u64().unwrap();
            assert!(ack <= seq, "ack {ack} past {seq}");
            if ack == seq {
                return;
            }
        }
    }

    /// Skips messages until one of the given `type`.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == kind {
                return v;
            }
        }
    }

    /// Collects event envelopes until `n` have arrived; other messages are returned aside.
    pub async fn events(&mut self, n: usize) -> (Vec<Value>, Vec<Value>) {
        let (mut events, mut other) = (Vec::new(), Vec::new());
        while events.len() < n {
            let v = self.recv().await;
            if v["type"] == "events" {
                events.extend(v["events"].as_array().unwrap().iter().cloned());
            } else {
                other.push(v);
            }
        }
        (events, other)
    }

    /// Waits for the close and returns its code and reason.
    pub async fn closed(&mut self) -> (u16, String, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            match self.next().await {
                Got::Json(v) => before.push(v),
                Got::Closed(r) => {
                    let (code, reason) = r.unwrap_or((0, String::new()));
                    return (code, reason, before);
                }
            }
        }
    }
}

/// rrweb-shaped events: a Meta + FullSnapshot pair starts a page, incrementals follow.
pub fn meta(ts: i64, href: &str) -> Value {
    json!({"type": 4, "timestamp": ts, "data": {"href": href, "width": 1280, "height": 720}})
}

pub fn full(ts: i64) -> Value {
    json!({"type": 2, "timestamp": ts, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"left": 0, "top": 0}}})
}

pub fn inc(ts: i64, n: u64) -> Value {
    json!({"type": 3, "timestamp": ts, "data": {"source": 1, "positions": [{"x": n, "y": n, "id": 1, "timeOffset": 0}]}})
}

/// A page: Meta, FullSnapshot and `n` incrementals, timestamps from `ts` by 10 ms.
pub fn page(ts: i64, n: u64) -> Vec<Value> {
    let mut v = vec![meta(ts, "https://shop.example/"), full(ts + 1)];
    v.extend((0..n).map(|i| inc(ts + 10 * (i as i64 + 1), i)));
    v
}

/// An incremental event carrying `bytes` of payload, like a large DOM mutation.
pub fn heavy(ts: i64, bytes: usize) -> Value {
    json!({"type": 3, "timestamp": ts, "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": [{"parentId": 1, "nextId": null, "node": {"type": 3, "textContent": "x".repeat(bytes), "id": ts}}]}})
}

pub fn frame(seq: u64, events: &[Value]) -> Value {
    json!({"type": "events", "seq": seq, "events": events})
}

pub fn seqs(envelopes: &[Value]) -> Vec<u64> {
    envelopes
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Polls `check` until it returns true or `WAIT` passes.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Sessions written straight into the database, for retention's tests.
impl TestDb {
    /// A session `<project>:<id>` whose last event was `age_ms` ago, ended (or still open),
    /// holding `bytes` of random (incompressible) chunk data.
    pub fn seed_session(&self, project: &str, id: &str, age_ms: i64, ended: bool, bytes: usize) {
        use diesel::{Connection, ExpressionMethods, RunQueryDsl};
        use streamdom::db::schema::{event_chunks, sessions};
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        let key = format!("{project}:{id}");
        let at = streamdom::event::now_ms() - age_ms;
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(&key),
                sessions::project_id.eq(project),
                sessions::started_at.eq(at - 60_000),
                sessions::last_event_at.eq(at),
                sessions::ended_at.eq(ended.then_some(at)),
                sessions::stored_bytes.eq(bytes as i64),
            ))
            .execute(&mut conn)
            .unwrap();
        let mut state = uuid::Uuid::new_v4().as_u128() as u64 | 1;
        const CHUNK: usize = 256 * 1024;
        for (i, start) in (0..bytes).step_by(CHUNK).enumerate() {
            let data: Vec<u8> = (start..bytes.min(start + CHUNK))
                .map(|_| {
                    // xorshift64: bytes no compressor shrinks (PostgreSQL compresses TOAST).
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let seq = i as i64 + 1;
            diesel::insert_into(event_chunks::table)
                .values((
                    event_chunks::session_id.eq(&key),
                    event_chunks::first_seq.eq(seq),
                    event_chunks::last_seq.eq(seq),
                    event_chunks::first_ts.eq(at),
                    event_chunks::last_ts.eq(at),
                    event_chunks::event_count.eq(1),
                    event_chunks::raw_len.eq(data.len() as i32),
                    event_chunks::data.eq(&data),
                ))
                .execute(&mut conn)
                .unwrap();
        }
    }

    /// An access-log row for the session `<project>:<id>`.
    pub fn seed_access(&self, project: &str, id: &str) {
        use diesel::Connection;
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        let key = format!("{project}:{id}");
        streamdom::db::session_access::record(&mut conn, &key, "admin", "replay", 0).unwrap();
    }

    /// Session keys in the database, sorted.
    pub fn session_keys(&self) -> Vec<String> {
        use diesel::{Connection, QueryDsl, RunQueryDsl};
        use streamdom::db::schema::sessions;
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        let mut keys: Vec<String> = sessions::table
            .select(sessions::id)
            .load(&mut conn)
            .unwrap();
        keys.sort();
        keys
    }

    /// Rows of a table (`event_chunks`, `session_access`, …).
    pub fn rows(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) AS n FROM {table}"))
    }

    /// A query answering one BIGINT column named `n`.
    pub fn scalar(&self, sql: &str) -> i64 {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = streamdom::db::DbConn::establish(&self.url).unwrap();
        diesel::sql_query(sql).get_result::<N>(&mut conn).unwrap().n
    }

    /// Bytes the database takes on disk: the SQLite file once its log is copied back, or the
    /// PostgreSQL tables holding sessions (with their TOAST and indexes).
    pub fn disk_bytes(&self) -> i64 {
        match streamdom::db::is_postgres(&self.url) {
            true => self.scalar(
                "SELECT (pg_total_relation_size('event_chunks') + pg_total_relation_size('sessions') \
                 + pg_total_relation_size('session_access'))::BIGINT AS n",
            ),
            false => {
                self.batch("PRAGMA wal_checkpoint(TRUNCATE)");
                std::fs::metadata(&self.url).unwrap().len() as i64
            }
        }
    }
}

impl TestDb {
    /// Another handle on the same database (hubs of a cluster share one), with a temp
    /// directory of its own.
    pub fn same(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            _dir: tempfile::tempdir().unwrap(),
            own_database: None,
        }
    }
}

/// SQL for the numbers `0..n` on `backend`: a `FROM` item binding `i`, and an expression of
/// `i` zero-padded to 4 digits (for ids that sort as numbers).
pub fn number_series(backend: Backend, n: u32) -> (String, &'static str) {
    match backend {
        Backend::Sqlite => (
            format!(
                "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
                 SELECT i FROM n) AS n",
                n - 1
            ),
            "printf('%04d', i)",
        ),
        Backend::Postgres => (
            format!("generate_series(0, {}) AS n(i)", n - 1),
            "lpad(i::text, 4, '0')",
        ),
    }
}

/// The ids of a `GET /api/sessions` answer, in order.
pub fn session_ids(body: &Value) -> Vec<String> {
    body["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}
