//! Several hubs as one (`--nats-url`): three real `streamdom` processes on free ports sharing
//! one PostgreSQL database (a fresh schema per test) and the NATS with JetStream at
//! `STREAMDOM_TEST_NATS_URL` (default nats://127.0.0.1:4222). Every test fails, never skips,
//! when NATS or PostgreSQL is unreachable. A cluster needs a database server all its hubs
//! reach, so these scenarios run on PostgreSQL; the ownership queries also run on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod process;

use std::{
    path::PathBuf,
    process::{Child, Command},
    time::Duration,
};

use common::*;
use process::*;
use serde_json::{json, Value};
use streamdom::{config::Config, db::owners, event::now_ms};

pub const NATS_ENV: &str = "STREAMDOM_TEST_NATS_URL";

fn nats_url() -> String {
    std::env::var(NATS_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned())
}

/// Fails (never skips) when nothing answers at the NATS URL.
fn require_nats(url: &str) {
    let addr = url.trim_start_matches("nats://");
    let reached = std::net::TcpStream::connect_timeout(
        &addr
            .parse()
            .unwrap_or_else(|e| panic!("{NATS_ENV}={url}: {e}")),
        Duration::from_secs(2),
    );
    assert!(
        reached.is_ok(),
        "NATS is unreachable at {url} (set {NATS_ENV}, or start `nats-server -js`): {reached:?}"
    );
}

/// Seconds a dead hub's sessions stay its own: short, so that a move is quick to test.
const LEASE_SECS: &str = "3";

/// Hubs of one cluster: their processes and a signed-in client for each.
struct Cluster {
    procs: Vec<Option<HubProcess>>,
    hubs: Vec<Hub>,
    _dirs: Vec<tempfile::TempDir>,
    nats: String,
    prefix: String,
}

/// Each test's stream is small and removed when the test ends, passed or not: JetStream
/// reserves a stream's `max_bytes` on the server, so streams left behind by earlier runs
/// would one day refuse new ones ("insufficient storage resources").
const TEST_STREAM_BYTES: &str = "16777216";

impl Drop for Cluster {
    fn drop(&mut self) {
        for proc in &mut self.procs {
            proc.take();
        }
        let (url, stream) = (
            self.nats.clone(),
            streamdom::cluster::subject::stream_name(&self.prefix),
        );
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cleanup");
            rt.block_on(async {
                let connect = async_nats::connect(url.as_str());
                let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(5), connect).await
                else {
                    return; // NATS is down (a test stopped it): nothing to remove from it.
                };
                let js = async_nats::jetstream::new(client);
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), js.delete_stream(&stream)).await;
            });
        });
        let _ = done.join();
    }
}

impl Cluster {
    async fn start(n: usize, nats: &str) -> Cluster {
        Self::start_with(n, nats, &[]).await
    }

    /// With more environment for every hub.
    async fn start_with(n: usize, nats: &str, env: &[(&str, &str)]) -> Cluster {
        Self::start_each(n, nats, |_| env.to_vec()).await
    }

    /// With more environment for hub `i` (from 0).
    async fn start_each<'a>(
        n: usize,
        nats: &str,
        env: impl Fn(usize) -> Vec<(&'a str, &'a str)>,
    ) -> Cluster {
        require_nats(nats);
        let db = TestDb::new(Backend::Postgres);
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let (mut procs, mut hubs, mut dirs) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let (dir, path) = workdir();
            let mut all = vec![
                ("STREAMDOM_ADMIN_PASSWORD", ADMIN_PASSWORD),
                ("STREAMDOM_DEFAULT_KEY", TEST_KEY),
                ("STREAMDOM_NATS_URL", nats),
                ("STREAMDOM_NATS_PREFIX", &prefix),
                ("STREAMDOM_CLUSTER_LEASE_SECS", LEASE_SECS),
                ("STREAMDOM_NATS_MAX_BYTES", TEST_STREAM_BYTES),
                ("RUST_LOG", "info"),
            ];
            all.extend(env(i));
            let proc = HubProcess::start(&path, &["--database-url", &db.url], &all);
            let cfg = Config::with_defaults(proc.base.parse().unwrap(), db.url.clone());
            hubs.push(Hub::remote(db.same(), cfg, proc.base.clone()).await);
            procs.push(Some(proc));
            dirs.push(dir);
        }
        Cluster {
            procs,
            hubs,
            _dirs: dirs,
            nats: nats.to_owned(),
            prefix,
        }
    }
}

/// A recorder as the real one behaves: it numbers its events, keeps every one until it is
/// acknowledged, and on reconnecting (to any hub) sends again what the welcome says is missing.
struct Recorder {
    id: String,
    token: Option<String>,
    sent: Vec<Value>,
    ws: Option<Ws>,
}

impl Recorder {
    fn new(id: &str) -> Recorder {
        Recorder {
            id: id.to_owned(),
            token: None,
            sent: Vec::new(),
            ws: None,
        }
    }

    /// Connects to `hub` (retrying while the session is still another hub's) and sends again
    /// everything after the welcome's `received_seq`.
    async fn connect(&mut self, hub: &Hub) -> u64 {
        let path = match &self.token {
            Some(t) => format!("/ws/record/{}?resume={t}", self.id),
            None => format!("/ws/record/{}", self.id),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let mut ws = hub.ws(&path).await.expect("recorder connects");
            match ws.next().await {
                Got::Json(w) if w["type"] == "welcome" => {
                    self.token = w["resume_token"].as_str().map(str::to_owned);
                    let received = w["received_seq"].as_u64().unwrap();
                    let missing: Vec<Value> = self.sent[received as usize..].to_vec();
                    if !missing.is_empty() {
                        ws.send(&frame(received + 1, &missing)).await;
                    }
                    self.ws = Some(ws);
                    return received;
                }
                other => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "the recorder was never welcomed: {other:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    async fn send(&mut self, events: &[Value]) {
        let seq = self.sent.len() as u64 + 1;
        self.sent.extend_from_slice(events);
        let ws = self.ws.as_mut().expect("connected");
        // A hub that died may not take it: it is sent again on the next connection.
        let _ = ws.try_send_text(frame(seq, events).to_string()).await;
    }
}

/// A viewer on `hub` from `from`, past its `session` message; returns it with its `start_seq`.
async fn watch(hub: &Hub, id: &str, from: &str) -> (Ws, u64) {
    let mut v = hub
        .ws(&format!("/ws/watch/{id}?from={from}"))
        .await
        .unwrap_or_else(|e| panic!("viewer refused: {e:?}"));
    let hello = v.recv_type("session").await;
    (v, hello["start_seq"].as_u64().unwrap())
}

/// Stored seqs of a session, straight from the database's chunk rows: (first, last) of each.
fn stored_ranges(db_url: &str, id: &str) -> Vec<(i64, i64)> {
    use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
    use streamdom::db::schema::event_chunks;
    let mut conn = streamdom::db::DbConn::establish(db_url).unwrap();
    event_chunks::table
        .filter(event_chunks::session_id.eq(format!("default:{id}")))
        .order(event_chunks::first_seq)
        .select((event_chunks::first_seq, event_chunks::last_seq))
        .load(&mut conn)
        .unwrap()
}

/// Waits until the database holds events 1..=n of a session (a hub's events API would also
/// answer from its memory).
async fn wait_stored(hub: &Hub, id: &str, n: u64) {
    eventually(&format!("{n} events of {id} stored"), || async {
        let ranges = stored_ranges(&hub.db.url, id);
        ranges.last().is_some_and(|r| r.1 as u64 >= n)
    })
    .await;
}

async fn ownership_goes_to_one_hub_at_a_time(backend: Backend) {
    use diesel::Connection;
    let db = TestDb::new(backend);
    // The hub's start runs the migrations.
    let hub = Hub::start_with(backend, |c| c.database_url = Some(db.url.clone())).await;
    drop(hub);
    let mut c = streamdom::db::DbConn::establish(&db.url).unwrap();
    let (id, t) = ("default:s1", 1_000_000);
    let claim = |owner: &str, got: owners::Claim| match got {
        owners::Claim::Acquired(epoch) => owners::Fence {
            owner: owner.into(),
            epoch,
        },
        other => panic!("{owner} did not get it: {other:?}"),
    };
    let a = claim("a", owners::acquire(&mut c, id, "a", t, t + 3000).unwrap());
    assert_eq!(
        owners::acquire(&mut c, id, "b", t + 10, t + 3010).unwrap(),
        owners::Claim::HeldBy("a".into())
    );
    assert!(owners::renew(&mut c, id, &a, t + 6000).unwrap());
    let not_b = owners::Fence {
        owner: "b".into(),
        epoch: a.epoch,
    };
    assert!(!owners::renew(&mut c, id, &not_b, t + 6000).unwrap());
    // Still a's at 5 s: renewed until 6 s.
    assert_eq!(
        owners::acquire(&mut c, id, "b", t + 5000, t + 8000).unwrap(),
        owners::Claim::HeldBy("a".into())
    );
    assert_eq!(owners::hold(&mut c, &[(id, &a)]).unwrap().len(), 1);
    // Past its lease, b takes it; a can no longer renew, write, and its release changes nothing.
    let b = claim(
        "b",
        owners::acquire(&mut c, id, "b", t + 6001, t + 9000).unwrap(),
    );
    assert!(!owners::renew(&mut c, id, &a, t + 12000).unwrap());
    assert!(owners::hold(&mut c, &[(id, &a)]).unwrap().is_empty());
    owners::release(&mut c, id, &a).unwrap();
    assert_eq!(
        owners::acquire(&mut c, id, "a", t + 6002, t + 9000).unwrap(),
        owners::Claim::HeldBy("b".into())
    );
    assert_eq!(
        owners::hold(&mut c, &[(id, &b), ("default:other", &b)]).unwrap(),
        [id.to_owned()].into_iter().collect()
    );
    // A release lets the next hub in at once; a new claim of the same hub is a new epoch, so
    // what its earlier claim had queued is not written either.
    owners::release(&mut c, id, &b).unwrap();
    let b2 = claim(
        "b",
        owners::acquire(&mut c, id, "b", t + 6003, t + 9000).unwrap(),
    );
    assert_ne!(b2.epoch, b.epoch);
    assert!(owners::hold(&mut c, &[(id, &b)]).unwrap().is_empty());
    assert_eq!(
        owners::leased(&mut c, t + 6004).unwrap(),
        vec![id.to_owned()]
    );
}
both!(ownership_goes_to_one_hub_at_a_time);

#[actix_web::test]
async fn viewers_on_other_hubs_receive_every_event_in_order() {
    let cluster = Cluster::start(3, &nats_url()).await;
    let [h1, h2, h3] = [&cluster.hubs[0], &cluster.hubs[1], &cluster.hubs[2]];
    let id = unique_id("fan");
    let mut rec = Recorder::new(&id);
    rec.connect(h1).await;
    let events = page(1_000, 198);
    rec.send(&events[..10]).await;
    wait_stored(h1, &id, 10).await;
    let (mut v2, s2) = watch(h2, &id, "start").await;
    let (mut v3, s3) = watch(h3, &id, "live").await;
    assert_eq!((s2, s3), (1, 1));
    for chunk in events[10..].chunks(7) {
        rec.send(chunk).await;
    }
    for v in [&mut v2, &mut v3] {
        let (got, _) = v.events(200).await;
        assert_eq!(seqs(&got), (1..=200).collect::<Vec<_>>());
        for (env, sent) in got.iter().zip(&events) {
            assert_eq!(&env["event"], sent);
        }
    }
}

#[actix_web::test]
async fn late_viewer_on_another_hub_starts_at_the_latest_snapshot() {
    let cluster = Cluster::start(3, &nats_url()).await;
    let (h1, h3) = (&cluster.hubs[0], &cluster.hubs[2]);
    let id = unique_id("late");
    let mut rec = Recorder::new(&id);
    rec.connect(h1).await;
    rec.send(&page(1_000, 10)).await; // seqs 1..=12
    rec.send(&page(5_000, 5)).await; // a second page: Meta at 13, up to 19
    wait_stored(h1, &id, 19).await;
    // Hub 1 is frozen: whatever hub 3 serves, it does not ask hub 1 for it.
    let pid = cluster.procs[0].as_ref().unwrap().pid().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let (mut v, start) = watch(h3, &id, "live").await;
    assert_eq!(start, 13);
    let (got, _) = v.events(7).await;
    assert_eq!(seqs(&got), (13..=19).collect::<Vec<_>>());
    assert_eq!(got[0]["event"]["type"], 4);
    v.recv_type("live").await;
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    rec.send(&[inc(6_000, 1)]).await;
    let (live, _) = v.events(1).await;
    assert_eq!(seqs(&live), vec![20]);
}

#[actix_web::test]
async fn recorder_moves_to_another_hub_after_a_kill_with_nothing_lost_or_duplicated() {
    let mut cluster = Cluster::start(3, &nats_url()).await;
    let id = unique_id("move");
    let mut rec = Recorder::new(&id);
    rec.connect(&cluster.hubs[0]).await;
    let events = page(1_000, 298);
    rec.send(&events[..20]).await;
    wait_stored(&cluster.hubs[0], &id, 20).await;
    // The PM watches on hub 3 through the move.
    let (mut pm, _) = watch(&cluster.hubs[2], &id, "start").await;
    for chunk in events[20..150].chunks(10) {
        rec.send(chunk).await;
    }
    // Hub 1 dies mid-stream, some events stored, others only sent (kept by the recorder).
    cluster.procs[0].take().unwrap().kill();
    let received = rec.connect(&cluster.hubs[1]).await;
    assert!((20..=150).contains(&received), "{received}");
    for chunk in events[150..].chunks(10) {
        rec.send(chunk).await;
    }
    let n = events.len();
    wait_stored(&cluster.hubs[1], &id, n as u64).await;
    let stored = cluster.hubs[2].stored(&id).await;
    assert_eq!(seqs(&stored), (1..=n as u64).collect::<Vec<_>>());
    // Each seq is in exactly one chunk row: no gap, no overlap.
    let mut next = 1;
    for (first, last) in stored_ranges(&cluster.hubs[1].db.url, &id) {
        assert_eq!(first, next, "chunk rows from {next}: a gap or a duplicate");
        next = last + 1;
    }
    assert_eq!(next, n as i64 + 1);
    // The PM saw every event once, in order, on the same socket.
    let (got, _) = pm.events(n).await;
    assert_eq!(seqs(&got), (1..=n as u64).collect::<Vec<_>>());
}

#[actix_web::test]
async fn a_recorder_moving_between_live_hubs_is_handed_over_without_duplicates() {
    // A slow writer: when the recorder leaves hub 1, most of what it took is not stored yet.
    // Without the hand-over, hub 2 would welcome the recorder from the stale stored seq and
    // both hubs would write the same events.
    let cluster =
        Cluster::start_with(2, &nats_url(), &[("STREAMDOM_FLUSH_INTERVAL_MS", "1500")]).await;
    let id = unique_id("handover");
    let mut rec = Recorder::new(&id);
    rec.connect(&cluster.hubs[0]).await;
    let events = page(1_000, 118);
    rec.send(&events[..60]).await;
    wait_stored(&cluster.hubs[0], &id, 60).await;
    rec.send(&events[60..100]).await;
    // The recorder leaves hub 1 (its events 61..=100 still pending there) for hub 2.
    rec.ws.take().unwrap().close().await;
    let received = rec.connect(&cluster.hubs[1]).await;
    assert_eq!(received, 100, "hub 2 continues where hub 1 stored up to");
    rec.send(&events[100..]).await;
    let n = events.len() as u64;
    wait_stored(&cluster.hubs[1], &id, n).await;
    // Both hubs' writers have flushed by now: nothing more is coming.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut next = 1;
    for (first, last) in stored_ranges(&cluster.hubs[1].db.url, &id) {
        assert_eq!(first, next, "chunk rows from {next}: a gap or a duplicate");
        next = last + 1;
    }
    assert_eq!(next as u64, n + 1);
}

/// A NATS server of the test's own, to stop and start again; its JetStream store is kept.
struct PrivateNats {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateNats {
    fn start() -> PrivateNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = PrivateNats {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        nats.restart();
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn restart(&mut self) {
        self.stop();
        let store: PathBuf = self.dir.path().join("js");
        let child = Command::new("/usr/sbin/nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("/usr/sbin/nats-server runs");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
    }
}

#[actix_web::test]
async fn live_viewing_resumes_after_nats_restarts() {
    let mut nats = PrivateNats::start();
    let cluster = Cluster::start(2, &nats.url()).await;
    let (h1, h2) = (&cluster.hubs[0], &cluster.hubs[1]);
    let id = unique_id("natsdown");
    let mut rec = Recorder::new(&id);
    rec.connect(h1).await;
    rec.send(&page(1_000, 8)).await; // 1..=10
    wait_stored(h1, &id, 10).await;
    let (mut local, _) = watch(h1, &id, "live").await;
    let (mut remote, _) = watch(h2, &id, "live").await;
    local.events(10).await;
    remote.events(10).await;

    nats.stop();
    // Local viewers keep working while the bus is away.
    rec.send(&[inc(2_000, 1), inc(2_010, 2)]).await;
    let (got, _) = local.events(2).await;
    assert_eq!(seqs(&got), vec![11, 12]);
    // The remote viewer is told why it lost the session.
    let (code, reason, _) = remote.closed().await;
    assert_eq!((code, reason.as_str()), (4503, "bus_unavailable"));

    nats.restart();
    // It reconnects as the watch page does, until the session is served again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut remote = loop {
        let mut v = h2.ws(&format!("/ws/watch/{id}?from=live")).await.unwrap();
        if let Got::Json(hello) = v.next().await {
            if hello["type"] == "session" {
                break v;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "never served again");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    rec.send(&[inc(3_000, 3)]).await;
    // From the latest snapshot (seq 1) to the new event, every event once, in order.
    let (got, _) = remote.events(13).await;
    assert_eq!(seqs(&got), (1..=13).collect::<Vec<_>>());
    let (got, _) = local.events(1).await;
    assert_eq!(seqs(&got), vec![13]);
}

#[actix_web::test]
async fn the_sessions_list_of_any_hub_shows_sessions_recorded_on_all() {
    let cluster = Cluster::start(3, &nats_url()).await;
    // Hub 2's dashboard watches the list while hub 1 records.
    let mut feed = cluster.hubs[1].ws("/ws/sessions").await.unwrap();
    let mut ids = Vec::new();
    let mut recs = Vec::new();
    for hub in &cluster.hubs {
        let id = unique_id("list");
        let mut rec = Recorder::new(&id);
        rec.connect(hub).await;
        rec.send(&page(1_000, 3)).await;
        ids.push(id);
        recs.push(rec);
    }
    // A change of a session recorded on hub 1 reaches hub 2's dashboard.
    loop {
        let v = feed.recv().await;
        if v["type"] == "session" && v["session"]["id"] == ids[0].as_str() {
            break;
        }
    }
    for hub in &cluster.hubs {
        eventually("every hub lists every session", || async {
            let (status, body) = hub.get("/api/sessions").await;
            let listed: Vec<&str> = body["sessions"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s["id"].as_str()).collect())
                .unwrap_or_default();
            status == 200 && ids.iter().all(|id| listed.contains(&id.as_str()))
        })
        .await;
    }
}

/// Sends `sig` (`-STOP`, `-CONT`) to a hub.
fn signal(proc: &HubProcess, sig: &str) {
    let pid = proc.pid().to_string();
    assert!(Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap()
        .success());
}

/// Each stored seq in exactly one chunk row, from 1 to `n`: no gap, no overlap.
fn assert_stored_once(db_url: &str, id: &str, n: u64) {
    let mut next = 1;
    for (first, last) in stored_ranges(db_url, id) {
        assert_eq!(first, next, "chunk rows from {next}: a gap or a duplicate");
        next = last + 1;
    }
    assert_eq!(next as u64, n + 1);
}

#[actix_web::test]
async fn a_hub_paused_past_its_lease_writes_nothing_once_another_took_the_session() {
    // A slow writer: what hub 1 took in before it froze is still queued in its writer.
    let cluster =
        Cluster::start_with(2, &nats_url(), &[("STREAMDOM_FLUSH_INTERVAL_MS", "3000")]).await;
    let h1 = cluster.procs[0].as_ref().unwrap();
    let id = unique_id("fence");
    let mut rec = Recorder::new(&id);
    rec.connect(&cluster.hubs[0]).await;
    let events = page(1_000, 118);
    rec.send(&events[..60]).await;
    wait_stored(&cluster.hubs[0], &id, 60).await;
    // Seen live on hub 1 (taken in), not stored yet: the next flush is seconds away.
    let (mut local, _) = watch(&cluster.hubs[0], &id, "live").await;
    rec.send(&events[60..100]).await;
    let (got, _) = local.events(100).await;
    assert_eq!(got.last().unwrap()["seq"], 100);
    signal(h1, "-STOP");
    // Hub 1 cannot renew or hand over: hub 2 gets the session once its lease has run out, and
    // continues from what is stored.
    let received = rec.connect(&cluster.hubs[1]).await;
    assert_eq!(
        received, 60,
        "hub 1's queued events were not stored before it froze"
    );
    rec.send(&events[100..]).await;
    // Hub 1 runs again and flushes what it had queued, under its stale claim, most likely
    // before hub 2's first flush (seconds away): had it written, hub 2's write of the same
    // seqs would be refused, and the session would never be stored past 100.
    signal(h1, "-CONT");
    let n = events.len() as u64;
    wait_stored(&cluster.hubs[1], &id, n).await;
    let db = cluster.hubs[0].db.url.clone();
    let overlap = |ranges: &[(i64, i64)]| ranges.windows(2).any(|w| w[1].0 <= w[0].1);
    eventually(
        "hub 1's writer flushed (refused, or written over hub 2's)",
        || {
            let (db, id) = (db.clone(), id.clone());
            async move {
                h1.log
                    .lines()
                    .iter()
                    .any(|l| l.contains("owned by another hub now"))
                    || overlap(&stored_ranges(&db, &id))
            }
        },
    )
    .await;
    assert_stored_once(&db, &id, n);
    let stored = cluster.hubs[1].stored(&id).await;
    assert_eq!(seqs(&stored), (1..=n).collect::<Vec<_>>());
    for (env, sent) in stored.iter().zip(&events) {
        assert_eq!(&env["event"], sent);
    }
}

#[actix_web::test]
async fn retention_on_one_hub_spares_a_session_resumed_on_another() {
    // Hub 1 runs retention every second; hub 2 none (only hub 1 could delete anything).
    let cluster = Cluster::start_each(2, &nats_url(), |i| {
        let every = if i == 0 { "1" } else { "0" };
        vec![
            ("STREAMDOM_RETENTION_INTERVAL_SECS", every),
            ("STREAMDOM_IDLE_TIMEOUT_SECS", "1"),
        ]
    })
    .await;
    let (h1, h2) = (&cluster.hubs[0], &cluster.hubs[1]);
    let id = unique_id("kept");
    let mut rec = Recorder::new(&id);
    rec.connect(h1).await;
    rec.send(&page(1_000, 8)).await; // 1..=10
    wait_stored(h1, &id, 10).await;
    rec.ws.take().unwrap().close().await;
    let key = format!("default:{id}");
    eventually("the session ended", || async {
        let (_, body) = h1.get(&format!("/api/sessions/{id}")).await;
        body["active"] == false
    })
    .await;
    // Its recorder comes back on hub 2, which holds it now (the row stays ended until the
    // first new events are written).
    assert_eq!(rec.connect(h2).await, 10);
    // Long past the project's retention, as is a canary session nobody records.
    let old = 400 * 24 * 3600 * 1000i64;
    h1.db.seed_session("default", "canary", old, true, 100);
    h1.db.scalar(&format!(
        "UPDATE sessions SET last_event_at = last_event_at - {old} WHERE id = '{key}' \
         RETURNING 0::bigint AS n"
    ));
    eventually("hub 1's retention deleted the canary", || async {
        !h1.db.session_keys().contains(&"default:canary".to_owned())
    })
    .await;
    assert!(
        h1.db.session_keys().contains(&key),
        "a session live on hub 2 was deleted"
    );
    rec.send(&[inc(2_000, 1), inc(2_010, 2)]).await;
    wait_stored(h2, &id, 12).await;
    assert_stored_once(&h2.db.url, &id, 12);
}

/// The JetStream stream of a cluster, from the test's own connection.
async fn test_stream(cluster: &Cluster) -> async_nats::jetstream::stream::Stream {
    let client = async_nats::connect(cluster.nats.as_str()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.get_stream(streamdom::cluster::subject::stream_name(&cluster.prefix))
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_late_viewer_on_another_hub_reads_the_database_then_the_stream() {
    let cluster = Cluster::start(3, &nats_url()).await;
    let (h1, h3) = (&cluster.hubs[0], &cluster.hubs[2]);
    let id = unique_id("halves");
    let mut rec = Recorder::new(&id);
    rec.connect(h1).await;
    let mut events = page(1_000, 10); // 1..=12
    events.extend(page(5_000, 5)); // a second page: Meta at 13, up to 19
    rec.send(&events[..12]).await;
    rec.send(&events[12..]).await;
    wait_stored(h1, &id, 19).await;
    // The stream keeps the session from its latest snapshot on: 1..=12 are only in the database.
    let stream = test_stream(&cluster).await;
    let subject = streamdom::cluster::subject::session(&cluster.prefix, &format!("default:{id}"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let first = stream.get_first_raw_message_by_subject(&subject, 0).await;
        let first = first.map(|m| m.headers.get(streamdom::cluster::H_FIRST).cloned());
        if matches!(&first, Ok(Some(v)) if v.as_str() == "13") {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            // Hub 1's own account of its publishing, for a failure on CI.
            let log = cluster.procs[0].as_ref().unwrap().log.lines();
            let cluster_lines: Vec<_> = log.iter().filter(|l| l.contains("cluster")).collect();
            panic!("the stream was not trimmed to the second page: {first:?}\n{cluster_lines:#?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut v, start) = watch(h3, &id, "start").await;
    assert_eq!(start, 1);
    let (got, _) = v.events(19).await;
    assert_eq!(seqs(&got), (1..=19).collect::<Vec<_>>());
    for (env, sent) in got.iter().zip(&events) {
        assert_eq!(&env["event"], sent);
    }
    v.recv_type("live").await;
    rec.send(&[inc(6_000, 1)]).await;
    let (live, _) = v.events(1).await;
    assert_eq!(seqs(&live), vec![20]);
}

#[actix_web::test]
async fn events_the_bus_no_longer_has_are_filled_from_the_database() {
    // A slow writer, so that hub 1 has taken in events it has not stored yet.
    let cluster =
        Cluster::start_with(3, &nats_url(), &[("STREAMDOM_FLUSH_INTERVAL_MS", "3000")]).await;
    let (h1, h3) = (&cluster.hubs[0], &cluster.hubs[2]);
    let id = unique_id("gap");
    let mut rec = Recorder::new(&id);
    rec.connect(h1).await;
    let mut events = page(1_000, 17); // 1..=19
    events.extend((0..7u64).map(|k| inc(2_000 + k as i64, k)));
    rec.send(&events[..19]).await;
    wait_stored(h1, &id, 19).await;
    rec.send(&events[19..24]).await; // 20..=24: published, not stored yet
    let stream = test_stream(&cluster).await;
    let key = format!("default:{id}");
    let subject = streamdom::cluster::subject::session(&cluster.prefix, &key);
    eventually("hub 1 published up to 24", || async {
        let last = stream.get_last_raw_message_by_subject(&subject).await;
        last.is_ok_and(|m| {
            m.headers
                .get(streamdom::cluster::H_LAST)
                .map(|v| v.as_str())
                == Some("24")
        })
    })
    .await;
    // The bus loses the session's recent part (its age limit passed, say): a viewer joining on
    // hub 3 now has 1..=19 in the database, 20..=24 nowhere it can read yet.
    stream.purge().filter(&subject).await.unwrap();
    assert!(stored_ranges(&h1.db.url, &id).last().unwrap().1 < 20);
    let (mut v, start) = watch(h3, &id, "start").await;
    assert_eq!(start, 1);
    let (got, _) = v.events(19).await;
    assert_eq!(seqs(&got), (1..=19).collect::<Vec<_>>());
    // The next frame on the bus starts at 25: hub 3 reads 20..=24 from the database once hub
    // 1 has stored them, and its viewer gets every event once, in order.
    rec.send(&events[24..]).await;
    let (got, _) = v.events(7).await;
    assert_eq!(seqs(&got), (20..=26).collect::<Vec<_>>());
    for (env, sent) in got.iter().zip(&events[19..]) {
        assert_eq!(&env["event"], sent);
    }
}

/// Figures for docs/PERFORMANCE.md ("Cluster mode"): how long a message takes from a publisher
/// to a plain core-NATS subscriber and to a JetStream ordered push consumer (what followers used
/// for live frames before), both following the same subject of a file-backed stream at the
/// same moment, so that the machine's load hits both alike. Run with
/// `cargo test --test cluster -- --ignored --nocapture nats_delivery`.
#[actix_web::test]
#[ignore]
async fn nats_delivery_core_subscription_against_jetstream_push_consumer() {
    use async_nats::jetstream::{self, consumer::push::OrderedConfig, stream};
    use futures_util::StreamExt;
    const MESSAGES: usize = 5_000;
    const EVERY: Duration = Duration::from_millis(1);
    let url = nats_url();
    require_nats(&url);
    let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let name = streamdom::cluster::subject::stream_name(&prefix);
    let subject = streamdom::cluster::subject::session(&prefix, "default:probe");
    let client = async_nats::connect(url.as_str()).await.unwrap();
    let js = jetstream::new(client.clone());
    let created = js
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![streamdom::cluster::subject::sessions(&prefix)],
            max_bytes: 16 * 1024 * 1024,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();
    let core = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let pushed = created
        .create_consumer(OrderedConfig {
            deliver_subject: client.new_inbox(),
            filter_subject: subject.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .messages()
        .await
        .unwrap();
    let clock = std::time::Instant::now();
    let micros = move || clock.elapsed().as_micros() as u64;
    // The recording hub's connection: a client of its own.
    let publisher = async_nats::connect(url.as_str()).await.unwrap();
    let publish = async {
        let pad = "x".repeat(300); // about an incremental event's frame
        for _ in 0..MESSAGES {
            let payload = format!("{} {pad}", micros());
            publisher
                .publish(subject.clone(), payload.into())
                .await
                .unwrap();
            tokio::time::sleep(EVERY).await;
        }
    };
    let sent_at = |payload: &[u8]| -> u64 {
        let text = std::str::from_utf8(payload).unwrap();
        text.split(' ').next().unwrap().parse().unwrap()
    };
    let core_latency = core
        .take(MESSAGES)
        .map(|m| micros() - sent_at(&m.payload))
        .collect::<Vec<u64>>();
    let push_latency = pushed
        .take(MESSAGES)
        .map(|m| micros() - sent_at(&m.unwrap().payload))
        .collect::<Vec<u64>>();
    let ((), mut core_us, mut push_us) = tokio::join!(publish, core_latency, push_latency);
    let _ = js.delete_stream(&name).await;
    for (what, us) in [("core", &mut core_us), ("jetstream push", &mut push_us)] {
        us.sort_unstable();
        let at = |q: f64| us[((q * us.len() as f64).ceil() as usize).clamp(1, us.len()) - 1];
        eprintln!(
            "{what}: {} messages, p50 {} µs, p95 {} µs, p99 {} µs, max {} µs",
            us.len(),
            at(0.5),
            at(0.95),
            at(0.99),
            us[us.len() - 1]
        );
    }
}

#[actix_web::test]
async fn trimming_a_session_keeps_its_snapshot_even_as_the_streams_first_message() {
    use async_nats::jetstream::{self, stream};
    let url = nats_url();
    require_nats(&url);
    let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let name = streamdom::cluster::subject::stream_name(&prefix);
    let subject = streamdom::cluster::subject::session(&prefix, "default:trim");
    let client = async_nats::connect(url.as_str()).await.unwrap();
    let js = jetstream::new(client.clone());
    let s = js
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![streamdom::cluster::subject::sessions(&prefix)],
            max_bytes: 1024 * 1024,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut acked = Vec::new();
    for payload in ["snapshot", "frame", "next snapshot", "frame"] {
        let ack = js.publish(subject.clone(), payload.into()).await.unwrap();
        acked.push(ack.await.unwrap().sequence);
    }
    let first = || async {
        let m = s.get_first_raw_message_by_subject(&subject, 0).await;
        m.map(|m| m.sequence).ok()
    };
    // The first snapshot is the stream's first message: its trim, done last, keeps everything.
    use streamdom::cluster::trim_before;
    trim_before(&js, &name, &subject, acked[2]).await.unwrap();
    assert_eq!(first().await, Some(acked[2]));
    trim_before(&js, &name, &subject, acked[0]).await.unwrap();
    let left = first().await;
    let _ = js.delete_stream(&name).await;
    assert_eq!(
        left,
        Some(acked[2]),
        "the latest snapshot and what follows are kept"
    );
}

/// A page in standby on `hub`: its presence socket, with its presence message sent.
async fn standby_page(hub: &Hub, visitor: &str, url: &str) -> Ws {
    let path = format!("/ws/presence?key={TEST_KEY}&visitor={visitor}");
    let mut ws = hub.ws(&path).await.expect("presence connects");
    ws.send(&json!({"type": "presence", "url": url})).await;
    ws
}

async fn listed(hub: &Hub, visitor: &str) -> Option<Value> {
    let (status, body) = hub.get("/api/online").await;
    assert_eq!(status, 200, "{body}");
    body["visitors"]
        .as_array()?
        .iter()
        .find(|v| v["visitor_id"] == visitor)
        .cloned()
}

/// Recording on demand across hubs: the visitor's page is on hub 1, the PM on hub 2.
#[actix_web::test]
async fn a_visitor_online_on_one_hub_is_watched_and_stopped_from_another() {
    // A grace shorter than the test's wait: a recording that only hub 2 watches must outlive it.
    let cluster = Cluster::start_with(2, &nats_url(), &[("STREAMDOM_WATCH_GRACE_SECS", "2")]).await;
    let (one, two) = (&cluster.hubs[0], &cluster.hubs[1]);
    let visitor = unique_id("v");
    let mut tab = standby_page(one, &visitor, "https://shop.example/pricing").await;
    eventually("hub 2 lists the visitor of hub 1", || async {
        listed(two, &visitor)
            .await
            .is_some_and(|v| v["url"] == "https://shop.example/pricing")
    })
    .await;

    // Watch on hub 2 reaches the page on hub 1, which records there.
    let watch_path = format!("/api/online/{visitor}/watch");
    let watching = two.call("POST", &watch_path, &two.admin, None);
    let page_side = async {
        let record = tab.recv_type("record").await;
        let id = record["session_id"].as_str().unwrap().to_owned();
        let mut rec = Recorder::new(&id);
        rec.connect(one).await;
        rec.send(&page(now_ms(), 2)).await;
        (id, rec)
    };
    let ((status, started, _), (id, mut rec)) = tokio::join!(watching, page_side);
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["session_id"], id.as_str());

    // The PM watches on hub 2; hub 1 counts that viewer.
    let (mut viewer, _) = watch(two, &id, "live").await;
    viewer.events(4).await;
    eventually("hub 1 counts hub 2's viewer", || async {
        listed(one, &visitor)
            .await
            .is_some_and(|v| v["recording"] == true && v["viewers"] == 1)
    })
    .await;
    // Well past the 2 s grace: still recording, because hub 2 watches.
    tokio::time::sleep(Duration::from_secs(5)).await;
    rec.send(&[inc(now_ms(), 7)]).await;
    let (live, _) = viewer.events(1).await;
    assert_eq!(
        live[0]["event"]["data"]["positions"][0]["x"], 7,
        "still live"
    );
    let row = listed(one, &visitor).await.expect("still online");
    assert_eq!(
        row["recording"], true,
        "not stopped while watched elsewhere"
    );

    // Stop on hub 2 reaches the page on hub 1.
    let stop_path = format!("/api/online/{visitor}/stop");
    let (status, body, _) = two.call("POST", &stop_path, &two.admin, None).await;
    assert_eq!(status, 204, "{body}");
    tab.recv_type("stop").await;
    let (status, _, _) = two.call("POST", &stop_path, &two.admin, None).await;
    assert_eq!(status, 404, "nothing left to stop");

    // The page closes: hub 2 forgets the visitor within the reports' lifetime.
    tab.close().await;
    eventually("gone from hub 2's list", || async {
        listed(two, &visitor).await.is_none()
    })
    .await;
    let (status, _, _) = two.call("POST", &watch_path, &two.admin, None).await;
    assert_eq!(status, 404, "no longer online anywhere");
}
