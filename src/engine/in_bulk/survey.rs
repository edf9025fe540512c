//! What the store holds about a window's rows, read in a few statements for all of them (not
//! a dozen per row): which records are stored, which an operator judged, which emails and
//! document keys a client or a waiting record holds, and the clients sharing each row's
//! blocking keys, whose advisory locks are taken first as the per-event path takes them.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use sea_orm::ConnectionTrait;

use super::{
    certain::Candidate,
    known::{self, Known},
};
use crate::{
    domain::ids::ClientId,
    engine::ProcessError,
    reconcile::{Field, Matching},
    store::{clients, exclusions, match_keys, records},
};

/// Ids per statement when loading candidate clients: under every backend's parameter limit.
const IDS_PER_QUERY: usize = 10_000;

/// What the store holds about a window's rows.
pub(in crate::engine) struct Facts {
    /// Records already stored.
    pub(super) stored: HashSet<exclusions::RecordRef>,
    /// Records an operator said are not some other record.
    pub(super) judged: HashSet<exclusions::RecordRef>,
    /// Emails and document keys a client or a waiting record (on no client) holds.
    pub(super) held: HashSet<(Field, String)>,
    /// Per row, the clients sharing one of its usable blocking keys (none for other rows).
    pub(super) pools: Vec<Vec<ClientId>>,
    /// Those clients, as matching compares them.
    pub(super) clients: HashMap<ClientId, Arc<known::Candidate>>,
}

/// Reads the facts about `candidates`, after locking their usable blocking keys; of the
/// clients they may match, only those `known` does not hold as they are now are read whole.
pub(super) async fn read(
    txn: &impl ConnectionTrait,
    matching: &Matching,
    known: &Known,
    candidates: &[Candidate<'_>],
) -> Result<Facts, ProcessError> {
    let rows: Vec<_> = candidates.iter().filter_map(Candidate::row).collect();
    let refs: Vec<exclusions::RecordRef> = rows
        .iter()
        .map(|r| exclusions::RecordRef::of(&r.record))
        .collect();
    let values =
        |field: Field| -> Vec<&str> { rows.iter().filter_map(|r| r.record.fields.value(field)).collect() };
    let (emails, document_keys) = (values(Field::Email), values(Field::DocumentKey));
    let no_keys: Vec<String> = Vec::new();
    let keys: Vec<&[String]> = candidates
        .iter()
        .map(|c| c.row().map_or(no_keys.as_slice(), |r| r.keys.as_slice()))
        .collect();
    // Locks first, as the per-event path takes them before any lookup.
    let pools = match_keys::lock_and_find_all(txn, &keys, matching.max_block).await?;
    let stored = records::stored_among(txn, &refs).await?;
    let judged = exclusions::judged_among(txn, &refs).await?;
    let mut held = HashSet::new();
    let holders = clients::holding_keys(txn, &emails, &document_keys).await?;
    let waiting = records::waiting_holding(txn, &emails, &document_keys).await?;
    for (email, document_key) in holders
        .into_iter()
        .chain(waiting.into_iter().map(|w| (w.email, w.document_key)))
    {
        held.extend(email.map(|v| (Field::Email, v)));
        held.extend(document_key.map(|v| (Field::DocumentKey, v)));
    }
    let mut ids: Vec<ClientId> = pools.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut loaded = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let versions = clients::versions_of(txn, chunk).await?;
        let (current, stale) = known.current(&versions);
        loaded.extend(current);
        let fresh = known::read(txn, &stale, matching.profile).await?;
        loaded.extend(fresh.iter().cloned());
        known.keep(fresh);
    }
    Ok(Facts {
        stored,
        judged,
        held,
        pools,
        clients: loaded,
    })
}
