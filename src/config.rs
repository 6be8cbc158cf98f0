//! One typed configuration, read once at start from the environment (and `.env`).
//!
//! Variable names follow the original NINE Cloud backend's `.env` where one existed, so an
//! existing deployment's file carries over (`SECRET_KEY`, `MAILER_EMAIL`, `KAKAO_CLIENT_ID`,
//! `REACT_APP_GOOGLE_AUTH_REDIRECT_URI`, `S3_ACCESS_KEY2`, ...). A bad value stops the server
//! with one line naming the variable.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The contract's default profile picture (contract §2.1).
pub const ORIGINAL_DEFAULT_PROFILE_IMG: &str =
    "https://finaldrawings.s3.ap-northeast-2.amazonaws.com/default-profile.avif";

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var}: {problem}")]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &str, problem: impl Into<String>) -> Self {
        Self {
            var: var.to_string(),
            problem: problem.into(),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// Absolute base URL clients reach this server at; used for links to locally stored images.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_pool_size: usize,
    /// `None` means: generate one and keep it under `data_dir` (see `App::build`).
    pub secret_key: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub cors_origins: Vec<String>,
    /// Whose `X-Forwarded-For` is believed: none unless `TRUST_PROXY`, then `TRUSTED_PROXIES`.
    pub proxies: crate::net::TrustedProxies,
    pub http: HttpLimits,
    pub mail: MailConfig,
    pub objects: ObjectStoreConfig,
    pub upload_max_bytes: usize,
    /// How far an uploaded image is decoded, and how many are decoded at once.
    pub images: ImageConfig,
    pub json_max_bytes: usize,
    pub default_profile_img: String,
    pub oauth: OAuthConfig,
    pub signup_code_ttl: Duration,
    pub signup_code_max_attempts: i32,
    pub account_deletion_grace: Duration,
    pub signoff_cancel_window: Duration,
    pub purge_interval: Duration,
    pub auth_rate_limit_per_minute: u32,
    /// The Everyone's friend REST routes (`/user/*`, `/login`, `/channel/*`) and socket dialect
    /// (`getMessage`, `enterChannel`); off for a deployment that runs only NINE Cloud.
    pub everyones_friend: bool,
    /// Where Prometheus scrapes `/metrics` (`METRICS_ADDR`, default 127.0.0.1:9464; `off`):
    /// a listener of its own, so the metrics never pass through Nginx.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The Socket.IO Admin UI's server side (`/admin`); `None` unless `ADMIN_USERNAME` and
    /// `ADMIN_PASSWORD_HASH` are set.
    pub admin: Option<AdminConfig>,
    pub shutdown_grace: Duration,
    /// Socket.IO rooms shared between instances through Redis (`REDIS_URL`, or
    /// `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD` as in the original `.env`).
    pub redis_url: Option<String>,
    /// How long an instance waits for the others' answers through Redis (the online list on
    /// joining a channel) before going on with the answers it has (`REDIS_REQUEST_TIMEOUT_MS`).
    /// socketioxide-redis waits 5 s by default; an instance that is shutting down during a
    /// blue/green switch must not hold every join up that long.
    pub redis_request_timeout: Duration,
    /// A name for this instance in `/health` (`INSTANCE_NAME`; deploy.sh sets `blue-0` …).
    pub instance_name: Option<String>,
    /// Chat logs in MongoDB instead of the relational database (`MONGO_DB`, as the original).
    pub mongo_url: Option<String>,
    pub realtime: RealtimeConfig,
    pub diary: DiaryConfig,
    pub ai: AiConfig,
}

/// The Socket.IO Admin UI (`src/realtime/admin.rs`).
#[derive(Clone, Debug)]
pub struct AdminConfig {
    pub username: String,
    /// bcrypt, as `@socket.io/admin-ui`'s `auth.password`.
    pub password_hash: String,
    /// `ADMIN_MODE=development`: the socket list and live socket events (who connected, which
    /// rooms), as the Node instrument's development mode; production sends statistics only.
    pub development: bool,
    /// `ADMIN_READONLY`: no commands (emit, join, leave, disconnect).
    pub readonly: bool,
    /// `ADMIN_SERVER_ID`; by default `INSTANCE_NAME`, else `hostname#pid`.
    pub server_id: Option<String>,
    /// Origins the UI is served from (`ADMIN_UI_ORIGINS`, default https://admin.socket.io):
    /// allowed for Socket.IO requests only, never for the REST API.
    pub ui_origins: Vec<String>,
    /// How long a session id from a login stays good (`ADMIN_SESSION_TTL`, 1 day).
    pub session_ttl: Duration,
    /// Wrong logins (and logins) per client address per minute: bcrypt is slow on purpose.
    pub login_attempts_per_minute: u32,
}

/// What one HTTP connection may take of the server (see `serve`).
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// A new connection's first request head must be complete within this.
    pub header_timeout: Duration,
    /// A kept-alive connection's next request head must be complete within this.
    pub idle_timeout: Duration,
    /// A request body must have arrived whole within this.
    pub body_timeout: Duration,
    /// Open connections in all (`0`: no cap).
    pub max_connections: usize,
    /// Open connections per client address, trusted proxies excepted (`0`: no cap).
    pub max_connections_per_ip: usize,
}

/// AI advice on a diary (see `advice`).
#[derive(Clone)]
pub struct AiConfig {
    /// An OpenAI-compatible chat-completions API (`AI_BASE_URL`, e.g.
    /// `https://api.openai.com/v1` or a local Ollama's `http://127.0.0.1:11434/v1`); `None`: the
    /// built-in advice.
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub model: String,
    /// The whole answer must arrive within this (`AI_TIMEOUT`, seconds).
    pub timeout: Duration,
    /// Answers per user and day in `DIARY_TIME_ZONE` (`AI_DAILY_LIMIT`; 0: no limit).
    pub daily_limit: u32,
    /// Characters of the diary's text sent at most (`AI_MAX_INPUT_CHARS`).
    pub max_input_chars: usize,
    /// The longest answer asked for (`AI_MAX_OUTPUT_TOKENS`).
    pub max_output_tokens: u32,
}

impl fmt::Debug for AiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// Decoding uploaded images (see `domain::image`).
#[derive(Clone, Debug)]
pub struct ImageConfig {
    pub limits: ImageLimits,
    /// Images decoded at the same time (`IMAGE_DECODE_CONCURRENCY`, default: the CPU count);
    /// further uploads wait their turn, so decoding memory is bounded by this × the limits.
    pub concurrency: usize,
}

/// The emotion diary's rules.
#[derive(Clone, Debug)]
pub struct DiaryConfig {
    /// The zone whose days a diary belongs to (one a day) and whose wall-clock time `createdAt`
    /// shows (`DIARY_TIME_ZONE`, default Asia/Seoul as the front end assumes).
    pub time_zone: chrono_tz::Tz,
    /// A viewer counts once per diary within this window (`DIARY_VIEW_WINDOW`, seconds).
    pub view_window: Duration,
    /// Characters of editor HTML a diary may hold (`DIARY_CONTENT_MAX_LENGTH`).
    pub content_max_chars: usize,
    /// Characters a comment or reply may hold (`COMMENT_MAX_LENGTH`).
    pub comment_max_chars: usize,
}

/// The Socket.IO server and the chat rules.
#[derive(Clone, Debug)]
pub struct RealtimeConfig {
    /// Node's defaults: ping every 25 s, 20 s to answer, 1 MB per message.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    pub max_payload: u64,
    /// Packets queued per socket before a broadcast to it fails (and is counted).
    pub socket_buffer: usize,
    /// Engine.IO sessions (polling or WebSocket) per client address (`0`: no cap).
    pub max_sessions_per_ip: usize,
    /// Engine.IO sessions in all (`0`: no cap).
    pub max_sessions: usize,
    /// Bytes a WebSocket connection reads at a time. Allocated for every connection, so it is
    /// most of an idle connection's memory that is ours to choose; a larger message grows it.
    pub ws_read_buffer: usize,
    /// Longest chat message, in characters.
    pub max_message_chars: usize,
    /// Messages per minute one socket may send (0: no limit), with this burst.
    pub messages_per_minute: u32,
    pub message_burst: u32,
    /// Messages per minute from one client address, whoever sends (0: no limit); burst 4×.
    pub messages_per_minute_per_ip: u32,
    /// The NINE Cloud community chat lets people in without an account.
    pub allow_anonymous: bool,
    /// Messages returned on joining a channel when the client asks for no more.
    pub history_page: usize,
    /// The most messages one history request returns.
    pub history_max: usize,
    /// The chat log's group commit: messages waiting to be stored before sends are refused
    /// (`CHAT_WRITE_QUEUE`), and the most stored in one transaction (`CHAT_WRITE_BATCH`).
    pub write_queue: crate::store::writer::QueueLimits,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secrets: only what helps an operator see which backends were chosen.
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("public_url", &self.public_url)
            .field("database", &redact_url(&self.database_url))
            .field("mail", &self.mail.describe())
            .field("objects", &self.objects.describe())
            .field("oauth", &self.oauth.enabled_names())
            .field("redis", &self.redis_url.as_deref().map(redact_url))
            .field("mongo", &self.mongo_url.as_deref().map(redact_url))
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

#[derive(Clone)]
pub enum MailConfig {
    /// No SMTP configured: sign-up codes are written to the log.
    Log,
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        username: Option<String>,
        password: Option<String>,
        from: String,
    },
}

impl MailConfig {
    fn describe(&self) -> String {
        match self {
            MailConfig::Log => "log".into(),
            MailConfig::Smtp {
                host, port, tls, ..
            } => format!("smtp://{host}:{port} ({tls:?})"),
        }
    }
}

#[derive(Clone)]
pub enum ObjectStoreConfig {
    Local {
        dir: PathBuf,
    },
    S3 {
        bucket: String,
        region: String,
        endpoint: Option<String>,
        access_key: Option<String>,
        secret_key: Option<String>,
        public_url: Option<String>,
    },
}

impl ObjectStoreConfig {
    fn describe(&self) -> String {
        match self {
            ObjectStoreConfig::Local { dir } => format!("local:{}", dir.display()),
            ObjectStoreConfig::S3 {
                bucket, endpoint, ..
            } => format!("s3:{bucket}@{}", endpoint.as_deref().unwrap_or("aws")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Kakao,
    Google,
    Naver,
    Github,
    Oidc,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Kakao,
        Provider::Google,
        Provider::Naver,
        Provider::Github,
        Provider::Oidc,
    ];

    pub fn env_prefix(self) -> &'static str {
        match self {
            Provider::Kakao => "KAKAO",
            Provider::Google => "GOOGLE",
            Provider::Naver => "NAVER",
            Provider::Github => "GITHUB",
            Provider::Oidc => "OIDC",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Kakao => "kakao",
            Provider::Google => "google",
            Provider::Naver => "naver",
            Provider::Github => "github",
            Provider::Oidc => "oidc",
        }
    }

    /// The `userType` stored for accounts created through this provider (contract §2.1).
    pub fn user_type(self) -> &'static str {
        match self {
            Provider::Kakao => "K",
            Provider::Google => "G",
            Provider::Naver => "N",
            Provider::Github => "GH",
            Provider::Oidc => "O",
        }
    }

    fn defaults(self) -> (&'static str, &'static str, &'static str) {
        // (authorize, token, user info) of the real providers.
        match self {
            Provider::Kakao => (
                "https://kauth.kakao.com/oauth/authorize",
                "https://kauth.kakao.com/oauth/token",
                "https://kapi.kakao.com/v2/user/me",
            ),
            Provider::Google => (
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                "https://www.googleapis.com/oauth2/v2/userinfo",
            ),
            Provider::Naver => (
                "https://nid.naver.com/oauth2.0/authorize",
                "https://nid.naver.com/oauth2.0/token",
                "https://openapi.naver.com/v1/nid/me",
            ),
            Provider::Github => (
                "https://github.com/login/oauth/authorize",
                "https://github.com/login/oauth/access_token",
                "https://api.github.com/user",
            ),
            Provider::Oidc => ("", "", ""),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    /// GitHub only: where the verified addresses are listed.
    pub emails_url: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct OAuthConfig {
    pub providers: HashMap<Provider, ProviderConfig>,
}

impl OAuthConfig {
    pub fn enabled_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.providers.keys().map(|p| p.name()).collect();
        names.sort_unstable();
        names
    }
}

/// Reads variables by name; the environment in production, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

struct Vars<'a> {
    source: &'a dyn Source,
}

impl Vars<'_> {
    /// The value of the first of `names` that is set and not blank.
    fn first(&self, names: &[&str]) -> Option<(String, String)> {
        names.iter().find_map(|name| {
            self.source
                .get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| (name.to_string(), v))
        })
    }

    fn string(&self, name: &str) -> Option<String> {
        self.first(&[name]).map(|(_, v)| v)
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.string(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| ConfigError::new(name, format!("'{v}' is not {what}"))),
        }
    }

    fn seconds(&self, name: &str, default: u64) -> Result<Duration, ConfigError> {
        let secs: u64 = self.parse(name, default, "a whole number of seconds")?;
        Ok(Duration::from_secs(secs))
    }

    fn positive_seconds(&self, name: &str, default: u64) -> Result<Duration, ConfigError> {
        let d = self.seconds(name, default)?;
        if d.is_zero() {
            return Err(ConfigError::new(name, "must be at least 1 second"));
        }
        Ok(d)
    }

    fn bool(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.string(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(ConfigError::new(
                name,
                format!("'{v}' is not a boolean (true/false)"),
            )),
        }
    }

    /// A comma-separated list of origins (URLs, a trailing `/` dropped), or `default`; `*` is
    /// taken as it is where `star` allows it.
    fn origins(
        &self,
        name: &str,
        default: &[&str],
        star: bool,
    ) -> Result<Vec<String>, ConfigError> {
        let Some(list) = self.string(name) else {
            return Ok(default.iter().map(|s| s.to_string()).collect());
        };
        let origins: Vec<String> = list
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for o in &origins {
            if !(star && o == "*") {
                self.url(name, o)?;
            }
        }
        Ok(origins)
    }

    fn url(&self, name: &str, value: &str) -> Result<(), ConfigError> {
        match url::Url::parse(value) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
            _ => Err(ConfigError::new(
                name,
                format!("'{value}' is not an http(s) URL"),
            )),
        }
    }
}

pub const DEFAULT_CORS_ORIGINS: [&str; 4] = [
    "http://localhost:3000",
    "http://localhost:3001",
    "https://nine-cloud9.vercel.app",
    "http://127.0.0.1:3000",
];

impl Config {
    /// Loads `.env` (if present) into the process environment, then reads the configuration.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_source(&|name: &str| std::env::var(name).ok())
    }

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let v = Vars { source };
        let host = v.string("HOST").unwrap_or_else(|| "0.0.0.0".into());
        let port: u16 = v.parse("PORT", 3000, "a port number (0-65535)")?;
        let public_url = match v.string("PUBLIC_URL") {
            Some(u) => {
                v.url("PUBLIC_URL", &u)?;
                u.trim_end_matches('/').to_string()
            }
            None => format!("http://localhost:{port}"),
        };
        let data_dir = PathBuf::from(v.string("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = v.string("DATABASE_URL").unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                data_dir.join("ninecloud.db").to_string_lossy()
            )
        });
        if !["sqlite:", "postgres:", "postgresql:", "mysql:", "mariadb:"]
            .iter()
            .any(|p| database_url.starts_with(p))
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with sqlite://, postgres:// or mysql://",
            ));
        }
        let database_pool_size: usize = v.parse("DATABASE_POOL_SIZE", 10, "a pool size")?;
        if database_pool_size == 0 {
            return Err(ConfigError::new("DATABASE_POOL_SIZE", "must be at least 1"));
        }
        let secret_key = v.string("SECRET_KEY");
        if let Some(k) = &secret_key
            && k.len() < 16
        {
            return Err(ConfigError::new(
                "SECRET_KEY",
                "is shorter than 16 characters; use a long random value",
            ));
        }

        let cors_origins = v.origins("CORS_ORIGINS", &DEFAULT_CORS_ORIGINS, true)?;

        let mail = Self::mail(&v)?;
        let objects = Self::objects(&v, &data_dir)?;
        let upload_max_bytes: usize =
            v.parse("UPLOAD_MAX_BYTES", 5 * 1024 * 1024, "a size in bytes")?;
        let json_max_bytes: usize = v.parse("JSON_MAX_BYTES", 1024 * 1024, "a size in bytes")?;
        let images = Self::images(&v)?;
        let default_profile_img = v
            .string("DEFAULT_PROFILE_IMG")
            .unwrap_or_else(|| ORIGINAL_DEFAULT_PROFILE_IMG.into());

        let mut oauth = OAuthConfig::default();
        for p in Provider::ALL {
            if let Some(cfg) = Self::provider(&v, p)? {
                oauth.providers.insert(p, cfg);
            }
        }

        Ok(Config {
            host,
            port,
            public_url,
            data_dir,
            database_url,
            database_pool_size,
            secret_key,
            access_token_ttl: v.positive_seconds("ACCESS_TOKEN_TTL", 3600)?,
            refresh_token_ttl: v.positive_seconds("REFRESH_TOKEN_TTL", 604_800)?,
            cors_origins,
            proxies: Self::proxies(&v)?,
            http: Self::http(&v)?,
            mail,
            objects,
            upload_max_bytes,
            images,
            json_max_bytes,
            default_profile_img,
            oauth,
            signup_code_ttl: v.positive_seconds("SIGNUP_CODE_TTL", 180)?,
            signup_code_max_attempts: v.parse(
                "SIGNUP_CODE_MAX_ATTEMPTS",
                5,
                "a number of attempts",
            )?,
            account_deletion_grace: v.seconds("ACCOUNT_DELETION_GRACE", 15 * 24 * 3600)?,
            signoff_cancel_window: v.positive_seconds("SIGNOFF_CANCEL_WINDOW", 120)?,
            purge_interval: v.positive_seconds("PURGE_INTERVAL", 3600)?,
            auth_rate_limit_per_minute: v.parse(
                "AUTH_RATE_LIMIT_PER_MINUTE",
                20,
                "a number of requests per minute",
            )?,
            everyones_friend: v.bool("EVERYONES_FRIEND", true)?,
            metrics_addr: match v.string("METRICS_ADDR") {
                None => Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9464))),
                Some(a) if a.eq_ignore_ascii_case("off") => None,
                Some(a) => Some(a.parse().map_err(|_| {
                    ConfigError::new("METRICS_ADDR", format!("'{a}' is not host:port or off"))
                })?),
            },
            admin: Self::admin(&v)?,
            shutdown_grace: v.seconds("SHUTDOWN_GRACE", 25)?,
            redis_url: Self::redis(&v)?,
            redis_request_timeout: Duration::from_millis(v.parse(
                "REDIS_REQUEST_TIMEOUT_MS",
                1000,
                "a whole number of milliseconds",
            )?),
            instance_name: v.string("INSTANCE_NAME"),
            mongo_url: Self::mongo(&v)?,
            realtime: Self::realtime(&v)?,
            diary: Self::diary(&v)?,
            ai: Self::ai(&v)?,
        })
    }

    fn ai(v: &Vars<'_>) -> Result<AiConfig, ConfigError> {
        let base_url = v.string("AI_BASE_URL");
        if let Some(u) = &base_url {
            v.url("AI_BASE_URL", u)?;
        }
        let timeout = v.positive_seconds("AI_TIMEOUT", 30)?;
        let max_input_chars: usize =
            v.parse("AI_MAX_INPUT_CHARS", 2000, "a number of characters")?;
        if max_input_chars == 0 {
            return Err(ConfigError::new("AI_MAX_INPUT_CHARS", "must be at least 1"));
        }
        let max_output_tokens: u32 = v.parse("AI_MAX_OUTPUT_TOKENS", 400, "a number of tokens")?;
        if max_output_tokens == 0 {
            return Err(ConfigError::new(
                "AI_MAX_OUTPUT_TOKENS",
                "must be at least 1",
            ));
        }
        Ok(AiConfig {
            base_url: base_url.map(|u| u.trim_end_matches('/').to_string()),
            api_key: v.string("AI_API_KEY"),
            model: v.string("AI_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
            timeout,
            daily_limit: v.parse("AI_DAILY_LIMIT", 10, "a number of answers per day")?,
            max_input_chars,
            max_output_tokens,
        })
    }

    fn images(v: &Vars<'_>) -> Result<ImageConfig, ConfigError> {
        let defaults = ImageLimits::default();
        let max_pixels: u64 = v.parse(
            "IMAGE_MAX_PIXELS",
            defaults.max_pixels,
            "a number of pixels",
        )?;
        if max_pixels == 0 {
            return Err(ConfigError::new("IMAGE_MAX_PIXELS", "must be at least 1"));
        }
        let profile_max_side: u32 = v.parse(
            "PROFILE_IMAGE_MAX_SIDE",
            defaults.profile_max_side,
            "a number of pixels",
        )?;
        if profile_max_side == 0 {
            return Err(ConfigError::new(
                "PROFILE_IMAGE_MAX_SIDE",
                "must be at least 1",
            ));
        }
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let concurrency: usize = v.parse("IMAGE_DECODE_CONCURRENCY", cpus, "a number")?;
        if concurrency == 0 {
            return Err(ConfigError::new(
                "IMAGE_DECODE_CONCURRENCY",
                "must be at least 1",
            ));
        }
        Ok(ImageConfig {
            limits: ImageLimits {
                max_pixels,
                profile_max_side,
            },
            concurrency,
        })
    }

    fn proxies(v: &Vars<'_>) -> Result<crate::net::TrustedProxies, ConfigError> {
        if !v.bool("TRUST_PROXY", false)? {
            return Ok(crate::net::TrustedProxies::default());
        }
        let list = v
            .string("TRUSTED_PROXIES")
            .unwrap_or_else(|| "127.0.0.0/8,::1".into());
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "TRUSTED_PROXIES",
                        format!("'{item}' is not an address or a network (10.0.0.0/8)"),
                    )
                })?;
            nets.push(net);
        }
        Ok(crate::net::TrustedProxies::new(nets))
    }

    fn http(v: &Vars<'_>) -> Result<HttpLimits, ConfigError> {
        // Under the open-file limit, with room for the database, log and upload files: past
        // it accept() fails for everyone, so the cap refuses the newest connection instead.
        let default_max = open_file_limit().map_or(10_000, |n| n.saturating_sub(256).max(64));
        Ok(HttpLimits {
            header_timeout: v.positive_seconds("HTTP_HEADER_TIMEOUT", 10)?,
            idle_timeout: v.positive_seconds("HTTP_IDLE_TIMEOUT", 75)?,
            body_timeout: v.positive_seconds("HTTP_BODY_TIMEOUT", 60)?,
            max_connections: v.parse(
                "HTTP_MAX_CONNECTIONS",
                default_max,
                "a number of connections",
            )?,
            max_connections_per_ip: v.parse(
                "HTTP_MAX_CONNECTIONS_PER_IP",
                256,
                "a number of connections",
            )?,
        })
    }

    fn diary(v: &Vars<'_>) -> Result<DiaryConfig, ConfigError> {
        let time_zone = match v.string("DIARY_TIME_ZONE") {
            None => chrono_tz::Asia::Seoul,
            Some(name) => name.parse().map_err(|_| {
                ConfigError::new(
                    "DIARY_TIME_ZONE",
                    format!("'{name}' is not an IANA time zone (e.g. Asia/Seoul)"),
                )
            })?,
        };
        let positive = |name: &str, default: usize| -> Result<usize, ConfigError> {
            let n: usize = v.parse(name, default, "a number of characters")?;
            if n == 0 {
                return Err(ConfigError::new(name, "must be at least 1"));
            }
            Ok(n)
        };
        Ok(DiaryConfig {
            time_zone,
            view_window: v.seconds("DIARY_VIEW_WINDOW", 600)?,
            content_max_chars: positive("DIARY_CONTENT_MAX_LENGTH", 20_000)?,
            comment_max_chars: positive("COMMENT_MAX_LENGTH", 200)?,
        })
    }

    fn admin(v: &Vars<'_>) -> Result<Option<AdminConfig>, ConfigError> {
        let (username, password_hash) =
            match (v.string("ADMIN_USERNAME"), v.string("ADMIN_PASSWORD_HASH")) {
                (None, None) => return Ok(None),
                (Some(u), Some(h)) => (u, h),
                (None, Some(_)) => {
                    return Err(ConfigError::new(
                        "ADMIN_USERNAME",
                        "is needed with ADMIN_PASSWORD_HASH (the Admin UI's login)",
                    ));
                }
                (Some(_), None) => {
                    return Err(ConfigError::new(
                        "ADMIN_PASSWORD_HASH",
                        "is needed with ADMIN_USERNAME: a bcrypt hash of the Admin UI's password",
                    ));
                }
            };
        if password_hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(ConfigError::new(
                "ADMIN_PASSWORD_HASH",
                "is not a bcrypt hash ($2b$…); make one with `ninecloud hash-password`",
            ));
        }
        let development = match v.string("ADMIN_MODE").as_deref() {
            None => false,
            Some(m) if m.eq_ignore_ascii_case("production") => false,
            Some(m) if m.eq_ignore_ascii_case("development") => true,
            Some(m) => {
                return Err(ConfigError::new(
                    "ADMIN_MODE",
                    format!("'{m}' is neither production nor development"),
                ));
            }
        };
        let ui_origins = v.origins("ADMIN_UI_ORIGINS", &["https://admin.socket.io"], false)?;
        let login_attempts_per_minute: u32 = v.parse(
            "ADMIN_LOGIN_ATTEMPTS_PER_MINUTE",
            5,
            "a number of attempts per minute",
        )?;
        if login_attempts_per_minute == 0 {
            return Err(ConfigError::new(
                "ADMIN_LOGIN_ATTEMPTS_PER_MINUTE",
                "must be at least 1",
            ));
        }
        Ok(Some(AdminConfig {
            username,
            password_hash,
            development,
            readonly: v.bool("ADMIN_READONLY", false)?,
            server_id: v.string("ADMIN_SERVER_ID"),
            ui_origins,
            session_ttl: v.positive_seconds("ADMIN_SESSION_TTL", 86_400)?,
            login_attempts_per_minute,
        }))
    }

    fn redis(v: &Vars<'_>) -> Result<Option<String>, ConfigError> {
        let (var, mut url) = if let Some(u) = v.string("REDIS_URL") {
            ("REDIS_URL", u)
        } else if let Some(host) = v.string("REDIS_HOST") {
            let port: u16 = v.parse("REDIS_PORT", 6379, "a port number")?;
            let auth = match v.string("REDIS_PASSWORD") {
                Some(p) => format!(
                    ":{}@",
                    url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>()
                ),
                None => String::new(),
            };
            ("REDIS_HOST", format!("redis://{auth}{host}:{port}"))
        } else {
            return Ok(None);
        };
        let mut parsed = url::Url::parse(&url).map_err(|e| {
            ConfigError::new(var, format!("'{}' is not a URL: {e}", redact_url(&url)))
        })?;
        if !["redis", "rediss", "valkey", "valkeys"].contains(&parsed.scheme()) {
            return Err(ConfigError::new(var, "must be a redis:// or rediss:// URL"));
        }
        // The adapter speaks RESP3, and the redis crate only understands the lower-case value.
        let others: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("protocol"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        parsed
            .query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .append_pair("protocol", "resp3");
        url = parsed.to_string();
        Ok(Some(url))
    }

    fn mongo(v: &Vars<'_>) -> Result<Option<String>, ConfigError> {
        let Some(url) = v.string("MONGO_DB") else {
            return Ok(None);
        };
        if !(url.starts_with("mongodb://") || url.starts_with("mongodb+srv://")) {
            return Err(ConfigError::new(
                "MONGO_DB",
                "must be a mongodb:// or mongodb+srv:// URI",
            ));
        }
        Ok(Some(url))
    }

    fn realtime(v: &Vars<'_>) -> Result<RealtimeConfig, ConfigError> {
        let positive = |name: &str, default: usize, what: &str| -> Result<usize, ConfigError> {
            let n: usize = v.parse(name, default, what)?;
            if n == 0 {
                return Err(ConfigError::new(name, "must be at least 1"));
            }
            Ok(n)
        };
        let history_max = positive("CHAT_HISTORY_MAX", 500, "a number of messages")?;
        let messages_per_minute: u32 = v.parse(
            "CHAT_RATE_LIMIT_PER_MINUTE",
            120,
            "a number of messages per minute",
        )?;
        Ok(RealtimeConfig {
            ping_interval: v.positive_seconds("SOCKET_PING_INTERVAL", 25)?,
            ping_timeout: v.positive_seconds("SOCKET_PING_TIMEOUT", 20)?,
            max_payload: positive("SOCKET_MAX_PAYLOAD", 1_000_000, "a size in bytes")? as u64,
            socket_buffer: positive("SOCKET_BUFFER_SIZE", 4096, "a number of packets")?,
            max_sessions_per_ip: v.parse("SOCKET_MAX_PER_IP", 100, "a number of sessions")?,
            max_sessions: v.parse("SOCKET_MAX_CONNECTIONS", 20_000, "a number of sessions")?,
            ws_read_buffer: positive("SOCKET_WS_READ_BUFFER", 1024, "a size in bytes")?,
            max_message_chars: positive("CHAT_MAX_LENGTH", 1000, "a number of characters")?,
            messages_per_minute,
            message_burst: positive("CHAT_RATE_BURST", 20, "a number of messages")? as u32,
            // Four times the per-user rate unless set: off when the per-user limit is off.
            messages_per_minute_per_ip: v.parse(
                "CHAT_RATE_LIMIT_PER_IP_PER_MINUTE",
                messages_per_minute.saturating_mul(4),
                "a number of messages per minute",
            )?,
            allow_anonymous: v.bool("CHAT_ALLOW_ANONYMOUS", true)?,
            history_page: positive("CHAT_HISTORY_PAGE", 50, "a number of messages")?
                .min(history_max),
            history_max,
            write_queue: crate::store::writer::QueueLimits {
                capacity: positive("CHAT_WRITE_QUEUE", 10_000, "a number of messages")?,
                batch: write_batch(positive("CHAT_WRITE_BATCH", 1024, "a number of messages")?)?,
            },
        })
    }

    fn mail(v: &Vars<'_>) -> Result<MailConfig, ConfigError> {
        let from = v.string("MAILER_EMAIL");
        let password = v.string("MAILER_PASSWORD");
        let host = v.string("SMTP_HOST");
        // The original sent through Gmail with MAILER_EMAIL/MAILER_PASSWORD and no host setting.
        let host = match (host, &from, &password) {
            (Some(h), _, _) => h,
            (None, Some(_), Some(_)) => "smtp.gmail.com".to_string(),
            _ => return Ok(MailConfig::Log),
        };
        let tls = match v
            .string("SMTP_TLS")
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("tls") => SmtpTls::Tls,
            Some("starttls") => SmtpTls::StartTls,
            Some("none") => SmtpTls::None,
            Some(other) => {
                return Err(ConfigError::new(
                    "SMTP_TLS",
                    format!("'{other}' is not one of none, starttls, tls"),
                ));
            }
        };
        let default_port = match tls {
            SmtpTls::Tls => 465,
            SmtpTls::StartTls => 587,
            SmtpTls::None => 25,
        };
        let port = v.parse("SMTP_PORT", default_port, "a port number")?;
        let from = from.unwrap_or_else(|| "no-reply@ninecloud.local".to_string());
        if from.parse::<lettre::Address>().is_err() {
            return Err(ConfigError::new(
                "MAILER_EMAIL",
                format!("'{from}' is not an e-mail address"),
            ));
        }
        let username = v.string("SMTP_USERNAME").or_else(|| {
            // Gmail-style setups log in with the sender address.
            password.as_ref().map(|_| from.clone())
        });
        Ok(MailConfig::Smtp {
            host,
            port,
            tls,
            username,
            password,
            from,
        })
    }

    fn objects(v: &Vars<'_>, data_dir: &std::path::Path) -> Result<ObjectStoreConfig, ConfigError> {
        match v.string("S3_BUCKET") {
            None => Ok(ObjectStoreConfig::Local {
                dir: v
                    .string("UPLOAD_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("uploads")),
            }),
            Some(bucket) => {
                let endpoint = v.string("S3_ENDPOINT");
                if let Some(e) = &endpoint {
                    v.url("S3_ENDPOINT", e)?;
                }
                let public_url = v.string("S3_PUBLIC_URL");
                if let Some(u) = &public_url {
                    v.url("S3_PUBLIC_URL", u)?;
                }
                // The original used a second key pair for profile pictures; either pair works.
                let access_key = v
                    .first(&["S3_ACCESS_KEY", "S3_ACCESS_KEY2", "AWS_ACCESS_KEY_ID"])
                    .map(|(_, v)| v);
                let secret_key = v
                    .first(&[
                        "S3_SECRET_ACCESS_KEY",
                        "S3_SECRET_ACCESS_KEY2",
                        "AWS_SECRET_ACCESS_KEY",
                    ])
                    .map(|(_, v)| v);
                if access_key.is_some() != secret_key.is_some() {
                    return Err(ConfigError::new(
                        "S3_SECRET_ACCESS_KEY",
                        "S3_ACCESS_KEY and S3_SECRET_ACCESS_KEY must be set together",
                    ));
                }
                Ok(ObjectStoreConfig::S3 {
                    bucket,
                    region: v
                        .string("S3_REGION")
                        .unwrap_or_else(|| "ap-northeast-2".into()),
                    endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
                    access_key,
                    secret_key,
                    public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
                })
            }
        }
    }

    fn provider(v: &Vars<'_>, p: Provider) -> Result<Option<ProviderConfig>, ConfigError> {
        let pre = p.env_prefix();
        let Some(client_id) = v.string(&format!("{pre}_CLIENT_ID")) else {
            return Ok(None);
        };
        let redirect_names: Vec<String> = match p {
            // The original backend read Google's redirect URI under the front end's name.
            Provider::Google => vec![
                "GOOGLE_REDIRECT_URI".into(),
                "REACT_APP_GOOGLE_AUTH_REDIRECT_URI".into(),
            ],
            _ => vec![format!("{pre}_REDIRECT_URI")],
        };
        let names: Vec<&str> = redirect_names.iter().map(String::as_str).collect();
        let Some((redirect_var, redirect_uri)) = v.first(&names) else {
            return Err(ConfigError::new(
                &redirect_names[0],
                format!("is required when {pre}_CLIENT_ID is set"),
            ));
        };
        v.url(&redirect_var, &redirect_uri)?;
        let (auth_default, token_default, userinfo_default) = p.defaults();
        let endpoint = |suffix: &str, default: &str| -> Result<String, ConfigError> {
            let var = format!("{pre}_{suffix}");
            match v.string(&var) {
                Some(u) => {
                    v.url(&var, &u)?;
                    Ok(u)
                }
                None if !default.is_empty() => Ok(default.to_string()),
                None => Err(ConfigError::new(
                    &var,
                    format!("is required when {pre}_CLIENT_ID is set"),
                )),
            }
        };
        let auth_url = endpoint("AUTH_URL", auth_default)?;
        let token_url = endpoint("TOKEN_URL", token_default)?;
        let userinfo_url = endpoint("USERINFO_URL", userinfo_default)?;
        let emails_url = if p == Provider::Github {
            Some(endpoint(
                "EMAILS_URL",
                "https://api.github.com/user/emails",
            )?)
        } else {
            None
        };
        Ok(Some(ProviderConfig {
            client_id,
            client_secret: v.string(&format!("{pre}_CLIENT_SECRET")),
            redirect_uri,
            auth_url,
            token_url,
            userinfo_url,
            emails_url,
        }))
    }

    pub fn listen_addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The most messages one chat-log transaction may hold: a batch is one multi-row INSERT of nine
/// values a row, and SQLite binds at most 32,766 values in a statement (PostgreSQL and MySQL
/// 65,535).
const MAX_WRITE_BATCH: usize = 2048;

fn write_batch(n: usize) -> Result<usize, ConfigError> {
    if n > MAX_WRITE_BATCH {
        return Err(ConfigError::new(
            "CHAT_WRITE_BATCH",
            format!("must be at most {MAX_WRITE_BATCH} (one transaction's multi-row insert)"),
        ));
    }
    Ok(n)
}

/// The soft limit on open files of this process, where the platform tells.
fn open_file_limit() -> Option<usize> {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        limit.current.map(|n| n as usize)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// `scheme://user:***@host/db` for logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Bounds on what one upload may make the server decode (`IMAGE_MAX_PIXELS`,
/// `PROFILE_IMAGE_MAX_SIDE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Width × height of the largest image decoded; a larger one is refused before its pixels
    /// are read (a few KB of PNG can claim gigabytes of them).
    pub max_pixels: u64,
    pub profile_max_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_pixels: 24_000_000,
            profile_max_side: 512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_source(&map)
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = load(&[]).unwrap();
        assert_eq!(c.port, 3000);
        assert!(c.database_url.starts_with("sqlite://"));
        assert!(matches!(c.mail, MailConfig::Log));
        assert!(matches!(c.objects, ObjectStoreConfig::Local { .. }));
        assert_eq!(c.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(604_800));
        assert!(
            c.cors_origins
                .contains(&"http://localhost:3001".to_string())
        );
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = load(&[("PORT", "eighty")]).unwrap_err();
        assert_eq!(e.var, "PORT");
        assert!(e.to_string().contains("PORT"), "{e}");
        let e = load(&[("SMTP_HOST", "x"), ("SMTP_TLS", "maybe")]).unwrap_err();
        assert_eq!(e.var, "SMTP_TLS");
        let e = load(&[("DATABASE_URL", "oracle://x")]).unwrap_err();
        assert_eq!(e.var, "DATABASE_URL");
        let e = load(&[("KAKAO_CLIENT_ID", "abc")]).unwrap_err();
        assert_eq!(e.var, "KAKAO_REDIRECT_URI");
    }

    #[test]
    fn the_admin_ui_is_off_unless_both_login_settings_are_set() {
        assert!(load(&[]).unwrap().admin.is_none());
        let hash = "$2b$10$fGB9dzToCOWOHj4xlDMakuhRPZt3xsym6t2FXtHUQuEFk3BKw4sjC";
        let e = load(&[("ADMIN_USERNAME", "ops")]).unwrap_err();
        assert_eq!(e.var, "ADMIN_PASSWORD_HASH");
        let e = load(&[("ADMIN_PASSWORD_HASH", hash)]).unwrap_err();
        assert_eq!(e.var, "ADMIN_USERNAME");
        let e = load(&[
            ("ADMIN_USERNAME", "ops"),
            ("ADMIN_PASSWORD_HASH", "hunter2"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "ADMIN_PASSWORD_HASH");
        let pair = [("ADMIN_USERNAME", "ops"), ("ADMIN_PASSWORD_HASH", hash)];
        let a = load(&pair).unwrap().admin.unwrap();
        assert!(!a.development && !a.readonly);
        assert_eq!(a.ui_origins, ["https://admin.socket.io"]);
        assert_eq!(a.session_ttl, Duration::from_secs(86_400));
        let e = load(&[pair[0], pair[1], ("ADMIN_MODE", "staging")]).unwrap_err();
        assert_eq!(e.var, "ADMIN_MODE");
        let a = load(&[pair[0], pair[1], ("ADMIN_MODE", "development")])
            .unwrap()
            .admin
            .unwrap();
        assert!(a.development);
        let a = load(&[
            pair[0],
            pair[1],
            (
                "ADMIN_UI_ORIGINS",
                "http://127.0.0.1:8080/, https://ops.example",
            ),
        ])
        .unwrap()
        .admin
        .unwrap();
        assert_eq!(
            a.ui_origins,
            ["http://127.0.0.1:8080", "https://ops.example"]
        );
        // `*` is for CORS_ORIGINS only.
        let e = load(&[pair[0], pair[1], ("ADMIN_UI_ORIGINS", "*")]).unwrap_err();
        assert_eq!(e.var, "ADMIN_UI_ORIGINS");
        assert_eq!(load(&[("CORS_ORIGINS", "*")]).unwrap().cors_origins, ["*"]);
    }

    #[test]
    fn a_chat_log_batch_fits_one_insert() {
        assert_eq!(load(&[]).unwrap().realtime.write_queue.batch, 1024);
        let c = load(&[("CHAT_WRITE_BATCH", "2048")]).unwrap();
        assert_eq!(c.realtime.write_queue.batch, 2048);
        let e = load(&[("CHAT_WRITE_BATCH", "4096")]).unwrap_err();
        assert_eq!(e.var, "CHAT_WRITE_BATCH");
        assert!(e.to_string().contains("at most 2048"), "{e}");
    }

    #[test]
    fn redis_and_mongo_settings() {
        let c = load(&[]).unwrap();
        assert!(c.redis_url.is_none() && c.mongo_url.is_none());
        assert_eq!(c.realtime.max_payload, 1_000_000);
        assert_eq!(c.realtime.ping_interval, Duration::from_secs(25));
        let c = load(&[
            ("REDIS_HOST", "cache.internal"),
            ("REDIS_PORT", "6380"),
            ("REDIS_PASSWORD", "p@ss"),
        ])
        .unwrap();
        assert_eq!(
            c.redis_url.as_deref(),
            Some("redis://:p%40ss@cache.internal:6380?protocol=resp3")
        );
        let c = load(&[("REDIS_URL", "redis://127.0.0.1:6379/0?protocol=RESP3")]).unwrap();
        assert_eq!(
            c.redis_url.as_deref(),
            Some("redis://127.0.0.1:6379/0?protocol=resp3")
        );
        assert_eq!(
            load(&[("REDIS_URL", "http://x")]).unwrap_err().var,
            "REDIS_URL"
        );
        assert_eq!(
            load(&[("MONGO_DB", "mysql://x")]).unwrap_err().var,
            "MONGO_DB"
        );
        assert_eq!(
            load(&[("SOCKET_MAX_PAYLOAD", "0")]).unwrap_err().var,
            "SOCKET_MAX_PAYLOAD"
        );
    }

    #[test]
    fn original_env_names_keep_working() {
        let c = load(&[
            ("MAILER_EMAIL", "nine@gmail.com"),
            ("MAILER_PASSWORD", "app-password"),
            ("GOOGLE_CLIENT_ID", "gid"),
            ("GOOGLE_CLIENT_SECRET", "gsecret"),
            (
                "REACT_APP_GOOGLE_AUTH_REDIRECT_URI",
                "http://localhost:3000/auth/google/callback",
            ),
            ("S3_BUCKET", "finaldrawings"),
            ("S3_ACCESS_KEY2", "ak"),
            ("S3_SECRET_ACCESS_KEY2", "sk"),
        ])
        .unwrap();
        match &c.mail {
            MailConfig::Smtp {
                host, port, tls, ..
            } => {
                assert_eq!(host, "smtp.gmail.com");
                assert_eq!(*port, 465);
                assert_eq!(*tls, SmtpTls::Tls);
            }
            MailConfig::Log => panic!("expected SMTP"),
        }
        let g = &c.oauth.providers[&Provider::Google];
        assert_eq!(g.redirect_uri, "http://localhost:3000/auth/google/callback");
        assert_eq!(g.token_url, "https://oauth2.googleapis.com/token");
        assert!(matches!(
            &c.objects,
            ObjectStoreConfig::S3 { access_key: Some(a), .. } if a == "ak"
        ));
    }
}
