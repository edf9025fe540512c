//! Backup and restore of the whole golden store in a portable format: one Avro object container
//! file per table (the schema travels in the file, so other tools read it) and a JSON manifest
//! with the schema version and each file's row count and SHA-256. A backup is one consistent
//! snapshot taken while the service runs; a restore goes into an empty store of either backend,
//! which is how the embedded SQLite default moves to Postgres (and back). See docs/backup.md.

mod avro;
mod dump;
mod load;
pub mod manifest;
mod schema_version;
pub mod tables;

pub use dump::backup;
pub use load::{Restored, restore};
pub use manifest::{FileEntry, Manifest};

use sea_orm::DbErr;

/// Why a backup or a restore failed; each names the file, table or column at fault.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The backup directory already holds a backup; one is never overwritten.
    #[error("{path} already holds a backup (manifest.json); choose an empty directory")]
    BackupExists {
        /// The directory.
        path: String,
    },
    /// The directory holds no `manifest.json`: not a backup, or one that never finished.
    #[error(
        "{path} holds no backup: manifest.json is missing (a backup writes it last, so an unfinished one has none)"
    )]
    NoBackup {
        /// The directory.
        path: String,
    },
    /// `manifest.json` is missing a field, is not JSON or is of another format.
    #[error("{path} is not a clientsync backup manifest: {reason}")]
    BadManifest {
        /// The manifest.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A table file does not match the manifest or cannot be decoded: damaged or truncated.
    #[error("backup file {file} is refused: {reason}")]
    Corrupt {
        /// The file, as named in the manifest.
        file: String,
        /// What does not match.
        reason: String,
    },
    /// The backup was taken at a schema this build does not know (a newer clientsync).
    #[error(
        "the backup is at schema version {version}, which this build does not know (it is at {ours}); restore with a clientsync at least as new as the one that took it"
    )]
    UnknownVersion {
        /// The backup's version.
        version: String,
        /// This build's.
        ours: String,
    },
    /// The manifest lists a table this build does not have.
    #[error("the backup holds table `{table}`, which this build does not have")]
    UnknownTable {
        /// The table.
        table: String,
    },
    /// A restore goes only into an empty store, and this table holds rows.
    #[error("the database is not empty: table `{table}` holds rows; restore into a new, empty database")]
    StoreNotEmpty {
        /// The first table found with rows.
        table: String,
    },
    /// The store has a migration this build does not know: back it up with a newer build.
    #[error(
        "the database has migration {migration}, which this build does not know; back it up with the clientsync that migrated it"
    )]
    StoreAhead {
        /// The unknown migration.
        migration: String,
    },
    /// The store lacks a migration of this build: migrate it first.
    #[error("the database lacks migration {migration}; run `clientsync migrate` first")]
    StoreBehind {
        /// The first missing migration.
        migration: String,
    },
    /// An entity has a column type the backup format does not carry (a build defect).
    #[error("column {table}.{column} has a type backups do not carry")]
    UnsupportedColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// The Avro schema of a table could not be built (a build defect).
    #[error("the Avro schema of table `{table}` is invalid: {reason}")]
    Schema {
        /// The table.
        table: String,
        /// Why.
        reason: String,
    },
    /// A stored value could not be read as its column's type.
    #[error("a value of {table}.{column} cannot be read: {reason}")]
    Unreadable {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Why (never the value itself).
        reason: String,
    },
    /// A row could not be written in Avro or as an insert.
    #[error("table `{table}` cannot be written: {reason}")]
    Encode {
        /// The table.
        table: String,
        /// Why (never the row itself).
        reason: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}
