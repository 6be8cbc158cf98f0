//! Extractors whose failures are `AppError`s (JSON `{message}`), never axum's plain-text ones.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::AppError;
use crate::store::accounts::{self, User};
use crate::tokens::TokenError;

/// A JSON body (or, as Express's urlencoded parser allowed, a form body) read into `T`.
/// Type errors name the field; an empty body reads as `{}`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let limit = state.config.json_max_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                if crate::net::is_body_timeout(&e) {
                    body_timeout()
                } else {
                    AppError::payload_too_large(format!(
                        "요청 본문이 너무 큽니다 (최대 {limit} bytes)."
                    ))
                }
            })?;
        parse_body(&bytes, is_form).map(JsonBody)
    }
}

/// 408: the client did not send its body within `HTTP_BODY_TIMEOUT`.
pub fn body_timeout() -> AppError {
    AppError::new(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        "요청 본문이 제시간에 도착하지 않았습니다. (request body timeout)",
    )
}

fn parse_body<T: DeserializeOwned>(bytes: &Bytes, is_form: bool) -> Result<T, AppError> {
    let trimmed = bytes.trim_ascii();
    if is_form {
        return serde_urlencoded::from_bytes(trimmed)
            .map_err(|e| AppError::bad_request(format!("요청 본문을 읽을 수 없습니다: {e}")));
    }
    let src: &[u8] = if trimmed.is_empty() || trimmed == b"null" {
        b"{}"
    } else {
        trimmed
    };
    let de = &mut serde_json::Deserializer::from_slice(src);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = inner.to_string();
        if let Some(field) = text
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            AppError::bad_request(format!("\"{field}\" 항목은 허용되지 않습니다."))
        } else if inner.is_syntax() || inner.is_eof() {
            AppError::bad_request("요청 본문이 올바른 JSON이 아닙니다.")
        } else if path == "." {
            AppError::bad_request("요청 본문은 JSON 객체여야 합니다.")
        } else {
            AppError::bad_request(format!(
                "\"{path}\" 항목의 형식이 올바르지 않습니다: {inner}"
            ))
        }
    })
}

/// A query string read into `T`, with a JSON `{message}` error (axum's own `Query` rejection
/// is plain text). Take the raw string with axum's `RawQuery`.
pub fn query<T: DeserializeOwned>(raw: Option<String>) -> Result<T, AppError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| AppError::bad_request(format!("query string: {e}")))
}

/// A chat log page's size: `CHAT_HISTORY_PAGE` when not given, 1 to `CHAT_HISTORY_MAX`.
pub fn history_limit(
    given: Option<usize>,
    cfg: &crate::config::RealtimeConfig,
) -> Result<usize, AppError> {
    let limit = given.unwrap_or(cfg.history_page);
    if limit == 0 || limit > cfg.history_max {
        return Err(AppError::bad_request(format!(
            "limit must be between 1 and {}",
            cfg.history_max
        )));
    }
    Ok(limit)
}

/// A path parameter that must be a positive whole number.
pub fn id_param(field: &str, raw: &str) -> Result<i64, AppError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(crate::domain::field_error(
            field,
            "항목은 1 이상의 정수여야 합니다.",
        )),
    }
}

/// The signed-in user, from `Authorization: Bearer <access token>` (contract §1.4).
pub struct AuthUser(pub User);

/// The bearer token of a request, if it carries one in the expected form.
pub fn bearer(headers: &HeaderMap) -> Result<&str, AppError> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized("로그인이 필요합니다."))?
        .to_str()
        .map_err(|_| AppError::unauthorized("토큰 타입이 일치하지 않습니다."))?;
    match raw.trim().split_once(' ') {
        Some(("Bearer", token)) if !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(AppError::unauthorized("토큰 타입이 일치하지 않습니다.")),
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(&parts.headers)?;
        let claims = state.tokens.verify_access(token).map_err(|e| match e {
            TokenError::Expired => AppError::token_expired(),
            TokenError::WrongKind => AppError::unauthorized("AccessToken이 아닙니다."),
            TokenError::Invalid => AppError::unauthorized("유효하지 않은 토큰입니다."),
        })?;
        let user = accounts::find_user(&state.db, claims.user_id)
            .await?
            .ok_or_else(|| AppError::unauthorized("토큰 사용자가 존재하지 않습니다."))?;
        // Revoked by a logout, sign-off or password change: 419, like an expired token, so
        // the front end renews it with its refresh token (which fails where that was revoked).
        if !claims.is_current(user.token_generation) {
            return Err(AppError::token_expired());
        }
        Ok(AuthUser(user))
    }
}

/// The client's address: the peer, or behind a trusted proxy the address it reports.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(ClientIp(crate::net::client_ip(
            parts,
            &state.config.proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Body {
        email: Option<String>,
    }

    #[test]
    fn body_errors_name_the_field() {
        let e = parse_body::<Body>(&Bytes::from_static(br#"{"email": 5}"#), false).unwrap_err();
        assert!(e.message.contains("\"email\""), "{}", e.message);
        let e = parse_body::<Body>(&Bytes::from_static(b"{nope"), false).unwrap_err();
        assert_eq!(e.status, 400);
        let ok = parse_body::<Body>(&Bytes::new(), false).unwrap();
        assert!(ok.email.is_none());
        let form = parse_body::<Body>(&Bytes::from_static(b"email=a%40b.com"), true).unwrap();
        assert_eq!(form.email.as_deref(), Some("a@b.com"));
    }
}
