//! The `session_owners` table (cluster mode): which hub records a session and writes its
//! events, under a lease that hub renews. A hub takes a session only when no other holds a
//! lease on it still running, in one atomic statement, so two hubs never own it at once.
//!
//! A lease alone does not stop a hub that was paused past it (SIGSTOP, a long GC-like stall, a
//! frozen VM) from writing what it had queued once it runs again, after another hub took the
//! session over. So every claim gets a fresh epoch, and each write of a session's events first
//! locks its owner row where owner and epoch are still the writer's ([`hold`]), in the write's
//! own transaction: a stale claim writes nothing, and a hub taking the session over waits for a
//! write in progress to commit (it then reads the session's stored state with that write in).

use std::{collections::HashSet, sync::Arc};

use diesel::{prelude::*, result::DatabaseErrorKind, result::Error as Diesel};

use super::{schema::session_owners, DbConn};
use crate::error::Result;

/// The outcome of [`acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This hub owns the session until its lease runs out, under this epoch.
    Acquired(i64),
    /// Another hub holds a running lease.
    HeldBy(String),
}

/// One claim of one session: what a write of its events must still match to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub owner: Arc<str>,
    pub epoch: i64,
}

/// A fresh epoch: random (rows are deleted on release, so a counter would start over and
/// could repeat an old claim's value).
fn new_epoch() -> i64 {
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 1) as i64
}

/// Takes `id` for `me` until `until` (ms) under a new epoch, unless another hub's lease runs
/// past `now`. The update and the insert are each atomic: of two hubs trying at once, one
/// updates or inserts and the other finds the row taken.
pub fn acquire(conn: &mut DbConn, id: &str, me: &str, now: i64, until: i64) -> Result<Claim> {
    use session_owners::dsl as o;
    let epoch = new_epoch();
    let taken = diesel::update(
        o::session_owners
            .filter(o::session_id.eq(id))
            .filter(o::owner.eq(me).or(o::lease_until.lt(now))),
    )
    .set((
        o::owner.eq(me),
        o::lease_until.eq(until),
        o::epoch.eq(epoch),
    ))
    .execute(conn)?;
    if taken == 1 {
        return Ok(Claim::Acquired(epoch));
    }
    let inserted = diesel::insert_into(o::session_owners)
        .values((
            o::session_id.eq(id),
            o::owner.eq(me),
            o::lease_until.eq(until),
            o::epoch.eq(epoch),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Claim::Acquired(epoch)),
        Err(Diesel::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let holder: Option<String> = o::session_owners
                .find(id)
                .select(o::owner)
                .first(conn)
                .optional()?;
            // Released between the two statements: the caller simply tries again.
            Ok(Claim::HeldBy(holder.unwrap_or_default()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Extends the claim's lease on `id`; `false` when it no longer holds.
pub fn renew(conn: &mut DbConn, id: &str, claim: &Fence, until: i64) -> Result<bool> {
    use session_owners::dsl as o;
    let n = diesel::update(
        o::session_owners
            .filter(o::session_id.eq(id))
            .filter(o::owner.eq(&*claim.owner))
            .filter(o::epoch.eq(claim.epoch)),
    )
    .set(o::lease_until.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives `id` up, if the claim still holds it: the next hub takes it at once.
pub fn release(conn: &mut DbConn, id: &str, claim: &Fence) -> Result<()> {
    use session_owners::dsl as o;
    diesel::delete(
        o::session_owners
            .filter(o::session_id.eq(id))
            .filter(o::owner.eq(&*claim.owner))
            .filter(o::epoch.eq(claim.epoch)),
    )
    .execute(conn)?;
    Ok(())
}

/// Inside a write's transaction: locks the owner rows of those `claims` (session id, claim)
/// that still hold, until the transaction ends, and returns their session ids; the others'
/// events must not be written. A claim whose lease ran out but that no other hub replaced
/// still holds: nobody else writes the session, and a hub taking it now waits for the lock.
pub fn hold(conn: &mut DbConn, claims: &[(&str, &Fence)]) -> Result<HashSet<String>> {
    if claims.is_empty() {
        return Ok(HashSet::new());
    }
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(c) => {
            // One statement for the whole flush (a round trip per session would make durable
            // latency grow with the number of sessions, see `chunks::update_totals`).
            use diesel::sql_types::{Array, BigInt, Text};
            #[derive(QueryableByName)]
            struct Held {
                #[diesel(sql_type = Text)]
                session_id: String,
            }
            let rows: Vec<Held> = diesel::sql_query(
                "UPDATE session_owners AS o SET epoch = o.epoch \
                 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(id, owner, epoch) \
                 WHERE o.session_id = v.id AND o.owner = v.owner AND o.epoch = v.epoch \
                 RETURNING o.session_id",
            )
            .bind::<Array<Text>, _>(claims.iter().map(|(id, _)| *id).collect::<Vec<&str>>())
            .bind::<Array<Text>, _>(claims.iter().map(|(_, f)| &*f.owner).collect::<Vec<&str>>())
            .bind::<Array<BigInt>, _>(claims.iter().map(|(_, f)| f.epoch).collect::<Vec<i64>>())
            .load(c)?;
            Ok(rows.into_iter().map(|r| r.session_id).collect())
        }
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            // In-process: a statement per session costs microseconds (and a write transaction
            // holds the whole database anyway).
            use session_owners::dsl as o;
            let mut held = HashSet::new();
            for (id, f) in claims {
                let n = diesel::update(
                    o::session_owners
                        .filter(o::session_id.eq(*id))
                        .filter(o::owner.eq(&*f.owner))
                        .filter(o::epoch.eq(f.epoch)),
                )
                .set(o::epoch.eq(f.epoch))
                .execute(c)?;
                if n == 1 {
                    held.insert((*id).to_owned());
                }
            }
            Ok(held)
        }
    }
}

/// The sessions some hub holds a running lease on: recorded elsewhere in the cluster, so not
/// left over by a previous run of this one.
pub fn leased(conn: &mut DbConn, now: i64) -> Result<Vec<String>> {
    use session_owners::dsl as o;
    Ok(o::session_owners
        .filter(o::lease_until.ge(now))
        .select(o::session_id)
        .load(conn)?)
}

/// Whether some hub holds a running lease on `id`: its recorder is connected somewhere in the
/// cluster.
pub fn is_leased(conn: &mut DbConn, id: &str, now: i64) -> Result<bool> {
    use session_owners::dsl as o;
    let n: i64 = o::session_owners
        .filter(o::session_id.eq(id))
        .filter(o::lease_until.ge(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
