//! What REST answers and socket acknowledgements both show: shared views, so that neither
//! layer imports the other.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::channels::Channel;

/// The Socket.IO room of the lobby channel (every dialect's lobby is this one channel).
pub const LOBBY_ROOM: &str = "room:lobby";

/// A channel as clients see it.
#[derive(Serialize, ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ChannelView {
    pub id: i64,
    /// The channel's public id in Everyone's friend (its `enterChannel` room id); accepted
    /// wherever a channel id is.
    pub uuid: String,
    pub name: String,
    /// `null` for the lobby.
    pub owner_id: Option<i64>,
    pub lobby: bool,
    /// The Socket.IO room of the channel (`room:lobby`, `room:<id>`).
    pub room: String,
    /// Users who joined it as a favourite.
    pub members: i64,
    /// Signed-in users with a socket in its room, on every instance.
    pub online: usize,
    pub created_at: String,
}

impl ChannelView {
    pub fn new(c: &Channel, members: i64, online: usize) -> Self {
        ChannelView {
            id: c.id,
            uuid: c.uuid.clone(),
            name: c.name.clone(),
            owner_id: c.owner_id,
            lobby: c.is_lobby,
            room: if c.is_lobby {
                LOBBY_ROOM.to_string()
            } else {
                format!("room:{}", c.id)
            },
            members,
            online,
            created_at: c
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}
