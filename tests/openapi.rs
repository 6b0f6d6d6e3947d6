//! The OpenAPI document (docs/openapi.json) is what the hub serves, and the real hub keeps it:
//! schemathesis, a property-based tester, generates requests from the document (valid and
//! invalid ones, unlisted methods, sequences) against the real binary and checks every answer
//! against it (no 5xx, documented statuses, content types and schemas). It fails, never skips,
//! when schemathesis is missing (`.ci/run` installs the pinned version).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod process;

use std::process::Command;

use common::*;
use process::*;

/// The version `.ci/run` installs.
const SCHEMATHESIS: &str = "4.32.5";

#[actix_web::test]
async fn the_hub_serves_the_document_in_docs() {
    let hub = Hub::start(Backend::Sqlite).await;
    let mut res = awc::Client::new()
        .get(hub.http("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/json"
    );
    let served = res.body().limit(1 << 20).await.unwrap();
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json")).unwrap();
    assert_eq!(served, file);
    let doc: serde_json::Value = serde_json::from_slice(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
}

fn schemathesis_finds_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let (_dir, path) = workdir();
    let url = db.url.clone();
    let hub = HubProcess::start(
        &path,
        &["--database-url", &url],
        &[
            ("STREAMDOM_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("STREAMDOM_DEFAULT_KEY", TEST_KEY),
        ],
    );
    // Reads need a signed-in user: schemathesis sends an API token made for it. (The client
    // keeps the test database alive while the hub runs.)
    let (token, _client) = actix_web::rt::System::new().block_on(async {
        let cfg = streamdom::config::Config::with_defaults(hub.base.parse().unwrap(), url);
        let client = Hub::remote(db, cfg, hub.base.clone()).await;
        let body = serde_json::json!({"name": "schemathesis"});
        let (status, made, _) = client
            .call("POST", "/api/tokens", &client.admin, Some(body))
            .await;
        assert_eq!(status, 201, "{made}");
        (made["token"].as_str().unwrap().to_owned(), client)
    });
    let version = Command::new("schemathesis").arg("--version").output();
    let version = match version {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => panic!(
            "schemathesis is needed for this test and is missing ({e}): \
             pip install schemathesis=={SCHEMATHESIS}"
        ),
    };
    assert!(version.contains(SCHEMATHESIS), "{version}");
    let out = Command::new("schemathesis")
        .current_dir(&path)
        .args([
            "--config-file",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml"),
            "run",
            &hub.url("/api/openapi.json"),
            "--checks",
            "all",
            // Stateful sequences are left out: each POST parked ahead of a gap waits its 10 s,
            // which made them most of the run for no finding of their own.
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "10",
            "--seed",
            "1",
            // One worker: with two, hypothesis describes its filter lambdas from both threads
            // at once, and CPython 3.11's `ast` keeps its recursion depth per interpreter, not
            // per thread ("AST constructor recursion depth mismatch", a crash of the tool that
            // reads as a failure now and then).
            "--workers",
            "1",
            // POST /events answers once its events are durable, or after 10 s for a frame
            // parked ahead of a gap (docs/PROTOCOL.md).
            "--max-response-time",
            "12",
            "--request-timeout",
            "15",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("STREAMDOM_TEST_TOKEN", &token)
        .env("STREAMDOM_TEST_INGEST_KEY", TEST_KEY)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every operation but the document's own (which schemathesis leaves out) was tested.
    let doc: serde_json::Value = serde_json::from_str(streamdom::ops::OPENAPI).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    let tested = operations - 1;
    assert!(
        report.contains(&format!("Selected: {tested}/{tested}\n"))
            && report.contains(&format!("Tested: {tested}\n")),
        "every operation tested: {report}"
    );
    // The hub itself logged no error while being fuzzed (actix-http's own lines about
    // malformed requests, which it refuses with 400, are the client's fault).
    let lines = hub.log.lines();
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("ERROR streamdom") && !l.contains("panicked")),
        "{lines:#?}"
    );
}

mod schemathesis_finds_no_failure_against_the_real_hub {
    #[test]
    fn sqlite() {
        super::schemathesis_finds_nothing(super::Backend::Sqlite)
    }
    #[cfg(feature = "postgres")]
    #[test]
    fn postgres() {
        super::schemathesis_finds_nothing(super::Backend::Postgres)
    }
}
