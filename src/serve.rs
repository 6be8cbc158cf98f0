//! The accept loop, in place of `axum::serve`, which has no timeouts and no connection caps.
//!
//! - A connection that has sent no complete request within `HTTP_HEADER_TIMEOUT` of being
//!   accepted is closed (silent and slow-header connections), and so is one that sends no next
//!   request within `HTTP_IDLE_TIMEOUT` of its last answer (idle keep-alive). While a request is
//!   in flight (a long poll, a streamed answer) nothing is timed out here.
//! - Request bodies must arrive whole within `HTTP_BODY_TIMEOUT` (`net::DeadlineBody`).
//! - `HTTP_MAX_CONNECTIONS` in all and `HTTP_MAX_CONNECTIONS_PER_IP` per untrusted peer; a
//!   connection over a cap is answered `503` and closed at once. A WebSocket keeps its place
//!   for as long as it is open (the place travels with the stream into the upgrade).
//! - Accept errors (out of file descriptors, …) never end the loop: it backs off up to a
//!   second and logs once per burst.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::config::HttpLimits;
use crate::net::{DeadlineBody, Full, Slot, Slots, TrustedProxies};

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting and returns
/// once every connection has finished its requests (the caller bounds how long it waits).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    proxies: TrustedProxies,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Slots::new(
        "connections",
        limits.max_connections,
        limits.max_connections_per_ip,
    );
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().keep_alive(true);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let started = Instant::now();
    tokio::pin!(shutdown);
    let mut backoff = Duration::ZERO;
    let mut failures = 0u64;
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: the descriptor table frees up as connections close.
                // Aborted handshakes are the client's business and need no pause.
                if e.kind() == io::ErrorKind::ConnectionAborted {
                    continue;
                }
                failures += 1;
                if backoff.is_zero() {
                    tracing::warn!(error = %e, "accept failed; backing off until it works again");
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        if !backoff.is_zero() {
            tracing::info!(failures, "accepting connections again");
            backoff = Duration::ZERO;
            failures = 0;
        }
        let _ = tcp.set_nodelay(true);
        let exempt = proxies.trusts(peer.ip());
        let slot = match slots.acquire((!exempt).then_some(peer.ip())) {
            Ok(s) => s,
            Err(full) => {
                tokio::spawn(refuse(tcp, full));
                continue;
            }
        };
        let conn = Arc::new(ConnState::new(started));
        let service = hyper::service::service_fn({
            let router = router.clone();
            let conn = conn.clone();
            let body_timeout = limits.body_timeout;
            move |req: Request<Incoming>| {
                let in_flight = InFlight::start(conn.clone());
                let mut req = req.map(|b| Body::new(DeadlineBody::new(b, body_timeout)));
                req.extensions_mut().insert(ConnectInfo(peer));
                let call = router.clone().oneshot(req);
                async move {
                    let res = call.await?;
                    // The request counts as in flight until its answer has been sent whole.
                    Ok::<_, Infallible>(res.map(|b| {
                        Body::new(Tracked {
                            inner: b,
                            in_flight,
                        })
                    }))
                }
            }
        });
        let io = TokioIo::new(Held { tcp, _slot: slot });
        let connection = graceful.watch(
            builder
                .clone()
                .serve_connection_with_upgrades(io, service)
                .into_owned(),
        );
        let (header_timeout, idle_timeout) = (limits.header_timeout, limits.idle_timeout);
        tokio::spawn(async move {
            tokio::select! {
                r = connection => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = conn.idle(header_timeout, idle_timeout) => {
                    tracing::debug!(%peer, "closing an idle connection");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection over a cap and closes it, without reading its request.
async fn refuse(mut tcp: TcpStream, full: Full) {
    let (status, reason) = match full {
        Full::Address(_) => (429, "Too Many Requests"),
        Full::Server(_) => (503, "Service Unavailable"),
    };
    crate::telemetry::rate_limited("connections");
    let body = serde_json::json!({ "message": full.message() }).to_string();
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\nretry-after: 5\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await
    })
    .await;
}

/// What the idle watch needs to know of a connection.
struct ConnState {
    started: Instant,
    in_flight: AtomicUsize,
    answered: AtomicBool,
    /// Milliseconds after `started` at which the connection last became idle.
    idle_since_ms: AtomicU64,
}

impl ConnState {
    fn new(server_started: Instant) -> Self {
        let now = server_started.elapsed().as_millis() as u64;
        Self {
            started: server_started,
            in_flight: AtomicUsize::new(0),
            answered: AtomicBool::new(false),
            idle_since_ms: AtomicU64::new(now),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Resolves once the connection has been idle too long: no request in flight and none
    /// begun within the header timeout (never answered) or the idle timeout (since its last).
    async fn idle(&self, header_timeout: Duration, idle_timeout: Duration) {
        loop {
            let limit = if self.answered.load(Ordering::Acquire) {
                idle_timeout
            } else {
                header_timeout
            };
            let limit_ms = limit.as_millis() as u64;
            if self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(limit).await;
                continue;
            }
            let since = self.idle_since_ms.load(Ordering::Acquire);
            let now = self.now_ms();
            if now >= since + limit_ms {
                return;
            }
            tokio::time::sleep(Duration::from_millis(since + limit_ms - now)).await;
        }
    }
}

/// A request between its head arriving and its answer having been sent.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn start(conn: Arc<ConnState>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let c = &self.0;
        c.idle_since_ms.store(c.now_ms(), Ordering::Release);
        c.answered.store(true, Ordering::Release);
        c.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

pin_project_lite::pin_project! {
    /// An answer's body that keeps its request in flight until it is sent or dropped.
    struct Tracked {
        #[pin]
        inner: Body,
        in_flight: InFlight,
    }
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, axum::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The TCP stream with its place under the connection caps, which it keeps through an upgrade.
struct Held {
    tcp: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Held {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Held {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
