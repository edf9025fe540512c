//! "Not a match" verdicts between two source records, stored in both directions so either
//! record finds its verdicts by index. Records, not clients, are remembered: clients merge and
//! vanish, while the objects an operator compared stay the same objects.

use std::collections::HashSet;

use chrono::Utc;
use entity::match_exclusions;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{StoreError, records::SourceRecord};
use crate::domain::source::Source;

/// One source record by its identity, as a verdict names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordRef {
    /// Which system.
    pub source: Source,
    /// `kind:id` in that system.
    pub external_id: String,
}

impl RecordRef {
    /// The identity of a loaded record.
    pub fn of(record: &SourceRecord) -> Self {
        Self {
            source: record.source,
            external_id: record.external_id.clone(),
        }
    }
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.source, self.external_id)
    }
}

/// Remembers that `record` is none of `others`; returns those it was not told apart from before.
pub async fn exclude(
    db: &impl ConnectionTrait,
    record: &RecordRef,
    others: &[RecordRef],
    by: &str,
) -> Result<Vec<RecordRef>, StoreError> {
    let now = Utc::now();
    let mut added = Vec::new();
    for other in others.iter().filter(|o| *o != record) {
        for (a, b) in [(record, other), (other, record)] {
            let row = match_exclusions::ActiveModel {
                id: Set(Uuid::now_v7()),
                source: Set(a.source.as_str().to_owned()),
                external_id: Set(a.external_id.clone()),
                other_source: Set(b.source.as_str().to_owned()),
                other_external_id: Set(b.external_id.clone()),
                created_by: Set(by.to_owned()),
                created_at: Set(now),
            };
            let inserted = match_exclusions::Entity::insert(row)
                .on_conflict_do_nothing_on([
                    match_exclusions::Column::Source,
                    match_exclusions::Column::ExternalId,
                    match_exclusions::Column::OtherSource,
                    match_exclusions::Column::OtherExternalId,
                ])
                .exec(db)
                .await?;
            if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) && a == record {
                added.push(other.clone());
            }
        }
    }
    Ok(added)
}

/// Forgets the verdicts between `record` and any of `others` (an operator put them together);
/// returns those it had been told apart from, so an undo can tell them apart again.
pub async fn forget(
    db: &impl ConnectionTrait,
    record: &RecordRef,
    others: &[RecordRef],
) -> Result<Vec<RecordRef>, StoreError> {
    let mut forgotten = Vec::new();
    for other in others {
        for (a, b) in [(record, other), (other, record)] {
            let deleted = match_exclusions::Entity::delete_many()
                .filter(match_exclusions::Column::Source.eq(a.source.as_str()))
                .filter(match_exclusions::Column::ExternalId.eq(a.external_id.as_str()))
                .filter(match_exclusions::Column::OtherSource.eq(b.source.as_str()))
                .filter(match_exclusions::Column::OtherExternalId.eq(b.external_id.as_str()))
                .exec(db)
                .await?;
            if deleted.rows_affected > 0 && a == record {
                forgotten.push(other.clone());
            }
        }
    }
    Ok(forgotten)
}

/// Every record an operator said `record` is not.
pub async fn of(db: &impl ConnectionTrait, record: &RecordRef) -> Result<Vec<RecordRef>, StoreError> {
    let rows: Vec<match_exclusions::Model> = match_exclusions::Entity::find()
        .filter(match_exclusions::Column::Source.eq(record.source.as_str()))
        .filter(match_exclusions::Column::ExternalId.eq(record.external_id.as_str()))
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(RecordRef {
                source: row.other_source.parse().map_err(StoreError::Corrupt)?,
                external_id: row.other_external_id,
            })
        })
        .collect()
}

/// Which of `records` an operator judged (said is not some other record), in one query.
pub async fn judged_among(
    db: &impl ConnectionTrait,
    records: &[RecordRef],
) -> Result<HashSet<RecordRef>, StoreError> {
    if records.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<(String, String)> = match_exclusions::Entity::find()
        .select_only()
        .columns([
            match_exclusions::Column::Source,
            match_exclusions::Column::ExternalId,
        ])
        .filter(match_exclusions::Column::ExternalId.is_in(records.iter().map(|r| r.external_id.as_str())))
        .into_tuple()
        .all(db)
        .await?;
    Ok(records
        .iter()
        .filter(|r| {
            rows.iter()
                .any(|(s, id)| s == r.source.as_str() && *id == r.external_id)
        })
        .cloned()
        .collect())
}

/// The verdicts whose both records are among `records`, each pair once per direction.
pub async fn among(
    db: &impl ConnectionTrait,
    records: &[RecordRef],
) -> Result<Vec<(RecordRef, RecordRef)>, StoreError> {
    if records.len() < 2 {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
    let rows: Vec<match_exclusions::Model> = match_exclusions::Entity::find()
        .filter(match_exclusions::Column::ExternalId.is_in(ids.clone()))
        .filter(match_exclusions::Column::OtherExternalId.is_in(ids))
        .all(db)
        .await?;
    let mut pairs = Vec::new();
    for row in rows {
        let a = RecordRef {
            source: row.source.parse().map_err(StoreError::Corrupt)?,
            external_id: row.external_id,
        };
        let b = RecordRef {
            source: row.other_source.parse().map_err(StoreError::Corrupt)?,
            external_id: row.other_external_id,
        };
        if records.contains(&a) && records.contains(&b) {
            pairs.push((a, b));
        }
    }
    Ok(pairs)
}
