//! Token buckets per key: how many of something a client may start in a burst, refilled at a
//! steady rate. Used for new sessions per address, so one client cannot open thousands of
//! sessions in seconds while a shared office address still opens many.

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

impl<K: Hash + Eq> Buckets<K> {
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
        self.sweep(now);
        let (burst, per_sec) = (self.burst, self.per_sec);
        let (tokens, at) = self.buckets.entry(key).or_insert((burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * per_sec;
        *tokens = (*tokens + refill).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
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
}
