//! What operators and browsers see: health, readiness, CORS, 404s, the API description and the
//! binary's subcommands.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread")]
async fn health_ready_and_root_answer() {
    let app = spawn_app().await;
    // The usual security headers, on every answer.
    let h = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(h.headers()["x-content-type-options"], "nosniff");
    assert_eq!(h.headers()["x-frame-options"], "DENY");
    assert_eq!(h.headers()["referrer-policy"], "no-referrer");
    let a = send(app.client.get(app.url("/health"))).await;
    a.expect(200);
    assert_eq!(a.body["serverStatus"], "Online");
    assert!(a.body["memoryUsage"]["total"].as_u64().unwrap() > 0);
    assert!(a.body["diskSpace"].is_array());
    assert_eq!(a.body["checks"]["database"], "ok");
    let a = send(app.client.get(app.url("/ready"))).await;
    a.expect(200);
    assert_eq!(a.body["ready"], true);
    let root = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(root.text().await.unwrap(), "<h1>SUCCESS</h1>");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draining_instance_is_not_ready_but_still_answers() {
    let app = spawn_app().await;
    app.app().start_draining();
    let a = send(app.client.get(app.url("/ready"))).await;
    a.expect(503);
    assert_eq!(a.body["reason"], "draining");
    // Requests already on their way are still served.
    send(app.client.get(app.url("/health"))).await.expect(200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_serves_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ninecloud"));
    cmd.env("METRICS_ADDR", "127.0.0.1:0")
        .env("HOST", "127.0.0.1")
        .env("DATA_DIR", dir.path())
        .env_remove("SECRET_KEY")
        .env_remove("DATABASE_URL");
    let (mut child, addr) = spawn_binary(cmd);
    let client = reqwest::Client::new();
    let ready = client.get(format!("http://{addr}/ready")).send().await;
    assert_eq!(ready.map(|r| r.status().as_u16()).ok(), Some(200));
    // It made and kept its own secret and SQLite database in the data folder.
    assert!(dir.path().join("secret_key").exists());
    assert!(dir.path().join("ninecloud.db").exists());
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the server did not exit within 10 s of SIGTERM")
    });
    assert!(status.success(), "exit status {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let a = send(app.client.get(app.url("/nope"))).await;
    a.expect(404);
    assert_eq!(a.message(), "Cannot GET /nope");
    let a = send(app.client.put(app.url("/signin"))).await;
    a.expect(405);
    assert!(!a.message().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_lets_the_front_end_read_its_token_headers() {
    let app = spawn_app().await;
    for origin in ["http://localhost:3001", "https://nine-cloud9.vercel.app"] {
        let pre = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/signin"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,refreshtoken,content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(pre.status().is_success());
        let h = pre.headers();
        assert_eq!(h["access-control-allow-origin"], origin);
        assert_eq!(h["access-control-allow-credentials"], "true");
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(allowed.contains("refreshtoken") && allowed.contains("authorization"));
    }
    let (email, _) = app.new_user("코스").await;
    let res = app
        .client
        .post(app.url("/signin"))
        .header("Origin", "http://localhost:3000")
        .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("authorization") && exposed.contains("refreshtoken"));
    // Another origin gets an answer but no permission to read it.
    let res = app
        .client
        .get(app.url("/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_is_described_and_swagger_ui_is_served_offline() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/signup",
        "/complete-signup",
        "/signin",
        "/token",
        "/logout",
        "/myInfo",
        "/myInfo/editmyInfo",
        "/myInfo/edit-pw",
        "/signoff",
        "/cancel-signoff",
        "/signoffInProgress",
        "/{provider}/callback",
        "/health",
        "/ready",
        "/diary/calendar/{year}/{month}",
        "/diary/detail/{id}",
        "/diary/posting",
        "/diary/edit/{id}",
        "/diary/delete/{id}",
        "/feeds",
        "/feeds/mydiaries",
        "/feeds/{id}/like",
        "/diary/stats/{year}/{month}",
        "/diary/export",
        "/diary/detail/comment/{id}",
        "/diary/detail/secondaryComment/{id}",
        "/diary/detail/secondaryComment/{diary_id}/{id}",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    let ui = app.client.get(app.url("/api-docs/")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger-ui"));
    let js = app
        .client
        .get(app.url("/api-docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_healthcheck_subcommand_reports_readiness() {
    let app = spawn_app().await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let ok = Command::new(env!("CARGO_BIN_EXE_ninecloud"))
        .arg("healthcheck")
        .env("PORT", &port)
        .status()
        .unwrap();
    assert!(ok.success());
    app.stop().await;
    let down = Command::new(env!("CARGO_BIN_EXE_ninecloud"))
        .arg("healthcheck")
        .env("PORT", &port)
        .output()
        .unwrap();
    assert!(!down.status.success());
}

#[test]
fn a_bad_setting_stops_the_server_with_one_line_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_ninecloud"))
        .env("PORT", "eighty")
        .env("DATA_DIR", std::env::temp_dir().join("nct-bad-config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("PORT"), "{err}");
}
