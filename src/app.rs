//! The application: every service a handler may need, built once from `Config`.

use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use bytes::Bytes;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::advice::Advisor;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::image::{self, CleanImage, ImageLimits, Purpose};
use crate::hub::Hub;
use crate::mail::{self, Mailer};
use crate::oauth::OAuthClients;
use crate::store::channels;
use crate::store::db::Db;
use crate::store::messages::{self, MessageStore};
use crate::store::objects::{self, ObjectError, ObjectStore};
use crate::tokens::Tokens;

pub struct App {
    pub config: Config,
    /// AI advice on diaries: an OpenAI-compatible API, or the built-in advisor.
    pub advisor: Arc<dyn Advisor>,
    /// Users whose advice is being generated on this instance: one at a time each.
    pub advising: std::sync::Mutex<std::collections::HashSet<i64>>,
    pub db: Db,
    /// The chat log: the relational database, or MongoDB when `MONGO_DB` is set.
    pub messages: Arc<dyn MessageStore>,
    /// The lobby channel (the NINE Cloud community chat).
    pub lobby_id: i64,
    pub objects: Arc<dyn ObjectStore>,
    /// Decodes and re-encodes uploads, a bounded number at a time.
    pub images: Images,
    pub mail: Arc<dyn Mailer>,
    pub oauth: OAuthClients,
    pub tokens: Tokens,
    pub limits: RateLimits,
    /// The diary's clock (the system clock; tests move it).
    pub clock: Clock,
    /// The socket server, once it is attached (see `realtime::attach`).
    hub: OnceLock<Arc<dyn Hub>>,
    draining: AtomicBool,
    /// The metrics listener, bound at start (`METRICS_ADDR`) until the server serves on it.
    metrics_listener: std::sync::Mutex<Option<tokio::net::TcpListener>>,
    metrics_addr: OnceLock<std::net::SocketAddr>,
}

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Connects what needs connecting and runs the database migrations.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let secret = match &config.secret_key {
            Some(k) => k.clone(),
            None => load_or_create_secret(&config.data_dir)?,
        };
        let db = Db::connect(&config.database_url, config.database_pool_size)?;
        let applied = db.migrate().await.with_context(|| {
            format!(
                "database {}",
                crate::config::redact_url(&config.database_url)
            )
        })?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        let lobby_id = channels::lobby(&db)
            .await
            .context("the lobby channel is missing (migrations not applied?)")?
            .id;
        let messages = messages::from_config(
            &db,
            &config.database_url,
            config.mongo_url.as_deref(),
            config.realtime.write_queue,
        )
        .await?;
        let objects = objects::from_config(&config.objects, &config.public_url).await?;
        let mail = mail::from_config(&config.mail)?;
        let oauth = OAuthClients::new(&config.oauth)?;
        let tokens = Tokens::new(&secret, config.access_token_ttl, config.refresh_token_ttl);
        let limits = RateLimits::new(config.auth_rate_limit_per_minute);
        let images = Images::new(&config.images);
        let advisor = crate::advice::from_config(&config.ai)?;
        tracing::info!(
            database = ?db.backend(),
            chat_log = %messages.describe(),
            objects = %objects.describe(),
            mail = %mail.describe(),
            oauth = ?config.oauth.enabled_names(),
            advice = %advisor.describe(),
            "ninecloud configured"
        );
        Ok(App {
            config,
            advisor,
            advising: Default::default(),
            db,
            messages,
            lobby_id,
            objects,
            images,
            mail,
            oauth,
            tokens,
            limits,
            clock: Clock::default(),
            hub: OnceLock::new(),
            draining: AtomicBool::new(false),
            metrics_listener: std::sync::Mutex::new(None),
            metrics_addr: OnceLock::new(),
        })
    }

    /// The socket server; `None` only before `realtime::attach` ran.
    /// Binds the metrics listener (`METRICS_ADDR`): at start, so a taken port is an error then.
    pub async fn bind_metrics(&self) -> anyhow::Result<()> {
        let Some(addr) = self.config.metrics_addr else {
            return Ok(());
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("METRICS_ADDR: cannot listen on {addr}: {e}"))?;
        let _ = self.metrics_addr.set(listener.local_addr()?);
        if let Ok(mut slot) = self.metrics_listener.lock() {
            *slot = Some(listener);
        }
        Ok(())
    }

    /// Where `/metrics` is served, once bound.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_addr.get().copied()
    }

    pub(crate) fn take_metrics_listener(&self) -> Option<tokio::net::TcpListener> {
        self.metrics_listener.lock().ok().and_then(|mut l| l.take())
    }

    pub fn hub(&self) -> Option<&Arc<dyn Hub>> {
        self.hub.get()
    }

    pub fn set_hub(&self, hub: Arc<dyn Hub>) {
        if self.hub.set(hub).is_err() {
            tracing::warn!("the socket server was attached twice; keeping the first");
        }
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}

/// `SECRET_KEY` was not set: use the one kept under the data folder, or make and keep one, so
/// tokens survive a restart.
fn load_or_create_secret(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            tracing::info!(path = %path.display(), "SECRET_KEY not set; using the key kept in the data folder");
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create DATA_DIR {}", data_dir.display()))?;
    let key: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        hex::encode(bytes)
    };
    write_private(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "SECRET_KEY not set; generated a new one and kept it there (set SECRET_KEY to share it between instances)"
    );
    Ok(key)
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())
}

/// Runs `domain::image::clean` on the blocking pool, at most `IMAGE_DECODE_CONCURRENCY` at a
/// time: decoding is CPU work that must not hold up the async workers, and each decode may use
/// up to its limits' memory.
pub struct Images {
    limits: ImageLimits,
    permits: Arc<tokio::sync::Semaphore>,
}

impl Images {
    pub fn new(cfg: &crate::config::ImageConfig) -> Self {
        Self {
            limits: cfg.limits,
            permits: Arc::new(tokio::sync::Semaphore::new(cfg.concurrency)),
        }
    }

    pub async fn clean(&self, bytes: Bytes, purpose: Purpose) -> Result<CleanImage, ObjectError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ObjectError::Backend("image decoding is shut down".into()))?;
        let limits = self.limits;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            image::clean(&bytes, purpose, &limits)
        })
        .await
        .map_err(|e| ObjectError::Backend(format!("image decoding stopped: {e}")))?
    }
}

/// Per-key limits for the endpoints that guess at secrets (sign-in, sign-up, codes).
pub struct RateLimits {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl RateLimits {
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n).allow_burst(n))),
        }
    }

    /// `Err(seconds to wait)` when `key` in `scope` is over its limit.
    pub fn check(&self, scope: &str, key: &str) -> Result<(), u64> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        l.check_key(&format!("{scope}:{key}")).map_err(|not_until| {
            not_until
                .wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ))
                .as_secs()
                + 1
        })
    }

    /// Forgets keys that are back under their limit (called by the periodic job).
    pub fn shrink(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}
