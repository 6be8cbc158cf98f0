//! The OpenAPI description (utoipa) at `/api-docs/openapi.json`, and Swagger UI at `/api-docs`
//! from files compiled into the binary (works offline).

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "ninecloud", description = "NINE Cloud backend and Socket.IO server. Tokens travel in the `Authorization: Bearer …` and `Refreshtoken` headers; an expired access token is answered with 419."),
    paths(
        super::health::health,
        super::health::ready,
        super::users::signup,
        super::users::complete_signup,
        super::users::signin,
        super::users::renew_token,
        super::users::logout,
        super::users::my_info,
        super::users::edit_my_info,
        super::users::edit_password,
        super::users::signoff,
        super::users::cancel_signoff,
        super::users::signoff_in_progress,
        super::oauth::social_callback,
        super::channels::list_channels,
        super::channels::create_channel,
        super::channels::get_channel,
        super::channels::rename_channel,
        super::channels::delete_channel,
        super::channels::joined_channels,
        super::channels::join_channel,
        super::channels::unjoin_channel,
        super::channels::channel_messages,
        super::diaries::calendar,
        super::diaries::detail,
        super::diaries::post_diary,
        super::diaries::edit_diary,
        super::diaries::delete_diary,
        super::diaries::feeds,
        super::diaries::my_diaries,
        super::diaries::toggle_like,
        super::advice::ask_advice,
        super::insights::month_stats,
        super::insights::export,
        super::comments::add_comment,
        super::comments::list_comments,
        super::comments::edit_comment,
        super::comments::delete_comment,
        super::comments::add_reply,
        super::comments::list_replies,
        super::comments::edit_reply,
        super::comments::delete_reply,
        super::everyones_friend::users::create_user,
        super::everyones_friend::users::update_user,
        super::everyones_friend::users::delete_user,
        super::everyones_friend::auth::login,
        super::everyones_friend::channels::create_channel,
        super::everyones_friend::channels::join_channel,
        super::everyones_friend::channels::find_all,
        super::everyones_friend::channels::joined_channels,
        super::everyones_friend::channels::channel_chats,
    ),
    components(schemas(super::reply::Message, crate::store::accounts::PublicUser, crate::hub::StatsSnapshot)),
    modifiers(&BearerAuth, &CommonResponses),
    tags((name = "users", description = "accounts (contract §4.3)"),
         (name = "oauth", description = "social login (contract §4.4)"),
         (name = "diary", description = "the emotion diary: calendar, diaries, feeds, likes, statistics and export (contract §4.5–4.7; docs/diary.md)"),
         (name = "comments", description = "comments and replies (contract §4.8–4.9)"),
         (name = "channels", description = "channels and chat logs for the channel dialect; the live side is Socket.IO (docs/realtime.md)"),
         (name = "everyones-friend", description = "the Everyone's friend routes, as its clients call them (contract everyones-friend-api.md §2, with the fixes of §7; off with EVERYONES_FRIEND=false); the live side is its Socket.IO dialect, getMessage / enterChannel / sendMessage (docs/realtime.md)"),
         (name = "operations", description = "health and readiness"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The statuses any operation of a kind can answer, added where its own annotation does not
/// name them, so that the document lists every status the server sends (scripts/test.sh runs
/// schemathesis against it). Each comes from one shared mechanism: the `AuthUser` extractor,
/// the body and parameter extractors, the connection caps of `serve`, the database pool.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let authed = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = op.request_body.is_some();
                let mut common = Vec::new();
                if authed {
                    common.push(("401", "no access token, or an invalid one (로그인이 필요합니다, 유효하지 않은 토큰입니다)"));
                    common.push(("419", "the access token expired or was revoked (logout, sign-off, password change): renew it with POST /token"));
                }
                if has_params || has_body {
                    common.push(("400", "a parameter or field out of its range or of the wrong form; the message names it"));
                }
                if has_body {
                    common.push(("408", "the body did not arrive within HTTP_BODY_TIMEOUT"));
                    common.push((
                        "413",
                        "the body is over JSON_MAX_BYTES (UPLOAD_MAX_BYTES for forms)",
                    ));
                }
                common.push(("429", "too many requests or connections from this address (HTTP_MAX_CONNECTIONS_PER_IP, AUTH_RATE_LIMIT_PER_MINUTE)"));
                common.push((
                    "503",
                    "the database is unreachable, or the server is at HTTP_MAX_CONNECTIONS",
                ));
                for (status, description) in common {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| message_response(description));
                }
            }
        }
    }
}

fn message_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Message")))
                    .build(),
            )
            .build(),
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(SwaggerUi::new("/api-docs").url("/api-docs/openapi.json", ApiDoc::openapi()))
}
