//! The npm package `@streamdom/recorder` packs, installs, imports in Node and type-checks in a
//! consumer, and the hub's `/streamdom.d.mts` type-checks on its own (`web/check-package.mjs`).
#![allow(clippy::expect_used)]

use std::{path::Path, process::Command};

#[test]
fn the_recorder_package_installs_imports_and_type_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("node")
        .arg("web/check-package.mjs")
        .current_dir(root)
        .status()
        .expect("run node (Node.js 20+ with npm is needed)");
    assert!(
        status.success(),
        "the recorder package check failed ({status}); see the output above"
    );
}
