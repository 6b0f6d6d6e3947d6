//! Presence across hubs (`--nats-url`): what the other hubs of the cluster last said of their
//! online visitors and of the viewers they serve, and the messages hubs exchange about them. A
//! plain struct fed by the `Presence` actor, unit-tested without NATS.
//!
//! Every hub publishes a [`PeerReport`] each second; a hub silent for [`PEER_TTL`] (stopped,
//! killed, cut from NATS) is forgotten, so its visitors leave the list within that time. Watch
//! and Stop for a visitor online on another hub travel to that hub as a [`Command`] and come back
//! as an [`Answer`]: only the hub holding the visitor's presence socket can tell the page.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use crate::protocol::presence::OnlineVisitor;

/// How long a hub's report counts: three of its one-second reports missed.
pub const PEER_TTL: Duration = Duration::from_secs(3);

/// What a hub says of itself each second.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct PeerReport {
    /// Its online visitors, every project.
    pub visitors: Vec<OnlineVisitor>,
    /// Viewers it serves now, by session key (sessions with none are left out). The hub holding
    /// a recording on demand adds these to its own before deciding nobody watches.
    pub watching: Vec<(String, usize)>,
}

/// Watch or Stop for a visitor whose presence socket is on the hub asked.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    Watch { project: String, visitor: String },
    Stop { project: String, visitor: String },
}

/// The asked hub's answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// Recording (started now or already running) as this session.
    Watching {
        session_id: String,
    },
    Stopped,
    /// The visitor is not (or no longer) online there, or not recorded (Stop).
    NotFound,
}

#[derive(Debug)]
struct Peer {
    report: PeerReport,
    at: Instant,
}

/// The other hubs' latest reports, by hub id.
#[derive(Debug, Default)]
pub struct Peers {
    hubs: HashMap<String, Peer>,
}

impl Peers {
    pub fn update(&mut self, hub: &str, report: PeerReport, now: Instant) {
        self.hubs.insert(hub.to_owned(), Peer { report, at: now });
    }

    /// Forgets hubs not heard from for [`PEER_TTL`].
    pub fn expire(&mut self, now: Instant) {
        self.hubs
            .retain(|_, p| now.saturating_duration_since(p.at) < PEER_TTL);
    }

    /// Visitors online on other hubs, in projects `shown` allows.
    pub fn visitors<'a>(
        &'a self,
        shown: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = &'a OnlineVisitor> + 'a {
        self.hubs
            .values()
            .flat_map(|p| &p.report.visitors)
            .filter(move |v| shown(&v.project))
    }

    /// The hub whose report lists the visitor (the newest report, if several do: a visitor
    /// whose page moved to another hub a moment ago).
    pub fn hub_of(&self, project: &str, visitor: &str) -> Option<&str> {
        self.hubs
            .iter()
            .filter(|(_, p)| {
                p.report
                    .visitors
                    .iter()
                    .any(|v| v.project == project && v.visitor_id == visitor)
            })
            .max_by_key(|(_, p)| p.at)
            .map(|(hub, _)| hub.as_str())
    }

    /// Viewers the other hubs serve, by session key.
    pub fn watching(&self) -> HashMap<String, usize> {
        let mut all = HashMap::new();
        for (key, n) in self.hubs.values().flat_map(|p| &p.report.watching) {
            *all.entry(key.clone()).or_insert(0) += n;
        }
        all
    }
}

/// The online list of this hub and the others: a visitor online on both (a tab on each) is
/// listed once, as this hub sees it; newest arrival first.
pub fn merge(local: Vec<OnlineVisitor>, remote: Vec<&OnlineVisitor>) -> Vec<OnlineVisitor> {
    let mut out = local;
    for v in remote {
        let known = out
            .iter()
            .any(|o| o.project == v.project && o.visitor_id == v.visitor_id);
        if !known {
            out.push(v.clone());
        }
    }
    // RFC 3339 in UTC with a fixed width: the text sorts as the time.
    out.sort_by(|a, b| b.online_since.cmp(&a.online_since));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(project: &str, id: &str, since: &str) -> OnlineVisitor {
        OnlineVisitor {
            visitor_id: id.into(),
            project: project.into(),
            url: "https://shop.example/".into(),
            viewport: None,
            user_agent: None,
            browser: None,
            os: None,
            device: None,
            online_since: since.into(),
            recording: false,
            session_id: None,
            started: None,
            viewers: 0,
        }
    }

    fn report(visitors: Vec<OnlineVisitor>, watching: &[(&str, usize)]) -> PeerReport {
        PeerReport {
            visitors,
            watching: watching.iter().map(|(k, n)| ((*k).into(), *n)).collect(),
        }
    }

    #[test]
    fn a_silent_hub_is_forgotten_after_the_ttl() {
        let t0 = Instant::now();
        let mut peers = Peers::default();
        peers.update("h1", report(vec![visitor("p", "a", "1")], &[]), t0);
        peers.update(
            "h2",
            report(vec![visitor("p", "b", "1")], &[]),
            t0 + PEER_TTL / 2,
        );
        peers.expire(t0 + PEER_TTL);
        let left: Vec<&str> = peers.visitors(|_| true).map(|v| &*v.visitor_id).collect();
        assert_eq!(left, ["b"]);
        assert_eq!(peers.hub_of("p", "a"), None);
        assert_eq!(peers.hub_of("p", "b"), Some("h2"));
    }

    #[test]
    fn visitors_are_shown_only_for_allowed_projects() {
        let mut peers = Peers::default();
        let now = Instant::now();
        peers.update(
            "h1",
            report(vec![visitor("p", "a", "1"), visitor("q", "b", "1")], &[]),
            now,
        );
        let shown: Vec<&str> = peers
            .visitors(|p| p == "q")
            .map(|v| &*v.visitor_id)
            .collect();
        assert_eq!(shown, ["b"]);
        assert_eq!(peers.hub_of("q", "a"), None, "the project is part of who");
    }

    #[test]
    fn viewers_add_up_across_hubs() {
        let mut peers = Peers::default();
        let now = Instant::now();
        peers.update("h1", report(vec![], &[("p:s", 2), ("p:t", 1)]), now);
        peers.update("h2", report(vec![], &[("p:s", 1)]), now);
        let w = peers.watching();
        assert_eq!(
            (w.get("p:s"), w.get("p:t"), w.get("p:u")),
            (Some(&3), Some(&1), None)
        );
        // A newer report replaces the older one of the same hub.
        peers.update("h1", report(vec![], &[]), now);
        assert_eq!(peers.watching().get("p:s"), Some(&1));
    }

    #[test]
    fn the_newest_report_names_the_hub_of_a_visitor_seen_twice() {
        let t0 = Instant::now();
        let mut peers = Peers::default();
        peers.update("old", report(vec![visitor("p", "a", "1")], &[]), t0);
        peers.update(
            "new",
            report(vec![visitor("p", "a", "2")], &[]),
            t0 + Duration::from_millis(10),
        );
        assert_eq!(peers.hub_of("p", "a"), Some("new"));
    }

    #[test]
    fn merged_lists_keep_this_hubs_view_and_sort_newest_first() {
        let local = vec![visitor("p", "a", "2026-11-25T10:00:00.000Z")];
        let a_elsewhere = visitor("p", "a", "2026-11-25T09:00:00.000Z");
        let b = visitor("p", "b", "2026-11-25T11:00:00.000Z");
        let c = visitor("q", "a", "2026-11-25T08:00:00.000Z");
        let merged = merge(local, vec![&a_elsewhere, &b, &c]);
        let ids: Vec<(&str, &str)> = merged
            .iter()
            .map(|v| (&*v.project, &*v.visitor_id))
            .collect();
        assert_eq!(ids, [("p", "b"), ("p", "a"), ("q", "a")]);
        assert_eq!(
            merged[1].online_since, "2026-11-25T10:00:00.000Z",
            "this hub's own"
        );
    }

    #[test]
    fn commands_and_answers_read_back_as_written() {
        let cmd = Command::Watch {
            project: "p".into(),
            visitor: "v".into(),
        };
        let text = serde_json::to_string(&cmd).unwrap_or_default();
        assert_eq!(text, r#"{"op":"watch","project":"p","visitor":"v"}"#);
        assert_eq!(serde_json::from_str::<Command>(&text).ok(), Some(cmd));
        let answer = Answer::Watching {
            session_id: "od-1".into(),
        };
        let text = serde_json::to_string(&answer).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Answer>(&text).ok(), Some(answer));
    }
}
