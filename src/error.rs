//! One error type for HTTP: every failure becomes a status and a JSON `{message}`.
//!
//! Bad input is a 4xx with a message a person can act on. Only a fault of ours (a database that
//! is down, a bug) is a 5xx, and its details go to the log, never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::db::DbError;
use crate::store::objects::ObjectError;

/// The message the front end shows on 419 and the interceptor's trigger (contract §1.3).
pub const TOKEN_EXPIRED: &str = "AccessToken이 만료되었습니다.";

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    retry_after: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// 419, the original backend's status for an expired token.
    pub fn token_expired() -> Self {
        Self::new(
            StatusCode::from_u16(419).unwrap_or(StatusCode::UNAUTHORIZED),
            TOKEN_EXPIRED,
        )
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        crate::telemetry::rate_limited("http");
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
            )
        }
    }

    /// Tells the client when to ask again (`Retry-After`, seconds).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// A fault of ours or of a service we depend on: logged in full, answered in general terms.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "서버 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, message)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(json!({ "message": self.message }))).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => AppError::not_found("요청한 데이터가 없습니다."),
            DbError::Conflict(what) => AppError::conflict(format!("이미 존재합니다: {what}")),
            DbError::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                AppError::unavailable(
                    "데이터베이스에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
                )
            }
            DbError::Busy => AppError::unavailable(
                "서버가 메시지를 저장하느라 바쁩니다. 잠시 후 다시 시도해 주세요.",
            ),
            DbError::Other(e) => AppError::internal(e),
        }
    }
}

impl From<ObjectError> for AppError {
    fn from(err: ObjectError) -> Self {
        match err {
            ObjectError::Rejected(msg) => AppError::bad_request(msg),
            ObjectError::TooLarge { limit } => AppError::payload_too_large(format!(
                "이미지는 {}MB 이하만 올릴 수 있습니다.",
                limit.div_ceil(1024 * 1024)
            )),
            ObjectError::Oversized(msg) => AppError::payload_too_large(msg),
            ObjectError::Backend(e) => {
                tracing::error!(error = %e, "object storage failed");
                AppError::bad_gateway(
                    "이미지 저장소에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
                )
            }
        }
    }
}
