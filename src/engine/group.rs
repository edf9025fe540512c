//! Which of a batch's events are applied together. A source sends an object's changes as
//! separate events (a new HubSpot contact is one `propertyChange` per property, in one
//! request), and applied one at a time each would load, match and recompute the same record
//! again. Consecutive updates of one object in a batch are applied as one: the record takes
//! every change with its own event and time, then is placed once. Anything else about the
//! object (a deletion, a thin event) ends the run, and a source merge, which touches several
//! objects, ends every run, so no object's events are reordered across them.

use std::collections::HashMap;

use crate::domain::source::{ObjectKind, Source};

/// What one event of a batch is, for grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// Already processed (its inbox claim found it): nothing to apply.
    Duplicate,
    /// Field values for one object: may join that object's open run.
    Update(ObjectKey),
    /// Something else about one object (thin, deleted, ignored): applied alone.
    Other(ObjectKey),
    /// Touches several objects (a source merge): applied alone, and no run spans it.
    Barrier,
    /// Touches no record (an ignored event): applied alone, ending no run.
    Alone,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ObjectKey {
    source: Source,
    kind: ObjectKind,
    object_id: String,
}

impl ObjectKey {
    /// The object `object_id` of `kind` at `source`.
    pub(crate) fn new(source: Source, kind: ObjectKind, object_id: &str) -> Self {
        Self {
            source,
            kind,
            object_id: object_id.to_owned(),
        }
    }
}

/// The batch's events as groups of indices, in the order they are applied (each group at its
/// first event's place); every event but a duplicate is in exactly one group, and a group's
/// events keep their batch order.
pub(crate) fn groups(roles: &[Role]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::with_capacity(roles.len());
    let mut open: HashMap<&ObjectKey, usize> = HashMap::new();
    for (i, role) in roles.iter().enumerate() {
        match role {
            Role::Duplicate => {}
            Role::Barrier => {
                open.clear();
                groups.push(vec![i]);
            }
            Role::Alone => groups.push(vec![i]),
            Role::Other(key) => {
                open.remove(key);
                groups.push(vec![i]);
            }
            Role::Update(key) => match open.get(key) {
                Some(&group) => groups[group].push(i),
                None => {
                    open.insert(key, groups.len());
                    groups.push(vec![i]);
                }
            },
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(id: &str) -> ObjectKey {
        ObjectKey::new(Source::HubSpot, ObjectKind::Contact, id)
    }

    #[test]
    fn updates_of_one_object_are_applied_together_at_the_first_ones_place() {
        let roles = [
            Role::Update(key("a")),
            Role::Update(key("b")),
            Role::Update(key("a")),
            Role::Update(key("a")),
        ];
        assert_eq!(groups(&roles), vec![vec![0, 2, 3], vec![1]]);
    }

    #[test]
    fn the_same_id_of_another_kind_or_source_is_another_object() {
        let roles = [
            Role::Update(key("7")),
            Role::Update(ObjectKey::new(Source::HubSpot, ObjectKind::Company, "7")),
            Role::Update(ObjectKey::new(Source::ClickUp, ObjectKind::Task, "7")),
        ];
        assert_eq!(groups(&roles), vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn a_deletion_ends_its_objects_run_and_later_updates_start_another() {
        let roles = [
            Role::Update(key("a")),
            Role::Other(key("a")),
            Role::Update(key("a")),
            Role::Update(key("b")),
            Role::Update(key("a")),
        ];
        assert_eq!(groups(&roles), vec![vec![0], vec![1], vec![2, 4], vec![3]]);
    }

    #[test]
    fn a_merge_ends_every_run_and_duplicates_are_in_no_group() {
        let roles = [
            Role::Update(key("a")),
            Role::Duplicate,
            Role::Barrier,
            Role::Update(key("a")),
            Role::Duplicate,
        ];
        assert_eq!(groups(&roles), vec![vec![0], vec![2], vec![3]]);
    }

    fn role() -> impl Strategy<Value = Role> {
        let id = prop_oneof![Just("a"), Just("b"), Just("c")];
        prop_oneof![
            1 => Just(Role::Duplicate),
            6 => id.clone().prop_map(|i| Role::Update(key(i))),
            2 => id.prop_map(|i| Role::Other(key(i))),
            1 => Just(Role::Barrier),
            1 => Just(Role::Alone),
        ]
    }

    proptest! {
        /// Whatever the batch, each object's events are applied in their batch order (groups
        /// run in order, a group's events in order) and nothing is lost or applied twice.
        #[test]
        fn every_event_but_duplicates_is_applied_once_and_each_objects_order_is_kept(
            roles in prop::collection::vec(role(), 0..40)
        ) {
            let applied: Vec<usize> = groups(&roles).concat();
            let mut seen = applied.clone();
            seen.sort_unstable();
            let expected: Vec<usize> = (0..roles.len()).filter(|&i| roles[i] != Role::Duplicate).collect();
            prop_assert_eq!(&seen, &expected);
            let object = |i: usize| match &roles[i] {
                Role::Update(k) | Role::Other(k) => Some(k.clone()),
                _ => None,
            };
            // Any two events of one object, or any event and a barrier, keep their order.
            for (x, &i) in applied.iter().enumerate() {
                for &j in &applied[x + 1..] {
                    let ordered = roles[i] == Role::Barrier
                        || roles[j] == Role::Barrier
                        || (object(i).is_some() && object(i) == object(j));
                    prop_assert!(!ordered || i < j, "event {} applied before {}", j, i);
                }
            }
        }
    }
}
