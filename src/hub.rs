//! What the REST side may ask of the socket server, as a trait object kept in `App`: the
//! realtime layer implements it (`realtime::attach`), so neither `app` nor `http` imports
//! `realtime`.

use async_trait::async_trait;
use serde::Serialize;

#[derive(Serialize, Clone, Copy, Debug, utoipa::ToSchema)]
pub struct StatsSnapshot {
    /// Sockets connected to this instance.
    pub connected: u64,
    /// Chat messages stored and broadcast by this instance since it started.
    pub messages: u64,
    /// Packets slow or vanished clients missed (they recover by sequence number).
    pub dropped: u64,
}

/// What the REST side may ask of the socket server.
#[async_trait]
pub trait Hub: Send + Sync {
    /// Ids of the signed-in users with a socket in the channel's room, on any instance.
    async fn online_users(&self, channel: i64) -> Vec<i64>;
    /// Tells the channel's sockets about a rename.
    async fn channel_updated(&self, channel: i64, payload: serde_json::Value);
    /// Tells the channel's sockets it is gone and takes them out of its room.
    async fn channel_deleted(&self, channel: i64);
    /// Closes every socket's transport (without a Socket.IO disconnect packet), so clients
    /// reconnect at once, to another instance behind the load balancer.
    async fn close_all(&self);
    /// Disconnects every socket of the user, on every instance (their token was revoked).
    async fn disconnect_user(&self, user: i64);
    fn stats(&self) -> StatsSnapshot;
}
