//! The recorder bundle and the dashboard's files over HTTP: precompressed bodies that decode to
//! exactly the raw file, entity tags and 304s, the content-hashed URL's year-long caching, and
//! the loader snippet the README shows. Serving files does not touch the database, so these run
//! on SQLite only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use awc::http::header::HeaderMap;
use common::{Backend, Hub};

struct Got {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

/// A request with exactly these headers, the body as sent (awc would otherwise ask for and
/// decode compression by itself).
async fn fetch(hub: &Hub, method: &str, path: &str, headers: &[(&str, &str)]) -> Got {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = awc::Client::new()
        .request(method, hub.http(path))
        .no_decompress()
        .insert_header(("accept-encoding", "identity"));
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let mut res = req.send().await.unwrap();
    let body = res.body().limit(16 << 20).await.unwrap().to_vec();
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body,
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(data, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[actix_web::test]
async fn gzip_and_brotli_bodies_decode_to_exactly_the_raw_bundle() {
    let hub = Hub::start(Backend::Sqlite).await;
    for path in ["/streamdom.js", "/streamdom.mjs", "/assets/dashboard.js"] {
        let raw = fetch(&hub, "GET", path, &[]).await;
        assert_eq!(raw.status, 200, "{path}");
        assert_eq!(raw.header("content-encoding"), "", "{path}");
        assert!(raw.body.len() > 1000, "{path}");
        let gz = fetch(&hub, "GET", path, &[("accept-encoding", "gzip, deflate")]).await;
        assert_eq!(gz.header("content-encoding"), "gzip", "{path}");
        assert!(gz.body.len() < raw.body.len() / 2, "{path}");
        assert_eq!(gunzip(&gz.body), raw.body, "{path}: gzip body");
        let br = fetch(
            &hub,
            "GET",
            path,
            &[("accept-encoding", "gzip, deflate, br, zstd")],
        )
        .await;
        assert_eq!(br.header("content-encoding"), "br", "{path}");
        assert!(br.body.len() < gz.body.len(), "{path}");
        assert_eq!(unbrotli(&br.body), raw.body, "{path}: brotli body");
        for got in [&raw, &gz, &br] {
            assert_eq!(got.header("vary"), "Accept-Encoding", "{path}");
            assert!(
                got.header("content-type").starts_with("text/javascript"),
                "{path}"
            );
        }
        // Three representations, three strong tags.
        let tags = [raw.header("etag"), gz.header("etag"), br.header("etag")];
        assert!(
            tags.iter()
                .all(|t| t.starts_with('"') && !t.starts_with("W/")),
            "{tags:?}"
        );
        assert!(
            tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
            "{tags:?}"
        );
    }
    // Other sites load the recorder.
    let js = fetch(&hub, "GET", "/streamdom.js?key=k", &[]).await;
    assert_eq!(js.header("access-control-allow-origin"), "*");
}

#[actix_web::test]
async fn a_matching_if_none_match_gets_304_without_a_body_for_get_and_head() {
    let hub = Hub::start(Backend::Sqlite).await;
    let br = [("accept-encoding", "gzip, br")];
    let first = fetch(&hub, "GET", "/streamdom.js?key=k", &br).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), "no-cache");
    let etag = first.header("etag").to_owned();
    for method in ["GET", "HEAD"] {
        let again = fetch(
            &hub,
            method,
            "/streamdom.js?key=k",
            &[br[0], ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(again.status, 304, "{method}");
        assert!(again.body.is_empty(), "{method}");
        assert_eq!(again.header("etag"), etag, "{method}");
        assert_eq!(again.header("vary"), "Accept-Encoding", "{method}");
        assert_eq!(again.header("cache-control"), "no-cache", "{method}");
        let listed = format!("\"old\", W/{etag}");
        let weak = fetch(
            &hub,
            method,
            "/streamdom.js",
            &[br[0], ("if-none-match", &listed)],
        )
        .await;
        assert_eq!(weak.status, 304, "{method}");
        // Another tag (an older build, or another encoding's) gets the whole file.
        let stale = fetch(
            &hub,
            method,
            "/streamdom.js",
            &[br[0], ("if-none-match", "\"0123456789abcdef.br\"")],
        )
        .await;
        assert_eq!(stale.status, 200, "{method}");
        assert_eq!(stale.header("etag"), etag, "{method}");
        let other = fetch(
            &hub,
            method,
            "/streamdom.js",
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(other.status, 200, "{method}");
        assert_eq!(other.header("content-encoding"), "gzip", "{method}");
    }
    let head = fetch(&hub, "HEAD", "/streamdom.js", &br).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), etag);
    // The dashboard's files revalidate the same way.
    let css = fetch(&hub, "GET", "/assets/style.css", &br).await;
    let tag = css.header("etag").to_owned();
    let again = fetch(
        &hub,
        "GET",
        "/assets/style.css",
        &[br[0], ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(again.status, 304);
}

#[actix_web::test]
async fn the_hashed_url_is_cached_for_a_year_and_a_wrong_hash_is_404() {
    let hub = Hub::start(Backend::Sqlite).await;
    for ext in ["js", "mjs"] {
        let plain = fetch(&hub, "GET", &format!("/streamdom.{ext}"), &[]).await;
        // The identity representation's tag is the content hash itself.
        let hash = plain.header("etag").trim_matches('"').to_owned();
        assert_eq!(hash.len(), 16, "{hash}");
        let hashed = fetch(
            &hub,
            "GET",
            &format!("/streamdom.{hash}.{ext}?key=k"),
            &[("accept-encoding", "br")],
        )
        .await;
        assert_eq!(hashed.status, 200, "{ext}");
        assert_eq!(
            hashed.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(hashed.header("vary"), "Accept-Encoding");
        assert_eq!(hashed.header("access-control-allow-origin"), "*");
        assert_eq!(unbrotli(&hashed.body), plain.body, "{ext}");
        let mut wrong = hash.clone().into_bytes();
        wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
        let wrong = String::from_utf8(wrong).unwrap();
        for path in [
            format!("/streamdom.{wrong}.{ext}"),
            format!("/streamdom.{hash}x.{ext}"),
        ] {
            let got = fetch(&hub, "GET", &path, &[]).await;
            assert_eq!(got.status, 404, "{path}");
            assert_ne!(
                got.header("cache-control"),
                "public, max-age=31536000, immutable"
            );
        }
    }
}

#[actix_web::test]
async fn the_module_points_at_its_types_served_beside_it() {
    let hub = Hub::start(Backend::Sqlite).await;
    let mjs = fetch(&hub, "GET", "/streamdom.mjs", &[]).await;
    assert_eq!(mjs.header("x-typescript-types"), "/streamdom.d.mts");
    assert!(mjs
        .body
        .starts_with(b"// @ts-self-types=\"./streamdom.d.mts\""));
    let types = fetch(&hub, "GET", "/streamdom.d.mts", &[]).await;
    assert_eq!(types.status, 200);
    assert!(types
        .header("content-type")
        .starts_with("application/typescript"));
    let text = String::from_utf8(types.body).unwrap();
    assert!(text.contains("export interface InitOptions"), "{text}");
    assert!(
        !text.contains(" from '"),
        "the served types must not import anything: {text}"
    );
}

#[actix_web::test]
async fn the_readme_shows_the_loader_and_the_gzip_size_the_hub_sends() {
    let hub = Hub::start(Backend::Sqlite).await;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let snippet = streamdom::assets::snippet("https://HUB", "PUBLIC_KEY");
    assert!(
        readme.contains(&snippet),
        "README.md must show the loader exactly as the hub prints it:\n{snippet}"
    );
    let gz = fetch(&hub, "GET", "/streamdom.js", &[("accept-encoding", "gzip")]).await;
    let br = fetch(&hub, "GET", "/streamdom.js", &[("accept-encoding", "br")]).await;
    let sizes = fetch(&hub, "GET", "/assets/sizes.json", &[]).await;
    let sizes: serde_json::Value = serde_json::from_slice(&sizes.body).unwrap();
    assert_eq!(sizes["streamdom.js"]["gzip"], gz.body.len());
    assert_eq!(sizes["streamdom.js"]["br"], br.body.len());
    let thousands = |n: usize| {
        let s = n.to_string();
        let (head, tail) = s.split_at(s.len() % 3);
        let groups: Vec<&str> = tail
            .as_bytes()
            .chunks(3)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        [head]
            .into_iter()
            .filter(|h| !h.is_empty())
            .chain(groups)
            .collect::<Vec<_>>()
            .join(",")
    };
    for (what, n) in [("gzip", gz.body.len()), ("br", br.body.len())] {
        // Issue 11's budget for what a visitor downloads, in either encoding.
        assert!(
            n <= 30 * 1024,
            "streamdom.js is {n} bytes {what}, over 30 KB"
        );
        let figure = format!("{} bytes {what}", thousands(n));
        assert!(
            readme.contains(&figure),
            "README.md must say `{figure}` (see sizes.json after the build)"
        );
    }
}
