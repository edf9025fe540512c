//! Candidate clients an import has already read, kept with their match profiles for the rest of
//! the run. A common blocking key's clients are candidates for row after row, window after
//! window; reading each one's row and building its profile once, instead of once per window and
//! row, is most of what a first import saves. An entry is used only while the client's version
//! and last change are the ones the window reads under its locks, so a client changed by anyone
//! since (another batch's row, the worker, an operator) is read again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use chrono::{DateTime, Utc};
use entity::clients as client_rows;

use crate::{
    domain::ids::ClientId,
    reconcile::{Field, fuzzy::Profile},
    store::clients,
};

/// Entries kept at most; past it the cache starts again, so a very large import holds a bounded
/// amount of memory (about 1 KB an entry) and still reads a common block's clients once per
/// refill rather than once per window.
const CAPACITY: usize = 200_000;

/// An import run's candidate clients, shared by its batches (and a batch's retries).
#[derive(Debug, Default)]
pub struct Known {
    entries: Mutex<HashMap<ClientId, Arc<Candidate>>>,
}

/// A candidate client as matching a new row against it needs it.
#[derive(Debug)]
pub(in crate::engine) struct Candidate {
    version: i64,
    changed: DateTime<Utc>,
    /// Its email, which a row holding another one can never match.
    pub(super) email: Option<String>,
    /// Its document key, likewise.
    pub(super) document_key: Option<String>,
    /// Its match profile.
    pub(super) profile: Profile,
}

impl Candidate {
    /// The candidate a client's row makes.
    pub(super) fn of(row: &client_rows::Model, profile: Profile) -> Self {
        Self {
            version: row.version,
            changed: row.updated_at,
            email: row.email.clone(),
            document_key: row.document_key.clone(),
            profile,
        }
    }

    /// Its value of an exact key field.
    pub(super) fn key(&self, field: Field) -> Option<&str> {
        match field {
            Field::Email => self.email.as_deref(),
            Field::DocumentKey => self.document_key.as_deref(),
            _ => None,
        }
    }
}

impl Known {
    /// The kept entries of these clients that are still current, given their version and last
    /// change as just read; and the ids whose rows must be read again.
    pub(super) fn current(
        &self,
        versions: &[(uuid::Uuid, i64, DateTime<Utc>)],
    ) -> (HashMap<ClientId, Arc<Candidate>>, Vec<ClientId>) {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut found = HashMap::with_capacity(versions.len());
        let mut stale = Vec::new();
        for (id, version, changed) in versions {
            let id = ClientId::from_uuid(*id);
            match entries.get(&id) {
                Some(entry) if entry.version == *version && entry.changed == *changed => {
                    found.insert(id, entry.clone());
                }
                _ => stale.push(id),
            }
        }
        (found, stale)
    }

    /// Keeps freshly read candidates.
    pub(super) fn keep(&self, fresh: impl IntoIterator<Item = (ClientId, Arc<Candidate>)>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for (id, candidate) in fresh {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(id, candidate);
        }
    }
}

/// Reads the rows of `ids` and makes their candidates.
pub(super) async fn read(
    db: &impl sea_orm::ConnectionTrait,
    ids: &[ClientId],
    options: crate::reconcile::fuzzy::ProfileOptions,
) -> Result<Vec<(ClientId, Arc<Candidate>)>, crate::store::StoreError> {
    Ok(clients::load_many(db, ids)
        .await?
        .iter()
        .map(|row| {
            let profile = Profile::build(|f| clients::value_of(row, f), options);
            (ClientId::from_uuid(row.id), Arc::new(Candidate::of(row, profile)))
        })
        .collect())
}
