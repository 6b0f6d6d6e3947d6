//! StreamDOM: a hub that records web sessions as rrweb events, fans them out live to viewers
//! and stores them for replay.
//!
//! Layers, each importing only those below it (checked by `tests/layering.rs`):
//!
//! - `server`: starts and stops everything, wired together.
//! - `api`: HTTP routes, the upgrades to sockets, the embedded dashboard (`assets`), sign-in
//!   over HTTP (`access`: cookies, tokens, Origin and CSRF checks, login and logout), the
//!   administration API (`admin`: projects, their origins and members), heatmaps (`heat_api`),
//!   the numbers page's API (`numbers`: a project's rollups for a range of days).
//! - `auth`: users, sign-ins and API tokens, passwords (Argon2id), the sign-in limiter, and
//!   projects as access sees them (`auth::projects`: ingest keys, origins, who sees what).
//!   Operations endpoints (`ops`: liveness, readiness, metrics).
//! - `ws`: the socket actors: recorder, viewer and session-list feed.
//! - `presence`: recording on demand: who is online now (in memory), and the recordings PMs
//!   started from the online page, until Stop or the grace after their last viewer.
//! - `source`: where a viewer's or reader's events come from (active or stored), page by page;
//!   `retention`: the periodic deletion of old sessions, and giving their space back.
//! - `registry`: session id → session actor, and the feed of session-list changes.
//! - `cluster` (with `--nats-url`): the NATS bus between hubs; followers of sessions recorded
//!   on other hubs (`cluster::remote`, fed to viewers through the same fan-out); the relay a
//!   session publishes through (`session::relay`, implemented here).
//! - `session`: one actor per active session, with its policies: `backlog` (the rolling
//!   buffer), `reorder` (frames put back in order) and `fanout` (its viewers). It reports its
//!   lifecycle through a `Recipient`, never by naming the registry.
//! - `writer`: batches every session's events into transactions; `writer::plan` decides which
//!   small chunks merge. It tells sessions what is durable through a `Recipient`.
//! - `spool`: the durable on-disk spool the writer falls back on while the database cannot
//!   take its flushes (segment files of checksummed records, fsynced before acknowledging).
//! - `db`: the connection over SQLite and PostgreSQL, queries per table, the blocking `Store`.
//! - Leaves, below all: `protocol` (the wire format, defined once), `event`, `chunk`,
//!   `compression` (compressed frames, inflated within the frame limit), `error`,
//!   `config`, `rate` (token buckets), `limits` (events and bytes per second per connection and
//!   per project, recorders per key, sockets per address), `summary` (what is derived from a
//!   session's events and user agent), `heatmap` (clicks, rage and dead clicks, moves and scroll
//!   depth aggregated per page as events arrive), `metrics` (process-wide counters for `/metrics`, bumped
//!   by one-line calls).
pub mod access;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod chunk;
pub mod cluster;
pub mod compression;
pub mod config;
pub mod db;
pub mod error;
pub mod event;
pub mod heat_api;
pub mod heatmap;
pub mod limits;
pub mod metrics;
pub mod numbers;
pub mod online;
pub mod ops;
pub mod presence;
pub mod protocol;
pub mod rate;
pub mod registry;
pub mod retention;
pub mod server;
pub mod session;
pub mod source;
pub mod spool;
pub mod summary;
pub mod writer;
pub mod ws;
