//! All HTTP integration tests in one binary (one link, shared helpers). Every test starts the
//! real server on a random port with its own fresh database; see `helpers.rs`.

mod accounts;
mod advice;
mod chat_log;
mod chat_log_writes;
mod connections;
mod diary;
mod everyones_friend;
mod helpers;
mod import;
mod oauth;
mod operations;
mod storage;
