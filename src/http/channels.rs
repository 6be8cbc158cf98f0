//! Channels of the Everyone's friend chat over REST: list (with member and online counts),
//! create, read, rename and delete (owner only), the user's joined (favourite) channels,
//! join/unjoin, and a channel's chat log with cursor pagination. All routes need a signed-in
//! user. The live side (entering a room, sending) is the socket dialect in `realtime::channels`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AuthUser, JsonBody, history_limit, query};
use super::reply::{Message, message};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store::channels::{self as store, Channel};
use crate::store::messages::{ChatMessage, Cursor};
use crate::views::ChannelView;

const MAX_NAME_CHARS: usize = 50;
const MAX_PAGE: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels", get(list_channels).post(create_channel))
        .route("/channels/joined", get(joined_channels))
        .route(
            "/channels/{id}",
            get(get_channel)
                .patch(rename_channel)
                .delete(delete_channel),
        )
        .route(
            "/channels/{id}/join",
            post(join_channel).delete(unjoin_channel),
        )
        .route("/channels/{id}/messages", get(channel_messages))
}

#[derive(Serialize, ToSchema)]
pub struct ChannelAnswer {
    pub channel: ChannelView,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelView>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
}

#[derive(Serialize, ToSchema)]
pub struct JoinedList {
    pub channels: Vec<ChannelView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<ChatMessage>,
    /// More messages lie beyond this page (older with `before`, newer with `after`).
    pub has_more: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct NameBody {
    /// Not blank; at most 50 characters once trimmed.
    #[schema(required = true, nullable = false, max_length = 50, pattern = r"\S")]
    name: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page (default 1).
    #[param(minimum = 1)]
    page: Option<i64>,
    /// Channels per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Messages with a smaller sequence number (the newest such page); default: the newest.
    before: Option<i64>,
    /// Messages with a greater sequence number (the oldest such page); for catching up.
    after: Option<i64>,
    /// Messages per page (default `CHAT_HISTORY_PAGE`, 50; at most `CHAT_HISTORY_MAX`, 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

/// A channel id from the path: the number, or the channel's uuid (Everyone's friend's id).
async fn channel_id(state: &AppState, raw: &str) -> AppResult<i64> {
    if let Ok(id) = raw.parse() {
        return Ok(id);
    }
    if uuid::Uuid::parse_str(raw).is_err() {
        return Err(AppError::bad_request(
            "channel id must be a number or a channel's uuid",
        ));
    }
    store::find_by_uuid(&state.db, &raw.to_ascii_lowercase())
        .await?
        .map(|c| c.id)
        .ok_or_else(|| AppError::not_found("unknown channel"))
}

fn channel_name(body: &NameBody) -> AppResult<String> {
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::bad_request("\"name\" is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_request(format!(
            "\"name\" is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}

async fn found(state: &AppState, id: i64) -> AppResult<Channel> {
    store::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("unknown channel"))
}

fn owned_by(channel: &Channel, user: i64) -> AppResult<()> {
    match channel.owner_id {
        _ if channel.is_lobby => Err(AppError::forbidden(
            "the lobby cannot be renamed or deleted",
        )),
        Some(owner) if owner == user => Ok(()),
        _ => Err(AppError::forbidden(
            "only the channel's owner may rename or delete it",
        )),
    }
}

async fn online(state: &AppState, channel: i64) -> usize {
    match state.hub() {
        Some(hub) => hub.online_users(channel).await.len(),
        None => 0,
    }
}

async fn views(state: &AppState, list: Vec<(Channel, i64)>) -> Vec<ChannelView> {
    let counts = futures::future::join_all(list.iter().map(|(c, _)| online(state, c.id))).await;
    list.iter()
        .zip(counts)
        .map(|((c, members), online)| ChannelView::new(c, *members, online))
        .collect()
}

async fn view(state: &AppState, id: i64) -> AppResult<ChannelView> {
    let (c, members) = store::one_with_count(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("unknown channel"))?;
    let online = online(state, id).await;
    Ok(ChannelView::new(&c, members, online))
}

/// Every channel, the lobby first, with member and online counts.
#[utoipa::path(get, path = "/channels", tag = "channels", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = ChannelList), (status = 400, body = Message), (status = 401, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn list_channels(
    State(state): State<AppState>,
    _user: AuthUser,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<ChannelList>> {
    let q: PageQuery = query(raw)?;
    let page = q.page.unwrap_or(1);
    let limit = q.limit.unwrap_or(20);
    if page < 1 || !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "page must be at least 1 and limit between 1 and {MAX_PAGE}"
        )));
    }
    let found = store::page(&state.db, (page - 1).saturating_mul(limit), limit).await?;
    Ok(Json(ChannelList {
        channels: views(&state, found.channels).await,
        page,
        limit,
        total: found.total,
    }))
}

/// Creates a channel owned by the caller, who also joins it.
#[utoipa::path(post, path = "/channels", tag = "channels", request_body = NameBody, security(("bearer" = [])),
    responses((status = 201, body = ChannelAnswer), (status = 400, body = Message), (status = 401, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn create_channel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<NameBody>,
) -> AppResult<impl IntoResponse> {
    let name = channel_name(&body)?;
    let channel = store::create(
        &state.db,
        store::NewChannel {
            name: &name,
            intro: "",
            description: None,
            owner: Some(user.id),
        },
    )
    .await?;
    store::add_member(&state.db, channel.id, user.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(ChannelAnswer {
            channel: ChannelView::new(&channel, 1, 0),
        }),
    ))
}

#[utoipa::path(get, path = "/channels/{id}", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[0-9]{1,18}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "channel id, or the channel's uuid")),
    responses((status = 200, body = ChannelAnswer), (status = 400, body = Message), (status = 404, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn get_channel(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<ChannelAnswer>> {
    let id = channel_id(&state, &id).await?;
    Ok(Json(ChannelAnswer {
        channel: view(&state, id).await?,
    }))
}

#[utoipa::path(patch, path = "/channels/{id}", tag = "channels", request_body = NameBody, security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[0-9]{1,18}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "channel id, or the channel's uuid")),
    responses((status = 200, body = ChannelAnswer), (status = 400, body = Message),
              (status = 403, body = Message, description = "not the owner, or the lobby"), (status = 404, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn rename_channel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NameBody>,
) -> AppResult<Json<ChannelAnswer>> {
    let id = channel_id(&state, &id).await?;
    let channel = found(&state, id).await?;
    owned_by(&channel, user.id)?;
    let name = channel_name(&body)?;
    store::rename(&state.db, id, &name).await?;
    let view = view(&state, id).await?;
    if let Some(hub) = state.hub() {
        hub.channel_updated(id, serde_json::json!({ "channel": &view }))
            .await;
    }
    Ok(Json(ChannelAnswer { channel: view }))
}

/// Deletes the channel with its chat log; its sockets get `channel:deleted`.
#[utoipa::path(delete, path = "/channels/{id}", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[0-9]{1,18}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "channel id, or the channel's uuid")),
    responses((status = 200, body = Message), (status = 403, body = Message), (status = 404, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn delete_channel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<Message>> {
    let id = channel_id(&state, &id).await?;
    let channel = found(&state, id).await?;
    owned_by(&channel, user.id)?;
    // The log first: if that fails the channel is still there to retry on.
    state.messages.delete_channel(id).await?;
    store::delete(&state.db, id).await?;
    if let Some(hub) = state.hub() {
        hub.channel_deleted(id).await;
    }
    Ok(message("channel deleted"))
}

/// The caller's joined (favourite) channels, in the order joined.
#[utoipa::path(get, path = "/channels/joined", tag = "channels", security(("bearer" = [])),
    responses((status = 200, body = JoinedList), (status = 401, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn joined_channels(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<JoinedList>> {
    let list = store::joined_by(&state.db, user.id).await?;
    Ok(Json(JoinedList {
        channels: views(&state, list).await,
    }))
}

/// Adds the channel to the caller's favourites (201; 200 when it already was one).
#[utoipa::path(post, path = "/channels/{id}/join", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[0-9]{1,18}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "channel id, or the channel's uuid")),
    responses((status = 201, body = ChannelAnswer), (status = 200, body = ChannelAnswer, description = "already joined"),
              (status = 404, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn join_channel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = channel_id(&state, &id).await?;
    found(&state, id).await?;
    let added = store::add_member(&state.db, id, user.id).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(ChannelAnswer {
            channel: view(&state, id).await?,
        }),
    ))
}

/// Removes the channel from the caller's favourites.
#[utoipa::path(delete, path = "/channels/{id}/join", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[0-9]{1,18}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "channel id, or the channel's uuid")),
    responses((status = 200, body = Message), (status = 404, body = Message, description = "unknown channel or not joined")))]
#[tracing::instrument(skip_all)]
pub async fn unjoin_channel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<Message>> {
    let id = channel_id(&state, &id).await?;
    found(&state, id).await?;
    if !store::remove_member(&state.db, id, user.id).await? {
        return Err(AppError::not_found("you had not joined this channel"));
    }
    Ok(message("channel left"))
}

/// A page of the channel's chat log, oldest first: the newest messages, those before a
/// sequence number (scrolling back), or those after one (catching up).
#[utoipa::path(get, path = "/channels/{id}/messages", tag = "channels", params(("id" = String, Path, pattern = r"^[0-9]{1,18}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "channel id, or the channel's uuid"), LogQuery),
    security(("bearer" = [])),
    responses((status = 200, body = MessagePage), (status = 400, body = Message), (status = 404, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn channel_messages(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<MessagePage>> {
    let id = channel_id(&state, &id).await?;
    let q: LogQuery = query(raw)?;
    found(&state, id).await?;
    let cfg = &state.config.realtime;
    let limit = history_limit(q.limit, cfg)?;
    let cursor = Cursor::from_bounds(q.after, q.before)
        .map_err(|_| AppError::bad_request("give either before or after, not both"))?;
    let page = state.messages.page(id, cursor, limit).await?;
    Ok(Json(MessagePage {
        messages: page.messages,
        has_more: page.more,
    }))
}
