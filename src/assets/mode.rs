//! `streamdom.js?key=…` tells the recorder its project's `record_mode` before it starts: for a
//! project in `sample` or `standby`, the script begins with one statement that leaves the mode
//! where the bundle reads it (`globalThis[Symbol.for("streamdom.mode")]`, no global name a page
//! could clash with). Why in the script rather than in the socket's welcome: the recorder has to
//! decide before it starts rrweb (a standby page must not serialize its DOM) and before it picks
//! a socket; waiting for a welcome would delay the first snapshot of every `all` page by a
//! round trip, and a page loading while the hub is unreachable would record nothing. A project
//! in `all` gets the very same bytes, entity tags and precompressed files as before.
//!
//! The prefixed script has its own entity tag (the bundle's hash and the prefix's), so a mode
//! change reaches each visitor's next page (the plain URL revalidates on every use). It is sent
//! raw or gzipped (made once per distinct prefix and kept; brotli is for the plain file only).

use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, LazyLock, Mutex},
};

use sha2::{Digest, Sha256};

use crate::{auth::projects::RecordMode, db::projects::ProjectRow};

/// Distinct prefixes whose gzip is kept (one per project not in `all` in practice).
const MAX_CACHED: usize = 256;

static GZIPPED: LazyLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The statement to prepend for this project, if its mode is not `all`.
pub fn prefix(row: &ProjectRow) -> Option<String> {
    let mode = RecordMode::parse(&row.record_mode)?;
    if mode == RecordMode::All {
        return None;
    }
    let urls: Vec<&str> = row.sample_urls.split_whitespace().collect();
    let config = serde_json::json!({
        "record_mode": mode.name(),
        "sample_percent": row.sample_percent,
        "sample_urls": urls,
    });
    Some(format!(
        "globalThis[Symbol.for(\"streamdom.mode\")]={config};\n"
    ))
}

/// A short hash of the prefix for the entity tag.
pub fn tag(prefix: &str) -> String {
    let digest = Sha256::digest(prefix.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The prefixed script, raw.
pub fn raw(prefix: &str, script: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + script.len());
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(script);
    out
}

/// The prefixed script, gzipped (once per prefix and build).
pub fn gzip(prefix: &str, script: &[u8]) -> std::io::Result<Arc<Vec<u8>>> {
    // The script is the one embedded in this build: the prefix alone identifies the result.
    let key = prefix.to_owned();
    if let Some(hit) = GZIPPED.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(hit.clone());
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&raw(prefix, script))?;
    let packed = Arc::new(enc.finish()?);
    let mut cache = GZIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    cache.insert(key, packed.clone());
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mode: &str) -> ProjectRow {
        ProjectRow {
            id: "p".into(),
            public_key: None,
            allowed_origins: String::new(),
            retention_days: 30,
            created_at: 0,
            record_mode: mode.into(),
            sample_percent: 25,
            sample_urls: "/checkout/* /cart".into(),
        }
    }

    #[test]
    fn all_is_served_as_before_and_other_modes_are_prefixed() {
        assert_eq!(prefix(&row("all")), None);
        let p = prefix(&row("sample")).expect("prefixed");
        assert!(p.starts_with("globalThis[Symbol.for(\"streamdom.mode\")]={"));
        assert!(
            p.contains(r#""sample_urls":["/checkout/*","/cart"]"#),
            "{p}"
        );
        assert!(p.contains(r#""sample_percent":25"#));
        assert_ne!(tag(&p), tag(&prefix(&row("standby")).unwrap_or_default()));
    }
}
