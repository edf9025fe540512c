//! HubSpot webhook events: which object they touch and which properties they carry.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Change, EventEffect, mapping::FieldMapping, scalar_text};
use crate::{domain::source::ObjectKind, reconcile::Field};

/// The record kind of a HubSpot event: `contact` or `company`, from the subscription type
/// (or `objectTypeId` for generic `object.*` subscriptions).
pub fn kind_of(event: &Value) -> Option<ObjectKind> {
    let subscription = subscription_type(event)?;
    let prefix = subscription.split('.').next()?;
    match prefix {
        "contact" => Some(ObjectKind::Contact),
        "company" => Some(ObjectKind::Company),
        "object" => match event.get("objectTypeId").and_then(Value::as_str) {
            Some("0-1") => Some(ObjectKind::Contact),
            Some("0-2") => Some(ObjectKind::Company),
            _ => None,
        },
        _ => None,
    }
}

/// The event type, under either name HubSpot uses for it.
pub fn subscription_type(event: &Value) -> Option<&str> {
    event
        .get("subscriptionType")
        .or_else(|| event.get("eventType"))
        .and_then(Value::as_str)
}

/// Reads what a single HubSpot event means for its source record.
pub fn effect(event: &Value, occurred_at_ms: i64, mapping: &FieldMapping) -> EventEffect {
    let Some(subscription) = subscription_type(event) else {
        return EventEffect::Ignore {
            reason: "no subscriptionType".into(),
        };
    };
    let Some(kind) = kind_of(event) else {
        return EventEffect::Ignore {
            reason: format!("object type of `{subscription}` is not synced"),
        };
    };
    let action = subscription.rsplit('.').next().unwrap_or_default();
    match action {
        "creation" | "restore" => EventEffect::Thin { kind },
        "deletion" | "privacyDeletion" => EventEffect::Delete { kind },
        "propertyChange" => property_change(event, kind, occurred_at_ms, mapping),
        "merge" => merge(event, kind),
        other => EventEffect::Ignore {
            reason: format!("`{other}` events are not applied yet"),
        },
    }
}

/// Reads a merge event. HubSpot may give the merged object a new id (`newObjectId`); the
/// primary and every merged id that is not the survivor retire.
fn merge(event: &Value, kind: ObjectKind) -> EventEffect {
    let id = |v: &Value| scalar_text(v).filter(|s| !s.is_empty());
    let primary = event.get("primaryObjectId").and_then(id);
    let survivor = event.get("newObjectId").and_then(id).or_else(|| primary.clone());
    let Some(survivor) = survivor else {
        return EventEffect::Ignore {
            reason: "merge without primaryObjectId or newObjectId".into(),
        };
    };
    let mut merged: Vec<String> = primary
        .into_iter()
        .chain(
            event
                .get("mergedObjectIds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(id),
        )
        .filter(|m| *m != survivor)
        .collect();
    merged.sort();
    merged.dedup();
    EventEffect::Merge {
        kind,
        survivor,
        merged,
    }
}

/// Reads an object as HubSpot's API returns it (`properties`, `updatedAt`, `archived`): every
/// mapped property is a change at the object's last-change time; an archived object is deleted.
pub fn snapshot(object: &Value, kind: ObjectKind, mapping: &FieldMapping) -> EventEffect {
    if object.get("archived").and_then(Value::as_bool) == Some(true) {
        return EventEffect::Delete { kind };
    }
    let Some(at_ms) = updated_ms(object) else {
        return EventEffect::Ignore {
            reason: "snapshot without updatedAt".into(),
        };
    };
    let mut fields: BTreeMap<Field, Option<String>> = BTreeMap::new();
    for (property, value) in object
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(field) = mapping.hubspot(kind.as_str(), property) {
            // Two properties may feed one field (phone, mobilephone): a set one beats an empty one.
            let raw = scalar_text(value).filter(|v| !v.is_empty());
            let slot = fields.entry(field).or_default();
            if slot.is_none() {
                *slot = raw;
            }
        }
    }
    EventEffect::Update {
        kind,
        changes: fields
            .into_iter()
            .map(|(field, raw)| Change { field, raw, at_ms })
            .collect(),
    }
}

/// An API object's last change (Unix ms): `updatedAt`, else its last-modified property.
pub fn updated_ms(object: &Value) -> Option<i64> {
    let parse = |v: &Value| {
        let text = scalar_text(v)?;
        text.parse::<i64>().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(&text)
                .ok()
                .map(|t| t.timestamp_millis())
        })
    };
    object
        .get("updatedAt")
        .and_then(parse)
        .or_else(|| object.pointer("/properties/lastmodifieddate").and_then(parse))
        .or_else(|| object.pointer("/properties/hs_lastmodifieddate").and_then(parse))
}

fn property_change(event: &Value, kind: ObjectKind, at_ms: i64, mapping: &FieldMapping) -> EventEffect {
    let Some(property) = event.get("propertyName").and_then(Value::as_str) else {
        return EventEffect::Ignore {
            reason: "propertyChange without propertyName".into(),
        };
    };
    let Some(field) = mapping.hubspot(kind.as_str(), property) else {
        return EventEffect::Ignore {
            reason: format!("property `{property}` is not mapped"),
        };
    };
    let raw = event.get("propertyValue").and_then(scalar_text);
    EventEffect::Update {
        kind,
        changes: vec![Change { field, raw, at_ms }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_snapshot_maps_every_known_property_at_the_objects_update_time() {
        let object = json!({"id":"7","archived":false,"updatedAt":"2026-11-25T10:00:00.000Z",
            "properties":{"email":"a@x.com","phone":null,"mobilephone":"600111222","hs_lead_status":"NEW"}});
        let EventEffect::Update { kind, changes } =
            snapshot(&object, ObjectKind::Contact, &FieldMapping::default())
        else {
            panic!("not an update");
        };
        assert_eq!(kind, ObjectKind::Contact);
        let at = 1_795_600_800_000;
        assert_eq!(
            changes,
            vec![
                Change {
                    field: Field::Email,
                    raw: Some("a@x.com".into()),
                    at_ms: at
                },
                Change {
                    field: Field::Phone,
                    raw: Some("600111222".into()),
                    at_ms: at
                },
            ]
        );
    }

    #[test]
    fn an_archived_snapshot_deletes() {
        let object = json!({"id":"7","archived":true,"updatedAt":"2026-11-25T10:00:00Z","properties":{}});
        assert_eq!(
            snapshot(&object, ObjectKind::Company, &FieldMapping::default()),
            EventEffect::Delete {
                kind: ObjectKind::Company
            }
        );
    }

    #[test]
    fn a_merge_retires_the_primary_and_merged_ids_into_the_new_object() {
        let e = json!({"subscriptionType":"contact.merge","objectId":7,"primaryObjectId":7,
            "mergedObjectIds":[8, 9],"newObjectId":10,"numberOfPropertiesMoved":3});
        assert_eq!(
            effect(&e, 0, &FieldMapping::default()),
            EventEffect::Merge {
                kind: ObjectKind::Contact,
                survivor: "10".into(),
                merged: vec!["7".into(), "8".into(), "9".into()]
            }
        );
    }

    #[test]
    fn a_merge_without_a_new_id_keeps_the_primary() {
        let e = json!({"subscriptionType":"company.merge","primaryObjectId":"5","mergedObjectIds":["6"]});
        assert_eq!(
            effect(&e, 0, &FieldMapping::default()),
            EventEffect::Merge {
                kind: ObjectKind::Company,
                survivor: "5".into(),
                merged: vec!["6".into()]
            }
        );
    }

    #[test]
    fn a_contact_email_change_updates_the_email_field() {
        let e = json!({"subscriptionType":"contact.propertyChange","objectId":1,"propertyName":"email","propertyValue":"A@x.com"});
        assert_eq!(
            effect(&e, 5, &FieldMapping::default()),
            EventEffect::Update {
                kind: ObjectKind::Contact,
                changes: vec![Change {
                    field: Field::Email,
                    raw: Some("A@x.com".into()),
                    at_ms: 5
                }]
            }
        );
    }

    #[test]
    fn a_creation_event_is_thin() {
        let e = json!({"subscriptionType":"company.creation","objectId":1});
        assert_eq!(
            effect(&e, 1, &FieldMapping::default()),
            EventEffect::Thin {
                kind: ObjectKind::Company
            }
        );
    }

    #[test]
    fn generic_object_events_take_their_kind_from_object_type_id() {
        let e = json!({"subscriptionType":"object.deletion","objectTypeId":"0-1","objectId":1});
        assert_eq!(
            effect(&e, 1, &FieldMapping::default()),
            EventEffect::Delete {
                kind: ObjectKind::Contact
            }
        );
    }

    #[test]
    fn unmapped_properties_and_unknown_objects_are_ignored() {
        let e = json!({"subscriptionType":"contact.propertyChange","propertyName":"hs_lead_status","propertyValue":"x"});
        assert!(matches!(
            effect(&e, 1, &FieldMapping::default()),
            EventEffect::Ignore { .. }
        ));
        let e = json!({"subscriptionType":"deal.creation","objectId":1});
        assert!(matches!(
            effect(&e, 1, &FieldMapping::default()),
            EventEffect::Ignore { .. }
        ));
    }
}
