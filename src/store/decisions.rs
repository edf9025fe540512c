//! Automatic match decisions with their evidence: appended as the engine decides, read by
//! operators asking why a record sits where it does.

use chrono::Utc;
use entity::decisions::{self, DecisionKind};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{ids::ClientId, source::Source};

/// One decision as the engine made it.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    /// What was decided.
    pub kind: DecisionKind,
    /// The system of the record it was about.
    pub source: Source,
    /// The record's id in that system.
    pub external_id: &'a str,
    /// The event that led to it.
    pub event: &'a str,
    /// Where the record ended up, if on a client.
    pub client: Option<ClientId>,
    /// The client it left or that was merged away, for moves and merges.
    pub from: Option<ClientId>,
    /// The fuzzy probability, when a score decided.
    pub probability: Option<f64>,
    /// The keys, candidates and per-field evidence behind it.
    pub evidence: serde_json::Value,
    /// Which match model scored it.
    pub model_version: &'a str,
}

/// Appends a decision row.
pub async fn record(db: &impl ConnectionTrait, decision: Decision<'_>) -> Result<(), StoreError> {
    record_all(db, &[decision]).await
}

/// Appends several decisions, in one statement for all of them (split only under the
/// backends' parameter limits).
pub async fn record_all(db: &impl ConnectionTrait, decisions: &[Decision<'_>]) -> Result<(), StoreError> {
    let now = Utc::now();
    let rows: Vec<decisions::ActiveModel> = decisions
        .iter()
        .map(|decision| decisions::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(decision.kind),
            source: Set(decision.source.as_str().to_owned()),
            external_id: Set(decision.external_id.to_owned()),
            event_id: Set(decision.event.to_owned()),
            client_id: Set(decision.client.map(|c| c.as_uuid())),
            from_client_id: Set(decision.from.map(|c| c.as_uuid())),
            probability: Set(decision.probability),
            evidence: Set(decision.evidence.clone()),
            model_version: Set(decision.model_version.to_owned()),
            decided_at: Set(now),
        })
        .collect();
    for chunk in super::insert_chunks::<decisions::Entity, _>(rows) {
        decisions::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Every decision about one record, oldest first.
pub async fn for_record(
    db: &impl ConnectionTrait,
    source: &str,
    external_id: &str,
) -> Result<Vec<decisions::Model>, StoreError> {
    Ok(decisions::Entity::find()
        .filter(decisions::Column::Source.eq(source))
        .filter(decisions::Column::ExternalId.eq(external_id))
        .order_by_asc(decisions::Column::Id)
        .all(db)
        .await?)
}
