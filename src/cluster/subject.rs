//! NATS subject names of the cluster. A subject is dot-separated tokens in which `.`, `*`, `>`
//! and white space have meanings, so every token made from a name is escaped: A-Z, a-z, 0-9,
//! '_' and '-' stay, every other byte becomes `~XX` (hex), `~` included, so that two names never
//! share a token.

use crate::event::split_key;

/// One subject token for `raw`.
pub fn token(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("~{b:02X}"));
        }
    }
    if out.is_empty() {
        // An empty token is not a valid subject; `~` alone is never the escape of anything.
        out.push('~');
    }
    out
}

/// `<prefix>.<project>.session.<id>`: a session's events, clock reports and end.
pub fn session(prefix: &str, key: &str) -> String {
    let (project, id) = split_key(key);
    format!("{prefix}.{}.session.{}", token(project), token(id))
}

/// What the JetStream stream captures: every session's subject.
pub fn sessions(prefix: &str) -> String {
    format!("{prefix}.*.session.*")
}

/// `<prefix>.feed`: session-list changes of every hub.
pub fn feed(prefix: &str) -> String {
    format!("{prefix}.feed")
}

/// `<prefix>.hub.<hub>.release`: requests that a hub hand over a session it owns.
pub fn release(prefix: &str, hub: &str) -> String {
    format!("{prefix}.hub.{}.release", token(hub))
}

/// `<prefix>.presence`: each hub's online visitors and viewer counts, every second.
pub fn presence(prefix: &str) -> String {
    format!("{prefix}.presence")
}

/// `<prefix>.hub.<hub>.presence`: Watch and Stop for visitors online on that hub
/// (request and reply).
pub fn presence_commands(prefix: &str, hub: &str) -> String {
    format!("{prefix}.hub.{}.presence", token(hub))
}

/// The JetStream stream's name: the prefix, upper-cased.
pub fn stream_name(prefix: &str) -> String {
    prefix.to_ascii_uppercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names_stay_and_everything_else_is_escaped() {
        assert_eq!(token("abc-DEF_123"), "abc-DEF_123");
        assert_eq!(token("a.b*c>d e"), "a~2Eb~2Ac~3Ed~20e");
        assert_eq!(token("~"), "~7E");
        assert_eq!(token(""), "~");
        assert_eq!(token("é"), "~C3~A9");
    }

    #[test]
    fn escaping_never_maps_two_names_to_one_token() {
        let names = ["a.b", "a~2Eb", "a~b", "a b", "ab", "a", "", "~"];
        let tokens: std::collections::HashSet<_> = names.iter().map(|n| token(n)).collect();
        assert_eq!(tokens.len(), names.len());
        for t in &tokens {
            assert!(!t.is_empty() && !t.contains(['.', '*', '>', ' ']), "{t}");
        }
    }

    #[test]
    fn a_session_subject_has_four_tokens_matched_by_the_stream() {
        let s = session("streamdom", "shop:a.b");
        assert_eq!(s, "streamdom.shop.session.a~2Eb");
        assert_eq!(s.split('.').count(), 4);
        assert_eq!(sessions("streamdom").split('.').count(), 4);
    }
}
