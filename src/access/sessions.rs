//! Console sessions: a random 256-bit secret in the browser's cookie, its SHA-256 in the store.
//! Expiry is sliding with an absolute cap: a session ends after `idle` without a request, and
//! in any case `absolute` after sign-in, so a forgotten browser does not stay signed in for ever
//! and a working day needs one sign-in. The CSRF token is derived from the secret (never
//! stored), so it is per session and a copy of the database cannot forge it.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AccessError, tokens};
use crate::{
    domain::{Actor, Via},
    store::sessions as rows,
};

/// A session's last-seen time is written at most this often, so reading pages is not a write each.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// A session ends this long after its last request.
    pub idle: Duration,
    /// And this long after sign-in, whatever happens.
    pub absolute: Duration,
}

/// A new session: the secret for the cookie (shown to the browser only) and when it ends.
pub struct Opened {
    /// The cookie's value.
    pub secret: SecretString,
    /// When it ends unless used (sliding).
    pub expires_at: DateTime<Utc>,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in, with the role their operator row has now.
    pub actor: Actor,
    /// The token forms must send back (derived from the secret).
    pub csrf: String,
    id_hash: String,
}

impl Session {
    /// Whether a presented CSRF token is this session's, compared in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// Opens a session for an operator who just proved who they are.
pub async fn open(db: &DatabaseConnection, actor: &Actor, lifetime: Lifetime) -> Result<Opened, AccessError> {
    let operator = actor.id().ok_or(AccessError::Unauthenticated)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AccessError::Random(e.to_string()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    let expires_at = now + idle_of(lifetime);
    rows::delete_expired(db, now).await?;
    rows::insert(db, &tokens::hash(&secret), operator, now, expires_at).await?;
    tracing::info!(operator = actor.name(), "console session opened");
    Ok(Opened {
        secret: SecretString::from(secret),
        expires_at,
    })
}

/// The live session behind a cookie's secret, its idle deadline moved on.
pub async fn resume(
    db: &DatabaseConnection,
    secret: &SecretString,
    lifetime: Lifetime,
) -> Result<Session, AccessError> {
    let secret = secret.expose_secret();
    if secret.len() != 43 {
        return Err(AccessError::Unauthenticated);
    }
    let id_hash = tokens::hash(secret);
    let now = Utc::now();
    let (session, operator) = rows::live(db, &id_hash, now)
        .await?
        .filter(|(_, operator)| operator.revoked_at.is_none())
        .ok_or(AccessError::Unauthenticated)?;
    let cap = session.created_at + absolute_of(lifetime);
    if now >= cap {
        rows::delete(db, &id_hash).await?;
        return Err(AccessError::Unauthenticated);
    }
    if now.signed_duration_since(session.last_seen_at) >= TOUCH_EVERY {
        let expires_at = (now + idle_of(lifetime)).min(cap);
        rows::touch(db, session, now, expires_at).await?;
    }
    Ok(Session {
        actor: Actor::operator(operator.id, &operator.name, operator.role, Via::Console),
        csrf: csrf_token(secret),
        id_hash,
    })
}

/// Ends a session (logout); whether it was live.
pub async fn close(db: &DatabaseConnection, session: &Session) -> Result<bool, AccessError> {
    let gone = rows::delete(db, &session.id_hash).await?;
    tracing::info!(operator = session.actor.name(), "console session closed");
    Ok(gone)
}

fn csrf_token(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("clientsync-console-csrf:{secret}")))
}

fn idle_of(lifetime: Lifetime) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(lifetime.idle).unwrap_or(chrono::TimeDelta::hours(1))
}

fn absolute_of(lifetime: Lifetime) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(lifetime.absolute).unwrap_or(chrono::TimeDelta::hours(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_per_secret_and_not_the_stored_hash() {
        let a = csrf_token("a".repeat(43).as_str());
        let b = csrf_token("b".repeat(43).as_str());
        assert_ne!(a, b);
        assert_ne!(a, tokens::hash(&"a".repeat(43)));
        let session = Session {
            actor: Actor::cli(None),
            csrf: a.clone(),
            id_hash: String::new(),
        };
        assert!(session.csrf_matches(&a));
        assert!(!session.csrf_matches(&b));
        assert!(!session.csrf_matches(""));
    }
}
