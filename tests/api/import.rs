//! `ninecloud import`: the binary run as an operator runs it, against MariaDB databases made
//! from the originals' schemas (`tests/import/*.sql`) holding realistic rows with the
//! originals' bad data, and SecantusDB for their chat logs; then the imported accounts sign in
//! and read their data through the real API. On every backend (`TEST_DB`), and with the chat
//! log in MongoDB (`TEST_CHAT_LOG=mongo`).

use mongodb::bson::{Document, doc, oid::ObjectId};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};

use crate::helpers::*;

/// A fresh database of the original on the test MariaDB, made from `ddl` and filled by `rows`.
async fn source_database(ddl: &str, rows: &str) -> String {
    let admin = required_env("TEST_MYSQL_URL");
    let name = format!("nct_src_{}", uuid::Uuid::new_v4().simple());
    let pool = mysql_async::Pool::new(admin.as_str());
    let mut conn = pool.get_conn().await.expect("connect to the test MariaDB");
    conn.query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
        .await
        .unwrap();
    conn.query_drop(format!("USE {name}")).await.unwrap();
    for stmt in ddl.split(";\n").chain(rows.split(";\n")) {
        let body: String = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if !body.trim().is_empty() {
            conn.query_drop(&body)
                .await
                .unwrap_or_else(|e| panic!("{body}: {e}"));
        }
    }
    drop(conn);
    pool.disconnect().await.unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    url.to_string()
}

async fn run_sql(db_url: &str, sql: &str) {
    let pool = mysql_async::Pool::new(db_url);
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop(sql).await.unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
}

/// A fresh MongoDB database holding `docs` in `chats`; its URL.
async fn source_chats(docs: Vec<Document>) -> String {
    let base = required_env("TEST_MONGO_URL");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("nct_src_{}", uuid::Uuid::new_v4().simple()));
    let client = mongodb::Client::with_uri_str(url.as_str()).await.unwrap();
    let db = client.default_database().unwrap();
    db.collection::<Document>("chats")
        .insert_many(docs)
        .await
        .unwrap();
    url.to_string()
}

/// What one `ninecloud import` run printed and how it ended.
struct Run {
    ok: bool,
    out: String,
    err: String,
}

impl Run {
    /// `[read, new, already, linked, skipped]` of `table`'s summary line.
    #[track_caller]
    fn counts(&self, table: &str) -> Vec<usize> {
        let line = self
            .out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no summary line for {table}:\n{}", self.out));
        line.split_whitespace()
            .skip(1)
            .map(|n| n.parse().unwrap())
            .collect()
    }
}

/// Runs the binary: `ninecloud import <args>` into the app's database and chat log.
async fn import(app: &TestApp, args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ninecloud"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env(
            "DATA_DIR",
            app.upload_dir.parent().unwrap_or(&app.upload_dir),
        )
        .env("SECRET_KEY", "test-secret-key-0123456789abcdef")
        .env("RUST_LOG", "warn")
        .arg("import")
        .args(args);
    if let Some(mongo) = &app.mongo_url {
        cmd.env("MONGO_DB", mongo);
    }
    let out = cmd.output().await.expect("run ninecloud import");
    // Shown with the failure of a test that reads it.
    println!(
        "$ ninecloud import {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "ninecloud import panicked:\n{err}"
    );
    Run {
        ok: out.status.success(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const OLD_PASSWORD: &str = "cloud9pw!";

/// The original's rows (contract ninecloud-api.md §2), with its bad data: a Kakao account that
/// shared no e-mail, a 191-character name and diary, an EmotionalStatus outside 0–5, two
/// diaries on one day, a like that is no like, a repeated like, a likeCount that disagrees
/// with the rows, an upper-case address.
fn nine_cloud_rows(hash: &str) -> String {
    let long_name = "구".repeat(191);
    let long_content = format!("<p>{}</p>", "하".repeat(184));
    assert_eq!(long_content.chars().count(), 191);
    format!(
        "INSERT INTO Users (userId, username, password, email, profileImg, userType, createdAt, updatedAt, deletedAt) VALUES
 (1, '구름이', '{hash}', 'Alice@Nine.test', 'https://finaldrawings.s3.ap-northeast-2.amazonaws.com/profile/1.png', 'Common', '2023-12-20 01:00:00.000', '2023-12-20 01:00:00.000', NULL),
 (2, '카카오친구', '{hash}', 'bob@kakao.test', NULL, 'K', '2023-12-21 01:00:00.000', '2023-12-21 01:00:00.000', NULL),
 (3, '{long_name}', '{hash}', NULL, DEFAULT, 'K', '2023-12-22 01:00:00.000', '2023-12-22 01:00:00.000', NULL),
 (4, '떠나는이', '{hash}', 'carol@nine.test', DEFAULT, 'G', '2023-12-23 01:00:00.000', '2024-01-20 01:00:00.000', '2024-02-04 10:00:00.000');
INSERT INTO diaries (diaryId, UserId, EmotionalStatus, image, content, isPublic, viewCount, likeCount, sentence, weather, temperature, humid, sleep, createdAt, updatedAt) VALUES
 (10, 1, 3, 'https://finaldrawings.s3.ap-northeast-2.amazonaws.com/drawing/10.png', '{long_content}', 1, 7, 5, '오늘도 맑음', '3', '3', '3', '4', '2024-01-11 10:00:00.000', '2024-01-11 01:00:00.000'),
 (11, 1, 9, NULL, '<p>둘째 날</p><script>alert(1)</script>', 0, 0, 0, NULL, '1', '5', '5', '5', '2024-01-13 08:00:00.000', '2024-01-12 23:00:00.000'),
 (12, 1, 2, NULL, '<p>같은 날 또</p>', 0, 0, 0, NULL, '2', '2', '2', '2', '2024-01-11 20:00:00.000', '2024-01-11 11:00:00.000'),
 (13, 2, 4, NULL, '<p>카카오 일기</p>', 1, 2, 0, NULL, '2', '4', '4', '4', '2024-01-11 09:00:00.000', '2024-01-11 00:00:00.000');
INSERT INTO comments (commentId, DiaryId, UserId, content, isEdited, createdAt, updatedAt) VALUES
 (20, 10, 2, '멋진 하루네요', 0, '2024-01-11 02:00:00.000', '2024-01-11 02:00:00.000'),
 (21, 10, 1, '고마워요 (고침)', 1, '2024-01-11 03:00:00.000', '2024-01-11 04:00:00.000');
INSERT INTO secondaryComments (secondaryCommentId, DiaryId, UserId, CommentId, content, createdAt, updatedAt) VALUES
 (30, 10, 1, 20, '또 놀러 와요', '2024-01-11 05:00:00.000', '2024-01-11 05:00:00.000');
INSERT INTO DiaryLikes (diarylikeId, UserId, DiaryId, likeExist, createdAt, updatedAt) VALUES
 (40, 2, 10, 1, '2024-01-11 02:00:00.000', '2024-01-11 02:00:00.000'),
 (41, 2, 10, 1, '2024-01-11 02:00:01.000', '2024-01-11 02:00:01.000'),
 (42, 1, 10, 1, '2024-01-11 02:30:00.000', '2024-01-11 02:30:00.000'),
 (43, 1, 13, 0, '2024-01-11 02:40:00.000', '2024-01-11 02:40:00.000')"
    )
}

/// The community chat as the original kept it: `{chat, user: {id, name}}`, no time but the
/// ObjectId's.
fn nine_cloud_chats() -> Vec<Document> {
    let someone = ObjectId::new();
    ["안녕하세요", "반가워요", "오늘 날씨 좋네요"]
        .iter()
        .zip(0u8..)
        .map(|(text, i)| {
            doc! {"_id": oid(1_704_960_000 + u32::from(i) * 60, i), "chat": *text,
            "user": {"id": someone, "name": "구름손님"}, "__v": 0}
        })
        .collect()
}

fn hash_of(password: &str) -> String {
    let h = bcrypt::hash(password, 4).unwrap();
    assert!(h.starts_with("$2b$04$"));
    h
}

async fn lobby_texts(app: &TestApp, s: &Session) -> Vec<(i64, String, String)> {
    let lobby = ninecloud::store::channels::lobby(&app.app().db)
        .await
        .unwrap()
        .id;
    let page = app
        .get_authed(&format!("/channels/{lobby}/messages?limit=50"), s)
        .await;
    page.expect(200);
    page.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().unwrap(),
                m["nickname"].as_str().unwrap().to_string(),
                m["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn import_nine_cloud_brings_accounts_diaries_and_the_community_chat() {
    let app = spawn_app().await;
    let src = source_database(
        include_str!("../import/nine_cloud.sql"),
        &nine_cloud_rows(&hash_of(OLD_PASSWORD)),
    )
    .await;
    let mongo = source_chats(nine_cloud_chats()).await;
    let args = [
        "nine-cloud",
        "--from",
        src.as_str(),
        "--mongo",
        mongo.as_str(),
    ];

    // A dry run says what it would do and writes nothing.
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = import(&app, &dry_args).await;
    assert!(dry.ok, "{}\n{}", dry.out, dry.err);
    assert!(dry.out.contains("nothing was written"), "{}", dry.out);
    assert_eq!(dry.counts("Users"), [4, 4, 0, 0, 0]);
    assert_eq!(dry.counts("chats"), [3, 3, 0, 0, 0]);
    let nobody = app.signin("alice@nine.test", OLD_PASSWORD).await;
    assert_eq!(nobody.message(), "존재하지 않는 email입니다.");

    let run = import(&app, &args).await;
    assert!(run.ok, "{}\n{}", run.out, run.err);
    assert_eq!(run.counts("Users"), [4, 4, 0, 0, 0]);
    assert_eq!(run.counts("diaries"), [4, 3, 0, 0, 1]);
    assert_eq!(run.counts("comments"), [2, 2, 0, 0, 0]);
    assert_eq!(run.counts("secondaryComments"), [1, 1, 0, 0, 0]);
    assert_eq!(run.counts("DiaryLikes"), [4, 2, 0, 0, 2]);
    assert_eq!(run.counts("chats"), [3, 3, 0, 0, 0]);
    for table in [
        "Users",
        "diaries",
        "comments",
        "secondaryComments",
        "DiaryLikes",
        "chats",
    ] {
        assert_eq!(
            dry.counts(table),
            run.counts(table),
            "the dry run foresaw {table}"
        );
    }
    // Every skip and change is reported with its reason.
    for said in [
        "skipped diaries 12: user 1 has a diary for 2024-01-11 here already (diary 10)",
        "skipped DiaryLikes 41: user 2 likes diary 10 already",
        "skipped DiaryLikes 43: likeExist is false",
        "adjusted Users 3: no e-mail address",
        "no-email-3@nine-cloud.invalid",
        "adjusted diaries 11: EmotionalStatus Some(9.0) is outside 0–5; kept as 5",
    ] {
        assert!(run.out.contains(said), "missing {said:?} in:\n{}", run.out);
    }

    // The old password (a cost-4 `$2b$` hash) signs in; the upper-case address was folded.
    let alice = app.login("alice@nine.test", OLD_PASSWORD).await;
    let me = app.get_authed("/myInfo", &alice).await;
    me.expect(200);
    assert_eq!(me.body["data"]["userId"], 1, "a fresh target keeps the ids");
    assert_eq!(me.body["data"]["username"], "구름이");
    assert_eq!(
        me.body["data"]["profileImg"],
        "https://finaldrawings.s3.ap-northeast-2.amazonaws.com/profile/1.png"
    );

    // The calendar: the shifted createdAt's day. Diary 11 was written on 13 January in Seoul
    // (12 January in UTC).
    let cal = app.get_authed("/diary/calendar/2024/1", &alice).await;
    cal.expect(200);
    let days = cal.body["data"].as_array().unwrap();
    assert_eq!(days[10]["diaryId"], 10);
    assert_eq!(days[12]["diaryId"], 11);
    assert!(days[11]["diaryId"].is_null(), "{}", days[11]);
    assert_eq!(days[12]["EmotionStatus"], 5.0);

    // The detail: the same createdAt the original showed, likes recounted from the rows, the
    // view count carried, the S3 image URL as it was, the 191-character content whole.
    let detail = app.get_authed("/diary/detail/10", &alice).await;
    detail.expect(200);
    let d = &detail.body["data"];
    assert_eq!(d["createdAt"], "2024-01-11T10:00:00.000Z");
    assert_eq!(d["likeCount"], 2);
    assert!(d["viewCount"].as_i64().unwrap() >= 7);
    assert_eq!(d["EmotionStatus"], 3.0);
    assert_eq!(
        d["image"],
        "https://finaldrawings.s3.ap-northeast-2.amazonaws.com/drawing/10.png"
    );
    assert_eq!(d["content"].as_str().unwrap().chars().count(), 191);
    assert_eq!(detail.body["like"]["likeExist"], true);
    let other = app.get_authed("/diary/detail/11", &alice).await;
    assert!(
        !other.body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("<script")
    );

    let comments = app.get_authed("/diary/detail/comment/10", &alice).await;
    comments.expect(200);
    let list = comments.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    // Newest first, as the original listed them.
    assert_eq!(list[0]["commentId"], 21);
    assert_eq!(list[0]["isEdited"], true);
    assert_eq!(list[1]["content"], "멋진 하루네요");
    assert_eq!(list[1]["User"]["username"], "카카오친구");
    let replies = app
        .get_authed("/diary/detail/secondaryComment/10", &alice)
        .await;
    assert_eq!(replies.body["data"][0]["content"], "또 놀러 와요");
    assert_eq!(replies.body["data"][0]["CommentId"], 20);

    // The community chat is the lobby's history, numbered in the original's order.
    assert_eq!(
        lobby_texts(&app, &alice).await,
        [
            (1, "구름손님".into(), "안녕하세요".into()),
            (2, "구름손님".into(), "반가워요".into()),
            (3, "구름손님".into(), "오늘 날씨 좋네요".into()),
        ]
    );

    // The server goes on from there: new accounts and diaries get ids past the imported ones
    // (PostgreSQL's sequences were moved along).
    let (_, newcomer) = app.new_user("새사람").await;
    let me = app.get_authed("/myInfo", &newcomer).await;
    assert_eq!(me.body["data"]["userId"], 5);
    app.post_diary(&alice, &[]).await.expect(201);

    // A second run adds nothing and says so.
    let again = import(&app, &args).await;
    assert!(again.ok, "{}\n{}", again.out, again.err);
    assert!(again.out.contains("nothing new to import"), "{}", again.out);
    assert_eq!(again.counts("Users"), [4, 0, 4, 0, 0]);
    assert_eq!(again.counts("chats"), [3, 0, 3, 0, 0]);
    assert_eq!(lobby_texts(&app, &alice).await.len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn import_interrupted_part_way_is_completed_by_a_second_run() {
    let app = spawn_app().await;
    let src = source_database(
        include_str!("../import/nine_cloud.sql"),
        &nine_cloud_rows(&hash_of(OLD_PASSWORD)),
    )
    .await;
    // The source loses a table mid-way through the run's order (users, diaries, comments…).
    run_sql(&src, "RENAME TABLE comments TO comments_away").await;
    let first = import(&app, &["nine-cloud", "--from", src.as_str()]).await;
    assert!(!first.ok, "{}", first.out);
    assert!(first.err.contains("`comments`"), "{}", first.err);
    assert!(
        first.err.contains("run the same command again"),
        "{}",
        first.err
    );
    let alice = app.login("alice@nine.test", OLD_PASSWORD).await;
    let none = app.get_authed("/diary/detail/comment/10", &alice).await;
    assert_eq!(none.body["data"], json!([]));

    run_sql(&src, "RENAME TABLE comments_away TO comments").await;
    let second = import(&app, &["nine-cloud", "--from", src.as_str()]).await;
    assert!(second.ok, "{}\n{}", second.out, second.err);
    assert_eq!(second.counts("Users"), [4, 0, 4, 0, 0]);
    assert_eq!(second.counts("diaries"), [4, 0, 3, 0, 1]);
    assert_eq!(second.counts("comments"), [2, 2, 0, 0, 0]);
    assert_eq!(second.counts("DiaryLikes"), [4, 2, 0, 0, 2]);
    let list = app.get_authed("/diary/detail/comment/10", &alice).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    let detail = app.get_authed("/diary/detail/10", &alice).await;
    assert_eq!(detail.body["data"]["likeCount"], 2);

    let third = import(&app, &["nine-cloud", "--from", src.as_str()]).await;
    assert!(third.out.contains("nothing new to import"), "{}", third.out);
    app.stop().await;
}

const FRIEND_PASSWORD: &str = "friend123!";
const STUDY: &str = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
const GAMES: &str = "6fa459ea-ee8a-4ca4-894e-db77e160355e";

/// The original's rows (contract everyones-friend-api.md §4) with its bad data: two accounts
/// with one address, an address that is none, repeated joins, a join with no channel, a join
/// by an address nobody has, a join to a channel that is gone.
fn everyones_friend_rows(hash: &str) -> String {
    format!(
        "INSERT INTO `User` (id, nickname, email, password, createat) VALUES
 ('a0000000-0000-4000-8000-000000000001', '미나', 'mina@friend.test', '{hash}', '2022-06-01 10:00:00.000000'),
 ('a0000000-0000-4000-8000-000000000002', '미나2', 'MINA@friend.test', '{hash}', '2022-06-02 10:00:00.000000'),
 ('a0000000-0000-4000-8000-000000000003', '준', 'joon@friend.test', '{hash}', '2022-06-03 10:00:00.000000'),
 ('a0000000-0000-4000-8000-000000000004', '이상한', 'not-an-address', '{hash}', '2022-06-04 10:00:00.000000');
INSERT INTO channel (id, title, intro, description) VALUES
 ('{STUDY}', '공부방', '같이 공부해요', NULL),
 ('{GAMES}', '게임방', '게임 이야기', '아무 게임이나');
SET FOREIGN_KEY_CHECKS = 0;
INSERT INTO channel_join (id, email, channelId) VALUES
 ('b0000000-0000-4000-8000-000000000001', 'mina@friend.test', '{STUDY}'),
 ('b0000000-0000-4000-8000-000000000002', 'mina@friend.test', '{STUDY}'),
 ('b0000000-0000-4000-8000-000000000003', 'MINA@friend.test', '{GAMES}'),
 ('b0000000-0000-4000-8000-000000000004', 'joon@friend.test', NULL),
 ('b0000000-0000-4000-8000-000000000005', 'ghost@friend.test', '{STUDY}'),
 ('b0000000-0000-4000-8000-000000000006', 'joon@friend.test', 'c0000000-0000-4000-8000-00000000dead');
SET FOREIGN_KEY_CHECKS = 1"
    )
}

fn oid(secs: u32, n: u8) -> ObjectId {
    ObjectId::parse_str(format!("{secs:08x}0000000000{n:06x}")).unwrap()
}

/// The log as mongoose wrote it: `date` strings in JavaScript's long form (and one ISO), the
/// older `roomId` field, a room that is no channel, a message with no room.
fn everyones_friend_chats() -> Vec<Document> {
    vec![
        // Inserted first, written last (its date): date order wins over `_id` order.
        doc! {"_id": oid(1_656_662_000, 1), "nickname": "미나", "content": "셋째", "channel": STUDY,
        "date": "Fri Jul 01 2022 08:03:23 GMT+0000 (Coordinated Universal Time)", "__v": 0},
        doc! {"_id": oid(1_656_662_001, 2), "nickname": "준", "content": "첫째", "channel": STUDY,
        "date": "Fri Jul 01 2022 17:03:21 GMT+0900 (Korean Standard Time)", "__v": 0},
        doc! {"_id": oid(1_656_662_002, 3), "nickname": "미나", "content": "둘째", "channel": STUDY,
        "date": "Fri Jul 01 2022 08:03:22 GMT+0000 (Coordinated Universal Time)", "__v": 0},
        doc! {"_id": oid(1_656_662_003, 4), "nickname": "손님", "content": "로비 인사", "channel": "room:lobby",
        "date": "2022-07-01T08:04:00.000Z", "__v": 0},
        doc! {"_id": oid(1_656_000_000, 5), "nickname": "옛날", "content": "옛 방식", "roomId": GAMES,
        "date": "Tue Jun 14 2022 12:00:00 GMT+0000 (Coordinated Universal Time)", "__v": 0},
        doc! {"_id": oid(1_656_662_004, 6), "nickname": "유령", "content": "사라진 방", "channel": "c0000000-0000-4000-8000-00000000dead",
        "date": "Fri Jul 01 2022 08:05:00 GMT+0000 (Coordinated Universal Time)", "__v": 0},
        doc! {"_id": oid(1_656_662_005, 7), "nickname": "길잃음", "content": "방 없음", "__v": 0},
    ]
}

async fn friend_login(app: &TestApp, email: &str) -> Value {
    let a = app
        .post_json(
            "/login",
            &json!({ "email": email, "password": FRIEND_PASSWORD }),
        )
        .await;
    a.expect(200);
    a.body
}

async fn chats_of(app: &TestApp, room: &str) -> Vec<(i64, String, String)> {
    let a = send(app.client.get(app.url(&format!("/channel/{room}/chats")))).await;
    a.expect(200);
    let mut list: Vec<(i64, String, String)> = a.body["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["seq"].as_i64().unwrap(),
                c["message"].as_str().unwrap().to_string(),
                c["date"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    list.reverse();
    list
}

#[tokio::test(flavor = "multi_thread")]
async fn import_everyones_friend_brings_accounts_channels_favourites_and_logs() {
    let app = spawn_app().await;
    let src = source_database(
        include_str!("../import/everyones_friend.sql"),
        &everyones_friend_rows(&hash_of(FRIEND_PASSWORD)),
    )
    .await;
    let mongo = source_chats(everyones_friend_chats()).await;
    let args = [
        "everyones-friend",
        "--from",
        src.as_str(),
        "--mongo",
        mongo.as_str(),
    ];
    // A dry run decides every row as the run will (channels it would make included).
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = import(&app, &dry_args).await;
    assert!(dry.ok, "{}\n{}", dry.out, dry.err);
    for (table, counts) in [
        ("User", [4, 2, 0, 1, 1]),
        ("channel", [2, 2, 0, 0, 0]),
        ("channel_join", [6, 2, 0, 0, 4]),
        ("chats", [7, 5, 0, 0, 2]),
    ] {
        assert_eq!(dry.counts(table), counts, "{table}");
    }
    send(app.client.get(app.url(&format!("/channel/{STUDY}/chats"))))
        .await
        .expect(404);

    let run = import(&app, &args).await;
    assert!(run.ok, "{}\n{}", run.out, run.err);
    assert_eq!(run.counts("User"), [4, 2, 0, 1, 1]);
    assert_eq!(run.counts("channel"), [2, 2, 0, 0, 0]);
    assert_eq!(run.counts("channel_join"), [6, 2, 0, 0, 4]);
    assert_eq!(run.counts("chats"), [7, 5, 0, 0, 2]);
    for said in [
        "linked User a0000000-0000-4000-8000-000000000002: a second account with the address",
        "skipped User a0000000-0000-4000-8000-000000000004: \"not-an-address\" is not an e-mail address",
        "skipped channel_join b0000000-0000-4000-8000-000000000002: user",
        "(a repeated join)",
        "skipped channel_join b0000000-0000-4000-8000-000000000004: it names no channel",
        "skipped channel_join b0000000-0000-4000-8000-000000000005: no account has the address",
        "skipped channel_join b0000000-0000-4000-8000-000000000006: channel c0000000-0000-4000-8000-00000000dead does not exist",
        "its room c0000000-0000-4000-8000-00000000dead is no channel",
        "it names no room",
    ] {
        assert!(run.out.contains(said), "missing {said:?} in:\n{}", run.out);
    }

    // The old password signs in on the original's route; the account is unverified (NINE
    // Cloud's /signin does not take it until the address is proven).
    assert_eq!(friend_login(&app, "mina@friend.test").await, json!(true));
    friend_login(&app, "joon@friend.test").await;
    app.signin("mina@friend.test", FRIEND_PASSWORD)
        .await
        .expect(400);

    // Favourites by address, the duplicate account's join included, by the original's uuids.
    let mine = send(app.client.get(app.url("/channel/mina@friend.test"))).await;
    mine.expect(200);
    let mut ids: Vec<&str> = mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [STUDY, GAMES]);
    let all = send(app.client.get(app.url("/channel/findAll"))).await;
    let study = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == STUDY)
        .expect("the study channel")
        .clone();
    assert_eq!(study["title"], "공부방");
    assert_eq!(study["intro"], "같이 공부해요");

    // The log: numbered in date order (not insertion order), dates parsed from both forms.
    assert_eq!(
        chats_of(&app, STUDY).await,
        [
            (1, "첫째".into(), "2022-07-01T08:03:21.000Z".into()),
            (2, "둘째".into(), "2022-07-01T08:03:22.000Z".into()),
            (3, "셋째".into(), "2022-07-01T08:03:23.000Z".into()),
        ]
    );
    assert_eq!(
        chats_of(&app, GAMES).await,
        [(1, "옛 방식".into(), "2022-06-14T12:00:00.000Z".into())]
    );
    let lobby = chats_of(&app, "room:lobby").await;
    assert_eq!(lobby.len(), 1);
    assert_eq!(lobby[0].1, "로비 인사");

    let again = import(&app, &args).await;
    assert!(again.ok, "{}\n{}", again.out, again.err);
    assert!(again.out.contains("nothing new to import"), "{}", again.out);
    assert_eq!(again.counts("chats"), [7, 0, 5, 0, 2]);
    assert_eq!(chats_of(&app, STUDY).await.len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn both_originals_into_one_server_share_an_address_s_account() {
    // The README's order: NINE Cloud first (its accounts proved their addresses), then
    // Everyone's friend, whose account with the same address joins the NINE Cloud one.
    let app = spawn_app().await;
    let nine = source_database(
        include_str!("../import/nine_cloud.sql"),
        &nine_cloud_rows(&hash_of(OLD_PASSWORD)),
    )
    .await;
    assert!(
        import(&app, &["nine-cloud", "--from", nine.as_str()])
            .await
            .ok
    );
    let friend = source_database(
        include_str!("../import/everyones_friend.sql"),
        &format!(
            "INSERT INTO `User` (id, nickname, email, password, createat) VALUES
 ('a0000000-0000-4000-8000-000000000009', '앨리스', 'alice@nine.test', '{}', '2022-06-01 10:00:00');
INSERT INTO channel (id, title, intro, description) VALUES ('{STUDY}', '공부방', '같이 공부해요', NULL);
INSERT INTO channel_join (id, email, channelId) VALUES ('b0000000-0000-4000-8000-000000000009', 'alice@nine.test', '{STUDY}')",
            hash_of(FRIEND_PASSWORD)
        ),
    )
    .await;
    let run = import(&app, &["everyones-friend", "--from", friend.as_str()]).await;
    assert!(run.ok, "{}\n{}", run.out, run.err);
    assert_eq!(run.counts("User"), [1, 0, 0, 1, 0]);
    assert!(
        run.out
            .contains("alice@nine.test has an account here already (user 1)")
    );
    assert_eq!(run.counts("channel_join"), [1, 1, 0, 0, 0]);

    // The NINE Cloud account keeps its password and gets the favourite.
    let alice = app.login("alice@nine.test", OLD_PASSWORD).await;
    let joined = app.get_authed("/channels/joined", &alice).await;
    joined.expect(200);
    let uuids: Vec<&str> = joined.body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids, [STUDY]);
    let old = app
        .post_json(
            "/login",
            &json!({ "email": "alice@nine.test", "password": FRIEND_PASSWORD }),
        )
        .await;
    assert_eq!(old.status, 401, "{}", old.body);
    app.stop().await;
}
