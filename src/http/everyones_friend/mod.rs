//! The Everyone's friend REST routes (contract `everyones-friend-api.md` §2, with the fixes of
//! §7): `/user/create|update|delete`, `/login`, `/channel/create|join`, `/channel/{email}`,
//! `/channel/findAll`, and the chat log the original never served, `/channel/{roomId}/chats`.
//! Mounted unless `EVERYONES_FRIEND=false`. One module per area, as the original kept one
//! Swagger file per operation; every operation is tagged `everyones-friend`.
//!
//! What a client of the original sees unchanged: the paths, methods and body fields, the
//! success strings (sent as `text/html; charset=utf-8`, as Express sent them), `/login`'s
//! `true` and its 422/401 `{message}`. What is fixed: errors are real 4xx `{message}` (never
//! 200, never a hang), duplicates are refused, `findAll` works, and changing or deleting an
//! account takes that account's token.

pub mod auth;
pub mod channels;
pub mod common;
pub mod users;

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(auth::router())
        .merge(channels::router())
}
