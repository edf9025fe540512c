//! What tests, the scenario and the CLI do with ClickUp: its ids, UI-style changes to tasks
//! (fields, status, time) that emit webhooks, and what a task holds, for assertions.

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;

use super::{Simulator, unknown};
use crate::simulator::{
    SimError, TaskStatus, WebhookHealth,
    clickup::{self, ClickUpError, store::Actor},
};

impl Simulator {
    /// The first (default) ClickUp list id.
    pub fn clickup_list_id(&self) -> String {
        self.shared
            .config
            .clickup_list_ids
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// `id=secret,id2=secret2`: the value for the service's `clickup.webhook_secrets`.
    pub fn clickup_webhook_secrets(&self) -> String {
        let world = self.shared.world();
        let pairs: Vec<String> = world
            .clickup
            .webhooks
            .iter()
            .map(|w| format!("{}={}", w.id, String::from_utf8_lossy(w.secret.expose())))
            .collect();
        pairs.join(",")
    }

    /// The webhook id of a list (the receiver's path segment).
    pub fn clickup_webhook_id(&self, list_id: &str) -> Option<String> {
        self.shared
            .world()
            .clickup
            .webhook_of(list_id)
            .map(|w| w.id.clone())
    }

    /// A custom field's UUID by display name (`Email`, `Tax ID`, `Project status`, …).
    pub fn clickup_field_id(&self, name: &str) -> Option<String> {
        self.shared.world().clickup.field(name).map(|f| f.id.clone())
    }

    /// A `drop_down` option's UUID by field and option name.
    pub fn clickup_option_id(&self, field: &str, option: &str) -> Option<String> {
        let world = self.shared.world();
        match &world.clickup.field(field)?.kind {
            clickup::store::FieldKind::DropDown(options) => options
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(option))
                .map(|o| o.id.clone()),
            _ => None,
        }
    }

    /// Creates a task as a UI user with custom fields by name or id (drop-downs by option name
    /// or UUID); emits `taskCreated` and `taskStatusUpdated`.
    pub fn create_task(
        &self,
        list_id: &str,
        name: &str,
        fields: &[(&str, &str)],
    ) -> Result<String, SimError> {
        let fields: Vec<(String, Value)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        self.shared
            .world()
            .clickup_create(list_id, name, &fields)
            .map_err(|e| clickup_error(e, list_id))
    }

    /// Sets a custom field (by name or id) as a UI user; emits `taskUpdated` when it changed.
    /// An empty value clears.
    pub fn set_field(&self, task_id: &str, field: &str, value: &str) -> Result<(), SimError> {
        self.shared
            .world()
            .clickup_write(task_id, field, &Value::String(value.to_owned()), Actor::Ui)
            .map_err(|e| clickup_error(e, task_id))
    }

    /// Moves a task to a status as a UI user; emits `taskStatusUpdated` when it changed.
    pub fn set_status(&self, task_id: &str, status: TaskStatus) -> Result<(), SimError> {
        self.shared
            .world()
            .clickup_status(task_id, status)
            .map_err(|e| clickup_error(e, task_id))
    }

    /// Deletes a task; emits `taskDeleted`.
    pub fn delete_task(&self, task_id: &str) -> Result<(), SimError> {
        self.shared
            .world()
            .clickup_delete(task_id)
            .map_err(|e| clickup_error(e, task_id))
    }

    /// A task's name and set custom fields by field name (drop-downs as option orderindex).
    pub fn task(&self, task_id: &str) -> Option<(String, BTreeMap<String, Value>)> {
        let world = self.shared.world();
        let task = world.clickup.tasks.get(task_id)?;
        let fields = world
            .clickup
            .fields
            .iter()
            .filter_map(|f| task.fields.get(&f.id).map(|v| (f.name.clone(), v.clone())))
            .collect();
        Some((task.name.clone(), fields))
    }

    /// Sets a ClickUp webhook's health, as ClickUp would after failures.
    pub fn set_webhook_health(&self, webhook_id: &str, health: WebhookHealth) -> Result<(), SimError> {
        let mut world = self.shared.world();
        let hook = world
            .clickup
            .webhooks
            .iter_mut()
            .find(|w| w.id == webhook_id)
            .ok_or_else(|| unknown("webhook", webhook_id))?;
        hook.health = health;
        Ok(())
    }

    /// A ClickUp webhook's health.
    pub fn webhook_health(&self, webhook_id: &str) -> Option<WebhookHealth> {
        let world = self.shared.world();
        world
            .clickup
            .webhooks
            .iter()
            .find(|w| w.id == webhook_id)
            .map(|w| w.health)
    }

    /// Sets (or with `None` removes) a task's time estimate as a UI user; emits
    /// `taskTimeEstimateUpdated` when it changed.
    pub fn set_time_estimate(&self, task_id: &str, estimate: Option<Duration>) -> Result<(), SimError> {
        let estimate_ms = estimate.map(millis).transpose()?;
        self.shared
            .world()
            .clickup_time_estimate(task_id, estimate_ms)
            .map_err(|e| clickup_error(e, task_id))
    }

    /// Tracks `spent` on a task as a UI user (one time entry ending now); emits
    /// `taskTimeTrackedUpdated`.
    pub fn track_time(&self, task_id: &str, spent: Duration) -> Result<(), SimError> {
        let spent_ms = millis(spent)?;
        self.shared
            .world()
            .clickup_track_time(task_id, spent_ms)
            .map_err(|e| clickup_error(e, task_id))
    }

    /// A task's time estimate and the time tracked on it, as the API serves them.
    pub fn task_time(&self, task_id: &str) -> Option<(Option<Duration>, Duration)> {
        let world = self.shared.world();
        let task = world.clickup.tasks.get(task_id)?;
        let duration = |ms: i64| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        Some((task.time_estimate_ms.map(duration), duration(task.time_spent_ms)))
    }
}

fn millis(duration: Duration) -> Result<i64, SimError> {
    i64::try_from(duration.as_millis())
        .map_err(|_| SimError::InvalidValue(format!("{duration:?} is too long")))
}

fn clickup_error(e: ClickUpError, id: &str) -> SimError {
    match e {
        ClickUpError::TaskNotFound => unknown("task", id),
        ClickUpError::ListNotFound => unknown("list", id),
        ClickUpError::FieldNotFound => unknown("custom field", id),
        other => SimError::InvalidValue(other.to_string()),
    }
}
