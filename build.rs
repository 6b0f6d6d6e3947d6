//! Builds the recorder bundle and the dashboard with npm and esbuild, and lists the files for
//! `include_bytes!` so that the binary carries them.
// A build script reports failure by panicking with a message, so `expect` is the right tool here.
#![allow(clippy::expect_used)]

use std::{env, fs, path::Path, process::Command};

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| {
        panic!("{what}: could not start ({e}); is Node.js 20+ with npm installed?")
    });
    assert!(status.success(), "{what} failed with {status}");
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    let web = Path::new(&out).join("web");
    println!("cargo:rerun-if-env-changed=STREAMDOM_PREBUILT_WEB");
    // Packagers may build the web files separately (`node web/build.mjs --out DIR`).
    if let Ok(dir) = env::var("STREAMDOM_PREBUILT_WEB") {
        return write_list(Path::new(&out), Path::new(&dir));
    }
    for watched in [
        "recorder-js/src",
        "recorder-js/loader",
        "recorder-js/types.mjs",
        "recorder-js/tsconfig.json",
        "recorder-js/tsconfig.build.json",
        "web/build.mjs",
        "recorder-js/package.json",
        "static",
        "package.json",
        "package-lock.json",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    // `npm ci` only when the installed tree is missing or older than the lockfile.
    let lock = Path::new(&root).join("package-lock.json");
    let installed = Path::new(&root).join("node_modules/.package-lock.json");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&installed).is_none() || modified(&installed) < modified(&lock) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&root),
            "npm ci",
        );
    }
    run(
        Command::new("node")
            .arg("web/build.mjs")
            .arg("--out")
            .arg(&web)
            .current_dir(&root),
        "node web/build.mjs",
    );
    write_list(Path::new(&out), &web);
}

fn write_list(out: &Path, web: &Path) {
    let mut names: Vec<String> = fs::read_dir(web)
        .expect("web build output")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut list = String::from("static FILES: &[(&str, &[u8])] = &[\n");
    for name in names {
        let path = web.join(&name);
        list.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    list.push_str("];\n");
    fs::write(out.join("assets.rs"), list).expect("write assets.rs");
}
