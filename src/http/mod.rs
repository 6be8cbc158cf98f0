//! The HTTP surface: one module per area, each with its own `router()`, assembled here with
//! limits, tracing, the uploads folder, the OpenAPI document and JSON 404s. CORS (`cors()`) is
//! added around this and the Socket.IO layer together, in `realtime::attach`.

pub mod advice;
pub mod channels;
pub mod comments;
pub mod diaries;
pub mod docs;
pub mod extract;
pub mod health;
pub mod insights;
pub mod linger;
pub mod oauth;
pub mod users;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::config::ObjectStoreConfig;
use crate::error::AppError;

/// The body of most answers: `{"message": "..."}`.
#[derive(Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

pub fn message(text: impl Into<String>) -> Json<Message> {
    Json(Message {
        message: text.into(),
    })
}

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
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The usual security headers, on every answer (REST and Socket.IO alike; applied around both
/// in `realtime::attach`). No CSP here: Swagger UI at /api-docs runs scripts; uploads get theirs.
pub fn security_headers(router: Router) -> Router {
    [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ]
    .into_iter()
    .fold(router, |r, (name, value)| {
        r.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

/// CORS for the REST routes and the Socket.IO long-polling requests alike (applied around both
/// by `realtime::attach`). Credentials are allowed, so origins are listed, never `*`.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        // Credentials rule out a literal '*': echo whatever origin asks.
        AllowOrigin::mirror_request()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::PATCH,
            Method::POST,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        // The front end reads its tokens from these two response headers (contract §1.2).
        .expose_headers([
            header::AUTHORIZATION,
            HeaderName::from_static(users::REFRESH_HEADER),
        ])
        .max_age(Duration::from_secs(600))
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
