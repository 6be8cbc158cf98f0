//! The OpenAPI description (utoipa) at `/api-docs/openapi.json`, and Swagger UI at `/api-docs`
//! from files compiled into the binary (works offline).

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    ),
    components(schemas(super::Message, crate::store::accounts::PublicUser, crate::realtime::StatsSnapshot)),
    modifiers(&BearerAuth),
    tags((name = "users", description = "accounts (contract §4.3)"),
         (name = "oauth", description = "social login (contract §4.4)"),
         (name = "diary", description = "the emotion diary: calendar, diaries, feeds, likes, statistics and export (contract §4.5–4.7; docs/diary.md)"),
         (name = "comments", description = "comments and replies (contract §4.8–4.9)"),
         (name = "channels", description = "Everyone's friend channels and chat logs; the live side is Socket.IO (docs/realtime.md)"),
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

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(SwaggerUi::new("/api-docs").url("/api-docs/openapi.json", ApiDoc::openapi()))
}
