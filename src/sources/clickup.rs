//! ClickUp webhook events: the task they touch and the history items that carry values.

use serde_json::Value;

use super::{Change, EventEffect, mapping::FieldMapping, scalar_text};
use crate::{domain::source::ObjectKind, reconcile::Field};

/// Reads what a ClickUp event means for its task's source record.
pub fn effect(event: &Value, mapping: &FieldMapping) -> EventEffect {
    let name = event.get("event").and_then(Value::as_str).unwrap_or_default();
    if !name.starts_with("task") {
        return EventEffect::Ignore {
            reason: format!("`{name}` events are not synced"),
        };
    }
    if name == "taskDeleted" {
        return EventEffect::Delete {
            kind: ObjectKind::Task,
        };
    }
    // A dropdown's history item names its option by UUID: the task's current state, read from
    // the API, names it (the spec's advice for thin events: re-fetch rather than trust
    // before/after).
    let needs_fetch = event
        .get("history_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|item| {
            item.get("field").and_then(Value::as_str) == Some("custom_field")
                && matches!(
                    item.pointer("/custom_field/type").and_then(Value::as_str),
                    Some("drop_down" | "labels")
                )
                && mapping
                    .clickup(
                        item.pointer("/custom_field/id").and_then(Value::as_str),
                        item.pointer("/custom_field/name").and_then(Value::as_str),
                    )
                    .is_some()
        });
    if needs_fetch {
        return EventEffect::Thin {
            kind: ObjectKind::Task,
        };
    }
    let changes: Vec<Change> = event
        .get("history_items")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|item| change_of(item, mapping)).collect())
        .unwrap_or_default();
    match (name, changes.is_empty()) {
        (_, false) => EventEffect::Update {
            kind: ObjectKind::Task,
            changes,
        },
        ("taskCreated", true) => EventEffect::Thin {
            kind: ObjectKind::Task,
        },
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

/// Reads a task as ClickUp's API returns it: its name and every mapped custom field (unset
/// ones clear), at the task's `date_updated`. Dropdowns are read as their option's name.
pub fn snapshot(task: &Value, mapping: &FieldMapping) -> EventEffect {
    let Some(at_ms) = updated_ms(task) else {
        return EventEffect::Ignore {
            reason: "task without date_updated".into(),
        };
    };
    let mut changes = vec![Change {
        field: Field::Name,
        raw: task.get("name").and_then(scalar_text),
        at_ms,
    }];
    for custom in task
        .get("custom_fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = custom.get("id").and_then(Value::as_str);
        let name = custom.get("name").and_then(Value::as_str);
        if let Some(field) = mapping.clickup(id, name)
            && !changes.iter().any(|c| c.field == field && c.raw.is_some())
        {
            changes.retain(|c| c.field != field);
            changes.push(Change {
                field,
                raw: custom_value(custom),
                at_ms,
            });
        }
    }
    EventEffect::Update {
        kind: ObjectKind::Task,
        changes,
    }
}

/// A custom field's value as text: a dropdown's `value` is its option's `orderindex` (or its
/// UUID), resolved to the option's name through `type_config.options`.
pub(crate) fn custom_value(custom: &Value) -> Option<String> {
    let value = custom.get("value")?;
    if custom.get("type").and_then(Value::as_str) == Some("drop_down") {
        let options = custom.pointer("/type_config/options")?.as_array()?;
        let chosen = options.iter().find(|o| {
            let by_index = o.get("orderindex").and_then(scalar_text) == scalar_text(value);
            let by_id = o.get("id").and_then(Value::as_str) == value.as_str();
            by_index || by_id
        })?;
        return chosen.get("name").and_then(scalar_text);
    }
    scalar_text(value).filter(|v| !v.is_empty())
}

/// A task's last change (Unix ms, sent as a string).
pub fn updated_ms(task: &Value) -> Option<i64> {
    item_ms_of(task.get("date_updated")?)
}

fn item_ms_of(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn item_ms(item: &Value) -> Option<i64> {
    item_ms_of(item.get("date")?)
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
                kind: ObjectKind::Task,
                changes: vec![Change {
                    field: Field::DocumentKey,
                    raw: Some("B12345674".into()),
                    at_ms: 1_700_000_000_000
                }]
            }
        );
    }

    #[test]
    fn a_task_snapshot_reads_its_name_custom_fields_and_dropdown_option_names() {
        let task = json!({"id":"t1","name":"Ana Ruiz","date_updated":"1700000000000","custom_fields":[
            {"id":"f1","name":"Tax ID","type":"short_text","value":"B12345674"},
            {"id":"f2","name":"Email","type":"email"},
            {"id":"f3","name":"Company","type":"drop_down","value":1,
             "type_config":{"options":[{"id":"o0","name":"Acme","orderindex":0},{"id":"o1","name":"Globex","orderindex":1}]}}]});
        let EventEffect::Update { changes, .. } = snapshot(&task, &FieldMapping::default()) else {
            panic!("not an update");
        };
        let got: Vec<(Field, Option<&str>)> = changes.iter().map(|c| (c.field, c.raw.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (Field::Name, Some("Ana Ruiz")),
                (Field::DocumentKey, Some("B12345674")),
                (Field::Email, None),
                (Field::Company, Some("Globex")),
            ]
        );
    }

    #[test]
    fn a_task_created_without_items_is_thin_and_a_deletion_deletes() {
        assert_eq!(
            effect(
                &json!({"event":"taskCreated","task_id":"t"}),
                &FieldMapping::default()
            ),
            EventEffect::Thin {
                kind: ObjectKind::Task
            }
        );
        assert_eq!(
            effect(
                &json!({"event":"taskDeleted","task_id":"t"}),
                &FieldMapping::default()
            ),
            EventEffect::Delete {
                kind: ObjectKind::Task
            }
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
