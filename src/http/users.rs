//! Accounts (contract §4.3): sign-up with an e-mailed code, sign-in, token renewal, profile,
//! password, sign-off and its cancellation, logout.
//!
//! Status codes and message strings are the ones the NINE Cloud front end reads; where the
//! original answered a client mistake with 500, this answers 4xx with the same kind of message.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use chrono::Duration as ChronoDuration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{AuthUser, ClientIp, JsonBody};
use super::multipart::{drain, multipart_error, not_multipart, read_upload};
use super::reply::{Message, message};
use crate::app::{App, AppState};
use crate::domain::image::Purpose;
use crate::domain::{Email, Password, Username, required};
use crate::error::{AppError, AppResult};
use crate::store::accounts::{self, NewUser, PublicUser, User};
use crate::store::db::{DbError, now};
use crate::store::objects::{self};
use crate::tokens::{TokenError, hash_token};

pub use crate::layers::REFRESH_HEADER;
pub const EMAIL_TAKEN: &str = "이미 가입된 이메일 입니다.";
const BAD_REFRESH: &str = "비정상적인 접근입니다. 다시 로그인 하세요";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", post(signup))
        .route("/complete-signup", post(complete_signup))
        .route("/signin", post(signin))
        .route("/token", post(renew_token))
        .route("/logout", post(logout))
        .route("/myInfo", get(my_info))
        .route("/myInfo/editmyInfo", patch(edit_my_info))
        .route("/myInfo/edit-pw", patch(edit_password))
        .route("/signoff", delete(signoff))
        .route("/cancel-signoff", post(cancel_signoff))
        .route("/signoffInProgress", post(signoff_in_progress))
}

#[derive(Deserialize, ToSchema)]
pub struct SignupBody {
    #[schema(required = true, nullable = false, format = Email, max_length = 320)]
    email: Option<String>,
    /// 8–20 of `A-Za-z0-9@$!%*?&#`, with a lower-case letter, a digit and a symbol.
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^(?=.*[a-z])(?=.*[0-9])(?=.*[@$!%*?&#])[A-Za-z0-9@$!%*?&#]{8,20}$"
    )]
    password: Option<String>,
    /// 2–10 Hangul syllables, letters or digits.
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^[A-Za-z0-9가-힣]{2,10}$"
    )]
    username: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CompleteSignupBody {
    #[schema(required = true, nullable = false, format = Email, max_length = 320)]
    email: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^(?=.*[a-z])(?=.*[0-9])(?=.*[@$!%*?&#])[A-Za-z0-9@$!%*?&#]{8,20}$"
    )]
    password: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^[A-Za-z0-9가-힣]{2,10}$"
    )]
    username: Option<String>,
    /// The code from the e-mail (note the capital A, as the front end sends it).
    #[serde(rename = "Authenticationcode")]
    #[schema(required = true, nullable = false, pattern = r"\S")]
    authentication_code: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SigninBody {
    #[schema(required = true, nullable = false, format = Email, max_length = 320)]
    email: Option<String>,
    #[schema(required = true, nullable = false, pattern = r"\S")]
    password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct EmailBody {
    #[schema(required = true, nullable = false, format = Email, max_length = 320)]
    email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct EditPasswordBody {
    #[schema(required = true, nullable = false, pattern = r"\S")]
    password: Option<String>,
    #[serde(rename = "newPassword")]
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^(?=.*[a-z])(?=.*[0-9])(?=.*[@$!%*?&#])[A-Za-z0-9@$!%*?&#]{8,20}$"
    )]
    new_password: Option<String>,
}

/// The profile form, as the front end's `FormData` sends it. Described for OpenAPI only: the
/// handler reads the parts one by one.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ProfileForm {
    /// 2–10 Hangul syllables, letters or digits.
    #[schema(pattern = r"^[A-Za-z0-9가-힣]{2,10}$")]
    username: String,
    /// A new picture (a file part): PNG, JPEG, GIF, WebP or BMP, stored re-encoded and scaled to
    /// fit `PROFILE_IMAGE_MAX_SIDE`. An empty text part, as the front end sends when no picture
    /// was picked, keeps the old one.
    #[schema(value_type = Option<String>, format = Binary)]
    image: Option<Vec<u8>>,
}

#[derive(Serialize, ToSchema)]
pub struct SignupComplete {
    message: String,
    data: PublicUser,
}

#[derive(Serialize, ToSchema)]
pub struct SigninAnswer {
    message: String,
    #[serde(rename = "profileImage")]
    profile_image: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MyInfo {
    data: PublicUser,
}

/// The fields sign-up and its completion both take, validated.
fn parse_new_account(
    email: &Option<String>,
    password: &Option<String>,
    username: &Option<String>,
) -> AppResult<(Email, Password, Username)> {
    Ok((
        Email::parse("email", required("email", email)?)?,
        Password::parse("password", required("password", password)?)?,
        Username::parse("username", required("username", username)?)?,
    ))
}

fn limit(app: &App, scope: &str, key: &str) -> AppResult<()> {
    app.limits
        .check(scope, key)
        .map_err(AppError::too_many_requests)
}

pub async fn hash_password(password: &str) -> AppResult<String> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || bcrypt::hash(p, 10))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// bcrypt check off the async threads; any hash that is not bcrypt simply does not match.
pub async fn password_matches(password: &str, hash: &str) -> AppResult<bool> {
    let (p, h) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || bcrypt::verify(p, &h).unwrap_or(false))
        .await
        .map_err(AppError::internal)
}

/// Issues an access and a refresh token, records the refresh token, and returns the two
/// response headers the front end stores (contract §3).
pub async fn session_headers(app: &App, user: &User) -> AppResult<HeaderMap> {
    let refresh = app.tokens.issue_refresh(user.id);
    accounts::store_refresh_token(&app.db, user.id, &refresh.hash, refresh.expires_at).await?;
    let mut headers = access_header(app, user)?;
    headers.insert(
        REFRESH_HEADER,
        HeaderValue::from_str(&refresh.token).map_err(AppError::internal)?,
    );
    Ok(headers)
}

/// `Authorization: Bearer <new access token>`, as sign-in and `/token` answer.
fn access_header(app: &App, user: &User) -> AppResult<HeaderMap> {
    let access = app.tokens.issue_access(user.id, user.token_generation);
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {access}")).map_err(AppError::internal)?,
    );
    Ok(headers)
}

/// An Everyone's friend account (no address proved) that tries NINE Cloud's sign-in.
pub const UNVERIFIED_SIGNIN: &str = "이메일 인증이 필요한 계정입니다. 회원가입에서 이메일을 인증하면 NINE Cloud에서도 로그인할 수 있습니다.";

/// Someone proved the address of an unverified account (a sign-up code, a social login): the
/// account lets go of the address, its tokens are revoked and its sockets disconnected.
pub async fn release_unverified(app: &App, user: &User) -> AppResult<()> {
    if accounts::release_address(&app.db, user.id).await? {
        tracing::info!(
            user = user.id,
            "an unverified account let go of a proved address"
        );
        if let Some(hub) = app.hub() {
            hub.disconnect_user(user.id).await;
        }
    }
    Ok(())
}

fn new_signup_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Sends a sign-up code to the address.
#[utoipa::path(post, path = "/signup", tag = "users", request_body = SignupBody,
    responses((status = 201, body = Message, description = "이메일 전송 완료"),
              (status = 400, body = Message), (status = 403, body = Message, description = "e-mail taken"),
              (status = 429, body = Message), (status = 503, body = Message, description = "mail not sent")))]
#[tracing::instrument(skip_all)]
pub async fn signup(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<SignupBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    limit(app, "signup", &ip.to_string())?;
    let (email, _, _) = parse_new_account(&body.email, &body.password, &body.username)?;
    limit(app, "signup-email", email.as_str())?;
    // An unverified (Everyone's friend) account holds no claim on its address.
    if accounts::find_user_by_email(&app.db, email.as_str())
        .await?
        .is_some_and(|u| !u.is_unverified())
    {
        return Err(AppError::forbidden(EMAIL_TAKEN));
    }
    let code = new_signup_code();
    let expires = now() + ChronoDuration::from_std(app.config.signup_code_ttl).unwrap_or_default();
    accounts::put_signup_code(&app.db, email.as_str(), &code, expires).await?;
    if let Err(e) = app.mail.send_signup_code(email.as_str(), &code).await {
        tracing::error!(error = %e, "sending the sign-up code failed");
        let _ = accounts::take_signup_code(&app.db, email.as_str(), &code).await;
        return Err(AppError::unavailable(
            "인증 메일을 보내지 못했습니다. 잠시 후 다시 시도해 주세요.",
        ));
    }
    Ok((StatusCode::CREATED, message("이메일 전송 완료")))
}

/// Checks the code and creates the account.
#[utoipa::path(post, path = "/complete-signup", tag = "users", request_body = CompleteSignupBody,
    responses((status = 201, body = SignupComplete, description = "message contains 회원가입이 완료"),
              (status = 400, body = Message, description = "wrong code or invalid field"),
              (status = 401, body = Message, description = "code expired, used up or never sent"),
              (status = 403, body = Message, description = "e-mail taken"), (status = 429, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn complete_signup(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<CompleteSignupBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    limit(app, "complete-signup", &ip.to_string())?;
    let (email, password, username) =
        parse_new_account(&body.email, &body.password, &body.username)?;
    let code = required("Authenticationcode", &body.authentication_code)?.to_lowercase();

    let expired = || AppError::unauthorized("인증코드가 만료되었습니다.");
    let stored = accounts::find_signup_code(&app.db, email.as_str())
        .await?
        .ok_or_else(expired)?;
    if stored.expires_at <= now() || stored.attempts >= app.config.signup_code_max_attempts {
        let _ = accounts::take_signup_code(&app.db, email.as_str(), &stored.code).await;
        return Err(expired());
    }
    if stored.code != code {
        let attempts = accounts::count_signup_attempt(&app.db, email.as_str()).await?;
        if attempts >= app.config.signup_code_max_attempts {
            // Out of tries: the code is gone and a new one must be requested.
            let _ = accounts::take_signup_code(&app.db, email.as_str(), &stored.code).await;
        }
        return Err(AppError::bad_request("인증코드가 올바르지 않습니다."));
    }
    // Single use: only the request that deletes the code goes on.
    if !accounts::take_signup_code(&app.db, email.as_str(), &code).await? {
        return Err(expired());
    }
    let hash = hash_password(password.as_str()).await?;
    if let Some(existing) = accounts::find_user_by_email(&app.db, email.as_str()).await?
        && existing.is_unverified()
    {
        // The address is proved now. Its unverified account becomes this one when the
        // person also knows its password; otherwise it lets go of the address.
        if password_matches(password.as_str(), &existing.password_hash).await?
            && accounts::verify_account(&app.db, existing.id, username.as_str(), &hash, "Common")
                .await?
        {
            if let Some(hub) = app.hub() {
                hub.disconnect_user(existing.id).await;
            }
            let user = accounts::find_user(&app.db, existing.id)
                .await?
                .ok_or_else(|| AppError::forbidden(EMAIL_TAKEN))?;
            return Ok((
                StatusCode::CREATED,
                Json(SignupComplete {
                    message: format!("{}님, 회원가입이 완료되었습니다.", user.username),
                    data: PublicUser::from(&user),
                }),
            ));
        }
        release_unverified(app, &existing).await?;
    }
    let t = now();
    let user = accounts::insert_user(
        &app.db,
        NewUser {
            email: email.as_str(),
            username: username.as_str(),
            password_hash: &hash,
            profile_img: Some(&app.config.default_profile_img),
            user_type: "Common",
            created_at: t,
            updated_at: t,
        },
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict(_) => AppError::forbidden(EMAIL_TAKEN),
        other => other.into(),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(SignupComplete {
            message: format!("{}님, 회원가입이 완료되었습니다.", user.username),
            data: PublicUser::from(&user),
        }),
    ))
}

/// Password sign-in. Tokens come back in the `Authorization` and `Refreshtoken` headers.
#[utoipa::path(post, path = "/signin", tag = "users", request_body = SigninBody,
    responses((status = 200, body = SigninAnswer, headers(("Authorization" = String, description = "Bearer <access token>"), ("Refreshtoken" = String))),
              (status = 400, body = Message, description = "unknown e-mail or wrong password"),
              (status = 403, body = Message, description = "deletion pending (탈퇴처리중입니다. 취소하시겠습니까?); opens the cancel window"),
              (status = 429, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn signin(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<SigninBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    limit(app, "signin", &ip.to_string())?;
    let email = Email::parse("email", required("email", &body.email)?)?;
    let password = required("password", &body.password)?;
    limit(app, "signin-email", email.as_str())?;
    let user = accounts::find_user_by_email(&app.db, email.as_str())
        .await?
        .ok_or_else(|| AppError::bad_request("존재하지 않는 email입니다."))?;
    if !password_matches(password, &user.password_hash).await? {
        return Err(AppError::bad_request("비밀번호가 일치하지 않습니다."));
    }
    if user.is_unverified() {
        return Err(AppError::bad_request(UNVERIFIED_SIGNIN));
    }
    if user.deletion_due_at.is_some() {
        // The owner proved who they are: for a few minutes they may cancel the deletion.
        let until =
            now() + ChronoDuration::from_std(app.config.signoff_cancel_window).unwrap_or_default();
        accounts::open_cancel_window(&app.db, user.id, until, &ip.to_string()).await?;
        return Err(AppError::forbidden("탈퇴처리중입니다. 취소하시겠습니까?"));
    }
    let headers = session_headers(app, &user).await?;
    Ok((
        StatusCode::OK,
        headers,
        Json(SigninAnswer {
            message: format!("{}님 환영합니다.", user.username),
            profile_image: user.profile_img,
        }),
    ))
}

fn refresh_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(REFRESH_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_start_matches("Bearer ").trim())
        .filter(|v| !v.is_empty())
}

/// A new access token for a live refresh token (`Refreshtoken` header).
#[utoipa::path(post, path = "/token", tag = "users",
    params(("Refreshtoken" = String, Header, description = "the refresh token")),
    responses((status = 201, body = Message, headers(("Authorization" = String, description = "Bearer <new access token>"))),
              (status = 401, body = Message, description = "missing, forged, revoked or not a refresh token"),
              (status = 419, body = Message, description = "refresh token expired")))]
#[tracing::instrument(skip_all)]
pub async fn renew_token(
    state: axum::extract::State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    let token = refresh_header(&headers)
        .ok_or_else(|| AppError::unauthorized("Refreshtoken 헤더가 필요합니다."))?;
    let claims = app.tokens.verify_refresh(token).map_err(|e| match e {
        TokenError::Expired => AppError::token_expired(),
        _ => AppError::unauthorized(BAD_REFRESH),
    })?;
    if !accounts::refresh_token_is_live(&app.db, claims.user_id, &hash_token(token)).await? {
        return Err(AppError::unauthorized(BAD_REFRESH));
    }
    let user = accounts::find_user(&app.db, claims.user_id)
        .await?
        .ok_or_else(|| AppError::unauthorized(BAD_REFRESH))?;
    let headers = access_header(app, &user)?;
    Ok((
        StatusCode::CREATED,
        headers,
        message("AccessToken 발급 완료"),
    ))
}

/// Revokes the refresh token in the `Refreshtoken` header (or, with only an access token,
/// every refresh token of the user).
#[utoipa::path(post, path = "/logout", tag = "users",
    params(("Refreshtoken" = Option<String>, Header, description = "the refresh token to revoke")),
    responses((status = 200, body = Message), (status = 401, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn logout(
    state: axum::extract::State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    if let Some(token) = refresh_header(&headers) {
        // An expired or revoked token is already as good as logged out.
        match app.tokens.verify_refresh(token) {
            Ok(c) => {
                accounts::revoke_refresh_token(&app.db, &hash_token(token)).await?;
                revoke_access(app, c.user_id).await?;
                return Ok(message("로그아웃 되었습니다."));
            }
            Err(TokenError::Expired) => {
                accounts::revoke_refresh_token(&app.db, &hash_token(token)).await?;
                return Ok(message("로그아웃 되었습니다."));
            }
            Err(_) => return Err(AppError::unauthorized(BAD_REFRESH)),
        }
    }
    let token = super::extract::bearer(&headers)?;
    match app.tokens.verify_access(token) {
        Ok(c) => {
            accounts::revoke_user_refresh_tokens(&app.db, c.user_id, None).await?;
            revoke_access(app, c.user_id).await?;
            Ok(message("로그아웃 되었습니다."))
        }
        Err(TokenError::Expired) => Err(AppError::token_expired()),
        Err(_) => Err(AppError::unauthorized("유효하지 않은 토큰입니다.")),
    }
}

/// Revokes every access token of the user issued so far, and disconnects the user's sockets
/// (they connected with such a token). Other devices renew on the 419 they get next, with
/// their refresh token, as the front end does for an expired token.
/// Sign-off: the account is deleted after `ACCOUNT_DELETION_GRACE` unless its owner cancels;
/// every token is revoked and its sockets disconnected now.
pub async fn begin_deletion(app: &App, user_id: i64) -> AppResult<()> {
    let due =
        now() + ChronoDuration::from_std(app.config.account_deletion_grace).unwrap_or_default();
    accounts::set_deletion(&app.db, user_id, Some(due)).await?;
    accounts::revoke_user_refresh_tokens(&app.db, user_id, None).await?;
    revoke_access(app, user_id).await
}

async fn revoke_access(app: &App, user_id: i64) -> AppResult<()> {
    accounts::bump_token_generation(&app.db, user_id).await?;
    if let Some(hub) = app.hub() {
        hub.disconnect_user(user_id).await;
    }
    Ok(())
}

/// The signed-in user's profile.
#[utoipa::path(get, path = "/myInfo", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = MyInfo), (status = 401, body = Message), (status = 419, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn my_info(AuthUser(user): AuthUser) -> Json<MyInfo> {
    Json(MyInfo {
        data: PublicUser::from(&user),
    })
}

/// Changes the nickname and, when a file comes in `image`, the profile picture.
#[utoipa::path(patch, path = "/myInfo/editmyInfo", tag = "users", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = ProfileForm),
    responses((status = 201, body = Message), (status = 400, body = Message), (status = 413, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn edit_my_info(
    state: axum::extract::State<AppState>,
    AuthUser(user): AuthUser,
    form: Result<Multipart, MultipartRejection>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    let mut form = form.map_err(not_multipart)?;
    let mut username: Option<String> = None;
    let mut image: Option<bytes::Bytes> = None;
    let read = async {
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("username") => username = Some(field.text().await.map_err(multipart_error)?),
                // The front end sends an empty text field when no picture was picked.
                Some("image") if field.file_name().is_some() => {
                    image = Some(read_upload(field, app.config.upload_max_bytes).await?);
                }
                _ => {}
            }
        }
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = read {
        drain(&mut form).await;
        return Err(e);
    }
    let username = Username::parse("username", required("username", &username)?)?;
    let new_image = match image {
        Some(bytes) => {
            let clean = app.images.clean(bytes, Purpose::Profile).await?;
            Some(crate::domain::image::store(&*app.objects, "profiles", clean).await?)
        }
        None => None,
    };
    let url = new_image.as_ref().map(|(_, url)| url.as_str());
    if let Err(e) = accounts::update_profile(&app.db, user.id, username.as_str(), url).await {
        if let Some((key, _)) = &new_image {
            let _ = app.objects.delete(key).await;
        }
        return Err(e.into());
    }
    if new_image.is_some() {
        objects::forget_image(&*app.objects, user.profile_img.as_deref()).await;
    }
    Ok((StatusCode::CREATED, message("수정이 완료되었습니다.")))
}

/// Changes the password of a password account; other sessions are logged out.
#[utoipa::path(patch, path = "/myInfo/edit-pw", tag = "users", security(("bearer" = [])), request_body = EditPasswordBody,
    responses((status = 201, body = Message), (status = 400, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn edit_password(
    state: axum::extract::State<AppState>,
    AuthUser(user): AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EditPasswordBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    if !user.is_common() {
        return Err(AppError::bad_request(
            "소셜로그인 사용자는 비밀번호를 변경할 수 없습니다.",
        ));
    }
    let current = required("password", &body.password)?;
    let new = Password::parse("newPassword", required("newPassword", &body.new_password)?)?;
    if !password_matches(current, &user.password_hash).await? {
        return Err(AppError::bad_request("비밀번호가 틀립니다."));
    }
    let hash = hash_password(new.as_str()).await?;
    accounts::update_password(&app.db, user.id, &hash).await?;
    let keep = refresh_header(&headers).map(hash_token);
    accounts::revoke_user_refresh_tokens(&app.db, user.id, keep.as_deref()).await?;
    revoke_access(app, user.id).await?;
    // This device goes on: a new access token in the current generation.
    let user = accounts::find_user(&app.db, user.id)
        .await?
        .ok_or_else(|| AppError::unauthorized("토큰 사용자가 존재하지 않습니다."))?;
    Ok((
        StatusCode::CREATED,
        access_header(app, &user)?,
        message("비밀번호가 변경 되었습니다."),
    ))
}

/// Schedules the account's deletion after the grace period (15 days by default).
#[utoipa::path(delete, path = "/signoff", tag = "users", security(("bearer" = [])),
    responses((status = 201, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn signoff(
    state: axum::extract::State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    begin_deletion(app, user.id).await?;
    let days = app.config.account_deletion_grace.as_secs() / 86_400;
    Ok((
        StatusCode::CREATED,
        message(format!(
            "탈퇴처리가 완료되었습니다. {days}일 동안 회원정보가 보류됩니다."
        )),
    ))
}

/// The account behind `email` whose owner signed in with the right password a moment ago.
async fn pending_account_in_window(app: &App, ip: &str, body: &EmailBody) -> AppResult<User> {
    limit(app, "signoff-cancel", ip)?;
    let email = Email::parse("email", required("email", &body.email)?)?;
    // One answer for an unknown address, an account not pending deletion, and a window that
    // is closed or was opened from elsewhere: the e-mail alone tells nothing.
    let refused =
        || AppError::forbidden("비밀번호를 확인한 뒤에 진행할 수 있습니다. 다시 로그인해 주세요.");
    let user = accounts::find_user_by_email(&app.db, email.as_str())
        .await?
        .ok_or_else(refused)?;
    let in_window = user.deletion_due_at.is_some()
        && user.cancel_window_until.is_some_and(|until| until > now())
        && user.cancel_window_ip.as_deref() == Some(ip);
    if in_window { Ok(user) } else { Err(refused()) }
}

/// Cancels a pending deletion; only right after a sign-in with the correct password.
#[utoipa::path(post, path = "/cancel-signoff", tag = "users", request_body = EmailBody,
    responses((status = 201, body = Message), (status = 400, body = Message),
              (status = 403, body = Message, description = "no correct-password sign-in in the last minutes")))]
#[tracing::instrument(skip_all)]
pub async fn cancel_signoff(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<EmailBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    let user = pending_account_in_window(app, &ip.to_string(), &body).await?;
    accounts::set_deletion(&app.db, user.id, None).await?;
    Ok((StatusCode::CREATED, message("탈퇴 요청이 취소되었습니다.")))
}

/// How long until a pending deletion happens; only right after a correct-password sign-in.
#[utoipa::path(post, path = "/signoffInProgress", tag = "users", request_body = EmailBody,
    responses((status = 201, body = Message, description = "탈퇴까지 <d>일, <h>시간 남았습니다."),
              (status = 400, body = Message), (status = 403, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn signoff_in_progress(
    state: axum::extract::State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<EmailBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    let user = pending_account_in_window(app, &ip.to_string(), &body).await?;
    let due = user.deletion_due_at.unwrap_or_else(now);
    let left = (due - now()).num_seconds().max(0);
    let (d, h) = (left / 86_400, (left % 86_400) / 3_600);
    Ok((
        StatusCode::CREATED,
        message(format!("탈퇴까지 {d}일, {h}시간 남았습니다.")),
    ))
}
