//! Runs the web unit tests (`npm run test:unit`: the recorder's and the watch page's `*.test.ts`,
//! bundled by esbuild and run by Node's test runner) and fails if any of them fails. The build
//! script has already installed the npm packages they need.
#![allow(clippy::expect_used)]

use std::{path::Path, process::Command};

#[test]
fn web_unit_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Output goes straight to the terminal while the tests run.
    let status = Command::new("npm")
        .args(["run", "--silent", "test:unit"])
        .current_dir(root)
        .status()
        .expect("run npm (Node.js 20+ with npm is needed for the web unit tests)");
    assert!(
        status.success(),
        "web unit tests failed ({status}); see the output above"
    );
}
