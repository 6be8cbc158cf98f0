//! What the Everyone's friend routes share: success strings as Express sent them, the rate
//! limits, the caller (signed in or not) and field rules.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;

use crate::app::{App, AppState};
use crate::error::{AppError, AppResult};
use crate::http::extract::AuthUser;
use crate::store::accounts::User;

/// A success string, as Express's `res.send("…")` sent it.
pub fn text(body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

/// Per-address limits (`AUTH_RATE_LIMIT_PER_MINUTE`) on the routes that write.
pub fn limit(app: &App, scope: &str, key: &str) -> AppResult<()> {
    app.limits
        .check(scope, key)
        .map_err(AppError::too_many_requests)
}

/// The caller: signed in (a valid token), or, with no `Authorization` header at all, nobody.
/// Nobody may use these routes only while `CHAT_ALLOW_ANONYMOUS` is on (the original had no
/// accounts on them); a header that is there must carry a valid token.
pub struct Caller(pub Option<User>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            if state.config.realtime.allow_anonymous {
                return Ok(Caller(None));
            }
            return Err(AppError::unauthorized("로그인이 필요합니다."));
        }
        Ok(Caller(Some(
            AuthUser::from_request_parts(parts, state).await?.0,
        )))
    }
}

/// A required text field: present, a string, not blank, at most `max` characters. Kept as
/// sent (trimmed).
pub fn field(name: &str, value: &Option<String>, max: usize) -> AppResult<String> {
    let v = value.as_deref().map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(AppError::bad_request(format!(
            "\"{name}\" 항목이 필요합니다."
        )));
    }
    if v.chars().count() > max {
        return Err(AppError::bad_request(format!(
            "\"{name}\" 항목은 {max}자 이하여야 합니다."
        )));
    }
    Ok(v.to_string())
}
