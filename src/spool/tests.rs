use std::sync::Arc;

use super::*;
use crate::event::{Event, SharedEvent};

fn events(seqs: std::ops::RangeInclusive<u64>, bytes: usize) -> Vec<SharedEvent> {
    seqs.map(|seq| {
        Arc::new(Event {
            seq,
            hub_time: 1_000 + seq as i64,
            ts: seq as i64,
            kind: 3,
            json: format!(r#"{{"type":3,"x":"{}"}}"#, "y".repeat(bytes)).into(),
        })
    })
    .collect()
}

fn rec<'a>(id: &'a str, events: &'a [SharedEvent]) -> RecordRef<'a> {
    RecordRef {
        session_id: id,
        opened: None,
        url: None,
        first_event_ts: None,
        events,
        summary: None,
    }
}

fn seqs(records: &[Record]) -> Vec<(String, u64)> {
    records
        .iter()
        .flat_map(|r| r.events.iter().map(|e| (r.session_id.clone(), e.seq)))
        .collect()
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    v.sort();
    v
}

#[test]
fn records_come_back_in_order_after_a_reopen_and_stored_segments_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (events(1..=3, 10), events(1..=2, 10));
    let a2 = events(4..=5, 10);
    {
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.append(&[rec("a", &a), rec("b", &b)]).unwrap();
        s.append(&[rec("a", &a2)]).unwrap();
        assert_eq!(s.records(), 3);
    }
    let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(s.records(), 3);
    let (got, pos) = s.peek(usize::MAX).unwrap();
    let want: Vec<(String, u64)> = [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2)]
        .into_iter()
        .chain([("a", 4), ("a", 5)])
        .map(|(s, n)| (s.to_owned(), n))
        .collect();
    assert_eq!(seqs(&got), want);
    s.consume(pos).unwrap();
    assert!(s.is_empty());
    assert!(
        segment_files(dir.path()).is_empty(),
        "the stored segment is gone"
    );
    drop(s);
    let s = Spool::open(dir.path(), 1 << 20).unwrap();
    assert!(s.is_empty());
}

#[test]
fn peeks_are_bounded_and_consumption_walks_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    // Segments of 64 KiB; each record about 10 KiB.
    let mut s = Spool::open(dir.path(), 512 << 10).unwrap();
    let batches: Vec<Vec<SharedEvent>> = (0..20u64)
        .map(|i| events(i * 10 + 1..=i * 10 + 10, 1000))
        .collect();
    for b in &batches {
        s.append(&[rec("s", b)]).unwrap();
    }
    assert!(segment_files(dir.path()).len() >= 3, "several segments");
    let (mut all, mut appended) = (Vec::new(), false);
    while !s.is_empty() {
        let (got, pos) = s.peek(30_000).unwrap();
        assert!(!got.is_empty() && got.len() <= 3, "bounded: {}", got.len());
        all.extend(seqs(&got).into_iter().map(|x| x.1));
        s.consume(pos).unwrap();
        // Appends go on while the spool drains.
        if !appended && all.len() >= 50 {
            appended = true;
            s.append(&[rec("s", &events(201..=201, 10))]).unwrap();
        }
    }
    assert_eq!(all, (1..=201).collect::<Vec<_>>());
    assert!(segment_files(dir.path()).is_empty());
}

#[test]
fn a_record_cut_short_at_the_end_is_cut_off_and_appends_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (events(1..=2, 10), events(3..=4, 10));
    {
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.append(&[rec("a", &a)]).unwrap();
    }
    let seg = segment_files(dir.path()).remove(0);
    let whole = fs::metadata(&seg).unwrap().len();
    // A second append killed halfway: its header and part of its payload.
    let mut torn = Vec::new();
    record::frame(&mut torn, &rec("a", &b));
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&torn[..torn.len() / 2]).unwrap();
    drop(f);
    let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(s.records(), 1);
    assert_eq!(
        fs::metadata(&seg).unwrap().len(),
        whole,
        "the torn tail is cut off"
    );
    s.append(&[rec("a", &b)]).unwrap();
    let (got, _) = s.peek(usize::MAX).unwrap();
    assert_eq!(
        seqs(&got).into_iter().map(|x| x.1).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
}

#[test]
fn a_damaged_final_record_is_cut_off_too() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.append(&[rec("a", &events(1..=1, 10))]).unwrap();
        s.append(&[rec("a", &events(2..=2, 10))]).unwrap();
    }
    let seg = segment_files(dir.path()).remove(0);
    let mut data = fs::read(&seg).unwrap();
    let last = data.len() - 2;
    data[last] ^= 0xff;
    fs::write(&seg, &data).unwrap();
    let s = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(s.records(), 1);
}

#[test]
fn damage_before_the_end_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.append(&[rec("a", &events(1..=1, 10))]).unwrap();
        s.append(&[rec("a", &events(2..=2, 10))]).unwrap();
    }
    let seg = segment_files(dir.path()).remove(0);
    let mut data = fs::read(&seg).unwrap();
    data[HEADER + 3] ^= 0xff; // inside the first record's payload
    fs::write(&seg, &data).unwrap();
    let err = Spool::open(dir.path(), 1 << 20).err().expect("refused");
    let msg = err.to_string();
    assert!(msg.contains("damaged record before the end"), "{msg}");
    assert!(msg.contains("at byte 0"), "{msg}");
}

#[test]
fn damage_in_an_earlier_segment_is_never_taken_for_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = Spool::open(dir.path(), 512 << 10).unwrap();
        for i in 0..10u64 {
            s.append(&[rec("s", &events(i * 10 + 1..=i * 10 + 10, 1000))])
                .unwrap();
        }
    }
    let first = segment_files(dir.path()).remove(0);
    let mut data = fs::read(&first).unwrap();
    let len = data.len();
    data[len - 3] ^= 0xff; // the final record of a segment that is not the last
    fs::write(&first, &data).unwrap();
    assert!(Spool::open(dir.path(), 512 << 10).is_err());
}

#[test]
fn the_spool_refuses_appends_past_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), 100 << 10).unwrap();
    let big = events(1..=10, 1000);
    let mut n = 0;
    while s.append(&[rec("s", &big)]).is_ok() {
        n += 1;
    }
    assert!(matches!(
        s.append(&[rec("s", &big)]),
        Err(Error::Overloaded)
    ));
    assert!(
        (8..=9).contains(&n),
        "about 10 KiB a record under 100 KiB: {n}"
    );
    assert!(s.bytes() <= 100 << 10);
    while s.bytes() > 50 << 10 {
        let (_, pos) = s.peek(10_000).unwrap();
        s.consume(pos).unwrap();
    }
    s.append(&[rec("s", &big)])
        .expect("room again once records are stored and their segment deleted");
}

#[test]
fn one_hub_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let _s = Spool::open(dir.path(), 1 << 20).unwrap();
    let err = Spool::open(dir.path(), 1 << 20).err().expect("locked");
    assert!(err.to_string().contains("another hub"), "{err}");
    let mut s = _s;
    s.close();
    assert!(s.append(&[rec("a", &events(1..=1, 1))]).is_err());
    Spool::open(dir.path(), 1 << 20).expect("free once closed");
}

/// Figures for docs/DEPLOY.md: `cargo test --release --lib spool_throughput -- --ignored
/// --nocapture` (in a directory on the disk the spool will use: `TMPDIR=…`).
#[test]
#[ignore]
fn spool_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), 4 << 30).unwrap();
    for (per_append, n) in [(64 << 10, 400), (1 << 20, 100), (4 << 20, 40)] {
        let batch = events(1..=(per_append / 1000) as u64, 1000 - 40);
        let bytes: usize = batch.iter().map(|e| e.json.len()).sum();
        let t = std::time::Instant::now();
        for _ in 0..n {
            s.append(&[rec("s", &batch)]).unwrap();
        }
        let took = t.elapsed().as_secs_f64();
        println!(
            "append+fsync of {} KiB: {:.1} MB/s, {:.2} ms each",
            per_append >> 10,
            (bytes * n) as f64 / took / 1e6,
            took * 1000.0 / n as f64
        );
    }
    let (total, t) = (s.bytes(), std::time::Instant::now());
    while !s.is_empty() {
        let (_, pos) = s.peek(4 << 20).unwrap();
        s.consume(pos).unwrap();
    }
    println!(
        "read back and delete: {:.1} MB/s",
        total as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
