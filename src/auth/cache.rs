//! Sign-ins verified recently, kept in memory. Every request is still checked against the
//! database (so an expiry, a sign-out or a changed password takes effect at once); only while
//! the database cannot be asked does a sign-in verified within `OUTAGE_GRACE` still work, so PMs
//! keep watching live sessions through an outage. Signing out and revoking a token forget
//! everything cached.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::Principal;

/// How long a verified sign-in still works while the database cannot be asked.
pub const OUTAGE_GRACE: Duration = Duration::from_secs(600);
/// Entries kept at most; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct Verified {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl Verified {
    /// The principal for a credential's digest if it was verified within `max_age`.
    pub fn get(&self, digest: &str, max_age: Duration, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|(_, at)| now.saturating_duration_since(*at) <= max_age)
            .map(|(p, _)| p.clone())
    }

    pub fn put(&self, digest: String, who: Principal, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(digest, (who, now));
    }

    /// Forgets one credential (it was found invalid).
    pub fn remove(&self, digest: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
    }

    /// Forgets everything (a sign-out or a revoked token).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The projects of ingest keys the database confirmed (all of them at start, then each on
/// use), so that recorders, new visitors included, keep being taken while the database cannot
/// be asked. Used only then: a key removed or changed meanwhile takes effect once it is back.
#[derive(Default)]
pub struct KnownKeys {
    entries: Mutex<HashMap<String, crate::db::projects::ProjectRow>>,
}

impl KnownKeys {
    pub fn get(&self, key: &str) -> Option<crate::db::projects::ProjectRow> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).cloned()
    }

    /// Records what the database said of `key` (`None`: no such key).
    pub fn put(&self, key: &str, project: Option<&crate::db::projects::ProjectRow>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match project {
            Some(p) => {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(key.to_owned(), p.clone());
            }
            None => {
                entries.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, Via};

    fn who() -> Principal {
        Principal {
            username: "ana".into(),
            role: Role::Member,
            via: Via::Token,
        }
    }

    #[test]
    fn a_verified_sign_in_is_trusted_only_for_its_age() {
        let cache = Verified::default();
        let t0 = Instant::now();
        cache.put("d".into(), who(), t0);
        assert!(cache.get("d", OUTAGE_GRACE, t0 + OUTAGE_GRACE).is_some());
        let late = t0 + OUTAGE_GRACE + Duration::from_secs(1);
        assert!(
            cache.get("d", OUTAGE_GRACE, late).is_none(),
            "too old to trust"
        );
        assert!(cache.get("other", OUTAGE_GRACE, t0).is_none());
        cache.clear();
        assert!(
            cache.get("d", OUTAGE_GRACE, t0).is_none(),
            "sign-out forgets it"
        );
    }
}
