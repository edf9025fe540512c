//! The simulated world behind both fake APIs: objects, tasks, the webhook outbox, the write log,
//! call counters and rate windows, under one lock that no request holds across an await.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use serde_json::Value;

use super::{
    Endpoint, SimConfig, Write,
    clickup::{
        ClickUpError,
        store::{Actor, ClickUpStore},
    },
    hubspot::{
        ObjectType,
        store::{HubSpotStore, Origin},
    },
    limits::{DailyQuota, Faults, FixedWindow, RollingWindow},
    sender::SenderConfig,
};
use crate::domain::source::Source;

/// A webhook event waiting for the sender.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// One HubSpot event (the sender batches them).
    HubSpot(Value),
    /// One ClickUp event for one webhook.
    ClickUp {
        /// The webhook (and so the secret and path) it goes to.
        webhook_id: String,
        /// The JSON body.
        body: Value,
    },
}

/// What the server and the handle share.
pub(crate) struct Shared {
    /// The simulator's settings.
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    world: Mutex<World>,
}

impl Shared {
    /// Builds the world for a bound server.
    pub(crate) fn new(config: SimConfig, origin: String) -> Self {
        let world = World::new(&config);
        Self {
            config,
            origin,
            world: Mutex::new(world),
        }
    }

    /// Locks the world (a poisoned lock is still usable: the state is plain data).
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Base URL the HubSpot client is configured with.
    pub(crate) fn hubspot_base(&self) -> String {
        format!("{}/hubspot", self.origin)
    }
}

/// Everything that changes while the simulator runs.
pub(crate) struct World {
    /// HubSpot's objects.
    pub hubspot: HubSpotStore,
    /// ClickUp's workspace.
    pub clickup: ClickUpStore,
    /// Events not yet sent.
    pub outbox: Vec<Outgoing>,
    /// Every API write received, in order.
    pub writes: Vec<Write>,
    /// Requests received per endpoint.
    pub calls: HashMap<Endpoint, u64>,
    /// 429s served.
    pub rate_limited: u64,
    /// Injected faults still to serve.
    pub faults: Faults,
    /// HubSpot's per-token burst window.
    pub hubspot_burst: RollingWindow,
    /// HubSpot search's per-second window.
    pub hubspot_search: RollingWindow,
    /// HubSpot's daily quota.
    pub hubspot_daily: DailyQuota,
    /// ClickUp's per-token window.
    pub clickup_window: FixedWindow,
    /// Where and how webhooks go.
    pub sender: SenderConfig,
    /// Whether changes queue webhook events (off while seeding silently).
    pub emit: bool,
    last_ms: i64,
}

impl World {
    fn new(config: &SimConfig) -> Self {
        let now = chrono::Utc::now().timestamp_millis();
        let limits = &config.limits;
        Self {
            hubspot: HubSpotStore::new(config.hubspot_app_id, config.hubspot_portal_id),
            clickup: ClickUpStore::new(
                &config.clickup_team_id,
                &config.clickup_list_ids,
                config.clickup_user_id,
                config.seed,
                now,
                config.clickup_webhook_secret.as_ref(),
            ),
            outbox: Vec::new(),
            writes: Vec::new(),
            calls: HashMap::new(),
            rate_limited: 0,
            faults: Faults::default(),
            hubspot_burst: RollingWindow::new(limits.hubspot_burst, limits.hubspot_interval),
            hubspot_search: RollingWindow::new(limits.hubspot_search_per_second, Duration::from_secs(1)),
            hubspot_daily: DailyQuota::new(limits.hubspot_daily),
            clickup_window: FixedWindow::new(limits.clickup_per_window, limits.clickup_window),
            sender: config.sender.clone(),
            emit: true,
            last_ms: now,
        }
    }

    /// "Now" in Unix ms, strictly later than any earlier tick so changes order.
    pub(crate) fn tick(&mut self) -> i64 {
        self.last_ms = chrono::Utc::now().timestamp_millis().max(self.last_ms + 1);
        self.last_ms
    }

    /// Counts a request to an endpoint.
    pub(crate) fn count_call(&mut self, endpoint: Endpoint) {
        *self.calls.entry(endpoint).or_default() += 1;
    }

    fn queue(&mut self, event: Outgoing) {
        if self.emit {
            self.outbox.push(event);
        }
    }

    fn queue_clickup(&mut self, (webhook_id, body): (String, Value)) {
        self.queue(Outgoing::ClickUp { webhook_id, body });
    }

    /// Creates a HubSpot object as a UI user would.
    pub(crate) fn hubspot_create(&mut self, kind: ObjectType, props: &[(String, Option<String>)]) -> String {
        let now = self.tick();
        let (id, events) = self.hubspot.create(kind, props, Origin::Ui, now);
        events.into_iter().for_each(|e| self.queue(Outgoing::HubSpot(e)));
        id
    }

    /// Writes HubSpot properties; API writes are logged. `None` when the object is unknown.
    pub(crate) fn hubspot_write(
        &mut self,
        kind: ObjectType,
        id: &str,
        props: &[(String, Option<String>)],
        origin: Origin,
    ) -> Option<()> {
        let now = self.tick();
        let events = self.hubspot.update(kind, id, props, origin, now)?;
        if origin == Origin::Api {
            self.writes.extend(props.iter().map(|(name, value)| Write {
                source: Source::HubSpot,
                object_id: id.to_owned(),
                field: name.clone(),
                value: value.clone().map_or(Value::Null, Value::String),
            }));
        }
        events.into_iter().for_each(|e| self.queue(Outgoing::HubSpot(e)));
        Some(())
    }

    /// Archives a HubSpot object. `None` when unknown.
    pub(crate) fn hubspot_delete(&mut self, kind: ObjectType, id: &str) -> Option<()> {
        let now = self.tick();
        let event = self.hubspot.delete(kind, id, now)?;
        self.queue(Outgoing::HubSpot(event));
        Some(())
    }

    /// Creates a ClickUp task as a UI user would.
    pub(crate) fn clickup_create(
        &mut self,
        list_id: &str,
        name: &str,
        fields: &[(String, Value)],
    ) -> Result<String, ClickUpError> {
        let now = self.tick();
        let (id, events) = self.clickup.create(list_id, name, fields, now)?;
        events.into_iter().for_each(|e| self.queue_clickup(e));
        Ok(id)
    }

    /// Sets a custom field; API writes are logged.
    pub(crate) fn clickup_write(
        &mut self,
        task_id: &str,
        field: &str,
        value: &Value,
        actor: Actor,
    ) -> Result<(), ClickUpError> {
        let now = self.tick();
        let event = self.clickup.set_field(task_id, field, value, actor, now)?;
        if actor == Actor::Api {
            self.writes.push(Write {
                source: Source::ClickUp,
                object_id: task_id.to_owned(),
                field: field.to_owned(),
                value: value.clone(),
            });
        }
        event.into_iter().for_each(|e| self.queue_clickup(e));
        Ok(())
    }

    /// Moves a task to a status.
    pub(crate) fn clickup_status(
        &mut self,
        task_id: &str,
        status: super::TaskStatus,
    ) -> Result<(), ClickUpError> {
        let now = self.tick();
        let event = self.clickup.set_status(task_id, status, now)?;
        event.into_iter().for_each(|e| self.queue_clickup(e));
        Ok(())
    }

    /// Sets or removes a task's time estimate.
    pub(crate) fn clickup_time_estimate(
        &mut self,
        task_id: &str,
        estimate_ms: Option<i64>,
    ) -> Result<(), ClickUpError> {
        let now = self.tick();
        let event = self.clickup.set_time_estimate(task_id, estimate_ms, now)?;
        event.into_iter().for_each(|e| self.queue_clickup(e));
        Ok(())
    }

    /// Tracks time on a task.
    pub(crate) fn clickup_track_time(&mut self, task_id: &str, spent_ms: i64) -> Result<(), ClickUpError> {
        let now = self.tick();
        let event = self.clickup.track_time(task_id, spent_ms, now)?;
        self.queue_clickup(event);
        Ok(())
    }

    /// Deletes a task.
    pub(crate) fn clickup_delete(&mut self, task_id: &str) -> Result<(), ClickUpError> {
        let event = self.clickup.delete(task_id)?;
        self.queue_clickup(event);
        Ok(())
    }
}

/// Unix ms as HubSpot's RFC 3339 with milliseconds (`2026-11-25T10:00:00.000Z`).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
