//! Field precedence: each field's owner wins where it has a value (HubSpot, the source of truth,
//! for who the client is; ClickUp for the work it runs: project and payment status), the other
//! system fills the rest, an operator's pin beats both. Where the two disagree on a field HubSpot
//! owns, the difference is reported; a ClickUp-owned field is written back to HubSpot instead.

use std::collections::BTreeMap;

use super::field::{Field, FieldSet};
use crate::domain::source::Source;

/// Provenance of a value write-back set on a record: the other system's value, not this one's.
pub const WRITE_BACK_EVENT: &str = "write-back";

/// One linked source record as merge sees it.
#[derive(Debug, Clone, Copy)]
pub struct MergeInput<'a> {
    /// Which system it came from.
    pub source: Source,
    /// Its id in that system.
    pub external_id: &'a str,
    /// Its current fields.
    pub fields: &'a FieldSet,
}

/// The value chosen for one golden field and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenField {
    /// Which field.
    pub field: Field,
    /// The chosen value.
    pub value: Option<String>,
    /// The system it came from.
    pub source: Source,
    /// The record it came from.
    pub external_id: String,
    /// The event that set it.
    pub event: String,
    /// When the source set it (Unix ms).
    pub at_ms: i64,
}

/// Both systems hold a value for a field and they differ; HubSpot's was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Which field.
    pub field: Field,
    /// HubSpot's value (the one applied).
    pub hubspot: String,
    /// ClickUp's differing value (kept for the operator).
    pub clickup: String,
}

/// The outcome of merging every record linked to a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merge {
    /// Chosen values for every field some source reported (pinned fields excluded).
    pub fields: Vec<GoldenField>,
    /// Fields on which the systems disagree.
    pub mismatches: Vec<Mismatch>,
}

impl Merge {
    /// The chosen value of a field, if any.
    pub fn value(&self, field: Field) -> Option<&str> {
        self.fields
            .iter()
            .find(|g| g.field == field)
            .and_then(|g| g.value.as_deref())
    }
}

/// Merges linked records field by field; `pinned` fields are left as the operator set them
/// and raise no mismatch.
pub fn merge(records: &[MergeInput<'_>], pinned: &BTreeMap<Field, Option<String>>) -> Merge {
    let mut out = Merge::default();
    for field in Field::ALL {
        // An operator decided this field: neither the value nor a disagreement about it is news.
        if pinned.contains_key(&field) {
            continue;
        }
        let hubspot = latest(records, Source::HubSpot, field);
        let clickup = latest(records, Source::ClickUp, field);
        if field.owner() == Source::HubSpot
            && let (Some(h), Some(c)) = (&hubspot, &clickup)
            // A value write-back put there is HubSpot's own, not ClickUp's opinion.
            && c.event != WRITE_BACK_EVENT
            && let (Some(hv), Some(cv)) = (&h.value, &c.value)
            && !same(field, hv, cv)
        {
            out.mismatches.push(Mismatch {
                field,
                hubspot: hv.clone(),
                clickup: cv.clone(),
            });
        }
        let (first, second) = match field.owner() {
            Source::HubSpot => (hubspot, clickup),
            Source::ClickUp => (clickup, hubspot),
        };
        let chosen = match (&first, &second) {
            (Some(h), _) if h.value.is_some() => first,
            (_, Some(c)) if c.value.is_some() => second,
            // Every source cleared it: the newest clearing wins.
            _ => match (first, second) {
                (Some(h), Some(c)) => Some(if c.at_ms > h.at_ms { c } else { h }),
                (h, c) => h.or(c),
            },
        };
        if let Some(g) = chosen {
            out.fields.push(g);
        }
    }
    out
}

/// The newest entry for `field` among `source`'s records; a set value beats a cleared one.
fn latest(records: &[MergeInput<'_>], source: Source, field: Field) -> Option<GoldenField> {
    records
        .iter()
        .filter(|r| r.source == source)
        .filter_map(|r| r.fields.get(field).map(|v| (r, v)))
        .max_by(|(ra, a), (rb, b)| {
            (a.value.is_some(), a.at_ms, ra.external_id).cmp(&(b.value.is_some(), b.at_ms, rb.external_id))
        })
        .map(|(r, v)| GoldenField {
            field,
            value: v.value.clone(),
            source,
            external_id: r.external_id.to_owned(),
            event: v.event.clone(),
            at_ms: v.at_ms,
        })
}

/// Whether two normalized values say the same thing; names ignore case and spacing.
fn same(field: Field, a: &str, b: &str) -> bool {
    if field.is_text() {
        crate::domain::name::fold(a) == crate::domain::name::fold(b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::field::FieldValue;

    fn set(pairs: &[(Field, &str, i64)]) -> FieldSet {
        let mut s = FieldSet::default();
        for (f, v, at) in pairs {
            s.apply(
                *f,
                FieldValue {
                    value: Some((*v).into()),
                    at_ms: *at,
                    event: format!("e{at}"),
                },
            );
        }
        s
    }

    #[test]
    fn hubspot_wins_a_field_both_have_and_the_difference_is_reported() {
        let h = set(&[(Field::Phone, "+34600000001", 1)]);
        let c = set(&[(Field::Phone, "+34600000002", 9)]);
        let m = merge(
            &[
                MergeInput {
                    source: Source::ClickUp,
                    external_id: "t1",
                    fields: &c,
                },
                MergeInput {
                    source: Source::HubSpot,
                    external_id: "1",
                    fields: &h,
                },
            ],
            &BTreeMap::new(),
        );
        assert_eq!(m.value(Field::Phone), Some("+34600000001"));
        assert_eq!(m.mismatches.len(), 1);
        assert_eq!(m.mismatches[0].clickup, "+34600000002");
    }

    #[test]
    fn clickup_fills_a_field_hubspot_lacks_without_a_mismatch() {
        let h = set(&[(Field::Email, "a@x.com", 1)]);
        let c = set(&[(Field::Phone, "+34600000002", 2)]);
        let m = merge(
            &[
                MergeInput {
                    source: Source::HubSpot,
                    external_id: "1",
                    fields: &h,
                },
                MergeInput {
                    source: Source::ClickUp,
                    external_id: "t1",
                    fields: &c,
                },
            ],
            &BTreeMap::new(),
        );
        assert_eq!(m.value(Field::Phone), Some("+34600000002"));
        assert!(m.mismatches.is_empty());
    }

    #[test]
    fn names_differing_only_in_case_and_spacing_are_not_a_mismatch() {
        let h = set(&[(Field::Name, "Acme  Iberia", 1)]);
        let c = set(&[(Field::Name, "ACME IBERIA", 2)]);
        let m = merge(
            &[
                MergeInput {
                    source: Source::HubSpot,
                    external_id: "1",
                    fields: &h,
                },
                MergeInput {
                    source: Source::ClickUp,
                    external_id: "t1",
                    fields: &c,
                },
            ],
            &BTreeMap::new(),
        );
        assert!(m.mismatches.is_empty());
    }

    #[test]
    fn a_pinned_field_is_left_alone() {
        let h = set(&[(Field::Email, "a@x.com", 1)]);
        let pinned = BTreeMap::from([(Field::Email, Some("op@x.com".to_owned()))]);
        let m = merge(
            &[MergeInput {
                source: Source::HubSpot,
                external_id: "1",
                fields: &h,
            }],
            &pinned,
        );
        assert_eq!(m.value(Field::Email), None);
    }
}
