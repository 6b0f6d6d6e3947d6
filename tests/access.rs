//! Sign-in and what it protects, over real sockets on both backends: pages, the API and the
//! viewer sockets refuse anonymous, forged, expired, signed-out and revoked callers; state
//! changes need the CSRF token and the hub's own origin; failed sign-ins are limited; the
//! recorder's endpoints stay open.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use streamdom::auth::Role;

const FOREIGN: &str = "http://evil.example";

fn own_origin(hub: &Hub) -> String {
    format!("http://{}", hub.base)
}

async fn signed_out_pages_redirect_and_api_and_sockets_refuse(b: Backend) {
    let hub = Hub::start(b).await;
    let id = unique_id("anon");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 2))).await;
    let anon = Creds::default();
    for path in ["/".to_owned(), format!("/sessions/{id}?t=5")] {
        let (status, _, headers) = hub.call("GET", &path, &anon, None).await;
        assert_eq!(status, 303, "{path}");
        let location = headers.get("location").unwrap().to_str().unwrap();
        // Back to the same page after signing in.
        let next = path.replace('?', "%3F").replace('=', "%3D");
        assert_eq!(location, format!("/login?next={next}"));
    }
    for path in [
        "/api/sessions".to_owned(),
        format!("/api/sessions/{id}"),
        format!("/api/sessions/{id}/events"),
        "/api/tokens".to_owned(),
        "/api/me".to_owned(),
    ] {
        let (status, body, _) = hub.call("GET", &path, &anon, None).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"], "unauthorized", "{path}");
        assert!(
            !body.to_string().contains(&id),
            "nothing about the session leaks"
        );
    }
    for path in [format!("/ws/watch/{id}"), "/ws/sessions".to_owned()] {
        let (status, body) = hub.ws_as(&path, &anon).await.err().expect("refused");
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized"))
        );
    }
    // The login page and the recorder's endpoints need no sign-in.
    let (status, _, _) = hub.call("GET", "/login", &anon, None).await;
    assert_eq!(status, 200);
    for path in ["/streamdom.js", "/streamdom.mjs", "/healthz"] {
        assert_eq!(hub.call("GET", path, &anon, None).await.0, 200, "{path}");
    }
    let (status, body, _) = hub
        .call(
            "POST",
            &keyed(&format!("/api/sessions/{id}/events")),
            &anon,
            Some(frame(5, &[inc(1_100, 9)])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The admin still reads everything.
    let mut v = hub.ws(&format!("/ws/watch/{id}?from=start")).await.unwrap();
    v.events(5).await;
}
both!(signed_out_pages_redirect_and_api_and_sockets_refuse);

async fn wrong_passwords_and_unknown_users_get_no_cookie(b: Backend) {
    let hub = Hub::start(b).await;
    for (user, pw) in [
        (ADMIN, "wrong-password"),
        ("nobody", ADMIN_PASSWORD),
        (ADMIN, ""),
    ] {
        let back = hub.sign_in(user, pw).await.expect_err("refused");
        assert_eq!(back, "/login?error=invalid_credentials", "{user}");
    }
    let creds = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let (status, me, _) = hub.call("GET", "/api/me", &creds, None).await;
    assert_eq!((status, me["username"].as_str()), (200, Some(ADMIN)));
    assert_eq!(me["role"], "admin");
}
both!(wrong_passwords_and_unknown_users_get_no_cookie);

async fn forged_and_expired_cookies_are_refused(b: Backend) {
    let hub = Hub::start(b).await;
    let forged = Creds {
        session: Some("00".repeat(32)),
        ..Creds::default()
    };
    assert_eq!(hub.call("GET", "/api/sessions", &forged, None).await.0, 401);
    let creds = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(hub.call("GET", "/api/sessions", &creds, None).await.0, 200);
    // Its digest, not the cookie, is in the database: a copy of it signs nobody in.
    let digest = streamdom::auth::digest(creds.session.as_deref().unwrap());
    let stolen = Creds {
        session: Some(digest.clone()),
        ..Creds::default()
    };
    assert_eq!(hub.call("GET", "/api/sessions", &stolen, None).await.0, 401);
    let aged = hub.db.execute(&format!(
        "UPDATE user_sessions SET expires_at = 1 WHERE token_hash = '{digest}'"
    ));
    assert_eq!(aged, 1);
    let (status, body, _) = hub.call("GET", "/api/sessions", &creds, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let refused = hub.ws_as("/ws/sessions", &creds).await.err().unwrap();
    assert_eq!(refused.0, 401);
    // The administrator's own sign-in is untouched.
    assert_eq!(hub.get("/api/sessions").await.0, 200);
}
both!(forged_and_expired_cookies_are_refused);

async fn signing_out_ends_the_server_side_session(b: Backend) {
    let hub = Hub::start(b).await;
    let creds = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let (status, _, headers) = hub.call("POST", "/logout", &creds, None).await;
    assert_eq!(status, 303);
    assert_eq!(headers.get("location").unwrap(), "/login");
    // Replaying the old cookie after sign-out does not work: the row is gone.
    assert_eq!(hub.call("GET", "/api/sessions", &creds, None).await.0, 401);
    assert_eq!(
        hub.ws_as("/ws/sessions", &creds).await.err().unwrap().0,
        401
    );
    assert_eq!(hub.get("/api/sessions").await.0, 200);
}
both!(signing_out_ends_the_server_side_session);

async fn api_tokens_read_until_revoked(b: Backend) {
    let hub = Hub::start(b).await;
    let (status, made, _) = hub
        .call(
            "POST",
            "/api/tokens",
            &hub.admin,
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_owned();
    let bearer = Creds::bearer(&token);
    assert_eq!(hub.call("GET", "/api/sessions", &bearer, None).await.0, 200);
    let (_, list, _) = hub.call("GET", "/api/tokens", &bearer, None).await;
    assert_eq!(list["tokens"][0]["name"], "ci");
    assert!(
        !list.to_string().contains(&token),
        "a token is shown only once"
    );
    let id = made["id"].as_str().unwrap();
    let (status, _, _) = hub
        .call("DELETE", &format!("/api/tokens/{id}"), &hub.admin, None)
        .await;
    assert_eq!(status, 204);
    let (status, body, _) = hub.call("GET", "/api/sessions", &bearer, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let bogus = Creds::bearer("sdt_0123");
    assert_eq!(hub.call("GET", "/api/sessions", &bogus, None).await.0, 401);
}
both!(api_tokens_read_until_revoked);

async fn csrf_attempts_are_refused(b: Backend) {
    let hub = Hub::start(b).await;
    let body = || Some(json!({"name": "x"}));
    // The cookie alone (what a forged cross-site form or fetch carries) is not enough.
    let no_token = Creds {
        csrf: None,
        ..hub.admin.clone()
    };
    let wrong_token = Creds {
        csrf: Some("f".repeat(64)),
        ..hub.admin.clone()
    };
    for creds in [&no_token, &wrong_token] {
        let (status, body, _) = hub.call("POST", "/api/tokens", creds, body()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("csrf_rejected"))
        );
    }
    // The right token from another site's page is refused too.
    let foreign = Creds {
        origin: Some(FOREIGN.into()),
        ..hub.admin.clone()
    };
    let (status, resp, _) = hub.call("POST", "/api/tokens", &foreign, body()).await;
    assert_eq!(
        (status, resp["error"].as_str()),
        (403, Some("origin_not_allowed"))
    );
    // A forged sign-out does not sign out.
    assert_eq!(hub.call("POST", "/logout", &no_token, None).await.0, 403);
    let (_, list, _) = hub.call("GET", "/api/tokens", &hub.admin, None).await;
    assert_eq!(list["tokens"], json!([]), "nothing was created");
    // Same origin with the token works.
    let own = Creds {
        origin: Some(own_origin(&hub)),
        ..hub.admin.clone()
    };
    assert_eq!(hub.call("POST", "/api/tokens", &own, body()).await.0, 201);
    // Login CSRF: a form posted from another site does not sign the browser in.
    let back = hub
        .sign_in_from(ADMIN, ADMIN_PASSWORD, Some(FOREIGN))
        .await
        .err()
        .unwrap();
    assert_eq!(back, "/login?error=origin_not_allowed");
}
both!(csrf_attempts_are_refused);

async fn viewer_sockets_check_the_origin(b: Backend) {
    let hub = Hub::start(b).await;
    let id = unique_id("origin");
    let (mut rec, _) = hub.recorder(&id).await;
    rec.send(&frame(1, &page(1_000, 1))).await;
    let foreign = Creds {
        origin: Some(FOREIGN.into()),
        ..hub.admin.clone()
    };
    for path in [format!("/ws/watch/{id}"), "/ws/sessions".to_owned()] {
        let (status, body) = hub.ws_as(&path, &foreign).await.err().expect("refused");
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("origin_not_allowed"))
        );
    }
    let own = Creds {
        origin: Some(own_origin(&hub)),
        ..hub.admin.clone()
    };
    let mut v = hub.ws_as(&format!("/ws/watch/{id}"), &own).await.unwrap();
    v.recv_type("live").await;
}
both!(viewer_sockets_check_the_origin);

async fn failed_sign_ins_lock_the_account_and_spare_others(b: Backend) {
    let hub = Hub::start(b).await;
    hub.db.add_user("bea", "bea-password", Role::Member);
    for _ in 0..streamdom::auth::limiter::ACCOUNT_FAILURES {
        let back = hub.sign_in(ADMIN, "guess").await.err().unwrap();
        assert_eq!(back, "/login?error=invalid_credentials");
    }
    // Locked: even the right password waits for the window to pass.
    let back = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.err().unwrap();
    assert_eq!(back, "/login?error=rate_limited");
    // Another account signs in, and signed-in users keep working.
    let bea = hub.sign_in("bea", "bea-password").await.unwrap();
    assert_eq!(
        hub.call("GET", "/api/me", &bea, None).await.1["role"],
        "member"
    );
    assert_eq!(hub.get("/api/sessions").await.0, 200);
}
both!(failed_sign_ins_lock_the_account_and_spare_others);

async fn the_first_administrator_is_created_once(b: Backend) {
    let mut hub = Hub::start(b).await;
    hub.cfg.admin_password = Some("another-password".into());
    hub.restart().await;
    // The existing administrator keeps their password; the setting only seeds a fresh install.
    assert!(hub.sign_in(ADMIN, "another-password").await.is_err());
    let creds = hub.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    // Sign-ins survive a restart: they are server-side rows.
    let (status, _): (u16, Value) = hub.get("/api/sessions").await;
    assert_eq!(status, 200);
    assert_eq!(hub.call("GET", "/api/me", &creds, None).await.0, 200);
}
both!(the_first_administrator_is_created_once);

/// `streamdom user …` against the hub's database, with the password on stdin.
async fn cli(hub: &Hub, args: &[&str], stdin: &str) -> bool {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_streamdom"));
    cmd.args(["user", "--database-url", &hub.db.url])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let input = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait().unwrap().success()
    })
    .await
    .unwrap()
}

async fn the_user_command_adds_changes_and_removes_users(b: Backend) {
    let hub = Hub::start(b).await;
    assert!(
        cli(
            &hub,
            &["add", "carl", "--role", "member"],
            "carl-password-1\n"
        )
        .await
    );
    assert!(
        !cli(&hub, &["add", "carl"], "whatever-password\n").await,
        "taken"
    );
    assert!(!cli(&hub, &["add", "dora"], "short\n").await, "too short");
    let carl = hub.sign_in("carl", "carl-password-1").await.unwrap();
    assert_eq!(
        hub.call("GET", "/api/me", &carl, None).await.1["role"],
        "member"
    );
    assert!(cli(&hub, &["passwd", "carl"], "carl-password-2\n").await);
    // A new password ends the sign-ins made with the old one.
    assert_eq!(hub.call("GET", "/api/me", &carl, None).await.0, 401);
    assert!(hub.sign_in("carl", "carl-password-1").await.is_err());
    let carl = hub.sign_in("carl", "carl-password-2").await.unwrap();
    assert!(cli(&hub, &["remove", "carl"], "").await);
    assert_eq!(hub.call("GET", "/api/me", &carl, None).await.0, 401);
    assert!(hub.sign_in("carl", "carl-password-2").await.is_err());
    assert!(!cli(&hub, &["remove", "carl"], "").await, "already gone");
}
both!(the_user_command_adds_changes_and_removes_users);

async fn responses_carry_the_security_headers(b: Backend) {
    let hub = Hub::start(b).await;
    for path in ["/login", "/", "/api/sessions", "/sessions/x"] {
        let (_, _, h) = hub.call("GET", path, &hub.admin, None).await;
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
    }
}
both!(responses_carry_the_security_headers);

/// A recorded page replayed in the dashboard can point an image, a style sheet or a frame at the
/// hub; the browser would send the viewer's cookie along. The hub signs in only fetches,
/// navigations and sockets.
async fn parts_of_pages_are_never_signed_in(b: Backend) {
    let hub = Hub::start(b).await;
    let id = unique_id("embedded");
    let (mut rec, _) = hub.recorder(&id).await;
    let events = page(1_000, 2);
    rec.send(&frame(1, &events)).await;
    rec.ack_of(events.len() as u64, std::time::Duration::from_secs(10))
        .await;
    let cookie = format!("streamdom_session={}", hub.admin.session.clone().unwrap());
    let get = |path: String, dest: Option<&'static str>| {
        let mut req = awc::Client::builder()
            .disable_redirects()
            .finish()
            .get(hub.http(&path))
            .insert_header(("cookie", cookie.clone()));
        if let Some(d) = dest {
            req = req.insert_header(("sec-fetch-dest", d));
        }
        async move {
            let mut res = req.send().await.unwrap();
            let body = res.body().await.unwrap();
            (res.status().as_u16(), body)
        }
    };
    for path in [
        "/api/sessions".to_owned(),
        format!("/api/sessions/{id}"),
        format!("/api/sessions/{id}/events"),
    ] {
        for dest in ["image", "style", "script", "iframe", "object"] {
            let (status, body) = get(path.clone(), Some(dest)).await;
            assert_eq!(status, 403, "{path} as {dest}");
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"], "forbidden");
            assert!(!body.to_string().contains("\"seq\""), "no event leaks");
        }
        for dest in [None, Some("empty"), Some("document")] {
            assert_eq!(get(path.clone(), dest).await.0, 200, "{path} as {dest:?}");
        }
    }
    // A dashboard page framed by another page is sent to the login, not shown.
    assert_eq!(get(format!("/sessions/{id}"), Some("iframe")).await.0, 303);
    assert_eq!(
        get(format!("/sessions/{id}"), Some("document")).await.0,
        200
    );
    // The recorder's script is loaded by other sites as a script, without a sign-in.
    assert_eq!(get("/streamdom.js".to_owned(), Some("script")).await.0, 200);
}
both!(parts_of_pages_are_never_signed_in);
