//! Storage behind the HTTP and socket handlers: the relational database, the chat log
//! (relational or MongoDB) and object storage.

pub mod accounts;
pub mod advice;
pub mod channels;
pub mod db;
pub mod diaries;
pub mod log;
pub mod messages;
pub mod objects;
pub mod schema;
pub mod writer;
