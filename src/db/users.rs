//! The `users` table: who may sign in to the dashboard, their Argon2id hash and their role.

use diesel::prelude::*;

use super::{schema::users, DbConn};
use crate::error::Result;

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

pub fn count(conn: &mut DbConn) -> Result<i64> {
    Ok(users::table.count().get_result(conn)?)
}

pub fn get(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>> {
    Ok(users::table
        .find(username)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<UserRow>> {
    Ok(users::table
        .select(UserRow::as_select())
        .order(users::username)
        .load(conn)?)
}

/// Adds a user; `false` when the name is taken.
pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<bool> {
    match diesel::insert_into(users::table).values(row).execute(conn) {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Replaces a user's password hash; `false` when there is no such user.
pub fn set_password(conn: &mut DbConn, username: &str, hash: &str) -> Result<bool> {
    Ok(diesel::update(users::table.find(username))
        .set(users::password_hash.eq(hash))
        .execute(conn)?
        > 0)
}

/// Removes a user with their sign-in sessions and tokens (by cascade); `false` when unknown.
pub fn remove(conn: &mut DbConn, username: &str) -> Result<bool> {
    Ok(diesel::delete(users::table.find(username)).execute(conn)? > 0)
}
