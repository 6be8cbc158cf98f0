//! Diaries, likes, view counts, comments and replies.
//!
//! Rules the database itself enforces: one diary per user and day (`diaries_one_per_day`), one
//! like per user and diary (`diary_likes_once`), and everything a diary owns goes with it
//! (`ON DELETE CASCADE`).

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::db::{Db, DbError, DbResult, one_row};
use super::schema::{comments, diaries, diary_likes, diary_views, secondary_comments, users};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = diaries)]
pub struct Diary {
    pub id: i64,
    pub user_id: i64,
    pub emotion_status: f64,
    pub image: Option<String>,
    pub content: String,
    pub is_public: bool,
    pub view_count: i64,
    pub like_count: i64,
    pub sentence: Option<String>,
    pub weather: String,
    pub temperature: Option<String>,
    pub humid: Option<String>,
    pub sleep: Option<String>,
    pub local_date: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Diary {
    /// Owners see their diaries; everyone signed in sees public ones.
    pub fn visible_to(&self, user_id: i64) -> bool {
        self.is_public || self.user_id == user_id
    }
}

#[derive(Insertable)]
#[diesel(table_name = diaries)]
pub struct NewDiary<'a> {
    pub user_id: i64,
    pub emotion_status: f64,
    pub image: Option<&'a str>,
    pub content: &'a str,
    pub is_public: bool,
    pub view_count: i64,
    pub like_count: i64,
    pub sentence: Option<&'a str>,
    pub weather: &'a str,
    pub temperature: Option<&'a str>,
    pub humid: Option<&'a str>,
    pub sleep: Option<&'a str>,
    pub local_date: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Who wrote something: the name and picture shown next to it.
#[derive(Debug, Clone)]
pub struct Author {
    pub username: String,
    pub profile_img: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = diary_likes)]
pub struct Like {
    pub id: i64,
    pub diary_id: i64,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i64,
    pub diary_id: i64,
    pub user_id: i64,
    pub content: String,
    pub is_edited: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = secondary_comments)]
pub struct Reply {
    pub id: i64,
    pub diary_id: i64,
    pub comment_id: i64,
    pub user_id: i64,
    pub content: String,
    pub is_edited: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Which diaries a list wants, newest first.
#[derive(Debug, Clone, Default)]
pub struct DiaryFilter {
    /// Only this user's (`/feeds/mydiaries`), or only public ones (`/feeds`).
    pub owner: Option<i64>,
    pub public_only: bool,
    /// Diary days, inclusive.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Written before this instant (the `lastCreatedAt` cursor).
    pub before: Option<NaiveDateTime>,
    pub offset: i64,
    pub limit: i64,
}

/// Inserts the diary. A second diary on the same day is `DbError::Conflict`, decided by the
/// unique key, so two posts racing each other cannot both win.
pub async fn insert(db: &Db, new: NewDiary<'_>) -> DbResult<Diary> {
    with_conn!(db, |conn| {
        diesel::insert_into(diaries::table)
            .values(&new)
            .execute(conn)
            .await?;
        Ok(diaries::table
            .filter(diaries::user_id.eq(new.user_id))
            .filter(diaries::local_date.eq(new.local_date))
            .select(Diary::as_select())
            .first(conn)
            .await?)
    })
}

pub async fn exists_on(db: &Db, user_id: i64, day: NaiveDate) -> DbResult<bool> {
    with_conn!(db, |conn| {
        let n: i64 = diaries::table
            .filter(diaries::user_id.eq(user_id))
            .filter(diaries::local_date.eq(day))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}

pub async fn find(db: &Db, id: i64) -> DbResult<Option<Diary>> {
    with_conn!(db, |conn| {
        Ok(diaries::table
            .find(id)
            .select(Diary::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// What an edit changes: `content` only when given (a `None` field is left out of the SET).
#[derive(AsChangeset)]
#[diesel(table_name = diaries)]
struct DiaryChanges<'a> {
    content: Option<&'a str>,
    is_public: bool,
    updated_at: NaiveDateTime,
}

/// Changes the content (when given) and the visibility of the owner's diary; `None` when the
/// diary is not there or not theirs.
pub async fn update(
    db: &Db,
    id: i64,
    owner: i64,
    content: Option<&str>,
    is_public: bool,
    at: NaiveDateTime,
) -> DbResult<Option<Diary>> {
    let changes = DiaryChanges {
        content,
        is_public,
        updated_at: at,
    };
    with_conn!(db, |conn| {
        let n = diesel::update(
            diaries::table
                .filter(diaries::id.eq(id))
                .filter(diaries::user_id.eq(owner)),
        )
        .set(&changes)
        .execute(conn)
        .await?;
        if n == 0 {
            return Ok(None);
        }
        Ok(diaries::table
            .find(id)
            .select(Diary::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Deletes the owner's diary (its likes, views, comments and replies go by cascade) and returns
/// what it was, so its drawing can be removed too; `None` when not there or not theirs.
pub async fn delete(db: &Db, id: i64, owner: i64) -> DbResult<Option<Diary>> {
    with_conn!(db, |conn| {
        let Some(diary) = diaries::table
            .filter(diaries::id.eq(id))
            .filter(diaries::user_id.eq(owner))
            .select(Diary::as_select())
            .first(conn)
            .await
            .optional()?
        else {
            return Ok(None);
        };
        let n = diesel::delete(
            diaries::table
                .filter(diaries::id.eq(id))
                .filter(diaries::user_id.eq(owner)),
        )
        .execute(conn)
        .await?;
        Ok((n > 0).then_some(diary))
    })
}

/// The user's diaries on the days from `first` to `last`, oldest first.
pub async fn on_days(
    db: &Db,
    user_id: i64,
    first: NaiveDate,
    last: NaiveDate,
) -> DbResult<Vec<Diary>> {
    with_conn!(db, |conn| {
        Ok(diaries::table
            .filter(diaries::user_id.eq(user_id))
            .filter(diaries::local_date.between(first, last))
            .order(diaries::local_date.asc())
            .select(Diary::as_select())
            .load(conn)
            .await?)
    })
}

/// Every diary of the user, oldest first (the export).
pub async fn all_of(db: &Db, user_id: i64) -> DbResult<Vec<Diary>> {
    with_conn!(db, |conn| {
        Ok(diaries::table
            .filter(diaries::user_id.eq(user_id))
            .order(diaries::local_date.asc())
            .select(Diary::as_select())
            .load(conn)
            .await?)
    })
}

/// The days the user wrote on, newest first (for streaks).
pub async fn days_of(db: &Db, user_id: i64) -> DbResult<Vec<NaiveDate>> {
    with_conn!(db, |conn| {
        Ok(diaries::table
            .filter(diaries::user_id.eq(user_id))
            .order(diaries::local_date.desc())
            .select(diaries::local_date)
            .load(conn)
            .await?)
    })
}

/// The drawings of every diary of the user (removed with the account).
pub async fn images_of(db: &Db, user_id: i64) -> DbResult<Vec<String>> {
    with_conn!(db, |conn| {
        Ok(diaries::table
            .filter(diaries::user_id.eq(user_id))
            .filter(diaries::image.is_not_null())
            .select(diaries::image.assume_not_null())
            .load(conn)
            .await?)
    })
}

fn with_authors<T>(rows: Vec<(T, String, Option<String>)>) -> Vec<(T, Author)> {
    rows.into_iter()
        .map(|(row, username, profile_img)| {
            (
                row,
                Author {
                    username,
                    profile_img,
                },
            )
        })
        .collect()
}

/// A page of diaries with their authors, newest first.
pub async fn list(db: &Db, f: &DiaryFilter) -> DbResult<Vec<(Diary, Author)>> {
    let rows: Vec<(Diary, String, Option<String>)> = with_conn!(db, |conn| {
        let mut q = diaries::table
            .inner_join(users::table)
            .select((Diary::as_select(), users::username, users::profile_img))
            .into_boxed();
        if let Some(owner) = f.owner {
            q = q.filter(diaries::user_id.eq(owner));
        }
        if f.public_only {
            q = q.filter(diaries::is_public.eq(true));
        }
        if let Some((first, last)) = f.days {
            q = q.filter(diaries::local_date.between(first, last));
        }
        if let Some(before) = f.before {
            q = q.filter(diaries::created_at.lt(before));
        }
        Ok::<_, DbError>(
            q.order((diaries::created_at.desc(), diaries::id.desc()))
                .offset(f.offset)
                .limit(f.limit)
                .load(conn)
                .await?,
        )
    })?;
    Ok(with_authors(rows))
}

pub async fn find_like(db: &Db, diary_id: i64, user_id: i64) -> DbResult<Option<Like>> {
    with_conn!(db, |conn| {
        Ok(diary_likes::table
            .filter(diary_likes::diary_id.eq(diary_id))
            .filter(diary_likes::user_id.eq(user_id))
            .select(Like::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Likes the diary, or takes the like back if there was one. Returns whether it is liked now,
/// with the diary as it is after; `None` when the diary is gone or not visible to the user.
///
/// The diary's row is locked first, so every toggle of one diary queues there: the like rows
/// and `like_count` change together and stay equal under any number of simultaneous clicks, on
/// every backend (and no two transactions ever lock the like index in opposite order).
pub async fn toggle_like(
    db: &Db,
    diary_id: i64,
    user_id: i64,
    at: NaiveDateTime,
) -> DbResult<Option<(bool, Diary)>> {
    with_conn!(db, |conn| {
        conn.transaction::<Option<(bool, Diary)>, DbError, _>(async |conn| {
            diesel::update(diaries::table.find(diary_id))
                .set(diaries::like_count.eq(diaries::like_count))
                .execute(conn)
                .await?;
            // Read under the lock: nobody else moves `like_count` until this commits, so the
            // count below is adjusted here instead of read back.
            let Some(mut diary) = diaries::table
                .find(diary_id)
                .select(Diary::as_select())
                .first(conn)
                .await
                .optional()?
                .filter(|d| d.visible_to(user_id))
            else {
                return Ok(None);
            };
            let removed = diesel::delete(
                diary_likes::table
                    .filter(diary_likes::diary_id.eq(diary_id))
                    .filter(diary_likes::user_id.eq(user_id)),
            )
            .execute(conn)
            .await? as i64;
            let (liked, delta) = if removed > 0 {
                (false, -removed)
            } else {
                diesel::insert_into(diary_likes::table)
                    .values((
                        diary_likes::diary_id.eq(diary_id),
                        diary_likes::user_id.eq(user_id),
                        diary_likes::created_at.eq(at),
                        diary_likes::updated_at.eq(at),
                    ))
                    .execute(conn)
                    .await?;
                (true, 1)
            };
            diesel::update(diaries::table.find(diary_id))
                .set(diaries::like_count.eq(diaries::like_count + delta))
                .execute(conn)
                .await?;
            diary.like_count += delta;
            Ok(Some((liked, diary)))
        })
        .await
    })
}

/// Counts a view of `viewer` unless the same viewer was counted for the same diary within
/// `window`. Race-free without a transaction: either the conditional update or the insert
/// claims the view, never both, also across instances. Returns whether it was counted.
pub async fn count_view(
    db: &Db,
    diary_id: i64,
    viewer_id: i64,
    at: NaiveDateTime,
    window: TimeDelta,
) -> DbResult<bool> {
    let stale = at - window;
    with_conn!(db, |conn| {
        let renewed = diesel::update(
            diary_views::table
                .filter(diary_views::diary_id.eq(diary_id))
                .filter(diary_views::viewer_id.eq(viewer_id))
                .filter(diary_views::counted_at.le(stale)),
        )
        .set(diary_views::counted_at.eq(at))
        .execute(conn)
        .await?;
        let counted = renewed > 0 || {
            let inserted = diesel::insert_into(diary_views::table)
                .values((
                    diary_views::diary_id.eq(diary_id),
                    diary_views::viewer_id.eq(viewer_id),
                    diary_views::counted_at.eq(at),
                ))
                .execute(conn)
                .await;
            match inserted.map_err(DbError::from) {
                Ok(_) => true,
                Err(DbError::Conflict(_)) => false,
                Err(e) => return Err(e),
            }
        };
        if counted {
            diesel::update(diaries::table.find(diary_id))
                .set(diaries::view_count.eq(diaries::view_count + 1))
                .execute(conn)
                .await?;
        }
        Ok(counted)
    })
}

/// Forgets views older than `before` (they no longer hold back a new count).
pub async fn forget_views_before(db: &Db, before: NaiveDateTime) -> DbResult<usize> {
    with_conn!(db, |conn| {
        Ok(
            diesel::delete(diary_views::table.filter(diary_views::counted_at.lt(before)))
                .execute(conn)
                .await?,
        )
    })
}

pub async fn insert_comment(
    db: &Db,
    diary_id: i64,
    user_id: i64,
    content: &str,
    at: NaiveDateTime,
) -> DbResult<Comment> {
    with_conn!(db, |conn| {
        diesel::insert_into(comments::table)
            .values((
                comments::diary_id.eq(diary_id),
                comments::user_id.eq(user_id),
                comments::content.eq(content),
                comments::is_edited.eq(false),
                comments::created_at.eq(at),
                comments::updated_at.eq(at),
            ))
            .execute(conn)
            .await?;
        // No RETURNING on MySQL: read back the newest of this author's at this instant.
        Ok(comments::table
            .filter(comments::diary_id.eq(diary_id))
            .filter(comments::user_id.eq(user_id))
            .filter(comments::created_at.eq(at))
            .order(comments::id.desc())
            .select(Comment::as_select())
            .first(conn)
            .await?)
    })
}

/// The diary's comments with their authors, newest first.
pub async fn comments_of(db: &Db, diary_id: i64) -> DbResult<Vec<(Comment, Author)>> {
    let rows: Vec<(Comment, String, Option<String>)> = with_conn!(db, |conn| {
        Ok::<_, DbError>(
            comments::table
                .inner_join(users::table)
                .filter(comments::diary_id.eq(diary_id))
                .order((comments::created_at.desc(), comments::id.desc()))
                .select((Comment::as_select(), users::username, users::profile_img))
                .load(conn)
                .await?,
        )
    })?;
    Ok(with_authors(rows))
}

pub async fn find_comment(db: &Db, id: i64) -> DbResult<Option<Comment>> {
    with_conn!(db, |conn| {
        Ok(comments::table
            .find(id)
            .select(Comment::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn update_comment(db: &Db, id: i64, content: &str, at: NaiveDateTime) -> DbResult<()> {
    with_conn!(db, |conn| {
        let n = diesel::update(comments::table.find(id))
            .set((
                comments::content.eq(content),
                comments::is_edited.eq(true),
                comments::updated_at.eq(at),
            ))
            .execute(conn)
            .await?;
        one_row(n)
    })
}

/// Deletes the comment; its replies go with it.
pub async fn delete_comment(db: &Db, id: i64) -> DbResult<()> {
    with_conn!(db, |conn| {
        let n = diesel::delete(comments::table.find(id))
            .execute(conn)
            .await?;
        one_row(n)
    })
}

pub async fn insert_reply(
    db: &Db,
    comment: &Comment,
    user_id: i64,
    content: &str,
    at: NaiveDateTime,
) -> DbResult<Reply> {
    with_conn!(db, |conn| {
        diesel::insert_into(secondary_comments::table)
            .values((
                secondary_comments::diary_id.eq(comment.diary_id),
                secondary_comments::comment_id.eq(comment.id),
                secondary_comments::user_id.eq(user_id),
                secondary_comments::content.eq(content),
                secondary_comments::is_edited.eq(false),
                secondary_comments::created_at.eq(at),
                secondary_comments::updated_at.eq(at),
            ))
            .execute(conn)
            .await?;
        Ok(secondary_comments::table
            .filter(secondary_comments::comment_id.eq(comment.id))
            .filter(secondary_comments::user_id.eq(user_id))
            .filter(secondary_comments::created_at.eq(at))
            .order(secondary_comments::id.desc())
            .select(Reply::as_select())
            .first(conn)
            .await?)
    })
}

/// The diary's replies with their authors, newest first.
pub async fn replies_of(db: &Db, diary_id: i64) -> DbResult<Vec<(Reply, Author)>> {
    let rows: Vec<(Reply, String, Option<String>)> = with_conn!(db, |conn| {
        Ok::<_, DbError>(
            secondary_comments::table
                .inner_join(users::table)
                .filter(secondary_comments::diary_id.eq(diary_id))
                .order((
                    secondary_comments::created_at.desc(),
                    secondary_comments::id.desc(),
                ))
                .select((Reply::as_select(), users::username, users::profile_img))
                .load(conn)
                .await?,
        )
    })?;
    Ok(with_authors(rows))
}

pub async fn find_reply(db: &Db, id: i64) -> DbResult<Option<Reply>> {
    with_conn!(db, |conn| {
        Ok(secondary_comments::table
            .find(id)
            .select(Reply::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn update_reply(db: &Db, id: i64, content: &str, at: NaiveDateTime) -> DbResult<()> {
    with_conn!(db, |conn| {
        let n = diesel::update(secondary_comments::table.find(id))
            .set((
                secondary_comments::content.eq(content),
                secondary_comments::is_edited.eq(true),
                secondary_comments::updated_at.eq(at),
            ))
            .execute(conn)
            .await?;
        one_row(n)
    })
}

pub async fn delete_reply(db: &Db, id: i64) -> DbResult<()> {
    with_conn!(db, |conn| {
        let n = diesel::delete(secondary_comments::table.find(id))
            .execute(conn)
            .await?;
        one_row(n)
    })
}
