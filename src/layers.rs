//! Layers around REST and Socket.IO alike (applied around both in `realtime::attach`): CORS
//! and the security headers.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// The response header that carries a refresh token (contract §3), read by the front end.
pub const REFRESH_HEADER: &str = "refreshtoken";

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
pub fn cors(origins: &[String], socket_only: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        // Credentials rule out a literal '*': echo whatever origin asks.
        AllowOrigin::mirror_request()
    } else if socket_only.is_empty() {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    } else {
        // The Admin UI's origins (ADMIN_UI_ORIGINS) reach Socket.IO, never the REST API.
        let everywhere: Vec<String> = origins.to_vec();
        let sockets: Vec<String> = socket_only.to_vec();
        AllowOrigin::predicate(
            move |origin: &HeaderValue, parts: &axum::http::request::Parts| {
                let Ok(origin) = origin.to_str() else {
                    return false;
                };
                everywhere.iter().any(|o| o == origin)
                    || (parts.uri.path().starts_with("/socket.io/")
                        && sockets.iter().any(|o| o == origin))
            },
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
            HeaderName::from_static(REFRESH_HEADER),
        ])
        .max_age(Duration::from_secs(600))
}
