//! The NINE Cloud original (contract `ninecloud-api.md` §1.5 and §2): MySQL `Users`,
//! `diaries`, `comments`, `secondaryComments`, `DiaryLikes` (Prisma's names, 191-character
//! strings), and MongoDB `chats` (the anonymous community chat, which is our lobby).

use chrono::{Duration, Utc};
use mongodb::bson::{Bson, doc};

use super::common::{Fate, Imported, Step, TableReport, Target, clip, here, naive, plan};
use super::source::{Mongo, Mysql};
use super::target::{self, CommentRow, DiaryRow, LikeRow, ReplyRow, UserRow};
use crate::domain::Email;
use crate::domain::html::sanitize_diary_html;
use crate::realtime::core::guest_sender;
use crate::store::accounts::UNVERIFIED;
use crate::store::messages;

/// The original wrote a diary's `createdAt` (and a pending deletion's `deletedAt`) as Seoul
/// wall-clock time labelled UTC: the real instant is 9 hours earlier.
const SHIFT: Duration = Duration::hours(9);

/// The widest `weather`, `temperature`, `humid` and `sleep` value here (their columns).
const SCALE_MAX: usize = 16;

fn kind(table: &str) -> String {
    format!("nine-cloud:{table}")
}

pub(crate) async fn import(
    t: &Target,
    src: &Mysql,
    mongo: Option<&Mongo>,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<()> {
    let users = users(t, src, done).await?;
    let diaries = diaries(t, src, &users, done).await?;
    let comments = comments(t, src, &users, &diaries, done).await?;
    replies(t, src, &users, &diaries, &comments, done).await?;
    likes(t, src, &users, &diaries, done).await?;
    if let Some(mongo) = mongo {
        chats(t, mongo, done).await?;
    }
    Ok(())
}

async fn users(
    t: &Target,
    src: &Mysql,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<Imported> {
    const TABLE: &str = "Users";
    let rows = src
        .rows(
            TABLE,
            "SELECT userId, username, password, email, profileImg, userType, \
             CAST(createdAt AS CHAR), CAST(updatedAt AS CHAR), CAST(deletedAt AS CHAR) \
             FROM Users ORDER BY userId",
        )
        .await?;
    let mut ids = target::user_ids(&t.db).await?;
    let mut accounts = target::accounts(&t.db).await?;
    // Unverified accounts here that hold an address the original proved.
    let mut releases = Vec::new();
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, sid, report| {
        let source: i64 = row.get(0)?;
        let email = match row.text(3).map(|e| e.trim().to_lowercase()) {
            Some(e) if !e.is_empty() => match Email::parse("email", &e) {
                Ok(parsed) => parsed.as_str().to_string(),
                Err(_) => {
                    report.adjust(sid, format!("{e:?} is not a valid address; kept as it was"));
                    e
                }
            },
            _ => {
                let placeholder = format!("no-email-{source}@nine-cloud.invalid");
                report.adjust(
                    sid,
                    format!(
                        "no e-mail address (a social login that shared none): kept as \
                         {placeholder}, which no sign-in reaches until an address is set"
                    ),
                );
                placeholder
            }
        };
        if let Some((here, user_type)) = accounts.get(&email).cloned() {
            if user_type != UNVERIFIED {
                return Ok(Step::Linked(
                    here,
                    format!(
                        "{email} has an account here already (user {here}); it keeps its own \
                         password and profile, and gets this account's diaries"
                    ),
                ));
            }
            // The original proved this address; an Everyone's friend account made here
            // without proof lets go of it, as on a NINE Cloud sign-up.
            releases.push(here);
            report.adjust(
                sid,
                format!("the unverified account {here} here let go of {email}"),
            );
        }
        let user_type = match row.text(5).as_deref() {
            Some(k @ ("Common" | "K" | "G" | "N")) => k.to_string(),
            other => {
                report.adjust(
                    sid,
                    format!("userType {other:?} is unknown; kept as Common"),
                );
                "Common".to_string()
            }
        };
        let username = row.text(1).unwrap_or_else(|| {
            report.adjust(sid, "no username; the address's name is used");
            email.split('@').next().unwrap_or_default().to_string()
        });
        let created = naive(row.text(6)).unwrap_or(t.now);
        let id = ids.take(source);
        accounts.insert(email.clone(), (id, user_type.clone()));
        Ok(Step::New(
            UserRow {
                id,
                email,
                username,
                password_hash: row.text(2).unwrap_or_default(),
                profile_img: row.text(4),
                user_type,
                created_at: created,
                updated_at: naive(row.text(7)).unwrap_or(created),
                deletion_due_at: naive(row.text(8)).map(|d| d - SHIFT),
                token_generation: 0,
            },
            id,
        ))
    })
    .await?;
    if !t.dry {
        for id in releases {
            target::release(&t.db, id).await?;
        }
    }
    plan.finish(t, |rows, maps| target::users_chunk(&t.db, rows, maps), done)
        .await
}

/// A scale value (`"1"`–`"5"` as the front end writes them), fitted to its column.
fn scale(report: &mut TableReport, sid: &str, field: &str, v: Option<String>) -> Option<String> {
    let v = v?;
    if v.chars().count() > SCALE_MAX {
        report.adjust(
            sid,
            format!("{field} was longer than {SCALE_MAX} characters; cut"),
        );
        return Some(clip(&v, SCALE_MAX));
    }
    Some(v)
}

async fn diaries(
    t: &Target,
    src: &Mysql,
    users: &Imported,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<Imported> {
    const TABLE: &str = "diaries";
    let rows = src
        .rows(
            TABLE,
            "SELECT diaryId, UserId, EmotionalStatus, image, content, isPublic, viewCount, \
             sentence, weather, temperature, humid, sleep, \
             CAST(createdAt AS CHAR), CAST(updatedAt AS CHAR) FROM diaries ORDER BY diaryId",
        )
        .await?;
    let zone = t.config.diary.time_zone;
    let mut ids = target::diary_ids(&t.db).await?;
    let mut days = target::diary_days(&t.db).await?;
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, sid, report| {
        let source: i64 = row.get(0)?;
        let Some(user) = here(users, row.int(1)) else {
            return Ok(Step::Skip(format!(
                "its author (user {:?}) was not imported",
                row.int(1)
            )));
        };
        let Some(shifted) = naive(row.text(12)) else {
            return Ok(Step::Skip("it has no creation date".into()));
        };
        let created = shifted - SHIFT;
        let day = created.and_utc().with_timezone(&zone).date_naive();
        if let Some(other) = days.get(&(user, day)) {
            return Ok(Step::Skip(format!(
                "user {user} has a diary for {day} here already (diary {other}); one a day"
            )));
        }
        let raw_emotion = row.get::<Option<f64>>(2).ok().flatten();
        let emotion = match raw_emotion {
            Some(v) if v.is_finite() && (0.0..=5.0).contains(&v) => v,
            other => {
                let fitted = other
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0)
                    .clamp(0.0, 5.0);
                report.adjust(
                    sid,
                    format!("EmotionalStatus {other:?} is outside 0–5; kept as {fitted}"),
                );
                fitted
            }
        };
        let weather = scale(report, sid, "weather", row.text(8)).unwrap_or_else(|| {
            report.adjust(sid, "no weather; kept empty");
            String::new()
        });
        let id = ids.take(source);
        days.insert((user, day), id);
        Ok(Step::New(
            DiaryRow {
                id,
                user_id: user,
                emotion_status: emotion,
                image: row.text(3),
                // The original kept the editor's HTML as sent; it is served sanitised here.
                content: sanitize_diary_html(&row.text(4).unwrap_or_default()),
                is_public: row.int(5).unwrap_or(0) != 0,
                view_count: row.int(6).unwrap_or(0).max(0),
                // Recounted from the like rows as they are imported.
                like_count: 0,
                sentence: row.text(7),
                weather,
                temperature: scale(report, sid, "temperature", row.text(9)),
                humid: scale(report, sid, "humid", row.text(10)),
                sleep: scale(report, sid, "sleep", row.text(11)),
                local_date: day,
                created_at: created,
                updated_at: naive(row.text(13)).unwrap_or(created),
            },
            id,
        ))
    })
    .await?;
    plan.finish(
        t,
        |rows, maps| target::diaries_chunk(&t.db, rows, maps),
        done,
    )
    .await
}

/// The diary and author a comment, reply or like names, or why it cannot come over.
fn parents(
    users: &Imported,
    diaries: &Imported,
    user: Option<i64>,
    diary: Option<i64>,
) -> Result<(i64, i64), String> {
    let d =
        here(diaries, diary).ok_or_else(|| format!("its diary ({diary:?}) was not imported"))?;
    let u =
        here(users, user).ok_or_else(|| format!("its author (user {user:?}) was not imported"))?;
    Ok((d, u))
}

async fn comments(
    t: &Target,
    src: &Mysql,
    users: &Imported,
    diaries: &Imported,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<Imported> {
    const TABLE: &str = "comments";
    let rows = src
        .rows(
            TABLE,
            "SELECT commentId, DiaryId, UserId, content, isEdited, \
             CAST(createdAt AS CHAR), CAST(updatedAt AS CHAR) FROM comments ORDER BY commentId",
        )
        .await?;
    let mut ids = target::comment_ids(&t.db).await?;
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, _, _| {
        let (diary, user) = match parents(users, diaries, row.int(2), row.int(1)) {
            Ok(p) => p,
            Err(why) => return Ok(Step::Skip(why)),
        };
        let Some(content) = row.text(3) else {
            return Ok(Step::Skip("it has no content".into()));
        };
        let created = naive(row.text(5)).unwrap_or(t.now);
        let id = ids.take(row.get(0)?);
        Ok(Step::New(
            CommentRow {
                id,
                diary_id: diary,
                user_id: user,
                content,
                is_edited: row.int(4).unwrap_or(0) != 0,
                created_at: created,
                updated_at: naive(row.text(6)).unwrap_or(created),
            },
            id,
        ))
    })
    .await?;
    plan.finish(
        t,
        |rows, maps| target::comments_chunk(&t.db, rows, maps),
        done,
    )
    .await
}

async fn replies(
    t: &Target,
    src: &Mysql,
    users: &Imported,
    diaries: &Imported,
    comments: &Imported,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<()> {
    const TABLE: &str = "secondaryComments";
    let rows = src
        .rows(
            TABLE,
            "SELECT secondaryCommentId, DiaryId, UserId, CommentId, content, \
             CAST(createdAt AS CHAR), CAST(updatedAt AS CHAR) \
             FROM secondaryComments ORDER BY secondaryCommentId",
        )
        .await?;
    let mut ids = target::reply_ids(&t.db).await?;
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, _, _| {
        let (diary, user) = match parents(users, diaries, row.int(2), row.int(1)) {
            Ok(p) => p,
            Err(why) => return Ok(Step::Skip(why)),
        };
        let Some(comment) = here(comments, row.int(3)) else {
            return Ok(Step::Skip(format!(
                "its comment ({:?}) was not imported",
                row.int(3)
            )));
        };
        let Some(content) = row.text(4) else {
            return Ok(Step::Skip("it has no content".into()));
        };
        let created = naive(row.text(5)).unwrap_or(t.now);
        let id = ids.take(row.get(0)?);
        Ok(Step::New(
            ReplyRow {
                id,
                diary_id: diary,
                comment_id: comment,
                user_id: user,
                content,
                is_edited: false,
                created_at: created,
                updated_at: naive(row.text(6)).unwrap_or(created),
            },
            id,
        ))
    })
    .await?;
    plan.finish(
        t,
        |rows, maps| target::replies_chunk(&t.db, rows, maps),
        done,
    )
    .await?;
    Ok(())
}

async fn likes(
    t: &Target,
    src: &Mysql,
    users: &Imported,
    diaries: &Imported,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<()> {
    const TABLE: &str = "DiaryLikes";
    let rows = src
        .rows(
            TABLE,
            "SELECT diarylikeId, UserId, DiaryId, likeExist, \
             CAST(createdAt AS CHAR), CAST(updatedAt AS CHAR) FROM DiaryLikes ORDER BY diarylikeId",
        )
        .await?;
    let mut ids = target::like_ids(&t.db).await?;
    let mut pairs = target::like_pairs(&t.db).await?;
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, _, _| {
        let (diary, user) = match parents(users, diaries, row.int(1), row.int(2)) {
            Ok(p) => p,
            Err(why) => return Ok(Step::Skip(why)),
        };
        if row.int(3).unwrap_or(0) == 0 {
            return Ok(Step::Skip("likeExist is false: not a like".into()));
        }
        if !pairs.insert((diary, user)) {
            return Ok(Step::Skip(format!(
                "user {user} likes diary {diary} already (a repeated row)"
            )));
        }
        let created = naive(row.text(4)).unwrap_or(t.now);
        let id = ids.take(row.get(0)?);
        Ok(Step::New(
            LikeRow {
                id,
                diary_id: diary,
                user_id: user,
                created_at: created,
                updated_at: naive(row.text(5)).unwrap_or(created),
            },
            id,
        ))
    })
    .await?;
    plan.finish(t, |rows, maps| target::likes_chunk(&t.db, rows, maps), done)
        .await?;
    Ok(())
}

/// The community chat (`chats`: `{chat, user: {id, name}}`, no time stored but the ObjectId's)
/// into the lobby, numbered in `_id` order.
async fn chats(t: &Target, mongo: &Mongo, done: &mut dyn FnMut(TableReport)) -> anyhow::Result<()> {
    const TABLE: &str = "chats";
    let docs = mongo.all(TABLE, doc! {}).await?;
    let (_, lobby) = target::channels_by_uuid(&t.db).await?;
    let mut report = TableReport::new(TABLE);
    let mut list = Vec::new();
    for d in docs {
        let Some(Bson::ObjectId(oid)) = d.get("_id") else {
            let sid = d.get("_id").map(|v| v.to_string()).unwrap_or_default();
            report.count(&sid, Fate::Skipped("its _id is not an ObjectId".into()));
            continue;
        };
        let sid = oid.to_hex();
        let Ok(text) = d.get_str("chat") else {
            report.count(&sid, Fate::Skipped("it has no text (`chat`)".into()));
            continue;
        };
        let name = d
            .get_document("user")
            .ok()
            .and_then(|u| u.get_str("name").ok())
            .unwrap_or("익명")
            .to_string();
        list.push(messages::Imported {
            id: sid,
            user_id: None,
            sender: guest_sender(&name),
            nickname: name,
            text: text.to_string(),
            created_at: oid.timestamp().to_chrono().with_timezone(&Utc),
        });
    }
    t.import_messages(TABLE, lobby, &list, &mut report).await?;
    done(report);
    Ok(())
}
