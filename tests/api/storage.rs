//! Uploads: type by bytes, size limit, server-made keys, nothing left behind when refused —
//! in the local folder and in a real S3-compatible server.

use reqwest::Method;

use crate::helpers::*;

/// The posting form with `bytes` as the drawing, whatever they are.
fn drawing_form(bytes: Vec<u8>) -> reqwest::multipart::Form {
    diary_form(&DIARY_FIELDS, None).part(
        "image",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("blob")
            .mime_str("image/png")
            .unwrap(),
    )
}

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
    // A copy to embed, never a page to show; the same pixels as uploaded.
    assert_eq!(stored.content_disposition(), Some("attachment"));
    assert_eq!(
        pixels(&stored.body.collect().await.unwrap().into_bytes()),
        pixels(&png_bytes())
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
    let fake = drawing_form(b"GIF? no, text".to_vec());
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

/// A 20×10 JPEG carrying EXIF: orientation 6 (turn 90° clockwise to view upright) and a GPS
/// directory with a position reference, as a phone camera writes them.
fn photo_with_exif() -> Vec<u8> {
    let img = image::RgbImage::from_fn(20, 10, |x, _| image::Rgb([(x * 12) as u8, 90, 160]));
    let mut plain = std::io::Cursor::new(Vec::new());
    img.write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    // IFD0: Orientation = 6, GPSInfo -> offset 38; no next IFD.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    // GPS IFD: GPSLatitudeRef = "N".
    tiff.extend_from_slice(&[0, 1]);
    tiff.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn profile_picture(app: &TestApp, s: &Session) -> Vec<u8> {
    let url = app.get_authed("/myInfo", s).await.body["data"]["profileImg"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_decoded_and_stored_as_clean_copies() {
    let app = spawn_with(&[
        ("PROFILE_IMAGE_MAX_SIDE", "64"),
        ("IMAGE_MAX_PIXELS", "200000"),
    ])
    .await;
    let (_, s) = app.new_user("사진관").await;

    // A real PNG with an HTML page behind it: the picture is kept, the page is not.
    let mut polyglot = png_of(8, 6);
    polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    edit_profile(&app, &s, Some(("blob", polyglot.clone(), "image/png")))
        .await
        .expect(201);
    let served = profile_picture(&app, &s).await;
    assert!(
        !contains(&served, b"<script"),
        "the HTML tail was published"
    );
    assert_eq!(pixels(&served), pixels(&polyglot));

    // A phone photo: its GPS position is not published, and it is shown upright.
    let photo = photo_with_exif();
    assert!(contains(&photo, b"Exif"));
    edit_profile(&app, &s, Some(("IMG_0001.jpg", photo, "image/jpeg")))
        .await
        .expect(201);
    let served = profile_picture(&app, &s).await;
    assert!(!contains(&served, b"Exif"), "EXIF metadata was published");
    let shown = image::load_from_memory(&served).unwrap();
    assert_eq!((shown.width(), shown.height()), (10, 20));
    assert_eq!(
        image::guess_format(&served).unwrap(),
        image::ImageFormat::Jpeg
    );

    // A large profile picture is scaled down to fit PROFILE_IMAGE_MAX_SIDE, keeping its shape.
    edit_profile(&app, &s, Some(("big.png", png_of(400, 200), "image/png")))
        .await
        .expect(201);
    let shown = image::load_from_memory(&profile_picture(&app, &s).await).unwrap();
    assert_eq!((shown.width(), shown.height()), (64, 32));
    let before = app.get_authed("/myInfo", &s).await.body["data"]["profileImg"].clone();
    let stored = files_under(&app.upload_dir);
    assert_eq!(stored.len(), 1, "{stored:?}");

    // Refused, each with a message, and nothing stored or changed:
    // a signature with text behind it,
    let a = edit_profile(
        &app,
        &s,
        Some((
            "a.gif",
            b"GIF89a\x01\x00\x01\x00 not really".to_vec(),
            "image/gif",
        )),
    )
    .await;
    a.expect(400);
    assert!(a.message().contains("이미지"), "{}", a.message());
    // an AVIF, which this server cannot decode,
    let avif = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf".to_vec();
    let a = edit_profile(&app, &s, Some(("a.avif", avif, "image/avif"))).await;
    a.expect(400);
    assert!(a.message().contains("AVIF"), "{}", a.message());
    // and more pixels than IMAGE_MAX_PIXELS (a small file may decode to a huge picture).
    let a = edit_profile(&app, &s, Some(("wide.png", png_of(1000, 300), "image/png"))).await;
    a.expect(413);
    assert!(a.message().contains("1000×300"), "{}", a.message());
    let drawing = drawing_form(png_of(1000, 300));
    send(
        app.authed(Method::POST, "/diary/posting", &s)
            .multipart(drawing),
    )
    .await
    .expect(413);
    assert_eq!(files_under(&app.upload_dir), stored);
    assert_eq!(
        app.get_authed("/myInfo", &s).await.body["data"]["profileImg"],
        before
    );
    // The day is still free for a drawing within the limits.
    app.post_diary(&s, &[]).await.expect(201);
    app.stop().await;
}
