//! Sign-in over HTTP: the cookie and bearer-token extractors every protected route takes
//! ([`SignedIn`] to read, [`Changing`] to change state), the Origin and CSRF checks, the login
//! and logout routes and the API-token routes. The accounts themselves are in `auth`.
//!
//! Cookies: `streamdom_session` (HttpOnly, SameSite=Lax, Secure behind HTTPS) holds the
//! sign-in's secret; `streamdom_csrf` (readable by the dashboard's scripts) holds the token it
//! echoes in `X-CSRF-Token`, which the hub compares with the one it keeps for the sign-in.

use std::{future::Future, net::IpAddr, pin::Pin, time::Instant};

use actix_web::{
    cookie::{time::Duration as CookieDuration, Cookie, SameSite},
    dev::Payload,
    http::header,
    web::{self, Data, Form, Json, Path},
    FromRequest, HttpRequest, HttpResponse,
};
use serde::{Deserialize, Serialize};

use crate::{
    api::AppState,
    assets,
    auth::{self, cache, Principal, Via},
    config::Config,
    db::api_tokens,
    error::{Error, Result},
    protocol::rfc3339,
};

pub const SESSION_COOKIE: &str = "streamdom_session";
pub const CSRF_COOKIE: &str = "streamdom_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/api/me", web::get().to(me))
        .route("/api/tokens", web::get().to(list_tokens))
        .route("/api/tokens", web::post().to(create_token))
        .route("/api/tokens/{id}", web::delete().to(revoke_token));
}

/// A signed-in user, by cookie or `Authorization: Bearer`; 401 `unauthorized` otherwise.
pub struct SignedIn(pub Principal);

impl FromRequest for SignedIn {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { principal(&req).await.map(SignedIn) })
    }
}

async fn principal(req: &HttpRequest) -> Result<Principal> {
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or_else(|| Error::internal("no app state"))?;
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = req.cookie(SESSION_COOKIE);
    let (secret, is_token) = match (bearer, &cookie) {
        (Some(token), _) => (token.trim(), true),
        (None, Some(c)) => (c.value(), false),
        (None, None) => return Err(Error::Unauthorized),
    };
    let key = auth::digest(secret);
    let now = Instant::now();
    let found = if is_token {
        auth::from_token(&state.store, secret).await
    } else {
        auth::from_cookie(&state.store, secret).await
    };
    match found {
        Ok(Some(who)) => {
            state.verified.put(key, who.clone(), now);
            Ok(who)
        }
        Ok(None) => {
            state.verified.remove(&key);
            Err(Error::Unauthorized)
        }
        // The database cannot be asked: a sign-in verified shortly before still works.
        Err(e) if e.status().is_server_error() => {
            state.verified.get(&key, cache::OUTAGE_GRACE, now).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// A signed-in user allowed to change state: a bearer token, or the cookie together with a
/// same-origin request carrying the sign-in's CSRF token (403 `csrf_rejected` otherwise).
pub struct Changing(pub Principal);

impl FromRequest for Changing {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let who = principal(&req).await?;
            if let Via::Cookie { csrf, .. } = &who.via {
                let cfg = &req
                    .app_data::<Data<AppState>>()
                    .ok_or_else(|| Error::internal("no app state"))?
                    .cfg;
                check_origin(&req, cfg)?;
                let sent = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !auth::constant_time_eq(sent, csrf) {
                    return Err(Error::CsrfRejected);
                }
            }
            Ok(Changing(who))
        })
    }
}

/// Refuses a browser request from another site: an `Origin` header, when there is one (browsers
/// always send it on WebSocket upgrades and cross-site POSTs), must be the hub's own origin:
/// `--public-url`'s, or else the scheme-less `Host` the request was sent to.
pub fn check_origin(req: &HttpRequest, cfg: &Config) -> Result<()> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| Error::OriginNotAllowed)?;
    let ok = match cfg.public_origin() {
        Some(own) => origin.eq_ignore_ascii_case(own),
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            let origin_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            !host.is_empty() && origin_host.is_some_and(|h| h.eq_ignore_ascii_case(host))
        }
    };
    ok.then_some(()).ok_or(Error::OriginNotAllowed)
}

/// Whether a trusted proxy forwarded this request.
fn from_trusted_proxy(req: &HttpRequest, cfg: &Config) -> bool {
    req.peer_addr()
        .is_some_and(|a| cfg.trusted_proxies.contains(&a.ip()))
}

/// Whether the browser reached the hub over HTTPS (`--public-url`, or a trusted proxy's
/// `X-Forwarded-Proto`); the hub itself speaks plain HTTP.
fn over_https(req: &HttpRequest, cfg: &Config) -> bool {
    let forwarded = from_trusted_proxy(req, cfg)
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    forwarded
        || cfg
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
}

/// The client's address: the peer, or the last hop a trusted proxy names.
pub fn client_ip(req: &HttpRequest, cfg: &Config) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if !from_trusted_proxy(req, cfg) {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse().ok())
        .or(peer)
}

fn cookie<'a>(name: &'a str, value: String, http_only: bool, secure: bool) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(http_only)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Where to go after signing in: a path on this hub only, never another site.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => "/",
    }
}

async fn login_page(req: HttpRequest) -> Result<HttpResponse> {
    if principal(&req).await.is_ok() {
        return Ok(see_other("/"));
    }
    assets::serve("login.html", &req)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// The login form's POST: 303 to `next` with the cookies, or back to `/login?error=…` with the
/// error's code (`invalid_credentials`, `rate_limited`, `origin_not_allowed`).
async fn login(state: Data<AppState>, req: HttpRequest, form: Form<LoginForm>) -> HttpResponse {
    let form = form.into_inner();
    let back = |code: &str| see_other(&format!("/login?error={code}"));
    if check_origin(&req, &state.cfg).is_err() {
        return back(Error::OriginNotAllowed.code());
    }
    let ip = client_ip(&req, &state.cfg).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let now = tokio::time::Instant::now();
    let allowed = state
        .sign_ins
        .lock()
        .map(|l| l.allows(&form.username, ip, now))
        .unwrap_or(false);
    if !allowed {
        log::warn!("sign-in refused: too many failures (account or address)");
        return back(Error::RateLimited.code());
    }
    let next = safe_next(form.next.as_deref()).to_owned();
    match auth::sign_in(
        &state.store,
        &state.cfg,
        form.username.clone(),
        form.password,
    )
    .await
    {
        Ok(Some(new)) => {
            if let Ok(mut l) = state.sign_ins.lock() {
                l.succeeded(&form.username);
            }
            let secure = over_https(&req, &state.cfg);
            let max_age = CookieDuration::seconds(state.cfg.sign_in_ttl().as_secs() as i64);
            let mut session = cookie(SESSION_COOKIE, new.secret, true, secure);
            session.set_max_age(max_age);
            let mut csrf = cookie(CSRF_COOKIE, new.csrf, false, secure);
            csrf.set_max_age(max_age);
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next))
                .cookie(session)
                .cookie(csrf)
                .finish()
        }
        Ok(None) => {
            if let Ok(mut l) = state.sign_ins.lock() {
                l.failed(&form.username, ip, now);
            }
            log::info!("failed sign-in from {ip}");
            back("invalid_credentials")
        }
        Err(e) => {
            log::error!("sign-in: {e}");
            back(e.code())
        }
    }
}

/// Ends the server-side sign-in and clears the cookies.
async fn logout(state: Data<AppState>, req: HttpRequest, who: Changing) -> Result<HttpResponse> {
    if let Via::Cookie { token_hash, .. } = who.0.via {
        auth::sign_out(&state.store, token_hash).await?;
        state.verified.clear();
    }
    let secure = over_https(&req, &state.cfg);
    let mut session = cookie(SESSION_COOKIE, String::new(), true, secure);
    session.make_removal();
    let mut csrf = cookie(CSRF_COOKIE, String::new(), false, secure);
    csrf.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(session)
        .cookie(csrf)
        .finish())
}

async fn me(who: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "username": who.0.username,
        "role": who.0.role.as_str(),
    }))
}

#[derive(Serialize)]
struct TokenInfo {
    id: String,
    name: String,
    created_at: String,
    /// Only in the answer to its creation: the hub keeps a digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

async fn list_tokens(state: Data<AppState>, who: SignedIn) -> Result<HttpResponse> {
    let user = who.0.username;
    let rows = state
        .store
        .run(move |c| api_tokens::list_for_user(c, &user))
        .await?;
    let list: Vec<TokenInfo> = rows
        .into_iter()
        .map(|r| TokenInfo {
            id: r.id,
            name: r.name,
            created_at: rfc3339(r.created_at),
            token: None,
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tokens": list })))
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

async fn create_token(
    state: Data<AppState>,
    who: Changing,
    body: Json<NewToken>,
) -> Result<HttpResponse> {
    let name = body.into_inner().name;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::InvalidQuery("name is 1 to 100 characters".into()));
    }
    let (row, secret) = auth::new_token(&who.0.username, &name);
    let info = TokenInfo {
        id: row.id.clone(),
        name: row.name.clone(),
        created_at: rfc3339(row.created_at),
        token: Some(secret),
    };
    state
        .store
        .run(move |c| api_tokens::insert(c, &row))
        .await?;
    Ok(HttpResponse::Created().json(info))
}

async fn revoke_token(
    state: Data<AppState>,
    who: Changing,
    id: Path<String>,
) -> Result<HttpResponse> {
    let (user, id) = (who.0.username, id.into_inner());
    let found = state
        .store
        .run(move |c| api_tokens::delete(c, &user, &id))
        .await?;
    state.verified.clear();
    match found {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(Error::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_hub() {
        assert_eq!(safe_next(Some("/sessions/a")), "/sessions/a");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
