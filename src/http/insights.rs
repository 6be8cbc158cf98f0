//! What diary users expect beyond the original: a month in numbers (moods, weather, streaks)
//! and an export of all of one's diaries (JSON or CSV).

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::diaries::year_month;
use super::extract::{AuthUser, query};
use crate::app::{App, AppState};
use crate::domain::diary::{Mood, streaks, wall_clock};
use crate::domain::field_error;
use crate::domain::html::visible_text;
use crate::error::{AppError, AppResult};
use crate::store::diaries::{self, Diary};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/diary/stats/{year}/{month}", get(month_stats))
        .route("/diary/export", get(export))
}

#[derive(Serialize, ToSchema, Default)]
pub struct MoodCounts {
    /// EmotionStatus up to 1.6 (the front end's sad icons).
    sad: u32,
    /// Up to 3.3.
    soso: u32,
    /// Above 3.3.
    happy: u32,
}

#[derive(Serialize, ToSchema, Default)]
pub struct WeatherCounts {
    rain: u32,
    cloudy: u32,
    sunny: u32,
}

#[derive(Serialize, ToSchema)]
pub struct MonthStats {
    year: i32,
    month: u32,
    #[serde(rename = "daysInMonth")]
    days_in_month: u32,
    /// Diaries written in the month.
    written: u32,
    /// The month's average EmotionStatus; null without diaries.
    #[serde(rename = "averageEmotion")]
    average_emotion: Option<f64>,
    emotion: MoodCounts,
    weather: WeatherCounts,
    /// Consecutive days with a diary up to today (or yesterday, while today is unwritten).
    #[serde(rename = "currentStreak")]
    current_streak: u32,
    /// The longest run of consecutive days ever.
    #[serde(rename = "longestStreak")]
    longest_streak: u32,
}

#[derive(Serialize, ToSchema)]
pub struct StatsAnswer {
    data: MonthStats,
}

/// The month in numbers: how many diaries, the mood and weather distribution, the average
/// mood, and the writing streaks.
#[utoipa::path(get, path = "/diary/stats/{year}/{month}", tag = "diary", security(("bearer" = [])),
    params(("year" = i32, Path, minimum = 1, maximum = 9999), ("month" = u32, Path, minimum = 1, maximum = 12)),
    responses((status = 200, body = StatsAnswer), (status = 400, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn month_stats(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path((year, month)): Path<(String, String)>,
) -> AppResult<Json<StatsAnswer>> {
    let (y, first, last) = year_month(&year, &month)?;
    let m = first.month();
    let list = diaries::on_days(&app.db, user.id, first, last).await?;
    let mut emotion = MoodCounts::default();
    let mut weather = WeatherCounts::default();
    for d in &list {
        match Mood::of(d.emotion_status) {
            Mood::Sad => emotion.sad += 1,
            Mood::SoSo => emotion.soso += 1,
            Mood::Happy => emotion.happy += 1,
        }
        match d.weather.as_str() {
            "1" => weather.rain += 1,
            "2" => weather.cloudy += 1,
            _ => weather.sunny += 1,
        }
    }
    let average_emotion = (!list.is_empty()).then(|| {
        let avg = list.iter().map(|d| d.emotion_status).sum::<f64>() / list.len() as f64;
        (avg * 100.0).round() / 100.0
    });
    let today = wall_clock(app.clock.now(), app.config.diary.time_zone).date();
    let (current_streak, longest_streak) =
        streaks(&diaries::days_of(&app.db, user.id).await?, today);
    Ok(Json(StatsAnswer {
        data: MonthStats {
            year: y,
            month: m,
            days_in_month: last.day(),
            written: list.len() as u32,
            average_emotion,
            emotion,
            weather,
            current_streak,
            longest_streak,
        },
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

/// One diary in an export: real times with their offset, the day it belongs to, the content as
/// HTML and as plain text.
#[derive(Serialize, ToSchema)]
pub struct ExportedDiary {
    #[serde(rename = "diaryId")]
    diary_id: i64,
    date: String,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "timeZone")]
    time_zone: String,
    #[serde(rename = "EmotionStatus")]
    emotion_status: f64,
    weather: String,
    temperature: Option<String>,
    humid: Option<String>,
    sleep: Option<String>,
    sentence: Option<String>,
    #[serde(rename = "isPublic")]
    is_public: bool,
    #[serde(rename = "viewCount")]
    view_count: i64,
    #[serde(rename = "likeCount")]
    like_count: i64,
    image: Option<String>,
    content: String,
    text: String,
}

fn exported(app: &App, d: Diary) -> ExportedDiary {
    let tz = app.config.diary.time_zone;
    let at = |t| {
        Utc.from_utc_datetime(&t)
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Millis, false)
    };
    ExportedDiary {
        diary_id: d.id,
        date: d.local_date.format("%Y-%m-%d").to_string(),
        created_at: at(d.created_at),
        updated_at: at(d.updated_at),
        time_zone: tz.name().to_string(),
        emotion_status: d.emotion_status,
        weather: d.weather,
        temperature: d.temperature,
        humid: d.humid,
        sleep: d.sleep,
        sentence: d.sentence,
        is_public: d.is_public,
        view_count: d.view_count,
        like_count: d.like_count,
        image: d.image,
        text: visible_text(&d.content),
        content: d.content,
    }
}

/// A spreadsheet cell that cannot be read as a formula (`=`, `+`, `-`, `@`, tab, CR).
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn to_csv(rows: &[ExportedDiary]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "diaryId",
        "date",
        "createdAt",
        "updatedAt",
        "timeZone",
        "EmotionStatus",
        "weather",
        "temperature",
        "humid",
        "sleep",
        "sentence",
        "isPublic",
        "viewCount",
        "likeCount",
        "image",
        "text",
        "content",
    ];
    w.write_record(header).map_err(AppError::internal)?;
    for r in rows {
        let opt = |o: &Option<String>| cell(o.as_deref().unwrap_or_default());
        w.write_record([
            r.diary_id.to_string(),
            r.date.clone(),
            r.created_at.clone(),
            r.updated_at.clone(),
            r.time_zone.clone(),
            r.emotion_status.to_string(),
            r.weather.clone(),
            opt(&r.temperature),
            opt(&r.humid),
            opt(&r.sleep),
            opt(&r.sentence),
            r.is_public.to_string(),
            r.view_count.to_string(),
            r.like_count.to_string(),
            opt(&r.image),
            cell(&r.text),
            cell(&r.content),
        ])
        .map_err(AppError::internal)?;
    }
    w.into_inner().map_err(AppError::internal)
}

/// Downloads all of one's diaries, oldest first, as JSON (`{exportedAt, count, data}`) or CSV
/// (UTF-8 with a byte-order mark, so spreadsheet programs read the Hangul right).
#[utoipa::path(get, path = "/diary/export", tag = "diary", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, description = "an attachment: ninecloud-diaries.json or ninecloud-diaries.csv"),
              (status = 400, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn export(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let q: ExportQuery = query(raw)?;
    let format = q
        .format
        .as_deref()
        .map(|f| f.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "json".into());
    if format != "json" && format != "csv" {
        return Err(field_error("format", "항목은 json 또는 csv여야 합니다."));
    }
    let rows: Vec<ExportedDiary> = diaries::all_of(&app.db, user.id)
        .await?
        .into_iter()
        .map(|d| exported(&app, d))
        .collect();
    if format == "csv" {
        let mut body = "\u{feff}".as_bytes().to_vec();
        body.extend(to_csv(&rows)?);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"ninecloud-diaries.csv\"",
                ),
            ],
            body,
        )
            .into_response());
    }
    let body = serde_json::json!({
        "exportedAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "count": rows.len(),
        "data": rows,
    });
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"ninecloud-diaries.json\"",
        )],
        Json(body),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_never_start_a_formula() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1+2"), "'-1+2");
        assert_eq!(cell("맑음"), "맑음");
    }
}
