//! One account's door to an API: client-side pacing under the documented limit, pauses the
//! response headers ask for, and bounded retries of what is worth retrying.

use std::{
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{
    RequestBuilder, Response, StatusCode,
    header::{AUTHORIZATION, HeaderMap, HeaderValue},
};
use serde_json::Value;

use super::SaasError;
use crate::{domain::source::Source, metrics};

/// How hard one account may be called.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests the source allows per window (HubSpot: 100 per 10 s; ClickUp: 100 per minute).
    pub requests: u32,
    /// The window.
    pub window: Duration,
    /// Attempts of one call before its error is returned (the first included).
    pub attempts: usize,
    /// First backoff delay; doubles with jitter up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest backoff delay.
    pub max_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Limits {
    /// GCRA pacing that can never exceed `requests` in any rolling `window`: half the allowance
    /// as a burst, the other half spread evenly (a full burst plus the steady rate would allow
    /// twice the limit in a window that starts with the burst).
    fn quota(&self) -> Option<Quota> {
        let half = NonZeroU32::new((self.requests / 2).max(1))?;
        let period = self.window.checked_div(half.get())?;
        Some(Quota::with_period(period)?.allow_burst(half))
    }
}

/// An authenticated, paced and retrying HTTP client for one account.
pub struct Caller {
    source: Source,
    http: reqwest::Client,
    auth: HeaderValue,
    limiter: DefaultDirectRateLimiter,
    /// Set when the source said its window is spent: no request leaves before then.
    paused_until: Mutex<Option<Instant>>,
    limits: Limits,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("source", &self.source)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What a response's headers say about the rate-limit window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Window {
    /// Requests left in the burst (or per-minute) window.
    pub remaining: Option<u64>,
    /// Requests left today (HubSpot private apps).
    pub daily_remaining: Option<u64>,
    /// How long until the window frees up, when the source says.
    pub resets_in: Option<Duration>,
}

impl Caller {
    /// A caller sending `authorization` verbatim (`Bearer …` for HubSpot, the bare token for ClickUp).
    pub fn new(source: Source, authorization: &str, limits: Limits) -> Result<Self, SaasError> {
        let setup = |reason: String| SaasError::Setup {
            system: source,
            reason,
        };
        let mut auth = HeaderValue::from_str(authorization)
            .map_err(|_| setup("the token is not a valid header".into()))?;
        auth.set_sensitive(true);
        let quota = limits
            .quota()
            .ok_or_else(|| setup("rate limit must allow at least one request per window".into()))?;
        let http = reqwest::Client::builder()
            .timeout(limits.timeout)
            .user_agent(concat!("clientsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| setup(e.to_string()))?;
        Ok(Self {
            source,
            http,
            auth,
            limiter: RateLimiter::direct(quota),
            paused_until: Mutex::new(None),
            limits,
        })
    }

    /// Sends the request `build` makes (once per attempt) and returns its JSON body; empty
    /// bodies read as `null`.
    pub async fn send(
        &self,
        call: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Value, SaasError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.limits.min_backoff)
            .with_max_delay(self.limits.max_backoff)
            .with_max_times(self.limits.attempts.saturating_sub(1))
            .with_jitter();
        (|| self.attempt(call, &build))
            .retry(backoff)
            .when(SaasError::retry_in_call)
            .notify(|e, delay| tracing::debug!(error = %e, ?delay, "API call failed; retrying"))
            .await
    }

    async fn attempt(
        &self,
        call: &'static str,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Value, SaasError> {
        self.wait_for_window().await;
        self.limiter.until_ready().await;
        let started = Instant::now();
        let sent = build(&self.http)
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await;
        let result = match sent {
            Ok(response) => self.read(call, response).await,
            Err(e) => Err(SaasError::Unreachable {
                system: self.source,
                call,
                reason: without_url(&e),
            }),
        };
        let label = match &result {
            Ok(_) => "ok",
            Err(SaasError::RateLimited { .. }) => "rate_limited",
            Err(SaasError::NotFound { .. }) => "not_found",
            Err(_) => "error",
        };
        metrics::api_call(self.source, call, label, started.elapsed());
        result
    }

    async fn wait_for_window(&self) {
        let until = self.paused_until.lock().map(|p| *p).unwrap_or_default();
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut paused) = self.paused_until.lock() {
            *paused = Some(paused.map_or(until, |p| p.max(until)));
        }
    }

    async fn read(&self, call: &'static str, response: Response) -> Result<Value, SaasError> {
        let status = response.status();
        let window = window_of(self.source, response.headers());
        if let Some(remaining) = window.remaining {
            metrics::api_quota_remaining(self.source, "burst", remaining);
        }
        if let Some(remaining) = window.daily_remaining {
            metrics::api_quota_remaining(self.source, "daily", remaining);
        }
        if window.remaining == Some(0) || status == StatusCode::TOO_MANY_REQUESTS {
            self.pause_for(window.resets_in.unwrap_or(Duration::from_secs(1)));
        }
        let bytes = response.bytes().await.map_err(|e| SaasError::Unreachable {
            system: self.source,
            call,
            reason: without_url(&e),
        })?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return match body {
                Some(value) => Ok(value),
                None if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Null),
                None => Err(SaasError::Decode {
                    system: self.source,
                    call,
                    reason: "the body is not JSON".into(),
                }),
            };
        }
        let message = body.as_ref().map(message_of).unwrap_or_default();
        let system = self.source;
        Err(match status.as_u16() {
            404 => SaasError::NotFound { system, call },
            429 => SaasError::RateLimited {
                system,
                call,
                policy: body
                    .as_ref()
                    .and_then(|b| b.get("policyName"))
                    .and_then(Value::as_str)
                    .unwrap_or("per-token")
                    .to_owned(),
                retry_after: window.resets_in,
            },
            423 => {
                // HubSpot: contended writes to one record; it asks for at least 2 s.
                self.pause_for(Duration::from_secs(2));
                SaasError::Server {
                    system,
                    call,
                    status: 423,
                    message,
                }
            }
            s if s >= 500 => SaasError::Server {
                system,
                call,
                status: s,
                message,
            },
            s => SaasError::Rejected {
                system,
                call,
                status: s,
                message,
            },
        })
    }
}

/// The source's own words, shortened: HubSpot's `message`, ClickUp's `err` and `ECODE`.
fn message_of(body: &Value) -> String {
    let text = match (body.get("message"), body.get("err"), body.get("ECODE")) {
        (Some(m), _, _) => m.as_str().unwrap_or_default().to_owned(),
        (_, Some(e), code) => format!(
            "{}{}",
            e.as_str().unwrap_or_default(),
            code.and_then(Value::as_str)
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        ),
        _ => String::new(),
    };
    text.chars().take(300).collect()
}

/// A transport error without its URL (which may carry ids, never tokens, but stays short).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_owned(),
    }
}

/// Reads the documented rate-limit headers: HubSpot's `X-HubSpot-RateLimit-*` (a rolling
/// window: when it is spent, wait one interval's share) and ClickUp's `X-RateLimit-*`
/// (`Reset` is a Unix time in seconds).
pub(crate) fn window_of(source: Source, headers: &HeaderMap) -> Window {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    match source {
        Source::HubSpot => {
            let remaining = number("x-hubspot-ratelimit-remaining");
            let max = number("x-hubspot-ratelimit-max").filter(|m| *m > 0);
            let interval = number("x-hubspot-ratelimit-interval-milliseconds");
            // One request frees up every interval/max on average in a rolling window.
            let resets_in = match (interval, max) {
                (Some(i), Some(m)) => Some(Duration::from_millis((i / m).max(100))),
                _ => None,
            };
            Window {
                remaining,
                daily_remaining: number("x-hubspot-ratelimit-daily-remaining"),
                resets_in,
            }
        }
        Source::ClickUp => {
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            Window {
                remaining: number("x-ratelimit-remaining"),
                daily_remaining: None,
                resets_in: number("x-ratelimit-reset")
                    .map(|reset| Duration::from_secs(reset.saturating_sub(now).clamp(1, 61))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn hubspot_headers_give_the_remaining_burst_and_daily_quota() {
        let w = window_of(
            Source::HubSpot,
            &headers(&[
                ("X-HubSpot-RateLimit-Max", "100"),
                ("X-HubSpot-RateLimit-Remaining", "0"),
                ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
                ("X-HubSpot-RateLimit-Daily-Remaining", "249000"),
            ]),
        );
        assert_eq!(w.remaining, Some(0));
        assert_eq!(w.daily_remaining, Some(249_000));
        assert_eq!(w.resets_in, Some(Duration::from_millis(100)));
    }

    #[test]
    fn clickup_reset_is_read_as_a_unix_time_in_seconds() {
        let reset = (chrono::Utc::now().timestamp() + 30).to_string();
        let w = window_of(
            Source::ClickUp,
            &headers(&[("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", &reset)]),
        );
        assert_eq!(w.remaining, Some(0));
        let wait = w.resets_in.unwrap();
        assert!(
            wait >= Duration::from_secs(29) && wait <= Duration::from_secs(31),
            "{wait:?}"
        );
    }

    #[test]
    fn pacing_never_allows_more_than_the_limit_in_one_window() {
        let limits = Limits {
            requests: 100,
            window: Duration::from_secs(10),
            attempts: 1,
            min_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            timeout: Duration::from_secs(1),
        };
        let quota = limits.quota().unwrap();
        // Burst plus what the steady rate refills within the window.
        let per_window = quota.burst_size().get() as u128
            + limits.window.as_millis() / quota.replenish_interval().as_millis();
        assert!(per_window <= 100, "{per_window}");
    }

    #[test]
    fn error_messages_are_the_sources_own_words() {
        let hubspot = serde_json::json!({"status":"error","message":"Property values were not valid"});
        let clickup = serde_json::json!({"err":"Value must be an option index or uuid","ECODE":"FIELD_011"});
        assert_eq!(message_of(&hubspot), "Property values were not valid");
        assert_eq!(
            message_of(&clickup),
            "Value must be an option index or uuid (FIELD_011)"
        );
    }
}
