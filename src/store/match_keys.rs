//! The blocking-key index of golden clients, and the locks that make fuzzy matching safe with
//! any number of workers.
//!
//! Exact keys (email, document key) are guarded by unique indexes; fuzzy matches have no
//! such index, so two workers could each find no candidate for the same new person and create
//! two clients. On Postgres a worker matching an unlinked record first takes transaction-scoped
//! advisory locks on the record's blocking keys, in sorted order: any two records that could
//! match share a key, so the second waits until the first has committed its client and keys,
//! then finds them. SQLite has one writer at a time, and a transaction that read before another
//! committed fails with BUSY and is retried, which gives the same result.

use std::collections::HashMap;

use entity::match_keys;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    Statement,
};
use sha2::{Digest, Sha256};

use super::StoreError;
use crate::domain::ids::ClientId;

/// Most key rows read for one record; with blocks capped this is never reached in practice.
const MAX_ROWS: u64 = 4_000;

/// A stable 64-bit lock id for a key, the same in every process and version.
fn lock_id(key: &str) -> i64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Takes the advisory locks of `keys` until the transaction ends (Postgres; a no-op on SQLite).
pub async fn lock(db: &impl ConnectionTrait, keys: &[String]) -> Result<(), StoreError> {
    if db.get_database_backend() != DbBackend::Postgres || keys.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<i64> = keys.iter().map(|k| lock_id(k)).collect();
    ids.sort_unstable();
    ids.dedup();
    // The ids are numbers we computed, so they are safe to inline; one round trip for all.
    let values: Vec<String> = ids.iter().map(|id| format!("({id}::bigint)")).collect();
    let sql = format!(
        "SELECT pg_advisory_xact_lock(k) FROM (VALUES {}) AS t(k) ORDER BY k",
        values.join(",")
    );
    db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    Ok(())
}

/// Clients sharing a key with `keys`, skipping keys more than `max_block` clients share.
pub async fn candidates(
    db: &impl ConnectionTrait,
    keys: &[String],
    max_block: usize,
) -> Result<Vec<ClientId>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, uuid::Uuid)> = match_keys::Entity::find()
        .select_only()
        .column(match_keys::Column::Key)
        .column(match_keys::Column::ClientId)
        .filter(match_keys::Column::Key.is_in(keys.iter().map(String::as_str)))
        .limit(MAX_ROWS)
        .into_tuple()
        .all(db)
        .await?;
    let mut blocks: HashMap<&str, Vec<uuid::Uuid>> = HashMap::new();
    for (key, client) in &rows {
        blocks.entry(key.as_str()).or_default().push(*client);
    }
    let mut found: Vec<uuid::Uuid> = blocks
        .values()
        .filter(|b| b.len() <= max_block)
        .flatten()
        .copied()
        .collect();
    found.sort_unstable();
    found.dedup();
    Ok(found.into_iter().map(ClientId::from_uuid).collect())
}

/// Makes `keys` the client's blocking keys.
pub async fn replace(db: &impl ConnectionTrait, client: ClientId, keys: &[String]) -> Result<(), StoreError> {
    match_keys::Entity::delete_many()
        .filter(match_keys::Column::ClientId.eq(client.as_uuid()))
        .exec(db)
        .await?;
    insert(db, client, keys).await
}

/// Adds the keys of a new client.
pub async fn insert(db: &impl ConnectionTrait, client: ClientId, keys: &[String]) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    let rows = keys.iter().map(|key| match_keys::ActiveModel {
        key: Set(key.clone()),
        client_id: Set(client.as_uuid()),
    });
    match_keys::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ids_are_stable_and_distinct() {
        assert_eq!(lock_id("e:ana@x.com"), lock_id("e:ana@x.com"));
        assert_ne!(lock_id("e:ana@x.com"), lock_id("e:ana@y.com"));
        // Pinned so that a change of hash (which would break locking across versions) is seen.
        assert_eq!(lock_id("e:ana@x.com"), lock_id_reference());
    }

    fn lock_id_reference() -> i64 {
        let digest = Sha256::digest(b"e:ana@x.com");
        i64::from_be_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ])
    }
}
