//! Which ClickUp tasks are projects and how a project names its client and its deal. With no
//! project list configured (the default) projects are off and every event flows as before.

use serde::Deserialize;

use super::sources;
use crate::reconcile::project::ProjectField;

/// How a project task names the client it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientLink {
    /// A custom field (`client_field`) holding the client's task id, as text or as a task
    /// relationship.
    Field,
    /// The project is a subtask of the client's task.
    Parent,
}

/// The `[projects]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectsConfig {
    /// ClickUp lists whose tasks are projects (`1,2` from the environment); empty turns
    /// projects off.
    #[serde(default, deserialize_with = "sources::text_list")]
    pub clickup_list_ids: Vec<String>,
    /// Where a project task names its client.
    #[serde(default = "client_link")]
    pub client_link: ClientLink,
    /// Custom field (id or name) holding the client's task when `client_link = "field"`.
    #[serde(default = "client_field")]
    pub client_field: String,
    /// Custom field (id or name) holding the project's product type.
    #[serde(default = "product_type_field")]
    pub product_type_field: String,
    /// Custom field (id or name) holding the payment status HubSpot owns.
    #[serde(default = "payment_status_field")]
    pub payment_status_field: String,
    /// Custom field (id or name) holding the amount HubSpot owns.
    #[serde(default = "amount_field")]
    pub amount_field: String,
    /// HubSpot deal property holding the project's ClickUp task id, which links deal and task.
    #[serde(default = "deal_task_property")]
    pub deal_task_property: String,
    /// Deal property holding the project's status (read, and written back from ClickUp).
    #[serde(default = "deal_status_property")]
    pub deal_status_property: String,
    /// Deal property holding the time estimate in milliseconds (read, and written back).
    #[serde(default = "deal_time_estimate_property")]
    pub deal_time_estimate_property: String,
    /// Deal property holding the time spent in milliseconds (read, and written back).
    #[serde(default = "deal_time_spent_property")]
    pub deal_time_spent_property: String,
}

fn client_link() -> ClientLink {
    ClientLink::Field
}
fn client_field() -> String {
    "Client".into()
}
fn product_type_field() -> String {
    "Product type".into()
}
fn payment_status_field() -> String {
    "Payment status".into()
}
fn amount_field() -> String {
    "Amount".into()
}
fn deal_task_property() -> String {
    "clickup_task_id".into()
}
fn deal_status_property() -> String {
    "project_status".into()
}
fn deal_time_estimate_property() -> String {
    "time_estimate_ms".into()
}
fn deal_time_spent_property() -> String {
    "time_spent_ms".into()
}

impl Default for ProjectsConfig {
    fn default() -> Self {
        Self {
            clickup_list_ids: Vec::new(),
            client_link: client_link(),
            client_field: client_field(),
            product_type_field: product_type_field(),
            payment_status_field: payment_status_field(),
            amount_field: amount_field(),
            deal_task_property: deal_task_property(),
            deal_status_property: deal_status_property(),
            deal_time_estimate_property: deal_time_estimate_property(),
            deal_time_spent_property: deal_time_spent_property(),
        }
    }
}

impl ProjectsConfig {
    /// Whether any list holds projects; off, deal and task events are left to the client path.
    pub fn enabled(&self) -> bool {
        !self.clickup_list_ids.is_empty()
    }

    /// Whether tasks of `list_id` are projects.
    pub fn is_project_list(&self, list_id: &str) -> bool {
        self.clickup_list_ids.iter().any(|l| l == list_id)
    }

    /// The deal property a project field is read from (and, for the work ClickUp owns, written
    /// to).
    pub fn deal_property(&self, field: ProjectField) -> &str {
        match field {
            ProjectField::Name => "dealname",
            ProjectField::ProductType => "product_type",
            ProjectField::Status => &self.deal_status_property,
            ProjectField::TimeEstimate => &self.deal_time_estimate_property,
            ProjectField::TimeSpent => &self.deal_time_spent_property,
            ProjectField::DueDate => "project_due_date",
            ProjectField::PaymentStatus => "payment_status",
            ProjectField::Amount => "amount",
        }
    }

    /// The project task's custom field (id or name) a field lives in, for those that are custom
    /// fields (the rest are the task's own: name, status, time, due date).
    pub fn task_field(&self, field: ProjectField) -> Option<&str> {
        match field {
            ProjectField::ProductType => Some(&self.product_type_field),
            ProjectField::PaymentStatus => Some(&self.payment_status_field),
            ProjectField::Amount => Some(&self.amount_field),
            _ => None,
        }
    }
}
