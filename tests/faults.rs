//! Faults on the real binary, counted exactly: SIGKILL mid-stream (every acknowledged event is
//! there after the restart, and once the recorders resend the rest, every sent event is stored
//! exactly once and byte for byte), and SIGTERM (final acks, then 1012 `shutting_down` on every
//! socket, then a clean exit). Each runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod process;

use std::time::{Duration, Instant};

use common::*;
use process::*;
use serde_json::{json, Value};
use streamdom::config::Config;

const SESSIONS: usize = 8;
/// Events in each frame after the first (the first is a page: Meta and FullSnapshot).
const PER_FRAME: u64 = 3;

fn start(path: &std::path::Path, db: &TestDb) -> HubProcess {
    HubProcess::start(
        path,
        &["--database-url", &db.url, "--idle-timeout-secs", "2"],
        &[
            ("STREAMDOM_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("STREAMDOM_DEFAULT_KEY", TEST_KEY),
        ],
    )
}

async fn client(proc: &HubProcess, db: TestDb) -> Hub {
    let cfg = Config::with_defaults(proc.base.parse().unwrap(), db.url.clone());
    Hub::remote(db, cfg, proc.base.clone()).await
}

/// The event with `seq` of session number `s`: what the recorder sends, and so what must be
/// stored, byte for byte.
fn event(s: usize, seq: u64) -> Value {
    match seq {
        1 => meta(1_000, &format!("https://shop.example/{s}")),
        2 => full(1_001),
        _ => {
            json!({"type": 3, "timestamp": 1_000 + seq as i64, "data": {"source": 0, "texts": [{"id": 1, "value": format!("s{s} e{seq} ünïcødé \"q\"")}], "attributes": [], "removes": [], "adds": []}})
        }
    }
}

/// The frame holding seqs `from..=to` of session `s`.
fn frame_of(s: usize, from: u64, to: u64) -> String {
    let events: Vec<Value> = (from..=to).map(|q| event(s, q)).collect();
    frame(from, &events).to_string()
}

struct Stream {
    id: String,
    /// Highest seq handed to a socket.
    sent: u64,
    /// Highest seq the hub acknowledged as durable.
    acked: u64,
}

/// Streams session `s` from `stream.sent + 1` until `until`, then stops; records every ack.
/// Returns when `until` passes or the hub is gone.
async fn stream_until(hub: &Hub, s: usize, stream: &mut Stream, until: Instant) {
    let (mut rec, welcome) = hub.recorder(&stream.id).await;
    let durable = welcome["durable_seq"].as_u64().unwrap();
    assert!(
        durable >= stream.acked,
        "{}: acknowledged {} before the kill, only {durable} stored",
        stream.id,
        stream.acked
    );
    // Like the real recorder: everything past what is durable is sent again.
    stream.sent = durable;
    while Instant::now() < until {
        let (from, to) = match stream.sent {
            0 => (1, 2),
            n => (n + 1, n + PER_FRAME),
        };
        if !rec.try_send_text(frame_of(s, from, to)).await {
            return;
        }
        stream.sent = to;
        for m in rec.drain_for(Duration::from_millis(2)).await {
            if m["type"] == "ack" {
                stream.acked = stream.acked.max(m["durable_seq"].as_u64().unwrap());
            }
        }
    }
}

async fn kill_9_mid_stream_loses_no_acknowledged_event(backend: Backend) {
    let db = TestDb::new(backend);
    let (_dir, path) = workdir();
    let mut streams: Vec<Stream> = (0..SESSIONS)
        .map(|_| Stream {
            id: unique_id("kill"),
            sent: 0,
            acked: 0,
        })
        .collect();
    let mut proc = start(&path, &db);
    let mut hub = client(&proc, db).await;
    // Kills at different moments of the stream: while the writer is mid-flush or idle.
    for (round, after_ms) in [350u64, 900, 1_450, 620].into_iter().enumerate() {
        let until = Instant::now() + Duration::from_millis(after_ms + 400);
        let killer = {
            let pid = proc.pid();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(after_ms));
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            })
        };
        futures_util::future::join_all(
            streams
                .iter_mut()
                .enumerate()
                .map(|(s, st)| stream_until(&hub, s, st, until)),
        )
        .await;
        killer.join().unwrap();
        let sent: u64 = streams.iter().map(|s| s.sent).sum();
        let acked: u64 = streams.iter().map(|s| s.acked).sum();
        println!("round {round}: killed after {after_ms} ms; sent {sent}, acknowledged {acked}");
        drop(proc);
        proc = start(&path, &hub.db);
        hub.base = proc.base.clone();
        hub.admin = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    }
    // On a loaded machine the first kill may come before any ack; later ones cannot all.
    assert!(
        streams.iter().map(|s| s.acked).sum::<u64>() > 0,
        "nothing was acknowledged before any kill"
    );
    // The last reconnect: check what is durable, send the rest, and wait for all of it.
    for (s, st) in streams.iter_mut().enumerate() {
        let (mut rec, welcome) = hub.recorder(&st.id).await;
        let durable = welcome["durable_seq"].as_u64().unwrap();
        assert!(
            durable >= st.acked,
            "{}: acked {} > stored {durable}",
            st.id,
            st.acked
        );
        if durable < st.sent {
            rec.send_text(frame_of(s, durable + 1, st.sent)).await;
        }
        rec.ack_of(st.sent, WAIT).await;
        rec.close().await;
    }
    let mut total = 0;
    for (s, st) in streams.iter().enumerate() {
        let stored = hub.stored(&st.id).await;
        assert_eq!(
            seqs(&stored),
            (1..=st.sent).collect::<Vec<_>>(),
            "{}: every sent seq stored exactly once",
            st.id
        );
        for e in &stored {
            let seq = e["seq"].as_u64().unwrap();
            assert_eq!(
                e["event"],
                event(s, seq),
                "{} seq {seq} byte for byte",
                st.id
            );
        }
        total += stored.len();
    }
    println!("{SESSIONS} sessions, 4 kills: {total} events sent and stored, none lost or doubled");
}
both!(kill_9_mid_stream_loses_no_acknowledged_event);

async fn sigterm_sends_final_acks_then_1012_then_exits(backend: Backend) {
    let db = TestDb::new(backend);
    let (_dir, path) = workdir();
    // A slow writer: the events below are accepted but not durable when SIGTERM arrives.
    let proc = HubProcess::start(
        &path,
        &["--database-url", &db.url, "--flush-interval-ms", "60000"],
        &[
            ("STREAMDOM_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("STREAMDOM_DEFAULT_KEY", TEST_KEY),
        ],
    );
    let hub = client(&proc, db).await;
    let id = unique_id("term");
    let (mut rec, _) = hub.recorder(&id).await;
    let mut viewer = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    viewer.recv_type("live").await;
    let mut list = hub.ws("/ws/sessions").await.unwrap();
    rec.send_text(frame_of(0, 1, 2)).await;
    rec.send_text(frame_of(0, 3, 40)).await;
    viewer.events(40).await;
    let pid = proc.pid();
    let stopped = Instant::now();
    let status = std::thread::spawn(move || proc.stop());
    let (code, reason, before) = rec.closed().await;
    let last_ack = before
        .iter()
        .filter(|m| m["type"] == "ack")
        .filter_map(|m| m["durable_seq"].as_u64())
        .max();
    assert_eq!(last_ack, Some(40), "final ack before the close: {before:?}");
    assert_eq!((code, reason.as_str()), (1012, "shutting_down"));
    for ws in [&mut viewer, &mut list] {
        let (code, reason, _) = ws.closed().await;
        assert_eq!((code, reason.as_str()), (1012, "shutting_down"));
    }
    let status = status.join().unwrap();
    assert!(status.success(), "pid {pid} exited with {status}");
    assert!(
        stopped.elapsed() < Duration::from_secs(15),
        "{:?}",
        stopped.elapsed()
    );
    // What was acknowledged is there on the next start.
    let proc = start(&path, &hub.db);
    let mut hub = hub;
    hub.base = proc.base.clone();
    hub.admin = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(seqs(&hub.stored(&id).await), (1..=40).collect::<Vec<_>>());
}
both!(sigterm_sends_final_acks_then_1012_then_exits);
