//! ClickUp webhook events: the task they touch and the history items that carry values.

use serde_json::Value;

use super::{Change, EventEffect, scalar_text};
use crate::reconcile::Field;

/// Custom field names (case- and accent-insensitive) that feed golden fields.
const CUSTOM_FIELDS: &[(&str, Field)] = &[
    ("email", Field::Email),
    ("e-mail", Field::Email),
    ("correo", Field::Email),
    ("document key", Field::DocumentKey),
    ("tax id", Field::DocumentKey),
    ("nif", Field::DocumentKey),
    ("cif", Field::DocumentKey),
    ("vat number", Field::DocumentKey),
    ("phone", Field::Phone),
    ("telefono", Field::Phone),
    ("company", Field::Company),
    ("empresa", Field::Company),
    ("first name", Field::GivenName),
    ("given name", Field::GivenName),
    ("last name", Field::FamilyName),
    ("family name", Field::FamilyName),
    ("surname", Field::FamilyName),
    ("date of birth", Field::DateOfBirth),
    ("fecha de nacimiento", Field::DateOfBirth),
    ("address", Field::Street),
    ("direccion", Field::Street),
    ("city", Field::City),
    ("ciudad", Field::City),
    ("postcode", Field::Postcode),
    ("zip", Field::Postcode),
    ("codigo postal", Field::Postcode),
    ("region", Field::Region),
    ("state", Field::Region),
    ("provincia", Field::Region),
];

/// Reads what a ClickUp event means for its task's source record.
pub fn effect(event: &Value) -> EventEffect {
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
        .map(|items| items.iter().filter_map(change_of).collect())
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

fn change_of(item: &Value) -> Option<Change> {
    let at_ms = item_ms(item)?;
    let field = match item.get("field").and_then(Value::as_str)? {
        "name" => Field::Name,
        "custom_field" => {
            let name = item.pointer("/custom_field/name").and_then(Value::as_str)?;
            let folded = crate::domain::name::fold(name);
            CUSTOM_FIELDS
                .iter()
                .find(|(n, _)| *n == folded)
                .map(|(_, f)| *f)?
        }
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
            effect(&e),
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
            effect(&json!({"event":"taskCreated","task_id":"t"})),
            EventEffect::Thin { kind: "task" }
        );
        assert_eq!(
            effect(&json!({"event":"taskDeleted","task_id":"t"})),
            EventEffect::Delete { kind: "task" }
        );
    }

    #[test]
    fn list_events_and_unmapped_items_are_ignored() {
        assert!(matches!(
            effect(&json!({"event":"listCreated"})),
            EventEffect::Ignore { .. }
        ));
        let e = json!({"event":"taskUpdated","history_items":[{"id":"1","date":"1","field":"status","after":{"status":"done"}}]});
        assert!(matches!(effect(&e), EventEffect::Ignore { .. }));
    }
}
