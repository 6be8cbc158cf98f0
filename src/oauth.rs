//! Social login: the authorization-code exchange (through the `oauth2` crate) and the profile
//! request, for Kakao, Google, Naver, GitHub and any OpenID Connect provider.
//!
//! Only a **verified** e-mail address identifies a person: a provider answer without one is
//! refused, so it can never match somebody else's account (contract §4.4, §11.19).

use std::collections::HashMap;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, RedirectUrl, RequestTokenError,
    TokenResponse, TokenUrl,
};
use serde_json::Value;

use crate::config::{OAuthConfig, Provider, ProviderConfig};

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0} login is not configured on this server")]
    NotConfigured(&'static str),
    /// The provider refused the code (used, expired, or for another client).
    #[error("the provider refused the authorization code: {0}")]
    CodeRejected(String),
    #[error("the provider did not share a verified e-mail address")]
    NoVerifiedEmail,
    #[error("the provider could not be reached or answered unexpectedly: {0}")]
    Provider(String),
}

/// What we take from a provider's profile.
#[derive(Debug, Clone)]
pub struct SocialProfile {
    pub email: String,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub subject: String,
}

pub struct OAuthClients {
    providers: HashMap<Provider, ProviderConfig>,
    http: reqwest::Client,
}

impl OAuthClients {
    pub fn new(cfg: &OAuthConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Never follow redirects on the token endpoint (SSRF hardening, as oauth2 advises).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .user_agent("ninecloud")
            .build()?;
        Ok(Self {
            providers: cfg.providers.clone(),
            http,
        })
    }

    pub fn is_enabled(&self, p: Provider) -> bool {
        self.providers.contains_key(&p)
    }

    /// Exchanges `code` and returns the person's profile with a verified e-mail.
    pub async fn login(
        &self,
        provider: Provider,
        code: &str,
        state: Option<&str>,
    ) -> Result<SocialProfile, OAuthError> {
        let cfg = self
            .providers
            .get(&provider)
            .ok_or(OAuthError::NotConfigured(provider.name()))?;
        let access_token = self.exchange(cfg, code, state).await?;
        let profile = self.get_json(&cfg.userinfo_url, &access_token).await?;
        match provider {
            Provider::Kakao => kakao_profile(&profile),
            Provider::Google => google_profile(&profile),
            Provider::Naver => naver_profile(&profile),
            Provider::Oidc => oidc_profile(&profile),
            Provider::Github => {
                let emails_url = cfg.emails_url.as_deref().unwrap_or_default();
                let emails = self.get_json(emails_url, &access_token).await?;
                github_profile(&profile, &emails)
            }
        }
    }

    async fn exchange(
        &self,
        cfg: &ProviderConfig,
        code: &str,
        state: Option<&str>,
    ) -> Result<String, OAuthError> {
        let bad = |e: url::ParseError| OAuthError::Provider(e.to_string());
        let mut client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
            .set_auth_uri(AuthUrl::new(cfg.auth_url.clone()).map_err(bad)?)
            .set_token_uri(TokenUrl::new(cfg.token_url.clone()).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(cfg.redirect_uri.clone()).map_err(bad)?)
            // Kakao and Naver read the client credentials from the form body only.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &cfg.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.clone()));
        }
        let mut req = client.exchange_code(AuthorizationCode::new(code.to_string()));
        if let Some(s) = state {
            // Naver wants the state echoed to the token endpoint.
            req = req.add_extra_param("state", s.to_string());
        }
        match req.request_async(&self.http).await {
            Ok(tok) => Ok(tok.access_token().secret().clone()),
            Err(RequestTokenError::ServerResponse(r)) => {
                Err(OAuthError::CodeRejected(r.error().to_string()))
            }
            Err(RequestTokenError::Parse(e, body)) => {
                // Naver answers a bad code with 200 and {"error": ...}.
                let text = String::from_utf8_lossy(&body);
                if text.contains("\"error\"") {
                    Err(OAuthError::CodeRejected(text.chars().take(200).collect()))
                } else {
                    Err(OAuthError::Provider(format!(
                        "unreadable token answer: {e}"
                    )))
                }
            }
            Err(e) => Err(OAuthError::Provider(e.to_string())),
        }
    }

    async fn get_json(&self, url: &str, token: &str) -> Result<Value, OAuthError> {
        let res = self
            .http
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| OAuthError::Provider(e.to_string()))?;
        let status = res.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(OAuthError::CodeRejected(
                "profile request unauthorized".into(),
            ));
        }
        if !status.is_success() {
            return Err(OAuthError::Provider(format!("{url} answered {status}")));
        }
        res.json()
            .await
            .map_err(|e| OAuthError::Provider(e.to_string()))
    }
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(x) if !x.trim().is_empty() => Some(x.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn b(v: &Value, path: &[&str]) -> Option<bool> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_bool()
}

fn verified(email: Option<String>, verified: bool) -> Result<String, OAuthError> {
    match email {
        Some(e) if verified => Ok(e),
        _ => Err(OAuthError::NoVerifiedEmail),
    }
}

fn kakao_profile(v: &Value) -> Result<SocialProfile, OAuthError> {
    let ok = b(v, &["kakao_account", "is_email_verified"]) == Some(true)
        && b(v, &["kakao_account", "is_email_valid"]) != Some(false);
    Ok(SocialProfile {
        email: verified(s(v, &["kakao_account", "email"]), ok)?,
        name: s(v, &["properties", "nickname"])
            .or_else(|| s(v, &["kakao_account", "profile", "nickname"])),
        picture: s(v, &["properties", "profile_image"])
            .or_else(|| s(v, &["kakao_account", "profile", "profile_image_url"])),
        subject: s(v, &["id"]).unwrap_or_default(),
    })
}

fn google_profile(v: &Value) -> Result<SocialProfile, OAuthError> {
    // v2/userinfo says verified_email, the OIDC userinfo says email_verified.
    let ok = b(v, &["verified_email"]) == Some(true) || b(v, &["email_verified"]) == Some(true);
    Ok(SocialProfile {
        email: verified(s(v, &["email"]), ok)?,
        name: s(v, &["name"]),
        picture: s(v, &["picture"]),
        subject: s(v, &["id"]).or_else(|| s(v, &["sub"])).unwrap_or_default(),
    })
}

fn naver_profile(v: &Value) -> Result<SocialProfile, OAuthError> {
    // Naver only hands out the address of the Naver account itself, which Naver has verified.
    Ok(SocialProfile {
        email: verified(s(v, &["response", "email"]), true)?,
        name: s(v, &["response", "name"]).or_else(|| s(v, &["response", "nickname"])),
        picture: s(v, &["response", "profile_image"]),
        subject: s(v, &["response", "id"]).unwrap_or_default(),
    })
}

fn oidc_profile(v: &Value) -> Result<SocialProfile, OAuthError> {
    Ok(SocialProfile {
        email: verified(s(v, &["email"]), b(v, &["email_verified"]) == Some(true))?,
        name: s(v, &["name"]).or_else(|| s(v, &["preferred_username"])),
        picture: s(v, &["picture"]),
        subject: s(v, &["sub"]).unwrap_or_default(),
    })
}

fn github_profile(user: &Value, emails: &Value) -> Result<SocialProfile, OAuthError> {
    let primary = emails.as_array().and_then(|list| {
        list.iter()
            .find(|e| b(e, &["primary"]) == Some(true) && b(e, &["verified"]) == Some(true))
            .or_else(|| list.iter().find(|e| b(e, &["verified"]) == Some(true)))
    });
    Ok(SocialProfile {
        email: verified(primary.and_then(|e| s(e, &["email"])), primary.is_some())?,
        name: s(user, &["name"]).or_else(|| s(user, &["login"])),
        picture: s(user, &["avatar_url"]),
        subject: s(user, &["id"]).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_verified_email_no_login() {
        let no_email = json!({"id": 1, "kakao_account": {}, "properties": {"nickname": "a"}});
        assert!(matches!(
            kakao_profile(&no_email),
            Err(OAuthError::NoVerifiedEmail)
        ));
        let unverified =
            json!({"id": 1, "kakao_account": {"email": "a@b.com", "is_email_verified": false}});
        assert!(matches!(
            kakao_profile(&unverified),
            Err(OAuthError::NoVerifiedEmail)
        ));
        let google = json!({"id": "9", "email": "a@b.com", "verified_email": false});
        assert!(matches!(
            google_profile(&google),
            Err(OAuthError::NoVerifiedEmail)
        ));
        let gh = json!([{"email": "a@b.com", "primary": true, "verified": false}]);
        assert!(matches!(
            github_profile(&json!({"id": 3}), &gh),
            Err(OAuthError::NoVerifiedEmail)
        ));
        let naver = json!({"resultcode": "00", "response": {"id": "x", "name": "n"}});
        assert!(matches!(
            naver_profile(&naver),
            Err(OAuthError::NoVerifiedEmail)
        ));
    }

    #[test]
    fn profiles_are_read_from_each_shape() {
        let k = json!({"id": 42, "kakao_account": {"email": "k@b.com", "is_email_verified": true, "is_email_valid": true},
                       "properties": {"nickname": "카카오", "profile_image": "http://img/k.png"}});
        let p = kakao_profile(&k).unwrap();
        assert_eq!(
            (p.email.as_str(), p.name.as_deref(), p.subject.as_str()),
            ("k@b.com", Some("카카오"), "42")
        );
        let gh = json!([{"email": "x@b.com", "primary": false, "verified": true}, {"email": "p@b.com", "primary": true, "verified": true}]);
        assert_eq!(
            github_profile(&json!({"id": 3, "login": "octo"}), &gh)
                .unwrap()
                .email,
            "p@b.com"
        );
    }
}
