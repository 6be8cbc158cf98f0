//! Prometheus metrics, served on a listener of their own (`METRICS_ADDR`, loopback by default)
//! so that they are never public through Nginx.
//!
//! Counters and histograms are recorded where things happen (through the `metrics` facade);
//! gauges that are states rather than events (the database pool, the chat log's write queue,
//! the process) are read when Prometheus scrapes (`http/metrics.rs`, which serves them). Labels
//! stay bounded: route templates, never raw paths or ids.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Seconds: from a fast query to a slow AI answer.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Messages per group commit.
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();

/// The process' CPU, memory and open files, read now (at a scrape).
pub fn collect_process() {
    if let Some(process) = PROCESS.get() {
        process.collect();
    }
}

/// The process-wide recorder (installed on first use; every server in the process shares it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), BATCH));
        let recorder = match builder {
            Ok(b) => b.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        // Another recorder installed first (a test harness): ours still renders what it gets.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "ninecloud_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        "ninecloud_http_request_duration_seconds",
        "HTTP request latency by method and route template"
    );
    describe_counter!(
        "ninecloud_socket_connects_total",
        "Socket.IO connections by path, transport and protocol version"
    );
    describe_counter!(
        "ninecloud_socket_dialects_total",
        "Sockets by the dialect their first event used: nine_cloud, channels, everyones_friend"
    );
    describe_counter!(
        "ninecloud_acks_total",
        "Acknowledgements sent to client events, by outcome: ok, error, undelivered"
    );
    describe_counter!(
        "ninecloud_adapter_requests_total",
        "Requests answered by every instance through the adapter, by operation"
    );
    describe_counter!(
        "ninecloud_socket_disconnects_total",
        "Socket.IO disconnections by reason"
    );
    describe_gauge!("ninecloud_sockets", "Socket.IO connections open now");
    describe_counter!(
        "ninecloud_chat_appends_total",
        "Chat messages sent, by outcome: stored, duplicate (a retried client id), refused"
    );
    describe_histogram!(
        "ninecloud_chat_append_duration_seconds",
        "From a send to its message being stored (group commit included)"
    );
    describe_histogram!(
        "ninecloud_chat_batch_size",
        "Messages stored per group-commit transaction"
    );
    describe_gauge!(
        "ninecloud_chat_write_queue",
        "The chat log's write queue: queued messages and capacity"
    );
    describe_gauge!(
        "ninecloud_chat_write_refused",
        "Appends refused so far because the write queue was full"
    );
    describe_gauge!(
        "ninecloud_db_pool_connections",
        "Database pool: size, available and waiting"
    );
    describe_counter!("ninecloud_broadcasts_total", "Broadcasts sent, by event");
    describe_counter!(
        "ninecloud_broadcast_dropped_total",
        "Sockets that missed a broadcast (too slow: their send buffer was full, or gone)"
    );
    describe_counter!(
        "ninecloud_adapter_errors_total",
        "Adapter requests that failed or timed out (across instances through Redis), by operation"
    );
    describe_counter!(
        "ninecloud_rate_limited_total",
        "Requests and connections refused by a limit, by limit"
    );
    let process = PROCESS.get_or_init(|| metrics_process::Collector::new(""));
    process.describe();
    // Every known label value starts at zero, so that a rate over a series that has not moved
    // yet is 0, not absent (and dashboards find every series from the first scrape).
    for dialect in ["nine_cloud", "channels", "everyones_friend"] {
        counter!("ninecloud_socket_dialects_total", "dialect" => dialect).increment(0);
    }
    for outcome in ["ok", "error", "undelivered"] {
        counter!("ninecloud_acks_total", "outcome" => outcome).increment(0);
    }
    for op in ["rooms", "fetch_sockets"] {
        counter!("ninecloud_adapter_requests_total", "op" => op).increment(0);
    }
    for limit in ["http", "chat", "connections", "admin_login"] {
        counter!("ninecloud_rate_limited_total", "limit" => limit).increment(0);
    }
    for outcome in [
        "stored",
        "duplicate",
        "refused",
        "unknown_channel",
        "failed",
    ] {
        counter!("ninecloud_chat_appends_total", "outcome" => outcome).increment(0);
    }
    for reason in [
        "TransportClose",
        "MultipleHttpPollingError",
        "PacketParsingError",
        "TransportError",
        "HeartbeatTimeout",
        "ClientNSDisconnect",
        "ServerNSDisconnect",
        "ClosingServer",
    ] {
        counter!("ninecloud_socket_disconnects_total", "reason" => reason).increment(0);
    }
    gauge!("ninecloud_sockets").increment(0.0);
    counter!("ninecloud_broadcast_dropped_total").increment(0);
    for op in ["broadcast", "rooms", "fetch_sockets"] {
        counter!("ninecloud_adapter_errors_total", "op" => op).increment(0);
    }
}

/// HTTP middleware: counts every request by method, route template (`unmatched` for a path no
/// route has) and status, and times it.
pub async fn track_http(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    counter!("ninecloud_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    histogram!("ninecloud_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `path`: `/socket.io/` or the NINE Cloud client's `/community/chat/socket.io/`.
pub fn socket_connected(path: &'static str, transport: &'static str, protocol: &'static str) {
    counter!("ninecloud_socket_connects_total", "path" => path, "transport" => transport, "protocol" => protocol)
        .increment(1);
    gauge!("ninecloud_sockets").increment(1.0);
}

/// `reason`: socketioxide's `DisconnectReason` variant (a handful of names).
pub fn socket_disconnected(reason: &str) {
    counter!("ninecloud_socket_disconnects_total", "reason" => reason.to_string()).increment(1);
    gauge!("ninecloud_sockets").decrement(1.0);
}

/// A socket's first event showed which dialect it speaks (`nine_cloud`, `channels`,
/// `everyones_friend`).
pub fn socket_dialect(dialect: &'static str) {
    counter!("ninecloud_socket_dialects_total", "dialect" => dialect).increment(1);
}

/// An acknowledgement sent to a client event: `ok`, `error` (`{ok: false}`), or `undelivered`
/// (the socket's buffer was full or it was gone).
pub fn ack(outcome: &'static str) {
    counter!("ninecloud_acks_total", "outcome" => outcome).increment(1);
}

/// A request to every instance through the adapter (`rooms`: who is online in a channel;
/// `fetch_sockets`: the Admin UI); its failures are `adapter_error`.
pub fn adapter_request(op: &'static str) {
    counter!("ninecloud_adapter_requests_total", "op" => op).increment(1);
}

/// A chat send's outcome (`stored`, `duplicate`, `refused`, `failed`) and how long it took.
pub fn chat_append(outcome: &'static str, took: std::time::Duration) {
    counter!("ninecloud_chat_appends_total", "outcome" => outcome).increment(1);
    histogram!("ninecloud_chat_append_duration_seconds").record(took.as_secs_f64());
}

pub fn chat_batch(size: usize) {
    histogram!("ninecloud_chat_batch_size").record(size as f64);
}

/// A request or connection refused by a limit (`auth`, `connections`, `chat`).
pub fn rate_limited(limit: &'static str) {
    counter!("ninecloud_rate_limited_total", "limit" => limit).increment(1);
}

/// One broadcast of `event` (a handful of event names: bounded; static, so nothing is
/// allocated per broadcast).
pub fn broadcast(event: &'static str) {
    counter!("ninecloud_broadcasts_total", "event" => event).increment(1);
}

/// Folds the histograms' samples into their buckets every 5 s, as a scrape does: recorded
/// samples are held until then, so without it memory would grow while nobody scrapes.
pub async fn upkeep() {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        handle().run_upkeep();
    }
}

pub fn broadcast_dropped(sockets: usize) {
    counter!("ninecloud_broadcast_dropped_total").increment(sockets as u64);
}

/// An adapter request (`broadcast`, `rooms`) that failed: with Redis, another instance did not
/// answer within REDIS_REQUEST_TIMEOUT_MS, or Redis is unreachable.
pub fn adapter_error(op: &'static str) {
    counter!("ninecloud_adapter_errors_total", "op" => op).increment(1);
}
