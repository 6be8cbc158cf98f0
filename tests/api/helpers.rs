//! `spawn_app()`: the real server on a random port with its own fresh database, and typed
//! helpers that call it the way the NINE Cloud front end does.
//!
//! Which database: `TEST_DB` = `sqlite` (default), `postgres` or `mysql`; the services come from
//! `TEST_POSTGRES_URL`, `TEST_MYSQL_URL`, `TEST_SMTP_PORT` + `TEST_MAIL_DIR`, `TEST_OAUTH_URL`
//! and `TEST_S3_*`, which `scripts/test.sh` starts and sets. Logs: `TEST_LOG=1`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncMysqlConnection, AsyncPgConnection};
use ninecloud::RunningServer;
use ninecloud::config::Config;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const PASSWORD: &str = "cloud9pw!";

static LOGS: Once = Once::new();

fn init_logs() {
    LOGS.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            tracing_subscriber::fmt()
                .with_env_filter("info,ninecloud=debug")
                .with_test_writer()
                .init();
        }
    });
}

pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the suite through scripts/test.sh, which starts the service it names")
    })
}

/// Runs `ddl` on the server behind `admin` and returns the URL of database `name` there.
async fn create_database<C: AsyncConnection>(admin: &str, ddl: &str, name: &str) -> String {
    let mut conn = C::establish(admin)
        .await
        .unwrap_or_else(|e| panic!("connect to {admin}: {e}"));
    conn.batch_execute(ddl).await.expect("create test database");
    let mut url = url::Url::parse(admin).unwrap();
    url.set_path(name);
    url.to_string()
}

/// A fresh, empty database of the kind `TEST_DB` names.
async fn fresh_database(dir: &std::path::Path) -> String {
    let kind = std::env::var("TEST_DB").unwrap_or_else(|_| "sqlite".into());
    let name = format!("nct_{}", uuid::Uuid::new_v4().simple());
    match kind.as_str() {
        "sqlite" => format!("sqlite://{}", dir.join("test.db").display()),
        "postgres" => {
            let admin = std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            create_database::<AsyncPgConnection>(&admin, &format!("CREATE DATABASE {name}"), &name)
                .await
        }
        "mysql" => {
            let admin = std::env::var("TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into());
            let ddl = format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
            create_database::<AsyncMysqlConnection>(&admin, &ddl, &name).await
        }
        other => panic!("TEST_DB={other}: expected sqlite, postgres or mysql"),
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub upload_dir: PathBuf,
    pub mail_dir: Option<PathBuf>,
    /// Where this server keeps its data, for a second instance sharing it.
    pub database_url: String,
    pub mongo_url: Option<String>,
    /// `http://…/metrics` when the test asked for METRICS_ADDR (tests/metrics_api).
    #[allow(dead_code)]
    pub metrics_url: Option<String>,
    server: Option<RunningServer>,
    _tmp: tempfile::TempDir,
}

/// The server with the embedded defaults plus SMTP when the sink runs.
pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
    init_logs();
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = fresh_database(tmp.path()).await;
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut set = |k: &str, v: &str| {
        vars.insert(k.to_string(), v.to_string());
    };
    set("HOST", "127.0.0.1");
    set("PORT", "0");
    set("DATA_DIR", &tmp.path().display().to_string());
    set("DATABASE_URL", &db);
    set("DATABASE_POOL_SIZE", "4");
    set("SECRET_KEY", "test-secret-key-0123456789abcdef");
    set("AUTH_RATE_LIMIT_PER_MINUTE", "1000");
    // Many servers share this process: each would take the default metrics port.
    set("METRICS_ADDR", "off");
    // TEST_CHAT_LOG=mongo: the chat log in MongoDB (a fresh database per test).
    if std::env::var("TEST_CHAT_LOG").as_deref() == Ok("mongo") {
        let base = required_env("TEST_MONGO_URL");
        let mut url = url::Url::parse(&base).expect("TEST_MONGO_URL");
        url.set_path(&format!("nct_{}", uuid::Uuid::new_v4().simple()));
        set("MONGO_DB", url.as_str());
    }
    let mail_dir = std::env::var("TEST_SMTP_PORT").ok().map(|port| {
        set("SMTP_HOST", "127.0.0.1");
        set("SMTP_PORT", &port);
        set("SMTP_TLS", "none");
        set("MAILER_EMAIL", "nine@cloud.test");
        PathBuf::from(required_env("TEST_MAIL_DIR"))
    });
    for (k, v) in extra {
        set(k, v);
    }
    let config = Config::from_source(&vars).expect("test configuration");
    let upload_dir = match &config.objects {
        ninecloud::config::ObjectStoreConfig::Local { dir } => dir.clone(),
        _ => tmp.path().join("no-local-uploads"),
    };
    let database_url = config.database_url.clone();
    let mongo_url = config.mongo_url.clone();
    let server = ninecloud::start(config).await.expect("server starts");
    TestApp {
        database_url,
        mongo_url,
        metrics_url: server.metrics_addr.map(|a| format!("http://{a}/metrics")),
        base: format!("http://{}", server.addr),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        upload_dir,
        mail_dir,
        server: Some(server),
        _tmp: tmp,
    }
}

/// What one call answered.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
}

/// Sends the request and reads the answer.
pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    answer(req.send().await.expect("request reaches the server")).await
}

pub async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// The two headers the front end keeps after signing in.
#[derive(Clone, Debug)]
pub struct Session {
    /// `Bearer …`, stored and sent back exactly as received.
    pub authorization: String,
    pub refresh: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        send(self.client.post(self.url(path)).json(body)).await
    }

    /// A call with the headers the front end sends on every authenticated request.
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        s: &Session,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Authorization", &s.authorization)
            .header("Refreshtoken", &s.refresh)
    }

    pub async fn get_authed(&self, path: &str, s: &Session) -> Answer {
        send(self.authed(reqwest::Method::GET, path, s)).await
    }

    /// What the front end's 419 interceptor does: plain `POST /token` with only `Refreshtoken`.
    pub async fn renew(&self, refresh: &str) -> Answer {
        send(
            self.client
                .post(self.url("/token"))
                .header("Refreshtoken", refresh),
        )
        .await
    }

    /// The sign-up code as the person reads it in the mail that reached the SMTP sink.
    pub async fn mailed_code(&self, email: &str) -> String {
        let dir = self
            .mail_dir
            .clone()
            .expect("TEST_SMTP_PORT is not set: the SMTP sink is needed for this test");
        let prefix = format!("{}-", email.to_lowercase());
        for _ in 0..100 {
            let mut newest: Option<(String, PathBuf)> = None;
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().to_string();
                    if name.starts_with(&prefix) && newest.as_ref().is_none_or(|(n, _)| name > *n) {
                        newest = Some((name, e.path()));
                    }
                }
            }
            if let Some((_, path)) = newest {
                let mail: Value =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                assert_eq!(mail["subject"], "[NINE Cloud에서 보낸 인증코드]");
                let text = mail["text"].as_str().unwrap();
                let code = text.rsplit(": ").next().unwrap().trim().to_string();
                assert!(
                    mail["html"].as_str().unwrap().contains(&code),
                    "the HTML part shows the code too"
                );
                return code;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail for {email} reached the SMTP sink");
    }

    pub async fn signup(&self, email: &str, username: &str) -> Answer {
        self.post_json(
            "/signup",
            &json!({ "email": email, "password": PASSWORD, "username": username }),
        )
        .await
    }

    pub async fn complete_signup(&self, email: &str, username: &str, code: &str) -> Answer {
        self.post_json(
            "/complete-signup",
            &json!({ "email": email, "Authenticationcode": code, "password": PASSWORD, "username": username }),
        )
        .await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Answer {
        self.post_json("/signin", &json!({ "email": email, "password": password }))
            .await
    }

    /// Sign-up → mailed code → complete-signup → sign-in; a unique address each call.
    pub async fn new_user(&self, username: &str) -> (String, Session) {
        let email = format!("{}@nine.test", uuid::Uuid::new_v4().simple());
        self.signup(&email, username).await.expect(201);
        let code = self.mailed_code(&email).await;
        self.complete_signup(&email, username, &code)
            .await
            .expect(201);
        let s = self.login(&email, PASSWORD).await;
        (email, s)
    }

    /// Several users at once (sign-up, mailed code, sign-in each).
    pub async fn new_users(&self, names: &[&str]) -> Vec<Session> {
        futures::future::join_all(names.iter().map(|n| self.new_user(n)))
            .await
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let a = self.signin(email, password).await;
        a.expect(200);
        session_of(&a)
    }

    /// The running application, for what a test cannot reach over HTTP (starting a drain).
    pub fn app(&self) -> &ninecloud::app::App {
        &self.server.as_ref().expect("running").app
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("clean stop");
        }
    }
}

pub fn session_of(a: &Answer) -> Session {
    Session {
        authorization: a.header("authorization").expect("Authorization header"),
        refresh: a.header("refreshtoken").expect("Refreshtoken header"),
    }
}

/// A small real PNG (1×1), as a canvas `toBlob` would give.
pub fn png_bytes() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

/// The pixels of an encoded image, to compare what was uploaded with what is served (the server
/// stores a re-encoded copy, never the uploaded bytes).
pub fn pixels(encoded: &[u8]) -> image::RgbaImage {
    image::load_from_memory(encoded)
        .expect("a decodable image")
        .to_rgba8()
}

/// A real PNG of `width`×`height` with a gradient, as a photo or a drawing would be.
pub fn png_of(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 120, 255])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

/// The profile form exactly as the browser's `FormData` sends it: `username`, and `image` as a
/// file (`Blob` → filename `blob`) or as an empty text field when no picture was picked.
pub fn profile_form(
    username: &str,
    image: Option<(&str, Vec<u8>, &str)>,
) -> reqwest::multipart::Form {
    let form = reqwest::multipart::Form::new().text("username", username.to_string());
    match image {
        Some((filename, bytes, mime)) => form.part(
            "image",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(filename.to_string())
                .mime_str(mime)
                .unwrap(),
        ),
        None => form.text("image", ""),
    }
}

/// Every file below `dir` (the local upload folder).
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The diary form exactly as the front end's write page sends it (`FormData`, in its order):
/// the text fields, and the canvas drawing as a PNG `Blob` (file name `blob`).
pub fn diary_form(fields: &[(&str, &str)], image: Option<Vec<u8>>) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        if *k == "image" {
            continue;
        }
        form = form.text(k.to_string(), v.to_string());
        if *k == "isPublic"
            && let Some(bytes) = &image
        {
            form = form.part(
                "image",
                reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name("blob")
                    .mime_str("image/png")
                    .unwrap(),
            );
        }
    }
    form
}

/// What the front end sends for a day rated 3.5 and sunny.
pub const DIARY_FIELDS: [(&str, &str); 8] = [
    ("EmotionStatus", "3.5"),
    ("content", "<p>오늘은 <strong>맑음</strong></p>"),
    ("isPublic", "false"),
    ("sentence", "좋은 일이 생길 거예요"),
    ("weather", "3"),
    ("temperature", "4"),
    ("humid", "3"),
    ("sleep", "5"),
];

impl TestApp {
    /// `POST /diary/posting` with the front end's fields (overridden by `changes`) and a drawing.
    pub async fn post_diary(&self, s: &Session, changes: &[(&str, &str)]) -> Answer {
        let fields: Vec<(&str, &str)> = DIARY_FIELDS
            .iter()
            .map(|(k, v)| {
                changes
                    .iter()
                    .find(|(ck, _)| ck == k)
                    .map_or((*k, *v), |(ck, cv)| (*ck, *cv))
            })
            .collect();
        send(
            self.authed(reqwest::Method::POST, "/diary/posting", s)
                .multipart(diary_form(&fields, Some(png_bytes()))),
        )
        .await
    }
}

/// Starts the server binary (`cmd`, with its environment set by the caller) on a port the OS
/// picks (`PORT=0`) and returns it with the address it reported when ready. Choosing a free
/// port first and handing it to the child races: another test's server, or an outgoing
/// connection's ephemeral port, can take it in between. The binary logs to standard output;
/// its warnings and errors (everything with `TEST_LOG`) are passed on to this test's output,
/// and its standard error (a failed start's message) goes there as it is.
pub fn spawn_binary(mut cmd: std::process::Command) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    let verbose = std::env::var("TEST_LOG").is_ok();
    cmd.env("PORT", "0")
        .env("LOG_FORMAT", "json")
        // The "ready" line is at info (its target is the binary's root, `ninecloud`).
        .env(
            "RUST_LOG",
            if verbose {
                "info"
            } else {
                "warn,ninecloud=info"
            },
        )
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("start the server binary");
    let out = child.stdout.take().expect("piped standard output");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                eprintln!("{line}");
                continue;
            };
            if v["fields"]["message"] == "ready"
                && let Some(addr) = v["fields"]["addr"].as_str().and_then(|a| a.parse().ok())
            {
                let _ = tx.send(addr);
            } else if verbose || matches!(v["level"].as_str(), Some("WARN" | "ERROR")) {
                eprintln!("{line}");
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => (child, addr),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait();
            panic!("the server binary never said it was ready ({status:?})");
        }
    }
}
