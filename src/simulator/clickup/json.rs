//! ClickUp's JSON shapes for tasks, custom fields and webhooks.

use serde_json::{Value, json};

use super::store::{ClickUpStore, FieldDef, FieldKind, Task, Webhook};
use crate::simulator::{HealthStatus, TaskStatus};

impl TaskStatus {
    /// The status name ClickUp shows.
    pub fn name(self) -> &'static str {
        match self {
            TaskStatus::ToDo => "to do",
            TaskStatus::InProgress => "in progress",
            TaskStatus::Complete => "complete",
        }
    }

    /// Whether the status closes the task (closed tasks are hidden from list scans by default).
    pub fn is_closed(self) -> bool {
        self == TaskStatus::Complete
    }

    /// The task's `status` object.
    pub(crate) fn json(self) -> Value {
        let (color, kind, index) = match self {
            TaskStatus::ToDo => ("#d3d3d3", "open", 0),
            TaskStatus::InProgress => ("#4194f6", "custom", 1),
            TaskStatus::Complete => ("#6bc950", "closed", 2),
        };
        json!({"status": self.name(), "color": color, "type": kind, "orderindex": index})
    }
}

impl HealthStatus {
    /// ClickUp's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Active => "active",
            HealthStatus::Failing => "failing",
            HealthStatus::Suspended => "suspended",
        }
    }
}

/// A field definition as `GET /list/{id}/field` shows it.
pub(crate) fn field_json(field: &FieldDef) -> Value {
    let type_config = match &field.kind {
        FieldKind::DropDown(options) => json!({
            "sorting": "manual",
            "options": options.iter().map(|o| json!({
                "id": o.id, "name": o.name, "color": o.color, "orderindex": o.orderindex,
            })).collect::<Vec<_>>(),
        }),
        _ => json!({}),
    };
    json!({
        "id": field.id,
        "name": field.name,
        "type": field.kind.name(),
        "type_config": type_config,
        "date_created": field.created_ms.to_string(),
        "hide_from_guests": false,
        "required": false,
    })
}

/// A task as `GET /task/{id}` shows it; `value` only on set fields; `time_estimate` and
/// `time_spent` in ms, `null` while unestimated or untracked.
pub(crate) fn task_json(store: &ClickUpStore, task: &Task) -> Value {
    let custom_fields: Vec<Value> = store
        .fields
        .iter()
        .map(|f| {
            let mut out = field_json(f);
            if let Some(v) = task.fields.get(&f.id) {
                out["value"] = v.clone();
            }
            out
        })
        .collect();
    let closed = task.status.is_closed().then(|| task.updated_ms.to_string());
    json!({
        "id": task.id,
        "custom_id": null,
        "name": task.name,
        "text_content": "",
        "description": "",
        "status": task.status.json(),
        "orderindex": "1.00000000000000000000000000000000",
        "date_created": task.created_ms.to_string(),
        "date_updated": task.updated_ms.to_string(),
        "date_closed": closed,
        "date_done": closed,
        "archived": false,
        "creator": {"id": 81_000_001, "username": "Laura Gómez", "color": "#7b68ee", "email": "laura@sim.example"},
        "assignees": [],
        "tags": [],
        "parent": null,
        "priority": null,
        "due_date": null,
        "start_date": null,
        "time_estimate": task.time_estimate_ms,
        "time_spent": (task.time_spent_ms > 0).then_some(task.time_spent_ms),
        "custom_fields": custom_fields,
        "list": {"id": task.list_id, "name": "Clients", "access": true},
        "folder": {"id": "90110000001", "name": "hidden", "hidden": true, "access": true},
        "space": {"id": "90120000001"},
        "url": format!("https://app.clickup.com/t/{}", task.id),
        "team_id": store.team_id,
    })
}

/// A webhook as `GET /team/{id}/webhook` shows it.
pub(crate) fn webhook_json(store: &ClickUpStore, webhook: &Webhook, endpoint: &str, user_id: u64) -> Value {
    json!({
        "id": webhook.id,
        "userid": user_id,
        "team_id": store.team_id.parse::<u64>().map_or_else(|_| json!(store.team_id), |n| json!(n)),
        "endpoint": endpoint,
        "client_id": "SIMULATORCLIENT",
        "events": ["*"],
        "task_id": null,
        "list_id": webhook.list_id.parse::<u64>().map_or_else(|_| json!(webhook.list_id), |n| json!(n)),
        "folder_id": null,
        "space_id": null,
        "health": {"status": webhook.health.status.as_str(), "fail_count": webhook.health.fail_count},
        "secret": String::from_utf8_lossy(webhook.secret.expose()),
    })
}
