//! Group commit for the chat log: appends wait in one bounded queue, and one writer per
//! process stores whatever has queued while it was busy as a single transaction.
//!
//! The batch is never held open for a timer: when the writer is idle, the first message is
//! committed alone at once, so latency at low load is one transaction as before; under load,
//! the messages that arrived during one commit go together in the next (at most
//! `CHAT_WRITE_BATCH`). A message is answered (and so acknowledged and broadcast) only after
//! its batch committed.
//!
//! What stays per message:
//! - two copies of one send (same channel, sender and client id) inside a batch are stored
//!   once; the copies get the first's message as a duplicate;
//! - when a batch fails as a whole, each of its messages is retried in a transaction of its
//!   own, so one bad message fails alone and never its neighbours;
//! - a full queue refuses at once (`DbError::Busy`) instead of growing without bound.
//!
//! Written here rather than taken from a crate: the batching is a dozen lines around tokio's
//! bounded channel, and what matters (per-message outcomes, duplicates, fallback) is ours.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::db::{DbError, DbResult};
use super::log::{Appended, ChatMessage, NewMessage};

/// One message as a batch holds it: what was sent, with the id and time it is stored under.
pub struct Pending {
    pub new: NewMessage,
    pub id: String,
    pub created: DateTime<Utc>,
}

impl Pending {
    /// The key that makes retries idempotent: only messages whose sender gave a client id.
    fn key(&self) -> Option<(i64, &str, &str)> {
        let n = &self.new;
        n.client_id
            .as_deref()
            .map(|c| (n.channel_id, n.sender.as_str(), c))
    }

    fn stored(&self, seq: i64) -> ChatMessage {
        let n = &self.new;
        ChatMessage {
            id: self.id.clone(),
            channel_id: n.channel_id,
            seq,
            user_id: n.user_id,
            nickname: n.nickname.clone(),
            text: n.text.clone(),
            client_id: n.client_id.clone(),
            created_at: self.created,
            sender: n.sender.clone(),
        }
    }
}

/// What became of one message of a batch.
pub enum Outcome {
    /// Stored now, with this sequence number.
    Stored(i64),
    /// The same sender stored it earlier under the same client id: that message.
    Earlier(ChatMessage),
    Failed(DbError),
}

/// A backend's half of group commit.
#[async_trait::async_trait]
pub trait Commit: Send + Sync + 'static {
    /// Stores `batch` (no two of which share a client key) in one transaction and answers one
    /// outcome per message in order; `Err` when the transaction as a whole failed, in which
    /// case nothing of it was stored.
    async fn commit(&self, batch: &[Pending]) -> DbResult<Vec<Outcome>>;
}

#[async_trait::async_trait]
impl<T: Commit> Commit for Arc<T> {
    async fn commit(&self, batch: &[Pending]) -> DbResult<Vec<Outcome>> {
        (**self).commit(batch).await
    }
}

/// Queue settings (`CHAT_WRITE_QUEUE`, `CHAT_WRITE_BATCH`).
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    /// Messages waiting to be stored before appends are refused.
    pub capacity: usize,
    /// The most messages in one transaction.
    pub batch: usize,
}

/// The write queue's counters, for `/health`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    /// Messages waiting now.
    pub queued: usize,
    pub capacity: usize,
    /// Appends refused because the queue was full.
    pub refused: u64,
    /// Transactions committed, and the messages they stored.
    pub batches: u64,
    pub stored: u64,
    /// The most messages one transaction stored.
    pub largest_batch: u64,
}

#[derive(Default)]
struct Counters {
    refused: AtomicU64,
    batches: AtomicU64,
    stored: AtomicU64,
    largest: AtomicU64,
}

type Job = (Pending, oneshot::Sender<DbResult<Appended>>);

/// The sending half: what `MessageStore::append` goes through.
pub struct Queue {
    tx: mpsc::Sender<Job>,
    capacity: usize,
    counters: Arc<Counters>,
}

impl Queue {
    /// A queue whose writer runs on the tokio runtime.
    pub fn spawn<C: Commit>(committer: C, limits: QueueLimits) -> Queue {
        let (queue, mut writer) = Queue::new(limits);
        tokio::spawn(async move {
            while let Some(first) = writer.rx.recv().await {
                let jobs = writer.drain(first);
                let batch = Batch::of(jobs);
                let outcomes = run(&committer, &batch.pending).await;
                writer.finish(batch, outcomes);
            }
        });
        queue
    }

    /// A queue and the receiving half, for a writer that runs where the caller puts it (the
    /// SQLite writer owns a thread of its own).
    pub fn new(limits: QueueLimits) -> (Queue, Writer) {
        let capacity = limits.capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let counters = Arc::new(Counters::default());
        (
            Queue {
                tx,
                capacity,
                counters: counters.clone(),
            },
            Writer {
                rx,
                max: limits.batch.max(1),
                counters,
            },
        )
    }

    /// Queues the message and waits for its batch to commit.
    pub async fn append(&self, new: NewMessage) -> DbResult<Appended> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            new,
            id: super::log::new_id(),
            created: super::log::stamp(),
        };
        self.tx.try_send((pending, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                DbError::Busy
            }
            mpsc::error::TrySendError::Closed(_) => writer_gone(),
        })?;
        answer.await.unwrap_or_else(|_| Err(writer_gone()))
    }

    pub fn stats(&self) -> QueueStats {
        let c = &self.counters;
        QueueStats {
            queued: self.capacity - self.tx.capacity(),
            capacity: self.capacity,
            refused: c.refused.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            stored: c.stored.load(Ordering::Relaxed),
            largest_batch: c.largest.load(Ordering::Relaxed),
        }
    }
}

fn writer_gone() -> DbError {
    DbError::Unavailable("the chat log writer has stopped".into())
}

/// The receiving half of the queue.
pub struct Writer {
    rx: mpsc::Receiver<Job>,
    max: usize,
    counters: Arc<Counters>,
}

impl Writer {
    /// Waits for the next message from a thread outside the runtime; `None` once every
    /// `Queue` is dropped.
    pub fn blocking_next(&mut self) -> Option<Batch> {
        let first = self.rx.blocking_recv()?;
        Some(Batch::of(self.drain(first)))
    }

    /// `first` and whatever else is queued now, up to the batch size: no waiting.
    fn drain(&mut self, first: Job) -> Vec<Job> {
        let mut jobs = vec![first];
        while jobs.len() < self.max {
            match self.rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        jobs
    }

    /// Answers every message of the batch (and the copies folded into it).
    pub fn finish(&self, batch: Batch, outcomes: Vec<Outcome>) {
        let mut results: Vec<DbResult<Appended>> = Vec::with_capacity(batch.pending.len());
        let mut stored = 0;
        for (p, outcome) in batch.pending.iter().zip(outcomes) {
            results.push(match outcome {
                Outcome::Stored(seq) => {
                    stored += 1;
                    Ok(Appended {
                        message: p.stored(seq),
                        duplicate: false,
                    })
                }
                Outcome::Earlier(message) => Ok(Appended {
                    message,
                    duplicate: true,
                }),
                Outcome::Failed(e) => Err(e),
            });
        }
        let c = &self.counters;
        c.batches.fetch_add(1, Ordering::Relaxed);
        c.stored.fetch_add(stored, Ordering::Relaxed);
        c.largest.fetch_max(stored, Ordering::Relaxed);
        for (i, reply) in batch.copies {
            let _ = reply.send(match &results[i] {
                Ok(a) => Ok(Appended {
                    message: a.message.clone(),
                    duplicate: true,
                }),
                Err(e) => Err(e.clone()),
            });
        }
        for (reply, result) in batch.replies.into_iter().zip(results) {
            // The sender may have gone (its socket closed): the message is stored anyway.
            let _ = reply.send(result);
        }
    }
}

/// A batch taken off the queue: distinct messages, and the copies of one send folded in.
pub struct Batch {
    pub pending: Vec<Pending>,
    replies: Vec<oneshot::Sender<DbResult<Appended>>>,
    /// A copy of `pending[i]` (same client key): answered with its result as a duplicate.
    copies: Vec<(usize, oneshot::Sender<DbResult<Appended>>)>,
}

impl Batch {
    fn of(jobs: Vec<Job>) -> Batch {
        let mut pending: Vec<Pending> = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        let mut copies = Vec::new();
        let mut seen: HashMap<(i64, String, String), usize> = HashMap::new();
        for (p, reply) in jobs {
            if let Some((channel, sender, client)) = p.key() {
                let key = (channel, sender.to_string(), client.to_string());
                if let Some(&i) = seen.get(&key) {
                    copies.push((i, reply));
                    continue;
                }
                seen.insert(key, pending.len());
            }
            pending.push(p);
            replies.push(reply);
        }
        Batch {
            pending,
            replies,
            copies,
        }
    }
}

/// Commits the batch; if it fails as a whole, each message alone, so that only the bad ones
/// fail. A message alone that meets a unique key (its client id stored meanwhile by another
/// instance) is tried once more, which finds the earlier message.
pub async fn run<C: Commit + ?Sized>(committer: &C, batch: &[Pending]) -> Vec<Outcome> {
    crate::telemetry::chat_batch(batch.len());
    if batch.len() > 1 {
        match committer.commit(batch).await {
            Ok(outcomes) => return outcomes,
            Err(e) => tracing::warn!(error = %e, size = batch.len(),
                "a chat log batch failed; storing its messages one by one"),
        }
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    for one in batch.chunks(1) {
        let mut result = committer.commit(one).await;
        if matches!(result, Err(DbError::Conflict(_))) {
            result = committer.commit(one).await;
        }
        outcomes.push(match result {
            Ok(mut o) if o.len() == 1 => o.remove(0),
            Ok(_) => Outcome::Failed(DbError::Other("the chat log answered a wrong count".into())),
            Err(e) => Outcome::Failed(e),
        });
    }
    outcomes
}

/// The sequence numbers a batch takes, from the channels' counters read under lock: every
/// message of a known channel gets the next number, in queue order; a message already stored
/// (found by its client key in `earlier`) gets that message; an unknown channel is `NotFound`.
/// Returns the outcomes and, per channel that took numbers, its new counter.
pub fn number(
    batch: &[Pending],
    counters: &[(i64, i64)],
    earlier: Vec<ChatMessage>,
) -> (Vec<Outcome>, Vec<(i64, i64)>) {
    let mut last: HashMap<i64, (i64, bool)> =
        counters.iter().map(|&(c, s)| (c, (s, false))).collect();
    let mut earlier: HashMap<(i64, String, String), ChatMessage> = earlier
        .into_iter()
        .filter_map(|m| {
            let client = m.client_id.clone()?;
            Some(((m.channel_id, m.sender.clone(), client), m))
        })
        .collect();
    let mut outcomes = Vec::with_capacity(batch.len());
    for p in batch {
        if let Some((channel, sender, client)) = p.key()
            && let Some(m) = earlier.remove(&(channel, sender.to_string(), client.to_string()))
        {
            outcomes.push(Outcome::Earlier(m));
            continue;
        }
        outcomes.push(match last.get_mut(&p.new.channel_id) {
            Some((seq, used)) => {
                *seq += 1;
                *used = true;
                Outcome::Stored(*seq)
            }
            None => Outcome::Failed(DbError::NotFound),
        });
    }
    let mut bumped: Vec<(i64, i64)> = last
        .into_iter()
        .filter(|(_, (_, used))| *used)
        .map(|(c, (s, _))| (c, s))
        .collect();
    bumped.sort_unstable();
    (outcomes, bumped)
}

/// The distinct channels of a batch, ascending (the order their rows are locked in, so two
/// instances never wait on each other in a cycle), and the client ids it carries.
pub fn keys(batch: &[Pending]) -> (Vec<i64>, Vec<String>) {
    let mut channels: Vec<i64> = batch.iter().map(|p| p.new.channel_id).collect();
    channels.sort_unstable();
    channels.dedup();
    let mut clients: Vec<String> = batch
        .iter()
        .filter_map(|p| p.new.client_id.clone())
        .collect();
    clients.sort_unstable();
    clients.dedup();
    (channels, clients)
}

/// One statement setting every bumped channel's counter: integers only, nothing a client
/// wrote reaches the text.
pub fn bump_sql(bumped: &[(i64, i64)]) -> String {
    use std::fmt::Write;
    let mut sql = String::from("UPDATE channels SET last_seq = CASE id");
    for (channel, seq) in bumped {
        let _ = write!(sql, " WHEN {channel} THEN {seq}");
    }
    sql.push_str(" ELSE last_seq END WHERE id IN (");
    for (i, (channel, _)) in bumped.iter().enumerate() {
        let _ = write!(sql, "{}{channel}", if i > 0 { ", " } else { "" });
    }
    sql.push(')');
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(channel: i64, sender: &str, client: Option<&str>) -> Pending {
        Pending {
            new: NewMessage {
                channel_id: channel,
                user_id: None,
                nickname: sender.into(),
                text: "t".into(),
                sender: sender.into(),
                client_id: client.map(str::to_string),
            },
            id: super::super::log::new_id(),
            created: Utc::now(),
        }
    }

    #[test]
    fn numbers_follow_the_queue_per_channel_and_skip_what_was_stored() {
        let batch = [
            pending(2, "a", None),
            pending(1, "a", Some("k")),
            pending(2, "b", Some("k")),
            pending(9, "a", None),
            pending(2, "a", None),
        ];
        let stored_before = pending(2, "b", Some("k")).stored(4);
        let (outcomes, bumped) = number(&batch, &[(1, 0), (2, 7)], vec![stored_before.clone()]);
        let seqs: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                Outcome::Stored(s) => s.to_string(),
                Outcome::Earlier(m) => format!("earlier {}", m.seq),
                Outcome::Failed(e) => e.to_string(),
            })
            .collect();
        assert_eq!(seqs, ["8", "1", "earlier 4", "not found", "9"]);
        assert_eq!(bumped, [(1, 1), (2, 9)]);
        assert_eq!(
            bump_sql(&bumped),
            "UPDATE channels SET last_seq = CASE id WHEN 1 THEN 1 WHEN 2 THEN 9 \
             ELSE last_seq END WHERE id IN (1, 2)"
        );
    }

    #[test]
    fn copies_of_one_send_fold_into_the_first() {
        let jobs: Vec<Job> = [
            pending(1, "a", Some("k")),
            pending(1, "a", Some("k")),
            pending(1, "b", Some("k")),
            pending(1, "a", None),
            pending(1, "a", None),
        ]
        .into_iter()
        .map(|p| {
            let (tx, _) = oneshot::channel();
            (p, tx)
        })
        .collect();
        let batch = Batch::of(jobs);
        assert_eq!(batch.pending.len(), 4, "one copy of (1, a, k) folded");
        assert_eq!(batch.copies.len(), 1);
        assert_eq!(batch.copies[0].0, 0);
    }
}
