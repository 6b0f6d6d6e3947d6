//! Recorded rrweb streams (`bench/fixtures/*.json[.zst]`, made by `bench/record-fixture.mjs`)
//! turned into templates the load generator can stamp cheaply: every event is kept as its JSON
//! text minus `timestamp`, which is appended at send time together with a `bench_id` (the event's
//! seq) that the viewer side reads back to match the frame to its send instant.

use std::{fmt::Write, fs, path::Path};

use serde_json::Value;

/// One event, ready to be completed with a timestamp and a send id.
pub struct Template {
    /// The event's JSON without `timestamp` and without the closing `}`; never empty.
    head: String,
    /// Whether `head` already holds a field (so the next one needs a comma).
    has_fields: bool,
}

impl Template {
    fn new(mut event: Value) -> Result<Self, String> {
        let obj = event
            .as_object_mut()
            .ok_or("an event is not a JSON object")?;
        if !obj.contains_key("type") || obj.remove("timestamp").is_none() {
            return Err("an event has no `type` or `timestamp`".into());
        }
        obj.remove("bench_id");
        let has_fields = !obj.is_empty();
        let mut head = serde_json::to_string(&event).map_err(|e| e.to_string())?;
        head.pop(); // the closing brace
        Ok(Template { head, has_fields })
    }

    /// Appends the event with this timestamp (visitor clock, ms) and send id to `out`.
    pub fn write(&self, out: &mut String, timestamp: i64, bench_id: u64) {
        out.push_str(&self.head);
        if self.has_fields {
            out.push(',');
        }
        let _ = write!(out, "\"timestamp\":{timestamp},\"bench_id\":{bench_id}}}");
    }

    /// Bytes the written event takes, give or take the digits of the numbers.
    pub fn approx_len(&self) -> usize {
        self.head.len() + 48
    }
}

/// One recorded page: its opening (Meta, FullSnapshot, anything before the first incremental
/// event) and the incremental events replayed in a loop.
pub struct Fixture {
    pub name: String,
    pub opening: Vec<Template>,
    pub incremental: Vec<Template>,
}

/// rrweb's `EventType.IncrementalSnapshot`.
const INCREMENTAL: u64 = 3;

impl Fixture {
    pub fn parse(name: &str, json: &[u8]) -> Result<Self, String> {
        let events: Vec<Value> =
            serde_json::from_slice(json).map_err(|e| format!("{name}: not a JSON array: {e}"))?;
        let first_incremental = events
            .iter()
            .position(|e| e.get("type").and_then(Value::as_u64) == Some(INCREMENTAL))
            .ok_or_else(|| format!("{name}: no incremental events"))?;
        if first_incremental == 0 {
            return Err(format!("{name}: does not start with a Meta/FullSnapshot"));
        }
        let mut opening = Vec::new();
        let mut incremental = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            let incr = e.get("type").and_then(Value::as_u64) == Some(INCREMENTAL);
            let t = Template::new(e).map_err(|e| format!("{name}: {e}"))?;
            if i < first_incremental {
                opening.push(t);
            } else if incr {
                // A later Meta/FullSnapshot (a checkout) is not replayed mid-stream.
                incremental.push(t);
            }
        }
        Ok(Fixture {
            name: name.to_owned(),
            opening,
            incremental,
        })
    }

    pub fn opening_bytes(&self) -> usize {
        self.opening.iter().map(Template::approx_len).sum()
    }

    pub fn mean_incremental_bytes(&self) -> usize {
        let total: usize = self.incremental.iter().map(Template::approx_len).sum();
        total / self.incremental.len().max(1)
    }
}

/// Loads every `*.json` and `*.json.zst` in `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Fixture>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".json") || n.ends_with(".json.zst")
        })
        .collect();
    paths.sort();
    let mut fixtures = Vec::new();
    for path in paths {
        let raw = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let json = if name.ends_with(".zst") {
            zstd::decode_all(&raw[..]).map_err(|e| format!("{name}: {e}"))?
        } else {
            raw
        };
        let stem = name.trim_end_matches(".zst").trim_end_matches(".json");
        fixtures.push(Fixture::parse(stem, &json)?);
    }
    if fixtures.is_empty() {
        return Err(format!(
            "no *.json or *.json.zst fixtures in {}",
            dir.display()
        ));
    }
    Ok(fixtures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_take_a_fresh_timestamp_and_send_id() {
        let json = br#"[{"type":4,"data":{"href":"http://x/"},"timestamp":1},
            {"type":2,"data":{},"timestamp":2},{"type":3,"data":{"source":1},"timestamp":3}]"#;
        let f = Fixture::parse("t", json).unwrap();
        assert_eq!((f.opening.len(), f.incremental.len()), (2, 1));
        let mut out = String::new();
        f.incremental[0].write(&mut out, 99, 7);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["timestamp"], 99);
        assert_eq!(v["bench_id"], 7);
        assert_eq!(v["data"]["source"], 1);
    }
}
