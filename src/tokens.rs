//! HS256 JWTs with the original payload `{userId, iat, exp}` (contract §3).
//!
//! Refresh tokens carry `typ: "refresh"` and a random `jti`, and are recorded (hashed) in the
//! database: one cannot be used as an access token, and logging out revokes it.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "userId")]
    pub user_id: i64,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Access tokens: the user's token generation when it was issued (absent reads as 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

impl Claims {
    /// Whether this access token was issued in the user's current generation.
    pub fn is_current(&self, user_generation: i64) -> bool {
        self.generation.unwrap_or(0) == user_generation
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
    /// A valid token of the other kind (a refresh token offered as an access token, ...).
    WrongKind,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

pub struct IssuedRefresh {
    pub token: String,
    pub hash: String,
    pub expires_at: chrono::NaiveDateTime,
}

/// What is stored for a refresh token: never the token itself.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Tokens {
    pub fn new(secret: &str, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            access_ttl,
            refresh_ttl,
        }
    }

    fn sign(&self, claims: &Claims) -> String {
        // Signing an HS256 token with a valid key cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    pub fn issue_access(&self, user_id: i64, generation: i64) -> String {
        let iat = chrono::Utc::now().timestamp();
        self.sign(&Claims {
            user_id,
            iat,
            exp: iat + self.access_ttl.as_secs() as i64,
            typ: None,
            jti: None,
            generation: (generation != 0).then_some(generation),
        })
    }

    pub fn issue_refresh(&self, user_id: i64) -> IssuedRefresh {
        let now = chrono::Utc::now();
        let exp = now.timestamp() + self.refresh_ttl.as_secs() as i64;
        let token = self.sign(&Claims {
            user_id,
            iat: now.timestamp(),
            exp,
            typ: Some("refresh".into()),
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
            generation: None,
        });
        IssuedRefresh {
            hash: hash_token(&token),
            token,
            expires_at: chrono::DateTime::from_timestamp(exp, 0)
                .unwrap_or(now)
                .naive_utc(),
        }
    }

    fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }

    pub fn verify_access(&self, token: &str) -> Result<Claims, TokenError> {
        let c = self.verify(token)?;
        if c.typ.is_some() {
            return Err(TokenError::WrongKind);
        }
        Ok(c)
    }

    /// A session id for the Socket.IO Admin UI: signed, so every instance sharing
    /// `SECRET_KEY` accepts it without a session store; `fingerprint` ties it to the admin
    /// password of the day (a new `ADMIN_PASSWORD_HASH` ends every session).
    pub fn issue_admin_session(&self, fingerprint: &str, ttl: Duration) -> String {
        let iat = chrono::Utc::now().timestamp();
        self.sign(&Claims {
            user_id: 0,
            iat,
            exp: iat + ttl.as_secs() as i64,
            typ: Some("admin".into()),
            jti: Some(fingerprint.to_string()),
            generation: None,
        })
    }

    pub fn verify_admin_session(&self, token: &str, fingerprint: &str) -> bool {
        self.verify(token).is_ok_and(|c| {
            c.typ.as_deref() == Some("admin") && c.jti.as_deref() == Some(fingerprint)
        })
    }

    pub fn verify_refresh(&self, token: &str) -> Result<Claims, TokenError> {
        let c = self.verify(token)?;
        if c.typ.as_deref() != Some("refresh") {
            return Err(TokenError::WrongKind);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_do_not_mix() {
        let t = Tokens::new(
            "0123456789abcdef",
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        let access = t.issue_access(7, 0);
        let refresh = t.issue_refresh(7);
        assert_eq!(t.verify_access(&access).unwrap().user_id, 7);
        assert_eq!(t.verify_refresh(&refresh.token).unwrap().user_id, 7);
        assert_eq!(
            t.verify_access(&refresh.token).unwrap_err(),
            TokenError::WrongKind
        );
        assert_eq!(
            t.verify_refresh(&access).unwrap_err(),
            TokenError::WrongKind
        );
        let other = Tokens::new(
            "fedcba9876543210",
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        assert_eq!(
            other.verify_access(&access).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            t.verify_access("not.a.jwt").unwrap_err(),
            TokenError::Invalid
        );
    }
}
