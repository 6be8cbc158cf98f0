//! Users, refresh tokens and sign-up codes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::db::{Db, DbResult, now, one_row};
use super::schema::{refresh_tokens, signup_codes, users};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub profile_img: Option<String>,
    pub user_type: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deletion_due_at: Option<NaiveDateTime>,
    pub cancel_window_until: Option<NaiveDateTime>,
    /// Access tokens name the generation they were issued in; a bump revokes older ones.
    pub token_generation: i64,
    /// The address of the sign-in that opened the cancel window.
    pub cancel_window_ip: Option<String>,
}

/// The public shape of a user (contract §2.2).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicUser {
    #[serde(rename = "userId")]
    pub user_id: i64,
    pub username: String,
    pub email: String,
    #[serde(rename = "profileImg")]
    pub profile_img: Option<String>,
    #[serde(rename = "userType")]
    pub user_type: String,
}

impl From<&User> for PublicUser {
    fn from(u: &User) -> Self {
        PublicUser {
            user_id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            profile_img: u.profile_img.clone(),
            user_type: u.user_type.clone(),
        }
    }
}

/// `user_type` of an account made through Everyone's friend's `/user/create`, which proves no
/// e-mail address: it holds no claim on its address (see `release_address`).
pub const UNVERIFIED: &str = "Unverified";

impl User {
    pub fn is_common(&self) -> bool {
        self.user_type == "Common"
    }

    /// Made through Everyone's friend without proving its e-mail address.
    pub fn is_unverified(&self) -> bool {
        self.user_type == UNVERIFIED
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub profile_img: Option<&'a str>,
    pub user_type: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signup_codes)]
pub struct SignupCode {
    pub email: String,
    pub code: String,
    pub expires_at: NaiveDateTime,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
}

pub async fn find_user(db: &Db, id: i64) -> DbResult<Option<User>> {
    with_conn!(db, |conn| {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn find_user_by_email(db: &Db, email: &str) -> DbResult<Option<User>> {
    with_conn!(db, |conn| {
        Ok(users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Inserts the user and reads it back by e-mail. A taken e-mail is `DbError::Conflict`.
pub async fn insert_user(db: &Db, new: NewUser<'_>) -> DbResult<User> {
    with_conn!(db, |conn| {
        diesel::insert_into(users::table)
            .values(&new)
            .execute(conn)
            .await?;
        Ok(users::table
            .filter(users::email.eq(new.email))
            .select(User::as_select())
            .first(conn)
            .await?)
    })
}

pub async fn update_profile(
    db: &Db,
    id: i64,
    username: &str,
    profile_img: Option<&str>,
) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        let n = match profile_img {
            Some(img) => {
                diesel::update(users::table.find(id))
                    .set((
                        users::username.eq(username),
                        users::profile_img.eq(img),
                        users::updated_at.eq(t),
                    ))
                    .execute(conn)
                    .await?
            }
            None => {
                diesel::update(users::table.find(id))
                    .set((users::username.eq(username), users::updated_at.eq(t)))
                    .execute(conn)
                    .await?
            }
        };
        one_row(n)
    })
}

pub async fn update_password(db: &Db, id: i64, password_hash: &str) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::updated_at.eq(t),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Marks (or unmarks, with `None`) the account for deletion at `due`.
pub async fn set_deletion(db: &Db, id: i64, due: Option<NaiveDateTime>) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        diesel::update(users::table.find(id))
            .set((
                users::deletion_due_at.eq(due),
                users::cancel_window_until.eq(None::<NaiveDateTime>),
                users::updated_at.eq(t),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Everyone's friend's `PUT /user/update`: a new password and, when given, nickname; every
/// token issued so far is revoked in the same statement.
pub async fn update_account(
    db: &Db,
    id: i64,
    password_hash: &str,
    username: Option<&str>,
) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        let n = match username {
            Some(name) => {
                diesel::update(users::table.find(id))
                    .set((
                        users::password_hash.eq(password_hash),
                        users::username.eq(name),
                        users::token_generation.eq(users::token_generation + 1),
                        users::updated_at.eq(t),
                    ))
                    .execute(conn)
                    .await?
            }
            None => {
                diesel::update(users::table.find(id))
                    .set((
                        users::password_hash.eq(password_hash),
                        users::token_generation.eq(users::token_generation + 1),
                        users::updated_at.eq(t),
                    ))
                    .execute(conn)
                    .await?
            }
        };
        one_row(n)
    })
}

/// An unverified account whose owner has now proved the address (and its old password): it
/// becomes an ordinary account in place, keeping its channels and history. Only while it is
/// still unverified; `false` when another request changed it first.
pub async fn verify_account(
    db: &Db,
    id: i64,
    username: &str,
    password_hash: &str,
    user_type: &str,
) -> DbResult<bool> {
    let t = now();
    with_conn!(db, |conn| {
        let n = diesel::update(
            users::table
                .filter(users::id.eq(id))
                .filter(users::user_type.eq(UNVERIFIED)),
        )
        .set((
            users::username.eq(username),
            users::password_hash.eq(password_hash),
            users::user_type.eq(user_type),
            users::token_generation.eq(users::token_generation + 1),
            users::updated_at.eq(t),
        ))
        .execute(conn)
        .await?;
        Ok(n > 0)
    })
}

/// Someone proved the address an unverified account was made with: the account lets go of it
/// (its e-mail becomes `unverified-<id>@released.invalid`, which nobody can sign in with) and
/// every token it had is revoked. Its channels and messages stay with it. Only while it is
/// still unverified; `false` when it was not.
pub async fn release_address(db: &Db, id: i64) -> DbResult<bool> {
    let t = now();
    let placeholder = format!("unverified-{id}@released.invalid");
    with_conn!(db, |conn| {
        let n = diesel::update(
            users::table
                .filter(users::id.eq(id))
                .filter(users::user_type.eq(UNVERIFIED)),
        )
        .set((
            users::email.eq(&placeholder),
            users::token_generation.eq(users::token_generation + 1),
            users::updated_at.eq(t),
        ))
        .execute(conn)
        .await?;
        if n > 0 {
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq(id)))
                .execute(conn)
                .await?;
        }
        Ok(n > 0)
    })
}

/// Deletes the account now (Everyone's friend's `DELETE /user/delete`); the foreign keys take
/// what it owns with it. `false` when it was gone already.
pub async fn delete_user(db: &Db, id: i64) -> DbResult<bool> {
    with_conn!(db, |conn| {
        let n = diesel::delete(users::table.find(id)).execute(conn).await?;
        Ok(n > 0)
    })
}

/// Revokes every access token of the user issued so far (they name an older generation).
pub async fn bump_token_generation(db: &Db, id: i64) -> DbResult<()> {
    with_conn!(db, |conn| {
        diesel::update(users::table.find(id))
            .set(users::token_generation.eq(users::token_generation + 1))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Opens the window in which a deletion may be cancelled (after a correct-password sign-in),
/// for the address that signed in only.
pub async fn open_cancel_window(db: &Db, id: i64, until: NaiveDateTime, ip: &str) -> DbResult<()> {
    with_conn!(db, |conn| {
        diesel::update(users::table.find(id))
            .set((
                users::cancel_window_until.eq(Some(until)),
                users::cancel_window_ip.eq(Some(ip)),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Accounts whose deletion date has passed.
pub async fn users_due_for_deletion(db: &Db, at: NaiveDateTime) -> DbResult<Vec<User>> {
    with_conn!(db, |conn| {
        Ok(users::table
            .filter(users::deletion_due_at.le(at))
            .select(User::as_select())
            .load(conn)
            .await?)
    })
}

/// Deletes the user if it is still due (a cancelled deletion is not undone); the foreign keys
/// take everything the user owns with it. Returns whether a row went.
pub async fn delete_user_if_due(db: &Db, id: i64, at: NaiveDateTime) -> DbResult<bool> {
    with_conn!(db, |conn| {
        let n = diesel::delete(
            users::table
                .filter(users::id.eq(id))
                .filter(users::deletion_due_at.le(at)),
        )
        .execute(conn)
        .await?;
        Ok(n > 0)
    })
}

pub async fn store_refresh_token(
    db: &Db,
    user_id: i64,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        // Forget this user's expired sessions while we are here.
        diesel::delete(
            refresh_tokens::table
                .filter(refresh_tokens::user_id.eq(user_id))
                .filter(refresh_tokens::expires_at.lt(t)),
        )
        .execute(conn)
        .await?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(token_hash),
                refresh_tokens::user_id.eq(user_id),
                refresh_tokens::expires_at.eq(expires_at),
                refresh_tokens::created_at.eq(t),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Whether this refresh token was issued to `user_id` and not revoked.
pub async fn refresh_token_is_live(db: &Db, user_id: i64, token_hash: &str) -> DbResult<bool> {
    let t = now();
    with_conn!(db, |conn| {
        let n: i64 = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::expires_at.gt(t))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}

pub async fn revoke_refresh_token(db: &Db, token_hash: &str) -> DbResult<usize> {
    with_conn!(db, |conn| {
        Ok(diesel::delete(refresh_tokens::table.find(token_hash))
            .execute(conn)
            .await?)
    })
}

/// Revokes every refresh token of the user except `keep` (the caller's own session, if any).
pub async fn revoke_user_refresh_tokens(
    db: &Db,
    user_id: i64,
    keep: Option<&str>,
) -> DbResult<usize> {
    with_conn!(db, |conn| {
        let n = match keep {
            Some(k) => {
                diesel::delete(
                    refresh_tokens::table
                        .filter(refresh_tokens::user_id.eq(user_id))
                        .filter(refresh_tokens::token_hash.ne(k)),
                )
                .execute(conn)
                .await?
            }
            None => {
                diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)))
                    .execute(conn)
                    .await?
            }
        };
        Ok(n)
    })
}

/// Stores a fresh code for `email`, replacing any earlier one (and its attempt count).
pub async fn put_signup_code(
    db: &Db,
    email: &str,
    code: &str,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        diesel::delete(signup_codes::table.find(email))
            .execute(conn)
            .await?;
        diesel::insert_into(signup_codes::table)
            .values((
                signup_codes::email.eq(email),
                signup_codes::code.eq(code),
                signup_codes::expires_at.eq(expires_at),
                signup_codes::attempts.eq(0),
                signup_codes::created_at.eq(t),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn find_signup_code(db: &Db, email: &str) -> DbResult<Option<SignupCode>> {
    with_conn!(db, |conn| {
        Ok(signup_codes::table
            .find(email)
            .select(SignupCode::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Counts a wrong guess. Returns the attempts made so far.
pub async fn count_signup_attempt(db: &Db, email: &str) -> DbResult<i32> {
    with_conn!(db, |conn| {
        diesel::update(signup_codes::table.find(email))
            .set(signup_codes::attempts.eq(signup_codes::attempts + 1))
            .execute(conn)
            .await?;
        Ok(signup_codes::table
            .find(email)
            .select(signup_codes::attempts)
            .first(conn)
            .await
            .optional()?
            .unwrap_or(i32::MAX))
    })
}

/// Uses the code up. Returns false when it was already gone (someone else used it first).
pub async fn take_signup_code(db: &Db, email: &str, code: &str) -> DbResult<bool> {
    with_conn!(db, |conn| {
        let n = diesel::delete(
            signup_codes::table
                .filter(signup_codes::email.eq(email))
                .filter(signup_codes::code.eq(code)),
        )
        .execute(conn)
        .await?;
        Ok(n > 0)
    })
}

pub async fn delete_expired_signup_codes(db: &Db, at: NaiveDateTime) -> DbResult<usize> {
    with_conn!(db, |conn| {
        Ok(
            diesel::delete(signup_codes::table.filter(signup_codes::expires_at.lt(at)))
                .execute(conn)
                .await?,
        )
    })
}
