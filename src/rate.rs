//! Token buckets per key: how many of something a client may spend in a burst, refilled at a
//! steady rate. Used for new sessions per address, so one client cannot open thousands of
//! sessions in seconds while a shared office address still opens many, and by `limits` for the
//! events and bytes a connection or a project may send.

use std::{
    collections::HashMap,
    hash::Hash,
    time::{Duration, Instant},
};

/// Keys not seen for this long are forgotten (their bucket would be full again anyway).
const FORGET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug)]
pub struct Buckets<K> {
    burst: f64,
    per_sec: f64,
    buckets: HashMap<K, (f64, Instant)>,
    last_sweep: Option<Instant>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(per_sec: f64, burst: f64) -> Self {
        Buckets {
            burst: burst.max(1.0),
            per_sec: per_sec.max(0.0),
            buckets: HashMap::new(),
            last_sweep: None,
        }
    }

    /// Takes one token for `key` if it has one.
    pub fn take(&mut self, key: K, now: Instant) -> bool {
        self.wait_for(&key, 1.0, now).is_zero() && {
            self.spend(&key, 1.0);
            true
        }
    }

    /// How long until `key` can pay `cost` (zero: now), its bucket refilled as of `now`. A cost
    /// over the burst is payable once the bucket is full and leaves it in debt, repaid at the
    /// steady rate: a single large item is never refused forever, and the rate still holds.
    pub fn wait_for(&mut self, key: &K, cost: f64, now: Instant) -> Duration {
        self.sweep(now);
        let (burst, per_sec) = (self.burst, self.per_sec);
        let (tokens, at) = self.buckets.entry(key.clone()).or_insert((burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * per_sec;
        *tokens = (*tokens + refill).min(burst);
        *at = now;
        let missing = cost.min(burst) - *tokens;
        if missing <= 0.0 {
            Duration::ZERO
        } else if per_sec > 0.0 {
            // Rounded up, so that waiting this long is always enough.
            Duration::from_secs_f64((missing / per_sec).min(1e6)) + Duration::from_millis(1)
        } else {
            Duration::MAX
        }
    }

    /// Takes `cost` from `key`'s bucket, which `wait_for` just found able to pay it.
    pub fn spend(&mut self, key: &K, cost: f64) {
        if let Some((tokens, _)) = self.buckets.get_mut(key) {
            *tokens -= cost;
        }
    }

    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < FORGET_AFTER)
        {
            return;
        }
        self.last_sweep = Some(now);
        self.buckets
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < FORGET_AFTER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate_per_key() {
        let mut b = Buckets::new(2.0, 3.0);
        let t0 = Instant::now();
        assert_eq!((0..5).filter(|_| b.take("a", t0)).count(), 3, "the burst");
        assert!(b.take("b", t0), "another key has its own bucket");
        assert!(
            !b.take("a", t0 + Duration::from_millis(400)),
            "0.8 of a token"
        );
        assert!(b.take("a", t0 + Duration::from_millis(500)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!(
            (0..5).filter(|_| b.take("a", later)).count(),
            3,
            "refilled to the burst only"
        );
    }

    #[test]
    fn a_cost_is_paid_in_full_or_not_at_all_with_the_time_it_takes() {
        let mut b = Buckets::new(100.0, 1000.0);
        let t0 = Instant::now();
        assert!(b.wait_for(&"a", 900.0, t0).is_zero());
        b.spend(&"a", 900.0);
        let wait = b.wait_for(&"a", 300.0, t0);
        assert!(
            wait > Duration::from_millis(1990) && wait < Duration::from_millis(2010),
            "200 tokens missing at 100/s: {wait:?}"
        );
        assert!(!b
            .wait_for(&"a", 300.0, t0 + wait - Duration::from_millis(20))
            .is_zero());
        assert!(b.wait_for(&"a", 300.0, t0 + wait).is_zero());
    }

    #[test]
    fn a_cost_over_the_burst_passes_on_a_full_bucket_and_leaves_a_debt() {
        let mut b = Buckets::new(100.0, 1000.0);
        let t0 = Instant::now();
        assert!(
            b.wait_for(&"a", 5000.0, t0).is_zero(),
            "a full bucket pays it"
        );
        b.spend(&"a", 5000.0);
        // 4000 of debt, then 1 token: 40.01 s at 100/s.
        let wait = b.wait_for(&"a", 1.0, t0);
        assert!(wait > Duration::from_secs(40) && wait < Duration::from_millis(40_100));
        assert_eq!(
            Buckets::<&str>::new(0.0, 1.0).wait_for(&"a", 2.0, t0),
            Duration::ZERO
        );
    }
}
