//! What changed in a client's golden fields, worked out from the values before and after a
//! recompute. Pure, so the rule "a change is a different value, nothing else" is tested here
//! and the store only appends what it is given: a new event restating a value is no change.

use std::collections::BTreeMap;

use super::{Field, GoldenField};
use crate::domain::source::Source;

/// Who gave a field its new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetBy {
    /// A source record, through one of its events.
    Record {
        /// The system it came from.
        source: Source,
        /// The record in that system.
        external_id: String,
        /// The event that carried the value.
        event: String,
        /// When the source set it (Unix ms).
        at_ms: i64,
    },
    /// An operator pinned it.
    Operator {
        /// The operator's name.
        name: String,
        /// Why, as the pin recorded it.
        reason: String,
    },
    /// No record holds a value for the field any more.
    Emptied,
}

/// One golden field going from one value to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Which field.
    pub field: Field,
    /// The value it had (None: empty).
    pub before: Option<String>,
    /// The value it has now (None: empty).
    pub after: Option<String>,
    /// Where the new value came from.
    pub by: SetBy,
}

/// The changes from `before` (each field's value before a recompute; a field absent is empty)
/// to the values chosen by merge (`set`) and the fields left with no value (`emptied`).
pub fn diff(
    before: &BTreeMap<Field, Option<String>>,
    set: &[GoldenField],
    emptied: &[Field],
) -> Vec<FieldChange> {
    let was = |field: Field| before.get(&field).cloned().flatten();
    let mut out: Vec<FieldChange> = set
        .iter()
        .filter(|golden| was(golden.field) != golden.value)
        .map(|golden| FieldChange {
            field: golden.field,
            before: was(golden.field),
            after: golden.value.clone(),
            by: SetBy::Record {
                source: golden.source,
                external_id: golden.external_id.clone(),
                event: golden.event.clone(),
                at_ms: golden.at_ms,
            },
        })
        .collect();
    out.extend(
        emptied
            .iter()
            .filter(|field| was(**field).is_some())
            .map(|field| FieldChange {
                field: *field,
                before: was(*field),
                after: None,
                by: SetBy::Emptied,
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden(field: Field, value: &str, event: &str) -> GoldenField {
        GoldenField {
            field,
            value: Some(value.into()),
            source: Source::HubSpot,
            external_id: "contact:1".into(),
            event: event.into(),
            at_ms: 7,
        }
    }

    #[test]
    fn a_new_event_restating_the_same_value_is_no_change() {
        let before = BTreeMap::from([(Field::Email, Some("a@x.es".to_owned()))]);
        let changes = diff(&before, &[golden(Field::Email, "a@x.es", "hubspot:2")], &[]);
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn a_different_value_is_a_change_that_remembers_the_old_one_and_its_event() {
        let before = BTreeMap::from([(Field::Email, Some("a@x.es".to_owned()))]);
        let changes = diff(&before, &[golden(Field::Email, "b@x.es", "hubspot:2")], &[]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].before.as_deref(), Some("a@x.es"));
        assert_eq!(changes[0].after.as_deref(), Some("b@x.es"));
        assert!(matches!(&changes[0].by, SetBy::Record { event, .. } if event == "hubspot:2"));
    }

    #[test]
    fn a_first_value_and_an_emptied_field_are_changes_but_emptying_an_empty_one_is_not() {
        let before = BTreeMap::from([(Field::Phone, Some("+34600000000".to_owned()))]);
        let changes = diff(
            &before,
            &[golden(Field::Name, "Ana", "hubspot:1")],
            &[Field::Phone, Field::Email],
        );
        let fields: Vec<_> = changes
            .iter()
            .map(|c| (c.field, c.by == SetBy::Emptied))
            .collect();
        assert_eq!(fields, vec![(Field::Name, false), (Field::Phone, true)]);
        assert_eq!(changes[0].before, None);
    }
}
