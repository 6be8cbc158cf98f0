//! Object storage for uploaded images: a local folder (embedded default, served by this server
//! under `/uploads/`) or S3 / any S3-compatible store.
//!
//! Keys are always made here (`<area>/<uuid>.<ext>`), never taken from a client's file name, and
//! the type is decided by the file's bytes, not its name.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use crate::config::ObjectStoreConfig;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The upload is not something we store (not an image of an accepted type, empty, ...).
    #[error("{0}")]
    Rejected(String),
    #[error("upload larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// An image within the byte limit whose pixels are over `IMAGE_MAX_PIXELS`.
    #[error("{0}")]
    Oversized(String),
    #[error("object storage: {0}")]
    Backend(String),
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), ObjectError>;
    /// Removes the object; removing one that is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;
    /// The absolute URL clients load the object from.
    fn url_for(&self, key: &str) -> String;
    /// The key of an object this store holds, given the URL it handed out; `None` for any
    /// other URL (a provider's profile picture, the default picture).
    fn key_for_url(&self, url: &str) -> Option<String> {
        let base = self.url_for("");
        let key = url.strip_prefix(&base)?;
        is_valid_key(key).then(|| key.to_string())
    }
    fn describe(&self) -> String;
}

/// The stored type of an image (see `domain::image::clean`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageKind {
    pub extension: &'static str,
    pub mime: &'static str,
}

/// Deletes an image we stored, given the URL we handed out; any other URL (a provider's
/// picture, the default picture) is left alone. Failures are logged, not fatal.
pub async fn forget_image(store: &dyn ObjectStore, url: Option<&str>) {
    if let Some(key) = url.and_then(|u| store.key_for_url(u))
        && let Err(e) = store.delete(&key).await
    {
        tracing::warn!(key, error = %e, "could not delete a stored image");
    }
}

/// A fresh server-made key under `area` (`profiles`, `diaries`).
pub fn new_key(area: &str, kind: ImageKind) -> String {
    format!("{area}/{}.{}", uuid::Uuid::new_v4(), kind.extension)
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && !key.starts_with('/')
        && !key.contains("..")
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
}

pub async fn from_config(
    cfg: &ObjectStoreConfig,
    public_url: &str,
) -> anyhow::Result<std::sync::Arc<dyn ObjectStore>> {
    Ok(match cfg {
        ObjectStoreConfig::Local { dir } => {
            std::sync::Arc::new(LocalStore::new(dir.clone(), public_url)?)
        }
        ObjectStoreConfig::S3 { .. } => std::sync::Arc::new(S3Store::new(cfg).await?),
    })
}

pub struct LocalStore {
    dir: PathBuf,
    base_url: String,
}

impl LocalStore {
    pub fn new(dir: PathBuf, public_url: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("cannot create UPLOAD_DIR {}: {e}", dir.display()))?;
        Ok(Self {
            dir,
            base_url: format!("{}/uploads/", public_url.trim_end_matches('/')),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, ObjectError> {
        if !is_valid_key(key) {
            return Err(ObjectError::Backend(format!("invalid object key {key:?}")));
        }
        Ok(self.dir.join(key))
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), ObjectError> {
        let path = self.path_of(key)?;
        let io = |e: std::io::Error| ObjectError::Backend(format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        // Write beside, then rename: a reader never sees half a file.
        let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
        if let Err(e) = tokio::fs::write(&tmp, &body).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(e));
        }
        tokio::fs::rename(&tmp, &path).await.map_err(io)
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ObjectError::Backend(format!("{}: {e}", path.display()))),
        }
    }

    fn url_for(&self, key: &str) -> String {
        format!("{}{key}", self.base_url)
    }

    fn describe(&self) -> String {
        format!("local folder {}", self.dir.display())
    }
}

pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    base_url: String,
}

impl S3Store {
    pub async fn new(cfg: &ObjectStoreConfig) -> anyhow::Result<Self> {
        let ObjectStoreConfig::S3 {
            bucket,
            region,
            endpoint,
            access_key,
            secret_key,
            public_url,
        } = cfg
        else {
            anyhow::bail!("not an S3 configuration");
        };
        let region = aws_sdk_s3::config::Region::new(region.clone());
        let mut builder = match (access_key, secret_key) {
            (Some(ak), Some(sk)) => aws_sdk_s3::config::Builder::new()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(region.clone())
                .credentials_provider(aws_credential_types::Credentials::new(
                    ak.clone(),
                    sk.clone(),
                    None,
                    None,
                    "ninecloud-config",
                )),
            // No keys configured: the standard AWS chain (environment, web identity, instance role).
            _ => {
                let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(region.clone())
                    .load()
                    .await;
                aws_sdk_s3::config::Builder::from(&shared)
            }
        };
        if let Some(e) = endpoint {
            builder = builder.endpoint_url(e.clone()).force_path_style(true);
        }
        let client = aws_sdk_s3::Client::from_conf(builder.build());
        let base_url = match (public_url, endpoint) {
            (Some(u), _) => format!("{}/", u.trim_end_matches('/')),
            (None, Some(e)) => format!("{}/{bucket}/", e.trim_end_matches('/')),
            (None, None) => format!("https://{bucket}.s3.{}.amazonaws.com/", region.as_ref()),
        };
        Ok(Self {
            client,
            bucket: bucket.clone(),
            base_url,
        })
    }
}

fn s3_error(e: impl std::error::Error) -> ObjectError {
    // The SDK's Display is terse ("service error"); the source chain says what went wrong.
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    ObjectError::Backend(msg)
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), ObjectError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            // As the local folder answers (`http::router`): an image to embed, never a page.
            // S3 has no nosniff; the type is always the one the bytes were encoded as.
            .content_disposition("attachment")
            .cache_control("public, max-age=31536000, immutable")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    fn url_for(&self, key: &str) -> String {
        format!("{}{key}", self.base_url)
    }

    fn describe(&self) -> String {
        format!("S3 bucket {} ({})", self.bucket, self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_server_made_keys_are_accepted() {
        assert!(is_valid_key("profiles/0b6c.png"));
        assert!(!is_valid_key("../etc/passwd"));
        assert!(!is_valid_key("/abs"));
        assert!(!is_valid_key("a b.png"));
    }
}
