//! Runs the browser tests (`tests/browser/*.test.mjs`, Node's test runner driving headless
//! Chromium) against the hub binary this `cargo test` just built, and fails if any of them fails.
#![allow(clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium comes from the system's package manager (`.ci/run` installs it); a test never installs
/// or downloads a browser.
fn ensure_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing; install it with `sudo apt-get update && sudo apt-get install -y chromium` \
         (`.ci/run` does this) and rerun"
    );
}

#[test]
fn browser_tests_pass_in_chromium() {
    ensure_chromium();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The files are listed here rather than passing the folder: Node versions differ in how
    // they search a directory given to --test.
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/browser"))
        .expect("tests/browser")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no tests/browser/*.test.mjs files");
    // Output goes straight to the terminal while the tests run.
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=1"])
        .args(&files)
        .env("STREAMDOM_BIN", env!("CARGO_BIN_EXE_streamdom"))
        .current_dir(root)
        .status()
        .expect("run node (Node.js 20+ is needed for the browser tests)");
    assert!(
        status.success(),
        "browser tests failed ({status}); see the output above"
    );
}
