//! `POST /login`: `true` on success, as the original answered, and, as a compatible addition,
//! the tokens in the `Authorization` / `Refreshtoken` headers (the NINE Cloud sign-in's).

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde::Deserialize;
use utoipa::ToSchema;

use super::common::limit;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::{ClientIp, JsonBody};
use crate::http::reply::Message;
use crate::http::users::{password_matches, session_headers};
use crate::store::accounts;

/// The original's texts and codes: 422 for an unknown address, 401 for a wrong password.
pub const NO_SUCH_EMAIL: &str = "이메일이 존재하지 않습니다.";
pub const WRONG_PASSWORD: &str = "비밀번호가 올바르지 않습니다.";

pub fn router() -> Router<AppState> {
    Router::new().route("/login", post(login))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(required = true, nullable = false)]
    email: Option<String>,
    #[schema(required = true, nullable = false)]
    password: Option<String>,
}

/// Checks the password. Body `true`; tokens in the headers.
#[utoipa::path(post, path = "/login", tag = "everyones-friend", request_body = LoginBody,
    responses((status = 200, body = bool, description = "true",
                headers(("Authorization" = String, description = "Bearer <access token>"), ("Refreshtoken" = String))),
              (status = 400, body = Message), (status = 401, body = Message, description = "비밀번호가 올바르지 않습니다."),
              (status = 403, body = Message, description = "the account's deletion is pending (NINE Cloud)"),
              (status = 422, body = Message, description = "이메일이 존재하지 않습니다."),
              (status = 429, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> AppResult<impl IntoResponse> {
    limit(&state, "signin", &ip.to_string())?;
    let email = body
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| AppError::bad_request("\"email\" 항목이 필요합니다."))?;
    let password = body
        .password
        .as_deref()
        .ok_or_else(|| AppError::bad_request("\"password\" 항목이 필요합니다."))?;
    if email.len() > 320 || password.len() > 1024 {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            NO_SUCH_EMAIL,
        ));
    }
    limit(&state, "signin-email", &email)?;
    let user = accounts::find_user_by_email(&state.db, &email)
        .await?
        .ok_or_else(|| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, NO_SUCH_EMAIL))?;
    if !password_matches(password, &user.password_hash).await? {
        return Err(AppError::unauthorized(WRONG_PASSWORD));
    }
    if user.deletion_due_at.is_some() {
        return Err(AppError::forbidden(
            "탈퇴처리중입니다. NINE Cloud에서 로그인해 탈퇴를 취소할 수 있습니다.",
        ));
    }
    let headers = session_headers(&state, &user).await?;
    Ok((StatusCode::OK, headers, Json(true)))
}
