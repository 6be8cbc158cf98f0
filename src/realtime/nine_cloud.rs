//! The NINE Cloud community chat, byte-compatible with the original (contract §5.3):
//! `login(name, ack)` → broadcast system join `message`, then `{ok:true, data:UserDoc}`;
//! `sendMessage(text, ack)` → store in the lobby, broadcast `message` `{_id, chat, user:{id,name}, __v}`,
//! then `{ok:true}`; on disconnect a system leave `message`.
//!
//! The original kept a Mongo `User` per display name with the socket id as its `token`; here the
//! user's `_id` is derived from the name (the same name always gets the same id, as "find or
//! create by name" did) and the login lives with the socket.

use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use super::core::{
    self, Ctx, Dialect, Identity, LEGACY_ROOM, answer, fail, guest_sender, hex_id, user_sender,
};
use crate::store::messages::NewMessage;

/// Longest display name accepted by `login` (the front end's are about 50 characters).
const MAX_NAME_CHARS: usize = 200;

/// Who this socket said it is with `login`.
#[derive(Clone)]
struct LegacyLogin {
    name: String,
    sender: String,
    user_id: Option<i64>,
}

pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("login", login::<A>);
    socket.on("sendMessage", send_message::<A>);
}

/// What the chat shows of a name: the part before the first dot.
fn display_part(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The room a logged-in name holds, so that names in use are known on every instance.
fn name_room(name: &str) -> String {
    format!("name:{name}")
}

/// `name`, or, when another socket (on any instance) holds it, `name (2)`, `name (3)`, …
async fn unique_name<A: Adapter>(io: &SocketIo<A>, name: String, mine: Option<&str>) -> String {
    let taken: std::collections::HashSet<String> = match io.to(LEGACY_ROOM).rooms().await {
        Ok(rooms) => rooms
            .iter()
            .filter_map(|r| r.strip_prefix("name:"))
            .filter(|n| Some(*n) != mine)
            .map(str::to_string)
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not list the chat's names");
            Default::default()
        }
    };
    if !taken.contains(&name) {
        return name;
    }
    (2..)
        .map(|n| format!("{name} ({n})"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(name)
}

/// The system message: `{chat, user:{id:null, name:"system"}}`, with no `_id` (as the original).
fn system_message(name: &str, verb: &str) -> Value {
    let short = display_part(name);
    json!({
        "chat": format!("{short} has {verb} the chat room"),
        "user": { "id": null, "name": "system" },
    })
}

async fn login<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    TryData(name): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::NineCloud);
    let name = match name {
        Ok(Value::String(s)) if !s.trim().is_empty() => s,
        // mongoose's message for the original's required `name`.
        _ => return answer(ack, &fail("User must type name")),
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return answer(
            ack,
            &fail(format!("name is longer than {MAX_NAME_CHARS} characters")),
        );
    }
    // The front end draws messages from "system" as the server's own.
    if display_part(&name).trim().eq_ignore_ascii_case("system") {
        return answer(ack, &fail("the name \"system\" is reserved"));
    }
    let previous = socket.extensions.get::<LegacyLogin>().map(|l| l.name);
    let name = unique_name(&io, name, previous.as_deref()).await;
    let (sender, user_id) = match socket
        .extensions
        .get::<Identity>()
        .and_then(|i| i.user().map(|(id, _)| id))
    {
        Some(id) => (user_sender(id), Some(id)),
        None => (guest_sender(&name), None),
    };
    let user_doc = json!({
        "_id": hex_id(&sender),
        "name": name,
        "token": socket.id.to_string(),
        "online": true,
        "__v": 0,
    });
    core::send_as_guest(&socket, &name);
    socket.extensions.insert(LegacyLogin {
        name: name.clone(),
        sender,
        user_id,
    });
    if let Some(old) = previous {
        socket.leave(name_room(&old));
    }
    socket.join([LEGACY_ROOM.to_string(), name_room(&name)]);
    // The original broadcast the join before answering.
    core::emit_to(
        &io,
        &ctx,
        LEGACY_ROOM.to_string(),
        "message",
        &system_message(&name, "joined"),
    )
    .await;
    answer(ack, &json!({ "ok": true, "data": user_doc }));
}

async fn send_message<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    TryData(text): TryData<Value>,
    ack: AckSender<A>,
) {
    core::speaks(&socket, Dialect::NineCloud);
    let Some(who) = socket.extensions.get::<LegacyLogin>() else {
        return answer(
            ack,
            &fail("send 'login' with your name before 'sendMessage'"),
        );
    };
    let text = match core::message_text(
        text.ok().as_ref(),
        ctx.app.config.realtime.max_message_chars,
    ) {
        Ok(t) => t,
        Err(e) => return answer(ack, &fail(e)),
    };
    if let Err(e) = core::check_rate(&socket, &ctx) {
        return answer(ack, &fail(e));
    }
    let new = NewMessage {
        channel_id: ctx.app.lobby_id,
        user_id: who.user_id,
        nickname: who.name,
        text,
        sender: who.sender,
        client_id: None,
    };
    match core::post(&io, &ctx, &socket, new).await {
        Ok(_) => answer(ack, &json!({ "ok": true })),
        Err(e) => answer(ack, &fail(e)),
    }
}

pub async fn on_disconnect<A: Adapter>(socket: &SocketRef<A>, ctx: &Ctx) {
    if let Some(who) = socket.extensions.get::<LegacyLogin>() {
        let left = system_message(&who.name, "left");
        core::broadcast(socket.to(LEGACY_ROOM), ctx, LEGACY_ROOM, "message", &left).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_messages_use_the_name_up_to_the_first_dot() {
        assert_eq!(
            system_message("행복한 구름. 3f2c-aa", "joined"),
            json!({"chat": "행복한 구름 has joined the chat room", "user": {"id": null, "name": "system"}})
        );
        assert_eq!(
            system_message("plain", "left")["chat"],
            "plain has left the chat room"
        );
    }
}
