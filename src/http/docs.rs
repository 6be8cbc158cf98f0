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
    ),
    components(schemas(super::Message, crate::store::accounts::PublicUser, crate::realtime::StatsSnapshot)),
    modifiers(&BearerAuth),
    tags((name = "users", description = "accounts (contract §4.3)"),
         (name = "oauth", description = "social login (contract §4.4)"),
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
