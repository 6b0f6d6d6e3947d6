//! A viewer that stops reading (a frozen tab, a full TCP window) costs the hub a bounded amount
//! of memory and is dropped, while everyone else keeps going. Alone in its test binary so that
//! the process's memory is the hub's and this test's only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{io::Read, net::SocketAddr, time::Duration};

use common::*;

const MIB: usize = 1024 * 1024;

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

/// A viewer socket that completes the upgrade and then never reads again, with a small
/// receive buffer so that its TCP window closes quickly.
fn stuck_viewer(addr: SocketAddr, id: &str, session: &str) -> socket2::Socket {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(64 * 1024).unwrap();
    sock.connect(&addr.into()).unwrap();
    let req = format!(
        "GET /ws/watch/{id} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Cookie: streamdom_session={session}\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    sock.send(req.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    (&sock).read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101", "the upgrade is accepted");
    sock
}

async fn run(backend: Backend) {
    // The recorder sends far over its connection's byte rate: lifted here.
    let hub = Hub::start_with(backend, |c| {
        c.tcp_user_timeout_secs = 3;
        c.connection_bytes_per_sec = 0.0;
    })
    .await;
    let addr: SocketAddr = hub.base.parse().unwrap();
    let id = unique_id("stuck");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 0))).await;
    let mut healthy = hub.ws(&format!("/ws/watch/{id}")).await.unwrap();
    healthy.acking = true;
    healthy.recv_type("live").await;
    // Blocking socket calls run off this thread, which also runs the hub's registry and writer.
    let key = id.clone();
    let session = hub.admin.session.clone().unwrap();
    let stuck = tokio::task::spawn_blocking(move || stuck_viewer(addr, &key, &session))
        .await
        .unwrap();
    let before = rss_bytes();
    let mut peak = before;
    // 120 MiB of live events, far more than one viewer may have queued (32 MiB).
    let n = 600u64;
    for i in 0..n {
        rec.send(&frame(3 + i, &[heavy(2_000 + i as i64, 200 * 1024)]))
            .await;
        let (got, _) = healthy.events(1).await;
        assert_eq!(
            seqs(&got),
            vec![3 + i],
            "the healthy viewer gets every event"
        );
        if i % 20 == 0 {
            peak = peak.max(rss_bytes());
        }
    }
    let growth = peak.saturating_sub(before);
    assert!(
        growth < 80 * MIB,
        "hub memory grew by {} MiB for a viewer that never reads",
        growth / MIB
    );
    // The kernel drops the stalled connection: once it is gone, only what was already in this
    // socket's receive buffer can still be read, not the tens of MiB the hub had queued.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let read = tokio::task::spawn_blocking(move || {
        stuck
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut read = 0usize;
        let mut buf = vec![0u8; 256 * 1024];
        while let Ok(k @ 1..) = (&stuck).read(&mut buf) {
            read += k;
            if read >= 16 * MIB {
                break;
            }
        }
        read
    })
    .await
    .unwrap();
    assert!(
        read < 16 * MIB,
        "the hub kept {read} bytes queued for a stalled viewer"
    );
    rec.close().await;
}

#[actix_web::test]
async fn a_viewer_that_never_reads_costs_bounded_memory_and_is_dropped() {
    run(Backend::Sqlite).await;
    #[cfg(feature = "postgres")]
    run(Backend::Postgres).await;
}
