//! Channels over REST and the chat log behind them, on every relational backend and (with
//! `TEST_CHAT_LOG=mongo`) with the log in MongoDB: the same tests prove the same behaviour.
//! Messages are appended through the `MessageStore` the socket handlers use; the socket
//! surface itself is tested with the real socket.io-client in tests/client.

use std::collections::BTreeSet;

use ninecloud::store::messages::NewMessage;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Session, TestApp, send, spawn_app, spawn_with};

async fn create_channel(app: &TestApp, s: &Session, name: &str) -> i64 {
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

#[tokio::test(flavor = "multi_thread")]
async fn sequence_numbers_pages_and_idempotent_appends() {
    let app = spawn_app().await;
    let (_, s) = app.new_user("기록자").await;
    let one = create_channel(&app, &s, "one").await;
    let two = create_channel(&app, &s, "two").await;
    let log = &app.app().messages;

    for i in 1..=7 {
        let a = log
            .append(note(one, "a", &format!("m{i}"), None))
            .await
            .unwrap();
        assert_eq!(a.message.seq, i, "sequence numbers count up per channel");
        assert!(!a.duplicate);
    }
    let other = log.append(note(two, "a", "elsewhere", None)).await.unwrap();
    assert_eq!(other.message.seq, 1, "each channel has its own sequence");
    assert_eq!(log.last_seq(one).await.unwrap(), 7);

    // What was appended reads back identically (ids, text, times to the millisecond).
    let newest = log.before(one, None, 3).await.unwrap();
    assert!(newest.more);
    let seqs: Vec<i64> = newest.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![5, 6, 7]);
    let older = log.before(one, Some(5), 10).await.unwrap();
    assert!(!older.more);
    assert_eq!(older.messages.len(), 4);
    let after = log.after(one, 5, 10).await.unwrap();
    assert_eq!(
        after
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        ["m6", "m7"]
    );
    let appended = log
        .append(note(one, "a", "round trip", None))
        .await
        .unwrap();
    let read = log.after(one, 7, 1).await.unwrap().messages.remove(0);
    assert_eq!(read, appended.message);
    assert_eq!(read.client_id, None);

    // A retried send: same sender and client id → the first message, stored once.
    let first = log
        .append(note(one, "b", "retry me", Some("k1")))
        .await
        .unwrap();
    let again = log
        .append(note(one, "b", "retry me", Some("k1")))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    assert_eq!(first.message.client_id.as_deref(), Some("k1"));
    let other_sender = log
        .append(note(one, "c", "retry me", Some("k1")))
        .await
        .unwrap();
    assert!(!other_sender.duplicate, "client ids are per sender");
    assert_eq!(log.last_seq(one).await.unwrap(), 10);

    // Over REST, the same log with cursor pagination.
    let page = app
        .get_authed(&format!("/channels/{one}/messages?before=4&limit=2"), &s)
        .await;
    page.expect(200);
    assert_eq!(page.body["hasMore"], true);
    assert_eq!(page.body["messages"][0]["seq"], 2);
    assert_eq!(page.body["messages"][1]["text"], "m3");
    assert_eq!(page.body["messages"][1]["channelId"], one);
    let page = app
        .get_authed(&format!("/channels/{one}/messages?after=8"), &s)
        .await;
    assert_eq!(page.body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["messages"][0]["clientId"], "k1");
    assert_eq!(page.body["hasMore"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_appending_at_once_never_share_a_number() {
    let first = spawn_app().await;
    let mut extra = vec![("DATABASE_URL", first.database_url.as_str())];
    if let Some(m) = &first.mongo_url {
        extra.push(("MONGO_DB", m.as_str()));
    }
    let second = spawn_with(&extra).await;
    let (_, s) = first.new_user("동시").await;
    let channel = create_channel(&first, &s, "busy").await;
    let (a, b) = (first.app().messages.clone(), second.app().messages.clone());

    let mut tasks = Vec::new();
    for i in 0..40 {
        let log = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            log.append(note(channel, "x", &format!("n{i}"), None))
                .await
                .map(|a| a.message.seq)
        }));
    }
    // Concurrent retries of one send, half on each instance: stored once.
    for i in 0..8 {
        let log = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            log.append(note(channel, "y", "once", Some("same")))
                .await
                .map(|a| a.message.seq)
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap().expect("append"));
    }
    let distinct: BTreeSet<i64> = seqs.iter().copied().collect();
    // 40 different messages and one retried 8 times: 41 numbers, each message exactly once.
    assert_eq!(distinct.len(), 41, "{seqs:?}");
    let stored = a.after(channel, 0, 500).await.unwrap().messages;
    assert_eq!(stored.len(), 41);
    assert_eq!(stored.iter().filter(|m| m.text == "once").count(), 1);
    let mut in_order = stored.iter().map(|m| m.seq).collect::<Vec<_>>();
    in_order.dedup();
    assert_eq!(in_order.len(), 41);
    assert!(in_order.windows(2).all(|w| w[0] < w[1]), "oldest first");
    if first.mongo_url.is_none() {
        // The relational log numbers without holes, whichever instance's batch came first.
        assert_eq!(in_order, (1..=41).collect::<Vec<i64>>());
    }
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn channels_over_rest() {
    let app = spawn_app().await;
    let (_, alice) = app.new_user("앨리스").await;
    let (_, bob) = app.new_user("바비").await;

    let list = app.get_authed("/channels", &alice).await;
    list.expect(200);
    assert_eq!(list.body["channels"][0]["lobby"], true);
    assert_eq!(list.body["channels"][0]["room"], "room:lobby");
    assert_eq!(list.body["channels"][0]["ownerId"], serde_json::Value::Null);
    let lobby = list.body["channels"][0]["id"].as_i64().unwrap();

    let id = create_channel(&app, &alice, "수다방").await;
    let got = app.get_authed(&format!("/channels/{id}"), &bob).await;
    got.expect(200);
    assert_eq!(got.body["channel"]["name"], "수다방");
    assert_eq!(got.body["channel"]["members"], 1);
    assert_eq!(got.body["channel"]["online"], 0);
    assert_eq!(got.body["channel"]["room"], format!("room:{id}"));

    let join = send(app.authed(Method::POST, &format!("/channels/{id}/join"), &bob)).await;
    join.expect(201);
    assert_eq!(join.body["channel"]["members"], 2);
    send(app.authed(Method::POST, &format!("/channels/{id}/join"), &bob))
        .await
        .expect(200);
    let joined = app.get_authed("/channels/joined", &bob).await;
    assert_eq!(joined.body["channels"].as_array().unwrap().len(), 1);
    assert_eq!(joined.body["channels"][0]["id"], id);

    let page = app.get_authed("/channels?page=1&limit=1", &bob).await;
    assert_eq!(page.body["total"], 2);
    assert_eq!(page.body["channels"].as_array().unwrap().len(), 1);
    let page2 = app.get_authed("/channels?page=2&limit=1", &bob).await;
    assert_eq!(page2.body["channels"][0]["id"], id);

    for (method, path, who, body, status) in [
        (
            Method::PATCH,
            format!("/channels/{id}"),
            &bob,
            json!({"name": "mine"}),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/channels/{id}"),
            &bob,
            json!(null),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/channels/{lobby}"),
            &alice,
            json!(null),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            format!("/channels/{id}"),
            &alice,
            json!({"name": ""}),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            format!("/channels/{id}"),
            &alice,
            json!({"name": 5}),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/channels/nope".to_string(),
            &alice,
            json!(null),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/channels/123456789".to_string(),
            &alice,
            json!(null),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/channels?limit=1000".to_string(),
            &alice,
            json!(null),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            format!("/channels/{id}/messages?before=1&after=2"),
            &alice,
            json!(null),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let mut req = app.authed(method.clone(), &path, who);
        if !body.is_null() {
            req = req.json(&body);
        }
        let a = send(req).await;
        assert_eq!(a.status, status, "{method} {path}: {:?}", a.body);
        assert!(
            !a.message().is_empty(),
            "{method} {path} answers with a message"
        );
    }
    let unauth = crate::helpers::send(app.client.get(app.url("/channels"))).await;
    unauth.expect(401);

    let renamed = send(
        app.authed(Method::PATCH, &format!("/channels/{id}"), &alice)
            .json(&json!({ "name": " 새 이름 " })),
    )
    .await;
    renamed.expect(200);
    assert_eq!(renamed.body["channel"]["name"], "새 이름");

    let log = &app.app().messages;
    log.append(note(id, "a", "goes with the channel", None))
        .await
        .unwrap();
    send(app.authed(Method::DELETE, &format!("/channels/{id}/join"), &bob))
        .await
        .expect(200);
    send(app.authed(Method::DELETE, &format!("/channels/{id}/join"), &bob))
        .await
        .expect(404);
    send(app.authed(Method::DELETE, &format!("/channels/{id}"), &alice))
        .await
        .expect(200);
    app.get_authed(&format!("/channels/{id}"), &alice)
        .await
        .expect(404);
    assert!(log.after(id, 0, 10).await.unwrap().messages.is_empty());
    assert_eq!(log.last_seq(id).await.unwrap(), 0);
    let joined = app.get_authed("/channels/joined", &alice).await;
    assert_eq!(joined.body["channels"].as_array().unwrap().len(), 0);
}
