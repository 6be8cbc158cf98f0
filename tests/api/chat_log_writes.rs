//! The chat log's group commit (store::writer) on every backend, and with `TEST_CHAT_LOG=mongo`
//! in MongoDB: messages sent together are stored together, yet each keeps its own outcome; a
//! full queue refuses at once; and a server killed with SIGKILL mid-load has stored every
//! message it acknowledged, exactly once, with no hole in the numbering.

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use ninecloud::store::db::{Db, DbError};
use ninecloud::store::messages::{ChatMessage, MessageStore, NewMessage};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Session, TestApp, send, spawn_app, spawn_with};

async fn channel(app: &TestApp, s: &Session, name: &str) -> i64 {
    let a = send(
        app.authed(Method::POST, "/channels", s)
            .json(&json!({ "name": name })),
    )
    .await;
    a.expect(201);
    a.body["channel"]["id"].as_i64().expect("channel id")
}

fn note(channel: i64, sender: &str, text: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        channel_id: channel,
        user_id: None,
        nickname: sender.to_string(),
        text: text.to_string(),
        sender: format!("guest:{sender}"),
        client_id: client_id.map(str::to_string),
    }
}

/// The whole log of a channel, oldest first.
async fn whole_log(log: &dyn MessageStore, channel: i64) -> Vec<ChatMessage> {
    let mut all = Vec::new();
    loop {
        let since = all.last().map_or(0, |m: &ChatMessage| m.seq);
        let page = log.after(channel, since, 500).await.expect("read the log");
        all.extend(page.messages);
        if !page.more {
            return all;
        }
    }
}

/// Sequence numbers 1, 2, 3, … with no hole (the relational logs promise it; MongoDB's may
/// skip a number a failed insert took, so there they only increase).
fn assert_numbered(app: &TestApp, log: &[ChatMessage]) {
    let seqs: Vec<i64> = log.iter().map(|m| m.seq).collect();
    if app.mongo_url.is_none() {
        let expected: Vec<i64> = (1..=log.len() as i64).collect();
        assert_eq!(seqs, expected, "gapless and in order");
    } else {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "increasing: {seqs:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_sent_together_are_stored_together_each_with_its_own_outcome() {
    let app = spawn_app().await;
    let (_, s) = app.new_user("묶음").await;
    let (one, two) = (
        channel(&app, &s, "one").await,
        channel(&app, &s, "two").await,
    );
    let gone = channel(&app, &s, "gone").await;
    send(app.authed(Method::DELETE, &format!("/channels/{gone}"), &s))
        .await
        .expect(200);
    let log = app.app().messages.clone();
    let before = log.queue();

    // 150 sends at once over two channels, a retried send three times among them, and sends
    // to a deleted and to a never-existing channel.
    let mut sends = Vec::new();
    for i in 0..150 {
        let ch = if i % 3 == 0 { two } else { one };
        sends.push(note(ch, "a", &format!("m{i}"), None));
        if i == 40 || i == 41 || i == 90 {
            sends.push(note(one, "b", "retried", Some("r1")));
        }
    }
    sends.push(note(gone, "a", "to a deleted channel", None));
    sends.push(note(i64::MAX / 2, "a", "to no channel", None));
    let results = futures::future::join_all(sends.into_iter().map(|n| log.append(n))).await;

    let after = log.queue();
    let stored = after.stored - before.stored;
    let batches = after.batches - before.batches;
    assert!(
        batches < stored,
        "{stored} messages in {batches} transactions: some were committed together"
    );
    assert!(after.largest_batch > 1);
    assert_eq!(after.queued, 0);

    let (ok, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.is_ok());
    if app.mongo_url.is_none() {
        // The relational log knows its channels; MongoDB's takes the server's word for them.
        assert_eq!(failed.len(), 2, "only the two sends to no channel fail");
        assert!(failed.iter().all(|r| matches!(r, Err(DbError::NotFound))));
    }
    let ok: Vec<_> = ok.into_iter().map(Result::unwrap).collect();
    let retried: Vec<_> = ok.iter().filter(|a| a.message.text == "retried").collect();
    assert_eq!(retried.len(), 3);
    assert_eq!(retried.iter().filter(|a| !a.duplicate).count(), 1);
    assert!(retried.iter().all(|a| a.message == retried[0].message));

    let first = whole_log(log.as_ref(), one).await;
    assert_eq!(
        first.len(),
        100 + 1,
        "100 messages and the retried one, stored once"
    );
    assert_numbered(&app, &first);
    // Each channel keeps the order the messages were sent in.
    let order: Vec<&str> = first
        .iter()
        .map(|m| m.text.as_str())
        .filter(|t| *t != "retried")
        .collect();
    let sent: Vec<String> = (0..150)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("m{i}"))
        .collect();
    assert_eq!(order, sent);
    assert_numbered(&app, &whole_log(log.as_ref(), two).await);
    assert_eq!(log.last_seq(one).await.unwrap(), first.last().unwrap().seq);

    // A retry after the batch still finds the message.
    let again = log
        .append(note(one, "b", "retried", Some("r1")))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, retried[0].message);
}

/// Makes the database refuse one message (its text is "poison"), as a constraint would.
async fn poison(app: &TestApp, channel: i64) {
    if let Some(url) = &app.mongo_url {
        // The number the next-but-one message will take is already used: its insert fails
        // on the unique (channelId, seq) index.
        let client = mongodb::Client::with_uri_str(url).await.unwrap();
        let db = client.default_database().unwrap();
        db.collection::<mongodb::bson::Document>("chats")
            .insert_one(mongodb::bson::doc! {
                "channelId": channel, "seq": 2_i64, "chat": "squatter", "nickname": "x",
                "sender": "guest:squatter", "clientId": "squatter",
                "createdAt": mongodb::bson::DateTime::now(),
            })
            .await
            .unwrap();
        return;
    }
    let db: &Db = &app.app().db;
    let statements: &[&str] = match db {
        Db::Sqlite(_) => &["CREATE TRIGGER poison BEFORE INSERT ON chat_messages \
             WHEN NEW.body = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"],
        Db::Postgres(_) => &[
            "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON chat_messages \
             FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
        Db::Mysql(_) => &[
            "CREATE TRIGGER poison BEFORE INSERT ON chat_messages FOR EACH ROW \
             BEGIN IF NEW.body = 'poison' THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned'; END IF; END",
        ],
    };
    async fn run(db: &Db, sql: &str) -> Result<(), DbError> {
        ninecloud::with_conn!(db, |conn| {
            diesel_async::RunQueryDsl::execute(diesel::sql_query(sql), conn).await?;
            Ok(())
        })
    }
    for sql in statements {
        run(db, sql).await.expect("install the poison");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_message_fails_alone_never_its_batch() {
    let app = spawn_app().await;
    let (_, s) = app.new_user("독약").await;
    let ch = channel(&app, &s, "poisoned").await;
    poison(&app, ch).await;
    let log = app.app().messages.clone();

    let texts: Vec<String> = (0..40)
        .map(|i| {
            if i == 1 {
                "poison".to_string()
            } else {
                format!("fine {i}")
            }
        })
        .collect();
    let results =
        futures::future::join_all(texts.iter().map(|t| log.append(note(ch, "p", t, None)))).await;
    for (t, r) in texts.iter().zip(&results) {
        match r {
            Ok(_) => assert_ne!(t, "poison", "the poisoned message was refused"),
            Err(e) => assert_eq!(t, "poison", "{t} failed with its batch: {e}"),
        }
    }
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    let stored: Vec<ChatMessage> = whole_log(log.as_ref(), ch)
        .await
        .into_iter()
        .filter(|m| m.text != "squatter")
        .collect();
    let expected: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "poison")
        .collect();
    assert_eq!(
        stored.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        expected
    );
    if app.mongo_url.is_none() {
        assert_numbered(&app, &stored);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_write_queue_refuses_at_once_and_keeps_serving() {
    let app = spawn_with(&[("CHAT_WRITE_QUEUE", "8"), ("CHAT_WRITE_BATCH", "4")]).await;
    let (_, s) = app.new_user("만원").await;
    let ch = channel(&app, &s, "full").await;
    let log = app.app().messages.clone();

    let results = futures::future::join_all(
        (0..200).map(|i| log.append(note(ch, "f", &format!("n{i}"), None))),
    )
    .await;
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(DbError::Busy)))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(refused + ok, 200, "nothing but refusals fails");
    assert!(refused > 0, "200 sends at once overflow a queue of 8");
    assert!(ok >= 8, "the queue's worth was stored");
    let health = app.get_authed("/health", &s).await;
    assert_eq!(health.body["chatLogQueue"]["refused"], refused as u64);
    assert_eq!(health.body["chatLogQueue"]["capacity"], 8);
    // What was acknowledged is what is stored, numbered without holes.
    let stored = whole_log(log.as_ref(), ch).await;
    assert_eq!(stored.len(), ok);
    assert_numbered(&app, &stored);
    // Once the queue drains, sending works again.
    let later = log.append(note(ch, "f", "later", None)).await.unwrap();
    assert_eq!(later.message.seq, stored.last().unwrap().seq + 1);
}

// --- kill -9 ----------------------------------------------------------------------------------

/// The server binary as a separate process on the test's database.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    async fn start(app: &TestApp, data: &std::path::Path) -> Process {
        Process::start_with(app, data, &[]).await
    }

    async fn start_with(app: &TestApp, data: &std::path::Path, extra: &[(&str, &str)]) -> Process {
        let name = format!("kill-test-{}", uuid::Uuid::new_v4().simple());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ninecloud"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("METRICS_ADDR", "127.0.0.1:0")
            .env("DATA_DIR", data)
            .env("DATABASE_URL", &app.database_url)
            .env("SECRET_KEY", "test-secret-key-0123456789abcdef")
            .env("CHAT_RATE_LIMIT_PER_MINUTE", "0")
            .env("INSTANCE_NAME", &name);
        if let Some(m) = &app.mongo_url {
            cmd.env("MONGO_DB", m);
        }
        cmd.envs(extra.iter().copied());
        let (child, addr) = crate::helpers::spawn_binary(cmd);
        let p = Process {
            child,
            port: addr.port(),
        };
        let health: Value = reqwest::get(format!("http://{addr}/health"))
            .await
            .expect("health")
            .json()
            .await
            .expect("health as JSON");
        assert_eq!(health["instance"], name.as_str());
        p
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A NINE Cloud community-chat guest over a raw Engine.IO 4 WebSocket: what socket.io-client
/// sends, frame for frame.
async fn guest(port: u16, name: &str) -> Ws {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    let open = next_text(&mut ws).await.expect("open packet");
    assert!(open.starts_with('0'), "{open}");
    // Like socket.io-client, nothing is emitted before the namespace answers the CONNECT.
    ws.send(Message::text("40")).await.unwrap();
    loop {
        let t = next_text(&mut ws).await.expect("CONNECT answer");
        if t.starts_with("40") {
            break;
        }
    }
    ws.send(Message::text(format!("420{}", json!(["login", name]))))
        .await
        .unwrap();
    loop {
        let t = next_text(&mut ws).await.expect("login answer");
        if let Some(ack) = t.strip_prefix("430") {
            assert_eq!(serde_json::from_str::<Value>(ack).unwrap()[0]["ok"], true);
            return ws;
        }
    }
}

/// The next text frame, answering pings on the way; `None` once the connection is gone.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) if t.as_str() == "2" => {
                let _ = ws.send(Message::text("3")).await;
            }
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// Sends `prefix-0`, `prefix-1`, … keeping `window` unanswered, until the connection dies or
/// `stop` is set; returns the texts the server acknowledged with `{ok:true}`.
async fn send_until_killed(
    mut ws: Ws,
    prefix: String,
    window: u64,
    acked_total: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<String> {
    use std::sync::atomic::Ordering;
    let mut acked = Vec::new();
    let mut next = 0_u64;
    let mut in_flight = 0_u64;
    loop {
        while in_flight < window {
            let packet = format!(
                "42{next}{}",
                json!(["sendMessage", format!("{prefix}-{next}")])
            );
            if ws.send(Message::text(packet)).await.is_err() {
                return acked;
            }
            next += 1;
            in_flight += 1;
        }
        let Some(t) = next_text(&mut ws).await else {
            return acked;
        };
        let Some(rest) = t.strip_prefix("43") else {
            continue; // a broadcast
        };
        let digits = rest.find('[').unwrap_or(rest.len());
        let id: u64 = rest[..digits].parse().expect("ack id");
        let body: Value = serde_json::from_str(&rest[digits..]).expect("ack body");
        in_flight -= 1;
        if body[0]["ok"] == true {
            acked.push(format!("{prefix}-{id}"));
            acked_total.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_acknowledged_message_survives_kill_9_exactly_once() {
    let app = spawn_app().await;
    let lobby = app.app().lobby_id;
    let data = tempfile::tempdir().unwrap();
    let mut server = Process::start(&app, data.path()).await;

    let acked_total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut senders = Vec::new();
    for i in 0..4 {
        let ws = guest(server.port, &format!("killer{i}")).await;
        senders.push(tokio::spawn(send_until_killed(
            ws,
            format!("k{i}"),
            25,
            acked_total.clone(),
        )));
    }
    // Kill it mid-load: once a few hundred messages were acknowledged, with more in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked_total.load(std::sync::atomic::Ordering::Relaxed) < 400 {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    assert!(acked.len() >= 400);

    // A new process on the same data: it starts, and its log holds every acknowledged message
    // once, numbered without holes.
    let server = Process::start(&app, data.path()).await;
    let log = app.app().messages.clone();
    let stored = whole_log(log.as_ref(), lobby).await;
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &stored {
        *count.entry(m.text.as_str()).or_default() += 1;
    }
    let doubled: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "stored twice: {doubled:?}");
    let missing: Vec<_> = acked
        .iter()
        .filter(|t| !count.contains_key(t.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    assert_numbered(&app, &stored);

    // And the restarted server goes on numbering where the log stops.
    let mut ws = guest(server.port, "after").await;
    send_one(&mut ws, "after the crash").await;
    let newest = log.before(lobby, None, 1).await.unwrap().messages;
    assert_eq!(newest[0].text, "after the crash");
    assert!(newest[0].seq > stored.last().map_or(0, |m| m.seq));
    if app.mongo_url.is_none() {
        assert_eq!(newest[0].seq, stored.len() as i64 + 1);
    }
    let distinct: HashSet<&str> = stored.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(distinct.len(), stored.len());
}

/// Sends one message (acknowledgement id 1000) and waits for its `{ok:true}`.
async fn send_one(ws: &mut Ws, text: &str) {
    let packet = format!("421000{}", json!(["sendMessage", text]));
    ws.send(Message::text(packet)).await.unwrap();
    loop {
        let t = next_text(ws).await.expect("an answer");
        if let Some(ack) = t.strip_prefix("431000") {
            let body: Value = serde_json::from_str(ack).unwrap();
            assert_eq!(body[0]["ok"], true, "{ack}");
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_over_a_full_queue_is_answered_ok_false_at_once() {
    let app = spawn_app().await;
    let data = tempfile::tempdir().unwrap();
    let server = Process::start_with(
        &app,
        data.path(),
        &[("CHAT_WRITE_QUEUE", "1"), ("CHAT_WRITE_BATCH", "1")],
    )
    .await;
    let mut ws = guest(server.port, "flood").await;
    for n in 0..100 {
        let packet = format!("42{n}{}", json!(["sendMessage", format!("f{n}")]));
        ws.send(Message::text(packet)).await.unwrap();
    }
    let (mut ok, mut busy) = (0, 0);
    while ok + busy < 100 {
        let t = next_text(&mut ws).await.expect("every send is answered");
        let Some(rest) = t.strip_prefix("43") else {
            continue;
        };
        let body: Value = serde_json::from_str(&rest[rest.find('[').unwrap()..]).unwrap();
        if body[0]["ok"] == true {
            ok += 1;
        } else {
            assert!(
                body[0]["error"].as_str().unwrap().contains("busy"),
                "{body}"
            );
            busy += 1;
        }
    }
    assert!(busy > 0, "100 sends at once overflow a queue of one");
    assert!(ok > 0);
    let health: Value = reqwest::get(format!("http://127.0.0.1:{}/health", server.port))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["chatLogQueue"]["refused"], busy);
    // The sender is still connected and served once the queue has room.
    send_one(&mut ws, "room again").await;
}
