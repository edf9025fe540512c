//! ClickUp API v2: a task, a list's tasks by page, custom field definitions, setting a custom
//! field, and the health of our webhooks.

use serde_json::{Value, json};

use super::{Caller, Limits, SaasError, url};
use crate::domain::source::Source;

/// One page of a list's tasks.
#[derive(Debug, Clone, Default)]
pub struct TaskPage {
    /// Tasks as ClickUp returns them (`id`, `name`, `date_updated`, `custom_fields`, …).
    pub tasks: Vec<Value>,
    /// Whether this was the last page.
    pub last: bool,
}

/// A webhook's delivery health as ClickUp reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHealth {
    /// The webhook id.
    pub id: String,
    /// Where it delivers.
    pub endpoint: String,
    /// `active`, `failing` or `suspended`.
    pub status: String,
    /// Events dropped since it last delivered.
    pub fail_count: u64,
}

impl WebhookHealth {
    /// Whether events are being lost.
    pub fn is_healthy(&self) -> bool {
        self.status == "active"
    }
}

/// A ClickUp workspace, through one paced caller.
#[derive(Debug)]
pub struct ClickUpApi {
    caller: Caller,
    base: String,
}

impl ClickUpApi {
    /// A client of the workspace reachable with `token` (a personal `pk_…` token is sent bare,
    /// an OAuth token as `Bearer …`, as the caller configures it).
    pub fn new(base: &str, token: &str, limits: Limits) -> Result<Self, SaasError> {
        Ok(Self {
            caller: Caller::new(Source::ClickUp, token, limits)?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn url(&self, segments: &[&str]) -> Result<reqwest::Url, SaasError> {
        url(Source::ClickUp, &self.base, segments)
    }

    /// The task as it is now, custom fields included.
    pub async fn task(&self, id: &str) -> Result<Value, SaasError> {
        let url = self.url(&["v2", "task", id])?;
        self.caller.send("get_task", |http| http.get(url.clone())).await
    }

    /// One page (100 tasks, from 0) of a list, oldest first, closed tasks and subtasks included,
    /// optionally only those updated after `updated_after_ms`.
    pub async fn list_tasks(
        &self,
        list_id: &str,
        page: u32,
        updated_after_ms: Option<i64>,
    ) -> Result<TaskPage, SaasError> {
        let url = self.url(&["v2", "list", list_id, "task"])?;
        let page = page.to_string();
        let after = updated_after_ms.map(|ms| ms.to_string());
        let answer = self
            .caller
            .send("list_tasks", |http| {
                let mut query = vec![
                    ("page", page.as_str()),
                    ("order_by", "created"),
                    ("reverse", "true"),
                    ("include_closed", "true"),
                    ("subtasks", "true"),
                ];
                if let Some(after) = &after {
                    query.push(("date_updated_gt", after));
                }
                http.get(url.clone()).query(&query)
            })
            .await?;
        let tasks = answer
            .get("tasks")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| SaasError::Decode {
                system: Source::ClickUp,
                call: "list_tasks",
                reason: "no `tasks` array".into(),
            })?;
        let last = answer
            .get("last_page")
            .and_then(Value::as_bool)
            .unwrap_or(tasks.len() < 100);
        Ok(TaskPage { tasks, last })
    }

    /// The custom fields a list's tasks can carry, dropdown options included.
    pub async fn fields(&self, list_id: &str) -> Result<Vec<Value>, SaasError> {
        let url = self.url(&["v2", "list", list_id, "field"])?;
        let answer = self
            .caller
            .send("list_fields", |http| http.get(url.clone()))
            .await?;
        Ok(answer
            .get("fields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Sets one custom field of a task (`value` in the field type's shape: text as a string,
    /// a dropdown as its option's UUID).
    pub async fn set_field(&self, task_id: &str, field_id: &str, value: Value) -> Result<(), SaasError> {
        let url = self.url(&["v2", "task", task_id, "field", field_id])?;
        let body = json!({ "value": value });
        self.caller
            .send("set_field", |http| http.post(url.clone()).json(&body))
            .await
            .map(drop)
    }

    /// Health of the webhooks this token's user created in a workspace.
    pub async fn webhooks(&self, team_id: &str) -> Result<Vec<WebhookHealth>, SaasError> {
        let url = self.url(&["v2", "team", team_id, "webhook"])?;
        let answer = self
            .caller
            .send("list_webhooks", |http| http.get(url.clone()))
            .await?;
        let text = |w: &Value, pointer: &str| {
            w.pointer(pointer)
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .unwrap_or_default()
        };
        Ok(answer
            .get("webhooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|w| WebhookHealth {
                id: text(w, "/id"),
                endpoint: text(w, "/endpoint"),
                status: text(w, "/health/status"),
                fail_count: w
                    .pointer("/health/fail_count")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            })
            .collect())
    }
}
