//! Liveness and readiness.
//!
//! `/health` keeps the original body (contract §4.2) and adds real checks; `/ready` is what a
//! load balancer or `scripts/deploy.sh` asks before sending traffic: 503 while the database is
//! unreachable or the instance is draining.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/ready", get(ready))
}

async fn root() -> Html<&'static str> {
    Html("<h1>SUCCESS</h1>")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn load_average() -> f64 {
    read("/proc/loadavg")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn memory() -> Value {
    let info = read("/proc/meminfo");
    let kb = |name: &str| -> u64 {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let total = kb("MemTotal:");
    let free = kb("MemAvailable:");
    json!({ "total": total, "used": total.saturating_sub(free), "free": free })
}

/// The CPU list under the original's misnamed `diskSpace` key.
fn cpus() -> Value {
    let info = read("/proc/cpuinfo");
    let models: Vec<(String, f64)> = info
        .split("\n\n")
        .filter(|b| b.contains("processor"))
        .map(|block| {
            let field = |k: &str| {
                block
                    .lines()
                    .find(|l| l.starts_with(k))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default()
            };
            (field("model name"), field("cpu MHz").parse().unwrap_or(0.0))
        })
        .collect();
    let stat = read("/proc/stat");
    let times: Vec<Vec<u64>> = stat
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|v| v.parse::<u64>().unwrap_or(0) * 10)
                .collect()
        })
        .collect();
    let list: Vec<Value> = models
        .iter()
        .enumerate()
        .map(|(i, (model, mhz))| {
            let t = times.get(i).cloned().unwrap_or_default();
            let at = |j: usize| t.get(j).copied().unwrap_or(0);
            json!({ "model": model, "speed": *mhz as u64,
                    "times": { "user": at(0), "nice": at(1), "sys": at(2), "idle": at(3), "irq": at(5) } })
        })
        .collect();
    Value::Array(list)
}

/// Liveness with the original body; 503 when the database does not answer.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "serverStatus Online, with load, memory, CPUs and checks"),
              (status = 503, description = "serverStatus Offline")))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db = state.db.ping().await;
    let chat_log = state.messages.ping().await;
    let online = db.is_ok() && chat_log.is_ok();
    let body = json!({
        "serverStatus": if online { "Online" } else { "Offline" },
        "serverStartTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "cpuUsage": load_average(),
        "memoryUsage": memory(),
        "diskSpace": cpus(),
        "checks": {
            "database": match &db { Ok(()) => "ok".to_string(), Err(e) => e.to_string() },
            "chatLog": match &chat_log { Ok(()) => "ok".to_string(), Err(e) => e.to_string() },
            "draining": state.is_draining(),
        },
        "realtime": state.hub().map(|h| h.stats()),
        "chatLogQueue": state.messages.queue(),
        "version": env!("CARGO_PKG_VERSION"),
        "instance": state.config.instance_name,
    });
    let status = if online {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Readiness: 200 only while the database and the chat log answer and the instance is not draining.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "draining or database down")))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": "draining" })),
        );
    }
    if let Err(e) = state.db.ping().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": format!("database: {e}") })),
        );
    }
    match state.messages.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "ready": true }))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": format!("chat log: {e}") })),
        ),
    }
}
