//! Taking a backup: every table streamed, in one snapshot, into its own Avro file.
//!
//! The snapshot is one transaction: REPEATABLE READ (and read-only) on Postgres, so every table
//! is read as of the same instant while workers keep writing; on SQLite a deferred read
//! transaction in WAL mode sees one snapshot from its first read to its end, which is the same.
//! Rows stream from the cursor to the file; no table is ever held in memory.

use std::{
    fs::File,
    io::BufWriter,
    path::{Path, PathBuf},
};

use apache_avro::{Codec, DeflateSettings, Writer};
use futures_util::TryStreamExt;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel,
    StreamTrait, TransactionTrait,
    sea_query::{Alias, Order, Query},
};

use super::{
    BackupError, avro,
    manifest::{FORMAT, FileEntry, HashingWriter, Manifest},
    schema_version,
    tables::{self, Table},
};

/// Writes a backup of the whole store into `dir` (created if missing; it must hold no
/// manifest yet, so an earlier backup is never overwritten) and returns its manifest.
pub async fn backup(db: &DatabaseConnection, dir: &Path) -> Result<Manifest, BackupError> {
    prepare(dir)?;
    let tables = tables::all()?;
    let backend = db.get_database_backend();
    let txn = match backend {
        DbBackend::Postgres => {
            db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                .await?
        }
        _ => db.begin().await?,
    };
    let taken_at = chrono::Utc::now();
    let schema_version = schema_version::applied(&txn).await?;
    let mut files = Vec::with_capacity(tables.len());
    for table in &tables {
        files.push(write_table(&txn, table, &dir.join(table.file_name())).await?);
    }
    txn.commit().await?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        schema_version,
        backend: match backend {
            DbBackend::Postgres => "postgres",
            DbBackend::Sqlite => "sqlite",
            _ => "other",
        }
        .to_owned(),
        taken_at,
        files,
    };
    manifest.write(dir)?;
    Ok(manifest)
}

fn prepare(dir: &Path) -> Result<(), BackupError> {
    let io = |source| BackupError::Io {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    if dir.join(super::manifest::FILE_NAME).exists() {
        return Err(BackupError::BackupExists {
            path: dir.display().to_string(),
        });
    }
    Ok(())
}

async fn write_table(
    txn: &DatabaseTransaction,
    table: &Table,
    path: &PathBuf,
) -> Result<FileEntry, BackupError> {
    let io = |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    };
    let schema = avro::schema(table)?;
    let file = File::create(path).map_err(io)?;
    let mut writer = Writer::with_codec(
        &schema,
        HashingWriter::new(BufWriter::with_capacity(1 << 20, file)),
        Codec::Deflate(DeflateSettings::default()),
    )
    .map_err(|e| encode_error(table, e))?;

    let mut select = Query::select();
    select.from(Alias::new(table.name));
    for column in &table.columns {
        select.column(Alias::new(column.name));
    }
    for key in &table.key {
        select.order_by(Alias::new(*key), Order::Asc);
    }
    let statement = ConnectionTrait::get_database_backend(txn).build(&select);
    let mut rows = txn.stream_raw(statement).await?;
    let mut count = 0u64;
    while let Some(row) = rows.try_next().await? {
        // Not validated again: `avro::record` builds each field from the same column list
        // the schema was made from. The error is not shown: it would quote the row.
        writer
            .unvalidated_append_value_ref(&avro::record(table, &row)?)
            .map_err(|_| BackupError::Encode {
                table: table.name.to_owned(),
                reason: format!("row {} does not fit the table's schema", count + 1),
            })?;
        count += 1;
    }
    drop(rows);
    let hashing = writer.into_inner().map_err(|e| encode_error(table, e))?;
    let (buffered, bytes, sha256) = hashing.finish();
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(FileEntry {
        table: table.name.to_owned(),
        file: table.file_name(),
        rows: count,
        bytes,
        sha256,
    })
}

fn encode_error(table: &Table, e: apache_avro::Error) -> BackupError {
    BackupError::Encode {
        table: table.name.to_owned(),
        reason: e.to_string(),
    }
}
