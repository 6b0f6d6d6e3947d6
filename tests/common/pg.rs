//! A PostgreSQL server of the test's own: initialised in a temp directory, listening on a free
//! port, stopped (`-m immediate`, as a crash or a pulled cable would) and started again while a
//! hub records. Never the machine's shared server. Run as the `postgres` OS user (PostgreSQL
//! refuses to run as root) through `runuser`; binaries from `STREAMDOM_TEST_PG_BIN` or
//! /usr/lib/postgresql/15/bin.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

pub struct PrivatePg {
    _dir: tempfile::TempDir,
    data: PathBuf,
    sockets: PathBuf,
    pub port: u16,
}

fn bin(name: &str) -> PathBuf {
    let dir = std::env::var("STREAMDOM_TEST_PG_BIN")
        .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_owned());
    Path::new(&dir).join(name)
}

/// Runs a PostgreSQL tool as the `postgres` user; panics with its output when it fails.
fn as_postgres(tool: &str, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin(tool))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("runuser {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl PrivatePg {
    /// Initialises and starts a server; its `postgres` database is the hub's.
    pub fn start() -> PrivatePg {
        let dir = tempfile::tempdir().unwrap();
        let (data, sockets) = (dir.path().join("data"), dir.path().join("sockets"));
        std::fs::create_dir(&sockets).unwrap();
        // The temp dir is root's; the server's user must reach into it and own its parts.
        let status = Command::new("chmod")
            .arg("755")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&sockets)
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let data_s = data.to_str().unwrap();
        as_postgres(
            "initdb",
            &[
                "-D",
                data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let pg = PrivatePg {
            _dir: dir,
            data,
            sockets,
            port: free_port(),
        };
        pg.up();
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it takes connections.
    pub fn up(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.sockets.display()
        );
        let log = self.data.join("server.log");
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server at once, without a clean shutdown: every connection is cut.
    pub fn down(&self) {
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin("pg_ctl"))
            .args([
                "-D",
                self.data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}
