//! Social login callbacks (contract §4.4): the front end posts the provider's `code` (and
//! Naver's `state`); we exchange it server to server and answer with our own tokens in headers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::JsonBody;
use super::reply::{Message, message};
use super::users::{release_unverified, session_headers};
use crate::app::AppState;
use crate::config::Provider;
use crate::domain::{Email, Username, required};
use crate::error::{AppError, AppResult};
use crate::oauth::OAuthError;
use crate::store::accounts::{self, NewUser};
use crate::store::db::{DbError, now};

pub fn router() -> Router<AppState> {
    // Listed one by one so that no other two-segment path can be taken for a provider.
    let mut r = Router::new();
    for p in Provider::ALL {
        r = r.route(&format!("/{}/callback", p.name()), post(social_callback));
    }
    r
}

#[derive(Deserialize, ToSchema)]
pub struct CallbackBody {
    #[schema(required = true, nullable = false, pattern = r"\S")]
    code: Option<String>,
    /// Naver only (the front end sends "99999").
    state: Option<String>,
}

fn provider_named(name: &str) -> Option<Provider> {
    Provider::ALL.into_iter().find(|p| p.name() == name)
}

/// Exchanges the provider's code, then signs the person in, creating the account on first use.
/// Accounts are matched by verified e-mail only.
#[utoipa::path(post, path = "/{provider}/callback", tag = "oauth", request_body = CallbackBody,
    params(("provider" = String, Path, description = "kakao, google, naver, github or oidc")),
    responses((status = 200, body = Message, headers(("Authorization" = String), ("Refreshtoken" = String)),
               description = "<username>님 환영합니다. (existing) or 회원가입이 완료되었습니다. (new)"),
              (status = 400, body = Message, description = "no code, or no verified e-mail from the provider"),
              (status = 401, body = Message, description = "the provider refused the code"),
              (status = 404, body = Message, description = "provider not configured"),
              (status = 502, body = Message, description = "provider unreachable")))]
#[tracing::instrument(skip_all, fields(path = %uri.path()))]
pub async fn social_callback(
    State(state): State<AppState>,
    uri: Uri,
    JsonBody(body): JsonBody<CallbackBody>,
) -> AppResult<impl IntoResponse> {
    let app = &state.0;
    let provider = uri
        .path()
        .trim_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let provider = provider_named(provider)
        .filter(|p| app.oauth.is_enabled(*p))
        .ok_or_else(|| AppError::not_found(format!("{provider} 로그인은 지원하지 않습니다.")))?;
    let code = required("code", &body.code)?;
    let profile = app
        .oauth
        .login(provider, code, body.state.as_deref())
        .await
        .map_err(|e| match e {
            OAuthError::NotConfigured(_) => AppError::not_found(e.to_string()),
            OAuthError::CodeRejected(detail) => {
                tracing::info!(detail, "provider refused the code");
                AppError::unauthorized("소셜 로그인에 실패했습니다. 다시 시도해 주세요.")
            }
            OAuthError::NoVerifiedEmail => AppError::bad_request(
                "소셜 계정에서 인증된 이메일을 받지 못했습니다. 이메일 제공에 동의해 주세요.",
            ),
            OAuthError::Provider(detail) => {
                tracing::warn!(detail, "provider failed");
                AppError::bad_gateway("소셜 로그인 서버에 연결할 수 없습니다.")
            }
        })?;
    let email = Email::parse("email", &profile.email)
        .map_err(|_| AppError::bad_request("소셜 계정의 이메일 주소가 올바르지 않습니다."))?;

    let existing = match accounts::find_user_by_email(&app.db, email.as_str()).await? {
        // The provider proved the address: an unverified account lets go of it.
        Some(u) if u.is_unverified() => {
            release_unverified(app, &u).await?;
            None
        }
        other => other,
    };
    let (user, created) = match existing {
        Some(u) => (u, false),
        None => {
            let fallback = format!("{}{}", provider.name(), &profile.subject);
            let username = Username::from_provider(profile.name.as_deref(), &fallback);
            // An unusable password: social accounts sign in through their provider only.
            let random: [u8; 32] = rand::random();
            let hash = format!("!social:{}", hex::encode(random));
            let t = now();
            let picture = profile
                .picture
                .as_deref()
                .unwrap_or(&app.config.default_profile_img);
            let inserted = accounts::insert_user(
                &app.db,
                NewUser {
                    email: email.as_str(),
                    username: &username,
                    password_hash: &hash,
                    profile_img: Some(picture),
                    user_type: provider.user_type(),
                    created_at: t,
                    updated_at: t,
                },
            )
            .await;
            match inserted {
                Ok(u) => (u, true),
                // Two first logins at once: the other one created it.
                Err(DbError::Conflict(_)) => (
                    accounts::find_user_by_email(&app.db, email.as_str())
                        .await?
                        .ok_or_else(|| AppError::conflict("잠시 후 다시 시도해 주세요."))?,
                    false,
                ),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let headers = session_headers(app, &user).await?;
    let text = if created {
        "회원가입이 완료되었습니다.".to_string()
    } else {
        format!("{}님 환영합니다.", user.username)
    };
    let body: Json<Message> = message(text);
    Ok((StatusCode::OK, headers, body))
}
