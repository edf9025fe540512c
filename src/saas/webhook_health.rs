//! ClickUp sends no notice when a webhook starts failing or is suspended (after 100 dropped
//! events, or at once on a 410): events are silently lost. The watch polls the webhooks'
//! health, logs and counts the unhealthy ones, and shows them in `/readyz`. It never fails
//! readiness: taking receivers out of service would not bring a webhook back.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::clickup::{ClickUpApi, WebhookHealth};

/// The statuses ClickUp gives a webhook, each counted at every check (zero included).
pub const STATUSES: [&str; 3] = ["active", "failing", "suspended"];

/// The latest health check, shared with the readiness probe.
#[derive(Debug, Clone, Default)]
pub struct WebhookWatch(Arc<RwLock<Option<Checked>>>);

/// The webhooks losing events at the last check.
#[derive(Debug, Clone)]
pub struct Unhealthy {
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
    /// The failing or suspended webhooks, or why the check failed.
    pub webhooks: Result<Vec<WebhookHealth>, String>,
}

#[derive(Debug, Clone)]
struct Checked {
    at: DateTime<Utc>,
    result: Result<Vec<WebhookHealth>, String>,
}

impl WebhookWatch {
    /// Polls the health of the webhooks in `team_id` once, and logs and records what it found.
    pub async fn check(&self, api: &ClickUpApi, team_id: &str) {
        let result = api.webhooks(team_id).await.map_err(|e| e.to_string());
        match &result {
            Ok(webhooks) => {
                for status in STATUSES {
                    let n = webhooks.iter().filter(|w| w.status == status).count();
                    crate::metrics::clickup_webhooks(status, n);
                }
                for w in webhooks.iter().filter(|w| !w.is_healthy()) {
                    if w.status == "suspended" {
                        tracing::error!(webhook = %w.id, endpoint = %w.endpoint, fail_count = w.fail_count,
                            "ClickUp webhook suspended: no events arrive until it is reactivated");
                    } else {
                        tracing::warn!(webhook = %w.id, endpoint = %w.endpoint, status = %w.status,
                            fail_count = w.fail_count, "ClickUp webhook unhealthy: events are being dropped");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "ClickUp webhook health could not be read"),
        }
        if let Ok(mut latest) = self.0.write() {
            *latest = Some(Checked {
                at: Utc::now(),
                result,
            });
        }
    }

    /// Checks every `interval` until `shutdown`.
    pub async fn run(
        self,
        api: Arc<ClickUpApi>,
        team_id: String,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => self.check(&api, &team_id).await,
            }
        }
    }

    /// The last check's time with the webhooks losing events (failing or suspended), or why
    /// the check failed; `None` before the first check. The console's "Needs attention" shows it.
    pub fn unhealthy(&self) -> Option<Unhealthy> {
        let checked = self.0.read().ok().and_then(|l| l.clone())?;
        let webhooks = checked
            .result
            .map(|all| all.into_iter().filter(|w| !w.is_healthy()).collect());
        Some(Unhealthy {
            checked_at: checked.at,
            webhooks,
        })
    }

    /// What `/readyz` shows: `ok`, `degraded` with the unhealthy webhooks, `unknown` before the
    /// first check, or `error` when the check itself failed.
    pub fn detail(&self) -> Value {
        let latest = self.0.read().ok().and_then(|l| l.clone());
        let Some(checked) = latest else {
            return json!({ "status": "unknown" });
        };
        match checked.result {
            Err(e) => json!({ "status": "error", "checked_at": checked.at, "error": e }),
            Ok(webhooks) => {
                let unhealthy: Vec<Value> = webhooks
                    .iter()
                    .filter(|w| !w.is_healthy())
                    .map(|w| json!({"id": w.id, "status": w.status, "fail_count": w.fail_count}))
                    .collect();
                json!({
                    "status": if unhealthy.is_empty() { "ok" } else { "degraded" },
                    "checked_at": checked.at,
                    "webhooks": webhooks.len(),
                    "unhealthy": unhealthy,
                })
            }
        }
    }
}
