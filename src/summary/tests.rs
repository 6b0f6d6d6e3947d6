use super::*;

fn ev(ts: i64, json: serde_json::Value) -> Event {
    let kind = json["type"].as_u64().unwrap_or(0) as u8;
    Event {
        seq: 0,
        hub_time: 0,
        ts,
        kind,
        json: json.to_string().into(),
    }
}

fn click(ts: i64, x: f64, y: f64) -> Event {
    ev(
        ts,
        serde_json::json!({"type":3,"data":{"source":2,"type":2,"id":1,"x":x,"y":y},"timestamp":ts}),
    )
}

fn input(ts: i64, source: u8) -> Event {
    ev(
        ts,
        serde_json::json!({"type":3,"data":{"source":source,"positions":[]},"timestamp":ts}),
    )
}

fn custom(ts: i64, tag: &str, payload: serde_json::Value) -> Event {
    ev(
        ts,
        serde_json::json!({"type":5,"data":{"tag":tag,"payload":payload},"timestamp":ts}),
    )
}

fn console(ts: i64, level: &str) -> Event {
    ev(
        ts,
        serde_json::json!({"type":6,"data":{"plugin":"rrweb/console@1",
            "payload":{"level":level,"payload":["x"],"trace":[],"source":"console"}},"timestamp":ts}),
    )
}

fn run(events: &[Event]) -> SessionSummary {
    let mut s = SessionSummary::default();
    for e in events {
        s.observe(e);
    }
    s
}

#[test]
fn three_close_clicks_within_a_second_each_are_one_rage_click() {
    let s = run(&[
        click(0, 100.0, 100.0),
        click(900, 110.0, 100.0),
        click(1800, 100.0, 125.0),
        click(2700, 100.0, 100.0),
    ]);
    assert_eq!(s.derived().click_count, 4);
    assert_eq!(s.derived().rage_click_count, 1, "a burst counts once");
}

#[test]
fn clicks_too_slow_or_too_far_apart_are_no_rage_click() {
    let slow = run(&[
        click(0, 0.0, 0.0),
        click(1001, 0.0, 0.0),
        click(2002, 0.0, 0.0),
    ]);
    assert_eq!(slow.derived().rage_click_count, 0);
    let far = run(&[
        click(0, 0.0, 0.0),
        click(100, 31.0, 0.0),
        click(200, 0.0, 31.0),
    ]);
    assert_eq!(far.derived().rage_click_count, 0);
    // The third click is near the second but not near the burst's first.
    let drift = run(&[
        click(0, 0.0, 0.0),
        click(100, 25.0, 0.0),
        click(200, 50.0, 0.0),
    ]);
    assert_eq!(drift.derived().rage_click_count, 0);
    let two_bursts = run(&[
        click(0, 0.0, 0.0),
        click(10, 0.0, 0.0),
        click(20, 0.0, 0.0),
        click(5000, 0.0, 0.0),
        click(5010, 0.0, 0.0),
        click(5020, 0.0, 0.0),
    ]);
    assert_eq!(two_bursts.derived().rage_click_count, 2);
}

#[test]
fn active_time_sums_input_gaps_under_five_seconds() {
    let s = run(&[
        input(1000, 1),
        input(2000, 3),
        // A mutation (source 0) is not input.
        input(2500, 0),
        input(4000, 5),
        // 5 s gap: not counted.
        input(9000, 6),
        input(9500, 12),
    ]);
    assert_eq!(s.derived().active_ms, 1000 + 2000 + 500);
    assert_eq!(s.derived().duration_ms, 8500, "first to last event");
}

#[test]
fn errors_are_console_errors_only() {
    let s = run(&[
        console(1, "error"),
        console(2, "warn"),
        console(3, "log"),
        ev(
            4,
            serde_json::json!({"type":6,"data":{"plugin":"streamdom/network@1",
                "payload":{"requests":[{"status":500,"level":"error"}]}},"timestamp":4}),
        ),
        console(5, "error"),
    ]);
    assert_eq!(s.derived().error_count, 2);
}

#[test]
fn pages_are_meta_events_and_pageviews() {
    let mut s = run(&[
        ev(
            0,
            serde_json::json!({"type":4,"data":{"href":"https://a.test/","width":1280,"height":720},"timestamp":0}),
        ),
        custom(
            10,
            "$pageview",
            serde_json::json!({"url":"https://a.test/pricing","title":"P"}),
        ),
        custom(
            20,
            "$pageview",
            serde_json::json!({"url":"https://a.test/"}),
        ),
        ev(
            30,
            serde_json::json!({"type":3,"data":{"source":4,"width":400,"height":800},"timestamp":30}),
        ),
    ]);
    let d = s.derived().clone();
    assert_eq!(d.page_count, 3);
    assert_eq!(s.pages(), ["https://a.test/", "https://a.test/pricing"]);
    assert_eq!(
        (d.viewport_width, d.viewport_height),
        (Some(400), Some(800))
    );
    let w = s.take_write().expect("changed");
    assert_eq!(w.new_pages, ["https://a.test/", "https://a.test/pricing"]);
    assert!(s.take_write().is_none(), "nothing new");
    s.observe(&custom(
        40,
        "$pageview",
        serde_json::json!({"url":"https://a.test/pricing"}),
    ));
    let w = s.take_write().expect("changed");
    assert!(w.new_pages.is_empty(), "a page seen before is not new");
    assert_eq!(w.derived.page_count, 4);
}

#[test]
fn identify_sets_user_and_traits_and_track_counts_custom_events() {
    let s = run(&[
        custom(
            0,
            "$identify",
            serde_json::json!({"user_id":"u-1","traits":{"plan":"pro"}}),
        ),
        custom(1, "checkout", serde_json::json!({"total":3})),
        custom(2, "checkout", serde_json::json!({})),
        custom(3, "signup", serde_json::json!(null)),
        custom(4, "$visibility", serde_json::json!({"state":"hidden"})),
        custom(5, "$identify", serde_json::json!({"user_id":42})),
    ]);
    let d = s.derived();
    assert_eq!(d.user_id.as_deref(), Some("42"), "the latest identify wins");
    assert_eq!(d.traits.as_deref(), Some(r#"{"plan":"pro"}"#));
    assert_eq!(d.custom_event_count, 3);
    assert_eq!(s.event_names, ["checkout", "signup"]);
}

#[test]
fn hostile_shapes_are_ignored_not_fatal() {
    let s = run(&[
        ev(0, serde_json::json!({"type":3,"data":"nope","timestamp":0})),
        ev(
            1,
            serde_json::json!({"type":5,"data":{"tag":7},"timestamp":1}),
        ),
        ev(2, serde_json::json!({"type":6,"timestamp":2})),
        custom(
            3,
            "$identify",
            serde_json::json!({"user_id":{"a":1},"traits":[1]}),
        ),
        custom(4, &"x".repeat(500), serde_json::json!({})),
    ]);
    let d = s.derived();
    assert_eq!(d.user_id, None);
    assert_eq!(d.traits, None);
    assert_eq!(d.custom_event_count, 1);
    assert_eq!(s.event_names[0].len(), MAX_NAME_CHARS);
}

#[test]
fn the_source_is_sniffed_from_rrwebs_shape_or_probed() {
    assert_eq!(
        sniff_source(r#"{"type":3,"data":{"source":12,"x":1}}"#),
        Some(12)
    );
    assert_eq!(
        sniff_source(r#"{"type":3,"data":{"x":1,"source":2}}"#),
        None
    );
    // Reordered keys still count as input through the probe.
    let s = run(&[
        ev(
            0,
            serde_json::json!({"timestamp":0,"data":{"y":1,"source":1},"type":3}),
        ),
        ev(
            100,
            serde_json::json!({"timestamp":100,"data":{"y":1,"source":1},"type":3}),
        ),
    ]);
    assert_eq!(s.derived().active_ms, 100);
}

#[test]
fn a_resumed_summary_keeps_counting_from_the_stored_fields() {
    let stored = Derived {
        click_count: 5,
        page_count: 2,
        duration_ms: 1000,
        ..Derived::default()
    };
    let mut s =
        SessionSummary::resume(stored, Some(10_000), vec!["https://a.test/".into()], vec![]);
    s.observe(&click(12_000, 0.0, 0.0));
    s.observe(&ev(
        12_500,
        serde_json::json!({"type":4,"data":{"href":"https://a.test/"},"timestamp":12500}),
    ));
    let d = s.derived();
    assert_eq!((d.click_count, d.page_count, d.duration_ms), (6, 3, 2500));
    assert!(s.take_write().expect("changed").new_pages.is_empty());
}

#[test]
fn user_agents_give_browser_os_and_device() {
    let c = client(Some(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/120.0.0.0 Safari/537.36",
    ));
    assert_eq!(c.browser.as_deref(), Some("Chrome"));
    assert_eq!(c.os.as_deref(), Some("Windows 10"));
    assert_eq!(c.device.as_deref(), Some("desktop"));
    let phone = client(Some(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
         (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    ));
    assert_eq!(phone.device.as_deref(), Some("mobile"));
    assert_eq!(phone.browser.as_deref(), Some("Safari"));
    assert_eq!(client(None), Client::default());
}

/// Not a check: the derivation's cost per event over the recorded fixtures, beside what parsing
/// each event (which the hub does anyway) costs. docs/PERFORMANCE.md ("What derivation costs at
/// ingest") has the figures and the command.
#[test]
#[ignore]
fn derivation_cost_per_event_on_the_fixtures() {
    use std::time::Instant;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/fixtures");
    let mut raw: Vec<Box<RawValue>> = Vec::new();
    for name in ["content.json.zst", "form.json.zst"] {
        let bytes = std::fs::read(dir.join(name)).expect("fixture");
        let json = zstd::decode_all(&bytes[..]).expect("zstd");
        let events: Vec<Box<RawValue>> = serde_json::from_slice(&json).expect("a JSON array");
        raw.extend(events);
    }
    let events: Vec<Event> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| crate::event::parse_event(r, i as u64 + 1, 0).expect("an event"))
        .collect();
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        for (i, r) in raw.iter().enumerate() {
            std::hint::black_box(crate::event::parse_event(r, i as u64 + 1, 0).ok());
        }
    }
    let parse = t.elapsed();
    let t = Instant::now();
    for _ in 0..rounds {
        let mut s = SessionSummary::default();
        // A write per event: at one event per frame the session hands one to the writer each time.
        for e in &events {
            s.observe(e);
            std::hint::black_box(s.take_write());
        }
    }
    let derive = t.elapsed();
    let n = (events.len() * rounds) as f64;
    let bytes: usize = events.iter().map(|e| e.json.len()).sum();
    println!(
        "{} events ({} KiB), {rounds} rounds: parse {:.2} µs/event, derive {:.2} µs/event",
        events.len(),
        bytes / 1024,
        parse.as_secs_f64() * 1e6 / n,
        derive.as_secs_f64() * 1e6 / n
    );
}
