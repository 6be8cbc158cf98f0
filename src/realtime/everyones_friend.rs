//! The Everyone's friend dialect (contract `everyones-friend-api.md` §3), for its clients as
//! they were written: no handshake, no acknowledgements needed.
//!
//! | client → server | arguments | what happens |
//! |---|---|---|
//! | `getMessage` | `(message, nickname)` | stored in the current channel's log, then `sendMessage` to the others there |
//! | `enterChannel` | `(roomId)` | a channel's uuid (or `room:lobby`) becomes the current channel |
//!
//! Server → client: `sendMessage {nickname, message, date}` (`date` ISO 8601), never to the
//! socket that sent it. Every socket starts in the lobby. A socket with a token speaks as its
//! account (the nickname argument is then ignored); one without follows
//! `CHAT_ALLOW_ANONYMOUS`. Fixed from the original: entering a channel really leaves the
//! previous one, an unknown room id is refused, and a client that passes an acknowledgement
//! callback hears how its event went (`{ok:true, …}` / `{ok:false, error}`).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use socketioxide::handler::FromMessageParts;
use socketioxide::socket::Socket;
use tokio::sync::oneshot;

use super::core::{
    self, ChannelRef, Ctx, Dialect, Identity, answer, fail, guest_sender, ok, user_sender,
};
use crate::store::messages::NewMessage;

/// The longest nickname a guest may give (as `/user/create`'s).
const MAX_NICKNAME: usize = 50;
/// Arguments past these are ignored.
const MAX_ARGS: usize = 4;

pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("getMessage", get_message::<A>);
    socket.on("enterChannel", enter_channel::<A>);
}

/// This dialect's events of one socket, handled one after another in the order they came.
/// The original's clients emit `enterChannel` and then at once `getMessage`, with no
/// acknowledgement in between, and expect the message in the new channel; socketioxide runs
/// every event's handler as a task of its own, so without this they could race.
#[derive(Clone, Default)]
struct Chain(Arc<Mutex<Option<oneshot::Receiver<()>>>>);

/// An event's place in its socket's `Chain`: taken in arrival order (extractors run before the
/// handler's task is spawned), waited for before the handler does anything, given up when
/// the handler ends (or fails) so that the next event goes on.
struct Turn {
    before: Option<oneshot::Receiver<()>>,
    _done: oneshot::Sender<()>,
}

impl<A: Adapter> FromMessageParts<A> for Turn {
    type Error = std::convert::Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        _: &mut socketioxide::handler::Value,
        _: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        let chain = s.extensions.get::<Chain>().unwrap_or_else(|| {
            let chain = Chain::default();
            s.extensions.insert(chain.clone());
            chain
        });
        let (done, next) = oneshot::channel();
        let before = match chain.0.lock() {
            Ok(mut last) => last.replace(next),
            Err(_) => None,
        };
        Ok(Turn {
            before,
            _done: done,
        })
    }
}

impl Turn {
    async fn wait(&mut self) {
        if let Some(before) = self.before.take() {
            // An error only means the event before ended without a word: go on.
            let _ = before.await;
        }
    }
}

/// The channel whose room the socket is in now (the lobby until it enters another).
#[derive(Clone, Copy)]
struct Current(i64);

/// An event's positional arguments. The original's events take two plain arguments, not an
/// object; a few more are read and dropped.
type Args = core::Args<MAX_ARGS>;

fn current<A: Adapter>(socket: &SocketRef<A>, ctx: &Ctx) -> i64 {
    socket
        .extensions
        .get::<Current>()
        .map_or(ctx.app.lobby_id, |c| c.0)
}

/// Who is speaking: the account of the token, or a guest by the nickname it gave.
fn speaker<A: Adapter>(
    socket: &SocketRef<A>,
    nickname: Option<&Value>,
) -> Result<(Option<i64>, String, String), String> {
    if let Some(Identity::User { id, username }) = socket.extensions.get::<Identity>() {
        return Ok((Some(id), username, user_sender(id)));
    }
    match nickname {
        Some(Value::String(n)) if !n.trim().is_empty() => {
            let n = n.trim();
            if n.chars().count() > MAX_NICKNAME {
                return Err(format!("nickname is longer than {MAX_NICKNAME} characters"));
            }
            Ok((None, n.to_string(), guest_sender(n)))
        }
        Some(Value::String(_)) | None => Err("nickname is required (the second argument)".into()),
        Some(_) => Err("nickname must be a string".into()),
    }
}

async fn get_message<A: Adapter>(
    mut turn: Turn,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    TryData(args): TryData<Args>,
    ack: AckSender<A>,
) {
    turn.wait().await;
    core::speaks(&socket, Dialect::Friend);
    let result = async {
        let args = args.map_err(|e| format!("malformed arguments: {e}"))?.0;
        let text = core::message_text(args.first(), ctx.app.config.realtime.max_message_chars)?;
        let (user_id, nickname, sender) = speaker(&socket, args.get(1))?;
        core::check_rate(&socket, &ctx)?;
        let channel = current(&socket, &ctx);
        let room = ctx.friend_room(channel);
        if channel != ctx.app.lobby_id && !socket.rooms().iter().any(|r| *r == room) {
            // Only deleting the channel empties its room (on any instance): back to the lobby.
            return Err(back_to_lobby(&socket, &ctx, channel));
        }
        // The lobby's room again if another dialect's first event took the socket out of it.
        socket.join(room);
        let posted = core::post(
            &io,
            &ctx,
            &socket,
            NewMessage {
                channel_id: channel,
                user_id,
                nickname,
                text,
                sender,
                client_id: None,
            },
        )
        .await;
        let appended = match posted {
            Err(e) if e == core::UNKNOWN_CHANNEL && channel != ctx.app.lobby_id => {
                return Err(back_to_lobby(&socket, &ctx, channel));
            }
            other => other?,
        };
        let m = appended.message;
        Ok(json!({ "id": m.id, "seq": m.seq, "date": m.created_iso() }))
    }
    .await;
    reply(ack, result);
    drop(turn);
}

async fn enter_channel<A: Adapter>(
    mut turn: Turn,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    State(admin): State<super::admin::AdminState>,
    TryData(args): TryData<Args>,
    ack: AckSender<A>,
) {
    turn.wait().await;
    core::speaks(&socket, Dialect::Friend);
    let result = async {
        let args = args.map_err(|e| format!("malformed arguments: {e}"))?.0;
        let room_id = match args.first() {
            Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
            _ => return Err("roomId (a channel's uuid, or room:lobby) is required".to_string()),
        };
        // The same resolution (and uuid cache) as the channel dialect's channelId.
        let channel = core::resolve(&ctx, &ChannelRef::Uuid(room_id.clone())).await?;
        let before = current(&socket, &ctx);
        let room = ctx.friend_room(channel);
        if before == channel && socket.rooms().iter().any(|r| *r == room) {
            return Ok(json!({ "roomId": room_id }));
        }
        core::check_presence(&socket)?;
        let old = ctx.friend_room(before);
        super::admin::room_changed(&admin, &socket, &old, false);
        super::admin::room_changed(&admin, &socket, &room, true);
        socket.leave(old);
        socket.join(room);
        socket.extensions.insert(Current(channel));
        if let Some(Identity::User { id, username }) = socket.extensions.get::<Identity>() {
            if before != channel && !core::online_users(&io, &ctx, before).await.contains(&id) {
                core::announce(&socket, &ctx, before, id, &username, "leave").await;
            }
            core::announce(&socket, &ctx, channel, id, &username, "join").await;
        }
        Ok(json!({ "roomId": room_id }))
    }
    .await;
    reply(ack, result);
    drop(turn);
}

/// The socket's channel was deleted under it: it is in the lobby again.
fn back_to_lobby<A: Adapter>(socket: &SocketRef<A>, ctx: &Ctx, gone: i64) -> String {
    socket.leave(ctx.friend_room(gone));
    socket.join(ctx.friend_room(ctx.app.lobby_id));
    socket.extensions.insert(Current(ctx.app.lobby_id));
    "the channel was deleted; you are back in the lobby".to_string()
}

fn reply<A: Adapter>(ack: AckSender<A>, result: Result<Value, String>) {
    answer(
        ack,
        &match result {
            Ok(v) => ok(v),
            Err(e) => fail(e),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read_positionally_and_bounded() {
        let args: Args = serde_json::from_str(r#"["hi", "nick", 3, 4, 5, 6]"#).unwrap();
        assert_eq!(args.0, vec![json!("hi"), json!("nick"), json!(3), json!(4)]);
        let one: Args = serde_json::from_str(r#"["hi"]"#).unwrap();
        assert_eq!(one.0, vec![json!("hi")]);
    }
}
