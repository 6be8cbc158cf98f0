//! Who is on a socket, decided once at connect.
//!
//! socket.io-client 3+/4 sends `auth: {token}` in the handshake; socket.io-client 2 (Engine.IO v3)
//! cannot, so the token may also come as `?token=` in the query string. A token that does not
//! verify refuses the connection with a message the client reads in `connect_error` (v2: `error`).
//! No token at all makes a guest, allowed only in the NINE Cloud community chat and only when
//! `CHAT_ALLOW_ANONYMOUS` is on.

use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};

use super::core::{Ctx, Identity};
use crate::store::accounts;
use crate::tokens::TokenError;

/// A refused handshake; the text is what the client's `connect_error` carries.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn token_from_query(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

fn strip_bearer(token: &str) -> &str {
    let t = token.trim();
    t.strip_prefix("Bearer ").map(str::trim).unwrap_or(t)
}

/// Connect middleware: decides the socket's `Identity` and keeps it in its extensions.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    State(ctx): State<Ctx>,
    TryData(auth): TryData<serde_json::Value>,
) -> Result<(), Refused> {
    let from_auth = auth
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string));
    let token = from_auth
        .or_else(|| token_from_query(socket.req_parts().uri.query()))
        .filter(|t| !t.trim().is_empty());
    let identity = match token {
        None if ctx.app.config.realtime.allow_anonymous => Identity::Guest,
        None => {
            return Err(Refused(
                "로그인이 필요합니다. (send the access token as auth.token)".into(),
            ));
        }
        Some(token) => {
            let claims = ctx
                .app
                .tokens
                .verify_access(strip_bearer(&token))
                .map_err(|e| {
                    Refused(
                        match e {
                            TokenError::Expired => "AccessToken이 만료되었습니다.",
                            TokenError::WrongKind => "AccessToken이 아닙니다.",
                            TokenError::Invalid => "유효하지 않은 토큰입니다.",
                        }
                        .into(),
                    )
                })?;
            let user = accounts::find_user(&ctx.app.db, claims.user_id)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "socket authentication: database unavailable");
                    Refused("server busy, try again".into())
                })?
                .ok_or_else(|| Refused("토큰 사용자가 존재하지 않습니다.".into()))?;
            if !claims.is_current(user.token_generation) {
                return Err(Refused("AccessToken이 만료되었습니다.".into()));
            }
            Identity::User {
                id: user.id,
                username: user.username,
            }
        }
    };
    socket.extensions.insert(identity);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_query_or_with_a_bearer_prefix() {
        assert_eq!(
            token_from_query(Some("EIO=3&transport=polling&token=abc.def")).as_deref(),
            Some("abc.def")
        );
        assert_eq!(token_from_query(Some("EIO=4")), None);
        assert_eq!(strip_bearer("Bearer xyz "), "xyz");
        assert_eq!(strip_bearer("xyz"), "xyz");
    }
}
