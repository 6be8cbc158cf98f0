//! The body of most answers.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of most answers: `{"message": "..."}`.
#[derive(Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

pub fn message(text: impl Into<String>) -> Json<Message> {
    Json(Message {
        message: text.into(),
    })
}
