//! Channels of the Everyone's friend chat and the users' joined (favourite) channels.
//! The lobby is a channel too: the first row, with no owner and `is_lobby` set.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::db::{Db, DbError, DbResult, now, one_row};
use super::schema::{channel_members, channels, users};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = channels)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
    pub is_lobby: bool,
    pub last_seq: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The public id Everyone's friend names the channel (and its room) by.
    pub uuid: String,
    /// Everyone's friend's one-line introduction (empty for channels made as `/channels`).
    pub intro: String,
    pub description: Option<String>,
}

/// What a new channel is made of.
pub struct NewChannel<'a> {
    pub name: &'a str,
    pub intro: &'a str,
    pub description: Option<&'a str>,
    /// `None` for a channel made without an account (Everyone's friend, anonymous).
    pub owner: Option<i64>,
}

/// A page of channels with each one's number of members (users who joined it as a favourite).
pub struct ChannelPage {
    pub channels: Vec<(Channel, i64)>,
    pub total: i64,
}

pub async fn lobby(db: &Db) -> DbResult<Channel> {
    with_conn!(db, |conn| {
        Ok(channels::table
            .filter(channels::is_lobby.eq(true))
            .order(channels::id.asc())
            .select(Channel::as_select())
            .first(conn)
            .await?)
    })
}

pub async fn find(db: &Db, id: i64) -> DbResult<Option<Channel>> {
    with_conn!(db, |conn| {
        Ok(channels::table
            .find(id)
            .select(Channel::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// A channel by its id or, for a client that names it so, its uuid.
pub async fn find_by_uuid(db: &Db, uuid: &str) -> DbResult<Option<Channel>> {
    with_conn!(db, |conn| {
        Ok(channels::table
            .filter(channels::uuid.eq(uuid))
            .select(Channel::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn create(db: &Db, new: NewChannel<'_>) -> DbResult<Channel> {
    let t = now();
    let uuid = uuid::Uuid::new_v4().to_string();
    with_conn!(db, |conn| {
        // Read back by its uuid: no RETURNING on MySQL.
        diesel::insert_into(channels::table)
            .values((
                channels::name.eq(new.name),
                channels::owner_id.eq(new.owner),
                channels::is_lobby.eq(false),
                channels::last_seq.eq(0),
                channels::created_at.eq(t),
                channels::updated_at.eq(t),
                channels::uuid.eq(&uuid),
                channels::intro.eq(new.intro),
                channels::description.eq(new.description),
            ))
            .execute(conn)
            .await?;
        Ok(channels::table
            .filter(channels::uuid.eq(&uuid))
            .select(Channel::as_select())
            .first(conn)
            .await?)
    })
}

/// Every channel but the lobby, oldest first, at most `limit`.
pub async fn all_but_lobby(db: &Db, offset: i64, limit: i64) -> DbResult<(Vec<Channel>, i64)> {
    with_conn!(db, |conn| {
        let list = channels::table
            .filter(channels::is_lobby.eq(false))
            .order(channels::id.asc())
            .offset(offset)
            .limit(limit)
            .select(Channel::as_select())
            .load(conn)
            .await?;
        let total: i64 = channels::table
            .filter(channels::is_lobby.eq(false))
            .count()
            .get_result(conn)
            .await?;
        Ok((list, total))
    })
}

pub async fn rename(db: &Db, id: i64, name: &str) -> DbResult<()> {
    let t = now();
    with_conn!(db, |conn| {
        let n = diesel::update(channels::table.find(id))
            .set((channels::name.eq(name), channels::updated_at.eq(t)))
            .execute(conn)
            .await?;
        one_row(n)
    })
}

/// Deletes the channel; its members and (relational) chat log go with it by cascade.
pub async fn delete(db: &Db, id: i64) -> DbResult<()> {
    with_conn!(db, |conn| {
        let n = diesel::delete(channels::table.find(id))
            .execute(conn)
            .await?;
        one_row(n)
    })
}

/// The number of members of each of `ids`.
async fn member_counts(db: &Db, ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(db, |conn| {
        Ok(channel_members::table
            .filter(channel_members::channel_id.eq_any(ids))
            .group_by(channel_members::channel_id)
            .select((channel_members::channel_id, diesel::dsl::count_star()))
            .load::<(i64, i64)>(conn)
            .await?)
    })
}

async fn with_counts(db: &Db, list: Vec<Channel>) -> DbResult<Vec<(Channel, i64)>> {
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let counts = member_counts(db, &ids).await?;
    Ok(list
        .into_iter()
        .map(|c| {
            let n = counts
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(0, |(_, n)| *n);
            (c, n)
        })
        .collect())
}

/// Channels in creation order, the lobby first.
pub async fn page(db: &Db, offset: i64, limit: i64) -> DbResult<ChannelPage> {
    let (list, total) = with_conn!(db, |conn| {
        let list = channels::table
            .order(channels::id.asc())
            .offset(offset)
            .limit(limit)
            .select(Channel::as_select())
            .load(conn)
            .await?;
        let total: i64 = channels::table.count().get_result(conn).await?;
        Ok::<_, DbError>((list, total))
    })?;
    Ok(ChannelPage {
        channels: with_counts(db, list).await?,
        total,
    })
}

pub async fn joined_by(db: &Db, user: i64) -> DbResult<Vec<(Channel, i64)>> {
    with_counts(db, joined_list(db, user).await?).await
}

/// The user's joined channels in the order joined, without counts.
pub async fn joined_list(db: &Db, user: i64) -> DbResult<Vec<Channel>> {
    with_conn!(db, |conn| {
        Ok::<_, DbError>(
            channels::table
                .inner_join(channel_members::table)
                .filter(channel_members::user_id.eq(user))
                .order(channel_members::created_at.asc())
                .select(Channel::as_select())
                .load(conn)
                .await?,
        )
    })
}

pub async fn one_with_count(db: &Db, id: i64) -> DbResult<Option<(Channel, i64)>> {
    match find(db, id).await? {
        None => Ok(None),
        Some(c) => Ok(Some((c, member_count(db, id).await?))),
    }
}

/// The number of users who joined the channel as a favourite.
pub async fn member_count(db: &Db, id: i64) -> DbResult<i64> {
    let counts = member_counts(db, &[id]).await?;
    Ok(counts.into_iter().next().map_or(0, |(_, n)| n))
}

pub async fn is_member(db: &Db, channel: i64, user: i64) -> DbResult<bool> {
    with_conn!(db, |conn| {
        let n: i64 = channel_members::table
            .filter(channel_members::channel_id.eq(channel))
            .filter(channel_members::user_id.eq(user))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}

/// Adds the channel to the user's favourites; `false` when it already was one.
pub async fn add_member(db: &Db, channel: i64, user: i64) -> DbResult<bool> {
    let t = now();
    let inserted = with_conn!(db, |conn| {
        Ok::<_, DbError>(
            diesel::insert_into(channel_members::table)
                .values((
                    channel_members::channel_id.eq(channel),
                    channel_members::user_id.eq(user),
                    channel_members::created_at.eq(t),
                ))
                .execute(conn)
                .await,
        )
    })?;
    match inserted.map_err(DbError::from) {
        Ok(_) => Ok(true),
        Err(DbError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `false` when the channel was not one of the user's favourites.
pub async fn remove_member(db: &Db, channel: i64, user: i64) -> DbResult<bool> {
    with_conn!(db, |conn| {
        let n = diesel::delete(
            channel_members::table
                .filter(channel_members::channel_id.eq(channel))
                .filter(channel_members::user_id.eq(user)),
        )
        .execute(conn)
        .await?;
        Ok(n > 0)
    })
}

/// Display names of the given users, for presence lists.
pub async fn usernames(db: &Db, ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    with_conn!(db, |conn| {
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .order(users::id.asc())
            .select((users::id, users::username))
            .load(conn)
            .await?)
    })
}
