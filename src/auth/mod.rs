//! Who is asking: dashboard users, their sign-ins and API tokens, below the HTTP layer that
//! reads cookies and headers (`api::access`). Passwords are Argon2id hashes (`password`);
//! cookies and tokens are random secrets the database keeps only as SHA-256 digests, so that a
//! read of the database signs nobody in. Failed sign-ins are counted by `limiter`.

pub mod cache;
pub mod limiter;
pub mod password;
pub mod projects;

use std::fmt::Write as _;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::{
    config::Config,
    db::{
        api_tokens::{self, ApiTokenRow},
        user_sessions::{self, UserSessionRow},
        users::{self, UserRow},
        DbConn, Store,
    },
    error::{Error, Result},
    event::now_ms,
};

/// Prefix of API tokens, so that a leaked one is recognisable (and greppable) as ours.
pub const TOKEN_PREFIX: &str = "sdt_";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Manages users and projects, sees everything.
    Admin,
    /// Sees the projects granted to them.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            _ => Err(Error::InvalidQuery("role is `admin` or `member`".into())),
        }
    }
}

/// How a request proved its user.
#[derive(Clone, Debug)]
pub enum Via {
    /// The sign-in cookie; state changes also need its CSRF token.
    Cookie { token_hash: String, csrf: String },
    /// A bearer API token (never sent by a browser on its own, so no CSRF check).
    Token,
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    pub via: Via,
}

impl Principal {
    fn new(user: UserRow, via: Via) -> Principal {
        Principal {
            // An unknown role in the database grants the least.
            role: Role::parse(&user.role).unwrap_or(Role::Member),
            username: user.username,
            via,
        }
    }

    pub fn require_admin(&self) -> Result<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Member => Err(Error::Forbidden),
        }
    }
}

/// 32 random bytes as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the database keeps of a secret.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A new sign-in: the cookie's secret and the CSRF token to hand to the browser.
pub struct NewSignIn {
    pub secret: String,
    pub csrf: String,
}

/// Checks the password and, if it matches, opens a server-side sign-in. `None` when the name or
/// the password is wrong (which of the two is not said).
pub async fn sign_in(
    store: &Store,
    cfg: &Config,
    username: String,
    password: String,
) -> Result<Option<NewSignIn>> {
    let ttl = cfg.sign_in_ttl().as_millis() as i64;
    store
        .run(move |c| {
            let user = users::get(c, &username)?;
            if !password::verify(&password, user.as_ref().map(|u| u.password_hash.as_str())) {
                return Ok(None);
            }
            let now = now_ms();
            // Sweep expired sign-ins now and then: each sign-in is a good enough moment.
            user_sessions::delete_expired(c, now)?;
            let secret = random_secret();
            let csrf = random_secret();
            user_sessions::insert(
                c,
                &UserSessionRow {
                    token_hash: digest(&secret),
                    username,
                    csrf: csrf.clone(),
                    created_at: now,
                    expires_at: now + ttl,
                },
            )?;
            Ok(Some(NewSignIn { secret, csrf }))
        })
        .await
}

/// The user a sign-in cookie belongs to, if it is current.
pub async fn from_cookie(store: &Store, secret: &str) -> Result<Option<Principal>> {
    let token_hash = digest(secret);
    store
        .read(move |c| {
            Ok(
                user_sessions::find_valid(c, &token_hash, now_ms())?.map(|(s, user)| {
                    let via = Via::Cookie {
                        token_hash: s.token_hash,
                        csrf: s.csrf,
                    };
                    Principal::new(user, via)
                }),
            )
        })
        .await
}

/// The user an API token belongs to, if it exists (revoking deletes it).
pub async fn from_token(store: &Store, token: &str) -> Result<Option<Principal>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let token_hash = digest(token);
    store
        .read(move |c| {
            Ok(api_tokens::find_user(c, &token_hash)?.map(|u| Principal::new(u, Via::Token)))
        })
        .await
}

pub async fn sign_out(store: &Store, token_hash: String) -> Result<()> {
    store
        .run(move |c| user_sessions::delete(c, &token_hash))
        .await
}

/// A new API token for `username`: its row, and the secret shown once.
pub fn new_token(username: &str, name: &str) -> (ApiTokenRow, String) {
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    let row = ApiTokenRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        username: username.to_owned(),
        name: name.to_owned(),
        token_hash: digest(&secret),
        created_at: now_ms(),
    };
    (row, secret)
}

/// Adds a user with a fresh hash of `password`.
pub fn add_user(conn: &mut DbConn, username: &str, password: &str, role: Role) -> Result<bool> {
    validate_username(username)?;
    let row = UserRow {
        username: username.to_owned(),
        password_hash: password::hash(password)?,
        role: role.as_str().to_owned(),
        created_at: now_ms(),
    };
    users::insert(conn, &row)
}

/// Sets a user's password and ends their sign-ins; `false` when there is no such user.
pub fn set_password(conn: &mut DbConn, username: &str, password: &str) -> Result<bool> {
    let hash = password::hash(password)?;
    let found = users::set_password(conn, username, &hash)?;
    user_sessions::delete_for_user(conn, username)?;
    Ok(found)
}

pub fn validate_username(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.@".contains(&b));
    ok.then_some(())
        .ok_or_else(|| Error::InvalidQuery("user names are 1 to 64 of A-Z a-z 0-9 _ - . @".into()))
}

/// On a fresh install (no users), creates the administrator. Returns the password when it was
/// generated, for the caller to show once; it is never logged.
pub fn bootstrap_admin(conn: &mut DbConn, cfg: &Config) -> Result<Option<String>> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &cfg.admin_password {
        Some(p) if !p.is_empty() => (p.clone(), false),
        _ => (random_secret()[..24].to_owned(), true),
    };
    add_user(conn, &cfg.admin_user, &password, Role::Admin)?;
    Ok(generated.then_some(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_digests_are_stable() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
