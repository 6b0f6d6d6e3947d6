//! StreamDOM: a hub that records web sessions as rrweb events, fans them out live to viewers
//! and stores them for replay.
pub mod api;
pub mod assets;
pub mod chunk;
pub mod config;
pub mod db;
pub mod error;
pub mod event;
pub mod fanout;
pub mod history;
pub mod registry;
pub mod reorder;
pub mod server;
pub mod session;
pub mod writer;
pub mod ws;
