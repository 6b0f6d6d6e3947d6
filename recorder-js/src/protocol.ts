// Generated from the hub's Rust types by `cargo test` (src/protocol/typescript.rs): do not edit.
// The wire protocol between the hub, recorders, viewers and the dashboard; see docs/PROTOCOL.md.

/** A session as the API and the dashboard show it. */
export type SessionInfo = { 
/**
 * The id the recorder chose, unique within its project.
 */
id: string, 
/**
 * The project the session was recorded for (`?project=` where an id is ambiguous).
 */
project: string, active: boolean, started_at: string, last_event_at: string, ended_at: string | null, duration_ms: number, url: string | null, user_agent: string | null, event_count: number, raw_bytes: number, stored_bytes: number, first_event_ts: number | null, 
/**
 * The latest `$identify`'s user id and traits (a JSON object).
 */
user_id: string | null, traits: Record<string, unknown> | null, 
/**
 * From the user agent: browser and OS names, and `desktop`, `mobile`, `tablet`, `bot` or
 * `other`.
 */
browser: string | null, os: string | null, device: string | null, viewport: Viewport | null, 
/**
 * Page visits: every Meta event and every `$pageview`.
 */
page_count: number, 
/**
 * Sum of the gaps under 5 s between user-input events.
 */
active_ms: number, error_count: number, click_count: number, rage_click_count: number, custom_event_count: number, 
/**
 * Distinct pages visited (`GET /api/sessions/{id}` only).
 */
pages?: Array<string>, };

/** The last viewport size the recorder reported. */
export type Viewport = { width: number, height: number, };

/** A page of `GET /api/sessions`. */
export type SessionList = { sessions: Array<SessionInfo>, 
/**
 * Pass as `cursor` for the next page; null on the last.
 */
next_cursor: string | null, 
/**
 * True when the database could not be read: `sessions` holds only the active sessions
 * this hub knows of.
 */
partial: boolean, };

/** One event as viewers receive it: its seq, the hub's receive time and the rrweb event as recorded. */
export type EventEnvelope = { seq: number, hub_time: number, event: unknown, };

/** What the hub sends a recorder. */
export type HubToRecorder = { "type": "welcome", session_id: string, received_seq: number, durable_seq: number, hub_time: number, resume_token: string, } | { "type": "ack", durable_seq: number, } | { "type": "resend", from_seq: number, } | { "type": "pong", id: unknown, client_time: number, hub_time: number, } | { "type": "error", error: string, message: string, };

/** What the hub sends a viewer. */
export type HubToViewer = { "type": "session", session: SessionInfo, start_seq: number, } | { "type": "events", events: Array<EventEnvelope>, } | { "type": "live" } | { "type": "end" } | { "type": "clock", recorder_offset: number, recorder_rtt: number, } | { "type": "pong", id: unknown, client_time: number, hub_time: number, } | { "type": "error", error: string, message: string, };

/** What the hub sends a dashboard watching the session list. */
export type HubToFeed = { "type": "session", session: SessionInfo, };

/** What a recorder sends the hub. */
export type RecorderToHub = { "type": "events", seq: number, events: Array<unknown>, } | { "type": "ping", id: unknown, client_time: number, } | { "type": "clock", offset: number, rtt: number, };

/** What a viewer sends the hub. */
export type ViewerToHub = { "type": "ping", id: unknown, client_time: number, } | { "type": "ack", seq: number, };

/** What a page in standby sends on its presence socket. */
export type PresenceToHub = { "type": "presence", url: string, viewport?: Viewport, user_agent?: string, };

/** What the hub sends a page on its presence socket. */
export type HubToPresence = { "type": "record", session_id: string, } | { "type": "stop" };

/** A visitor online now (`GET /api/online`). */
export type OnlineVisitor = { 
/**
 * Stable across the visitor's pages and visits (kept in the browser's localStorage).
 */
visitor_id: string, project: string, 
/**
 * The page the visitor is on.
 */
url: string, viewport: Viewport | null, user_agent: string | null, 
/**
 * From the user agent: browser, OS and `desktop`, `mobile`, `tablet`, `bot` or `other`.
 */
browser: string | null, os: string | null, device: string | null, 
/**
 * When this visit's first page connected (RFC 3339): time on site is now minus this.
 */
online_since: string, 
/**
 * Whether a recording started on demand is running.
 */
recording: boolean, 
/**
 * While recording: the session to open at `/sessions/{session_id}?project={project}`.
 */
session_id: string | null, 
/**
 * While recording: when it started (RFC 3339).
 */
started: string | null, 
/**
 * While recording: how many viewers watch it now.
 */
viewers: number, };

/** `GET /api/online`. */
export type OnlineList = { visitors: Array<OnlineVisitor>, };

/** `GET /api/heatmaps`: a page's heatmap of one kind. */
export type Heatmap = { url: string, kind: string, 
/**
 * `mobile` (< 768 px), `tablet` (< 1024 px) or `desktop`.
 */
bucket: string, 
/**
 * The days summed, as RFC 3339 times (the first day's start, the last day's end).
 */
from: string, to: string, 
/**
 * Sum of the points' counts (for `scroll`: page visits).
 */
total: number, points: Array<HeatPoint>, 
/**
 * Clicks per element, most clicked first (recorded page text: show with textContent).
 */
elements: Array<HeatElement>, rage_clicks: number, dead_clicks: number, 
/**
 * For `scroll`: the share of visits that showed each depth, top down.
 */
scroll: Array<ScrollDepth>, snapshot: HeatSnapshot | null, 
/**
 * The sessions list, filtered to this page.
 */
sessions_url: string, };

/** A heatmap point, by element or by page coordinates. */
export type HeatPoint = { selector: string | null, ox: number | null, oy: number | null, x: number, y: number, count: number, };

/** An element's clicks on a heatmap's page. */
export type HeatElement = { selector: string, clicks: number, rage: number, dead: number, sessions_url: string, };

/** How far down visits got. */
export type ScrollDepth = { 
/**
 * Pixels from the page's top.
 */
y: number, 
/**
 * Visits that showed the page at least this far down, and their share of all.
 */
reached: number, share: number, };

/** The snapshot a heatmap is drawn on. */
export type HeatSnapshot = { session_id: string, project: string, url: string, width: number, height: number, taken_at: string, events_url: string, };

/** WebSocket close codes: 4000 + the HTTP status of each error, keyed by its `error` string. */
export const CLOSE = {
  normal: 1000,
  heartbeat_timeout: 1001,
  restart: 1012,
  invalid_frame: 4400,
  invalid_query: 4400,
  invalid_session_id: 4400,
  invalid_key: 4401,
  unauthorized: 4401,
  csrf_rejected: 4403,
  forbidden: 4403,
  origin_not_allowed: 4403,
  not_found: 4404,
  session_not_found: 4404,
  request_timeout: 4408,
  viewer_too_slow: 4408,
  recorder_conflict: 4409,
  still_recording: 4409,
  recorder_replaced: 4410,
  frame_too_large: 4413,
  rate_limited: 4429,
  internal: 4500,
  bus_unavailable: 4503,
  overloaded: 4503,
  session_closing: 4503,
  shutting_down: 4503,
  unavailable: 4503,
} as const;

/** Limits the hub enforces by default. */
export const LIMITS = {
  /** Largest WebSocket message or POST body (`--max-frame-bytes`). */
  maxFrameBytes: 16777216,
  /** Largest sequence number. */
  maxSeq: 9007199254740991,
  /** Session ids are 1 to this many characters of A-Z a-z 0-9 _ -. */
  maxSessionIdLength: 64,
} as const;
