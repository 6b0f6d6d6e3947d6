//! The `user_sessions` table: server-side sign-ins, found by the digest of the cookie's token.

use diesel::prelude::*;

use super::{
    schema::{user_sessions, users},
    users::UserRow,
    DbConn,
};
use crate::error::Result;

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = user_sessions)]
pub struct UserSessionRow {
    pub token_hash: String,
    pub username: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn insert(conn: &mut DbConn, row: &UserSessionRow) -> Result<()> {
    diesel::insert_into(user_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The sign-in and its user, if the token is known and not expired at `now`.
pub fn find_valid(
    conn: &mut DbConn,
    token_hash: &str,
    now: i64,
) -> Result<Option<(UserSessionRow, UserRow)>> {
    Ok(user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::token_hash.eq(token_hash))
        .filter(user_sessions::expires_at.gt(now))
        .select((UserSessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?)
}

pub fn delete(conn: &mut DbConn, token_hash: &str) -> Result<()> {
    diesel::delete(user_sessions::table.find(token_hash)).execute(conn)?;
    Ok(())
}

/// Ends every sign-in of a user (after a password change).
pub fn delete_for_user(conn: &mut DbConn, username: &str) -> Result<usize> {
    Ok(
        diesel::delete(user_sessions::table.filter(user_sessions::username.eq(username)))
            .execute(conn)?,
    )
}

pub fn delete_expired(conn: &mut DbConn, now: i64) -> Result<usize> {
    Ok(
        diesel::delete(user_sessions::table.filter(user_sessions::expires_at.le(now)))
            .execute(conn)?,
    )
}
