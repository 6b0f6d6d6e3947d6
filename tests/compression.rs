//! Compressed frames (docs/PROTOCOL.md, "Compressed frames"): what a recorder sends deflated is
//! stored byte for byte as if it had been sent as text, in any mix with plain frames; a frame
//! that inflates past the frame limit is refused whole; viewers that ask get large frames
//! deflated and the same events. Each test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::*;
use flate2::{
    write::{DeflateEncoder, GzEncoder, ZlibEncoder},
    Compression,
};
use serde_json::{json, Value};

/// A binary frame as the recorder sends it: the encoding byte, then the compressed text.
fn deflate_raw(text: &str) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(vec![1u8], Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn gzip(tag: Option<u8>, text: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(tag.into_iter().collect(), Compression::default());
    enc.write_all(text).unwrap();
    enc.finish().unwrap()
}

/// Events written the way a browser might (odd spacing, key order, escapes): the hub must keep
/// these bytes exactly, so comparing texts proves nothing was re-serialised.
fn odd_event(ts: i64, n: u64) -> String {
    format!(
        r#"{{ "timestamp":{ts}, "type" :3,"data":{{"source":2,"z":"\u00e9{n}","a":[1,  2]}} }}"#
    )
}

fn frame_text(seq: u64, events: &[String]) -> String {
    format!(
        r#"{{"type":"events","seq":{seq},"events":[{}]}}"#,
        events.join(",")
    )
}

/// The session's stored events as the API returns them with `format=rrweb`: raw bytes.
async fn stored_text(hub: &Hub, id: &str) -> String {
    let mut res = awc::Client::new()
        .get(hub.http(&format!("/api/sessions/{id}/events")))
        .insert_header((
            "cookie",
            format!("streamdom_session={}", hub.admin.session.clone().unwrap()),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    String::from_utf8(res.body().limit(64 << 20).await.unwrap().to_vec()).unwrap()
}

async fn compressed_and_plain_frames_store_the_same_bytes(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("mixed");
    let (mut rec, _) = hub.recorder(&id).await;
    // A page opening deflated (as big frames are), then gzip, text, deflate-raw again.
    let opening = vec![
        meta(1_000, "https://shop.example/").to_string(),
        heavy(1_001, 200_000).to_string(),
    ];
    let rest: Vec<String> = (3..=8).map(|n| odd_event(1_000 + n as i64, n)).collect();
    rec.send_binary(deflate_raw(&frame_text(1, &opening))).await;
    rec.send_binary(gzip(Some(2), frame_text(3, &rest[0..2]).as_bytes()))
        .await;
    rec.send_text(frame_text(5, &rest[2..4])).await;
    rec.send_binary(deflate_raw(&frame_text(7, &rest[4..6])))
        .await;
    rec.ack_of(8, WAIT).await;
    let all: Vec<String> = opening.into_iter().chain(rest).collect();
    assert_eq!(stored_text(&hub, &id).await, format!("[{}]", all.join(",")));

    // The POST fallback takes gzip and zlib bodies (`Content-Encoding`), same bytes again.
    let more = [odd_event(2_000, 9), odd_event(2_001, 10)];
    for (seq, encoding, body) in [
        (9, "gzip", gzip(None, frame_text(9, &more[..1]).as_bytes())),
        (10, "deflate", {
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            z.write_all(frame_text(10, &more[1..]).as_bytes()).unwrap();
            z.finish().unwrap()
        }),
    ] {
        let mut res = awc::Client::new()
            .post(hub.http(&keyed(&format!("/api/sessions/{id}/events"))))
            .insert_header(("content-encoding", encoding))
            .timeout(std::time::Duration::from_secs(30))
            .send_body(body)
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{body}");
        assert_eq!(body["durable_seq"], json!(seq), "{body}");
    }
    let all: Vec<String> = all.into_iter().chain(more).collect();
    assert_eq!(stored_text(&hub, &id).await, format!("[{}]", all.join(",")));
}
both!(compressed_and_plain_frames_store_the_same_bytes);

async fn a_frame_inflating_past_the_limit_is_refused_and_nothing_is_stored(backend: Backend) {
    let limit = 256 * 1024;
    let hub = Hub::start_with(backend, |c| c.max_frame_bytes = limit).await;
    let id = unique_id("bomb");
    let (mut rec, _) = hub.recorder(&id).await;
    // 64 MiB of JSON whitespace inside a valid frame: ~64 KiB on the wire, under the limit.
    let mut enc = DeflateEncoder::new(vec![1u8], Compression::best());
    enc.write_all(br#"{"type":"events","seq":1,"events":[{"type":3,"timestamp":1,"data":{}}"#)
        .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&spaces).unwrap();
    }
    enc.write_all(b"]}").unwrap();
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < limit, "the bomb itself fits: {}", bomb.len());
    rec.send_binary(bomb.clone()).await;
    let (code, reason, before) = rec.closed().await;
    assert_eq!(
        (code, reason.as_str()),
        (4413, "frame_too_large"),
        "{before:?}"
    );

    // The same body by POST: 413, nothing stored.
    let mut res = awc::Client::new()
        .post(hub.http(&keyed(&format!("/api/sessions/{id}/events"))))
        .insert_header(("content-encoding", "gzip"))
        .send_body(gzip(None, &{
            let mut text = br#"{"type":"events","seq":1,"events":["#.to_vec();
            text.resize(4 << 20, b' ');
            text
        }))
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (res.status().as_u16(), body["error"].as_str()),
        (413, Some("frame_too_large"))
    );
    assert!(hub.stored(&id).await.is_empty());

    // The hub is fine: the session takes a good compressed frame next.
    let (mut rec, welcome) = hub.recorder(&id).await;
    assert_eq!(welcome["received_seq"], json!(0));
    rec.send_binary(deflate_raw(&frame_text(1, &[odd_event(5, 1)])))
        .await;
    rec.ack_of(1, WAIT).await;
    assert_eq!(hub.stored(&id).await.len(), 1);
}
both!(a_frame_inflating_past_the_limit_is_refused_and_nothing_is_stored);

async fn viewers_that_ask_get_large_frames_deflated_and_the_same_events(backend: Backend) {
    let hub = Hub::start(backend).await;
    let id = unique_id("viewer");
    let (mut rec, _) = hub.recorder(&id).await;
    let opening = [meta(1_000, "https://shop.example/"), heavy(1_001, 300_000)];
    rec.send(&frame(1, &opening)).await;
    rec.ack_of(2, WAIT).await;

    let mut plain = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    let mut packed = hub
        .ws(&format!("/ws/watch/{id}?enc=deflate-raw"))
        .await
        .unwrap();
    plain.acking = true;
    packed.acking = true;
    let (a, _) = plain.events(2).await;
    let (b, _) = packed.events(2).await;
    assert_eq!(a, b);
    assert_eq!((plain.binary_frames, packed.binary_frames), (0, 1));
    packed.recv_type("live").await;

    // A small live frame stays text; a large one (a new page) is deflated.
    rec.send(&frame(3, &[inc(1_010, 3)])).await;
    let (live, _) = packed.events(1).await;
    assert_eq!(seqs(&live), [3]);
    assert_eq!(packed.binary_frames, 1);
    rec.send(&frame(4, &[heavy(1_020, 100_000)])).await;
    let (live, _) = packed.events(1).await;
    assert_eq!(live[0]["event"], heavy(1_020, 100_000));
    assert_eq!(packed.binary_frames, 2);

    // Anything else in `enc` is a bad query, refused before the upgrade.
    let (status, body) = hub
        .ws(&format!("/ws/watch/{id}?enc=br"))
        .await
        .err()
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_query"))
    );
}
both!(viewers_that_ask_get_large_frames_deflated_and_the_same_events);
