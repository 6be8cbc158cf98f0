//! The chat log's values, shared by the stores (`messages`) and the group-commit writer
//! (`writer`): a message as stored, one to store, and what storing it did.

use chrono::{DateTime, SubsecRound, Utc};
use mongodb::bson::oid::ObjectId;
use serde::Serialize;

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
    s.serialize_str(&iso_millis(t))
}

impl ChatMessage {
    /// When it was stored: ISO 8601, UTC, milliseconds (every dialect's shape).
    pub fn created_iso(&self) -> String {
        iso_millis(&self.created_at)
    }
}

fn iso_millis(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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
    /// What the stores keep as the idempotency key: the client's id, or the message's own.
    pub(crate) fn key<'a>(&'a self, id: &'a str) -> &'a str {
        self.client_id.as_deref().unwrap_or(id)
    }
}

/// A message carried over from another deployment by `ninecloud import`: its id and time are
/// kept; its sequence number is given when it is stored.
#[derive(Clone, Debug)]
pub struct Imported {
    /// 24 hex digits: the original's ObjectId.
    pub id: String,
    pub user_id: Option<i64>,
    pub nickname: String,
    pub text: String,
    pub sender: String,
    pub created_at: DateTime<Utc>,
}

/// What `append` did.
#[derive(Clone, Debug)]
pub struct Appended {
    pub message: ChatMessage,
    /// The client id was seen before: this is the message stored the first time.
    pub duplicate: bool,
}

/// A new message id: 24 hex digits, a MongoDB ObjectId whichever store keeps it.
pub(crate) fn new_id() -> String {
    ObjectId::new().to_hex()
}

pub(crate) fn stamp() -> DateTime<Utc> {
    // Milliseconds: what MongoDB keeps, so both stores answer alike.
    Utc::now().trunc_subsecs(3)
}
