//! A SaaS simulator: fake HubSpot CRM v3 and ClickUp v2 APIs speaking the documented paths and
//! shapes (auth, paging, rate limits, 429s), a signed-webhook sender that imitates both senders
//! (batches, retries, duplicates, reordering, health), and seeded scenarios with ground truth,
//! so the service and its API clients can be exercised end to end without real accounts.

mod clickup;
mod handle;
mod hubspot;
mod limits;
mod scenario;
mod sender;
mod state;

use std::time::Duration;

use serde_json::Value;

pub use handle::Simulator;
pub use hubspot::ObjectType;
pub use limits::Fault;
pub use scenario::{GroundTruth, Scenario};
pub use sender::{Delivery, HubSpotSignature, SenderConfig};

use crate::{domain::source::Source, receiver::signature::WebhookSecret};

/// The simulator's settings: credentials the fake APIs accept, ids they report, limits.
#[derive(Clone)]
pub struct SimConfig {
    /// Interface to bind (`0.0.0.0` in a container).
    pub host: String,
    /// Port (0 = any free port).
    pub port: u16,
    /// The HubSpot private-app token (`Authorization: Bearer …`).
    pub hubspot_token: String,
    /// The ClickUp personal token (`Authorization: pk_…`).
    pub clickup_token: String,
    /// HubSpot app client secret the sender signs with.
    pub hubspot_client_secret: WebhookSecret,
    /// Our app's id: `appId` of events and `sourceId` of our own API writes.
    pub hubspot_app_id: u64,
    /// The portal (account) id events carry.
    pub hubspot_portal_id: u64,
    /// The ClickUp user the token belongs to (`user.id` of our own writes' history items).
    pub clickup_user_id: u64,
    /// The ClickUp workspace id.
    pub clickup_team_id: String,
    /// ClickUp lists; each gets one webhook with its own secret.
    pub clickup_list_ids: Vec<String>,
    /// One secret for every ClickUp webhook instead of a random one each (Compose, where the
    /// service must know it before the simulator starts).
    pub clickup_webhook_secret: Option<WebhookSecret>,
    /// The natural rate limits.
    pub limits: Limits,
    /// Where and how webhooks are delivered.
    pub sender: SenderConfig,
    /// Seed for ids and the sender's random choices.
    pub seed: u64,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("port", &self.port)
            .field("hubspot_token", &"<redacted>")
            .field("clickup_token", &"<redacted>")
            .field("hubspot_app_id", &self.hubspot_app_id)
            .field("hubspot_portal_id", &self.hubspot_portal_id)
            .field("clickup_user_id", &self.clickup_user_id)
            .field("clickup_team_id", &self.clickup_team_id)
            .field("clickup_list_ids", &self.clickup_list_ids)
            .field("limits", &self.limits)
            .field("sender", &self.sender)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Default for SimConfig {
    /// Local-demo credentials and the limits of a free/starter account.
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            hubspot_token: "pat-sim-hubspot-token".into(),
            clickup_token: "pk_sim_clickup_token".into(),
            hubspot_client_secret: WebhookSecret::new("sim-hubspot-client-secret".into()),
            hubspot_app_id: 424_242,
            hubspot_portal_id: 9_001_234,
            clickup_user_id: 183_000_001,
            clickup_team_id: "9012000001".into(),
            clickup_list_ids: vec!["901200000101".into()],
            clickup_webhook_secret: None,
            limits: Limits::default(),
            sender: SenderConfig::default(),
            seed: 42,
        }
    }
}

/// Rate limits per token, as the SaaS enforces them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// HubSpot burst requests per interval (private app, free/starter: 100).
    pub hubspot_burst: u32,
    /// HubSpot burst interval (10 s).
    pub hubspot_interval: Duration,
    /// HubSpot daily requests.
    pub hubspot_daily: u64,
    /// HubSpot search requests per second (5).
    pub hubspot_search_per_second: u32,
    /// ClickUp requests per window (100 on free/unlimited/business).
    pub clickup_per_window: u32,
    /// ClickUp window (one minute).
    pub clickup_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            hubspot_burst: 100,
            hubspot_interval: Duration::from_secs(10),
            hubspot_daily: 250_000,
            hubspot_search_per_second: 5,
            clickup_per_window: 100,
            clickup_window: Duration::from_secs(60),
        }
    }
}

/// Why a simulator operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The port could not be bound.
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// `start` was called outside a tokio runtime.
    #[error("the simulator needs a running tokio runtime")]
    NoRuntime,
    /// The webhook sender's HTTP client could not be built.
    #[error("cannot build the webhook HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    /// No such object, task, list, field or webhook.
    #[error("no {what} `{id}`")]
    Unknown {
        /// What was looked up.
        what: &'static str,
        /// The id or name given.
        id: String,
    },
    /// The value does not fit the field (e.g. no such `drop_down` option).
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// `flush` was called with no webhook target configured.
    #[error("no webhook target configured (SenderConfig::target)")]
    NoTarget,
}

/// The API endpoints the simulator counts calls to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /crm/v3/objects/{type}/{id}`.
    HubSpotRead,
    /// `GET /crm/v3/objects/{type}`.
    HubSpotList,
    /// `POST /crm/v3/objects/{type}/batch/read`.
    HubSpotBatchRead,
    /// `POST /crm/v3/objects/{type}/search`.
    HubSpotSearch,
    /// `PATCH /crm/v3/objects/{type}/{id}`.
    HubSpotUpdate,
    /// `POST /crm/v3/objects/{type}/batch/update`.
    HubSpotBatchUpdate,
    /// `GET /v2/task/{id}`.
    ClickUpGetTask,
    /// `GET /v2/list/{id}/task`.
    ClickUpListTasks,
    /// `GET /v2/list/{id}/field`.
    ClickUpListFields,
    /// `POST` or `DELETE /v2/task/{id}/field/{field_id}`.
    ClickUpSetField,
    /// `GET /v2/team/{id}/webhook`.
    ClickUpWebhooks,
}

/// One write received through an API (HubSpot PATCH/batch update, ClickUp field POST/DELETE),
/// whether or not it changed anything: proof of "one change → one write".
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// Which API received it.
    pub source: Source,
    /// HubSpot object id or ClickUp task id.
    pub object_id: String,
    /// HubSpot property name or ClickUp field id.
    pub field: String,
    /// The value written (`null` clears).
    pub value: Value,
}

/// A webhook event queued for the sender, for tests that inspect instead of delivering.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    /// Which system emitted it.
    pub source: Source,
    /// The ClickUp webhook it goes to (none for HubSpot).
    pub webhook_id: Option<String>,
    /// The event JSON (one HubSpot event, or one ClickUp body).
    pub body: Value,
}

/// A ClickUp task's built-in status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// `to do` (open).
    ToDo,
    /// `in progress` (custom).
    InProgress,
    /// `complete` (closed: hidden from list scans unless `include_closed=true`).
    Complete,
}

/// A ClickUp webhook's delivery health, as `GET /team/{id}/webhook` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookHealth {
    /// active, failing or suspended.
    pub status: HealthStatus,
    /// Events dropped after exhausting retries since the last success.
    pub fail_count: u32,
}

/// ClickUp's webhook health states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    /// Delivering.
    Active,
    /// Recent deliveries failed; still sending.
    Failing,
    /// Stopped sending (100 failures, or a 410).
    Suspended,
}

#[cfg(test)]
mod tests;
