//! Benchmark (not run by `cargo test`; see docs/PERFORMANCE.md, "Numbers"):
//! `cargo test --test numbers_bench -- --ignored --nocapture --test-threads 1`.
//!
//! Seeds `NUMBERS_BENCH_SESSIONS` (default 100,000) sessions over 30 days through the writer's
//! own function (`db::chunks::write_batch`, which stores each session's chunk, row, summary and
//! the numbers' rollups in one transaction per flush of 1,000 sessions), timing every flush with
//! and without the rollups on a second database; then starts the real hub on the seeded database
//! and times `GET /api/numbers` over HTTP. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Instant};

use common::*;
use streamdom::{
    db::{
        chunks::{write_batch_with, SessionWrite},
        numbers::DAY_MS,
        sessions::NewSession,
    },
    event::{now_ms, Event},
    summary::{Derived, SummaryWrite},
};

/// Sessions per flush, as the writer's `MAX_SESSIONS_PER_FLUSH`.
const FLUSH: usize = 1000;
/// Events per session and flush.
const EVENTS: usize = 5;
const PAGES: usize = 200;
/// Flushes of the live path measured (half with the rollups).
const ROUNDS: u64 = 40;
const NAMES: [&str; 5] = ["signup", "buy", "search", "share", "upgrade"];

fn sessions() -> usize {
    std::env::var("NUMBERS_BENCH_SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

/// A cheap deterministic spread (so both databases get the same sessions).
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64 ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 7
}

fn url(n: u64) -> String {
    format!("https://shop.example/page/{}", n % PAGES as u64)
}

struct Seeded {
    ids: Vec<String>,
    opened: Vec<NewSession>,
    events: Vec<Vec<Arc<Event>>>,
    summaries: Vec<SummaryWrite>,
}

/// Sessions `from..from + n` as the writer's flush stores them in round `round`: round 0 opens
/// them (with their pages), later rounds bring 5 more events each, 1 s longer (the live path:
/// durations move between buckets now and then, the pages stay).
fn batch(from: usize, n: usize, now: i64, total: usize, round: u64) -> Seeded {
    let mut s = Seeded {
        ids: vec![],
        opened: vec![],
        events: vec![],
        summaries: vec![],
    };
    for i in from..from + n {
        // In start order over the last 29 days (a flush holds sessions of the same hours).
        let started = now - ((total - i) as i64 * 29 * DAY_MS / total as i64);
        s.ids.push(format!("default:bench-{i}"));
        s.opened.push(NewSession {
            started_at: started,
            user_agent: None,
        });
        s.events.push(
            (0..EVENTS)
                .map(|k| {
                    Arc::new(Event {
                        seq: round * EVENTS as u64 + k as u64 + 1,
                        hub_time: started + k as i64,
                        ts: started + k as i64,
                        kind: 3,
                        json: format!(r#"{{"type":3,"timestamp":{},"data":{{"source":1,"positions":[{{"x":{k},"y":1,"id":1,"timeOffset":0}}]}}}}"#, started + k as i64).into(),
                    })
                })
                .collect(),
        );
        let (entry, exit) = (url(mix(i, 2)), url(mix(i, 3)));
        s.summaries.push(SummaryWrite {
            derived: Derived {
                duration_ms: (mix(i, 4) % 3_000_000) as i64 + round as i64 * 1000,
                active_ms: (mix(i, 5) % 600_000) as i64,
                error_count: i64::from(mix(i, 6) % 10 == 0),
                rage_click_count: i64::from(i % 7 == 0),
                page_count: 2,
                exit_url: Some(exit.as_str().into()),
                ..Derived::default()
            },
            new_pages: if round > 0 {
                vec![]
            } else if entry == exit {
                vec![entry]
            } else {
                vec![entry, exit.clone()]
            },
            new_events: if round == 0 && i % 20 == 0 {
                vec![NAMES[i / 20 % NAMES.len()].into()]
            } else {
                vec![]
            },
            rage_pages: if round == 0 && i % 7 == 0 {
                vec![Some(exit.as_str().into())]
            } else {
                vec![]
            },
            heat: Default::default(),
        });
    }
    s
}

/// Stores one flush through the writer's function; its time in ms.
fn flush(conn: &mut streamdom::db::DbConn, b: &Seeded, opened: bool, rollups: bool) -> f64 {
    let writes: Vec<SessionWrite<'_>> = (0..b.ids.len())
        .map(|k| SessionWrite {
            session_id: &b.ids[k],
            events: &b.events[k],
            url: None,
            first_event_ts: None,
            replaces: None,
            opened: opened.then(|| &b.opened[k]),
            summary: Some(&b.summaries[k]),
            fence: None,
        })
        .collect();
    let t = Instant::now();
    write_batch_with(conn, &writes, rollups).unwrap();
    t.elapsed().as_secs_f64() * 1000.0
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn bench(backend: Backend) {
    let total = sessions();
    let now = now_ms();
    let db = TestDb::new(backend);
    let pool = streamdom::db::connect(&db.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let started = Instant::now();
    let mut seeding = vec![];
    for from in (0..total).step_by(FLUSH) {
        let b = batch(from, FLUSH.min(total - from), now, total, 0);
        seeding.push(flush(&mut conn, &b, true, true));
    }
    println!(
        "{backend:?}: seeded {total} sessions in {:.0} s: flush of {FLUSH} new sessions p50 {:.0} ms",
        started.elapsed().as_secs_f64(),
        pct(&mut seeding, 0.5)
    );
    // The live path: the newest 1,000 sessions go on, flush after flush, alternately with and
    // without the rollups (same database, same moment, so the machine's load hits both alike).
    let (mut with, mut without) = (vec![], vec![]);
    let n = FLUSH.min(total);
    for round in 1..=ROUNDS {
        let b = batch(total - n, n, now, total, round);
        let rollups = round % 2 == 1;
        let ms = flush(&mut conn, &b, false, rollups);
        if rollups {
            with.push(ms)
        } else {
            without.push(ms)
        }
    }
    let events = (n * EVENTS) as f64;
    println!(
        "{backend:?}: live flush of {n} sessions x {EVENTS} events: without rollups p50 \
         {:.1} ms p95 {:.1} ms ({:.0} events/s), with p50 {:.1} ms p95 {:.1} ms ({:.0} events/s)",
        pct(&mut without, 0.5),
        pct(&mut without, 0.95),
        events / pct(&mut without, 0.5) * 1000.0,
        pct(&mut with, 0.5),
        pct(&mut with, 0.95),
        events / pct(&mut with, 0.5) * 1000.0,
    );
    drop(conn);
    drop(pool);
    // A hub's sessions end: all but the newest 1,000 are over (as "active now" then counts).
    db.execute(&format!(
        "UPDATE sessions SET ended_at = last_event_at WHERE id NOT IN \
         (SELECT id FROM sessions ORDER BY started_at DESC LIMIT {n})"
    ));

    let mut cfg =
        streamdom::config::Config::with_defaults("127.0.0.1:0".parse().unwrap(), db.url.clone());
    cfg.admin_password = Some(ADMIN_PASSWORD.to_owned());
    let server = streamdom::server::run(cfg).await.expect("hub starts");
    let hub = Hub::attach(server).await;
    let (status, body) = hub.get("/api/numbers?project=default").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions"].as_i64().unwrap(), total as i64, "{body}");
    for (name, query) in [
        ("30 days", String::new()),
        ("7 days", format!("&from={}", now - 6 * DAY_MS)),
        ("1 day", format!("&from={now}")),
    ] {
        let mut times = vec![];
        for _ in 0..20 {
            let t = Instant::now();
            let (status, _) = hub
                .get(&format!("/api/numbers?project=default{query}"))
                .await;
            assert_eq!(status, 200);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{backend:?}: GET /api/numbers ({name}) at {total} sessions: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            pct(&mut times, 0.5),
            pct(&mut times, 0.95),
            pct(&mut times, 1.0),
        );
    }
    let rows = |t: &str| db.rows(t);
    println!(
        "{backend:?}: rollup rows: days {}, hist {}, pages {}, events {}",
        rows("numbers_days"),
        rows("numbers_hist"),
        rows("numbers_pages"),
        rows("numbers_events")
    );
}

#[actix_web::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn numbers_at_scale_sqlite() {
    bench(Backend::Sqlite).await
}

#[cfg(feature = "postgres")]
#[actix_web::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn numbers_at_scale_postgres() {
    bench(Backend::Postgres).await
}
