//! The presence board: who is online now per project, on which page, and which of them a PM
//! is recording on demand, with its viewers and the grace period after the last one left. A
//! plain struct, driven by the `Presence` actor (which only does messages and the timer) and
//! unit-tested without sockets.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use crate::{
    event::session_key,
    protocol::{presence::OnlineVisitor, rfc3339, Viewport},
    summary,
};

/// How long a visitor whose pages all closed is remembered while recording: the next page of a
/// navigation connects again within this and continues the same session.
pub const LINGER: Duration = Duration::from_secs(15);

/// One presence socket (one tab).
#[derive(Debug)]
pub struct Tab<A> {
    pub conn: u64,
    pub addr: A,
    pub url: String,
    pub viewport: Option<Viewport>,
    pub user_agent: Option<String>,
    /// Browser, OS and device of `user_agent`, parsed once rather than on every list.
    client: summary::Client,
}

impl<A> Tab<A> {
    pub fn new(conn: u64, addr: A, user_agent: Option<String>) -> Self {
        Tab {
            conn,
            addr,
            url: String::new(),
            viewport: None,
            client: summary::client(user_agent.as_deref()),
            user_agent,
        }
    }
}

#[derive(Debug)]
pub struct Recording {
    pub session_id: String,
    pub started_ms: i64,
    pub viewers: usize,
    /// Viewers on the other hubs of a cluster (from their reports, see `peers`).
    pub remote_viewers: usize,
    /// Since when nobody watches (from Watch on, until the first viewer arrives).
    pub unwatched_since: Option<Instant>,
}

#[derive(Debug)]
struct Visitor<A> {
    project: String,
    visitor_id: String,
    /// Oldest first; the newest tab is the one shown and recorded.
    tabs: Vec<Tab<A>>,
    online_since_ms: i64,
    /// Since when no tab is open (kept only while recording, for `LINGER`).
    gone_since: Option<Instant>,
    recording: Option<Recording>,
}

impl Recording {
    /// Starts the grace period when the last viewer anywhere left; ends it when one came.
    fn watched_now(&mut self, now: Instant) {
        self.unwatched_since = match self.viewers + self.remote_viewers {
            0 => self.unwatched_since.or(Some(now)),
            _ => None,
        };
    }
}

/// Visitors by `project:visitor_id`; recordings by session key, to count their viewers.
#[derive(Debug)]
pub struct Board<A> {
    visitors: HashMap<String, Visitor<A>>,
    by_session: HashMap<String, String>,
}

impl<A> Default for Board<A> {
    fn default() -> Self {
        Board {
            visitors: HashMap::new(),
            by_session: HashMap::new(),
        }
    }
}

/// What the actor must do after a change: tell tabs to record or stop, end a session.
#[derive(Debug, PartialEq, Eq)]
pub enum Todo {
    /// Send `record` with this session id to this tab.
    Record { conn: u64, session_id: String },
    /// Send `stop` to these tabs and end the session (by its key).
    Stop {
        conns: Vec<u64>,
        session_key: String,
    },
}

impl<A: Clone> Board<A> {
    pub fn len(&self) -> usize {
        self.visitors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visitors.is_empty()
    }

    /// The address of a tab.
    pub fn addr_of(&self, conn: u64) -> Option<A> {
        self.visitors
            .values()
            .flat_map(|v| &v.tabs)
            .find(|t| t.conn == conn)
            .map(|t| t.addr.clone())
    }

    /// Every tab's address.
    pub fn all_addrs(&self) -> Vec<A> {
        self.visitors
            .values()
            .flat_map(|v| &v.tabs)
            .map(|t| t.addr.clone())
            .collect()
    }

    /// A tab connected; if the visitor is being recorded, it continues the recording.
    pub fn join(
        &mut self,
        project: &str,
        visitor_id: &str,
        tab: Tab<A>,
        now_ms: i64,
    ) -> Option<Todo> {
        let key = session_key(project, visitor_id);
        let v = self.visitors.entry(key).or_insert_with(|| Visitor {
            project: project.to_owned(),
            visitor_id: visitor_id.to_owned(),
            tabs: Vec::new(),
            online_since_ms: now_ms,
            gone_since: None,
            recording: None,
        });
        v.gone_since = None;
        let conn = tab.conn;
        v.tabs.push(tab);
        v.recording.as_ref().map(|r| Todo::Record {
            conn,
            session_id: r.session_id.clone(),
        })
    }

    /// The tab's presence message: where it is now.
    pub fn report(
        &mut self,
        project: &str,
        visitor_id: &str,
        conn: u64,
        url: String,
        viewport: Option<Viewport>,
        user_agent: Option<String>,
    ) {
        let Some(v) = self.visitors.get_mut(&session_key(project, visitor_id)) else {
            return;
        };
        if let Some(t) = v.tabs.iter_mut().find(|t| t.conn == conn) {
            t.url = url;
            t.viewport = viewport.or(t.viewport);
            if user_agent.is_some() && user_agent != t.user_agent {
                t.client = summary::client(user_agent.as_deref());
                t.user_agent = user_agent;
            }
        }
    }

    /// A tab closed. A visitor without tabs is forgotten, unless being recorded (then after
    /// `LINGER`, see `tick`).
    pub fn leave(&mut self, project: &str, visitor_id: &str, conn: u64, now: Instant) {
        let key = session_key(project, visitor_id);
        let Some(v) = self.visitors.get_mut(&key) else {
            return;
        };
        v.tabs.retain(|t| t.conn != conn);
        if !v.tabs.is_empty() {
            return;
        }
        match &v.recording {
            Some(_) => v.gone_since = Some(now),
            None => {
                self.visitors.remove(&key);
            }
        }
    }

    /// A PM clicked Watch: the session id of the recording (a running one, or a new one whose
    /// `record` goes to the newest tab). `None` when the visitor is not online.
    pub fn watch(
        &mut self,
        project: &str,
        visitor_id: &str,
        new_id: impl FnOnce() -> String,
        now: Instant,
        now_ms: i64,
    ) -> Option<(String, Option<Todo>)> {
        let v = self.visitors.get_mut(&session_key(project, visitor_id))?;
        if let Some(r) = &v.recording {
            return Some((r.session_id.clone(), None));
        }
        let tab = v.tabs.last()?;
        let session_id = new_id();
        v.recording = Some(Recording {
            session_id: session_id.clone(),
            started_ms: now_ms,
            viewers: 0,
            remote_viewers: 0,
            unwatched_since: Some(now),
        });
        self.by_session.insert(
            session_key(project, &session_id),
            session_key(project, visitor_id),
        );
        let todo = Todo::Record {
            conn: tab.conn,
            session_id: session_id.clone(),
        };
        Some((session_id, Some(todo)))
    }

    /// Stop clicked: what to tell the tabs. `None` when the visitor is not recorded.
    pub fn stop(&mut self, project: &str, visitor_id: &str) -> Option<Todo> {
        let key = session_key(project, visitor_id);
        let v = self.visitors.get_mut(&key)?;
        let r = v.recording.take()?;
        let session = session_key(project, &r.session_id);
        self.by_session.remove(&session);
        let todo = Todo::Stop {
            conns: v.tabs.iter().map(|t| t.conn).collect(),
            session_key: session,
        };
        if v.tabs.is_empty() {
            self.visitors.remove(&key);
        }
        Some(todo)
    }

    /// A viewer opened (`+1`) or closed (`-1`) the session `key`; ignored unless it is a
    /// recording on demand.
    pub fn viewers(&mut self, key: &str, delta: isize, now: Instant) {
        let Some(v) = self
            .by_session
            .get(key)
            .and_then(|k| self.visitors.get_mut(k))
        else {
            return;
        };
        if let Some(r) = &mut v.recording {
            r.viewers = r.viewers.saturating_add_signed(delta);
            r.watched_now(now);
        }
    }

    /// The other hubs' viewers of every recording on demand held here, by session key.
    pub fn remote_viewers(&mut self, counts: &HashMap<String, usize>, now: Instant) {
        for (session, visitor) in &self.by_session {
            let Some(r) = self
                .visitors
                .get_mut(visitor)
                .and_then(|v| v.recording.as_mut())
            else {
                continue;
            };
            r.remote_viewers = counts.get(session).copied().unwrap_or(0);
            r.watched_now(now);
        }
    }

    /// Recordings nobody watched for `grace` stop; visitors gone for `LINGER` are forgotten.
    pub fn tick(&mut self, grace: Duration, now: Instant) -> Vec<Todo> {
        let expired: Vec<(String, String)> = self
            .visitors
            .values()
            .filter(|v| {
                let unwatched = v.recording.as_ref().and_then(|r| r.unwatched_since);
                let gone = v.gone_since;
                unwatched.is_some_and(|t| now.saturating_duration_since(t) >= grace)
                    || gone.is_some_and(|t| now.saturating_duration_since(t) >= LINGER)
            })
            .map(|v| (v.project.clone(), v.visitor_id.clone()))
            .collect();
        expired
            .iter()
            .filter_map(|(p, v)| self.stop(p, v))
            .collect()
    }

    /// The online list for projects `shown` allows, newest arrival first.
    pub fn list(&self, shown: impl Fn(&str) -> bool) -> Vec<OnlineVisitor> {
        let mut out: Vec<OnlineVisitor> = self
            .visitors
            .values()
            .filter(|v| shown(&v.project))
            .filter_map(|v| {
                let tab = v.tabs.last()?;
                let client = tab.client.clone();
                let rec = v.recording.as_ref();
                Some(OnlineVisitor {
                    visitor_id: v.visitor_id.clone(),
                    project: v.project.clone(),
                    url: tab.url.clone(),
                    viewport: tab.viewport,
                    user_agent: tab.user_agent.clone(),
                    browser: client.browser,
                    os: client.os,
                    device: client.device,
                    online_since: rfc3339(v.online_since_ms),
                    recording: rec.is_some(),
                    session_id: rec.map(|r| r.session_id.clone()),
                    started: rec.map(|r| rfc3339(r.started_ms)),
                    viewers: rec.map_or(0, |r| r.viewers + r.remote_viewers),
                })
            })
            .collect();
        out.sort_by(|a, b| (&b.online_since, &b.visitor_id).cmp(&(&a.online_since, &a.visitor_id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab(conn: u64, url: &str) -> Tab<()> {
        let mut t = Tab::new(conn, (), None);
        t.url = url.into();
        t
    }

    #[test]
    fn a_visitor_is_listed_while_a_tab_is_open() {
        let mut b = Board::default();
        let now = Instant::now();
        assert_eq!(b.join("p", "v1", tab(1, "/a"), 1000), None);
        b.report("p", "v1", 1, "/b".into(), None, None);
        let list = b.list(|_| true);
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].url.as_str(), list[0].recording), ("/b", false));
        assert!(b.list(|p| p == "other").is_empty(), "scoped to projects");
        b.leave("p", "v1", 1, now);
        assert!(b.is_empty());
    }

    #[test]
    fn watch_records_the_newest_tab_and_a_new_page_continues_it() {
        let mut b = Board::default();
        let now = Instant::now();
        b.join("p", "v1", tab(1, "/a"), 0);
        b.join("p", "v1", tab(2, "/b"), 0);
        let (id, todo) = b.watch("p", "v1", || "s1".into(), now, 0).expect("online");
        assert_eq!(id, "s1");
        assert_eq!(
            todo,
            Some(Todo::Record {
                conn: 2,
                session_id: "s1".into()
            })
        );
        let (again, todo) = b.watch("p", "v1", || "s2".into(), now, 0).expect("online");
        assert_eq!((again.as_str(), todo), ("s1", None), "a second PM joins it");
        // Navigation: every tab closes, a new page connects within LINGER.
        b.leave("p", "v1", 1, now);
        b.leave("p", "v1", 2, now);
        assert!(b
            .tick(Duration::from_secs(60), now + Duration::from_secs(1))
            .is_empty());
        let todo = b.join("p", "v1", tab(3, "/c"), 0);
        assert_eq!(
            todo,
            Some(Todo::Record {
                conn: 3,
                session_id: "s1".into()
            })
        );
        assert!(b.watch("p", "nobody", || "x".into(), now, 0).is_none());
    }

    #[test]
    fn recording_stops_a_grace_after_the_last_viewer_left() {
        let mut b = Board::default();
        let t0 = Instant::now();
        let grace = Duration::from_secs(10);
        b.join("p", "v1", tab(1, "/a"), 0);
        b.watch("p", "v1", || "s1".into(), t0, 0);
        b.viewers("p:s1", 1, t0);
        b.viewers("p:s1", 1, t0);
        b.viewers("p:s1", -1, t0);
        assert!(b.tick(grace, t0 + grace * 2).is_empty(), "one viewer left");
        let t1 = t0 + grace * 3;
        b.viewers("p:s1", -1, t1);
        assert!(b.tick(grace, t1 + grace / 2).is_empty(), "within the grace");
        let todo = b.tick(grace, t1 + grace);
        assert_eq!(
            todo,
            vec![Todo::Stop {
                conns: vec![1],
                session_key: "p:s1".into()
            }]
        );
        assert!(!b.list(|_| true)[0].recording);
    }

    #[test]
    fn viewers_on_other_hubs_keep_a_recording_going() {
        let mut b = Board::default();
        let t0 = Instant::now();
        let grace = Duration::from_secs(10);
        b.join("p", "v1", tab(1, "/a"), 0);
        b.watch("p", "v1", || "s1".into(), t0, 0);
        // Nobody here; one PM on another hub.
        let elsewhere = HashMap::from([("p:s1".to_owned(), 1)]);
        b.remote_viewers(&elsewhere, t0 + grace / 2);
        assert!(
            b.tick(grace, t0 + grace * 3).is_empty(),
            "watched elsewhere"
        );
        assert_eq!(b.list(|_| true)[0].viewers, 1);
        // That PM left: the grace starts from the report that said so.
        let t1 = t0 + grace * 4;
        b.remote_viewers(&HashMap::new(), t1);
        assert!(b.tick(grace, t1 + grace / 2).is_empty(), "within the grace");
        assert_eq!(b.tick(grace, t1 + grace).len(), 1, "stopped after it");
    }

    #[test]
    fn stop_tells_every_tab_and_unwatched_recordings_end_too() {
        let mut b = Board::default();
        let t0 = Instant::now();
        b.join("p", "v1", tab(1, "/a"), 0);
        b.join("p", "v1", tab(2, "/a"), 0);
        b.watch("p", "v1", || "s1".into(), t0, 0);
        assert_eq!(
            b.stop("p", "v1"),
            Some(Todo::Stop {
                conns: vec![1, 2],
                session_key: "p:s1".into()
            })
        );
        assert_eq!(b.stop("p", "v1"), None);
        b.watch("p", "v1", || "s2".into(), t0, 0);
        let todo = b.tick(Duration::from_secs(5), t0 + Duration::from_secs(5));
        assert_eq!(todo.len(), 1, "nobody opened it within the grace");
    }
}
