//! Comments and replies on diaries (contract §4.8–4.9).
//!
//! A comment is visible with its diary: on a private diary, only the owner sees and writes
//! them. The author edits; the author or the diary's owner deletes. Replies (`secondaryComment`
//! routes, broken in the original) work and carry their ids. Comment text is plain text with no
//! markup (see `domain::html::plain_text`).
//!
//! Paths keep the original's shapes. Where two of them share a shape, they share the parameter
//! name too (the router requires it): `/diary/detail/comment/{id}` is a diary id for GET and POST
//! and a comment id for PATCH and DELETE, as in the original.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::diaries::{AuthorJson, DIARY_NOT_FOUND, visible_diary};
use super::extract::{AuthUser, JsonBody, id_param};
use crate::app::{App, AppState};
use crate::domain::diary::{comment_text, js_iso};
use crate::error::{AppError, AppResult};
use crate::store::accounts::User;
use crate::store::db::DbError;
use crate::store::diaries::{self, Author, Comment, Diary, Reply};

const COMMENT_NOT_FOUND: &str = "존재하지 않는 댓글입니다";
const COMMENT_GONE: &str = "댓글이 존재하지 않습니다";
const NO_RIGHT_TO_EDIT: &str = "수정 권한이 없습니다";
const NO_RIGHT_TO_DELETE: &str = "삭제 권한이 없습니다";

/// Only the author edits a comment or reply.
fn may_edit(author_id: i64, user: &User) -> AppResult<()> {
    if author_id != user.id {
        return Err(AppError::forbidden(NO_RIGHT_TO_EDIT));
    }
    Ok(())
}

/// The author or the diary's owner deletes a comment or reply.
fn may_delete(author_id: i64, diary: &Diary, user: &User) -> AppResult<()> {
    if author_id != user.id && diary.user_id != user.id {
        return Err(AppError::forbidden(NO_RIGHT_TO_DELETE));
    }
    Ok(())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/diary/detail/comment/{id}",
            get(list_comments)
                .post(add_comment)
                .patch(edit_comment)
                .delete(delete_comment),
        )
        .route(
            "/diary/detail/secondaryComment/{id}",
            get(list_replies).delete(delete_reply),
        )
        .route(
            "/diary/detail/secondaryComment/{diary_id}/{id}",
            axum::routing::post(add_reply).patch(edit_reply),
        )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// Plain text, not blank, at most `COMMENT_MAX_LENGTH` (200) characters.
    #[schema(required = true, nullable = false, max_length = 200, pattern = r"\S")]
    content: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CommentJson {
    #[serde(rename = "commentId")]
    comment_id: i64,
    #[serde(rename = "DiaryId")]
    diary_id: i64,
    #[serde(rename = "UserId")]
    user_id: i64,
    content: String,
    #[serde(rename = "isEdited")]
    is_edited: bool,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "deletedAt")]
    deleted_at: Option<String>,
    #[serde(rename = "User")]
    user: AuthorJson,
}

fn comment_json(c: Comment, author: Author) -> CommentJson {
    CommentJson {
        comment_id: c.id,
        diary_id: c.diary_id,
        user_id: c.user_id,
        content: c.content,
        is_edited: c.is_edited,
        created_at: js_iso(c.created_at),
        updated_at: js_iso(c.updated_at),
        deleted_at: None,
        user: author.into(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReplyJson {
    #[serde(rename = "secondaryCommentId")]
    id: i64,
    #[serde(rename = "DiaryId")]
    diary_id: i64,
    #[serde(rename = "CommentId")]
    comment_id: i64,
    #[serde(rename = "UserId")]
    user_id: i64,
    content: String,
    #[serde(rename = "isEdited")]
    is_edited: bool,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "deletedAt")]
    deleted_at: Option<String>,
    #[serde(rename = "User")]
    user: AuthorJson,
}

fn reply_json(r: Reply, author: Author) -> ReplyJson {
    ReplyJson {
        id: r.id,
        diary_id: r.diary_id,
        comment_id: r.comment_id,
        user_id: r.user_id,
        content: r.content,
        is_edited: r.is_edited,
        created_at: js_iso(r.created_at),
        updated_at: js_iso(r.updated_at),
        deleted_at: None,
        user: author.into(),
    }
}

/// A row that went away between reading and writing is "not there"; other failures stay what
/// they are.
fn gone(e: DbError, missing: &str) -> AppError {
    match e {
        DbError::NotFound => AppError::not_found(missing),
        other => other.into(),
    }
}

fn author_of(user: &User) -> Author {
    Author {
        username: user.username.clone(),
        profile_img: user.profile_img.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CommentList {
    data: Vec<CommentJson>,
}

#[derive(Serialize, ToSchema)]
pub struct ReplyList {
    data: Vec<ReplyJson>,
}

fn text(app: &App, body: &CommentBody) -> AppResult<String> {
    comment_text(body.content.as_deref(), app.config.diary.comment_max_chars)
}

/// The comment and its diary, if `user` may see them; otherwise `missing` (404).
async fn visible_comment(
    app: &App,
    id: i64,
    user: &User,
    missing: &str,
) -> AppResult<(Comment, Diary)> {
    let not_found = || AppError::not_found(missing);
    let comment = diaries::find_comment(&app.db, id)
        .await?
        .ok_or_else(not_found)?;
    let diary = visible_diary(app, comment.diary_id, user, missing).await?;
    Ok((comment, diary))
}

async fn visible_reply(
    app: &App,
    id: i64,
    user: &User,
    missing: &str,
) -> AppResult<(Reply, Diary)> {
    let reply = diaries::find_reply(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(missing))?;
    let diary = visible_diary(app, reply.diary_id, user, missing).await?;
    Ok((reply, diary))
}

/// Comments the diary.
#[utoipa::path(post, path = "/diary/detail/comment/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")), request_body = CommentBody,
    responses((status = 201, description = "댓글이 등록되었습니다 (with the comment in `data`)"),
              (status = 400, body = super::reply::Message), (status = 404, body = super::reply::Message, description = "존재하지 않는 일기입니다")))]
#[tracing::instrument(skip_all)]
pub async fn add_comment(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommentBody>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("diaryId", &id)?;
    let content = text(&app, &body)?;
    let diary = visible_diary(&app, id, &user, DIARY_NOT_FOUND).await?;
    let c = diaries::insert_comment(&app.db, diary.id, user.id, &content, app.clock.now())
        .await
        // The diary was deleted under the comment.
        .map_err(|e| gone(e, DIARY_NOT_FOUND))?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "message": "댓글이 등록되었습니다", "data": comment_json(c, author_of(&user)) }),
        ),
    ))
}

/// The diary's comments, newest first, each with its author's name and picture.
#[utoipa::path(get, path = "/diary/detail/comment/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")),
    responses((status = 200, body = CommentList), (status = 404, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn list_comments(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<CommentList>> {
    let id = id_param("diaryId", &id)?;
    let diary = visible_diary(&app, id, &user, DIARY_NOT_FOUND).await?;
    let data = diaries::comments_of(&app.db, diary.id)
        .await?
        .into_iter()
        .map(|(c, a)| comment_json(c, a))
        .collect();
    Ok(Json(CommentList { data }))
}

/// Edits one's comment.
#[utoipa::path(patch, path = "/diary/detail/comment/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "commentId")), request_body = CommentBody,
    responses((status = 201, description = "`{\"message\":\"댓글 수정 완료\",\"meesage\":\"댓글 수정 완료\"}`: the original's misspelt key is kept beside the right one"),
              (status = 400, body = super::reply::Message), (status = 403, body = super::reply::Message, description = "수정 권한이 없습니다"),
              (status = 404, body = super::reply::Message, description = "존재하지 않는 댓글입니다")))]
#[tracing::instrument(skip_all)]
pub async fn edit_comment(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommentBody>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("commentId", &id)?;
    let content = text(&app, &body)?;
    let (comment, _) = visible_comment(&app, id, &user, COMMENT_NOT_FOUND).await?;
    may_edit(comment.user_id, &user)?;
    diaries::update_comment(&app.db, id, &content, app.clock.now())
        .await
        .map_err(|e| gone(e, COMMENT_NOT_FOUND))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": "댓글 수정 완료", "meesage": "댓글 수정 완료" })),
    ))
}

/// Deletes a comment (its author, or the diary's owner) with its replies.
#[utoipa::path(delete, path = "/diary/detail/comment/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "commentId")),
    responses((status = 201, body = super::reply::Message, description = "댓글 삭제 완료"),
              (status = 403, body = super::reply::Message, description = "삭제 권한이 없습니다"),
              (status = 404, body = super::reply::Message, description = "댓글이 존재하지 않습니다")))]
#[tracing::instrument(skip_all)]
pub async fn delete_comment(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("commentId", &id)?;
    let (comment, diary) = visible_comment(&app, id, &user, COMMENT_GONE).await?;
    may_delete(comment.user_id, &diary, &user)?;
    diaries::delete_comment(&app.db, id)
        .await
        .map_err(|e| gone(e, COMMENT_GONE))?;
    Ok((StatusCode::CREATED, super::reply::message("댓글 삭제 완료")))
}

/// Replies to a comment of the diary.
#[utoipa::path(post, path = "/diary/detail/secondaryComment/{diary_id}/{id}", tag = "comments", security(("bearer" = [])),
    params(("diary_id" = i64, Path, minimum = 1, description = "diaryId"), ("id" = i64, Path, minimum = 1, description = "commentId")), request_body = CommentBody,
    responses((status = 201, description = "대댓글이 등록되었습니다 (with the reply in `data`)"),
              (status = 400, body = super::reply::Message), (status = 404, body = super::reply::Message, description = "존재하지 않는 댓글입니다")))]
#[tracing::instrument(skip_all)]
pub async fn add_reply(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path((diary_id, id)): Path<(String, String)>,
    JsonBody(body): JsonBody<CommentBody>,
) -> AppResult<impl IntoResponse> {
    let diary_id = id_param("diaryId", &diary_id)?;
    let id = id_param("commentId", &id)?;
    let content = text(&app, &body)?;
    let (comment, _) = visible_comment(&app, id, &user, COMMENT_NOT_FOUND).await?;
    if comment.diary_id != diary_id {
        return Err(AppError::not_found(COMMENT_NOT_FOUND));
    }
    let r = diaries::insert_reply(&app.db, &comment, user.id, &content, app.clock.now())
        .await
        .map_err(|e| gone(e, COMMENT_NOT_FOUND))?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "message": "대댓글이 등록되었습니다", "data": reply_json(r, author_of(&user)) }),
        ),
    ))
}

/// The diary's replies, newest first; `CommentId` says which comment each answers.
#[utoipa::path(get, path = "/diary/detail/secondaryComment/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "diaryId")),
    responses((status = 200, body = ReplyList), (status = 404, body = super::reply::Message)))]
#[tracing::instrument(skip_all)]
pub async fn list_replies(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<ReplyList>> {
    let id = id_param("diaryId", &id)?;
    let diary = visible_diary(&app, id, &user, DIARY_NOT_FOUND).await?;
    let data = diaries::replies_of(&app.db, diary.id)
        .await?
        .into_iter()
        .map(|(r, a)| reply_json(r, a))
        .collect();
    Ok(Json(ReplyList { data }))
}

/// Edits one's reply. The second path segment is the reply's id (`secondaryCommentId`), which
/// the original handler read but its route never had.
#[utoipa::path(patch, path = "/diary/detail/secondaryComment/{diary_id}/{id}", tag = "comments", security(("bearer" = [])),
    params(("diary_id" = i64, Path, minimum = 1, description = "diaryId"), ("id" = i64, Path, minimum = 1, description = "secondaryCommentId")), request_body = CommentBody,
    responses((status = 201, body = super::reply::Message, description = "대댓글 수정 완료"),
              (status = 400, body = super::reply::Message), (status = 403, body = super::reply::Message, description = "수정 권한이 없습니다"),
              (status = 404, body = super::reply::Message, description = "존재하지 않는 댓글입니다")))]
#[tracing::instrument(skip_all)]
pub async fn edit_reply(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path((diary_id, id)): Path<(String, String)>,
    JsonBody(body): JsonBody<CommentBody>,
) -> AppResult<impl IntoResponse> {
    let diary_id = id_param("diaryId", &diary_id)?;
    let id = id_param("secondaryCommentId", &id)?;
    let content = text(&app, &body)?;
    let (reply, _) = visible_reply(&app, id, &user, COMMENT_NOT_FOUND).await?;
    if reply.diary_id != diary_id {
        return Err(AppError::not_found(COMMENT_NOT_FOUND));
    }
    may_edit(reply.user_id, &user)?;
    diaries::update_reply(&app.db, id, &content, app.clock.now())
        .await
        .map_err(|e| gone(e, COMMENT_NOT_FOUND))?;
    Ok((
        StatusCode::CREATED,
        super::reply::message("대댓글 수정 완료"),
    ))
}

/// Deletes a reply (its author, or the diary's owner).
#[utoipa::path(delete, path = "/diary/detail/secondaryComment/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "secondaryCommentId")),
    responses((status = 201, body = super::reply::Message, description = "대댓글 삭제 완료"),
              (status = 403, body = super::reply::Message, description = "삭제 권한이 없습니다"),
              (status = 404, body = super::reply::Message, description = "댓글이 존재하지 않습니다")))]
#[tracing::instrument(skip_all)]
pub async fn delete_reply(
    State(app): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = id_param("secondaryCommentId", &id)?;
    let (reply, diary) = visible_reply(&app, id, &user, COMMENT_GONE).await?;
    may_delete(reply.user_id, &diary, &user)?;
    diaries::delete_reply(&app.db, id)
        .await
        .map_err(|e| gone(e, COMMENT_GONE))?;
    Ok((
        StatusCode::CREATED,
        super::reply::message("대댓글 삭제 완료"),
    ))
}
