//! Delivers queued events to the receiver the way the real senders do: HubSpot in signed
//! batches (v3, or legacy v1) retried on any non-2xx; ClickUp one signed event per request,
//! retried, with the webhook's health following the outcome. Knobs add duplicates, reordering
//! and concurrency.

use std::{collections::HashMap, time::Duration};

use futures_util::StreamExt;
use serde_json::Value;

use super::{
    HealthStatus, SimError, WebhookHealth,
    state::{Outgoing, Shared},
};
use crate::receiver::signature::{self, WebhookSecret};

/// Where and how webhooks are delivered.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The receiver's origin, e.g. `http://127.0.0.1:8080`; nothing is sent without it.
    pub target: Option<String>,
    /// The URL the receiver believes HubSpot calls (`server.public_base_url`), which v3 signs;
    /// defaults to `target`.
    pub public_base_url: Option<String>,
    /// HubSpot signature scheme.
    pub hubspot_signature: HubSpotSignature,
    /// HubSpot events per request (1..=100).
    pub batch_size: usize,
    /// Share of requests sent twice (HubSpot and ClickUp both deliver at least once).
    pub duplicate_rate: f64,
    /// Deliver events and requests out of order.
    pub shuffle: bool,
    /// Requests in flight at once.
    pub burst: usize,
    /// Attempts per HubSpot request (HubSpot: 1 + up to 10 retries).
    pub hubspot_attempts: u32,
    /// Attempts per ClickUp event (ClickUp: 5, then the event is dropped).
    pub clickup_attempts: u32,
    /// Delay before the first retry; later retries wait proportionally longer.
    pub retry_delay: Duration,
    /// Seed for duplicates and shuffling.
    pub seed: u64,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            target: None,
            public_base_url: None,
            hubspot_signature: HubSpotSignature::V3,
            batch_size: 100,
            duplicate_rate: 0.0,
            shuffle: false,
            burst: 1,
            hubspot_attempts: 4,
            clickup_attempts: 5,
            retry_delay: Duration::from_millis(20),
            seed: 7,
        }
    }
}

/// Which HubSpot signature headers deliveries carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubSpotSignature {
    /// `X-HubSpot-Signature-v3` + timestamp, plus the legacy v1 pair, as HubSpot sends them.
    V3,
    /// Only the legacy `X-HubSpot-Signature` (v1).
    V1,
}

/// What a `flush` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Events taken from the outbox.
    pub events: usize,
    /// HTTP deliveries planned (batches, ClickUp events, duplicates).
    pub requests: usize,
    /// Deliveries that got a 2xx.
    pub sent: usize,
    /// Retry attempts made.
    pub retried: usize,
    /// Deliveries given up on (dropped, as the real senders eventually do).
    pub failed: usize,
    /// Deliveries added as duplicates.
    pub duplicated: usize,
    /// ClickUp events not sent because their webhook is suspended.
    pub skipped: usize,
}

/// One planned HTTP delivery.
#[derive(Debug, Clone)]
enum Request {
    HubSpot(Vec<Value>),
    ClickUp {
        webhook_id: String,
        secret: WebhookSecret,
        body: Value,
    },
}

/// How one delivery ended.
struct Outcome {
    webhook_id: Option<String>,
    ok: bool,
    gone: bool,
    retries: usize,
}

/// The HTTP client deliveries use (ClickUp's 7 s timeout; HubSpot requests use 5 s).
pub(crate) fn client() -> Result<reqwest::Client, SimError> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(7))
        .build()?)
}

/// Sends everything pending.
pub(crate) async fn flush(shared: &Shared, client: &reqwest::Client) -> Result<Delivery, SimError> {
    let (config, outbox, hooks) = {
        let mut world = shared.world();
        if world.sender.target.is_none() {
            return Err(SimError::NoTarget);
        }
        let hooks: HashMap<String, (WebhookSecret, HealthStatus)> = world
            .clickup
            .webhooks
            .iter()
            .map(|w| (w.id.clone(), (w.secret.clone(), w.health.status)))
            .collect();
        (world.sender.clone(), std::mem::take(&mut world.outbox), hooks)
    };
    let mut report = Delivery {
        events: outbox.len(),
        ..Delivery::default()
    };
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let (mut hubspot, mut requests) = (Vec::new(), Vec::new());
    for event in outbox {
        match event {
            Outgoing::HubSpot(e) => hubspot.push(e),
            Outgoing::ClickUp { webhook_id, body } => match hooks.get(&webhook_id) {
                Some((secret, status)) if *status != HealthStatus::Suspended => {
                    requests.push(Request::ClickUp {
                        webhook_id,
                        secret: secret.clone(),
                        body,
                    })
                }
                _ => report.skipped += 1,
            },
        }
    }
    if config.shuffle {
        rng.shuffle(&mut hubspot);
    }
    requests.extend(
        hubspot
            .chunks(config.batch_size.clamp(1, 100))
            .map(|c| Request::HubSpot(c.to_vec())),
    );
    for i in 0..requests.len() {
        if rng.f64() < config.duplicate_rate {
            requests.push(requests[i].clone());
            report.duplicated += 1;
        }
    }
    if config.shuffle {
        rng.shuffle(&mut requests);
    }
    report.requests = requests.len();
    let secret = shared.config.hubspot_client_secret.clone();
    let outcomes: Vec<Outcome> = futures_util::stream::iter(requests)
        .map(|r| deliver(client, &config, &secret, r))
        .buffer_unordered(config.burst.max(1))
        .collect()
        .await;
    let mut world = shared.world();
    for outcome in outcomes {
        report.retried += outcome.retries;
        if outcome.ok {
            report.sent += 1;
        } else {
            report.failed += 1;
        }
        let hook = outcome
            .webhook_id
            .and_then(|id| world.clickup.webhooks.iter_mut().find(|w| w.id == id));
        if let Some(hook) = hook {
            hook.health = next_health(hook.health, outcome.ok, outcome.gone);
        }
    }
    Ok(report)
}

/// ClickUp's health rules: success resets, a dropped event counts, 100 drops or a 410 suspend.
fn next_health(health: WebhookHealth, ok: bool, gone: bool) -> WebhookHealth {
    if gone {
        return WebhookHealth {
            status: HealthStatus::Suspended,
            ..health
        };
    }
    if ok {
        return WebhookHealth {
            status: HealthStatus::Active,
            fail_count: 0,
        };
    }
    let fail_count = health.fail_count.saturating_add(1);
    WebhookHealth {
        status: if fail_count >= 100 {
            HealthStatus::Suspended
        } else {
            HealthStatus::Failing
        },
        fail_count,
    }
}

async fn deliver(
    client: &reqwest::Client,
    config: &SenderConfig,
    hubspot_secret: &WebhookSecret,
    request: Request,
) -> Outcome {
    let target = config.target.as_deref().unwrap_or_default().trim_end_matches('/');
    let (attempts, webhook_id) = match &request {
        Request::HubSpot(_) => (config.hubspot_attempts, None),
        Request::ClickUp { webhook_id, .. } => (config.clickup_attempts, Some(webhook_id.clone())),
    };
    let mut outcome = Outcome {
        webhook_id,
        ok: false,
        gone: false,
        retries: 0,
    };
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            outcome.retries += 1;
            tokio::time::sleep(config.retry_delay * attempt).await;
        }
        let status = match &request {
            Request::HubSpot(events) => {
                let path = "/webhooks/hubspot";
                let base = config.public_base_url.as_deref().unwrap_or(target);
                let uri = signature::signed_uri(base, path);
                let body = hubspot_body(events, attempt);
                let mut post = client
                    .post(format!("{target}{path}"))
                    .timeout(Duration::from_secs(5))
                    .header("Content-Type", "application/json")
                    .header("X-HubSpot-Signature-Version", "v1")
                    .header(
                        "X-HubSpot-Signature",
                        signature::sign_hubspot_v1(hubspot_secret, &body),
                    );
                if config.hubspot_signature == HubSpotSignature::V3 {
                    let timestamp = chrono::Utc::now().timestamp_millis().to_string();
                    let v3 = signature::sign_hubspot_v3(hubspot_secret, "POST", &uri, &body, &timestamp);
                    post = post
                        .header("X-HubSpot-Signature-v3", v3)
                        .header("X-HubSpot-Request-Timestamp", timestamp);
                }
                post.body(body).send().await.map(|r| r.status())
            }
            Request::ClickUp {
                webhook_id,
                secret,
                body,
            } => {
                let body = serde_json::to_vec(body).unwrap_or_default();
                let signed = signature::sign_clickup(secret, &body);
                client
                    .post(format!("{target}/webhooks/clickup/{webhook_id}"))
                    .header("Content-Type", "application/json")
                    .header("X-Signature", signed)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status())
            }
        };
        match status {
            Ok(s) if s.is_success() => {
                outcome.ok = true;
                return outcome;
            }
            Ok(s) if s == reqwest::StatusCode::GONE && outcome.webhook_id.is_some() => {
                outcome.gone = true;
                return outcome;
            }
            _ => {}
        }
    }
    outcome
}

/// A HubSpot batch as sent on one attempt (`attemptNumber` counts attempts from 0).
fn hubspot_body(events: &[Value], attempt: u32) -> Vec<u8> {
    let events: Vec<Value> = events
        .iter()
        .cloned()
        .map(|mut e| {
            e["attemptNumber"] = Value::from(attempt);
            e
        })
        .collect();
    serde_json::to_vec(&events).unwrap_or_default()
}
