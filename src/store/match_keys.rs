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

use std::collections::{HashMap, HashSet};

use entity::match_keys;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
};
use sha2::{Digest, Sha256};

use super::StoreError;
use crate::domain::ids::ClientId;

/// Keys looked up in one SQLite statement (a union of per-key subqueries).
const KEYS_PER_UNION: usize = 240;

/// A stable 64-bit lock id for a key, the same in every process and version.
fn lock_id(key: &str) -> i64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Takes the advisory locks of `keys` until the transaction ends (Postgres; a no-op on SQLite).
async fn lock(db: &impl ConnectionTrait, keys: &[&str]) -> Result<(), StoreError> {
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

/// What the index holds under one key, as matching may use it.
enum Block {
    /// At most `max_block` clients: candidates.
    Few(Vec<uuid::Uuid>),
    /// More than `max_block`: too common to find candidates by.
    TooCommon,
}

/// The clients holding each of `keys` (a key no client holds is absent), in one statement
/// (a lateral join on Postgres, a union of per-key selects on SQLite). A key held by more than
/// `max_block` clients comes back as one row saying so, found by looking for its
/// `max_block + 1`-th entry in the index, instead of as that many rows to decode and count:
/// with realistic surnames most of a batch's candidate rows were of such keys.
async fn blocks(
    db: &impl ConnectionTrait,
    keys: &[&str],
    max_block: usize,
) -> Result<HashMap<String, Block>, StoreError> {
    let mut blocks: HashMap<String, Block> = HashMap::new();
    let mut take = |key: String, client: Option<uuid::Uuid>| match client {
        None => {
            blocks.insert(key, Block::TooCommon);
        }
        Some(client) => {
            if let Block::Few(ids) = blocks.entry(key).or_insert_with(|| Block::Few(Vec::new())) {
                ids.push(client);
            }
        }
    };
    if db.get_database_backend() == DbBackend::Postgres {
        // One statement text whatever the number of keys, so Postgres plans it once per
        // connection: the keys travel as one unit-separator-joined parameter.
        let sql = "SELECT k.key, m.client_id \
                   FROM unnest(string_to_array($1, chr(31))) AS k(key) \
                   CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM match_keys x \
                       WHERE x.key = k.key OFFSET $2 LIMIT 1) AS common) AS c \
                   CROSS JOIN LATERAL (SELECT client_id FROM match_keys \
                       WHERE key = k.key AND NOT c.common \
                       UNION ALL SELECT NULL::uuid WHERE c.common) AS m";
        let joined = keys.join("\u{1f}");
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [joined.into(), (max_block as i64).into()],
        );
        for row in db.query_all_raw(stmt).await? {
            take(row.try_get("", "key")?, row.try_get("", "client_id")?);
        }
        return Ok(blocks);
    }
    // `max_block` is a number of ours, safe to inline; each key is one numbered parameter.
    let per_key = |n: usize| {
        let common = format!("EXISTS (SELECT 1 FROM match_keys WHERE key = ?{n} LIMIT 1 OFFSET {max_block})");
        format!(
            "SELECT ?{n} AS key, client_id FROM match_keys WHERE key = ?{n} AND NOT {common} \
             UNION ALL SELECT ?{n}, NULL WHERE {common}"
        )
    };
    // Two selects a key, and SQLite allows 500 in one compound.
    for chunk in keys.chunks(KEYS_PER_UNION) {
        let sql: Vec<String> = (1..=chunk.len()).map(per_key).collect();
        let stmt = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql.join(" UNION ALL "),
            chunk.iter().map(|k| (*k).into()),
        );
        for row in db.query_all_raw(stmt).await? {
            take(row.try_get("", "key")?, row.try_get("", "client_id")?);
        }
    }
    Ok(blocks)
}

/// Locks the record's usable blocking keys and returns the clients sharing one of them: the
/// fuzzy candidates, read after the lock so a concurrent match of the same person is seen.
///
/// Keys held by more than `max_block` clients are too common to find candidates by, so they
/// are neither used nor locked (locking them would make every record with a common surname
/// wait for every other). Two records of one person that could find each other share a usable
/// key, and lock it. On SQLite (one writer) no lock is needed and the keys are read once.
pub async fn lock_and_find(
    db: &impl ConnectionTrait,
    keys: &[String],
    max_block: usize,
) -> Result<Vec<ClientId>, StoreError> {
    Ok(lock_and_find_all(db, &[keys], max_block)
        .await?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// `lock_and_find` for several records at once: every usable key of all of them is locked in
/// one statement (in sorted order, as one record's are), and each record's candidates come
/// back in its place.
pub async fn lock_and_find_all(
    db: &impl ConnectionTrait,
    records: &[&[String]],
    max_block: usize,
) -> Result<Vec<Vec<ClientId>>, StoreError> {
    let mut all: Vec<&str> = records
        .iter()
        .flat_map(|keys| keys.iter().map(String::as_str))
        .collect();
    all.sort_unstable();
    all.dedup();
    let mut found = blocks(db, &all, max_block).await?;
    let usable: HashSet<&str> = all
        .iter()
        .copied()
        .filter(|k| !matches!(found.get(*k), Some(Block::TooCommon)))
        .collect();
    if db.get_database_backend() == DbBackend::Postgres && !usable.is_empty() {
        let usable: Vec<&str> = all.iter().copied().filter(|k| usable.contains(k)).collect();
        lock(db, &usable).await?;
        found = blocks(db, &usable, max_block).await?;
    }
    Ok(records
        .iter()
        .map(|keys| {
            let mut ids: Vec<uuid::Uuid> = keys
                .iter()
                .filter(|k| usable.contains(k.as_str()))
                .filter_map(|k| match found.get(k.as_str()) {
                    Some(Block::Few(ids)) => Some(ids),
                    Some(Block::TooCommon) | None => None,
                })
                .flatten()
                .copied()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter().map(ClientId::from_uuid).collect()
        })
        .collect())
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
    insert_all(db, &[(client, keys)]).await
}

/// Adds the keys of several new clients, in one statement for all of them (split only under
/// the backends' parameter limits).
pub async fn insert_all(
    db: &impl ConnectionTrait,
    clients: &[(ClientId, &[String])],
) -> Result<(), StoreError> {
    let rows: Vec<match_keys::ActiveModel> = clients
        .iter()
        .flat_map(|(client, keys)| {
            keys.iter().map(move |key| match_keys::ActiveModel {
                key: Set(key.clone()),
                client_id: Set(client.as_uuid()),
            })
        })
        .collect();
    for chunk in super::insert_chunks::<match_keys::Entity, _>(rows) {
        match_keys::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
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
