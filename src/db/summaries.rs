//! Storing what the hub derives from a session's events (`crate::summary`): its row's derived
//! columns and its `session_pages` / `session_events` rows. Run by the writer inside the
//! transaction that stores the events a summary covers.

use diesel::prelude::*;

use super::{
    schema::{session_events, session_pages, sessions},
    DbConn,
};
use crate::{error::Result, summary::SummaryWrite};

#[derive(Insertable)]
#[diesel(table_name = session_pages)]
struct Page<'a> {
    session_id: &'a str,
    url: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = session_events)]
struct Name<'a> {
    session_id: &'a str,
    name: &'a str,
}

/// Rows per multi-row INSERT, well under both backends' bound-parameter limits.
const INSERT_ROWS: usize = 500;

/// Stores each session's summary: one statement for the whole flush on PostgreSQL (a round trip
/// per session would make durability wait), a statement per session on SQLite (in-process).
pub fn store(conn: &mut DbConn, writes: &[(&str, &SummaryWrite)]) -> Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => {
            use diesel::sql_types::{Array, BigInt, Nullable, Text};
            let col =
                |f: fn(&SummaryWrite) -> i64| writes.iter().map(|w| f(w.1)).collect::<Vec<_>>();
            let opt = |f: fn(&SummaryWrite) -> Option<i64>| {
                writes.iter().map(|w| f(w.1)).collect::<Vec<_>>()
            };
            let text = |f: fn(&SummaryWrite) -> Option<&str>| {
                writes.iter().map(|w| f(w.1)).collect::<Vec<_>>()
            };
            diesel::sql_query(
                "UPDATE sessions AS s SET user_id = v.user_id, traits = v.traits, \
                 viewport_width = v.vw, viewport_height = v.vh, page_count = v.pages, \
                 duration_ms = v.duration, active_ms = v.active, error_count = v.errors, \
                 click_count = v.clicks, rage_click_count = v.rage, custom_event_count = v.custom, \
                 exit_url = v.exit_url, numbered = TRUE \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
                 $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], \
                 $11::bigint[], $12::bigint[], $13::text[]) \
                 AS v(id, user_id, traits, vw, vh, pages, duration, active, errors, clicks, rage, \
                 custom, exit_url) \
                 WHERE s.id = v.id",
            )
            .bind::<Array<Text>, _>(writes.iter().map(|w| w.0).collect::<Vec<&str>>())
            .bind::<Array<Nullable<Text>>, _>(text(|w| w.derived.user_id.as_deref()))
            .bind::<Array<Nullable<Text>>, _>(text(|w| w.derived.traits.as_deref()))
            .bind::<Array<Nullable<BigInt>>, _>(opt(|w| w.derived.viewport_width))
            .bind::<Array<Nullable<BigInt>>, _>(opt(|w| w.derived.viewport_height))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.page_count))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.duration_ms))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.active_ms))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.error_count))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.click_count))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.rage_click_count))
            .bind::<Array<BigInt>, _>(col(|w| w.derived.custom_event_count))
            .bind::<Array<Nullable<Text>>, _>(text(|w| w.derived.exit_url.as_deref()))
            .execute(c)?;
        }
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            for (id, w) in writes {
                let d = &w.derived;
                diesel::update(sessions::table.find(*id))
                    .set((
                        sessions::user_id.eq(d.user_id.as_deref()),
                        sessions::traits.eq(d.traits.as_deref()),
                        sessions::viewport_width.eq(d.viewport_width),
                        sessions::viewport_height.eq(d.viewport_height),
                        sessions::page_count.eq(d.page_count),
                        sessions::duration_ms.eq(d.duration_ms),
                        sessions::active_ms.eq(d.active_ms),
                        sessions::error_count.eq(d.error_count),
                        sessions::click_count.eq(d.click_count),
                        sessions::rage_click_count.eq(d.rage_click_count),
                        sessions::custom_event_count.eq(d.custom_event_count),
                        sessions::exit_url.eq(d.exit_url.as_deref()),
                        sessions::numbered.eq(true),
                    ))
                    .execute(c)?;
            }
        }
    }
    let pages: Vec<Page<'_>> = writes
        .iter()
        .flat_map(|(id, w)| {
            w.new_pages.iter().map(|url| Page {
                session_id: id,
                url,
            })
        })
        .collect();
    let names: Vec<Name<'_>> = writes
        .iter()
        .flat_map(|(id, w)| {
            w.new_events.iter().map(|name| Name {
                session_id: id,
                name,
            })
        })
        .collect();
    // A page already stored (a write retried after a lost commit reply) is skipped. Diesel
    // builds SQLite's ON CONFLICT for one row at a time (in-process: microseconds each).
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => {
            for part in pages.chunks(INSERT_ROWS) {
                diesel::insert_into(session_pages::table)
                    .values(part)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            for part in names.chunks(INSERT_ROWS) {
                diesel::insert_into(session_events::table)
                    .values(part)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            for page in &pages {
                diesel::insert_into(session_pages::table)
                    .values(page)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            for name in &names {
                diesel::insert_into(session_events::table)
                    .values(name)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(())
}
