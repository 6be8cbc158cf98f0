//! AI advice on one's diary: `POST /diary/{id}/advice`, as JSON or, with
//! `Accept: text/event-stream`, as Server-Sent Events while it is generated (src/advice.rs has
//! the providers).
//!
//! An answer is kept, and counted against the owner's day (`AI_DAILY_LIMIT`), only when it
//! arrived whole: a provider failure answers 502/503/504 with `{message}` and changes nothing,
//! and a client that hangs up mid-stream ends the generation with nothing stored.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration as ChronoDuration, NaiveDateTime};
use futures::StreamExt;
use serde_json::json;

use super::diaries::{AdviceJson, DIARY_NOT_FOUND, visible_diary};
use super::extract::{AuthUser, id_param};
use crate::advice::{AdviceError, Deltas, DiaryFacts};
use crate::app::{App, AppState};
use crate::domain::diary::{instant_of, wall_clock};
use crate::error::{AppError, AppResult};
use crate::store::advice::{self, Advice, SaveError};
use crate::store::db::DbError;

pub fn router() -> Router<AppState> {
    Router::new().route("/diary/{id}/advice", post(ask_advice))
}

/// Asks for advice on one's diary and keeps it with the diary (asking again replaces it).
///
/// With `Accept: text/event-stream` the answer comes as events while it is generated: `delta`
/// (`{"text": …}`, pieces to append), then `done` (the stored `{advice, model, createdAt}`) or
/// `error` (`{"message": …}`, nothing stored).
#[utoipa::path(post, path = "/diary/{id}/advice", tag = "diary", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")),
    responses(
        (status = 201, description = "the advice, stored with the diary", content(
            (AdviceJson = "application/json"),
            (String = "text/event-stream", example = "event: delta\ndata: {\"text\":\"오늘 \"}\n\nevent: done\ndata: {\"advice\":\"오늘 …\",\"model\":\"builtin\",\"createdAt\":\"…\"}\n\n"))),
        (status = 403, body = super::reply::Message, description = "someone else's diary: only its owner may ask"),
        (status = 404, body = super::reply::Message, description = "존재하지 않는 일기입니다"),
        (status = 409, body = super::reply::Message, description = "advice for this user is being generated already"),
        (status = 429, body = super::reply::Message, description = "AI_DAILY_LIMIT answers today already (Retry-After: until midnight)"),
        (status = 502, body = super::reply::Message, description = "the provider is unreachable, refused the request (401, 403, 404) or sent something unreadable"),
        (status = 503, body = super::reply::Message, description = "the provider's rate limit (its 429)"),
        (status = 504, body = super::reply::Message, description = "the provider did not answer within AI_TIMEOUT")))]
#[tracing::instrument(skip_all)]
pub async fn ask_advice(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let id = id_param("diaryId", &id)?;
    let diary = visible_diary(&app, id, &user, DIARY_NOT_FOUND).await?;
    if diary.user_id != user.id {
        return Err(AppError::forbidden(
            "자신의 일기에만 AI 조언을 받을 수 있습니다.",
        ));
    }
    let day = Day::today(&app);
    let limit = app.config.ai.daily_limit;
    if limit > 0 && advice::used_since(&app.db, user.id, day.start).await? >= i64::from(limit) {
        return Err(day.limit_reached(limit));
    }
    let turn = Turn::take(&app, user.id).ok_or_else(|| {
        AppError::conflict("이 계정의 AI 조언을 이미 만들고 있습니다. 잠시 후 다시 시도해 주세요.")
    })?;
    let facts = DiaryFacts::of(&diary, app.config.ai.max_input_chars);
    if wants_events(&headers) {
        let deltas = app.advisor.stream(&facts).await.map_err(provider_error)?;
        let events = events(app.clone(), diary.id, user.id, day, deltas, turn);
        // Nginx (nginx/, the blue/green front) would otherwise buffer the stream whole.
        let unbuffered = [(HeaderName::from_static("x-accel-buffering"), "no")];
        return Ok((StatusCode::CREATED, unbuffered, events).into_response());
    }
    let text = app.advisor.advise(&facts).await.map_err(provider_error)?;
    let kept = keep(&app, diary.id, user.id, &day, text).await?;
    drop(turn);
    Ok((StatusCode::CREATED, Json(AdviceJson::from(kept))).into_response())
}

fn wants_events(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}

/// Today in `DIARY_TIME_ZONE`: when it began and when it ends, as UTC instants.
struct Day {
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: NaiveDateTime,
}

impl Day {
    fn today(app: &App) -> Day {
        let tz = app.config.diary.time_zone;
        let now = app.clock.now();
        let midnight = wall_clock(now, tz)
            .date()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        Day {
            start: instant_of(midnight, tz),
            end: instant_of(midnight + ChronoDuration::days(1), tz),
            now,
        }
    }

    fn limit_reached(&self, limit: u32) -> AppError {
        let wait = (self.end - self.now).num_seconds().max(1) as u64;
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("AI 조언은 하루에 {limit}번까지 받을 수 있습니다. 내일 다시 시도해 주세요."),
        )
        .with_retry_after(wait)
    }
}

/// One generation at a time per user on this instance; released when dropped.
struct Turn {
    app: AppState,
    user: i64,
}

impl Turn {
    fn take(app: &AppState, user: i64) -> Option<Turn> {
        let mut busy = app.advising.lock().unwrap_or_else(|p| p.into_inner());
        busy.insert(user).then(|| Turn {
            app: app.clone(),
            user,
        })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut busy = self.app.advising.lock().unwrap_or_else(|p| p.into_inner());
        busy.remove(&self.user);
    }
}

fn provider_error(e: AdviceError) -> AppError {
    let status = match e {
        AdviceError::Timeout => StatusCode::GATEWAY_TIMEOUT,
        AdviceError::RateLimited => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    tracing::warn!(error = %e, "AI advice failed");
    AppError::new(status, e.to_string())
}

/// Stores a whole answer and counts it; the limit is checked again under the owner's row lock.
async fn keep(app: &App, diary_id: i64, owner: i64, day: &Day, text: String) -> AppResult<Advice> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(provider_error(AdviceError::Empty));
    }
    let advice = Advice {
        diary_id,
        advice: text,
        model: app.advisor.model().to_string(),
        created_at: crate::store::db::now(),
    };
    let limit = app.config.ai.daily_limit;
    match advice::save(&app.db, &advice, owner, day.start, limit).await {
        Ok(()) => Ok(advice),
        Err(SaveError::LimitReached) => Err(day.limit_reached(limit)),
        Err(SaveError::Db(DbError::NotFound)) => Err(AppError::not_found(DIARY_NOT_FOUND)),
        Err(SaveError::Db(e)) => Err(e.into()),
    }
}

/// The event stream of one generation. It is driven by the client's connection: when the client
/// goes away the body is dropped, and with it the provider's stream and this state, before
/// anything is stored.
fn events(
    app: AppState,
    diary_id: i64,
    owner: i64,
    day: Day,
    deltas: Deltas,
    turn: Turn,
) -> Sse<impl futures::Stream<Item = Result<Event, std::convert::Infallible>>> {
    struct Generation {
        app: AppState,
        diary_id: i64,
        owner: i64,
        day: Day,
        deltas: Deltas,
        text: String,
        _turn: Turn,
    }
    let state = Some(Generation {
        app,
        diary_id,
        owner,
        day,
        deltas,
        text: String::new(),
        _turn: turn,
    });
    let stream = futures::stream::unfold(state, |state| async move {
        let mut g = state?;
        match g.deltas.next().await {
            Some(Ok(piece)) => {
                g.text.push_str(&piece);
                let event = Event::default()
                    .event("delta")
                    .data(json!({ "text": piece }).to_string());
                Some((Ok(event), Some(g)))
            }
            Some(Err(e)) => {
                let e = provider_error(e);
                Some((Ok(error_event(&e)), None))
            }
            None => {
                let text = std::mem::take(&mut g.text);
                let event = match keep(&g.app, g.diary_id, g.owner, &g.day, text).await {
                    Ok(kept) => Event::default()
                        .event("done")
                        .data(json!(AdviceJson::from(kept)).to_string()),
                    Err(e) => error_event(&e),
                };
                Some((Ok(event), None))
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn error_event(e: &AppError) -> Event {
    Event::default()
        .event("error")
        .data(json!({ "message": e.message, "status": e.status.as_u16() }).to_string())
}
