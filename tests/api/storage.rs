//! Uploads: type by bytes, size limit, server-made keys, nothing left behind when refused —
//! in the local folder and in a real S3-compatible server.

use reqwest::Method;

use crate::helpers::*;

async fn edit_profile(app: &TestApp, s: &Session, image: Option<(&str, Vec<u8>, &str)>) -> Answer {
    send(
        app.authed(Method::PATCH, "/myInfo/editmyInfo", s)
            .multipart(profile_form("사진", image)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_uploads_leave_nothing_behind_in_the_local_folder() {
    let app = spawn_with(&[("UPLOAD_MAX_BYTES", "2000")]).await;
    let (_, s) = app.new_user("사진").await;
    let before = app.get_authed("/myInfo", &s).await.body["data"]["profileImg"].clone();

    // A text file named .png, sent as image/png.
    let a = edit_profile(
        &app,
        &s,
        Some((
            "evil.png",
            b"<script>alert(1)</script>".to_vec(),
            "image/png",
        )),
    )
    .await;
    a.expect(400);
    assert!(a.message().contains("이미지"), "{}", a.message());
    // Too large (a real PNG header padded past the limit).
    let mut big = png_bytes();
    big.resize(5000, 0);
    let a = edit_profile(&app, &s, Some(("big.png", big, "image/png"))).await;
    a.expect(413);
    assert!(a.message().contains("MB"), "{}", a.message());
    // An empty file.
    edit_profile(&app, &s, Some(("empty.png", vec![], "image/png")))
        .await
        .expect(400);
    assert!(
        files_under(&app.upload_dir).is_empty(),
        "{:?}",
        files_under(&app.upload_dir)
    );
    assert_eq!(
        app.get_authed("/myInfo", &s).await.body["data"]["profileImg"],
        before
    );

    // Not a form at all.
    let a = send(
        app.authed(Method::PATCH, "/myInfo/editmyInfo", &s)
            .json(&serde_json::json!({ "username": "제이슨" })),
    )
    .await;
    a.expect(400);
    assert!(a.message().contains("multipart"), "{}", a.message());

    // The client's file name never becomes the key; the type comes from the bytes.
    edit_profile(
        &app,
        &s,
        Some(("../../etc/passwd.jpg", png_bytes(), "image/jpeg")),
    )
    .await
    .expect(201);
    let files = files_under(&app.upload_dir);
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(name.ends_with(".png") && !name.contains("passwd"), "{name}");
    let url = app.get_authed("/myInfo", &s).await.body["data"]["profileImg"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");

    // A new picture replaces the old file.
    edit_profile(&app, &s, Some(("blob", png_bytes(), "image/png")))
        .await
        .expect(201);
    assert_eq!(files_under(&app.upload_dir).len(), 1);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_body_is_refused_with_413_json() {
    let app = spawn_with(&[("UPLOAD_MAX_BYTES", "10000"), ("JSON_MAX_BYTES", "4096")]).await;
    let (_, s) = app.new_user("큰것").await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let a = send(
        app.client
            .post(app.url("/signin"))
            .header("content-type", "application/json")
            .body(format!("{{\"email\":\"{huge}\"}}")),
    )
    .await;
    a.expect(413);
    assert!(!a.message().is_empty());
    // Far past the transport limit: the server answers 413 before the body is through, so the
    // client sees either that answer or the connection closed under its upload.
    let res = app
        .authed(Method::PATCH, "/myInfo/editmyInfo", &s)
        .multipart(profile_form(
            "바뀜",
            Some(("blob", vec![0x89; 3 * 1024 * 1024], "image/png")),
        ))
        .send()
        .await;
    if let Ok(res) = res {
        answer(res).await.expect(413);
    }
    assert!(files_under(&app.upload_dir).is_empty());
    // The server closed that connection; look on a new one (a browser would retry by itself).
    let me = send(
        reqwest::Client::new()
            .get(app.url("/myInfo"))
            .header("Authorization", &s.authorization),
    )
    .await;
    assert_eq!(me.body["data"]["username"], "큰것");
    app.stop().await;
}

fn s3_vars() -> Vec<(String, String)> {
    vec![
        ("S3_ENDPOINT".into(), required_env("TEST_S3_ENDPOINT")),
        ("S3_ACCESS_KEY".into(), required_env("TEST_S3_ACCESS_KEY")),
        (
            "S3_SECRET_ACCESS_KEY".into(),
            required_env("TEST_S3_SECRET_KEY"),
        ),
        ("S3_REGION".into(), "us-east-1".into()),
    ]
}

async fn s3_client() -> aws_sdk_s3::Client {
    let cfg = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(required_env("TEST_S3_ENDPOINT"))
        .force_path_style(true)
        .credentials_provider(aws_credential_types::Credentials::new(
            required_env("TEST_S3_ACCESS_KEY"),
            required_env("TEST_S3_SECRET_KEY"),
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(cfg)
}

async fn keys_in(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list the bucket")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

/// A server storing images in a fresh bucket of the S3 test server, with a client to look in it.
async fn app_on_new_bucket() -> (TestApp, aws_sdk_s3::Client, String) {
    let client = s3_client().await;
    let bucket = format!("nct-{}", uuid::Uuid::new_v4().simple());
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let mut vars: Vec<(String, String)> = s3_vars();
    vars.push(("S3_BUCKET".into(), bucket.clone()));
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    (spawn_with(&refs).await, client, bucket)
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_pictures_go_to_s3_and_refused_ones_do_not() {
    let (app, client, bucket) = app_on_new_bucket().await;
    let (_, s) = app.new_user("버킷").await;

    edit_profile(
        &app,
        &s,
        Some(("notes.png", b"just some text".to_vec(), "image/png")),
    )
    .await
    .expect(400);
    assert!(keys_in(&client, &bucket).await.is_empty());

    edit_profile(&app, &s, Some(("blob", png_bytes(), "image/png")))
        .await
        .expect(201);
    let keys = keys_in(&client, &bucket).await;
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].starts_with("profiles/") && keys[0].ends_with(".png"),
        "{keys:?}"
    );
    let head = client
        .head_object()
        .bucket(&bucket)
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
    let url = app.get_authed("/myInfo", &s).await.body["data"]["profileImg"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.ends_with(&keys[0]), "{url}");
    let stored = client
        .get_object()
        .bucket(&bucket)
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.body.collect().await.unwrap().into_bytes().to_vec(),
        png_bytes()
    );

    // Replacing it removes the old object.
    edit_profile(&app, &s, Some(("blob", png_bytes(), "image/png")))
        .await
        .expect(201);
    let after = keys_in(&client, &bucket).await;
    assert_eq!(after.len(), 1);
    assert_ne!(after[0], keys[0]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn diary_drawings_go_to_s3_and_leave_with_their_diary() {
    let (app, client, bucket) = app_on_new_bucket().await;
    let (_, s) = app.new_user("그림").await;

    // Not an image: refused before anything is stored.
    let fake = diary_form(&DIARY_FIELDS, None).part(
        "image",
        reqwest::multipart::Part::bytes(b"GIF? no, text".to_vec())
            .file_name("blob")
            .mime_str("image/png")
            .unwrap(),
    );
    send(
        app.authed(Method::POST, "/diary/posting", &s)
            .multipart(fake),
    )
    .await
    .expect(400);
    assert!(keys_in(&client, &bucket).await.is_empty());

    let w = app.post_diary(&s, &[]).await;
    w.expect(201);
    let keys = keys_in(&client, &bucket).await;
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].starts_with("diaries/") && keys[0].ends_with(".png"),
        "{keys:?}"
    );
    assert!(
        w.body["data"]["image"]
            .as_str()
            .unwrap()
            .ends_with(&keys[0])
    );
    // The day is taken: the second drawing never reaches the bucket.
    app.post_diary(&s, &[]).await.expect(409);
    assert_eq!(keys_in(&client, &bucket).await, keys);

    let id = w.body["data"]["diaryId"].as_i64().unwrap();
    send(app.authed(Method::DELETE, &format!("/diary/delete/{id}"), &s))
        .await
        .expect(201);
    assert!(keys_in(&client, &bucket).await.is_empty());
    app.stop().await;
}
