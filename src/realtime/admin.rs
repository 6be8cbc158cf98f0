//! The server side of the Socket.IO Admin UI (`@socket.io/admin-ui`, protocol 0.5): the
//! `/admin` namespace that the hosted UI (https://admin.socket.io) or a self-hosted copy of it
//! connects to. Off unless `ADMIN_USERNAME` and `ADMIN_PASSWORD_HASH` are set.
//!
//! What the Node instrument does, and how it is done here:
//! - Login with the username and a bcrypt hash; the session id handed out is a token signed
//!   with `SECRET_KEY` (not an entry in a store), so every instance sharing the secret accepts
//!   it, with or without Redis. Logins are limited per client address (bcrypt is slow on
//!   purpose); a wrong one is refused with `invalid credentials`, the text the UI looks for.
//! - `server_stats` every 2 s from every instance, to every admin socket on any instance (the
//!   adapter carries it, Redis included): server id, host, pid, uptime, Engine.IO sessions,
//!   of which long-polling, namespaces with their local socket counts, and connections and
//!   disconnections per second (`aggregatedEvents`).
//! - The commands `emit`, `join`, `leave`, `_disconnect` on a namespace, a room, or one socket
//!   by id (the UI's "filter"), on whichever instance the sockets are.
//! - Development mode (`ADMIN_MODE=development`): the socket list on login (`all_sockets`),
//!   and live `socket_connected`, `socket_disconnected`, `room_joined`, `room_left`.
//!   socketioxide has no catch-all listener, so `event_received` / `event_sent` (every event's
//!   payload) are not sent; production mode sends statistics only, as in Node.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::socket::{DisconnectReason, Sid};
use socketioxide::{SendError, TransportType};

use super::auth::Refused;
use super::core::{Ctx, Identity, Spread};
use crate::config::AdminConfig;
use crate::net::{Slots, TrustedProxies};

/// The namespace, as the UI expects by default.
pub const NAMESPACE: &str = "/admin";
/// The text the UI recognises as a refused login (it shows "Invalid credentials").
const INVALID: &str = "invalid credentials";
/// Arguments an `emit` command may carry.
const MAX_ARGS: usize = 32;
/// Sockets listed in `all_sockets`; beyond this the list says how many were left out.
const MAX_LISTED: usize = 10_000;
/// Live events waiting to be broadcast to the admin namespace; beyond this they are dropped
/// (they are informational, and nothing on the chat path waits for them).
const LIVE_QUEUE: usize = 4096;
/// When a long-polling socket's transport is looked at again (development mode).
const UPGRADE_LOOK: Duration = Duration::from_secs(2);
/// A queued instruction, not an event: look at a socket's transport again after UPGRADE_LOOK.
const CHECK_UPGRADE: &str = "check upgrade";

/// An Engine.IO connection's id as the UI shows it ("client"), given to the handshake request
/// by `socket_gate`; every namespace socket of one connection carries the same.
#[derive(Clone, Debug)]
pub struct ClientId(pub Arc<str>);

impl ClientId {
    pub fn new() -> Self {
        ClientId(hex::encode(rand::random::<[u8; 6]>()).into())
    }
}

impl Default for ClientId {
    fn default() -> Self {
        Self::new()
    }
}

/// A live event for the admin namespace: its name and its arguments (an array).
pub type LiveEvent = (&'static str, Value);
/// Connections and disconnections counted per second: (second in ms, type, reason).
type EventKey = (i64, &'static str, Option<&'static str>);

/// The Admin UI in the socket handlers' state (socketioxide keeps one value per type);
/// `None` when it is off.
#[derive(Clone, Default)]
pub struct AdminState(pub Option<Arc<Admin>>);

/// The session id a login earned, sent once the socket is connected.
#[derive(Clone)]
struct NewSession(String);

pub struct Admin {
    cfg: AdminConfig,
    server_id: String,
    hostname: String,
    started: Instant,
    /// Ties session ids to the password hash of the day.
    fingerprint: String,
    logins: DefaultKeyedRateLimiter<IpAddr>,
    /// Connections and disconnections per second since the last `server_stats`.
    events: Mutex<HashMap<EventKey, u64>>,
    /// Engine.IO sessions on this instance (the gate's places).
    sessions: Arc<Slots>,
    proxies: TrustedProxies,
    live: Option<tokio::sync::mpsc::Sender<LiveEvent>>,
}

impl Admin {
    /// With `live` (development mode) the receiver is handed to `start`.
    pub fn new(
        cfg: AdminConfig,
        instance_name: Option<&str>,
        sessions: Arc<Slots>,
        proxies: TrustedProxies,
    ) -> (Arc<Self>, Option<tokio::sync::mpsc::Receiver<LiveEvent>>) {
        let hostname = rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned();
        let pid = std::process::id();
        let server_id = cfg
            .server_id
            .clone()
            .or_else(|| instance_name.map(str::to_string))
            .unwrap_or_else(|| format!("{hostname}#{pid}"));
        let fingerprint = hex::encode(&Sha256::digest(cfg.password_hash.as_bytes())[..8]);
        let per_minute = NonZeroU32::new(cfg.login_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        let (tx, rx) = if cfg.development {
            let (tx, rx) = tokio::sync::mpsc::channel(LIVE_QUEUE);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let admin = Admin {
            server_id,
            hostname,
            started: Instant::now(),
            fingerprint,
            logins: RateLimiter::keyed(Quota::per_minute(per_minute)),
            events: Mutex::new(HashMap::new()),
            sessions,
            proxies,
            live: tx,
            cfg,
        };
        (Arc::new(admin), rx)
    }

    pub fn development(&self) -> bool {
        self.cfg.development
    }

    pub fn ui_origins(&self) -> &[String] {
        &self.cfg.ui_origins
    }

    fn features(&self) -> Vec<&'static str> {
        let mut f = if self.cfg.readonly {
            vec![]
        } else {
            vec![
                "EMIT",
                "JOIN",
                "LEAVE",
                "DISCONNECT",
                "MJOIN",
                "MLEAVE",
                "MDISCONNECT",
            ]
        };
        f.push("AGGREGATED_EVENTS");
        if self.cfg.development {
            f.push("ALL_EVENTS");
        }
        f
    }

    /// Counts a connection (`rawConnection`) or a disconnection (`rawDisconnection`, with its
    /// reason) in the current second.
    fn record(&self, kind: &'static str, sub: Option<&'static str>) {
        let second = chrono::Utc::now().timestamp() * 1000;
        if let Ok(mut events) = self.events.lock() {
            *events.entry((second, kind, sub)).or_default() += 1;
        }
    }

    fn take_events(&self) -> Vec<Value> {
        let drained: Vec<_> = match self.events.lock() {
            Ok(mut events) => events.drain().collect(),
            Err(_) => return vec![],
        };
        drained
            .into_iter()
            .map(|((timestamp, kind, sub), count)| {
                let mut e = json!({ "timestamp": timestamp, "type": kind, "count": count });
                if let Some(sub) = sub {
                    e["subType"] = json!(sub);
                }
                e
            })
            .collect()
    }

    /// Queues a live event for every admin socket (development mode only).
    fn send_live(&self, event: &'static str, payload: Value) {
        if let Some(tx) = &self.live
            && tx.try_send((event, payload)).is_err()
        {
            tracing::debug!(event, "admin live event dropped: the queue is full");
        }
    }
}

/// The reasons the Node server gives, which the UI and its users know.
pub fn node_reason(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport close",
        DisconnectReason::MultipleHttpPollingError | DisconnectReason::PacketParsingError => {
            "parse error"
        }
        DisconnectReason::TransportError => "transport error",
        DisconnectReason::HeartbeatTimeout => "ping timeout",
        DisconnectReason::ClientNSDisconnect => "client namespace disconnect",
        DisconnectReason::ServerNSDisconnect => "server namespace disconnect",
        DisconnectReason::ClosingServer => "server shutting down",
    }
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A socket connected to a namespace (`/` or `/admin`): counted, and shown live.
pub fn connected<A: Adapter>(admin: &AdminState, socket: &SocketRef<A>) {
    let Some(admin) = &admin.0 else { return };
    admin.record("rawConnection", None);
    if admin.live.is_some() {
        admin.send_live(
            "socket_connected",
            json!([serialize_local(admin, socket), now_iso()]),
        );
        if socket.transport_type() == TransportType::Polling {
            // socket.io-client upgrades to WebSocket within its first round trips; there is no
            // upgrade hook to listen on, so `live_loop` looks once a little later (by id: a
            // socket held here would keep its session's place after it closed).
            admin.send_live(CHECK_UPGRADE, json!([socket.ns(), socket.id.to_string()]));
        }
    }
}

pub fn disconnected<A: Adapter>(
    admin: &AdminState,
    socket: &SocketRef<A>,
    reason: DisconnectReason,
) {
    let Some(admin) = &admin.0 else { return };
    let reason = node_reason(reason);
    admin.record("rawDisconnection", Some(reason));
    if admin.live.is_some() {
        admin.send_live(
            "socket_disconnected",
            json!([socket.ns(), socket.id.to_string(), reason, now_iso()]),
        );
    }
}

/// A socket joined (`joined = true`) or left a room (development mode: shown live).
pub fn room_changed<A: Adapter>(
    admin: &AdminState,
    socket: &SocketRef<A>,
    room: &str,
    joined: bool,
) {
    let Some(admin) = &admin.0 else { return };
    if admin.live.is_some() {
        admin.send_live(
            if joined { "room_joined" } else { "room_left" },
            json!([socket.ns(), room, socket.id.to_string(), now_iso()]),
        );
    }
}

/// Everything of a local socket the UI shows. The `authorization` and `cookie` headers are
/// left out: they are the users' credentials, which an administrator has no need to read.
fn serialize_local<A: Adapter>(admin: &Admin, socket: &SocketRef<A>) -> Value {
    let parts = socket.req_parts();
    let client = parts
        .extensions
        .get::<ClientId>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| socket.id.to_string().chars().take(12).collect());
    let mut headers = serde_json::Map::new();
    for (name, value) in &parts.headers {
        if name == axum::http::header::AUTHORIZATION || name == axum::http::header::COOKIE {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(first)) => {
                first.push_str(", ");
                first.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    let query: serde_json::Map<String, Value> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "token")
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect()
        })
        .unwrap_or_default();
    let handshake = parts.extensions.get::<Handshake>();
    let data = match socket.extensions.get::<Identity>() {
        Some(Identity::User { id, username }) => json!({ "userId": id, "username": username }),
        Some(Identity::Guest) => json!({ "guest": true }),
        None => json!({}),
    };
    json!({
        "id": socket.id.to_string(),
        "clientId": client,
        "transport": transport_name(socket.transport_type()),
        "nsp": socket.ns(),
        "data": data,
        "handshake": {
            "address": crate::net::client_ip(parts, &admin.proxies).to_string(),
            "headers": headers,
            "query": query,
            "issued": handshake.map(|h| h.issued_ms),
            "time": handshake.map(|h| h.time.clone()),
            "secure": parts.headers.get("x-forwarded-proto").is_some_and(|p| p == "https"),
            "url": parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"),
            "xdomain": parts.headers.contains_key(axum::http::header::ORIGIN),
        },
        "rooms": socket.rooms().iter().map(|r| r.to_string()).collect::<Vec<_>>(),
    })
}

/// When the Engine.IO connection was opened, kept with the handshake request by `socket_gate`.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub issued_ms: i64,
    pub time: String,
}

impl Handshake {
    pub fn now() -> Self {
        let now = chrono::Utc::now();
        Handshake {
            issued_ms: now.timestamp_millis(),
            time: now.to_rfc2822(),
        }
    }
}

fn transport_name(t: TransportType) -> &'static str {
    match t {
        TransportType::Polling => "polling",
        TransportType::Websocket => "websocket",
    }
}

/// Connect middleware of `/admin`: a session id from an earlier login, or the username and
/// password. Registers the commands before the client hears it is connected.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    State(ctx): State<Ctx>,
    State(AdminState(admin)): State<AdminState>,
    TryData(auth): TryData<Value>,
) -> Result<(), Refused> {
    let refused = || Refused(INVALID.into());
    let Some(admin) = admin else {
        return Err(refused());
    };
    let auth = auth.unwrap_or(Value::Null);
    let text = |key: &str| auth.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(session) = text("sessionId")
        && ctx
            .app
            .tokens
            .verify_admin_session(&session, &admin.fingerprint)
    {
        register(&socket, &admin);
        return Ok(());
    }
    let (Some(username), Some(password)) = (text("username"), text("password")) else {
        return Err(refused());
    };
    let ip = crate::net::client_ip(socket.req_parts(), &admin.proxies);
    if admin.logins.check_key(&ip).is_err() {
        crate::telemetry::rate_limited("admin_login");
        return Err(Refused(
            "too many login attempts from this address; wait a minute".into(),
        ));
    }
    // bcrypt reads 72 bytes at most; a longer password is no password of ours.
    if username != admin.cfg.username || password.len() > 72 {
        return Err(refused());
    }
    let hash = admin.cfg.password_hash.clone();
    let matches = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    if !matches {
        tracing::warn!(%ip, "Admin UI login refused: wrong password");
        return Err(refused());
    }
    tracing::info!(%ip, "Admin UI login");
    let session = ctx
        .app
        .tokens
        .issue_admin_session(&admin.fingerprint, admin.cfg.session_ttl);
    socket.extensions.insert(NewSession(session));
    register(&socket, &admin);
    Ok(())
}

fn register<A: Adapter>(socket: &SocketRef<A>, admin: &Admin) {
    if admin.cfg.readonly {
        return;
    }
    socket.on("emit", on_emit::<A>);
    socket.on("join", on_join::<A>);
    socket.on("leave", on_leave::<A>);
    socket.on("_disconnect", on_disconnect_command::<A>);
}

/// After CONNECT: the session id (after a login), the features, and in development mode the
/// socket list.
pub async fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(state): State<AdminState>,
) {
    let Some(admin) = state.0.clone() else {
        return;
    };
    connected(&state, &socket);
    socket.on_disconnect(
        |socket: SocketRef<A>, State(state): State<AdminState>, reason: DisconnectReason| async move {
            disconnected(&state, &socket, reason);
        },
    );
    if let Some(NewSession(session)) = socket.extensions.get::<NewSession>() {
        let _ = socket.emit("session", &session);
    }
    let _ = socket.emit("config", &json!({ "supportedFeatures": admin.features() }));
    if admin.development() {
        let list = all_sockets(&io, &admin).await;
        let _ = socket.emit("all_sockets", &list);
    }
}

/// Every socket of every namespace, on every instance: this instance's in full, the others'
/// (through the adapter) with their id, namespace and rooms.
async fn all_sockets<A: Adapter>(io: &SocketIo<A>, admin: &Admin) -> Vec<Value> {
    let mut list = Vec::new();
    for ns in io.nsps() {
        let local = ns.clone().sockets();
        let here: HashSet<Sid> = local.iter().map(|s| s.id).collect();
        list.extend(
            local
                .iter()
                .take(MAX_LISTED.saturating_sub(list.len()))
                .map(|s| serialize_local(admin, s)),
        );
        let path = ns.ns_path().to_string();
        crate::telemetry::adapter_request("fetch_sockets");
        let all = match ns.fetch_sockets().await {
            Ok(all) => all,
            Err(e) => {
                crate::telemetry::adapter_error("fetch_sockets");
                tracing::warn!(error = %e, "Admin UI: could not list other instances' sockets");
                continue;
            }
        };
        let remote: Vec<_> = all
            .into_iter()
            .filter(|s| !here.contains(&s.data().id))
            .take(MAX_LISTED.saturating_sub(list.len()))
            .collect();
        let described: Vec<Value> = futures::stream::iter(remote)
            .map(|s| {
                let path = path.clone();
                async move {
                    let rooms: Vec<String> = s
                        .rooms()
                        .await
                        .map(|r| r.iter().map(|r| r.to_string()).collect())
                        .unwrap_or_default();
                    let id = s.data().id.to_string();
                    json!({
                        "id": id,
                        "clientId": id.chars().take(12).collect::<String>(),
                        "transport": "unknown",
                        "nsp": path,
                        "data": { "server": s.data().server_id.to_string() },
                        "handshake": {},
                        "rooms": rooms,
                    })
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        list.extend(described);
    }
    list
}

/// Statistics every 2 s to every admin socket, on every instance, until the server drains.
pub async fn stats_loop<A: Adapter>(io: SocketIo<A>, ctx: Ctx, admin: Arc<Admin>) {
    let mut every = tokio::time::interval(Duration::from_secs(2));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    loop {
        every.tick().await;
        if ctx.app.is_draining() {
            break;
        }
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(30) {
            // Addresses whose login budget is whole again are forgotten (once a minute).
            admin.logins.retain_recent();
            admin.logins.shrink_to_fit();
        }
        let Some(to_admins) = io.of(NAMESPACE) else {
            break;
        };
        let mut namespaces = Vec::new();
        let mut polling: HashSet<Arc<str>> = HashSet::new();
        for ns in io.nsps() {
            let name = ns.ns_path().to_string();
            let sockets = ns.sockets();
            for s in &sockets {
                if s.transport_type() == TransportType::Polling
                    && let Some(c) = s.req_parts().extensions.get::<ClientId>()
                {
                    polling.insert(c.0.clone());
                }
            }
            namespaces.push(json!({ "name": name, "socketsCount": sockets.len() }));
        }
        let stats = json!({
            "serverId": admin.server_id,
            "hostname": admin.hostname,
            "pid": std::process::id(),
            "uptime": admin.started.elapsed().as_secs_f64(),
            "clientsCount": admin.sessions.held(),
            "pollingClientsCount": polling.len(),
            "aggregatedEvents": admin.take_events(),
            "namespaces": namespaces,
        });
        if let Err(e) = to_admins.emit("server_stats", &stats).await {
            tracing::debug!(error = %e, "server_stats not delivered to every admin socket");
        }
    }
}

/// Broadcasts the live events queued by `connected`, `disconnected` and `room_changed`.
pub async fn live_loop<A: Adapter>(
    io: SocketIo<A>,
    mut rx: tokio::sync::mpsc::Receiver<LiveEvent>,
) {
    while let Some((event, payload)) = rx.recv().await {
        let Some(to_admins) = io.of(NAMESPACE) else {
            break;
        };
        if event == CHECK_UPGRADE {
            let io = io.clone();
            tokio::spawn(async move {
                tokio::time::sleep(UPGRADE_LOOK).await;
                let fields = payload.as_array().map(Vec::as_slice).unwrap_or_default();
                let (Some(ns), Some(id)) = (text_at(fields, 0), text_at(fields, 1)) else {
                    return;
                };
                let socket = io
                    .of(ns)
                    .zip(id.parse::<Sid>().ok())
                    .and_then(|(ops, sid)| ops.get_socket(sid));
                let Some(socket) = socket else { return };
                if socket.transport_type() == TransportType::Websocket
                    && let Some(to_admins) = io.of(NAMESPACE)
                {
                    let update = json!({ "id": id, "nsp": ns, "transport": "websocket" });
                    drop(socket);
                    if let Err(e) = to_admins.emit("socket_updated", &update).await {
                        tracing::debug!(error = %e, "admin live event not delivered");
                    }
                }
            });
            continue;
        }
        let args = match &payload {
            Value::Array(args) => Spread(args),
            other => Spread(std::slice::from_ref(other)),
        };
        if let Err(e) = to_admins.emit(event, &args).await {
            tracing::debug!(error = %e, "admin live event not delivered");
        }
    }
}

/// A command's arguments (`core::Args`), refused whole when there are more than `MAX_ARGS`;
/// emitted again as separate arguments.
#[derive(Debug, Default)]
pub struct Args(pub Vec<Value>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Spread(&self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match super::core::Args::<MAX_ARGS>::deserialize(d)? {
            super::core::Args(args, false) => Ok(Args(args)),
            _ => Err(serde::de::Error::custom(format!(
                "more than {MAX_ARGS} arguments"
            ))),
        }
    }
}

/// Which sockets a command acts on: the UI's filter is a room name or a socket id.
enum Target<A: Adapter> {
    All(socketioxide::operators::BroadcastOperators<A>),
    Room(socketioxide::operators::BroadcastOperators<A>, String),
    Local(SocketRef<A>),
    Remote(socketioxide::socket::RemoteSocket<A>),
}

async fn target<A: Adapter>(
    io: &SocketIo<A>,
    nsp: &str,
    filter: Option<&str>,
) -> Option<Target<A>> {
    let Some(ops) = io.of(nsp) else {
        tracing::debug!(nsp, "Admin UI command for a namespace that does not exist");
        return None;
    };
    let Some(filter) = filter.filter(|f| !f.is_empty()) else {
        return Some(Target::All(ops));
    };
    if let Ok(sid) = filter.parse::<Sid>() {
        if let Some(socket) = ops.get_socket(sid) {
            return Some(Target::Local(socket));
        }
        crate::telemetry::adapter_request("fetch_sockets");
        match ops.clone().fetch_sockets().await {
            Ok(all) => {
                if let Some(remote) = all.into_iter().find(|s| s.data().id == sid) {
                    return Some(Target::Remote(remote));
                }
            }
            Err(e) => {
                crate::telemetry::adapter_error("fetch_sockets");
                tracing::warn!(error = %e, "Admin UI: could not look for a socket on other instances");
            }
        }
    }
    Some(Target::Room(ops, filter.to_string()))
}

fn text_at(args: &[Value], i: usize) -> Option<&str> {
    args.get(i).and_then(Value::as_str)
}

/// Event names a Socket.IO client keeps for itself.
const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// `emit(nsp, filter, event, ...args)`
async fn on_emit<A: Adapter>(io: SocketIo<A>, TryData(args): TryData<Args>) {
    let Ok(Args(args)) = args else { return };
    let (Some(nsp), Some(event)) = (text_at(&args, 0), text_at(&args, 2)) else {
        return;
    };
    if event.is_empty() || event.len() > 256 || RESERVED.contains(&event) {
        tracing::debug!(
            event,
            "Admin UI emit refused: not an event a client can receive"
        );
        return;
    }
    let payload = Spread(&args[3..]);
    let Some(target) = target(&io, nsp, text_at(&args, 1)).await else {
        return;
    };
    let result: Result<(), String> = match target {
        Target::All(ops) => ops.emit(event, &payload).await.map_err(|e| e.to_string()),
        Target::Room(ops, room) => ops
            .to(room)
            .emit(event, &payload)
            .await
            .map_err(|e| e.to_string()),
        Target::Local(s) => s
            .emit(event, &payload)
            .map_err(|e: SendError| e.to_string()),
        Target::Remote(s) => s.emit(event, &payload).await.map_err(|e| e.to_string()),
    };
    if let Err(e) = result {
        tracing::debug!(event, error = %e, "Admin UI emit not delivered everywhere");
    }
}

/// `join(nsp, room, filter?)` / `leave(nsp, room, filter?)`
async fn room_command<A: Adapter>(
    io: SocketIo<A>,
    admin: AdminState,
    args: Vec<Value>,
    join: bool,
) {
    let (Some(nsp), Some(room)) = (text_at(&args, 0), text_at(&args, 1)) else {
        return;
    };
    if room.is_empty() || room.len() > 256 {
        return;
    }
    let room = room.to_string();
    let Some(target) = target(&io, nsp, text_at(&args, 2)).await else {
        return;
    };
    let result: Result<(), String> = match (target, join) {
        (Target::All(ops), true) => ops.join(room.clone()).await.map_err(|e| e.to_string()),
        (Target::All(ops), false) => ops.leave(room.clone()).await.map_err(|e| e.to_string()),
        (Target::Room(ops, f), true) => ops
            .within(f)
            .join(room.clone())
            .await
            .map_err(|e| e.to_string()),
        (Target::Room(ops, f), false) => ops
            .within(f)
            .leave(room.clone())
            .await
            .map_err(|e| e.to_string()),
        (Target::Local(s), true) => {
            s.join(room.clone());
            room_changed(&admin, &s, &room, true);
            Ok(())
        }
        (Target::Local(s), false) => {
            s.leave(room.clone());
            room_changed(&admin, &s, &room, false);
            Ok(())
        }
        (Target::Remote(s), true) => s.join(room.clone()).await.map_err(|e| e.to_string()),
        (Target::Remote(s), false) => s.leave(room.clone()).await.map_err(|e| e.to_string()),
    };
    if let Err(e) = result {
        tracing::warn!(room, error = %e, "Admin UI room command failed");
    }
}

async fn on_join<A: Adapter>(
    io: SocketIo<A>,
    State(admin): State<AdminState>,
    TryData(args): TryData<Args>,
) {
    if let Ok(Args(args)) = args {
        room_command(io, admin, args, true).await;
    }
}

async fn on_leave<A: Adapter>(
    io: SocketIo<A>,
    State(admin): State<AdminState>,
    TryData(args): TryData<Args>,
) {
    if let Ok(Args(args)) = args {
        room_command(io, admin, args, false).await;
    }
}

/// `_disconnect(nsp, close, filter?)`. `close`: the whole connection, every namespace of it
/// (the UI's "disconnect client"), not only this namespace's socket.
async fn on_disconnect_command<A: Adapter>(io: SocketIo<A>, TryData(args): TryData<Args>) {
    let Ok(Args(args)) = args else { return };
    let Some(nsp) = text_at(&args, 0) else { return };
    let close = args.get(1).and_then(Value::as_bool).unwrap_or(false);
    let Some(target) = target(&io, nsp, text_at(&args, 2)).await else {
        return;
    };
    let result: Result<(), String> = match target {
        Target::All(ops) => ops.disconnect().await.map_err(|e| e.to_string()),
        Target::Room(ops, room) => ops
            .within(room)
            .disconnect()
            .await
            .map_err(|e| e.to_string()),
        Target::Local(s) => {
            let client = s.req_parts().extensions.get::<ClientId>().cloned();
            let first = s.id;
            let mut sockets = vec![s];
            if close && let Some(ClientId(client)) = client {
                for ns in io.nsps() {
                    sockets.extend(ns.sockets().into_iter().filter(|o| {
                        o.id != first
                            && o.req_parts()
                                .extensions
                                .get::<ClientId>()
                                .is_some_and(|c| c.0 == client)
                    }));
                }
            }
            sockets
                .into_iter()
                .try_for_each(|s| s.disconnect())
                .map_err(|e| e.to_string())
        }
        Target::Remote(s) => s.disconnect().await.map_err(|e| e.to_string()),
    };
    if let Err(e) = result {
        tracing::warn!(nsp, error = %e, "Admin UI disconnect failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_spread_and_gather() {
        let args: Args = serde_json::from_value(json!(["/", null, "hello", 1, {"a": 2}])).unwrap();
        assert_eq!(args.0.len(), 5);
        assert_eq!(
            serde_json::to_value(Args(args.0[3..].to_vec())).unwrap(),
            json!([1, {"a": 2}])
        );
        let too_many = Value::Array(vec![json!(1); MAX_ARGS + 1]);
        assert!(serde_json::from_value::<Args>(too_many).is_err());
    }

    #[test]
    fn reasons_are_node_s() {
        assert_eq!(
            node_reason(DisconnectReason::HeartbeatTimeout),
            "ping timeout"
        );
        assert_eq!(
            node_reason(DisconnectReason::ServerNSDisconnect),
            "server namespace disconnect"
        );
    }
}
