//! ClickUp webhook events: the task they touch and the history items that carry values.

use serde_json::Value;

use super::{Change, EventEffect, mapping::FieldMapping, scalar_text};
use crate::reconcile::Field;

/// Reads what a ClickUp event means for its task's source record.
pub fn effect(event: &Value, mapping: &FieldMapping) -> EventEffect {
    let name = event.get("event").and_then(Value::as_str).unwrap_or_default();
    if !name.starts_with("task") {
        return EventEffect::Ignore {
            reason: format!("`{name}` events are not synced"),
        };
    }
    if name == "taskDeleted" {
        return EventEffect::Delete { kind: "task" };
    }
    let changes: Vec<Change> = event
        .get("history_items")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|item| change_of(item, mapping)).collect())
        .unwrap_or_default();
    match (name, changes.is_empty()) {
        (_, false) => EventEffect::Update {
            kind: "task",
            changes,
        },
        ("taskCreated", true) => EventEffect::Thin { kind: "task" },
        _ => EventEffect::Ignore {
            reason: "no history item maps to a client field".into(),
        },
    }
}

/// The newest history item date (Unix ms), which orders the event.
pub fn latest_item_ms(event: &Value) -> Option<i64> {
    event
        .get("history_items")?
        .as_array()?
        .iter()
        .filter_map(item_ms)
        .max()
}

fn item_ms(item: &Value) -> Option<i64> {
    match item.get("date")? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn change_of(item: &Value, mapping: &FieldMapping) -> Option<Change> {
    let at_ms = item_ms(item)?;
    let field = match item.get("field").and_then(Value::as_str)? {
        "name" => Field::Name,
        "custom_field" => mapping.clickup(
            item.pointer("/custom_field/id").and_then(Value::as_str),
            item.pointer("/custom_field/name").and_then(Value::as_str),
        )?,
        _ => return None,
    };
    let raw = item.get("after").and_then(scalar_text);
    Some(Change { field, raw, at_ms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_custom_field_history_item_updates_its_mapped_field() {
        let e = json!({"event":"taskUpdated","task_id":"t","history_items":[
            {"id":"1","date":"1700000000000","field":"custom_field","custom_field":{"id":"u","name":"Tax ID"},"after":"B12345674"}]});
        assert_eq!(
            effect(&e, &FieldMapping::default()),
            EventEffect::Update {
                kind: "task",
                changes: vec![Change {
                    field: Field::DocumentKey,
                    raw: Some("B12345674".into()),
                    at_ms: 1_700_000_000_000
                }]
            }
        );
    }

    #[test]
    fn a_task_created_without_items_is_thin_and_a_deletion_deletes() {
        assert_eq!(
            effect(
                &json!({"event":"taskCreated","task_id":"t"}),
                &FieldMapping::default()
            ),
            EventEffect::Thin { kind: "task" }
        );
        assert_eq!(
            effect(
                &json!({"event":"taskDeleted","task_id":"t"}),
                &FieldMapping::default()
            ),
            EventEffect::Delete { kind: "task" }
        );
    }

    #[test]
    fn list_events_and_unmapped_items_are_ignored() {
        assert!(matches!(
            effect(&json!({"event":"listCreated"}), &FieldMapping::default()),
            EventEffect::Ignore { .. }
        ));
        let e = json!({"event":"taskUpdated","history_items":[{"id":"1","date":"1","field":"status","after":{"status":"done"}}]});
        assert!(matches!(
            effect(&e, &FieldMapping::default()),
            EventEffect::Ignore { .. }
        ));
    }
}
