//! Who is calling: the personal token in `Authorization: Bearer …`, resolved to an operator
//! and checked against the role a route needs before the handler runs. Failed attempts are
//! counted per client address with `governor`; past the budget the address gets 429 for the
//! rest of the window, even with a right token, so guessing cannot continue at speed.

use std::{
    collections::HashMap,
    marker::PhantomData,
    net::{IpAddr, Ipv4Addr},
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use entity::operators::Role;
use futures_util::future::LocalBoxFuture;
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::{ApiState, error::ApiError};
use crate::{
    access::{self, AccessError},
    domain::{Actor, Via},
};

/// Counts failed authentications per client address.
pub struct Guard {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl Guard {
    /// Allows `per_minute` failures per address per minute (at least one).
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        Self {
            failures: RateLimiter::keyed(quota),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until `ip` may try again, if it is blocked.
    pub fn blocked_for(&self, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        match blocked.get(&ip) {
            Some(until) if *until > now => Some(until.duration_since(now).as_secs().max(1)),
            Some(_) => {
                blocked.remove(&ip);
                None
            }
            None => None,
        }
    }

    /// Records a failure; returns the wait if this one used up the budget.
    pub fn failed(&self, ip: IpAddr) -> Option<u64> {
        let Err(not_until) = self.failures.check_key(&ip) else {
            return None;
        };
        let wait = not_until
            .wait_time_from(DefaultClock::default().now())
            .max(Duration::from_secs(1));
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        blocked.retain(|_, until| *until > now);
        blocked.insert(ip, now + wait);
        self.failures.retain_recent();
        Some(wait.as_secs().max(1))
    }
}

/// The role a route needs, as a type, so the route's signature says it.
pub trait Needs {
    /// The least role allowed.
    const ROLE: Role;
}

/// Read-only routes.
pub struct Viewer;
/// Routes that change the golden list.
pub struct Steward;
/// Operator management and bulk actions.
pub struct Admin;

impl Needs for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl Needs for Steward {
    const ROLE: Role = Role::Steward;
}
impl Needs for Admin {
    const ROLE: Role = Role::Admin;
}

/// An authenticated caller whose role covers `R`.
pub struct Caller<R: Needs> {
    actor: Actor,
    role: PhantomData<R>,
}

impl<R: Needs> Caller<R> {
    /// The identity to record.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

impl<R: Needs> FromRequest for Caller<R> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = presented_token(req);
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        let ip = client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("operator API state missing".into()))?;
            let actor = identify(&state, ip, token, |_| false).await?;
            access::require(&actor, R::ROLE)?;
            Ok(Self {
                actor,
                role: PhantomData,
            })
        })
    }
}

/// A caller allowed to create operators: an admin, or the bootstrap token while no admin exists.
pub struct Creator(pub Actor);

impl FromRequest for Creator {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = presented_token(req);
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        let ip = client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("operator API state missing".into()))?;
            let bootstrap = state.bootstrap.clone();
            let is_bootstrap = move |t: &SecretString| {
                bootstrap.as_ref().is_some_and(|b| {
                    bool::from(b.expose_secret().as_bytes().ct_eq(t.expose_secret().as_bytes()))
                })
            };
            let actor = identify(&state, ip, token, is_bootstrap).await?;
            if actor.via() == Via::Bootstrap && !access::bootstrap_open(&state.db).await? {
                return Err(AccessError::BootstrapClosed.into());
            }
            access::require(&actor, Role::Admin)?;
            Ok(Self(actor))
        })
    }
}

async fn identify(
    state: &ApiState,
    ip: IpAddr,
    token: Option<SecretString>,
    is_bootstrap: impl Fn(&SecretString) -> bool,
) -> Result<Actor, ApiError> {
    if let Some(wait) = state.guard.blocked_for(ip) {
        return Err(ApiError::TooManyAttempts(wait));
    }
    let found = match &token {
        Some(t) if is_bootstrap(t) => Ok(Actor::bootstrap()),
        Some(t) => access::authenticate(&state.db, t, Via::Api).await,
        None => Err(AccessError::Unauthenticated),
    };
    match found {
        Ok(actor) => Ok(actor),
        Err(AccessError::Unauthenticated) => {
            // A request without any credentials is not a guess; only wrong ones count.
            if token.is_some()
                && let Some(wait) = state.guard.failed(ip)
            {
                tracing::warn!(%ip, "operator API: too many failed authentications; blocked for {wait} s");
                return Err(ApiError::TooManyAttempts(wait));
            }
            Err(ApiError::Unauthenticated)
        }
        Err(other) => Err(other.into()),
    }
}

fn presented_token(req: &HttpRequest) -> Option<SecretString> {
    req.headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .map(|t| SecretString::from(t.to_owned()))
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 9110 §11.1), so `bearer` and `BEARER` work too.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The peer address; behind an ingress this is the ingress, which then limits as one client
/// (documented: put the per-client limit at the ingress there).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bEaReR  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn an_address_is_blocked_once_its_failures_pass_the_budget() {
        let guard = Guard::new(3);
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        assert_eq!(guard.failed(ip), None);
        assert_eq!(guard.failed(ip), None);
        assert_eq!(guard.failed(ip), None);
        assert!(guard.blocked_for(ip).is_none());
        assert!(guard.failed(ip).is_some());
        assert!(guard.blocked_for(ip).is_some_and(|s| s >= 1));
        assert!(guard.blocked_for(other).is_none(), "others are not punished");
    }
}
