//! The Everyone's friend channel dialect. Every answer is `{ok:true, ...}` / `{ok:false, error}`.
//!
//! | client → server | payload | acknowledgement |
//! |---|---|---|
//! | `channel:join` | `{channelId, since?, limit?}` | `{channel, messages, hasMore, lastSeq, online}` |
//! | `channel:leave` | `{channelId}` | `{}` |
//! | `channel:message` | `{channelId, text, clientId?}` | `{id, seq, createdAt, duplicate}` |
//! | `channel:typing` | `{channelId, typing}` | `{}` |
//! | `channel:history` | `{channelId, since? \| before?, limit?}` | `{messages, hasMore}` |
//!
//! Server → client: `channel:message` (a stored message), `channel:presence`
//! `{channelId, userId, username, status: "join"|"leave"}`, `channel:typing`,
//! `channel:updated`, `channel:deleted`. `docs/realtime.md` is the reference.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use super::core::{self, ChannelRef, Ctx, Dialect, Identity, fail, ok, user_sender};
use crate::store::channels::{self as store, Channel};
use crate::store::messages::{Cursor, LogPage, NewMessage};
use crate::views::ChannelView;

pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("channel:join", join::<A>);
    socket.on("channel:leave", leave::<A>);
    socket.on("channel:message", send::<A>);
    socket.on("channel:typing", typing::<A>);
    socket.on("channel:history", history::<A>);
}

const MAX_CLIENT_ID: usize = 64;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinRequest {
    channel_id: ChannelRef,
    since: Option<i64>,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelRequest {
    channel_id: ChannelRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendRequest {
    channel_id: ChannelRef,
    text: Value,
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingRequest {
    channel_id: ChannelRef,
    #[serde(default = "yes")]
    typing: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryRequest {
    channel_id: ChannelRef,
    since: Option<i64>,
    before: Option<i64>,
    limit: Option<usize>,
}

/// The payload as `T`, or an error naming what is wrong with it.
fn parse<T: DeserializeOwned>(data: Result<Value, impl std::fmt::Display>) -> Result<T, String> {
    let value = data.map_err(|e| format!("malformed payload: {e}"))?;
    if !value.is_object() {
        return Err("malformed payload: expected an object such as {\"channelId\": 1}".into());
    }
    let de = serde_path_to_error::deserialize(value);
    de.map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("malformed payload: {}", e.inner())
        } else {
            format!("malformed payload: \"{path}\": {}", e.inner())
        }
    })
}

fn signed_in<A: Adapter>(socket: &SocketRef<A>) -> Result<(i64, String), String> {
    match socket.extensions.get::<Identity>() {
        Some(Identity::User { id, username }) => Ok((id, username)),
        _ => Err(
            "guests may only use the community chat: sign in (auth.token) to use channels".into(),
        ),
    }
}

async fn existing(ctx: &Ctx, id: i64) -> Result<Channel, String> {
    match store::find(&ctx.app.db, id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err("unknown channel".into()),
        Err(e) => {
            tracing::error!(error = %e, "channel lookup failed");
            Err("channels are unavailable; try again".into())
        }
    }
}

fn in_room<A: Adapter>(socket: &SocketRef<A>, room: &str) -> bool {
    socket.rooms().iter().any(|r| r == room)
}

fn reply<A: Adapter>(ack: AckSender<A>, result: Result<Value, String>) {
    core::answer(
        ack,
        &match result {
            Ok(v) => ok(v),
            Err(e) => fail(e),
        },
    );
}

/// A page of the channel's log, at most `limit` (defaulted and capped by the configuration).
async fn read_log(
    ctx: &Ctx,
    channel: i64,
    cursor: Cursor,
    limit: Option<usize>,
) -> Result<LogPage, String> {
    let cfg = &ctx.app.config.realtime;
    let limit = limit.unwrap_or(cfg.history_page).clamp(1, cfg.history_max);
    ctx.app
        .messages
        .page(channel, cursor, limit)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "chat log unavailable");
            "the chat log is unavailable; try again".to_string()
        })
}

/// `{userId, username}` of everyone online in the channel, on any instance.
async fn online_list<A: Adapter>(io: &SocketIo<A>, ctx: &Ctx, channel: i64) -> Value {
    let ids = core::online_users(io, ctx, channel).await;
    let names = store::usernames(&ctx.app.db, &ids)
        .await
        .unwrap_or_default();
    Value::Array(
        names
            .into_iter()
            .map(|(id, name)| json!({ "userId": id, "username": name }))
            .collect(),
    )
}

async fn join<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    State(admin): State<super::admin::AdminState>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::Channels);
    let result = async {
        let req: JoinRequest = parse(data)?;
        let (user, username) = signed_in(&socket)?;
        let channel = existing(&ctx, core::resolve(&ctx, &req.channel_id).await?).await?;
        let room = ctx.room(channel.id);
        if !in_room(&socket, &room) {
            core::check_presence(&socket)?;
        }
        // Into the room first, then read the log: a message stored in between arrives both
        // live and in the answer (clients keep one per sequence number), never in neither.
        let was_in = in_room(&socket, &room);
        if !was_in {
            super::admin::room_changed(&admin, &socket, &room, true);
        }
        socket.join(room);
        let cursor = Cursor::from_bounds(req.since, None)?;
        let page = read_log(&ctx, channel.id, cursor, req.limit).await?;
        let last_seq = ctx
            .app
            .messages
            .last_seq(channel.id)
            .await
            .unwrap_or_default();
        if !was_in {
            core::announce(&socket, &ctx, channel.id, user, &username, "join").await;
        }
        let online = online_list(&io, &ctx, channel.id).await;
        let members = store::member_count(&ctx.app.db, channel.id)
            .await
            .unwrap_or_default();
        let online_count = online.as_array().map_or(0, Vec::len);
        Ok(json!({
            "channel": ChannelView::new(&channel, members, online_count),
            "messages": page.messages,
            "hasMore": page.more,
            "lastSeq": last_seq,
            "online": online,
        }))
    }
    .await;
    reply(ack, result);
}

async fn leave<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    State(admin): State<super::admin::AdminState>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::Channels);
    let result = async {
        let req: ChannelRequest = parse(data)?;
        let (user, username) = signed_in(&socket)?;
        let channel_id = core::resolve(&ctx, &req.channel_id).await?;
        let room = ctx.room(channel_id);
        if !in_room(&socket, &room) {
            return Err("you are not in this channel".to_string());
        }
        core::check_presence(&socket)?;
        super::admin::room_changed(&admin, &socket, &room, false);
        socket.leave(room);
        if !core::online_users(&io, &ctx, channel_id)
            .await
            .contains(&user)
        {
            core::announce(&socket, &ctx, channel_id, user, &username, "leave").await;
        }
        Ok(json!({}))
    }
    .await;
    reply(ack, result);
}

async fn send<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::Channels);
    let result = async {
        let req: SendRequest = parse(data)?;
        let (user, username) = signed_in(&socket)?;
        let text = core::message_text(Some(&req.text), ctx.app.config.realtime.max_message_chars)?;
        if let Some(cid) = &req.client_id
            && (cid.is_empty() || cid.chars().count() > MAX_CLIENT_ID)
        {
            return Err(format!(
                "\"clientId\" must be 1 to {MAX_CLIENT_ID} characters"
            ));
        }
        let channel_id = core::resolve(&ctx, &req.channel_id).await?;
        if !in_room(&socket, &ctx.room(channel_id)) {
            return Err("join the channel (channel:join) before sending to it".to_string());
        }
        core::check_rate(&socket, &ctx)?;
        let appended = core::post(
            &io,
            &ctx,
            &socket,
            NewMessage {
                channel_id,
                user_id: Some(user),
                nickname: username,
                text,
                sender: user_sender(user),
                client_id: req.client_id,
            },
        )
        .await?;
        let m = appended.message;
        Ok(json!({
            "id": m.id,
            "seq": m.seq,
            "createdAt": m.created_iso(),
            "duplicate": appended.duplicate,
        }))
    }
    .await;
    reply(ack, result);
}

async fn typing<A: Adapter>(
    socket: SocketRef<A>,
    State(ctx): State<Ctx>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::Channels);
    let result = async {
        let req: TypingRequest = parse(data)?;
        let (user, username) = signed_in(&socket)?;
        let channel_id = core::resolve(&ctx, &req.channel_id).await?;
        let room = ctx.room(channel_id);
        if !in_room(&socket, &room) {
            return Err("join the channel (channel:join) first".to_string());
        }
        core::check_typing(&socket, &ctx, channel_id)?;
        let payload = json!({
            "channelId": channel_id,
            "userId": user,
            "username": username,
            "typing": req.typing,
        });
        // Typing is a hint: volatile, never queued behind chat messages for a slow client.
        socket
            .to(room)
            .volatile()
            .emit("channel:typing", &payload)
            .await
            .ok();
        Ok(json!({}))
    }
    .await;
    reply(ack, result);
}

async fn history<A: Adapter>(
    socket: SocketRef<A>,
    State(ctx): State<Ctx>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::Channels);
    let result = async {
        let req: HistoryRequest = parse(data)?;
        signed_in(&socket)?;
        let channel = existing(&ctx, core::resolve(&ctx, &req.channel_id).await?).await?;
        let cursor = Cursor::from_bounds(req.since, req.before)
            .map_err(|_| "give either \"since\" or \"before\", not both".to_string())?;
        let page = read_log(&ctx, channel.id, cursor, req.limit).await?;
        Ok(json!({ "messages": page.messages, "hasMore": page.more }))
    }
    .await;
    reply(ack, result);
}
