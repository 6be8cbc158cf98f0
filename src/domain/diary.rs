//! Diary values and the diary's sense of time.
//!
//! A diary belongs to a day in its time zone (Asia/Seoul unless configured otherwise). The
//! database keeps the real instant and that day; the JSON keeps the original backend's
//! convention, which the front end compensates for: `createdAt` is the wall-clock time of the
//! diary's zone written with a `Z` (contract §1.5).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::html::{plain_text, sanitize_diary_html};
use super::{blank, field_error, missing};
use crate::error::AppError;

/// The longest fortune sentence kept.
const SENTENCE_MAX_CHARS: usize = 500;

/// What a new diary is made of, validated (the text fields of `POST /diary/posting`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiaryInput {
    pub emotion_status: f64,
    pub content: String,
    pub is_public: bool,
    pub sentence: Option<String>,
    pub weather: String,
    pub temperature: Option<String>,
    pub humid: Option<String>,
    pub sleep: Option<String>,
}

/// The text fields a diary form may carry.
pub const FIELDS: [&str; 8] = [
    "EmotionStatus",
    "content",
    "isPublic",
    "sentence",
    "weather",
    "temperature",
    "humid",
    "sleep",
];

impl DiaryInput {
    pub fn parse(fields: &HashMap<String, String>, max_content: usize) -> Result<Self, AppError> {
        let get = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let emotion = get("EmotionStatus").ok_or_else(|| missing("EmotionStatus"))?;
        Ok(DiaryInput {
            emotion_status: emotion_status(emotion)?,
            content: content(get("content"), max_content)?,
            is_public: match get("isPublic") {
                None => false,
                Some(v) => boolean("isPublic", v)?,
            },
            sentence: get("sentence")
                .map(|s| {
                    if s.chars().count() > SENTENCE_MAX_CHARS {
                        return Err(field_error(
                            "sentence",
                            &format!("항목은 최대 {SENTENCE_MAX_CHARS}자입니다."),
                        ));
                    }
                    Ok(plain_text(s))
                })
                .transpose()?,
            weather: scale("weather", get("weather"), 3)?.ok_or_else(|| missing("weather"))?,
            temperature: scale("temperature", get("temperature"), 5)?,
            humid: scale("humid", get("humid"), 5)?,
            sleep: scale("sleep", get("sleep"), 5)?,
        })
    }
}

/// The front end's mood: the average of "마음 온도" and "마음 습도", so 1 to 5 in halves; stored
/// exactly as sent (the original's INT column lost the halves).
pub fn emotion_status(raw: &str) -> Result<f64, AppError> {
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=5.0).contains(&v) => Ok(v),
        _ => Err(field_error(
            "EmotionStatus",
            "항목은 0에서 5 사이의 숫자여야 합니다.",
        )),
    }
}

/// Diary content: required, at most `max` characters of HTML, sanitized.
pub fn content(raw: Option<&str>, max: usize) -> Result<String, AppError> {
    let raw = raw.ok_or_else(|| missing("content"))?;
    if raw.trim().is_empty() {
        return Err(blank("content"));
    }
    if raw.chars().count() > max {
        return Err(field_error(
            "content",
            &format!("항목은 최대 {max}자입니다."),
        ));
    }
    Ok(sanitize_diary_html(raw))
}

/// `"true"`/`"false"` (any case), as a form sends a checkbox.
pub fn boolean(field: &str, raw: &str) -> Result<bool, AppError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(field_error(field, "항목은 true 또는 false여야 합니다.")),
    }
}

/// A slider value `"1"`..=`"max"` (weather: 1 rain, 2 cloudy, 3 sunny).
fn scale(field: &str, raw: Option<&str>, max: u8) -> Result<Option<String>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.parse::<u8>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n.to_string())),
        _ => Err(field_error(
            field,
            &format!("항목은 1에서 {max} 사이의 값이어야 합니다."),
        )),
    }
}

/// A comment or reply: plain text, not blank, at most `max` characters.
pub fn comment_text(raw: Option<&str>, max: usize) -> Result<String, AppError> {
    let raw = raw.ok_or_else(|| missing("content"))?;
    if raw.chars().count() > max {
        return Err(field_error(
            "content",
            &format!("항목은 최대 {max}자입니다."),
        ));
    }
    let text = plain_text(raw.trim()).trim().to_string();
    if text.is_empty() {
        return Err(blank("content"));
    }
    Ok(text)
}

/// The wall-clock time in `tz` of a UTC instant.
pub fn wall_clock(utc: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    Utc.from_utc_datetime(&utc).with_timezone(&tz).naive_local()
}

/// The UTC instant of a wall-clock time in `tz` (the earlier one when clocks go back).
pub fn instant_of(local: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.naive_utc())
        // A time skipped by a clock change: take it as an hour later.
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
                .earliest()
                .map(|t| t.naive_utc())
        })
        .unwrap_or(local)
}

/// JavaScript's `toISOString()` form: milliseconds and a `Z`.
pub fn js_iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The calendar's date label, as `toLocaleDateString('ko-KR')` writes it: `"2024. 1. 9."`.
pub fn calendar_label(d: NaiveDate) -> String {
    format!("{}. {}. {}.", d.year(), d.month(), d.day())
}

/// The first and last day of a month; `None` for a month that does not exist.
pub fn month_bounds(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
    Some((first, last))
}

/// The day `raw` names in `tz`: an ISO instant (`2024-01-11T01:02:03.456Z`, as the front end
/// sends `new Date().toISOString()`), or a plain date (`2024-01-11`).
pub fn reference_date(field: &str, raw: &str, tz: Tz) -> Result<NaiveDate, AppError> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&tz).date_naive());
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t.date());
    }
    Err(field_error(
        field,
        "항목은 날짜(예: 2024-01-11 또는 2024-01-11T01:02:03.456Z)여야 합니다.",
    ))
}

/// A `lastCreatedAt` cursor: the `createdAt` of the last diary a client received, which is a
/// wall-clock time of `tz` written with a `Z`. Returns the real instant.
pub fn cursor_instant(field: &str, raw: &str, tz: Tz) -> Result<NaiveDateTime, AppError> {
    let raw = raw.trim();
    let local = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
        .map_err(|_| {
            field_error(
                field,
                "항목은 받은 일기의 createdAt 값(예: 2024-01-11T10:00:00.000Z)이어야 합니다.",
            )
        })?;
    Ok(instant_of(local, tz))
}

/// The front end's three moods (its icons): up to 1.6 sad, up to 3.3 so-so, above happy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Sad,
    SoSo,
    Happy,
}

impl Mood {
    pub fn of(emotion_status: f64) -> Mood {
        if emotion_status <= 1.6 {
            Mood::Sad
        } else if emotion_status <= 3.3 {
            Mood::SoSo
        } else {
            Mood::Happy
        }
    }
}

/// The current writing streak (consecutive days up to today, or up to yesterday while today
/// is still unwritten) and the longest one, from the diary days newest first.
pub fn streaks(days_desc: &[NaiveDate], today: NaiveDate) -> (u32, u32) {
    let mut longest = 0u32;
    let mut run = 0u32;
    let mut prev: Option<NaiveDate> = None;
    for &d in days_desc {
        run = match prev {
            Some(p) if p.pred_opt() == Some(d) => run + 1,
            Some(p) if p == d => run,
            _ => 1,
        };
        longest = longest.max(run);
        prev = Some(d);
    }
    let mut current = 0u32;
    let mut expect = match days_desc.first() {
        Some(&d) if d == today => today,
        Some(&d) if Some(d) == today.pred_opt() => d,
        _ => return (0, longest),
    };
    for &d in days_desc {
        if d == expect {
            current += 1;
            match expect.pred_opt() {
                Some(p) => expect = p,
                None => break,
            }
        } else if d < expect {
            break;
        }
    }
    (current, longest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_front_end_form_parses_and_halves_survive() {
        let f = form(&[
            ("EmotionStatus", "3.5"),
            ("content", "<p>좋은 날</p>"),
            ("isPublic", "true"),
            ("sentence", "행운이 찾아옵니다"),
            ("weather", "3"),
            ("temperature", "4"),
            ("humid", "3"),
            ("sleep", "2"),
        ]);
        let d = DiaryInput::parse(&f, 1000).unwrap();
        assert_eq!(d.emotion_status, 3.5);
        assert!(d.is_public);
        assert_eq!(d.weather, "3");
        for (field, bad) in [
            ("EmotionStatus", "abc"),
            ("EmotionStatus", "NaN"),
            ("EmotionStatus", "6"),
            ("weather", "4"),
            ("humid", "0"),
            ("isPublic", "yes"),
        ] {
            let mut f = f.clone();
            f.insert(field.into(), bad.into());
            let e = DiaryInput::parse(&f, 1000).unwrap_err();
            assert!(e.message.contains(field), "{field}={bad}: {}", e.message);
        }
        let mut f2 = f.clone();
        f2.remove("weather");
        assert!(DiaryInput::parse(&f2, 1000).is_err());
        assert!(DiaryInput::parse(&f, 5).is_err(), "content over the limit");
    }

    #[test]
    fn seoul_wall_clock_with_a_z() {
        let utc = NaiveDate::from_ymd_opt(2024, 1, 11)
            .unwrap()
            .and_hms_milli_opt(1, 0, 0, 0)
            .unwrap();
        let local = wall_clock(utc, chrono_tz::Asia::Seoul);
        assert_eq!(js_iso(local), "2024-01-11T10:00:00.000Z");
        assert_eq!(instant_of(local, chrono_tz::Asia::Seoul), utc);
        assert_eq!(
            calendar_label(NaiveDate::from_ymd_opt(2024, 1, 9).unwrap()),
            "2024. 1. 9."
        );
        // 23:59 and 00:01 in Seoul fall on different days, whatever the UTC date says.
        let late = NaiveDate::from_ymd_opt(2024, 3, 31)
            .unwrap()
            .and_hms_opt(14, 59, 0)
            .unwrap();
        let early = late + chrono::TimeDelta::minutes(2);
        assert_eq!(wall_clock(late, chrono_tz::Asia::Seoul).date().day(), 31);
        assert_eq!(wall_clock(early, chrono_tz::Asia::Seoul).date().day(), 1);
    }

    #[test]
    fn months_and_dates() {
        let (a, b) = month_bounds(2024, 2).unwrap();
        assert_eq!((a.day(), b.day()), (1, 29));
        assert!(month_bounds(2024, 13).is_none());
        let seoul = chrono_tz::Asia::Seoul;
        // The front end's `new Date().toISOString()` at 08:00 on 1 January in Seoul.
        let d = reference_date("date", "2023-12-31T23:00:00.000Z", seoul).unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert!(reference_date("date", "yesterday", seoul).is_err());
    }

    #[test]
    fn streaks_count_back_from_today() {
        let d = |day| NaiveDate::from_ymd_opt(2024, 3, day).unwrap();
        assert_eq!(streaks(&[d(10), d(9), d(8), d(5), d(4)], d(10)), (3, 3));
        assert_eq!(
            streaks(&[d(9), d(8)], d(10)),
            (2, 2),
            "today not yet written"
        );
        assert_eq!(streaks(&[d(7), d(6), d(5), d(4)], d(10)), (0, 4));
        assert_eq!(streaks(&[], d(10)), (0, 0));
    }
}
