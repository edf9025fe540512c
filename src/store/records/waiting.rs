//! Records waiting on no client (a key collision, or an ambiguous match waiting for evidence),
//! found by the keys they hold: when a client takes one of those keys they are placed again,
//! as they would have been had they arrived after it.

use entity::source_records::{self, RecordStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::SourceRecord;
use crate::{
    domain::source::{ObjectKind, Source},
    store::StoreError,
};

/// An active record on no client (a key collision, or an ambiguous match waiting for
/// evidence), with the keys it holds.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Which system.
    pub source: Source,
    /// `kind:id` in that system.
    pub external_id: String,
    /// What kind of object it mirrors.
    pub kind: ObjectKind,
    /// Its email.
    pub email: Option<String>,
    /// Its document key.
    pub document_key: Option<String>,
}

/// A waiting record's source, external id, kind, email and document key, as read.
type WaitingRow = (String, String, String, Option<String>, Option<String>);

/// The waiting records holding any of these emails or document keys, in one query.
pub async fn waiting_holding(
    db: &impl ConnectionTrait,
    emails: &[&str],
    document_keys: &[&str],
) -> Result<Vec<Waiting>, StoreError> {
    use source_records::Column as C;
    let mut any = sea_orm::Condition::any();
    if !emails.is_empty() {
        any = any.add(C::Email.is_in(emails.iter().copied()));
    }
    if !document_keys.is_empty() {
        any = any.add(C::DocumentKey.is_in(document_keys.iter().copied()));
    }
    if any.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<WaitingRow> = source_records::Entity::find()
        .select_only()
        .columns([C::Source, C::ExternalId, C::Kind, C::Email, C::DocumentKey])
        .filter(any)
        .filter(C::ClientId.is_null())
        .filter(C::Status.eq(RecordStatus::Active))
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(source, external_id, kind, email, document_key)| {
            Ok(Waiting {
                source: source.parse().map_err(StoreError::Corrupt)?,
                external_id,
                kind: kind.parse().map_err(StoreError::Corrupt)?,
                email,
                document_key,
            })
        })
        .collect()
}

/// Active records on no client (a key collision, or an ambiguous match waiting for evidence)
/// that hold `email` or `document_key`: when a client takes one of those keys, they are placed
/// again, as they would have been had they arrived after it.
pub async fn waiting_with_keys(
    db: &impl ConnectionTrait,
    email: Option<&str>,
    document_key: Option<&str>,
    except: &SourceRecord,
) -> Result<Vec<(Source, String, ObjectKind)>, StoreError> {
    let emails: Vec<&str> = email.into_iter().collect();
    let keys: Vec<&str> = document_key.into_iter().collect();
    Ok(waiting_holding(db, &emails, &keys)
        .await?
        .into_iter()
        .filter(|w| !(w.source == except.source && w.external_id == except.external_id))
        .map(|w| (w.source, w.external_id, w.kind))
        .collect())
}
