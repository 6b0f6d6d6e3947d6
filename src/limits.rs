//! Ingest limits: the events and bytes per second a recorder connection and a project may send,
//! how many recorders a project's key may hold open, and how many sockets one address may hold.
//! One shared [`Limits`] decides; sockets and the POST fallback only ask it. A frame is admitted
//! whole or refused whole (`rate_limited`), so a refused frame is neither stored nor
//! acknowledged: the recorder keeps it and sends it again later.
//!
//! A connection's buckets are keyed by its session, so a recorder that reconnects (or falls
//! back to POST) continues where it was instead of starting with a full bucket.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures_util::Stream;

use crate::{config::Config, error::Error, metrics, rate::Buckets};

/// A bucket holds this many seconds of its steady rate: a burst (a page load, a resend after a
/// reconnect) passes at once, a sustained flood does not.
pub const BURST_SECS: f64 = 10.0;

/// How long a client refused for a connection cap is told to wait (a slot frees when any
/// connection ends, which the hub cannot foresee).
const CAP_RETRY: Duration = Duration::from_secs(1);

/// Which limit refused something; named in logs and in `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    ConnectionEvents,
    ConnectionBytes,
    ProjectEvents,
    ProjectBytes,
    RecordersPerKey,
    ConnectionsPerAddress,
}

impl Limit {
    pub const ALL: [Limit; 6] = [
        Limit::ConnectionEvents,
        Limit::ConnectionBytes,
        Limit::ProjectEvents,
        Limit::ProjectBytes,
        Limit::RecordersPerKey,
        Limit::ConnectionsPerAddress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Limit::ConnectionEvents => "connection_events",
            Limit::ConnectionBytes => "connection_bytes",
            Limit::ProjectEvents => "project_events",
            Limit::ProjectBytes => "project_bytes",
            Limit::RecordersPerKey => "recorders_per_key",
            Limit::ConnectionsPerAddress => "connections_per_address",
        }
    }
}

/// A refusal: which limit, and how long until the same request would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub limit: Limit,
    pub retry_after: Duration,
}

impl From<Refused> for Error {
    fn from(_: Refused) -> Self {
        Error::RateLimited
    }
}

/// A rate of events and bytes per second; 0 switches that half off.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub events_per_sec: f64,
    pub bytes_per_sec: f64,
}

/// Two buckets per key (events and bytes); `None` for a rate switched off.
struct Meter<K> {
    events: Option<Buckets<K>>,
    bytes: Option<Buckets<K>>,
}

impl<K: Hash + Eq + Clone> Meter<K> {
    /// Byte buckets hold at least `min_bytes_burst`, so that the largest frame the hub accepts
    /// passes on a full bucket even when the steady rate is low.
    fn new(rate: Rate, min_bytes_burst: f64) -> Self {
        let bucket = |per_sec: f64, min: f64| {
            (per_sec > 0.0).then(|| Buckets::new(per_sec, (per_sec * BURST_SECS).max(min)))
        };
        Meter {
            events: bucket(rate.events_per_sec, 1.0),
            bytes: bucket(rate.bytes_per_sec, min_bytes_burst),
        }
    }

    /// The wait before `key` may send this much, with the limit that imposes it.
    fn wait(
        &mut self,
        key: &K,
        events: f64,
        bytes: f64,
        now: Instant,
        names: [Limit; 2],
    ) -> Option<Refused> {
        let waits = [
            self.events.as_mut().map(|b| b.wait_for(key, events, now)),
            self.bytes.as_mut().map(|b| b.wait_for(key, bytes, now)),
        ];
        waits
            .into_iter()
            .zip(names)
            .filter_map(|(w, limit)| {
                w.filter(|w| !w.is_zero())
                    .map(|retry_after| Refused { limit, retry_after })
            })
            .max_by_key(|r| r.retry_after)
    }

    fn spend(&mut self, key: &K, events: f64, bytes: f64) {
        if let Some(b) = self.events.as_mut() {
            b.spend(key, events);
        }
        if let Some(b) = self.bytes.as_mut() {
            b.spend(key, bytes);
        }
    }
}

struct State {
    connections: Meter<Arc<str>>,
    projects: Meter<Arc<str>>,
    /// Recorder sockets open per project.
    recorders: HashMap<Arc<str>, usize>,
    /// Sockets of every kind open per client address.
    addresses: HashMap<IpAddr, usize>,
}

/// The hub's limits and what has been spent against them (in memory; one per hub).
pub struct Limits {
    recorders_per_key: usize,
    connections_per_address: usize,
    state: Mutex<State>,
}

impl Limits {
    pub fn new(cfg: &Config) -> Arc<Self> {
        let min_burst = 2.0 * cfg.max_frame_bytes as f64;
        let connection = Rate {
            events_per_sec: cfg.connection_events_per_sec,
            bytes_per_sec: cfg.connection_bytes_per_sec,
        };
        let project = Rate {
            events_per_sec: cfg.project_events_per_sec,
            bytes_per_sec: cfg.project_bytes_per_sec,
        };
        Arc::new(Limits {
            recorders_per_key: cfg.recorders_per_key,
            connections_per_address: cfg.connections_per_address,
            state: Mutex::new(State {
                connections: Meter::new(connection, min_burst),
                projects: Meter::new(project, min_burst),
                recorders: HashMap::new(),
                addresses: HashMap::new(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state holds counters only: one left half-updated by a panic is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a frame of `events` events and `bytes` bytes from `session`'s recorder in
    /// `project`, spending it from both the connection's and the project's buckets, or refuses
    /// it whole, spending nothing.
    pub fn admit(
        &self,
        project: &Arc<str>,
        session: &Arc<str>,
        events: usize,
        bytes: usize,
    ) -> Result<(), Refused> {
        self.admit_at(project, session, events, bytes, Instant::now())
    }

    fn admit_at(
        &self,
        project: &Arc<str>,
        session: &Arc<str>,
        events: usize,
        bytes: usize,
        now: Instant,
    ) -> Result<(), Refused> {
        let (events, bytes) = (events as f64, bytes as f64);
        let mut s = self.state();
        let refused = [
            s.connections.wait(
                session,
                events,
                bytes,
                now,
                [Limit::ConnectionEvents, Limit::ConnectionBytes],
            ),
            s.projects.wait(
                project,
                events,
                bytes,
                now,
                [Limit::ProjectEvents, Limit::ProjectBytes],
            ),
        ]
        .into_iter()
        .flatten()
        .max_by_key(|r| r.retry_after);
        if let Some(r) = refused {
            metrics::limited(r.limit.name());
            return Err(r);
        }
        s.connections.spend(session, events, bytes);
        s.projects.spend(project, events, bytes);
        Ok(())
    }

    /// Counts a socket from `address` (a recorder of `project` when given) while the returned
    /// permit lives, or refuses it when that would pass a cap.
    pub fn connect(
        self: &Arc<Self>,
        address: Option<IpAddr>,
        project: Option<&Arc<str>>,
    ) -> Result<Permit, Refused> {
        let mut s = self.state();
        let refuse = |limit: Limit| {
            metrics::limited(limit.name());
            Err(Refused {
                limit,
                retry_after: CAP_RETRY,
            })
        };
        let over = |open: Option<&usize>, cap: usize| cap > 0 && open.copied().unwrap_or(0) >= cap;
        if let Some(ip) = address {
            if over(s.addresses.get(&ip), self.connections_per_address) {
                return refuse(Limit::ConnectionsPerAddress);
            }
        }
        if let Some(p) = project {
            if over(s.recorders.get(p), self.recorders_per_key) {
                return refuse(Limit::RecordersPerKey);
            }
            *s.recorders.entry(p.clone()).or_default() += 1;
        }
        if let Some(ip) = address {
            *s.addresses.entry(ip).or_default() += 1;
        }
        Ok(Permit {
            limits: self.clone(),
            address,
            project: project.cloned(),
        })
    }
}

/// Takes one from `key`'s count, forgetting keys that reach zero.
fn release<K: Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(key);
        }
    }
}

/// One socket's place under the caps, given back when dropped.
pub struct Permit {
    limits: Arc<Limits>,
    address: Option<IpAddr>,
    project: Option<Arc<str>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.limits.state();
        if let Some(ip) = &self.address {
            release(&mut s.addresses, ip);
        }
        if let Some(p) = &self.project {
            release(&mut s.recorders, p);
        }
    }
}

/// A socket's incoming stream holding its permit: the socket's context owns the stream until
/// the connection is over, so the permit is given back however the socket ends, with no
/// change to the socket actors.
pub struct Held<S> {
    inner: S,
    _permit: Permit,
}

impl<S> Held<S> {
    pub fn new(inner: S, permit: Permit) -> Self {
        Held {
            inner,
            _permit: permit,
        }
    }
}

impl<S: Stream + Unpin> Stream for Held<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// What one recorder connection checks each frame against: the hub's limits, under its project
/// and session.
#[derive(Clone)]
pub struct Quota {
    limits: Arc<Limits>,
    project: Arc<str>,
    session: Arc<str>,
}

impl Quota {
    pub fn new(limits: Arc<Limits>, project: Arc<str>, session: Arc<str>) -> Self {
        Quota {
            limits,
            project,
            session,
        }
    }

    pub fn admit(&self, events: usize, bytes: usize) -> Result<(), Refused> {
        self.limits
            .admit(&self.project, &self.session, events, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(tweak: impl FnOnce(&mut Config)) -> Arc<Limits> {
        let mut cfg = Config::with_defaults(
            "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
            String::new(),
        );
        tweak(&mut cfg);
        Limits::new(&cfg)
    }

    fn key(s: &str) -> Arc<str> {
        s.into()
    }

    #[test]
    fn a_connection_sends_its_burst_then_its_rate() {
        let l = limits(|c| c.connection_events_per_sec = 10.0);
        let (p, s, t0) = (key("p"), key("p:a"), Instant::now());
        assert_eq!(l.admit_at(&p, &s, 100, 10, t0), Ok(()), "10 s of burst");
        let r = l.admit_at(&p, &s, 1, 10, t0).unwrap_err();
        assert_eq!(r.limit, Limit::ConnectionEvents);
        assert!(
            r.retry_after > Duration::from_millis(99) && r.retry_after < Duration::from_millis(110)
        );
        assert_eq!(
            l.admit_at(&p, &key("p:b"), 100, 10, t0),
            Ok(()),
            "another session has its own"
        );
        assert_eq!(
            l.admit_at(&p, &s, 5, 10, t0 + Duration::from_millis(500)),
            Ok(())
        );
    }

    #[test]
    fn a_refused_frame_spends_nothing() {
        let l = limits(|c| {
            c.connection_events_per_sec = 10.0;
            c.project_events_per_sec = 5.0;
        });
        let (p, s, t0) = (key("p"), key("p:a"), Instant::now());
        assert_eq!(l.admit_at(&p, &s, 40, 10, t0), Ok(()));
        // The project (50) refuses 20 more; the connection's 60 left are untouched.
        assert_eq!(
            l.admit_at(&p, &s, 20, 10, t0).unwrap_err().limit,
            Limit::ProjectEvents
        );
        assert_eq!(l.admit_at(&p, &key("p:b"), 10, 10, t0), Ok(()));
        assert_eq!(
            l.admit_at(&key("q"), &s, 50, 10, t0),
            Ok(()),
            "the connection had 60"
        );
        assert_eq!(
            l.admit_at(&key("r"), &s, 11, 10, t0).unwrap_err().limit,
            Limit::ConnectionEvents,
            "and has 10 left"
        );
    }

    #[test]
    fn the_bytes_burst_admits_the_largest_frame_even_at_a_low_rate() {
        let l = limits(|c| {
            c.connection_bytes_per_sec = 1000.0;
            c.max_frame_bytes = 16 << 20;
        });
        let (p, s, t0) = (key("p"), key("p:a"), Instant::now());
        assert_eq!(
            l.admit_at(&p, &s, 1, 16 << 20, t0),
            Ok(()),
            "a full snapshot"
        );
        assert_eq!(
            l.admit_at(&p, &s, 1, 16 << 20, t0),
            Ok(()),
            "and the next page's"
        );
        assert_eq!(
            l.admit_at(&p, &s, 1, 1000, t0).unwrap_err().limit,
            Limit::ConnectionBytes
        );
    }

    #[test]
    fn zero_switches_a_limit_off() {
        let l = limits(|c| {
            c.connection_events_per_sec = 0.0;
            c.connection_bytes_per_sec = 0.0;
            c.project_events_per_sec = 0.0;
            c.project_bytes_per_sec = 0.0;
            c.recorders_per_key = 0;
            c.connections_per_address = 0;
        });
        let (p, s, t0) = (key("p"), key("p:a"), Instant::now());
        assert_eq!(l.admit_at(&p, &s, 1 << 30, 1 << 40, t0), Ok(()));
        let permits: Vec<_> = (0..100)
            .map(|_| l.connect(Some([127, 0, 0, 1].into()), Some(&p)))
            .collect();
        assert!(permits.iter().all(Result::is_ok));
    }

    #[test]
    fn caps_count_open_sockets_and_free_on_drop() {
        let l = limits(|c| {
            c.recorders_per_key = 2;
            c.connections_per_address = 3;
        });
        let (p, ip, other) = (
            key("p"),
            Some(IpAddr::from([10, 0, 0, 1])),
            Some(IpAddr::from([10, 0, 0, 2])),
        );
        let a = l.connect(ip, Some(&p)).unwrap_or_else(|_| unreachable!());
        let _b = l
            .connect(other, Some(&p))
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            l.connect(ip, Some(&p)).map(|_| ()).unwrap_err().limit,
            Limit::RecordersPerKey
        );
        assert!(l.connect(ip, Some(&key("q"))).is_ok(), "another key");
        drop(a);
        let _c = l.connect(ip, Some(&p)).unwrap_or_else(|_| unreachable!());
        let _viewers = [l.connect(ip, None), l.connect(ip, None)];
        assert_eq!(
            l.connect(ip, None).map(|_| ()).unwrap_err().limit,
            Limit::ConnectionsPerAddress
        );
        assert!(l.connect(other, None).is_ok(), "another address");
        assert!(
            l.connect(None, None).is_ok(),
            "an unknown address is not capped"
        );
    }
}
