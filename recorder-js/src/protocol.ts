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
project: string, active: boolean, started_at: string, last_event_at: string, ended_at: string | null, duration_ms: number, url: string | null, user_agent: string | null, event_count: number, raw_bytes: number, stored_bytes: number, first_event_ts: number | null, };

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
