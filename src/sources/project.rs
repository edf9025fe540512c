//! What a project task (ClickUp) or a deal (HubSpot) says about a project, read from the
//! objects the APIs return. Pure parsing; which events reach here is the `projects` path's call.

use serde_json::Value;

use super::{clickup, hubspot, scalar_text};
use crate::{
    config::projects::{ClientLink, ProjectsConfig},
    reconcile::project::{ProjectChange, ProjectField},
};

/// A project task as ClickUp's API returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTask {
    /// The task id.
    pub task_id: String,
    /// The list the task lives in.
    pub list_id: Option<String>,
    /// The client's task, as the project names it.
    pub client_task_id: Option<String>,
    /// The task's last change, Unix ms.
    pub at_ms: i64,
    /// Every field the task carries (unset ones clear).
    pub changes: Vec<ProjectChange>,
}

/// A deal as HubSpot's API returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDeal {
    /// The deal id.
    pub deal_id: String,
    /// The project task the deal names; a deal naming none is not a project's.
    pub task_id: Option<String>,
    /// The deal's last change, Unix ms.
    pub at_ms: i64,
    /// Every project property the deal carries (unset ones clear).
    pub changes: Vec<ProjectChange>,
}

/// The list a task lives in.
pub fn list_of(task: &Value) -> Option<String> {
    task.pointer("/list/id").and_then(scalar_text)
}

/// Reads a project task; `None` for an object without an id or last-change time.
pub fn task(task: &Value, config: &ProjectsConfig) -> Option<ProjectTask> {
    let task_id = task.get("id").and_then(scalar_text)?;
    let at_ms = clickup::updated_ms(task)?;
    let custom = |reference: &str| custom_field(task.get("custom_fields")?.as_array()?, reference);
    let text = |pointer: &str| task.pointer(pointer).and_then(scalar_text);
    let changes = vec![
        change(ProjectField::Name, text("/name")),
        change(ProjectField::Status, text("/status/status")),
        change(ProjectField::TimeEstimate, text("/time_estimate")),
        change(ProjectField::TimeSpent, text("/time_spent")),
        change(ProjectField::DueDate, text("/due_date")),
        change(
            ProjectField::ProductType,
            custom(&config.product_type_field).and_then(clickup::custom_value),
        ),
        change(
            ProjectField::PaymentStatus,
            custom(&config.payment_status_field).and_then(clickup::custom_value),
        ),
        change(
            ProjectField::Amount,
            custom(&config.amount_field).and_then(clickup::custom_value),
        ),
    ];
    let client_task_id = match config.client_link {
        ClientLink::Parent => text("/parent"),
        ClientLink::Field => custom(&config.client_field).and_then(related_task),
    };
    Some(ProjectTask {
        task_id,
        list_id: list_of(task),
        client_task_id: client_task_id.filter(|id| !id.is_empty()),
        at_ms,
        changes,
    })
}

/// Reads a deal; `None` for an object without an id or last-change time.
pub fn deal(deal: &Value, config: &ProjectsConfig) -> Option<ProjectDeal> {
    let deal_id = deal.get("id").and_then(scalar_text)?;
    let at_ms = hubspot::updated_ms(deal)?;
    let property = |name: &str| {
        deal.pointer(&format!("/properties/{name}"))
            .and_then(scalar_text)
            .filter(|v| !v.trim().is_empty())
    };
    Some(ProjectDeal {
        deal_id,
        task_id: property(&config.deal_task_property).map(|t| t.trim().to_owned()),
        at_ms,
        changes: ProjectField::ALL
            .into_iter()
            .map(|field| change(field, property(config.deal_property(field))))
            .collect(),
    })
}

/// The properties to read of a deal: one per project field (`ProjectsConfig::deal_property`),
/// the task id and the last change.
pub fn deal_properties(config: &ProjectsConfig) -> Vec<String> {
    ProjectField::ALL
        .into_iter()
        .map(|field| config.deal_property(field).to_owned())
        .chain([config.deal_task_property.clone(), "hs_lastmodifieddate".into()])
        .collect()
}

/// Whether a HubSpot webhook event is about a deal (`deal.*`, or `object.*` of type `0-3`).
pub fn is_deal_event(event: &Value) -> bool {
    match hubspot::subscription_type(event).and_then(|s| s.split('.').next()) {
        Some("deal") => true,
        Some("object") => event.get("objectTypeId").and_then(Value::as_str) == Some("0-3"),
        _ => false,
    }
}

/// Whether a HubSpot deal event removes the deal.
pub fn is_deal_deletion(event: &Value) -> bool {
    hubspot::subscription_type(event)
        .and_then(|s| s.rsplit('.').next())
        .is_some_and(|action| matches!(action, "deletion" | "privacyDeletion"))
}

fn change(field: ProjectField, raw: Option<String>) -> ProjectChange {
    ProjectChange { field, raw }
}

/// A task's custom field by id, or by name ignoring case.
pub(crate) fn custom_field<'a>(fields: &'a [Value], reference: &str) -> Option<&'a Value> {
    fields
        .iter()
        .find(|f| f.get("id").and_then(Value::as_str) == Some(reference))
        .or_else(|| {
            fields.iter().find(|f| {
                f.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(reference))
            })
        })
}

/// The task a client field names: its text, or the first task of a relationship.
fn related_task(custom: &Value) -> Option<String> {
    match custom.get("value")? {
        Value::Array(tasks) => tasks.first().and_then(|t| t.get("id")).and_then(scalar_text),
        other => scalar_text(other).map(|s| s.trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw_of(changes: &[ProjectChange], field: ProjectField) -> Option<&str> {
        changes
            .iter()
            .find(|c| c.field == field)
            .and_then(|c| c.raw.as_deref())
    }

    #[test]
    fn a_project_task_reads_its_work_fields_its_billing_fields_and_its_client() {
        let t = json!({"id":"p1","name":"Website","date_updated":"1700000000000",
            "status":{"status":"in progress"},"time_estimate":7200000,"time_spent":3600000,
            "due_date":"1700600000000","list":{"id":"L2"},
            "custom_fields":[
                {"id":"c","name":"Client","type":"list_relationship","value":[{"id":"t9","name":"Ana"}]},
                {"id":"p","name":"Product type","type":"short_text","value":"Web"},
                {"id":"a","name":"Amount","type":"currency","value":"1500"}]});
        let p = task(&t, &ProjectsConfig::default()).expect("a project");
        assert_eq!(p.client_task_id.as_deref(), Some("t9"));
        assert_eq!(p.list_id.as_deref(), Some("L2"));
        assert_eq!(raw_of(&p.changes, ProjectField::Status), Some("in progress"));
        assert_eq!(raw_of(&p.changes, ProjectField::TimeEstimate), Some("7200000"));
        assert_eq!(raw_of(&p.changes, ProjectField::ProductType), Some("Web"));
        assert_eq!(raw_of(&p.changes, ProjectField::Amount), Some("1500"));
        assert_eq!(raw_of(&p.changes, ProjectField::PaymentStatus), None);
    }

    #[test]
    fn a_subtask_names_its_client_by_its_parent_when_so_configured() {
        let t = json!({"id":"p1","date_updated":"1","parent":"t9",
            "custom_fields":[{"id":"c","name":"Client","type":"short_text","value":"other"}]});
        let config = ProjectsConfig {
            client_link: ClientLink::Parent,
            ..ProjectsConfig::default()
        };
        assert_eq!(
            task(&t, &config).and_then(|p| p.client_task_id).as_deref(),
            Some("t9")
        );
    }

    #[test]
    fn a_deal_names_its_task_through_the_configured_property() {
        let d = json!({"id":"d1","updatedAt":"2026-12-03T10:00:00Z","properties":{
            "clickup_task_id":"p1","amount":"2500","payment_status":"Paid","dealname":"Website"}});
        let p = deal(&d, &ProjectsConfig::default()).expect("a deal");
        assert_eq!(p.task_id.as_deref(), Some("p1"));
        assert_eq!(raw_of(&p.changes, ProjectField::Amount), Some("2500"));
        assert_eq!(raw_of(&p.changes, ProjectField::Status), None);
    }

    #[test]
    fn deal_events_are_told_apart_from_contact_events() {
        assert!(is_deal_event(&json!({"subscriptionType":"deal.propertyChange"})));
        assert!(is_deal_event(
            &json!({"subscriptionType":"object.creation","objectTypeId":"0-3"})
        ));
        assert!(!is_deal_event(&json!({"subscriptionType":"contact.creation"})));
        assert!(is_deal_deletion(&json!({"subscriptionType":"deal.deletion"})));
    }
}
