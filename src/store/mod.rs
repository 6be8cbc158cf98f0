//! Storage behind the HTTP and socket handlers: the relational database and object storage.

pub mod accounts;
pub mod db;
pub mod objects;
pub mod schema;
