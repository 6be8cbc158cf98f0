//! Writing into ninecloud's database: the rows, each chunk in one transaction with its
//! `import_ids` rows; and what the importer reads of the target first (which ids, addresses,
//! days and pairs are taken, and what earlier runs imported).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::store::db::{Db, DbError, DbResult};
use crate::store::schema::{
    channel_members, channels, comments, diaries, diary_likes, import_ids, secondary_comments,
    users,
};
use crate::with_conn;

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub profile_img: Option<String>,
    pub user_type: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deletion_due_at: Option<NaiveDateTime>,
    pub token_generation: i64,
}

#[derive(Insertable)]
#[diesel(table_name = diaries)]
pub(crate) struct DiaryRow {
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

#[derive(Insertable)]
#[diesel(table_name = comments)]
pub(crate) struct CommentRow {
    pub id: i64,
    pub diary_id: i64,
    pub user_id: i64,
    pub content: String,
    pub is_edited: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = secondary_comments)]
pub(crate) struct ReplyRow {
    pub id: i64,
    pub diary_id: i64,
    pub comment_id: i64,
    pub user_id: i64,
    pub content: String,
    pub is_edited: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = diary_likes)]
pub(crate) struct LikeRow {
    pub id: i64,
    pub diary_id: i64,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = channels)]
pub(crate) struct ChannelRow {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
    pub is_lobby: bool,
    pub last_seq: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub uuid: String,
    pub intro: String,
    pub description: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = channel_members)]
pub(crate) struct MemberRow {
    pub channel_id: i64,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = import_ids)]
pub(crate) struct MapRow {
    pub kind: String,
    pub source_id: String,
    pub target_id: i64,
    pub created_at: NaiveDateTime,
}

/// Writes one chunk of `$table` rows and their `import_ids` rows in one transaction, then (on
/// PostgreSQL, whose sequences do not follow explicit ids) moves the id sequence past them, and
/// runs `$after` (SQL, e.g. recounting likes) in the same transaction (`insert_rows!`: several
/// rows per statement where the backend can).
macro_rules! commit_chunk {
    ($db:expr, $table:ident, $rows:expr, $maps:expr, $has_id:expr, $after:expr) => {{
        let rows = $rows;
        let maps = $maps;
        let after: Option<String> = $after;
        let table = stringify!($table);
        macro_rules! body {
            ($conn:expr, $insert:ident) => {
                $conn
                    .transaction::<(), DbError, _>(async |conn| {
                        $crate::insert_rows!($insert, conn, $table::table, rows);
                        $crate::insert_rows!($insert, conn, import_ids::table, maps);
                        if matches!($db, Db::Postgres(_)) && $has_id {
                            diesel::sql_query(format!(
                                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                                 (SELECT MAX(id) FROM {table}))"
                            ))
                            .execute(conn)
                            .await?;
                        }
                        if let Some(sql) = &after {
                            diesel::sql_query(sql).execute(conn).await?;
                        }
                        Ok(())
                    })
                    .await
            };
        }
        match $db {
            Db::Sqlite(pool) => {
                let mut conn = pool.get().await?;
                body!(conn, one_by_one)
            }
            Db::Postgres(pool) => {
                let mut conn = pool.get().await?;
                body!(conn, batched)
            }
            Db::Mysql(pool) => {
                let mut conn = pool.get().await?;
                body!(conn, batched)
            }
        }
    }};
}

pub(crate) async fn users_chunk(db: &Db, rows: Vec<UserRow>, maps: Vec<MapRow>) -> DbResult<()> {
    commit_chunk!(db, users, rows, maps, true, None)
}

pub(crate) async fn diaries_chunk(db: &Db, rows: Vec<DiaryRow>, maps: Vec<MapRow>) -> DbResult<()> {
    commit_chunk!(db, diaries, rows, maps, true, None)
}

pub(crate) async fn comments_chunk(
    db: &Db,
    rows: Vec<CommentRow>,
    maps: Vec<MapRow>,
) -> DbResult<()> {
    commit_chunk!(db, comments, rows, maps, true, None)
}

pub(crate) async fn replies_chunk(db: &Db, rows: Vec<ReplyRow>, maps: Vec<MapRow>) -> DbResult<()> {
    commit_chunk!(db, secondary_comments, rows, maps, true, None)
}

/// Likes, and each touched diary's `like_count` recounted from its like rows in the same
/// transaction (the original's counter could disagree with its rows).
pub(crate) async fn likes_chunk(db: &Db, rows: Vec<LikeRow>, maps: Vec<MapRow>) -> DbResult<()> {
    let mut touched: Vec<i64> = rows.iter().map(|r| r.diary_id).collect();
    touched.sort_unstable();
    touched.dedup();
    let recount = (!touched.is_empty()).then(|| {
        let ids: Vec<String> = touched.iter().map(i64::to_string).collect();
        format!(
            "UPDATE diaries SET like_count = (SELECT COUNT(*) FROM diary_likes \
             WHERE diary_likes.diary_id = diaries.id) WHERE id IN ({})",
            ids.join(",")
        )
    });
    commit_chunk!(db, diary_likes, rows, maps, true, recount)
}

pub(crate) async fn channels_chunk(
    db: &Db,
    rows: Vec<ChannelRow>,
    maps: Vec<MapRow>,
) -> DbResult<()> {
    commit_chunk!(db, channels, rows, maps, true, None)
}

pub(crate) async fn members_chunk(
    db: &Db,
    rows: Vec<MemberRow>,
    maps: Vec<MapRow>,
) -> DbResult<()> {
    commit_chunk!(db, channel_members, rows, maps, false, None)
}

/// Frees an address for an account of the original: the unverified account here that holds it
/// lets go of it, as when someone proves the address by signing up (`release_address`).
pub(crate) async fn release(db: &Db, id: i64) -> DbResult<bool> {
    crate::store::accounts::release_address(db, id).await
}

/// Which source rows of `kind` earlier runs imported, and what they became.
pub(crate) async fn imported(db: &Db, kind: &str) -> DbResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = with_conn!(db, |conn| {
        import_ids::table
            .filter(import_ids::kind.eq(kind))
            .select((import_ids::source_id, import_ids::target_id))
            .load(conn)
            .await
            .map_err(DbError::from)
    })?;
    Ok(rows.into_iter().collect())
}

/// The ids a table uses, and how to hand out more: a row keeps its original id while nobody
/// here has it, else it gets the next id past every one in use.
pub(crate) struct Ids {
    used: HashSet<i64>,
    next: i64,
}

impl Ids {
    fn of(used: Vec<i64>) -> Ids {
        let next = used.iter().copied().max().unwrap_or(0) + 1;
        Ids {
            used: used.into_iter().collect(),
            next,
        }
    }

    pub fn take(&mut self, wanted: i64) -> i64 {
        let id = if wanted > 0 && !self.used.contains(&wanted) {
            wanted
        } else {
            while self.used.contains(&self.next) {
                self.next += 1;
            }
            self.next
        };
        self.used.insert(id);
        self.next = self.next.max(id + 1);
        id
    }
}

macro_rules! ids_of {
    ($db:expr, $table:ident) => {{
        let used: Vec<i64> = with_conn!($db, |conn| {
            $table::table
                .select($table::id)
                .load(conn)
                .await
                .map_err(DbError::from)
        })?;
        Ok(Ids::of(used))
    }};
}

pub(crate) async fn user_ids(db: &Db) -> DbResult<Ids> {
    ids_of!(db, users)
}
pub(crate) async fn diary_ids(db: &Db) -> DbResult<Ids> {
    ids_of!(db, diaries)
}
pub(crate) async fn comment_ids(db: &Db) -> DbResult<Ids> {
    ids_of!(db, comments)
}
pub(crate) async fn reply_ids(db: &Db) -> DbResult<Ids> {
    ids_of!(db, secondary_comments)
}
pub(crate) async fn like_ids(db: &Db) -> DbResult<Ids> {
    ids_of!(db, diary_likes)
}
pub(crate) async fn channel_ids(db: &Db) -> DbResult<Ids> {
    ids_of!(db, channels)
}

/// Every account here by address: (id, user type).
pub(crate) async fn accounts(db: &Db) -> DbResult<HashMap<String, (i64, String)>> {
    let rows: Vec<(String, i64, String)> = with_conn!(db, |conn| {
        users::table
            .select((users::email, users::id, users::user_type))
            .load(conn)
            .await
            .map_err(DbError::from)
    })?;
    Ok(rows.into_iter().map(|(e, id, t)| (e, (id, t))).collect())
}

/// Every (user, day) that has its diary.
pub(crate) async fn diary_days(db: &Db) -> DbResult<HashMap<(i64, NaiveDate), i64>> {
    let rows: Vec<(i64, NaiveDate, i64)> = with_conn!(db, |conn| {
        diaries::table
            .select((diaries::user_id, diaries::local_date, diaries::id))
            .load(conn)
            .await
            .map_err(DbError::from)
    })?;
    Ok(rows.into_iter().map(|(u, d, id)| ((u, d), id)).collect())
}

/// Every (diary, user) like, and every id that is a diary / comment here.
pub(crate) async fn like_pairs(db: &Db) -> DbResult<HashSet<(i64, i64)>> {
    let rows: Vec<(i64, i64)> = with_conn!(db, |conn| {
        diary_likes::table
            .select((diary_likes::diary_id, diary_likes::user_id))
            .load(conn)
            .await
            .map_err(DbError::from)
    })?;
    Ok(rows.into_iter().collect())
}

/// Every channel by uuid, and the lobby's id.
pub(crate) async fn channels_by_uuid(db: &Db) -> DbResult<(HashMap<String, i64>, i64)> {
    let rows: Vec<(String, i64, bool)> = with_conn!(db, |conn| {
        channels::table
            .order(channels::id.asc())
            .select((channels::uuid, channels::id, channels::is_lobby))
            .load(conn)
            .await
            .map_err(DbError::from)
    })?;
    let lobby = rows
        .iter()
        .find(|r| r.2)
        .map(|r| r.1)
        .ok_or(DbError::NotFound)?;
    Ok((rows.into_iter().map(|(u, id, _)| (u, id)).collect(), lobby))
}

pub(crate) async fn member_pairs(db: &Db) -> DbResult<HashSet<(i64, i64)>> {
    let rows: Vec<(i64, i64)> = with_conn!(db, |conn| {
        channel_members::table
            .select((channel_members::channel_id, channel_members::user_id))
            .load(conn)
            .await
            .map_err(DbError::from)
    })?;
    Ok(rows.into_iter().collect())
}
