//! A process that ends while other threads still talk to PostgreSQL over TLS ends cleanly. The
//! hub ends while pool and arbiter threads may still open or close connections, and a test binary
//! ends the same way when its last test returns: if OpenSSL tears its state down at exit under
//! those threads, the process dies with SIGSEGV after everything passed.
//!
//! Runs without the test harness: the parent starts this same binary as a child whose threads
//! keep opening, using and closing TLS connections while it returns from `main`, and checks how
//! each child ended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{process::Command, time::Duration};

use diesel::connection::SimpleConnection;

const CHILD: &str = "STREAMDOM_EXIT_TEST_CHILD";
const RUNS: usize = 30;

#[cfg(feature = "postgres")]
fn main() {
    match std::env::var(CHILD) {
        Ok(url) => child(&url),
        Err(_) => parent(),
    }
}

#[cfg(not(feature = "postgres"))]
fn main() {
    println!("exit: this build has no PostgreSQL support; nothing to run");
}

#[cfg(feature = "postgres")]
fn parent() {
    // TLS is what matters here: the server at the default URL has it on.
    let url = tls_url(&common::postgres_url());
    for run in 1..=RUNS {
        let out = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, &url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("busy connections: 4"),
            "run {run}: the child never got its connections busy: {stderr}"
        );
        assert!(
            out.status.success(),
            "run {run}: a process ending while its PostgreSQL connections were busy ended with \
             {:?} ({stderr})",
            out.status
        );
    }
    println!("test a_process_ending_while_postgres_connections_are_busy_ends_cleanly ... ok ({RUNS} runs)");
}

#[cfg(feature = "postgres")]
fn tls_url(base: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}sslmode=require")
}

#[cfg(feature = "postgres")]
fn child(url: &str) {
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..4 {
        let tx = tx.clone();
        let url = url.to_owned();
        std::thread::spawn(move || {
            let mut first = true;
            // Until the process ends: connections opened, used and closed, each a TLS handshake
            // and teardown, as a hub's pools do when connections come and go.
            loop {
                let used = streamdom::db::establish_postgres(&url)
                    .map_err(|e| e.to_string())
                    .and_then(|mut c| c.batch_execute("SELECT 1").map_err(|e| e.to_string()));
                if first {
                    tx.send(used).unwrap();
                    first = false;
                }
            }
        });
    }
    for _ in 0..4 {
        let used = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        used.expect("a TLS connection to PostgreSQL");
    }
    eprintln!("busy connections: 4");
    std::thread::sleep(Duration::from_millis(50));
    // Returning ends the process while the four threads open and close connections.
}
