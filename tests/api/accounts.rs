//! The account journey of the NINE Cloud front end, and every way it can go wrong.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread")]
async fn signup_signin_refresh_profile_signoff_and_cancel_work_as_the_front_end_does_them() {
    let app = spawn_app().await;
    let email = format!("{}@Nine.Test", uuid::Uuid::new_v4().simple());

    // Sign-up: the code arrives by mail.
    let a = app.signup(&email, "구름이").await;
    a.expect(201);
    assert_eq!(a.message(), "이메일 전송 완료");
    let code = app.mailed_code(&email.to_lowercase()).await;
    assert_eq!(code.len(), 6);

    // The front end moves on only when the message contains 회원가입이 완료.
    let a = app.complete_signup(&email, "구름이", &code).await;
    a.expect(201);
    assert!(a.message().contains("회원가입이 완료"), "{}", a.message());
    assert_eq!(a.body["data"]["username"], "구름이");
    assert_eq!(a.body["data"]["email"], email.to_lowercase());
    assert_eq!(a.body["data"]["userType"], "Common");
    assert!(a.body["data"]["userId"].as_i64().unwrap() > 0);
    assert!(a.body["data"].get("password").is_none());

    // Sign-in: tokens in the two headers, as the front end stores them.
    let a = app.signin(&email, PASSWORD).await;
    a.expect(200);
    assert_eq!(a.message(), "구름이님 환영합니다.");
    assert!(a.body.get("profileImage").is_some());
    let s = session_of(&a);
    assert!(s.authorization.starts_with("Bearer "));
    assert!(!s.refresh.starts_with("Bearer "));

    let me = app.get_authed("/myInfo", &s).await;
    me.expect(200);
    assert_eq!(me.body["data"]["username"], "구름이");
    assert_eq!(me.body["data"]["email"], email.to_lowercase());

    // The 419 interceptor's renewal: plain POST /token with only the Refreshtoken header.
    let a = app.renew(&s.refresh).await;
    a.expect(201);
    assert_eq!(a.message(), "AccessToken 발급 완료");
    let renewed = Session {
        authorization: a.header("authorization").unwrap(),
        refresh: s.refresh.clone(),
    };
    app.get_authed("/myInfo", &renewed).await.expect(200);

    // Profile edit with a picture (a Blob, so the file name is "blob").
    let a = send(
        app.authed(Method::PATCH, "/myInfo/editmyInfo", &renewed)
            .multipart(profile_form(
                "새구름",
                Some(("blob", png_bytes(), "image/png")),
            )),
    )
    .await;
    a.expect(201);
    assert_eq!(a.message(), "수정이 완료되었습니다.");
    let me = app.get_authed("/myInfo", &renewed).await;
    assert_eq!(me.body["data"]["username"], "새구름");
    let img = me.body["data"]["profileImg"].as_str().unwrap().to_string();
    let got = app.client.get(&img).send().await.unwrap();
    assert_eq!(got.status(), 200, "the new picture is served at {img}");
    assert_eq!(pixels(&got.bytes().await.unwrap()), pixels(&png_bytes()));

    // Without a picture: an empty `image` text field keeps the old picture.
    app.authed(Method::PATCH, "/myInfo/editmyInfo", &renewed)
        .multipart(profile_form("세번째", None))
        .send()
        .await
        .unwrap();
    let me = app.get_authed("/myInfo", &renewed).await;
    assert_eq!(me.body["data"]["username"], "세번째");
    assert_eq!(me.body["data"]["profileImg"], img);

    // Sign-off, then sign-in says the deletion is pending (the front end confirm()s this text).
    let a = send(app.authed(Method::DELETE, "/signoff", &renewed)).await;
    a.expect(201);
    assert_eq!(
        a.message(),
        "탈퇴처리가 완료되었습니다. 15일 동안 회원정보가 보류됩니다."
    );
    let a = app.signin(&email, PASSWORD).await;
    a.expect(403);
    assert_eq!(a.message(), "탈퇴처리중입니다. 취소하시겠습니까?");

    let a = app
        .post_json("/signoffInProgress", &json!({ "email": email }))
        .await;
    a.expect(201);
    assert_eq!(a.message(), "탈퇴까지 14일, 23시간 남았습니다.");

    let a = app
        .post_json("/cancel-signoff", &json!({ "email": email }))
        .await;
    a.expect(201);
    assert_eq!(a.message(), "탈퇴 요청이 취소되었습니다.");
    app.signin(&email, PASSWORD).await.expect(200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signup_refuses_bad_fields_with_a_message_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "password": PASSWORD, "username": "구름" }),
            "\"email\"",
        ),
        (
            json!({ "email": "not-an-email", "password": PASSWORD, "username": "구름" }),
            "\"email\"",
        ),
        (
            json!({ "email": "a@nine.test", "password": "short", "username": "구름" }),
            "\"password\"",
        ),
        (
            json!({ "email": "a@nine.test", "password": PASSWORD, "username": "<b>x</b>" }),
            "\"username\"",
        ),
        (
            json!({ "email": 12, "password": PASSWORD, "username": "구름" }),
            "\"email\"",
        ),
        (
            json!({ "email": "a@nine.test", "password": PASSWORD, "username": "" }),
            "\"username\"",
        ),
    ];
    for (body, field) in cases {
        let a = app.post_json("/signup", &body).await;
        a.expect(400);
        assert!(a.message().contains(field), "{body} -> {}", a.message());
    }
    // Not JSON at all.
    let a = send(
        app.client
            .post(app.url("/signup"))
            .header("content-type", "application/json")
            .body("{\"email\": "),
    )
    .await;
    a.expect(400);
    assert!(!a.message().is_empty());

    // A taken address is 403 with the original text.
    let (email, _) = app.new_user("첫째").await;
    let a = app.signup(&email, "둘째").await;
    a.expect(403);
    assert_eq!(a.message(), "이미 가입된 이메일 입니다.");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signup_code_is_single_use_expires_and_allows_few_attempts() {
    // Unique addresses: the SMTP sink's folder is shared by every test and every backend's run.
    let address = |who: &str| format!("{who}-{}@nine.test", uuid::Uuid::new_v4().simple());
    let app = spawn_app().await;

    // Used once, gone.
    let email = address("once");
    app.signup(&email, "한번").await.expect(201);
    let code = app.mailed_code(&email).await;
    app.complete_signup(&email, "한번", &code).await.expect(201);
    let a = app.complete_signup(&email, "한번", &code).await;
    a.expect(401);
    assert_eq!(a.message(), "인증코드가 만료되었습니다.");

    // Five wrong guesses burn it: the right code no longer works.
    let email = address("guess");
    app.signup(&email, "추측").await.expect(201);
    let code = app.mailed_code(&email).await;
    for _ in 0..5 {
        let a = app.complete_signup(&email, "추측", "zzzzzz").await;
        a.expect(400);
        assert_eq!(a.message(), "인증코드가 올바르지 않습니다.");
    }
    app.complete_signup(&email, "추측", &code).await.expect(401);
    app.signin(&email, PASSWORD).await.expect(400);

    // Never asked for a code.
    app.complete_signup(&address("nobody"), "없음", "abcdef")
        .await
        .expect(401);
    app.stop().await;

    // Expired after SIGNUP_CODE_TTL. A server of its own with a short TTL: the checks above
    // must not depend on finishing within it on a busy machine.
    let app = spawn_with(&[("SIGNUP_CODE_TTL", "2")]).await;
    let email = address("late");
    app.signup(&email, "늦음").await.expect(201);
    let code = app.mailed_code(&email).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.complete_signup(&email, "늦음", &code).await.expect(401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signin_errors_carry_the_original_messages() {
    let app = spawn_app().await;
    let (email, _) = app.new_user("로그인").await;
    let a = app.signin("unknown@nine.test", PASSWORD).await;
    a.expect(400);
    assert_eq!(a.message(), "존재하지 않는 email입니다.");
    let a = app.signin(&email, "wrong123!").await;
    a.expect(400);
    assert_eq!(a.message(), "비밀번호가 일치하지 않습니다.");
    let a = app.post_json("/signin", &json!({ "email": email })).await;
    a.expect(400);
    assert!(a.message().contains("\"password\""));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_expire_with_419_and_cannot_be_forged_or_swapped() {
    let app = spawn_with(&[("ACCESS_TOKEN_TTL", "1")]).await;
    let (_, s) = app.new_user("토큰").await;

    // A refresh token is not an access token.
    let swapped = Session {
        authorization: format!("Bearer {}", s.refresh),
        refresh: s.refresh.clone(),
    };
    let a = app.get_authed("/myInfo", &swapped).await;
    a.expect(401);

    // An access token is not a refresh token.
    let a = app
        .renew(s.authorization.trim_start_matches("Bearer "))
        .await;
    a.expect(401);
    assert_eq!(a.message(), "비정상적인 접근입니다. 다시 로그인 하세요");

    // Signed with another secret.
    let other = spawn_with(&[("SECRET_KEY", "another-secret-key-0123456789")]).await;
    let (_, foreign) = other.new_user("남의것").await;
    app.get_authed("/myInfo", &foreign).await.expect(401);
    other.stop().await;

    // Not "Bearer …", or missing.
    let a = send(app.client.get(app.url("/myInfo")).header(
        "Authorization",
        s.authorization.trim_start_matches("Bearer "),
    ))
    .await;
    a.expect(401);
    assert_eq!(a.message(), "토큰 타입이 일치하지 않습니다.");
    send(app.client.get(app.url("/myInfo"))).await.expect(401);

    // Expiry: 419 with the text the interceptor reacts to, then renewal works.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let a = app.get_authed("/myInfo", &s).await;
    a.expect(419);
    assert_eq!(a.message(), "AccessToken이 만료되었습니다.");
    let renewed = app.renew(&s.refresh).await;
    renewed.expect(201);

    // Missing header.
    send(app.client.post(app.url("/token"))).await.expect(401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_refresh_token_gets_419_and_logout_revokes_one() {
    let app = spawn_with(&[("REFRESH_TOKEN_TTL", "1")]).await;
    let (_, s) = app.new_user("만료").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let a = app.renew(&s.refresh).await;
    a.expect(419);
    app.stop().await;

    let app = spawn_app().await;
    let (email2, s) = app.new_user("로그아웃").await;
    let other_device = app.login(&email2, PASSWORD).await;
    let a = send(app.authed(Method::POST, "/logout", &s)).await;
    a.expect(200);
    app.renew(&s.refresh).await.expect(401);
    // The access token stopped working too (419, so a front end renews or signs in again).
    app.get_authed("/myInfo", &s).await.expect(419);
    // The other device's session is untouched.
    app.renew(&other_device.refresh).await.expect(201);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_owner_who_just_proved_the_password_can_cancel_a_deletion() {
    let app = spawn_app().await;
    let (email, s) = app.new_user("취소").await;
    send(app.authed(Method::DELETE, "/signoff", &s))
        .await
        .expect(201);

    // Knowing the e-mail is not enough.
    let a = app
        .post_json("/cancel-signoff", &json!({ "email": email }))
        .await;
    a.expect(403);
    app.post_json("/signoffInProgress", &json!({ "email": email }))
        .await
        .expect(403);
    // A wrong password does not open the window, and does not reveal the pending deletion.
    let a = app.signin(&email, "wrong123!").await;
    a.expect(400);
    app.post_json("/cancel-signoff", &json!({ "email": email }))
        .await
        .expect(403);
    // Sign-off revoked the sessions.
    app.renew(&s.refresh).await.expect(401);

    app.signin(&email, PASSWORD).await.expect(403);
    // The window is the signing-in client's: another address that knows the e-mail gets the
    // same refusal as anyone.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let a = send(
        elsewhere
            .post(app.url("/cancel-signoff"))
            .json(&json!({ "email": email })),
    )
    .await;
    a.expect(403);
    let closed_message = a.message().to_string();
    app.post_json("/cancel-signoff", &json!({ "email": email }))
        .await
        .expect(201);
    // Unknown and no-longer-pending addresses are answered exactly alike.
    let unknown = app
        .post_json("/cancel-signoff", &json!({ "email": "ghost@nine.test" }))
        .await;
    unknown.expect(403);
    let not_pending = app
        .post_json("/cancel-signoff", &json!({ "email": email }))
        .await;
    not_pending.expect(403);
    assert_eq!(unknown.message(), closed_message);
    assert_eq!(not_pending.message(), closed_message);
    assert_eq!(unknown.body, not_pending.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_can_be_changed_and_other_sessions_end() {
    let app = spawn_app().await;
    let (email, s) = app.new_user("비번").await;
    let other = app.login(&email, PASSWORD).await;
    let change = |body: serde_json::Value| {
        let (app, s) = (&app, &s);
        async move { send(app.authed(Method::PATCH, "/myInfo/edit-pw", s).json(&body)).await }
    };
    let a = change(json!({ "password": "wrong123!", "newPassword": "newpass1!" })).await;
    a.expect(400);
    assert_eq!(a.message(), "비밀번호가 틀립니다.");
    let a = change(json!({ "password": PASSWORD, "newPassword": "weak" })).await;
    a.expect(400);
    assert!(a.message().contains("\"newPassword\""));
    let a = change(json!({ "password": PASSWORD, "newPassword": "newpass1!" })).await;
    a.expect(201);
    assert_eq!(a.message(), "비밀번호가 변경 되었습니다.");
    // Every access token issued before is revoked; this device gets a new one.
    app.get_authed("/myInfo", &other).await.expect(419);
    app.get_authed("/myInfo", &s).await.expect(419);
    let fresh = Session {
        authorization: a.header("authorization").expect("a new access token"),
        refresh: s.refresh.clone(),
    };
    app.get_authed("/myInfo", &fresh).await.expect(200);

    app.signin(&email, PASSWORD).await.expect(400);
    app.signin(&email, "newpass1!").await.expect(200);
    app.renew(&s.refresh).await.expect(201);
    app.renew(&other.refresh).await.expect(401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_user_sees_and_edits_only_their_own_profile() {
    let app = spawn_app().await;
    let (a_email, a) = app.new_user("에이").await;
    let (b_email, b) = app.new_user("비이").await;
    assert_eq!(
        app.get_authed("/myInfo", &a).await.body["data"]["email"],
        a_email
    );
    assert_eq!(
        app.get_authed("/myInfo", &b).await.body["data"]["email"],
        b_email
    );
    app.authed(Method::PATCH, "/myInfo/editmyInfo", &b)
        .multipart(profile_form("바뀐비", None))
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.get_authed("/myInfo", &a).await.body["data"]["username"],
        "에이"
    );
    assert_eq!(
        app.get_authed("/myInfo", &b).await.body["data"]["username"],
        "바뀐비"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_attempts_are_rate_limited() {
    let app = spawn_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        app.signin("who@nine.test", PASSWORD).await.expect(400);
    }
    let a = app.signin("who@nine.test", PASSWORD).await;
    a.expect(429);
    assert!(a.header("retry-after").is_some());
    assert!(!a.message().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_past_their_deletion_date_are_removed_with_their_pictures_and_drawings() {
    let app = spawn_with(&[("ACCOUNT_DELETION_GRACE", "1"), ("PURGE_INTERVAL", "1")]).await;
    let (email, s) = app.new_user("삭제").await;
    app.authed(Method::PATCH, "/myInfo/editmyInfo", &s)
        .multipart(profile_form(
            "삭제",
            Some(("blob", png_bytes(), "image/png")),
        ))
        .send()
        .await
        .unwrap();
    let img = app.get_authed("/myInfo", &s).await.body["data"]["profileImg"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.client.get(&img).send().await.unwrap().status(), 200);
    let drawing = app.post_diary(&s, &[]).await;
    drawing.expect(201);
    let drawing = drawing.body["data"]["image"].as_str().unwrap().to_string();
    assert_eq!(app.client.get(&drawing).send().await.unwrap().status(), 200);
    let (keep_email, _) = app.new_user("남음").await;
    send(app.authed(Method::DELETE, "/signoff", &s))
        .await
        .expect(201);

    let mut gone = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if app.signin(&email, PASSWORD).await.status == 400 {
            gone = true;
            break;
        }
    }
    assert!(gone, "the account was not deleted after its date");
    assert_eq!(app.client.get(&img).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(&drawing).send().await.unwrap().status(), 404);
    app.signin(&keep_email, PASSWORD).await.expect(200);
    app.stop().await;
}
