//! The emotion diary (contract §4.5–4.7): calendar, detail, writing with a drawing, editing,
//! deleting, the community feed, one's own list, and likes.
//!
//! Field names, success codes and message strings are the ones the NINE Cloud front end reads.
//! Failures it only shows or ignores get proper 4xx codes instead of the original's 300, 401 and
//! 500 (see docs/diary.md for the table). One quirk stays because the front end depends on it:
//! `PATCH /diary/edit/:id` without `isPublic` makes the diary private (the front end sends
//! `isPublic` only when it is true).

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AuthUser, JsonBody, id_param, query};
use super::multipart::{drain, multipart_error, not_multipart, read_upload};
use crate::app::{App, AppState};
use crate::domain::diary::{
    self, DiaryInput, calendar_label, cursor_instant, js_iso, month_bounds, reference_date,
    wall_clock,
};
use crate::domain::field_error;
use crate::domain::image::Purpose;
use crate::error::{AppError, AppResult};
use crate::store::accounts::User;
use crate::store::advice::{self as advice_store, Advice};
use crate::store::db::DbError;
use crate::store::diaries::{self, Author, Diary, DiaryFilter, Like, NewDiary};
use crate::store::objects;

pub const DIARY_NOT_FOUND: &str = "존재하지 않는 일기입니다";
const DAY_TAKEN: &str = "오늘은 이미 작성한 글이 있습니다.  수정하시겠습니까?";
const NOTHING_TO_EDIT: &str = "작성된 일기가 없습니다";
const NOTHING_TO_DELETE: &str = "삭제하려는 일기가 존재하지 않습니다";
const NOTHING_TO_LIKE: &str = "해당하는 일기가 없습니다";
/// The feeds' page size, as the front end's infinite scroll expects.
pub const PAGE_SIZE: i64 = 10;
const MAX_PAGE: i64 = 100_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/diary/calendar/{year}/{month}", get(calendar))
        .route("/diary/detail/{id}", get(detail))
        .route("/diary/posting", post(post_diary))
        .route("/diary/edit/{id}", patch(edit_diary))
        .route("/diary/delete/{id}", delete(delete_diary))
        .route("/feeds", get(feeds))
        .route("/feeds/mydiaries", get(my_diaries))
        .route("/feeds/{id}/like", post(toggle_like))
}

/// A month named by the path (`/2024/1`): the year and its first and last day.
pub fn year_month(year: &str, month: &str) -> AppResult<(i32, NaiveDate, NaiveDate)> {
    let y = year
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (1..=9999).contains(y))
        .ok_or_else(|| field_error("year", "항목은 1에서 9999 사이의 정수여야 합니다."))?;
    let (first, last) = month
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|m| month_bounds(y, m))
        .ok_or_else(|| field_error("month", "항목은 1에서 12 사이의 정수여야 합니다."))?;
    Ok((y, first, last))
}

/// `EmotionStatus` as a JSON number: whole values as integers (`3`, as the original wrote
/// them), halves as they are (`3.5`).
fn emotion_number<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Who wrote a diary, comment or reply.
#[derive(Serialize, ToSchema)]
pub struct AuthorJson {
    username: String,
    #[serde(rename = "profileImg")]
    profile_img: Option<String>,
}

impl From<Author> for AuthorJson {
    fn from(a: Author) -> Self {
        AuthorJson {
            username: a.username,
            profile_img: a.profile_img,
        }
    }
}

/// A diary as the front end reads it (contract §2.2). `createdAt` is the wall-clock time of the
/// diary's zone written with a `Z` (§1.5); the calendar puts `"Y. M. D."` there instead.
#[derive(Serialize, ToSchema)]
pub struct DiaryJson {
    #[serde(rename = "diaryId")]
    diary_id: i64,
    #[serde(rename = "UserId")]
    user_id: i64,
    #[serde(rename = "EmotionStatus", serialize_with = "emotion_number")]
    emotion_status: f64,
    image: Option<String>,
    /// The editor's HTML, sanitized.
    content: String,
    #[serde(rename = "isPublic")]
    is_public: bool,
    #[serde(rename = "viewCount")]
    view_count: i64,
    #[serde(rename = "likeCount")]
    like_count: i64,
    sentence: Option<String>,
    /// "1" rain, "2" cloudy, "3" sunny.
    weather: String,
    temperature: Option<String>,
    humid: Option<String>,
    sleep: Option<String>,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "deletedAt")]
    deleted_at: Option<String>,
    /// The author, in feeds.
    #[serde(rename = "User", skip_serializing_if = "Option::is_none")]
    user: Option<AuthorJson>,
}

pub fn diary_json(app: &App, d: Diary, author: Option<Author>) -> DiaryJson {
    let created_at = js_iso(wall_clock(d.created_at, app.config.diary.time_zone));
    DiaryJson {
        diary_id: d.id,
        user_id: d.user_id,
        emotion_status: d.emotion_status,
        image: d.image,
        content: d.content,
        is_public: d.is_public,
        view_count: d.view_count,
        like_count: d.like_count,
        sentence: d.sentence,
        weather: d.weather,
        temperature: d.temperature,
        humid: d.humid,
        sleep: d.sleep,
        created_at,
        updated_at: js_iso(d.updated_at),
        deleted_at: None,
        user: author.map(AuthorJson::from),
    }
}

/// The caller's like of a diary (`like.likeExist` decides the heart on the detail page).
#[derive(Serialize, ToSchema)]
pub struct LikeJson {
    #[serde(rename = "diarylikeId")]
    id: i64,
    #[serde(rename = "UserId")]
    user_id: i64,
    #[serde(rename = "DiaryId")]
    diary_id: i64,
    #[serde(rename = "likeExist")]
    like_exist: bool,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
}

impl From<Like> for LikeJson {
    fn from(l: Like) -> Self {
        LikeJson {
            id: l.id,
            user_id: l.user_id,
            diary_id: l.diary_id,
            like_exist: true,
            created_at: js_iso(l.created_at),
            updated_at: js_iso(l.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CalendarOwner {
    #[serde(rename = "userId")]
    user_id: i64,
    #[serde(rename = "profileImg")]
    profile_img: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarAnswer {
    /// One entry per day of the month: the diary of that day or `null`.
    data: Vec<Option<DiaryJson>>,
    #[serde(rename = "userProfileImg")]
    user_profile_img: CalendarOwner,
}

#[derive(Serialize, ToSchema)]
pub struct DetailAnswer {
    data: DiaryJson,
    like: Option<LikeJson>,
    /// The AI advice on this diary, for its owner only; `null` until asked
    /// (`POST /diary/{id}/advice`) and for everyone else.
    advice: Option<AdviceJson>,
}

#[derive(Serialize, ToSchema)]
pub struct DiaryAnswer {
    message: String,
    data: DiaryJson,
}

/// A page of diaries. There is deliberately no `next`: the front end keeps paging while `next`
/// is falsy and stops at an empty page.
#[derive(Serialize, ToSchema)]
pub struct DiaryList {
    data: Vec<DiaryJson>,
}

fn diary_answer(app: &App, message: &str, d: Diary) -> Json<DiaryAnswer> {
    Json(DiaryAnswer {
        message: message.into(),
        data: diary_json(app, d, None),
    })
}

/// The diary if `user` may see it: theirs, or public. Anything else is "not there", so a private
/// A diary's advice, as answered and as `GET /diary/detail/{id}` carries it.
#[derive(Serialize, ToSchema)]
pub struct AdviceJson {
    advice: String,
    /// The provider's model, or `builtin`.
    model: String,
    #[serde(rename = "createdAt")]
    created_at: String,
}

impl From<Advice> for AdviceJson {
    fn from(a: Advice) -> Self {
        AdviceJson {
            advice: a.advice,
            model: a.model,
            created_at: js_iso(a.created_at),
        }
    }
}

/// The advice of a diary for its owner; `None` for anyone else or when never asked.
pub async fn advice_for(app: &App, d: &Diary, viewer: i64) -> AppResult<Option<AdviceJson>> {
    if d.user_id != viewer {
        return Ok(None);
    }
    Ok(advice_store::find(&app.db, d.id)
        .await?
        .map(AdviceJson::from))
}

/// diary's existence is not given away.
pub async fn visible_diary(app: &App, id: i64, user: &User, missing: &str) -> AppResult<Diary> {
    diaries::find(&app.db, id)
        .await?
        .filter(|d| d.visible_to(user.id))
        .ok_or_else(|| AppError::not_found(missing))
}

/// The diary's month as a calendar: one slot per day, including the last.
#[utoipa::path(get, path = "/diary/calendar/{year}/{month}", tag = "diary", security(("bearer" = [])),
    params(("year" = i32, Path, minimum = 1, maximum = 9999), ("month" = u32, Path, minimum = 1, maximum = 12, description = "1–12, unpadded as the front end sends it")),
    responses((status = 200, body = CalendarAnswer), (status = 400, body = super::reply::Message), (status = 401, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn calendar(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path((year, month)): Path<(String, String)>,
) -> AppResult<Json<CalendarAnswer>> {
    let (_, first, last) = year_month(&year, &month)?;
    let mut days: Vec<Option<DiaryJson>> = (0..last.day()).map(|_| None).collect();
    for d in diaries::on_days(&app.db, user.id, first, last).await? {
        let index = (d.local_date - first).num_days() as usize;
        let label = calendar_label(d.local_date);
        if let Some(slot) = days.get_mut(index) {
            let mut json = diary_json(&app, d, None);
            json.created_at = label;
            *slot = Some(json);
        }
    }
    Ok(Json(CalendarAnswer {
        data: days,
        // The original always sent null here (a `=` for `===`); this is the picture it meant.
        user_profile_img: CalendarOwner {
            user_id: user.id,
            profile_img: user.profile_img.clone(),
        },
    }))
}

/// One diary with the caller's like. A view by someone other than the owner counts once per
/// viewer and diary within `DIARY_VIEW_WINDOW`.
#[utoipa::path(get, path = "/diary/detail/{id}", tag = "diary", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")),
    responses((status = 200, body = DetailAnswer), (status = 404, body = super::reply::Message, description = "존재하지 않는 일기입니다 (also for someone else's private diary)")))]
#[tracing::instrument(skip_all)]
pub async fn detail(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<DetailAnswer>> {
    let id = id_param("diaryId", &id)?;
    let mut d = visible_diary(&app, id, &user, DIARY_NOT_FOUND).await?;
    if d.user_id != user.id {
        let window = TimeDelta::from_std(app.config.diary.view_window).unwrap_or_default();
        if diaries::count_view(&app.db, d.id, user.id, app.clock.now(), window).await? {
            d.view_count += 1;
        }
    }
    let like = diaries::find_like(&app.db, id, user.id).await?;
    let advice = advice_for(&app, &d, user.id).await?;
    Ok(Json(DetailAnswer {
        data: diary_json(&app, d, None),
        like: like.map(LikeJson::from),
        advice,
    }))
}

/// Writes today's diary: the drawing in the file field `image` (a PNG `Blob` named `blob`) and
/// the text fields. One diary a day in the diary's time zone; the drawing is stored only once
/// everything else is known to be fine, and removed again if the day was taken meanwhile.
#[utoipa::path(post, path = "/diary/posting", tag = "diary", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = DiaryForm),
    responses((status = 201, body = DiaryAnswer, description = "다이어리 등록 완료"),
              (status = 400, body = super::reply::Message), (status = 409, body = super::reply::Message, description = "오늘은 이미 작성한 글이 있습니다.  수정하시겠습니까?"),
              (status = 413, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn post_diary(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    form: Result<Multipart, MultipartRejection>,
) -> AppResult<impl IntoResponse> {
    let mut form = form.map_err(not_multipart)?;
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut image: Option<bytes::Bytes> = None;
    let read = async {
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_string();
            let is_file = field.file_name().is_some();
            match name.as_str() {
                "image" if is_file => {
                    if image.is_some() {
                        return Err(field_error("image", "항목이 두 번 왔습니다."));
                    }
                    image = Some(read_upload(field, app.config.upload_max_bytes).await?);
                }
                // An empty text field stands for "no drawing", as in the profile form.
                "image" => {
                    if !field
                        .text()
                        .await
                        .map_err(multipart_error)?
                        .trim()
                        .is_empty()
                    {
                        return Err(field_error("image", "항목은 이미지 파일이어야 합니다."));
                    }
                }
                n if diary::FIELDS.contains(&n) => {
                    if is_file {
                        return Err(field_error(n, "항목은 텍스트여야 합니다."));
                    }
                    let text = field.text().await.map_err(multipart_error)?;
                    if fields.insert(name.clone(), text).is_some() {
                        return Err(field_error(&name, "항목이 두 번 왔습니다."));
                    }
                }
                other => return Err(field_error(other, "항목은 허용되지 않습니다.")),
            }
        }
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = read {
        drain(&mut form).await;
        return Err(e);
    }
    let input = DiaryInput::parse(&fields, app.config.diary.content_max_chars)?;
    let image = match image {
        Some(bytes) => Some(app.images.clean(bytes, Purpose::Drawing).await?),
        None => None,
    };
    let tz = app.config.diary.time_zone;
    let at = app.clock.now();
    let day = wall_clock(at, tz).date();
    if diaries::exists_on(&app.db, user.id, day).await? {
        return Err(AppError::conflict(DAY_TAKEN));
    }
    let stored = match image {
        Some(clean) => Some(crate::domain::image::store(&*app.objects, "diaries", clean).await?),
        None => None,
    };
    let inserted = diaries::insert(
        &app.db,
        NewDiary {
            user_id: user.id,
            emotion_status: input.emotion_status,
            image: stored.as_ref().map(|(_, url)| url.as_str()),
            content: &input.content,
            is_public: input.is_public,
            view_count: 0,
            like_count: 0,
            sentence: input.sentence.as_deref(),
            weather: &input.weather,
            temperature: input.temperature.as_deref(),
            humid: input.humid.as_deref(),
            sleep: input.sleep.as_deref(),
            local_date: day,
            created_at: at,
            updated_at: at,
        },
    )
    .await;
    match inserted {
        Ok(d) => Ok((
            StatusCode::CREATED,
            diary_answer(&app, "다이어리 등록 완료", d),
        )),
        Err(e) => {
            if let Some((key, _)) = &stored
                && let Err(err) = app.objects.delete(key).await
            {
                tracing::warn!(key, error = %err, "could not remove the drawing of a refused diary");
            }
            Err(match e {
                DbError::Conflict(_) => AppError::conflict(DAY_TAKEN),
                other => other.into(),
            })
        }
    }
}

/// The posting form, as the front end's `FormData` sends it (text fields are text parts).
/// Described for OpenAPI only: the handler reads the parts one by one.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DiaryForm {
    /// The drawing (a file part; the front end sends a PNG `Blob` named `blob`): PNG, JPEG, GIF,
    /// WebP or BMP, decoded and stored re-encoded without metadata (docs/diary.md).
    #[schema(value_type = Option<String>, format = Binary)]
    image: Option<Vec<u8>>,
    /// The mood, 0 to 5 (halves kept).
    #[serde(rename = "EmotionStatus")]
    #[schema(minimum = 0, maximum = 5)]
    emotion_status: f64,
    /// Editor HTML, not blank, at most `DIARY_CONTENT_MAX_LENGTH` (20,000) characters; sanitized.
    #[schema(max_length = 20000, pattern = r"\S")]
    content: String,
    /// `true`/`false`; absent means private.
    #[serde(rename = "isPublic")]
    is_public: Option<bool>,
    /// 1 rain, 2 cloudy, 3 sunny.
    #[schema(minimum = 1, maximum = 3)]
    weather: u8,
    #[schema(minimum = 1, maximum = 5)]
    temperature: Option<u8>,
    #[schema(minimum = 1, maximum = 5)]
    humid: Option<u8>,
    #[schema(minimum = 1, maximum = 5)]
    sleep: Option<u8>,
    /// The day's sentence, plain text, at most 500 characters.
    #[schema(max_length = 500)]
    sentence: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// Editor HTML, not blank, at most `DIARY_CONTENT_MAX_LENGTH` (20,000) characters;
    /// absent: unchanged.
    #[schema(nullable = false, max_length = 20000, pattern = r"\S")]
    content: Option<String>,
    /// `true`/`false` or `"true"`/`"false"`. Absent means private, as the front end relies on.
    #[serde(rename = "isPublic")]
    #[schema(value_type = Option<bool>)]
    is_public: Option<serde_json::Value>,
}

/// Changes the content and the visibility of one's diary.
#[utoipa::path(patch, path = "/diary/edit/{id}", tag = "diary", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")), request_body = EditBody,
    responses((status = 201, body = DiaryAnswer, description = "다이어리 수정 완료"), (status = 400, body = super::reply::Message),
              (status = 404, body = super::reply::Message, description = "작성된 일기가 없습니다")))]
#[tracing::instrument(skip_all)]
pub async fn edit_diary(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditBody>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("diaryId", &id)?;
    let is_public = match &body.is_public {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => diary::boolean("isPublic", s)?,
        Some(_) => {
            return Err(field_error(
                "isPublic",
                "항목은 true 또는 false여야 합니다.",
            ));
        }
    };
    let content = body
        .content
        .as_deref()
        .map(|c| diary::content(Some(c), app.config.diary.content_max_chars))
        .transpose()?;
    let d = diaries::update(
        &app.db,
        id,
        user.id,
        content.as_deref(),
        is_public,
        app.clock.now(),
    )
    .await?
    .ok_or_else(|| AppError::not_found(NOTHING_TO_EDIT))?;
    Ok((
        StatusCode::CREATED,
        diary_answer(&app, "다이어리 수정 완료", d),
    ))
}

/// Deletes one's diary with its likes, comments, replies and drawing.
#[utoipa::path(delete, path = "/diary/delete/{id}", tag = "diary", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")),
    responses((status = 201, body = super::reply::Message, description = "삭제 완료"),
              (status = 404, body = super::reply::Message, description = "삭제하려는 일기가 존재하지 않습니다")))]
#[tracing::instrument(skip_all)]
pub async fn delete_diary(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("diaryId", &id)?;
    let gone = diaries::delete(&app.db, id, user.id)
        .await?
        .ok_or_else(|| AppError::not_found(NOTHING_TO_DELETE))?;
    objects::forget_image(&*app.objects, gone.image.as_deref()).await;
    Ok((StatusCode::CREATED, super::reply::message("삭제 완료")))
}

#[derive(Deserialize, IntoParams)]
pub struct FeedQuery {
    /// 1-based, at most 100,000; 10 diaries a page.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100000)]
    page: Option<String>,
    /// The reference day (an ISO instant or `YYYY-MM-DD`); today when absent.
    date: Option<String>,
    /// The `createdAt` of the last diary received: only older ones.
    #[serde(rename = "lastCreatedAt")]
    last_created_at: Option<String>,
}

fn page_offset(page: Option<&str>) -> AppResult<i64> {
    let page = match page.map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| {
                field_error(
                    "page",
                    &format!("항목은 1에서 {MAX_PAGE} 사이의 정수여야 합니다."),
                )
            })?,
    };
    Ok((page - 1) * PAGE_SIZE)
}

fn cursor(app: &App, q: &FeedQuery) -> AppResult<Option<NaiveDateTime>> {
    q.last_created_at
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| cursor_instant("lastCreatedAt", v, app.config.diary.time_zone))
        .transpose()
}

fn list_json(app: &App, rows: Vec<(Diary, Author)>) -> Json<DiaryList> {
    Json(DiaryList {
        data: rows
            .into_iter()
            .map(|(d, a)| diary_json(app, d, Some(a)))
            .collect(),
    })
}

/// The community feed: public diaries of the two months up to the reference day, newest first,
/// each with its author.
#[utoipa::path(get, path = "/feeds", tag = "diary", params(FeedQuery),
    responses((status = 200, body = DiaryList), (status = 400, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn feeds(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<DiaryList>> {
    let q: FeedQuery = query(raw)?;
    let tz = app.config.diary.time_zone;
    let reference = match q.date.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(raw) => reference_date("date", raw, tz)?,
        None => wall_clock(app.clock.now(), tz).date(),
    };
    let since = reference
        .checked_sub_months(Months::new(2))
        .unwrap_or(reference);
    let filter = DiaryFilter {
        public_only: true,
        days: Some((since, reference)),
        before: cursor(&app, &q)?,
        offset: page_offset(q.page.as_deref())?,
        limit: PAGE_SIZE,
        ..Default::default()
    };
    Ok(list_json(&app, diaries::list(&app.db, &filter).await?))
}

/// One's own diaries, newest first: of the month containing `date`, or all of them (before
/// `lastCreatedAt`).
#[utoipa::path(get, path = "/feeds/mydiaries", tag = "diary", security(("bearer" = [])), params(FeedQuery),
    responses((status = 200, body = DiaryList), (status = 400, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn my_diaries(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<DiaryList>> {
    let q: FeedQuery = query(raw)?;
    let tz = app.config.diary.time_zone;
    let mut filter = DiaryFilter {
        owner: Some(user.id),
        offset: page_offset(q.page.as_deref())?,
        limit: PAGE_SIZE,
        ..Default::default()
    };
    match q.date.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(raw) => {
            let day = reference_date("date", raw, tz)?;
            filter.days = month_bounds(day.year(), day.month());
        }
        None => filter.before = cursor(&app, &q)?,
    }
    Ok(list_json(&app, diaries::list(&app.db, &filter).await?))
}

/// Likes a diary, or takes the like back. Counted once per user, right under simultaneous
/// clicks.
#[utoipa::path(post, path = "/feeds/{id}/like", tag = "diary", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")),
    responses((status = 201, body = DiaryAnswer, description = "좋아요가 추가되었습니다"),
              (status = 200, body = DiaryAnswer, description = "좋아요가 취소되었습니다"),
              (status = 404, body = super::reply::Message, description = "해당하는 일기가 없습니다")))]
#[tracing::instrument(skip_all)]
pub async fn toggle_like(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("diaryId", &id)?;
    let (liked, d) = diaries::toggle_like(&app.db, id, user.id, app.clock.now())
        .await?
        .ok_or_else(|| AppError::not_found(NOTHING_TO_LIKE))?;
    Ok(if liked {
        (
            StatusCode::CREATED,
            diary_answer(&app, "좋아요가 추가되었습니다", d),
        )
    } else {
        (
            StatusCode::OK,
            diary_answer(&app, "좋아요가 취소되었습니다", d),
        )
    })
}
