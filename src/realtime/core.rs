//! The realtime core every dialect shares: who is on a socket (`Identity`), the handlers'
//! state (`Ctx`), rooms, storing a message before broadcasting it to every dialect's room,
//! the per-sender rate limits, text rules, counted broadcasts, online lists and presence.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use socketioxide::BroadcastError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::operators::BroadcastOperators;

use crate::app::App;
use crate::store::db::DbError;
use crate::store::messages::{Appended, ChatMessage, NewMessage};

/// The room of the lobby channel, which every signed-in socket joins on connect.
pub use crate::views::LOBBY_ROOM;
/// The sockets that speak the NINE Cloud dialect (every guest, and whoever sends `login`).
pub const LEGACY_ROOM: &str = "nine:lobby";

#[derive(Clone, Debug)]
pub enum Identity {
    User { id: i64, username: String },
    Guest,
}

impl Identity {
    pub fn user(&self) -> Option<(i64, &str)> {
        match self {
            Identity::User { id, username } => Some((*id, username)),
            Identity::Guest => None,
        }
    }
}

/// The room every socket of one user is in, so presence can list users across instances.
pub fn user_room(id: i64) -> String {
    format!("user:{id}")
}

/// What the socket handlers share, given to socketioxide as its state.
#[derive(Clone)]
pub struct Ctx(pub Arc<Shared>);

pub struct Shared {
    pub app: Arc<App>,
    /// Channel uuids already looked up (ids never change; a deleted channel's entry only
    /// leads to the store's "unknown channel").
    pub uuids: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    pub stats: Stats,
    pub limits: ChatLimits,
}

impl std::ops::Deref for Ctx {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The Everyone's friend dialect's lobby room, which every socket starts in (its clients
/// send no handshake) until its first event shows it speaks another dialect.
pub const FRIEND_LOBBY_ROOM: &str = "ef:lobby";

impl Ctx {
    /// The channel dialect's room of a channel.
    pub fn room(&self, channel: i64) -> String {
        if channel == self.app.lobby_id {
            LOBBY_ROOM.to_string()
        } else {
            format!("room:{channel}")
        }
    }

    /// The Everyone's friend dialect's room of a channel.
    pub fn friend_room(&self, channel: i64) -> String {
        if channel == self.app.lobby_id {
            FRIEND_LOBBY_ROOM.to_string()
        } else {
            format!("ef:{channel}")
        }
    }

    /// The channel a room of either dialect belongs to.
    pub fn channel_of_room(&self, room: &str) -> Option<i64> {
        let rest = room
            .strip_prefix("room:")
            .or_else(|| room.strip_prefix("ef:"))?;
        if rest == "lobby" {
            Some(self.app.lobby_id)
        } else {
            rest.parse().ok()
        }
    }
}

/// A channel as a client names it: its id, or its uuid (Everyone's friend's public id).
#[derive(serde::Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum ChannelRef {
    Id(i64),
    Uuid(String),
}

/// Uuids kept in `Shared::uuids` at most; past that the map starts again.
const MAX_CACHED_UUIDS: usize = 10_000;

/// The id of a channel named by id or uuid (an unknown uuid is an error; an unknown id is
/// found out where it is used).
pub async fn resolve(ctx: &Ctx, channel: &ChannelRef) -> Result<i64, String> {
    let uuid = match channel {
        ChannelRef::Id(id) => return Ok(*id),
        ChannelRef::Uuid(u) => u.trim().to_ascii_lowercase(),
    };
    if uuid == LOBBY_ROOM {
        return Ok(ctx.app.lobby_id);
    }
    if uuid::Uuid::parse_str(&uuid).is_err() {
        return Err("channelId must be a channel's id or uuid".into());
    }
    if let Some(id) = ctx.uuids.lock().ok().and_then(|m| m.get(&uuid).copied()) {
        return Ok(id);
    }
    match crate::store::channels::find_by_uuid(&ctx.app.db, &uuid).await {
        Ok(Some(c)) => {
            if let Ok(mut m) = ctx.uuids.lock() {
                if m.len() >= MAX_CACHED_UUIDS {
                    m.clear();
                }
                m.insert(uuid, c.id);
            }
            Ok(c.id)
        }
        Ok(None) => Err("unknown channel".into()),
        Err(e) => {
            tracing::error!(error = %e, "channel lookup failed");
            Err("channels are unavailable; try again".into())
        }
    }
}

/// The three dialects one socket may speak. Every socket starts in the lobby of each dialect
/// that needs no handshake; its first event says which one it speaks, and it leaves the
/// others' lobbies, so that it gets each lobby message once, in its own shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    NineCloud,
    Channels,
    Friend,
}

/// Called by every dialect's events: on a socket's first event, it leaves the lobbies of the
/// dialects it does not speak. A socket that later uses another dialect too joins that
/// dialect's rooms as its events need them.
pub fn speaks<A: Adapter>(socket: &SocketRef<A>, dialect: Dialect) {
    if socket.extensions.get::<Dialect>().is_some() {
        return;
    }
    socket.extensions.insert(dialect);
    crate::telemetry::socket_dialect(match dialect {
        Dialect::NineCloud => "nine_cloud",
        Dialect::Channels => "channels",
        Dialect::Friend => "everyones_friend",
    });
    let drop: &[&str] = match dialect {
        Dialect::NineCloud | Dialect::Channels => &[FRIEND_LOBBY_ROOM],
        // A signed-in Everyone's friend socket stays online in the lobby through ef:lobby.
        Dialect::Friend => &[LEGACY_ROOM, LOBBY_ROOM],
    };
    let rooms = socket.rooms();
    for room in drop {
        if rooms.iter().any(|r| r == room) {
            socket.leave(*room);
        }
    }
}

/// An event's positional arguments, every one of them: socketioxide hands a handler only the
/// first unless the type deserializes as a tuple. At most `MAX` are kept; the rest are read and
/// dropped, and `.1` says there were more. (The acknowledgement callback is not an argument.)
pub struct Args<const MAX: usize>(pub Vec<Value>, pub bool);

impl<'de, const MAX: usize> Deserialize<'de> for Args<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Each<const MAX: usize>;
        impl<'de, const MAX: usize> Visitor<'de> for Each<MAX> {
            type Value = Args<MAX>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the event's arguments")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Args<MAX>, S::Error> {
                let mut args = Vec::new();
                while args.len() < MAX {
                    match seq.next_element::<Value>()? {
                        Some(v) => args.push(v),
                        None => return Ok(Args(args, false)),
                    }
                }
                let mut more = false;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    more = true;
                }
                Ok(Args(args, more))
            }
        }
        // A tuple, so that socketioxide hands over every argument, not only the first.
        d.deserialize_tuple(MAX + 1, Each::<MAX>)
    }
}

/// Values emitted as separate Socket.IO arguments (socketioxide spreads what serializes as a
/// tuple; a slice or a `Vec` would arrive as one array).
pub struct Spread<'a>(pub &'a [Value]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(self.0.len())?;
        for v in self.0 {
            t.serialize_element(v)?;
        }
        t.end()
    }
}

/// Counters, read by `/health`.
#[derive(Default)]
pub struct Stats {
    pub connected: AtomicU64,
    pub messages: AtomicU64,
    /// Packets a broadcast could not queue for a socket (its buffer was full or it was gone).
    pub dropped: AtomicU64,
}

/// The acknowledgement envelope of every server answer: `{ok: true, ...}` / `{ok: false, error}`.
pub fn ok(fields: Value) -> Value {
    let mut v = json!({ "ok": true });
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), fields) {
        obj.extend(extra);
    }
    v
}

pub fn fail(error: impl Into<String>) -> Value {
    json!({ "ok": false, "error": error.into() })
}

/// Sends an acknowledgement; a client that asked for none, or has gone, is not an error.
pub fn answer<A: Adapter>(ack: AckSender<A>, value: &Value) {
    let outcome = match ack.send(value) {
        Ok(()) if value.get("ok").and_then(Value::as_bool) == Some(false) => "error",
        Ok(()) => "ok",
        Err(e) => {
            tracing::debug!(error = %e, "acknowledgement not delivered");
            "undelivered"
        }
    };
    crate::telemetry::ack(outcome);
}

/// The chat's rate limits, per sender across all of its sockets on this instance (not per
/// socket: a second socket or a reconnect gets no fresh budget):
/// - messages per user (signed in) or per guest name (NINE Cloud guests, after `login`), and
///   per client address as a floor (`CHAT_RATE_LIMIT_PER_IP_PER_MINUTE`, four times the
///   per-user rate and burst by default: a guest changing names, several people behind one
///   address);
/// - typing notices per user and channel, and joins/leaves per socket (presence churn: a
///   user's many tabs each join once, a churning socket joins and leaves in a loop);
/// - a socket refused over and over (three bursts' worth in a minute) is disconnected, after
///   a `rate-limit` event that says why.
pub struct ChatLimits {
    messages: Option<Keyed<String>>,
    addresses: Option<Keyed<std::net::IpAddr>>,
    typing: Keyed<String>,
    presence: Quota,
    strikes: Quota,
}

type Keyed<K> = governor::DefaultKeyedRateLimiter<K>;

impl ChatLimits {
    pub fn new(cfg: &crate::config::RealtimeConfig) -> Self {
        let quota = |rate: u32, burst: u32| {
            Some(Quota::per_minute(NonZeroU32::new(rate)?).allow_burst(NonZeroU32::new(burst)?))
        };
        let burst = cfg.message_burst.max(1);
        Self {
            messages: quota(cfg.messages_per_minute, burst).map(RateLimiter::keyed),
            addresses: quota(cfg.messages_per_minute_per_ip, burst.saturating_mul(4))
                .map(RateLimiter::keyed),
            typing: RateLimiter::keyed(
                Quota::per_second(NonZeroU32::MIN)
                    .allow_burst(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN)),
            ),
            presence: Quota::per_minute(NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN)),
            strikes: Quota::per_minute(NonZeroU32::new(burst * 3).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst * 3).unwrap_or(NonZeroU32::MIN)),
        }
    }

    /// Forgets senders that have been quiet (called periodically).
    pub fn forget_quiet(&self) {
        if let Some(l) = &self.messages {
            l.retain_recent();
        }
        if let Some(l) = &self.addresses {
            l.retain_recent();
        }
        self.typing.retain_recent();
    }
}

/// Who a socket sends as, for the limits: `user:<id>`, `guest:<name>` once a guest has logged
/// in to the NINE Cloud chat (before that only its address counts), and its address.
#[derive(Clone)]
pub struct Sender {
    pub key: Option<String>,
    pub ip: std::net::IpAddr,
    strikes: Arc<DefaultDirectRateLimiter>,
    presence: Arc<DefaultDirectRateLimiter>,
}

pub fn install_rate_limit<A: Adapter>(socket: &SocketRef<A>, ctx: &Ctx) {
    let ip = crate::net::client_ip(socket.req_parts(), &ctx.app.config.proxies);
    let key = socket
        .extensions
        .get::<Identity>()
        .and_then(|i| i.user().map(|(id, _)| user_sender(id)));
    // Kept behind an Arc: socketioxide's `extensions.get` clones, once per message.
    socket.extensions.insert(Arc::new(Sender {
        key,
        ip,
        strikes: Arc::new(RateLimiter::direct(ctx.limits.strikes)),
        presence: Arc::new(RateLimiter::direct(ctx.limits.presence)),
    }));
}

/// A guest who logged in sends as that name from now on.
pub fn send_as_guest<A: Adapter>(socket: &SocketRef<A>, name: &str) {
    if let Some(s) = socket.extensions.get::<Arc<Sender>>()
        && s.key.as_deref().is_none_or(|k| k.starts_with("guest:"))
    {
        let mut renamed = Sender::clone(&s);
        renamed.key = Some(guest_sender(name));
        socket.extensions.insert(Arc::new(renamed));
    }
}

/// How long a refused sender must wait, in ms (every chat limit's refusal passes here).
fn wait_text(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> u128 {
    crate::telemetry::rate_limited("chat");
    not_until
        .wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ))
        .as_millis()
        + 1
}

/// Whether the socket's sender may send a message now. A refusal counts as a strike; a socket
/// out of strikes is told why (`rate-limit`) and disconnected.
pub fn check_rate<A: Adapter>(socket: &SocketRef<A>, ctx: &Ctx) -> Result<(), String> {
    let Some(sender) = socket.extensions.get::<Arc<Sender>>() else {
        return Ok(());
    };
    let by_key = match (&ctx.limits.messages, &sender.key) {
        (Some(l), Some(k)) => l.check_key(k),
        _ => Ok(()),
    };
    let checked = by_key.and_then(|()| match &ctx.limits.addresses {
        Some(l) => l.check_key(&sender.ip),
        None => Ok(()),
    });
    checked.map_err(|not_until| {
        strike(socket, &sender);
        format!(
            "too many messages: wait {} ms before sending again",
            wait_text(not_until)
        )
    })
}

fn strike<A: Adapter>(socket: &SocketRef<A>, sender: &Sender) {
    if sender.strikes.check().is_err() {
        tracing::info!(ip = %sender.ip, sender = ?sender.key, "disconnecting a socket far over the chat limits");
        let reason = json!({ "error": "disconnected: far over the chat rate limits" });
        socket.emit("rate-limit", &reason).ok();
        let socket = socket.clone();
        // Let the notice go out before the DISCONNECT packet.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            socket.disconnect().ok();
        });
    }
}

/// Typing notices: a few a second per user and channel; the rest are refused.
pub fn check_typing<A: Adapter>(
    socket: &SocketRef<A>,
    ctx: &Ctx,
    channel: i64,
) -> Result<(), String> {
    let Some(sender) = socket.extensions.get::<Arc<Sender>>() else {
        return Ok(());
    };
    let key = format!("{}:{channel}", sender.key.as_deref().unwrap_or("?"));
    ctx.limits.typing.check_key(&key).map_err(|n| {
        strike(socket, &sender);
        format!("too many typing notices: wait {} ms", wait_text(n))
    })
}

/// Joining and leaving channels (each tells the others): 60 a minute per socket, burst 20.
pub fn check_presence<A: Adapter>(socket: &SocketRef<A>) -> Result<(), String> {
    let Some(sender) = socket.extensions.get::<Arc<Sender>>() else {
        return Ok(());
    };
    sender.presence.check().map_err(|n| {
        strike(socket, &sender);
        format!("too many joins and leaves: wait {} ms", wait_text(n))
    })
}

/// A message's text: a string, not blank, at most `max` characters. Kept as sent.
pub fn message_text(value: Option<&Value>, max: usize) -> Result<String, String> {
    match value {
        Some(Value::String(s)) if s.trim().is_empty() => Err("\"text\" is empty".into()),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(format!("\"text\" is longer than {max} characters"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err("\"text\" must be a string".into()),
        None => Err("\"text\" is required".into()),
    }
}

/// A stable 24-hex-digit id (shaped like a MongoDB ObjectId, as the original's were).
pub fn hex_id(of: &str) -> String {
    hex::encode(&Sha256::digest(of.as_bytes())[..12])
}

pub fn guest_sender(name: &str) -> String {
    format!("guest:{}", hex_id(name))
}

pub fn user_sender(id: i64) -> String {
    format!("user:{id}")
}

/// The NINE Cloud shape of a stored message (contract §5.3).
pub fn legacy_doc(m: &ChatMessage) -> Value {
    json!({
        "_id": m.id,
        "chat": m.text,
        "user": { "id": hex_id(&m.sender), "name": m.nickname },
        "__v": 0,
    })
}

/// What `post` answers for a channel that is not there (any more).
pub const UNKNOWN_CHANNEL: &str = "unknown channel";

/// The Everyone's friend shape of a stored message: `{nickname, message, date}` (ISO 8601).
pub fn friend_doc(m: &ChatMessage) -> Value {
    json!({
        "nickname": m.nickname,
        "message": m.text,
        "date": m.created_iso(),
    })
}

/// Stores the message (the database gives its sequence number), then broadcasts it to the
/// channel's rooms, each dialect in its shape: `channel:message` to the channel dialect,
/// `sendMessage` to Everyone's friend (never back to the socket that sent it, as in the
/// original), and for the lobby `message` to the NINE Cloud clients. A retried send (same
/// client id) is answered with the first message and not broadcast again.
pub async fn post<A: Adapter>(
    io: &SocketIo<A>,
    ctx: &Ctx,
    from: &SocketRef<A>,
    new: NewMessage,
) -> Result<Appended, String> {
    let channel = new.channel_id;
    let started = std::time::Instant::now();
    let result = ctx.app.messages.append(new).await;
    crate::telemetry::chat_append(
        match &result {
            Ok(a) if a.duplicate => "duplicate",
            Ok(_) => "stored",
            Err(DbError::Busy) => "refused",
            Err(DbError::NotFound) => "unknown_channel",
            Err(_) => "failed",
        },
        started.elapsed(),
    );
    let appended = result.map_err(|e| match e {
        DbError::NotFound => UNKNOWN_CHANNEL.to_string(),
        DbError::Busy => "the server is busy storing messages; try again in a moment".to_string(),
        other => {
            tracing::error!(channel, error = %other, "could not store a chat message");
            "the message could not be stored; try again".to_string()
        }
    })?;
    if !appended.duplicate {
        ctx.stats.messages.fetch_add(1, Ordering::Relaxed);
        let m = &appended.message;
        if channel == ctx.app.lobby_id {
            emit_to(io, ctx, LEGACY_ROOM.to_string(), "message", &legacy_doc(m)).await;
        }
        emit_to(io, ctx, ctx.room(channel), "channel:message", m).await;
        if ctx.app.config.everyones_friend {
            let room = ctx.friend_room(channel);
            let shape = friend_doc(m);
            broadcast(from.to(room.clone()), ctx, &room, "sendMessage", &shape).await;
        }
    }
    Ok(appended)
}

/// Broadcasts to a room and counts what could not be queued: a slow client whose buffer is
/// full misses the packet (and catches up by sequence number); nobody else is held back.
pub async fn emit_to<A: Adapter, T: Serialize + ?Sized>(
    io: &SocketIo<A>,
    ctx: &Ctx,
    room: String,
    event: &'static str,
    data: &T,
) {
    broadcast(io.to(room.clone()), ctx, &room, event, data).await;
}

/// `emit_to` for any selection of sockets (`socket.to(room)`: everyone there but the sender).
pub async fn broadcast<A: Adapter, T: Serialize + ?Sized>(
    to: BroadcastOperators<A>,
    ctx: &Ctx,
    room: &str,
    event: &'static str,
    data: &T,
) {
    crate::telemetry::broadcast(event);
    if let Err(e) = to.emit(event, data).await {
        report(ctx, room, event, e);
    }
}

fn report(ctx: &Ctx, room: &str, event: &str, e: BroadcastError) {
    match e {
        BroadcastError::Socket(errors) => {
            crate::telemetry::broadcast_dropped(errors.len());
            let total = ctx
                .stats
                .dropped
                .fetch_add(errors.len() as u64, Ordering::Relaxed)
                + errors.len() as u64;
            tracing::warn!(
                room,
                event,
                missed = errors.len(),
                total_missed = total,
                "sockets too slow or gone missed a broadcast"
            );
        }
        other => {
            crate::telemetry::adapter_error("broadcast");
            tracing::error!(room, event, error = %other, "broadcast failed");
        }
    }
}

/// Ids of the signed-in users with a socket in the channel (in either dialect's room), on
/// every instance: the `user:<id>` rooms of those sockets.
pub async fn online_users<A: Adapter>(io: &SocketIo<A>, ctx: &Ctx, channel: i64) -> Vec<i64> {
    let rooms = [ctx.room(channel), ctx.friend_room(channel)];
    crate::telemetry::adapter_request("rooms");
    match io.to(rooms).rooms().await {
        Ok(rooms) => {
            let mut ids: Vec<i64> = rooms
                .iter()
                .filter_map(|r| r.strip_prefix("user:").and_then(|id| id.parse().ok()))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        }
        Err(e) => {
            crate::telemetry::adapter_error("rooms");
            tracing::warn!(channel, error = %e, "could not list the channel's users");
            vec![]
        }
    }
}

/// Tells the channel dialect's clients in a channel that a user came or went.
pub async fn announce<A: Adapter>(
    socket: &SocketRef<A>,
    ctx: &Ctx,
    channel: i64,
    user: i64,
    username: &str,
    status: &str,
) {
    let room = ctx.room(channel);
    let payload =
        json!({ "channelId": channel, "userId": user, "username": username, "status": status });
    broadcast(
        socket.to(room.clone()),
        ctx,
        &room,
        "channel:presence",
        &payload,
    )
    .await;
}

/// Leaves every room, then tells each channel the user was in that they left, unless another
/// socket of theirs is still there (on any instance).
pub async fn leave_all<A: Adapter>(socket: &SocketRef<A>, io: &SocketIo<A>, ctx: &Ctx) {
    let Some(Identity::User { id, username }) = socket.extensions.get::<Identity>() else {
        return;
    };
    let mut channels: Vec<i64> = socket
        .rooms()
        .iter()
        .filter_map(|r| ctx.channel_of_room(r))
        .collect();
    channels.sort_unstable();
    channels.dedup();
    socket.leave_all();
    for channel in channels {
        if !online_users(io, ctx, channel).await.contains(&id) {
            announce(socket, ctx, channel, id, &username, "leave").await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(message_text(Some(&json!("hi")), 5).unwrap(), "hi");
        assert!(message_text(Some(&json!("  ")), 5).is_err());
        assert!(message_text(Some(&json!("toolong")), 5).is_err());
        assert!(message_text(Some(&json!(5)), 5).is_err());
        assert!(message_text(None, 5).is_err());
        // Characters, not bytes: five Hangul syllables fit a limit of five.
        assert!(message_text(Some(&json!("안녕하세요")), 5).is_ok());
    }

    #[test]
    fn envelope() {
        assert_eq!(ok(json!({"seq": 3})), json!({"ok": true, "seq": 3}));
        assert_eq!(fail("no"), json!({"ok": false, "error": "no"}));
        assert_eq!(hex_id("x").len(), 24);
    }
}
