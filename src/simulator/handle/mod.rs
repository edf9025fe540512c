//! The running simulator and what tests, the scenario and the CLI do with it: base URLs,
//! UI-style changes that emit webhooks, fault injection, counters and delivery. ClickUp's side
//! is in `clickup`.

mod clickup;

use std::{collections::BTreeMap, net::TcpListener, sync::Arc};

use actix_web::{App, HttpServer, dev::ServerHandle, web};

use super::{
    Delivery, Endpoint, Fault, GroundTruth, ObjectType, PendingEvent, Scenario, SenderConfig, SimConfig,
    SimError, Write, clickup as clickup_api, hubspot, scenario, sender,
    state::{Outgoing, Shared},
};
use crate::domain::source::Source;

/// A running simulator; dropping it without `stop` leaves the server running until the
/// runtime ends.
pub struct Simulator {
    shared: Arc<Shared>,
    server: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    port: u16,
    client: reqwest::Client,
}

impl Simulator {
    /// Binds 127.0.0.1:`config.port` and serves both fake APIs on the current tokio runtime.
    pub fn start(config: SimConfig) -> Result<Self, SimError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SimError::NoRuntime)?;
        let asked = config.port;
        let bind = move |source| SimError::Bind { port: asked, source };
        let listener = TcpListener::bind((config.host.as_str(), config.port)).map_err(bind)?;
        let port = listener.local_addr().map_err(bind)?.port();
        let client = sender::client()?;
        let shared = Arc::new(Shared::new(config, format!("http://127.0.0.1:{port}")));
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
                .configure(hubspot::routes)
                .configure(clickup_api::routes)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(bind)?
        .run();
        let handle = server.handle();
        let task = runtime.spawn(server);
        Ok(Self {
            shared,
            server: handle,
            task,
            port,
            client,
        })
    }

    /// Stops the server, waiting for in-flight requests.
    pub async fn stop(self) {
        self.server.stop(true).await;
        let _ = self.task.await;
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Base URL for the HubSpot client: `http://127.0.0.1:PORT/hubspot` (+ `/crm/v3/objects/…`).
    pub fn hubspot_base(&self) -> String {
        self.shared.hubspot_base()
    }

    /// Base URL for the ClickUp client: `http://127.0.0.1:PORT/clickup/api` (+ `/v2/task/…`).
    pub fn clickup_base(&self) -> String {
        format!("{}/clickup/api", self.shared.origin)
    }

    /// The settings it runs with (tokens, app and user ids, limits).
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// Creates a contact as a UI user; emits `contact.creation` plus one `propertyChange`
    /// (CRM_UI) per property set, as HubSpot does for subscribed properties.
    pub fn create_contact(&self, props: &[(&str, &str)]) -> String {
        self.shared
            .world()
            .hubspot_create(ObjectType::Contact, &owned(props))
    }

    /// Creates a company as a UI user (same events as contacts).
    pub fn create_company(&self, props: &[(&str, &str)]) -> String {
        self.shared
            .world()
            .hubspot_create(ObjectType::Company, &owned(props))
    }

    /// Creates a deal as a UI user (same events as contacts): a project's billing side.
    pub fn create_deal(&self, props: &[(&str, &str)]) -> String {
        self.shared
            .world()
            .hubspot_create(ObjectType::Deal, &owned(props))
    }

    /// Changes a deal as a UI user.
    pub fn update_deal(&self, id: &str, props: &[(&str, &str)]) -> Result<(), SimError> {
        self.update(ObjectType::Deal, id, props)
    }

    /// Changes a contact as a UI user; one `propertyChange` (CRM_UI) per changed property.
    /// An empty value clears.
    pub fn update_contact(&self, id: &str, props: &[(&str, &str)]) -> Result<(), SimError> {
        self.update(ObjectType::Contact, id, props)
    }

    /// Changes a company as a UI user.
    pub fn update_company(&self, id: &str, props: &[(&str, &str)]) -> Result<(), SimError> {
        self.update(ObjectType::Company, id, props)
    }

    fn update(&self, kind: ObjectType, id: &str, props: &[(&str, &str)]) -> Result<(), SimError> {
        self.shared
            .world()
            .hubspot_write(kind, id, &owned(props), hubspot::store::Origin::Ui)
            .ok_or_else(|| unknown(kind.event_prefix(), id))
    }

    /// Deletes (archives) a contact; emits `contact.deletion`.
    pub fn delete_contact(&self, id: &str) -> Result<(), SimError> {
        self.shared
            .world()
            .hubspot_delete(ObjectType::Contact, id)
            .ok_or_else(|| unknown("contact", id))
    }

    /// Deletes (archives) a deal; emits `deal.deletion`.
    pub fn delete_deal(&self, id: &str) -> Result<(), SimError> {
        self.shared
            .world()
            .hubspot_delete(ObjectType::Deal, id)
            .ok_or_else(|| unknown("deal", id))
    }

    /// Deletes (archives) a company; emits `company.deletion`.
    pub fn delete_company(&self, id: &str) -> Result<(), SimError> {
        self.shared
            .world()
            .hubspot_delete(ObjectType::Company, id)
            .ok_or_else(|| unknown("company", id))
    }

    /// A live object's properties, for assertions.
    pub fn hubspot_object(&self, kind: ObjectType, id: &str) -> Option<BTreeMap<String, String>> {
        self.shared
            .world()
            .hubspot
            .get(kind, id, false)
            .map(|o| o.props.clone())
    }

    /// Makes the next API requests (either source) fail as the fault says.
    pub fn inject(&self, fault: Fault) {
        self.shared.world().faults.add(fault);
    }

    /// Requests received by one endpoint (refused ones included).
    pub fn calls(&self, endpoint: Endpoint) -> u64 {
        self.shared.world().calls.get(&endpoint).copied().unwrap_or(0)
    }

    /// Requests received by every endpoint.
    pub fn total_calls(&self) -> u64 {
        self.shared.world().calls.values().sum()
    }

    /// 429s served (natural and injected).
    pub fn rate_limited(&self) -> u64 {
        self.shared.world().rate_limited
    }

    /// Every API write received, in order.
    pub fn writes(&self) -> Vec<Write> {
        self.shared.world().writes.clone()
    }

    /// Webhook events waiting for `flush`.
    pub fn pending_events(&self) -> Vec<PendingEvent> {
        let world = self.shared.world();
        world
            .outbox
            .iter()
            .map(|o| match o {
                Outgoing::HubSpot(body) => PendingEvent {
                    source: Source::HubSpot,
                    webhook_id: None,
                    body: body.clone(),
                },
                Outgoing::ClickUp { webhook_id, body } => PendingEvent {
                    source: Source::ClickUp,
                    webhook_id: Some(webhook_id.clone()),
                    body: body.clone(),
                },
            })
            .collect()
    }

    /// Drops every pending event; how many there were.
    pub fn discard_pending(&self) -> usize {
        std::mem::take(&mut self.shared.world().outbox).len()
    }

    /// Changes where and how webhooks are delivered.
    pub fn set_sender(&self, sender: SenderConfig) {
        self.shared.world().sender = sender;
    }

    /// Delivers every pending event to the configured target, signed, with retries.
    pub async fn flush(&self) -> Result<Delivery, SimError> {
        sender::flush(&self.shared, &self.client).await
    }

    /// Loads a scenario without emitting webhooks (state a backfill should find). Changes made
    /// concurrently through the API while it runs emit nothing either.
    pub fn seed_silently(&self, scenario: &Scenario) -> Result<GroundTruth, SimError> {
        self.shared.world().emit = false;
        let truth = scenario::populate(self, scenario);
        self.shared.world().emit = true;
        truth
    }

    /// Loads a scenario emitting creation and property events, as real usage would.
    pub fn seed_with_webhooks(&self, scenario: &Scenario) -> Result<GroundTruth, SimError> {
        scenario::populate(self, scenario)
    }
}

fn owned(props: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
    props
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned()).filter(|v| !v.is_empty())))
        .collect()
}

fn unknown(what: &'static str, id: &str) -> SimError {
    SimError::Unknown {
        what,
        id: id.to_owned(),
    }
}
