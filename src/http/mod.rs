//! The HTTP surface: one module per area, each with its own `router()`, assembled here with
//! limits, tracing, the uploads folder, the OpenAPI document and JSON 404s. CORS (`cors()`) is
//! added around this and the Socket.IO layer together, in `realtime::attach`.

pub mod advice;
pub mod channels;
pub mod comments;
pub mod diaries;
pub mod docs;
pub mod everyones_friend;
pub mod extract;
pub mod health;
pub mod insights;
pub mod linger;
pub mod metrics;
pub mod multipart;
pub mod oauth;
pub mod reply;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::config::ObjectStoreConfig;
use crate::error::AppError;

pub fn router(state: AppState) -> Router {
    let cfg = &state.config;
    let mut api = Router::new()
        .merge(health::router())
        .merge(users::router())
        .merge(oauth::router())
        .merge(channels::router())
        .merge(diaries::router())
        .merge(advice::router())
        .merge(insights::router())
        .merge(comments::router())
        .merge(docs::router());
    if cfg.everyones_friend {
        api = api.merge(everyones_friend::router());
    }
    if let ObjectStoreConfig::Local { dir } = &cfg.objects {
        // Stored files are images to embed, never pages: a polyglot (an image header with HTML
        // behind it) opened directly runs nothing and is downloaded, not shown.
        let uploads = tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            ))
            .service(ServeDir::new(dir));
        api = api.nest_service("/uploads", uploads);
    }
    api.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Multipart uploads may be as large as the upload limit plus the form's text fields;
        // JSON bodies are held to their own, smaller limit by `JsonBody`.
        .layer(DefaultBodyLimit::max(cfg.upload_max_bytes + 256 * 1024))
        .layer(axum::middleware::from_fn(linger::linger))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::internal("a request handler panicked").into_response()
        }))
        // Counted by route template (each route's layer sees its MatchedPath).
        .layer(axum::middleware::from_fn(crate::telemetry::track_http))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> AppError {
    AppError::not_found(format!("Cannot {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("Cannot {method} {}", uri.path()),
    )
}
