//! What the hub derives from a session's events (user, pages, clicks, rage clicks, errors,
//! custom events, active time, true duration, browser/OS/device) and `GET /api/sessions`'s
//! filters, sorts and cursor over it, over real sockets. Each test runs on SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::{json, Value};

const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

/// A recorder socket sending `user_agent`, welcomed.
async fn recorder_as(hub: &Hub, id: &str, user_agent: &str) -> Ws {
    let creds = Creds {
        user_agent: Some(user_agent.to_owned()),
        ..hub.admin.clone()
    };
    let mut ws = hub
        .ws_as(&keyed(&format!("/ws/record/{id}")), &creds)
        .await
        .expect("recorder connects");
    ws.recv_type("welcome").await;
    ws
}

fn click(ts: i64, x: i64, y: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":2,"type":2,"id":5,"x":x,"y":y}})
}

fn moved(ts: i64) -> Value {
    json!({"type":3,"timestamp":ts,"data":{"source":1,"positions":[{"x":1,"y":1,"id":1,"timeOffset":0}]}})
}

fn custom(ts: i64, tag: &str, payload: Value) -> Value {
    json!({"type":5,"timestamp":ts,"data":{"tag":tag,"payload":payload}})
}

fn console(ts: i64, level: &str, source: &str) -> Value {
    json!({"type":6,"timestamp":ts,"data":{"plugin":"rrweb/console@1","payload":{
        "level":level,"payload":["\"boom\""],"trace":["at x (a.js:1:1)"],"source":source}}})
}

/// Sends `events` from seq `from` and waits until all are acknowledged as durable.
async fn send_durable(rec: &mut Ws, from: u64, events: &[Value]) -> u64 {
    rec.send(&frame(from, events)).await;
    let last = from + events.len() as u64 - 1;
    rec.ack_of(last, std::time::Duration::from_secs(30)).await;
    last
}

/// The scripted visit: two pages, a rage click, errors, custom events, an identify.
fn scripted() -> Vec<Value> {
    vec![
        meta(1_000, "https://shop.example/"),
        full(1_001),
        custom(
            1_500,
            "$identify",
            json!({"user_id":"u-42","traits":{"plan":"pro"}}),
        ),
        click(2_000, 100, 100),
        click(2_300, 110, 105),
        click(2_600, 100, 120),
        click(4_000, 500, 500),
        moved(4_500),
        custom(
            5_000,
            "$pageview",
            json!({"url":"https://shop.example/checkout","title":"Pay"}),
        ),
        console(5_100, "error", "console"),
        console(5_150, "error", "uncaught"),
        console(5_200, "warn", "console"),
        custom(5_300, "checkout_started", json!({"total": 3})),
        custom(5_400, "coupon", json!({})),
        custom(5_500, "checkout_started", json!({})),
        json!({"type":3,"timestamp":6_000,"data":{"source":4,"width":400,"height":800}}),
        moved(20_000),
    ]
}

fn assert_scripted(s: &Value) {
    assert_eq!(s["user_id"], "u-42", "{s}");
    assert_eq!(s["traits"], json!({"plan":"pro"}));
    assert_eq!(s["browser"], "Chrome");
    assert_eq!(s["os"], "Windows 10");
    assert_eq!(s["device"], "desktop");
    assert_eq!(s["viewport"], json!({"width":400,"height":800}));
    assert_eq!(s["page_count"], 2);
    assert_eq!(s["click_count"], 4);
    assert_eq!(s["rage_click_count"], 1);
    assert_eq!(s["error_count"], 2);
    assert_eq!(s["custom_event_count"], 3);
    // Input at 2000, 2300, 2600, 4000, 4500, 20000: the 15.5 s gap is not active.
    assert_eq!(s["active_ms"], 300 + 300 + 1400 + 500);
    assert_eq!(s["duration_ms"], 19_000, "first to last event");
}

async fn derived_fields_follow_a_scripted_session_and_survive_a_restart(backend: Backend) {
    let mut hub = Hub::start(backend).await;
    let id = unique_id("derive");
    let mut rec = recorder_as(&hub, &id, CHROME_WINDOWS).await;
    let last = send_durable(&mut rec, 1, &scripted()).await;

    let (status, live) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(status, 200, "{live}");
    assert_scripted(&live);
    assert_eq!(
        live["pages"],
        json!(["https://shop.example/", "https://shop.example/checkout"])
    );
    let (_, list) = hub.get("/api/sessions?user=u-42").await;
    assert_scripted(&list["sessions"][0]);
    // What is stored went with the events in the same transactions.
    let stored = |hub: &Hub, col: &str| {
        hub.db.scalar(&format!(
            "SELECT {col} AS n FROM sessions WHERE id = 'default:{id}'"
        ))
    };
    assert_eq!(stored(&hub, "click_count"), 4);
    assert_eq!(stored(&hub, "rage_click_count"), 1);
    assert_eq!(hub.db.rows("session_pages"), 2);
    assert_eq!(hub.db.rows("session_events"), 2);

    // The hub restarts; the same recorder continues the session: counts go on from the row.
    drop(rec);
    hub.restart().await;
    let mut rec = recorder_as(&hub, &id, CHROME_WINDOWS).await;
    send_durable(
        &mut rec,
        last + 1,
        &[
            click(21_000, 0, 0),
            console(21_100, "error", "unhandledrejection"),
            custom(21_200, "$pageview", json!({"url":"https://shop.example/"})),
            custom(21_300, "coupon", json!({})),
        ],
    )
    .await;
    let (_, s) = hub.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(s["click_count"], 5, "{s}");
    assert_eq!(s["rage_click_count"], 1);
    assert_eq!(s["error_count"], 3);
    assert_eq!(s["page_count"], 3);
    assert_eq!(s["custom_event_count"], 4);
    assert_eq!(s["user_id"], "u-42");
    assert_eq!(s["duration_ms"], 20_300);
    assert_eq!(stored(&hub, "click_count"), 5);
    assert_eq!(stored(&hub, "page_count"), 3);
    assert_eq!(
        hub.db.rows("session_pages"),
        2,
        "a page seen before is not stored twice"
    );
}
both!(derived_fields_follow_a_scripted_session_and_survive_a_restart);

async fn the_live_list_feed_carries_the_derived_fields_as_they_change(backend: Backend) {
    let hub = Hub::start(backend).await;
    let mut feed = hub.ws("/ws/sessions").await.expect("feed opens");
    let id = unique_id("feed");
    let mut rec = recorder_as(&hub, &id, CHROME_WINDOWS).await;
    send_durable(&mut rec, 1, &scripted()).await;
    // The feed's last word on the session, once it has caught up with the whole script (it
    // may have sent earlier states on the way).
    let mut latest = Value::Null;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while latest["rage_click_count"] != 1
        || latest["error_count"] != 2
        || latest["duration_ms"] != 19_000
    {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "the feed never caught up: {latest}");
        if let Got::Json(m) = feed.next_within(left).await {
            if m["type"] == "session" && m["session"]["id"] == id.as_str() {
                latest = m["session"].clone();
            }
        }
    }
    assert_scripted(&latest);
    assert_eq!(latest["active"], true, "{latest}");
}
both!(the_live_list_feed_carries_the_derived_fields_as_they_change);

async fn every_filter_and_sort_of_the_list_selects_the_right_sessions(backend: Backend) {
    let hub = Hub::start(backend).await;
    let tag = unique_id("f");
    let name = |n: &str| format!("{tag}-{n}");
    // a: Chrome/Windows, identified, errors, long, custom event `buy`, visited /pricing.
    let mut a = recorder_as(&hub, &name("a"), CHROME_WINDOWS).await;
    send_durable(
        &mut a,
        1,
        &[
            meta(1_000, "https://shop.example/"),
            full(1_001),
            custom(
                1_100,
                "$identify",
                json!({"user_id":"alice","traits":{"company":"Acme"}}),
            ),
            moved(1_200),
            moved(4_200),
            custom(
                2_000,
                "$pageview",
                json!({"url":"https://shop.example/pricing"}),
            ),
            console(2_100, "error", "console"),
            custom(2_200, "buy", json!({})),
            moved(61_000),
        ],
    )
    .await;
    // b: Safari/iPhone, anonymous, short, no error.
    let mut b = recorder_as(&hub, &name("b"), SAFARI_IPHONE).await;
    send_durable(
        &mut b,
        1,
        &[
            meta(1_000, "https://blog.example/post"),
            full(1_001),
            moved(3_000),
        ],
    )
    .await;
    // c: Firefox/Linux, identified as bob, medium, two errors, ended.
    let mut c = recorder_as(&hub, &name("c"), FIREFOX_LINUX).await;
    send_durable(
        &mut c,
        1,
        &[
            meta(1_000, "https://shop.example/cart"),
            full(1_001),
            custom(1_100, "$identify", json!({"user_id":"bob"})),
            console(1_200, "error", "uncaught"),
            console(1_300, "error", "console"),
            moved(1_400),
            moved(1_900),
            moved(11_000),
        ],
    )
    .await;
    drop(c);
    let key_c = format!("default:{}", name("c"));
    hub.db.execute(&format!(
        "UPDATE sessions SET ended_at = last_event_at WHERE id = '{key_c}'"
    ));
    let mine = |body: &Value| -> Vec<String> {
        session_ids(body)
            .into_iter()
            .filter(|i| i.starts_with(&tag))
            .map(|i| i[tag.len() + 1..].to_owned())
            .collect()
    };
    let list = |q: String| {
        let hub = &hub;
        async move {
            let (status, body) = hub.get(&format!("/api/sessions?all=true&{q}")).await;
            assert_eq!(status, 200, "{q}: {body}");
            body
        }
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("user=alice".into(), vec!["a"]),
        ("q=Acme".into(), vec!["a"]),
        ("q=blog.example".into(), vec!["b"]),
        ("q=bob".into(), vec!["c"]),
        ("url=%2Fpricing".into(), vec!["a"]),
        ("url=shop.example".into(), vec!["c", "a"]),
        // Substrings ignore case alike on both backends (PostgreSQL's LIKE alone would not).
        ("q=ACME".into(), vec!["a"]),
        ("q=Blog.Example".into(), vec!["b"]),
        ("url=%2FPRICING".into(), vec!["a"]),
        ("url=SHOP.example%2FCart".into(), vec!["c"]),
        // In the row (first URL) and in the pages at once: each session once.
        ("q=shop.example".into(), vec!["c", "a"]),
        ("q=shop.example&limit=1".into(), vec!["c"]),
        (
            "q=shop.example&sort=started&order=asc".into(),
            vec!["a", "c"],
        ),
        // A LIKE wildcard is a character like any other.
        ("q=shop%25example".into(), vec![]),
        ("url=shop_example".into(), vec![]),
        ("has_errors=true".into(), vec!["c", "a"]),
        ("event=buy".into(), vec!["a"]),
        ("browser=Safari".into(), vec!["b"]),
        ("os=Linux".into(), vec!["c"]),
        ("device=mobile".into(), vec!["b"]),
        ("device=desktop".into(), vec!["c", "a"]),
        ("status=ended".into(), vec!["c"]),
        ("status=live".into(), vec!["b", "a"]),
        ("min_duration_ms=10000".into(), vec!["c", "a"]),
        ("max_duration_ms=9999".into(), vec!["b"]),
        (
            "min_duration_ms=5000&max_duration_ms=20000".into(),
            vec!["c"],
        ),
        ("sort=duration&order=desc".into(), vec!["a", "c", "b"]),
        ("sort=duration&order=asc".into(), vec!["b", "c", "a"]),
        ("sort=active&order=desc".into(), vec!["a", "c", "b"]),
        ("sort=errors".into(), vec!["c", "a", "b"]),
        ("sort=started&order=asc".into(), vec!["a", "b", "c"]),
        ("".into(), vec!["c", "b", "a"]),
    ];
    for (q, want) in cases {
        let body = list(q.clone()).await;
        assert_eq!(mine(&body), want, "{q}");
    }
    // Time range on the start: `from` after all three starts finds none of them; RFC 3339 and
    // epoch milliseconds both work.
    let started = |n: &str| {
        hub.db.scalar(&format!(
            "SELECT started_at AS n FROM sessions WHERE id = 'default:{}'",
            name(n)
        ))
    };
    let (sa, sc) = (started("a"), started("c"));
    let body = list(format!("from={sa}&to={sc}")).await;
    assert_eq!(mine(&body), ["c", "b", "a"]);
    let rfc = chrono::DateTime::from_timestamp_millis(sc + 1)
        .unwrap()
        .to_rfc3339();
    let body = list(format!("from={}", urlencode(&rfc))).await;
    assert!(mine(&body).is_empty(), "{body}");
    // Active time bounds, inclusive, against the active times the list reports.
    let body = list("sort=active&order=asc".into()).await;
    let active: Vec<(String, i64)> = body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["active_ms"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(mine(&body), ["b", "c", "a"], "{body}");
    let (lo, mid, hi) = (active[0].1, active[1].1, active[2].1);
    assert!(lo < mid && mid < hi, "distinct active times: {active:?}");
    for (q, want) in [
        (format!("min_active_ms={mid}"), vec!["c", "a"]),
        (format!("min_active_ms={}", mid + 1), vec!["a"]),
        (format!("max_active_ms={mid}"), vec!["c", "b"]),
        (format!("max_active_ms={}", mid - 1), vec!["b"]),
        (
            format!("min_active_ms={mid}&max_active_ms={mid}"),
            vec!["c"],
        ),
        (format!("min_active_ms={}&sort=active", hi + 1), vec![]),
    ] {
        let body = list(q.clone()).await;
        assert_eq!(mine(&body), want, "{q}: {active:?}");
    }
    // The same sorts, a page of one at a time through the cursor.
    for (sort, want) in [
        ("sort=duration&order=desc", vec!["a", "c", "b"]),
        // A search's two halves (row and pages) merged, a page at a time.
        ("q=EXAMPLE&sort=started&order=asc", vec!["a", "b", "c"]),
        ("q=example&sort=errors&order=desc", vec!["c", "a", "b"]),
        ("sort=errors&order=asc", vec!["b", "a", "c"]),
        ("sort=active&order=asc", vec!["b", "c", "a"]),
    ] {
        let mut got = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let q = match &cursor {
                Some(c) => format!("url=example&{sort}&limit=1&cursor={}", urlencode(c)),
                None => format!("url=example&{sort}&limit=1"),
            };
            let body = list(q).await;
            got.extend(mine(&body));
            cursor = body["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        let got: Vec<&str> = got.iter().map(String::as_str).collect();
        let want: Vec<&str> = want.clone();
        // Other tests' sessions are in other databases: these three are all there is.
        assert_eq!(got, want, "{sort}");
    }
}
both!(every_filter_and_sort_of_the_list_selects_the_right_sessions);

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn paging_stays_stable_while_new_sessions_arrive(backend: Backend) {
    let hub = Hub::start(backend).await;
    let mut existing = HashSet::new();
    for i in 0..12 {
        let id = unique_id(&format!("p{i}"));
        let (mut rec, _) = hub.recorder(&id).await;
        send_durable(&mut rec, 1, &page(1_000, 1 + i)).await;
        existing.insert(id);
    }
    for sort in ["sort=started", "sort=duration&order=asc", "sort=active"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for round in 0..20 {
            let q = match &cursor {
                Some(c) => format!("/api/sessions?{sort}&limit=5&cursor={}", urlencode(c)),
                None => format!("/api/sessions?{sort}&limit=5"),
            };
            let (status, body) = hub.get(&q).await;
            assert_eq!(status, 200, "{body}");
            seen.extend(session_ids(&body));
            // A new session between two pages.
            let id = unique_id(&format!("new{round}"));
            let (mut rec, _) = hub.recorder(&id).await;
            send_durable(&mut rec, 1, &page(1_000, 3)).await;
            cursor = body["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort}: no duplicates in {seen:?}"
        );
        for id in &existing {
            assert!(seen.contains(id), "{sort}: {id} missed");
        }
    }
}
both!(paging_stays_stable_while_new_sessions_arrive);

async fn bad_list_parameters_are_refused_naming_them(backend: Backend) {
    let hub = Hub::start(backend).await;
    for (q, name) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("min_duration_ms=abc", "min_duration_ms"),
        ("max_duration_ms=1.5", "max_duration_ms"),
        ("min_active_ms=soon", "min_active_ms"),
        ("max_active_ms=1e3", "max_active_ms"),
        ("has_errors=maybe", "has_errors"),
        ("status=paused", "status"),
        ("sort=name", "sort"),
        ("order=up", "order"),
        ("limit=ten", "limit"),
        ("user=", "user"),
        ("cursor=nonsense", "cursor"),
        ("cursor=newest.desc.1.default%3Aabc", "cursor"),
    ] {
        let (status, body) = hub.get(&format!("/api/sessions?{q}")).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["error"], "invalid_query", "{q}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("`{name}`")), "{q}: {message}");
    }
    // The hub keeps serving.
    let (status, _) = hub.get("/api/sessions").await;
    assert_eq!(status, 200);
}
both!(bad_list_parameters_are_refused_naming_them);

async fn list_requests_never_hold_up_durable_acks(backend: Backend) {
    // Two connections for the writer and the sessions: without a pool of their own, 24 list
    // loops would hold them.
    let hub = Hub::start_with(backend, |c| c.db_pool_size = 2).await;
    let id = unique_id("busy");
    let (mut rec, _) = hub.recorder(&id).await;
    send_durable(&mut rec, 1, &page(1_000, 5)).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lists = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let base = hub.http("/api/sessions?all=true&q=shop&limit=1000");
    let cookie = format!("streamdom_session={}", hub.admin.session.clone().unwrap());
    let mut loops = Vec::new();
    for _ in 0..24 {
        let (stop, lists, url, cookie) =
            (stop.clone(), lists.clone(), base.clone(), cookie.clone());
        loops.push(actix_web::rt::spawn(async move {
            let client = awc::Client::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client
                    .get(&url)
                    .insert_header(("cookie", cookie.as_str()))
                    .timeout(std::time::Duration::from_secs(30))
                    .send()
                    .await;
                if let Ok(mut r) = res {
                    let _ = r.body().limit(64 << 20).await;
                    lists.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    // Every event is acknowledged while the loops run, one frame at a time.
    let mut seq = 8;
    for i in 0..100 {
        seq = send_durable(&mut rec, seq, &[moved(10_000 + i)]).await + 1;
    }
    // A new session still opens and stores.
    let other = unique_id("fresh");
    let (mut rec2, welcome) = hub.recorder(&other).await;
    assert_eq!(welcome["received_seq"], 0);
    send_durable(&mut rec2, 1, &page(1_000, 2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in loops {
        l.await.unwrap();
    }
    assert!(
        lists.load(std::sync::atomic::Ordering::Relaxed) >= 24,
        "the list loops ran"
    );
    assert_eq!(hub.stored(&id).await.len(), 107);
}
both!(list_requests_never_hold_up_durable_acks);

/// `GET path` with the sign-in cookie of `creds`, giving up after `within`: its status and
/// body, or `None` when it did not answer in time.
async fn get_within(
    hub: &Hub,
    path: &str,
    creds: &Creds,
    within: std::time::Duration,
) -> Option<(u16, Value)> {
    let cookie = format!("streamdom_session={}", creds.session.clone().unwrap());
    let mut res = awc::Client::default()
        .get(hub.http(path))
        .insert_header(("cookie", cookie))
        .timeout(within)
        .send()
        .await
        .ok()?;
    let body = res.body().limit(64 << 20).await.ok()?;
    Some((
        res.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    ))
}

async fn the_list_answers_from_the_database_while_every_writer_connection_waits(backend: Backend) {
    use diesel::{connection::SimpleConnection, Connection};
    let hub = Hub::start_with(backend, |c| c.db_pool_size = 2).await;
    let id = unique_id("held");
    let (mut rec, _) = hub.recorder(&id).await;
    send_durable(&mut rec, 1, &page(1_000, 3)).await;
    // A member too: the list reads a member's grants before the sessions.
    hub.db
        .add_user("mia", "mia-password", streamdom::auth::Role::Member);
    hub.grant("default", "mia").await;
    let mia = hub.sign_in("mia", "mia-password").await.unwrap();
    // Another connection holds what every write of the hub waits for; reads go on.
    let mut lock = streamdom::db::DbConn::establish(&hub.db.url).unwrap();
    match backend {
        Backend::Sqlite => lock.batch_execute("BEGIN IMMEDIATE").unwrap(),
        Backend::Postgres => lock
            .batch_execute("BEGIN; LOCK TABLE session_access IN EXCLUSIVE MODE")
            .unwrap(),
    }
    // Three watches of the session: each writes its access-log row first, on the main pool,
    // so its two connections end up waiting on the lock (SQLite gives up after 10 s).
    let watches: Vec<_> = (0..3)
        .map(|_| {
            let (url, cookie) = (
                hub.http(&format!("/api/sessions/{id}/events")),
                format!("streamdom_session={}", hub.admin.session.clone().unwrap()),
            );
            actix_web::rt::spawn(async move {
                let _ = awc::Client::default()
                    .get(url)
                    .insert_header(("cookie", cookie))
                    .timeout(std::time::Duration::from_secs(30))
                    .send()
                    .await;
            })
        })
        .collect();
    // Until a read that takes the main pool (the API tokens) no longer answers: it is exhausted.
    let short = std::time::Duration::from_millis(800);
    eventually("the main pool is exhausted", || async {
        get_within(&hub, "/api/tokens", &hub.admin, short)
            .await
            .is_none()
    })
    .await;
    // The list answers from the database (not `partial`, from memory), for an admin and a
    // member, well within the 2 s a read waits for a connection.
    for who in [&hub.admin, &mia] {
        let (status, body) = get_within(&hub, "/api/sessions?all=true", who, short)
            .await
            .expect("the list answers while the main pool is exhausted");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["partial"], false, "{body}");
        assert_eq!(session_ids(&body), vec![id.clone()]);
    }
    drop(lock);
    for w in watches {
        w.await.unwrap();
    }
}
both!(the_list_answers_from_the_database_while_every_writer_connection_waits);

/// `n` ended sessions `s-0000`… written straight into the database, one a second back from
/// `t0`, each with the page `https://x.example/p-<i>` (as its first URL and in its pages).
fn seed_many(hub: &Hub, backend: Backend, n: u32, t0: i64) {
    let (from, key) = number_series(backend, n);
    hub.db.execute(&format!(
        "INSERT INTO sessions (id, project_id, started_at, last_event_at, ended_at, url) \
         SELECT 'default:s-' || {key}, 'default', {t0} - i * 1000, {t0} - i * 1000 + 500, \
         {t0} - i * 1000 + 500, 'https://x.example/p-' || i FROM {from}"
    ));
    hub.db.execute(&format!(
        "INSERT INTO session_pages (session_id, url) \
         SELECT 'default:s-' || {key}, 'https://x.example/p-' || i FROM {from}"
    ));
}

async fn substring_filters_find_matches_however_far_down_the_list(backend: Backend) {
    let hub = Hub::start(backend).await;
    // More sessions than SQLite walks before it lists every match (2,000).
    seed_many(&hub, backend, 2_500, 1_800_000_000_000);
    hub.db
        .execute("UPDATE sessions SET user_id = 'Needle-User' WHERE id = 'default:s-2400'");
    hub.db.execute(
        "INSERT INTO session_pages (session_id, url) VALUES ('default:s-2450', 'https://x.example/rare-Page')",
    );
    let list = |q: &'static str| {
        let hub = &hub;
        async move {
            let (status, body) = hub.get(&format!("/api/sessions?all=true&{q}")).await;
            assert_eq!(status, 200, "{q}: {body}");
            session_ids(&body)
        }
    };
    // Only far down: found.
    assert_eq!(list("q=needle-USER").await, ["s-2400"]);
    assert_eq!(list("url=RARE-page").await, ["s-2450"]);
    assert_eq!(list("q=rare-page").await, ["s-2450"]);
    // Common: a page from the first sessions (p-24, p-240…p-249 are all near the top).
    assert_eq!(
        list("q=p-24&limit=5").await,
        ["s-0024", "s-0240", "s-0241", "s-0242", "s-0243"]
    );
    // One match near the top, ten far down: all eleven, in order.
    let want: Vec<String> = std::iter::once("s-0249".to_owned())
        .chain((2490..2500).map(|i| format!("s-{i}")))
        .collect();
    assert_eq!(list("url=p-249&limit=20").await, want);
    assert_eq!(list("q=P-249&limit=20").await, want);
    // The same, a page of four at a time through the cursor.
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!(
                "/api/sessions?all=true&url=p-249&limit=4&cursor={}",
                urlencode(c)
            ),
            None => "/api/sessions?all=true&url=p-249&limit=4".to_owned(),
        };
        let (_, body) = hub.get(&path).await;
        got.extend(session_ids(&body));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(got.len() <= want.len(), "{got:?}");
    }
    assert_eq!(got, want);
}
both!(substring_filters_find_matches_however_far_down_the_list);
