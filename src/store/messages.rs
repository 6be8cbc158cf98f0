//! The chat log: one `MessageStore` trait, kept in the relational database (the embedded
//! default) or in MongoDB when `MONGO_DB` is set.
//!
//! Every message gets a per-channel sequence number when it is stored, and a sender may give a
//! client id that makes a retried send idempotent: the second append returns the first message.
//! Both backends allocate sequence numbers atomically in the database, so several server
//! instances may append to one channel at once.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures::TryStreamExt;
use mongodb::bson::{self, Bson, doc, oid::ObjectId};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::db::{Db, DbError, DbResult};
pub use super::log::{Appended, ChatMessage, Imported, NewMessage};
use super::schema::{channels, chat_messages};
use super::writer::{self, Commit, Outcome, Pending, Queue, QueueLimits, QueueStats};
use crate::with_conn;

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
    /// the same sender stored earlier with the same client id. Goes through the write queue
    /// (group commit, `store::writer`): answers once the message's batch committed.
    /// `NotFound`: no such channel; `Busy`: the queue is full.
    async fn append(&self, new: NewMessage) -> DbResult<Appended>;
    /// The write queue's counters.
    fn queue(&self) -> QueueStats;
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
    /// Stores messages carried over from another deployment (`ninecloud import`) as they were,
    /// ids and times kept, numbered after the channel's last message in the order given. A
    /// message whose id is stored already is left alone, so a second run adds nothing. With
    /// `dry`, stores nothing. Returns how many are (or would be) new.
    async fn import(&self, channel: i64, messages: &[Imported], dry: bool) -> DbResult<usize>;
    /// Closes the store's connections (MongoDB's driver must be shut down before the runtime
    /// goes, or its background tasks panic on their closed channels).
    async fn close(&self) {}
    /// Forgets a deleted channel's log.
    async fn delete_channel(&self, channel: i64) -> DbResult<()>;
    async fn ping(&self) -> DbResult<()>;
}

/// The relational store (`database_url` is the one `db` was opened with), or MongoDB when
/// `mongo_url` is set; each with its write queue.
pub async fn from_config(
    db: &Db,
    database_url: &str,
    mongo_url: Option<&str>,
    limits: QueueLimits,
) -> anyhow::Result<Arc<dyn MessageStore>> {
    Ok(match mongo_url {
        None => Arc::new(SqlMessages::new(db, database_url, limits)?),
        Some(url) => Arc::new(MongoMessages::connect(url, limits).await?),
    })
}

// ---------------------------------------------------------------------------------------------
// Relational

pub struct SqlMessages {
    db: Db,
    queue: Queue,
}

impl SqlMessages {
    /// On SQLite the writer is a thread with a connection of its own (WAL lets the pool's
    /// connections read meanwhile), so a batch is one blocking call with no hand-off per
    /// statement; on PostgreSQL and MySQL it is a task that takes a pooled connection per batch.
    fn new(db: &Db, database_url: &str, limits: QueueLimits) -> anyhow::Result<SqlMessages> {
        let queue = match db {
            Db::Sqlite(_) => {
                let path = super::db::sqlite_path(database_url);
                let mut conn = diesel::SqliteConnection::establish(&path)
                    .map_err(|e| anyhow::anyhow!("the chat log writer cannot open {path}: {e}"))?;
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    super::db::SQLITE_SETUP,
                )?;
                let committer = SqliteWriter {
                    conn: std::sync::Mutex::new(conn),
                };
                let (queue, mut writer) = Queue::new(limits);
                std::thread::Builder::new()
                    .name("chat-log-writer".into())
                    .spawn(move || {
                        while let Some(batch) = writer.blocking_next() {
                            // Every await inside is on SQLite's own (blocking) calls.
                            let outcomes = futures::executor::block_on(writer::run(
                                &committer,
                                &batch.pending,
                            ));
                            writer.finish(batch, outcomes);
                        }
                    })?;
                queue
            }
            _ => Queue::spawn(SqlWriter { db: db.clone() }, limits),
        };
        Ok(SqlMessages {
            db: db.clone(),
            queue,
        })
    }
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
    fn numbered(p: &Pending, seq: i64) -> Self {
        let new = &p.new;
        Row {
            id: p.id.clone(),
            channel_id: new.channel_id,
            seq,
            user_id: new.user_id,
            nickname: new.nickname.clone(),
            body: new.text.clone(),
            sender: new.sender.clone(),
            client_id: new.key(&p.id).to_string(),
            created_at: p.created.naive_utc(),
        }
    }

    fn imported(m: &Imported, channel: i64, seq: i64) -> Self {
        Row {
            id: m.id.clone(),
            channel_id: channel,
            seq,
            user_id: m.user_id,
            nickname: m.nickname.clone(),
            body: m.text.clone(),
            sender: m.sender.clone(),
            client_id: m.id.clone(),
            created_at: m.created_at.naive_utc(),
        }
    }

    /// The rows of a numbered batch: its messages stored now.
    fn of_batch(batch: &[Pending], outcomes: &[Outcome]) -> Vec<Row> {
        batch
            .iter()
            .zip(outcomes)
            .filter_map(|(p, o)| match o {
                Outcome::Stored(seq) => Some(Row::numbered(p, *seq)),
                _ => None,
            })
            .collect()
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

/// SQLite's half of group commit: one `BEGIN IMMEDIATE` transaction per batch on the writer's
/// own connection (the write lock orders it against every other writer, also in other
/// processes). The mutex is never contended: only the writer thread takes it.
struct SqliteWriter {
    conn: std::sync::Mutex<diesel::SqliteConnection>,
}

#[async_trait]
impl Commit for SqliteWriter {
    async fn commit(&self, batch: &[Pending]) -> DbResult<Vec<Outcome>> {
        use diesel::RunQueryDsl as Sync;
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| DbError::Other("the chat log writer's connection is poisoned".into()))?;
        conn.immediate_transaction(|conn| {
            let (ids, clients) = writer::keys(batch);
            let counters: Vec<(i64, i64)> = Sync::load(
                channels::table
                    .filter(channels::id.eq_any(&ids))
                    .select((channels::id, channels::last_seq)),
                conn,
            )?;
            let earlier: Vec<Row> = if clients.is_empty() {
                Vec::new()
            } else {
                Sync::load(
                    chat_messages::table
                        .filter(chat_messages::channel_id.eq_any(&ids))
                        .filter(chat_messages::client_id.eq_any(&clients))
                        .select(Row::as_select()),
                    conn,
                )?
            };
            let earlier = earlier.into_iter().map(ChatMessage::from).collect();
            let (outcomes, bumped) = writer::number(batch, &counters, earlier);
            if !bumped.is_empty() {
                Sync::execute(diesel::sql_query(writer::bump_sql(&bumped)), conn)?;
                Sync::execute(
                    diesel::insert_into(chat_messages::table)
                        .values(Row::of_batch(batch, &outcomes)),
                    conn,
                )?;
            }
            Ok(outcomes)
        })
    }
}

/// PostgreSQL's and MySQL's half: one transaction per batch that locks the batch's channel
/// rows in id order (`SELECT … FOR UPDATE`), reads their counters, looks up retried client
/// ids, sets each counter once (`+n`), and inserts every row in one statement. The row locks
/// are what several instances agree through: a batch from another instance that touches one
/// of these channels waits for this one to commit, then reads the counter it left.
struct SqlWriter {
    db: Db,
}

macro_rules! locked_commit {
    ($conn:expr, $batch:expr) => {{
        let batch: &[Pending] = $batch;
        $conn
            .transaction::<Vec<Outcome>, DbError, _>(async |conn| {
                let (ids, clients) = writer::keys(batch);
                let counters: Vec<(i64, i64)> = channels::table
                    .filter(channels::id.eq_any(&ids))
                    .order(channels::id)
                    .select((channels::id, channels::last_seq))
                    .for_update()
                    .load(conn)
                    .await?;
                let earlier: Vec<Row> = if clients.is_empty() {
                    Vec::new()
                } else {
                    chat_messages::table
                        .filter(chat_messages::channel_id.eq_any(&ids))
                        .filter(chat_messages::client_id.eq_any(&clients))
                        .select(Row::as_select())
                        .load(conn)
                        .await?
                };
                let earlier = earlier.into_iter().map(ChatMessage::from).collect();
                let (outcomes, bumped) = writer::number(batch, &counters, earlier);
                if !bumped.is_empty() {
                    diesel::sql_query(writer::bump_sql(&bumped))
                        .execute(conn)
                        .await?;
                    diesel::insert_into(chat_messages::table)
                        .values(Row::of_batch(batch, &outcomes))
                        .execute(conn)
                        .await?;
                }
                Ok(outcomes)
            })
            .await
    }};
}

#[async_trait]
impl Commit for SqlWriter {
    async fn commit(&self, batch: &[Pending]) -> DbResult<Vec<Outcome>> {
        match &self.db {
            Db::Postgres(pool) => {
                let mut conn = pool.get().await?;
                locked_commit!(conn, batch)
            }
            Db::Mysql(pool) => {
                let mut conn = pool.get().await?;
                locked_commit!(conn, batch)
            }
            Db::Sqlite(_) => Err(DbError::Other(
                "SQLite's chat log has a writer of its own".into(),
            )),
        }
    }
}

#[async_trait]
impl MessageStore for SqlMessages {
    fn describe(&self) -> String {
        format!("{:?}", self.db.backend()).to_lowercase()
    }

    async fn append(&self, new: NewMessage) -> DbResult<Appended> {
        self.queue.append(new).await
    }

    fn queue(&self) -> QueueStats {
        self.queue.stats()
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

    async fn import(&self, channel: i64, list: &[Imported], dry: bool) -> DbResult<usize> {
        if list.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = list.iter().map(|m| m.id.as_str()).collect();
        // One transaction: the rows and the counter that numbers them, or neither.
        macro_rules! body {
            ($conn:expr, $insert:ident) => {
                $conn
                    .transaction::<usize, DbError, _>(async |conn| {
                        let stored: std::collections::HashSet<String> = chat_messages::table
                            .filter(chat_messages::id.eq_any(&ids))
                            .select(chat_messages::id)
                            .load::<String>(conn)
                            .await?
                            .into_iter()
                            .collect();
                        let fresh: Vec<&Imported> =
                            list.iter().filter(|m| !stored.contains(&m.id)).collect();
                        if dry || fresh.is_empty() {
                            return Ok(fresh.len());
                        }
                        let n = fresh.len() as i64;
                        let bumped = diesel::update(channels::table.find(channel))
                            .set(channels::last_seq.eq(channels::last_seq + n))
                            .execute(conn)
                            .await?;
                        super::db::one_row(bumped)?;
                        let last: i64 = channels::table
                            .find(channel)
                            .select(channels::last_seq)
                            .first(conn)
                            .await?;
                        let rows: Vec<Row> = fresh
                            .iter()
                            .zip(last - n + 1..)
                            .map(|(m, seq)| Row::imported(m, channel, seq))
                            .collect();
                        $crate::insert_rows!($insert, conn, chat_messages::table, rows);
                        Ok(fresh.len())
                    })
                    .await
            };
        }
        match &self.db {
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
/// instances. A batch bumps each of its channels once by `+n` and stores its messages with one
/// `insertMany`.
pub struct MongoMessages {
    log: Arc<MongoLog>,
    queue: Queue,
}

pub struct MongoLog {
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

impl ChatDoc {
    fn numbered(p: &Pending, seq: i64) -> DbResult<ChatDoc> {
        let new = &p.new;
        Ok(ChatDoc {
            id: ObjectId::parse_str(&p.id).map_err(|e| DbError::Other(e.to_string()))?,
            channel_id: new.channel_id,
            seq,
            chat: new.text.clone(),
            user_id: new.user_id,
            nickname: new.nickname.clone(),
            sender: new.sender.clone(),
            client_id: new.key(&p.id).to_string(),
            created_at: bson::DateTime::from_chrono(p.created),
        })
    }
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

const DUPLICATE_KEY: i32 = 11000;

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

fn counter_value(counter: &bson::Document) -> DbResult<i64> {
    match counter.get("seq") {
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(Bson::Double(n)) => Ok(*n as i64),
        _ => Err(DbError::Other(
            "the sequence counter is not a number".into(),
        )),
    }
}

impl MongoMessages {
    /// Connects (lazily: the driver selects a server on first use) and makes sure the indexes
    /// exist. The database is the one named in the URI, `ninecloud` when it names none.
    pub async fn connect(url: &str, limits: QueueLimits) -> anyhow::Result<Self> {
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
        let log = MongoLog {
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
        log.chats
            .create_indexes([
                unique(doc! {"channelId": 1, "seq": 1}, "channel_seq"),
                unique(
                    doc! {"channelId": 1, "sender": 1, "clientId": 1},
                    "channel_sender_client",
                ),
            ])
            .await
            .context("cannot create the MongoDB chat indexes")?;
        let log = Arc::new(log);
        Ok(MongoMessages {
            queue: Queue::spawn(log.clone(), limits),
            log,
        })
    }
}

impl MongoLog {
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

    /// Takes `n` numbers of the channel: returns the counter before them.
    async fn take(&self, channel: i64, n: i64) -> DbResult<(i64, i64)> {
        self.ensure_counter(channel).await?;
        let counter = self
            .counters
            .find_one_and_update(doc! {"_id": channel}, doc! {"$inc": {"seq": n}})
            .return_document(ReturnDocument::After)
            .await
            .map_err(mongo_err)?
            .ok_or(DbError::NotFound)?;
        Ok((channel, counter_value(&counter)? - n))
    }

    async fn find_sorted(
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

    /// The message this sender stored with this client id, if it gave one and did.
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
}

#[async_trait]
impl Commit for MongoLog {
    /// MongoDB has no transaction here (a standalone server has none): the numbers are taken
    /// first, one `$inc` of `+n` per channel (all at once), then `insertMany` unordered. A
    /// message whose insert fails keeps its number unused (a gap, which readers never wait
    /// for); one that meets the client-id index was stored meanwhile, and answers with that.
    /// Once numbers are taken nothing is retried as a whole: an unanswered insert may have
    /// stored some of the batch, and a retry would store them twice.
    async fn commit(&self, batch: &[Pending]) -> DbResult<Vec<Outcome>> {
        let (ids, clients) = writer::keys(batch);
        let earlier = if clients.is_empty() {
            Vec::new()
        } else {
            self.find_sorted(
                doc! {"channelId": {"$in": &ids}, "clientId": {"$in": &clients}},
                true,
                0,
            )
            .await?
        };
        // How many numbers each channel needs: the batch numbered from zero.
        let zero: Vec<(i64, i64)> = ids.iter().map(|&c| (c, 0)).collect();
        let (_, needed) = writer::number(batch, &zero, earlier.clone());
        let counters =
            futures::future::try_join_all(needed.iter().map(|&(c, n)| self.take(c, n))).await?;
        let (mut outcomes, _) = writer::number(batch, &counters, earlier);
        let mut docs = Vec::new();
        let mut doc_of = Vec::new();
        for (i, (p, o)) in batch.iter().zip(&outcomes).enumerate() {
            if let Outcome::Stored(seq) = o {
                docs.push(ChatDoc::numbered(p, *seq)?);
                doc_of.push(i);
            }
        }
        if docs.is_empty() {
            return Ok(outcomes);
        }
        let Err(e) = self.chats.insert_many(&docs).ordered(false).await else {
            return Ok(outcomes);
        };
        let failed = |e: DbError| Outcome::Failed(e);
        match &*e.kind {
            ErrorKind::InsertMany(many) if many.write_concern_error.is_none() => {
                for w in many.write_errors.iter().flatten() {
                    let Some(&i) = doc_of.get(w.index) else {
                        continue;
                    };
                    outcomes[i] = if w.code == DUPLICATE_KEY {
                        match self.earlier(&batch[i].new).await {
                            Ok(Some(m)) => Outcome::Earlier(m),
                            Ok(None) => failed(DbError::Conflict(w.message.clone())),
                            Err(e) => failed(e),
                        }
                    } else {
                        failed(DbError::Other(w.message.clone()))
                    };
                }
            }
            _ => {
                // Not known which of them were stored: every one is answered as failed (a
                // sender retrying with its client id gets the stored one back).
                let err = mongo_err(e);
                for &i in &doc_of {
                    outcomes[i] = failed(err.clone());
                }
            }
        }
        Ok(outcomes)
    }
}

#[async_trait]
impl MessageStore for MongoMessages {
    fn describe(&self) -> String {
        format!("mongodb:{}", self.log.db_name)
    }

    async fn append(&self, new: NewMessage) -> DbResult<Appended> {
        self.queue.append(new).await
    }

    fn queue(&self) -> QueueStats {
        self.queue.stats()
    }

    async fn page(&self, channel: i64, cursor: Cursor, limit: usize) -> DbResult<LogPage> {
        let filter = match cursor {
            Cursor::Newest => doc! {"channelId": channel},
            Cursor::Before(b) => doc! {"channelId": channel, "seq": {"$lt": b}},
            Cursor::After(a) => doc! {"channelId": channel, "seq": {"$gt": a}},
        };
        let list = self
            .log
            .find_sorted(filter, cursor.forward(), limit as i64 + 1)
            .await?;
        Ok(finish_page(list, limit, cursor))
    }

    async fn last_seq(&self, channel: i64) -> DbResult<i64> {
        let newest = self
            .log
            .find_sorted(doc! {"channelId": channel}, false, 1)
            .await?;
        Ok(newest.into_iter().next().map_or(0, |m| m.seq))
    }

    async fn import(&self, channel: i64, list: &[Imported], dry: bool) -> DbResult<usize> {
        let log = &self.log;
        let ids = list
            .iter()
            .map(|m| ObjectId::parse_str(&m.id).map_err(|e| DbError::Other(e.to_string())))
            .collect::<DbResult<Vec<ObjectId>>>()?;
        if ids.is_empty() {
            return Ok(0);
        }
        let stored: std::collections::HashSet<ObjectId> = log
            .chats
            .clone_with_type::<bson::Document>()
            .find(doc! {"_id": {"$in": &ids}})
            .projection(doc! {"_id": 1})
            .await
            .map_err(mongo_err)?
            .try_collect::<Vec<_>>()
            .await
            .map_err(mongo_err)?
            .iter()
            .filter_map(|d| d.get_object_id("_id").ok())
            .collect();
        let fresh: Vec<(&Imported, ObjectId)> = list
            .iter()
            .zip(ids)
            .filter(|(_, id)| !stored.contains(id))
            .collect();
        if dry || fresh.is_empty() {
            return Ok(fresh.len());
        }
        // No transaction: numbers first, then one ordered insert. Interrupted between the two,
        // the numbers stay unused (a gap) and a second run stores the messages after them.
        let (_, before) = log.take(channel, fresh.len() as i64).await?;
        let docs: Vec<ChatDoc> = fresh
            .iter()
            .zip(before + 1..)
            .map(|((m, id), seq)| ChatDoc {
                id: *id,
                channel_id: channel,
                seq,
                chat: m.text.clone(),
                user_id: m.user_id,
                nickname: m.nickname.clone(),
                sender: m.sender.clone(),
                client_id: m.id.clone(),
                created_at: bson::DateTime::from_chrono(m.created_at),
            })
            .collect();
        log.chats.insert_many(&docs).await.map_err(mongo_err)?;
        Ok(docs.len())
    }

    async fn close(&self) {
        self.log.chats.client().clone().shutdown().await;
    }

    async fn delete_channel(&self, channel: i64) -> DbResult<()> {
        let log = &self.log;
        log.chats
            .delete_many(doc! {"channelId": channel})
            .await
            .map_err(mongo_err)?;
        log.counters
            .delete_one(doc! {"_id": channel})
            .await
            .map_err(mongo_err)?;
        if let Ok(mut k) = log.known.lock() {
            k.remove(&channel);
        }
        Ok(())
    }

    async fn ping(&self) -> DbResult<()> {
        self.log
            .chats
            .client()
            .database("admin")
            .run_command(doc! {"ping": 1})
            .await
            .map_err(mongo_err)?;
        Ok(())
    }
}
