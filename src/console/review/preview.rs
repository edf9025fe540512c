//! What a decision would make of the golden client before a steward confirms it: the client's
//! records (plus or minus the one decided about) go through `reconcile::merge`, the same pure
//! precedence the engine applies, and each field whose value would change is listed. Nothing
//! is written; the decision itself re-derives the client in its own transaction.

use std::collections::BTreeMap;

use crate::{
    domain::ids::ClientId,
    reconcile::{self, Field, MergeInput},
    store::{
        StoreError, clients,
        records::{self, SourceRecord},
    },
};

/// One golden field a decision would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The field.
    pub field: &'static str,
    /// Its value now (empty when none).
    pub now: String,
    /// Its value afterwards (empty when none).
    pub after: String,
    /// Which source would give it (`pinned` when an operator's pin stands).
    pub from: String,
}

/// The fields that differ between `now` and what merging `held` gives, pins standing.
pub fn changes(
    now: &BTreeMap<Field, Option<String>>,
    held: &[&SourceRecord],
    pinned: &BTreeMap<Field, Option<String>>,
) -> Vec<Change> {
    let inputs: Vec<MergeInput<'_>> = held
        .iter()
        .map(|r| MergeInput {
            source: r.source,
            external_id: &r.external_id,
            fields: &r.fields,
        })
        .collect();
    let merged = reconcile::merge(&inputs, pinned);
    Field::ALL
        .into_iter()
        .filter_map(|field| {
            let before = now.get(&field).cloned().flatten().unwrap_or_default();
            let (after, from) = match pinned.get(&field) {
                Some(value) => (value.clone().unwrap_or_default(), "pinned".to_owned()),
                None => merged
                    .fields
                    .iter()
                    .find(|g| g.field == field)
                    .map(|g| (g.value.clone().unwrap_or_default(), g.source.as_str().to_owned()))
                    .unwrap_or_default(),
            };
            (before != after).then(|| Change {
                field: field.as_str(),
                now: before,
                after,
                from,
            })
        })
        .collect()
}

/// A client as a preview starts from: its golden values, its operator's pins, its records.
#[derive(Default)]
struct Golden {
    now: BTreeMap<Field, Option<String>>,
    pinned: BTreeMap<Field, Option<String>>,
    held: Vec<SourceRecord>,
}

impl Golden {
    /// `client` as stored; a client that is gone (or none, for a new one) starts empty.
    async fn load(db: &impl sea_orm::ConnectionTrait, client: Option<ClientId>) -> Result<Self, StoreError> {
        let mut golden = Golden::default();
        let Some(client) = client else {
            return Ok(golden);
        };
        if let Some((row, provenance)) = clients::find_with_provenance(db, client).await? {
            for field in Field::ALL {
                golden
                    .now
                    .insert(field, clients::value_of(&row, field).map(str::to_owned));
            }
            golden.pinned = provenance
                .iter()
                .filter(|(_, p)| p.pinned)
                .map(|(f, p)| (*f, p.value.clone()))
                .collect();
        }
        golden.held = records::linked_active(db, client).await?;
        Ok(golden)
    }
}

/// The changes to `client` were `joining` added to its records and `leaving` taken off them;
/// a client that is gone (or none, for a new one) starts empty.
pub async fn of_client(
    db: &impl sea_orm::ConnectionTrait,
    client: Option<ClientId>,
    joining: Option<&SourceRecord>,
    leaving: Option<&SourceRecord>,
) -> Result<Vec<Change>, StoreError> {
    let golden = Golden::load(db, client).await?;
    let same = |a: &SourceRecord, b: &SourceRecord| a.source == b.source && a.external_id == b.external_id;
    let mut kept: Vec<&SourceRecord> = golden
        .held
        .iter()
        .filter(|r| !leaving.is_some_and(|l| same(r, l)))
        .collect();
    if let Some(joining) = joining.filter(|j| !kept.iter().any(|r| same(r, j))) {
        kept.push(joining);
    }
    Ok(changes(&golden.now, &kept, &golden.pinned))
}

/// The changes to `client` were an operator to pin `field` to `value` (`None`: pinned empty).
pub async fn with_pin(
    db: &impl sea_orm::ConnectionTrait,
    client: ClientId,
    field: Field,
    value: Option<String>,
) -> Result<Vec<Change>, StoreError> {
    let mut golden = Golden::load(db, Some(client)).await?;
    golden.pinned.insert(field, value);
    let held: Vec<&SourceRecord> = golden.held.iter().collect();
    Ok(changes(&golden.now, &held, &golden.pinned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::source::{ObjectKind, Source};

    fn record(source: Source, id: &str, email: &str) -> SourceRecord {
        let mut r = SourceRecord::new(source, id, ObjectKind::Contact);
        r.fields.apply(
            Field::Email,
            crate::reconcile::field::FieldValue {
                value: Some(email.to_owned()),
                at_ms: 1,
                event: "e1".into(),
            },
        );
        r
    }

    #[test]
    fn a_hubspot_record_joining_shows_its_email_replacing_clickups() {
        let now = BTreeMap::from([(Field::Email, Some("old@example.com".to_owned()))]);
        let task = record(Source::ClickUp, "task:1", "old@example.com");
        let contact = record(Source::HubSpot, "contact:1", "new@example.com");
        let changes = changes(&now, &[&task, &contact], &BTreeMap::new());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "email");
        assert_eq!(changes[0].now, "old@example.com");
        assert_eq!(changes[0].after, "new@example.com");
        assert_eq!(changes[0].from, "hubspot");
    }

    #[test]
    fn a_pinned_field_does_not_change_whatever_joins() {
        let now = BTreeMap::from([(Field::Email, Some("pin@example.com".to_owned()))]);
        let pinned = BTreeMap::from([(Field::Email, Some("pin@example.com".to_owned()))]);
        let contact = record(Source::HubSpot, "contact:1", "new@example.com");
        assert!(changes(&now, &[&contact], &pinned).is_empty());
    }
}
