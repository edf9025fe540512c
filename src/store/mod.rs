//! The SeaORM store: connection, migrations, and Model <-> domain conversions per table.

pub mod attention;
pub mod audit;
pub mod bulk_jobs;
pub mod clients;
pub mod conflicts;
pub mod cursors;
pub mod decisions;
pub mod exclusions;
pub mod history;
pub mod imports;
pub mod inbox;
pub mod match_keys;
pub mod operators;
pub mod outbox;
pub mod projects;
pub mod provenance;
pub mod prune;
pub mod records;
pub mod search;
pub mod sessions;
pub mod turns;
pub mod write_log;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr, TransactionTrait,
};
use secrecy::ExposeSecret;

use crate::config::DatabaseConfig;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused the statement.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// A stored row no longer parses into its domain type.
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    /// The database cannot be reached (refused, reset, or no connection within the timeout).
    #[error("the database at {endpoint} cannot be reached: {source}")]
    Unreachable {
        /// `host:port` (or the SQLite file); never the URL, which holds the password.
        endpoint: String,
        /// What the driver said.
        source: DbErr,
    },
    /// The database took connections but did not answer in time: hung, or cut off mid-way.
    #[error("the database at {endpoint} did not answer within {after:?}")]
    Hung {
        /// `host:port` (or the SQLite file).
        endpoint: String,
        /// How long it was given.
        after: Duration,
    },
}

impl StoreError {
    /// A unique index refused the write: another worker got there first, so retrying will link.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }

    /// The transaction lost a race with a concurrent one (a unique index, a deadlock Postgres
    /// broke, a serialization failure, SQLite's busy writer): running it again will see the
    /// winner's rows and succeed.
    pub fn is_lost_race(&self) -> bool {
        let StoreError::Db(e) = self else { return false };
        let text = e.to_string();
        self.is_unique_violation()
            || ["deadlock detected", "could not serialize", "database is locked"]
                .iter()
                .any(|sign| text.contains(sign))
    }
}

/// Bound parameters one statement may carry on every backend: SQLite's limit (Postgres allows
/// 65,535).
const MAX_PARAMETERS: usize = 32_766;

/// `rows` cut into groups that one multi-row insert into `E` can carry, counting a parameter
/// for every column of `E`; nothing for no rows, so an empty insert is never sent.
pub(crate) fn insert_chunks<E: sea_orm::EntityTrait, T>(rows: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    use sea_orm::Iterable;
    let per = (MAX_PARAMETERS / E::Column::iter().count().max(1)).max(1);
    let mut rows = rows.into_iter();
    std::iter::from_fn(move || {
        let chunk: Vec<T> = rows.by_ref().take(per).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Statements run through every pool this process opened (BEGIN, COMMIT and unprepared
/// statements aside), so benches can count statements per event.
static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many statements this process's pools have run since it started: what a bench divides
/// by the events it sent to get statements per event.
pub fn statements_run() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Opens the pool; on SQLite turns on WAL so the receiver and workers do not block each other.
/// A database that cannot be reached is an error naming its host and port.
pub async fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, StoreError> {
    open(config).await.map_err(|source| StoreError::Unreachable {
        endpoint: config.endpoint(),
        source,
    })
}

async fn open(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let url = config.url.expose_secret();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(config.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .acquire_timeout(Duration::from_secs(config.connect_timeout_secs))
        .sqlx_logging(false);
    // A client cut off mid-transaction (a partition, a frozen network) leaves its session idle
    // in the transaction, holding row locks until TCP notices, which can take hours: Postgres
    // ends such a session after the time one of our transactions may take at most.
    let idle_ms = config.transaction_timeout_ms;
    options.map_sqlx_postgres_opts(move |pg| pg.options([("idle_in_transaction_session_timeout", idle_ms)]));
    // Per connection, so on every connection of the pool (a PRAGMA run once reaches one).
    // FULL: every commit is on disk before it returns. NORMAL in WAL mode survives a crash of
    // the process but a power cut may lose the last commits, each file on its own: the queue
    // file could keep the ack of an event whose store commit was lost, or lose a webhook its
    // sender was already answered 2xx for. An fsync of the WAL costs 0.3 ms here (p50), once
    // per commit, and a worker commits a batch at a time (BENCHMARKS.md, issue 16).
    // Pages are read through a shared memory map rather than copied in by every connection's
    // own read calls (each pooled connection has a cold cache of its own).
    options.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .pragma("synchronous", "FULL")
            .pragma("mmap_size", "268435456")
    });
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|_| {
        STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    if url.starts_with("sqlite:") {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// Begins a transaction that will write, holding SQLite's write lock from its first statement
/// (as the worker's inbox claim does): a SQLite transaction that reads first and writes later
/// fails at once with `database is locked` when another connection wrote in between, since its
/// read snapshot went stale. Postgres needs nothing: its row locks order writers.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // A write statement takes the lock even when it matches no row.
        txn.execute_unprepared("DELETE FROM match_exclusions WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// Applies every pending migration (idempotent), then indexes for search any client that
/// is not yet.
///
/// On Postgres every replica may start at once (Kubernetes rolls several pods, the migrate Job
/// may run beside them): the migrations run in one transaction holding an advisory lock, so
/// one process migrates, the others wait and then find nothing left to do, and a failure
/// leaves the schema as it was.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        Migrator::up(db, None).await?;
    } else {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
    }
    // Clients written before the search index existed are indexed once, here.
    let indexed = search::backfill(db).await.map_err(|e| match e {
        StoreError::Db(e) => e,
        other => DbErr::Custom(other.to_string()),
    })?;
    if indexed > 0 {
        tracing::info!(indexed, "clients added to the search index");
    }
    Ok(())
}

/// The advisory lock id that serialises migrations ("clientsy" as big-endian bytes).
const MIGRATION_LOCK: i64 = 0x636c_6965_6e74_7379;

/// Readiness: one round trip to the database within `limit`, or why not, naming `endpoint`.
pub async fn ping(db: &DatabaseConnection, endpoint: &str, limit: Duration) -> Result<(), StoreError> {
    match tokio::time::timeout(limit, db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(StoreError::Unreachable {
            endpoint: endpoint.to_owned(),
            source,
        }),
        Err(_) => Err(StoreError::Hung {
            endpoint: endpoint.to_owned(),
            after: limit,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_row_insert_is_cut_under_sqlites_parameter_limit_and_no_empty_one_is_sent() {
        use sea_orm::Iterable;
        let columns = entity::clients::Column::iter().count();
        let chunks: Vec<Vec<u32>> =
            insert_chunks::<entity::clients::Entity, _>((0..5_000).collect()).collect();
        assert!(
            chunks
                .iter()
                .all(|c| !c.is_empty() && c.len() * columns <= MAX_PARAMETERS)
        );
        assert_eq!(
            chunks.concat(),
            (0..5_000).collect::<Vec<_>>(),
            "every row once, in order"
        );
        assert!(chunks.len() > 1, "5,000 clients do not fit one statement");
        assert_eq!(
            insert_chunks::<entity::clients::Entity, u32>(Vec::new()).count(),
            0
        );
    }
}
