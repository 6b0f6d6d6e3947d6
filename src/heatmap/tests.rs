use super::*;

const DAY: i64 = 24 * 3600 * 1000;

fn ev(seq: u64, ts: i64, kind: u8, json: String) -> Event {
    Event {
        seq,
        hub_time: 20_000 * DAY + ts,
        ts,
        kind,
        json: json.into(),
    }
}

fn meta(seq: u64, ts: i64, href: &str, w: i64, h: i64) -> Event {
    let j = format!(
        r#"{{"type":4,"data":{{"href":"{href}","width":{w},"height":{h}}},"timestamp":{ts}}}"#
    );
    ev(seq, ts, 4, j)
}

fn full(seq: u64, ts: i64, top: i64) -> Event {
    let j = format!(
        r#"{{"type":2,"data":{{"node":{{"type":0,"childNodes":[],"id":7}},"initialOffset":{{"left":0,"top":{top}}}}},"timestamp":{ts}}}"#
    );
    ev(seq, ts, 2, j)
}

fn click(ts: i64, sel: &str, ox: f64, oy: f64, px: f64, py: f64) -> Event {
    let j = format!(
        r#"{{"type":5,"data":{{"tag":"$click","payload":{{"sel":"{sel}","ox":{ox},"oy":{oy},"px":{px},"py":{py}}}}},"timestamp":{ts}}}"#
    );
    ev(9, ts, 5, j)
}

fn inc(ts: i64, data: &str) -> Event {
    ev(
        9,
        ts,
        3,
        format!(r#"{{"type":3,"data":{{"source":{data}}},"timestamp":{ts}}}"#),
    )
}

fn run(events: &[Event]) -> HashMap<(Kind, String, i64, i64), i64> {
    let mut h = HeatAccumulator::new("p", None, None, None);
    let mut out = HashMap::new();
    for e in events {
        h.observe(e);
    }
    for (k, d) in h.take().map(|w| w.deltas).unwrap_or_default() {
        assert_eq!((&*k.project, k.day), ("p", 20_000));
        *out.entry((k.kind, k.selector, k.gx, k.gy)).or_default() += d.count;
    }
    out.retain(|_, n| *n != 0);
    out
}

fn count(m: &HashMap<(Kind, String, i64, i64), i64>, kind: Kind) -> i64 {
    m.iter().filter(|(k, _)| k.0 == kind).map(|(_, n)| n).sum()
}

#[test]
fn paths_drop_scheme_host_query_and_fragment() {
    assert_eq!(
        page_path("https://shop.example/product/12?x=1#top"),
        "/product/12"
    );
    assert_eq!(page_path("http://shop.example"), "/");
    assert_eq!(page_path("https://shop.example?q=1"), "/");
    assert_eq!(page_path("/cart#a"), "/cart");
}

#[test]
fn viewport_widths_fall_in_three_buckets() {
    assert_eq!(bucket(Some(767)), "mobile");
    assert_eq!(bucket(Some(768)), "tablet");
    assert_eq!(bucket(Some(1023)), "tablet");
    assert_eq!(bucket(Some(1024)), "desktop");
    assert_eq!(bucket(None), "desktop");
}

#[test]
fn a_click_is_placed_by_element_and_offset_in_twentieths() {
    let m = run(&[
        meta(1, 0, "https://s.example/a?b", 1280, 800),
        click(10, "html>body>button#buy", 0.5, 0.26, 300.0, 200.0),
    ]);
    assert_eq!(
        m.get(&(Kind::Click, "html>body>button#buy".into(), 10, 5)),
        Some(&1)
    );
}

#[test]
fn a_click_without_a_selector_falls_back_to_page_coordinates() {
    let m = run(&[
        meta(1, 0, "/a", 1280, 800),
        ev(
            9,
            10,
            5,
            r#"{"type":5,"data":{"tag":"$click","payload":{"px":305,"py":199}},"timestamp":10}"#
                .into(),
        ),
    ]);
    assert_eq!(m.get(&(Kind::Click, String::new(), 300, 190)), Some(&1));
}

#[test]
fn clicks_before_any_page_is_known_are_not_counted() {
    let m = run(&[click(10, "a", 0.0, 0.0, 1.0, 1.0)]);
    assert_eq!(count(&m, Kind::Click), 0);
}

#[test]
fn rage_follows_the_summary_rule() {
    let m = run(&[
        meta(1, 0, "/a", 1280, 800),
        click(100, "b", 0.5, 0.5, 100.0, 100.0),
        click(900, "b", 0.5, 0.5, 110.0, 100.0),
        click(1800, "b", 0.5, 0.5, 100.0, 120.0),
        click(2700, "b", 0.5, 0.5, 100.0, 100.0),
        click(5000, "b", 0.5, 0.5, 100.0, 100.0),
        click(5100, "b", 0.5, 0.5, 500.0, 100.0),
    ]);
    assert_eq!(count(&m, Kind::Click), 6);
    assert_eq!(count(&m, Kind::Rage), 1, "a burst counts once");
}

#[test]
fn a_click_with_no_reaction_within_a_second_is_dead() {
    let m = run(&[
        meta(1, 0, "/a", 1280, 800),
        click(100, "dead", 0.5, 0.5, 10.0, 10.0),
        inc(1100, "1,\"positions\":[]"),
        inc(1101, "1,\"positions\":[]"),
    ]);
    assert_eq!(m.get(&(Kind::Dead, "dead".into(), 10, 10)), Some(&1));
}

#[test]
fn a_mutation_an_input_or_a_navigation_within_a_second_makes_a_click_live() {
    for reaction in [
        inc(1100, "0,\"adds\":[]"),
        inc(600, "5,\"text\":\"*\",\"id\":3"),
        meta(2, 900, "/b", 1280, 800),
        ev(
            9,
            900,
            5,
            r#"{"type":5,"data":{"tag":"$pageview","payload":{"url":"/c"}},"timestamp":900}"#
                .into(),
        ),
    ] {
        let m = run(&[
            meta(1, 0, "/a", 1280, 800),
            click(100, "live", 0.5, 0.5, 10.0, 10.0),
            reaction,
            inc(5000, "1,\"positions\":[]"),
        ]);
        assert_eq!(count(&m, Kind::Dead), 0);
        assert_eq!(count(&m, Kind::Click), 1);
    }
}

#[test]
fn a_click_in_the_last_second_stays_undecided() {
    let m = run(&[
        meta(1, 0, "/a", 1280, 800),
        click(100, "x", 0.5, 0.5, 10.0, 10.0),
    ]);
    assert_eq!(count(&m, Kind::Dead), 0);
}

#[test]
fn dead_click_rule_alone() {
    let mut d = DeadClicks::default();
    d.click(0, 'a');
    d.click(500, 'b');
    assert!(
        d.advance(1000).is_empty(),
        "exactly a second is still in time"
    );
    assert_eq!(d.advance(1001), vec!['a']);
    d.reacted(1200);
    assert!(d.advance(9000).is_empty());
}

#[test]
fn scroll_depth_counts_each_visit_once_at_its_deepest_row() {
    let m = run(&[
        meta(1, 0, "/a", 1280, 800),
        full(2, 1, 0),
        inc(10, "3,\"id\":7,\"x\":0,\"y\":450"),
        inc(20, "3,\"id\":7,\"x\":0,\"y\":100"),
        inc(30, "3,\"id\":99,\"x\":0,\"y\":5000"),
    ]);
    assert_eq!(count(&m, Kind::Scroll), 1);
    assert_eq!(m.get(&(Kind::Scroll, String::new(), 0, 1200)), Some(&1));
}

#[test]
fn moves_are_page_coordinates_on_a_20_px_grid() {
    let m = run(&[
        meta(1, 0, "/a", 1280, 800),
        full(2, 1, 100),
        inc(
            10,
            "1,\"positions\":[{\"x\":31,\"y\":5,\"id\":3,\"timeOffset\":0},{\"x\":39,\"y\":5,\"id\":3,\"timeOffset\":0}]",
        ),
    ]);
    assert_eq!(m.get(&(Kind::Move, String::new(), 20, 100)), Some(&2));
}

#[test]
fn a_full_snapshot_after_a_meta_is_the_pages_snapshot() {
    let mut h = HeatAccumulator::new("p", None, None, None);
    h.observe(&meta(4, 0, "https://s.example/a", 500, 900));
    h.observe(&full(5, 1, 0));
    let snap = h.take().and_then(|w| w.snapshot);
    assert_eq!(
        snap.map(|s| (s.path, s.bucket, s.meta_seq, s.full_seq, s.width)),
        Some(("/a".to_owned(), "mobile", 4, 5, 500))
    );
}

#[test]
fn the_document_is_read_from_a_full_snapshots_tail() {
    let j = r#"{"type":2,"data":{"node":{"type":0,"childNodes":[{"id":2}],"id":12},"initialOffset":{"left":3,"top":40}},"timestamp":1}"#;
    assert_eq!(sniff_document(j), Some((12, 3.0, 40.0)));
    assert_eq!(sniff_document(r#"{"type":2,"data":{}}"#), None);
}

/// What observing costs per event on recorded pages (bench/fixtures), beside the summary's:
/// `cargo test --lib heatmap::tests::observe_cost -- --ignored --nocapture`. See
/// docs/PERFORMANCE.md, "Heatmaps".
#[test]
#[ignore]
fn observe_cost_on_recorded_pages() {
    use serde_json::value::RawValue;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/fixtures");
    let mut events = Vec::new();
    for name in ["content.json.zst", "form.json.zst"] {
        let raw = std::fs::read(format!("{dir}/{name}")).expect("fixture");
        let json = zstd::decode_all(&raw[..]).expect("zstd");
        let list: Vec<Box<RawValue>> = serde_json::from_slice(&json).expect("array");
        for (i, r) in list.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(r.get()).expect("event");
            let kind = v["type"].as_u64().unwrap_or(0) as u8;
            let ts = v["timestamp"].as_f64().unwrap_or(0.0) as i64;
            events.push(ev(i as u64, ts, kind, r.get().to_owned()));
        }
    }
    let rounds = 20;
    let time = |f: &mut dyn FnMut(&Event)| {
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            for e in &events {
                f(e);
            }
        }
        t.elapsed().as_nanos() as f64 / (rounds * events.len()) as f64
    };
    let mut s = crate::summary::SessionSummary::default();
    let summary = time(&mut |e| s.observe(e));
    let mut h = HeatAccumulator::new("p", None, None, None);
    let heat = time(&mut |e| {
        h.observe(e);
        if e.seq % 50 == 0 {
            h.take();
        }
    });
    let bytes: usize = events.iter().map(|e| e.json.len()).sum();
    for kind in [2u8, 3, 4, 5, 6] {
        let of: Vec<&Event> = events.iter().filter(|e| e.kind == kind).collect();
        let mut h = HeatAccumulator::new("p", Some("/"), Some(1280), Some(800));
        let t = std::time::Instant::now();
        for e in &of {
            h.observe(e);
        }
        let n = of.len().max(1);
        println!(
            "kind {kind}: {} events, {} ns/event",
            of.len(),
            t.elapsed().as_nanos() as usize / n
        );
    }
    println!(
        "{} events ({} KiB): summary {summary:.0} ns/event, heatmap {heat:.0} ns/event",
        events.len(),
        bytes / 1024
    );
}
