//! Generates `recorder-js/src/protocol.ts` from the Rust types. The test fails when the
//! committed file differs, after writing the current one: run `cargo test`, review, commit.

use ts_rs::TS;

use super::{
    heatmap::{HeatElement, HeatPoint, HeatSnapshot, Heatmap, ScrollDepth},
    incoming::shapes::{RecorderToHub, ViewerToHub},
    outgoing::{
        EventEnvelope, HubToFeed, HubToRecorder, HubToViewer, SessionInfo, SessionList, Viewport,
    },
    presence::{HubToPresence, OnlineList, OnlineVisitor, PresenceToHub},
    CLOSE_AWAY, CLOSE_NORMAL, CLOSE_RESTART,
};
use crate::{config::DEFAULT_MAX_FRAME_BYTES, error::Error, event};

const PATH: &str = "recorder-js/src/protocol.ts";

fn render() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let types = [
        ("A session as the API and the dashboard show it.", SessionInfo::decl(&cfg)),
        ("The last viewport size the recorder reported.", Viewport::decl(&cfg)),
        ("A page of `GET /api/sessions`.", SessionList::decl(&cfg)),
        (
            "One event as viewers receive it: its seq, the hub's receive time and the rrweb event as recorded.",
            EventEnvelope::decl(&cfg),
        ),
        ("What the hub sends a recorder.", HubToRecorder::decl(&cfg)),
        ("What the hub sends a viewer.", HubToViewer::decl(&cfg)),
        ("What the hub sends a dashboard watching the session list.", HubToFeed::decl(&cfg)),
        ("What a recorder sends the hub.", RecorderToHub::decl(&cfg)),
        ("What a viewer sends the hub.", ViewerToHub::decl(&cfg)),
        ("What a page in standby sends on its presence socket.", PresenceToHub::decl(&cfg)),
        ("What the hub sends a page on its presence socket.", HubToPresence::decl(&cfg)),
        ("A visitor online now (`GET /api/online`).", OnlineVisitor::decl(&cfg)),
        ("`GET /api/online`.", OnlineList::decl(&cfg)),
        ("`GET /api/heatmaps`: a page's heatmap of one kind.", Heatmap::decl(&cfg)),
        ("A heatmap point, by element or by page coordinates.", HeatPoint::decl(&cfg)),
        ("An element's clicks on a heatmap's page.", HeatElement::decl(&cfg)),
        ("How far down visits got.", ScrollDepth::decl(&cfg)),
        ("The snapshot a heatmap is drawn on.", HeatSnapshot::decl(&cfg)),
    ];
    let mut out = String::from(
        "// Generated from the hub's Rust types by `cargo test` (src/protocol/typescript.rs): do not edit.\n\
         // The wire protocol between the hub, recorders, viewers and the dashboard; see docs/PROTOCOL.md.\n",
    );
    for (doc, decl) in types {
        out.push_str(&format!("\n/** {doc} */\nexport {decl}\n"));
    }
    let mut codes: Vec<(u16, &str)> = vec![
        (CLOSE_NORMAL, "normal"),
        (CLOSE_AWAY, "heartbeat_timeout"),
        (CLOSE_RESTART, "restart"),
    ];
    codes.extend(
        Error::published()
            .iter()
            .map(|e| (e.close_code(), e.code())),
    );
    codes.sort();
    codes.dedup();
    out.push_str(
        "\n/** WebSocket close codes: 4000 + the HTTP status of each error, keyed by its `error` string. */\n\
         export const CLOSE = {\n",
    );
    for (code, name) in codes {
        out.push_str(&format!("  {name}: {code},\n"));
    }
    out.push_str("} as const;\n");
    out.push_str(&format!(
        "\n/** Limits the hub enforces by default. */\nexport const LIMITS = {{\n  \
         /** Largest WebSocket message or POST body (`--max-frame-bytes`). */\n  maxFrameBytes: {},\n  \
         /** Largest sequence number. */\n  maxSeq: {},\n  \
         /** Session ids are 1 to this many characters of A-Z a-z 0-9 _ -. */\n  maxSessionIdLength: {},\n\
         }} as const;\n",
        DEFAULT_MAX_FRAME_BYTES,
        event::MAX_SEQ,
        event::MAX_SESSION_ID_LEN,
    ));
    out
}

#[test]
fn protocol_ts_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PATH);
    let want = render();
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        std::fs::write(&path, &want).expect("write protocol.ts");
        panic!("{PATH} did not match the Rust protocol types; it has been regenerated: review and commit it");
    }
}
