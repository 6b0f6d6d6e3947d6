//! The hub-wide memory budget for events held by sessions (not yet durable, or kept as history
//! for late viewers), shared by every session's backlog. Past the budget new events are refused
//! with `overloaded` (the recorder keeps them and retries), so the hub's memory stays bounded
//! however many sessions there are; past three quarters of it, sessions keep no durable history
//! in memory (late viewers read it from the database). Socket messages being assembled from
//! fragments and POST bodies being read are held on the same account (`Lease`), so that many
//! clients sending large messages slowly cannot hold memory beside it.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use crate::metrics::MEMORY_BUDGET_USED;

#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Self {
        Budget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes `bytes` if they fit under the limit.
    pub fn try_take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|n| *n <= self.limit)
            })
            .inspect(|_| MEMORY_BUDGET_USED.add(bytes as i64))
            .is_ok()
    }

    pub fn give(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
        MEMORY_BUDGET_USED.add(-(bytes as i64));
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// Whether memory is tight enough that durable history should go.
    pub fn under_pressure(&self) -> bool {
        self.used() > self.limit / 4 * 3
    }

    /// An empty account for bytes held until it is dropped.
    pub fn lease(self: &Arc<Self>) -> Lease {
        Lease {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

/// Bytes of a message or body being received, held on the budget until the lease is dropped.
#[derive(Debug)]
pub struct Lease {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Lease {
    /// Takes `bytes` more if they fit under the budget.
    pub fn grow(&mut self, bytes: usize) -> bool {
        let taken = self.budget.try_take(bytes);
        if taken {
            self.bytes += bytes;
        }
        taken
    }

    /// Gives back everything held (the message it was for is complete, or dropped).
    pub fn release(&mut self) {
        if self.bytes > 0 {
            self.budget.give(std::mem::take(&mut self.bytes));
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_only_what_fits_and_gets_it_back() {
        let b = Budget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(41), "61 + 40 would pass the limit");
        assert!(b.try_take(40));
        assert!(b.under_pressure());
        b.give(100);
        assert_eq!(b.used(), 0);
        assert!(!b.under_pressure());
    }

    #[test]
    fn a_lease_holds_what_it_grew_by_until_dropped() {
        let b = Arc::new(Budget::new(100));
        let mut lease = b.lease();
        assert!(lease.grow(30) && lease.grow(30));
        assert!(!lease.grow(50), "110 would pass the limit");
        assert!(b.try_take(40), "what the lease was refused is not held");
        assert_eq!(b.used(), 100);
        lease.release();
        assert_eq!(b.used(), 40);
        assert!(lease.grow(60));
        drop(lease);
        assert_eq!(b.used(), 40);
    }
}
