//! Social login through a real OAuth 2 provider running locally (tests/support/oauth-provider.mjs
//! on oauth2-mock-server): the browser gets a code from the provider, the front end posts it to
//! `/<provider>/callback`, the server exchanges it and reads the profile.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::*;

const PROVIDERS: [&str; 5] = ["kakao", "google", "naver", "github", "oidc"];

fn redirect_uri(p: &str) -> String {
    format!("http://localhost:3000/auth/{p}/callback")
}

fn provider_vars() -> Vec<(String, String)> {
    let base = required_env("TEST_OAUTH_URL");
    let mut v: Vec<(String, String)> = vec![];
    let mut add = |k: &str, val: String| v.push((k.to_string(), val));
    for p in PROVIDERS {
        let up = p.to_uppercase();
        add(&format!("{up}_CLIENT_ID"), format!("{p}-client"));
        // Kakao works without a client secret, as in the original; the others must send theirs.
        if p != "kakao" {
            add(&format!("{up}_CLIENT_SECRET"), format!("secret-{p}-client"));
        }
        add(&format!("{up}_AUTH_URL"), format!("{base}/authorize"));
        add(&format!("{up}_TOKEN_URL"), format!("{base}/token"));
    }
    // The original's names for the redirect URIs.
    add("KAKAO_REDIRECT_URI", redirect_uri("kakao"));
    add("REACT_APP_GOOGLE_AUTH_REDIRECT_URI", redirect_uri("google"));
    add("NAVER_REDIRECT_URI", redirect_uri("naver"));
    add("GITHUB_REDIRECT_URI", redirect_uri("github"));
    add("OIDC_REDIRECT_URI", redirect_uri("oidc"));
    add("KAKAO_USERINFO_URL", format!("{base}/kakao/v2/user/me"));
    add(
        "GOOGLE_USERINFO_URL",
        format!("{base}/google/oauth2/v2/userinfo"),
    );
    add("NAVER_USERINFO_URL", format!("{base}/naver/v1/nid/me"));
    add("GITHUB_USERINFO_URL", format!("{base}/github/user"));
    add("GITHUB_EMAILS_URL", format!("{base}/github/user/emails"));
    add("OIDC_USERINFO_URL", format!("{base}/oidc/userinfo"));
    v
}

async fn spawn_with_providers() -> TestApp {
    let vars = provider_vars();
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_with(&refs).await
}

/// What the browser does: visit the provider's authorize URL as `person`, land on the front
/// end's callback route, and read `code` from its query string.
async fn authorize(app: &TestApp, provider: &str, person: &Value) -> String {
    let base = required_env("TEST_OAUTH_URL");
    let user = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(person.to_string());
    let res = app
        .client
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &format!("{provider}-client")),
            ("redirect_uri", &redirect_uri(provider)),
            ("state", "99999"),
            ("user", &user),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection(),
        "authorize answered {}",
        res.status()
    );
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&redirect_uri(provider)));
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .expect("code in the redirect")
}

async fn callback(app: &TestApp, provider: &str, code: &str) -> Answer {
    // Naver's page posts the state too.
    let body = if provider == "naver" {
        json!({ "code": code, "state": "99999" })
    } else {
        json!({ "code": code })
    };
    app.post_json(&format!("/{provider}/callback"), &body).await
}

fn person(provider: &str, email: Option<&str>, name: &str) -> Value {
    json!({ "provider": provider, "id": 1000 + rand_id(), "email": email, "name": name,
            "picture": format!("https://img.example/{provider}.png") })
}

fn rand_id() -> u64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000_000) as u64
}

#[tokio::test(flavor = "multi_thread")]
async fn every_provider_signs_up_then_signs_in_by_verified_email() {
    let app = spawn_with_providers().await;
    for p in PROVIDERS {
        let email = format!("{p}-{}@social.test", rand_id());
        let who = person(p, Some(&email), "소셜친구");

        let code = authorize(&app, p, &who).await;
        let a = callback(&app, p, &code).await;
        a.expect(200);
        assert_eq!(a.message(), "회원가입이 완료되었습니다.", "{p}");
        let s = session_of(&a);
        let me = app.get_authed("/myInfo", &s).await;
        me.expect(200);
        assert_eq!(me.body["data"]["email"], email, "{p}");
        assert_eq!(me.body["data"]["username"], "소셜친구", "{p}");
        let expected_type = match p {
            "kakao" => "K",
            "google" => "G",
            "naver" => "N",
            "github" => "GH",
            _ => "O",
        };
        assert_eq!(me.body["data"]["userType"], expected_type);
        assert_eq!(
            me.body["data"]["profileImg"],
            format!("https://img.example/{p}.png")
        );

        // Second visit: same account, welcomed by name (no first-login 500 as in the original).
        let code = authorize(&app, p, &who).await;
        let a = callback(&app, p, &code).await;
        a.expect(200);
        assert_eq!(a.message(), "소셜친구님 환영합니다.", "{p}");
        assert_eq!(
            app.get_authed("/myInfo", &session_of(&a)).await.body["data"]["userId"],
            me.body["data"]["userId"]
        );

        // A code works once.
        let a = callback(&app, p, &code).await;
        a.expect(401);
        assert!(a.message().contains("소셜 로그인"), "{}", a.message());
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_verified_email_no_account_and_no_match_with_anyone_else() {
    let app = spawn_with_providers().await;
    // Someone already has an account: a provider answer without e-mail must never log in as them.
    let (_, first) = app.new_user("첫사용자").await;
    let first_id = app.get_authed("/myInfo", &first).await.body["data"]["userId"].clone();

    for p in PROVIDERS {
        let code = authorize(&app, p, &person(p, None, "익명")).await;
        let a = callback(&app, p, &code).await;
        a.expect(400);
        assert!(a.message().contains("이메일"), "{p}: {}", a.message());
        assert!(a.header("authorization").is_none());
    }
    for p in ["kakao", "google", "github", "oidc"] {
        let mut who = person(p, Some("unverified@social.test"), "미인증");
        who["verified"] = json!(false);
        let code = authorize(&app, p, &who).await;
        callback(&app, p, &code).await.expect(400);
    }
    let code = authorize(
        &app,
        "google",
        &person("google", Some("late@social.test"), "늦게"),
    )
    .await;
    let a = callback(&app, "google", &code).await;
    a.expect(200);
    assert_ne!(
        app.get_authed("/myInfo", &session_of(&a)).await.body["data"]["userId"],
        first_id
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_social_login_reaches_the_password_account_with_the_same_email() {
    let app = spawn_with_providers().await;
    let (email, s) = app.new_user("비번계정").await;
    let id = app.get_authed("/myInfo", &s).await.body["data"]["userId"].clone();
    let code = authorize(&app, "google", &person("google", Some(&email), "다른이름")).await;
    let a = callback(&app, "google", &code).await;
    a.expect(200);
    assert_eq!(a.message(), "비번계정님 환영합니다.");
    let me = app.get_authed("/myInfo", &session_of(&a)).await;
    assert_eq!(me.body["data"]["userId"], id);
    assert_eq!(me.body["data"]["userType"], "Common");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_callbacks_get_clear_client_errors() {
    let app = spawn_with_providers().await;
    let a = app.post_json("/kakao/callback", &json!({})).await;
    a.expect(400);
    assert!(a.message().contains("\"code\""));
    callback(&app, "kakao", "made-up-code").await.expect(401);
    // A code issued for Google is no good at Kakao's token endpoint.
    let code = authorize(
        &app,
        "google",
        &person("google", Some("x@social.test"), "구글"),
    )
    .await;
    callback(&app, "kakao", &code).await.expect(401);

    // A social account has no password to change.
    let code = authorize(
        &app,
        "naver",
        &person("naver", Some("n@social.test"), "네이버"),
    )
    .await;
    let s = session_of(&callback(&app, "naver", &code).await);
    let a = send(
        app.authed(reqwest::Method::PATCH, "/myInfo/edit-pw", &s)
            .json(&json!({ "password": PASSWORD, "newPassword": "newpass1!" })),
    )
    .await;
    a.expect(400);
    assert_eq!(
        a.message(),
        "소셜로그인 사용자는 비밀번호를 변경할 수 없습니다."
    );
    app.stop().await;

    // Not configured at all.
    let plain = spawn_app().await;
    plain
        .post_json("/kakao/callback", &json!({ "code": "x" }))
        .await
        .expect(404);
    plain.stop().await;
}
