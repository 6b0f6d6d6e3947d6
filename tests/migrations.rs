//! The embedded migrations: Diesel keys a migration by the digits before the first `_` of its
//! folder, so two folders with the same version (two branches merged) would silently skip one;
//! and both backends must have the same migrations.
#![allow(clippy::expect_used)]

use std::{collections::BTreeMap, path::Path};

fn versions(backend: &str) -> BTreeMap<String, Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut by_version: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the migrations folder") {
        let name = entry
            .expect("a folder entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !Path::new(&dir).join(&name).is_dir() {
            continue;
        }
        let version: String = name
            .chars()
            .take_while(|c| *c != '_')
            .filter(char::is_ascii_digit)
            .collect();
        by_version.entry(version).or_default().push(name);
    }
    by_version
}

#[test]
fn every_migration_has_a_version_of_its_own_and_both_backends_have_the_same() {
    let (sqlite, postgres) = (versions("sqlite"), versions("postgres"));
    for (backend, found) in [("sqlite", &sqlite), ("postgres", &postgres)] {
        let shared: Vec<_> = found.values().filter(|names| names.len() > 1).collect();
        assert!(
            shared.is_empty(),
            "{backend}: migrations sharing a version: {shared:?}"
        );
    }
    assert_eq!(sqlite, postgres, "the two backends' migrations differ");
}
