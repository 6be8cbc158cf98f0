//! What both dialects share: storing a message before broadcasting it, the per-socket rate
//! limit, text rules, counted broadcasts and online lists.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use socketioxide::BroadcastError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::operators::BroadcastOperators;

use super::{Ctx, LEGACY_ROOM};
use crate::store::db::DbError;
use crate::store::messages::{Appended, ChatMessage, NewMessage};

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
    if let Err(e) = ack.send(value) {
        tracing::debug!(error = %e, "acknowledgement not delivered");
    }
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
    let ip = crate::http::extract::client_ip(socket.req_parts(), &ctx.app.config.proxies);
    let key = socket
        .extensions
        .get::<super::auth::Identity>()
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

fn wait_text(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> u128 {
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

/// Stores the message (the database gives its sequence number), then broadcasts it to the
/// channel's room, and for the lobby also to the NINE Cloud clients in their shape. A retried
/// send (same client id) is answered with the first message and not broadcast again.
pub async fn post<A: Adapter>(
    io: &SocketIo<A>,
    ctx: &Ctx,
    new: NewMessage,
) -> Result<Appended, String> {
    let channel = new.channel_id;
    let appended = ctx.app.messages.append(new).await.map_err(|e| match e {
        DbError::NotFound => "unknown channel".to_string(),
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
    }
    Ok(appended)
}

/// Broadcasts to a room and counts what could not be queued: a slow client whose buffer is
/// full misses the packet (and catches up by sequence number); nobody else is held back.
pub async fn emit_to<A: Adapter, T: Serialize + ?Sized>(
    io: &SocketIo<A>,
    ctx: &Ctx,
    room: String,
    event: &str,
    data: &T,
) {
    broadcast(io.to(room.clone()), ctx, &room, event, data).await;
}

/// `emit_to` for any selection of sockets (`socket.to(room)`: everyone there but the sender).
pub async fn broadcast<A: Adapter, T: Serialize + ?Sized>(
    to: BroadcastOperators<A>,
    ctx: &Ctx,
    room: &str,
    event: &str,
    data: &T,
) {
    if let Err(e) = to.emit(event, data).await {
        report(ctx, room, event, e);
    }
}

fn report(ctx: &Ctx, room: &str, event: &str, e: BroadcastError) {
    match e {
        BroadcastError::Socket(errors) => {
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
        other => tracing::error!(room, event, error = %other, "broadcast failed"),
    }
}

/// Ids of the signed-in users with a socket in `room`, on every instance: the `user:<id>`
/// rooms of the room's sockets.
pub async fn online_users<A: Adapter>(io: &SocketIo<A>, room: &str) -> Vec<i64> {
    match io.to(room.to_string()).rooms().await {
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
            tracing::warn!(room, error = %e, "could not list the room's users");
            vec![]
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
