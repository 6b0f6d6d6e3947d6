//! The two HTTP decisions behind serving a built file: which encoding to send for an
//! `Accept-Encoding`, and whether an `If-None-Match` names what the client already holds.

/// A file's encodings on the wire; the build stores the compressed ones beside the raw file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` value (none for identity).
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// Appended to the content hash, so each representation has its own strong entity tag.
    fn tag_suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => ".gz",
            Encoding::Brotli => ".br",
        }
    }
}

/// How much the client wants a coding, from its `Accept-Encoding` (RFC 9110 §12.5.3): a listed
/// coding's q, else the q of `*`, else 0. `x-gzip` is gzip.
fn quality(accept: &str, coding: &str) -> f32 {
    let mut star = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding)
            || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip"))
        {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// The smallest encoding the client accepts among those the file has: brotli, then gzip, else
/// the raw bytes (always acceptable in practice; a client refusing identity still gets them).
pub fn negotiate(accept: Option<&str>, has_br: bool, has_gzip: bool) -> Encoding {
    let accept = accept.unwrap_or_default();
    if has_br && quality(accept, "br") > 0.0 {
        Encoding::Brotli
    } else if has_gzip && quality(accept, "gzip") > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The strong entity tag of one representation of content with this hash.
pub fn etag(hash: &str, encoding: Encoding) -> String {
    format!("\"{hash}{}\"", encoding.tag_suffix())
}

/// Whether `If-None-Match` lists `etag` or is `*`. The comparison is the weak one that
/// RFC 9110 §13.1.2 prescribes for this header, so `W/"x"` matches `"x"`.
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_is_preferred_then_gzip_then_identity() {
        let chrome = Some("gzip, deflate, br, zstd");
        assert_eq!(negotiate(chrome, true, true), Encoding::Brotli);
        assert_eq!(negotiate(chrome, false, true), Encoding::Gzip);
        assert_eq!(negotiate(Some("gzip"), true, true), Encoding::Gzip);
        assert_eq!(negotiate(Some("x-gzip"), true, true), Encoding::Gzip);
        assert_eq!(negotiate(None, true, true), Encoding::Identity);
        assert_eq!(negotiate(Some("identity"), true, true), Encoding::Identity);
        assert_eq!(negotiate(chrome, false, false), Encoding::Identity);
    }

    #[test]
    fn zero_quality_refuses_a_coding_and_star_covers_the_rest() {
        assert_eq!(negotiate(Some("br;q=0, gzip"), true, true), Encoding::Gzip);
        assert_eq!(
            negotiate(Some("br;q=0, gzip;q=0.0"), true, true),
            Encoding::Identity
        );
        assert_eq!(negotiate(Some("*"), true, true), Encoding::Brotli);
        assert_eq!(
            negotiate(Some("br; q=0, *;q=0.5"), true, true),
            Encoding::Gzip
        );
        assert_eq!(negotiate(Some("BR;q=1"), true, false), Encoding::Brotli);
    }

    #[test]
    fn each_encoding_has_its_own_strong_tag() {
        assert_eq!(etag("ab12", Encoding::Identity), "\"ab12\"");
        assert_eq!(etag("ab12", Encoding::Gzip), "\"ab12.gz\"");
        assert_eq!(etag("ab12", Encoding::Brotli), "\"ab12.br\"");
    }

    #[test]
    fn if_none_match_compares_weakly_and_lists() {
        let tag = etag("ab12", Encoding::Brotli);
        assert!(none_match("\"ab12.br\"", &tag));
        assert!(none_match("W/\"ab12.br\"", &tag));
        assert!(none_match("\"old\", \"ab12.br\"", &tag));
        assert!(none_match("*", &tag));
        assert!(!none_match("\"ab12\"", &tag));
        assert!(!none_match("\"ab12.gz\"", &tag));
        assert!(!none_match("", &tag));
    }
}
