//! The chat log: one `MessageStore` trait, kept in the relational database (the embedded
//! default) or in MongoDB when `MONGO_DB` is set.
//!
//! Every message gets a per-channel sequence number when it is stored, and a sender may give a
//! client id that makes a retried send idempotent: the second append returns the first message.
//! Both backends allocate sequence numbers atomically in the database, so several server
//! instances may append to one channel at once.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures::TryStreamExt;
use mongodb::bson::{self, Bson, doc, oid::ObjectId};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::db::{Db, DbError, DbResult};
use super::schema::{channels, chat_messages};
use crate::with_conn;

/// One stored chat message, as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// 24 hex digits (a MongoDB ObjectId, whichever store keeps it).
    pub id: String,
    pub channel_id: i64,
    /// Increases by one with every message stored in the channel.
    pub seq: i64,
    /// `null` for a guest of the NINE Cloud community chat.
    pub user_id: Option<i64>,
    pub nickname: String,
    pub text: String,
    /// The id the sender gave to make its send idempotent, if it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(serialize_with = "millis")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Who sent it, for idempotency: `user:<id>` or `guest:<hash of the name>`.
    #[serde(skip)]
    pub sender: String,
}

fn millis<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

pub struct NewMessage {
    pub channel_id: i64,
    pub user_id: Option<i64>,
    pub nickname: String,
    pub text: String,
    pub sender: String,
    pub client_id: Option<String>,
}

impl NewMessage {
    fn stored(self, id: String, seq: i64, created_at: DateTime<Utc>) -> ChatMessage {
        ChatMessage {
            id,
            channel_id: self.channel_id,
            seq,
            user_id: self.user_id,
            nickname: self.nickname,
            text: self.text,
            client_id: self.client_id,
            created_at,
            sender: self.sender,
        }
    }

    /// What the stores keep as the idempotency key: the client's id, or the message's own.
    fn key<'a>(&'a self, id: &'a str) -> &'a str {
        self.client_id.as_deref().unwrap_or(id)
    }
}

/// What `append` did.
pub struct Appended {
    pub message: ChatMessage,
    /// The client id was seen before: this is the message stored the first time.
    pub duplicate: bool,
}

/// Which slice of a channel's log to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages.
    Newest,
    /// The newest messages with a smaller sequence number (scrolling back).
    Before(i64),
    /// The oldest messages with a greater sequence number (catching up).
    After(i64),
}

impl Cursor {
    /// From optional `after`/`before` bounds, as clients give them; both at once is an error.
    pub fn from_bounds(after: Option<i64>, before: Option<i64>) -> Result<Cursor, &'static str> {
        match (after, before) {
            (Some(_), Some(_)) => Err("give either a lower or an upper bound, not both"),
            (Some(after), None) => Ok(Cursor::After(after.max(0))),
            (None, Some(before)) => Ok(Cursor::Before(before)),
            (None, None) => Ok(Cursor::Newest),
        }
    }

    fn forward(self) -> bool {
        matches!(self, Cursor::After(_))
    }
}

/// A slice of a channel's log, always oldest first.
pub struct LogPage {
    pub messages: Vec<ChatMessage>,
    /// More messages lie beyond this page in the direction asked for.
    pub more: bool,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    fn describe(&self) -> String;
    /// Stores a message with the channel's next sequence number, or returns the message that
    /// the same sender stored earlier with the same client id. `NotFound`: no such channel.
    async fn append(&self, new: NewMessage) -> DbResult<Appended> {
        if let Some(message) = self.earlier(&new).await? {
            return Ok(Appended {
                message,
                duplicate: true,
            });
        }
        let id = new_id();
        let created = stamp();
        match self.insert(&new, &id, created).await {
            Ok(seq) => Ok(Appended {
                message: new.stored(id, seq, created),
                duplicate: false,
            }),
            // The same client id raced itself and the other attempt won: answer with its
            // message. (On MongoDB the number this attempt took stays unused: a gap, which
            // readers never wait for.)
            Err(DbError::Conflict(c)) => match self.earlier(&new).await? {
                Some(message) => Ok(Appended {
                    message,
                    duplicate: true,
                }),
                None => Err(DbError::Conflict(c)),
            },
            Err(e) => Err(e),
        }
    }
    /// The message this sender stored with this client id, if it gave one and did.
    async fn earlier(&self, new: &NewMessage) -> DbResult<Option<ChatMessage>>;
    /// Takes the channel's next sequence number and stores the message under `id`; a unique
    /// key that says no (the same client id stored meanwhile) is `Conflict`.
    async fn insert(&self, new: &NewMessage, id: &str, created: DateTime<Utc>) -> DbResult<i64>;
    /// At most `limit` messages of the slice `cursor` names, oldest first.
    async fn page(&self, channel: i64, cursor: Cursor, limit: usize) -> DbResult<LogPage>;
    /// Messages with `seq > since`, oldest first, at most `limit`.
    async fn after(&self, channel: i64, since: i64, limit: usize) -> DbResult<LogPage> {
        self.page(channel, Cursor::After(since), limit).await
    }
    /// The newest messages with `seq < before` (all when `None`), returned oldest first.
    async fn before(&self, channel: i64, before: Option<i64>, limit: usize) -> DbResult<LogPage> {
        self.page(
            channel,
            before.map_or(Cursor::Newest, Cursor::Before),
            limit,
        )
        .await
    }
    /// The highest sequence number stored in the channel (0 when none).
    async fn last_seq(&self, channel: i64) -> DbResult<i64>;
    /// Forgets a deleted channel's log.
    async fn delete_channel(&self, channel: i64) -> DbResult<()>;
    async fn ping(&self) -> DbResult<()>;
}

/// The relational store, or MongoDB when `mongo_url` is set.
pub async fn from_config(
    db: &Db,
    mongo_url: Option<&str>,
) -> anyhow::Result<Arc<dyn MessageStore>> {
    Ok(match mongo_url {
        None => Arc::new(SqlMessages { db: db.clone() }),
        Some(url) => Arc::new(MongoMessages::connect(url).await?),
    })
}

fn new_id() -> String {
    ObjectId::new().to_hex()
}

fn stamp() -> DateTime<Utc> {
    // Milliseconds: what MongoDB keeps, so both stores answer alike.
    Utc::now().trunc_subsecs(3)
}

// ---------------------------------------------------------------------------------------------
// Relational

pub struct SqlMessages {
    db: Db,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = chat_messages)]
struct Row {
    id: String,
    channel_id: i64,
    seq: i64,
    user_id: Option<i64>,
    nickname: String,
    body: String,
    sender: String,
    client_id: String,
    created_at: NaiveDateTime,
}

impl Row {
    /// The row to insert, before the channel gives it its sequence number.
    fn unnumbered(new: &NewMessage, id: &str, created: DateTime<Utc>) -> Self {
        Row {
            id: id.to_string(),
            channel_id: new.channel_id,
            seq: 0,
            user_id: new.user_id,
            nickname: new.nickname.clone(),
            body: new.text.clone(),
            sender: new.sender.clone(),
            client_id: new.key(id).to_string(),
            created_at: created.naive_utc(),
        }
    }
}

impl From<Row> for ChatMessage {
    fn from(r: Row) -> Self {
        ChatMessage {
            client_id: (r.client_id != r.id).then_some(r.client_id),
            id: r.id,
            channel_id: r.channel_id,
            seq: r.seq,
            user_id: r.user_id,
            nickname: r.nickname,
            text: r.body,
            created_at: r.created_at.and_utc(),
            sender: r.sender,
        }
    }
}

#[async_trait]
impl MessageStore for SqlMessages {
    fn describe(&self) -> String {
        format!("{:?}", self.db.backend()).to_lowercase()
    }

    async fn earlier(&self, new: &NewMessage) -> DbResult<Option<ChatMessage>> {
        let Some(client_id) = new.client_id.as_deref() else {
            return Ok(None);
        };
        let row = with_conn!(&self.db, |conn| {
            Ok::<_, DbError>(
                chat_messages::table
                    .filter(chat_messages::channel_id.eq(new.channel_id))
                    .filter(chat_messages::sender.eq(&new.sender))
                    .filter(chat_messages::client_id.eq(client_id))
                    .select(Row::as_select())
                    .first(conn)
                    .await
                    .optional()?,
            )
        })?;
        Ok(row.map(ChatMessage::from))
    }

    async fn insert(&self, new: &NewMessage, id: &str, created: DateTime<Utc>) -> DbResult<i64> {
        let channel = new.channel_id;
        let mut row = Row::unnumbered(new, id, created);
        // One transaction: bump the channel's counter (the row lock orders concurrent senders,
        // also across instances), read it, insert. A failed insert gives the number back.
        if let Db::Sqlite(pool) = &self.db {
            // SQLite runs each statement on the blocking pool: one round trip there for the
            // whole transaction, not one per statement (five of them cost most of a stored
            // message's CPU and latency in the benchmarks). BEGIN IMMEDIATE takes the single
            // write lock at once, and RETURNING reads the counter in the same statement.
            let mut conn = pool.get().await?;
            return conn
                .spawn_blocking(move |conn| {
                    conn.immediate_transaction(|conn| {
                        row.seq = diesel::RunQueryDsl::get_result(
                            diesel::update(channels::table.find(channel))
                                .set(channels::last_seq.eq(channels::last_seq + 1))
                                .returning(channels::last_seq),
                            conn,
                        )?;
                        diesel::RunQueryDsl::execute(
                            diesel::insert_into(chat_messages::table).values(&row),
                            conn,
                        )?;
                        Ok(row.seq)
                    })
                })
                .await
                .map_err(DbError::from);
        }
        with_conn!(&self.db, |conn| {
            conn.transaction::<i64, DbError, _>(async |conn| {
                let n = diesel::update(channels::table.find(channel))
                    .set(channels::last_seq.eq(channels::last_seq + 1))
                    .execute(conn)
                    .await?;
                if n == 0 {
                    return Err(DbError::NotFound);
                }
                row.seq = channels::table
                    .find(channel)
                    .select(channels::last_seq)
                    .first(conn)
                    .await?;
                diesel::insert_into(chat_messages::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                Ok(row.seq)
            })
            .await
        })
    }

    async fn page(&self, channel: i64, cursor: Cursor, limit: usize) -> DbResult<LogPage> {
        let take = limit as i64 + 1;
        let rows = with_conn!(&self.db, |conn| {
            let query = chat_messages::table
                .filter(chat_messages::channel_id.eq(channel))
                .select(Row::as_select())
                .limit(take)
                .into_boxed();
            let query = match cursor {
                Cursor::Newest => query.order(chat_messages::seq.desc()),
                Cursor::Before(b) => query
                    .filter(chat_messages::seq.lt(b))
                    .order(chat_messages::seq.desc()),
                Cursor::After(a) => query
                    .filter(chat_messages::seq.gt(a))
                    .order(chat_messages::seq.asc()),
            };
            Ok::<_, DbError>(query.load(conn).await?)
        })?;
        Ok(finish_page(
            rows.into_iter().map(ChatMessage::from).collect(),
            limit,
            cursor,
        ))
    }

    async fn last_seq(&self, channel: i64) -> DbResult<i64> {
        with_conn!(&self.db, |conn| {
            Ok(channels::table
                .find(channel)
                .select(channels::last_seq)
                .first::<i64>(conn)
                .await
                .optional()?
                .unwrap_or(0))
        })
    }

    async fn delete_channel(&self, channel: i64) -> DbResult<()> {
        with_conn!(&self.db, |conn| {
            diesel::delete(chat_messages::table.filter(chat_messages::channel_id.eq(channel)))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    async fn ping(&self) -> DbResult<()> {
        self.db.ping().await
    }
}

/// `list` holds up to `limit + 1` messages in the cursor's reading order (oldest first going
/// forward, newest first otherwise); the extra one only says "more".
fn finish_page(mut list: Vec<ChatMessage>, limit: usize, cursor: Cursor) -> LogPage {
    let more = list.len() > limit;
    list.truncate(limit);
    if !cursor.forward() {
        list.reverse();
    }
    LogPage {
        messages: list,
        more,
    }
}

// ---------------------------------------------------------------------------------------------
// MongoDB

/// Collection `chats` (the original's name) holds the messages; `chat_counters` holds one
/// document per channel whose `seq` is bumped with `findOneAndUpdate` + `$inc`, atomic across
/// instances.
pub struct MongoMessages {
    db_name: String,
    chats: Collection<ChatDoc>,
    counters: Collection<bson::Document>,
    /// Channels whose counter this process knows to exist.
    known: std::sync::Mutex<std::collections::HashSet<i64>>,
}

#[derive(Serialize, Deserialize)]
struct ChatDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    #[serde(rename = "channelId")]
    channel_id: i64,
    seq: i64,
    /// The original's field name for the text.
    chat: String,
    #[serde(rename = "userId")]
    user_id: Option<i64>,
    nickname: String,
    sender: String,
    #[serde(rename = "clientId")]
    client_id: String,
    #[serde(rename = "createdAt")]
    created_at: bson::DateTime,
}

impl From<ChatDoc> for ChatMessage {
    fn from(d: ChatDoc) -> Self {
        let id = d.id.to_hex();
        ChatMessage {
            client_id: (d.client_id != id).then_some(d.client_id),
            id,
            channel_id: d.channel_id,
            seq: d.seq,
            user_id: d.user_id,
            nickname: d.nickname,
            text: d.chat,
            created_at: d.created_at.to_chrono(),
            sender: d.sender,
        }
    }
}

fn mongo_err(e: mongodb::error::Error) -> DbError {
    match *e.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. } => DbError::Unavailable(e.to_string()),
        _ if is_duplicate_key(&e) => DbError::Conflict(e.to_string()),
        _ => DbError::Other(e.to_string()),
    }
}

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::Command(c) => c.code == 11000,
        _ => false,
    }
}

impl MongoMessages {
    /// Connects (lazily: the driver selects a server on first use) and makes sure the indexes
    /// exist. The database is the one named in the URI, `ninecloud` when it names none.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        use anyhow::Context;
        let opts = mongodb::options::ClientOptions::parse(url)
            .await
            .context("MONGO_DB")?;
        let db_name = opts
            .default_database
            .clone()
            .unwrap_or_else(|| "ninecloud".to_string());
        let client = mongodb::Client::with_options(opts).context("MONGO_DB")?;
        let db = client.database(&db_name);
        let store = MongoMessages {
            chats: db.collection("chats"),
            counters: db.collection("chat_counters"),
            known: Default::default(),
            db_name,
        };
        let unique = |keys: bson::Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .unique(true)
                        .name(name.to_string())
                        .build(),
                )
                .build()
        };
        store
            .chats
            .create_indexes([
                unique(doc! {"channelId": 1, "seq": 1}, "channel_seq"),
                unique(
                    doc! {"channelId": 1, "sender": 1, "clientId": 1},
                    "channel_sender_client",
                ),
            ])
            .await
            .context("cannot create the MongoDB chat indexes")?;
        Ok(store)
    }

    /// Makes sure the channel's counter exists, once per channel and process. Creating it
    /// apart from bumping it keeps the bump a plain atomic `$inc` (an upserting bump can race
    /// with itself on the first sends of a channel).
    async fn ensure_counter(&self, channel: i64) -> DbResult<()> {
        if self.known.lock().is_ok_and(|k| k.contains(&channel)) {
            return Ok(());
        }
        match self
            .counters
            .insert_one(doc! {"_id": channel, "seq": 0_i64})
            .await
        {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(mongo_err(e)),
        }
        if let Ok(mut k) = self.known.lock() {
            k.insert(channel);
        }
        Ok(())
    }

    async fn next_seq(&self, channel: i64) -> DbResult<bson::Document> {
        self.ensure_counter(channel).await?;
        self.counters
            .find_one_and_update(doc! {"_id": channel}, doc! {"$inc": {"seq": 1_i64}})
            .return_document(ReturnDocument::After)
            .await
            .map_err(mongo_err)?
            .ok_or(DbError::NotFound)
    }

    async fn load(
        &self,
        filter: bson::Document,
        ascending: bool,
        take: i64,
    ) -> DbResult<Vec<ChatMessage>> {
        let cursor = self
            .chats
            .find(filter)
            .sort(doc! {"seq": if ascending { 1 } else { -1 }})
            .limit(take)
            .await
            .map_err(mongo_err)?;
        let docs: Vec<ChatDoc> = cursor.try_collect().await.map_err(mongo_err)?;
        Ok(docs.into_iter().map(ChatMessage::from).collect())
    }
}

#[async_trait]
impl MessageStore for MongoMessages {
    fn describe(&self) -> String {
        format!("mongodb:{}", self.db_name)
    }

    async fn earlier(&self, new: &NewMessage) -> DbResult<Option<ChatMessage>> {
        let Some(client_id) = new.client_id.as_deref() else {
            return Ok(None);
        };
        Ok(self
            .chats
            .find_one(
                doc! {"channelId": new.channel_id, "sender": &new.sender, "clientId": client_id},
            )
            .await
            .map_err(mongo_err)?
            .map(ChatMessage::from))
    }

    async fn insert(&self, new: &NewMessage, id: &str, created: DateTime<Utc>) -> DbResult<i64> {
        let counter = self.next_seq(new.channel_id).await?;
        let seq = match counter.get("seq") {
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(Bson::Double(n)) => *n as i64,
            _ => {
                return Err(DbError::Other(
                    "the sequence counter is not a number".into(),
                ));
            }
        };
        let doc = ChatDoc {
            id: ObjectId::parse_str(id).map_err(|e| DbError::Other(e.to_string()))?,
            channel_id: new.channel_id,
            seq,
            chat: new.text.clone(),
            user_id: new.user_id,
            nickname: new.nickname.clone(),
            sender: new.sender.clone(),
            client_id: new.key(id).to_string(),
            created_at: bson::DateTime::from_chrono(created),
        };
        // A duplicate key (the same client id stored meanwhile) becomes `Conflict`.
        self.chats.insert_one(&doc).await.map_err(mongo_err)?;
        Ok(seq)
    }

    async fn page(&self, channel: i64, cursor: Cursor, limit: usize) -> DbResult<LogPage> {
        let filter = match cursor {
            Cursor::Newest => doc! {"channelId": channel},
            Cursor::Before(b) => doc! {"channelId": channel, "seq": {"$lt": b}},
            Cursor::After(a) => doc! {"channelId": channel, "seq": {"$gt": a}},
        };
        let list = self
            .load(filter, cursor.forward(), limit as i64 + 1)
            .await?;
        Ok(finish_page(list, limit, cursor))
    }

    async fn last_seq(&self, channel: i64) -> DbResult<i64> {
        let newest = self.load(doc! {"channelId": channel}, false, 1).await?;
        Ok(newest.into_iter().next().map_or(0, |m| m.seq))
    }

    async fn delete_channel(&self, channel: i64) -> DbResult<()> {
        self.chats
            .delete_many(doc! {"channelId": channel})
            .await
            .map_err(mongo_err)?;
        self.counters
            .delete_one(doc! {"_id": channel})
            .await
            .map_err(mongo_err)?;
        if let Ok(mut k) = self.known.lock() {
            k.remove(&channel);
        }
        Ok(())
    }

    async fn ping(&self) -> DbResult<()> {
        self.chats
            .client()
            .database("admin")
            .run_command(doc! {"ping": 1})
            .await
            .map_err(mongo_err)?;
        Ok(())
    }
}
