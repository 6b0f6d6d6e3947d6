//! The durable spool under real faults, with exact counts: a PostgreSQL server of the test's own
//! stopped (`-m immediate`) and started while recording, a SQLite database write-locked by
//! another connection, and hubs killed with SIGKILL in the middle of it. What is checked: every
//! acknowledged event ends up in the database exactly once and in order (the chunk rows of a
//! session cover 1..=N without overlap), new sessions are recorded through an outage, and a
//! spool left by a killed hub is drained by the next one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod process;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use common::*;
use diesel::{connection::SimpleConnection, Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
use process::*;
use serde_json::Value;
use streamdom::{config::Config, db::DbConn};

/// How long a drain of the test's backlog may take on a busy machine.
const DRAIN: Duration = Duration::from_secs(90);

/// A database the test can take away and give back.
enum Db {
    #[cfg(feature = "postgres")]
    Pg(common::pg::PrivatePg),
    /// The file, and the connection holding the write lock during an "outage".
    Sqlite(tempfile::TempDir, Option<DbConn>),
}

impl Db {
    fn new(backend: Backend) -> Db {
        match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => Db::Pg(common::pg::PrivatePg::start()),
            _ => Db::Sqlite(tempfile::tempdir().unwrap(), None),
        }
    }

    fn url(&self) -> String {
        match self {
            #[cfg(feature = "postgres")]
            Db::Pg(pg) => pg.url(),
            Db::Sqlite(dir, _) => dir.path().join("hub.db").to_string_lossy().into_owned(),
        }
    }

    /// PostgreSQL stops at once; SQLite stays write-locked by another connection.
    fn outage(&mut self) {
        let url = self.url();
        match self {
            #[cfg(feature = "postgres")]
            Db::Pg(pg) => pg.down(),
            Db::Sqlite(_, lock) => {
                let mut conn = DbConn::establish(&url).unwrap();
                conn.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
                    .unwrap();
                *lock = Some(conn);
            }
        }
    }

    fn back(&mut self) {
        match self {
            #[cfg(feature = "postgres")]
            Db::Pg(pg) => pg.up(),
            Db::Sqlite(_, lock) => {
                if let Some(mut conn) = lock.take() {
                    conn.batch_execute("COMMIT").unwrap();
                }
            }
        }
    }

    /// A session's chunk rows as (first_seq, last_seq, event_count), in order, and its row's
    /// event count.
    fn chunks(&self, id: &str) -> (Vec<(i64, i64, i32)>, Option<i64>) {
        use streamdom::db::schema::{event_chunks, sessions};
        let key = format!("default:{id}");
        let mut conn = DbConn::establish(&self.url()).unwrap();
        let chunks = event_chunks::table
            .filter(event_chunks::session_id.eq(&key))
            .order(event_chunks::first_seq.asc())
            .select((
                event_chunks::first_seq,
                event_chunks::last_seq,
                event_chunks::event_count,
            ))
            .load(&mut conn)
            .unwrap();
        let count = sessions::table
            .find(&key)
            .select(sessions::event_count)
            .first(&mut conn)
            .ok();
        (chunks, count)
    }

    /// Asserts that the session's events 1..=n are stored, each exactly once.
    fn assert_stored_once(&self, id: &str, n: u64) {
        let (chunks, count) = self.chunks(id);
        let mut next = 1;
        for (first, last, events) in &chunks {
            assert_eq!(
                *first, next,
                "chunks of {id} overlap or leave a gap: {chunks:?}"
            );
            assert_eq!(i64::from(*events), last - first + 1, "{chunks:?}");
            next = last + 1;
        }
        assert_eq!(next - 1, n as i64, "stored up to {} of {n}", next - 1);
        assert_eq!(count, Some(n as i64), "the session row's event count");
    }

    /// Waits until the session's events 1..=n are all stored.
    async fn wait_stored(&self, id: &str, n: u64) {
        let deadline = Instant::now() + DRAIN;
        loop {
            let (chunks, _) = self.chunks(id);
            if chunks.last().is_some_and(|c| c.1 >= n as i64) {
                return self.assert_stored_once(id, n);
            }
            assert!(
                Instant::now() < deadline,
                "not stored in {DRAIN:?}: {chunks:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn segments(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "seg"))
        })
        .count()
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum()
    })
}

async fn wait_spool_empty(dir: &Path) {
    let deadline = Instant::now() + DRAIN;
    while segments(dir) > 0 {
        assert!(Instant::now() < deadline, "the spool did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An in-process hub on `db` with its spool in `spool`.
async fn hub_on(db: &Db, spool: &Path) -> Hub {
    let mut cfg = Config::with_defaults("127.0.0.1:0".parse().unwrap(), db.url());
    cfg.db_pool_size = 4;
    cfg.workers = Some(2);
    cfg.admin_password = Some(ADMIN_PASSWORD.to_owned());
    cfg.default_key = Some(TEST_KEY.to_owned());
    cfg.spool_dir = Some(spool.to_owned());
    let server = streamdom::server::run(cfg).await.expect("hub starts");
    Hub::attach(server).await
}

/// `n` incrementals of `bytes` each, numbered from `seq`, in frames of `per_frame`.
async fn send_heavy(rec: &mut Ws, seq: u64, n: u64, per_frame: u64, bytes: usize) -> u64 {
    let mut s = seq;
    while s < seq + n {
        let k = per_frame.min(seq + n - s);
        let events: Vec<Value> = (s..s + k)
            .map(|i| heavy(10_000 + i as i64, bytes))
            .collect();
        rec.send(&frame(s, &events)).await;
        s += k;
    }
    s - 1
}

async fn a_backlog_spooled_through_an_outage_is_stored_once_and_in_order(backend: Backend) {
    let mut db = Db::new(backend);
    let spool = tempfile::tempdir().unwrap();
    let hub = hub_on(&db, spool.path()).await;
    let id = unique_id("backlog");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 8))).await;
    rec.ack_of(10, WAIT).await;

    db.outage();
    // About 12 MB while the database is away: acknowledged from the spool.
    let last = send_heavy(&mut rec, 11, 600, 20, 20_000).await;
    rec.ack_of(last, Duration::from_secs(60)).await;
    assert!(segments(spool.path()) > 0, "the backlog is on disk");
    let (status, ready) = hub.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    if matches!(backend, Backend::Postgres) {
        assert_eq!(ready["status"], "degraded", "{ready}");
    }
    assert!(ready["spool"]["records"].as_u64().unwrap() > 0, "{ready}");

    let spooled = dir_bytes(spool.path());
    let returned = Instant::now();
    db.back();
    // Recording goes on while the spool drains: the new events must come after it.
    let more = send_heavy(&mut rec, last + 1, 100, 10, 1_000).await;
    rec.ack_of(more, DRAIN).await;
    db.wait_stored(&id, more).await;
    wait_spool_empty(spool.path()).await;
    eprintln!(
        "{backend:?}: {:.1} MB spooled, drained {:.1} s after the database returned",
        spooled as f64 / 1e6,
        returned.elapsed().as_secs_f64()
    );
    let stored = hub.stored(&id).await;
    assert_eq!(seqs(&stored), (1..=more).collect::<Vec<_>>());
}
both!(a_backlog_spooled_through_an_outage_is_stored_once_and_in_order);

async fn a_session_started_during_an_outage_is_recorded_and_stored(backend: Backend) {
    let mut db = Db::new(backend);
    let spool = tempfile::tempdir().unwrap();
    let hub = hub_on(&db, spool.path()).await;
    // The hub has seen the database: it knows the ingest key and the administrator's sign-in.
    assert_eq!(hub.get("/api/sessions").await.0, 200);

    db.outage();
    let id = unique_id("newcomer");
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 0);
    rec.send(&frame(1, &page(5_000, 18))).await;
    rec.ack_of(20, Duration::from_secs(30)).await;
    rec.send(&frame(21, &[inc(6_000, 21)])).await;
    rec.ack_of(21, Duration::from_secs(30)).await;
    // (Watching needs the database: each watch is written to the access log first.)
    if matches!(backend, Backend::Postgres) {
        let (status, list) = hub.get("/api/sessions").await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["partial"], true);
        assert!(
            list["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == id.as_str()),
            "{list}"
        );
    }

    db.back();
    db.wait_stored(&id, 21).await;
    wait_spool_empty(spool.path()).await;
    let (status, info) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["url"], "https://shop.example/");
    assert_eq!(info["event_count"], 21);
}
both!(a_session_started_during_an_outage_is_recorded_and_stored);

/// What a hub process is started with: its database, its spool, small flushes.
fn serve_args(db: &Db, spool: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--database-url",
        &db.url(),
        "--spool-dir",
        spool.to_str().unwrap(),
        "--workers",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

const ENV: &[(&str, &str)] = &[
    ("STREAMDOM_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ("STREAMDOM_DEFAULT_KEY", TEST_KEY),
];

async fn client(proc: &HubProcess) -> Hub {
    let cfg = Config::with_defaults(proc.base.parse().unwrap(), String::new());
    Hub::remote(TestDb::new(Backend::Sqlite), cfg, proc.base.clone()).await
}

/// The highest ack among the messages that arrive within `quiet` of each other.
async fn last_ack(rec: &mut Ws, quiet: Duration) -> u64 {
    rec.drain_for(quiet)
        .await
        .iter()
        .filter(|m| m["type"] == "ack")
        .filter_map(|m| m["durable_seq"].as_u64())
        .max()
        .unwrap_or(0)
}

async fn a_hub_killed_during_an_outage_loses_no_acknowledged_event(backend: Backend) {
    let mut db = Db::new(backend);
    let (_dir, path) = workdir();
    let spool = path.join("spool");
    // A small spool: it fills during the outage, and what does not fit is not acknowledged.
    let args = serve_args(&db, &spool, &["--spool-max-bytes", "4000000"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let proc = HubProcess::start(&path, &args, ENV);
    let hub = client(&proc).await;
    let id = unique_id("killed");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 8))).await;
    rec.ack_of(10, WAIT).await;

    db.outage();
    // About 8 MB: twice what the spool takes.
    let sent = send_heavy(&mut rec, 11, 400, 10, 20_000).await;
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline {
        let a = last_ack(&mut rec, Duration::from_secs(3)).await;
        if a == 0 && acked > 10 {
            break; // quiet: the spool is full
        }
        acked = acked.max(a);
    }
    assert!(acked > 10, "the spool took part of the backlog");
    assert!(
        acked < sent,
        "a full spool acknowledges nothing more ({acked} of {sent})"
    );
    proc.kill();

    db.back();
    let proc = HubProcess::start(&path, &args, ENV);
    // Drained at start: every acknowledged event is stored, once.
    db.wait_stored(&id, acked).await;
    wait_spool_empty(&spool).await;
    let (chunks, _) = db.chunks(&id);
    let stored = chunks.last().unwrap().1 as u64;
    assert!(stored >= acked);
    // The recorder resumes where the database has it, and goes on.
    let hub = client(&proc).await;
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], stored);
    let last = send_heavy(&mut rec, stored + 1, 20, 10, 100).await;
    rec.ack_of(last, WAIT).await;
    db.assert_stored_once(&id, last);
    assert!(proc.stop().success());
}
both!(a_hub_killed_during_an_outage_loses_no_acknowledged_event);

/// The spool a killed hub left behind may hold records whose transaction had committed before
/// the kill (between the drain's commit and the removal of its segment): replaying them stores
/// nothing twice.
async fn a_record_replayed_after_a_crash_mid_drain_is_not_stored_twice(backend: Backend) {
    use std::sync::Arc;
    use streamdom::{
        event::Event,
        spool::{RecordRef, Spool},
    };
    let db = Db::new(backend);
    let spool = tempfile::tempdir().unwrap();
    let id = unique_id("replayed");
    {
        let mut hub = hub_on(&db, spool.path()).await;
        let (mut rec, _) = hub.recorder(&id).await;
        rec.send(&frame(1, &page(1_000, 18))).await;
        rec.ack_of(20, WAIT).await;
        hub.stop().await;
    }
    db.assert_stored_once(&id, 20);
    // Events 11..=30 in the spool: 11..=20 were stored already.
    let events: Vec<Arc<Event>> = (11..=30)
        .map(|seq| {
            Arc::new(Event {
                seq,
                hub_time: 1,
                ts: 2_000 + seq as i64,
                kind: 3,
                json: inc(2_000 + seq as i64, seq).to_string().into(),
            })
        })
        .collect();
    let key = format!("default:{id}");
    {
        let mut s = Spool::open(spool.path(), 1 << 30).unwrap();
        s.append(&[RecordRef {
            session_id: &key,
            opened: None,
            url: None,
            first_event_ts: None,
            events: &events,
            summary: None,
        }])
        .unwrap();
    }
    let hub = hub_on(&db, spool.path()).await;
    wait_spool_empty(spool.path()).await;
    db.assert_stored_once(&id, 30);
    let (_, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], 30);
}
both!(a_record_replayed_after_a_crash_mid_drain_is_not_stored_twice);

async fn sigterm_during_an_outage_spools_what_is_pending_and_sends_the_final_acks(
    backend: Backend,
) {
    let mut db = Db::new(backend);
    let (_dir, path) = workdir();
    let spool = path.join("spool");
    // Flushes every 5 s: what arrives right before the SIGTERM is still pending then.
    let args = serve_args(&db, &spool, &["--flush-interval-ms", "5000"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let proc = HubProcess::start(&path, &args, ENV);
    let hub = client(&proc).await;
    let id = unique_id("sigterm");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 8))).await;
    rec.ack_of(10, Duration::from_secs(20)).await;

    db.outage();
    rec.send(&frame(11, &page(2_000, 8))).await;
    rec.ack_of(20, Duration::from_secs(40)).await;
    rec.send(&frame(21, &page(3_000, 8))).await;
    // Let the frame reach the session, not the writer: the next flush is seconds away.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    assert!(proc.stop().success(), "a clean exit");
    assert!(
        stopping.elapsed() < Duration::from_secs(20),
        "stopped in {:?}",
        stopping.elapsed()
    );
    let (code, reason, before) = rec.closed().await;
    let acks: Vec<u64> = before
        .iter()
        .filter(|m| m["type"] == "ack")
        .filter_map(|m| m["durable_seq"].as_u64())
        .collect();
    assert_eq!(
        acks.last(),
        Some(&30),
        "the final ack, from the spool: {before:?}"
    );
    assert_eq!((code, reason.as_str()), (1012, "shutting_down"));
    assert!(segments(&spool) > 0, "the pending events went to the spool");

    db.back();
    let proc = HubProcess::start(&path, &args, ENV);
    db.wait_stored(&id, 30).await;
    wait_spool_empty(&spool).await;
    assert!(proc.stop().success());
}
both!(sigterm_during_an_outage_spools_what_is_pending_and_sends_the_final_acks);
