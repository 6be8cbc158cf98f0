//! The Socket.IO server: socketioxide on the same axum server and port, at `/socket.io/` and at
//! the NINE Cloud client's legacy prefix `/community/chat/`.
//!
//! Two dialects share one namespace (`/`) and one chat log:
//! - `legacy`: the NINE Cloud community chat (`login`, `sendMessage`, broadcast `message`),
//!   byte-compatible with the original; it is the lobby channel.
//! - `channels`: the Everyone's friend channel chat (`channel:*` events), authenticated by the
//!   access token in the handshake.
//!
//! The adapter (in memory, or Redis for several instances) is a type parameter chosen once in
//! `attach`; everything else is generic over it. The REST side reaches the sockets through the
//! `Hub` trait object kept in `App`.

pub mod admin;
pub mod auth;
pub mod channels;
pub mod core;
pub mod everyones_friend;
pub mod nine_cloud;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use async_trait::async_trait;
use axum::Router;
use axum::extract::OriginalUri;
use axum::http::header::{HeaderMap, HeaderName, HeaderValue};
use axum::http::{Request, Uri};
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{SocketRef, State};
use socketioxide::handler::ConnectHandler;
use socketioxide_redis::drivers::redis::redis_client;
use socketioxide_redis::{RedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

use crate::app::App;
use crate::hub::{Hub, StatsSnapshot};

use self::core::{Ctx, FRIEND_LOBBY_ROOM, Identity, LEGACY_ROOM, LOBBY_ROOM, Shared, Stats};

/// The path prefix the NINE Cloud client uses (`path: '/community/chat/socket.io'`).
const LEGACY_PREFIX: &str = "/community/chat/";

struct SocketHub<A: Adapter> {
    io: SocketIo<A>,
    ctx: Ctx,
}

#[async_trait]
impl<A: Adapter> Hub for SocketHub<A> {
    async fn online_users(&self, channel: i64) -> Vec<i64> {
        self::core::online_users(&self.io, &self.ctx, channel).await
    }

    async fn channel_updated(&self, channel: i64, payload: serde_json::Value) {
        self::core::emit_to(
            &self.io,
            &self.ctx,
            self.ctx.room(channel),
            "channel:updated",
            &payload,
        )
        .await;
    }

    async fn channel_deleted(&self, channel: i64) {
        let room = self.ctx.room(channel);
        self::core::emit_to(
            &self.io,
            &self.ctx,
            room.clone(),
            "channel:deleted",
            &serde_json::json!({ "channelId": channel }),
        )
        .await;
        let friends = self.ctx.friend_room(channel);
        for room in [room, friends] {
            if let Err(e) = self.io.to(room.clone()).leave(room).await {
                tracing::warn!(channel, error = %e, "could not empty a deleted channel's room");
            }
        }
    }

    async fn close_all(&self) {
        self.io.close().await;
    }

    async fn disconnect_user(&self, user: i64) {
        if let Err(e) = self.io.to(self::core::user_room(user)).disconnect().await {
            tracing::warn!(user, error = %e, "could not disconnect a revoked user's sockets");
        }
    }

    fn stats(&self) -> StatsSnapshot {
        let s = &self.ctx.stats;
        StatsSnapshot {
            connected: s.connected.load(Ordering::Relaxed),
            messages: s.messages.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Adds the Socket.IO server to `router` and gives `app` its `Hub`. With `REDIS_URL` set the
/// rooms are shared with every other instance on the same Redis.
pub async fn attach(router: Router, app: Arc<App>) -> anyhow::Result<Router> {
    let cfg = &app.config.realtime;
    let sessions = crate::net::Slots::new(
        "Socket.IO sessions",
        cfg.max_sessions,
        cfg.max_sessions_per_ip,
    );
    let (admin, live) = match &app.config.admin {
        Some(admin_cfg) => {
            let (admin, live) = admin::Admin::new(
                admin_cfg.clone(),
                app.config.instance_name.as_deref(),
                sessions.clone(),
                app.config.proxies.clone(),
            );
            (Some(admin), live)
        }
        None => (None, None),
    };
    let ctx = Ctx(Arc::new(Shared {
        app: app.clone(),
        uuids: Default::default(),
        stats: Stats::default(),
        limits: self::core::ChatLimits::new(cfg),
    }));
    let quiet = Arc::downgrade(&ctx.0);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            match quiet.upgrade() {
                Some(shared) => shared.limits.forget_quiet(),
                None => break,
            }
        }
    });
    let builder = SocketIo::builder()
        .ping_interval(cfg.ping_interval)
        .ping_timeout(cfg.ping_timeout)
        .max_payload(cfg.max_payload)
        // engineioxide bounds WebSocket messages by these two, not by max_payload (which covers
        // long-polling only); unset, a WebSocket could send 16 MiB frames and 64 MiB messages.
        .ws_max_message_size(cfg.max_payload as usize)
        .ws_max_frame_size(cfg.max_payload as usize)
        .max_buffer_size(cfg.socket_buffer)
        .ws_read_buffer_size(cfg.ws_read_buffer)
        .with_state(ctx.clone())
        .with_state(admin::AdminState(admin.clone()));
    let router = match app.config.redis_url.as_deref() {
        None => {
            let (layer, io) = builder.build_layer();
            io.ns(
                "/",
                on_connect::<LocalAdapter>
                    .with(install::<LocalAdapter>)
                    .with(auth::authenticate::<LocalAdapter>),
            );
            if admin.is_some() {
                io.ns(
                    admin::NAMESPACE,
                    admin::on_connect::<LocalAdapter>.with(admin::authenticate::<LocalAdapter>),
                );
                start_admin(&io, &ctx, &admin, live);
            }
            app.set_hub(Arc::new(SocketHub { io, ctx }));
            router.layer(layer)
        }
        Some(url) => {
            let redacted = crate::config::redact_url(url);
            let client =
                redis_client::Client::open(url).with_context(|| format!("REDIS_URL {redacted}"))?;
            let adapter_config = RedisAdapterConfig::default()
                .with_request_timeout(app.config.redis_request_timeout);
            let adapter = RedisAdapterCtr::new_with_redis_config(&client, adapter_config)
                .await
                .with_context(|| format!("cannot reach Redis at {redacted}"))?;
            let (layer, io) = builder
                .with_adapter::<RedisAdapter<_>>(adapter)
                .build_layer();
            io.ns("/", on_connect.with(install).with(auth::authenticate))
                .await
                .with_context(|| format!("cannot start the Redis adapter at {redacted}"))?;
            if admin.is_some() {
                io.ns(
                    admin::NAMESPACE,
                    admin::on_connect.with(admin::authenticate),
                )
                .await
                .with_context(|| format!("cannot start the Redis adapter at {redacted}"))?;
                start_admin(&io, &ctx, &admin, live);
            }
            tracing::info!(redis = %redacted, "socket rooms shared through Redis");
            app.set_hub(Arc::new(SocketHub { io, ctx }));
            router.layer(layer)
        }
    };
    // One CORS layer around REST and Socket.IO: browsers long-poll across origins too. The
    // Admin UI's origins are allowed for Socket.IO requests only.
    let admin_origins = admin
        .as_ref()
        .map(|a| a.ui_origins().to_vec())
        .unwrap_or_default();
    let router = router.layer(crate::layers::cors(
        &app.config.cors_origins,
        &admin_origins,
    ));
    let router = crate::layers::security_headers(router);
    let gate = Gate {
        sessions,
        proxies: app.config.proxies.clone(),
        max_payload: cfg.max_payload as usize,
        admin: admin.is_some(),
    };
    Ok(router.layer(axum::middleware::from_fn_with_state(gate, socket_gate)))
}

/// The Admin UI's statistics every 2 s, and in development mode its live events.
fn start_admin<A: Adapter>(
    io: &SocketIo<A>,
    ctx: &Ctx,
    admin: &Option<Arc<admin::Admin>>,
    live: Option<tokio::sync::mpsc::Receiver<admin::LiveEvent>>,
) {
    let Some(admin) = admin.clone() else { return };
    tokio::spawn(admin::stats_loop(io.clone(), ctx.clone(), admin));
    if let Some(live) = live {
        tokio::spawn(admin::live_loop(io.clone(), live));
    }
}

/// What `socket_gate` needs.
#[derive(Clone)]
struct Gate {
    sessions: Arc<crate::net::Slots>,
    proxies: crate::net::TrustedProxies,
    max_payload: usize,
    /// The Admin UI is on: handshakes get a client id and a time for it to show.
    admin: bool,
}

/// Every request passes here before the Socket.IO layer sees it (`socket_request`), and
/// Socket.IO requests are held to the session caps and the payload limit:
/// - A handshake (no `sid`) takes a place under `SOCKET_MAX_PER_IP` and
///   `SOCKET_MAX_CONNECTIONS`, or is refused (429 / 503, `{message}`). engineioxide keeps the
///   handshake's request head, extensions included, for as long as the session lives, so the
///   place kept there is given back exactly when the session ends.
/// - A long-polling POST over `SOCKET_MAX_PAYLOAD` is answered 413 here and the session lives
///   on, as in Node (engineioxide would close the session).
async fn socket_gate(
    axum::extract::State(gate): axum::extract::State<Gate>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut req = socket_request(req);
    if !req.uri().path().starts_with("/socket.io/") {
        return next.run(req).await;
    }
    let has_sid = req
        .uri()
        .query()
        .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "sid"));
    if !has_sid {
        let (parts, body) = req.into_parts();
        let ip = crate::net::client_ip(&parts, &gate.proxies);
        let slot = match gate.sessions.acquire(Some(ip)) {
            Ok(slot) => slot,
            Err(full) => {
                let status = match full {
                    crate::net::Full::Address(_) => axum::http::StatusCode::TOO_MANY_REQUESTS,
                    crate::net::Full::Server(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                };
                tracing::debug!(%ip, reason = full.message(), "Socket.IO handshake refused");
                return crate::error::AppError::new(status, full.message()).into_response();
            }
        };
        req = Request::from_parts(parts, body);
        req.extensions_mut().insert(Arc::new(slot));
        if gate.admin {
            req.extensions_mut().insert(admin::ClientId::new());
            req.extensions_mut().insert(admin::Handshake::now());
        }
        return next.run(req).await;
    }
    if req.method() == axum::http::Method::POST {
        let (parts, body) = req.into_parts();
        let too_large = || {
            crate::error::AppError::payload_too_large(format!(
                "a Socket.IO message may be at most {} bytes (SOCKET_MAX_PAYLOAD)",
                gate.max_payload
            ))
            .into_response()
        };
        let declared = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > gate.max_payload) {
            return too_large();
        }
        let bytes = match axum::body::to_bytes(body, gate.max_payload).await {
            Ok(b) => b,
            Err(e) if crate::net::is_body_timeout(&e) => {
                return crate::error::AppError::new(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    "the request body did not arrive in time",
                )
                .into_response();
            }
            Err(_) => return too_large(),
        };
        return next
            .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
            .await;
    }
    next.run(req).await
}

/// What every request passes before the Socket.IO layer sees it.
/// - The NINE Cloud client's requests go to /community/chat/socket.io/ (the original matched
///   the prefix /community/chat/); they are handed to the Socket.IO layer as /socket.io/.
/// - A Socket.IO request's head is copied out of the connection's read buffer (`detach_head`).
fn socket_request<B>(mut req: Request<B>) -> Request<B> {
    if req.uri().path().starts_with(LEGACY_PREFIX) {
        req.extensions_mut().insert(LegacyPath);
        let query = req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("/socket.io/{query}").parse() {
            *req.uri_mut() = uri;
        }
    }
    if req.uri().path().starts_with("/socket.io/") {
        detach_head(&mut req);
    }
    req
}

/// engineioxide keeps every socket's request head (`SocketRef::req_parts`) for as long as the
/// socket lives. hyper parses header values and the URI as slices of the connection's read
/// buffer (8 to 16 KiB), so keeping a few header bytes kept the whole buffer: 16 KiB of an idle
/// WebSocket connection's 30 KiB (valgrind massif). With the head copied into allocations of
/// its own, hyper frees the buffer once the connection is upgraded.
fn detach_head<B>(req: &mut Request<B>) {
    let shared = std::mem::take(req.headers_mut());
    let mut owned = HeaderMap::with_capacity(shared.len());
    let mut name: Option<HeaderName> = None;
    for (next, value) in shared {
        // `into_iter` names a header once, then gives its further values without a name.
        if let Some(next) = next {
            name = Some(next);
        }
        let Some(name) = name.clone() else { continue };
        let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or(value.clone());
        copy.set_sensitive(value.is_sensitive());
        owned.append(name, copy);
    }
    *req.headers_mut() = owned;
    if let Ok(uri) = Uri::try_from(req.uri().to_string()) {
        *req.uri_mut() = uri;
    }
    // axum's router put a copy of the URI as it arrived into the extensions.
    if let Some(OriginalUri(original)) = req.extensions_mut().remove::<OriginalUri>()
        && let Ok(uri) = Uri::try_from(original.to_string())
    {
        req.extensions_mut().insert(OriginalUri(uri));
    }
}

/// A request that came by the NINE Cloud client's prefix (`/community/chat/socket.io/`).
#[derive(Clone, Copy, Debug)]
struct LegacyPath;

/// Connect middleware, after `authenticate`: rooms and event handlers. socketioxide sends the
/// CONNECT packet after the middlewares and then *spawns* the connect handler, so an event the
/// client emits as soon as it is connected can arrive before that task runs; a handler
/// registered there would miss it, and socketioxide drops events nobody handles. Registered
/// here, every handler exists before the client hears it is connected. (Seen under load in the
/// blue/green test: about one `channel:join` in a thousand was never answered.)
async fn install<A: Adapter>(
    socket: SocketRef<A>,
    State(ctx): State<Ctx>,
    State(admin): State<admin::AdminState>,
) -> Result<(), std::convert::Infallible> {
    match socket.extensions.get::<Identity>() {
        Some(Identity::User { id, .. }) => {
            socket.join([LOBBY_ROOM.to_string(), self::core::user_room(id)]);
        }
        _ => socket.join(LEGACY_ROOM),
    }
    self::core::install_rate_limit(&socket, &ctx);
    nine_cloud::register(&socket);
    channels::register(&socket);
    if ctx.app.config.everyones_friend {
        // Its clients send no handshake: every socket starts in its lobby.
        socket.join(FRIEND_LOBBY_ROOM);
        everyones_friend::register(&socket);
    }
    socket.on_disconnect(on_disconnect::<A>);
    ctx.stats.connected.fetch_add(1, Ordering::Relaxed);
    admin::connected(&admin, &socket);
    crate::telemetry::socket_connected(
        if socket.req_parts().extensions.get::<LegacyPath>().is_some() {
            "/community/chat/socket.io/"
        } else {
            "/socket.io/"
        },
        match socket.transport_type() {
            socketioxide::TransportType::Polling => "polling",
            socketioxide::TransportType::Websocket => "websocket",
        },
        // Socket.IO's protocol: 4 for socket.io-client 2.x (Engine.IO 3), 5 for 3.x and 4.x.
        match socket.protocol() {
            socketioxide::ProtocolVersion::V4 => "4",
            socketioxide::ProtocolVersion::V5 => "5",
        },
    );
    Ok(())
}

/// After CONNECT: tell the lobby a signed-in user arrived.
async fn on_connect<A: Adapter>(socket: SocketRef<A>, State(ctx): State<Ctx>) {
    if let Some(Identity::User { id, username }) = socket.extensions.get::<Identity>() {
        self::core::announce(&socket, &ctx, ctx.app.lobby_id, id, &username, "join").await;
    }
}

async fn on_disconnect<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    State(ctx): State<Ctx>,
    State(admin): State<admin::AdminState>,
    reason: socketioxide::socket::DisconnectReason,
) {
    ctx.stats.connected.fetch_sub(1, Ordering::Relaxed);
    crate::telemetry::socket_disconnected(&format!("{reason:?}"));
    admin::disconnected(&admin, &socket, reason);
    nine_cloud::on_disconnect(&socket, &ctx).await;
    self::core::leave_all(&socket, &io, &ctx).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A request whose header values and URI are slices of one buffer, as hyper parses them.
    fn parsed_like_hyper(buffer: &Bytes, path: &str) -> Request<()> {
        let slice = |s: &str| {
            let at = buffer
                .windows(s.len())
                .position(|w| w == s.as_bytes())
                .expect("in the buffer");
            buffer.slice(at..at + s.len())
        };
        let uri = Uri::from_maybe_shared(slice(path)).expect("uri");
        let mut req = Request::builder()
            .uri(uri.clone())
            .body(())
            .expect("request");
        let headers = req.headers_mut();
        for (name, value) in [
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"),
            ("authorization", "Bearer abc"),
        ] {
            let mut v = HeaderValue::from_maybe_shared(slice(value)).expect("value");
            v.set_sensitive(name == "authorization");
            headers.append(HeaderName::from_static(name), v);
        }
        req.extensions_mut().insert(OriginalUri(uri));
        req
    }

    fn inside(buffer: &Bytes, bytes: &[u8]) -> bool {
        let range = buffer.as_ptr_range();
        range.contains(&bytes.as_ptr())
    }

    #[test]
    fn socket_requests_keep_nothing_of_the_read_buffer() {
        let buffer = Bytes::from(
            "GET /community/chat/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nx-forwarded-for: 10.0.0.1\r\n\
             x-forwarded-for: 10.0.0.2\r\nauthorization: Bearer abc\r\n\r\n",
        );
        let req = socket_request(parsed_like_hyper(
            &buffer,
            "/community/chat/socket.io/?EIO=4&transport=websocket",
        ));
        // The legacy prefix is rewritten, the query kept.
        assert_eq!(req.uri(), "/socket.io/?EIO=4&transport=websocket");
        // Every value kept, in order, with its sensitivity; none points into the buffer.
        let forwarded: Vec<_> = req.headers().get_all("x-forwarded-for").iter().collect();
        assert_eq!(forwarded, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            req.headers()["sec-websocket-key"],
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert!(req.headers()["authorization"].is_sensitive());
        assert_eq!(req.headers().len(), 4);
        for value in req.headers().values() {
            assert!(
                !inside(&buffer, value.as_bytes()),
                "{value:?} still in the buffer"
            );
        }
        assert!(!inside(&buffer, req.uri().path().as_bytes()));
        let original = &req.extensions().get::<OriginalUri>().expect("kept").0;
        assert_eq!(
            original,
            "/community/chat/socket.io/?EIO=4&transport=websocket"
        );
        assert!(!inside(&buffer, original.path().as_bytes()));
    }

    #[test]
    fn other_requests_pass_untouched() {
        let buffer = Bytes::from(
            "GET /channels?x=1 HTTP/1.1\r\n\
             sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nx-forwarded-for: 10.0.0.1\r\n\
             x-forwarded-for: 10.0.0.2\r\nauthorization: Bearer abc\r\n\r\n",
        );
        let req = socket_request(parsed_like_hyper(&buffer, "/channels?x=1"));
        assert_eq!(req.uri(), "/channels?x=1");
        // REST requests do not outlive their handler: no copy needed.
        assert!(inside(&buffer, req.uri().path().as_bytes()));
    }
}
