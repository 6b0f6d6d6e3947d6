//! When a session acknowledges durable events to its recorder. Every writer flush makes a
//! session's new events durable; at 10 events/s and a 50 ms flush that is one ack per event, as
//! many frames as the events themselves. The pacer sends an ack at once when none went out for
//! `interval` (a lone event, or the last of a pause, is acknowledged as soon as it is stored),
//! and otherwise holds the newest durable seq until the interval since the last ack has passed:
//! a steady stream gets one ack per interval, covering everything durable by then. It only ever
//! carries a seq the writer reported durable, so it can delay an ack but never get ahead of one.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct AckPacer {
    interval: Duration,
    last_sent: Option<Instant>,
    /// The highest seq sent in an ack.
    sent: u64,
    /// The highest seq reported durable.
    durable: u64,
}

/// What to do with a durable report.
#[derive(Debug, PartialEq, Eq)]
pub enum Pace {
    /// Send this ack now.
    Now(u64),
    /// Hold it; call `due` after this long (a timer is wanted only if none is running).
    Later(Duration),
    /// Nothing new to acknowledge.
    Nothing,
}

impl AckPacer {
    pub fn new(interval: Duration) -> Self {
        AckPacer {
            interval,
            last_sent: None,
            sent: 0,
            durable: 0,
        }
    }

    /// Everything up to `seq` is durable.
    pub fn durable(&mut self, seq: u64, now: Instant) -> Pace {
        self.durable = self.durable.max(seq);
        if self.durable <= self.sent {
            return Pace::Nothing;
        }
        let wait = self
            .last_sent
            .map_or(Duration::ZERO, |t| self.interval.saturating_sub(now - t));
        if wait.is_zero() {
            Pace::Now(self.take(now))
        } else {
            Pace::Later(wait)
        }
    }

    /// The timer ran out: the held ack, if any.
    pub fn due(&mut self, now: Instant) -> Option<u64> {
        (self.durable > self.sent).then(|| self.take(now))
    }

    /// The held ack regardless of the interval (the hub is stopping, a recorder attached).
    pub fn flush(&mut self, now: Instant) -> Option<u64> {
        self.due(now)
    }

    fn take(&mut self, now: Instant) -> u64 {
        self.sent = self.durable;
        self.last_sent = Some(now);
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_lone_event_is_acknowledged_at_once() {
        let t = Instant::now();
        let mut p = AckPacer::new(250 * MS);
        assert_eq!(p.durable(1, t), Pace::Now(1));
        assert_eq!(p.durable(1, t + MS), Pace::Nothing);
        // After a pause longer than the interval, at once again.
        assert_eq!(p.durable(2, t + 300 * MS), Pace::Now(2));
    }

    #[test]
    fn a_steady_stream_gets_one_ack_per_interval_covering_all() {
        let t = Instant::now();
        let mut p = AckPacer::new(250 * MS);
        let mut acks = Vec::new();
        let mut timer: Option<Instant> = None;
        // One event durable every 100 ms for 2 s.
        for i in 1..=20u64 {
            let now = t + i as u32 * 100 * MS;
            if let Some(at) = timer.filter(|at| *at <= now) {
                timer = None;
                acks.extend(p.due(at));
            }
            match p.durable(i, now) {
                Pace::Now(seq) => acks.push(seq),
                Pace::Later(wait) => {
                    timer.get_or_insert(now + wait);
                }
                Pace::Nothing => {}
            }
        }
        acks.extend(timer.and_then(|at| p.due(at)));
        assert!(acks.len() <= 9, "{acks:?}");
        assert!(acks.windows(2).all(|w| w[0] < w[1]), "{acks:?}");
        assert_eq!(acks.last(), Some(&20));
    }

    #[test]
    fn never_acknowledges_more_than_was_reported_durable() {
        let t = Instant::now();
        let mut p = AckPacer::new(250 * MS);
        assert_eq!(p.durable(5, t), Pace::Now(5));
        assert_eq!(p.durable(7, t + MS), Pace::Later(249 * MS));
        // A stale report does not move anything back or forward.
        assert_eq!(p.durable(6, t + 2 * MS), Pace::Later(248 * MS));
        assert_eq!(p.due(t + 250 * MS), Some(7));
        assert_eq!(p.due(t + 500 * MS), None);
        assert_eq!(p.flush(t + 501 * MS), None);
    }

    #[test]
    fn zero_interval_acknowledges_every_report() {
        let t = Instant::now();
        let mut p = AckPacer::new(Duration::ZERO);
        assert_eq!(p.durable(1, t), Pace::Now(1));
        assert_eq!(p.durable(2, t), Pace::Now(2));
    }
}
