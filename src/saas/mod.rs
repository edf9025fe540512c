//! Clients of the HubSpot and ClickUp REST APIs: what enrichment, backfill, write-back and the
//! webhook health check call. Each account's token gets one [`Caller`], which keeps under the
//! documented rate limit, slows down when the response headers say the window is spent, and
//! retries 429s and 5xx with jittered exponential backoff; other 4xx fail at once.

mod caller;
pub mod clickup;
pub mod hubspot;
pub mod webhook_health;

use std::time::Duration;

pub use caller::{Caller, Limits};

use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::{config::Config, domain::source::Source};

/// The configured API clients, shared by enrichment, backfill and the health check so each
/// account is paced by one limiter whatever calls it.
#[derive(Debug, Clone, Default)]
pub struct Apis {
    /// HubSpot, when an access token is configured.
    pub hubspot: Option<Arc<hubspot::HubSpotApi>>,
    /// ClickUp, when an API token is configured.
    pub clickup: Option<Arc<clickup::ClickUpApi>>,
}

impl Apis {
    /// The clients the configuration has tokens for.
    pub fn from_config(config: &Config) -> Result<Self, SaasError> {
        let hubspot = match &config.hubspot.access_token {
            Some(token) => {
                let limits = limits(
                    config,
                    config.hubspot.requests_per_window,
                    config.hubspot.window_ms,
                );
                let api = hubspot::HubSpotApi::new(&config.hubspot.api_base, token.expose_secret(), limits)?;
                Some(Arc::new(api))
            }
            None => None,
        };
        let clickup = match &config.clickup.api_token {
            Some(token) => {
                let limits = limits(config, config.clickup.requests_per_minute, 60_000);
                let api = clickup::ClickUpApi::new(&config.clickup.api_base, token.expose_secret(), limits)?;
                Some(Arc::new(api))
            }
            None => None,
        };
        Ok(Self { hubspot, clickup })
    }
}

/// One account's pacing and retry settings, from the source's quota and the shared `[api]` table.
fn limits(config: &Config, requests: u32, window_ms: u64) -> Limits {
    Limits {
        requests,
        window: std::time::Duration::from_millis(window_ms),
        attempts: config.api.attempts,
        min_backoff: std::time::Duration::from_millis(config.api.min_backoff_ms),
        max_backoff: std::time::Duration::from_millis(config.api.max_backoff_ms),
        timeout: std::time::Duration::from_millis(config.api.timeout_ms),
    }
}

/// Why an API call failed, naming the call, so a dead letter or a log line says what to fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SaasError {
    /// No answer: connection refused, reset, or timed out.
    #[error("{system} {call}: no answer: {reason}")]
    Unreachable {
        /// Which system.
        system: Source,
        /// Which call.
        call: &'static str,
        /// What the HTTP client said.
        reason: String,
    },
    /// Still over the rate limit after the in-call retries.
    #[error("{system} {call}: rate limited ({policy})")]
    RateLimited {
        /// Which system.
        system: Source,
        /// Which call.
        call: &'static str,
        /// The limit that was hit (`TEN_SECONDLY_ROLLING`, `DAILY`, `per-token`).
        policy: String,
        /// When the source says the window frees up, if it says.
        retry_after: Option<Duration>,
    },
    /// The source failed (5xx, or HubSpot's 423 on contended writes); worth trying again later.
    #[error("{system} {call}: server error {status}: {message}")]
    Server {
        /// Which system.
        system: Source,
        /// Which call.
        call: &'static str,
        /// HTTP status.
        status: u16,
        /// The source's message, shortened.
        message: String,
    },
    /// The source refused the request (4xx other than 404 and 429): trying again cannot help.
    #[error("{system} {call}: refused with {status}: {message}")]
    Rejected {
        /// Which system.
        system: Source,
        /// Which call.
        call: &'static str,
        /// HTTP status.
        status: u16,
        /// The source's message, shortened.
        message: String,
    },
    /// The object does not exist (any more) at the source.
    #[error("{system} {call}: not found")]
    NotFound {
        /// Which system.
        system: Source,
        /// Which call.
        call: &'static str,
    },
    /// The answer was not what the documented API returns.
    #[error("{system} {call}: unexpected response: {reason}")]
    Decode {
        /// Which system.
        system: Source,
        /// Which call.
        call: &'static str,
        /// What did not fit.
        reason: String,
    },
    /// The client could not be built from its configuration.
    #[error("{system} API client: {reason}")]
    Setup {
        /// Which system.
        system: Source,
        /// What is wrong.
        reason: String,
    },
}

/// `base` with `segments` appended, each percent-encoded: ids from webhooks are untrusted.
pub(crate) fn url(source: Source, base: &str, segments: &[&str]) -> Result<reqwest::Url, SaasError> {
    let bad = |reason: &str| SaasError::Setup {
        system: source,
        reason: format!("API base `{base}` {reason}"),
    };
    let mut url = reqwest::Url::parse(base).map_err(|_| bad("is not a URL"))?;
    {
        let mut path = url.path_segments_mut().map_err(|()| bad("cannot take a path"))?;
        path.pop_if_empty();
        for segment in segments {
            path.push(segment);
        }
    }
    Ok(url)
}

impl SaasError {
    /// Transient failures are retried (in the call, then through the queue); others are final.
    pub fn is_transient(&self) -> bool {
        match self {
            SaasError::Unreachable { .. } | SaasError::Server { .. } => true,
            // A spent daily quota frees up at the account's midnight: the queue's backoff
            // spaces the retries, a tight in-call loop would only add errors.
            SaasError::RateLimited { .. } => true,
            SaasError::Rejected { .. }
            | SaasError::NotFound { .. }
            | SaasError::Decode { .. }
            | SaasError::Setup { .. } => false,
        }
    }

    /// Whether retrying within the call makes sense (a spent daily quota does not).
    fn retry_in_call(&self) -> bool {
        match self {
            SaasError::RateLimited { policy, .. } => policy != "DAILY",
            other => other.is_transient(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_percent_encoded_into_one_path_segment() {
        let u = url(
            Source::ClickUp,
            "https://api.clickup.com/api/",
            &["v2", "task", "a/../b?x"],
        )
        .unwrap();
        assert_eq!(u.as_str(), "https://api.clickup.com/api/v2/task/a%2F..%2Fb%3Fx");
    }
}
