//! The golden fields and the timestamped values a source record holds for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A golden client field that sources can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Display name: company name, or the task name in ClickUp.
    Name,
    /// A person's given name.
    GivenName,
    /// A person's family name.
    FamilyName,
    /// Normalized email; an exact match key.
    Email,
    /// Normalized tax document key; the strongest match key.
    DocumentKey,
    /// Normalized phone.
    Phone,
    /// Company a contact works for.
    Company,
    /// A person's date of birth, `YYYY-MM-DD`.
    DateOfBirth,
    /// House or building number.
    StreetNumber,
    /// Street name (address line 1).
    Street,
    /// Address line 2: flat, floor, building name.
    Address2,
    /// City, town or suburb.
    City,
    /// Postal code.
    Postcode,
    /// State, province or region.
    Region,
    /// Where the client's project stands; ClickUp owns it and it is written to HubSpot.
    ProjectStatus,
    /// Whether the client has paid; ClickUp owns it and it is written to HubSpot.
    PaymentStatus,
}

impl Field {
    /// Every field, in a stable order: the matched ones, then the work-status ones.
    pub const ALL: [Field; 16] = {
        let mut all = [Field::ProjectStatus; 16];
        let mut i = 0;
        while i < Field::MATCHED.len() {
            all[i] = Field::MATCHED[i];
            i += 1;
        }
        all[15] = Field::PaymentStatus;
        all
    };

    /// The fields that say who a client is, which matching compares (and indexes its weight
    /// tables by); work statuses say nothing about identity.
    pub const MATCHED: [Field; 14] = [
        Field::Name,
        Field::GivenName,
        Field::FamilyName,
        Field::Email,
        Field::DocumentKey,
        Field::Phone,
        Field::Company,
        Field::DateOfBirth,
        Field::StreetNumber,
        Field::Street,
        Field::Address2,
        Field::City,
        Field::Postcode,
        Field::Region,
    ];

    /// Stable snake_case name used in rows and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Email => "email",
            Field::DocumentKey => "document_key",
            Field::Phone => "phone",
            Field::Company => "company",
            Field::DateOfBirth => "date_of_birth",
            Field::StreetNumber => "street_number",
            Field::Street => "street",
            Field::Address2 => "address_2",
            Field::City => "city",
            Field::Postcode => "postcode",
            Field::Region => "region",
            Field::ProjectStatus => "project_status",
            Field::PaymentStatus => "payment_status",
        }
    }

    /// Position in `Field::ALL`, which indexes per-field tables such as match patterns.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether values are free text compared after folding (case, accents, spacing).
    pub fn is_text(self) -> bool {
        !matches!(
            self,
            Field::Email | Field::DocumentKey | Field::Phone | Field::DateOfBirth | Field::Postcode
        )
    }

    /// The system whose value wins: ClickUp for the work it runs (project and payment status),
    /// HubSpot, the source of truth, for everything else.
    pub fn owner(self) -> crate::domain::source::Source {
        match self {
            Field::ProjectStatus | Field::PaymentStatus => crate::domain::source::Source::ClickUp,
            _ => crate::domain::source::Source::HubSpot,
        }
    }

    /// Parses a stored field name.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// One field value as a source last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    /// Normalized value; `None` when the source cleared the field.
    pub value: Option<String>,
    /// When the source changed it (Unix ms); orders updates.
    pub at_ms: i64,
    /// The inbox id of the event that carried it.
    pub event: String,
}

/// The fields of one source record, each with its own time so older events never win. Keyed
/// by client `Field` unless told otherwise (a project's side is keyed by `ProjectField`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldSet<F: Ord = Field>(BTreeMap<F, FieldValue>);

impl<F: Ord> Default for FieldSet<F> {
    fn default() -> Self {
        Self(BTreeMap::new())
    }
}

impl<F: Ord + Copy> FieldSet<F> {
    /// Applies `incoming` if it is not older than what is held; returns whether it changed anything.
    pub fn apply(&mut self, field: F, incoming: FieldValue) -> bool {
        match self.0.get(&field) {
            Some(held) if held.at_ms > incoming.at_ms => false,
            Some(held) if held.at_ms == incoming.at_ms && held.value == incoming.value => false,
            // Two values stamped with the same millisecond: the greater event id wins, so the
            // outcome does not depend on which arrived last.
            Some(held) if held.at_ms == incoming.at_ms && held.event >= incoming.event => false,
            _ => {
                self.0.insert(field, incoming);
                true
            }
        }
    }

    /// Takes every value of `other` that is not older than this set's own (a merged
    /// object's fields join the survivor's); returns whether anything changed.
    pub fn absorb(&mut self, other: &FieldSet<F>) -> bool {
        other.0.iter().fold(false, |changed, (field, value)| {
            self.apply(*field, value.clone()) | changed
        })
    }

    /// The current value of a field, if set.
    pub fn value(&self, field: F) -> Option<&str> {
        self.0.get(&field).and_then(|v| v.value.as_deref())
    }

    /// The full entry of a field, with its time and event.
    pub fn get(&self, field: F) -> Option<&FieldValue> {
        self.0.get(&field)
    }

    /// Whether no field has been reported yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: &str, at_ms: i64) -> FieldValue {
        FieldValue {
            value: Some(value.into()),
            at_ms,
            event: format!("e{at_ms}"),
        }
    }

    #[test]
    fn an_older_value_never_overwrites_a_newer_one() {
        let mut set = FieldSet::default();
        assert!(set.apply(Field::Email, v("new@x.com", 20)));
        assert!(!set.apply(Field::Email, v("old@x.com", 10)));
        assert_eq!(set.value(Field::Email), Some("new@x.com"));
    }

    #[test]
    fn a_newer_value_replaces_the_held_one() {
        let mut set = FieldSet::default();
        set.apply(Field::Phone, v("+341", 10));
        assert!(set.apply(Field::Phone, v("+342", 11)));
        assert_eq!(set.value(Field::Phone), Some("+342"));
    }

    #[test]
    fn every_field_sits_at_its_index_and_only_identity_fields_are_matched() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f.index(), i, "{f:?}");
        }
        assert!(
            Field::MATCHED
                .iter()
                .all(|f| f.owner() == crate::domain::source::Source::HubSpot)
        );
        assert_eq!(Field::ALL.len() - Field::MATCHED.len(), 2);
    }

    #[test]
    fn field_names_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::parse(f.as_str()), Some(f));
        }
    }
}
