//! Everyone's friend accounts: `POST /user/create`, `PUT /user/update`, `DELETE /user/delete`.
//!
//! `/user/create` proves no e-mail address, so its account is `Unverified`: it may do all that
//! Everyone's friend does (chat, channels, favourites), and it holds no claim on its address.
//! NINE Cloud's sign-in refuses it; a NINE Cloud sign-up code or a social login for the same
//! address takes the address over (with the old password too, the account itself becomes a
//! verified one; otherwise the unverified account lets go of the address). Changing or
//! deleting an account takes that account's token (the original let anyone do either).

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post, put};
use serde::Deserialize;
use utoipa::ToSchema;

use super::common::{field, limit, text};
use crate::app::AppState;
use crate::domain::Email;
use crate::error::{AppError, AppResult};
use crate::http::extract::{AuthUser, ClientIp, JsonBody};
use crate::http::reply::Message;
use crate::http::users::{begin_deletion, hash_password, session_headers};
use crate::store::accounts::{self, NewUser, UNVERIFIED};
use crate::store::db::{DbError, now};

pub const EMAIL_TAKEN: &str = "이미 가입된 이메일입니다.";
const UNKNOWN_USER: &str = "존재하지 않는 유저입니다.";
const NINE_CLOUD_ACCOUNT: &str = "NINE Cloud 계정의 정보는 NINE Cloud에서 수정해 주세요.";
const NOT_YOURS: &str = "다른 사용자의 계정은 수정하거나 삭제할 수 없습니다.";
/// The longest nickname (the original's column was a VARCHAR(255); names are shown in chat).
pub const MAX_NICKNAME: usize = 50;
const MIN_PASSWORD: usize = 8;
/// bcrypt reads at most 72 bytes; a longer password would be cut silently.
const MAX_PASSWORD_BYTES: usize = 72;

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/user/create", post(create_user))
        .route("/user/update", put(update_user))
        .route("/user/delete", delete(delete_user))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBody {
    #[schema(required = true, nullable = false, example = "friend@example.com")]
    email: Option<String>,
    /// 8 or more characters, at most 72 bytes.
    #[schema(required = true, nullable = false)]
    password: Option<String>,
    /// 1–50 characters.
    #[schema(required = true, nullable = false)]
    nickname: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateBody {
    /// The caller's own address (the account of the token).
    #[schema(required = true, nullable = false)]
    email: Option<String>,
    /// The new password.
    #[schema(required = true, nullable = false)]
    password: Option<String>,
    /// A new nickname; unchanged when left out.
    nickname: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteBody {
    #[schema(required = true, nullable = false)]
    email: Option<String>,
}

fn email(value: &Option<String>) -> AppResult<Email> {
    Email::parse("email", &field("email", value, 320)?)
}

fn password(value: &Option<String>) -> AppResult<String> {
    let p = value
        .as_deref()
        .ok_or_else(|| AppError::bad_request("\"password\" 항목이 필요합니다."))?;
    if p.chars().count() < MIN_PASSWORD || p.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_request(format!(
            "\"password\" 항목은 {MIN_PASSWORD}자 이상, {MAX_PASSWORD_BYTES}바이트 이하여야 합니다."
        )));
    }
    Ok(p.to_string())
}

/// The account named by `email`, which must be the caller's own.
async fn own_account(state: &AppState, caller: &accounts::User, email: &Email) -> AppResult<()> {
    if caller.email == email.as_str() {
        return Ok(());
    }
    match accounts::find_user_by_email(&state.db, email.as_str()).await? {
        None => Err(AppError::not_found(UNKNOWN_USER)),
        Some(_) => Err(AppError::forbidden(NOT_YOURS)),
    }
}

/// Makes an (unverified) account. 409 when the address has one already.
#[utoipa::path(post, path = "/user/create", tag = "everyones-friend", request_body = CreateBody,
    responses((status = 200, description = "유저 생성 성공", content_type = "text/html", body = String),
              (status = 400, body = Message), (status = 409, body = Message, description = "이미 가입된 이메일입니다."),
              (status = 429, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn create_user(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<CreateBody>,
) -> AppResult<impl IntoResponse> {
    limit(&state, "friend-signup", &ip.to_string())?;
    let email = email(&body.email)?;
    if email.as_str().ends_with("@released.invalid") {
        return Err(AppError::bad_request(
            "\"email\" 은(는) 올바른 이메일 주소가 아닙니다.",
        ));
    }
    let password = password(&body.password)?;
    let nickname = field("nickname", &body.nickname, MAX_NICKNAME)?;
    if accounts::find_user_by_email(&state.db, email.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::conflict(EMAIL_TAKEN));
    }
    let hash = hash_password(&password).await?;
    let t = now();
    accounts::insert_user(
        &state.db,
        NewUser {
            email: email.as_str(),
            username: &nickname,
            password_hash: &hash,
            profile_img: Some(&state.config.default_profile_img),
            user_type: UNVERIFIED,
            created_at: t,
            updated_at: t,
        },
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict(_) => AppError::conflict(EMAIL_TAKEN),
        other => other.into(),
    })?;
    Ok(text("유저 생성 성공"))
}

/// Changes the caller's password (and nickname). Needs the account's own token; every
/// earlier token is revoked and fresh ones come back in `Authorization` / `Refreshtoken`.
/// Only for Everyone's friend accounts: a NINE Cloud account (403) changes its password there,
/// giving the current one.
#[utoipa::path(put, path = "/user/update", tag = "everyones-friend", request_body = UpdateBody,
    security(("bearer" = [])),
    responses((status = 200, description = "정보 수정 성공", content_type = "text/html", body = String),
              (status = 400, body = Message), (status = 401, body = Message, description = "no or a bad token"),
              (status = 403, body = Message, description = "someone else's account, or a NINE Cloud account"),
              (status = 404, body = Message, description = "존재하지 않는 유저입니다.")))]
#[tracing::instrument(skip_all)]
pub async fn update_user(
    state: axum::extract::State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<UpdateBody>,
) -> AppResult<impl IntoResponse> {
    let email = email(&body.email)?;
    own_account(&state, &user, &email).await?;
    let password = password(&body.password)?;
    let nickname = match &body.nickname {
        None => None,
        some => Some(field("nickname", some, MAX_NICKNAME)?),
    };
    if !user.is_unverified() {
        // A NINE Cloud account changes its password there, with the current one
        // (PATCH /myInfo/edit-pw): a token alone must not be enough.
        return Err(AppError::forbidden(NINE_CLOUD_ACCOUNT));
    }
    let hash = hash_password(&password).await?;
    accounts::update_account(&state.db, user.id, &hash, nickname.as_deref()).await?;
    accounts::revoke_user_refresh_tokens(&state.db, user.id, None).await?;
    let user = accounts::find_user(&state.db, user.id)
        .await?
        .ok_or_else(|| AppError::not_found(UNKNOWN_USER))?;
    let headers = session_headers(&state, &user).await?;
    Ok((StatusCode::OK, headers, text("정보 수정 성공")))
}

/// Deletes the caller's Everyone's friend account at once, with what it owns (favourites,
/// pictures). A NINE Cloud account is signed off as by `DELETE /signoff` instead: deleted after
/// `ACCOUNT_DELETION_GRACE`, cancellable meanwhile.
#[utoipa::path(delete, path = "/user/delete", tag = "everyones-friend", request_body = DeleteBody,
    security(("bearer" = [])),
    responses((status = 200, description = "탈퇴 성공", content_type = "text/html", body = String),
              (status = 401, body = Message), (status = 403, body = Message),
              (status = 404, body = Message, description = "존재하지 않는 유저입니다.")))]
#[tracing::instrument(skip_all)]
pub async fn delete_user(
    state: axum::extract::State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<DeleteBody>,
) -> AppResult<impl IntoResponse> {
    let email = email(&body.email)?;
    own_account(&state, &user, &email).await?;
    if !user.is_unverified() {
        // A NINE Cloud account keeps its sign-off grace (ACCOUNT_DELETION_GRACE, cancellable).
        begin_deletion(&state, user.id).await?;
        return Ok(text("탈퇴 성공"));
    }
    let drawings = crate::store::diaries::images_of(&state.db, user.id).await?;
    if !accounts::delete_user(&state.db, user.id).await? {
        return Err(AppError::not_found(UNKNOWN_USER));
    }
    crate::store::objects::forget_image(&*state.objects, user.profile_img.as_deref()).await;
    for url in &drawings {
        crate::store::objects::forget_image(&*state.objects, Some(url)).await;
    }
    if let Some(hub) = state.hub() {
        hub.disconnect_user(user.id).await;
    }
    Ok(text("탈퇴 성공"))
}
