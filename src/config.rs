//! Configuration: built-in defaults, then an optional TOML file, then `CLIENTSYNC_SECTION__KEY`
//! environment variables; secrets are read from the environment only.

pub mod console;
pub mod projects;
pub mod retention;
pub mod secrets;
pub mod sources;

pub use console::ConsoleConfig;
pub use projects::ProjectsConfig;
pub use retention::RetentionConfig;

use std::{collections::HashMap, path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    domain::phone::Country,
    queue::RetryPolicy,
    receiver::signature::WebhookSecret,
    reconcile::{
        Matching,
        fuzzy::{self, Model, ProfileOptions},
    },
    sources::mapping::FieldMapping,
};

use std::collections::BTreeMap;

use self::sources::{Blankless, EnvSettings, env_var};

const DEFAULTS: &str = include_str!("../config/default.toml");

/// Keys that hold secrets: accepted from the environment, refused in a file.
pub(crate) const SECRET_KEYS: [&str; 7] = [
    "server.bootstrap_token",
    "database.url",
    "queue.amqp_url",
    "hubspot.client_secret",
    "hubspot.access_token",
    "clickup.webhook_secrets",
    "clickup.api_token",
];

/// Why the configuration is unusable; names the key so start-up fails with a clear message.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value could not be read or has the wrong type.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A value was read but makes no sense.
    #[error("invalid configuration key `{key}`: {reason}")]
    BadValue {
        /// The dotted key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A key no setting has (a typo would otherwise leave the default in force, silently).
    #[error("unknown configuration key `{key}` (from {origin})")]
    UnknownKey {
        /// The dotted key as read.
        key: String,
        /// The variable or file that set it.
        origin: String,
    },
    /// A secret too short to resist guessing, or a placeholder from an example file.
    #[error("`{key}` ({env}) {reason}")]
    WeakSecret {
        /// The dotted key.
        key: &'static str,
        /// The environment variable that set it.
        env: String,
        /// What is wrong with it, never its value.
        reason: String,
    },
    /// A secret was written in a file instead of the environment.
    #[error("`{key}` is a secret: set it in the environment ({env}), not in {file}")]
    SecretInFile {
        /// The dotted key.
        key: &'static str,
        /// The environment variable to use instead.
        env: String,
        /// The file that held it.
        file: String,
    },
}

/// The whole service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP receiver and operator API.
    pub server: ServerConfig,
    /// The store.
    pub database: DatabaseConfig,
    /// The queue backend and its retry policy.
    pub queue: QueueConfig,
    /// Consumers.
    pub worker: WorkerConfig,
    /// HubSpot webhook verification.
    pub hubspot: HubSpotConfig,
    /// ClickUp webhook verification.
    #[serde(default)]
    pub clickup: ClickUpConfig,
    /// Logs.
    pub telemetry: TelemetryConfig,
    /// How records are matched to clients.
    pub matching: MatchingConfig,
    /// Which source properties and custom fields feed which client fields, beyond the built-in names.
    #[serde(default)]
    pub mapping: MappingConfig,
    /// Retries and timeouts of HubSpot and ClickUp API calls.
    pub api: ApiConfig,
    /// How planned write-backs are retried from the outbox.
    pub outbox: OutboxConfig,
    /// How long finished data (event payloads and rows, resolved conflicts, sent write-backs)
    /// is kept before it is pruned.
    pub retention: RetentionConfig,
    /// The operator console's sessions.
    pub console: ConsoleConfig,
    /// Which ClickUp lists hold projects, and how projects name their client and deal.
    #[serde(default)]
    pub projects: ProjectsConfig,
}

/// The write-back outbox: how often its drainer looks for due writes and how a failed write is
/// retried before it is left `failed` for an operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// Attempts of one write (each already retried in-call per `[api]`) before it is `failed`.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles with jitter.
    pub min_backoff_ms: u64,
    /// Longest delay between attempts.
    pub max_backoff_ms: u64,
    /// How often the worker role's drainer looks for due writes.
    pub interval_ms: u64,
    /// How long a write being sent is reserved; after a crash it is due again once this passes.
    pub lease_secs: u64,
    /// Most writes one drainer round sends.
    pub batch_size: u64,
}

/// Source field mapping: `property = "field"` entries; `"none"` unmaps a built-in name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// HubSpot property name (contacts and companies) → client field.
    #[serde(default)]
    pub hubspot: BTreeMap<String, String>,
    /// ClickUp custom field id or name → client field.
    #[serde(default)]
    pub clickup: BTreeMap<String, String>,
}

impl MappingConfig {
    /// The worker's mapping; fails naming an entry whose field is unknown.
    pub fn field_mapping(&self) -> Result<FieldMapping, ConfigError> {
        FieldMapping::configured(&self.hubspot, &self.clickup).map_err(|e| ConfigError::BadValue {
            key: "mapping",
            reason: e.to_string(),
        })
    }
}

/// HTTP settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// The external URL senders call; HubSpot signs it, so it cannot be taken from the request.
    pub public_base_url: String,
    /// Largest accepted webhook body; bigger ones get 413.
    pub max_body_bytes: usize,
    /// How long reading a webhook body may take before 408: a sender that stalls mid-body
    /// would otherwise hold its buffer forever.
    pub body_timeout_ms: u64,
    /// How long a client has to send the request head before 408.
    pub client_request_timeout_ms: u64,
    /// How long a closing connection may take to shut down.
    pub client_disconnect_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
    /// Open connections per server thread; more wait in the listen backlog.
    pub max_connections: usize,
    /// New connections per server thread being set up at once (TLS-free here, so cheap).
    pub max_connection_rate: usize,
    /// Webhook requests in flight at once per process; more get 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// How long SIGTERM waits for in-flight requests and messages.
    pub shutdown_grace_secs: u64,
    /// A one-time key that may only create the first admin over the API (`POST
    /// /api/v1/operators`) while no active admin exists; `clientsync operators add` needs none.
    #[serde(default)]
    pub bootstrap_token: Option<SecretString>,
    /// Failed operator authentications one client address may make per minute before it gets
    /// 429 for the rest of that minute, so tokens and passwords cannot be guessed at speed.
    pub auth_failures_per_minute: u32,
    /// Rows a bulk action (resolve, replay dead events, retry write-backs) touches per second at
    /// most, so a bulk job never starves the workers of the database or floods the queue.
    pub bulk_rows_per_sec: u32,
}

/// Store settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`; may hold a password, so never logged.
    pub url: SecretString,
    /// Pool size.
    pub max_connections: u32,
    /// How long to wait for a connection before failing: opening one, or taking one from the
    /// pool (a database that is down or hung is reported within it).
    pub connect_timeout_secs: u64,
    /// How long one of the worker's transactions (an event or a batch) may take; past it the
    /// database counts as hung and the worker pauses until it answers again.
    pub transaction_timeout_ms: u64,
}

impl DatabaseConfig {
    /// Where the database is (`host:port`, or the SQLite file), for errors: never the password.
    pub fn endpoint(&self) -> String {
        secrets::endpoint(self.url.expose_secret())
    }

    /// Whether the store is a SQLite file (one writer at a time) rather than Postgres.
    pub fn is_sqlite(&self) -> bool {
        self.url.expose_secret().starts_with("sqlite:")
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &"<redacted>")
            .field("max_connections", &self.max_connections)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("transaction_timeout_ms", &self.transaction_timeout_ms)
            .finish()
    }
}

/// Queue settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// RabbitMQ URL; absent means the embedded database queue.
    #[serde(default)]
    pub amqp_url: Option<SecretString>,
    /// Prefix of every queue name, so several deployments or tests can share a broker.
    pub prefix: String,
    /// Unacked messages a worker process may hold.
    pub prefetch: u16,
    /// How long the receiver waits for publisher confirms before answering 503.
    pub confirm_timeout_ms: u64,
    /// AMQP heartbeat asked of the broker (unless the URL sets `heartbeat`): a broker that stops
    /// answering is detected after two missed heartbeats and the connection is opened again.
    pub heartbeat_secs: u16,
    /// Deliveries before a message is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt.
    pub retry_base_ms: u64,
    /// Retry delay ceiling.
    pub retry_max_ms: u64,
    /// Embedded backend: how long a claimed message stays invisible to other workers.
    pub lease_secs: u64,
}

impl std::fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueConfig")
            .field("amqp_url", &self.amqp_url.as_ref().map(|_| "<redacted>"))
            .field("prefix", &self.prefix)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl QueueConfig {
    /// The retry policy both backends follow.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts,
            base_delay: Duration::from_millis(self.retry_base_ms),
            max_delay: Duration::from_millis(self.retry_max_ms),
        }
    }
}

/// Consumer settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Consumers per process.
    pub concurrency: usize,
    /// Most waiting messages one consumer applies in one transaction (one commit for all).
    pub batch_size: usize,
    /// How long one receive waits before checking for shutdown.
    pub poll_ms: u64,
}

/// Fuzzy matching thresholds and folding; weights are the built-in defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingConfig {
    /// Auto-link a fuzzy candidate at or above this probability.
    pub link_threshold: f64,
    /// Candidates below this are not matches; between the two thresholds an operator decides.
    pub review_threshold: f64,
    /// Two candidates within this probability of each other are ambiguous.
    pub ambiguity_margin: f64,
    /// Blocking keys shared by more clients than this are too common to search by.
    pub max_block: usize,
    /// Treat Gmail addresses that differ in dots or `+tags` as one.
    pub fold_gmail: bool,
    /// ISO country (e.g. "ES") in which national phone numbers are read, making them E.164.
    #[serde(default, deserialize_with = "sources::optional_text")]
    pub default_country: Option<String>,
    /// Weights fitted on this deployment's own records by `clientsync fit`; built-in defaults
    /// for a small store when absent.
    #[serde(default)]
    pub model_file: Option<std::path::PathBuf>,
}

impl MatchingConfig {
    /// The worker's matching settings; fails on an unknown country.
    pub fn matching(&self) -> Result<Matching, ConfigError> {
        let country = match self
            .default_country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(code) => {
                Some(
                    code.to_uppercase()
                        .parse::<Country>()
                        .map_err(|_| ConfigError::BadValue {
                            key: "matching.default_country",
                            reason: format!("`{code}` is not an ISO 3166 country code"),
                        })?,
                )
            }
            None => None,
        };
        Ok(Matching {
            link_threshold: self.link_threshold,
            review_threshold: self.review_threshold,
            ambiguity_margin: self.ambiguity_margin,
            max_block: self.max_block,
            profile: ProfileOptions {
                fold_gmail: self.fold_gmail,
            },
            country,
            model: match &self.model_file {
                Some(path) => load_model(path)?,
                None => Model::default(),
            },
        })
    }
}

fn load_model(path: &std::path::Path) -> Result<Model, ConfigError> {
    let bad = |reason: String| ConfigError::BadValue {
        key: "matching.model_file",
        reason: format!("{}: {reason}", path.display()),
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let model: Model = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    model.validate().map_err(bad)?;
    // A model written before fits were checked (or edited by hand) may link strangers.
    fuzzy::plausible::check(&model).map_err(|e| bad(format!("refused: {e}")))?;
    Ok(model)
}

/// HubSpot settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSpotConfig {
    /// The app's client secret, the key of every HubSpot signature.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Accepted clock skew for v3 timestamps, both ways.
    pub signature_tolerance_secs: i64,
    /// Accept v1/v2 signatures (no timestamp, so no replay window): only for senders that send
    /// no v3 header, such as workflow "Send a webhook" actions in portals without one.
    pub accept_legacy_signatures: bool,
    /// The private app's access token; with it, thin events are enriched and backfill can run.
    #[serde(default)]
    pub access_token: Option<SecretString>,
    /// Our app's id: HubSpot reports our own writes with `changeSource: INTEGRATION` and this
    /// `sourceId`, which is how their echoes are recognised.
    #[serde(default, deserialize_with = "sources::optional_text")]
    pub app_id: Option<String>,
    /// CRM API base URL (the simulator's in tests and the demo).
    pub api_base: String,
    /// Requests allowed per `window_ms` (100 on Free/Starter, 190 on Professional/Enterprise).
    pub requests_per_window: u32,
    /// The burst window.
    pub window_ms: u64,
}

impl std::fmt::Debug for HubSpotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotConfig")
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("signature_tolerance_secs", &self.signature_tolerance_secs)
            .field("access_token", &self.access_token.as_ref().map(|_| "<redacted>"))
            .field("app_id", &self.app_id)
            .field("api_base", &self.api_base)
            .field("requests_per_window", &self.requests_per_window)
            .field("window_ms", &self.window_ms)
            .finish()
    }
}

impl HubSpotConfig {
    /// The verification key, when HubSpot webhooks are enabled.
    pub fn secret(&self) -> Option<WebhookSecret> {
        self.client_secret
            .as_ref()
            .map(|s| WebhookSecret::new(s.expose_secret().to_owned()))
    }
}

/// ClickUp settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickUpConfig {
    /// `webhook_id=secret` pairs separated by commas: each ClickUp webhook signs with its own secret.
    #[serde(default)]
    pub webhook_secrets: Option<SecretString>,
    /// API token (a personal `pk_…` token, or `Bearer …` for OAuth); with it, thin events are
    /// enriched, backfill can run and webhook health is watched.
    #[serde(default)]
    pub api_token: Option<SecretString>,
    /// The token's user id: history items by this user are our own writes coming back.
    #[serde(default, deserialize_with = "sources::optional_text")]
    pub user_id: Option<String>,
    /// Workspace (team) whose webhooks' health is watched.
    #[serde(default, deserialize_with = "sources::optional_text")]
    pub team_id: Option<String>,
    /// Lists whose tasks are clients; backfill reads them (`1,2` from the environment).
    #[serde(default, deserialize_with = "sources::text_list")]
    pub list_ids: Vec<String>,
    /// API base URL (the simulator's in tests and the demo).
    #[serde(default = "clickup_api_base")]
    pub api_base: String,
    /// Requests per minute the token's plan allows (100 Free to Business, 1,000 Business Plus).
    #[serde(default = "clickup_requests_per_minute")]
    pub requests_per_minute: u32,
    /// How often webhook health is polled; 0 turns the check off.
    #[serde(default = "clickup_health_interval_secs")]
    pub health_interval_secs: u64,
}

fn clickup_api_base() -> String {
    "https://api.clickup.com/api".into()
}

fn clickup_requests_per_minute() -> u32 {
    100
}

fn clickup_health_interval_secs() -> u64 {
    300
}

impl Default for ClickUpConfig {
    fn default() -> Self {
        Self {
            webhook_secrets: None,
            api_token: None,
            user_id: None,
            team_id: None,
            list_ids: Vec::new(),
            api_base: clickup_api_base(),
            requests_per_minute: clickup_requests_per_minute(),
            health_interval_secs: clickup_health_interval_secs(),
        }
    }
}

/// How every SaaS API call retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Attempts of one call (the first included) before the event goes back to the queue.
    pub attempts: usize,
    /// First retry delay; doubles with jitter.
    pub min_backoff_ms: u64,
    /// Longest retry delay.
    pub max_backoff_ms: u64,
    /// Per-request timeout.
    pub timeout_ms: u64,
    /// Write golden values back (ClickUp's statuses to HubSpot, HubSpot's values to ClickUp's
    /// custom fields) when API tokens are set.
    pub write_back: bool,
}

impl std::fmt::Debug for ClickUpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickUpConfig")
            .field(
                "webhook_secrets",
                &self.webhook_secrets.as_ref().map(|_| "<redacted>"),
            )
            .field("api_token", &self.api_token.as_ref().map(|_| "<redacted>"))
            .field("user_id", &self.user_id)
            .field("team_id", &self.team_id)
            .field("list_ids", &self.list_ids)
            .field("api_base", &self.api_base)
            .field("requests_per_minute", &self.requests_per_minute)
            .finish()
    }
}

impl ClickUpConfig {
    /// The secret of each ClickUp webhook, by webhook id.
    pub fn secrets(&self) -> Result<HashMap<String, WebhookSecret>, ConfigError> {
        let Some(raw) = &self.webhook_secrets else {
            return Ok(HashMap::new());
        };
        parse_webhook_secrets(raw.expose_secret())
    }
}

fn parse_webhook_secrets(raw: &str) -> Result<HashMap<String, WebhookSecret>, ConfigError> {
    let mut map = HashMap::new();
    for (index, pair) in raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let Some((id, secret)) = pair.split_once('=') else {
            return Err(ConfigError::BadValue {
                key: "clickup.webhook_secrets",
                reason: format!("entry {} is not `webhook_id=secret`", index + 1),
            });
        };
        let (id, secret) = (id.trim(), secret.trim());
        if id.is_empty() || secret.is_empty() {
            return Err(ConfigError::BadValue {
                key: "clickup.webhook_secrets",
                reason: format!("entry {} has an empty webhook id or secret", index + 1),
            });
        }
        map.insert(id.to_owned(), WebhookSecret::new(secret.to_owned()));
    }
    Ok(map)
}

/// Log settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Output format.
    pub format: LogFormat,
    /// `tracing_subscriber::EnvFilter` directives; `RUST_LOG` overrides.
    pub filter: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for production log pipelines.
    Json,
}

impl Config {
    /// Loads defaults, then `file` (when given), then the environment, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, EnvSettings::from_process())
    }

    /// Like `load`, with the environment given (tests).
    pub fn load_from(file: Option<&Path>, env: EnvSettings) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = file {
            reject_secrets_in_file(path)?;
            figment = figment.merge(Blankless(Toml::file_exact(path)));
        }
        let names = env.names();
        let config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| unknown_key_named(e, &names))?;
        config.validate()?;
        config.check_secrets()?;
        Ok(config)
    }

    /// Loads the built-in defaults alone (tests and benches start from these).
    pub fn defaults() -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Toml::string(DEFAULTS))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses placeholders and short signing secrets or tokens, naming the variable: an empty
    /// HubSpot secret made `sha256(body)` a valid signature.
    pub fn check_secrets(&self) -> Result<(), ConfigError> {
        use secrets::{MIN_SECRET_LEN, check, check_url_password};
        if let Some(secret) = &self.hubspot.client_secret {
            check("hubspot.client_secret", secret.expose_secret(), MIN_SECRET_LEN)?;
        }
        if let Some(token) = &self.server.bootstrap_token {
            check("server.bootstrap_token", token.expose_secret(), MIN_SECRET_LEN)?;
        }
        if let Some(raw) = &self.clickup.webhook_secrets {
            for (index, pair) in raw.expose_secret().split(',').enumerate() {
                if let Some((_, secret)) = pair.split_once('=')
                    && let Some(reason) = secrets::weakness(secret.trim(), MIN_SECRET_LEN)
                {
                    return Err(ConfigError::WeakSecret {
                        key: "clickup.webhook_secrets",
                        env: env_var("clickup.webhook_secrets"),
                        reason: format!("entry {}: the secret {reason}", index + 1),
                    });
                }
            }
        }
        // API tokens have the provider's own format; only placeholders are refused.
        if let Some(token) = &self.hubspot.access_token {
            check("hubspot.access_token", token.expose_secret(), 0)?;
        }
        if let Some(token) = &self.clickup.api_token {
            check("clickup.api_token", token.expose_secret(), 0)?;
        }
        check_url_password("database.url", self.database.url.expose_secret())?;
        if let Some(url) = &self.queue.amqp_url {
            check_url_password("queue.amqp_url", url.expose_secret())?;
        }
        Ok(())
    }

    /// Checks what types alone cannot; names the offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| {
            Err(ConfigError::BadValue {
                key,
                reason: reason.to_owned(),
            })
        };
        let base = &self.server.public_base_url;
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return bad("server.public_base_url", "must start with https:// or http://");
        }
        if base.contains('?') || base.contains('#') {
            return bad("server.public_base_url", "must not hold a query or fragment");
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes", "must be at least 1024");
        }
        for (key, value) in [
            ("server.body_timeout_ms", self.server.body_timeout_ms),
            (
                "server.client_request_timeout_ms",
                self.server.client_request_timeout_ms,
            ),
            ("server.max_connections", self.server.max_connections as u64),
            (
                "server.max_connection_rate",
                self.server.max_connection_rate as u64,
            ),
            ("server.max_in_flight", self.server.max_in_flight as u64),
            ("queue.confirm_timeout_ms", self.queue.confirm_timeout_ms),
            (
                "database.connect_timeout_secs",
                self.database.connect_timeout_secs,
            ),
            (
                "database.transaction_timeout_ms",
                self.database.transaction_timeout_ms,
            ),
            ("queue.heartbeat_secs", u64::from(self.queue.heartbeat_secs)),
            ("outbox.max_attempts", u64::from(self.outbox.max_attempts)),
            ("outbox.interval_ms", self.outbox.interval_ms),
            ("outbox.lease_secs", self.outbox.lease_secs),
            ("outbox.batch_size", self.outbox.batch_size),
            (
                "server.bulk_rows_per_sec",
                u64::from(self.server.bulk_rows_per_sec),
            ),
        ] {
            if value == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if let Some(list) = self
            .projects
            .clickup_list_ids
            .iter()
            .find(|l| self.clickup.list_ids.contains(l))
        {
            return bad(
                "projects.clickup_list_ids",
                format!(
                    "list {list} is also in clickup.list_ids: a list holds clients or projects, not both"
                )
                .as_str(),
            );
        }
        let url = self.database.url.expose_secret();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return bad("database.url", "must be a sqlite: or postgres:// URL");
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        let m = &self.matching;
        if !(0.0 < m.review_threshold && m.review_threshold <= m.link_threshold && m.link_threshold < 1.0) {
            return bad(
                "matching.link_threshold",
                "thresholds must satisfy 0 < review_threshold <= link_threshold < 1",
            );
        }
        if !(0.0..1.0).contains(&m.ambiguity_margin) {
            return bad("matching.ambiguity_margin", "must be in [0, 1)");
        }
        if m.max_block == 0 {
            return bad("matching.max_block", "must be at least 1");
        }
        self.matching.matching()?;
        if let Some(amqp) = &self.queue.amqp_url {
            let amqp = amqp.expose_secret();
            if !(amqp.starts_with("amqp://") || amqp.starts_with("amqps://")) {
                return bad("queue.amqp_url", "must be an amqp:// or amqps:// URL");
            }
        }
        if self.queue.max_attempts == 0 {
            return bad("queue.max_attempts", "must be at least 1");
        }
        if self.queue.prefix.is_empty()
            || !self
                .queue
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return bad(
                "queue.prefix",
                "must be non-empty ASCII letters, digits, `.`, `_` or `-`",
            );
        }
        if self.queue.prefetch == 0 {
            return bad("queue.prefetch", "must be at least 1");
        }
        if self.worker.batch_size == 0 {
            return bad("worker.batch_size", "must be at least 1");
        }
        if self.worker.concurrency == 0 {
            return bad("worker.concurrency", "must be at least 1");
        }
        if self.hubspot.signature_tolerance_secs <= 0 {
            return bad("hubspot.signature_tolerance_secs", "must be positive");
        }
        self.clickup.secrets()?;
        if self.hubspot.requests_per_window < 2 || self.hubspot.window_ms == 0 {
            return bad(
                "hubspot.requests_per_window",
                "must allow at least 2 requests per non-empty window",
            );
        }
        if self.clickup.requests_per_minute < 2 {
            return bad("clickup.requests_per_minute", "must be at least 2");
        }
        if self.api.attempts == 0 {
            return bad("api.attempts", "must be at least 1");
        }
        self.retention.validate()?;
        self.console.validate()
    }

    /// The `[projects]` section, shared, while project lists are configured (write-back and
    /// the drainer place project values by it).
    pub fn projects_if_enabled(&self) -> Option<std::sync::Arc<ProjectsConfig>> {
        self.projects
            .enabled()
            .then(|| std::sync::Arc::new(self.projects.clone()))
    }

    /// Who we are at each source, to recognise our own writes' echoes.
    pub fn own_writes(&self) -> crate::sources::OwnWrites {
        crate::sources::OwnWrites {
            hubspot_app_id: self.hubspot.app_id.clone(),
            clickup_user_id: self.clickup.user_id.clone(),
        }
    }

    /// One line for the start-up log: what runs, against what, and which secrets are missing
    /// (so a newcomer sees why HubSpot webhooks get 401 before the first one arrives).
    pub fn summary(&self, roles: &str) -> String {
        let queue = if self.queue.amqp_url.is_some() {
            format!("RabbitMQ (prefix {})", self.queue.prefix)
        } else {
            "embedded database queue".to_owned()
        };
        let mut missing = Vec::new();
        if self.hubspot.client_secret.is_none() {
            missing.push(format!(
                "{} (HubSpot webhooks refused)",
                env_var("hubspot.client_secret")
            ));
        }
        if self.clickup.webhook_secrets.is_none() {
            missing.push(format!(
                "{} (ClickUp webhooks refused)",
                env_var("clickup.webhook_secrets")
            ));
        }
        if self.hubspot.access_token.is_none() {
            missing.push(format!(
                "{} (no HubSpot enrichment or backfill)",
                env_var("hubspot.access_token")
            ));
        }
        if self.clickup.api_token.is_none() {
            missing.push(format!(
                "{} (no ClickUp enrichment or backfill)",
                env_var("clickup.api_token")
            ));
        }
        let missing = if missing.is_empty() {
            "none".to_owned()
        } else {
            missing.join(", ")
        };
        format!(
            "roles: {roles}; database: {}; queue: {queue}; public base URL: {}; missing secrets: {missing}",
            secrets::redact_password(self.database.url.expose_secret()),
            self.server.public_base_url,
        )
    }

    /// Whether the store is a SQLite file (single-writer: the embedded default).
    pub fn is_sqlite(&self) -> bool {
        self.database.url.expose_secret().starts_with("sqlite:")
    }
}

/// Names the key and its origin (variable or file) when a key is unknown.
fn unknown_key_named(error: figment::Error, env_names: &[String]) -> ConfigError {
    if let figment::error::Kind::UnknownField(field, _) = &error.kind {
        let mut path = error.path.clone();
        if path.last() != Some(field) {
            path.push(field.clone());
        }
        let key = path.join(".");
        let origin = match &error.metadata {
            Some(meta) if meta.name.contains("environment") => {
                let var = env_var(&key);
                let section = format!("{var}__");
                let set: Vec<&str> = env_names
                    .iter()
                    .filter(|name| **name == var || name.starts_with(&section))
                    .map(String::as_str)
                    .collect();
                if set.is_empty() { var } else { set.join(", ") }
            }
            Some(meta) => meta
                .source
                .as_ref()
                .map_or_else(|| meta.name.to_string(), ToString::to_string),
            None => "configuration".into(),
        };
        return ConfigError::UnknownKey { key, origin };
    }
    ConfigError::Invalid(Box::new(error))
}

fn reject_secrets_in_file(path: &Path) -> Result<(), ConfigError> {
    let file = Figment::from(Blankless(Toml::file_exact(path)));
    for key in SECRET_KEYS {
        if file.find_value(key).is_ok() {
            return Err(ConfigError::SecretInFile {
                key,
                env: format!("CLIENTSYNC_{}", key.replace('.', "__").to_uppercase()),
                file: path.display().to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_embedded() {
        let config = Config::defaults().unwrap();
        assert!(config.is_sqlite());
        assert!(config.queue.amqp_url.is_none());
    }

    #[test]
    fn secret_in_a_file_is_refused_and_the_env_var_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[hubspot]\nclient_secret = \"s3cr3t\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("CLIENTSYNC_HUBSPOT__CLIENT_SECRET"), "{err}");
        assert!(!err.contains("s3cr3t"));
    }

    #[test]
    fn bad_value_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[server]\npublic_base_url = \"ftp://x\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("server.public_base_url"), "{err}");
    }

    #[test]
    fn clickup_secrets_parse_as_id_secret_pairs() {
        let map = parse_webhook_secrets(" a-1=one , b-2=two").unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["b-2"].expose(), b"two");
        assert!(parse_webhook_secrets("nope").is_err());
    }

    #[test]
    fn the_start_up_summary_names_roles_backends_and_missing_secrets_but_no_password() {
        let config = Config::load_from(
            None,
            env(&[
                (
                    "CLIENTSYNC_DATABASE__URL",
                    "postgres://app:hunter2-hunter2@db/app",
                ),
                (
                    "CLIENTSYNC_HUBSPOT__CLIENT_SECRET",
                    "3b1f0c2e-9d7a-4c11-8e52-6f0a1b2c3d4e",
                ),
            ]),
        )
        .unwrap();
        let line = config.summary("receiver");
        assert!(line.contains("roles: receiver"), "{line}");
        assert!(line.contains("postgres://app:***@db/app"), "{line}");
        assert!(!line.contains("hunter2"), "{line}");
        assert!(line.contains("embedded database queue"), "{line}");
        assert!(line.contains("http://localhost:8080"), "{line}");
        assert!(line.contains("CLIENTSYNC_CLICKUP__WEBHOOK_SECRETS"), "{line}");
        assert!(!line.contains("CLIENTSYNC_HUBSPOT__CLIENT_SECRET"), "{line}");
    }

    #[test]
    fn a_refused_request_is_logged_once_by_default_not_again_by_the_request_logger() {
        let config = Config::defaults().unwrap();
        assert!(
            config
                .telemetry
                .filter
                .contains("tracing_actix_web::middleware=off"),
            "{}",
            config.telemetry.filter
        );
    }

    #[test]
    fn a_secret_made_of_digits_stays_text() {
        let config = Config::load_from(
            None,
            env(&[("CLIENTSYNC_SERVER__BOOTSTRAP_TOKEN", "12345678901234567890")]),
        )
        .unwrap();
        let token = config.server.bootstrap_token.unwrap();
        assert_eq!(token.expose_secret(), "12345678901234567890");
    }

    #[test]
    fn the_password_operators_passwd_reads_is_not_taken_for_a_setting() {
        let config = Config::load_from(
            None,
            env(&[("CLIENTSYNC_PASSWORD", "correct horse battery staple")]),
        );
        assert!(config.is_ok(), "{:?}", config.err());
    }

    #[test]
    fn console_sessions_must_last_and_their_cap_must_cover_the_idle_time() {
        let config = Config::load_from(None, env(&[("CLIENTSYNC_CONSOLE__SESSION_IDLE_MINUTES", "0")]));
        assert!(config.is_err());
        let config = Config::load_from(
            None,
            env(&[
                ("CLIENTSYNC_CONSOLE__SESSION_IDLE_MINUTES", "120"),
                ("CLIENTSYNC_CONSOLE__SESSION_MAX_HOURS", "1"),
            ]),
        );
        assert!(config.is_err());
        let lifetime = Config::load_from(None, env(&[])).unwrap().console.lifetime();
        assert_eq!(lifetime.idle.as_secs(), 3600);
        assert_eq!(lifetime.absolute.as_secs(), 12 * 3600);
    }

    fn env(pairs: &[(&str, &str)]) -> EnvSettings {
        EnvSettings::from_vars(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn an_empty_or_blank_secret_in_the_environment_is_unset() {
        let config = Config::load_from(
            None,
            env(&[
                ("CLIENTSYNC_HUBSPOT__CLIENT_SECRET", ""),
                ("CLIENTSYNC_SERVER__BOOTSTRAP_TOKEN", "   "),
                ("CLIENTSYNC_CLICKUP__API_TOKEN", ""),
                ("CLIENTSYNC_CLICKUP__TEAM_ID", " "),
            ]),
        )
        .unwrap();
        assert!(
            config.hubspot.client_secret.is_none(),
            "an empty secret verifies nothing"
        );
        assert!(config.hubspot.secret().is_none());
        assert!(config.server.bootstrap_token.is_none(), "no bootstrap token");
        assert!(config.clickup.api_token.is_none());
        assert!(config.clickup.team_id.is_none());
    }

    #[test]
    fn blank_values_in_a_file_are_unset() {
        let (_dir, path) = file(
            "[clickup]\nteam_id = \"\"\nlist_ids = [\"\", \" 42 \"]\n[matching]\ndefault_country = \" \"\n",
        );
        let config = Config::load_from(Some(&path), env(&[])).unwrap();
        assert!(config.clickup.team_id.is_none());
        assert_eq!(config.clickup.list_ids, vec!["42".to_owned()]);
        assert!(config.matching.default_country.is_none());
    }

    #[test]
    fn a_short_secret_is_refused_naming_the_variable_but_not_the_value() {
        let err = Config::load_from(None, env(&[("CLIENTSYNC_HUBSPOT__CLIENT_SECRET", "abc123")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("CLIENTSYNC_HUBSPOT__CLIENT_SECRET"), "{err}");
        assert!(err.contains("16"), "{err}");
        assert!(!err.contains("abc123"), "{err}");
    }

    #[test]
    fn placeholder_secrets_are_refused_at_start_up() {
        for (var, value) in [
            ("CLIENTSYNC_HUBSPOT__CLIENT_SECRET", "CHANGE-ME"),
            ("CLIENTSYNC_SERVER__BOOTSTRAP_TOKEN", "changeme"),
            ("CLIENTSYNC_CLICKUP__WEBHOOK_SECRETS", "WEBHOOK-ID=CHANGE-ME"),
            ("CLIENTSYNC_CLICKUP__API_TOKEN", "xxx"),
            ("CLIENTSYNC_HUBSPOT__ACCESS_TOKEN", "secret"),
            ("CLIENTSYNC_DATABASE__URL", "postgres://app:CHANGE-ME@db:5432/app"),
        ] {
            let err = Config::load_from(None, env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{var}: {err}");
            assert!(err.contains("placeholder"), "{var}: {err}");
        }
    }

    #[test]
    fn secrets_of_the_shapes_hubspot_and_clickup_issue_are_accepted() {
        let config = Config::load_from(
            None,
            env(&[
                (
                    "CLIENTSYNC_HUBSPOT__CLIENT_SECRET",
                    "3b1f0c2e-9d7a-4c11-8e52-6f0a1b2c3d4e",
                ),
                (
                    "CLIENTSYNC_CLICKUP__WEBHOOK_SECRETS",
                    "w1=7x1PK3mISQG0jBqeNYuhWn8alZdRtf5E",
                ),
                (
                    "CLIENTSYNC_SERVER__BOOTSTRAP_TOKEN",
                    "4f2b8c1d9e7a6b5c4d3e2f1a0b9c8d7e",
                ),
            ]),
        );
        assert!(config.is_ok(), "{:?}", config.err());
    }

    #[test]
    fn an_unknown_key_in_a_file_is_refused_and_named() {
        for (text, key) in [
            ("[server]\nprot = 9090\n", "server.prot"),
            ("[servr]\nport = 9090\n", "servr"),
        ] {
            let (_dir, path) = file(text);
            let err = Config::load_from(Some(&path), env(&[])).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{err}");
            assert!(err.contains("c.toml"), "the file is named: {err}");
        }
    }

    #[test]
    fn an_unknown_environment_variable_is_refused_and_named() {
        for (var, key) in [
            ("CLIENTSYNC_SERVER__PROT", "server.prot"),
            ("CLIENTSYNC_SERVR__PORT", "servr"),
        ] {
            let err = Config::load_from(None, env(&[(var, "9090")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("`{key}`")), "{err}");
            assert!(err.contains(var), "{err}");
        }
    }

    #[test]
    fn the_config_file_variable_is_not_taken_for_a_setting() {
        assert!(Config::load_from(None, env(&[("CLIENTSYNC_CONFIG", "/etc/clientsync.toml")])).is_ok());
    }

    #[test]
    fn lists_and_ids_from_the_environment_may_be_comma_separated_or_numeric() {
        let config = Config::load_from(
            None,
            env(&[
                ("CLIENTSYNC_CLICKUP__LIST_IDS", "901234567, 901234568,"),
                ("CLIENTSYNC_CLICKUP__TEAM_ID", "9012345"),
            ]),
        )
        .unwrap();
        assert_eq!(config.clickup.list_ids, vec!["901234567", "901234568"]);
        assert_eq!(config.clickup.team_id.as_deref(), Some("9012345"));
        let one = Config::load_from(None, env(&[("CLIENTSYNC_CLICKUP__LIST_IDS", "901234567")])).unwrap();
        assert_eq!(one.clickup.list_ids, vec!["901234567"]);
    }
}
