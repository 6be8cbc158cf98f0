//! Everyone's friend channels: `POST /channel/create`, `POST /channel/join`,
//! `GET /channel/findAll`, `GET /channel/{email}` (the user's joined channels) and the chat log,
//! `GET /channel/{roomId}/chats`. A channel's id here is its uuid, which is also the room id
//! `enterChannel` takes; `room:lobby` is the lobby.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Caller, field, limit, text};
use crate::app::AppState;
use crate::domain::Email;
use crate::error::{AppError, AppResult};
use crate::http::extract::{ClientIp, JsonBody, history_limit, query};
use crate::http::reply::Message;
use crate::store::accounts;
use crate::store::channels::{self as store, Channel, NewChannel};
use crate::store::db::DbError;
use crate::store::messages::{ChatMessage, Cursor};
use crate::views::LOBBY_ROOM;

const UNKNOWN_CHANNEL: &str = "존재하지 않는 채널입니다.";
/// Title and intro: the original's VARCHAR(255) columns.
const MAX_TITLE: usize = 255;
const MAX_DESCRIPTION: usize = 1000;
/// `findAll` answers at most this many channels a page.
pub const MAX_LIST: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channel/create", post(create_channel))
        .route("/channel/join", post(join_channel))
        // A static segment wins over a parameter, so findAll is not taken as an e-mail (the
        // original's bug: its `/:email` route was registered first).
        .route("/channel/findAll", get(find_all))
        .route("/channel/{key}", get(joined_channels))
        .route("/channel/{key}/chats", get(channel_chats))
}

/// A channel as the original showed it.
#[derive(Serialize, ToSchema)]
pub struct FriendChannel {
    /// The channel's uuid: its room id for `enterChannel`.
    id: String,
    title: String,
    intro: String,
    description: Option<String>,
}

impl From<&Channel> for FriendChannel {
    fn from(c: &Channel) -> Self {
        FriendChannel {
            id: c.uuid.clone(),
            title: c.name.clone(),
            intro: c.intro.clone(),
            description: c.description.clone(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBody {
    /// Not blank; at most 255 characters once trimmed.
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"\S"
    )]
    title: Option<String>,
    /// Not blank; at most 255 characters once trimmed.
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"\S"
    )]
    intro: Option<String>,
    /// At most 1000 characters.
    #[schema(max_length = 1000)]
    description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct JoinBody {
    #[schema(required = true, nullable = false)]
    email: Option<String>,
    /// The channel's uuid.
    #[schema(required = true, nullable = false)]
    channel: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page (default 1).
    #[param(minimum = 1)]
    page: Option<i64>,
    /// Channels per page (default and at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatsQuery {
    /// Messages with a smaller sequence number (the next page back); default: the newest.
    before: Option<i64>,
    /// Messages per page (default `CHAT_HISTORY_PAGE`, 50; at most `CHAT_HISTORY_MAX`, 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

/// A message as `sendMessage` carries it, with its place in the channel's log.
#[derive(Serialize, ToSchema)]
pub struct FriendChat {
    id: String,
    /// The channel's sequence number (the same as the channel dialect's).
    seq: i64,
    nickname: String,
    message: String,
    /// ISO 8601, UTC, milliseconds.
    date: String,
}

impl From<ChatMessage> for FriendChat {
    fn from(m: ChatMessage) -> Self {
        let date = m.created_iso();
        FriendChat {
            id: m.id,
            seq: m.seq,
            nickname: m.nickname,
            message: m.text,
            date,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatsPage {
    /// Newest first.
    chats: Vec<FriendChat>,
    /// Older messages remain: ask again with `before=nextBefore`.
    has_more: bool,
    next_before: Option<i64>,
}

/// A channel by its room id: `room:lobby` or a channel's uuid.
pub async fn by_room_id(state: &AppState, room_id: &str) -> AppResult<Channel> {
    let found = if room_id == LOBBY_ROOM {
        store::find(&state.db, state.lobby_id).await?
    } else if uuid::Uuid::parse_str(room_id).is_ok() {
        store::find_by_uuid(&state.db, &room_id.to_ascii_lowercase()).await?
    } else {
        None
    };
    found.ok_or_else(|| AppError::not_found(UNKNOWN_CHANNEL))
}

/// Makes a channel (owned by the caller when signed in). The answer carries no id, as in the
/// original; the new channel's uuid is also in the `Location` header.
#[utoipa::path(post, path = "/channel/create", tag = "everyones-friend", request_body = CreateBody,
    responses((status = 200, description = "채널 생성 완료", content_type = "text/html", body = String,
                headers(("Location" = String, description = "/channel/<uuid>/chats"))),
              (status = 400, body = Message), (status = 401, body = Message, description = "no token while CHAT_ALLOW_ANONYMOUS is off, or a bad one"),
              (status = 419, body = Message, description = "the token sent expired or was revoked"),
              (status = 429, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn create_channel(
    State(state): State<AppState>,
    Caller(user): Caller,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<CreateBody>,
) -> AppResult<impl IntoResponse> {
    limit(&state, "friend-channel", &ip.to_string())?;
    let title = field("title", &body.title, MAX_TITLE)?;
    let intro = field("intro", &body.intro, MAX_TITLE)?;
    let description = match &body.description {
        None => None,
        Some(d) if d.trim().is_empty() => None,
        some => Some(field("description", some, MAX_DESCRIPTION)?),
    };
    let channel = store::create(
        &state.db,
        NewChannel {
            name: &title,
            intro: &intro,
            description: description.as_deref(),
            owner: user.as_ref().map(|u| u.id),
        },
    )
    .await?;
    let location = HeaderValue::from_str(&format!("/channel/{}/chats", channel.uuid))
        .map_err(AppError::internal)?;
    Ok((
        [(HeaderName::from_static("location"), location)],
        text("채널 생성 완료"),
    ))
}

/// Adds a channel to a user's joined (favourite) channels. With a token, only to the caller's.
#[utoipa::path(post, path = "/channel/join", tag = "everyones-friend", request_body = JoinBody,
    responses((status = 200, description = "채널 가입 성공", content_type = "text/html", body = String),
              (status = 400, body = Message), (status = 401, body = Message, description = "no token while CHAT_ALLOW_ANONYMOUS is off, or a bad one"),
              (status = 403, body = Message, description = "a token for another account"),
              (status = 419, body = Message, description = "the token sent expired or was revoked"),
              (status = 404, body = Message, description = "unknown user or channel"),
              (status = 409, body = Message, description = "이미 가입한 채널입니다."), (status = 429, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn join_channel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<JoinBody>,
) -> AppResult<impl IntoResponse> {
    limit(&state, "friend-join", &ip.to_string())?;
    let email = Email::parse("email", &field("email", &body.email, 320)?)?;
    let room_id = field("channel", &body.channel, 64)?;
    if let Some(me) = &caller
        && me.email != email.as_str()
    {
        return Err(AppError::forbidden(
            "다른 사용자의 채널 목록은 바꿀 수 없습니다.",
        ));
    }
    let user = accounts::find_user_by_email(&state.db, email.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("존재하지 않는 유저입니다."))?;
    let channel = by_room_id(&state, &room_id).await?;
    let added = store::add_member(&state.db, channel.id, user.id)
        .await
        .map_err(|e| match e {
            // The channel went between the lookup and the insert.
            DbError::NotFound => AppError::not_found(UNKNOWN_CHANNEL),
            other => other.into(),
        })?;
    if !added {
        return Err(AppError::conflict("이미 가입한 채널입니다."));
    }
    Ok(text("채널 가입 성공"))
}

/// Every channel (the lobby is `room:lobby`, not listed), oldest first; at most 1000 a page.
#[utoipa::path(get, path = "/channel/findAll", tag = "everyones-friend", params(ListQuery),
    responses((status = 200, body = Vec<FriendChannel>, headers(("X-Total-Count" = i64, description = "channels in all"))),
              (status = 400, body = Message)))]
#[tracing::instrument(skip_all)]
pub async fn find_all(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<impl IntoResponse> {
    let q: ListQuery = query(raw)?;
    let page = q.page.unwrap_or(1);
    let limit = q.limit.unwrap_or(MAX_LIST);
    if page < 1 || !(1..=MAX_LIST).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "page must be at least 1 and limit between 1 and {MAX_LIST}"
        )));
    }
    let (list, total) =
        store::all_but_lobby(&state.db, (page - 1).saturating_mul(limit), limit).await?;
    let body: Vec<FriendChannel> = list.iter().map(FriendChannel::from).collect();
    Ok((
        [(
            HeaderName::from_static("x-total-count"),
            HeaderValue::from(total),
        )],
        Json(body),
    ))
}

/// The user's joined (favourite) channels, in the order joined; `[]` for an unknown address.
#[utoipa::path(get, path = "/channel/{email}", tag = "everyones-friend",
    params(("email" = String, Path, description = "the user's e-mail address")),
    responses((status = 200, body = Vec<FriendChannel>)))]
#[tracing::instrument(skip_all)]
pub async fn joined_channels(
    State(state): State<AppState>,
    Path(email): Path<String>,
) -> AppResult<Json<Vec<FriendChannel>>> {
    let email = email.trim().to_lowercase();
    if email.len() > 320 {
        return Ok(Json(vec![]));
    }
    let Some(user) = accounts::find_user_by_email(&state.db, &email).await? else {
        return Ok(Json(vec![]));
    };
    let list = store::joined_list(&state.db, user.id).await?;
    Ok(Json(list.iter().map(FriendChannel::from).collect()))
}

/// A page of the channel's chat log, newest first: what entering a channel loads. The same
/// messages, with the same `seq`, as the channel dialect's history.
#[utoipa::path(get, path = "/channel/{roomId}/chats", tag = "everyones-friend",
    params(("roomId" = String, Path, description = "a channel's uuid, or room:lobby"), ChatsQuery),
    responses((status = 200, body = ChatsPage), (status = 400, body = Message),
              (status = 401, body = Message, description = "no token while CHAT_ALLOW_ANONYMOUS is off, or a bad one"),
              (status = 404, body = Message),
              (status = 419, body = Message, description = "the token sent expired or was revoked")))]
#[tracing::instrument(skip_all)]
pub async fn channel_chats(
    State(state): State<AppState>,
    _caller: Caller,
    Path(room_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<ChatsPage>> {
    let q: ChatsQuery = query(raw)?;
    let cfg = &state.config.realtime;
    let limit = history_limit(q.limit, cfg)?;
    let channel = by_room_id(&state, &room_id).await?;
    let cursor = q.before.map_or(Cursor::Newest, Cursor::Before);
    let page = state.messages.page(channel.id, cursor, limit).await?;
    let next_before = if page.more {
        page.messages.first().map(|m| m.seq)
    } else {
        None
    };
    Ok(Json(ChatsPage {
        chats: page
            .messages
            .into_iter()
            .rev()
            .map(FriendChat::from)
            .collect(),
        has_more: page.more,
        next_before,
    }))
}
