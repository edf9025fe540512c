//! What an operator decides: resolving conflicts (keep HubSpot's value, accept ClickUp's, pin a
//! value, link a doubtful record to a client) and clearing pins. Each decision is one
//! transaction that also re-derives the client, so the golden record shows it at once.

use entity::conflicts::{self as conflict_rows, ConflictKind, ConflictStatus};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    domain::{
        ids::ClientId,
        source::{ObjectKind, Source},
    },
    engine::{ProcessError, recompute},
    reconcile::{Field, Matching, normalize::Normalized},
    store::{StoreError, clients, conflicts, provenance, records},
};

/// What an operator decided about a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Resolution {
    /// field_mismatch: HubSpot's value (already golden) is right; the same pair is not raised again.
    KeepHubspot,
    /// field_mismatch: ClickUp's value is right; it is pinned over HubSpot's.
    AcceptClickup,
    /// field_mismatch: neither; this value is pinned.
    Pin {
        /// The value, normalized like any source value.
        value: String,
    },
    /// ambiguous_match or key_collision: the record belongs to this client.
    Link {
        /// The client the record joins.
        client_id: Uuid,
    },
}

impl Resolution {
    fn name(&self) -> &'static str {
        match self {
            Resolution::KeepHubspot => "keep_hubspot",
            Resolution::AcceptClickup => "accept_clickup",
            Resolution::Pin { .. } => "pin",
            Resolution::Link { .. } => "link",
        }
    }
}

/// Who is acting: recorded on every conflict they resolve and every value they pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator(String);

impl Operator {
    /// Checks an operator name: 1–64 printable characters, not the service's own name.
    pub fn parse(raw: &str) -> Result<Self, OperatorError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(OperatorError::Invalid(
                "operator name must be 1-64 printable characters".into(),
            ));
        }
        if name == conflicts::SYSTEM {
            return Err(OperatorError::Invalid(format!(
                "`{name}` is reserved for the service"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// No such conflict, client or field.
    #[error("{0} not found")]
    NotFound(String),
    /// Someone already resolved it.
    #[error("conflict {0} is already resolved")]
    AlreadyResolved(Uuid),
    /// The action does not apply to this kind of conflict.
    #[error("`{action}` does not resolve a {kind} conflict")]
    NotApplicable {
        /// The action asked for.
        action: &'static str,
        /// The conflict's kind.
        kind: &'static str,
    },
    /// A value or name that cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for OperatorError {
    fn from(e: DbErr) -> Self {
        OperatorError::Store(StoreError::Db(e))
    }
}

impl From<ProcessError> for OperatorError {
    fn from(e: ProcessError) -> Self {
        match e {
            ProcessError::Store(e) => OperatorError::Store(e),
            // Resolving re-derives a client from stored records; it never calls a source.
            ProcessError::Source(e) => OperatorError::Store(StoreError::Corrupt(e.to_string())),
        }
    }
}

/// Applies an operator's decision to an open conflict and closes it.
pub async fn resolve(
    db: &DatabaseConnection,
    matching: &Matching,
    id: Uuid,
    resolution: Resolution,
    by: &Operator,
) -> Result<conflict_rows::Model, OperatorError> {
    let txn = db.begin().await?;
    let row = conflicts::get_for_update(&txn, id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("conflict {id}")))?;
    if row.status != ConflictStatus::Open {
        return Err(OperatorError::AlreadyResolved(id));
    }
    let not_applicable = || OperatorError::NotApplicable {
        action: resolution.name(),
        kind: conflicts::kind_name(row.kind),
    };
    let note = match (&row.kind, &resolution) {
        (ConflictKind::FieldMismatch, Resolution::KeepHubspot) => "kept HubSpot's value".to_owned(),
        (ConflictKind::FieldMismatch, Resolution::AcceptClickup) => {
            let (client, field) = mismatch_target(&row)?;
            pin(&txn, matching, client, field, row.clickup_value.clone(), by, id).await?;
            "pinned ClickUp's value".to_owned()
        }
        (ConflictKind::FieldMismatch, Resolution::Pin { value }) => {
            let (client, field) = mismatch_target(&row)?;
            let value = match crate::reconcile::normalize::normalize_in(field, Some(value), matching.country)
            {
                Normalized::Value(v, _) => v,
                Normalized::Cleared => return Err(OperatorError::Invalid("the value is empty".into())),
                Normalized::Rejected(why) => {
                    return Err(OperatorError::Invalid(format!(
                        "not a valid {}: {why}",
                        field.as_str()
                    )));
                }
            };
            pin(&txn, matching, client, field, Some(value), by, id).await?;
            "pinned an operator's value".to_owned()
        }
        (ConflictKind::AmbiguousMatch | ConflictKind::KeyCollision, Resolution::Link { client_id }) => {
            link(&txn, matching, &row, ClientId::from_uuid(*client_id), by).await?;
            format!("linked to client {client_id}")
        }
        _ => return Err(not_applicable()),
    };
    let row = conflicts::resolve(&txn, row, &note, by.as_str()).await?;
    txn.commit().await?;
    tracing::info!(conflict = %id, by = by.as_str(), resolution = resolution.name(), "conflict resolved");
    Ok(row)
}

/// Clears a pin; the field goes back to the sources' value (HubSpot's first).
pub async fn clear_pin(
    db: &DatabaseConnection,
    matching: &Matching,
    client: ClientId,
    field: Field,
    by: &Operator,
) -> Result<(), OperatorError> {
    let txn = db.begin().await?;
    if !clients::lock(&txn, client).await? {
        return Err(OperatorError::NotFound(format!("client {client}")));
    }
    if !provenance::unpin(&txn, client, field).await? {
        return Err(OperatorError::NotFound(format!("pin on {}", field.as_str())));
    }
    refresh(&txn, matching, client, by).await?;
    txn.commit().await?;
    tracing::info!(%client, field = field.as_str(), by = by.as_str(), "pin cleared");
    Ok(())
}

fn mismatch_target(row: &conflict_rows::Model) -> Result<(ClientId, Field), OperatorError> {
    let client = row
        .client_id
        .map(ClientId::from_uuid)
        .ok_or_else(|| OperatorError::NotFound("the conflict's client".into()))?;
    let field = row
        .field
        .as_deref()
        .and_then(Field::parse)
        .ok_or_else(|| OperatorError::NotFound("the conflict's field".into()))?;
    Ok((client, field))
}

async fn pin(
    txn: &DatabaseTransaction,
    matching: &Matching,
    client: ClientId,
    field: Field,
    value: Option<String>,
    by: &Operator,
    conflict: Uuid,
) -> Result<(), OperatorError> {
    if !clients::lock(txn, client).await? {
        return Err(OperatorError::NotFound(format!("client {client}")));
    }
    // A key another client holds would make two clients one: that is a link, not a pin.
    if matches!(field, Field::Email | Field::DocumentKey)
        && let Some(v) = value.as_deref()
        && clients::find_by_key(txn, field, v)
            .await?
            .is_some_and(|owner| owner != client)
    {
        return Err(OperatorError::Invalid(format!(
            "another client holds this {}; link the records instead",
            field.as_str()
        )));
    }
    provenance::pin(
        txn,
        client,
        field,
        value,
        by.as_str(),
        &format!("conflict:{conflict}"),
    )
    .await?;
    refresh(txn, matching, client, by).await
}

/// Re-derives a client after an operator's change, with one of its records as the trigger.
async fn refresh(
    txn: &DatabaseTransaction,
    matching: &Matching,
    client: ClientId,
    by: &Operator,
) -> Result<(), OperatorError> {
    let linked = records::linked_active(txn, client).await?;
    if let Some(trigger) = linked.first() {
        recompute(
            txn,
            matching,
            client,
            trigger,
            &format!("operator:{}", by.as_str()),
        )
        .await?;
    }
    Ok(())
}

/// Moves a doubtful record onto the client the operator chose; a client it alone fed goes.
async fn link(
    txn: &DatabaseTransaction,
    matching: &Matching,
    row: &conflict_rows::Model,
    target: ClientId,
    by: &Operator,
) -> Result<(), OperatorError> {
    let source: Source = row
        .source
        .parse()
        .map_err(|_| OperatorError::NotFound(format!("source `{}`", row.source)))?;
    let kind: ObjectKind = row
        .external_id
        .split(':')
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| OperatorError::NotFound(format!("record {}", row.external_id)))?;
    let mut record = records::load_or_new(txn, source, &row.external_id, kind).await?;
    if !record.is_stored() {
        return Err(OperatorError::NotFound(format!("record {}", row.external_id)));
    }
    if !clients::lock(txn, target).await? {
        return Err(OperatorError::NotFound(format!("client {target}")));
    }
    let previous = record.client_id.filter(|c| *c != target);
    record.client_id = Some(target);
    records::save(txn, &mut record).await?;
    let event = format!("operator:{}", by.as_str());
    recompute(txn, matching, target, &record, &event).await?;
    if let Some(previous) = previous {
        if records::count_linked(txn, previous).await? == 0 {
            clients::delete(txn, previous).await?;
        } else {
            refresh(txn, matching, previous, by).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_name_is_printable_bounded_and_not_the_service() {
        assert!(Operator::parse("alice").is_ok());
        assert!(Operator::parse("  ").is_err());
        assert!(Operator::parse(&"x".repeat(65)).is_err());
        assert!(Operator::parse("bad\nname").is_err());
        assert!(Operator::parse(conflicts::SYSTEM).is_err());
    }

    #[test]
    fn resolutions_read_from_json_by_action() {
        let r: Resolution = serde_json::from_str(r#"{"action":"pin","value":"a@x.com"}"#).unwrap();
        assert_eq!(
            r,
            Resolution::Pin {
                value: "a@x.com".into()
            }
        );
        assert!(serde_json::from_str::<Resolution>(r#"{"action":"merge"}"#).is_err());
    }
}
