//! The `api_tokens` table: bearer tokens a user created for scripts, stored as digests.

use diesel::prelude::*;

use super::{
    schema::{api_tokens, users},
    users::UserRow,
    DbConn,
};
use crate::error::Result;

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub token_hash: String,
    pub created_at: i64,
}

pub fn insert(conn: &mut DbConn, row: &ApiTokenRow) -> Result<()> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The token's owner, if the token exists.
pub fn find_user(conn: &mut DbConn, token_hash: &str) -> Result<Option<UserRow>> {
    Ok(api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_for_user(conn: &mut DbConn, username: &str) -> Result<Vec<ApiTokenRow>> {
    Ok(api_tokens::table
        .filter(api_tokens::username.eq(username))
        .order(api_tokens::created_at)
        .select(ApiTokenRow::as_select())
        .load(conn)?)
}

/// Revokes one of the user's tokens; `false` when they have no token with that id.
pub fn delete(conn: &mut DbConn, username: &str, id: &str) -> Result<bool> {
    Ok(diesel::delete(
        api_tokens::table
            .filter(api_tokens::username.eq(username))
            .filter(api_tokens::id.eq(id)),
    )
    .execute(conn)?
        > 0)
}
