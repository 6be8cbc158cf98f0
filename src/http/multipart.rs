//! Reading multipart forms (profile pictures, diary drawings): a file field held to a byte
//! limit, the rest of a refused form drained, and multipart errors as the front end's messages.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;

use crate::error::{AppError, AppResult};
use crate::store::objects::ObjectError;

/// Reads a multipart file field into memory, refusing more than `max` bytes.
pub async fn read_upload(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> AppResult<bytes::Bytes> {
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > max {
            // Read the rest of the file so the client hears the 413 instead of a reset.
            while let Ok(Some(_)) = field.chunk().await {}
            return Err(ObjectError::TooLarge { limit: max }.into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Reads and discards what is left of a refused form, so that the client, still sending, gets
/// the answer rather than a reset connection. Bounded by the body limit.
pub async fn drain(form: &mut Multipart) {
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

pub fn not_multipart(_: MultipartRejection) -> AppError {
    AppError::bad_request("multipart/form-data 형식으로 보내야 합니다.")
}

pub fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if crate::net::is_body_timeout(&e) {
        super::extract::body_timeout()
    } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::payload_too_large("요청 본문이 너무 큽니다.")
    } else {
        AppError::bad_request(format!(
            "multipart 본문을 읽을 수 없습니다: {}",
            e.body_text()
        ))
    }
}
