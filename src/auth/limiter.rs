//! How many failed sign-ins an account and an address may make: a plain policy over fixed
//! windows, unit-tested here, held in memory by the HTTP layer (a restart forgets it, which only
//! ever loosens it for one window).

use std::{collections::HashMap, hash::Hash, net::IpAddr, time::Duration};

use tokio::time::Instant;

/// Failed sign-ins one account may take per window before it is locked for the rest of it.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed sign-ins one address may make per window, over every account it tries.
pub const ADDRESS_FAILURES: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before expired ones are swept (bounds memory under a spray of names).
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
struct Counter<K> {
    limit: u32,
    window: Duration,
    seen: HashMap<K, (Instant, u32)>,
}

impl<K: Hash + Eq> Counter<K> {
    fn new(limit: u32, window: Duration) -> Self {
        Counter {
            limit,
            window,
            seen: HashMap::new(),
        }
    }

    fn blocked(&self, key: &K, now: Instant) -> bool {
        self.seen
            .get(key)
            .is_some_and(|(start, n)| now < *start + self.window && *n >= self.limit)
    }

    fn fail(&mut self, key: K, now: Instant) {
        if self.seen.len() >= SWEEP_AT {
            let window = self.window;
            self.seen.retain(|_, (start, _)| now < *start + window);
        }
        let entry = self.seen.entry(key).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    fn clear(&mut self, key: &K) {
        self.seen.remove(key);
    }
}

/// Failed sign-ins per account and per address.
#[derive(Debug)]
pub struct SignInLimiter {
    accounts: Counter<String>,
    addresses: Counter<IpAddr>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        Self::new(ACCOUNT_FAILURES, ADDRESS_FAILURES, WINDOW)
    }
}

impl SignInLimiter {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        SignInLimiter {
            accounts: Counter::new(per_account, window),
            addresses: Counter::new(per_address, window),
        }
    }

    /// Whether an attempt may be checked at all; a locked one is refused before its password is.
    pub fn allows(&self, account: &str, address: IpAddr, now: Instant) -> bool {
        !self.accounts.blocked(&account.to_owned(), now) && !self.addresses.blocked(&address, now)
    }

    pub fn failed(&mut self, account: &str, address: IpAddr, now: Instant) {
        self.accounts.fail(account.to_owned(), now);
        self.addresses.fail(address, now);
    }

    /// A success clears the account's failures (not the address's: one right password must not
    /// buy an address more guesses at other accounts).
    pub fn succeeded(&mut self, account: &str) {
        self.accounts.clear(&account.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn an_account_locks_after_its_failures_and_unlocks_after_the_window() {
        let mut l = SignInLimiter::new(3, 100, Duration::from_secs(60));
        let t = Instant::now();
        for i in 0..3 {
            assert!(l.allows("ann", A, t), "attempt {i}");
            l.failed("ann", A, t);
        }
        assert!(!l.allows("ann", A, t));
        // From another address too: the account is what is locked.
        assert!(!l.allows("ann", B, t));
        // Other accounts are untouched.
        assert!(l.allows("bob", A, t));
        assert!(l.allows("ann", A, t + Duration::from_secs(60)));
    }

    #[test]
    fn an_address_locks_after_failures_over_many_accounts() {
        let mut l = SignInLimiter::new(100, 4, Duration::from_secs(60));
        let t = Instant::now();
        for name in ["a", "b", "c", "d"] {
            l.failed(name, A, t);
        }
        assert!(!l.allows("e", A, t));
        assert!(l.allows("e", B, t));
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let mut l = SignInLimiter::new(2, 3, Duration::from_secs(60));
        let t = Instant::now();
        l.failed("ann", A, t);
        l.succeeded("ann");
        l.failed("ann", A, t);
        assert!(l.allows("ann", A, t));
        l.failed("ann", A, t);
        assert!(!l.allows("zed", A, t), "three failures from A");
    }

    #[test]
    fn a_new_window_starts_counting_again() {
        let mut l = SignInLimiter::new(2, 100, Duration::from_secs(60));
        let t = Instant::now();
        l.failed("ann", A, t);
        l.failed("ann", A, t + Duration::from_secs(61));
        assert!(l.allows("ann", A, t + Duration::from_secs(61)));
    }
}
