//! ClickUp's lists, custom fields, tasks and webhooks in memory, and the webhook events
//! their changes cause.

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub(crate) use super::values::{DropOption, FieldKind};
use super::{
    ClickUpError,
    ids::{radix36, secret},
    json::field_json,
    values::{history_value, stored_value},
};
use crate::{
    receiver::signature::WebhookSecret,
    simulator::{HealthStatus, TaskStatus, WebhookHealth},
};

/// A custom field available on every list.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    /// Field UUID.
    pub id: String,
    /// Display name (what our mapping reads).
    pub name: String,
    /// Type and options.
    pub kind: FieldKind,
    /// Creation time, Unix ms.
    pub created_ms: i64,
}

/// One task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    /// Task id.
    pub id: String,
    /// Task name ("Given Family" for people).
    pub name: String,
    /// Built-in status.
    pub status: TaskStatus,
    /// Home list.
    pub list_id: String,
    /// Set custom field values by field id: text as strings, `drop_down` as option orderindex.
    pub fields: BTreeMap<String, Value>,
    /// The task's time estimate, ms; `None` when nobody estimated it.
    pub time_estimate_ms: Option<i64>,
    /// Time tracked on the task so far, ms (the sum of its time entries).
    pub time_spent_ms: i64,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Last change, Unix ms.
    pub updated_ms: i64,
}

/// The webhook the simulator registered for one list.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    /// Webhook UUID (the receiver's path segment).
    pub id: String,
    /// Signing secret.
    pub secret: WebhookSecret,
    /// The list it watches.
    pub list_id: String,
    /// Delivery health.
    pub health: WebhookHealth,
}

/// Who made a change: a person in the UI or our service through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    /// A ClickUp user in the app.
    Ui,
    /// The API token's user.
    Api,
}

/// The whole workspace.
#[derive(Debug)]
pub(crate) struct ClickUpStore {
    /// Workspace (team) id.
    pub team_id: String,
    /// One webhook per list.
    pub webhooks: Vec<Webhook>,
    /// Custom fields, shared by every list.
    pub fields: Vec<FieldDef>,
    /// Tasks by id.
    pub tasks: BTreeMap<String, Task>,
    next_task: u64,
    next_history: u64,
    api_user: u64,
}

/// The id of the UI user whose changes the simulator makes.
const UI_USER: u64 = 81_000_001;

impl ClickUpStore {
    /// A workspace with the default fields and one webhook per list.
    pub(crate) fn new(
        team_id: &str,
        list_ids: &[String],
        api_user: u64,
        seed: u64,
        now_ms: i64,
        fixed_secret: Option<&WebhookSecret>,
    ) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0xC11C_0B00);
        let mut next_uuid = || {
            uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes())
                .into_uuid()
                .to_string()
        };
        let text = |name: &str, kind: FieldKind, id: String| FieldDef {
            id,
            name: name.to_owned(),
            kind,
            created_ms: now_ms,
        };
        let mut fields = vec![
            text("Email", FieldKind::Email, next_uuid()),
            text("Tax ID", FieldKind::ShortText, next_uuid()),
            text("Phone", FieldKind::Phone, next_uuid()),
            text("First name", FieldKind::ShortText, next_uuid()),
            text("Last name", FieldKind::ShortText, next_uuid()),
            text("Company", FieldKind::ShortText, next_uuid()),
        ];
        for (name, options) in [
            (
                "Project status",
                [("Active", "#2ecd6f"), ("On hold", "#f9d900"), ("Done", "#7b68ee")],
            ),
            (
                "Payment status",
                [
                    ("Paid", "#2ecd6f"),
                    ("Pending", "#f9d900"),
                    ("Overdue", "#e50000"),
                ],
            ),
        ] {
            let id = next_uuid();
            let options = (0u64..)
                .zip(options)
                .map(|(orderindex, (label, color))| DropOption {
                    id: next_uuid(),
                    name: label.to_owned(),
                    color: color.to_owned(),
                    orderindex,
                })
                .collect();
            fields.push(text(name, FieldKind::DropDown(options), id));
        }
        let webhooks = list_ids
            .iter()
            .map(|list_id| Webhook {
                id: next_uuid(),
                secret: fixed_secret
                    .cloned()
                    .unwrap_or_else(|| WebhookSecret::new(secret())),
                list_id: list_id.clone(),
                health: WebhookHealth {
                    status: HealthStatus::Active,
                    fail_count: 0,
                },
            })
            .collect();
        // Project fields come after the webhooks, so the ids drawn before them stay as they were.
        for name in ["Client", "Product type", "Amount"] {
            let id = next_uuid();
            fields.push(text(name, FieldKind::ShortText, id));
        }
        Self {
            team_id: team_id.to_owned(),
            webhooks,
            fields,
            tasks: BTreeMap::new(),
            next_task: 0,
            next_history: 2_800_768_061_568_222_000,
            api_user,
        }
    }

    /// Whether a list exists.
    pub(crate) fn has_list(&self, list_id: &str) -> bool {
        self.webhooks.iter().any(|w| w.list_id == list_id)
    }

    /// A field by UUID or display name.
    pub(crate) fn field(&self, reference: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == reference).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(reference))
        })
    }

    /// Creates a task; its id and the `taskCreated` + `taskStatusUpdated` events.
    pub(crate) fn create(
        &mut self,
        list_id: &str,
        name: &str,
        fields: &[(String, Value)],
        now_ms: i64,
    ) -> Result<(String, Vec<(String, Value)>), ClickUpError> {
        if !self.has_list(list_id) {
            return Err(ClickUpError::ListNotFound);
        }
        let mut values = BTreeMap::new();
        for (reference, value) in fields {
            let field = self.field(reference).ok_or(ClickUpError::FieldNotFound)?;
            if let Some(stored) = stored_value(field, value, Actor::Ui)? {
                values.insert(field.id.clone(), stored);
            }
        }
        self.next_task += 1;
        let id = format!("86{}", radix36(self.next_task));
        self.tasks.insert(
            id.clone(),
            Task {
                id: id.clone(),
                name: name.to_owned(),
                status: TaskStatus::ToDo,
                list_id: list_id.to_owned(),
                fields: values,
                time_estimate_ms: None,
                time_spent_ms: 0,
                created_ms: now_ms,
                updated_ms: now_ms,
            },
        );
        let creation = self.item(
            list_id,
            "task_creation",
            Actor::Ui,
            now_ms,
            Value::Null,
            Value::Null,
        );
        let status = self.item(
            list_id,
            "status",
            Actor::Ui,
            now_ms,
            Value::Null,
            TaskStatus::ToDo.json(),
        );
        Ok((
            id.clone(),
            vec![
                self.event("taskCreated", &id, list_id, Some(creation)),
                self.event("taskStatusUpdated", &id, list_id, Some(status)),
            ],
        ))
    }

    /// Sets (or with `null` clears) a custom field; the `taskUpdated` event when it changed.
    pub(crate) fn set_field(
        &mut self,
        task_id: &str,
        field_ref: &str,
        value: &Value,
        actor: Actor,
        now_ms: i64,
    ) -> Result<Option<(String, Value)>, ClickUpError> {
        let field = self.field(field_ref).ok_or(ClickUpError::FieldNotFound)?.clone();
        let task = self.tasks.get_mut(task_id).ok_or(ClickUpError::TaskNotFound)?;
        let stored = stored_value(&field, value, actor)?;
        let before = task.fields.get(&field.id).cloned();
        if before == stored {
            return Ok(None);
        }
        match &stored {
            Some(v) => task.fields.insert(field.id.clone(), v.clone()),
            None => task.fields.remove(&field.id),
        };
        task.updated_ms = now_ms;
        let list_id = task.list_id.clone();
        let (before, after) = (history_value(&field, before), history_value(&field, stored));
        let mut item = self.item(&list_id, "custom_field", actor, now_ms, before, after);
        let mut described = field_json(&field);
        if let Some(o) = described.as_object_mut() {
            o.retain(|k, _| matches!(k.as_str(), "id" | "name" | "type" | "type_config"));
        }
        item["custom_field"] = described;
        Ok(Some(self.event("taskUpdated", task_id, &list_id, Some(item))))
    }

    /// Moves a task to a status; the `taskStatusUpdated` event when it changed.
    pub(crate) fn set_status(
        &mut self,
        task_id: &str,
        status: TaskStatus,
        now_ms: i64,
    ) -> Result<Option<(String, Value)>, ClickUpError> {
        let task = self.tasks.get_mut(task_id).ok_or(ClickUpError::TaskNotFound)?;
        if task.status == status {
            return Ok(None);
        }
        let before = task.status.json();
        task.status = status;
        task.updated_ms = now_ms;
        let list_id = task.list_id.clone();
        let item = self.item(&list_id, "status", Actor::Ui, now_ms, before, status.json());
        Ok(Some(self.event(
            "taskStatusUpdated",
            task_id,
            &list_id,
            Some(item),
        )))
    }

    /// Deletes a task; the `taskDeleted` event (no history items).
    pub(crate) fn delete(&mut self, task_id: &str) -> Result<(String, Value), ClickUpError> {
        let task = self.tasks.remove(task_id).ok_or(ClickUpError::TaskNotFound)?;
        Ok(self.event("taskDeleted", task_id, &task.list_id, None))
    }

    /// The webhook of a list.
    pub(crate) fn webhook_of(&self, list_id: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.list_id == list_id)
    }

    /// A webhook event about one task, to the webhook of its list: (webhook id, body).
    pub(super) fn event(
        &self,
        name: &str,
        task_id: &str,
        list_id: &str,
        item: Option<Value>,
    ) -> (String, Value) {
        let webhook_id = self.webhook_of(list_id).map(|w| w.id.clone()).unwrap_or_default();
        let mut body = json!({"event": name, "task_id": task_id, "webhook_id": webhook_id});
        if let Some(item) = item {
            body["history_items"] = json!([item]);
        }
        (webhook_id, body)
    }

    /// The next history item: `field` changed from `before` to `after`, by `actor`.
    pub(super) fn item(
        &mut self,
        list_id: &str,
        field: &str,
        actor: Actor,
        now_ms: i64,
        before: Value,
        after: Value,
    ) -> Value {
        self.next_history += 1;
        let user = match actor {
            Actor::Ui => json!({"id": UI_USER, "username": "Laura Gómez", "email": "laura@sim.example",
                "color": "#7b68ee", "initials": "LG", "profilePicture": null}),
            Actor::Api => {
                json!({"id": self.api_user, "username": "clientsync", "email": "clientsync@sim.example",
                "color": "#0288d1", "initials": "C", "profilePicture": null})
            }
        };
        json!({
            "id": self.next_history.to_string(), "type": 1, "date": now_ms.to_string(), "field": field,
            "parent_id": list_id, "data": {}, "source": null, "user": user, "before": before, "after": after,
        })
    }
}
