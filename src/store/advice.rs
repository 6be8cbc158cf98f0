//! AI advice on diaries: the latest answer per diary, and the answers given per user for the
//! daily limit (`AI_DAILY_LIMIT`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::db::{Db, DbError, DbResult};
use super::schema::{advice_usage, diaries, diary_advice, users};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = diary_advice)]
pub struct Advice {
    pub diary_id: i64,
    pub advice: String,
    pub model: String,
    pub created_at: NaiveDateTime,
}

/// Why an answer was not kept.
#[derive(Debug)]
pub enum SaveError {
    /// The user had `limit` answers since the start of the day already.
    LimitReached,
    Db(DbError),
}

impl From<DbError> for SaveError {
    fn from(e: DbError) -> Self {
        SaveError::Db(e)
    }
}

impl From<diesel::result::Error> for SaveError {
    fn from(e: diesel::result::Error) -> Self {
        SaveError::Db(e.into())
    }
}

/// The diary's advice, if it has been asked for.
pub async fn find(db: &Db, diary_id: i64) -> DbResult<Option<Advice>> {
    with_conn!(db, |conn| {
        Ok(diary_advice::table
            .find(diary_id)
            .select(Advice::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The usage rows of `user_id` since `since`: what the daily limit counts.
#[diesel::dsl::auto_type]
fn usage_since(user_id: i64, since: NaiveDateTime) -> _ {
    advice_usage::table
        .filter(advice_usage::user_id.eq(user_id))
        .filter(advice_usage::created_at.ge(since))
}

/// Answers given to `user_id` since `since`.
pub async fn used_since(db: &Db, user_id: i64, since: NaiveDateTime) -> DbResult<i64> {
    with_conn!(db, |conn| {
        Ok(usage_since(user_id, since).count().get_result(conn).await?)
    })
}

/// Keeps `advice` as the diary's answer (replacing an earlier one) and counts it against the
/// owner's day, in one transaction: under the owner's row lock, so instances answering the same
/// user at once cannot pass the limit together. `limit` 0 means no limit. `NotFound` when the
/// diary is gone (or not the owner's) by now.
pub async fn save(
    db: &Db,
    advice: &Advice,
    owner: i64,
    since: NaiveDateTime,
    limit: u32,
) -> Result<(), SaveError> {
    with_conn!(db, |conn| {
        conn.transaction::<(), SaveError, _>(async |conn| {
            diesel::update(users::table.find(owner))
                .set(users::id.eq(users::id))
                .execute(conn)
                .await?;
            let mine = diaries::table
                .filter(diaries::id.eq(advice.diary_id))
                .filter(diaries::user_id.eq(owner))
                .count()
                .get_result::<i64>(conn)
                .await?;
            if mine == 0 {
                return Err(SaveError::Db(DbError::NotFound));
            }
            if limit > 0 {
                let used: i64 = usage_since(owner, since).count().get_result(conn).await?;
                if used >= i64::from(limit) {
                    return Err(SaveError::LimitReached);
                }
            }
            diesel::delete(diary_advice::table.find(advice.diary_id))
                .execute(conn)
                .await?;
            diesel::insert_into(diary_advice::table)
                .values((
                    diary_advice::diary_id.eq(advice.diary_id),
                    diary_advice::advice.eq(&advice.advice),
                    diary_advice::model.eq(&advice.model),
                    diary_advice::created_at.eq(advice.created_at),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(advice_usage::table)
                .values((
                    advice_usage::user_id.eq(owner),
                    advice_usage::created_at.eq(advice.created_at),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    })
}

/// Forgets usage older than `before` (the periodic job); the limit only looks at today.
pub async fn forget_usage_before(db: &Db, before: NaiveDateTime) -> DbResult<usize> {
    with_conn!(db, |conn| {
        Ok(
            diesel::delete(advice_usage::table.filter(advice_usage::created_at.lt(before)))
                .execute(conn)
                .await?,
        )
    })
}
