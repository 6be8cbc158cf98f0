//! The Everyone's friend REST routes as its clients call them (contract
//! `everyones-friend-api.md` §2, with the fixes of §7), on every relational backend: accounts,
//! `/login`, channels by uuid, favourites and the chat log; and what an unverified account
//! may not do to an address a person proves through NINE Cloud.

use ninecloud::store::messages::NewMessage;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, Session, TestApp, send, session_of, spawn_app, spawn_with};

const FRIEND_PASSWORD: &str = "friendly-pass";

fn address() -> String {
    format!("{}@friend.test", uuid::Uuid::new_v4().simple())
}

async fn create_user(app: &TestApp, email: &str, nickname: &str) -> Answer {
    app.post_json(
        "/user/create",
        &json!({ "email": email, "password": FRIEND_PASSWORD, "nickname": nickname }),
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Answer {
    app.post_json("/login", &json!({ "email": email, "password": password }))
        .await
}

/// The original's success: 200 and its Korean string as text/html.
#[track_caller]
fn success(a: &Answer, text: &str) {
    a.expect(200);
    assert_eq!(a.body, Value::String(text.to_string()));
    assert!(
        a.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html")),
        "{:?}",
        a.header("content-type")
    );
}

async fn find_all(app: &TestApp) -> Vec<Value> {
    let a = send(app.client.get(app.url("/channel/findAll"))).await;
    a.expect(200);
    a.body.as_array().expect("an array").clone()
}

/// Creates a channel as the original's clients do (no token) and finds its uuid by listing.
async fn new_channel(app: &TestApp, title: &str) -> String {
    let a = app
        .post_json(
            "/channel/create",
            &json!({ "title": title, "intro": format!("{title} intro") }),
        )
        .await;
    success(&a, "채널 생성 완료");
    let listed = find_all(app).await;
    let found = listed
        .iter()
        .find(|c| c["title"] == title)
        .expect("the new channel is listed");
    let id = found["id"].as_str().unwrap().to_string();
    assert_eq!(a.header("location"), Some(format!("/channel/{id}/chats")));
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_sign_up_log_in_and_need_their_own_token_to_change() {
    let app = spawn_app().await;
    let email = address();
    success(&create_user(&app, &email, "친구").await, "유저 생성 성공");
    // A second sign-up with the address is refused, not left hanging.
    let dup = create_user(&app, &email.to_uppercase(), "또친구").await;
    dup.expect(409);
    assert_eq!(dup.message(), "이미 가입된 이메일입니다.");
    create_user(&app, "not an address", "x").await.expect(400);
    let short = app
        .post_json(
            "/user/create",
            &json!({ "email": address(), "password": "short", "nickname": "n" }),
        )
        .await;
    short.expect(400);
    assert!(short.message().contains("password"), "{}", short.message());

    // The original's answers: 422 unknown address, 401 wrong password, `true` otherwise.
    let unknown = login(&app, &address(), FRIEND_PASSWORD).await;
    unknown.expect(422);
    assert_eq!(unknown.message(), "이메일이 존재하지 않습니다.");
    let wrong = login(&app, &email, "not-the-password").await;
    wrong.expect(401);
    assert_eq!(wrong.message(), "비밀번호가 올바르지 않습니다.");
    let ok = login(&app, &email, FRIEND_PASSWORD).await;
    ok.expect(200);
    assert_eq!(ok.body, json!(true));
    let me = session_of(&ok);
    let info = app.get_authed("/myInfo", &me).await;
    info.expect(200);
    assert_eq!(info.body["data"]["username"], "친구");
    assert_eq!(info.body["data"]["userType"], "Unverified");

    // Changing an account takes its own token.
    let change = json!({ "email": email, "password": "a-new-password", "nickname": "새친구" });
    let anon = send(app.client.put(app.url("/user/update")).json(&change)).await;
    anon.expect(401);
    let other_email = address();
    create_user(&app, &other_email, "남").await.expect(200);
    let other = session_of(&login(&app, &other_email, FRIEND_PASSWORD).await);
    send(
        app.authed(Method::PUT, "/user/update", &other)
            .json(&change),
    )
    .await
    .expect(403);
    let missing = json!({ "email": address(), "password": "a-new-password" });
    send(app.authed(Method::PUT, "/user/update", &me).json(&missing))
        .await
        .expect(404);
    let updated = send(app.authed(Method::PUT, "/user/update", &me).json(&change)).await;
    success(&updated, "정보 수정 성공");
    // Old tokens are revoked; the answer carries new ones.
    assert_eq!(app.get_authed("/myInfo", &me).await.status.as_u16(), 419);
    let renewed = session_of(&updated);
    assert_eq!(
        app.get_authed("/myInfo", &renewed).await.body["data"]["username"],
        "새친구"
    );
    login(&app, &email, FRIEND_PASSWORD).await.expect(401);
    login(&app, &email, "a-new-password").await.expect(200);

    // Deleting: the same rules, then the account is gone at once.
    send(
        app.authed(Method::DELETE, "/user/delete", &other)
            .json(&json!({ "email": email })),
    )
    .await
    .expect(403);
    let gone = send(
        app.authed(Method::DELETE, "/user/delete", &renewed)
            .json(&json!({ "email": email })),
    )
    .await;
    success(&gone, "탈퇴 성공");
    login(&app, &email, "a-new-password").await.expect(422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nine_cloud_account_keeps_its_own_rules_on_these_routes() {
    let app = spawn_app().await;
    let (email, s) = app.new_user("구름").await;
    // It signs in here with its NINE Cloud password...
    login(&app, &email, PASSWORD).await.expect(200);
    // ...but a token alone does not change its password (NINE Cloud asks for the current one).
    let change = json!({ "email": email, "password": "a-new-password" });
    let refused = send(app.authed(Method::PUT, "/user/update", &s).json(&change)).await;
    refused.expect(403);
    app.login(&email, PASSWORD).await;
    // Deleting it is NINE Cloud's sign-off: pending, cancellable, tokens revoked.
    let gone = send(
        app.authed(Method::DELETE, "/user/delete", &s)
            .json(&json!({ "email": email })),
    )
    .await;
    success(&gone, "탈퇴 성공");
    assert_eq!(app.get_authed("/myInfo", &s).await.status.as_u16(), 419);
    let pending = app.signin(&email, PASSWORD).await;
    pending.expect(403);
    assert_eq!(pending.message(), "탈퇴처리중입니다. 취소하시겠습니까?");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn channels_by_uuid_favourites_and_the_fixed_routes() {
    let app = spawn_app().await;
    let email = address();
    create_user(&app, &email, "채널러").await.expect(200);
    // findAll works (the original answered [] here) and leaves the lobby out.
    assert!(find_all(&app).await.is_empty());
    let first = new_channel(&app, "등산").await;
    let second = new_channel(&app, "독서").await;
    let listed = find_all(&app).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0],
        json!({ "id": first, "title": "등산", "intro": "등산 intro", "description": null })
    );
    // Bad input is a 400 with a message, never a 200 with a database error.
    let bad = app
        .post_json("/channel/create", &json!({ "intro": "no title" }))
        .await;
    bad.expect(400);
    assert!(bad.message().contains("title"), "{}", bad.message());

    let owned = app;
    let app = &owned;
    let join = |channel: &str, who: &str| {
        let body = json!({ "email": who, "channel": channel });
        async move { app.post_json("/channel/join", &body).await }
    };
    success(&join(&second, &email).await, "채널 가입 성공");
    success(&join(&first, &email).await, "채널 가입 성공");
    let again = join(&first, &email).await;
    again.expect(409);
    join(&uuid::Uuid::new_v4().to_string(), &email)
        .await
        .expect(404);
    join("not-a-uuid", &email).await.expect(404);
    join(&first, &address()).await.expect(404);

    // The joined list: in the order joined, without duplicates; [] for an unknown address.
    let mine = send(app.client.get(app.url(&format!("/channel/{email}")))).await;
    mine.expect(200);
    let ids: Vec<&str> = mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    let nobody = send(app.client.get(app.url(&format!("/channel/{}", address())))).await;
    assert_eq!(nobody.body, json!([]));

    // With a token, a join is only for the token's own account.
    let other_email = address();
    create_user(app, &other_email, "남").await.expect(200);
    let other = session_of(&login(app, &other_email, FRIEND_PASSWORD).await);
    send(
        app.authed(Method::POST, "/channel/join", &other)
            .json(&json!({ "email": email, "channel": second })),
    )
    .await
    .expect(403);

    // The channel dialect's REST takes the uuid as the id too.
    let view = app.get_authed(&format!("/channels/{first}"), &other).await;
    view.expect(200);
    assert_eq!(view.body["channel"]["uuid"], first);
    assert_eq!(view.body["channel"]["name"], "등산");
    owned.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn entering_a_channel_loads_its_log_newest_first_with_a_cursor() {
    let app = spawn_app().await;
    let room = new_channel(&app, "로그").await;
    let view = send(app.client.get(app.url("/channel/findAll"))).await;
    assert_eq!(view.header("x-total-count").as_deref(), Some("1"));
    let channel = ninecloud::store::channels::find_by_uuid(&app.app().db, &room)
        .await
        .unwrap()
        .expect("the channel")
        .id;
    for i in 1..=5 {
        app.app()
            .messages
            .append(NewMessage {
                channel_id: channel,
                user_id: None,
                nickname: "손님".into(),
                text: format!("m{i}"),
                sender: "guest:손님".into(),
                client_id: None,
            })
            .await
            .unwrap();
    }
    let owned = app;
    let app = &owned;
    let page = |query: String| {
        let url = app.url(&format!("/channel/{room}/chats{query}"));
        async move { send(app.client.get(url)).await }
    };
    let newest = page("?limit=2".into()).await;
    newest.expect(200);
    let texts = |a: &Answer| -> Vec<(i64, String)> {
        a.body["chats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["seq"].as_i64().unwrap(),
                    c["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(texts(&newest), [(5, "m5".into()), (4, "m4".into())]);
    assert_eq!(newest.body["hasMore"], true);
    assert_eq!(newest.body["nextBefore"], 4);
    let chat = &newest.body["chats"][0];
    assert_eq!(chat["nickname"], "손님");
    assert!(chat["date"].as_str().unwrap().ends_with('Z'));
    let rest = page("?before=4&limit=10".into()).await;
    assert_eq!(
        texts(&rest),
        [(3, "m3".into()), (2, "m2".into()), (1, "m1".into())]
    );
    assert_eq!(rest.body["hasMore"], false);
    assert_eq!(rest.body["nextBefore"], Value::Null);
    // The lobby by its room id; unknown rooms and limits over the maximum are refused.
    page(String::new()).await.expect(200);
    send(app.client.get(app.url("/channel/room:lobby/chats")))
        .await
        .expect(200);
    send(
        app.client
            .get(app.url(&format!("/channel/{}/chats", uuid::Uuid::new_v4()))),
    )
    .await
    .expect(404);
    page("?limit=100000".into()).await.expect(400);
    owned.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_anonymous_chat_the_routes_want_a_token_and_off_means_gone() {
    let app = spawn_with(&[("CHAT_ALLOW_ANONYMOUS", "false")]).await;
    let create = json!({ "title": "t", "intro": "i" });
    app.post_json("/channel/create", &create).await.expect(401);
    let email = address();
    create_user(&app, &email, "친구").await.expect(200);
    let s = session_of(&login(&app, &email, FRIEND_PASSWORD).await);
    success(
        &send(
            app.authed(Method::POST, "/channel/create", &s)
                .json(&create),
        )
        .await,
        "채널 생성 완료",
    );
    send(app.client.get(app.url("/channel/room:lobby/chats")))
        .await
        .expect(401);
    app.stop().await;

    let off = spawn_with(&[("EVERYONES_FRIEND", "false")]).await;
    for (method, path) in [
        (Method::POST, "/user/create"),
        (Method::POST, "/login"),
        (Method::GET, "/channel/findAll"),
    ] {
        let a = send(off.client.request(method, off.url(path)).json(&json!({}))).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    off.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unverified_account_never_takes_over_an_address_a_person_proves() {
    let app = spawn_app().await;
    // Someone makes an Everyone's friend account with another person's address.
    let email = address();
    create_user(&app, &email, "사칭").await.expect(200);
    let squatter = session_of(&login(&app, &email, FRIEND_PASSWORD).await);
    let squatter_id = user_id(&app, &squatter).await;
    // It cannot sign in to NINE Cloud, and does not block the real sign-up.
    let refused = app.signin(&email, FRIEND_PASSWORD).await;
    refused.expect(400);
    assert!(refused.message().contains("인증"), "{}", refused.message());
    app.signup(&email, "진짜").await.expect(201);
    let code = app.mailed_code(&email).await;
    let done = app.complete_signup(&email, "진짜", &code).await;
    done.expect(201);
    // The person owns the address now; the squatter's token and password are worth nothing.
    let real = app.login(&email, PASSWORD).await;
    let me = app.get_authed("/myInfo", &real).await;
    assert_eq!(me.body["data"]["username"], "진짜");
    assert_eq!(me.body["data"]["userType"], "Common");
    assert_eq!(
        app.get_authed("/myInfo", &squatter).await.status.as_u16(),
        419
    );
    login(&app, &email, FRIEND_PASSWORD).await.expect(401);
    assert_ne!(
        me.body["data"]["userId"], squatter_id,
        "a new account, not the squatter's"
    );

    // The same person, who made the Everyone's friend account, keeps it when they prove the
    // address with the same password: one account, its favourites with it.
    let mine = address();
    app.post_json(
        "/user/create",
        &json!({ "email": mine, "password": PASSWORD, "nickname": "나" }),
    )
    .await
    .expect(200);
    let channel = new_channel(&app, "내채널").await;
    success(
        &app.post_json(
            "/channel/join",
            &json!({ "email": mine, "channel": channel }),
        )
        .await,
        "채널 가입 성공",
    );
    let before = session_of(&login(&app, &mine, PASSWORD).await);
    let id = app.get_authed("/myInfo", &before).await.body["data"]["userId"].clone();
    app.signup(&mine, "나야").await.expect(201);
    let code = app.mailed_code(&mine).await;
    let done = app.complete_signup(&mine, "나야", &code).await;
    done.expect(201);
    assert_eq!(done.body["data"]["userId"], id);
    assert_eq!(done.body["data"]["userType"], "Common");
    let joined = send(app.client.get(app.url(&format!("/channel/{mine}")))).await;
    assert_eq!(joined.body[0]["id"], channel);
    // A verified address cannot be taken by /user/create.
    create_user(&app, &mine, "또").await.expect(409);
    app.stop().await;
}

/// The account of a session, as NINE Cloud sees it.
async fn user_id(app: &TestApp, s: &Session) -> i64 {
    app.get_authed("/myInfo", s).await.body["data"]["userId"]
        .as_i64()
        .unwrap()
}
