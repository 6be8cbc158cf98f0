//! The Everyone's friend original (contract `everyones-friend-api.md` §4): MySQL `User` (uuid
//! ids, no unique e-mail), `channel` (uuid ids, kept: they are its clients' room ids),
//! `channel_join` (favourites by free-text e-mail), and MongoDB `chats` (`{nickname, content,
//! channel | roomId, date}` with `date` a string).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};

use super::common::{Fate, Step, TableReport, Target, naive, parse_date, plan};
use super::source::{Mongo, Mysql};
use super::target::{self, ChannelRow, MemberRow, UserRow};
use crate::domain::Email;
use crate::realtime::core::guest_sender;
use crate::store::accounts::UNVERIFIED;
use crate::store::messages::Imported;

/// The lobby's room id in the original.
const LOBBY_ROOM: &str = "room:lobby";

fn kind(table: &str) -> String {
    format!("everyones-friend:{table}")
}

pub(crate) async fn import(
    t: &Target,
    src: &Mysql,
    mongo: Option<&Mongo>,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<()> {
    // What each step planned is handed on in memory (a dry run writes nothing to read back).
    let accounts = users(t, src, done).await?;
    let rooms = channels(t, src, done).await?;
    joins(t, src, &accounts, &rooms, done).await?;
    if let Some(mongo) = mongo {
        chats(t, mongo, &rooms, done).await?;
    }
    Ok(())
}

/// Every account by address: (id, user type), those planned by this run included.
type Accounts = HashMap<String, (i64, String)>;

/// Every channel by uuid, those planned by this run included, and the lobby's id.
struct Rooms {
    by_uuid: HashMap<String, i64>,
    lobby: i64,
}

/// Accounts made through Everyone's friend proved no address: they come over as unverified
/// accounts (they sign in there with their password; a NINE Cloud sign-up for the address
/// takes it over). The original checked no uniqueness: of several accounts with one address
/// the oldest comes over and the others are joined to it.
async fn users(
    t: &Target,
    src: &Mysql,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<Accounts> {
    const TABLE: &str = "User";
    let rows = src
        .rows(
            TABLE,
            "SELECT id, nickname, email, password, CAST(createat AS CHAR) \
             FROM `User` ORDER BY createat, id",
        )
        .await?;
    let mut ids = target::user_ids(&t.db).await?;
    let mut accounts = target::accounts(&t.db).await?;
    // Address → the source account that brought it in this run.
    let mut first_of: HashMap<String, String> = HashMap::new();
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, sid, _| {
        let raw = row.text(2).unwrap_or_default();
        let Ok(email) = Email::parse("email", &raw) else {
            return Ok(Step::Skip(format!("{raw:?} is not an e-mail address")));
        };
        let email = email.as_str().to_string();
        if let Some(&(here, _)) = accounts.get(&email) {
            let note = match first_of.get(&email) {
                Some(first) => format!(
                    "a second account with the address of {first} (the original checked no \
                     uniqueness): joined to user {here}, whose password stays"
                ),
                None => format!(
                    "{email} has an account here already (user {here}): its favourites join it, \
                     and it signs in with its own password"
                ),
            };
            return Ok(Step::Linked(here, note));
        }
        let created = naive(row.text(4)).unwrap_or(t.now);
        let id = ids.take(0);
        accounts.insert(email.clone(), (id, UNVERIFIED.to_string()));
        first_of.insert(email.clone(), sid.to_string());
        let username = row
            .text(1)
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        Ok(Step::New(
            UserRow {
                id,
                email,
                username,
                password_hash: row.text(3).unwrap_or_default(),
                profile_img: None,
                user_type: UNVERIFIED.to_string(),
                created_at: created,
                updated_at: created,
                deletion_due_at: None,
                token_generation: 0,
            },
            id,
        ))
    })
    .await?;
    plan.finish(t, |rows, maps| target::users_chunk(&t.db, rows, maps), done)
        .await?;
    Ok(accounts)
}

async fn channels(
    t: &Target,
    src: &Mysql,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<Rooms> {
    const TABLE: &str = "channel";
    let rows = src
        .rows(
            TABLE,
            "SELECT id, title, intro, description FROM channel ORDER BY id",
        )
        .await?;
    let mut ids = target::channel_ids(&t.db).await?;
    let (mut by_uuid, lobby) = target::channels_by_uuid(&t.db).await?;
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, sid, report| {
        let uuid = sid.trim().to_lowercase();
        if uuid::Uuid::parse_str(&uuid).is_err() {
            return Ok(Step::Skip("its id is not a uuid".into()));
        }
        if let Some(&here) = by_uuid.get(&uuid) {
            return Ok(Step::Linked(
                here,
                format!("channel {here} here has this uuid already"),
            ));
        }
        let id = ids.take(0);
        by_uuid.insert(uuid.clone(), id);
        let title = row.text(1).unwrap_or_else(|| {
            report.adjust(sid, "no title; named by its uuid");
            uuid.clone()
        });
        Ok(Step::New(
            ChannelRow {
                id,
                name: title,
                owner_id: None,
                is_lobby: false,
                last_seq: 0,
                created_at: t.now,
                updated_at: t.now,
                uuid,
                intro: row.text(2).unwrap_or_default(),
                description: row.text(3),
            },
            id,
        ))
    })
    .await?;
    plan.finish(
        t,
        |rows, maps| target::channels_chunk(&t.db, rows, maps),
        done,
    )
    .await?;
    Ok(Rooms { by_uuid, lobby })
}

/// Favourites: `channel_join.email` names the user (free text, no foreign key).
async fn joins(
    t: &Target,
    src: &Mysql,
    accounts: &Accounts,
    rooms: &Rooms,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<()> {
    const TABLE: &str = "channel_join";
    let rows = src
        .rows(
            TABLE,
            "SELECT id, email, channelId FROM channel_join ORDER BY id",
        )
        .await?;
    let mut pairs = target::member_pairs(&t.db).await?;
    let plan = plan(t, TABLE, &kind(TABLE), &rows, |row, _, _| {
        let Some(channel) = row.text(2) else {
            return Ok(Step::Skip("it names no channel (channelId is NULL)".into()));
        };
        let Some(&channel_id) = rooms.by_uuid.get(&channel.trim().to_lowercase()) else {
            return Ok(Step::Skip(format!("channel {channel} does not exist")));
        };
        let raw = row.text(1).unwrap_or_default();
        let user = Email::parse("email", &raw)
            .ok()
            .and_then(|e| accounts.get(e.as_str()).map(|a| a.0));
        let Some(user) = user else {
            return Ok(Step::Skip(format!("no account has the address {raw:?}")));
        };
        if !pairs.insert((channel_id, user)) {
            return Ok(Step::Skip(format!(
                "user {user} has channel {channel} as a favourite already (a repeated join)"
            )));
        }
        Ok(Step::New(
            MemberRow {
                channel_id,
                user_id: user,
                created_at: t.now,
            },
            channel_id,
        ))
    })
    .await?;
    plan.finish(
        t,
        |rows, maps| target::members_chunk(&t.db, rows, maps),
        done,
    )
    .await?;
    Ok(())
}

/// When a chat document was written: its `date` (a string in JavaScript's long form, or
/// ISO), else its ObjectId's time.
fn written(d: &Document) -> (DateTime<Utc>, bool) {
    let from_id = || match d.get("_id") {
        Some(Bson::ObjectId(oid)) => oid.timestamp().to_chrono(),
        _ => Utc::now(),
    };
    match d.get("date") {
        Some(Bson::String(s)) => parse_date(s).map_or_else(|| (from_id(), false), |t| (t, true)),
        Some(Bson::DateTime(t)) => (t.to_chrono(), true),
        _ => (from_id(), false),
    }
}

/// The log, room by room (`channel`, or `roomId` before 2022-06-21), numbered in date order.
async fn chats(
    t: &Target,
    mongo: &Mongo,
    rooms: &Rooms,
    done: &mut dyn FnMut(TableReport),
) -> anyhow::Result<()> {
    const TABLE: &str = "chats";
    let (by_uuid, lobby) = (&rooms.by_uuid, rooms.lobby);
    let mut report = TableReport::new(TABLE);
    let mut rooms: Vec<(String, Document)> = Vec::new();
    for room in mongo.rooms(TABLE, "channel").await? {
        rooms.push((room.clone(), doc! {"channel": room}));
    }
    for room in mongo.rooms(TABLE, "roomId").await? {
        rooms.push((room.clone(), doc! {"roomId": room, "channel": Bson::Null}));
    }
    for d in mongo
        .all(TABLE, doc! {"channel": Bson::Null, "roomId": Bson::Null})
        .await?
    {
        let sid = d.get("_id").map(|v| v.to_string()).unwrap_or_default();
        report.count(&sid, Fate::Skipped("it names no room".into()));
    }
    for (room, filter) in rooms {
        let docs = mongo.all(TABLE, filter).await?;
        let channel = if room == LOBBY_ROOM {
            Some(lobby)
        } else {
            by_uuid.get(&room.trim().to_lowercase()).copied()
        };
        let Some(channel) = channel else {
            for d in &docs {
                let sid = d.get("_id").map(|v| v.to_string()).unwrap_or_default();
                report.count(
                    &sid,
                    Fate::Skipped(format!("its room {room} is no channel")),
                );
            }
            continue;
        };
        let mut list: Vec<(DateTime<Utc>, Imported)> = Vec::new();
        for d in docs {
            let Some(Bson::ObjectId(oid)) = d.get("_id") else {
                let sid = d.get("_id").map(|v| v.to_string()).unwrap_or_default();
                report.count(&sid, Fate::Skipped("its _id is not an ObjectId".into()));
                continue;
            };
            let sid = oid.to_hex();
            let Ok(text) = d.get_str("content") else {
                report.count(&sid, Fate::Skipped("it has no text (`content`)".into()));
                continue;
            };
            let (at, dated) = written(&d);
            if !dated {
                report.adjust(&sid, "no readable `date`: its ObjectId's time is used");
            }
            let nickname = d.get_str("nickname").unwrap_or("익명").to_string();
            list.push((
                at,
                Imported {
                    id: sid,
                    user_id: None,
                    sender: guest_sender(&nickname),
                    nickname,
                    text: text.to_string(),
                    created_at: at,
                },
            ));
        }
        // Date order (the original's dates have whole seconds: ties keep `_id` order).
        list.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let list: Vec<Imported> = list.into_iter().map(|(_, m)| m).collect();
        t.import_messages(&format!("chats {room}"), channel, &list, &mut report)
            .await?;
    }
    done(report);
    Ok(())
}
