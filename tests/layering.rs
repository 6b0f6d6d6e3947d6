//! The layering written in src/lib.rs holds: no module imports one above it. Reads every
//! source file and checks each `crate::<module>` it names against the order below.
#![allow(clippy::expect_used)]

use std::path::Path;

/// Top to bottom; a module may name only modules at its own level or further down. Leaves
/// share the bottom level.
const LAYERS: &[&[&str]] = &[
    &["server"],
    &[
        "api", "assets", "access", "admin", "ops", "online", "heat_api", "numbers",
    ],
    &["auth"],
    &["ws"],
    &["presence"],
    &["source", "retention"],
    &["registry"],
    &["cluster"],
    &["session"],
    &["writer"],
    &["spool"],
    &["db"],
    &[
        "protocol",
        "event",
        "chunk",
        "compression",
        "error",
        "config",
        "rate",
        "limits",
        "metrics",
        "summary",
        "heatmap",
    ],
];

fn level(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// `crate::a` and `crate::{a, b::…}` names in one file.
fn named_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of a braced list: track nesting so `db::{a, b}` counts as db.
            let mut depth = 0;
            let mut name = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if at_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if at_start && !name.is_empty() => {
                        out.push(std::mem::take(&mut name));
                        at_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.push(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_owned())
            .unwrap_or_default();
        if top == "lib" || top == "main" {
            continue;
        }
        let own = level(&top).unwrap_or_else(|| panic!("src/{top} is not in the layering"));
        let text = std::fs::read_to_string(&file).expect("read");
        for name in named_modules(&text) {
            let Some(theirs) = level(&name) else {
                continue;
            };
            checked += 1;
            if theirs < own {
                broken.push(format!("{} names crate::{name}", rel.display()));
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} imports found: the scan is broken"
    );
    assert!(broken.is_empty(), "imports going up: {broken:#?}");
}

#[test]
fn the_scan_sees_braced_and_plain_imports() {
    let text = "use crate::{\n    db::{sessions, Store},\n    error::Error,\n};\nlet x = crate::event::now_ms();";
    assert_eq!(named_modules(text), vec!["db", "error", "event"]);
}
